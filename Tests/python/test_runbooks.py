"""The four runbooks of examples/workflows, run against the emulator through the Python binding (the same engine
the `ferry` command and the C ABI use): each must succeed on the happy path, and fail correctly — compensation runs,
and the emulator's audit log shows it — when the emulator injects a failure at the runbook's riskiest step.

The command line and its exit codes are exercised on the same runbooks by Tests/python/test_examples.py (the shell
binding's driver script) and `ferry demo`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

import ferry

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / "examples" / "workflows"
DCS = WORKFLOWS / "dcs-online-redis-migration.yaml"
DMS = WORKFLOWS / "dms-metadata-migration.yaml"
APSARAMQ = WORKFLOWS / "apsaramq-rocketmq-migration.yaml"
MSE = WORKFLOWS / "mse-registry-migration.yaml"

TEST_AK, TEST_SK = "FERRYTESTKEY", "ferry-test-secret"

# Emulated phases short and the emulated clock 10x, so every migration takes a few real seconds.
EMULATOR_CONFIG = {
    "time_scale": 10,
    "timings": {
        "ali_start_s": 1, "ali_network_s": 1, "ali_metadata_op_s": 1, "ali_transition_s": 3,
        "dms_creating_s": 2, "dms_base_s": 3, "dms_per_object_s": 0.2,
        "dcs_vm_create_s": 5, "dcs_prepare_s": 2, "dcs_full_s": 10, "dcs_stop_s": 3, "fail_after_s": 2,
    },
}

SECRETS = {"source_password": "Src-Redis-Pw-4471", "target_password": "Dst-Redis-Pw-9038"}


def workflow_text(path: Path) -> str:
    """A workflow argument: a JSON string holding the YAML text (Ferry reads it as YAML)."""
    return json.dumps(path.read_text())


class Emulator:
    """The emulator in-process (ferry.Emulator), with its admin API over HTTP."""

    def __init__(self, config: Dict[str, Any]) -> None:
        self.emu = ferry.Emulator(config)
        self.info = self.emu.info

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.info["admin_url"] + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=10) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise AssertionError(f"admin {method} {path}: {e.code} {e.read()!r}") from None

    def audit(self, operation: Optional[str] = None) -> List[Dict[str, Any]]:
        entries = self.admin("GET", "/audit")["entries"]
        return [e for e in entries if operation is None or e["operation"] == operation]

    def ops(self) -> List[str]:
        """Operations of the applied mutating calls, in order (admin seeding left out)."""
        return [e["operation"] for e in self.audit() if not e["operation"].startswith("admin.")]

    def stop(self) -> None:
        self.emu.stop()


class Runner:
    """An engine with a store file, pointed at the emulator; starts and drives runs like a host would."""

    def __init__(self, tmp: Path, emulator: Emulator) -> None:
        self.store = tmp / "runs.db"
        self.engine = ferry.Engine({
            "store": str(self.store),
            "endpoints": emulator.info["endpoints"],
            "credentials": {
                "huawei": {"ak": TEST_AK, "sk": TEST_SK, "project_id": emulator.info["huawei_project_id"]},
                "alibaba": {"access_key_id": TEST_AK, "access_key_secret": TEST_SK},
            },
        })
        self.log: List[str] = []

    def start(self, workflow: Path, inputs: Dict[str, Any]) -> ferry.Run:
        run = self.engine.start(workflow_text(workflow), inputs)
        assert run.last_status and run.last_status["status"] == "running", run.last_status
        return run

    def drive(self, run: ferry.Run, secrets: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
        """Drives until the run ends, waits at a gate or needs attention."""
        options: Dict[str, Any] = {"budget_seconds": 60}
        if secrets:
            options["secrets"] = secrets
        for _ in range(50):
            status = run.drive(options)
            self.log.append(f"{run.id}: {status['status']} at {status.get('current_step')}")
            if status["status"] not in ("running", "waiting"):
                return status
        raise AssertionError(f"run {run.id} did not settle: {status}")

    def close(self) -> None:
        self.engine.close()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(EMULATOR_CONFIG)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def runner(tmp_path: Path, emulator: Emulator) -> Iterator[Runner]:
    r = Runner(tmp_path, emulator)
    try:
        yield r
    finally:
        r.close()
        print("\n".join(r.log[-20:]))  # pytest shows it only when the test fails


def steps_of(status: Dict[str, Any]) -> Dict[str, str]:
    return {k: v["status"] for k, v in status.get("steps", {}).items()}


# ---- Every runbook validates ---------------------------------------------------------------------------------

@pytest.mark.parametrize("workflow", sorted(WORKFLOWS.glob("*.yaml")), ids=lambda p: p.name)
def test_runbook_validates(workflow: Path) -> None:
    with ferry.Engine() as engine:
        info = engine.validate(workflow_text(workflow))
    assert info["valid"] is True
    assert info["on_failure"], "every runbook has compensation"
    secret = {i["name"] for i in info["inputs"] if i["secret"]}
    if workflow == DCS:
        assert secret == {"source_password", "target_password"}


def test_four_runbooks_exist() -> None:
    assert {p.name for p in WORKFLOWS.glob("*.yaml")} >= {DCS.name, DMS.name, APSARAMQ.name, MSE.name}


# ---- 1. Huawei DCS online Redis migration --------------------------------------------------------------------

DCS_INPUTS = {
    "task_name": "redis-move-1", "vpc_id": "vpc-0a1b", "subnet_id": "subnet-7c3d", "security_group_id": "sg-51e2",
    "source_addrs": "10.0.0.12:6379", "target_instance_id": "dcs-target-01",
}


def dcs_task(emulator: Emulator, name: str) -> Dict[str, Any]:
    items = [t for t in emulator.admin("GET", "/resources/huawei.dcs.task")["items"] if t["task_name"] == name]
    assert len(items) == 1, items
    return items[0]


def test_dcs_happy_path_with_cutover_gate(runner: Runner, emulator: Emulator) -> None:
    # Two throttles for the retry policy to absorb.
    emulator.admin("POST", "/faults", {"faults": [
        {"operation": "huawei.dcs.CreateOnlineMigrationTask", "kind": "throttle", "count": 1},
        {"operation": "huawei.dcs.ShowMigrationTask", "kind": "throttle", "count": 1},
    ]})
    run = runner.start(DCS, {**DCS_INPUTS, **SECRETS})
    status = runner.drive(run, SECRETS)
    assert status["status"] == "waiting_gate" and status["waiting_on"] == {"gate": "cutover"}
    task = dcs_task(emulator, "redis-move-1")
    assert task["status"] == "INCRMIGRATING"
    # Nothing is stopped before the approval.
    assert "huawei.dcs.StopMigrationTask" not in emulator.ops()

    run.signal("cutover", {"approved_by": "alice"})
    status = runner.drive(run, SECRETS)
    assert status["status"] == "succeeded", status
    out = status["outputs"]
    assert out["final_status"] == "TERMINATED" and out["approved_by"] == "alice"
    assert out["task_id"] == task["task_id"] and out["full_migration_progress"] == "100"
    assert dcs_task(emulator, "redis-move-1")["status"] == "TERMINATED"
    # Each mutating call exactly once, in order; the throttled create was retried without a duplicate.
    assert emulator.ops() == ["huawei.dcs.CreateOnlineMigrationTask", "huawei.dcs.SetOnlineMigrationTask",
                              "huawei.dcs.StopMigrationTask"]
    # The Redis passwords reached the provider ...
    set_call = emulator.audit("huawei.dcs.SetOnlineMigrationTask")[0]
    assert set_call["params"]["body"]["source_instance"]["addrs"] == "10.0.0.12:6379"
    # ... and appear nowhere Ferry writes: status, history, the store file.
    history = json.dumps(run.history())
    for secret in SECRETS.values():
        assert secret not in json.dumps(status) and secret not in history
        assert secret.encode() not in runner.store.read_bytes()
    assert '"attempt_failed"' in history and "throttled" in history


def test_dcs_terminal_failure_during_sync_compensates(runner: Runner, emulator: Emulator) -> None:
    # The riskiest step: the sync itself. The configuration is accepted, then the task fails mid full sync.
    emulator.admin("POST", "/faults", {"operation": "huawei.dcs.SetOnlineMigrationTask", "kind": "terminal_failure",
                                       "after_seconds": 3})
    run = runner.start(DCS, {**DCS_INPUTS, **SECRETS})
    status = runner.drive(run, SECRETS)
    assert status["status"] == "failed", status
    assert status["error"]["step"] == "wait_incremental", status["error"]
    steps = steps_of(status)
    assert steps["inspect_task"] == "succeeded" and steps["collect_logs"] == "succeeded"
    assert steps["stop_on_failure"] == "skipped"  # a failed task cannot be stopped
    assert steps["release_failed_task"] == "succeeded"
    task_id = run.status()["steps"]["inspect_task"]["output"]["task_id"]
    # The audit log shows the compensation: the failed task (and its VM) deleted, nothing stopped.
    deletes = emulator.audit("huawei.dcs.DeleteMigrationTask")
    assert len(deletes) == 1 and deletes[0]["params"]["body"]["task_id_list"] == [task_id]
    assert emulator.ops() == ["huawei.dcs.CreateOnlineMigrationTask", "huawei.dcs.SetOnlineMigrationTask",
                              "huawei.dcs.DeleteMigrationTask"]
    assert "cutover" not in json.dumps(status.get("pending_signals", []))


def test_dcs_cancel_at_the_gate_stops_the_task(runner: Runner, emulator: Emulator) -> None:
    run = runner.start(DCS, {**DCS_INPUTS, **SECRETS})
    status = runner.drive(run, SECRETS)
    assert status["status"] == "waiting_gate", status
    run.cancel("source not ready")
    status = runner.drive(run, SECRETS)
    assert status["status"] == "cancelled", status
    steps = steps_of(status)
    assert steps["stop_on_failure"] == "succeeded" and steps["wait_stopped"] == "succeeded"
    assert steps["release_failed_task"] == "skipped"
    assert emulator.ops() == ["huawei.dcs.CreateOnlineMigrationTask", "huawei.dcs.SetOnlineMigrationTask",
                              "huawei.dcs.StopMigrationTask"]
    assert dcs_task(emulator, "redis-move-1")["status"] == "TERMINATED"


# ---- 2. Huawei DMS metadata migration ------------------------------------------------------------------------

RABBIT_EXPORT = {
    "vhosts": [{"name": "/"}, {"name": "orders"}],
    "queues": [{"vhost": "orders", "name": "orders.created", "durable": True},
               {"vhost": "orders", "name": "orders.paid", "durable": True}],
    "exchanges": [{"vhost": "orders", "name": "orders", "type": "topic", "durable": True}],
    "bindings": [{"vhost": "orders", "source": "orders", "destination": "orders.created",
                  "destination_type": "queue", "routing_key": "created"}],
}
ROCKETMQ_EXPORT = {
    "topic_config_table": {"orders": {"topic_name": "orders", "perm": 6, "read_queue_nums": 8, "write_queue_nums": 8}},
    "subscription_group_table": {"GID_orders": {"group_name": "GID_orders", "consume_enable": True}},
}


@pytest.mark.parametrize("source_type,metadata", [("rabbitToRocket", RABBIT_EXPORT), ("rocketmq", ROCKETMQ_EXPORT)])
def test_dms_metadata_migration_happy_path(runner: Runner, emulator: Emulator, source_type: str,
                                           metadata: Dict[str, Any]) -> None:
    run = runner.start(DMS, {"instance_id": "rocketmq-instance-1", "task_name": "meta-move-1",
                                   "source_type": source_type, "metadata": metadata})
    status = runner.drive(run)
    assert status["status"] == "succeeded", status
    assert status["outputs"]["status"] == "finished"
    creates = emulator.audit("huawei.rocketmq.CreateRocketMqMigrationTask")
    assert len(creates) == 1 and creates[0]["effect"]["created"]["type"] == source_type
    assert emulator.ops() == ["huawei.rocketmq.CreateRocketMqMigrationTask"]
    tasks = emulator.admin("GET", "/resources/huawei.rocketmq.task")["items"]
    assert [t["status"] for t in tasks] == ["finished"]


def test_dms_terminal_failure_deletes_the_task(runner: Runner, emulator: Emulator) -> None:
    emulator.admin("POST", "/faults", {"operation": "huawei.rocketmq.CreateRocketMqMigrationTask",
                                       "kind": "terminal_failure"})
    run = runner.start(DMS, {"instance_id": "rocketmq-instance-1", "task_name": "meta-move-2",
                                   "metadata": RABBIT_EXPORT})
    status = runner.drive(run)
    assert status["status"] == "failed", status
    assert status["error"]["step"] == "wait_finished"
    assert steps_of(status)["delete_task"] == "succeeded"
    created = emulator.audit("huawei.rocketmq.CreateRocketMqMigrationTask")[0]["effect"]["created"]["id"]
    deletes = emulator.audit("huawei.rocketmq.BatchDeleteRocketMqMigrationTask")
    assert len(deletes) == 1 and deletes[0]["effect"]["deleted"] == [created]
    assert emulator.admin("GET", "/resources/huawei.rocketmq.task")["items"] == []


def test_dms_rejects_a_malformed_export_before_creating_anything(runner: Runner, emulator: Emulator) -> None:
    run = runner.start(DMS, {"instance_id": "rocketmq-instance-1", "task_name": "meta-move-3",
                                   "source_type": "rocketmq", "metadata": RABBIT_EXPORT})
    status = runner.drive(run)
    assert status["status"] == "failed" and status["error"]["step"] == "check_metadata"
    assert "does not match source_type rocketmq" in status["error"]["message"]
    assert emulator.ops() == [] and steps_of(status)["delete_task"] == "skipped"


# ---- 3. ApsaraMQ for RocketMQ message-stage migration --------------------------------------------------------

def seed_migration(emulator: Emulator, name: str = "prod-orders", topics: Tuple[str, ...] = ("orders",)) -> int:
    m = emulator.admin("POST", "/resources/alibaba.rocketmq.migration",
                       {"name": name, "topics": list(topics), "start_stage": "MIGRATE_MESSAGE"})
    return m["migrationId"]


def topic_operation(emulator: Emulator, migration_id: int, topic: str) -> Dict[str, Any]:
    m = emulator.admin("GET", f"/resources/alibaba.rocketmq.migration/{migration_id}")
    ops = [o for o in m["operations"] if o["stageType"] == "MIGRATE_MESSAGE" and o["operationKey"] == topic]
    assert len(ops) == 1
    return ops[0]


def execute_targets(emulator: Emulator) -> List[Tuple[str, str]]:
    out = []
    for e in emulator.audit("alibaba.rocketmq.ExecuteMigrationOperation"):
        pd = e["params"]["body"]["operationParam"]["paramData"]
        pd = json.loads(pd) if isinstance(pd, str) else pd
        out.append((pd["action"], pd["targetStage"]))
    return out


def test_apsaramq_happy_path_with_switch_write_gate(runner: Runner, emulator: Emulator) -> None:
    mid = seed_migration(emulator)
    run = runner.start(APSARAMQ, {"migration_name": "prod-orders", "topic": "orders"})
    status = runner.drive(run)
    assert status["status"] == "waiting_gate", status
    assert status["waiting_on"] == {"gate": "switch-write"}
    assert topic_operation(emulator, mid, "orders")["businessStatus"] == "DOUBLE_READ"

    run.signal("switch-write")
    status = runner.drive(run)
    assert status["status"] == "succeeded", status
    assert status["outputs"]["topic_stage"] == "MIGRATE_FINISH" and status["outputs"]["stage_finished"] is True
    assert execute_targets(emulator) == [("MIGRATE_FORWARD", "DOUBLE_READ"), ("MIGRATE_FORWARD", "SWITCH_WRITE"),
                                         ("MIGRATE_FORWARD", "MIGRATE_FINISH")]
    assert emulator.ops()[-1] == "alibaba.rocketmq.FinishMigrationStage"
    m = emulator.admin("GET", f"/resources/alibaba.rocketmq.migration/{mid}")
    assert m["migrationStatus"] == "COMPLETED"


def test_apsaramq_terminal_failure_at_switch_write_moves_back(runner: Runner, emulator: Emulator) -> None:
    mid = seed_migration(emulator)
    run = runner.start(APSARAMQ, {"migration_name": "prod-orders", "topic": "orders"})
    status = runner.drive(run)
    assert status["status"] == "waiting_gate", status
    # The riskiest step: switching writes to the destination. It is accepted, then the operation fails.
    emulator.admin("POST", "/faults", {"operation": "alibaba.rocketmq.ExecuteMigrationOperation",
                                       "kind": "terminal_failure", "count": 1})
    run.signal("switch-write")
    status = runner.drive(run)
    assert status["status"] == "failed", status
    assert status["error"]["step"] == "wait_switch_write"
    steps = steps_of(status)
    assert steps["move_backward"] == "succeeded" and steps["wait_backward"] == "succeeded"
    assert execute_targets(emulator) == [("MIGRATE_FORWARD", "DOUBLE_READ"), ("MIGRATE_FORWARD", "SWITCH_WRITE"),
                                         ("MIGRATE_BACKWARD", "MIGRATE_WAIT")]
    op = topic_operation(emulator, mid, "orders")
    assert op["businessStatus"] == "MIGRATE_WAIT" and op["operationStatus"] == "SUCCESS"
    assert "alibaba.rocketmq.FinishMigrationStage" not in emulator.ops()


def test_apsaramq_unknown_migration_fails_without_side_effects(runner: Runner, emulator: Emulator) -> None:
    seed_migration(emulator)
    run = runner.start(APSARAMQ, {"migration_name": "no-such-migration", "topic": "orders"})
    status = runner.drive(run)
    assert status["status"] == "failed" and status["error"]["step"] == "check_migration"
    assert emulator.ops() == []


# ---- 4. MSE registry migration -------------------------------------------------------------------------------

MSE_INPUTS = {
    "cluster_type": "Nacos-Ans", "origin_instance_name": "nacos-prod", "origin_instance_address": "10.0.1.20:8848",
    "origin_instance_namespace": "public,orders", "target_instance_id": "mse-cn-abc123",
    "target_cluster_name": "mse-prod", "target_cluster_url": "mse-abc123-nacos-ans.mse.aliyuncs.com:8848",
    "sync_type": "Service",
}


def test_mse_happy_path(runner: Runner, emulator: Emulator) -> None:
    run = runner.start(MSE, MSE_INPUTS)
    status = runner.drive(run)
    assert status["status"] == "succeeded", status
    assert emulator.ops() == ["alibaba.mse.AddMigrationTask", "alibaba.mse.UpdateMigrationTask"]
    tasks = emulator.admin("GET", "/resources/alibaba.mse.task")["items"]
    assert len(tasks) == 1
    t = tasks[0]
    assert str(t["Id"]) == str(status["outputs"]["task_id"])
    assert t["OriginInstanceNamespace"] == "public,orders" and t["SyncType"] == "Service"
    assert run.id in t["ProjectDesc"]


def test_mse_failed_update_deletes_the_task(runner: Runner, emulator: Emulator) -> None:
    # The riskiest step: reconfiguring the sync. The provider keeps failing it (a persistent 500).
    emulator.admin("POST", "/faults", {"operation": "alibaba.mse.UpdateMigrationTask", "kind": "server_error",
                                       "status": 500})
    run = runner.start(MSE, MSE_INPUTS)
    status = runner.drive(run)
    assert status["status"] == "failed", status
    assert status["error"]["step"] == "configure_sync"
    assert status["steps"]["configure_sync"]["attempts"] == 4  # the runbook's retry policy, exhausted
    assert steps_of(status)["delete_task"] == "succeeded"
    assert emulator.ops() == ["alibaba.mse.AddMigrationTask", "alibaba.mse.DeleteMigrationTask"]
    assert emulator.admin("GET", "/resources/alibaba.mse.task")["items"] == []


def test_mse_nacos_without_namespace_is_rejected_up_front(runner: Runner, emulator: Emulator) -> None:
    inputs = dict(MSE_INPUTS)
    del inputs["origin_instance_namespace"]
    run = runner.start(MSE, inputs)
    status = runner.drive(run)
    assert status["status"] == "failed" and status["error"]["step"] == "check_inputs"
    assert emulator.ops() == []


# ---- The sample inputs files ---------------------------------------------------------------------------------

@pytest.mark.parametrize("workflow", [DCS, DMS, APSARAMQ, MSE], ids=lambda p: p.name)
def test_sample_inputs_are_accepted(workflow: Path) -> None:
    inputs = json.loads((WORKFLOWS / "inputs" / (workflow.stem + ".json")).read_text())
    with ferry.Engine() as engine:
        secrets = {i["name"]: "x" * 8 for i in engine.validate(workflow_text(workflow))["inputs"] if i["secret"]}
        run = engine.start(workflow_text(workflow), {**inputs, **secrets})
        assert run.last_status["status"] == "running"


# ---- A lost response on each runbook's first write: never duplicated ------------------------------------------

@pytest.mark.parametrize("workflow,operation,inputs", [
    (DCS, "huawei.dcs.CreateOnlineMigrationTask", {**DCS_INPUTS, **SECRETS}),
    (MSE, "alibaba.mse.AddMigrationTask", MSE_INPUTS),
], ids=["dcs", "mse"])
def test_lost_create_response_is_reconciled(runner: Runner, emulator: Emulator, workflow: Path, operation: str,
                                            inputs: Dict[str, Any]) -> None:
    # The provider applies the create, then the connection drops before the response arrives.
    emulator.admin("POST", "/faults", {"operation": operation, "kind": "response_lost", "count": 1})
    run = runner.start(workflow, inputs)
    status = runner.drive(run, SECRETS if workflow == DCS else None)
    if status["status"] == "waiting_gate":
        run.signal(status["waiting_on"]["gate"])
        status = runner.drive(run, SECRETS)
    assert status["status"] == "succeeded", status
    creates = emulator.audit(operation)
    assert [e["outcome"] for e in creates] == ["response_lost"], "created once, found again, never re-sent"
    assert '"reconciled"' in json.dumps(run.history())


def resolve_as_operator(run: ferry.Run, status: Dict[str, Any], output: Any) -> None:
    """What an operator does with a run that needs attention, after checking the provider's console."""
    assert status["status"] == "needs_attention", status
    run.signal("ferry.resolve", {"action": "succeed", "output": output})


