"""Run the grading child in a sandbox: bubblewrap where it works, a weaker fallback elsewhere.

bubblewrap (``bwrap``, Debian package ``bubblewrap``; ``scripts/ensure-services`` installs it)
--------------------------------------------------------------------------------------------
Probed once per process (:func:`bwrap_status`). The child then runs in fresh namespaces of
every kind (``--unshare-all --unshare-user``: no network at all — only a loopback device —,
its own PID space, no IPC with the host), as uid/gid 65534 inside, with no capabilities and no
way to create further user namespaces (``--disable-userns``), in a new session
(``--new-session``: no terminal injection) and killed with its parent (``--die-with-parent``).
Its file system is built from nothing:

* read-only: ``/usr`` (with Debian's ``/bin``, ``/lib`` … symlinks), a handful of harmless
  ``/etc`` files, the Python installation (``sys.base_prefix``), the virtualenv
  (``sys.prefix``) and the ``graders`` and ``cbec_sim`` package directories — nothing else of
  the host: not the project root, not the course, submissions, gradebook or secret, not
  ``$HOME``, not other jobs' scratch directories;
* an empty read-only tmpfs over ``graders/exercises`` (the reference answers) and over every
  ``hide`` path that lies inside one of the trees above; a hidden *file* gets ``/dev/null``
  bound over it, which sits on a ``nodev`` mount, so opening it fails with ``PermissionError``.
  ``hide`` paths outside those trees are not in the sandbox anyway. A ``hide`` path that
  *contains* code the child needs (e.g. the project root) hides everything of it except that
  code;
* ``/tmp`` a fresh tmpfs (size-capped), ``/proc`` of the new PID namespace, a minimal ``/dev``;
* exam jobs (``isolate=True``): neither ``graders`` nor ``cbec_sim`` is bound, only the
  grading child's own files (``ISOLATE_FILES``), and the child blocks both imports while the
  cells run, so a notebook cannot use the kit (used by ``cbec exam grade``);
* the job directory bound read-write at ``/job`` — the working directory and the only
  writable place besides ``/tmp`` — with its ``data/`` re-bound read-only; finally the
  sandbox's root is remounted read-only.

Limits (both modes), set in the parent's ``preexec_fn`` before ``exec`` and so inherited:
``RLIMIT_AS`` = ``memory_mb`` (per process: a notebook that starts processes can use more in
total), ``RLIMIT_FSIZE`` (largest file), ``RLIMIT_NPROC``, ``RLIMIT_NOFILE``, ``RLIMIT_CORE`` = 0
and ``RLIMIT_CPU`` a little above the timeout. The child starts in its own process group; on
timeout the whole group gets ``SIGKILL`` at once (no graceful shutdown). Under bwrap that ends
the PID namespace, so every process the notebook started — detached, double-forked or
``setsid`` ones included — dies with it. Caveat: when the grader runs as root, the kernel does
not enforce ``RLIMIT_NPROC`` inside bwrap's new user namespace (observed on Linux 6.18: a
sandboxed loop forked past the limit), so a fork bomb is bounded by the timeout and the
PID-namespace kill only; a cgroup (e.g. ``systemd-run --scope -p TasksMax=…`` around
``cbec grade``) closes that.

Fallback (no ``bwrap``, or it cannot create namespaces here — e.g. inside some containers)
------------------------------------------------------------------------------------------
A one-time warning is printed and :func:`run_sandboxed` still uses the fresh scratch job
directory as working directory and ``HOME``, the scrubbed environment, the same rlimits and
the process-group ``SIGKILL``; processes that left the group (``setsid``) are found afterwards
by a per-job token in their environment or by a working directory inside the job, and killed.
When the grader runs as root the child drops to ``nobody`` (``setgroups([])``, ``setgid``,
``setuid`` in ``preexec_fn``), so root-owned files with mode 0600/0700 — a course folder,
gradebook or secret kept private, as they should be — are unreadable; if the Python
installation itself is not readable by ``nobody`` (e.g. a pyenv under ``/root``), the child
stays root and the warning says so.

This is much weaker and only meant for development machines: the network is reachable, the
whole file system is visible with normal permissions (world-readable course files, the
reference answers in ``graders/exercises`` and other trainees' submissions if their modes
allow it), and a process that clears its environment and leaves the process group can outlive
the job. Grade real cohorts where bubblewrap works (``CBEC_SANDBOX=bwrap`` makes a missing
sandbox an error instead of a fallback).
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_ENV = "CBEC_SANDBOX"  # auto (default) | bwrap | fallback
JOB_MOUNT = "/job"
NOBODY = 65534
FSIZE_MB = 256  # largest file the notebook may write
NPROC = 512  # processes/threads of the sandbox's user (counted per user, not per job)
NOFILE = 1024
TMP_MB = 256  # size of the sandbox's /tmp
# /etc files a Python process may read; world-readable and harmless (no /etc/shadow, no ssl keys)
# Exam jobs (``isolate=True``): the kit's packages are NOT visible to the notebook; only the
# files the grading child itself runs are bound (under graders/), and the child blocks
# ``import graders`` / ``import cbec_sim`` while cells run (graders/grading/child.py).
HIDDEN_PACKAGES = ("graders", "cbec_sim")
ISOLATE_FILES = ("__init__.py", "compare.py", "grading/__init__.py", "grading/child.py",
                 "grading/capture.py")
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone",
             "nsswitch.conf", "passwd", "group", "host.conf", "mime.types", "fonts")


class SandboxError(RuntimeError):
    """The sandbox that was asked for is not available."""


@dataclass(frozen=True)
class Limits:
    timeout: float = 120.0
    memory_mb: int = 2048
    fsize_mb: int = FSIZE_MB
    nproc: int = NPROC
    nofile: int = NOFILE


@dataclass
class Outcome:
    """How the sandboxed process ended."""

    returncode: int | None
    timed_out: bool
    seconds: float
    mode: str  # "bwrap" | "fallback"
    stderr: str = ""
    user: str = ""
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------
# what the child needs


def _pkg_dir(name: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SandboxError(f"cannot locate package {name}")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


@functools.cache
def code_dirs() -> tuple[Path, ...]:
    """Directories the child must see read-only: Python, the venv, graders and cbec_sim."""
    dirs = [Path(sys.base_prefix), Path(sys.base_exec_prefix), Path(sys.prefix),
            _pkg_dir("graders"), _pkg_dir("cbec_sim")]
    out: list[Path] = []
    for d in dirs:
        d = d.resolve()
        if d not in out:
            out.append(d)
    # drop directories inside another one in the list
    return tuple(d for d in out if not any(o != d and d.is_relative_to(o) for o in out))


def exercises_dir() -> Path:
    return _pkg_dir("graders") / "exercises"


def python_executable() -> str:
    return sys.executable


# ------------------------------------------------------------------------------------------
# bubblewrap


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for d in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = Path("/") / d
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _hide_args(hide: Sequence[Path], bound: Sequence[Path], needed: Sequence[Path]) -> list[str]:
    args: list[str] = []
    for h in hide:
        h = Path(h).resolve()
        if not any(h.is_relative_to(b) for b in bound):
            continue  # not in the sandbox at all
        if any(n.is_relative_to(h) for n in needed):
            continue  # contains code the child needs: only that code is bound anyway
        if h.is_dir():
            args += ["--tmpfs", str(h), "--remount-ro", str(h)]
        elif h.exists():
            args += ["--ro-bind", "/dev/null", str(h)]
    return args


def bwrap_argv(job_dir: Path, command: Sequence[str], *, hide: Sequence[Path] = (),
               ro_binds: Sequence[Path] = (), bwrap: str = "bwrap",
               isolate: bool = False) -> list[str]:
    """The full ``bwrap`` command line that runs ``command`` with ``job_dir`` at /job.
    ``isolate``: show neither ``cbec_sim`` nor ``graders`` (but the child's own files)."""
    argv = _bwrap_common(hide, ro_binds, bwrap, isolate=isolate)
    job_dir = Path(job_dir)
    argv += ["--bind", str(job_dir), JOB_MOUNT]
    if (job_dir / "data").is_dir():
        argv += ["--ro-bind", str(job_dir / "data"), f"{JOB_MOUNT}/data"]
    argv += ["--remount-ro", "/", "--chdir", JOB_MOUNT, "--", *command]
    return argv


def zygote_argv(slot: Path, command: Sequence[str], *, hide: Sequence[Path] = (),
                ro_binds: Sequence[Path] = (), bwrap: str = "bwrap") -> list[str]:
    """The ``bwrap`` command line of a warm zygote (:mod:`graders.grading.pool`): the same
    sandbox, with the worker's folders ``slot/job`` at /job (read-write; the grader empties it
    between notebooks), ``slot/data`` at /job/data (read-only) and ``slot/log`` at /joblog
    (the children's stdout/stderr). ``/dev`` is read-only but for a ``/dev/shm`` tmpfs, so the
    only writable places are /job, /joblog, /tmp and /dev/shm — all emptied after every job."""
    slot = Path(slot)
    argv = _bwrap_common(hide, ro_binds, bwrap)
    argv += ["--tmpfs", "/dev/shm", "--remount-ro", "/dev",
             "--bind", str(slot / "job"), JOB_MOUNT,
             "--ro-bind", str(slot / "data"), f"{JOB_MOUNT}/data",
             "--bind", str(slot / "log"), "/joblog",
             "--remount-ro", "/", "--chdir", JOB_MOUNT, "--", *command]
    return argv


def _bwrap_common(hide: Sequence[Path], ro_binds: Sequence[Path], bwrap: str, *,
                  isolate: bool = False) -> list[str]:
    needed = list(code_dirs())
    pkgs = [_pkg_dir(n) for n in HIDDEN_PACKAGES]
    if isolate:
        needed = [d for d in needed if d not in pkgs]
    bound = [*needed, *(Path(p).resolve() for p in ro_binds)]
    argv = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--new-session", "--uid", str(NOBODY), "--gid", str(NOBODY),
            "--hostname", "cbec-sandbox", *_system_binds(),
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(TMP_MB * 1024 * 1024), "--tmpfs", "/tmp"]
    for d in bound:
        argv += ["--ro-bind", str(d), str(d)]
    if isolate:
        argv += _isolate_args(pkgs, bound)
    elif exercises_dir().is_dir():
        argv += ["--tmpfs", str(exercises_dir()), "--remount-ro", str(exercises_dir())]
    argv += _hide_args(hide, bound, needed)
    return argv


