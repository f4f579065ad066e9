import FerryCore
import FerryJSON

// Huawei Cloud DCS v2 data migration tasks.
//
// Online (CreateOnlineMigrationTask):  CREATING -(VM ready)-> RUNNING (waiting for configuration)
//   -(SetOnlineMigrationTask)-> FULLMIGRATING -> SUCCESS (full) | INCRMIGRATING (incremental, until stopped)
// Backup import / one-call online (CreateMigrationTask): MIGRATING (preparing) -> FULLMIGRATING -> SUCCESS | INCRMIGRATING
// Stop: -> TERMINATING -> TERMINATED; sync stop: -> TERMINATED. Failure (fault): -> MIGRATION_FAILED.
// BatchRestartOnlineMigrationTasks: TERMINATED | MIGRATION_FAILED | SUCCESS -> FULLMIGRATING.

extension DcsTask {
    mutating func log(_ t: Double, _ level: String, _ code: String, _ message: String, _ keywords: [String] = []) {
        logs.append(DcsLog(time: t, level: level, code: code, message: message, keywords: keywords))
    }

    mutating func enter(_ s: String, at t: Double, until end: Double?) {
        status = s
        phaseStart = t
        phaseEnd = end
        updatedAt = t
    }

    mutating func settle(_ now: Double, _ timings: EmulatorTimings) {
        while true {
            var next: (Double, Bool)?  // (time, isFailure)
            if let e = phaseEnd { next = (e, false) }
            if let f = failAt, Self.migrating.contains(status) {
                let t = max(f, phaseStart)
                if let n = next, t > n.0 {} else { next = (t, true) }
            }
            guard let (t, isFailure) = next, t <= now else { return }
            if isFailure {
                let reason = failReason ?? "The migration failed (injected terminal failure)."
                enter("MIGRATION_FAILED", at: t, until: nil)
                errorMessage = reason
                failAt = nil
                log(t, "ERROR", "migration.failed", reason, ["failed"])
                continue
            }
            switch status {
            case "CREATING":
                enter("RUNNING", at: t, until: nil)
                log(t, "INFO", "migration.vm_ready",
                    "Migration VM \(privateIP) is ready; waiting for the migration configuration.", ["vm"])
            case "MIGRATING":
                enter("FULLMIGRATING", at: t, until: t + fullDuration)
                log(t, "INFO", "migration.full_started", "Full migration started.", ["full"])
            case "FULLMIGRATING":
                if migrationMethod == "incremental_migration" {
                    enter("INCRMIGRATING", at: t, until: nil)
                    log(t, "INFO", "migration.full_done",
                        "Full migration finished (\(safeInt64(sourceKeys)) keys); incremental synchronization started.", ["full", "incremental"])
                } else {
                    enter("SUCCESS", at: t, until: nil)
                    log(t, "INFO", "migration.success", "Migration succeeded (\(safeInt64(sourceKeys)) keys).", ["success"])
                }
            case "TERMINATING":
                enter("TERMINATED", at: t, until: nil)
                log(t, "INFO", "migration.terminated", "Migration task stopped.", ["stop"])
            default:
                phaseEnd = nil
            }
        }
    }

    /// Full-migration progress in [0, 1] at `now`.
    func fullProgress(_ now: Double) -> Double {
        switch status {
        case "FULLMIGRATING":
            return fullDuration <= 0 ? 1 : min(1, max(0, (now - phaseStart) / fullDuration))
        case "INCRMIGRATING", "SUCCESS": return 1
        default:
            return logs.contains { $0.code == "migration.full_done" || $0.code == "migration.success" } ? 1 : 0
        }
    }

    func stats(_ now: Double, _ timings: EmulatorTimings) -> JSON {
        let p = fullProgress(now)
        let keys = (sourceKeys * p).rounded(.down)
        let incr = status == "INCRMIGRATING" ? max(0, now - phaseStart) * timings.dcsIncrOpsPerS : 0
        let migratingNow = Self.migrating.contains(status)
        let kbps = status == "FULLMIGRATING" && fullDuration > 0 ? sourceBytes / fullDuration / 1024
            : (status == "INCRMIGRATING" ? timings.dcsIncrOpsPerS * 0.5 : 0)
        let ops = status == "FULLMIGRATING" && fullDuration > 0 ? sourceKeys / fullDuration
            : (status == "INCRMIGRATING" ? timings.dcsIncrOpsPerS : 0)
        func fmt(_ d: Double) -> String { String(safeInt64(d.rounded(.down))) }
        return obj([
            "full_migration_progress": .string(fmt(p * 100)), "offset": .string(fmt(incr)),
            "source_dbsize": .string(fmt(sourceKeys)), "target_dbsize": .string(fmt(keys)),
            "target_input_kbps": .string(fmt(kbps)), "target_ops": .string(fmt(ops)), "is_migrating": .bool(migratingNow),
        ])
    }

