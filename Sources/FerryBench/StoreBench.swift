import CSQLite
import FerryCatalog
import FerryCore
import FerryEmulator
import FerryJSON
import FerryProviders
import FerryRuntime
import Foundation

#if canImport(Glibc)
import Glibc
#endif

// `ferry-bench store <mode> [options]` — durable-runtime benchmarks (rows 6, 7, 8 of BENCHMARKS.md), the store
// seeding for the CLI cold-start row, and a provider-client loop against an external server (rows 1 and 3).
// Every mode prints one JSON object on one line; bench/run_all.py parses it.
//
//   sequential  --dir D --seconds S [--steps N]     one run at a time vs raw SQLite single-row transactions
//   concurrent  --dir D --seconds S [--runs 1000]   1,000 runs advancing at once vs raw SQLite (1 and 1,000 rows/tx)
//   idle        --dir D [--runs 10000] [--interval 30] [--cycles 2]
//                                                   10,000 runs polling every 30 s: RSS and CPU of this process
//   seed        --store PATH [--runs 10000]         creates runs (not advanced) for `ferry status` timing
//   client      --port P [--calls N] [--concurrency C]
//                                                   ProviderClient calls/s against an already running canned server
//                                                   (`ferry-bench providers --serve`), the same server wrk and the
//                                                   Python SDKs hit
//
// Durability is the runtime's default everywhere: SQLite WAL with synchronous=FULL (an fsync per commit); the raw
// comparison uses the same file system and the same pragmas.
func runStoreBench(_ args: [String]) {
    let mode = args.first ?? ""
    let opts = StoreBenchOptions(Array(args.dropFirst()))
    let sema = DispatchSemaphore(value: 0)
    let box = StoreBenchBox()
    Task.detached {
        do {
            switch mode {
            case "sequential": box.value = try await sequentialBench(opts)
            case "concurrent": box.value = try await concurrentBench(opts)
            case "idle": box.value = try await idleBench(opts)
            case "seed": box.value = try await seedBench(opts)
            case "client": box.value = try await clientBench(opts)
            default:
                box.value = ["error": "usage: ferry-bench store sequential|concurrent|idle|seed|client [options]"]
            }
        } catch let e as FerryError {
            box.value = ["error": e.json]
        } catch {
            box.value = ["error": .string(String(describing: error))]
        }
        sema.signal()
    }
    sema.wait()
    print(box.value.serialized([.sortedKeys]))
}

private final class StoreBenchBox: @unchecked Sendable { var value: JSON = .null }

struct StoreBenchOptions: Sendable {
    var values: [String: String] = [:]
    init(_ args: [String]) {
        var i = 0
        while i < args.count {
            if args[i].hasPrefix("--"), i + 1 < args.count { values[String(args[i].dropFirst(2))] = args[i + 1]; i += 1 }
            i += 1
        }
    }
    func double(_ k: String, _ d: Double) -> Double { values[k].flatMap(Double.init) ?? d }
    func int(_ k: String, _ d: Int) -> Int { values[k].flatMap(Int.init) ?? d }
    func string(_ k: String, _ d: String) -> String { values[k] ?? d }
}

private final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

/// Where finished units hand their run's next wake-up back to the scheduler loop.
private final class WakeInbox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(wake: Double, id: String)] = []
    private var running = 0
    func begin() { lock.lock(); running += 1; lock.unlock() }
    func end(_ id: String, _ wake: Double?) {
        lock.lock()
        running -= 1
        if let wake { items.append((wake, id)) }
        lock.unlock()
    }
    var inFlight: Int { lock.lock(); defer { lock.unlock() }; return running }
    func take() -> [(wake: Double, id: String)] {
        lock.lock(); defer { lock.unlock() }
        let out = items
        items.removeAll(keepingCapacity: true)
        return out.sorted { $0.wake < $1.wake }
    }
}

/// A counter shared by many tasks.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    private var errors: [String] = []
    func add(_ k: Int = 1) { lock.lock(); n += k; lock.unlock() }
    func fail(_ e: String) { lock.lock(); if errors.count < 5 { errors.append(e) }; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    var errorList: [String] { lock.lock(); defer { lock.unlock() }; return errors }
}

// MARK: - Environment: an in-process emulator and an engine pointed at it

private let benchTaskID = "bench-task-0001"

private struct BenchEnv {
    let emulator: Emulator
    let engine: Engine

    let info: JSON

