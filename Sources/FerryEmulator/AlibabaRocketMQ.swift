import FerryCore
import FerryJSON

// Alibaba Cloud ApsaraMQ for RocketMQ 2022-08-01: instance migrations (seeded through the admin API; the API has
// no create call) with four stages and per-stage operations.
//
// Operation model (the provider documents no enums for these, so the emulator picks readable ones):
// * CONNECT_NETWORK: one operation, type NETWORK_CHECK, key = instance id; NOT_CONNECTED -> CONNECTED.
// * MIGRATE_METADATA: one per topic (type TOPIC) and per group (type GROUP); NOT_MIGRATED -> MIGRATED.
// * REPLACE_ENDPOINT: no operations; the stage is finished by hand once clients use the new endpoint.
// * MIGRATE_MESSAGE: one per topic (type TOPIC); business status is the topic's read/write stage
//   MIGRATE_WAIT -> DOUBLE_READ -> SWITCH_WRITE -> MIGRATE_FINISH, moved by ExecuteMigrationOperation.
// operationStatus: INIT (idle), RUNNING (a step in progress), SUCCESS (last step done), FAILED.

extension AliMigration {
    mutating func startStage(_ index: Int, at t: Double, _ timings: EmulatorTimings) {
        guard stages.indices.contains(index) else { return }
        stages[index].status = "DOING"
        stages[index].startedAt = t
        let type = stages[index].type
        var k = 0
        for i in operations.indices where operations[i].stageType == type {
            switch type {
            case "CONNECT_NETWORK":
                operations[i].status = "RUNNING"
                operations[i].runUntil = t + timings.aliNetworkS
                operations[i].runTarget = "CONNECTED"
            case "MIGRATE_METADATA":
                k += 1
                operations[i].status = "RUNNING"
                operations[i].runUntil = t + Double(k) * timings.aliMetadataOpS
                operations[i].runTarget = "MIGRATED"
            default:
                break
            }
            operations[i].updateTime = t
        }
        updateTime = t
    }

    mutating func settle(_ now: Double, _ timings: EmulatorTimings) {
        if status == "CREATED" && now >= startAt {
            status = "MIGRATING"
            startStage(0, at: startAt, timings)
        }
        for i in operations.indices {
            guard operations[i].status == "RUNNING", let until = operations[i].runUntil, until <= now else { continue }
            if operations[i].failAt != nil {
                operations[i].status = "FAILED"
                let reason = operations[i].failReason ?? "The operation failed on the server (injected terminal failure)."
                operations[i].resultData = JSONBox(["success": false, "errorMessage": .string(reason)])
                operations[i].failAt = nil
            } else {
                operations[i].status = "SUCCESS"
                let previous = operations[i].businessStatus
                operations[i].businessStatus = operations[i].runTarget ?? previous
                operations[i].resultData = JSONBox([
                    "success": true, "previousStage": .string(previous),
                    "currentStage": .string(operations[i].businessStatus),
                ])
            }
            operations[i].runUntil = nil
            operations[i].runTarget = nil
            operations[i].updateTime = until
            updateTime = max(updateTime, until)
        }
    }

    var currentStageIndex: Int {
        stages.firstIndex { $0.status != "DONE" } ?? (stages.count - 1)
    }

    func stageJSON(_ i: Int) -> JSON {
        let s = stages[i]
        let ops = operations.filter { $0.stageType == s.type }
        let done = ops.filter { $0.status == "SUCCESS" && (s.type != "MIGRATE_MESSAGE" || $0.businessStatus == "MIGRATE_FINISH") }
        var data: JSONObject = [
            "operationCount": .int(ops.count), "finishedOperationCount": .int(done.count),
            "failedOperationCount": .int(ops.filter { $0.status == "FAILED" }.count),
        ]
        if let t = s.startedAt { data["startTime"] = .string(CivilTime.spaced(t)) }
        if let t = s.finishedAt { data["finishTime"] = .string(CivilTime.spaced(t)) }
        return ["stageType": .string(s.type), "stageStatus": .string(s.status), "stageData": .object(data)]
    }