    static func scrubbed(_ box: JSONBox?) -> JSON {
        guard let v = box?.value, case .object(var o) = v else { return box?.value ?? .null }
        o.storage.removeValue(forKey: "password")
        return .object(o)
    }

    var detailJSON: JSON {
        var o = obj([
            "task_id": .string(id), "task_name": .string(name), "description": .string(description ?? ""),
            "status": .string(status), "migration_type": .string(migrationType),
            "migration_method": .string(migrationMethod ?? ""), "ecs_tenant_private_ip": .string(privateIP),
            "network_type": .string(networkType ?? "vpc"),
            "created_at": .string(CivilTime.dcs(createdAt)), "updated_at": .string(CivilTime.dcs(updatedAt)),
            "version": "2.0", "resume_mode": .string(resumeMode ?? "manual"), "supported_features": [],
            "tenant_vpc_id": .string(vpcId ?? ""), "tenant_subnet_id": .string(subnetId ?? ""),
            "tenant_security_group_id": .string(securityGroupId ?? ""),
            "bandwidth_limit_mb": .string(bandwidthLimitMb ?? ""), "task_status": .string(status),
        ]).objectValue ?? [:]
        if let b = backupFiles { o["backup_files"] = b.value }
        if source != nil { o["source_instance"] = Self.scrubbed(source) }
        if target != nil { o["target_instance"] = Self.scrubbed(target) }
        if let r = releasedAt { o["released_at"] = .string(CivilTime.dcs(r)) }
        return .object(o)
    }

    var listJSON: JSON {
        let src = source?.value, tgt = target?.value
        let dataSource = migrationType == "backupfile_import"
            ? (backupFiles?.value["bucket_name"]?.stringValue ?? backupFiles?.value["backup_id"]?.stringValue ?? "")
            : (src?["addrs"]?.stringValue ?? "")
        return obj([
            "task_id": .string(id), "task_name": .string(name), "status": .string(status),
            "migration_type": .string(migrationType), "migration_method": .string(migrationMethod ?? ""),
            "ecs_tenant_private_ip": .string(privateIP), "data_source": .string(dataSource),
            "source_instance_name": .string(src?["name"]?.stringValue ?? ""),
            "source_instance_id": .string(src?["id"]?.stringValue ?? ""),
            "target_instance_addrs": .string(tgt?["addrs"]?.stringValue ?? ""),
            "target_instance_name": .string(tgt?["name"]?.stringValue ?? ""),
            "target_instance_id": .string(tgt?["id"]?.stringValue ?? ""),
            "created_at": .string(CivilTime.dcs(createdAt)), "description": .string(description ?? ""),
            "source_instance_status": .string(src?["id"] != nil ? "RUNNING" : ""),
            "target_instance_status": .string(tgt != nil ? "RUNNING" : ""),
            "source_instance_subnet_id": .string(src?["id"] != nil ? (subnetId ?? "") : ""),
            "target_instance_subnet_id": .string(subnetId ?? ""),
            "source_instance_spec_code": .string(src?["id"] != nil ? "redis.ha.xu1.large.r2.1" : ""),
            "target_instance_spec_code": .string(tgt != nil ? "redis.ha.xu1.large.r2.1" : ""),
            "error_message": .string(errorMessage ?? ""),
            "released_at": .string(releasedAt.map { CivilTime.dcs($0) } ?? ""), "version": "2.0",
            "resume_mode": .string(resumeMode ?? "manual"), "supported_features": [],
        ])
    }

