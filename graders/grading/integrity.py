"""Integrity of a submission: build the notebook that is executed from the trainee's file and
the course's master notebook, repairing what nbgrader repairs (and a little more) and saying so.

:func:`prepare` reads the submitted file ONCE (never opened for writing; its sha256 goes into
the audit record) and writes the notebook to execute to ``out``. The rules, next to what
``nbgrader autograde`` does in its sanitising step (``ClearOutput``, ``DeduplicateIds``,
``OverwriteKernelspec``, ``OverwriteCells``, ``CheckCellMetadata``):

==============================  ==================================  ===========================
case                            nbgrader autograde                  here
==============================  ==================================  ===========================
locked / test cell edited       source restored from the gradebook  restored from the master,
                                (checksum mismatch), points and     with its metadata; flagged
                                ``locked`` restored, cell type
                                converted back
test (grade) cell deleted       re-added after the previous graded  same place; also deleted
                                cell with ``add_missing_cells``     locked cells (setup,
                                (else: scored 0); other locked      statements) are re-added;
                                cells stay deleted                  flagged
grade_id duplicated             the LAST copy keeps its metadata,   the FIRST copy is kept; a
                                earlier copies lose it and run as   locked/test copy is dropped,
                                plain cells                         an answer copy runs as a
                                                                    plain cell; flagged
locked/test cells reordered     run in the submitted order          put back in master order
                                                                    (answer cells too, each
                                                                    with the trainee's cells
                                                                    that followed it); flagged
answer cell metadata stripped   the cell is not an answer cell      re-identified by its cell
                                                                    id (or ``cbec`` metadata);
                                                                    flagged
unknown grade_id                its grade_id is removed             its nbgrader metadata is
                                                                    removed; flagged
answer (solution) cell          the trainee's source, cell type     the same (metadata from the
                                restored                            master)
kernelspec                      replaced by the master's            the same, after refusing a
                                                                    non-Python notebook
invalid JSON / empty / not a    the notebook errors (autograde      status with a one-line
notebook / no cells             logs it, no grades)                 diagnosis: scored 0
missing file                    every grade 0                       status ``missing``: 0
==============================  ==================================  ===========================

Cells without nbgrader metadata (the trainee's own cells, prose) are kept in the trainee's
order, each after the graded/locked cell it followed. Outputs and attachments are dropped.
Which master cells count is decided with nbgrader's own ``is_grade``/``is_solution``/
``is_locked``; what trainees received is rebuilt with nbgrader's ``ClearSolutions`` and
``ClearHiddenTests`` (course configuration), so an unchanged released test cell is not
"edited", and a manually graded answer left as released is recognised by nbgrader's checksum
(:attr:`IntegrityReport.unchanged`).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from graders.grading.run import MAX_NOTEBOOK_BYTES, _check_kernel, _Early, _load_notebook

STATUSES = ("ok", "missing", "empty", "invalid_notebook", "wrong_kernel")
_FLAG_KEYS = ("grade", "solution", "locked", "task", "points", "grade_id")


@dataclass
class IntegrityReport:
    """What :func:`prepare` found and did."""

    notebook: str  # notebook name (file stem)
    status: str  # one of STATUSES
    diagnosis: str = ""  # one line (English + 中文) when status is not "ok"
    flags: list[str] = field(default_factory=list)  # repairs, "English / 中文"
    sha256: str = ""  # of the submitted bytes ("" when missing)
    size: int = 0
    prepared: Path | None = None  # the notebook to execute (status "ok" only)
    unchanged: set[str] = field(default_factory=set)  # manual answers left as released
    answered: set[str] = field(default_factory=set)  # answer grade_ids present after repair

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# ------------------------------------------------------------------------------------------
# master cells


def _nbg(cell: Any) -> dict:
    md = cell.get("metadata") if isinstance(cell, dict) else None
    ng = md.get("nbgrader") if isinstance(md, dict) else None
    return ng if isinstance(ng, dict) else {}


def _cbec(cell: Any) -> dict:
    md = cell.get("metadata") if isinstance(cell, dict) else None
    cb = md.get("cbec") if isinstance(md, dict) else None
    return cb if isinstance(cb, dict) else {}


def is_grade(cell: Any) -> bool:
    return bool(_nbg(cell).get("grade", False))


def is_solution(cell: Any) -> bool:
    return bool(_nbg(cell).get("solution", False))


def is_task(cell: Any) -> bool:
    return bool(_nbg(cell).get("task", False))


def is_locked(cell: Any) -> bool:
    """nbgrader's rule: solution cells are never locked, grade cells always."""
    ng = _nbg(cell)
    if not ng or ng.get("solution", False):
        return False
    return bool(ng.get("grade", False) or ng.get("locked", False))


