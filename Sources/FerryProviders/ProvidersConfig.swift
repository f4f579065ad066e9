import FerryCatalog
import FerryCore
import FerryJSON
import FerrySigning

/// An endpoint override: scheme, host and port (from `endpoints` in the engine config or `--endpoint`).
public struct Endpoint: Sendable, Equatable {
    public var scheme: String
    public var host: String
    public var port: Int?

    public init(scheme: String, host: String, port: Int?) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// `host` or `host:port` — what both SDKs put in the (signed) Host header.
    public var hostHeader: String { port.map { "\(host):\($0)" } ?? host }

    public var baseURL: String {
        let h = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(h)" + (port.map { ":\($0)" } ?? "")
    }

    /// Parses `http://127.0.0.1:1234`, `https://host`, or `host[:port]` (https). Rejects paths, queries and
    /// user info. nil when malformed.
    public static func parse(_ text: String) -> Endpoint? {
        var rest = Substring(text)
        var scheme = "https"
        if let r = rest.firstRange(of: "://") {
            scheme = rest[..<r.lowerBound].lowercased()
            rest = rest[r.upperBound...]
            guard scheme == "http" || scheme == "https" else { return nil }
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("?"), !rest.contains("@"), !rest.contains("#"),
              !rest.contains(" ") else { return nil }
        var host = rest
        var port: Int?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()), (1...65535).contains(p) else { return nil }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            host = rest[..<colon]
            port = p
        }
        guard !host.isEmpty else { return nil }
        return Endpoint(scheme: scheme, host: String(host), port: port)
    }
}

/// Credentials, regions, endpoints and HTTP settings for the provider clients.
public struct ProvidersConfig: Sendable {
    public struct AlibabaCredentials: Sendable {
        public var accessKeyID: String?
        public var accessKeySecret: String?
        public var securityToken: String?
        /// Where they came from, for missing-credential messages (`config` or `environment`).
        public var source: String
    }

    public struct HuaweiCredentials: Sendable {
        public var ak: String?
        public var sk: String?
        public var securityToken: String?
        public var projectID: String?
        public var source: String
    }

