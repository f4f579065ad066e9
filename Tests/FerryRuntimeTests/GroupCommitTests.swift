import FerryCore
import FerryJSON
import Synchronization
import XCTest
@testable import FerryRuntime

#if canImport(Glibc)
import Glibc
#endif

/// Holds the store's writer thread inside a job until released, so later writes line up into one group.
final class WriterBlocker: @unchecked Sendable {
    private struct Sems: @unchecked Sendable {
        let entered = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        let release = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    }
    private let sems = Sems()
    private var task: Task<Void, Error>?

    init(_ store: SQLiteRunStore) async {
        let sems = sems
        sem_init(sems.entered, 0, 0)
        sem_init(sems.release, 0, 0)
        task = Task.detached {
            _ = try await store.writer.submit { (_) throws(FerryError) -> Bool in
                sem_post(sems.entered)
                while sem_wait(sems.release) != 0 {}
                return true
            }
        }
        // Wait until the writer thread is parked inside the job (it is not a cooperative-pool thread).
        while sem_trywait(sems.entered) != 0 { await Task.yield() }
    }

    func open() async throws {
        sem_post(sems.release)
        try await task?.value
    }

    deinit {
        sem_destroy(sems.entered); sems.entered.deallocate()
        sem_destroy(sems.release); sems.release.deallocate()
    }
}

/// A value shared by tasks.
final class Shared<T: Sendable>: Sendable {
    let m: Mutex<T>
    init(_ v: T) { m = Mutex(v) }
    func withLock<R>(_ f: (inout T) -> R) -> R { m.withLock { f(&$0) } }
}

final class GroupCommitTests: XCTestCase {
    private func makeRuns(_ store: SQLiteRunStore, count: Int) async throws -> [LoadedRun] {
        var out: [LoadedRun] = []
        for i in 0..<count {
            let r = RunRecord(runID: "g\(i)", workflow: "w", definition: ["ferry": 1, "steps": []], inputs: [:], secretInputs: [],
                              status: .running, createdAt: 1, updatedAt: 1)
            try await store.createRun(r, events: [RunEvent(ts: 1, type: "run_created", stepID: nil, data: [:])])
            out.append(try XCTUnwrap(try store.loadForUnit("g\(i)", cached: nil)))
        }
        return out
    }

    private static func request(_ l: LoadedRun, owner: String, version: Int64? = nil, hold: Double? = nil, note: String) -> CommitRequest {
        var run = l.run
        run.vars["note"] = .string(note)
        var step = StepRecord(stepID: "s")
        step.status = .succeeded
        step.output = .string(note)
        return CommitRequest(run: run, steps: [step], events: [RunEvent(seq: l.lastSeq + 1, ts: 2, type: "step_succeeded", stepID: "s", data: [:])],
                             consumedSignals: [], owner: owner, expectedVersion: version ?? l.version, now: 2, holdLeaseUntil: hold)
    }

    /// 100 commits queued while the writer is busy are applied in one transaction (one fsync), and each caller
    /// gets its own result: the one based on a stale version fails with busy, the others are durable.
    func testQueuedCommitsShareOneTransactionAndAStaleOneFailsAlone() async throws {
        let path = tempPath("group")
        defer { try? removeFile(path) }
        let store = try SQLiteRunStore(path: path)
        defer { store.close() }
        let runs = try await makeRuns(store, count: 100)
        let before = store.stats
        let blocker = await WriterBlocker(store)
        let results = Shared<[String: ErrorCode?]>([:])
        let tasks = runs.enumerated().map { i, l in
            Task {
                let req = Self.request(l, owner: "o\(i)", version: i == 37 ? l.version + 5 : nil, note: "n\(i)")
                do { _ = try await store.commit(req); results.withLock { $0[l.run.runID] = .some(nil) } } catch {
                    results.withLock { $0[l.run.runID] = .some((error as? FerryError)?.code ?? .internal) }
                }
            }
        }
        while store.writer.pending < runs.count { await Task.yield() }
        try await blocker.open()
        for t in tasks { await t.value }
        let after = store.stats
        XCTAssertEqual(after.transactions - before.transactions, 2, "the blocker's transaction, then one for all 100")
        XCTAssertGreaterThanOrEqual(after.maxBatch, 100)
        let r = results.withLock { $0 }
        XCTAssertEqual(r.count, 100)
        for (i, l) in runs.enumerated() {
            let loaded = try XCTUnwrap(try store.load(l.run.runID))
            if i == 37 {
                XCTAssertEqual(r[l.run.runID] ?? nil, .busy)
                XCTAssertEqual(loaded.version, l.version, "nothing written for the stale commit")
                XCTAssertNil(loaded.steps["s"])
                XCTAssertEqual(try store.events(l.run.runID, afterSeq: 0, limit: 10).count, 1)
            } else {
                XCTAssertEqual(r[l.run.runID] ?? .internal, nil, "commit \(i) failed")
                XCTAssertEqual(loaded.version, l.version + 1)
                XCTAssertEqual(loaded.steps["s"]?.output, .string("n\(i)"))
                XCTAssertEqual(loaded.run.vars["note"], .string("n\(i)"))
                XCTAssertEqual(try store.events(l.run.runID, afterSeq: 0, limit: 10).map(\.seq), [1, 2])
            }
        }
    }

