"""Grading one assignment of a course: every submission, in parallel, nothing lost.

:func:`grade_assignment` is what ``cbec grade ASSIGNMENT`` runs::

    grades = grade_assignment("course", "00-orientation", workers=4)

1. **discover** — ``<submissions>/<student>/<assignment>/`` (default: the course's
   ``submitted/``, nbgrader's layout) and the assignment's notebooks from the MASTER folder
   ``<course>/source/<assignment>/*.ipynb``; a notebook a trainee did not submit is graded 0
   with status ``missing``; submitted notebooks the master does not have are ignored;
2. **datasets** — each trainee's world is derived ONCE, into the batch's private scratch folder,
   from the course secret (:mod:`graders.variants`; its fingerprint is checked against
   ``<course>/variants/<assignment>.csv``); a trainee without a recorded dataset (or a course
   without variants) gets the course's default dataset. The ``data/`` folder of a submission is
   never used: the trainee could have edited it;
3. **integrity** — :func:`graders.grading.integrity.prepare` builds the notebook to run from the
   submission and the master (the submitted file is only read);
4. **execution** — :func:`graders.grading.run.run_notebook` in the sandbox, ``workers`` at a
   time (threads, each driving one sandboxed process), with the course folder, the submissions,
   the gradebook's folder and the course secret hidden. A notebook that times out in a cell the
   trainee wrote is run again with that cell replaced by a ``TimeoutError`` (nbgrader interrupts
   such a cell and goes on; so the other items are still graded), at most
   :data:`TIMEOUT_RETRIES` times;
5. **scores** — :func:`graders.grading.score.score_notebook`, in this process;
6. **records** — :func:`record`: the gradebook (:mod:`graders.grading.gradebook`), one
   feedback page per trainee (:mod:`graders.grading.feedback`) and the audit records
   (:mod:`graders.grading.audit`); ``write=False`` returns the grades only.

One broken submission never stops the batch: every job is caught and ends as a
:class:`NotebookGrade` with a diagnosis.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
import logging
import os
import platform
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from graders.grading.integrity import IntegrityReport, prepare, released_view
from graders.grading.pool import WarmPool
from graders.grading.results import ItemScore, NotebookGrade
from graders.grading.run import RunResult, run_notebook
from graders.grading.score import answer_variables, graded_cells, score_notebook

log = logging.getLogger(__name__)

TIMEOUT_RETRIES = 2
GRADER_ERROR = "grader_error"

Progress = Callable[[Iterable[Any], int, str], Iterator[Any]]


def _no_progress(items: Iterable[Any], total: int, desc: str) -> Iterator[Any]:
    yield from items


class GradingError(ValueError):
    """A problem with the course or the options (one line), before anything is graded."""


class RecordError(RuntimeError):
    """Writing the gradebook / feedback / audit failed; ``grades`` holds every result."""

    def __init__(self, message: str, grades: list[NotebookGrade]) -> None:
        super().__init__(message)
        self.grades = grades


@dataclass
class Dataset:
    """A trainee's dataset: the folder copied into each job, the world scored against."""

    path: Path
    world: Any
    hash: str  # sha256 of manifest.json (never the seed)
    flag: str = ""
    cache: dict = field(default_factory=dict)  # expected answers / mistake values by exercise


@dataclass
class _Master:
    name: str
    nb: nbformat.NotebookNode
    released: nbformat.NotebookNode
    capture: list[str]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@functools.cache
