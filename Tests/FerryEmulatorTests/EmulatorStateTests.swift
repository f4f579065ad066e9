import FerryCore
import FerryJSON
import XCTest

@testable import FerryEmulator

final class EmulatorStateTests: XCTestCase {
    // MARK: Alibaba ApsaraMQ for RocketMQ

    func execute(_ h: EmuHarness, _ mig: Int, _ op: Int, _ action: String, _ target: String) async -> (Int, JSON) {
        await h.call(h.ali("ExecuteMigrationOperation", method: "POST",
                           path: "/migrations/\(mig)/stages/MIGRATE_MESSAGE/operations/\(op)/execute",
                           body: ["operationParam": ["paramData": .string("{\"action\":\"\(action)\",\"targetStage\":\"\(target)\"}")]]))
    }

    func finish(_ h: EmuHarness, _ mig: Int, _ stage: String) async -> (Int, JSON) {
        await h.call(h.ali("FinishMigrationStage", method: "POST", path: "/migrations/\(mig)/stages/\(stage)/finish"))
    }

    func ops(_ h: EmuHarness, _ mig: Int, _ stage: String, _ type: String = "ALL", extra: [(String, String)] = []) async -> JSON {
        await h.call(h.ali("ListMigrationOperations", path: "/migrations/\(mig)/stages/\(stage)/operations",
                           query: [("operationType", type), ("pageNumber", "1"), ("pageSize", "50")] + extra)).1
    }

