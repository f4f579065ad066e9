"""Ferry's errors as Python exceptions: one class per stable status code of ``ferry.h``.

Every error Ferry reports carries the same four things, kept as attributes of :class:`FerryError`:

* ``status``  -- the C status code (``-1``, ``-2``, ...), stable across releases;
* ``code``    -- its stable name (``"invalid_json"``, ...), the ``code`` field of the error JSON;
* ``message`` -- a human-readable explanation naming the field or position at fault;
* ``details`` -- a dict with structured context (``field``, ``offset``, ``line``, ``column``, ...).

The classes are generated from :data:`CODES`, which mirrors the ``FERRY_E*`` defines of ``ferry.h`` (the test
suite checks the two agree). Input errors also derive from :class:`ValueError`, ``not_found`` from
:class:`LookupError` and ``timeout`` from the built-in :class:`TimeoutError`, so generic handlers work too.
"""

from __future__ import annotations

import builtins
from typing import Any, Dict, List, Optional, Tuple, Type

__all__ = ["FerryError", "CODES", "error_class", "error_from_reply"]


class FerryError(Exception):
    """Base class of every error reported by Ferry (or by the binding on Ferry's behalf)."""

    #: The C status code; subclasses fix it, the base class uses the code of the reply.
    status: int = -5
    #: The stable code name, e.g. ``"invalid_json"``.
    code: str = "internal"
    #: Whether retrying the same request later can succeed, unless the details say otherwise.
    retryable_by_default: bool = False

    def __new__(cls, message: str = "", details: Optional[Dict[str, Any]] = None, **_: Any) -> "FerryError":
        # Only the message reaches the built-in base (OSError would read two arguments as errno, strerror).
        return super().__new__(cls, message)  # type: ignore[call-arg]

    def __init__(self, message: str, details: Optional[Dict[str, Any]] = None, *,
                 code: Optional[str] = None, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message: str = message
        self.details: Dict[str, Any] = dict(details or {})
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    @property
    def retryable(self) -> bool:
        """True when the same request may succeed later (throttling, timeouts, outages)."""
        value = self.details.get("retryable")
        return bool(value) if isinstance(value, bool) else self.retryable_by_default

    @property
    def field(self) -> Optional[str]:
        """The argument or config field at fault, when Ferry named one."""
        value = self.details.get("field")
        return value if isinstance(value, str) else None

    def to_dict(self) -> Dict[str, Any]:
        """The error in Ferry's JSON shape: ``{"code", "message", "details"}``."""
        return {"code": self.code, "message": self.message, "details": dict(self.details)}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status}, message={self.message!r})"

    def __reduce__(self):  # picklable across processes (e.g. concurrent.futures with spawn)
        return (_rebuild, (self.status, self.code, self.message, self.details))


# (status, code name, class name, extra built-in bases, retryable). Mirrors ferry.h; append only.
CODES: List[Tuple[int, str, str, Tuple[type, ...], bool]] = [
    (-1, "invalid_json", "InvalidJSONError", (ValueError,), False),
    (-2, "invalid_argument", "InvalidArgumentError", (ValueError,), False),
    (-3, "not_found", "NotFoundError", (LookupError,), False),
    (-4, "closed", "ClosedError", (), False),
    (-5, "internal", "InternalError", (), False),
    (-6, "too_large", "TooLargeError", (ValueError,), False),
    (-7, "invalid_utf8", "InvalidUTF8Error", (ValueError,), False),
    (-8, "busy", "BusyError", (), True),
    (-9, "timeout", "TimeoutError", (builtins.TimeoutError,), True),
    (-10, "cancelled", "CancelledError", (), False),
    (-11, "unsupported", "UnsupportedError", (), False),
    (-20, "invalid_expression", "InvalidExpressionError", (ValueError,), False),
    (-21, "expression_failed", "ExpressionFailedError", (), False),
    (-30, "throttled", "ThrottledError", (), True),
    (-31, "unavailable", "UnavailableError", (), True),
    (-32, "auth_failed", "AuthFailedError", (), False),
    (-33, "permission_denied", "PermissionDeniedError", (), False),
    (-34, "conflict", "ConflictError", (), False),
    (-35, "provider_error", "ProviderError", (), False),
    (-36, "missing_credentials", "MissingCredentialsError", (), False),
    (-50, "invalid_workflow", "InvalidWorkflowError", (ValueError,), False),
    (-51, "run_failed", "RunFailedError", (), False),
    (-52, "needs_attention", "NeedsAttentionError", (), False),
    (-53, "missing_input", "MissingInputError", (ValueError,), False),
    (-54, "store_error", "StoreError", (), False),
    (-70, "emulator_error", "EmulatorError", (), False),
]

