import CSQLite
import FerryCore
import FerryJSON
#if canImport(Glibc)
import Glibc
#endif

private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection with a prepared-statement cache. Not thread-safe by itself: exactly one thread uses it
/// at a time (the writer thread, or a reader under its lock).
final class SQLiteConnection: @unchecked Sendable {
    private(set) var db: OpaquePointer?
    private var cache: [String: OpaquePointer] = [:]

    enum Bind { case text(String?), real(Double?), int(Int64) }

    /// A row of a query being stepped (valid only inside the row callback).
    struct Row {
        let stmt: OpaquePointer
        func text(_ i: Int32) -> String? {
            guard sqlite3_column_type(stmt, i) != SQLITE_NULL, let p = sqlite3_column_text(stmt, i) else { return nil }
            return String(cString: p)
        }
        func real(_ i: Int32) -> Double? {
            sqlite3_column_type(stmt, i) == SQLITE_NULL ? nil : sqlite3_column_double(stmt, i)
        }
        func int(_ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
        func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }
    }

    init(path: String, busyTimeoutMs: Int32) throws(FerryError) {
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
    }

    deinit { close() }

    func close() {
        for (_, s) in cache { sqlite3_finalize(s) }
        cache = [:]
        if let db { sqlite3_close_v2(db) }
        db = nil
    }

    func fail(_ what: String) -> FerryError {
        let code = db.map { sqlite3_errcode($0) } ?? SQLITE_MISUSE
        let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "store is closed"
        if code == SQLITE_BUSY || code == SQLITE_LOCKED {
            return FerryError(.busy, "store: \(what): database is busy", details: ["sqlite_code": .int(Int(code))])
        }
        return FerryError(.storeError, "store: \(what): \(msg)", details: ["sqlite_code": .int(Int(code))])
    }

    func exec(_ sql: String) throws(FerryError) {
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

    /// One fixed statement (BEGIN, COMMIT, SAVEPOINT...) through the prepared-statement cache: several run per
    /// unit, and `exec` would compile each again.
    func execCached(_ sql: String) throws(FerryError) {
        let st = try prepare(sql, [])
        defer { sqlite3_reset(st) }
        let rc = sqlite3_step(st)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw fail(sql) }
    }

    /// A cached prepared statement with `binds` bound; the caller resets it after use.
    private func prepare(_ sql: String, _ binds: [Bind]) throws(FerryError) -> OpaquePointer {
        guard let db else { throw FerryError(.closed, "store is closed") }
        let s: OpaquePointer
        if let c = cache[sql] {
            s = c
        } else {
            var p: OpaquePointer?
            guard sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &p, nil) == SQLITE_OK, let p else {
                throw fail("prepare")
            }
            cache[sql] = p
            s = p
        }
        for (i, b) in binds.enumerated() {
            let idx = Int32(i + 1)
            switch b {
            case .text(let t?): sqlite3_bind_text(s, idx, t, -1, SQLITE_TRANSIENT)
            case .real(let d?): sqlite3_bind_double(s, idx, d)
            case .int(let n): sqlite3_bind_int64(s, idx, n)
            default: sqlite3_bind_null(s, idx)
            }
        }
        return s
    }

    /// Runs a write statement; returns the number of rows changed.
    @discardableResult
    func run(_ sql: String, _ binds: [Bind] = []) throws(FerryError) -> Int32 {
        let st = try prepare(sql, binds)
        defer { sqlite3_reset(st); sqlite3_clear_bindings(st) }
        let rc = sqlite3_step(st)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw fail("write") }
        return sqlite3_changes(db)
    }

    func query(_ sql: String, _ binds: [Bind], _ row: (Row) -> Void) throws(FerryError) {
        let st = try prepare(sql, binds)
        defer { sqlite3_reset(st); sqlite3_clear_bindings(st) }
        while true {
            let rc = sqlite3_step(st)
            if rc == SQLITE_ROW { row(Row(stmt: st)); continue }
            if rc == SQLITE_DONE { return }
            throw fail("read")
        }
    }

    var lastInsertRowID: Int64 { db.map { sqlite3_last_insert_rowid($0) } ?? 0 }
    var inTransaction: Bool { db.map { sqlite3_get_autocommit($0) == 0 } ?? false }

    /// Runs `body` in a (deferred) read transaction, so several queries see one snapshot.
    func readTransaction<T>(_ body: () throws(FerryError) -> T) throws(FerryError) -> T {
        try execCached("BEGIN")
        do {
            let r = try body()
            try execCached("COMMIT")
            return r
        } catch {
            try? exec("ROLLBACK")
            throw error
        }
    }
}

