import FerryCatalog
import FerryCore
import FerryJSON
import XCTest

final class CatalogTests: XCTestCase {
    static let expected = [
        "alibaba.rocketmq.ListMigrations", "alibaba.rocketmq.ListMigrationOperations",
        "alibaba.rocketmq.ExecuteMigrationOperation", "alibaba.rocketmq.FinishMigrationStage",
        "alibaba.mse.AddMigrationTask", "alibaba.mse.ListMigrationTask", "alibaba.mse.UpdateMigrationTask",
        "alibaba.mse.DeleteMigrationTask",
        "huawei.rocketmq.CreateRocketMqMigrationTask", "huawei.rocketmq.ListRocketMqMigrationTask",
        "huawei.rocketmq.BatchDeleteRocketMqMigrationTask",
        "huawei.dcs.CreateMigrationTask", "huawei.dcs.CreateOnlineMigrationTask", "huawei.dcs.SetOnlineMigrationTask",
        "huawei.dcs.ListMigrationTask", "huawei.dcs.ShowMigrationTask", "huawei.dcs.ShowMigrationTaskStats",
        "huawei.dcs.ListMigrationTaskLogs", "huawei.dcs.UpdateMigrationTask", "huawei.dcs.StopMigrationTask",
        "huawei.dcs.StopMigrationTaskSync", "huawei.dcs.BatchStopMigrationTasks",
        "huawei.dcs.BatchRestartOnlineMigrationTasks", "huawei.dcs.DeleteMigrationTask",
    ]

    func testAll24OperationsWithConsistentEntries() throws {
        XCTAssertEqual(Catalog.operations.map(\.name), Self.expected)
        XCTAssertEqual(Catalog.summaryJSON.arrayValue?.count, 24)
        for op in Catalog.operations {
            XCTAssertEqual("\(op.provider).\(op.service).\(op.action)", op.name)
            XCTAssertTrue(Catalog.services.contains(op.serviceKey), op.name)
            XCTAssertNotNil(Catalog.operation(op.name))
            // Every {placeholder} is a path parameter and vice versa.
            let placeholders = op.pathTemplate.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
            XCTAssertEqual(Set(placeholders), Set(op.parameters.filter { $0.location == .path }.map(\.name)), op.name)
            XCTAssertEqual(Set(op.parameters.map(\.name)).count, op.parameters.count, "duplicate parameter in \(op.name)")
            let j = op.json
            XCTAssertEqual(j["name"]?.stringValue, op.name)
            XCTAssertNotNil(j["parameters"]?.arrayValue)
            XCTAssertEqual(j["idempotency"]?.stringValue, op.idempotency.rawValue)
            if op.idempotency == .nonIdempotentWrite, op.action.hasPrefix("Create") || op.action.hasPrefix("Add") {
                let r = try XCTUnwrap(op.reconcile, op.name)
                XCTAssertNotNil(Catalog.operation(r.operation), op.name)
                XCTAssertEqual(Catalog.operation(r.operation)?.idempotency, .read)
                for (_, p) in r.match { XCTAssertNotNil(op.parameter(p), "\(op.name) reconcile param \(p)") }
            }
            if let r = op.reconcile, let target = Catalog.operation(r.operation) {
                for (k, _) in r.params { XCTAssertNotNil(target.parameter(k), "\(op.name) -> \(r.operation).\(k)") }
            }
            if op.style == .rpc { XCTAssertEqual(op.pathTemplate, "/") }
            if op.style == .huawei { XCTAssertTrue(op.pathTemplate.hasPrefix("/v2/{project_id}/"), op.name) }
        }
        XCTAssertNil(Catalog.operation("huawei.rocketmq.ShowRocketMqMigrationTask"))
    }

    func testClassificationAndSecrets() throws {
        func op(_ n: String) throws -> OperationSpec { try XCTUnwrap(Catalog.operation(n)) }
        XCTAssertEqual(try op("huawei.dcs.ShowMigrationTask").idempotency, .read)
        XCTAssertEqual(try op("huawei.dcs.CreateMigrationTask").idempotency, .nonIdempotentWrite)
        XCTAssertEqual(try op("alibaba.mse.UpdateMigrationTask").idempotency, .idempotentWrite)
        XCTAssertEqual(try op("huawei.dcs.ShowMigrationTask").secretResponseFields, ["source_instance.password", "target_instance.password"])
        XCTAssertEqual(try op("huawei.dcs.StopMigrationTask").secretResponseFields, ["source_instance.password", "target_instance.password"])
        XCTAssertEqual(try op("huawei.dcs.CreateMigrationTask").secretParameterPaths, ["source_instance.password", "target_instance.password"])
        XCTAssertTrue(try op("huawei.dcs.DeleteMigrationTask").notFoundMeansDone)
        let r = try XCTUnwrap(try op("huawei.rocketmq.CreateRocketMqMigrationTask").reconcile)
        XCTAssertEqual(r.json["list"], "task")
        XCTAssertEqual(r.json["match"], ["name": "name"])
        XCTAssertEqual(r.json["id_field"], "id")
        XCTAssertEqual(r.json["response_id_field"], "task_id")
        let j = try op("alibaba.rocketmq.ListMigrationOperations").json
        let bs = try XCTUnwrap(j["parameters"]?.arrayValue?.first { $0["name"] == "businessStatus" })
        XCTAssertEqual(bs["in"], "query")
        XCTAssertEqual(bs["type"], "array")
        XCTAssertEqual(bs["items"]?["type"], "string")
        let mid = try XCTUnwrap(j["parameters"]?.arrayValue?.first { $0["name"] == "migrationId" })
        XCTAssertEqual(mid["type"], ["string", "integer"])
        XCTAssertEqual(mid["required"], true)
    }

