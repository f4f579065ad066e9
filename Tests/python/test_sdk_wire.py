"""Wire compatibility of Ferry's provider clients with the official Python SDKs.

For each of the 24 catalog operations the same parameters (with values that need percent-encoding, unicode and
path parameters holding reserved characters) are sent through the official SDK and through Ferry (`ferry-cli call`)
to a local capture server. The test then asserts that method, path, query, signed header set and body match, and
that Ferry's signature is reproduced by the SDK's own signing code over the request Ferry actually sent.
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import types
from urllib.parse import parse_qsl

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from capture_server import CaptureServer  # noqa: E402

os.environ["HOME"] = tempfile.mkdtemp()  # huaweicloudsdkcore writes $HOME/.huaweicloud/application_id
for _k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
    os.environ.pop(_k, None)

from alibabacloud_mse20190531 import models as mse_models  # noqa: E402
from alibabacloud_mse20190531.client import Client as MseClient  # noqa: E402
from alibabacloud_rocketmq20220801 import models as rmq_models  # noqa: E402
from alibabacloud_rocketmq20220801.client import Client as RmqClient  # noqa: E402
from alibabacloud_tea_openapi.utils import Utils as AliUtils  # noqa: E402
from alibabacloud_tea_openapi.utils_models import Config  # noqa: E402
from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: E402
from huaweicloudsdkcore.sdk_request import SdkRequest  # noqa: E402
from huaweicloudsdkcore.signer.signer import Signer  # noqa: E402
from huaweicloudsdkdcs.v2 import DcsClient  # noqa: E402
from huaweicloudsdkdcs.v2 import model as dcs_models  # noqa: E402
from huaweicloudsdkrocketmq.v2 import RocketMQClient  # noqa: E402
from huaweicloudsdkrocketmq.v2 import model as dms_models  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FERRY = os.environ.get("FERRY_CLI", os.path.join(ROOT, ".build", "debug", "ferry-cli"))

ALI_AK, ALI_SK = "AKIDWIRETEST", "wire-test-secret-ali"
HW_AK, HW_SK, HW_PROJECT = "HWAKWIRETEST", "wire-test-secret-hw", "0123456789abcdef0123456789abcdef"

WEIRD = "a b*~/é&x=1+2%'测"  # space, *, ~, /, unicode, &, =, +, %, quote

# (operation, path parameters in template order (Alibaba positional args), parameters keyed by wire name)
CASES = [
    ("alibaba.rocketmq.ListMigrations", [], {
        "filter": "name eq '" + WEIRD + "'", "migrationType": "INSTANCE_MIGRATION", "pageNumber": 1, "pageSize": 20,
        "resourceGroupId": "rg-acfm 测试"}),
    ("alibaba.rocketmq.ListMigrationOperations", ["migrationId", "stageType"], {
        "migrationId": "mig/1 2*~é:?#", "stageType": "MIGRATE_MESSAGE", "businessStatus": ["RUNNING", "FAIL ED"],
        "filter": "topic-*", "instanceId": "rmq-cn-abc", "operationStatus": ["DOING"], "operationType": "SYNC_TOPIC",
        "pageNumber": 2, "pageSize": 50}),
    ("alibaba.rocketmq.ExecuteMigrationOperation", ["migrationId", "stageType", "operationId"], {
        "migrationId": "1234", "stageType": "MIGRATE_METADATA", "operationId": "98/9 x", "instanceId": "rmq cn",
        "operationParam": {"paramData": "{\"action\":\"MIGRATE_FORWARD\",\"targetStage\":\"DOUBLE_READ\",\"note\":\"迁移\"}"}}),
    ("alibaba.rocketmq.FinishMigrationStage", ["migrationId", "stageType"], {
        "migrationId": "mig/1 2*~é", "stageType": "MIGRATE_MESSAGE", "instanceId": "rmq-cn-abc"}),
    ("alibaba.mse.AddMigrationTask", [], {
        "AcceptLanguage": "en", "ClusterType": "Nacos-Ans", "OriginInstanceAddress": "http://10.0.0.1:8848",
        "OriginInstanceName": "src nacos*~", "OriginInstanceNamespace": "public,dev", "ProjectDesc": "迁移 task/1 " + WEIRD,
        "RequestPars": "{\"a\":\"b c\"}", "SyncType": "ALL", "TargetClusterName": "mse-target",
        "TargetClusterUrl": "http://mse-x.nacos.mse.aliyuncs.com:8848", "TargetInstanceId": "mse-cn-123"}),
    ("alibaba.mse.ListMigrationTask", [], {
        "AcceptLanguage": "zh", "OriginInstanceName": "src ñ", "PageNum": 1, "PageSize": 10, "RequestPars": "{}"}),
    ("alibaba.mse.UpdateMigrationTask", [], {
        "AcceptLanguage": "zh", "ClusterType": "ZooKeeper", "Id": "42", "OriginInstanceAddress": "192.168.100.2:2181",
        "OriginInstanceName": "src", "ProjectDesc": WEIRD, "TargetInstanceId": "mse-cn-ud82"}),
    ("alibaba.mse.DeleteMigrationTask", [], {"AcceptLanguage": "en", "Id": "42", "RequestPars": "{\"k\":1}"}),
    ("huawei.rocketmq.CreateRocketMqMigrationTask", [], {
        "instance_id": "inst/1 é", "overwrite": "true", "name": "task-迁移 1", "type": "rocketmq",
        "topic_config_table": {"topic A": {"topic_name": "topic A", "order": False, "perm": 6, "read_queue_nums": 8,
                                           "write_queue_nums": 8, "topic_filter_type": "SINGLE_TAG", "topic_sys_flag": 0}},
        "subscription_group_table": {"g1": {"group_name": "g1", "consume_broadcast_enable": True, "consume_enable": True,
                                            "consume_from_min_enable": True, "notify_consumer_ids_changed_enable": True,
                                            "retry_max_times": 16, "retry_queue_nums": 1,
                                            "which_broker_when_consume_slow": 1}},
        "vhosts": [{"name": "v 1"}],
        "queues": [{"vhost": "v 1", "name": "q\"1", "durable": True}],
        "exchanges": [{"vhost": "v 1", "name": "ex", "type": "topic", "durable": False}],
        "bindings": [{"vhost": "v 1", "source": "ex", "destination": "q\"1", "destination_type": "queue",
                      "routing_key": "a.*"}]}),
    ("huawei.rocketmq.ListRocketMqMigrationTask", [], {
        "instance_id": "11111111-2222", "id": "task 1", "type": "queue", "offset": 1, "limit": 10,
        "name": "vhost a*~/é&x=1+2%-exchange1"}),
    ("huawei.rocketmq.BatchDeleteRocketMqMigrationTask", [], {"instance_id": "i-1", "task_ids": ["t1", "t/2 é"]}),
    ("huawei.dcs.CreateMigrationTask", [], {
        "task_name": "dcs-mt", "description": "备份导入 " + WEIRD, "migration_type": "backupfile_import",
        "migration_method": "full_amount_migration",
        "backup_files": {"file_source": "self_build_obs", "bucket_name": "bkt",
                         "files": [{"file_name": "dump 1.rdb", "size": "1024", "update_at": "2024-01-02 03:04:05"}],
                         "backup_id": "b1"},
        "network_type": "vpc",
        "source_instance": {"addrs": "10.0.0.1:6379", "password": "pw\"1", "port": "6379", "proxy_multi_db": False},
        "target_instance": {"id": "i-2", "password": "pw2", "db": "0"}}),
    ("huawei.dcs.CreateOnlineMigrationTask", [], {
        "name": "迁移 online", "description": "d", "vpc_id": "vpc-1", "subnet_id": "sub-1", "security_group_id": "sg-1"}),
    ("huawei.dcs.SetOnlineMigrationTask", [], {
        "task_id": "task 1/é", "migration_method": "incremental_migration", "resume_mode": "auto",
        "bandwidth_limit_mb": "100", "source_instance": {"addrs": "10.0.0.1:6379", "password": "p"},
        "target_instance": {"id": "i-2"}}),
    ("huawei.dcs.ListMigrationTask", [], {"offset": 0, "limit": 10, "name": "a b*~é"}),
    ("huawei.dcs.ShowMigrationTask", [], {"task_id": "task/1 2*~é:"}),
    ("huawei.dcs.ShowMigrationTaskStats", [], {"task_id": "t1"}),
    ("huawei.dcs.ListMigrationTaskLogs", [], {"task_id": "t 1", "offset": 0, "limit": 5, "log_level": "ERROR x"}),
    ("huawei.dcs.UpdateMigrationTask", [], {"task_id": "mt-1", "resume_mode": "manual"}),
    ("huawei.dcs.StopMigrationTask", [], {"task_id": "mt-1"}),
    ("huawei.dcs.StopMigrationTaskSync", [], {"task_id": "mt/2"}),
    ("huawei.dcs.BatchStopMigrationTasks", [], {"migration_tasks": ["a", "b é"]}),
    ("huawei.dcs.BatchRestartOnlineMigrationTasks", [], {"migration_tasks": ["a"]}),
    ("huawei.dcs.DeleteMigrationTask", [], {"task_id_list": ["mt-1", "mt-2"]}),
]


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def hw_value(module, typ, value):
    """Builds Huawei SDK model instances from wire-named JSON, driven by the models' own type tables."""
    if typ.startswith("list["):
        return [hw_value(module, typ[5:-1], v) for v in value]
    if typ.startswith("dict("):
        inner = typ[typ.index(",") + 1:-1].strip()
        return {k: hw_value(module, inner, v) for k, v in value.items()}
    if typ in ("str", "int", "bool", "float", "object"):
        return value
    return hw_model(module, getattr(module, typ), value)