def test_lost_dms_create_response_never_duplicates(runner: Runner, emulator: Emulator) -> None:
    emulator.admin("POST", "/faults", {"operation": "huawei.rocketmq.CreateRocketMqMigrationTask",
                                       "kind": "response_lost", "count": 1})
    run = runner.start(DMS, {"instance_id": "rocketmq-instance-1", "task_name": "meta-move-9",
                             "metadata": RABBIT_EXPORT})
    status = runner.drive(run)
    if status["status"] == "needs_attention":  # the lookup could not decide: a person confirms the task exists
        task = emulator.admin("GET", "/resources/huawei.rocketmq.task")["items"][0]
        resolve_as_operator(run, status, {"task_id": task["id"]})
        status = runner.drive(run)
    assert status["status"] == "succeeded", status
    assert len(emulator.audit("huawei.rocketmq.CreateRocketMqMigrationTask")) == 1


def test_lost_apsaramq_transition_response_never_duplicates(runner: Runner, emulator: Emulator) -> None:
    mid = seed_migration(emulator)
    emulator.admin("POST", "/faults", {"operation": "alibaba.rocketmq.ExecuteMigrationOperation",
                                       "kind": "response_lost", "count": 1})
    run = runner.start(APSARAMQ, {"migration_name": "prod-orders", "topic": "orders"})
    status = runner.drive(run)
    if status["status"] == "needs_attention":  # a person checks the topic moved to DOUBLE_READ
        assert topic_operation(emulator, mid, "orders")["operationStatus"] in ("RUNNING", "SUCCESS")
        resolve_as_operator(run, status, {"success": True})
        status = runner.drive(run)
    assert status["status"] == "waiting_gate", status
    run.signal("switch-write")
    status = runner.drive(run)
    assert status["status"] == "succeeded", status
    assert execute_targets(emulator) == [("MIGRATE_FORWARD", "DOUBLE_READ"), ("MIGRATE_FORWARD", "SWITCH_WRITE"),
                                         ("MIGRATE_FORWARD", "MIGRATE_FINISH")]


