"""Simulator speed and memory, measured as ratios in one run (no timings in tests).

Prints:
1. orders-table generation vs a naive Faker-per-row loop producing the same columns for the
   same row count (target ≥ 300× faster). Like for like on both sides: the ``orders`` table
   (all its columns) *and* its ``order_lines`` (~1.4 lines per order, all their columns).
   The naive side is :func:`naive_orders`, a loop over orders with a nested loop over lines,
   one Faker call per drawn field. The vectorised side is the ``orders`` stage of a real
   ``cbec_sim.generate`` run (B2C demand calendar, customers, channel attribution and
   promotions via ``marketing.attribute``, discounts, FX, payments, order lines with
   pro-rata discounts). That stage also writes three things the naive loop does not make —
   ``listing_stats`` (listing × month funnel), the customers' ``signup_at`` and the
   planted-anomaly labels — so the time inside the functions building them is measured
   and subtracted (printed) rather than padding the naive loop with look-alike work.
   Columns the orders stage leaves empty for later stages (``shipped_at``,
   ``delivered_at``) are empty on the naive side too;
2. a 1,000,000-order world with every linked table: seconds and peak RSS (targets ≤ 15 s,
   ≤ 2 GB on a 2-core machine), each also as a ratio to its target;
3. a 5,000-order per-trainee world (warm process), target ≤ 0.5 s;
4. the extra time of the trade-compliance, B2B, finance and back-office stages
   (:data:`COMPLIANCE_STAGES`) relative to the world without them (target ≤ 50 %).

Run: ``.venv/bin/python benchmarks/bench_sim.py [--rows 100000] [--big 1000000]
[--only orders]`` (``--only orders`` prints part 1 alone).
The 1M-order world runs in a child process so its peak RSS is measured alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from collections import OrderedDict

import numpy as np
import pandas as pd


def naive_orders(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The slow way a Faker-based generator is usually written: a loop over orders with a
    nested loop over each order's 1–4 lines, every field drawn by one Faker provider call
    (ids, dates, choices, amounts, countries) or derived from fields already drawn
    (totals, line discounts, ``n_items``). Returns ``(orders, order_lines)`` with exactly the
    columns of ``cbec_sim``'s ``orders`` and ``order_lines`` tables."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2025, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    basket = OrderedDict([(1, 0.72), (2, 0.20), (3, 0.06), (4, 0.02)])  # ~1.4 lines/order
    currency = {"US": "USD", "GB": "GBP", "DE": "EUR", "JP": "JPY", "AU": "AUD",
                "TH": "THB", "MY": "MYR", "SA": "SAR"}
    platforms = ["amazon", "ebay", "shopee", "lazada", "noon", "aliexpress"]
    channels = OrderedDict([("organic_search", .37), ("sponsored_ads", .21), ("direct", .19),
                            ("social", .07), ("live", .07), ("affiliate", .06),
                            ("email", .03)])
    payments = ["credit_card", "paypal", "digital_wallet", "local_wallet",
                "cash_on_delivery", "bank_transfer", "buy_now_pay_later"]
    reasons = ["buyer_request", "payment_failed", "out_of_stock", "address_issue",
               "fraud_suspected"]
    orders, lines = [], []
    for i in range(1, n + 1):
        order_id = f"O{i:08d}"
        market = fake.random_element(list(currency))
        created = fake.date_time_between(start_date=start, end_date=end, tzinfo=dt.UTC)
        order_lines, subtotal, units = [], 0.0, 0
        for line_no in range(1, fake.random_element(basket) + 1):
            qty = fake.random_int(1, 3)
            price = float(fake.pydecimal(left_digits=3, right_digits=2, positive=True))
            amount = round(price * qty, 2)
            order_lines.append({
                "order_id": order_id, "line_no": line_no,
                "listing_id": fake.bothify("L######"), "product_id": fake.bothify("P#####"),
                "quantity": qty, "unit_price": price, "line_amount": amount,
            })
            subtotal += amount
            units += qty
        subtotal = round(subtotal, 2)
        promo = fake.bothify("PR####") if fake.boolean(20) else None
        disc = round(subtotal * fake.random_element([0.05, 0.1, 0.15, 0.2]), 2) if promo else 0.0
        for ln in order_lines:  # discount pro rata to line amounts (naive rounding)
            ln["line_discount"] = round(disc * ln["line_amount"] / subtotal, 2) if subtotal else 0.0
            ln["line_net"] = round(ln["line_amount"] - ln["line_discount"], 2)
        lines.extend(order_lines)
        ship = fake.random_element([0.0, 0.0, 4.99])
        rate = fake.pyfloat(min_value=0.01, max_value=9.0)
        total = round(subtotal - disc + ship, 2)
        reason = fake.random_element(reasons) if fake.boolean(3) else None
        paid = (None if reason in ("payment_failed", "fraud_suspected")
                else created + dt.timedelta(seconds=fake.random_int(10, 600)))
        channel = fake.random_element(channels)
        ads = channel == "sponsored_ads"
        orders.append({
            "order_id": order_id, "store_id": fake.bothify("S###"),
            "platform_id": fake.random_element(platforms), "market": market,
            "customer_id": fake.bothify("C#######"), "created_at": created, "paid_at": paid,
            "cancelled_at": (created + dt.timedelta(seconds=fake.random_int(600, 86_400))
                             if reason else None),
            "cancel_reason": reason, "shipped_at": None, "delivered_at": None,
            "status": "cancelled" if reason else "awaiting_shipment",
            "currency": currency[market], "fx_rate_cny": rate, "items_subtotal": subtotal,
            "discount_amount": disc, "shipping_fee": ship, "order_total": total,
            "order_total_cny": round(total * rate, 2),
            "payment_method": fake.random_element(payments),
            "payment_attempts": fake.random_int(1, 2),
            "billing_country": fake.country_code(), "ip_country": fake.country_code(),
            "promotion_id": promo,
            "coupon_code": fake.bothify("????-####") if promo and fake.boolean(25) else None,
            "channel": channel, "device": fake.random_element(["mobile", "pc"]),
            "campaign_id": fake.bothify("CMP####") if ads else None,
            "keyword_id": fake.bothify("K######") if ads else None,
            "live_session_id": fake.bothify("LS#####") if channel == "live" else None,
            "post_id": fake.bothify("SP#####") if channel == "social" else None,
            "n_items": units, "is_repeat": fake.boolean(30),
        })
    return pd.DataFrame(orders), pd.DataFrame(lines)


#: the trade-compliance, B2B, finance and back-office stages of part 4; every other stage
#: (the store's own commerce world, including later store-operation stages) is the baseline
COMPLIANCE_STAGES = ("imports", "b2b", "finance", "backoffice", "risk", "b2b_marketing")

#: functions the orders stage calls for tables other than orders / order_lines
SIDE_OUTPUTS = ("_listing_stats", "_signup", "anomaly_rows")


class _TimedGenerator:
    """A ``numpy.random.Generator`` stand-in that adds the time of every draw to ``spent``
    (draws made while ``paused`` is set are not counted). Same draws, same stream."""

    def __init__(self, gen: np.random.Generator) -> None:
        self._gen, self.spent, self.paused = gen, 0.0, False

    def __getattr__(self, name: str):
        attr = getattr(self._gen, name)
        if not callable(attr):
            return attr

        def draw(*args, **kwargs):
            t = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                if not self.paused:
                    self.spent += time.perf_counter() - t
        return draw


def orders_stage_seconds(n: int, repeats: int = 3) -> tuple[float, float, int, float]:
    """Time the vectorised orders stage inside a real world build (median of ``repeats``).

    Returns ``(orders + order_lines seconds, side-output seconds, order lines, seconds of
    random draws)``. The stage also writes ``listing_stats``, the customers' ``signup_at``
    and anomaly labels; the time spent in the functions that build them
    (:data:`SIDE_OUTPUTS`, measured by wrapping them during the build) is subtracted,
    because the naive loop does not produce them. The random draws for orders and lines
    are timed in one more build (not the timed ones, since the timing wrapper costs a
    little): the part of the stage no rewrite of the surrounding code can remove.
    """
    import cbec_sim
    from cbec_sim import context
    from cbec_sim.tables import orders as stage

    side = [0.0]
    draws: list[_TimedGenerator] = []

    def timed(fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            for g in draws:
                g.paused = True
            try:
                return fn(*args, **kwargs)
            finally:
                side[0] += time.perf_counter() - t
                for g in draws:
                    g.paused = False
        return wrapper

    originals = {name: getattr(stage, name) for name in SIDE_OUTPUTS}
    runs = []
    try:
        for name, fn in originals.items():
            setattr(stage, name, timed(fn))
        for k in range(repeats):
            side[0] = 0.0
            marks: dict[str, float] = {}
            t0 = time.perf_counter()
            w = cbec_sim.generate(n, rng=1 + k, progress=lambda s, m=marks: m.__setitem__(
                s, time.perf_counter()))
            names = list(marks)
            i = names.index("orders")
            total = marks["orders"] - (marks[names[i - 1]] if i else t0)
            runs.append((total - side[0], side[0], len(w.tables["order_lines"])))
    finally:
        for name, fn in originals.items():
            setattr(stage, name, fn)
    runs.sort()
    plain_rng = context.Context.rng

    def rng(ctx, name):
        gen = plain_rng(ctx, name)
        if name != "orders":
            return gen
        if not draws or draws[-1]._gen is not gen:
            draws.append(_TimedGenerator(gen))
        return draws[-1]
    try:
        for name, fn in originals.items():
            setattr(stage, name, timed(fn))
        context.Context.rng = rng
        cbec_sim.generate(n, rng=1)
    finally:
        context.Context.rng = plain_rng
        for name, fn in originals.items():
            setattr(stage, name, fn)
    return (*runs[len(runs) // 2], sum(g.spent for g in draws))


def big_world(n: int) -> dict:
    """Child process: build the world, report seconds and peak RSS."""
    import resource

    import cbec_sim

    cbec_sim.generate(1000, rng=0)  # warm caches (catalogue, pools) like a long-lived worker
    t0 = time.perf_counter()
    w = cbec_sim.generate(n, rng=1)
    secs = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MB on Linux
    return {"seconds": secs, "peak_rss_mb": rss, "orders": len(w.orders),
            "rows": int(sum(len(d) for d in w.tables.values()))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000, help="rows for the naive comparison")
    ap.add_argument("--big", type=int, default=1_000_000, help="orders in the big world")
    ap.add_argument("--only", choices=["orders"],
                    help="run one part only: 'orders' = part 1 (orders vs naive Faker loop)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(big_world(a.child)))
        return

    import cbec_sim

    cbec_sim.generate(500, rng=0)  # warm-up
    t = time.perf_counter()
    n_orders, n_lines = (len(d) for d in naive_orders(a.rows))
    naive = time.perf_counter() - t
    vec, side, vec_lines, drawn = orders_stage_seconds(a.rows)
    print(f"[1] orders + order_lines, {a.rows:,} orders: naive Faker loop {naive:.2f} s "
          f"({n_orders:,} orders, {n_lines:,} lines), vectorised {vec:.3f} s (~{a.rows:,} "
          f"orders, {vec_lines:,} lines; orders stage {vec + side:.3f} s less {side:.3f} s "
          f"for listing_stats, signup dates, labels) → {naive / vec:,.0f}× faster "
          f"(target ≥ 300×)")
    print(f"    of which numpy random draws {drawn:.3f} s ({drawn / vec:.0%}); with everything "
          f"but the draws free the ratio would be {naive / drawn:,.0f}×, and the target "
          f"leaves {naive / 300 - drawn:.3f} s for the rest")
    if a.only == "orders":
        return

    times = []
    for k in range(5):
        t = time.perf_counter()
        cbec_sim.generate(5000, rng=100 + k)
        times.append(time.perf_counter() - t)
    med = float(np.median(times))
    print(f"[3] 5,000-order per-trainee world: median {med:.3f} s over 5 → "
          f"{med / 0.5:.2f} of the 0.5 s budget")

    gen = sys.modules["cbec_sim.generate"]
    all_stages = gen.STAGES
    commerce = tuple(s for s in all_stages if s[0] not in COMPLIANCE_STAGES)
    for label, n in (("5,000", 5000), ("200,000", 200_000)):
        t_all, t_core = [], []
        for k in range(3):
            gen.STAGES = commerce
            t = time.perf_counter()
            cbec_sim.generate(n, rng=300 + k)
            t_core.append(time.perf_counter() - t)
            gen.STAGES = all_stages
            t = time.perf_counter()
            cbec_sim.generate(n, rng=300 + k)
            t_all.append(time.perf_counter() - t)
        extra = float(np.median(t_all)) / float(np.median(t_core)) - 1
        print(f"[4] {label}-order world: compliance/B2B/finance/back-office stages add "
              f"{extra:.0%} to the commerce world (target ≤ 50 %)")
    gen.STAGES = all_stages

    out = subprocess.run([sys.executable, __file__, "--child", str(a.big)], check=True,
                         capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    print(f"[2] {r['orders']:,}-order world, {r['rows']:,} rows in all tables: "
          f"{r['seconds']:.1f} s ({r['seconds'] / 15:.2f} of the 15 s budget), peak RSS "
          f"{r['peak_rss_mb']:,.0f} MB ({r['peak_rss_mb'] / 2048:.2f} of the 2 GB budget)")


if __name__ == "__main__":
    main()
