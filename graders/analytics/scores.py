"""Score tables for reports: item scores from an nbgrader gradebook, submission totals, and the
practice telemetry trainees' notebooks write to ``.cbec/attempts.jsonl``.

Everything comes back as a pandas DataFrame with explicit dtypes (see the ``*_DTYPES`` maps):
text columns are pandas ``string`` (missing: ``<NA>``), counts ``Int64``, scores ``float64``.

* :func:`load_scores` — one row per (student, assignment, notebook, grade_id) of every stored
  submission, read through :class:`nbgrader.api.Gradebook` (any SQLAlchemy URL). ``score`` is
  nbgrader's own final score of the cell (``Grade.score``: the manual score when one was
  entered, else the automatic score, plus extra credit; 0 when neither is set), so the numbers
  add up to what ``nbgrader export`` and formgrader show. Cells whose ``grade_id`` maps back to
  a registered exercise (``00-02-gmv_cny`` → ``00.02.gmv_cny``) carry the exercise's stage,
  Table 1 tasks (``;``-joined), competency unit and difficulty; other graded cells (hand-marked
  judgements, plain nbgrader tests) have ``exercise`` ``<NA>``.
* :func:`load_submissions` — one row per stored submission: raw score, late penalty, final
  score (raw − penalty, as ``nbgrader export`` computes it), max score, timestamp and the
  student's name, e-mail and LMS id from the gradebook.
* :func:`load_attempts` / :func:`telemetry` — the practice log of each submission
  (``submitted/<student>/<assignment>/.cbec/attempts.jsonl``; lines ``{time, event:
  check|hint|solution, exercise, status, mistake}``) and per (student, assignment, exercise):
  checks, hints, solution views, checks before the first correct one, and time on task (first
  to last logged event of the item). Malformed lines are skipped and counted in
  ``df.attrs["skipped_lines"]``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from graders import exercises
from graders.cells import exercise_id

SCORE_DTYPES: dict[str, str] = {
    "student": "string", "assignment": "string", "notebook": "string", "grade_id": "string",
    "exercise": "string", "stage": "string", "tasks": "string", "unit": "string",
    "difficulty": "Int64", "score": "float64", "max_score": "float64",
    "auto_score": "float64", "manual_score": "float64", "needs_manual_grade": "bool",
}
SUBMISSION_DTYPES: dict[str, str] = {
    "student": "string", "assignment": "string", "first_name": "string",
    "last_name": "string", "email": "string", "lms_user_id": "string",
    "timestamp": "datetime64[ns]", "raw_score": "float64", "late_penalty": "float64",
    "score": "float64", "max_score": "float64",
}
EVENT_DTYPES: dict[str, str] = {
    "student": "string", "assignment": "string", "time": "datetime64[ns, UTC]",
    "event": "string", "exercise": "string", "status": "string", "mistake": "string",
}
TELEMETRY_DTYPES: dict[str, str] = {
    "student": "string", "assignment": "string", "exercise": "string",
    "checks": "Int64", "hints": "Int64", "solutions": "Int64", "solved": "bool",
    "attempts_before_correct": "Int64", "first": "datetime64[ns, UTC]",
    "last": "datetime64[ns, UTC]", "seconds_on_task": "float64",
}
EVENTS = ("check", "hint", "solution")
ATTEMPTS = Path(".cbec") / "attempts.jsonl"


def _frame(rows: list[dict[str, Any]], dtypes: dict[str, str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(dtypes))
    out = pd.DataFrame(index=df.index)
    for col, dt in dtypes.items():
        s = df[col]
        if dt.startswith("datetime64"):
            out[col] = pd.to_datetime(s, utc="UTC" in dt, errors="coerce").astype(dt)
        elif dt == "bool":
            out[col] = s.fillna(False).astype("bool")
        elif dt == "float64":
            out[col] = pd.to_numeric(s, errors="coerce").astype("float64")
        else:
            out[col] = s.astype(dt)
    return out


def exercise_tags(grade_id: str) -> dict[str, Any]:
    """``exercise, stage, tasks, unit, difficulty`` of a grade id (all None when the cell is
    not a registered cbec exercise)."""
    try:
        ex = exercises.get(exercise_id(grade_id))
    except KeyError:
        return {"exercise": None, "stage": None, "tasks": None, "unit": None,
                "difficulty": None}
    return {"exercise": ex.id, "stage": ex.stage, "tasks": ";".join(ex.tasks),
            "unit": ex.unit, "difficulty": int(ex.difficulty)}


def _assignments(gb: Any, assignments: Iterable[str] | None) -> list[str]:
    names = [a.name for a in gb.assignments]
    if assignments is None:
        return names
    wanted = list(assignments)
    unknown = [a for a in wanted if a not in names]
    if unknown:
        raise KeyError(f"no assignment {', '.join(unknown)} in the gradebook "
                       f"(it has: {', '.join(names) or 'none'})")
    return wanted


def load_scores(db_url: str, course_id: str = "default_course", *,
                assignments: Iterable[str] | None = None) -> pd.DataFrame:
    """Item scores of every stored submission (see the module docstring), sorted by
    assignment, student, notebook and grade id."""
    from nbgrader.api import Gradebook

    rows: list[dict[str, Any]] = []
    tags: dict[str, dict[str, Any]] = {}
    with Gradebook(db_url, course_id) as gb:
        for a in _assignments(gb, assignments):
            for sub in gb.assignment_submissions(a):
                for nb in sub.notebooks:
                    for g in nb.grades:
                        if g.name not in tags:
                            tags[g.name] = exercise_tags(g.name)
                        rows.append({"student": sub.student.id, "assignment": a,
                                     "notebook": nb.name, "grade_id": g.name, **tags[g.name],
                                     "score": float(g.score), "max_score": float(g.max_score),
                                     "auto_score": g.auto_score,
                                     "manual_score": g.manual_score,
                                     "needs_manual_grade": bool(g.needs_manual_grade)})
    df = _frame(rows, SCORE_DTYPES)
    return df.sort_values(["assignment", "student", "notebook", "grade_id"],
                          ignore_index=True)


def load_submissions(db_url: str, course_id: str = "default_course", *,
                     assignments: Iterable[str] | None = None) -> pd.DataFrame:
    """Submission totals (see the module docstring); ``score`` = raw − late penalty."""
    from nbgrader.api import Gradebook

    rows: list[dict[str, Any]] = []
    with Gradebook(db_url, course_id) as gb:
        for a in _assignments(gb, assignments):
            for sub in gb.assignment_submissions(a):
                st = sub.student
                raw = float(sub.score)
                penalty = float(sub.late_submission_penalty or 0.0)
                rows.append({"student": st.id, "assignment": a, "first_name": st.first_name,
                             "last_name": st.last_name, "email": st.email,
                             "lms_user_id": st.lms_user_id, "timestamp": sub.timestamp,
                             "raw_score": raw, "late_penalty": penalty,
                             "score": raw - penalty, "max_score": float(sub.max_score)})
    return _frame(rows, SUBMISSION_DTYPES).sort_values(["assignment", "student"],
                                                       ignore_index=True)


def load_students(db_url: str, course_id: str = "default_course") -> pd.DataFrame:
    """Every student of the gradebook (also those who submitted nothing)."""
    from nbgrader.api import Gradebook

    cols = {"student": "string", "first_name": "string", "last_name": "string",
            "email": "string", "lms_user_id": "string"}
    with Gradebook(db_url, course_id) as gb:
        rows = [{"student": s.id, "first_name": s.first_name, "last_name": s.last_name,
                 "email": s.email, "lms_user_id": s.lms_user_id} for s in gb.students]
    return _frame(rows, cols).sort_values("student", ignore_index=True)


def course_scores(course: str | os.PathLike, **kwargs: Any) -> pd.DataFrame:
    """:func:`load_scores` of the course's own gradebook (``graders.nbg.gradebook_url``)."""
    from graders.nbg import gradebook_url

    url, course_id = gradebook_url(Path(course))
    return load_scores(url, course_id, **kwargs)


