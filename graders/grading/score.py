"""Scores of one executed notebook, per graded cell of the master, in the grader's process.

:func:`score_notebook` goes through the master's graded cells in order:

* **cbec test cells** (``metadata.cbec.role == "test"``): the exercise's answer variable, as
  captured after the last cell (plain data), is evaluated by :meth:`Exercise.evaluate` against
  the trainee's own world — out of the trainee's kernel, so nothing the notebook did to
  ``graders``, ``assert``, ``numpy`` or ``__eq__`` matters. Full points when correct, else 0.
  The cell's own outcome in the run is never looked at (a notebook can forge it);
* **plain nbgrader test cells** (``grade`` and not ``solution``, code): nbgrader's
  ``determine_grade`` on the executed cell — 0 when it raised or wrote to stderr, the value
  of its execute_result when that is a number (partial credit, ``get_partial_grade``),
  else full points;
* **manually graded cells** (``grade`` and ``solution``, markdown grade cells, task cells):
  ``points=None`` (formgrader), except an answer left exactly as released, which nbgrader
  scores 0 without manual grading (its checksum rule).

Points always come from the master (a trainee cannot change them). Messages are safe to show:
never an expected value, never hidden test code (for plain test cells only the exception's
name, not its text).
"""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode

from graders.grading import capture as _capture
from graders.grading.integrity import (
    IntegrityReport,
    _cbec,
    _nbg,
    is_grade,
    is_solution,
    is_task,
)
from graders.grading.results import ItemScore
from graders.grading.run import RunResult


def graded_cells(source_nb: NotebookNode) -> list[NotebookNode]:
    """The master's cells that carry points (grade cells and task cells), in order."""
    return [c for c in source_nb.cells
            if (is_grade(c) or is_task(c)) and isinstance(_nbg(c).get("grade_id"), str)]


def answer_variables(source_nb: NotebookNode) -> list[str]:
    """Variables to capture: the answers of the master's cbec test cells."""
    from graders import exercises

    names = []
    for c in graded_cells(source_nb):
        if _cbec(c).get("role") == "test":
            try:
                names.append(exercises.get(str(_cbec(c).get("id"))).answer)
            except KeyError:
                continue
    return list(dict.fromkeys(names))


def _points(cell: NotebookNode) -> float:
    try:
        return float(_nbg(cell).get("points", 0) or 0)
    except (TypeError, ValueError):
        return 0.0


def partial_grade(text: str, max_points: float) -> tuple[float, str]:
    """nbgrader's ``get_partial_grade`` on an execute_result's text/plain: a number between 0
    and the cell's points is the score; anything else gives full points. (nbgrader raises on a
    number above the points; that is capped here.)"""
    try:
        value = float(text)
    except ValueError:
        return max_points, "passed"
    if value != value or value < 0:  # NaN or negative: nbgrader gives full points
        return max_points, "passed"
    if value >= max_points:
        return max_points, "passed"
    return value, "partial"


def _run_cells(run: RunResult) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in run.cells:
        if c.grade_id and c.grade_id not in out:
            out[c.grade_id] = c
    return out


def _answer_cell(run: RunResult, exercise: str):
    return next((c for c in run.cells if c.role == "answer" and c.exercise == exercise), None)


def score_notebook(run: RunResult | None, source_nb: NotebookNode, world: Any, *,
                   report: IntegrityReport, expected_cache: dict | None = None
                   ) -> list[ItemScore]:
    """One :class:`ItemScore` per graded cell of ``source_nb`` (see the module docstring).

    ``run`` may be ``None`` when the notebook was not executed (integrity failure);
    ``expected_cache`` (optional, per world) keeps expected answers and mistake values between
    notebooks of the same trainee."""
    name = report.notebook
    items: list[ItemScore] = []
    by_gid = _run_cells(run) if run is not None else {}
    for cell in graded_cells(source_nb):
        gid = str(_nbg(cell)["grade_id"])
        pts = _points(cell)
        cb = _cbec(cell)
        if not report.ok:
            items.append(ItemScore(name, gid, _kind(cell), pts, 0.0, "error",
                                   report.diagnosis, exercise=_exercise_id(cell)))
            continue
        if cb.get("role") == "test" and is_grade(cell) and not is_solution(cell):
            items.append(_score_cbec(cell, gid, pts, run, world, name, expected_cache))
        elif is_grade(cell) and not is_solution(cell) and cell.cell_type == "code":
            items.append(_score_assert(gid, pts, by_gid.get(gid), run, name))
        else:
            items.append(_score_manual(cell, gid, pts, report, name))
    return items


