import CSQLite
import FerryCore
import FerryJSON
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// RunStore on SQLite (C API): WAL, synchronous=FULL by default, one connection per engine guarded by a lock.
/// Processes sharing a file coordinate through BEGIN IMMEDIATE transactions and the lease columns of `runs`.
final class SQLiteRunStore: RunStore, @unchecked Sendable {
    private var db: OpaquePointer?
    private let lock = Mutex(())
    let path: String

    static let schema = """
    CREATE TABLE IF NOT EXISTS ferry_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS runs(
      run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, status TEXT NOT NULL,
      created_at REAL NOT NULL, updated_at REAL NOT NULL, wake_at REAL,
      definition TEXT NOT NULL, inputs TEXT NOT NULL, state TEXT NOT NULL,
      lease_owner TEXT, lease_until REAL);
    CREATE INDEX IF NOT EXISTS runs_status ON runs(status, created_at);
    CREATE TABLE IF NOT EXISTS steps(
      run_id TEXT NOT NULL, step_id TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
      output TEXT, error TEXT, state TEXT NOT NULL, PRIMARY KEY(run_id, step_id));
    CREATE TABLE IF NOT EXISTS events(
      run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, type TEXT NOT NULL, step_id TEXT,
      data TEXT NOT NULL, PRIMARY KEY(run_id, seq));
    CREATE TABLE IF NOT EXISTS signals(
      seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, name TEXT NOT NULL, payload TEXT NOT NULL,
      received_at REAL NOT NULL, consumed_at REAL);
    CREATE INDEX IF NOT EXISTS signals_run ON signals(run_id, consumed_at);
    CREATE TABLE IF NOT EXISTS timers(run_id TEXT PRIMARY KEY, fire_at REAL NOT NULL);
    CREATE INDEX IF NOT EXISTS timers_fire ON timers(fire_at);
    INSERT OR IGNORE INTO ferry_meta(key, value) VALUES ('schema_version', '1');
    """

