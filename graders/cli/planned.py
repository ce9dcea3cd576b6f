"""Command groups whose work lands in later releases: their arguments and checks exist now.

Each command validates its inputs (one-line errors, exit 2) and then says plainly that the
feature is not available yet, so scripts fail loudly instead of silently doing nothing.
"""

from __future__ import annotations

from pathlib import Path

import click

from graders.cli._base import CbecError
from graders.cli.course import _not_yet, course_opt
from graders.cli.course import course_dir as _course_dir


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
