"""Execute one submitted notebook safely and bring its answers back as plain data.

:func:`run_notebook` is the execution core of ``cbec grade``::

    r = run_notebook("submitted/alice/00-orientation/00.02-Orders.ipynb",
                     data_dir="datasets/alice", capture=["n_orders", "gmv_by_market"],
                     hide=[course_dir, submissions_dir, gradebook_dir, secret_file])
    r.status        # "ok" | "timeout" | "memory" | "crashed" | "invalid_notebook"
                    # | "wrong_kernel" | "empty" | "missing"
    r.diagnosis     # one line, English + 中文
    r.answers       # {"n_orders": 4973, "gmv_by_market": <pandas.Series>, ...}
    r.cells         # per code cell: ok / ename / evalue / stdout / stderr

The submission is read once (never opened for writing) and copied into a fresh job directory
under ``scratch_root`` (default: the system temp dir — outside the course tree), next to a copy
of the trainee's dataset in ``data/``. A fresh ``python -m graders.grading.child`` executes it in
the sandbox of :mod:`graders.grading.sandbox` with ``CBEC_GRADING=1`` (practice checks are inert
and no exercise definition is imported there). The answers come back through JSON and Parquet
files that :func:`graders.grading.capture.restore` validates; the job directory is then deleted.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from graders.grading import capture as _capture
from graders.grading import sandbox as _sandbox
from graders.grading.child import GRADER_DIR, MAX_STREAM

STATUSES = ("ok", "timeout", "memory", "crashed", "invalid_notebook", "wrong_kernel", "empty",
            "missing")
MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024
MAX_RESULTS_BYTES = 128 * 1024 * 1024
NON_PYTHON_KERNELS = ("ir", "julia", "bash", "javascript", "typescript", "deno", "octave",
                      "matlab", "xcpp", "sas", "java", "scala", "rust", "evcxr", "sql")
MEMORY_HINTS = ("MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory",
                "Unable to allocate")


@dataclass
class CellResult:
    """One code cell of the submission (``index``: its position among all cells)."""

    index: int
    cell_id: str | None = None
    grade_id: str | None = None  # nbgrader grade_id
    role: str | None = None  # cbec role: setup | answer | test
    exercise: str | None = None  # cbec exercise id
    ran: bool = False
    ok: bool = False
    ename: str | None = None
    evalue: str | None = None
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    result: str | None = None  # text/plain of the cell's execute_result (nbgrader: partial credit)


@dataclass
class RunResult:
    status: str
    diagnosis: str
    seconds: float
    cells: list[CellResult] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)
    sandbox: str = ""  # "bwrap" | "fallback" | "" (not executed)
    timing: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        """JSON-able summary (answers as their type names)."""
        d = asdict(self)
        d["answers"] = {k: type(v).__name__ for k, v in self.answers.items()}
        return d


class _Early(Exception):
    def __init__(self, status: str, diagnosis: str) -> None:
        super().__init__(diagnosis)
        self.status, self.diagnosis = status, diagnosis


# ------------------------------------------------------------------------------------------
# reading the submission


def _load_notebook(raw: bytes) -> dict:
    if not raw.strip():
        raise _Early("empty", "the notebook file is empty (提交的文件为空)")
    try:
        nb = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _Early("invalid_notebook", "not a notebook: the file is not UTF-8 text "
                                         "(不是有效的 notebook 文件)") from None
    except json.JSONDecodeError as exc:
        raise _Early("invalid_notebook", f"not a notebook: invalid JSON at line {exc.lineno}, "
                                         f"column {exc.colno} (notebook 文件已损坏)") from None
    except (ValueError, RecursionError):
        raise _Early("invalid_notebook", "not a notebook: unreadable JSON "
                                         "(notebook 文件已损坏)") from None
    if not isinstance(nb, dict):
        raise _Early("invalid_notebook", "not a notebook: JSON is not an object "
                                         "(不是有效的 notebook 文件)")
    if nb.get("nbformat") == 3 or "worksheets" in nb:
        try:
            import nbformat

            nb = json.loads(nbformat.writes(nbformat.convert(nbformat.from_dict(nb), 4)))
        except Exception:
            raise _Early("invalid_notebook", "not a notebook: an old (v3) notebook that cannot "
                                             "be converted (无法转换的旧版 notebook)") from None
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise _Early("invalid_notebook", "not a notebook: no list of cells "
                                         "(不是有效的 notebook 文件)")
    for i, c in enumerate(cells):
        src = c.get("source") if isinstance(c, dict) else None
        if not isinstance(c, dict) or not isinstance(c.get("cell_type"), str) or not (
                isinstance(src, str) or (isinstance(src, list)
                                         and all(isinstance(s, str) for s in src))):
            raise _Early("invalid_notebook", f"not a notebook: cell {i + 1} is malformed "
                                             "(notebook 文件已损坏)")
        if not isinstance(c.get("metadata", {}), dict):
            raise _Early("invalid_notebook", f"not a notebook: cell {i + 1} has bad metadata "
                                             "(notebook 文件已损坏)")
    if not isinstance(nb.get("metadata", {}), dict):
        raise _Early("invalid_notebook", "not a notebook: bad metadata (notebook 文件已损坏)")
    return nb


def _check_kernel(nb: dict) -> None:
    md = nb.get("metadata") or {}
    ks = md.get("kernelspec") if isinstance(md.get("kernelspec"), dict) else {}
    li = md.get("language_info") if isinstance(md.get("language_info"), dict) else {}
    name = str(ks.get("name") or "")
    lang = str(ks.get("language") or li.get("name") or "").strip().lower()
    base = name.lower().split("-")[0].rstrip("0123456789.")
    if (lang and lang != "python") or (not lang and base in NON_PYTHON_KERNELS):
        shown = f"{name!r}" + (f", language {lang!r}" if lang else "")
        raise _Early("wrong_kernel", f"wrong kernel: {shown}; this course needs a Python 3 "
                                     "kernel (内核不是 Python，请用 Python 3 内核重新提交)")


def _source(c: dict) -> str:
    s = c.get("source", "")
    return s if isinstance(s, str) else "".join(s)


def _cell_info(index: int, c: dict) -> CellResult:
    md = c.get("metadata") or {}
    nbg = md.get("nbgrader") if isinstance(md.get("nbgrader"), dict) else {}
    cb = md.get("cbec") if isinstance(md.get("cbec"), dict) else {}

    def s(v):
        return v if isinstance(v, str) else None

    return CellResult(index=index, cell_id=s(c.get("id")), grade_id=s(nbg.get("grade_id")),
                      role=s(cb.get("role")), exercise=s(cb.get("id")))


# ------------------------------------------------------------------------------------------
# job directory


@functools.cache
def _font_cache() -> Path | None:
    """The grader's matplotlib font list, copied into each job so the child never rebuilds it
    (that takes seconds)."""
    try:
        import matplotlib

        d = Path(matplotlib.get_cachedir())
        files = sorted(d.glob("fontlist-v*.json"))
        if not files:
            import matplotlib.font_manager  # builds and saves the list

            files = sorted(d.glob("fontlist-v*.json"))
        return files[-1] if files else None
    except Exception:
        return None


def _make_readonly(root: Path) -> None:
    for dirpath, _dirs, filenames in os.walk(root):
        for f in filenames:
            p = os.path.join(dirpath, f)
            os.chmod(p, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.chmod(dirpath, 0o555)


def _rmtree(path: Path) -> None:
    def onerror(func, p, exc_info):
        try:
            os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=onerror)


def _safe_name(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in name).strip(" .")
    return keep or "submission.ipynb"


# ------------------------------------------------------------------------------------------
# reading what the child left


def _regular(path: Path, limit: int) -> bool:
    """``path`` is a regular file (not a symlink: the notebook could point one at a host file)
    no larger than ``limit``."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size <= limit


