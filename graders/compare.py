"""Comparisons between a trainee's answer and the expected answer.

Each comparator returns a :class:`Verdict`: ``ok``, a ``problem`` kind (``type``, ``shape``,
``value``) and a Chinese message that never contains the expected value (it is shown to trainees
and may end up in nbgrader feedback). ``hint_cn`` carries extra practice-only detail (counts of
missing rows, a likely cause) that is still free of expected values.

Comparators are plain frozen dataclasses so exercise definitions stay declarative::

    Number(rel=1e-4)            Money()            Rate()          Integer()
    Text()                      Choice(("DHL", "UPS"))             IdSet()
    SeriesOf(rel=1e-6)          Frame(key=["market"], columns=["gmv"])
    Chart(kind="bar")
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Verdict:
    """Outcome of one comparison."""

    ok: bool
    problem: str | None = None  # None when ok; "type" | "shape" | "value"
    message: str = ""
    hint_cn: str = ""


OK = Verdict(True)


def _type_name(x: Any) -> str:
    if isinstance(x, pd.DataFrame):
        return f"DataFrame（{x.shape[0]} 行 × {x.shape[1]} 列）"
    if isinstance(x, pd.Series):
        return f"Series（{len(x)} 个值）"
    return type(x).__name__


def _as_float(x: Any) -> float | None:
    """A real number from int/float/numpy/Decimal/1-element containers, else None."""
    if isinstance(x, bool | np.bool_):
        return None
    if isinstance(x, pd.Series | pd.DataFrame | np.ndarray) and x.size == 1:
        x = np.asarray(x).reshape(-1)[0]
    if isinstance(x, int | float | Decimal | np.integer | np.floating):
        return float(x)
    return None


class Comparator:
    """Base class: ``compare(answer, expected) -> Verdict``; ``kind_cn`` names the type."""

    kind_cn = "答案"

    def compare(self, answer: Any, expected: Any) -> Verdict:  # pragma: no cover - abstract
        raise NotImplementedError

    def wrong_type(self, answer: Any) -> Verdict:
        return Verdict(False, "type", f"需要{self.kind_cn}，你给的是 {_type_name(answer)}。")


@dataclass(frozen=True)
class Number(Comparator):
    """A real number within ``abs`` or ``rel`` tolerance (whichever is looser)."""

    abs: float = 1e-9
    rel: float = 1e-6
    kind_cn = "一个数字"

    def compare(self, answer: Any, expected: Any) -> Verdict:
        a = _as_float(answer)
        if a is None:
            return self.wrong_type(answer)
        if math.isnan(a):
            return Verdict(False, "value", "你的答案是 NaN（缺失值）：检查是否对空数据做了计算。")
        e = float(expected)
        if math.isclose(a, e, rel_tol=self.rel, abs_tol=self.abs):
            return OK
        return Verdict(False, "value", "数值不正确。", self._direction(a, e))

    @staticmethod
    def _direction(a: float, e: float) -> str:
        if e != 0 and math.isclose(a, -e, rel_tol=1e-6):
            return "符号反了：检查减法的顺序。"
        return "偏大了。" if a > e else "偏小了。"


@dataclass(frozen=True)
class Integer(Number):
    """A whole number (counts); floats equal to an integer are accepted."""

    kind_cn = "一个整数"

    def compare(self, answer: Any, expected: Any) -> Verdict:
        a = _as_float(answer)
        if a is None:
            return self.wrong_type(answer)
        if math.isnan(a) or a != round(a):
            return Verdict(False, "type", "需要一个整数（计数），你的答案带小数。")
        return Number(abs=0.0, rel=0.0).compare(a, expected)


def cents(x: float | Decimal) -> Decimal:
    """Round half-up to the cent, as money is booked."""
    return Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Money(Comparator):
    """A money amount, equal to the cent after half-up rounding."""

    kind_cn = "一个金额（数字，保留两位小数）"

    def compare(self, answer: Any, expected: Any) -> Verdict:
        a = _as_float(answer)
        if a is None:
            return self.wrong_type(answer)
        if math.isnan(a):
            return Verdict(False, "value", "你的金额是 NaN（缺失值）：检查是否对空数据求和。")
        if cents(a) == cents(expected):
            return OK
        hint = Number._direction(a, float(expected))
        if abs(a - float(expected)) < 0.02:
            hint = "只差几分钱：金额按四舍五入保留两位小数，在最后一步再舍入。"
        return Verdict(False, "value", "金额不正确（精确到分）。", hint)


@dataclass(frozen=True)
class Rate(Number):
    """A ratio given as a decimal fraction (0.035, not 3.5 %)."""

    abs: float = 1e-4
    rel: float = 1e-4
    kind_cn = "一个比率（小数，如 0.035）"

    def compare(self, answer: Any, expected: Any) -> Verdict:
        v = super().compare(answer, expected)
        a = _as_float(answer)
        if not v.ok and a is not None and math.isclose(a, float(expected) * 100, rel_tol=1e-3):
            return Verdict(False, "value", "比率请用小数表示（例如 0.035），不要乘以 100。")
        return v


def _norm_text(x: str, case: bool) -> str:
    x = " ".join(str(x).split())
    return x if case else x.casefold()


@dataclass(frozen=True)
class Text(Comparator):
    """A string, compared after trimming and collapsing spaces (case-insensitive by default)."""

    case: bool = False
    kind_cn = "一段文字（str）"

    def compare(self, answer: Any, expected: Any) -> Verdict:
        if not isinstance(answer, str):
            return self.wrong_type(answer)
        if _norm_text(answer, self.case) == _norm_text(expected, self.case):
            return OK
        return Verdict(False, "value", "答案不正确。")


@dataclass(frozen=True)
class Choice(Text):
    """A decision: one value out of ``options`` (a platform, a carrier, a quote id …)."""

    options: tuple[str, ...] = ()
    kind_cn = "一个选项（str）"

    def compare(self, answer: Any, expected: Any) -> Verdict:
        if not isinstance(answer, str):
            return self.wrong_type(answer)
        if self.options and _norm_text(answer, self.case) not in {
                _norm_text(o, self.case) for o in self.options}:
            shown = "、".join(self.options[:8])
            return Verdict(False, "value", f"“{answer}” 不是可选项之一（{shown}）。")
        return super().compare(answer, expected)


def _as_id_list(x: Any) -> list | None:
    if isinstance(x, str | bytes) or x is None:
        return None
    if isinstance(x, pd.DataFrame):
        return None if x.shape[1] != 1 else x.iloc[:, 0].tolist()
    if isinstance(x, pd.Series | pd.Index | np.ndarray | pd.api.extensions.ExtensionArray
                  | list | tuple | set | frozenset):
        return list(x)
    return None


@dataclass(frozen=True)
class IdSet(Comparator):
    """A set of ids (order and duplicates ignored): list, set, Series, Index or array."""

    kind_cn = "一组编号（list / set / Series）"

    def compare(self, answer: Any, expected: Any) -> Verdict:
        items = _as_id_list(answer)
        if items is None:
            return self.wrong_type(answer)
        got = {str(i) for i in items if not (isinstance(i, float) and math.isnan(i))}
        want = {str(i) for i in expected}
        if got == want:
            return OK
        extra, missing = len(got - want), len(want - got)
        parts = []
        if extra:
            parts.append(f"多了 {extra} 个不该有的编号")
        if missing:
            parts.append(f"漏了 {missing} 个编号")
        return Verdict(False, "value", "编号集合不正确。", "，".join(parts) + "。")


def _close(a: pd.Series, e: pd.Series, rel: float, abs_: float) -> bool:
    if pd.api.types.is_numeric_dtype(e) and not pd.api.types.is_bool_dtype(e):
        try:
            av = pd.to_numeric(a, errors="raise").astype("float64").to_numpy()
        except (TypeError, ValueError):
            return False
        ev = e.astype("float64").to_numpy()
        return bool(np.allclose(av, ev, rtol=rel, atol=abs_, equal_nan=True))
    return bool((a.astype("string").fillna("<NA>").to_numpy()
                 == e.astype("string").fillna("<NA>").to_numpy()).all())


@dataclass(frozen=True)
class SeriesOf(Comparator):
    """A Series compared by index label (order ignored), values within tolerance."""

    rel: float = 1e-6
    abs: float = 1e-9
    kind_cn = "一个 Series（索引 → 数值）"

    def compare(self, answer: Any, expected: pd.Series) -> Verdict:
        if isinstance(answer, pd.DataFrame) and answer.shape[1] == 1:
            answer = answer.iloc[:, 0]
        if not isinstance(answer, pd.Series):
            return self.wrong_type(answer)
        a_idx = answer.index.astype(str)
        e_idx = expected.index.astype(str)
        if a_idx.has_duplicates:
            return Verdict(False, "shape", "Series 的索引有重复值：先 groupby 再汇总。")
        if set(a_idx) != set(e_idx):
            extra, missing = len(set(a_idx) - set(e_idx)), len(set(e_idx) - set(a_idx))
            return Verdict(False, "shape", "Series 的索引（分组）不对。",
                           f"多了 {extra} 个分组，少了 {missing} 个分组；"
                           "检查 groupby 的列和筛选条件。")
        a = pd.Series(answer.to_numpy(), index=a_idx).reindex(e_idx)
        e = pd.Series(expected.to_numpy(), index=e_idx)
        if _close(a, e, self.rel, self.abs):
            return OK
        bad = int((~np.isclose(pd.to_numeric(a, errors="coerce").astype(float),
                               pd.to_numeric(e, errors="coerce").astype(float),
                               rtol=self.rel, atol=self.abs, equal_nan=True)).sum()) \
            if pd.api.types.is_numeric_dtype(e) else None
        return Verdict(False, "value", "Series 的数值不正确。",
                       f"{bad} 个分组的数值不对。" if bad else "")


@dataclass(frozen=True)
class Frame(Comparator):
    """A DataFrame: ``columns`` compared (default: all expected columns), rows matched by
    ``key`` columns when given (row order ignored), numbers within tolerance.

    The index is ignored unless it is named and in ``key``; extra columns are allowed."""

    columns: Sequence[str] | None = None
    key: Sequence[str] | None = None
    ordered: bool = False  # True: row order matters (e.g. a top-N ranking)
    rel: float = 1e-6
    abs: float = 1e-9
    kind_cn = "一个表（DataFrame）"

    def compare(self, answer: Any, expected: pd.DataFrame) -> Verdict:
        if isinstance(answer, pd.Series) and answer.name is not None:
            answer = answer.reset_index() if answer.index.name else answer.to_frame()
        if not isinstance(answer, pd.DataFrame):
            return self.wrong_type(answer)
        ans = answer.reset_index() if _named_index(answer) else answer
        exp = expected.reset_index() if _named_index(expected) else expected
        cols = list(self.columns or exp.columns)
        need = list(dict.fromkeys([*(self.key or []), *cols]))
        missing = [c for c in need if c not in ans.columns]
        if missing:
            return Verdict(False, "shape", f"表里缺少列：{', '.join(map(str, missing))}。")
        if len(ans) != len(exp):
            return Verdict(False, "shape", f"行数不对：你的表有 {len(ans)} 行。",
                           "多了还是少了？检查筛选条件和 groupby 的列。")
        a, e = _decat(ans[need]), _decat(exp[need])
        if not self.ordered:
            by = list(self.key or need)
            try:
                a = a.sort_values(by, kind="stable").reset_index(drop=True)
                e = e.sort_values(by, kind="stable").reset_index(drop=True)
            except TypeError:
                return Verdict(False, "type", "表中有无法排序比较的混合类型值。")
        if self.key and not all(_close(a[k], e[k], 0, 0) for k in self.key):
            return Verdict(False, "value", f"按 {', '.join(self.key)} 对应的行不一致。",
                           "检查筛选条件：有的行不该出现，有的行漏掉了。")
        wrong = [c for c in cols if not _close(a[c], e[c], self.rel, self.abs)]
        if not wrong:
            return OK
        return Verdict(False, "value", f"这些列的数值不正确：{', '.join(map(str, wrong))}。")


def _decat(df: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as plain values, so rows sort by value rather than by category
    order (``groupby`` on a categorical column gives categorical keys)."""
    df = df.reset_index(drop=True)
    cat = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
    return df.astype({c: object for c in cat}) if cat else df


