"""``cbec exam``: blueprints, parallel forms, self-contained packs, server-side timing,
secure grading and employer reports (the work lives in :mod:`graders.exam`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from graders.cli._base import CbecError, CbecGroup, progress
from graders.cli.course import course_dir, course_opt

T = TypeVar("T")


def _run(fn: Callable[[], T]) -> T:
    """Run library code, turning its one-line errors into CbecError."""
    from graders.exam.blueprint import ExamError
    from graders.grading.sandbox import SandboxError
    from graders.variants import VariantError

    try:
        return fn()
    except (ExamError, VariantError, SandboxError) as exc:
        raise CbecError(str(exc)) from None


def _course(course: Path | None) -> Path:
    return course_dir(course)


@click.group(cls=CbecGroup)
def exam() -> None:
    """Exam forms, self-contained exam packs, timing and candidate reports.

    \b
    cbec exam validate course/exams/default.yaml
    cbec exam build course/exams/default.yaml --candidates candidates.csv --out build/exam1
    cbec exam open build/exam1            # window starts now (server clock)
    cbec exam collect build/exam1 --from INBOX   # as often as you like; inbox is read only
    cbec exam grade build/exam1           # sandboxed; graders/cbec_sim not importable
    cbec exam report build/exam1          # report/: candidates.csv, cohort.html …"""


@exam.command("validate")
@click.argument("blueprint", type=click.Path(path_type=Path))
@course_opt
def exam_validate(blueprint: Path, course: Path | None) -> None:
    """Check a blueprint against the curriculum and the item bank."""
    from graders.exam.blueprint import load, validate

    root = _course(course)
    bp = _run(lambda: load(blueprint))
    summary = _run(lambda: validate(bp, root))
    click.echo(f"{blueprint}: ok — {bp.id}, {bp.duration_minutes:g} min, cut {bp.cut_score:g} %, "
               f"{sum(u.items for u in bp.units)} items, "
               f"{bp.forms or 'one per candidate'} form(s)")
    for uid, s in summary.items():
        u = bp.unit(uid)
        click.echo(f"  {uid:<16} weight {u.weight:<5g} {u.items} of {s['pool']} exam-ready "
                   f"items (difficulty {u.difficulty[0]}–{u.difficulty[1]}), cut {u.cut_score:g} %")


@exam.command("build")
@click.argument("blueprint", type=click.Path(path_type=Path))
@click.option("--candidates", type=click.Path(path_type=Path), required=True,
              help="CSV with a header row and an 'id' column (first_name, last_name, email "
                   "optional).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="New exam folder (packs/ for candidates, server/ stays with you).")
@click.option("--session", default=None, help="Sitting name in the dataset key "
                                              "(default: the --out folder's name).")
@click.option("--workers", type=click.IntRange(min=1, max=16), default=2, show_default=True)
@course_opt
def exam_build(blueprint: Path, candidates: Path, out: Path, session: str | None,
               workers: int, course: Path | None) -> None:
    """Assemble one form and one self-contained pack per candidate from a blueprint."""
    from graders.exam.forms import build

    for p, what in ((blueprint, "blueprint"), (candidates, "candidates file")):
        if not p.is_file():
            raise CbecError(f"{what} {p} does not exist")
    root = _course(course)
    m = _run(lambda: build(blueprint, candidates, out, course=root, session=session,
                           workers=workers, progress=progress))
    click.echo(f"built exam {m['exam']} (session {m['session']}): {len(m['candidates'])} "
               f"candidates on {len(m['forms'])} form(s)")
    click.echo(f"  packs (give each candidate their folder or zip): {out / 'packs'}/")
    click.echo(f"  server manifest (keep private): {out / 'server' / 'manifest.json'}")


@exam.command("open")
@click.argument("exam_dir", type=click.Path(file_okay=False, path_type=Path))
def exam_open(exam_dir: Path) -> None:
    """Start the exam window now (server clock)."""
    from graders.exam.timing import open_exam

    w = _run(lambda: open_exam(exam_dir))
    click.echo(f"opened {exam_dir}: start {w['opened_at']}, deadline {w['deadline']}, late "
               f"after {w['grace_until']}")


@exam.command("collect")
@click.argument("exam_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--from", "inbox", type=click.Path(path_type=Path), required=True,
              help="Inbox folder: <id>/exam.ipynb or <id>.ipynb per candidate (read only).")
def exam_collect(exam_dir: Path, inbox: Path) -> None:
    """Copy submissions in; record receipt time (server clock) and sha256; mark late/missing."""
    from collections import Counter

    from graders.exam.timing import collect

    r = _run(lambda: collect(exam_dir, inbox))
    counts = Counter(r["status"].values())
    click.echo("collected: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for cid, s in r["status"].items():
        if s in ("late", "missing", "too_large"):
            click.echo(f"  {cid}: {s}")
    if r["unknown"]:
        click.echo(f"  not candidates of this exam (ignored): {', '.join(r['unknown'][:10])}")


@exam.command("grade")
@click.argument("exam_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--timeout", type=click.FloatRange(min=5), default=300, show_default=True,
              help="Seconds per notebook.")
@click.option("--workers", type=click.IntRange(min=1, max=16), default=2, show_default=True)
@click.option("--force", is_flag=True,
              help="Grade although the window has not closed (no submission = missing).")
def exam_grade(exam_dir: Path, timeout: float, workers: int, force: bool) -> None:
    """Grade collected submissions in the sandbox against each candidate's own dataset."""
    from graders.exam.grade import grade

    r = _run(lambda: grade(exam_dir, timeout=timeout, workers=workers, force=force))
    for g in r["grades"]:
        pts = sum(i["points"] or 0 for i in g["items"])
        mx = sum(i["max_points"] for i in g["items"])
        click.echo(f"  {g['student']}: {pts:g}/{mx:g} ({g['status']})"
                   + (f" — {'; '.join(g['flags'])}" if g["flags"] else ""))
    click.echo(f"results: {exam_dir / 'server' / 'results.json'}; audit: "
               f"{exam_dir / 'server' / 'audit.jsonl'}")


@exam.command("report")
@click.argument("exam_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--norm", type=click.Path(path_type=Path), default=None,
              help="Norm group CSV with a 'score' column (default: percentiles in this cohort).")
def exam_report(exam_dir: Path, norm: Path | None) -> None:
    """Candidate reports for employers (HTML + CSV) and the cohort summary."""
    from graders.exam.report import write_report

    p = _run(lambda: write_report(exam_dir, norm))
    click.echo(f"cohort summary: {p['cohort_html']}")
    click.echo(f"candidate pages: {p['candidate_pages']}/<id>.html")
    click.echo(f"tables: {p['candidates_csv']}, {p['items_csv']}, {p['forms_csv']}")
