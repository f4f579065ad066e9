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

/// Subcommands contributed by other areas; registered here so main.swift stays one list.
let extraCommands: [ParsableCommand.Type] = []

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

func readAllStdin() -> [UInt8] {
    var data: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(0, &chunk, chunk.count)
        if n <= 0 { break }
        data.append(contentsOf: chunk[0..<n])
    }
    return data
}
