import FerryCatalog
import FerryCore
import FerryJSON
@testable import FerryProviders
import FerrySigning
import Foundation
import XCTest

/// The client against a local scripted server: every error shape of providers.md, empty and HTML bodies,
/// connection resets and refusals, timeouts, redaction, and server-side signature verification.
final class ProviderClientTests: XCTestCase {
    var server: TestHTTPServer!
    var client: ProviderClient!

    override func setUp() async throws {
        server = try TestHTTPServer()
        client = try makeClient(readTimeoutMs: 2000)
    }

    override func tearDown() async throws {
        await client?.shutdown()
        server?.stop()
    }

    func makeClient(readTimeoutMs: Int, port: Int? = nil) throws -> ProviderClient {
        let url = "http://127.0.0.1:\(port ?? server.port)"
        let cfg = try ProvidersConfig(config: [
            "credentials": ["alibaba": ["access_key_id": "AKTEST", "access_key_secret": "ALI-SECRET-VALUE"],
                            "huawei": ["ak": "HWAK", "sk": "HW-SECRET-VALUE", "project_id": "proj1"]],
            "endpoints": ["alibaba.rocketmq": .string(url), "alibaba.mse": .string(url), "huawei.rocketmq": .string(url),
                          "huawei.dcs": .string(url)],
            "http": ["connect_timeout_ms": 1000, "read_timeout_ms": .int(readTimeoutMs)],
        ], environment: [:])
        return ProviderClient(config: cfg, logger: LogHook().logger(label: "test"))
    }

