"""Helpers shared by the binding tests: paths, a raw ctypes caller, error assertions."""

from __future__ import annotations

import ctypes
import json
from pathlib import Path
from typing import Any, Iterator, Optional, Tuple

import ferry
from ferry import _native

REPO = Path(__file__).resolve().parents[3]
HEADER = REPO / "Include" / "ferry.h"


class Raw:
    """Calls C functions directly through ctypes, bypassing the binding's argument checks."""

    def __init__(self, lib: _native.Library) -> None:
        self.lib = lib

    def call(self, name: str, *args: Any) -> Tuple[int, Optional[Any]]:
        """Calls a function whose last parameter is char **out; returns (status, decoded JSON or None)."""
        out = ctypes.c_void_p()
        status = getattr(self.lib, name)(*args, ctypes.byref(out))
        text = self.lib.take(out)
        return status, (json.loads(text) if text is not None else None)

    def call_no_out(self, name: str, *args: Any) -> int:
        """The same call with out = NULL (status only)."""
        return getattr(self.lib, name)(*args, None)

    def open(self, config: Optional[bytes] = None) -> int:
        handle = ctypes.c_void_p()
        status = self.lib.ferry_engine_open(config, ctypes.byref(handle), None)
        assert status == 0, status
        return handle.value


def assert_error(status: int, reply: Any, expected: type, field: Optional[str] = None) -> None:
    """The documented status and a well-formed error JSON naming the field."""
    assert status == expected.status, (status, reply)
    assert isinstance(reply, dict), reply
    assert reply["code"] == expected.code, reply
    assert isinstance(reply["message"], str) and reply["message"], reply
    assert isinstance(reply["details"], dict), reply
    if field is not None:
        assert reply["details"].get("field") == field, reply
