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
#: call Ferry (blocking calls such as runs and provider calls then fail with BusyError).
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
    """The operations catalog (``ferry_ops``): a list of summaries, or with ``name`` (e.g.
    ``"huawei.dcs.StopMigrationTask"``) that operation's full entry. Unknown name: :class:`ferry.NotFoundError`."""
    return _decode(_call("ferry_ops", _text(name, "name")))


# ---- Engine ---------------------------------------------------------------------------------------------

def _close_handle(lib: _native.Library, handle: int) -> int:
    # A forked child must not call Ferry, not even from a finalizer at exit (it would hang).
    if _native.forked_after_use:
        return 0
    return lib.ferry_engine_close(handle)


def _stop_emulator(lib: _native.Library, handle: int) -> int:
    if _native.forked_after_use:
        return 0
    return lib.ferry_emulator_stop(handle)


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
        # Replaced trampolines stay alive with the engine: a record being logged on another thread may already
        # hold the previous callback pointer when set_log_hook returns (freeing the thunk would crash it).
        self._retired_hooks: List[Any] = []
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
            status = self._lib.ferry_engine_close(self._handle)
            if status in (0, errors.error_class("closed").status):
                self._closed = True
                self._finalizer.detach()
        if status != 0:  # e.g. BusyError from inside a log hook: the engine stays open
            raise _error(status, json.dumps({"code": self._lib.ferry_error_name(status).decode(),
                                             "message": "engine: close failed", "details": {"field": "engine"}}))

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
        if self._hook is not None:
            self._retired_hooks.append(self._hook)
        self._hook = trampoline

    def log_to(self, logger: Union[logging.Logger, str] = "ferry", level: Union[int, str] = LOG_INFO) -> None:
        """Routes the engine's log records to a Python :mod:`logging` logger (fields go in ``extra``)."""
        target = logging.getLogger(logger) if isinstance(logger, str) else logger

        def forward(ferry_level: int, record: Dict[str, Any]) -> None:
            target.log(PYTHON_LEVELS.get(ferry_level, logging.INFO), "%s", record.get("message", ""),
                       extra={"ferry": record})

        self.set_log_hook(forward, level)

    # -- Operations --

    def call(self, operation: str, params: Optional[Mapping[str, Any]] = None, *, reveal_secrets: bool = False,
             options: Optional[Mapping[str, Any]] = None) -> JSONValue:
        """Calls one cloud operation (``ferry_call``), e.g. ``engine.call("huawei.dcs.ShowMigrationTask",
        {"task_id": tid})``, and returns the response body. ``params`` is keyed by the catalog's wire names.
        Response fields the catalog marks secret are masked as ``"***"`` unless ``reveal_secrets`` is true.
        Provider failures raise the matching error (``NotFoundError``, ``ThrottledError``, ``AuthFailedError``,
        ...) whose details carry ``provider_code``, ``provider_message``, ``http_status``, ``request_id``."""
        opts = dict(options or {})
        if reveal_secrets:
            opts["reveal_secrets"] = True
        return _decode(_call("ferry_call", self._handle, _text(operation, "operation"),
                             None if params is None else _json(params, "params"),
                             _json(opts, "options") if opts else None))

    # -- Workflows and runs --

    def validate(self, workflow: Union[Mapping[str, Any], str, bytes]) -> JSONValue:
        """Validates a workflow document (``ferry_validate``): returns ``{"valid": true, ...}`` or raises
        :class:`ferry.InvalidWorkflowError` whose ``details["errors"]`` lists every problem with its location."""
        return _decode(_call("ferry_validate", self._handle, _config(workflow, "workflow")))

    def start(self, workflow: Union[Mapping[str, Any], str, bytes], inputs: Optional[Mapping[str, Any]] = None,
              options: Optional[Mapping[str, Any]] = None) -> "Run":
        """Starts a run (``ferry_run_start``) of ``workflow`` (a dict, or JSON text; load YAML runbooks with a YAML
        parser first) with ``inputs``. No step runs yet: call :meth:`Run.advance` or :meth:`Run.drive`."""
        status = _decode(_call("ferry_run_start", self._handle, _config(workflow, "workflow"),
                               None if inputs is None else _json(inputs, "inputs"),
                               None if options is None else _json(options, "options")))
        return Run(self, status["run_id"], status)

    def run(self, run_id: str) -> "Run":
        """A handle on an existing run (e.g. one started by another process sharing the store). Not checked
        until used: an unknown id raises :class:`ferry.NotFoundError` then."""
        return Run(self, run_id)

    def list_runs(self, filter: Optional[Mapping[str, Any]] = None, **fields: Any) -> JSONValue:
        """Lists runs (``ferry_run_list``): ``{"runs": [...], "count": n}``. Filter by ``status``, ``workflow``,
        ``limit`` (as a dict or keyword arguments)."""
        merged = dict(filter or {}, **fields)
        return _decode(_call("ferry_run_list", self._handle, _json(merged, "filter") if merged else None))


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
    """One workflow run of an :class:`Engine` (``ferry_run_*``). Every method returns the decoded JSON of the
    C function: the run's status ``{"run_id", "status", "next_wake_at", "steps", ...}`` or its history."""

    def __init__(self, engine: Engine, run_id: str, status: Optional[Dict[str, Any]] = None) -> None:
        self.engine = engine
        self.id = run_id
        #: The status returned by the last call that returned one.
        self.last_status: Optional[Dict[str, Any]] = status

    def __repr__(self) -> str:
        state = self.last_status.get("status") if isinstance(self.last_status, dict) else None
        return f"<ferry.Run {self.id}{' ' + state if state else ''}>"

    def _run_call(self, name: str, *args: Any) -> JSONValue:
        result = _decode(_call(name, self.engine.handle, _text(self.id, "run_id"), *args))
        if isinstance(result, dict) and "status" in result:
            self.last_status = result
        return result

    @staticmethod
    def _options(options: Optional[Mapping[str, Any]], **extra: Any) -> Optional[bytes]:
        merged = dict(options or {})
        merged.update({k: v for k, v in extra.items() if v is not None})
        return _json(merged, "options") if merged else None

    def advance(self, options: Optional[Mapping[str, Any]] = None, *,
                secrets: Optional[Mapping[str, Any]] = None) -> JSONValue:
        """Does one unit of work (one attempt or one poll) and returns the status with ``next_wake_at``
        (``ferry_run_advance``). ``secrets`` re-supplies secret inputs to a run resumed by another process."""
        return self._run_call("ferry_run_advance", self._options(options, secrets=secrets))

    def drive(self, options: Optional[Mapping[str, Any]] = None, *, budget_seconds: Optional[float] = None,
              secrets: Optional[Mapping[str, Any]] = None) -> JSONValue:
        """Runs until the run succeeds, fails, waits on a gate, or ``budget_seconds`` is spent
        (``ferry_run_drive``). Blocks this thread (not the GIL)."""
        return self._run_call("ferry_run_drive", self._options(options, budget_seconds=budget_seconds, secrets=secrets))

    def status(self) -> JSONValue:
        """The run's current status (``ferry_run_status``)."""
        return self._run_call("ferry_run_status")

    def history(self, options: Optional[Mapping[str, Any]] = None) -> JSONValue:
        """The run's append-only event history ``{"run_id", "events": [...]}`` (``ferry_run_history``)."""
        return self._run_call("ferry_run_history", self._options(options))

    def cancel(self, reason: Optional[str] = None) -> JSONValue:
        """Cancels the run; compensation steps run on the next advance/drive (``ferry_run_cancel``)."""
        return self._run_call("ferry_run_cancel", _text(reason, "reason"))

    def signal(self, name: str, payload: Any = None) -> JSONValue:
        """Sends the named signal (e.g. a gate's approval) with an optional JSON payload (``ferry_run_signal``)."""
        return self._run_call("ferry_run_signal", _text(name, "name"),
                              None if payload is None else _json(payload, "payload"))


