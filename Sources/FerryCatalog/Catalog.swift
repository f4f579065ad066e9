import FerryCore
import FerryJSON

/// The 24 migration operations of the four services, as the official SDKs send them
/// (shared/reference/providers.md, parts B, C, E, F; seeds where they say more).
public enum Catalog {
    public static let operations: [OperationSpec] = alibabaRocketMQ + alibabaMSE + huaweiRocketMQ + huaweiDCS

    static let byName: [String: OperationSpec] = {
        var d: [String: OperationSpec] = [:]
        for o in operations { d[o.name] = o }
        return d
    }()

    public static func operation(_ name: String) -> OperationSpec? { byName[name] }

    /// The list `ferry ops` prints.
    public static var summaryJSON: JSON { .array(operations.map(\.summaryJSON)) }

    /// The services, as `provider.service`.
    public static let services = ["alibaba.rocketmq", "alibaba.mse", "huawei.rocketmq", "huawei.dcs"]

    // MARK: - shared schemas

    static let stageTypes = ["CONNECT_NETWORK", "MIGRATE_METADATA", "REPLACE_ENDPOINT", "MIGRATE_MESSAGE"]
    static let clusterTypes = ["Nacos-Ans", "ZooKeeper", "Eureka"]
    static let languages = ["zh", "en"]
    /// Ids the list operations return as integers while the path/query takes a string: accept both.
    static let idLike = ValueSchema.union([.string, .integer])

    static func projectID() -> ParameterSpec {
        ParameterSpec("project_id", .path, .string, required: true, fromCredentials: true,
                      "project id; defaults to the Huawei credentials' project_id")
    }

    // MARK: - Alibaba ApsaraMQ for RocketMQ 2022-08-01 (ROA)

    static func rocketmq(_ action: String, _ method: String, _ path: String, contentType: String? = nil,
                         alwaysSendBody: Bool = false, _ params: [ParameterSpec], _ idem: Idempotency,
                         secret: [String] = [], reconcile: ReconcileSpec? = nil, summary: String) -> OperationSpec {
        OperationSpec(name: "alibaba.rocketmq.\(action)", style: .roa, version: "2022-08-01", product: "rocketmq",
                      method: method, path: path, contentType: contentType, alwaysSendBody: alwaysSendBody,
                      parameters: params, idempotency: idem, secretResponseFields: secret, reconcile: reconcile,
                      successField: "success", summary: summary)
    }

