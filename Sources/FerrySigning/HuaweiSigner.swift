import Crypto

/// Huawei Cloud SDK-HMAC-SHA256, as `huaweicloudsdkcore` 3.1.219 `signer.Signer` signs. See signing.md §2.
public enum HuaweiSigner {
    public static let algorithm = "SDK-HMAC-SHA256"
    public static let dateHeader = "X-Sdk-Date"
    public static let contentSHA256Header = "X-Sdk-Content-Sha256"

    /// Decode the whole path, split on `/`, `quote(segment, safe='~')` each piece, join, and append `/` if the
    /// result does not already end with one. An encoded `%2F` therefore becomes a real separator.
    public static func canonicalURI(_ path: String) -> String {
        var out: [UInt8] = []
        appendCanonicalURI(path, &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Encoding every segment and joining with `/` is encoding every byte but `/`.
    static func appendCanonicalURI(_ path: String, _ out: inout [UInt8]) {
        let decoded = path.utf8.contains(0x25) ? Percent.decode(path) : path
        Canonical.appendEncoded(decoded, keepSlash: true, &out)
        if out.last != 0x2F { out.append(0x2F) }
    }

    /// Pairs sorted by (raw key, raw value), each `quote(k, safe='~')=quote(v, safe='~')`, joined with `&`.
    /// This is also the exact wire query.
    public static func canonicalQueryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        var out: [UInt8] = []
        appendCanonicalQuery(query, &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendCanonicalQuery(_ query: [(String, String)], _ out: inout [UInt8]) {
        guard !query.isEmpty else { return }
        let sorted = query.count == 1 ? query : query.sorted { a, b in
            if a.0 != b.0 { return ordinalLess(a.0, b.0) }
            return ordinalLess(a.1, b.1)
        }
        for (i, (k, v)) in sorted.enumerated() {
            if i > 0 { out.append(0x26) }
            Canonical.appendEncoded(k, &out)
            out.append(0x3D)
            Canonical.appendEncoded(v, &out)
        }
    }

    /// `path` or `path?canonical_query`: the request URI the SDK sends.
    public static func requestURI(path: String, query: [(String, String)]) -> String {
        let q = canonicalQueryString(query)
        return q.isEmpty ? path : path + "?" + q
    }

    /// The signed header names: every header whose name has no `_`, lower-cased and sorted (excluding
    /// `authorization`, which the SDK never has present when it signs).
    public static func defaultSignedHeaders(_ headers: [(String, String)]) -> [String] {
        defaultSignedHeaders(Canonical.sortedHeaders(headers))
    }

    static func defaultSignedHeaders(_ sorted: [Canonical.Header]) -> [String] {
        var names: [String] = []
        names.reserveCapacity(sorted.count)
        for h in sorted where names.last != h.name && h.name != "authorization" && !h.name.utf8.contains(0x5F) {
            names.append(h.name)
        }
        return names
    }

    /// `name:value\n` per signed header in sorted order; on a lower-case name collision the last value wins.
    public static func canonicalHeaders(_ headers: [(String, String)], signedHeaders: [String]) -> String {
        var out: [UInt8] = []
        appendCanonicalHeaders(Canonical.sortedHeaders(headers),
                               names: signedHeaders.map(Canonical.lower).sorted(by: ordinalLess), &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `sorted` from `Canonical.sortedHeaders`, `names` lower-cased and sorted.
    static func appendCanonicalHeaders(_ sorted: [Canonical.Header], names: [String], _ out: inout [UInt8]) {
        var j = 0
        for n in names {
            while j < sorted.count && ordinalLess(sorted[j].name, n) { j += 1 }
            var k = j
            var value: String?
            while k < sorted.count && sorted[k].name == n { value = sorted[k].value; k += 1 }
            Canonical.append(n, &out)
            out.append(0x3A)
            if let value { Canonical.append(value, &out) }
            out.append(0x0A)
        }
    }

    /// Empty body: the empty-string hash; otherwise an `X-Sdk-Content-Sha256` header's value if present,
    /// else the body's SHA-256.
    public static func payloadHash(_ request: SignableRequest) -> String {
        if request.body.isEmpty { return SigningHash.emptySHA256 }
        if let v = request.header(contentSHA256Header) { return v }
        return Hashing.sha256Hex(request.body)
    }

    public static func canonicalRequest(_ request: SignableRequest, signedHeaders: [String]? = nil)
        -> (canonicalRequest: String, signedHeaders: String)
    {
        let (cr, sh) = canonicalRequestBytes(request, signedHeaders: signedHeaders)
        return (String(decoding: cr, as: UTF8.self), sh)
    }

    static func canonicalRequestBytes(_ request: SignableRequest, signedHeaders: [String]?) -> ([UInt8], String) {
        let sorted = Canonical.sortedHeaders(request.headers)
        let names = signedHeaders.map { $0.map(Canonical.lower).sorted(by: ordinalLess) } ?? defaultSignedHeaders(sorted)
        let sh = names.joined(separator: ";")
        var out: [UInt8] = []
        out.reserveCapacity(640 + request.path.utf8.count)
        Canonical.appendUpper(request.method, &out)
        out.append(0x0A)
        appendCanonicalURI(request.path, &out)
        out.append(0x0A)
        appendCanonicalQuery(request.query, &out)
        out.append(0x0A)
        appendCanonicalHeaders(sorted, names: names, &out)
        out.append(0x0A)
        Canonical.append(sh, &out)
        out.append(0x0A)
        if request.body.isEmpty {
            Canonical.append(SigningHash.emptySHA256, &out)
        } else if let v = request.header(contentSHA256Header) {
            Canonical.append(v, &out)
        } else {
            Canonical.appendHex(SHA256.hash(data: request.body), &out)
        }
        return (out, sh)
    }

    /// `SDK-HMAC-SHA256\n<X-Sdk-Date>\nhex(sha256(canonical_request))`.
    public static func stringToSign(canonicalRequest: String, date: String) -> String {
        algorithm + "\n" + date + "\n" + Hashing.sha256Hex(canonicalRequest)
    }

    public static func signature(stringToSign: String, secret: String) -> String {
        Hashing.hmacSHA256Hex(key: secret, message: stringToSign)
    }

    /// `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex` (a space after each comma).
    public static func authorization(accessKeyID: String, signedHeaders: String, signature: String) -> String {
        algorithm + " Access=" + accessKeyID + ", SignedHeaders=" + signedHeaders + ", Signature=" + signature
    }

    /// Every step over the request's current headers; the date is the request's `X-Sdk-Date` header.
    public static func signatureParts(_ request: SignableRequest, accessKeyID: String, secret: String,
                                      signedHeaders: [String]? = nil) -> SignatureParts {
        let (cr, sh) = canonicalRequestBytes(request, signedHeaders: signedHeaders)
        var sts: [UInt8] = []
        sts.reserveCapacity(algorithm.utf8.count + 90)
        Canonical.append(algorithm, &sts)
        sts.append(0x0A)
        Canonical.append(request.header(dateHeader) ?? "", &sts)
        sts.append(0x0A)
        Canonical.appendHex(SHA256.hash(data: cr), &sts)
        let sig = Canonical.hmacHex(key: secret, message: sts)
        return SignatureParts(canonicalRequest: String(decoding: cr, as: UTF8.self),
                              stringToSign: String(decoding: sts, as: UTF8.self), signedHeaders: sh, signature: sig,
                              authorization: authorization(accessKeyID: accessKeyID, signedHeaders: sh, signature: sig))
    }

    /// The headers `Signer.sign` adds, in its order: `X-Sdk-Date` (when absent), `Host` (when absent), then
    /// `Authorization`. `date` is `YYYYMMDDTHHMMSSZ`; `host` includes `:port` when the endpoint has one.
    public static func sign(_ request: SignableRequest, accessKeyID: String, secret: String, date: String,
                            host: String) -> [(String, String)] {
        var r = request
        var added: [(String, String)] = []
        if !r.hasHeader(dateHeader) { r.headers.append((dateHeader, date)); added.append((dateHeader, date)) }
        if !r.hasHeader("host") { r.headers.append(("Host", host)); added.append(("Host", host)) }
        added.append(("Authorization", signatureParts(r, accessKeyID: accessKeyID, secret: secret).authorization))
        return added
    }

    /// Adds `X-Project-Id` / `X-Security-Token` (as `BasicCredentials.sign_request` does, when given), then signs
    /// in place like `Signer.sign`. The caller has already set `Content-Type` and `User-Agent`.
    @discardableResult
    public static func prepareAndSign(_ request: inout SignableRequest, accessKeyID: String, secret: String,
                                      projectID: String? = nil, securityToken: String? = nil, date: String,
                                      host: String) -> SignatureParts {
        if let projectID { request.setHeader("X-Project-Id", projectID) }
        if let securityToken { request.setHeader("X-Security-Token", securityToken) }
        if !request.hasHeader(dateHeader) { request.headers.append((dateHeader, date)) }
        if !request.hasHeader("host") { request.headers.append(("Host", host)) }
        let parts = signatureParts(request, accessKeyID: accessKeyID, secret: secret)
        request.setHeader("Authorization", parts.authorization)
        return parts
    }

    /// Parses `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex` (spaces after commas optional).
    public static func parseAuthorization(_ header: String) -> ParsedAuthorization? {
        parseAuthorizationHeader(header, algorithm: algorithm, keyField: "Access")
    }

    /// Recomputes the signature using the header list in the Authorization header.
    public static func verify(_ request: SignableRequest, authorization: ParsedAuthorization, secret: String)
        -> (valid: Bool, expected: SignatureParts)
    {
        let parts = signatureParts(request, accessKeyID: authorization.accessKeyID, secret: secret,
                                   signedHeaders: authorization.signedHeaders)
        return (Hashing.constantTimeEqual(parts.signature, authorization.signature.lowercased()), parts)
    }
}
