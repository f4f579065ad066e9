import CSQLite
import FerryCore
import FerryJSON
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// RunStore on SQLite (C API): WAL, synchronous=FULL by default. Writes go through one writer thread that groups
/// concurrent commits into one transaction (see SQLiteWriter); reads use a separate connection (WAL readers do not
/// wait for the writer), except for ":memory:" where both share the one connection.
/// Processes sharing a file coordinate through BEGIN IMMEDIATE transactions, the runs' `version` column (optimistic
/// commits) and the lease columns of `runs`.
final class SQLiteRunStore: RunStore, @unchecked Sendable {
    let path: String
    let writer: SQLiteWriter
    private let reader: SQLiteConnection
    /// Guards `reader`: its own lock, or the writer's connection lock when the connection is shared.
    private let readLock: UnsafeMutablePointer<pthread_mutex_t>
    private let ownsReadLock: Bool
    private let closedFlag = Mutex(false)

    static let schema = """
    CREATE TABLE IF NOT EXISTS ferry_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS runs(
      run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, status TEXT NOT NULL,
      created_at REAL NOT NULL, updated_at REAL NOT NULL, wake_at REAL,
      definition TEXT NOT NULL, inputs TEXT NOT NULL, state TEXT NOT NULL,
      lease_owner TEXT, lease_until REAL,
      version INTEGER NOT NULL DEFAULT 0, event_seq INTEGER NOT NULL DEFAULT -1);
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
    INSERT OR IGNORE INTO ferry_meta(key, value) VALUES ('schema_version', '2');
    """

    init(path: String, synchronous: String = "FULL", busyTimeoutMs: Int32 = 5000) throws(FerryError) {
        self.path = path
        let conn = try SQLiteConnection(path: path, busyTimeoutMs: busyTimeoutMs)
        let sync = ["OFF", "NORMAL", "FULL", "EXTRA"].contains(synchronous.uppercased()) ? synchronous.uppercased() : "FULL"
        // SQLite can answer BUSY during this setup without consulting the busy handler (another process is
        // checkpointing or recovering the WAL); the setup is idempotent, so retry it within the same budget.
        let deadline = WallClock.monotonic() + Double(busyTimeoutMs) / 1000
        while true {
            do throws(FerryError) {
                if path != ":memory:" { try conn.exec("PRAGMA journal_mode=WAL") }
                try conn.exec("PRAGMA synchronous=\(sync)")
                try conn.exec(Self.schema)
                try Self.migrate(conn)
                break
            } catch where error.code == .busy && WallClock.monotonic() < deadline {
                usleep(10_000)
            }
        }
        writer = SQLiteWriter(conn: conn)
        if path == ":memory:" {
            // A second connection would open a different, empty in-memory database.
            reader = conn
            readLock = writer.connLock
            ownsReadLock = false
        } else {
            reader = try SQLiteConnection(path: path, busyTimeoutMs: busyTimeoutMs)
            readLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
            pthread_mutex_init(readLock, nil)
            ownsReadLock = true
        }
        try writer.start()
    }

    /// The schema this build reads and writes.
    static let schemaVersion = 2

    /// Stores made before schema version 2 lack the optimistic-commit columns. The check and the change run in one
    /// write transaction, so engines opening an old store at the same moment upgrade it once.
    private static func migrate(_ conn: SQLiteConnection) throws(FerryError) {
        try conn.exec("BEGIN IMMEDIATE")
        do throws(FerryError) {
            var stored = 0
            try conn.query("SELECT value FROM ferry_meta WHERE key = 'schema_version'", []) { stored = Int($0.text(0) ?? "") ?? 0 }
            guard stored <= schemaVersion else {
                throw FerryError(.storeError, "store: schema version \(stored) was written by a newer Ferry (this one reads "
                                 + "\(schemaVersion)); upgrade Ferry to use this store")
            }
            var cols: Set<String> = []
            try conn.query("PRAGMA table_info(runs)", []) { cols.insert($0.text(1) ?? "") }
            if !cols.contains("version") { try conn.exec("ALTER TABLE runs ADD COLUMN version INTEGER NOT NULL DEFAULT 0") }
            if !cols.contains("event_seq") { try conn.exec("ALTER TABLE runs ADD COLUMN event_seq INTEGER NOT NULL DEFAULT -1") }
            try conn.exec("UPDATE ferry_meta SET value = '\(schemaVersion)' WHERE key = 'schema_version' AND value = '1'")
            // A Ferry from before version 2 would write run state without bumping `version`, and a newer engine's
            // cached copy would then overwrite its progress; refuse such a write with a message saying why.
            try conn.exec("""
                CREATE TRIGGER IF NOT EXISTS runs_state_needs_version BEFORE UPDATE OF state ON runs
                WHEN NEW.version = OLD.version
                BEGIN SELECT RAISE(ABORT, 'this store was upgraded to schema 2 by a newer Ferry; upgrade this Ferry'); END
                """)
            try conn.exec("COMMIT")
        } catch {
            try? conn.exec("ROLLBACK")
            throw error
        }
    }

