"""Drives all 24 operations of the Ferry emulator through the official Python SDKs.

The emulator runs as `ferry-cli emulator --port 0 --time-scale 0` (frozen clock; the tests advance it through the
admin API). Every call is signed by the SDK and verified by the emulator.
"""
import json
import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from emulator_helpers import EMULATOR_DEFAULT_KEY_ID, EMULATOR_DEFAULT_KEY_SECRET, EmulatorProcess  # noqa: E402

os.environ["HOME"] = tempfile.mkdtemp()  # huaweicloudsdkcore writes $HOME/.huaweicloud/application_id
for _k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
    os.environ.pop(_k, None)

import requests  # noqa: E402
from alibabacloud_mse20190531 import models as mse_models  # noqa: E402
from alibabacloud_mse20190531.client import Client as MseClient  # noqa: E402
from alibabacloud_rocketmq20220801 import models as rmq_models  # noqa: E402
from alibabacloud_rocketmq20220801.client import Client as RmqClient  # noqa: E402
from alibabacloud_tea_openapi.utils_models import Config  # noqa: E402
from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: E402
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException  # noqa: E402
from huaweicloudsdkdcs.v2 import DcsClient  # noqa: E402
from huaweicloudsdkdcs.v2 import model as dcs  # noqa: E402
from huaweicloudsdkrocketmq.v2 import RocketMQClient  # noqa: E402
from huaweicloudsdkrocketmq.v2 import model as dms  # noqa: E402

PROJECT = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def emulator():
    emu = EmulatorProcess(extra_args=["--time-scale", "0"])
    emu.start()
    yield emu
    assert emu.stop() == 0


def emulator_ali_config(emu, secret=EMULATOR_DEFAULT_KEY_SECRET, key_id=EMULATOR_DEFAULT_KEY_ID):
    return Config(access_key_id=key_id, access_key_secret=secret, endpoint=emu.host_port, protocol="http",
                  region_id="cn-hangzhou")


def emulator_hw_client(builder, emu, secret=EMULATOR_DEFAULT_KEY_SECRET):
    return (builder.new_builder()
            .with_credentials(BasicCredentials(EMULATOR_DEFAULT_KEY_ID, secret, PROJECT))
            .with_endpoints([emu.base_url])
            .build())


def advance(emu, seconds):
    emu.admin("POST", "/_ferry/clock/advance", {"seconds": seconds})


def test_ready_line(emulator):
    info = emulator.info
    assert info["base_url"].startswith("http://127.0.0.1:")
    assert info["port"] > 0
    assert set(info["endpoints"]) == {"alibaba.rocketmq", "alibaba.mse", "huawei.rocketmq", "huawei.dcs"}
    assert info["access_keys"] == [EMULATOR_DEFAULT_KEY_ID]
    assert EMULATOR_DEFAULT_KEY_SECRET not in json.dumps(info)
    assert len(info["operations"]) == 24


def test_alibaba_rocketmq_operations(emulator):
    seeded = emulator.admin("POST", "/_ferry/resources/alibaba.rocketmq.migration",
                            {"name": "sdk-mig", "topics": ["orders"], "groups": ["GID-a"], "start_stage": "MIGRATE_MESSAGE"})
    mig = str(seeded["migrationId"])
    client = RmqClient(emulator_ali_config(emulator))

    resp = client.list_migrations(rmq_models.ListMigrationsRequest(
        migration_type="INSTANCE_MIGRATION", page_number=1, page_size=10, filter="sdk-mig"))
    assert resp.status_code == 200
    body = resp.body
    assert body.success is True and body.request_id
    item = body.data.list[0]
    assert str(item.migration_id) == mig and item.migration_status == "MIGRATING"
    assert item.current_stage.stage_type == "MIGRATE_MESSAGE" and item.current_stage.stage_status == "DOING"
    assert item.migration_source.source_type == "EXTERNAL_INSTANCE"
    assert item.create_time and item.user_id

    ops = client.list_migration_operations(mig, "MIGRATE_MESSAGE", rmq_models.ListMigrationOperationsRequest(
        operation_type="TOPIC", page_number=1, page_size=20, business_status=["MIGRATE_WAIT"]))
    assert ops.body.data.total_count == 1
    op = ops.body.data.list[0]
    assert op.operation_key == "orders" and op.business_status == "MIGRATE_WAIT" and op.stage_type == "MIGRATE_MESSAGE"
    op_id = str(op.operation_id)

    for target in ("DOUBLE_READ", "SWITCH_WRITE", "MIGRATE_FINISH"):
        param = rmq_models.ExecuteMigrationOperationRequestOperationParam(
            param_data=json.dumps({"action": "MIGRATE_FORWARD", "targetStage": target}))
        ex = client.execute_migration_operation(mig, "MIGRATE_MESSAGE", op_id,
                                                rmq_models.ExecuteMigrationOperationRequest(operation_param=param))
        assert ex.body.success is True
        assert ex.body.data.operation_status == "RUNNING" and str(ex.body.data.operation_id) == op_id
        advance(emulator, 10)

    fin = client.finish_migration_stage(mig, "MIGRATE_MESSAGE", rmq_models.FinishMigrationStageRequest())
    assert fin.body.success is True and fin.body.data is True and fin.body.request_id


