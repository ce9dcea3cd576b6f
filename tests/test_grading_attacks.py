"""Submissions that attack the grader must fail, and the grader must not notice anything.

Each test runs a hostile notebook in the real bubblewrap sandbox (skipped without it, failed
under ``CI=true``) and checks the host afterwards. Decoy course folders, gradebooks, secrets
and other trainees' submissions live under ``tmp_path``.
"""

from __future__ import annotations

import json
import socket
import sys
import uuid
from pathlib import Path

import pandas as pd
import pytest
from test_grading_pool import host_pids_with
from test_grading_run import make_nb, require_bwrap, run, run_warm

from graders.compare import Number
from graders.grading import capture as C
from graders.grading import sandbox


@pytest.fixture(autouse=True, params=["cold", "warm"])
def _bwrap(request, monkeypatch):
    """Every attack runs twice: in a fresh sandbox (``run_notebook``) and in a warm zygote
    (:class:`graders.grading.pool.WarmPool`)."""
    monkeypatch.delenv(sandbox.SANDBOX_ENV, raising=False)
    require_bwrap()
    if request.param == "warm":
        monkeypatch.setitem(globals(), "run", run_warm)


def snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"",
                                       p.stat().st_mtime_ns, p.stat().st_mode)
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def course(tmp_path):
    """A fake course: gradebook, master notebooks, secret; submissions of two trainees."""
    c = tmp_path / "course"
    (c / "source" / "00-orientation").mkdir(parents=True)
    (c / "source" / "00-orientation" / "00.02-Your-World.ipynb").write_text("{}")
    (c / "gradebook.db").write_bytes(b"SQLite format 3\x00 decoy")
    secret = c / ".cbec-secret"
    secret.write_text("course-secret-decoy")
    secret.chmod(0o600)
    subs = tmp_path / "submitted"
    bob = subs / "bob" / "00-orientation" / "00.02-Your-World.ipynb"
    bob.parent.mkdir(parents=True)
    bob.write_text('{"bob": "decoy"}')
    return c, subs


WALK = r'''
import os, fnmatch, json
TARGETS = ("gradebook.db", "*.ipynb", ".cbec-secret", "*.sqlite")
found, damaged, listed = [], [], {}
for top in ("/",):
    for dirpath, dirnames, filenames in os.walk(top, onerror=lambda e: None):
        if dirpath == "/":
            dirnames[:] = [d for d in dirnames if d not in ("proc", "sys", "dev")]
        for f in filenames:
            if any(fnmatch.fnmatch(f, t) for t in TARGETS):
                found.append(os.path.join(dirpath, f))
for p in found:
    try:
        with open(p, "w") as fh:
            fh.write("pwned")
        os.remove(p)
        damaged.append(p)
    except OSError:
        pass
for p in HOST_PATHS:
    try:
        listed[p] = sorted(os.listdir(p))
    except OSError as e:
        listed[p] = type(e).__name__
    for name in ("gradebook.db", ".cbec-secret"):
        try:
            os.remove(os.path.join(p, name))
            damaged.append(os.path.join(p, name))
        except OSError:
            pass
'''


@pytest.mark.slow
def test_filesystem_walk_cannot_find_or_damage_course_files(tmp_path, course):
    course_dir, subs = course
    alice = subs / "alice" / "00-orientation" / "00.02-Your-World.ipynb"
    host_paths = [str(course_dir), str(subs), str(subs / "bob"), str(tmp_path),
                  str(Path.home()), "/work", str(Path(__file__).resolve().parents[1])]
    make_nb(alice, [f"HOST_PATHS = {host_paths!r}", WALK])
    before_course, before_subs = snapshot(course_dir), snapshot(subs)
    r = run(alice, tmp_path, ["found", "damaged", "listed"],
            hide=[course_dir, subs, course_dir / ".cbec-secret"])
    assert r.status == "ok", r.diagnosis
    found, damaged, listed = (r.answers[k] for k in ("found", "damaged", "listed"))
    # it sees its own copy and notebooks shipped inside installed packages (read-only) — no
    # gradebook, no secret, nothing of the course or of other submissions
    assert "/job/00.02-Your-World.ipynb" in found
    readonly = ("/usr/", sys.prefix + "/", sys.base_prefix + "/")  # (nbgrader ships test files)
    assert [p for p in found if not p.startswith(readonly)] == ["/job/00.02-Your-World.ipynb"]
    assert damaged == ["/job/00.02-Your-World.ipynb"]  # only its own copy could be changed
    assert isinstance(listed, C.Unsupported)  # a dict is not an answer type
    assert snapshot(course_dir) == before_course and snapshot(subs) == before_subs


