"""The Pythonic layer over the C functions of ferry.h: JSON in and out, exceptions instead of status codes."""

from __future__ import annotations

import ctypes
import json
import logging
import threading
import weakref
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from . import _native, errors
from .errors import FerryError

JSONValue = Any
#: A log hook: called with the Ferry level number and the decoded record
#: ``{"ts", "level", "logger", "message", "fields"}``. It may run on any thread, concurrently, and must not
#: call Ferry (such calls fail with BusyError).
LogCallback = Callable[[int, Dict[str, Any]], None]

LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERROR, LOG_CRITICAL, LOG_OFF = range(8)
LOG_LEVELS: Dict[str, int] = {
    "trace": LOG_TRACE, "debug": LOG_DEBUG, "info": LOG_INFO, "notice": LOG_NOTICE, "warning": LOG_WARNING,
    "error": LOG_ERROR, "critical": LOG_CRITICAL, "off": LOG_OFF,
}
# Ferry level -> Python logging level (notice sits between INFO and WARNING; trace below DEBUG).
PYTHON_LEVELS = {LOG_TRACE: 5, LOG_DEBUG: logging.DEBUG, LOG_INFO: logging.INFO, LOG_NOTICE: 25,
                 LOG_WARNING: logging.WARNING, LOG_ERROR: logging.ERROR, LOG_CRITICAL: logging.CRITICAL}

_hook_log = logging.getLogger("ferry.binding")
# Trampolines of hooks that were installed on an engine, by callback. They are never released: a record already
# in flight on another thread when a hook is replaced or its engine closed must not call into freed code.
# Installing the same callback again reuses its trampoline, so re-installing in a loop does not grow this.
_trampolines: Dict[Any, Any] = {}
_unhashable_trampolines: List[Any] = []
_trampolines_lock = threading.Lock()


def _trampoline_for(callback: "LogCallback") -> Any:
    with _trampolines_lock:
        try:
            existing = _trampolines.get(callback)
        except TypeError:  # unhashable callable
            existing = None
        if existing is not None:
            return existing
        trampoline = _native.LOG_FN(_make_trampoline(callback))
        try:
            _trampolines[callback] = trampoline
        except TypeError:
            _unhashable_trampolines.append(trampoline)
        return trampoline


# ---- Arguments and results ------------------------------------------------------------------------------

def _lib() -> _native.Library:
    lib = _native.library()
    if _native.forked_after_use:
        raise errors.error_class("unsupported")(
            "Ferry was used before this process was forked; a forked child cannot use Ferry. "
            "Use multiprocessing's 'spawn' or 'forkserver' start method.", {"reason": "fork"})
    _native.used = True
    return lib


def _text(value: Union[str, bytes, None], field: str) -> Optional[bytes]:
    """A string argument as NUL-terminated UTF-8 (bytes pass through unchanged; None is NULL)."""
    if value is None or isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise errors.error_class("invalid_argument")(
            f"{field}: expected a string, got {type(value).__name__}", {"field": field})
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError as e:  # lone surrogates
        offset = len(value[:e.start].encode("utf-8", "surrogatepass"))
        raise errors.error_class("invalid_utf8")(
            f"{field}: not encodable as UTF-8 at byte {offset}", {"field": field, "offset": offset}) from None
    nul = data.find(b"\0")
    if nul >= 0:
        # C strings end at the first NUL: refuse rather than silently truncate.
        raise errors.error_class("invalid_argument")(
            f"{field}: contains a NUL character at byte {nul}", {"field": field, "offset": nul})
    return data


def _json(value: JSONValue, field: str) -> bytes:
    """A Python value as compact JSON text (UTF-8). NaN/Infinity and non-JSON types raise InvalidJSONError."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except RecursionError:
        raise errors.error_class("too_large")(
            f"{field}: nested too deeply to encode", {"field": field, "reason": "too-deep"}) from None
    except (TypeError, ValueError) as e:
        raise errors.error_class("invalid_json")(f"{field}: {e}", {"field": field}) from None
    data = _text(text, field)
    assert data is not None
    return data


def _config(value: Union[Mapping[str, Any], str, bytes, None], field: str) -> Optional[bytes]:
    """A config argument: a mapping is encoded; str/bytes are passed as JSON text; None is NULL."""
    if value is None or isinstance(value, (str, bytes)):
        return _text(value, field)
    return _json(value, field)


def _error(status: int, text: Optional[str]) -> FerryError:
    try:
        payload = json.loads(text) if text is not None else None
    except ValueError:
        payload = {"message": text}
    return errors.error_from_reply(status, payload)


def _call(name: str, *args: Any) -> Optional[str]:
    """Calls a Ferry function whose last parameter is ``char **out``; returns the result text or raises."""
    lib = _lib()
    fn = lib.require(name)
    out = ctypes.c_void_p()
    status = fn(*args, ctypes.byref(out))
    text = lib.take(out)
    if status != 0:
        raise _error(status, text)
    return text


def _decode(text: Optional[str]) -> JSONValue:
    return None if text is None else json.loads(text)


# ---- Library-level functions ----------------------------------------------------------------------------

def version() -> str:
    """The loaded libferry's version string, e.g. ``"0.1.0"``."""
    return _native.library().version


