"""The report charts (matplotlib, Agg backend, CJK font from :mod:`graders.plotting`).

Each function returns a closed-over :class:`matplotlib.figure.Figure`; turn it into an embedded
image with :func:`graders.reports.html.figure_img`. Labels are Chinese with the English term.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from graders.analytics.competency import Mastery

LEVEL_COLOURS = {"proficient": "#2e9d57", "basic": "#e0a800", "not_yet": "#d64545"}


def _fig(w: float, h: float) -> Figure:
    from graders.plotting import use_cjk_font

    use_cjk_font()
    return Figure(figsize=(w, h), dpi=110)


def stage_bars(labels: Sequence[str], percent: Sequence[float], levels: Sequence[str | None],
               mastery: Mastery) -> Figure:
    """Horizontal bars of percent per stage, coloured by mastery level, with the two
    thresholds as dashed lines."""
    n = max(len(labels), 1)
    fig = _fig(8.0, 0.45 * n + 1.3)
    ax = fig.subplots()
    y = np.arange(len(labels))[::-1]
    colours = [LEVEL_COLOURS.get(lv or "", "#b0b6be") for lv in levels]
    ax.barh(y, [0.0 if p != p else p for p in percent], color=colours, height=0.6)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 100)
    for x, name in ((mastery.basic, "基本 basic"), (mastery.proficient, "熟练 proficient")):
        ax.axvline(100 * x, color="#5b6470", linestyle="--", linewidth=1)
        ax.text(100 * x + 0.8, 0.99, name, fontsize=8, ha="left", va="top", color="#5b6470",
                transform=ax.get_xaxis_transform())
    for yi, p in zip(y, percent, strict=True):
        if p == p:
            ax.text(min(p + 1, 92), yi, f"{p:.0f}%", va="center", fontsize=9)
    ax.set_xlabel("得分率 (% of points)")
    ax.set_ylim(-0.6, len(labels) - 0.1)
    ax.set_title("各阶段得分率与掌握程度 (points per stage and mastery)")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def score_histogram(percent: Sequence[float], mastery: Mastery, *, what: str) -> Figure:
    """Histogram of total scores in percent of the maximum (10-point bins)."""
    fig = _fig(8.0, 3.6)
    ax = fig.subplots()
    vals = [p for p in percent if p == p]
    ax.hist(vals, bins=np.linspace(0, 100, 11), color="#4a78c2", edgecolor="white")
    for x in (mastery.basic, mastery.proficient):
        ax.axvline(100 * x, color="#5b6470", linestyle="--", linewidth=1)
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"总分得分率 (total score, % of max) — {what}")
    ax.set_ylabel("学员人数 (trainees)")
    ax.set_title("成绩分布 (score distribution)")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def mastery_heatmap(percent: pd.DataFrame, levels: pd.DataFrame,
                    stage_labels: Sequence[str]) -> Figure:
    """Trainees × stages: cell colour = mastery level (grey: no items), text = percent."""
    rows, cols = percent.shape
    fig = _fig(max(5.0, 1.0 * cols + 2.5), max(2.0, 0.32 * rows + 1.6))
    ax = fig.subplots()
    code = {"not_yet": 0, "basic": 1, "proficient": 2}
    grid = np.array([[code.get(v, np.nan) if isinstance(v, str) else np.nan for v in r]
                     for r in levels.reindex(index=percent.index,
                                             columns=percent.columns).to_numpy()], dtype=float)
    cmap = ListedColormap([LEVEL_COLOURS["not_yet"], LEVEL_COLOURS["basic"],
                           LEVEL_COLOURS["proficient"]]).with_extremes(bad="#e6e8eb")
    ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=-0.5, vmax=2.5, aspect="auto",
              interpolation="nearest")
    ax.set_xticks(range(cols), stage_labels, rotation=30, ha="right")
    ax.set_yticks(range(rows), [str(s) for s in percent.index])
    if rows * cols <= 600:
        for i in range(rows):
            for j in range(cols):
                v = percent.iat[i, j]
                if not math.isnan(v):
                    ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=8,
                            color="white")
    ax.set_title("学员 × 阶段 掌握程度 (mastery heat map, % of points)\n"
                 "红 not yet · 黄 basic · 绿 proficient · 灰 no items", fontsize=10)
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    return fig


def telemetry_bars(labels: Sequence[str], minutes: Sequence[float],
                   hints: Sequence[float]) -> Figure:
    """Per item: median minutes on task and mean hints per trainee, side by side."""
    n = max(len(labels), 1)
    fig = _fig(9.0, 0.38 * n + 1.4)
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(labels))[::-1]
    ax1.barh(y, minutes, color="#4a78c2", height=0.6)
    ax1.set_yticks(y, labels)
    ax1.set_xlabel("用时中位数 (median minutes on task)")
    ax2.barh(y, hints, color="#e08a00", height=0.6)
    ax2.set_xlabel("平均提示次数 (mean hints per trainee)")
    for ax in (ax1, ax2):
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle("练习数据 (practice telemetry)")
    return fig