def hw_model(module, cls, data):
    kwargs = {}
    for attr, typ in cls.openapi_types.items():
        wire = cls.attribute_map[attr]
        if wire in data:
            kwargs[attr] = hw_value(module, typ, data[wire])
    return cls(**kwargs)


def hw_request(module, action, params):
    cls = getattr(module, action + "Request")
    kwargs, used = {}, set()
    for attr, typ in cls.openapi_types.items():
        if attr == "body":
            continue
        wire = cls.attribute_map[attr]
        if wire in params:
            kwargs[attr] = params[wire]
            used.add(wire)
    rest = {k: v for k, v in params.items() if k not in used}
    if "body" in cls.openapi_types and rest:
        kwargs["body"] = hw_model(module, getattr(module, cls.openapi_types["body"]), rest)
    return cls(**kwargs)


def sdk_call(op, path_args, params, port):
    provider, service, action = op.split(".")
    if provider == "alibaba":
        cfg = Config(access_key_id=ALI_AK, access_key_secret=ALI_SK, endpoint=f"127.0.0.1:{port}", protocol="http",
                     region_id="cn-hangzhou")
        client, models = (RmqClient(cfg), rmq_models) if service == "rocketmq" else (MseClient(cfg), mse_models)
        body_params = {k: v for k, v in params.items() if k not in path_args}
        req = getattr(models, action + "Request")().from_map(body_params)
        getattr(client, snake(action))(*[params[a] for a in path_args], req)
    else:
        cred = BasicCredentials(HW_AK, HW_SK, HW_PROJECT)
        builder = RocketMQClient if service == "rocketmq" else DcsClient
        module = dms_models if service == "rocketmq" else dcs_models
        client = builder.new_builder().with_credentials(cred).with_endpoints([f"http://127.0.0.1:{port}"]).build()
        getattr(client, snake(action))(hw_request(module, action, params))


