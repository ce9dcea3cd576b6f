"""Logistics stage: carriers, warehouses, shipments, tracking events and completed orders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cbec_sim
from cbec_sim import rules

DAY = pd.Timedelta(days=1)


def _snapshot(world) -> pd.Timestamp:
    start = pd.Timestamp(world.meta["start"])
    end = start + pd.DateOffset(months=world.meta["months"])
    return end.tz_localize("UTC")


@pytest.fixture(scope="module")
def w(small_world):
    return small_world


@pytest.fixture(scope="module")
def ship(w):
    return w.shipments.merge(w.carriers, on="carrier_id", how="left", suffixes=("", "_c"))


# ---- rules ---------------------------------------------------------------------------


def test_cutoff_rule_and_workdays():
    paid = pd.to_datetime(["2025-01-06 14:59", "2025-01-06 15:00", "2025-01-04 16:00",
                           "2025-01-05 09:00"])  # Mon, Mon, Sat after cut-off, Sun
    planned = pd.DatetimeIndex(rules.planned_ship_date(paid))
    assert list(planned.strftime("%Y-%m-%d")) == ["2025-01-06", "2025-01-07", "2025-01-06",
                                                   "2025-01-06"]
    by = pd.DatetimeIndex(rules.ship_by_date(paid))
    assert list(by.strftime("%a")) == ["Tue", "Wed", "Tue", "Tue"]


def test_shipping_cost_and_s10():
    # 0.35 kg postal: 4.25 + 0.30 kg × 85 + 18 = 47.75
    assert rules.shipping_cost_cny([0.35], 0.05, 4.25, 85, 18)[0] == 47.75
    assert rules.shipping_cost_cny([0.05], 0.05, 4.25, 85, 18)[0] == 22.25
    assert rules.s10_check_digit([47312482])[0] == 9  # UPU example RB473124829GB
    ok = rules.tracking_number_valid(["RB473124829CN", "RB473124828CN", None, "12345"],
                                     [r"R[A-Z]\d{9}CN"] * 3 + [r"\d{10}"])
    assert ok.tolist() == [True, False, False, False]


def test_business_hours_roundtrip():
    start = pd.to_datetime(["2025-03-01 08:00", "2025-03-01 16:30", "2025-03-01 23:00"])
    hours = np.array([1.0, 2.0, 9.5])
    end = rules.add_business_hours(start, hours)
    assert np.allclose(rules.business_hours_between(start, end), hours)
    assert pd.Timestamp(end[1]) == pd.Timestamp("2025-03-02 10:30")


# ---- reference tables ----------------------------------------------------------------


def test_carriers_cover_every_market_and_type(w):
    c = w.carriers
    served = {m for s in c["markets"] for m in s.split("|")}
    assert set(w.orders["market"].astype(str)) <= served
    assert {"postal", "express", "dedicated_line"} <= set(c["service_type"].astype(str))
    assert (c["volumetric_divisor"] == c["service_type"].astype(str).map(
        rules.VOLUMETRIC_DIVISORS)).all()
    assert (c["transit_days_min"] <= c["transit_days_max"]).all()


def test_warehouses_match_store_fulfilment(w):
    wh = w.warehouses.set_index("warehouse_id")
    used = w.shipments.merge(w.stores[["store_id", "fulfilment"]], on="store_id")
    kind = wh.loc[used["warehouse_id"], "warehouse_type"].astype(str).to_numpy()
    expect = used["fulfilment"].astype(str).replace({"merchant": "domestic"}).to_numpy()
    assert (kind == expect).all()
    abroad = wh["warehouse_type"] != "domestic"
    assert wh.loc[abroad, "first_leg_cost_per_kg_cny"].notna().all()


# ---- shipments -----------------------------------------------------------------------


def test_one_shipment_per_paid_uncancelled_order(w):
    o = w.orders
    eligible = o["paid_at"].notna() & o["cancelled_at"].isna()
    s = w.shipments
    assert s["order_id"].isin(o.loc[eligible, "order_id"]).all()
    assert s["order_id"].is_unique
    unshipped = o[eligible & ~o["order_id"].isin(s["order_id"])]
    # only orders paid near the end of the period wait for shipment
    assert (unshipped["status"] == "awaiting_shipment").all()
    assert (unshipped["paid_at"] > _snapshot(w) - 14 * DAY).all()


def test_shipping_cost_recomputes_from_rate_card(ship):
    for cid, g in ship.groupby("carrier_id"):
        row = g.iloc[0]
        vol = rules.volumetric_weight_kg(g["length_cm"], g["width_cm"], g["height_cm"],
                                         int(row["volumetric_divisor"]))
        assert np.allclose(vol, g["volumetric_weight_kg"]), cid
        cw = rules.chargeable_weight_kg(g["actual_weight_kg"], vol, row["weight_step_kg"])
        assert np.allclose(cw, g["chargeable_weight_kg"]), cid
        cost = rules.shipping_cost_cny(cw, row["first_weight_kg"], row["first_weight_fee_cny"],
                                       row["additional_per_kg_cny"], row["handling_fee_cny"])
        assert np.array_equal(cost, g["shipping_cost_cny"].to_numpy()), cid


def test_weights_follow_the_products(w):
    lines = w.order_lines.merge(w.products[["product_id", "weight_kg"]], on="product_id")
    net = (lines["weight_kg"] * lines["quantity"]).groupby(lines["order_id"]).sum()
    s = w.shipments.set_index("order_id")
    extra = s["actual_weight_kg"] - net.reindex(s.index)
    assert (extra > 0.04).all() and (extra < 0.04 + 0.015 * s["n_units"] + 0.07).all()
    units = lines.groupby("order_id")["quantity"].sum().reindex(s.index)
    assert (units == s["n_units"]).all()


def test_merchant_parcels_respect_carrier_limits(ship, w):
    # express is the fallback for parcels too big for every service: not checked
    d = ship[ship["service_type"].isin(["postal", "dedicated_line"])]
    assert (d["actual_weight_kg"] <= d["max_weight_kg"]).all()
    assert ((d["length_cm"] + d["width_cm"] + d["height_cm"]) <= d["max_dims_sum_cm"]).all()
    served = [m in s.split("|") for m, s in zip(ship["market"].astype(str), ship["markets"],
                                                strict=True)]
    assert all(served)


def test_ship_by_and_late_shipment_flags(ship, w):
    wh = w.warehouses.set_index("warehouse_id")["tz"]
    paid = w.orders.set_index("order_id")["paid_at"].reindex(ship["order_id"])
    for tz, idx in ship.groupby(ship["warehouse_id"].map(wh)).groups.items():
        local_paid = paid.loc[ship.loc[idx, "order_id"]].dt.tz_convert(tz).dt.tz_localize(None)
        by = pd.DatetimeIndex(rules.ship_by_date(local_paid.to_numpy()))
        assert (by == pd.DatetimeIndex(ship.loc[idx, "ship_by_date"])).all(), tz
        ship_day = ship.loc[idx, "shipped_at"].dt.tz_convert(tz).dt.tz_localize(None) \
            .dt.normalize()
        assert ((ship_day > by) == ship.loc[idx, "is_late_shipment"]).all(), tz
        # pickup after the cut-off hour on a working day (Mon–Sat)
        local = ship.loc[idx, "shipped_at"].dt.tz_convert(tz)
        assert (local.dt.hour >= 15).all() and (local.dt.day_of_week <= 5).all()
    assert (ship["shipped_at"] > paid.to_numpy()).all()
    assert 0.002 < ship["is_late_shipment"].mean() < 0.06


def test_delivery_causality_and_transit(w):
    s = w.shipments
    d = s[s["status"] == "delivered"]
    assert d["delivered_at"].notna().all()
    assert (d["delivered_at"] > d["shipped_at"]).all()
    assert (d["delivered_at"] < _snapshot(w)).all()
    days = ((d["delivered_at"] - d["shipped_at"]) / DAY).apply(np.floor).astype("int64")
    assert (days == d["transit_days"]).all()
    assert ((d["transit_days"] > d["promised_days"]) == d["is_late_delivery"]).all()
    rest = s[s["status"] != "delivered"]
    assert rest["delivered_at"].isna().all() and rest["transit_days"].isna().all()
    assert not rest["is_late_delivery"].any() and not rest["is_damaged"].any()
    assert 0.03 < d["is_late_delivery"].mean() < 0.3
    # promised days are the carrier's slowest promise
    prom = w.carriers.set_index("carrier_id")["transit_days_max"]
    assert (s["carrier_id"].map(prom) == s["promised_days"]).all()


def test_outcomes(w):
    s = w.shipments
    assert (s["is_lost"] == (s["status"] == "lost")).all()
    und = s["status"] == "undeliverable"
    assert s.loc[und, "undeliverable_outcome"].notna().all()
    assert s.loc[~und, "undeliverable_outcome"].isna().all()
    u = s[und]
    expect = rules.undeliverable_decision(u["return_fee_cny"], u["goods_value_cny"])
    assert (u["undeliverable_outcome"].astype(str).to_numpy() == expect).all()
    fee = s.merge(w.carriers, on="carrier_id").loc[lambda x: x["status"] == "undeliverable"]
    assert np.allclose(fee["return_fee_cny"],
                       rules.round_cents(fee["shipping_cost_cny"] * fee["return_fee_pct"]))
    closed = s["status"].isin(["lost", "undeliverable"])
    assert (s["closed_at"].notna() == closed).all()
    assert (s.loc[closed, "closed_at"] > s.loc[closed, "shipped_at"]).all()
    assert s["is_lost"].mean() < 0.03 and und.mean() < 0.02


def test_goods_value_and_declared_value(w):
    o = w.orders.set_index("order_id").reindex(w.shipments["order_id"])
    goods = rules.round_cents((o["items_subtotal"] - o["discount_amount"]) * o["fx_rate_cny"])
    assert np.array_equal(goods, w.shipments["goods_value_cny"].to_numpy())
    lab = w.labels["anomalies"]
    under = w.shipments["shipment_id"].isin(lab.loc[lab["kind"] == "under_declared",
                                                    "entity_id"])
    ratio = w.shipments["declared_value_usd"] * 7.0 / w.shipments["goods_value_cny"].clip(1)
    assert (ratio[under] < 0.45).all()
    assert ratio[~under & (w.shipments["goods_value_cny"] > 50)].between(0.7, 1.3).all()


def test_tracking_numbers_mostly_valid(ship):
    valid = rules.tracking_number_valid(ship["tracking_number"].to_numpy(object),
                                        ship["tracking_format"].to_numpy(object))
    assert 0.95 < valid.mean() < 1.0
    assert ship["tracking_number"].dropna().is_unique


# ---- tracking events -----------------------------------------------------------------


def test_tracking_events_are_ordered_and_consistent(w):
    e = w.tracking_events
    s = w.shipments.set_index("shipment_id")
    assert set(e["shipment_id"]) == set(s.index)
    g = e.groupby("shipment_id", sort=False)
    assert (g["event_seq"].transform(lambda x: np.arange(1, len(x) + 1)) == e["event_seq"]).all()
    assert (g["event_at"].diff().dropna() > pd.Timedelta(0)).all()
    assert e.groupby("shipment_id")["event_seq"].max().max() <= 5
    assert (e["event_at"] < _snapshot(w)).all()
    first = e[e["event_seq"] == 1].set_index("shipment_id")
    assert (first["event"] == "picked_up").all()
    assert (first["event_at"] == s.loc[first.index, "shipped_at"]).all()
    last = e.loc[g["event_seq"].idxmax()].set_index("shipment_id")
    st = s.loc[last.index, "status"].astype(str)
    assert (last.loc[st == "delivered", "event"] == "delivered").all()
    assert (last.loc[st == "delivered", "event_at"]
            == s.loc[last.index[st == "delivered"], "delivered_at"]).all()
    assert (last.loc[st == "lost", "event"] == "lost").all()
    outcome = s.loc[last.index[st == "undeliverable"], "undeliverable_outcome"].astype(str)
    assert (last.loc[st == "undeliverable", "event"].astype(str) == outcome).all()


# ---- completed orders ----------------------------------------------------------------


def test_orders_completed_from_shipments(w):
    o = w.orders.set_index("order_id")
    s = w.shipments.set_index("order_id")
    assert (o.loc[s.index, "shipped_at"] == s["shipped_at"]).all()
    delivered = s["status"] == "delivered"
    assert (o.loc[s.index[delivered], "delivered_at"]
            == s.loc[delivered, "delivered_at"]).all()
    st = o.loc[s.index, "status"].astype(str)
    assert (st[s["status"] == "in_transit"] == "shipped").all()
    assert st[delivered].isin(["delivered", "returned"]).all()
    assert (st[s["status"] == "lost"] == "lost").all()
    ret = s["undeliverable_outcome"] == "returned_to_sender"
    assert (st[ret] == "returned").all()
    assert (o.loc[o["cancelled_at"].notna(), "status"] == "cancelled").all()
    assert o.loc[~o.index.isin(s.index), "shipped_at"].isna().all()


# ---- planted anomalies ---------------------------------------------------------------


def test_carrier_delay_label(w):
    lab = w.labels["anomalies"]
    row = lab[lab["kind"] == "carrier_delay"].iloc[0]
    s = w.shipments[w.shipments["carrier_id"] == row["entity_id"]]
    day = s["shipped_at"].dt.tz_localize(None).dt.normalize()
    inside = (day >= row["start"]) & (day <= row["end"])
    transit_in = (s.loc[inside, "delivered_at"] - s.loc[inside, "shipped_at"]).median()
    transit_out = (s.loc[~inside, "delivered_at"] - s.loc[~inside, "shipped_at"]).median()
    assert transit_in > 1.4 * transit_out


def test_lost_cluster_label(w):
    lab = w.labels["anomalies"]
    ids = lab.loc[lab["kind"] == "lost_parcel_cluster", "entity_id"]
    s = w.shipments.set_index("shipment_id")
    assert len(ids) >= 3
    cl = s.loc[ids]
    assert (cl["status"] == "lost").all()
    assert cl["carrier_id"].nunique() == 1 and cl["market"].nunique() == 1
    span = cl["shipped_at"].max() - cl["shipped_at"].min()
    assert span <= pd.Timedelta(days=32)
    # the cluster is far above the carrier's normal loss rate
    same = s[(s["carrier_id"] == cl["carrier_id"].iloc[0]) & ~s.index.isin(ids)]
    assert same["is_lost"].mean() < 0.05


def test_account_health_breach_planted_in_shipments(w):
    lab = w.labels["anomalies"]
    row = lab[lab["kind"] == "account_health_breach"].iloc[0]
    s = w.shipments
    window = s["shipped_at"] >= _snapshot(w) - 60 * DAY
    bad = s[window & (s["store_id"] == row["entity_id"])]["is_late_shipment"].mean()
    others = s[window & (s["store_id"] != row["entity_id"])]["is_late_shipment"].mean()
    assert bad > 0.1 and bad > 4 * others


# ---- determinism and scale -------------------------------------------------------------


def test_logistics_is_deterministic():
    a = cbec_sim.generate(600, markets=["US", "GB", "MY"], rng=11, months=3)
    b = cbec_sim.generate(600, markets=["US", "GB", "MY"], rng=11, months=3)
    for t in ("shipments", "tracking_events", "carriers", "warehouses"):
        pd.testing.assert_frame_equal(a.tables[t], b.tables[t])
    c = cbec_sim.generate(600, markets=["US", "GB", "MY"], rng=12, months=3)
    assert not a.shipments["shipped_at"].equals(c.shipments["shipped_at"])


def test_other_markets(small_world_b):
    w = small_world_b
    served = {m for s in w.carriers["markets"] for m in s.split("|")}
    assert {"BR", "ID", "AE"} <= served
    br = w.shipments[w.shipments["market"] == "BR"]
    assert len(br) and br["status"].isin(["delivered", "in_transit", "lost",
                                          "undeliverable"]).all()