    var json: JSON {
        [
            "migrationId": .int(id), "migrationName": .string(name), "migrationType": .string(type),
            "migrationStatus": .string(status), "createTime": .string(CivilTime.spaced(createTime)),
            "updateTime": .string(CivilTime.spaced(updateTime)), "userId": .string(userId),
            "currentStage": stageJSON(currentStageIndex),
            "migrationSource": source.value, "migrationTarget": target.value,
        ]
    }

    /// Admin view: everything, including all stages and operations.
    var adminJSON: JSON {
        var o = json.objectValue ?? [:]
        o["instanceId"] = .string(instanceId)
        o["stages"] = .array(stages.indices.map { stageJSON($0) })
        o["operations"] = .array(operations.map { $0.json(migrationId: id) })
        o["topics"] = .array(topics.map { .string($0) })
        o["groups"] = .array(groups.map { .string($0) })
        return .object(o)
    }
}

extension AliOperation {
    func json(migrationId: Int) -> JSON {
        [
            "operationId": .int(id), "migrationId": .int(migrationId), "stageType": .string(stageType),
            "operationType": .string(type), "operationKey": .string(key), "operationStatus": .string(status),
            "businessStatus": .string(businessStatus),
            "operationParam": ["paramData": paramData?.value ?? .null],
            "operationResult": ["resultData": resultData?.value ?? .null],
            "createTime": .string(CivilTime.spaced(createTime)), "updateTime": .string(CivilTime.spaced(updateTime)),
        ]
    }
}

extension EmulatorState {
    // MARK: seeding (admin)