    deinit {
        close()
        if ownsReadLock {
            pthread_mutex_destroy(readLock)
            readLock.deallocate()
        }
    }

    func close() {
        let already = closedFlag.withLock { c in defer { c = true }; return c }
        if already { return }
        writer.shutdown()
        pthread_mutex_lock(readLock)
        reader.close()
        pthread_mutex_unlock(readLock)
        if ownsReadLock { writer.conn.close() }
    }

    var stats: StoreStats { writer.stats }

    private func read<T>(_ body: (SQLiteConnection) throws(FerryError) -> T) throws(FerryError) -> T {
        pthread_mutex_lock(readLock)
        defer { pthread_mutex_unlock(readLock) }
        guard reader.db != nil else { throw FerryError(.closed, "store is closed") }
        return try body(reader)
    }

    private static func parse(_ s: String?) -> JSON? {
        guard let s else { return nil }
        return try? JSONParser.parse(s)
    }

    // MARK: - RunStore: writes

    func createRun(_ r: RunRecord, events: [RunEvent]) async throws(FerryError) {
        try await writer.submit(inline: true) { (conn) throws(FerryError) in
            let n = try conn.run("""
                INSERT OR IGNORE INTO runs(run_id, workflow, status, created_at, updated_at, wake_at, definition, inputs, state,
                                           version, event_seq)
                VALUES (?,?,?,?,?,?,?,?,?,0,?)
                """, [.text(r.runID), .text(r.workflow), .text(r.status.rawValue), .real(r.createdAt), .real(r.updatedAt),
                      .real(r.wakeAt), .text(r.definition.serialized()), .text(JSON.object(r.inputs).serialized()),
                      .text(r.stateJSON.serialized()), .int(Int64(events.count))])
            guard n == 1 else { throw FerryError(.conflict, "run \(r.runID) already exists", details: ["run_id": .string(r.runID)]) }
            var evs = events
            for i in evs.indices { evs[i].seq = Int64(i + 1) }
            try Self.insertEvents(conn, r.runID, evs)
        }
    }

    private static func insertEvents(_ conn: SQLiteConnection, _ runID: String, _ events: [RunEvent]) throws(FerryError) {
        for e in events {
            try conn.run("INSERT INTO events(run_id, seq, ts, type, step_id, data) VALUES (?,?,?,?,?,?)",
                         [.text(runID), .int(e.seq), .real(e.ts), .text(e.type), .text(e.stepID), .text(e.data.serialized())])
        }
    }

