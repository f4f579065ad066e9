"""16 Python threads (FERRY_STRESS_THREADS) calling Ferry concurrently for FERRY_STRESS_SECONDS (default 10):
queries with per-thread answers, expected errors, log hooks on a shared engine and on their own engines, and
engine open/close. No call may fail unexpectedly and no thread may hang."""

from __future__ import annotations

import os
import threading
import time

import ferry


def test_threads_call_concurrently():
    seconds = float(os.environ.get("FERRY_STRESS_SECONDS", "10"))
    nthreads = int(os.environ.get("FERRY_STRESS_THREADS", "16"))
    shared = ferry.Engine()
    stop = threading.Event()
    failures: list = []
    iterations = [0] * nthreads

    def work(tid: int) -> None:
        def hook(level: int, record: dict) -> None:
            pass

        own = ferry.Engine({"limits": {"max_depth": 64}})
        i = 0
        try:
            while not stop.is_set():
                i += 1
                got = ferry.query("[t, i, xs[-1]]", {"t": tid, "i": i, "xs": [i, tid]})
                if got != [tid, i, tid]:
                    failures.append((tid, i, got))
                step = i % 8
                if step == 0:
                    try:
                        ferry.query_text("a", '{"a":')
                        failures.append((tid, i, "no InvalidJSONError"))
                    except ferry.InvalidJSONError:
                        pass
                elif step == 1:
                    try:
                        ferry.query("nope(@)", {})
                        failures.append((tid, i, "no InvalidExpressionError"))
                    except ferry.InvalidExpressionError:
                        pass
                elif step == 2:
                    shared.set_log_hook(hook, i % 7)
                elif step == 3:
                    shared.set_log_hook(None)
                elif step == 4:
                    own.set_log_hook(hook, "debug")
                elif step == 5 and i % 64 == 5:
                    own.close()
                    try:
                        own.set_log_hook(hook)
                        failures.append((tid, i, "no ClosedError"))
                    except ferry.ClosedError:
                        pass
                    own = ferry.Engine()
                elif step == 6:
                    assert ferry.query_text("length(@)", '"日本"') == "2"
        except Exception as e:  # recorded, not raised: the main thread reports
            failures.append((tid, i, repr(e)))
        finally:
            own.close()
            iterations[tid] = i

    threads = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(nthreads)]
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    hung = [t.name for t in threads if t.is_alive()]
    assert not hung, f"deadlock: {hung} still running 60 s after the stop"
    shared.close()
    elapsed = time.monotonic() - started
    assert failures == []
    assert all(n > 0 for n in iterations), iterations
    print(f"\nstress: {nthreads} threads x {seconds:.0f} s, {sum(iterations)} iterations "
          f"({sum(iterations) / elapsed:.0f}/s)")
