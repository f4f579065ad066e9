import FerryCore
import FerryJSON
import Synchronization
import XCTest
@testable import FerryRuntime

/// A fake provider that remembers what creates made, so a lookup can find them.
final class FakeCloud: Sendable {
    let items = Mutex<[JSON]>([])
    func install(on inv: FakeInvoker, duplicate: Bool = false) {
        inv.on("svc.Create") { [self] p, n in
            let item: JSON = ["id": .string("id-\(n)"), "name": p["name"] ?? nil, "extra": "x"]
            items.withLock { $0.append(item); if duplicate { $0.append(item) } }
            return ["id": .string("id-\(n)"), "name": p["name"] ?? nil]
        }
        inv.on("svc.List") { [self] _, _ in ["items": .array(items.withLock { $0 })] }
    }
}

final class Counter: Sendable {
    private let m = Mutex(0)
    func add() { m.withLock { $0 += 1 } }
    var value: Int { m.withLock { $0 } }
}

final class DurabilityTests: XCTestCase {
    let wf: JSON = ["ferry": 1, "steps": [
        ["id": "create", "call": "svc.Create", "with": ["name": "mig-7", "region": "r1"]],
        ["id": "update", "call": "svc.Update", "with": ["id": "${steps.create.output.id}"]],
    ]]

    /// Starts a run on a file store and "kills the process" at `point` of `step`'s first attempt.
    func crashRun(_ path: String, _ inv: FakeInvoker, clock: ManualClock, point: CrashPoint, step: String,
                  workflow: JSON? = nil) async throws {
        let a = try makeManager(inv, clock: clock, store: path)
        a.hooks.crash.withLock { $0 = { p, s, n in p == point && s == step && n == 1 } }
        _ = try await a.startRun(workflow: workflow ?? wf, inputs: nil, options: ["run_id": "r"])
        do {
            _ = try await a.driveRun("r")
            XCTFail("expected the simulated crash")
        } catch { XCTAssertTrue(error.isSimulatedCrash, "\(error)") }
        a.close()
    }

    func testCrashAfterIdempotentWriteResendsAfterLeaseExpiry() async throws {
        let path = tempPath("idem")
        defer { try? removeFile(path) }
        let inv = FakeInvoker()
        let clock = ManualClock()
        try await crashRun(path, inv, clock: clock, point: .afterInvoke, step: "update")
        XCTAssertEqual(inv.count("svc.Update"), 1)
        let b = try makeManager(inv, clock: clock, store: path)
        // The dead process's lease still holds: the new one is told busy, and nothing happens.
        await XCTAssertThrowsFerry(.busy, { try await b.advanceRun("r") })
        XCTAssertEqual(inv.count("svc.Update"), 1)
        clock.advance(by: 61)
        let s = try await b.advanceRun("r")
        XCTAssertEqual(s["status"], "succeeded", "\(s)")
        XCTAssertEqual(inv.count("svc.Create"), 1)
        XCTAssertEqual(inv.count("svc.Update"), 2)  // an idempotent write may be re-sent
        let rec = try events(b, "r").first { $0["type"] == "attempt_recovered" }
        XCTAssertEqual(rec?["data"]?["idempotency"], "idempotent_write")
    }

    func testCrashAfterCreateAdoptsWhatItMadeWithoutResending() async throws {
        let path = tempPath("adopt")
        defer { try? removeFile(path) }
        let inv = FakeInvoker()
        let cloud = FakeCloud()
        cloud.install(on: inv)
        let clock = ManualClock(autoAdvance: true)
        try await crashRun(path, inv, clock: clock, point: .afterInvoke, step: "create")
        clock.advance(by: 61)
        let b = try makeManager(inv, clock: clock, store: path)
        let s = try await b.driveRun("r")
        XCTAssertEqual(s["status"], "succeeded", "\(s)")
        XCTAssertEqual(inv.count("svc.Create"), 1)  // never re-sent
        XCTAssertEqual(inv.calls.first { $0.op == "svc.List" }?.params, ["region": "r1", "page": 1])
        XCTAssertEqual(try b.runStatus("r")["steps"]?["create"]?["output"]?["id"], "id-1")
        XCTAssertEqual(try b.runStatus("r")["steps"]?["create"]?["output"]?["reconciled_item"]?["name"], "mig-7")
        XCTAssertEqual(inv.calls.last?.params, ["id": "id-1"])
        let rec = try events(b, "r").first { $0["type"] == "reconciled" }
        XCTAssertEqual(rec?["data"]?["action"], "adopted")
    }