    /// A commit that would override another owner's live lease fails alone, inside a group.
    func testLeaseHeldByAnotherOwnerFailsOnlyThatItem() async throws {
        let path = tempPath("group-lease")
        defer { try? removeFile(path) }
        let store = try SQLiteRunStore(path: path)
        defer { store.close() }
        let runs = try await makeRuns(store, count: 3)
        // Owner A takes r1's lease until t=100.
        let v = try await store.commit(Self.request(runs[1], owner: "A", hold: 100, note: "a"))
        var r1 = try XCTUnwrap(try store.loadForUnit("g1", cached: nil))
        XCTAssertEqual(r1.leaseOwner, "A")
        XCTAssertEqual(r1.version, v)
        let blocker = await WriterBlocker(store)
        let outcomes = Shared<[Int: Bool]>([:])
        let leased = r1
        let tasks = ([0, 1, 2] as [Int]).map { i in
            Task {
                let l = i == 1 ? leased : runs[i]
                do { _ = try await store.commit(Self.request(l, owner: "B", note: "b\(i)")); outcomes.withLock { $0[i] = true } } catch {
                    XCTAssertEqual((error as? FerryError)?.code, .busy)
                    outcomes.withLock { $0[i] = false }
                }
            }
        }
        while store.writer.pending < 3 { await Task.yield() }
        try await blocker.open()
        for t in tasks { await t.value }
        XCTAssertEqual(outcomes.withLock { $0 }, [0: true, 1: false, 2: true])
        r1 = try XCTUnwrap(try store.loadForUnit("g1", cached: nil))
        XCTAssertEqual(r1.leaseOwner, "A", "A's lease survives")
        XCTAssertEqual(r1.run.vars["note"], "a")
        // Once A's lease has expired (now 200 > 100), B may commit over it.
        var late = Self.request(r1, owner: "B", note: "late")
        late.now = 200
        _ = try await store.commit(late)
        XCTAssertNil(try store.loadForUnit("g1", cached: nil)?.leaseOwner)
    }

    /// A call step costs 2 commits (attempt recorded with the lease taken; outcome with the lease released);
    /// steps without a side effect are committed with the unit they are in (one commit), and a unit that
    /// changes nothing commits nothing.
    func testCommitsPerStep() async throws {
        let path = tempPath("commits")
        defer { try? removeFile(path) }
        let inv = FakeInvoker()
        let clock = ManualClock()
        let m = try makeManager(inv, clock: clock, store: path)
        defer { m.close() }
        let steps: [JSON] = (0..<5).map { i in ["id": .string("c\(i)"), "call": "svc.Get", "with": ["k": .int(i)]] }
        _ = try await m.startRun(workflow: ["ferry": 1, "steps": .array(steps)], inputs: nil, options: ["run_id": "calls"])
        func tx() -> Int { m.storeStats()["transactions"]?.intValue ?? -1 }
        for i in 0..<5 {
            let t0 = tx()
            let s = try await m.advanceRun("calls")
            XCTAssertEqual(tx() - t0, 2, "call step \(i)")
            XCTAssertEqual(s["steps"]?["c\(i)"]?["status"], "succeeded")
        }
        XCTAssertEqual(try m.runStatus("calls")["status"], "succeeded")
        XCTAssertEqual(inv.count("svc.Get"), 5)
        // History seqs are contiguous without a MAX(seq) lookup.
        let seqs = try events(m, "calls").compactMap { $0["seq"]?.intValue }
        XCTAssertEqual(seqs, Array(1...seqs.count))

        let sets: [JSON] = (0..<5).map { i in ["id": .string("v\(i)"), "set": .object(["x\(i)": .int(i)])] }
        let wf: JSON = ["ferry": 1, "steps": .array(sets + [["id": "w", "wait": ["for": "10s"]], ["id": "after", "set": ["y": 1]]])]
        _ = try await m.startRun(workflow: wf, inputs: nil, options: ["run_id": "sets"])
        var t0 = tx()
        var s = try await m.advanceRun("sets")
        XCTAssertEqual(tx() - t0, 1, "five set steps and the wait's start in one commit")
        XCTAssertEqual(s["status"], "waiting")
        t0 = tx()
        s = try await m.advanceRun("sets")
        XCTAssertEqual(tx() - t0, 0, "an early advance changes nothing and writes nothing")
        XCTAssertEqual(s["status"], "waiting")
        clock.advance(by: 10)
        t0 = tx()
        s = try await m.advanceRun("sets")
        XCTAssertEqual(tx() - t0, 1)
        XCTAssertEqual(s["status"], "succeeded")
        XCTAssertEqual(try m.runStatus("sets")["steps"]?["after"]?["output"], ["y": 1])
    }