def test_alibaba_rocketmq_errors(emulator):
    from alibabacloud_tea_openapi.exceptions import ClientException

    client = RmqClient(emulator_ali_config(emulator))
    with pytest.raises(ClientException) as e:
        client.finish_migration_stage("424242", "MIGRATE_MESSAGE", rmq_models.FinishMigrationStageRequest())
    assert e.value.code == "MigrationNotFound" and e.value.status_code == 404 and e.value.request_id
    bad = RmqClient(emulator_ali_config(emulator, secret="not-the-secret"))
    with pytest.raises(ClientException) as e:
        bad.list_migrations(rmq_models.ListMigrationsRequest(migration_type="INSTANCE_MIGRATION", page_number=1, page_size=10))
    assert e.value.code == "SignatureDoesNotMatch" and e.value.status_code == 400


def test_mse_operations(emulator):
    client = MseClient(emulator_ali_config(emulator))
    add = client.add_migration_task(mse_models.AddMigrationTaskRequest(
        cluster_type="Nacos-Ans", origin_instance_name="src nacos", origin_instance_address="192.168.1.2:8848",
        target_instance_id="mse-cn-123", project_desc="sdk test", accept_language="en"))
    assert add.body.success is True and add.body.request_id
    task_id = add.body.data.id
    assert isinstance(task_id, str) and add.body.data.origin_instance_name == "src nacos"

    lst = client.list_migration_task(mse_models.ListMigrationTaskRequest(page_num=1, page_size=10,
                                                                        origin_instance_name="src nacos"))
    assert lst.body.success is True and lst.body.total_count == 1 and lst.body.http_code == "200"
    assert lst.body.data[0].id == int(task_id) and lst.body.data[0].gmt_create

    upd = client.update_migration_task(mse_models.UpdateMigrationTaskRequest(id=task_id, project_desc="updated",
                                                                            cluster_type="Nacos-Ans"))
    assert upd.body.success is True and upd.body.data.project_desc == "updated" and upd.body.data.id == task_id

    dele = client.delete_migration_task(mse_models.DeleteMigrationTaskRequest(id=task_id))
    assert dele.body.success is True and dele.body.data is True

    from alibabacloud_tea_openapi.exceptions import ClientException
    with pytest.raises(ClientException) as e:
        client.delete_migration_task(mse_models.DeleteMigrationTaskRequest(id=task_id))
    assert e.value.code == "NotFound" and e.value.status_code == 404


