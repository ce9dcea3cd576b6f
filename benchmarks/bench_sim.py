"""Simulator speed and memory, measured as ratios in one run (no timings in tests).

Prints:
1. orders-table generation vs a naive Faker-per-row loop producing the same columns for the
   same row count (target ≥ 300× faster);
2. a 1,000,000-order world with every linked table: seconds and peak RSS (targets ≤ 15 s,
   ≤ 2 GB on a 2-core machine), each also as a ratio to its target;
3. a 5,000-order per-trainee world (warm process), target ≤ 0.5 s;
4. the extra time of the trade-compliance, B2B, finance and back-office stages relative to
   the commerce world alone (target ≤ 50 %).

Run: ``.venv/bin/python benchmarks/bench_sim.py [--rows 100000] [--big 1000000]``.
The 1M-order world runs in a child process so its peak RSS is measured alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd


def naive_orders(n: int, seed: int = 0) -> pd.DataFrame:
    """The slow way a Faker-based generator is usually written: one dict per order, every
    field drawn by a Faker provider call (ids, dates, choices, amounts, names, countries)."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2025, 12, 31, tzinfo=dt.UTC)
    rows = []
    for _ in range(n):
        created = fake.date_time_between(start_date=start, end_date=end, tzinfo=dt.UTC)
        paid = created + dt.timedelta(seconds=fake.random_int(10, 600))
        subtotal = float(fake.pydecimal(left_digits=3, right_digits=2, positive=True))
        disc = round(subtotal * fake.random_element([0, 0, 0, 0.1, 0.2]), 2)
        ship = fake.random_element([0.0, 0.0, 4.99])
        rate = fake.pyfloat(min_value=7.0, max_value=7.4)
        total = round(subtotal - disc + ship, 2)
        rows.append({
            "order_id": fake.bothify("O########"), "store_id": fake.bothify("S###"),
            "platform_id": fake.random_element(["amazon", "ebay", "shopee"]),
            "market": fake.country_code(), "customer_id": fake.bothify("C#######"),
            "customer_name": fake.name(), "email": fake.email(),
            "created_at": created, "paid_at": paid, "cancelled_at": None,
            "cancel_reason": None, "shipped_at": None, "delivered_at": None,
            "status": fake.random_element(["awaiting_shipment", "cancelled"]),
            "currency": fake.currency_code(), "fx_rate_cny": rate, "items_subtotal": subtotal,
            "discount_amount": disc, "shipping_fee": ship, "order_total": total,
            "order_total_cny": round(total * rate, 2),
            "payment_method": fake.random_element(["credit_card", "paypal", "digital_wallet"]),
            "payment_attempts": fake.random_int(1, 2), "billing_country": fake.country_code(),
            "ip_country": fake.country_code(), "promotion_id": None,
            "coupon_code": fake.bothify("????-####") if fake.boolean(10) else None,
            "channel": fake.random_element(["organic_search", "sponsored_ads", "social"]),
            "device": fake.random_element(["mobile", "pc"]), "campaign_id": None,
            "keyword_id": None, "live_session_id": None, "post_id": None,
            "n_items": fake.random_int(1, 3), "is_repeat": fake.boolean(30),
        })
    return pd.DataFrame(rows)


def orders_stage_seconds(n: int) -> float:
    """Time the vectorised orders stage alone inside a real world build."""
    import cbec_sim

    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    cbec_sim.generate(n, rng=1, progress=lambda s: marks.__setitem__(s, time.perf_counter()))
    names = list(marks)
    i = names.index("orders")
    return marks["orders"] - marks[names[i - 1]] if i else marks["orders"] - t0


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
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(big_world(a.child)))
        return

    import cbec_sim

    cbec_sim.generate(500, rng=0)  # warm-up
    t = time.perf_counter()
    naive_orders(a.rows)
    naive = time.perf_counter() - t
    vec = orders_stage_seconds(a.rows)
    print(f"[1] orders table, {a.rows:,} rows: naive Faker loop {naive:.2f} s, "
          f"vectorised {vec:.3f} s → {naive / vec:,.0f}× faster (target ≥ 300×)")

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
    commerce = all_stages[: [n for n, _ in all_stages].index("imports")]
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
