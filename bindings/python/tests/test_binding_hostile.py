"""Hostile inputs through the Python binding, and through raw ctypes where the binding would refuse them
first (NULL pointers, invalid UTF-8 bytes, made-up handles). Each asserts the documented exception class
(status and code) and the field named in the details."""

from __future__ import annotations

import ctypes

import pytest

import ferry

from ferry_binding_testlib import assert_error

BIG = 100 * 1024 * 1024
DEEP = 10_000


def deep_list(n: int) -> list:
    v: list = []
    for _ in range(n):
        v = [v]
    return v


def closed_engine() -> ferry.Engine:
    e = ferry.Engine()
    e.close()
    return e


# (id, thunk, expected exception class, details.field or None)
BINDING_CASES = [
    ("query expression None", lambda: ferry.query(None, {}), ferry.InvalidArgumentError, "expression"),
    ("query_text document None", lambda: ferry.query_text("a", None), ferry.InvalidArgumentError, "document"),
    ("query expression not a string", lambda: ferry.query(42, {}), ferry.InvalidArgumentError, "expression"),
    ("query empty expression", lambda: ferry.query("", {}), ferry.InvalidExpressionError, None),
    ("query empty document", lambda: ferry.query_text("a", ""), ferry.InvalidJSONError, "document"),
    ("query unterminated object", lambda: ferry.query_text("a", '{"a":1'), ferry.InvalidJSONError, "document"),
    ("query trailing comma", lambda: ferry.query_text("a", "[1,2,]"), ferry.InvalidJSONError, "document"),
    ("query trailing garbage", lambda: ferry.query_text("a", "{} {}"), ferry.InvalidJSONError, "document"),
    ("query NaN literal", lambda: ferry.query_text("a", '{"a":NaN}'), ferry.InvalidJSONError, "document"),
    ("query single quotes", lambda: ferry.query_text("a", "{'a':1}"), ferry.InvalidJSONError, "document"),
    ("query 1e400", lambda: ferry.query_text("a", '{"a":1e400}'), ferry.InvalidJSONError, "document"),
    ("query raw control char", lambda: ferry.query_text("a", '"\x01"'), ferry.InvalidJSONError, "document"),
    ("query NaN value", lambda: ferry.query("a", {"a": float("nan")}), ferry.InvalidJSONError, "document"),
    ("query infinity value", lambda: ferry.query("a", [float("-inf")]), ferry.InvalidJSONError, "document"),
    ("query non-JSON type", lambda: ferry.query("a", {"a": object()}), ferry.InvalidJSONError, "document"),
    ("query set", lambda: ferry.query("a", {1, 2}), ferry.InvalidJSONError, "document"),
    ("query non-string key", lambda: ferry.query("a", {(1, 2): 1}), ferry.InvalidJSONError, "document"),
    ("query 10000-deep Python list", lambda: ferry.query("a", deep_list(DEEP)), ferry.TooLargeError, "document"),
    ("query 10000-deep [[[ text", lambda: ferry.query_text("a", "[" * DEEP), ferry.TooLargeError, "document"),
    ("query 10000-deep objects", lambda: ferry.query_text("a", '{"a":' * DEEP + "1" + "}" * DEEP),
     ferry.TooLargeError, "document"),
    ("query 513 levels", lambda: ferry.query("@", deep_list(512)), ferry.TooLargeError, "document"),
    ("query 100 MB document", lambda: ferry.query("a", "a" * BIG), ferry.TooLargeError, "document"),
    ("query 100 MB expression", lambda: ferry.query_text(b"a" * BIG, "{}"), ferry.TooLargeError, "expression"),
    ("query invalid UTF-8 ff fe", lambda: ferry.query_text(b"a", b"\xff\xfe"), ferry.InvalidUTF8Error, "document"),
    ("query truncated multibyte", lambda: ferry.query_text(b"a", b'"\xe2\x82"'), ferry.InvalidUTF8Error, "document"),
    ("query overlong encoding", lambda: ferry.query_text(b"a", b'"\xc0\xaf"'), ferry.InvalidUTF8Error, "document"),
    ("query UTF-8 surrogate", lambda: ferry.query_text(b"a", b'"\xed\xa0\x80"'), ferry.InvalidUTF8Error, "document"),
    ("query invalid UTF-8 expression", lambda: ferry.query_text(b"\xfe", b"{}"), ferry.InvalidUTF8Error, "expression"),
    ("query lone surrogate expression", lambda: ferry.query("a\ud800", {}), ferry.InvalidUTF8Error, "expression"),
    ("query lone surrogate value", lambda: ferry.query("a", {"a": "\udc80"}), ferry.InvalidUTF8Error, "document"),
    ("query NUL in expression", lambda: ferry.query("a\0b", {}), ferry.InvalidArgumentError, "expression"),
    ("query syntax error", lambda: ferry.query("a.[", {}), ferry.InvalidExpressionError, None),
    ("query unknown function", lambda: ferry.query("nope(@)", {}), ferry.InvalidExpressionError, None),
    ("query wrong arity", lambda: ferry.query("length(a, b)", {}), ferry.InvalidExpressionError, None),
    ("query wrong argument type", lambda: ferry.query("abs(a)", {"a": "x"}), ferry.ExpressionFailedError, None),
    ("engine config list", lambda: ferry.Engine([]), ferry.InvalidArgumentError, "config"),
    ("engine config number text", lambda: ferry.Engine("42"), ferry.InvalidArgumentError, "config"),
    ("engine config null text", lambda: ferry.Engine("null"), ferry.InvalidArgumentError, "config"),
    ("engine malformed config", lambda: ferry.Engine('{"limits":'), ferry.InvalidJSONError, "config"),
    ("engine unknown field", lambda: ferry.Engine({"bogus": 1}), ferry.InvalidArgumentError, "config.bogus"),
    ("engine limits wrong type", lambda: ferry.Engine({"limits": 5}), ferry.InvalidArgumentError, "config.limits"),
    ("engine max_depth string", lambda: ferry.Engine({"limits": {"max_depth": "64"}}), ferry.InvalidArgumentError,
     "config.limits.max_depth"),
    ("engine max_depth zero", lambda: ferry.Engine({"limits": {"max_depth": 0}}), ferry.InvalidArgumentError,
     "config.limits.max_depth"),
    ("engine max_depth 10^400", lambda: ferry.Engine({"limits": {"max_depth": 10**400}}), ferry.InvalidArgumentError,
     "config.limits.max_depth"),
    ("engine max_input_bytes negative", lambda: ferry.Engine({"limits": {"max_input_bytes": -1}}),
     ferry.InvalidArgumentError, "config.limits.max_input_bytes"),
    ("engine max_input_bytes bool", lambda: ferry.Engine({"limits": {"max_input_bytes": True}}),
     ferry.InvalidArgumentError, "config.limits.max_input_bytes"),
    ("engine max_input_bytes float", lambda: ferry.Engine({"limits": {"max_input_bytes": 1.5}}),
     ferry.InvalidArgumentError, "config.limits.max_input_bytes"),
    ("engine unknown limit", lambda: ferry.Engine({"limits": {"max_things": 1}}), ferry.InvalidArgumentError,
     "config.limits.max_things"),
    ("engine invalid UTF-8 config", lambda: ferry.Engine(b'{"store":"\xff"}'), ferry.InvalidUTF8Error, "config"),
    ("engine NaN in config", lambda: ferry.Engine({"limits": {"max_depth": float("nan")}}), ferry.InvalidJSONError,
     "config"),
    ("engine 100 MB config", lambda: ferry.Engine("{" + " " * BIG + "}"), ferry.TooLargeError, "config"),
    ("engine 10000-deep config", lambda: ferry.Engine({"runtime": deep_list(DEEP)}), ferry.TooLargeError, "config"),
    ("engine 10000-deep config text", lambda: ferry.Engine('{"a":' + "[" * DEEP), ferry.TooLargeError, "config"),
    ("hook on closed engine", lambda: closed_engine().set_log_hook(lambda l, r: None), ferry.ClosedError, "engine"),
    ("hook removal on closed engine", lambda: closed_engine().set_log_hook(None), ferry.ClosedError, "engine"),
    ("hook level -1", lambda: ferry.Engine().set_log_hook(lambda l, r: None, -1), ferry.InvalidArgumentError,
     "min_level"),
    ("hook level 8", lambda: ferry.Engine().set_log_hook(lambda l, r: None, 8), ferry.InvalidArgumentError,
     "min_level"),
    ("hook level name", lambda: ferry.Engine().set_log_hook(lambda l, r: None, "verbose"), ferry.InvalidArgumentError,
     "min_level"),
]


