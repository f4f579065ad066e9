import FerryCore
import FerryJSON
import Logging

/// One leased pass over a run: performs at most one side effect (an attempt, a poll, or a reconciliation
/// lookup), moving through steps that need none, and commits every change. The attempt is committed before the
/// side effect and its outcome after, so a crash between the two is visible on resume (`in_flight`).
final class Execution {
    let m: RunManager
    let doc: WorkflowDocument
    let owner: String
    var run: RunRecord
    var steps: [String: StepRecord]
    var signals: [SignalRecord]
    /// The store version the in-memory state is based on, and the last event seq used.
    private var version: Int64
    private var lastSeq: Int64
    /// This unit holds the run's lease (taken by the commit before a side effect, given up by the last one).
    private(set) var leaseHeld = false
    /// The run as last read or committed, to skip a commit that would change nothing (its fingerprint is only
    /// computed when nothing else changed, which is rare: serializing the state on every unit is not free).
    private var committedRun: RunRecord
    private var dirty: Set<String> = []
    private var events: [RunEvent] = []
    private var consumed: [Int64] = []
    private var acted = false
    private var settledForCancel = false
    /// Reconciling only (for a cancel): never re-send, whatever the lookup finds.
    private var settleOnly = false
    private let secrets: JSONObject

    enum Next { case proceed, stop }

    init(manager: RunManager, loaded: LoadedRun, doc: WorkflowDocument, owner: String) {
        m = manager
        self.doc = doc
        self.owner = owner
        run = loaded.run
        steps = loaded.steps
        signals = loaded.signals
        version = loaded.version
        lastSeq = loaded.lastSeq
        secrets = manager.secretInputs(of: loaded.run.runID)
        committedRun = loaded.run
    }

    static func rowFingerprint(_ r: RunRecord, state: String? = nil) -> String {
        "\(r.status.rawValue)|\(r.wakeAt.map { "\($0)" } ?? "-")|\(state ?? r.stateJSON.serialized())"
    }

    var now: Double { m.clock.now() }

    /// A run resumed in a new process needs its secret inputs again; it stops clearly without them.
    func checkSecrets() throws(FerryError) {
        guard !run.status.isTerminal else { return }
        let missing = run.secretInputs.filter { secrets[$0] == nil }
        if !missing.isEmpty {
            throw FerryError(.missingInput, "run \(run.runID): secret input(s) \(missing.map { "inputs.\($0)" }.joined(separator: ", ")) are not stored and must be provided again (options.secrets)",
                             details: ["run_id": .string(run.runID), "inputs": .array(missing.map(JSON.string))])
        }
    }

    // MARK: - Bookkeeping

    func emit(_ type: String, _ step: String? = nil, _ data: JSONObject = [:]) {
        events.append(RunEvent(ts: now, type: type, stepID: step, data: .object(data)))
    }

    func step(_ id: String) -> StepRecord { steps[id] ?? StepRecord(stepID: id) }

    func put(_ s: StepRecord) {
        steps[s.stepID] = s
        dirty.insert(s.stepID)
    }

    /// How long a commit waits, beyond SQLite's own busy timeout, for another process to release the write lock.
    static let lockWaitSeconds = 120.0

    /// A commit refused because another process holds SQLite's write lock wrote nothing, so it is retried: giving
    /// up after a provider call would turn a known outcome into an unknown one (and a retry or a reconciliation).
    /// A version conflict (another engine changed the run) carries no `sqlite_code` and is not retried.
    private func commitWaitingForLock(_ req: CommitRequest) async throws(FerryError) -> Int64 {
        let deadline = WallClock.monotonic() + Self.lockWaitSeconds
        var pauseNs: UInt64 = 20_000_000
        while true {
            do throws(FerryError) {
                return try await m.store.commit(req)
            } catch where error.code == .busy && error.details["sqlite_code"] != nil && WallClock.monotonic() < deadline
                && !Task.isCancelled {
                try? await Task.sleep(nanoseconds: pauseNs)
                pauseNs = min(pauseNs * 2, 1_000_000_000)
            }
        }
    }

