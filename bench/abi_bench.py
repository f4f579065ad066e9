#!/usr/bin/env python3
"""ABI benchmark: libferry's size, its load time from Python, and the cost of one trivial JSON call from C and
from Python, with yardsticks (a bare C call, jansson parse+print, Python's json round trip).

    .venv/bin/python bench/abi_bench.py [--library PATH] [--json]

Builds and runs bench/abi_bench.c for the C numbers. Load time: a fresh interpreter per sample (median of 20),
measured around `ferry.library()` (dlopen + Swift runtime start + declarations) and around the bare dlopen.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bindings" / "python"))

import ferry  # noqa: E402
from ferry import _native  # noqa: E402

DOC = ('{"a":1,"name":"ferry-benchmark","id":"r-bp1234567890abcdef","status":"Running",'
       '"region":"cn-hangzhou","tags":["migration","redis","rocketmq"],'
       '"nested":{"k":"v","n":[1,2,3,4,5]},"flag":true,"value":12.5,"owner":"ops-team"}')


def median_per_call(fn, n: int, batches: int = 21, clock=time.perf_counter) -> float:
    """Median seconds per call over batches of n calls, after one warm-up batch. clock=time.thread_time measures
    this thread's CPU time (what other processes on a busy machine cannot inflate)."""
    for _ in range(n):
        fn()
    per = []
    for _ in range(batches):
        t0 = clock()
        for _ in range(n):
            fn()
        per.append((clock() - t0) / n)
    return statistics.median(per)


def load_times(path: str, samples: int = 20) -> dict:
    code = ("import sys, time, ctypes; sys.path.insert(0, sys.argv[1]); t=time.perf_counter(); "
            "import ferry; lib = ferry.library(); t1=time.perf_counter(); print(t1-t, lib.load_seconds)")
    bare = "import time, ctypes, sys; t=time.perf_counter(); ctypes.CDLL(sys.argv[1]); print(time.perf_counter()-t)"
    env = dict(os.environ, FERRY_LIBRARY=path)
    binding, dlopen, raw = [], [], []
    for _ in range(samples):
        out = subprocess.run([sys.executable, "-c", code, str(REPO / "bindings" / "python")], env=env,
                             capture_output=True, text=True, check=True).stdout.split()
        binding.append(float(out[0]))
        dlopen.append(float(out[1]))
        raw.append(float(subprocess.run([sys.executable, "-c", bare, path], capture_output=True, text=True,
                                        check=True).stdout))
    return {"import_and_load_ms": statistics.median(binding) * 1e3, "binding_dlopen_ms": statistics.median(dlopen) * 1e3,
            "bare_ctypes_dlopen_ms": statistics.median(raw) * 1e3}


def c_numbers(path: str) -> dict:
    libdir = str(Path(path).resolve().parent)
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "abi_bench")
        subprocess.run(["cc", "-std=c99", "-O2", "-D_POSIX_C_SOURCE=200809L", f"-I{REPO / 'Include'}",
                        str(REPO / "bench" / "abi_bench.c"), "-o", exe, f"-L{libdir}", f"-Wl,-rpath,{libdir}",
                        "-lferry", "-ljansson"], check=True)
        return json.loads(subprocess.run([exe], capture_output=True, text=True, check=True).stdout)


def python_numbers(lib: _native.Library) -> dict:
    doc_obj = json.loads(DOC)
    doc_bytes = DOC.encode()
    fn = lib.ferry_query
    out = ctypes.c_void_p()
    ref = ctypes.byref(out)
    free = lib.ferry_free

    def raw_call():
        fn(b"a", doc_bytes, ref)
        free(out.value)

    cases = {
        "py_ferry_version_number": (lib.ferry_version_number, 20000),
        "py_raw_ctypes_query": (raw_call, 2000),
        "py_query_text": (lambda: ferry.query_text("a", DOC), 2000),
        "py_query": (lambda: ferry.query("a", doc_obj), 2000),
        "py_json_round_trip": (lambda: json.dumps(json.loads(DOC)), 2000),
    }
    result = {}
    for name, (call, n) in cases.items():
        result[f"{name}_ns"] = median_per_call(call, n) * 1e9
    for name, (call, n) in cases.items():
        result[f"{name}_cpu_ns"] = median_per_call(call, n, clock=time.thread_time) * 1e9
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", help="libferry.so to measure (default: the binding's discovery)")
    ap.add_argument("--json", action="store_true", help="print only the JSON result")
    args = ap.parse_args()
    if args.library:
        os.environ["FERRY_LIBRARY"] = args.library
    lib = ferry.library()
    result = {"library": lib.path, "library_bytes": os.path.getsize(lib.path)}
    release = REPO / ".build" / "release" / "libferry.so"
    if release.exists() and Path(lib.path).resolve() != release.resolve():
        result["release_library_bytes"] = os.path.getsize(release)
    result.update(load_times(lib.path))
    result.update(c_numbers(lib.path))
    result.update(python_numbers(lib))
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:32} {value:.2f}" if isinstance(value, float) else f"{key:32} {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
