"""Stage ``imports``: B2B2C import flow, T_product filings, import orders, customs messages.

Checked on the shared ``small_world`` / ``small_world_b`` fixtures (the real pipeline) and on
a minimal synthetic context (the stage reads only ``hs_codes`` upstream). Labels must be
right by construction: every labelled error is really there and unlabelled rows are clean.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cbec_sim import rules as R
from cbec_sim.catalog import catalog
from cbec_sim.context import Context
from cbec_sim.schema import REGISTRY, conform, validate_references, validate_table
from cbec_sim.tables import imports as imp
from cbec_sim.tables.reference import make_hs_codes

TABLES = ("suppliers", "enterprise_filings", "product_filings", "import_buyers",
          "import_orders", "import_order_lines", "customs_messages", "import_mode_costs")
OWN = ("suppliers", "product_filings", "customs_messages")


@pytest.fixture(scope="module", params=["a", "b"])
def world(request, small_world, small_world_b):
    return small_world if request.param == "a" else small_world_b


def _labels(w, table: str) -> pd.DataFrame:
    a = w.labels["anomalies"]
    return a[a["table"] == table]


def _ctx(n_orders: int = 3000, seed: int = 1, months: int = 12) -> Context:
    start = pd.Timestamp("2025-01-01")
    end = start + pd.DateOffset(months=months) - pd.Timedelta(days=1)
    return Context(n_orders=n_orders, markets=("US",), platforms=("amazon",), start=start,
                   end=end, catalog=catalog(), rngs={"imports": np.random.default_rng(seed)},
                   tables={"hs_codes": make_hs_codes()})


def _build(ctx: Context) -> dict[str, pd.DataFrame]:
    return {k: conform(v, REGISTRY[k]) for k, v in imp.build(ctx).items()}


# ---- schema, sizes, determinism -----------------------------------------------------------

def test_tables_match_their_schemas_and_keys(world):
    for name in TABLES:
        assert validate_table(world.tables[name], REGISTRY[name]) == [], name
    assert validate_references(dict(world.tables)) == []
    o = world.import_orders
    assert len(o) == imp.n_import_orders_for(world.meta["n_orders"])
    missing = _labels(world, "customs_messages")["kind"].str.startswith("customs_missing_")
    assert len(world.customs_messages) == 4 * len(o) - missing.sum()
    assert len(world.import_order_lines) == o["n_lines"].sum()
    assert o["created_at"].is_monotonic_increasing


def test_stage_is_deterministic_and_seeded():
    a, b, c = _build(_ctx(seed=5)), _build(_ctx(seed=5)), _build(_ctx(seed=6))
    for name in (*TABLES, "anomalies"):
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)
    assert not a["import_orders"]["amount_paid"].equals(c["import_orders"]["amount_paid"])


@pytest.mark.parametrize("n_orders, months", [(100, 1), (100, 60), (50_000, 2)])
def test_small_short_and_long_worlds_build(n_orders, months):
    out = _build(_ctx(n_orders, seed=3, months=months))
    for name in TABLES:
        assert validate_table(out[name], REGISTRY[name]) == [], name
    assert len(out["import_orders"]) == imp.n_import_orders_for(n_orders)


def test_import_goods_use_codes_of_the_code_table_and_the_hs_reference():
    hs = make_hs_codes()
    codes = [g["hs"] for g in imp.IMPORT_GOODS]
    assert set(codes) <= set(hs["hs_code"])
    names = [n for g in imp.IMPORT_GOODS for n in g["names"]]
    assert len(names) == len(set(names))  # a goods name identifies its code
    ref = Path(__file__).resolve().parents[3] / "shared" / "reference" / "hs" / \
        "harmonized-system.csv"
    if not ref.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{ref} missing: CI must have ../shared beside the repo")
        pytest.skip("../shared/reference not available")
    h = pd.read_csv(ref, dtype=str)
    assert {c[:6] for c in codes} <= set(h.loc[h["level"] == "6", "hscode"])


# ---- supplier review and enterprise filing (000 §1.1–§1.4) --------------------------------

def test_supplier_review_follows_the_rule_except_labelled(world):
    s = world.suppliers
    mand = s[[f"has_{d}" for d in R.SUPPLIER_MANDATORY_DOCUMENTS]].all(axis=1).to_numpy()
    rule = R.supplier_review_outcome(mand, s["credit_check"].astype(str),
                                     s["supply_capability"].astype(str))
    labelled = s["supplier_id"].isin(_labels(world, "suppliers")["entity_id"]).to_numpy()
    assert labelled.sum() >= 1
    out = s["review_outcome"].astype(str).to_numpy()
    assert (out[~labelled] == rule[~labelled]).all()
    assert (out[labelled] == "approved").all() and not mand[labelled].any()
    assert set(_labels(world, "suppliers")["kind"]) == {"supplier_missing_document"}
    # missing_documents lists exactly the documents not provided
    for _, r in s.iterrows():
        miss = [d for d in R.SUPPLIER_DOCUMENTS if not r[f"has_{d}"]]
        assert (r["missing_documents"] if isinstance(r["missing_documents"], str) else "") \
            == "|".join(miss)
    due = s["review_date"] + pd.Timedelta(days=R.SUPPLIER_REREVIEW_DAYS)
    assert (s["re_review_due_date"] == due).all()
    agr = s["agreement_date"]
    assert (agr.notna() == (out != "rejected")).all()
    assert (agr.dropna() > s.loc[agr.notna(), "review_date"]).all()


def test_enterprise_filing_flow(world):
    s = world.suppliers.set_index("supplier_id")
    e = world.enterprise_filings
    assert set(e["supplier_id"]) == set(s.index[s["agreement_date"].notna()])
    assert (e.groupby("supplier_id")["agency"].nunique() == 2).all()
    assert (e["application_date"] >= s.loc[e["supplier_id"], "agreement_date"].to_numpy()).all()
    # the filing number arrives the same day the application is e-mailed (§1.4)
    assert (e["filing_number_received_date"] == e["application_date"]).all()
    passed = e["onsite_review_result"] == "passed"
    assert (e.loc[passed, "approval_date"] == e.loc[passed, "onsite_review_date"]).all()
    assert e.loc[~passed, "approval_date"].isna().all()
    assert ((e["status"] == "approved") == passed).all()
    assert (e.loc[e["onsite_review_result"] == "pending", "status"] == "under_review").all()
    assert (e["onsite_review_date"].dropna() > e.loc[e["onsite_review_date"].notna(),
                                                      "application_date"]).all()
    integ = e["integration_completed_date"].notna()
    own = s.loc[e["supplier_id"], "own_mall"].to_numpy()
    assert (~integ | ((e["agency"] == "customs") & passed & own)).all()


# ---- product filings: T_product errors ------------------------------------------------------

def _goods_of_name() -> dict[str, dict]:
    return {n: g for g in imp.IMPORT_GOODS for n in g["names"]}


def _filing_problems(w) -> pd.DataFrame:
    """Every check of the preliminary logic check, computed independently of the labels."""
    p = w.product_filings
    hs = w.hs_codes.set_index("hs_code")
    goods = _goods_of_name()
    true_hs = p["goods_name_cn"].map(lambda n: goods[n]["hs"])
    true_cat = hs.loc[true_hs, "category"].astype(str).to_numpy()
    valid = R.hs10_valid(p["hs_code"], w.hs_codes["hs6"])
    code_cat = hs["category"].astype(str).reindex(p["hs_code"]).to_numpy()
    code_unit = hs["unit_cn"].reindex(p["hs_code"]).to_numpy()
    base = p["goods_name_cn"].map(lambda n: goods[n]["price"] * 0.6).to_numpy()
    ratio = p["declared_unit_price"].to_numpy() * p["fx_rate_cny"].to_numpy() / base
    return pd.DataFrame({
        "invalid_hs_code": ~valid,
        "hs_mismatch": valid & (code_cat != true_cat),
        "missing_field": p[list(imp.MISSING_FIELDS)].isna().any(axis=1).to_numpy(),
        "unit_mismatch": valid & (p["declaration_unit"].to_numpy() != code_unit),
        "price_outlier": (ratio > 4) | (ratio < 0.25),
    }, index=p["filing_id"])


def test_product_filing_labels_are_exactly_the_errors(world):
    probs = _filing_problems(world)
    lab = _labels(world, "product_filings")
    assert lab["entity_id"].is_unique
    kinds = lab.set_index("entity_id")["kind"].str.removeprefix("filing_")
    assert set(kinds) == set(imp.FILING_ERRORS)  # every kind planted
    for fid, kind in kinds.items():
        assert probs.loc[fid, kind], (fid, kind)
    clean = probs.drop(index=kinds.index)
    assert not clean.any(axis=None), clean[clean.any(axis=1)]


def test_product_filing_fields_and_status(world):
    p = world.product_filings
    hs = world.hs_codes.set_index("hs_code")
    lab = set(_labels(world, "product_filings")["entity_id"])
    ok = ~p["filing_id"].isin(lab)
    cp = p[ok & R.hs10_valid(p["hs_code"], world.hs_codes["hs6"])]
    for col, ref in (("vat_rate", "vat_rate"), ("consumption_tax_rate", "consumption_tax_rate")):
        assert (cp[col].to_numpy() == hs.loc[cp["hs_code"], ref].to_numpy()).all()
    kg = cp["hs_code"].str[:2].isin(imp.KG_CHAPTERS)
    assert (cp["legal_unit"] == np.where(kg, "千克", hs.loc[cp["hs_code"], "unit_cn"])).all()
    assert (cp.loc[cp["legal_unit"] != "千克", "legal_quantity"] == 1).all()
    assert np.allclose(p["cbec_tax_rate"], R.cbec_effective_tax_rate(
        p["vat_rate"], p["consumption_tax_rate"]), atol=1e-6)
    assert set(p["postal_tax_rate"]) <= set(R.POSTAL_ARTICLE_TAX_RATES)
    # approved records are clean and numbered; rejected ones are labelled and give a reason
    appr = p["status"] == "approved"
    assert not p.loc[appr, "filing_id"].isin(lab).any()
    assert p.loc[appr, ["customs_record_no", "ciq_record_no", "reviewed_date"]].notna().all(
        axis=None)
    rej = p["status"] == "rejected"
    assert p.loc[rej, "filing_id"].isin(lab).all() and p.loc[rej, "reject_reason"].notna().all()
    assert p.loc[~rej, "reject_reason"].isna().all()
    sub = p["status"] == "submitted"
    assert p.loc[sub, ["reviewed_date", "customs_record_no"]].isna().all(axis=None)
    assert p.loc[sub, "filing_id"].isin(lab).any() and not p.loc[sub, "filing_id"].isin(
        lab).all()
    agr = world.suppliers.set_index("supplier_id")["agreement_date"]
    assert (p["submitted_date"] > agr.loc[p["supplier_id"]].to_numpy()).all()


# ---- buyers, orders, tax --------------------------------------------------------------------

def test_buyers_have_well_formed_fake_ids(world):
    b = world.import_buyers
    assert R.id_number_valid(b["id_number"]).all()
    assert b["id_number"].str[:6].isin([a[0] for a in imp.AREAS]).all()
    born = pd.to_datetime(b["id_number"].str[6:14], format="%Y%m%d")
    assert (born <= pd.Timestamp(world.meta["start"]) - pd.DateOffset(years=18)).all()
    assert b["name"].str.fullmatch(r"[\u4e00-\u9fff]{2,4}").all()
    assert b["phone"].str.fullmatch(r"1\d{10}").all()


def test_orders_only_sell_approved_filings_after_go_live(world):
    o = world.import_orders.set_index("order_id")
    ln = world.import_order_lines
    p = world.product_filings.set_index("filing_id")
    f = p.loc[ln["filing_id"].astype(str)]
    assert (f["status"] == "approved").all()
    assert (f["supplier_id"].to_numpy() == o.loc[ln["order_id"], "supplier_id"].astype(str)
            .to_numpy()).all()
    assert (f["hs_code"].to_numpy() == ln["hs_code"].astype(str).to_numpy()).all()
    local_day = (o["created_at"].dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
                 .dt.normalize())
    assert (f["reviewed_date"].to_numpy() < local_day.loc[ln["order_id"]].to_numpy()).all()
    e = world.enterprise_filings
    ready = e.groupby("supplier_id")["approval_date"].max()
    assert (ready.loc[o["supplier_id"].astype(str)].to_numpy() < local_day.to_numpy()).all()
    assert e.groupby("supplier_id")["status"].apply(lambda s: (s == "approved").all()).loc[
        o["supplier_id"].astype(str).unique()].all()
    assert (o["order_year"] == local_day.dt.year).all()
    mode = world.suppliers.set_index("supplier_id").loc[o["supplier_id"].astype(str),
                                                        "channel_mode"]
    assert (mode.astype(str).to_numpy() == o["channel_mode"].astype(str).to_numpy()).all()


def test_taxes_and_amounts_recompute_from_the_rules(world):
    o = world.import_orders
    ln = world.import_order_lines
    oi = pd.Index(o["order_id"]).get_indexer(ln["order_id"])
    assert (R.round_cents(ln["unit_price"] * ln["quantity"]) == ln["line_value"]).all()
    dut = R.allocate_dutiable_value(ln["line_value"], oi, o["freight"] + o["insurance"])
    assert (dut == ln["dutiable_value"]).all()
    gt = o["general_trade"].to_numpy()[oi]
    tax = R.cross_border_import_tax(ln["dutiable_value"], ln["vat_rate"],
                                    ln["consumption_tax_rate"], ln["tariff_rate"], gt)
    for col, key in (("tariff", "tariff"), ("consumption_tax", "consumption_tax"),
                     ("vat", "vat"), ("tax_total", "total")):
        assert (ln[col].to_numpy() == tax[key]).all(), col
        per_order = np.bincount(oi, R.to_cents(ln[col]), minlength=len(o))
        assert (per_order == R.to_cents(o[col])).all(), col
    assert (o["tax_factor"] == np.where(o["general_trade"], 1.0, 0.7)).all()
    cents = R.to_cents
    assert (cents(o["goods_value"]) == np.bincount(oi, cents(ln["line_value"]))).all()
    assert (cents(o["dutiable_value"]) == cents(o["goods_value"]) + cents(o["freight"])
            + cents(o["insurance"])).all()
    assert (cents(o["amount_paid"]) == cents(o["dutiable_value"]) + cents(o["tax_total"])).all()
    assert (o.loc[~o["general_trade"], "tariff"] == 0).all()
    postal = R.postal_article_tax(ln["line_value"], world.product_filings.set_index(
        "filing_id").loc[ln["filing_id"].astype(str), "postal_tax_rate"], oi, len(o))
    assert (postal == o["postal_tax_alt"]).all()


def test_limits_recompute_and_bite_for_a_few_buyers(world):
    o = world.import_orders
    lim = R.cbec_limit_check(o["buyer_id"], o["order_year"], o["dutiable_value"])
    for k in ("annual_total_before", "annual_total_after", "over_single_limit",
              "over_annual_limit", "general_trade"):
        assert (o[k].to_numpy() == lim[k]).all(), k
    assert o["over_single_limit"].any() and o["over_annual_limit"].any()
    over_buyers = o.loc[o["over_annual_limit"], "buyer_id"].nunique()
    assert over_buyers <= max(5, 0.05 * o["buyer_id"].nunique())
    # once a buyer crosses the annual limit, every later order that year is over it too
    first = o[o["over_annual_limit"]].groupby(["buyer_id", "order_year"])["created_at"].min()
    later = o.join(first.rename("crossed"), on=["buyer_id", "order_year"])
    assert later.loc[later["created_at"] >= later["crossed"], "over_annual_limit"].all()


# ---- customs messages (三单对碰) -------------------------------------------------------------

def test_message_mismatch_labels_are_exactly_the_disagreements(world):
    m = world.customs_messages
    lab = _labels(world, "customs_messages")
    gone = set(lab.loc[lab["kind"].str.startswith("customs_missing_"), "entity_id"])
    lab = lab[~lab["entity_id"].isin(gone)]
    found = R.customs_message_mismatches(m[~m["order_id"].isin(gone)])
    assert set(lab["kind"].str.removeprefix("customs_mismatch_")) == set(imp.MISMATCH_CHECKS)
    assert lab["entity_id"].is_unique
    assert 0.01 <= len(lab) / len(world.import_orders) <= 0.03
    got = set(zip(found["order_id"], found["check"], strict=True))
    want = set(zip(lab["entity_id"], lab["kind"].str.removeprefix("customs_mismatch_"),
                   strict=True))
    assert got == want
    # the detail names the pair and both values, as read from the messages
    for _, r in found.iterrows():
        d = lab.loc[lab["entity_id"] == r["order_id"], "detail"].iloc[0]
        assert r["message_a"] in d and r["message_b"] in d


def test_messages_carry_the_order_values(world):
    m = world.customs_messages
    o = world.import_orders.set_index("order_id")
    bad = set(_labels(world, "customs_messages")["entity_id"])
    m311 = m[m["message_type"] == "CEB311"].set_index("order_id")
    for col in ("goods_value", "freight", "amount_paid"):
        assert (m311[col] == o.loc[m311.index, col]).all(), col
    assert (m311["tax"] == o.loc[m311.index, "tax_total"]).all()
    buyers = world.import_buyers.set_index("buyer_id")
    assert (m311["buyer_id_number"].to_numpy()
            == buyers.loc[o.loc[m311.index, "buyer_id"], "id_number"].to_numpy()).all()
    m511 = m[(m["message_type"] == "CEB511") & ~m["order_id"].isin(bad)].set_index("order_id")
    assert (m511["waybill_no"] == o.loc[m511.index, "waybill_no"]).all()
    # which fields each message type carries
    for col, types in imp._CARRY.items():
        carried = m["message_type"].isin([imp.MESSAGE_TYPES[t] for t in types])
        assert m.loc[carried, col].notna().all() and m.loc[~carried, col].isna().all(), col
    # the inventory list comes after the order, payment and waybill messages
    t = m.pivot(index="order_id", columns="message_type", values="sent_at").dropna()
    assert (t["CEB621"] > t[["CEB311", "CEB411", "CEB511"]].max(axis=1)).all()
    assert (t["CEB311"] > o.loc[t.index, "paid_at"]).all()


def test_missing_messages_are_labelled_and_are_payment_or_waybill(world):
    m = world.customs_messages
    lab = _labels(world, "customs_messages")
    lab = lab[lab["kind"].str.startswith("customs_missing_")]
    assert set(lab["kind"]) == {"customs_missing_payment", "customs_missing_waybill"}
    assert lab["entity_id"].is_unique
    n_types = m.groupby("order_id", observed=True)["message_type"].nunique()
    assert (m.groupby("order_id", observed=True).size() == n_types).all()  # no duplicates
    short = set(n_types.index[n_types < 4])
    assert short == set(lab["entity_id"])
    assert set(m["order_id"]) == set(world.import_orders["order_id"])
    # the detail names the missing type, and that type is the one absent
    have = m.groupby("order_id", observed=True)["message_type"].agg(
        lambda x: set(x.astype(str)))
    for _, r in lab.iterrows():
        absent = set(imp.MESSAGE_TYPES) - have[r["entity_id"]]
        assert len(absent) == 1 and next(iter(absent)) in r["detail"]
        assert absent <= set(imp.MISSING_TYPES)
    # the comparison reports these orders as disagreeing too (a missing message never agrees)
    assert short <= set(R.customs_message_mismatches(m)["order_id"])


def test_import_orders_span_a_new_year_and_some_buyers_only_cross_it(world):
    o = world.import_orders
    start = pd.Timestamp(world.meta["start"])
    assert o["order_year"].nunique() >= 2
    local = o["created_at"].dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    assert local.min() >= start - pd.Timedelta(days=R.IMPORT_HISTORY_DAYS)
    per_year = o.groupby(["buyer_id", "order_year"])["dutiable_value"].sum()
    total = o.groupby("buyer_id")["dutiable_value"].sum()
    over_year = set(per_year[per_year > R.CBEC_ANNUAL_LIMIT_CNY].index.get_level_values(0))
    over_sum = set(total[total > R.CBEC_ANNUAL_LIMIT_CNY].index)
    assert over_sum - over_year  # adding up the two years would wrongly flag them
    single = set(o.loc[o["dutiable_value"] > R.CBEC_SINGLE_LIMIT_CNY, "buyer_id"])
    assert single - over_year  # above the single limit once is not above the annual one
    # the limit check restarts each calendar year
    first = o.groupby(["buyer_id", "order_year"]).head(1)
    assert (first["annual_total_before"] == 0).all()


def test_import_window_always_holds_a_new_year():
    for start, months in (("2025-01-01", 1), ("2025-06-01", 2), ("2025-12-01", 1),
                          ("2024-03-01", 60)):
        s = pd.Timestamp(start)
        e = s + pd.DateOffset(months=months) - pd.Timedelta(days=1)
        sd, ed = s.value // imp.NS_PER_DAY, e.value // imp.NS_PER_DAY - 3
        first, new_year = imp._import_window(sd, ed)
        assert first <= sd - R.IMPORT_HISTORY_DAYS
        assert first < new_year <= ed
        assert pd.Timestamp(new_year * imp.NS_PER_DAY).strftime("%m-%d") == "01-01"
