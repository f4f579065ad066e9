import FerryCore
import FerryJSON

/// Run status as hosts see it.
public enum RunStatus: String, Sendable, CaseIterable {
    /// Ready for work now.
    case running
    /// Waiting for a time (retry backoff, poll interval, wait step); `next_wake_at` says when.
    case waiting
    /// Paused on a gate until a host sends the named signal.
    case waitingGate = "waiting_gate"
    /// Stopped: an interrupted non-idempotent write could not be reconciled; an operator decides.
    case needsAttention = "needs_attention"
    case succeeded
    case failed
    case cancelled

    public var isTerminal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// The durable part of a run (one row). `state` fields are kept as JSON in the store.
struct RunRecord: Sendable {
    var runID: String
    var workflow: String
    var definition: JSON
    /// Non-secret inputs only; secret inputs live in the engine's memory.
    var inputs: JSONObject
    var secretInputs: [String]
    var status: RunStatus
    var createdAt: Double
    var updatedAt: Double
    var wakeAt: Double?
    // state
    var phase = "main"          // main | compensation | done
    var cursor = 0
    var compCursor = 0
    var vars = JSONObject()
    var error: JSON?
    var finalStatus: RunStatus?  // what a compensation phase ends in (failed or cancelled)
    var cancelReason: String?
    var attention: JSON?
    var outputs: JSON?
    var compensationErrors: [JSON] = []

    var stateJSON: JSON {
        var o: JSONObject = ["phase": .string(phase), "cursor": .int(cursor), "comp_cursor": .int(compCursor),
                             "vars": .object(vars), "secret_inputs": .array(secretInputs.map(JSON.string))]
        if let error { o["error"] = error }
        if let finalStatus { o["final_status"] = .string(finalStatus.rawValue) }
        if let cancelReason { o["cancel_reason"] = .string(cancelReason) }
        if let attention { o["attention"] = attention }
        if let outputs { o["outputs"] = outputs }
        if !compensationErrors.isEmpty { o["compensation_errors"] = .array(compensationErrors) }
        return .object(o)
    }

    mutating func loadState(_ s: JSON) {
        phase = s["phase"]?.stringValue ?? "main"
        cursor = s["cursor"]?.intValue ?? 0
        compCursor = s["comp_cursor"]?.intValue ?? 0
        vars = s["vars"]?.objectValue ?? [:]
        secretInputs = s["secret_inputs"]?.arrayValue?.compactMap(\.stringValue) ?? []
        error = s["error"]
        finalStatus = s["final_status"]?.stringValue.flatMap(RunStatus.init(rawValue:))
        cancelReason = s["cancel_reason"]?.stringValue
        attention = s["attention"]
        outputs = s["outputs"]
        compensationErrors = s["compensation_errors"]?.arrayValue ?? []
    }
}

enum StepStatus: String, Sendable {
    case pending, running, waiting, succeeded, failed, skipped
    case needsAttention = "needs_attention"
    var isDone: Bool { self == .succeeded || self == .failed || self == .skipped }
}

/// The durable state of one step of a run.
struct StepRecord: Sendable {
    var stepID: String
    var status: StepStatus = .pending
    /// Attempts started (calls) or polls started (polls).
    var attempts = 0
    /// The attempt number recorded as started whose outcome is not yet recorded (a crash leaves it set).
    var inFlight: Int?
    var output: JSON?
    var error: JSON?
    var startedAt: Double?
    var finishedAt: Double?
    /// Absolute step deadline (per-step timeout).
    var deadline: Double?
    /// Absolute time of the next attempt / poll / wait end.
    var nextAt: Double?
    /// Consecutive failed attempts (for a poll: failed polls in a row).
    var failures = 0
    var polls = 0
    /// An earlier attempt of this (idempotent) write may have taken effect without our knowing: a later
    /// attempt's error can be the consequence of that success, so it is verified before failing the step.
    var uncertain = false
    /// The next unit must verify (reconcile) the in-flight attempt even though the operation is idempotent.
    var verify = false

    init(stepID: String) { self.stepID = stepID }

    var stateJSON: JSON {
        var o: JSONObject = ["failures": .int(failures), "polls": .int(polls)]
        if let inFlight { o["in_flight"] = .int(inFlight) }
        if let startedAt { o["started_at"] = .double(startedAt) }
        if let finishedAt { o["finished_at"] = .double(finishedAt) }
        if let deadline { o["deadline"] = .double(deadline) }
        if let nextAt { o["next_at"] = .double(nextAt) }
        if uncertain { o["uncertain"] = true }
        if verify { o["verify"] = true }
        return .object(o)
    }

    mutating func loadState(_ s: JSON) {
        failures = s["failures"]?.intValue ?? 0
        polls = s["polls"]?.intValue ?? 0
        inFlight = s["in_flight"]?.intValue
        startedAt = s["started_at"]?.doubleValue
        finishedAt = s["finished_at"]?.doubleValue
        deadline = s["deadline"]?.doubleValue
        nextAt = s["next_at"]?.doubleValue
        uncertain = s["uncertain"]?.boolValue ?? false
        verify = s["verify"]?.boolValue ?? false
    }

