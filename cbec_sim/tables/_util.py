"""Small vectorised helpers shared by the table generators."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import numpy as np
import pandas as pd

NS_PER_DAY = 86_400 * 10**9


def make_ids(prefix: str, n: int, start: int = 1, width: int | None = None) -> np.ndarray:
    """``prefix`` + zero-padded running numbers, e.g. ``O00000001`` (object array of str)."""
    width = width or max(4, len(str(start + n - 1)))
    nums = np.arange(start, start + n).astype(str)
    return np.char.add(prefix, np.char.zfill(nums, width)).astype(object)


def weighted_choice_by_group(rng: np.random.Generator, group_of_draw: np.ndarray,
                             item_group: np.ndarray, item_weight: np.ndarray) -> np.ndarray:
    """For each draw, pick an item index among items of the draw's group, ∝ weight.

    Vectorised: items are sorted by group, cumulative weights are normalised within group and
    one uniform per draw is located with ``searchsorted``. Every draw's group must own items.
    """
    order = np.lexsort((np.arange(len(item_group)), item_group))
    g_sorted = item_group[order]
    w = np.asarray(item_weight, float)[order]
    groups, first = np.unique(g_sorted, return_index=True)
    cw = np.cumsum(w)
    before = np.concatenate([[0.0], cw])[first]  # cumulative weight before each group
    totals = np.add.reduceat(w, first)
    group_of_draw = np.asarray(group_of_draw)
    if (group_of_draw.dtype.kind in "iu" and len(groups) and groups[0] == 0
            and groups[-1] == len(groups) - 1):  # groups 0..G-1: the group is its position
        gi = group_of_draw
        if len(gi) and (gi.min() < 0 or gi.max() >= len(groups)):
            raise ValueError("some draws belong to a group with no items")
    else:
        gi = np.searchsorted(groups, group_of_draw)
        if (gi >= len(groups)).any() or (groups[np.minimum(gi, len(groups) - 1)]
                                         != group_of_draw).any():
            raise ValueError("some draws belong to a group with no items")
    u = before[gi] + rng.random(len(group_of_draw)) * totals[gi]
    pos = search_right(cw, u)
    last = np.append(first[1:], len(w)) - 1
    pos = np.clip(pos, first[gi], last[gi])
    return order[pos]


def search_right(sorted_values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``np.searchsorted(sorted_values, x, side="right")`` for many float needles, faster.

    For a non-decreasing, non-negative, finite ``sorted_values`` and many non-negative
    needles, a guide table (the first
    position past each of ``4 × len`` equal steps) gives every needle a start at or before its
    answer; a few vectorised steps forward finish the search. The result is identical.
    """
    cw = np.asarray(sorted_values, dtype=float)
    x = np.asarray(x, dtype=float)
    n_c = len(cw)
    if (len(x) < 8 * n_c or n_c < 16 or not np.isfinite(cw[-1]) or not cw[-1] > 0
            or not cw[0] >= 0 or not x.min() >= 0 or not np.isfinite(x.max())):
        return np.searchsorted(cw, x, side="right")
    k = 4 * n_c
    scale = k / cw[-1]
    guide = np.searchsorted(cw, np.arange(k) / scale, side="right")
    b = np.clip(np.floor(x * scale).astype(np.int64) - 1, 0, k - 1)
    pos = guide[b]  # ≤ the answer: its step lies at or below the needle
    padded = np.append(cw, np.inf)
    todo = np.flatnonzero(padded[pos] <= x)
    for _ in range(6):
        if not len(todo):
            return pos
        pos[todo] += 1
        todo = todo[padded[pos[todo]] <= x[todo]]
    if len(todo):  # crowded steps (many tiny weights): finish by bisection
        pos[todo] = np.searchsorted(cw, x[todo], side="right")
    return pos


def lognormal_around(rng: np.random.Generator, median: np.ndarray, sigma: np.ndarray | float,
                     size: int | None = None) -> np.ndarray:
    """Lognormal draws with the given median and log-sd (heavy right tail)."""
    median = np.asarray(median, float)
    n = size if size is not None else median.shape
    return median * np.exp(np.asarray(sigma, float) * rng.standard_normal(n))