def versions() -> dict[str, str]:
    """Versions recorded with every grade."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for key, dist, mod in (("graders", "cbec-course-kit", "graders"),
                           ("cbec_sim", "cbec-course-kit", "cbec_sim"),
                           ("nbgrader", "nbgrader", "nbgrader"), ("pandas", "pandas", "pandas"),
                           ("numpy", "numpy", "numpy")):
        v = ""
        with contextlib.suppress(Exception):
            v = str(getattr(importlib.import_module(mod), "__version__", "") or "")
        if not v:
            try:
                v = metadata.version(dist)
            except metadata.PackageNotFoundError:
                v = "unknown"
        out[key] = v
    return out


# ------------------------------------------------------------------------------------------
# discovery


def _masters(course: Path, assignment: str, config: Any) -> list[_Master]:
    src = course / "source" / assignment
    files = sorted(src.glob("*.ipynb")) if src.is_dir() else []
    if not files:
        raise GradingError(f"no master notebooks in {src}: the assignment must be in the "
                           "course's source folder (as for nbgrader autograde)")
    out = []
    for f in files:
        try:
            nb = nbformat.read(f, as_version=4)
            rel = released_view(nb, config)
        except Exception as exc:
            raise GradingError(f"{f}: cannot read the master notebook ({type(exc).__name__}: "
                               f"{exc})") from None
        out.append(_Master(f.stem, nb, rel, answer_variables(nb)))
    return out


def _students(root: Path, assignment: str, only: Sequence[str] | None) -> list[str]:
    if not root.is_dir():
        raise GradingError(f"no submissions folder {root}")
    found = sorted(p.name for p in root.iterdir()
                   if not p.name.startswith(".") and (p / assignment).is_dir())
    if only is not None:
        wanted = list(dict.fromkeys(only))
        missing = [s for s in wanted if s not in found]
        if missing:
            log.warning("no submission of %s for: %s", assignment, ", ".join(missing))
        found = [s for s in found if s in set(wanted)]
    return found


def _config(course: Path) -> Any:
    from traitlets.config import Config

    if (course / "nbgrader_config.py").is_file():
        from graders.nbg import nbgrader_config

        return nbgrader_config(course)
    return Config()


def _hidden(course: Path, root: Path, db_url: str | None) -> list[Path]:
    from graders.variants import secret_path

    hide = [course, root.resolve(), secret_path(course)]
    url = db_url
    if url is None and (course / "nbgrader_config.py").is_file():
        from graders.nbg import gradebook_url

        try:
            url = gradebook_url(course)[0]
        except Exception:
            url = None
    if url and url.startswith("sqlite:///"):
        hide.append(Path(url[len("sqlite:///"):]).resolve().parent)
    return list(dict.fromkeys(hide))


# ------------------------------------------------------------------------------------------
# datasets


class _Datasets:
    """Each trainee's dataset, derived once (thread-safe)."""

    def __init__(self, course: Path, assignment: str, folder: Path) -> None:
        from graders.release import read_variants
        from graders.variants import course_secret

        self.course, self.assignment, self.folder = course, assignment, folder
        self.secret = course_secret(course)
        self.records = read_variants(course, assignment) if self.secret else {}
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._done: dict[str, Dataset | BaseException] = {}
        self._default: Dataset | None = None

    def default(self) -> Dataset:
        with self._lock:
            if self._default is None:
                import cbec_sim
                from graders import practice
                from graders.release import fingerprint

                path = practice._default_dataset()
                self._default = Dataset(path, cbec_sim.load(path), fingerprint(path))
            return self._default

    def get(self, student: str) -> Dataset:
        with self._lock:
            lock = self._locks.setdefault(student, threading.Lock())
        with lock:
            if student not in self._done:
                try:
                    self._done[student] = self._derive(student)
                except BaseException as exc:  # remembered: every notebook gets the diagnosis
                    self._done[student] = exc
            got = self._done[student]
        if isinstance(got, BaseException):
            raise got
        return got

    def _derive(self, student: str) -> Dataset:
        rec = self.records.get(student)
        if self.secret is None or rec is None:
            d = self.default()
            if self.records:  # the course releases variants, but not for this trainee
                return Dataset(d.path, d.world, d.hash, flag=(
                    "no personal dataset recorded for this trainee: graded on the course's "
                    "default dataset / 未找到该学员的个人数据集记录，按课程默认数据集评分"),
                    cache=d.cache)
            return d
        import cbec_sim
        from graders.release import DATA_DIR, variants_path, verified_dataset, write_world
        from graders.variants import VariantError, derive_seed

        dest = self.folder / _safe(student) / DATA_DIR
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Reuse the release's copy of this dataset: copied into the private folder first, then
        # every file's sha256 checked there against the fingerprinted manifest.
        released = rec.get("dataset")
        if released and (Path(released) / "manifest.json").is_file():
            with contextlib.suppress(OSError):
                shutil.copytree(released, dest, symlinks=False)
                if verified_dataset(dest, rec["fingerprint"]) is not None:
                    return Dataset(dest, cbec_sim.load(dest, verify=False), rec["fingerprint"])
            shutil.rmtree(dest, ignore_errors=True)
        seed = derive_seed(self.secret, student, self.assignment)
        fp, version = write_world(seed, int(rec["n_orders"]), dest)
        if fp != rec["fingerprint"]:
            raise VariantError(
                f"{variants_path(self.course, self.assignment)}: the dataset of {student!r} "
                f"cannot be re-derived (fingerprint differs; released with cbec_sim "
                f"{rec.get('cbec_sim_version')}, now {version}): the course secret or the "
                "simulator changed since the release")
        return Dataset(dest, cbec_sim.load(dest), fp)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name) or "_"


# ------------------------------------------------------------------------------------------
# one notebook


@dataclass
class _Ctx:
    course: Path
    assignment: str
    root: Path
    private: Path
    jobs: Path
    hide: list[Path]
    timeout: float
    memory_mb: int
    datasets: _Datasets
    pool: Any = None  # graders.grading.pool.WarmPool (None: run_notebook, cold)


