"""Ferry for Python: a ctypes binding of libferry, the embeddable workflow engine for cloud migration runbooks.

    import ferry

    ferry.query("a", {"a": 1})                       # -> 1
    with ferry.Engine({"limits": {"max_depth": 64}}) as engine:
        engine.set_log_hook(lambda level, record: print(record["message"]), "info")

Arguments are JSON-encoded Python values; results are decoded Python values. Failures raise a subclass of
:class:`FerryError` chosen by Ferry's stable status code (:class:`InvalidJSONError`, :class:`ClosedError`, ...),
carrying ``code``, ``status``, ``message`` and ``details``.

The library is found at ``$FERRY_LIBRARY``, else ``libferry.so`` inside this package, else the repository's
``.build/debug`` then ``.build/release`` (walking up from the package to ``Package.swift``).

Threads: every function is thread-safe and releases the GIL while Ferry works, so threads run in parallel.

Processes: Ferry starts threads on first use, and a process forked after that cannot use Ferry (it would
hang; this binding raises :class:`UnsupportedError` instead). With :mod:`multiprocessing` or
:mod:`concurrent.futures`, use the ``"spawn"`` or ``"forkserver"`` start method::

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool: ...
"""

from . import errors
from ._api import (
    LOG_CRITICAL, LOG_DEBUG, LOG_ERROR, LOG_INFO, LOG_LEVELS, LOG_NOTICE, LOG_OFF, LOG_TRACE, LOG_WARNING,
    Emulator, Engine, Run, error_name, library_path, ops, query, query_text, version,
)
from ._native import EXPECTED_MAJOR, LibraryNotFoundError, library
from .errors import *  # noqa: F401,F403  (FerryError and one class per status code)
from .errors import CODES, FerryError, error_class

__version__ = "0.1.0"

__all__ = [
    "Engine", "Run", "Emulator", "query", "query_text", "ops", "version", "library_path", "error_name",
    "library", "LibraryNotFoundError", "EXPECTED_MAJOR", "FerryError", "CODES", "error_class",
    "LOG_TRACE", "LOG_DEBUG", "LOG_INFO", "LOG_NOTICE", "LOG_WARNING", "LOG_ERROR", "LOG_CRITICAL", "LOG_OFF",
    "LOG_LEVELS",
] + [name for _, _, name, _, _ in CODES]
