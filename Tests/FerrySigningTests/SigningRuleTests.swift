@testable import FerrySigning
import XCTest

/// Individual canonicalization rules from signing.md and providers.md part G, one assertion each.
final class SigningRuleTests: XCTestCase {
    func testPercentEncodeCorners() {
        XCTAssertEqual(Percent.encode("a b*~/é&x=1+2%'"), "a%20b%2A~%2F%C3%A9%26x%3D1%2B2%25%27")
        XCTAssertEqual(Percent.encode("AZaz09-_.~"), "AZaz09-_.~")
        XCTAssertEqual(Percent.encode("测"), "%E6%B5%8B")
        XCTAssertEqual(Percent.encode(":,;"), "%3A%2C%3B")
        XCTAssertEqual(Percent.encode(""), "")
        XCTAssertEqual(Percent.encode("😀"), "%F0%9F%98%80")
        XCTAssertEqual(Percent.encodePlus("a b*~/"), "a+b%2A~%2F")
        XCTAssertEqual(Percent.formEncode([("k 1", "v+ w"), ("e", "")]), "k+1=v%2B+w&e=")
    }

    func testPercentDecode() {
        XCTAssertEqual(Percent.decode("a%2Fb%20c~%C3%A9"), "a/b c~é")
        XCTAssertEqual(Percent.decode("a+b"), "a+b")
        XCTAssertEqual(Percent.decode("a+b", plusAsSpace: true), "a b")
        XCTAssertEqual(Percent.decode("100%"), "100%")
        XCTAssertEqual(Percent.decode("%zz%4"), "%zz%4")
        XCTAssertEqual(Percent.decode("%FF"), "\u{FFFD}")
        let q = Percent.parseQuery("a=1&b=x+y%2B&c&d=&=e")
        XCTAssertEqual(q.map { "\($0.0)|\($0.1)" }, ["a|1", "b|x y+", "c|", "d|", "|e"])
    }

    // G.2: keys are not encoded, values are; space is %20 in the signature, '+' on the wire.
    func testAlibabaQueryKeysNotEncoded() {
        XCTAssertEqual(ACS3Signer.canonicalQueryString([("b", "x y"), ("a b", "1"), ("B", "")]), "B=&a b=1&b=x%20y")
        XCTAssertEqual(ACS3Signer.wireQueryString([("b", "x y"), ("a", "1")]), "b=x+y&a=1")
        XCTAssertEqual(ACS3Signer.canonicalQueryString([]), "")
    }

    // G.1: every header is signed; names lower-cased, values trimmed, case collisions sorted and joined with ','.
    func testAlibabaHeadersAllSigned() {
        let (c, s) = ACS3Signer.canonicalHeaders([("User-Agent", "  ua x  "), ("X-Acs-B", "2"), ("x-acs-b", "1"), ("accept", "j")])
        XCTAssertEqual(c, "accept:j\nuser-agent:ua x\nx-acs-b:1,2\n")
        XCTAssertEqual(s, "accept;user-agent;x-acs-b")
    }

    // G.3: the ROA pathname is used verbatim.
    func testAlibabaCanonicalURIVerbatim() {
        XCTAssertEqual(ACS3Signer.canonicalURI("/migrations/a%2Fb%20c"), "/migrations/a%2Fb%20c")
        XCTAssertEqual(ACS3Signer.canonicalURI(""), "/")
    }

    // G.4: decode, split on '/', re-encode, trailing '/'.
    func testHuaweiCanonicalURI() {
        XCTAssertEqual(HuaweiSigner.canonicalURI("/v2/p/migration-task/task%2F1%202%2A~%C3%A9%3A"),
                       "/v2/p/migration-task/task/1%202%2A~%C3%A9%3A/")
        XCTAssertEqual(HuaweiSigner.canonicalURI("/v2/p/x/"), "/v2/p/x/")
        XCTAssertEqual(HuaweiSigner.canonicalURI("/"), "/")
    }

    // G.5: Huawei sorts by (key, value), encodes keys and values; the wire query is the canonical one.
    func testHuaweiQuery() {
        XCTAssertEqual(HuaweiSigner.canonicalQueryString([("b", "2"), ("a k", "z"), ("b", "1"), ("c", "")]),
                       "a%20k=z&b=1&b=2&c=")
        XCTAssertEqual(HuaweiSigner.requestURI(path: "/p", query: []), "/p")
    }

