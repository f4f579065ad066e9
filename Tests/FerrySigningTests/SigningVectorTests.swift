import FerryJSON
@testable import FerrySigning
import Foundation
import XCTest

/// Reproduces every vector in shared/reference/signing-vectors.json (made by the official SDKs) byte for byte.
final class SigningVectorTests: XCTestCase {
    static let vectorsPath: String = {
        // Tests/FerrySigningTests/<file> -> repo root is three levels up; shared/ sits beside the repo.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("shared/reference/signing-vectors.json").path
    }()

    static func loadVectors() throws -> JSON {
        let data = try Data(contentsOf: URL(fileURLWithPath: vectorsPath))
        return try JSONParser.parse(bytes: Array(data))
    }

    static func pairs(_ v: JSON?) -> [(String, String)] {
        (v?.arrayValue ?? []).compactMap { p -> (String, String)? in
            guard let a = p.arrayValue, a.count == 2, let k = a[0].stringValue else { return nil }
            return (k, a[1].stringValue ?? "")
        }
    }

    /// Huawei query values keep their Python types in the vectors; the signer applies str() / lower-case bools
    /// and expands lists into one pair per element.
    static func huaweiQuery(_ v: JSON?) -> [(String, String)] {
        var out: [(String, String)] = []
        for p in v?.arrayValue ?? [] {
            guard let a = p.arrayValue, a.count == 2, let k = a[0].stringValue else { continue }
            func str(_ x: JSON) -> String {
                switch x {
                case .string(let s): return s
                case .bool(let b): return b ? "true" : "false"
                case .number(let n): return n.int64Value.map(String.init) ?? String(n.doubleValue)
                default: return x.serialized()
                }
            }
            if let list = a[1].arrayValue { for e in list { out.append((k, str(e))) } } else { out.append((k, str(a[1]))) }
        }
        return out
    }

    func sortedHeaders(_ h: [(String, String)]) -> [String] { h.map { "\($0.0.lowercased()):\($0.1)" }.sorted() }

    func testVectorFileHasAllVectors() throws {
        let v = try Self.loadVectors()
        XCTAssertEqual(v["alibaba"]?.arrayValue?.count, 7)
        XCTAssertEqual(v["huawei"]?.arrayValue?.count, 7)
    }

    func testAlibabaVectors() throws {
        let vectors = try XCTUnwrap(Self.loadVectors()["alibaba"]?.arrayValue)
        XCTAssertFalse(vectors.isEmpty)
        for v in vectors {
            let name = v["name"]?.stringValue ?? "?"
            let i = try XCTUnwrap(v["inputs"]), o = try XCTUnwrap(v["outputs"])
            let ak = try XCTUnwrap(i["access_key_id"]?.stringValue), sk = try XCTUnwrap(i["access_key_secret"]?.stringValue)
            let req = SignableRequest(method: try XCTUnwrap(i["method"]?.stringValue), path: try XCTUnwrap(i["path"]?.stringValue),
                                      query: Self.pairs(i["query"]), headers: Self.pairs(i["headers_before_signing"]),
                                      body: Array((i["body"]?.stringValue ?? "").utf8))
            let parts = ACS3Signer.signatureParts(req, accessKeyID: ak, secret: sk)
            XCTAssertEqual(ACS3Signer.hashedPayload(req.body), o["hashed_payload"]?.stringValue, name)
            XCTAssertEqual(parts.canonicalRequest, o["canonical_request"]?.stringValue, name)
            XCTAssertEqual(parts.stringToSign, o["string_to_sign"]?.stringValue, name)
            XCTAssertEqual(parts.signature, o["signature"]?.stringValue, name)
            XCTAssertEqual(parts.authorization, o["authorization"]?.stringValue, name)
            XCTAssertEqual(ACS3Signer.stringToSign(canonicalRequest: parts.canonicalRequest), parts.stringToSign)
            XCTAssertEqual(ACS3Signer.sign(req, accessKeyID: ak, secret: sk).first?.1, o["authorization"]?.stringValue, name)

            // The wire URL the SDK produced (urlencode query, space as '+').
            let scheme = i["scheme"]?.stringValue ?? "https", host = i["host"]?.stringValue ?? ""
            let q = ACS3Signer.wireQueryString(req.query)
            XCTAssertEqual("\(scheme)://\(host)\(req.path)" + (q.isEmpty ? "" : "?" + q), o["wire_url"]?.stringValue, name)

            // Building from scratch: remove what the SDK adds just before signing and let prepareAndSign add it.
            let added: Set<String> = ["x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256", "x-acs-accesskey-id",
                                      "x-acs-security-token"]
            var fresh = req
            fresh.headers.removeAll { added.contains($0.0.lowercased()) }
            let p2 = ACS3Signer.prepareAndSign(&fresh, accessKeyID: ak, secret: sk, securityToken: i["security_token"]?.stringValue,
                                               date: try XCTUnwrap(i["timestamp"]?.stringValue), nonce: try XCTUnwrap(i["nonce"]?.stringValue))
            XCTAssertEqual(p2.authorization, o["authorization"]?.stringValue, name)
            XCTAssertEqual(sortedHeaders(fresh.headers), sortedHeaders(Self.pairs(o["headers"])), name)

            // Verification as a server sees it: parsed from the wire target, with the HTTP library's unsigned extras.
            let target = String(try XCTUnwrap(o["wire_url"]?.stringValue).dropFirst("\(scheme)://\(host)".count))
            var wire = SignableRequest(method: req.method, target: target,
                                       headers: Self.pairs(o["headers"]) + [("Accept-Encoding", "identity"), ("Content-Length", "\(req.body.count)")],
                                       body: req.body)
            let auth = try XCTUnwrap(ACS3Signer.parseAuthorization(try XCTUnwrap(wire.header("authorization"))), name)
            XCTAssertEqual(auth.accessKeyID, ak)
            XCTAssertEqual(auth.signature, o["signature"]?.stringValue)
            XCTAssertTrue(ACS3Signer.verify(wire, authorization: auth, secret: sk).valid, name)
            XCTAssertFalse(ACS3Signer.verify(wire, authorization: auth, secret: sk + "x").valid, name)
            wire.body.append(0x20)
            XCTAssertFalse(ACS3Signer.verify(wire, authorization: auth, secret: sk).valid, name)
        }
    }

