"""Trainee side, used inside the notebooks::

    from graders import practice
    world = practice.load_world()              # your own dataset
    q = practice.questions("00.02", world)     # the items of this notebook
    q.order_count.check(n_orders)              # feedback, never raises
    q.order_count.hint()                       # next hint
    q.order_count.solution()                   # worked solution

Hidden nbgrader tests call ``q.order_count.grade(n_orders)``, which raises ``AssertionError``
with the same message ``check`` prints. Checks, hints and solution views are appended to
``.cbec/attempts.jsonl`` in the notebook's folder for the instructor's analytics; set the
environment variable ``CBEC_NO_LOG=1`` (or call ``practice.set_logging(False)``) to opt out.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from graders.exercise import Exercise, Result

GRADING_ENV = "CBEC_GRADING"  # set by the secure grader: questions become inert
LOG_DIR = ".cbec"
LOG_FILE = "attempts.jsonl"
DATA_ENV = "CBEC_DATASET"
_logging = os.environ.get("CBEC_NO_LOG", "") not in ("1", "true", "yes")


def set_logging(on: bool) -> None:
    """Turn the local attempt log on or off for this session."""
    global _logging
    _logging = bool(on)


def _default_dataset() -> Path:
    return Path(__file__).resolve().parents[1] / "datasets" / "default"


def dataset_path(path: str | os.PathLike | None = None) -> Path:
    """Where the trainee's data is: ``path``, ``$CBEC_DATASET``, ``./data`` next to the
    notebook (a personal release), else the course's default dataset (self-study)."""
    for cand in (path, os.environ.get(DATA_ENV), "data"):
        if cand and (Path(cand) / "manifest.json").is_file():
            return Path(cand)
        if cand and cand != "data":
            raise FileNotFoundError(f"{cand}: no dataset here (manifest.json missing); check "
                                    f"the path or unset {DATA_ENV}")
    return _default_dataset()


def load_world(path: str | os.PathLike | None = None):
    """Load your own simulated world (all tables, checked against its manifest)."""
    import cbec_sim

    return cbec_sim.load(dataset_path(path))