# ---- Emulator -------------------------------------------------------------------------------------------

class Emulator:
    """The local emulator of the four cloud APIs (``ferry_emulator_start`` / ``ferry_emulator_stop``), running in
    this process on loopback. Use it as a context manager::

        with ferry.Emulator({"time_scale": 60}) as emu, ferry.Engine(emu.engine_config()) as engine:
            engine.call("huawei.dcs.ListMigrationTask")

    ``config`` keys: ``port`` (0 = any free port), ``access_keys`` (``["ID:SECRET", ...]``), ``time_scale``,
    ``faults``, ``persist_path``, ... (see ferry.h). :attr:`info` holds what the emulator reported.
    """

    #: The documented zero-config key pair the emulator accepts when no ``access_keys`` are configured.
    DEFAULT_ACCESS_KEY = ("FERRYTESTKEY", "ferry-test-secret")

    def __init__(self, config: Union[Mapping[str, Any], str, bytes, None] = None) -> None:
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
        self._stopped = False
        self._lock = threading.Lock()
        self._config = config if isinstance(config, Mapping) else {}
        #: ``{"base_url", "port", "endpoints", "access_keys", "admin_url", ...}``.
        self.info: Dict[str, Any] = _decode(text) or {}
        self._finalizer = weakref.finalize(self, _stop_emulator, lib, self._handle)

    @property
    def handle(self) -> int:
        """The raw ``ferry_emulator *`` token."""
        return self._handle

    @property
    def endpoints(self) -> Dict[str, str]:
        """Service name -> URL, ready for an Engine config's ``endpoints``."""
        return dict(self.info.get("endpoints", {}))

    @property
    def base_url(self) -> str:
        return self.info["base_url"]

    @property
    def port(self) -> int:
        return self.info["port"]

    @property
    def stopped(self) -> bool:
        return self._stopped

    def engine_config(self, **extra: Any) -> Dict[str, Any]:
        """An Engine config pointing every service at this emulator, with credentials it accepts (the first
        configured access key, else the documented default pair). ``extra`` keys are merged in."""
        keys = self._config.get("access_keys") or []
        key_id, secret = (keys[0].split(":", 1) if keys and ":" in keys[0] else self.DEFAULT_ACCESS_KEY)
        config: Dict[str, Any] = {
            "endpoints": self.endpoints,
            "credentials": {
                "alibaba": {"access_key_id": key_id, "access_key_secret": secret},
                "huawei": {"ak": key_id, "sk": secret, "project_id": self.info.get("huawei_project_id")},
            },
        }
        config.update(extra)
        return config

    def stop(self) -> None:
        """Stops the emulator (``ferry_emulator_stop``). Stopping a stopped Emulator object does nothing."""
        with self._lock:
            if self._stopped:
                return
            status = self._lib.ferry_emulator_stop(self._handle)
            if status in (0, errors.error_class("closed").status):
                self._stopped = True
                self._finalizer.detach()
        if status != 0:
            raise _error(status, json.dumps({"code": self._lib.ferry_error_name(status).decode(),
                                             "message": "emulator: stop failed", "details": {"field": "emulator"}}))

    close = stop

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<ferry.Emulator {self.info.get('base_url')}{' stopped' if self._stopped else ''}>"
