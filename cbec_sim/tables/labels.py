"""Ground truth for planted anomalies: one long table every stage appends to.

Written only with ``--with-labels``; graders and tests read it, trainees never see it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec_sim.schema import Column, TableSpec, register

ANOMALIES = register(TableSpec(
    name="anomalies",
    grain="one planted anomaly on one entity (listing, order, keyword, SKU, day …)",
    description="Ground truth for anomalies injected on purpose, so detection exercises can be "
                "graded and the simulator tested. Every stage appends its own rows.",
    label=True,
    columns=(
        Column("kind", "str", "anomaly kind, e.g. price_error, stock_out, late_shipment, "
               "ad_waste, review_burst, fraud_velocity"),
        Column("table", "str", "table holding the affected rows"),
        Column("entity_id", "str", "id of the affected row or entity in that table"),
        Column("store_id", "str", "store concerned", nullable=True),
        Column("start", "date", "first affected day", nullable=True),
        Column("end", "date", "last affected day", nullable=True),
        Column("detail", "str", "what was changed, in plain words", nullable=True),
    ),
))


def anomaly_rows(kind: str, table: str, entity_ids, *, store_id=None, start=None, end=None,
                 detail=None) -> pd.DataFrame:
    """Label rows for ``entity_ids`` (scalars broadcast to every row)."""
    ids = np.asarray(entity_ids, dtype=object).astype(str)
    n = len(ids)

    def col(v):
        if v is None:
            return np.full(n, None, dtype=object)
        a = np.asarray(v, dtype=object)
        return np.full(n, v, dtype=object) if a.ndim == 0 else a

    out = pd.DataFrame({
        "kind": kind, "table": table, "entity_id": ids, "store_id": col(store_id),
        "start": pd.to_datetime(col(start)), "end": pd.to_datetime(col(end)),
        "detail": col(detail),
    })
    return out.astype({"kind": str, "table": str})