    func testAlibabaMigrationEndToEnd() async throws {
        let h = try EmuHarness(["timings": ["ali_start_s": 5, "ali_network_s": 30, "ali_metadata_op_s": 10, "ali_transition_s": 10]])
        let seeded = await h.admin("POST", "/_ferry/resources/alibaba.rocketmq.migration",
                                   ["name": "mig-a", "topics": ["t1", "t2"], "groups": ["g1"]])
        let mig = try XCTUnwrap(seeded["migrationId"]?.intValue)
        var list = await h.call(h.ali("ListMigrations", path: "/migrations",
                                      query: [("migrationType", "INSTANCE_MIGRATION"), ("pageNumber", "1"), ("pageSize", "10")]))
        XCTAssertEqual(list.1["data"]?["list"]?[0]?["migrationStatus"], "CREATED")
        XCTAssertEqual(list.1["data"]?["totalCount"], 1)
        // Finishing before the stage runs is refused.
        var r = await finish(h, mig, "CONNECT_NETWORK")
        XCTAssertEqual(r.0, 400)
        XCTAssertEqual(r.1["code"], "OperationDenied.MigrationStageStatus")
        XCTAssertEqual(r.1["success"], false)
        await h.advance(6)
        list = await h.call(h.ali("ListMigrations", path: "/migrations",
                                  query: [("migrationType", "INSTANCE_MIGRATION"), ("pageNumber", "1"), ("pageSize", "10")]))
        XCTAssertEqual(list.1["data"]?["list"]?[0]?["migrationStatus"], "MIGRATING")
        XCTAssertEqual(list.1["data"]?["list"]?[0]?["currentStage"]?["stageStatus"], "DOING")
        r = await finish(h, mig, "CONNECT_NETWORK")
        XCTAssertEqual(r.1["code"], "OperationDenied.MigrationStageNotFinished")
        await h.advance(30)
        r = await finish(h, mig, "CONNECT_NETWORK")
        XCTAssertEqual(r.0, 200, "\(r.1)")
        XCTAssertEqual(r.1["data"], true)
        // Metadata: three operations complete one every 10 s.
        await h.advance(15)
        var o = await ops(h, mig, "MIGRATE_METADATA", extra: [("operationStatus", "SUCCESS")])
        XCTAssertEqual(o["data"]?["totalCount"], 1)
        r = await finish(h, mig, "MIGRATE_METADATA")
        XCTAssertEqual(r.0, 400)
        await h.advance(20)
        o = await ops(h, mig, "MIGRATE_METADATA", "GROUP")
        XCTAssertEqual(o["data"]?["list"]?[0]?["businessStatus"], "MIGRATED")
        r = await finish(h, mig, "MIGRATE_METADATA")
        XCTAssertEqual(r.0, 200)
        r = await finish(h, mig, "REPLACE_ENDPOINT")
        XCTAssertEqual(r.0, 200)
        // Message stage: forward one stage at a time, backward to any earlier stage.
        o = await ops(h, mig, "MIGRATE_MESSAGE", "TOPIC", extra: [("filter", "t1")])
        let op1 = try XCTUnwrap(o["data"]?["list"]?[0]?["operationId"]?.intValue)
        XCTAssertEqual(o["data"]?["list"]?[0]?["businessStatus"], "MIGRATE_WAIT")
        r = await execute(h, mig, op1, "MIGRATE_FORWARD", "SWITCH_WRITE")
        XCTAssertEqual(r.1["code"], "InvalidTargetStage")
        r = await execute(h, mig, op1, "MIGRATE_FORWARD", "DOUBLE_READ")
        XCTAssertEqual(r.0, 200, "\(r.1)")
        XCTAssertEqual(r.1["data"]?["operationStatus"], "RUNNING")
        r = await execute(h, mig, op1, "MIGRATE_FORWARD", "SWITCH_WRITE")
        XCTAssertEqual(r.1["code"], "OperationDenied.MigrationOperationRunning")
        await h.advance(10)
        r = await execute(h, mig, op1, "MIGRATE_FORWARD", "SWITCH_WRITE")
        XCTAssertEqual(r.0, 200)
        await h.advance(10)
        r = await execute(h, mig, op1, "MIGRATE_BACKWARD", "MIGRATE_WAIT")
        XCTAssertEqual(r.0, 200)
        await h.advance(10)
        o = await ops(h, mig, "MIGRATE_MESSAGE", "TOPIC", extra: [("businessStatus", "MIGRATE_WAIT")])
        XCTAssertEqual(o["data"]?["totalCount"], 2)
        r = await execute(h, mig, op1, "MIGRATE_BACKWARD", "MIGRATE_WAIT")
        XCTAssertEqual(r.1["code"], "InvalidTargetStage")
        // Walk both topics to MIGRATE_FINISH.
        let all = await ops(h, mig, "MIGRATE_MESSAGE", "TOPIC")
        for item in all["data"]?["list"]?.arrayValue ?? [] {
            let id = try XCTUnwrap(item["operationId"]?.intValue)
            for target in ["DOUBLE_READ", "SWITCH_WRITE", "MIGRATE_FINISH"] {
                r = await execute(h, mig, id, "MIGRATE_FORWARD", target)
                XCTAssertEqual(r.0, 200, "\(target) \(r.1)")
                if target == "SWITCH_WRITE" {
                    // Finishing is refused while a topic has not reached MIGRATE_FINISH.
                    let f = await finish(h, mig, "MIGRATE_MESSAGE")
                    XCTAssertEqual(f.0, 400)
                }
                await h.advance(10)
            }
        }
        r = await finish(h, mig, "MIGRATE_MESSAGE")
        XCTAssertEqual(r.0, 200, "\(r.1)")
        let state = await h.admin("GET", "/_ferry/resources/alibaba.rocketmq.migration/\(mig)")
        XCTAssertEqual(state["migrationStatus"], "COMPLETED")
        r = await finish(h, mig, "MIGRATE_MESSAGE")
        XCTAssertEqual(r.0, 400)
        let audit = await h.audit()
        XCTAssertEqual(audit.filter { $0["operation"] == "alibaba.rocketmq.FinishMigrationStage" }.count, 4)
    }

