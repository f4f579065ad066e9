"""Drives all 24 operations of the Ferry emulator through Ferry's own client (issue 5: "Ferry's own clients pass
the same scenarios"), mirroring test_emulator_sdk.py scenario by scenario.

Each call goes Python binding -> C ABI (ferry_call) -> Swift ProviderClient, which signs the request; the emulator
(`ferry-cli emulator --port 0 --time-scale 0`, frozen clock advanced through the admin API) verifies the signature.
Parameters use Ferry's wire names (docs/operations.md); responses are the provider's JSON bodies.
"""
import json
import os
import re
import sys
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from capture_server import CaptureServer  # noqa: E402
from emulator_helpers import EMULATOR_DEFAULT_KEY_ID, EMULATOR_DEFAULT_KEY_SECRET, EmulatorProcess  # noqa: E402

for _k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
    os.environ.pop(_k, None)

import ferry  # noqa: E402

# The project the SDK tests use; the emulator reports it as huawei_project_id.
PROJECT = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def emulator():
    emu = EmulatorProcess(extra_args=["--time-scale", "0"])
    emu.start()
    yield emu
    assert emu.stop() == 0


def engine_config(emu, key_id=EMULATOR_DEFAULT_KEY_ID, secret=EMULATOR_DEFAULT_KEY_SECRET):
    return {
        "endpoints": emu.info["endpoints"],
        "credentials": {
            "alibaba": {"access_key_id": key_id, "access_key_secret": secret},
            "huawei": {"ak": key_id, "sk": secret, "project_id": PROJECT},
        },
        "regions": {"alibaba": "cn-hangzhou", "huawei": "cn-north-4"},
        # Short enough that a lost response cannot stall the suite.
        "http": {"connect_timeout_ms": 2000, "read_timeout_ms": 5000},
    }


@pytest.fixture(scope="module")
def engine(emulator):
    with ferry.Engine(engine_config(emulator)) as eng:
        yield eng


def advance(emu, seconds):
    emu.admin("POST", "/_ferry/clock/advance", {"seconds": seconds})


def assert_provider_details(err, provider_code, http_status):
    d = err.details
    assert d["provider_code"] == provider_code, d
    assert d["http_status"] == http_status, d
    assert isinstance(d["request_id"], str) and d["request_id"], d


def test_ready_line_matches_engine_config(emulator):
    info = emulator.info
    assert info["huawei_project_id"] == PROJECT
    assert set(info["endpoints"]) == {"alibaba.rocketmq", "alibaba.mse", "huawei.rocketmq", "huawei.dcs"}
    assert len(info["operations"]) == 24
    # Ferry's catalog knows exactly the operations the emulator serves.
    assert sorted(op["name"] for op in ferry.ops()) == sorted(info["operations"])
    # ...and this file drives every one of them through engine.call.
    with open(__file__) as f:
        source = f.read()
    called = set(re.findall(r'call\(\s*"([a-z]+\.[a-z]+\.[A-Za-z]+)"', source))
    assert called == set(info["operations"]), set(info["operations"]) ^ called