def _kind(cell: NotebookNode) -> str:
    if _cbec(cell).get("role") == "test" and not is_solution(cell):
        return "cbec"
    if is_grade(cell) and not is_solution(cell) and cell.cell_type == "code":
        return "assert"
    return "manual"


def _exercise_id(cell: NotebookNode) -> str | None:
    v = _cbec(cell).get("id")
    return str(v) if v is not None else None


def _score_cbec(cell: NotebookNode, gid: str, pts: float, run: RunResult | None, world: Any,
                name: str, cache: dict | None) -> ItemScore:
    from graders import exercises

    ex_id = str(_cbec(cell).get("id"))
    try:
        ex = exercises.get(ex_id)
    except KeyError:
        return ItemScore(name, gid, "cbec", pts, 0.0, "error",
                         f"unknown exercise {ex_id} (评分定义缺失，请联系讲师)", exercise=ex_id)
    return score_answer(ex, gid, pts, run, world, name=name, cache=cache)


def score_answer(ex: Any, gid: str, pts: float, run: RunResult | None, world: Any, *,
                 name: str, cache: dict | None = None) -> ItemScore:
    """Score exercise ``ex``'s captured answer from ``run`` against ``world`` (out of the
    trainee's process): missing, unreadable and raising answers get a diagnosis, the rest is
    judged by :meth:`Exercise.evaluate`. ``cache`` keeps expected values per exercise."""
    ex_id = ex.id
    answer = run.answers.get(ex.answer, _capture.MISSING) if run is not None \
        else _capture.MISSING
    var = f"`{ex.answer}`"
    if isinstance(answer, _capture.Missing):
        if run is None or not run.ok:
            diag = run.diagnosis if run is not None else "not run"
            return ItemScore(name, gid, "cbec", pts, 0.0, "error",
                             f"no answer {var}: {diag}", exercise=ex_id)
        cell_run = _answer_cell(run, ex_id)
        if cell_run is not None and cell_run.ran and not cell_run.ok:
            msg = (f"your answer cell raised {cell_run.ename}, so {var} was not defined "
                   f"(答案单元出错，没有得到 {ex.answer})")
            return ItemScore(name, gid, "cbec", pts, 0.0, "error", msg, exercise=ex_id)
        return ItemScore(name, gid, "cbec", pts, 0.0, "unanswered",
                         f"{var} is not defined after running the notebook "
                         f"(运行后没有找到答案变量 {ex.answer})", exercise=ex_id)
    if isinstance(answer, _capture.Unsupported):
        return ItemScore(name, gid, "cbec", pts, 0.0, "type",
                         f"{var} could not be read as plain data ({answer.what}); use numbers, "
                         f"text, lists or pandas objects (答案类型无法评分)", exercise=ex_id)
    expected = mistakes = None
    if cache is not None:
        if ex_id not in cache:
            try:
                cache[ex_id] = (ex.expected(world), ex.mistake_values(world))
            except Exception:
                cache[ex_id] = (None, None)
        expected, mistakes = cache[ex_id]
    r = ex.evaluate(answer, world, expected=expected, mistake_values=mistakes)
    return ItemScore(name, gid, "cbec", pts, pts if r.correct else 0.0, r.status, r.message,
                     exercise=ex_id, mistake=r.mistake)


def _score_assert(gid: str, pts: float, cell: Any, run: RunResult | None, name: str
                  ) -> ItemScore:
    def item(points: float, status: str, msg: str) -> ItemScore:
        return ItemScore(name, gid, "assert", pts, points, status, msg)

    if cell is None or not cell.ran:
        why = run.diagnosis if run is not None and not run.ok else "the cell did not run"
        return item(0.0, "failed", f"test not run: {why} (测试未运行)")
    if not cell.ok:
        return item(0.0, "failed", f"test failed ({cell.ename}) (测试未通过)")
    if cell.stderr:
        return item(0.0, "failed", "test wrote to stderr, which nbgrader counts as a failure "
                                   "(测试输出了错误信息)")
    if cell.result is not None:
        got, status = partial_grade(cell.result, pts)
        msg = "test passed (测试通过)" if status == "passed" else \
            f"partial credit {got:g} of {pts:g} (部分得分)"
        return item(got, status, msg)
    return item(pts, "passed", "test passed (测试通过)")


def _score_manual(cell: NotebookNode, gid: str, pts: float, report: IntegrityReport,
                  name: str) -> ItemScore:
    ex = _exercise_id(cell)
    if is_solution(cell) and gid in report.unchanged:
        return ItemScore(name, gid, "manual", pts, 0.0, "unanswered",
                         "left as released: no answer (未作答)", exercise=ex)
    return ItemScore(name, gid, "manual", pts, None, "manual",
                     "graded by the instructor (由讲师人工评分)", exercise=ex)