    func adminJSON(_ now: Double, _ timings: EmulatorTimings) -> JSON {
        var o = detailJSON.objectValue ?? [:]
        o["project_id"] = .string(projectId)
        o["online"] = .bool(online)
        o["configured"] = .bool(configured)
        o["stats"] = stats(now, timings)
        let p = fullProgress(now)
        o["transferred_keys"] = .int(safeInt64((sourceKeys * p).rounded(.down)))
        o["transferred_bytes"] = .int(safeInt64((sourceBytes * p).rounded(.down)))
        o["phase_started_at"] = .string(CivilTime.iso(phaseStart))
        o["phase_ends_at"] = phaseEnd.map { .string(CivilTime.iso($0)) } ?? .null
        o["fail_at"] = failAt.map { .string(CivilTime.iso($0)) } ?? .null
        o["error_message"] = errorMessage.map { .string($0) } ?? .null
        o["log_count"] = .int(logs.count)
        return .object(o)
    }
}

extension EmulatorState {
    func dcsNotFound(_ id: String) -> ProviderError {
        ProviderError(404, "DCS.4133", "The migration task \(id) does not exist.")
    }

    func dcsBadStatus(_ t: DcsTask, _ action: String) -> ProviderError {
        ProviderError(400, "DCS.4134", "The migration task \(t.id) is \(t.status); it cannot be \(action) now.")
    }

    func dcsIndex(_ ctx: OpContext, _ id: String) throws(ProviderError) -> Int {
        guard let i = dcsTasks.firstIndex(where: { $0.id == id && $0.projectId == (ctx.projectId ?? "") }) else {
            throw dcsNotFound(id)
        }
        return i
    }

    func dcsObject(_ ctx: OpContext, _ body: JSONObject, _ key: String, required: Bool) throws(ProviderError) -> JSONObject? {
        guard let v = body[key], !v.isNull else {
            if required { throw ctx.missing(key) }
            return nil
        }
        guard let o = v.objectValue else { throw ctx.badRequest(key, "\(key) must be an object.") }
        for (k, x) in o where !x.isNull {
            if k == "proxy_multi_db" { guard x.boolValue != nil else { throw ctx.badRequest(key, "\(key).\(k) must be a boolean.") } }
            else if x.stringValue == nil && k != "files" { throw ctx.badRequest(key, "\(key).\(k) must be a string.") }
        }
        return o
    }

    mutating func newDcsTask(_ ctx: OpContext, name: String, type: String, online: Bool) -> DcsTask {
        nextDcsIP += 1
        return DcsTask(id: rng.hex(32), projectId: ctx.projectId ?? "", name: name, migrationType: type, online: online,
                       configured: false, status: "CREATING", phaseStart: ctx.now, fullDuration: timings.dcsFullS,
                       createdAt: ctx.now, updatedAt: ctx.now, privateIP: "192.168.0.\(nextDcsIP % 250 + 2)",
                       sourceKeys: timings.dcsSourceKeys, sourceBytes: timings.dcsSourceBytes, logs: [])
    }

    func failInfo(_ ctx: OpContext, _ what: String) -> (Double, String)? {
        guard let d = ctx.failDelay else { return nil }
        return (ctx.now + (d < 0 ? timings.failAfterS : d), "Migration failed: \(what) (injected terminal failure).")
    }

    func requireBody(_ ctx: OpContext) throws(ProviderError) -> (JSON, JSONObject) {
        guard let body = try ctx.jsonBody() else { throw ctx.missing("body") }
        guard let o = body.objectValue else { throw ctx.badRequest("body", "The request body must be a JSON object.") }
        return (body, o)
    }

    func enumField(_ ctx: OpContext, _ o: JSONObject, _ key: String, _ allowed: [String], required: Bool) throws(ProviderError) -> String? {
        guard let v = o[key], !v.isNull else {
            if required { throw ctx.missing(key) }
            return nil
        }
        guard let s = v.stringValue, allowed.contains(s) else {
            throw ctx.badRequest(key, "\(key) must be one of \(allowed.joined(separator: ", ")).")
        }
        return s
    }

    func requiredEnum(_ ctx: OpContext, _ o: JSONObject, _ key: String, _ allowed: [String]) throws(ProviderError) -> String {
        guard let v = try enumField(ctx, o, key, allowed, required: true) else { throw ctx.missing(key) }
        return v
    }

    func requiredObject(_ ctx: OpContext, _ o: JSONObject, _ key: String) throws(ProviderError) -> JSONObject {
        guard let v = try dcsObject(ctx, o, key, required: true) else { throw ctx.missing(key) }
        return v
    }

    // MARK: F.1 CreateMigrationTask