def take_str(values, idx: np.ndarray):
    """Arrow string array: ``values[idx]`` (fast gather of pool strings); ``values`` may be
    an Arrow string array already (then it is used as it is)."""
    import pyarrow as pa

    arr = values if isinstance(values, pa.StringArray) else pa.array(
        np.asarray(values, dtype=object), type=pa.string())
    return arr.take(pa.array(np.asarray(idx, dtype=np.int64)))


def join_str(*parts):
    """Element-wise string concatenation in Arrow (C++ speed, no Python loop).

    Each part is an Arrow/numpy array of equal length, an integer array (formatted as
    decimal text) or a Python ``str`` broadcast to every row.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    conv = []
    for p in parts:
        if isinstance(p, str):
            conv.append(p)
        elif isinstance(p, np.ndarray) and p.dtype.kind in "iu":
            conv.append(pc.cast(pa.array(p), pa.string()))
        elif isinstance(p, pa.Array | pa.ChunkedArray):
            conv.append(p)
        else:
            conv.append(pa.array(np.asarray(p, dtype=object), type=pa.string()))
    return pc.binary_join_element_wise(*conv, "")


def str_series(arr) -> pd.Series:
    """Wrap an Arrow string array as a pandas ``str`` Series without copying."""
    return pd.Series(arr, dtype="str")


def id_array(prefix: str, n: int, start: int = 1, width: int | None = None):
    """Arrow string array of ids ``prefix`` + zero-padded numbers (fast, for big tables)."""
    width = width or max(4, len(str(start + n - 1)))
    pre = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    chars = np.empty((n, len(pre) + width), dtype=np.uint8)
    chars[:, :len(pre)] = pre
    digit_chars(np.arange(start, start + n), width, out=chars[:, len(pre):])
    return fixed_width_str(chars)


def take(values, idx: np.ndarray) -> pd.Series:
    """``values[idx]`` as a pandas ``str`` Series, missing where ``idx`` < 0.

    ``values`` is a str Series, an Arrow array or any sequence of str/None. Gathers in Arrow
    (no Python objects), so it is fast for millions of rows.
    """
    import pyarrow as pa

    if isinstance(values, pa.Array | pa.ChunkedArray):
        arr = values
    elif isinstance(values, pd.Series) and not isinstance(values.dtype, pd.CategoricalDtype) \
            and values.dtype != object:
        arr = pa.array(values)
    else:
        arr = pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)
    idx = np.asarray(idx, dtype=np.int64)
    mask = idx < 0
    return pd.Series(arr.take(pa.array(idx, mask=mask if mask.any() else None)), dtype="str")


def equals(col: pd.Series, value: str) -> np.ndarray:
    """``col == value`` as a bool array; a categorical column is compared by its codes
    (no conversion to text)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories
        if value not in cats:
            return np.zeros(len(col), bool)
        return col.cat.codes.to_numpy() == cats.get_loc(value)
    return (col == value).to_numpy(bool)


def categorical(codes: np.ndarray, categories) -> pd.Categorical:
    """A categorical from integer codes (-1 = missing) and its category labels."""
    return pd.Categorical.from_codes(np.asarray(codes), categories=list(categories))


@functools.cache
def _const_dtype(categories: tuple) -> pd.CategoricalDtype:
    """The categorical dtype of a constant tuple of categories, built once per process."""
    return pd.CategoricalDtype(list(categories))


def const_categorical(codes: np.ndarray, categories: tuple) -> pd.Categorical:
    """:func:`categorical` for a module-constant tuple of categories (the same result).

    Building and checking the dtype costs more than the codes on small tables, so the dtype
    is cached: pass module constants only, every tuple stays cached.
    """
    return pd.Categorical.from_codes(np.asarray(codes), dtype=_const_dtype(categories))


def fixed_width_str(chars: np.ndarray):
    """Arrow string array from a 2-D ``uint8`` matrix of ASCII codes (one row per string)."""
    import pyarrow as pa

    chars = np.ascontiguousarray(chars, dtype=np.uint8)
    n, w = chars.shape
    if (n + 1) * w < 2**31:  # 32-bit offsets: build the string array directly
        offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets),
                                            pa.py_buffer(chars)).cast(pa.string())


