"""Stage ``fx``: daily CNY reference rates for the world's currencies."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec_sim.context import Context
from cbec_sim.schema import Column, TableSpec, register

FX_RATES = register(TableSpec(
    name="fx_rates",
    grain="one currency × calendar day of the simulated period (plus 30 days before)",
    description="Simulated daily CNY reference rate (geometric random walk around public "
                "orders of magnitude). Orders convert with the rate of their creation day.",
    columns=(
        Column("date", "date", "calendar day"),
        Column("currency", "category", "ISO 4217 currency code"),
        Column("cny_per_unit", "float", "CNY for 1 unit of the currency (6 significant "
               "digits)", unit="CNY", ge=0),
    ),
))


def _sig6(x: np.ndarray) -> np.ndarray:
    mag = np.floor(np.log10(np.abs(x)))
    factor = 10.0 ** (5 - mag)
    return np.round(x * factor) / factor


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    rng = ctx.rng("fx")
    cat = ctx.catalog
    currencies = sorted(set(cat.markets.loc[list(ctx.markets), "currency"]) | {"USD"})
    days = pd.date_range(ctx.start - pd.Timedelta(days=30), ctx.end, freq="D")
    n = len(days)
    rates = []
    for cur in currencies:  # loop over a handful of currencies
        base, vol = cat.fx.loc[cur, "cny"], cat.fx.loc[cur, "vol"]
        steps = rng.normal(0.0, vol / np.sqrt(365.25), n)
        steps[0] = 0.0
        drift = rng.normal(0.0, vol / 2) / 365.25
        path = base * np.exp(np.cumsum(steps + drift))
        rates.append(_sig6(path))
    # one frame, currency-major (what concatenating one frame per currency gives)
    return {"fx_rates": pd.DataFrame({
        "date": np.tile(days.to_numpy(), len(currencies)),
        "currency": np.repeat(np.array(currencies, dtype=object), n),
        "cny_per_unit": np.concatenate(rates) if rates else np.zeros(0),
    })}
