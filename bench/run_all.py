#!/usr/bin/env python3
"""Runs every Ferry benchmark, each next to its comparison, and prints one table (Markdown).

    scripts/bench.sh                      # builds release binaries, then runs this
    .venv/bin/python bench/run_all.py --bin .build-release/release [--reps 3] [--quick] [--only 1,5,9]
                                      [--json results.json] [--markdown table.md]

Every row is measured in the same pass as its comparison (Ferry, then the yardstick, back to back), `--reps` times;
the table shows the median and the spread (min..max over the passes). A row whose comparison could not run says so
instead of printing a number. The pieces it runs (each prints JSON):
  rows 1-3  ferry-bench store client (ProviderClient vs an external canned server: ferry-bench providers --serve),
            bench/provider_sdk_bench.py --port (official Python SDKs, same server), wrk (same server)
  row 4     bench/abi_bench.py --json (C host + ctypes, libferry.so)
  row 5     ferry-bench jmespath + bench/jmespath_bench.py (same expressions, same documents)
  rows 6-8  ferry-bench store sequential|concurrent|idle (runtime + in-process emulator, raw SQLite in the same process)
  row 9     hyperfine: ferry version, ferry status RUN (store of 10,000 runs), python -c 'import <sdk client>'
  row 10    ferry-bench emulator (wrk with signed requests vs the emulator's unsigned health endpoint)
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVICES = [
    ("alibaba.rocketmq.FinishMigrationStage", "Alibaba ApsaraMQ for RocketMQ"),
    ("alibaba.mse.UpdateMigrationTask", "Alibaba MSE"),
    ("huawei.rocketmq.ListRocketMqMigrationTask", "Huawei DMS for RocketMQ"),
    ("huawei.dcs.StopMigrationTask", "Huawei DCS"),
]


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Running the pieces


def run_json(cmd: list[str], timeout: float, env: dict | None = None, cwd: Path = REPO) -> dict | list:
    """Runs a command and parses its stdout: one JSON document, or JSON lines (returned as a list)."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    out = p.stdout.strip()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd[:3]))} exited {p.returncode}: {(p.stderr or out)[-400:]}")
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        lines = [json.loads(l) for l in out.splitlines() if l.strip().startswith("{")]
        if not lines:
            raise RuntimeError(f"{' '.join(map(str, cmd[:3]))}: no JSON in output: {out[-300:]}")
        return lines


def check_error(obj, what: str):
    if isinstance(obj, dict) and "error" in obj:
        raise RuntimeError(f"{what}: {json.dumps(obj['error'])[:300]}")
    return obj


def wrk(url: str, connections: int, seconds: int) -> float:
    threads = 1 if connections == 1 else 2
    p = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url], capture_output=True,
                       text=True, timeout=seconds + 30)
    if "Non-2xx" in p.stdout or "Socket errors" in p.stdout:
        raise RuntimeError(f"wrk saw errors: {p.stdout[-300:]}")
    m = re.search(r"Requests/sec:\s+([0-9.]+)", p.stdout)
    if not m:
        raise RuntimeError(f"wrk: no rate in output: {p.stdout[-300:]} {p.stderr[-200:]}")
    return float(m.group(1))


class CannedServer:
    """`ferry-bench providers --serve`: the keep-alive canned JSON server of the providers benchmark."""

    def __init__(self, bench: str, seconds: int = 900):
        self.proc = subprocess.Popen([bench, "providers", "--serve", str(seconds)], stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()
        self.port = json.loads(line)["port"]

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------------------------------------------------------
# Statistics


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs) -> str:
    xs = [x for x in xs if x is not None]
    if len(xs) < 2:
        return f"n={len(xs)}"
    m = statistics.median(xs)
    pct = (max(xs) - min(xs)) / m * 100 if m else 0
    return f"{fmt(min(xs))}..{fmt(max(xs))} (±{pct / 2:.0f}%, n={len(xs)})"


def fmt(x, unit: str = "") -> str:
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    ax = abs(x)
    if ax >= 1000:
        s = f"{x:,.0f}"
    elif ax >= 100:
        s = f"{x:.0f}"
    elif ax >= 10:
        s = f"{x:.1f}"
    elif ax >= 1:
        s = f"{x:.2f}"
    else:
        s = f"{x:.3f}"
    return s + unit


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


