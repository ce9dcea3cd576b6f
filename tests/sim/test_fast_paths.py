"""Fast paths of the orders stage give exactly what the plain numpy / pandas calls give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbec_sim.catalog import catalog
from cbec_sim.tables._util import IRREGULAR_HOUR, local_hour_offsets, search_right
from cbec_sim.tables.orders import _allocate_cents


@pytest.mark.parametrize("seed", range(6))
def test_search_right_equals_searchsorted(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(16, 2000))
    w = rng.random(n) ** int(rng.integers(1, 20))
    w[rng.random(n) < 0.2] = 0.0  # empty steps and ties
    w[: int(rng.integers(0, 4))] = 0.0
    cw = np.cumsum(w)
    x = rng.random(20 * n) * cw[-1] * 1.05
    x[:n] = cw[rng.integers(0, n, n)]  # needles exactly on the steps
    assert np.array_equal(search_right(cw, x), np.searchsorted(cw, x, side="right"))
    x[0] = -1.0  # outside the fast path's domain: still the same answer
    assert np.array_equal(search_right(cw, x), np.searchsorted(cw, x, side="right"))


@pytest.mark.parametrize("tz", [*sorted(set(catalog().markets["tz"])), "Australia/Lord_Howe"])
def test_local_hour_offsets_match_tz_localize(tz):
    start, n_days = pd.Timestamp("2025-01-01"), 400
    days = pd.date_range(start, periods=n_days, freq="D").as_unit("ns").asi8
    d = np.repeat(np.arange(n_days), 8 * 60)  # every 30 s from 00:00 to 04:00 ...
    sec = np.tile(np.arange(0, 4 * 3600, 30), n_days)
    rng = np.random.default_rng(0)  # ... and random times of day
    d = np.concatenate([d, rng.integers(0, n_days, 50_000)])
    sec = np.concatenate([sec, rng.integers(0, 86_400, 50_000)])
    local = days[d] + sec * 10**9
    want = pd.DatetimeIndex(local.astype("M8[ns]")).tz_localize(
        tz, ambiguous=np.ones(len(local), bool), nonexistent="shift_forward").asi8
    off = local_hour_offsets(start, tz, n_days)[d * 24 + sec // 3600]
    regular = off != IRREGULAR_HOUR
    assert np.array_equal((local - off)[regular], want[regular])
    assert regular.mean() > 0.99


def _allocate_reference(total_cents, weights, group, n_groups):
    """Largest-remainder allocation with one stable sort (the textbook form)."""
    wsum = np.bincount(group, weights=weights, minlength=n_groups)
    share = np.divide(weights, wsum[group], out=np.zeros_like(weights), where=wsum[group] > 0)
    exact = total_cents[group] * share
    base = np.floor(exact).astype(np.int64)
    left = total_cents - np.bincount(group, weights=base, minlength=n_groups).astype(np.int64)
    order = np.lexsort((-(exact - base), group))
    g_sorted = group[order]
    rank = np.arange(len(order)) - np.searchsorted(g_sorted, np.arange(n_groups))[g_sorted]
    bump = np.zeros(len(group), dtype=np.int64)
    bump[order] = (rank < left[g_sorted]).astype(np.int64)
    return base + bump


@pytest.mark.parametrize("max_lines", [4, 9, 30])
def test_allocate_cents_matches_sorting_form(max_lines):
    rng = np.random.default_rng(max_lines)
    n_groups = 3000
    group = np.repeat(np.arange(n_groups), rng.integers(1, max_lines, n_groups))
    weights = rng.choice([50.0, 100.0, 250.0, 999.0], len(group))  # many equal remainders
    total = rng.integers(1, 10_000, n_groups)
    got = _allocate_cents(total, weights, group, n_groups)
    assert np.array_equal(got, _allocate_reference(total, weights, group, n_groups))
    assert np.array_equal(np.bincount(group, weights=got, minlength=n_groups), total)


@pytest.mark.parametrize("width", [1, 3, 4, 5, 8, 9, 12])
def test_digit_chars_equals_digit_by_digit(width):
    from cbec_sim.tables._util import digit_chars

    rng = np.random.default_rng(width)
    x = np.concatenate([[0, 1, 9, 10, 9999, 10_000, 10**width - 1],
                        rng.integers(0, 10**12, 2000)])  # also more digits than width
    want = np.empty((len(x), width), dtype=np.uint8)
    rest = x.copy()
    for k in range(width - 1, -1, -1):
        want[:, k] = 48 + rest % 10
        rest //= 10
    assert np.array_equal(digit_chars(x, width), want)
    wide = np.zeros((len(x), width + 2), dtype=np.uint8)
    digit_chars(x, width, out=wide[:, 2:])  # into a column slice, as id_array does
    assert np.array_equal(wide[:, 2:], want) and not wide[:, :2].any()


@pytest.mark.parametrize("threaded", [True, False])
def test_in_background_returns_result_and_error(threaded):
    from cbec_sim.tables._util import in_background

    fut = in_background(np.add, np.arange(5), 1, threaded=threaded)
    assert np.array_equal(fut.result(timeout=10), np.arange(1, 6))
    boom = in_background(int, "not a number", threaded=threaded)
    with pytest.raises(ValueError, match="not a number"):
        boom.result(timeout=10)


@pytest.mark.parametrize("dates", [
    np.array(["2025-01-01", "2025-03-30", "2024-12-25", "2026-02-01"], dtype="M8[ns]"),
    np.array(["2025-01-01T12:00", "2024-12-31T23:59"], dtype="M8[ns]"),  # not midnight
    np.array(["2025-02-01", "NaT"], dtype="M8[ns]"),
    np.array(["2025-02-01"], dtype="M8[s]"),
    np.array([], dtype="M8[ns]"),
    pd.Series(pd.to_datetime(["2025-05-05", "2025-01-02"])),
])
def test_days_from_start_equals_timedelta_days(dates):
    from types import SimpleNamespace

    from cbec_sim.tables.marketing import _days_from_start

    ctx = SimpleNamespace(start=pd.Timestamp("2025-01-01"))
    want = (pd.to_datetime(pd.Series(dates)) - ctx.start).dt.days.to_numpy()
    got = _days_from_start(ctx, dates)
    assert np.array_equal(got, want, equal_nan=want.dtype.kind == "f")


def test_order_view_from_the_orders_stage_codes_equals_text_lookup():
    """The metrics stage reuses the orders stage's integer codes; looking the ids up again
    from the text columns gives the same view (also when a stage replaces the orders)."""
    import sys

    import cbec_sim
    from cbec_sim.tables import marketing

    gen = sys.modules["cbec_sim.generate"]
    ctx = gen._context(3000, None, None, "2025-01-01", 3, 11)
    gen._run_stages(ctx, until_table="customers")  # up to the orders stage (completes it)
    st = marketing._store_frame(ctx)
    assert ("marketing.order_codes",) in ctx.cache
    remembered = marketing._order_view(ctx, st)
    assert ("marketing.order_codes",) not in ctx.cache  # used once, then freed
    ctx.tables["orders"] = ctx.tables["orders"].copy()  # a replaced table: text lookup
    looked_up = marketing._order_view(ctx, st)
    assert remembered.keys() == looked_up.keys()
    for k in remembered:
        assert np.array_equal(remembered[k], looked_up[k]), k
        assert remembered[k].dtype == looked_up[k].dtype, k
    assert (remembered["campaign_id"] >= 0).any() and (remembered["live_session_id"] >= 0).any()
    assert cbec_sim  # the package registers every table spec
