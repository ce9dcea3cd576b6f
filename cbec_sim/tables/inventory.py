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
- **Stocked pairs.** Every product × warehouse that shipped at least once, plus about half
  of the never-sold products as slow movers (滞销, §3.1) held in one warehouse each. A pair's
  rows start on its first stocked day: the first day of the period (opening stock) or, for a
  product launched later, the day its first purchase arrives (``on_hand_start`` 0).
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
  true future sales seen through a noisy sales plan. Lead times: a few days from the supplier
  to a warehouse in China; overseas and platform warehouses add the warehouse's
  ``first_leg_days`` (head haul) and a few days for customs release and receiving; deliveries
  may come a day early or a few days late. When a day's shipments would empty the shelf, an
  **emergency** receipt (local purchase / air freight at a premium, ``inbound_type =
  "emergency"``) arrives that day, so stock is never negative and — outside planted
  stock-outs — never zero at close. Purchase unit costs scatter around
  ``products.unit_cost_cny`` (freight not included).
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
from cbec_sim.tables._util import NS_PER_DAY, fast_ids
from cbec_sim.tables.labels import label_frame, label_spec

INBOUND_TYPES = ("regular", "emergency")
DISCREPANCY_KINDS = ("shrinkage", "mis_pick", "receiving_error")

# ---- simulation parameters (not company rules) -------------------------------------------
REVIEW_DAYS = 7  #: review period: one purchase review a week, the day after the stock-take
DOMESTIC_LEAD = (2, 8)  #: supplier → China warehouse, days [low, high)
OVERSEAS_LEAD = (28, 50)  #: supplier → overseas warehouse when its first_leg_days is unknown
RECEIVING_DAYS = (2, 6)  #: customs release + receiving at an overseas warehouse, days
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
        Column("on_hand_start", "int32", "stock at the start of the day", unit="units", ge=0),
        Column("inbound", "int32", "goods received and registered that day", unit="units",
               ge=0),
        Column("outbound", "int32", "units shipped to customers that day", unit="units", ge=0),
        Column("adjustments", "int32", "stock-take correction booked at close (counted − "
               "system), 0 on other days", unit="units"),
        Column("on_hand_end", "int32", "stock at the end of the day", unit="units", ge=0),
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
        Column("ordered_date", "date", "day the purchase order was placed (a first order of "
               "a product launched later may predate the period)"),
        Column("arrival_date", "date", "day the goods arrived and were registered"),
        Column("quantity", "int", "units received", unit="units", ge=1),
        Column("unit_cost_cny", "money", "purchase cost per unit, freight excluded "
               "(emergency buys at a premium)", unit="CNY", ge=0),
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
        Column("system_qty", "int32", "stock according to the inventory software",
               unit="units", ge=0),
        Column("counted_qty", "int32", "stock physically counted", unit="units", ge=0),
        Column("discrepancy", "int32", "counted − system", unit="units"),
    ),
))


# ---------------------------------------------------------------------------------------------
# helpers


def _fixed_width(values: pd.Series) -> np.ndarray | None:
    """``(n, width)`` uint8 matrix of a string column whose values all have the same width."""
    a = pa.array(values)
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    if not len(a) or a.null_count or not (pa.types.is_string(a.type)
                                          or pa.types.is_large_string(a.type)):
        return None
    a = a.cast(pa.large_string())
    _, off_buf, data_buf = a.buffers()
    off = np.frombuffer(off_buf, dtype=np.int64)[a.offset: a.offset + len(a) + 1]
    w = int(off[1] - off[0])
    if w == 0 or off[-1] - off[0] != w * len(a) or (np.diff(off) != w).any():
        return None
    return np.frombuffer(data_buf, dtype=np.uint8)[off[0]:off[-1]].reshape(len(a), w)