    /// Commits the unit's changes. `release: false` holds the lease until `leaseUntil` (taking it if this unit
    /// does not hold it yet: that is the commit recording an attempt, before the side effect); `release: true`
    /// leaves the run unleased. A unit that changed nothing and holds no lease writes nothing.
    func flush(release: Bool, leaseUntil: Double? = nil) async throws(FerryError) {
        let hold: Double? = release ? nil : (leaseUntil ?? now + m.leaseSeconds)
        let stateText = run.stateJSON.serialized()
        if hold == nil, !leaseHeld, dirty.isEmpty, events.isEmpty, consumed.isEmpty,
           Self.rowFingerprint(run, state: stateText) == Self.rowFingerprint(committedRun) { return }
        run.updatedAt = now
        var evs = events
        var seq = lastSeq
        for i in evs.indices { seq += 1; evs[i].seq = seq }
        let req = CommitRequest(run: run, steps: dirty.compactMap { steps[$0] }, events: evs, consumedSignals: consumed,
                                owner: owner, expectedVersion: version, now: now, holdLeaseUntil: hold, stateText: stateText)
        version = try await commitWaitingForLock(req)
        lastSeq = seq
        leaseHeld = hold != nil
        committedRun = run
        dirty = []
        events = []
        consumed = []
        if !run.status.isTerminal {
            m.remember(LoadedRun(run: run, steps: steps, signals: [], version: version, lastSeq: lastSeq))
        }
    }

    func consume(_ sig: SignalRecord) {
        consumed.append(sig.seq)
        signals.removeAll { $0.seq == sig.seq }
    }

    func sanitize(_ v: JSON) -> JSON { m.sanitize(v, runID: run.runID) }
    func sanitize(_ e: FerryError) -> FerryError { m.sanitize(e, runID: run.runID) }

    /// The data templates and conditions see: inputs (with secrets), steps, vars, run (and a poll's output).
    func context(output: JSON? = nil) -> JSON {
        var inputs = run.inputs
        for (k, v) in secrets { inputs[k] = v }
        for spec in doc.inputs where inputs[spec.name] == nil { inputs[spec.name] = .null }
        var st = JSONObject()
        for (id, s) in steps {
            var o: JSONObject = ["status": .string(s.status.rawValue), "attempts": .int(s.attempts)]
            o["output"] = s.output ?? .null
            if let e = s.error { o["error"] = e }
            st[id] = .object(o)
        }
        var r: JSONObject = ["id": .string(run.runID), "workflow": .string(run.workflow), "status": .string(run.status.rawValue),
                             "phase": .string(run.phase), "created_at": .double(run.createdAt), "now": .double(now)]
        if let e = run.error { r["error"] = e }
        if let c = run.cancelReason { r["cancel_reason"] = .string(c) }
        var c: JSONObject = ["inputs": .object(inputs), "steps": .object(st), "vars": .object(run.vars), "run": .object(r)]
        if let output { c["output"] = output }
        return .object(c)
    }

    var currentSpec: StepSpec? {
        switch run.phase {
        case "main": return run.cursor < doc.steps.count ? doc.steps[run.cursor] : nil
        case "compensation": return run.compCursor < doc.onFailure.count ? doc.onFailure[run.compCursor] : nil
        default: return nil
        }
    }

    // MARK: - Main loop

    func runUnit(cancelOnly: Bool) async throws(FerryError) {
        var guardCount = 0
        while guardCount < 100_000 {
            guardCount += 1
            if let c = signals.first(where: { $0.name == "ferry.cancel" }) {
                // A create whose outcome is unknown is looked up first, so the compensation steps see what it
                // made (`steps.<id>.output`); the lookup never re-sends it.
                if !settledForCancel, run.phase == "main", !run.status.isTerminal, let spec = currentSpec,
                   case .call(let op, _) = spec.kind, var st = steps[spec.id], let attempt = st.inFlight,
                   m.invoker.idempotency(of: op) != .read, m.invoker.idempotency(of: op) != .idempotentWrite || st.verify,
                   m.invoker.reconciliation(for: op) != nil, !acted {
                    settledForCancel = true
                    settleOnly = true
                    _ = try await recover(spec, &st, attempt: attempt)
                    settleOnly = false
                    run.attention = nil
                    continue
                }
                consume(c)
                applyCancel(reason: c.payload["reason"]?.stringValue)
                continue
            }
            if cancelOnly || run.status.isTerminal { break }
            if run.status == .needsAttention {
                guard let r = signals.first(where: { $0.name == "ferry.resolve" }) else { break }
                consume(r)
                resolveAttention(r.payload)
                continue
            }
            guard let spec = currentSpec else {
                finishPhase()
                continue
            }
            if try await stepUnit(spec) == .stop { break }
        }
        try await flush(release: true)
    }

    func advanceCursor() {
        if run.phase == "main" { run.cursor += 1 } else { run.compCursor += 1 }
        run.status = .running
        run.wakeAt = nil
    }

