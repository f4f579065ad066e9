"""ferry.query with canonically equivalent but distinct strings ("\u00e9" vs "e\u0301").

JSON and JMESPath compare strings by code points (the Python jmespath reference agrees), but Swift's `String`
`==`/hash use canonical equivalence. Found by the JMESPath differential fuzz against Python jmespath.
"""

from __future__ import annotations

import ferry

PRECOMPOSED = "\u00e9"    # é, one code point
DECOMPOSED = "e\u0301"    # e + combining acute, two code points


def test_query_cache_keeps_canonically_equivalent_expressions_apart() -> None:
    # The compiled-expression cache must not hand back the expression for the other spelling.
    assert ferry.query(f"'{DECOMPOSED}'", {}) == DECOMPOSED
    assert ferry.query(f"'{PRECOMPOSED}'", {}) == PRECOMPOSED
    assert ferry.query(f'"{DECOMPOSED}"', {DECOMPOSED: 1}) == 1
    assert ferry.query(f'"{PRECOMPOSED}"', {PRECOMPOSED: 2}) == 2


def test_object_keys_that_are_canonically_equivalent_stay_distinct() -> None:
    doc = {PRECOMPOSED: 1, DECOMPOSED: 2}
    assert ferry.query("keys(@)", doc) == [PRECOMPOSED, DECOMPOSED]
    assert ferry.query("@", doc) == doc
    assert ferry.query(f'"{PRECOMPOSED}"', doc) == 1
    assert ferry.query(f'"{DECOMPOSED}"', doc) == 2
