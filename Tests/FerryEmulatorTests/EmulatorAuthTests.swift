import FerryCore
import FerryJSON
import FerrySigning
import XCTest

@testable import FerryEmulator

final class EmulatorAuthTests: XCTestCase {
    let listQuery = [("migrationType", "INSTANCE_MIGRATION"), ("pageNumber", "1"), ("pageSize", "10")]

    func testConfigDefaultsAndValidation() throws {
        let c = try EmulatorConfig(json: [:])
        XCTAssertEqual(c.effectiveKeys.map(\.id), [EmulatorConfig.defaultAccessKeyID])
        let c2 = try EmulatorConfig(json: ["access_keys": ["AK1:S1", ["id": "AK2", "secret": "S2", "provider": "huawei"]],
                                           "port": 0, "time_scale": 3600, "faults": [["kind": "throttle", "count": 1]]])
        XCTAssertEqual(c2.effectiveKeys.map(\.id), ["AK1", "AK2"])
        XCTAssertEqual(c2.timeScale, 3600)
        XCTAssertEqual(c2.faults.first?.kind, .throttle)
        for bad: JSON in [["port": 70000], ["access_keys": ["nocolon"]], ["time_scale": -1], ["bogus": 1],
                          ["faults": [["kind": "explode"]]], ["faults": [["kind": "reset", "operation": "aws.Nope"]]],
                          ["timings": ["dcs_full_s": -1]], "not an object"] {
            XCTAssertThrowsError(try EmulatorConfig(json: bad), "\(bad)") { e in
                XCTAssertEqual((e as? FerryError)?.code, .invalidArgument)
            }
        }
    }

    func testReadyInfoListsKeyIdsOnly() async throws {
        let h = try EmuHarness(["access_keys": ["AKX:super-secret-value"]])
        let info = await h.admin("GET", "/_ferry/info")
        XCTAssertEqual(info["access_keys"], ["AKX"])
        XCTAssertFalse(info.serialized().contains("super-secret-value"))
        XCTAssertEqual(info["operations"]?.arrayValue?.count, 24)
    }

    func testAlibabaSignatureChecks() async throws {
        let h = try EmuHarness()
        // Valid ROA and RPC calls.
        var (s, b) = await h.call(h.ali("ListMigrations", path: "/migrations", query: listQuery))
        XCTAssertEqual(s, 200, "\(b)")
        XCTAssertEqual(b["success"], true)
        (s, b) = await h.call(h.ali("ListMigrationTask", method: "POST", query: [("PageNum", "1")]))
        XCTAssertEqual(s, 200, "\(b)")
        XCTAssertEqual(b["Success"], true)

        // Unknown key.
        (s, b) = await h.call(h.ali("ListMigrations", path: "/migrations", query: listQuery, keyID: "NOPE"))
        XCTAssertEqual(s, 404)
        XCTAssertEqual(b["Code"], "InvalidAccessKeyId.NotFound")
        XCTAssertNotNil(b["RequestId"]?.stringValue)
        // Wrong secret.
        let wrong = await h.send(h.ali("ListMigrations", path: "/migrations", query: listQuery, secret: "wrong"))
        XCTAssertEqual(wrong.status, 400)
        XCTAssertEqual(wrong.json?["Code"], "SignatureDoesNotMatch")
        XCTAssertEqual(wrong.header("x-acs-request-id"), wrong.json?["RequestId"]?.stringValue)
        // Tampered query.
        var r = h.ali("ListMigrations", path: "/migrations", query: listQuery)
        r.target = r.target.replacingOccurrences("pageSize=10", "pageSize=11")
        (s, b) = await h.call(r)
        XCTAssertEqual(b["Code"], "SignatureDoesNotMatch")
        // Tampered signed header.
        r = h.ali("ListMigrationTask", method: "POST")
        r.headers = r.headers.map { $0.0 == "user-agent" ? ($0.0, "evil") : $0 }
        (s, b) = await h.call(r)
        XCTAssertEqual(b["Code"], "SignatureDoesNotMatch")
        // Tampered body.
        _ = await h.admin("POST", "/_ferry/resources/alibaba.rocketmq.migration", ["migration_id": 7, "start_stage": "MIGRATE_MESSAGE"])
        r = h.ali("ExecuteMigrationOperation", method: "POST", path: "/migrations/7/stages/MIGRATE_MESSAGE/operations/1005/execute",
                  body: ["operationParam": ["paramData": "{\"action\":\"MIGRATE_FORWARD\",\"targetStage\":\"DOUBLE_READ\"}"]])
        r.body = Array(String(decoding: r.body, as: UTF8.self).replacingOccurrences("DOUBLE_READ", "SWITCH_WRITE").utf8)
        (s, b) = await h.call(r)
        XCTAssertEqual(s, 400)
        XCTAssertEqual(b["Code"], "SignatureDoesNotMatch")
        // Stale date.
        (s, b) = await h.call(h.ali("ListMigrations", path: "/migrations", query: listQuery, dateOffset: -3600))
        XCTAssertEqual(b["Code"], "InvalidTimeStamp.Expired")
        // Nonce replay.
        let first = h.ali("ListMigrations", path: "/migrations", query: listQuery, nonce: "0123456789abcdef0123456789abcdef")
        (s, _) = await h.call(first)
        XCTAssertEqual(s, 200)
        (s, b) = await h.call(first)
        XCTAssertEqual(b["Code"], "SignatureNonceUsed")
        // Missing Authorization.
        r = h.ali("ListMigrations", path: "/migrations", query: listQuery)
        r.headers.removeAll { $0.0.lowercased() == "authorization" }
        (s, b) = await h.call(r)
        XCTAssertEqual(b["Code"], "IncompleteSignature")
        // None of these changed anything.
        let audit = await h.audit()
        XCTAssertEqual(audit.filter { $0["operation"]?.stringValue?.hasPrefix("alibaba") == true }.count, 0)
    }