def _isolate_args(pkgs: Sequence[Path], bound: Sequence[Path]) -> list[str]:
    """Hide the kit's packages (an empty tmpfs where they lie inside a bound tree, e.g. a
    non-editable install in the venv) and bind back only the grading child's own files."""
    args: list[str] = []
    for d in pkgs:
        if any(d.is_relative_to(b) for b in bound):
            args += ["--tmpfs", str(d)]
    graders = pkgs[0]
    for rel in ISOLATE_FILES:
        f = graders / rel
        args += ["--ro-bind", str(f), str(f)]
    for d in pkgs:
        if any(d.is_relative_to(b) for b in bound):
            args += ["--remount-ro", str(d)]
    return args


@functools.cache
def bwrap_status() -> tuple[bool, str]:
    """(usable, reason): whether bubblewrap can build the sandbox here (probed once)."""
    exe = shutil.which("bwrap")
    if not exe:
        return False, "bwrap is not installed (Debian: apt-get install bubblewrap)"
    import tempfile

    with tempfile.TemporaryDirectory(prefix="cbec-bwrap-probe-") as tmp:
        argv = bwrap_argv(Path(tmp), [python_executable(), "-I", "-S", "-c", "print('ok')"],
                          bwrap=exe)
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                               stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"bwrap could not run: {exc}"
    if p.returncode != 0 or p.stdout.strip() != "ok":
        return False, f"bwrap cannot create the sandbox here: {p.stderr.strip()[:300]}"
    return True, exe