def test_alibaba_rocketmq_operations(emulator, engine):
    seeded = emulator.admin("POST", "/_ferry/resources/alibaba.rocketmq.migration",
                            {"name": "ferry-mig", "topics": ["orders"], "groups": ["GID-a"],
                             "start_stage": "MIGRATE_MESSAGE"})
    mig = str(seeded["migrationId"])

    body = engine.call("alibaba.rocketmq.ListMigrations", {
        "migrationType": "INSTANCE_MIGRATION", "pageNumber": 1, "pageSize": 10, "filter": "ferry-mig"})
    assert body["success"] is True and body["requestId"]
    item = body["data"]["list"][0]
    assert str(item["migrationId"]) == mig and item["migrationStatus"] == "MIGRATING"
    assert item["currentStage"]["stageType"] == "MIGRATE_MESSAGE" and item["currentStage"]["stageStatus"] == "DOING"
    assert item["migrationSource"]["sourceType"] == "EXTERNAL_INSTANCE"
    assert item["createTime"] and item["userId"]

    ops = engine.call("alibaba.rocketmq.ListMigrationOperations", {
        "migrationId": mig, "stageType": "MIGRATE_MESSAGE", "operationType": "TOPIC", "pageNumber": 1,
        "pageSize": 20, "businessStatus": ["MIGRATE_WAIT"]})
    assert ops["data"]["totalCount"] == 1
    op = ops["data"]["list"][0]
    assert op["operationKey"] == "orders" and op["businessStatus"] == "MIGRATE_WAIT"
    assert op["stageType"] == "MIGRATE_MESSAGE"
    op_id = str(op["operationId"])

    for target in ("DOUBLE_READ", "SWITCH_WRITE", "MIGRATE_FINISH"):
        ex = engine.call("alibaba.rocketmq.ExecuteMigrationOperation", {
            "migrationId": mig, "stageType": "MIGRATE_MESSAGE", "operationId": op_id,
            "operationParam": {"paramData": json.dumps({"action": "MIGRATE_FORWARD", "targetStage": target})}})
        assert ex["success"] is True
        assert ex["data"]["operationStatus"] == "RUNNING" and str(ex["data"]["operationId"]) == op_id
        advance(emulator, 10)

    done = engine.call("alibaba.rocketmq.ListMigrationOperations", {
        "migrationId": mig, "stageType": "MIGRATE_MESSAGE", "operationType": "TOPIC", "pageNumber": 1,
        "pageSize": 20})
    assert done["data"]["list"][0]["businessStatus"] == "MIGRATE_FINISH"

    fin = engine.call("alibaba.rocketmq.FinishMigrationStage", {"migrationId": mig, "stageType": "MIGRATE_MESSAGE"})
    assert fin["success"] is True and fin["data"] is True and fin["requestId"]


def test_alibaba_rocketmq_errors(emulator, engine):
    with pytest.raises(ferry.NotFoundError) as e:
        engine.call("alibaba.rocketmq.FinishMigrationStage", {"migrationId": "424242", "stageType": "MIGRATE_MESSAGE"})
    assert_provider_details(e.value, "MigrationNotFound", 404)
    assert e.value.retryable is False

    with ferry.Engine(engine_config(emulator, secret="not-the-secret")) as bad:
        with pytest.raises(ferry.AuthFailedError) as e:
            bad.call("alibaba.rocketmq.ListMigrations",
                     {"migrationType": "INSTANCE_MIGRATION", "pageNumber": 1, "pageSize": 10})
    assert e.value.code == "auth_failed"
    assert_provider_details(e.value, "SignatureDoesNotMatch", 400)
    assert "not-the-secret" not in json.dumps(e.value.to_dict())


def test_mse_operations(engine):
    add = engine.call("alibaba.mse.AddMigrationTask", {
        "ClusterType": "Nacos-Ans", "OriginInstanceName": "src nacos ferry", "OriginInstanceAddress": "192.168.1.2:8848",
        "TargetInstanceId": "mse-cn-123", "ProjectDesc": "ferry test", "AcceptLanguage": "en"})
    assert add["Success"] is True and add["RequestId"]
    task_id = add["Data"]["Id"]
    assert isinstance(task_id, str) and add["Data"]["OriginInstanceName"] == "src nacos ferry"

    lst = engine.call("alibaba.mse.ListMigrationTask", {"PageNum": 1, "PageSize": 10,
                                                        "OriginInstanceName": "src nacos ferry"})
    assert lst["Success"] is True and lst["TotalCount"] == 1 and str(lst["HttpCode"]) == "200"
    assert lst["Data"][0]["Id"] == int(task_id) and lst["Data"][0]["GmtCreate"]

    upd = engine.call("alibaba.mse.UpdateMigrationTask", {"Id": task_id, "ProjectDesc": "updated",
                                                          "ClusterType": "Nacos-Ans"})
    assert upd["Success"] is True and upd["Data"]["ProjectDesc"] == "updated" and upd["Data"]["Id"] == task_id

    dele = engine.call("alibaba.mse.DeleteMigrationTask", {"Id": task_id})
    assert dele["Success"] is True and dele["Data"] is True

    with pytest.raises(ferry.NotFoundError) as e:
        engine.call("alibaba.mse.DeleteMigrationTask", {"Id": task_id})
    assert_provider_details(e.value, "NotFound", 404)


