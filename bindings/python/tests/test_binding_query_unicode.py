"""ferry.query with canonically equivalent but distinct strings ("\u00e9" vs "e\u0301").

JSON and JMESPath compare strings by code points (the Python jmespath reference agrees), but Swift's `String`
`==`/hash use canonical equivalence. Found by the JMESPath differential fuzz against Python jmespath.
"""

from __future__ import annotations

import pytest

import ferry

PRECOMPOSED = "\u00e9"    # é, one code point
DECOMPOSED = "e\u0301"    # e + combining acute, two code points


def test_query_cache_keeps_canonically_equivalent_expressions_apart() -> None:
    # The compiled-expression cache must not hand back the expression for the other spelling.
    assert ferry.query(f"'{DECOMPOSED}'", {}) == DECOMPOSED
    assert ferry.query(f"'{PRECOMPOSED}'", {}) == PRECOMPOSED
    assert ferry.query(f'"{DECOMPOSED}"', {DECOMPOSED: 1}) == 1
    assert ferry.query(f'"{PRECOMPOSED}"', {PRECOMPOSED: 2}) == 2


def test_object_keys_that_are_only_canonically_equivalent_are_refused_not_merged() -> None:
    # Ferry's objects key by Swift String, which would merge the two spellings and silently drop one value.
    # Until keys compare by code points, such a document is refused with a structured error naming the spot.
    doc = {PRECOMPOSED: 1, DECOMPOSED: 2}
    with pytest.raises(ferry.InvalidJSONError) as e:
        ferry.query("keys(@)", doc)
    assert e.value.details["reason"] == "ambiguousKey"
    assert "canonically equivalent" in str(e.value)
    # The same key twice in the same spelling keeps the last value, as before.
    assert ferry.query(f'"{PRECOMPOSED}"', {PRECOMPOSED: 1}) == 1
