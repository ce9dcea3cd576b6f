"""Marketing stages: promotions, ads, live, social, traffic — consistency with the orders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbec_sim import rules
from cbec_sim.calendar import peak_table
from cbec_sim.catalog import catalog
from cbec_sim.schema import REGISTRY, validate_references, validate_table
from cbec_sim.tables import marketing as mk

TABLES = ("promotions", "ad_campaigns", "ad_keywords", "live_sessions", "social_posts",
          "ads_daily", "traffic_daily")
WORLDS = ("small_world", "small_world_b")


@pytest.fixture(scope="module")
def mixed_world():
    """A world with TikTok Shop, Shopee and Amazon stores (channel-mix checks)."""
    import cbec_sim

    return cbec_sim.generate(8000, markets=["US", "GB", "MY"],
                             platforms=["amazon", "tiktok_shop", "shopee"], rng=5)


def _world(request, name):
    return request.getfixturevalue(name)


def _local_date(orders: pd.DataFrame) -> pd.Series:
    """Independent reference: created_at in the market's time zone, truncated to the day."""
    tz = catalog().markets["tz"]
    out = pd.Series(pd.NaT, index=orders.index, dtype="datetime64[ns]")
    for m, idx in orders.groupby(orders["market"].astype(str)).groups.items():
        loc = orders.loc[idx, "created_at"].dt.tz_convert(tz[m]).dt.tz_localize(None)
        out.loc[idx] = loc.dt.normalize().astype("datetime64[ns]")
    return out


def _anoms(world, kind):
    lab = world.labels["anomalies"]
    return lab[lab["kind"] == kind]


# --------------------------------------------------------------------------- schema
@pytest.mark.parametrize("name", WORLDS)
def test_tables_match_schema_and_references(request, name):
    w = _world(request, name)
    for t in TABLES:
        assert len(w.tables[t]), t
        assert validate_table(w.tables[t], REGISTRY[t]) == [], t
    probs = validate_references(w.tables)
    ours = [p for p in probs if p.split(".")[0] in (*TABLES, "orders")]
    assert ours == []


def test_local_day_matches_tz_convert_across_dst():
    ctx = _ctx_stub()
    st = pd.DataFrame({"tz": ["America/New_York", "Europe/Berlin", "Australia/Sydney",
                              "Asia/Riyadh"]})
    rng = np.random.default_rng(0)
    t = ctx.start.value + rng.integers(-86_400, 367 * 86_400, 20_000) * 10**9
    # add instants right around the 2025 DST switches
    extra = pd.to_datetime(["2025-03-09 06:59:59", "2025-03-09 07:00:00", "2025-11-02 05:59:59",
                            "2025-11-02 06:00:00", "2025-03-30 00:59:59", "2025-03-30 01:00:00",
                            "2025-04-05 15:59:59", "2025-04-05 16:00:00"], utc=True).asi8
    t = np.concatenate([t, np.repeat(extra, 4)])
    sidx = np.concatenate([rng.integers(0, 4, 20_000), np.tile(np.arange(4), len(extra))])
    got = mk._local_day(ctx, t, sidx, st)
    ref = np.empty(len(t), dtype=np.int64)
    for k, zone in enumerate(st["tz"]):
        sel = sidx == k
        loc = pd.DatetimeIndex(t[sel], tz="UTC").tz_convert(zone).tz_localize(None)
        ref[sel] = (loc.normalize() - ctx.start).days
    np.testing.assert_array_equal(got, ref)


def _ctx_stub():
    from cbec_sim.context import Context

    start = pd.Timestamp("2025-01-01")
    return Context(n_orders=1000, markets=("US",), platforms=("amazon",), start=start,
                   end=pd.Timestamp("2025-12-31"), catalog=catalog(), rngs={})