def _lookup(parent: pd.Series, child: pd.Series) -> np.ndarray:
    """Position of each ``child`` value among the unique ``parent`` values (-1 when absent).

    Fast path for fixed-width ids (``P00001``, ``O00000001`` …): the characters that vary
    are packed into one integer per id and located by binary search.
    """
    if isinstance(child.dtype, pd.CategoricalDtype):
        pos = _lookup(parent, pd.Series(child.cat.categories.astype(str), dtype="str"))
        codes = child.cat.codes.to_numpy()
        return np.where(codes >= 0, pos[np.maximum(codes, 0)], -1)
    parent, child = parent.astype("str"), child.astype("str")
    p, c = _fixed_width(parent), _fixed_width(child)
    if p is None or c is None or p.shape[1] != c.shape[1]:
        return pd.Index(parent).get_indexer(child)
    const = (p == p[0]).all(axis=0)
    var = np.flatnonzero(~const)
    if len(var) > 8:
        return pd.Index(parent).get_indexer(child)
    c_ok = np.ones(len(c), dtype=bool)
    for j in np.flatnonzero(const):
        c_ok &= c[:, j] == p[0, j]

    digits = all(((m[:, j] >= 48) & (m[:, j] <= 57)).all() for m in (p, c) for j in var)
    base = np.uint64(10 if digits else 256)

    def pack(m: np.ndarray) -> np.ndarray:  # the varying characters as one integer
        k = np.zeros(len(m), dtype=np.uint64)
        for j in var:
            k = k * base + (m[:, j] - 48 if digits else m[:, j])
        return k

    pk, ck = pack(p), pack(c)
    lo, hi = int(pk.min()), int(pk.max())
    if hi - lo < 4 * len(pk) + 4096:  # dense ids (running numbers): direct table
        table = np.full(hi - lo + 1, -1, dtype=np.int64)
        table[(pk - np.uint64(lo)).astype(np.int64)] = np.arange(len(pk))
        inside = c_ok & (ck >= np.uint64(lo)) & (ck <= np.uint64(hi))
        off = np.where(inside, ck - np.uint64(lo), 0).astype(np.int64)
        return np.where(inside, table[off], -1)
    order = np.argsort(pk, kind="stable")
    ps = pk[order]
    pos = np.minimum(np.searchsorted(ps, ck), len(ps) - 1)
    return np.where((ps[pos] == ck) & c_ok, order[pos], -1)


