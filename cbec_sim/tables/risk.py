"""Stage ``risk``: card disputes (拒付, chargebacks) on B2C card payments.

One row per card payment a cardholder disputed with the card issuer. Reasons follow the
networks' dispute categories (fraud / not authorised, item not received, not as described,
duplicate processing). Orders labelled as fraud in ``anomalies`` are far more likely to be
disputed, and lost parcels bring "not received" disputes. One store-month is planted above the
card-network monitoring threshold (:data:`cbec_sim.rules.CHARGEBACK_RATIO_MAX` with at least
:data:`cbec_sim.rules.CHARGEBACK_COUNT_MIN` chargebacks) and labelled ``chargeback_monitoring``.

The data are a snapshot at the end of the period: disputes opened later are not in the table,
and disputes still open at the snapshot are ``pending``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec_sim import rules
from cbec_sim.context import Context
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import const_categorical, equals, fast_ids, take
from cbec_sim.tables.labels import anomaly_rows
from cbec_sim.validate import invariant
from cbec_sim.world import World

REASONS = ("fraud", "item_not_received", "not_as_described", "duplicate_processing")
STATUSES = ("lost", "pending", "won")
NETWORKS = ("amex", "mastercard", "visa")
CARD_METHOD = "credit_card"
NS_DAY = 86_400 * 10**9

#: Chance that an eligible card payment is disputed for each reason, by order situation.
BASE_P = {"fraud": 0.0018, "item_not_received": 0.0010, "not_as_described": 0.0012,
          "duplicate_processing": 0.0004}
FRAUD_LABELLED_P = 0.7  # orders labelled fraud_* in anomalies (stolen cards)
LOST_PARCEL_P = 0.3  # lost parcels: "item not received"
RETURNED_P = 0.02  # returned orders: "not as described" (buyer also disputes)
#: Share of disputes the store wins in representment, by reason (delivered parcel for INR).
WIN_P = {"fraud": 0.15, "item_not_received": 0.6, "not_as_described": 0.35,
         "duplicate_processing": 0.1}
#: Median days from payment (or delivery, for "not as described") to the dispute.
OPEN_DAYS = {"fraud": 30.0, "item_not_received": 35.0, "not_as_described": 10.0,
             "duplicate_processing": 12.0}

CHARGEBACKS = register(TableSpec(
    name="chargebacks",
    grain="one disputed card payment (chargeback) of a B2C order",
    description="Card disputes (拒付) filed by cardholders with their card issuer, received "
                "up to the end of the period. Only card payments (`orders.payment_method == "
                "'credit_card'`) can be charged back. The store pays a fee per dispute, won "
                "or lost; a lost dispute also takes the amount back. The monitoring threshold "
                "is `cbec_sim.rules.CHARGEBACK_RATIO_MAX` (chargebacks received in a month ÷ "
                "card orders paid in that month) with at least `CHARGEBACK_COUNT_MIN` "
                "chargebacks.",
    columns=(
        Column("chargeback_id", "str", "chargeback id", unique=True),
        Column("order_id", "str", "disputed order", references="orders.order_id",
               unique=True),
        Column("store_id", "str", "store of the order", references="stores.store_id"),
        Column("platform_id", "str", "platform of the store",
               references="platforms.platform_id"),
        Column("market", "category", "market of the order (ISO code)"),
        Column("card_network", "category", "card scheme of the payment", values=NETWORKS),
        Column("reason_code", "category", "dispute category given by the issuer",
               values=REASONS),
        Column("opened_at", "timestamp", "when the issuer notified the chargeback (after "
               "`orders.paid_at`)"),
        Column("amount", "money", "disputed amount (≤ `orders.order_total`)",
               unit="currency", ge=0),
        Column("currency", "category", "currency of the amount (the order's currency)"),
        Column("amount_cny", "money", "disputed amount in CNY at the order's rate "
               "(`orders.fx_rate_cny`)", unit="CNY", ge=0),
        Column("fee_usd", "money", "chargeback fee charged by the acquirer, won or lost",
               unit="USD", ge=0),
        Column("status", "category", "`won` (store kept the money), `lost` (amount returned "
               "to the cardholder) or `pending` (undecided at the end of the period)",
               values=STATUSES),
        Column("resolved_at", "timestamp", "when the dispute was decided (empty while "
               "pending)", nullable=True),
    ),
    checks=("opened_at > orders.paid_at", "amount ≤ orders.order_total",
            "resolved_at > opened_at", "only card-paid orders"),
))


def _fraud_orders(ctx: Context) -> set[str]:
    lab = ctx.labels.get("anomalies")
    if lab is None or not len(lab):
        return set()
    keep = (lab["table"].astype(str) == "orders") & lab["kind"].astype(str).str.startswith(
        "fraud_")
    return set(lab.loc[keep, "entity_id"].astype(str))


def _isin_ids(col: pd.Series, ids) -> np.ndarray:
    """``col.isin(ids).to_numpy()`` for a text id column, as one Arrow hash look-up
    (a column with missing ids is left to pandas)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(col, type=pa.string(), from_pandas=True)
    if arr.null_count:
        return col.isin(ids).to_numpy()
    values = pa.array(np.asarray(list(ids), dtype=object), type=pa.string(), from_pandas=True)
    return np.asarray(pc.is_in(arr, value_set=values), dtype=bool)



