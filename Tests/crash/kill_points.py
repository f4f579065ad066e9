#!/usr/bin/env python3
"""SIGKILL crash test: drive DCS online-migration runs against the emulator (with injected faults) and kill the
driving `ferry drive` process at random points, hundreds of times; then check from the emulator's audit log that
no run repeated a side effect (one CreateOnlineMigrationTask and one SetOnlineMigrationTask per task name) and
that every run reached a safe end (succeeded, or needs_attention with evidence).

Usage: python3 Tests/crash/kill_points.py [--runs 32] [--kills 200] [--parallel 4] [--seed 1]
Needs the CLI built (swift build --product ferry-cli). Exit 0 when all checks pass. Prints a closing line
"N passed, M failed".
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FERRY = os.path.join(ROOT, "bin", "ferry")
WORKFLOW = os.path.join(ROOT, "examples", "workflows", "dcs-online-redis-migration.yaml")
SECRETS = ["--secret", "source_password=crash-src-pw", "--secret", "target_password=crash-dst-pw"]


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=32)
    ap.add_argument("--kills", type=int, default=200, help="minimum number of SIGKILLs in total")
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=600)
    args = ap.parse_args()
    global FERRY
    work = tempfile.mkdtemp(prefix="ferry-crash-")
    # Run a private copy of the CLI: a rebuild of the shared tree mid-test must not swap the binary under us.
    built = os.path.join(ROOT, ".build", "debug", "ferry-cli")
    if os.path.exists(built):
        FERRY = os.path.join(work, "ferry-cli")
        shutil.copy2(built, FERRY)
    emu_cfg = os.path.join(work, "emulator.json")
    with open(emu_cfg, "w") as f:
        json.dump({"time_scale": 40, "seed": args.seed,
                   "timings": {"dcs_vm_create_s": 20, "dcs_full_s": 40, "dcs_stop_s": 10}}, f)
    ready_path = os.path.join(work, "ready.json")
    emu = subprocess.Popen([FERRY, "emulator", "--port", "0", "--config", emu_cfg],
                           stdout=open(ready_path, "w"), stderr=open(os.path.join(work, "emulator.log"), "w"))
    try:
        deadline = time.time() + 60
        while time.time() < deadline and os.path.getsize(ready_path) == 0:
            time.sleep(0.1)
        ready = json.loads(open(ready_path).read().splitlines()[0])
        admin = ready["admin_url"]
        http("POST", admin + "/faults", {"faults": [
            {"operation": "huawei.dcs.CreateOnlineMigrationTask", "kind": "response_lost", "probability": 0.3},
            {"operation": "huawei.dcs.SetOnlineMigrationTask", "kind": "response_lost", "probability": 0.3},
            {"operation": "huawei.dcs.*", "kind": "server_error", "status": 503, "probability": 0.1},
            {"operation": "huawei.dcs.*", "kind": "throttle", "probability": 0.05},
        ]})
        # A short attempt timeout keeps the lease a killed driver leaves behind short (lease = timeout + 5 s).
        workflow = os.path.join(work, "workflow.yaml")
        with open(WORKFLOW) as f:
            text = f.read()
        assert "attempt_timeout: 30s" in text
        with open(workflow, "w") as f:
            f.write(text.replace("attempt_timeout: 30s", "attempt_timeout: 2s"))
        engine = {"store": os.path.join(work, "runs.db"), "endpoints": ready["endpoints"],
                  "credentials": {"huawei": {"ak": "FERRYTESTKEY", "sk": "ferry-test-secret",
                                             "project_id": ready["huawei_project_id"]}},
                  "runtime": {"lease_seconds": 1}}
        cfg = os.path.join(work, "engine.json")
        with open(cfg, "w") as f:
            json.dump(engine, f)

        lock = threading.Lock()
        stats = {"kills": 0, "busy": 0, "drives": 0, "rivals": 0}
        results = {}
        kills_per_run = 2 * max(1, -(-args.kills // args.runs))
        start_time = time.time()

        def drive_run(i):
            run_id = f"crash-{i}"
            task = f"crash-task-{i}"
            inputs = {"task_name": task, "vpc_id": "vpc-1", "subnet_id": "subnet-1", "security_group_id": "sg-1",
                      "source_addrs": "10.0.0.12:6379", "target_instance_id": "dcs-1"}
            r = subprocess.run([FERRY, "start", workflow, "--config", cfg, "--run-id", run_id, "--inputs", "/dev/stdin"]
                               + SECRETS, input=json.dumps(inputs), capture_output=True, text=True)
            if r.returncode not in (0, 3):
                results[run_id] = ("start_failed", r.stderr.strip())
                return
            kills = 0
            my = random.Random(args.seed * 1000 + i)
            while time.time() - start_time < args.max_seconds:
                p = subprocess.Popen([FERRY, "drive", run_id, "--config", cfg, "--budget", "30", "--quiet"] + SECRETS,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                # Now and then a second process drives the same run at the same time: the lease must let only
                # one act (the other gets busy), which the audit check below would catch otherwise.
                rival = None
                if my.random() < 0.25:
                    rival = subprocess.Popen([FERRY, "drive", run_id, "--config", cfg, "--budget", "5", "--quiet"] + SECRETS,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    with lock:
                        stats["rivals"] += 1
                killed = False
                if kills < kills_per_run:
                    try:
                        p.wait(timeout=my.uniform(0.05, 0.6))
                    except subprocess.TimeoutExpired:
                        p.send_signal(signal.SIGKILL)
                        killed = True
                out, err = p.communicate()
                if rival is not None:
                    rival.wait()
                with lock:
                    stats["drives"] += 1
                if killed:
                    kills += 1
                    with lock:
                        stats["kills"] += 1
                    continue
                code = p.returncode
                if code == 4:
                    subprocess.run([FERRY, "signal", run_id, "cutover", "--config", cfg, "--payload", '{"by": "crash"}'],
                                   capture_output=True)
                    continue
                if code == 3:
                    continue
                if code == 1 and "busy" in err:
                    with lock:
                        stats["busy"] += 1
                    time.sleep(0.5)
                    continue
                status = json.loads(out) if out.strip() else {}
                results[run_id] = (status.get("status", f"exit {code}"), status.get("attention") or status.get("error") or err.strip())
                return
            results[run_id] = ("timed_out", "")

        threads = []
        pending = list(range(args.runs))
        started = args.runs
        # How many kills a run takes depends on how fast the runtime is (a drive that finishes before its random
        # deadline is not killed), so the minimum is reached by adding runs, not by hoping: after the first
        # --runs, more runs start while fewer than --kills have happened (at most 4x --runs in all).
        while pending or threads:
            with lock:
                short = stats["kills"] < args.kills
            if not pending and short and started < 4 * args.runs and len(threads) < args.parallel:
                pending.append(started)
                started += 1
            while pending and len(threads) < args.parallel:
                t = threading.Thread(target=drive_run, args=(pending.pop(0),))
                t.start()
                threads.append(t)
            for t in list(threads):
                t.join(timeout=0.05)
                if not t.is_alive():
                    threads.remove(t)

        audit = http("GET", admin + "/audit")["entries"]
        passed = failed = 0
        problems = []
        for i in range(started):
            task = f"crash-task-{i}"
            creates = [e for e in audit if e.get("operation") == "huawei.dcs.CreateOnlineMigrationTask"
                       and json.dumps(e).find(json.dumps(task)) >= 0]
            status, why = results.get(f"crash-{i}", ("missing", ""))
            ok = len(creates) == 1 and status in ("succeeded", "needs_attention")
            created = [e.get("effect", {}).get("created", {}) for e in creates]
            task_ids = {c.get("task_id") or c.get("id") for c in created if isinstance(c, dict)}
            sets = [e for e in audit if e.get("operation") == "huawei.dcs.SetOnlineMigrationTask"
                    and any(tid and json.dumps(e).find(json.dumps(str(tid))) >= 0 for tid in task_ids)]
            if len(sets) > 1:
                ok = False
            if ok:
                passed += 1
            else:
                failed += 1
                problems.append(f"crash-{i}: status={status} creates={len(creates)} sets={len(sets)} {str(why)[:300]}")
        if stats["kills"] < args.kills:
            failed += 1
            problems.append(f"only {stats['kills']} kills (wanted {args.kills})")
        recovered = {"attempt_recovered": 0, "reconciled": 0, "reconcile_started": 0, "needs_attention": 0}
        for i in range(started):
            h = subprocess.run([FERRY, "history", f"crash-{i}", "--config", cfg], capture_output=True, text=True)
            for ev in (json.loads(h.stdout).get("events", []) if h.returncode == 0 else []):
                if ev.get("type") in recovered:
                    recovered[ev["type"]] += 1
        summary = {"recovery_events": recovered, "runs": started, "kills": stats["kills"], "drives": stats["drives"], "busy": stats["busy"], "rival_drives": stats["rivals"],
                   "seconds": round(time.time() - start_time, 1),
                   "statuses": {k: v[0] for k, v in sorted(results.items())}}
        print(json.dumps(summary))
        for p in problems:
            print("PROBLEM", p)
        print(f"{passed} passed, {failed} failed")
        return 0 if failed == 0 else 1
    finally:
        emu.send_signal(signal.SIGTERM)
        try:
            emu.wait(timeout=10)
        except subprocess.TimeoutExpired:
            emu.kill()


if __name__ == "__main__":
    sys.exit(main())
