import ArgumentParser
import FerryCore
import FerryEmulator
import FerryJSON
import FerryRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `ferry demo`: the day-one tour. Starts the emulator in-process (its clock sped up so a Redis migration takes
/// seconds), runs the DCS online-migration runbook with a live progress view, approves its cutover gate and prints a
/// summary. Then the resilience half: a second run is driven by a child `ferry drive` process, killed with SIGKILL
/// mid-migration, resumed from the SQLite store by a fresh process, and the emulator's audit log shows every
/// mutating call happened exactly once.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Rehearse a Redis migration against the built-in emulator, then survive a SIGKILL mid-migration.",
        discussion: """
            Everything runs locally: the emulator stands in for Huawei Cloud DCS and injects two throttling \
            errors for the runbook to absorb. Exit status 0 when both runs succeed and the audit log shows each \
            mutating call once.
            """)

    @Option(help: "The runbook to run (default: examples/workflows/dcs-online-redis-migration.yaml of this checkout).")
    var workflow: String?
    @Option(name: .customLong("time-scale"), help: "Emulated seconds per real second.")
    var timeScale: Double = 30
    @Option(name: .customLong("work-dir"), help: "Directory for the run store and logs (default: a new temporary one).")
    var workDir: String?
    @Flag(help: "Plain progress lines even on a terminal.") var plain = false
    @Flag(name: .customLong("skip-resilience"), help: "Run only the first half (no child process, no SIGKILL).")
    var skipResilience = false

    func run() async throws {
        let started = WallClock.monotonic()
        let out = DemoOutput(live: !plain && isatty(1) == 1)
        let path = try workflow ?? DemoFiles.findRunbook()
        let text = try DemoFiles.read(path)
        let doc: JSON
        do { doc = try WorkflowLoader.parse(text: text, source: path) } catch { throw CLIError(error) }
        let dir = try workDir ?? DemoFiles.makeTempDir()
        let store = dir + "/runs.db"

        out.line("Ferry demo — Huawei Cloud DCS online Redis migration, rehearsed against the built-in emulator")
        out.line("  runbook: \(path)")
        out.line("  store:   \(store)")

        // 1. The emulator, in-process: the DCS phases are shortened and its clock runs `timeScale` times faster.
        //    Two throttling errors are injected for the runbook's retry policy to absorb.
        let emulator = Emulator(config: try Self.emulatorConfig(timeScale: timeScale))
        let info: JSON
        do { info = try await emulator.start() } catch { throw CLIError(error) }
        let config = Self.engineConfig(info: info, store: store)
        out.line("  emulator: \(info["base_url"]?.stringValue ?? "?") (time x\(Self.fmt(timeScale)), faults: 2 throttles)")
        out.line("")

        let engine: Engine
        do { engine = try Engine(config: config) } catch { throw CLIError(error) }
        let api = DemoRuns(engine: engine)

        // 2. The first run, in this process, with a live view.
        out.line("▶ Part 1 — run the migration, approve the cutover")
        let secrets: JSONObject = ["source_password": "demo-source-Redis-pw", "target_password": "demo-target-Redis-pw"]
        let tag = DemoFiles.stamp()
        let first = try await Self.firstRun(api: api, emulator: emulator, doc: doc, secrets: secrets, tag: tag, out: out)
        out.line("")

        var ok = first.ok
        if !skipResilience {
            out.line("▶ Part 2 — SIGKILL the process driving a second migration, resume it from the store")
            let configFile = dir + "/engine.json"
            try DemoFiles.write(configFile, config.serialized([.pretty]) + "\n")
            let resilience = try await Self.resilience(api: api, emulator: emulator, doc: doc, secrets: secrets,
                                                       configFile: configFile, dir: dir, tag: tag, out: out)
            ok = ok && resilience
            out.line("")
        }
        await engine.shutdown()
        await emulator.stop()
        let total = WallClock.monotonic() - started
        out.line(ok ? "✔ demo finished in \(Self.fmt(total))s" : "✘ demo failed after \(Self.fmt(total))s")
        out.line("  look around: ferry list --store \(store)   ferry history demo-\(tag)-\(skipResilience ? 1 : 2) --store \(store)")
        if !ok { throw ExitCode(1) }
    }

    // MARK: - Configuration

    static func emulatorConfig(timeScale: Double) throws -> EmulatorConfig {
        let json: JSON = [
            "time_scale": .double(timeScale),
            // Emulated seconds: VM 30s, full sync 2 min, stop 10s (about 5 real seconds at x30).
            "timings": ["dcs_vm_create_s": 30, "dcs_full_s": 120, "dcs_stop_s": 10, "dcs_source_keys": 250_000],
            "faults": [
                ["id": "throttle-create", "operation": "huawei.dcs.CreateOnlineMigrationTask", "kind": "throttle", "count": 1],
                ["id": "throttle-show", "operation": "huawei.dcs.ShowMigrationTask", "kind": "throttle", "count": 1],
            ],
        ]
        do { return try EmulatorConfig(json: json) } catch { throw CLIError(error) }
    }

    static func engineConfig(info: JSON, store: String) -> JSON {
        let key = JSON.string(EmulatorConfig.defaultAccessKeyID), secret = JSON.string(EmulatorConfig.defaultAccessKeySecret)
        return [
            "store": .string(store),
            "endpoints": info["endpoints"] ?? [:],
            "credentials": [
                "huawei": ["ak": key, "sk": secret, "project_id": info["huawei_project_id"] ?? .null],
                "alibaba": ["access_key_id": key, "access_key_secret": secret],
            ],
            "regions": ["huawei": "cn-north-4", "alibaba": "cn-hangzhou"],
            // A killed driver's lease lapses quickly, so a resume is not held up (a unit in flight still keeps
            // its lease for the attempt's timeout).
            "runtime": ["lease_seconds": 5],
        ]
    }

    static func inputs(taskName: String, secrets: JSONObject) -> JSON {
        var o: JSONObject = [
            "task_name": .string(taskName), "vpc_id": "vpc-demo-01", "subnet_id": "subnet-demo-01",
            "security_group_id": "sg-demo-01", "source_addrs": "10.0.0.12:6379", "target_instance_id": "dcs-demo-target",
        ]
        for (k, v) in secrets { o[k] = v }
        return .object(o)
    }

    // MARK: - Part 1

    struct FirstResult { var ok: Bool }

    static func firstRun(api: DemoRuns, emulator: Emulator, doc: JSON, secrets: JSONObject, tag: String,
                         out: DemoOutput) async throws -> FirstResult {
        let t0 = WallClock.monotonic()
        let status0 = try await api.start(doc, inputs: inputs(taskName: "demo-redis-1", secrets: secrets),
                                          options: ["run_id": .string("demo-\(tag)-1")])
        guard let runID = status0["run_id"]?.stringValue else { throw CLIError(FerryError(.internal, "start returned no run_id")) }
        let view = ProgressView(doc: doc, runID: runID, out: out, t0: t0)
        var status = status0
        while true {
            status = try await api.advance(runID, options: [:])
            let events = try api.newEvents(runID, after: view.lastSeq)
            let task = await DemoAdmin.task(emulator, name: "demo-redis-1")
            view.absorb(events, task: task)
            view.render(status: status, task: task)
            switch status["status"]?.stringValue ?? "" {
            case "running": continue
            case "waiting":
                let wake = status["next_wake_at"]?.doubleValue ?? WallClock.now()
                // Keep the view moving while the run sleeps (the emulator's sync progresses meanwhile).
                while WallClock.now() < wake {
                    try await Task.sleep(nanoseconds: UInt64(min(0.1, max(0.01, wake - WallClock.now())) * 1e9))
                    view.render(status: status, task: await DemoAdmin.task(emulator, name: "demo-redis-1"))
                }
            case "waiting_gate":
                let gate = status["waiting_on"]?["gate"]?.stringValue ?? "cutover"
                view.note("gate '\(gate)': waiting for approval — approving as \"ferry demo\"")
                view.render(status: status, task: task)
                try await Task.sleep(nanoseconds: 700_000_000)  // long enough to see the pause
                _ = try api.signal(runID, name: gate, payload: ["approved_by": "ferry demo"])
            default:
                view.finish(status: status, task: task)
                let history = try api.newEvents(runID, after: 0)
                let ok = status["status"]?.stringValue == "succeeded"
                Self.summary(status: status, events: history, elapsed: WallClock.monotonic() - t0, out: out)
                return FirstResult(ok: ok)
            }
        }
    }

    static func summary(status: JSON, events: [JSON], elapsed: Double, out: DemoOutput) {
        let steps = status["steps"]?.objectValue ?? [:]
        let done = steps.values.filter { ["succeeded", "skipped"].contains($0["status"]?.stringValue ?? "") }.count
        let attempts = events.filter { $0["type"]?.stringValue == "attempt_started" }.count
        let retried = events.filter { $0["type"]?.stringValue == "attempt_failed" && $0["data"]?["retry_at"] != nil }
        let polls = events.filter { ["poll_pending", "poll_done"].contains($0["type"]?.stringValue ?? "") }.count
        let codes = retried.compactMap { $0["data"]?["error"]?["code"]?.stringValue }
        let outputs = status["outputs"] ?? .null
        out.line("  ─ summary ─────────────────────────────────────────────")
        out.line("  run            \(status["run_id"]?.stringValue ?? "?")  \(status["status"]?.stringValue ?? "?")")
        out.line("  steps          \(done) of \(steps.count) done")
        out.line("  attempts       \(attempts) provider calls (\(polls) of them status checks)")
        out.line("  retries        \(retried.count) absorbed\(codes.isEmpty ? "" : " (\(Dictionary(grouping: codes, by: { $0 }).map { "\($0.value.count)× \($0.key)" }.sorted().joined(separator: ", ")))")")
        out.line("  elapsed        \(fmt(elapsed))s")
        out.line("  final task     \(outputs["task_id"]?.stringValue ?? "?") \(outputs["final_status"]?.stringValue ?? "?") (\(outputs["source_keys"]?.stringValue ?? "?") keys, approved by \(outputs["approved_by"]?.stringValue ?? "?"))")
        if let e = status["error"], !e.isNull { out.line("  error          \(e["message"]?.stringValue ?? e.serialized())") }
    }

    // MARK: - Part 2

    static func resilience(api: DemoRuns, emulator: Emulator, doc: JSON, secrets: JSONObject, configFile: String,
                           dir: String, tag: String, out: DemoOutput) async throws -> Bool {
        let taskName = "demo-redis-2"
        let runID = "demo-\(tag)-2"
        _ = try await api.start(doc, inputs: inputs(taskName: taskName, secrets: secrets), options: ["run_id": .string(runID)])
        out.line("  started run \(runID) in the store; a child process drives it:")
        let exe = DemoFiles.selfExecutable()
        let childArgs = DemoRuns.driveArguments(runID: runID, configFile: configFile, secrets: secrets)
        // Shown as typed in the work directory, secrets masked.
        let shown = childArgs.map { $0.contains("=demo-") ? DemoFiles.maskSecretArg($0) : ($0 == configFile ? "engine.json" : $0) }
            .joined(separator: " ")
        out.line("    $ ferry \(shown)")
        let child = try DemoProcess.spawn(exe, childArgs, log: dir + "/child-1.log")

        // Kill it once the migration is under way (the full sync is running) and the child sits between units
        // (a unit in flight would keep its lease for the attempt's timeout before another process may resume).
        var killedAt: JSON?
        let deadline = WallClock.monotonic() + 40
        while WallClock.monotonic() < deadline {
            if let code = DemoProcess.exited(child) {
                out.line("  ✘ the child exited (status \(code)) before it could be killed; see \(dir)/child-1.log")
                return false
            }
            let task = await DemoAdmin.task(emulator, name: taskName)
            out.status("    child pid \(child): task \(task?["status"]?.stringValue ?? "-")  full sync \(task?["stats"]?["full_migration_progress"]?.stringValue ?? "0")%")
            let progress = Double(task?["stats"]?["full_migration_progress"]?.stringValue ?? "") ?? 0
            if task?["status"]?.stringValue == "FULLMIGRATING", progress >= 25,
               let st = try? api.status(runID), st["status"]?.stringValue == "waiting",
               let wake = st["next_wake_at"]?.doubleValue, wake - WallClock.now() > 0.25 {
                kill(child, SIGKILL)
                _ = DemoProcess.wait(child)
                killedAt = ["step": st["current_step"] ?? .null,
                            "progress": task?["stats"]?["full_migration_progress"] ?? .null]
                out.clearStatus()
                break
            }
            try await Task.sleep(nanoseconds: 30_000_000)
        }
        guard let killedAt else {
            kill(child, SIGKILL)
            _ = DemoProcess.wait(child)
            out.line("  ✘ the migration did not reach the full sync in time; see \(dir)/child-1.log")
            return false
        }
        out.line("  ✝ SIGKILL pid \(child) at step \(killedAt["step"]?.stringValue ?? "?") — full sync \(killedAt["progress"]?.stringValue ?? "?")%, nothing cleaned up")
        let after = try api.status(runID)
        out.line("  the store still has the run: \(after["status"]?.stringValue ?? "?") at \(after["current_step"]?.stringValue ?? "?")")

        // The approval can come before the gate is reached: the signal waits in the store for it.
        _ = try api.signal(runID, name: "cutover", payload: ["approved_by": "ferry demo (pre-approved)"])
        out.line("  cutover pre-approved (the signal waits in the store for the gate)")
        out.line("  a fresh process resumes the run from the store:")
        out.line("    $ ferry \(shown)")
        let t1 = WallClock.monotonic()
        var code: Int32?
        var attempt = 0
        while code == nil || code == 1 {
            attempt += 1
            let log = dir + "/child-\(attempt + 1).log"
            let resumed = try DemoProcess.spawn(exe, childArgs, log: log)
            code = nil
            while code == nil {
                if WallClock.monotonic() - t1 > 45 {
                    kill(resumed, SIGKILL)
                    _ = DemoProcess.wait(resumed)
                    out.line("  ✘ the resumed process did not finish in 45s; see \(log)")
                    return false
                }
                let task = await DemoAdmin.task(emulator, name: taskName)
                out.status("    task \(task?["status"]?.stringValue ?? "?")  full sync \(task?["stats"]?["full_migration_progress"]?.stringValue ?? "?")%")
                try await Task.sleep(nanoseconds: 100_000_000)
                code = DemoProcess.exited(resumed)
            }
            // Only if the kill landed inside a provider call does the dead process still hold the run's lease:
            // the resume then reports busy until the lease lapses.
            guard code == 1, (try? DemoFiles.read(log))?.contains("busy") == true else { break }
            out.line("  the killed process still holds the run's lease; retrying when it lapses")
            try await Task.sleep(nanoseconds: 2_000_000_000)
        }
        out.clearStatus()
        let final = try api.status(runID)
        out.line("  resumed process exited \(code ?? -1) after \(fmt(WallClock.monotonic() - t1))s: run \(final["status"]?.stringValue ?? "?"), task \(final["outputs"]?["final_status"]?.stringValue ?? "?")")

        // The proof: the emulator's audit log of applied mutating calls for this task.
        let audit = await DemoAdmin.audit(emulator)
        let counts = DemoAdmin.mutations(audit, taskName: taskName)
        out.line("  emulator audit log, mutating calls for task \(taskName):")
        var once = true
        for op in ["huawei.dcs.CreateOnlineMigrationTask", "huawei.dcs.SetOnlineMigrationTask", "huawei.dcs.StopMigrationTask"] {
            let n = counts[op] ?? 0
            once = once && n == 1
            out.line("    \(n == 1 ? "✔" : "✘") \(op.demoPad(40)) \(n)×")
        }
        for (op, n) in counts.sorted(by: { $0.key < $1.key }) where !op.hasSuffix("CreateOnlineMigrationTask") && !op.hasSuffix("SetOnlineMigrationTask") && !op.hasSuffix("StopMigrationTask") {
            once = false
            out.line("    ✘ \(op.demoPad(40)) \(n)× (unexpected)")
        }
        out.line(once ? "  each mutating call happened exactly once, across the kill and the resume"
                      : "  ✘ some mutating call did not happen exactly once")
        return once && code == 0 && final["status"]?.stringValue == "succeeded"
    }

    static func fmt(_ d: Double) -> String {
        let tenths = Int((d * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

// MARK: - Engine access (one place for the run API calls)

struct DemoRuns {
    let engine: Engine

    func start(_ doc: JSON, inputs: JSON, options: JSON) async throws -> JSON {
        do { return try await engine.runs.startRun(workflow: doc, inputs: inputs, options: options) } catch { throw CLIError(error) }
    }

    func advance(_ runID: String, options: JSON) async throws -> JSON {
        do { return try await engine.runs.advanceRun(runID, options: options) } catch { throw CLIError(error) }
    }

    func status(_ runID: String) throws -> JSON {
        do { return try engine.runs.runStatus(runID) } catch { throw CLIError(error) }
    }

    func signal(_ runID: String, name: String, payload: JSON) throws -> JSON {
        do { return try engine.runs.signalRun(runID, name: name, payload: payload) } catch { throw CLIError(error) }
    }

    func newEvents(_ runID: String, after seq: Int) throws -> [JSON] {
        do { return try engine.runs.runHistory(runID, options: ["after_seq": .int(seq)])["events"]?.arrayValue ?? [] } catch {
            throw CLIError(error)
        }
    }

    /// The `ferry drive` command line a child process runs (secrets given again: they are never stored).
    static func driveArguments(runID: String, configFile: String, secrets: JSONObject) -> [String] {
        var args = ["drive", runID, "--config", configFile, "--budget", "60"]
        for (k, v) in secrets { args += ["--secret", "\(k)=\(v.stringValue ?? "")"] }
        return args
    }
}

// MARK: - Emulator admin helpers

enum DemoAdmin {
    static func task(_ emulator: Emulator, name: String) async -> JSON? {
        let r = await emulator.admin("GET", "/_ferry/resources/huawei.dcs.task")
        return r["items"]?.arrayValue?.last { $0["task_name"]?.stringValue == name }
    }

    static func audit(_ emulator: Emulator) async -> [JSON] {
        await emulator.admin("GET", "/_ferry/audit")["entries"]?.arrayValue ?? []
    }

    /// Applied mutating calls per operation for the task named `taskName` (found by its create call).
    static func mutations(_ entries: [JSON], taskName: String) -> [String: Int] {
        var taskIDs = Set<String>()
        var counts: [String: Int] = [:]
        for e in entries {
            let op = e["operation"]?.stringValue ?? ""
            guard op.hasPrefix("huawei.dcs.") else { continue }
            if e["params"]?["body"]?["name"]?.stringValue == taskName || e["params"]?["body"]?["task_name"]?.stringValue == taskName {
                if let id = e["effect"]?["created"]?["task_id"]?.stringValue { taskIDs.insert(id) }
                counts[op, default: 0] += 1
            } else if let id = e["params"]?["task_id"]?.stringValue, taskIDs.contains(id) {
                counts[op, default: 0] += 1
            }
        }
        return counts
    }
}

// MARK: - Live progress

final class ProgressView {
    struct StepLine { var id: String; var kind: String; var op: String }
    let steps: [StepLine]
    let runID: String
    let out: DemoOutput
    let t0: Double
    var lastSeq = 0
    var notes: [String] = []
    var polls: [String: Int] = [:]
    var retries: [String: Int] = [:]
    var stepStatus: [String: String] = [:]

    init(doc: JSON, runID: String, out: DemoOutput, t0: Double) {
        steps = (doc["steps"]?.arrayValue ?? []).map { s in
            let kind = ["call", "poll", "wait", "assert", "gate", "set"].first { s[$0] != nil } ?? "?"
            let op = (kind == "call" || kind == "poll") ? (s[kind]?.stringValue ?? "") : (kind == "gate" ? "signal '\(s["gate"]?.stringValue ?? "")'" : "")
            return StepLine(id: s["id"]?.stringValue ?? "?", kind: kind, op: op)
        }
        self.runID = runID
        self.out = out
        self.t0 = t0
    }

    var elapsed: String { DemoCommand.fmt(WallClock.monotonic() - t0) + "s" }

    func note(_ s: String) {
        notes.append("[\(elapsed.demoLeftPad(6))] \(s)")
        if !out.live { out.line("  " + notes[notes.count - 1]) }
    }

    func absorb(_ events: [JSON], task: JSON?) {
        for e in events {
            lastSeq = max(lastSeq, e["seq"]?.intValue ?? lastSeq)
            let step = e["step"]?.stringValue ?? ""
            let data = e["data"] ?? .null
            switch e["type"]?.stringValue ?? "" {
            case "step_started": stepStatus[step] = "running"
            case "step_succeeded":
                stepStatus[step] = "succeeded"
                if !out.live { note("\(step) ✔") }
            case "step_skipped": stepStatus[step] = "skipped"
            case "step_failed":
                stepStatus[step] = "failed"
                note("\(step) ✘ \(data["error"]?["message"]?.stringValue ?? "")")
            case "attempt_started":
                if !out.live, let op = data["operation"]?.stringValue, polls[step] == nil { note("\(step): \(op)") }
            case "attempt_failed":
                let code = data["error"]?["code"]?.stringValue ?? "error"
                if let d = data["delay"]?.doubleValue {
                    retries[step, default: 0] += 1
                    note("\(step): \(code) — retrying in \(DemoCommand.fmt(d))s (absorbed)")
                } else {
                    note("\(step): \(code) — \(data["error"]?["message"]?.stringValue ?? "")")
                }
            case "poll_pending":
                polls[step, default: 0] += 1
                if !out.live {
                    let state = task.map { t in
                        "task \(t["status"]?.stringValue ?? "?"), full sync \(t["stats"]?["full_migration_progress"]?.stringValue ?? "?")%"
                    } ?? "not yet"
                    note("\(step): check \(data["poll"]?.intValue ?? 0) — \(state)")
                }
            case "poll_done": polls[step, default: 0] += 1
            case "gate_waiting": stepStatus[step] = "gate"
            case "signal_consumed": note("\(step): signal '\(data["signal"]?.stringValue ?? "")' received — continuing")
            case "compensation_started": note("compensation started")
            case "run_succeeded": note("run succeeded")
            case "run_failed": note("run failed")
            default: break
            }
        }
    }

    func render(status: JSON, task: JSON?) {
        guard out.live else { return }
        var lines: [String] = ["  run \(runID)  \(status["status"]?.stringValue ?? "")  \(elapsed)"]
        let current = status["current_step"]?.stringValue
        for s in steps {
            let st = stepStatus[s.id] ?? "pending"
            let icon: String
            switch st {
            case "succeeded": icon = "\u{1B}[32m✔\u{1B}[0m"
            case "skipped": icon = "–"
            case "failed": icon = "\u{1B}[31m✘\u{1B}[0m"
            case "gate": icon = "\u{1B}[33m⏸\u{1B}[0m"
            default: icon = s.id == current ? "\u{1B}[36m▸\u{1B}[0m" : "·"
            }
            var detail = s.op
            if let n = polls[s.id] { detail += "  \(n) check\(n == 1 ? "" : "s")" }
            if let r = retries[s.id] { detail += "  (\(r) retr\(r == 1 ? "y" : "ies") absorbed)" }
            if s.id == current, s.kind == "poll", let task, s.id.contains("incremental") || s.id.contains("sync") {
                let p = Double(task["stats"]?["full_migration_progress"]?.stringValue ?? "0") ?? 0
                detail += "  " + Self.bar(p / 100) + " \(Int(p))%"
            }
            lines.append("  \(icon) \(s.id.demoPad(18)) \(detail)")
        }
        if let task {
            lines.append("  DCS task \(String((task["task_id"]?.stringValue ?? "").prefix(8)))…  \((task["status"]?.stringValue ?? "").demoPad(14)) keys \(task["transferred_keys"]?.intValue ?? 0)")
        }
        lines += notes.suffix(4).map { "  " + $0 }
        out.frame(lines)
    }

    func finish(status: JSON, task: JSON?) {
        render(status: status, task: task)
        out.endFrame()
    }

    static func bar(_ f: Double) -> String {
        let n = 20, k = max(0, min(n, Int((f * Double(n)).rounded(.down))))
        return String(repeating: "█", count: k) + String(repeating: "░", count: n - k)
    }
}

/// Writes to stdout: plain lines, or (on a terminal) a frame redrawn in place.
final class DemoOutput {
    let live: Bool
    private var frameLines = 0
    private var statusShown = false

    init(live: Bool) { self.live = live }

    func line(_ s: String) {
        clearStatus()
        print(s)
        fflush(nil)
    }

    func frame(_ lines: [String]) {
        var s = ""
        if frameLines > 0 { s += "\u{1B}[\(frameLines)A\u{1B}[J" }
        s += lines.joined(separator: "\n") + "\n"
        print(s, terminator: "")
        fflush(nil)
        frameLines = lines.count
    }

    func endFrame() { frameLines = 0 }

    /// A one-line status that the next line replaces (terminal only).
    func status(_ s: String) {
        guard live else { return }
        print("\r\u{1B}[K" + s, terminator: "")
        fflush(nil)
        statusShown = true
    }

    func clearStatus() {
        guard statusShown else { return }
        print("\r\u{1B}[K", terminator: "")
        statusShown = false
    }
}

// MARK: - Files and processes

enum DemoFiles {
    static let runbook = "examples/workflows/dcs-online-redis-migration.yaml"

    /// The runbook of this checkout: from the current directory, else next to the executable's build folder.
    static func findRunbook() throws -> String {
        var candidates = [runbook]
        var dir = selfExecutable()
        for _ in 0..<6 {
            guard let slash = dir.lastIndex(of: "/") else { break }
            dir = String(dir[..<slash])
            if dir.isEmpty { break }
            candidates.append(dir + "/" + runbook)
        }
        for c in candidates where access(c, R_OK) == 0 { return c }
        throw CLIError(FerryError(.notFound, "cannot find \(runbook); run from the Ferry checkout or pass --workflow PATH"))
    }

    static func selfExecutable() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        if n > 0 {
            buf[n] = 0
            return String(cString: buf)
        }
        return CommandLine.arguments.first ?? "ferry-cli"
    }

    static func read(_ path: String) throws -> String {
        guard let bytes = readFileBytes(path) else { throw CLIError(FerryError(.notFound, "cannot open \(path)")) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func write(_ path: String, _ text: String) throws {
        guard let f = fopen(path, "wb") else { throw CLIError(FerryError(.storeError, "cannot write \(path)")) }
        defer { fclose(f) }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, f) }
    }

    static func makeTempDir() throws -> String {
        var template = Array("/tmp/ferry-demo-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw CLIError(FerryError(.storeError, "cannot create a temporary directory")) }
        return String(cString: p)
    }

    /// A short random tag, so runs of several demos sharing a --work-dir never collide.
    static func stamp() -> String { String(UInt32.random(in: 0..<UInt32.max), radix: 16) }

    static func maskSecretArg(_ a: String) -> String {
        guard let eq = a.firstIndex(of: "=") else { return a }
        return String(a[...eq]) + Redaction.mask
    }
}

enum DemoProcess {
    /// Starts `exe args...` with stdout and stderr appended to `log`; returns the pid.
    static func spawn(_ exe: String, _ args: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([exe] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, nil, argv, environ)
        guard rc == 0 else { throw CLIError(FerryError(.internal, "cannot start \(exe): error \(rc)")) }
        return pid
    }

    /// The exit status if the process has ended (reaping it), else nil.
    static func exited(_ pid: pid_t) -> Int32? {
        var st: Int32 = 0
        let r = waitpid(pid, &st, WNOHANG)
        guard r == pid else { return nil }
        return decode(st)
    }

    static func wait(_ pid: pid_t) -> Int32 {
        var st: Int32 = 0
        while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
        return decode(st)
    }

    static func decode(_ st: Int32) -> Int32 {
        // WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out (the C macros are not imported).
        let sig = st & 0x7f
        return sig == 0 ? (st >> 8) & 0xff : 128 + sig
    }
}

extension String {
    func demoPad(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    func demoLeftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
