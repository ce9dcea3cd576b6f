"""Writing ``cbec grade`` results into nbgrader's gradebook, as ``nbgrader autograde`` would.

:func:`write_grades` takes the :class:`~graders.grading.results.NotebookGrade` list of one
assignment and leaves the gradebook (SQLite by default, any SQLAlchemy URL) and the
``autograded/`` folder exactly as ``nbgrader formgrader`` / ``nbgrader export`` /
``nbgrader generate_feedback`` expect after ``nbgrader autograde``:

* **assignment** — when the assignment, or a notebook being graded, is not in the database
  yet (and it has no submissions), the real ``nbgrader generate_assignment <a> --force`` is
  run with its release folder redirected to a temporary folder (``release/`` is not touched)
  and ``--CourseDirectory.db_url`` set to the target database: the notebooks, grade, solution,
  task and source cells are then exactly those nbgrader records (its ``SaveCells``).
* **students** — unknown students are created (autograde's ``--create``, the default).
* **submission** — ``Gradebook.update_or_create_submission``, with the timestamp of
  ``<submissions>/<student>/<assignment>/timestamp.txt`` when there is one (an absent file
  leaves a stored timestamp alone, like autograde). Notebooks added to the assignment after
  the submission row was made get their submitted-notebook, grade and comment rows here.
* **grades** — per grade cell, nbgrader's ``SaveAutoGrades`` rules: ``auto_score`` is the
  item's points; ``needs_manual_grade`` is true when there is no automatic score (manual
  items, ``points=None``) or an instructor already entered a manual score (so they review
  the change); ``manual_score`` and ``extra_credit`` are never written, so regrading keeps
  instructors' work. A manually graded answer left exactly as released (nbgrader's checksum
  rule) scores 0 without manual grading. Cells a graded notebook has no item for score 0;
  a notebook whose status is ``missing`` scores 0 throughout (autograde's rule for a missing
  file). Task cells keep nbgrader's treatment (manual grading) unless an item scores them.
  Integrity repairs do not by themselves ask for manual grading: nbgrader silently restores
  locked cells and scores the result, and so do we; a re-added *manually graded* answer
  arrives here as ``points=None`` and is flagged by the rule above, as in nbgrader.
* **comments** — ``auto_comment`` "No response." for unchanged answer/task cells, as
  ``SaveAutoGrades`` does; manual comments are never written.
* **late penalties** — the course's ``AssignLatePenalties`` plugin, as at autograde.
* **autograded copy** — ``<autograded>/<student>/<assignment>/<notebook>.ipynb``, so formgrader
  can show the submission. NotebookGrade carries no outputs, so the copy is the submitted
  notebook (or the executed one, when the batch passes it in ``executed``) put through
  nbgrader's own sanitising preprocessors (``ClearOutput`` for the submitted file — its
  outputs come from the trainee's kernel and prove nothing —, ``DeduplicateIds``,
  ``OverwriteKernelspec``, ``OverwriteCells`` with the course's ``add_missing_cells``,
  ``CheckCellMetadata``): locked and test cells are restored from the gradebook's master.
  Each scored test cell then gets one output that states the secure score in nbgrader's own
  terms (``determine_grade`` of the copy gives the stored ``auto_score``): a passed item a
  ``stdout`` line, a failed one an ``error`` output with the safe message, a partial one an
  ``execute_result`` holding the points. ``timestamp.txt`` is copied along (formgrader uses
  it to decide that a submission is autograded). A submission that is not a readable
  notebook gets no copy (and a stale copy of a now-missing notebook is removed).

Regrading is idempotent: rows are found and updated, never added twice, and the files are
rewritten byte for byte.
"""

from __future__ import annotations

import copy
import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import nbformat
from sqlalchemy.exc import SAWarning

from graders.grading.results import NotebookGrade
from graders.nbg import gradebook_url, nbgrader_config, nbgrader_failure, run_nbgrader

log = logging.getLogger(__name__)

NO_RESPONSE = "No response."  # nbgrader's auto comment for an unchanged answer cell


class GradebookError(ValueError):
    """The gradebook cannot take the grades (one line, for the command line)."""


# -- configuration -----------------------------------------------------------------------------
def _course_dirs(course: Path) -> tuple[Any, Path, Path]:
    cfg = nbgrader_config(course)
    cd = cfg.get("CourseDirectory", {})
    submitted = course / str(cd.get("submitted_directory") or "submitted")
    autograded = course / str(cd.get("autograded_directory") or "autograded")
    return cfg, submitted, autograded