    static func make(store: String) async throws -> BenchEnv {
        // time_scale 0: the emulator's clock stands still, so the seeded task stays INCRMIGRATING for the whole run.
        let emulator = Emulator(config: try EmulatorConfig(json: ["port": 0, "time_scale": 0]))
        let info = try await emulator.start()
        _ = await emulator.admin("POST", "/_ferry/resources/huawei.dcs.task",
                                 ["task_id": .string(benchTaskID), "task_name": "bench", "status": "INCRMIGRATING"])
        return BenchEnv(emulator: emulator, engine: try Engine(config: engineConfig(info, store: store)), info: info)
    }

    static func engineConfig(_ info: JSON, store: String, synchronous: String = "full") -> JSON {
        let key = JSON.string(EmulatorConfig.defaultAccessKeyID), secret = JSON.string(EmulatorConfig.defaultAccessKeySecret)
        return [
            "store": .string(store),
            "endpoints": info["endpoints"] ?? [:],
            "credentials": [
                "huawei": ["ak": key, "sk": secret, "project_id": info["huawei_project_id"] ?? .null],
                "alibaba": ["access_key_id": key, "access_key_secret": secret],
            ],
            "regions": ["huawei": "cn-north-4", "alibaba": "cn-hangzhou"],
            "runtime": ["synchronous": .string(synchronous)],
        ]
    }

    /// Creation is not what is measured: a separate engine on the same file creates the runs with
    /// synchronous=NORMAL (quick); the measured engine (synchronous=FULL) then resumes them from the store, as a
    /// restarted host process would.
    func seedRuns(store: String, workflow: JSON, inputs: JSON, count: Int) async throws -> [String] {
        let seeder = try Engine(config: Self.engineConfig(info, store: store, synchronous: "normal"))
        var ids: [String] = []
        ids.reserveCapacity(count)
        for _ in 0..<count {
            let s = try await seeder.runs.startRun(workflow: workflow, inputs: inputs, options: [:])
            ids.append(s["run_id"]?.stringValue ?? "")
        }
        await seeder.shutdown()
        return ids
    }

    /// Closes the engine (store and HTTP clients). The emulator is left running until the process exits:
    /// stopping its server while client connections are still being accepted can trip a NIOAsyncWriter
    /// precondition (seen once with 10,000 runs), and a benchmark must not lose its result to teardown.
    func shutdown() async {
        await engine.shutdown()
    }
}

/// A workflow of `n` call steps, each one signed GET to the emulator (huawei.dcs.ShowMigrationTask).
private func callWorkflow(steps n: Int) -> JSON {
    let steps: [JSON] = (0..<n).map { i in
        ["id": .string("s\(i)"), "call": "huawei.dcs.ShowMigrationTask", "with": ["task_id": "${inputs.task_id}"]]
    }
    return ["ferry": 1, "name": "bench-calls", "inputs": ["task_id": ["type": "string"]], "steps": .array(steps)]
}

/// A workflow of `n` steps with no external call (`set`): what the store and the engine cost without the provider.
/// A unit runs every step that needs no side effect, so one advance takes such a run from start to end in one commit.
private func setWorkflow(steps n: Int) -> JSON {
    let steps: [JSON] = (0..<n).map { i in ["id": .string("s\(i)"), "set": .object(["v\(i)": "${inputs.task_id}"])] }
    return ["ferry": 1, "name": "bench-sets", "inputs": ["task_id": ["type": "string"]], "steps": .array(steps)]
}

/// Write-transaction counts of an engine's store between two points.
private struct StoreCounts {
    var transactions = 0, items = 0, maxBatch = 0
    init(_ runs: RunManager) {
        let s = runs.storeStats()
        transactions = s["transactions"]?.intValue ?? 0
        items = s["items"]?.intValue ?? 0
        maxBatch = s["max_batch"]?.intValue ?? 0
    }
    static func - (a: StoreCounts, b: StoreCounts) -> (transactions: Int, items: Int) { (a.transactions - b.transactions, a.items - b.items) }
}

private func ratio(_ a: Int, _ b: Int) -> JSON { b == 0 ? .null : .double((Double(a) / Double(b) * 1000).rounded() / 1000) }