    var summary: JSON {
        var o: JSONObject = ["status": .string(status.rawValue), "attempts": .int(attempts)]
        if let output { o["output"] = output }
        if let error { o["error"] = error }
        if let nextAt, !status.isDone { o["next_at"] = .double(nextAt) }
        return .object(o)
    }
}

/// One entry of a run's append-only history.
struct RunEvent: Sendable {
    var seq: Int64 = 0
    var ts: Double
    var type: String
    var stepID: String?
    var data: JSON

    var json: JSON {
        var o: JSONObject = ["seq": .int(seq), "ts": .double(ts), "type": .string(type)]
        if let stepID { o["step"] = .string(stepID) }
        if case .object(let d) = data, !d.isEmpty { o["data"] = data }
        return .object(o)
    }
}

struct SignalRecord: Sendable {
    var seq: Int64
    var name: String
    var payload: JSON
    var receivedAt: Double
}

struct RunListFilter: Sendable {
    var statuses: [RunStatus] = []
    var workflow: String?
    var dueBefore: Double?
    var limit = 100
}

struct RunSummaryRow: Sendable {
    var runID: String
    var workflow: String
    var status: RunStatus
    var createdAt: Double
    var updatedAt: Double
    var wakeAt: Double?
}

/// A run loaded together with its steps and undelivered signals.
struct LoadedRun: Sendable {
    var run: RunRecord
    var steps: [String: StepRecord]
    var signals: [SignalRecord]
    /// Bumped by every committed change of the run's state; a commit only applies on the version it was based on.
    var version: Int64 = 0
    /// The last event sequence number used (events are appended as lastSeq+1... without a MAX(seq) lookup).
    var lastSeq: Int64 = 0
    /// The lease as stored when this was read (nil when free).
    var leaseOwner: String?
    var leaseUntil: Double?
}

/// One atomic write of a unit's changes.
struct CommitRequest: Sendable {
    var run: RunRecord
    var steps: [StepRecord]
    /// Events with their `seq` already assigned (consecutive after the loaded `lastSeq`).
    var events: [RunEvent]
    var consumedSignals: [Int64]
    var owner: String
    /// The version the changes were computed from; the commit fails (busy) if the run changed since.
    var expectedVersion: Int64
    /// The committer's clock: a lease held by another owner that ends at or before `now` is expired.
    var now: Double
    /// Hold (take or extend) the lease until this time; nil releases it.
    var holdLeaseUntil: Double?
    /// `run.stateJSON` already serialized by the caller (saves doing it twice), or nil.
    var stateText: String? = nil
}

/// Counts of group-commit work, for benchmarks and tests.
struct StoreStats: Sendable {
    /// Write transactions committed (one fsync each with synchronous=FULL).
    var transactions = 0
    /// Items (commits, lease changes, run creations, signals) applied in those transactions.
    var items = 0
    /// Largest number of items in one transaction.
    var maxBatch = 0
}

/// The narrow interface between the runtime and durable storage (SQLite now; PostgreSQL can implement it later).
/// Writes suspend the caller until they are durable; concurrent writes may share one transaction (group commit).
/// A unit of work reads the run without a lock, then commits optimistically: the commit applies only if the run's
/// version is unchanged and no other owner holds a live lease; the first commit of a unit that will make a side
/// effect takes the lease in the same transaction.
protocol RunStore: Sendable {
    func createRun(_ run: RunRecord, events: [RunEvent]) async throws(FerryError)
    /// Reads the run for a unit of work (no write). With `cached` at the stored version, steps and state are
    /// taken from it instead of being re-read and re-parsed; signals and the lease are always read.
    /// The returned run's `definition` is `.null` (see `definition(of:)`).
    func loadForUnit(_ runID: String, cached: LoadedRun?) throws(FerryError) -> LoadedRun?
    func definition(of runID: String) throws(FerryError) -> JSON?
    /// Returns the run's new version.
    func commit(_ c: CommitRequest) async throws(FerryError) -> Int64
    func releaseLease(_ runID: String, owner: String) async throws(FerryError)
    /// Extends a lease still held by `owner`; false when it was lost.
    func renewLease(_ runID: String, owner: String, until: Double) async throws(FerryError) -> Bool
    func load(_ runID: String) throws(FerryError) -> LoadedRun?
    func list(_ filter: RunListFilter) throws(FerryError) -> [RunSummaryRow]
    func events(_ runID: String, afterSeq: Int64, limit: Int) throws(FerryError) -> [RunEvent]
    func addSignal(_ runID: String, name: String, payload: JSON, now: Double) throws(FerryError) -> Int64
    var stats: StoreStats { get }
    func close()
}
