"""graders.grading.integrity and .score: repairing submissions from the master notebook, and
scoring an executed notebook (fast: no sandbox; the sandboxed runs are in
test_grading_batch.py). Everything is written under ``tmp_path``."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import nbformat
import pytest

from graders import exercises
from graders.grading import capture as C
from graders.grading import integrity as I
from graders.grading.run import CellResult, RunResult
from graders.grading.score import answer_variables, partial_grade, score_notebook
from graders.nbg import nbgrader_config

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
MASTER = COURSE / "source" / "00-orientation" / "00.02-Your-World.ipynb"


@pytest.fixture(scope="module")
def master() -> nbformat.NotebookNode:
    return nbformat.read(MASTER, as_version=4)


@pytest.fixture(scope="module")
def released(master) -> nbformat.NotebookNode:
    return I.released_view(master, nbgrader_config(COURSE))


def gid_of(c) -> str | None:
    return c.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def role(c) -> tuple[str | None, str | None]:
    cb = c.get("metadata", {}).get("cbec", {})
    return cb.get("role"), cb.get("id")


def honest(released) -> nbformat.NotebookNode:
    """The released notebook answered with each exercise's solution, plus a scratch cell."""
    nb = copy.deepcopy(released)
    for c in nb.cells:
        r, key = role(c)
        if r == "answer":
            ex = exercises.get(key)
            c.source = f"{ex.solution.strip()}\nq.{key[6:]}.check({ex.answer})"
    at = next(i for i, c in enumerate(nb.cells) if role(c)[0] == "setup") + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell("scratch = 1  # my own cell"))
    return nb


def write(path: Path, nb) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


def do(tmp_path, nb_or_bytes, master, released, name="00.02-Your-World"):
    sub = tmp_path / "submitted" / f"{name}.ipynb"
    sub.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb_or_bytes, bytes):
        sub.write_bytes(nb_or_bytes)
    else:
        write(sub, nb_or_bytes)
    before = sub.read_bytes(), sub.stat().st_mtime_ns
    rep = I.prepare(sub, master, tmp_path / "prepared" / f"{name}.ipynb", released=released)
    assert (sub.read_bytes(), sub.stat().st_mtime_ns) == before  # never written
    assert rep.sha256 == hashlib.sha256(before[0]).hexdigest()
    out = nbformat.read(rep.prepared, as_version=4) if rep.ok else None
    if out is not None:
        nbformat.validate(out)
    return rep, out


def tracked(nb) -> list[str]:
    return [gid_of(c) for c in nb.cells if gid_of(c)]


def master_order(master) -> list[str]:
    return [gid_of(c) for c in master.cells if I.is_tracked(c)]


def cell(nb, gid):
    return next(c for c in nb.cells if gid_of(c) == gid)


def flagged(rep, *needles) -> None:
    text = " | ".join(rep.flags)
    for n in needles:
        assert n in text, rep.flags


# --- integrity ------------------------------------------------------------------------------

def test_honest_submission_is_kept_as_is(tmp_path, master, released):
    nb = honest(released)
    rep, out = do(tmp_path, nb, master, released)
    assert rep.ok and rep.flags == []
    assert [c.source for c in out.cells if not I.is_locked(c)] == [
        c.source for c in nb.cells if not I.is_locked(c)]  # same cells, same order
    assert tracked(out) == master_order(master)
    assert "scratch = 1  # my own cell" in [c.source for c in out.cells]
    for c in out.cells:  # answers are the trainee's, tests the master's (with hidden tests)
        r, key = role(c)
        if r == "answer":
            assert c.source.startswith(exercises.get(key).solution.strip())
        if r == "test":
            assert c.source == cell(master, gid_of(c)).source and "HIDDEN TESTS" in c.source
    manual = [gid_of(c) for c in master.cells if I.is_grade(c) and I.is_solution(c)]
    assert manual and set(manual) <= rep.unchanged  # judgement left as released


