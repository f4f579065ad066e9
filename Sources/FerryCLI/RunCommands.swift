import ArgumentParser
import FerryCore
import FerryJSON
import FerryRuntime

#if canImport(Glibc)
import Glibc
#endif

/// The run commands: `ferry validate | start | advance | drive | status | list | history | cancel | signal`.
///
/// Every command prints JSON on stdout; errors go to stderr as `<code>: <message>`.
/// Commands that report a run exit with its state:
///
/// | exit | meaning |
/// |---:|---|
/// | 0 | the run succeeded (or, for commands without a run, the command succeeded) |
/// | 1 | the run failed or was cancelled, or the command failed (error on stderr) |
/// | 2 | usage error: bad option value, unreadable file |
/// | 3 | the run is waiting (`next_wake_at`) or has more work: call `advance`/`drive` again |
/// | 4 | the run waits at a gate (`waiting_on.gate`): send the signal, then drive again |
/// | 5 | the run needs attention (`attention`): decide with `ferry signal RUN_ID ferry.resolve` |
let runCommands: [ParsableCommand.Type] = [
    ValidateCommand.self, StartCommand.self, AdvanceCommand.self, DriveCommand.self, StatusCommand.self,
    ListCommand.self, HistoryCommand.self, SignalCommand.self, CancelCommand.self,
]

enum RunExit {
    static func code(for status: JSON) -> Int32 {
        switch status["status"]?.stringValue {
        case "succeeded": return 0
        case "running", "waiting": return 3
        case "waiting_gate": return 4
        case "needs_attention": return 5
        default: return 1
        }
    }
}

/// Options shared by the commands that open the run store.
struct EngineOptions: ParsableArguments {
    @Option(help: "JSON file with the engine config (store, credentials, regions, endpoints, http, runtime).")
    var config: String?
    @Option(help: "SQLite file holding the runs (default: $FERRY_STORE, else ./ferry.db; overrides the config's store).")
    var store: String?
    @Option(help: "Endpoint override SERVICE=URL, e.g. huawei.dcs=http://127.0.0.1:8080 (repeatable).")
    var endpoint: [String] = []
    @Flag(help: "Pretty-print the JSON output.") var pretty = false

    func engineConfig(defaultStore: String? = nil) throws -> JSON {
        var cfg: JSON = [:]
        if let config { cfg = try CLIFiles.readJSON(config, field: "--config") }
        guard case .object(var o) = cfg else { throw CLIUsage("--config: expected a JSON object") }
        if let store { o["store"] = .string(store) } else if o["store"] == nil {
            let env = Environment.current["FERRY_STORE"]
            o["store"] = .string(defaultStore ?? ((env?.isEmpty == false) ? env! : "./ferry.db"))
        }
        if !endpoint.isEmpty {
            var eps = o["endpoints"]?.objectValue ?? [:]
            for spec in endpoint {
                guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex else { throw CLIUsage("--endpoint: expected SERVICE=URL, got '\(spec)'") }
                eps[String(spec[..<eq])] = .string(String(spec[spec.index(after: eq)...]))
            }
            o["endpoints"] = .object(eps)
        }
        return .object(o)
    }

    func withEngine(defaultStore: String? = nil, _ body: (Engine) async throws(FerryError) -> JSON) async throws -> JSON {
        let engine: Engine
        do { engine = try Engine(config: try engineConfig(defaultStore: defaultStore)) } catch let e as FerryError {
            throw CLIError(e)
        }
        let result: Result<JSON, FerryError>
        do { result = .success(try await body(engine)) } catch { result = .failure(error) }
        await engine.shutdown()
        switch result {
        case .success(let j): return j
        case .failure(let e): throw CLIError(e)
        }
    }

    func emit(_ j: JSON) { print(j.serialized(pretty ? [.pretty] : [])) }
}

/// Secret inputs for a run. `--secret` puts the value in argv, where `ps` and shell history can see it, so the
/// value can also come from a file (`--secret-file`, e.g. a mounted Kubernetes secret) or the environment.
struct SecretOptions: ParsableArguments {
    @Option(name: .customLong("secret"), help: "A secret input NAME=VALUE (repeatable); never written to the store.")
    var secrets: [String] = []
    @Option(name: .customLong("secret-file"),
            help: "A secret input NAME=PATH: the value is the file's content without a trailing newline (repeatable).")
    var secretFiles: [String] = []
    @Option(name: .customLong("secret-env"),
            help: "A secret input NAME=VARIABLE: the value is that environment variable's (repeatable).")
    var secretEnv: [String] = []

