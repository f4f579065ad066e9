import FerryCatalog
import FerryCore
import FerryJSON
@testable import FerryProviders
import FerrySigning
import Foundation
import XCTest

/// The request builder reproduces the SDK signing vectors end to end: from catalog parameters to the exact
/// headers (order, values, Authorization), wire URL and body bytes the official SDKs produced.
final class RequestBuilderTests: XCTestCase {
    func testHugeRetryAfterIsCappedNotATrap() {
        let body = Array(#"{"error_code":"DCS.4999","error_msg":"slow down"}"#.utf8)
        let e = ProviderErrorMapper.map(provider: "huawei", operation: "huawei.dcs.ListMigrationTask", status: 429,
                                        headers: [("Retry-After", "9223372036854775807")], body: body)
        XCTAssertEqual(e.details["retry_after_ms"], .int(86_400_000))
        let a = ProviderErrorMapper.map(provider: "alibaba", operation: "alibaba.mse.ListMigrationTask", status: 400,
                                        headers: [("x-acs-retry-after", "9223372036854775807")], body: Array(#"{"Code":"X"}"#.utf8))
        XCTAssertEqual(a.details["retry_after_ms"], .int(86_400_000))
    }

    static let vectorOps: [String: String] = [
        "ali-roa-get-list-migrations-encoding": "alibaba.rocketmq.ListMigrations",
        "ali-roa-get-list-migration-operations-arrays": "alibaba.rocketmq.ListMigrationOperations",
        "ali-roa-post-json-execute-migration-operation": "alibaba.rocketmq.ExecuteMigrationOperation",
        "ali-roa-post-path-param-encoding-finish-stage": "alibaba.rocketmq.FinishMigrationStage",
        "ali-rpc-post-mse-add-migration-task": "alibaba.mse.AddMigrationTask",
        "ali-rpc-post-mse-list-migration-task": "alibaba.mse.ListMigrationTask",
        "ali-rpc-post-mse-delete-migration-task-sts": "alibaba.mse.DeleteMigrationTask",
        "hw-get-list-rocketmq-migration-task-encoding": "huawei.rocketmq.ListRocketMqMigrationTask",
        "hw-post-json-create-rocketmq-migration-task": "huawei.rocketmq.CreateRocketMqMigrationTask",
        "hw-get-show-migration-task-path-encoding": "huawei.dcs.ShowMigrationTask",
        "hw-post-json-create-dcs-migration-task": "huawei.dcs.CreateMigrationTask",
        "hw-delete-json-delete-dcs-migration-task": "huawei.dcs.DeleteMigrationTask",
        "hw-post-no-body-stop-migration-task-sts": "huawei.dcs.StopMigrationTask",
        "hw-put-json-update-dcs-migration-task": "huawei.dcs.UpdateMigrationTask",
    ]

    static func vectors() throws -> JSON {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        let data = try Data(contentsOf: url.appendingPathComponent("shared/reference/signing-vectors.json"))
        return try JSONParser.parse(bytes: Array(data))
    }

    static func pairs(_ v: JSON?) -> [(String, JSON)] {
        (v?.arrayValue ?? []).compactMap { p in
            guard let a = p.arrayValue, a.count == 2, let k = a[0].stringValue else { return nil }
            return (k, a[1])
        }
    }

    /// Reverses key order at every level, so the builder has to restore the SDK model's field order itself.
    static func reversed(_ v: JSON) -> JSON {
        switch v {
        case .object(let o):
            var r = JSONObject()
            for k in o.keys.reversed() { r[k] = reversed(o[k] ?? .null) }
            return .object(r)
        case .array(let a): return .array(a.map(reversed))
        default: return v
        }
    }

    func testEverySigningVectorThroughTheBuilder() throws {
        let all = try Self.vectors()
        var count = 0
        for provider in ["alibaba", "huawei"] {
            for v in try XCTUnwrap(all[provider]?.arrayValue) {
                let name = try XCTUnwrap(v["name"]?.stringValue)
                let op = try XCTUnwrap(Catalog.operation(try XCTUnwrap(Self.vectorOps[name], name)), name)
                let i = try XCTUnwrap(v["inputs"]), o = try XCTUnwrap(v["outputs"])
                var params = JSONObject()
                // Path parameters.
                if let raw = i["path_params_raw"]?.objectValue {
                    for (k, val) in raw { params[k] = val }
                } else {
                    let tmpl = op.pathTemplate.split(separator: "/"), segs = (i["path"]?.stringValue ?? "").split(separator: "/")
                    XCTAssertEqual(tmpl.count, segs.count, name)
                    for (t, s) in zip(tmpl, segs) where t.hasPrefix("{") && t != "{project_id}" {
                        params[String(t.dropFirst().dropLast())] = .string(Percent.decode(s))
                    }
                }
                // Query parameters, converted to the catalog's JSON types.
                for (k, val) in Self.pairs(i["query"]) {
                    let spec = try XCTUnwrap(op.parameter(k), "\(name): \(k)")
                    switch (spec.schema, val) {
                    case (.integer, .string(let s)): params[k] = .int(try XCTUnwrap(Int(s)))
                    case (.array, .string(let s)): params[k] = .array(s.split(separator: ",").map { .string(String($0)) })
                    default: params[k] = val
                    }
                }
                // Body fields at top level, deliberately reordered.
                if let body = i["body"]?.stringValue, !body.isEmpty {
                    for (k, val) in try XCTUnwrap(JSONParser.parse(body).objectValue) { params[k] = val }
                }
                params = Self.reversed(.object(params)).objectValue ?? [:]

                let ua = try XCTUnwrap(Self.pairs(i["headers_before_signing"]).first { $0.0.lowercased() == "user-agent" }?.1.stringValue)
                let ts = try XCTUnwrap(i["timestamp"]?.stringValue)
                let cfg: JSON
                if provider == "alibaba" {
                    cfg = ["credentials": ["alibaba": ["access_key_id": i["access_key_id"] ?? nil,
                                                       "access_key_secret": i["access_key_secret"] ?? nil,
                                                       "security_token": i["security_token"] ?? nil]],
                           "regions": ["alibaba": "cn-hangzhou"]]
                } else {
                    cfg = ["credentials": ["huawei": ["ak": i["access_key_id"] ?? nil, "sk": i["secret_access_key"] ?? nil,
                                                      "security_token": i["security_token"] ?? nil, "project_id": i["project_id"] ?? nil]],
                           "regions": ["huawei": "cn-north-4"]]
                }
                let config = try ProvidersConfig(config: cfg, environment: [:])
                let unix = try XCTUnwrap(provider == "alibaba" ? SigningClock.parseAcsDate(ts) : SigningClock.parseSdkDate(ts))
                let built = try RequestBuilder.assemble(op, params: .object(params), config: config, unixTime: unix,
                                                        nonce: i["nonce"]?.stringValue ?? "", userAgent: ua)
                XCTAssertEqual(built.request.headers.map { "\($0.0): \($0.1)" },
                               Self.pairs(o["headers"]).map { "\($0.0): \($0.1.stringValue ?? "")" }, name)
                XCTAssertEqual(built.url, o["wire_url"]?.stringValue, name)
                XCTAssertEqual(String(decoding: built.request.body, as: UTF8.self), o["wire_body"]?.stringValue, name)
                XCTAssertEqual(built.request.method, i["method"]?.stringValue, name)
                count += 1
            }
        }
        XCTAssertEqual(count, 14)
    }

    func config(_ extra: JSONObject = [:]) throws -> ProvidersConfig {
        var c: JSONObject = [
            "credentials": ["alibaba": ["access_key_id": "AK1", "access_key_secret": "SECRET1"],
                            "huawei": ["ak": "HAK", "sk": "HSK", "project_id": "proj1"]],
            "regions": ["alibaba": "cn-hangzhou", "huawei": "cn-north-4"],
        ]
        for (k, v) in extra { c[k] = v }
        return try ProvidersConfig(config: .object(c), environment: [:])
    }

    func build(_ name: String, _ params: JSON, config: ProvidersConfig? = nil) throws -> BuiltRequest {
        try RequestBuilder.build(try XCTUnwrap(Catalog.operation(name)), params: params, config: config ?? self.config(),
                                 unixTime: 1_704_164_645, nonce: "0123456789abcdef0123456789abcdef")
    }

    func verify(_ b: BuiltRequest, secret: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let wire = SignableRequest(method: b.request.method, target: b.target,
                                   headers: b.request.headers + [("Content-Length", "\(b.request.body.count)")], body: b.request.body)
        let auth = try XCTUnwrap(wire.header("authorization"), file: file, line: line)
        if let a = ACS3Signer.parseAuthorization(auth) {
            XCTAssertTrue(ACS3Signer.verify(wire, authorization: a, secret: secret).valid, file: file, line: line)
        } else {
            let a = try XCTUnwrap(HuaweiSigner.parseAuthorization(auth), file: file, line: line)
            XCTAssertTrue(HuaweiSigner.verify(wire, authorization: a, secret: secret).valid, file: file, line: line)
        }
    }

    func testAlibabaPlacementAndEncodings() throws {
        let b = try build("alibaba.rocketmq.ListMigrationOperations", [
            "migrationId": 77, "stageType": "MIGRATE_MESSAGE", "businessStatus": ["A", "B c"], "operationType": "SYNC",
            "pageNumber": 1, "pageSize": 20, "filter": "t*~/é",
        ])
        XCTAssertEqual(b.request.path, "/migrations/77/stages/MIGRATE_MESSAGE/operations")
        XCTAssertEqual(b.wireQuery, "businessStatus=A%2CB+c&filter=t%2A~%2F%C3%A9&operationType=SYNC&pageNumber=1&pageSize=20")
        XCTAssertEqual(b.url, "https://rocketmq.cn-hangzhou.aliyuncs.com" + b.target)
        XCTAssertNil(b.request.header("content-type"))
        XCTAssertEqual(b.request.header("x-acs-credentials-provider"), "static_ak")
        try verify(b, secret: "SECRET1")

        // Execute always sends JSON, `{}` without operationParam; raw UTF-8, compact.
        let e = try build("alibaba.rocketmq.ExecuteMigrationOperation", ["migrationId": "m/1", "stageType": "MIGRATE_MESSAGE", "operationId": "9"])
        XCTAssertEqual(String(decoding: e.request.body, as: UTF8.self), "{}")
        XCTAssertEqual(e.request.path, "/migrations/m%2F1/stages/MIGRATE_MESSAGE/operations/9/execute")
        XCTAssertEqual(e.request.header("content-type"), "application/json; charset=utf-8")
        let e2 = try build("alibaba.rocketmq.ExecuteMigrationOperation", [
            "migrationId": "1", "stageType": "MIGRATE_MESSAGE", "operationId": "9",
            "operationParam": ["paramData": ["targetStage": "DOUBLE_READ", "note": "迁移\n\"q\""]],
        ])
        XCTAssertEqual(String(decoding: e2.request.body, as: UTF8.self),
                       "{\"operationParam\":{\"paramData\":{\"targetStage\":\"DOUBLE_READ\",\"note\":\"迁移\\n\\\"q\\\"\"}}}")
        try verify(e2, secret: "SECRET1")

        // RPC: path "/", everything in the query, no body, no Action/Version in the query.
        let m = try build("alibaba.mse.UpdateMigrationTask", ["Id": 42, "ProjectDesc": "a b+c", "ClusterType": "Nacos-Ans"])
        XCTAssertEqual(m.target, "/?ClusterType=Nacos-Ans&Id=42&ProjectDesc=a+b%2Bc")
        XCTAssertEqual(m.request.method, "POST")
        XCTAssertTrue(m.request.body.isEmpty)
        XCTAssertEqual(m.request.header("x-acs-action"), "UpdateMigrationTask")
        XCTAssertEqual(m.request.header("x-acs-version"), "2019-05-31")
        XCTAssertEqual(m.url, "https://mse.cn-hangzhou.aliyuncs.com" + m.target)
        try verify(m, secret: "SECRET1")
    }

    func testHuaweiPlacementAndEncodings() throws {
        let b = try build("huawei.dcs.ListMigrationTaskLogs", ["task_id": "a/b c~*é", "offset": 0, "limit": 10, "log_level": "x y"])
        XCTAssertEqual(b.target, "/v2/proj1/migration-task/a%2Fb%20c~%2A%C3%A9/logs?limit=10&log_level=x%20y&offset=0")
        XCTAssertEqual(b.request.header("content-type"), "application/json")
        XCTAssertEqual(b.request.header("x-project-id"), "proj1")
        XCTAssertEqual(b.url, "https://dcs.cn-north-4.myhuaweicloud.com" + b.target)
        try verify(b, secret: "HSK")

        let c = try build("huawei.dcs.SetOnlineMigrationTask", [
            "task_id": "t1", "target_instance": ["password": "pw2", "id": "i-2"], "resume_mode": "auto",
            "source_instance": ["addrs": "10.0.0.1:6379", "password": "pw"], "migration_method": "incremental_migration",
        ])
        XCTAssertEqual(String(decoding: c.request.body, as: UTF8.self),
                       "{\"migration_method\": \"incremental_migration\", \"resume_mode\": \"auto\", \"source_instance\": {\"addrs\": \"10.0.0.1:6379\", \"password\": \"pw\"}, \"target_instance\": {\"id\": \"i-2\", \"password\": \"pw2\"}}")
        XCTAssertEqual(c.request.header("content-type"), "application/json;charset=utf-8")
        XCTAssertEqual(Set(c.secretValues), ["pw", "pw2"])
        try verify(c, secret: "HSK")

        // Body-less POST: no body bytes, Content-Type still application/json and signed.
        let s = try build("huawei.dcs.StopMigrationTaskSync", ["task_id": "t1"])
        XCTAssertTrue(s.request.body.isEmpty)
        XCTAssertEqual(s.request.path, "/v2/proj1/migration-task/t1/sync-stop")
        XCTAssertTrue(s.request.header("authorization")?.contains("SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date") ?? false)

        // eu-west-101 DMS uses the .eu domain; DCS does not.
        var cfg = try config()
        cfg.huaweiRegion = "eu-west-101"
        XCTAssertEqual(try build("huawei.rocketmq.ListRocketMqMigrationTask", ["instance_id": "i"], config: cfg).endpoint.host,
                       "dms.eu-west-101.myhuaweicloud.eu")
        XCTAssertEqual(try build("huawei.dcs.ListMigrationTask", [:], config: cfg).endpoint.host, "dcs.eu-west-101.myhuaweicloud.com")
        // Unicode in a Huawei body is \u-escaped; non-ASCII beyond the BMP becomes a surrogate pair.
        let u = try build("huawei.dcs.CreateOnlineMigrationTask", ["name": "迁移😀", "vpc_id": "v", "subnet_id": "s", "security_group_id": "g"])
        XCTAssertEqual(String(decoding: u.request.body, as: UTF8.self),
                       "{\"name\": \"\\u8fc1\\u79fb\\ud83d\\ude00\", \"vpc_id\": \"v\", \"subnet_id\": \"s\", \"security_group_id\": \"g\"}")
    }

    func testEndpointsAndRegions() throws {
        var cfg = try config()
        cfg.alibabaRegion = "cn-guangzhou"
        XCTAssertEqual(try build("alibaba.rocketmq.ListMigrations", ["migrationType": "INSTANCE_MIGRATION", "pageNumber": 1, "pageSize": 1],
                                 config: cfg).request.header("host"), "rocketmq.cn-guangzhou.aliyuncs.com")
        cfg.huaweiRegion = "xx-nowhere-1"
        XCTAssertThrowsError(try build("huawei.dcs.ListMigrationTask", [:], config: cfg)) { e in
            XCTAssertEqual((e as? FerryError)?.code, .invalidArgument)
        }
        cfg.alibabaRegion = nil
        XCTAssertThrowsError(try build("alibaba.mse.ListMigrationTask", [:], config: cfg)) { e in
            XCTAssertTrue((e as? FerryError)?.message.contains("ALIBABA_CLOUD_REGION_ID") ?? false)
        }
        // An endpoint override wins and its port goes into the signed Host header.
        try cfg.setEndpoint("alibaba.mse", "http://127.0.0.1:8081")
        let b = try build("alibaba.mse.ListMigrationTask", [:], config: cfg)
        XCTAssertEqual(b.url, "http://127.0.0.1:8081/")
        XCTAssertEqual(b.request.header("host"), "127.0.0.1:8081")
        // The Huawei SDK's per-region endpoint override variable.
        let env = ProvidersConfig(copying: try config(), environment: ["HUAWEICLOUD_SDK_REGION_DCS_CN_NORTH_4": "http://10.1.2.3:99,https://x"])
        XCTAssertEqual(try build("huawei.dcs.ListMigrationTask", [:], config: env).url, "http://10.1.2.3:99/v2/proj1/migration-tasks")
    }

    func testMissingCredentialsAreReportedPerProvider() throws {
        let onlyAli = try ProvidersConfig(config: ["regions": ["alibaba": "cn-hangzhou", "huawei": "cn-north-4"]],
                                          environment: ["ALIBABA_CLOUD_ACCESS_KEY_ID": "AK", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SK"])
        XCTAssertNoThrow(try build("alibaba.mse.ListMigrationTask", [:], config: onlyAli))
        XCTAssertThrowsError(try build("huawei.dcs.ListMigrationTask", [:], config: onlyAli)) { e in
            let fe = e as? FerryError
            XCTAssertEqual(fe?.code, .missingCredentials)
            XCTAssertTrue(fe?.message.contains("HUAWEICLOUD_SDK_AK") ?? false)
            XCTAssertTrue(fe?.message.contains("CLOUD_SDK_AK") ?? false)
        }
        let noProject = try ProvidersConfig(config: ["regions": ["huawei": "cn-north-4"]],
                                            environment: ["CLOUD_SDK_AK": "a", "CLOUD_SDK_SK": "b"])
        XCTAssertThrowsError(try build("huawei.dcs.ListMigrationTask", [:], config: noProject)) { e in
            XCTAssertEqual((e as? FerryError)?.code, .missingCredentials)
            XCTAssertTrue((e as? FerryError)?.message.contains("HUAWEICLOUD_SDK_PROJECT_ID") ?? false)
        }
        // project_id given as a parameter is enough.
        XCTAssertEqual(try build("huawei.dcs.ListMigrationTask", ["project_id": "p9"], config: noProject).request.path, "/v2/p9/migration-tasks")
        let envSTS = try ProvidersConfig(config: ["regions": ["alibaba": "cn-hangzhou"]], environment: [
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "AK", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SK", "ALIBABA_CLOUD_SECURITY_TOKEN": "TOK"])
        let sts = try build("alibaba.mse.DeleteMigrationTask", ["Id": "1"], config: envSTS)
        XCTAssertEqual(sts.request.header("x-acs-security-token"), "TOK")
        XCTAssertEqual(sts.request.header("x-acs-credentials-provider"), "static_sts")
        let noAli = try ProvidersConfig(config: nil, environment: ["ALIBABA_CLOUD_ACCESS_KEY_ID": "AK"])
        XCTAssertThrowsError(try build("alibaba.mse.ListMigrationTask", [:], config: noAli)) { e in
            XCTAssertEqual((e as? FerryError)?.code, .missingCredentials)
            XCTAssertEqual((e as? FerryError)?.details["missing"], ["access_key_secret"])
        }
    }

    func testConfigParsing() throws {
        XCTAssertThrowsError(try ProvidersConfig(config: ["credentials": ["alibaba": ["acess_key_id": "x"]]], environment: [:])) { e in
            XCTAssertEqual((e as? FerryError)?.details["field"], "config.credentials.alibaba.acess_key_id")
        }
        XCTAssertThrowsError(try ProvidersConfig(config: ["endpoints": ["huawei.dcs": "ftp://x"]], environment: [:]))
        XCTAssertThrowsError(try ProvidersConfig(config: ["endpoints": ["aws.s3": "http://x"]], environment: [:]))
        XCTAssertThrowsError(try ProvidersConfig(config: ["http": ["read_timeout_ms": -1]], environment: [:]))
        XCTAssertThrowsError(try ProvidersConfig(config: ["http": ["verify_tls": "no"]], environment: [:]))
        // Other top-level keys belong to the engine and are ignored here.
        let c = try ProvidersConfig(config: ["store": "x.db", "http": ["verify_tls": false, "connect_timeout_ms": 100]], environment: [
            "HUAWEICLOUD_SDK_AK": "a", "HUAWEICLOUD_SDK_SK": "b", "CLOUD_SDK_AK": "c", "HUAWEICLOUD_SDK_REGION": "cn-north-4"])
        XCTAssertFalse(c.verifyTLS)
        XCTAssertEqual(c.connectTimeoutMs, 100)
        XCTAssertEqual(c.huawei.ak, "a")
        XCTAssertEqual(c.huaweiRegion, "cn-north-4")
        XCTAssertEqual(Endpoint.parse("http://127.0.0.1:8080"), Endpoint(scheme: "http", host: "127.0.0.1", port: 8080))
        XCTAssertEqual(Endpoint.parse("example.com"), Endpoint(scheme: "https", host: "example.com", port: nil))
        XCTAssertEqual(Endpoint.parse("http://[::1]:9")?.baseURL, "http://[::1]:9")
        XCTAssertNil(Endpoint.parse("http://x/path"))
        XCTAssertNil(Endpoint.parse("http://x:99999"))
        XCTAssertNil(Endpoint.parse("http://u:p@x"))
    }

    func testProxyEnvironmentAndNoProxy() throws {
        let c = try ProvidersConfig(config: nil, environment: [
            "HTTPS_PROXY": "http://user:p%40ss@proxy.local:3128", "http_proxy": "proxy2:8080",
            "NO_PROXY": "localhost, .internal.example.com,10.0.0.0/8,127.0.0.1,svc:8443"])
        XCTAssertEqual(c.httpsProxy, .init(host: "proxy.local", port: 3128, username: "user", password: "p@ss"))
        XCTAssertEqual(c.httpProxy?.host, "proxy2")
        XCTAssertTrue(c.bypassesProxy(host: "localhost", port: nil))
        XCTAssertTrue(c.bypassesProxy(host: "a.internal.example.com", port: nil))
        XCTAssertTrue(c.bypassesProxy(host: "internal.example.com", port: nil))
        XCTAssertTrue(c.bypassesProxy(host: "10.2.3.4", port: 443))
        XCTAssertTrue(c.bypassesProxy(host: "svc", port: 8443))
        XCTAssertFalse(c.bypassesProxy(host: "svc", port: 443))
        XCTAssertFalse(c.bypassesProxy(host: "dcs.cn-north-4.myhuaweicloud.com", port: nil))
        XCTAssertFalse(c.bypassesProxy(host: "notinternal.example.com", port: nil))
        let client = ProviderClient(config: c, logger: LogHook().logger(label: "t"))
        XCTAssertEqual(client.proxy(for: Endpoint(scheme: "https", host: "x.com", port: nil))?.host, "proxy.local")
        XCTAssertEqual(client.proxy(for: Endpoint(scheme: "http", host: "x.com", port: nil))?.host, "proxy2")
        XCTAssertNil(client.proxy(for: Endpoint(scheme: "http", host: "127.0.0.1", port: 80)))
        let all = try ProvidersConfig(config: nil, environment: ["HTTP_PROXY": "http://p:1", "no_proxy": "*"])
        XCTAssertTrue(all.bypassesProxy(host: "anything", port: nil))
    }

    func testPythonJSONSerializers() {
        let v: JSON = ["a": [1, 2.5, true, nil], "s": "é\u{7F}\u{01}\t/", "n": -3]
        XCTAssertEqual(String(decoding: PythonJSON.dumps(v, .alibaba), as: UTF8.self),
                       "{\"a\":[1,2.5,true,null],\"s\":\"é\u{7F}\\u0001\\t/\",\"n\":-3}")
        XCTAssertEqual(String(decoding: PythonJSON.dumps(v, .huawei), as: UTF8.self),
                       "{\"a\": [1, 2.5, true, null], \"s\": \"\\u00e9\\u007f\\u0001\\t/\", \"n\": -3}")
        XCTAssertEqual(String(decoding: PythonJSON.dumps([:], .huawei), as: UTF8.self), "{}")
    }
}

extension ProvidersConfig {
    /// A copy with a different environment (tests of environment-driven endpoint overrides).
    init(copying c: ProvidersConfig, environment: [String: String]) {
        self = c
        self.environment = environment
    }
}