    func commit(_ c: CommitRequest) async throws(FerryError) -> Int64 {
        // Serialize outside the writer thread: the writer's time is the scarce resource under group commit.
        let r = c.run
        let state = c.stateText ?? r.stateJSON.serialized()
        let steps: [(String, String, Int64, String?, String?, String)] = c.steps.map {
            ($0.stepID, $0.status.rawValue, Int64($0.attempts), $0.output?.serialized(), $0.error?.serialized(), $0.stateJSON.serialized())
        }
        let events = c.events.map { ($0.seq, $0.ts, $0.type, $0.stepID, $0.data.serialized()) }
        let lastSeq: SQLiteConnection.Bind = c.events.last.map { .int($0.seq) } ?? .text(nil)
        return try await writer.submit(inline: true) { (conn) throws(FerryError) -> Int64 in
            let n = try conn.run("""
                UPDATE runs SET status = ?, updated_at = ?, wake_at = ?, state = ?, version = version + 1,
                  event_seq = COALESCE(?, event_seq), lease_owner = ?, lease_until = ?
                WHERE run_id = ? AND version = ?
                  AND (lease_owner IS NULL OR lease_owner = ? OR lease_until IS NULL OR lease_until <= ?)
                """, [.text(r.status.rawValue), .real(r.updatedAt), .real(r.wakeAt), .text(state), lastSeq,
                      .text(c.holdLeaseUntil == nil ? nil : c.owner), .real(c.holdLeaseUntil),
                      .text(r.runID), .int(c.expectedVersion), .text(c.owner), .real(c.now)])
            guard n == 1 else {
                throw FerryError(.busy, "run \(r.runID) was changed or leased by another caller; nothing written",
                                 details: ["run_id": .string(r.runID)])
            }
            for s in steps {
                try conn.run("""
                    INSERT INTO steps(run_id, step_id, status, attempts, output, error, state) VALUES (?,?,?,?,?,?,?)
                    ON CONFLICT(run_id, step_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
                      output = excluded.output, error = excluded.error, state = excluded.state
                    """, [.text(r.runID), .text(s.0), .text(s.1), .int(s.2), .text(s.3), .text(s.4), .text(s.5)])
            }
            for e in events {
                try conn.run("INSERT INTO events(run_id, seq, ts, type, step_id, data) VALUES (?,?,?,?,?,?)",
                             [.text(r.runID), .int(e.0), .real(e.1), .text(e.2), .text(e.3), .text(e.4)])
            }
            for seq in c.consumedSignals {
                try conn.run("UPDATE signals SET consumed_at = ? WHERE seq = ? AND run_id = ?", [.real(r.updatedAt), .int(seq), .text(r.runID)])
            }
            if let w = r.wakeAt, !r.status.isTerminal {
                try conn.run("INSERT INTO timers(run_id, fire_at) VALUES (?, ?) ON CONFLICT(run_id) DO UPDATE SET fire_at = excluded.fire_at",
                             [.text(r.runID), .real(w)])
            } else {
                try conn.run("DELETE FROM timers WHERE run_id = ?", [.text(r.runID)])
            }
            return c.expectedVersion + 1
        }
    }

    func releaseLease(_ runID: String, owner: String) async throws(FerryError) {
        _ = try await writer.submit(inline: true) { (conn) throws(FerryError) in
            try conn.run("UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE run_id = ? AND lease_owner = ?",
                         [.text(runID), .text(owner)])
        }
    }

    func renewLease(_ runID: String, owner: String, until: Double) async throws(FerryError) -> Bool {
        try await writer.submit(inline: true) { (conn) throws(FerryError) -> Bool in
            try conn.run("UPDATE runs SET lease_until = ? WHERE run_id = ? AND lease_owner = ?",
                         [.real(until), .text(runID), .text(owner)]) == 1
        }
    }

    func addSignal(_ runID: String, name: String, payload: JSON, now: Double) throws(FerryError) -> Int64 {
        let text = payload.serialized()
        return try writer.submitSync { (conn) throws(FerryError) -> Int64 in
            var exists = false
            try conn.query("SELECT 1 FROM runs WHERE run_id = ?", [.text(runID)]) { _ in exists = true }
            guard exists else { throw FerryError(.notFound, "run \(runID) not found", details: ["run_id": .string(runID)]) }
            try conn.run("INSERT INTO signals(run_id, name, payload, received_at) VALUES (?,?,?,?)",
                         [.text(runID), .text(name), .text(text), .real(now)])
            return conn.lastInsertRowID
        }
    }

    // MARK: - RunStore: reads

    private static let runColumns = """
        SELECT version, event_seq, lease_owner, lease_until, workflow, status, created_at, updated_at, wake_at, inputs, state
        FROM runs WHERE run_id = ?
        """