    func testCrashBeforeCreateReconcilesThenSendsOnce() async throws {
        let path = tempPath("resend")
        defer { try? removeFile(path) }
        let inv = FakeInvoker()
        FakeCloud().install(on: inv)
        let clock = ManualClock(autoAdvance: true)
        try await crashRun(path, inv, clock: clock, point: .beforeInvoke, step: "create")
        XCTAssertEqual(inv.count("svc.Create"), 0)
        clock.advance(by: 61)
        let b = try makeManager(inv, clock: clock, store: path)
        let s = try await b.driveRun("r")
        XCTAssertEqual(s["status"], "succeeded")
        XCTAssertEqual(inv.count("svc.Create"), 1)
        XCTAssertEqual(try events(b, "r").first { $0["type"] == "reconciled" }?["data"]?["action"], "resend")
    }

    func testAmbiguousCreateNeedsAttentionThenOperatorResolves() async throws {
        let path = tempPath("attn")
        defer { try? removeFile(path) }
        let inv = FakeInvoker()
        FakeCloud().install(on: inv, duplicate: true)
        let clock = ManualClock(autoAdvance: true)
        try await crashRun(path, inv, clock: clock, point: .afterInvoke, step: "create")
        clock.advance(by: 61)
        let b = try makeManager(inv, clock: clock, store: path)
        let s = try await b.driveRun("r")
        XCTAssertEqual(s["status"], "needs_attention")
        XCTAssertEqual(s["attention"]?["step"], "create")
        XCTAssertEqual(s["attention"]?["evidence"]?["matches"], 2)
        XCTAssertEqual(inv.count("svc.Create"), 1)
        // Driving again does nothing until an operator decides.
        let again = try await b.driveRun("r")
        XCTAssertEqual(again["status"], "needs_attention")
        XCTAssertEqual(inv.count("svc.Create"), 1)
        await XCTAssertThrowsFerry(.invalidArgument, { try b.signalRun("r", name: "ferry.resolve", payload: ["action": "maybe"]) })
        _ = try b.signalRun("r", name: "ferry.resolve", payload: ["action": "succeed", "output": ["id": "id-1"]])
        let done = try await b.driveRun("r")
        XCTAssertEqual(done["status"], "succeeded")
        XCTAssertEqual(inv.count("svc.Create"), 1)
        XCTAssertEqual(inv.calls.last?.params, ["id": "id-1"])
    }

    func testCreateWithoutHintNeedsAttention() async throws {
        let path = tempPath("nohint")
        defer { try? removeFile(path) }
        let inv = FakeInvoker()
        let clock = ManualClock(autoAdvance: true)
        let w: JSON = ["ferry": 1, "steps": [["id": "create", "call": "svc.CreateNoHint", "with": ["name": "n"]]]]
        try await crashRun(path, inv, clock: clock, point: .afterInvoke, step: "create", workflow: w)
        clock.advance(by: 61)
        let b = try makeManager(inv, clock: clock, store: path)
        let s = try await b.driveRun("r")
        XCTAssertEqual(s["status"], "needs_attention")
        XCTAssertEqual(inv.count("svc.CreateNoHint"), 1)
        // Cancelling a run that needs attention ends it.
        let c = try await b.cancelRun("r", reason: "abandon")
        XCTAssertEqual(c["status"], "cancelled")
    }

