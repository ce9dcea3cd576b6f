"""Risk and B2B-marketing stages and the markets reference table.

Chargebacks, B2B keyword reports and markets are checked on the shared ``small_world`` /
``small_world_b`` fixtures (the real pipeline); the chargeback rules on hand-worked cases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbec_sim import rules
from cbec_sim.schema import REGISTRY, conform, validate_references, validate_table
from cbec_sim.validate import INVARIANTS

TABLES = ("chargebacks", "b2b_keyword_stats", "markets")


@pytest.fixture(scope="module", params=["small_world", "small_world_b"])
def w(request):
    return request.getfixturevalue(request.param)


# ---- rules --------------------------------------------------------------------------------


def test_chargeback_ratio_and_monitoring_by_hand():
    # 3 of 300 = 1 % ≥ 0.9 % with 3 disputes: monitored; 2 of 100 = 2 % but only 2 disputes
    assert rules.chargeback_ratio([3, 2, 0], [300, 100, 0])[:2].tolist() == [0.01, 0.02]
    assert np.isnan(rules.chargeback_ratio([0], [0])[0])
    assert rules.chargeback_monitored([3, 2, 3, 0], [300, 100, 400, 0]).tolist() == [
        True, False, False, False]  # 3 / 400 = 0.75 % is below the ratio


# ---- schemas, references, determinism -------------------------------------------------------


def test_schemas_references_and_invariants(w):
    for t in TABLES:
        assert validate_table(w.tables[t], REGISTRY[t]) == [], t
        assert len(w.tables[t]) > 0, t
    parents = ("orders", "stores", "platforms", "keywords")
    assert validate_references({t: w.tables[t] for t in (*TABLES, *parents)}) == []
    for name in ("chargebacks_follow_payments", "markets_are_known"):
        assert INVARIANTS[name](w) == [], name


def test_new_stages_leave_earlier_tables_unchanged(small_world):
    from cbec_sim.generate import _context, _run_stages
    from cbec_sim.tables import b2b_marketing, risk

    ctx = _context(3000, None, None, "2025-01-01", 12, 7)
    _run_stages(ctx, until_table="agency_kpis")  # everything up to the backoffice stage
    out = {**risk.build(ctx), **b2b_marketing.build(ctx)}
    for t in ("chargebacks", "b2b_keyword_stats"):
        pd.testing.assert_frame_equal(conform(out[t], REGISTRY[t]), small_world.tables[t],
                                      obj=t)
    pd.testing.assert_frame_equal(conform(ctx.tables["orders"], REGISTRY["orders"]),
                                  small_world.orders)


# ---- markets ---------------------------------------------------------------------------------


def test_markets_cover_every_market_column_and_time_zones(w):
    mk = w.markets.set_index("market")
    assert set(w.meta["markets"]) == set(mk.index[mk["in_world"]])
    assert (mk.loc["US", ["utc_offset_jan_h", "utc_offset_jul_h"]].tolist() == [-5.0, -4.0])
    assert mk.loc["JP", "tz"] == "Asia/Tokyo" and not mk.loc["JP", "observes_dst"]
    assert mk.loc["AU", "utc_offset_jan_h"] == 11.0  # southern summer
    # a UTC timestamp converts to the market-local day with the table's time zone
    ts = pd.Series(pd.to_datetime(["2025-03-01 03:00"], utc=True))
    assert ts.dt.tz_convert(mk.loc["US", "tz"]).dt.strftime("%Y-%m-%d").iloc[0] == "2025-02-28"
    for p in mk.loc[mk["in_world"], "platforms"]:
        assert set(p.split("|")) <= set(w.platforms["platform_id"])


def test_markets_table_draws_no_random_numbers():
    from cbec_sim.tables.reference import make_markets

    a, b = make_markets(in_world=("US",)), make_markets(in_world=("US",))
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 24 and a["market"].is_unique


# ---- chargebacks ----------------------------------------------------------------------------


def test_chargebacks_only_on_card_payments_after_payment(w):
    cb = w.chargebacks.merge(w.orders, on="order_id", suffixes=("", "_o"))
    assert len(cb) == len(w.chargebacks)
    assert (cb["payment_method"].astype(str) == "credit_card").all()
    assert (cb["status_o"].astype(str) != "cancelled").all()
    assert (cb["opened_at"] > cb["paid_at"]).all()
    assert (cb["amount"] <= cb["order_total"] + 1e-9).all()
    assert (cb["store_id"] == cb["store_id_o"]).all()
    assert (cb["currency"].astype(str) == cb["currency_o"].astype(str)).all()
    end = pd.Timestamp(w.meta["start"], tz="UTC") + pd.DateOffset(months=w.meta["months"])
    assert (cb["opened_at"] < end).all()
    done = cb["resolved_at"].notna()
    assert (cb.loc[done, "resolved_at"] > cb.loc[done, "opened_at"]).all()
    assert (cb.loc[done, "resolved_at"] < end).all()
    assert ((cb["status"].astype(str) == "pending") == ~done).all()
    assert (cb["fee_usd"] == rules.CHARGEBACK_FEE_USD).all()


def test_chargeback_rates_are_realistic_and_follow_risk(w):
    o, cb = w.orders, w.chargebacks
    card = o[(o["payment_method"].astype(str) == "credit_card") & o["paid_at"].notna()]
    assert 0.002 <= len(cb) / len(card) <= 0.02
    lab = w.labels["anomalies"]
    fraud = set(lab.loc[(lab["table"] == "orders") & lab["kind"].str.startswith("fraud_"),
                        "entity_id"])
    is_fraud = card["order_id"].isin(fraud)
    disputed = card["order_id"].isin(cb["order_id"])
    assert disputed[is_fraud].mean() > 10 * disputed[~is_fraud].mean()


def test_planted_store_is_above_the_monitoring_threshold(w):
    lab = w.labels["anomalies"]
    lab = lab[lab["kind"] == "chargeback_monitoring"]
    assert len(lab) == 1
    sid, month = lab["store_id"].iloc[0], lab["start"].iloc[0].strftime("%Y-%m")
    o, cb = w.orders, w.chargebacks
    card = o[(o["payment_method"].astype(str) == "credit_card") & o["paid_at"].notna()
             & (o["status"].astype(str) != "cancelled")]
    n_card = int(((card["store_id"] == sid)
                  & (card["paid_at"].dt.strftime("%Y-%m") == month)).sum())
    n_cb = int(((cb["store_id"] == sid) & (cb["opened_at"].dt.strftime("%Y-%m") == month)).sum())
    assert rules.chargeback_monitored([n_cb], [n_card])[0]


@pytest.fixture(scope="module")
def big():
    """Orders and the risk stage's output of a 30,000-order, one-store-type world."""
    from cbec_sim.generate import _context, _run_stages
    from cbec_sim.tables import risk

    ctx = _context(30_000, ["US"], ["amazon"], "2025-01-01", 3, 5)
    _run_stages(ctx, until_table="agency_kpis")
    return ctx.tables["orders"], risk.build(ctx)