def test_host_paths_cannot_even_be_listed(tmp_path, course):
    course_dir, subs = course
    project = Path(__file__).resolve().parents[1]
    paths = [str(course_dir), str(subs), str(tmp_path), str(project / "course"),
             str(project), str(project / "graders" / "exercises"), str(Path.home())]
    nb = make_nb(tmp_path / "x" / "ls.ipynb", [
        f"import os\nres = []\nfor p in {paths!r}:\n"
        "    try:\n        res.append('|'.join(sorted(os.listdir(p))))\n"
        "    except OSError as e:\n        res.append(type(e).__name__)"])
    # hiding the whole project (it holds the course) must keep the code the child needs
    r = run(nb, tmp_path, ["res"], hide=[course_dir, subs, project])
    assert r.status == "ok", r.diagnosis
    res = dict(zip(paths, r.answers["res"], strict=True))
    for p in paths[:4]:
        assert res[p] == "FileNotFoundError", p
    # the project root shows only the code the child needs; the reference answers are empty
    assert set(res[str(project)].split("|")) <= {"graders", "cbec_sim", ".venv"}
    assert res[str(project / "graders" / "exercises")] == ""
    assert res[str(Path.home())] in ("FileNotFoundError", ".pyenv")


def test_hide_inside_a_visible_tree(tmp_path):
    """``hide`` paths inside a tree the sandbox shows become empty; files become /dev/null."""
    shared = tmp_path / "shared"
    (shared / "course").mkdir(parents=True)
    (shared / "course" / "gradebook.db").write_bytes(b"decoy")
    (shared / "secret.txt").write_text("decoy secret")
    (shared / "public.txt").write_text("public")
    nb = make_nb(tmp_path / "s" / "h.ipynb", [
        f"import os\nroot = {str(shared)!r}\ntop = sorted(os.listdir(root))\n"
        "inner = os.listdir(root + '/course')\n"
        "try:\n    secret = open(root + '/secret.txt').read()\n"
        "except OSError as e:\n    secret = type(e).__name__\n"
        "public = open(root + '/public.txt').read()\n"
        "try:\n    open(root + '/public.txt', 'w')\n    writable = True\n"
        "except OSError:\n    writable = False"])
    r = run(nb, tmp_path, ["top", "inner", "secret", "public", "writable"],
            ro_binds=[shared], hide=[shared / "course", shared / "secret.txt"])
    assert r.status == "ok", r.diagnosis
    a = r.answers
    assert a["top"] == ["course", "public.txt", "secret.txt"] and a["inner"] == []
    assert a["secret"] == "PermissionError"  # /dev/null on a nodev mount: cannot be opened
    assert a["public"] == "public" and a["writable"] is False


def test_reference_answers_are_unreadable(tmp_path):
    nb = make_nb(tmp_path / "x" / "ref.ipynb", [
        "import glob, graders, os\n"
        "where = os.path.join(os.path.dirname(graders.__file__), 'exercises')\n"
        "files = glob.glob(where + '/*.py') + glob.glob(where + '/**/*', recursive=True)",
        "from graders import exercises\nn = len(exercises.all_exercises())",
        "import graders.exercises.m00_orientation as m"])
    r = run(nb, tmp_path, ["files", "n"])
    assert r.answers["files"] == [] and r.answers["n"] is C.MISSING
    assert not r.cells[1].ok and not r.cells[2].ok
    assert r.cells[2].ename == "ModuleNotFoundError"


def test_no_network(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.5)
        port = server.getsockname()[1]
        nb = make_nb(tmp_path / "x" / "net.ipynb", [
            "import socket\nerrors = []\n"
            f"for host, port in [('127.0.0.1', {port}), ('1.1.1.1', 53), ('example.com', 80)]:\n"
            "    try:\n        socket.create_connection((host, port), timeout=2).close()\n"
            "        errors.append('connected')\n"
            "    except OSError as e:\n        errors.append(type(e).__name__)"])
        r = run(nb, tmp_path, ["errors"])
        with pytest.raises(TimeoutError):
            server.accept()
    errors = r.answers["errors"]
    assert len(errors) == 3 and "connected" not in errors, errors


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["bwrap", "fallback"])
def test_detached_background_process_is_killed(tmp_path, monkeypatch, mode):
    if mode == "fallback":
        monkeypatch.setenv(sandbox.SANDBOX_ENV, "fallback")
    marker = f"cbec-straggler-{uuid.uuid4().hex}"
    nb = make_nb(tmp_path / "x" / "bg.ipynb", [
        "import subprocess, sys, os\n"
        f"code = 'import time\\nwhile True: time.sleep(0.05)  # {marker}'\n"
        # a setsid'ed child and a double-forked daemon
        "subprocess.Popen([sys.executable, '-c', code], start_new_session=True,\n"
        "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "if os.fork() == 0:\n    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.execv(sys.executable, [sys.executable, '-c', code])\n"
        "    os._exit(0)\n"
        "os.wait()\nstarted = True"])
    r = run(nb, tmp_path, ["started"])
    assert r.answers["started"] is True
    assert host_pids_with(marker) == []


