"""``cbec grade``: secure, parallel autograding of an assignment into nbgrader's gradebook."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path

import click

from graders.cli._base import CbecError, existing_dir, progress
from graders.cli.course import course_dir, course_opt


@click.command()
@click.argument("assignment")
@click.option("--submissions", type=click.Path(path_type=Path),
              help="Folder in nbgrader's <student>/<assignment>/ layout "
                   "(default: the course's submitted/).")
@click.option("--student", "students", multiple=True,
              help="Grade only this student (repeatable).")
@click.option("--workers", type=click.IntRange(min=1), help="Parallel sandboxes (default: cores).")
@click.option("--timeout", type=click.FloatRange(min=1), default=120, show_default=True,
              help="Seconds per notebook.")
@click.option("--memory", type=click.IntRange(min=64), default=2048, show_default=True,
              help="Memory cap per notebook process in MB.")
@click.option("--db", help="Gradebook SQLAlchemy URL (default: the course's gradebook.db).")
@course_opt
def grade(assignment: str, submissions: Path | None, students: tuple[str, ...],
          workers: int | None, timeout: float, memory: int, db: str | None,
          course: Path | None) -> None:
    """Grade all submissions of ASSIGNMENT securely and in parallel.

    Each notebook runs from a copy in a fresh sandboxed process with the trainee's own dataset
    (re-derived from the course secret); answers are captured as plain data and scored outside
    the trainee's process. Scores go to nbgrader's gradebook (formgrader shows them), feedback
    pages to the course's feedback/ folder, audit records to audit/ and the database.
    """
    from graders.grading.batch import GradingError, RecordError, grade_assignment, summary

    root = course_dir(course)
    if not (root / "source" / assignment).is_dir():
        raise CbecError(f"assignment {assignment!r} is not in course {root} (no "
                        f"source/{assignment}/)")
    if submissions is not None:
        existing_dir(submissions, "submissions folder")
    elif not (root / "submitted").is_dir():
        raise CbecError(f"no submissions: {root / 'submitted'} does not exist (collect them "
                        "first, or pass --submissions DIR)")
    workers = workers or os.cpu_count() or 1
    t0 = time.perf_counter()
    try:
        grades = grade_assignment(root, assignment, submissions=submissions,
                                  students=list(students) or None, workers=workers,
                                  timeout=timeout, memory_mb=memory, db_url=db,
                                  progress=progress)
    except GradingError as exc:
        raise CbecError(str(exc)) from exc
    except RecordError as exc:
        raise CbecError(f"graded {len(exc.grades)} notebook(s) but {exc}") from exc
    wall = time.perf_counter() - t0
    s = summary(grades)
    per: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for g in grades:
        per[g.student][0] += g.score
        per[g.student][1] += g.max_score
    click.echo(f"{'student':<20} {'score':>8} {'max':>6}")
    for student, (sc, mx) in sorted(per.items()):
        click.echo(f"{student:<20} {sc:>8g} {mx:>6g}")
    n = s["notebooks"]
    click.echo(f"{n} notebook(s) of {len(per)} trainee(s) in {wall:.1f} s with {workers} "
               f"worker(s) ({wall / max(n, 1):.2f} s/notebook): {s['graded']} graded, "
               f"{len(s['failed'])} with a diagnosis")
    for student, nb, status, diagnosis in s["failed"]:
        click.echo(f"  {student} {nb}: {status}: {diagnosis}")
    click.echo(f"feedback pages: {root / 'feedback'}/<student>/{assignment}/feedback.html")