/// The single writer of a store: a dedicated thread (not one of the cooperative pool's) owns the write
/// connection. Writers enqueue jobs and suspend; the thread takes every pending job, applies them in ONE
/// transaction (each in its own SAVEPOINT, so one job's failure does not undo the others), commits once (one
/// fsync for the whole batch), then resumes each caller with its own result. When idle it starts on the first
/// job at once, so a lone caller waits for exactly one commit.
///
/// Inline commits (`submit(inline: true)`): when nobody is writing and nothing is queued, the caller applies and
/// commits its own job on its own thread instead of handing it to the writer thread and suspending. That saves
/// two thread wake-ups per commit (writer wake, then the caller's resumption on the pool), which dominate a lone
/// caller's latency. Under load the writer is busy, jobs are queued, or its last group had several jobs, so
/// callers queue as before and group commit is unchanged; jobs queued while an inline commit runs are taken by
/// the writer as soon as it ends.
final class SQLiteWriter: @unchecked Sendable {
    final class Job {
        let apply: (SQLiteConnection) throws(FerryError) -> Void
        let complete: (FerryError?) -> Void
        init(apply: @escaping (SQLiteConnection) throws(FerryError) -> Void, complete: @escaping (FerryError?) -> Void) {
            self.apply = apply
            self.complete = complete
        }
    }

    let conn: SQLiteConnection
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var queue: [Job] = []
    private var closed = false
    private var running = false
    /// Someone (the writer thread, or a caller committing inline) is using the write connection.
    private var busy = false
    /// Jobs in the last transaction: more than one means callers are committing concurrently, and then they
    /// all go through the writer (an inline commit would hold a pool thread through its fsync while a group
    /// forms behind it, and split the group).
    private var lastBatch = 1
    private var thread = pthread_t()
    private var statsValue = StoreStats()
    /// Held by the writer while it applies a batch; readers sharing the connection (":memory:") take it too.
    let connLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init(conn: SQLiteConnection) {
        self.conn = conn
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
        pthread_mutex_init(connLock, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(connLock)
        mutex.deallocate()
        cond.deallocate()
        connLock.deallocate()
    }

    func start() throws(FerryError) {
        let ctx = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { p in
            let w = Unmanaged<SQLiteWriter>.fromOpaque(p!).takeRetainedValue()
            w.loop()
            return nil
        }, ctx)
        guard rc == 0 else {
            Unmanaged<SQLiteWriter>.fromOpaque(ctx).release()
            throw FerryError(.storeError, "store: cannot start the writer thread (errno \(rc))")
        }
        running = true
    }

    var stats: StoreStats {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        return statsValue
    }

    /// Jobs queued and not yet taken by the writer (tests use it to line up a group).
    var pending: Int {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        return queue.count
    }

    /// Stops the thread after it has finished the jobs already queued; later jobs fail with `closed`.
    func shutdown() {
        pthread_mutex_lock(mutex)
        let wasRunning = running && !closed
        closed = true
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
        if wasRunning, !pthread_equal(pthread_self(), thread).asBool { pthread_join(thread, nil) }
    }

    private func enqueue(_ job: Job) {
        pthread_mutex_lock(mutex)
        if closed {
            pthread_mutex_unlock(mutex)
            job.complete(FerryError(.closed, "store is closed"))
            return
        }
        queue.append(job)
        if queue.count == 1 { pthread_cond_signal(cond) }
        pthread_mutex_unlock(mutex)
    }

    /// Applies `body` in the next group transaction and suspends the caller until it is durable. With `inline`,
    /// an idle writer lets the caller commit on its own thread (see the type's comment); the result is the same.
    func submit<T: Sendable>(inline: Bool = false, _ body: @escaping @Sendable (SQLiteConnection) throws(FerryError) -> T) async throws(FerryError) -> T {
        if inline, let r = applyInlineIfIdle(body) { return try r.get() }
        let r: Result<T, FerryError> = await withCheckedContinuation { (c: CheckedContinuation<Result<T, FerryError>, Never>) in
            let box = ResultBox<T>()
            enqueue(Job(apply: { (conn) throws(FerryError) in box.value = try body(conn) }, complete: { err in
                if let err { c.resume(returning: .failure(err)) } else if let v = box.value { c.resume(returning: .success(v)) } else {
                    c.resume(returning: .failure(FerryError(.internal, "store: write finished without a result")))
                }
            }))
        }
        return try r.get()
    }

