"""Whole-world checks: declared schemas, foreign keys and cross-table invariants."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from cbec_sim.schema import REGISTRY, validate_references, validate_table
from cbec_sim.world import World

Invariant = Callable[[World], list[str]]
INVARIANTS: dict[str, Invariant] = {}


def invariant(fn: Invariant) -> Invariant:
    """Register a cross-table check (returns a list of problems)."""
    INVARIANTS[fn.__name__] = fn
    return fn


def _before(a: pd.Series, b: pd.Series, what: str) -> list[str]:
    bad = (a.notna() & b.notna() & (a > b)).sum()
    return [f"{what}: {bad} rows out of order"] if bad else []


@invariant
def order_timeline(w: World) -> list[str]:
    o = w.tables.get("orders")
    if o is None:
        return []
    return (_before(o["created_at"], o["paid_at"], "orders created_at ≤ paid_at")
            + _before(o["paid_at"], o["shipped_at"], "orders paid_at ≤ shipped_at")
            + _before(o["shipped_at"], o["delivered_at"], "orders shipped_at ≤ delivered_at"))


@invariant
def order_amounts(w: World) -> list[str]:
    o, lines = w.tables.get("orders"), w.tables.get("order_lines")
    if o is None or lines is None:
        return []
    out = []
    sub = lines.groupby("order_id")["line_amount"].sum().reindex(o["order_id"]).to_numpy()
    if (abs(sub - o["items_subtotal"].to_numpy()) > 0.005).any():
        out.append("orders.items_subtotal differs from the sum of its lines")
    calc = o["items_subtotal"] - o["discount_amount"] + o["shipping_fee"]
    if (abs(calc - o["order_total"]) > 0.005).any():
        out.append("orders.order_total ≠ subtotal − discount + shipping")
    disc = lines.groupby("order_id")["line_discount"].sum().reindex(o["order_id"]).to_numpy()
    if (abs(disc - o["discount_amount"].to_numpy()) > 0.005).any():
        out.append("order_lines.line_discount does not add up to orders.discount_amount")
    return out


@invariant
def signup_before_first_order(w: World) -> list[str]:
    o, c = w.tables.get("orders"), w.tables.get("customers")
    if o is None or c is None:
        return []
    first = o.groupby("customer_id")["created_at"].min()
    su = c.set_index("customer_id")["signup_at"].reindex(first.index)
    bad = int((su > first).sum())
    return [f"customers: {bad} signed up after their first order"] if bad else []


@invariant
def import_mode_plan(w: World) -> list[str]:
    t, pf = w.tables.get("import_mode_costs"), w.tables.get("product_filings")
    if t is None or pf is None:
        return []
    out = []
    approved = set(pf.loc[pf["status"] == "approved", "filing_id"])
    if not set(t["filing_id"]) <= approved:
        out.append("import_mode_costs: a product line is not an approved product filing")
    if (t["monthly_units"] < t["monthly_orders"]).any():
        out.append("import_mode_costs: monthly_units < monthly_orders")
    return out


@invariant
def import_annual_totals(w: World) -> list[str]:
    o = w.tables.get("import_orders")
    if o is None:
        return []
    from cbec_sim.rules import to_cents

    cents = pd.Series(to_cents(o["dutiable_value"]), index=o.index)
    run = cents.groupby([o["buyer_id"], o["order_year"]]).cumsum()
    bad = int((run != to_cents(o["annual_total_after"])).sum())
    return [f"import_orders: {bad} annual totals do not restart each calendar year"] if bad \
        else []


def validate_world(world: World) -> list[str]:
    """All problems found (empty list when the world is consistent)."""
    problems: list[str] = []
    for src in (world.tables, world.labels):
        for name, df in src.items():
            problems += validate_table(df, REGISTRY[name])
    problems += validate_references({**world.tables})
    for fn in INVARIANTS.values():
        problems += fn(world)
    return problems
