import FerryCore
import FerryJSON
import Logging
import Synchronization

/// Points where tests can simulate a process dying (the outcome of the side effect is then never recorded
/// and the lease is never released, exactly as after SIGKILL).
enum CrashPoint: String, Sendable { case beforeInvoke = "before_invoke", afterInvoke = "after_invoke" }

final class RuntimeTestHooks: Sendable {
    let crash = Mutex<(@Sendable (CrashPoint, String, Int) -> Bool)?>(nil)
    func shouldCrash(_ p: CrashPoint, step: String, attempt: Int) -> Bool {
        guard let f = crash.withLock({ $0 }) else { return false }
        return f(p, step, attempt)
    }
}

extension FerryError {
    static let simulatedCrashKey = "simulated_crash"
    static func simulatedCrash(_ p: CrashPoint) -> FerryError {
        FerryError(.internal, "simulated crash at \(p.rawValue)", details: [simulatedCrashKey: true])
    }
    var isSimulatedCrash: Bool { details[Self.simulatedCrashKey]?.boolValue == true }
}

/// The durable workflow runtime: starts runs, advances them one unit of work at a time, and answers status,
/// list and history queries. Many runs share one manager; no thread is held per run (a run only uses a task
/// while a host advances or drives it). One manager per Engine.
public final class RunManager: Sendable {
    let store: RunStore
    let invoker: OperationInvoker
    let clock: RuntimeClock
    let random: RandomSource
    let logger: Logger
    let logHook: LogHook?
    let instanceID: String
    let leaseSeconds: Double
    let defaultBudget: Double
    let hooks = RuntimeTestHooks()
    private let secrets = Mutex<[String: JSONObject]>([:])
    private let docs = Mutex<[String: WorkflowDocument]>([:])
    /// Each run's state as this engine last committed it (keyed by run, tagged with the store version): a unit
    /// whose run is unchanged in the store reuses it instead of re-reading and re-parsing every step's output.
    private let runCache = Mutex<[String: LoadedRun]>([:])
    static let runCacheLimit = 2048
    private let counter = Mutex<Int>(0)
    /// Renews in-flight calls' leases (real clock only: a virtual clock's tests count one sleeper per call).
    let leaseKeeper: LeaseKeeper?
    /// Redaction.isSecretField per field name: names repeat (same operations, same workflows) and the check
    /// lowercases and allocates per call.
    private let secretFieldMemo = Mutex<[String: Bool]>([:])

    public static let runtimeKeys: Set<String> = ["lease_seconds", "synchronous", "busy_timeout_ms", "default_budget_seconds"]

    /// `config` is the Engine config: `store` (":memory:" or a file path; default ":memory:") and optional
    /// `runtime` {lease_seconds, synchronous ("full"|"normal"), busy_timeout_ms, default_budget_seconds}.
    public convenience init(config: JSON, invoker: OperationInvoker, logHook: LogHook? = nil,
                clock: RuntimeClock = SystemClock(), random: RandomSource = SystemRandom()) throws(FerryError) {
        var path = ":memory:"
        if let s = config["store"] {
            guard let p = s.stringValue, !p.isEmpty else { throw FerryError.invalidArgument("config.store", "expected \":memory:\" or a file path") }
            path = p
        }
        let rt = config["runtime"] ?? [:]
        guard case .object(let ro) = rt else { throw FerryError.invalidArgument("config.runtime", "expected an object") }
        for k in ro.keys where !Self.runtimeKeys.contains(k) {
            throw FerryError.invalidArgument("config.runtime.\(k)", "unknown field (expected one of: \(Self.runtimeKeys.sorted().joined(separator: ", ")))")
        }
        var lease = 30.0
        if let v = ro["lease_seconds"] {
            guard let d = Durations.parse(v), d >= 1 else { throw FerryError.invalidArgument("config.runtime.lease_seconds", "expected a duration of at least 1s") }
            lease = d
        }
        var budget = 60.0
        if let v = ro["default_budget_seconds"] {
            guard let d = Durations.parse(v) else { throw FerryError.invalidArgument("config.runtime.default_budget_seconds", "expected a duration") }
            budget = d
        }
        var sync = "FULL"
        if let v = ro["synchronous"] {
            guard let s = v.stringValue, ["full", "normal", "extra"].contains(s.lowercased()) else {
                throw FerryError.invalidArgument("config.runtime.synchronous", "expected \"full\", \"normal\" or \"extra\"")
            }
            sync = s.uppercased()
        }
        var busyMs: Int32 = 5000
        if let v = ro["busy_timeout_ms"] {
            guard let n = v.intValue, n >= 0, n <= 600_000 else { throw FerryError.invalidArgument("config.runtime.busy_timeout_ms", "expected 0 to 600000") }
            busyMs = Int32(n)
        }
        let store = try SQLiteRunStore(path: path, synchronous: sync, busyTimeoutMs: busyMs)
        self.init(store: store, invoker: invoker, logHook: logHook, clock: clock, random: random,
                  leaseSeconds: lease, defaultBudget: budget)
    }

