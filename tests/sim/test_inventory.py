"""Stage ``inventory``: stock ledger, goods receipts, weekly stock-takes and their labels.

Checked on a small synthetic upstream (fast, independent of the other stages) and on the
shared ``small_world`` / ``small_world_b`` fixtures (the real pipeline).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbec_sim.catalog import catalog
from cbec_sim.context import Context
from cbec_sim.schema import REGISTRY, conform, validate_references, validate_table
from cbec_sim.tables import inventory as inv

TABLES = ("inventory", "inbound_receipts", "stock_takes")
PAIR = ["product_id", "warehouse_id"]


def _synthetic_ctx(n_orders: int = 6000, seed: int = 1) -> Context:
    """Upstream tables with just the columns the stage reads."""
    r = np.random.default_rng(seed)
    start, end = pd.Timestamp("2025-01-01"), pd.Timestamp("2025-12-31")
    n_days = (end - start).days + 1
    n_prod = 150
    products = pd.DataFrame({
        "product_id": [f"P{i:05d}" for i in range(1, n_prod + 1)],
        "unit_cost_cny": np.round(r.uniform(5, 200, n_prod), 2),
        "launch_date": start + pd.to_timedelta(r.integers(-300, n_days - 30, n_prod), unit="D"),
    })
    whs = pd.DataFrame({
        "warehouse_id": ["WCN01", "WCN02", "WUS01", "WDE01", "WAU01"],
        "warehouse_type": ["domestic", "domestic", "overseas_warehouse", "platform_warehouse",
                           "overseas_warehouse"],
        "country": ["CN", "CN", "US", "DE", "AU"],
        "tz": ["Asia/Shanghai", "Asia/Shanghai", "America/New_York", "Europe/Berlin",
               "Australia/Sydney"],
        "first_leg_days": pd.array([None, None, 28, 35, 25], dtype="Int64"),
    })
    pop = r.lognormal(0, 1.5, n_prod)
    pop[r.random(n_prod) < 0.1] = 0  # never sold
    day = r.integers(0, n_days, n_orders)
    peak = r.random(n_orders) < 0.1
    day[peak] = r.integers(320, 335, peak.sum())
    created = start + pd.to_timedelta(day * 86400 + r.integers(0, 86400, n_orders), unit="s")
    oid = np.array([f"O{i:07d}" for i in range(1, n_orders + 1)], dtype=object)
    n_lines = 1 + (r.random(n_orders) < 0.25)
    lo = np.repeat(np.arange(n_orders), n_lines)
    prod = r.choice(n_prod, size=len(lo), p=pop / pop.sum())
    lines = pd.DataFrame({"order_id": oid[lo], "line_no": 1,
                          "product_id": products["product_id"].to_numpy()[prod],
                          "quantity": 1 + r.poisson(0.3, len(lo))})
    shipped = (pd.Series(created).dt.tz_localize("UTC")
               + pd.to_timedelta(r.uniform(2, 60, n_orders), unit="h"))
    wh = r.choice(len(whs), n_orders, p=[0.4, 0.2, 0.2, 0.1, 0.1])
    ships = pd.DataFrame({"order_id": oid, "warehouse_id": whs["warehouse_id"].to_numpy()[wh],
                          "shipped_at": shipped})
    ships = ships[r.random(n_orders) > 0.05].reset_index(drop=True)  # cancelled: no parcel
    ctx = Context(n_orders=n_orders, markets=("US",), platforms=("amazon",), start=start,
                  end=end, catalog=catalog(), rngs={"inventory": np.random.default_rng(seed)})
    ctx.tables.update(products=products, order_lines=lines, shipments=ships, warehouses=whs)
    return ctx


def _build(ctx: Context) -> dict[str, pd.DataFrame]:
    out = inv.build(ctx)
    return {k: conform(v, REGISTRY[k]) for k, v in out.items()}


@pytest.fixture(scope="module")
def synth():
    ctx = _synthetic_ctx()
    return ctx.tables, _build(ctx)


@pytest.fixture(scope="module")
def real(small_world):
    return dict(small_world.tables), {**small_world.tables, **small_world.labels}


@pytest.fixture(scope="module")
def real_b(small_world_b):
    return dict(small_world_b.tables), {**small_world_b.tables, **small_world_b.labels}


@pytest.fixture(params=["synth", "real", "real_b"])
def world(request):
    return request.getfixturevalue(request.param)


def _by_pair(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values([*PAIR, "date"], kind="stable").reset_index(drop=True)


def _local_day(ships: pd.DataFrame, whs: pd.DataFrame) -> pd.Series:
    """Warehouse-local calendar day of each shipment (independent re-implementation)."""
    zone = ships["warehouse_id"].astype(str).map(dict(zip(whs["warehouse_id"].astype(str),
                                                          whs["tz"], strict=True)))
    out = pd.Series(pd.NaT, index=ships.index, dtype="datetime64[ns]")
    for z, idx in zone.groupby(zone).groups.items():
        out[idx] = (ships.loc[idx, "shipped_at"].dt.tz_convert(z).dt.tz_localize(None)
                    .dt.normalize().astype("datetime64[ns]"))
    return out


def test_schemas_and_references(world):
    up, t = world
    for name in TABLES:
        assert not validate_table(t[name], REGISTRY[name]), name
    both = {**up, **{k: t[k] for k in TABLES}}
    assert not [p for p in validate_references(both) if p.split(".")[0] in TABLES]
    assert not t["inbound_receipts"]["receipt_id"].duplicated().any()


def test_balance_identity_and_non_negative(world):
    inv_ = world[1]["inventory"]
    lhs = inv_["on_hand_end"]
    rhs = inv_["on_hand_start"] + inv_["inbound"] - inv_["outbound"] + inv_["adjustments"]
    assert (lhs == rhs).all()
    for c in ("on_hand_start", "inbound", "outbound", "on_hand_end"):
        assert (inv_[c] >= 0).all(), c
    assert not inv_.duplicated([*PAIR, "date"]).any()


def test_continuity(world):
    d = _by_pair(world[1]["inventory"])
    same = (d["product_id"] == d["product_id"].shift()) & (
        d["warehouse_id"] == d["warehouse_id"].shift())
    assert (d["on_hand_start"][same] == d["on_hand_end"].shift()[same]).all()
    assert (d["date"].diff()[same] == pd.Timedelta(days=1)).all()  # no gaps
    # each pair runs to the last day; a pair first stocked after day one opens at 0
    last = d.groupby(PAIR, observed=True)["date"].agg(["min", "max"])
    assert last["max"].nunique() == 1
    first = d[~same]
    late = first["date"] > d["date"].min()
    assert (first.loc[late, "on_hand_start"] == 0).all()
    assert (first.loc[late, "inbound"] > 0).all()


def test_outbound_equals_shipped_lines(world):
    up, t = world
    ships = up["shipments"]
    ships = ships[ships["shipped_at"].notna()]
    day = _local_day(ships, up["warehouses"])
    sh = pd.DataFrame({"order_id": ships["order_id"].astype(str),
                       "warehouse_id": ships["warehouse_id"].astype(str), "date": day})
    lines = up["order_lines"].assign(order_id=lambda x: x["order_id"].astype(str),
                                     product_id=lambda x: x["product_id"].astype(str))
    exp = (lines.merge(sh, on="order_id")
           .groupby(["product_id", "warehouse_id", "date"])["quantity"].sum())
    got = t["inventory"].astype({"product_id": str, "warehouse_id": str})
    got = got[got["outbound"] > 0].set_index(["product_id", "warehouse_id", "date"])["outbound"]
    pd.testing.assert_series_equal(got.sort_index().astype("int64"),
                                   exp.sort_index().astype("int64"), check_names=False)


def test_inbound_equals_receipts(world):
    t = world[1]
    rc = t["inbound_receipts"]
    assert (rc["ordered_date"] <= rc["arrival_date"]).all()
    em = rc["inbound_type"] == "emergency"
    assert (rc.loc[em, "ordered_date"] == rc.loc[em, "arrival_date"]).all()
    assert em.mean() < 0.2  # regular replenishment dominates
    exp = rc.groupby([*PAIR, "arrival_date"], observed=True)["quantity"].sum()
    got = t["inventory"].set_index([*PAIR, "date"])["inbound"]
    got = got[got > 0]
    exp.index = exp.index.set_names(got.index.names)
    j = pd.concat([got.rename("got"), exp.rename("exp")], axis=1)
    assert j.notna().all().all() and (j["got"] == j["exp"]).all()
    assert rc["arrival_date"].max() <= t["inventory"]["date"].max()


def test_stock_takes_weekly_and_booked(world):
    t = world[1]
    st = t["stock_takes"]
    assert (st["discrepancy"] == st["counted_qty"] - st["system_qty"]).all()
    gaps = st.sort_values([*PAIR, "count_date"]).groupby(PAIR, observed=True)["count_date"].diff()
    assert (gaps.dropna() == pd.Timedelta(days=7)).all()  # once a week
    assert st.groupby("warehouse_id", observed=True)["count_date"].apply(
        lambda s: s.dt.day_of_week.nunique()).eq(1).all()  # one count day per warehouse
    j = st.merge(t["inventory"], left_on=[*PAIR, "count_date"], right_on=[*PAIR, "date"],
                 validate="one_to_one")
    assert len(j) == len(st)
    assert (j["counted_qty"] == j["on_hand_end"]).all()
    assert (j["discrepancy"] == j["adjustments"]).all()
    # adjustments happen only on count days
    inv_ = t["inventory"]
    adj = inv_[inv_["adjustments"] != 0]
    assert len(adj) == (st["discrepancy"] != 0).sum()
    assert 0 < (st["discrepancy"] != 0).mean() < 0.05


def test_labels_correct_by_construction(world):
    t = world[1]
    an = t["anomalies"]
    st = t["stock_takes"]
    sd = an[an["kind"] == "stocktake_discrepancy"]
    assert (sd["table"] == "stock_takes").all()
    assert set(sd["entity_id"]) == set(st.loc[st["discrepancy"] != 0, "stock_take_id"])
    so = an[an["kind"] == "stock_out"]
    assert len(so) >= 1 and (so["table"] == "inventory").all()
    assert not so["entity_id"].duplicated().any()
    inv_ = t["inventory"]
    key = inv_["product_id"].astype(str) + "@" + inv_["warehouse_id"].astype(str)
    zero = inv_[inv_["on_hand_end"] == 0]
    got = set(zip(key[zero.index], zero["date"], strict=True))
    want = {(e, d) for e, s, f in zip(so["entity_id"], so["start"], so["end"], strict=True)
            for d in pd.date_range(s, f)}
    assert got == want  # the shelf is empty exactly in the labelled windows
    for e, s, f in zip(so["entity_id"], so["start"], so["end"], strict=True):
        assert (f - s).days >= inv.STOCK_OUT_GAP[0] - 1
        w = inv_[(key == e) & inv_["date"].between(s, f + pd.Timedelta(days=1))]
        w = w.sort_values("date")
        assert w["outbound"].iloc[0] > 0  # the last sale empties the shelf
        assert (w["outbound"].iloc[1:-1] == 0).all() and (w["inbound"].iloc[1:-1] == 0).all()
        assert (w["on_hand_start"].iloc[1:-1] == 0).all()
        assert w["inbound"].iloc[-1] >= w["outbound"].iloc[-1] > 0  # restocked just in time


def test_deterministic():
    a = _build(_synthetic_ctx(seed=3))
    b = _build(_synthetic_ctx(seed=3))
    c = _build(_synthetic_ctx(seed=4))
    for name in (*TABLES, "anomalies"):
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["inventory"].equals(c["inventory"])


def test_lookup_fast_path_matches_pandas():
    parent = pd.Series(["P003", "P001", "P010", "P002"], dtype="str")
    child = pd.Series(["P010", "P004", "Q001", "P001", "P003"], dtype="str")
    assert inv._lookup(parent, child).tolist() == pd.Index(parent).get_indexer(child).tolist()
    wide = pd.Series(["ABCDEFGHIJ1", "ABCDEFGHIJ2"], dtype="str")
    assert inv._lookup(wide, wide[::-1].reset_index(drop=True)).tolist() == [1, 0]
    ragged = pd.Series(["W1", "W22"], dtype="str")
    assert inv._lookup(ragged, pd.Series(["W22", "W3"], dtype="str")).tolist() == [1, -1]
