#!/usr/bin/env python3
"""An Airflow-style operator that advances a Ferry run and defers until the run's next wake-up.

A migration can take hours (a full Redis sync, an approval). Holding an Airflow worker slot for all of it wastes
the slot, so the operator does one bounded piece of work (``Run.drive`` with a small budget) and then *defers*:
it hands the scheduler the run's ``next_wake_at`` and gives the slot back. When the time comes, the scheduler
calls it again, in whatever worker process, and the run resumes from the store. A gate defers too, polling for
the approval signal (sent with ``ferry signal`` or ``Run.signal`` from anywhere).

To keep this example free of an Airflow dependency, ``BaseOperator``, ``TaskDeferred``, ``DateTimeTrigger`` and
``AirflowException`` below are small stand-ins with the same shape as Airflow's. In a real DAG, import them from
Airflow instead (``airflow.models.BaseOperator``, ``airflow.exceptions``, ``airflow.triggers.temporal``) and
delete the stand-ins; ``FerryRunOperator`` stays as it is:

    from airflow.models import BaseOperator
    from airflow.exceptions import AirflowException, TaskDeferred
    from airflow.triggers.temporal import DateTimeTrigger

    migrate = FerryRunOperator(task_id="redis_cutover", workflow_path=".../dcs-online-redis-migration.yaml",
                               inputs={...}, secret_names=["source_password", "target_password"],
                               engine_config={"store": "/var/lib/ferry/runs.db"})

``run_locally`` plays the scheduler's part so the example runs (and is tested) without Airflow.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from typing import Any, Callable, Dict, List, Mapping, Optional

import ferry


# ---- Stand-ins for the few Airflow classes the operator uses ----------------------------------------------------

class AirflowException(Exception):
    """Stand-in for airflow.exceptions.AirflowException: fails the task."""


class DateTimeTrigger:
    """Stand-in for airflow.triggers.temporal.DateTimeTrigger: fires at ``moment`` (an aware datetime)."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment


class TaskDeferred(Exception):
    """Stand-in for airflow.exceptions.TaskDeferred: raised by ``defer`` to release the worker slot."""

    def __init__(self, trigger: DateTimeTrigger, method_name: str, kwargs: Optional[Dict[str, Any]] = None,
                 timeout: Optional[dt.timedelta] = None) -> None:
        super().__init__(f"deferred until {trigger.moment.isoformat()}")
        self.trigger, self.method_name, self.kwargs, self.timeout = trigger, method_name, kwargs or {}, timeout


class BaseOperator:
    """Stand-in for airflow.models.BaseOperator (only what this example needs)."""

    def __init__(self, task_id: str, **_: Any) -> None:
        self.task_id = task_id

    def defer(self, *, trigger: DateTimeTrigger, method_name: str, kwargs: Optional[Dict[str, Any]] = None,
              timeout: Optional[dt.timedelta] = None) -> None:
        raise TaskDeferred(trigger, method_name, kwargs, timeout)


# ---- The operator ---------------------------------------------------------------------------------------------

