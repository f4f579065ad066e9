import FerryCore
import FerryJSON
import Synchronization
import XCTest
@testable import FerryRuntime

final class RunTests: XCTestCase {
    func testEndToEndCallSetAssertOutputsAndIf() async throws {
        let inv = FakeInvoker()
        inv.on("svc.Create") { p, _ in ["id": "t-1", "name": p["name"] ?? nil] }
        inv.on("svc.Get") { p, _ in ["task": ["id": p["id"] ?? nil, "state": "READY"], "size": 3] }
        let m = try makeManager(inv, clock: ManualClock(autoAdvance: true))
        let wf: JSON = [
            "ferry": 1, "name": "e2e",
            "inputs": ["prefix": ["type": "string"], "n": ["type": "integer", "default": 2], "skip": ["type": "boolean", "default": true]],
            "steps": [
                ["id": "create", "call": "svc.Create", "with": ["name": "${inputs.prefix}-${inputs.n}", "region": "r1"]],
                ["id": "get", "call": "svc.Get", "with": ["id": "${steps.create.output.id}"]],
                ["id": "calc", "set": ["total": "${ steps.get.output.size }", "label": "task ${steps.create.output.id} is ${steps.get.output.task.state}"]],
                ["id": "skipped", "if": "inputs.skip", "call": "svc.Delete", "with": ["id": "x"]],
                ["id": "also_skipped", "if": "!(inputs.skip) && `true`", "call": "svc.Delete"],
                ["id": "ran", "if": "vars.total == `3`", "set": ["ok": true]],
                ["id": "check", "assert": "steps.get.output.task.state == 'READY'", "message": "not ready"],
            ],
            "outputs": ["task_id": "${steps.create.output.id}", "label": "${vars.label}", "skipped": "${steps.skipped.status}"],
        ]
        let started = try await m.startRun(workflow: wf, inputs: ["prefix": "mig", "skip": false], options: ["run_id": "r1"])
        XCTAssertEqual(started["status"], "running")
        let s = try await m.driveRun("r1", options: [:])
        XCTAssertEqual(s["status"], "succeeded", "\(s)")
        XCTAssertEqual(s["outputs"], ["task_id": "t-1", "label": "task t-1 is READY", "skipped": "skipped"])
        XCTAssertEqual(inv.calls.first?.params, ["name": "mig-2", "region": "r1"])
        XCTAssertEqual(inv.calls[1].params, ["id": "t-1"])
        XCTAssertEqual(inv.count("svc.Delete"), 1)  // "skipped" was skipped (skip=false); "also_skipped" ran
        let st = try m.runStatus("r1")
        XCTAssertEqual(st["steps"]?["skipped"]?["status"], "skipped")
        XCTAssertEqual(st["steps"]?["also_skipped"]?["status"], "succeeded")
        XCTAssertEqual(st["steps"]?["calc"]?["output"]?["total"], 3)
        XCTAssertEqual(st["steps"]?["ran"]?["status"], "succeeded")
        // One unit of work per advance: create and get are separate advances.
        let types = try eventTypes(m, "r1")
        XCTAssertEqual(types.first, "run_created")
        XCTAssertEqual(types.last, "run_succeeded")
        XCTAssertEqual(s["units"], 3)
    }

    func testAssertFailureFailsRunWithMessage() async throws {
        let m = try makeManager(FakeInvoker(), clock: ManualClock(autoAdvance: true))
        let wf: JSON = ["ferry": 1, "inputs": ["n": ["type": "number"]], "steps": [
            ["id": "a", "assert": "inputs.n > `5`", "message": "n is ${inputs.n}, need more than 5"],
        ]]
        _ = try await m.startRun(workflow: wf, inputs: ["n": 2], options: ["run_id": "a"])
        let s = try await m.driveRun("a")
        XCTAssertEqual(s["status"], "failed")
        XCTAssertEqual(s["error"]?["code"], "run_failed")
        XCTAssertEqual(s["error"]?["step"], "a")
        XCTAssertTrue(s["error"]?["message"]?.stringValue?.contains("n is 2, need more than 5") ?? false)
    }

