"""Finance stage: settlements, FX settlement, export declarations, rebates, receivables.

Hand-worked cases for the rules (rebates 免退 / 免抵退, FX gains and losses, payouts), then
reconciliations on the shared ``small_world`` / ``small_world_b`` fixtures: every amount is
recomputed from the upstream tables to the cent, and the planted anomalies are exactly the
rows where the recomputation disagrees.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cbec_sim
from cbec_sim import rules
from cbec_sim.context import Context
from cbec_sim.schema import REGISTRY, conform, validate_references, validate_table
from cbec_sim.tables import finance

TABLES = ("payment_providers", "settlements", "fx_settlements", "export_declarations",
          "declaration_items", "export_rebates", "export_rebate_periods", "receivables")
CN = pd.Timedelta(hours=8)


def cents(x) -> np.ndarray:
    return rules.to_cents(np.asarray(x, float))


def labelled(world, kind) -> set[str]:
    a = world.labels["anomalies"]
    return set(a.loc[a["kind"] == kind, "entity_id"])


def rate_on(world, currency, day) -> np.ndarray:
    """Middle rate of each (currency, naive day) pair from fx_rates."""
    fx = world.fx_rates.assign(currency=world.fx_rates["currency"].astype(str))
    key = pd.DataFrame({"currency": np.asarray(currency, dtype=object).astype(str),
                        "date": pd.to_datetime(np.asarray(day)).normalize()})
    return key.merge(fx, on=["currency", "date"], how="left")["cny_per_unit"].to_numpy()


@pytest.fixture(scope="module", params=["small_world", "small_world_b"])
def w(request):
    return request.getfixturevalue(request.param)


# ---- rules, worked by hand ------------------------------------------------------------


def test_exempt_refund_by_hand():
    # invoice 100,000.00 excl. VAT × 13 % = 13,000.00; 9 % of 1,234.56 = 111.1104 → 111.11
    assert rules.export_rebate_exempt_refund([100_000.0, 1234.56], [0.13, 0.09]).tolist() == [
        13_000.0, 111.11]
    # VAT-inclusive 113.00 → 100.00; 100.00 → 88.495… → 88.50 (half-up)
    assert rules.amount_excl_vat([113.0, 100.0], 0.13).tolist() == [100.0, 88.5]


@pytest.mark.parametrize(("input_vat", "expected"), [
    # FOB 2,000,000 at VAT 13 % / rebate 9 %: non-creditable 80,000, limit 180,000;
    # domestic output VAT 65,000.
    # input 300,000: payable 65,000 − 220,000 = −155,000 → credit 155,000 < limit
    (300_000.0, dict(vat_payable=0.0, closing_credit=155_000.0, refund=155_000.0,
                     exempt_offset=25_000.0, credit_carried_forward=0.0)),
    # input 500,000: credit 355,000 > limit → refund the limit, carry 175,000
    (500_000.0, dict(vat_payable=0.0, closing_credit=355_000.0, refund=180_000.0,
                     exempt_offset=0.0, credit_carried_forward=175_000.0)),
    # input 100,000: 65,000 − 20,000 = 45,000 payable, nothing refunded, all offset
    (100_000.0, dict(vat_payable=45_000.0, closing_credit=0.0, refund=0.0,
                     exempt_offset=180_000.0, credit_carried_forward=0.0)),
])
def test_exempt_offset_refund_by_hand(input_vat, expected):
    r = rules.export_rebate_exempt_offset_refund([1_500_000.0, 500_000.0], 0.13, 0.09,
                                                 65_000.0, input_vat)
    assert r["non_creditable"] == 80_000.0 and r["refund_limit"] == 180_000.0
    for k, v in expected.items():
        assert r[k] == v, k
    # an opening credit of 10,000 lowers what is payable by as much
    r2 = rules.export_rebate_exempt_offset_refund(2_000_000.0, 0.13, 0.09, 65_000.0,
                                                  100_000.0, 10_000.0)
    assert r2["vat_payable"] == 35_000.0


def test_fx_rules_by_hand():
    # bank buys USD at 7.1500 × (1 − 0.6 %) = 7.1071; 10,000 USD → 71,071.00 CNY;
    # booked at 7.1000 → 71,000.00: gain 71.00; the rate falling to 7.0000 → loss
    buy = rules.bank_buying_rate(7.15, 0.006)
    assert buy == pytest.approx(7.1071, abs=1e-12)
    assert rules.convert_to_cny(10_000.0, buy) == 71_071.0
    assert rules.fx_gain_loss([10_000.0, 10_000.0], [buy, 7.0], 7.1).tolist() == [71.0,
                                                                                  -1000.0]
    assert rules.payment_fee(71_071.0, 0.005) == 355.36  # 355.355 → half-up
    assert rules.sig6([7.123456789, 0.0485123456, 0.0]).tolist() == [7.12346, 0.0485123, 0.0]


def test_net_payout_and_quota_by_hand():
    assert rules.settlement_net_payout(1000.0, 150.0, 30.0, 20.0, 0.0, 45.5, 50.0, 40.0
                                       ) == 744.5
    # personal quota: 30,000 + 15,000 = 45,000 fine; + 6,000 = 51,000 breaches; the other
    # account and the next year start from zero
    breach = rules.personal_fx_quota_breaches(
        ["A", "A", "B", "A", "A"], [2025, 2025, 2025, 2025, 2026],
        [30_000.0, 15_000.0, 60_000.0, 6_000.0, 6_000.0])
    assert breach.tolist() == [False, False, True, True, False]


# ---- schemas, references, labels -----------------------------------------------------


def test_tables_match_their_specs(w):
    for name in TABLES:
        assert name in w.tables, name
        assert validate_table(w.tables[name], REGISTRY[name]) == [], name
    assert validate_references(dict(w.tables)) == []
    assert len(w.settlements) and len(w.fx_settlements) and len(w.export_declarations)
    assert len(w.export_rebates) and len(w.receivables)


def test_labels_point_at_existing_rows(w):
    a = w.labels["anomalies"]
    for kind, table, col in (("fee_overcharge", "settlements", "settlement_id"),
                             ("wrong_rebate_rate", "export_rebates", "rebate_line_id"),
                             ("fx_quota_exceeded", "fx_settlements", "fx_settlement_id")):
        ids = a.loc[a["kind"] == kind, "entity_id"]
        assert (a.loc[a["kind"] == kind, "table"] == table).all()
        assert ids.isin(w.tables[table][col]).all(), kind
    assert labelled(w, "fee_overcharge") and labelled(w, "wrong_rebate_rate")


def test_deterministic(small_world):
    again = cbec_sim.generate(3000, rng=7)
    for name in TABLES:
        pd.testing.assert_frame_equal(again.tables[name], small_world.tables[name])
    a, b = (x.labels["anomalies"] for x in (again, small_world))
    pd.testing.assert_frame_equal(a, b)
    assert not again.settlements.equals(cbec_sim.make_settlements(3000, rng=8))


# ---- settlements ----------------------------------------------------------------------


def col_cents(s: pd.DataFrame, col: str) -> pd.Series:
    return pd.Series(cents(s[col]), index=s["settlement_id"].to_numpy())


def _period_of(s: pd.DataFrame, store, day) -> np.ndarray:
    """Settlement id of each (store, UTC day) event (None outside every period)."""
    ev = pd.DataFrame({"store_id": np.asarray(store, dtype=object),
                       "day": pd.to_datetime(np.asarray(day)).normalize(),
                       "i": np.arange(len(store))})
    per = s[["settlement_id", "store_id", "period_start", "period_end"]]
    m = ev.merge(per, on="store_id")
    m = m[(m["day"] >= m["period_start"]) & (m["day"] <= m["period_end"])]
    out = np.full(len(ev), None, dtype=object)
    out[m["i"].to_numpy()] = m["settlement_id"].to_numpy(object)
    return out


def test_settlement_net_reconciles_to_the_cent(w):
    s = w.settlements
    net = (cents(s["gross_sales"]) - cents(s["referral_fees"]) - cents(s["fulfilment_fees"])
           - cents(s["advertising_fees"]) - cents(s["transaction_fees"]) - cents(s["refunds"])
           - cents(s["reserve_held"]) + cents(s["reserve_released"]))
    assert (net == cents(s["net_payout"])).all()
    prev = s.groupby("store_id")["reserve_held"].shift(1).fillna(0.0)
    assert (cents(prev) == cents(s["reserve_released"])).all()
    rate = s["platform_id"].map(finance.RESERVE_RATE).fillna(0.0)
    assert (cents(s["reserve_held"]) == cents(rules.payment_fee(s["gross_sales"], rate))).all()
    # periods tile each store's time line without gaps
    g = s.sort_values(["store_id", "period_start"]).groupby("store_id")
    gap = (s["period_start"] - g["period_end"].shift(1)).dropna()
    assert (gap == pd.Timedelta(days=1)).all()
    paid = s["status"] == "paid"
    end = pd.Timestamp(w.meta["start"]) + pd.DateOffset(months=w.meta["months"]) - pd.Timedelta(
        days=1)
    assert (s.loc[paid, "payout_date"] <= end).all()
    assert (s.loc[s["status"] == "open", "period_end"] > end).all()


def test_settlement_components_recompute(w):
    s = w.settlements
    o, sh = w.orders, w.shipments
    shipped = sh[["order_id", "shipped_at", "warehouse_id", "shipping_cost_cny"]].merge(
        o[["order_id", "store_id", "order_total", "fx_rate_cny", "platform_id", "created_at",
           "currency"]], on="order_id")
    shipped["sid"] = _period_of(s, shipped["store_id"],
                                shipped["shipped_at"].dt.tz_localize(None))
    gross = shipped.groupby("sid")["order_total"].apply(lambda x: cents(x).sum())
    got = col_cents(s, "gross_sales")
    assert (got.reindex(gross.index) == gross).all()
    assert got.drop(gross.index).eq(0).all()
    # fulfilment: parcels from platform warehouses, (freight + pick & pack) ÷ order rate
    wh = w.warehouses.set_index("warehouse_id")
    plat = shipped["warehouse_id"].map(wh["warehouse_type"].astype(str)) == "platform_warehouse"
    fee = rules.round_cents((shipped["shipping_cost_cny"]
                             + shipped["warehouse_id"].map(wh["pick_pack_fee_cny"]).fillna(0))
                            / shipped["fx_rate_cny"])
    ful = pd.Series(np.where(plat, cents(fee), 0)).groupby(shipped["sid"].to_numpy()).sum()
    assert (col_cents(s, "fulfilment_fees").reindex(ful.index) == ful).all()
    # refunds by refund day, advertising by ad day
    r = w.returns.dropna(subset=["refunded_at"])
    rs = pd.Series(cents(r["refund_amount"])).groupby(
        _period_of(s, r["store_id"], r["refunded_at"].dt.tz_localize(None))).sum()
    assert (col_cents(s, "refunds").reindex(rs.index) == rs).all()
    ads = w.ads_daily
    ad = pd.Series(cents(ads["spend"])).groupby(_period_of(s, ads["store_id"], ads["date"])
                                                ).sum()
    assert (col_cents(s, "advertising_fees").reindex(ad.index) == ad).all()
    # referral fees: rules.referral_fee per line; the planted rows are exactly the misfits
    ln = w.order_lines.merge(shipped[["order_id", "sid", "platform_id", "fx_rate_cny",
                                      "created_at"]], on="order_id")
    ln = ln.merge(w.products[["product_id", "category"]].astype({"category": str}),
                  on="product_id")
    pf = w.platform_fees.astype({"category": str, "fee_currency": str})
    ln = ln.merge(pf, on=["platform_id", "category"], how="left")
    fee_cny = rate_on(w, ln["fee_currency"], ln["created_at"].dt.tz_localize(None))
    min_local = np.where(ln["min_referral_fee"] > 0, rules.round_cents(
        ln["min_referral_fee"] * fee_cny / ln["fx_rate_cny"]), 0.0)
    ln["fee"] = rules.referral_fee(ln["line_net"], ln["referral_fee_pct"],
                                   min_local * ln["quantity"])
    expect = ln.groupby("sid")["fee"].apply(lambda x: cents(x).sum())
    charged = col_cents(s, "referral_fees")
    expect = expect.reindex(charged.index, fill_value=0)
    over = set(charged.index[charged != expect])
    assert over == labelled(w, "fee_overcharge")
    assert (charged[list(over)] > expect[list(over)]).all()


# ---- FX settlement ----------------------------------------------------------------------


def test_fx_settlements_recompute(w):
    f = w.fx_settlements
    prov = w.payment_providers.set_index("provider_id")
    assert np.allclose(f["middle_rate"], rate_on(w, f["currency"], f["settled_date"]))
    assert np.allclose(f["booked_rate"], rate_on(w, f["currency"], f["booked_date"]))
    buy = rules.bank_buying_rate(f["middle_rate"], f["payment_provider_id"].map(
        prov["fx_spread"]))
    assert np.array_equal(buy, f["bank_buy_rate"].to_numpy())
    assert (cents(rules.convert_to_cny(f["amount"], buy)) == cents(f["cny_gross"])).all()
    fee = rules.payment_fee(f["cny_gross"], f["payment_provider_id"].map(
        prov["withdrawal_fee_rate"]))
    assert (cents(fee) == cents(f["fee_cny"])).all()
    assert (cents(f["cny_gross"]) - cents(f["fee_cny"]) == cents(f["cny_net"])).all()
    gl = rules.fx_gain_loss(f["amount"], f["bank_buy_rate"], f["booked_rate"])
    assert (cents(gl) == cents(f["fx_gain_loss_cny"])).all()
    usd = rate_on(w, ["USD"] * len(f), f["settled_date"])
    assert (cents(rules.round_cents(f["amount"] * f["middle_rate"] / usd))
            == cents(f["usd_equivalent"])).all()
    assert (f["settled_date"] >= f["received_date"]).all()
    assert (f["settled_date"] > f["received_date"] + pd.Timedelta(days=5)).any()  # held


def test_fx_sources_match_payouts_and_receipts(w):
    f = w.fx_settlements
    s = w.settlements.set_index("settlement_id")
    p = f[f["source_type"] == "platform_payout"]
    src = s.loc[p["source_id"]]
    assert (src["status"] == "paid").all() and (src["net_payout"] > 0).all()
    assert (cents(src["net_payout"]) == cents(p["amount"])).all()
    assert (src["payout_date"].to_numpy() == p["received_date"].to_numpy()).all()
    assert (src["period_end"].to_numpy() == p["booked_date"].to_numpy()).all()
    assert not p["source_id"].duplicated().any()
    r = w.receivables.set_index("receivable_id")
    b = f[f["source_type"] == "b2b_receipt"]
    rs = r.loc[b["source_id"]]
    assert (cents(rs["amount_paid"]) == cents(b["amount"])).all()
    assert (rs["paid_date"].to_numpy() == b["received_date"].to_numpy()).all()
    signed = w.contracts.set_index("contract_id")["signed_at"]
    signed_day = (signed + CN).dt.tz_localize(None).dt.normalize()
    assert (signed_day.reindex(rs["contract_id"]).to_numpy() == b["booked_date"].to_numpy()).all()


def test_personal_quota_labels(w):
    f = w.fx_settlements.sort_values(["settled_date", "fx_settlement_id"])
    pers = f[f["account_type"] == "personal"]
    breach = rules.personal_fx_quota_breaches(["personal"] * len(pers),
                                              pers["settled_date"].dt.year,
                                              pers["usd_equivalent"])
    assert set(pers.loc[breach, "fx_settlement_id"]) == labelled(w, "fx_quota_exceeded")
    assert breach.sum() <= pers["settled_date"].dt.year.nunique()


# ---- receivables ------------------------------------------------------------------------


def test_receivables_balance_with_contracts(w):
    r, c = w.receivables, w.contracts
    c = c[c["status"].astype(str) != "cancelled"].set_index("contract_id")
    due = r.groupby("contract_id")["amount_due"].apply(lambda x: cents(x).sum())
    assert (due == cents(c.loc[due.index, "total_usd"])).all()
    assert set(c.index[c["total_usd"] > 0]) == set(due.index)
    assert (cents(r["amount_due"]) - cents(r["amount_paid"]) == cents(r["outstanding"])).all()
    assert ((r["status"] == "paid") == r["paid_date"].notna()).all()
    def same(a: pd.Series, b: pd.Series) -> bool:  # equal, missing in the same rows
        a, b = a.reset_index(drop=True), b.reset_index(drop=True)
        return bool(((a == b) | (a.isna() & b.isna())).all())

    for inst in ("deposit", "balance"):
        x = r[r["instalment"] == inst].set_index("contract_id")
        paid = (c.loc[x.index, f"{inst}_paid_at"] + CN).dt.tz_localize(None).dt.normalize()
        assert same(paid, x["paid_date"])  # China-local day of the payment
        assert same(c.loc[x.index, f"{inst}_due_date"], x["due_date"])
    assert (r["paid_date"].dropna() <= pd.Timestamp(w.meta["start"]) + pd.DateOffset(
        months=w.meta["months"])).all()


# ---- export declarations and rebates -----------------------------------------------------


def test_declaration_items_add_up(w):
    d, it = w.export_declarations.set_index("declaration_id"), w.declaration_items
    g = it.groupby("declaration_id")
    assert (g["fob_usd"].apply(lambda x: cents(x).sum()) == cents(d.loc[g.size().index,
                                                                         "fob_usd"])).all()
    assert (g["fob_cny"].apply(lambda x: cents(x).sum()) == cents(d.loc[g.size().index,
                                                                         "fob_cny"])).all()
    assert (g["quantity"].sum() == d.loc[g.size().index, "quantity"]).all()
    assert (g.size() == d.loc[g.size().index, "n_items"]).all()
    rate = it["declaration_id"].map(d["usd_cny_rate"])
    assert (cents(rules.convert_to_cny(it["fob_usd"], rate)) == cents(it["fob_cny"])).all()
    first = it[it["item_no"] == 1].set_index("declaration_id")["hs_code"]
    assert (first == d.loc[first.index, "main_hs_code"]).all()
    # the USD rate: the month's first day for 9610 summaries, else the export day
    day = np.where(d["mode"] == "9610", d["exported_from"].dt.to_period("M").dt.start_time,
                   d["exported_from"])
    assert np.allclose(d["usd_cny_rate"], rate_on(w, ["USD"] * len(d), day))
    assert ((d["status"] == "pending") == d["declared_date"].isna()).all()
    assert (d.loc[d["mode"] != "9610", "declared_date"] <= d.loc[d["mode"] != "9610",
                                                                   "exported_from"]).all()


def test_9610_summaries_match_the_parcels(w):
    d = w.export_declarations
    d = d[d["mode"] == "9610"]
    sh = w.shipments.merge(w.warehouses[["warehouse_id", "warehouse_type"]], on="warehouse_id")
    sh = sh[sh["warehouse_type"].astype(str) == "domestic"]
    month = (sh["shipped_at"] + CN).dt.tz_localize(None).dt.to_period("M").dt.start_time
    g = sh.assign(month=month, market=sh["market"].astype(str)).groupby(
        ["store_id", "warehouse_id", "market", "month"])
    exp = pd.DataFrame({"n": g.size(), "fob": g["declared_value_usd"].apply(
        lambda x: cents(x).sum())})
    got = d.assign(month=d["exported_from"].dt.to_period("M").dt.start_time,
                   market=d["destination_country"].astype(str)).set_index(
        ["store_id", "warehouse_id", "market", "month"])
    assert len(got) == len(exp) and got.index.is_unique
    got = got.loc[exp.index]
    assert (got["n_shipments"].to_numpy() == exp["n"].to_numpy()).all()
    assert (cents(got["fob_usd"]) == exp["fob"].to_numpy()).all()
    filed = d["declared_date"].dropna()
    first_next = (d.loc[filed.index, "exported_from"].dt.to_period("M") + 1).dt.start_time
    assert ((filed >= first_next) & (filed.dt.day <= 15)).all()


def test_9810_and_b2b_declarations(w):
    d = w.export_declarations
    over = d[d["mode"] == "9810"]
    wh = w.warehouses.set_index("warehouse_id")
    assert (over["warehouse_id"].map(wh["warehouse_type"].astype(str)) != "domestic").all()
    assert (over["destination_country"].astype(str)
            == over["warehouse_id"].map(wh["country"].astype(str))).all()
    rc = w.inbound_receipts.astype({"warehouse_id": str, "inbound_type": str})
    rc = rc[rc["warehouse_id"].map(wh["warehouse_type"].astype(str)) != "domestic"]
    rc = rc[rc["inbound_type"] == "regular"]
    assert over["quantity"].sum() <= rc["quantity"].sum()
    c = w.contracts.set_index("contract_id")
    b2b = d[d["contract_id"].notna()]
    assert set(b2b["mode"].astype(str)) <= {"9710", "0110", "1039"}
    cc = c.loc[b2b["contract_id"]]
    assert (cents(cc["fob_value_usd"]) == cents(b2b["fob_usd"])).all()
    assert (cc["order_type"].astype(str) != "sample").all() and cc["shipped_at"].notna().all()
    assert (b2b["mode"].astype(str).eq("9710") == cc["is_trade_assurance"].to_numpy()).all()
    assert not b2b["contract_id"].duplicated().any()
    assert ((b2b["exporter"].astype(str) == "one_touch_agency")
            == cc["via_one_touch"].to_numpy()).all()
    fac = d[d["exporter"].astype(str) == "manufacturer"]
    assert (fac["mode"].astype(str) == "0110").all() and fac["store_id"].isna().all()


def test_rebate_lines_recompute(w):
    rb, d = w.export_rebates, w.export_declarations.set_index("declaration_id")
    hs = w.hs_codes.set_index("hs_code")
    dd = d.loc[rb["declaration_id"]]
    assert (dd["status"] == "released").all()
    assert not dd["mode"].astype(str).eq("1039").any()
    assert not dd["exporter"].astype(str).eq("one_touch_agency").any()
    mf = rb["method"] == "exempt_offset_refund"
    assert ((dd["exporter"].astype(str) == "manufacturer").to_numpy() == mf.to_numpy()).all()
    assert (rb["claimed_date"] > dd["declared_date"].to_numpy()).all()
    assert (rb["claim_month"] == rb["claimed_date"].dt.to_period("M").dt.start_time).all()
    assert np.allclose(rb["vat_rate"], rb["hs_code"].map(hs["vat_rate"]))
    tr = rb[~mf]
    assert (cents(rules.export_rebate_exempt_refund(tr["invoice_amount_cny"],
                                                    tr["rebate_rate"]))
            == cents(tr["rebate_amount_cny"])).all()
    assert rb.loc[mf, "invoice_amount_cny"].isna().all()
    base = np.where(mf, rb["fob_cny"], rb["invoice_amount_cny"])
    assert (cents(rules.round_cents(base * (rb["vat_rate"] - rb["rebate_rate"])))
            == cents(rb["non_refundable_cny"])).all()
    assert (cents(rules.round_cents(rb.loc[mf, "fob_cny"] * rb.loc[mf, "rebate_rate"]))
            == cents(rb.loc[mf, "rebate_amount_cny"])).all()
    it = w.declaration_items.set_index(["declaration_id", "item_no"])
    fob = it.loc[list(zip(rb["declaration_id"], rb["item_no"], strict=True)), "fob_cny"]
    assert (cents(fob) == cents(rb["fob_cny"])).all()
    # invoice amounts of contract exports: purchase contract amount excl. VAT
    b = rb.assign(contract_id=dd["contract_id"].to_numpy()).dropna(subset=["contract_id"])
    pc = w.contracts.set_index("contract_id").loc[b["contract_id"], "purchase_total_cny"]
    assert (cents(rules.amount_excl_vat(pc, b["vat_rate"]))
            == cents(b["invoice_amount_cny"])).all()
    # the planted wrong rates are exactly the lines off the code table
    wrong = rb["rebate_rate"].to_numpy() != rb["hs_code"].map(hs["export_rebate_rate"])
    assert set(rb.loc[wrong, "rebate_line_id"]) == labelled(w, "wrong_rebate_rate")
    assert rb["rebate_amount_cny"].ge(0).all()
    g = rb.groupby("claim_id")
    assert (g["claimed_date"].nunique() == 1).all()
    assert (g["approved_date"].nunique(dropna=False) == 1).all()


def test_rebate_periods_recompute(w):
    p, rb = w.export_rebate_periods, w.export_rebates
    mf = rb[rb["method"] == "exempt_offset_refund"]
    assert len(p) and p["month"].is_monotonic_increasing
    assert (p["opening_credit_cny"].iloc[1:].to_numpy()
            == p["credit_carried_cny"].iloc[:-1].to_numpy()).all()
    assert p["opening_credit_cny"].iloc[0] == 0
    for _, row in p.iterrows():
        lines = mf[mf["claim_month"] == row["month"]]
        r = rules.export_rebate_exempt_offset_refund(
            lines["fob_cny"].to_numpy(), lines["vat_rate"].to_numpy(),
            lines["rebate_rate"].to_numpy(), row["output_vat_cny"], row["input_vat_cny"],
            row["opening_credit_cny"])
        assert r["refund"] == row["refund_cny"] and r["non_creditable"] == row[
            "non_creditable_cny"]
        assert r["credit_carried_forward"] == row["credit_carried_cny"]
        assert cents(lines["rebate_amount_cny"]).sum() == cents(row["refund_limit_cny"])
        assert cents(lines["non_refundable_cny"]).sum() == cents(row["non_creditable_cny"])


# ---- without a b2b stage --------------------------------------------------------------


def test_build_without_contracts(small_world):
    tables = {k: v for k, v in small_world.tables.items()
              if k not in ("contracts", "b2b_buyers") and k not in TABLES}
    ctx = Context(n_orders=3000, markets=tuple(small_world.meta["markets"]),
                  platforms=tuple(small_world.meta["platforms"]),
                  start=pd.Timestamp(small_world.meta["start"]),
                  end=pd.Timestamp(small_world.meta["start"]) + pd.DateOffset(months=12)
                  - pd.Timedelta(days=1), catalog=None,
                  rngs={"finance": np.random.default_rng(1)}, tables=tables)
    out = finance.build(ctx)
    for name in TABLES:
        assert validate_table(conform(out[name], REGISTRY[name]), REGISTRY[name]) == []
    assert out["receivables"].empty
    assert out["export_declarations"]["contract_id"].isna().all()
    assert (out["fx_settlements"]["source_type"] == "platform_payout").all()