# --------------------------------------------------------------------------- plans
@pytest.mark.parametrize("name", WORLDS)
def test_promotions_are_well_formed(request, name):
    w = _world(request, name)
    p, st = w.tables["promotions"], w.tables["stores"]
    assert (p["start_date"] <= p["end_date"]).all()
    assert p["start_date"].min() >= pd.Timestamp(w.meta["start"])
    pct = p["promo_type"].isin(["discount", "flash_deal", "platform_event"])
    assert p.loc[pct, "discount_pct"].between(0.01, 0.95).all()
    assert p.loc[pct, ["threshold_amount", "amount_off"]].isna().all().all()
    assert p.loc[~pct, "discount_pct"].isna().all()
    assert (p.loc[~pct, "amount_off"] > 0).all()
    st_ = p["promo_type"] == "spend_threshold"
    assert (p.loc[st_, "threshold_amount"] > p.loc[st_, "amount_off"]).all()
    assert p["coupon_code"].notna().eq(p["promo_type"] == "coupon").all()
    cur = st.set_index("store_id")["currency"].astype(str)
    assert (p["currency"].to_numpy() == cur.loc[p["store_id"]].to_numpy()).all()
    assert set(p["store_id"]) <= set(st.loc[st["model"] == "B2C", "store_id"])
    # within a store, percentage promotions never overlap each other (same for amount ones)
    for amount in (False, True):
        q = p[p["promo_type"].isin(["coupon", "spend_threshold"]) == amount]
        q = q.sort_values(["store_id", "start_date"])
        prev_end = q.groupby("store_id")["end_date"].shift(1)
        assert not (q["start_date"] <= prev_end).any()


@pytest.mark.parametrize("name", WORLDS)
def test_platform_events_sit_on_the_market_peaks(request, name):
    w = _world(request, name)
    p = w.tables["promotions"]
    ev = p[p["promo_type"] == "platform_event"].merge(
        w.tables["stores"][["store_id", "market", "platform_id"]], on="store_id")
    assert len(ev) and ev["event"].notna().all()
    days = pd.date_range(w.meta["start"], periods=366, freq="D")
    peaks = catalog().markets["peaks"]
    pt = peak_table(days, {m: list(peaks[m]) for m in ev["market"].astype(str).unique()})
    ok = set(zip(pt["market"], pt["event"], pt["date"], strict=True))
    for r in ev.itertuples():
        for d in pd.date_range(r.start_date, r.end_date):
            assert (str(r.market), r.event, d) in ok, (r.promotion_id, d)
    assert not ev[ev["event"] == "prime_day"]["platform_id"].ne("amazon").any()


@pytest.mark.parametrize("name", WORLDS)
def test_ads_only_for_b2c_and_keywords_from_the_market(request, name):
    w = _world(request, name)
    c, k, st = w.tables["ad_campaigns"], w.tables["ad_keywords"], w.tables["stores"]
    kw = w.tables["keywords"].set_index("keyword_id")
    model = st.set_index("store_id")["model"].astype(str)
    assert (model.loc[c["store_id"]] == "B2C").all()
    assert not k.duplicated(["campaign_id", "keyword_id"]).any()
    mkt = st.set_index("store_id")["market"].astype(str)
    assert (kw.loc[k["keyword_id"], "market"].astype(str).to_numpy()
            == mkt.loc[k["store_id"]].to_numpy()).all()
    camp_store = c.set_index("campaign_id")["store_id"]
    assert (camp_store.loc[k["campaign_id"]].to_numpy() == k["store_id"].to_numpy()).all()
    assert (k["bid"] > 0).all() and (c["daily_budget"] > 0).all()
    end = pd.Timestamp(w.meta["start"]) + pd.DateOffset(months=12) - pd.Timedelta(days=1)
    assert ((c["status"] == "active") == (c["end_date"] == end)).all()


