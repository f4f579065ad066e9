import FerryCore
import FerryJSON

/// Everything the emulator remembers. One value, guarded by one lock in `EmulatorCore`; saved as a snapshot
/// after each mutation when persistence is on.
struct EmulatorState: Sendable, Codable {
    var clock: EmuClock
    var timings: EmulatorTimings
    var faults: FaultTable
    var rng: SeededRNG
    var userId = "1234567890123456"

    var aliMigrations: [AliMigration] = []
    var nextAliMigrationId = 1
    var nextAliOperationId = 1001
    var mseTasks: [MseTask] = []
    var nextMseId = 1
    var dmsTasks: [DmsTask] = []
    var dcsTasks: [DcsTask] = []
    var nextDcsIP = 10

    var audit: [AuditEntry] = []
    var nextAuditSeq = 1

    init(config: EmulatorConfig) {
        clock = EmuClock(start: config.startTime ?? WallClock.now(), scale: config.timeScale)
        timings = config.timings
        faults = FaultTable(seed: config.seed)
        rng = SeededRNG(seed: config.seed)
        for f in config.faults { _ = faults.add(f) }
    }

    var now: Double { clock.now() }

    mutating func requestId(_ family: Family) -> String {
        family.isAlibaba ? rng.uuidUpper() : rng.hex(32)
    }

    /// Applies every timed transition up to `now` (state advances lazily, when someone looks).
    mutating func settle(_ now: Double) {
        for i in aliMigrations.indices { aliMigrations[i].settle(now, timings) }
        for i in dmsTasks.indices { dmsTasks[i].settle(now) }
        for i in dcsTasks.indices { dcsTasks[i].settle(now, timings) }
    }

    mutating func record(_ op: String, requestId: String, accessKeyId: String?, params: JSON, effect: JSON,
                         outcome: String = "ok") {
        audit.append(AuditEntry(seq: nextAuditSeq, time: now, operation: op, requestId: requestId,
                                accessKeyId: accessKeyId, params: JSONBox(Redaction.redactFields(params)),
                                effect: JSONBox(Redaction.redactFields(effect)), outcome: outcome))
        nextAuditSeq += 1
    }

    /// Marks the resource(s) a read names to fail at `at` (a terminal-failure fault that fired on a read).
    mutating func scheduleFailure(_ route: Route, _ ctx: OpContext, at: Double) -> [String] {
        var out: [String] = []
        let reason = "The migration failed (injected terminal failure, fired on \(route.action))."
        switch (route.family, route.action) {
        case (.hwDCS, "ShowMigrationTask"), (.hwDCS, "ShowMigrationTaskStats"), (.hwDCS, "ListMigrationTaskLogs"):
            if let i = dcsTasks.firstIndex(where: { $0.id == route.pathParams.first && $0.projectId == (ctx.projectId ?? "") }),
               !["SUCCESS", "TERMINATED", "MIGRATION_FAILED", "FAILED"].contains(dcsTasks[i].status) {
                dcsTasks[i].failAt = at
                dcsTasks[i].failReason = reason
                out.append(dcsTasks[i].id)
            }
        case (.hwRocketMQ, "ListRocketMqMigrationTask"):
            if let id = ctx.q("id"),
               let i = dmsTasks.firstIndex(where: { $0.id == id && $0.status != "finished" && $0.status != "failed" }) {
                dmsTasks[i].failAt = at
                dmsTasks[i].failReason = reason
                out.append(id)
            }
        case (.aliRocketMQ, "ListMigrationOperations"):
            if let mid = Int(route.pathParams.first ?? ""), let mi = aliMigrations.firstIndex(where: { $0.id == mid }) {
                for j in aliMigrations[mi].operations.indices where aliMigrations[mi].operations[j].stageType == route.pathParams.last
                    && aliMigrations[mi].operations[j].status == "RUNNING" {
                    aliMigrations[mi].operations[j].failAt = at
                    aliMigrations[mi].operations[j].failReason = reason
                    out.append(String(aliMigrations[mi].operations[j].id))
                }
            }
        default:
            break
        }
        return out
    }

