"""`cbec course`: sync, build, check, release and coverage of the nbgrader course."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from graders.cli._base import CbecError, existing_dir

CONFIG = "nbgrader_config.py"


def _not_yet(feature: str) -> None:
    raise CbecError(f"{feature} is not available in this version yet (see the README roadmap)")


def course_dir(course: Path | None) -> Path:
    """The nbgrader course folder: ``--course``, else the current folder when it has an
    nbgrader_config.py, else ``./course`` when that has one (so commands work from the repository
    root); otherwise a one-line error."""
    if course is not None:
        root = existing_dir(course, "course folder")
        if not (root / CONFIG).is_file():
            raise CbecError(f"no nbgrader course in {root} (no {CONFIG}); pass the course "
                            "folder with --course DIR")
        return root
    cwd = Path.cwd()
    for cand in (cwd, cwd / "course"):
        if (cand / CONFIG).is_file():
            return cand
    raise CbecError(f"no nbgrader course in {cwd} or {cwd / 'course'} (no {CONFIG}); run from "
                    "a course folder or pass --course DIR")


_course_dir = course_dir

course_opt = click.option("--course", type=click.Path(path_type=Path),
                          help="nbgrader course folder (default: current folder if it has "
                               "nbgrader_config.py, else ./course).")
assignment_arg = click.argument("assignment", required=False)


def _library_errors(fn):
    """Run ``fn`` turning the course library's one-line errors into CbecError."""
    from graders.course_build import CourseError
    from graders.curriculum import CurriculumError

    try:
        return fn()
    except (CourseError, CurriculumError) as exc:
        raise CbecError(str(exc)) from None


def _rel(path: Path, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


@click.group()
def course() -> None:
    """Sync, check, build, release the nbgrader course and report its coverage.

    \b
    The authoring cycle (see course/AUTHORING.md):
      cbec course sync      expand %setup / %exercise placeholders in the masters
      cbec course check     lint and run every exercise on a few simulated worlds
      cbec course build     generate the trainee notebooks in notebooks/
    """


@course.command("sync")
@assignment_arg
@course_opt
def course_sync(assignment: str | None, course: Path | None) -> None:
    """Update the generated cells of the master notebooks from the exercise definitions."""
    from graders import course_build

    root = _course_dir(course)
    results = _library_errors(lambda: course_build.sync(root, assignment))
    if not results:
        click.echo(f"no master notebooks in {root / 'source'}")
        return
    for r in results:
        click.echo(f"{_rel(r.master.path, root)}: {r.describe()}")
    n = sum(r.changed for r in results)
    click.echo(f"{n} of {len(results)} notebook(s) updated")


@course.command("build")
@assignment_arg
@course_opt
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Where the trainee notebooks go (default: notebooks/ beside the course).")
def course_build(assignment: str | None, course: Path | None, out: Path | None) -> None:
    """Generate the released trainee notebooks with nbgrader (byte-identical on rebuild)."""
    from graders import course_build as lib

    root = _course_dir(course)
    if out is not None and out.exists() and not out.is_dir():
        raise CbecError(f"--out {out} is a file; give a folder path")
    t0 = time.perf_counter()
    result = _library_errors(lambda: lib.build(root, out, assignment))
    for p in result.written:
        click.echo(f"wrote   {p}")
    for p in result.removed:
        click.echo(f"removed {p}")
    click.echo(f"{len(result.modules)} module(s) built into {result.out} in "
               f"{time.perf_counter() - t0:.1f} s: {len(result.written)} file(s) written, "
               f"{len(result.removed)} removed, {result.unchanged} unchanged")


@course.command("check")
@assignment_arg
@course_opt
@click.option("--seeds", type=click.IntRange(min=1), default=3, show_default=True,
              help="Simulated worlds each exercise is run on.")
@click.option("--execute", is_flag=True,
              help="Also run every master notebook in a kernel on the default dataset.")
def course_check(assignment: str | None, course: Path | None, seeds: int,
                 execute: bool) -> None:
    """Check every exercise: lints, solution passes, starter and known mistakes fail."""
    from graders import course_check as lib

    root = _course_dir(course)
    t0 = time.perf_counter()
    report = _library_errors(lambda: lib.check_course(root, assignment, seeds,
                                                      execute=execute))
    secs = time.perf_counter() - t0
    click.echo(render_check(report, root))
    problems = report.problems
    click.echo(f"\n{len(report.items)} exercise(s), {sum(i.ok for i in report.items)} ok; "
               f"{len(report.seeds)} seed(s) of {lib.WORLD_ORDERS} orders; "
               f"{len(report.notebooks)} notebook(s) executed; {len(problems)} problem(s); "
               f"{secs:.1f} s")
    if problems:
        more = f" (and {len(problems) - 1} more problem(s) above)" if len(problems) > 1 else ""
        raise CbecError(f"course check failed: {problems[0]}{more}")


def render_check(report, root: Path) -> str:
    """The check report as a compact table."""
    width = max([len("exercise"), *(len(i.id) for i in report.items)])
    lines = [f"{'exercise':<{width}}  {'seeds':>5}  problems"]
    for it in report.items:
        first = it.problems[0] if it.problems else "-"
        more = f" (+{len(it.problems) - 1} more)" if len(it.problems) > 1 else ""
        lines.append(f"{it.id:<{width}}  {f'{it.seeds_ok}/{it.seeds}':>5}  {first}{more}")
    if not report.items:
        lines.append("(no exercises)")
    if report.course_problems:
        lines += ["", "course:"] + [f"  {p}" for p in report.course_problems]
    if report.notebooks:
        w = max(len("notebook"), *(len(_rel(nb.path, root)) for nb in report.notebooks))
        lines += ["", f"{'notebook':<{w}}  {'seconds':>7}  problems"]
        for nb in report.notebooks:
            first = nb.problems[0].split(": ", 1)[-1] if nb.problems else "-"
            more = f" (+{len(nb.problems) - 1} more)" if len(nb.problems) > 1 else ""
            lines.append(f"{_rel(nb.path, root):<{w}}  {nb.seconds:>7.1f}  {first}{more}")
    return "\n".join(lines)


@course.command("coverage")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@course_opt
def course_coverage(as_json: bool, course: Path | None) -> None:
    """Items and points per stage of the standard and per Table 1 task."""
    from graders import coverage as lib

    root = _course_dir(course)
    cov = _library_errors(lambda: lib.course_coverage(root))
    if as_json:
        click.echo(json.dumps(cov.as_json(), ensure_ascii=False, indent=1))
    else:
        click.echo(lib.render(cov))


from graders.cli.release import course_release  # noqa: E402

course.add_command(course_release, "release")
