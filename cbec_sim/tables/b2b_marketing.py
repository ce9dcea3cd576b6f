"""Stage ``b2b_marketing``: keyword performance of B2B stores on their platform's search.

``b2b_keyword_stats`` is the weekly keyword report of a B2B store's back office (like a
marketplace's keyword analysis page): for each keyword buyers searched and the store's
products showed for, the exposure (曝光, impressions), clicks (点击), inquiries (询盘) sent from
those clicks and the average position in the search results. Better positions bring more
exposure and a higher click-through rate; long-tail keywords bring fewer but more serious
buyers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec_sim.context import Context
from cbec_sim.schema import Column, TableSpec, register

MAX_KEYWORDS = 30  # keywords tracked per B2B store
B2B_SEARCH_SHARE = 0.008  # share of a keyword's consumer search volume seen on B2B search

B2B_KEYWORD_STATS = register(TableSpec(
    name="b2b_keyword_stats",
    grain="one B2B store × keyword × week",
    description="Weekly keyword report of B2B stores (Table 1 7.1 B2B data analysis): how "
                "often the store's products were shown for a search keyword (exposure), "
                "clicked and turned into inquiries, and their average position. Weeks run "
                "Monday–Sunday in China time (the seller's back office); only whole weeks of "
                "the period are reported. Keyword text and market come from `keywords`.",
    columns=(
        Column("store_id", "str", "B2B store", references="stores.store_id"),
        Column("keyword_id", "str", "search keyword", references="keywords.keyword_id"),
        Column("keyword", "str", "keyword text (as in `keywords.keyword`)"),
        Column("week_start", "date", "Monday of the week (China time)"),
        Column("impressions", "int", "exposure (曝光): times the store's products were shown "
               "in results for the keyword", ge=0),
        Column("clicks", "int", "clicks (点击) on the store's products from those results",
               ge=0),
        Column("inquiries", "int", "inquiries (询盘) sent after such a click", ge=0),
        Column("avg_rank", "float", "average position of the store's best product in the "
               "results (1 = top); empty when not shown that week", nullable=True, ge=1),
    ),
    checks=("clicks ≤ impressions", "inquiries ≤ clicks"),
))


def _weeks(ctx: Context) -> pd.DatetimeIndex:
    """Mondays of the whole weeks inside the period."""
    first = ctx.start + pd.Timedelta(days=(7 - ctx.start.day_of_week) % 7)
    last = ctx.end - pd.Timedelta(days=6)
    return pd.date_range(first, last, freq="7D").as_unit("ns")


def _equals_text(col: pd.Series, value: str) -> np.ndarray:
    """``col.astype(str).to_numpy() == value``; a categorical compares its categories only."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        hit = np.append(np.asarray(col.cat.categories.astype(str)) == value, False)
        return hit[col.cat.codes.to_numpy()]  # code -1 (missing) → the trailing False
    return col.astype(str).to_numpy() == value


def _store_keywords(kw: pd.DataFrame, category: str, market: str) -> np.ndarray:
    """Positions in ``kw`` of the keywords a store in ``category`` tracks (home market first)."""
    cat = _equals_text(kw["category"], category)
    home = cat & _equals_text(kw["market"], market)
    pos = np.flatnonzero(home) if home.any() else np.flatnonzero(cat)
    _, first = np.unique(kw["keyword"].to_numpy(object)[pos].astype(str), return_index=True)
    return np.sort(pos[first])[:MAX_KEYWORDS]


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    """The ``b2b_keyword_stats`` table."""
    rng = ctx.rng("b2b_marketing")
    st = ctx.tables["stores"]
    kw = ctx.tables["keywords"]
    b2b = np.flatnonzero(_equals_text(st["model"], "B2B"))
    weeks = _weeks(ctx)
    parts = []
    for sid, cat, mkt in zip(st["store_id"].to_numpy(object)[b2b],
                             st["category_focus"].astype(str).to_numpy(object)[b2b],
                             st["market"].astype(str).to_numpy(object)[b2b],
                             strict=True):  # a few stores
        pos = _store_keywords(kw, cat, mkt)
        k, n_w = len(pos), len(weeks)
        if not k or not n_w:
            continue
        vol = kw["search_volume"].to_numpy(float)[pos]
        tail = kw["is_long_tail"].to_numpy(bool)[pos]
        rank0 = np.clip(rng.lognormal(np.log(12.0), 0.8, k), 1.0, 120.0)
        walk = np.cumsum(rng.normal(0.0, 0.12, (k, n_w)), axis=1)
        rank = np.clip(rank0[:, None] * np.exp(walk), 1.0, 200.0)
        searches = vol[:, None] / 52 * B2B_SEARCH_SHARE * rng.lognormal(0.0, 0.2, (k, n_w))
        impressions = rng.poisson(searches / (1 + (rank - 1) / 5))
        quality = rng.lognormal(0.0, 0.3, k)
        ctr = np.clip(0.06 * quality[:, None] / (1 + (rank - 1) / 10), 0.0, 0.3)
        clicks = rng.binomial(impressions, ctr)
        p_inq = np.where(tail, 0.12, 0.05) * rng.lognormal(0.0, 0.25, k)
        inquiries = rng.binomial(clicks, np.clip(p_inq, 0.0, 0.5)[:, None])
        avg_rank = np.where(impressions > 0, np.round(rank, 1), np.nan)
        parts.append(pd.DataFrame({
            "store_id": sid,
            "keyword_id": np.repeat(kw["keyword_id"].to_numpy(object)[pos], n_w),
            "keyword": np.repeat(kw["keyword"].to_numpy(object)[pos], n_w),
            "week_start": np.tile(weeks.to_numpy(), k),
            "impressions": impressions.ravel().astype(np.int64),
            "clicks": clicks.ravel().astype(np.int64),
            "inquiries": inquiries.ravel().astype(np.int64),
            "avg_rank": avg_rank.ravel(),
        }))
    cols = [c.name for c in B2B_KEYWORD_STATS.columns]
    out = (pd.concat(parts, ignore_index=True) if parts
           else pd.DataFrame({c: pd.Series(dtype=object) for c in cols}))
    if not parts:
        out = out.astype({"week_start": "datetime64[ns]", "impressions": "int64",
                          "clicks": "int64", "inquiries": "int64", "avg_rank": "float64"})
    return {"b2b_keyword_stats": out}