    func testAlibabaTerminalFailureAndValidation() async throws {
        let h = try EmuHarness(["faults": [["kind": "terminal_failure", "operation": "alibaba.rocketmq.ExecuteMigrationOperation", "count": 1]]])
        _ = await h.admin("POST", "/_ferry/seed", ["alibaba.rocketmq.migration": [["migration_id": 3, "topics": ["t1"], "start_stage": "MIGRATE_MESSAGE"]]])
        let o = await ops(h, 3, "MIGRATE_MESSAGE", "TOPIC")
        let op = try XCTUnwrap(o["data"]?["list"]?[0]?["operationId"]?.intValue)
        var r = await execute(h, 3, op, "MIGRATE_FORWARD", "DOUBLE_READ")
        XCTAssertEqual(r.0, 200)
        await h.advance(10)
        var after = await ops(h, 3, "MIGRATE_MESSAGE", "TOPIC")
        XCTAssertEqual(after["data"]?["list"]?[0]?["operationStatus"], "FAILED")
        XCTAssertEqual(after["data"]?["list"]?[0]?["businessStatus"], "MIGRATE_WAIT")
        XCTAssertEqual(after["data"]?["list"]?[0]?["operationResult"]?["resultData"]?["success"], false)
        r = await finish(h, 3, "MIGRATE_MESSAGE")
        XCTAssertEqual(r.0, 400)
        // Retrying after the failure works (the fault fired once).
        r = await execute(h, 3, op, "MIGRATE_FORWARD", "DOUBLE_READ")
        XCTAssertEqual(r.0, 200)
        await h.advance(10)
        after = await ops(h, 3, "MIGRATE_MESSAGE", "TOPIC")
        XCTAssertEqual(after["data"]?["list"]?[0]?["businessStatus"], "DOUBLE_READ")
        // Validation: provider shapes.
        var v = await h.call(h.ali("ListMigrations", path: "/migrations", query: [("pageNumber", "1"), ("pageSize", "10")]))
        XCTAssertEqual(v.0, 400)
        XCTAssertEqual(v.1["code"], "MissingMigrationType")
        XCTAssertEqual(v.1["message"], "Parameter migrationType is mandatory for this action .")
        XCTAssertEqual(v.1["httpStatusCode"], 400)
        v = await h.call(h.ali("FinishMigrationStage", method: "POST", path: "/migrations/99/stages/MIGRATE_MESSAGE/finish"))
        XCTAssertEqual(v.0, 404)
        XCTAssertEqual(v.1["code"], "MigrationNotFound")
        v = await h.call(h.ali("FinishMigrationStage", method: "POST", path: "/migrations/3/stages/BOGUS/finish"))
        XCTAssertEqual(v.1["code"], "InvalidStageType")
        v = await h.call(h.ali("FinishMigrationStage", method: "POST", path: "/migrations/3/stages/MIGRATE_MESSAGE/finish",
                               query: [("instanceId", "rmq-other")]))
        XCTAssertEqual(v.1["code"], "InvalidInstanceId")
        v = await h.call(h.ali("ExecuteMigrationOperation", method: "POST",
                               path: "/migrations/3/stages/MIGRATE_MESSAGE/operations/\(op)/execute", body: [:]))
        XCTAssertEqual(v.1["code"], "MissingOperationParam")
    }

    // MARK: Alibaba MSE

