"""The generation context handed from stage to stage by :func:`cbec_sim.generate`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cbec_sim.catalog import Catalog


@dataclass
class Context:
    """World options, reference data, one generator per stage, and the tables built so far.

    A stage reads upstream tables from ``tables`` and returns new ones; label (ground-truth)
    tables go to ``labels``. Stages never touch another stage's generator.
    """

    n_orders: int
    markets: tuple[str, ...]
    platforms: tuple[str, ...]
    start: pd.Timestamp  # first day (naive, midnight)
    end: pd.Timestamp  # last day (inclusive)
    catalog: Catalog
    rngs: dict[str, np.random.Generator]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    labels: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: derived arrays reused by several stages of this world (see :meth:`cached`)
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def days(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, self.end, freq="D").as_unit("ns")

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    def rng(self, stage: str) -> np.random.Generator:
        return self.rngs[stage]

    def cached(self, key: tuple, inputs: tuple, make: Callable[[], Any]) -> Any:
        """``make()``, computed once per world while ``inputs`` are the same objects.

        ``inputs`` are the tables (or other objects) the value is derived from; a stage that
        replaces one of them gets a fresh value. Callers must not mutate the result.
        """
        hit = self.cache.get(key)
        if hit is not None and len(hit[0]) == len(inputs) and all(
                a is b for a, b in zip(hit[0], inputs, strict=True)):
            return hit[1]
        value = make()
        self.cache[key] = (inputs, value)
        return value
