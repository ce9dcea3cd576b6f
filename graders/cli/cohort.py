"""`cbec cohort simulate`: synthetic trainees for demos, tests and item analysis."""

from __future__ import annotations

from pathlib import Path

import click

from graders.cli._base import CbecError, progress
from graders.cli.course import course_dir, course_opt


@click.group()
def cohort() -> None:
    """Simulate cohorts of trainees (for demos, tests and item analysis)."""


@cohort.command("simulate")
@click.argument("assignment")
@click.option("--n", "n", type=click.IntRange(min=1), default=40, show_default=True,
              help="Number of synthetic trainees (sim-001 …).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder (submitted/, roster.csv, truth.csv).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--adversarial", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True,
              help="Share of trainees who try to cheat or break grading (one act each).")
@click.option("--variants/--no-variants", default=None,
              help="Per-trainee data/ from the course secret (default: when the course has one).")
@course_opt
def cohort_simulate(assignment: str, n: int, out: Path, seed: int, adversarial: float,
                    variants: bool | None, course: Path | None) -> None:
    """Write nbgrader-style submissions for N synthetic trainees, with truth.csv.

    \b
    Ability θ ~ N(0,1); difficulty 1/2/3 → b = −1/0/+1; P(correct) = 1/(1+exp(−1.7(θ−b))).
    Wrong answers are known mistakes, blanks or code that raises. truth.csv gives the points
    nbgrader autograde should give and those a tamper-proof grader should give."""
    from graders.cohort import simulate
    from graders.variants import VariantError

    root = course_dir(course)
    try:
        res = simulate(root, assignment, n, out, seed=seed, adversarial=adversarial,
                       variants=variants, progress=progress)
    except VariantError as exc:
        raise CbecError(str(exc)) from None
    data = "own data/ per trainee" if res.variants else "default dataset"
    click.echo(f"{len(res.students)} submissions ({data}): {res.out / 'submitted'}")
    click.echo(f"truth: {res.truth}")
    click.echo(f"roster: {res.roster}")
