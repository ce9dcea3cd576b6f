"""Stage ``orders``: B2C orders, their lines, and monthly listing statistics.

Demand per store and day follows the market's calendar (weekly rhythm, season, retail
peaks); most buyers order once and a loyal minority repeatedly; baskets and
quantities are heavy-tailed. Fraud-like patterns and price errors are planted and labelled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec_sim.calendar import demand_multiplier
from cbec_sim.context import Context
from cbec_sim.rules import promotion_discount, round_cents, to_cents
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import (
    IRREGULAR_HOUR,
    NS_PER_DAY,
    categorical,
    id_array,
    in_background,
    local_hour_offsets,
    take,
    weighted_choice_by_group,
)
from cbec_sim.tables._util import (
    codes as _codes,
)
from cbec_sim.tables.customers import CHANNELS
from cbec_sim.tables.labels import anomaly_rows

STATUSES = ("cancelled", "awaiting_shipment", "shipped", "delivered", "lost", "returned")
PAYMENT_METHODS = ("credit_card", "paypal", "digital_wallet", "local_wallet",
                   "cash_on_delivery", "bank_transfer", "buy_now_pay_later")
CANCEL_REASONS = ("buyer_request", "payment_failed", "out_of_stock", "address_issue",
                  "fraud_suspected")
DEVICES = ("mobile", "pc")
SOUTHERN = {"AU", "BR"}
COD_MARKETS = {"MY", "TH", "ID", "PH", "VN", "SA", "AE", "NG", "KE"}
#: share of orders placed in each local hour (evening peak), simulation parameter
HOURLY = np.array([1.2, 0.7, 0.4, 0.3, 0.3, 0.4, 0.8, 1.6, 2.8, 3.8, 4.6, 5.0, 5.4, 5.2,
                   5.0, 4.9, 4.9, 5.1, 5.6, 6.4, 7.4, 7.9, 6.6, 3.6])

ORDERS = register(TableSpec(
    name="orders",
    grain="one B2C order placed on one store",
    description="Customer orders with payment, promotion, attribution and fulfilment "
                "timestamps. Amounts are in the order currency; `order_total_cny` converts "
                "with the CNY rate of the creation day.",
    columns=(
        Column("order_id", "str", "order id", unique=True),
        Column("store_id", "str", "store", references="stores.store_id"),
        Column("platform_id", "str", "platform", references="platforms.platform_id"),
        Column("market", "category", "destination market (ISO code)"),
        Column("customer_id", "str", "buyer", references="customers.customer_id"),
        Column("created_at", "timestamp", "order placed"),
        Column("paid_at", "timestamp", "payment confirmed (empty if never paid)",
               nullable=True),
        Column("cancelled_at", "timestamp", "order cancelled (empty if not)", nullable=True),
        Column("cancel_reason", "category", "why it was cancelled", values=CANCEL_REASONS,
               nullable=True),
        Column("shipped_at", "timestamp", "handed to the carrier", nullable=True),
        Column("delivered_at", "timestamp", "delivered to the buyer", nullable=True),
        Column("status", "category", "status at the end of the period", values=STATUSES),
        Column("currency", "category", "order currency (ISO 4217)"),
        Column("fx_rate_cny", "float", "CNY per unit of the order currency on the creation "
               "day", ge=0),
        Column("items_subtotal", "money", "sum of line amounts before discount",
               unit="currency", ge=0),
        Column("discount_amount", "money", "promotion discount", unit="currency", ge=0),
        Column("shipping_fee", "money", "shipping charged to the buyer", unit="currency",
               ge=0),
        Column("order_total", "money", "items_subtotal − discount_amount + shipping_fee",
               unit="currency", ge=0),
        Column("order_total_cny", "money", "order_total × fx_rate_cny", unit="CNY", ge=0),
        Column("payment_method", "category", "how the buyer paid", values=PAYMENT_METHODS),
        Column("payment_attempts", "int", "payment authorisation attempts", ge=1),
        Column("billing_country", "category", "country of the payment instrument"),
        Column("ip_country", "category", "country of the buyer's IP address at checkout"),
        Column("promotion_id", "str", "promotion applied", nullable=True,
               references="promotions.promotion_id"),
        Column("coupon_code", "str", "coupon code entered", nullable=True),
        Column("channel", "category", "traffic channel the order is attributed to",
               values=CHANNELS),
        Column("device", "category", "device used at checkout", values=DEVICES),
        Column("campaign_id", "str", "ad campaign (sponsored_ads orders)", nullable=True,
               references="ad_campaigns.campaign_id"),
        Column("keyword_id", "str", "ad keyword clicked (sponsored_ads orders)",
               nullable=True),
        Column("live_session_id", "str", "live stream the order came from", nullable=True,
               references="live_sessions.live_session_id"),
        Column("post_id", "str", "social post the order came from", nullable=True,
               references="social_posts.post_id"),
        Column("n_items", "int", "total units in the order", ge=1),
        Column("is_repeat", "bool", "the customer had ordered before"),
    ),
))

ORDER_LINES = register(TableSpec(
    name="order_lines",
    grain="one listing within one order",
    description="Order lines. `line_discount` is the order discount allocated pro rata to "
                "line amounts (largest remainder, so lines add up to the order to the cent).",
    columns=(
        Column("order_id", "str", "order", references="orders.order_id"),
        Column("line_no", "int", "line number within the order (1, 2, …)", ge=1),
        Column("listing_id", "str", "listing bought", references="listings.listing_id"),
        Column("product_id", "str", "product (SKU)", references="products.product_id"),
        Column("quantity", "int", "units", ge=1),
        Column("unit_price", "money", "price per unit at order time", unit="currency", ge=0),
        Column("line_amount", "money", "unit_price × quantity", unit="currency", ge=0),
        Column("line_discount", "money", "share of the order discount", unit="currency",
               ge=0),
        Column("line_net", "money", "line_amount − line_discount", unit="currency", ge=0),
    ),
))

LISTING_STATS = register(TableSpec(
    name="listing_stats",
    grain="one listing × calendar month",
    description="Monthly listing funnel from the platform's business report: exposure "
                "(impressions), clicks, add-to-carts, and the orders/units/sales that match "
                "order_lines exactly (non-cancelled orders).",
    columns=(
        Column("listing_id", "str", "listing", references="listings.listing_id"),
        Column("month", "date", "first day of the month"),
        Column("impressions", "int", "times shown in search or recommendations", ge=0),
        Column("clicks", "int", "clicks to the detail page", ge=0),
        Column("add_to_cart", "int", "add-to-cart events", ge=0),
        Column("orders", "int", "orders containing the listing", ge=0),
        Column("units", "int", "units ordered", ge=0),
        Column("sales", "money", "line_amount summed", unit="listing currency", ge=0),
    ),
))


def _order_days(ctx: Context, stores: pd.DataFrame, rng: np.random.Generator):
    """Exact multinomial allocation of n_orders over (store, day) by weight × calendar."""
    days = ctx.days
    peaks = ctx.catalog.markets["peaks"]
    per_market = {m: demand_multiplier(days, list(peaks[m]), southern=m in SOUTHERN)
                  for m in stores["market"].unique()}
    mult = np.vstack([per_market[m] for m in stores["market"]])
    from cbec_sim.tables import marketing

    mult = mult * marketing.demand_lift(ctx, stores["store_id"])  # promotions, traffic drops
    w = stores["size_weight"].to_numpy()[:, None] * mult
    counts = rng.multinomial(ctx.n_orders, (w / w.sum()).ravel()).reshape(w.shape)
    s_idx, d_idx = np.nonzero(counts)
    reps = counts[s_idx, d_idx]
    return np.repeat(s_idx, reps), np.repeat(d_idx, reps)


#: from this many orders on, the id columns are gathered on a second thread
THREAD_MIN_ORDERS = 20_000

#: share of buyers who order only once in the period (simulation parameter; published
#: e-commerce repeat-purchase rates are typically 20-40 % of buyers)
ONE_TIME_SHARE = 0.7


def _group_rows(code: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows grouped by ``code`` (ascending, rows in order within a code) and the group
    edges: rows of code ``k`` are ``rows[edges[k - lo]:edges[k - lo + 1]]`` for ``lo`` ≤ k ≤
    ``hi``. Equals ``np.flatnonzero(code == k)`` per code, in one stable sort."""
    small = code.astype(np.int16) if lo >= -2**15 and hi < 2**15 else code
    rows = np.argsort(small, kind="stable")
    return rows, np.searchsorted(code[rows], np.arange(lo, hi + 2))


