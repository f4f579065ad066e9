import FerryCore
import FerryJSON
import FerrySigning
import XCTest

@testable import FerryEmulator

/// Builds signed requests the way the SDKs do, and drives an in-process emulator with a frozen clock.
struct EmuHarness {
    let emulator: Emulator
    var keyID = EmulatorConfig.defaultAccessKeyID
    var secret = EmulatorConfig.defaultAccessKeySecret
    let project = "0123456789abcdef0123456789abcdef"
    var hostOverride: String?
    var host: String { hostOverride ?? "127.0.0.1:18080" }

    init(_ extra: JSONObject = [:]) throws {
        var cfg: JSONObject = ["time_scale": 0, "start_time": 1_700_000_000, "seed": 7]
        for (k, v) in extra { cfg[k] = v }
        emulator = Emulator(config: try EmulatorConfig(json: .object(cfg)))
    }

    static func realDate(offset: Double = 0) -> Int64 { Int64(WallClock.now() + offset) }

    /// An Alibaba ACS3 request as tea-openapi builds it (ROA: RocketMQ 2022-08-01; RPC: MSE 2019-05-31).
    func ali(_ action: String, method: String = "GET", path: String = "/", query: [(String, String)] = [],
             body: JSON? = nil, version: String? = nil, keyID: String? = nil, secret: String? = nil,
             dateOffset: Double = 0, nonce: String? = nil) -> EmulatorRequest {
        let rpc = path == "/"
        var r = SignableRequest(method: method, path: path, query: query, headers: [
            ("host", host), ("x-acs-version", version ?? (rpc ? "2019-05-31" : "2022-08-01")), ("x-acs-action", action),
            ("user-agent", "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.6 TeaDSL/2"),
        ], body: body.map { $0.bytes() } ?? [])
        r.setHeader("accept", "application/json")
        if body != nil { r.setHeader("content-type", "application/json; charset=utf-8") }
        r.setHeader("x-acs-credentials-provider", "static_ak")
        ACS3Signer.prepareAndSign(&r, accessKeyID: keyID ?? self.keyID, secret: secret ?? self.secret,
                                  date: SigningClock.acsDate(unixSeconds: Self.realDate(offset: dateOffset)),
                                  nonce: nonce ?? ACS3Signer.makeNonce())
        let q = ACS3Signer.wireQueryString(query)
        return EmulatorRequest(method: method, target: q.isEmpty ? path : path + "?" + q, headers: r.headers, body: r.body)
    }

    /// A Huawei SDK-HMAC-SHA256 request; `path` is relative to /v2/{project}.
    func hw(_ method: String, _ path: String, query: [(String, String)] = [], body: JSON? = nil,
            keyID: String? = nil, secret: String? = nil, dateOffset: Double = 0, project: String? = nil) -> EmulatorRequest {
        let full = "/v2/\(project ?? self.project)\(path)"
        var r = SignableRequest(method: method, path: full, query: query, headers: [
            ("Content-Type", body == nil ? "application/json" : "application/json;charset=utf-8"),
            ("User-Agent", "huaweicloud-usdk-python/3.0; test"),
        ], body: body.map { $0.bytes() } ?? [])
        HuaweiSigner.prepareAndSign(&r, accessKeyID: keyID ?? self.keyID, secret: secret ?? self.secret,
                                    projectID: project ?? self.project,
                                    date: SigningClock.sdkDate(unixSeconds: Self.realDate(offset: dateOffset)), host: host)
        return EmulatorRequest(method: method, target: HuaweiSigner.requestURI(path: full, query: query),
                               headers: r.headers, body: r.body)
    }

    func send(_ r: EmulatorRequest) async -> EmulatorResponse { await emulator.handle(r) }

    /// Sends and returns (status, body JSON).
    func call(_ r: EmulatorRequest) async -> (Int, JSON) {
        let resp = await emulator.handle(r)
        return (resp.status, resp.json ?? .null)
    }

    func advance(_ seconds: Double) async {
        _ = await emulator.admin("POST", "/_ferry/clock/advance", ["seconds": .double(seconds)])
    }

    func admin(_ method: String, _ path: String, _ body: JSON? = nil) async -> JSON {
        await emulator.admin(method, path, body)
    }

    func audit() async -> [JSON] {
        (await admin("GET", "/_ferry/audit"))["entries"]?.arrayValue ?? []
    }
}