    mutating func seedAliMigration(_ spec: JSON, now: Double) throws(FerryError) -> AliMigration {
        guard let o = spec.objectValue else { throw .invalidArgument("migration", "must be an object") }
        var id = nextAliMigrationId
        if let v = o["migration_id"], !v.isNull {
            guard let n = v.intValue, n > 0 else { throw .invalidArgument("migration_id", "must be a positive integer") }
            guard !aliMigrations.contains(where: { $0.id == n }) else {
                throw FerryError(.conflict, "migration_id: migration \(n) already exists")
            }
            id = n
        }
        nextAliMigrationId = max(nextAliMigrationId, id + 1)
        func strings(_ key: String, _ def: [String]) throws(FerryError) -> [String] {
            guard let v = o[key], !v.isNull else { return def }
            guard let a = v.arrayValue else { throw .invalidArgument(key, "must be an array of strings") }
            var out: [String] = []
            for (i, x) in a.enumerated() {
                guard let s = x.stringValue, !s.isEmpty else { throw .invalidArgument("\(key)[\(i)]", "must be a non-empty string") }
                out.append(s)
            }
            return out
        }
        let topics = try strings("topics", ["topic-orders", "topic-payments"])
        let groups = try strings("groups", ["GID-orders"])
        let instanceId = o["instance_id"]?.stringValue ?? "rmq-cn-\(rng.hex(11))"
        let sourceType = o["source_type"]?.stringValue ?? "EXTERNAL_INSTANCE"
        guard ["EXTERNAL_INSTANCE", "INTERNAL_INSTANCE"].contains(sourceType) else {
            throw .invalidArgument("source_type", "must be EXTERNAL_INSTANCE or INTERNAL_INSTANCE")
        }
        let sourceData = o["source_data"] ?? ["endpoint": "10.0.0.10:9876", "version": "4.x"]
        let targetData = o["target_data"] ?? ["instanceId": .string(instanceId)]
        var startStage: Int?
        if let v = o["start_stage"], !v.isNull {
            guard let s = v.stringValue, let i = AliStageType.all.firstIndex(of: s) else {
                throw .invalidArgument("start_stage", "must be one of \(AliStageType.all.joined(separator: ", "))")
            }
            startStage = i
        }
        var m = AliMigration(
            id: id, name: o["name"]?.stringValue ?? "migration-\(id)", type: "INSTANCE_MIGRATION", status: "CREATED",
            instanceId: instanceId, userId: userId, resourceGroupId: o["resource_group_id"]?.stringValue,
            createTime: now, updateTime: now, startAt: now + timings.aliStartS,
            stages: AliStageType.all.map { AliStage(type: $0, status: "INIT") }, operations: [],
            source: JSONBox(["sourceType": .string(sourceType), "sourceData": sourceData]),
            target: JSONBox(["targetType": "INTERNAL_INSTANCE", "targetData": targetData]),
            topics: topics, groups: groups)
        func op(_ stage: String, _ type: String, _ key: String, _ business: String) -> AliOperation {
            defer { nextAliOperationId += 1 }
            return AliOperation(id: nextAliOperationId, stageType: stage, type: type, key: key, status: "INIT",
                                businessStatus: business, createTime: now, updateTime: now)
        }
        m.operations.append(op("CONNECT_NETWORK", "NETWORK_CHECK", instanceId, "NOT_CONNECTED"))
        for t in topics { m.operations.append(op("MIGRATE_METADATA", "TOPIC", t, "NOT_MIGRATED")) }
        for g in groups { m.operations.append(op("MIGRATE_METADATA", "GROUP", g, "NOT_MIGRATED")) }
        for t in topics { m.operations.append(op("MIGRATE_MESSAGE", "TOPIC", t, "MIGRATE_WAIT")) }
        if let s = startStage {
            // Skip ahead: earlier stages are done, their operations succeeded.
            m.status = "MIGRATING"
            m.startAt = now
            for i in 0..<s {
                m.stages[i].status = "DONE"
                m.stages[i].startedAt = now
                m.stages[i].finishedAt = now
                for j in m.operations.indices where m.operations[j].stageType == m.stages[i].type {
                    m.operations[j].status = "SUCCESS"
                    m.operations[j].businessStatus = m.operations[j].stageType == "CONNECT_NETWORK" ? "CONNECTED" : "MIGRATED"
                }
            }
            m.startStage(s, at: now, timings)
        }
        aliMigrations.append(m)
        return m
    }

    // MARK: helpers

    func aliMigrationIndex(_ ctx: OpContext, _ raw: String) throws(ProviderError) -> Int {
        guard let id = Int(raw) else { throw ctx.badRequest("migrationId", "Parameter migrationId is invalid.") }
        guard let i = aliMigrations.firstIndex(where: { $0.id == id }) else {
            throw ProviderError(404, "MigrationNotFound", "The migration \(id) does not exist.",
                                dynamicCode: "MigrationId", dynamicMessage: raw)
        }
        if let inst = ctx.q("instanceId"), !inst.isEmpty, inst != aliMigrations[i].instanceId {
            throw ProviderError(400, "InvalidInstanceId", "The instance \(inst) does not belong to migration \(id).",
                                dynamicCode: "InstanceId", dynamicMessage: inst)
        }
        return i
    }

    func aliStage(_ ctx: OpContext, _ raw: String) throws(ProviderError) -> String {
        guard AliStageType.all.contains(raw) else {
            throw ctx.badRequest("stageType", "Parameter stageType is invalid. Valid values: \(AliStageType.all.joined(separator: ", ")).")
        }
        return raw
    }

    func intParam(_ ctx: OpContext, _ name: String, required: Bool, min: Int = 1, max: Int = Int.max) throws(ProviderError) -> Int? {
        guard let raw = ctx.q(name), !raw.isEmpty else {
            if required { throw ctx.missing(name) }
            return nil
        }
        guard let v = Int(raw), v >= min, v <= max else {
            throw ctx.badRequest(name, "Parameter \(name) is invalid: must be an integer in \(min)...\(max == Int.max ? "" : String(max)).")
        }
        return v
    }