    func object() throws -> JSONObject {
        var o = JSONObject()
        func add(_ flag: String, _ arg: String, _ what: String, _ value: (String) throws -> String) throws {
            guard let eq = arg.firstIndex(of: "="), eq != arg.startIndex else {
                throw CLIUsage("--\(flag): expected NAME=\(what)")
            }
            let name = String(arg[..<eq])
            guard o[name] == nil else { throw CLIUsage("--\(flag): secret input '\(name)' is given twice") }
            o[name] = .string(try value(String(arg[arg.index(after: eq)...])))
        }
        for s in secrets { try add("secret", s, "VALUE") { $0 } }
        for s in secretFiles {
            try add("secret-file", s, "PATH") { path in
                guard let bytes = readFileBytes(path) else { throw CLIUsage("--secret-file: cannot read \(path)") }
                guard var text = String(validating: bytes, as: UTF8.self) else {
                    throw CLIUsage("--secret-file: \(path) is not UTF-8 text")
                }
                // "\r\n" is one Character in Swift, so one removeLast drops either line ending.
                if text.hasSuffix("\n") || text.hasSuffix("\r\n") { text.removeLast() }
                return text
            }
        }
        for s in secretEnv {
            try add("secret-env", s, "VARIABLE") { variable in
                guard let value = getenv(variable).map({ String(cString: $0) }) else {
                    throw CLIUsage("--secret-env: environment variable \(variable) is not set")
                }
                return value
            }
        }
        return o
    }
}

func writeStderr(_ s: String) {
    let bytes = Array(s.utf8)
    let total = bytes.count
    var off = 0
    while off < total {
        let n = bytes.withUnsafeBytes { buf in write(2, buf.baseAddress.map { $0 + off }, total - off) }
        if n <= 0 { return }
        off += n
    }
}

struct CLIUsage: Error, CustomStringConvertible {
    let message: String
    init(_ m: String) { message = m }
    var description: String { "usage: \(message)" }
}

enum CLIFiles {
    static func readText(_ path: String, field: String) throws -> String {
        guard let bytes = readFileBytes(path) else { throw CLIUsage("\(field): cannot open \(path)") }
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw CLIError(FerryError(.invalidUTF8, "\(field): \(path) is not UTF-8"))
        }
        return s
    }

    static func readJSON(_ path: String, field: String) throws -> JSON {
        try parseJSON(try readText(path, field: field), field: field)
    }

    static func parseJSON(_ text: String, field: String) throws -> JSON {
        do throws(JSONParseError) { return try JSONParser.parse(text) } catch { throw CLIError(FerryError.from(error, field: field)) }
    }

    static func readWorkflow(_ path: String) throws -> JSON {
        let text = try readText(path, field: "FILE")
        do { return try WorkflowLoader.parse(text: text, source: path) } catch { throw CLIError(error) }
    }
}

/// Runs a command body, mapping usage errors to exit 2 and Ferry errors to exit 1 with `<code>: <message>`.
func runCLI(_ body: () async throws -> Int32) async throws {
    let code: Int32
    do { code = try await body() } catch let e as CLIUsage {
        writeStderr("\(e.description)\n")
        throw ExitCode(2)
    } catch let e as CLIError {
        writeStderr("\(e.description)\n")
        throw ExitCode(e.exitCode)
    }
    if code != 0 { throw ExitCode(code) }
}

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check a workflow (YAML or JSON); print its inputs and steps.")
    @Argument(help: "The workflow file.") var file: String
    @OptionGroup var engine: EngineOptions

    func run() async throws {
        try await runCLI {
            let doc = try CLIFiles.readWorkflow(file)
            let out = try await engine.withEngine(defaultStore: ":memory:") { (e) throws(FerryError) -> JSON in
                try e.runs.validateWorkflow(doc)
            }
            engine.emit(out)
            return 0
        }
    }
}

struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Record a new run of a workflow (no step runs until advance/drive).")
    @Argument(help: "The workflow file.") var file: String
    @OptionGroup var engine: EngineOptions
    @OptionGroup var secrets: SecretOptions
    @Option(help: "Inputs as a JSON object in a file.") var inputs: String?
    @Option(name: .customLong("input"), help: "One input NAME=VALUE (repeatable); VALUE is JSON when valid JSON, else a string.")
    var input: [String] = []
    @Option(name: .customLong("run-id"), help: "Choose the run id (1-128 printable characters).") var runID: String?

    func run() async throws {
        try await runCLI {
            let doc = try CLIFiles.readWorkflow(file)
            var values = JSONObject()
            if let inputs {
                guard case .object(let o) = try CLIFiles.readJSON(inputs, field: "--inputs") else { throw CLIUsage("--inputs: expected a JSON object") }
                values = o
            }
            for pair in input {
                guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else { throw CLIUsage("--input: expected NAME=VALUE") }
                let raw = String(pair[pair.index(after: eq)...])
                values[String(pair[..<eq])] = (try? JSONParser.parse(raw)) ?? .string(raw)
            }
            for (k, v) in try secrets.object() { values[k] = v }
            var options: JSONObject = [:]
            if let runID { options["run_id"] = .string(runID) }
            let out = try await engine.withEngine { (e) throws(FerryError) -> JSON in
                try await e.runs.startRun(workflow: doc, inputs: .object(values), options: .object(options))
            }
            engine.emit(out)
            return RunExit.code(for: out)
        }
    }
}

struct AdvanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advance", abstract: "Do one unit of work on a run (at most one provider call).")
    @Argument(help: "The run id.") var runID: String
    @OptionGroup var engine: EngineOptions
    @OptionGroup var secrets: SecretOptions

    func run() async throws {
        try await runCLI {
            let opts: JSON = ["secrets": .object(try secrets.object())]
            let out = try await engine.withEngine { (e) throws(FerryError) -> JSON in try await e.runs.advanceRun(runID, options: opts) }
            engine.emit(out)
            return RunExit.code(for: out)
        }
    }
}

struct DriveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drive",
        abstract: "Work on a run until it ends, reaches a gate, needs attention, or would sleep past the budget.",
        discussion: "On a terminal, progress is shown on stderr as it happens; the final status JSON goes to stdout.")
    @Argument(help: "The run id.") var runID: String
    @OptionGroup var engine: EngineOptions
    @OptionGroup var secrets: SecretOptions
    @Option(help: "Seconds (or a duration like 10m) the command may spend, sleeping included (default 60).")
    var budget: String = "60"
    @Flag(help: "Never show the live progress view.") var quiet = false

    func run() async throws {
        try await runCLI {
            guard let seconds = Double(budget) ?? parseDuration(budget), seconds >= 0 else {
                throw CLIUsage("--budget: expected seconds or a duration like 90s, 10m")
            }
            let live = !quiet && isatty(2) != 0 && isatty(1) != 0
            var opts: JSONObject = ["secrets": .object(try secrets.object()), "budget_seconds": .double(seconds)]
            let out = try await engine.withEngine { (e) throws(FerryError) -> JSON in
                if !live { return try await e.runs.driveRun(runID, options: .object(opts)) }
                // Live view: one unit at a time so each step's progress shows as it happens.
                let end = WallClock.now() + seconds
                var last: JSON = .null
                while true {
                    opts["max_units"] = 1
                    opts["budget_seconds"] = .double(max(0, end - WallClock.now()))
                    last = try await e.runs.driveRun(runID, options: .object(opts))
                    Progress.show(last)
                    let st = last["status"]?.stringValue ?? ""
                    if st != "running" && st != "waiting" { break }
                    if st == "waiting" {
                        let wake = last["next_wake_at"]?.doubleValue ?? WallClock.now()
                        if wake > end { break }
                        let d = wake - WallClock.now()
                        if d > 0 { try? await Task.sleep(nanoseconds: UInt64(d * 1e9)) }
                    }
                }
                Progress.finish()
                return last
            }
            engine.emit(out)
            return RunExit.code(for: out)
        }
    }

    func parseDuration(_ s: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (u, m) in units where s.hasSuffix(u) {
            if let n = Double(s.dropLast(u.count)) { return n * m }
        }
        return nil
    }
}