class Table:
    def __init__(self):
        self.rows: list[dict] = []

    def add(self, row: str, what: str, ferry, comparison: str, ratio, target: str, met, spread_: str = "",
            note: str = "") -> None:
        self.rows.append(dict(row=row, what=what, ferry=ferry, comparison=comparison, ratio=ratio, target=target,
                              met=met, spread=spread_, note=note))

    def failed(self, row: str, what: str, target: str, why: str) -> None:
        self.add(row, what, "—", f"could not run: {why}", None, target, None)

    def markdown(self) -> str:
        out = ["| # | measurement | Ferry | comparison (same pass) | ratio | target | met | spread of Ferry (min..max) |",
               "|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            met = {True: "yes", False: "**no**", None: "n/a"}[r["met"]]
            if r["met"] is False and r["note"]:
                met += f" ({r['note']})"
            ratio = r["ratio"] if isinstance(r["ratio"], str) else (fmt(r["ratio"], "x") if r["ratio"] else "—")
            out.append(f"| {r['row']} | {r['what']} | {r['ferry']} | {r['comparison']} | {ratio} | {r['target']} | "
                       f"{met} | {r['spread']} |")
        return "\n".join(out)


# ---------------------------------------------------------------------------------------------------------------
# Rows


def rows_providers(a, t: Table, raw: dict) -> None:
    ferry_seq = {s: [] for s, _ in SERVICES}
    ferry_conc = {s: [] for s, _ in SERVICES}
    sdk_seq = {s: [] for s, _ in SERVICES}
    floor1, floor64 = [], []
    ratio_sdk = {s: [] for s, _ in SERVICES}
    ratio_floor = {s: [] for s, _ in SERVICES}
    # Ferry vs the SDKs, both modes, calls/s and CPU µs per call (the issue-4 comparison): key -> service -> passes
    vs_sdk: dict[str, dict[str, list]] = {}
    sdk_error = None
    calls, sdk_calls, secs = (600, 200, 3) if a.quick else (2000, 600, 5)
    sdk_conc_calls = 640 if a.quick else 3200
    for rep in range(a.reps):
        log(f"rows 1-3: pass {rep + 1}/{a.reps}")
        server = CannedServer(a.bench_exe)
        try:
            url = f"http://127.0.0.1:{server.port}/"
            f = check_error(run_json([a.bench_exe, "store", "client", "--port", str(server.port), "--calls", str(calls),
                                      "--concurrency", "64"], 600), "ferry-bench store client")
            raw.setdefault("providers_ferry", []).append(f)
            try:
                py = check_error(run_json([a.python, str(REPO / "bench" / "provider_sdk_bench.py"), "--port",
                                           str(server.port), "--calls", str(sdk_calls), "--concurrency", "64",
                                           "--concurrent-calls", str(sdk_conc_calls)], 900), "provider_sdk_bench")
                raw.setdefault("providers_sdk", []).append(py)
            except Exception as e:  # noqa: BLE001
                py, sdk_error = None, str(e)
            w1 = wrk(url, 1, secs)
            w64 = wrk(url, 64, secs)
        finally:
            server.close()
        floor1.append(w1)
        floor64.append(w64)
        for s, _ in SERVICES:
            # The headline is the path ferry_call takes: the task pinned to the connection's event loop.
            fs = f["providers"][s]["sequential_pinned_calls_per_s"]
            ferry_seq[s].append(fs)
            ferry_conc[s].append(f["providers"][s]["concurrent_pinned_calls_per_s"])
            ratio_floor[s].append(w1 / fs)
            fp = f["providers"][s]
            pinned = {k: fp.get(k.replace("_calls", "_pinned_calls").replace("_cpu", "_pinned_cpu"))
                      for k in ("sequential_calls_per_s", "sequential_cpu_us_per_call", "concurrent_calls_per_s",
                                "concurrent_cpu_us_per_call")}
            for side, src in (("ferry", pinned), ("ferry_plain", fp), ("sdk", py["sdk"][s] if py else {})):
                for k in ("sequential_calls_per_s", "sequential_cpu_us_per_call", "concurrent_calls_per_s",
                          "concurrent_cpu_us_per_call"):
                    vs_sdk.setdefault(f"{side}.{k}", {}).setdefault(s, []).append(src.get(k))
            if py:
                ps = py["sdk"][s]["sequential_calls_per_s"]
                sdk_seq[s].append(ps)
                ratio_sdk[s].append(fs / ps)
    raw["wrk_canned_1c"], raw["wrk_canned_64c"] = floor1, floor64
    raw["providers_vs_sdk_table"] = [
        {"service": s, **{k: med(v.get(s, [])) for k, v in vs_sdk.items()}} for s, _ in SERVICES]
    for i, (s, label) in enumerate(SERVICES):
        what = f"{label} ({s.split('.')[-1]}), one call at a time as ferry_call makes it, calls/s"
        if sdk_seq[s]:
            r = med(ratio_sdk[s])
            t.add(f"1{'abcd'[i]}", what, fmt(med(ferry_seq[s])), f"official Python SDK: {fmt(med(sdk_seq[s]))}",
                  f"{r:.2f}x the SDK",
                  ">= 8x", r >= 8, spread(ferry_seq[s]) + f"; ratio {min(ratio_sdk[s]):.1f}..{max(ratio_sdk[s]):.1f}",
                  f"{r / 8 * 100:.0f}% of target")
        else:
            t.failed(f"1{'abcd'[i]}", what, ">= 8x", f"Python SDK benchmark failed: {sdk_error}")
    for i, (s, label) in enumerate(SERVICES):
        r = med(ratio_floor[s])
        t.add(f"2{'abcd'[i]}", f"{label}, one at a time vs loopback floor (latency ratio)", fmt(med(ferry_seq[s])),
              f"wrk -c1, same canned server: {fmt(med(floor1))}", f"{r:.2f}x the floor's latency", "<= 1.5x", r <= 1.5,
              f"floor {spread(floor1)}; ratio {min(ratio_floor[s]):.1f}..{max(ratio_floor[s]):.1f}",
              f"{r:.2f}x vs 1.5x")
    for i, (s, label) in enumerate(SERVICES):
        v = med(ferry_conc[s])
        t.add(f"3{'abcd'[i]}", f"{label}, 64 in flight, signed, calls/s", fmt(v),
              f"wrk -c64, same canned server: {fmt(med(floor64))}", f"{v / med(floor64):.2f} of the floor",
              ">= 30,000/s", v >= 30000,
              spread(ferry_conc[s]), f"{v / 30000 * 100:.0f}% of target")


def rows_abi(a, t: Table, raw: dict) -> None:
    lib = a.lib
    if not Path(lib).exists():
        t.failed("4", "C ABI: ferry_query on a 200-byte document", "<= 10 µs from C", f"{lib} not built")
        return
    res = []
    for rep in range(a.reps):
        log(f"row 4: pass {rep + 1}/{a.reps}")
        res.append(run_json([a.python, str(REPO / "bench" / "abi_bench.py"), "--library", lib, "--json"], 600))
    raw["abi"] = res
    c = [r["ferry_query_ns"] / 1000 for r in res]
    py = [r["py_raw_ctypes_query_ns"] / 1000 for r in res]
    bare = med([r["bare_c_call_ns"] for r in res])
    jans = med([r["jansson_parse_print_ns"] / 1000 for r in res])
    pyj = med([r["py_json_round_trip_ns"] / 1000 for r in res])
    v = med(c)
    t.add("4a", f"C ABI from C: ferry_query(\"a\", {res[0].get('document_bytes', 200)}-byte doc), µs/call", fmt(v, " µs"),
          f"bare C call {fmt(bare, ' ns')}; jansson parse+print {fmt(jans, ' µs')}",
          f"{v / jans:.2f} of jansson's time", "<= 10 µs",
          v <= 10, spread(c), f"{v:.1f} µs")
    v = med(py)
    t.add("4b", "C ABI from Python ctypes: same call, µs/call", fmt(v, " µs"),
          f"json.loads+dumps in Python {fmt(pyj, ' µs')}; jansson from C {fmt(jans, ' µs')}",
          f"{v / pyj:.2f} of Python json's time",
          "(no target)", None, spread(py))


def rows_jmespath(a, t: Table, raw: dict) -> None:
    data = os.path.join(a.tmp, "jmespath_bench.json")
    per_case: dict[str, list[float]] = {}
    ferry_us: dict[str, list[float]] = {}
    py_us: dict[str, float] = {}
    for rep in range(a.reps):
        log(f"row 5: pass {rep + 1}/{a.reps}")
        # Python first: it writes the shared documents (fixed seed) when the file is missing.
        pyr = run_json([a.python, str(REPO / "bench" / "jmespath_bench.py"), "--data", data] +
                       (["--quick"] if a.quick else []), 900)
        sw = run_json([a.bench_exe, "jmespath", "--data", data] + (["--quick"] if a.quick else []), 900)
        sw = sw if isinstance(sw, list) else [sw]
        pyr = pyr if isinstance(pyr, list) else [pyr]
        raw.setdefault("jmespath_ferry", []).append(sw)
        raw.setdefault("jmespath_python", []).append(pyr)
        pmap = {r["name"]: r["parse_us"] + r["eval_us"] for r in pyr if "error" not in r}
        for r in sw:
            if "error" in r or r["name"] not in pmap:
                continue
            f = r["parse_us"] + r["eval_us"]
            per_case.setdefault(r["name"], []).append(pmap[r["name"]] / f)
            ferry_us.setdefault(r["name"], []).append(f)
            py_us[r["name"]] = pmap[r["name"]]
    if not per_case:
        t.failed("5", "JMESPath parse+evaluate", ">= 20x", "no case produced results")
        return
    ratios = {k: med(v) for k, v in per_case.items()}
    raw["jmespath_ratios"] = ratios
    g = geomean(list(ratios.values()))
    worst = min(ratios, key=ratios.get)
    # The spread of the headline is the spread of the per-pass geometric means.
    passes = [geomean([per_case[k][i] for k in per_case if i < len(per_case[k])]) for i in range(a.reps)]
    t.add("5", f"JMESPath parse+evaluate, {len(ratios)} expressions (geometric mean of speed-ups; slowest case: "
               f"{worst} {ratios[worst]:.1f}x)", f"{fmt(g)}x faster", "Python jmespath package, same expressions",
          f"{g:.1f}x faster (geomean)", ">= 20x (every case)", min(ratios.values()) >= 20, spread(passes) + " (geomean x)",
          f"{sum(1 for r in ratios.values() if r < 20)} of {len(ratios)} cases below 20x")
    raw["jmespath_table"] = [{"case": k, "ferry_us": med(ferry_us[k]), "python_us": py_us[k], "speedup": ratios[k]}
                             for k in ratios]


def rows_store(a, t: Table, raw: dict) -> None:
    secs = "3" if a.quick else "5"
    seq, conc = [], []
    for rep in range(a.reps):
        log(f"rows 6-7: pass {rep + 1}/{a.reps}")
        seq.append(check_error(run_json([a.bench_exe, "store", "sequential", "--dir", a.tmp, "--seconds", secs], 600),
                               "store sequential"))
        conc.append(check_error(run_json([a.bench_exe, "store", "concurrent", "--dir", a.tmp, "--seconds", secs], 900),
                                "store concurrent"))
    raw["store_sequential"], raw["store_concurrent"] = seq, conc
    tr = [s["transitions_per_s"] for s in seq]
    rw = [s["raw_single_row_tx_per_s"] for s in seq]
    ratios = [x / y for x, y in zip(tr, rw)]
    r = med(ratios)
    cps = med([s.get("commits_per_call_step") for s in seq])
    t.add("6", f"durable step transitions/s, one run at a time (call steps against the emulator; "
               f"{fmt(med([s['call_steps_per_s'] for s in seq]))} steps/s x 2 transitions; "
               f"{fmt(cps)} fsync'd commits per step, measured)",
          fmt(med(tr)), f"raw SQLite, 1 row per transaction, WAL + synchronous=FULL: {fmt(med(rw))} tx/s",
          f"{r * 100:.0f}% of raw", ">= 50% of raw", r >= 0.5, spread(tr) + f"; ratio {min(ratios):.2f}..{max(ratios):.2f}",
          f"{r * 100:.0f}% of raw")
    st = [s.get("set_transitions_per_s") for s in seq]
    if all(st):
        sr = [x / y for x, y in zip(st, rw)]
        t.add("6b", f"same, steps with no provider call (`set`; {med([s['set_steps_per_run'] for s in seq])} per run, "
                    f"consecutive ones share their unit's commit: {fmt(med([s['set_commits_per_step'] for s in seq]))} "
                    f"commits per step, run creation included)",
              fmt(med(st)), f"raw SQLite, same pass: {fmt(med(rw))} tx/s", f"{med(sr) * 100:.0f}% of raw",
              ">= 50% of raw", med(sr) >= 0.5, spread(st) + f"; ratio {min(sr):.2f}..{max(sr):.2f}",
              f"{med(sr) * 100:.0f}% of raw")
    ct = [c["transitions_per_s"] for c in conc]
    errs = sum(len(c.get("errors", [])) for c in conc)
    v = med(ct)
    tps = med([c.get("transactions_per_call_step") for c in conc])
    grp = max([c.get("max_group") or 0 for c in conc])
    t.add("7", f"same, 1,000 runs advancing concurrently ({fmt(med([c['call_steps_per_s'] for c in conc]))} call steps/s; "
               f"group commit: {fmt(tps)} write transactions per step, groups up to {grp}"
               f"{'; errors: ' + str(errs) if errs else ''})", fmt(v),
          f"raw SQLite FULL: 1 row/tx {fmt(med([c['raw_single_row_tx_per_s'] for c in conc]))} tx/s; "
          f"1,000 rows/tx {fmt(med([c['raw_1000_rows_per_tx_rows_per_s'] for c in conc]))} rows/s",
          f"{v / med([c['raw_single_row_tx_per_s'] for c in conc]):.2f}x raw single-row", ">= 20,000/s", v >= 20000,
          spread(ct), f"{v / 20000 * 100:.0f}% of target")
    cs = [c.get("set_transitions_per_s") for c in conc]
    if all(cs):
        v = med(cs)
        t.add("7b", f"same, 1,000 runs of `set` steps ({fmt(med([c['set_transactions_per_step'] for c in conc]))} "
                    f"write transactions per step)", fmt(v),
              f"raw SQLite FULL 1 row/tx: {fmt(med([c['raw_single_row_tx_per_s'] for c in conc]))} tx/s",
              f"{v / med([c['raw_single_row_tx_per_s'] for c in conc]):.2f}x raw single-row", ">= 20,000/s",
              v >= 20000, spread(cs), f"{v / 20000 * 100:.0f}% of target")


def rows_idle(a, t: Table, raw: dict) -> None:
    log("row 8: 10,000 runs polling every 30 s, one scheduler loop (about 70 s)")
    r = idle_pass(a, "scheduler")
    raw["store_idle"] = r
    add_idle_row(t, "8", r, f"one scheduler loop over a due queue, <= {r.get('max_in_flight', 256)} units in flight")
    if a.idle_tasks:
        log("row 8b: same, one parked task per run (about 70 s)")
        r = idle_pass(a, "tasks")
        raw["store_idle_tasks"] = r
        add_idle_row(t, "8b", r, "variant: one task per run sleeping until next_wake_at (what `drive` per run does)")


def idle_pass(a, driver: str) -> dict:
    return check_error(run_json([a.bench_exe, "store", "idle", "--dir", a.tmp, "--runs", str(a.idle_runs), "--interval",
                                 "30", "--cycles", "2", "--driver", driver], 900), f"store idle ({driver})")


def add_idle_row(t: Table, row: str, r: dict, how: str) -> None:
    rss = r["rss_mb_max"]
    cpu = r["cpu_cores"]
    samples = r.get("cpu_cores_5s_samples", [])
    errs = len(r.get("errors", []))
    expected = r["runs"] / r["interval_s"]
    keeps_up = r["polls_per_s"] >= 0.95 * expected  # the runs really poll every 30 s
    met = rss <= 300 and cpu <= 1 and errs == 0 and keeps_up
    t.add(row, f"{r['runs']:,} runs polling every 30 s against the in-process emulator, {how} "
               f"({fmt(r['polls_per_s'])} polls/s measured over {fmt(r['window_seconds'])} s"
               f"{'; errors: ' + str(errs) if errs else ''})",
          f"{fmt(rss)} MB max RSS, {cpu:.2f} cores",
          "(absolute target; process includes runtime + emulator + SQLite) raw SQLite FULL right after: "
          f"{fmt(r.get('raw_single_row_tx_per_s_after'))} tx/s (polls of concurrent runs share group commits)",
          None, "<= 300 MB, <= 1 core", met,
          f"CPU per 5 s: {fmt(min(samples)) if samples else '—'}..{fmt(max(samples)) if samples else '—'} cores; "
          f"RSS last 30 s: {fmt(r['rss_mb_min_last_interval'])}..{fmt(rss)} MB",
          f"{rss:.0f} MB, {cpu:.2f} cores" + ("" if keeps_up else f"; only {r['polls_per_s']:.0f} of "
                                                 f"{expected:.0f} polls/s: falls behind"))


def hyperfine(cmd: list[str], runs: int, tmp: str, name: str, ignore_exit: bool = False) -> dict:
    out = os.path.join(tmp, f"hf-{name}.json")
    p = subprocess.run(["hyperfine", "-N", "--warmup", "3", "--runs", str(runs), "--export-json", out] +
                       (["-i"] if ignore_exit else []) + [" ".join(map(shlex_quote, cmd))],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"hyperfine {name}: {p.stderr[-300:]}")
    res = json.load(open(out))["results"][0]
    return {"median_ms": res["median"] * 1000, "min_ms": res["min"] * 1000, "max_ms": res["max"] * 1000,
            "mean_ms": res["mean"] * 1000, "stddev_ms": res["stddev"] * 1000, "runs": len(res["times"])}


def shlex_quote(s: str) -> str:
    import shlex
    return shlex.quote(s)


def status_command(cli: str, store: str, run_id: str) -> list[str] | None:
    """The `ferry status` invocation this build understands (the command may not exist yet)."""
    h = subprocess.run([cli, "status", "--help"], capture_output=True, text=True)
    if h.returncode != 0:
        return None
    text = h.stdout + h.stderr
    if "--store" in text:
        return [cli, "status", run_id, "--store", store]
    if "--config" in text:
        cfg = os.path.join(os.path.dirname(store), "engine.json")
        with open(cfg, "w") as f:
            json.dump({"store": store}, f)
        return [cli, "status", run_id, "--config", cfg]
    return None


def rows_cold_start(a, t: Table, raw: dict) -> None:
    runs = 10 if a.quick else 30
    if not shutil.which("hyperfine"):
        t.failed("9", "CLI cold start", "<= 20 ms / <= 40 ms", "hyperfine not installed (apt-get install hyperfine)")
        return
    cli = a.cli
    v = None
    log("row 9: cold start (seeding a store of 10,000 runs first)")
    py_import = [a.python, "-c", "import huaweicloudsdkdcs.v2.dcs_client"]
    py_import_ali = [a.python, "-c", "import alibabacloud_mse20190531.client"]
    try:
        sdk = hyperfine(py_import, runs, a.tmp, "py-huawei")
        sdk_ali = hyperfine(py_import_ali, runs, a.tmp, "py-ali")
        raw["cold_python_import_huawei"], raw["cold_python_import_alibaba"] = sdk, sdk_ali
        cmp_txt = (f"python3 -c 'import huaweicloudsdkdcs.v2.dcs_client': {fmt(sdk['median_ms'], ' ms')}; "
                   f"'import alibabacloud_mse20190531.client': {fmt(sdk_ali['median_ms'], ' ms')}")
        base = min(sdk["median_ms"], sdk_ali["median_ms"])
    except Exception as e:  # noqa: BLE001
        cmp_txt, base = f"could not run: {e}", None
    if not Path(cli).exists():
        t.failed("9a", "CLI cold start: ferry version", "<= 20 ms", f"{cli} not built")
    else:
        try:
            v = hyperfine([cli, "version"], runs, a.tmp, "version")
        except Exception as e:  # noqa: BLE001
            t.failed("9a", "CLI cold start: ferry version", "<= 20 ms", str(e)[:200])
            v = None
    if v:
        raw["cold_ferry_version"] = v
        m = v["median_ms"]
        t.add("9a", "CLI cold start: `ferry version` (release build), ms", fmt(m, " ms"), cmp_txt,
              f"{base / m:.1f}x faster" if base else None, "<= 20 ms", m <= 20,
              f"{fmt(v['min_ms'])}..{fmt(v['max_ms'])} ms (n={v['runs']})", f"{m:.1f} ms")
    store = os.path.join(a.tmp, "status-store", "runs.db")
    os.makedirs(os.path.dirname(store), exist_ok=True)
    seed = check_error(run_json([a.bench_exe, "store", "seed", "--store", store, "--runs", "10000"], 900), "store seed")
    raw["cold_seed"] = seed
    cmd = status_command(cli, store, seed["run_id"]) if Path(cli).exists() else None
    if cmd is None:
        t.failed("9b", "CLI cold start: `ferry status RUN`, store of 10,000 runs", "<= 40 ms",
                 "this build has no `ferry status` command with --store/--config")
        return
    chk = subprocess.run(cmd, capture_output=True, text=True)
    if seed["run_id"] not in chk.stdout or chk.returncode not in (0, 3):
        t.failed("9b", "CLI cold start: `ferry status RUN`, store of 10,000 runs", "<= 40 ms",
                 f"`ferry status` did not print the run (exit {chk.returncode}: {(chk.stderr or chk.stdout)[:160]})")
        return
    # `ferry status` exits 3 for a run that is still running (documented exit codes); that is its normal answer here.
    v = hyperfine(cmd, runs, a.tmp, "status", ignore_exit=True)
    raw["cold_ferry_status"] = v
    m = v["median_ms"]
    t.add("9b", "CLI cold start: `ferry status RUN` on a store of 10,000 runs, ms", fmt(m, " ms"), cmp_txt,
          f"{base / m:.1f}x faster" if base else None, "<= 40 ms", m <= 40,
          f"{fmt(v['min_ms'])}..{fmt(v['max_ms'])} ms (n={v['runs']})", f"{m:.1f} ms")


def rows_emulator(a, t: Table, raw: dict) -> None:
    secs = "3" if a.quick else "5"
    res = []
    for rep in range(a.reps):
        log(f"row 10: pass {rep + 1}/{a.reps}")
        res.append(check_error(run_json([a.bench_exe, "emulator", "--seconds", secs, "--connections", "64"], 600),
                               "ferry-bench emulator"))
    raw["emulator"] = res
    signed = [r.get("http_wrk_huawei_signed_rps") for r in res]
    floor = [r.get("http_wrk_admin_health_rps") for r in res]
    if any(x is None or x < 0 for x in signed):
        t.failed("10", "emulator requests/s, signatures checked, 64 connections", ">= 20,000/s",
                 "wrk run failed or saw non-2xx replies")
        return
    v = med(signed)
    fl = med(floor) if all(x and x > 0 for x in floor) else None
    inproc = med([r.get("in_process_huawei_signed_rps") for r in res])
    t.add("10", f"emulator requests/s over HTTP, SDK-HMAC-SHA256 signature checked on every request, wrk 64 connections "
                f"(in-process, no HTTP: {fmt(inproc)}/s)", fmt(v),
          f"loopback floor, same server, unsigned /_ferry/health: {fmt(fl)}" if fl else "could not run: health endpoint",
          f"{v / fl:.2f} of the floor" if fl else None, ">= 20,000/s", v >= 20000, spread(signed), f"{v / 20000 * 100:.0f}% of target")


# ---------------------------------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True,
                            cwd=REPO).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=REPO).stdout.strip()
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": commit + (" (+ uncommitted changes)" if dirty else ""),
            "swift": swift[0] if swift else "?", "python": platform.python_version(),
            "loadavg_start": open("/proc/loadavg").read().split()[:3]}