    /// The same for synchronous callers (rare paths such as signals): blocks the calling thread.
    func submitSync<T>(_ body: @escaping (SQLiteConnection) throws(FerryError) -> T) throws(FerryError) -> T {
        let box = ResultBox<T>()
        let done = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        sem_init(done, 0, 0)
        defer { sem_destroy(done); done.deallocate() }
        enqueue(Job(apply: { (conn) throws(FerryError) in box.value = try body(conn) }, complete: { err in
            box.error = err
            sem_post(done)
        }))
        while sem_wait(done) != 0 {}
        if let failure = box.error { throw failure }
        guard let v = box.value else { throw FerryError(.internal, "store: write finished without a result") }
        return v
    }

    /// Runs `body` as a one-job transaction on the calling thread when the connection is idle and no job is
    /// queued (nil otherwise: the caller queues). Durable on return, exactly as a queued job.
    private func applyInlineIfIdle<T>(_ body: (SQLiteConnection) throws(FerryError) -> T) -> Result<T, FerryError>? {
        pthread_mutex_lock(mutex)
        guard !closed, !busy, queue.isEmpty, lastBatch <= 1 else {
            pthread_mutex_unlock(mutex)
            return nil
        }
        busy = true
        pthread_mutex_unlock(mutex)
        var value: T?
        let err: FerryError? = withoutActuallyEscaping(body) { body in
            let job = Job(apply: { (conn) throws(FerryError) in value = try body(conn) }, complete: { _ in })
            pthread_mutex_lock(connLock)
            let results = apply([job])
            pthread_mutex_unlock(connLock)
            return results[0]
        }
        pthread_mutex_lock(mutex)
        busy = false
        lastBatch = 1
        // Jobs that queued meanwhile (and a shutdown waiting for the connection) are the writer's again.
        if !queue.isEmpty || closed { pthread_cond_signal(cond) }
        pthread_mutex_unlock(mutex)
        if let err { return .failure(err) }
        guard let value else { return .failure(FerryError(.internal, "store: write finished without a result")) }
        return .success(value)
    }

    private func loop() {
        while true {
            pthread_mutex_lock(mutex)
            // Waits while an inline commit holds the connection, even when closing (it must finish first).
            while (queue.isEmpty && !closed) || busy { pthread_cond_wait(cond, mutex) }
            if queue.isEmpty && closed {
                pthread_mutex_unlock(mutex)
                return
            }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            busy = true
            pthread_mutex_unlock(mutex)
            pthread_mutex_lock(connLock)
            let results = apply(batch)
            pthread_mutex_unlock(connLock)
            pthread_mutex_lock(mutex)
            busy = false
            lastBatch = batch.count
            pthread_mutex_unlock(mutex)
            for (job, err) in zip(batch, results) { job.complete(err) }
        }
    }

    /// One transaction for the whole batch; per-job savepoints isolate a failing job.
    private func apply(_ batch: [Job]) -> [FerryError?] {
        var results = [FerryError?](repeating: nil, count: batch.count)
        do { try conn.execCached("BEGIN IMMEDIATE") } catch { return results.map { _ in error } }
        let single = batch.count == 1
        var anyApplied = false
        for (i, job) in batch.enumerated() {
            do throws(FerryError) {
                if !single { try conn.execCached("SAVEPOINT g") }
                do throws(FerryError) {
                    try job.apply(conn)
                    if !single { try conn.execCached("RELEASE g") }
                    anyApplied = true
                } catch {
                    results[i] = error
                    if !single { try conn.exec("ROLLBACK TO g"); try conn.exec("RELEASE g") }
                }
            } catch {
                // The transaction itself is broken (I/O error, disk full, ...: SQLite may already have rolled
                // it back, and it is rolled back here otherwise): no job of the batch is durable, including the
                // ones before this one that had applied cleanly.
                for k in 0..<batch.count where results[k] == nil { results[k] = error }
                if conn.inTransaction { try? conn.exec("ROLLBACK") }
                return results
            }
        }
        guard anyApplied else {
            try? conn.exec("ROLLBACK")
            return results
        }
        do { try conn.execCached("COMMIT") } catch {
            try? conn.exec("ROLLBACK")
            return results.map { _ in error }
        }
        pthread_mutex_lock(mutex)
        statsValue.transactions += 1
        statsValue.items += results.count(where: { $0 == nil })
        statsValue.maxBatch = max(statsValue.maxBatch, batch.count)
        pthread_mutex_unlock(mutex)
        return results
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
    var error: FerryError?
}

private extension Int32 {
    var asBool: Bool { self != 0 }
}