def is_tracked(cell: Any) -> bool:
    """A cell nbgrader records as a source cell (it has a grade_id that matters)."""
    return (is_grade(cell) or is_solution(cell) or is_locked(cell) or is_task(cell)) and \
        isinstance(_nbg(cell).get("grade_id"), str)


def _source(cell: Any) -> str:
    s = cell.get("source", "")
    return s if isinstance(s, str) else "".join(s)


def released_view(source_nb: NotebookNode, config: Any = None) -> NotebookNode:
    """The master as trainees received it: nbgrader's ``ClearSolutions`` and
    ``ClearHiddenTests`` with the course's configuration (``config``: a traitlets Config)."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
    from traitlets.config import Config

    cfg = config if config is not None else Config()
    nb = copy.deepcopy(source_nb)
    resources: dict = {}
    nb, resources = ClearSolutions(config=cfg).preprocess(nb, resources)
    nb, resources = ClearHiddenTests(config=cfg).preprocess(nb, resources)
    return nb


def checksum(cell: NotebookNode) -> str:
    """nbgrader's checksum of a tracked cell."""
    from nbgrader.utils import compute_checksum

    return compute_checksum(cell)


# ------------------------------------------------------------------------------------------


def _flag(en: str, cn: str) -> str:
    return f"{en} / {cn}"


def _new_cell(cell_type: str, source: str, metadata: dict, cell_id: str) -> NotebookNode:
    md = copy.deepcopy(metadata)
    if cell_type == "code":
        c = nbformat.v4.new_code_cell(source, metadata=md)
    elif cell_type == "markdown":
        c = nbformat.v4.new_markdown_cell(source, metadata=md)
    else:
        c = nbformat.v4.new_raw_cell(source, metadata=md)
    c.id = cell_id
    return c


def _master_copy(m: NotebookNode) -> NotebookNode:
    return _new_cell(m.cell_type, m.source, dict(m.get("metadata", {})), str(m.get("id") or ""))


def _points_differ(sub: Any, master: NotebookNode) -> bool:
    try:
        return float(_nbg(sub).get("points", 0) or 0) != float(_nbg(master).get("points", 0) or 0)
    except (TypeError, ValueError):
        return True


def _flags_differ(sub: Any, master: NotebookNode) -> bool:
    a, b = _nbg(sub), _nbg(master)
    for k in _FLAG_KEYS:
        va, vb = a.get(k), b.get(k)
        if k == "points":
            with contextlib.suppress(TypeError, ValueError):
                va, vb = float(va), float(vb)  # type: ignore[arg-type]
        if k in ("grade", "solution", "locked", "task"):
            va, vb = bool(va), bool(vb)
        if va != vb:
            return True
    return _cbec(sub) != _cbec(master)


def _kind(m: NotebookNode) -> str:
    if is_grade(m) and is_solution(m):
        return "manual answer"
    if is_solution(m):
        return "answer"
    if is_grade(m):
        return "test"
    if is_task(m):
        return "task"
    return "locked"


_CN = {"answer": "答案", "manual answer": "人工评分答案",
       "test": "测试", "task": "任务", "locked": "只读"}


def _what(m: NotebookNode, gid: str) -> tuple[str, str]:
    k = _kind(m)
    return f"{k} cell {gid}", f"{_CN[k]}单元 {gid} "


def _fail(name: str, status: str, diagnosis: str, raw: bytes | None) -> IntegrityReport:
    rep = IntegrityReport(name, status, diagnosis)
    if raw is not None:
        rep.sha256, rep.size = hashlib.sha256(raw).hexdigest(), len(raw)
    return rep


def read_submission(submitted: str | os.PathLike) -> bytes | None:
    """The submitted bytes (one read, never for writing), ``None`` when there is no file."""
    try:
        with open(submitted, "rb") as f:
            return f.read(MAX_NOTEBOOK_BYTES + 1)
    except FileNotFoundError:
        return None


