"""``generate``: one seeded call builds a coherent world of linked tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import import_module

import numpy as np
import pandas as pd

from cbec_sim import __version__
from cbec_sim._rng import RngLike, as_generator
from cbec_sim.catalog import DEFAULT_MARKETS, catalog
from cbec_sim.context import Context
from cbec_sim.schema import REGISTRY, conform
from cbec_sim.world import World

#: Stages in build order. Each is ``module:function``; the function takes a Context and
#: returns ``{table_name: DataFrame}``. The list is append-only: a stage's random stream is
#: fixed by its position, so adding stages at the end leaves existing tables unchanged.
STAGES: tuple[tuple[str, str], ...] = (
    ("reference", "cbec_sim.tables.reference:build"),
    ("fx", "cbec_sim.tables.fx:build"),
    ("stores", "cbec_sim.tables.stores:build"),
    ("products", "cbec_sim.tables.products:build"),
    ("market", "cbec_sim.tables.market:build"),
    ("customers", "cbec_sim.tables.customers:build"),
    ("marketing_plan", "cbec_sim.tables.marketing:build_plan"),
    ("orders", "cbec_sim.tables.orders:build"),
    ("marketing_metrics", "cbec_sim.tables.marketing:build_metrics"),
    ("logistics", "cbec_sim.tables.logistics:build"),
    ("aftersales", "cbec_sim.tables.aftersales:build"),
    ("inventory", "cbec_sim.tables.inventory:build"),
    ("imports", "cbec_sim.tables.imports:build"),
    ("b2b", "cbec_sim.tables.b2b:build"),
    ("finance", "cbec_sim.tables.finance:build"),
    ("backoffice", "cbec_sim.tables.backoffice:build"),
    ("risk", "cbec_sim.tables.risk:build"),
    ("b2b_marketing", "cbec_sim.tables.b2b_marketing:build"),
    ("store_ops", "cbec_sim.tables.store_ops:build"),
    ("visual", "cbec_sim.tables.visual:build"),
)

MAX_ORDERS = 20_000_000
BIG_WORLD = 200_000  # from this size on, hand freed memory back between stages


def _release_memory() -> None:
    """Return freed heap to the OS (glibc only) so later stages start lower."""
    import contextlib
    import ctypes
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)
MAX_MONTHS = 60


def _resolve(target: str) -> Callable[[Context], dict[str, pd.DataFrame]]:
    mod, fn = target.split(":")
    return getattr(import_module(mod), fn)


def _check_options(n_orders: int, markets: Iterable[str] | None, platforms: Iterable[str] | None,
                   months: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    cat = catalog()
    if isinstance(n_orders, bool) or not isinstance(n_orders, int | np.integer):
        raise ValueError(f"number of orders (--orders) must be a whole number, "
                         f"got {n_orders!r}")
    if not 100 <= n_orders <= MAX_ORDERS:
        raise ValueError(f"number of orders (--orders) must be between 100 and "
                         f"{MAX_ORDERS:,}, got {n_orders:,}")
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or not (
        1 <= months <= MAX_MONTHS
    ):
        raise ValueError(f"months (--months) must be a whole number from 1 to {MAX_MONTHS}, "
                         f"got {months!r}")
    mk = tuple(dict.fromkeys(m.strip().upper() for m in (markets or DEFAULT_MARKETS)))
    unknown = [m for m in mk if m not in cat.market_codes]
    if unknown or not mk:
        raise ValueError(
            f"unknown market(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(cat.market_codes)}"
        )
    available = cat.platforms_for(mk)
    if platforms is None:
        pf = tuple(available)
    else:
        pf = tuple(dict.fromkeys(p.strip().lower() for p in platforms))
        bad = [p for p in pf if p not in cat.platforms]
        if bad:
            raise ValueError(
                f"unknown platform(s) {', '.join(bad)}; choose from {', '.join(cat.platforms)}"
            )
        idle = [p for p in pf if p not in available]
        if idle:
            raise ValueError(
                f"platform(s) {', '.join(idle)} do not serve markets {', '.join(mk)}"
            )
    if not any(cat.platforms[p]["model"] == "B2C" for p in pf):
        raise ValueError("choose at least one B2C platform: orders come from B2C stores")
    return mk, pf


#: Tables that a later stage completes after the stage that first writes them.
COMPLETED_BY: dict[str, str] = {
    "customers": "orders", "live_sessions": "marketing_metrics",
    "social_posts": "marketing_metrics", "orders": "aftersales", "stores": "aftersales",
}


def _run_stages(ctx: Context, progress: Callable[[str], None] | None = None,
                until_table: str | None = None) -> None:
    """Run the stages in order (all of them, or until ``until_table`` is complete)."""
    last = COMPLETED_BY.get(until_table or "")
    for name, target in STAGES:
        out = _resolve(target)(ctx)
        for tname, df in out.items():
            if REGISTRY[tname].label:  # label tables accumulate across stages
                prev = ctx.labels.get(tname)
                ctx.labels[tname] = df if prev is None else pd.concat([prev, df],
                                                                       ignore_index=True)
            else:  # a stage may replace an upstream table it completes (e.g. orders)
                ctx.tables[tname] = df
        if ctx.n_orders >= BIG_WORLD:
            _release_memory()
        if progress is not None:
            progress(name)
        if until_table is not None and until_table in ctx.tables and last in (None, name):
            return


def _context(n_orders, markets, platforms, start, months, rng) -> Context:
    mk, pf = _check_options(n_orders, markets, platforms, months)
    try:
        t0 = pd.Timestamp(start).normalize()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"start must be a date like 2025-01-01, got {start!r}") from exc
    end = t0 + pd.DateOffset(months=int(months)) - pd.Timedelta(days=1)
    children = as_generator(rng).spawn(len(STAGES))
    return Context(
        n_orders=int(n_orders), markets=mk, platforms=pf, start=t0, end=end,
        catalog=catalog(), rngs={name: g for (name, _), g in zip(STAGES, children, strict=True)},
    )


def make_table(name: str, n_orders: int = 5_000, *, markets: Iterable[str] | None = None,
               platforms: Iterable[str] | None = None, start: str | pd.Timestamp = "2025-01-01",
               months: int = 12, rng: RngLike = None) -> pd.DataFrame:
    """One table of the world ``generate`` would build with the same arguments.

    Runs only the stages the table depends on, so ``make_table("orders", 5000, rng=7)``
    equals ``generate(5000, rng=7).orders``.
    """
    import cbec_sim.tables  # noqa: F401 (registers specs)

    if name not in REGISTRY or REGISTRY[name].label:
        known = ", ".join(sorted(k for k, v in REGISTRY.items() if not v.label))
        raise ValueError(f"unknown table {name!r}; choose from {known}")
    ctx = _context(n_orders, markets, platforms, start, months, rng)
    _run_stages(ctx, until_table=name)
    return conform(ctx.tables[name], REGISTRY[name])


def generate(
    n_orders: int = 5_000,
    *,
    markets: Iterable[str] | None = None,
    platforms: Iterable[str] | None = None,
    start: str | pd.Timestamp = "2025-01-01",
    months: int = 12,
    rng: RngLike = None,
    progress: Callable[[str], None] | None = None,
) -> World:
    """Build a world with about ``n_orders`` B2C orders and every linked table.

    Parameters
    ----------
    n_orders : target number of orders (100 – 20,000,000).
    markets : ISO country codes (default: a mix of 8 markets on four continents).
    platforms : platform ids from the catalogue (default: all serving those markets).
    start : first day of the simulated period; ``months`` its length.
    rng : ``numpy.random.Generator``, an int seed, or None (SPEC 7).
    progress : called with each stage's name after it finishes (for progress bars).
    """
    seed_info = rng if isinstance(rng, int | np.integer) else None
    ctx = _context(n_orders, markets, platforms, start, months, rng)
    _run_stages(ctx, progress)
    for store in (ctx.tables, ctx.labels):  # one table at a time: the old copy is freed
        for k in list(store):
            store[k] = conform(store[k], REGISTRY[k])
            if ctx.n_orders >= BIG_WORLD and len(store[k]) >= 1_000_000:
                _release_memory()
    tables, labels = ctx.tables, ctx.labels
    meta = {
        "seed": None if seed_info is None else int(seed_info),
        "n_orders": int(n_orders),
        "markets": list(ctx.markets),
        "platforms": list(ctx.platforms),
        "start": ctx.start.date().isoformat(),
        "months": int(months),
        "cbec_sim_version": __version__,
    }
    return World(tables, labels, meta)
