"""One definition per exercise: what is asked, how the answer is computed from the trainee's own
world, how it is compared, hints, the worked solution and the known mistakes.

The same :meth:`Exercise.evaluate` serves the trainee's ``q.check`` (feedback, never raises),
nbgrader hidden tests (``q.grade`` raises ``AssertionError``), ``cbec course check``, the cohort
simulator and the secure grader — so feedback and grading cannot disagree.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from graders.compare import Comparator, Verdict, default_for

ID_RE = re.compile(r"^\d\d\.\d\d\.[a-z][a-z0-9_]*$")
STATUSES = ("correct", "unanswered", "mistake", "type", "shape", "value", "error")


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: ``code`` computes it (like the solution does) and ``feedback``
    tells the trainee, in Chinese, what went wrong without giving the answer away."""

    id: str
    code: str
    feedback: str


@dataclass(frozen=True)
class Result:
    """The outcome of evaluating one answer."""

    status: str  # one of STATUSES
    message: str  # Chinese, safe to show (no expected values)
    detail: str = ""  # practice-only extra (counts, direction)
    mistake: str | None = None

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def _ipython_display_(self) -> None:
        """Show nothing as a cell's value: ``q.x.check(...)`` ends the generated answer cells
        and has already printed its feedback, so echoing the Result would only repeat it."""


@dataclass(frozen=True)
class Exercise:
    """An autograded item.

    ``id`` is ``NN.MM.slug``: the notebook it lives in and a short name. ``reference`` computes
    the expected answer from a :class:`cbec_sim.World`; ``solution`` and each mistake's ``code``
    are Python run in a notebook-like namespace (``world``, ``pd``, ``np`` and every table by
    name) that must assign the ``answer`` variable.
    """

    id: str
    title: str
    question: str
    stage: str
    tasks: tuple[str, ...]
    unit: str
    difficulty: int
    points: float
    answer: str
    kind: str
    reference: Callable[[Any], Any]
    solution: str
    hints: tuple[str, ...]
    mistakes: tuple[Mistake, ...]
    compare: Comparator | None = None
    answer_cn: str = ""  # type/unit/rounding in words, e.g. "整数，单位：单"
    tables: tuple[str, ...] = field(default=())

    @property
    def notebook(self) -> str:
        """``NN.MM`` of the notebook holding this item."""
        return self.id[:5]

    @property
    def comparator(self) -> Comparator:
        return self.compare or default_for(self.kind)

    def expected(self, world) -> Any:
        return self.reference(world)

    def run(self, code: str, world, *, label: str = "code") -> Any:
        """Run answer code in a fresh notebook-like namespace; return the answer variable."""
        compiled = compile(code, f"<{self.id}:{label}>", "exec")
        ns = namespace(world, names=compiled.co_names + _nested_names(compiled))
        before = _open_figures()
        try:
            exec(compiled, ns)
        finally:
            _close_new_figures(before)  # charts made here are data, never shown
        if self.answer not in ns:
            raise NameError(f"{self.id}: the {label} does not assign `{self.answer}`")
        return ns[self.answer]

    def evaluate(self, answer: Any, world, *, expected: Any = None,
                 mistake_values: Mapping[str, Any] | None = None) -> Result:
        """Compare ``answer`` with the reference on ``world``; name a known mistake if it
        matches one. ``expected`` / ``mistake_values`` may be passed in when cached."""
        if answer is Ellipsis or answer is None:
            return Result("unanswered", f"还没有作答：把 `{self.answer} = ...` 中的 ... "
                                        "换成你的计算。")
        try:
            exp = self.expected(world) if expected is None else expected
            verdict = self.comparator.compare(answer, exp)
        except Exception as exc:  # a comparison must never crash feedback
            return Result("error", f"无法比较你的答案（{type(exc).__name__}）：检查答案的类型。")
        if verdict.ok:
            return Result("correct", "正确！")
        values = mistake_values if mistake_values is not None else self.mistake_values(world)
        for m in self.mistakes:
            if m.id in values and _matches(self.comparator, answer, values[m.id]):
                return Result("mistake", m.feedback, mistake=m.id)
        return _from_verdict(verdict)

    def mistake_values(self, world) -> dict[str, Any]:
        """Each known mistake's answer on ``world`` (mistakes whose code fails are skipped)."""
        out = {}
        for m in self.mistakes:
            try:
                out[m.id] = self.run(m.code, world, label=f"mistake {m.id}")
            except Exception:
                continue
        return out

    def grade(self, answer: Any, world) -> None:
        """Raise ``AssertionError`` with a safe message unless the answer is correct."""
        r = self.evaluate(answer, world)
        if not r.correct:
            raise AssertionError(f"[{self.id}] {r.message}")


def _matches(cmp: Comparator, answer: Any, value: Any) -> bool:
    try:
        return cmp.compare(answer, value).ok
    except Exception:
        return False


def _from_verdict(v: Verdict) -> Result:
    return Result(v.problem or "value", v.message, v.hint_cn)


def _open_figures() -> set[int] | None:
    plt = sys.modules.get("matplotlib.pyplot")
    return set(plt.get_fignums()) if plt is not None else None


def _close_new_figures(before: set[int] | None) -> None:
    """Close pyplot figures opened since ``before`` (their Axes keep the plotted data)."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    for num in set(plt.get_fignums()) - (before or set()):
        plt.close(num)


def _nested_names(code) -> tuple[str, ...]:
    """Global names used by functions, lambdas and comprehensions inside ``code``."""
    out: tuple[str, ...] = ()
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            out += const.co_names + _nested_names(const)
    return out


def namespace(world, names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """What answer code sees: ``world``, ``pd``, ``np`` and each table by name (shallow
    copies, so code that adds columns cannot change the world under copy-on-write).
    With ``names`` only the tables among them are bound (a lazily loaded world then reads
    just those)."""
    ns: dict[str, Any] = {"__name__": "__cbec_answer__", "pd": pd, "np": np, "world": world}
    wanted = world.tables if names is None else [n for n in set(names) if n in world.tables]
    for name in wanted:
        ns[name] = world.tables[name].copy(deep=False)
    return ns