def _named_index(df: pd.DataFrame) -> bool:
    return any(n is not None for n in df.index.names)


@dataclass(frozen=True)
class Chart(Comparator):
    """A matplotlib chart the trainee drew (Axes or Figure): the plotted values must equal the
    expected Series (bar heights or line points, in order), with a title and both axis labels."""

    kind: str = "bar"  # "bar" | "barh" | "line"
    rel: float = 1e-4
    labels: bool = True
    kind_cn = "一张 matplotlib 图（Axes）"

    def compare(self, answer: Any, expected: pd.Series) -> Verdict:
        ax = _axes(answer)
        if ax is None:
            return self.wrong_type(answer)
        values = _plotted(ax, self.kind)
        exp_ax = _axes(expected)  # a known mistake's value is itself a chart: use its data
        if exp_ax is not None:
            expected = _plotted(exp_ax, self.kind)
            if expected is None:
                return Verdict(False, "value", "图中的数值不正确。")
        if values is None:
            what = {"bar": "柱状图（bar）", "barh": "条形图（barh）"}.get(
                self.kind, "折线图（line）")
            return Verdict(False, "shape", f"需要一张{what}，图里没有找到。")
        want = np.asarray(expected, dtype=float)
        if len(values) != len(want):
            return Verdict(False, "shape", f"图里有 {len(values)} 个数据点。",
                           "检查作图用的数据是否按要求分组/筛选。")
        if not np.allclose(values, want, rtol=self.rel, atol=1e-9):
            if np.allclose(np.sort(values), np.sort(want), rtol=self.rel, atol=1e-9):
                return Verdict(False, "value", "数值对了，但顺序不对：按题目要求排序。")
            return Verdict(False, "value", "图中的数值不正确。")
        if self.labels:
            missing = [n for n, t in (("标题", ax.get_title()), ("横轴标签", ax.get_xlabel()),
                                      ("纵轴标签", ax.get_ylabel())) if not t.strip()]
            if missing:
                return Verdict(False, "shape", f"图还缺少：{'、'.join(missing)}（含单位）。")
        return OK