def library_path() -> str:
    """The path of the loaded libferry."""
    return _native.library().path


def error_name(status: int) -> str:
    """The stable name of a status code (``"ok"``, ``"invalid_json"``, ...; ``"unknown"`` otherwise)."""
    return _native.library().ferry_error_name(status).decode()


def query(expression: str, data: JSONValue) -> JSONValue:
    """Evaluates a JMESPath expression over ``data`` (any JSON-compatible Python value) and returns the result.

    >>> ferry.query("a[?b > `1`].b", {"a": [{"b": 1}, {"b": 2}]})
    [2]
    """
    return _decode(_call("ferry_query", _text(expression, "expression"), _json(data, "document")))


def query_text(expression: Union[str, bytes], document_json: Union[str, bytes]) -> str:
    """Like :func:`query` but takes and returns JSON text (no Python decoding; bytes are passed as-is)."""
    result = _call("ferry_query", _text(expression, "expression"), _text(document_json, "document"))
    assert result is not None
    return result


def ops(name: Optional[str] = None) -> JSONValue:
    """The catalog of operations Ferry knows (or the one called ``name``). Needs ``ferry_ops``."""
    return _decode(_call("ferry_ops", _text(name, "name")))


# ---- Engine ---------------------------------------------------------------------------------------------

def _close_handle(lib: _native.Library, handle: int) -> int:
    return lib.ferry_engine_close(handle)


def _level(level: Union[int, str]) -> int:
    if isinstance(level, str):
        try:
            return LOG_LEVELS[level.lower()]
        except KeyError:
            raise errors.error_class("invalid_argument")(
                f"min_level: unknown level {level!r} (expected one of {', '.join(LOG_LEVELS)})",
                {"field": "min_level"}) from None
    if isinstance(level, bool) or not isinstance(level, int):
        raise errors.error_class("invalid_argument")(f"min_level: expected an int or a level name", {"field": "min_level"})
    if not -2**31 <= level < 2**31:
        raise errors.error_class("invalid_argument")(f"min_level: {level} is out of range", {"field": "min_level"})
    return level  # out-of-range ints are left for Ferry to reject