    func finishPhase() {
        switch run.phase {
        case "main":
            if let outs = doc.outputs {
                do { run.outputs = sanitize(try outs.resolve(context(), location: "outputs")) } catch {
                    failRun(sanitize(error), step: nil)
                    return
                }
            }
            run.phase = "done"
            run.status = .succeeded
            run.wakeAt = nil
            emit("run_succeeded")
            m.logger.info("run succeeded", metadata: ["run_id": .string(run.runID)])
        case "compensation":
            run.phase = "done"
            run.status = run.finalStatus ?? .failed
            run.wakeAt = nil
            emit(run.status == .cancelled ? "run_cancelled" : "run_failed", nil, ["compensated": true])
            m.logger.info("run ended", metadata: ["run_id": .string(run.runID), "status": .string(run.status.rawValue)])
        default:
            run.status = run.finalStatus ?? .failed
        }
    }

    func failRun(_ e: FerryError, step: String?) {
        var err = e.json
        if let step { err["step"] = .string(step) }
        run.error = err
        run.finalStatus = .failed
        m.logger.warning("run failing", metadata: ["run_id": .string(run.runID), "code": .string(e.code.name), "step": .string(step ?? "")])
        enterCompensationOrEnd()
    }

    func enterCompensationOrEnd() {
        run.wakeAt = nil
        if run.phase == "main", !doc.onFailure.isEmpty {
            run.phase = "compensation"
            run.compCursor = 0
            run.status = .running
            emit("compensation_started", nil, ["reason": .string(run.finalStatus?.rawValue ?? "failed")])
        } else {
            run.phase = "done"
            run.status = run.finalStatus ?? .failed
            emit(run.status == .cancelled ? "run_cancelled" : "run_failed", nil, ["error": run.error ?? .null])
        }
    }

    func applyCancel(reason: String?) {
        emit("cancel_requested", nil, ["reason": reason.map(JSON.string) ?? .null])
        guard !run.status.isTerminal else { return }
        if run.phase == "compensation" {
            // Compensation already runs; let it finish, but the run ends as cancelled.
            run.finalStatus = .cancelled
            run.cancelReason = reason
            return
        }
        // Abandon the current step (an attempt in flight has an unknown outcome; compensation sees it).
        if let spec = currentSpec {
            var st = step(spec.id)
            if !st.status.isDone && st.status != .pending {
                st.status = .failed
                st.error = FerryError(.cancelled, "step cancelled").json
                st.finishedAt = now
                st.nextAt = nil
                put(st)
            }
        }
        run.cancelReason = reason
        run.error = FerryError(.cancelled, "run cancelled" + (reason.map { ": \($0)" } ?? "")).json
        run.finalStatus = .cancelled
        run.attention = nil
        enterCompensationOrEnd()
    }

    func resolveAttention(_ payload: JSON) {
        guard let spec = currentSpec else { return }
        var st = step(spec.id)
        let action = payload["action"]?.stringValue ?? ""
        emit("attention_resolved", spec.id, ["action": .string(action)])
        run.attention = nil
        run.status = .running
        switch action {
        case "retry":
            st.inFlight = nil
            st.verify = false
            st.uncertain = false
            st.status = .running
            st.nextAt = nil
            put(st)
        case "succeed":
            succeed(spec, &st, output: payload["output"] ?? .null)
        default:
            failStep(spec, &st, FerryError(.needsAttention, "\(spec.location): resolved as failed by an operator"))
        }
    }

    // MARK: - Steps

    func succeed(_ spec: StepSpec, _ st: inout StepRecord, output: JSON) {
        st.status = .succeeded
        st.output = output
        st.finishedAt = now
        st.nextAt = nil
        st.error = nil
        put(st)
        emit("step_succeeded", spec.id)
        advanceCursor()
    }

    func failStep(_ spec: StepSpec, _ st: inout StepRecord, _ e: FerryError) {
        let e = sanitize(e)
        st.status = .failed
        st.error = e.json
        st.finishedAt = now
        st.nextAt = nil
        put(st)
        emit("step_failed", spec.id, ["error": e.json])
        if run.phase == "compensation" {
            run.compensationErrors.append(["step": .string(spec.id), "error": e.json])
            advanceCursor()
        } else {
            failRun(e, step: spec.id)
        }
    }

