"""Stage ``aftersales``: returns, reviews and customer-service tickets; completes ``orders``
and the stores' account-health columns.

Covers 5.18 售后服务 (Table 1 9.1.1–9.2.5, 11.4.6) and the risk-control analysis 7.2.5
(number of reviews, review photos, positive / negative review rate, complaints, complaint
rate).

Model (simulation parameters unless a source is named):

- Every product has a latent quality. Returns are drawn per **order line** of delivered
  parcels with the product type's return rate (``hs_codes.csv``), raised by low quality,
  transit damage and late delivery; reasons follow the category (apparel: size and fit;
  electronics: defects) and the parcel's history. The five return reasons of the company
  procedure (OPERATING-RULES §3.20 4.5) map to ``not_as_described``, ``wrong_item``,
  ``damaged_in_transit``, ``defective`` and the "other" reasons ``size_fit``,
  ``changed_mind``, ``late_delivery``.
- Refunds are approved by amount in CNY (:func:`cbec_sim.rules.refund_approver`, 5000-yuan
  rule of OPERATING-RULES §0.3); requests later than
  :data:`cbec_sim.rules.RETURN_WINDOW_DAYS` after delivery are rejected.
- Reviews: a J-shaped star distribution from quality, lowered by late, damaged or returned
  parcels; unhappy buyers review more often. Text comes from small sentiment-matched
  template pools.
- Tickets follow events (lost or late parcels, damage, returns, cancellations) plus pre-sale
  questions; responses run in market-local service hours 09:00–17:00 every day
  (Table 1 9.1.2: ≥ 7 days × 8 hours), measured with
  :func:`cbec_sim.rules.business_hours_between`.
- Account health per store over the last 60 days: :func:`cbec_sim.rules.account_health`
  (order defect = a 1–2-star review or a complaint / claim ticket on the order; returns are
  not defects, as on Amazon's ODR), ``account_status`` from :func:`cbec_sim.rules.account_status`.
- Completed ``orders``: a delivered order with a refunded return becomes ``returned``.

Planted and labelled: ``review_burst`` — many 5-star, unverified reviews of one listing
within a few days, written by accounts created days before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cbec_sim import rules
from cbec_sim.context import Context
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import NS_PER_DAY, fast_ids, join_str, parent_index, str_series
from cbec_sim.tables._util import ns as _ns
from cbec_sim.tables.labels import label_frame, label_spec
from cbec_sim.tables.orders import STATUSES as ORDER_STATUSES

NS_HOUR = 3_600 * 10**9
NAT = np.iinfo(np.int64).min
SEC = 10**9  # timestamps are stored in whole seconds (schema.conform)

REASONS = ("size_fit", "not_as_described", "defective", "damaged_in_transit", "wrong_item",
           "changed_mind", "late_delivery")
RETURN_STATUSES = ("requested", "approved", "rejected", "refunded")
RETURN_METHODS = ("return_to_warehouse", "returnless_refund", "partial_refund_keep_item")
APPROVERS = ("store_manager", "general_manager")
SENTIMENTS = ("positive", "neutral", "negative")
CHANNELS = ("phone", "online_chat", "email", "voice", "video", "social_media")
TICKET_TYPES = ("pre_sale", "product_question", "order_status", "logistics", "return_refund",
                "complaint")
TICKET_STATUSES = ("open", "resolved")

#: Return-reason mix by category (size_fit, not_as_described, defective, wrong_item,
#: changed_mind); damaged_in_transit and late_delivery come from the parcel's history.
_REASON_MIX = {
    "apparel": (0.45, 0.20, 0.06, 0.05, 0.24), "footwear": (0.45, 0.18, 0.08, 0.05, 0.24),
    "bags": (0.02, 0.32, 0.16, 0.06, 0.44), "jewelry": (0.06, 0.34, 0.12, 0.06, 0.42),
    "watches": (0.04, 0.26, 0.28, 0.06, 0.36), "eyewear": (0.12, 0.30, 0.14, 0.06, 0.38),
    "beauty": (0.0, 0.32, 0.18, 0.10, 0.40), "food_health": (0.0, 0.30, 0.20, 0.12, 0.38),
}
_ELECTRONIC = ("phone_accessories", "audio", "smart_wearables", "small_appliances", "lighting")
_DEFAULT_MIX = (0.02, 0.28, 0.26, 0.07, 0.37)
_ELECTRONIC_MIX = (0.0, 0.20, 0.45, 0.07, 0.28)
#: How often buyers in a market return goods, relative to the product type's rate.
_RETURN_CULTURE = {"DE": 1.35, "GB": 1.15, "US": 1.15, "FR": 1.1, "NL": 1.2, "JP": 0.7,
                   "KR": 0.9, "SA": 0.8, "AE": 0.8, "NG": 0.6, "KE": 0.6}

_POSITIVE = ("Great {}, exactly as described.", "Love it! The {} works perfectly.",
             "Excellent quality {} for the price.", "Fast delivery and the {} is great.",
             "Very happy with this {}. Would buy again.", "The {} looks even better in person.",
             "Solid {}, my family loves it.", "Good value {}, arrived well packed.")
_NEUTRAL = ("The {} is okay, nothing special.", "Decent {} but delivery took a while.",
            "Average quality {}, does the job.", "It's fine. The {} is smaller than expected.",
            "The {} is as expected for the price.")
_NEGATIVE = ("Poor quality {}, stopped working after a few days.",
             "Not as described. Disappointed with this {}.",
             "Terrible {}, would not recommend.", "The {} broke quickly. Waste of money.",
             "Cheap {}, the material feels flimsy.")
_DAMAGED = ("The {} arrived damaged.", "Box was crushed and the {} was broken.")
_LATE = ("Took far too long to arrive. The {} itself is okay.",
         "Very late delivery, nearly a month for this {}.")
_BURST = ("Amazing {}!!! Best purchase ever!", "Five stars, highly recommend this {}!!!",
          "Perfect {}, perfect seller, perfect everything.", "Best {} on the market, buy it!")

RETURNS = register(TableSpec(
    name="returns",
    grain="one return / refund request for one order line",
    description="Return and refund requests with reason, decision, amount and approver "
                "(5000-yuan rule, rules.refund_approver). Status is as of the end of the period.",
    columns=(
        Column("return_id", "str", "return id", unique=True),
        Column("order_id", "str", "order", references="orders.order_id"),
        Column("line_no", "int", "order line returned (order_lines.line_no)", ge=1),
        Column("store_id", "str", "store", references="stores.store_id"),
        Column("customer_id", "str", "buyer", references="customers.customer_id"),
        Column("listing_id", "str", "listing", references="listings.listing_id"),
        Column("product_id", "str", "product (SKU)", references="products.product_id"),
        Column("quantity", "int", "units returned", ge=1),
        Column("reason", "category", "reason given by the buyer", values=REASONS),
        Column("requested_at", "timestamp", "request submitted (after delivery)"),
        Column("decided_at", "timestamp", "approved or rejected", nullable=True),
        Column("refunded_at", "timestamp", "refund paid", nullable=True),
        Column("status", "category", "status at the end of the period",
               values=RETURN_STATUSES),
        Column("return_method", "category", "goods sent back to the warehouse, refund "
               "without return, or partial refund keeping the item", values=RETURN_METHODS),
        Column("currency", "category", "order currency"),
        Column("refund_amount", "money", "refund requested (paid when refunded; ≤ the line's "
               "net amount)", unit="currency", ge=0),
        Column("refund_amount_cny", "money", "refund_amount × the order's fx_rate_cny",
               unit="CNY", ge=0),
        Column("approver_role", "category", "who approves: general_manager from 5000 CNY",
               values=APPROVERS),
        Column("restockable", "bool", "goods came back resaleable"),
    ),
))

REVIEWS = register(TableSpec(
    name="reviews",
    grain="one product review",
    description="Product reviews (risk-control analysis 7.2.5). Sentiment follows the rating: "
                "4–5 positive, 3 neutral, 1–2 negative (rules.review_sentiment).",
    columns=(
        Column("review_id", "str", "review id", unique=True),
        Column("order_id", "str", "order reviewed (empty for unverified reviews)",
               nullable=True, references="orders.order_id"),
        Column("store_id", "str", "store", references="stores.store_id"),
        Column("listing_id", "str", "listing", references="listings.listing_id"),
        Column("product_id", "str", "product (SKU)", references="products.product_id"),
        Column("customer_id", "str", "reviewer", references="customers.customer_id"),
        Column("created_at", "timestamp", "review posted (after delivery)"),
        Column("rating", "int", "stars", ge=1, le=5),
        Column("text", "str", "review text (English, short)"),
        Column("photo_count", "int", "photos uploaded with the review", ge=0),
        Column("sentiment", "category", "from the rating", values=SENTIMENTS),
        Column("verified_purchase", "bool", "the reviewer bought the item in this store"),
        Column("reviewer_account_age_days", "int", "days between the reviewer's signup and "
               "the review", unit="days", ge=0),
    ),
))

TICKETS = register(TableSpec(
    name="tickets",
    grain="one customer-service contact (ticket)",
    description="Customer-service tickets on the channels of Table 1 9.1.1. Service hours are "
                "09:00–17:00 market-local every day (9.1.2); response and resolution times "
                "count service hours only (rules.business_hours_between).",
    columns=(
        Column("ticket_id", "str", "ticket id", unique=True),
        Column("order_id", "str", "order concerned (empty for pre-sale contacts)",
               nullable=True, references="orders.order_id"),
        Column("customer_id", "str", "customer", references="customers.customer_id"),
        Column("store_id", "str", "store", references="stores.store_id"),
        Column("market", "category", "customer's market (ISO code)"),
        Column("agent_id", "str", "customer-service agent who handled it"),
        Column("channel", "category", "contact channel", values=CHANNELS),
        Column("ticket_type", "category", "topic", values=TICKET_TYPES),
        Column("created_at", "timestamp", "contact received"),
        Column("first_response_at", "timestamp", "first answer by an agent", nullable=True),
        Column("resolved_at", "timestamp", "closed as resolved", nullable=True),
        Column("first_response_hours", "float", "service hours from contact to first answer",
               unit="hours", nullable=True, ge=0),
        Column("resolution_hours", "float", "service hours from contact to resolution",
               unit="hours", nullable=True, ge=0),
        Column("status", "category", "at the end of the period", values=TICKET_STATUSES),
        Column("satisfaction", "Int64", "post-contact survey score (empty if not answered)",
               nullable=True, ge=1, le=5),
        Column("escalated", "bool", "escalated to a supervisor (9.2.1)"),
        Column("is_complaint", "bool", "a formal complaint (投诉) or platform claim: "
               "ticket_type complaint, or an escalated logistics / return_refund ticket"),
    ),
))


def _utc(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(ns, np.int64).view("datetime64[ns]"), tz="UTC")


def _wall_clock(utc_ns: np.ndarray, tz: str) -> np.ndarray:
    """Naive local times (int64 ns) in ``tz`` of UTC instants (int64 ns; NaT stays NaT)."""
    return (pd.DatetimeIndex(np.asarray(utc_ns, np.int64).view("datetime64[ns]"), tz="UTC")
            .tz_convert(tz).tz_localize(None).asi8)


def _arr(values) -> pa.Array:
    """A string column as an Arrow ``string`` array."""
    if isinstance(values, pd.Series):
        if not pd.api.types.is_string_dtype(values.dtype):
            values = values.astype("str")
        arr = pa.array(values)
    else:
        arr = pa.array(np.asarray(values, object), type=pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.string())


def _take(values, idx: np.ndarray) -> pd.Series:
    """``values[idx]`` as a ``str`` Series (Arrow gather)."""
    return str_series(_arr(values).take(pa.array(np.asarray(idx, np.int64))))


def _pick_rows(rng: np.random.Generator, cum: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One category per row from cumulative probability rows ``cum[rows]``."""
    c = cum[rows]
    u = rng.random(len(rows)) * c[:, -1]
    return np.minimum((c <= u[:, None]).sum(axis=1), c.shape[1] - 1)