/// One poll step that never finishes within the benchmark: a check every `interval` seconds.
private func pollWorkflow(interval: Double) -> JSON {
    [
        "ferry": 1, "name": "bench-poll", "inputs": ["task_id": ["type": "string"]],
        "steps": [[
            "id": "wait_done", "poll": "huawei.dcs.ShowMigrationTask", "with": ["task_id": "${inputs.task_id}"],
            "interval": .string("\(Int(interval))s"), "timeout": "24h", "until": "output.status == 'TERMINATED'",
        ]],
    ]
}

private func makeTempDir(_ base: String) throws -> String {
    var template = Array((base + "/ferry-store-bench-XXXXXX").utf8CString)
    guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw FerryError(.storeError, "cannot create a temporary directory under \(base)")
    }
    return String(cString: p)
}

// MARK: - Raw SQLite

/// Raw SQLite with the runtime's settings (WAL, synchronous=FULL): a prepared INSERT of a ~200-byte row,
/// `rowsPerTx` rows per BEGIN IMMEDIATE ... COMMIT. Returns rows/s and transactions/s.
private func rawSQLite(path: String, seconds: Double, rowsPerTx: Int, synchronous: String = "FULL") throws -> (rows: Double, tx: Double) {
    var db: OpaquePointer?
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK, let db else {
        throw FerryError(.storeError, "raw sqlite: cannot open \(path)")
    }
    defer { sqlite3_close_v2(db) }
    func exec(_ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
            throw FerryError(.storeError, "raw sqlite: \(String(cString: sqlite3_errmsg(db)))")
        }
    }
    try exec("PRAGMA journal_mode=WAL")
    try exec("PRAGMA synchronous=\(synchronous)")
    try exec("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, data TEXT NOT NULL)")
    var stmt: OpaquePointer?
    guard sqlite3_prepare_v2(db, "INSERT INTO t(run_id, data) VALUES (?, ?)", -1, &stmt, nil) == SQLITE_OK, let stmt else {
        throw FerryError(.storeError, "raw sqlite: prepare failed")
    }
    defer { sqlite3_finalize(stmt) }
    let payload = String(repeating: "x", count: 200)
    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    var rows = 0, txs = 0
    let start = WallClock.monotonic()
    let deadline = start + seconds
    while WallClock.monotonic() < deadline {
        try exec("BEGIN IMMEDIATE")
        for _ in 0..<rowsPerTx {
            sqlite3_bind_text(stmt, 1, "run-\(rows % 1000)", -1, transient)
            sqlite3_bind_text(stmt, 2, payload, -1, transient)
            guard sqlite3_step(stmt) == SQLITE_DONE else { throw FerryError(.storeError, "raw sqlite: insert failed") }
            sqlite3_reset(stmt)
            rows += 1
        }
        try exec("COMMIT")
        txs += 1
    }
    let elapsed = WallClock.monotonic() - start
    return (Double(rows) / elapsed, Double(txs) / elapsed)
}

// MARK: - Row 6: one run at a time