    func stepUnit(_ spec: StepSpec) async throws(FerryError) -> Next {
        var st = step(spec.id)
        if st.status == .pending {
            if let c = spec.condition {
                let v: JSON
                do { v = try c.evaluate(context(), location: "\(spec.location).if") } catch {
                    failStep(spec, &st, error)
                    return .proceed
                }
                if !v.isTruthy {
                    st.status = .skipped
                    st.finishedAt = now
                    put(st)
                    emit("step_skipped", spec.id)
                    advanceCursor()
                    return .proceed
                }
            }
            st.status = .running
            st.startedAt = now
            st.deadline = spec.stepTimeout.map { now + $0 }
            put(st)
            emit("step_started", spec.id, ["kind": .string(spec.kind.name)])
        }
        switch spec.kind {
        case .set(let pairs):
            var values = JSONObject()
            for (k, t) in pairs {
                do { values[k] = sanitize(try t.resolve(context(), location: "\(spec.location).set.\(k)")) } catch {
                    failStep(spec, &st, error)
                    return .proceed
                }
            }
            for (k, v) in values { run.vars[k] = v }
            succeed(spec, &st, output: .object(values))
            return .proceed

        case .assert(let cond, let message):
            let v: JSON
            do { v = try cond.evaluate(context(), location: "\(spec.location).assert") } catch {
                failStep(spec, &st, error)
                return .proceed
            }
            if v.isTruthy {
                succeed(spec, &st, output: true)
            } else {
                var text = "assertion failed: \(cond.source)"
                if let message, let m = try? message.resolve(context(), location: "\(spec.location).message") {
                    text = m.stringValue ?? m.serialized()
                }
                failStep(spec, &st, FerryError(.runFailed, "\(spec.location) (\(spec.id)): \(text)",
                                               details: ["step": .string(spec.id), "assertion": .string(cond.source)]))
            }
            return .proceed

        case .waitFor, .waitUntil:
            if st.nextAt == nil {
                var wake: Double
                if case .waitFor(let d) = spec.kind { wake = now + d } else if case .waitUntil(let t) = spec.kind {
                    let v: JSON
                    do { v = try t.resolve(context(), location: "\(spec.location).wait.until") } catch {
                        failStep(spec, &st, error)
                        return .proceed
                    }
                    guard let w = Durations.parseTime(v) else {
                        failStep(spec, &st, FerryError(.invalidArgument, "\(spec.location).wait.until: expected an RFC 3339 time or unix seconds, got \(v.typeName)"))
                        return .proceed
                    }
                    wake = w
                } else { wake = now }
                st.nextAt = wake
                st.status = .waiting
                put(st)
                emit("timer_set", spec.id, ["wake_at": .double(wake)])
            }
            let wake = st.nextAt ?? now
            if now >= wake {
                succeed(spec, &st, output: ["waited_until": .double(wake)])
                return .proceed
            }
            run.status = .waiting
            run.wakeAt = wake
            return .stop

        case .gate(let name):
            if let sig = signals.first(where: { $0.name == name }) {
                consume(sig)
                emit("signal_consumed", spec.id, ["signal": .string(name)])
                succeed(spec, &st, output: sig.payload)
                return .proceed
            }
            if let d = st.deadline, now >= d {
                failStep(spec, &st, FerryError(.timeout, "\(spec.location): gate '\(name)' timed out waiting for its signal",
                                               details: ["step": .string(spec.id), "signal": .string(name)]))
                return .proceed
            }
            if st.status != .waiting {
                st.status = .waiting
                put(st)
                emit("gate_waiting", spec.id, ["signal": .string(name)])
            }
            run.status = .waitingGate
            run.wakeAt = st.deadline
            return .stop

        case .call, .poll:
            if let next = st.nextAt, next > now {
                run.status = .waiting
                run.wakeAt = next
                return .stop
            }
            if acted {
                run.status = .running
                run.wakeAt = nil
                return .stop
            }
            // An attempt with an unknown outcome is settled first, even past the step's deadline: failing the
            // step now could hide a resource the attempt made from the compensation steps.
            if let attempt = st.inFlight { return try await recover(spec, &st, attempt: attempt) }
            if stepDeadlinePassed(spec, &st) { return .proceed }
            return try await attempt(spec, &st)
        }
    }

    /// Fails the step with `timeout` when its deadline has passed (true), else false.
    func stepDeadlinePassed(_ spec: StepSpec, _ st: inout StepRecord) -> Bool {
        guard let d = st.deadline, now >= d else { return false }
        failStep(spec, &st, FerryError(.timeout, "\(spec.location): step timed out after \(Self.fmt(spec.stepTimeout ?? 0))",
                                       details: ["step": .string(spec.id), "timeout": "step"]))
        return true
    }

    static func fmt(_ d: Double) -> String {
        d == d.rounded() ? "\(Int(d))s" : "\(d)s"
    }

