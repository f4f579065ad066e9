import ArgumentParser
import FerryCatalog
import FerryCore
import FerryJSON
import FerryProviders

#if canImport(Glibc)
import Glibc
#endif

/// `ferry call OPERATION`: one signed provider call; prints the response body JSON.
/// Credentials come from the environment (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, HUAWEICLOUD_SDK_AK/SK or
/// CLOUD_SDK_AK/SK, HUAWEICLOUD_SDK_PROJECT_ID) or from --config.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call", abstract: "Call one provider operation and print the response body as JSON.",
        discussion: "Parameters are keyed by their wire names (see `ferry ops NAME`).")

    @Argument(help: "Operation name, e.g. alibaba.mse.ListMigrationTask.") var operation: String
    @Option(help: "Parameters as a JSON object, or @file.json.") var params: String?
    @Option(name: .short, help: "One parameter as key=value (repeatable); dotted keys set nested fields.")
    var p: [String] = []
    @Option(help: "Endpoint override SERVICE=URL, e.g. huawei.dcs=http://127.0.0.1:8080 (repeatable).")
    var endpoint: [String] = []
    @Option(help: "Region for the operation's provider.") var region: String?
    @Option(help: "JSON file with the engine config (credentials, regions, endpoints, http).") var config: String?
    @Flag(name: .customLong("reveal-secrets"), help: "Do not redact secret response fields.") var revealSecrets = false
    @Flag(help: "Pretty-print the response.") var pretty = false

    func run() async throws {
        guard let op = Catalog.operation(operation) else {
            throw CLIError(FerryError(.notFound, "unknown operation \(operation) (run `ferry ops` for the list)",
                                      details: ["operation": .string(operation)]))
        }
        let parameters = try CallArguments.parameters(json: params, pairs: p, op: op)
        var configJSON: JSON? = nil
        if let config { configJSON = try EmulatorCommand.readJSON(config, field: "--config") }
        var env: [String: String] = [:]
        var e = environ
        while let ptr = e.pointee {
            let s = String(cString: ptr)
            if let eq = s.firstIndex(of: "=") { env[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            e = e.advanced(by: 1)
        }
        let client: ProviderClient
        do throws(FerryError) {
            var cfg = try ProvidersConfig(config: configJSON, environment: env)
            for spec in endpoint {
                guard let eq = spec.firstIndex(of: "=") else {
                    throw FerryError.invalidArgument("--endpoint", "expected SERVICE=URL")
                }
                try cfg.setEndpoint(String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
            }
            if let region {
                if op.provider == "alibaba" { cfg.alibabaRegion = region } else { cfg.huaweiRegion = region }
            }
            client = ProviderClient(config: cfg, logger: LogHook().logger(label: "ferry.cli"))
        } catch { throw CLIError(error) }
        let result: Result<ProviderResponse, FerryError>
        do {
            result = .success(try await client.call(operation, params: parameters, revealSecrets: revealSecrets))
        } catch {
            result = .failure(error)
        }
        await client.shutdown()
        switch result {
        case .success(let r): print(r.body.serialized(pretty ? [.pretty] : []))
        case .failure(let e): throw CLIError(e)
        }
    }
}

/// Parsing of `--params` and `-p key=value`, kept separate so it is easy to test and reuse.
enum CallArguments {
    static func parameters(json: String?, pairs: [String], op: OperationSpec) throws -> JSON {
        var object = JSONObject()
        if let json {
            let parsed: JSON
            if json.hasPrefix("@") {
                parsed = try EmulatorCommand.readJSON(String(json.dropFirst()), field: "--params")
            } else {
                do { parsed = try JSONParser.parse(json) } catch { throw CLIError(FerryError.from(error, field: "--params")) }
            }
            guard case .object(let o) = parsed else {
                throw CLIError(FerryError.invalidArgument("--params", "must be a JSON object"))
            }
            object = o
        }
        for pair in pairs {
            guard let eq = pair.firstIndex(of: "=") else {
                throw CLIError(FerryError.invalidArgument("-p", "expected key=value, got \(pair.split(separator: "=").first ?? "")"))
            }
            let keyPath = pair[..<eq].split(separator: ".").map(String.init)
            let raw = String(pair[pair.index(after: eq)...])
            guard let top = keyPath.first else { throw CLIError(FerryError.invalidArgument("-p", "empty key")) }
            // String-typed parameters take the text as is; others parse it as JSON (numbers, booleans, arrays).
            let stringTyped: Bool
            if keyPath.count == 1, let spec = op.parameter(top) {
                switch spec.schema {
                case .string: stringTyped = true
                case .union: stringTyped = (try? JSONParser.parse(raw))?.intValue == nil
                default: stringTyped = false
                }
            } else {
                stringTyped = false
            }
            let value: JSON = stringTyped ? .string(raw) : ((try? JSONParser.parse(raw)) ?? .string(raw))
            set(&object, keyPath[...], value)
        }
        return .object(object)
    }

    static func set(_ o: inout JSONObject, _ path: ArraySlice<String>, _ value: JSON) {
        guard let head = path.first else { return }
        if path.count == 1 { o[head] = value; return }
        var inner = o[head]?.objectValue ?? [:]
        set(&inner, path.dropFirst(), value)
        o[head] = .object(inner)
    }
}
