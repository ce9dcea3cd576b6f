"""What a report reads from a course: gradebook scores, submissions, students, the audit
records of ``cbec grade`` and practice telemetry — with one-line errors for what is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from graders.analytics import scores as S


class ReportError(ValueError):
    """A report that cannot be made as asked (one line: what is missing and what to do)."""


@dataclass
class CourseData:
    course: Path
    db_url: str
    course_id: str
    scores: pd.DataFrame  # graded cells of the chosen assignments (load_scores)
    submissions: pd.DataFrame  # load_submissions
    students: pd.DataFrame  # load_students (every student of the gradebook)
    assignments: list[str]  # the chosen assignments that have submissions
    audit: list[dict[str, Any]] = field(default_factory=list)  # cbec grade's audit records
    audit_source: str = ""  # where the audit records came from ("" when none)
    telemetry: pd.DataFrame | None = None  # per (student, assignment, exercise); None: no log
    unit_titles: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → (cn, en)

    def name(self, student: str) -> str:
        """The trainee's name from the gradebook ("Last First"), else ""."""
        row = self.students[self.students["student"] == student]
        if row.empty:
            return ""
        parts = [row.iloc[0][c] for c in ("last_name", "first_name")]
        return " ".join(str(p) for p in parts if isinstance(p, str) and p)


def _sqlite_file(url: str) -> Path | None:
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):])
    return None


def _audit_records(course: Path, db_url: str, assignments: list[str]
                   ) -> tuple[list[dict[str, Any]], str]:
    """Audit records from the gradebook's ``cbec_audit`` table, else ``audit/*.jsonl``."""
    from sqlalchemy import create_engine, inspect

    from graders.analytics.items import read_audit_jsonl
    from graders.grading import audit

    engine = create_engine(db_url, future=True)
    try:
        has_table = inspect(engine).has_table(audit.TABLE)
    finally:
        engine.dispose()
    wanted = set(assignments)
    if has_table:
        rows = [r for r in audit.read_table(db_url) if r.get("assignment") in wanted]
        if rows:
            return rows, f"table {audit.TABLE}"
    recs: list[dict[str, Any]] = []
    for a in assignments:
        path = audit.audit_path(course, a)
        if path.is_file():
            try:
                recs += read_audit_jsonl(path)
            except ValueError as exc:
                raise ReportError(f"{path}: not JSON Lines ({exc}); fix or remove the "
                                  "file") from None
    return recs, ("audit/*.jsonl" if recs else "")


def unit_titles(course: Path) -> dict[str, tuple[str, str]]:
    """Competency unit id → (title_cn, title_en) from the course's curriculum.yaml (the kit's
    own when the course has none; empty when it cannot be read)."""
    from graders.variants import VariantError, curriculum

    try:
        data = curriculum(Path(course))
        if data is None:
            data = curriculum(Path(__file__).resolve().parents[2] / "course") or {}
    except (OSError, VariantError):
        return {}
    return {str(u.get("id")): (str(u.get("title_cn", "")), str(u.get("title_en", "")))
            for u in data.get("competency_units") or [] if isinstance(u, dict)}


def load_course(course: str | os.PathLike, *, assignments: Iterable[str] | None = None,
                db_url: str | None = None) -> CourseData:
    """Everything the reports need from ``course``'s gradebook (``db_url`` overrides the
    course's). Raises :class:`ReportError` for a missing gradebook, an unknown assignment or
    a gradebook without graded submissions."""
    from graders.nbg import gradebook_url

    course = Path(course)
    url, course_id = gradebook_url(course)
    url = db_url or url
    db_file = _sqlite_file(url)
    if db_file is not None and not db_file.is_file():
        raise ReportError(f"no gradebook: {db_file} does not exist (grade the course first "
                          "with `cbec grade ASSIGNMENT`)")
    wanted = list(assignments) if assignments is not None else None
    try:
        scores = S.load_scores(url, course_id, assignments=wanted)
        subs = S.load_submissions(url, course_id, assignments=wanted)
        students = S.load_students(url, course_id)
    except KeyError as exc:
        raise ReportError(f"{exc.args[0]}; check the assignment name") from None
    except Exception as exc:  # SQLAlchemy: unreachable server, not a gradebook, …
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ReportError(f"cannot read the gradebook {_safe_url(url)}: {first}") from None
        raise
    if subs.empty:
        which = f"assignment {', '.join(wanted)}" if wanted else "any assignment"
        raise ReportError(f"the gradebook {_safe_url(url)} has no graded submissions for "
                          f"{which}; grade them first with `cbec grade ASSIGNMENT`")
    names = list(dict.fromkeys(subs["assignment"].astype(str)))
    audit, source = _audit_records(course, url, names)
    tel = None
    submitted = course / "submitted"
    if submitted.is_dir():
        frames = [S.load_attempts(submitted, assignment=a) for a in names]
        events = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if not events.empty:
            tel = S.telemetry(events)
    return CourseData(course, url, course_id, scores, subs, students, names, audit, source,
                      tel, unit_titles(course))


def _safe_url(url: str) -> str:
    """``url`` without a password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a SQLAlchemy URL: show as given
        return url
