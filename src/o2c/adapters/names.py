"""Fuzzy comparison of party names with rapidfuzz (the engine's scorer in production).

The names are already in `o2c.domain.reconciliation.normalise_name`'s normal form; the score
is the better of the plain and the word-order-insensitive ratio, 0..100, the same on every
run (no dependence on hash order)."""

from __future__ import annotations

from rapidfuzz import fuzz


def score(a: str, b: str) -> float:
    return max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b))
