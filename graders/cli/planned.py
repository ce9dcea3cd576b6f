"""Command groups whose work lands in later releases: their arguments and checks exist now.

Each command validates its inputs (one-line errors, exit 2) and then says plainly that the
feature is not available yet, so scripts fail loudly instead of silently doing nothing.
"""

from __future__ import annotations

from pathlib import Path

import click

from graders.cli._base import CbecError, existing_dir
from graders.cli.course import _not_yet, course_opt
from graders.cli.course import course_dir as _course_dir


@click.command()
@click.argument("assignment")
@click.option("--submissions", type=click.Path(path_type=Path),
              help="Folder in nbgrader's submitted/<student>/<assignment>/ layout.")
@click.option("--workers", type=click.IntRange(min=1), help="Parallel kernels (default: cores).")
@click.option("--timeout", type=click.FloatRange(min=1), default=120, show_default=True,
              help="Seconds per notebook.")
@click.option("--memory", type=click.IntRange(min=64), default=2048, show_default=True,
              help="Memory cap per kernel in MB.")
@click.option("--db", help="Gradebook SQLAlchemy URL (default: the course's gradebook.db).")
@course_opt
def grade(assignment: str, submissions: Path | None, workers: int | None, timeout: float,
          memory: int, db: str | None, course: Path | None) -> None:
    """Grade all submissions of an assignment securely and in parallel."""
    if "/" in assignment or assignment.startswith("."):
        p = Path(assignment)
        if not p.exists():
            raise CbecError(f"assignment {assignment} does not exist; give an assignment "
                            "name of the course (e.g. 00-orientation)")
    if submissions is not None:
        existing_dir(submissions, "submissions folder")
    root = _course_dir(course)
    if not (root / "source" / assignment).is_dir() and not (root / "release" / assignment
                                                             ).is_dir():
        raise CbecError(f"assignment {assignment!r} is not in course {root}")
    _not_yet("cbec grade")


@click.group()
def report() -> None:
    """Competency reports, cohort dashboards, item analysis and LMS exports."""


@report.command("trainee")
@click.argument("student", required=False)
@course_opt
def report_trainee(student: str | None, course: Path | None) -> None:
    """Competency report for one trainee (or all)."""
    _course_dir(course)
    _not_yet("cbec report trainee")


@report.command("cohort")
@click.argument("target")
@course_opt
def report_cohort(target: str, course: Path | None) -> None:
    """Cohort dashboard with item analysis for an assignment or the course."""
    _course_dir(course)
    _not_yet("cbec report cohort")


@click.group()
def exam() -> None:
    """Exam forms, self-contained exam packs, timing and candidate reports."""


@exam.command("build")
@click.argument("blueprint", type=click.Path(path_type=Path))
@click.option("--candidates", type=click.Path(path_type=Path), required=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def exam_build(blueprint: Path, candidates: Path, out: Path) -> None:
    """Assemble one exam form and pack per candidate from a blueprint."""
    for p, what in ((blueprint, "blueprint"), (candidates, "candidates file")):
        if not p.is_file():
            raise CbecError(f"{what} {p} does not exist")
    _not_yet("cbec exam build")