@pytest.mark.parametrize("name", WORLDS)
def test_live_only_on_live_platforms(request, name):
    w = _world(request, name)
    live, st = w.tables["live_sessions"], w.tables["stores"].set_index("store_id")
    assert st.loc[live["store_id"], "platform_id"].isin(mk.LIVE_PLATFORMS).all()
    # sessions of one store never overlap (the attribution window is unambiguous)
    s = live.sort_values(["store_id", "start_at"])
    end = s["start_at"] + pd.to_timedelta(s["duration_min"], unit="min")
    nxt = s.groupby("store_id")["start_at"].shift(-1)
    assert not (nxt < end + pd.Timedelta(hours=2)).any()


# --------------------------------------------------------------------------- attribution
@pytest.mark.parametrize("name", WORLDS)
def test_order_ids_are_consistent_with_plans(request, name):
    w = _world(request, name)
    o = w.tables["orders"].copy()
    o["local_date"] = _local_date(o)
    ch = o["channel"].astype(str)
    # ids only on their own channel
    assert o["live_session_id"].notna().eq(ch == "live").all()
    assert o["post_id"].notna().eq(ch == "social").all()
    assert o["campaign_id"].notna().eq(ch == "sponsored_ads").all()
    assert o["keyword_id"].notna().eq(ch == "sponsored_ads").all()
    # promotion active that local day in that store; coupon code only for coupons
    p = w.tables["promotions"].set_index("promotion_id")
    x = o[o["promotion_id"].notna()]
    assert len(x)
    pr = p.loc[x["promotion_id"]]
    assert (pr["store_id"].to_numpy() == x["store_id"].to_numpy()).all()
    assert (pr["start_date"].to_numpy() <= x["local_date"].to_numpy()).all()
    assert (x["local_date"].to_numpy() <= pr["end_date"].to_numpy()).all()
    assert (x["discount_amount"] > 0).all()
    assert (x["coupon_code"].notna().to_numpy() == (pr["promo_type"] == "coupon").to_numpy()).all()
    same = x["coupon_code"].notna()
    assert (x.loc[same, "coupon_code"].to_numpy()
            == pr.loc[same.to_numpy(), "coupon_code"].to_numpy()).all()
    # live orders fall inside the store's session window (start … end + 2 h)
    lv = w.tables["live_sessions"].set_index("live_session_id")
    x = o[o["live_session_id"].notna()]
    s = lv.loc[x["live_session_id"]]
    end = s["start_at"] + pd.to_timedelta(s["duration_min"] + 120, unit="min")
    assert (s["store_id"].to_numpy() == x["store_id"].to_numpy()).all()
    assert (s["start_at"].to_numpy() <= x["created_at"].to_numpy()).all()
    assert (x["created_at"].to_numpy() <= end.to_numpy()).all()
    # social orders within 14 days after a post of the same store
    po = w.tables["social_posts"].set_index("post_id")
    x = o[o["post_id"].notna()]
    s = po.loc[x["post_id"]]
    age = x["created_at"].to_numpy() - s["posted_at"].to_numpy()
    assert (s["store_id"].to_numpy() == x["store_id"].to_numpy()).all()
    assert ((age >= pd.Timedelta(0)) & (age <= pd.Timedelta(days=14))).all()
    # ads orders: a keyword of a campaign of the store, running that local day
    ak = w.tables["ad_keywords"]
    c = w.tables["ad_campaigns"].set_index("campaign_id")
    x = o[o["campaign_id"].notna()]
    pairs = set(zip(ak["campaign_id"], ak["keyword_id"], strict=True))
    assert all(pk in pairs for pk in zip(x["campaign_id"], x["keyword_id"], strict=True))
    cc = c.loc[x["campaign_id"]]
    assert (cc["store_id"].to_numpy() == x["store_id"].to_numpy()).all()
    assert (cc["start_date"].to_numpy() <= x["local_date"].to_numpy()).all()
    assert (x["local_date"].to_numpy() <= cc["end_date"].to_numpy()).all()
    waste = set(_anoms(w, "ad_waste")["entity_id"])
    wk = ak[ak["ad_keyword_id"].isin(waste)]
    assert not set(zip(wk["campaign_id"], wk["keyword_id"], strict=True)) & set(
        zip(x["campaign_id"], x["keyword_id"], strict=True))


