"""Audit records of ``cbec grade``: who got which score from what, when, where and with which
software.

:func:`write_audit` turns a list of :class:`~graders.grading.results.NotebookGrade` into one
record per item score (a notebook without items — missing, not a notebook, … — gets one
notebook-level record with ``grade_id`` ``""``, so its outcome is on file too) and

* appends them as JSON Lines to ``<course>/audit/<assignment>.jsonl`` (an append-only history:
  a record identical to one already in the file is not written again, so repeating a write
  adds nothing, while a real regrade — new start/end times — adds its lines);
* stores them in the table ``cbec_audit`` of the gradebook's database (SQLAlchemy Core,
  created when missing; SQLite, PostgreSQL, …), one row per
  ``(student, assignment, notebook, grade_id, submission_sha256)``: regrading the same
  submission updates that row instead of adding one; a new submission gets its own rows.

A record holds the submission's sha256, the dataset hash (sha256 of the dataset manifest —
never the seed), grader and package versions, start/end times, seconds, worker, the run
outcome and diagnosis, the item's status, points and known mistake, and the integrity flags.
Feedback messages are not copied (they are in the feedback pages).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    and_,
    create_engine,
    inspect,
    select,
)

from graders.grading.results import NotebookGrade
from graders.nbg import gradebook_url, nbgrader_env

AUDIT_DIR = "audit"
TABLE = "cbec_audit"
KEY = ("student", "assignment", "notebook", "grade_id", "submission_sha256")

metadata = MetaData()
audit_table = Table(
    TABLE, metadata,
    Column("student", String(128), nullable=False),
    Column("assignment", String(128), nullable=False),
    Column("notebook", String(128), nullable=False),
    Column("grade_id", String(128), nullable=False),
    Column("submission_sha256", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("exercise", String(128)),
    Column("max_points", Float, nullable=False),
    Column("points", Float),
    Column("status", String(64), nullable=False),
    Column("mistake", String(128)),
    Column("outcome", String(64), nullable=False),
    Column("diagnosis", Text, nullable=False),
    Column("flags", Text, nullable=False),  # JSON list
    Column("dataset_hash", String(64), nullable=False),
    Column("versions", Text, nullable=False),  # JSON object, sorted keys
    Column("started", String(40), nullable=False),
    Column("finished", String(40), nullable=False),
    Column("seconds", Float, nullable=False),
    Column("worker", String(128), nullable=False),
    PrimaryKeyConstraint(*KEY, name="cbec_audit_pk"),
)
COLUMNS = tuple(c.name for c in audit_table.columns)


def records(grades: Iterable[NotebookGrade]) -> list[dict[str, Any]]:
    """One plain record per item score (one per notebook without items)."""
    out: list[dict[str, Any]] = []
    for g in grades:
        base = {"student": g.student, "assignment": g.assignment, "notebook": g.notebook,
                "submission_sha256": g.submission_sha256, "outcome": g.status,
                "diagnosis": g.diagnosis, "flags": list(g.flags),
                "dataset_hash": g.dataset_hash,
                "versions": {str(k): str(v) for k, v in sorted(g.versions.items())},
                "started": g.started, "finished": g.finished, "seconds": float(g.seconds),
                "worker": g.worker}
        items = [{"grade_id": i.grade_id, "kind": i.kind, "exercise": i.exercise,
                  "max_points": float(i.max_points),
                  "points": None if i.points is None else float(i.points),
                  "status": i.status, "mistake": i.mistake} for i in g.items]
        if not items:
            items = [{"grade_id": "", "kind": "notebook", "exercise": None,
                      "max_points": 0.0, "points": 0.0, "status": g.status, "mistake": None}]
        for item in items:
            rec = {**base, **item}
            out.append({c: rec[c] for c in COLUMNS})
    return out


def _row(rec: dict[str, Any]) -> dict[str, Any]:
    row = dict(rec)
    row["flags"] = json.dumps(rec["flags"], ensure_ascii=False)
    row["versions"] = json.dumps(rec["versions"], ensure_ascii=False, sort_keys=True)
    return row


def _line(rec: dict[str, Any]) -> str:
    return json.dumps(rec, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def audit_path(course: Path, assignment: str) -> Path:
    return Path(course) / AUDIT_DIR / f"{assignment}.jsonl"


def _append_jsonl(path: Path, recs: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    if path.is_file():
        seen = {ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()}
    new = []
    for rec in recs:
        line = _line(rec)
        if line not in seen:
            seen.add(line)
            new.append(line)
    if new:
        with open(path, "a", encoding="utf-8", newline="\n") as fh:
            fh.write("".join(ln + "\n" for ln in new))


def _ensure_gradebook(engine: Any, db_url: str) -> None:
    """Let nbgrader create a new database first: a database that already has tables is taken
    by nbgrader as an existing gradebook and would never get its ``alembic_version``."""
    if "assignment" in inspect(engine).get_table_names():
        return
    from nbgrader.api import Gradebook

    old = os.environ.get("PATH")
    os.environ["PATH"] = nbgrader_env()["PATH"]  # nbgrader runs `alembic` for a new gradebook
    try:
        Gradebook(db_url).close()
    finally:
        if old is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = old


def store(db_url: str, recs: list[dict[str, Any]]) -> None:
    """Upsert ``recs`` into ``cbec_audit`` (created when missing), one transaction."""
    engine = create_engine(db_url, future=True)
    try:
        _ensure_gradebook(engine, db_url)
        metadata.create_all(engine, tables=[audit_table], checkfirst=True)
        with engine.begin() as conn:
            for rec in recs:
                row = _row(rec)
                where = and_(*(audit_table.c[k] == row[k] for k in KEY))
                old = conn.execute(select(audit_table).where(where)).mappings().first()
                if old is None:
                    conn.execute(audit_table.insert().values(**row))
                elif any(old[c] != row[c] for c in COLUMNS):
                    conn.execute(audit_table.update().where(where).values(**row))
    finally:
        engine.dispose()


def read_table(db_url: str, assignment: str | None = None) -> list[dict[str, Any]]:
    """The stored audit rows (flags and versions decoded), in key order."""
    engine = create_engine(db_url, future=True)
    try:
        q = select(audit_table).order_by(*(audit_table.c[k] for k in KEY))
        if assignment is not None:
            q = q.where(audit_table.c.assignment == assignment)
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
    finally:
        engine.dispose()
    for r in rows:
        r["flags"] = json.loads(r["flags"])
        r["versions"] = json.loads(r["versions"])
    return rows


def write_audit(course: Path, grades: list[NotebookGrade], *, db_url: str | None = None,
                assignment: str | None = None) -> Path:
    """Append the audit records of ``grades`` (one assignment) to
    ``<course>/audit/<assignment>.jsonl`` and store them in ``cbec_audit`` of the gradebook's
    database (``db_url``, default the course's). Returns the JSON Lines file."""
    course = Path(course).resolve()
    names = sorted({g.assignment for g in grades} | ({assignment} if assignment else set()))
    if len(names) != 1:
        raise ValueError("write_audit takes the grades of one assignment "
                         f"(got {', '.join(names) or 'none'})")
    url = db_url or gradebook_url(course)[0]
    recs = records(grades)
    path = audit_path(course, names[0])
    store(url, recs)
    _append_jsonl(path, recs)
    return path
