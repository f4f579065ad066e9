@testable import FerrySigning
import XCTest

/// The byte-buffer canonicalization must produce exactly what the straightforward String version (kept here as
/// the reference, copied from the first implementation) produced, on awkward inputs: mixed-case and repeated
/// names, whitespace around values, non-ASCII, `%2F` in paths, repeated query keys, explicit signed lists.
final class CanonicalEquivalenceTests: XCTestCase {
    enum Reference {
        static func acsHeaders(_ headers: [(String, String)], signedHeaders: [String]?) -> (String, String) {
            var values: [String: [String]] = [:]
            for (name, value) in headers { values[name.lowercased(), default: []].append(pythonStrip(value)) }
            var names: [String]
            if let signedHeaders { names = signedHeaders.map { $0.lowercased() } } else {
                names = values.keys.filter { $0 != "authorization" }
            }
            names.sort(by: ordinalLess)
            var out = ""
            for n in names {
                let vs = values[n] ?? []
                out += n + ":" + (vs.count == 1 ? vs[0] : vs.sorted(by: ordinalLess).joined(separator: ",")) + "\n"
            }
            return (out, names.joined(separator: ";"))
        }

        static func acsQuery(_ query: [(String, String)]) -> String {
            let sorted = query.enumerated().sorted { a, b in
                if a.element.0 != b.element.0 { return ordinalLess(a.element.0, b.element.0) }
                return a.offset < b.offset
            }
            return sorted.map { $0.element.0 + "=" + Percent.encode($0.element.1) }.joined(separator: "&")
        }

        static func acsRequest(_ r: SignableRequest, signedHeaders: [String]?) -> String {
            let (ch, sh) = acsHeaders(r.headers, signedHeaders: signedHeaders)
            return r.method.uppercased() + "\n" + (r.path.isEmpty ? "/" : r.path) + "\n" + acsQuery(r.query) + "\n"
                + ch + "\n" + sh + "\n" + ACS3Signer.hashedPayload(r.body)
        }

        static func hwURI(_ path: String) -> String {
            var out = Percent.decode(path).split(separator: "/", omittingEmptySubsequences: false)
                .map { Percent.encode(String($0)) }.joined(separator: "/")
            if !out.hasSuffix("/") { out += "/" }
            return out
        }

        static func hwQuery(_ query: [(String, String)]) -> String {
            query.sorted { a, b in a.0 != b.0 ? ordinalLess(a.0, b.0) : ordinalLess(a.1, b.1) }
                .map { Percent.encode($0.0) + "=" + Percent.encode($0.1) }.joined(separator: "&")
        }

        static func hwDefaultSigned(_ headers: [(String, String)]) -> [String] {
            var set = Set<String>()
            for (name, _) in headers {
                let n = name.lowercased()
                if !n.contains("_") && n != "authorization" { set.insert(n) }
            }
            return set.sorted(by: ordinalLess)
        }

