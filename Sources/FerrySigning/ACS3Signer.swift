import Crypto

/// Alibaba Cloud ACS3-HMAC-SHA256, as `alibabacloud_tea_openapi` 0.4.6 signs on its default path, for both ROA
/// (RocketMQ 2022-08-01) and RPC (MSE 2019-05-31). See shared/reference/signing.md §1.
public enum ACS3Signer {
    public static let algorithm = "ACS3-HMAC-SHA256"

    /// Lowercase hex SHA-256 of the body (`x-acs-content-sha256` and the canonical request's last line).
    public static func hashedPayload(_ body: [UInt8]) -> String {
        body.isEmpty ? SigningHash.emptySHA256 : Hashing.sha256Hex(body)
    }

    /// The pathname verbatim (already percent-encoded, `%2F` kept), or `/` when empty. Never re-encoded.
    public static func canonicalURI(_ path: String) -> String { path.isEmpty ? "/" : path }

    /// Keys sorted by ordinal order, `key=quote(value, safe='~')` joined with `&`. Keys are not encoded.
    public static func canonicalQueryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        var out: [UInt8] = []
        appendCanonicalQuery(query, &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendCanonicalQuery(_ query: [(String, String)], _ out: inout [UInt8]) {
        guard !query.isEmpty else { return }
        let sorted = query.count == 1 ? [(offset: 0, element: query[0])] : query.enumerated().sorted { a, b in
            if a.element.0 != b.element.0 { return ordinalLess(a.element.0, b.element.0) }
            return a.offset < b.offset
        }
        for (i, e) in sorted.enumerated() {
            if i > 0 { out.append(0x26) }
            Canonical.append(e.element.0, &out)
            out.append(0x3D)
            Canonical.appendEncoded(e.element.1, &out)
        }
    }

    /// The query as the SDK writes it on the wire: `urlencode` in insertion order (space as `+`).
    public static func wireQueryString(_ query: [(String, String)]) -> String { Percent.formEncode(query) }

    /// Canonical header block (each line ends in `\n`) and the `;`-joined signed header list.
    /// `signedHeaders` nil = sign every header present (the SDK's rule) except `authorization`;
    /// otherwise only the listed names (a verifier passes the list from the Authorization header).
    public static func canonicalHeaders(_ headers: [(String, String)], signedHeaders: [String]? = nil)
        -> (canonical: String, signedHeaders: String)
    {
        var out: [UInt8] = []
        let sh = appendCanonicalHeaders(headers, signedHeaders: signedHeaders, &out)
        return (String(decoding: out, as: UTF8.self), sh)
    }

    /// Appends `name:value\n` per signed name (values of a repeated name sorted and comma-joined); returns the
    /// signed header list.
    static func appendCanonicalHeaders(_ headers: [(String, String)], signedHeaders: [String]?,
                                       _ out: inout [UInt8]) -> String {
        let sorted = Canonical.sortedHeaders(headers)
        var names: [String] = []
        if let signedHeaders {
            names = signedHeaders.map(Canonical.lower)
            names.sort(by: ordinalLess)
        } else {
            names.reserveCapacity(sorted.count)
            for h in sorted where h.name != "authorization" && names.last != h.name { names.append(h.name) }
        }
        var j = 0
        var many: [String] = []
        for n in names {
            while j < sorted.count && ordinalLess(sorted[j].name, n) { j += 1 }
            Canonical.append(n, &out)
            out.append(0x3A)
            var k = j
            many.removeAll(keepingCapacity: true)
            while k < sorted.count && sorted[k].name == n { many.append(sorted[k].value); k += 1 }
            if many.count == 1 {
                Canonical.append(many[0], &out)
            } else if many.count > 1 {
                many.sort(by: ordinalLess)
                for (i, v) in many.enumerated() {
                    if i > 0 { out.append(0x2C) }
                    Canonical.append(v, &out)
                }
            }
            out.append(0x0A)
        }
        return names.joined(separator: ";")
    }

    /// `METHOD\nURI\nQUERY\nHEADERS\nSIGNED\nPAYLOADHASH` (the headers block ends in `\n`, so a blank line follows).
    public static func canonicalRequest(_ request: SignableRequest, signedHeaders: [String]? = nil)
        -> (canonicalRequest: String, signedHeaders: String)
    {
        let (cr, sh) = canonicalRequestBytes(request, signedHeaders: signedHeaders)
        return (String(decoding: cr, as: UTF8.self), sh)
    }

    static func canonicalRequestBytes(_ request: SignableRequest, signedHeaders: [String]?) -> ([UInt8], String) {
        var out: [UInt8] = []
        out.reserveCapacity(640 + request.path.utf8.count)
        Canonical.appendUpper(request.method, &out)
        out.append(0x0A)
        if request.path.isEmpty { out.append(0x2F) } else { Canonical.append(request.path, &out) }
        out.append(0x0A)
        appendCanonicalQuery(request.query, &out)
        out.append(0x0A)
        let sh = appendCanonicalHeaders(request.headers, signedHeaders: signedHeaders, &out)
        out.append(0x0A)
        Canonical.append(sh, &out)
        out.append(0x0A)
        if request.body.isEmpty {
            Canonical.append(SigningHash.emptySHA256, &out)
        } else {
            Canonical.appendHex(SHA256.hash(data: request.body), &out)
        }
        return (out, sh)
    }

    public static func stringToSign(canonicalRequest: String) -> String {
        algorithm + "\n" + Hashing.sha256Hex(canonicalRequest)
    }

    /// Lowercase hex HMAC-SHA256 keyed with the raw secret.
    public static func signature(stringToSign: String, secret: String) -> String {
        Hashing.hmacSHA256Hex(key: secret, message: stringToSign)
    }

    /// `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex` (no spaces after commas).
    public static func authorization(accessKeyID: String, signedHeaders: String, signature: String) -> String {
        algorithm + " Credential=" + accessKeyID + ",SignedHeaders=" + signedHeaders + ",Signature=" + signature
    }

    /// Computes every step over the request's current headers (which must already hold `x-acs-date`, the nonce,
    /// `x-acs-content-sha256` and so on; see `prepare`).
    public static func signatureParts(_ request: SignableRequest, accessKeyID: String, secret: String,
                                      signedHeaders: [String]? = nil) -> SignatureParts {
        let (cr, sh) = canonicalRequestBytes(request, signedHeaders: signedHeaders)
        var sts: [UInt8] = []
        sts.reserveCapacity(algorithm.utf8.count + 65)
        Canonical.append(algorithm, &sts)
        sts.append(0x0A)
        Canonical.appendHex(SHA256.hash(data: cr), &sts)
        let sig = Canonical.hmacHex(key: secret, message: sts)
        return SignatureParts(canonicalRequest: String(decoding: cr, as: UTF8.self),
                              stringToSign: String(decoding: sts, as: UTF8.self), signedHeaders: sh, signature: sig,
                              authorization: authorization(accessKeyID: accessKeyID, signedHeaders: sh, signature: sig))
    }

    /// The headers to add to sign the request as it stands: `[("Authorization", ...)]`.
    public static func sign(_ request: SignableRequest, accessKeyID: String, secret: String) -> [(String, String)] {
        [("Authorization", signatureParts(request, accessKeyID: accessKeyID, secret: secret).authorization)]
    }

    /// Adds what the SDK adds just before signing, in the SDK's order (`x-acs-date`, `x-acs-signature-nonce`,
    /// `x-acs-content-sha256`, STS pair), then `Authorization`. The caller has already set `host`,
    /// `x-acs-version`, `x-acs-action`, `user-agent`, `accept`, `content-type` (body only) and any
    /// `x-acs-credentials-provider`.
    @discardableResult
    public static func prepareAndSign(_ request: inout SignableRequest, accessKeyID: String, secret: String,
                                      securityToken: String? = nil, date: String, nonce: String) -> SignatureParts {
        request.setHeader("x-acs-date", date)
        request.setHeader("x-acs-signature-nonce", nonce)
        request.setHeader("x-acs-content-sha256", hashedPayload(request.body))
        if let securityToken {
            request.setHeader("x-acs-accesskey-id", accessKeyID)
            request.setHeader("x-acs-security-token", securityToken)
        }
        let parts = signatureParts(request, accessKeyID: accessKeyID, secret: secret)
        request.setHeader("Authorization", parts.authorization)
        return parts
    }

    /// 32 lowercase hex characters of randomness (`x-acs-signature-nonce`).
    public static func makeNonce() -> String {
        var g = SystemRandomNumberGenerator()
        let a = g.next() as UInt64, b = g.next() as UInt64
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for var v in [a, b] {
            for _ in 0..<8 {
                let byte = UInt8(truncatingIfNeeded: v)
                out.append(Percent.hexLower[Int(byte >> 4)])
                out.append(Percent.hexLower[Int(byte & 0xF)])
                v >>= 8
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`. Tolerates spaces after commas;
    /// nil when the algorithm or a part is missing.
    public static func parseAuthorization(_ header: String) -> ParsedAuthorization? {
        parseAuthorizationHeader(header, algorithm: algorithm, keyField: "Credential")
    }

    /// Recomputes the signature over the received request using the header list in its Authorization header.
    /// Returns the recomputed parts (for diagnostics) and whether they match.
    public static func verify(_ request: SignableRequest, authorization: ParsedAuthorization, secret: String)
        -> (valid: Bool, expected: SignatureParts)
    {
        let parts = signatureParts(request, accessKeyID: authorization.accessKeyID, secret: secret,
                                   signedHeaders: authorization.signedHeaders)
        return (Hashing.constantTimeEqual(parts.signature, authorization.signature.lowercased()), parts)
    }
}

/// Shared parser for `ALG Key=v,SignedHeaders=a;b,Signature=s` with optional spaces after commas.
func parseAuthorizationHeader(_ header: String, algorithm: String, keyField: String) -> ParsedAuthorization? {
    let trimmed = pythonStrip(header)
    guard trimmed.hasPrefix(algorithm + " ") else { return nil }
    let rest = trimmed.dropFirst(algorithm.count + 1)
    var key: String?, signed: String?, sig: String?
    for rawPart in rest.split(separator: ",", omittingEmptySubsequences: true) {
        let part = rawPart.drop { $0 == " " }
        guard let eq = part.firstIndex(of: "=") else { return nil }
        let name = part[..<eq]
        let value = String(part[part.index(after: eq)...]).trimmingTrailingSpaces()
        switch name {
        case Substring(keyField): key = value
        case "SignedHeaders": signed = value
        case "Signature": sig = value
        default: return nil
        }
    }
    guard let key, let signed, let sig, !key.isEmpty, !signed.isEmpty, !sig.isEmpty else { return nil }
    return ParsedAuthorization(algorithm: algorithm, accessKeyID: key,
                               signedHeaders: signed.split(separator: ";").map { String($0).lowercased() },
                               signature: sig)
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self[...]
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