@pytest.mark.parametrize("thunk,expected,field", [c[1:] for c in BINDING_CASES], ids=[c[0] for c in BINDING_CASES])
def test_binding_hostile(thunk, expected, field):
    with pytest.raises(expected) as info:
        thunk()
    e = info.value
    assert type(e) is expected
    assert e.status == expected.status and e.code == expected.code
    assert isinstance(e.message, str) and e.message
    assert isinstance(e.details, dict)
    if field is not None:
        assert e.field == field, e.details


def test_utf8_offsets_are_reported():
    cases = [(b"\xff\xfe", 0), (b'"\xe2\x82"', 1), (b'["\xc0\xaf"]', 2), (b'{"a":"\x80"}', 6)]
    for doc, offset in cases:
        with pytest.raises(ferry.InvalidUTF8Error) as info:
            ferry.query_text(b"a", doc)
        assert info.value.details["offset"] == offset, doc
    with pytest.raises(ferry.InvalidUTF8Error) as info:
        ferry.query("ab\ud800", {})
    assert info.value.details["offset"] == 2


def test_json_error_positions():
    with pytest.raises(ferry.InvalidJSONError) as info:
        ferry.query_text("a", '{\n  "a": [1,\n  }')
    d = info.value.details
    assert d["line"] == 3 and d["column"] >= 1 and d["offset"] >= 0


