"""``cbec demo``: the main job on embedded defaults, one command, prints where outputs are."""

from __future__ import annotations

import time
from pathlib import Path

import click

from graders.cli._base import CbecError

DEFAULT_SEED = 20250101


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("build/demo"), show_default=True, help="Where to write everything.")
@click.option("--orders", "n_orders", type=click.IntRange(min=100), default=5000,
              show_default=True, help="Orders in the demo world.")
@click.option("--seed", type=click.IntRange(min=0), default=DEFAULT_SEED, show_default=True)
@click.option("--trainees", type=click.IntRange(min=0, max=200), default=4, show_default=True,
              help="Simulated trainees to release, autograde and compare (0: world only).")
@click.option("--exam", "exam", is_flag=True,
              help="Run the exam path instead: blueprint → packs → open → collect → grade → "
                   "report for 4 simulated candidates (into OUT/exam-demo).")
@click.option("--blueprint", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --exam: the exam blueprint (default course/exams/default.yaml; "
                   "course/exams/full.yaml covers all ten competency units).")
def demo(out: Path, n_orders: int, seed: int, trainees: int, exam: bool = False,
         blueprint: Path | None = None) -> None:
    """Run the instructor path end to end on built-in defaults.

    Simulate a world and write it as a dataset with its data dictionary and labels; check the
    00-orientation exercises; simulate a cohort of trainees with personal datasets; release
    the assignment per trainee; grade the cohort with `cbec grade` (sandboxed, parallel,
    nbgrader gradebook, feedback pages) and compare the scores with the simulated answers.
    """
    from cbec_sim.generate import generate
    from cbec_sim.validate import validate_world

    if out.exists() and not out.is_dir():
        raise CbecError(f"--out {out} is a file; give a folder path")
    if blueprint is not None and not exam:
        raise CbecError("--blueprint goes with --exam (cbec demo --exam --blueprint FILE)")
    if exam:
        from graders.exam.demo import BLUEPRINT, echo_exam_demo

        if blueprint is not None and not blueprint.is_file():
            raise CbecError(f"--blueprint {blueprint}: no such file; give an exam blueprint "
                            "YAML such as course/exams/full.yaml")
        try:
            echo_exam_demo(out / "exam-demo", click.echo, blueprint or BLUEPRINT)
        except Exception as exc:  # surfaced as one line by the CLI
            raise CbecError(f"demo --exam: {exc}") from exc
        return
    t0 = time.perf_counter()
    world = generate(n_orders, rng=seed)
    ds = out / "dataset"
    world.to_parquet(ds, with_labels=True)
    problems = validate_world(world)
    if problems:
        raise CbecError(f"demo world failed validation: {problems[0]}")
    secs = time.perf_counter() - t0
    rows = sum(len(df) for df in world.tables.values())
    click.echo(f"cbec demo: simulated {len(world.orders):,} orders in {len(world.tables)} "
               f"tables ({rows:,} rows) in {secs:.1f} s")
    click.echo(f"  dataset:          {ds}/")
    click.echo(f"  data dictionary:  {ds}/DATA-DICTIONARY.md")
    click.echo(f"  ground truth:     {ds}/labels/ (instructor only)")

    if trainees:
        from graders.demo import run_course_part

        try:
            r = run_course_part(out, trainees=trainees, echo=click.echo)
        except Exception as exc:  # surfaced as one line by the CLI
            raise CbecError(f"demo: {exc}") from exc
        click.echo(f"  course copy:      {r.course}/  (gradebook.db, autograded/, audit/)")
        click.echo(f"  feedback pages:   {r.feedback}/<student>/00-orientation/feedback.html")
        click.echo(f"  per-trainee release: {r.release}/")
        click.echo(f"  simulated cohort: {r.cohort}/  (submitted/, truth.csv)")
        if r.reports:
            click.echo(f"  cohort dashboard: {r.reports[0]}")
            for page in r.reports[1:]:
                click.echo(f"  trainee report:   {page}")
        if r.mismatches:
            raise CbecError(f"demo: grading disagrees with the simulated answers on "
                            f"{len(r.mismatches)} items; first: {r.mismatches[0]}")
