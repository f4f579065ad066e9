import FerryCore
import FerryJSON
import Logging
import Synchronization
import XCTest

final class CoreTests: XCTestCase {
    func testErrorCodesAreUniqueAndStable() {
        XCTAssertEqual(Set(ErrorCode.all.map(\.name)).count, ErrorCode.all.count)
        XCTAssertEqual(Set(ErrorCode.all.map(\.status)).count, ErrorCode.all.count)
        XCTAssertTrue(ErrorCode.all.allSatisfy { $0.status < 0 })
        XCTAssertEqual(ErrorCode.invalidJSON.status, -1)
        XCTAssertEqual(ErrorCode.named("throttled")?.retryable, true)
        let e = FerryError(.notFound, "run r1: no such run", details: ["run_id": "r1"])
        XCTAssertEqual(FerryError(json: e.json), e)
    }

    func testRedactionMasksSecretFieldsAtAnyDepth() {
        let v: JSON = ["instance": ["password": "hunter22", "host": "h"], "list": [["access_key_secret": "s3cr3t"]], "token": nil]
        let r = Redaction.redactFields(v)
        XCTAssertEqual(r["instance"]?["password"], .string("***"))
        XCTAssertEqual(r["instance"]?["host"], "h")
        XCTAssertEqual(r["list"]?[0]?["access_key_secret"], "***")
        XCTAssertEqual(r["token"], .null)
        XCTAssertEqual(Redaction.scrub("key=abcd1234 other", secrets: ["abcd1234"]), "key=*** other")
    }

    func testLogHookIsSilentByDefaultAndNeverPassesSecrets() {
        let hook = LogHook()
        let records = Mutex<[JSON]>([])
        var logger = hook.logger(label: "test")
        logger.logLevel = .trace
        logger.info("before any sink")
        hook.addSecret("sup3rs3cret")
        hook.set(level: .info) { _, record in records.withLock { $0.append(record) } }
        logger.debug("below the level")
        logger.info("using sup3rs3cret now", metadata: ["password": "pw-value", "task": "t1"])
        let got = records.withLock { $0 }
        XCTAssertEqual(got.count, 1)
        XCTAssertEqual(got[0]["message"], "using *** now")
        XCTAssertEqual(got[0]["fields"]?["password"], "***")
        XCTAssertEqual(got[0]["fields"]?["task"], "t1")
        XCTAssertEqual(got[0]["level"], "info")
        XCTAssertFalse(got[0].serialized().contains("pw-value"))
    }
}
