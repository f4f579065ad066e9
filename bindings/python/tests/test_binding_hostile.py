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
    assert len(BINDING_CASES) + len(cases) >= 40
    print(f"\nhostile battery: {len(BINDING_CASES)} binding cases + {len(cases)} raw ctypes cases")
