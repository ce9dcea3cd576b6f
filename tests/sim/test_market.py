"""Stage ``market``: market demand, competitor brands/products and keywords."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from cbec_sim import rules
from cbec_sim.catalog import DEFAULT_MARKETS, catalog
from cbec_sim.context import Context
from cbec_sim.generate import STAGES
from cbec_sim.schema import REGISTRY, conform, validate_references, validate_table
from cbec_sim.tables import fx, market, reference

TABLES = ("market_demand", "competitor_sales", "competitor_products", "keywords")


def make_ctx(n_orders=5000, seed=7, markets=DEFAULT_MARKETS, start="2025-01-01", months=12,
             platforms=None) -> Context:
    """A context like generate() builds, with the reference and fx stages already run."""
    cat = catalog()
    pf = tuple(platforms or cat.platforms_for(markets))
    t0 = pd.Timestamp(start)
    end = t0 + pd.DateOffset(months=months) - pd.Timedelta(days=1)
    children = np.random.default_rng(seed).spawn(len(STAGES))
    ctx = Context(n_orders=n_orders, markets=tuple(markets), platforms=pf, start=t0, end=end,
                  catalog=cat, rngs={name: g for (name, _), g in zip(STAGES, children,
                                                                     strict=True)})
    for stage in (reference, fx):
        ctx.tables.update(stage.build(ctx))
    return ctx


def run(**kw) -> tuple[Context, dict[str, pd.DataFrame]]:
    ctx = make_ctx(**kw)
    out = market.build(ctx)
    tables = {k: conform(v, REGISTRY[k]) for k, v in out.items()}
    return ctx, tables


@pytest.fixture(scope="module")
def world():
    return run()


@pytest.fixture(scope="module")
def ctx(world):
    return world[0]


@pytest.fixture(scope="module")
def t(world):
    return world[1]


def labels(t, kind):
    a = t["anomalies"]
    return a[a["kind"] == kind]


# ------------------------------------------------------------------------------ integrity

def test_tables_match_schema_and_references(ctx, t):
    for name in (*TABLES, "anomalies"):
        assert name in t
        assert validate_table(t[name], REGISTRY[name]) == []
    assert validate_references({**ctx.tables, **t}) == []


def test_small_world_row_budget(t):
    assert sum(len(t[k]) for k in TABLES) < 50_000


def test_demand_grid_and_price_identity(ctx, t):
    d = t["market_demand"]
    assert not d.duplicated(["category", "market", "month"]).any()
    months = pd.date_range(ctx.start - pd.DateOffset(months=24), ctx.end, freq="MS")
    assert sorted(d["month"].unique()) == list(months)
    n = len(catalog().categories) * len(ctx.markets) * len(months)
    assert len(d) == n
    assert set(d["market"].astype(str)) == set(ctx.markets)
    expect = rules.round_cents(d["market_gmv_usd"] / d["units_sold"])
    np.testing.assert_array_equal(d["avg_price_usd"].to_numpy(), expect)
    assert (d["search_volume"] > d["units_sold"]).all()  # people search more than they buy


# ------------------------------------------------------------------------------ demand shape

def _moy_profile(d, cat, mkt):
    x = d[(d["category"] == cat) & (d["market"] == mkt)]
    return x.groupby(x["month"].dt.month)["market_gmv_usd"].mean()


def test_seasonality_by_category_and_hemisphere(t):
    d = t["market_demand"]
    for m in ("US", "DE", "GB"):
        p = _moy_profile(d, "sports_outdoor", m)
        assert p.loc[[6, 7, 8]].mean() > 1.25 * p.loc[[1, 2, 3]].mean()
    au = _moy_profile(d, "sports_outdoor", "AU")  # southern hemisphere: summer in Dec–Feb
    assert au.loc[[12, 1, 2]].mean() > 1.25 * au.loc[[6, 7, 8]].mean()
    toys = _moy_profile(d, "toys", "US")
    assert toys.loc[[11, 12]].mean() > 1.15 * toys.mean()


def test_growth_differs_and_blue_oceans_are_labelled(t):
    d = t["market_demand"].copy()
    d["year"] = d["month"].dt.year
    g = d.groupby(["category", "market", "year"], observed=True)["market_gmv_usd"].sum()
    g = g.unstack()
    yoy = g[2025] / g[2024] - 1
    assert (yoy < 0).sum() >= 3 and (yoy > 0.3).sum() >= 3
    blue = labels(t, "blue_ocean_market")
    assert len(blue) >= 1
    last = d[d["year"] == 2025].groupby(["category", "market"], observed=True).agg(
        gmv=("market_gmv_usd", "sum"), sellers=("n_active_sellers", "mean"))
    per_seller = last["gmv"] / last["sellers"]
    for ent in blue["entity_id"]:
        c, m = ent.split("|")
        assert yoy.loc[(c, m)] > yoy.median()
        assert per_seller.loc[(c, m)] > per_seller.median()  # little competition


def test_trend_inflections_change_direction(t):
    d = t["market_demand"]
    lab = labels(t, "trend_inflection")
    assert len(lab) >= 1
    checked = 0
    for _, r in lab.iterrows():
        c, m = r["entity_id"].split("|")
        x = d[(d["category"] == c) & (d["market"] == m)].sort_values("month")
        b = int(np.nonzero((x["month"] == r["start"]).to_numpy())[0][0])
        if b < 8 or len(x) - b < 8:
            continue
        # log GMV ~ month-of-year dummies + trend + hinge at the labelled month
        tt = np.arange(len(x))
        X = np.column_stack([np.eye(12)[x["month"].dt.month - 1], tt, np.maximum(tt - b, 0)])
        coef = np.linalg.lstsq(X, np.log(x["market_gmv_usd"].to_numpy()), rcond=None)[0]
        a1, a2 = (int(v) for v in re.findall(r"([+-]\d+)%", r["detail"]))
        assert np.sign(coef[-1]) == np.sign(a2 - a1)
        assert abs(coef[-1]) * 12 > 0.05  # a visible change of the annual growth rate
        checked += 1
    assert checked >= 1


# ------------------------------------------------------------------------------ competitors

def test_brand_sales_fit_inside_the_market(t):
    d, s = t["market_demand"], t["competitor_sales"]
    key = ["category", "market", "month"]
    agg = s.groupby(key, observed=True).agg(g=("gmv_usd", "sum"), u=("units", "sum"),
                                            n=("brand", "size")).reset_index()
    j = agg.merge(d, on=key, validate="one_to_one")
    assert len(j) == len(agg)
    assert (j["g"] < j["market_gmv_usd"]).all()
    assert (j["u"] < j["units_sold"]).all()
    assert j["n"].between(5, 20).all()
    assert not s.duplicated([*key, "brand"]).any()
    np.testing.assert_array_equal(s["avg_price_usd"].to_numpy(),
                                  rules.round_cents(s["gmv_usd"] / s["units"]))
    assert set(s["brand"]) <= set(market.BRAND_POOL)
    # covers the world's months and the 12 before
    assert s["month"].min() == d["month"].max() - pd.DateOffset(months=23)


def test_concentration_differs_between_segments(t):
    d, s = t["market_demand"], t["competitor_sales"]
    last = s[s["month"] == s["month"].max()].merge(
        d, on=["category", "market", "month"])
    last["share"] = last["gmv_usd"] / last["market_gmv_usd"]
    per = last.groupby(["category", "market"], observed=True)["share"]
    cr4 = per.apply(lambda x: rules.concentration_ratio(x, 4))
    cr8 = per.apply(lambda x: rules.concentration_ratio(x, 8))
    hhi = per.apply(rules.hhi)
    assert (cr8 >= cr4).all()
    assert cr4.max() - cr4.min() > 0.3
    assert hhi.max() > 1500 and hhi.min() < 500


def test_competitor_surges_are_visible(t):
    s = t["competitor_sales"]
    lab = labels(t, "competitor_surge")
    assert len(lab) >= 1
    for _, r in lab.iterrows():
        c, m, b = r["entity_id"].split("|")
        x = s[(s["category"] == c) & (s["market"] == m) & (s["brand"] == b)]
        x = x.set_index("month")["gmv_usd"]
        prev = x[x.index < r["start"]].iloc[-3:].mean()
        during = x[(x.index >= r["start"]) & (x.index <= r["end"])].mean()
        assert during > 1.8 * prev


# ------------------------------------------------------------------------------ products

def test_competitor_products_are_coherent(ctx, t):
    p, s = t["competitor_products"], t["competitor_sales"]
    cat = catalog()
    ok = {(pl, m) for pl in ctx.platforms for m in cat.platforms[pl]["markets"]
          if cat.platforms[pl]["model"] == "B2C"}
    assert all(pair in ok for pair in zip(p["platform_id"], p["market"].astype(str),
                                          strict=True))
    assert (p["first_listed"] <= ctx.end).all()
    assert (p["first_listed"] >= ctx.end - pd.Timedelta(days=5 * 365)).all()
    # one store = one brand on one platform in one market
    st = p.groupby("competitor_store_id")[["brand", "platform_id", "market"]].nunique()
    assert (st == 1).all().all()
    # listed units × price fit inside the brand's last-month GMV
    p_val = (p["monthly_units"] * p["price_usd"]).groupby(
        [p["brand"], p["category"], p["market"]], observed=True).sum()
    last = s[s["month"] == s["month"].max()].set_index(["brand", "category", "market"])
    assert (p_val <= last.loc[p_val.index, "gmv_usd"] + 0.01).all()
    # local price and USD price agree with the fx table on the last day
    fxr = ctx.tables["fx_rates"]
    day = fxr[fxr["date"] == fxr["date"].max()].set_index("currency")["cny_per_unit"]
    usd = p["price"] * p["currency"].astype(str).map(day) / day["USD"]
    assert np.allclose(usd, p["price_usd"], atol=0.011)
    assert p["rating"].isna().eq(p["review_count"] == 0).all()
    assert p["rating"].isna().mean() < 0.2
    cur = p["market"].astype(str).map(cat.markets["currency"])
    assert (cur == p["currency"].astype(str)).all()


def test_best_price_band_concentrates_units(t):
    p = t["competitor_products"]
    x = p[p["category"] == "audio"]
    band = x["price_usd"] // 10 * 10
    units = x.groupby(band)["monthly_units"].sum().sort_values(ascending=False)
    share = units / units.sum()
    assert share.iloc[0] + share.iloc[1] > 0.45
    listings = band.value_counts(normalize=True)
    # the best-selling band sells more per listing than listings there would suggest
    assert share.iloc[0] > 1.3 * listings.loc[units.index[0]]


def test_rising_attributes_are_more_common_in_recent_listings(t):
    p = t["competitor_products"]
    rising = {a.rstrip("+") for v in market.TYPE_ATTRS.values() for a in v if a.endswith("+")}
    fading = {a.rstrip("-") for v in market.TYPE_ATTRS.values() for a in v if a.endswith("-")}
    recent = p["first_listed"] >= p["first_listed"].max() - pd.Timedelta(days=365)
    ex = p.assign(a=p["attributes"].str.split(";"), recent=recent).explode("a")
    frac_r = ex.groupby("recent")["a"].apply(lambda a: a.isin(rising).mean())
    frac_f = ex.groupby("recent")["a"].apply(lambda a: a.isin(fading).mean())
    assert frac_r[True] > 1.2 * frac_r[False]
    assert frac_f[True] < frac_f[False]


def test_product_anomalies_stand_out(t):
    p = t["competitor_products"].set_index("competitor_product_id")
    dump = labels(t, "price_dumping")["entity_id"]
    fake = labels(t, "review_inflation")["entity_id"]
    assert len(dump) >= 1 and len(fake) >= 1
    assert not set(dump) & set(fake)
    # price relative to the market's price level, against the product type's median
    rel = p["price_usd"] / p["market"].astype(str).map(catalog().markets["price_level"])
    med = rel.groupby(p["product_type"], observed=True).transform("median")
    assert (rel.loc[dump] < 0.55 * med.loc[dump]).all()
    ratio = p["review_count"] / (p["monthly_units"] + 1)
    assert ratio.loc[fake].median() > 5 * ratio.drop(index=fake).median()
    assert (p.loc[fake, "rating"] >= 4.8).all()


# ------------------------------------------------------------------------------ keywords

def test_keywords_keys_and_rules(ctx, t):
    k = t["keywords"]
    assert k["keyword_id"].is_unique
    assert not k.duplicated(["keyword", "market"]).any()
    assert (k["is_long_tail"] == (k["keyword_type"] == "long_tail")).all()
    assert k["attribute"].isna().eq(k["keyword_type"] == "head").all()
    np.testing.assert_array_equal(
        k["trend"].astype(str).to_numpy(),
        rules.keyword_trend(k["search_volume"], k["search_volume_prev_year"]))
    assert set(k["trend"].astype(str)) == {"rising", "stable", "declining"}
    # keywords are built from the product nouns and attributes
    for (_, r) in k.sample(50, random_state=1).iterrows():
        if r["keyword_type"] != "head":
            assert r["attribute"] in r["keyword"]
    med = k.groupby("keyword_type", observed=True)[["search_volume", "competition"]].median()
    assert med.loc["head", "search_volume"] > med.loc["mid", "search_volume"] > med.loc[
        "long_tail", "search_volume"]
    assert med.loc["head", "competition"] > med.loc["long_tail", "competition"]
    # keyword searches fit inside the category's searches
    d = t["market_demand"]
    last12 = d[d["month"] > d["month"].max() - pd.DateOffset(months=12)]
    cat_search = last12.groupby(["category", "market"], observed=True)["search_volume"].mean()
    kw_search = k.groupby(["category", "market"], observed=True)["search_volume"].sum()
    assert (kw_search <= cat_search.loc[kw_search.index]).all()


def test_keyword_ids_stable_across_market_sets(t):
    _, other = run(markets=("DE", "BR", "US"), seed=99, n_orders=2000)
    a = t["keywords"].set_index(["keyword", "market"])["keyword_id"]
    b = other["keywords"].set_index(["keyword", "market"])["keyword_id"]
    common = a.index.intersection(b.index)
    assert len(common) == len(b[b.index.get_level_values(1).isin(["DE", "US"])])
    assert (a.loc[common] == b.loc[common]).all()


# ------------------------------------------------------------------------------ determinism

def test_deterministic_and_seed_sensitive(t):
    _, again = run()
    for name in (*TABLES, "anomalies"):
        pd.testing.assert_frame_equal(t[name], again[name])
    _, other = run(seed=8)
    assert not t["market_demand"]["market_gmv_usd"].equals(
        other["market_demand"]["market_gmv_usd"])


def test_market_demand_does_not_depend_on_world_size(t):
    _, big = run(n_orders=1_000_000)
    pd.testing.assert_frame_equal(t["market_demand"], big["market_demand"])
    assert len(big["competitor_products"]) > 2 * len(t["competitor_products"])


def test_edge_worlds():
    # one market, a start in mid-month, one month; a market without world platforms
    for kw in (dict(markets=("KR",), start="2025-03-17", months=1, n_orders=100),
               dict(markets=("US", "KR"), platforms=("amazon",), n_orders=2000)):
        ctx, tabs = run(**kw)
        for name in TABLES:
            assert validate_table(tabs[name], REGISTRY[name]) == []
        assert validate_references({**ctx.tables, **tabs}) == []
        d = tabs["market_demand"]
        assert d["month"].max() == ctx.end.to_period("M").to_timestamp()
        assert set(tabs["competitor_products"]["platform_id"]) <= set(ctx.platforms)


def test_in_generated_world(small_world):
    w = small_world
    for name in TABLES:
        assert validate_table(w.tables[name], REGISTRY[name]) == []
    assert validate_references(dict(w.tables)) == []
    kinds = set(w.labels["anomalies"]["kind"])
    assert {"competitor_surge", "price_dumping", "review_inflation"} <= kinds
    # the world's own categories and markets are all researched
    d = w.tables["market_demand"]
    assert set(w.tables["products"]["category"].astype(str)) <= set(d["category"].astype(str))
    assert set(w.tables["stores"]["market"].astype(str)) <= set(d["market"].astype(str))
