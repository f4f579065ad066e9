import FerryCore
import FerryJSON

/// One configured fault. It applies to one operation (`huawei.dcs.StopMigrationTask`), a family
/// (`huawei.dcs.*`), or every operation (`*`). It fires with `probability` (seeded RNG, default 1) and, when
/// `count` is set, at most that many more times ("the next N calls").
public struct FaultSpec: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Adds `latency_ms` before the request is handled (stacks with any other fault).
        case latency
        /// The provider's throttling error; nothing changes.
        case throttle
        /// A 5xx (`status`, default 503) in the provider's error shape; nothing changes.
        case serverError = "server_error"
        /// The connection is reset before anything is handled.
        case reset
        /// The change is applied and audited, then the connection drops without a response.
        case responseLost = "response_lost"
        /// The call succeeds, and the task it touches goes to its failed state `after_seconds` later.
        case terminalFailure = "terminal_failure"
    }

    public var id: String
    public var operation: String
    public var kind: Kind
    public var probability: Double
    /// Remaining firings; nil = unlimited.
    public var count: Int?
    public var latencyMs: Int
    public var status: Int?
    public var retryAfterMs: Int
    public var afterSeconds: Double?
    public var fired: Int = 0

    public init(json: JSON, field: String = "fault") throws(FerryError) {
        guard let o = json.objectValue else { throw .invalidArgument(field, "must be an object") }
        let known: Set<String> = ["id", "operation", "kind", "probability", "count", "latency_ms", "status",
                                  "retry_after_ms", "after_seconds"]
        for k in o.keys where !known.contains(k) {
            throw .invalidArgument("\(field).\(k)", "unknown fault option (known: \(known.sorted().joined(separator: ", ")))")
        }
        guard let k = o["kind"]?.stringValue, let kind = Kind(rawValue: k) else {
            throw .invalidArgument("\(field).kind",
                                   "must be one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.kind = kind
        let op = o["operation"]?.stringValue ?? "*"
        guard OperationName.matchesAny(pattern: op) else {
            throw .invalidArgument("\(field).operation",
                                   "'\(op)' matches no operation (use a full name like huawei.dcs.StopMigrationTask, a family like huawei.dcs.*, or *)")
        }
        operation = op
        id = o["id"]?.stringValue ?? ""
        probability = 1
        if let v = o["probability"], !v.isNull {
            guard let p = v.doubleValue, p >= 0, p <= 1 else { throw .invalidArgument("\(field).probability", "must be in 0...1") }
            probability = p
        }
        if let v = o["count"], !v.isNull {
            guard let c = v.intValue, c >= 0 else { throw .invalidArgument("\(field).count", "must be a non-negative integer") }
            count = c
        }
        latencyMs = 0
        if let v = o["latency_ms"], !v.isNull {
            guard let l = v.intValue, l >= 0, l <= 600_000 else {
                throw .invalidArgument("\(field).latency_ms", "must be an integer in 0...600000")
            }
            latencyMs = l
        }
        if kind == .latency && latencyMs == 0 { latencyMs = 1000 }
        if let v = o["status"], !v.isNull {
            guard let s = v.intValue, (400...599).contains(s) else {
                throw .invalidArgument("\(field).status", "must be an HTTP error status 400...599")
            }
            status = s
        }
        retryAfterMs = 1000
        if let v = o["retry_after_ms"], !v.isNull {
            guard let r = v.intValue, r >= 0 else { throw .invalidArgument("\(field).retry_after_ms", "must be >= 0") }
            retryAfterMs = r
        }
        if let v = o["after_seconds"], !v.isNull {
            guard let a = v.doubleValue, a >= 0 else { throw .invalidArgument("\(field).after_seconds", "must be >= 0") }
            afterSeconds = a
        }
    }

    public var json: JSON {
        var o: JSONObject = [
            "id": .string(id), "operation": .string(operation), "kind": .string(kind.rawValue),
            "probability": .double(probability), "count": count.map { .int($0) } ?? .null, "fired": .int(fired),
        ]
        if kind == .latency { o["latency_ms"] = .int(latencyMs) }
        if kind == .serverError { o["status"] = .int(status ?? 503) }
        if kind == .throttle { o["retry_after_ms"] = .int(retryAfterMs); if let s = status { o["status"] = .int(s) } }
        if kind == .terminalFailure { o["after_seconds"] = afterSeconds.map { .double($0) } ?? .null }
        return .object(o)
    }

    func matches(_ op: String) -> Bool { OperationName.matches(pattern: operation, op) }
}

/// What the dice decided for one call.
struct FaultDecision: Sendable {
    var latencyMs = 0
    /// At most one of throttle / serverError / reset / responseLost.
    var outcome: FaultSpec?
    var terminalFailure: FaultSpec?
    var fired: [String] = []
}

/// The run-time fault table with its seeded dice. Lives inside the emulator state (under its lock).
struct FaultTable: Sendable, Codable {
    var faults: [FaultSpec] = []
    var rng: SeededRNG
    var nextID = 1

    init(seed: UInt64) { rng = SeededRNG(seed: seed ^ 0xFA17) }

    mutating func add(_ f: FaultSpec) -> FaultSpec {
        var f = f
        if f.id.isEmpty || faults.contains(where: { $0.id == f.id }) {
            f.id = "fault-\(nextID)"
        }
        nextID += 1
        faults.append(f)
        return f
    }

    mutating func remove(id: String) -> Bool {
        let before = faults.count
        faults.removeAll { $0.id == id }
        return faults.count != before
    }

    /// Rolls every matching fault in table order. Count-limited faults are consumed only when they fire.
    mutating func decide(_ op: String) -> FaultDecision {
        var d = FaultDecision()
        for i in faults.indices where faults[i].matches(op) {
            let f = faults[i]
            if let c = f.count, c <= 0 { continue }
            let isOutcome = f.kind == .throttle || f.kind == .serverError || f.kind == .reset || f.kind == .responseLost
            if isOutcome && d.outcome != nil { continue }
            if f.kind == .terminalFailure && d.terminalFailure != nil { continue }
            // Always roll (even at p = 1) so a table's dice sequence does not depend on other faults' probabilities.
            let roll = rng.unit()
            guard roll < f.probability else { continue }
            if let c = f.count { faults[i].count = c - 1 }
            faults[i].fired += 1
            d.fired.append(f.id)
            switch f.kind {
            case .latency: d.latencyMs += f.latencyMs
            case .terminalFailure: d.terminalFailure = faults[i]
            default: d.outcome = faults[i]
            }
        }
        return d
    }
}
