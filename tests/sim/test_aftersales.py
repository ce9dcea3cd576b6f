"""After-sales stage: returns, reviews, tickets, completed orders and store account health."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cbec_sim
from cbec_sim import rules
from cbec_sim.catalog import catalog

DAY = pd.Timedelta(days=1)
ELECTRONICS = ["phone_accessories", "audio", "smart_wearables", "small_appliances", "lighting"]


def _snapshot(world) -> pd.Timestamp:
    start = pd.Timestamp(world.meta["start"])
    return (start + pd.DateOffset(months=world.meta["months"])).tz_localize("UTC")


@pytest.fixture(scope="module")
def w(small_world):
    return small_world


@pytest.fixture(scope="module")
def burst_ids(w):
    lab = w.labels["anomalies"]
    return set(lab.loc[lab["kind"] == "review_burst", "entity_id"])


def _local(ts: pd.Series, tz: pd.Series) -> pd.Series:
    out = pd.Series(pd.NaT, index=ts.index, dtype="datetime64[ns]")
    for zone, idx in tz.groupby(tz).groups.items():
        out.loc[idx] = ts.loc[idx].dt.tz_convert(zone).dt.tz_localize(None)
    return out


# ---- returns -------------------------------------------------------------------------


def test_returns_belong_to_delivered_lines(w):
    r = w.returns
    lines = w.order_lines.set_index(["order_id", "line_no"])
    key = pd.MultiIndex.from_frame(r[["order_id", "line_no"]])
    assert key.is_unique and key.isin(lines.index).all()
    ln = lines.loc[key]
    assert (r["listing_id"].to_numpy() == ln["listing_id"].to_numpy()).all()
    assert (r["product_id"].to_numpy() == ln["product_id"].to_numpy()).all()
    assert (r["quantity"].to_numpy() <= ln["quantity"].to_numpy()).all()
    assert (r["refund_amount"].to_numpy() <= ln["line_net"].to_numpy() + 1e-9).all()
    o = w.orders.set_index("order_id").loc[r["order_id"]]
    assert (r["customer_id"].to_numpy() == o["customer_id"].to_numpy()).all()
    assert (r["store_id"].to_numpy() == o["store_id"].to_numpy()).all()
    assert (r["currency"].astype(str).to_numpy() == o["currency"].astype(str).to_numpy()).all()
    delivered = o["delivered_at"].to_numpy()
    assert (r["requested_at"].to_numpy() > delivered).all()


def test_return_timeline_and_status(w):
    r = w.returns
    snap = _snapshot(w)
    assert (r["requested_at"] < snap).all()
    dec = r["decided_at"].notna()
    assert (r.loc[dec, "decided_at"] > r.loc[dec, "requested_at"]).all()
    assert (r.loc[~dec, "status"] == "requested").all()
    paid = r["refunded_at"].notna()
    assert ((r["status"] == "refunded") == paid).all()
    assert (r.loc[paid, "refunded_at"] > r.loc[paid, "decided_at"]).all()
    # requests after the return window are rejected
    o = w.orders.set_index("order_id").loc[r["order_id"]]
    late = (r["requested_at"].to_numpy() - o["delivered_at"].to_numpy()) > \
        pd.Timedelta(days=rules.RETURN_WINDOW_DAYS)
    assert (r.loc[late & dec.to_numpy(), "status"] == "rejected").all()
    assert not r.loc[r["status"] == "rejected", "restockable"].any()
    assert not r.loc[r["return_method"] != "return_to_warehouse", "restockable"].any()


def test_refund_amounts_and_routing(w):
    r = w.returns
    fx = w.orders.set_index("order_id").loc[r["order_id"], "fx_rate_cny"].to_numpy()
    assert np.array_equal(r["refund_amount_cny"].to_numpy(),
                          rules.round_cents(r["refund_amount"].to_numpy() * fx))
    assert (r["approver_role"].astype(str).to_numpy()
            == rules.refund_approver(r["refund_amount_cny"])).all()
    assert rules.refund_approver([4999.99, 5000.0, 5000.01]).tolist() == [
        "store_manager", "general_manager", "general_manager"]


def test_return_reasons_follow_category_and_parcel(w):
    r = w.returns.merge(w.products[["product_id", "category"]], on="product_id")
    s = w.shipments.set_index("order_id").loc[r["order_id"]]
    dmg = r["reason"] == "damaged_in_transit"
    assert s.loc[dmg.to_numpy(), "is_damaged"].all()
    late = r["reason"] == "late_delivery"
    assert s.loc[late.to_numpy(), "is_late_delivery"].all()
    elec = r["category"].astype(str).isin(ELECTRONICS)
    assert not (elec & (r["reason"] == "size_fit")).any()
    assert 0.02 < len(r) / len(w.order_lines) < 0.15


def test_orders_returned_when_refunded(w):
    o = w.orders.set_index("order_id")
    refunded = w.returns.loc[w.returns["status"] == "refunded", "order_id"].unique()
    assert (o.loc[refunded, "status"] == "returned").all()
    ret = o.index[o["status"] == "returned"]
    undeliv = w.shipments.loc[w.shipments["undeliverable_outcome"] == "returned_to_sender",
                              "order_id"]
    assert set(ret) == set(refunded) | set(undeliv)


# ---- reviews -------------------------------------------------------------------------


def test_verified_reviews_follow_delivery(w, burst_ids):
    v = w.reviews
    org = v[~v["review_id"].isin(burst_ids)]
    assert org["verified_purchase"].all() and org["order_id"].notna().all()
    o = w.orders.set_index("order_id").loc[org["order_id"]]
    assert (org["created_at"].to_numpy() > o["delivered_at"].to_numpy()).all()
    assert (org["customer_id"].to_numpy() == o["customer_id"].to_numpy()).all()
    assert (org["store_id"].to_numpy() == o["store_id"].to_numpy()).all()
    pairs = set(zip(w.order_lines["order_id"], w.order_lines["listing_id"], strict=True))
    assert all(p in pairs for p in zip(org["order_id"], org["listing_id"], strict=True))
    assert (v["created_at"] < _snapshot(w)).all()


def test_review_fields(w):
    v = w.reviews
    assert (v["sentiment"].astype(str).to_numpy() == rules.review_sentiment(v["rating"])).all()
    names = w.products.set_index("product_id").loc[v["product_id"], "name_en"]
    assert all(n in t for n, t in zip(names, v["text"], strict=True))
    signup = w.customers.set_index("customer_id").loc[v["customer_id"], "signup_at"]
    age = (v["created_at"].reset_index(drop=True) - signup.reset_index(drop=True)) // DAY
    assert (age.clip(lower=0).to_numpy() == v["reviewer_account_age_days"].to_numpy()).all()
    listing_product = w.listings.set_index("listing_id").loc[v["listing_id"], "product_id"]
    assert (listing_product.to_numpy() == v["product_id"].to_numpy()).all()


def test_rating_distribution_and_drivers():
    big = cbec_sim.generate(20_000, markets=["US", "DE", "MY"], rng=5, months=6)
    v = big.reviews[big.reviews["verified_purchase"]]
    share = v["rating"].value_counts(normalize=True)
    assert share.idxmax() == 5 and share[5] > 0.4 and share[1] < 0.2
    s = big.shipments.set_index("order_id").loc[v["order_id"]]
    bad = (s["is_damaged"] | s["is_late_delivery"]).to_numpy()
    assert v.loc[bad, "rating"].mean() < v.loc[~bad, "rating"].mean() - 0.3
    neg = v[v["sentiment"] == "negative"]
    assert 0.03 < len(neg) / len(v) < 0.25
    # photo reviews and a few thousand reviews on 20k orders is plausible
    assert 0.05 < (v["photo_count"] > 0).mean() < 0.35
    assert 0.01 < len(v) / len(big.order_lines) < 0.08


def test_review_burst_label(w, burst_ids):
    v = w.reviews
    b = v[v["review_id"].isin(burst_ids)]
    lab = w.labels["anomalies"]
    row = lab[lab["kind"] == "review_burst"].iloc[0]
    assert len(b) >= 15
    assert b["listing_id"].nunique() == 1 and (b["rating"] >= 4).all()
    assert (~b["verified_purchase"]).all() and b["order_id"].isna().all()
    day = b["created_at"].dt.tz_localize(None).dt.normalize()
    assert (day >= row["start"]).all() and (day <= row["end"]).all()
    assert (row["end"] - row["start"]) <= pd.Timedelta(days=6)
    assert b["reviewer_account_age_days"].median() < 30
    # nothing else looks like it: every other review is a verified purchase
    assert v.loc[~v["review_id"].isin(burst_ids), "verified_purchase"].all()


# ---- tickets -------------------------------------------------------------------------


def test_ticket_timeline_and_service_hours(w):
    t = w.tickets
    snap = _snapshot(w)
    assert (t["created_at"] < snap).all()
    ans = t["first_response_at"].notna()
    assert (t.loc[ans, "first_response_at"] > t.loc[ans, "created_at"]).all()
    res = t["resolved_at"].notna()
    assert (res <= ans).all()
    assert (t.loc[res, "resolved_at"] >= t.loc[res, "first_response_at"]).all()
    assert ((t["status"] == "resolved") == res).all()
    tz = t["market"].astype(str).map(catalog().markets["tz"])
    created = _local(t["created_at"], tz)
    first = _local(t["first_response_at"].where(ans, t["created_at"]), tz)
    done = _local(t["resolved_at"].where(res, t["created_at"]), tz)
    frh = rules.business_hours_between(created, first)
    rsh = rules.business_hours_between(created, done)
    assert np.allclose(frh[ans], t.loc[ans, "first_response_hours"])
    assert np.allclose(rsh[res], t.loc[res, "resolution_hours"])
    assert t.loc[~ans, "first_response_hours"].isna().all()
    # answers are given within the 09:00–17:00 service hours (Table 1 9.1.2)
    h = first[ans].dt.hour + first[ans].dt.minute / 60
    assert h.between(rules.CS_OPEN_HOUR, rules.CS_CLOSE_HOUR).all()


def test_ticket_links_and_types(w):
    t = w.tickets
    pre = t["ticket_type"] == "pre_sale"
    assert t.loc[pre, "order_id"].isna().all()
    has = t["order_id"].notna()
    assert t.loc[~has, "ticket_type"].isin(["pre_sale", "product_question"]).all()
    o = w.orders.set_index("order_id").loc[t.loc[has, "order_id"]]
    assert (t.loc[has, "created_at"].to_numpy() > o["created_at"].to_numpy()).all()
    assert (t.loc[has, "customer_id"].to_numpy() == o["customer_id"].to_numpy()).all()
    assert (t.loc[has, "store_id"].to_numpy() == o["store_id"].to_numpy()).all()
    assert set(t["channel"].astype(str)) == {"phone", "online_chat", "email", "voice",
                                             "video", "social_media"}
    expect = (t["ticket_type"] == "complaint") | (
        t["escalated"] & t["ticket_type"].isin(["logistics", "return_refund"]))
    assert (expect == t["is_complaint"]).all()
    assert t.loc[t["satisfaction"].notna(), "status"].eq("resolved").all()
    # lost parcels drive logistics tickets far more often than delivered ones
    s = w.shipments.set_index("order_id")
    gone = s.index[s["status"].isin(["lost", "undeliverable"])]
    asked = t["order_id"].isin(gone).sum() / max(len(gone), 1)
    base = t["order_id"].isin(s.index[s["status"] == "delivered"]).sum() / (
        s["status"] == "delivered").sum()
    assert asked > 3 * base
    assert 0.0005 < t["is_complaint"].sum() / len(w.orders) < 0.02


# ---- stores (account health) -----------------------------------------------------------


def test_account_health_recomputes(w):
    snap = _snapshot(w)
    h = rules.account_health(w.orders, w.shipments, w.reviews, w.tickets, w.carriers, snap)
    st = w.stores.set_index("store_id")
    cols = ["late_shipment_rate", "order_defect_rate", "cancel_rate", "valid_tracking_rate",
            "feedback_score"]
    pd.testing.assert_frame_equal(st[cols], h.reindex(st.index)[cols], check_names=False)
    lim = w.platforms.set_index("platform_id").loc[st["platform_id"]]
    got = st["account_status"].astype(object).fillna("none").to_numpy()
    want = pd.Series(rules.account_status(st, lim)).fillna("none").to_numpy()
    assert (got == want).all()
    b2b = st["model"] == "B2B"
    assert st.loc[b2b, "account_status"].isna().all()


def test_planted_store_breaches_late_shipment_limit(w):
    lab = w.labels["anomalies"]
    sid = lab.loc[lab["kind"] == "account_health_breach", "entity_id"].iloc[0]
    st = w.stores.set_index("store_id").loc[sid]
    limit = w.platforms.set_index("platform_id").loc[st["platform_id"],
                                                      "late_shipment_rate_max"]
    assert st["late_shipment_rate"] > limit
    assert st["account_status"] == "at_risk"


def test_account_health_mostly_healthy_at_scale(small_world_b):
    st = small_world_b.stores
    b2c = st[st["model"] == "B2C"]
    assert b2c["valid_tracking_rate"].median() > 0.97
    assert b2c["late_shipment_rate"].median() < 0.04


# ---- determinism ---------------------------------------------------------------------


def test_aftersales_is_deterministic():
    a = cbec_sim.generate(600, markets=["US", "DE"], rng=3, months=4)
    b = cbec_sim.generate(600, markets=["US", "DE"], rng=3, months=4)
    for t in ("returns", "reviews", "tickets", "stores", "orders"):
        pd.testing.assert_frame_equal(a.tables[t], b.tables[t])
    pd.testing.assert_frame_equal(a.labels["anomalies"], b.labels["anomalies"])
