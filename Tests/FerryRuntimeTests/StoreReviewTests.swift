import FerryCore
import FerryJSON
import XCTest
@testable import FerryRuntime

#if canImport(Glibc)
import Glibc
#endif

/// Review findings on the group-commit store (commits 0bcc9cc..9dc459f), written as regression tests.
final class StoreReviewTests: XCTestCase {
    /// A batch item that hits an error SQLite answers by rolling back the WHOLE transaction (SQLITE_FULL here;
    /// SQLITE_IOERR and SQLITE_NOMEM do the same) must not leave the earlier items of the batch reported as
    /// durable: their writes went with the rollback. (SQLiteWriter.apply marks only items i..<n as failed.)
    func testItemsBeforeATransactionAbortingErrorAreNotReportedDurable() async throws {
        let path = tempPath("review-abort")
        defer { try? removeFile(path) }
        let store = try SQLiteRunStore(path: path)
        defer { store.close() }
        let r = RunRecord(runID: "r", workflow: "w", definition: ["ferry": 1, "steps": []], inputs: [:], secretInputs: [],
                          status: .running, createdAt: 1, updatedAt: 1)
        try await store.createRun(r, events: [RunEvent(ts: 1, type: "run_created", stepID: nil, data: [:])])
        let l = try XCTUnwrap(try store.loadForUnit("r", cached: nil))

        // The attempt commit (takes the lease, records in_flight) and, in the same group, an item that fills the disk.
        var run = l.run
        run.vars["note"] = "attempt recorded"
        var st = StepRecord(stepID: "s")
        st.status = .running
        st.attempts = 1
        st.inFlight = 1
        let attemptCommit = CommitRequest(run: run, steps: [st],
                                          events: [RunEvent(seq: l.lastSeq + 1, ts: 2, type: "attempt_started", stepID: "s", data: [:])],
                                          consumedSignals: [], owner: "A", expectedVersion: l.version, now: 2, holdLeaseUntil: 100)

        let blocker = await WriterBlocker(store)
        let first = Task { () async -> Result<Int64, FerryError> in
            do throws(FerryError) { return .success(try await store.commit(attemptCommit)) } catch { return .failure(error) }
        }
        while store.writer.pending < 1 { await Task.yield() }
        let second = Task { () async -> Result<Bool, FerryError> in
            do throws(FerryError) {
                return .success(try await store.writer.submit { (conn) throws(FerryError) -> Bool in
                    // A disk that is full: no page may be added beyond the ones the file has now.
                    var pages: Int64 = 0
                    try conn.query("PRAGMA page_count", []) { pages = $0.int(0) }
                    try conn.exec("PRAGMA max_page_count = \(pages)")
                    let big = String(repeating: "x", count: 1 << 20)
                    try conn.run("INSERT INTO ferry_meta(key, value) VALUES ('big', ?)", [.text(big)])
                    return true
                })
            } catch { return .failure(error) }
        }
        while store.writer.pending < 2 { await Task.yield() }
        try await blocker.open()
        let a = await first.value
        let b = await second.value
        guard case .failure = b else { return XCTFail("the disk-full item should have failed: \(b)") }

        let after = try XCTUnwrap(try store.loadForUnit("r", cached: nil))
        switch a {
        case .success(let v):
            // Told durable: the engine would now send the provider request. It must really be in the store.
            XCTAssertEqual(after.version, v, "attempt commit reported durable (version \(v)) but the store holds version \(after.version)")
            XCTAssertEqual(after.steps["s"]?.inFlight, 1, "attempt reported durable but in_flight is not stored")
            XCTAssertEqual(after.leaseOwner, "A", "attempt reported durable but the lease is not stored")
        case .failure:
            // Also acceptable: told it failed, and indeed nothing was written.
            XCTAssertEqual(after.version, l.version)
        }
    }

    private func makeRun(_ store: SQLiteRunStore, _ id: String) async throws -> LoadedRun {
        let r = RunRecord(runID: id, workflow: "w", definition: ["ferry": 1, "steps": []], inputs: [:], secretInputs: [],
                          status: .running, createdAt: 1, updatedAt: 1)
        try await store.createRun(r, events: [RunEvent(ts: 1, type: "run_created", stepID: nil, data: [:])])
        return try XCTUnwrap(try store.loadForUnit(id, cached: nil))
    }

    private static func attemptCommit(_ l: LoadedRun, owner: String) -> CommitRequest {
        var st = StepRecord(stepID: "s")
        st.status = .running
        st.attempts = 1
        st.inFlight = 1
        return CommitRequest(run: l.run, steps: [st],
                             events: [RunEvent(seq: l.lastSeq + 1, ts: 2, type: "attempt_started", stepID: "s", data: [:])],
                             consumedSignals: [], owner: owner, expectedVersion: l.version, now: 2, holdLeaseUntil: 100)
    }