def test_planting_scales_with_store_size(big):
    o, out = big
    lab = out["anomalies"]
    sid, month = lab["store_id"].iloc[0], lab["start"].iloc[0].strftime("%Y-%m")
    cb = out["chargebacks"]
    card = o[(o["payment_method"].astype(str) == "credit_card") & o["paid_at"].notna()
             & (o["status"].astype(str) != "cancelled") & (o["store_id"] == sid)]
    n_card = int((card["paid_at"].dt.strftime("%Y-%m") == month).sum())
    n_cb = int(((cb["store_id"] == sid)
                & (cb["opened_at"].dt.strftime("%Y-%m") == month)).sum())
    assert n_card > 500 and rules.chargeback_monitored([n_cb], [n_card])[0]


def test_lost_parcels_bring_not_received_disputes(big):
    o, out = big
    cb = out["chargebacks"]
    card = o[(o["payment_method"].astype(str) == "credit_card") & o["paid_at"].notna()]
    inr = card["order_id"].isin(cb.loc[cb["reason_code"] == "item_not_received", "order_id"])
    lost = card["status"].astype(str) == "lost"
    assert lost.sum() >= 20
    assert inr[lost].mean() > 20 * inr[~lost].mean()
    # a lost parcel cannot be proven delivered: those disputes are never won
    lost_ids = set(card.loc[lost, "order_id"])
    assert not ((cb["status"] == "won") & cb["order_id"].isin(lost_ids)
                & (cb["reason_code"] == "item_not_received")).any()


# ---- B2B keyword report -----------------------------------------------------------------


def test_b2b_keyword_report(w):
    k, st, kw = w.b2b_keyword_stats, w.stores, w.keywords
    b2b = set(st.loc[st["model"].astype(str) == "B2B", "store_id"])
    assert set(k["store_id"]) == b2b
    assert (k["clicks"] <= k["impressions"]).all() and (k["inquiries"] <= k["clicks"]).all()
    assert (k["week_start"].dt.day_of_week == 0).all()
    start = pd.Timestamp(w.meta["start"])
    end = start + pd.DateOffset(months=w.meta["months"])
    assert (k["week_start"] >= start).all() and (k["week_start"] + pd.Timedelta(days=7)
                                                 <= end).all()
    text = kw.set_index("keyword_id")["keyword"]
    assert (k["keyword"].to_numpy() == text.reindex(k["keyword_id"]).to_numpy()).all()
    # one row per store × keyword × week
    assert not k.duplicated(["store_id", "keyword_id", "week_start"]).any()
    assert k["avg_rank"].isna().eq(k["impressions"] == 0).all()
    # better positions are clicked more often
    shown = k[k["impressions"] > 0]
    top = shown["avg_rank"] <= shown["avg_rank"].median()
    ctr_top = shown.loc[top, "clicks"].sum() / shown.loc[top, "impressions"].sum()
    ctr_low = shown.loc[~top, "clicks"].sum() / shown.loc[~top, "impressions"].sum()
    assert ctr_top > ctr_low
    assert k["clicks"].sum() > 0 and k["inquiries"].sum() > 0


def test_make_functions_exist():
    import cbec_sim.make as make

    for t in ("chargebacks", "b2b_keyword_stats", "markets"):
        assert callable(getattr(make, f"make_{t}"))
