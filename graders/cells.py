"""Notebook cells generated from exercise definitions, so master notebooks cannot drift.

Authors write prose in ``course/source/<module>/NN.MM-Title.ipynb`` and put one-line
placeholders where generated cells belong:

* ``%setup orders order_lines`` — the setup cell: imports, ``world = practice.load_world()``,
  the listed tables as variables and ``q = practice.questions("NN.MM", world)``;
* ``%exercise 00.02.order_count`` — the item: statement (markdown), answer cell (nbgrader
  solution region + ``q.<slug>.check(...)``) and the hidden-test cell (nbgrader points).

:func:`sync_notebook` expands placeholders and rewrites previously generated cells (recognised
by their ``cbec`` metadata) from the current definitions; ``cbec course sync`` runs it and
``cbec course check`` fails when a master is out of sync.
"""

from __future__ import annotations

import copy
import re

import nbformat

from graders import exercises
from graders.exercise import Exercise

PLACEHOLDER = re.compile(r"^%(setup|exercise)\b(.*)$")
SCHEMA = 3
DIFFICULTY_CN = {1: "基础", 2: "进阶", 3: "挑战"}


def grade_id(key: str, part: str = "") -> str:
    """nbgrader's id of a generated cell: nbgrader only allows ``[A-Za-z0-9_-]``, so the dots of
    ``NN.MM.slug`` become dashes (``00.02.order_count`` → ``00-02-order_count``; slugs have no
    dashes, so :func:`exercise_id` inverts it for test cells) and ``part`` is appended."""
    gid = key.replace(".", "-")
    return f"{gid}-{part}" if part else gid


def exercise_id(grade_id_: str) -> str:
    """The exercise id of a hidden-test cell's nbgrader ``grade_id``."""
    return grade_id_.replace("-", ".")


def _meta(role: str, key: str, nbgrader: dict | None = None) -> dict:
    md: dict = {"cbec": {"role": role, "id": key}}
    if nbgrader is not None:
        md["nbgrader"] = {"schema_version": SCHEMA, **nbgrader}
    return md


def _with_id(cell: nbformat.NotebookNode, role: str, key: str) -> nbformat.NotebookNode:
    """Deterministic cell ids so rebuilt notebooks are byte-identical."""
    cell.id = re.sub(r"[^A-Za-z0-9_-]", "-", f"{role}-{key}")[:64]
    return cell


def setup_cell(notebook: str, tables: list[str]) -> nbformat.NotebookNode:
    """The read-only setup cell of notebook ``NN.MM``."""
    lines = ["import numpy as np", "import pandas as pd", "", "from graders import practice", "",
             "world = practice.load_world()  # 你自己的数据世界 (your own dataset)"]
    lines += [f"{t} = world.{t}" for t in tables]
    lines += [f'q = practice.questions("{notebook}", world)  # 本笔记本的练习']
    return _with_id(nbformat.v4.new_code_cell(
        "\n".join(lines),
        metadata=_meta("setup", notebook, {"grade": False, "solution": False, "locked": True,
                                           "grade_id": grade_id(f"setup-{notebook}")})),
        "setup", notebook)


def _slug(ex: Exercise) -> str:
    return ex.id[6:]


def statement_cell(ex: Exercise, number: int) -> nbformat.NotebookNode:
    tasks = "、".join(ex.tasks)
    level = DIFFICULTY_CN.get(ex.difficulty, str(ex.difficulty))
    kind = f"（{ex.answer_cn}）" if ex.answer_cn else ""
    text = (f"### 练习 {number}：{ex.title}\n\n"
            f"{ex.question.strip()}\n\n"
            f"- 答案变量：`{ex.answer}`{kind}\n"
            f"- 难度：{level}；分值：{ex.points:g} 分；标准：{ex.stage}，任务 {tasks}\n"
            f"- 运行 `q.{_slug(ex)}.check({ex.answer})` 检查，`q.{_slug(ex)}.hint()` 看提示")
    return _with_id(nbformat.v4.new_markdown_cell(
        text, metadata=_meta("statement", ex.id, {"grade": False, "solution": False,
                                                  "locked": True,
                                                  "grade_id": grade_id(ex.id, "statement")})),
        "statement", ex.id)