    static let alibabaRocketMQ: [OperationSpec] = [
        rocketmq("ListMigrations", "GET", "/migrations", [
            ParameterSpec("filter", .query, .string, "filter expression"),
            ParameterSpec("migrationType", .query, .string(enumValues: ["INSTANCE_MIGRATION"]), required: true),
            ParameterSpec("pageNumber", .query, .integer(minimum: 1), required: true),
            ParameterSpec("pageSize", .query, .integer(minimum: 1), required: true),
            ParameterSpec("resourceGroupId", .query, .string),
        ], .read, summary: "List migrations (data.list[], paged)."),
        rocketmq("ListMigrationOperations", "GET", "/migrations/{migrationId}/stages/{stageType}/operations", [
            ParameterSpec("migrationId", .path, idLike, required: true),
            ParameterSpec("stageType", .path, .string(enumValues: stageTypes), required: true),
            ParameterSpec("businessStatus", .query, .array(.string), "sent comma-joined"),
            ParameterSpec("filter", .query, .string, "filters on operationKey (the topic name)"),
            ParameterSpec("instanceId", .query, .string),
            ParameterSpec("operationStatus", .query, .array(.string), "sent comma-joined"),
            ParameterSpec("operationType", .query, .string, required: true),
            ParameterSpec("pageNumber", .query, .integer(minimum: 1), required: true),
            ParameterSpec("pageSize", .query, .integer(minimum: 1), required: true),
        ], .read, summary: "List the operations of one migration stage."),
        rocketmq("ExecuteMigrationOperation", "POST",
                 "/migrations/{migrationId}/stages/{stageType}/operations/{operationId}/execute",
                 contentType: "application/json; charset=utf-8", alwaysSendBody: true, [
                    ParameterSpec("migrationId", .path, idLike, required: true),
                    ParameterSpec("stageType", .path, .string(enumValues: stageTypes), required: true),
                    ParameterSpec("operationId", .path, idLike, required: true),
                    ParameterSpec("instanceId", .query, .string),
                    ParameterSpec("operationParam", .body, .object([
                        FieldSpec("paramData", .any,
                                  "documented as a JSON string such as {\"action\":\"MIGRATE_FORWARD\",\"targetStage\":\"DOUBLE_READ\"}"),
                    ])),
                 ], .nonIdempotentWrite,
                 reconcile: ReconcileSpec(
                    strategy: "check_state", operation: "alibaba.rocketmq.ListMigrationOperations",
                    params: [("migrationId", .param("migrationId")), ("stageType", .param("stageType")),
                             ("instanceId", .param("instanceId")), ("operationType", .value("TOPIC")),
                             ("pageNumber", .value(1)), ("pageSize", .value(100))],
                    listPath: "data.list", match: [(field: "operationId", param: "operationId")], idField: "operationId",
                    responseIDField: nil, stateField: "operationStatus", notDoneValues: [],
                    note: "looks among TOPIC operations (the message stage's); an operation of another type is not found and the run asks an operator"),
                 summary: "Execute one migration operation (e.g. move a topic forward one stage)."),
        rocketmq("FinishMigrationStage", "POST", "/migrations/{migrationId}/stages/{stageType}/finish", [
            ParameterSpec("migrationId", .path, idLike, required: true),
            ParameterSpec("stageType", .path, .string(enumValues: stageTypes), required: true,
                          "the seed page lists only MIGRATE_MESSAGE; the SDK names four stages"),
            ParameterSpec("instanceId", .query, .string),
        ], .nonIdempotentWrite,
        reconcile: ReconcileSpec(
            strategy: "check_state", operation: "alibaba.rocketmq.ListMigrations",
            params: [("migrationType", .value("INSTANCE_MIGRATION")), ("pageNumber", .value(1)), ("pageSize", .value(100))],
            listPath: "data.list", match: [(field: "migrationId", param: "migrationId")], idField: "migrationId",
            responseIDField: nil, stateField: "currentStage.stageType", notDoneValues: [],
            note: "done when the migration's currentStage is no longer the finished stageType with status DOING"),
        summary: "Finish the current stage of a migration (data is a boolean)."),
    ]

    // MARK: - Alibaba MSE 2019-05-31 (RPC: POST /, every parameter in the query)

    static func mse(_ action: String, _ params: [ParameterSpec], _ idem: Idempotency, reconcile: ReconcileSpec? = nil,
                    notFoundMeansDone: Bool = false, summary: String) -> OperationSpec {
        OperationSpec(name: "alibaba.mse.\(action)", style: .rpc, version: "2019-05-31", product: "mse", method: "POST",
                      path: "/", contentType: nil, parameters: params, idempotency: idem, reconcile: reconcile,
                      notFoundMeansDone: notFoundMeansDone, successField: "Success", summary: summary)
    }

    static let mseTaskFields: [ParameterSpec] = [
        ParameterSpec("AcceptLanguage", .query, .string(enumValues: languages)),
        ParameterSpec("ClusterType", .query, .string(enumValues: clusterTypes)),
        ParameterSpec("OriginInstanceAddress", .query, .string, "address of a source-instance node"),
        ParameterSpec("OriginInstanceName", .query, .string),
        ParameterSpec("OriginInstanceNamespace", .query, .string, "namespace list; needed when the source is Nacos"),
        ParameterSpec("ProjectDesc", .query, .string),
        ParameterSpec("RequestPars", .query, .string, "extra parameters as a JSON string"),
        ParameterSpec("SyncType", .query, .string),
        ParameterSpec("TargetClusterName", .query, .string),
        ParameterSpec("TargetClusterUrl", .query, .string),
        ParameterSpec("TargetInstanceId", .query, .string),
    ]

