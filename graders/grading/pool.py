"""Warm grading: one sandboxed "zygote" per worker, one ``fork()`` per notebook.

:func:`graders.grading.run.run_notebook` starts a fresh interpreter in a fresh sandbox for every
notebook and pays ~0.7 s of imports each time. :class:`WarmPool` keeps, per worker, ONE
long-lived process in the same bubblewrap sandbox (same namespaces, mounts, environment and
rlimits) that has imported numpy, pandas, pyarrow, IPython, matplotlib (Agg) + pyplot,
cbec_sim and ``graders.practice`` (``CBEC_GRADING=1``; ``graders/exercises`` is an empty tmpfs
there as always) and then only waits for requests. It never runs trainee code itself::

    with WarmPool(2, hide=[course, submissions], timeout=120, memory_mb=2048) as pool:
        r = pool.run(nb_path, data_dir=dataset, capture=["n_orders"])   # -> RunResult

Per notebook
------------
1. the grader fills the worker's folders (``<slot>/job`` is /job in the sandbox, read-write;
   ``<slot>/data`` is /job/data, read-only; ``<slot>/log`` is /joblog) exactly as
   ``run_notebook`` fills a job folder;
2. it sends ``RUN timeout memory_mb token``; the zygote forks; the child starts a new session,
   replaces every file descriptor (stdin /dev/null, stdout/stderr files in /joblog — the
   protocol pipes are closed), sets the per-job rlimits (``RLIMIT_AS`` = ``memory_mb``,
   ``RLIMIT_CPU``, no core files, no POSIX message queues), installs a seccomp filter (below),
   chdirs to /job and runs :func:`graders.grading.child.main` — the very code a cold child runs;
3. the grader enforces the wall-clock timeout: ``KILL`` makes the zygote SIGKILL the child's
   process group; if the zygote does not answer in time the whole sandbox is killed;
4. after the child ends the zygote kills every other process in the sandbox (``kill(-1)``
   inside the PID namespace, repeated until ``/proc`` lists only bwrap's init and the zygote),
   removes System V IPC objects and empties /tmp and /dev/shm, and says ``CLEAN``; the grader
   reads the results (same validation as cold runs) and empties /job, /job/data and /joblog
   before the next notebook is written there.

Isolation between notebooks and from the zygote
-----------------------------------------------
* Every child is a fresh copy-on-write fork of an interpreter that has never run trainee code:
  module globals, monkey-patches, ``builtins`` changes die with the child.
* Nothing of a job survives it: its processes are killed (the whole PID namespace but init and
  zygote — only one job runs per zygote), its files are deleted (all writable places are listed
  in :func:`graders.grading.sandbox.zygote_argv`; /dev itself is read-only here), System V IPC
  objects are removed, POSIX message queues cannot be created (``RLIMIT_MSGQUEUE`` = 0), key
  rings cannot be used (seccomp). Other workers' folders are not in the sandbox at all.
* The zygote is not dumpable (``PR_SET_DUMPABLE`` 0): without ``CAP_SYS_PTRACE`` a child cannot
  ptrace it or open its ``/proc/<pid>/mem``/``fd``; the seccomp filter additionally refuses
  ``ptrace``, ``process_vm_readv``/``writev`` and any signal/pidfd aimed at the zygote, its
  group, bwrap's init or ``-1`` (EPERM), and the zygote ignores every catchable signal anyway.
* If the zygote dies, says something unexpected or does not answer within its deadline, the
  sandbox is killed and a new one started; the notebook is retried once there, then run cold
  by ``run_notebook`` with a note saying why.

Warm mode needs bubblewrap (the sweep relies on the PID namespace) and a known syscall table
(x86-64, aarch64); otherwise, with ``CBEC_GRADE_WARM=0`` or ``warm=False``, every notebook runs
cold through ``run_notebook``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from graders.grading import run as _run
from graders.grading import sandbox as _sandbox
from graders.grading.child import ZYGOTE_ARG, seccomp_supported

WARM_ENV = "CBEC_GRADE_WARM"  # 1 (default) | 0
START_DEADLINE = 90.0  # seconds for a zygote to import everything (noisy shared machines)
ANSWER_DEADLINE = 15.0  # seconds for PID / EXIT-after-KILL / CLEAN answers
MAX_JOBS = 500  # jobs per zygote before it is replaced (hygiene)


class ZygoteError(RuntimeError):
    """The zygote died, misbehaved or did not answer in time."""


def warm_enabled() -> bool:
    return os.environ.get(WARM_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class _Zygote:
    """One sandboxed zygote and its worker folders."""

    def __init__(self, slot: Path, hide: list[Path], ro_binds: list[Path],
                 limits: _sandbox.Limits) -> None:
        self.slot, self.hide, self.ro_binds, self.limits = slot, hide, ro_binds, limits
        self.proc: subprocess.Popen | None = None
        self.buf = b""
        self.jobs = 0
        self.data_key: tuple | None = None
        for d in ("job", "data", "log"):
            (slot / d).mkdir(parents=True, exist_ok=True)
        (slot / "job" / "data").mkdir(exist_ok=True)  # mount point of the read-only data

    # --- process ---------------------------------------------------------------------------

    def start(self) -> None:
        self.stop()
        self._empty()
        err = open(self.slot / "zygote.err", "wb")  # noqa: SIM115
        command = [_sandbox.python_executable(), "-m", "graders.grading.child", ZYGOTE_ARG]
        argv = _sandbox.zygote_argv(self.slot, command, hide=self.hide, ro_binds=self.ro_binds,
                                    bwrap=_sandbox.bwrap_status()[1])
        # the zygote's own limits: the per-job ones are set in each child after fork
        zenv = _sandbox.child_env(  # no jemalloc thread: the zygote forks
            _sandbox.JOB_MOUNT, {"JE_ARROW_MALLOC_CONF": "background_thread:false"})
        zl = _sandbox.Limits(timeout=max(3600.0, self.limits.timeout),
                             memory_mb=max(4096, self.limits.memory_mb))
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                cwd="/", env=zenv, close_fds=True,
                start_new_session=True, preexec_fn=_sandbox._limits_fn(zl, False))
        finally:
            err.close()
        self.buf = b""
        self.jobs = 0
        line = self._expect(START_DEADLINE, "READY")
        if len(line.split()) != 2:
            raise self._fail(f"unexpected greeting {line!r}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGKILL)  # bwrap and, with its PID namespace, everything
        with contextlib.suppress(OSError):
            p.stdin.close()
        p.wait()
        with contextlib.suppress(OSError):
            p.stdout.close()

    def _fail(self, why: str) -> ZygoteError:
        tail = ""
        with contextlib.suppress(OSError):
            tail = (self.slot / "zygote.err").read_bytes()[-600:].decode("utf-8", "replace")
            tail = tail.strip().splitlines()[-1] if tail.strip() else ""
        self.stop()
        return ZygoteError(why + (f" ({tail[:200]})" if tail else ""))

    def _send(self, line: str) -> None:
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            raise self._fail(f"the zygote is gone (could not send {line.split()[0]})") from None

    def _readline(self, deadline: float) -> str | None:
        """One answer line, or None when ``deadline`` (perf_counter) passes."""
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                raise self._fail("the zygote ended unexpectedly")
            self.buf += chunk
            if len(self.buf) > 4096:
                raise self._fail("the zygote wrote garbage")
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode("ascii", "replace")

    def _expect(self, seconds: float, word: str) -> str:
        line = self._readline(time.perf_counter() + seconds)
        if line is None:
            raise self._fail(f"no {word} from the zygote within {seconds:g} s")
        if line.split()[:1] != [word]:
            raise self._fail(f"expected {word} from the zygote, got {line[:100]!r}")
        return line

    # --- folders ---------------------------------------------------------------------------

    def _empty(self, keep_data: bool = False) -> None:
        """Empty the worker's folders (only while no sandboxed process runs)."""
        for d in ("job", "log", *(() if keep_data else ("data",))):
            top = self.slot / d
            for e in os.scandir(top):
                if d == "job" and e.name == "data":
                    continue  # the mount point of the read-only data
                if e.is_dir(follow_symlinks=False):
                    _run._rmtree(Path(e.path))
                else:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(e.path)
        if not keep_data:
            self.data_key = None
        job_data = self.slot / "job" / "data"
        if job_data.is_symlink() or not job_data.is_dir():
            with contextlib.suppress(OSError):
                job_data.unlink()
            job_data.mkdir(exist_ok=True)

    def _load_data(self, data_dir: str | os.PathLike | None) -> None:
        key = None if data_dir is None else _data_key(Path(data_dir))
        if key is not None and key == self.data_key:
            return  # read-only in the sandbox: the previous copy is intact
        self._empty()
        if data_dir is not None:
            shutil.copytree(data_dir, self.slot / "data", dirs_exist_ok=True)
            self.data_key = key

    # --- one job ---------------------------------------------------------------------------

    def run(self, raw: bytes, nb_name: str, code: list, names: list[str],
            data_dir: str | os.PathLike | None, timeout: float, t0: float) -> _run.RunResult:
        if not self.alive() or self.jobs >= MAX_JOBS:
            self.start()
        self._empty(keep_data=True)
        self._load_data(data_dir)
        work = self.slot / "job"
        gdir = _run.write_job(work, nb_name, raw, code, names)
        cells = {i: _run._cell_info(i, c) for i, c in code}
        limits = _sandbox.Limits(timeout=float(timeout), memory_mb=self.limits.memory_mb)
        t_prep = time.perf_counter()
        self.jobs += 1
        self._send(f"RUN {float(timeout):g} {int(self.limits.memory_mb)} {secrets.token_hex(16)}")
        self._expect(ANSWER_DEADLINE, "PID")
        t_start = time.perf_counter()
        timed_out = False
        line = self._readline(t_start + float(timeout))
        if line is None:
            timed_out = True
            self._send("KILL")
            line = self._readline(time.perf_counter() + ANSWER_DEADLINE)
            if line is None:  # the zygote itself is stuck: end the whole sandbox
                self.stop()
                line = "EXIT -9"
        parts = line.split()
        if len(parts) != 2 or parts[0] != "EXIT" or not parts[1].lstrip("-").isdigit():
            raise self._fail(f"expected EXIT from the zygote, got {line[:100]!r}")
        rc = int(parts[1])
        seconds = time.perf_counter() - t_start
        notes: list[str] = []
        if self.alive():
            clean = self._readline(time.perf_counter() + ANSWER_DEADLINE)
            if clean is None or clean.split()[:1] != ["CLEAN"]:
                self.stop()  # the PID namespace ends: nothing of the job survives
                notes.append("the sandbox was restarted after the notebook")
            elif clean.split()[1:2] not in (["0"], []):
                notes.append(f"killed {clean.split()[1]} process(es) left behind by the "
                             "notebook")
        stderr = _tail(self.slot / "log" / "child.err")
        out = _sandbox.Outcome(rc, timed_out, seconds, "bwrap", stderr, "sandbox uid 65534",
                               notes)
        t_run = time.perf_counter()
        try:
            result = _run._collect(out, gdir, cells, names, limits)
        finally:
            self._empty(keep_data=True)
        result.timing.update({"prepare": round(t_prep - t0, 4), "run": round(t_run - t_prep, 4),
                              "collect": round(time.perf_counter() - t_run, 4)})
        result.notes = [*notes, "warm"]
        result.seconds = time.perf_counter() - t0
        return result


