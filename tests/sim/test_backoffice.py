"""Back-office stage: order procedure, refund approvals, reconciliation, agency providers.

Runs on the shared ``small_world`` / ``small_world_b`` fixtures; lateness and mismatches are
recomputed here with :mod:`cbec_sim.rules`, so every planted label is checked against the
data and unlabelled rows are checked clean.
"""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pandas as pd
import pytest

from cbec_sim import rules
from cbec_sim.context import Context
from cbec_sim.schema import REGISTRY, conform, validate_references, validate_table
from cbec_sim.tables import backoffice

TABLES = ("backoffice_staff", "order_processing", "refund_requests", "reconciliation",
          "agency_providers", "agency_kpis")
STEPS = ("customer_identified_at", "dms_order_created_at", "delivery_note_at",
         "invoice_issued_at", "handed_to_logistics_at")
TZ = rules.BACKOFFICE_TZ


@pytest.fixture(scope="module", params=["a", "b"])
def w(request, small_world, small_world_b):
    return small_world if request.param == "a" else small_world_b


def _labels(w, kind: str) -> pd.DataFrame:
    lab = w.labels["anomalies"]
    return lab[lab["kind"] == kind]


def _local(s: pd.Series) -> pd.Series:
    return s.dt.tz_convert(TZ).dt.tz_localize(None)


def _snapshot(w) -> pd.Timestamp:
    start = pd.Timestamp(w.meta["start"])
    return (start + pd.DateOffset(months=w.meta["months"])).tz_localize("UTC")


# ---- schema ------------------------------------------------------------------------------


def test_tables_match_their_specs(w):
    for name in TABLES:
        assert len(w.tables[name]), name
        assert validate_table(w.tables[name], REGISTRY[name]) == [], name
    parents = ("orders", "stores", "returns", "warehouses")
    assert validate_references({t: w.tables[t] for t in (*TABLES, *parents)}) == []


# ---- order processing --------------------------------------------------------------------


@pytest.fixture(scope="module")
def proc(w):
    op = w.order_processing
    o = w.orders.set_index("order_id").loc[op["order_id"]]
    return op.reset_index(drop=True), o.reset_index()


def test_procedure_covers_one_business_unit(w, proc):
    op, o = proc
    stores = w.stores.set_index("store_id").loc[op["store_id"].unique()]
    assert (stores["fulfilment"].astype(str) == "merchant").all()
    assert (stores["model"].astype(str) == "B2C").all()
    assert stores["brand"].nunique() == 1
    brand_stores = w.stores.loc[(w.stores["brand"] == stores["brand"].iloc[0])
                                & (w.stores["fulfilment"].astype(str) == "merchant"),
                                "store_id"]
    expect = w.orders[w.orders["store_id"].isin(brand_stores) & w.orders["paid_at"].notna()
                      & w.orders["cancelled_at"].isna()]
    assert set(op["order_id"]) == set(expect["order_id"])
    assert (op["store_id"].to_numpy() == o["store_id"].to_numpy()).all()


def test_steps_follow_each_other_and_the_pickup(proc):
    op, o = proc
    chain = [o["paid_at"], *(op[c] for c in STEPS)]
    for a, b in itertools.pairwise(chain):
        both = a.notna() & b.notna()
        assert (b[both] >= a[both]).all()
        assert not (a.isna() & b.notna()).any()  # no step without the one before
    shipped = o["shipped_at"]
    assert (op["handed_to_logistics_at"].notna() == shipped.notna()).all()
    assert (op["handed_to_logistics_at"][shipped.notna()] < shipped[shipped.notna()]).all()
    sent = op["logistics_info_sent_at"]
    assert not (sent.notna() & shipped.isna()).any()
    assert (sent[sent.notna()] > shipped[sent.notna()]).all()


