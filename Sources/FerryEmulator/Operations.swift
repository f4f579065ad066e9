/// The 24 operations the emulator serves, by their catalog names (`<provider>.<service>.<Action>`).
enum OperationName {
    static let aliRocketMQ = ["ListMigrations", "ListMigrationOperations", "ExecuteMigrationOperation",
                              "FinishMigrationStage"]
    static let aliMSE = ["AddMigrationTask", "ListMigrationTask", "UpdateMigrationTask", "DeleteMigrationTask"]
    static let hwRocketMQ = ["CreateRocketMqMigrationTask", "ListRocketMqMigrationTask",
                             "BatchDeleteRocketMqMigrationTask"]
    static let hwDCS = ["CreateMigrationTask", "CreateOnlineMigrationTask", "SetOnlineMigrationTask",
                        "ListMigrationTask", "ShowMigrationTask", "ShowMigrationTaskStats", "ListMigrationTaskLogs",
                        "UpdateMigrationTask", "StopMigrationTask", "StopMigrationTaskSync", "BatchStopMigrationTasks",
                        "BatchRestartOnlineMigrationTasks", "DeleteMigrationTask"]

    static let all: [String] = aliRocketMQ.map { "alibaba.rocketmq.\($0)" } + aliMSE.map { "alibaba.mse.\($0)" }
        + hwRocketMQ.map { "huawei.rocketmq.\($0)" } + hwDCS.map { "huawei.dcs.\($0)" }

    /// Operations that never change state (never audited).
    static let readOnly: Set<String> = [
        "alibaba.rocketmq.ListMigrations", "alibaba.rocketmq.ListMigrationOperations", "alibaba.mse.ListMigrationTask",
        "huawei.rocketmq.ListRocketMqMigrationTask", "huawei.dcs.ListMigrationTask", "huawei.dcs.ShowMigrationTask",
        "huawei.dcs.ShowMigrationTaskStats", "huawei.dcs.ListMigrationTaskLogs",
    ]

    /// `*`, an exact name, or a prefix ending in `.*` (`huawei.dcs.*`, `alibaba.*`).
    static func matches(pattern: String, _ op: String) -> Bool {
        if pattern == "*" || pattern == op { return true }
        if pattern.hasSuffix(".*") { return op.hasPrefix(String(pattern.dropLast())) }
        return false
    }

    static func matchesAny(pattern: String) -> Bool { all.contains { matches(pattern: pattern, $0) } }
}
