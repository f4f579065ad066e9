"""16 Python threads (FERRY_STRESS_THREADS) calling Ferry concurrently for FERRY_STRESS_SECONDS (default 10):
queries with per-thread answers, expected errors, log hooks on a shared engine and on their own engines, and
engine open/close. No call may fail unexpectedly and no thread may hang."""

from __future__ import annotations

import os
import threading
import time

import pytest

import ferry


def test_threads_call_concurrently():
    seconds = float(os.environ.get("FERRY_STRESS_SECONDS", "10"))
    nthreads = int(os.environ.get("FERRY_STRESS_THREADS", "16"))
    emulator = ferry.Emulator()
    config = emulator.engine_config()
    shared = ferry.Engine(config)
    workflow = {"ferry": 1, "name": "stress", "steps": [{"id": "l", "call": "huawei.dcs.ListMigrationTask"}],
                "outputs": {"n": "${steps.l.output.count}"}}
    stop = threading.Event()
    failures: list = []
    iterations = [0] * nthreads

    def work(tid: int) -> None:
        def hook(level: int, record: dict) -> None:
            pass

        own = ferry.Engine(config)
        i = 0
        try:
            while i < 12 or not stop.is_set():  # at least one pass over every step, however late it starts
                i += 1
                got = ferry.query("[t, i, xs[-1]]", {"t": tid, "i": i, "xs": [i, tid]})
                if got != [tid, i, tid]:
                    failures.append((tid, i, got))
                step = i % 12
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
                    own = ferry.Engine(config)
                elif step == 6:
                    assert ferry.query_text("length(@)", '"日本"') == "2"
                elif step == 7:
                    assert ferry.ops("huawei.dcs.StopMigrationTask")["name"] == "huawei.dcs.StopMigrationTask"
                elif step == 8:
                    assert "migration_tasks" in shared.call("huawei.dcs.ListMigrationTask")
                elif step == 9:
                    try:
                        own.call("huawei.dcs.ShowMigrationTask", {"task_id": "missing"})
                        failures.append((tid, i, "no NotFoundError"))
                    except ferry.NotFoundError:
                        pass
                elif step == 10 and i % 48 == 10:
                    run = (own if (i // 48) % 2 else shared).start(workflow)
                    final = run.drive()
                    if final["status"] != "succeeded" or run.status()["outputs"] != {"n": 0}:
                        failures.append((tid, i, final))
                elif step == 11:
                    assert shared.validate(workflow)["valid"]
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
    emulator.stop()
    elapsed = time.monotonic() - started
    assert failures == []
    assert all(n > 0 for n in iterations), iterations
    print(f"\nstress: {nthreads} threads x {seconds:.0f} s, {sum(iterations)} iterations "
          f"({sum(iterations) / elapsed:.0f}/s)")


def test_close_while_other_threads_use_the_engine():
    engine = ferry.Engine()
    go = threading.Barrier(9)
    unexpected: list = []
    closed_seen = []

    def hook(level: int, record: dict) -> None:
        pass

    def use() -> None:
        go.wait()
        for _ in range(10_000_000):
            try:
                engine.set_log_hook(hook, "info")
            except ferry.ClosedError:
                closed_seen.append(1)
                return
            except Exception as e:
                unexpected.append(repr(e))
                return
        unexpected.append("never saw ClosedError")

    threads = [threading.Thread(target=use, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    go.wait()
    time.sleep(0.02)
    engine.close()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert unexpected == [] and len(closed_seen) == 8


def test_concurrent_close_of_one_handle_succeeds_once(lib):
    engine = ferry.Engine()
    handle = engine.handle
    go = threading.Barrier(16)
    results: list = []

    def close() -> None:
        go.wait()
        results.append(lib.ferry_engine_close(handle))

    threads = [threading.Thread(target=close) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == sorted([0] + [ferry.ClosedError.status] * 15)
    with pytest.raises(ferry.ClosedError):
        engine.close()  # the Engine object did not close it itself, so Ferry reports the handle as closed