def test_steps_fall_in_office_hours(proc, w):
    op, _ = proc
    for c in STEPS:
        t = _local(op[c].dropna())
        hour = t.dt.hour + t.dt.minute / 60 + t.dt.second / 3600
        assert (t.dt.day_of_week <= 5).all(), c  # Monday–Saturday
        assert ((hour >= rules.BACKOFFICE_OPEN_HOUR)
                & (hour <= rules.BACKOFFICE_CLOSE_HOUR)).all(), c
    snap = _snapshot(w)
    for c in (*STEPS, "logistics_info_sent_at"):
        assert (op[c].dropna() < snap).all()


def _lateness(op: pd.DataFrame, o: pd.DataFrame) -> dict[str, np.ndarray]:
    paid = _local(o["paid_at"]).to_numpy()
    dl = rules.order_procedure_deadlines(paid)
    step = {c: _local(op[c]).to_numpy() for c in (*STEPS, "logistics_info_sent_at")}
    ship = _local(o["shipped_at"]).to_numpy()
    return {
        "identify": step["customer_identified_at"] > dl["identify_by"],
        "dms": step["dms_order_created_at"] > dl["dms_by"],
        "delivery_note": step["delivery_note_at"] > np.minimum(dl["delivery_note_by"],
                                                              dl["batch_by"]),
        "invoice": step["invoice_issued_at"] > dl["invoice_by"],
        "handover": step["handed_to_logistics_at"] > dl["handover_by"],
        "report": step["logistics_info_sent_at"] > rules.logistics_report_deadline(ship),
    }


def test_a_realistic_share_is_late(proc):
    late = _lateness(*proc)
    for step, v in late.items():
        assert 0.003 < v.mean() < 0.2, (step, v.mean())


def test_planted_sla_breach_is_present_and_alone(w, proc):
    op, o = proc
    lab = _labels(w, "processing_sla_breach")
    assert len(lab) == 1
    row = lab.iloc[0]
    late = _lateness(op, o)["identify"]
    day = _local(o["paid_at"]).dt.normalize()
    rep = op["sales_rep_id"].astype(str)
    planted = (rep == row["entity_id"]) & (day >= row["start"]) & (day <= row["end"])
    assert planted.sum() >= 5 and late[planted.to_numpy()].mean() > 0.7
    df = pd.DataFrame({"rep": rep, "week": day.dt.to_period("W"), "late": late})[~planted]
    g = df.groupby(["rep", "week"])["late"].agg(["size", "mean"])
    assert (g.loc[g["size"] >= 10, "mean"] < 0.5).all()


def test_planted_late_logistics_report_is_present_and_alone(w, proc):
    op, o = proc
    lab = _labels(w, "late_logistics_report")
    assert len(lab) == 1
    row = lab.iloc[0]
    sent = op["logistics_info_sent_at"].notna()
    ship_day = _local(o["shipped_at"]).dt.normalize()[sent]
    late = _lateness(op, o)["report"][sent.to_numpy()]
    # one report per warehouse clerk and ship day: all its orders share the time
    rep = pd.DataFrame({"clerk": op["warehouse_clerk_id"].astype(str)[sent], "day": ship_day,
                        "at": op["logistics_info_sent_at"][sent], "late": late})
    assert (rep.groupby(["clerk", "day"])["at"].nunique() == 1).all()
    days = rep.drop_duplicates(["clerk", "day"])
    planted = ((days["clerk"] == row["entity_id"]) & (days["day"] >= row["start"])
               & (days["day"] <= row["end"]))
    assert planted.sum() >= 3 and days.loc[planted, "late"].all()
    weekly = days[~planted].groupby(["clerk", days["day"].dt.to_period("W")])["late"].sum()
    assert (weekly <= 3).all()


# ---- refund requests ---------------------------------------------------------------------