    func testCheckStateReconciliation() async throws {
        let path = tempPath("state")
        defer { try? removeFile(path) }
        for (state, expectSets, expectStatus) in [("PENDING", 2, "succeeded"), ("CONFIGURED", 1, "succeeded"), ("", 1, "needs_attention")] {
            try? removeFile(path)
            let inv = FakeInvoker()
            inv.on("svc.Get") { p, _ in state.isEmpty ? ["id": p["id"] ?? nil] : ["id": p["id"] ?? nil, "state": .string(state)] }
            let clock = ManualClock(autoAdvance: true)
            let w: JSON = ["ferry": 1, "steps": [["id": "set", "call": "svc.Set", "with": ["id": "t-1", "mode": "online"]]]]
            try await crashRun(path, inv, clock: clock, point: .afterInvoke, step: "set", workflow: w)
            clock.advance(by: 61)
            let b = try makeManager(inv, clock: clock, store: path)
            let s = try await b.driveRun("r")
            XCTAssertEqual(s["status"]?.stringValue, expectStatus, "state \(state): \(s)")
            XCTAssertEqual(inv.count("svc.Set"), expectSets, "state \(state)")
            b.close()
        }
    }

    func testIdempotentWriteErrorAfterUnknownOutcomeIsVerified() async throws {
        // The first stop takes effect but its response is lost; the repeat is refused ("already stopped").
        let inv = FakeInvoker()
        for op in ["svc.Stop", "svc.Update"] {
            inv.on(op) { _, n throws(FerryError) in
                if n == 1 { throw FerryError(.unavailable, "connection reset") }
                throw FerryError(.invalidArgument, "task is TERMINATED; it cannot be stopped now")
            }
        }
        inv.on("svc.Get") { p, _ in ["id": p["id"] ?? nil, "state": "TERMINATED"] }
        let m = try makeManager(inv, clock: ManualClock(autoAdvance: true))
        // With a check-state hint: the state shows the stop happened, so the step succeeds.
        _ = try await m.startRun(workflow: ["ferry": 1, "steps": [["id": "stop", "call": "svc.Stop", "with": ["id": "t1"]]]],
                                 inputs: nil, options: ["run_id": "a"])
        let a = try await m.driveRun("a")
        XCTAssertEqual(a["status"], "succeeded", "\(a)")
        XCTAssertEqual(inv.count("svc.Stop"), 2)
        XCTAssertEqual(try events(m, "a").first { $0["type"] == "reconciled" }?["data"]?["action"], "adopted")
        // Without a hint: an operator decides (never a false failure that would run compensation).
        _ = try await m.startRun(workflow: ["ferry": 1, "steps": [["id": "u", "call": "svc.Update", "with": ["id": "t1"]]],
                                            "on_failure": [["id": "undo", "call": "svc.Delete"]]],
                                 inputs: nil, options: ["run_id": "b"])
        let b = try await m.driveRun("b")
        XCTAssertEqual(b["status"], "needs_attention", "\(b)")
        XCTAssertEqual(inv.count("svc.Delete"), 0)
        _ = try m.signalRun("b", name: "ferry.resolve", payload: ["action": "succeed"])
        let b2 = try await m.driveRun("b")
        XCTAssertEqual(b2["status"], "succeeded")
        // A genuine error with no earlier unknown outcome still fails at once.
        inv.on("svc.Update") { _, _ throws(FerryError) in throw FerryError(.invalidArgument, "bad") }
        _ = try await m.startRun(workflow: ["ferry": 1, "steps": [["id": "u", "call": "svc.Update"]]], inputs: nil, options: ["run_id": "c"])
        let c = try await m.driveRun("c")
        XCTAssertEqual(c["status"], "failed")
    }

    func testRepeatedDeleteNotFoundMeansDone() async throws {
        let inv = FakeInvoker()
        inv.on("svc.Delete") { _, n throws(FerryError) in
            if n == 1 { throw FerryError(.unavailable, "connection reset") }
            throw FerryError(.notFound, "no such task")
        }
        let m = try makeManager(inv, clock: ManualClock(autoAdvance: true))
        _ = try await m.startRun(workflow: ["ferry": 1, "steps": [["id": "d", "call": "svc.Delete", "with": ["id": "x"]]]], inputs: nil, options: ["run_id": "d"])
        let s = try await m.driveRun("d")
        XCTAssertEqual(s["status"], "succeeded")
        XCTAssertEqual(inv.count("svc.Delete"), 2)
    }

