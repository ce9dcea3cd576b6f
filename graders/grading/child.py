"""The process that executes one submitted notebook (inside the sandbox).

Run as ``python -m graders.grading.child JOBDIR`` by :func:`graders.grading.run.run_notebook`;
it is not meant to be started by hand. It reads ``JOBDIR/.grader/job.json`` (the code cells and
the answer variables to capture), executes the cells in order in a fresh IPython
``InteractiveShell`` — the shell ipykernel wraps, so magics, ``display``, ``Out``/``_`` and
tracebacks behave as in a Jupyter kernel — and goes on after a failing cell, as nbgrader's
autograde does (``allow_errors``). stdout/stderr are captured per cell (head and tail kept).

Progress is appended to ``JOBDIR/.grader/progress.jsonl`` as it happens (so the grader can tell
which cell was running when the process was killed). After the last cell the requested
variables are captured as plain data (:mod:`graders.grading.capture`) into
``JOBDIR/.grader/results.json`` (+ one Parquet file per DataFrame), and the process ends with
``os._exit`` so no trainee ``atexit`` handler or lingering thread runs after that.

Nothing here is trusted by the grader: the files are validated there.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import re
import sys
import time

from graders.grading import capture as _capture

MAX_STREAM = 4096  # characters of stdout / stderr kept per cell (head + tail)
GRADER_DIR = ".grader"
_BUILTINS = dict(builtins.__dict__)  # before any cell runs


def _original_builtins() -> dict:
    """Put the original builtins back (cells may rebind ``builtins.isinstance``, ``open`` …,
    which would break the bookkeeping); return the cells' changes so they can be re-applied."""
    b = builtins.__dict__
    changed = {k: v for k, v in b.items() if _BUILTINS.get(k, _BUILTINS) is not v}
    b.update(_BUILTINS)
    return changed


class _Stream(io.TextIOBase):
    """A text stream keeping the first and last ``limit // 2`` characters written."""

    def __init__(self, limit: int = MAX_STREAM) -> None:
        super().__init__()
        self.limit = limit
        self.head: list[str] = []
        self.head_len = 0
        self.tail = ""
        self.total = 0

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, s) -> int:
        if not isinstance(s, str):
            s = str(s)
        n = len(s)
        self.total += n
        half = self.limit // 2
        if self.head_len < half:
            part = s[: half - self.head_len]
            self.head.append(part)
            self.head_len += len(part)
            s = s[len(part):]
        if s:
            self.tail = (self.tail + s)[-half:]
        return n

    def text(self) -> str:
        head = "".join(self.head)
        kept = self.head_len + len(self.tail)
        if self.total > kept:
            return f"{head}\n… [{self.total - kept} characters cut] …\n{self.tail}"
        return head + self.tail


def _safe_str(x, limit: int = 2000) -> str:
    try:
        s = str(x)
    except Exception:
        s = f"<unprintable {type(x).__name__}>"
    return s if len(s) <= limit else s[:limit] + " …"


def _make_shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    cfg = Config()
    cfg.HistoryManager.enabled = False
    cfg.InteractiveShell.colors = "nocolor"
    cfg.InteractiveShell.autocall = 0
    shell = InteractiveShell.instance(config=cfg)

    def show(etype, evalue, stb):
        sys.stderr.write(shell.InteractiveTB.stb2text(stb) + "\n")

    shell._showtraceback = show
    # Like ipykernel's displayhook: a cell's value becomes its execute_result (kept here as
    # text/plain, which nbgrader reads for partial credit), not "Out[n]: …" on stdout.
    shell.displayhook.write_output_prompt = lambda: None
    shell.displayhook.write_format_data = _record_result
    return shell


_RESULT: dict = {}  # text/plain of the running cell's execute_result


