import FerryCore
import FerryJSON
import FerrySigning

/// A request as the emulator sees it: raw target, headers in order, body bytes.
public struct EmulatorRequest: Sendable {
    public var method: String
    /// The raw request target as received (`/path?query`), still percent-encoded.
    public var target: String
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(method: String, target: String, headers: [(String, String)], body: [UInt8]) {
        self.method = method.uppercased()
        self.target = target
        self.headers = headers
        self.body = body
    }

    var path: String {
        if let q = target.firstIndex(of: "?") { return String(target[..<q]) }
        return target
    }

    var rawQuery: String {
        if let q = target.firstIndex(of: "?") { return String(target[target.index(after: q)...]) }
        return ""
    }

    var query: [(String, String)] { Percent.parseQuery(rawQuery) }

    /// Case-insensitive lookup without allocating (`name` must be lower-case ASCII).
    func header(_ name: String) -> String? {
        headers.first { asciiEqualsLowered($0.0, name) }?.1
    }

    /// Path segments, each percent-decoded (an encoded `/` stays inside its segment).
    var segments: [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map { Percent.decode($0) }
    }
}

@inline(__always)
func asciiEqualsLowered(_ a: String, _ lower: String) -> Bool {
    var ai = a.utf8.makeIterator(), bi = lower.utf8.makeIterator()
    while true {
        switch (ai.next(), bi.next()) {
        case (nil, nil): return true
        case (let x?, let y?):
            let lx = (x >= 65 && x <= 90) ? x + 32 : x
            if lx != y { return false }
        default: return false
        }
    }
}

/// What the emulator answers: a response, or a dropped connection.
public struct EmulatorResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// When set, no response is written: the connection is closed (`reset` = with RST).
    public var drop: DropMode?

    public enum DropMode: String, Sendable { case reset, close }

    init(status: Int, headers: [(String, String)] = [], json: JSON) {
        self.status = status
        self.headers = headers + [("Content-Type", "application/json;charset=utf-8")]
        self.body = json.bytes()
    }

    init(drop: DropMode) {
        status = 0
        headers = []
        body = []
        self.drop = drop
    }

    /// The body parsed as JSON (tests).
    public var json: JSON? { try? JSONParser.parse(bytes: body) }

    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.0.lowercased() == n }?.1
    }
}

/// The four services, each with its own error shape and request-id placement.
enum Family: String, Sendable {
    case aliRocketMQ = "alibaba.rocketmq"
    case aliMSE = "alibaba.mse"
    case hwRocketMQ = "huawei.rocketmq"
    case hwDCS = "huawei.dcs"

    var isAlibaba: Bool { self == .aliRocketMQ || self == .aliMSE }
    var provider: String { isAlibaba ? "alibaba" : "huawei" }
}

/// A provider-shaped error: the HTTP status, the provider's code and message.
struct ProviderError: Error, Sendable {
    var status: Int
    var code: String
    var message: String
    /// ApsaraMQ `dynamicCode` / `dynamicMessage`.
    var dynamicCode: String?
    var dynamicMessage: String?
    /// Gateway-level errors (signature, throttling, unknown API) use the gateway's shape, not the service's.
    var gateway = false
    var retryAfterMs: Int?

    init(_ status: Int, _ code: String, _ message: String, dynamicCode: String? = nil, dynamicMessage: String? = nil,
         gateway: Bool = false) {
        self.status = status
        self.code = code
        self.message = message
        self.dynamicCode = dynamicCode
        self.dynamicMessage = dynamicMessage
        self.gateway = gateway
    }
}

