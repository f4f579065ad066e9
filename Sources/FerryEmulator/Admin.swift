import FerryCore
import FerryJSON

// The admin API, under /_ferry/ (a prefix no provider uses). Unsigned: the emulator listens on loopback.
//
//   GET    /_ferry/health                         {"ok": true}
//   GET    /_ferry/info                           ready info (base URL, endpoints, key ids)
//   GET    /_ferry/state                          every resource, the clock, the faults
//   GET    /_ferry/resources/{kind}[/{id}]        kind: alibaba.rocketmq.migration | alibaba.mse.task |
//                                                 huawei.rocketmq.task | huawei.dcs.task
//   POST   /_ferry/resources/{kind}               seed one resource (body = spec); returns it
//   POST   /_ferry/seed                           {"<kind>": [spec, ...], ...}; returns the created resources
//   POST   /_ferry/resources/{kind}/{id}/fail     drive the resource to its failed state now ({"reason"} optional)
//   POST   /_ferry/reset                          forget resources, audit log and faults
//   GET    /_ferry/faults | POST (one fault, or {"faults": [...]}) | DELETE (all) | DELETE /_ferry/faults/{id}
//   GET    /_ferry/audit?since=SEQ&operation=OP   mutating calls applied, in order (secrets redacted)
//   GET    /_ferry/clock | POST /_ferry/clock {"time_scale": x} | POST /_ferry/clock/advance {"seconds": n}

enum ResourceKind: String, CaseIterable {
    case aliMigration = "alibaba.rocketmq.migration"
    case mseTask = "alibaba.mse.task"
    case dmsTask = "huawei.rocketmq.task"
    case dcsTask = "huawei.dcs.task"

    static func parse(_ s: String) -> ResourceKind? {
        if let k = ResourceKind(rawValue: s) { return k }
        // Accept plurals too (…migrations, …tasks).
        if s.hasSuffix("s"), let k = ResourceKind(rawValue: String(s.dropLast())) { return k }
        return nil
    }
}

extension EmulatorState {
    func resources(_ kind: ResourceKind) -> [JSON] {
        switch kind {
        case .aliMigration: return aliMigrations.map(\.adminJSON)
        case .mseTask: return mseTasks.map { $0.data(idAsString: false) }
        case .dmsTask: return dmsTasks.map(\.adminJSON)
        case .dcsTask: return dcsTasks.map { $0.adminJSON(now, timings) }
        }
    }

    func resource(_ kind: ResourceKind, _ id: String) -> JSON? {
        switch kind {
        case .aliMigration: return aliMigrations.first { String($0.id) == id }?.adminJSON
        case .mseTask: return mseTasks.first { String($0.id) == id }.map { $0.data(idAsString: false) }
        case .dmsTask: return dmsTasks.first { $0.id == id }?.adminJSON
        case .dcsTask: return dcsTasks.first { $0.id == id }.map { $0.adminJSON(now, timings) }
        }
    }

    mutating func seed(_ kind: ResourceKind, _ spec: JSON) throws(FerryError) -> JSON {
        let now = self.now
        switch kind {
        case .aliMigration:
            return try seedAliMigration(spec, now: now).adminJSON
        case .mseTask:
            guard let o = spec.objectValue else { throw .invalidArgument("spec", "must be an object") }
            var fields: [String: String] = [:]
            for f in MseTask.fieldNames { if let v = o[f]?.stringValue { fields[f] = v } }
            let t = MseTask(id: nextMseId, userId: userId, fields: fields, gmtCreate: now, gmtModified: now)
            nextMseId += 1
            mseTasks.append(t)
            return t.data(idAsString: false)
        case .dmsTask:
            guard let o = spec.objectValue else { throw .invalidArgument("spec", "must be an object") }
            let status = o["status"]?.stringValue ?? "finished"
            guard ["creating", "starting", "finished", "failed"].contains(status) else {
                throw .invalidArgument("status", "must be creating, starting, finished or failed")
            }
            let type = o["type"]?.stringValue ?? "rocketmq"
            guard type == "rocketmq" || type == "rabbitToRocket" else {
                throw .invalidArgument("type", "must be rocketmq or rabbitToRocket")
            }
            let body = o["body"] ?? [:]
            var t = DmsTask(id: o["id"]?.stringValue ?? rng.uuidLower(),
                            projectId: o["project_id"]?.stringValue ?? EmulatorConfig.defaultHuaweiProjectID,
                            instanceId: o["instance_id"]?.stringValue ?? "rocketmq-instance-1",
                            name: o["name"]?.stringValue ?? "task-\(rng.hex(6))", type: type,
                            overwrite: o["overwrite"]?.boolValue ?? true, status: status, createdAt: now,
                            phaseEnd: nil, startingS: timings.dmsBaseS, body: JSONBox(body), objectCount: 0)
            if status == "creating" { t.phaseEnd = now + timings.dmsCreatingS }
            if status == "starting" { t.phaseEnd = now + t.startingS }
            if status == "failed" { t.failReason = o["fail_reason"]?.stringValue ?? "seeded as failed" }
            dmsTasks.append(t)
            return t.adminJSON
        case .dcsTask:
            return try seedDcsTask(spec, now: now)
        }
    }