    /// An attempt interrupted by the host (engine closed, task cancelled) must not fail the run: a create is
    /// looked up before it is ever sent again, and the run then completes.
    func testInterruptedAttemptIsSettledNotFailed() async throws {
        let inv = FakeInvoker()
        let created = Mutex(false)
        inv.on("svc.Create") { _, n throws(FerryError) in
            created.withLock { $0 = true }
            if n == 1 { throw FerryError(.cancelled, "request cancelled") }
            return ["id": "t-2"]
        }
        inv.on("svc.List") { _, _ throws(FerryError) in
            created.withLock { $0 } ? ["items": [["name": "mig-9", "id": "t-1"]]] : ["items": []]
        }
        let clock = ManualClock()
        let m = try makeManager(inv, clock: clock)
        let wf: JSON = ["ferry": 1, "steps": [["id": "create", "call": "svc.Create", "with": ["name": "mig-9", "region": "r1"]]]]
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "r"])
        let s1 = try await m.advanceRun("r")
        XCTAssertNotEqual(s1["status"], "failed")
        for _ in 0..<5 {
            if let wake = try m.runStatus("r")["next_wake_at"]?.doubleValue { clock.set(wake) }
            let s = try await m.advanceRun("r")
            if s["status"] == "succeeded" { break }
        }
        let final = try m.runStatus("r")
        XCTAssertEqual(final["status"], "succeeded")
        XCTAssertEqual(inv.count("svc.Create"), 1, "the interrupted create is adopted, never re-sent")
        XCTAssertEqual(final["steps"]?["create"]?["output"]?["id"], "t-1")
    }

    func testRetryCountsBackoffAndJitterBounds() async throws {
        let inv = FakeInvoker()
        inv.on("svc.Update") { _, n throws(FerryError) in
            if n <= 3 { throw FerryError(.throttled, "slow down") }
            return ["done": true]
        }
        let clock = ManualClock()
        let rnd = SequenceRandom([0.25, 0.999, 0.5])
        let m = try makeManager(inv, clock: clock, random: rnd)
        let wf: JSON = ["ferry": 1, "steps": [[
            "id": "u", "call": "svc.Update",
            "retry": ["max_attempts": 5, "interval": "1s", "backoff_rate": 2, "max_interval": "3s", "jitter": "full"],
        ]]]
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "r"])
        var delays: [Double] = []
        for _ in 0..<3 {
            let t0 = clock.now()
            let s = try await m.advanceRun("r")
            XCTAssertEqual(s["status"], "waiting")
            let wake = try XCTUnwrap(s["next_wake_at"]?.doubleValue)
            delays.append(wake - t0)
            // Advancing before the wake time does nothing.
            let again = try await m.advanceRun("r")
            XCTAssertEqual(again["status"], "waiting")
            XCTAssertEqual(inv.count("svc.Update"), delays.count)
            clock.set(wake)
        }
        let s = try await m.advanceRun("r")
        XCTAssertEqual(s["status"], "succeeded")
        XCTAssertEqual(inv.count("svc.Update"), 4)
        XCTAssertEqual(s["steps"]?["u"]?["attempts"], 4)
        // Full jitter: uniform in [0, min(max_interval, interval * rate^(n-1))): caps 1, 2, 3(capped from 4).
        XCTAssertEqual(delays[0], 1 * 0.25, accuracy: 1e-5)
        XCTAssertEqual(delays[1], 2 * 0.999, accuracy: 1e-5)
        XCTAssertEqual(delays[2], 3 * 0.5, accuracy: 1e-5)
        // Bounds over many draws with the system RNG.
        let p = RetryPolicy(maxAttempts: 10, interval: 0.5, backoffRate: 3, maxInterval: 10, jitter: true)
        let sys = SystemRandom()
        for n in 1...8 {
            let cap = min(10, 0.5 * FerryRuntime.pow(3, Double(n - 1)))
            for _ in 0..<200 {
                let d = p.delay(afterFailures: n, random: sys.unit())
                XCTAssertGreaterThanOrEqual(d, 0)
                XCTAssertLessThan(d, cap)
            }
        }
        var noJitter = p
        noJitter.jitter = false
        XCTAssertEqual(noJitter.delay(afterFailures: 3, random: 0.1), 4.5)
    }

    func testRetryExhaustedAndNonRetryableErrors() async throws {
        let inv = FakeInvoker()
        inv.on("svc.Update") { _, _ throws(FerryError) in throw FerryError(.unavailable, "down") }
        inv.on("svc.Delete") { _, _ throws(FerryError) in throw FerryError(.permissionDenied, "no") }
        let m = try makeManager(inv, clock: ManualClock(autoAdvance: true))
        let wf: JSON = ["ferry": 1, "retry": ["max_attempts": 3, "interval": "1s"], "steps": [["id": "u", "call": "svc.Update"]]]
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "x"])
        let s = try await m.driveRun("x")
        XCTAssertEqual(s["status"], "failed")
        XCTAssertEqual(s["error"]?["code"], "unavailable")
        XCTAssertEqual(inv.count("svc.Update"), 3)

        let wf2: JSON = ["ferry": 1, "steps": [["id": "d", "call": "svc.Delete", "retry": ["max_attempts": 5]]]]
        _ = try await m.startRun(workflow: wf2, inputs: nil, options: ["run_id": "y"])
        let s2 = try await m.driveRun("y")
        XCTAssertEqual(s2["status"], "failed")
        XCTAssertEqual(s2["error"]?["code"], "permission_denied")
        XCTAssertEqual(inv.count("svc.Delete"), 1)

        // errors list widens what is retried.
        let wf3: JSON = ["ferry": 1, "steps": [["id": "d", "call": "svc.Delete", "retry": ["max_attempts": 2, "errors": ["permission_denied"]]]]]
        _ = try await m.startRun(workflow: wf3, inputs: nil, options: ["run_id": "z"])
        _ = try await m.driveRun("z")
        XCTAssertEqual(inv.count("svc.Delete"), 3)
    }

    func testPollUntilFailIfAndTimeout() async throws {
        let inv = FakeInvoker()
        inv.on("svc.Status") { p, n in
            if p["id"] == "bad" { return ["status": n >= 2 ? "FAILED" : "RUNNING"] }
            return ["status": n >= 4 ? "DONE" : "RUNNING", "n": .int(n)]
        }
        let clock = ManualClock(autoAdvance: true)
        let m = try makeManager(inv, clock: clock)
        let wf: JSON = ["ferry": 1, "inputs": ["id": ["type": "string"]], "steps": [[
            "id": "p", "poll": "svc.Status", "with": ["id": "${inputs.id}"], "interval": "10s", "backoff": 2, "max_interval": "25s",
            "until": "output.status == 'DONE'", "fail_if": "output.status == 'FAILED'", "timeout": "10m",
        ], ["id": "after", "set": ["n": "${steps.p.output.n}"]]]]
        _ = try await m.startRun(workflow: wf, inputs: ["id": "good"], options: ["run_id": "good"])
        let t0 = clock.now()
        let s = try await m.driveRun("good", options: ["budget_seconds": 3600])
        XCTAssertEqual(s["status"], "succeeded")
        XCTAssertEqual(inv.count("svc.Status"), 4)
        XCTAssertEqual(clock.now() - t0, 10 + 20 + 25, accuracy: 1e-6)  // backoff 10, 20, capped 25
        XCTAssertEqual(try m.runStatus("good")["steps"]?["after"]?["output"]?["n"], 4)

        _ = try await m.startRun(workflow: wf, inputs: ["id": "bad"], options: ["run_id": "bad"])
        let b = try await m.driveRun("bad", options: ["budget_seconds": 3600])
        XCTAssertEqual(b["status"], "failed")
        XCTAssertTrue(b["error"]?["message"]?.stringValue?.contains("fail_if held") ?? false)

        inv.on("svc.Get") { _, _ in ["status": "RUNNING"] }
        let wf2: JSON = ["ferry": 1, "steps": [["id": "p", "poll": "svc.Get", "interval": "1m", "until": "output.status == 'DONE'", "timeout": "5m"]]]
        _ = try await m.startRun(workflow: wf2, inputs: nil, options: ["run_id": "slow"])
        let t1 = clock.now()
        let sl = try await m.driveRun("slow", options: ["budget_seconds": "1h"])
        XCTAssertEqual(sl["status"], "failed")
        XCTAssertEqual(sl["error"]?["code"], "timeout")
        XCTAssertEqual(clock.now() - t1, 300, accuracy: 1e-6)
        XCTAssertEqual(inv.count("svc.Get"), 5)
    }

    func testPollTransientErrorsFollowRetryPolicy() async throws {
        let inv = FakeInvoker()
        inv.on("svc.Status") { _, n throws(FerryError) in
            if n == 2 || n == 3 { throw FerryError(.unavailable, "503") }
            return ["status": n >= 4 ? "DONE" : "RUNNING"]
        }
        let m = try makeManager(inv, clock: ManualClock(autoAdvance: true))
        let wf: JSON = ["ferry": 1, "steps": [["id": "p", "poll": "svc.Status", "interval": "5s", "until": "output.status == 'DONE'",
                                                  "retry": ["max_attempts": 3, "interval": "1s"]]]]
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "p"])
        let s = try await m.driveRun("p", options: ["budget_seconds": 600])
        XCTAssertEqual(s["status"], "succeeded")
        XCTAssertEqual(inv.count("svc.Status"), 4)
        // Three failures in a row exhaust max_attempts 3.
        inv.on("svc.Status") { _, _ throws(FerryError) in throw FerryError(.unavailable, "503") }
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "p2"])
        let f = try await m.driveRun("p2", options: ["budget_seconds": 600])
        XCTAssertEqual(f["status"], "failed")
        XCTAssertEqual(f["error"]?["code"], "unavailable")
    }

    func testBooleanIfAndSecretNamedFieldsMaskedInOutputs() async throws {
        let inv = FakeInvoker()
        inv.on("svc.Get") { _, _ in ["task": ["password": "plain-text-pw", "name": "t"], "token": "tkn-123"] }
        let m = try makeManager(inv, clock: ManualClock(autoAdvance: true))
        let wf: JSON = ["ferry": 1, "steps": [
            ["id": "never", "if": false, "call": "svc.Update"],
            ["id": "always", "if": true, "call": "svc.Get"],
        ], "outputs": ["all": "${steps.always.output}"]]
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "b"])
        let s = try await m.driveRun("b")
        XCTAssertEqual(s["status"], "succeeded")
        XCTAssertEqual(inv.count("svc.Update"), 0)
        XCTAssertEqual(s["outputs"]?["all"], ["task": ["password": "***", "name": "t"], "token": "***"])
        XCTAssertFalse(try m.runHistory("b").serialized().contains("plain-text-pw"))
    }

    func testOutputsExpressionErrorFailsTheRun() async throws {
        let m = try makeManager(FakeInvoker(), clock: ManualClock(autoAdvance: true))
        let wf: JSON = ["ferry": 1, "steps": [["id": "s", "set": ["x": "abc"]]], "outputs": ["n": "${length(`5`)}"]]
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "o"])
        let s = try await m.driveRun("o")
        XCTAssertEqual(s["status"], "failed")
        XCTAssertEqual(s["error"]?["code"], "expression_failed")
        XCTAssertEqual(s["error"]?["details"]?["location"], "outputs.n")
    }

    func testWaitForAndUntilAndBudget() async throws {
        let clock = ManualClock(autoAdvance: true)
        let m = try makeManager(FakeInvoker(), clock: clock)
        let wf: JSON = ["ferry": 1, "inputs": ["at": ["type": "string"]], "steps": [
            ["id": "w1", "wait": "90s"],
            ["id": "w2", "wait": ["until": "${inputs.at}"]],
            ["id": "done", "set": ["x": 1]],
        ]]
        let at = Durations.format(clock.now() + 3600)
        _ = try await m.startRun(workflow: wf, inputs: ["at": .string(at)], options: ["run_id": "w"])
        // A budget shorter than the wait returns "waiting" with the wake time.
        let s = try await m.driveRun("w", options: ["budget_seconds": 10])
        XCTAssertEqual(s["status"], "waiting")
        let wake = try XCTUnwrap(s["next_wake_at"]?.doubleValue)
        XCTAssertEqual(wake - clock.now(), 90, accuracy: 1e-6)
        let s2 = try await m.driveRun("w", options: ["budget_seconds": "2h"])
        XCTAssertEqual(s2["status"], "succeeded")
        XCTAssertEqual(clock.now(), try XCTUnwrap(Durations.parseRFC3339(at)), accuracy: 0.001)
    }

    func testGateWithPayload() async throws {
        let inv = FakeInvoker()
        let m = try makeManager(inv, clock: ManualClock(autoAdvance: true))
        let wf: JSON = ["ferry": 1, "steps": [
            ["id": "approve", "gate": "cutover"],
            ["id": "go", "call": "svc.Update", "with": ["window": "${steps.approve.output.window}"]],
        ]]
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "g"])
        let s = try await m.driveRun("g")
        XCTAssertEqual(s["status"], "waiting_gate")
        XCTAssertEqual(s["waiting_on"], ["gate": "cutover"])
        XCTAssertEqual(inv.count("svc.Update"), 0)
        // Another signal does not open it.
        _ = try m.signalRun("g", name: "other", payload: [:])
        let _v = try await m.driveRun("g"); XCTAssertEqual(_v["status"], "waiting_gate")
        await XCTAssertThrowsFerry(.invalidArgument, { try m.signalRun("g", name: "ferry.cancel", payload: [:]) })
        let sig = try m.signalRun("g", name: "cutover", payload: ["window": "02:00"])
        XCTAssertEqual(sig["signal_accepted"], "cutover")
        let done = try await m.driveRun("g")
        XCTAssertEqual(done["status"], "succeeded")
        XCTAssertEqual(inv.calls.last?.params, ["window": "02:00"])
        await XCTAssertThrowsFerry(.notFound, { try m.signalRun("nope", name: "x", payload: [:]) })
    }

    func testGateTimeout() async throws {
        let clock = ManualClock(autoAdvance: true)
        let m = try makeManager(FakeInvoker(), clock: clock)
        let wf: JSON = ["ferry": 1, "steps": [["id": "approve", "gate": "ok", "timeout": "1h"]]]
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "g"])
        let s = try await m.advanceRun("g")
        XCTAssertEqual(s["status"], "waiting_gate")
        XCTAssertEqual(s["next_wake_at"]?.doubleValue ?? 0, clock.now() + 3600, accuracy: 1e-6)
        clock.advance(by: 3601)
        let f = try await m.advanceRun("g")
        XCTAssertEqual(f["status"], "failed")
        XCTAssertEqual(f["error"]?["code"], "timeout")
    }

    func testPerAttemptTimeout() async throws {
        let inv = FakeInvoker()
        inv.on("svc.Hang") { _, n throws(FerryError) in
            if n == 1 { try? await Task.sleep(nanoseconds: 60_000_000_000); throw FerryError(.cancelled, "cancelled") }
            return ["ok": true]
        }
        let clock = ManualClock()
        let m = try makeManager(inv, clock: clock)
        let wf: JSON = ["ferry": 1, "steps": [["id": "h", "call": "svc.Hang", "attempt_timeout": "5s",
                                                  "retry": ["max_attempts": 2, "interval": "1s", "jitter": false]]]]
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "t"])
        async let first = m.advanceRun("t")
        await clock.waitForSleepers(1)
        clock.advance(by: 5)
        let s = try await first
        XCTAssertEqual(s["status"], "waiting", "\(s)")
        let hist = try events(m, "t").filter { $0["type"] == "attempt_failed" }
        XCTAssertEqual(hist.first?["data"]?["error"]?["code"], "timeout")
        clock.advance(by: 1)
        let s2 = try await m.advanceRun("t")
        XCTAssertEqual(s2["status"], "succeeded")
        XCTAssertEqual(inv.count("svc.Hang"), 2)
    }

    func testPerStepTimeoutAcrossRetries() async throws {
        let inv = FakeInvoker()
        inv.on("svc.Update") { _, _ throws(FerryError) in throw FerryError(.throttled, "busy") }
        let clock = ManualClock(autoAdvance: true)
        let m = try makeManager(inv, clock: clock)
        let wf: JSON = ["ferry": 1, "steps": [["id": "u", "call": "svc.Update", "timeout": "10s",
                                                  "retry": ["max_attempts": 100, "interval": "3s", "backoff_rate": 1, "jitter": false]]]]
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "st"])
        let s = try await m.driveRun("st", options: ["budget_seconds": 60])
        XCTAssertEqual(s["status"], "failed")
        XCTAssertEqual(s["error"]?["code"], "timeout")
        XCTAssertEqual(inv.count("svc.Update"), 4)  // at 0, 3, 6, 9; the next (12) is past the 10 s deadline
    }

    func testCompensationOnFailureSeesProgress() async throws {
        let inv = FakeInvoker()
        inv.on("svc.Create") { p, _ in ["id": "t-9", "name": p["name"] ?? nil] }
        inv.on("svc.Update") { _, _ throws(FerryError) in throw FerryError(.conflict, "state conflict") }
        let m = try makeManager(inv, clock: ManualClock(autoAdvance: true))
        let wf: JSON = ["ferry": 1, "steps": [
            ["id": "create", "call": "svc.Create", "with": ["name": "n1", "region": "r"]],
            ["id": "update", "call": "svc.Update", "with": ["id": "${steps.create.output.id}"]],
            ["id": "never", "call": "svc.Get"],
        ], "on_failure": [
            ["id": "cleanup", "if": "steps.create.status == 'succeeded'", "call": "svc.Delete",
             "with": ["id": "${steps.create.output.id}", "why": "${run.error.code}", "failed_step": "${run.error.step}"]],
            ["id": "broken", "call": "svc.Update"],
            ["id": "note", "set": ["compensated": true]],
        ]]
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "c"])
        let s = try await m.driveRun("c")
        XCTAssertEqual(s["status"], "failed")
        XCTAssertEqual(s["error"]?["code"], "conflict")
        XCTAssertEqual(inv.count("svc.Get"), 0)
        XCTAssertEqual(inv.calls.first { $0.op == "svc.Delete" }?.params, ["id": "t-9", "why": "conflict", "failed_step": "update"])
        XCTAssertEqual(s["compensation_errors"]?.arrayValue?.count, 1)
        XCTAssertEqual(s["steps"]?["note"]?["status"], "succeeded")
        XCTAssertTrue(try eventTypes(m, "c").contains("compensation_started"))
    }

    func testCancelRunsCompensation() async throws {
        let inv = FakeInvoker()
        let m = try makeManager(inv, clock: ManualClock(autoAdvance: true))
        let wf: JSON = ["ferry": 1, "steps": [
            ["id": "create", "call": "svc.Create", "with": ["name": "n", "region": "r"]],
            ["id": "hold", "gate": "go"],
        ], "on_failure": [["id": "undo", "call": "svc.Delete", "with": ["reason": "${run.cancel_reason}"]]]]
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "k"])
        let _v = try await m.driveRun("k"); XCTAssertEqual(_v["status"], "waiting_gate")
        let c = try await m.cancelRun("k", reason: "operator abort")
        XCTAssertEqual(c["phase"], "compensation")
        let s = try await m.driveRun("k")
        XCTAssertEqual(s["status"], "cancelled")
        XCTAssertEqual(s["error"]?["code"], "cancelled")
        XCTAssertEqual(inv.calls.last?.params, ["reason": "operator abort"])
        await XCTAssertThrowsFerry(.conflict, { try await m.cancelRun("k", reason: nil) })

        // Without on_failure, cancel ends the run at once.
        let wf2: JSON = ["ferry": 1, "steps": [["id": "w", "wait": "1h"]]]
        _ = try await m.startRun(workflow: wf2, inputs: nil, options: ["run_id": "k2"])
        _ = try await m.advanceRun("k2")
        let _v2 = try await m.cancelRun("k2", reason: nil); XCTAssertEqual(_v2["status"], "cancelled")
    }

    func testSecretInputsNeverStoredAndRequiredOnResume() async throws {
        let path = tempPath("secret")
        defer { try? removeFile(path) }
        let inv = FakeInvoker()
        inv.on("svc.Update") { p, _ in ["echo": p["pw"] ?? nil, "password": "p@ssw0rd-secret"] }
        let clock = ManualClock(autoAdvance: true)
        let secret = "p@ssw0rd-secret"
        let wf: JSON = ["ferry": 1, "inputs": ["pw": ["type": "string", "secret": true], "user": ["type": "string"]], "steps": [
            ["id": "w", "wait": "10s"],
            ["id": "u", "call": "svc.Update", "with": ["pw": "${inputs.pw}", "user": "${inputs.user}"]],
        ]]
        do {
            let m = try makeManager(inv, clock: clock, store: path)
            _ = try await m.startRun(workflow: wf, inputs: ["pw": .string(secret), "user": "bob"], options: ["run_id": "s"])
            let _v = try await m.advanceRun("s"); XCTAssertEqual(_v["status"], "waiting")
            m.close()
        }
        let m2 = try makeManager(inv, clock: clock, store: path)
        clock.advance(by: 11)
        await XCTAssertThrowsFerry(.missingInput, { try await m2.advanceRun("s") }) { e in
            XCTAssertEqual(e.details["inputs"], ["pw"])
        }
        // Cancelling needs no secrets (nothing to run here: no on_failure)... but this run continues, so only
        // check that asking for the status works without them.
        XCTAssertEqual(try m2.runStatus("s")["status"], "waiting")
        let s = try await m2.driveRun("s", options: ["secrets": ["pw": .string(secret)]])
        XCTAssertEqual(s["status"], "succeeded")
        XCTAssertEqual(inv.calls.last?.params["pw"], .string(secret))  // the provider got it
        // Nowhere in the store file, status or history.
        m2.close()
        let bytes = try readFile(path) + ((try? readFile(path + "-wal")) ?? [])
        XCTAssertFalse(contains(bytes, Array(secret.utf8)), "secret found in the store")
        let m3 = try makeManager(inv, clock: clock, store: path)
        let all = try m3.runStatus("s").serialized() + m3.runHistory("s").serialized()
        XCTAssertFalse(all.contains(secret))
        XCTAssertTrue(all.contains("bob"))
    }

    func testCancelWithoutSecretsInANewProcess() async throws {
        let path = tempPath("cancel-secret")
        defer { try? removeFile(path) }
        let inv = FakeInvoker()
        let clock = ManualClock(autoAdvance: true)
        let wf: JSON = ["ferry": 1, "inputs": ["pw": ["type": "string", "secret": true]], "steps": [["id": "g", "gate": "go"]]]
        do {
            let m = try makeManager(inv, clock: clock, store: path)
            _ = try await m.startRun(workflow: wf, inputs: ["pw": "hunter2-secret"], options: ["run_id": "c"])
            _ = try await m.advanceRun("c")
            m.close()
        }
        let m2 = try makeManager(inv, clock: clock, store: path)
        let s = try await m2.cancelRun("c", reason: "no longer needed")
        XCTAssertEqual(s["status"], "cancelled")
        XCTAssertEqual(s["cancel_reason"], "no longer needed")
    }

    func testListAndHistory() async throws {
        let m = try makeManager(FakeInvoker(), clock: ManualClock(autoAdvance: true))
        let wf: JSON = ["ferry": 1, "name": "lister", "steps": [["id": "g", "gate": "x"]]]
        for i in 0..<3 { _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": .string("l\(i)")]) }
        _ = try await m.advanceRun("l0")
        XCTAssertEqual(try m.listRuns(nil)["count"], 3)
        XCTAssertEqual(try m.listRuns(["status": "waiting_gate"])["runs"]?[0]?["run_id"], "l0")
        XCTAssertEqual(try m.listRuns(["status": ["running"], "limit": 1])["count"], 1)
        XCTAssertEqual(try m.listRuns(["due": true])["count"], 2)
        await XCTAssertThrowsFerry(.invalidArgument, { try m.listRuns(["status": "bogus"]) })
        let h = try m.runHistory("l0", options: ["after_seq": 1])
        XCTAssertEqual(h["events"]?[0]?["seq"], 2)
        await XCTAssertThrowsFerry(.notFound, { try m.runStatus("zzz") })
        await XCTAssertThrowsFerry(.conflict, { try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "l0"]) })
        await XCTAssertThrowsFerry(.missingInput, {
            try await m.startRun(workflow: ["ferry": 1, "inputs": ["a": ["type": "string"]], "steps": [["id": "s", "set": ["x": 1]]]], inputs: nil, options: [:])
        })
        await XCTAssertThrowsFerry(.invalidArgument, {
            try await m.startRun(workflow: ["ferry": 1, "inputs": ["a": ["type": "string"]], "steps": [["id": "s", "set": ["x": 1]]]], inputs: ["a": 1], options: [:])
        })
    }
}

#if canImport(Glibc)
import Glibc
#endif

func removeFile(_ p: String) throws {
    unlink(p); unlink(p + "-wal"); unlink(p + "-shm")
}

func readFile(_ p: String) throws -> [UInt8] {
    guard let f = fopen(p, "rb") else { throw FerryError(.notFound, p) }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return out
}

func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, hay.count >= needle.count else { return false }
    for i in 0...(hay.count - needle.count) where hay[i] == needle[0] {
        if Array(hay[i..<(i + needle.count)]) == needle { return true }
    }
    return false
}
