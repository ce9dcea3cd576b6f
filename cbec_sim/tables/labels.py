"""Ground truth for planted anomalies: one long table every stage appends to.

Written only with ``--with-labels``; graders and tests read it, trainees never see it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.types import pandas_dtype

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


def _anomaly_rows_general(kind: str, table: str, entity_ids, *, store_id=None, start=None,
                          end=None, detail=None) -> pd.DataFrame:
    """Label rows for ``entity_ids`` (scalars broadcast to every row); any input."""
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


#: The ``"str"`` dtype, resolved once (looking the name up costs more than a small array).
_STR = pandas_dtype("str")


def _repeat_text(v, n: int):
    """``pd.array(np.full(n, v, dtype=object), dtype="str")``, converting ``v`` only once."""
    return pd.array([v], dtype=_STR).take(np.zeros(n, dtype=np.intp))


def _label_str(v, n: int):
    """A label column as :func:`anomaly_rows` infers it, or None when not a simple case."""
    if v is None:
        return np.full(n, None, dtype=object)
    if type(v) is str:
        return _repeat_text(v, n)
    a = np.asarray(v, dtype=object)
    if a.ndim == 0:
        a = np.full(n, v, dtype=object)
    kinds = {type(x) for x in a}
    if len(a) != n or str not in kinds or not kinds <= {str, type(None)}:
        return None  # all missing stays object: left to anomaly_rows
    return pd.array(a, dtype=_STR)


#: What ``pd.to_datetime`` makes of a missing day (``None`` or all ``NaT``): NaT in seconds.
_NO_DAY = np.datetime64("NaT", "s")


def _label_day(v, n: int):
    """``pd.to_datetime`` of a label date argument, or None when not a simple case.

    Gives the unit the general path gives: that of a Timestamp, DatetimeIndex or Series
    (it reads their values as Timestamps); microseconds for a numpy array in seconds or
    milliseconds (numpy turns those into ``datetime`` objects); seconds when every day is
    missing.
    """
    if v is None:
        return np.full(n, _NO_DAY)
    if isinstance(v, pd.Timestamp):  # NaT is no Timestamp
        return np.full(n, v.to_datetime64()) if v.tz is None else None
    if isinstance(v, pd.Series | pd.DatetimeIndex):
        if not (isinstance(v.dtype, np.dtype) and v.dtype.kind == "M"):
            return None  # time-zone aware, or not days at all
        a = v.to_numpy()
    elif isinstance(v, np.ndarray) and v.dtype in _NUMPY_DAY_UNITS:
        a = v.astype(_NUMPY_DAY_UNITS[v.dtype], copy=False)
    else:
        return None
    if a.shape != (n,):
        return None
    return np.full(n, _NO_DAY) if np.isnat(a).all() else a


#: Unit the general path gives a numpy day array of each dtype.
_NUMPY_DAY_UNITS = {np.dtype(f"M8[{u}]"): np.dtype(f"M8[{w}]")
                    for u, w in (("s", "us"), ("ms", "us"), ("us", "us"), ("ns", "ns"))}


def anomaly_rows(kind: str, table: str, entity_ids, *, store_id=None, start=None, end=None,
                 detail=None) -> pd.DataFrame:
    """Label rows for ``entity_ids`` (scalars broadcast to every row).

    Common inputs (str ids/details, days as Timestamps or datetime64 arrays) are built
    directly; anything else goes through the general path, which gives the same frame.
    """
    ids = np.asarray(entity_ids, dtype=object).astype(str)
    n = len(ids)
    cols = (_label_str(store_id, n), _label_day(start, n), _label_day(end, n),
            _label_str(detail, n)) if n else (None,)
    if any(c is None for c in cols):
        return _anomaly_rows_general(kind, table, entity_ids, store_id=store_id, start=start,
                                     end=end, detail=detail)
    st, s0, e0, de = cols
    return pd.DataFrame({
        "kind": _repeat_text(kind, n), "table": _repeat_text(table, n),
        "entity_id": pd.array(ids.astype(object), dtype=_STR), "store_id": st,
        "start": s0, "end": e0, "detail": de,
    })


class _Unusual(Exception):
    """A label spec outside the simple cases :func:`label_frame` assembles itself."""


def label_frame(specs: list[dict]) -> pd.DataFrame:
    """``pd.concat([anomaly_rows(**spec) for spec in specs], ignore_index=True)``, fast.

    Same rows, values and dtypes, assembled as one table instead of one small frame per spec
    (each spec: ``kind``, ``table``, ``entity_ids`` and optional ``store_id``, ``start``,
    ``end``, ``detail`` as for :func:`~cbec_sim.tables.labels.anomaly_rows`). Specs outside
    the common cases (no entity, missing or non-text values, time-zone-aware days) are passed
    to ``anomaly_rows`` itself.
    """
    try:
        return _label_frame(specs)
    except _Unusual:
        return pd.concat([anomaly_rows(**sp) for sp in specs], ignore_index=True)


def label_spec(kind: str, table: str, entity_ids, **kw) -> dict:
    """Arguments of :func:`~cbec_sim.tables.labels.anomaly_rows`, for :func:`label_frame`."""
    return {"kind": kind, "table": table, "entity_ids": entity_ids, **kw}


def _label_frame(specs: list[dict]) -> pd.DataFrame:
    def text(v, n):  # values, and whether anomaly_rows gives an object (all-None) column
        if v is None:
            return [None] * n, True
        if isinstance(v, str):
            return [v] * n, False
        a = np.asarray(v, dtype=object)
        if a.ndim != 1 or len(a) != n or not all(type(x) is str for x in a):
            raise _Unusual
        return a.tolist(), False

    def day(v, n):  # the days as anomaly_rows gives them, and their unit
        a = _label_day(v, n)
        if a is None:
            raise _Unusual
        return a, np.datetime_data(a.dtype)[0]

    cols: dict[str, list] = {k: [] for k in ("kind", "table", "entity_id", "store_id",
                                             "detail")}
    obj = {"store_id": False, "detail": False}
    start, end, units = [], [], []
    for sp in specs:
        ids = np.asarray(sp["entity_ids"], dtype=object)
        n = len(ids)
        if ids.ndim != 1 or not n:
            raise _Unusual
        cols["kind"] += [sp["kind"]] * n
        cols["table"] += [sp["table"]] * n
        cols["entity_id"] += [str(x) for x in ids]
        for k in ("store_id", "detail"):
            vals, is_obj = text(sp.get(k), n)
            cols[k] += vals
            obj[k] |= is_obj
        for lst, k in ((start, "start"), (end, "end")):
            v, unit = day(sp.get(k), n)
            lst.append(v)
            units.append((k, unit))
    out = {k: pd.array(v, dtype=_STR) for k, v in cols.items()}
    for k in ("store_id", "detail"):  # a column of None in one spec makes it object
        if obj[k]:
            out[k] = pd.Series(np.array(cols[k], dtype=object), dtype=object)
    for k, v in (("start", start), ("end", end)):  # concat takes the finest unit
        unit = max((u for c, u in units if c == k), key=("s", "ms", "us", "ns").index)
        out[k] = np.concatenate([a.astype(f"datetime64[{unit}]") for a in v])
    return pd.DataFrame({k: out[k] for k in ("kind", "table", "entity_id", "store_id",
                                             "start", "end", "detail")})