def test_huawei_rocketmq_operations(emulator, engine):
    rocket_body = {
        "topic_config_table": {"t1": {"topic_name": "t1", "perm": 6, "read_queue_nums": 8, "write_queue_nums": 8}},
        "subscription_group_table": {"g1": {"group_name": "g1", "consume_enable": True}},
    }
    created = engine.call("huawei.rocketmq.CreateRocketMqMigrationTask", {
        "instance_id": "inst-f1", "overwrite": "true", "name": "task-ferry1", "type": "rocketmq", **rocket_body})
    assert created["task_id"]
    rabbit = engine.call("huawei.rocketmq.CreateRocketMqMigrationTask", {
        "instance_id": "inst-f1", "overwrite": "false", "name": "task-ferry2", "type": "rabbitToRocket",
        "vhosts": [{"name": "v1"}],
        "queues": [{"vhost": "v1", "name": "q1", "durable": True}],
        "exchanges": [{"vhost": "v1", "name": "e1", "type": "direct", "durable": True}],
        "bindings": [{"vhost": "v1", "source": "e1", "destination": "q1", "destination_type": "queue",
                      "routing_key": "k"}]})
    assert rabbit["task_id"]

    listed = engine.call("huawei.rocketmq.ListRocketMqMigrationTask", {"instance_id": "inst-f1", "offset": 1,
                                                                       "limit": 10})
    assert listed["total"] == 2 and {t["name"] for t in listed["task"]} == {"task-ferry1", "task-ferry2"}
    assert all(t["status"] == "creating" and t["start_date"] and t["id"] for t in listed["task"])
    advance(emulator, 60)
    one = engine.call("huawei.rocketmq.ListRocketMqMigrationTask", {
        "instance_id": "inst-f1", "id": rabbit["task_id"], "type": "queue", "name": "v1-e1"})
    assert one["total"] == 1 and one["task"][0]["status"] == "finished" and one["task"][0]["type"] == "rabbitToRocket"
    assert one["queues"][0]["name"] == "q1"

    deleted = engine.call("huawei.rocketmq.BatchDeleteRocketMqMigrationTask", {
        "instance_id": "inst-f1", "task_ids": [created["task_id"], rabbit["task_id"]]})
    assert sorted(deleted["success_task_list"]) == sorted([created["task_id"], rabbit["task_id"]])

    # Ferry validates enums before sending, so a bad `overwrite` never reaches the provider.
    before = emulator.admin("GET", "/_ferry/audit")["last_seq"]
    with pytest.raises(ferry.InvalidArgumentError) as e:
        engine.call("huawei.rocketmq.CreateRocketMqMigrationTask", {
            "instance_id": "inst-f1", "overwrite": "maybe", "name": "task-ferry3", "type": "rocketmq", **rocket_body})
    assert e.value.field == "params.overwrite" and e.value.details["allowed"] == ["true", "false"]
    assert emulator.admin("GET", "/_ferry/audit")["last_seq"] == before


def test_huawei_rocketmq_provider_validation_error(engine):
    # A request the catalog accepts but the provider rejects surfaces the provider's code and request id.
    with pytest.raises(ferry.FerryError) as e:
        engine.call("huawei.rocketmq.CreateRocketMqMigrationTask", {
            "instance_id": "inst-f2", "overwrite": "true", "name": "x", "type": "rocketmq",
            "topic_config_table": {}, "subscription_group_table": {}})
    assert isinstance(e.value, ferry.InvalidArgumentError) and e.value.retryable is False
    assert_provider_details(e.value, "DMS.00400002", 400)
    assert "name must be" in e.value.details["provider_message"]