def test_deleted_test_cell_is_re_added_after_its_answer(tmp_path, master, released):
    nb = honest(released)
    nb.cells = [c for c in nb.cells if gid_of(c) != "00-02-gmv_cny"]
    rep, out = do(tmp_path, nb, master, released)
    flagged(rep, "re-added deleted test cell 00-02-gmv_cny", "已恢复被删除的测试单元")
    assert tracked(out) == master_order(master)
    assert cell(out, "00-02-gmv_cny").source == cell(master, "00-02-gmv_cny").source


def test_deleted_setup_and_answer(tmp_path, master, released):
    nb = honest(released)
    nb.cells = [c for c in nb.cells if role(c)[0] != "setup"
                and gid_of(c) != "00-02-cancel_rate-answer"]
    rep, out = do(tmp_path, nb, master, released)
    flagged(rep, "re-added deleted locked cell setup-00-02",
            "answer cell 00-02-cancel_rate-answer is missing")
    assert tracked(out) == [g for g in master_order(master) if g != "00-02-cancel_rate-answer"]


def test_duplicated_grade_ids_keep_the_first(tmp_path, master, released):
    nb = honest(released)
    test = next(c for c in nb.cells if gid_of(c) == "00-02-order_count")
    ans = next(c for c in nb.cells if gid_of(c) == "00-02-gmv_cny-answer")
    twin = copy.deepcopy(ans)
    twin.source = "gmv_cny = -1  # a second try"
    evil = copy.deepcopy(test)
    evil.source = "pass"
    twin.id, evil.id = "twin", "evil"  # Jupyter gives copies new ids
    nb.cells += [evil, twin]
    rep, out = do(tmp_path, nb, master, released)
    flagged(rep, "removed a duplicated test cell 00-02-order_count",
            "duplicated answer cell 00-02-gmv_cny-answer")
    assert tracked(out) == master_order(master)
    assert cell(out, "00-02-gmv_cny-answer").source == ans.source  # the first copy
    assert "pass" not in [c.source for c in out.cells]
    # the second answer copy still runs, as a plain cell (as nbgrader runs it), at the end
    assert out.cells[-1].source == twin.source and "nbgrader" not in out.cells[-1].metadata


def test_reordered_cells_go_back_to_master_order(tmp_path, master, released):
    nb = honest(released)
    idx = {gid_of(c): i for i, c in enumerate(nb.cells)}
    # the test before its answer, and the last exercise's block moved to the top
    i, j = idx["00-02-order_count-answer"], idx["00-02-order_count"]
    nb.cells[i], nb.cells[j] = nb.cells[j], nb.cells[i]
    block = [c for c in nb.cells if role(c)[1] == "00.02.ip_mismatch"]
    nb.cells = block + [c for c in nb.cells if c not in block]
    rep, out = do(tmp_path, nb, master, released)
    flagged(rep, "put back in the master's order", "已按原题顺序恢复")
    assert tracked(out) == master_order(master)
    srcs = [c.source for c in out.cells]  # own cells travel with the cell they followed
    assert srcs.index(cell(out, "setup-00-02").source) + 1 == srcs.index(
        "scratch = 1  # my own cell")


def test_edited_locked_cell_and_hidden_test_are_restored(tmp_path, master, released):
    nb = honest(released)
    cell(nb, "setup-00-02").source = "raise RuntimeError('no data')\n" + cell(
        nb, "setup-00-02").source
    cell(nb, "00-02-gmv_cny").source = "pass  # test removed"
    cell(nb, "00-02-cancel_rate").metadata["nbgrader"]["points"] = 200
    cell(nb, "00-02-order_count").cell_type = "markdown"
    rep, out = do(tmp_path, nb, master, released)
    flagged(rep, "restored edited locked cell setup-00-02",
            "restored edited test cell 00-02-gmv_cny / 已恢复被修改的测试单元",
            "restored the points of test cell 00-02-cancel_rate")
    for g in ("setup-00-02", "00-02-gmv_cny", "00-02-cancel_rate", "00-02-order_count"):
        assert cell(out, g).source == cell(master, g).source
        assert cell(out, g).metadata == cell(master, g).metadata
        assert cell(out, g).cell_type == cell(master, g).cell_type
    assert len(rep.flags) == 4