def _assign_customers(rng: np.random.Generator, order_mk: np.ndarray,
                      cust_mk: np.ndarray) -> np.ndarray:
    """Customer index per order: per market, draw each buyer's order count (1 for most,
    heavy-tailed for the loyal rest) until the market's orders are used up, then deal the
    orders out at random. Customers left over never buy in the period."""
    out = np.empty(len(order_mk), dtype=np.int64)
    lo_k = int(min(order_mk.min(), cust_mk.min(initial=order_mk.min())))
    hi_k = int(max(order_mk.max(), cust_mk.max(initial=order_mk.max())))
    o_by, o_edges = _group_rows(order_mk, lo_k, hi_k)  # each market's rows in row order
    c_by, c_edges = _group_rows(cust_mk, lo_k, hi_k)
    for k in np.unique(order_mk):
        rows = o_by[o_edges[k - lo_k]:o_edges[k - lo_k + 1]]
        pool = rng.permutation(c_by[c_edges[k - lo_k]:c_edges[k - lo_k + 1]])
        n = len(rows)
        counts = np.where(rng.random(len(pool)) < ONE_TIME_SHARE, 1,
                          2 + np.floor(rng.lognormal(0.0, 1.0, len(pool))).astype(np.int64))
        if counts.sum() < n:  # too few customers for the orders: scale the counts up
            counts = np.ceil(counts * n / counts.sum()).astype(np.int64)
        buyers = int(np.searchsorted(np.cumsum(counts), n)) + 1
        counts = counts[:buyers]
        counts[-1] -= counts.sum() - n
        out[rows] = rng.permutation(np.repeat(pool[:buyers], counts))
    return out


