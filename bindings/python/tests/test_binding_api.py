"""The Python binding's API: results, errors, engines, hooks, library discovery, versions, processes."""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import ferry
from ferry import _native, errors

from ferry_binding_testlib import HEADER, REPO

PACKAGE_DIR = Path(ferry.__file__).resolve().parent


# ---- The contract: ferry.h and the binding agree ---------------------------------------------------------

def header_functions() -> set:
    text = HEADER.read_text()
    return set(re.findall(r"^[a-z][\w \*]*?\b(ferry_\w+)\(", text, re.MULTILINE))


def header_codes() -> dict:
    return {name: int(value) for name, value in re.findall(r"#define FERRY_(E\w+|OK)\s+(-?\d+)", HEADER.read_text())}


def test_every_header_function_is_declared_and_exported(lib):
    declared = header_functions()
    assert {"ferry_query", "ferry_engine_open", "ferry_free"} <= declared
    assert declared == set(_native.SIGNATURES), "add new ferry.h functions to _native.SIGNATURES"
    missing = [name for name in declared if not lib.has(name)]
    assert missing == [], f"{lib.path} lacks {missing}"


def test_every_header_function_is_exercised_by_these_tests():
    sources = "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    for name in header_functions():
        assert name in sources, f"{name} is not exercised by bindings/python/tests"


def test_error_table_matches_header_and_library(lib):
    codes = header_codes()
    assert codes.pop("OK") == 0
    table = {status: code for status, code, _, _, _ in errors.CODES}
    assert sorted(table) == sorted(codes.values())
    for status, code, name, _, _ in errors.CODES:
        assert lib.ferry_error_name(status).decode() == code
        assert ferry.error_name(status) == code
        cls = getattr(ferry, name)
        assert issubclass(cls, ferry.FerryError) and cls.status == status and cls.code == code
        assert ferry.error_class(status) is cls and ferry.error_class(code) is cls
    assert ferry.error_name(12345) == "unknown"
    assert ferry.error_class(12345) is ferry.FerryError


def test_versions(lib):
    header = dict(re.findall(r"#define FERRY_VERSION_(MAJOR|MINOR|PATCH) (\d+)", HEADER.read_text()))
    number = int(header["MAJOR"]) * 10000 + int(header["MINOR"]) * 100 + int(header["PATCH"])
    assert lib.ferry_version_number() == number == lib.version_number
    assert lib.ferry_version().decode() == ferry.version() == f"{header['MAJOR']}.{header['MINOR']}.{header['PATCH']}"
    assert int(header["MAJOR"]) == ferry.EXPECTED_MAJOR


# ---- Query ----------------------------------------------------------------------------------------------

def test_query_results_are_python_values():
    assert ferry.query("a", {"a": 1}) == 1
    assert ferry.query("b", {"a": 1}) is None
    assert ferry.query("a[?b > `1`].b", {"a": [{"b": 1}, {"b": 2}, {"b": 3}]}) == [2, 3]
    assert ferry.query("{x: a, y: b}", {"a": "s", "b": [True, None]}) == {"x": "s", "y": [True, None]}
    assert ferry.query("a", {"a": 0.1}) == 0.1
    assert ferry.query("a", {"a": 2**100}) == 2**100
    assert ferry.query("a", {"a": -(2**63)}) == -(2**63)
    assert ferry.query('"k\u00e9y"', {"kéy": "日本😀"}) == "日本😀"
    assert ferry.query("length(@)", "日本") == 2
    assert ferry.query("@", []) == []
    assert ferry.query("@", 10**300) == 10**300
    huge = int("9" * 4000)  # Python refuses int <-> str conversions over 4300 digits by default
    assert ferry.query("@", [huge]) == [huge]


def test_query_text_passes_json_text_through():
    assert ferry.query_text("a", '{"a": [1, 2]}') == "[1,2]"
    assert ferry.query_text(b"a", b'{"a": "\xc3\xa9"}') == '"é"'


def test_errors_carry_code_status_message_details():
    with pytest.raises(ferry.InvalidJSONError) as info:
        ferry.query_text("a", '{"a":\n}')
    e = info.value
    assert (e.code, e.status) == ("invalid_json", -1)
    assert e.field == "document" and e.details["line"] == 2 and "column" in e.details
    assert "document" in e.message and str(e).startswith("invalid_json: ")
    assert isinstance(e, ValueError) and not e.retryable
    assert e.to_dict() == {"code": "invalid_json", "message": e.message, "details": e.details}
    with pytest.raises(ferry.InvalidExpressionError) as info:
        ferry.query("a.[", {})
    assert info.value.details["type"] == "syntax"
    with pytest.raises(ferry.ExpressionFailedError) as info:
        ferry.query("abs(a)", {"a": "x"})
    assert info.value.details["type"] == "invalid-type"


