"""Exam timing on the server: ``cbec exam open`` and ``cbec exam collect``.

Only the server's clock counts. ``open`` records the window start; the deadline is start +
duration, late means received after deadline + grace. ``collect`` reads the inbox (never
writes, renames or touches a file there), copies each candidate's notebook into
``<exam>/submissions/<cid>/<sha256[:16]>.ipynb`` and records per candidate the sha256 and the
**receipt time = the server time at which collect first saw that content**. Notebook metadata
and file modification times come from the candidate's side and are never used (the file's
inode change time is recorded for information only). Run ``collect`` as often as you like
during the window (e.g. every minute from cron, or from the upload hook): the same content
keeps its first receipt time; changed content is a resubmission with a new receipt time,
and the last one received counts. After the window, candidates without a submission are
``missing``.

Inbox layout: ``INBOX/<cid>/exam.ipynb`` (an unpacked pack) or ``INBOX/<cid>.ipynb``.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from graders.exam.blueprint import ExamError
from graders.exam.forms import iso, now_utc, parse_iso, read_manifest, write_manifest

MAX_BYTES = 100 * 1024 * 1024


def open_exam(exam_dir: str | os.PathLike, *, now: datetime | None = None) -> dict[str, Any]:
    """Record the window start (server clock) once; returns the window."""
    m = read_manifest(exam_dir)
    w = m["window"]
    if w.get("opened_at"):
        raise ExamError(f"{exam_dir}: the exam was already opened at {w['opened_at']}; the "
                        "window start cannot move (build a new exam for a new sitting)")
    start = (now or now_utc()).replace(microsecond=0)
    bp = m["blueprint"]
    deadline = start + timedelta(minutes=float(bp["duration_minutes"]))
    grace = deadline + timedelta(minutes=float(bp["late"]["grace_minutes"]))
    m["window"] = {"opened_at": iso(start), "deadline": iso(deadline), "grace_until": iso(grace)}
    write_manifest(exam_dir, m)
    return m["window"]


def _find(inbox: Path, cid: str) -> Path | None:
    for p in (inbox / cid / "exam.ipynb", inbox / f"{cid}.ipynb"):
        if p.is_file() and not p.is_symlink():
            return p
    folder = inbox / cid
    if folder.is_dir() and not folder.is_symlink():
        nbs = sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.is_symlink())
        if len(nbs) == 1:
            return nbs[0]
    return None


def status_of(rec: dict[str, Any] | None, window: dict[str, Any], now: datetime) -> str:
    """on_time | late | missing (window over, nothing received) | pending."""
    if rec is None:
        return "missing" if now > parse_iso(window["grace_until"]) else "pending"
    return "late" if parse_iso(rec["received_at"]) > parse_iso(window["grace_until"]) \
        else "on_time"


def collect(exam_dir: str | os.PathLike, inbox: str | os.PathLike, *,
            now: datetime | None = None) -> dict[str, Any]:
    """Copy new submissions in and record receipts; returns a summary
    ``{candidate: status}`` plus ``unknown`` (inbox entries that are no candidate)."""
    exam_dir = Path(exam_dir)
    inbox = Path(inbox)
    m = read_manifest(exam_dir)
    w = m["window"]
    if not w.get("opened_at"):
        raise ExamError(f"{exam_dir}: the exam has not been opened; run cbec exam open first")
    if not inbox.is_dir():
        raise ExamError(f"inbox {inbox} does not exist or is not a folder")
    t = (now or now_utc()).replace(microsecond=0)
    receipts = m.setdefault("receipts", {})
    summary: dict[str, Any] = {}
    for cid in m["candidates"]:
        p = _find(inbox, cid)
        rec = receipts.get(cid)
        if p is not None:
            st = os.stat(p)
            if st.st_size > MAX_BYTES:
                summary[cid] = "too_large"
                continue
            with open(p, "rb") as fh:  # read only: the inbox is never modified
                raw = fh.read(MAX_BYTES + 1)
            sha = hashlib.sha256(raw).hexdigest()
            if rec is None or rec["sha256"] != sha:
                dest = exam_dir / "submissions" / cid / f"{sha[:16]}.ipynb"
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(raw)
                history = (rec or {}).get("history", [])
                if rec is not None:
                    history = [*history, {k: rec[k] for k in ("sha256", "received_at", "file")}]
                rec = {"sha256": sha, "received_at": iso(t), "bytes": len(raw),
                       "file": str(dest.relative_to(exam_dir)),
                       "inbox_path": str(p.relative_to(inbox)),
                       "file_ctime": iso(datetime.fromtimestamp(st.st_ctime, t.tzinfo)),
                       "history": history}
                receipts[cid] = rec
        s = status_of(rec, w, t)
        if rec is not None:
            rec["status"] = s
        summary[cid] = s
    known = set(m["candidates"])
    unknown = sorted(e.name for e in inbox.iterdir()
                     if e.name.removesuffix(".ipynb") not in known and not e.name.startswith("."))
    m.setdefault("collections", []).append({"at": iso(t), "inbox": str(inbox.resolve())})
    write_manifest(exam_dir, m)
    return {"status": summary, "unknown": unknown}