def _fx_matrix(fx: pd.DataFrame, currencies: list[str], start_ns: int,
               n_days: int) -> np.ndarray:
    """(currency × day of the period) CNY rates from the long ``fx_rates`` table (NaN where
    a rate is missing), like pivoting it and reindexing to ``currencies`` × period days."""
    t = fx["date"].to_numpy().astype("datetime64[ns]").astype(np.int64) - start_ns
    day, at_midnight = t // NS_PER_DAY, t % NS_PER_DAY == 0
    cur = _codes(fx["currency"], currencies)
    ok = (cur >= 0) & at_midnight & (day >= 0) & (day < n_days)
    mat = np.full((len(currencies), n_days), np.nan)
    mat[cur[ok], day[ok]] = fx["cny_per_unit"].to_numpy(float)[ok]
    return mat


def _allocate_cents(total_cents: np.ndarray, weights: np.ndarray, group: np.ndarray,
                    n_groups: int) -> np.ndarray:
    """Split each group's total (cents) over its rows ∝ weight, largest remainder."""
    wsum = np.bincount(group, weights=weights, minlength=n_groups)
    share = np.divide(weights, wsum[group], out=np.zeros_like(weights), where=wsum[group] > 0)
    exact = total_cents[group] * share
    base = np.floor(exact).astype(np.int64)
    left = total_cents - np.bincount(group, weights=base, minlength=n_groups).astype(np.int64)
    frac = exact - base
    bump = np.zeros(len(group), dtype=np.int64)
    todo = np.flatnonzero(left[group] > 0)  # only groups with cents left to hand out
    if not len(todo):
        return base
    g, f = group[todo], frac[todo]
    size = np.bincount(g).max()
    if size <= 16 and (np.diff(g) >= 0).all():  # small contiguous groups (order lines)
        # rank within group = rows of the group with a larger remainder, or an equal one
        # earlier (what a stable sort by descending remainder gives), by shifted compares
        rank = np.zeros(len(todo), dtype=np.int64)
        for d in range(1, size):
            same = g[d:] == g[:-d]
            rank[d:] += same & (f[:-d] >= f[d:])  # earlier row ranks first on ties
            rank[:-d] += same & (f[d:] > f[:-d])
        bump[todo] = (rank < left[g]).astype(np.int64)
        return base + bump
    order = todo[np.lexsort((-f, g))]  # largest remainder first
    g_sorted = group[order]
    rank = np.arange(len(order)) - np.searchsorted(g_sorted, g_sorted)
    bump[order] = (rank < left[g_sorted]).astype(np.int64)
    return base + bump