def test_stripped_answer_metadata_is_re_identified(tmp_path, master, released):
    nb = honest(released)
    ans = cell(nb, "00-02-gmv_cny-answer")
    src = ans.source
    ans.metadata = {}
    rep, out = do(tmp_path, nb, master, released)
    flagged(rep, "re-identified answer cell 00-02-gmv_cny-answer")
    assert cell(out, "00-02-gmv_cny-answer").source == src
    assert role(cell(out, "00-02-gmv_cny-answer")) == ("answer", "00.02.gmv_cny")
    # no cell id either: re-identified by the cbec metadata when it is still there
    nb = honest(released)
    ans = cell(nb, "00-02-cancel_rate-answer")
    del ans.metadata["nbgrader"]
    ans.id = "my-own-id"
    rep, out = do(tmp_path, nb, master, released)
    flagged(rep, "re-identified answer cell 00-02-cancel_rate-answer")
    assert tracked(out) == master_order(master)


def test_unknown_grade_cell_is_ignored(tmp_path, master, released):
    nb = honest(released)
    fake = nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "points": 100,
        "grade_id": "bonus", "schema_version": 3}})
    nb.cells.append(fake)
    rep, out = do(tmp_path, nb, master, released)
    flagged(rep, "unknown cell 'bonus'")
    assert "bonus" not in tracked(out) and out.cells[-1].source == "assert True"


def test_manual_answer_written_is_not_unchanged(tmp_path, master, released):
    nb = honest(released)
    j = next(c for c in nb.cells if I.is_grade(c) and I.is_solution(c))
    j.source = "GMV 用人民币算，已取消订单要排除。"
    rep, _ = do(tmp_path, nb, master, released)
    assert gid_of(j) not in rep.unchanged


@pytest.mark.parametrize("content, status, needle", [
    (b'{"cells": [', "invalid_notebook", "invalid JSON"),
    (b"", "empty", "empty"),
    (b"   \n", "empty", "empty"),
    (b"[1, 2]", "invalid_notebook", "not a notebook"),
    (json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(),
     "empty", "no cells"),
])
def test_broken_files_get_a_status_and_zero(tmp_path, master, released, content, status,
                                            needle):
    rep, out = do(tmp_path, content, master, released)
    assert rep.status == status and needle in rep.diagnosis and out is None
    assert len(rep.diagnosis.splitlines()) == 1
    items = score_notebook(None, master, None, report=rep)
    assert items and all(i.points == 0 and i.status == "error" and i.message == rep.diagnosis
                         for i in items)


def test_wrong_kernel_and_missing(tmp_path, master, released):
    nb = honest(released)
    nb.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    rep, _ = do(tmp_path, nb, master, released)
    assert rep.status == "wrong_kernel" and "Python" in rep.diagnosis
    rep = I.prepare(tmp_path / "nope.ipynb", master, tmp_path / "out.ipynb", released=released)
    assert rep.status == "missing" and rep.sha256 == "" and not (tmp_path / "out.ipynb").exists()
    assert all(i.points == 0 for i in score_notebook(None, master, None, report=rep))


# --- scoring --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world():
    from graders import practice

    return practice.load_world(practice._default_dataset())


def ok_report(master) -> I.IntegrityReport:
    manual = {gid_of(c) for c in master.cells if I.is_grade(c) and I.is_solution(c)}
    return I.IntegrityReport("00.02-Your-World", "ok", unchanged=manual)


