"""Grade exports for learning-management systems and for own analysis.

Written from the gradebook's submission totals (:func:`graders.analytics.scores.
load_submissions`): an assignment's grade is nbgrader's final score, raw score minus the late
penalty (what ``nbgrader export`` calls ``score``). A student of the gradebook without a
submission gets an EMPTY cell (no grade), not 0 — fill it in the LMS if your policy is 0.
Files are UTF-8 (no BOM), comma-separated, one header row.

**Moodle** (Grades → Import → CSV file). Moodle does not require fixed column names: on import
you map one column to a user field ("Map from" → "Map to": ID number, email address, username
or user id) and each further column to a grade item (an existing one or a new one). This file
has that identifier column first — ``ID number`` (default; the nbgrader student id, or the
LMS id with ``id_from="lms_user_id"``) or ``Email address`` — then ``First name`` and
``Last name`` for people reading it (not needed by the import), then one column per
assignment named by its nbgrader id with the numeric grade.

**Canvas** (Grades → Import, Gradebook CSV). Columns: ``Student`` ("Last, First", else the
student id), ``ID`` (Canvas user id: nbgrader's ``lms_user_id``, may be empty), ``SIS User ID``
(the nbgrader student id), ``SIS Login ID`` (empty unless ``login`` gives one), ``Section``
(empty unless ``section`` gives one), then one column per assignment headed
``<name> (<canvas assignment id>)`` when ``canvas_ids`` maps it (Canvas then updates that
assignment) or just ``<name>`` (Canvas offers to create a new assignment). The second row is
``Points Possible`` in the Student column and each assignment's maximum score. Canvas matches
students on ID, SIS User ID or SIS Login ID, so at least one must be known to Canvas.

**Long format** (:func:`write_item_scores`): the item-score table of
:func:`~graders.analytics.scores.load_scores` as CSV or Parquet (by the file suffix), one row
per (student, assignment, notebook, grade_id) with exercise tags — for pandas, R or a
spreadsheet. nbgrader's own ``nbgrader export`` is untouched and keeps working on the same
gradebook.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

MOODLE_IDENTIFIERS = ("ID number", "Email address")
CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


class ExportError(ValueError):
    """An export that cannot be written as asked (message says what is missing)."""


def _text(v: object) -> str:
    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def _num(v: object) -> str:
    return "" if v is None or pd.isna(v) else f"{float(v):g}"


def _grades(submissions: pd.DataFrame, students: pd.DataFrame,
            assignments: list[str]) -> pd.DataFrame:
    """Students × assignments of final scores (NaN: no submission)."""
    wide = submissions.pivot_table(index="student", columns="assignment", values="score",
                                   aggfunc="first")
    return wide.reindex(index=list(students["student"]), columns=assignments)


def _assignment_list(submissions: pd.DataFrame, assignments: list[str] | None) -> list[str]:
    return list(assignments) if assignments is not None else sorted(
        submissions["assignment"].dropna().unique())


def _write(path: str | os.PathLike, header: list[str], rows: list[list[str]]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def moodle_csv(path: str | os.PathLike, submissions: pd.DataFrame, students: pd.DataFrame, *,
               identifier: str = "ID number", id_from: str = "student",
               assignments: list[str] | None = None) -> Path:
    """Write the Moodle grade-import CSV (see the module docstring)."""
    if identifier not in MOODLE_IDENTIFIERS:
        raise ExportError(f"identifier {identifier!r}: use one of "
                          f"{', '.join(MOODLE_IDENTIFIERS)}")
    source = "email" if identifier == "Email address" else id_from
    if source not in ("student", "lms_user_id", "email"):
        raise ExportError(f"id_from {id_from!r}: use 'student' or 'lms_user_id'")
    missing = [s for s, v in zip(students["student"], students[source], strict=True)
               if not _text(v)]
    if missing:
        raise ExportError(f"{identifier}: no {source} for {len(missing)} student(s) "
                          f"(e.g. {missing[0]}); add it to the gradebook or use another "
                          "identifier")
    names = _assignment_list(submissions, assignments)
    grades = _grades(submissions, students, names)
    rows = []
    for _, st in students.iterrows():
        rows.append([_text(st[source]), _text(st["first_name"]), _text(st["last_name"]),
                     *(_num(grades.at[st["student"], a]) for a in names)])
    return _write(path, [identifier, "First name", "Last name", *names], rows)


def canvas_csv(path: str | os.PathLike, submissions: pd.DataFrame, students: pd.DataFrame,
               points_possible: Mapping[str, float], *,
               canvas_ids: Mapping[str, str] | None = None, section: str = "",
               login: Mapping[str, str] | None = None,
               assignments: list[str] | None = None) -> Path:
    """Write the Canvas Gradebook import CSV (see the module docstring).
    ``points_possible``: assignment → maximum score (e.g. from ``load_assignments``)."""
    names = _assignment_list(submissions, assignments)
    absent = [a for a in names if a not in points_possible]
    if absent:
        raise ExportError(f"no maximum score for {', '.join(absent)}")
    canvas_ids = canvas_ids or {}
    login = login or {}
    header = [*CANVAS_FIXED, *(f"{a} ({canvas_ids[a]})" if a in canvas_ids else a
                               for a in names)]
    rows = [["Points Possible", "", "", "", "", *(_num(points_possible[a]) for a in names)]]
    grades = _grades(submissions, students, names)
    for _, st in students.iterrows():
        sid = str(st["student"])
        last, first = _text(st["last_name"]), _text(st["first_name"])
        name = f"{last}, {first}" if last and first else (last or first or sid)
        rows.append([name, _text(st["lms_user_id"]), sid, login.get(sid, ""), section,
                     *(_num(grades.at[sid, a]) for a in names)])
    return _write(path, header, rows)


def write_item_scores(scores: pd.DataFrame, path: str | os.PathLike) -> Path:
    """The long item-score table as ``.csv`` or ``.parquet`` (chosen by the suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        scores.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        scores.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    else:
        raise ExportError(f"{path.name}: write item scores to a .csv or .parquet file")
    return path


def export_all(db_url: str, course_id: str, out: str | os.PathLike, *,
               moodle_identifier: str = "ID number",
               canvas_ids: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Every export of a gradebook into folder ``out``: ``moodle.csv``, ``canvas.csv``,
    ``item_scores.csv`` and ``item_scores.parquet``."""
    from graders.analytics import scores as S

    out = Path(out)
    subs = S.load_submissions(db_url, course_id)
    students = S.load_students(db_url, course_id)
    maxima = S.load_assignments(db_url, course_id)
    names = list(maxima["assignment"])
    points = dict(zip(maxima["assignment"], maxima["max_score"], strict=True))
    items = S.load_scores(db_url, course_id)
    return {
        "moodle": moodle_csv(out / "moodle.csv", subs, students, identifier=moodle_identifier,
                             assignments=names),
        "canvas": canvas_csv(out / "canvas.csv", subs, students, points,
                             canvas_ids=canvas_ids, assignments=names),
        "item_scores_csv": write_item_scores(items, out / "item_scores.csv"),
        "item_scores_parquet": write_item_scores(items, out / "item_scores.parquet"),
    }
