"""Fast paths of the market, products, customers and aftersales stages give exactly what the
plain pandas / numpy code they replace gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cbec_sim.pools import pools
from cbec_sim.tables import aftersales, customers, market, products
from cbec_sim.tables._util import take_str

# ---- customers: pool picks from the cached locale index -------------------------------------

@pytest.mark.parametrize("kind", ["first_name", "last_name", "phone", "email_domain", "city"])
@pytest.mark.parametrize("case", ["mixed", "one_row", "empty", "unknown_locale"])
def test_pick_indexed_equals_pick(kind, case):
    pool = pools()
    locales = np.array([*sorted(set(pool["locale"]))[:5], "xx_XX"], dtype=object)
    n = {"mixed": 3000, "one_row": 1, "empty": 0, "unknown_locale": 50}[case]
    codes = np.random.default_rng(1).integers(0, len(locales), n)
    if case == "unknown_locale":
        codes[:] = len(locales) - 1  # no pool of its own: en_US
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    sub, want = customers._pick(a, pool, codes, locales, kind)
    pk = customers._pool_kind(pool, kind)
    got = customers._pick_indexed(b, pk, codes, locales)
    assert np.array_equal(got, want)
    assert a.random() == b.random()  # the same draws were made
    assert take_str(pk.value, got).to_pylist() == sub["value"].to_numpy()[want].tolist()
    assert np.array_equal(pk.ascii[got], sub["ascii"].to_numpy()[want])
    if kind == "phone":
        assert pk.value_prefix.to_pylist() == customers._phone_prefixes(sub["value"]).tolist()


@pytest.mark.parametrize("case", ["plain", "categorical", "no_b2c", "nan", "other_market"])
def test_b2c_weights_equal_groupby(case):
    rng = np.random.default_rng(3)
    n = 40
    st = pd.DataFrame({
        "market": np.array(["US", "DE", "JP", "FR"], dtype=object)[rng.integers(0, 4, n)],
        "model": np.where(rng.random(n) < 0.8, "B2C", "B2B"),
        "size_weight": rng.lognormal(0.0, 2.0, n),
    })
    if case == "categorical":
        st["market"] = st["market"].astype("category")
    if case == "no_b2c":
        st["model"] = "B2B"
    if case == "nan":
        st.loc[::3, "size_weight"] = np.nan
    markets = ["US", "DE", "BR"] if case == "other_market" else ["US", "DE", "JP", "FR", "BR"]
    want = (st[st["model"] == "B2C"].groupby("market", observed=False)["size_weight"].sum()
            .reindex(markets).fillna(0).to_numpy(float))
    assert np.array_equal(customers._b2c_weights(st, markets), want)


# ---- market: listing texts, keyword trend, group sums, last-day rates -----------------------

def _attr_texts_plain(tt, attr_names, ty, order, use, brand):
    """The original object-array concatenation."""
    chosen = np.take_along_axis(attr_names[ty], order, 1)
    chosen_t = np.take_along_axis(tt["attr_title"][ty], order, 1)
    attrs = chosen[:, 0].astype(object)
    words = chosen_t[:, 0].astype(object)
    for j in range(1, 4):
        has = use[:, j]
        attrs = np.where(has, attrs + ";" + chosen[:, j], attrs)
        if j < 2:
            words = np.where(has, words + " " + chosen_t[:, j], words)
    title = brand + " " + words + " " + tt["noun_title"][ty]
    return attrs, title


@pytest.mark.parametrize("n", [0, 1, 2000])
def test_attr_texts_equal_object_concatenation(n):
    cat = market._CAT
    types = market._types(cat)
    names, _ = market._attr_table(types)
    tt = market._type_tables(cat, cat.categories, types)
    rng = np.random.default_rng(n)
    ty = rng.integers(0, len(types), n)
    order = np.argsort(rng.random((n, market.N_ATTR)), axis=1)
    k = rng.integers(1, 5, n)
    use = np.arange(market.N_ATTR)[None, :] < k[:, None]
    b = rng.integers(0, len(market.BRAND_POOL), n)
    attrs, title = market._attr_texts(tt, ty, order, use, market._brand_arrow().take(pa.array(b)))
    want_a, want_t = _attr_texts_plain(tt, names, ty, order, use,
                                       np.array(market.BRAND_POOL, dtype=object)[b])
    pd.testing.assert_series_equal(attrs, pd.Series(want_a, dtype=object).astype(str))
    pd.testing.assert_series_equal(title, pd.Series(want_t, dtype=object).astype(str))


@pytest.mark.filterwarnings("ignore:Constructing a Categorical")  # value not in categories
@pytest.mark.parametrize("values", [
    ["rising", "stable", "declining", "stable"], ["stable"], [], ["rising", "other", "declining"],
])
def test_trend_categorical(values):
    trend = np.array(values, dtype=str)
    want = pd.Categorical(trend, categories=["rising", "stable", "declining"])
    got = market._trend_categorical(trend)
    pd.testing.assert_extension_array_equal(got, want)


@pytest.mark.parametrize("seed", range(4))
def test_group_code_sum_equals_three_key_groupby(seed):
    rng = np.random.default_rng(seed)
    n = 5000
    m, t = rng.integers(0, 8, n), rng.integers(0, 40, n)
    k = np.array(["head", "mid", "long_tail"], dtype=object)[rng.integers(0, 3, n)]
    pop = rng.lognormal(0.0, 3.0, n)  # wide range: compensated summation matters
    frame = pd.DataFrame({"m": m, "t": t, "k": k, "pop": pop})
    want = frame.groupby(["m", "t", "k"])["pop"].transform("sum").to_numpy()
    code = pd.DataFrame({"m": m, "t": t, "k": k}).groupby(["m", "t", "k"]).ngroup().to_numpy()
    got = pd.Series(pop).groupby(code).transform("sum").to_numpy()
    assert np.array_equal(got, want)


class _Ctx:
    def __init__(self, fx):
        self.catalog = market._CAT
        self.tables = {} if fx is None else {"fx_rates": fx}


def _local_per_usd_plain(ctx, currencies):
    cny = ctx.catalog.fx["cny"].astype(float).to_dict()
    fx = ctx.tables.get("fx_rates")
    if fx is not None and len(fx):
        last = fx[fx["date"] == fx["date"].max()]
        cny.update(dict(zip(last["currency"].astype(str), last["cny_per_unit"].astype(float),
                            strict=True)))
    return np.array([cny["USD"] / cny[c] for c in currencies])


@pytest.mark.parametrize("case", ["none", "empty", "full", "categorical"])
def test_local_per_usd(case):
    cur = np.array(["EUR", "JPY", "USD", "BRL"], dtype=object)
    days = pd.date_range("2025-01-01", periods=5, freq="D").as_unit("ns")
    fx = pd.DataFrame({"date": np.repeat(days.to_numpy(), 3),
                       "currency": np.tile(np.array(["USD", "EUR", "JPY"], dtype=object), 5),
                       "cny_per_unit": np.random.default_rng(0).uniform(0.04, 8.0, 15)})
    fx = {"none": None, "empty": fx.iloc[:0], "full": fx,
          "categorical": fx.astype({"currency": "category"})}[case]
    ctx = _Ctx(fx)
    assert np.array_equal(market._local_per_usd(ctx, cur), _local_per_usd_plain(ctx, cur))


# ---- products: first rate per currency ------------------------------------------------------

@pytest.mark.parametrize("dtype", ["category", "str", "object"])
def test_first_rates_equal_groupby_first(dtype):
    fx = pd.DataFrame({
        "currency": ["USD", "EUR", "USD", "JPY", "EUR", "GBP", "GBP"],
        "cny_per_unit": [np.nan, 7.9, 7.1, 0.05, 7.8, np.nan, np.nan],
    }).astype({"currency": dtype})
    cur = np.array(["EUR", "USD", "JPY", "GBP", "CHF", "EUR"], dtype=object)
    want = (fx.groupby("currency", observed=True)["cny_per_unit"].first()
            .reindex(cur).to_numpy())
    got = products._first_rates(fx, cur)
    assert np.array_equal(got, want, equal_nan=True)


# ---- aftersales: wall-clock conversion ------------------------------------------------------

@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/Sao_Paulo", "Australia/Sydney"])
def test_wall_clock_equals_tz_convert(tz):
    ns = pd.date_range("2024-12-01", "2026-01-31", freq="37min").as_unit("ns").asi8
    ns = np.concatenate([ns, [np.iinfo(np.int64).min]])  # NaT
    want = (pd.DatetimeIndex(ns.view("datetime64[ns]"), tz="UTC").tz_convert(tz)
            .tz_localize(None).asi8)
    assert np.array_equal(aftersales._wall_clock(ns, tz), want)