def build(ctx: Context) -> dict[str, pd.DataFrame]:  # one linear pipeline, kept in one place
    rng = ctx.rng("orders")
    cat = ctx.catalog
    stores = ctx.tables["stores"]
    b2c = stores[stores["model"] == "B2C"].reset_index(drop=True)
    listings = ctx.tables["listings"]
    customers = ctx.tables["customers"]
    days = ctx.days
    markets = list(ctx.markets)
    labels: list[pd.DataFrame] = []

    # 1. when and where: (store, day) per order, local time of day, UTC timestamp
    s_idx, d_idx = _order_days(ctx, b2c, rng)
    n = len(s_idx)
    store_mk = _codes(b2c["market"].astype(str), markets)
    mk = store_mk[s_idx]
    sec = (rng.choice(24, n, p=HOURLY / HOURLY.sum()) * 3600
           + rng.integers(0, 3600, n)).astype(np.int64)
    local_ns = days.asi8[d_idx] + sec * 10**9
    # exact local → UTC per market (DST-aware): a table of offsets per local clock hour,
    # one-by-one conversion for the few times in an hour with a clock change
    off = np.vstack([local_hour_offsets(ctx.start, cat.markets.loc[m, "tz"], len(days))
                     for m in markets])[mk, d_idx * 24 + sec // 3600]
    created_ns = local_ns - off
    for r in np.flatnonzero(off == IRREGULAR_HOUR):
        created_ns[r] = pd.DatetimeIndex(local_ns[r:r + 1].astype("M8[ns]")).tz_localize(
            cat.markets.loc[markets[mk[r]], "tz"], ambiguous=np.ones(1, bool),
            nonexistent="shift_forward").asi8[0]
    order = np.argsort(created_ns, kind="stable")  # ids in time order
    s_idx, d_idx, mk, created_ns = (a[order] for a in (s_idx, d_idx, mk, created_ns))

    # 2. who: most buyers order once, a loyal minority repeatedly (heavy tail)
    c_mk = _codes(customers["market"], markets)
    ci = _assign_customers(rng, mk, c_mk)

    # 3. fraud-like velocity bursts: one account, several orders within an hour (labelled)
    burst = np.zeros(n, bool)
    n_bursts, done = max(3, n // 4000), 0
    for sd in rng.choice(n, min(n, 4 * n_bursts), replace=False):  # a few bursts
        if done == n_bursts:
            break
        lo_, hi_ = np.searchsorted(created_ns, [created_ns[sd] - 7 * NS_PER_DAY,
                                                created_ns[sd] + 7 * NS_PER_DAY])
        near = np.arange(lo_, hi_)
        near = near[(s_idx[near] == s_idx[sd]) & (near != sd) & ~burst[near]]
        k = min(len(near), int(rng.integers(3, 7)))
        if k < 3:
            continue
        take_ = rng.choice(near, k, replace=False)
        ci[take_] = ci[sd]
        jitter = rng.integers(60, 3000, k) * 10**9
        created_ns[take_] = created_ns[sd] + jitter
        d_idx[take_] = d_idx[sd]
        burst[take_] = True
        done += 1

    # 4. lines: basket size and listings ∝ popularity within the store
    n_lines = np.minimum(rng.geometric(0.68, n), 8)
    lo = np.repeat(np.arange(n), n_lines)
    live = listings[listings["popularity"] > 0].reset_index(drop=True)
    l_store = pd.Index(b2c["store_id"]).get_indexer(live["store_id"])
    pop = live["popularity"].to_numpy()
    li = weighted_choice_by_group(rng, s_idx[lo], l_store, pop)
    listed = live["listed_date"].to_numpy().astype("datetime64[ns]").astype(np.int64)
    line_day = days.asi8[d_idx[lo]]  # order day of each line (ns)
    for _ in range(3):  # redraw lines for listings not yet live that day
        bad = listed[li] > line_day
        if not bad.any():
            break
        li[bad] = weighted_choice_by_group(rng, s_idx[lo[bad]], l_store, pop)
    keep = listed[li] <= line_day
    key = lo.astype(np.int64) * len(live) + li
    for j in range(1, 8):  # drop repeats of a listing within an order (lines contiguous)
        keep[j:] &= key[j:] != key[:-j]
    lo, li, line_day = lo[keep], li[keep], line_day[keep]
    has_line = np.bincount(lo, minlength=n) > 0  # drop orders that lost every line (rare)
    lo = (np.cumsum(has_line) - 1)[lo]
    s_idx, d_idx, mk, created_ns, ci, burst = (
        a[has_line] for a in (s_idx, d_idx, mk, created_ns, ci, burst))
    n = int(has_line.sum())
    m_lines = len(lo)
    ids = in_background(_id_columns, b2c, customers, live, s_idx, ci, lo, li, n,
                        threaded=n >= THREAD_MIN_ORDERS)
    qty = 1 + np.where(rng.random(m_lines) < 0.14, rng.geometric(0.45, m_lines), 0)
    price = live["price"].to_numpy()[li]

    # 4b. planted price errors: a listing priced at 1/10 from some day (labelled)
    cand = np.flatnonzero(np.bincount(li, minlength=len(live)))  # = np.unique(li)
    err_l = rng.choice(cand, min(max(1, len(cand) // 150), len(cand)), replace=False)
    err_start = days[max(0, len(days) - int(rng.integers(10, 45)))]
    is_err = np.zeros(len(live), dtype=bool)
    is_err[err_l] = True
    err_line = is_err[li] & (line_day >= err_start.value)
    price[err_line] = round_cents(price[err_line] / 10)  # (price is a fresh gather)
    labels.append(anomaly_rows(
        "price_error", "listings", live["listing_id"].to_numpy()[err_l],
        store_id=live["store_id"].to_numpy()[err_l], start=err_start, end=ctx.end,
        detail="price entered at one tenth of the intended price (decimal slip)"))
    line_cents = to_cents(price * qty)
    line_amount = line_cents / 100.0
    subtotal = np.bincount(lo, weights=line_cents, minlength=n) / 100.0

    # 5. attribution and promotions (marketing stage), discount, shipping, FX
    market = categorical(mk, markets)
    first_by_c = np.full(len(customers), np.iinfo(np.int64).max)
    np.minimum.at(first_by_c, ci, created_ns)  # each buyer's first order (also for signup)
    is_repeat = created_ns > first_by_c[ci]
    created = pd.Series(pd.to_datetime(created_ns.view("M8[ns]"), utc=True))
    from cbec_sim.tables import marketing

    # channel, device and marketing ids as row positions (no string round trip)
    st_pos = marketing.store_positions(ctx, b2c["store_id"])
    codes = marketing.attribute_codes(ctx, st_pos[s_idx], created_ns, is_repeat)
    promos = ctx.tables.get("promotions")
    disc = np.zeros(n)
    promo_i = codes["promo"]
    if promos is not None and len(promos) and (promo_i >= 0).any():
        ok = promo_i >= 0
        pk = promo_i[ok]
        disc[ok] = promotion_discount(subtotal[ok],
                                      promos["promo_type"].astype(object).to_numpy()[pk],
                                      promos["discount_pct"].to_numpy(float)[pk],
                                      promos["threshold_amount"].to_numpy(float)[pk],
                                      promos["amount_off"].to_numpy(float)[pk])
        codes["promo"] = np.where(disc > 0, promo_i, -1)  # no discount: no promotion recorded
    attr = in_background(marketing.attribute_columns, ctx, codes,
                         threaded=n >= THREAD_MIN_ORDERS)
    store_cur = b2c["currency"].astype(str).to_numpy()
    currencies = sorted(set(store_cur))
    cur_code = _codes(store_cur, currencies)[s_idx]
    whole = np.isin(currencies, ["JPY", "KRW", "IDR", "VND", "NGN", "KES"])[cur_code]
    charged = ~whole & (subtotal < 25.0) & (rng.random(n) < 0.35)
    ship_fee = np.zeros(n)
    ship_fee[charged] = round_cents(subtotal[charged] * 0.08 + 1.99)
    total = round_cents(subtotal - disc + ship_fee)
    fx = ctx.tables["fx_rates"]
    fx_mat = _fx_matrix(fx, currencies, ctx.start.value, len(days))
    rate = fx_mat[cur_code, d_idx]

    # 6. payment, cancellation, fraud signals
    cod_ok = np.isin(mk, _codes(sorted(COD_MARKETS), markets))
    pm = rng.choice(len(PAYMENT_METHODS), n, p=[0.46, 0.2, 0.12, 0.08, 0.0, 0.04, 0.1])
    pm = np.where(cod_ok & (rng.random(n) < 0.3), PAYMENT_METHODS.index("cash_on_delivery"), pm)
    attempts = (1 + (rng.random(n) < 0.05)).astype(np.int64)
    world_codes = list(dict.fromkeys(markets + list(cat.market_codes)))
    billing = mk.copy()
    ip = mk.copy()
    noise = rng.random(n)
    ip = np.where(noise < 0.02, rng.integers(0, len(world_codes), n), ip)
    billing = np.where(noise > 0.995, rng.integers(0, len(world_codes), n), billing)
    # planted: geo mismatch on high-value orders; card testing with many attempts
    q20, q90 = np.quantile(total, [0.2, 0.9])  # one partition for both cut-offs
    hi = np.flatnonzero(total > q90)
    geo = rng.choice(hi, min(len(hi), max(1, n // 2500)), replace=False)
    far = np.asarray(_codes(["NG", "RU", "VN", "BR", "KE"], world_codes))
    far_pick = far[rng.integers(0, len(far), len(geo))]
    far_pick = np.where(far_pick == mk[geo], far[-1] if far[-1] != mk[geo][0] else far[0],
                        far_pick)
    billing[geo], ip[geo] = far_pick, far_pick
    low = np.flatnonzero(total < q20)
    ct = rng.choice(low, min(len(low), max(1, n // 3000)), replace=False)
    attempts[ct] = rng.integers(4, 9, len(ct))
    sid_np = b2c["store_id"].to_numpy()
    ids = ids.result()
    oid = ids["oid"]
    for kind, rows, text in (
        ("fraud_velocity", np.flatnonzero(burst), "one account placed several orders within "
         "an hour"),
        ("fraud_geo_mismatch", geo, "billing and IP country differ from the destination on a "
         "high-value order"),
        ("fraud_card_testing", ct, "low-value order with many payment attempts"),
    ):
        labels.append(anomaly_rows(kind, "orders", take(oid, rows).to_numpy(object),
                                   store_id=sid_np[s_idx[rows]], detail=text))
    u = rng.random(n)
    reason = np.full(n, -1)
    for k, (lo_p, hi_p) in enumerate(((0, .012), (.012, .020), (.020, .026), (.026, .029))):
        reason[(u >= lo_p) & (u < hi_p)] = k
    reason[ct[rng.random(len(ct)) < 0.5]] = CANCEL_REASONS.index("fraud_suspected")
    cancelled = reason >= 0
    unpaid = np.isin(reason, [1, 4])
    nat = np.iinfo(np.int64).min
    pay_delay = rng.lognormal(np.log(90), 1.0, n).astype(np.int64) * 10**9
    paid_ns = np.where(unpaid, nat, created_ns + pay_delay)
    cancel_ns = np.where(cancelled, created_ns + pay_delay
                         + rng.lognormal(np.log(4 * 3600), 1.0, n).astype(np.int64) * 10**9,
                         nat)
    empty_ts = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")
    orders = pd.DataFrame({
        "order_id": ids["order_id"], "store_id": ids["store_id"],
        "platform_id": ids["platform_id"], "market": market, "customer_id": ids["customer_id"],
        "created_at": created,
        "paid_at": pd.to_datetime(paid_ns.astype("M8[ns]"), utc=True),
        "cancelled_at": pd.to_datetime(cancel_ns.astype("M8[ns]"), utc=True),
        "cancel_reason": categorical(reason, CANCEL_REASONS),
        "shipped_at": empty_ts, "delivered_at": empty_ts.copy(),
        "status": categorical(np.where(cancelled, 0, 1), STATUSES),
        "currency": categorical(cur_code, currencies), "fx_rate_cny": rate,
        "items_subtotal": subtotal, "discount_amount": disc, "shipping_fee": ship_fee,
        "order_total": total, "order_total_cny": round_cents(total * rate),
        "payment_method": categorical(pm, PAYMENT_METHODS), "payment_attempts": attempts,
        "billing_country": categorical(billing, world_codes),
        "ip_country": categorical(ip, world_codes),
        **attr.result(),
        "n_items": np.bincount(lo, weights=qty, minlength=n).astype(np.int64),
        "is_repeat": is_repeat,
    }, copy=False)
    marketing.remember_order_view(ctx, orders, st_pos[s_idx], created_ns, codes)

    # order lines with pro-rata discount allocation (exact to the cent)
    disc_c = to_cents(disc)
    ld_c = np.zeros(len(lo), dtype=np.int64)
    has = disc_c[lo] > 0  # only discounted orders need an allocation
    if has.any():
        sub_o = np.flatnonzero(disc_c > 0)
        remap = np.full(n, -1)
        remap[sub_o] = np.arange(len(sub_o))
        ld_c[has] = _allocate_cents(disc_c[sub_o], line_cents[has].astype(float),
                                    remap[lo[has]], len(sub_o))
    per_order = np.bincount(lo, minlength=n)  # lines are grouped by order, in order
    first_line = np.cumsum(per_order) - per_order
    lines = pd.DataFrame({
        "order_id": ids["line_order_id"], "line_no": np.arange(len(lo)) - first_line[lo] + 1,
        "listing_id": ids["listing_id"], "product_id": ids["product_id"],
        "quantity": qty, "unit_price": price, "line_amount": line_amount,
        "line_discount": ld_c / 100.0, "line_net": (line_cents - ld_c) / 100.0,
    }, copy=False)

    cust = _signup(ctx, rng, customers, ci, first_by_c)
    stats = _listing_stats(ctx, rng, listings, live, li, lo, d_idx, cancelled, qty,
                           line_cents)
    return {"orders": orders, "order_lines": lines, "customers": cust,
            "listing_stats": stats, "anomalies": pd.concat(labels, ignore_index=True)}


def _id_columns(b2c: pd.DataFrame, customers: pd.DataFrame, live: pd.DataFrame,
                s_idx: np.ndarray, ci: np.ndarray, lo: np.ndarray, li: np.ndarray,
                n: int) -> dict:
    """The id (text) columns of orders and their lines from row positions: order ids in
    time order, the store, platform and buyer of each order, and each line's order,
    listing and product. Pure Arrow gathers, so :func:`build` runs it on a second thread."""
    oid = id_array("O", n, width=8)
    return {
        "oid": oid, "order_id": pd.Series(oid, dtype="str"),
        "store_id": take(b2c["store_id"], s_idx),
        "platform_id": take(b2c["platform_id"], s_idx),
        "customer_id": take(customers["customer_id"], ci),
        "line_order_id": take(oid, lo),
        "listing_id": take(live["listing_id"], li), "product_id": take(live["product_id"], li),
    }


def _signup(ctx: Context, rng: np.random.Generator, customers: pd.DataFrame, ci: np.ndarray,
            first_by_c: np.ndarray) -> pd.DataFrame:
    """``customers`` with ``signup_at``: before the first order for buyers (``ci`` = buyer
    of each order, ``first_by_c`` = each customer's first order time), any day otherwise."""
    cust = customers.copy()
    signup = ctx.start.value + rng.integers(0, ctx.n_days * 86_400, len(cust)) * 10**9
    lead = (rng.lognormal(np.log(20), 1.5, len(cust)) * 86_400).astype(np.int64) * 10**9
    c_idx = np.flatnonzero(np.bincount(ci, minlength=len(cust)))  # buyers with an order
    signup[c_idx] = first_by_c[c_idx] - np.minimum(lead[c_idx], 400 * NS_PER_DAY) \
        - 60 * 10**9
    cust["signup_at"] = pd.to_datetime(signup.view("M8[ns]"), utc=True)
    return cust


def _listing_stats(ctx: Context, rng: np.random.Generator, listings: pd.DataFrame,
                   live: pd.DataFrame, li: np.ndarray, lo: np.ndarray, d_idx: np.ndarray,
                   cancelled: np.ndarray, qty: np.ndarray,
                   line_cents: np.ndarray) -> pd.DataFrame:
    """Listing × month funnel; orders/units/sales match non-cancelled order lines exactly.

    Months are the market-local months of the order day.
    """
    months = pd.date_range(ctx.start.to_period("M").start_time, ctx.end,
                           freq="MS").as_unit("ns")
    day_month = np.searchsorted(months.asi8, ctx.days.asi8, side="right") - 1
    L, M = len(listings), len(months)
    all_pos = pd.Index(listings["listing_id"]).get_indexer(live["listing_id"])
    ok = ~cancelled[lo]
    key = all_pos[li[ok]] * M + day_month[d_idx[lo[ok]]]
    orders_n = np.bincount(key, minlength=L * M)
    units = np.bincount(key, weights=qty[ok], minlength=L * M)
    sales = np.bincount(key, weights=line_cents[ok], minlength=L * M)
    listed = listings["listed_date"].to_numpy().astype("datetime64[ns]").astype(np.int64)
    month_end = (months + pd.offsets.MonthEnd(0)).asi8
    active = (listings["status"].to_numpy() == "active")[:, None] \
        & (listed[:, None] <= month_end[None, :])
    grid = (active.ravel()) | (orders_n > 0)
    k = np.flatnonzero(grid)
    lpos, mpos = k // M, k % M
    q = listings.iloc[lpos]
    # CTR rises with image quality, CVR with content completeness (teaching model)
    ctr = 0.004 * np.exp(0.08 * q["image_count"].to_numpy() + 0.35 * q["has_video"].to_numpy()
                         + 0.3 * q["main_image_white_bg"].to_numpy())
    cvr = 0.05 * np.exp(0.06 * q["bullet_count"].to_numpy() + 0.25 * q["has_a_plus"].to_numpy())
    o = orders_n[k].astype(np.int64)
    atc = o + rng.poisson(o * 1.8 + 0.3)
    clicks = atc + rng.poisson(o / cvr + 2)
    impressions = clicks + rng.poisson(clicks / ctr)
    return pd.DataFrame({
        "listing_id": take(listings["listing_id"], lpos), "month": months[mpos],
        "impressions": impressions, "clicks": clicks, "add_to_cart": atc, "orders": o,
        "units": units[k].astype(np.int64), "sales": sales[k] / 100.0,
    })