class _Blocked:
    """A ``sys.meta_path`` finder that refuses the given top-level packages (exam jobs)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r} (not available in this "
                                      "exam: use pandas, numpy and matplotlib)", name=fullname)
        return None


def _hide_packages(names: tuple[str, ...]) -> tuple[_Blocked, dict]:
    """Take ``names`` (and their submodules) out of ``sys.modules`` and block their import
    while the cells run; returns what :func:`_unhide_packages` needs."""
    if "graders.compare" not in sys.modules:  # charts are captured as ChartData afterwards
        import graders.compare  # noqa: F401
    taken = {k: sys.modules.pop(k) for k in list(sys.modules)
             if k.split(".")[0] in names}
    blocker = _Blocked(names)
    sys.meta_path.insert(0, blocker)
    return blocker, taken


def _unhide_packages(state: tuple[_Blocked, dict]) -> None:
    blocker, taken = state
    sys.meta_path[:] = [f for f in sys.meta_path if f is not blocker]
    sys.modules.update(taken)


def _record_result(format_dict, md_dict=None) -> None:
    text = format_dict.get("text/plain") if isinstance(format_dict, dict) else None
    if isinstance(text, str):
        _RESULT["text"] = text


def main(job_dir: str) -> None:
    t0 = time.perf_counter()
    gdir = os.path.join(job_dir, GRADER_DIR)
    with open(os.path.join(gdir, "job.json"), encoding="utf-8") as f:
        job = json.load(f)
    progress = open(os.path.join(gdir, "progress.jsonl"), "a", encoding="utf-8",  # noqa: SIM115
                    buffering=1)

    def log(rec: dict) -> None:
        # a full disk / closed file must not stop the run
        with contextlib.suppress(OSError, ValueError):
            progress.write(json.dumps(rec, ensure_ascii=False) + "\n")

    # What every notebook imports anyway, once, before the clock for cells starts.
    import numpy  # noqa: F401
    import pandas  # noqa: F401

    shell = _make_shell()
    hide = tuple(n for n in job.get("hide_packages", []) if isinstance(n, str))
    hidden = _hide_packages(hide) if hide else None
    t_ready = time.perf_counter()
    log({"event": "ready", "seconds": round(t_ready - t0, 4)})
    real_out, real_err = sys.stdout, sys.stderr
    cells = []
    for cell in job["cells"]:
        idx = cell["index"]
        log({"event": "start", "index": idx})
        out, err = _Stream(), _Stream()
        sys.stdout, sys.stderr = out, err
        t = time.perf_counter()
        _RESULT.clear()
        try:
            res = shell.run_cell(cell["source"], store_history=True, silent=False)
            exc = res.error_before_exec or res.error_in_exec
        except BaseException as e:  # run_cell catches nearly everything; be sure
            exc = e
        finally:
            sys.stdout, sys.stderr = real_out, real_err
            changed = _original_builtins()
        rec = {"index": idx, "ok": exc is None, "seconds": round(time.perf_counter() - t, 4),
               "stdout": out.text(), "stderr": err.text()}
        if exc is not None:
            rec["ename"] = _safe_str(type(exc).__name__, 200)
            rec["evalue"] = _safe_str(exc)
            rec["memory"] = isinstance(exc, MemoryError)
        elif "text" in _RESULT:
            rec["result"] = _safe_str(_RESULT["text"])
        cells.append(rec)
        log({"event": "end", **rec})
        builtins.__dict__.update(changed)  # the notebook keeps what it did
    t_cells = time.perf_counter()
    _original_builtins()  # the capture and the results file must not depend on the cells
    if hidden is not None:
        _unhide_packages(hidden)
    sys.stdout, sys.stderr = real_out, real_err
    names = [n for n in job.get("capture", []) if isinstance(n, str)]
    answers = _capture.capture(shell.user_ns, names, gdir)
    t_end = time.perf_counter()
    result = {"version": _capture.RESULTS_VERSION, "cells": cells, "answers": answers,
              "timing": {"startup": round(t_ready - t0, 4), "cells": round(t_cells - t_ready, 4),
                         "capture": round(t_end - t_cells, 4)}}
    tmp = os.path.join(gdir, "results.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(_capture.dumps(result))
    os.replace(tmp, os.path.join(gdir, "results.json"))
    log({"event": "done"})


# ------------------------------------------------------------------------------------------
# warm mode: a zygote that forks one child per notebook (see graders/grading/pool.py)

ZYGOTE_ARG = "--zygote"
JOB_LOG = "/joblog"  # the children's stdout/stderr (a per-worker folder, wiped after each job)
_ZYGOTE_IGNORED = ("SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGALRM",
                   "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGPIPE")
_PR_SET_DUMPABLE, _PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP = 4, 38, 22


def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _prctl(*args: int) -> None:
    import ctypes

    libc = _libc()
    if libc.prctl(*(ctypes.c_ulong(a) for a in args)) != 0:
        raise OSError(ctypes.get_errno(), f"prctl{args[:2]} failed")


# syscall numbers: (audit arch, ptrace & memory access, key rings, signal/pidfd by pid)
_SYSCALLS = {
    "x86_64": (0xC000003E, (101, 310, 311, 248, 249, 250), (62, 200, 234, 129, 297, 424, 434)),
    "aarch64": (0xC00000B7, (117, 270, 271, 217, 218, 219), (129, 130, 131, 138, 240, 424, 434)),
}


def seccomp_supported() -> bool:
    import platform

    return platform.machine() in _SYSCALLS


def _seccomp_protect(protected: tuple[int, ...]) -> None:
    """Install a seccomp filter in this process (inherited by everything it starts): no
    ``ptrace`` / ``process_vm_readv`` / ``process_vm_writev`` / key-ring calls at all, and no
    signal or pidfd aimed at a ``protected`` pid, its process group, or ``-1`` (EPERM)."""
    import ctypes
    import errno
    import platform

    arch, denied, by_pid = _SYSCALLS[platform.machine()]
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    eperm = 0x00050000 | errno.EPERM
    prog: list[tuple[int, int, int, int]] = []
    fixups: list[tuple[int, str]] = []  # (instruction, label its true branch jumps to)

    def emit(code, k, jt=0, jf=0):
        prog.append((code, jt, jf, k))

    emit(ld, 4)  # arch
    emit(jeq, arch, 1, 0)
    emit(ret, kill)
    emit(ld, 0)  # syscall number
    emit(jge, 0x40000000, 0, 1)  # x32 ABI
    emit(ret, eperm)
    for nr in denied:
        fixups.append((len(prog), "deny"))
        emit(jeq, nr)
    for nr in by_pid:
        fixups.append((len(prog), "pid"))
        emit(jeq, nr)
    emit(ret, allow)
    labels = {"pid": len(prog)}
    emit(ld, 16)  # low 32 bits of args[0] (little-endian): the pid
    targets = {0xFFFFFFFF, 1}
    for p in protected:
        targets |= {p & 0xFFFFFFFF, -p & 0xFFFFFFFF}
    for t in sorted(targets):
        fixups.append((len(prog), "deny"))
        emit(jeq, t)
    emit(ret, allow)
    labels["deny"] = len(prog)
    emit(ret, eperm)
    for i, label in fixups:
        code, _jt, jf, k = prog[i]
        prog[i] = (code, labels[label] - i - 1, jf, k)
        assert 0 < labels[label] - i - 1 < 256

    class SockFilter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                    ("k", ctypes.c_uint32)]

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]

    arr = (SockFilter * len(prog))(*(SockFilter(*ins) for ins in prog))
    fprog = SockFprog(len(prog), arr)
    _prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    libc = _libc()
    if libc.prctl(ctypes.c_int(_PR_SET_SECCOMP), ctypes.c_ulong(2), ctypes.byref(fprog),
                  ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        raise OSError(ctypes.get_errno(), "seccomp filter refused")


def _zygote_preload() -> None:
    """Everything a notebook child needs, imported once (never any trainee code)."""
    import matplotlib
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow
    import pyarrow.parquet  # noqa: F401

    matplotlib.use("Agg")
    import matplotlib.font_manager
    import matplotlib.pyplot
    from IPython.core.interactiveshell import InteractiveShell  # noqa: F401
    from traitlets.config import Config  # noqa: F401

    import cbec_sim
    import cbec_sim.tables
    import graders.compare
    import graders.practice  # noqa: F401

    assert cbec_sim and os.environ.get("CBEC_GRADING") == "1"
    if "graders.exercises" in sys.modules:  # must stay hidden from the sandbox
        raise RuntimeError("graders.exercises was imported in the zygote")


class _Proto:
    """Line protocol on fds 0 (requests) / 1 (answers) with the grader."""

    def __init__(self) -> None:
        self.buf = b""

    def send(self, line: str) -> None:
        data = (line + "\n").encode()
        while data:
            data = data[os.write(1, data):]

    def readline(self) -> str | None:
        while b"\n" not in self.buf:
            chunk = os.read(0, 4096)
            if not chunk:
                return None
            self.buf += chunk
            if len(self.buf) > 4096:
                return None
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode("ascii", "replace")


def _child_after_fork(zygote_pid: int, token: str, timeout: float, memory_mb: int) -> None:
    """In the forked child: own session, fresh fds, per-job limits, filter; then the job."""
    import resource
    import signal

    os.setsid()
    for name in _ZYGOTE_IGNORED:
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as Python sets it up
    signal.signal(signal.SIGINT, signal.default_int_handler)
    fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(fd, 0)
    os.close(fd)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    for n, name in ((1, "child.out"), (2, "child.err")):
        fd = os.open(os.path.join(JOB_LOG, name), flags, 0o600)
        os.dup2(fd, n)
        os.close(fd)
    os.closerange(3, 65536)
    mb = 1024 * 1024
    cpu = int(timeout) + 5
    for lim, val in ((resource.RLIMIT_AS, memory_mb * mb), (resource.RLIMIT_CPU, cpu),
                     (resource.RLIMIT_CORE, 0), (resource.RLIMIT_MSGQUEUE, 0)):
        hard = cpu + 1 if lim == resource.RLIMIT_CPU else val
        resource.setrlimit(lim, (val, hard))
    os.environ["CBEC_JOB_TOKEN"] = token
    _seccomp_protect((zygote_pid,))
    os.chdir("/job")


def _run_child(zygote_pid: int, token: str, timeout: float, memory_mb: int) -> None:
    code = 3
    try:
        _child_after_fork(zygote_pid, token, timeout, memory_mb)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = sys.__stdout__ = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = sys.__stderr__ = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        main("/job")
        code = 0
    except BaseException as exc:
        try:
            _original_builtins()
            import traceback

            traceback.print_exc(file=sys.__stderr__)
            sys.__stderr__.write(f"cbec grading child failed: {type(exc).__name__}: {exc}\n")
        except BaseException:
            pass
    finally:
        with contextlib.suppress(BaseException):
            sys.__stdout__.flush()
            sys.__stderr__.flush()
        os._exit(code)


def _sandbox_pids(me: int) -> list[int]:
    """Live processes of the sandbox other than its init (pid 1) and the zygote."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (1, me):
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            out.append(int(name))
    return out