def ferry_call(op, params, port):
    env = dict(os.environ)
    env.update({"ALIBABA_CLOUD_ACCESS_KEY_ID": ALI_AK, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ALI_SK,
                "HUAWEICLOUD_SDK_AK": HW_AK, "HUAWEICLOUD_SDK_SK": HW_SK, "HUAWEICLOUD_SDK_PROJECT_ID": HW_PROJECT})
    args = [FERRY, "call", op, "--params", json.dumps(params, ensure_ascii=False)]
    for svc in ("alibaba.rocketmq", "alibaba.mse", "huawei.rocketmq", "huawei.dcs"):
        args += ["--endpoint", f"{svc}=http://127.0.0.1:{port}"]
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"ferry call {op} failed: {out.stderr}"
    return json.loads(out.stdout)


def signed_headers(request):
    auth = request.header("Authorization")
    m = re.search(r"SignedHeaders=([^,]+)", auth or "")
    assert m, f"no SignedHeaders in {auth!r}"
    return m.group(1).split(";")


def sdk_recomputed_authorization(provider, req):
    """Recomputes the Authorization of a captured request with the SDK's own signing code."""
    names = signed_headers(req)
    headers = {n: req.header(n) for n in names}
    if provider == "alibaba":
        ns = types.SimpleNamespace(method=req.method, pathname=req.path,
                                   query=dict(parse_qsl(req.query, keep_blank_values=True)), headers=headers)
        payload = hashlib.sha256(req.body).hexdigest()
        return AliUtils.get_authorization(ns, "ACS3-HMAC-SHA256", payload, ALI_AK, ALI_SK)
    sdk_req = SdkRequest(method=req.method, schema="http", host=req.header("host"), resource_path=req.path,
                         query_params=parse_qsl(req.query, keep_blank_values=True), header_params=headers,
                         body=req.body if req.body else "")
    Signer(BasicCredentials(HW_AK, HW_SK)).sign(sdk_req)
    return sdk_req.header_params["Authorization"]