def test_apsaramq_one_run_per_topic_the_last_finishes_the_stage(runner: Runner, emulator: Emulator) -> None:
    """The documented pattern for a migration with several topics: one run each, side by side; the last one
    (finish_stage: true) closes the stage once every topic is at MIGRATE_FINISH."""
    mid = seed_migration(emulator, topics=("orders", "payments"))
    first = runner.start(APSARAMQ, {"migration_name": "prod-orders", "topic": "orders", "finish_stage": False})
    last = runner.start(APSARAMQ, {"migration_name": "prod-orders", "topic": "payments"})
    for run in (first, last):
        assert runner.drive(run)["status"] == "waiting_gate"
    for run in (first, last):
        run.signal("switch-write")
    done = runner.drive(first)
    assert done["status"] == "succeeded" and done["outputs"]["stage_finished"] is False
    assert steps_of(done)["finish_stage"] == "skipped"
    done = runner.drive(last)
    assert done["status"] == "succeeded" and done["outputs"]["stage_finished"] is True
    assert [e["operation"] for e in emulator.audit("alibaba.rocketmq.FinishMigrationStage")] == \
        ["alibaba.rocketmq.FinishMigrationStage"]
    m = emulator.admin("GET", f"/resources/alibaba.rocketmq.migration/{mid}")
    assert m["migrationStatus"] == "COMPLETED"
    assert {topic_operation(emulator, mid, t)["businessStatus"] for t in ("orders", "payments")} == {"MIGRATE_FINISH"}