def test_huawei_rocketmq_operations(emulator):
    client = emulator_hw_client(RocketMQClient, emulator)
    body = dms.CreateRocketMqMigrationTaskReq(
        topic_config_table={"t1": dms.MigrationRocketMqTopicConfig(topic_name="t1", perm=6, read_queue_nums=8,
                                                                   write_queue_nums=8)},
        subscription_group_table={"g1": dms.MigrationRocketMqSubscriptionGroup(group_name="g1", consume_enable=True)})
    created = client.create_rocket_mq_migration_task(dms.CreateRocketMqMigrationTaskRequest(
        instance_id="inst-1", overwrite="true", name="task-sdk1", type="rocketmq", body=body))
    assert created.status_code == 200 and created.task_id
    rabbit = client.create_rocket_mq_migration_task(dms.CreateRocketMqMigrationTaskRequest(
        instance_id="inst-1", overwrite="false", name="task-sdk2", type="rabbitToRocket",
        body=dms.CreateRocketMqMigrationTaskReq(
            vhosts=[dms.MigrationRabbitVhostMetadata(name="v1")],
            queues=[dms.MigrationRabbitQueueMetadata(vhost="v1", name="q1", durable=True)],
            exchanges=[dms.MigrationRabbitExchangeMetadata(vhost="v1", name="e1", type="direct", durable=True)],
            bindings=[dms.MigrationRabbitBindingMetadata(vhost="v1", source="e1", destination="q1",
                                                         destination_type="queue", routing_key="k")])))
    assert rabbit.task_id

    listed = client.list_rocket_mq_migration_task(dms.ListRocketMqMigrationTaskRequest(instance_id="inst-1",
                                                                                       offset=1, limit=10))
    assert listed.total == 2 and {t.name for t in listed.task} == {"task-sdk1", "task-sdk2"}
    assert all(t.status == "creating" and t.start_date and t.id for t in listed.task)
    advance(emulator, 60)
    one = client.list_rocket_mq_migration_task(dms.ListRocketMqMigrationTaskRequest(
        instance_id="inst-1", id=rabbit.task_id, type="queue", name="v1-e1"))
    assert one.total == 1 and one.task[0].status == "finished" and one.task[0].type == "rabbitToRocket"
    assert json.loads(one.raw_content)["queues"][0]["name"] == "q1"

    deleted = client.batch_delete_rocket_mq_migration_task(dms.BatchDeleteRocketMqMigrationTaskRequest(
        instance_id="inst-1", body=dms.MetadataDeleteReq(task_ids=[created.task_id, rabbit.task_id])))
    assert sorted(deleted.success_task_list) == sorted([created.task_id, rabbit.task_id])

    with pytest.raises(ClientRequestException) as e:
        client.create_rocket_mq_migration_task(dms.CreateRocketMqMigrationTaskRequest(
            instance_id="inst-1", overwrite="maybe", name="task-sdk3", type="rocketmq", body=body))
    assert e.value.status_code == 400 and e.value.error_code == "DMS.00400002" and e.value.request_id


