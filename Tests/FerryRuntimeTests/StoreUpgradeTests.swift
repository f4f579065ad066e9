import FerryCore
import FerryJSON
import Synchronization
import XCTest
@testable import FerryRuntime

/// Sharing one store file with other processes: old and newer Ferry builds, engines opening it at once, and another
/// process holding SQLite's write lock while a provider call is in flight.
final class StoreUpgradeTests: XCTestCase {
    /// Engines opening an old store at the same moment upgrade it once; none fails with "duplicate column".
    /// A race, so it is repeated: before the fix about 2 % of rounds failed, so 200 rounds (about 2 s) catch it
    /// with about 97 % probability.
    func testConcurrentOpensOfAnOldStoreUpgradeItOnce() throws {
        for round in 0..<200 {
            let path = tempPath("upgrade-race-\(round)")
            defer { try? removeFile(path) }
            try writeSchemaOneStore(path)
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 3) { _ in
                do throws(FerryError) {
                    let s = try SQLiteRunStore(path: path)
                    s.close()
                } catch {
                    failures.withLock { $0.append(error.message) }
                }
            }
            XCTAssertEqual(failures.withLock { $0 }, [], "round \(round)")
        }
    }

    /// A Ferry older than schema 2 writes run state without bumping `version`; the upgraded store refuses that
    /// write (with a message saying to upgrade) instead of letting a newer engine's cached copy overwrite it later.
    func testAnOldBuildCannotWriteRunStateToAnUpgradedStore() throws {
        let path = tempPath("upgrade-old-writer")
        defer { try? removeFile(path) }
        try writeSchemaOneStore(path)
        let store = try SQLiteRunStore(path: path)
        store.close()
        let old = try SQLiteConnection(path: path, busyTimeoutMs: 1000)
        defer { old.close() }
        XCTAssertThrowsError(try old.run("UPDATE runs SET state = '{\"cursor\":1}', updated_at = 2 WHERE run_id = 'old'", [])) {
            XCTAssertTrue(($0 as? FerryError)?.message.contains("upgrade this Ferry") ?? false, "\($0)")
        }
        // What a schema-2 commit does (bump the version) is allowed; so are lease-only updates.
        XCTAssertEqual(try old.run("UPDATE runs SET state = '{}', version = version + 1 WHERE run_id = 'old'", []), 1)
        XCTAssertEqual(try old.run("UPDATE runs SET lease_owner = 'x', lease_until = 5 WHERE run_id = 'old'", []), 1)
    }

    /// A store written by a newer Ferry (a schema this build does not know) is refused by name, not misread.
    func testAStoreFromANewerFerryIsRefused() throws {
        let path = tempPath("upgrade-newer")
        defer { try? removeFile(path) }
        let s = try SQLiteRunStore(path: path)
        s.close()
        let c = try SQLiteConnection(path: path, busyTimeoutMs: 1000)
        try c.exec("UPDATE ferry_meta SET value = '3' WHERE key = 'schema_version'")
        c.close()
        XCTAssertThrowsError(try SQLiteRunStore(path: path)) {
            let e = $0 as? FerryError
            XCTAssertEqual(e?.code, .storeError)
            XCTAssertTrue(e?.message.contains("schema version 3 was written by a newer Ferry") ?? false, "\($0)")
        }
    }

    /// Another process holds the write lock past the busy timeout while a non-idempotent create is in flight:
    /// the outcome commit waits for the lock instead of giving up, so the run succeeds with one call and no
    /// reconciliation or needs_attention.
    func testOutcomeCommitWaitsForAnotherProcessesWriteLock() async throws {
        let path = tempPath("lock-wait")
        defer { try? removeFile(path) }
        let inv = FakeInvoker()
        let m = try RunManager(config: ["store": .string(path), "runtime": ["busy_timeout_ms": 20, "lease_seconds": 60]],
                               invoker: inv, clock: ManualClock(), random: SequenceRandom([0.5]))
        defer { m.close() }
        let holder = try SQLiteConnection(path: path, busyTimeoutMs: 1000)
        defer { holder.close() }
        inv.on("svc.CreateNoHint") { _, _ throws(FerryError) in
            // The lock is taken while the request is "on the wire" and let go 300 ms later, 15 busy timeouts.
            try holder.exec("BEGIN IMMEDIATE")
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { try? holder.exec("COMMIT") }
            return ["id": "res-1"]
        }
        _ = try await m.startRun(workflow: ["ferry": 1, "steps": [["id": "c", "call": "svc.CreateNoHint", "with": ["name": "x"]]]],
                                 inputs: nil, options: ["run_id": "r"])
        let s = try await m.advanceRun("r")
        XCTAssertEqual(s["status"], "succeeded", "\(s)")
        XCTAssertEqual(inv.count("svc.CreateNoHint"), 1)
        XCTAssertEqual(try m.runStatus("r")["steps"]?["c"]?["output"], ["id": "res-1"])
    }
}
