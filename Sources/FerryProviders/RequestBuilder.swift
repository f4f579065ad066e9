import FerryCatalog
import FerryCore
import FerryJSON
import FerrySigning

/// A fully built and signed request, ready to send.
public struct BuiltRequest: Sendable {
    public var operation: String
    public var endpoint: Endpoint
    /// Method, encoded path, decoded query, headers in send order (Authorization last), body bytes.
    public var request: SignableRequest
    /// The query string as it goes on the wire (Alibaba: urlencode order and `+`; Huawei: the canonical form).
    public var wireQuery: String
    /// Parameter values that are secrets (passwords), to scrub from any provider message echoing them.
    public var secretValues: [String]

    /// The request target: path plus `?query` when there is one.
    public var target: String { wireQuery.isEmpty ? request.path : request.path + "?" + wireQuery }
    public var url: String { endpoint.baseURL + target }
}

/// Builds requests exactly as the official SDKs do: parameter placement, encodings, body bytes, header set,
/// signature. Pure apart from the clock/nonce it is given, so it is testable without a network.
public enum RequestBuilder {
    public static let version = "0.1.0"
    public static let alibabaUserAgent = "AlibabaCloud (Linux; x86_64) Ferry/\(version) TeaDSL/2"
    public static let huaweiUserAgent = "huaweicloud-usdk-swift/3.0; ferry/\(version)"

    /// Region ids built into `DcsRegion` / `RocketMQRegion` of huaweicloudsdk 3.1.219.
    public static let huaweiRegions: Set<String> = [
        "af-north-1", "af-south-1", "ae-ad-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
        "ap-southeast-5", "cn-east-2", "cn-east-3", "cn-east-4", "cn-east-5", "cn-north-1", "cn-north-2", "cn-north-4",
        "cn-north-9", "cn-north-11", "cn-north-12", "cn-south-1", "cn-south-2", "cn-south-4", "cn-southwest-2",
        "cn-southwest-3", "eu-west-0", "eu-west-101", "la-north-2", "la-south-2", "me-east-1", "my-kualalumpur-1",
        "na-mexico-1", "ru-moscow-1", "ru-northwest-2", "sa-brazil-1", "tr-west-1",
    ]

    /// The endpoint for an operation: the configured override, else the SDK's default for the region.
    public static func endpoint(for op: OperationSpec, config: ProvidersConfig) throws(FerryError) -> Endpoint {
        if let ep = config.endpoints[op.serviceKey] { return ep }
        if op.provider == "alibaba" {
            guard let region = config.alibabaRegion else {
                throw FerryError(.invalidArgument,
                    "config.regions.alibaba: region not set (set regions.alibaba, ALIBABA_CLOUD_REGION_ID, or endpoints.\(op.serviceKey))",
                    details: ["field": "config.regions.alibaba"])
            }
            // get_endpoint_rules: <product>.<region>.aliyuncs.com. RocketMQ's map has one entry (cn-guangzhou) whose
            // value carries a stray TAB in the SDK; the host is the same without it.
            guard isHostLabelText(region) else {
                throw FerryError.invalidArgument("config.regions.alibaba", "not a valid region id")
            }
            return Endpoint(scheme: "https", host: "\(op.product).\(region).aliyuncs.com", port: nil)
        }
        guard let region = config.huaweiRegion else {
            throw FerryError(.invalidArgument,
                "config.regions.huawei: region not set (set regions.huawei, HUAWEICLOUD_SDK_REGION, or endpoints.\(op.serviceKey))",
                details: ["field": "config.regions.huawei"])
        }
        // XxxRegion.value_of: the HUAWEICLOUD_SDK_REGION_<SERVICE>_<REGION> override first (comma-separated list;
        // the first endpoint is used), then the built-in table.
        let serviceEnv = op.product == "dcs" ? "DCS" : "ROCKETMQ"
        let envName = "HUAWEICLOUD_SDK_REGION_\(serviceEnv)_" + region.replacingDashes().uppercased()
        if let override = config.environment[envName], !override.isEmpty {
            let first = String(override.split(separator: ",").first ?? "").trimmingSpaces()
            guard let ep = Endpoint.parse(first) else {
                throw FerryError.invalidArgument(envName, "must be an endpoint URL")
            }
            return ep
        }
        guard huaweiRegions.contains(region) else {
            throw FerryError(.invalidArgument, "config.regions.huawei: unknown region \(region) for \(op.serviceKey)",
                             details: ["field": "config.regions.huawei"])
        }
        let domain = op.product == "dms" && region == "eu-west-101" ? "myhuaweicloud.eu" : "myhuaweicloud.com"
        return Endpoint(scheme: "https", host: "\(op.product).\(region).\(domain)", port: nil)
    }