# -- the assignment ----------------------------------------------------------------------------
def _missing_notebooks(url: str, course_id: str, assignment: str, notebooks: set[str]
                       ) -> tuple[bool, set[str], bool]:
    """(assignment exists, graded notebooks it lacks, it has submissions)."""
    from nbgrader.api import Gradebook, MissingEntry

    if not _has_tables(url):  # a new database: nbgrader creates it (it runs alembic for that)
        return False, set(notebooks), False
    with Gradebook(url, course_id) as gb:
        try:
            a = gb.find_assignment(assignment)
        except MissingEntry:
            return False, set(notebooks), False
        return True, notebooks - {nb.name for nb in a.notebooks}, len(a.submissions) > 0


def _has_tables(url: str) -> bool:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        return "assignment" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def ensure_assignment(course: Path, assignment: str, *, db_url: str | None = None,
                      notebooks: Iterable[str] = ()) -> None:
    """Make sure ``assignment`` (and ``notebooks`` of it) are in the gradebook, running
    ``nbgrader generate_assignment`` (release folder redirected to a temporary folder) when
    they are not and the assignment has no submissions yet."""
    course = Path(course).resolve()
    default_url, course_id = gradebook_url(course)
    url = db_url or default_url
    exists, lacking, has_submissions = _missing_notebooks(url, course_id, assignment,
                                                          set(notebooks))
    if exists and not lacking:
        return
    if has_submissions:
        log.warning("notebooks %s are not part of assignment %s in the gradebook and it has "
                    "submissions: they are skipped (as nbgrader autograde skips unknown "
                    "notebooks)", ", ".join(sorted(lacking)), assignment)
        return
    with tempfile.TemporaryDirectory(prefix="cbec-release-") as tmp:
        args = ["generate_assignment", assignment, "--force",
                f"--CourseDirectory.release_directory={tmp}"]
        if url != default_url:
            args.append(f"--CourseDirectory.db_url={url}")
        p = run_nbgrader(course, *args)
    if p.returncode != 0:
        raise GradebookError(f"nbgrader generate_assignment {assignment} failed in {course} "
                             f"(needed to record the assignment in the gradebook): "
                             f"{nbgrader_failure(p)}")
    exists, lacking, _ = _missing_notebooks(url, course_id, assignment, set(notebooks))
    if not exists:
        raise GradebookError(f"nbgrader generate_assignment did not record {assignment} in "
                             f"the gradebook {_safe_url(url)}")
    if lacking:
        log.warning("notebooks %s have no master in %s/source/%s: they are skipped",
                    ", ".join(sorted(lacking)), course, assignment)


def _safe_url(url: str) -> str:
    """A database URL without its password (for messages)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database>"


# -- the autograded copy -----------------------------------------------------------------------
def _read_notebook(src: Any) -> nbformat.NotebookNode | None:
    if src is None:
        return None
    if isinstance(src, dict):
        return nbformat.from_dict(copy.deepcopy(src))
    try:
        return nbformat.read(str(src), as_version=4)
    except Exception:
        return None


def sanitize(nb: nbformat.NotebookNode, cfg: Any, url: str, assignment: str, notebook: str,
             student: str, *, clear_output: bool = True) -> nbformat.NotebookNode:
    """``nb`` after nbgrader's own sanitising step of autograde (locked and test cells
    restored from the gradebook's master, duplicate ids dropped, the master's kernelspec)."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
    )

    resources: dict[str, Any] = {"nbgrader": {"db_url": url, "assignment": assignment,
                                              "notebook": notebook, "student": student}}
    steps = [DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata]
    if clear_output:
        steps.insert(0, ClearOutput)
    for step in steps:
        nb, resources = step(config=cfg).preprocess(nb, resources)
    return nb


def _score_output(points: float, max_points: float, message: str, status: str
                  ) -> nbformat.NotebookNode:
    """One output that nbgrader's ``determine_grade`` reads as ``points``."""
    text = f"cbec grade: {points:g} / {max_points:g} ({status})"
    if message:
        text += f" — {message}"
    if points >= max_points:
        return nbformat.v4.new_output("stream", name="stdout", text=text + "\n")
    if points <= 0:
        return nbformat.v4.new_output("error", ename="AssertionError", evalue=text,
                                      traceback=[f"AssertionError: {text}"])
    return nbformat.v4.new_output("execute_result", data={"text/plain": f"{points:g}"},
                                  execution_count=None)


def annotate(nb: nbformat.NotebookNode, grade: NotebookGrade) -> nbformat.NotebookNode:
    """Give each scored test cell of ``nb`` one output stating its secure score."""
    items = {i.grade_id: i for i in grade.items if i.points is not None and i.kind != "manual"}
    for cell in nb.cells:
        md = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not md.get("grade") or md.get("solution"):
            continue
        item = items.get(md.get("grade_id"))
        if item is None:
            continue
        cell.outputs = [_score_output(float(item.points), float(item.max_points),
                                      item.message, item.status)]
    return nb