    func expectError(_ op: String, _ params: JSON, file: StaticString = #filePath, line: UInt = #line) async -> FerryError? {
        do {
            _ = try await client.call(op, params: params)
            XCTFail("expected an error", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    let mseList = "alibaba.mse.ListMigrationTask"
    let finish = "alibaba.rocketmq.FinishMigrationStage"
    let finishParams: JSON = ["migrationId": "7", "stageType": "MIGRATE_MESSAGE"]
    let show = "huawei.dcs.ShowMigrationTask"

    // MARK: success paths

    func testSuccessAndServerSideSignatureCheck() async throws {
        server.handler = { req in
            if req.header("x-acs-action") != nil {
                return .json(200, #"{"RequestId":"r-1","Success":true,"Data":[{"Id":1}],"HttpCode":"200"}"#)
            }
            return .json(200, #"{"count":0,"migration_tasks":[]}"#, headers: [("X-Request-Id", "hw-1")])
        }
        let r = try await client.call(mseList, params: ["PageNum": 1, "OriginInstanceName": "a b"])
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.requestID, "r-1")
        XCTAssertEqual(r.body["Data"]?[0]?["Id"], 1)
        let h = try await client.call("huawei.dcs.ListMigrationTask", params: ["name": "x/y"])
        XCTAssertEqual(h.requestID, "hw-1")
        XCTAssertEqual(h.body["count"], 0)

        let reqs = server.requests
        XCTAssertEqual(reqs.count, 2)
        // What arrived verifies with the signer the emulator uses.
        let a = reqs[0]
        XCTAssertEqual(a.method, "POST")
        XCTAssertEqual(a.target, "/?OriginInstanceName=a+b&PageNum=1")
        let wa = SignableRequest(method: a.method, target: a.target, headers: a.headers, body: a.body)
        let pa = try XCTUnwrap(ACS3Signer.parseAuthorization(try XCTUnwrap(a.header("authorization"))))
        XCTAssertTrue(ACS3Signer.verify(wa, authorization: pa, secret: "ALI-SECRET-VALUE").valid)
        XCTAssertEqual(a.header("host"), "127.0.0.1:\(server.port)")
        let b = reqs[1]
        XCTAssertEqual(b.target, "/v2/proj1/migration-tasks?name=x%2Fy")
        let wb = SignableRequest(method: b.method, target: b.target, headers: b.headers, body: b.body)
        let pb = try XCTUnwrap(HuaweiSigner.parseAuthorization(try XCTUnwrap(b.header("authorization"))))
        XCTAssertTrue(HuaweiSigner.verify(wb, authorization: pb, secret: "HW-SECRET-VALUE").valid)
        XCTAssertEqual(pb.signedHeaders, ["content-type", "host", "user-agent", "x-project-id", "x-sdk-date"])
    }

    func testEmptySuccessBodyAndSeedQuirks() async throws {
        // StopMigrationTaskSync: the model has no fields; an empty body is fine.
        server.handler = { _ in .respond(200, [], []) }
        let r = try await client.call("huawei.dcs.StopMigrationTaskSync", params: ["task_id": "t"])
        XCTAssertEqual(r.body, [:])
        XCTAssertEqual(server.requests.last?.header("content-length"), "0")
        // Seed 000: success:true with a filled code/message is a success.
        server.handler = { _ in
            .json(200, #"{"requestId":"r","success":true,"data":true,"code":"InvalidConsumerGroupId","message":"Parameter instanceId is mandatory for this action .","httpStatusCode":200,"dynamicCode":"InstanceId","dynamicMessage":"instanceId"}"#)
        }
        let f = try await client.call(finish, params: finishParams)
        XCTAssertEqual(f.body["data"], true)
        // Seed 004: the misspelt INCRMIGEATING status passes through untouched.
        server.handler = { _ in .json(200, #"{"task_id":"t","status":"INCRMIGEATING"}"#) }
        let s = try await client.call(show, params: ["task_id": "t"])
        XCTAssertEqual(s.body["status"], "INCRMIGEATING")
    }

    func testSecretResponseFieldsAreRedactedUnlessRevealed() async throws {
        server.handler = { _ in
            .json(200, #"{"task_id":"t","source_instance":{"addrs":"1.2.3.4:6379","password":"src-pw"},"target_instance":{"id":"i","password":"dst-pw"}}"#)
        }
        let r = try await client.call(show, params: ["task_id": "t"])
        XCTAssertEqual(r.body["source_instance"]?["password"], .string(Redaction.mask))
        XCTAssertEqual(r.body["target_instance"]?["password"], .string(Redaction.mask))
        XCTAssertEqual(r.body["source_instance"]?["addrs"], "1.2.3.4:6379")
        XCTAssertFalse(r.body.serialized().contains("src-pw"))
        let revealed = try await client.call(show, params: ["task_id": "t"], revealSecrets: true)
        XCTAssertEqual(revealed.body["source_instance"]?["password"], "src-pw")
    }

    // MARK: Alibaba error shapes

    func testAlibabaRPCErrorShape() async throws {
        server.handler = { _ in
            .json(400, #"{"RequestId":"ALI-REQ-400","HostId":"mse.cn-hangzhou.aliyuncs.com","Code":"InvalidParameter","Message":"bad param","Recommend":"https://api.aliyun.com/troubleshoot"}"#)
        }
        let e = await expectError(mseList, [:])
        XCTAssertEqual(e?.code, .invalidArgument)
        XCTAssertEqual(e?.details["provider_code"], "InvalidParameter")
        XCTAssertEqual(e?.details["provider_message"], "bad param")
        XCTAssertEqual(e?.details["http_status"], 400)
        XCTAssertEqual(e?.details["request_id"], "ALI-REQ-400")
        XCTAssertEqual(e?.details["retryable"], false)
    }

    func testAlibabaROALowerCaseEnvelopeAndCodes() async throws {
        let cases: [(Int, String, ErrorCode)] = [
            (404, "MigrationNotFound", .notFound), (403, "Forbidden.RAM", .permissionDenied),
            (404, "InvalidAccessKeyId.NotFound", .authFailed), (400, "SignatureDoesNotMatch", .authFailed),
            (400, "InvalidTimeStamp.Expired", .authFailed), (409, "Migration.StageConflict", .conflict),
            (500, "InternalError", .unavailable), (503, "ServiceUnavailable", .unavailable),
            (429, "Throttling.User", .throttled), (404, "InvalidAction.NotFound", .providerError),
            (418, "Teapot", .providerError),
        ]
        for (status, code, expected) in cases {
            server.handler = { _ in
                .json(status, #"{"requestId":"rq","success":false,"code":"\#(code)","message":"m \#(code)","httpStatusCode":\#(status),"dynamicCode":"d","dynamicMessage":"dm"}"#)
            }
            let e = await expectError(finish, finishParams)
            XCTAssertEqual(e?.code, expected, code)
            XCTAssertEqual(e?.details["provider_code"], .string(code))
            XCTAssertEqual(e?.details["request_id"], "rq")
            XCTAssertEqual(e?.details["retryable"], .bool(expected.retryable), code)
        }
    }

    func testAlibabaThrottlingHeaderAndXML() async throws {
        server.handler = { _ in .json(400, #"{"Code":"Whatever","Message":"slow down"}"#, headers: [("x-acs-retry-after", "1500")]) }
        let t = await expectError(mseList, [:])
        XCTAssertEqual(t?.code, .throttled)
        XCTAssertEqual(t?.details["retry_after_ms"], 1500)
        XCTAssertEqual(t?.details["retryable"], true)
        server.handler = { _ in
            .respond(403, [("Content-Type", "text/xml;charset=utf-8")],
                     Array("<?xml version=\"1.0\"?><Error><RequestId>x-1</RequestId><Code>Forbidden.NoPermission</Code><Message>no</Message></Error>".utf8))
        }
        let x = await expectError(mseList, [:])
        XCTAssertEqual(x?.code, .permissionDenied)
        XCTAssertEqual(x?.details["provider_code"], "Forbidden.NoPermission")
        XCTAssertEqual(x?.details["request_id"], "x-1")
    }

    func testAlibaba2xxWithSuccessFalse() async throws {
        server.handler = { _ in
            .json(200, #"{"RequestId":"r2","Success":false,"ErrorCode":"mse-404-001","Message":"task not found","HttpCode":"404"}"#)
        }
        let e = await expectError("alibaba.mse.DeleteMigrationTask", ["Id": "9"])
        XCTAssertEqual(e?.code, .notFound)
        XCTAssertEqual(e?.details["request_id"], "r2")
        XCTAssertEqual(e?.details["http_status"], 200)
        XCTAssertEqual(e?.details["body_http_status"], 404)
    }

    // MARK: Huawei error shapes

    func testHuaweiErrorShapes() async throws {
        let cases: [(Int, String, String?, ErrorCode, String)] = [
            (400, #"{"error_code":"DCS.4001","error_msg":"bad request","error_ext_msg":null}"#, "DCS.4001", .invalidArgument, "bad request"),
            (404, #"{"error_code":"DCS.4133","error_msg":"task not found"}"#, "DCS.4133", .notFound, "task not found"),
            (401, #"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}"#, "APIGW.0301", .authFailed, "Incorrect IAM authentication information"),
            (403, #"{"errorCode":"DMS.403","errorMsg":"denied"}"#, "DMS.403", .permissionDenied, "denied"),
            (409, #"{"code":"DMS.409","message":"exists"}"#, "DMS.409", .conflict, "exists"),
            (429, #"{"error":{"code":"APIGW.0308","message":"throttled"}}"#, "APIGW.0308", .throttled, "throttled"),
            (500, #"{"unexpected":true}"#, "500", .unavailable, #"{"unexpected":true}"#),
            (503, "Service Unavailable", "503", .unavailable, "Service Unavailable"),
        ]
        for (status, body, code, expected, msg) in cases {
            server.handler = { _ in .json(status, body, headers: [("X-Request-Id", "hw-req-\(status)")]) }
            let e = await expectError(show, ["task_id": "t"])
            XCTAssertEqual(e?.code, expected, body)
            XCTAssertEqual(e?.details["provider_code"], code.map { .string($0) } ?? .null, body)
            XCTAssertEqual(e?.details["provider_message"], .string(msg), body)
            XCTAssertEqual(e?.details["request_id"], .string("hw-req-\(status)"))
            XCTAssertEqual(e?.details["http_status"], .int(status))
        }
    }

    // MARK: broken responses and transport failures

    func testEmptyAndHTMLErrorBodies() async throws {
        server.handler = { _ in .respond(502, [], []) }
        let empty = await expectError(show, ["task_id": "t"])
        XCTAssertEqual(empty?.code, .unavailable)
        XCTAssertEqual(empty?.details["provider_message"], .null)
        XCTAssertEqual(empty?.details["retryable"], true)
        let html = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
        server.handler = { _ in .respond(503, [("Content-Type", "text/html")], Array(html.utf8)) }
        let a = await expectError(mseList, [:])
        XCTAssertEqual(a?.code, .unavailable)
        XCTAssertEqual(a?.details["provider_code"], .null)
        XCTAssertTrue(a?.details["provider_message"]?.stringValue?.contains("502 Bad Gateway") ?? false)
        let h = await expectError(show, ["task_id": "t"])
        XCTAssertEqual(h?.code, .unavailable)
        XCTAssertEqual(h?.details["provider_code"], "503")
        // A 2xx that is not JSON is a provider error, not a crash.
        server.handler = { _ in .respond(200, [("Content-Type", "text/html")], Array(html.utf8)) }
        let ok = await expectError(show, ["task_id": "t"])
        XCTAssertEqual(ok?.code, .providerError)
    }

    func testConnectionResetAndRefusedAndTimeout() async throws {
        server.handler = { _ in .reset }
        let reset = await expectError(show, ["task_id": "t"])
        XCTAssertEqual(reset?.code, .unavailable)
        XCTAssertEqual(reset?.details["retryable"], true)
        XCTAssertEqual(reset?.details["sent"], true)

        server.handler = { _ in .close }
        let closed = await expectError(mseList, [:])
        XCTAssertEqual(closed?.code, .unavailable)

        // A port nobody listens on.
        let dead = try TestHTTPServer()
        let deadPort = dead.port
        dead.stop()
        let refused = try makeClient(readTimeoutMs: 1000, port: deadPort)
        do {
            _ = try await refused.call(show, params: ["task_id": "t"])
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error.code, .unavailable, "\(error)")
            XCTAssertEqual(error.details["sent"], false, "\(error.details)")
            XCTAssertEqual(error.details["retryable"], true)
        }
        await refused.shutdown()

        let slow = try makeClient(readTimeoutMs: 150)
        server.handler = { _ in .hang(1.0) }
        do {
            _ = try await slow.call(show, params: ["task_id": "t"])
            XCTFail("expected a timeout")
        } catch {
            XCTAssertEqual(error.code, .timeout)
            XCTAssertEqual(error.details["sent"], true)
        }
        await slow.shutdown()
    }

    func testSecretsNeverInErrors() async throws {
        // A server that echoes everything it got, including the password parameter, in its error message.
        server.handler = { req in
            .json(400, #"{"error_code":"DCS.4001","error_msg":"echo \#(String(decoding: req.body, as: UTF8.self).replacingOccurrences(of: "\"", with: "'")) HW-SECRET-VALUE"}"#)
        }
        let e = await expectError("huawei.dcs.CreateMigrationTask", [
            "task_name": "t", "migration_type": "online_migration", "migration_method": "full_amount_migration",
            "source_instance": ["addrs": "1.1.1.1:6379", "password": "very-secret-pw"], "target_instance": ["id": "i", "password": "other-pw!"],
        ])
        let text = e?.json.serialized() ?? ""
        XCTAssertFalse(text.contains("very-secret-pw"))
        XCTAssertFalse(text.contains("other-pw!"))
        XCTAssertFalse(text.contains("HW-SECRET-VALUE"))
        XCTAssertTrue(text.contains(Redaction.mask))
    }

    func testValidationAndUnknownOperation() async throws {
        let unknown = await expectError("huawei.dcs.Nope", [:])
        XCTAssertEqual(unknown?.code, .invalidArgument)
        let missing = await expectError("huawei.rocketmq.ListRocketMqMigrationTask", [:])
        XCTAssertEqual(missing?.message, "params.instance_id: required parameter missing")
        let extra = await expectError(show, ["task_id": "t", "bogus": 1])
        XCTAssertTrue(extra?.message.hasPrefix("params.bogus: unknown parameter") ?? false)
        XCTAssertEqual(server.requests.count, 0)
        await client.shutdown()
        let closed = await expectError(show, ["task_id": "t"])
        XCTAssertEqual(closed?.code, .closed)
    }

    func testConcurrentCallsShareTheClient() async throws {
        server.handler = { req in .json(200, #"{"task_id":"\#(req.target.split(separator: "/").last ?? "")"}"#) }
        let c = client!
        try await withThrowingTaskGroup(of: Void.self) { g in
            for i in 0..<40 {
                g.addTask {
                    let r = try await c.call("huawei.dcs.ShowMigrationTask", params: ["task_id": .string("t\(i)")])
                    XCTAssertEqual(r.body["task_id"], .string("t\(i)"))
                }
            }
            try await g.waitForAll()
        }
        XCTAssertEqual(server.requests.count, 40)
    }

    // MARK: callers pinned to the client's event loops (no thread hand-offs)

    func testLoopPinnedCallersSucceedAndStayOnTheLoop() async throws {
        server.handler = { req in .json(200, #"{"task_id":"\#(req.target.split(separator: "/").last ?? "")"}"#) }
        let c = client!
        let show = self.show
        let executor = c.preferredTaskExecutor()
        let onLoop = try await withTaskExecutorPreference(executor) { () async throws -> Bool in
            let r = try await c.call(show, params: ["task_id": "p1"])
            XCTAssertEqual(r.body["task_id"], "p1")
            // The continuation after the call resumed on one of the client's loops.
            return c.loops.current() != nil
        }
        XCTAssertTrue(onLoop)
        try await withThrowingTaskGroup(of: Void.self) { g in
            for i in 0..<40 {
                g.addTask(executorPreference: c.preferredTaskExecutor()) {
                    let r = try await c.call(show, params: ["task_id": .string("q\(i)")])
                    XCTAssertEqual(r.body["task_id"], .string("q\(i)"))
                }
            }
            try await g.waitForAll()
        }
        XCTAssertEqual(server.requests.count, 41)
    }

    func testLoopPinnedTimeoutAndCancellation() async throws {
        let slow = try makeClient(readTimeoutMs: 150)
        server.handler = { _ in .hang(1.0) }
        do {
            _ = try await withTaskExecutorPreference(slow.preferredTaskExecutor()) {
                try await slow.call(self.show, params: ["task_id": "t"])
            }
            XCTFail("expected a timeout")
        } catch let error as FerryError {
            XCTAssertEqual(error.code, .timeout, "\(error)")
        }
        // Cancelling the calling task cancels the request.
        let show = self.show
        let task = Task(executorPreference: slow.preferredTaskExecutor()) { () async throws -> ProviderResponse in
            try await slow.call(show, params: ["task_id": "t"])
        }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("expected cancellation")
        } catch let error as FerryError {
            XCTAssertEqual(error.code, .cancelled, "\(error)")
        }
        await slow.shutdown()
    }

    func testOversizedResponseBodyIsRefused() async throws {
        let big = String(repeating: "x", count: ProviderClient.maxResponseBytes + 10)
        server.handler = { _ in .json(200, #"{"a":"\#(big)"}"#) }
        let e = await expectError(show, ["task_id": "t"])
        XCTAssertEqual(e?.code, .tooLarge, "\(String(describing: e))")
    }
}

/// Proxies from the environment, NO_PROXY, CA bundle errors and log hygiene.
final class ProviderClientEnvironmentTests: XCTestCase {
    func testHTTPProxyIsUsedUnlessNoProxyMatches() async throws {
        // AsyncHTTPClient tunnels through the proxy with CONNECT (also for plain HTTP); the test server answers the
        // CONNECT with an empty 200 and then sees the tunnelled request on the same connection.
        let proxy = try TestHTTPServer { req in req.method == "CONNECT" ? .respond(200, [], []) : .json(200, #"{"count":0}"#) }
        defer { proxy.stop() }
        let base: JSON = [
            "credentials": ["huawei": ["ak": "HWAK", "sk": "HWSK", "project_id": "p1"]],
            "endpoints": ["huawei.dcs": "http://dcs.example.invalid:8080"],
            "http": ["connect_timeout_ms": 1000, "read_timeout_ms": 2000],
        ]
        let viaProxy = ProviderClient(config: try ProvidersConfig(config: base, environment: ["HTTP_PROXY": proxy.baseURL]),
                                      logger: LogHook().logger(label: "t"))
        let r = try await viaProxy.call("huawei.dcs.ListMigrationTask", params: ["limit": 5])
        await viaProxy.shutdown()
        XCTAssertEqual(r.body["count"], 0)
        XCTAssertEqual(proxy.requests.count, 2)
        XCTAssertEqual(proxy.requests.first?.method, "CONNECT")
        XCTAssertEqual(proxy.requests.first?.target, "dcs.example.invalid:8080")
        let seen = try XCTUnwrap(proxy.requests.last)
        XCTAssertEqual(seen.target, "/v2/p1/migration-tasks?limit=5")
        // The signed Host is the origin's.
        XCTAssertEqual(seen.header("host"), "dcs.example.invalid:8080")

        let bypass = ProviderClient(config: try ProvidersConfig(config: base, environment: [
            "HTTP_PROXY": proxy.baseURL, "NO_PROXY": "example.invalid"]), logger: LogHook().logger(label: "t"))
        do {
            _ = try await bypass.call("huawei.dcs.ListMigrationTask", params: [:])
            XCTFail("the .invalid host cannot resolve without the proxy")
        } catch {
            XCTAssertEqual(error.code, .unavailable, "\(error.details)")
        }
        await bypass.shutdown()
        XCTAssertEqual(proxy.requests.count, 2)
    }

    func testUnreadableCABundle() async throws {
        let c = ProviderClient(config: try ProvidersConfig(config: [
            "credentials": ["huawei": ["ak": "a", "sk": "b", "project_id": "p"]], "regions": ["huawei": "cn-north-4"],
            "http": ["ca_bundle": "/nonexistent/ca.pem"],
        ], environment: [:]), logger: LogHook().logger(label: "t"))
        do {
            _ = try await c.call("huawei.dcs.ListMigrationTask", params: [:])
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error.code, .invalidArgument)
            XCTAssertEqual(error.details["field"], "config.http.ca_bundle")
        }
        await c.shutdown()
        XCTAssertTrue(try ProvidersConfig(config: nil, environment: [:]).verifyTLS)
    }

    func testLogsCarryNoSecrets() async throws {
        let server = try TestHTTPServer { req in
            req.header("x-acs-action") == "ListMigrationTask"
                ? .json(200, #"{"RequestId":"r","Success":true}"#)
                : .json(400, #"{"error_code":"DCS.4001","error_msg":"bad"}"#)
        }
        defer { server.stop() }
        let hook = LogHook()
        let records = LockedRecords()
        hook.set(level: .trace) { _, record in records.append(record.serialized()) }
        let c = ProviderClient(config: try ProvidersConfig(config: [
            "credentials": ["alibaba": ["access_key_id": "AKLOG", "access_key_secret": "ali-log-secret", "security_token": "tok-log-secret"],
                            "huawei": ["ak": "HWLOG", "sk": "hw-log-secret", "project_id": "p"]],
            "endpoints": ["alibaba.mse": .string(server.baseURL), "huawei.dcs": .string(server.baseURL)],
        ], environment: [:]), logger: hook.logger(label: "providers"))
        _ = try await c.call("alibaba.mse.ListMigrationTask", params: [:])
        _ = try? await c.call("huawei.dcs.SetOnlineMigrationTask", params: [
            "task_id": "t", "migration_method": "full_amount_migration", "resume_mode": "auto",
            "source_instance": ["addrs": "1.1.1.1:1", "password": "redis-log-secret"], "target_instance": ["id": "i"]])
        await c.shutdown()
        let all = records.all.joined(separator: "\n")
        XCTAssertFalse(records.all.isEmpty)
        for s in ["ali-log-secret", "tok-log-secret", "hw-log-secret", "redis-log-secret"] { XCTAssertFalse(all.contains(s), s) }
    }
}

final class LockedRecords: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