def test_refund_amounts_and_links(w):
    rr = w.refund_requests
    ret = rr[rr["return_id"].notna()]
    assert (ret["source"].astype(str) == "return").all()
    assert (rr.loc[rr["return_id"].isna(), "source"].astype(str) != "return").all()
    assert ret["return_id"].is_unique
    r = w.returns.set_index("return_id").loc[ret["return_id"]]
    assert r["status"].astype(str).isin(["approved", "refunded"]).all()
    assert (ret["refund_amount_cny"].to_numpy() == r["refund_amount_cny"].to_numpy()).all()
    assert (ret["requested_at"].to_numpy() >= r["decided_at"].to_numpy()).all()
    paid = ret["refunded_at"].notna().to_numpy()
    assert (ret["refunded_at"].to_numpy()[paid] == r["refunded_at"].to_numpy()[paid]).all()
    whole = rr[rr["return_id"].isna()]  # one whole-order refund per order, never a return too
    assert whole["order_id"].is_unique and not whole["order_id"].isin(ret["order_id"]).any()
    o = w.orders.set_index("order_id").loc[whole["order_id"]]
    assert (whole["refund_amount"].to_numpy() == o["order_total"].to_numpy()).all()
    assert (whole["refund_amount_cny"].to_numpy() == o["order_total_cny"].to_numpy()).all()
    lost = whole["source"].astype(str).isin(["lost_parcel", "undeliverable"]).to_numpy()
    assert np.isin(o["status"].astype(str).to_numpy()[lost], ["lost", "returned"]).all()
    assert o["delivered_at"].isna().to_numpy()[lost].all()
    canc = (whole["source"].astype(str) == "cancelled_after_payment").to_numpy()
    assert o["cancelled_at"].notna().to_numpy()[canc].all()


def test_refund_workflow_and_planted_violations(w):
    rr = w.refund_requests
    req = rules.refund_approver(rr["refund_amount_cny"].to_numpy())
    assert (rr["required_approver"].astype(str).to_numpy() == req).all()
    decided = rr["decided_at"].notna()
    assert (rr["approver_role"].notna() == decided).all()
    assert (rr["status"].astype(str) == np.where(
        ~decided, "pending", np.where(rr["refunded_at"].isna(), "approved", "refunded"))).all()
    assert (rr.loc[decided, "decided_at"] >= rr.loc[decided, "requested_at"]).all()
    staff = w.backoffice_staff.set_index("staff_id")
    role = staff.loc[rr.loc[decided, "approver_id"].astype(str), "role"].astype(str)
    assert (role.to_numpy() == rr.loc[decided, "approver_role"].astype(str).to_numpy()).all()
    # store managers approve their own store's refunds, except the labelled wrong approvals
    sm = decided & (rr["approver_role"].astype(str) == "store_manager")
    own = staff.loc[rr.loc[sm, "approver_id"].astype(str), "store_id"].to_numpy()
    other = rr.loc[sm, "refund_request_id"][own != rr.loc[sm, "store_id"].to_numpy()]
    labelled = set(_labels(w, "refund_wrong_approver")["entity_id"])
    assert len(labelled) >= 2 and set(other) == labelled
    # routing violations: exactly the labelled ones
    wrong = decided & (rr["approver_role"].astype(str) != rr["required_approver"].astype(str))
    assert set(rr.loc[wrong, "refund_request_id"]) == set(
        _labels(w, "refund_routing_violation")["entity_id"])
    gm = decided & (rr["required_approver"].astype(str) == "general_manager")
    if gm.sum() >= 2:
        assert wrong.any() and not wrong[gm].all()
    # refunds paid before the approval: exactly the labelled ones
    early = rr["refunded_at"].notna() & (rr["refunded_at"] < rr["decided_at"])
    labelled = set(_labels(w, "refund_before_approval")["entity_id"])
    assert len(labelled) >= 2 and set(rr.loc[early, "refund_request_id"]) == labelled


# ---- reconciliation ----------------------------------------------------------------------