/// Error codes per provider. The shapes (fields, status, request-id placement) follow providers.md; where the
/// references do not name the real code (gateway auth/throttling, DCS/DMS service codes), the code is chosen to look
/// like the provider's: Alibaba InvalidAccessKeyId.NotFound 404, SignatureDoesNotMatch / IncompleteSignature /
/// InvalidTimeStamp.Expired / SignatureNonceUsed 400, Throttling.User 429 (+ x-acs-retry-after); Huawei APIGW.0301 401,
/// APIGW.0308 429, APIGW.0101 404; DCS.4001 400 (invalid parameter), DCS.4133 404 (no such task), DCS.4134 400 (status
/// forbids the action), DCS.5000 5xx; DMS.00400002 400, DMS.00500000 5xx.
enum Errors {
    // Alibaba gateway (POP) errors, shared by RocketMQ and MSE.
    static func aliAccessKeyNotFound() -> ProviderError {
        ProviderError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.", gateway: true)
    }
    static func aliSignatureMismatch() -> ProviderError {
        ProviderError(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.",
                      gateway: true)
    }
    static func aliIncompleteSignature(_ why: String) -> ProviderError {
        ProviderError(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards. \(why)",
                      gateway: true)
    }
    static func aliExpired() -> ProviderError {
        ProviderError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", gateway: true)
    }
    static func aliNonceUsed() -> ProviderError {
        ProviderError(400, "SignatureNonceUsed", "Specified signature nonce was used already.", gateway: true)
    }
    static func aliUnknownAction(_ action: String) -> ProviderError {
        ProviderError(404, "InvalidAction.NotFound",
                      "Specified api is not found, please check your url and method. (\(action))", gateway: true)
    }
    static func aliThrottled() -> ProviderError {
        ProviderError(429, "Throttling.User", "Request was denied due to user flow control.", gateway: true)
    }
    static func aliServer(_ status: Int) -> ProviderError {
        status == 503
            ? ProviderError(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.", gateway: true)
            : ProviderError(status, "InternalError", "The request processing has failed due to some unknown error, exception or failure.", gateway: true)
    }

    // Huawei API Gateway errors, shared by DMS and DCS.
    static func hwAuth(_ detail: String) -> ProviderError {
        ProviderError(401, "APIGW.0301", "Incorrect IAM authentication information: \(detail)", gateway: true)
    }
    static func hwThrottled() -> ProviderError {
        ProviderError(429, "APIGW.0308", "The throttling threshold has been reached: policy user over ratelimit", gateway: true)
    }
    static func hwNoAPI() -> ProviderError {
        ProviderError(404, "APIGW.0101", "The API does not exist or has not been published in the environment",
                      gateway: true)
    }
    static func hwServer(_ family: Family, _ status: Int) -> ProviderError {
        family == .hwDCS
            ? ProviderError(status, "DCS.5000", "Internal service error.")
            : ProviderError(status, "DMS.00500000", "Internal service error.")
    }
}

extension Family {
    /// Renders an error in this family's shape, with the request id where the provider puts it.
    func render(_ e: ProviderError, requestId: String, host: String) -> EmulatorResponse {
        switch self {
        case .aliRocketMQ, .aliMSE:
            var headers: [(String, String)] = [("x-acs-request-id", requestId)]
            if let r = e.retryAfterMs { headers.append(("x-acs-retry-after", String(r))) }
            let product = self == .aliMSE ? "mse" : "RocketMQ"
            let recommend = "https://api.aliyun.com/troubleshoot?q=\(e.code)&product=\(product)&requestId=\(requestId)"
            if e.gateway || self == .aliMSE {
                var body: JSONObject = [
                    "RequestId": .string(requestId), "HostId": .string(host), "Code": .string(e.code),
                    "Message": .string(e.message), "Recommend": .string(recommend),
                ]
                if self == .aliMSE && !e.gateway {
                    // MSE's own envelope next to the POP fields (the SDK reads Code/Message either way).
                    body["Success"] = false
                    body["ErrorCode"] = .string(e.code)
                    body["HttpCode"] = .string(String(e.status))
                }
                return EmulatorResponse(status: e.status, headers: headers, json: .object(body))
            }
            let body: JSON = [
                "requestId": .string(requestId), "success": false, "code": .string(e.code),
                "message": .string(e.message), "httpStatusCode": .int(e.status),
                "dynamicCode": e.dynamicCode.map { .string($0) } ?? .null,
                "dynamicMessage": e.dynamicMessage.map { .string($0) } ?? .null, "data": .null,
            ]
            return EmulatorResponse(status: e.status, headers: headers, json: body)
        case .hwRocketMQ, .hwDCS:
            let headers: [(String, String)] = [("X-Request-Id", requestId)]
            var body: JSONObject = ["error_code": .string(e.code), "error_msg": .string(e.message)]
            if e.gateway {
                body["request_id"] = .string(requestId)
            } else if self == .hwDCS {
                body["error_ext_msg"] = .null
            }
            return EmulatorResponse(status: e.status, headers: headers, json: .object(body))
        }
    }

    func success(_ body: JSON, requestId: String, status: Int = 200) -> EmulatorResponse {
        isAlibaba
            ? EmulatorResponse(status: status, headers: [("x-acs-request-id", requestId)], json: body)
            : EmulatorResponse(status: status, headers: [("X-Request-Id", requestId)], json: body)
    }
}