# ---- Raw ctypes: what the binding would not let through --------------------------------------------------

I32_MIN = -(2**31)


def raw_cases(raw):
    lib = raw.lib
    closed = raw.open()
    assert lib.ferry_engine_close(closed) == 0
    live = raw.open()
    noop = ferry._native.LOG_FN(lambda u, l, r: None)
    cases = [
        # (id, thunk returning (status, reply), expected, field); reply None means status-only (out = NULL)
        ("query NULL expression", lambda: raw.call("ferry_query", None, b"{}"), ferry.InvalidArgumentError, "expression"),
        ("query NULL document", lambda: raw.call("ferry_query", b"a", None), ferry.InvalidArgumentError, "document"),
        ("query NULL both, out NULL", lambda: (raw.call_no_out("ferry_query", None, None), None),
         ferry.InvalidArgumentError, None),
        ("query invalid UTF-8 expression", lambda: raw.call("ferry_query", b"\xc3", b"{}"), ferry.InvalidUTF8Error,
         "expression"),
        ("query lone continuation", lambda: raw.call("ferry_query", b"a", b'{"a":"\x80"}'), ferry.InvalidUTF8Error,
         "document"),
        ("query 5-byte sequence", lambda: raw.call("ferry_query", b"a", b'"\xf8\x88\x80\x80\x80"'),
         ferry.InvalidUTF8Error, "document"),
        ("open out_engine NULL", lambda: raw.call("ferry_engine_open", b"{}", None), ferry.InvalidArgumentError,
         "out_engine"),
        ("open bad config, out_error NULL", lambda: (lib.ferry_engine_open(b"[", ctypes.byref(ctypes.c_void_p()), None),
                                                     None), ferry.InvalidJSONError, None),
        ("close NULL", lambda: (lib.ferry_engine_close(None), None), ferry.InvalidArgumentError, None),
        ("close made-up 0x1234", lambda: (lib.ferry_engine_close(0x1234), None), ferry.InvalidArgumentError, None),
        ("close misaligned", lambda: (lib.ferry_engine_close(closed + 1), None), ferry.InvalidArgumentError, None),
        ("close max pointer", lambda: (lib.ferry_engine_close(2**64 - 16), None), ferry.InvalidArgumentError, None),
        ("double close", lambda: (lib.ferry_engine_close(closed), None), ferry.ClosedError, None),
        ("hook NULL engine", lambda: raw.call("ferry_engine_set_log_hook", None, 2, noop, None),
         ferry.InvalidArgumentError, "engine"),
        ("hook made-up engine", lambda: raw.call("ferry_engine_set_log_hook", 0x1234, 2, noop, None),
         ferry.InvalidArgumentError, "engine"),
        ("hook closed engine", lambda: raw.call("ferry_engine_set_log_hook", closed, 2, ferry._native.LOG_FN(), None),
         ferry.ClosedError, "engine"),
        ("hook INT_MIN level", lambda: raw.call("ferry_engine_set_log_hook", live, I32_MIN, noop, None),
         ferry.InvalidArgumentError, "min_level"),
        ("hook INT_MAX level", lambda: raw.call("ferry_engine_set_log_hook", live, 2**31 - 1, noop, None),
         ferry.InvalidArgumentError, "min_level"),
        ("ops invalid UTF-8 name", lambda: raw.call("ferry_ops", b"huawei.\xff"), ferry.InvalidUTF8Error, "name"),
        ("call NULL engine", lambda: raw.call("ferry_call", None, b"huawei.dcs.ListMigrationTask", None, None),
         ferry.InvalidArgumentError, "engine"),
        ("call NULL operation", lambda: raw.call("ferry_call", live, None, None, None), ferry.InvalidArgumentError,
         "operation"),
        ("emulator start out_emulator NULL", lambda: raw.call("ferry_emulator_start", b"{}", None),
         ferry.InvalidArgumentError, "out_emulator"),
        ("emulator stop NULL", lambda: (lib.ferry_emulator_stop(None), None), ferry.InvalidArgumentError, None),
        ("emulator stop made-up", lambda: (lib.ferry_emulator_stop(0x1234), None), ferry.InvalidArgumentError, None),
        ("emulator stop engine handle", lambda: (lib.ferry_emulator_stop(live), None), ferry.InvalidArgumentError, None),
        ("validate NULL engine", lambda: raw.call("ferry_validate", None, b"{}"), ferry.InvalidArgumentError, "engine"),
        ("validate NULL workflow", lambda: raw.call("ferry_validate", live, None), ferry.InvalidArgumentError, "workflow"),
        ("run_start closed engine", lambda: raw.call("ferry_run_start", closed, b"{}", None, None), ferry.ClosedError,
         "engine"),
        ("run_advance NULL run id", lambda: raw.call("ferry_run_advance", live, None, None), ferry.InvalidArgumentError,
         "run_id"),
        ("run_drive invalid UTF-8 run id", lambda: raw.call("ferry_run_drive", live, b"run-\xff", None),
         ferry.InvalidUTF8Error, "run_id"),
        ("run_status unknown run", lambda: raw.call("ferry_run_status", live, b"run-nope"), ferry.NotFoundError, None),
        ("run_list malformed filter", lambda: raw.call("ferry_run_list", live, b"["), ferry.InvalidJSONError, "filter"),
        ("run_history made-up engine", lambda: raw.call("ferry_run_history", 0x1234, b"x", None),
         ferry.InvalidArgumentError, "engine"),
        ("run_cancel invalid UTF-8 reason", lambda: raw.call("ferry_run_cancel", live, b"run-nope", b"\xfe"),
         ferry.InvalidUTF8Error, "reason"),
        ("run_signal NULL name", lambda: raw.call("ferry_run_signal", live, b"run-nope", None, None),
         ferry.InvalidArgumentError, "name"),
        ("run_signal status only", lambda: (raw.call_no_out("ferry_run_signal", live, b"run-nope", b"go", None), None),
         ferry.NotFoundError, None),
    ]
    return cases, live, noop