    static func envelope(_ requestId: String, _ data: JSON) -> JSON {
        obj(["requestId": .string(requestId), "success": true, "code": .null, "message": .null, "httpStatusCode": 200,
             "dynamicCode": .null, "dynamicMessage": .null, "data": data])
    }

    // MARK: B.1 ListMigrations

    mutating func aliListMigrations(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        guard let type = ctx.q("migrationType"), !type.isEmpty else { throw ctx.missing("migrationType") }
        guard type == "INSTANCE_MIGRATION" else {
            throw ctx.badRequest("migrationType", "Parameter migrationType is invalid. Valid values: INSTANCE_MIGRATION.")
        }
        let page = try intParam(ctx, "pageNumber", required: true, max: 100_000) ?? 1
        let size = try intParam(ctx, "pageSize", required: true, max: 100) ?? 10
        var items = aliMigrations.filter { $0.type == type }
        if let f = ctx.q("filter"), !f.isEmpty {
            items = items.filter { $0.name.contains(f) || String($0.id) == f || $0.instanceId == f }
        }
        if let rg = ctx.q("resourceGroupId"), !rg.isEmpty { items = items.filter { $0.resourceGroupId == rg } }
        let start = (page - 1) * size
        let pageItems = start < items.count ? Array(items[start..<min(items.count, start + size)]) : []
        let data: JSON = ["pageNumber": .int(page), "pageSize": .int(size), "totalCount": .int(items.count),
                          "list": .array(pageItems.map(\.json))]
        return OpResult(body: Self.envelope(ctx.requestId, data), params: ctx.queryJSON)
    }

    // MARK: B.2 ListMigrationOperations

    mutating func aliListOperations(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let mi = try aliMigrationIndex(ctx, ctx.pathParams[0])
        let stage = try aliStage(ctx, ctx.pathParams[1])
        guard let opType = ctx.q("operationType"), !opType.isEmpty else { throw ctx.missing("operationType") }
        let page = try intParam(ctx, "pageNumber", required: true, max: 100_000) ?? 1
        let size = try intParam(ctx, "pageSize", required: true, max: 100) ?? 10
        let m = aliMigrations[mi]
        var ops = m.operations.filter { $0.stageType == stage && (opType == "ALL" || $0.type == opType) }
        if let f = ctx.q("filter"), !f.isEmpty { ops = ops.filter { $0.key.contains(f) } }
        if let b = ctx.q("businessStatus"), !b.isEmpty {
            let set = Set(b.split(separator: ",").map(String.init))
            ops = ops.filter { set.contains($0.businessStatus) }
        }
        if let s = ctx.q("operationStatus"), !s.isEmpty {
            let set = Set(s.split(separator: ",").map(String.init))
            ops = ops.filter { set.contains($0.status) }
        }
        let start = (page - 1) * size
        let pageOps = start < ops.count ? Array(ops[start..<min(ops.count, start + size)]) : []
        let data: JSON = ["pageNumber": .int(page), "pageSize": .int(size), "totalCount": .int(ops.count),
                          "list": .array(pageOps.map { $0.json(migrationId: m.id) })]
        var params = ctx.queryJSON
        params["migrationId"] = .string(ctx.pathParams[0])
        params["stageType"] = .string(stage)
        return OpResult(body: Self.envelope(ctx.requestId, data), params: params)
    }

    // MARK: B.3 ExecuteMigrationOperation

