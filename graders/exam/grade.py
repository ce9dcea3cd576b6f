"""Grading exam submissions with the secure grader: ``cbec exam grade``.

Per collected submission:

1. **integrity**: the issued notebook (``server/notebooks/<cid>.ipynb``) is the reference; the
   setup cell is put back as issued when it was edited or deleted (flag ``repaired``); the
   candidate's answer cells and own extra code cells are kept in their order;
2. **dataset**: the candidate's world is re-derived from the course secret
   (``exam:<id>:<session>`` key) and written with the pack writer; its fingerprint must equal
   the one recorded at build (else the item scores are withheld with a clear diagnosis);
3. **run**: :func:`graders.grading.run_notebook` with ``isolate=True`` — bubblewrap sandbox,
   no network, neither ``graders`` nor ``cbec_sim`` importable in the kernel, the exam folder,
   course and secret hidden; answers come back as plain data (JSON/Parquet);
4. **score**: each item of the candidate's form is judged by :meth:`Exercise.evaluate` in the
   grader's process against the re-derived world;
5. **audit**: one record per item (``graders.grading.audit.records``) appended to
   ``server/audit.jsonl``; its reference (sha256 of the record, 16 hex) goes with the score.

Late policy (blueprint): ``reject`` → not run, 0 points; ``penalise`` → the overall score is
reduced by the penalty percent; ``accept-with-flag`` → scored normally, flagged.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graders.exam.blueprint import ExamError
from graders.exam.forms import dataset_key, read_manifest, write_manifest

RESULTS = "server/results.json"
AUDIT = "server/audit.jsonl"


def _source(c: dict) -> str:
    s = c.get("source", "")
    return s if isinstance(s, str) else "".join(s)


def _role(c: dict) -> str | None:
    md = c.get("metadata") if isinstance(c.get("metadata"), dict) else {}
    cb = md.get("cbec") if isinstance(md.get("cbec"), dict) else {}
    r = cb.get("role")
    return r if isinstance(r, str) else None


def repair(raw: bytes, issued: dict) -> tuple[bytes, list[str]]:
    """The notebook to run: the submission with the issued setup cell restored. Returns the
    bytes (unchanged when the submission is not a readable notebook: the runner diagnoses
    it) and integrity flags."""
    try:
        return _repair(raw, issued)
    except Exception:  # not a notebook we can read: the runner diagnoses it
        return raw, []


def _repair(raw: bytes, issued: dict) -> tuple[bytes, list[str]]:
    nb = json.loads(raw.decode("utf-8-sig"))
    cells = nb["cells"]
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise ValueError("not a notebook")
    setup = next(c for c in issued["cells"] if _role(c) == "setup")
    flags: list[str] = []
    idx = [i for i, c in enumerate(cells) if _role(c) == "setup"]
    if not idx:
        cells.insert(0, json.loads(json.dumps(setup)))
        flags.append("repaired: setup cell was deleted and has been restored "
                     "(设置单元格被删除，已恢复)")
    else:
        for n, i in enumerate(idx):
            if n == 0:
                if _source(cells[i]) != _source(setup) or cells[i].get("cell_type") != "code":
                    cells[i] = json.loads(json.dumps(setup))
                    flags.append("repaired: setup cell was edited and has been restored "
                                 "(设置单元格被修改，已恢复)")
            else:
                cells[i]["metadata"] = {"cbec": {"role": "copy"}}
    nb["cells"] = cells
    return json.dumps(nb, ensure_ascii=False).encode("utf-8"), flags


def candidate_world(manifest: dict[str, Any], cid: str, secret: str, dest: Path):
    """Re-derive the candidate's world, write its pack data into ``dest`` and check the
    fingerprint recorded at build. Returns the world."""
    import cbec_sim
    from graders.exam import pack
    from graders.variants import derive_seed

    rec = manifest["candidates"][cid]
    world = cbec_sim.generate(int(rec["n_orders"]), rng=derive_seed(secret, cid,
                                                                     dataset_key(manifest)))
    fp = pack.write_data(world, rec["tables"], dest, verify=False)
    if fp != rec.get("fingerprint"):
        raise ExamError(f"candidate {cid}: the dataset cannot be re-derived (fingerprint "
                        f"differs; built with cbec_sim {rec.get('cbec_sim_version')}): the "
                        "course secret or the simulator changed since the build")
    return world


def _item_score(it: dict[str, Any], run: Any, world: Any) -> Any:
    from graders import exercises
    from graders.grading.score import score_answer

    return score_answer(exercises.get(it["exercise"]), it["q"], float(it["points"]), run,
                        world, name="exam")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def grade_candidate(exam_dir: Path, manifest: dict[str, Any], cid: str, secret: str, *,
                    timeout: float, hide: list[Path]) -> Any:
    """The :class:`~graders.grading.results.NotebookGrade` of one candidate."""
    from graders.grading import run_notebook
    from graders.grading.batch import versions
    from graders.grading.results import ItemScore, NotebookGrade

    rec = manifest["candidates"][cid]
    rcpt = manifest.get("receipts", {}).get(cid)
    policy = manifest["blueprint"]["late"]["policy"]
    g = NotebookGrade(student=cid, assignment=f"exam-{manifest['exam']}-{manifest['session']}",
                      notebook="exam", status="ok", dataset_hash=rec.get("fingerprint", ""),
                      started=_now(), versions=versions())
    status = rcpt.get("status") if rcpt else "missing"

    def zero(run_status: str, diag: str) -> NotebookGrade:
        g.status, g.diagnosis = run_status, diag
        g.items = [ItemScore("exam", it["q"], "cbec", float(it["points"]), 0.0, "error", diag,
                             exercise=it["exercise"]) for it in rec["items"]]
        g.finished = _now()
        return g

    if rcpt is None:
        g.flags.append("missing: no submission received (未交卷)")
        return zero("missing", "no submission received (未交卷)")
    g.submission_sha256 = rcpt["sha256"]
    if status == "late":
        g.flags.append(f"late: received {rcpt['received_at']} after the window "
                       f"(逾期交卷, policy {policy})")
        if policy == "reject":
            return zero("rejected", "late submission rejected by the exam's policy "
                                    "(逾期交卷，按规定不予评分)")
    raw = (exam_dir / rcpt["file"]).read_bytes()
    if hashlib.sha256(raw).hexdigest() != rcpt["sha256"]:
        return zero("error", "the collected copy no longer matches its recorded sha256 "
                             "(提交副本被改动)")
    issued = json.loads((exam_dir / "server" / "notebooks" / f"{cid}.ipynb")
                        .read_text(encoding="utf-8"))
    fixed, flags = repair(raw, issued)
    g.flags += flags
    names = [it["answer"] for it in rec["items"]]
    with tempfile.TemporaryDirectory(prefix="cbec-exam-grade-") as tmp:
        try:
            world = candidate_world(manifest, cid, secret, Path(tmp) / "data")
        except ExamError as exc:
            return zero("error", str(exc))
        nb_path = Path(tmp) / "exam.ipynb"
        nb_path.write_bytes(fixed)
        run = run_notebook(nb_path, data_dir=Path(tmp) / "data", capture=names,
                           timeout=timeout, hide=hide, isolate=True)
    g.status, g.diagnosis, g.seconds, g.worker = run.status, run.diagnosis, run.seconds, \
        f"{platform.node()}:{run.sandbox}"
    if run.status == "timeout":
        g.flags.append("timeout: the notebook ran out of time (运行超时)")
    elif run.status not in ("ok",):
        g.flags.append(f"{run.status}: {run.diagnosis}")
    g.items = [_item_score(it, run, world) for it in rec["items"]]
    g.finished = _now()
    return g


def audit_ref(record: dict[str, Any]) -> str:
    """A short, stable reference of one audit record (sha256 of its canonical JSON)."""
    line = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(line.encode("utf-8")).hexdigest()[:16]


def grade(exam_dir: str | os.PathLike, *, timeout: float = 300, workers: int = 2,
          secret: str | None = None, force: bool = False) -> dict[str, Any]:
    """Grade every candidate of the exam; writes ``server/results.json`` and appends
    ``server/audit.jsonl``. Returns the results. Before the window (deadline + grace) has
    closed this refuses unless ``force`` (candidates without a submission count as missing)."""
    from graders.grading import audit
    from graders.variants import SECRET_ENV, course_secret

    exam_dir = Path(exam_dir).resolve()
    m = read_manifest(exam_dir)
    if not m["window"].get("opened_at"):
        raise ExamError(f"{exam_dir}: the exam has not been opened; run cbec exam open and "
                        "cbec exam collect first")
    if not m.get("collections"):
        raise ExamError(f"{exam_dir}: nothing collected yet; run cbec exam collect first")
    from graders.exam.forms import now_utc, parse_iso

    until = m["window"]["grace_until"]
    if not force and now_utc() < parse_iso(until):
        raise ExamError(f"{exam_dir}: the exam window is open until {until} (server clock); "
                        "grade after it, or pass --force (no submission then counts as "
                        "missing)")
    course = Path(m["course"])
    secret = secret or course_secret(course)
    if secret is None:
        raise ExamError(f"no course secret for {course} (${SECRET_ENV} or "
                        f"{course / '.cbec-secret'}); candidate datasets cannot be re-derived")
    hide = [exam_dir, course]
    cids = list(m["candidates"])

    def one(cid: str):
        return grade_candidate(exam_dir, m, cid, secret, timeout=timeout, hide=hide)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        grades = list(pool.map(one, cids))
    recs = audit.records(grades)
    audit._append_jsonl(exam_dir / AUDIT, recs)
    refs: dict[tuple[str, str], str] = {(r["student"], r["grade_id"]): audit_ref(r)
                                        for r in recs}
    out = {"exam": m["exam"], "session": m["session"], "graded_at": _now(),
           "grades": [{**g.to_dict(), "audit": {i.grade_id: refs.get((g.student, i.grade_id),
                                                                     "") for i in g.items}
                       | {"": refs.get((g.student, ""), "")}}
                      for g in grades]}
    p = exam_dir / RESULTS
    p.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    m["graded_at"] = out["graded_at"]
    write_manifest(exam_dir, m)
    return out