def test_raw_hostile(raw):
    cases, live, _noop = raw_cases(raw)
    try:
        for name, thunk, expected, field in cases:
            status, reply = thunk()
            if reply is None:
                assert status == expected.status, (name, status)
            else:
                assert_error(status, reply, expected, field)
    finally:
        assert raw.lib.ferry_engine_close(live) == 0


def test_raw_out_handle_is_null_on_failure(raw):
    handle = ctypes.c_void_p(0x1)
    assert raw.lib.ferry_engine_open(b'{"bogus":1}', ctypes.byref(handle), None) == ferry.InvalidArgumentError.status
    assert handle.value is None


def test_raw_error_name_of_unknown_codes(lib):
    for status in (1, -12, I32_MIN, 2**31 - 1):
        assert lib.ferry_error_name(status) == b"unknown"
    lib.ferry_free(None)  # documented no-op


def test_battery_size(raw):
    cases, live, _ = raw_cases(raw)
    raw.lib.ferry_engine_close(live)
    total = len(BINDING_CASES) + len(EMU_CASES) + len(CONTRACT_CASES) + len(cases)
    assert total >= 40
    print(f"\nhostile battery: {len(BINDING_CASES) + len(EMU_CASES) + len(CONTRACT_CASES)} binding cases + "
          f"{len(cases)} raw ctypes cases")