    func testValidation() throws {
        let create = try XCTUnwrap(Catalog.operation("huawei.dcs.CreateMigrationTask"))
        let good: JSON = ["task_name": "t", "migration_type": "online_migration", "migration_method": "full_amount_migration",
                          "source_instance": ["addrs": "1.1.1.1:6379", "password": nil], "target_instance": ["id": "i"]]
        XCTAssertNoThrow(try create.validate(good))
        func message(_ op: OperationSpec, _ p: JSON) -> String? {
            do { try op.validate(p); return nil } catch { XCTAssertEqual(error.code, .invalidArgument); return error.message }
        }
        var bad = good.objectValue ?? [:]
        bad["migration_type"] = "teleport"
        XCTAssertEqual(message(create, .object(bad)), "params.migration_type: must be one of backupfile_import, online_migration")
        bad = good.objectValue ?? [:]
        bad["target_instance"] = ["name": "x"]
        XCTAssertEqual(message(create, .object(bad)), "params.target_instance.id: required field missing")
        bad["target_instance"] = ["id": "x", "pasword": "y"]
        XCTAssertTrue(message(create, .object(bad))?.hasPrefix("params.target_instance.pasword: unknown field") ?? false)
        bad = good.objectValue ?? [:]
        bad["task_name"] = 5
        XCTAssertEqual(message(create, .object(bad)), "params.task_name: must be a string, got number")
        bad["task_name"] = nil
        XCTAssertEqual(message(create, .object(bad)), "params.task_name: required parameter missing")
        XCTAssertEqual(message(create, "x"), "params: must be an object keyed by parameter name, got string")

        let list = try XCTUnwrap(Catalog.operation("alibaba.rocketmq.ListMigrationOperations"))
        XCTAssertEqual(message(list, ["migrationId": 1.5, "stageType": "MIGRATE_MESSAGE", "operationType": "x", "pageNumber": 1, "pageSize": 1]),
                       "params.migrationId: must be an integer, got number")
        XCTAssertEqual(message(list, ["migrationId": true, "stageType": "MIGRATE_MESSAGE", "operationType": "x", "pageNumber": 1, "pageSize": 1]),
                       "params.migrationId: must be string or integer, got boolean")
        XCTAssertEqual(message(list, ["migrationId": 1, "stageType": "MIGRATE_MESSAGE", "operationType": "x", "pageNumber": 0, "pageSize": 1]),
                       "params.pageNumber: must be >= 1")
        XCTAssertEqual(message(list, ["migrationId": "", "stageType": "MIGRATE_MESSAGE", "operationType": "x", "pageNumber": 1, "pageSize": 1]),
                       "params.migrationId: path parameter must not be empty")
        XCTAssertEqual(message(list, ["migrationId": 1, "stageType": "MIGRATE_MESSAGE", "operationType": "x", "pageNumber": 1, "pageSize": 1,
                                      "businessStatus": ["A", 3]]), "params.businessStatus[1]: must be a string, got number")
        let rmq = try XCTUnwrap(Catalog.operation("huawei.rocketmq.CreateRocketMqMigrationTask"))
        XCTAssertNoThrow(try rmq.validate(["instance_id": "i", "overwrite": "true", "name": "n", "type": "rocketmq",
                                           "topic_config_table": ["t1": ["topic_name": "t1", "perm": 6]],
                                           "subscription_group_table": [:]]))
        XCTAssertEqual(message(rmq, ["instance_id": "i", "overwrite": "true", "name": "n", "type": "rocketmq",
                                     "topic_config_table": ["t1": ["perm": "6"]], "subscription_group_table": [:]]),
                       "params.topic_config_table.t1.perm: must be an integer, got string")
        // Each source type needs its own export, caught before a non-idempotent create is sent.
        XCTAssertEqual(message(rmq, ["instance_id": "i", "overwrite": "true", "name": "n", "type": "rocketmq",
                                     "topic_config_table": [:]]),
                       "params.subscription_group_table: required when type is rocketmq")
        XCTAssertEqual(message(rmq, ["instance_id": "i", "overwrite": "true", "name": "n", "type": "rabbitToRocket",
                                     "vhosts": [], "queues": [], "exchanges": []]),
                       "params.bindings: required when type is rabbitToRocket")
        XCTAssertNoThrow(try rmq.validate(["instance_id": "i", "overwrite": "true", "name": "n", "type": "rabbitToRocket",
                                           "vhosts": [], "queues": [], "exchanges": [], "bindings": []]))
        XCTAssertEqual(rmq.parameter("vhosts")?.json["required_when"], ["type": "rabbitToRocket"])
        // project_id comes from the credentials: optional at validation.
        XCTAssertNoThrow(try XCTUnwrap(Catalog.operation("huawei.dcs.ListMigrationTask")).validate(nil))
    }
}
