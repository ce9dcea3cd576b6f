"""Stage ``inventory``: daily stock per product × warehouse, goods receipts and weekly counts.

What it models (OPERATING-RULES §3.16 warehouse management, §3.1 inventory management; task
1.1.10 supply-chain data analysis):

- **Day convention.** Every date in these tables is the *warehouse-local* calendar day
  (time zone from ``warehouses``). ``inventory.outbound`` of a product × warehouse × day is
  exactly the sum of ``order_lines.quantity`` of the orders whose shipment left that
  warehouse on that local day (``shipments.shipped_at`` converted to the warehouse's zone) —
  the software stock is updated at every shipment (§3.16). The period runs from the first
  day of the world (or the first shipment day, if earlier in warehouse time) to its last
  day (or the last shipment day, if later), so every shipped unit is accounted for.
- **Order of events in a day.** opening stock (``on_hand_start``) → goods received
  (``inbound``; registered on the day of arrival, §3.16) → shipments (``outbound``) →
  stock-take at close on the warehouse's weekly count day (``adjustments`` = counted −
  system) → ``on_hand_end = on_hand_start + inbound − outbound + adjustments``; the next
  day opens with it.
- **Replenishment** (simulation model, not a company rule): a periodic-review (R, s, S)
  policy. Each SKU × warehouse is reviewed weekly, the day after the warehouse's stock-take;
  when the inventory position (on hand + on order) is below the reorder point ``s`` (the
  planned sales over lead time + review period, plus safety stock) a purchase order brings it
  up to ``S`` (``s`` + a few weeks' cover), rounded up to the case pack. Planned sales are the
  true future sales seen through a noisy sales plan. Lead times: a few days from suppliers to
  a warehouse in China, four to seven weeks (first-leg freight + customs) to overseas and
  platform warehouses. When a day's shipments would empty the shelf, an **emergency**
  receipt (local purchase / air freight at a premium, ``inbound_type = "emergency"``)
  arrives that day, so stock is never negative and — outside planted stock-outs — never
  zero at close.
- **Stock-take** once a week per warehouse (§3.16). Counts match the system except for a
  small planted share of discrepancies (shrinkage, mis-picks, receiving errors), booked in
  ``inventory.adjustments`` on the count day. Label ``stocktake_discrepancy``
  (entity: ``stock_take_id``).
- **Planted stock-outs.** For a few SKU × warehouse pairs with a gap of several days between
  two sales, the last purchase order before the gap is cut by exactly the stock that would
  have been left, and the orders due in the gap are held back until the next sale day: the
  shelf empties with the last sale before the gap and ``on_hand_end`` sits at 0 until the
  delayed goods arrive, just in time for the next sale. No shipped order is touched. Label
  ``stock_out`` with entity ``"<product_id>@<warehouse_id>"``, ``start`` = the day stock ran
  out (first day with ``on_hand_end = 0``) and ``end`` = the last day at 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from cbec_sim.context import Context
from cbec_sim.rules import round_cents
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import NS_PER_DAY
from cbec_sim.tables.labels import anomaly_rows

INBOUND_TYPES = ("regular", "emergency")
DISCREPANCY_KINDS = ("shrinkage", "mis_pick", "receiving_error")

# ---- simulation parameters (not company rules) -------------------------------------------
REVIEW_DAYS = 7  #: review period: one purchase review a week, the day after the stock-take
DOMESTIC_LEAD = (2, 8)  #: supplier → China warehouse, days [low, high)
OVERSEAS_LEAD = (28, 50)  #: supplier → overseas / platform warehouse (first leg), days
LEAD_JITTER = (-1, 4)  #: actual arrival vs planned lead time, days [low, high)
COVER_DAYS = (7, 29)  #: extra cover ordered above the reorder point, days [low, high)
SAFETY_Z = 1.3  #: safety stock = z × sqrt(planned sales over lead time + review) + 1
PLAN_SIGMA = 0.22  #: log-sd of the sales plan's error per review
PACKS = np.array([1, 2, 5, 10, 20, 50])  #: case-pack sizes
DISCREPANCY_RATE = 0.015  #: share of counts with a planted discrepancy
EMERGENCY_PREMIUM = (1.15, 1.40)  #: unit-cost multiplier of emergency purchases
COST_SIGMA = 0.04  #: log-sd of a purchase's unit cost around the product's standard cost
STOCK_OUT_GAP = (5, 29)  #: days between the last sale before and first after a stock-out
SLOW_MOVER_SHARE = 0.5  #: share of never-sold products held (as slow movers) in one warehouse

INVENTORY = register(TableSpec(
    name="inventory",
    grain="one product (SKU) in one warehouse on one warehouse-local day",
    description="Daily stock ledger per SKU × warehouse (only pairs the company stocks). "
                "Dates are warehouse-local days; outbound equals the quantities of the order "
                "lines whose shipment left the warehouse that day; adjustments are the weekly "
                "stock-take corrections.",
    checks=("on_hand_end = on_hand_start + inbound − outbound + adjustments",
            "on_hand_start = previous day's on_hand_end of the same product × warehouse",
            "inbound = sum of inbound_receipts.quantity arriving that day",
            "adjustments = stock_takes.discrepancy of that day (0 on other days)"),
    columns=(
        Column("date", "date", "warehouse-local calendar day"),
        Column("product_id", "category", "product (SKU)", references="products.product_id"),
        Column("warehouse_id", "category", "warehouse",
               references="warehouses.warehouse_id"),
        Column("on_hand_start", "int", "stock at the start of the day", unit="units", ge=0),
        Column("inbound", "int", "goods received and registered that day", unit="units",
               ge=0),
        Column("outbound", "int", "units shipped to customers that day", unit="units", ge=0),
        Column("adjustments", "int", "stock-take correction booked at close (counted − "
               "system), 0 on other days", unit="units"),
        Column("on_hand_end", "int", "stock at the end of the day", unit="units", ge=0),
    ),
))

INBOUND_RECEIPTS = register(TableSpec(
    name="inbound_receipts",
    grain="one purchase delivery (goods-receipt note, 入库单) of one SKU into one warehouse",
    description="Goods received into warehouses: when the purchase was ordered, when it "
                "arrived (and was registered), quantity and purchase cost. Emergency receipts "
                "are expedited buys that arrive the day they are ordered.",
    columns=(
        Column("receipt_id", "str", "goods-receipt id", unique=True),
        Column("product_id", "category", "product (SKU)", references="products.product_id"),
        Column("warehouse_id", "category", "receiving warehouse",
               references="warehouses.warehouse_id"),
        Column("ordered_date", "date", "day the purchase order was placed"),
        Column("arrival_date", "date", "day the goods arrived and were registered"),
        Column("quantity", "int", "units received", unit="units", ge=1),
        Column("unit_cost_cny", "money", "purchase cost per unit", unit="CNY", ge=0),
        Column("inbound_type", "category", "regular purchase order or emergency buy",
               values=INBOUND_TYPES),
    ),
))

STOCK_TAKES = register(TableSpec(
    name="stock_takes",
    grain="one weekly count of one SKU in one warehouse",
    description="Weekly stock-take (库存盘点, once a week per warehouse, at close of its count "
                "day). The discrepancy is booked the same day in inventory.adjustments.",
    checks=("discrepancy = counted_qty − system_qty",
            "counted_qty = inventory.on_hand_end of that product × warehouse × day"),
    columns=(
        Column("stock_take_id", "str", "stock-take line id", unique=True),
        Column("count_date", "date", "warehouse-local day of the count"),
        Column("product_id", "category", "product (SKU)", references="products.product_id"),
        Column("warehouse_id", "category", "warehouse",
               references="warehouses.warehouse_id"),
        Column("system_qty", "int", "stock according to the inventory software",
               unit="units", ge=0),
        Column("counted_qty", "int", "stock physically counted", unit="units", ge=0),
        Column("discrepancy", "int", "counted − system", unit="units"),
    ),
))


# ---------------------------------------------------------------------------------------------
# helpers

def _str_ids(prefix: str, n: int, width: int | None = None) -> pd.Series:
    """Fast ``prefix`` + zero-padded running numbers as a pandas ``str`` Series."""
    width = width or max(4, len(str(n)))
    p = np.frombuffer(prefix.encode(), dtype=np.uint8)
    w = len(p) + width
    m = np.empty((n, w), dtype=np.uint8)
    m[:, : len(p)] = p
    nums = np.arange(1, n + 1, dtype=np.int64)
    m[:, len(p):] = (nums[:, None] // 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)) % 10 + 48
    arr = pa.StringArray.from_buffers(n, pa.py_buffer(np.arange(n + 1, dtype=np.int32) * w),
                                      pa.py_buffer(m))
    return pd.Series(arr, dtype="str")


def _cat(codes: np.ndarray, categories: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int32), categories=categories)


_TZ_COLUMNS = ("timezone", "tz", "time_zone")
_COUNTRY_COLUMNS = ("country", "country_code", "market", "location_country")


def _warehouse_profile(warehouses: pd.DataFrame, ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """(time zone, is_domestic) per warehouse row.

    The time zone comes from a time-zone column, else from the warehouse's country (China
    → Asia/Shanghai, markets → their catalogue zone), else UTC. A warehouse is domestic
    (short purchase lead time) when it is in China.
    """
    n = len(warehouses)
    country = None
    for c in _COUNTRY_COLUMNS:
        if c in warehouses.columns:
            country = warehouses[c].astype(str).str.upper().to_numpy()
            break
    tz = None
    for c in _TZ_COLUMNS:
        if c in warehouses.columns:
            tz = warehouses[c].astype(str).to_numpy()
            break
    if tz is None:
        zones = ctx.catalog.markets["tz"].to_dict()
        zones.update({"CN": "Asia/Shanghai", "HK": "Asia/Hong_Kong"})
        tz = np.array([zones.get(c, "UTC") for c in country] if country is not None
                      else ["UTC"] * n, dtype=object)
    if country is not None:
        domestic = np.isin(country, ["CN", "HK"])
    else:
        domestic = np.array([z in ("Asia/Shanghai", "Asia/Hong_Kong") for z in tz])
    for c in ("warehouse_type", "type", "kind"):
        if c in warehouses.columns:
            kind = warehouses[c].astype(str).str.lower().to_numpy()
            domestic = domestic | np.char.find(kind.astype(str), "domestic") >= 0
            domestic = domestic & (np.char.find(kind.astype(str), "overseas") < 0)
            break
    return np.asarray(tz, dtype=object), np.asarray(domestic, dtype=bool)


def _local_days(ts_utc: pd.Series, zone_code: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """Days since the epoch of each UTC timestamp, in the row's time zone (vectorised by zone)."""
    i8 = pd.DatetimeIndex(ts_utc).as_unit("ns").asi8
    out = np.empty(len(i8), dtype=np.int64)
    for z in np.unique(zone_code):
        m = zone_code == z
        loc = pd.DatetimeIndex(i8[m], tz="UTC").tz_convert(zones[z]).tz_localize(None)
        out[m] = loc.asi8 // NS_PER_DAY
    return out