    /// Reads the run row, its steps (unless `cached` is current) and its undelivered signals in one snapshot.
    private static func loadRun(_ conn: SQLiteConnection, _ runID: String, cached: LoadedRun?) throws(FerryError) -> LoadedRun? {
        try conn.readTransaction { () throws(FerryError) -> LoadedRun? in
            var loaded: LoadedRun?
            var fromCache = false
            var seqKnown = true
            try conn.query(runColumns, [.text(runID)]) { st in
                let version = st.int(0)
                var l: LoadedRun
                if let cached, cached.version == version, cached.run.runID == runID {
                    l = cached
                    l.signals = []
                    fromCache = true
                } else {
                    var r = RunRecord(runID: runID, workflow: st.text(4) ?? "", definition: .null,
                                      inputs: parse(st.text(9))?.objectValue ?? [:], secretInputs: [],
                                      status: RunStatus(rawValue: st.text(5) ?? "") ?? .failed,
                                      createdAt: st.real(6) ?? 0, updatedAt: st.real(7) ?? 0, wakeAt: st.real(8))
                    r.loadState(parse(st.text(10)) ?? [:])
                    l = LoadedRun(run: r, steps: [:], signals: [])
                }
                l.version = version
                l.lastSeq = st.int(1)
                seqKnown = l.lastSeq >= 0
                l.leaseOwner = st.text(2)
                l.leaseUntil = st.real(3)
                loaded = l
            }
            guard var l = loaded else { return nil }
            if !seqKnown {
                try conn.query("SELECT COALESCE(MAX(seq), 0) FROM events WHERE run_id = ?", [.text(runID)]) { l.lastSeq = $0.int(0) }
            }
            if !fromCache {
                try conn.query("SELECT step_id, status, attempts, output, error, state FROM steps WHERE run_id = ?", [.text(runID)]) { st in
                    var s = StepRecord(stepID: st.text(0) ?? "")
                    s.status = StepStatus(rawValue: st.text(1) ?? "") ?? .pending
                    s.attempts = Int(st.int(2))
                    s.output = parse(st.text(3))
                    s.error = parse(st.text(4))
                    s.loadState(parse(st.text(5)) ?? [:])
                    l.steps[s.stepID] = s
                }
            }
            try conn.query("SELECT seq, name, payload, received_at FROM signals WHERE run_id = ? AND consumed_at IS NULL ORDER BY seq",
                           [.text(runID)]) { st in
                l.signals.append(SignalRecord(seq: st.int(0), name: st.text(1) ?? "", payload: parse(st.text(2)) ?? .null,
                                              receivedAt: st.real(3) ?? 0))
            }
            return l
        }
    }

    func loadForUnit(_ runID: String, cached: LoadedRun?) throws(FerryError) -> LoadedRun? {
        try read { (conn) throws(FerryError) -> LoadedRun? in try Self.loadRun(conn, runID, cached: cached) }
    }

    func definition(of runID: String) throws(FerryError) -> JSON? {
        try read { (conn) throws(FerryError) -> JSON? in
            var d: JSON?
            try conn.query("SELECT definition FROM runs WHERE run_id = ?", [.text(runID)]) { d = Self.parse($0.text(0)) ?? .null }
            return d
        }
    }

    func load(_ runID: String) throws(FerryError) -> LoadedRun? {
        try read { (conn) throws(FerryError) -> LoadedRun? in
            guard var l = try Self.loadRun(conn, runID, cached: nil) else { return nil }
            try conn.query("SELECT definition FROM runs WHERE run_id = ?", [.text(runID)]) { l.run.definition = Self.parse($0.text(0)) ?? .null }
            return l
        }
    }

    func list(_ f: RunListFilter) throws(FerryError) -> [RunSummaryRow] {
        try read { (conn) throws(FerryError) -> [RunSummaryRow] in
            var sql = "SELECT r.run_id, r.workflow, r.status, r.created_at, r.updated_at, r.wake_at FROM runs r"
            var conds: [String] = []
            var binds: [SQLiteConnection.Bind] = []
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
            try conn.query(sql, binds) { st in
                rows.append(RunSummaryRow(runID: st.text(0) ?? "", workflow: st.text(1) ?? "",
                                          status: RunStatus(rawValue: st.text(2) ?? "") ?? .failed,
                                          createdAt: st.real(3) ?? 0, updatedAt: st.real(4) ?? 0, wakeAt: st.real(5)))
            }
            return rows
        }
    }

    func events(_ runID: String, afterSeq: Int64, limit: Int) throws(FerryError) -> [RunEvent] {
        try read { (conn) throws(FerryError) -> [RunEvent] in
            var out: [RunEvent] = []
            try conn.query("SELECT seq, ts, type, step_id, data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                           [.text(runID), .int(afterSeq), .int(Int64(max(1, min(limit, 1_000_000))))]) { st in
                out.append(RunEvent(seq: st.int(0), ts: st.real(1) ?? 0, type: st.text(2) ?? "", stepID: st.text(3),
                                    data: Self.parse(st.text(4)) ?? .null))
            }
            return out
        }
    }
}