    func params(_ spec: StepSpec) throws(FerryError) -> JSON {
        try (spec.kind.params ?? .literal([:])).resolve(context(), location: "\(spec.location).with")
    }

    func attemptTimeout(_ spec: StepSpec, _ st: StepRecord) -> Double? {
        var t = spec.attemptTimeout
        if let d = st.deadline { t = min(t ?? .infinity, max(0, d - now)) }
        return t
    }

    func attempt(_ spec: StepSpec, _ st: inout StepRecord) async throws(FerryError) -> Next {
        let op = spec.kind.operation ?? ""
        let p: JSON
        do { p = try params(spec) } catch {
            failStep(spec, &st, error)
            return .proceed
        }
        st.attempts += 1
        let attemptNo = st.attempts
        st.inFlight = attemptNo
        st.nextAt = nil
        st.status = .running
        put(st)
        emit("attempt_started", spec.id, ["attempt": .int(attemptNo), "operation": .string(op), "params": sanitize(p)])
        run.status = .running
        run.wakeAt = nil
        let timeout = attemptTimeout(spec, st)
        // Durable BEFORE the side effect: a crash from here on leaves `in_flight` set for recovery.
        try await flush(release: false, leaseUntil: now + m.leaseSeconds)
        if m.hooks.shouldCrash(.beforeInvoke, step: spec.id, attempt: attemptNo) { throw .simulatedCrash(.beforeInvoke) }
        acted = true
        let result = await invoke(op, p, timeout: timeout)
        if m.hooks.shouldCrash(.afterInvoke, step: spec.id, attempt: attemptNo) { throw .simulatedCrash(.afterInvoke) }
        st = step(spec.id)
        switch result {
        case .success(let body):
            st.inFlight = nil
            st.failures = 0
            let out = sanitize(body)
            emit("attempt_succeeded", spec.id, ["attempt": .int(attemptNo)])
            if case .poll = spec.kind { return pollResult(spec, &st, out) }
            succeed(spec, &st, output: out)
            return .proceed
        case .failure(let raw):
            let e = sanitize(raw)
            if e.code == .notFound, attemptNo > 1, m.invoker.notFoundMeansDone(op) {
                // A delete repeated after an attempt that may have worked: gone is what we wanted.
                st.inFlight = nil
                emit("attempt_succeeded", spec.id, ["attempt": .int(attemptNo), "not_found_means_done": true])
                succeed(spec, &st, output: ["not_found_after_retry": true])
                return .proceed
            }
            // A non-idempotent write whose outcome is unknown (timed out, connection lost) stays in flight:
            // before any resend it is reconciled, never blindly re-sent.
            let idem = m.invoker.idempotency(of: op) ?? .nonIdempotentWrite
            let ambiguous = (e.code == .timeout || e.code == .unavailable || e.details["ambiguous"]?.boolValue == true)
                && e.details["sent"]?.boolValue != false
            if case .call = spec.kind, idem == .nonIdempotentWrite, ambiguous { st.inFlight = attemptNo } else { st.inFlight = nil }
            if case .call = spec.kind, idem == .idempotentWrite, ambiguous { st.uncertain = true }
            let retrying = spec.retry.applies(to: e) && st.failures + 1 < spec.retry.maxAttempts
            if case .call = spec.kind, idem == .idempotentWrite, st.uncertain, !ambiguous, !retrying {
                // This error may only mean an earlier attempt already did the job ("already stopped"):
                // verify before failing the step (and running compensation on a false failure).
                st.failures += 1
                emit("attempt_failed", spec.id, ["attempt": .int(attemptNo), "error": e.json, "verify": true])
                if m.invoker.reconciliation(for: op) == nil {
                    st.inFlight = attemptNo
                    return attention(spec, &st, reason: "attempt \(attemptNo) of idempotent '\(op)' failed (\(e.code.name)) after an earlier attempt whose outcome is unknown; that attempt may have taken effect",
                                     evidence: ["error": e.json])
                }
                st.inFlight = attemptNo
                st.verify = true
                st.status = .running
                put(st)
                run.status = .running
                run.wakeAt = nil
                return .stop
            }
            return retryOrFail(spec, &st, e, attempt: attemptNo)
        }
    }