    init(store: RunStore, invoker: OperationInvoker, logHook: LogHook?, clock: RuntimeClock, random: RandomSource,
         leaseSeconds: Double, defaultBudget: Double) {
        self.store = store
        self.invoker = invoker
        self.clock = clock
        self.random = random
        self.logHook = logHook
        self.logger = (logHook ?? LogHook()).logger(label: "ferry.runtime")
        self.leaseSeconds = leaseSeconds
        self.defaultBudget = defaultBudget
        self.instanceID = Self.randomHex(12)
        self.leaseKeeper = clock is SystemClock ? LeaseKeeper(store: store, clock: clock, lease: leaseSeconds) : nil
    }

    public func close() {
        leaseKeeper?.close()
        store.close()
    }

    static func randomHex(_ n: Int) -> String {
        var g = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef")
        return String((0..<n).map { _ in digits[Int(g.next() % 16)] })
    }

    func newOwner() -> String {
        let n = counter.withLock { c in c += 1; return c }
        return "\(instanceID)-\(n)"
    }

    // MARK: - Secrets

    func secretInputs(of runID: String) -> JSONObject { secrets.withLock { $0[runID] ?? [:] } }

    /// Accepts secret inputs for a run from `options.secrets` (a run resumed in a new process needs them again).
    func absorbSecrets(_ runID: String, _ options: JSON, doc: WorkflowDocument?) throws(FerryError) {
        guard let s = options["secrets"] else { return }
        guard case .object(let o) = s else { throw FerryError.invalidArgument("options.secrets", "expected an object") }
        if let doc {
            let names = Set(doc.secretInputNames)
            for k in o.keys where !names.contains(k) {
                throw FerryError(.invalidArgument, "options.secrets.\(k): not a secret input of this workflow",
                                 details: ["field": .string("options.secrets.\(k)")])
            }
        }
        registerSecrets(o)
        secrets.withLock { $0[runID, default: [:]].storage.merge(o.storage) { _, new in new } }
    }

    func registerSecrets(_ o: JSONObject) {
        for (_, v) in o { for s in Self.strings(in: v) { logHook?.addSecret(s) } }
    }

    static func strings(in v: JSON) -> [String] {
        switch v {
        case .string(let s): return [s]
        case .array(let a): return a.flatMap(strings)
        case .object(let o): return o.values.flatMap(strings)
        case .number(let n): return [JSON.number(n).serialized()].filter { $0.count >= 6 }
        default: return []
        }
    }

    /// Makes a value safe to store or return: secret-named fields masked, this run's secret values scrubbed.
    func sanitize(_ v: JSON, runID: String) -> JSON {
        let secretValues = secretInputs(of: runID).values.flatMap(Self.strings)
        return LogHookScrub.scrub(redactFields(v), secretValues)
    }

    /// `Redaction.redactFields`, without rebuilding a value that has no secret-named field (the usual case:
    /// request parameters and responses of reads); the result is the same either way.
    func redactFields(_ v: JSON) -> JSON {
        switch v {
        case .object, .array: break
        default: return v
        }
        let needed = secretFieldMemo.withLock { memo -> Bool in
            if memo.count > 4096 { memo.removeAll() }
            return Self.hasSecretField(v, &memo)
        }
        return needed ? Redaction.redactFields(v) : v
    }