@pytest.fixture(scope="module")
def server():
    s = CaptureServer()
    yield s
    s.stop()


def test_ferry_cli_is_built():
    assert os.path.exists(FERRY), f"{FERRY} is missing: run `swift build` first"


@pytest.mark.parametrize("op,path_args,params", CASES, ids=[c[0] for c in CASES])
def test_wire_matches_sdk(server, op, path_args, params):
    provider = op.split(".")[0]
    server.clear()
    sdk_call(op, path_args, params, server.port)
    assert len(server.requests) == 1
    sdk = server.requests[0]
    server.clear()
    ferry_call(op, params, server.port)
    assert len(server.requests) == 1
    ferry = server.requests[0]

    assert ferry.method == sdk.method
    assert ferry.path == sdk.path
    assert sorted(parse_qsl(ferry.query, keep_blank_values=True)) == sorted(parse_qsl(sdk.query, keep_blank_values=True))
    if provider == "huawei":
        assert ferry.query == sdk.query  # the Huawei wire query is the canonical, sorted form
    assert signed_headers(ferry) == signed_headers(sdk)
    for name in signed_headers(sdk):
        if name not in ("user-agent", "x-acs-date", "x-acs-signature-nonce", "x-sdk-date"):
            assert ferry.header(name) == sdk.header(name), name
    if sdk.body or ferry.body:
        assert json.loads(ferry.body) == json.loads(sdk.body)
        assert ferry.body == sdk.body  # byte for byte: same serializer, same field order
    assert ferry.header("Authorization") == sdk_recomputed_authorization(provider, ferry)
    # Control: the same recomputation reproduces the SDK's own signature.
    assert sdk.header("Authorization") == sdk_recomputed_authorization(provider, sdk)


def test_all_catalog_operations_covered():
    out = subprocess.run([FERRY, "ops", "--compact"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    names = [o["name"] for o in json.loads(out.stdout)]
    assert sorted(names) == sorted(c[0] for c in CASES)
    assert len(names) == 24


def test_cli_key_value_params_and_errors(server):
    env = dict(os.environ)
    env.update({"HUAWEICLOUD_SDK_AK": HW_AK, "HUAWEICLOUD_SDK_SK": HW_SK, "HUAWEICLOUD_SDK_PROJECT_ID": HW_PROJECT})
    for k in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
        env.pop(k, None)
    ep = ["--endpoint", f"huawei.dcs=http://127.0.0.1:{server.port}", "--endpoint", f"alibaba.mse=http://127.0.0.1:{server.port}"]
    server.clear()
    out = subprocess.run([FERRY, "call", "huawei.dcs.ListMigrationTask", "-p", "offset=0", "-p", "limit=10", "-p", "name=a b"]
                         + ep, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {}
    assert server.requests[0].target == f"/v2/{HW_PROJECT}/migration-tasks?limit=10&name=a%20b&offset=0"
    # Nested fields with dotted keys; a string-typed parameter keeps digits as text.
    server.clear()
    out = subprocess.run([FERRY, "call", "huawei.dcs.SetOnlineMigrationTask", "-p", "task_id=123", "-p",
                          "migration_method=full_amount_migration", "-p", "resume_mode=auto", "-p", "bandwidth_limit_mb=100",
                          "-p", "source_instance.addrs=10.0.0.1:6379", "-p", "target_instance.id=i-1"] + ep,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    body = json.loads(server.requests[0].body)
    assert body["bandwidth_limit_mb"] == "100"
    assert body["source_instance"] == {"addrs": "10.0.0.1:6379"}
    assert server.requests[0].path == f"/v2/{HW_PROJECT}/migration/123/task"
    # Missing Alibaba credentials: a structured error naming the variables, nothing sent.
    server.clear()
    out = subprocess.run([FERRY, "call", "alibaba.mse.ListMigrationTask"] + ep, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode != 0
    assert "missing_credentials" in out.stderr and "ALIBABA_CLOUD_ACCESS_KEY_ID" in out.stderr
    assert server.requests == []
    # Validation errors name the parameter.
    out = subprocess.run([FERRY, "call", "huawei.dcs.ShowMigrationTask", "-p", "bogus=1"] + ep, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "params.bogus" in out.stderr
    # ferry ops NAME shows the full entry.
    out = subprocess.run([FERRY, "ops", "huawei.dcs.ShowMigrationTask"], capture_output=True, text=True, timeout=60)
    entry = json.loads(out.stdout)
    assert entry["secret_response_fields"] == ["source_instance.password", "target_instance.password"]
    assert entry["idempotency"] == "read" and entry["method"] == "GET"
