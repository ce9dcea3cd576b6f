"""The instructor's path end to end on built-in defaults (what ``cbec demo`` / ``make demo`` run).

simulate a world → check the course's exercises → simulated cohort with personal datasets →
release per trainee → ``cbec grade`` (sandboxed, parallel, into nbgrader's gradebook, feedback
pages) → compare the scores with the answers the simulator chose → ``cbec report``: the
cohort dashboard and every trainee's competency report.
Everything is written under one output folder; the repository is never modified.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from graders import cells

COURSE = Path(__file__).resolve().parents[1] / "course"
ASSIGNMENT = "00-orientation"


@dataclass
class DemoResult:
    dataset: Path
    course: Path
    cohort: Path
    release: Path
    feedback: Path | None = None
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)  # student → got, max
    mismatches: list[str] = field(default_factory=list)
    items_checked: int = 0
    reports: list[Path] = field(default_factory=list)  # cohort dashboard, then trainee pages


def copy_course(dest: Path, assignment: str = ASSIGNMENT) -> Path:
    """A fresh working copy of the kit's course (config, curriculum, one module's source)."""
    from graders.course_build import copy_course as copy

    if dest.exists():
        shutil.rmtree(dest)
    return copy(COURSE, dest, [assignment])


def run_course_part(out: Path, *, trainees: int = 4, seed: int = 0,
                    echo: Callable[[str], None] = print) -> DemoResult:
    """Check, simulate, release and autograde ``00-orientation`` for ``trainees`` trainees."""
    from graders import cohort, release
    from graders.course_check import check_course
    from graders.grading.batch import grade_assignment
    from graders.nbg import gradebook_scores
    from graders.variants import Trainee, ensure_secret, write_roster

    course = copy_course(out / "course")
    t = time.perf_counter()
    report = check_course(course, ASSIGNMENT, seeds=1)
    if not report.ok:
        raise RuntimeError(f"course check failed: {report.problems[0]}")
    n_items = len(report.items)
    echo(f"  course check:     {n_items} exercises of {ASSIGNMENT}: solution passes, starter "
         f"and every known mistake fail ({time.perf_counter() - t:.1f} s)")

    ensure_secret(course)
    t = time.perf_counter()
    # release first (nbgrader release + one dataset per trainee); the cohort simulator then
    # reuses both instead of building them again
    roster = out / "roster.csv"
    write_roster(roster, [Trainee(s, "模拟", f"学员{s[4:]}")
                          for s in cohort.student_ids(trainees)])
    rel = release.release(course, ASSIGNMENT, roster, out / "release")
    sim = cohort.simulate(course, ASSIGNMENT, trainees, out / "cohort", seed=seed,
                          variants=True)
    echo(f"  release + cohort: {trainees} simulated trainees, each with a personal dataset "
         f"({time.perf_counter() - t:.1f} s)")

    shutil.copytree(sim.out / "submitted", course / "submitted")
    t = time.perf_counter()
    grades = grade_assignment(course, ASSIGNMENT)
    secs = time.perf_counter() - t
    got = gradebook_scores(course, ASSIGNMENT)
    truth = cohort.read_truth(sim.truth)
    result = DemoResult(out / "dataset", course, sim.out, rel.out or rel.released,
                        feedback=course / "feedback", items_checked=n_items)
    for row in truth:
        key = (row["student"], cells.grade_id(row["exercise"]))
        score = got.get(key)
        if score is None and "judgement" in row["exercise"]:
            score = 0.0  # manual items: no autograde score until formgrader
        want = float(row["secure_points"])
        if score != want:
            result.mismatches.append(f"{row['student']} {row['exercise']}: graded {score}, "
                                     f"simulated {want}")
        s, m = result.scores.get(row["student"], (0.0, 0.0))
        result.scores[row["student"]] = (s + (score or 0.0), m + float(row["points"]))
    echo(f"  cbec grade:       {len(grades)} notebooks of {len(result.scores)} trainees in "
         f"{secs:.1f} s; scores "
         + ("match the simulated answers exactly" if not result.mismatches
            else f"DIFFER on {len(result.mismatches)} items: {result.mismatches[0]}"))
    for student, (s, m) in sorted(result.scores.items()):
        echo(f"    {student}: {s:g} / {m:g}")
    result.reports = write_reports(course, out / "reports", echo=echo)
    return result


def write_reports(course: Path, out: Path, *, echo: Callable[[str], None] = print
                  ) -> list[Path]:
    """The cohort dashboard and every trainee's competency report of the graded
    ``ASSIGNMENT`` (``cbec report``); returns their paths, dashboard first."""
    from graders.reports import cohort_dashboard, trainee_reports

    t = time.perf_counter()
    dash = cohort_dashboard(course, out, assignment=ASSIGNMENT)["html"]
    pages = trainee_reports(course, out, assignment=ASSIGNMENT)
    echo(f"  cbec report:      dashboard and {len(pages)} trainee reports "
         f"({time.perf_counter() - t:.1f} s)")
    return [dash, *pages]
