import FerryCore
import FerryJSON

/// One accepted access key. `provider` restricts it to one family (`alibaba` / `huawei`); nil accepts both.
public struct EmulatorAccessKey: Sendable, Equatable, Codable {
    public var id: String
    public var secret: String
    public var provider: String?

    public init(id: String, secret: String, provider: String? = nil) {
        self.id = id
        self.secret = secret
        self.provider = provider
    }
}

/// How long (in emulated seconds) each simulated phase lasts. Every value can be overridden in the config's
/// `timings` object, e.g. `{"dcs_full_s": 10}`; tests shrink them and advance the clock instead of sleeping.
public struct EmulatorTimings: Sendable, Equatable, Codable {
    /// Alibaba RocketMQ: a seeded migration stays CREATED this long, then CONNECT_NETWORK starts.
    public var aliStartS: Double = 5
    /// Alibaba RocketMQ: the network check of CONNECT_NETWORK.
    public var aliNetworkS: Double = 30
    /// Alibaba RocketMQ: one metadata (topic/group) operation.
    public var aliMetadataOpS: Double = 10
    /// Alibaba RocketMQ: one ExecuteMigrationOperation transition (or retry).
    public var aliTransitionS: Double = 10
    /// Huawei DMS: `creating` before `starting`.
    public var dmsCreatingS: Double = 3
    /// Huawei DMS: base duration of `starting` plus this much per topic/group/queue/exchange/binding.
    public var dmsBaseS: Double = 5
    public var dmsPerObjectS: Double = 1
    /// Huawei DCS: CreateOnlineMigrationTask provisions the migration VM this long (then RUNNING).
    public var dcsVMCreateS: Double = 30
    /// Huawei DCS: CreateMigrationTask prepares (status MIGRATING) this long before FULLMIGRATING.
    public var dcsPrepareS: Double = 10
    /// Huawei DCS: the full-migration phase (online migration).
    public var dcsFullS: Double = 120
    /// Huawei DCS: backup import speed in bytes per second (minimum phase length dcsFullMinS).
    public var dcsImportBytesPerS: Double = 50_000_000
    public var dcsFullMinS: Double = 30
    /// Huawei DCS: TERMINATING before TERMINATED.
    public var dcsStopS: Double = 10
    /// Huawei DCS: keys and bytes on a simulated source.
    public var dcsSourceKeys: Double = 100_000
    public var dcsSourceBytes: Double = 1_073_741_824
    /// Huawei DCS: incremental writes per second once INCRMIGRATING.
    public var dcsIncrOpsPerS: Double = 500
    /// A terminal-failure fault fails the task this long after it fires (or after the task starts migrating).
    public var failAfterS: Double = 1

    public init() {}

    static var keys: [(String, WritableKeyPath<EmulatorTimings, Double>)] { [
        ("ali_start_s", \.aliStartS), ("ali_network_s", \.aliNetworkS), ("ali_metadata_op_s", \.aliMetadataOpS),
        ("ali_transition_s", \.aliTransitionS), ("dms_creating_s", \.dmsCreatingS), ("dms_base_s", \.dmsBaseS),
        ("dms_per_object_s", \.dmsPerObjectS), ("dcs_vm_create_s", \.dcsVMCreateS), ("dcs_prepare_s", \.dcsPrepareS),
        ("dcs_full_s", \.dcsFullS), ("dcs_import_bytes_per_s", \.dcsImportBytesPerS), ("dcs_full_min_s", \.dcsFullMinS),
        ("dcs_stop_s", \.dcsStopS), ("dcs_source_keys", \.dcsSourceKeys), ("dcs_source_bytes", \.dcsSourceBytes),
        ("dcs_incr_ops_per_s", \.dcsIncrOpsPerS), ("fail_after_s", \.failAfterS),
    ] }

    init(json: JSON?) throws(FerryError) {
        self.init()
        guard let json, !json.isNull else { return }
        guard let o = json.objectValue else { throw .invalidArgument("timings", "must be an object") }
        for (k, v) in o {
            guard let path = Self.keys.first(where: { $0.0 == k })?.1 else {
                throw .invalidArgument("timings.\(k)", "unknown timing (known: \(Self.keys.map(\.0).joined(separator: ", ")))")
            }
            guard let d = v.doubleValue, d >= 0, d <= 1e15 else {
                throw .invalidArgument("timings.\(k)", "must be a number in 0...1e15")
            }
            self[keyPath: path] = d
        }
    }

    var json: JSON {
        var o = JSONObject()
        for (k, p) in Self.keys { o[k] = .double(self[keyPath: p]) }
        return .object(o)
    }
}

public struct EmulatorConfig: Sendable {
    /// The documented zero-config key pair, accepted by both provider families.
    public static let defaultAccessKeyID = "FERRYTESTKEY"
    public static let defaultAccessKeySecret = "ferry-test-secret"
    /// Project id used in ready info when none is configured (any project id in the path is accepted then).
    public static let defaultHuaweiProjectID = "0123456789abcdef0123456789abcdef"

