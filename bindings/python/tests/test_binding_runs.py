"""The binding over ferry_ops, ferry_call, the emulator and runs: results, errors, the one-advancer rule,
log records from real work."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest

import ferry

WORKFLOW = {
    "ferry": 1,
    "name": "binding-test",
    "inputs": {"x": {"type": "string"}, "n": {"type": "integer", "default": 3}},
    "steps": [
        {"id": "list", "call": "huawei.dcs.ListMigrationTask"},
        {"id": "approve", "gate": "go"},
        {"id": "again", "call": "alibaba.mse.ListMigrationTask"},
    ],
    "outputs": {"x": "${inputs.x}", "n": "${inputs.n}"},
}


def test_ops_catalog():
    catalog = ferry.ops()
    assert isinstance(catalog, list) and len(catalog) == 24
    assert ferry.ops("") == catalog
    for summary in catalog:
        entry = ferry.ops(summary["name"])
        assert entry["name"] == summary["name"] and isinstance(entry["parameters"], list)
    with pytest.raises(ferry.NotFoundError) as info:
        ferry.ops("huawei.dcs.Nope")
    assert info.value.field == "name"


def test_emulator_context_manager(lib):
    with ferry.Emulator() as emu:
        assert emu.base_url.startswith("http://127.0.0.1:") and emu.port > 0
        assert set(emu.endpoints) == {"alibaba.rocketmq", "alibaba.mse", "huawei.rocketmq", "huawei.dcs"}
        assert all(url == emu.base_url for url in emu.endpoints.values())
        assert "admin_url" in emu.info and not emu.stopped
        with ferry.Engine(emu.engine_config()) as e:
            assert "migration_tasks" in e.call("huawei.dcs.ListMigrationTask")
    assert emu.stopped
    emu.stop()  # no-op
    assert lib.ferry_emulator_stop(emu.handle) == ferry.ClosedError.status


def test_emulator_with_explicit_keys_and_port_reuse():
    with ferry.Emulator({"access_keys": ["MYKEY:my-very-secret"]}) as emu:
        assert "my-very-secret" not in json.dumps(emu.info)
        config = emu.engine_config()
        assert config["credentials"]["huawei"]["ak"] == "MYKEY"
        with ferry.Engine(config) as e:
            e.call("alibaba.mse.ListMigrationTask")
        port = emu.port
        with pytest.raises(ferry.EmulatorError):
            ferry.Emulator({"port": port})
    with ferry.Emulator({"port": port}) as again:  # free once stopped
        assert again.port == port


def test_unstopped_emulator_is_stopped_when_collected(lib):
    import gc
    emu = ferry.Emulator()
    handle = emu.handle
    del emu
    gc.collect()
    assert lib.ferry_emulator_stop(handle) == ferry.ClosedError.status


def test_call_results_and_provider_errors(emu_engine):
    assert emu_engine.call("huawei.dcs.ListMigrationTask") == emu_engine.call("huawei.dcs.ListMigrationTask", {})
    assert "migration_tasks" in emu_engine.call("huawei.dcs.ListMigrationTask", reveal_secrets=True)
    with pytest.raises(ferry.NotFoundError) as info:
        emu_engine.call("huawei.dcs.ShowMigrationTask", {"task_id": "missing"})
    d = info.value.details
    assert d["http_status"] == 404 and d["provider_code"] and d["request_id"] and d["retryable"] is False


def test_call_throttled_is_retryable():
    faults = [{"operation": "huawei.dcs.ListMigrationTask", "kind": "throttle"}]
    with ferry.Emulator({"faults": faults}) as emu, ferry.Engine(emu.engine_config()) as e:
        with pytest.raises(ferry.ThrottledError) as info:
            e.call("huawei.dcs.ListMigrationTask")
        assert info.value.retryable and info.value.details["http_status"] == 429


def test_validate(emu_engine):
    result = emu_engine.validate(WORKFLOW)
    assert result["valid"] is True
    assert emu_engine.validate(json.dumps(WORKFLOW))["valid"] is True
    with pytest.raises(ferry.InvalidWorkflowError) as info:
        emu_engine.validate({"ferry": 1, "steps": [{"id": "a", "call": "huawei.dcs.Nope"}, {"id": "a", "gate": "g"}]})
    errors = info.value.details["errors"]
    assert len(errors) >= 2 and all("location" in e for e in errors)


def test_run_through_a_gate(emu_engine):
    run = emu_engine.start(WORKFLOW, {"x": "hello 世界"})
    assert run.last_status["status"] == "running" and run.id.startswith("run-")
    for _ in range(10):
        if run.advance()["status"] == "waiting_gate":
            break
    assert run.status()["waiting_on"] == {"gate": "go"}
    run.signal("go", {"approved_by": "pytest"})
    final = run.drive(budget_seconds=30)
    assert final["status"] == "succeeded" and final["outputs"] == {"x": "hello 世界", "n": 3}
    assert repr(run).endswith("succeeded>")
    events = run.history()["events"]
    assert events[0]["type"] == "run_created" and len(events) > 5
    assert run.history({"after_seq": len(events) - 1})["events"] == events[-1:]
    listed = emu_engine.list_runs(status="succeeded", workflow="binding-test", limit=50)
    assert run.id in [r["run_id"] for r in listed["runs"]]
    same = emu_engine.run(run.id)
    assert same.status()["status"] == "succeeded"


def test_cancel_runs_compensation_state(emu_engine):
    run = emu_engine.start(WORKFLOW, {"x": "c"})
    run.cancel("operator said stop")
    assert run.drive()["status"] == "cancelled"
    with pytest.raises(ferry.ConflictError, match="already ended"):
        run.cancel()


def test_only_one_caller_advances_a_run():
    faults = [{"operation": "alibaba.mse.ListMigrationTask", "kind": "latency", "latency_ms": 2500}]
    with ferry.Emulator({"faults": faults}) as emu, ferry.Engine(emu.engine_config()) as e:
        run = e.start({"ferry": 1, "steps": [{"id": "slow", "call": "alibaba.mse.ListMigrationTask"}]})
        result = {}
        driver = threading.Thread(target=lambda: result.setdefault("final", run.drive()))
        driver.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the driver is inside the slow call
            step = e.run(run.id).status()["steps"].get("slow", {})
            if step.get("status") == "running" and step.get("attempts", 0) >= 1:
                break
            time.sleep(0.005)
        with pytest.raises(ferry.BusyError) as info:
            e.run(run.id).advance()
        assert info.value.retryable
        with pytest.raises(ferry.BusyError):
            e.run(run.id).drive()
        driver.join(timeout=60)
        assert result["final"]["status"] == "succeeded"


def test_log_records_from_real_work(emulator):
    secret = "ferry-test-secret"
    records = []
    reentrant = []
    with ferry.Engine(emulator.engine_config()) as e:
        def hook(level, record):
            records.append((level, record))
            try:
                e.run("run-x").status()
                reentrant.append("returned")
            except ferry.BusyError:
                reentrant.append("busy")
            except ferry.FerryError as err:
                reentrant.append(err.code)

        e.set_log_hook(hook, "trace")
        run = e.start({"ferry": 1, "name": "logged", "steps": [{"id": "l", "call": "huawei.dcs.ListMigrationTask"}]})
        run.drive()
        with pytest.raises(ferry.NotFoundError):
            e.call("huawei.dcs.ShowMigrationTask", {"task_id": "missing"})
        e.set_log_hook(None)
    assert records, "runs and calls log"
    assert any(r["message"] == "run created" and r["fields"]["run_id"] == run.id for _, r in records)
    for level, r in records:
        assert set(r) >= {"ts", "level", "logger", "message", "fields"}
        assert 0 <= level <= 6 and r["level"] == ["trace", "debug", "info", "notice", "warning", "error", "critical"][level]
        assert secret not in json.dumps(r)
    assert set(reentrant) == {"busy"}, reentrant


def test_log_to_python_logging(emulator, caplog):
    with ferry.Engine(emulator.engine_config()) as e, caplog.at_level(logging.INFO, logger="ferry.test.runs"):
        e.log_to("ferry.test.runs", "info")
        e.start({"ferry": 1, "steps": [{"id": "g", "gate": "never"}]})
        e.set_log_hook(None)
    created = [r for r in caplog.records if r.name == "ferry.test.runs" and r.getMessage() == "run created"]
    assert created and created[0].levelno == logging.INFO and created[0].ferry["fields"]["run_id"]


def test_close_and_stop_inside_a_log_hook_are_refused(emulator):
    """ferry.h: Ferry functions called from inside a callback fail with FERRY_EBUSY; the handles stay usable."""
    victim_engine = ferry.Engine()
    victim_emulator = ferry.Emulator()
    outcomes = []
    with ferry.Engine(emulator.engine_config()) as e:
        def hook(level, record):
            if outcomes:
                return
            for thing in (victim_engine.close, victim_emulator.stop):
                try:
                    thing()
                    outcomes.append("ok")
                except ferry.FerryError as err:
                    outcomes.append(err.code)

        e.set_log_hook(hook, "info")
        e.start({"ferry": 1, "steps": [{"id": "g", "gate": "never"}]})  # logs "run created"
        e.set_log_hook(None)
    assert outcomes == ["busy", "busy"]
    assert not victim_engine.closed and not victim_emulator.stopped
    victim_engine.set_log_hook(None)  # still open
    victim_engine.close()
    victim_emulator.stop()