    mutating func seedDcsTask(_ spec: JSON, now: Double) throws(FerryError) -> JSON {
        guard let o = spec.objectValue else { throw .invalidArgument("spec", "must be an object") }
        let status = o["status"]?.stringValue ?? "RUNNING"
        let allowed = ["CREATING", "RUNNING", "MIGRATING", "FULLMIGRATING", "INCRMIGRATING", "SUCCESS", "TERMINATING",
                       "TERMINATED", "MIGRATION_FAILED"]
        guard allowed.contains(status) else {
            throw .invalidArgument("status", "must be one of \(allowed.joined(separator: ", "))")
        }
        let type = o["migration_type"]?.stringValue ?? "online_migration"
        guard type == "online_migration" || type == "backupfile_import" else {
            throw .invalidArgument("migration_type", "must be online_migration or backupfile_import")
        }
        nextDcsIP += 1
        var t = DcsTask(id: o["task_id"]?.stringValue ?? rng.hex(32),
                        projectId: o["project_id"]?.stringValue ?? EmulatorConfig.defaultHuaweiProjectID,
                        name: o["task_name"]?.stringValue ?? "task-\(rng.hex(6))", migrationType: type,
                        online: type == "online_migration", configured: status != "CREATING" && status != "RUNNING",
                        status: status, phaseStart: now, fullDuration: timings.dcsFullS, createdAt: now, updatedAt: now,
                        privateIP: "192.168.0.\(nextDcsIP % 250 + 2)", sourceKeys: timings.dcsSourceKeys,
                        sourceBytes: timings.dcsSourceBytes, logs: [])
        t.migrationMethod = o["migration_method"]?.stringValue ?? (t.configured ? "incremental_migration" : nil)
        t.resumeMode = o["resume_mode"]?.stringValue
        if let s = o["source_instance"]?.objectValue { t.source = JSONBox(.object(s)) }
        else if t.configured { t.source = JSONBox(["addrs": "10.0.0.1:6379"]) }
        if let s = o["target_instance"]?.objectValue { t.target = JSONBox(.object(s)) }
        else if t.configured { t.target = JSONBox(["id": "dcs-target-1"]) }
        switch status {
        case "CREATING": t.phaseEnd = now + timings.dcsVMCreateS
        case "MIGRATING": t.phaseEnd = now + timings.dcsPrepareS
        case "FULLMIGRATING": t.phaseEnd = now + t.fullDuration
        case "TERMINATING": t.phaseEnd = now + timings.dcsStopS
        case "MIGRATION_FAILED": t.errorMessage = o["error_message"]?.stringValue ?? "seeded as failed"
        default: break
        }
        t.log(now, "INFO", "migration.seeded", "Task seeded in status \(status).", ["seed"])
        dcsTasks.append(t)
        return t.adminJSON(now, timings)
    }