@dataclass(frozen=True)
class ChartData:
    """What a chart shows, as plain data (captured out of a trainee's kernel for grading)."""

    bars: tuple[float, ...] = ()  # heights of vertical bars, in drawing order
    barhs: tuple[float, ...] = ()  # widths of horizontal bars
    line: tuple[float, ...] = ()  # y values of the first line
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""

    @classmethod
    def from_axes(cls, ax) -> ChartData:
        from matplotlib.patches import Rectangle

        rects = [p for c in ax.containers for p in c if isinstance(p, Rectangle)]
        lines = [ln for ln in ax.get_lines() if len(ln.get_ydata())]
        return cls(tuple(float(p.get_height()) for p in rects),
                   tuple(float(p.get_width()) for p in rects),
                   tuple(float(v) for v in lines[0].get_ydata()) if lines else (),
                   ax.get_title(), ax.get_xlabel(), ax.get_ylabel())

    def get_title(self) -> str:
        return self.title

    def get_xlabel(self) -> str:
        return self.xlabel

    def get_ylabel(self) -> str:
        return self.ylabel

    def values(self, kind: str) -> np.ndarray | None:
        v = {"bar": self.bars, "barh": self.barhs}.get(kind, self.line)
        return np.asarray(v, dtype=float) if v else None