def digit_chars(nums: np.ndarray, width: int, out: np.ndarray | None = None) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as a ``(n, width)`` uint8 matrix
    (written into ``out`` when given, e.g. a column slice of a wider matrix).

    Four digits at a time from a 10,000-row table of their ASCII codes: two integer
    divisions and one gather per group of four instead of a division per digit.
    """
    x = np.asarray(nums, dtype=np.int64)
    if out is None:
        out = np.empty((len(x), width), dtype=np.uint8)
    table = _four_digits()
    right = width
    while right > 0:
        left = max(0, right - 4)
        out[:, left:right] = table[x % 10_000, 4 - (right - left):]
        x = x // 10_000
        right = left
    return out


@functools.cache
def _four_digits() -> np.ndarray:
    """ASCII codes of 0000 … 9999, one row of four per number (read-only)."""
    k = np.arange(10_000)
    table = np.stack([48 + k // 1000, 48 + k // 100 % 10, 48 + k // 10 % 10, 48 + k % 10],
                     axis=1).astype(np.uint8)
    table.flags.writeable = False
    return table


def in_background(fn: Callable[..., Any], /, *args: Any, threaded: bool = True,
                  **kwargs: Any) -> Future:
    """Start ``fn(*args, **kwargs)`` on its own thread and return its future.

    For pure work that releases the GIL (Arrow gathers, numpy on big arrays) while the caller
    goes on: the result does not depend on timing. A thread per call (not a shared pool), so
    a process forked meanwhile never inherits a pool whose worker is gone. With
    ``threaded=False`` (small inputs, where a thread costs more than it saves) ``fn`` runs
    at once and the future is already done.
    """
    fut: Future = Future()
    if not threaded:
        fut.set_running_or_notify_cancel()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut

    def run() -> None:
        if fut.set_running_or_notify_cancel():
            try:
                fut.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to whoever waits for the result
                fut.set_exception(exc)

    threading.Thread(target=run, name="cbec-sim-background", daemon=True).start()
    return fut


def fast_ids(prefix: str, n: int, start: int = 1, width: int | None = None) -> pd.Series:
    """Like :func:`make_ids`, as an Arrow-backed ``str`` Series (fast at 1M+ rows)."""
    return str_series(id_array(prefix, n, start, width))


def parent_index(parent_ids, child_ids) -> np.ndarray:
    """Row position in ``parent_ids`` of each ``child_ids`` value (-1 when absent).

    Fast path when children are grouped in parent order (e.g. order lines sorted like
    orders): run boundaries are found with one vectorised comparison. Otherwise an Arrow
    hash lookup.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    p = pa.array(np.asarray(parent_ids, dtype=object)) if not isinstance(
        parent_ids, pd.Series) else pa.array(parent_ids.astype("str"))
    c = pa.array(np.asarray(child_ids, dtype=object)) if not isinstance(
        child_ids, pd.Series) else pa.array(child_ids.astype("str"))
    if len(c) and len(p) and c.null_count == 0:
        change = np.ones(len(c), bool)
        change[1:] = pc.not_equal(c[1:], c[:-1]).to_numpy(zero_copy_only=False)
        starts = np.flatnonzero(change)
        if len(starts) == len(p) and pc.all(pc.equal(c.take(pa.array(starts)), p)).as_py():
            return np.cumsum(change) - 1
        # second fast path: ids are one prefix + increasing numbers (make_ids style)
        pre = p[0].as_py()[:1]
        if (len(p) > 1000 and p.null_count == 0
                and pc.all(pc.starts_with(p, pre)).as_py()
                and pc.all(pc.starts_with(c, pre)).as_py()):
            try:
                pn = pc.cast(pc.utf8_slice_codeunits(p, 1), pa.int64()).to_numpy()
                cn = pc.cast(pc.utf8_slice_codeunits(c, 1), pa.int64()).to_numpy()
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pn = None
            if pn is not None and (np.diff(pn) > 0).all():
                if pn[-1] - pn[0] == len(pn) - 1:  # contiguous numbers: direct offset
                    pos = np.clip(cn - pn[0], 0, len(pn) - 1)
                else:
                    pos = np.minimum(np.searchsorted(pn, cn), len(pn) - 1)
                width_ok = pc.all(pc.equal(pc.utf8_length(c),
                                           pc.utf8_length(p).take(pa.array(pos)))).as_py()
                if width_ok:
                    return np.where(pn[pos] == cn, pos, -1)
    idx = pc.index_in(c, value_set=p).to_numpy(zero_copy_only=False)
    return np.nan_to_num(np.asarray(idx, dtype=float), nan=-1).astype(np.int64)