# ---- Operations, emulator and runs through the binding ----------------------------------------------------

WF = {"ferry": 1, "name": "hostile", "inputs": {"x": {"type": "string"}},
      "steps": [{"id": "g", "gate": "go"}]}


def _engine_with(emu, **changes):
    config = emu.engine_config()
    for key, value in changes.items():
        config[key] = value
    return ferry.Engine(config)


def _closed_engine_call(emu):
    e = ferry.Engine(emu.engine_config())
    e.close()
    return e.call("huawei.dcs.ListMigrationTask")


def _wrong_secret(emu):
    cfg = emu.engine_config()
    cfg["credentials"]["alibaba"]["access_key_secret"] = "not-the-secret"
    with ferry.Engine(cfg) as e:
        return e.call("alibaba.mse.ListMigrationTask")


def _nowhere(emu):
    with ferry.Engine({"endpoints": {"huawei.dcs": "http://127.0.0.1:1"},
                       "credentials": {"huawei": {"ak": "AK", "sk": "SK", "project_id": "p"}}}) as e:
        return e.call("huawei.dcs.ListMigrationTask")


def _no_credentials(emu):
    with ferry.Engine({"regions": {"huawei": "cn-north-4"}}) as e:
        return e.call("huawei.dcs.ListMigrationTask")


def _limited(emu):
    with ferry.Engine(emu.engine_config(limits={"max_input_bytes": 64})) as e:
        return e.call("huawei.dcs.ShowMigrationTask", {"task_id": "x" * 100})