    /// Drives a resource to its failed state now (admin).
    mutating func forceFail(_ kind: ResourceKind, _ id: String, reason: String) throws(FerryError) -> JSON {
        let now = self.now
        switch kind {
        case .aliMigration:
            guard let i = aliMigrations.firstIndex(where: { String($0.id) == id }) else { throw FerryError(.notFound, "migration \(id) not found") }
            let stage = aliMigrations[i].stages[aliMigrations[i].currentStageIndex].type
            for j in aliMigrations[i].operations.indices where aliMigrations[i].operations[j].stageType == stage {
                if aliMigrations[i].operations[j].status == "RUNNING" || aliMigrations[i].operations[j].status == "INIT" {
                    aliMigrations[i].operations[j].status = "FAILED"
                    aliMigrations[i].operations[j].runUntil = nil
                    aliMigrations[i].operations[j].resultData = JSONBox(["success": false, "errorMessage": .string(reason)])
                    aliMigrations[i].operations[j].updateTime = now
                } else {
                    aliMigrations[i].operations[j].failAt = now
                    aliMigrations[i].operations[j].failReason = reason
                }
            }
            return aliMigrations[i].adminJSON
        case .mseTask:
            throw FerryError(.unsupported, "MSE migration tasks have no failed state")
        case .dmsTask:
            guard let i = dmsTasks.firstIndex(where: { $0.id == id }) else { throw FerryError(.notFound, "task \(id) not found") }
            if dmsTasks[i].status != "finished" {
                dmsTasks[i].status = "failed"
                dmsTasks[i].phaseEnd = nil
            }
            dmsTasks[i].failAt = now
            dmsTasks[i].failReason = reason
            return dmsTasks[i].adminJSON
        case .dcsTask:
            guard let i = dcsTasks.firstIndex(where: { $0.id == id }) else { throw FerryError(.notFound, "task \(id) not found") }
            dcsTasks[i].failAt = now
            dcsTasks[i].failReason = reason
            dcsTasks[i].settle(now, timings)
            return dcsTasks[i].adminJSON(now, timings)
        }
    }
}

extension EmulatorCore {
    func adminError(_ status: Int, _ e: FerryError) -> EmulatorResponse {
        EmulatorResponse(status: status, json: e.json)
    }

    func admin(_ req: EmulatorRequest) -> EmulatorResponse {
        let seg = Array(req.segments.dropFirst())
        let m = req.method
        var body: JSON = .null
        if !req.body.isEmpty {
            do { body = try JSONParser.parse(bytes: req.body) } catch {
                return adminError(400, FerryError.from(error, field: "body"))
            }
        }
        let query = req.query
        func q(_ n: String) -> String? { query.first { $0.0 == n }?.1 }
        let ok = { (j: JSON) in EmulatorResponse(status: 200, json: j) }
        let mutated: Bool
        let response: EmulatorResponse
        (response, mutated) = state.withLock { s -> (EmulatorResponse, Bool) in
            let now = s.now
            s.settle(now)
            switch (m, seg.first ?? "", seg.count) {
            case ("GET", "health", 1):
                return (ok(["ok": true, "now": .double(now)]), false)
            case ("GET", "info", 1):
                return (ok(readyInfo()), false)
            case ("GET", "state", 1):
                var res = JSONObject()
                for k in ResourceKind.allCases { res[k.rawValue] = .array(s.resources(k)) }
                return (ok(["now": .double(now), "now_iso": .string(CivilTime.iso(now)), "resources": .object(res),
                            "faults": .array(s.faults.faults.map(\.json)), "audit_count": .int(s.audit.count),
                            "timings": s.timings.json]), false)
            case ("GET", "resources", 2):
                guard let k = ResourceKind.parse(seg[1]) else { return (unknownKind(seg[1]), false) }
                return (ok(["items": .array(s.resources(k))]), false)
            case ("GET", "resources", 3):
                guard let k = ResourceKind.parse(seg[1]) else { return (unknownKind(seg[1]), false) }
                guard let r = s.resource(k, seg[2]) else {
                    return (adminError(404, FerryError(.notFound, "\(k.rawValue) \(seg[2]) not found")), false)
                }
                return (ok(r), false)
            case ("POST", "resources", 2):
                guard let k = ResourceKind.parse(seg[1]) else { return (unknownKind(seg[1]), false) }
                do throws(FerryError) {
                    let r = try s.seed(k, body.isNull ? [:] : body)
                    s.record("admin.seed", requestId: "admin", accessKeyId: nil, params: ["kind": .string(k.rawValue), "spec": body],
                             effect: ["created": r])
                    return (ok(r), true)
                } catch { return (adminError(400, error), false) }
            case ("POST", "resources", 4) where seg[3] == "fail":
                guard let k = ResourceKind.parse(seg[1]) else { return (unknownKind(seg[1]), false) }
                do throws(FerryError) {
                    let reason = body["reason"]?.stringValue ?? "Failed by the admin API."
                    let r = try s.forceFail(k, seg[2], reason: reason)
                    s.record("admin.fail", requestId: "admin", accessKeyId: nil,
                             params: ["kind": .string(k.rawValue), "id": .string(seg[2])], effect: ["resource": r])
                    return (ok(r), true)
                } catch { return (adminError(error.code == .notFound ? 404 : 400, error), false) }
            case ("POST", "seed", 1):
                guard let o = body.objectValue else {
                    return (adminError(400, .invalidArgument("body", "must be an object {kind: [spec, ...]}")), false)
                }
                var out = JSONObject()
                for (key, v) in o {
                    guard let k = ResourceKind.parse(key) else { return (unknownKind(key), false) }
                    let specs = v.arrayValue ?? [v]
                    var created: [JSON] = []
                    for spec in specs {
                        do throws(FerryError) { created.append(try s.seed(k, spec)) } catch { return (adminError(400, error), created.isEmpty ? false : true) }
                    }
                    out[k.rawValue] = .array(created)
                    s.record("admin.seed", requestId: "admin", accessKeyId: nil, params: ["kind": .string(k.rawValue), "spec": v],
                             effect: ["created": .array(created)])
                }
                return (ok(.object(out)), true)
            case ("POST", "reset", 1):
                s.reset(seed: config.seed)
                nonces.withLock { $0.removeAll() }
                return (ok(["ok": true]), true)
            case ("GET", "faults", 1):
                return (ok(["faults": .array(s.faults.faults.map(\.json))]), false)
            case ("POST", "faults", 1):
                let specs = body["faults"]?.arrayValue ?? [body]
                var added: [JSON] = []
                for (i, spec) in specs.enumerated() {
                    do throws(FerryError) { added.append(s.faults.add(try FaultSpec(json: spec, field: "faults[\(i)]")).json) } catch {
                        return (adminError(400, error), !added.isEmpty)
                    }
                }
                return (ok(["faults": .array(added)]), true)
            case ("DELETE", "faults", 1):
                s.faults.faults = []
                return (ok(["ok": true]), true)
            case ("DELETE", "faults", 2):
                guard s.faults.remove(id: seg[1]) else {
                    return (adminError(404, FerryError(.notFound, "fault \(seg[1]) not found")), false)
                }
                return (ok(["ok": true]), true)
            case ("GET", "audit", 1):
                let since = q("since").flatMap { Int($0) } ?? 0
                let opFilter = q("operation")
                let entries = s.audit.filter { $0.seq > since && (opFilter == nil || $0.operation == opFilter) }
                return (ok(["entries": .array(entries.map(\.json)), "last_seq": .int(s.nextAuditSeq - 1)]), false)
            case ("GET", "clock", 1):
                return (ok(clockJSON(s)), false)
            case ("POST", "clock", 1):
                guard let x = body["time_scale"]?.doubleValue, x >= 0, x <= 1_000_000 else {
                    return (adminError(400, .invalidArgument("time_scale", "must be a number in 0...1000000")), false)
                }
                s.clock.setScale(x)
                return (ok(clockJSON(s)), true)
            case ("POST", "clock", 2) where seg[1] == "advance":
                guard let secs = body["seconds"]?.doubleValue ?? q("seconds").flatMap({ Double($0) }), secs >= 0,
                      secs <= 3_153_600_000 else {
                    return (adminError(400, .invalidArgument("seconds", "must be a number in 0...3153600000 (100 years)")), false)
                }
                s.clock.advance(secs)
                s.settle(s.now)
                return (ok(clockJSON(s)), true)
            default:
                return (adminError(404, FerryError(.notFound, "no admin endpoint \(m) \(req.path)")), false)
            }
        }
        if mutated { persist() }
        return response
    }