_warned = False


def _warn_fallback(reason: str, user_note: str) -> None:
    global _warned
    if _warned:
        return
    _warned = True
    msg = (f"cbec grade: bubblewrap sandbox unavailable ({reason}); using the WEAKER fallback "
           f"(scratch dir, rlimits, process-group kill{user_note}) — no network or file-system "
           "isolation. See graders/grading/sandbox.py. / 沙箱不可用，使用较弱的隔离方式。")
    print(msg, file=sys.stderr)


def mode() -> str:
    """"bwrap" or "fallback", honouring ``$CBEC_SANDBOX`` (auto | bwrap | fallback)."""
    want = os.environ.get(SANDBOX_ENV, "auto").strip().lower() or "auto"
    if want not in ("auto", "bwrap", "fallback"):
        raise SandboxError(f"{SANDBOX_ENV}={want!r}: use auto, bwrap or fallback")
    if want == "fallback":
        return "fallback"
    ok, reason = bwrap_status()
    if ok:
        return "bwrap"
    if want == "bwrap":
        raise SandboxError(f"{SANDBOX_ENV}=bwrap but {reason}")
    return "fallback"


@functools.cache
def nobody_can_run_python() -> bool:
    """Whether the interpreter and the project can be used after dropping to ``nobody``."""
    if os.geteuid() != 0:
        return False
    try:
        p = subprocess.run([python_executable(), "-c", "import graders.grading.capture"],
                           capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
                           cwd="/", preexec_fn=_drop_to_nobody, env=_base_env("/"))
    except (OSError, subprocess.SubprocessError):
        return False
    return p.returncode == 0


