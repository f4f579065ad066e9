import ArgumentParser
import FerryCore
import FerryJSON
import FerryRuntime

#if canImport(Glibc)
import Glibc
#endif

enum FerryVersion {
    static let string = "0.1.0"
}

/// Subcommands contributed by other areas; registered here so FerryCommand.swift stays one list.
let extraCommands: [ParsableCommand.Type] = runCommands + [
    CallCommand.self, OpsCommand.self, EmulatorCommand.self, DemoCommand.self,
]

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print Ferry's version.")
    @Flag(help: "Print as JSON.") var json = false

    func run() {
        if json { print(JSON.object(["version": .string(FerryVersion.string)]).serialized()) }
        else { print("ferry \(FerryVersion.string)") }
    }
}

/// `ferry query EXPR`: the standard JMESPath command-line contract (document on stdin, result on stdout;
/// on failure the error type on stderr and a non-zero exit).
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query", abstract: "Evaluate a JMESPath expression over JSON read from stdin.")
    @Argument(help: "The JMESPath expression.") var expression: String
    @Flag(help: "Pretty-print the result.") var pretty = false

    func run() throws {
        let input = readAllStdin()
        let data: JSON
        do { data = try JSONParser.parse(bytes: input) } catch {
            throw CLIError(FerryError.from(error, field: "stdin"))
        }
        do {
            let result = try Engine.query(expression, data)
            print(result.serialized(pretty ? [.pretty] : []))
        } catch {
            let kind = error.details["type"]?.stringValue ?? error.code.name
            throw CLIError(error, prefix: kind)
        }
    }
}

/// Prints a Ferry error to stderr as `<prefix>: <message>` and exits with `exitCode`.
struct CLIError: Error, CustomStringConvertible {
    let error: FerryError
    let prefix: String
    let exitCode: Int32

    init(_ error: FerryError, prefix: String? = nil, exitCode: Int32 = 1) {
        self.error = error
        self.prefix = prefix ?? error.code.name
        self.exitCode = exitCode
    }

    var description: String { "\(prefix): \(error.message)" }
}

func readAllStdin() -> [UInt8] { readAll(fd: 0) }

/// The whole file, or nil when it cannot be opened (each caller reports that in its own terms).
func readFileBytes(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    return readAll(fd: fd)
}

/// Every byte from `fd` until end of file.
func readAll(fd: Int32) -> [UInt8] {
    var data: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n <= 0 { break }
        data.append(contentsOf: chunk[0..<n])
    }
    return data
}

/// `ferry errors`: the stable error code table (docs/errors.md is generated from it, so the two cannot drift).
struct ErrorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "errors", abstract: "List Ferry's stable error codes.")
    @Flag(help: "Print the Markdown table used for docs/errors.md.") var markdown = false

    func run() {
        if markdown {
            print(ErrorTable.markdown(), terminator: "")
        } else {
            print(JSON.array(ErrorCode.all.map { c in
                ["code": .string(c.name), "status": .int(Int(c.status)), "retryable": .bool(c.retryable),
                 "meaning": .string(ErrorTable.meaning[c.name] ?? "")]
            }).serialized([.pretty]))
        }
    }
}

enum ErrorTable {
    static let meaning: [String: String] = [
        "invalid_json": "An argument is not valid JSON; details give field, line, column and byte offset.",
        "invalid_argument": "A NULL, wrongly typed, unknown or out-of-range argument or field; details.field names it.",
        "not_found": "No such operation, run, task or resource.",
        "closed": "The handle was already closed.",
        "internal": "A bug in Ferry. Please report it with the message.",
        "too_large": "An input exceeds the size or nesting limit.",
        "invalid_utf8": "An argument is not valid UTF-8; details.offset is the first bad byte.",
        "busy": "Another caller is advancing the same run (or a re-entrant call from a callback). Try again later.",
        "timeout": "A deadline passed (per attempt, per step, or a network timeout).",
        "cancelled": "The run or call was cancelled.",
        "unsupported": "Not supported by this build or configuration.",
        "invalid_expression": "A JMESPath expression does not compile; details.type is syntax, unknown-function or invalid-arity.",
        "expression_failed": "A JMESPath expression failed at run time; details.type is invalid-type or invalid-value.",
        "throttled": "The provider throttled the request.",
        "unavailable": "The provider or the network is unavailable (5xx, connection refused or reset).",
        "auth_failed": "The provider rejected the credentials or the signature.",
        "permission_denied": "The credentials lack a permission.",
        "conflict": "The resource's current state does not allow the change.",
        "provider_error": "Any other provider error; details carry provider_code, provider_message, http_status, request_id.",
        "missing_credentials": "No credentials for the provider; the message names the environment variables to set.",
        "invalid_workflow": "The workflow document is invalid; details.location names the field (e.g. steps[3].until).",
        "run_failed": "The run failed; its history and compensation record why.",
        "needs_attention": "The run stopped because Ferry could not decide safely whether a side effect happened; see its evidence.",
        "missing_input": "A required input (for example a secret not kept in the store) was not provided.",
        "store_error": "The run store failed (disk, corruption, or a locked database).",
        "emulator_error": "The emulator could not start, stop or apply an admin request.",
    ]

    static func markdown() -> String {
        var s = "# Error codes\n\nEvery error Ferry reports has the shape `{\"code\": \"...\", \"message\": \"...\", \"details\": {...}}`.\n"
        s += "The C ABI returns the status number; names and numbers are stable. Generated by `ferry errors --markdown`.\n\n"
        s += "| status | code | retryable by default | meaning |\n|---:|---|---|---|\n"
        s += "| 0 | ok | | Success. |\n"
        for c in ErrorCode.all {
            s += "| \(c.status) | `\(c.name)` | \(c.retryable ? "yes" : "no") | \(meaning[c.name] ?? "") |\n"
        }
        return s
    }
}