@dataclass
class _Pairs:
    """Per SKU × warehouse parameters and pre-drawn randomness (rows = pairs)."""

    first_day: np.ndarray  # first stocked day index
    lead: np.ndarray  # planned purchase lead time, days
    pack: np.ndarray  # case pack
    cover: np.ndarray  # extra cover above the reorder point, days
    count_wd: np.ndarray  # weekday (0 = Monday) of the warehouse's stock-take
    opening: np.ndarray  # stock at the start of day first_day when first_day == 0
    noise: np.ndarray  # (pairs, weeks) sales-plan error factor per review
    jitter: np.ndarray  # (pairs, weeks) arrival delay vs planned lead, days
    disc: np.ndarray  # (pairs, weeks) proposed stock-take discrepancy (0 = none)


@dataclass
class _Plant:
    """Overrides that plant stock-outs (sentinel -1 = none)."""

    cut_day: np.ndarray  # ordered day of the PO whose quantity is cut
    cut_qty: np.ndarray  # units cut from it
    hold_until: np.ndarray  # orders placed after cut_day arrive no earlier than this day
    quiet_from: np.ndarray  # no emergency buys, no discrepancies in [quiet_from, hold_until)

    @classmethod
    def none(cls, n: int) -> _Plant:
        z = np.full(n, -1, dtype=np.int64)
        return cls(z, z.copy(), z.copy(), z.copy())