class Engine:
    """An open Ferry engine (``ferry_engine_open``). Use it as a context manager, or call :meth:`close`.

    ``config`` is a dict (see ferry.h: ``store``, ``credentials``, ``regions``, ``endpoints``, ``http``,
    ``limits``, ``runtime``); JSON text is accepted too. One engine may be used from many threads at once.
    An engine that is garbage-collected unclosed is closed then.
    """

    def __init__(self, config: Union[Mapping[str, Any], str, bytes, None] = None) -> None:
        lib = _lib()
        handle = ctypes.c_void_p()
        err = ctypes.c_void_p()
        status = lib.ferry_engine_open(_config(config, "config"), ctypes.byref(handle), ctypes.byref(err))
        text = lib.take(err)
        if status != 0:
            raise _error(status, text)
        self._lib = lib
        self._handle: int = handle.value or 0
        self._closed = False
        self._lock = threading.Lock()
        self._hook: Optional[Any] = None
        self._finalizer = weakref.finalize(self, _close_handle, lib, self._handle)

    @property
    def handle(self) -> int:
        """The raw ``ferry_engine *`` token (for passing to other ctypes code)."""
        return self._handle

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Closes the engine (``ferry_engine_close``). Closing an already closed Engine object does nothing;
        any other use of a closed engine raises :class:`ferry.ClosedError`."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._finalizer.detach()
        status = self._lib.ferry_engine_close(self._handle)
        if status != 0:
            raise _error(status, json.dumps({"code": self._lib.ferry_error_name(status).decode(),
                                             "message": "engine: close failed", "details": {}}))

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ferry.Engine {self._handle:#x}{' closed' if self._closed else ''}>"

    # -- Logging --

    def set_log_hook(self, callback: Optional[LogCallback], level: Union[int, str] = LOG_INFO) -> None:
        """Installs ``callback(level, record)`` for records at ``level`` and above (an int ``LOG_*`` or a name
        such as ``"info"``); ``None`` or ``"off"`` removes it. Exceptions raised by the callback are logged to
        the ``ferry.binding`` Python logger and otherwise ignored."""
        min_level = _level(level)
        trampoline = _native.LOG_FN() if callback is None else _trampoline_for(callback)  # LOG_FN() is NULL
        _call("ferry_engine_set_log_hook", self._handle, min_level, trampoline, None)
        self._hook = trampoline

    def log_to(self, logger: Union[logging.Logger, str] = "ferry", level: Union[int, str] = LOG_INFO) -> None:
        """Routes the engine's log records to a Python :mod:`logging` logger (fields go in ``extra``)."""
        target = logging.getLogger(logger) if isinstance(logger, str) else logger

        def forward(ferry_level: int, record: Dict[str, Any]) -> None:
            target.log(PYTHON_LEVELS.get(ferry_level, logging.INFO), "%s", record.get("message", ""),
                       extra={"ferry": record})

        self.set_log_hook(forward, level)

    # -- Operations --

    def call(self, operation: str, params: Optional[Mapping[str, Any]] = None) -> JSONValue:
        """Calls one cloud operation (``ferry_call``) and returns its result."""
        return _decode(_call("ferry_call", self._handle, _text(operation, "operation"),
                             _json({} if params is None else params, "params")))

    # -- Runs --

    def start(self, workflow: Union[Mapping[str, Any], str], inputs: Optional[Mapping[str, Any]] = None,
              options: Optional[Mapping[str, Any]] = None) -> "Run":
        """Starts a run of ``workflow`` (a dict, or YAML/JSON text) with ``inputs`` (``ferry_run_start``)."""
        doc = _text(workflow, "workflow") if isinstance(workflow, str) else _json(workflow, "workflow")
        result = _decode(_call("ferry_run_start", self._handle, doc, _json(inputs or {}, "inputs"),
                               _json(options or {}, "options")))
        run_id = result.get("run_id") if isinstance(result, dict) else result
        return Run(self, str(run_id), result)


def _make_trampoline(callback: LogCallback) -> Callable[[Optional[int], int, Optional[bytes]], None]:
    def trampoline(_user_data: Optional[int], level: int, record: Optional[bytes]) -> None:
        try:
            payload = json.loads(record.decode("utf-8")) if record else {}
            callback(level, payload)
        except BaseException:  # never let an exception unwind into Ferry's thread
            try:
                _hook_log.exception("ferry log hook raised")
            except BaseException:
                pass
    return trampoline


class Run:
    """One workflow run of an :class:`Engine` (``ferry_run_*``)."""

    def __init__(self, engine: Engine, run_id: str, info: Any = None) -> None:
        self.engine = engine
        self.id = run_id
        self.info = info

    def __repr__(self) -> str:
        return f"<ferry.Run {self.id}>"

    def _run_call(self, name: str, *args: Any) -> JSONValue:
        return _decode(_call(name, self.engine.handle, _text(self.id, "run_id"), *args))

    def advance(self, options: Optional[Mapping[str, Any]] = None) -> JSONValue:
        """Executes the run's next ready steps and returns its status (``ferry_run_advance``)."""
        return self._run_call("ferry_run_advance", _json(options or {}, "options"))

    def drive(self, options: Optional[Mapping[str, Any]] = None) -> JSONValue:
        """Advances the run until it finishes, fails or needs attention (``ferry_run_drive``)."""
        return self._run_call("ferry_run_drive", _json(options or {}, "options"))

    def status(self) -> JSONValue:
        """The run's current status (``ferry_run_status``)."""
        return self._run_call("ferry_run_status")

    def history(self) -> JSONValue:
        """The run's event history (``ferry_run_history``)."""
        return self._run_call("ferry_run_history")

    def cancel(self, reason: Optional[str] = None) -> JSONValue:
        """Cancels the run (``ferry_run_cancel``)."""
        return self._run_call("ferry_run_cancel", _text(reason, "reason"))

    def signal(self, name: str, payload: Any = None) -> JSONValue:
        """Sends a signal (e.g. an approval) to the run (``ferry_run_signal``)."""
        return self._run_call("ferry_run_signal", _text(name, "name"), _json(payload, "payload"))


# ---- Emulator -------------------------------------------------------------------------------------------

class Emulator:
    """The local emulator of the cloud APIs (``ferry_emulator_start`` / ``ferry_emulator_stop``), as a context
    manager. ``endpoints`` maps service names to URLs, ready for an Engine's ``endpoints`` config."""

    def __init__(self, config: Optional[Mapping[str, Any]] = None) -> None:
        lib = _lib()
        fn = lib.require("ferry_emulator_start")
        handle = ctypes.c_void_p()
        out = ctypes.c_void_p()
        status = fn(_config(config, "config"), ctypes.byref(handle), ctypes.byref(out))
        text = lib.take(out)
        if status != 0:
            raise _error(status, text)
        self._lib = lib
        self._handle: int = handle.value or 0
        self._closed = False
        self._lock = threading.Lock()
        self.info: Dict[str, Any] = _decode(text) or {}

    @property
    def endpoints(self) -> Dict[str, str]:
        return dict(self.info.get("endpoints", {}))

    @property
    def base_url(self) -> Optional[str]:
        return self.info.get("base_url")

    def stop(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        status = self._lib.require("ferry_emulator_stop")(self._handle)
        if status != 0:
            raise _error(status, None)

    close = stop

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
