"""The simulator's curated reference data (markets, currencies, platforms, HS code table).

Loaded once from ``cbec_sim/data``; every table generator reads facts from here rather than
hard-coding them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import Any

import pandas as pd
import yaml

DEFAULT_MARKETS: tuple[str, ...] = ("US", "GB", "DE", "JP", "AU", "MY", "TH", "SA")


def _data(name: str) -> str:
    return resources.files("cbec_sim").joinpath("data", name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Catalog:
    """Reference data as DataFrames and dicts, read-only by convention."""

    markets: pd.DataFrame  # index: market code
    fx: pd.DataFrame  # index: currency
    platforms: dict[str, dict[str, Any]]
    platform_defaults: dict[str, Any]
    hs_codes: pd.DataFrame

    @property
    def market_codes(self) -> list[str]:
        return list(self.markets.index)

    @property
    def categories(self) -> list[str]:
        return list(self._categories)

    @cached_property
    def _categories(self) -> tuple[str, ...]:
        """Product categories of the HS code table, in table order (read once)."""
        return tuple(dict.fromkeys(self.hs_codes["category"]))

    def platforms_for(self, markets: list[str] | tuple[str, ...]) -> list[str]:
        """Platforms that operate in at least one of ``markets`` (catalogue order)."""
        ms = set(markets)
        return [p for p, d in self.platforms.items() if ms & set(d["markets"])]


@cache
def catalog() -> Catalog:
    """Load the curated reference data (cached per process)."""
    markets = pd.DataFrame.from_dict(yaml.safe_load(_data("markets.yaml")), orient="index")
    markets.index.name = "market"
    fx = pd.DataFrame.from_dict(yaml.safe_load(_data("fx.yaml")), orient="index")
    fx.index.name = "currency"
    p = yaml.safe_load(_data("platforms.yaml"))
    hs = pd.read_csv(
        resources.files("cbec_sim").joinpath("data", "hs_codes.csv"), dtype={"hs10": str}
    )
    return Catalog(markets, fx, p["platforms"], p["defaults"], hs)