    func testCancelAfterUnknownCreateLetsCompensationSeeWhatItMade() async throws {
        let path = tempPath("cancel-create")
        defer { try? removeFile(path) }
        for found in [true, false] {
            try? removeFile(path)
            let inv = FakeInvoker()
            let cloud = FakeCloud()
            cloud.install(on: inv)
            if !found { inv.on("svc.List") { _, _ in ["items": []] } }
            let clock = ManualClock(autoAdvance: true)
            let w: JSON = ["ferry": 1, "steps": [
                ["id": "create", "call": "svc.Create", "with": ["name": "mig-9", "region": "r1"]],
                ["id": "next", "call": "svc.Get"],
            ], "on_failure": [["id": "undo", "if": "steps.create.output.id", "call": "svc.Delete", "with": ["id": "${steps.create.output.id}"]]]]
            try await crashRun(path, inv, clock: clock, point: .afterInvoke, step: "create", workflow: w)
            clock.advance(by: 61)
            let b = try makeManager(inv, clock: clock, store: path)
            let c = try await b.cancelRun("r", reason: "abort")
            XCTAssertEqual(c["phase"], "compensation", "\(c)")
            let s = try await b.driveRun("r")
            XCTAssertEqual(s["status"], "cancelled")
            XCTAssertEqual(inv.count("svc.Create"), 1)
            XCTAssertEqual(inv.count("svc.Get"), 0)
            XCTAssertEqual(inv.calls.filter { $0.op == "svc.Delete" }.map(\.params), found ? [["id": "id-1"]] : [])
            b.close()
        }
    }

