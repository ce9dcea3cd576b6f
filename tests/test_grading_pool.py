"""graders.grading.pool: warm zygotes must be as isolated as a fresh sandbox per notebook.

Real bubblewrap (skipped without it, failed under ``CI=true``); no mocks. The attack tests of
``test_grading_attacks.py`` also run through the pool (its ``warm`` parameter).
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
from test_grading_run import DATA, make_nb, require_bwrap

from graders.grading import capture as C
from graders.grading import sandbox
from graders.grading.pool import WARM_ENV, WarmPool


@pytest.fixture(autouse=True)
def _bwrap(monkeypatch):
    monkeypatch.delenv(sandbox.SANDBOX_ENV, raising=False)
    monkeypatch.delenv(WARM_ENV, raising=False)
    require_bwrap()


@pytest.fixture
def pool(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with WarmPool(1, scratch_root=scratch, timeout=60, memory_mb=1024) as p:
        yield p
    assert list(scratch.iterdir()) == []


def warm(r) -> bool:
    return "warm" in r.notes and not any("failed" in n for n in r.notes)


def zygote_pid(p: WarmPool) -> int:
    (z,) = p._all
    return z.proc.pid


def _tmp_ancestors() -> list[str]:
    """Top-level /tmp entries the sandbox must keep: parents of bound code folders."""
    import graders
    from graders.grading import sandbox

    tops = {Path(d).resolve() for d in sandbox.code_dirs()} | {Path(graders.__file__).parent}
    return sorted({p.relative_to("/tmp").parts[0] for p in tops
                   if p.is_relative_to("/tmp") and p != Path("/tmp")})


def host_pids_with(marker: str) -> list[str]:
    alive = []
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                alive.append(pid)
        except OSError:
            continue
    return alive


def test_nothing_leaks_from_one_job_to_the_next(tmp_path, pool):
    marker = f"cbec-sleeper-{uuid.uuid4().hex}"
    job1 = make_nb(tmp_path / "a" / "one.ipynb", [
        "import builtins, os, sys, subprocess, pandas as pd, cbec_sim, graders.practice\n"
        "cbec_sim.LEAKED = 'job 1'\nbuiltins.LEAKED = 'job 1'\n"
        "pd.DataFrame.sum = lambda self, *a, **k: 'patched by job 1'\n"
        "import statistics\nstatistics.mean = lambda *a, **k: 'patched'\n"
        "os.environ['LEAKED'] = '1'\n"
        "open('/tmp/x', 'w').write('job 1')\nos.makedirs('/tmp/d/e')\n"
        "os.chmod('/tmp/d', 0)\nopen('/dev/shm/x', 'w').write('job 1')\n"
        "open('mine.txt', 'w').write('job 1')\nos.makedirs('.ipython/profile_default/startup',"
        " exist_ok=True)\n"
        "open('.ipython/profile_default/startup/00.py', 'w').write('LEAKED = 1')\n"
        "tries = {}\n"
        "for p in ('/job/../sibling', '/jobs/x', '/job/data/x', '/joblog/x', '/x', '/dev/x',\n"
        "          '/usr/x'):\n"
        "    try:\n        open(p, 'w').write('x')\n        tries[p] = 'written'\n"
        "    except OSError as e:\n        tries[p] = type(e).__name__\n"
        f"code = 'import time\\nwhile True: time.sleep(0.05)  # {marker}'\n"
        "subprocess.Popen([sys.executable, '-c', code], start_new_session=True,\n"
        "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "if os.fork() == 0:\n    os.setsid()\n"
        "    if os.fork() == 0:\n        os.execv(sys.executable, [sys.executable, '-c', code])\n"
        "    os._exit(0)\n"
        "os.wait()\n"
        "import ctypes\nlibc = ctypes.CDLL(None)\n"
        "shm = libc.shmget(0x1234, 4096, 0o1600)  # IPC_CREAT | 0600\n"
        "ppid = os.getppid()\nwritable = sorted(k for k, v in tries.items() if v == 'written')",
    ])
    r1 = pool.run(job1, data_dir=DATA, capture=["ppid", "writable", "shm"])
    assert r1.status == "ok" and warm(r1), (r1.diagnosis, r1.notes, [c.evalue for c in r1.cells])
    assert r1.answers["shm"] >= 0  # the segment was created
    assert r1.answers["writable"] == ["/joblog/x"]  # its own log folder, emptied afterwards
    assert host_pids_with(marker) == []  # the sleepers died with the job
    assert any("killed" in n for n in r1.notes)
    first = zygote_pid(pool)

    job2 = make_nb(tmp_path / "b" / "two.ipynb", [
        "import builtins, statistics, os, pandas as pd, cbec_sim\n"
        "leaks = [hasattr(cbec_sim, 'LEAKED'), hasattr(builtins, 'LEAKED'),\n"
        "         'LEAKED' in os.environ, 'LEAKED' in globals()]\n"
        "total = int(pd.DataFrame({'a': [1, 2]}).sum()['a'])\nj = statistics.mean([1, 3])\n"
        "tmp = sorted(os.listdir('/tmp'))\nshm_files = sorted(os.listdir('/dev/shm'))\n"
        "here = sorted(os.listdir('.'))\nlog = sorted(os.listdir('/joblog'))\n"
        "startup = os.listdir('.ipython/profile_default/startup')\n"
        "me = os.getpid()\n"
        "procs = sorted(int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) != me)\n"
        "ipc = open('/proc/sysvipc/shm').read().splitlines()[1:]\nppid = os.getppid()",
    ])
    r2 = pool.run(job2, data_dir=DATA, capture=["leaks", "total", "j", "tmp", "shm_files",
                                                "here", "procs", "ipc", "ppid", "log",
                                                "startup"])
    assert r2.status == "ok" and warm(r2), (r2.diagnosis, r2.notes)
    a = r2.answers
    assert zygote_pid(pool) == first and a["ppid"] == r1.answers["ppid"]  # the same zygote
    assert a["leaks"] == [False, False, False, False]
    assert a["total"] == 3 and a["j"] == 2
    # only folders leading to the kit's own read-only binds remain (a checkout under /tmp)
    assert a["tmp"] == _tmp_ancestors() and a["shm_files"] == [] and a["ipc"] == []
    assert "mine.txt" not in a["here"] and "one.ipynb" not in a["here"]
    assert "x" not in a["log"] and "00.py" not in a["startup"]
    assert a["procs"] == [1, a["ppid"]]  # bwrap's init and the zygote: nothing of job 1


def test_children_cannot_touch_the_zygote(tmp_path, pool):
    nb = make_nb(tmp_path / "a" / "attack.ipynb", [
        "import ctypes, os, signal\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "z = os.getppid()\nres = {}\n"
        "def attempt(name, fn):\n"
        "    try:\n        out = fn()\n        res[name] = 'ok' if out in (None, 0) else str(out)\n"
        "    except OSError as e:\n        res[name] = type(e).__name__\n"
        "def ptrace():\n"
        "    if libc.ptrace(16, z, None, None) != 0:  # PTRACE_ATTACH\n"
        "        raise OSError(ctypes.get_errno(), 'ptrace')\n"
        "attempt('ptrace', ptrace)\n"
        "attempt('mem', lambda: open(f'/proc/{z}/mem', 'rb').read(1) and None)\n"
        "attempt('fd', lambda: open(f'/proc/{z}/fd/1', 'wb').write(b'EXIT 0\\n') and None)\n"
        "attempt('fdlink', lambda: os.readlink(f'/proc/{z}/fd/0') and None)\n"
        "attempt('cwd', lambda: os.listdir(f'/proc/{z}/cwd/') and None)\n"
        "attempt('environ', lambda: open(f'/proc/{z}/environ', 'rb').read() and None)\n"
        "for sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGTERM):\n"
        "    attempt(f'kill{int(sig)}', lambda: os.kill(z, sig))\n"
        "    attempt(f'killpg{int(sig)}', lambda: os.killpg(z, sig))\n"
        "attempt('kill-1', lambda: os.kill(-1, signal.SIGKILL))\n"
        "attempt('init', lambda: os.kill(1, signal.SIGKILL))\n"
        "attempt('pidfd', lambda: os.pidfd_open(z))\n"
        "def sys_call(*args):\n"
        "    if libc.syscall(*args) != 0:\n        raise OSError(ctypes.get_errno(), 'x')\n"
        "attempt('tgkill', lambda: sys_call(234, z, z, 9))  # x86-64 numbers\n"
        "attempt('vm_readv', lambda: sys_call(310, z, None, 0, None, 0, 0))\n"
        "import subprocess, sys\n"
        "sub = subprocess.run([sys.executable, '-c', f'import os; os.kill({z}, 9)'],\n"
        "                     capture_output=True, text=True).returncode\n"
        "own = subprocess.Popen(['sleep', '30'])\nown.kill()\nown_rc = own.wait()\n"
        "failed = sorted(k for k, v in res.items() if v == 'ok')",
    ])
    before = zygote_pid(pool) if pool._all else None
    r = pool.run(nb, data_dir=DATA, capture=["failed", "res", "sub", "own_rc"])
    assert r.status == "ok" and warm(r), (r.diagnosis, r.notes, [c.evalue for c in r.cells])
    assert r.answers["failed"] == [], r.answers["res"]  # every attempt was refused
    assert r.answers["sub"] != 0  # a subprocess cannot either (the filter is inherited)
    assert r.answers["own_rc"] == -signal.SIGKILL  # its own processes it may still signal
    z = zygote_pid(pool)
    assert before in (None, z)
    r2 = pool.run(make_nb(tmp_path / "b" / "ok.ipynb", ["x = 1"]), data_dir=DATA,
                  capture=["x"])
    assert r2.answers == {"x": 1} and warm(r2) and zygote_pid(pool) == z  # same zygote, alive


def test_zygote_crash_is_recovered(tmp_path, pool):
    ok = make_nb(tmp_path / "a" / "ok.ipynb", ["x = 1"])
    slow = make_nb(tmp_path / "a" / "slow.ipynb", ["import time\ntime.sleep(3)\ny = 2"])
    assert pool.run(ok, data_dir=DATA, capture=["x"]).answers == {"x": 1}
    z1 = zygote_pid(pool)
    os.killpg(z1, signal.SIGKILL)  # between two jobs
    r = pool.run(ok, data_dir=DATA, capture=["x"])
    assert r.answers == {"x": 1} and r.status == "ok" and "warm" in r.notes
    z2 = zygote_pid(pool)
    assert z2 != z1

    def crash():  # in the middle of a job
        time.sleep(1.0)
        os.killpg(z2, signal.SIGKILL)

    t = threading.Thread(target=crash)
    t.start()
    r = pool.run(slow, data_dir=DATA, capture=["y"])
    t.join()
    assert r.status == "ok" and r.answers == {"y": 2}, (r.diagnosis, r.notes)
    assert any("restarted" in n for n in r.notes)  # retried in a fresh zygote
    assert zygote_pid(pool) not in (z1, z2)
    assert pool.run(ok, data_dir=DATA, capture=["x"]).answers == {"x": 1}


@pytest.mark.slow
def test_timeout_and_memory_are_classified(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with WarmPool(1, scratch_root=scratch, timeout=3, memory_mb=1024) as p:
        loop = make_nb(tmp_path / "loop.ipynb", ["x = 1", "while True:\n    pass", "y = 2"])
        t = time.perf_counter()
        r = p.run(loop, data_dir=DATA, capture=["x", "y"])
        assert time.perf_counter() - t < 20
        assert r.status == "timeout" and "timed out after 3 s in cell 2" in r.diagnosis
        assert r.answers == {"x": C.MISSING, "y": C.MISSING} and warm(r)
        for bomb in ["x = bytearray(3 * 1024 ** 3)",
                     "import numpy as np\nx = np.ones((40_000, 40_000))",
                     "x = []\nwhile True:\n    x.append(' ' * 10_000_000)"]:
            nb = make_nb(tmp_path / "mem.ipynb", ["a = 1", bomb, "del x\nb = 2"])
            r = p.run(nb, data_dir=DATA, capture=["a", "b"], timeout=60)
            assert r.status == "memory" and "1024 MB" in r.diagnosis, r.diagnosis
            assert "cell 2" in r.diagnosis and r.answers["a"] == 1 and warm(r)
        ok = make_nb(tmp_path / "ok.ipynb", ["x = 1"])
        assert p.run(ok, data_dir=DATA, capture=["x"]).answers == {"x": 1}
        assert len(p._all) == 1
    assert list(scratch.iterdir()) == []


def test_warm_mode_can_be_disabled(tmp_path, monkeypatch):
    monkeypatch.setenv(WARM_ENV, "0")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    nb = make_nb(tmp_path / "a.ipynb", ["x = 41 + 1"])
    with WarmPool(2, scratch_root=scratch) as p:
        assert not p.warm and WARM_ENV in p.why_cold
        r = p.run(nb, data_dir=DATA, capture=["x"])
    assert r.answers == {"x": 42} and "warm" not in r.notes and r.sandbox == "bwrap"


def test_pool_matches_cold_run(tmp_path, pool):
    from graders.grading import run_notebook

    nb = make_nb(tmp_path / "a" / "m.ipynb", [
        "import os, cbec_sim\nw = cbec_sim.load('data')\nn = len(w.orders)\ncwd = os.getcwd()\n"
        "home = os.environ['HOME']\nenv = sorted(os.environ)",
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.bar(['a'], [n])",
        "1/0",
    ])
    names = ["n", "cwd", "home", "ax"]
    warm_r = pool.run(nb, data_dir=DATA, capture=[*names, "env"])
    cold_dir = tmp_path / "cold"
    cold_dir.mkdir()
    cold = run_notebook(nb, data_dir=DATA, capture=[*names, "env"], scratch_root=cold_dir)
    assert warm(warm_r) and warm_r.status == cold.status == "ok"
    for k in names:
        assert warm_r.answers[k] == cold.answers[k], k
    assert set(warm_r.answers["env"]) == set(cold.answers["env"]) | {"JE_ARROW_MALLOC_CONF"}
    assert [c.ename for c in warm_r.cells] == [c.ename for c in cold.cells]