    static let alibabaMSE: [OperationSpec] = [
        mse("AddMigrationTask", mseTaskFields, .nonIdempotentWrite,
            reconcile: ReconcileSpec(
                operation: "alibaba.mse.ListMigrationTask",
                params: [("OriginInstanceName", .param("OriginInstanceName")), ("PageNum", .value(1)), ("PageSize", .value(100))],
                listPath: "Data",
                match: [(field: "OriginInstanceName", param: "OriginInstanceName"),
                        (field: "TargetInstanceId", param: "TargetInstanceId"),
                        (field: "ProjectDesc", param: "ProjectDesc")],
                idField: "Id", responseIDField: "Data.Id",
                note: "MSE tasks have no name; a task matches on the source instance name, target instance id and description"),
            summary: "Create a Nacos/ZooKeeper/Eureka migration task (Data.Id is a string)."),
        mse("ListMigrationTask", [
            ParameterSpec("AcceptLanguage", .query, .string(enumValues: languages)),
            ParameterSpec("OriginInstanceName", .query, .string),
            ParameterSpec("PageNum", .query, .integer(minimum: 1)),
            ParameterSpec("PageSize", .query, .integer(minimum: 1)),
            ParameterSpec("RequestPars", .query, .string),
        ], .read, summary: "List migration tasks (Data[].Id is an integer)."),
        mse("UpdateMigrationTask",
            [mseTaskFields[0], mseTaskFields[1], ParameterSpec("Id", .query, idLike, "task id")] + mseTaskFields.dropFirst(2),
            .idempotentWrite, summary: "Update a migration task."),
        mse("DeleteMigrationTask", [
            ParameterSpec("AcceptLanguage", .query, .string(enumValues: languages)),
            ParameterSpec("Id", .query, idLike, "task id"),
            ParameterSpec("RequestPars", .query, .string),
        ], .idempotentWrite, notFoundMeansDone: true, summary: "Delete a migration task (Data is a boolean)."),
    ]

    // MARK: - Huawei DMS for RocketMQ v2 (metadata migration)

    static let topicConfig = ValueSchema.object([
        FieldSpec("topic_name", .string), FieldSpec("order", .boolean), FieldSpec("perm", .integer),
        FieldSpec("read_queue_nums", .integer), FieldSpec("write_queue_nums", .integer),
        FieldSpec("topic_filter_type", .string(enumValues: ["SINGLE_TAG", "MULTI_TAG"])), FieldSpec("topic_sys_flag", .integer),
    ])
    static let subscriptionGroup = ValueSchema.object([
        FieldSpec("group_name", .string), FieldSpec("consume_broadcast_enable", .boolean), FieldSpec("consume_enable", .boolean),
        FieldSpec("consume_from_min_enable", .boolean), FieldSpec("notify_consumer_ids_changed_enable", .boolean),
        FieldSpec("retry_max_times", .integer), FieldSpec("retry_queue_nums", .integer),
        FieldSpec("which_broker_when_consume_slow", .integer),
    ])

    static func dms(_ action: String, _ method: String, _ path: String, contentType: String = "application/json",
                    _ params: [ParameterSpec], _ idem: Idempotency, reconcile: ReconcileSpec? = nil,
                    notFoundMeansDone: Bool = false, summary: String) -> OperationSpec {
        OperationSpec(name: "huawei.rocketmq.\(action)", style: .huawei, version: "v2", product: "dms", method: method,
                      path: path, contentType: contentType, parameters: params, idempotency: idem, reconcile: reconcile,
                      notFoundMeansDone: notFoundMeansDone, summary: summary)
    }

    static let metadataPath = "/v2/{project_id}/instances/{instance_id}/metadata"
    /// The RabbitMQ export's four arrays are all required for a `rabbitToRocket` task.
    static let rabbit = (parameter: "type", value: "rabbitToRocket")