    private static func hasSecretField(_ v: JSON, _ memo: inout [String: Bool]) -> Bool {
        switch v {
        case .object(let o):
            for (k, x) in o {
                if !x.isNull {
                    let secret: Bool
                    if let b = memo[k] { secret = b } else {
                        secret = Redaction.isSecretField(k)
                        memo[k] = secret
                    }
                    if secret { return true }
                }
                if hasSecretField(x, &memo) { return true }
            }
            return false
        case .array(let a):
            for x in a where hasSecretField(x, &memo) { return true }
            return false
        default:
            return false
        }
    }

    func sanitize(_ e: FerryError, runID: String) -> FerryError {
        let secretValues = secretInputs(of: runID).values.flatMap(Self.strings)
        var x = e
        x.message = Redaction.scrub(e.message, secrets: secretValues)
        x.details = LogHookScrub.scrub(Redaction.redactFields(.object(e.details)), secretValues).objectValue ?? [:]
        return x
    }

    // MARK: - Documents

    func document(for run: RunRecord) throws(FerryError) -> WorkflowDocument {
        if let d = docs.withLock({ $0[run.runID] }) { return d }
        var definition = run.definition
        if definition.isNull {
            // Units read runs without their definition (it never changes); fetch it once per engine.
            guard let d = try store.definition(of: run.runID) else { throw Self.notFound(run.runID) }
            definition = d
        }
        // Validated when the run started; operation names are not re-checked so a run pinned to an older
        // catalog still resumes.
        let d = try WorkflowParser.parse(definition, invoker: nil)
        docs.withLock { if $0.count >= 10_000 { $0.removeAll() }; $0[run.runID] = d }
        return d
    }

    /// Remembers the state a unit just committed (see `runCache`).
    func remember(_ l: LoadedRun) {
        runCache.withLock { c in
            if c.count >= Self.runCacheLimit, c[l.run.runID] == nil { c.removeAll(keepingCapacity: true) }
            c[l.run.runID] = l
        }
    }

    /// Store write statistics (transactions, items, largest group) for benchmarks.
    public func storeStats() -> JSON {
        let s = store.stats
        return ["transactions": .int(s.transactions), "items": .int(s.items), "max_batch": .int(s.maxBatch)]
    }

    static func documentJSON(_ workflow: JSON) throws(FerryError) -> JSON {
        if case .string(let text) = workflow { return try WorkflowLoader.parse(text: text) }
        return workflow
    }

    // MARK: - API

    public func validateWorkflow(_ doc: JSON) throws(FerryError) -> JSON {
        let d = try WorkflowParser.parse(try Self.documentJSON(doc), invoker: invoker)
        return [
            "valid": true, "name": .string(d.name), "format": .int(WorkflowDocument.formatVersion),
            "inputs": .array(d.inputs.map { i in
                var o: JSONObject = ["name": .string(i.name), "type": .string(i.type), "required": .bool(i.required),
                                     "secret": .bool(i.secret)]
                if let dv = i.defaultValue { o["default"] = dv }
                if let ds = i.description { o["description"] = .string(ds) }
                return .object(o)
            }),
            "steps": .array(d.steps.map { .object(["id": .string($0.id), "kind": .string($0.kind.name)]) }),
            "on_failure": .array(d.onFailure.map { .object(["id": .string($0.id), "kind": .string($0.kind.name)]) }),
        ]
    }

