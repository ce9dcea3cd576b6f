"""`cbec grade`'s batch: real sandbox, real nbgrader for parity, everything under tmp_path.

* honest simulated cohort (personal datasets): per-item scores == real ``nbgrader autograde``
  == truth ``nbgrader_points``;
* adversarial cohort + broken files + scoring attacks in one batch: scores == truth
  ``secure_points``, every repair flagged, broken files 0 with a diagnosis, the batch goes on,
  submissions and the gradebook byte-identical;
* a plain nbgrader course (assert tests, partial credit, stderr, manual answer): the same
  scores as ``nbgrader autograde``.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from _course import ASSIGNMENT, autograde_sharded, make_course, nbgrader, tree_bytes
from test_cohort import _seed_covering
from test_grading_run import require_bwrap

from graders import cells, exercises
from graders import cohort as C
from graders import release as rel
from graders import variants as V
from graders.grading import sandbox
from graders.grading.batch import grade_assignment, record, summary

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("kernels")]


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.delenv(V.SECRET_ENV, raising=False)
    monkeypatch.delenv(sandbox.SANDBOX_ENV, raising=False)
    require_bwrap()


def cohort_course(tmp_path: Path, n: int, adversarial: float, seed: int | None = None,
                  timeout: int = 12) -> tuple[Path, Path, list[dict]]:
    """A course (own datasets per trainee, recorded as a release with a roster would) with
    the simulated cohort's submissions in ``submitted/``."""
    course = make_course(tmp_path, timeout=timeout, secret="cd" * 32, orders=1000,
                         use_real=True)
    rel.release(course, ASSIGNMENT)  # nbgrader's release + gradebook
    if seed is None:
        with C.released_folder(course, ASSIGNMENT) as folder:
            nbs = {p.stem: nbformat.read(p, as_version=4) for p in folder.glob("*.ipynb")}
        seed = _seed_covering(C.read_items(nbs), n, adversarial) if adversarial else 3
    out = tmp_path / "cohort"
    C.simulate(course, ASSIGNMENT, n, out, seed=seed, adversarial=adversarial)
    (course / "variants").mkdir()
    shutil.copy(out / "variants.csv", rel.variants_path(course, ASSIGNMENT))
    shutil.copytree(out / "submitted", course / "submitted")
    return course, out, C.read_truth(out / "truth.csv")


def by_item(grades) -> dict[tuple[str, str], float | None]:
    return {(g.student, i.exercise or cells.exercise_id(i.grade_id)): i.points
            for g in grades for i in g.items}


def gradebook(course: Path) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    url, cid = rel.gradebook_url(course)
    got = {}
    with Gradebook(url, cid) as gb:
        for sub in gb.assignment_submissions(ASSIGNMENT):
            for nb in sub.notebooks:
                for g in nb.grades:
                    got[(sub.student.id, cells.exercise_id(g.name))] = g.score
    return got


# --- parity on honest submissions -----------------------------------------------------------

def test_honest_cohort_same_scores_as_nbgrader_autograde(tmp_path):
    course, out, truth = cohort_course(tmp_path, 6, 0.0)
    before = tree_bytes(course / "submitted")
    grades = grade_assignment(course, ASSIGNMENT, workers=2, timeout=60, write=False,
                              scratch_root=tmp_path / "scratch")
    assert tree_bytes(course / "submitted") == before
    assert list((tmp_path / "scratch").iterdir()) == []  # the batch cleans up
    assert all(g.status == "ok" and g.flags == [] for g in grades), summary(grades)
    mine = by_item(grades)
    want = {(t["student"], t["exercise"]): float(t["nbgrader_points"]) for t in truth}
    assert mine == want

    students = sorted({t["student"] for t in truth})
    nbg: dict = {}
    for shard, p in autograde_sharded(course, ASSIGNMENT, students):
        assert p.returncode == 0, p.stderr[-3000:]
        nbg.update(gradebook(shard))
    diff = {k: (mine.get(k), v) for k, v in nbg.items() if mine.get(k) != v}
    assert diff == {}, diff  # (cbec grade, nbgrader autograde): a difference is a bug
    assert set(nbg) == set(mine)

    g = grades[0]  # what the audit needs
    assert len(g.submission_sha256) == 64 and len(g.dataset_hash) == 64
    fps = {r["trainee"]: r["fingerprint"] for r in C.read_truth(out / "variants.csv")}
    assert all(x.dataset_hash == fps[x.student] for x in grades)
    assert g.started < g.finished and g.seconds > 0 and g.worker
    assert set(g.versions) >= {"graders", "cbec_sim", "nbgrader", "python"}


# --- attacks, repairs and broken files --------------------------------------------------------

EQ_ATTACK = '''class Always:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = None
{answer} = Always()
'''

PATCH_ATTACK = '''import builtins, numpy, pandas, graders.exercise, graders.compare
numpy.isclose = lambda *a, **k: True
numpy.allclose = lambda *a, **k: True
pandas.testing.assert_series_equal = lambda *a, **k: None
builtins.AssertionError = type("NotAnError", (Exception,), {{}})
graders.exercise.Exercise.evaluate = lambda *a, **k: None
graders.exercise.Exercise.grade = lambda *a, **k: None
{answer} = -1
'''

