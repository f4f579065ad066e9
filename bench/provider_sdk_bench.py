#!/usr/bin/env python3
"""Official Python SDKs against a canned local server: calls/s one at a time, per service.

Usage:
  .venv/bin/python bench/provider_sdk_bench.py [--calls N] [--port P]

With --port, the SDKs call an already running canned server, e.g. the one `ferry-bench providers --serve 120`
starts (it prints {"port": N}), so Ferry and the SDKs are measured against the same server. Without --port the
script starts `.build/release/FerryBench providers --serve` (or the debug build) itself, and falls back to a
Python ThreadingHTTPServer if neither binary exists (slower server: numbers are then a lower bound).
Output: one JSON object with calls/s and p50/p99 latency per operation (same operations as ferry-bench providers).
"""
import argparse
import json
import os
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--port", type=int)
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
        for name, call in operations(port):
            for _ in range(min(100, a.calls)):
                call()
            lat = []
            t0 = time.perf_counter()
            for _ in range(a.calls):
                s = time.perf_counter()
                call()
                lat.append(time.perf_counter() - s)
            total = time.perf_counter() - t0
            lat.sort()
            out[name] = {"sequential_calls_per_s": int(a.calls / total),
                         "sequential_p50_ms": round(lat[len(lat) // 2] * 1000, 3),
                         "sequential_p99_ms": round(lat[min(len(lat) - 1, len(lat) * 99 // 100)] * 1000, 3)}
    finally:
        if proc:
            proc.terminate()
            proc.wait()
    print(json.dumps({"sdk": out, "calls": a.calls, "server": server}, indent=2, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