def test_huawei_dcs_operations(emulator, engine):
    # Online migration: create the VM, wait for RUNNING, configure.
    online = engine.call("huawei.dcs.CreateOnlineMigrationTask", {
        "name": "online-ferry", "description": "d", "vpc_id": "vpc-1", "subnet_id": "sub-1",
        "security_group_id": "sg-1"})
    task_id = online["instance_id"]
    assert task_id
    assert engine.call("huawei.dcs.ShowMigrationTask", {"task_id": task_id})["status"] == "CREATING"
    advance(emulator, 60)
    shown = engine.call("huawei.dcs.ShowMigrationTask", {"task_id": task_id})
    assert shown["status"] == "RUNNING" and shown["ecs_tenant_private_ip"] and shown["created_at"]
    set_resp = engine.call("huawei.dcs.SetOnlineMigrationTask", {
        "task_id": task_id, "migration_method": "incremental_migration", "resume_mode": "auto",
        "bandwidth_limit_mb": "100",
        "source_instance": {"addrs": "10.0.0.1:6379", "password": "src-pw"},
        "target_instance": {"id": "dcs-target", "password": "tgt-pw"}})
    assert set_resp["id"] == task_id and set_resp["status"] == "FULLMIGRATING" and set_resp["name"] == "online-ferry"
    assert "src-pw" not in json.dumps(set_resp) and "tgt-pw" not in json.dumps(set_resp)
    advance(emulator, 60)
    stats = engine.call("huawei.dcs.ShowMigrationTaskStats", {"task_id": task_id})
    assert stats["is_migrating"] is True and 0 < int(stats["full_migration_progress"]) < 100
    assert int(stats["target_dbsize"]) > 0 and stats["source_dbsize"]
    advance(emulator, 120)
    shown = engine.call("huawei.dcs.ShowMigrationTask", {"task_id": task_id})
    assert shown["status"] == "INCRMIGRATING" and shown["source_instance"]["addrs"] == "10.0.0.1:6379"
    # The provider itself redacts passwords from ShowMigrationTask (the SDK sees none).
    assert shown["source_instance"].get("password") in (None, "***")
    assert "src-pw" not in json.dumps(shown)

    logs = engine.call("huawei.dcs.ListMigrationTaskLogs", {"task_id": task_id, "offset": 0, "limit": 50})
    assert logs["log_num"] >= 4 and logs["migration_logs"][0]["created_at"] and logs["migration_logs"][0]["message"]

    upd = engine.call("huawei.dcs.UpdateMigrationTask", {"task_id": task_id, "resume_mode": "manual"})
    assert "manual" in json.dumps(upd)

    stopped = engine.call("huawei.dcs.StopMigrationTask", {"task_id": task_id})
    assert stopped["status"] == "TERMINATING" and stopped["task_id"] == task_id
    advance(emulator, 30)
    assert engine.call("huawei.dcs.ShowMigrationTask", {"task_id": task_id})["status"] == "TERMINATED"

    restarted = engine.call("huawei.dcs.BatchRestartOnlineMigrationTasks", {"migration_tasks": [task_id]})
    assert restarted["migration_tasks"][0]["task_id"] == task_id
    assert restarted["migration_tasks"][0]["result"] == "success"

    engine.call("huawei.dcs.StopMigrationTaskSync", {"task_id": task_id})
    assert engine.call("huawei.dcs.ShowMigrationTask", {"task_id": task_id})["status"] == "TERMINATED"

    # Backup import via CreateMigrationTask.
    imp = engine.call("huawei.dcs.CreateMigrationTask", {
        "task_name": "import-ferry", "migration_type": "backupfile_import",
        "migration_method": "full_amount_migration",
        "backup_files": {"file_source": "self_build_obs", "bucket_name": "bkt",
                         "files": [{"file_name": "dump.rdb", "size": "1024"}]},
        "target_instance": {"id": "dcs-target", "password": "pw"}})
    assert imp["id"] and imp["name"] == "import-ferry" and imp["status"] == "MIGRATING"
    batch = engine.call("huawei.dcs.BatchStopMigrationTasks", {"migration_tasks": [imp["id"], "no-such-task"]})
    assert [r["result"] for r in batch["migration_tasks"]] == ["success", "failed"]
    assert batch["migration_tasks"][1]["error_code"] == "DCS.4133"
    advance(emulator, 30)

    listed = engine.call("huawei.dcs.ListMigrationTask", {"offset": 0, "limit": 10})
    names = {t["task_name"]: t for t in listed["migration_tasks"]}
    assert names["import-ferry"]["status"] == "TERMINATED" and names["import-ferry"]["data_source"] == "bkt"
    assert names["online-ferry"]["migration_type"] == "online_migration"
    by_name = engine.call("huawei.dcs.ListMigrationTask", {"name": "import-ferry"})
    assert [t["task_name"] for t in by_name["migration_tasks"]] == ["import-ferry"]

    deleted = engine.call("huawei.dcs.DeleteMigrationTask", {"task_id_list": [task_id, imp["id"]]})
    assert sorted(deleted["task_id_list"]) == sorted([task_id, imp["id"]])

    with pytest.raises(ferry.NotFoundError) as e:
        engine.call("huawei.dcs.ShowMigrationTask", {"task_id": task_id})
    assert_provider_details(e.value, "DCS.4133", 404)