def answer_cell(ex: Exercise) -> nbformat.NotebookNode:
    src = (f"{ex.answer} = ...  # ← 把 ... 换成你的代码\n"
           "### BEGIN SOLUTION\n"
           f"{ex.solution.strip()}\n"
           "### END SOLUTION\n"
           f"q.{_slug(ex)}.check({ex.answer})")
    return _with_id(nbformat.v4.new_code_cell(
        src, metadata=_meta("answer", ex.id, {"grade": False, "solution": True, "locked": False,
                                              "grade_id": grade_id(ex.id, "answer")})),
        "answer", ex.id)


def test_cell(ex: Exercise) -> nbformat.NotebookNode:
    src = (f"# 自动评分 (autograded)：{ex.id}，{ex.points:g} 分\n"
           "### BEGIN HIDDEN TESTS\n"
           f"q.{_slug(ex)}.grade({ex.answer})\n"
           "### END HIDDEN TESTS")
    return _with_id(nbformat.v4.new_code_cell(
        src, metadata=_meta("test", ex.id, {"grade": True, "solution": False, "locked": True,
                                            "points": ex.points, "grade_id": grade_id(ex.id)})),
        "test", ex.id)


def exercise_cells(ex: Exercise, number: int) -> list[nbformat.NotebookNode]:
    return [statement_cell(ex, number), answer_cell(ex), test_cell(ex)]


class SyncError(ValueError):
    """A master notebook refers to something that does not exist."""


def sync_notebook(nb: nbformat.NotebookNode, notebook: str) -> tuple[nbformat.NotebookNode, bool]:
    """Expand placeholders and refresh generated cells of master notebook ``NN.MM``.

    Returns the new notebook and whether anything changed. Raises :class:`SyncError` for an
    unknown exercise id, an item placed twice, or an item of this notebook that is missing."""
    out = copy.deepcopy(nb)
    cells: list = []
    placed: list[str] = []
    i = 0
    src_cells = nb.cells
    while i < len(src_cells):
        cell = src_cells[i]
        role = cell.get("metadata", {}).get("cbec", {}).get("role")
        m = PLACEHOLDER.match(cell.source.strip()) if cell.cell_type != "code" or not role else None
        if m and m.group(1) == "setup":
            cells.append(setup_cell(notebook, m.group(2).split()))
        elif m:
            ex_id = m.group(2).strip()
            cells += _render(ex_id, notebook, len(placed) + 1)
            placed.append(ex_id)
        elif role == "setup":
            tables = [ln.split(" = ")[0] for ln in cell.source.splitlines()
                      if re.match(r"^\w+ = world\.\w+$", ln)]
            cells.append(setup_cell(notebook, tables))
        elif role in ("statement", "answer", "test"):
            ex_id = cell.metadata["cbec"]["id"]
            # a generated trio is replaced as a whole; skip its remaining cells
            j = i
            while j < len(src_cells) and src_cells[j].get("metadata", {}).get("cbec", {}).get(
                    "id") == ex_id and src_cells[j].metadata["cbec"]["role"] != "setup":
                j += 1
            cells += _render(ex_id, notebook, len(placed) + 1)
            placed.append(ex_id)
            i = j
            continue
        else:
            cells.append(cell)
        i += 1
    dupes = sorted({x for x in placed if placed.count(x) > 1})
    if dupes:
        raise SyncError(f"notebook {notebook}: exercise {dupes[0]} is placed twice")
    missing = [ex.id for ex in exercises.for_notebook(notebook) if ex.id not in placed]
    if missing:
        raise SyncError(f"notebook {notebook}: exercise {missing[0]} is defined but not "
                        f"placed; add a cell '%exercise {missing[0]}'")
    out.cells = cells
    return out, _strip_ids(out) != _strip_ids(nb)


def _render(ex_id: str, notebook: str, number: int) -> list:
    try:
        ex = exercises.get(ex_id)
    except KeyError as exc:
        raise SyncError(f"notebook {notebook}: {exc.args[0]}") from None
    if ex.notebook != notebook:
        raise SyncError(f"notebook {notebook}: exercise {ex_id} belongs to notebook "
                        f"{ex.notebook} (its id starts with the notebook number)")
    return exercise_cells(ex, number)


def _strip_ids(nb: nbformat.NotebookNode) -> list:
    return [(c.get("id"), c.cell_type, c.source, c.get("metadata", {})) for c in nb.cells]
