"""B2B stage: leads, inquiries, RFQs, quotes, contracts, channel costs and their labels.

Quote rules are checked on hand-worked cases; the funnel, timelines and planted anomalies on
the shared ``small_world`` / ``small_world_b`` fixtures (the real pipeline).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbec_sim import rules
from cbec_sim.schema import REGISTRY, conform, validate_references, validate_table

TABLES = ("b2b_buyers", "inquiries", "rfqs", "quotes", "contracts", "channel_costs")
CN = pd.Timedelta(hours=8)  # the seller's local time (China, UTC+8)


def _end(world) -> pd.Timestamp:
    """End of the period as a UTC instant (local midnight after the last day, China)."""
    start = pd.Timestamp(world.meta["start"])
    return (start + pd.DateOffset(months=world.meta["months"])).tz_localize("UTC") - CN


def _cn_date(ts: pd.Series) -> pd.Series:
    return (ts + CN).dt.tz_localize(None).dt.floor("D")


def _labels(world, kind: str) -> pd.DataFrame:
    lab = world.labels["anomalies"]
    return lab[lab["kind"] == kind]


@pytest.fixture(scope="module", params=["small_world", "small_world_b"])
def w(request):
    return request.getfixturevalue(request.param)


# ---- rules: hand-worked quotation cases -------------------------------------------------


def test_export_rebate_and_quote_price_by_hand():
    # 113 CNY incl. 13 % VAT, rebate 13 %: 113 / 1.13 × 0.13 = 13.00
    assert rules.export_rebate_per_unit([113.0], 0.13, 0.13)[0] == 13.00
    # net cost 113 + 7 − 13 = 107; FOB = 107 × 1.2 / 7.2 = 17.8333 → 17.83
    # CFR = 17.83 + 1.50 = 19.33; CIF = 19.33 / (1 − 1.1 × 0.005) = 19.4369 → 19.44
    p = rules.quote_price([113.0], [7.0], [0.2], [7.2], [1.5], [0.005], [13.0])
    assert (p["fob"][0], p["cfr"][0], p["cif"][0]) == (17.83, 19.33, 19.44)
    # without rebate: (113 + 7) × 1.2 / 7.2 = 20.00
    assert rules.quote_price(113.0, 7.0, 0.2, 7.2, 0.0, 0.0)["fob"] == 20.00


def test_cif_insures_110_percent_of_itself():
    # CFR 1000, rate 0.8 %: CIF = 1000 / (1 − 0.0088) = 1008.878 → 1008.88
    cif = rules.cif_from_cfr([1000.0], [0.008])
    assert cif[0] == 1008.88
    # the premium on 110 % of CIF closes the gap to CFR (to the cent)
    assert rules.insurance_premium(cif, 0.008)[0] == 8.88
    assert cif[0] - 1000.0 == pytest.approx(8.88)
    # insurance on FOB instead (the planted mistake) gives less
    assert cif[0] > 1000.0 + 900.0 * 1.1 * 0.008


def test_incoterm_pick_deposit_split_and_reply_sla():
    got = rules.price_for_incoterm(["FOB", "CFR", "CIF", "EXW"], [1, 1, 1, 1], [2, 2, 2, 2],
                                   [3, 3, 3, 3])
    assert got[:3].tolist() == [1, 2, 3] and np.isnan(got[3])
    dep, bal = rules.deposit_split([1000.01, 99.99], [0.3, 1.0])
    assert dep.tolist() == [300.0, 99.99] and bal.tolist() == [700.01, 0.0]
    rec = pd.Series(pd.to_datetime(["2025-01-01 00:00:00"] * 3, utc=True))
    rep = pd.Series(pd.to_datetime(["2025-01-02 00:00:00", "2025-01-02 00:00:01", None],
                                   utc=True))
    assert rules.replied_within(rec, rep).tolist() == [True, False, False]
    assert rules.INQUIRY_REPLY_SLA_HOURS == 24 and rules.INSURANCE_MARKUP == 0.10


# ---- schemas and links ------------------------------------------------------------------


def test_schemas_and_references(w):
    for t in TABLES:
        df = w.tables[t]
        assert validate_table(df, REGISTRY[t]) == [], t
        assert len(df) > 0, t
    assert validate_references({t: w.tables[t] for t in (*TABLES, "stores", "listings",
                                                         "products")}) == []


def test_stage_is_deterministic_and_independent_of_later_stages(small_world):
    from cbec_sim.generate import _context, _run_stages
    from cbec_sim.tables import b2b

    ctx = _context(3000, None, None, "2025-01-01", 12, 7)
    _run_stages(ctx, until_table="listing_stats")
    out = b2b.build(ctx)
    for t in TABLES:
        pd.testing.assert_frame_equal(conform(out[t], REGISTRY[t]), small_world.tables[t],
                                      obj=t)


def test_only_b2b_stores_and_their_listings(w):
    st = w.stores.set_index("store_id")
    lst = w.listings.set_index("listing_id")
    for t in ("b2b_buyers", "inquiries", "rfqs", "quotes", "contracts", "channel_costs"):
        assert (st.loc[w.tables[t]["store_id"], "model"] == "B2B").all(), t
    for t in ("inquiries", "quotes", "contracts"):
        df = w.tables[t]
        assert (lst.loc[df["listing_id"], "store_id"].to_numpy()
                == df["store_id"].to_numpy()).all(), t
        assert (lst.loc[df["listing_id"], "product_id"].to_numpy()
                == df["product_id"].to_numpy()).all(), t


def test_inquiries_never_exceed_clicks(w):
    i = w.inquiries
    month = i["received_at"].pipe(_cn_date).dt.to_period("M").dt.start_time
    got = i.groupby([i["listing_id"], month.rename("month")]).size()
    clicks = w.listing_stats.set_index(["listing_id", "month"])["clicks"]
    assert got.index.isin(clicks.index).all()
    assert (got <= clicks.reindex(got.index)).all()


# ---- funnel and timelines -----------------------------------------------------------------


def test_buyer_counts_and_first_seen(w):
    b = w.b2b_buyers.set_index("buyer_id")
    i, r = w.inquiries, w.rfqs
    assert (i.groupby("buyer_id").size().reindex(b.index, fill_value=0)
            == b["inquiries_sent"]).all()
    assert (r.groupby("buyer_id").size().reindex(b.index, fill_value=0)
            == b["rfqs_posted"]).all()
    first = pd.concat([i[["buyer_id", "received_at"]].rename(columns={"received_at": "t"}),
                       r[["buyer_id", "posted_at"]].rename(columns={"posted_at": "t"})]
                      ).groupby("buyer_id")["t"].min()
    assert (b.loc[first.index, "first_seen"] <= first).all()
    inbound = b["source_channel"].isin(["platform_inquiry", "rfq"])
    has = b.index.isin(first.index)
    assert (b.loc[inbound & has, "first_seen"] == first.reindex(b.index[inbound & has])).all()
    assert (b["platform_member_since"].dropna()
            <= _cn_date(b["first_seen"])[b["platform_member_since"].notna()]).all()
    assert (b["emails_opened"] <= b["emails_sent"]).all()
    assert (b["emails_clicked"] <= b["emails_opened"]).all()
    assert (b["product_views"] >= b["visits"]).all()
    assert (b["visits"] >= b["inquiries_sent"]).all()
    assert b.index.is_monotonic_increasing and b["first_seen"].is_monotonic_increasing
    start = pd.Timestamp(w.meta["start"]).tz_localize("UTC") - CN
    assert (b["first_seen"] >= start).all() and (b["first_seen"] < _end(w)).all()


def test_inquiry_replies(w):
    i = w.inquiries
    rep = i["first_reply_at"].notna()
    assert (i.loc[rep, "first_reply_at"] >= i.loc[rep, "received_at"]).all()
    hours = (i["first_reply_at"] - i["received_at"]).dt.total_seconds() / 3600
    assert np.allclose(hours[rep].round(2), i.loc[rep, "reply_hours"])
    assert i.loc[~rep, "reply_hours"].isna().all()
    assert (i["first_reply_at"].dropna() < _end(w)).all()
    ok = rules.replied_within(i["received_at"], i["first_reply_at"])
    assert 0.6 < ok.mean() < 0.95  # most answered within 24 h, some late, some never
    assert i["received_at"].is_monotonic_increasing


def test_quotes_answer_existing_requests(w):
    q, i, r = w.quotes, w.inquiries.set_index("inquiry_id"), w.rfqs.set_index("rfq_id")
    assert (q["inquiry_id"].notna() ^ q["rfq_id"].notna()).all()
    qi = q[q["inquiry_id"].notna()]
    src = i.loc[qi["inquiry_id"]]
    assert (src["buyer_id"].to_numpy() == qi["buyer_id"].to_numpy()).all()
    assert (src["listing_id"].to_numpy() == qi["listing_id"].to_numpy()).all()
    assert not src["flagged_spam"].any()
    first = qi["revision"] == 1
    assert (qi.loc[first, "sent_at"].to_numpy()
            >= src.loc[first.to_numpy(), "first_reply_at"].to_numpy()).all()
    qr = q[q["rfq_id"].notna() & (q["revision"] == 1)]
    assert qr["rfq_id"].is_unique
    assert set(qr["rfq_id"]) == set(r.index[r["quoted_at"].notna()])
    rr = r.loc[qr["rfq_id"]]
    assert (rr["quoted_at"].to_numpy() == qr["sent_at"].to_numpy()).all()
    assert (rr["buyer_id"].to_numpy() == qr["buyer_id"].to_numpy()).all()
    assert (r["posted_at"] <= r["quoted_at"].fillna(r["posted_at"])).all()
    assert (r["quoted_at"].dropna() <= r.loc[r["quoted_at"].notna(), "valid_until"]).all()
    assert (q.loc[q["revision"] == 1, "response_hours"] >= 0).all()
    assert q.loc[q["revision"] > 1, "response_hours"].isna().all()
    assert (q["sent_at"] < _end(w)).all() and q["sent_at"].is_monotonic_increasing


def test_revisions_follow_a_shipped_contract(w):
    q = w.quotes.set_index("quote_id")
    rev = q[q["revision"] > 1]
    assert len(q[q["revision"] > 1]) > 0
    prev = q.loc[rev["previous_quote_id"]]
    assert (prev["revision"].to_numpy() + 1 == rev["revision"].to_numpy()).all()
    for col in ("buyer_id", "listing_id", "inquiry_id", "rfq_id", "incoterm"):
        a, b = prev[col].to_numpy(), rev[col].to_numpy()
        assert ((a == b) | (pd.isna(a) & pd.isna(b))).all(), col
    c = w.contracts
    shipped = c.groupby("quote_id")["shipped_at"].max()
    assert (shipped.reindex(rev["previous_quote_id"]).to_numpy()
            < rev["sent_at"].to_numpy()).all()
    assert q.loc[q["revision"] == 1, "previous_quote_id"].isna().all()


def test_quote_prices_follow_the_rules(w):
    q = w.quotes
    fx = w.fx_rates[w.fx_rates["currency"] == "USD"].set_index("date")["cny_per_unit"]
    assert (q["quote_date"] == _cn_date(q["sent_at"])).all()
    assert np.allclose(fx.reindex(q["quote_date"]).to_numpy(), q["fx_rate_cny"])
    prod = w.products.set_index("product_id")
    hs = w.hs_codes.set_index("hs_code")
    assert (prod.loc[q["product_id"], "unit_cost_cny"].to_numpy() == q["unit_cost_cny"]).all()
    h = hs.loc[prod.loc[q["product_id"], "hs_code"]]
    assert (h["vat_rate"].to_numpy() == q["vat_rate"]).all()
    assert (h["export_rebate_rate"].to_numpy() == q["export_rebate_rate"]).all()
    reb = rules.export_rebate_per_unit(q["unit_cost_cny"], q["vat_rate"],
                                       q["export_rebate_rate"])
    assert (reb == q["rebate_per_unit_cny"]).all()
    p = rules.quote_price(q["unit_cost_cny"], q["domestic_charges_cny"], q["margin_rate"],
                          q["fx_rate_cny"], q["freight_per_unit_usd"], q["insurance_rate"],
                          q["rebate_per_unit_cny"])
    assert (p["fob"] == q["fob_usd"]).all() and (p["cfr"] == q["cfr_usd"]).all()
    bad = q["quote_id"].isin(_labels(w, "quote_cif_error")["entity_id"]).to_numpy()
    assert (p["cif"][~bad] == q.loc[~bad, "cif_usd"]).all()
    unit = rules.price_for_incoterm(q["incoterm"].astype(str), q["fob_usd"], q["cfr_usd"],
                                    q["cif_usd"])
    assert (unit == q["unit_price_usd"]).all()
    assert np.allclose(rules.round_cents(q["unit_price_usd"] * q["quantity"]), q["total_usd"])
    lst = w.listings.set_index("listing_id")
    assert (q["quantity"].to_numpy() >= lst.loc[q["listing_id"], "moq"].to_numpy()).all()
    assert (q["cif_usd"] >= q["cfr_usd"]).all() and (q["cfr_usd"] > q["fob_usd"]).all()


def test_contracts_come_from_quotes_within_validity(w):
    c, q = w.contracts, w.quotes.set_index("quote_id")
    qq = q.loc[c["quote_id"]]
    for col in ("buyer_id", "store_id", "listing_id", "product_id"):
        assert (qq[col].to_numpy() == c[col].to_numpy()).all(), col
    sent = qq["sent_at"].reset_index(drop=True)
    assert (c["signed_at"] >= sent).all()
    assert (c["signed_at"] <= sent + pd.to_timedelta(qq["validity_days"].to_numpy(),
                                                     unit="D")).all()
    trade = (c["order_type"] != "sample").to_numpy()
    bulk = (c["order_type"] == "bulk").to_numpy()
    assert (c.loc[bulk, "quantity"].to_numpy() == qq.loc[bulk, "quantity"].to_numpy()).all()
    assert (c.loc[trade, "quantity"].to_numpy() <= qq.loc[trade, "quantity"].to_numpy()).all()
    requote = trade & (qq["revision"].to_numpy() > 1)
    assert (c.loc[requote, "quantity"].to_numpy() == qq.loc[requote, "quantity"].to_numpy()).all()
    assert c.loc[~trade, "quantity"].between(1, 3).all()
    assert (qq.loc[trade, "incoterm"].to_numpy() == c.loc[trade, "incoterm"].to_numpy()).all()
    assert c.loc[~trade, "incoterm"].isna().all()
    assert (c.loc[~trade, "shipping_mode"] == "express").all()
    assert c["contract_id"].is_unique and c["signed_at"].is_monotonic_increasing
    assert (c["signed_at"] < _end(w)).all()


def test_contract_amounts(w):
    c = w.contracts
    q = w.quotes.set_index("quote_id").loc[c["quote_id"]]
    trade = (c["order_type"] != "sample").to_numpy()
    fob = rules.round_cents(q["fob_usd"].to_numpy() * (1 - c["negotiated_discount"].to_numpy()))
    assert (fob[trade] == c.loc[trade, "fob_unit_usd"]).all()
    cfr = rules.round_cents(c["fob_unit_usd"].to_numpy() + q["freight_per_unit_usd"].to_numpy())
    cif = rules.cif_from_cfr(cfr, q["insurance_rate"].to_numpy())
    unit = rules.price_for_incoterm(c["incoterm"].astype(object), c["fob_unit_usd"], cfr, cif)
    assert (unit[trade] == c.loc[trade, "unit_price_usd"]).all()
    assert (c.loc[~trade, "unit_price_usd"] == c.loc[~trade, "fob_unit_usd"]).all()
    assert np.allclose(rules.round_cents(c["unit_price_usd"] * c["quantity"]),
                       c["goods_value_usd"])
    assert np.allclose(rules.round_cents(c["fob_unit_usd"] * c["quantity"]), c["fob_value_usd"])
    assert np.allclose(c["goods_value_usd"] + c["freight_usd"], c["total_usd"])
    dep, bal = rules.deposit_split(c["total_usd"], c["deposit_pct"])
    assert (dep == c["deposit_usd"]).all() and (bal == c["balance_usd"]).all()
    assert (c.loc[trade, "freight_usd"] == 0).all() and (c.loc[~trade, "freight_usd"] > 0).all()
    assert np.allclose(c.loc[trade, "purchase_total_cny"],
                       rules.round_cents(c.loc[trade, "unit_cost_cny"]
                                         * c.loc[trade, "quantity"]))
    assert c.loc[trade, "purchase_contract_id"].notna().all()
    assert c.loc[trade, "export_contract_id"].notna().all()
    assert c.loc[~trade, ["purchase_contract_id", "export_contract_id"]].isna().all().all()
    assert c["purchase_contract_id"].dropna().is_unique
    assert not c.loc[~trade, "via_one_touch"].any()
    pre = c["payment_terms"] == "prepaid"
    assert (c.loc[pre, "deposit_pct"] == 1).all() and (c.loc[pre, "balance_usd"] == 0).all()
    assert (c.loc[~pre, "deposit_pct"] < 1).all()


def test_contract_timelines_and_status(w):
    c = w.contracts
    end = _end(w)
    paid, ship = c["deposit_paid_at"], c["shipped_at"]
    assert (paid.dropna() >= c.loc[paid.notna(), "signed_at"]).all()
    assert (_cn_date(paid.dropna()) <= c.loc[paid.notna(), "deposit_due_date"]).all()
    assert (c["deposit_due_date"] == _cn_date(c["signed_at"]) + pd.Timedelta(days=7)).all()
    assert ship[paid.isna()].isna().all()  # production starts after the deposit
    s = ship.notna()
    assert (ship[s] > paid[s]).all()
    assert (_cn_date(ship[s]) <= c.loc[s, "ship_by_date"]).all()
    before = c["payment_terms"] == "balance_before_shipment"
    after = c["payment_terms"] == "balance_after_shipment"
    bp = before & c["balance_paid_at"].notna() & s
    assert (c.loc[bp, "balance_paid_at"] < ship[bp]).all()
    assert (c.loc[before & c["status"].ne("cancelled"), "balance_due_date"]
            == c.loc[before & c["status"].ne("cancelled"), "ship_by_date"]).all()
    a = after & s
    due = _cn_date(ship[a]) + pd.to_timedelta(c.loc[a, "balance_term_days"].astype(int),
                                              unit="D")
    assert (due == c.loc[a, "balance_due_date"]).all()
    assert c.loc[after & ~s, "balance_due_date"].isna().all()
    assert c.loc[after, "balance_term_days"].notna().all()
    assert c.loc[~after, "balance_term_days"].isna().all()
    assert (c.loc[after & c["balance_paid_at"].notna(), "balance_paid_at"]
            > ship[after & c["balance_paid_at"].notna()]).all()
    for col in ("deposit_paid_at", "shipped_at", "balance_paid_at"):
        assert (c[col].dropna() < end).all(), col
    st = c["status"].astype(str)
    assert (st[paid.isna()].isin(["awaiting_deposit", "cancelled"])).all()
    assert (st[paid.notna() & ship.isna()] == "in_production").all()
    done = (c["balance_usd"] == 0) | c["balance_paid_at"].notna()
    assert (st[s & done] == "completed").all() and (st[s & ~done] == "shipped").all()


def test_funnel_conversion_differs_by_channel(w):
    b, c, cc = w.b2b_buyers, w.contracts, w.channel_costs
    assert set(c["order_type"]) >= {"sample", "bulk"}
    months = pd.date_range(w.meta["start"], periods=w.meta["months"], freq="MS")
    assert len(cc) == cc["store_id"].nunique() * len(months) * 7
    assert set(cc["month"]) == set(months)
    assert (cc.groupby("channel", observed=True)["spend_cny"].sum() > 0).sum() >= 6
    cust = b["buyer_id"].isin(c.loc[c["deposit_paid_at"].notna(), "buyer_id"])
    rate = cust.groupby(b["source_channel"], observed=True).mean()
    assert rate.max() > rate.min()
    assert b.loc[b["source_channel"] == "platform_inquiry", "inquiries_sent"].min() >= 1


def _stage_only(n_orders: int, seed: int, **options) -> dict[str, pd.DataFrame]:
    """The b2b tables of a world, running only the stages the b2b stage reads."""
    from cbec_sim.generate import _context, _run_stages
    from cbec_sim.tables import b2b

    ctx = _context(n_orders, options.get("markets"), options.get("platforms"), "2025-01-01",
                   12, seed)
    _run_stages(ctx, until_table="listing_stats")
    out = b2b.build(ctx)
    return {t: conform(df, REGISTRY[t]) for t, df in out.items()}


def test_funnel_shape_at_scale():
    t = _stage_only(20_000, 11)
    b, c = t["b2b_buyers"], t["contracts"]
    assert len(t["inquiries"]) == 400
    cust = b["buyer_id"].isin(c.loc[c["deposit_paid_at"].notna(), "buyer_id"])
    rate = cust.groupby(b["source_channel"], observed=True).mean()
    assert rate["platform_inquiry"] > rate["customs_data"]
    assert rate["platform_inquiry"] > rate["email_campaign"]
    # samples lead to bulk orders for some buyers
    first = c.sort_values("signed_at").groupby("buyer_id")["order_type"].first()
    later = c.groupby("buyer_id")["order_type"].agg(lambda s: (s == "bulk").any())
    assert later[first[first == "sample"].index].any()


# ---- planted anomalies --------------------------------------------------------------------


def test_reply_sla_breach_label(w):
    lab = _labels(w, "inquiry_reply_sla_breach")
    assert len(lab) >= 3 and lab["store_id"].nunique() == 1
    i = w.inquiries
    store = lab["store_id"].iloc[0]
    day = _cn_date(i["received_at"])
    window = ((i["store_id"] == store) & (day >= lab["start"].iloc[0])
              & (day <= lab["end"].iloc[0]))
    assert set(i.loc[window, "inquiry_id"]) == set(lab["entity_id"])
    ok = rules.replied_within(i["received_at"], i["first_reply_at"])
    assert not ok[window.to_numpy()].any()
    rest = (i["store_id"] == store).to_numpy() & ~window.to_numpy()
    assert ok[rest].mean() > 0.6


def test_cif_error_label(w):
    lab = _labels(w, "quote_cif_error")
    assert len(lab) >= 1
    q = w.quotes.set_index("quote_id").loc[lab["entity_id"]]
    assert (q["incoterm"] == "CIF").all()
    assert (rules.cif_from_cfr(q["cfr_usd"], q["insurance_rate"]) != q["cif_usd"]).all()
    on_fob = rules.round_cents(q["cfr_usd"] + rules.round_cents(q["fob_usd"] * 1.1
                                                                * q["insurance_rate"]))
    assert ((q["cif_usd"] == on_fob) | (q["cif_usd"] == q["cfr_usd"])).all()
    assert (q["unit_price_usd"] == q["cif_usd"]).all()
    assert not w.contracts["quote_id"].isin(lab["entity_id"]).any()


def test_shipment_overdue_label(w):
    lab = _labels(w, "b2b_shipment_overdue")
    c = w.contracts
    last = pd.Timestamp(w.meta["start"]) + pd.DateOffset(months=w.meta["months"]) - \
        pd.Timedelta(days=1)
    stuck = c["deposit_paid_at"].notna() & c["shipped_at"].isna() & (c["ship_by_date"] < last)
    assert set(c.loc[stuck, "contract_id"]) == set(lab["entity_id"])
    assert len(lab) >= 1
    got = c.set_index("contract_id").loc[lab["entity_id"]]
    assert (got["status"] == "in_production").all()
    assert (got["ship_by_date"] <= last - pd.Timedelta(days=14)).all()


def test_fraud_buyer_label(w):
    lab = _labels(w, "b2b_fraud_buyer")
    assert len(lab) >= 3
    b = w.b2b_buyers.set_index("buyer_id")
    ring = b.loc[lab["entity_id"]]
    assert ring["platform_member_since"].max() - ring["platform_member_since"].min() \
        <= pd.Timedelta(days=1)
    assert not ring.apply(lambda r: r["email_domain"].startswith(
        r["company_name"].split()[0].lower()), axis=1).any()  # free webmail, not company
    i = w.inquiries[w.inquiries["buyer_id"].isin(lab["entity_id"])]
    assert i["received_at"].max() - i["received_at"].min() <= pd.Timedelta(hours=48)
    assert (i["message_type"] == "template").all() and not i["flagged_spam"].any()
    assert i["listing_id"].nunique() >= len(i) // 2
    price = w.listings.set_index("listing_id").loc[i["listing_id"], "price"].to_numpy()
    assert (i["target_price_usd"].to_numpy() < 0.4 * price).all()
    assert not w.contracts["buyer_id"].isin(lab["entity_id"]).any()
    others = w.inquiries[~w.inquiries["buyer_id"].isin(lab["entity_id"])]
    assert (i["quantity"].median() > 5 * others["quantity"].median())


def test_no_b2b_store_gives_empty_valid_tables(small_world):
    from cbec_sim.generate import _context
    from cbec_sim.tables import b2b

    ctx = _context(3000, None, None, "2025-01-01", 12, 7)
    ctx.tables = dict(small_world.tables)
    ctx.tables["stores"] = small_world.stores[small_world.stores["model"] == "B2C"]
    out = b2b.build(ctx)
    for t in TABLES:
        df = conform(out[t], REGISTRY[t])
        assert len(df) == 0 and validate_table(df, REGISTRY[t]) == [], t