def test_redis_passwords_masked_unless_revealed(emulator, engine):
    online = engine.call("huawei.dcs.CreateOnlineMigrationTask", {
        "name": "mask-ferry", "vpc_id": "vpc-1", "subnet_id": "sub-1", "security_group_id": "sg-1"})
    task_id = online["instance_id"]
    advance(emulator, 60)
    engine.call("huawei.dcs.SetOnlineMigrationTask", {
        "task_id": task_id, "migration_method": "full_amount_migration", "resume_mode": "auto",
        "source_instance": {"addrs": "10.0.0.9:6379", "password": "mask-src-pw"},
        "target_instance": {"id": "dcs-target", "password": "mask-tgt-pw"}})
    # Like the provider, the emulator never echoes the passwords it was given, revealed or not.
    for reveal in (False, True):
        shown = engine.call("huawei.dcs.ShowMigrationTask", {"task_id": task_id}, reveal_secrets=reveal)
        assert shown["source_instance"]["addrs"] == "10.0.0.9:6379" and "mask-src-pw" not in json.dumps(shown)
    stopped = engine.call("huawei.dcs.StopMigrationTask", {"task_id": task_id})
    assert stopped["status"] == "TERMINATING" and "mask-tgt-pw" not in json.dumps(stopped)
    engine.call("huawei.dcs.DeleteMigrationTask", {"task_id_list": [task_id]})

    # A DCS endpoint that does return the passwords (the API documents the fields): Ferry masks them itself.
    detail = {"task_id": "t-mask", "task_name": "mask", "status": "INCRMIGRATING",
              "source_instance": {"addrs": "10.0.0.9:6379", "password": "echoed-src-pw"},
              "target_instance": {"id": "dcs-target", "password": "echoed-tgt-pw"}}
    server = CaptureServer(lambda req: (200, [("Content-Type", "application/json"),
                                              ("X-Request-Id", "0123abcd")], json.dumps(detail).encode()))
    try:
        config = engine_config(emulator)
        config["endpoints"] = dict(config["endpoints"], **{"huawei.dcs": f"http://127.0.0.1:{server.port}"})
        with ferry.Engine(config) as echoing:
            for op in ("huawei.dcs.ShowMigrationTask", "huawei.dcs.StopMigrationTask"):
                masked = echoing.call(op, {"task_id": "t-mask"})
                assert masked["source_instance"] == {"addrs": "10.0.0.9:6379", "password": "***"}
                assert masked["target_instance"] == {"id": "dcs-target", "password": "***"}
                assert "echoed-" not in json.dumps(masked)
                revealed = echoing.call(op, {"task_id": "t-mask"}, reveal_secrets=True)
                assert revealed["source_instance"]["password"] == "echoed-src-pw"
                assert revealed["target_instance"]["password"] == "echoed-tgt-pw"
    finally:
        server.stop()
    # Ferry signed those requests like any other (the stand-in does not check, but they must carry a signature).
    assert all((r.header("Authorization") or "").startswith("SDK-HMAC-SHA256") for r in server.requests)