    // Huawei: names containing '_' are sent but not signed; the last value wins on a case collision.
    func testHuaweiSignedHeaderSelection() {
        let h = [("Content-Type", "application/json"), ("X_Custom", "a"), ("x-b", "1"), ("X-B", "2")]
        XCTAssertEqual(HuaweiSigner.defaultSignedHeaders(h), ["content-type", "x-b"])
        XCTAssertEqual(HuaweiSigner.canonicalHeaders(h, signedHeaders: ["x-b", "content-type"]),
                       "content-type:application/json\nx-b:2\n")
    }

    func testHuaweiPayloadHashOverride() {
        var r = SignableRequest(method: "POST", path: "/", body: Array("x".utf8))
        XCTAssertEqual(HuaweiSigner.payloadHash(r), SigningHash.sha256Hex(Array("x".utf8)))
        r.headers.append(("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"))
        XCTAssertEqual(HuaweiSigner.payloadHash(r), "UNSIGNED-PAYLOAD")
        r.body = []
        XCTAssertEqual(HuaweiSigner.payloadHash(r), SigningHash.emptySHA256)
    }

    // G.6: separators differ.
    func testAuthorizationParsing() {
        let a = ACS3Signer.parseAuthorization("ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;x-acs-date,Signature=ab12")
        XCTAssertEqual(a, ParsedAuthorization(algorithm: "ACS3-HMAC-SHA256", accessKeyID: "AK", signedHeaders: ["host", "x-acs-date"], signature: "ab12"))
        let h = HuaweiSigner.parseAuthorization("SDK-HMAC-SHA256 Access=AK, SignedHeaders=content-type;host, Signature=cd34")
        XCTAssertEqual(h, ParsedAuthorization(algorithm: "SDK-HMAC-SHA256", accessKeyID: "AK", signedHeaders: ["content-type", "host"], signature: "cd34"))
        XCTAssertNil(ACS3Signer.parseAuthorization("SDK-HMAC-SHA256 Access=AK, SignedHeaders=a, Signature=b"))
        XCTAssertNil(HuaweiSigner.parseAuthorization("SDK-HMAC-SHA256 Access=AK, Signature=b"))
        XCTAssertNil(ACS3Signer.parseAuthorization("ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a,Signature=b,Bogus=c"))
        XCTAssertNil(ACS3Signer.parseAuthorization(""))
        XCTAssertNil(HuaweiSigner.parseAuthorization("SDK-HMAC-SHA256 garbage"))
    }

    func testTimestamps() {
        XCTAssertEqual(SigningClock.acsDate(unixSeconds: 1704164645), "2024-01-02T03:04:05Z")
        XCTAssertEqual(SigningClock.sdkDate(unixSeconds: 1704164645), "20240102T030405Z")
        XCTAssertEqual(SigningClock.parseAcsDate("2024-01-02T03:04:05Z"), 1704164645)
        XCTAssertEqual(SigningClock.parseSdkDate("20240102T030405Z"), 1704164645)
        XCTAssertEqual(SigningClock.sdkDate(unixSeconds: 951782400), "20000229T000000Z")
        XCTAssertNil(SigningClock.parseSdkDate("2024-01-02T03:04:05Z"))
        XCTAssertNil(SigningClock.parseAcsDate("2024-13-02T03:04:05Z"))
        XCTAssertNil(SigningClock.parseAcsDate(""))
    }

    func testNonce() {
        let a = ACS3Signer.makeNonce(), b = ACS3Signer.makeNonce()
        XCTAssertEqual(a.count, 32)
        XCTAssertNotEqual(a, b)
        XCTAssertTrue(a.allSatisfy { "0123456789abcdef".contains($0) })
    }

    func testSetHeaderReplacesCaseInsensitively() {
        var r = SignableRequest(method: "GET", path: "/", headers: [("Host", "a"), ("x", "1"), ("HOST", "b")])
        r.setHeader("host", "c")
        XCTAssertEqual(r.headers.map { "\($0.0)=\($0.1)" }, ["Host=c", "x=1"])
        r.setHeader("New", "v")
        XCTAssertEqual(r.header("new"), "v")
    }
}