def test_errors_pickle_and_retryable_flags():
    import pickle
    e = ferry.ThrottledError("slow down", {"field": "x"})
    copy = pickle.loads(pickle.dumps(e))
    assert type(copy) is ferry.ThrottledError and copy.details == {"field": "x"} and copy.retryable
    assert not ferry.ThrottledError("m", {"retryable": False}).retryable
    assert isinstance(ferry.TimeoutError("late"), TimeoutError)
    assert isinstance(ferry.NotFoundError("x"), LookupError)
    unknown = errors.error_from_reply(-99, {"code": "new_code", "message": "m", "details": {}})
    assert type(unknown) is ferry.FerryError and unknown.code == "new_code" and unknown.status == -99
    junk = errors.error_from_reply(-1, "not an object")
    assert type(junk) is ferry.InvalidJSONError and junk.message


# ---- Engines --------------------------------------------------------------------------------------------

def test_engine_context_manager_closes():
    with ferry.Engine({"limits": {"max_depth": 32}}) as e:
        assert not e.closed and e.handle
        e.set_log_hook(None)
    assert e.closed
    with pytest.raises(ferry.ClosedError):
        e.set_log_hook(lambda level, record: None, "info")
    e.close()  # closing a closed Engine object is a no-op


def test_replaced_log_hook_stays_callable() -> None:
    # A record already being logged on another thread may still call the previous callback after
    # set_log_hook returns, so its ctypes thunk must not be freed while the engine lives.
    with ferry.Engine() as e:
        e.set_log_hook(lambda level, record: None, "info")
        first = e._hook
        e.set_log_hook(lambda level, record: None, "debug")
        e.set_log_hook(None)
        assert any(h is first for h in e._retired_hooks)


def test_engine_closes_on_exception():
    with pytest.raises(RuntimeError):
        with ferry.Engine() as e:
            raise RuntimeError("boom")
    assert e.closed


def test_engine_config_forms(lib, raw):
    for config in (None, {}, "", "{}", b"{}", {"limits": {"max_input_bytes": 1 << 20}}):
        with ferry.Engine(config):
            pass


def test_unclosed_engine_is_closed_when_collected(lib):
    e = ferry.Engine()
    handle = e.handle
    del e
    gc.collect()
    # The handle was closed by the finalizer: Ferry now reports it as closed.
    assert lib.ferry_engine_close(handle) == ferry.ClosedError.status


def test_many_engines_are_independent():
    engines = [ferry.Engine() for _ in range(32)]
    assert len({e.handle for e in engines}) == 32
    for e in engines[::2]:
        e.close()
    for e in engines[1::2]:
        e.set_log_hook(None)
        e.close()


# ---- Log hook -------------------------------------------------------------------------------------------

def test_log_hook_set_replace_remove(engine):
    records = []
    for level in list(range(8)) + list(ferry.LOG_LEVELS):
        engine.set_log_hook(lambda lvl, rec: records.append((lvl, rec)), level)
    engine.set_log_hook(None)
    engine.set_log_hook(lambda lvl, rec: None, "off")
    engine.log_to("ferry.test", "debug")
    engine.log_to(logging.getLogger("ferry.test2"), ferry.LOG_TRACE)
    engine.set_log_hook(None, ferry.LOG_OFF)
    # Whatever was logged meanwhile is well-formed.
    for lvl, rec in records:
        assert set(rec) >= {"ts", "level", "logger", "message", "fields"}


def test_log_hook_invalid_levels(engine):
    for level in (-1, 8, 100, 2**31 - 1, -(2**31)):
        with pytest.raises(ferry.InvalidArgumentError) as info:
            engine.set_log_hook(lambda lvl, rec: None, level)
        assert info.value.field == "min_level"
    for level in ("loud", 2**40, 1.5, True):
        with pytest.raises(ferry.InvalidArgumentError):
            engine.set_log_hook(lambda lvl, rec: None, level)


def test_log_hook_trampoline_survives_callback_errors(caplog):
    from ferry._api import _make_trampoline
    def bad(level, record):
        raise ValueError("hook bug")
    with caplog.at_level(logging.ERROR, logger="ferry.binding"):
        _make_trampoline(bad)(None, 2, b'{"message":"m"}')
        _make_trampoline(bad)(None, 2, b"not json")
    assert sum("log hook raised" in r.getMessage() for r in caplog.records) == 2


def test_log_to_maps_levels(caplog):
    from ferry._api import PYTHON_LEVELS
    assert PYTHON_LEVELS[ferry.LOG_WARNING] == logging.WARNING and PYTHON_LEVELS[ferry.LOG_NOTICE] == 25