def _pick_reason(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """Reason index per row (-1 = no dispute) from per-reason probabilities ``p`` (n × 4)."""
    u = rng.random(len(p))
    cum = np.cumsum(p, axis=1)
    idx = (u[:, None] >= cum).sum(axis=1)
    return np.where(idx < p.shape[1], idx, -1)


def _store_months(store: np.ndarray, month: np.ndarray,
                  free: np.ndarray) -> dict[str, np.ndarray]:
    """Card payments per (store, month), keeping months whose next month also has payments.

    ``store``: store codes (ordered like the sorted store ids, -1 = missing, dropped);
    ``month``: period ordinals; ``free``: payments not yet disputed. Returns arrays ``s``
    (store code), ``m``, ``n`` (payments), ``free`` (undisputed payments) and ``n_next``
    (payments the month after), sorted by store then month -- the rows of a sorted
    ``groupby(["s", "m"])`` inner-merged with itself shifted by one month.
    """
    ok = store >= 0
    store, month, free = store[ok].astype(np.int64), month[ok], free[ok]
    if not len(store):
        empty = np.zeros(0, np.int64)
        return {"s": empty, "m": empty, "n": empty, "free": empty, "n_next": empty}
    m_lo = month.min()
    span = month.max() - m_lo + 2  # + 2: "next month" of the last month stays in its store
    key, inv = np.unique(store * span + (month - m_lo), return_inverse=True)
    n = np.bincount(inv, minlength=len(key))
    n_free = np.bincount(inv, weights=free, minlength=len(key)).astype(np.int64)
    pos = np.minimum(np.searchsorted(key, key + 1), len(key) - 1)
    has_next = key[pos] == key + 1
    key = key[has_next]
    return {"s": key // span, "m": key % span + m_lo, "n": n[has_next],
            "free": n_free[has_next], "n_next": n[pos[has_next]]}


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    """The ``chargebacks`` table and its ``anomalies`` label."""
    rng = ctx.rng("risk")
    r_dispute, r_timing, r_plant = rng.spawn(3)
    o = ctx.tables["orders"]
    snap = (ctx.end + pd.Timedelta(days=1)).tz_localize("UTC").value
    paid = o["paid_at"].array.asi8
    card = equals(o["payment_method"], CARD_METHOD) & (paid != np.iinfo(np.int64).min) & ~equals(
        o["status"], "cancelled")
    elig = np.flatnonzero(card)
    n = len(elig)
    oid_s = o["order_id"]
    status_lost = equals(o["status"], "lost")[elig]
    returned = equals(o["status"], "returned")[elig]

    # 1. which card payments are disputed, and why (hash look-ups on the id column)
    fraud = _isin_ids(oid_s, _fraud_orders(ctx))[elig]
    ship = ctx.tables.get("shipments")
    lost_ids = set() if ship is None else set(ship.loc[ship["is_lost"].to_numpy(bool),
                                                       "order_id"].astype(str))
    parcel_lost = _isin_ids(oid_s, lost_ids)
    lost = status_lost | parcel_lost[elig]
    p = np.tile([BASE_P[r] for r in REASONS], (n, 1))
    p[fraud, 0] = FRAUD_LABELLED_P
    p[lost, 1] = LOST_PARCEL_P
    p[returned, 2] = RETURNED_P
    reason = _pick_reason(r_dispute, p)
    network = r_dispute.choice(len(NETWORKS), n, p=[0.1, 0.35, 0.55])
    partial = r_dispute.uniform(0.3, 1.0, n)

    # 2. planted: one store-month whose cardholders dispute a batch of last month's payments
    sid = o["store_id"]  # codes in lexical order of the ids (a categorical: of its values)
    store_code, store_names = pd.factorize(
        sid.to_numpy(object) if isinstance(sid.dtype, pd.CategoricalDtype) else sid, sort=True)
    st = store_code[elig]
    month = pd.DatetimeIndex(paid[elig].view("M8[ns]")).to_period("M").asi8
    plant_open = np.full(n, -1, np.int64)
    labels = []
    free = reason < 0
    per = _store_months(st, month, free)  # store-months followed by one with card payments
    # enough disputes to reach twice the threshold ratio next month, and the minimum count
    k_min = np.maximum(rules.CHARGEBACK_COUNT_MIN + 1,
                       np.ceil(2 * rules.CHARGEBACK_RATIO_MAX * per["n_next"]).astype(int))
    last = pd.Timestamp(snap - 25 * NS_DAY).to_period("M").ordinal  # room for days 3–24
    cand = np.flatnonzero((per["free"] >= k_min) & (per["m"] + 1 <= last))
    if len(cand):
        c = cand[int(r_plant.integers(len(cand)))]
        s0, m0, k = str(store_names[per["s"][c]]), int(per["m"][c]), int(k_min[c])
        rows = np.flatnonzero((st == per["s"][c]) & (month == m0) & free)
        pick = np.sort(r_plant.choice(rows, k, replace=False))
        first = pd.Period(ordinal=m0 + 1, freq="M").start_time
        day = r_plant.integers(2, 24, k)  # days 3–24: the same month in every time zone
        secs = r_plant.integers(0, 86_400, k)
        plant_open[pick] = first.value + day * NS_DAY + secs * 10**9
        reason[pick] = 0
        labels.append(anomaly_rows(
            "chargeback_monitoring", "stores", [s0], store_id=s0,
            start=first, end=first + pd.offsets.MonthEnd(0),
            detail=f"{k} fraud chargebacks in one month: chargeback ratio above the "
                   "card-network monitoring threshold"))

    # 3. timing, amounts and outcome of the disputes
    d = np.flatnonzero(reason >= 0)
    rs = reason[d]
    rows = elig[d]
    med = np.array([OPEN_DAYS[r] for r in REASONS])[rs]
    delay = np.clip(r_timing.lognormal(np.log(med), 0.5), 2.0, 110.0)
    deliv = o["delivered_at"].array.asi8[rows]
    base = np.where((rs == 2) & (deliv != np.iinfo(np.int64).min), np.maximum(deliv, paid[rows]),
                    paid[rows])
    opened = base + (delay * NS_DAY).astype(np.int64)
    opened = np.where(plant_open[d] >= 0, plant_open[d], opened)
    win = r_timing.random(len(d)) < np.array([WIN_P[r] for r in REASONS])[rs]
    win &= ~((rs == 1) & parcel_lost[rows])  # a lost parcel cannot be proven delivered
    resolve = opened + (r_timing.uniform(20, 75, len(d)) * NS_DAY).astype(np.int64)
    keep = opened < snap
    total = o["order_total"].to_numpy(float)[rows]
    amount = rules.round_cents(np.where(rs == 2, total * partial[d], total))
    amount = np.minimum(amount, total)
    fx = o["fx_rate_cny"].to_numpy(float)[rows]
    done = resolve < snap
    stat = np.where(done, np.where(win, 2, 0), 1)

    sel = np.flatnonzero(keep)
    sel = sel[np.lexsort((rows[sel], opened[sel]))]  # by time, then order position
    r = rows[sel]
    nat = np.iinfo(np.int64).min
    out = pd.DataFrame({
        "chargeback_id": fast_ids("CB", len(sel), width=6),
        "order_id": take(oid_s, r),
        "store_id": take(o["store_id"], r),
        "platform_id": take(o["platform_id"], r),
        "market": o["market"].take(r).to_numpy(),
        "card_network": const_categorical(network[d][sel], NETWORKS),
        "reason_code": const_categorical(rs[sel], REASONS),
        "opened_at": pd.to_datetime(opened[sel], utc=True),
        "amount": amount[sel],
        "currency": o["currency"].take(r).to_numpy(),
        "amount_cny": rules.round_cents(amount[sel] * fx[sel]),
        "fee_usd": np.full(len(sel), rules.CHARGEBACK_FEE_USD),
        "status": const_categorical(stat[sel], STATUSES),
        "resolved_at": pd.to_datetime(np.where(done[sel], resolve[sel], nat), utc=True),
    })
    out["opened_at"] = out["opened_at"].dt.floor("s")
    out["resolved_at"] = out["resolved_at"].dt.floor("s")
    res = {"chargebacks": out}
    if labels:
        res["anomalies"] = pd.concat(labels, ignore_index=True)
    return res


@invariant
def chargebacks_follow_payments(w: World) -> list[str]:
    """Chargebacks only on card-paid orders, after payment, for at most the order total."""
    cb, o = w.tables.get("chargebacks"), w.tables.get("orders")
    if cb is None or o is None or not len(cb):
        return []
    m = cb.merge(o[["order_id", "paid_at", "order_total", "payment_method"]], on="order_id",
                 how="left")
    out = []
    if (m["payment_method"].astype(str) != CARD_METHOD).any():
        out.append("chargebacks: disputes on orders not paid by card")
    if not (m["opened_at"] > m["paid_at"]).all():
        out.append("chargebacks: opened_at not after orders.paid_at")
    if (m["amount"] > m["order_total"] + 0.005).any():
        out.append("chargebacks: amount above orders.order_total")
    r = cb["resolved_at"].notna()
    if (cb.loc[r, "resolved_at"] <= cb.loc[r, "opened_at"]).any():
        out.append("chargebacks: resolved_at not after opened_at")
    return out


@invariant
def markets_are_known(w: World) -> list[str]:
    """Every ``market`` column holds codes of the ``markets`` reference table."""
    mk = w.tables.get("markets")
    if mk is None:
        return []
    known = set(mk["market"].astype(str))
    out = []
    for name, df in w.tables.items():
        if name != "markets" and "market" in df.columns:
            bad = set(df["market"].dropna().astype(str).unique()) - known
            if bad:
                out.append(f"{name}.market: codes not in markets.market: {sorted(bad)[:5]}")
    return out
