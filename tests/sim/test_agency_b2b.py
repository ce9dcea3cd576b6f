"""B2B agency providers (``agency_providers.store_model == 'B2B'``) and ``agency_b2b_kpis``.

Checked on the shared ``small_world`` / ``small_world_b`` fixtures (the real pipeline): the
monthly report recomputes from the store's inquiries, RFQs and contracts, and the planted
overstated reply rates are exactly the labelled months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbec_sim import rules as R
from cbec_sim.catalog import catalog
from cbec_sim.schema import REGISTRY, validate_references, validate_table
from cbec_sim.tables import backoffice as bo


@pytest.fixture(scope="module", params=["a", "b"])
def world(request, small_world, small_world_b):
    return small_world if request.param == "a" else small_world_b


def _month(ts: pd.Series) -> pd.Series:
    return ts.dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()


def test_tables_match_schemas_and_b2b_stores_have_providers(world):
    for name in ("agency_providers", "agency_b2b_kpis"):
        assert validate_table(world.tables[name], REGISTRY[name]) == [], name
    assert validate_references(dict(world.tables)) == []
    p = world.agency_providers
    assert p["provider_id"].is_unique and p["store_id"].is_unique
    model = world.stores.set_index("store_id").loc[p["store_id"], "model"].astype(str)
    assert (model.to_numpy() == p["store_model"].astype(str).to_numpy()).all()
    b2b = p[p["store_model"] == "B2B"]
    assert len(b2b) >= 1
    assert set(world.agency_b2b_kpis["provider_id"]) == set(b2b["provider_id"])
    assert set(world.agency_kpis["provider_id"]) <= set(p.loc[p["store_model"] == "B2C",
                                                              "provider_id"])
    for s in b2b["services"]:
        assert set(s.split("|")) <= set(bo.B2B_SERVICES)


def test_monthly_report_recomputes_from_the_b2b_tables(world):
    k = world.agency_b2b_kpis
    prov = world.agency_providers.set_index("provider_id")
    inq = world.inquiries.assign(month=lambda d: _month(d["received_at"]))
    inq["in_24h"] = R.replied_within(inq["received_at"], inq["first_reply_at"])
    rfq = world.rfqs.assign(month=lambda d: _month(d["posted_at"]))
    con = world.contracts.assign(month=lambda d: _month(d["signed_at"]))
    usd = float(catalog().fx["cny"]["USD"])
    for r in k.itertuples(index=False):
        i = inq[(inq["store_id"] == r.store_id) & (inq["month"] == r.month)
                & ~inq["flagged_spam"]]
        assert r.inquiries == len(i) and r.replied_24h == int(i["in_24h"].sum())
        q = rfq[(rfq["store_id"] == r.store_id) & (rfq["month"] == r.month)]
        assert r.rfqs_seen == len(q) and r.rfqs_quoted == int(q["quoted_at"].notna().sum())
        c = con[(con["store_id"] == r.store_id) & (con["month"] == r.month)]
        assert r.contracts == len(c)
        assert r.contract_value_usd == pytest.approx(c["total_usd"].sum(), abs=0.005)
        assert r.contract_value_cny == R.round_cents(r.contract_value_usd * usd)
        fee = prov.loc[r.provider_id, "monthly_retainer_cny"] + prov.loc[
            r.provider_id, "commission_pct"] * r.contract_value_cny
        assert r.fee_invoiced_cny == R.round_cents(fee)


def test_overstated_reports_are_exactly_the_labelled_months(world):
    k = world.agency_b2b_kpis
    actual = k["replied_24h"] / k["inquiries"].where(k["inquiries"] > 0)
    diff = k["reported_reply_rate_24h"] - actual.round(4)
    over = k.loc[diff > 0.05, ["provider_id", "month"]]
    assert (diff.dropna().abs() < 1e-9).sum() + len(over) == diff.notna().sum()
    a = world.labels["anomalies"]
    lab = a[a["kind"] == "agency_report_overstated"]
    assert set(zip(lab["entity_id"], lab["start"], strict=True)) == set(
        zip(over["provider_id"], over["month"], strict=True))
    assert 1 <= len(lab) <= bo.B2B_OVERSTATED_MONTHS * len(k["provider_id"].unique())
    assert (k["reported_reply_rate_24h"].isna() == (k["inquiries"] == 0)).all()
    assert np.all((diff[diff > 0.05]) >= 0.08 - 1e-4)