def _data_key(d: Path) -> tuple:
    d = d.resolve()
    items = []
    for dirpath, _dirs, files in os.walk(d):
        for f in sorted(files):
            st = os.lstat(os.path.join(dirpath, f))
            items.append((os.path.relpath(os.path.join(dirpath, f), d), st.st_size,
                          st.st_mtime_ns, st.st_ino))
    return (str(d), tuple(sorted(items)))


def _tail(path: Path, limit: int = 8192) -> str:
    if not _run._regular(path, 1 << 40):
        return ""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with open(fd, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


class WarmPool:
    """``workers`` warm zygotes (started lazily) shared by the threads that call :meth:`run`.

    ``hide``, ``ro_binds``, ``memory_mb`` and ``scratch_root`` are fixed per pool (they shape
    the sandbox); ``timeout`` is the default of :meth:`run`. ``warm=None`` follows
    ``$CBEC_GRADE_WARM`` (default on)."""

    def __init__(self, workers: int = 1, *, hide: Sequence[str | os.PathLike] = (),
                 ro_binds: Sequence[str | os.PathLike] = (), memory_mb: int = 2048,
                 timeout: float = 120, scratch_root: str | os.PathLike | None = None,
                 warm: bool | None = None) -> None:
        self.workers = max(1, int(workers))
        self.hide = [Path(h).resolve() for h in hide]
        self.ro_binds = [Path(p).resolve() for p in ro_binds]
        self.memory_mb, self.timeout = int(memory_mb), float(timeout)
        self.scratch_root = scratch_root
        want = warm_enabled() if warm is None else bool(warm)
        self.why_cold = "" if want else f"warm mode off ({WARM_ENV}=0)"
        if want:
            if _sandbox.mode() != "bwrap":
                self.why_cold = "warm mode needs bubblewrap"
            elif not seccomp_supported():
                self.why_cold = "warm mode not supported on this CPU architecture"
            elif not hasattr(os, "pidfd_open"):
                self.why_cold = "warm mode needs Linux ≥ 5.3 (pidfd)"
        self.warm = not self.why_cold
        self._root: Path | None = None
        self._free: queue.SimpleQueue[_Zygote] = queue.SimpleQueue()
        self._all: list[_Zygote] = []
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> WarmPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        for z in self._all:
            with contextlib.suppress(Exception):
                z.stop()
        if self._root is not None:
            _run._rmtree(self._root)
            self._root = None

    def _slot(self) -> _Zygote:
        with self._lock:
            if self._root is None:
                base = Path(self.scratch_root) if self.scratch_root is not None \
                    else Path(tempfile.gettempdir())
                base = base.resolve()
                for h in self.hide:
                    if base.is_relative_to(h):
                        raise ValueError(f"scratch_root {base} is inside hidden path {h}: jobs "
                                         "must run outside the course tree")
                self._root = Path(tempfile.mkdtemp(prefix="cbec-warm-", dir=base))
            if len(self._all) < self.workers:
                z = _Zygote(self._root / f"w{len(self._all)}", self.hide, self.ro_binds,
                            _sandbox.Limits(timeout=self.timeout, memory_mb=self.memory_mb))
                self._all.append(z)
                return z
        return self._free.get()

    def run(self, nb_path: str | os.PathLike, *, data_dir: str | os.PathLike | None,
            capture: Sequence[str], timeout: float | None = None,
            memory_mb: int | None = None, scratch_root: str | os.PathLike | None = None,
            hide: Sequence[str | os.PathLike] | None = None,
            ro_binds: Sequence[str | os.PathLike] | None = None) -> _run.RunResult:
        """Like :func:`graders.grading.run.run_notebook` (same result), in a warm zygote.
        Arguments that differ from the pool's sandbox (``hide``, ``ro_binds``, a larger
        ``memory_mb``) make this one notebook run cold."""
        timeout = self.timeout if timeout is None else float(timeout)
        memory_mb = self.memory_mb if memory_mb is None else int(memory_mb)
        cold_kw = {"data_dir": data_dir, "capture": capture, "timeout": timeout,
                   "memory_mb": memory_mb,
                   "scratch_root": scratch_root if scratch_root is not None
                   else self.scratch_root,
                   "hide": self.hide if hide is None else hide,
                   "ro_binds": self.ro_binds if ro_binds is None else ro_binds}
        same = ((hide is None or [Path(h).resolve() for h in hide] == self.hide)
                and (ro_binds is None or [Path(p).resolve() for p in ro_binds] == self.ro_binds)
                and memory_mb == self.memory_mb)
        if not self.warm or not same or self._closed:
            return _run.run_notebook(nb_path, **cold_kw)
        t0 = time.perf_counter()
        names = list(dict.fromkeys(capture))
        sub = _run.read_submission(nb_path, names, t0)
        if isinstance(sub, _run.RunResult):
            return sub
        raw, code = sub
        z = self._slot()
        errors: list[str] = []
        try:
            for _attempt in range(2):
                try:
                    result = z.run(raw, Path(nb_path).name, code, names, data_dir, timeout, t0)
                    if errors:
                        result.notes.append(f"the warm sandbox failed ({errors[0][:300]}) and "
                                            "was restarted")
                    return result
                except ZygoteError as exc:  # a fresh zygote next time
                    z.stop()
                    errors.append(str(exc))
                except OSError as exc:  # e.g. the worker folder could not be filled
                    z.stop()
                    errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            self._free.put(z)
        result = _run.run_notebook(nb_path, **cold_kw)
        result.notes.append("the warm sandbox failed twice, ran in a fresh process instead: "
                            + " / ".join(e[:300] for e in errors))
        return result


__all__ = ["WARM_ENV", "WarmPool", "ZygoteError", "warm_enabled"]