    public var host: String = "127.0.0.1"
    public var port: Int = 0
    public var accessKeys: [EmulatorAccessKey] = []
    public var timeScale: Double = 1.0
    public var faults: [FaultSpec] = []
    public var persistPath: String?
    public var huaweiProjectID: String?
    public var seed: UInt64 = 0x5EED
    /// Emulated Unix time at start; default is the real time at start.
    public var startTime: Double?
    public var timings = EmulatorTimings()
    /// Allowed difference between a request's signing date and the real clock.
    public var maxSkewSeconds: Double = 900
    /// Signature checks can be switched off only explicitly (e.g. to measure routing cost alone).
    public var verifySignatures: Bool = true

    public init() {}

    public init(json: JSON) throws(FerryError) {
        self.init()
        guard let o = json.objectValue else { throw .invalidArgument("config", "must be a JSON object") }
        let known: Set<String> = ["host", "port", "access_keys", "time_scale", "faults", "persist_path",
                                  "huawei_project_id", "seed", "start_time", "timings", "max_skew_seconds",
                                  "verify_signatures"]
        for k in o.keys where !known.contains(k) {
            throw .invalidArgument(k, "unknown emulator option (known: \(known.sorted().joined(separator: ", ")))")
        }
        if let v = o["host"], !v.isNull {
            guard let s = v.stringValue, !s.isEmpty else { throw .invalidArgument("host", "must be a non-empty string") }
            host = s
        }
        if let v = o["port"], !v.isNull {
            guard let p = v.intValue, (0...65535).contains(p), v.doubleValue == Double(p) else {
                throw .invalidArgument("port", "must be an integer in 0...65535")
            }
            port = p
        }
        if let v = o["access_keys"], !v.isNull {
            guard let arr = v.arrayValue else { throw .invalidArgument("access_keys", "must be an array") }
            for (i, item) in arr.enumerated() {
                accessKeys.append(try Self.parseKey(item, field: "access_keys[\(i)]"))
            }
        }
        if let v = o["time_scale"], !v.isNull {
            guard let d = v.doubleValue, d >= 0, d.isFinite, d <= 1_000_000 else {
                throw .invalidArgument("time_scale", "must be a number in 0...1000000 (0 freezes the clock)")
            }
            timeScale = d
        }
        if let v = o["faults"], !v.isNull {
            guard let arr = v.arrayValue else { throw .invalidArgument("faults", "must be an array") }
            for (i, item) in arr.enumerated() { faults.append(try FaultSpec(json: item, field: "faults[\(i)]")) }
        }
        if let v = o["persist_path"], !v.isNull {
            guard let s = v.stringValue, !s.isEmpty else {
                throw .invalidArgument("persist_path", "must be a file path or null")
            }
            persistPath = s
        }
        if let v = o["huawei_project_id"], !v.isNull {
            guard let s = v.stringValue, !s.isEmpty, !s.contains("/") else {
                throw .invalidArgument("huawei_project_id", "must be a non-empty string without '/'")
            }
            huaweiProjectID = s
        }
        if let v = o["seed"], !v.isNull {
            guard let n = v.numberValue?.int64Value else { throw .invalidArgument("seed", "must be an integer") }
            seed = UInt64(bitPattern: n)
        }
        if let v = o["start_time"], !v.isNull {
            guard let d = v.doubleValue, d >= 0, d < 32_503_680_000 else {
                throw .invalidArgument("start_time", "must be Unix seconds")
            }
            startTime = d
        }
        timings = try EmulatorTimings(json: o["timings"])
        if let v = o["max_skew_seconds"], !v.isNull {
            guard let d = v.doubleValue, d > 0 else { throw .invalidArgument("max_skew_seconds", "must be > 0") }
            maxSkewSeconds = d
        }
        if let v = o["verify_signatures"], !v.isNull {
            guard let b = v.boolValue else { throw .invalidArgument("verify_signatures", "must be a boolean") }
            verifySignatures = b
        }
    }

    static func parseKey(_ item: JSON, field: String) throws(FerryError) -> EmulatorAccessKey {
        if let s = item.stringValue {
            guard let colon = s.firstIndex(of: ":") else {
                throw .invalidArgument(field, "must be \"ID:SECRET\"")
            }
            let id = String(s[..<colon]), secret = String(s[s.index(after: colon)...])
            guard !id.isEmpty, !secret.isEmpty else { throw .invalidArgument(field, "id and secret must be non-empty") }
            return EmulatorAccessKey(id: id, secret: secret)
        }
        guard let o = item.objectValue else {
            throw .invalidArgument(field, "must be \"ID:SECRET\" or {\"id\", \"secret\"}")
        }
        guard let id = o["id"]?.stringValue, !id.isEmpty else { throw .invalidArgument("\(field).id", "must be a non-empty string") }
        guard let secret = o["secret"]?.stringValue, !secret.isEmpty else {
            throw .invalidArgument("\(field).secret", "must be a non-empty string")
        }
        var provider: String?
        if let p = o["provider"], !p.isNull {
            guard let s = p.stringValue, s == "alibaba" || s == "huawei" else {
                throw .invalidArgument("\(field).provider", "must be \"alibaba\" or \"huawei\"")
            }
            provider = s
        }
        return EmulatorAccessKey(id: id, secret: secret, provider: provider)
    }

    /// The keys in force: the configured ones, or the documented default pair.
    var effectiveKeys: [EmulatorAccessKey] {
        accessKeys.isEmpty
            ? [EmulatorAccessKey(id: Self.defaultAccessKeyID, secret: Self.defaultAccessKeySecret)]
            : accessKeys
    }
}