def _grader_error(g: NotebookGrade, m: _Master, diagnosis: str) -> None:
    g.status, g.diagnosis = GRADER_ERROR, diagnosis
    g.items = [ItemScore(m.name, str(c.metadata["nbgrader"]["grade_id"]), "manual",
                         _pts(c), None, "error", f"not graded: {diagnosis}")
               for c in graded_cells(m.nb)]


def _pts(c: Any) -> float:
    try:
        return float(c.metadata["nbgrader"].get("points", 0) or 0)
    except (TypeError, ValueError):
        return 0.0


def _grade_one(ctx: _Ctx, student: str, m: _Master) -> NotebookGrade:
    t0 = time.perf_counter()
    g = NotebookGrade(student, ctx.assignment, m.name, status="ok", started=_now(),
                      worker=f"{socket.gethostname()}/{threading.current_thread().name}",
                      versions=dict(versions()))
    try:
        _grade_into(ctx, student, m, g)
    except Exception as exc:  # a grader problem: never stops the batch
        log.exception("grading %s/%s/%s failed", student, ctx.assignment, m.name)
        _grader_error(g, m, f"grader error: {type(exc).__name__}: {str(exc)[:300]} "
                            "(评分程序出错)")
    g.finished = _now()
    g.seconds = round(time.perf_counter() - t0, 3)
    return g


def _grade_into(ctx: _Ctx, student: str, m: _Master, g: NotebookGrade) -> None:
    submitted = ctx.root / student / ctx.assignment / f"{m.name}.ipynb"
    prepared = ctx.private / "prepared" / _safe(student) / f"{m.name}.ipynb"
    report = prepare(submitted, m.nb, prepared, released=m.released)
    g.submission_sha256 = report.sha256
    g.flags = list(report.flags)
    if not report.ok:
        g.status, g.diagnosis = report.status, report.diagnosis
        g.items = score_notebook(None, m.nb, None, report=report)
        return
    try:
        data = ctx.datasets.get(student)
    except Exception as exc:
        _grader_error(g, m, f"dataset: {str(exc)[:300]} (无法重建学员数据集)")
        return
    g.dataset_hash = data.hash
    if data.flag:
        g.flags.append(data.flag)
    run = _execute(ctx, m, report, data, g)
    g.status = run.status
    g.diagnosis = run.diagnosis if not run.ok else ""
    if run.ok and any("timed out" in f for f in g.flags):
        g.diagnosis = next(f for f in g.flags if "timed out" in f)
    g.items = score_notebook(run, m.nb, data.world, report=report, expected_cache=data.cache)


def _execute(ctx: _Ctx, m: _Master, report: IntegrityReport, data: Dataset,
             g: NotebookGrade) -> RunResult:
    assert report.prepared is not None
    path = report.prepared
    nb = None
    for attempt in range(TIMEOUT_RETRIES + 1):
        runner = ctx.pool.run if ctx.pool is not None else run_notebook
        run = runner(path, data_dir=data.path, capture=m.capture, timeout=ctx.timeout,
                           memory_mb=ctx.memory_mb, scratch_root=ctx.jobs, hide=ctx.hide)
        if run.status != "timeout" or attempt == TIMEOUT_RETRIES:
            return run
        stuck = next((c for c in run.cells if not c.ran), None)
        if nb is None:
            nb = nbformat.read(path, as_version=4)
        if stuck is None or stuck.index >= len(nb.cells):
            return run
        cell = nb.cells[stuck.index]
        ng = cell.get("metadata", {}).get("nbgrader", {})
        if ng.get("locked") or (ng.get("grade") and not ng.get("solution")):
            return run  # a master cell: the notebook as a whole is too slow
        label = ng.get("grade_id") or cell.get("id") or ""
        g.flags.append(
            f"cell {stuck.index + 1}{f' ({label})' if label else ''} timed out after "
            f"{ctx.timeout:g} s; it was stopped and the notebook graded without it / "
            f"第 {stuck.index + 1} 个单元运行超时，已跳过该单元评分")
        cell.source = ("raise TimeoutError('this cell did not finish within the time limit "
                       "and was stopped (单元运行超时)')")
        path = path.with_name(f"{path.stem}.retry{attempt + 1}.ipynb")
        nbformat.write(nb, path)
    return run  # pragma: no cover


# ------------------------------------------------------------------------------------------