def test_cbec_items_are_scored_out_of_kernel(master, world):
    items_ = exercises.for_notebook("00.02")
    names = answer_variables(master)
    assert names == [ex.answer for ex in items_]
    first, second, *rest = items_
    answers = {first.answer: first.expected(world),  # correct
               second.answer: C.Unsupported("a custom class")}
    # the answer cell of the third raised: its variable is missing
    cells = [CellResult(5, role="answer", exercise=rest[0].id, ran=True, ok=False,
                        ename="KeyError"),
             CellResult(9, grade_id=gid_of(cell(master, rest[0].id.replace(".", "-"))),
                        role="test", ran=True, ok=True)]  # forged "ok": never trusted
    run = RunResult("ok", "", 1.0, cells=cells, answers={**{n: C.MISSING for n in names},
                                                           **answers})
    got = {i.exercise: i for i in score_notebook(run, master, world, report=ok_report(master))}
    pts = {role(c)[1]: float(c.metadata["nbgrader"]["points"]) for c in master.cells
           if role(c)[0] == "test"}
    assert got[first.id].points == pts[first.id] and got[first.id].status == "correct"
    assert got[second.id].points == 0 and got[second.id].status == "type"
    assert got[rest[0].id].points == 0 and "KeyError" in got[rest[0].id].message
    for ex in rest[1:]:
        assert got[ex.id].points == 0 and got[ex.id].status == "unanswered"
    manual = [i for i in got.values() if i.kind == "manual"]
    assert manual and all(i.points == 0 and i.status == "unanswered" for i in manual)
    for i in got.values():  # safe messages: never the expected value
        assert str(first.expected(world)) not in i.message


def test_failed_run_gives_its_diagnosis(master, world):
    names = answer_variables(master)
    run = RunResult("timeout", "timed out after 5 s in cell 3 (运行超时，已终止)", 5.0,
                    answers={n: C.MISSING for n in names})
    rep = ok_report(master)
    rep.unchanged = set()
    items = score_notebook(run, master, world, report=rep)
    cb = [i for i in items if i.kind == "cbec"]
    assert cb and all(i.points == 0 and "timed out" in i.message for i in cb)
    assert all(i.points is None and i.status == "manual" for i in items if i.kind == "manual")


def test_plain_nbgrader_cells_follow_determine_grade():
    def grade_cell(gid, pts, **kw):
        md = {"nbgrader": {"grade": True, "solution": False, "locked": True, "points": pts,
                           "grade_id": gid, "schema_version": 3}, **kw}
        return nbformat.v4.new_code_cell("assert x == 1", metadata=md)

    nb = nbformat.v4.new_notebook()
    nb.cells = [grade_cell(g, 2) for g in ("ok", "err", "stderr", "partial", "text", "big",
                                           "neg", "notrun")]
    nb.cells.append(nbformat.v4.new_markdown_cell("essay", metadata={"nbgrader": {
        "grade": True, "solution": True, "locked": False, "points": 3, "grade_id": "essay",
        "schema_version": 3}}))
    runs = [CellResult(0, grade_id="ok", ran=True, ok=True, stdout="fine"),
            CellResult(1, grade_id="err", ran=True, ok=False, ename="AssertionError",
                       evalue="expected 42 (hidden)"),
            CellResult(2, grade_id="stderr", ran=True, ok=True, stderr="warning"),
            CellResult(3, grade_id="partial", ran=True, ok=True, result="1.5"),
            CellResult(4, grade_id="text", ran=True, ok=True, result="'done'"),
            CellResult(5, grade_id="big", ran=True, ok=True, result="7"),
            CellResult(6, grade_id="neg", ran=True, ok=True, result="-1"),
            CellResult(7, grade_id="notrun")]
    run = RunResult("ok", "", 1.0, cells=runs)
    got = {i.grade_id: i for i in score_notebook(run, nb, None,
                                                 report=I.IntegrityReport("nb", "ok"))}
    assert {k: v.points for k, v in got.items()} == {
        "ok": 2, "err": 0, "stderr": 0, "partial": 1.5, "text": 2, "big": 2, "neg": 2,
        "notrun": 0, "essay": None}
    assert all(v.kind == "assert" for k, v in got.items() if k != "essay")
    assert "42" not in got["err"].message and got["partial"].status == "partial"
    assert partial_grade("np.float64(0.5)", 1) == (1, "passed")  # nbgrader: not a float
