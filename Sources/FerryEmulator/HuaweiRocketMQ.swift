import FerryCore
import FerryJSON

// Huawei Cloud DMS for RocketMQ v2: metadata migration tasks. creating -> starting -> finished | failed.
// A task with overwrite=false fails when a topic or group it carries already exists on the instance (created by an
// earlier finished task); a terminal-failure fault fails it at the end of `starting`.

extension DmsTask {
    mutating func settle(_ now: Double) {
        while let end = phaseEnd, end <= now {
            switch status {
            case "creating":
                status = "starting"
                phaseEnd = end + startingS
            case "starting":
                status = failAt != nil ? "failed" : "finished"
                phaseEnd = nil
            default:
                phaseEnd = nil
            }
        }
    }

    var listJSON: JSON {
        ["id": .string(id), "name": .string(name), "start_date": .string(CivilTime.dms(createdAt)),
         "status": .string(status), "type": .string(type)]
    }

    var payload: JSON { body.value }

    var topicNames: [String] { payload["topic_config_table"]?.objectValue?.keys ?? [] }
    var groupNames: [String] { payload["subscription_group_table"]?.objectValue?.keys ?? [] }

    var adminJSON: JSON {
        var o = listJSON.objectValue ?? [:]
        o["project_id"] = .string(projectId)
        o["instance_id"] = .string(instanceId)
        o["overwrite"] = .bool(overwrite)
        o["object_count"] = .int(objectCount)
        o["fail_reason"] = failReason.map { .string($0) } ?? .null
        o["body"] = payload
        return .object(o)
    }
}