    func testHuaweiVectors() throws {
        let vectors = try XCTUnwrap(Self.loadVectors()["huawei"]?.arrayValue)
        XCTAssertFalse(vectors.isEmpty)
        for v in vectors {
            let name = v["name"]?.stringValue ?? "?"
            let i = try XCTUnwrap(v["inputs"]), o = try XCTUnwrap(v["outputs"])
            let ak = try XCTUnwrap(i["access_key_id"]?.stringValue), sk = try XCTUnwrap(i["secret_access_key"]?.stringValue)
            let date = try XCTUnwrap(i["timestamp"]?.stringValue), host = try XCTUnwrap(i["host"]?.stringValue)
            let req = SignableRequest(method: try XCTUnwrap(i["method"]?.stringValue), path: try XCTUnwrap(i["path"]?.stringValue),
                                      query: Self.huaweiQuery(i["query"]), headers: Self.pairs(i["headers_before_signing"]),
                                      body: Array((i["body"]?.stringValue ?? "").utf8))
            // Signer.sign adds exactly X-Sdk-Date, Host, Authorization, in that order.
            let added = HuaweiSigner.sign(req, accessKeyID: ak, secret: sk, date: date, host: host)
            XCTAssertEqual((req.headers + added).map { "\($0.0): \($0.1)" },
                           Self.pairs(o["headers"]).map { "\($0.0): \($0.1)" }, name)
            let signedReq = SignableRequest(method: req.method, path: req.path, query: req.query,
                                            headers: Self.pairs(o["headers"]).filter { $0.0 != "Authorization" }, body: req.body)
            let parts = HuaweiSigner.signatureParts(signedReq, accessKeyID: ak, secret: sk)
            XCTAssertEqual(parts.canonicalRequest, o["canonical_request"]?.stringValue, name)
            XCTAssertEqual(parts.stringToSign, o["string_to_sign"]?.stringValue, name)
            XCTAssertEqual(parts.signature, o["signature"]?.stringValue, name)
            XCTAssertEqual(parts.signedHeaders, o["signed_headers"]?.stringValue, name)
            XCTAssertEqual(parts.authorization, o["authorization"]?.stringValue, name)
            XCTAssertEqual(HuaweiSigner.requestURI(path: req.path, query: req.query), o["request_uri"]?.stringValue, name)
            XCTAssertEqual("\(i["scheme"]?.stringValue ?? "https")://\(host)" + HuaweiSigner.requestURI(path: req.path, query: req.query),
                           o["wire_url"]?.stringValue, name)

            // From scratch: BasicCredentials adds X-Project-Id / X-Security-Token, the signer the rest.
            var fresh = req
            fresh.headers.removeAll { ["x-project-id", "x-security-token"].contains($0.0.lowercased()) }
            let p2 = HuaweiSigner.prepareAndSign(&fresh, accessKeyID: ak, secret: sk, projectID: i["project_id"]?.stringValue,
                                                 securityToken: i["security_token"]?.stringValue, date: date, host: host)
            XCTAssertEqual(p2.authorization, o["authorization"]?.stringValue, name)
            XCTAssertEqual(fresh.headers.map { "\($0.0): \($0.1)" }, Self.pairs(o["headers"]).map { "\($0.0): \($0.1)" }, name)

            // Server-side verification from the wire request, with requests' unsigned extras.
            let wireURL = try XCTUnwrap(o["wire_url"]?.stringValue)
            let target = String(wireURL.dropFirst("https://\(host)".count))
            var wire = SignableRequest(method: req.method, target: target,
                                       headers: Self.pairs(o["headers"]) + [("Accept-Encoding", "gzip, deflate"), ("Accept", "*/*"),
                                                                             ("Connection", "keep-alive"), ("Content-Length", "\(req.body.count)")],
                                       body: req.body)
            let auth = try XCTUnwrap(HuaweiSigner.parseAuthorization(try XCTUnwrap(wire.header("Authorization"))), name)
            XCTAssertEqual(auth.accessKeyID, ak)
            XCTAssertEqual(auth.signedHeaders.joined(separator: ";"), o["signed_headers"]?.stringValue)
            XCTAssertTrue(HuaweiSigner.verify(wire, authorization: auth, secret: sk).valid, name)
            wire.setHeader("X-Sdk-Date", "20240102T030406Z")
            XCTAssertFalse(HuaweiSigner.verify(wire, authorization: auth, secret: sk).valid, name)
        }
    }
}