def test_channel_mix_differs_by_platform_and_customer(mixed_world):
    o = mixed_world.tables["orders"]
    mix = pd.crosstab(o["platform_id"], o["channel"].astype(str), normalize="index")
    tt, am = mix.loc["tiktok_shop"], mix.loc["amazon"]
    assert tt["live"] + tt["social"] + tt["affiliate"] > 0.45
    assert am["organic_search"] + am["sponsored_ads"] > 0.45
    assert tt["live"] > 3 * am["live"]
    assert am["sponsored_ads"] > tt["sponsored_ads"]
    assert mix.loc["shopee", "live"] > 0.04
    rep = pd.crosstab(o["is_repeat"], o["channel"].astype(str), normalize="index")
    assert rep.loc[True, ["direct", "email"]].sum() > rep.loc[False, ["direct", "email"]].sum()
    mob = (o["device"] == "mobile").groupby([o["platform_id"], o["market"].astype(str)]).mean()
    assert mob.between(0.55, 0.99).all()  # TikTok Shop is an app: almost all mobile
    assert mob["tiktok_shop"].min() > mob["amazon"].max()


@pytest.mark.parametrize("name", WORLDS)
def test_mobile_share_by_market(request, name):
    o = _world(request, name).tables["orders"]
    mob = (o["device"] == "mobile").groupby(o["market"].astype(str)).mean()
    big = o["market"].astype(str).value_counts()
    mob = mob[big[big >= 100].index]
    assert mob.between(0.5, 0.9).all(), mob
    assert mob.max() - mob.min() > 0.05  # differs by market


# --------------------------------------------------------------------------- ads_daily
@pytest.mark.parametrize("name", WORLDS)
def test_ads_daily_matches_attributed_orders_exactly(request, name):
    w = _world(request, name)
    a = w.tables["ads_daily"]
    o = w.tables["orders"]
    o = o[o["campaign_id"].notna()].assign(date=_local_date(o))
    want = (o.groupby(["campaign_id", "keyword_id", "date"])
            .agg(n=("order_id", "size"), sales=("order_total", "sum")).reset_index())
    got = a.merge(want, on=["campaign_id", "keyword_id", "date"], how="outer", indicator=True)
    assert not (got["_merge"] == "right_only").any()  # every ads order is on a report row
    got = got[got["_merge"] == "both"]
    assert (got["attributed_orders"] == got["n"]).all()
    np.testing.assert_allclose(got["attributed_sales"], got["sales"], atol=1e-6)
    assert a["attributed_orders"].sum() == len(o)
    assert not a.duplicated(["ad_keyword_id", "date"]).any()
    assert (a["impressions"] >= a["clicks"]).all()
    assert (a["clicks"] >= a["attributed_orders"]).all()
    # spend within the daily budget; dates inside the campaign
    c = w.tables["ad_campaigns"].set_index("campaign_id")
    day = a.groupby(["campaign_id", "date"])["spend"].sum().reset_index()
    assert (day["spend"].to_numpy()
            <= c.loc[day["campaign_id"], "daily_budget"].to_numpy() + 1e-9).all()
    assert (a["date"].to_numpy() >= c.loc[a["campaign_id"], "start_date"].to_numpy()).all()
    assert (a["date"].to_numpy() <= c.loc[a["campaign_id"], "end_date"].to_numpy()).all()
    # realistic CTR / CVR of the whole account
    ctr = a["clicks"].sum() / a["impressions"].sum()
    cvr = a["attributed_orders"].sum() / a["clicks"].sum()
    assert 0.0005 < ctr < 0.02 and 0.02 < cvr < 0.25