def prepare(submitted: str | os.PathLike, source_nb: NotebookNode, out: str | os.PathLike, *,
            config: Any = None, released: NotebookNode | None = None) -> IntegrityReport:
    """Build the notebook to execute from ``submitted`` and the master ``source_nb``; write it to
    ``out`` (only when the report's status is ``ok``). ``config``: the course's nbgrader
    configuration (stubs and delimiters); ``released``: the master as released, when already
    computed (:func:`released_view`). Never raises for anything in the submission."""
    submitted, out = Path(submitted), Path(out)
    name = submitted.stem
    try:
        raw = read_submission(submitted)
    except IsADirectoryError:
        return _fail(name, "invalid_notebook", "not a notebook: a directory "
                     "(不是 notebook 文件)", None)
    except OSError as exc:
        return _fail(name, "invalid_notebook", f"cannot read the notebook "
                     f"({type(exc).__name__}) (无法读取提交的文件)", None)
    if raw is None:
        return _fail(name, "missing", "no notebook submitted: file not found "
                     "(找不到提交的 notebook)", None)
    if len(raw) > MAX_NOTEBOOK_BYTES:
        return _fail(name, "invalid_notebook", "notebook larger than 100 MB (文件过大)", raw)
    try:
        nb = _load_notebook(raw)
        _check_kernel(nb)
    except _Early as e:
        return _fail(name, e.status, e.diagnosis, raw)
    if not nb["cells"]:
        return _fail(name, "empty", "the notebook has no cells (notebook 中没有任何单元格)", raw)
    rep = _fail(name, "ok", "", raw)
    if released is None:
        released = released_view(source_nb, config)
    cells = _repair(nb["cells"], source_nb, released, rep)
    result = nbformat.v4.new_notebook()
    result.metadata = copy.deepcopy(dict(source_nb.get("metadata", {})))
    result.cells = cells
    _unique_ids(result.cells)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text(nbformat.writes(result, version=4), encoding="utf-8")
    tmp.replace(out)
    rep.prepared = out
    return rep


def _unique_ids(cells: list[NotebookNode]) -> None:
    import re

    seen: set[str] = set()
    for i, c in enumerate(cells):
        cid = str(c.get("id") or "")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cid) or cid in seen:
            cid = f"cell-{i}"
            while cid in seen:
                cid += "_"
        c.id = cid
        seen.add(cid)


