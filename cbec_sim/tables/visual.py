"""Stage ``visual``: tables for stages 5.8–5.9 (visual marketing, store decoration)."""

from __future__ import annotations

import pandas as pd

from cbec_sim.context import Context


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    """No tables yet."""
    return {}