@pytest.mark.parametrize("name", WORLDS)
def test_ad_waste_keywords_spend_but_never_convert(request, name):
    w = _world(request, name)
    a = w.tables["ads_daily"]
    lab = _anoms(w, "ad_waste")
    assert 1 <= len(lab) <= max(2, 0.1 * len(w.tables["ad_keywords"]))
    per = a.groupby("ad_keyword_id").agg(orders=("attributed_orders", "sum"),
                                         spend_days=("spend", lambda s: int((s > 0).sum())))
    planted = per.loc[lab["entity_id"]]
    assert (planted["orders"] == 0).all() and (planted["spend_days"] >= 14).all()
    # the labels are the complete answer to "≥ 14 spend days and no orders at all"
    found = per[(per["orders"] == 0) & (per["spend_days"] >= 14)].index
    assert set(found) == set(lab["entity_id"])


@pytest.mark.parametrize("name", WORLDS)
def test_acos_is_plausible(request, name):
    w = _world(request, name)
    a = w.tables["ads_daily"].groupby("store_id")[
        ["impressions", "clicks", "spend", "attributed_orders", "attributed_sales"]].sum()
    k = rules.ad_kpis(a["impressions"], a["clicks"], a["spend"], a["attributed_orders"],
                      a["attributed_sales"])
    assert np.nanmedian(k["acos"]) == pytest.approx(0.25, abs=0.15)
    assert np.nanmedian(k["ctr"]) < 0.02
    # the same account: CPC in the store currency stays below the average bid
    bid = w.tables["ad_keywords"].groupby("store_id")["bid"].max()
    assert (k["cpc"] <= bid.reindex(a.index).to_numpy() + 1e-9).all()


# --------------------------------------------------------------------------- traffic
@pytest.mark.parametrize("name", WORLDS)
def test_traffic_orders_equal_order_counts(request, name):
    w = _world(request, name)
    t = w.tables["traffic_daily"]
    o = w.tables["orders"].assign(date=lambda d: _local_date(d))
    key = ["store_id", "date", "channel", "device"]
    want = o.assign(channel=o["channel"].astype(str), device=o["device"].astype(str)) \
        .groupby(key).size().rename("n").reset_index()
    got = t.assign(channel=t["channel"].astype(str), device=t["device"].astype(str))
    m = got.merge(want, on=key, how="outer")
    assert m["sessions"].notna().all()  # every order's cell has a traffic row
    assert (m["orders"] == m["n"].fillna(0)).all()
    assert t["orders"].sum() == len(o)
    assert not t.duplicated(key).any()


@pytest.mark.parametrize("name", WORLDS)
def test_traffic_funnel_is_consistent(request, name):
    w = _world(request, name)
    t = w.tables["traffic_daily"]
    assert (t["impressions"] >= t["sessions"]).all()
    assert (t["sessions"] >= t["add_to_cart"]).all()
    assert (t["add_to_cart"] >= t["orders"]).all()
    assert (t["page_views"] >= t["sessions"]).all()
    assert (t["new_visitors"] <= t["sessions"]).all()
    assert (t["favourites"] <= t["sessions"]).all()
    assert (t["impressions"] > 0).all()
    assert ((t["orders"] == 0) & (t["sessions"] > 0)).mean() > 0.2  # traffic, no sale
    # conversion rates per channel stay in a plausible band
    g = t.groupby("channel", observed=True)[["orders", "sessions"]].sum()
    cvr = g["orders"] / g["sessions"]
    assert cvr.between(0.003, 0.25).all(), cvr
    # direct has no separate exposure
    d = t[t["channel"] == "direct"]
    assert (d["impressions"] == d["sessions"]).all()
    # B2B stores: traffic without orders or carts
    b2b = w.tables["stores"].loc[lambda s: s["model"] == "B2B", "store_id"]
    tb = t[t["store_id"].isin(b2b)]
    if len(b2b):
        assert len(tb) and (tb["orders"] == 0).all() and (tb["add_to_cart"] == 0).all()


