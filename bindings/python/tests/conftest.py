"""Fixtures for the binding's tests (helpers live in ferry_binding_testlib, a uniquely named module)."""

from __future__ import annotations

from typing import Iterator

import pytest

import ferry
from ferry import _native

from ferry_binding_testlib import Raw


@pytest.fixture(scope="session")
def lib() -> _native.Library:
    return ferry.library()


@pytest.fixture(scope="session")
def raw(lib: _native.Library) -> Raw:
    return Raw(lib)


@pytest.fixture
def engine() -> Iterator[ferry.Engine]:
    with ferry.Engine() as e:
        yield e


@pytest.fixture(scope="session")
def emulator() -> Iterator[ferry.Emulator]:
    """One emulator for the session (runs are fast with time_scale 100)."""
    with ferry.Emulator({"time_scale": 100}) as emu:
        yield emu


@pytest.fixture
def emu_engine(emulator: ferry.Emulator) -> Iterator[ferry.Engine]:
    """An engine whose services all point at the session emulator."""
    with ferry.Engine(emulator.engine_config()) as e:
        yield e


@pytest.fixture(autouse=True, scope="session")
def _no_cloud_credentials_from_the_environment() -> Iterator[None]:
    """Credentials and regions come only from the test configs (os.environ is read at ferry_engine_open)."""
    import os
    names = [n for n in os.environ if n.startswith(("ALIBABA_CLOUD_", "HUAWEICLOUD_SDK_", "CLOUD_SDK_"))]
    saved = {n: os.environ.pop(n) for n in names}
    yield
    os.environ.update(saved)