    mutating func dcsCreate(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let (body, o) = try requireBody(ctx)
        guard let name = o["task_name"]?.stringValue, !name.isEmpty else { throw ctx.missing("task_name") }
        guard Self.validName(name) else {
            throw ctx.badRequest("task_name", "task_name must be 4-64 characters, start with a letter and contain only letters, digits, - and _.")
        }
        let type = try requiredEnum(ctx, o, "migration_type", ["backupfile_import", "online_migration"])
        let method = try requiredEnum(ctx, o, "migration_method", ["full_amount_migration", "incremental_migration"])
        let network = try enumField(ctx, o, "network_type", ["vpc", "vpn"], required: false)
        if let d = o["description"], !d.isNull, d.stringValue == nil { throw ctx.badRequest("description", "description must be a string.") }
        let target = try requiredObject(ctx, o, "target_instance")
        guard let tid = target["id"]?.stringValue, !tid.isEmpty else { throw ctx.missing("target_instance.id") }
        var source: JSONObject?
        var backup: JSONObject?
        var totalBytes: Double?
        if type == "backupfile_import" {
            guard let b = o["backup_files"]?.objectValue else { throw ctx.missing("backup_files") }
            let fileSource = try enumField(ctx, b, "file_source", ["self_build_obs", "backup_record"], required: false)
            if fileSource == "backup_record" {
                guard let bid = b["backup_id"]?.stringValue, !bid.isEmpty else { throw ctx.missing("backup_files.backup_id") }
            } else {
                guard let files = b["files"]?.arrayValue, !files.isEmpty else { throw ctx.missing("backup_files.files") }
                var sum = 0.0
                for (i, f) in files.enumerated() {
                    guard let fn = f["file_name"]?.stringValue, !fn.isEmpty else { throw ctx.missing("backup_files.files[\(i)].file_name") }
                    if let sz = f["size"], !sz.isNull {
                        guard let s = sz.looseString, let n = Double(s), n >= 0, n <= 1e15 else {
                            throw ctx.badRequest("backup_files", "backup_files.files[\(i)].size must be a size in bytes.")
                        }
                        sum += n
                    }
                }
                if sum > 0 { totalBytes = sum }
            }
            backup = b
        } else {
            source = try dcsObject(ctx, o, "source_instance", required: true)
            let hasAddr = !(source?["addrs"]?.stringValue ?? "").isEmpty || !(source?["id"]?.stringValue ?? "").isEmpty
            guard hasAddr else { throw ctx.missing("source_instance.addrs") }
        }
        var t = newDcsTask(ctx, name: name, type: type, online: false)
        t.description = o["description"]?.stringValue
        t.migrationMethod = method
        t.networkType = network
        t.configured = true
        t.target = JSONBox(.object(target))
        t.source = source.map { JSONBox(.object($0)) }
        t.backupFiles = backup.map { JSONBox(.object($0)) }
        if let bytes = totalBytes {
            t.sourceBytes = bytes
            t.sourceKeys = max(1, (bytes / 1024).rounded(.down))
        }
        t.fullDuration = type == "backupfile_import"
            ? max(timings.dcsFullMinS, t.sourceBytes / max(1, timings.dcsImportBytesPerS)) : timings.dcsFullS
        t.enter("MIGRATING", at: ctx.now, until: ctx.now + timings.dcsPrepareS)
        t.log(ctx.now, "INFO", "migration.created", "Migration task \(name) created (\(type), \(method)).", ["create"])
        if let (at, why) = failInfo(ctx, "the source data could not be read") { t.failAt = at; t.failReason = why }
        dcsTasks.append(t)
        return OpResult(body: ["id": .string(t.id), "name": .string(t.name), "status": .string(t.status)],
                        effect: ["created": t.detailJSON], params: ["body": body])
    }

    // MARK: F.2 CreateOnlineMigrationTask