    static let huaweiRocketMQ: [OperationSpec] = [
        dms("CreateRocketMqMigrationTask", "POST", metadataPath, [
            projectID(),
            ParameterSpec("instance_id", .path, .string, required: true),
            ParameterSpec("overwrite", .query, .string(enumValues: ["true", "false"]), required: true,
                          "\"true\" overwrites metadata of the same name; \"false\" fails if a topic or group exists"),
            ParameterSpec("name", .query, .string, required: true, "task name"),
            ParameterSpec("type", .query, .string(enumValues: ["rocketmq", "rabbitToRocket"]), required: true),
            ParameterSpec("topic_config_table", .body, .map(topicConfig), requiredWhen: ("type", "rocketmq"), "topic name -> config"),
            ParameterSpec("subscription_group_table", .body, .map(subscriptionGroup), requiredWhen: ("type", "rocketmq"),
                          "group name -> config"),
            ParameterSpec("vhosts", .body, .array(.object([FieldSpec("name", .string)])), requiredWhen: rabbit),
            ParameterSpec("queues", .body, .array(.object([
                FieldSpec("vhost", .string), FieldSpec("name", .string), FieldSpec("durable", .boolean),
            ])), requiredWhen: rabbit),
            ParameterSpec("exchanges", .body, .array(.object([
                FieldSpec("vhost", .string), FieldSpec("name", .string),
                FieldSpec("type", .string(enumValues: ["topic", "direct", "fanout", "headers"])), FieldSpec("durable", .boolean),
            ])), requiredWhen: rabbit),
            ParameterSpec("bindings", .body, .array(.object([
                FieldSpec("vhost", .string), FieldSpec("source", .string), FieldSpec("destination", .string),
                FieldSpec("destination_type", .string(enumValues: ["exchange", "queue"])), FieldSpec("routing_key", .string),
            ])), requiredWhen: rabbit),
        ], .nonIdempotentWrite,
        reconcile: ReconcileSpec(
            operation: "huawei.rocketmq.ListRocketMqMigrationTask",
            params: [("project_id", .param("project_id")), ("instance_id", .param("instance_id")),
                     ("offset", .value(1)), ("limit", .value(100))],
            listPath: "task", match: [(field: "name", param: "name")], idField: "id", responseIDField: "task_id"),
        summary: "Create a metadata migration task (RocketMQ or RabbitMQ metadata into DMS RocketMQ)."),
        dms("ListRocketMqMigrationTask", "GET", metadataPath, [
            projectID(),
            ParameterSpec("instance_id", .path, .string, required: true),
            ParameterSpec("id", .query, .string, "task id: narrows the result to one task (there is no Show operation)"),
            ParameterSpec("type", .query, .string(enumValues: ["vhost", "exchange", "queue", "all"])),
            ParameterSpec("offset", .query, .integer(minimum: 1), "page number, starting at 1"),
            ParameterSpec("limit", .query, .integer(minimum: 1), "page size"),
            ParameterSpec("name", .query, .string, "vhost name (or <vhost>-<exchange> when listing queues)"),
        ], .read, summary: "List the metadata migration tasks of an instance, or show one with id."),
        dms("BatchDeleteRocketMqMigrationTask", "POST", metadataPath + "/batch-delete", [
            projectID(),
            ParameterSpec("instance_id", .path, .string, required: true),
            ParameterSpec("task_ids", .body, .array(.string), required: true),
        ], .idempotentWrite, notFoundMeansDone: true, summary: "Delete metadata migration tasks."),
    ]

    // MARK: - Huawei DCS v2 (Redis data migration)

    static let migrationTypes = ["backupfile_import", "online_migration"]
    static let migrationMethods = ["full_amount_migration", "incremental_migration"]
    static let resumeModes = ["auto", "manual"]

    static let sourceInstance = ValueSchema.object([
        FieldSpec("addrs", .string, required: true, "ip:port of a self-built Redis"),
        FieldSpec("password", .string, secret: true), FieldSpec("task_status", .string), FieldSpec("id", .string),
        FieldSpec("ip", .string), FieldSpec("port", .string), FieldSpec("name", .string),
        FieldSpec("proxy_multi_db", .boolean), FieldSpec("db", .string),
    ])
    static let targetInstance = ValueSchema.object([
        FieldSpec("id", .string, required: true, "DCS instance id"),
        FieldSpec("name", .string), FieldSpec("password", .string, secret: true), FieldSpec("task_status", .string),
        FieldSpec("ip", .string), FieldSpec("port", .string), FieldSpec("addrs", .string),
        FieldSpec("proxy_multi_db", .boolean), FieldSpec("db", .string),
    ])
    static let backupFiles = ValueSchema.object([
        FieldSpec("file_source", .string(enumValues: ["self_build_obs", "backup_record"])),
        FieldSpec("bucket_name", .string),
        FieldSpec("files", .array(.object([
            FieldSpec("file_name", .string, required: true), FieldSpec("size", .string, "bytes, as a string"),
            FieldSpec("update_at", .string, "YYYY-MM-DD HH:MM:SS"),
        ])), required: true),
        FieldSpec("backup_id", .string),
    ])
    static let configInstance = ValueSchema.object([
        FieldSpec("id", .string, "required for a DCS instance"), FieldSpec("addrs", .string, "required for a self-built Redis"),
        FieldSpec("password", .string, secret: true),
    ])

