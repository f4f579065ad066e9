"""Finding and loading libferry, and the ctypes declarations of its C functions.

Adding a C function to the binding is one entry in :data:`SIGNATURES`; a function the loaded library does not
export is simply reported as missing by :meth:`Library.has` (older libraries keep working).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from . import errors

#: The major version of the C ABI this binding speaks (FERRY_VERSION_MAJOR of ferry.h).
EXPECTED_MAJOR = 0
LIBRARY_NAME = "libferry.so"

# Out strings are declared as void** so the binding keeps the raw pointer and can hand it to ferry_free
# (a c_char_p would be converted to bytes and the allocation lost).
OUT = ctypes.POINTER(ctypes.c_void_p)
HANDLE = ctypes.c_void_p
OUT_HANDLE = ctypes.POINTER(ctypes.c_void_p)
#: typedef void (*ferry_log_fn)(void *user_data, int level, const char *record_json);
LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)

c_int, c_char_p, c_void_p = ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p

#: name -> (restype, argtypes), in the order of ferry.h.
SIGNATURES: Dict[str, Tuple[Optional[type], Sequence[type]]] = {
    "ferry_version": (c_char_p, ()),
    "ferry_version_number": (c_int, ()),
    "ferry_error_name": (c_char_p, (c_int,)),
    "ferry_free": (None, (c_void_p,)),
    "ferry_engine_open": (c_int, (c_char_p, OUT_HANDLE, OUT)),
    "ferry_engine_close": (c_int, (HANDLE,)),
    "ferry_engine_set_log_hook": (c_int, (HANDLE, c_int, LOG_FN, c_void_p, OUT)),
    "ferry_query": (c_int, (c_char_p, c_char_p, OUT)),
    "ferry_ops": (c_int, (c_char_p, OUT)),
    "ferry_call": (c_int, (HANDLE, c_char_p, c_char_p, c_char_p, OUT)),
    "ferry_emulator_start": (c_int, (c_char_p, OUT_HANDLE, OUT)),
    "ferry_emulator_stop": (c_int, (HANDLE,)),
    "ferry_validate": (c_int, (HANDLE, c_char_p, OUT)),
    "ferry_run_start": (c_int, (HANDLE, c_char_p, c_char_p, c_char_p, OUT)),
    "ferry_run_advance": (c_int, (HANDLE, c_char_p, c_char_p, OUT)),
    "ferry_run_drive": (c_int, (HANDLE, c_char_p, c_char_p, OUT)),
    "ferry_run_status": (c_int, (HANDLE, c_char_p, OUT)),
    "ferry_run_list": (c_int, (HANDLE, c_char_p, OUT)),
    "ferry_run_history": (c_int, (HANDLE, c_char_p, c_char_p, OUT)),
    "ferry_run_cancel": (c_int, (HANDLE, c_char_p, c_char_p, OUT)),
    "ferry_run_signal": (c_int, (HANDLE, c_char_p, c_char_p, c_char_p, OUT)),
}


class LibraryNotFoundError(ImportError):
    """libferry could not be found or has the wrong major version."""


class Library:
    """A loaded libferry with its functions declared. Obtain the shared instance with :func:`library`."""

    def __init__(self, path: str) -> None:
        started = time.perf_counter()
        self.path = path
        self.cdll = ctypes.CDLL(path)
        #: Seconds spent in dlopen plus the declarations (the Swift runtime initialises here).
        self.load_seconds = time.perf_counter() - started
        self._missing: List[str] = []
        #: name -> declared ctypes function, for every function of SIGNATURES the library exports.
        self.functions: Dict[str, Callable] = {}
        for name, (restype, argtypes) in SIGNATURES.items():
            try:
                fn = getattr(self.cdll, name)
            except AttributeError:
                self._missing.append(name)
                continue
            fn.restype = restype
            fn.argtypes = list(argtypes)
            setattr(self, name, fn)
            self.functions[name] = fn
        for required in ("ferry_version_number", "ferry_free", "ferry_error_name"):
            if required in self._missing:
                raise LibraryNotFoundError(f"{path} is not libferry (no {required})")
        number = self.ferry_version_number()
        if number // 10000 != EXPECTED_MAJOR:
            raise LibraryNotFoundError(
                f"{path} is libferry {number // 10000}.{number // 100 % 100}.{number % 100}; "
                f"this binding needs major version {EXPECTED_MAJOR}")
        self.version_number: int = number
        self.version: str = (self.ferry_version() or b"").decode()

    def has(self, name: str) -> bool:
        """Whether the loaded library exports the function ``name`` (e.g. ``"ferry_call"``)."""
        return name in self.functions

    def require(self, name: str) -> Callable:
        """The declared function ``name``, or UnsupportedError naming the library that lacks it."""
        fn = self.functions.get(name)
        if fn is None:
            raise errors.error_class("unsupported")(
                f"{self.path} (libferry {self.version}) does not export {name}", {"function": name})
        return fn

    def take(self, p: ctypes.c_void_p) -> Optional[str]:
        """Copies and frees a string Ferry returned through an out parameter (NULL -> None)."""
        address = p.value
        if not address:
            return None
        try:
            return ctypes.string_at(address).decode("utf-8", "replace")
        finally:
            self.ferry_free(address)


def candidates(package_dir: Optional[Path] = None) -> Iterator[Path]:
    """Where to look for libferry after $FERRY_LIBRARY, in order: the package directory, then the repository's
    ``.build/debug`` and ``.build/release`` (found by walking up from the package to ``Package.swift``), then
    the same under the repository holding the current directory."""
    here = (package_dir or Path(__file__).resolve().parent)
    yield here / LIBRARY_NAME
    roots = [here]
    if package_dir is None:
        # Last resort for a non-editable install used from inside the repository.
        roots.append(Path.cwd().resolve())
    for start in roots:
        for parent in [start, *start.parents]:
            if (parent / "Package.swift").is_file():
                yield parent / ".build" / "debug" / LIBRARY_NAME
                yield parent / ".build" / "release" / LIBRARY_NAME
                # scripts/bench.sh builds release binaries in their own scratch path.
                yield parent / ".build-release" / "release" / LIBRARY_NAME
                break


def find_library() -> str:
    """The path of the libferry to load (see :func:`candidates`); LibraryNotFoundError when there is none."""
    explicit = os.environ.get("FERRY_LIBRARY")
    if explicit:
        # An explicit choice is never silently replaced by another build.
        if not os.path.isfile(explicit):
            raise LibraryNotFoundError(f"FERRY_LIBRARY={explicit} does not exist")
        return explicit
    tried = []
    for path in candidates():
        tried.append(str(path))
        if path.is_file():
            return str(path)
    system = ctypes.util.find_library("ferry")
    if system:
        return system
    raise LibraryNotFoundError(
        "libferry.so not found; build it with `swift build --product ferry` or set FERRY_LIBRARY. Tried: "
        + ", ".join(tried))


_lock = threading.Lock()
_library: Optional[Library] = None
# Set once a Ferry function has been called; after fork() the child must not call Ferry again.
used = False
forked_after_use = False


def library() -> Library:
    """The process-wide libferry, loaded on first use."""
    global _library
    lib = _library
    if lib is not None:
        return lib
    with _lock:
        if _library is None:
            _library = Library(find_library())
        return _library


def _after_fork_in_child() -> None:
    global forked_after_use
    if used:
        forked_after_use = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