    mutating func dcsCreateOnline(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let (body, o) = try requireBody(ctx)
        guard let name = o["name"]?.stringValue, !name.isEmpty else { throw ctx.missing("name") }
        guard Self.validName(name) else {
            throw ctx.badRequest("name", "name must be 4-64 characters, start with a letter and contain only letters, digits, - and _.")
        }
        var ids: [String: String] = [:]
        for f in ["vpc_id", "subnet_id", "security_group_id"] {
            guard let v = o[f]?.stringValue, !v.isEmpty else { throw ctx.missing(f) }
            ids[f] = v
        }
        var t = newDcsTask(ctx, name: name, type: "online_migration", online: true)
        t.description = o["description"]?.stringValue
        t.vpcId = ids["vpc_id"]
        t.subnetId = ids["subnet_id"]
        t.securityGroupId = ids["security_group_id"]
        t.enter("CREATING", at: ctx.now, until: ctx.now + timings.dcsVMCreateS)
        t.log(ctx.now, "INFO", "migration.created", "Online migration task \(name) created; creating the migration VM.", ["create"])
        if let (at, why) = failInfo(ctx, "the migration VM lost its connection") { t.failAt = at; t.failReason = why }
        dcsTasks.append(t)
        return OpResult(body: ["instance_id": .string(t.id)], effect: ["created": t.detailJSON], params: ["body": body])
    }

    // MARK: F.3 SetOnlineMigrationTask

    mutating func dcsSetOnline(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let id = ctx.pathParams[0]
        let i = try dcsIndex(ctx, id)
        let (body, o) = try requireBody(ctx)
        let method = try requiredEnum(ctx, o, "migration_method", ["full_amount_migration", "incremental_migration"])
        let resume = try requiredEnum(ctx, o, "resume_mode", ["auto", "manual"])
        var bandwidth: String?
        if let b = o["bandwidth_limit_mb"], !b.isNull {
            guard let s = b.looseString, let n = Int(s), (1...10240).contains(n) else {
                throw ctx.badRequest("bandwidth_limit_mb", "bandwidth_limit_mb must be an integer from 1 to 10240.")
            }
            bandwidth = s
        }
        let source = try requiredObject(ctx, o, "source_instance")
        let target = try requiredObject(ctx, o, "target_instance")
        for (k, inst) in [("source_instance", source), ("target_instance", target)] {
            if (inst["id"]?.stringValue ?? "").isEmpty && (inst["addrs"]?.stringValue ?? "").isEmpty {
                throw ctx.badRequest(k, "\(k) needs id (DCS instance) or addrs (self-built Redis).")
            }
        }
        var t = dcsTasks[i]
        guard t.online else {
            throw ProviderError(400, "DCS.4134", "The migration task \(id) was not created as an online migration task.")
        }
        guard t.status == "RUNNING", !t.configured else { throw dcsBadStatus(t, "configured") }
        let before = t.status
        t.configured = true
        t.migrationMethod = method
        t.resumeMode = resume
        t.bandwidthLimitMb = bandwidth
        t.source = JSONBox(.object(source))
        t.target = JSONBox(.object(target))
        t.networkType = t.networkType ?? "vpc"
        t.fullDuration = timings.dcsFullS
        t.enter("FULLMIGRATING", at: ctx.now, until: ctx.now + t.fullDuration)
        t.log(ctx.now, "INFO", "migration.configured", "Migration configured (\(method), resume \(resume)); full migration started.", ["full"])
        if let (at, why) = failInfo(ctx, "the source Redis became unreachable") { t.failAt = at; t.failReason = why }
        dcsTasks[i] = t
        var params: JSON = ["task_id": .string(id), "body": body]
        params["task_id"] = .string(id)
        return OpResult(body: ["id": .string(t.id), "name": .string(t.name), "status": .string(t.status)],
                        effect: ["task_id": .string(id), "from": .string(before), "to": .string(t.status)], params: params)
    }

    // MARK: F.4 ListMigrationTask

    mutating func dcsList(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        func num(_ name: String, _ def: Int, _ min: Int, _ max: Int) throws(ProviderError) -> Int {
            guard let raw = ctx.q(name), !raw.isEmpty else { return def }
            guard let v = Int(raw), v >= min, v <= max else { throw ctx.badRequest(name, "\(name) must be an integer in \(min)...\(max).") }
            return v
        }
        let offset = try num("offset", 0, 0, 1_000_000)
        let limit = try num("limit", 10, 1, 1000)
        var tasks = dcsTasks.filter { $0.projectId == (ctx.projectId ?? "") }
        if let n = ctx.q("name"), !n.isEmpty { tasks = tasks.filter { $0.name.contains(n) } }
        let page = offset < tasks.count ? Array(tasks[offset..<min(tasks.count, offset + limit)]) : []
        return OpResult(body: ["count": .int(tasks.count), "migration_tasks": .array(page.map(\.listJSON))],
                        params: ctx.queryJSON)
    }

