"""Finer generators, one per table: ``make_orders(5000, rng=7)`` and friends.

Each has the signature of :func:`cbec_sim.generate` (size first, keyword-only options, one
``rng``) and returns the table exactly as the full world would contain it, building only the
stages it depends on.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

import cbec_sim.tables  # noqa: F401 (registers every spec)
from cbec_sim.generate import make_table
from cbec_sim.schema import REGISTRY

__all__: list[str] = []


def _maker(table: str) -> Callable[..., pd.DataFrame]:
    def make(n_orders: int = 5_000, **options) -> pd.DataFrame:
        return make_table(table, n_orders, **options)

    spec = REGISTRY[table]
    make.__name__ = make.__qualname__ = f"make_{table}"
    make.__doc__ = (f"The ``{table}`` table ({spec.grain}) of a world with about "
                    f"``n_orders`` orders.\n\nOptions as for :func:`cbec_sim.generate`: "
                    "markets, platforms, start, months, rng.")
    return make


for _name, _spec in REGISTRY.items():
    if not _spec.label:
        globals()[f"make_{_name}"] = _maker(_name)
        __all__.append(f"make_{_name}")