    static func isHostLabelText(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || ($0 >= 0x41 && $0 <= 0x5A) }
    }

    /// Validates, places, encodes and signs. `unixTime` and `nonce` are the signing clock and (Alibaba) nonce;
    /// `userAgent` replaces Ferry's User-Agent (tests use it to reproduce the SDKs' signing vectors exactly).
    public static func build(_ op: OperationSpec, params: JSON, config: ProvidersConfig, unixTime: Int64,
                             nonce: String, userAgent: String? = nil) throws(FerryError) -> BuiltRequest {
        try op.validate(params)
        return try assemble(op, params: params, config: config, unixTime: unixTime, nonce: nonce, userAgent: userAgent)
    }

    /// `build` without the catalog validation (tests feed the SDK vectors' out-of-enum values through it).
    static func assemble(_ op: OperationSpec, params: JSON, config: ProvidersConfig, unixTime: Int64,
                         nonce: String, userAgent: String? = nil) throws(FerryError) -> BuiltRequest {
        let object = params.objectValue ?? [:]
        var secrets: [String] = []
        collectSecrets(op, object, &secrets)
        switch op.style {
        case .roa, .rpc:
            return try buildAlibaba(op, object, config, unixTime, nonce, secrets, userAgent ?? alibabaUserAgent)
        case .huawei:
            return try buildHuawei(op, object, config, unixTime, secrets, userAgent ?? huaweiUserAgent)
        }
    }

    // MARK: Alibaba (ACS3 path, ROA and RPC)

    static func buildAlibaba(_ op: OperationSpec, _ params: JSONObject, _ config: ProvidersConfig,
                             _ unixTime: Int64, _ nonce: String, _ secrets: [String], _ userAgent: String) throws(FerryError) -> BuiltRequest {
        let c = config.alibaba
        guard let ak = c.accessKeyID, let sk = c.accessKeySecret else {
            let missing = [c.accessKeyID == nil ? "access_key_id" : nil, c.accessKeySecret == nil ? "access_key_secret" : nil]
                .compactMap { $0 }
            throw FerryError(.missingCredentials,
                "alibaba credentials missing (\(missing.joined(separator: ", "))): set credentials.alibaba in the config or ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                details: ["provider": "alibaba", "operation": .string(op.name), "missing": .array(missing.map { .string($0) })])
        }
        let endpoint = try endpoint(for: op, config: config)
        let path = op.style == .rpc ? "/" : substitutePath(op, params, projectID: nil)
        var query: [(String, String)] = []
        for p in op.parameters where p.location == .query {
            guard let v = params[p.name], !v.isNull else { continue }
            query.append((p.name, alibabaQueryString(v)))
        }
        var body: [UInt8] = []
        var hasBody = false
        let bodyParams = op.parameters.filter { $0.location == .body }
        if !bodyParams.isEmpty || op.alwaysSendBody {
            var o = JSONObject()
            for p in bodyParams {
                guard let v = params[p.name], !v.isNull else { continue }
                o[p.name] = shape(v, p.schema)
            }
            body = PythonJSON.dumps(.object(o), .alibaba)
            hasBody = true
        }
        var headers: [(String, String)] = [
            ("host", endpoint.hostHeader), ("x-acs-version", op.version), ("x-acs-action", op.action),
            ("user-agent", userAgent), ("x-acs-date", SigningClock.acsDate(unixSeconds: unixTime)),
            ("x-acs-signature-nonce", nonce), ("accept", "application/json"),
        ]
        if hasBody { headers.append(("content-type", op.contentType ?? "application/json; charset=utf-8")) }
        headers.append(("x-acs-content-sha256", ACS3Signer.hashedPayload(body)))
        headers.append(("x-acs-credentials-provider", c.securityToken == nil ? "static_ak" : "static_sts"))
        if let token = c.securityToken {
            headers.append(("x-acs-accesskey-id", ak))
            headers.append(("x-acs-security-token", token))
        }
        var req = SignableRequest(method: op.method, path: path, query: query, headers: headers, body: body)
        let parts = ACS3Signer.signatureParts(req, accessKeyID: ak, secret: sk)
        req.headers.append(("Authorization", parts.authorization))
        return BuiltRequest(operation: op.name, endpoint: endpoint, request: req,
                            wireQuery: ACS3Signer.wireQueryString(query), secretValues: secrets)
    }

    /// Python `str()` of a query value as the Alibaba client passes it; arrays are `simple`-style comma-joined.
    static func alibabaQueryString(_ v: JSON) -> String {
        switch v {
        case .string(let s): return s
        case .bool(let b): return b ? "True" : "False"
        case .number: return PythonStr.number(v)
        case .array(let a): return a.map(alibabaQueryString).joined(separator: ",")
        default: return String(decoding: PythonJSON.dumps(v, .alibaba), as: UTF8.self)
        }
    }

    // MARK: Huawei

    static func buildHuawei(_ op: OperationSpec, _ params: JSONObject, _ config: ProvidersConfig,
                            _ unixTime: Int64, _ secrets: [String], _ userAgent: String) throws(FerryError) -> BuiltRequest {
        let c = config.huawei
        guard let ak = c.ak, let sk = c.sk else {
            let missing = [c.ak == nil ? "ak" : nil, c.sk == nil ? "sk" : nil].compactMap { $0 }
            throw FerryError(.missingCredentials,
                "huawei credentials missing (\(missing.joined(separator: ", "))): set credentials.huawei in the config or HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or CLOUD_SDK_AK and CLOUD_SDK_SK)",
                details: ["provider": "huawei", "operation": .string(op.name), "missing": .array(missing.map { .string($0) })])
        }
        let projectID = params["project_id"]?.stringValue ?? c.projectID
        guard let projectID, !projectID.isEmpty else {
            throw FerryError(.missingCredentials,
                "huawei project id missing: set credentials.huawei.project_id or HUAWEICLOUD_SDK_PROJECT_ID (or pass params.project_id)",
                details: ["provider": "huawei", "operation": .string(op.name), "missing": ["project_id"]])
        }
        let endpoint = try endpoint(for: op, config: config)
        let path = substitutePath(op, params, projectID: projectID)
        var query: [(String, String)] = []
        for p in op.parameters where p.location == .query {
            guard let v = params[p.name], !v.isNull else { continue }
            if case .array(let items) = v {
                for item in items where !item.isNull { query.append((p.name, huaweiQueryString(item))) }
            } else {
                query.append((p.name, huaweiQueryString(v)))
            }
        }
        var body: [UInt8] = []
        var o = JSONObject()
        for p in op.parameters where p.location == .body {
            guard let v = params[p.name], !v.isNull else { continue }
            o[p.name] = shape(v, p.schema)
        }
        // The SDK sends a body only when the request's body model is set; with no body field given it is None.
        if !o.isEmpty { body = PythonJSON.dumps(.object(o), .huawei) }
        var req = SignableRequest(method: op.method, path: path, query: query,
                                  headers: [("Content-Type", op.contentType ?? "application/json"),
                                            ("User-Agent", userAgent)],
                                  body: body)
        HuaweiSigner.prepareAndSign(&req, accessKeyID: ak, secret: sk, projectID: projectID,
                                    securityToken: c.securityToken, date: SigningClock.sdkDate(unixSeconds: unixTime),
                                    host: endpoint.hostHeader)
        return BuiltRequest(operation: op.name, endpoint: endpoint, request: req,
                            wireQuery: HuaweiSigner.canonicalQueryString(query), secretValues: secrets)
    }

    static func huaweiQueryString(_ v: JSON) -> String {
        switch v {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .number: return PythonStr.number(v)
        default: return String(decoding: PythonJSON.dumps(v, .huawei), as: UTF8.self)
        }
    }

    // MARK: shared

    /// Replaces `{name}` with `quote(str(value), safe='')`.
    static func substitutePath(_ op: OperationSpec, _ params: JSONObject, projectID: String?) -> String {
        let template = op.pathTemplate.utf8
        guard template.contains(0x7B) else { return op.pathTemplate }
        var out: [UInt8] = []
        out.reserveCapacity(template.count + 48)
        var i = template.startIndex
        while i != template.endIndex {
            let b = template[i]
            if b == 0x7B, let close = template[i...].firstIndex(of: 0x7D) {
                let name = String(decoding: template[template.index(after: i)..<close], as: UTF8.self)
                let value: String
                if name == "project_id", let projectID {
                    value = projectID
                } else if let v = params[name] {
                    value = v.stringValue ?? PythonStr.number(v)
                } else {
                    value = "{\(name)}"
                }
                Percent.appendEncoded(value, into: &out, plusForSpace: false)
                i = template.index(after: close)
            } else {
                out.append(b)
                i = template.index(after: i)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Serializes a value the way the SDK's models do: known fields in declaration order with unset (null)
    /// fields dropped; maps and free-form values as given.
    static func shape(_ v: JSON, _ schema: ValueSchema) -> JSON {
        switch (schema, v) {
        case (.object(let fields), .object(let o)):
            var r = JSONObject()
            for f in fields {
                guard let e = o[f.name], !e.isNull else { continue }
                r[f.name] = shape(e, f.schema)
            }
            return .object(r)
        case (.map(let valueSchema), .object(let o)):
            var r = JSONObject()
            for (k, e) in o { r[k] = e.isNull ? .null : shape(e, valueSchema) }
            return .object(r)
        case (.array(let item), .array(let a)):
            return .array(a.map { shape($0, item) })
        default:
            return v
        }
    }

    static func collectSecrets(_ op: OperationSpec, _ params: JSONObject, _ out: inout [String]) {
        func walk(_ v: JSON, _ schema: ValueSchema) {
            switch (schema, v) {
            case (.object(let fields), .object(let o)):
                for f in fields {
                    guard let e = o[f.name] else { continue }
                    if f.secret, let s = e.stringValue { out.append(s) } else { walk(e, f.schema) }
                }
            case (.map(let vs), .object(let o)): for (_, e) in o { walk(e, vs) }
            case (.array(let item), .array(let a)): for e in a { walk(e, item) }
            default: break
            }
        }
        for p in op.parameters {
            guard let v = params[p.name] else { continue }
            if p.secret, let s = v.stringValue { out.append(s) } else { walk(v, p.schema) }
        }
    }
}

/// Python `str()` of JSON numbers (integers as digits; floats as repr).
enum PythonStr {
    static func number(_ v: JSON) -> String {
        guard case .number(let n) = v else { return v.serialized() }
        switch n {
        case .int(let i): return String(i)
        case .bigInt(let s): return s
        case .double(let d): return d.description
        }
    }
}

extension String {
    func replacingDashes() -> String { String(map { $0 == "-" ? "_" : $0 }) }
}