    static let jsonUTF8 = "application/json;charset=utf-8"
    static let detailSecrets = ["source_instance.password", "target_instance.password"]

    /// After a stop whose first answer was lost, a repeated stop is refused ("already terminated"): the task's
    /// status tells whether the first one took effect (a still-migrating status means it did not).
    static let stopTookEffect = ReconcileSpec(
        strategy: "check_state", operation: "huawei.dcs.ShowMigrationTask",
        params: [("project_id", .param("project_id")), ("task_id", .param("task_id"))], listPath: nil,
        match: [(field: "task_id", param: "task_id")], idField: "task_id", responseIDField: nil,
        stateField: "status", notDoneValues: ["MIGRATING", "FULLMIGRATING", "INCRMIGRATING", "INCRMIGEATING", "RUNNING"],
        note: "TERMINATING or TERMINATED means the stop took effect")

    static func dcs(_ action: String, _ method: String, _ path: String, contentType: String = "application/json",
                    _ params: [ParameterSpec], _ idem: Idempotency, secret: [String] = [],
                    reconcile: ReconcileSpec? = nil, notFoundMeansDone: Bool = false, summary: String) -> OperationSpec {
        OperationSpec(name: "huawei.dcs.\(action)", style: .huawei, version: "v2", product: "dcs", method: method,
                      path: path, contentType: contentType, parameters: params, idempotency: idem,
                      secretResponseFields: secret, reconcile: reconcile, notFoundMeansDone: notFoundMeansDone,
                      summary: summary)
    }

    static func taskID() -> ParameterSpec { ParameterSpec("task_id", .path, .string, required: true) }

    static func findDCSTask(nameParam: String, responseID: String) -> ReconcileSpec {
        ReconcileSpec(operation: "huawei.dcs.ListMigrationTask",
                      params: [("project_id", .param("project_id")), ("name", .param(nameParam)),
                               ("offset", .value(0)), ("limit", .value(100))],
                      listPath: "migration_tasks", match: [(field: "task_name", param: nameParam)], idField: "task_id",
                      responseIDField: responseID)
    }

