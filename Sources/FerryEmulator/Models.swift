import FerryCore
import FerryJSON

/// Free-form JSON inside a Codable snapshot (stored as its serialized text).
struct JSONBox: Codable, Sendable, Equatable {
    var value: JSON
    init(_ v: JSON) { value = v }
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        do { value = try JSONParser.parse(s) } catch { value = .null }
    }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value.serialized())
    }
}

// MARK: Alibaba ApsaraMQ for RocketMQ migrations

enum AliStageType {
    static let all = ["CONNECT_NETWORK", "MIGRATE_METADATA", "REPLACE_ENDPOINT", "MIGRATE_MESSAGE"]
}

enum AliMessageStage {
    /// Reads and writes on the source; both; writes to the destination; all on the destination.
    static let order = ["MIGRATE_WAIT", "DOUBLE_READ", "SWITCH_WRITE", "MIGRATE_FINISH"]
}

struct AliStage: Codable, Sendable {
    var type: String
    /// INIT / DOING / DONE
    var status: String
    var startedAt: Double?
    var finishedAt: Double?
}

struct AliOperation: Codable, Sendable {
    var id: Int
    var stageType: String
    var type: String
    /// The topic or group name (in the message stage, the topic).
    var key: String
    /// INIT / RUNNING / SUCCESS / FAILED
    var status: String
    var businessStatus: String
    var paramData: JSONBox?
    var resultData: JSONBox?
    var createTime: Double
    var updateTime: Double
    /// While RUNNING: when the running step ends and the business status it ends in.
    var runUntil: Double?
    var runTarget: String?
    /// A terminal-failure fault: the running step fails instead of succeeding, at or after this time.
    var failAt: Double?
    var failReason: String?
}

struct AliMigration: Codable, Sendable {
    var id: Int
    var name: String
    var type: String
    /// CREATED / MIGRATING / COMPLETED / CANCELLED
    var status: String
    var instanceId: String
    var userId: String
    var resourceGroupId: String?
    var createTime: Double
    var updateTime: Double
    var startAt: Double
    var stages: [AliStage]
    var operations: [AliOperation]
    var source: JSONBox
    var target: JSONBox
    var topics: [String]
    var groups: [String]
}

// MARK: Alibaba MSE migration tasks

struct MseTask: Codable, Sendable {
    var id: Int
    var userId: String
    var fields: [String: String]
    var gmtCreate: Double
    var gmtModified: Double
}

// MARK: Huawei DMS for RocketMQ metadata migration tasks

struct DmsTask: Codable, Sendable {
    var id: String
    var projectId: String
    var instanceId: String
    var name: String
    /// rocketmq / rabbitToRocket
    var type: String
    var overwrite: Bool
    /// creating / starting / finished / failed
    var status: String
    var createdAt: Double
    var phaseEnd: Double?
    /// Length of the `starting` phase (grows with the number of objects carried).
    var startingS: Double
    var body: JSONBox
    var objectCount: Int
    /// Decided at creation (overwrite=false and a name already exists) or by a terminal-failure fault.
    var failAt: Double?
    var failReason: String?
}

// MARK: Huawei DCS data migration tasks

struct DcsLog: Codable, Sendable {
    var time: Double
    var level: String
    var code: String
    var message: String
    var keywords: [String]
}

struct DcsTask: Codable, Sendable {
    var id: String
    var projectId: String
    var name: String
    var description: String?
    /// backupfile_import / online_migration
    var migrationType: String
    /// full_amount_migration / incremental_migration (nil for an online task not yet configured)
    var migrationMethod: String?
    var networkType: String?
    var resumeMode: String?
    var bandwidthLimitMb: String?
    var backupFiles: JSONBox?
    // Redis passwords are dropped on the way in: nothing reads them, and the state is persisted to disk.
    var source: JSONBox? { didSet { source = source.map { JSONBox(Self.scrubbed($0)) } } }
    var target: JSONBox? { didSet { target = target.map { JSONBox(Self.scrubbed($0)) } } }
    var vpcId: String?
    var subnetId: String?
    var securityGroupId: String?
    /// Created by CreateOnlineMigrationTask (VM first, configuration later).
    var online: Bool
    var configured: Bool
    var status: String
    var phaseStart: Double
    var phaseEnd: Double?
    var fullDuration: Double
    var createdAt: Double
    var updatedAt: Double
    var releasedAt: Double?
    var privateIP: String
    var sourceKeys: Double
    var sourceBytes: Double
    var failAt: Double?
    var failReason: String?
    var errorMessage: String?
    var logs: [DcsLog]

    static let migrating: Set<String> = ["MIGRATING", "FULLMIGRATING", "INCRMIGRATING"]
    static let stoppable: Set<String> = ["RUNNING", "MIGRATING", "FULLMIGRATING", "INCRMIGRATING"]
    static let deletable: Set<String> = ["RUNNING", "SUCCESS", "FAILED", "TERMINATED", "MIGRATION_FAILED", "RELEASED"]
    static let restartable: Set<String> = ["TERMINATED", "MIGRATION_FAILED", "FAILED", "SUCCESS"]
}

// MARK: Audit log

struct AuditEntry: Codable, Sendable {
    var seq: Int
    var time: Double
    var operation: String
    var requestId: String
    var accessKeyId: String?
    var params: JSONBox
    var effect: JSONBox
    var outcome: String

    var json: JSON {
        [
            "seq": .int(seq), "time": .double(time), "time_iso": .string(CivilTime.iso(time)),
            "operation": .string(operation), "request_id": .string(requestId),
            "access_key_id": accessKeyId.map { .string($0) } ?? .null, "params": params.value,
            "effect": effect.value, "outcome": .string(outcome),
        ]
    }
}