    func retryOrFail(_ spec: StepSpec, _ st: inout StepRecord, _ e: FerryError, attempt: Int) -> Next {
        st.failures += 1
        if spec.retry.applies(to: e), st.failures < spec.retry.maxAttempts {
            var delay = spec.retry.delay(afterFailures: st.failures, random: m.random.unit())
            if st.inFlight != nil, let d = st.deadline, now + delay >= d {
                // No time left for a retry, but the outcome is unknown: settle it (reconcile) at once instead.
                delay = 0
            }
            let next = now + delay
            if st.inFlight == nil, let d = st.deadline, next >= d {
                emit("attempt_failed", spec.id, ["attempt": .int(attempt), "error": e.json, "final": true])
                failStep(spec, &st, FerryError(.timeout, "\(spec.location): step timed out after \(Self.fmt(spec.stepTimeout ?? 0)); last error: \(e.code.name): \(e.message)",
                                               details: ["step": .string(spec.id), "timeout": "step", "last_error": e.json]))
                return .proceed
            }
            st.nextAt = next
            st.status = .waiting
            put(st)
            emit("attempt_failed", spec.id, ["attempt": .int(attempt), "error": e.json, "retry_at": .double(next),
                                             "delay": .double(delay), "outcome_unknown": .bool(st.inFlight != nil)])
            run.status = .waiting
            run.wakeAt = next
            return .stop
        }
        emit("attempt_failed", spec.id, ["attempt": .int(attempt), "error": e.json, "final": true])
        if st.inFlight != nil {
            // Out of retries with an unknown outcome: an operator must look.
            return attention(spec, &st, reason: "the last attempt's outcome is unknown (\(e.code.name)) and no retries are left",
                             evidence: ["error": e.json])
        }
        failStep(spec, &st, e)
        return .proceed
    }

    func pollResult(_ spec: StepSpec, _ st: inout StepRecord, _ out: JSON) -> Next {
        guard case .poll(_, _, let interval, let backoff, let maxInterval, let until, let failIf) = spec.kind else { return .proceed }
        st.polls += 1
        st.output = out
        let ctx = context(output: out)
        if let failIf {
            do {
                if try failIf.evaluate(ctx, location: "\(spec.location).fail_if").isTruthy {
                    failStep(spec, &st, FerryError(.runFailed, "\(spec.location) (\(spec.id)): fail_if held: \(failIf.source)",
                                                   details: ["step": .string(spec.id), "fail_if": .string(failIf.source)]))
                    return .proceed
                }
            } catch {
                failStep(spec, &st, error)
                return .proceed
            }
        }
        do {
            if try until.evaluate(ctx, location: "\(spec.location).until").isTruthy {
                emit("poll_done", spec.id, ["polls": .int(st.polls)])
                succeed(spec, &st, output: out)
                return .proceed
            }
        } catch {
            failStep(spec, &st, error)
            return .proceed
        }
        var delay = interval * pow(backoff, Double(st.polls - 1))
        if let mx = maxInterval { delay = min(delay, mx) }
        var next = now + delay
        if let d = st.deadline { next = min(next, d) }
        st.nextAt = next
        st.status = .waiting
        put(st)
        emit("poll_pending", spec.id, ["poll": .int(st.polls), "next_at": .double(next)])
        run.status = .waiting
        run.wakeAt = next
        return .stop
    }

    func attention(_ spec: StepSpec, _ st: inout StepRecord, reason: String, evidence: JSONObject) -> Next {
        st.status = .needsAttention
        put(st)
        var a: JSONObject = ["step": .string(spec.id), "location": .string(spec.location),
                             "operation": .string(spec.kind.operation ?? ""), "attempt": .int(st.inFlight ?? st.attempts),
                             "reason": .string(reason)]
        a["evidence"] = sanitize(.object(evidence))
        a["resolve"] = "signal 'ferry.resolve' with {\"action\": \"retry\" | \"succeed\" (optional \"output\") | \"fail\"}"
        run.attention = .object(a)
        run.status = .needsAttention
        run.wakeAt = nil
        emit("needs_attention", spec.id, a)
        m.logger.warning("run needs attention", metadata: ["run_id": .string(run.runID), "step": .string(spec.id), "reason": .string(reason)])
        return .stop
    }