    func testMSETasks() async throws {
        let h = try EmuHarness()
        for i in 1...3 {
            let (s, b) = await h.call(h.ali("AddMigrationTask", method: "POST", query: [
                ("ClusterType", "Nacos-Ans"), ("OriginInstanceName", "src \(i)"), ("TargetInstanceId", "mse-cn-\(i)"),
            ]))
            XCTAssertEqual(s, 200)
            XCTAssertEqual(b["Data"]?["Id"], .string(String(i)))
            XCTAssertEqual(b["Success"], true)
        }
        var (s, b) = await h.call(h.ali("ListMigrationTask", method: "POST", query: [("PageNum", "2"), ("PageSize", "2")]))
        XCTAssertEqual(b["TotalCount"], 3)
        XCTAssertEqual(b["Data"]?.arrayValue?.count, 1)
        XCTAssertEqual(b["Data"]?[0]?["Id"], 3)
        XCTAssertEqual(b["HttpCode"], "200")
        (s, b) = await h.call(h.ali("ListMigrationTask", method: "POST", query: [("OriginInstanceName", "src 2")]))
        XCTAssertEqual(b["TotalCount"], 1)
        (s, b) = await h.call(h.ali("UpdateMigrationTask", method: "POST", query: [("Id", "2"), ("ProjectDesc", "moved")]))
        XCTAssertEqual(s, 200)
        XCTAssertEqual(b["Data"]?["ProjectDesc"], "moved")
        XCTAssertEqual(b["Data"]?["OriginInstanceName"], "src 2")
        (s, b) = await h.call(h.ali("UpdateMigrationTask", method: "POST", query: [("Id", "42")]))
        XCTAssertEqual(s, 404)
        XCTAssertEqual(b["Code"], "NotFound")
        (s, b) = await h.call(h.ali("AddMigrationTask", method: "POST", query: [("ClusterType", "Consul")]))
        XCTAssertEqual(s, 400)
        XCTAssertEqual(b["Code"], "InvalidParameter")
        (s, b) = await h.call(h.ali("DeleteMigrationTask", method: "POST", query: [("Id", "2")]))
        XCTAssertEqual(b["Data"], true)
        (s, b) = await h.call(h.ali("DeleteMigrationTask", method: "POST", query: [("Id", "2")]))
        XCTAssertEqual(s, 404)
        (s, b) = await h.call(h.ali("DeleteMigrationTask", method: "POST"))
        XCTAssertEqual(s, 400)
    }

    // MARK: Huawei DMS for RocketMQ

    func dmsCreate(_ h: EmuHarness, name: String, overwrite: String = "true", topics: [String] = ["t1"]) async -> (Int, JSON) {
        var table = JSONObject()
        for t in topics { table[t] = ["topic_name": .string(t), "perm": 6, "read_queue_nums": 8, "write_queue_nums": 8] }
        return await h.call(h.hw("POST", "/instances/inst-1/metadata",
                                 query: [("overwrite", overwrite), ("name", name), ("type", "rocketmq")],
                                 body: ["topic_config_table": .object(table),
                                        "subscription_group_table": ["g1": ["group_name": "g1"]]]))
    }

    func dmsList(_ h: EmuHarness, _ q: [(String, String)] = []) async -> JSON {
        await h.call(h.hw("GET", "/instances/inst-1/metadata", query: q)).1
    }

    func testDMSTasks() async throws {
        let h = try EmuHarness(["timings": ["dms_creating_s": 3, "dms_base_s": 5, "dms_per_object_s": 1]])
        var (s, b) = await dmsCreate(h, name: "task-one", topics: ["t1", "t2"])
        XCTAssertEqual(s, 200, "\(b)")
        let id = try XCTUnwrap(b["task_id"]?.stringValue)
        var l = await dmsList(h, [("id", id)])
        XCTAssertEqual(l["task"]?[0]?["status"], "creating")
        XCTAssertEqual(l["topic_config_table"]?["t2"]?["perm"], 6)
        await h.advance(3)
        l = await dmsList(h, [("id", id)])
        XCTAssertEqual(l["task"]?[0]?["status"], "starting")
        await h.advance(8)  // 5 + 3 objects
        l = await dmsList(h, [("id", id)])
        XCTAssertEqual(l["task"]?[0]?["status"], "finished")
        XCTAssertEqual(l["task"]?[0]?["type"], "rocketmq")
        // overwrite=false with an existing topic fails.
        (s, b) = await dmsCreate(h, name: "task-two", overwrite: "false", topics: ["t2"])
        let failing = try XCTUnwrap(b["task_id"]?.stringValue)
        await h.advance(20)
        l = await dmsList(h, [("id", failing)])
        XCTAssertEqual(l["task"]?[0]?["status"], "failed")
        XCTAssertNotNil(l["error_msg"]?.stringValue)
        // Paging (offset is a page number starting at 1).
        for i in 3...5 { _ = await dmsCreate(h, name: "task-\(i)x") }
        l = await dmsList(h, [("offset", "2"), ("limit", "2")])
        XCTAssertEqual(l["total"], 5)
        XCTAssertEqual(l["task"]?.arrayValue?.count, 2)
        // Validation.
        (s, b) = await dmsCreate(h, name: "1bad")
        XCTAssertEqual(s, 400)
        XCTAssertEqual(b["error_code"], "DMS.00400002")
        (s, b) = await h.call(h.hw("POST", "/instances/inst-1/metadata", query: [("name", "abcd"), ("type", "rocketmq")], body: [:]))
        XCTAssertEqual(s, 400)
        (s, b) = await h.call(h.hw("POST", "/instances/inst-1/metadata",
                                   query: [("overwrite", "true"), ("name", "rabbit1"), ("type", "rabbitToRocket")],
                                   body: ["vhosts": [["name": "v1"]], "queues": [], "exchanges": [["vhost": "v1", "name": "e1", "type": "fanout"]],
                                          "bindings": []]))
        XCTAssertEqual(s, 200, "\(b)")
        // Batch delete.
        (s, b) = await h.call(h.hw("POST", "/instances/inst-1/metadata/batch-delete", body: ["task_ids": [.string(id), "nope"]]))
        XCTAssertEqual(b["success_task_list"], [.string(id)])
        l = await dmsList(h)
        XCTAssertEqual(l["total"], 5)
    }