    mutating func aliExecuteOperation(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let mi = try aliMigrationIndex(ctx, ctx.pathParams[0])
        let stage = try aliStage(ctx, ctx.pathParams[1])
        guard let opId = Int(ctx.pathParams[2]) else {
            throw ctx.badRequest("operationId", "Parameter operationId is invalid.")
        }
        guard let oi = aliMigrations[mi].operations.firstIndex(where: { $0.id == opId && $0.stageType == stage }) else {
            throw ProviderError(404, "MigrationOperationNotFound",
                                "The operation \(opId) does not exist in stage \(stage) of migration \(aliMigrations[mi].id).",
                                dynamicCode: "OperationId", dynamicMessage: ctx.pathParams[2])
        }
        let body = try ctx.jsonBody()
        var params: JSON = ["migrationId": .string(ctx.pathParams[0]), "stageType": .string(stage),
                            "operationId": .string(ctx.pathParams[2])]
        if let inst = ctx.q("instanceId") { params["instanceId"] = .string(inst) }
        if let b = body { params["body"] = b }
        if let b = body, b.objectValue == nil { throw ctx.badRequest("body", "The request body must be a JSON object.") }
        var paramData: JSON?
        // Echoed back as sent (the documented form is a JSON string).
        let rawParamData = body?["operationParam"]?["paramData"]
        if let pd = rawParamData, !pd.isNull {
            if let s = pd.stringValue {
                do { paramData = try JSONParser.parse(s) } catch {
                    throw ctx.badRequest("operationParam", "Parameter operationParam.paramData is not valid JSON.")
                }
            } else {
                paramData = pd
            }
        }
        let m = aliMigrations[mi]
        let stageStatus = m.stages.first { $0.type == stage }?.status ?? "INIT"
        guard stageStatus == "DOING" else {
            throw ProviderError(400, "OperationDenied.MigrationStageStatus",
                                "The migration stage \(stage) is not in progress (status \(stageStatus)).",
                                dynamicCode: "StageType", dynamicMessage: stage)
        }
        var op = m.operations[oi]
        guard op.status != "RUNNING" else {
            throw ProviderError(400, "OperationDenied.MigrationOperationRunning",
                                "The operation \(opId) is still running; wait until it completes.",
                                dynamicCode: "OperationId", dynamicMessage: String(opId))
        }
        let before = op.json(migrationId: m.id)
        if stage == "MIGRATE_MESSAGE" {
            guard let pd = paramData, pd.objectValue != nil else { throw ctx.missing("operationParam") }
            guard let action = pd["action"]?.stringValue, ["MIGRATE_FORWARD", "MIGRATE_BACKWARD"].contains(action) else {
                throw ctx.badRequest("operationParam", "Parameter operationParam.paramData.action is invalid. Valid values: MIGRATE_FORWARD, MIGRATE_BACKWARD.")
            }
            guard let target = pd["targetStage"]?.stringValue, let ti = AliMessageStage.order.firstIndex(of: target) else {
                throw ctx.badRequest("operationParam", "Parameter operationParam.paramData.targetStage is invalid. Valid values: \(AliMessageStage.order.joined(separator: ", ")).")
            }
            let ci = AliMessageStage.order.firstIndex(of: op.businessStatus) ?? 0
            if action == "MIGRATE_FORWARD" && ti != ci + 1 {
                throw ProviderError(400, "InvalidTargetStage",
                                    "A forward migration moves one stage at a time: from \(op.businessStatus) the next stage is \(ci + 1 < AliMessageStage.order.count ? AliMessageStage.order[ci + 1] : "none").",
                                    dynamicCode: "TargetStage", dynamicMessage: target)
            }
            if action == "MIGRATE_BACKWARD" && ti >= ci {
                throw ProviderError(400, "InvalidTargetStage",
                                    "A backward migration must move to a stage before \(op.businessStatus).",
                                    dynamicCode: "TargetStage", dynamicMessage: target)
            }
            op.runTarget = target
            op.paramData = JSONBox(rawParamData ?? pd)
        } else if stage == "CONNECT_NETWORK" || stage == "MIGRATE_METADATA" {
            // Outside the message stage, executing an operation retries it after a failure.
            guard op.status == "FAILED" else {
                throw ProviderError(400, "OperationDenied.MigrationOperationStatus",
                                    "The operation \(opId) is \(op.status); only a FAILED operation can be executed again.",
                                    dynamicCode: "OperationId", dynamicMessage: String(opId))
            }
            op.runTarget = stage == "CONNECT_NETWORK" ? "CONNECTED" : "MIGRATED"
            if let pd = rawParamData, !pd.isNull { op.paramData = JSONBox(pd) }
        }
        op.status = "RUNNING"
        op.runUntil = ctx.now + timings.aliTransitionS
        op.updateTime = ctx.now
        if let delay = ctx.failDelay {
            op.failAt = ctx.now + (delay < 0 ? timings.failAfterS : delay)
            op.failReason = "Message migration of topic \(op.key) failed (injected terminal failure)."
        }
        aliMigrations[mi].operations[oi] = op
        aliMigrations[mi].updateTime = ctx.now
        let after = op.json(migrationId: m.id)
        return OpResult(body: Self.envelope(ctx.requestId, after),
                        effect: ["migrationId": .int(m.id), "operationId": .int(opId), "before": before, "after": after,
                                 "terminal_failure": .bool(ctx.terminalFailure != nil)],
                        params: params)
    }