def _drop_to_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


# ------------------------------------------------------------------------------------------
# running


def _base_env(home: str) -> dict[str, str]:
    return {"PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": home, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "USER": "nobody",
            "LOGNAME": "nobody", "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1"}


def child_env(home: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The child's whole environment (nothing is inherited: no proxies, tokens or paths)."""
    env = _base_env(home)
    env.update({"CBEC_GRADING": "1", "CBEC_NO_LOG": "1", "MPLBACKEND": "Agg",
                "MPLCONFIGDIR": f"{home}/.matplotlib", "IPYTHONDIR": f"{home}/.ipython",
                "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "NUMEXPR_NUM_THREADS": "1", "ARROW_DEFAULT_MEMORY_POOL": "system",
                "TMPDIR": "/tmp"})
    env.update(extra or {})
    return env


def _limits_fn(limits: Limits, drop: bool) -> Callable[[], None]:
    mb = 1024 * 1024
    as_bytes = int(limits.memory_mb) * mb
    fsize = int(limits.fsize_mb) * mb
    cpu = int(limits.timeout) + 5

    def preexec() -> None:  # runs in the forked child before exec: keep it to syscalls
        resource.setrlimit(resource.RLIMIT_AS, (as_bytes, as_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.nproc, limits.nproc))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.nofile, limits.nofile))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        os.umask(0o077)
        if drop:
            _drop_to_nobody()

    return preexec


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _kill_stragglers(token: str, job_dir: Path) -> int:
    """SIGKILL every process that carries the job's ``token`` in its environment or works
    inside ``job_dir`` (fallback mode: processes that left the process group)."""
    import time

    needle = token.encode()
    job = str(job_dir)
    killed, quiet = 0, 0
    while quiet < 2:  # until two scans in a row find nothing (a straggler may fork or exec)
        found = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    mine = needle in f.read()
                if not mine:
                    cwd = os.readlink(f"/proc/{pid}/cwd")
                    mine = cwd == job or cwd.startswith(job + "/")
                if mine:
                    os.kill(int(pid), signal.SIGKILL)
                    found += 1
            except (OSError, ValueError):
                continue
        killed += found
        quiet = 0 if found else quiet + 1
        if quiet < 2:
            time.sleep(0.02)
    return killed