@dataclass
class _Sim:
    end: np.ndarray  # (pairs, T) on_hand_end
    inbound: np.ndarray  # (pairs, T)
    adj: np.ndarray  # (pairs, T)
    rcpt: tuple[np.ndarray, ...]  # pair, ordered day, arrival day, qty, is_emergency
    counts: tuple[np.ndarray, ...]  # pair, day, system qty, discrepancy, kind code


def _simulate(out: np.ndarray, cum: np.ndarray, pr: _Pairs, plant: _Plant,
              wd0: int) -> _Sim:
    """Run the stock ledger day by day, vectorised across pairs."""
    n, T = out.shape
    horizon_pad = cum.shape[1] - T - 1
    pipe = np.zeros((n, T + horizon_pad + 64), dtype=np.int64)
    onhand = np.where(pr.first_day == 0, pr.opening, 0).astype(np.int64)
    onorder = np.zeros(n, dtype=np.int64)
    end = np.zeros((n, T), dtype=np.int32)
    inbound = np.zeros((n, T), dtype=np.int32)
    adj = np.zeros((n, T), dtype=np.int32)
    r_pair, r_ord, r_arr, r_qty, r_em = [], [], [], [], []
    c_pair, c_day, c_sys, c_disc = [], [], [], []
    # first stocking of pairs that start later: ordered one lead time before their first day
    late = np.flatnonzero(pr.first_day > 0)
    pipe[late, pr.first_day[late]] = pr.opening[late]
    onorder[late] = pr.opening[late]
    r_pair.append(late)
    r_ord.append(pr.first_day[late] - pr.lead[late])
    r_arr.append(pr.first_day[late])
    r_qty.append(pr.opening[late])
    r_em.append(np.zeros(len(late), dtype=bool))
    review_wd = (pr.count_wd + 1) % 7
    h1 = pr.lead + REVIEW_DAYS + 2
    h2 = h1 + pr.cover
    quiet_on = plant.quiet_from >= 0
    for t in range(T):
        wd = (wd0 + t) % 7
        wk = t // 7
        arr = pipe[:, t]
        start = onhand
        pre = start + arr - out[:, t]
        quiet = quiet_on & (t >= plant.quiet_from) & (t < plant.hold_until)
        x = pre
        cm = (pr.count_wd == wd) & (pr.first_day <= t)
        ci = np.flatnonzero(cm)
        disc = np.zeros(len(ci), dtype=np.int64)
        if len(ci):
            d0 = pr.disc[ci, wk].astype(np.int64)
            d0 = np.where(quiet[ci], 0, d0)
            pc = pre[ci]
            # never count below 1 unit, never discover shrinkage on an (almost) empty shelf
            disc = np.where(d0 < 0, np.maximum(d0, np.minimum(0, 1 - pc)), d0)
            x = pre.copy()
            x[ci] += disc
        need = (x <= 0) & (pr.first_day <= t) & ~quiet
        em = np.zeros(n, dtype=np.int64)
        if need.any():
            ei = np.flatnonzero(need)
            f7 = cum[ei, t + 8] - cum[ei, t + 1]
            em[ei] = 1 - x[ei] + np.ceil(f7).astype(np.int64)
            r_pair.append(ei)
            r_ord.append(np.full(len(ei), t))
            r_arr.append(np.full(len(ei), t))
            r_qty.append(em[ei])
            r_em.append(np.ones(len(ei), dtype=bool))
        onhand = x + em
        if len(ci):
            c_pair.append(ci)
            c_day.append(np.full(len(ci), t))
            c_sys.append(pre[ci] + em[ci])
            c_disc.append(disc)
            adj[ci, t] = disc
        end[:, t] = onhand
        inbound[:, t] = arr + em
        onorder -= arr
        # weekly purchase review
        ri = np.flatnonzero((review_wd == wd) & (pr.first_day <= t))
        if len(ri):
            nz = pr.noise[ri, wk]
            f1 = (cum[ri, t + h1[ri]] - cum[ri, t]) * nz
            f2 = (cum[ri, t + h2[ri]] - cum[ri, t]) * nz
            ss = np.ceil(SAFETY_Z * np.sqrt(f1)) + 1
            ip = onhand[ri] + onorder[ri]
            go = ip < f1 + ss
            ri, f2, ss, ip = ri[go], f2[go], ss[go], ip[go]
            if len(ri):
                pk = pr.pack[ri]
                q = np.ceil(np.maximum(f2 + ss - ip, 1) / pk).astype(np.int64) * pk
                # planted stock-outs: cut one order, hold later ones back
                cut = plant.cut_day[ri] == t
                q = np.where(cut, q - plant.cut_qty[ri], q)
                a = t + pr.lead[ri] + pr.jitter[ri, wk]
                hold = (plant.cut_day[ri] >= 0) & (t > plant.cut_day[ri]) & (
                    a < plant.hold_until[ri])
                a = np.where(hold, plant.hold_until[ri], a)
                ok = q > 0
                ri, q, a = ri[ok], q[ok], a[ok]
                pipe[ri, a] += q
                onorder[ri] += q
                r_pair.append(ri)
                r_ord.append(np.full(len(ri), t))
                r_arr.append(a)
                r_qty.append(q)
                r_em.append(np.zeros(len(ri), dtype=bool))
    rc = tuple(np.concatenate(v) if v else np.zeros(0, np.int64)
               for v in (r_pair, r_ord, r_arr, r_qty, r_em))
    keep = rc[2] < T  # goods not yet arrived at the end are not receipts yet
    rc = tuple(v[keep] for v in rc)
    cc = tuple(np.concatenate(v) if v else np.zeros(0, np.int64)
               for v in (c_pair, c_day, c_sys, c_disc))
    return _Sim(end, inbound, adj, rc, cc)