    func unknownKind(_ k: String) -> EmulatorResponse {
        adminError(404, FerryError(.notFound, "unknown resource kind '\(k)' (known: \(ResourceKind.allCases.map(\.rawValue).joined(separator: ", ")))"))
    }

    func clockJSON(_ s: EmulatorState) -> JSON {
        let now = s.now
        return ["now": .double(now), "now_iso": .string(CivilTime.iso(now)), "time_scale": .double(s.clock.scale)]
    }

    /// The ready line: where each service answers, and the accepted key ids (never secrets).
    func readyInfo() -> JSON {
        let base = baseURL.withLock { $0 } ?? "http://\(config.host):\(config.port)"
        let port = Int(base.split(separator: ":").last ?? "") ?? config.port
        return [
            "base_url": .string(base), "port": .int(port),
            "endpoints": [
                "alibaba.rocketmq": .string(base), "alibaba.mse": .string(base),
                "huawei.rocketmq": .string(base), "huawei.dcs": .string(base),
            ],
            "access_keys": .array(keys.map { .string($0.id) }),
            "admin_url": .string(base + "/_ferry"),
            "huawei_project_id": .string(config.huaweiProjectID ?? EmulatorConfig.defaultHuaweiProjectID),
            "operations": .array(OperationName.all.map { .string($0) }),
        ]
    }
}