def _solution_state(nb: nbformat.NotebookNode | None) -> dict[str, bool]:
    """``{grade_id: unchanged}`` of the answer and task cells (nbgrader's checksum rule)."""
    from nbgrader import utils

    out: dict[str, bool] = {}
    if nb is None:
        return out
    for cell in nb.cells:
        md = cell.get("metadata", {}).get("nbgrader", {})
        if md.get("grade_id") and (utils.is_solution(cell) or utils.is_task(cell)):
            out[md["grade_id"]] = (md.get("checksum") is not None
                                   and md.get("checksum") == utils.compute_checksum(cell))
    return out


# -- rows --------------------------------------------------------------------------------------
def _read_timestamp(folder: Path) -> str | None:
    from nbgrader.utils import parse_utc

    p = folder / "timestamp.txt"
    if not p.is_file():
        return None
    text = p.read_text(encoding="utf-8", errors="replace").strip()
    if not text:
        return None
    try:
        parse_utc(text)
    except (ValueError, OverflowError):
        raise GradebookError(f"invalid timestamp in {p}: {text[:60]!r}") from None
    return text


def _submitted_notebook(gb: Any, notebook: str, assignment: str, student: str) -> Any:
    """The submitted-notebook row, created with its grade and comment rows when the
    assignment gained this notebook after the submission row was made."""
    from nbgrader.api import Comment, Grade, MissingEntry, SubmittedNotebook

    try:
        return gb.find_submission_notebook(notebook, assignment, student)
    except MissingEntry:
        pass
    submission = gb.find_submission(assignment, student)
    master = gb.find_notebook(notebook, assignment)
    nb = SubmittedNotebook(notebook=master, assignment=submission)
    for cell in master.grade_cells:
        Grade(cell_id=cell.id, notebook=nb)
    for cell in master.solution_cells:
        Comment(cell_id=cell.id, notebook=nb)
    for cell in master.task_cells:
        Comment(cell_id=cell.id, notebook=nb)
        Grade(cell_id=cell.id, notebook=nb)
    gb.db.add(nb)
    gb.db.commit()
    return gb.find_submission_notebook(notebook, assignment, student)


def _write_notebook_rows(gb: Any, grade: NotebookGrade | None, sub_nb: Any,
                         unchanged: dict[str, bool], have_notebook: bool) -> None:
    """Scores and auto comments of one submitted notebook (nbgrader's SaveAutoGrades rules;
    ``unchanged``: answer cells left as released, from the sanitised copy)."""
    from nbgrader.api import TaskCell

    solution_ids = {c.name for c in sub_nb.notebook.solution_cells}
    items = {i.grade_id: i for i in grade.items} if grade is not None else {}
    missing = grade is not None and grade.status == "missing"
    for row in sub_nb.grades:
        name = row.name
        if grade is None:  # not graded in this run: only never-graded rows get a score
            if row.auto_score is None and row.manual_score is None:
                row.auto_score, row.needs_manual_grade = 0.0, False
            continue
        if missing:  # autograde's rule for a missing file
            row.auto_score, row.needs_manual_grade = 0.0, False
            continue
        item = items.get(name)
        if item is not None:
            auto = item.points
        elif isinstance(row.cell, TaskCell):
            continue  # nbgrader leaves task cells to manual grading
        elif name in solution_ids:
            auto = None if have_notebook else 0.0
        else:
            auto = 0.0  # a test cell the notebook has no result for: failed
        if auto is None and name in solution_ids and unchanged.get(name):
            auto = 0.0  # answer left as released: no response (nbgrader's checksum rule)
        row.auto_score = None if auto is None else float(auto)
        row.needs_manual_grade = row.manual_score is not None or row.auto_score is None
    if grade is None or missing or not have_notebook:
        return
    task_ids = {c.name for c in sub_nb.notebook.task_cells}
    for comment in sub_nb.comments:
        if comment.name in unchanged:
            no_response = unchanged[comment.name] and comment.name not in task_ids
            comment.auto_comment = NO_RESPONSE if no_response else None


def _late_penalty(gb: Any, cfg: Any, submission: Any, sub_nb: Any, student: str) -> None:
    from nbgrader.preprocessors import AssignLatePenalties

    alp = AssignLatePenalties(config=cfg)
    alp.init_plugin()
    gb.db.refresh(sub_nb)
    sub_nb.late_submission_penalty = None
    late = submission.total_seconds_late
    if late > 0:
        penalty = alp.plugin_inst.late_submission_penalty(student, sub_nb.score, late)
        if penalty is not None:
            sub_nb.late_submission_penalty = alp._check_late_penalty(sub_nb, penalty)