extension EmulatorState {
    static func validName(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard (4...64).contains(u.count), let f = u.first, (f >= 65 && f <= 90) || (f >= 97 && f <= 122) else { return false }
        return u.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 }
    }

    mutating func dmsCreate(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let instanceId = ctx.pathParams[0]
        guard let overwrite = ctx.q("overwrite"), !overwrite.isEmpty else { throw ctx.missing("overwrite") }
        guard overwrite == "true" || overwrite == "false" else {
            throw ctx.badRequest("overwrite", "overwrite must be true or false.")
        }
        guard let name = ctx.q("name"), !name.isEmpty else { throw ctx.missing("name") }
        guard Self.validName(name) else {
            throw ctx.badRequest("name", "name must be 4-64 characters, start with a letter and contain only letters, digits, hyphens (-) and underscores (_).")
        }
        guard let type = ctx.q("type"), !type.isEmpty else { throw ctx.missing("type") }
        guard type == "rocketmq" || type == "rabbitToRocket" else {
            throw ctx.badRequest("type", "type must be rocketmq or rabbitToRocket.")
        }
        guard let body = try ctx.jsonBody(), let o = body.objectValue else { throw ctx.missing("body") }
        var count = 0
        if type == "rocketmq" {
            guard let topics = o["topic_config_table"], let t = topics.objectValue else {
                throw ctx.missing("topic_config_table")
            }
            for (k, v) in t {
                guard let cfg = v.objectValue else { throw ctx.badRequest("topic_config_table", "topic \(k) must be an object.") }
                for f in ["perm", "read_queue_nums", "write_queue_nums", "topic_sys_flag"] {
                    if let x = cfg[f], !x.isNull, x.intValue == nil {
                        throw ctx.badRequest("topic_config_table", "\(k).\(f) must be an integer.")
                    }
                }
                if let p = cfg["perm"]?.intValue, !(0...7).contains(p) {
                    throw ctx.badRequest("topic_config_table", "\(k).perm must be 2 (PUB), 4 (SUB), 6 (PUB|SUB) or 0 (DENY).")
                }
                for f in ["read_queue_nums", "write_queue_nums"] {
                    if let n = cfg[f]?.intValue, !(1...1024).contains(n) {
                        throw ctx.badRequest("topic_config_table", "\(k).\(f) must be in 1...1024.")
                    }
                }
                if let tf = cfg["topic_filter_type"]?.stringValue, tf != "SINGLE_TAG", tf != "MULTI_TAG" {
                    throw ctx.badRequest("topic_config_table", "\(k).topic_filter_type must be SINGLE_TAG or MULTI_TAG.")
                }
            }
            count += t.count
            guard let g = o["subscription_group_table"], !g.isNull else { throw ctx.missing("subscription_group_table") }
            guard let groups = g.objectValue else { throw ctx.badRequest("subscription_group_table", "must be an object.") }
            for (k, v) in groups where v.objectValue == nil {
                throw ctx.badRequest("subscription_group_table", "group \(k) must be an object.")
            }
            count += groups.count
        } else {
            for f in ["vhosts", "queues", "exchanges", "bindings"] {
                guard let a = o[f]?.arrayValue else { throw ctx.missing(f) }
                for (i, item) in a.enumerated() where item.objectValue == nil {
                    throw ctx.badRequest(f, "\(f)[\(i)] must be an object.")
                }
                count += a.count
            }
            if let ex = o["exchanges"]?.arrayValue {
                for e in ex {
                    if let t = e["type"]?.stringValue, !["topic", "direct", "fanout", "headers"].contains(t) {
                        throw ctx.badRequest("exchanges", "exchange type must be topic, direct, fanout or headers.")
                    }
                }
            }
        }
        let project = ctx.projectId ?? ""
        var failReason: String?
        var failAt: Double?
        if overwrite == "false" && type == "rocketmq" {
            let existing = dmsTasks.filter { $0.projectId == project && $0.instanceId == instanceId && $0.status == "finished" }
            let topicsHere = Set(existing.flatMap(\.topicNames)), groupsHere = Set(existing.flatMap(\.groupNames))
            let newTopics = o["topic_config_table"]?.objectValue?.keys ?? []
            let newGroups = o["subscription_group_table"]?.objectValue?.keys ?? []
            if let clash = newTopics.first(where: topicsHere.contains) ?? newGroups.first(where: groupsHere.contains) {
                failReason = "Metadata \(clash) already exists on instance \(instanceId) and overwrite is false."
                failAt = ctx.now
            }
        }
        if ctx.terminalFailure != nil {
            failAt = ctx.now
            failReason = failReason ?? "Metadata migration failed (injected terminal failure)."
        }
        let task = DmsTask(id: rng.uuidLower(), projectId: project, instanceId: instanceId, name: name, type: type,
                           overwrite: overwrite == "true", status: "creating", createdAt: ctx.now,
                           phaseEnd: ctx.now + timings.dmsCreatingS,
                           startingS: timings.dmsBaseS + Double(count) * timings.dmsPerObjectS, body: JSONBox(body),
                           objectCount: count,
                           failAt: failAt, failReason: failReason)
        dmsTasks.append(task)
        var params = ctx.queryJSON
        params["instance_id"] = .string(instanceId)
        params["body"] = body
        return OpResult(body: ["task_id": .string(task.id)], effect: ["created": task.adminJSON], params: params)
    }

    mutating func dmsList(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let instanceId = ctx.pathParams[0]
        func num(_ name: String, _ def: Int, _ min: Int, _ max: Int) throws(ProviderError) -> Int {
            guard let raw = ctx.q(name), !raw.isEmpty else { return def }
            guard let v = Int(raw), v >= min, v <= max else {
                throw ctx.badRequest(name, "\(name) must be an integer in \(min)...\(max).")
            }
            return v
        }
        let page = try num("offset", 1, 1, 100_000)
        let limit = try num("limit", 10, 1, 1000)
        if let t = ctx.q("type"), !t.isEmpty, !["vhost", "exchange", "queue", "all"].contains(t) {
            throw ctx.badRequest("type", "type must be vhost, exchange, queue or all.")
        }
        var tasks = dmsTasks.filter { $0.projectId == (ctx.projectId ?? "") && $0.instanceId == instanceId }
        var body: JSONObject = [:]
        if let id = ctx.q("id"), !id.isEmpty {
            tasks = tasks.filter { $0.id == id }
            if let t = tasks.first {
                // Extra detail for one task: kept in raw_content, dropped by the SDK model.
                let p = t.payload
                let type = ctx.q("type") ?? "all"
                let name = ctx.q("name")
                if t.type == "rabbitToRocket" {
                    if type == "vhost" || type == "all" { body["vhosts"] = p["vhosts"] ?? [] }
                    if type == "exchange" || type == "all" {
                        let ex = (p["exchanges"]?.arrayValue ?? []).filter { name == nil || name == "" || $0["vhost"]?.stringValue == name }
                        body["exchanges"] = .array(ex)
                    }
                    if type == "queue" || type == "all" {
                        var qs = p["queues"]?.arrayValue ?? []
                        if let name, !name.isEmpty {
                            let bound = (p["bindings"]?.arrayValue ?? []).filter {
                                "\($0["vhost"]?.stringValue ?? "")-\($0["source"]?.stringValue ?? "")" == name
                            }.compactMap { $0["destination"]?.stringValue }
                            qs = qs.filter { q in bound.contains(q["name"]?.stringValue ?? "") }
                        }
                        body["queues"] = .array(qs)
                    }
                } else {
                    body["topic_config_table"] = p["topic_config_table"] ?? [:]
                    body["subscription_group_table"] = p["subscription_group_table"] ?? [:]
                }
                if let r = t.failReason, t.status == "failed" { body["error_msg"] = .string(r) }
            }
        }
        let start = (page - 1) * limit
        let pageTasks = start < tasks.count ? Array(tasks[start..<min(tasks.count, start + limit)]) : []
        var out: JSONObject = ["total": .int(tasks.count), "task": .array(pageTasks.map(\.listJSON))]
        for (k, v) in body { out[k] = v }
        var params = ctx.queryJSON
        params["instance_id"] = .string(instanceId)
        return OpResult(body: .object(out), params: params)
    }

    mutating func dmsBatchDelete(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let instanceId = ctx.pathParams[0]
        guard let body = try ctx.jsonBody(), let o = body.objectValue else { throw ctx.missing("body") }
        guard let ids = o["task_ids"]?.arrayValue else { throw ctx.missing("task_ids") }
        guard !ids.isEmpty, ids.count <= 100 else { throw ctx.badRequest("task_ids", "task_ids must list 1 to 100 task IDs.") }
        var wanted: [String] = []
        for (i, v) in ids.enumerated() {
            guard let s = v.stringValue, !s.isEmpty else { throw ctx.badRequest("task_ids", "task_ids[\(i)] must be a string.") }
            wanted.append(s)
        }
        var deleted: [String] = []
        dmsTasks.removeAll { t in
            let hit = t.projectId == (ctx.projectId ?? "") && t.instanceId == instanceId && wanted.contains(t.id)
            if hit { deleted.append(t.id) }
            return hit
        }
        let params: JSON = ["instance_id": .string(instanceId), "body": body]
        return OpResult(body: ["success_task_list": .array(deleted.map { .string($0) })],
                        effect: deleted.isEmpty ? nil : ["deleted": .array(deleted.map { .string($0) })], params: params)
    }
}