def test_huawei_dcs_operations(emulator):
    client = emulator_hw_client(DcsClient, emulator)
    # Online migration: create the VM, wait for RUNNING, configure.
    online = client.create_online_migration_task(dcs.CreateOnlineMigrationTaskRequest(
        body=dcs.CreateOnlineMigrationTaskBody(name="online-sdk", description="d", vpc_id="vpc-1", subnet_id="sub-1",
                                               security_group_id="sg-1")))
    task_id = online.instance_id
    assert task_id
    assert client.show_migration_task(dcs.ShowMigrationTaskRequest(task_id=task_id)).status == "CREATING"
    advance(emulator, 60)
    shown = client.show_migration_task(dcs.ShowMigrationTaskRequest(task_id=task_id))
    assert shown.status == "RUNNING" and shown.ecs_tenant_private_ip and shown.created_at
    set_resp = client.set_online_migration_task(dcs.SetOnlineMigrationTaskRequest(
        task_id=task_id, body=dcs.SetOnlineMigrationTaskBody(
            migration_method="incremental_migration", resume_mode="auto", bandwidth_limit_mb="100",
            source_instance=dcs.ConfigMigrationInstanceBody(addrs="10.0.0.1:6379", password="src-pw"),
            target_instance=dcs.ConfigMigrationInstanceBody(id="dcs-target", password="tgt-pw"))))
    assert set_resp.id == task_id and set_resp.status == "FULLMIGRATING" and set_resp.name == "online-sdk"
    advance(emulator, 60)
    stats = client.show_migration_task_stats(dcs.ShowMigrationTaskStatsRequest(task_id=task_id))
    assert stats.is_migrating is True and 0 < int(stats.full_migration_progress) < 100
    assert int(stats.target_dbsize) > 0 and stats.source_dbsize
    advance(emulator, 120)
    shown = client.show_migration_task(dcs.ShowMigrationTaskRequest(task_id=task_id))
    assert shown.status == "INCRMIGRATING" and shown.source_instance.addrs == "10.0.0.1:6379"
    assert shown.source_instance.password is None

    logs = client.list_migration_task_logs(dcs.ListMigrationTaskLogsRequest(task_id=task_id, offset=0, limit=50))
    assert logs.log_num >= 4 and logs.migration_logs[0].created_at and logs.migration_logs[0].message

    upd = client.update_migration_task(dcs.UpdateMigrationTaskRequest(
        task_id=task_id, body=dcs.MigrationUpdateRequestEntity(resume_mode="manual")))
    assert upd.status_code == 200 and "manual" in upd.body

    stopped = client.stop_migration_task(dcs.StopMigrationTaskRequest(task_id=task_id))
    assert stopped.status == "TERMINATING" and stopped.task_id == task_id
    advance(emulator, 30)
    assert client.show_migration_task(dcs.ShowMigrationTaskRequest(task_id=task_id)).status == "TERMINATED"

    restarted = client.batch_restart_online_migration_tasks(dcs.BatchRestartOnlineMigrationTasksRequest(
        body=dcs.BatchRestartOnlineMigrationTasksBody(migration_tasks=[task_id])))
    assert restarted.migration_tasks[0].task_id == task_id and restarted.migration_tasks[0].result == "success"

    sync = client.stop_migration_task_sync(dcs.StopMigrationTaskSyncRequest(task_id=task_id))
    assert sync.status_code == 200
    assert client.show_migration_task(dcs.ShowMigrationTaskRequest(task_id=task_id)).status == "TERMINATED"

    # Backup import via CreateMigrationTask.
    imp = client.create_migration_task(dcs.CreateMigrationTaskRequest(body=dcs.CreateMigrationTaskBody(
        task_name="import-sdk", migration_type="backupfile_import", migration_method="full_amount_migration",
        backup_files=dcs.BackupFilesBody(file_source="self_build_obs", bucket_name="bkt",
                                         files=[dcs.Files(file_name="dump.rdb", size="1024")]),
        target_instance=dcs.TargetInstanceBody(id="dcs-target", password="pw"))))
    assert imp.id and imp.name == "import-sdk" and imp.status == "MIGRATING"
    batch = client.batch_stop_migration_tasks(dcs.BatchStopMigrationTasksRequest(
        body=dcs.BatchStopMigrationTasksBody(migration_tasks=[imp.id, "no-such-task"])))
    assert [r.result for r in batch.migration_tasks] == ["success", "failed"]
    assert batch.migration_tasks[1].error_code == "DCS.4133"
    advance(emulator, 30)

    listed = client.list_migration_task(dcs.ListMigrationTaskRequest(offset=0, limit=10))
    assert listed.count == 2
    names = {t.task_name: t for t in listed.migration_tasks}
    assert names["import-sdk"].status == "TERMINATED" and names["import-sdk"].data_source == "bkt"
    assert names["online-sdk"].migration_type == "online_migration"

    deleted = client.delete_migration_task(dcs.DeleteMigrationTaskRequest(
        body=dcs.DeleteMigrateTaskRequest(task_id_list=[task_id, imp.id])))
    assert sorted(deleted.task_id_list) == sorted([task_id, imp.id])

    with pytest.raises(ClientRequestException) as e:
        client.show_migration_task(dcs.ShowMigrationTaskRequest(task_id=task_id))
    assert e.value.status_code == 404 and e.value.error_code == "DCS.4133" and e.value.request_id


def test_huawei_wrong_secret_rejected(emulator):
    client = emulator_hw_client(DcsClient, emulator, secret="wrong-secret")
    with pytest.raises(ClientRequestException) as e:
        client.list_migration_task(dcs.ListMigrationTaskRequest(offset=0, limit=10))
    assert e.value.status_code == 401 and e.value.error_code == "APIGW.0301" and e.value.request_id


