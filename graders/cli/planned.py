"""Command groups whose work lands in later releases: their arguments and checks exist now.

Each command validates its inputs (one-line errors, exit 2) and then says plainly that the
feature is not available yet, so scripts fail loudly instead of silently doing nothing.
"""

from __future__ import annotations

from pathlib import Path

import click

from graders.cli._base import CbecError, existing_dir


def _not_yet(feature: str) -> None:
    raise CbecError(f"{feature} is not available in this version yet (see the README roadmap)")


def _course_dir(course: Path | None) -> Path:
    root = existing_dir(course or Path.cwd(), "course folder")
    if not (root / "nbgrader_config.py").is_file():
        raise CbecError(f"no nbgrader course in {root} (no nbgrader_config.py); run from a "
                        "course folder or pass --course DIR")
    return root


course_opt = click.option("--course", type=click.Path(path_type=Path),
                          help="nbgrader course folder (default: current folder).")


@click.group()
def course() -> None:
    """Build, release and check the nbgrader course."""


@course.command("build")
@course_opt
def course_build(course: Path | None) -> None:
    """Regenerate the released trainee notebooks from course/source."""
    _course_dir(course)
    _not_yet("cbec course build")


@course.command("check")
@click.argument("assignment", required=False)
@course_opt
def course_check(assignment: str | None, course: Path | None) -> None:
    """Check every exercise: solution passes, starter and known mistakes fail."""
    _course_dir(course)
    _not_yet("cbec course check")


@course.command("release")
@click.argument("assignment")
@click.option("--roster", type=click.Path(path_type=Path), help="CSV of trainee ids.")
@course_opt
def course_release(assignment: str, roster: Path | None, course: Path | None) -> None:
    """Release an assignment with a personal dataset for every trainee."""
    _course_dir(course)
    if roster is not None and not roster.is_file():
        raise CbecError(f"roster file {roster} does not exist")
    _not_yet("cbec course release")


@course.command("coverage")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def course_coverage(as_json: bool) -> None:
    """Items and points per stage of the standard and per Table 1 task."""
    _not_yet("cbec course coverage")


@click.group()
def cohort() -> None:
    """Simulate cohorts of trainees (for demos, tests and item analysis)."""


@cohort.command("simulate")
@click.argument("assignment")
@click.option("--n", "n", type=click.IntRange(min=1), default=40, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
def cohort_simulate(assignment: str, n: int, out: Path, seed: int) -> None:
    """Write nbgrader-style submissions for N synthetic trainees."""
    _not_yet("cbec cohort simulate")


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