def grade_assignment(course: str | os.PathLike, assignment: str, *,
                     submissions: str | os.PathLike | None = None,
                     students: Sequence[str] | None = None, workers: int | None = None,
                     timeout: float = 120, memory_mb: int = 2048, db_url: str | None = None,
                     scratch_root: str | os.PathLike | None = None,
                     progress: Progress | None = None, write: bool = True
                     ) -> list[NotebookGrade]:
    """Grade every submission of ``assignment`` (see the module docstring); results sorted by
    student and notebook. ``write=False`` skips the gradebook, feedback and audit records."""
    course = Path(course).resolve()
    if not (course / "source").is_dir():
        raise GradingError(f"{course} is not an nbgrader course folder (no source/)")
    root = Path(submissions).resolve() if submissions is not None else course / "submitted"
    config = _config(course)
    masters = _masters(course, assignment, config)
    who = _students(root, assignment, students)
    workers = max(1, int(workers or os.cpu_count() or 1))
    progress = progress or _no_progress
    base = Path(scratch_root) if scratch_root is not None else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    hide = _hidden(course, root, db_url)
    for h in hide:
        if base.resolve().is_relative_to(h):
            raise GradingError(f"scratch folder {base} is inside {h}, which submissions must "
                               "not see; choose a scratch folder outside the course")
    batch = Path(tempfile.mkdtemp(prefix="cbec-grade-", dir=base))
    stack = contextlib.ExitStack()
    try:
        os.chmod(batch, 0o711)  # the sandbox user may enter its job folder, list nothing
        private, jobs = batch / "private", batch / "jobs"
        private.mkdir(mode=0o700)
        jobs.mkdir(mode=0o711)
        os.chmod(jobs, 0o711)
        tasks = [(s, m) for s in who for m in masters]
        pool = WarmPool(min(workers, len(tasks)) or 1, hide=hide, memory_mb=int(memory_mb),
                        timeout=float(timeout), scratch_root=jobs)
        stack.enter_context(pool)
        ctx = _Ctx(course, assignment, root, private, jobs, hide, float(timeout),
                   int(memory_mb), _Datasets(course, assignment, private / "datasets"), pool)
        grades: list[NotebookGrade] = []
        if workers == 1 or len(tasks) <= 1:
            for s, m in progress(tasks, len(tasks), f"grading {assignment}"):
                grades.append(_grade_one(ctx, s, m))
        else:
            with ThreadPoolExecutor(max_workers=min(workers, len(tasks)),
                                    thread_name_prefix="cbec-grade") as pool:
                futs = [pool.submit(_grade_one, ctx, s, m) for s, m in tasks]
                for fut in progress(as_completed(futs), len(futs), f"grading {assignment}"):
                    grades.append(fut.result())
    finally:
        stack.close()
        shutil.rmtree(batch, ignore_errors=True)
    grades.sort(key=lambda g: (g.student, g.notebook))
    if write:
        record(course, assignment, grades, db_url=db_url, submissions=root)
    return grades


def record(course: Path, assignment: str, grades: list[NotebookGrade], *,
           db_url: str | None = None, submissions: Path | None = None,
           feedback_dir: Path | None = None) -> list[str]:
    """Write the grades into the gradebook (:mod:`graders.grading.gradebook`), the feedback
    pages (:mod:`graders.grading.feedback`, default ``<course>/<feedback_directory>``) and the
    audit records (:mod:`graders.grading.audit`). Every step is tried; returns the steps done,
    or raises :class:`RecordError` (carrying all the grades) naming the steps that failed."""
    from graders.grading import audit, feedback, gradebook

    course = Path(course).resolve()
    if feedback_dir is None:
        cfg = _config(course).get("CourseDirectory", {})
        feedback_dir = course / str(cfg.get("feedback_directory") or "feedback")
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("gradebook", lambda: gradebook.write_grades(course, assignment, grades, db_url=db_url,
                                                     submissions=submissions)),
        ("feedback", lambda: feedback.write_feedback(Path(feedback_dir), grades)),
        ("audit", lambda: audit.write_audit(course, grades, db_url=db_url,
                                            assignment=assignment)),
    ]
    done: list[str] = []
    failed: list[str] = []
    if not grades:
        return done
    for step, fn in steps:
        try:
            fn()
        except Exception as exc:
            log.exception("writing the %s failed", step)
            failed.append(f"{step}: {type(exc).__name__}: {str(exc)[:300]}")
            continue
        done.append(step)
    if failed:
        raise RecordError("writing the results failed (" + "; ".join(failed) + "); the grades "
                          "are kept in this error's .grades", grades)
    return done


def summary(grades: Sequence[NotebookGrade]) -> dict[str, Any]:
    """Counts for the end-of-batch table: graded, failed (with diagnoses), time."""
    failed = [g for g in grades if g.status != "ok"]
    return {"notebooks": len(grades), "graded": len(grades) - len(failed),
            "failed": [(g.student, g.notebook, g.status, g.diagnosis) for g in failed],
            "seconds": round(sum(g.seconds for g in grades), 3),
            "missing_answers": sum(1 for g in grades for i in g.items
                                   if i.kind == "cbec" and i.status == "unanswered")}


__all__ = ["GradingError", "RecordError", "grade_assignment", "record", "summary", "versions"]