    func testTimedOutCreateIsReconciledNotBlindlyResent() async throws {
        let inv = FakeInvoker()
        let cloud = FakeCloud()
        cloud.install(on: inv)
        // The create takes effect but its response is lost (timeout).
        inv.on("svc.Create") { p, n throws(FerryError) in
            cloud.items.withLock { $0.append(["id": .string("id-\(n)"), "name": p["name"] ?? nil]) }
            throw FerryError(.timeout, "read timed out")
        }
        let m = try makeManager(inv, clock: ManualClock(autoAdvance: true))
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "r"])
        let s = try await m.driveRun("r")
        XCTAssertEqual(s["status"], "succeeded", "\(s)")
        XCTAssertEqual(inv.count("svc.Create"), 1)
        XCTAssertEqual(try m.runStatus("r")["steps"]?["create"]?["output"]?["id"], "id-1")
    }

    func testUnknownCreateOutcomeIsSettledEvenPastTheStepDeadline() async throws {
        let inv = FakeInvoker()
        let cloud = FakeCloud()
        cloud.install(on: inv)
        inv.on("svc.Create") { p, n throws(FerryError) in
            cloud.items.withLock { $0.append(["id": .string("id-\(n)"), "name": p["name"] ?? nil]) }
            throw FerryError(.timeout, "read timed out")
        }
        let m = try makeManager(inv, clock: ManualClock(autoAdvance: true))
        let w: JSON = ["ferry": 1, "steps": [["id": "create", "call": "svc.Create", "with": ["name": "n1", "region": "r"], "timeout": "5s",
                                               "retry": ["interval": "10s", "jitter": false]]],
                       "on_failure": [["id": "undo", "if": "steps.create.output.id", "call": "svc.Delete", "with": ["id": "${steps.create.output.id}"]]]]
        _ = try await m.startRun(workflow: w, inputs: nil, options: ["run_id": "r"])
        let s = try await m.driveRun("r")
        XCTAssertEqual(s["status"], "succeeded", "\(s)")
        XCTAssertEqual(inv.count("svc.Create"), 1)
        XCTAssertEqual(try m.runStatus("r")["steps"]?["create"]?["output"]?["id"], "id-1")
    }

    func testTwoEnginesNeverAdvanceTheSameRunAtOnce() async throws {
        let path = tempPath("lease")
        defer { try? removeFile(path) }
        let inv = FakeInvoker()
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let entered = Mutex(false)
        inv.on("svc.Get") { _, n in
            if n == 1 {
                entered.withLock { $0 = true }
                await withCheckedContinuation { c in gate.withLock { $0 = c } }
            }
            return ["n": .int(n)]
        }
        let clock = ManualClock()
        let a = try makeManager(inv, clock: clock, store: path)
        let b = try makeManager(inv, clock: clock, store: path)
        let w: JSON = ["ferry": 1, "steps": [["id": "g1", "call": "svc.Get"], ["id": "g2", "call": "svc.Get"]]]
        _ = try await a.startRun(workflow: w, inputs: nil, options: ["run_id": "r"])
        let first = Task { try await a.advanceRun("r") }
        while !entered.withLock({ $0 }) || gate.withLock({ $0 == nil }) { try await Task.sleep(nanoseconds: 1_000_000) }
        await XCTAssertThrowsFerry(.busy, { try await b.advanceRun("r") })
        await XCTAssertThrowsFerry(.busy, { try await a.advanceRun("r") })  // also a second caller in the same engine
        gate.withLock { $0?.resume(); $0 = nil }
        let s = try await first.value
        XCTAssertEqual(s["current_step"], "g2")
        let s2 = try await b.advanceRun("r")
        XCTAssertEqual(s2["status"], "succeeded")
        XCTAssertEqual(inv.count("svc.Get"), 2)
    }

    func testHeartbeatKeepsTheLeaseDuringASlowCall() async throws {
        let path = tempPath("heartbeat")
        defer { try? removeFile(path) }
        let inv = FakeInvoker()
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        inv.on("svc.Get") { _, _ in
            await withCheckedContinuation { c in gate.withLock { $0 = c } }
            return ["ok": true]
        }
        let clock = ManualClock()
        let a = try makeManager(inv, clock: clock, store: path, lease: 30)
        let b = try makeManager(inv, clock: clock, store: path, lease: 30)
        _ = try await a.startRun(workflow: ["ferry": 1, "steps": [["id": "g", "call": "svc.Get"]]], inputs: nil, options: ["run_id": "r"])
        let first = Task { try await a.advanceRun("r") }
        while gate.withLock({ $0 == nil }) { try await Task.sleep(nanoseconds: 1_000_000) }
        // 100 virtual seconds pass during the call, far beyond the 30 s lease: the heartbeat renews it.
        for _ in 0..<20 {
            await clock.waitForSleepers(1)
            clock.advance(by: 5)
        }
        await clock.waitForSleepers(1)
        await XCTAssertThrowsFerry(.busy, { try await b.advanceRun("r") })
        gate.withLock { $0?.resume(); $0 = nil }
        let s = try await first.value
        XCTAssertEqual(s["status"], "succeeded")
        XCTAssertEqual(inv.count("svc.Get"), 1)
    }

    func testConcurrentAdvanceStressActsExactlyOncePerStep() async throws {
        let path = tempPath("stress")
        defer { try? removeFile(path) }
        let inv = FakeInvoker()
        inv.on("svc.Get") { p, _ in
            try? await Task.sleep(nanoseconds: 200_000)
            return ["k": p["k"] ?? nil]
        }
        let clock = ManualClock()
        let engines = try (0..<3).map { _ in try makeManager(inv, clock: clock, store: path) }
        let steps: [JSON] = (0..<8).map { i in ["id": .string("s\(i)"), "call": "svc.Get", "with": ["k": .string("s\(i)")]] }
        let runs = 4
        for r in 0..<runs {
            _ = try await engines[0].startRun(workflow: ["ferry": 1, "steps": .array(steps)], inputs: nil, options: ["run_id": .string("r\(r)")])
        }
        let busy = Counter()
        await withTaskGroup(of: Void.self) { g in
            for w in 0..<6 {
                g.addTask {
                    let e = engines[w % engines.count]
                    for i in 0..<200 {
                        let id = "r\((w + i) % runs)"
                        do { _ = try await e.advanceRun(id) } catch { if (error as? FerryError)?.code == .busy { busy.add() } }
                    }
                }
            }
        }
        for r in 0..<runs {
            var s = try engines[1].runStatus("r\(r)")
            while s["status"] != "succeeded" { s = try await engines[1].advanceRun("r\(r)") }
        }
        XCTAssertEqual(inv.count("svc.Get"), runs * steps.count, "every step acted exactly once (busy: \(busy.value))")
        for r in 0..<runs {
            let started = try events(engines[2], "r\(r)").filter { $0["type"] == "attempt_started" }.count
            XCTAssertEqual(started, steps.count)
        }
    }
}