    // MARK: F.5 / F.6 / F.7 reads

    mutating func dcsShow(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let i = try dcsIndex(ctx, ctx.pathParams[0])
        return OpResult(body: dcsTasks[i].detailJSON, params: ["task_id": .string(ctx.pathParams[0])])
    }

    mutating func dcsStats(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let i = try dcsIndex(ctx, ctx.pathParams[0])
        return OpResult(body: dcsTasks[i].stats(ctx.now, timings), params: ["task_id": .string(ctx.pathParams[0])])
    }

    mutating func dcsLogs(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let i = try dcsIndex(ctx, ctx.pathParams[0])
        func num(_ name: String, _ def: Int, _ min: Int, _ max: Int) throws(ProviderError) -> Int {
            guard let raw = ctx.q(name), !raw.isEmpty else { return def }
            guard let v = Int(raw), v >= min, v <= max else { throw ctx.badRequest(name, "\(name) must be an integer in \(min)...\(max).") }
            return v
        }
        let offset = try num("offset", 0, 0, 1_000_000)
        let limit = try num("limit", 10, 1, 1000)
        var logs = dcsTasks[i].logs
        if let l = ctx.q("log_level"), !l.isEmpty { logs = logs.filter { $0.level.caseInsensitiveEquals(l) } }
        let page = offset < logs.count ? Array(logs[offset..<min(logs.count, offset + limit)]) : []
        let items: [JSON] = page.map {
            ["created_at": .string(CivilTime.iso($0.time)), "log_level": .string($0.level), "message": .string($0.message),
             "log_code": .string($0.code), "keyword": .array($0.keywords.map { .string($0) })]
        }
        var params = ctx.queryJSON
        params["task_id"] = .string(ctx.pathParams[0])
        return OpResult(body: ["log_num": .int(logs.count), "migration_logs": .array(items)], params: params)
    }

    // MARK: F.8 UpdateMigrationTask

    mutating func dcsUpdate(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let id = ctx.pathParams[0]
        let i = try dcsIndex(ctx, id)
        let (body, o) = try requireBody(ctx)
        let resume = try enumField(ctx, o, "resume_mode", ["auto", "manual"], required: false)
        let before = dcsTasks[i].resumeMode ?? "manual"
        if let r = resume {
            dcsTasks[i].resumeMode = r
            dcsTasks[i].updatedAt = ctx.now
        }
        let after = dcsTasks[i].resumeMode ?? "manual"
        return OpResult(body: ["task_id": .string(id), "resume_mode": .string(after)],
                        effect: resume == nil ? nil : ["task_id": .string(id), "resume_mode": ["from": .string(before), "to": .string(after)]],
                        params: ["task_id": .string(id), "body": body])
    }

    // MARK: F.9 / F.10 / F.11 stop

    /// Stops one task; returns the error to report when it cannot be stopped.
    mutating func dcsStopOne(_ i: Int, now: Double, sync: Bool) -> ProviderError? {
        var t = dcsTasks[i]
        let stoppable = DcsTask.stoppable.contains(t.status) || t.status == "CREATING" || (sync && t.status == "TERMINATING")
        guard stoppable else { return dcsBadStatus(t, "stopped") }
        if sync {
            t.enter("TERMINATED", at: now, until: nil)
            t.log(now, "INFO", "migration.terminated", "Migration task stopped (synchronous stop).", ["stop"])
        } else {
            t.enter("TERMINATING", at: now, until: now + timings.dcsStopS)
            t.log(now, "INFO", "migration.stopping", "Stopping the migration task.", ["stop"])
        }
        t.failAt = nil
        dcsTasks[i] = t
        return nil
    }

    mutating func dcsStop(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let id = ctx.pathParams[0]
        let i = try dcsIndex(ctx, id)
        let before = dcsTasks[i].status
        if let e = dcsStopOne(i, now: ctx.now, sync: false) { throw e }
        return OpResult(body: dcsTasks[i].detailJSON,
                        effect: ["task_id": .string(id), "from": .string(before), "to": .string(dcsTasks[i].status)],
                        params: ["task_id": .string(id)])
    }