def _read_text(path: Path, limit: int) -> str | None:
    if not _regular(path, limit):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with open(fd, encoding="utf-8", errors="replace") as f:
            return f.read(limit)
    except OSError:
        return None


def _read_json(path: Path, limit: int) -> Any:
    text = _read_text(path, limit)
    try:
        return None if text is None else json.loads(text)
    except (ValueError, RecursionError):
        return None


def _text(v: Any) -> str:
    if not isinstance(v, str):
        return ""
    limit = MAX_STREAM + 200
    return v if len(v) <= limit else v[:limit] + " …"


def _merge_cell(cell: CellResult, rec: dict) -> None:
    ok = rec.get("ok")
    if not isinstance(ok, bool):
        return
    cell.ran, cell.ok = True, ok
    cell.stdout, cell.stderr = _text(rec.get("stdout")), _text(rec.get("stderr"))
    sec = rec.get("seconds")
    cell.seconds = float(sec) if type(sec) in (int, float) else 0.0
    res = rec.get("result")
    cell.result = _text(res)[:2000] if ok and isinstance(res, str) else None
    if not ok:
        cell.ename = _text(rec.get("ename"))[:200] or "Error"
        cell.evalue = _text(rec.get("evalue"))[:2000]


def _progress(path: Path, cells: dict[int, CellResult]) -> tuple[int | None, bool]:
    """Merge progress.jsonl; return the cell that was running last and whether a cell hit
    MemoryError."""
    running, memory = None, False
    text = _read_text(path, MAX_RESULTS_BYTES)
    for line in (text or "").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if not isinstance(rec, dict) or type(rec.get("index")) is not int:
            continue
        idx = rec["index"]
        if idx not in cells:
            continue
        if rec.get("event") == "start":
            running = idx
        elif rec.get("event") == "end":
            _merge_cell(cells[idx], rec)
            memory = memory or rec.get("memory") is True
            running = None if running == idx else running
    return running, memory