@pytest.mark.parametrize("name", WORLDS)
def test_paid_sessions_equal_ad_clicks(request, name):
    w = _world(request, name)
    t = w.tables["traffic_daily"]
    t = t[t["channel"] == "sponsored_ads"].groupby(["store_id", "date"])[
        ["sessions", "impressions"]].sum()
    a = w.tables["ads_daily"].groupby(["store_id", "date"])[["clicks", "impressions"]].sum()
    j = a.merge(t, left_index=True, right_index=True, how="left",
                suffixes=("", "_t")).fillna(0)
    assert (j["clicks"] == j["sessions"]).all()
    assert (j["impressions"] == j["impressions_t"]).all()


@pytest.mark.parametrize("name", WORLDS)
def test_traffic_drop_is_visible(request, name):
    w = _world(request, name)
    lab = _anoms(w, "traffic_drop")
    assert len(lab) >= 1
    t = w.tables["traffic_daily"]
    for r in lab.itertuples():
        org = t[(t["store_id"] == r.store_id) & (t["channel"] == "organic_search")] \
            .groupby("date")["sessions"].sum()
        inside = org[(org.index >= r.start) & (org.index <= r.end)].mean()
        around = org[((org.index >= r.start - pd.Timedelta(days=21)) & (org.index < r.start))
                     | ((org.index > r.end) & (org.index <= r.end + pd.Timedelta(days=21)))]
        assert inside < 0.5 * around.mean()


# --------------------------------------------------------------------------- promo misconfig
@pytest.mark.parametrize("name", WORLDS)
def test_promo_misconfig_is_labelled_and_hits_orders(request, name):
    w = _world(request, name)
    lab = _anoms(w, "promo_misconfig")
    assert len(lab) >= 1
    p = w.tables["promotions"].set_index("promotion_id")
    bad = p.loc[lab["entity_id"]]
    assert bad["discount_pct"].between(0.5, 0.9).all()
    normal = p.drop(index=lab["entity_id"])
    assert normal["discount_pct"].dropna().le(0.5).all()
    assert (bad["end_date"] - bad["start_date"]).max() <= pd.Timedelta(days=2)
    assert ((lab["start"].to_numpy() == bad["start_date"].to_numpy())
            & (lab["end"].to_numpy() == bad["end_date"].to_numpy())).all()


# --------------------------------------------------------------------------- live & social
@pytest.mark.parametrize("name", WORLDS)
def test_live_and_social_results_match_orders(request, name):
    w = _world(request, name)
    o = w.tables["orders"]
    for table, key, n_col, amt in (("live_sessions", "live_session_id", "orders", "gmv"),
                                   ("social_posts", "post_id", "conversions", "revenue")):
        d = w.tables[table].set_index(key)
        g = o[o[key].notna()].groupby(key).agg(n=("order_id", "size"),
                                                 s=("order_total", "sum"))
        g = g.reindex(d.index, fill_value=0)
        assert (d[n_col] == g["n"]).all(), table
        np.testing.assert_allclose(d[amt], g["s"], atol=1e-6)
    lv = w.tables["live_sessions"]
    assert (lv["viewers"] >= lv["orders"]).all()
    assert (lv["peak_concurrent"] <= lv["viewers"]).all()
    assert (lv["viewers"] > 0).all()
    sp = w.tables["social_posts"]
    assert (sp["impressions"] >= sp["reach"]).all()
    assert (sp["reach"] >= sp["engagements"]).all()
    assert (sp["engagements"] >= sp["utm_clicks"]).all()
    assert (sp["utm_clicks"] >= sp["conversions"]).all()
    assert (sp.loc[~sp["paid"], "spend"] == 0).all() and (sp.loc[sp["paid"], "spend"] > 0).all()
    assert not sp.loc[sp["sns_platform"] == "blog", "paid"].any()