/// The live progress line of `ferry drive` on a terminal (stderr, rewritten in place).
enum Progress {
    static func show(_ s: JSON) {
        let status = s["status"]?.stringValue ?? "?"
        let step = s["current_step"]?.stringValue ?? "-"
        let attempts = s["current_step"]?.stringValue.flatMap { s["steps"]?[$0]?["attempts"]?.intValue } ?? 0
        var line = "\(s["run_id"]?.stringValue ?? "") \(status) step=\(step)"
        if attempts > 0 { line += " attempts=\(attempts)" }
        if let w = s["next_wake_at"]?.doubleValue { line += " wake in \(Int(max(0, w - WallClock.now())))s" }
        if let g = s["waiting_on"]?["gate"]?.stringValue { line += " gate=\(g)" }
        let done = s["steps"]?.objectValue?.values.filter { $0["status"] == "succeeded" || $0["status"] == "skipped" }.count ?? 0
        line += " done=\(done)"
        writeStderr("\r\u{1B}[2K\(line)")
    }

    static func finish() { writeStderr("\n") }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Print a run's status with each step's status, attempts and output.")
    @Argument(help: "The run id.") var runID: String
    @OptionGroup var engine: EngineOptions

    func run() async throws {
        try await runCLI {
            let out = try await engine.withEngine { (e) throws(FerryError) -> JSON in try e.runs.runStatus(runID) }
            engine.emit(out)
            return RunExit.code(for: out)
        }
    }
}

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the runs in the store.")
    @OptionGroup var engine: EngineOptions
    @Option(help: "Only runs with this status (repeatable).") var status: [String] = []
    @Option(help: "Only runs of this workflow name.") var workflow: String?
    @Option(help: "At most this many runs (default 100).") var limit: Int?
    @Flag(help: "Only runs whose wake-up time has come (what a scheduler should advance now).") var due = false

    func run() async throws {
        try await runCLI {
            var f = JSONObject()
            if !status.isEmpty { f["status"] = .array(status.map(JSON.string)) }
            if let workflow { f["workflow"] = .string(workflow) }
            if let limit { f["limit"] = .int(limit) }
            if due { f["due"] = true }
            let out = try await engine.withEngine { (e) throws(FerryError) -> JSON in try e.runs.listRuns(.object(f)) }
            engine.emit(out)
            return 0
        }
    }
}

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Print a run's event history.")
    @Argument(help: "The run id.") var runID: String
    @OptionGroup var engine: EngineOptions
    @Option(name: .customLong("after"), help: "Only events after this sequence number.") var after: Int?
    @Option(help: "At most this many events.") var limit: Int?

    func run() async throws {
        try await runCLI {
            var o = JSONObject()
            if let after { o["after_seq"] = .int(after) }
            if let limit { o["limit"] = .int(limit) }
            let out = try await engine.withEngine { (e) throws(FerryError) -> JSON in try e.runs.runHistory(runID, options: .object(o)) }
            engine.emit(out)
            return 0
        }
    }
}

struct SignalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal", abstract: "Send a signal to a run (a gate's approval, or ferry.resolve).")
    @Argument(help: "The run id.") var runID: String
    @Argument(help: "The signal name (a gate's signal, or ferry.resolve).") var name: String
    @OptionGroup var engine: EngineOptions
    @Option(help: "The payload as JSON (default null); readable by later steps as the gate's output.") var payload: String?

    func run() async throws {
        try await runCLI {
            var p: JSON = .null
            if let payload {
                p = try CLIFiles.parseJSON(payload, field: "--payload")
            }
            let out = try await engine.withEngine { (e) throws(FerryError) -> JSON in try e.runs.signalRun(runID, name: name, payload: p) }
            engine.emit(out)
            return RunExit.code(for: out)
        }
    }
}

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a run; its on_failure steps run on the next advance/drive.")
    @Argument(help: "The run id.") var runID: String
    @OptionGroup var engine: EngineOptions
    @Option(help: "Why (recorded in the history, readable as run.cancel_reason).") var reason: String?

    func run() async throws {
        try await runCLI {
            let out = try await engine.withEngine { (e) throws(FerryError) -> JSON in try await e.runs.cancelRun(runID, reason: reason) }
            engine.emit(out)
            return RunExit.code(for: out)
        }
    }
}
