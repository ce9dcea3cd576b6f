"""Small helpers shared by the exercise modules (not a course module itself)."""

from __future__ import annotations

import pandas as pd


def variant(base: str, old: str, new: str) -> str:
    """Code of a known mistake written as the solution ``base`` with one step changed
    (``old`` → ``new``); fails at import when ``old`` is no longer in the solution."""
    if old not in base:
        raise ValueError(f"mistake variant: {old!r} is not in the solution code")
    return base.replace(old, new)


def is_missing(x) -> bool:
    """Whether one value read from a table is missing (None, pd.NA, NaT or NaN)."""
    return x is None or x is pd.NA or x is pd.NaT or (isinstance(x, float) and x != x)