    /// A step whose attempt was recorded but whose outcome was not (crash, or an ambiguous failure of a create).
    func recover(_ spec: StepSpec, _ st: inout StepRecord, attempt: Int) async throws(FerryError) -> Next {
        let op = spec.kind.operation ?? ""
        let idem = m.invoker.idempotency(of: op)
        var isPoll = false
        if case .poll = spec.kind { isPoll = true }
        if isPoll || idem == .read || (idem == .idempotentWrite && !st.verify) {
            st.inFlight = nil
            if idem == .idempotentWrite { st.uncertain = true }
            put(st)
            emit("attempt_recovered", spec.id, ["attempt": .int(attempt), "action": "resend",
                                                 "idempotency": .string(idem?.rawValue ?? "read")])
            if stepDeadlinePassed(spec, &st) { return .proceed }
            return try await self.attempt(spec, &st)
        }
        guard let hint = m.invoker.reconciliation(for: op) else {
            return attention(spec, &st, reason: idem == nil
                             ? "attempt \(attempt) of unknown operation '\(op)' may or may not have taken effect"
                             : "attempt \(attempt) of non-idempotent '\(op)' may have taken effect and the operation has no reconciliation hint",
                             evidence: ["attempt": .int(attempt)])
        }
        let p: JSON
        do { p = try params(spec) } catch {
            return attention(spec, &st, reason: "cannot rebuild the request to reconcile it", evidence: ["error": error.json])
        }
        // What identifies the affected resource: the original call's values of the match params.
        var wanted: [(field: String, value: JSON)] = []
        for (field, param) in hint.match {
            guard let v = try? Expr(param).evaluate(p, location: "reconciliation.match"), !v.isNull else {
                return attention(spec, &st, reason: "the request carries no '\(param)' to look for what attempt \(attempt) may have done",
                                 evidence: ["attempt": .int(attempt)])
            }
            wanted.append((field, v))
        }
        var listParams = JSONObject()
        for (k, src) in hint.listParams {
            switch src {
            case .value(let v): listParams[k] = v
            case .param(let n): if let v = try? Expr(n).evaluate(p, location: "reconciliation.params"), !v.isNull { listParams[k] = v }
            }
        }
        var lookingForObj = JSONObject()
        for w in wanted { lookingForObj[w.field] = w.value }
        let lookingFor: JSON = .object(lookingForObj)
        emit("reconcile_started", spec.id, ["attempt": .int(attempt), "strategy": .string(hint.strategy.rawValue),
                                            "list_operation": .string(hint.listOperation), "match": sanitize(lookingFor)])
        try await flush(release: false, leaseUntil: now + m.leaseSeconds)
        acted = true
        let result = await invoke(hint.listOperation, .object(listParams), timeout: attemptTimeout(spec, st))
        st = step(spec.id)
        let list: JSON
        switch result {
        case .failure(let e):
            let e = sanitize(e)
            if e.retryable, st.failures + 1 < spec.retry.maxAttempts {
                st.failures += 1
                let next = now + spec.retry.delay(afterFailures: st.failures, random: m.random.unit())
                st.nextAt = next
                st.status = .waiting
                put(st)
                emit("reconcile_failed", spec.id, ["error": e.json, "retry_at": .double(next)])
                run.status = .waiting
                run.wakeAt = next
                return .stop
            }
            return attention(spec, &st, reason: "the lookup for what attempt \(attempt) may have done failed", evidence: ["error": e.json])
        case .success(let body): list = body
        }
        let items: [JSON]
        if let path = hint.items {
            guard let a = try? Expr(path).evaluate(list, location: "reconciliation.items").arrayValue else {
                return attention(spec, &st, reason: "the lookup response has no item list at '\(path)'", evidence: ["response": sanitize(list)])
            }
            items = a
        } else {
            items = list.isNull ? [] : (list.arrayValue ?? [list])
        }
        let matches = items.filter { item in
            wanted.allSatisfy { w in (try? Expr(w.field).evaluate(item, location: "reconciliation.match")) == w.value }
        }
        func resend(_ why: String) -> Next {
            if settleOnly {
                emit("reconciled", spec.id, ["attempt": .int(attempt), "found": .int(matches.count), "action": "none", "why": .string(why)])
                return .proceed
            }
            st.inFlight = nil
            st.failures = 0
            // The lookup showed the earlier attempt did not take effect: the next send's outcome is genuine.
            st.uncertain = false
            st.verify = false
            st.status = .running
            put(st)
            emit("reconciled", spec.id, ["attempt": .int(attempt), "found": .int(matches.count), "action": "resend", "why": .string(why)])
            return .proceed  // the resend is the next unit (this one already made the lookup)
        }
        func adopt(_ item: JSON) -> Next {
            var out = item
            if let idf = hint.idField, let rf = hint.responseIDField, let id = try? Expr(idf).evaluate(item, location: "reconciliation.id"), !id.isNull {
                out = Self.setPath(rf, id, in: .object([:]))
                out["reconciled_item"] = item
            }
            st.inFlight = nil
            st.verify = false
            emit("reconciled", spec.id, ["attempt": .int(attempt), "found": .int(matches.count), "action": "adopted"])
            succeed(spec, &st, output: sanitize(out))
            return .proceed
        }
        switch hint.strategy {
        case .findByName:
            switch matches.count {
            case 0: return resend("nothing matching was found")
            case 1: return adopt(matches[0])
            default:
                return attention(spec, &st, reason: "\(matches.count) resources match \(lookingFor.serialized()); cannot tell which attempt \(attempt) made",
                                 evidence: ["match": sanitize(lookingFor), "matches": .int(matches.count)])
            }
        case .checkState:
            guard matches.count == 1 else {
                return attention(spec, &st, reason: "\(matches.count) resources match \(lookingFor.serialized()); cannot read the state attempt \(attempt) left",
                                 evidence: ["match": sanitize(lookingFor), "matches": .int(matches.count)])
            }
            let state = hint.stateField.flatMap { try? Expr($0).evaluate(matches[0], location: "reconciliation.state") } ?? .null
            if let s = state.stringValue, hint.notDoneValues.contains(s) { return resend("state '\(s)' shows the call did not take effect") }
            if hint.notDoneValues.isEmpty || state.isNull {
                return attention(spec, &st, reason: "the state \(state.serialized()) does not tell whether attempt \(attempt) took effect",
                                 evidence: ["state": sanitize(state), "item": sanitize(matches[0])])
            }
            return adopt(matches[0])
        }
    }