    func testDMSTerminalFailureFault() async throws {
        let h = try EmuHarness(["faults": [["kind": "terminal_failure", "operation": "huawei.rocketmq.CreateRocketMqMigrationTask"]]])
        let (_, b) = await dmsCreate(h, name: "task-fail")
        let id = try XCTUnwrap(b["task_id"]?.stringValue)
        await h.advance(3)
        var l = await dmsList(h, [("id", id)])
        XCTAssertEqual(l["task"]?[0]?["status"], "starting")
        await h.advance(60)
        l = await dmsList(h, [("id", id)])
        XCTAssertEqual(l["task"]?[0]?["status"], "failed")
    }

    // MARK: Huawei DCS

    func show(_ h: EmuHarness, _ id: String) async -> JSON { await h.call(h.hw("GET", "/migration-task/\(id)")).1 }

    func testDCSOnlineMigrationEndToEnd() async throws {
        let h = try EmuHarness(["timings": ["dcs_vm_create_s": 30, "dcs_full_s": 100, "dcs_stop_s": 10, "dcs_source_keys": 1000]])
        var (s, b) = await h.call(h.hw("POST", "/migration/instance",
                                       body: ["name": "online-1", "vpc_id": "vpc-1", "subnet_id": "sub-1", "security_group_id": "sg-1"]))
        XCTAssertEqual(s, 200, "\(b)")
        let id = try XCTUnwrap(b["instance_id"]?.stringValue)
        var t = await show(h, id)
        XCTAssertEqual(t["status"], "CREATING")
        // Configuring before the VM is ready is refused.
        let setBody: JSON = ["migration_method": "incremental_migration", "resume_mode": "auto", "bandwidth_limit_mb": "100",
                             "source_instance": ["addrs": "10.0.0.1:6379", "password": "src-pass"],
                             "target_instance": ["id": "dcs-2", "password": "tgt-pass"]]
        (s, b) = await h.call(h.hw("POST", "/migration/\(id)/task", body: setBody))
        XCTAssertEqual(s, 400)
        XCTAssertEqual(b["error_code"], "DCS.4134")
        XCTAssertTrue(b.objectValue?.keys.contains("error_ext_msg") ?? false)
        await h.advance(30)
        t = await show(h, id)
        XCTAssertEqual(t["status"], "RUNNING")
        (s, b) = await h.call(h.hw("POST", "/migration/\(id)/task", body: setBody))
        XCTAssertEqual(s, 200, "\(b)")
        XCTAssertEqual(b["status"], "FULLMIGRATING")
        await h.advance(50)
        var stats = await h.call(h.hw("GET", "/migration-task/\(id)/stats")).1
        XCTAssertEqual(stats["full_migration_progress"], "50")
        XCTAssertEqual(stats["target_dbsize"], "500")
        XCTAssertEqual(stats["is_migrating"], true)
        let adminView = await h.admin("GET", "/_ferry/resources/huawei.dcs.task/\(id)")
        XCTAssertEqual(adminView["transferred_keys"], 500)
        XCTAssertGreaterThan(adminView["transferred_bytes"]?.intValue ?? 0, 0)
        await h.advance(50)
        t = await show(h, id)
        XCTAssertEqual(t["status"], "INCRMIGRATING")
        XCTAssertNil(t["source_instance"]?["password"], "passwords are never echoed")
        await h.advance(10)
        stats = await h.call(h.hw("GET", "/migration-task/\(id)/stats")).1
        XCTAssertEqual(stats["full_migration_progress"], "100")
        XCTAssertNotEqual(stats["offset"], "0")
        // Stop: TERMINATING then TERMINATED.
        (s, b) = await h.call(h.hw("POST", "/migration-task/\(id)/stop"))
        XCTAssertEqual(b["status"], "TERMINATING")
        (s, b) = await h.call(h.hw("POST", "/migration-task/\(id)/stop"))
        XCTAssertEqual(s, 400)
        await h.advance(10)
        t = await show(h, id)
        XCTAssertEqual(t["status"], "TERMINATED")
        // Restart, then a terminal failure.
        _ = await h.admin("POST", "/_ferry/faults", ["kind": "terminal_failure", "operation": "huawei.dcs.BatchRestartOnlineMigrationTasks",
                                                     "count": 1, "after_seconds": 20])
        (s, b) = await h.call(h.hw("POST", "/migration-tasks/batch-restart", body: ["migration_tasks": [.string(id), "missing"]]))
        XCTAssertEqual(b["migration_tasks"]?[0]?["result"], "success")
        XCTAssertEqual(b["migration_tasks"]?[1]?["result"], "failed")
        XCTAssertEqual(b["migration_tasks"]?[1]?["error_code"], "DCS.4133")
        t = await show(h, id)
        XCTAssertEqual(t["status"], "FULLMIGRATING")
        await h.advance(20)
        t = await show(h, id)
        XCTAssertEqual(t["status"], "MIGRATION_FAILED")
        let list = await h.call(h.hw("GET", "/migration-tasks", query: [("name", "online")])).1
        XCTAssertEqual(list["count"], 1)
        XCTAssertFalse((list["migration_tasks"]?[0]?["error_message"]?.stringValue ?? "").isEmpty)
        // Logs advance with time and filter by level.
        let logs = await h.call(h.hw("GET", "/migration-task/\(id)/logs", query: [("offset", "0"), ("limit", "100")])).1
        XCTAssertGreaterThanOrEqual(logs["log_num"]?.intValue ?? 0, 7)
        let errors = await h.call(h.hw("GET", "/migration-task/\(id)/logs", query: [("log_level", "ERROR")])).1
        XCTAssertEqual(errors["log_num"], 1)
        // Update, delete.
        (s, b) = await h.call(h.hw("PUT", "/migration-task/\(id)", body: ["resume_mode": "manual"]))
        XCTAssertEqual(s, 200)
        (s, b) = await h.call(h.hw("PUT", "/migration-task/\(id)", body: ["resume_mode": "sometimes"]))
        XCTAssertEqual(s, 400)
        XCTAssertEqual(b["error_code"], "DCS.4001")
        (s, b) = await h.call(h.hw("DELETE", "/migration-tasks/delete", body: ["task_id_list": [.string(id)]]))
        XCTAssertEqual(b["task_id_list"], [.string(id)])
        (s, b) = await h.call(h.hw("GET", "/migration-task/\(id)"))
        XCTAssertEqual(s, 404)
        // The audit log redacted the Redis passwords.
        let audit = await h.audit()
        let set = try XCTUnwrap(audit.first { $0["operation"] == "huawei.dcs.SetOnlineMigrationTask" })
        XCTAssertEqual(set["params"]?["body"]?["source_instance"]?["password"], "***")
        XCTAssertFalse(JSON.array(audit).serialized().contains("src-pass"))
    }