    static let huaweiDCS: [OperationSpec] = [
        dcs("CreateMigrationTask", "POST", "/v2/{project_id}/migration-task", contentType: jsonUTF8, [
            projectID(),
            ParameterSpec("task_name", .body, .string, required: true),
            ParameterSpec("description", .body, .string),
            ParameterSpec("migration_type", .body, .string(enumValues: migrationTypes), required: true),
            ParameterSpec("migration_method", .body, .string(enumValues: migrationMethods), required: true),
            ParameterSpec("backup_files", .body, backupFiles, "for backupfile_import"),
            ParameterSpec("network_type", .body, .string(enumValues: ["vpc", "vpn"])),
            ParameterSpec("source_instance", .body, sourceInstance, "for online_migration"),
            ParameterSpec("target_instance", .body, targetInstance, required: true),
        ], .nonIdempotentWrite, reconcile: findDCSTask(nameParam: "task_name", responseID: "id"),
        summary: "Create a backup-import or online migration task."),
        dcs("CreateOnlineMigrationTask", "POST", "/v2/{project_id}/migration/instance", contentType: jsonUTF8, [
            projectID(),
            ParameterSpec("name", .body, .string, required: true, "task name"),
            ParameterSpec("description", .body, .string),
            ParameterSpec("vpc_id", .body, .string, required: true),
            ParameterSpec("subnet_id", .body, .string, required: true),
            ParameterSpec("security_group_id", .body, .string, required: true),
        ], .nonIdempotentWrite, reconcile: findDCSTask(nameParam: "name", responseID: "instance_id"),
        summary: "Create an online migration task (its VM and network); configure it with SetOnlineMigrationTask."),
        dcs("SetOnlineMigrationTask", "POST", "/v2/{project_id}/migration/{task_id}/task", contentType: jsonUTF8, [
            projectID(), taskID(),
            ParameterSpec("migration_method", .body, .string(enumValues: migrationMethods), required: true),
            ParameterSpec("resume_mode", .body, .string(enumValues: resumeModes), required: true),
            ParameterSpec("bandwidth_limit_mb", .body, .string, "MB/s, an integer 1-10240 sent as a string"),
            ParameterSpec("source_instance", .body, configInstance, required: true),
            ParameterSpec("target_instance", .body, configInstance, required: true),
        ], .nonIdempotentWrite,
        reconcile: ReconcileSpec(
            strategy: "check_state", operation: "huawei.dcs.ShowMigrationTask",
            params: [("project_id", .param("project_id")), ("task_id", .param("task_id"))], listPath: nil,
            match: [(field: "task_id", param: "task_id")], idField: "task_id", responseIDField: "id",
            stateField: "status", notDoneValues: ["RUNNING"],
            note: "RUNNING means waiting for configuration: the configuration did not take effect"),
        summary: "Configure (and start) an online migration task."),
        dcs("ListMigrationTask", "GET", "/v2/{project_id}/migration-tasks", [
            projectID(),
            ParameterSpec("offset", .query, .integer(minimum: 0)),
            ParameterSpec("limit", .query, .integer(minimum: 1)),
            ParameterSpec("name", .query, .string, "task name"),
        ], .read, summary: "List migration tasks."),
        dcs("ShowMigrationTask", "GET", "/v2/{project_id}/migration-task/{task_id}", [projectID(), taskID()], .read,
            secret: detailSecrets, summary: "Show one migration task (Redis passwords are redacted)."),
        dcs("ShowMigrationTaskStats", "GET", "/v2/{project_id}/migration-task/{task_id}/stats", [projectID(), taskID()],
            .read, summary: "Show online-migration progress (numbers are strings)."),
        dcs("ListMigrationTaskLogs", "GET", "/v2/{project_id}/migration-task/{task_id}/logs", [
            projectID(), taskID(),
            ParameterSpec("offset", .query, .integer(minimum: 0)),
            ParameterSpec("limit", .query, .integer(minimum: 1)),
            ParameterSpec("log_level", .query, .string),
        ], .read, summary: "List a migration task's logs."),
        dcs("UpdateMigrationTask", "PUT", "/v2/{project_id}/migration-task/{task_id}", contentType: jsonUTF8, [
            projectID(), taskID(),
            ParameterSpec("resume_mode", .body, .string(enumValues: resumeModes)),
        ], .idempotentWrite, summary: "Set a task's auto-reconnect mode."),
        dcs("StopMigrationTask", "POST", "/v2/{project_id}/migration-task/{task_id}/stop", [projectID(), taskID()],
            .idempotentWrite, secret: detailSecrets, reconcile: stopTookEffect,
            summary: "Stop a migration task (returns the task detail)."),
        dcs("StopMigrationTaskSync", "POST", "/v2/{project_id}/migration-task/{task_id}/sync-stop", [projectID(), taskID()],
            .idempotentWrite, reconcile: stopTookEffect, summary: "Stop a migration task synchronously."),
        dcs("BatchStopMigrationTasks", "POST", "/v2/{project_id}/migration-task/batch-stop", contentType: jsonUTF8, [
            projectID(), ParameterSpec("migration_tasks", .body, .array(.string), required: true, "task ids"),
        ], .idempotentWrite, summary: "Dispatch a stop to several tasks (stopped once status reads TERMINATED)."),
        dcs("BatchRestartOnlineMigrationTasks", "POST", "/v2/{project_id}/migration-tasks/batch-restart",
            contentType: jsonUTF8, [
                projectID(), ParameterSpec("migration_tasks", .body, .array(.string), required: true, "task ids"),
            ], .idempotentWrite, summary: "Restart several online migration tasks."),
        dcs("DeleteMigrationTask", "DELETE", "/v2/{project_id}/migration-tasks/delete", contentType: jsonUTF8, [
            projectID(), ParameterSpec("task_id_list", .body, .array(.string), required: true, "task ids"),
        ], .idempotentWrite, notFoundMeansDone: true, summary: "Delete migration tasks (a DELETE with a JSON body)."),
    ]
}