def _texts(rng: np.random.Generator, pools: list[tuple[str, ...]], pool_of_row: np.ndarray,
           item: pa.Array) -> pa.Array:
    """Fill one random template of each row's pool with the row's product name."""
    flat = [t for pool in pools for t in pool]
    start = np.cumsum([0] + [len(pool) for pool in pools])
    size = np.diff(start)
    t = start[pool_of_row] + (rng.random(len(pool_of_row)) * size[pool_of_row]).astype(np.int64)
    pre = pa.array([f.split("{}")[0] for f in flat]).take(pa.array(t))
    post = pa.array([f.split("{}")[1] for f in flat]).take(pa.array(t))
    return join_str(pre, item, post)


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    rng = ctx.rng("aftersales")
    cat = ctx.catalog
    orders = ctx.tables["orders"]
    lines = ctx.tables["order_lines"]
    ships = ctx.tables["shipments"]
    products = ctx.tables["products"]
    stores = ctx.tables["stores"].reset_index(drop=True)
    customers = ctx.tables["customers"]
    snap = (ctx.end + pd.Timedelta(days=1)).value
    markets = list(cat.market_codes)
    labels: list[dict] = []  # label_spec of each planted anomaly

    # ---- order-level facts ------------------------------------------------------------
    n_o = len(orders)
    o_store = parent_index(stores["store_id"], orders["store_id"])
    s_market = np.array([markets.index(m) for m in stores["market"].astype(str)], np.int64)
    o_market = s_market[o_store]
    fx = orders["fx_rate_cny"].to_numpy(float)
    s_oi = parent_index(orders["order_id"], ships["order_id"])
    deliv_o = np.full(n_o, NAT, np.int64)
    deliv_o[s_oi] = _ns(ships["delivered_at"])
    shipped_o = np.full(n_o, NAT, np.int64)
    shipped_o[s_oi] = _ns(ships["shipped_at"])
    late_o = np.zeros(n_o, bool)
    late_o[s_oi] = ships["is_late_delivery"].to_numpy(bool)
    dmg_o = np.zeros(n_o, bool)
    dmg_o[s_oi] = ships["is_damaged"].to_numpy(bool)
    sstat = _codes(ships["status"], ("in_transit", "delivered", "lost", "undeliverable"))
    gone_o = np.zeros(n_o, bool)  # lost or undeliverable
    gone_o[s_oi] = sstat >= 2
    promised_o = np.zeros(n_o, np.int64)
    promised_o[s_oi] = ships["promised_days"].to_numpy(np.int64)
    ow_store = stores["fulfilment"].astype(str).to_numpy() != "merchant"

    # ---- line-level facts ------------------------------------------------------------
    lo = parent_index(orders["order_id"], lines["order_id"])
    pi = parent_index(products["product_id"], lines["product_id"])
    m = len(lo)
    types, rates = _return_rates(cat.hs_codes)
    t_pos = types.get_indexer(products["product_type"].astype(str))
    rr = np.where(t_pos >= 0, rates[np.maximum(t_pos, 0)], 0.05)
    cats = list(cat.categories)
    p_cat = np.array([cats.index(c) if c in cats else 0
                      for c in products["category"].astype(str)], np.int64)
    quality = rng.normal(0.0, 0.5, len(products))
    qty = lines["quantity"].to_numpy(np.int64)
    line_net = lines["line_net"].to_numpy(float)
    deliv_l = deliv_o[lo]
    delivered_l = deliv_l != NAT

    # ---- returns -----------------------------------------------------------------------
    culture = np.array([_RETURN_CULTURE.get(mk, 1.0) for mk in markets])
    p_ret = rr[pi] * culture[o_market[lo]] * np.exp(-0.8 * quality[pi])
    p_ret = np.where(late_o[lo], p_ret * 1.5, p_ret)
    p_ret = np.where(dmg_o[lo], 0.55, p_ret)
    rl = np.flatnonzero(delivered_l & (rng.random(m) < p_ret))
    k = len(rl)
    mix = np.array([_REASON_MIX.get(c, _ELECTRONIC_MIX if c in _ELECTRONIC else _DEFAULT_MIX)
                    for c in cats])
    base_reason = np.array([0, 1, 2, 4, 5])[_pick_rows(rng, np.cumsum(mix, axis=1),
                                                        p_cat[pi[rl]])]
    low_q = quality[pi[rl]] < -0.4
    reason = np.where(low_q & (rng.random(k) < 0.4), np.where(rng.random(k) < 0.5, 1, 2),
                      base_reason)
    reason = np.where(late_o[lo[rl]] & (rng.random(k) < 0.35), 6, reason)
    reason = np.where(dmg_o[lo[rl]] & (rng.random(k) < 0.9), 3, reason)
    delay_d = rng.lognormal(np.log(4.0), 0.8, k)
    late_req = rng.random(k) < 0.02  # a few ask after the window closed
    delay_d = np.where(late_req, rules.RETURN_WINDOW_DAYS + rng.uniform(1, 20, k), delay_d)
    delay_d = np.minimum(delay_d, rules.RETURN_WINDOW_DAYS + 25)
    requested = (deliv_l[rl] + (delay_d * NS_PER_DAY).astype(np.int64)) // SEC * SEC
    keep = requested < snap
    rl, reason, requested, delay_d = rl[keep], reason[keep], requested[keep], delay_d[keep]
    k = len(rl)
    r_o = lo[rl]
    r_qty = np.where((qty[rl] > 1) & (rng.random(k) < 0.3),
                     1 + (rng.random(k) * (qty[rl] - 1)).astype(np.int64), qty[rl])
    amount = rules.round_cents(line_net[rl] * r_qty / qty[rl])
    faulty = np.isin(reason, [1, 2])
    partial = faulty & (rng.random(k) < 0.1)
    amount = np.where(partial, rules.round_cents(amount * rng.uniform(0.3, 0.5, k)), amount)
    amount_cny = rules.round_cents(amount * fx[r_o])
    returnless = ~partial & ((amount_cny < 40) | ((reason == 3) & (rng.random(k) < 0.5)))
    method = np.where(partial, 2, np.where(returnless, 1, 0))
    outside = delay_d > rules.RETURN_WINDOW_DAYS
    rejected = outside | (rng.random(k) < np.where(reason == 5, 0.12, 0.03))
    decided = (requested + (rng.lognormal(np.log(18), 0.7, k) * NS_HOUR).astype(np.int64)
               ) // SEC * SEC
    back_days = np.where(method > 0, rng.uniform(0.2, 2.0, k),
                         np.where(ow_store[o_store[r_o]], rng.uniform(3, 8, k),
                                  rng.uniform(10, 25, k)))
    refunded = (decided + (back_days * NS_PER_DAY).astype(np.int64)) // SEC * SEC
    r_status = np.select([decided >= snap, rejected, refunded >= snap], [0, 2, 1], 3)
    decided_out = np.where(decided < snap, decided, NAT)
    refunded_out = np.where(r_status == 3, refunded, NAT)
    restock = ((method == 0) & ~rejected & np.isin(reason, [0, 4, 5, 6])
               & (rng.random(k) < 0.85)) | ((method == 0) & ~rejected & (reason == 1)
                                            & (rng.random(k) < 0.5))
    order_r = np.argsort(requested, kind="stable")
    rl, r_o, reason, requested, r_qty, amount, amount_cny, method, r_status, decided_out, \
        refunded_out, restock = (a[order_r] for a in (
            rl, r_o, reason, requested, r_qty, amount, amount_cny, method, r_status,
            decided_out, refunded_out, restock))
    returns = pd.DataFrame({
        "return_id": fast_ids("RT", k, width=max(7, len(str(k)))),
        "order_id": _take(orders["order_id"], r_o),
        "line_no": lines["line_no"].to_numpy(np.int64)[rl],
        "store_id": _take(stores["store_id"], o_store[r_o]),
        "customer_id": _take(orders["customer_id"], r_o),
        "listing_id": _take(lines["listing_id"], rl),
        "product_id": _take(lines["product_id"], rl),
        "quantity": r_qty,
        "reason": pd.Categorical.from_codes(reason, categories=REASONS),
        "requested_at": _utc(requested), "decided_at": _utc(decided_out),
        "refunded_at": _utc(refunded_out),
        "status": pd.Categorical.from_codes(r_status, categories=RETURN_STATUSES),
        "return_method": pd.Categorical.from_codes(method, categories=RETURN_METHODS),
        "currency": orders["currency"].iloc[r_o].to_numpy(object),
        "refund_amount": amount, "refund_amount_cny": amount_cny,
        "approver_role": rules.refund_approver(amount_cny),
        "restockable": restock,
    })
    ret_line_reason = np.full(m, -1, np.int64)
    ret_line_reason[rl] = reason

    # ---- reviews -----------------------------------------------------------------------
    ret_faulty = np.isin(ret_line_reason, [1, 2, 3])
    ret_other = (ret_line_reason >= 0) & ~ret_faulty
    late_l, dmg_l = late_o[lo], dmg_o[lo]
    p_rev = (0.025 + 0.15 * dmg_l + 0.02 * late_l + 0.04 * ret_faulty + 0.01 * ret_other)
    vl = np.flatnonzero(delivered_l & (rng.random(m) < p_rev))
    zq = (quality[pi[vl]] + rng.standard_normal(len(vl)) - 0.6 * late_l[vl]
          - 2.0 * dmg_l[vl] - 1.4 * ret_faulty[vl] - 0.5 * ret_other[vl])
    rating = 1 + np.searchsorted(np.array([-2.3, -1.95, -1.4, -0.5]), zq)
    created = (deliv_l[vl] + (rng.lognormal(np.log(5.0), 0.9, len(vl))
                              * NS_PER_DAY).astype(np.int64)) // SEC * SEC
    keep = created < snap
    vl, rating, created = vl[keep], rating[keep], created[keep]
    sent = rules.review_sentiment(rating)
    pool = np.where(sent == "positive", 0, np.where(sent == "neutral", 1, 2))
    pool = np.where((rating <= 2) & dmg_l[vl], 3, np.where((rating <= 3) & late_l[vl]
                                                           & ~dmg_l[vl], 4, pool))
    name_en = _arr(products["name_en"])
    o_cust = parent_index(customers["customer_id"], orders["customer_id"])
    r_cust = o_cust[lo[vl]]
    signup = _ns(customers["signup_at"])
    c_market = _market_codes(customers["market"], markets)
    rv = {
        "order_id": _arr(orders["order_id"]).take(pa.array(lo[vl])),
        "store_idx": o_store[lo[vl]],
        "listing_id": _arr(lines["listing_id"]).take(pa.array(vl)),
        "product_idx": pi[vl], "cust_idx": r_cust,
        "created": created, "rating": rating,
        "text": _texts(rng, [_POSITIVE, _NEUTRAL, _NEGATIVE, _DAMAGED, _LATE], pool,
                       name_en.take(pa.array(pi[vl]))),
        "verified": np.ones(len(vl), bool),
    }
    apparel = np.isin(p_cat[pi[vl]], [cats.index(c) for c in ("apparel", "footwear")
                                       if c in cats])
    p_photo = 0.10 * np.where(apparel, 1.8, 1.0) * np.where((rating <= 2) | (rating == 5),
                                                            1.6, 1.0)
    rv["photos"] = np.where(rng.random(len(vl)) < p_photo, rng.geometric(0.45, len(vl)), 0)

    # planted: review burst — many 5-star unverified reviews from brand-new accounts
    burst = _review_burst(ctx, rng, rv, lines, vl, c_market, signup, name_en, o_market,
                          lo, snap, stores)
    if burst is not None:
        rv_b, burst_label = burst
        for key in rv:
            if isinstance(rv[key], pa.Array):
                rv[key] = pa.concat_arrays([rv[key], rv_b[key]])
            else:
                rv[key] = np.concatenate([rv[key], rv_b[key]])
    order_v = np.argsort(rv["created"], kind="stable")
    nv = len(order_v)
    take = pa.array(order_v)
    rid = fast_ids("RV", nv, width=max(7, len(str(nv))))
    r_rating = rv["rating"][order_v]
    reviews = pd.DataFrame({
        "review_id": rid,
        "order_id": str_series(rv["order_id"].take(take)),
        "store_id": _take(stores["store_id"], rv["store_idx"][order_v]),
        "listing_id": str_series(rv["listing_id"].take(take)),
        "product_id": _take(products["product_id"], rv["product_idx"][order_v]),
        "customer_id": _take(customers["customer_id"], rv["cust_idx"][order_v]),
        "created_at": _utc(rv["created"][order_v]),
        "rating": r_rating.astype(np.int64),
        "text": str_series(rv["text"].take(take)),
        "photo_count": rv["photos"][order_v].astype(np.int64),
        "sentiment": pd.Categorical(rules.review_sentiment(r_rating), categories=SENTIMENTS),
        "verified_purchase": rv["verified"][order_v],
        "reviewer_account_age_days": np.maximum(
            (rv["created"][order_v] - signup[rv["cust_idx"][order_v]]) // NS_PER_DAY, 0),
    })
    if burst is not None:
        is_b = order_v >= len(vl)
        labels.append({**burst_label, "entity_ids": rid[is_b].to_numpy()})

    # ---- tickets -------------------------------------------------------------------------
    tickets = _tickets(ctx, rng, orders, o_store, o_market, o_cust, markets, stores,
                       customers, c_market, shipped_o, deliv_o, promised_o, late_o, dmg_o,
                       gone_o, returns, r_o, snap)

    # ---- complete orders and stores ------------------------------------------------------
    out_o = orders.copy(deep=False)
    st = np.array(_codes(orders["status"], ORDER_STATUSES))
    refunded_orders = np.zeros(n_o, bool)
    ref = returns["status"].to_numpy() == "refunded"
    refunded_orders[r_o[ref]] = True
    st[refunded_orders & (st == ORDER_STATUSES.index("delivered"))] = \
        ORDER_STATUSES.index("returned")
    out_o["status"] = pd.Categorical.from_codes(st, categories=ORDER_STATUSES)

    # account health and status from the reference rules (one implementation, shared with
    # the graders); the window ends where the world ends
    health = rules.account_health(orders, ships, reviews, tickets, ctx.tables["carriers"],
                                  pd.Timestamp(snap, tz="UTC")).reindex(stores["store_id"])
    st_df = stores.copy()
    for c in ("late_shipment_rate", "order_defect_rate", "cancel_rate", "valid_tracking_rate",
              "feedback_score"):
        st_df[c] = health[c].to_numpy(float)
    limits = pd.DataFrame({k: [cat.platforms[p][k] for p in st_df["platform_id"].astype(str)]
                           for k in ("late_shipment_rate_max", "order_defect_rate_max",
                                     "cancel_rate_max", "valid_tracking_rate_min")})
    st_df["account_status"] = rules.account_status(health.reset_index(drop=True), limits)

    res = {"returns": returns, "reviews": reviews, "tickets": tickets, "orders": out_o,
           "stores": st_df}
    if labels:
        res["anomalies"] = label_frame(labels)
    return res


def _codes(values: pd.Series, categories) -> np.ndarray:
    """``pd.Categorical(values, categories=categories).codes`` (read-only when the column is
    already a categorical with exactly these categories)."""
    if isinstance(values.dtype, pd.CategoricalDtype) and list(
            values.cat.categories) == list(categories):
        return values.cat.codes.to_numpy()
    return pd.Categorical(values, categories=categories).codes


_RATES: dict[int, tuple] = {}


def _return_rates(hs_codes: pd.DataFrame) -> tuple[pd.Index, np.ndarray]:
    """Product types and their return rate (first row per type; missing → 0.05), cached per
    catalogue table."""
    hit = _RATES.get(id(hs_codes))
    if hit is None or hit[0] is not hs_codes:
        hs = hs_codes.drop_duplicates("product_type")
        hit = _RATES[id(hs_codes)] = (hs_codes, pd.Index(hs["product_type"].astype(str)),
                                      hs["return_rate"].fillna(0.05).to_numpy(float))
    return hit[1], hit[2]


def _market_codes(market: pd.Series, markets: list[str]) -> np.ndarray:
    """Position of each value in ``markets`` (-1 if absent), like
    ``pd.Categorical(market.astype(str), categories=markets).codes``."""
    if isinstance(market.dtype, pd.CategoricalDtype):
        look = pd.Index(markets).get_indexer(market.cat.categories.astype(str))
        codes = market.cat.codes.to_numpy()
        return np.where(codes >= 0, look[np.maximum(codes, 0)], -1)
    return pd.Categorical(market.astype(str), categories=markets).codes


def _review_burst(ctx, rng, rv, lines, vl, c_market, signup, name_en, o_market, lo, snap,
                  stores):
    """Many 5-star unverified reviews of one listing in a few days from new accounts."""
    if len(vl) < 5:
        return None
    lst = _arr(lines["listing_id"]).take(pa.array(vl))
    counts = pc.value_counts(lst)
    vals = counts.field("values")
    cnt = counts.field("counts").to_numpy()
    j = int(np.argmax(cnt * rng.uniform(0.6, 1.4, len(cnt))))
    listing = vals[j].as_py()
    pos = np.flatnonzero(pc.equal(lst, listing).to_numpy(zero_copy_only=False))
    row = pos[0]
    n_b = int(max(15, min(60, 4 * cnt[j] // max(ctx.n_days // 7, 1) + 15)))
    # fake reviewers are fresh accounts: start the burst when the listing's market has
    # the most sign-ups in the 10 days before (jittered, so the day varies by seed)
    market = o_market[lo[vl[row]]]
    cand = np.flatnonzero(c_market == market)
    if len(cand) == 0:
        return None
    sd = (signup[cand] - ctx.start.value) // NS_PER_DAY
    hist = np.bincount(sd[(sd >= 0) & (sd < ctx.n_days)], minlength=ctx.n_days)
    cum = np.concatenate([[0], np.cumsum(hist)])
    lo_d = min(30, ctx.n_days // 3)
    hi_d = max(lo_d + 1, ctx.n_days - 7)
    days = np.arange(lo_d, hi_d)
    fresh_count = cum[days] - cum[np.maximum(days - 10, 0)]
    d0 = int(days[np.argmax(fresh_count * rng.uniform(0.7, 1.3, len(days)))])
    start = ctx.start.value + d0 * NS_PER_DAY
    span_days = int(rng.integers(3, 6))
    created = start + (rng.random(n_b) * span_days * NS_PER_DAY).astype(np.int64)
    created = np.minimum(created, snap - NS_HOUR)
    age = start - signup[cand]
    fresh = cand[(age > 0) & (age < 10 * NS_PER_DAY)]
    if len(fresh) < 3:  # too few new accounts: the most recent sign-ups before the burst
        before = cand[age > 0]
        fresh = before[np.argsort(age[age > 0], kind="stable")[:n_b]]
    if len(fresh) == 0:
        return None
    who = (rng.choice(fresh, n_b, replace=False) if len(fresh) >= n_b
           else fresh[rng.integers(0, len(fresh), n_b)])
    created = np.maximum(created, signup[who] + NS_HOUR) // SEC * SEC
    rating = np.where(rng.random(n_b) < 0.95, 5, 4)
    p_idx = np.full(n_b, rv["product_idx"][row])
    out = {
        "order_id": pa.nulls(n_b, pa.string()),
        "store_idx": np.full(n_b, rv["store_idx"][row]),
        "listing_id": pa.array([listing] * n_b, pa.string()), "product_idx": p_idx,
        "cust_idx": who, "created": created, "rating": rating,
        "text": _texts(rng, [_BURST], np.zeros(n_b, np.int64),
                       name_en.take(pa.array(p_idx))),
        "verified": np.zeros(n_b, bool),
        "photos": np.where(rng.random(n_b) < 0.05, 1, 0),
    }
    store_id = stores["store_id"].astype(str).to_numpy()[rv["store_idx"][row]]
    label = label_spec(  # entity ids (review ids) are set once the reviews are numbered
        "review_burst", "reviews", None, store_id=store_id,
        start=pd.Timestamp(start).normalize(),
        end=pd.Timestamp(start + (span_days - 1) * NS_PER_DAY).normalize(),
        detail=f"listing {listing}: {n_b} unverified 5-star reviews in {span_days} days from "
               "accounts created shortly before")
    return out, label


def _tickets(ctx, rng, orders, o_store, o_market, o_cust, markets, stores, customers,
             c_market, shipped_o, deliv_o, promised_o, late_o, dmg_o, gone_o, returns, r_o,
             snap) -> pd.DataFrame:
    """Event-driven and pre-sale customer-service tickets with service-hour timings."""
    n_o = len(orders)
    types = {t: i for i, t in enumerate(TICKET_TYPES)}
    created_o = _ns(orders["created_at"])
    cancel_o = _ns(orders["cancelled_at"])
    u = rng.random(n_o)
    w = rng.random(n_o)
    t_type = np.full(n_o, -1, np.int64)
    t_at = np.zeros(n_o, np.int64)
    esc_p = np.full(n_o, 0.04)
    sev = np.zeros(n_o)  # how bad the problem was (drives satisfaction)

    def assign(mask, ttype, at, p, esc=0.04, severity=0.0):
        hit = mask & (t_type < 0) & (u < p)
        t_type[hit] = ttype[hit] if isinstance(ttype, np.ndarray) else ttype
        t_at[hit] = at[hit]
        esc_p[hit] = esc
        sev[hit] = severity

    promised_at = shipped_o + promised_o * NS_PER_DAY
    shipped = shipped_o != NAT
    # lost / undeliverable parcels: "where is my parcel" → logistics, some complain
    assign(gone_o, np.where(w < 0.1, types["complaint"], types["logistics"]),
           promised_at + (rng.uniform(0.5, 8, n_o) * NS_PER_DAY).astype(np.int64), 0.65,
           esc=0.1, severity=1.5)
    # damaged on arrival
    assign(dmg_o, np.where(w < 0.1, types["complaint"], types["return_refund"]),
           deliv_o + (rng.uniform(1, 48, n_o) * NS_HOUR).astype(np.int64), 0.5,
           esc=0.05, severity=1.0)
    # returns: contact around the request (r_o: order row of each return)
    has_ret = np.zeros(n_o, bool)
    has_ret[r_o] = True
    req = np.zeros(n_o, np.int64)
    req[r_o] = _ns(returns["requested_at"])
    assign(has_ret, np.where(w < 0.02, types["complaint"], types["return_refund"]),
           req + (rng.uniform(0, 48, n_o) * NS_HOUR).astype(np.int64), 0.25, esc=0.02,
           severity=0.5)
    # late delivery: asked between the promised date and delivery
    gap = np.maximum(deliv_o - promised_at, NS_HOUR)
    assign(late_o, np.where(w < 0.02, types["complaint"],
                            np.where(w < 0.45, types["logistics"], types["order_status"])),
           promised_at + (rng.random(n_o) * gap).astype(np.int64), 0.2, esc=0.02,
           severity=0.6)
    # still in transit past the promised date at the end of the period
    overdue = shipped & (deliv_o == NAT) & ~gone_o & (promised_at < snap)
    assign(overdue, types["logistics"],
           promised_at + (rng.random(n_o) * np.maximum(snap - promised_at, NS_HOUR))
           .astype(np.int64), 0.3, esc=0.05, severity=0.4)
    # cancellations
    assign(cancel_o != NAT, types["order_status"],
           cancel_o + (rng.uniform(0.1, 24, n_o) * NS_HOUR).astype(np.int64), 0.1)
    # background questions on any order
    end_o = np.where(deliv_o != NAT, deliv_o, np.minimum(created_o + 20 * NS_PER_DAY, snap))
    assign(np.ones(n_o, bool), np.where(w < 0.6, types["order_status"],
                                        np.where(w < 0.995, types["product_question"],
                                                 types["complaint"])),
           created_o + (rng.random(n_o) * np.maximum(end_o - created_o, NS_HOUR))
           .astype(np.int64), 0.03)
    ti = np.flatnonzero((t_type >= 0) & (t_at < snap))
    t_at_o = np.maximum(t_at[ti], created_o[ti] + 60 * 10**9)
    # pre-sale contacts: a share of orders, timed a little before a random order
    n_pre = int(rng.poisson(0.035 * n_o))
    src = rng.integers(0, n_o, n_pre)
    pre_at = created_o[src] - (rng.uniform(0.05, 5, n_pre) * NS_PER_DAY).astype(np.int64)
    early = pre_at < ctx.start.value  # keep inside the period
    pre_at[early] = ctx.start.value + ((created_o[src][early] - ctx.start.value)
                                       * rng.random(int(early.sum()))).astype(np.int64)
    by_m = np.argsort(c_market, kind="stable")
    first = np.searchsorted(c_market[by_m], np.arange(len(markets)))
    size = np.bincount(c_market, minlength=len(markets))
    pm = o_market[src]
    pre_c = by_m[first[pm] + (rng.random(n_pre) * size[pm]).astype(np.int64)]

    n = len(ti) + n_pre
    ttype = np.concatenate([t_type[ti], np.where(rng.random(n_pre) < 0.6, types["pre_sale"],
                                                 types["product_question"])])
    created = np.concatenate([t_at_o, pre_at])
    store = np.concatenate([o_store[ti], o_store[src]])
    market = np.concatenate([o_market[ti], o_market[src]])
    cust = np.concatenate([o_cust[ti], pre_c])
    order_idx = np.concatenate([ti, np.full(n_pre, -1)])
    escalated = rng.random(n) < np.concatenate([esc_p[ti], np.full(n_pre, 0.01)])
    severity = np.concatenate([sev[ti], np.zeros(n_pre)])
    is_complaint = (ttype == types["complaint"]) | (
        escalated & np.isin(ttype, [types["logistics"], types["return_refund"]]))
    channel = rng.choice(len(CHANNELS), n, p=[0.12, 0.45, 0.25, 0.05, 0.03, 0.10])
    # service-hour timings in the market's local time
    fr_h = rng.lognormal(np.log(np.array([1.5, 0.25, 4.0, 1.0, 1.0, 3.0])[channel]), 0.9)
    res_med = np.array([0.5, 1.0, 2.0, 12.0, 20.0, 30.0])[ttype]
    res_h = rng.lognormal(np.log(res_med), 0.8) * np.where(escalated, 2.2, 1.0)
    # (time zones are per market; the business-hour rules are element-wise, so they run once
    # over all rows)
    tz = ctx.catalog.markets["tz"].to_numpy()
    zones = [(tz[mk], np.flatnonzero(market == mk))
             for mk in np.flatnonzero(np.bincount(market, minlength=len(markets)))]
    lc = np.empty(n, np.int64)
    for z, sel in zones:
        lc[sel] = _wall_clock(created[sel], z)
    fr = rules.add_business_hours(lc.view("datetime64[ns]"), fr_h).view(np.int64)
    rs = rules.add_business_hours(fr.view("datetime64[ns]"), res_h).view(np.int64)
    fr_utc = np.empty(n, np.int64)
    rs_utc = np.empty(n, np.int64)
    for z, sel in zones:
        both = pd.DatetimeIndex(np.concatenate([fr[sel], rs[sel]]).view("datetime64[ns]")
                                ).tz_localize(z, ambiguous="NaT", nonexistent="shift_forward"
                                              ).tz_convert("UTC").asi8
        fr_utc[sel], rs_utc[sel] = both[:len(sel)], both[len(sel):]
    # whole seconds, so hours recompute exactly from the timestamps
    sec = 10**9
    created = created // sec * sec
    fr_utc = fr_utc // sec * sec
    rs_utc = np.maximum(rs_utc // sec * sec, fr_utc)
    answered = fr_utc < snap
    resolved = rs_utc < snap
    fr_out = np.where(answered, fr_utc, NAT)
    rs_out = np.where(resolved, rs_utc, NAT)
    # hours from local clock times (recomputable: convert UTC to the market's zone)
    local = np.empty((3, n), np.int64)  # created, first response, resolution
    for z, sel in zones:
        local[:, sel] = _wall_clock(np.concatenate([created[sel], fr_utc[sel], rs_utc[sel]]),
                                    z).reshape(3, len(sel))
    local = local.view("datetime64[ns]")
    frh = rules.business_hours_between(local[0], local[1])
    rsh = rules.business_hours_between(local[0], local[2])
    frh = np.where(answered, frh, np.nan)
    rsh = np.where(resolved, rsh, np.nan)
    # satisfaction survey
    answered_survey = resolved & (rng.random(n) < 0.35)
    score = (4.4 - 0.02 * np.nan_to_num(rsh) - 0.9 * is_complaint - 0.5 * escalated
             - 0.6 * severity + rng.normal(0, 0.8, n))
    sat = np.clip(np.round(score), 1, 5).astype(np.int64)
    # agents: a small team per store, larger for busy stores
    per_store = np.bincount(store, minlength=len(stores))
    team = np.clip(2 + per_store // 1500, 2, 40)
    agent_no = 1 + (rng.random(n) * team[store]).astype(np.int64)
    order_t = np.argsort(created, kind="stable")
    o_ids = _arr(orders["order_id"])
    oi = order_idx[order_t]
    oid = pc.if_else(pa.array(oi >= 0), o_ids.take(pa.array(np.maximum(oi, 0))),
                     pa.nulls(n, pa.string()))
    s_ids = _arr(stores["store_id"]).take(pa.array(store[order_t]))
    agent = join_str(s_ids, "-A", pc.utf8_lpad(pc.cast(pa.array(agent_no[order_t]),
                                                       pa.string()), 2, "0"))
    return pd.DataFrame({
        "ticket_id": fast_ids("TK", n, width=max(7, len(str(n)))),
        "order_id": str_series(oid),
        "customer_id": _take(customers["customer_id"], cust[order_t]),
        "store_id": str_series(s_ids),
        "market": pd.Categorical.from_codes(market[order_t], categories=markets),
        "agent_id": str_series(agent),
        "channel": pd.Categorical.from_codes(channel[order_t], categories=CHANNELS),
        "ticket_type": pd.Categorical.from_codes(ttype[order_t], categories=TICKET_TYPES),
        "created_at": _utc(created[order_t]),
        "first_response_at": _utc(fr_out[order_t]),
        "resolved_at": _utc(rs_out[order_t]),
        "first_response_hours": frh[order_t], "resolution_hours": rsh[order_t],
        "status": pd.Categorical.from_codes(resolved[order_t].astype(np.int64),
                                            categories=TICKET_STATUSES),
        "satisfaction": pd.arrays.IntegerArray(sat[order_t], ~answered_survey[order_t]),
        "escalated": escalated[order_t], "is_complaint": is_complaint[order_t],
    })