/// Advances one run at a time through call steps; each advance is one unit: attempt recorded with the lease taken
/// (commit), the signed call, outcome recorded + lease released (commit). A "step transition" here is one committed
/// change of a step's durable state: 2 per call step (attempt started, outcome). Then the same loop over runs of
/// `set` steps (no provider call): the store and engine without the call's cost.
func sequentialBench(_ o: StoreBenchOptions) async throws -> JSON {
    let dir = try makeTempDir(o.string("dir", NSTemporaryDirectory()))
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let seconds = o.double("seconds", 5)
    let stepsPerRun = o.int("steps", 20)
    let env = try await BenchEnv.make(store: dir + "/runs.db")
    let wf = callWorkflow(steps: stepsPerRun)
    let inputs: JSON = ["task_id": .string(benchTaskID)]
    // Warm-up: one whole run (connection pool, caches).
    var warm = try await env.engine.runs.startRun(workflow: wf, inputs: inputs, options: [:])
    while warm["status"]?.stringValue == "running" {
        warm = try await env.engine.runs.advanceRun(warm["run_id"]?.stringValue ?? "")
    }
    guard warm["status"]?.stringValue == "succeeded" else {
        await env.shutdown()
        throw FerryError(.runFailed, "warm-up run ended \(warm["status"]?.stringValue ?? "?"): \(warm["error"]?.serialized() ?? "")")
    }
    var steps = 0, runs = 0
    var current: String?
    let counts0 = StoreCounts(env.engine.runs)
    let start = WallClock.monotonic()
    let deadline = start + seconds
    while WallClock.monotonic() < deadline {
        if current == nil {
            let s = try await env.engine.runs.startRun(workflow: wf, inputs: inputs, options: [:])
            current = s["run_id"]?.stringValue
            runs += 1
        }
        let s = try await env.engine.runs.advanceRun(current ?? "")
        steps += 1
        switch s["status"]?.stringValue {
        case "running": break
        case "succeeded": current = nil
        default:
            await env.shutdown()
            throw FerryError(.runFailed, "run ended \(s["status"]?.stringValue ?? "?"): \(s["error"]?.serialized() ?? "")")
        }
    }
    let elapsed = WallClock.monotonic() - start
    let callCounts = StoreCounts(env.engine.runs) - counts0
    // Variant without provider calls: the same loop over runs of `set` steps (one advance finishes a run).
    let setSteps = max(1, o.int("set-steps", 20))
    let setWF = setWorkflow(steps: setSteps)
    var setRuns = 0
    let setCounts0 = StoreCounts(env.engine.runs)
    let setStart = WallClock.monotonic()
    let setDeadline = setStart + seconds
    while WallClock.monotonic() < setDeadline {
        let id = try await env.engine.runs.startRun(workflow: setWF, inputs: inputs, options: [:])["run_id"]?.stringValue ?? ""
        let s = try await env.engine.runs.advanceRun(id)
        guard s["status"]?.stringValue == "succeeded" else {
            await env.shutdown()
            throw FerryError(.runFailed, "set run ended \(s["status"]?.stringValue ?? "?"): \(s["error"]?.serialized() ?? "")")
        }
        setRuns += 1
    }
    let setElapsed = WallClock.monotonic() - setStart
    let setCounts = StoreCounts(env.engine.runs) - setCounts0
    await env.shutdown()
    let raw = try rawSQLite(path: dir + "/raw.db", seconds: min(seconds, 3), rowsPerTx: 1)
    let stepsPerS = Double(steps) / elapsed
    let setStepsDone = setRuns * setSteps
    return [
        "benchmark": "store-sequential", "seconds": .double(elapsed), "steps_per_run": .int(stepsPerRun),
        "call_steps": .int(steps), "runs_started": .int(runs),
        "call_steps_per_s": .double(stepsPerS.rounded()),
        "transitions_per_s": .double((2 * stepsPerS).rounded()),
        // Measured: write transactions (each one fsync) per call step, run creation included (1 per run).
        "commits_per_call_step": ratio(callCounts.transactions, steps),
        "store_transactions": .int(callCounts.transactions), "store_transactions_per_s": .double((Double(callCounts.transactions) / elapsed).rounded()),
        "set_seconds": .double(setElapsed), "set_steps_per_run": .int(setSteps), "set_runs": .int(setRuns),
        "set_steps": .int(setStepsDone),
        "set_steps_per_s": .double((Double(setStepsDone) / setElapsed).rounded()),
        "set_transitions_per_s": .double((Double(setStepsDone) / setElapsed).rounded()),
        "set_runs_per_s": .double((Double(setRuns) / setElapsed).rounded()),
        "set_commits_per_step": ratio(setCounts.transactions, setStepsDone),
        "set_store_transactions_per_s": .double((Double(setCounts.transactions) / setElapsed).rounded()),
        "raw_single_row_tx_per_s": .double(raw.tx.rounded()),
        "synchronous": "FULL", "journal_mode": "WAL",
    ]
}

// MARK: - Row 7: 1,000 runs advancing at once