def test_tampered_requests_rejected(emulator, monkeypatch):
    from alibabacloud_tea_openapi.exceptions import ClientException

    original = requests.Session.send

    def tampering_send(self, request, **kwargs):
        if request.body:
            body = request.body if isinstance(request.body, bytes) else request.body.encode()
            request.body = body.replace(b"tamper-me", b"tampered!")
        if "pageSize=10" in request.url:
            request.url = request.url.replace("pageSize=10", "pageSize=11")
        return original(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", tampering_send)
    hw = emulator_hw_client(DcsClient, emulator)
    with pytest.raises(ClientRequestException) as e:
        hw.create_online_migration_task(dcs.CreateOnlineMigrationTaskRequest(
            body=dcs.CreateOnlineMigrationTaskBody(name="tamper-me", vpc_id="v", subnet_id="s", security_group_id="g")))
    assert e.value.status_code == 401 and e.value.error_code == "APIGW.0301"
    ali = RmqClient(emulator_ali_config(emulator))
    with pytest.raises(ClientException) as e:
        ali.list_migrations(rmq_models.ListMigrationsRequest(migration_type="INSTANCE_MIGRATION", page_number=1,
                                                             page_size=10))
    assert e.value.code == "SignatureDoesNotMatch"
    monkeypatch.undo()
    # Nothing was created by the rejected calls.
    names = [t["task_name"] for t in emulator.admin("GET", "/_ferry/resources/huawei.dcs.task")["items"]]
    assert "tamper-me" not in names and "tampered!" not in names


def test_faults_through_sdks(emulator):
    from alibabacloud_tea_openapi.exceptions import ThrottlingException

    emulator.admin("POST", "/_ferry/faults", {"faults": [
        {"kind": "throttle", "operation": "alibaba.mse.ListMigrationTask", "count": 1, "retry_after_ms": 5},
        {"kind": "response_lost", "operation": "huawei.dcs.CreateOnlineMigrationTask", "count": 1},
    ]})
    mse = MseClient(emulator_ali_config(emulator))
    with pytest.raises(ThrottlingException) as e:
        mse.list_migration_task(mse_models.ListMigrationTaskRequest(page_num=1, page_size=10))
    assert e.value.code == "Throttling.User"
    assert mse.list_migration_task(mse_models.ListMigrationTaskRequest(page_num=1, page_size=10)).body.success

    before = emulator.admin("GET", "/_ferry/audit")["last_seq"]
    hw = emulator_hw_client(DcsClient, emulator)
    with pytest.raises(Exception) as e:
        hw.create_online_migration_task(dcs.CreateOnlineMigrationTaskRequest(
            body=dcs.CreateOnlineMigrationTaskBody(name="lost-resp", vpc_id="v", subnet_id="s", security_group_id="g")))
    assert "ConnectionException" in type(e.value).__name__ or "Connection" in str(e.value)
    entries = emulator.admin("GET", f"/_ferry/audit?since={before}")["entries"]
    assert entries[-1]["operation"] == "huawei.dcs.CreateOnlineMigrationTask"
    assert entries[-1]["outcome"] == "response_lost"
    names = [t["task_name"] for t in emulator.admin("GET", "/_ferry/resources/huawei.dcs.task")["items"]]
    assert "lost-resp" in names


def test_cli_options_faults_file_keys_and_persistence(tmp_path):
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({"faults": [
        {"kind": "throttle", "operation": "huawei.dcs.ListMigrationTask", "count": 1}]}))
    state = tmp_path / "state.json"
    args = ["--time-scale", "0", "--faults", str(faults), "--persist", str(state), "--access-key", "AKCLI:sk-cli-secret"]
    with EmulatorProcess(extra_args=args) as emu:
        assert emu.info["access_keys"] == ["AKCLI"]
        client = (DcsClient.new_builder()
                  .with_credentials(BasicCredentials("AKCLI", "sk-cli-secret", PROJECT))
                  .with_endpoints([emu.base_url]).build())
        with pytest.raises(ClientRequestException) as e:
            client.list_migration_task(dcs.ListMigrationTaskRequest(offset=0, limit=10))
        assert e.value.status_code == 429  # GET: urllib3's status retry swallows the body (providers.md D.3)
        assert client.list_migration_task(dcs.ListMigrationTaskRequest(offset=0, limit=10)).count == 0
        created = client.create_online_migration_task(dcs.CreateOnlineMigrationTaskRequest(
            body=dcs.CreateOnlineMigrationTaskBody(name="survivor", vpc_id="v", subnet_id="s", security_group_id="g")))
        # The default key is not accepted once keys are configured.
        default = emulator_hw_client(DcsClient, emu)
        with pytest.raises(ClientRequestException) as e:
            default.list_migration_task(dcs.ListMigrationTaskRequest())
        assert e.value.status_code == 401
    assert state.exists()
    with EmulatorProcess(extra_args=["--time-scale", "0", "--persist", str(state)]) as emu2:
        task = emu2.admin("GET", f"/_ferry/resources/huawei.dcs.task/{created.instance_id}")
        assert task["task_name"] == "survivor"
        audit = emu2.admin("GET", "/_ferry/audit")["entries"]
        assert [e["operation"] for e in audit] == ["huawei.dcs.CreateOnlineMigrationTask"]
        assert "sk-cli-secret" not in json.dumps(emu2.admin("GET", "/_ferry/state"))