def test_ledger_recomputes_except_planted_mismatches(w):
    rc = w.reconciliation
    o = w.orders[w.orders["shipped_at"].notna()]
    day = _local(o["shipped_at"]).dt.normalize()
    end = pd.Series(rules.hq_settlement_period_end(day.to_numpy()), index=o.index)
    keep = day >= rc["period_start"].min()
    led = pd.DataFrame({"store_id": o["store_id"], "period_end": end, "n": 1,
                        "cents": rules.to_cents(o["order_total"].to_numpy()),
                        "cents_cny": rules.to_cents(o["order_total_cny"].to_numpy())})[keep]
    led = led.groupby(["store_id", "period_end"]).sum()
    rr = w.refund_requests[w.refund_requests["refunded_at"].notna()]
    rday = _local(rr["refunded_at"]).dt.normalize()
    ref = pd.DataFrame({"store_id": rr["store_id"], "rows": rday >= rc["period_start"].min(),
                        "period_end": rules.hq_settlement_period_end(rday.to_numpy()),
                        "cents": rules.to_cents(rr["refund_amount"].to_numpy())})
    ref = ref[ref["rows"]].groupby(["store_id", "period_end"])["cents"].sum()
    key = pd.MultiIndex.from_frame(rc[["store_id", "period_end"]])
    exp_n = led["n"].reindex(key, fill_value=0).to_numpy()
    exp_sales = led["cents"].reindex(key, fill_value=0).to_numpy()
    exp_cny = led["cents_cny"].reindex(key, fill_value=0).to_numpy()
    exp_ref = ref.reindex(key, fill_value=0).to_numpy()
    bad = ((rc["ledger_orders"].to_numpy() != exp_n)
           | (rules.to_cents(rc["ledger_sales"].to_numpy()) != exp_sales)
           | (rules.to_cents(rc["ledger_sales_cny"].to_numpy()) != exp_cny)
           | (rules.to_cents(rc["ledger_refunds"].to_numpy()) != exp_ref))
    labelled = set(_labels(w, "reconciliation_mismatch")["entity_id"])
    assert len(labelled) >= 2 and set(rc.loc[bad, "recon_id"]) == labelled


def test_reconciliation_periods_and_statements(w):
    rc = w.reconciliation
    assert (rc["period_end"].dt.day == rules.HQ_SETTLEMENT_DAY).all()
    assert (rc["period_start"] <= rc["period_end"]).all()
    for _, g in rc.groupby("store_id"):
        g = g.sort_values("period_start")
        assert (g["period_start"].iloc[1:].to_numpy()
                == (g["period_end"].iloc[:-1] + pd.Timedelta(days=1)).to_numpy()).all()
    sent = _local(rc["statement_sent_at"]).dt.normalize()
    due = rules.next_working_day(rc["period_end"].to_numpy())
    assert (sent.to_numpy() >= due).all()
    assert ((sent.to_numpy() == due).mean()) > 0.7  # most on time, some late
    assert (rc["hq_confirmed_at"].dropna() > rc.loc[rc["hq_confirmed_at"].notna(),
                                                      "statement_sent_at"]).all()


# ---- agency providers --------------------------------------------------------------------


def test_agency_kpis_tie_to_orders_and_fees(w):
    pv = w.agency_providers.set_index("provider_id")
    k = w.agency_kpis
    assert pv["store_id"].is_unique
    o = w.orders[w.orders["cancelled_at"].isna()]
    month = o["created_at"].dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()
    sales = pd.DataFrame({"store_id": o["store_id"], "month": month,
                          "cents": rules.to_cents(o["order_total_cny"].to_numpy())}
                         ).groupby(["store_id", "month"])["cents"].agg(["sum", "size"])
    key = pd.MultiIndex.from_frame(k[["store_id", "month"]])
    assert (rules.to_cents(k["sales_cny"].to_numpy())
            == sales["sum"].reindex(key, fill_value=0).to_numpy()).all()
    assert (k["orders"].to_numpy() == sales["size"].reindex(key, fill_value=0).to_numpy()).all()
    p = pv.loc[k["provider_id"]]
    fee = rules.round_cents(p["monthly_retainer_cny"].to_numpy()
                            + p["commission_pct"].to_numpy() * k["sales_cny"].to_numpy())
    assert (fee == k["fee_invoiced_cny"].to_numpy()).all()
    assert (k["month"] >= p["contract_start"].dt.to_period("M").dt.to_timestamp().to_numpy()
            ).all() and (k["month"].to_numpy() <= p["contract_end"].to_numpy()).all()
    no_ad = ~p["services"].str.contains("advertising").to_numpy()
    assert k.loc[no_ad, "ad_spend_cny"].isna().all()
    assert k.loc[~no_ad, "ad_spend_cny"].notna().all()
    assert set(pv.index[~pv["confidentiality_agreement"]]) == set(
        _labels(w, "missing_confidentiality_agreement")["entity_id"])