def test_huawei_wrong_secret_rejected(emulator):
    with ferry.Engine(engine_config(emulator, secret="wrong-secret")) as bad:
        with pytest.raises(ferry.AuthFailedError) as e:
            bad.call("huawei.dcs.ListMigrationTask", {"offset": 0, "limit": 10})
    err = e.value
    assert err.code == "auth_failed" and err.retryable is False
    assert_provider_details(err, "APIGW.0301", 401)
    assert "wrong-secret" not in json.dumps(err.to_dict()) and "wrong-secret" not in str(err)


def test_tampered_requests_rejected(emulator):
    """Ferry-signed requests altered in transit (by a forwarding proxy) fail the emulator's signature check."""
    target = emulator.base_url

    def tampering_forward(req):
        body = req.body.replace(b"tamper-me", b"tampered!")
        path = req.target.replace("pageSize=10", "pageSize=11")
        headers = {k: v for k, v in req.headers if k.lower() not in ("content-length", "connection")}
        fwd = urllib.request.Request(target + path, data=body if req.method != "GET" else None,
                                     method=req.method, headers=headers)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        def relay(resp):
            hop = ("content-length", "connection", "transfer-encoding")
            return resp.status, [(k, v) for k, v in resp.headers.items() if k.lower() not in hop], resp.read()
        try:
            with opener.open(fwd, timeout=10) as r:
                return relay(r)
        except urllib.error.HTTPError as e:
            return relay(e)

    proxy = CaptureServer(tampering_forward)
    try:
        config = engine_config(emulator)
        config["endpoints"] = {k: f"http://127.0.0.1:{proxy.port}" for k in config["endpoints"]}
        with ferry.Engine(config) as eng:
            # Untouched requests pass through the proxy fine, so only the tampering is rejected.
            assert "count" in eng.call("huawei.dcs.ListMigrationTask", {"offset": 0, "limit": 5})
            with pytest.raises(ferry.AuthFailedError) as e:
                eng.call("huawei.dcs.CreateOnlineMigrationTask", {
                    "name": "tamper-me", "vpc_id": "v", "subnet_id": "s", "security_group_id": "g"})
            assert_provider_details(e.value, "APIGW.0301", 401)
            with pytest.raises(ferry.AuthFailedError) as e:
                eng.call("alibaba.rocketmq.ListMigrations",
                         {"migrationType": "INSTANCE_MIGRATION", "pageNumber": 1, "pageSize": 10})
            assert e.value.details["provider_code"] == "SignatureDoesNotMatch"
    finally:
        proxy.stop()
    assert any(b"tamper-me" in r.body for r in proxy.requests)  # the proxy saw (and altered) Ferry's request
    # Nothing was created by the rejected calls.
    names = [t["task_name"] for t in emulator.admin("GET", "/_ferry/resources/huawei.dcs.task")["items"]]
    assert "tamper-me" not in names and "tampered!" not in names


