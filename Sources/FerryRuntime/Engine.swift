import FerryCatalog
import FerryCore
import FerryJSON
import FerryProviders
import JMESPath
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Limits applied to everything a host hands in.
public struct Limits: Sendable {
    /// Largest JSON argument accepted, in bytes (config `limits.max_input_bytes`).
    public var maxInputBytes: Int = 64 << 20
    /// Deepest JSON nesting accepted (config `limits.max_depth`).
    public var maxDepth: Int = JSONParser.defaultMaxDepth

    public init() {}
}

/// The facade a host talks to: the C ABI and the CLI both go through it. One engine is safe to use from
/// many threads and tasks at once.
///
/// Config (JSON object; every key optional, unknown keys rejected by name):
/// `store`, `credentials`, `regions`, `endpoints`, `http`, `limits`, `runtime`.
public final class Engine: Sendable {
    public static let configKeys: Set<String> = [
        "store", "credentials", "regions", "endpoints", "http", "limits", "runtime",
    ]

    public let config: JSON
    public let logHook: LogHook
    public let limits: Limits
    public let logger: Logger
    /// Signed HTTP clients for the four services.
    public let providers: ProviderClient
    /// The catalog-checked path from workflow steps to providers.
    public let invoker: any OperationInvoker
    /// Durable runs: start, advance, drive, status, history, cancel, signal.
    public let runs: RunManager
    let queryCache = ExpressionCache(capacity: 256)

    public init(config: JSON = [:], environment: [String: String] = Environment.current) throws(FerryError) {
        guard case .object(let obj) = config else {
            throw FerryError(.invalidArgument, "config: expected a JSON object, got \(config.typeName)",
                             details: ["field": "config"])
        }
        for key in obj.keys where !Self.configKeys.contains(key) {
            throw FerryError(.invalidArgument, "config.\(key): unknown field (expected one of: \(Self.configKeys.sorted().joined(separator: ", ")))",
                             details: ["field": .string("config.\(key)")])
        }
        var limits = Limits()
        if let l = obj["limits"] {
            guard case .object(let lo) = l else { throw FerryError.invalidArgument("config.limits", "expected an object") }
            for (k, v) in lo {
                switch k {
                case "max_input_bytes":
                    guard let n = v.intValue, n > 0 else { throw FerryError.invalidArgument("config.limits.max_input_bytes", "expected a positive integer") }
                    limits.maxInputBytes = n
                case "max_depth":
                    guard let n = v.intValue, n > 0, n <= 10_000 else { throw FerryError.invalidArgument("config.limits.max_depth", "expected an integer from 1 to 10000") }
                    limits.maxDepth = n
                default: throw FerryError.invalidArgument("config.limits.\(k)", "unknown field")
                }
            }
        }
        self.config = config
        self.limits = limits
        self.logHook = LogHook()
        self.logger = logHook.logger(label: "ferry")
        let providersConfig = try ProvidersConfig(config: config, environment: environment)
        // Belt and braces: any log text that ever contained a credential is scrubbed before the host sees it.
        for secret in [providersConfig.alibaba.accessKeySecret, providersConfig.alibaba.securityToken,
                       providersConfig.huawei.sk, providersConfig.huawei.securityToken,
                       providersConfig.httpProxy?.password, providersConfig.httpsProxy?.password] {
            if let secret { logHook.addSecret(secret) }
        }
        let providers = ProviderClient(config: providersConfig, logger: logHook.logger(label: "ferry.providers"))
        self.providers = providers
        self.invoker = CatalogInvoker(client: providers)
        do {
            self.runs = try RunManager(config: config, invoker: invoker, logHook: logHook)
        } catch {
            let client = providers
            Task { await client.shutdown() }
            throw error
        }
    }

    /// Calls one catalog operation (`huawei.dcs.ShowMigrationTask`, ...) with parameters keyed by wire name and
    /// returns the response body. Response fields the catalog marks secret are masked unless `revealSecrets`.
    public func call(_ operation: String, params: JSON, revealSecrets: Bool = false) async throws(FerryError) -> JSON {
        try await providers.call(operation, params: params, revealSecrets: revealSecrets).body
    }

    /// Releases the store and network clients. Call once; the engine is unusable afterwards.
    public func shutdown() async {
        runs.close()
        await providers.shutdown()
    }

    /// Evaluates a JMESPath expression; compiled expressions are cached per engine.
    public func query(_ expression: String, _ data: JSON) throws(FerryError) -> JSON {
        try queryCache.query(expression, data)
    }

    /// Evaluates a JMESPath expression without an engine (the CLI's `ferry query`, the C ABI's `ferry_query`).
    public static func query(_ expression: String, _ data: JSON) throws(FerryError) -> JSON {
        try sharedQueryCache.query(expression, data)
    }

    static let sharedQueryCache = ExpressionCache(capacity: 256)
}

/// A small bounded cache of compiled expressions: hosts tend to evaluate the same few expressions repeatedly.
final class ExpressionCache: Sendable {
    /// Keyed by the expression's bytes: Swift's `String` equality treats canonically equivalent text ("é" and
    /// "e" + U+0301) as equal, but as JMESPath source they are different expressions.
    private struct SourceKey: Hashable {
        let source: String
        static func == (a: SourceKey, b: SourceKey) -> Bool { a.source.utf8.elementsEqual(b.source.utf8) }
        func hash(into h: inout Hasher) {
            for b in source.utf8 { h.combine(b) }
        }
    }
    private let entries = Mutex<[SourceKey: JMESPath.Expression]>([:])
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func compile(_ source: String) throws(FerryError) -> JMESPath.Expression {
        let key = SourceKey(source: source)
        if let e = entries.withLock({ $0[key] }) { return e }
        let compiled: JMESPath.Expression
        do { compiled = try JMESPath.Expression(compiling: source) } catch { throw FerryError(jmespath: error) }
        entries.withLock {
            if $0.count >= capacity { $0.removeAll(keepingCapacity: true) }
            $0[key] = compiled
        }
        return compiled
    }

    func query(_ source: String, _ data: JSON) throws(FerryError) -> JSON {
        let e = try compile(source)
        do { return try e.evaluate(data) } catch { throw FerryError(jmespath: error) }
    }
}

extension FerryError {
    /// JMESPath errors: compile-time kinds become `invalid_expression`, run-time kinds `expression_failed`;
    /// `details.type` keeps the specification's name (`syntax`, `invalid-type`, ...).
    public init(jmespath e: JMESPathError) {
        let compileTime: Set<JMESPathError.Kind> = [.syntax, .unknownFunction, .invalidArity]
        var details: JSONObject = ["type": .string(e.kind.rawValue), "expression": .string(e.expression)]
        if let c = e.column { details["column"] = .int(c) }
        self.init(compileTime.contains(e.kind) ? .invalidExpression : .expressionFailed, e.message, details: details)
    }
}

/// The process environment as a dictionary, read through libc (no Foundation needed).
public enum Environment {
    public static var current: [String: String] {
        var result: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                result[String(s[..<eq])] = String(s[s.index(after: eq)...])
            }
            p += 1
        }
        return result
    }
}