def _where(idx: int | None, cells: dict[int, CellResult]) -> str:
    if idx is None or idx not in cells:
        return ""
    c = cells[idx]
    label = c.grade_id or c.cell_id
    return f" in cell {idx + 1}" + (f" ({label})" if label else "")


# ------------------------------------------------------------------------------------------


def read_submission(nb_path: str | os.PathLike, names: list[str], t0: float
                    ) -> RunResult | tuple[bytes, list[tuple[int, dict]]]:
    """The submission's bytes and code cells, or the :class:`RunResult` that ends it early
    (missing, empty, not a notebook, wrong kernel)."""
    missing = {n: _capture.MISSING for n in names}
    try:
        try:
            with open(nb_path, "rb") as f:
                raw = f.read(MAX_NOTEBOOK_BYTES + 1)
        except FileNotFoundError:
            raise _Early("missing", "no notebook submitted: file not found "
                                    "(找不到提交的 notebook)") from None
        except IsADirectoryError:
            raise _Early("invalid_notebook", "not a notebook: a directory (不是 notebook 文件)"
                         ) from None
        if len(raw) > MAX_NOTEBOOK_BYTES:
            raise _Early("invalid_notebook", "notebook larger than 100 MB (文件过大)")
        nb = _load_notebook(raw)
        _check_kernel(nb)
        code = [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
        if not any(_source(c).strip() for _, c in code):
            raise _Early("empty", "the notebook has no code to run (notebook 中没有代码)")
    except _Early as e:
        return RunResult(e.status, e.diagnosis, time.perf_counter() - t0, answers=missing)
    return raw, code


def write_job(work: Path, nb_name: str, raw: bytes, code: list[tuple[int, dict]],
              names: list[str], hide_packages: Sequence[str] = ()) -> Path:
    """Fill the job folder ``work`` (the notebook's copy, ``.grader/job.json``, the font
    list); returns the ``.grader`` folder. The dataset is the caller's business."""
    gdir = work / GRADER_DIR
    gdir.mkdir(parents=True)
    (work / _safe_name(nb_name)).write_bytes(raw)
    fonts = _font_cache()
    if fonts is not None:
        (work / ".matplotlib").mkdir()
        shutil.copyfile(fonts, work / ".matplotlib" / fonts.name)
    job = {"cells": [{"index": i, "source": _source(c)} for i, c in code], "capture": names}
    if hide_packages:
        job["hide_packages"] = list(hide_packages)
    (gdir / "job.json").write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    return gdir


def run_notebook(nb_path: str | os.PathLike, *, data_dir: str | os.PathLike | None,
                 capture: Sequence[str], timeout: float = 120, memory_mb: int = 2048,
                 scratch_root: str | os.PathLike | None = None,
                 hide: Sequence[str | os.PathLike] = (),
                 ro_binds: Sequence[str | os.PathLike] = (), keep: bool = False,
                 isolate: bool = False) -> RunResult:
    """Execute the notebook at ``nb_path`` in a sandbox and capture ``capture`` variables.

    ``hide``: paths the notebook must not see (course folder, submissions, gradebook folder,
    course secret); ``ro_binds``: extra host paths to show read-only (rarely needed);
    ``keep``: leave the job directory on disk (its path is in ``notes``); ``isolate`` (exam
    jobs): the notebook can import neither ``graders`` nor ``cbec_sim``. Never raises for
    anything the submission does; problems end up in ``status`` / ``diagnosis``."""
    t0 = time.perf_counter()
    names = list(dict.fromkeys(capture))
    sub = read_submission(nb_path, names, t0)
    if isinstance(sub, RunResult):
        return sub
    raw, code = sub
    nb_path = Path(nb_path)
    hide_paths = [Path(h).resolve() for h in hide]
    cells = {i: _cell_info(i, c) for i, c in code}
    root_dir = Path(scratch_root) if scratch_root is not None else Path(tempfile.gettempdir())
    root_dir = root_dir.resolve()
    for h in hide_paths:
        if root_dir.is_relative_to(h):
            raise ValueError(f"scratch_root {root_dir} is inside hidden path {h}: jobs must run "
                             "outside the course tree")
    job_root = Path(tempfile.mkdtemp(prefix="cbec-job-", dir=root_dir))
    notes: list[str] = []
    try:
        work, logs = job_root / "work", job_root / "log"
        work.mkdir()
        logs.mkdir()
        gdir = write_job(work, nb_path.name, raw, code, names,
                         _sandbox.HIDDEN_PACKAGES if isolate else ())
        if data_dir is not None:
            shutil.copytree(data_dir, work / "data")
            _make_readonly(work / "data")
        if _sandbox.mode() == "fallback" and os.geteuid() == 0:
            os.chmod(job_root, 0o711)  # nobody may enter work/, not list the job root
            exposed = _sandbox.fallback_exposed(hide_paths)
            if exposed:
                notes.append("fallback sandbox cannot hide world-readable paths: "
                             + ", ".join(map(str, exposed[:5])))
        t_prep = time.perf_counter()
        limits = _sandbox.Limits(timeout=float(timeout), memory_mb=int(memory_mb))
        out = _sandbox.run_sandboxed(work, logs, limits=limits, hide=hide_paths,
                                     ro_binds=[Path(p) for p in ro_binds], isolate=isolate)
        t_run = time.perf_counter()
        notes += out.notes
        result = _collect(out, gdir, cells, names, limits)
        result.timing.update({"prepare": round(t_prep - t0, 4), "run": round(t_run - t_prep, 4),
                              "collect": round(time.perf_counter() - t_run, 4)})
        result.notes = notes
        if keep:
            result.notes.append(f"job directory kept: {job_root}")
        result.seconds = time.perf_counter() - t0
        return result
    finally:
        if not keep:
            _rmtree(job_root)


def _collect(out: _sandbox.Outcome, gdir: Path, cells: dict[int, CellResult],
             names: list[str], limits: _sandbox.Limits) -> RunResult:
    if gdir.is_symlink() or not gdir.is_dir():  # replaced by the notebook: read nothing
        gdir = gdir.parent / ".grader-was-replaced"
    res = _read_json(gdir / "results.json", MAX_RESULTS_BYTES)
    valid = (isinstance(res, dict) and res.get("version") == _capture.RESULTS_VERSION
             and isinstance(res.get("cells"), list) and isinstance(res.get("answers"), dict))
    running, memory = _progress(gdir / "progress.jsonl", cells)
    timing: dict[str, float] = {}
    if valid:
        for rec in res["cells"]:
            if isinstance(rec, dict) and type(rec.get("index")) is int \
                    and rec["index"] in cells:
                _merge_cell(cells[rec["index"]], rec)
                memory = memory or rec.get("memory") is True
        t = res.get("timing")
        if isinstance(t, dict):
            timing = {f"child_{k}": float(v) for k, v in t.items()
                      if isinstance(k, str) and type(v) in (int, float)}
    cell_list = [cells[i] for i in sorted(cells)]
    n_err = sum(1 for c in cell_list if c.ran and not c.ok)
    first_mem = next((c.index for c in cell_list if c.ename and "MemoryError" in c.ename), None)
    stderr = out.stderr

    if out.timed_out:
        status = "timeout"
        diag = (f"timed out after {limits.timeout:g} s{_where(running, cells)}; the run was "
                "stopped (运行超时，已终止)")
    elif out.returncode == -signal.SIGXCPU:
        status = "timeout"
        diag = (f"CPU time limit reached{_where(running, cells)} (several threads busy); the "
                "run was stopped (CPU 时间超限，已终止)")
    elif valid and out.returncode == 0:
        if memory:
            status = "memory"
            diag = (f"memory limit of {limits.memory_mb} MB exceeded{_where(first_mem, cells)}"
                    "; later cells still ran (内存超限)")
        else:
            status = "ok"
            diag = (f"ran {len(cell_list)} code cells, {n_err} raised an error "
                    f"(运行完成，{n_err} 个单元格出错)")
    elif stderr.lstrip().startswith("bwrap:"):
        status = "crashed"
        diag = f"the sandbox failed to start: {stderr.strip().splitlines()[0][:200]} (沙箱启动失败)"
    elif memory or any(h in stderr for h in MEMORY_HINTS):
        status = "memory"
        where = _where(running if running is not None else first_mem, cells)
        diag = (f"memory limit of {limits.memory_mb} MB exceeded{where}; the process died "
                "(内存超限，进程终止)")
    else:
        status = "crashed"
        rc = out.returncode
        how = f"killed by signal {-rc}" if rc is not None and rc < 0 else f"exit code {rc}"
        if rc == 3 and "cbec grading child failed" in stderr:
            line = stderr.strip().splitlines()[-1][:200]
            diag = f"the grading process failed: {line} (评分进程出错)"
        else:
            diag = (f"the notebook's Python process ended unexpectedly ({how})"
                    f"{_where(running, cells)} (进程异常退出)")
    answers = (_capture.restore(res["answers"], gdir, names) if valid
               else {n: _capture.MISSING for n in names})
    return RunResult(status, diag, out.seconds, cell_list, answers, out.mode, timing)