# ---- Library discovery and loading ----------------------------------------------------------------------

def run_python(code: str, env: dict = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.pop("FERRY_LIBRARY", None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=120)


def test_discovery_order():
    found = [str(p) for p in _native.candidates(PACKAGE_DIR)]
    assert found[0] == str(PACKAGE_DIR / "libferry.so")
    if (REPO / "Package.swift").exists() and str(PACKAGE_DIR).startswith(str(REPO)):
        assert found[1:] == [str(REPO / ".build/debug/libferry.so"), str(REPO / ".build/release/libferry.so"),
                             str(REPO / ".build-release/release/libferry.so")]


def test_ferry_library_env_wins_and_is_not_replaced(lib):
    r = run_python("import ferry; print(ferry.library_path())", {"FERRY_LIBRARY": lib.path})
    assert r.returncode == 0 and r.stdout.strip() == lib.path, r.stderr
    r = run_python("import ferry; ferry.query('a', {})", {"FERRY_LIBRARY": "/nonexistent/libferry.so"})
    assert r.returncode != 0 and "LibraryNotFoundError" in r.stderr and "/nonexistent/libferry.so" in r.stderr


def test_non_ferry_library_is_refused(tmp_path):
    import ctypes.util
    libc = ctypes.util.find_library("c")
    r = run_python("import ferry; ferry.version()", {"FERRY_LIBRARY": "/lib/x86_64-linux-gnu/" + libc}
                   if os.path.exists("/lib/x86_64-linux-gnu/" + str(libc)) else {"FERRY_LIBRARY": str(libc)})
    assert r.returncode != 0 and "is not libferry" in r.stderr


def test_import_does_not_load_the_library():
    r = run_python("import ferry, ferry._native as n; print(n._library is None)", {"FERRY_LIBRARY": "/nonexistent"})
    assert r.returncode == 0 and r.stdout.strip() == "True", r.stderr


def test_load_time_is_measured(lib):
    """Reports the library's load time in a fresh process (median of 5; not asserted)."""
    code = ("import time; t=time.perf_counter(); import ferry; l=ferry.library(); "
            "print(time.perf_counter()-t, l.load_seconds)")
    samples = []
    for _ in range(5):
        r = run_python(code, {"FERRY_LIBRARY": lib.path})
        assert r.returncode == 0, r.stderr
        samples.append([float(x) for x in r.stdout.split()])
    total = statistics.median(s[0] for s in samples)
    dlopen = statistics.median(s[1] for s in samples)
    print(f"\nlibferry load: import+load {total * 1000:.1f} ms, dlopen {dlopen * 1000:.1f} ms ({lib.path})")


# ---- Functions an older library lacks -------------------------------------------------------------------

def test_missing_function_raises_unsupported(lib):
    assert lib.has("ferry_query") and not lib.has("ferry_teleport")
    with pytest.raises(ferry.UnsupportedError) as info:
        lib.require("ferry_teleport")
    assert info.value.details["function"] == "ferry_teleport" and lib.path in info.value.message


# ---- Processes ------------------------------------------------------------------------------------------

def _spawned_query(x):
    import ferry as f
    return f.query("a", {"a": x})


def test_multiprocessing_with_spawn(lib):
    ferry.query("a", {"a": 0})  # the parent has used Ferry
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        assert pool.map(_spawned_query, [1, 2, 3]) == [1, 2, 3]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_after_use_raises_in_child_instead_of_hanging(lib):
    ferry.query("a", {"a": 0})
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: must not call into Swift; report what the binding does
        try:
            ferry.query("a", {"a": 1})
            os.write(w, b"called")
        except ferry.UnsupportedError as e:
            os.write(w, b"unsupported:" + e.details.get("reason", "").encode())
        except BaseException as e:  # pragma: no cover
            os.write(w, repr(e).encode())
        os._exit(0)
    os.close(w)
    got = os.read(r, 200)
    os.close(r)
    os.waitpid(pid, 0)
    assert got == b"unsupported:fork"


def test_forked_child_with_open_handles_exits_cleanly(lib):
    """A child forked after Ferry was used must not call Ferry from finalizers at exit (that would hang)."""
    code = """
import os, sys, ferry
engine = ferry.Engine()
emulator = ferry.Emulator()
ferry.query("a", {"a": 1})
pid = os.fork()
if pid == 0:
    sys.exit(0)          # normal exit: atexit runs weakref finalizers in the child
_, status = os.waitpid(pid, 0)
print("child", os.waitstatus_to_exitcode(status))
engine.close()
emulator.stop()
"""
    r = run_python(code, {"FERRY_LIBRARY": lib.path})
    assert r.returncode == 0 and r.stdout.strip() == "child 0", (r.stdout, r.stderr)