# --------------------------------------------------------------------------- determinism
def test_same_seed_same_marketing_tables(small_world):
    import cbec_sim

    again = cbec_sim.generate(3000, rng=7)
    for t in (*TABLES, "orders"):
        pd.testing.assert_frame_equal(again.tables[t], small_world.tables[t])
    a = again.labels["anomalies"]
    b = small_world.labels["anomalies"]
    kinds = ["ad_waste", "traffic_drop", "promo_misconfig"]
    pd.testing.assert_frame_equal(a[a["kind"].isin(kinds)].reset_index(drop=True),
                                  b[b["kind"].isin(kinds)].reset_index(drop=True))


# --------------------------------------------------------------------------- helpers for orders
def _ctx_from(world):
    from cbec_sim.context import Context

    start = pd.Timestamp(world.meta["start"])
    return Context(n_orders=world.meta["n_orders"], markets=tuple(world.meta["markets"]),
                   platforms=tuple(world.meta["platforms"]), start=start,
                   end=start + pd.DateOffset(months=world.meta["months"]) - pd.Timedelta(days=1),
                   catalog=catalog(), rngs={"orders": np.random.default_rng(0)},
                   tables=dict(world.tables), labels=dict(world.labels))


def test_demand_lift_follows_the_plan(small_world):
    ctx = _ctx_from(small_world)
    st = small_world.tables["stores"]
    ids = st.loc[st["model"] == "B2C", "store_id"].to_numpy()
    lift = mk.demand_lift(ctx, ids)
    assert lift.shape == (len(ids), ctx.n_days)
    assert (lift > 0.5).all() and (lift <= mk.MAX_PROMO_LIFT ** 2 + 1e-9).all()
    p = small_world.tables["promotions"]
    row = {s: i for i, s in enumerate(ids)}
    bad = p.set_index("promotion_id").loc[_anoms(small_world, "promo_misconfig")["entity_id"]]
    for r in bad.itertuples():
        d = (r.start_date - ctx.start).days
        assert lift[row[r.store_id], d] >= 1.8  # a 60–90 % "discount" makes a spike
    for r in _anoms(small_world, "traffic_drop").itertuples():
        d = (r.start - ctx.start).days
        assert lift[row[r.store_id], d] < 1.0
    # days without any promotion of the store and outside drops are neutral
    busy = np.zeros_like(lift, dtype=bool)
    for r in p.itertuples():
        busy[row[r.store_id], (r.start_date - ctx.start).days:(r.end_date - ctx.start).days + 1] \
            = True
    for r in _anoms(small_world, "traffic_drop").itertuples():
        busy[row[r.store_id], (r.start - ctx.start).days:(r.end - ctx.start).days + 1] = True
    assert np.allclose(lift[~busy], 1.0)


def test_attribute_keeps_index_and_types(small_world):
    ctx = _ctx_from(small_world)
    o = small_world.tables["orders"].iloc[:500]
    frame = pd.DataFrame({
        "store_id": o["store_id"].to_numpy(), "market": o["market"].astype(str).to_numpy(),
        "platform_id": o["platform_id"].to_numpy(), "created_at": o["created_at"].to_numpy(),
        "local_date": _local_date(o).to_numpy(), "customer_id": o["customer_id"].to_numpy(),
        "is_repeat": o["is_repeat"].to_numpy()}, index=pd.RangeIndex(500))
    out = mk.attribute(ctx, frame)
    assert list(out.columns) == ["channel", "device", "promotion_id", "coupon_code",
                                 "campaign_id", "keyword_id", "live_session_id", "post_id"]
    assert out.index.equals(frame.index)
    assert list(out["channel"].cat.categories) == list(mk.CHANNELS)
    assert list(out["device"].cat.categories) == list(mk.DEVICES)
    assert out["channel"].notna().all() and out["device"].notna().all()