    func testHuaweiSignatureChecks() async throws {
        let h = try EmuHarness()
        var resp = await h.send(h.hw("GET", "/migration-tasks", query: [("offset", "0"), ("limit", "10")]))
        XCTAssertEqual(resp.status, 200, "\(String(describing: resp.json))")
        XCTAssertNotNil(resp.header("X-Request-Id"))
        for (label, req) in [
            ("unknown key", h.hw("GET", "/migration-tasks", keyID: "NOPE")),
            ("wrong secret", h.hw("GET", "/migration-tasks", secret: "bad")),
            ("stale", h.hw("GET", "/migration-tasks", dateOffset: 7200)),
        ] {
            resp = await h.send(req)
            XCTAssertEqual(resp.status, 401, label)
            XCTAssertEqual(resp.json?["error_code"], "APIGW.0301", label)
            XCTAssertEqual(resp.json?["request_id"]?.stringValue, resp.header("X-Request-Id"), label)
        }
        // Tampered body and tampered query.
        var r = h.hw("POST", "/migration/instance", body: ["name": "task-one", "vpc_id": "v", "subnet_id": "s", "security_group_id": "g"])
        r.body = Array(String(decoding: r.body, as: UTF8.self).replacingOccurrences("task-one", "task-two").utf8)
        resp = await h.send(r)
        XCTAssertEqual(resp.status, 401)
        r = h.hw("GET", "/migration-tasks", query: [("limit", "10")])
        r.target = r.target.replacingOccurrences("limit=10", "limit=20")
        resp = await h.send(r)
        XCTAssertEqual(resp.status, 401)
        // Key restricted to Alibaba is refused by Huawei.
        let h2 = try EmuHarness(["access_keys": [["id": "ALIONLY", "secret": "s3cr3t!", "provider": "alibaba"]]])
        resp = await h2.send(h2.hw("GET", "/migration-tasks", keyID: "ALIONLY", secret: "s3cr3t!"))
        XCTAssertEqual(resp.status, 401)
        resp = await h2.send(h2.ali("ListMigrationTask", method: "POST", keyID: "ALIONLY", secret: "s3cr3t!"))
        XCTAssertEqual(resp.status, 200)
    }

    func testProjectScoping() async throws {
        let h = try EmuHarness(["huawei_project_id": "proj-a"])
        var resp = await h.send(h.hw("GET", "/migration-tasks", project: "proj-a"))
        XCTAssertEqual(resp.status, 200)
        resp = await h.send(h.hw("GET", "/migration-tasks", project: "proj-b"))
        XCTAssertEqual(resp.status, 401)
    }

