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