    /// `{a: {b: v}}` for path "a.b".
    static func setPath(_ path: String, _ v: JSON, in base: JSON) -> JSON {
        let parts = path.split(separator: ".").map(String.init)
        func go(_ i: Int, _ cur: JSON) -> JSON {
            guard i < parts.count else { return v }
            var o = cur.objectValue ?? [:]
            o[parts[i]] = go(i + 1, o[parts[i]] ?? .null)
            return .object(o)
        }
        return go(0, base)
    }

    // MARK: - Invocation with a per-attempt timeout

    /// Sends one request while a heartbeat keeps the run's lease alive (a short lease then suffices: a killed
    /// process blocks others for at most one lease period, a slow call never loses its lease).
    func invoke(_ op: String, _ params: JSON, timeout: Double?) async -> Result<JSON, FerryError> {
        let store = m.store, clock = m.clock, lease = m.leaseSeconds, runID = run.runID, owner = owner
        let result: Result<JSON, FerryError>
        if let keeper = m.leaseKeeper {
            let id = keeper.begin(runID: runID, owner: owner)
            result = await invokeOnce(op, params, timeout: timeout)
            keeper.end(id)
        } else {
            let heartbeat = Task {
                while !Task.isCancelled {
                    do { try await clock.sleepForTimeout(until: clock.now() + lease / 3) } catch { return }
                    if Task.isCancelled { return }
                    _ = try? await store.renewLease(runID, owner: owner, until: clock.now() + lease)
                }
            }
            result = await invokeOnce(op, params, timeout: timeout)
            heartbeat.cancel()
        }
        // A host that cancels an advance, or closes the engine mid-call, interrupts the attempt: that says
        // nothing about the operation, so it must not fail the run. It is an unknown outcome, settled like a
        // lost connection (creates are reconciled before any resend).
        if case .failure(let e) = result, e.code == .cancelled || Task.isCancelled {
            return .failure(FerryError(.unavailable, "\(op): attempt interrupted before its outcome was known",
                                       details: ["operation": .string(op), "ambiguous": true, "sent": true,
                                                 "retryable": true, "interrupted": true]))
        }
        return result
    }

    func invokeOnce(_ op: String, _ params: JSON, timeout: Double?) async -> Result<JSON, FerryError> {
        let invoker = m.invoker
        guard let timeout else {
            do { return .success(try await invoker.invoke(op, params: params)) } catch { return .failure(error) }
        }
        let timeoutError = FerryError(.timeout, "\(op): attempt timed out after \(Self.fmt(timeout))",
                                      details: ["operation": .string(op), "timeout": "attempt", "seconds": .double(timeout)])
        if timeout <= 0 { return .failure(timeoutError) }
        let deadline = now + timeout
        let clock = m.clock
        return await withTaskGroup(of: Result<JSON, FerryError>?.self) { g in
            g.addTask {
                do throws(FerryError) { return .success(try await invoker.invoke(op, params: params)) } catch { return .failure(error) }
            }
            g.addTask {
                do { try await clock.sleepForTimeout(until: deadline) } catch { return nil }
                return .failure(timeoutError)
            }
            while let r = await g.next() {
                if let r {
                    g.cancelAll()
                    return r
                }
            }
            return .failure(timeoutError)
        }
    }
}