# (id, thunk(emulator, engine, run), expected class, details.field or None)
EMU_CASES = [
    ("ops unknown", lambda emu, e, r: ferry.ops("huawei.dcs.Nope"), ferry.NotFoundError, "name"),
    ("ops NUL", lambda emu, e, r: ferry.ops("huawei\0"), ferry.InvalidArgumentError, "name"),
    ("call None operation", lambda emu, e, r: e.call(None), ferry.InvalidArgumentError, "operation"),
    ("call unknown operation", lambda emu, e, r: e.call("huawei.dcs.Nope"), ferry.InvalidArgumentError, "operation"),
    ("call params list", lambda emu, e, r: e.call("huawei.dcs.ShowMigrationTask", []), ferry.InvalidArgumentError,
     "params"),
    ("call missing param", lambda emu, e, r: e.call("huawei.dcs.ShowMigrationTask", {}), ferry.InvalidArgumentError,
     "params.task_id"),
    ("call wrong-typed param", lambda emu, e, r: e.call("huawei.dcs.ShowMigrationTask", {"task_id": 5}),
     ferry.InvalidArgumentError, "params.task_id"),
    ("call unknown param", lambda emu, e, r: e.call("huawei.dcs.ShowMigrationTask", {"task_id": "t", "zz": 1}),
     ferry.InvalidArgumentError, "params.zz"),
    ("call NaN param", lambda emu, e, r: e.call("huawei.dcs.ShowMigrationTask", {"task_id": float("nan")}),
     ferry.InvalidJSONError, "params"),
    ("call reveal_secrets not bool", lambda emu, e, r: e.call("huawei.dcs.ListMigrationTask",
                                                              options={"reveal_secrets": "yes"}),
     ferry.InvalidArgumentError, "options.reveal_secrets"),
    ("call provider 404", lambda emu, e, r: e.call("huawei.dcs.ShowMigrationTask", {"task_id": "missing"}),
     ferry.NotFoundError, None),
    ("call closed engine", lambda emu, e, r: _closed_engine_call(emu), ferry.ClosedError, "engine"),
    ("call wrong secret", lambda emu, e, r: _wrong_secret(emu), ferry.AuthFailedError, None),
    ("call nothing listening", lambda emu, e, r: _nowhere(emu), ferry.UnavailableError, None),
    ("call no credentials", lambda emu, e, r: _no_credentials(emu), ferry.MissingCredentialsError, None),
    ("call over engine limit", lambda emu, e, r: _limited(emu), ferry.TooLargeError, "params"),
    ("emulator unknown option", lambda emu, e, r: ferry.Emulator({"bogus": 1}), ferry.InvalidArgumentError, None),
    ("emulator port string", lambda emu, e, r: ferry.Emulator({"port": "80"}), ferry.InvalidArgumentError, None),
    ("emulator port 70000", lambda emu, e, r: ferry.Emulator({"port": 70000}), ferry.InvalidArgumentError, None),
    ("emulator malformed config", lambda emu, e, r: ferry.Emulator("{"), ferry.InvalidJSONError, "config"),
    ("emulator bad fault", lambda emu, e, r: ferry.Emulator({"faults": [{"kind": "meteor"}]}),
     ferry.InvalidArgumentError, None),
    ("emulator port in use", lambda emu, e, r: ferry.Emulator({"port": emu.port}), ferry.EmulatorError, None),
    ("validate no steps", lambda emu, e, r: e.validate({"ferry": 1}), ferry.InvalidWorkflowError, None),
    ("validate YAML text", lambda emu, e, r: e.validate("ferry: 1\nsteps: []\n"), ferry.InvalidJSONError, "workflow"),
    ("validate list", lambda emu, e, r: e.validate([]), ferry.InvalidWorkflowError, None),
    ("start invalid workflow", lambda emu, e, r: e.start({"ferry": 2, "steps": []}), ferry.InvalidWorkflowError, None),
    ("start missing input", lambda emu, e, r: e.start(WF), ferry.MissingInputError, "inputs.x"),
    ("start wrong-typed input", lambda emu, e, r: e.start(WF, {"x": 1}), ferry.InvalidArgumentError, "inputs.x"),
    ("start unknown input", lambda emu, e, r: e.start(WF, {"x": "a", "y": 1}), ferry.InvalidArgumentError, "inputs.y"),
    ("start 10000-deep inputs", lambda emu, e, r: e.start(WF, {"x": deep_list(DEEP)}), ferry.TooLargeError, "inputs"),
    ("run unknown id", lambda emu, e, r: e.run("run-nope").status(), ferry.NotFoundError, None),
    ("run None id", lambda emu, e, r: e.run(None).status(), ferry.InvalidArgumentError, "run_id"),
    ("run lone surrogate id", lambda emu, e, r: e.run("run-\udc00").advance(), ferry.InvalidUTF8Error, "run_id"),
    ("drive budget string", lambda emu, e, r: r.drive(budget_seconds="x"), ferry.InvalidArgumentError,
     "options.budget_seconds"),
    ("drive budget negative", lambda emu, e, r: r.drive(budget_seconds=-1), ferry.InvalidArgumentError,
     "options.budget_seconds"),
    ("advance secrets not an object", lambda emu, e, r: r.advance(secrets=5), ferry.InvalidArgumentError,
     "options.secrets"),
    ("signal None name", lambda emu, e, r: r.signal(None), ferry.InvalidArgumentError, "name"),
    ("signal infinite payload", lambda emu, e, r: r.signal("go", float("inf")), ferry.InvalidJSONError, "payload"),
    ("cancel lone surrogate reason", lambda emu, e, r: r.cancel("\ud800"), ferry.InvalidUTF8Error, "reason"),
    ("list unknown filter", lambda emu, e, r: e.list_runs(bogus=1), ferry.InvalidArgumentError, "filter.bogus"),
    ("list limit string", lambda emu, e, r: e.list_runs(limit="10"), ferry.InvalidArgumentError, "filter.limit"),
    ("list unknown status", lambda emu, e, r: e.list_runs(status="asleep"), ferry.InvalidArgumentError,
     "filter.status"),
]