def _axes(x: Any):
    if isinstance(x, ChartData):
        return x
    try:
        from matplotlib.axes import Axes
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return None
    if isinstance(x, Axes):
        return x
    if isinstance(x, Figure) and x.axes:
        return x.axes[0]
    if isinstance(x, np.ndarray) and x.size and isinstance(x.flat[0], Axes):
        return x.flat[0]
    return None


def _plotted(ax, kind: str) -> np.ndarray | None:
    if isinstance(ax, ChartData):
        return ax.values(kind)
    if kind == "bar":
        from matplotlib.patches import Rectangle

        bars = [p for c in ax.containers for p in c if isinstance(p, Rectangle)]
        if not bars:
            return None
        return np.array([p.get_height() for p in bars])
    if kind == "barh":
        from matplotlib.patches import Rectangle

        bars = [p for c in ax.containers for p in c if isinstance(p, Rectangle)]
        return np.array([p.get_width() for p in bars]) if bars else None
    lines = [ln for ln in ax.get_lines() if len(ln.get_ydata())]
    if not lines:
        return None
    return np.asarray(lines[0].get_ydata(), dtype=float)


KINDS: dict[str, type[Comparator]] = {
    "number": Number, "integer": Integer, "money": Money, "rate": Rate, "text": Text,
    "choice": Choice, "set": IdSet, "series": SeriesOf, "frame": Frame, "chart": Chart,
}


def default_for(kind: str) -> Comparator:
    """The default comparator of an answer kind (see :data:`KINDS`)."""
    try:
        return KINDS[kind]()
    except KeyError:
        raise ValueError(f"unknown answer kind {kind!r}; use one of {', '.join(KINDS)}") from None


def iter_kinds() -> Iterable[str]:
    return KINDS.keys()


__all__ = [
    "OK", "Chart", "ChartData", "Choice", "Comparator", "Frame", "IdSet", "Integer", "Money",
    "Number", "Rate", "SeriesOf", "Text", "Verdict", "cents", "default_for",
]
