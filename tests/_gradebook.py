"""Gradebooks for the analytics and report tests, built with real components (no mocks).

* :func:`make_gradebook` — a small hand-made SQLite nbgrader gradebook (real
  ``nbgrader.api.Gradebook`` objects and the real ``cbec_audit`` table) whose numbers the
  analytics tests check by hand: alice and bob submit, carol does not;
* :func:`hand_course` — that gradebook inside a course folder (``nbgrader_config.py`` naming
  its course id), for CLI tests that need no grading run;
* :func:`graded_course` — a copy of the real course, a simulated cohort with personal datasets
  and a real ``cbec grade`` run (sandboxed kernels; ~40 s for 4 trainees of 00-orientation).
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from sqlalchemy.exc import SAWarning

from graders.analytics import scores as S
from graders.grading import audit
from graders.grading.results import ItemScore, NotebookGrade
from graders.nbg import nbgrader_env

COURSE_ID = "cbec-test"
NB0, NB13 = "00.02-Your-World", "13.01-Rates-and-Channels"
# (assignment, notebook, grade_id, max points, cbec exercise or None)
CELLS = [
    ("00-orientation", NB0, "00-02-order_count", 1.0),
    ("00-orientation", NB0, "00-02-gmv_cny", 2.0),
    ("00-orientation", NB0, "00-02-cancel_rate", 2.0),
    ("00-orientation", NB0, "00-02-first_look-judgement", 2.0),  # hand-marked, not cbec
    ("13-logistics", NB13, "13-01-volumetric_kg", 1.0),
    ("13-logistics", NB13, "13-01-epacket_quote", 2.0),
    ("13-logistics", NB13, "13-01-channel_choice", 3.0),
]
# student → assignment → grade_id → (auto_score, manual_score); carol submits nothing
SCORES = {
    "alice": {"00-orientation": {"00-02-order_count": (1, None), "00-02-gmv_cny": (0, None),
                                 "00-02-cancel_rate": (2, None),
                                 "00-02-first_look-judgement": (None, 1.5)},
              "13-logistics": {"13-01-volumetric_kg": (1, None), "13-01-epacket_quote": (2, None),
                               "13-01-channel_choice": (0, None)}},
    "bob": {"00-orientation": {"00-02-order_count": (0, None), "00-02-gmv_cny": (2, None),
                               "00-02-cancel_rate": (0, None),
                               "00-02-first_look-judgement": (None, None)}},  # waits
}
MISTAKES = {("alice", "00-02-gmv_cny"): "foreign_currency",
            ("alice", "13-01-channel_choice"): "ignored_market",
            ("bob", "00-02-cancel_rate"): "percent", ("bob", "00-02-order_count"): "percent"}
LATE = {("alice", "13-logistics"): 0.5}  # late penalty on alice's 13.01 notebook


def _audit_grades() -> list[NotebookGrade]:
    out = []
    for student, by_a in SCORES.items():
        for a, cells in by_a.items():
            nb = NB0 if a == "00-orientation" else NB13
            items = []
            for gid, (auto, _) in cells.items():
                mx = next(c[3] for c in CELLS if c[2] == gid)
                ex = S.exercise_tags(gid)["exercise"]
                items.append(ItemScore(nb, gid, "cbec" if ex else "manual", mx, auto,
                                       "correct" if auto == mx else "mistake", exercise=ex,
                                       mistake=MISTAKES.get((student, gid))))
            out.append(NotebookGrade(student, a, nb, "ok", items=items,
                                     submission_sha256="ab" * 32,
                                     finished="2025-06-01T10:00:00+00:00"))
    return out


def make_gradebook(folder: Path, url: str | None = None) -> str:
    """A real nbgrader gradebook with the fixture above (+ cbec_audit); its URL. SQLite in
    ``folder/gradebook.db`` unless ``url`` names another (empty) database."""
    import os

    from nbgrader.api import Gradebook

    url = url or f"sqlite:///{(folder / 'gradebook.db').resolve()}"
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = nbgrader_env()["PATH"]  # nbgrader runs alembic for a new database
    try:
        with Gradebook(url, COURSE_ID) as gb:
            for a in ("00-orientation", "13-logistics"):
                gb.add_assignment(a)
            for a, nb in {(c[0], c[1]) for c in CELLS}:
                gb.add_notebook(nb, a)
            for a, nb, gid, mx in CELLS:
                gb.add_grade_cell(gid, nb, a, max_score=mx, cell_type="code")
            gb.add_student("alice", first_name="Li", last_name="Wang", email="li@example.cn",
                           lms_user_id="1001")
            gb.add_student("bob", first_name="Bo", last_name="Zhao", email="bo@example.cn")
            gb.add_student("carol", first_name="Ke", last_name="Chen", email="ke@example.cn")
            for student, by_a in SCORES.items():
                for a, cells in by_a.items():
                    with warnings.catch_warnings():  # nbgrader's add_submission autoflush
                        warnings.simplefilter("ignore", SAWarning)
                        gb.add_submission(a, student)
                    for gid, (auto, manual) in cells.items():
                        nb = next(c[1] for c in CELLS if c[2] == gid)
                        g = gb.find_grade(gid, nb, a, student)
                        g.auto_score = None if auto is None else float(auto)
                        g.manual_score = None if manual is None else float(manual)
                        g.needs_manual_grade = auto is None and manual is None
                    if (student, a) in LATE:
                        sub_nb = gb.find_submission_notebook(NB13, a, student)
                        sub_nb.late_submission_penalty = LATE[(student, a)]
                    gb.db.commit()
    finally:
        os.environ["PATH"] = old
    audit.store(url, audit.records(_audit_grades()))
    return url




def hand_course(folder: Path) -> Path:
    """A course folder holding :func:`make_gradebook`'s gradebook; its path."""
    course = folder / "course"
    course.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = {COURSE_ID!r}\n",
        encoding="utf-8")
    make_gradebook(course)
    return course


def graded_course(folder: Path, module: str = "00-orientation", trainees: int = 4,
                  seed: int = 5) -> Path:
    """A course copy with ``trainees`` simulated trainees of ``module`` graded by the real
    secure grader (gradebook, audit records, feedback pages); its path."""
    from graders import cohort
    from graders.demo import copy_course
    from graders.grading.batch import grade_assignment
    from graders.variants import ensure_secret

    course = copy_course(folder / "course", module)
    ensure_secret(course)
    sim = cohort.simulate(course, module, trainees, folder / "cohort", seed=seed, variants=True)
    shutil.copytree(sim.out / "submitted", course / "submitted")
    grade_assignment(course, module, workers=2)
    return course