def _log(event: str, ex: Exercise, **fields: Any) -> None:
    if not _logging:
        return
    rec = {"time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "event": event,
           "exercise": ex.id, **fields}
    try:
        d = Path(LOG_DIR)
        d.mkdir(exist_ok=True)
        with open(d / LOG_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    except OSError:
        pass  # a read-only folder must not break the notebook


def _show(text: str) -> None:
    print(text)


class Question:
    """One exercise bound to the trainee's world."""

    def __init__(self, exercise: Exercise, world) -> None:
        self.exercise = exercise
        self.world = world
        self._hints_shown = 0
        self._expected: Any = None
        self._mistakes: dict[str, Any] | None = None

    def __repr__(self) -> str:
        ex = self.exercise
        return (f"<练习 {ex.id} {ex.title}：答案变量 `{ex.answer}`，{ex.points:g} 分；"
                f"用 .check({ex.answer}) 检查，.hint() 看提示>")

    def _evaluate(self, answer: Any) -> Result:
        ex = self.exercise
        try:
            if self._expected is None:
                self._expected = ex.expected(self.world)
            if self._mistakes is None:
                self._mistakes = ex.mistake_values(self.world)
        except Exception as exc:
            return Result("error", f"读取你的数据时出错（{type(exc).__name__}）：重新运行开头"
                                   "加载数据的单元格；若仍出错请告诉老师。")
        return ex.evaluate(answer, self.world, expected=self._expected,
                           mistake_values=self._mistakes)

    def check(self, answer: Any = Ellipsis) -> Result:
        """Print feedback on ``answer``; never raises. Returns the :class:`Result`."""
        try:
            r = self._evaluate(answer)
        except Exception as exc:  # last line of defence: feedback never raises
            r = Result("error", f"检查时出错（{type(exc).__name__}）：检查答案的类型。")
        ex = self.exercise
        if r.correct:
            text = f"✔ {ex.id} {ex.title}：正确！"
        elif r.status == "unanswered":
            text = f"… {ex.id} {ex.title}：{r.message}"
        else:
            more = f" {r.detail}" if r.detail else ""
            tip = (f"\n  需要提示？运行 q.{_slug(ex)}.hint()"
                   if self._hints_shown < len(ex.hints) else "")
            text = f"✘ {ex.id} {ex.title}：{r.message}{more}{tip}"
        _show(text)
        _log("check", ex, status=r.status, mistake=r.mistake)
        return r

    def hint(self) -> None:
        """Show the next hint (the last one again when all were shown)."""
        ex = self.exercise
        if not ex.hints:
            _show("这道题没有提示。")
            return
        i = min(self._hints_shown, len(ex.hints) - 1)
        last = " （已是最后一条提示，可以运行 .solution() 看参考解法）" \
            if i == len(ex.hints) - 1 else ""
        _show(f"提示 {i + 1}/{len(ex.hints)}：{ex.hints[i]}{last}")
        self._hints_shown = min(self._hints_shown + 1, len(ex.hints))
        _log("hint", ex, level=i + 1)

    def solution(self) -> None:
        """Show the worked solution (logged: your instructor can see that you looked)."""
        ex = self.exercise
        _show(f"参考解法（{ex.id}）：\n{ex.solution.strip()}")
        _log("solution", ex)

    def grade(self, answer: Any = Ellipsis) -> None:
        """For hidden tests: raise ``AssertionError`` unless correct (same messages as check)."""
        r = self._evaluate(answer)
        if not r.correct:
            raise AssertionError(f"[{self.exercise.id}] {r.message}")

    def panel(self):
        """An ipywidgets panel with 检查 / 提示 / 参考解法 buttons (reads the answer variable
        from the notebook)."""
        import ipywidgets as w
        from IPython import get_ipython

        out = w.Output()
        ex = self.exercise

        def run(fn):
            def handler(_):
                out.clear_output()
                with out:
                    if fn == self.check:  # bound methods: a new object per access
                        ns = get_ipython().user_ns if get_ipython() else {}
                        self.check(ns.get(ex.answer, Ellipsis))
                    else:
                        fn()
            return handler

        buttons = []
        for label, fn in (("检查", self.check), ("提示", self.hint), ("参考解法", self.solution)):
            b = w.Button(description=label)
            b.on_click(run(fn))
            buttons.append(b)
        return w.VBox([w.HBox(buttons), out])


def _slug(ex: Exercise) -> str:
    return ex.id[6:]


class Questions:
    """The items of one notebook: ``q.<slug>`` (e.g. ``q.order_count``) or ``q[1]``."""

    def __init__(self, notebook: str, world) -> None:
        from graders import exercises

        items = exercises.for_notebook(notebook)
        if not items:
            raise KeyError(f"no exercises for notebook {notebook!r}; use its NN.MM number, "
                           "e.g. \"00.02\"")
        self._items = {_slug(ex): Question(ex, world) for ex in items}

    def __getattr__(self, name: str) -> Question:
        try:
            return self.__dict__["_items"][name]
        except KeyError:
            raise AttributeError(f"no question {name!r} here; available: "
                                 f"{', '.join(self.__dict__['_items'])}") from None

    def __getitem__(self, i: int) -> Question:
        return list(self._items.values())[i - 1]

    def __iter__(self):
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __dir__(self) -> list[str]:
        return list(self._items)

    def __repr__(self) -> str:
        return "\n".join(repr(q) for q in self._items.values())


class _Inert:
    """Stand-in used while the secure grader executes a notebook: answers are captured and
    scored outside the trainee's process, so checks do nothing there and no exercise
    definition (reference answers) is loaded into it."""

    def __getattr__(self, name: str) -> _Inert:
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        return None


def questions(notebook: str, world) -> Questions:
    """The exercises of notebook ``NN.MM`` bound to ``world``."""
    if os.environ.get(GRADING_ENV) == "1":
        return _Inert()  # type: ignore[return-value]
    return Questions(notebook, world)