    /// Another process holds the write lock past the busy timeout: every waiting commit is resumed with `busy`
    /// (none hangs, none is half-applied), and commits work again once the lock is gone.
    func testWriteLockHeldByAnotherProcessFailsWaitersWithBusyAndWritesNothing() async throws {
        let path = tempPath("review-lock")
        defer { try? removeFile(path) }
        let store = try SQLiteRunStore(path: path, busyTimeoutMs: 100)
        defer { store.close() }
        var runs: [LoadedRun] = []
        for i in 0..<3 { runs.append(try await makeRun(store, "r\(i)")) }
        let other = try SQLiteConnection(path: path, busyTimeoutMs: 1000)
        try other.exec("BEGIN IMMEDIATE")
        let results = await withTaskGroup(of: FerryError?.self) { g -> [FerryError?] in
            for l in runs {
                g.addTask {
                    do throws(FerryError) { _ = try await store.commit(Self.attemptCommit(l, owner: "A")); return nil } catch { return error }
                }
            }
            var out: [FerryError?] = []
            for await r in g { out.append(r) }
            return out
        }
        XCTAssertEqual(results.count, 3)
        for r in results { XCTAssertEqual(r?.code, .busy, "\(String(describing: r))") }
        for l in runs {
            let now = try XCTUnwrap(try store.loadForUnit(l.run.runID, cached: nil))
            XCTAssertEqual(now.version, l.version)
            XCTAssertNil(now.steps["s"])
            XCTAssertNil(now.leaseOwner)
        }
        try other.exec("ROLLBACK")
        other.close()
        let v = try await store.commit(Self.attemptCommit(runs[0], owner: "A"))
        XCTAssertEqual(v, runs[0].version + 1)
    }

    /// Closing the store while commits are queued: the queued ones are applied and their callers resumed, the
    /// writer thread exits (close returns), later writes and reads fail with `closed`, and a second close is harmless.
    func testCloseWithQueuedCommitsResumesEveryWaiterThenRefusesWithClosed() async throws {
        let path = tempPath("review-close")
        defer { try? removeFile(path) }
        let store = try SQLiteRunStore(path: path)
        var runs: [LoadedRun] = []
        for i in 0..<3 { runs.append(try await makeRun(store, "c\(i)")) }
        let blocker = await WriterBlocker(store)
        let tasks = runs.map { l in
            Task { () async -> Result<Int64, FerryError> in
                do throws(FerryError) { return .success(try await store.commit(Self.attemptCommit(l, owner: "A"))) } catch { return .failure(error) }
            }
        }
        while store.writer.pending < runs.count { await Task.yield() }
        // close() joins the writer thread, so it runs on its own thread (not a cooperative one).
        final class Done: @unchecked Sendable { let sem = UnsafeMutablePointer<sem_t>.allocate(capacity: 1) }
        let done = Done()
        sem_init(done.sem, 0, 0)
        var th = pthread_t()
        let ctx = Unmanaged.passRetained(store).toOpaque()
        let doneCtx = Unmanaged.passRetained(done).toOpaque()
        struct Args { let store: UnsafeMutableRawPointer; let done: UnsafeMutableRawPointer }
        let args = UnsafeMutablePointer<Args>.allocate(capacity: 1)
        args.initialize(to: Args(store: ctx, done: doneCtx))
        XCTAssertEqual(pthread_create(&th, nil, { p in
            let a = p!.assumingMemoryBound(to: Args.self).pointee
            Unmanaged<SQLiteRunStore>.fromOpaque(a.store).takeRetainedValue().close()
            sem_post(Unmanaged<Done>.fromOpaque(a.done).takeRetainedValue().sem)
            return nil
        }, args), 0)
        try await blocker.open()
        for t in tasks {
            let r = await t.value
            if case .failure(let e) = r { XCTFail("a commit queued before close must be applied: \(e)") }
        }
        while sem_trywait(done.sem) != 0 { await Task.yield() }
        pthread_join(th, nil)
        args.deallocate()
        do {
            _ = try await store.commit(Self.attemptCommit(runs[0], owner: "B"))
            XCTFail("commit after close must fail")
        } catch { XCTAssertEqual(error.code, .closed) }
        XCTAssertThrowsError(try store.loadForUnit("c0", cached: nil)) { XCTAssertEqual(($0 as? FerryError)?.code, .closed) }
        store.close()
        let reopened = try SQLiteRunStore(path: path)
        defer { reopened.close() }
        for l in runs { XCTAssertEqual(try reopened.loadForUnit(l.run.runID, cached: nil)?.version, l.version + 1) }
    }
}