def _sweep(me: int) -> int:
    """Kill every process in the sandbox but init and the zygote; remove System V IPC
    objects; empty /tmp and /dev/shm. Returns how many processes had to be killed."""
    import ctypes
    import signal

    left = len(_sandbox_pids(me))  # what the job left behind, counted before the kill
    for _ in range(500):
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)  # everything we may signal but init and ourselves
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        pids = _sandbox_pids(me)
        if not pids:
            break
        left = max(left, len(pids))
        time.sleep(0.005)
    else:
        raise RuntimeError(f"processes survive the sweep: {_sandbox_pids(me)[:10]}")
    libc = _libc()
    for kind, fn, extra in (("shm", "shmctl", ()), ("msg", "msgctl", ()),
                            ("sem", "semctl", (0,))):
        try:
            with open(f"/proc/sysvipc/{kind}", encoding="ascii") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            ident = int(row.split()[1])
            getattr(libc, fn)(ctypes.c_int(ident), *extra, ctypes.c_int(0), None)  # IPC_RMID

    mounts = _mount_points()
    # Bind mounts below /tmp (the project or its venv may live there, e.g. a CI checkout in
    # /tmp) and the folders leading to them stay; everything else goes.
    keep = {a for m in mounts for a in _ancestors(m)} | mounts

    def wipe(path: str) -> None:
        if path in mounts:
            return
        if os.path.isdir(path) and not os.path.islink(path):
            with contextlib.suppress(OSError):
                os.chmod(path, 0o700)
            for e in os.listdir(path):
                with contextlib.suppress(OSError, RecursionError):
                    wipe(os.path.join(path, e))
            if path not in keep:
                os.rmdir(path)
        else:
            os.unlink(path)

    for top in ("/tmp", "/dev/shm"):
        with contextlib.suppress(OSError):
            os.chmod(top, 0o1777)
        try:
            entries = os.listdir(top)
        except OSError:
            continue
        for e in entries:
            with contextlib.suppress(OSError, RecursionError):
                wipe(os.path.join(top, e))
        if any(os.path.join(top, e) not in keep for e in os.listdir(top)):
            raise RuntimeError(f"{top} could not be emptied")
    return left