# -- practice telemetry ------------------------------------------------------------------------
def load_attempts(submitted: str | os.PathLike, *, assignment: str | None = None
                  ) -> pd.DataFrame:
    """Every logged practice event under ``submitted/<student>/<assignment>/.cbec/``, in time
    order per (student, assignment). Lines that are not JSON objects with a known ``event``
    and an ``exercise`` are skipped (counted in ``attrs["skipped_lines"]``)."""
    root = Path(submitted)
    rows: list[dict[str, Any]] = []
    skipped = 0
    pattern = f"*/{assignment or '*'}/{ATTEMPTS.as_posix()}"
    for path in sorted(root.glob(pattern)):
        student, assign = path.parents[2].name, path.parents[1].name
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                skipped += 1
                continue
            if (not isinstance(rec, dict) or rec.get("event") not in EVENTS
                    or not isinstance(rec.get("exercise"), str)
                    or pd.isna(pd.to_datetime(rec.get("time"), utc=True, errors="coerce"))):
                skipped += 1
                continue
            rows.append({"student": student, "assignment": assign, "time": rec["time"],
                         "event": rec["event"], "exercise": rec["exercise"],
                         "status": rec.get("status"), "mistake": rec.get("mistake")})
    df = _frame(rows, EVENT_DTYPES)
    df = df.sort_values(["student", "assignment", "time"], kind="stable", ignore_index=True)
    df.attrs["skipped_lines"] = skipped
    return df


def telemetry(events: pd.DataFrame) -> pd.DataFrame:
    """Per (student, assignment, exercise): ``checks``, ``hints``, ``solutions`` (views),
    ``solved`` (a check came back correct), ``attempts_before_correct`` (checks before the
    first correct one; ``<NA>`` when never correct), ``first``/``last`` event and
    ``seconds_on_task`` (last − first; 0 for a single event)."""
    rows: list[dict[str, Any]] = []
    keys = ["student", "assignment", "exercise"]
    for key, g in events.groupby(keys, sort=True, observed=True):
        g = g.sort_values("time", kind="stable")
        checks = g[g["event"] == "check"]
        correct = (checks["status"] == "correct").fillna(False).to_numpy(dtype=bool)
        before = int(correct.argmax()) if correct.any() else None
        first, last = g["time"].iloc[0], g["time"].iloc[-1]
        rows.append({**dict(zip(keys, key, strict=True)), "checks": len(checks),
                     "hints": int((g["event"] == "hint").sum()),
                     "solutions": int((g["event"] == "solution").sum()),
                     "solved": bool(correct.any()), "attempts_before_correct": before,
                     "first": first, "last": last,
                     "seconds_on_task": (last - first).total_seconds()})
    return _frame(rows, TELEMETRY_DTYPES)


def load_assignments(db_url: str, course_id: str = "default_course") -> pd.DataFrame:
    """``assignment, duedate, max_score`` of every assignment of the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gb:
        rows = [{"assignment": a.name, "duedate": a.duedate, "max_score": float(a.max_score)}
                for a in gb.assignments]
    return _frame(rows, {"assignment": "string", "duedate": "datetime64[ns]",
                         "max_score": "float64"})