def _score(k: pd.DataFrame) -> pd.Series:
    """A simple KPI score with the invented weights (trend checks only)."""
    ach = (k["sales_cny"] / k["sales_target_cny"]).clip(0, 1.2) / 1.2 * 100
    scores = {"sales_achievement": ach,
              "customer_satisfaction": (k["csat_score"] - 1) / 4 * 100,
              "response_time": (100 - k["avg_response_minutes"]).clip(0, 100),
              "budget_use": (200 - 100 * (k["ad_spend_cny"] + k["operating_cost_cny"])
                             / (k["ad_budget_cny"] + k["operating_budget_cny"])).clip(0, 100)}
    return pd.Series(rules.weighted_kpi_score(scores), index=k.index)


def test_deteriorating_and_improving_providers(w):
    k = w.agency_kpis.sort_values(["provider_id", "month"]).copy()
    k["score"] = _score(k)
    for kind, sign in (("agency_deteriorating", -1), ("agency_improving", 1)):
        lab = _labels(w, kind)
        assert len(lab) == 1
        pid, start = lab["entity_id"].iloc[0], lab["start"].iloc[0]
        s = k[k["provider_id"] == pid].set_index("month")["score"]
        before, after = s[s.index < start].tail(3).mean(), s[s.index >= start].tail(3).mean()
        assert sign * (after - before) > 8, (kind, before, after)


# ---- rules and determinism ---------------------------------------------------------------


def test_office_clock_rules():
    t = np.array(["2025-03-03T07:00", "2025-03-03T14:50", "2025-03-03T17:25",
                  "2025-03-08T18:00", "2025-03-09T12:00"], dtype="datetime64[ns]")  # Mon … Sun
    d = rules.order_procedure_deadlines(t)
    assert d["clock_start"].astype(str).tolist()[::2] == [
        "2025-03-03T08:30:00.000000000", "2025-03-03T17:25:00.000000000",
        "2025-03-10T08:30:00.000000000"]
    assert str(d["identify_by"][2]) == "2025-03-04T08:40:00.000000000"  # 5 + 10 minutes
    assert str(d["batch_by"][1]) == "2025-03-03T15:00:00.000000000"
    assert str(d["batch_by"][3]) == "2025-03-10T12:00:00.000000000"
    assert str(d["invoice_by"][2]) == "2025-03-04T15:00:00.000000000"
    assert str(rules.logistics_report_deadline(t)[3]) == "2025-03-10T09:00:00.000000000"
    m = rules.office_minutes_between(t, rules.add_office_minutes(t, 75))
    assert np.allclose(m, 75)
    assert rules.hq_settlement_period_end(np.array(["2025-01-25", "2025-01-26"],
                                                   dtype="datetime64[ns]")).astype(str).tolist() \
        == ["2025-01-25T00:00:00.000000000", "2025-02-25T00:00:00.000000000"]


def test_stage_is_deterministic(small_world):
    gen = importlib.import_module("cbec_sim.generate")
    meta = small_world.meta
    ctx: Context = gen._context(meta["n_orders"], meta["markets"], meta["platforms"],
                                meta["start"], meta["months"], meta["seed"])
    ctx.tables = dict(small_world.tables)
    out = backoffice.build(ctx)
    for name in TABLES:
        pd.testing.assert_frame_equal(conform(out[name], REGISTRY[name]),
                                      small_world.tables[name])