    func testDCSBackupImportAndBatchStop() async throws {
        let h = try EmuHarness(["timings": ["dcs_prepare_s": 10, "dcs_full_min_s": 30, "dcs_import_bytes_per_s": 1000]])
        var (s, b) = await h.call(h.hw("POST", "/migration-task", body: [
            "task_name": "import-1", "migration_type": "backupfile_import", "migration_method": "full_amount_migration",
            "backup_files": ["file_source": "self_build_obs", "bucket_name": "bkt", "files": [["file_name": "dump.rdb", "size": "60000"]]],
            "target_instance": ["id": "dcs-1"],
        ]))
        XCTAssertEqual(s, 200, "\(b)")
        let id = try XCTUnwrap(b["id"]?.stringValue)
        XCTAssertEqual(b["status"], "MIGRATING")
        await h.advance(10)
        var t = await show(h, id)
        XCTAssertEqual(t["status"], "FULLMIGRATING")
        await h.advance(60)  // 60000 bytes at 1000 B/s
        t = await show(h, id)
        XCTAssertEqual(t["status"], "SUCCESS")
        XCTAssertEqual(t["backup_files"]?["files"]?[0]?["file_name"], "dump.rdb")
        // Validation in DCS shape.
        (s, b) = await h.call(h.hw("POST", "/migration-task", body: ["task_name": "import-2", "migration_type": "backupfile_import",
                                                                  "migration_method": "full_amount_migration", "target_instance": ["id": "x"]]))
        XCTAssertEqual(s, 400)
        XCTAssertEqual(b["error_code"], "DCS.4001")
        XCTAssertEqual(b["error_ext_msg"], .null)
        (s, b) = await h.call(h.hw("POST", "/migration-task", body: ["task_name": "online-2", "migration_type": "online_migration",
                                                                  "migration_method": "full_amount_migration",
                                                                  "source_instance": ["addrs": "10.0.0.5:6379"], "target_instance": ["id": "x"]]))
        let online = try XCTUnwrap(b["id"]?.stringValue)
        // Batch stop: one stops, a finished task and an unknown id report failures.
        (s, b) = await h.call(h.hw("POST", "/migration-task/batch-stop", body: ["migration_tasks": [.string(online), .string(id), "zzz"]]))
        XCTAssertEqual(s, 200)
        XCTAssertEqual(b["migration_tasks"]?[0]?["result"], "success")
        XCTAssertEqual(b["migration_tasks"]?[1]?["result"], "failed")
        XCTAssertEqual(b["migration_tasks"]?[2]?["error_code"], "DCS.4133")
        t = await show(h, online)
        XCTAssertEqual(t["status"], "TERMINATING")
        (s, _) = await h.call(h.hw("POST", "/migration-task/\(online)/sync-stop"))
        XCTAssertEqual(s, 200)
        t = await show(h, online)
        XCTAssertEqual(t["status"], "TERMINATED")
        // A running task cannot be deleted; finished ones can.
        (s, b) = await h.call(h.hw("DELETE", "/migration-tasks/delete", body: ["task_id_list": [.string(id), .string(online)]]))
        XCTAssertEqual(b["task_id_list"]?.arrayValue?.count, 2)
    }

    func testDCSAdminSeedAndForceFail() async throws {
        let h = try EmuHarness()
        let seeded = await h.admin("POST", "/_ferry/resources/huawei.dcs.task", ["status": "INCRMIGRATING", "task_name": "seeded-1"])
        let id = try XCTUnwrap(seeded["task_id"]?.stringValue)
        var t = await show(h, id)
        XCTAssertEqual(t["status"], "INCRMIGRATING")
        let failed = await h.admin("POST", "/_ferry/resources/huawei.dcs.task/\(id)/fail", ["reason": "disk full"])
        XCTAssertEqual(failed["status"], "MIGRATION_FAILED")
        t = await show(h, id)
        XCTAssertEqual(t["status"], "MIGRATION_FAILED")
    }
}