    /// Forgets resources, audit and faults; keeps the clock, timings and key material.
    mutating func reset(seed: UInt64) {
        aliMigrations = []
        nextAliMigrationId = 1
        nextAliOperationId = 1001
        mseTasks = []
        nextMseId = 1
        dmsTasks = []
        dcsTasks = []
        nextDcsIP = 10
        audit = []
        nextAuditSeq = 1
        faults = FaultTable(seed: seed)
        rng = SeededRNG(seed: seed)
    }

}

/// Alibaba signature nonces seen within the replay window (FIFO eviction: amortized O(1) per request, bounded memory).
struct NonceCache: Sendable {
    private var seen: [String: Double] = [:]
    private var order: [(String, Double)] = []
    private var head = 0
    let window: Double
    let maxEntries: Int

    init(window: Double, maxEntries: Int = 1_000_000) {
        self.window = window
        self.maxEntries = maxEntries
    }

    /// Remembers `nonce`; true when it was already seen within the window.
    mutating func seenBefore(_ nonce: String, now: Double) -> Bool {
        while head < order.count, now - order[head].1 > window || order.count - head > maxEntries {
            if seen[order[head].0] == order[head].1 { seen.removeValue(forKey: order[head].0) }
            head += 1
        }
        if head > 4096 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
        if let t = seen[nonce], now - t <= window { return true }
        seen[nonce] = now
        order.append((nonce, now))
        return false
    }

    mutating func removeAll() {
        seen = [:]
        order = []
        head = 0
    }
}

/// The parsed parameters of one call, handed to an operation handler.
struct OpContext {
    var op: String
    var family: Family
    var request: EmulatorRequest
    var now: Double
    var requestId: String
    /// Decoded path parameters in template order (e.g. migrationId, stageType, operationId).
    var pathParams: [String]
    var query: [(String, String)]
    var projectId: String?
    var accessKeyId: String?
    var host: String
    var terminalFailure: FaultSpec?

    func q(_ name: String) -> String? { query.first { $0.0 == name }?.1 }

    var queryJSON: JSON {
        var o = JSONObject()
        for (k, v) in query where o[k] == nil { o[k] = .string(v) }
        return .object(o)
    }

    /// The body parsed as JSON; `nil` when empty.
    func jsonBody() throws(ProviderError) -> JSON? {
        guard !request.body.isEmpty else { return nil }
        do { return try JSONParser.parse(bytes: request.body) } catch {
            throw badRequest("body", "The request body is not valid JSON (\(error.message) at byte \(error.offset)).")
        }
    }

    /// A validation error in this family's shape.
    func badRequest(_ field: String, _ message: String) -> ProviderError {
        switch family {
        case .aliRocketMQ:
            return ProviderError(400, "Invalid\(field.capitalizedFirst)", message,
                                 dynamicCode: field.capitalizedFirst, dynamicMessage: field)
        case .aliMSE: return ProviderError(400, "InvalidParameter", "Parameter error:\(message)")
        case .hwRocketMQ: return ProviderError(400, "DMS.00400002", "Invalid parameter: \(message)")
        case .hwDCS: return ProviderError(400, "DCS.4001", "Invalid request parameter: \(message)")
        }
    }

    func missing(_ field: String) -> ProviderError {
        switch family {
        case .aliRocketMQ:
            return ProviderError(400, "Missing\(field.capitalizedFirst)",
                                 "Parameter \(field) is mandatory for this action .",
                                 dynamicCode: field.capitalizedFirst, dynamicMessage: field)
        case .aliMSE: return ProviderError(400, "InvalidParameter", "Parameter error:\(field) is required")
        case .hwRocketMQ: return ProviderError(400, "DMS.00400002", "Invalid parameter: \(field) is required.")
        case .hwDCS: return ProviderError(400, "DCS.4001", "Invalid request parameter: \(field) is mandatory.")
        }
    }

    var failDelay: Double? { terminalFailure.map { $0.afterSeconds ?? -1 } }
}

/// What a handler returns on success: the body, and (for a mutation) the effect for the audit log.
struct OpResult {
    var body: JSON
    var status = 200
    /// nil = nothing changed (reads, and mutations that were no-ops).
    var effect: JSON?
    var params: JSON = .null
}

extension String {
    var capitalizedFirst: String {
        guard let f = first else { return self }
        return f.uppercased() + dropFirst()
    }
}