func concurrentBench(_ o: StoreBenchOptions) async throws -> JSON {
    let dir = try makeTempDir(o.string("dir", NSTemporaryDirectory()))
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let seconds = o.double("seconds", 5)
    let nRuns = o.int("runs", 1000)
    let stepsPerRun = o.int("steps", 20)
    let env = try await BenchEnv.make(store: dir + "/runs.db")
    let wf = callWorkflow(steps: stepsPerRun)
    let inputs: JSON = ["task_id": .string(benchTaskID)]
    let ids = try await env.seedRuns(store: dir + "/runs.db", workflow: wf, inputs: inputs, count: nRuns)
    let counter = Counter()
    let finished = Counter()
    let runs = env.engine.runs
    let counts0 = StoreCounts(runs)
    let start = WallClock.monotonic()
    let deadline = start + seconds
    await withTaskGroup(of: Void.self) { g in
        for id in ids {
            g.addTask {
                while WallClock.monotonic() < deadline {
                    do {
                        let s = try await runs.advanceRun(id)
                        counter.add()
                        let st = s["status"]?.stringValue
                        if st == "succeeded" { finished.add(); return }
                        if st != "running" { counter.fail("run \(id) ended \(st ?? "?")"); return }
                    } catch {
                        counter.fail(String(describing: error))
                        return
                    }
                }
            }
        }
    }
    let elapsed = WallClock.monotonic() - start
    let callCounts = StoreCounts(runs) - counts0
    let callMaxBatch = StoreCounts(runs).maxBatch
    // Variant without provider calls: each of the `runs` tasks starts runs of `set` steps and advances each
    // (one advance finishes such a run), for the same time.
    let setSteps = max(1, o.int("set-steps", 20))
    let setWF = setWorkflow(steps: setSteps)
    let setRuns = Counter()
    let setCounts0 = StoreCounts(runs)
    let setStart = WallClock.monotonic()
    let setDeadline = setStart + seconds
    await withTaskGroup(of: Void.self) { g in
        for _ in 0..<nRuns {
            g.addTask {
                while WallClock.monotonic() < setDeadline {
                    do {
                        let id = try await runs.startRun(workflow: setWF, inputs: inputs, options: [:])["run_id"]?.stringValue ?? ""
                        let s = try await runs.advanceRun(id)
                        guard s["status"]?.stringValue == "succeeded" else { counter.fail("set run \(id) ended \(s["status"]?.stringValue ?? "?")"); return }
                        setRuns.add()
                    } catch {
                        counter.fail(String(describing: error))
                        return
                    }
                }
            }
        }
    }
    let setElapsed = WallClock.monotonic() - setStart
    let setCounts = StoreCounts(runs) - setCounts0
    let setMaxBatch = StoreCounts(runs).maxBatch
    await env.shutdown()
    let rawSingle = try rawSQLite(path: dir + "/raw1.db", seconds: min(seconds, 3), rowsPerTx: 1)
    let rawGrouped = try rawSQLite(path: dir + "/raw1000.db", seconds: min(seconds, 3), rowsPerTx: 1000)
    let stepsPerS = Double(counter.value) / elapsed
    let setStepsDone = setRuns.value * setSteps
    return [
        "benchmark": "store-concurrent", "seconds": .double(elapsed), "runs": .int(nRuns),
        "steps_per_run": .int(stepsPerRun), "call_steps": .int(counter.value), "runs_finished": .int(finished.value),
        "call_steps_per_s": .double(stepsPerS.rounded()),
        "transitions_per_s": .double((2 * stepsPerS).rounded()),
        // Measured: commits (store writes) per call step, and write transactions (fsyncs) they were grouped into.
        "commits_per_call_step": ratio(callCounts.items, counter.value),
        "transactions_per_call_step": ratio(callCounts.transactions, counter.value),
        "store_transactions": .int(callCounts.transactions), "store_items": .int(callCounts.items),
        "store_transactions_per_s": .double((Double(callCounts.transactions) / elapsed).rounded()),
        "max_group": .int(callMaxBatch),
        "set_seconds": .double(setElapsed), "set_steps_per_run": .int(setSteps), "set_runs": .int(setRuns.value),
        "set_steps": .int(setStepsDone),
        "set_steps_per_s": .double((Double(setStepsDone) / setElapsed).rounded()),
        "set_transitions_per_s": .double((Double(setStepsDone) / setElapsed).rounded()),
        "set_runs_per_s": .double((Double(setRuns.value) / setElapsed).rounded()),
        "set_commits_per_step": ratio(setCounts.items, setStepsDone),
        "set_transactions_per_step": ratio(setCounts.transactions, setStepsDone),
        "set_store_transactions_per_s": .double((Double(setCounts.transactions) / setElapsed).rounded()),
        "set_max_group": .int(setMaxBatch),
        "errors": .array(counter.errorList.map(JSON.string)),
        "raw_single_row_tx_per_s": .double(rawSingle.tx.rounded()),
        "raw_1000_rows_per_tx_rows_per_s": .double(rawGrouped.rows.rounded()),
        "synchronous": "FULL", "journal_mode": "WAL",
    ]
}

// MARK: - Row 8: 10,000 runs polling every 30 s

private func residentKB() -> (rss: Int, hwm: Int) {
    guard let f = fopen("/proc/self/status", "r") else { return (0, 0) }
    defer { fclose(f) }
    var rss = 0, hwm = 0
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), f) != nil {
        let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let n = Int(s.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        if s.hasPrefix("VmRSS:") { rss = n }
        if s.hasPrefix("VmHWM:") { hwm = n }
    }
    return (rss, hwm)
}