    init(path: String, synchronous: String = "FULL", busyTimeoutMs: Int32 = 5000) throws(FerryError) {
        self.path = path
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let msg = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw FerryError(.storeError, "store: cannot open '\(path)': \(msg)", details: ["path": .string(path)])
        }
        db = handle
        sqlite3_busy_timeout(handle, busyTimeoutMs)
        let sync = ["OFF", "NORMAL", "FULL", "EXTRA"].contains(synchronous.uppercased()) ? synchronous.uppercased() : "FULL"
        // SQLite can answer BUSY during this setup without consulting the busy handler (another process is
        // checkpointing or recovering the WAL); the setup is idempotent, so retry it within the same budget.
        let deadline = WallClock.monotonic() + Double(busyTimeoutMs) / 1000
        while true {
            do throws(FerryError) {
                if path != ":memory:" { try exec("PRAGMA journal_mode=WAL") }
                try exec("PRAGMA synchronous=\(sync)")
                try exec(Self.schema)
                break
            } catch where error.code == .busy && WallClock.monotonic() < deadline {
                usleep(10_000)
            }
        }
    }

    deinit { if let db { sqlite3_close_v2(db) } }

    func close() {
        lock.withLock { _ in
            if let db { sqlite3_close_v2(db) }
            db = nil
        }
    }

    // MARK: - Low-level helpers (call with the lock held)

    private func fail(_ what: String) -> FerryError {
        let code = db.map { sqlite3_errcode($0) } ?? SQLITE_MISUSE
        let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "store is closed"
        if code == SQLITE_BUSY || code == SQLITE_LOCKED {
            return FerryError(.busy, "store: \(what): database is busy", details: ["sqlite_code": .int(Int(code))])
        }
        return FerryError(.storeError, "store: \(what): \(msg)", details: ["sqlite_code": .int(Int(code))])
    }

    private func exec(_ sql: String) throws(FerryError) {
        guard let db else { throw FerryError(.closed, "store is closed") }
        var err: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(db, sql, nil, nil, &err) != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? "error"
            sqlite3_free(err)
            let code = sqlite3_errcode(db)
            if code == SQLITE_BUSY || code == SQLITE_LOCKED { throw FerryError(.busy, "store: database is busy") }
            throw FerryError(.storeError, "store: \(msg)")
        }
    }

    enum Bind { case text(String?), real(Double?), int(Int64) }

    private final class Statement {
        let stmt: OpaquePointer
        init(_ s: OpaquePointer) { stmt = s }
        deinit { sqlite3_finalize(stmt) }
        func text(_ i: Int32) -> String? {
            guard sqlite3_column_type(stmt, i) != SQLITE_NULL, let p = sqlite3_column_text(stmt, i) else { return nil }
            return String(cString: p)
        }
        func real(_ i: Int32) -> Double? {
            sqlite3_column_type(stmt, i) == SQLITE_NULL ? nil : sqlite3_column_double(stmt, i)
        }
        func int(_ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
    }

    private func prepare(_ sql: String, _ binds: [Bind]) throws(FerryError) -> Statement {
        guard let db else { throw FerryError(.closed, "store is closed") }
        var s: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &s, nil) == SQLITE_OK, let s else { throw fail("prepare") }
        let st = Statement(s)
        for (i, b) in binds.enumerated() {
            let idx = Int32(i + 1)
            switch b {
            case .text(let t?): sqlite3_bind_text(s, idx, t, -1, SQLITE_TRANSIENT)
            case .real(let d?): sqlite3_bind_double(s, idx, d)
            case .int(let n): sqlite3_bind_int64(s, idx, n)
            default: sqlite3_bind_null(s, idx)
            }
        }
        return st
    }

    private func run(_ sql: String, _ binds: [Bind] = []) throws(FerryError) -> Int32 {
        let st = try prepare(sql, binds)
        let rc = sqlite3_step(st.stmt)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw fail("write") }
        return sqlite3_changes(db)
    }

    private func query(_ sql: String, _ binds: [Bind], _ row: (Statement) -> Void) throws(FerryError) {
        let st = try prepare(sql, binds)
        while true {
            let rc = sqlite3_step(st.stmt)
            if rc == SQLITE_ROW { row(st); continue }
            if rc == SQLITE_DONE { return }
            throw fail("read")
        }
    }

    /// Runs `body` in a BEGIN IMMEDIATE transaction (the write lock is taken up front, so two processes
    /// cannot both read-then-write the same lease).
    private func transaction<T>(_ body: () throws(FerryError) -> T) throws(FerryError) -> T {
        try exec("BEGIN IMMEDIATE")
        do {
            let r = try body()
            try exec("COMMIT")
            return r
        } catch {
            try? exec("ROLLBACK")
            throw error
        }
    }

    private func locked<T>(_ body: () throws(FerryError) -> T) throws(FerryError) -> T {
        // Mutex.withLock's closure cannot throw a typed error through; carry it out as a Result.
        let r: Result<T, FerryError> = lock.withLock { _ in
            do throws(FerryError) { return .success(try body()) } catch { return .failure(error) }
        }
        return try r.get()
    }

    private static func parse(_ s: String?) -> JSON? {
        guard let s else { return nil }
        return try? JSONParser.parse(s)
    }

    // MARK: - RunStore

    func createRun(_ r: RunRecord, events: [RunEvent]) throws(FerryError) {
        try locked { () throws(FerryError) in
            try transaction { () throws(FerryError) in
                let n = try run("""
                    INSERT OR IGNORE INTO runs(run_id, workflow, status, created_at, updated_at, wake_at, definition, inputs, state)
                    VALUES (?,?,?,?,?,?,?,?,?)
                    """, [.text(r.runID), .text(r.workflow), .text(r.status.rawValue), .real(r.createdAt), .real(r.updatedAt),
                          .real(r.wakeAt), .text(r.definition.serialized()), .text(JSON.object(r.inputs).serialized()),
                          .text(r.stateJSON.serialized())])
                guard n == 1 else { throw FerryError(.conflict, "run \(r.runID) already exists", details: ["run_id": .string(r.runID)]) }
                try appendEvents(r.runID, events)
            }
        }
    }

    private func appendEvents(_ runID: String, _ events: [RunEvent]) throws(FerryError) {
        guard !events.isEmpty else { return }
        var seq: Int64 = 0
        try query("SELECT COALESCE(MAX(seq), 0) FROM events WHERE run_id = ?", [.text(runID)]) { seq = $0.int(0) }
        for e in events {
            seq += 1
            _ = try run("INSERT INTO events(run_id, seq, ts, type, step_id, data) VALUES (?,?,?,?,?,?)",
                        [.text(runID), .int(seq), .real(e.ts), .text(e.type), .text(e.stepID), .text(e.data.serialized())])
        }
    }

    private func loadLocked(_ runID: String) throws(FerryError) -> (LoadedRun, String?, Double?)? {
        var rec: RunRecord?
        var owner: String?
        var until: Double?
        try query("""
            SELECT workflow, status, created_at, updated_at, wake_at, definition, inputs, state, lease_owner, lease_until
            FROM runs WHERE run_id = ?
            """, [.text(runID)]) { st in
            var r = RunRecord(runID: runID, workflow: st.text(0) ?? "", definition: Self.parse(st.text(5)) ?? .null,
                              inputs: Self.parse(st.text(6))?.objectValue ?? [:], secretInputs: [],
                              status: RunStatus(rawValue: st.text(1) ?? "") ?? .failed,
                              createdAt: st.real(2) ?? 0, updatedAt: st.real(3) ?? 0, wakeAt: st.real(4))
            r.loadState(Self.parse(st.text(7)) ?? [:])
            rec = r
            owner = st.text(8)
            until = st.real(9)
        }
        guard let rec else { return nil }
        var steps: [String: StepRecord] = [:]
        try query("SELECT step_id, status, attempts, output, error, state FROM steps WHERE run_id = ?", [.text(runID)]) { st in
            var s = StepRecord(stepID: st.text(0) ?? "")
            s.status = StepStatus(rawValue: st.text(1) ?? "") ?? .pending
            s.attempts = Int(st.int(2))
            s.output = Self.parse(st.text(3))
            s.error = Self.parse(st.text(4))
            s.loadState(Self.parse(st.text(5)) ?? [:])
            steps[s.stepID] = s
        }
        var signals: [SignalRecord] = []
        try query("SELECT seq, name, payload, received_at FROM signals WHERE run_id = ? AND consumed_at IS NULL ORDER BY seq",
                  [.text(runID)]) { st in
            signals.append(SignalRecord(seq: st.int(0), name: st.text(1) ?? "", payload: Self.parse(st.text(2)) ?? .null,
                                        receivedAt: st.real(3) ?? 0))
        }
        return (LoadedRun(run: rec, steps: steps, signals: signals), owner, until)
    }

    func acquireLease(_ runID: String, owner: String, now: Double, until: Double) throws(FerryError) -> LoadedRun {
        try locked { () throws(FerryError) -> LoadedRun in
            try transaction { () throws(FerryError) -> LoadedRun in
                guard let (loaded, holder, holderUntil) = try loadLocked(runID) else {
                    throw FerryError(.notFound, "run \(runID) not found", details: ["run_id": .string(runID)])
                }
                if let holder, holder != owner, let holderUntil, holderUntil > now {
                    throw FerryError(.busy, "run \(runID) is being advanced by another caller (lease held until \(Durations.format(holderUntil)))",
                                     details: ["run_id": .string(runID), "lease_until": .double(holderUntil)])
                }
                _ = try run("UPDATE runs SET lease_owner = ?, lease_until = ? WHERE run_id = ?",
                            [.text(owner), .real(until), .text(runID)])
                return loaded
            }
        }
    }

    func commit(_ r: RunRecord, steps: [StepRecord], events: [RunEvent], consumedSignals: [Int64], owner: String,
                leaseUntil: Double?, release: Bool) throws(FerryError) {
        try locked { () throws(FerryError) in
            try transaction { () throws(FerryError) in
                var sql = "UPDATE runs SET status = ?, updated_at = ?, wake_at = ?, state = ?"
                var binds: [Bind] = [.text(r.status.rawValue), .real(r.updatedAt), .real(r.wakeAt), .text(r.stateJSON.serialized())]
                if release {
                    sql += ", lease_owner = NULL, lease_until = NULL"
                } else if let leaseUntil {
                    sql += ", lease_until = ?"
                    binds.append(.real(leaseUntil))
                }
                sql += " WHERE run_id = ? AND lease_owner = ?"
                binds += [.text(r.runID), .text(owner)]
                guard try run(sql, binds) == 1 else {
                    throw FerryError(.busy, "run \(r.runID): lease lost to another caller; nothing written",
                                     details: ["run_id": .string(r.runID)])
                }
                for s in steps {
                    _ = try run("""
                        INSERT INTO steps(run_id, step_id, status, attempts, output, error, state) VALUES (?,?,?,?,?,?,?)
                        ON CONFLICT(run_id, step_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
                          output = excluded.output, error = excluded.error, state = excluded.state
                        """, [.text(r.runID), .text(s.stepID), .text(s.status.rawValue), .int(Int64(s.attempts)),
                              .text(s.output?.serialized()), .text(s.error?.serialized()), .text(s.stateJSON.serialized())])
                }
                try appendEvents(r.runID, events)
                for seq in consumedSignals {
                    _ = try run("UPDATE signals SET consumed_at = ? WHERE seq = ? AND run_id = ?", [.real(r.updatedAt), .int(seq), .text(r.runID)])
                }
                if let w = r.wakeAt, !r.status.isTerminal {
                    _ = try run("INSERT INTO timers(run_id, fire_at) VALUES (?, ?) ON CONFLICT(run_id) DO UPDATE SET fire_at = excluded.fire_at",
                                [.text(r.runID), .real(w)])
                } else {
                    _ = try run("DELETE FROM timers WHERE run_id = ?", [.text(r.runID)])
                }
            }
        }
    }

    func releaseLease(_ runID: String, owner: String) throws(FerryError) {
        try locked { () throws(FerryError) in
            _ = try run("UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE run_id = ? AND lease_owner = ?",
                        [.text(runID), .text(owner)])
        }
    }

    func renewLease(_ runID: String, owner: String, until: Double) throws(FerryError) -> Bool {
        try locked { () throws(FerryError) -> Bool in
            try run("UPDATE runs SET lease_until = ? WHERE run_id = ? AND lease_owner = ?",
                    [.real(until), .text(runID), .text(owner)]) == 1
        }
    }

    func load(_ runID: String) throws(FerryError) -> LoadedRun? {
        try locked { () throws(FerryError) -> LoadedRun? in try loadLocked(runID)?.0 }
    }

    func list(_ f: RunListFilter) throws(FerryError) -> [RunSummaryRow] {
        try locked { () throws(FerryError) -> [RunSummaryRow] in
            var sql = "SELECT r.run_id, r.workflow, r.status, r.created_at, r.updated_at, r.wake_at FROM runs r"
            var conds: [String] = []
            var binds: [Bind] = []
            if let due = f.dueBefore {
                sql += " LEFT JOIN timers t ON t.run_id = r.run_id"
                conds.append("r.status IN ('running', 'waiting') AND (t.fire_at IS NULL OR t.fire_at <= ?)")
                binds.append(.real(due))
            }
            if !f.statuses.isEmpty {
                conds.append("r.status IN (\(f.statuses.map { _ in "?" }.joined(separator: ",")))")
                binds += f.statuses.map { .text($0.rawValue) }
            }
            if let w = f.workflow { conds.append("r.workflow = ?"); binds.append(.text(w)) }
            if !conds.isEmpty { sql += " WHERE " + conds.joined(separator: " AND ") }
            sql += " ORDER BY r.created_at, r.run_id LIMIT ?"
            binds.append(.int(Int64(max(1, min(f.limit, 100_000)))))
            var rows: [RunSummaryRow] = []
            try query(sql, binds) { st in
                rows.append(RunSummaryRow(runID: st.text(0) ?? "", workflow: st.text(1) ?? "",
                                          status: RunStatus(rawValue: st.text(2) ?? "") ?? .failed,
                                          createdAt: st.real(3) ?? 0, updatedAt: st.real(4) ?? 0, wakeAt: st.real(5)))
            }
            return rows
        }
    }

    func events(_ runID: String, afterSeq: Int64, limit: Int) throws(FerryError) -> [RunEvent] {
        try locked { () throws(FerryError) -> [RunEvent] in
            var out: [RunEvent] = []
            try query("SELECT seq, ts, type, step_id, data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                      [.text(runID), .int(afterSeq), .int(Int64(max(1, min(limit, 1_000_000))))]) { st in
                out.append(RunEvent(seq: st.int(0), ts: st.real(1) ?? 0, type: st.text(2) ?? "", stepID: st.text(3),
                                    data: Self.parse(st.text(4)) ?? .null))
            }
            return out
        }
    }

    func addSignal(_ runID: String, name: String, payload: JSON, now: Double) throws(FerryError) -> Int64 {
        try locked { () throws(FerryError) -> Int64 in
            try transaction { () throws(FerryError) -> Int64 in
                var exists = false
                try query("SELECT 1 FROM runs WHERE run_id = ?", [.text(runID)]) { _ in exists = true }
                guard exists else { throw FerryError(.notFound, "run \(runID) not found", details: ["run_id": .string(runID)]) }
                _ = try run("INSERT INTO signals(run_id, name, payload, received_at) VALUES (?,?,?,?)",
                            [.text(runID), .text(name), .text(payload.serialized()), .real(now)])
                return sqlite3_last_insert_rowid(db)
            }
        }
    }
}
