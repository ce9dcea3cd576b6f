"""Stripping keeps what nbgrader and the course need and drops what running a notebook changes."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
import pytest
from nbformat import v4
from nbval.plugin import get_sanitize_patterns

from graders.nbstrip import is_stripped, strip_file, strip_notebook

SANITIZE_CFG = Path(__file__).with_name("nbval_sanitize.cfg")

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
SOLUTION_META = {
    "grade": False, "solution": True, "locked": False, "grade_id": "q1-answer",
    "schema_version": 3,
}
TEST_META = {
    "grade": True, "solution": False, "locked": True, "grade_id": "q1-tests", "points": 2,
    "schema_version": 3, "checksum": "0123456789abcdef",
}


def _executed_notebook() -> nbformat.NotebookNode:
    nb = v4.new_notebook()
    nb.metadata.kernelspec = dict(KERNELSPEC)
    nb.metadata.language_info = {
        "name": "python", "version": "3.11.7", "pygments_lexer": "ipython3",
    }
    nb.metadata.widgets = {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {}}}}
    nb.metadata.papermill = {"duration": 3.2}

    intro = v4.new_markdown_cell("## 月销售额\n本节计算每月的销售额。")
    intro.metadata.collapsed = True

    answer = v4.new_code_cell("total = orders['amount_cny'].sum()\ntotal", execution_count=7)
    answer.metadata.nbgrader = copy.deepcopy(SOLUTION_META)
    answer.metadata.tags = ["raises-exception"]
    answer.metadata.execution = {"iopub.execute_input": "2026-11-23T10:42:00.123Z"}
    answer.metadata.scrolled = True
    answer.metadata.jupyter = {"outputs_hidden": True, "source_hidden": True}
    answer.outputs = [
        v4.new_output("execute_result", data={"text/plain": "123456.78"}, execution_count=7),
        v4.new_output("stream", name="stdout", text="loaded 3000 orders in 0.8 s\n"),
    ]

    tests = v4.new_code_cell("q1.check(total)", execution_count=8)
    tests.metadata.nbgrader = copy.deepcopy(TEST_META)
    tests.metadata.deletable = False
    tests.metadata.editable = False
    tests.metadata.ExecuteTime = {"start_time": "2026-11-23T10:42:01Z"}
    tests.outputs = [v4.new_output("error", ename="AssertionError", evalue="wrong",
                                   traceback=["Traceback ..."])]

    nb.cells = [intro, answer, tests]
    return nb


def test_strip_clears_outputs_and_execution_counts():
    stripped = strip_notebook(_executed_notebook())
    for cell in stripped.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None
    nbformat.validate(stripped)


def test_strip_keeps_nbgrader_metadata_tags_locks_and_kernelspec():
    nb = _executed_notebook()
    stripped = strip_notebook(nb)
    _, answer, tests = stripped.cells
    assert answer.metadata.nbgrader == SOLUTION_META
    assert tests.metadata.nbgrader == TEST_META
    assert answer.metadata.tags == ["raises-exception"]
    assert answer.metadata.jupyter == {"source_hidden": True}
    assert tests.metadata.deletable is False and tests.metadata.editable is False
    assert stripped.metadata.kernelspec == KERNELSPEC
    assert stripped.metadata.language_info == {"name": "python", "pygments_lexer": "ipython3"}
    assert [c.source for c in stripped.cells] == [c.source for c in nb.cells]
    assert [c.id for c in stripped.cells] == [c.id for c in nb.cells]


def test_strip_drops_volatile_metadata():
    stripped = strip_notebook(_executed_notebook())
    assert "widgets" not in stripped.metadata
    assert "papermill" not in stripped.metadata
    intro, answer, tests = stripped.cells
    assert "collapsed" not in intro.metadata
    assert not {"execution", "scrolled"} & answer.metadata.keys()
    assert "ExecuteTime" not in tests.metadata


def test_strip_does_not_modify_its_argument_and_is_idempotent():
    nb = _executed_notebook()
    before = copy.deepcopy(nb)
    once = strip_notebook(nb)
    assert nb == before
    assert not is_stripped(nb)
    assert is_stripped(once)
    assert strip_notebook(once) == once


def test_strip_accepts_a_plain_dict():
    as_dict = nbformat.reads(nbformat.writes(_executed_notebook()), as_version=4)
    stripped = strip_notebook(dict(as_dict))
    assert stripped.cells[1].metadata.nbgrader == SOLUTION_META
    assert stripped.cells[1].outputs == []


def test_strip_file_writes_canonical_bytes(tmp_path):
    src = tmp_path / "01.01-月销售额.ipynb"
    nbformat.write(_executed_notebook(), src)
    out = tmp_path / "release" / src.name
    assert strip_file(src, out) is True
    assert strip_file(out) is False  # already stripped: nothing changes
    first = out.read_bytes()
    strip_file(out)
    assert out.read_bytes() == first
    reread = nbformat.read(out, as_version=4)
    assert reread.cells[2].metadata.nbgrader == TEST_META
    assert "月销售额" in first.decode("utf-8")


KEPT_ORDERS = "订单 3000 笔，销售额 123456.78 CNY，重量 2.5 kg"


@pytest.fixture(scope="module")
def sanitize():
    patterns = get_sanitize_patterns(SANITIZE_CFG.read_text(encoding="utf-8"))
    assert len(patterns) >= 6, "nbval found too few regex/replace pairs in nbval_sanitize.cfg"

    def apply(text: str) -> str:
        for regex, replace in patterns:  # nbval applies them in file order, like this
            text = re.sub(regex, replace, text)
        return text

    return apply


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("generated 2026-11-23T10:42:00.123456+08:00", "generated TIMESTAMP"),
        ("at 2026-11-23 10:42:00", "at TIMESTAMP"),
        ("100%|██████████| 50/50 [00:01<00:00, 31.2it/s]", "100%|██████████| 50/50 [PROGRESS]"),
        ("Wall time: 1.23 s", "Wall time: DURATION"),
        ("CPU times: user 5 ms, sys: 1 ms, total: 6 ms", "CPU times: DURATION"),
        ("elapsed 0:00:01.52", "elapsed DURATION"),
        ("graded in 812 ms; built in 3.5 seconds", "graded in DURATION; built in DURATION"),
        ("saved to /tmp/pytest-of-root/pytest-3/x0/world.parquet", "saved to TMPPATH"),
        ("saved to '/var/folders/ab/cd/T/tmpx1/world.parquet'", "saved to 'TMPPATH'"),
        (r"saved to C:\Users\li\AppData\Local\Temp\tmpab\w.parquet", "saved to TMPPATH"),
        ("<Axes at 0x7f3a2c1b9d90>", "<Axes at 0xADDRESS>"),
        # Business numbers and money must survive untouched.
        (KEPT_ORDERS, KEPT_ORDERS),
        ("HS 8471.30, SKU A-0x12", "HS 8471.30, SKU A-0x12"),
    ],
)
def test_sanitize_patterns(sanitize, raw, expected):
    assert sanitize(raw) == expected
