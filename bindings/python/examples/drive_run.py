#!/usr/bin/env python3
"""Drive a migration runbook from Python: the emulator, an engine, a run, its cutover gate, its outcome.

    python bindings/python/examples/drive_run.py                  # rehearse against the local emulator
    python bindings/python/examples/drive_run.py --store runs.db  # keep the run in a SQLite file

The same code drives the real services: leave out the emulator and give the engine real credentials (or set
HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK / HUAWEICLOUD_SDK_PROJECT_ID) and no "endpoints".
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional

import ferry

ROOT = Path(__file__).resolve().parents[3]
RUNBOOK = ROOT / "examples" / "workflows" / "dcs-online-redis-migration.yaml"

# The emulator's documented test key pair (accepted by both providers when no keys are configured).
TEST_AK, TEST_SK = "FERRYTESTKEY", "ferry-test-secret"

# Emulated phases shortened and the emulated clock sped up, so a two-minute migration takes a few seconds.
EMULATOR_CONFIG: Dict[str, Any] = {
    "time_scale": 10,
    "timings": {"dcs_vm_create_s": 5, "dcs_full_s": 15, "dcs_stop_s": 5},
}


def admin(emulator: ferry.Emulator, method: str, path: str, body: Any = None) -> Any:
    """Calls the emulator's admin API (seed resources, faults, audit log, clock): plain JSON over HTTP."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(emulator.info["admin_url"] + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def engine_config(emulator: ferry.Emulator, store: str) -> Dict[str, Any]:
    """An engine config pointing every service at the emulator."""
    return {
        "store": store,
        "endpoints": emulator.endpoints,
        "credentials": {
            "huawei": {"ak": TEST_AK, "sk": TEST_SK, "project_id": emulator.info["huawei_project_id"]},
            "alibaba": {"access_key_id": TEST_AK, "access_key_secret": TEST_SK},
        },
    }


def drive_to_end(run: ferry.Run, approve: Optional[Dict[str, Any]] = None, secrets: Optional[Dict[str, str]] = None,
                 deadline_s: float = 120.0) -> Dict[str, Any]:
    """Advances ``run`` until it ends; approves gates with ``approve`` as the signal payload (None: stop there)."""
    options: Dict[str, Any] = {"budget_seconds": 30}
    if secrets:
        options["secrets"] = secrets  # needed again whenever the run is resumed by a new process
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        status = run.drive(options)
        state = status["status"]
        print(f"  {run.id}: {state:<13} step={status.get('current_step')}")
        if state == "waiting_gate":
            gate = status["waiting_on"]["gate"]
            if approve is None:
                return status
            print(f"  approving gate {gate!r} with {approve}")
            run.signal(gate, approve)
        elif state in ("succeeded", "failed", "cancelled", "needs_attention"):
            return status
    raise RuntimeError(f"run {run.id} did not finish within {deadline_s}s")


def rehearse(store: str = ":memory:", emulator_config: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Runs the DCS runbook against a fresh emulator; returns the final status plus the emulator's audit log."""
    with ferry.Emulator(emulator_config or EMULATOR_CONFIG) as emulator:
        with ferry.Engine(engine_config(emulator, store)) as engine:
            engine.log_to("ferry")  # the engine's structured log records go to Python logging
            secrets = {"source_password": "src-Redis-pw", "target_password": "dst-Redis-pw"}
            # A workflow argument is a JSON document; a JSON *string* holding YAML text is read as YAML.
            run = engine.start(
                json.dumps(RUNBOOK.read_text()),
                inputs={
                    "task_name": "redis-move-1",
                    "vpc_id": "vpc-0a1b", "subnet_id": "subnet-7c3d", "security_group_id": "sg-51e2",
                    "source_addrs": "10.0.0.12:6379", "target_instance_id": "dcs-target-01",
                    **secrets,
                },
            )
            print(f"started run {run.id}")
            final = drive_to_end(run, approve={"approved_by": "drive_run.py"}, secrets=secrets)
            final["history_events"] = len(run.history()["events"])
            final["audit"] = admin(emulator, "GET", "/audit")["entries"]
            return final


def main(argv: Optional[list] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", default=":memory:", help="SQLite file holding the run (default: in memory)")
    args = p.parse_args(argv)
    final = rehearse(args.store)
    print(f"run {final['run_id']} {final['status']}; outputs: {final.get('outputs')}")
    return 0 if final["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