    func testRoutingErrors() async throws {
        let h = try EmuHarness()
        var (s, b) = await h.call(h.ali("DescribeNothing", method: "POST"))
        XCTAssertEqual(s, 404)
        XCTAssertEqual(b["Code"], "InvalidAction.NotFound")
        (s, b) = await h.call(h.ali("ListMigrations", method: "POST", path: "/migrations"))
        XCTAssertEqual(b["Code"], "InvalidAction.NotFound")
        (s, b) = await h.call(h.hw("GET", "/no-such-thing"))
        XCTAssertEqual(s, 404)
        XCTAssertEqual(b["error_code"], "APIGW.0101")
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        var out = ""
        var rest = self[...]
        while let r = rest.firstRange(of: a) {
            out += rest[..<r.lowerBound]
            out += b
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

final class EmulatorEdgeTests: XCTestCase {
    func testNonceCacheEvictsByWindowAndSize() {
        var c = NonceCache(window: 10, maxEntries: 3)
        XCTAssertFalse(c.seenBefore("a", now: 0))
        XCTAssertTrue(c.seenBefore("a", now: 5))
        XCTAssertFalse(c.seenBefore("a", now: 11), "outside the window a nonce may be reused")
        for (i, n) in ["b", "c", "d", "e"].enumerated() { XCTAssertFalse(c.seenBefore(n, now: 12 + Double(i))) }
        XCTAssertFalse(c.seenBefore("b", now: 16), "the oldest entry was evicted by the size bound")
    }

    func testEncodedPathAndQueryValuesVerify() async throws {
        let h = try EmuHarness()
        // Alibaba: an encoded '/' and space in a path parameter are signed verbatim; the call reaches the handler.
        let (s, b) = await h.call(h.ali("FinishMigrationStage", method: "POST",
                                        path: "/migrations/a%2Fb%20c/stages/MIGRATE_MESSAGE/finish"))
        XCTAssertEqual(s, 400, "\(b)")
        XCTAssertEqual(b["code"], "InvalidMigrationId")
        // Alibaba RPC: spaces, '*', '~', '/', non-ASCII in query values ('+' on the wire, %20 in the signature).
        let add = await h.call(h.ali("AddMigrationTask", method: "POST",
                                     query: [("OriginInstanceName", "a b*~/é"), ("ProjectDesc", "x+y=z&w")]))
        XCTAssertEqual(add.0, 200, "\(add.1)")
        XCTAssertEqual(add.1["Data"]?["OriginInstanceName"], "a b*~/é")
        XCTAssertEqual(add.1["Data"]?["ProjectDesc"], "x+y=z&w")
        // Huawei: an encoded '/' in a path parameter and a space in the query.
        var r = await h.call(h.hw("GET", "/migration-task/task%2F1%202"))
        XCTAssertEqual(r.0, 404, "\(r.1)")
        XCTAssertEqual(r.1["error_code"], "DCS.4133")
        r = await h.call(h.hw("GET", "/migration-tasks", query: [("name", "a b/é"), ("limit", "5")]))
        XCTAssertEqual(r.0, 200, "\(r.1)")
    }

    func testSecondEmulatorOnTheSamePortFails() async throws {
        let a = Emulator(config: try EmulatorConfig(json: ["port": 0]))
        let info = try await a.start()
        let port = try XCTUnwrap(info["port"]?.intValue)
        let b = Emulator(config: try EmulatorConfig(json: ["port": .int(port)]))
        do {
            _ = try await b.start()
            XCTFail("binding a used port must fail")
            await b.stop()
        } catch {
            XCTAssertEqual(error.code, .emulatorError)
        }
        await a.stop()
        await a.stop()  // idempotent
    }
}

final class EmulatorHostileInputTests: XCTestCase {
    func testHugeNumbersAreRejectedNotTrapped() async throws {
        let h = try EmuHarness()
        var r = await h.admin("POST", "/_ferry/clock/advance", ["seconds": 1e300])
        XCTAssertEqual(r["code"], "invalid_argument")
        r = await h.admin("POST", "/_ferry/clock", ["time_scale": 1e300])
        XCTAssertEqual(r["code"], "invalid_argument")
        XCTAssertThrowsError(try EmulatorConfig(json: ["timings": ["dcs_source_keys": 1e300]]))
        let (s, b) = await h.call(h.hw("POST", "/migration-task", body: [
            "task_name": "huge-file", "migration_type": "backupfile_import", "migration_method": "full_amount_migration",
            "backup_files": ["files": [["file_name": "a.rdb", "size": "1e400"]]], "target_instance": ["id": "x"],
        ]))
        XCTAssertEqual(s, 400)
        XCTAssertEqual(b["error_code"], "DCS.4001")
        XCTAssertEqual(safeInt64(.nan), 0)
        XCTAssertEqual(safeInt64(.infinity), .max)
        XCTAssertEqual(CivilTime.iso(1e300).isEmpty, false)
    }

    func testMalformedBodiesAndAdminInput() async throws {
        let h = try EmuHarness()
        var r = await h.send(EmulatorRequest(method: "POST", target: "/_ferry/faults", headers: [], body: Array("{nope".utf8)))
        XCTAssertEqual(r.status, 400)
        XCTAssertEqual(r.json?["code"], "invalid_json")
        var req = h.hw("POST", "/migration/instance", body: nil)
        r = await h.send(req)
        XCTAssertEqual(r.status, 400)
        XCTAssertEqual(r.json?["error_code"], "DCS.4001")
        req = h.hw("POST", "/migration/instance", body: ["name": 12, "vpc_id": [], "subnet_id": nil, "security_group_id": true])
        r = await h.send(req)
        XCTAssertEqual(r.status, 400)
        let seeded = await h.admin("POST", "/_ferry/resources/alibaba.rocketmq.migration", ["topics": "not-a-list"])
        XCTAssertEqual(seeded["code"], "invalid_argument")
        let notFound = await h.admin("GET", "/_ferry/nothing-here")
        XCTAssertEqual(notFound["code"], "not_found")
    }
}
