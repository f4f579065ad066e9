import FerryCore
import FerryJSON

/// Turns provider error responses (both providers' body shapes, empty, HTML/non-JSON, XML) into FerryErrors with
/// stable codes and details `{provider_code, provider_message, http_status, request_id, retryable}`.
public enum ProviderErrorMapper {
    /// What was read from an error response.
    public struct Extracted: Sendable, Equatable {
        public var code: String?
        public var message: String?
        public var requestID: String?
    }

    static func header(_ headers: [(String, String)], _ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.0.lowercased() == n }?.1
    }

    static let maxMessage = 1024

    static func text(_ body: [UInt8]) -> String {
        let s = String(decoding: body.prefix(4096), as: UTF8.self)
        let trimmed = s.trimmingSpaces().filter { $0 != "\r" }
        return trimmed.count > maxMessage ? String(trimmed.prefix(maxMessage)) + "…" : trimmed
    }

    static func stringOf(_ v: JSON?) -> String? {
        switch v {
        case .string(let s)?: return s
        case .number?: return PythonStr.number(v ?? .null)
        case .bool(let b)?: return b ? "true" : "false"
        default: return nil
        }
    }

    /// Alibaba (`DaraException` fields): `Code`/`code`, `Message`/`message`, `RequestId`/`requestId`; the
    /// `<Error>` element when the content type is XML; `x-acs-request-id` as a fallback request id.
    public static func extractAlibaba(headers: [(String, String)], body: [UInt8]) -> Extracted {
        var e = Extracted()
        let contentType = header(headers, "content-type")?.lowercased() ?? ""
        if contentType.hasPrefix("text/xml") || contentType.hasPrefix("application/xml") {
            let s = String(decoding: body, as: UTF8.self)
            e.code = xmlElement(s, "Code")
            e.message = xmlElement(s, "Message")
            e.requestID = xmlElement(s, "RequestId")
        } else if let j = try? JSONParser.parse(bytes: body), case .object(let o) = j {
            e.code = stringOf(o["Code"]) ?? stringOf(o["code"]) ?? stringOf(o["ErrorCode"])
            e.message = stringOf(o["Message"]) ?? stringOf(o["message"])
            e.requestID = stringOf(o["RequestId"]) ?? stringOf(o["requestId"])
        }
        if e.requestID == nil { e.requestID = header(headers, "x-acs-request-id") }
        if e.message == nil, !body.isEmpty { e.message = text(body) }
        return e
    }

    /// Huawei `DefaultExceptionHandler`: `X-Request-Id`; then `error_code`+`error_msg`, `errorCode`+`errorMsg`,
    /// `code`+`message`, else recursing into nested objects; else the status as code and the raw body as message.
    public static func extractHuawei(status: Int, headers: [(String, String)], body: [UInt8]) -> Extracted {
        var e = Extracted()
        e.requestID = header(headers, "x-request-id")
        if let j = try? JSONParser.parse(bytes: body), case .object(let o) = j, let (c, m) = huaweiPair(o, depth: 0) {
            e.code = c
            e.message = m
        } else {
            e.code = String(status)
            e.message = body.isEmpty ? nil : text(body)
        }
        return e
    }

    static func huaweiPair(_ o: JSONObject, depth: Int) -> (String, String)? {
        for (ck, mk) in [("error_code", "error_msg"), ("errorCode", "errorMsg"), ("code", "message")] {
            if let c = stringOf(o[ck]), o[mk] != nil { return (c, stringOf(o[mk]) ?? "") }
        }
        guard depth < 8 else { return nil }
        for (_, v) in o {
            if case .object(let inner) = v, let r = huaweiPair(inner, depth: depth + 1) { return r }
        }
        return nil
    }

    static func xmlElement(_ s: String, _ name: String) -> String? {
        guard let open = s.firstRange(of: "<\(name)>"), let close = s[open.upperBound...].firstRange(of: "</\(name)>")
        else { return nil }
        return String(s[open.upperBound..<close.lowerBound])
    }

    /// The stable Ferry code for a provider error: specific provider codes first, then the HTTP status.
    public static func classify(status: Int, providerCode: String?, throttleHeader: Bool = false) -> ErrorCode {
        if throttleHeader { return .throttled }
        let c = (providerCode ?? "").lowercased()
        if !c.isEmpty {
            if c.contains("throttl") || c.contains("toomanyrequests") || c.contains("flowcontrol")
                || c.contains("ratelimit") || c == "apigw.0308" || c.contains("requestlimitexceeded") {
                return .throttled
            }
            if c.hasPrefix("signature") || c.hasPrefix("incompletesignature") || c.hasPrefix("invalidaccesskeyid")
                || c.hasPrefix("invalidcredentials") || c.hasPrefix("invalidsecuritytoken") || c.hasPrefix("invalidtimestamp")
                || c.contains("authfail") || c.contains("unauthorized") || c == "apigw.0301" || c == "apigw.0303"
                || c.hasPrefix("invalidauthorization") || c.hasPrefix("missingauthorization") {
                return .authFailed
            }
            if c.hasPrefix("forbidden") || c.contains("nopermission") || c.contains("accessdenied")
                || c.contains("permissiondenied") || c.contains("notauthorized") || c == "apigw.0302" {
                return .permissionDenied
            }
            if c.hasPrefix("invalidaction") || c.hasPrefix("invalidversion") || c == "apigw.0101" {
                return .providerError
            }
            if c.contains("notfound") || c.contains("not_found") || c.contains("notexist") || c.contains("nonexist") {
                return .notFound
            }
            if c.contains("alreadyexist") || c.contains("conflict") || c.contains("duplicate") {
                return .conflict
            }
            if c.hasPrefix("invalidparameter") || c.hasPrefix("missingparameter") || c.hasPrefix("illegal")
                || c.hasPrefix("missing") || c.contains("badrequest") || c.hasPrefix("invalidparam") {
                return .invalidArgument
            }
            if c.hasPrefix("internalerror") || c.hasPrefix("serviceunavailable") || c.contains("systembusy")
                || c.contains("serverbusy") || c.hasPrefix("internalserver") {
                return .unavailable
            }
        }
        switch status {
        case 429: return .throttled
        case 401: return .authFailed
        case 403: return .permissionDenied
        case 404, 410: return .notFound
        case 409: return .conflict
        case 400, 405, 411, 413, 414, 415, 422: return .invalidArgument
        case 408, 504: return .timeout
        case 500, 502, 503: return .unavailable
        default: return .providerError
        }
    }

    /// Maps an HTTP error response (status >= 400) of `operation` to a FerryError.
    public static func map(provider: String, operation: String, status: Int, headers: [(String, String)],
                           body: [UInt8], secrets: [String] = []) -> FerryError {
        let e = provider == "alibaba" ? extractAlibaba(headers: headers, body: body)
            : extractHuawei(status: status, headers: headers, body: body)
        var retryAfterMs: Int?
        var acsThrottle = false
        // Alibaba: a positive x-acs-retry-after makes the SDK raise ThrottlingException whatever the status.
        // Capped at a day: the header is untrusted, and `n * 1000` on a huge value would trap.
        if provider == "alibaba", let ra = header(headers, "x-acs-retry-after"), let n = Int(ra.trimmingSpaces()), n > 0 {
            retryAfterMs = min(n, 86_400_000)
            acsThrottle = true
        } else if let ra = header(headers, "retry-after"), let n = Int(ra.trimmingSpaces()), n >= 0 {
            retryAfterMs = min(n, 86_400) * 1000
        }
        let code = classify(status: status, providerCode: e.code, throttleHeader: acsThrottle)
        return make(code: code, provider: provider, operation: operation, status: status, extracted: e,
                    retryAfterMs: retryAfterMs, secrets: secrets)
    }

    /// A 2xx whose body says `success: false` (ApsaraMQ envelope) or `Success: false` (MSE).
    public static func mapUnsuccessful(provider: String, operation: String, status: Int, body: JSON,
                                       headers: [(String, String)], secrets: [String] = []) -> FerryError {
        let o = body.objectValue ?? [:]
        var e = Extracted()
        e.code = stringOf(o["code"]) ?? stringOf(o["Code"]) ?? stringOf(o["ErrorCode"])
        e.message = stringOf(o["message"]) ?? stringOf(o["Message"])
        e.requestID = stringOf(o["requestId"]) ?? stringOf(o["RequestId"]) ?? header(headers, "x-acs-request-id")
        let bodyStatus = (o["httpStatusCode"]?.intValue) ?? (stringOf(o["HttpCode"]).flatMap { Int($0) })
        let effective = bodyStatus.flatMap { $0 >= 400 ? $0 : nil } ?? status
        let code = classify(status: effective >= 400 ? effective : 0, providerCode: e.code)
        return make(code: code, provider: provider, operation: operation, status: status, extracted: e,
                    retryAfterMs: nil, secrets: secrets, reportedStatus: bodyStatus)
    }

    static func make(code: ErrorCode, provider: String, operation: String, status: Int, extracted e: Extracted,
                     retryAfterMs: Int?, secrets: [String], reportedStatus: Int? = nil) -> FerryError {
        let msg = e.message.map { Redaction.scrub($0, secrets: secrets) }
        var details: JSONObject = [
            "provider": .string(provider), "operation": .string(operation),
            "provider_code": e.code.map { .string($0) } ?? .null,
            "provider_message": msg.map { .string($0) } ?? .null,
            "http_status": .int(status),
            "request_id": e.requestID.map { .string($0) } ?? .null,
            "retryable": .bool(code.retryable),
        ]
        if let retryAfterMs { details["retry_after_ms"] = .int(retryAfterMs) }
        if let reportedStatus { details["body_http_status"] = .int(reportedStatus) }
        var text = "\(operation) failed: HTTP \(status)"
        if let c = e.code { text += " \(c)" }
        if let msg, !msg.isEmpty { text += ": \(msg)" }
        if let r = e.requestID { text += " (request id \(r))" }
        return FerryError(code, text, details: details)
    }
}
