"""Stage ``stores``: the trainee company's stores on the world's platforms and markets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec_sim.context import Context
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import make_ids

FULFILMENT = ("merchant", "overseas_warehouse", "platform_warehouse")
ACCOUNT_STATUS = ("healthy", "at_risk")

#: Relative chance of opening a store on each platform (simulation parameter).
PLATFORM_WEIGHT = {"amazon": 5.0, "aliexpress": 2.5, "ebay": 1.5, "wish": 0.5, "joom": 0.4,
                   "shopee": 3.0, "lazada": 2.0, "tiktok_shop": 2.5, "ozon": 1.5,
                   "wildberries": 1.0, "coupang": 1.2, "jumia": 1.0, "alibaba": 1.0}

_SYL_A = np.array(["Lu", "Ve", "No", "Ka", "Mi", "So", "Ta", "Ze", "Ari", "Bel", "Cor", "Dax",
                   "Eo", "Fi", "Gal", "Ha", "Io", "Jun", "Ly", "Or"])
_SYL_B = np.array(["mora", "xa", "vio", "ren", "lix", "tora", "nex", "dia", "vane", "quo",
                   "sel", "bira", "mon", "ketta", "rix", "luna", "pex", "zio", "via", "tek"])

STORES = register(TableSpec(
    name="stores",
    grain="one store (account) of the company on one platform and market",
    description="The company's stores. Account-health columns are computed by the after-sales "
                "stage from the last 60 days of the store's own orders.",
    columns=(
        Column("store_id", "str", "store id", unique=True),
        Column("store_name", "str", "storefront name"),
        Column("brand", "str", "own brand sold in the store"),
        Column("platform_id", "str", "platform", references="platforms.platform_id"),
        Column("market", "category", "target market (ISO country code)"),
        Column("model", "category", "B2C retail or B2B wholesale", values=("B2C", "B2B")),
        Column("currency", "category", "selling currency (ISO 4217)"),
        Column("category_focus", "category", "main product category"),
        Column("fulfilment", "category", "how orders are fulfilled", values=FULFILMENT),
        Column("open_date", "date", "day the store opened"),
        Column("size_weight", "float", "relative share of the company's orders (simulation "
               "parameter)", ge=0),
        Column("late_shipment_rate", "rate", "late shipments ÷ shipped orders, last 60 days",
               nullable=True, ge=0, le=1),
        Column("order_defect_rate", "rate", "orders with a 1–2-star review or a complaint "
               "ticket ÷ orders, last 60 days (ODR-style)", nullable=True, ge=0, le=1),
        Column("cancel_rate", "rate", "seller-side cancellations ÷ orders, last 60 days",
               nullable=True, ge=0, le=1),
        Column("valid_tracking_rate", "rate", "shipments with valid tracking ÷ shipments, "
               "last 60 days", nullable=True, ge=0, le=1),
        Column("feedback_score", "float", "average review rating, last 60 days (1–5)",
               nullable=True, ge=1, le=5),
        Column("account_status", "category", "healthy, or at_risk when any metric breaches "
               "the platform's threshold", values=ACCOUNT_STATUS, nullable=True),
    ),
))


def n_stores_for(n_orders: int, n_markets: int) -> int:
    """Store count grows slowly with volume (a 5k-order company runs ~10 stores)."""
    return int(np.clip(n_markets + 1 + np.sqrt(n_orders) / 40, n_markets + 1, 80))


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    rng = ctx.rng("stores")
    cat = ctx.catalog
    b2c = [p for p in ctx.platforms if cat.platforms[p]["model"] == "B2C"]
    b2b = [p for p in ctx.platforms if cat.platforms[p]["model"] == "B2B"]
    pairs = [(p, m) for p in b2c for m in ctx.markets if m in cat.platforms[p]["markets"]]
    pw = np.array([PLATFORM_WEIGHT.get(p, 1.0) * cat.markets.loc[m, "demand_weight"]
                   for p, m in pairs])
    chosen: list[int] = []
    for m in ctx.markets:  # every market gets at least one B2C store
        idx = [i for i, (_, mm) in enumerate(pairs) if mm == m]
        if idx:
            w = pw[idx] / pw[idx].sum()
            chosen.append(int(rng.choice(idx, p=w)))
    n_total = n_stores_for(ctx.n_orders, len(ctx.markets))
    rest = [i for i in range(len(pairs)) if i not in chosen]
    n_extra = min(max(0, n_total - len(chosen)), len(rest))
    if n_extra:
        w = pw[rest] / pw[rest].sum()
        chosen += list(rng.choice(rest, size=n_extra, replace=False, p=w))
    chosen = sorted(chosen)
    rows = [(pairs[i][0], pairs[i][1], "B2C") for i in chosen]
    n_b2b = (1 + ctx.n_orders // 250_000) if b2b else 0
    for k in range(n_b2b):
        rows.append((b2b[k % len(b2b)], ctx.markets[k % len(ctx.markets)], "B2B"))
    # columns are computed first (random draws in the original order) and the table is
    # built once: assigning columns one by one to a DataFrame costs more than the draws
    platform = np.array([r[0] for r in rows], dtype=object)
    market = np.array([r[1] for r in rows], dtype=object)
    model = np.array([r[2] for r in rows], dtype=object)
    n = len(rows)
    b2b_row = model == "B2B"
    cats = cat.categories
    category_focus = rng.choice(cats, size=n)
    brand_idx = rng.choice(len(_SYL_A) * len(_SYL_B), size=max(2, n // 3 + 1), replace=False)
    brands = np.char.add(_SYL_A[brand_idx // len(_SYL_B)], _SYL_B[brand_idx % len(_SYL_B)])
    brand = brands[rng.integers(0, len(brands), n)]
    suffix = np.array(["Official Store", "Store", "Global", "Direct", "Home", "Life", "Shop"])
    store_name = (brand.astype(object) + " " + suffix[rng.integers(0, len(suffix), n)]
                  + " " + market)
    currency = np.where(b2b_row, "USD", cat.markets.loc[market, "currency"].to_numpy())
    ful = np.where(rng.random(n) < 0.55, "merchant",
                   np.where(rng.random(n) < 0.5, "overseas_warehouse", "platform_warehouse"))
    fulfilment = np.where(b2b_row, "merchant", ful)
    age_days = rng.integers(60, 3 * 365, n)
    open_date = ctx.start - pd.to_timedelta(age_days, unit="D")
    size_weight = np.round(rng.lognormal(0.0, 0.8, n), 4) * (model == "B2C")
    df = pd.DataFrame({
        "store_id": make_ids("S", n, width=3),
        "platform_id": platform, "market": market, "model": model,
        "category_focus": category_focus, "brand": brand, "store_name": store_name,
        "currency": currency, "fulfilment": fulfilment, "open_date": open_date,
        "size_weight": size_weight,
        **{c: np.full(n, np.nan) for c in ("late_shipment_rate", "order_defect_rate",
                                           "cancel_rate", "valid_tracking_rate",
                                           "feedback_score")},
        "account_status": np.full(n, None, dtype=object),
    })
    return {"stores": df}
