import Crypto

/// A request as it is (or will be) on the wire, in the form both signers need. The same value serves a client
/// that signs and a server (the emulator) that verifies.
public struct SignableRequest: Sendable {
    /// HTTP method; upper-cased when canonicalized.
    public var method: String
    /// The path exactly as sent, already percent-encoded (`/migrations/a%2Fb/finish`), without the query.
    public var path: String
    /// Decoded query pairs (`Percent.parseQuery` turns a raw wire query into these).
    public var query: [(String, String)]
    /// Headers in the order they were set; names in any case.
    public var headers: [(String, String)]
    /// The body bytes exactly as sent.
    public var body: [UInt8]

    public init(method: String, path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
                body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Builds the request from a raw request target (`/path?query`) as a server receives it.
    public init(method: String, target: String, headers: [(String, String)], body: [UInt8]) {
        if let q = target.firstIndex(of: "?") {
            self.init(method: method, path: String(target[..<q]),
                      query: Percent.parseQuery(target[target.index(after: q)...]), headers: headers, body: body)
        } else {
            self.init(method: method, path: target, query: [], headers: headers, body: body)
        }
    }

    /// The first header with this name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { Canonical.sameName($0.0, name) }?.1
    }

    /// Whether a header with this name is present (case-insensitive).
    public func hasHeader(_ name: String) -> Bool { header(name) != nil }

    /// Sets a header, replacing any existing one with the same name (case-insensitive) in place.
    public mutating func setHeader(_ name: String, _ value: String) {
        if let i = headers.firstIndex(where: { Canonical.sameName($0.0, name) }) {
            var kept: [(String, String)] = []
            kept.reserveCapacity(headers.count)
            for (j, h) in headers.enumerated() {
                if j == i { kept.append((h.0, value)) } else if !Canonical.sameName(h.0, name) { kept.append(h) }
            }
            headers = kept
        } else {
            headers.append((name, value))
        }
    }
}

/// The parts of an `Authorization` header of either algorithm.
public struct ParsedAuthorization: Sendable, Equatable {
    public var algorithm: String
    public var accessKeyID: String
    /// Lower-cased header names as listed in `SignedHeaders`, in their listed order.
    public var signedHeaders: [String]
    /// Lowercase hex signature.
    public var signature: String

    public init(algorithm: String, accessKeyID: String, signedHeaders: [String], signature: String) {
        self.algorithm = algorithm
        self.accessKeyID = accessKeyID
        self.signedHeaders = signedHeaders
        self.signature = signature
    }
}

/// Every intermediate of one signature, so tests and verifiers can compare each step.
public struct SignatureParts: Sendable, Equatable {
    public var canonicalRequest: String
    public var stringToSign: String
    public var signedHeaders: String
    public var signature: String
    public var authorization: String
}

enum Hashing {
    static func sha256Hex(_ bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }
    static func sha256Hex(_ s: String) -> String { sha256Hex(Array(s.utf8)) }

    static func hmacSHA256Hex(key: String, message: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: Array(key.utf8)))
        return hex(mac)
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in bytes {
            out.append(Percent.hexLower[Int(b >> 4)])
            out.append(Percent.hexLower[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Constant-time comparison of two signatures (a verifier must not leak how many leading characters match).
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}

/// SHA-256 helpers exposed for clients and the emulator.
public enum SigningHash {
    /// Lowercase hex SHA-256 of the empty string.
    public static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    public static func sha256Hex(_ bytes: [UInt8]) -> String { Hashing.sha256Hex(bytes) }
    public static func hmacSHA256Hex(key: String, message: String) -> String {
        Hashing.hmacSHA256Hex(key: key, message: message)
    }
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool { Hashing.constantTimeEqual(a, b) }
}

/// UTC timestamps in the two formats the signers use, without Foundation.
public enum SigningClock {
    /// (year, month, day, hour, minute, second) for Unix seconds (proleptic Gregorian, UTC).
    public static func civil(_ unix: Int64) -> (Int64, Int64, Int64, Int64, Int64, Int64) {
        var days = unix / 86400
        var secs = unix % 86400
        if secs < 0 { secs += 86400; days -= 1 }
        // Howard Hinnant's civil_from_days.
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d, secs / 3600, (secs % 3600) / 60, secs % 60)
    }

    static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = m > 2 ? m - 3 : m + 9
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// Zero-padded decimal digits of a non-negative value; falls back to `pad` for other values.
    static func put(_ v: Int64, _ width: Int, _ out: inout [UInt8]) {
        guard v >= 0 else { out.append(contentsOf: pad(v, width).utf8); return }
        var digits = 0
        var t = v
        repeat { digits += 1; t /= 10 } while t > 0
        for _ in 0..<max(0, width - digits) { out.append(0x30) }
        let start = out.count
        t = v
        repeat { out.append(UInt8(0x30 + t % 10)); t /= 10 } while t > 0
        out[start...].reverse()
    }

    static func format(_ unix: Int64, extended: Bool) -> String {
        let (y, mo, d, h, mi, s) = civil(unix)
        var out: [UInt8] = []
        out.reserveCapacity(20)
        put(y, 4, &out)
        if extended { out.append(0x2D) }
        put(mo, 2, &out)
        if extended { out.append(0x2D) }
        put(d, 2, &out)
        out.append(0x54)
        put(h, 2, &out)
        if extended { out.append(0x3A) }
        put(mi, 2, &out)
        if extended { out.append(0x3A) }
        put(s, 2, &out)
        out.append(0x5A)
        return String(decoding: out, as: UTF8.self)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (Alibaba `x-acs-date`).
    public static func acsDate(unixSeconds: Int64) -> String { format(unixSeconds, extended: true) }

    /// `YYYYMMDDTHHMMSSZ` (Huawei `X-Sdk-Date`).
    public static func sdkDate(unixSeconds: Int64) -> String { format(unixSeconds, extended: false) }

    static func digits(_ u: [UInt8], _ from: Int, _ count: Int) -> Int64? {
        guard from + count <= u.count else { return nil }
        var v: Int64 = 0
        for i in from..<(from + count) {
            let b = u[i]
            guard b >= 0x30 && b <= 0x39 else { return nil }
            v = v * 10 + Int64(b - 0x30)
        }
        return v
    }

    static func unix(_ y: Int64, _ mo: Int64, _ d: Int64, _ h: Int64, _ mi: Int64, _ s: Int64) -> Int64? {
        guard (1...12).contains(mo), (1...31).contains(d), (0...23).contains(h), (0...59).contains(mi),
              (0...60).contains(s) else { return nil }
        return daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ`; nil when malformed.
    public static func parseAcsDate(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        guard u.count == 20, u[4] == 0x2D, u[7] == 0x2D, u[10] == 0x54, u[13] == 0x3A, u[16] == 0x3A, u[19] == 0x5A,
              let y = digits(u, 0, 4), let mo = digits(u, 5, 2), let d = digits(u, 8, 2), let h = digits(u, 11, 2),
              let mi = digits(u, 14, 2), let s = digits(u, 17, 2) else { return nil }
        return unix(y, mo, d, h, mi, s)
    }

    /// Parses `YYYYMMDDTHHMMSSZ`; nil when malformed.
    public static func parseSdkDate(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        guard u.count == 16, u[8] == 0x54, u[15] == 0x5A,
              let y = digits(u, 0, 4), let mo = digits(u, 4, 2), let d = digits(u, 6, 2), let h = digits(u, 9, 2),
              let mi = digits(u, 11, 2), let s = digits(u, 13, 2) else { return nil }
        return unix(y, mo, d, h, mi, s)
    }
}