        static func hwRequest(_ r: SignableRequest, signedHeaders: [String]?) -> String {
            let names = (signedHeaders?.map { $0.lowercased() } ?? hwDefaultSigned(r.headers)).sorted(by: ordinalLess)
            var values: [String: String] = [:]
            for (name, value) in r.headers { values[name.lowercased()] = pythonStrip(value) }
            var ch = ""
            for n in names { ch += n + ":" + (values[n] ?? "") + "\n" }
            let lowered = r.headers.first { $0.0.lowercased() == "x-sdk-content-sha256" }?.1
            let payload = r.body.isEmpty ? SigningHash.emptySHA256 : (lowered ?? SigningHash.sha256Hex(r.body))
            return r.method.uppercased() + "\n" + hwURI(r.path) + "\n" + hwQuery(r.query) + "\n" + ch + "\n"
                + names.joined(separator: ";") + "\n" + payload
        }
    }

    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        mutating func pick<T>(_ a: [T]) -> T { a[Int(next() % UInt64(a.count))] }
    }

    static let names = ["host", "Host", "X-Acs-Date", "x-acs-date", "content-type", "Content-Type", "x_custom",
                        "X-Sdk-Date", "Authorization", "x-b", "X-B", "Ünï", "x-acs-signature-nonce", "accept", "a"]
    static let values = ["", " ", "v", " padded ", "\tx\n", "a,b", "ü", "value with space", "\u{A0}nbsp\u{A0}",
                         "20240102T030405Z", "UNSIGNED-PAYLOAD", "x\u{2003}"]
    static let paths = ["", "/", "/a/b", "/a%2Fb/c", "/x y/", "/ü/%zz", "/v1/p/instances/i-1/tasks", "a%2f%41"]
    static let methods = ["GET", "post", "Put", "DELETE"]
    static let keys = ["a", "B", "a b", "ü", "offset", "limit"]

    func randomRequest(_ g: inout Rng) -> SignableRequest {
        var headers: [(String, String)] = []
        for _ in 0..<Int(g.next() % 8) { headers.append((g.pick(Self.names), g.pick(Self.values))) }
        var query: [(String, String)] = []
        for _ in 0..<Int(g.next() % 4) { query.append((g.pick(Self.keys), g.pick(Self.values))) }
        let body: [UInt8] = g.next() % 2 == 0 ? [] : Array(g.pick(Self.values).utf8)
        return SignableRequest(method: g.pick(Self.methods), path: g.pick(Self.paths), query: query, headers: headers,
                               body: body)
    }

    func testByteCanonicalizationMatchesReference() {
        var g = Rng(state: 42)
        for i in 0..<3000 {
            let r = randomRequest(&g)
            var signed: [String]? = nil
            if g.next() % 3 == 0 { signed = (0..<Int(g.next() % 4)).map { _ in g.pick(Self.names) } }
            XCTAssertEqual(ACS3Signer.canonicalRequest(r, signedHeaders: signed).canonicalRequest,
                           Reference.acsRequest(r, signedHeaders: signed), "acs3 case \(i)")
            XCTAssertEqual(HuaweiSigner.canonicalRequest(r, signedHeaders: signed).canonicalRequest,
                           Reference.hwRequest(r, signedHeaders: signed), "huawei case \(i)")
            XCTAssertEqual(HuaweiSigner.defaultSignedHeaders(r.headers), Reference.hwDefaultSigned(r.headers))
            XCTAssertEqual(HuaweiSigner.canonicalURI(r.path), Reference.hwURI(r.path))
        }
    }

    func testSignatureStepsAgree() {
        var g = Rng(state: 7)
        for _ in 0..<200 {
            let r = randomRequest(&g)
            let a = ACS3Signer.signatureParts(r, accessKeyID: "AK", secret: "sk")
            XCTAssertEqual(a.stringToSign, ACS3Signer.stringToSign(canonicalRequest: a.canonicalRequest))
            XCTAssertEqual(a.signature, ACS3Signer.signature(stringToSign: a.stringToSign, secret: "sk"))
            let h = HuaweiSigner.signatureParts(r, accessKeyID: "AK", secret: "sk")
            XCTAssertEqual(h.stringToSign, HuaweiSigner.stringToSign(canonicalRequest: h.canonicalRequest,
                                                                     date: r.header("x-sdk-date") ?? ""))
            XCTAssertEqual(h.signature, HuaweiSigner.signature(stringToSign: h.stringToSign, secret: "sk"))
        }
    }

    func testHeaderNameMatching() {
        var r = SignableRequest(method: "GET", path: "/", headers: [("X-Sdk-Date", "1"), ("Ünï", "2")])
        XCTAssertEqual(r.header("x-sdk-date"), "1")
        XCTAssertEqual(r.header("ünï"), "2")
        XCTAssertNil(r.header("x-sdk-dat"))
        XCTAssertNil(r.header("x-sdk-datee"))
        r.setHeader("X-SDK-DATE", "3")
        XCTAssertEqual(r.headers.map { $0.1 }, ["3", "2"])
    }

    func testDatesAtEdges() {
        XCTAssertEqual(SigningClock.acsDate(unixSeconds: 0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(SigningClock.sdkDate(unixSeconds: 253402300799), "99991231T235959Z")
        XCTAssertEqual(SigningClock.acsDate(unixSeconds: 1704164645), "2024-01-02T03:04:05Z")
    }
}