GRADEBOOK_ATTACK = '''import os, sqlite3
hits = []
for top in ("/", {course!r}, os.path.expanduser("~")):
    for d, _dirs, files in os.walk(top, onerror=lambda e: None):
        if d.startswith(("/proc", "/sys", "/dev")):
            continue
        for f in files:
            if f.endswith(".db") or f.endswith(".ipynb"):
                hits.append(os.path.join(d, f))
for p in hits + [{db!r}, "../gradebook.db", "gradebook.db"]:
    try:
        con = sqlite3.connect(p)
        con.execute("UPDATE grade SET manual_score = 99")
        con.commit()
    except Exception:
        pass
    try:
        with open(p, "a") as fh:
            fh.write("pwned")
    except OSError:
        pass
{answer} = -1
'''


def answered(nb, attack: dict[str, str] | None = None):
    """A released notebook answered with the solutions; ``attack``: exercise id → code that
    replaces that answer (a wrong one, dressed up)."""
    nb = copy.deepcopy(nb)
    for c in nb.cells:
        cb = c.metadata.get("cbec", {})
        if cb.get("role") == "answer":
            ex = exercises.get(cb["id"])
            code = ex.solution.strip()
            if attack and cb["id"] in attack:
                code = attack[cb["id"]].format(answer=ex.answer)
            c.source = f"{code}\nq.{cb['id'][6:]}.check({ex.answer})"
    return nb


def test_adversarial_batch_scores_secure_points(tmp_path):
    course, _out, truth = cohort_course(tmp_path, 6, 1.0)
    subs = course / "submitted"
    released = {p.stem: nbformat.read(p, as_version=4)
                for p in sorted((course / "release" / ASSIGNMENT).glob("*.ipynb"))}
    names = sorted(released)
    nb2 = next(n for n in names if n.startswith("00.02"))
    items2 = [ex.id for ex in exercises.for_notebook("00.02")]
    db = course / "gradebook.db"
    attacks = {"eq": {items2[0]: EQ_ATTACK}, "patch": {items2[1]: PATCH_ATTACK},
               "gradebook": {items2[2]: GRADEBOOK_ATTACK.replace("{course!r}", repr(
                   str(course))).replace("{db!r}", repr(str(db)))}}
    for who, attack in attacks.items():
        folder = subs / f"x-{who}" / ASSIGNMENT
        folder.mkdir(parents=True)
        for n in names:
            nbformat.write(answered(released[n], attack if n == nb2 else None),
                           folder / f"{n}.ipynb")
    broken = subs / "x-broken" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / f"{names[0]}.ipynb").write_bytes(b'{"cells": [{"cell_type": ')
    (broken / f"{names[1]}.ipynb").write_bytes(b"")
    bad = answered(released[names[2]]) if len(names) > 2 else None
    if bad is not None:
        bad.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
        nbformat.write(bad, broken / f"{names[2]}.ipynb")
    missing = subs / "x-missing" / ASSIGNMENT
    missing.mkdir(parents=True)
    nbformat.write(answered(released[names[0]]), missing / f"{names[0]}.ipynb")
    before, db_before = tree_bytes(subs), db.read_bytes()

    grades = grade_assignment(course, ASSIGNMENT, workers=2, timeout=15, write=False,
                              scratch_root=tmp_path / "scratch")
    assert tree_bytes(subs) == before and db.read_bytes() == db_before
    mine = by_item(grades)
    want = {(t["student"], t["exercise"]): float(t["secure_points"]) for t in truth}
    diff = {k: (mine.get(k), v) for k, v in want.items() if mine.get(k) != v}
    assert diff == {}, diff

    flags = {(g.student, g.notebook): " | ".join(g.flags) for g in grades}
    for t in truth:
        kind = t["outcome"]
        f = flags[(t["student"], t["notebook"])]
        needle = {"setup_exception": "restored edited locked cell setup-",
                  "edited_test": "restored edited test cell",
                  "changed_points": "restored the points of test cell",
                  "deleted_answer": "is missing (nothing to grade)",
                  "infinite_loop": "timed out"}.get(kind)
        if needle:
            assert needle in f, (kind, f)

    # each attack: only the attacked item lost its points, every other item counts
    full = {ex.id: ex.points for ex in exercises.for_module(ASSIGNMENT)}
    for who, attack in attacks.items():
        got = {k[1]: v for k, v in mine.items() if k[0] == f"x-{who}"}
        for ex_id, pts in full.items():
            assert got[ex_id] == (0 if ex_id in attack else pts), (who, ex_id, got[ex_id])

    status = {(g.student, g.notebook): (g.status, g.diagnosis) for g in grades}
    assert status[("x-broken", names[0])][0] == "invalid_notebook"
    assert status[("x-broken", names[1])][0] == "empty"
    if bad is not None:
        assert status[("x-broken", names[2])][0] == "wrong_kernel"
    for n in names[1:]:
        assert status[("x-missing", n)] == ("missing", status[("x-missing", n)][1])
        assert "not found" in status[("x-missing", n)][1]
    assert all(i.points == 0 for g in grades if g.student in ("x-broken",) for i in g.items)
    assert all(len(g.diagnosis.splitlines()) <= 1 for g in grades)
    # messages never carry expected values or hidden test code
    text = json.dumps([g.to_dict() for g in grades], ensure_ascii=False)
    assert "HIDDEN TESTS" not in text and ".grade(" not in text

    # the records: gradebook (as formgrader reads it), feedback pages, audit; twice = once
    assert record(course, ASSIGNMENT, grades, submissions=subs) == ["gradebook", "feedback",
                                                                    "audit"]
    stored = gradebook(course)
    cbec_items = {(g.student, i.exercise): i.points for g in grades for i in g.items
                  if i.kind == "cbec"}
    assert {k: stored.get(k) for k in cbec_items} == cbec_items
    pages = sorted((course / "feedback").glob(f"*/{ASSIGNMENT}/feedback.html"))
    assert len(pages) == len({g.student for g in grades})
    assert not any("HIDDEN TESTS" in p.read_text(encoding="utf-8") for p in pages)
    first = (tree_bytes(course / "feedback"), stored)
    record(course, ASSIGNMENT, grades, submissions=subs)
    assert (tree_bytes(course / "feedback"), gradebook(course)) == first
    assert tree_bytes(subs) == before