    /// Many runs advancing at once on one engine: every step acts exactly once, every run finishes, and a second
    /// engine (fresh caches) reads exactly what was committed.
    func testManyConcurrentRunsCommitThroughTheGroupWriter() async throws {
        let path = tempPath("many")
        defer { try? removeFile(path) }
        let inv = FakeInvoker()
        let clock = ManualClock()
        let m = try makeManager(inv, clock: clock, store: path)
        let steps: [JSON] = (0..<3).map { i in ["id": .string("c\(i)"), "call": "svc.Get", "with": ["k": .int(i)]] }
            + [["id": "v", "set": ["done": true]]]
        let n = 200
        for i in 0..<n {
            _ = try await m.startRun(workflow: ["ferry": 1, "steps": .array(steps)], inputs: nil, options: ["run_id": .string("m\(i)")])
        }
        let failures = Shared<[String]>([])
        await withTaskGroup(of: Void.self) { g in
            for i in 0..<n {
                g.addTask {
                    do {
                        while try await m.advanceRun("m\(i)")["status"] == "running" {}
                    } catch { failures.withLock { $0.append("m\(i): \(error)") } }
                }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
        XCTAssertEqual(inv.count("svc.Get"), n * 3)
        let stats = m.storeStats()
        XCTAssertEqual(stats["items"]?.intValue, n + n * 3 * 2, "one create and 2 commits per call step (\(stats))")
        m.close()
        let fresh = try makeManager(inv, clock: clock, store: path)
        defer { fresh.close() }
        for i in 0..<n {
            let s = try fresh.runStatus("m\(i)")
            XCTAssertEqual(s["status"], "succeeded")
            let seqs = try events(fresh, "m\(i)").compactMap { $0["seq"]?.intValue }
            XCTAssertEqual(seqs, Array(1...seqs.count))
        }
    }

    /// A unit resumes from the engine's cache only when the store still holds the version it committed: a change
    /// made by another engine is read from the store.
    func testCacheIsBypassedWhenAnotherEngineChangedTheRun() async throws {
        let path = tempPath("cache")
        defer { try? removeFile(path) }
        let inv = FakeInvoker()
        let clock = ManualClock()
        let a = try makeManager(inv, clock: clock, store: path)
        let b = try makeManager(inv, clock: clock, store: path)
        defer { a.close(); b.close() }
        let steps: [JSON] = (0..<4).map { i in ["id": .string("c\(i)"), "call": "svc.Get", "with": ["k": .int(i)]] }
        _ = try await a.startRun(workflow: ["ferry": 1, "steps": .array(steps)], inputs: nil, options: ["run_id": "r"])
        _ = try await a.advanceRun("r")   // a caches c0 done
        _ = try await b.advanceRun("r")   // b does c1
        let s = try await a.advanceRun("r")  // a must see c1 done and do c2, not redo c1
        XCTAssertEqual(s["current_step"], "c3")
        XCTAssertEqual(inv.calls.compactMap { $0.params["k"]?.intValue }, [0, 1, 2])
        _ = try await a.advanceRun("r")
        XCTAssertEqual(try b.runStatus("r")["status"], "succeeded")
    }
}

final class StoreMigrationTests: XCTestCase {
    /// A store written before schema version 2 (no `version` / `event_seq` columns) opens, and its runs advance
    /// with history seqs continuing after the ones already there.
    func testSchemaOneStoreIsMigrated() async throws {
        let path = tempPath("schema1")
        defer { try? removeFile(path) }
        let wf: JSON = ["ferry": 1, "name": "old", "steps": [["id": "a", "set": ["x": 1]], ["id": "b", "set": ["y": 2]]]]
        try writeSchemaOneStore(path, definition: wf)
        do {
            let c = try SQLiteConnection(path: path, busyTimeoutMs: 1000)
            for seq in 1...3 {
                try c.run("INSERT INTO events(run_id, seq, ts, type, data) VALUES ('old', ?, 1, 'note', '{}')", [.int(Int64(seq))])
            }
            c.close()
        }
        let m = try makeManager(FakeInvoker(), clock: ManualClock(), store: path)
        defer { m.close() }
        let s = try await m.advanceRun("old")
        XCTAssertEqual(s["status"], "succeeded", "\(s)")
        let seqs = try events(m, "old").compactMap { $0["seq"]?.intValue }
        XCTAssertEqual(seqs, Array(1...seqs.count))
        XCTAssertGreaterThan(seqs.count, 3)
        XCTAssertEqual(try m.runStatus("old")["steps"]?["b"]?["output"], ["y": 2])
    }
}