def lookup_positions(uniq, values) -> np.ndarray:
    """Position in ``values`` (distinct) of each of ``uniq`` (-1 when absent), like
    ``pd.Index(values).get_indexer(uniq)``: a dict for small inputs, else an Arrow hash."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(uniq) + len(values) <= 4096:
        pos = {v: i for i, v in enumerate(values.tolist())}
        u = uniq.to_pylist() if isinstance(uniq, pa.Array) else list(uniq)
        return np.fromiter((pos.get(x, -1) for x in u), np.int64, len(u))
    found = pc.index_in(uniq if isinstance(uniq, pa.Array) else pa.array(uniq, from_pandas=True),
                        value_set=pa.array(values, from_pandas=True))
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def codes(s, values) -> np.ndarray:
    """Position of each value of ``s`` in ``values`` (-1 if missing/unknown).

    Only the distinct values are looked up (categorical codes or ``pd.factorize``), so it is
    fast for long columns with many repeats.
    """
    if isinstance(getattr(s, "dtype", None), pd.CategoricalDtype):
        idx = s.cat.codes.to_numpy()
        uniq = s.cat.categories
    else:
        idx, uniq = pd.factorize(np.asarray(s, dtype=object) if not hasattr(s, "dtype")
                                 else s)
    m = np.append(lookup_positions(np.asarray(uniq, dtype=object),
                                   np.asarray(values, dtype=object)), -1)
    return m[np.where(idx >= 0, idx, len(m) - 1)]


def ns(s: pd.Series) -> np.ndarray:
    """Int64 nanoseconds of a datetime column (NaT → min int64), no object round trip."""
    a = s.array
    if hasattr(a, "as_unit"):
        return np.asarray(a.as_unit("ns").asi8)
    return s.to_numpy("datetime64[ns]").astype(np.int64)


@functools.cache
def noon_utc_offsets(start: pd.Timestamp, tz: str, n_days: int) -> np.ndarray:
    """UTC offset (ns) of ``tz`` at local noon of each of ``n_days`` days from ``start``.

    Exact for clock times away from the night-time DST switch; cached and read-only.
    """
    days = (pd.date_range(start, periods=n_days, freq="D").as_unit("ns")
            + pd.Timedelta(hours=12))
    loc = days.tz_localize(tz)
    out = np.array((loc.tz_localize(None) - loc.tz_convert("UTC").tz_localize(None))
                   .as_unit("ns").asi8, dtype=np.int64)
    out.flags.writeable = False
    return out


#: marks an hour in :func:`local_hour_offsets` whose clock times need one-by-one conversion
IRREGULAR_HOUR = np.iinfo(np.int64).min


@functools.cache
def local_hour_offsets(start: pd.Timestamp, tz: str, n_days: int) -> np.ndarray:
    """UTC offset (ns) of ``tz`` for every local clock hour of ``n_days`` days from ``start``.

    ``local − offset`` is what ``tz_localize(tz, ambiguous=True, nonexistent="shift_forward")``
    gives for any local time in an hour whose first and last second exist and share one
    offset (ambiguous times resolved as summer time, so a repeated hour is regular too).
    Hours with a clock change inside (a skipped hour) are :data:`IRREGULAR_HOUR`: convert
    those times one by one. Cached and read-only.
    """
    h_ns = 3_600 * 10**9
    first = np.asarray(pd.date_range(start, periods=n_days, freq="D").as_unit("ns").asi8)
    hours = (first[:, None] + np.arange(24) * h_ns).ravel()
    out = np.empty(len(hours), dtype=np.int64)
    offs = []
    for edge in (hours, hours + h_ns - 10**9):  # first and last whole second of the hour
        loc = pd.DatetimeIndex(edge.astype("M8[ns]")).tz_localize(
            tz, ambiguous=np.ones(len(edge), bool), nonexistent="NaT")
        utc = loc.asi8
        offs.append(np.where(loc.isna(), IRREGULAR_HOUR, edge - utc))
    out[:] = np.where(offs[0] == offs[1], offs[0], IRREGULAR_HOUR)
    out.flags.writeable = False
    return out