private func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6
        + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
}

/// 10,000 runs, each on a poll step checking every `interval` seconds; the first checks are spread evenly over
/// the first interval (as a fleet started over time would be). Each run is driven by its own task that sleeps
/// until `next_wake_at` (what `drive` does). Measured after the first interval, for `cycles - 1` intervals:
/// CPU (getrusage, user+system, this whole process including the in-process emulator) and RSS (VmRSS sampled
/// every second).
func idleBench(_ o: StoreBenchOptions) async throws -> JSON {
    let dir = try makeTempDir(o.string("dir", NSTemporaryDirectory()))
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let nRuns = o.int("runs", 10_000)
    let interval = o.double("interval", 30)
    let cycles = max(2, o.int("cycles", 2))
    let driver = o.string("driver", "scheduler")
    let maxInFlight = max(1, o.int("in-flight", 256))
    let rssBefore = residentKB().rss
    let env = try await BenchEnv.make(store: dir + "/runs.db")
    let wf = pollWorkflow(interval: interval)
    let inputs: JSON = ["task_id": .string(benchTaskID)]
    var ids: [String] = []
    ids.reserveCapacity(nRuns)
    let t0 = WallClock.monotonic()
    ids = try await env.seedRuns(store: dir + "/runs.db", workflow: wf, inputs: inputs, count: nRuns)
    let createSeconds = WallClock.monotonic() - t0
    let rssAfterCreate = residentKB().rss
    let polls = Counter()
    let stop = StopFlag()
    let runs = env.engine.runs
    let spacing = interval / Double(nRuns)
    let driveStart = WallClock.monotonic()
    let drivers: Task<Void, Never>
    if driver == "tasks" {
        // One task per run, sleeping until `next_wake_at` between units (what `drive` does).
        drivers = Task {
            await withTaskGroup(of: Void.self) { g in
                for (i, id) in ids.enumerated() {
                    g.addTask {
                        do {
                            try await Task.sleep(nanoseconds: UInt64(Double(i) * spacing * 1e9))
                            while !stop.isSet {
                                let s = try await runs.advanceRun(id)
                                polls.add()
                                guard s["status"]?.stringValue == "waiting", let wake = s["next_wake_at"]?.doubleValue else {
                                    if !stop.isSet { polls.fail("run \(id): \(s["status"]?.stringValue ?? "?") \(s["error"]?.serialized() ?? "")") }
                                    return
                                }
                                let d = wake - WallClock.now()
                                if d > 0 { try await Task.sleep(nanoseconds: UInt64(d * 1e9)) }
                            }
                        } catch is CancellationError {
                        } catch {
                            if !stop.isSet { polls.fail(String(describing: error)) }
                        }
                    }
                }
            }
        }
    } else {
        // One scheduler loop: a queue of (next_wake_at, run) in wake order (a constant interval keeps it FIFO);
        // due runs are advanced by child tasks, up to `--in-flight` (default 256) at once. No task exists for a run between its units.
        let wallStart = WallClock.now()
        let done = WakeInbox()
        drivers = Task {
            await withDiscardingTaskGroup { g in
                var queue: [(wake: Double, id: String)] = ids.enumerated().map { (wallStart + Double($0.offset) * spacing, $0.element) }
                var head = 0
                while !stop.isSet {
                    queue.append(contentsOf: done.take())
                    let now = WallClock.now()
                    var started = 0
                    while head < queue.count, queue[head].wake <= now, done.inFlight < maxInFlight {
                        let id = queue[head].id
                        head += 1
                        started += 1
                        done.begin()
                        g.addTask {
                            var wake: Double?
                            do {
                                let s = try await runs.advanceRun(id)
                                polls.add()
                                if s["status"]?.stringValue == "waiting", let w = s["next_wake_at"]?.doubleValue {
                                    wake = w
                                } else {
                                    polls.fail("run \(id): \(s["status"]?.stringValue ?? "?") \(s["error"]?.serialized() ?? "")")
                                }
                            } catch {
                                polls.fail(String(describing: error))
                            }
                            done.end(id, wake)
                        }
                    }
                    if head > 50_000 { queue.removeFirst(head); head = 0 }
                    if started == 0 {
                        // Nothing due (or the in-flight limit reached): sleep until the next wake, at most 20 ms.
                        let next = head < queue.count ? queue[head].wake - now : 0.02
                        try? await Task.sleep(nanoseconds: UInt64(min(0.02, max(0.001, next)) * 1e9))
                    }
                }
            }
        }
    }
    // Sample RSS every second; CPU and poll count at the window edges.
    var rssSamples: [Int] = []
    var windowStart: (cpu: Double, wall: Double, polls: Int)?
    var windowCPU: [Double] = []  // per-5-second CPU fraction inside the window, for the spread
    var lastTick = (cpu: cpuSeconds(), wall: WallClock.monotonic())
    let end = driveStart + interval * Double(cycles)
    while WallClock.monotonic() < end {
        try? await Task.sleep(nanoseconds: 1_000_000_000)
        let now = WallClock.monotonic()
        let rss = residentKB().rss
        rssSamples.append(rss)
        if windowStart == nil, now - driveStart >= interval {
            windowStart = (cpuSeconds(), now, polls.value)
            lastTick = (windowStart!.cpu, now)
        } else if windowStart != nil, now - lastTick.wall >= 5 {
            let c = cpuSeconds()
            windowCPU.append((c - lastTick.cpu) / (now - lastTick.wall))
            lastTick = (c, now)
        }
    }
    let wEnd = (cpu: cpuSeconds(), wall: WallClock.monotonic(), polls: polls.value)
    stop.set()
    if driver == "tasks" { drivers.cancel() }  // wakes the sleepers; units in flight may end cancelled (not counted)
    await drivers.value
    await env.shutdown()
    // The store's commit capacity right now (same disk, same settings): a poll makes 2 commits, which concurrent
    // units share through group commit.
    let raw = try rawSQLite(path: dir + "/raw.db", seconds: 3, rowsPerTx: 1)
    let ws = windowStart ?? (0, driveStart, 0)
    let window = wEnd.wall - ws.wall
    let sortedRSS = rssSamples.sorted()
    let steady = Array(rssSamples.suffix(Int(interval)))
    return [
        "benchmark": "store-idle", "runs": .int(nRuns), "interval_s": .double(interval), "driver": .string(driver), "max_in_flight": .int(maxInFlight),
        "create_seconds": .double((createSeconds * 10).rounded() / 10),
        "window_seconds": .double((window * 10).rounded() / 10),
        "polls_in_window": .int(wEnd.polls - ws.polls), "polls_total": .int(wEnd.polls),
        "polls_per_s": .double(((Double(wEnd.polls - ws.polls) / window) * 10).rounded() / 10),
        "cpu_cores": .double(((wEnd.cpu - ws.cpu) / window * 1000).rounded() / 1000),
        "cpu_cores_5s_samples": .array(windowCPU.map { .double(($0 * 1000).rounded() / 1000) }),
        "rss_mb_start": .double(Double(rssBefore) / 1024),
        "rss_mb_after_create": .double(Double(rssAfterCreate) / 1024),
        "rss_mb_max": .double(Double(sortedRSS.last ?? 0) / 1024),
        "rss_mb_median_last_interval": .double(Double(steady.sorted()[steady.count / 2]) / 1024),
        "rss_mb_min_last_interval": .double(Double(steady.min() ?? 0) / 1024),
        "vmhwm_mb": .double(Double(residentKB().hwm) / 1024),
        "errors": .array(polls.errorList.map(JSON.string)),
        "raw_single_row_tx_per_s_after": .double(raw.tx.rounded()),
        "includes": "runtime + in-process emulator + SQLite (synchronous=FULL)",
    ]
}