# -- the entry point ---------------------------------------------------------------------------
def write_grades(course: Path, assignment: str, grades: list[NotebookGrade], *,
                 db_url: str | None = None, autograded_dir: Path | None = None,
                 submissions: Path | None = None,
                 executed: Mapping[tuple[str, str], Any] | None = None) -> None:
    """Record ``grades`` (one assignment) in the gradebook and write the autograded copies.

    ``db_url``: the gradebook (default: the course's, :func:`graders.nbg.gradebook_url`);
    ``autograded_dir``: where ``<student>/<assignment>/<nb>.ipynb`` copies go (default: the
    course's ``autograded/``); ``submissions``: the folder of ``<student>/<assignment>/``
    submissions (default: the course's ``submitted/``); ``executed``: optional executed
    notebooks by ``(student, notebook)`` (a NotebookNode, a dict or a path) used for the copy
    instead of the submitted file. See the module docstring for the exact rules."""
    from nbgrader.api import Gradebook

    course = Path(course).resolve()
    wrong = sorted({g.assignment for g in grades if g.assignment != assignment})
    if wrong:
        raise GradebookError(f"grades of other assignments ({', '.join(wrong)}) passed to "
                             f"write_grades for {assignment}")
    default_url, course_id = gradebook_url(course)
    url = db_url or default_url
    cfg, submitted_dir, autograded_default = _course_dirs(course)
    submitted_dir = Path(submissions) if submissions is not None else submitted_dir
    autograded = Path(autograded_dir) if autograded_dir is not None else autograded_default
    executed = executed or {}
    if not grades:
        return
    ensure_assignment(course, assignment, db_url=url,
                      notebooks={g.notebook for g in grades})

    with Gradebook(url, course_id) as gb:
        known = {nb.name for nb in gb.find_assignment(assignment).notebooks}
    by_student: dict[str, dict[str, NotebookGrade]] = {}
    for g in grades:
        if g.notebook not in known:
            log.warning("skipping %s/%s of %s: not a notebook of the assignment", assignment,
                        g.notebook, g.student)
            continue
        by_student.setdefault(g.student, {})[g.notebook] = g

    # nbgrader's sanitising step (opens its own gradebook connections: done before ours)
    copies: dict[tuple[str, str], nbformat.NotebookNode] = {}
    for student, nbs in sorted(by_student.items()):
        for name, g in sorted(nbs.items()):
            if g.status == "missing":
                continue
            src = executed.get((student, name))
            nb = _read_notebook(src) if src is not None else _read_notebook(
                submitted_dir / student / assignment / f"{name}.ipynb")
            if nb is None:
                continue
            try:
                copies[(student, name)] = sanitize(nb, cfg, url, assignment, name, student,
                                                   clear_output=src is None)
            except Exception as exc:  # not a notebook nbgrader can take: no copy
                log.warning("no autograded copy of %s/%s/%s: %s", student, assignment, name,
                            exc)

    with Gradebook(url, course_id) as gb:
        master = gb.find_assignment(assignment)
        all_notebooks = sorted(nb.name for nb in master.notebooks)
        for student, nbs in sorted(by_student.items()):
            gb.update_or_create_student(student)  # autograde's --create
            ts = _read_timestamp(submitted_dir / student / assignment)
            kwargs = {"timestamp": ts} if ts else {}
            with warnings.catch_warnings():  # nbgrader's add_submission trips SQLAlchemy's
                warnings.filterwarnings("ignore", "Object of type", SAWarning)  # autoflush
                submission = gb.update_or_create_submission(assignment, student, **kwargs)
            for name in all_notebooks:
                g = nbs.get(name)
                sub_nb = _submitted_notebook(gb, name, assignment, student)
                nb = copies.get((student, name))
                _write_notebook_rows(gb, g, sub_nb, _solution_state(nb), nb is not None)
                gb.db.commit()
                _late_penalty(gb, cfg, submission, sub_nb, student)
                gb.db.commit()

    for (student, name), nb in sorted(copies.items()):
        dest = autograded / student / assignment / f"{name}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(annotate(nb, by_student[student][name]), str(dest))
    for student, nbs in sorted(by_student.items()):
        folder = autograded / student / assignment
        for name, g in nbs.items():
            stale = folder / f"{name}.ipynb"
            if g.status == "missing" and stale.is_file():
                stale.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        ts_file = submitted_dir / student / assignment / "timestamp.txt"
        if ts_file.is_file():
            shutil.copyfile(ts_file, folder / "timestamp.txt")