    mutating func dcsStopSync(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let id = ctx.pathParams[0]
        let i = try dcsIndex(ctx, id)
        let before = dcsTasks[i].status
        if let e = dcsStopOne(i, now: ctx.now, sync: true) { throw e }
        return OpResult(body: [:],
                        effect: ["task_id": .string(id), "from": .string(before), "to": .string(dcsTasks[i].status)],
                        params: ["task_id": .string(id)])
    }

    func idList(_ ctx: OpContext, _ o: JSONObject, _ key: String) throws(ProviderError) -> [String] {
        guard let arr = o[key]?.arrayValue else { throw ctx.missing(key) }
        guard !arr.isEmpty, arr.count <= 100 else { throw ctx.badRequest(key, "\(key) must list 1 to 100 task IDs.") }
        var out: [String] = []
        for (n, v) in arr.enumerated() {
            guard let s = v.stringValue, !s.isEmpty else { throw ctx.badRequest(key, "\(key)[\(n)] must be a task ID string.") }
            out.append(s)
        }
        return out
    }

    /// Batch stop and batch restart answer alike: one result per task ID, each failing on its own, never the batch.
    /// `apply` changes task `i` or says why it cannot.
    mutating func dcsBatch(_ ctx: OpContext, effect: String,
                           _ apply: (inout EmulatorState, Int) -> ProviderError?) throws(ProviderError) -> OpResult {
        let (body, o) = try requireBody(ctx)
        let ids = try idList(ctx, o, "migration_tasks")
        var results: [JSON] = []
        var changed: [JSON] = []
        for id in ids {
            let i = dcsTasks.firstIndex(where: { $0.id == id && $0.projectId == (ctx.projectId ?? "") })
            let before = i.map { dcsTasks[$0].status }
            if let e = i.map({ apply(&self, $0) }) ?? dcsNotFound(id) {
                results.append(["task_id": .string(id), "result": "failed", "error_code": .string(e.code),
                                "error_msg": .string(e.message)])
            } else if let i, let before {
                results.append(["task_id": .string(id), "result": "success", "error_code": "", "error_msg": ""])
                changed.append(["task_id": .string(id), "from": .string(before), "to": .string(dcsTasks[i].status)])
            }
        }
        return OpResult(body: ["migration_tasks": .array(results)],
                        effect: changed.isEmpty ? nil : [effect: .array(changed)], params: ["body": body])
    }

    mutating func dcsBatchStop(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        try dcsBatch(ctx, effect: "stopped") { state, i in state.dcsStopOne(i, now: ctx.now, sync: false) }
    }

    // MARK: F.12 BatchRestartOnlineMigrationTasks

    mutating func dcsBatchRestart(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        try dcsBatch(ctx, effect: "restarted") { state, i in
            var t = state.dcsTasks[i]
            guard t.migrationType == "online_migration", t.configured, DcsTask.restartable.contains(t.status) else {
                return t.migrationType != "online_migration"
                    ? ProviderError(400, "DCS.4134", "The migration task \(t.id) is not an online migration task.")
                    : state.dcsBadStatus(t, "restarted")
            }
            t.errorMessage = nil
            t.failAt = nil
            t.fullDuration = state.timings.dcsFullS
            t.enter("FULLMIGRATING", at: ctx.now, until: ctx.now + t.fullDuration)
            t.log(ctx.now, "INFO", "migration.restarted", "Migration task restarted; full migration started.", ["restart", "full"])
            if let (at, why) = state.failInfo(ctx, "the restarted migration could not resume") { t.failAt = at; t.failReason = why }
            state.dcsTasks[i] = t
            return nil
        }
    }

    // MARK: F.13 DeleteMigrationTask

    mutating func dcsDelete(_ ctx: OpContext) throws(ProviderError) -> OpResult {
        let (body, o) = try requireBody(ctx)
        let ids = try idList(ctx, o, "task_id_list")
        var deleted: [String] = []
        dcsTasks.removeAll { t in
            let hit = ids.contains(t.id) && t.projectId == (ctx.projectId ?? "") && DcsTask.deletable.contains(t.status)
            if hit { deleted.append(t.id) }
            return hit
        }
        return OpResult(body: ["task_id_list": .array(deleted.map { .string($0) })],
                        effect: deleted.isEmpty ? nil : ["deleted": .array(deleted.map { .string($0) })],
                        params: ["body": body])
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool { lowercased() == other.lowercased() }
}
