"""Stage ``store_ops``: tables for stages 5.3–5.5 (store opening, onboarding, rules)."""

from __future__ import annotations

import pandas as pd

from cbec_sim.context import Context


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    """No tables yet."""
    return {}