@pytest.mark.slow
def test_huge_file_is_capped(tmp_path):
    nb = make_nb(tmp_path / "x" / "big.ipynb", [
        "import errno\nwritten = 0\nchunk = b'x' * (1 << 20)\n"
        "with open('big.bin', 'wb') as f:\n"
        "    try:\n        for _ in range(2048):\n            f.write(chunk)\n"
        "            written += 1\n"
        "    except OSError as e:\n        err = errno.errorcode[e.errno]"])
    r = run(nb, tmp_path, ["written", "err"])
    assert r.answers["err"] == "EFBIG"
    assert r.answers["written"] <= sandbox.FSIZE_MB


def test_answer_objects_cannot_cheat(tmp_path):
    nb = make_nb(tmp_path / "x" / "cheat.ipynb", ["""
import builtins
import pandas as pd

class AlwaysEqual:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__

class Float(float):
    def __eq__(self, other):
        return True
    def __float__(self):
        return 123456.0

class Frame(pd.DataFrame):
    def equals(self, other):
        return True
    def __eq__(self, other):
        return True

class Faker:
    __class__ = property(lambda self: int)

answer_eq = AlwaysEqual()
answer_float = Float(1.0)
answer_frame = Frame({"market": ["US"], "gmv": [0.0]})
answer_fake = Faker()
""", """
# patch what the grader would use, in this process: it must not matter
import numpy, graders.compare, graders.grading.capture as cap
numpy.isclose = lambda *a, **k: True
graders.compare.Number.compare = lambda self, a, e: graders.compare.OK
builtins.float = lambda x=0: 99.0
builtins.isinstance = lambda *a: True
"""])
    r = run(nb, tmp_path, ["answer_eq", "answer_float", "answer_frame", "answer_fake"])
    assert r.status == "ok", [c.evalue for c in r.cells]
    a = r.answers
    assert isinstance(a["answer_eq"], C.Unsupported)
    assert isinstance(a["answer_fake"], C.Unsupported)
    assert type(a["answer_float"]) is float and a["answer_float"] == 1.0
    assert not Number().compare(a["answer_float"], 2.0).ok  # the grader's own comparator
    assert type(a["answer_frame"]) is pd.DataFrame
    assert not a["answer_frame"].equals(pd.DataFrame({"market": ["US"], "gmv": [5.0]}))


@pytest.mark.parametrize("how", ["files", "directory"])
def test_symlinks_cannot_make_the_grader_read_host_files(tmp_path, how):
    """Symlink targets are resolved by the grader on the host: it must not follow them."""
    host = tmp_path / "host"
    host.mkdir()
    forged = {"version": 1, "cells": [{"index": 0, "ok": True, "stdout": "HOST-SECRET"}],
              "answers": {"x": {"type": "scalar", "value": 42}}}
    (host / "results.json").write_text(json.dumps(forged))
    (host / "progress.jsonl").write_text(json.dumps({"event": "end", **forged["cells"][0]}))
    if how == "files":
        plant = (f"os.symlink({str(host / 'results.json')!r}, '.grader/results.json')\n"
                 f"os.remove('.grader/progress.jsonl')\n"
                 f"os.symlink({str(host / 'progress.jsonl')!r}, '.grader/progress.jsonl')\n")
    else:
        plant = f"shutil.rmtree('.grader')\nos.symlink({str(host)!r}, '.grader')\n"
    nb = make_nb(tmp_path / "x" / "ln.ipynb", ["import os, shutil\nx = 1\n" + plant
                                               + "os._exit(0)"])
    r = run(nb, tmp_path, ["x"])
    assert r.status == "crashed"
    assert r.answers == {"x": C.MISSING}
    assert all("HOST-SECRET" not in c.stdout for c in r.cells)
    assert json.loads((host / "results.json").read_text()) == forged  # not written either
