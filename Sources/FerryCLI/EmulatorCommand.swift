import ArgumentParser
import Dispatch
import FerryCore
import FerryEmulator
import FerryJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `ferry emulator`: serve the four migration APIs on one loopback port until SIGINT/SIGTERM.
/// Prints one JSON line when ready: `{"base_url", "port", "endpoints", "access_keys" (ids only), "admin_url", ...}`.
struct EmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulator",
        abstract: "Run the local emulator of the Alibaba Cloud and Huawei Cloud migration APIs.",
        discussion: """
            Without --access-key the emulator accepts the documented test key \
            \(EmulatorConfig.defaultAccessKeyID) / \(EmulatorConfig.defaultAccessKeySecret) for both providers. \
            The admin API is under <base_url>/_ferry/ (seed, state, faults, audit, clock).
            """)

    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free port).") var port: Int = 0
    @Option(name: .customLong("access-key"), help: "Accepted key as ID:SECRET (repeatable).")
    var accessKeys: [String] = []
    @Option(name: .customLong("time-scale"), help: "Emulated seconds per real second (0 freezes the clock).")
    var timeScale: Double = 1.0
    @Option(help: "JSON file with faults: an array, or {\"faults\": [...]}.") var faults: String?
    @Option(help: "Snapshot file: state survives a restart.") var persist: String?
    @Option(name: .customLong("huawei-project-id"), help: "Only this Huawei project id is accepted.")
    var huaweiProjectID: String?
    @Option(help: "Seed of the fault dice and generated ids.") var seed: Int?
    @Option(help: "JSON file with a full emulator config (command-line options override it).") var config: String?

    func run() async throws {
        var cfg: JSONObject = [:]
        if let path = config {
            guard let o = try Self.readJSON(path, field: "--config").objectValue else {
                throw CLIError(.invalidArgument("--config", "must hold a JSON object"))
            }
            cfg = o
        }
        cfg["host"] = .string(host)
        cfg["port"] = .int(port)
        if !accessKeys.isEmpty { cfg["access_keys"] = .array(accessKeys.map { .string($0) }) }
        if timeScale != 1.0 || cfg["time_scale"] == nil { cfg["time_scale"] = .double(timeScale) }
        if let path = faults {
            let f = try Self.readJSON(path, field: "--faults")
            cfg["faults"] = f["faults"] ?? f
        }
        if let persist { cfg["persist_path"] = .string(persist) }
        if let huaweiProjectID { cfg["huawei_project_id"] = .string(huaweiProjectID) }
        if let seed { cfg["seed"] = .int(seed) }
        let emulatorConfig: EmulatorConfig
        do { emulatorConfig = try EmulatorConfig(json: .object(cfg)) } catch { throw CLIError(error) }

        // Take the signals before listening, so an early SIGTERM still stops cleanly.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        let sources = [SIGINT, SIGTERM].map { sig -> any DispatchSourceSignal in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { continuation.yield(sig) }
            s.resume()
            return s
        }

        let emulator = Emulator(config: emulatorConfig)
        let info: JSON
        do { info = try await emulator.start() } catch { throw CLIError(error) }
        print(info.serialized())
        fflush(nil)
        for await _ in signals { break }
        await emulator.stop()
        sources.forEach { $0.cancel() }
    }

    static func readJSON(_ path: String, field: String) throws -> JSON {
        guard let bytes = readFileBytes(path) else {
            throw CLIError(FerryError(.notFound, "\(field): cannot open \(path)"))
        }
        do { return try JSONParser.parse(bytes: bytes) } catch {
            throw CLIError(FerryError.from(error, field: field))
        }
    }
}