# --- any nbgrader course ----------------------------------------------------------------------

PLAIN_CONFIG = '''c = get_config()
c.CourseDirectory.course_id = "plain"
c.ExecutePreprocessor.timeout = 60
'''


def plain_master() -> nbformat.NotebookNode:
    def md(**kw):
        return {"nbgrader": {"schema_version": 3, "locked": False, "solution": False,
                             "grade": False, **kw}}

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Plain nbgrader problem set"),
        nbformat.v4.new_code_cell("import math", metadata=md(locked=True, grade_id="imports")),
        nbformat.v4.new_code_cell(
            "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
            metadata=md(solution=True, grade_id="square")),
        nbformat.v4.new_code_cell(
            "assert square(2) == 4\n### BEGIN HIDDEN TESTS\nassert square(-3) == 9\n"
            "### END HIDDEN TESTS", metadata=md(grade=True, locked=True, points=2,
                                                grade_id="test_square")),
        nbformat.v4.new_code_cell(
            "float(sum([square(1) == 1, square(3) == 9, square(0.5) == 0.25]))",
            metadata=md(grade=True, locked=True, points=3, grade_id="partial_square")),
        nbformat.v4.new_code_cell(
            "import sys\nif square(10) != 100:\n    print('wrong', file=sys.stderr)",
            metadata=md(grade=True, locked=True, points=1, grade_id="stderr_square")),
        nbformat.v4.new_markdown_cell(
            "Explain.\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION",
            metadata=md(solution=True, grade=True, points=2, grade_id="explain")),
    ]
    return nb


PLAIN_ANSWERS = {
    "right": ("def square(x):\n    return x ** 2", "Squares grow fast."),
    "wrong": ("def square(x):\n    return x * 2", None),  # square(2) == 4 passes!
    "odd": ("def square(x):\n    return x * x if x < 2 else x * x + 1", None),
    "crash": ("def square(x):\n    raise ValueError('no')", None),
}


def test_plain_nbgrader_course_same_scores(tmp_path):
    course = tmp_path / "plain"
    (course / "source" / "ps1").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(PLAIN_CONFIG, encoding="utf-8")
    nbformat.write(plain_master(), course / "source" / "ps1" / "ps1.ipynb")
    p = nbgrader(course, "generate_assignment", "ps1", "--force")
    assert p.returncode == 0, p.stderr[-2000:]
    released = nbformat.read(course / "release" / "ps1" / "ps1.ipynb", as_version=4)
    for who, (code, essay) in PLAIN_ANSWERS.items():
        nb = copy.deepcopy(released)
        for c in nb.cells:
            gid = c.metadata.get("nbgrader", {}).get("grade_id")
            if gid == "square":
                c.source = code
            if gid == "explain" and essay:
                c.source = essay
        folder = course / "submitted" / who / "ps1"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "ps1.ipynb")
    grades = grade_assignment(course, "ps1", workers=2, timeout=60, write=False,
                              scratch_root=tmp_path / "scratch")
    mine = {(g.student, i.grade_id): i.points for g in grades for i in g.items}
    p = nbgrader(course, "autograde", "ps1")
    assert p.returncode == 0, p.stderr[-3000:]
    from nbgrader.api import Gradebook

    theirs = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "plain") as gb:
        for sub in gb.assignment_submissions("ps1"):
            for nb in sub.notebooks:
                for g in nb.grades:
                    # a written answer waits for the instructor in both
                    theirs[(sub.student.id, g.name)] = None if g.needs_manual_grade \
                        else g.score
    assert mine == theirs
    assert mine[("odd", "partial_square")] not in (0, 3)  # partial credit was exercised
    assert mine[("wrong", "stderr_square")] == 0 and mine[("right", "stderr_square")] == 1