    public func startRun(workflow: JSON, inputs: JSON, options: JSON) async throws(FerryError) -> JSON {
        guard options.isNull || options.objectValue != nil else { throw FerryError.invalidArgument("options", "expected an object") }
        let raw = try Self.documentJSON(workflow)
        let doc = try WorkflowParser.parse(raw, invoker: invoker)
        let (plain, secret) = try doc.bindInputs(inputs)
        var runID = "run-" + Self.randomHex(20)
        if let r = options["run_id"] {
            guard let s = r.stringValue, !s.isEmpty, s.count <= 128,
                  s.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0 != "/" }) else {
                throw FerryError.invalidArgument("options.run_id", "expected 1-128 printable ASCII characters without spaces or '/'")
            }
            runID = s
        }
        let now = clock.now()
        let provided = secret.storage.filter { !$0.value.isNull }
        var rec = RunRecord(runID: runID, workflow: doc.name, definition: raw, inputs: plain,
                            secretInputs: Array(provided.keys), status: .running, createdAt: now, updatedAt: now)
        rec.phase = "main"
        registerSecrets(JSONObject(provided))
        secrets.withLock { $0[runID] = JSONObject(provided) }
        docs.withLock { $0[runID] = doc }
        let ev = RunEvent(ts: now, type: "run_created", stepID: nil, data: [
            "workflow": .string(doc.name), "inputs": sanitize(.object(plain), runID: runID),
            "secret_inputs": .array(provided.keys.map(JSON.string)),
        ])
        do { try await store.createRun(rec, events: [ev]) } catch {
            secrets.withLock { $0[runID] = nil }
            docs.withLock { $0[runID] = nil }
            throw error
        }
        logger.info("run created", metadata: ["run_id": .string(runID), "workflow": .string(doc.name)])
        if options["drive"]?.boolValue == true { return try await driveRun(runID, options: options) }
        if options["advance"]?.boolValue == true { return try await advanceRun(runID, options: options) }
        // What runStatus would read back, without reading it back: a new run has no steps and no signals.
        return statusJSON(LoadedRun(run: rec, steps: [:], signals: []), doc: doc, verbose: true)
    }

    /// One unit of work: at most one attempt or poll (plus any steps that need no side effect), then commit.
    public func advanceRun(_ runID: String, options: JSON = [:]) async throws(FerryError) -> JSON {
        // One read per unit: the run (steps from the cache when unchanged), its signals and its lease.
        let loaded = try loadForUnit(runID)
        let doc = try document(for: loaded.run)
        try absorbSecrets(runID, options, doc: doc)
        if loaded.run.status.isTerminal { return statusJSON(loaded, doc: doc) }
        return try await unit(loaded, doc: doc, cancelOnly: false)
    }

    func loadForUnit(_ runID: String) throws(FerryError) -> LoadedRun {
        let cached = runCache.withLock { $0[runID] }
        guard let l = try store.loadForUnit(runID, cached: cached) else { throw Self.notFound(runID) }
        return l
    }

    /// Runs one unit on a run read without a lock. Nothing is locked up front: the unit's first commit applies
    /// only on the version it read (and, when the unit is about to make a side effect, takes the lease in the
    /// same transaction), so a concurrent advance of the same run makes one of them fail with `busy`.
    func unit(_ loaded: LoadedRun, doc: WorkflowDocument, cancelOnly: Bool) async throws(FerryError) -> JSON {
        let runID = loaded.run.runID
        let now = clock.now()
        if loaded.leaseOwner != nil, let until = loaded.leaseUntil, until > now {
            throw FerryError(.busy, "run \(runID) is being advanced by another caller (lease held until \(Durations.format(until)))",
                             details: ["run_id": .string(runID), "lease_until": .double(until)])
        }
        let owner = newOwner()
        let ex = Execution(manager: self, loaded: loaded, doc: doc, owner: owner)
        do {
            // Recording a cancellation needs no inputs; doing work does.
            if !cancelOnly { try ex.checkSecrets() }
            try await ex.runUnit(cancelOnly: cancelOnly)
        } catch {
            if error.isSimulatedCrash { throw error }
            runCache.withLock { $0[runID] = nil }
            if ex.leaseHeld { try? await store.releaseLease(runID, owner: owner) }
            throw error
        }
        if ex.run.status.isTerminal { forget(runID) }
        return statusJSON(LoadedRun(run: ex.run, steps: ex.steps, signals: ex.signals), doc: doc)
    }

    /// Drops what this engine holds in memory for an ended run (its secret inputs, its compiled definition).
    func forget(_ runID: String) {
        secrets.withLock { $0[runID] = nil }
        docs.withLock { $0[runID] = nil }
        runCache.withLock { $0[runID] = nil }
    }

    /// Advances until the run succeeds, fails, waits on a gate, needs attention, or the budget
    /// (`options.budget_seconds`, default from config) would be overrun by the next wake-up.
    public func driveRun(_ runID: String, options: JSON = [:]) async throws(FerryError) -> JSON {
        var budget = defaultBudget
        if let b = options["budget_seconds"] {
            guard let d = Durations.parse(b) else { throw FerryError.invalidArgument("options.budget_seconds", "expected a non-negative duration") }
            budget = d
        }
        let maxUnits = options["max_units"]?.intValue ?? Int.max
        let end = clock.now() + budget
        var units = 0
        var last: JSON = .null
        while true {
            last = try await advanceRun(runID, options: units == 0 ? options : [:])
            units += 1
            let status = last["status"]?.stringValue.flatMap(RunStatus.init(rawValue:)) ?? .failed
            if status != .running && status != .waiting { break }
            if units >= maxUnits || Task.isCancelled { break }
            if status == .waiting {
                let wake = last["next_wake_at"]?.doubleValue ?? clock.now()
                if wake > end { break }
                do { try await clock.sleep(until: wake) } catch { break }
            } else if clock.now() > end { break }
        }
        last["units"] = .int(units)
        return last
    }

    public func runStatus(_ runID: String) throws(FerryError) -> JSON {
        guard let l = try store.load(runID) else { throw Self.notFound(runID) }
        return statusJSON(l, doc: try? document(for: l.run), verbose: true)
    }

    public func listRuns(_ filter: JSON) throws(FerryError) -> JSON {
        var f = RunListFilter()
        if !filter.isNull {
            guard case .object(let o) = filter else { throw FerryError.invalidArgument("filter", "expected an object") }
            for k in o.keys where !["status", "workflow", "limit", "due"].contains(k) {
                throw FerryError.invalidArgument("filter.\(k)", "unknown field (expected status, workflow, limit, due)")
            }
            if let s = o["status"] {
                let names = s.stringValue.map { [$0] } ?? s.arrayValue?.compactMap(\.stringValue) ?? []
                for n in names {
                    guard let st = RunStatus(rawValue: n) else {
                        throw FerryError.invalidArgument("filter.status", "unknown status '\(n)' (expected one of: \(RunStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    f.statuses.append(st)
                }
            }
            if let w = o["workflow"] { f.workflow = w.stringValue }
            if let l = o["limit"] {
                guard let n = l.intValue, n >= 1 else { throw FerryError.invalidArgument("filter.limit", "expected a positive integer") }
                f.limit = n
            }
            if o["due"]?.boolValue == true { f.dueBefore = clock.now() }
        }
        let rows = try store.list(f)
        return ["runs": .array(rows.map { r in
            var o: JSONObject = ["run_id": .string(r.runID), "workflow": .string(r.workflow), "status": .string(r.status.rawValue),
                                 "created_at": .double(r.createdAt), "updated_at": .double(r.updatedAt)]
            o["next_wake_at"] = r.wakeAt.map(JSON.double) ?? .null
            return .object(o)
        }), "count": .int(rows.count)]
    }

    public func runHistory(_ runID: String, options: JSON = [:]) throws(FerryError) -> JSON {
        guard try store.load(runID) != nil else { throw Self.notFound(runID) }
        let after = Int64(options["after_seq"]?.intValue ?? 0)
        let limit = options["limit"]?.intValue ?? 10_000
        let evs = try store.events(runID, afterSeq: after, limit: limit)
        return ["run_id": .string(runID), "events": .array(evs.map(\.json)), "last_seq": .int(evs.last?.seq ?? after)]
    }

    public func cancelRun(_ runID: String, reason: String?) async throws(FerryError) -> JSON {
        guard let l = try store.load(runID) else { throw Self.notFound(runID) }
        let doc = try document(for: l.run)
        if l.run.status.isTerminal {
            throw FerryError(.conflict, "run \(runID) already ended (\(l.run.status.rawValue))",
                             details: ["run_id": .string(runID), "status": .string(l.run.status.rawValue)])
        }
        _ = try store.addSignal(runID, name: "ferry.cancel", payload: ["reason": reason.map(JSON.string) ?? .null], now: clock.now())
        // Apply it now if nobody else is advancing the run; otherwise the current holder applies it next unit.
        do { return try await unit(try loadForUnit(runID), doc: doc, cancelOnly: true) } catch {
            if error.code == .busy || error.code == .missingInput {
                var s = try runStatus(runID)
                s["cancel_requested"] = true
                return s
            }
            throw error
        }
    }

    public func signalRun(_ runID: String, name: String, payload: JSON) throws(FerryError) -> JSON {
        guard let l = try store.load(runID) else { throw Self.notFound(runID) }
        guard !name.isEmpty, name.count <= 200 else { throw FerryError.invalidArgument("name", "expected a signal name") }
        if l.run.status.isTerminal {
            throw FerryError(.conflict, "run \(runID) already ended (\(l.run.status.rawValue))",
                             details: ["run_id": .string(runID), "status": .string(l.run.status.rawValue)])
        }
        if name == "ferry.resolve" {
            guard l.run.status == .needsAttention else {
                throw FerryError(.invalidArgument, "run \(runID) does not need attention (status \(l.run.status.rawValue))")
            }
            guard let a = payload["action"]?.stringValue, ["retry", "succeed", "fail"].contains(a) else {
                throw FerryError.invalidArgument("payload.action", "expected \"retry\" (resend), \"succeed\" (with optional output) or \"fail\"")
            }
        } else if name.hasPrefix("ferry.") {
            throw FerryError.invalidArgument("name", "signal names starting with 'ferry.' are reserved (use cancel for ferry.cancel)")
        }
        _ = try store.addSignal(runID, name: name, payload: sanitize(payload, runID: runID), now: clock.now())
        logger.info("signal received", metadata: ["run_id": .string(runID), "signal": .string(name)])
        var s = try runStatus(runID)
        s["signal_accepted"] = .string(name)
        return s
    }

    static func notFound(_ runID: String) -> FerryError {
        FerryError(.notFound, "run \(runID) not found", details: ["run_id": .string(runID)])
    }

    // MARK: - Status

    func statusJSON(_ l: LoadedRun, doc: WorkflowDocument?, verbose: Bool = false) -> JSON {
        let r = l.run
        var o: JSONObject = [
            "run_id": .string(r.runID), "workflow": .string(r.workflow), "status": .string(r.status.rawValue),
            "phase": .string(r.phase), "created_at": .double(r.createdAt), "updated_at": .double(r.updatedAt),
        ]
        var current: StepSpec?
        if let doc {
            if r.phase == "main", r.cursor < doc.steps.count { current = doc.steps[r.cursor] }
            if r.phase == "compensation", r.compCursor < doc.onFailure.count { current = doc.onFailure[r.compCursor] }
        }
        o["current_step"] = current.map { .string($0.id) } ?? .null
        o["next_wake_at"] = r.wakeAt.map(JSON.double) ?? .null
        if let w = r.wakeAt { o["next_wake_at_iso"] = .string(Durations.format(w)) }
        if r.status == .waitingGate, let c = current, case .gate(let name) = c.kind { o["waiting_on"] = ["gate": .string(name)] }
        if let e = r.error { o["error"] = e }
        if let a = r.attention { o["attention"] = a }
        if let out = r.outputs { o["outputs"] = out }
        if !r.compensationErrors.isEmpty { o["compensation_errors"] = .array(r.compensationErrors) }
        if let c = r.cancelReason { o["cancel_reason"] = .string(c) }
        if l.signals.contains(where: { $0.name == "ferry.cancel" }) { o["cancel_requested"] = true }
        let pending = l.signals.filter { !$0.name.hasPrefix("ferry.") }.map { JSON.string($0.name) }
        if !pending.isEmpty { o["pending_signals"] = .array(pending) }
        var steps = JSONObject()
        let order = (doc?.steps ?? []) + (doc?.onFailure ?? [])
        for spec in order {
            guard let s = l.steps[spec.id] else { continue }
            var so: JSONObject = ["status": .string(s.status.rawValue), "attempts": .int(s.attempts)]
            if let e = s.error { so["error"] = e }
            if verbose, let out = s.output { so["output"] = out }
            steps[spec.id] = .object(so)
        }
        o["steps"] = .object(steps)
        return .object(o)
    }
}

/// Recursive string scrubbing of JSON values (secret values replaced by the mask).
enum LogHookScrub {
    static func scrub(_ v: JSON, _ secrets: [String]) -> JSON {
        guard !secrets.isEmpty else { return v }
        switch v {
        case .string(let s): return .string(Redaction.scrub(s, secrets: secrets))
        case .array(let a): return .array(a.map { scrub($0, secrets) })
        case .object(let o):
            var r = JSONObject()
            for (k, x) in o { r[k] = scrub(x, secrets) }
            return .object(r)
        default: return v
        }
    }
}
