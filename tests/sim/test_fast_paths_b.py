"""Fast paths of the later stages (imports … risk) and of ``rules.account_health`` give exactly
what the plain pandas forms they replaced give, also on inputs the simulator never makes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbec_sim import rules
from cbec_sim.tables._util import categorical, const_categorical
from cbec_sim.tables.b2b_marketing import _equals_text
from cbec_sim.tables.backoffice import _used_categories, _utc
from cbec_sim.tables.imports import _day_weights, _record_numbers
from cbec_sim.tables.risk import _isin_ids, _store_months

# ---- reference forms (the general pandas code the fast paths replaced) -------------------


def _tracking_valid_reference(tracking, pattern) -> np.ndarray:
    t = pd.Series(np.asarray(tracking, dtype=object)).astype("str")
    p = np.asarray(pattern, dtype=object)
    out = np.zeros(len(t), bool)
    for pat in pd.unique(p[pd.notna(p)]):
        sel = np.flatnonzero(p == pat)
        out[sel] = t.iloc[sel].str.fullmatch(pat).fillna(False).to_numpy(bool)
    s10 = t.str.fullmatch(r"[A-Z]{2}\d{9}[A-Z]{2}").fillna(False).to_numpy(bool) & out
    if s10.any():
        body = t[s10].str.slice(2, 11)
        serial = body.str.slice(0, 8).astype("int64").to_numpy()
        check = body.str.slice(8, 9).astype("int64").to_numpy()
        out[np.flatnonzero(s10)] = rules.s10_check_digit(serial) == check
    return out


def _account_health_reference(orders, shipments, reviews, tickets, carriers, as_of,
                              window_days=rules.ACCOUNT_HEALTH_WINDOW_DAYS):
    end = pd.Timestamp(as_of)
    end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
    start = end - pd.Timedelta(days=window_days)

    def within(ts):
        return ((ts >= start) & (ts < end)).to_numpy(bool)

    o = orders.loc[within(orders["created_at"]), ["order_id", "store_id", "cancel_reason"]]
    seller_cancel = o["cancel_reason"].astype(object).isin(rules.SELLER_CANCEL_REASONS)
    neg = reviews.loc[reviews["rating"] <= rules.NEGATIVE_REVIEW_MAX_RATING, "order_id"].dropna()
    comp = tickets.loc[tickets["is_complaint"].to_numpy(bool), "order_id"].dropna()
    defect = rules._isin_str(o["order_id"], pd.concat([neg, comp], ignore_index=True))
    og = pd.DataFrame({"store_id": o["store_id"].to_numpy(), "cancel": seller_cancel.to_numpy(),
                       "defect": defect}).groupby("store_id", sort=True)
    s = shipments.loc[within(shipments["shipped_at"]),
                      ["store_id", "carrier_id", "tracking_number", "is_late_shipment"]]
    fmt = carriers.set_index("carrier_id")["tracking_format"].reindex(s["carrier_id"])
    valid = _tracking_valid_reference(s["tracking_number"].to_numpy(object),
                                      fmt.to_numpy(object))
    sg = pd.DataFrame({"store_id": s["store_id"].to_numpy(),
                       "late": s["is_late_shipment"].to_numpy(bool),
                       "valid": valid}).groupby("store_id", sort=True)
    r = reviews.loc[within(reviews["created_at"]), ["store_id", "rating"]]
    out = pd.DataFrame({
        "late_shipment_rate": sg["late"].mean(), "order_defect_rate": og["defect"].mean(),
        "cancel_rate": og["cancel"].mean(), "valid_tracking_rate": sg["valid"].mean(),
        "feedback_score": r.groupby("store_id", sort=True)["rating"].mean().astype(float),
    })
    out.index.name = "store_id"
    return out


def _outcome(f, *args, **kwargs):
    """The result of ``f``, or the type of the error it raises."""
    try:
        return f(*args, **kwargs)
    except Exception as exc:  # compared by type, not handled
        return type(exc)


# ---- rules ----------------------------------------------------------------------------------

TRACKING = ["RB123456785CN", "RB123456780CN", "LX987654321CN", "SBN123456789012", "1Z" + "1" * 16,
            "", None, np.nan, "rb123456785cn", "RB12345678CN", "ELD12345678901X", "12345678901",
            "1234567890", 1234567890, "RB123456785CN\n", "ÅB123456785CN", "RB١٢٣٤٥٦٧٨٥CN"]
PATTERNS = [r"R[A-Z]\d{9}CN", r"L[A-Z]\d{9}CN", r"SBN\d{12}", r"\d{10}", r"1Z\d{16}", None,
            np.nan, r"[A-Z]{2}\d{9}[A-Z]{2}", r"ELD\d{12}$", r"^.*$"]


@pytest.mark.parametrize("seed", range(8))
def test_tracking_number_valid_matches_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 60))
    tracking = np.array(TRACKING, dtype=object)[rng.integers(0, len(TRACKING), n)]
    pattern = np.array(PATTERNS, dtype=object)[rng.integers(0, len(PATTERNS), n)]
    assert np.array_equal(rules.tracking_number_valid(tracking, pattern),
                          _tracking_valid_reference(tracking, pattern))


def test_tracking_number_valid_one_row_and_lists():
    for t, p in [(["RB123456785CN"], [r"R[A-Z]\d{9}CN"]), ([None], [None]), ([], [])]:
        assert np.array_equal(rules.tracking_number_valid(t, p), _tracking_valid_reference(t, p))


def _same_health(args, kwargs=None):
    kwargs = kwargs or {}
    want = _outcome(_account_health_reference, *args, **kwargs)
    got = _outcome(rules.account_health, *args, **kwargs)
    if isinstance(want, type):
        assert got is want
        return
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.index.dtype == want.index.dtype and got.index.name == want.index.name


@pytest.fixture(scope="module")
def health_inputs(small_world):
    t = small_world.tables
    as_of = t["orders"]["created_at"].max() + pd.Timedelta(hours=1)
    return t["orders"], t["shipments"], t["reviews"], t["tickets"], t["carriers"], as_of


def test_account_health_matches_reference_on_a_world(health_inputs):
    o, s, r, k, c, as_of = health_inputs
    _same_health((o, s, r, k, c, as_of))
    _same_health((o, s, r, k, c, as_of.tz_localize(None)))  # naive as_of = UTC
    _same_health((o, s, r, k, c, as_of), {"window_days": 7})
    _same_health((o, s, r, k, c, pd.Timestamp("2000-01-01", tz="UTC")))  # empty window


def test_account_health_matches_reference_on_odd_inputs(health_inputs):
    o, s, r, k, c, as_of = health_inputs
    o2 = o.copy()
    o2["store_id"] = o2["store_id"].astype("category")
    o2["cancel_reason"] = o2["cancel_reason"].astype(object)
    o2.index = np.arange(len(o2))[::-1] * 3
    s2 = s.copy()
    s2["store_id"] = s2["store_id"].astype(object)
    s2["carrier_id"] = s2["carrier_id"].astype("category")
    s2.loc[s2.index[:20], "tracking_number"] = None
    r2 = r.copy()
    r2["rating"] = r2["rating"].astype("Int64")
    r2.loc[r2.index[:3], "rating"] = pd.NA
    r2["store_id"] = r2["store_id"].astype("category")
    r3 = r.assign(rating=r["rating"].astype(float) + 0.1)
    k2 = k.copy()
    k2.loc[k2.index[:3], "order_id"] = None
    _same_health((o2, s2, r2, k2, c, as_of))
    _same_health((o, s, r3, k, c, as_of))
    _same_health((o, s, r, k, c.iloc[1:], as_of))  # a carrier missing: no format, invalid
    _same_health((o, s, r, k, pd.concat([c, c.iloc[:1]]), as_of))  # duplicate carrier: error
    _same_health((o.iloc[:0], s.iloc[:0], r.iloc[:0], k.iloc[:0], c, as_of))
    _same_health((o.iloc[:1], s.iloc[:1], r.iloc[:1], k.iloc[:1], c, as_of))


def test_account_health_helpers():
    col = pd.Series(["out_of_stock", None, "other", "address_issue"])
    for c in (col, col.astype("category"), col.astype(object), col.iloc[:0]):
        assert np.array_equal(rules._isin_values(c, rules.SELLER_CANCEL_REASONS),
                              c.astype(object).isin(rules.SELLER_CANCEL_REASONS).to_numpy())
    df = pd.DataFrame({"order_id": ["a", None, "c", "d"], "x": [1, 2, 3, None]},
                      index=[5, 5, 1, 0])
    for mask in (df["x"] <= 2, (df["x"] <= 2).to_numpy(), df["x"].astype("Int64") <= 2):
        want = _outcome(lambda m=mask: df.loc[m, "order_id"].dropna().to_numpy(object))
        got = _outcome(rules._ids_where, df, mask)
        assert (got is want) if isinstance(want, type) else list(got) == list(want)
    t = pd.DataFrame({"k": ["a", "b", "c"], "v": ["x", None, "z"]})
    keys = pd.Series(["c", "q", "a", None, "b"])
    assert list(map(str, rules._lookup(t, "k", "v", keys))) == list(map(str, t.set_index(
        "k")["v"].reindex(keys).to_numpy(object)))


# ---- stage helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_store_months_matches_groupby_merge(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 400))
    store = rng.integers(-1, 6, n)
    month = rng.integers(640, 660, n)
    free = rng.random(n) < 0.7
    got = _store_months(store, month, free)
    keep = store >= 0
    per = (pd.DataFrame({"s": store[keep], "m": month[keep], "free": free[keep]})
           .groupby(["s", "m"]).agg(n=("free", "size"), free=("free", "sum")).reset_index())
    nxt = per.assign(m=per["m"] - 1)[["s", "m", "n"]].rename(columns={"n": "n_next"})
    want = per.merge(nxt, on=["s", "m"])
    for c in ("s", "m", "n", "free", "n_next"):
        assert np.array_equal(got[c], want[c].to_numpy()), c


@pytest.mark.parametrize("col", [
    pd.Series(["a", "b", None, "c"], dtype="str"), pd.Series(["a", "b", None, "c"], dtype=object),
    pd.Series(["a", "b", "c"], dtype="category"), pd.Series([], dtype="str"),
    pd.Series(["b"], dtype=object)])
def test_isin_ids_matches_series_isin(col):
    for ids in (set(), {"a"}, {"a", np.nan}, {"zz", "c"}):
        assert np.array_equal(_isin_ids(col, ids), col.isin(ids).to_numpy())


def test_equals_text_matches_astype_str():
    col = pd.Series(["x", None, "y", "x"])
    for c in (col, col.astype("category"), pd.Series([1, 2, 1]).astype("category"),
              col.iloc[:0].astype("category")):
        for v in ("x", "1", "z"):
            assert np.array_equal(_equals_text(c, v), c.astype(str).to_numpy() == v)


def test_used_categories_and_utc():
    labels = np.array(["USD", "EUR", "USD", "JPY"], dtype=object)
    for idx in (np.array([0, 2, 3, 0]), np.array([1]), np.array([], np.int64), np.array([-1, 0])):
        for lab in (labels, np.array(["USD", None, "EUR", "USD"], dtype=object)):
            got, want = _used_categories(lab, idx), pd.Categorical(lab[idx])
            pd.testing.assert_series_equal(pd.Series(got), pd.Series(want))
    ns_arr = np.array([0, 10**18, np.iinfo(np.int64).min], np.int64)
    want = pd.DatetimeIndex(ns_arr.view("datetime64[ns]"), tz="UTC")
    pd.testing.assert_index_equal(_utc(ns_arr), want)


def test_const_categorical_matches_categorical():
    for codes, cats in [(np.array([0, 1, -1, 1]), ("a", "b")), (np.zeros(0, np.int8), ("CNY",)),
                        (np.array([2]), ("x", "y", "z"))]:
        pd.testing.assert_series_equal(pd.Series(const_categorical(codes, cats)),
                                       pd.Series(categorical(codes, cats)))
    with pytest.raises(ValueError):
        const_categorical(np.array([3]), ("a", "b"))


def test_record_numbers_and_day_weights():
    years = np.array([2025, 1970, 2026, 2025])
    seq = np.array([1, 12, 123456789, 0])
    for prefix, width in (("5101", 6), ("44", 8)):
        want = [f"{prefix}{y}{s:0{width}d}" for y, s in zip(years, seq, strict=True)]
        assert _record_numbers(prefix, years, seq, width).to_pylist() == want
    assert _record_numbers("44", years[:0], seq[:0], 8).to_pylist() == []
    days = pd.DatetimeIndex(np.arange(-800, 21000).astype("M8[D]"))
    w = np.ones(len(days))
    md = days.month * 100 + days.day
    w[(md >= 1101) & (md <= 1111)] = 2.0
    w[md == 1111] = 5.0
    w[(md >= 601) & (md <= 618)] = 1.6
    w[md == 618] = 4.0
    assert np.array_equal(_day_weights(-800, 20999), w)


def _work_week_reference(workdays):
    work = np.zeros(7, bool)
    work[list(workdays)] = True
    flags = work[(np.arange(7) + 3) % 7]
    if not flags.any():
        raise ValueError("workdays must name at least one weekday")
    return flags, np.concatenate([[0], np.cumsum(flags)]), np.flatnonzero(flags)


@pytest.mark.parametrize("workdays", [(0, 1, 2, 3, 4, 5), [0, 1, 2, 3, 4], (6,), np.array([0, 6]),
                                      (0, 0, 3), (), [True], range(7), (9,)])
def test_work_week_cache_matches_plain_tables(workdays):
    want = _outcome(_work_week_reference, workdays)
    for _ in range(2):  # the second call may come from the cache
        got = _outcome(rules._work_week, workdays)
        if isinstance(want, type):
            assert got is want
        else:
            assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))