GROUPS = [
    ("1", rows_providers), ("4", rows_abi), ("5", rows_jmespath), ("6", rows_store), ("8", rows_idle),
    ("9", rows_cold_start), ("10", rows_emulator),
]
GROUP_ALIASES = {"2": "1", "3": "1", "7": "6"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=str(REPO / ".build-release" / "release"), help="directory of the release build")
    ap.add_argument("--python", default=str(REPO / ".venv" / "bin" / "python"), help="python with the official SDKs")
    ap.add_argument("--reps", type=int, default=3, help="passes per row (median and spread over them)")
    ap.add_argument("--quick", action="store_true", help="shorter measurements (smoke test of the harness)")
    ap.add_argument("--only", help="comma-separated row numbers (1-10)")
    ap.add_argument("--idle-runs", type=int, default=10000)
    ap.add_argument("--no-idle-tasks", dest="idle_tasks", action="store_false",
                    help="skip row 8b (the task-per-run variant of row 8)")
    ap.add_argument("--json", help="write every raw result here")
    ap.add_argument("--markdown", help="write the machine description and the table here")
    a = ap.parse_args()
    b = Path(a.bin)
    a.bench_exe = str(b / "FerryBench") if (b / "FerryBench").exists() else str(b / "ferry-bench")
    a.cli = str(b / "ferry-cli")
    a.lib = str(b / "libferry.so")
    if not Path(a.python).exists():
        a.python = sys.executable
    a.tmp = tempfile.mkdtemp(prefix="ferry-bench-", dir=os.environ.get("FERRY_BENCH_TMP", "/var/tmp"))
    only = None
    if a.only:
        only = {GROUP_ALIASES.get(x.strip(), x.strip()) for x in a.only.split(",")}
    info = machine()
    log(f"machine: {info['nproc']} cpus, {info['cpu']}, {info['memory']}; commit {info['commit']}; "
        f"load {' '.join(info['loadavg_start'])}")
    t = Table()
    raw: dict = {"machine": info}
    started = time.monotonic()
    try:
        for key, fn in GROUPS:
            if only and key not in only:
                continue
            try:
                fn(a, t, raw)
            except Exception as e:  # noqa: BLE001 — a failing piece must not hide the other rows
                log(f"rows {key}: failed: {e}")
                t.failed(key, fn.__name__.replace("rows_", ""), "", str(e)[:200])
                raw.setdefault("failures", {})[key] = str(e)
    finally:
        shutil.rmtree(a.tmp, ignore_errors=True)
    info["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    info["duration_s"] = round(time.monotonic() - started)
    head = (f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, Linux {info['kernel']}; "
            f"{info['swift']}; Python {info['python']}.\n"
            f"Date: {info['date']}; commit {info['commit']}; {a.reps} passes per row; "
            f"load average {' '.join(info['loadavg_start'])} at start, {' '.join(info['loadavg_end'])} at end; "
            f"the whole run took {info['duration_s']} s.\n")
    table = t.markdown()
    print(head)
    print(table)
    if "jmespath_table" in raw:
        jt = ["", "JMESPath per expression (parse + evaluate, µs, median over passes):", "",
              "| case | Ferry µs | Python jmespath µs | speed-up |", "|---|---|---|---|"]
        for r in raw["jmespath_table"]:
            jt.append(f"| {r['case']} | {fmt(r['ferry_us'])} | {fmt(r['python_us'])} | {r['speedup']:.1f}x |")
        print("\n".join(jt))
        table += "\n" + "\n".join(jt)
    if "providers_vs_sdk_table" in raw:
        pt = ["", "Provider clients, Ferry vs the official Python SDKs (same canned server, same pass; median over passes). "
              "CPU is user+system of the client process per call (the server runs in its own process). "
              "64 in flight: Ferry 64 tasks on one client; SDK 64 threads, one client each. "
              "Ferry = calls as `ferry_call` makes them (the task runs on the connection's event loop); "
              "Ferry (async caller) = a Swift task on the global pool, as the runtime's call steps make them.", "",
              "| service | mode | Ferry calls/s | Ferry (async caller) calls/s | SDK calls/s | Ferry/SDK | "
              "Ferry CPU µs/call | Ferry (async caller) CPU µs/call | SDK CPU µs/call | SDK CPU ÷ Ferry CPU |",
              "|---|---|---|---|---|---|---|---|---|---|"]

        def ratio(x, y):
            return f"{x / y:.1f}x" if x and y else "—"

        for r in raw["providers_vs_sdk_table"]:
            for mode, label in (("sequential", "one at a time"), ("concurrent", "64 in flight")):
                fc, sc = r.get(f"ferry.{mode}_calls_per_s"), r.get(f"sdk.{mode}_calls_per_s")
                fu, su = r.get(f"ferry.{mode}_cpu_us_per_call"), r.get(f"sdk.{mode}_cpu_us_per_call")
                pc, pu = r.get(f"ferry_plain.{mode}_calls_per_s"), r.get(f"ferry_plain.{mode}_cpu_us_per_call")
                pt.append(f"| {r['service']} | {label} | {fmt(fc)} | {fmt(pc)} | {fmt(sc)} | {ratio(fc, sc)} | "
                          f"{fmt(fu)} | {fmt(pu)} | {fmt(su)} | {ratio(su, fu)} |")
        print("\n".join(pt))
        table += "\n" + "\n".join(pt)
    raw["table"] = t.rows
    if a.json:
        with open(a.json, "w") as f:
            json.dump(raw, f, indent=2, sort_keys=True)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(head + "\n" + table + "\n")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