def _mount_points() -> set[str]:
    """Mount points of this mount namespace (octal escapes such as ``\\040`` decoded)."""
    out = set()
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            raw = line.split()[4]
            out.add(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), raw))
    return out


def _ancestors(path: str) -> list[str]:
    parts = path.rstrip("/").split("/")
    return ["/".join(parts[:i]) for i in range(2, len(parts))]


def zygote_main() -> None:
    """Pre-import, then serve ``RUN timeout memory_mb token`` requests, one at a time:
    fork, report ``PID``, wait (``KILL`` from the grader stops the child's group),
    report ``EXIT rc``, sweep the sandbox, report ``CLEAN n``. Never runs trainee code."""
    import select
    import signal

    me = os.getpid()
    if me != 2 or os.getppid() != 1:  # kill(-1) below is only safe inside bwrap's PID space
        raise RuntimeError(f"the zygote must run as pid 2 of a fresh PID namespace (pid {me})")
    for name in _ZYGOTE_IGNORED:
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    _prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    sys.stdout = sys.stderr  # fd 1 is the protocol: nothing else may write there
    _zygote_preload()
    proto = _Proto()
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1:
        raise RuntimeError(f"the zygote has {threads} threads after its imports; cannot fork")
    proto.send(f"READY {me}")
    while True:
        line = proto.readline()
        if line is None or line == "QUIT":
            os._exit(0)
        if line == "KILL":  # came after the child had ended: nothing left to stop
            continue
        parts = line.split()
        if len(parts) != 4 or parts[0] != "RUN":
            proto.send("ERROR bad request")
            os._exit(4)
        timeout, memory_mb, token = float(parts[1]), int(parts[2]), parts[3]
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _run_child(me, token, timeout, memory_mb)
        pidfd = os.pidfd_open(pid)
        proto.send(f"PID {pid}")
        while True:
            ready, _, _ = select.select([0, pidfd], [], [])
            if pidfd in ready:
                break
            req = proto.readline()
            if req is None:
                os._exit(0)  # grader gone: bwrap's PID namespace ends with us
            if req == "KILL":
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        os.close(pidfd)
        _, status = os.waitpid(pid, 0)
        rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        proto.send(f"EXIT {rc}")
        try:
            n = _sweep(me)
        except Exception as exc:
            proto.send(f"ERROR sweep: {str(exc)[:200]}".replace("\n", " "))
            os._exit(5)
        proto.send(f"CLEAN {n}")


if __name__ == "__main__" and sys.argv[1:] == [ZYGOTE_ARG]:
    try:
        zygote_main()
    except BaseException as exc:
        import traceback

        traceback.print_exc()
        sys.stderr.write(f"cbec zygote failed: {type(exc).__name__}: {exc}\n")
        sys.stderr.flush()
        os._exit(6)
    os._exit(0)

if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except BaseException as exc:  # report and end hard
        try:
            _original_builtins()
            import traceback

            traceback.print_exc(file=sys.__stderr__)
            sys.__stderr__.write(f"cbec grading child failed: {type(exc).__name__}: {exc}\n")
            sys.__stderr__.flush()
        finally:
            os._exit(3)
    with contextlib.suppress(Exception):
        sys.__stdout__.flush()
        sys.__stderr__.flush()
    os._exit(0)
