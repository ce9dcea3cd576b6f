"""`cbec course release`: nbgrader's release plus a personal dataset for every trainee."""

from __future__ import annotations

from pathlib import Path

import click

from graders.cli._base import CbecError, progress
from graders.cli.course import course_dir, course_opt


@click.command("release")
@click.argument("assignment")
@click.option("--roster", type=click.Path(path_type=Path),
              help="CSV with a header row and an 'id' column (optional first_name, last_name, "
                   "email). Without it only nbgrader's release is made (default dataset).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Where trainee folders and zips go (default: <course>/release-trainees).")
@course_opt
def course_release(assignment: str, roster: Path | None, out: Path | None,
                   course: Path | None) -> None:
    """Release an assignment with a personal dataset for every trainee.

    \b
    Runs `nbgrader generate_assignment --force`, adds the roster to the gradebook and writes
    <out>/<assignment>/<trainee>/ (the released files + data/) and <trainee>.zip for the LMS.
    Seeds come from the course secret ($CBEC_COURSE_SECRET or <course>/.cbec-secret, created
    on first use); <course>/variants/<assignment>.csv records dataset fingerprints."""
    from graders.release import release
    from graders.variants import VariantError

    root = course_dir(course)
    if roster is not None and not roster.is_file():
        raise CbecError(f"roster file {roster} does not exist; give a CSV with an 'id' column")
    try:
        res = release(root, assignment, roster, out, progress=progress)
    except VariantError as exc:
        raise CbecError(str(exc)) from None
    if res.secret_created:
        click.echo(f"note: created the course secret {res.secret_created} (mode 0600); keep it "
                   "private and back it up: trainee datasets are re-derived from it", err=True)
    click.echo(f"nbgrader release: {res.released}")
    if res.out is None:
        click.echo("no roster: trainees use the default dataset (self-study)")
        return
    click.echo(f"{len(res.trainees)} trainee folders and zips: {res.out}")
    click.echo(f"dataset fingerprints (instructor only): {res.variants}")