class FerryRunOperator(BaseOperator):
    """Starts (once) and advances a Ferry run; defers while the run waits; succeeds with the run's outputs.

    * The run id is derived from the task and the DAG run, so a retried task instance picks up the same run
      instead of starting a second migration.
    * Secrets are never stored by Ferry: they are read (here from the environment, in Airflow typically from a
      Connection) on every execution and handed to the engine with each advance.
    * ``needs_attention`` fails the task with the evidence: a person must decide (``ferry signal RUN ferry.resolve``).
    """

    def __init__(self, *, workflow_path: str, inputs: Mapping[str, Any], engine_config: Mapping[str, Any],
                 secret_names: Optional[List[str]] = None, budget_seconds: float = 20, gate_poll_seconds: float = 60,
                 secret_source: Optional[Callable[[str], str]] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.workflow_path = workflow_path
        self.inputs = dict(inputs)
        self.engine_config = dict(engine_config)
        self.secret_names = list(secret_names or [])
        self.budget_seconds = budget_seconds
        self.gate_poll_seconds = gate_poll_seconds
        self.secret_source = secret_source or (lambda name: os.environ[f"FERRY_SECRET_{name.upper()}"])

    def run_id(self, context: Mapping[str, Any]) -> str:
        return f"{context['dag_id']}.{self.task_id}.{context['run_id']}".replace("/", "_").replace(" ", "_")

    def execute(self, context: Mapping[str, Any], event: Any = None) -> Any:
        secrets = {name: self.secret_source(name) for name in self.secret_names}
        run_id = self.run_id(context)
        with ferry.Engine(self.engine_config) as engine:
            run = engine.run(run_id)
            try:
                run.status()
            except ferry.NotFoundError:
                with open(self.workflow_path, encoding="utf-8") as f:
                    run = engine.start(json.dumps(f.read()), inputs={**self.inputs, **secrets}, options={"run_id": run_id})
            status = run.drive({"budget_seconds": self.budget_seconds, "secrets": secrets})
        return self._conclude(status)

    # Airflow resumes a deferred task by calling the method named in defer(); it is execute itself here.
    def _conclude(self, status: Mapping[str, Any]) -> Any:
        state = status["status"]
        if state == "succeeded":
            return status.get("outputs")
        if state in ("failed", "cancelled"):
            raise AirflowException(f"run {status['run_id']} {state}: {json.dumps(status.get('error'))}")
        if state == "needs_attention":
            raise AirflowException(f"run {status['run_id']} needs attention: {json.dumps(status.get('attention'))}")
        now = time.time()
        if state == "waiting" and status.get("next_wake_at"):
            wake = max(now, float(status["next_wake_at"]))
        elif state == "waiting_gate":
            wake = now + self.gate_poll_seconds  # check again for the approval signal
        else:  # running: more work is ready right away
            wake = now
        self.defer(trigger=DateTimeTrigger(dt.datetime.fromtimestamp(wake, tz=dt.timezone.utc)),
                   method_name="execute")
        return None  # not reached


# ---- A scheduler stand-in, so the example runs without Airflow -------------------------------------------------

def run_locally(operator: BaseOperator, context: Mapping[str, Any], on_defer: Optional[Callable[[int], None]] = None,
                max_executions: int = 500) -> Any:
    """Calls ``operator.execute`` the way Airflow would: again at each deferral's moment, until it returns."""
    method: Callable[..., Any] = operator.execute  # type: ignore[attr-defined]
    for n in range(1, max_executions + 1):
        try:
            return method(context)
        except TaskDeferred as d:
            if on_defer is not None:
                on_defer(n)
            time.sleep(max(0.0, d.trigger.moment.timestamp() - time.time()))
            method = getattr(operator, d.method_name)
    raise AirflowException(f"{operator.task_id}: still deferred after {max_executions} executions")


if __name__ == "__main__":
    # Rehearsal: the emulator stands in for Huawei Cloud; an approval thread plays the operator at the gate.
    import sys
    import tempfile
    import threading
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from drive_run import EMULATOR_CONFIG, RUNBOOK, engine_config  # noqa: E402

    os.environ.setdefault("FERRY_SECRET_SOURCE_PASSWORD", "src-Redis-pw")
    os.environ.setdefault("FERRY_SECRET_TARGET_PASSWORD", "dst-Redis-pw")
    with tempfile.TemporaryDirectory() as tmp, ferry.Emulator(EMULATOR_CONFIG) as emulator:
        config = engine_config(emulator, str(Path(tmp) / "runs.db"))
        op = FerryRunOperator(
            task_id="redis_cutover", workflow_path=str(RUNBOOK), engine_config=config,
            inputs={"task_name": "airflow-redis-1", "vpc_id": "vpc-1", "subnet_id": "subnet-1",
                    "security_group_id": "sg-1", "source_addrs": "10.0.0.12:6379",
                    "target_instance_id": "dcs-target-01"},
            secret_names=["source_password", "target_password"], budget_seconds=2, gate_poll_seconds=0.5)
        context = {"dag_id": "redis_migration", "run_id": "manual__2026-11-22"}

        def approve_when_waiting() -> None:
            with ferry.Engine(config) as engine:
                run = engine.run(op.run_id(context))
                for _ in range(600):
                    try:
                        if run.status()["status"] == "waiting_gate":
                            run.signal("cutover", {"approved_by": "approver thread"})
                            return
                    except ferry.NotFoundError:
                        pass
                    time.sleep(0.1)

        threading.Thread(target=approve_when_waiting, daemon=True).start()
        outputs = run_locally(op, context, on_defer=lambda n: print(f"  deferred ({n})"))
        print("outputs:", json.dumps(outputs))
