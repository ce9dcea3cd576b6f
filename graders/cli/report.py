"""``cbec report``: trainee competency reports, the cohort dashboard and grade exports.

Thin wrappers over :mod:`graders.reports` and :mod:`graders.analytics.export`; every problem
is one line on stderr with exit status 2.
"""

from __future__ import annotations

from pathlib import Path

import click

from graders.cli._base import CbecError
from graders.cli.course import course_dir, course_opt

out_opt = click.option("--out", type=click.Path(path_type=Path),
                       help="Output folder (default: the course's reports/).")
db_opt = click.option("--db", help="Gradebook SQLAlchemy URL (default: the course's).")


def _mastery(thresholds: str | None):
    """``--thresholds BASIC,PROFICIENT`` (shares 0–1, or percents 0–100) as a Mastery."""
    from graders.analytics.competency import Mastery

    if not thresholds:
        return Mastery()
    parts = [p.strip() for p in thresholds.split(",")]
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        vals = []
    if len(vals) != 2:
        raise CbecError(f"--thresholds {thresholds!r}: give two numbers BASIC,PROFICIENT, "
                        "e.g. 0.5,0.8 (or 50,80)")
    if any(v > 1 for v in vals):
        vals = [v / 100.0 for v in vals]
    try:
        return Mastery(basic=vals[0], proficient=vals[1])
    except ValueError as exc:
        raise CbecError(f"--thresholds {thresholds!r}: {exc}") from None


def _run(fn):
    from graders.analytics.export import ExportError
    from graders.reports import ReportError

    try:
        return fn()
    except (ReportError, ExportError) as exc:
        raise CbecError(str(exc)) from None


@click.group()
def report() -> None:
    """Competency reports, cohort dashboards, item analysis and LMS exports.

    \b
    cbec report trainee sim-001          one trainee's competency report (HTML + CSV)
    cbec report trainee --all            every trainee with scores
    cbec report cohort 00-orientation    dashboard with item analysis of one assignment
    cbec report cohort --course-wide     … of every graded assignment
    cbec report export --format moodle --out grades.csv
    """


@report.command("trainee")
@click.argument("student", required=False)
@click.option("--all", "all_", is_flag=True, help="Every trainee with graded submissions.")
@click.option("--assignment", help="Only this assignment (default: all graded ones).")
@click.option("--thresholds", metavar="BASIC,PROFICIENT",
              help="Mastery thresholds as shares of a stage's points (default 0.5,0.8).")
@out_opt
@db_opt
@course_opt
def report_trainee(student: str | None, all_: bool, assignment: str | None,
                   thresholds: str | None, out: Path | None, db: str | None,
                   course: Path | None) -> None:
    """Competency report for trainee STUDENT (or --all): points and mastery per stage
    5.1–5.18, per Table 1 task and competency unit, a stage chart, the items missed with the
    known mistake and the notebook section to revisit. Writes <out>/trainees/<student>.html
    and .csv (stage points; with --all also stage_points.csv for everyone)."""
    from graders.reports import trainee_reports

    if bool(student) == all_:
        raise CbecError("give one trainee id or --all (not both)")
    mastery = _mastery(thresholds)
    root = course_dir(course)
    pages = _run(lambda: trainee_reports(root, out, students=None if all_ else [student],
                                         assignment=assignment, mastery=mastery, db_url=db))
    for p in pages:
        click.echo(f"trainee report: {p}")
    click.echo(f"stage points CSV: {pages[0].parent}/<student>.csv"
               + (f" and {pages[0].parent / 'stage_points.csv'}" if len(pages) > 1 else ""))


@report.command("cohort")
@click.argument("assignment", required=False)
@click.option("--course-wide", is_flag=True, help="Every graded assignment of the course.")
@click.option("--thresholds", metavar="BASIC,PROFICIENT",
              help="Mastery thresholds as shares of a stage's points (default 0.5,0.8).")