    // MARK: B.4 FinishMigrationStage

    mutating func aliFinishStage(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let mi = try aliMigrationIndex(ctx, ctx.pathParams[0])
        let stage = try aliStage(ctx, ctx.pathParams[1])
        var params: JSON = ["migrationId": .string(ctx.pathParams[0]), "stageType": .string(stage)]
        if let inst = ctx.q("instanceId") { params["instanceId"] = .string(inst) }
        var m = aliMigrations[mi]
        guard let si = m.stages.firstIndex(where: { $0.type == stage }) else { throw ctx.badRequest("stageType", "unknown stage") }
        let st = m.stages[si].status
        guard st == "DOING" else {
            let why = st == "DONE" ? "has already been finished" : "has not started"
            throw ProviderError(400, "OperationDenied.MigrationStageStatus", "The migration stage \(stage) \(why) (status \(st)).",
                                dynamicCode: "StageType", dynamicMessage: stage)
        }
        let ops = m.operations.filter { $0.stageType == stage }
        let pending: [AliOperation]
        if stage == "MIGRATE_MESSAGE" {
            pending = ops.filter { $0.businessStatus != "MIGRATE_FINISH" || $0.status == "RUNNING" || $0.status == "FAILED" }
        } else {
            pending = ops.filter { $0.status != "SUCCESS" }
        }
        guard pending.isEmpty else {
            let names = pending.prefix(5).map { "\($0.key) (\($0.status), \($0.businessStatus))" }.joined(separator: ", ")
            throw ProviderError(400, "OperationDenied.MigrationStageNotFinished",
                                "The migration stage \(stage) cannot be finished: \(pending.count) operation(s) not completed: \(names).",
                                dynamicCode: "StageType", dynamicMessage: stage)
        }
        m.stages[si].status = "DONE"
        m.stages[si].finishedAt = ctx.now
        m.updateTime = ctx.now
        var nextStage: String?
        if si + 1 < m.stages.count {
            m.startStage(si + 1, at: ctx.now, timings)
            nextStage = m.stages[si + 1].type
            if let delay = ctx.failDelay {
                for j in m.operations.indices where m.operations[j].stageType == nextStage {
                    m.operations[j].failAt = ctx.now + (delay < 0 ? timings.failAfterS : delay)
                    m.operations[j].failReason = "Operation on \(m.operations[j].key) failed (injected terminal failure)."
                }
            }
        } else {
            m.status = "COMPLETED"
        }
        aliMigrations[mi] = m
        return OpResult(body: Self.envelope(ctx.requestId, true),
                        effect: ["migrationId": .int(m.id), "finishedStage": .string(stage),
                                 "nextStage": nextStage.map { .string($0) } ?? .null,
                                 "migrationStatus": .string(m.status)],
                        params: params)
    }
}