    public struct Proxy: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var username: String?
        public var password: String?
    }

    public var alibaba: AlibabaCredentials
    public var huawei: HuaweiCredentials
    public var alibabaRegion: String?
    public var huaweiRegion: String?
    /// Per-service overrides, keyed `alibaba.rocketmq`, `alibaba.mse`, `huawei.rocketmq`, `huawei.dcs`.
    public var endpoints: [String: Endpoint]
    public var connectTimeoutMs: Int?
    public var readTimeoutMs: Int?
    public var caBundle: String?
    public var verifyTLS: Bool
    public var httpProxy: Proxy?
    public var httpsProxy: Proxy?
    public var noProxy: [String]
    /// `HUAWEICLOUD_SDK_REGION_<SERVICE>_<REGION>` endpoint overrides, as the Huawei SDK reads them.
    var environment: [String: String]

    /// Reads `credentials`, `regions`, `endpoints` and `http` of the engine config object (other top-level keys
    /// are ignored), falling back to the environment variables the official tools read.
    public init(config: JSON?, environment: [String: String]) throws(FerryError) {
        self.environment = environment
        let root: JSONObject
        switch config {
        case nil, .null?: root = [:]
        case .object(let o)?: root = o
        case let other?: throw FerryError.invalidArgument("config", "must be an object, got \(other.typeName)")
        }
        func env(_ names: String...) -> String? {
            for n in names { if let v = environment[n], !v.isEmpty { return v } }
            return nil
        }

        let creds = try Self.object(root["credentials"], "config.credentials", allowed: ["alibaba", "huawei"])
        if let a = try Self.object(creds?["alibaba"], "config.credentials.alibaba",
                                   allowed: ["access_key_id", "access_key_secret", "security_token"]) {
            alibaba = AlibabaCredentials(
                accessKeyID: try Self.string(a["access_key_id"], "config.credentials.alibaba.access_key_id"),
                accessKeySecret: try Self.string(a["access_key_secret"], "config.credentials.alibaba.access_key_secret"),
                securityToken: try Self.string(a["security_token"], "config.credentials.alibaba.security_token"),
                source: "config")
        } else {
            alibaba = AlibabaCredentials(accessKeyID: env("ALIBABA_CLOUD_ACCESS_KEY_ID"),
                                         accessKeySecret: env("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
                                         securityToken: env("ALIBABA_CLOUD_SECURITY_TOKEN"), source: "environment")
        }
        if let h = try Self.object(creds?["huawei"], "config.credentials.huawei",
                                   allowed: ["ak", "sk", "security_token", "project_id"]) {
            huawei = HuaweiCredentials(
                ak: try Self.string(h["ak"], "config.credentials.huawei.ak"),
                sk: try Self.string(h["sk"], "config.credentials.huawei.sk"),
                securityToken: try Self.string(h["security_token"], "config.credentials.huawei.security_token"),
                projectID: try Self.string(h["project_id"], "config.credentials.huawei.project_id")
                    ?? env("HUAWEICLOUD_SDK_PROJECT_ID", "CLOUD_SDK_PROJECT_ID"),
                source: "config")
        } else {
            // The SDK's own env chain uses HUAWEICLOUD_SDK_*; the official samples read CLOUD_SDK_AK / CLOUD_SDK_SK.
            let useLong = env("HUAWEICLOUD_SDK_AK") != nil || env("HUAWEICLOUD_SDK_SK") != nil
            huawei = HuaweiCredentials(
                ak: useLong ? env("HUAWEICLOUD_SDK_AK") : env("CLOUD_SDK_AK"),
                sk: useLong ? env("HUAWEICLOUD_SDK_SK") : env("CLOUD_SDK_SK"),
                securityToken: env("HUAWEICLOUD_SDK_SECURITY_TOKEN", "CLOUD_SDK_SECURITY_TOKEN"),
                projectID: env("HUAWEICLOUD_SDK_PROJECT_ID", "CLOUD_SDK_PROJECT_ID"), source: "environment")
        }

        let regions = try Self.object(root["regions"], "config.regions", allowed: ["alibaba", "huawei"])
        alibabaRegion = try Self.string(regions?["alibaba"], "config.regions.alibaba") ?? env("ALIBABA_CLOUD_REGION_ID")
        huaweiRegion = try Self.string(regions?["huawei"], "config.regions.huawei")
            ?? env("HUAWEICLOUD_SDK_REGION", "CLOUD_SDK_REGION")

        endpoints = [:]
        if let eps = try Self.object(root["endpoints"], "config.endpoints", allowed: Set(Catalog.services)) {
            for (k, v) in eps where !v.isNull {
                let field = "config.endpoints.\(k)"
                guard let s = try Self.string(v, field), let ep = Endpoint.parse(s) else {
                    throw FerryError.invalidArgument(field, "must be a URL like http://127.0.0.1:8080 (scheme, host, port)")
                }
                endpoints[k] = ep
            }
        }

        let http = try Self.object(root["http"], "config.http",
                                   allowed: ["connect_timeout_ms", "read_timeout_ms", "ca_bundle", "verify_tls"])
        connectTimeoutMs = try Self.positiveInt(http?["connect_timeout_ms"], "config.http.connect_timeout_ms")
        readTimeoutMs = try Self.positiveInt(http?["read_timeout_ms"], "config.http.read_timeout_ms")
        caBundle = try Self.string(http?["ca_bundle"], "config.http.ca_bundle")
        switch http?["verify_tls"] {
        case nil, .null?: verifyTLS = true
        case .bool(let b)?: verifyTLS = b
        case let other?: throw FerryError.invalidArgument("config.http.verify_tls", "must be a boolean, got \(other.typeName)")
        }

        httpProxy = Self.parseProxy(env("HTTP_PROXY", "http_proxy"))
        httpsProxy = Self.parseProxy(env("HTTPS_PROXY", "https_proxy"))
        noProxy = (env("NO_PROXY", "no_proxy") ?? "").split(separator: ",")
            .map { String($0).trimmingSpaces().lowercased() }.filter { !$0.isEmpty }
    }

    /// Overrides an endpoint (`ferry call --endpoint SERVICE=URL`).
    public mutating func setEndpoint(_ service: String, _ url: String) throws(FerryError) {
        guard Catalog.services.contains(service) else {
            throw FerryError.invalidArgument("endpoint", "unknown service \(service) (expected one of \(Catalog.services.joined(separator: ", ")))")
        }
        guard let ep = Endpoint.parse(url) else {
            throw FerryError.invalidArgument("endpoint", "\(service): must be a URL like http://127.0.0.1:8080")
        }
        endpoints[service] = ep
    }

    // MARK: parsing helpers

    static func object(_ v: JSON?, _ field: String, allowed: Set<String>) throws(FerryError) -> JSONObject? {
        switch v {
        case nil, .null?: return nil
        case .object(let o)?:
            for k in o.keys where !allowed.contains(k) {
                throw FerryError.invalidArgument("\(field).\(k)", "unknown key (expected one of \(allowed.sorted().joined(separator: ", ")))")
            }
            return o
        case let other?: throw FerryError.invalidArgument(field, "must be an object, got \(other.typeName)")
        }
    }

    static func string(_ v: JSON?, _ field: String) throws(FerryError) -> String? {
        switch v {
        case nil, .null?: return nil
        case .string(let s)?: return s.isEmpty ? nil : s
        case let other?: throw FerryError.invalidArgument(field, "must be a string, got \(other.typeName)")
        }
    }

    static func positiveInt(_ v: JSON?, _ field: String) throws(FerryError) -> Int? {
        switch v {
        case nil, .null?: return nil
        case .number(let n)?:
            guard let i = n.int64Value, i > 0, i <= 86_400_000 else {
                throw FerryError.invalidArgument(field, "must be a positive integer number of milliseconds")
            }
            return Int(i)
        case let other?: throw FerryError.invalidArgument(field, "must be an integer, got \(other.typeName)")
        }
    }

    /// `http://[user:pass@]host[:port]`, or `host:port`.
    static func parseProxy(_ s: String?) -> Proxy? {
        guard let s, !s.isEmpty else { return nil }
        var rest = s[...]
        var scheme = "http"
        if let r = rest.firstRange(of: "://") {
            scheme = rest[..<r.lowerBound].lowercased()
            rest = rest[r.upperBound...]
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        var user: String?, pass: String?
        if let at = rest.lastIndex(of: "@") {
            let info = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let c = info.firstIndex(of: ":") {
                user = Percent.decode(String(info[..<c]))
                pass = Percent.decode(String(info[info.index(after: c)...]))
            } else {
                user = Percent.decode(String(info))
            }
        }
        guard let ep = Endpoint.parse("http://" + rest) else { return nil }
        let port = ep.port ?? (scheme == "https" ? 443 : 80)
        return Proxy(host: ep.host, port: port, username: user, password: pass)
    }

    /// Whether `host` (with `port`) bypasses the proxy under NO_PROXY, as `requests` decides it.
    func bypassesProxy(host: String, port: Int?) -> Bool {
        let h = host.lowercased()
        for raw in noProxy {
            if raw == "*" { return true }
            var entry = Substring(raw)
            if entry.hasPrefix(".") { entry = entry.dropFirst() }
            if entry.hasPrefix("*.") { entry = entry.dropFirst(2) }
            // An entry may carry a port: then it must match too.
            if let colon = entry.lastIndex(of: ":"), !entry.contains("["), let p = Int(entry[entry.index(after: colon)...]) {
                guard p == port else { continue }
                entry = entry[..<colon]
            }
            if entry.contains("/") {
                if Self.ipv4InCIDR(h, String(entry)) { return true }
                continue
            }
            if h == entry || h.hasSuffix("." + entry) { return true }
        }
        return false
    }

    static func ipv4(_ s: String) -> UInt32? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard let b = UInt8(p) else { return nil }
            v = v << 8 | UInt32(b)
        }
        return v
    }

    static func ipv4InCIDR(_ host: String, _ cidr: String) -> Bool {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let net = ipv4(String(parts[0])), let bits = Int(parts[1]), (0...32).contains(bits),
              let ip = ipv4(host) else { return false }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - UInt32(bits))
        return ip & mask == net & mask
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = self[...]
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