def test_faults_through_ferry(emulator, engine):
    emulator.admin("POST", "/_ferry/faults", {"faults": [
        {"kind": "throttle", "operation": "alibaba.mse.ListMigrationTask", "count": 1, "retry_after_ms": 5},
        {"kind": "server_error", "operation": "huawei.dcs.ListMigrationTask", "status": 503, "count": 1},
        {"kind": "response_lost", "operation": "huawei.dcs.CreateOnlineMigrationTask", "count": 1},
    ]})
    with pytest.raises(ferry.ThrottledError) as e:
        engine.call("alibaba.mse.ListMigrationTask", {"PageNum": 1, "PageSize": 10})
    assert e.value.code == "throttled" and e.value.retryable is True
    assert e.value.details["provider_code"] == "Throttling.User"
    assert engine.call("alibaba.mse.ListMigrationTask", {"PageNum": 1, "PageSize": 10})["Success"] is True

    with pytest.raises(ferry.UnavailableError) as e:
        engine.call("huawei.dcs.ListMigrationTask", {"offset": 0, "limit": 10})
    assert e.value.code == "unavailable" and e.value.retryable is True
    assert e.value.details["http_status"] == 503
    assert "count" in engine.call("huawei.dcs.ListMigrationTask", {"offset": 0, "limit": 10})

    before = emulator.admin("GET", "/_ferry/audit")["last_seq"]
    with pytest.raises(ferry.FerryError) as e:
        engine.call("huawei.dcs.CreateOnlineMigrationTask", {
            "name": "lost-resp-ferry", "vpc_id": "v", "subnet_id": "s", "security_group_id": "g"})
    assert isinstance(e.value, (ferry.UnavailableError, ferry.TimeoutError)), repr(e.value)
    assert e.value.details["sent"] is True  # the request may have been applied: reconcile, don't resend
    assert e.value.details["reason"] in ("connection_reset", "read_timeout") and e.value.retryable is True
    entries = emulator.admin("GET", f"/_ferry/audit?since={before}")["entries"]
    assert entries[-1]["operation"] == "huawei.dcs.CreateOnlineMigrationTask"
    assert entries[-1]["outcome"] == "response_lost"
    # ferry_call sent it once: no blind resend of a non-idempotent create.
    assert [x["operation"] for x in entries].count("huawei.dcs.CreateOnlineMigrationTask") == 1
    names = [t["task_name"] for t in emulator.admin("GET", "/_ferry/resources/huawei.dcs.task")["items"]]
    assert "lost-resp-ferry" in names
    # Ferry's own lookup finds the task the lost response created.
    found = engine.call("huawei.dcs.ListMigrationTask", {"name": "lost-resp-ferry"})
    assert [t["task_name"] for t in found["migration_tasks"]] == ["lost-resp-ferry"]


def test_cli_options_faults_file_keys_and_persistence(tmp_path):
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({"faults": [
        {"kind": "throttle", "operation": "huawei.dcs.ListMigrationTask", "count": 1}]}))
    state = tmp_path / "state.json"
    args = ["--time-scale", "0", "--faults", str(faults), "--persist", str(state), "--access-key", "AKCLI:sk-cli-secret"]
    with EmulatorProcess(extra_args=args) as emu:
        assert emu.info["access_keys"] == ["AKCLI"]
        with ferry.Engine(engine_config(emu, key_id="AKCLI", secret="sk-cli-secret")) as eng:
            with pytest.raises(ferry.ThrottledError) as e:
                eng.call("huawei.dcs.ListMigrationTask", {"offset": 0, "limit": 10})
            assert e.value.details["http_status"] == 429 and e.value.retryable is True
            assert eng.call("huawei.dcs.ListMigrationTask", {"offset": 0, "limit": 10})["count"] == 0
            created = eng.call("huawei.dcs.CreateOnlineMigrationTask", {
                "name": "survivor", "vpc_id": "v", "subnet_id": "s", "security_group_id": "g"})
        # The default key is not accepted once keys are configured.
        with ferry.Engine(engine_config(emu)) as default:
            with pytest.raises(ferry.AuthFailedError) as e:
                default.call("huawei.dcs.ListMigrationTask")
            assert e.value.details["http_status"] == 401
    assert state.exists()
    with EmulatorProcess(extra_args=["--time-scale", "0", "--persist", str(state)]) as emu2:
        task = emu2.admin("GET", f"/_ferry/resources/huawei.dcs.task/{created['instance_id']}")
        assert task["task_name"] == "survivor"
        audit = emu2.admin("GET", "/_ferry/audit")["entries"]
        assert [e["operation"] for e in audit] == ["huawei.dcs.CreateOnlineMigrationTask"]
        assert "sk-cli-secret" not in json.dumps(emu2.admin("GET", "/_ferry/state"))