// MARK: - Seed a store for `ferry status`

func seedBench(_ o: StoreBenchOptions) async throws -> JSON {
    let path = o.string("store", "")
    guard !path.isEmpty else { throw FerryError.invalidArgument("--store", "a store path is required") }
    let n = o.int("runs", 10_000)
    // Seeding only: synchronous=NORMAL keeps it quick; the file is the same format either way.
    let engine = try Engine(config: ["store": .string(path), "runtime": ["synchronous": "normal"]])
    let wf = callWorkflow(steps: 5)
    var last = JSON.null
    var middle = JSON.null
    for i in 0..<n {
        last = try await engine.runs.startRun(workflow: wf, inputs: ["task_id": .string("task-\(i)")], options: [:])
        if i == n / 2 { middle = last["run_id"] ?? .null }
    }
    await engine.shutdown()
    return ["benchmark": "store-seed", "store": .string(path), "runs": .int(n), "run_id": middle,
            "last_run_id": last["run_id"] ?? .null]
}

// MARK: - Provider client against an external canned server (rows 1 and 3)

/// Same operations and parameters as `ferry-bench providers` (providerBenchOps), but against a server in another
/// process, so the client is measured exactly as the Python SDKs and wrk are: across a process boundary.
func clientBench(_ o: StoreBenchOptions) async throws -> JSON {
    let port = o.int("port", 0)
    guard port > 0 else { throw FerryError.invalidArgument("--port", "the canned server's port is required") }
    let calls = max(10, o.int("calls", 2000))
    let concurrency = max(1, o.int("concurrency", 64))
    let url = "http://127.0.0.1:\(port)"
    let config = try ProvidersConfig(config: [
        "credentials": ["alibaba": ["access_key_id": "AKBENCH", "access_key_secret": "bench-secret"],
                        "huawei": ["ak": "HWBENCH", "sk": "bench-secret", "project_id": "0123456789abcdef0123456789abcdef"]],
        "endpoints": ["alibaba.rocketmq": .string(url), "alibaba.mse": .string(url), "huawei.rocketmq": .string(url),
                      "huawei.dcs": .string(url)],
    ], environment: [:])
    let client = ProviderClient(config: config, logger: LogHook().logger(label: "bench"))
    var results = JSONObject()
    // CPU per call: user+system of this process (getrusage) over the calls of one phase.
    func us(_ cpu0: Double, _ n: Int) -> JSON { .double(((cpuSeconds() - cpu0) / Double(n) * 1e7).rounded() / 10) }
    for (name, params) in providerBenchOps {
        for _ in 0..<min(200, calls) { _ = try await client.call(name, params: params) }
        // Plain async caller (the global pool): each call hands off to its connection's event loop and back.
        var cpu0 = cpuSeconds()
        var t0 = WallClock.monotonic()
        for _ in 0..<calls { _ = try await client.call(name, params: params) }
        let seq = Double(calls) / (WallClock.monotonic() - t0)
        let seqCPU = us(cpu0, calls)
        let perWorker = max(1, calls * 4 / concurrency)
        cpu0 = cpuSeconds()
        t0 = WallClock.monotonic()
        try await withThrowingTaskGroup(of: Void.self) { g in
            for _ in 0..<concurrency {
                g.addTask { for _ in 0..<perWorker { _ = try await client.call(name, params: params) } }
            }
            try await g.waitForAll()
        }
        let conc = Double(perWorker * concurrency) / (WallClock.monotonic() - t0)
        let concCPU = us(cpu0, perWorker * concurrency)
        // Callers pinned to the client's event loops (ProviderClient.preferredTaskExecutor): no hand-offs.
        cpu0 = cpuSeconds()
        t0 = WallClock.monotonic()
        try await withTaskExecutorPreference(client.preferredTaskExecutor()) {
            for _ in 0..<calls { _ = try await client.call(name, params: params) }
        }
        let seqPinned = Double(calls) / (WallClock.monotonic() - t0)
        let seqPinnedCPU = us(cpu0, calls)
        cpu0 = cpuSeconds()
        t0 = WallClock.monotonic()
        try await withThrowingTaskGroup(of: Void.self) { g in
            for _ in 0..<concurrency {
                g.addTask(executorPreference: client.preferredTaskExecutor()) {
                    for _ in 0..<perWorker { _ = try await client.call(name, params: params) }
                }
            }
            try await g.waitForAll()
        }
        let concPinned = Double(perWorker * concurrency) / (WallClock.monotonic() - t0)
        let concPinnedCPU = us(cpu0, perWorker * concurrency)
        results[name] = ["sequential_calls_per_s": .double(seq.rounded()), "concurrent_calls_per_s": .double(conc.rounded()),
                         "sequential_cpu_us_per_call": seqCPU, "concurrent_cpu_us_per_call": concCPU,
                         "sequential_pinned_calls_per_s": .double(seqPinned.rounded()),
                         "concurrent_pinned_calls_per_s": .double(concPinned.rounded()),
                         "sequential_pinned_cpu_us_per_call": seqPinnedCPU, "concurrent_pinned_cpu_us_per_call": concPinnedCPU]
    }
    await client.shutdown()
    return ["benchmark": "provider-client", "calls": .int(calls), "concurrency": .int(concurrency),
            "server": .string(url), "providers": .object(results)]
}
