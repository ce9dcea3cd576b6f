"""Import customs mode planning: ``import_mode_costs`` and the 9610 vs 1210 rules.

The rules are checked on hand-worked numbers; the table on the shared ``small_world`` /
``small_world_b`` fixtures (the real pipeline) and on a minimal synthetic context.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbec_sim import rules as R
from cbec_sim.catalog import catalog
from cbec_sim.context import Context
from cbec_sim.schema import REGISTRY, validate_references, validate_table
from cbec_sim.tables import imports as imp
from cbec_sim.tables.reference import make_hs_codes


@pytest.fixture(scope="module", params=["a", "b"])
def world(request, small_world, small_world_b):
    return small_world if request.param == "a" else small_world_b


def _ctx(seed: int, n_orders: int = 3000) -> Context:
    start = pd.Timestamp("2025-01-01")
    end = start + pd.DateOffset(months=12) - pd.Timedelta(days=1)
    return Context(n_orders=n_orders, markets=("US",), platforms=("amazon",), start=start,
                   end=end, catalog=catalog(), rngs={"imports": np.random.default_rng(seed)},
                   tables={"hs_codes": make_hs_codes()})


def _choose(t: pd.DataFrame, *, storage: bool = True, lead: bool = True,
            per_unit_freight: bool = False) -> set[str]:
    """Lines that should use 1210, optionally with one of the known slips."""
    freight = t["parcel_freight_9610"] * (t["monthly_units"] / t["monthly_orders"]
                                          if per_unit_freight else 1)
    c = R.import_mode_monthly_cost(t["monthly_orders"], t["monthly_units"], freight,
                                   t["inbound_freight_1210"],
                                   t["avg_stock_units_1210"] * storage, t["storage_1210"],
                                   t["handling_1210"])
    promised = t["promised_days"] if lead else 10**6
    mode = R.import_mode_choice(c["cost_9610"], c["cost_1210"], t["lead_days_9610"],
                                t["lead_days_1210"], promised)
    return set(t.loc[mode == "1210", "filing_id"])


# ---- rules ---------------------------------------------------------------------------------

def test_monthly_cost_by_hand():
    c = R.import_mode_monthly_cost(monthly_orders=[10, 100], monthly_units=[15, 150],
                                   parcel_freight_9610=[45.0, 45.0],
                                   inbound_freight_1210=[6.5, 6.5],
                                   avg_stock_units_1210=[200, 250], storage_1210=[2.2, 2.2],
                                   handling_1210=[12.0, 12.0])
    # 9610: orders × parcel freight; 1210: units × inbound + stock × storage + orders × handling
    assert c["cost_9610"].tolist() == [450.0, 4500.0]
    assert c["cost_1210"].tolist() == [15 * 6.5 + 200 * 2.2 + 10 * 12,
                                       150 * 6.5 + 250 * 2.2 + 100 * 12]
    # money is rounded half-up to the cent per term
    r = R.import_mode_monthly_cost(1, 1, 0.005, 0.005, 1, 0.005, 0.005)
    assert r["cost_9610"][()] == 0.01 and r["cost_1210"][()] == 0.03


def test_choice_respects_the_promise_then_the_cost():
    got = R.import_mode_choice(
        cost_9610=[100, 300, 100, 300, 100, 200],
        cost_1210=[200, 200, 200, 200, 200, 200],
        lead_days_9610=[7, 7, 12, 12, 12, 5],
        lead_days_1210=[2, 2, 2, 2, 9, 2],
        promised_days=[10, 10, 7, 7, 5, 7])
    # cheaper 9610; cheaper 1210; 9610 too slow; both fine → 1210 cheaper… ;
    # neither keeps the promise → the faster; tie → 9610
    assert got.tolist() == ["9610", "1210", "1210", "1210", "1210", "9610"]


# ---- table ---------------------------------------------------------------------------------

def test_table_matches_schema_and_covers_every_approved_filing(world):
    t = world.import_mode_costs
    assert validate_table(t, REGISTRY["import_mode_costs"]) == []
    assert validate_references(dict(world.tables)) == []
    pf = world.product_filings
    assert set(t["filing_id"]) == set(pf.loc[pf["status"] == "approved", "filing_id"])
    p = pf.set_index("filing_id").loc[t["filing_id"]]
    assert (p["supplier_id"].to_numpy() == t["supplier_id"].to_numpy()).all()
    assert (p["goods_name_cn"].to_numpy() == t["goods_name_cn"].to_numpy()).all()
    mode = world.suppliers.set_index("supplier_id").loc[t["supplier_id"], "channel_mode"]
    assert (mode.astype(str).to_numpy() == t["current_mode"].astype(str).to_numpy()).all()


def test_values_are_plausible(world):
    t = world.import_mode_costs
    assert (t["monthly_units"] >= t["monthly_orders"]).all()
    assert (t["lead_days_1210"] < t["lead_days_9610"]).all()
    assert (t["avg_stock_units_1210"] >= t["monthly_units"]).all()  # at least a month's cover
    assert t["parcel_freight_9610"].between(15, 200).all()
    assert (t["inbound_freight_1210"] < t["parcel_freight_9610"]).all()  # bulk is cheaper
    assert set(t["promised_days"]) <= set(imp.PROMISED_DAYS)
    for col in ("parcel_freight_9610", "inbound_freight_1210", "storage_1210",
                "handling_1210"):
        assert (R.round_cents(t[col]) == t[col]).all(), col


def test_both_modes_win_somewhere_and_every_slip_changes_the_answer(world):
    t = world.import_mode_costs
    right = _choose(t)
    assert 0 < len(right) < len(t)
    slips = [_choose(t, storage=False), _choose(t, lead=False),
             _choose(t, per_unit_freight=True)]
    for s in slips:
        assert s != right
    assert len({frozenset(s) for s in slips}) == len(slips)


def test_table_is_deterministic_and_seeded():
    a, b, c = (imp.build(_ctx(seed))["import_mode_costs"] for seed in (5, 5, 6))
    pd.testing.assert_frame_equal(a, b)
    assert not a["monthly_orders"].equals(c["monthly_orders"])