def run_sandboxed(job_dir: Path, log_dir: Path, *, limits: Limits, hide: Sequence[Path] = (),
                  ro_binds: Sequence[Path] = (), isolate: bool = False) -> Outcome:
    """Run ``python -m graders.grading.child`` on ``job_dir`` and wait (or kill) it.

    The child's own stdout/stderr go to files in ``log_dir``, which is outside the sandbox.
    ``isolate`` (exam jobs): ``graders`` and ``cbec_sim`` are not visible in the sandbox (the
    fallback can only block their import inside the child)."""
    import secrets
    import time

    m = mode()
    notes: list[str] = []
    token = secrets.token_hex(16)
    if m == "bwrap":
        home = JOB_MOUNT
        command = [python_executable(), "-m", "graders.grading.child", JOB_MOUNT]
        argv = bwrap_argv(job_dir, command, hide=hide, ro_binds=ro_binds,
                          bwrap=bwrap_status()[1], isolate=isolate)
        drop, user, cwd = False, "sandbox uid 65534", "/"
    else:
        home = str(job_dir)
        argv = [python_executable(), "-m", "graders.grading.child", str(job_dir)]
        drop = os.geteuid() == 0 and nobody_can_run_python()
        user = "nobody" if drop else f"uid {os.geteuid()}"
        cwd = str(job_dir)
        if drop:
            _chown_tree(job_dir, NOBODY)
        _warn_fallback(bwrap_status()[1] if os.environ.get(SANDBOX_ENV) != "fallback"
                       else f"{SANDBOX_ENV}=fallback",
                       ", runs as nobody" if drop else
                       (", runs as ROOT: Python is not readable by nobody"
                        if os.geteuid() == 0 else ""))
        notes.append("fallback sandbox (weaker isolation)")
    env = child_env(home, {"CBEC_JOB_TOKEN": token})
    out_path, err_path = log_dir / "child.out", log_dir / "child.err"
    t0 = time.perf_counter()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                cwd=cwd, env=env, close_fds=True, start_new_session=True,
                                preexec_fn=_limits_fn(limits, drop))
        timed_out = False
        try:
            rc = proc.wait(timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            rc = proc.wait()
        finally:
            _kill_group(proc.pid)  # anything left in the group (fallback mode)
    seconds = time.perf_counter() - t0
    if m == "fallback":
        n = _kill_stragglers(token, job_dir)
        if n:
            notes.append(f"killed {n} process(es) left behind by the notebook")
    try:
        with open(err_path, "rb") as f:
            f.seek(max(0, os.path.getsize(err_path) - 8192))
            stderr = f.read().decode("utf-8", "replace")
    except OSError:
        stderr = ""
    return Outcome(rc, timed_out, seconds, m, stderr, user, notes)


def _chown_tree(root: Path, uid: int) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)
    os.chown(root, uid, uid)


def fallback_exposed(paths: Sequence[Path]) -> list[Path]:
    """``hide`` paths that the fallback cannot protect (readable by ``nobody``: the path or
    one of its parents is world-accessible all the way)."""
    out = []
    for p in paths:
        p = Path(p).resolve()
        if not p.exists():
            continue
        chain = [*reversed(p.parents), p]
        if all(c.stat().st_mode & 0o005 for c in chain[:-1]) and p.stat().st_mode & 0o004:
            out.append(p)
    return out