def _warehouse_profile(warehouses: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time zone, is_domestic, first-leg days or NaN) per warehouse row."""
    tz = warehouses["tz"].astype(str).to_numpy()
    domestic = (warehouses["warehouse_type"].astype(str) == "domestic").to_numpy()
    leg = pd.to_numeric(warehouses["first_leg_days"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan)
    return tz, domestic, leg


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
    """Per SKU × warehouse parameters (columns = pairs) and pre-drawn weekly randomness."""

    first_day: np.ndarray  # first stocked day index
    lead: np.ndarray  # planned purchase lead time, days
    pack: np.ndarray  # case pack
    cover: np.ndarray  # extra cover above the reorder point, days
    count_wd: np.ndarray  # weekday (0 = Monday) of the warehouse's stock-take
    opening: np.ndarray  # stock on day first_day (opening stock, or first receipt)
    noise: np.ndarray  # (weeks, pairs) sales-plan error factor per review
    jitter: np.ndarray  # (weeks, pairs) arrival delay vs planned lead time, days
    disc: np.ndarray  # (weeks, pairs) proposed stock-take discrepancy (0 = none)

    def take(self, idx: np.ndarray) -> _Pairs:
        return _Pairs(self.first_day[idx], self.lead[idx], self.pack[idx], self.cover[idx],
                      self.count_wd[idx], self.opening[idx], self.noise[:, idx],
                      self.jitter[:, idx], self.disc[:, idx])


@dataclass
class _Plant:
    """Overrides that plant stock-outs, one per pair (-1 = none)."""

    cut_day: np.ndarray  # ordered day of the purchase order whose quantity is cut
    cut_qty: np.ndarray  # units cut from it
    hold_until: np.ndarray  # orders placed after cut_day arrive no earlier than this day
    quiet_from: np.ndarray  # no emergency buys and no discrepancies in [quiet_from, hold_until)

    @classmethod
    def none(cls, n: int) -> _Plant:
        return cls(*(np.full(n, -1, dtype=np.int64) for _ in range(4)))

    def take(self, idx: np.ndarray) -> _Plant:
        return _Plant(self.cut_day[idx], self.cut_qty[idx], self.hold_until[idx],
                      self.quiet_from[idx])


@dataclass
class _Sim:
    end: np.ndarray  # (T, pairs) on_hand_end
    inbound: np.ndarray  # (T, pairs)
    adj: np.ndarray  # (T, pairs)
    rcpt: tuple[np.ndarray, ...]  # pair, ordered day, arrival day, qty, is_emergency
    counts: tuple[np.ndarray, ...]  # pair, day, system qty, discrepancy


def _cat_list(parts: list[list[np.ndarray]]) -> tuple[np.ndarray, ...]:
    return tuple(np.concatenate(p) if p else np.zeros(0, np.int64) for p in parts)


def _simulate(out: np.ndarray, cum: np.ndarray, pr: _Pairs, plant: _Plant, wd0: int) -> _Sim:
    """Run the stock ledger day by day, vectorised across pairs (arrays are day × pair).

    Stock-take days and their proposed discrepancies are known in advance, so they are
    listed before the loop; the loop itself keeps to a few array operations per day.
    """
    T, n = out.shape
    pipe = np.zeros((T + int(pr.lead.max(initial=0)) + LEAD_JITTER[1] + 2, n), dtype=np.int32)
    onhand = np.where(pr.first_day == 0, pr.opening, 0).astype(np.int64)
    onorder = np.zeros(n, dtype=np.int64)
    end = np.empty((T, n), dtype=np.int32)
    inbound = np.empty((T, n), dtype=np.int32)
    adj = np.zeros((T, n), dtype=np.int32)
    fd = pr.first_day
    # stock-takes: each stocked pair is counted once a week on its weekday; a proposed
    # discrepancy of week w applies to that week's count (listed by day, then pair)
    d_w, d_p = pr.disc.nonzero()
    d_t = 7 * d_w + (pr.count_wd[d_p] - wd0) % 7
    ok = (d_t < T) & (fd[d_p] <= d_t)
    d_t, d_p = d_t[ok], d_p[ok]
    o = np.lexsort((d_p, d_t))
    d_t, d_p = d_t[o], d_p[o]
    d_val = pr.disc[d_w[ok][o], d_p].astype(np.int64)
    d_bound = np.searchsorted(d_t, np.arange(T + 1)).tolist()
    # receipts by segment: pairs, arrival day and quantity arrays; ordered day and
    # emergency flag per segment (expanded after the loop)
    rp: list[np.ndarray] = []
    ra: list[np.ndarray] = []
    rq: list[np.ndarray] = []
    r_t: list[int] = []
    r_em: list[bool] = []

    # first stocking of pairs that start later, ordered one lead time before their first day
    late = (fd > 0).nonzero()[0]
    pipe[fd[late], late] = pr.opening[late]
    onorder[late] = pr.opening[late]
    late_ordered = fd[late] - pr.lead[late]
    rp.append(late)
    ra.append(fd[late])
    rq.append(pr.opening[late])
    r_t.append(0)
    r_em.append(False)
    has_late = len(late) > 0
    has_plant = bool((plant.quiet_from >= 0).any())
    if has_plant:  # (day, pair): no emergency buys and no discrepancies (planted gaps)
        day = np.arange(T)[:, None]
        quiet_days = (day >= plant.quiet_from) & (day < plant.hold_until)
    # pairs reviewed on each weekday (the day after their stock-take), among stocked pairs;
    # recomputed only on days when more pairs become stocked
    new_day = np.zeros(T + 1, dtype=bool)
    new_day[np.minimum(fd, T)] = True
    review_all = [((pr.count_wd + 1) % 7 == w).nonzero()[0] for w in range(7)]
    review_idx: list = [None] * 7
    h1 = pr.lead + REVIEW_DAYS + 2  # reorder point covers lead time + review + delay margin
    h2 = h1 + pr.cover  # order-up-to level adds a few weeks of cover
    active = fd <= 0
    cum_flat = cum.reshape(-1)  # views: both are C-contiguous
    pipe_flat = pipe.reshape(-1)
    for t in range(T):
        if has_late and new_day[t]:
            active = fd <= t
            review_idx = [None] * 7
        wd, wk = (wd0 + t) % 7, t // 7
        arr = pipe[t]
        x = onhand + arr - out[t]  # before the stock-take
        quiet = quiet_days[t] if has_plant else None
        s0, s1 = d_bound[t], d_bound[t + 1]
        if s1 > s0:
            dj = d_p[s0:s1]
            d = d_val[s0:s1]
            if quiet is not None:
                d = np.where(quiet[dj], 0, d)
            # never count below 1 unit; no shrinkage found on an (almost) empty shelf
            d = np.where(d < 0, np.maximum(d, np.minimum(0, 1 - x[dj])), d)
            x[dj] += d
            adj[t][dj] = d
        ei = ((x <= 0) & active).nonzero()[0] if has_late else (x <= 0).nonzero()[0]
        if len(ei) and quiet is not None:
            ei = ei[~quiet[ei]]
        inbound[t] = arr
        if len(ei):  # emergency buy: cover the shortfall and the coming week's sales
            e = 1 - x[ei] + np.ceil(cum[t + 8][ei] - cum[t + 1][ei]).astype(np.int64)
            x[ei] += e
            inbound[t][ei] += e
            rp.append(ei)
            ra.append(ei)  # placeholder: an emergency buy arrives on its order day
            rq.append(e)
            r_t.append(t)
            r_em.append(True)
        end[t] = x
        onhand = x
        onorder -= arr
        # weekly purchase review, the day after the stock-take
        rv = review_idx[wd]
        if rv is None:
            ri = review_all[wd]
            if has_late:
                ri = ri[active[ri]]
            # flat positions in ``cum`` of (h1, pair) and (h2, pair), shifted by t * n below
            rv = review_idx[wd] = (ri, h1[ri] * n + ri, h2[ri] * n + ri)
        ri, at1, at2 = rv
        if not len(ri):
            continue
        nz = pr.noise[wk][ri]
        c0 = cum[t][ri]
        tn = t * n
        f1 = (cum_flat[at1 + tn] - c0) * nz
        ss = np.ceil(SAFETY_Z * np.sqrt(f1)) + 1
        ip = x[ri] + onorder[ri]
        go = (ip < f1 + ss).nonzero()[0]
        if not len(go):
            continue
        ri, nz, c0, ss, ip = ri[go], nz[go], c0[go], ss[go], ip[go]
        f2 = (cum_flat[at2[go] + tn] - c0) * nz
        pk = pr.pack[ri]
        q = np.ceil(np.maximum(f2 + ss - ip, 1) / pk).astype(np.int64) * pk
        a = t + pr.lead[ri] + pr.jitter[wk][ri]
        if has_plant:  # planted stock-outs: cut one order, hold later ones back
            q = np.where(plant.cut_day[ri] == t, q - plant.cut_qty[ri], q)
            hold = (plant.cut_day[ri] >= 0) & (t > plant.cut_day[ri]) & (
                a < plant.hold_until[ri])
            a = np.where(hold, plant.hold_until[ri], a)
            ok = q > 0
            ri, q, a = ri[ok], q[ok], a[ok]
        pipe_flat[a * n + ri] += q
        onorder[ri] += q
        rp.append(ri)
        ra.append(a)
        rq.append(q)
        r_t.append(t)
        r_em.append(False)
    lens = [len(v) for v in rp]
    r_pair, r_arr, r_qty = np.concatenate(rp), np.concatenate(ra), np.concatenate(rq)
    r_ord = np.repeat(np.array(r_t, dtype=np.int64), lens)
    r_ord[:len(late)] = late_ordered
    emergency = np.repeat(np.array(r_em, dtype=bool), lens)
    r_arr[emergency] = r_ord[emergency]
    keep = r_arr < T  # goods still under way at the end are not received yet
    rcpt = tuple(v[keep] for v in (r_pair, r_ord, r_arr, r_qty, emergency))
    count_idx = [(pr.count_wd == w).nonzero()[0] for w in range(7)]
    by_day = [count_idx[(wd0 + t) % 7] for t in range(T)]
    c_p = np.concatenate(by_day) if T else np.zeros(0, np.int64)
    c_t = np.repeat(np.arange(T), [len(v) for v in by_day])
    if has_late:
        ok = fd[c_p] <= c_t
        c_t, c_p = c_t[ok], c_p[ok]
    if len(c_t):
        c_adj = adj[c_t, c_p]
        counts = (c_p, c_t, end[c_t, c_p].astype(np.int64) - c_adj, c_adj)
    else:
        counts = tuple(np.zeros(0, np.int64) for _ in range(4))
    return _Sim(end, inbound, adj, rcpt, counts)


def _last_true(mask: np.ndarray) -> np.ndarray:
    """Index of the last True at or before each position along axis 1 (-1 if none)."""
    idx = np.where(mask, np.arange(mask.shape[1])[None, :], -1)
    return np.maximum.accumulate(idx, axis=1)


def _plant_stock_outs(rng: np.random.Generator, out: np.ndarray, cum: np.ndarray, pr: _Pairs,
                      sim: _Sim, wd0: int, n_target: int):
    """Pick sales gaps and re-run those pairs so that the shelf is empty during the gap.

    A candidate is a pair with two consecutive sale days ``s1 < s2`` several days apart whose
    stock between the last receipt ``r`` before ``s1`` and ``s2`` was disturbed by neither an
    emergency buy nor a stock-take correction. Cutting the purchase order received on ``r``
    by the stock left at the close of ``s1`` (and holding later orders back until ``s2``)
    empties the shelf exactly with the sale of ``s1``; it stays empty until ``s2``.
    """
    T = out.shape[0]
    sp, sd = np.nonzero(out.T > 0)  # sale days, pair-major
    same = sp[1:] == sp[:-1]
    c_p, c_s1, c_s2 = sp[:-1][same], sd[:-1][same], sd[1:][same]
    gap = c_s2 - c_s1
    ok = (gap >= STOCK_OUT_GAP[0]) & (gap <= STOCK_OUT_GAP[1]) & (
        c_s1 >= pr.first_day[c_p] + 21)
    c_p, c_s1, c_s2 = c_p[ok], c_s1[ok], c_s2[ok]
    pairs = np.unique(c_p)
    if not len(pairs):
        return None
    if len(pairs) > 40 * n_target:
        pairs = np.sort(rng.choice(pairs, 40 * n_target, replace=False))
        ok = np.isin(c_p, pairs)
        c_p, c_s1, c_s2 = c_p[ok], c_s1[ok], c_s2[ok]
    m = len(pairs)
    loc = np.searchsorted(pairs, c_p)
    rp, ro, ra, rq, re = sim.rcpt
    sel = np.flatnonzero(np.isin(rp, pairs))
    rk = np.searchsorted(pairs, rp[sel]) * T + ra[sel]
    n_at = np.bincount(rk, minlength=m * T).reshape(m, T)
    em_at = np.bincount(rk[re[sel]], minlength=m * T).reshape(m, T) > 0
    last = _last_true(n_at > 0)
    disturb = np.cumsum(em_at | (sim.adj[:, pairs].T != 0), axis=1)
    r = last[loc, c_s1]
    ok = r > pr.first_day[c_p]
    c_p, loc, c_s1, c_s2, r = c_p[ok], loc[ok], c_s1[ok], c_s2[ok], r[ok]
    ok = (n_at[loc, r] == 1) & (disturb[loc, c_s2 - 1] == disturb[loc, r - 1])
    c_p, loc, c_s1, c_s2, r = c_p[ok], loc[ok], c_s1[ok], c_s2[ok], r[ok]
    if not len(c_p):
        return None
    by_key = np.argsort(rk, kind="stable")
    ri = sel[by_key[np.searchsorted(rk[by_key], loc * T + r)]]  # the receipt arriving on r
    e = sim.end[c_s1, c_p]
    ok = ~re[ri] & (ro[ri] >= 0) & (rq[ri] > e) & (e > 0)
    c_p, c_s1, c_s2, r, ri, e = (v[ok] for v in (c_p, c_s1, c_s2, r, ri, e))
    if not len(c_p):
        return None
    order = rng.permutation(len(c_p))
    _, first = np.unique(c_p[order], return_index=True)  # one gap per pair
    pick = order[first]
    pick = np.sort(pick[rng.permutation(len(pick))[:n_target]])
    sub, s1, s2 = c_p[pick], c_s1[pick], c_s2[pick]
    plant = _Plant(ro[ri[pick]].astype(np.int64), e[pick].astype(np.int64),
                   s2.astype(np.int64), r[pick].astype(np.int64))
    for _ in range(2):
        s = _simulate(out[:, sub], cum[:, sub], pr.take(sub), plant, wd0)
        # keep the plants that came out as designed: on_hand_end is 0 exactly on [s1, s2)
        good = np.array([np.array_equal(np.flatnonzero(s.end[pr.first_day[p]:, i] == 0)
                                        + pr.first_day[p], np.arange(a, b))
                         for i, (p, a, b) in enumerate(zip(sub, s1, s2, strict=True))],
                        dtype=bool)
        if good.all():
            return sub, s, s1, s2
        keep = np.flatnonzero(good)
        if not len(keep):
            return None
        sub, s1, s2, plant = sub[keep], s1[keep], s2[keep], plant.take(keep)
    return None


def _splice(sim: _Sim, sub: np.ndarray, s: _Sim) -> _Sim:
    """Replace the pairs ``sub`` of ``sim`` by the re-run ``s`` (whose pairs are 0..len-1)."""
    sim.end[:, sub] = s.end
    sim.inbound[:, sub] = s.inbound
    sim.adj[:, sub] = s.adj

    def merge(a: tuple, b: tuple) -> tuple:
        drop = np.isin(a[0], sub)
        return tuple(np.concatenate([x[~drop], sub[y] if i == 0 else y])
                     for i, (x, y) in enumerate(zip(a, b, strict=True)))

    return _Sim(sim.end, sim.inbound, sim.adj, merge(sim.rcpt, s.rcpt),
                merge(sim.counts, s.counts))


def _ledger(sim: _Sim, out: np.ndarray, first_day: np.ndarray, opening: np.ndarray,
            dates: np.ndarray, p_prod: np.ndarray, p_wh: np.ndarray, prod_ids: np.ndarray,
            wh_ids: np.ndarray) -> pd.DataFrame:
    """The ``inventory`` table: one row per stocked pair and day, ordered by day then pair.

    The integer columns are written straight into one 2-D block so that pandas adopts it
    without another copy (the table has millions of rows).
    """
    T, n = out.shape
    n_active = np.cumsum(np.bincount(first_day, minlength=T))  # stocked pairs per day
    off = np.concatenate([[0], np.cumsum(n_active)])
    N = int(off[-1])
    block = np.empty((5, N), dtype=np.int32)
    prod_code = np.empty(N, dtype=np.int32)
    wh_code = np.empty(N, dtype=np.int8 if len(wh_ids) < 128 else np.int32)
    p_code, w_code = p_prod.astype(prod_code.dtype), p_wh.astype(wh_code.dtype)
    prev = np.where(first_day == 0, opening, 0)  # opening stock; later pairs open at 0
    step = max(1, 2**20 // max(n, 1))  # days per chunk: bounded temporaries at any size
    for t0 in range(0, T, step):
        t1 = min(T, t0 + step)
        stocked = first_day[None, :] <= np.arange(t0, t1)[:, None]  # (days, pairs)
        flat = stocked.ravel()
        a, b = off[t0], off[t1]
        for k, m in enumerate((sim.inbound, out, sim.adj, sim.end), start=1):
            np.compress(flat, m[t0:t1].ravel(), out=block[k, a:b])
        # on_hand_start: the previous day's on_hand_end (0 for pairs not stocked yet)
        if t0 == 0:
            block[0, :off[1]] = prev[stocked[0]]
            if t1 > 1:
                np.compress(stocked[1:].ravel(), sim.end[:t1 - 1].ravel(),
                            out=block[0, off[1]:b])
        else:
            np.compress(flat, sim.end[t0 - 1:t1 - 1].ravel(), out=block[0, a:b])
        cols = stocked.nonzero()[1]
        prod_code[a:b] = p_code[cols]
        wh_code[a:b] = w_code[cols]
    df = pd.DataFrame(block.T, columns=["on_hand_start", "inbound", "outbound", "adjustments",
                                        "on_hand_end"], copy=False)
    for i, (name, col) in enumerate((
            ("date", np.repeat(dates, n_active)),
            ("product_id", pd.Categorical.from_codes(prod_code, categories=prod_ids)),
            ("warehouse_id", pd.Categorical.from_codes(wh_code, categories=wh_ids)))):
        df.insert(i, name, pd.Series(col, copy=False))  # a Series is adopted, not copied
    return df


# ---------------------------------------------------------------------------------------------


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    rng = ctx.rng("inventory")
    products = ctx.tables["products"]
    lines = ctx.tables["order_lines"]
    ships = ctx.tables["shipments"]
    whs = ctx.tables["warehouses"]

    prod_ids = products["product_id"].astype(str).to_numpy()
    wh_ids = whs["warehouse_id"].astype(str).to_numpy()
    n_prod, n_wh = len(prod_ids), len(wh_ids)
    tz, domestic, first_leg = _warehouse_profile(whs)
    zones, zone_of_wh = np.unique(tz, return_inverse=True)

    # ---- outbound: shipped order lines on the warehouse-local day of their shipment --------
    shipped_at = ships["shipped_at"]
    s_ok = shipped_at.notna().to_numpy()
    s_wh = _lookup(whs["warehouse_id"], ships["warehouse_id"])
    s_day = np.zeros(len(ships), dtype=np.int64)
    s_day[s_ok] = _local_days(shipped_at[s_ok], zone_of_wh[s_wh[s_ok]], zones)
    li = _lookup(ships["order_id"], lines["order_id"])  # the order's shipment (first if split)
    shipped = li >= 0
    shipped[shipped] = s_ok[li[shipped]]
    li = li[shipped]
    l_prod = _lookup(products["product_id"], lines["product_id"])[shipped]
    l_qty = lines["quantity"].to_numpy()[shipped].astype(np.int64)
    l_wh, l_day = s_wh[li], s_day[li]

    d_start, d_end = ctx.start.value // NS_PER_DAY, ctx.end.value // NS_PER_DAY
    if len(l_day):
        d_start, d_end = min(d_start, int(l_day.min())), max(d_end, int(l_day.max()))
    T = int(d_end - d_start + 1)
    day0 = pd.Timestamp(d_start * NS_PER_DAY)
    l_day = l_day - d_start

    # ---- stocked pairs: every product × warehouse that ships, plus slow movers ------------
    key = l_prod.astype(np.int64) * n_wh + l_wh
    never = np.flatnonzero(np.bincount(l_prod, minlength=n_prod) == 0)
    slow = never[rng.random(len(never)) < SLOW_MOVER_SHARE]
    wh_vol = np.bincount(l_wh, weights=l_qty, minlength=n_wh) + 1.0
    slow_wh = rng.choice(n_wh, size=len(slow), p=wh_vol / wh_vol.sum())
    stocked = np.bincount(key, minlength=n_prod * n_wh) > 0
    stocked[slow * n_wh + slow_wh] = True
    keys = np.flatnonzero(stocked)  # pairs sorted by product, then warehouse
    p_prod, p_wh = keys // n_wh, keys % n_wh
    n = len(keys)
    pair_no = np.cumsum(stocked) - 1
    out = np.bincount(l_day * n + pair_no[key], weights=l_qty,
                      minlength=T * n).astype(np.int32).reshape(T, n)

    # ---- policy parameters and pre-drawn randomness -------------------------------------
    sold = out.any(axis=0)
    # purchase lead time: supplier → China; overseas adds the first leg and receiving
    leg = first_leg[p_wh]
    leg = np.where(np.isnan(leg), rng.integers(*OVERSEAS_LEAD, n), leg).astype(np.int64)
    lead = rng.integers(*DOMESTIC_LEAD, n) + np.where(
        domestic[p_wh], 0, leg + rng.integers(*RECEIVING_DAYS, n))
    weekly = out.sum(axis=0) / T * 7
    pack_i = np.clip(np.searchsorted([2.0, 7.0, 20.0, 60.0, 150.0], weekly)
                     + rng.integers(-1, 2, n), 0, len(PACKS) - 1)  # faster sellers, bigger cases
    pack = PACKS[pack_i]
    cover = rng.integers(*COVER_DAYS, n)
    count_wd = rng.integers(0, 7, n_wh)[p_wh]
    n_weeks = T // 7 + 1
    noise = np.exp(PLAN_SIGMA * rng.standard_normal((n_weeks, n)))
    jitter = rng.integers(*LEAD_JITTER, (n_weeks, n)).astype(np.int64)
    hit = rng.random((n_weeks, n)) < DISCREPANCY_RATE
    hi, hp = np.nonzero(hit)
    kind = np.full((n_weeks, n), -1, dtype=np.int8)
    kind[hi, hp] = rng.choice(len(DISCREPANCY_KINDS), size=len(hi), p=[0.5, 0.35, 0.15])
    k = kind[hi, hp]
    mag = np.where(k == 1, rng.integers(1, 3, len(hi)), rng.integers(1, 4, len(hi)))
    sign = np.where(k == 0, -1, np.where(k == 2, 1, rng.choice([-1, 1], len(hi))))
    disc = np.zeros((n_weeks, n), dtype=np.int8)
    disc[hi, hp] = sign * mag

    # planned sales: cumulative true sales, extended past the end at the last 4 weeks' rate
    h_max = int(lead.max()) + REVIEW_DAYS + 2 + COVER_DAYS[1] + LEAD_JITTER[1] + 16
    cum = np.empty((T + 1 + h_max, n), dtype=np.float32)  # exact for integers < 2**24
    cum[0] = 0
    np.cumsum(out, axis=0, dtype=np.float32, out=cum[1:T + 1])
    recent = out[max(0, T - 28):].mean(axis=0)
    cum[T + 1:] = cum[T] + np.arange(1, h_max + 1)[:, None] * recent[None, :]

    # first stocked day: the launch day or the first sale, whichever is first (0 = opening)
    launch = products["launch_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    first_sale = np.where(sold, np.argmax(out > 0, axis=0), T - 1)
    first_day = np.clip(np.minimum(launch[p_prod] - d_start, first_sale), 0, T - 1)
    ar = np.arange(n)
    f0 = cum[first_day + lead + REVIEW_DAYS + 2 + cover, ar] - cum[first_day, ar]
    opening = np.ceil((f0 + SAFETY_Z * np.sqrt(f0) + 1) / pack).astype(np.int64) * pack
    opening = np.where(sold, opening, pack * rng.integers(1, 4, n))

    pr = _Pairs(first_day, lead, pack, cover, count_wd, opening, noise, jitter, disc)
    wd0 = day0.weekday()
    sim = _simulate(out, cum, pr, _Plant.none(n), wd0)
    planted = _plant_stock_outs(rng, out, cum, pr, sim, wd0,
                                n_target=int(np.clip(n // 400, 2, 12)))
    if planted is not None:
        sub, sub_sim, s1, s2 = planted
        sim = _splice(sim, sub, sub_sim)
    del cum

    # ---- tables ---------------------------------------------------------------------------
    dates = (day0 + pd.to_timedelta(np.arange(T), unit="D")).to_numpy()
    inventory = _ledger(sim, out, first_day, opening, dates, p_prod, p_wh, prod_ids, wh_ids)
    sim.end = sim.inbound = sim.adj = out = None  # free the day × pair matrices

    o = np.lexsort((sim.rcpt[0], sim.rcpt[2]))  # by arrival day, product, warehouse
    r_pair, r_ord, r_arr, r_qty, r_em = (v[o] for v in sim.rcpt)
    cost = products["unit_cost_cny"].to_numpy(dtype=float)[p_prod[r_pair]]
    cost = cost * np.exp(COST_SIGMA * rng.standard_normal(len(o)))
    cost = np.where(r_em, cost * rng.uniform(*EMERGENCY_PREMIUM, len(o)), cost)
    receipts = pd.DataFrame({
        "receipt_id": fast_ids("GR", len(o), width=7),
        "product_id": pd.Categorical.from_codes(p_prod[r_pair], categories=prod_ids),
        "warehouse_id": pd.Categorical.from_codes(p_wh[r_pair], categories=wh_ids),
        "ordered_date": day0 + pd.to_timedelta(r_ord, unit="D"),
        "arrival_date": dates[r_arr],
        "quantity": r_qty.astype(np.int64),
        "unit_cost_cny": round_cents(cost),
        "inbound_type": pd.Categorical.from_codes(r_em.astype(np.int8),
                                                  categories=list(INBOUND_TYPES)),
    })

    o = np.lexsort((sim.counts[0], sim.counts[1]))  # by day, product, warehouse
    c_pair, c_day, c_sys, c_disc = (v[o] for v in sim.counts)
    takes = pd.DataFrame({
        "stock_take_id": fast_ids("STK", len(o), width=7),
        "count_date": dates[c_day],
        "product_id": pd.Categorical.from_codes(p_prod[c_pair], categories=prod_ids),
        "warehouse_id": pd.Categorical.from_codes(p_wh[c_pair], categories=wh_ids),
        "system_qty": c_sys.astype(np.int64),
        "counted_qty": (c_sys + c_disc).astype(np.int64),
        "discrepancy": c_disc.astype(np.int64),
    })

    # ---- labels ---------------------------------------------------------------------------
    bad = np.flatnonzero(c_disc != 0)
    kinds = np.asarray(DISCREPANCY_KINDS)[kind[c_day[bad] // 7, c_pair[bad]]]
    detail = [f"{kd}: counted {d:+d} vs system ({s} → {s + d})"
              for kd, d, s in zip(kinds, c_disc[bad].tolist(), c_sys[bad].tolist(),
                                  strict=True)]
    labels = [label_spec("stocktake_discrepancy", "stock_takes",
                           takes["stock_take_id"].to_numpy()[bad], start=dates[c_day[bad]],
                           end=dates[c_day[bad]], detail=detail)]
    if planted is not None:
        ent = [f"{prod_ids[p_prod[p]]}@{wh_ids[p_wh[p]]}" for p in sub]
        det = [f"stock ran out in warehouse {wh_ids[p_wh[p]]} with the last sale before a "
               f"{int(b - a) - 1}-day sales gap (purchase order cut, later orders delayed); "
               f"restocked on {pd.Timestamp(dates[b]).date()}"
               for p, a, b in zip(sub, s1, s2, strict=True)]
        labels.append(label_spec("stock_out", "inventory", ent, start=dates[s1],
                                   end=dates[s2 - 1], detail=det))
    return {"inventory": inventory, "inbound_receipts": receipts, "stock_takes": takes,
            "anomalies": label_frame(labels)}