def _run_starts(mask: np.ndarray) -> np.ndarray:
    """Index of the last True at or before each position along axis 1 (-1 if none)."""
    idx = np.where(mask, np.arange(mask.shape[1])[None, :], -1)
    return np.maximum.accumulate(idx, axis=1)


# ---------------------------------------------------------------------------------------------


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    rng = ctx.rng("inventory")
    t_ = ctx.tables
    products = t_["products"]
    lines = t_["order_lines"]
    ships = t_["shipments"]
    whs = t_["warehouses"]

    prod_ids = products["product_id"].to_numpy().astype(str)
    wh_ids = whs["warehouse_id"].to_numpy().astype(str)
    n_prod, n_wh = len(prod_ids), len(wh_ids)
    tz, domestic = _warehouse_profile(whs, ctx)
    zones, zone_of_wh = np.unique(tz.astype(str), return_inverse=True)

    # ---- outbound: shipped order lines → warehouse-local day --------------------------------
    sh = ships[ships["shipped_at"].notna()]
    sh = sh.drop_duplicates("order_id")
    s_wh = pd.Index(wh_ids).get_indexer(sh["warehouse_id"].astype(str))
    s_day = _local_days(sh["shipped_at"], zone_of_wh[s_wh], zones)
    li = pd.Index(sh["order_id"]).get_indexer(lines["order_id"])
    shipped = li >= 0
    li = li[shipped]
    l_prod = pd.Index(prod_ids).get_indexer(lines["product_id"].to_numpy()[shipped])
    l_qty = lines["quantity"].to_numpy()[shipped].astype(np.int64)
    l_wh = s_wh[li]
    l_day = s_day[li]

    d_start = ctx.start.value // NS_PER_DAY
    d_end = ctx.end.value // NS_PER_DAY
    if len(l_day):
        d_start, d_end = min(d_start, int(l_day.min())), max(d_end, int(l_day.max()))
    T = int(d_end - d_start + 1)
    day0 = pd.Timestamp(d_start * NS_PER_DAY)
    l_day = l_day - d_start

    # ---- stocked pairs: every product × warehouse that ships, plus some slow movers -------
    key = l_prod.astype(np.int64) * n_wh + l_wh
    sold_keys = np.unique(key)
    never = np.setdiff1d(np.arange(n_prod), np.unique(l_prod))
    slow = never[rng.random(len(never)) < SLOW_MOVER_SHARE]
    wh_vol = np.bincount(l_wh, weights=l_qty, minlength=n_wh) + 1.0
    slow_wh = rng.choice(n_wh, size=len(slow), p=wh_vol / wh_vol.sum())
    keys = np.union1d(sold_keys, slow.astype(np.int64) * n_wh + slow_wh)
    p_prod, p_wh = keys // n_wh, keys % n_wh
    n = len(keys)
    pair_of_line = np.searchsorted(keys, key)
    out = np.bincount(pair_of_line * T + l_day, weights=l_qty, minlength=n * T)
    out = out.reshape(n, T).astype(np.int64)

    # ---- policy parameters ----------------------------------------------------------------
    dom = domestic[p_wh]
    lead = np.where(dom, rng.integers(*DOMESTIC_LEAD, n), rng.integers(*OVERSEAS_LEAD, n))
    rate = out.sum(axis=1) / T
    # bigger case packs for faster sellers (simulation parameter)
    pack_i = np.clip(np.searchsorted([0.3, 1.0, 3.0, 8.0, 20.0], rate * 7) +
                     rng.integers(-1, 2, n), 0, len(PACKS) - 1)
    pack = PACKS[pack_i]
    cover = rng.integers(*COVER_DAYS, n)
    wh_count_wd = rng.integers(0, 7, n_wh)
    n_weeks = T // 7 + 2
    noise = np.exp(PLAN_SIGMA * rng.standard_normal((n, n_weeks)))
    jitter = rng.integers(*LEAD_JITTER, (n, n_weeks))
    hit = rng.random((n, n_weeks)) < DISCREPANCY_RATE
    kind = rng.choice(len(DISCREPANCY_KINDS), size=(n, n_weeks), p=[0.5, 0.35, 0.15])
    mag = rng.integers(1, 4, (n, n_weeks))
    sign = np.where(kind == 0, -1, np.where(kind == 2, 1, rng.choice([-1, 1], (n, n_weeks))))
    mag = np.where(kind == 1, np.minimum(mag, 2), mag)
    disc = np.where(hit, sign * mag, 0).astype(np.int8)

    # planned sales: cumulative true sales, extended past the end at the recent rate
    h_max = int(OVERSEAS_LEAD[1] + REVIEW_DAYS + 2 + COVER_DAYS[1] + 16)
    recent = out[:, max(0, T - 28):].mean(axis=1)
    cum = np.empty((n, T + 1 + h_max), dtype=np.float64)
    cum[:, 0] = 0
    np.cumsum(out, axis=1, out=cum[:, 1:T + 1])
    cum[:, T + 1:] = cum[:, T:T + 1] + recent[:, None] * np.arange(1, h_max + 1)[None, :]

    # first stocked day: launch day or first sale, whichever comes first (0 = from the start)
    launch = products["launch_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    first_sale = np.where(out.any(axis=1), np.argmax(out > 0, axis=1), T - 1)
    first_day = np.clip(np.minimum(launch[p_prod] - d_start, first_sale), 0, T - 1)
    h0 = lead + REVIEW_DAYS + 2 + cover
    f0 = cum[np.arange(n), np.minimum(first_day + h0, cum.shape[1] - 1)] - cum[
        np.arange(n), first_day]
    opening = np.ceil((f0 + SAFETY_Z * np.sqrt(f0) + 1) / pack).astype(np.int64) * pack
    opening = np.where(out.any(axis=1), opening, pack * rng.integers(1, 4, n))

    pr = _Pairs(first_day, lead, pack, cover, wh_count_wd[p_wh], opening, noise, jitter, disc)
    wd0 = day0.weekday()
    sim = _simulate(out, cum, pr, _Plant.none(n), wd0)

    # ---- planted stock-outs ---------------------------------------------------------------
    planted = _plant_stock_outs(rng, out, cum, pr, sim, wd0, n_target=int(
        np.clip(n // 400, 2, 12)))
    if planted is not None:
        sub, plant, sub_sim, s1, s2 = planted
        sim = _splice(sim, sub, sub_sim)
    else:
        sub = np.zeros(0, np.int64)
        s1 = s2 = sub

    # ---- tables ---------------------------------------------------------------------------
    prod_cats = prod_ids
    wh_cats = wh_ids
    dates = day0.to_datetime64().astype("datetime64[ns]") + (
        np.arange(T) * NS_PER_DAY).astype("timedelta64[ns]")
    active = np.arange(T)[None, :] >= first_day[:, None]
    end = sim.end
    start = np.empty_like(end)
    start[:, 1:] = end[:, :-1]
    start[:, 0] = np.where(first_day == 0, opening, 0)
    rows_pair, rows_day = np.nonzero(active)
    inventory = pd.DataFrame({
        "date": dates[rows_day],
        "product_id": _cat(p_prod[rows_pair], prod_cats),
        "warehouse_id": _cat(p_wh[rows_pair], wh_cats),
        "on_hand_start": start[active].astype(np.int64),
        "inbound": sim.inbound[active].astype(np.int64),
        "outbound": out[active],
        "adjustments": sim.adj[active].astype(np.int64),
        "on_hand_end": end[active].astype(np.int64),
    })

    r_pair, r_ord, r_arr, r_qty, r_em = sim.rcpt
    o = np.lexsort((p_wh[r_pair], p_prod[r_pair], r_arr))
    r_pair, r_ord, r_arr, r_qty, r_em = (v[o] for v in (r_pair, r_ord, r_arr, r_qty, r_em))
    cost = products["unit_cost_cny"].to_numpy(dtype=float)[p_prod[r_pair]]
    cost = cost * np.exp(COST_SIGMA * rng.standard_normal(len(r_pair)))
    cost = np.where(r_em, cost * rng.uniform(*EMERGENCY_PREMIUM, len(r_pair)), cost)
    receipts = pd.DataFrame({
        "receipt_id": _str_ids("GR", len(r_pair), width=7),
        "product_id": _cat(p_prod[r_pair], prod_cats),
        "warehouse_id": _cat(p_wh[r_pair], wh_cats),
        "ordered_date": dates[0] + (r_ord * NS_PER_DAY).astype("timedelta64[ns]"),
        "arrival_date": dates[r_arr],
        "quantity": r_qty.astype(np.int64),
        "unit_cost_cny": round_cents(cost),
        "inbound_type": pd.Categorical.from_codes(r_em.astype(np.int8),
                                                  categories=list(INBOUND_TYPES)),
    })

    c_pair, c_day, c_sys, c_disc = sim.counts
    o = np.lexsort((p_wh[c_pair], p_prod[c_pair], c_day))
    c_pair, c_day, c_sys, c_disc = (v[o] for v in (c_pair, c_day, c_sys, c_disc))
    takes = pd.DataFrame({
        "stock_take_id": _str_ids("STK", len(c_pair), width=7),
        "count_date": dates[c_day],
        "product_id": _cat(p_prod[c_pair], prod_cats),
        "warehouse_id": _cat(p_wh[c_pair], wh_cats),
        "system_qty": c_sys.astype(np.int64),
        "counted_qty": (c_sys + c_disc).astype(np.int64),
        "discrepancy": c_disc.astype(np.int64),
    })

    # ---- labels ---------------------------------------------------------------------------
    bad = np.flatnonzero(c_disc != 0)
    k = kind[c_pair[bad], c_day[bad] // 7]
    kinds = np.asarray(DISCREPANCY_KINDS)[k]
    detail = [f"{kd}: counted {d:+d} vs system ({s} → {s + d})"
              for kd, d, s in zip(kinds, c_disc[bad], c_sys[bad], strict=True)]
    lab = [anomaly_rows("stocktake_discrepancy", "stock_takes",
                        takes["stock_take_id"].to_numpy()[bad],
                        start=dates[c_day[bad]], end=dates[c_day[bad]], detail=detail)]
    if len(sub):
        ent = [f"{prod_ids[p_prod[p]]}@{wh_ids[p_wh[p]]}" for p in sub]
        det = [f"stock ran out in warehouse {wh_ids[p_wh[p]]} after the last sale before a "
               f"{int(b - a) - 1}-day sales gap (purchase order cut, later orders delayed); "
               f"restocked on {pd.Timestamp(dates[b]).date()}"
               for p, a, b in zip(sub, s1, s2, strict=True)]
        lab.append(anomaly_rows("stock_out", "inventory", ent, start=dates[s1],
                                end=dates[s2 - 1], detail=det))
    return {"inventory": inventory, "inbound_receipts": receipts, "stock_takes": takes,
            "anomalies": pd.concat(lab, ignore_index=True)}


def _splice(sim: _Sim, sub: np.ndarray, s: _Sim) -> _Sim:
    """Replace the rows of pairs ``sub`` by those of the re-run ``s`` (pairs renumbered)."""
    sim.end[sub] = s.end
    sim.inbound[sub] = s.inbound
    sim.adj[sub] = s.adj
    drop = np.isin(sim.rcpt[0], sub)
    rc = tuple(np.concatenate([a[~drop], (sub[b] if i == 0 else b)])
               for i, (a, b) in enumerate(zip(sim.rcpt, s.rcpt, strict=True)))
    drop = np.isin(sim.counts[0], sub)
    cc = tuple(np.concatenate([a[~drop], (sub[b] if i == 0 else b)])
               for i, (a, b) in enumerate(zip(sim.counts, s.counts, strict=True)))
    return _Sim(sim.end, sim.inbound, sim.adj, rc, cc)


def _plant_stock_outs(rng, out, cum, pr: _Pairs, sim: _Sim, wd0: int, n_target: int):
    """Choose gaps between two sales and re-run those pairs so the shelf is empty in the gap."""
    n, T = out.shape
    r_pair, r_ord, r_arr, r_qty, r_em = sim.rcpt
    reg = ~r_em & (r_ord >= 0)  # placed during the simulation (not the opening stock)
    # receipts per (pair, arrival day)
    rk = r_pair * T + r_arr
    n_at = np.bincount(rk, minlength=n * T).reshape(n, T)
    em_at = np.bincount(rk[r_em], minlength=n * T).reshape(n, T) > 0
    last_arr = _run_starts(n_at > 0)
    disturb = np.cumsum(em_at | (sim.adj != 0), axis=1)
    # consecutive sale days (s1, s2) of a pair
    sp, sd = np.nonzero(out > 0)
    same = sp[1:] == sp[:-1]
    c_p, c_s1, c_s2 = sp[:-1][same], sd[:-1][same], sd[1:][same]
    gap = c_s2 - c_s1
    ok = (gap >= STOCK_OUT_GAP[0]) & (gap <= STOCK_OUT_GAP[1]) & (
        c_s1 >= pr.first_day[c_p] + 21)
    c_p, c_s1, c_s2 = c_p[ok], c_s1[ok], c_s2[ok]
    r = last_arr[c_p, c_s1]
    ok = r > pr.first_day[c_p]
    c_p, c_s1, c_s2, r = c_p[ok], c_s1[ok], c_s2[ok], r[ok]
    ok = (n_at[c_p, r] == 1) & (disturb[c_p, c_s2 - 1] == disturb[c_p, r - 1])
    c_p, c_s1, c_s2, r = c_p[ok], c_s1[ok], c_s2[ok], r[ok]
    if not len(c_p):
        return None
    # the single regular receipt arriving on r
    by_key = np.argsort(rk, kind="stable")
    ri = by_key[np.searchsorted(rk[by_key], c_p * T + r)]
    e = sim.end[c_p, c_s1].astype(np.int64)
    ok = reg[ri] & (r_qty[ri] > e) & (e > 0)
    c_p, c_s1, c_s2, r, ri, e = (v[ok] for v in (c_p, c_s1, c_s2, r, ri, e))
    if not len(c_p):
        return None
    order = rng.permutation(len(c_p))
    _, first = np.unique(c_p[order], return_index=True)
    pick = order[first]
    pick = pick[rng.permutation(len(pick))[:n_target]]
    pick = pick[np.argsort(c_p[pick])]
    sub = c_p[pick]
    plant = _Plant(cut_day=r_ord[ri[pick]].astype(np.int64), cut_qty=e[pick],
                   hold_until=c_s2[pick].astype(np.int64), quiet_from=r[pick].astype(np.int64))
    prs = _Pairs(*(getattr(pr, f)[sub] for f in (
        "first_day", "lead", "pack", "cover", "count_wd", "opening", "noise", "jitter", "disc")))
    s = _simulate(out[sub], cum[sub], prs, plant, wd0)
    s1, s2 = c_s1[pick], c_s2[pick]
    # keep only plants that came out as designed: shelf at 0 exactly on [s1, s2)
    good = np.ones(len(sub), dtype=bool)
    for i in range(len(sub)):
        row = s.end[i, pr.first_day[sub[i]]:]
        zero = np.flatnonzero(row == 0) + pr.first_day[sub[i]]
        good[i] = np.array_equal(zero, np.arange(s1[i], s2[i])) and (row >= 0).all()
    if not good.all():
        keep = np.flatnonzero(good)
        if not len(keep):
            return None
        plant = _Plant(*(getattr(plant, f)[keep] for f in (
            "cut_day", "cut_qty", "hold_until", "quiet_from")))
        sub, s1, s2 = sub[keep], s1[keep], s2[keep]
        prs = _Pairs(*(getattr(pr, f)[sub] for f in (
            "first_day", "lead", "pack", "cover", "count_wd", "opening", "noise", "jitter",
            "disc")))
        s = _simulate(out[sub], cum[sub], prs, plant, wd0)
    return sub, plant, s, s1, s2