@out_opt
@db_opt
@course_opt
def report_cohort(assignment: str | None, course_wide: bool, thresholds: str | None,
                  out: Path | None, db: str | None, course: Path | None) -> None:
    """Cohort dashboard of ASSIGNMENT (or --course-wide): score distribution, mastery heat map
    (trainees × stages), practice telemetry, item analysis (facility, point-biserial,
    corrected item-total, upper–lower 27 %, Cronbach's α, flags, top known mistakes).
    Writes <out>/cohort-<assignment|course>.html with -stages.csv and -items.csv."""
    from graders.reports import cohort_dashboard

    if bool(assignment) == course_wide:
        raise CbecError("give one ASSIGNMENT or --course-wide (not both)")
    mastery = _mastery(thresholds)
    root = course_dir(course)
    paths = _run(lambda: cohort_dashboard(root, out, assignment=assignment, mastery=mastery,
                                          db_url=db))
    click.echo(f"cohort dashboard: {paths['html']}")
    click.echo(f"stage points CSV: {paths['stages_csv']}")
    click.echo(f"item analysis CSV: {paths['items_csv']}")


@report.command("export")
@click.option("--format", "fmt", type=click.Choice(["moodle", "canvas", "long"]),
              required=True, help="moodle/canvas: grade-import CSV; long: item scores.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write (.csv; .parquet for long with --parquet).")
@click.option("--parquet", is_flag=True, help="long: write Parquet instead of CSV.")
@click.option("--assignment", "assignments", multiple=True,
              help="Only this assignment (repeatable; default: all).")
@click.option("--identifier", type=click.Choice(["ID number", "Email address"]),
              default="ID number", show_default=True, help="moodle: the user-matching column.")
@click.option("--id-from", type=click.Choice(["student", "lms_user_id"]), default="student",
              show_default=True, help="moodle ID number: nbgrader student id or LMS id.")
@click.option("--canvas-id", "canvas_ids", multiple=True, metavar="ASSIGNMENT=ID",
              help="canvas: the Canvas assignment id of an assignment (repeatable).")
@click.option("--section", default="", help="canvas: the Section column.")
@db_opt
@course_opt
def report_export(fmt: str, out: Path, parquet: bool, assignments: tuple[str, ...],
                  identifier: str, id_from: str, canvas_ids: tuple[str, ...], section: str,
                  db: str | None, course: Path | None) -> None:
    """Export grades for Moodle or Canvas import, or item scores in long format.

    moodle: identifier column, First name, Last name, one column per assignment (final score
    = raw − late penalty; empty when not submitted). canvas: Student, ID, SIS User ID, SIS
    Login ID, Section, one column per assignment and a Points Possible row. long: one row per
    trainee × graded cell with stage, tasks, unit and difficulty. `nbgrader export` keeps
    working on the same gradebook.
    """
    from graders.reports import check_out

    if parquet and fmt != "long":
        raise CbecError("--parquet only applies to --format long")
    if parquet and out.suffix != ".parquet":
        raise CbecError(f"--out {out}: with --parquet give a .parquet file name")
    if fmt == "long" and not parquet and out.suffix != ".csv":
        raise CbecError(f"--out {out}: give a .csv file name (or --parquet and .parquet)")
    if fmt != "long" and out.suffix != ".csv":
        raise CbecError(f"--out {out}: {fmt} imports a .csv file; give a .csv file name")
    if out.is_dir():
        raise CbecError(f"--out {out} is a folder; give a file name")
    ids: dict[str, str] = {}
    for item in canvas_ids:
        name, sep, cid = item.partition("=")
        if not sep or not name.strip() or not cid.strip():
            raise CbecError(f"--canvas-id {item!r}: write ASSIGNMENT=ID, e.g. 00-orientation=4711")
        ids[name.strip()] = cid.strip()
    root = course_dir(course)
    wanted = list(assignments) or None

    def work() -> Path:
        from graders.analytics import export as E
        from graders.analytics import scores as S
        from graders.reports import load_course

        data = load_course(root, assignments=wanted, db_url=db)
        check_out(out.parent if str(out.parent) else Path("."))
        if fmt == "long":
            return E.write_item_scores(data.scores, out)
        names = wanted or list(S.load_assignments(data.db_url, data.course_id)["assignment"])
        if fmt == "moodle":
            return E.moodle_csv(out, data.submissions, data.students, identifier=identifier,
                                id_from=id_from, assignments=names)
        maxima = S.load_assignments(data.db_url, data.course_id)
        points = dict(zip(maxima["assignment"], maxima["max_score"], strict=True))
        unknown = sorted(set(ids) - set(names))
        if unknown:
            raise E.ExportError(f"--canvas-id names {', '.join(unknown)}, not an exported "
                                "assignment")
        return E.canvas_csv(out, data.submissions, data.students, points, canvas_ids=ids,
                            section=section, assignments=names)

    path = _run(work)
    click.echo(f"{fmt} export: {path}")
