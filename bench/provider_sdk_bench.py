#!/usr/bin/env python3
"""Official Python SDKs against a canned local server: calls/s and CPU per call, one at a time and N in flight.

Usage:
  .venv/bin/python bench/provider_sdk_bench.py [--calls N] [--port P] [--concurrency C] [--concurrent-calls M]

With --port, the SDKs call an already running canned server, e.g. the one `ferry-bench providers --serve 120`
starts (it prints {"port": N}), so Ferry and the SDKs are measured against the same server. Without --port the
script starts `.build/release/FerryBench providers --serve` (or the debug build) itself, and falls back to a
Python ThreadingHTTPServer if neither binary exists (slower server: numbers are then a lower bound).
Output: one JSON object with, per operation (same operations as ferry-bench providers): calls/s, p50/p99 latency
and CPU per call (user+system of this process from getrusage, divided by calls; the server runs in another process)
one call at a time, and calls/s and CPU per call with C calls in flight. "In flight" for a synchronous SDK means
C threads, each with its own client (the SDKs' clients are not documented as thread-safe), as a script using
concurrent.futures.ThreadPoolExecutor would do. CPython's GIL caps what the threads add.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

os.environ["HOME"] = tempfile.mkdtemp()
for k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
    os.environ.pop(k, None)

from alibabacloud_mse20190531 import models as mse_models  # noqa: E402
from alibabacloud_mse20190531.client import Client as MseClient  # noqa: E402
from alibabacloud_rocketmq20220801 import models as rmq_models  # noqa: E402
from alibabacloud_rocketmq20220801.client import Client as RmqClient  # noqa: E402
from alibabacloud_tea_openapi.utils_models import Config  # noqa: E402
from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: E402
from huaweicloudsdkdcs.v2 import DcsClient  # noqa: E402
from huaweicloudsdkdcs.v2 import model as dcs  # noqa: E402
from huaweicloudsdkrocketmq.v2 import RocketMQClient  # noqa: E402
from huaweicloudsdkrocketmq.v2 import model as dms  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BODY = (b'{"requestId":"bench","RequestId":"bench","success":true,"Success":true,"data":true,'
        b'"task_id":"mt-1","status":"TERMINATING","total":0,"task":[]}')


def python_server():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _h(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

        do_GET = do_POST = do_PUT = do_DELETE = _h

        def log_message(self, *a):
            pass

    s = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s.server_address[1], "python ThreadingHTTPServer"


def ferry_server():
    for kind in ("release", "debug"):
        exe = os.path.join(ROOT, ".build", kind, "FerryBench")
        if os.path.exists(exe):
            p = subprocess.Popen([exe, "providers", "--serve", "600"], stdout=subprocess.PIPE, text=True)
            line = p.stdout.readline()
            return json.loads(line)["port"], f"ferry-bench canned NIO server ({kind})", p
    return None


def operations(port):
    ali = Config(access_key_id="AKBENCH", access_key_secret="bench-secret", endpoint=f"127.0.0.1:{port}",
                 protocol="http", region_id="cn-hangzhou")
    rmq, mse = RmqClient(ali), MseClient(ali)
    cred = BasicCredentials("HWBENCH", "bench-secret", "0123456789abcdef0123456789abcdef")
    hw_dms = RocketMQClient.new_builder().with_credentials(cred).with_endpoints([f"http://127.0.0.1:{port}"]).build()
    hw_dcs = DcsClient.new_builder().with_credentials(cred).with_endpoints([f"http://127.0.0.1:{port}"]).build()
    return [
        ("alibaba.rocketmq.FinishMigrationStage",
         lambda: rmq.finish_migration_stage("7", "MIGRATE_MESSAGE", rmq_models.FinishMigrationStageRequest(instance_id="rmq-1"))),
        ("alibaba.mse.UpdateMigrationTask",
         lambda: mse.update_migration_task(mse_models.UpdateMigrationTaskRequest(id="42", project_desc="bench task", accept_language="en"))),
        ("huawei.rocketmq.ListRocketMqMigrationTask",
         lambda: hw_dms.list_rocket_mq_migration_task(dms.ListRocketMqMigrationTaskRequest(instance_id="inst-1", offset=1, limit=10))),
        ("huawei.dcs.StopMigrationTask",
         lambda: hw_dcs.stop_migration_task(dcs.StopMigrationTaskRequest(task_id="mt-1"))),
    ]


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def sequential(call, calls):
    for _ in range(min(100, calls)):
        call()
    lat = []
    c0, t0 = cpu_seconds(), time.perf_counter()
    for _ in range(calls):
        s = time.perf_counter()
        call()
        lat.append(time.perf_counter() - s)
    total, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    lat.sort()
    return {"sequential_calls_per_s": int(calls / total),
            "sequential_cpu_us_per_call": round(cpu / calls * 1e6, 1),
            "sequential_p50_ms": round(lat[len(lat) // 2] * 1000, 3),
            "sequential_p99_ms": round(lat[min(len(lat) - 1, len(lat) * 99 // 100)] * 1000, 3)}


def in_flight(port, index, concurrency, calls):
    """`calls` calls spread over `concurrency` threads, each with its own client; all start together."""
    per_thread = max(1, calls // concurrency)
    clients = [operations(port)[index][1] for _ in range(concurrency)]
    for c in clients:  # warm each client's connection
        c()
    start, errors = threading.Barrier(concurrency + 1), []

    def worker(call):
        start.wait()
        try:
            for _ in range(per_thread):
                call()
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            errors.append(repr(e)[:200])

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for th in threads:
        th.start()
    start.wait()
    c0, t0 = cpu_seconds(), time.perf_counter()
    for th in threads:
        th.join()
    total, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    if errors:
        raise RuntimeError(f"{len(errors)} threads failed, first: {errors[0]}")
    n = per_thread * concurrency
    return {"concurrent_calls_per_s": int(n / total), "concurrent_cpu_us_per_call": round(cpu / n * 1e6, 1),
            "concurrency": concurrency}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--port", type=int)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--concurrent-calls", type=int, default=0, help="calls in the in-flight phase (0: skip it)")
    a = ap.parse_args()
    proc = None
    if a.port:
        port, server = a.port, "external"
    else:
        f = ferry_server()
        if f:
            port, server, proc = f
        else:
            port, server = python_server()
    out = {}
    try:
        for i, (name, call) in enumerate(operations(port)):
            out[name] = sequential(call, a.calls)
            if a.concurrent_calls:
                out[name].update(in_flight(port, i, a.concurrency, a.concurrent_calls))
    finally:
        if proc:
            proc.terminate()
            proc.wait()
    print(json.dumps({"sdk": out, "calls": a.calls, "server": server}, indent=2, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