@pytest.fixture(scope="module")
def hostile_run(emulator):
    with ferry.Engine(emulator.engine_config()) as e:
        yield e, e.start(WF, {"x": "a"})


@pytest.mark.parametrize("thunk,expected,field", [c[1:] for c in EMU_CASES], ids=[c[0] for c in EMU_CASES])
def test_emulator_backed_hostile(emulator, hostile_run, thunk, expected, field):
    engine, run = hostile_run
    with pytest.raises(expected) as info:
        thunk(emulator, engine, run)
    e = info.value
    assert type(e) is expected and e.code == expected.code and e.message
    if field is not None:
        assert e.field == field, e.details
    assert run.status()["status"] in ("running", "waiting_gate")  # the run is untouched


# Contract (ferry.h: FERRY_EINVALID_ARGUMENT covers "wrong type, unknown field"): options are checked like the
# engine config and run filters are, so a typo is reported instead of silently ignored.
CONTRACT_CASES = [
    ("advance unknown option", lambda e, r: r.advance({"secret": {}}), "options.secret"),
    ("drive unknown option", lambda e, r: r.drive({"budget_second": 1}), "options.budget_second"),
    ("history unknown option", lambda e, r: r.history({"after": 1}), "options.after"),
    ("history limit string", lambda e, r: r.history({"limit": "x"}), "options.limit"),
    ("start unknown option", lambda e, r: e.start(WF, {"x": "a"}, {"secret": {}}), "options.secret"),
    ("call unknown option", lambda e, r: e.call("huawei.dcs.ListMigrationTask", options={"reveal_secret": True}),
     "options.reveal_secret"),
]


@pytest.mark.parametrize("thunk,field", [c[1:] for c in CONTRACT_CASES], ids=[c[0] for c in CONTRACT_CASES])
def test_contract_options_are_checked(hostile_run, thunk, field):
    engine, run = hostile_run
    with pytest.raises(ferry.InvalidArgumentError) as info:
        thunk(engine, run)
    assert info.value.field == field
