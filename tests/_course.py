"""A throw-away copy of the nbgrader course for release/cohort tests (always under tmp_path).

The course's ``nbgrader_config.py`` and ``curriculum.yaml`` are copied; ``source/00-orientation``
gets a small master notebook built with :mod:`graders.cells` from the exercises of the module's
first notebook, so the tests do not depend on how far the real content has come.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

from graders import cells, exercises

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "00-orientation"


def first_notebook(module: str = ASSIGNMENT) -> str:
    return exercises.for_module(module)[0].notebook


def master(notebook: str) -> nbformat.NotebookNode:
    items = exercises.for_notebook(notebook)
    tables = list(dict.fromkeys(t for ex in items for t in (ex.tables or ("orders",))))
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {notebook} 测试用主笔记本"),
                nbformat.v4.new_code_cell("%setup " + " ".join(tables))]
    for ex in items:
        nb.cells.append(nbformat.v4.new_markdown_cell(f"{ex.title}："))
        nb.cells.append(nbformat.v4.new_code_cell(f"%exercise {ex.id}"))
    nb, _ = cells.sync_notebook(nb, notebook)
    return nb


def make_course(tmp: Path, *, timeout: int | None = None, secret: str | None = None,
                orders: int | None = None, use_real: bool = False) -> Path:
    """A course folder in ``tmp``: source/00-orientation holds one small master notebook, or
    with ``use_real`` a copy of the course's own masters when there are any (``orders``: world
    size of that module, set in the copy's curriculum.yaml)."""
    course = tmp / "course"
    src = course / "source" / ASSIGNMENT
    src.mkdir(parents=True)
    cur = yaml.safe_load((ROOT / "course" / "curriculum.yaml").read_text(encoding="utf-8"))
    if orders is not None:
        for m in cur["modules"]:
            if m["id"] == ASSIGNMENT:
                m["dataset"] = {"orders": orders}
    (course / "curriculum.yaml").write_text(yaml.safe_dump(cur, allow_unicode=True),
                                            encoding="utf-8")
    config = (ROOT / "course" / "nbgrader_config.py").read_text(encoding="utf-8")
    if timeout is not None:
        config += f"\nc.ExecutePreprocessor.timeout = {timeout}\n"
    (course / "nbgrader_config.py").write_text(config, encoding="utf-8")
    real = sorted((ROOT / "course" / "source" / ASSIGNMENT).glob("*.ipynb"))
    if use_real and real:
        for f in real:
            shutil.copy(f, src / f.name)
    else:
        nb = first_notebook()
        nbformat.write(master(nb), src / f"{nb}-test.ipynb")
    if secret is not None:
        (course / ".cbec-secret").write_text(secret + "\n", encoding="utf-8")
    return course


def _nbgrader_env() -> dict[str, str]:
    from graders.nbg import nbgrader_env

    env = nbgrader_env()
    env.pop("CBEC_COURSE_SECRET", None)
    return env


def nbgrader(course: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                          env=_nbgrader_env(), capture_output=True, text=True, timeout=timeout)


def autograde_sharded(course: Path, assignment: str, students: list[str], shards: int = 2
                      ) -> list[tuple[Path, subprocess.CompletedProcess]]:
    """Real ``nbgrader autograde`` on ``shards`` copies of ``course`` at once (each with its own
    gradebook, so SQLite never sees two writers), students split between them. The copies are
    made next to ``course``; submissions are read from ``course/submitted``."""
    runs = []
    for k in range(shards):
        shard = course.with_name(f"{course.name}-shard{k}")
        shutil.copytree(course, shard, ignore=shutil.ignore_patterns("submitted", "autograded"))
        for s in students[k::shards]:
            shutil.copytree(course / "submitted" / s, shard / "submitted" / s)
        cmd = [sys.executable, "-m", "nbgrader", "autograde", assignment]
        runs.append((shard, subprocess.Popen(cmd, cwd=shard, env=_nbgrader_env(), text=True,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
    out = []
    for shard, proc in runs:
        stdout, stderr = proc.communicate(timeout=1200)
        out.append((shard, subprocess.CompletedProcess(proc.args, proc.returncode, stdout,
                                                       stderr)))
    return out


def cbec(*args: str, cwd: Path | None = None, env: dict | None = None
         ) -> subprocess.CompletedProcess:
    e = {**os.environ, "COLUMNS": "100", **(env or {})}
    e.pop("CBEC_DEBUG", None)
    if env is None or "CBEC_COURSE_SECRET" not in env:
        e.pop("CBEC_COURSE_SECRET", None)
    return subprocess.run([sys.executable, "-m", "graders.cli", *args], cwd=cwd, env=e,
                          capture_output=True, text=True, timeout=600)


def one_line_error(p: subprocess.CompletedProcess, *needles: str) -> str:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    for needle in needles:
        assert needle.lower() in lines[0].lower(), lines[0]
    return lines[0]


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}