def _repair(sub_cells: list[dict], source_nb: NotebookNode, released: NotebookNode,
            rep: IntegrityReport) -> list[NotebookNode]:
    masters = [c for c in source_nb.cells if is_tracked(c)]
    order = [str(_nbg(c)["grade_id"]) for c in masters]
    by_gid = {gid: c for gid, c in zip(order, masters, strict=True)}
    rel_by_gid = {str(_nbg(c)["grade_id"]): c for c in released.cells if is_tracked(c)}
    by_cell_id = {str(c.get("id")): gid for gid, c in by_gid.items() if c.get("id")}
    by_cbec = {(str(_cbec(c).get("role")), str(_cbec(c).get("id"))): gid
               for gid, c in by_gid.items() if _cbec(c).get("role")}

    # pass 1: identify by grade_id (first copy wins); pass 2: stripped cells by id / cbec
    ident: list[str | None] = [None] * len(sub_cells)
    claimed: set[str] = set()
    dropped: set[int] = set()
    demoted: set[int] = set()
    for i, c in enumerate(sub_cells):
        gid = _nbg(c).get("grade_id")
        if not _nbg(c) or not isinstance(gid, str):
            continue
        if gid not in by_gid:
            demoted.add(i)
            rep.flags.append(_flag(f"ignored the grading metadata of an unknown cell {gid!r}",
                                   f"已忽略未知单元 {gid!r} 的评分信息"))
            continue
        if gid in claimed:
            m = by_gid[gid]
            en, cn = _what(m, gid)
            if is_solution(m):
                demoted.add(i)
                rep.flags.append(_flag(f"duplicated {en}: the first copy is graded, the other "
                                       "runs as a plain cell",
                                       f"{cn}被复制：只评第一份，其余按普通单元运行"))
            else:
                dropped.add(i)
                rep.flags.append(_flag(f"removed a duplicated {en}", f"已删除重复的{cn}"))
            continue
        ident[i] = gid
        claimed.add(gid)
    for i, c in enumerate(sub_cells):
        if ident[i] is not None or i in dropped or (_nbg(c) and i not in demoted):
            continue
        gid = by_cell_id.get(str(c.get("id")))
        cb = _cbec(c)
        if gid is None and cb.get("role"):
            gid = by_cbec.get((str(cb.get("role")), str(cb.get("id"))))
        if gid is None or gid in claimed:
            continue
        ident[i] = gid
        claimed.add(gid)
        demoted.discard(i)
        en, cn = _what(by_gid[gid], gid)
        rep.flags.append(_flag(f"re-identified {en} (its grading metadata was removed)",
                               f"已重新识别{cn}（评分信息被删除）"))

    # the trainee's order of identified cells vs the master's
    seq = [g for g in ident if g is not None]
    pos = {g: k for k, g in enumerate(order)}
    if seq != sorted(seq, key=pos.__getitem__):
        rep.flags.append(_flag("cells were moved; graded and locked cells put back in the "
                               "master's order", "单元格顺序被改动，已按原题顺序恢复"))

    # free cells, each attached to the identified cell before it (None: at the start)
    attached: dict[str | None, list[NotebookNode]] = {None: []}
    built: dict[str, NotebookNode] = {}
    anchor: str | None = None
    for i, c in enumerate(sub_cells):
        if i in dropped:
            continue
        gid = ident[i]
        if gid is None:
            md = {k: v for k, v in (c.get("metadata") or {}).items()
                  if k not in ("nbgrader", "cbec")}
            attached.setdefault(anchor, []).append(
                _new_cell(c["cell_type"] if c["cell_type"] in ("code", "markdown") else "raw",
                          _source(c), md, str(c.get("id") or "")))
            continue
        anchor = gid
        attached.setdefault(gid, [])
        built[gid] = _restore(c, by_gid[gid], rel_by_gid.get(gid), gid, rep)

    out: list[NotebookNode] = []
    pending = attached[None]
    for gid in order:
        m = by_gid[gid]
        if gid in built:
            out += pending
            out.append(built[gid])
            pending = attached.get(gid, [])
            continue
        en, cn = _what(m, gid)
        if is_solution(m) and not is_grade(m) and not is_task(m):
            rep.flags.append(_flag(f"{en} is missing (nothing to grade)",
                                   f"{cn}缺失（无法评分）"))
            continue
        rel = rel_by_gid.get(gid, m)
        cell = _master_copy(m if not is_solution(m) else rel)
        if is_solution(m):  # a manually graded answer comes back as released (unanswered)
            rep.unchanged.add(gid)
        out.append(cell)
        rep.flags.append(_flag(f"re-added deleted {en}", f"已恢复被删除的{cn}"))
    out += pending
    rep.answered = {g for g in built if is_solution(by_gid[g])}
    return out


def _restore(sub: dict, m: NotebookNode, rel: NotebookNode | None, gid: str,
             rep: IntegrityReport) -> NotebookNode:
    """The cell to run for a submitted cell identified as master cell ``m``."""
    en, cn = _what(m, gid)
    if is_solution(m):
        if sub.get("cell_type") != m.cell_type:
            rep.flags.append(_flag(f"restored the cell type of {en}", f"已恢复{cn}的单元类型"))
        elif _nbg(sub) and _flags_differ(sub, m):
            rep.flags.append(_flag(f"restored the grading metadata of {en}",
                                   f"已恢复{cn}的评分信息"))
        cell = _new_cell(m.cell_type, _source(sub), dict(m.get("metadata", {})),
                         str(m.get("id") or ""))
        if is_grade(m) and rel is not None and checksum(cell) == checksum(rel):
            rep.unchanged.add(gid)
        return cell
    src = _source(sub)
    edited = src != m.source and (rel is None or src != rel.source)
    if edited:
        rep.flags.append(_flag(f"restored edited {en}", f"已恢复被修改的{cn}"))
    elif sub.get("cell_type") != m.cell_type:
        rep.flags.append(_flag(f"restored the cell type of {en}", f"已恢复{cn}的单元类型"))
    elif _nbg(sub) and is_grade(m) and _points_differ(sub, m):
        rep.flags.append(_flag(f"restored the points of {en}", f"已恢复{cn}的分值"))
    elif _nbg(sub) and _flags_differ(sub, m):
        rep.flags.append(_flag(f"restored the grading metadata of {en}",
                               f"已恢复{cn}的评分信息"))
    return _master_copy(m)


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dumps_report(rep: IntegrityReport) -> str:
    d = {k: v for k, v in rep.__dict__.items()}
    d["prepared"] = str(rep.prepared) if rep.prepared else None
    d["unchanged"], d["answered"] = sorted(rep.unchanged), sorted(rep.answered)
    return json.dumps(d, ensure_ascii=False)