_BY_STATUS: Dict[int, Type[FerryError]] = {}
_BY_CODE: Dict[str, Type[FerryError]] = {}


def _make(status: int, code: str, name: str, bases: Tuple[type, ...], retryable: bool) -> Type[FerryError]:
    doc = f"Ferry status {status} (``{code}``)." + (" Retryable." if retryable else "")
    cls = type(name, (FerryError,) + bases, {
        "status": status, "code": code, "retryable_by_default": retryable, "__doc__": doc,
        "__module__": __name__, "__init__": FerryError.__init__, "__str__": FerryError.__str__,
    })
    return cls  # type: ignore[return-value]


for _status, _code, _name, _bases, _retryable in CODES:
    _cls = _make(_status, _code, _name, _bases, _retryable)
    globals()[_name] = _cls
    _BY_STATUS[_status] = _cls
    _BY_CODE[_code] = _cls
    __all__.append(_name)
del _status, _code, _name, _bases, _retryable, _cls

# Names for type checkers and readers (the classes themselves are created above from CODES).
InvalidJSONError: Type[FerryError]
InvalidArgumentError: Type[FerryError]
NotFoundError: Type[FerryError]
ClosedError: Type[FerryError]
InternalError: Type[FerryError]
TooLargeError: Type[FerryError]
InvalidUTF8Error: Type[FerryError]
BusyError: Type[FerryError]
TimeoutError: Type[FerryError]
CancelledError: Type[FerryError]
UnsupportedError: Type[FerryError]
InvalidExpressionError: Type[FerryError]
ExpressionFailedError: Type[FerryError]
ThrottledError: Type[FerryError]
UnavailableError: Type[FerryError]
AuthFailedError: Type[FerryError]
PermissionDeniedError: Type[FerryError]
ConflictError: Type[FerryError]
ProviderError: Type[FerryError]
MissingCredentialsError: Type[FerryError]
InvalidWorkflowError: Type[FerryError]
RunFailedError: Type[FerryError]
NeedsAttentionError: Type[FerryError]
MissingInputError: Type[FerryError]
StoreError: Type[FerryError]
EmulatorError: Type[FerryError]


def error_class(status_or_code: "int | str") -> Type[FerryError]:
    """The exception class for a status code (``-1``) or code name (``"invalid_json"``); FerryError if unknown."""
    if isinstance(status_or_code, str):
        return _BY_CODE.get(status_or_code, FerryError)
    return _BY_STATUS.get(status_or_code, FerryError)


def _rebuild(status: int, code: str, message: str, details: Dict[str, Any]) -> FerryError:
    cls = _BY_STATUS.get(status)
    if cls is not None and cls.code == code:
        return cls(message, details)
    return FerryError(message, details, code=code, status=status)


def error_from_reply(status: int, reply: Any) -> FerryError:
    """Builds the exception for a failed call from its status and decoded error JSON (tolerating junk)."""
    if isinstance(reply, dict):
        message = reply.get("message")
        code = reply.get("code")
        details = reply.get("details")
    else:
        message, code, details = None, None, None
    cls = _BY_STATUS.get(status)
    if not isinstance(message, str):
        message = f"Ferry call failed with status {status}"
    if not isinstance(details, dict):
        details = {}
    if cls is None:
        return FerryError(message, details, code=code if isinstance(code, str) else "unknown", status=status)
    return cls(message, details)
