"""The authoring pipeline: `cbec course sync / build / check` with real nbgrader and real kernels.

Every test builds its own course in tmp_path (copies of the real nbgrader_config.py and
curriculum.yaml, masters made of placeholders for registered exercises) or reads the real
course/ without writing into the repository.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from graders import course_build, course_check
from graders import exercises as registry
from graders.cli import main
from graders.exercise import Mistake

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
NOTEBOOKS = ROOT / "notebooks"
MODULE = registry.modules()[0]  # the first module with exercises (00-orientation)


def _notebooks(module: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for ex in registry.for_module(module):
        out.setdefault(ex.notebook, []).append(ex)
    return out


def make_master(path: Path, number: str, extra: list | None = None) -> Path:
    """A master notebook of placeholders for every exercise of notebook ``number``."""
    items = registry.for_notebook(number)
    tables = sorted({t for ex in items for t in (ex.tables or ("orders",))})
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                              "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {number} 测试笔记本"),
                nbformat.v4.new_raw_cell("%setup " + " ".join(tables)),
                *(nbformat.v4.new_markdown_cell(f"%exercise {ex.id}") for ex in items),
                *(extra or [])]
    for i, c in enumerate(nb.cells):  # stable ids, as an author's saved notebook has
        c.id = f"cell-{i}"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def make_course(root: Path, module: str = MODULE, *, sync: bool = True) -> Path:
    """A throwaway course: real config and curriculum, one module with a master per notebook."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("nbgrader_config.py", "curriculum.yaml"):
        shutil.copy2(COURSE / name, root / name)
    folder = root / "source" / module
    for number in _notebooks(module):
        make_master(folder / f"{number}-Sample.ipynb", number)
    (folder / "README.md").write_text("# 说明\n模块附带的文件。\n", encoding="utf-8")
    if sync:
        course_build.sync(root)
    return root


def cli(capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line(rc: int, err: str, *needles: str) -> None:
    assert rc == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    for n in needles:
        assert n.lower() in lines[0].lower(), lines[0]


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def synced(tmp_path_factory):
    """A synced throwaway course (cheap: no nbgrader run)."""
    return make_course(tmp_path_factory.mktemp("synced") / "course")


# Tests using `built` share one xdist group, so the course is built once, on one worker.
BUILD_GROUP = pytest.mark.xdist_group("course-build")


@pytest.fixture(scope="session")  # session: other files' tests may run in between
def built(tmp_path_factory):
    """A synced throwaway course and its release, built once per worker."""
    root = tmp_path_factory.mktemp("built")
    course = make_course(root / "course")
    result = course_build.build(course, root / "notebooks")
    return course, root / "notebooks", result


# -------------------------------------------------------------------------------- sync


def test_sync_expands_placeholders_and_is_idempotent(tmp_path, capsys):
    course = make_course(tmp_path / "course", sync=False)
    masters = sorted((course / "source" / MODULE).glob("*.ipynb"))
    rc, out, err = cli(capsys, "course", "sync", "--course", course)
    assert rc == 0, err
    assert f"{len(masters)} of {len(masters)} notebook(s) updated" in out
    assert "expanded" in out
    first = {p: p.read_bytes() for p in masters}
    for p in masters:
        nb = nbformat.read(p, as_version=4)
        text = p.read_text(encoding="utf-8")
        assert text.endswith("}\n") and text.startswith('{\n "cells": [\n')  # as Jupyter writes
        assert not any(c.source.startswith("%") for c in nb.cells), p
        number = p.name[:5]
        roles = [(c.metadata.get("cbec", {}).get("role"), c.metadata.get("cbec", {}).get("id"))
                 for c in nb.cells if "cbec" in c.metadata]
        assert roles[0] == ("setup", number)
        for ex in registry.for_notebook(number):
            assert [r for r in roles if r[1] == ex.id] == [
                ("statement", ex.id), ("answer", ex.id), ("test", ex.id)]
    rc, out, err = cli(capsys, "course", "sync", "--course", course)
    assert rc == 0 and f"0 of {len(masters)} notebook(s) updated" in out
    assert {p: p.read_bytes() for p in masters} == first  # nothing rewritten


def test_sync_refreshes_edited_generated_cells(tmp_path):
    course = make_course(tmp_path / "course")
    master = sorted((course / "source" / MODULE).glob("*.ipynb"))[0]
    nb = nbformat.read(master, as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("cbec", {}).get("role") == "answer")
    answer.source = "tampered = 1"
    nbformat.write(nb, master)
    assert [m.path for m in course_build.out_of_sync(course)] == [master]
    (r,) = [r for r in course_build.sync(course) if r.changed]
    assert r.refreshed == 1 and "refreshed 1" in r.describe()
    assert course_build.out_of_sync(course) == []


@pytest.mark.parametrize("cell, needle", [
    ("%exercise 00.99.no_such_item", "no exercise"),
    ("%exercise {other}", "belongs to notebook"),
])
def test_sync_errors_are_one_line_naming_the_file(tmp_path, capsys, cell, needle):
    course = make_course(tmp_path / "course", sync=False)
    numbers = list(_notebooks(MODULE))
    master = sorted((course / "source" / MODULE).glob("*.ipynb"))[0]
    other = next((ex.id for n in numbers[1:] for ex in registry.for_notebook(n)), "00.99.x")
    make_master(master, master.name[:5],
                extra=[nbformat.v4.new_markdown_cell(cell.format(other=other))])
    rc, _, err = cli(capsys, "course", "sync", "--course", course)
    assert_one_line(rc, err, master.name, needle)


def test_badly_named_master_is_refused(tmp_path, capsys):
    course = make_course(tmp_path / "course")
    bad = course / "source" / MODULE / "intro.ipynb"
    shutil.copy(sorted((course / "source" / MODULE).glob("*.ipynb"))[0], bad)
    for cmd in ("sync", "build"):
        rc, _, err = cli(capsys, "course", cmd, "--course", course)
        assert_one_line(rc, err, "intro.ipynb", "NN.MM-Title.ipynb")


# ------------------------------------------------------------------------------- build


@BUILD_GROUP
def test_build_is_deterministic_and_leaves_no_litter(built):
    course, out, result = built
    before = tree_bytes(out)
    assert result.modules == [MODULE] and result.written
    assert sorted(p.name for p in course.iterdir()) == ["curriculum.yaml", "nbgrader_config.py",
                                                        "source"]  # no gradebook.db, release/
    # a rebuild regenerates everything in a fresh temporary course and compares bytes
    again = course_build.build(course, out)
    assert again.written == [] and again.removed == [] and tree_bytes(out) == before
    assert again.unchanged == len(before)


@BUILD_GROUP
def test_build_output_layout_and_index(built):
    course, out, _ = built
    masters = sorted(p.name for p in (course / "source" / MODULE).glob("*.ipynb"))
    assert sorted(p.name for p in (out / MODULE).glob("*.ipynb")) == masters
    assert (out / MODULE / "README.md").read_text(encoding="utf-8").startswith("# 说明")
    index = (out / "README.md").read_text(encoding="utf-8")
    items = registry.for_module(MODULE)
    for name in masters:
        assert f"({MODULE}/{name})" in index
    points = sum(ex.points for ex in items)
    assert (f"{len(masters)} notebook(s), {len(items)} autograded item(s), 0 manually graded "
            f"item(s), {points:g} point(s)") in index


@BUILD_GROUP
def test_released_notebooks_leak_nothing(built):
    _, out, _ = built
    solutions = [ex.solution.strip() for ex in registry.for_module(MODULE)]
    for path in sorted(out.rglob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert course_build.leaks(text) == [], path
        for bad in ("BEGIN SOLUTION", "HIDDEN TESTS", ".grade(", "seed", "secret"):
            assert bad not in text, (path, bad)
        for sol in solutions:
            assert sol not in text, (path, sol)
        nb = nbformat.read(path, as_version=4)
        for c in nb.cells:
            if c.cell_type == "code":
                assert c.outputs == [] and c.execution_count is None
        tests = [c for c in nb.cells if c.metadata.get("cbec", {}).get("role") == "test"]
        assert tests, path
        for c in tests:  # the hidden test is gone, the graded cell (points, checksum) stays
            meta = c.metadata.nbgrader
            assert meta["grade"] and meta["points"] > 0 and meta["checksum"]
            assert ".grade(" not in c.source
        answers = [c for c in nb.cells if c.metadata.get("cbec", {}).get("role") == "answer"]
        assert all("= ...  #" in c.source and ".check(" in c.source for c in answers)


def test_leak_patterns():
    assert course_build.leaks("x = 1\n### BEGIN SOLUTION\n") == ["a solution region"]
    assert course_build.leaks("q.a.grade(x)") == ["a hidden test"]
    assert course_build.leaks('world = generate(3000, rng=42)') == ["a seed"]
    assert course_build.leaks('"seed": 20250101') == ["a seed"]
    assert course_build.leaks("COURSE_SECRET = 'abc'") == ["a secret"]
    assert course_build.leaks("q.order_count.check(n_orders)  # 种子 seeds 不会出现") == []


def test_build_refuses_out_of_sync_masters(tmp_path, capsys):
    course = make_course(tmp_path / "course", sync=False)
    rc, _, err = cli(capsys, "course", "build", "--course", course, "--out", tmp_path / "o")
    assert_one_line(rc, err, "out of sync", "cbec course sync")
    assert not (tmp_path / "o").exists()


@pytest.mark.slow  # two nbgrader builds
@BUILD_GROUP
def test_build_one_assignment_and_remove_stale_module(built, tmp_path, capsys):
    course, out, _ = built
    target = tmp_path / "nb"
    shutil.copytree(out, target)
    (target / "99-gone" / "x").mkdir(parents=True)
    (target / "99-gone" / "x" / "old.ipynb").write_text("{}", encoding="utf-8")
    (target / MODULE / "stray.md").write_text("stray", encoding="utf-8")
    rc, stdout, err = cli(capsys, "course", "build", MODULE, "--course", course, "--out", target)
    assert rc == 0, err
    assert not (target / MODULE / "stray.md").exists() and (target / "99-gone").exists()
    rc, stdout, err = cli(capsys, "course", "build", "--course", course, "--out", target)
    assert rc == 0, err
    assert "removed" in stdout and not (target / "99-gone").exists()
    assert tree_bytes(target) == tree_bytes(out)


@BUILD_GROUP  # runs a kernel too
def test_released_notebook_runs_as_a_trainee_sees_it(built, tmp_path):
    """The starter notebook runs top to bottom; every check says "not answered yet"."""
    from nbclient import NotebookClient

    _, out, _ = built
    path = sorted((out / MODULE).glob("*.ipynb"))[0]
    work = tmp_path / MODULE
    shutil.copytree(out / MODULE, work)
    nb = nbformat.read(work / path.name, as_version=4)
    env = {**os.environ, "CBEC_NO_LOG": "1", "MPLBACKEND": "Agg"}
    env.pop("CBEC_DATASET", None)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(work)}}).execute(env=env)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.outputs)
    for ex in registry.for_notebook(path.name[:5]):
        assert f"… {ex.id}" in printed and "还没有作答" in printed
    assert not (work / ".cbec").exists()


def test_committed_notebooks_match_a_fresh_build(tmp_path):
    """The "stale notebooks" test: notebooks/ must be what `cbec course build` makes now."""
    fresh = tmp_path / "notebooks"
    try:
        course_build.build(COURSE, fresh)
    except course_build.CourseError as exc:
        pytest.fail(f"cannot build the course: {exc}")
    want, have = tree_bytes(fresh), tree_bytes(NOTEBOOKS)
    stale = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))
    assert not stale, (f"notebooks/ is stale ({', '.join(stale[:5])}"
                       f"{' …' if len(stale) > 5 else ''}); run `cbec course build` and commit")
    assert not (COURSE / "release").exists() and not (COURSE / "gradebook.db").exists()


def test_committed_notebooks_leak_nothing():
    """Released notebooks: no solution regions, hidden tests, seeds, secrets, exercise solutions
    or the masters' model answers of manually graded cells."""
    released = sorted(NOTEBOOKS.glob("*/*.ipynb"))
    assert len(released) == len(list(COURSE.glob("source/*/*.ipynb")))
    solutions = [ex.solution.strip() for ex in registry.all_exercises()]
    for path in released:
        text = path.read_text(encoding="utf-8")
        assert course_build.leaks(text) == [], path
        assert not [s for s in solutions if s in text], path
        master = nbformat.read(COURSE / "source" / path.parent.name / path.name, as_version=4)
        nb = nbformat.read(path, as_version=4)
        assert all(c.get("outputs", []) == [] for c in nb.cells), path
        for c in master.cells:
            g = c.metadata.get("nbgrader", {})
            if g.get("solution") and c.cell_type == "markdown":
                assert c.source.strip() not in text, (path, c.source[:40])


# ------------------------------------------------------------------------------- check


def test_course_check_passes_on_the_real_course(capsys):
    """The suite's course check: every exercise lints, behaves on 3 seeds, masters in sync."""
    rc, out, err = cli(capsys, "course", "check", "--course", COURSE)
    assert rc == 0, err + out
    assert "problem(s)" in out and " 0 problem(s)" in out


@pytest.mark.slow
@pytest.mark.xdist_group("kernels")
def test_real_course_masters_execute_within_budget():
    report = course_check.check_course(COURSE, seeds=1, execute=True)
    masters = sorted(COURSE.glob("source/*/*.ipynb"))
    assert [nb.path for nb in report.notebooks] == masters
    assert report.ok, report.problems[:3]
    assert all(nb.seconds <= course_check.BUDGET_SECONDS for nb in report.notebooks)


def test_check_passes_on_a_synced_course_and_reports_structure(synced):
    course = synced
    report = course_check.check_course(course, MODULE, seeds=2)
    assert report.seeds == course_check.check_seeds(2) == [9001, 9002]
    assert [i.id for i in report.items] == [ex.id for ex in registry.for_module(MODULE)]
    assert all(i.seeds == 2 for i in report.items)
    assert report.course_problems == []
    # content problems are the real course check's business; here: nothing structural
    assert not [p for p in report.problems if "does not exist" in p or "sync" in p]


def test_check_flags_out_of_sync_and_missing_notebook(tmp_path):
    course = make_course(tmp_path / "course", sync=False)
    masters = sorted((course / "source" / MODULE).glob("*.ipynb"))
    masters[-1].unlink()
    report = course_check.check_course(course, seeds=1)
    assert any("out of sync" in p and "cbec course sync" in p for p in report.course_problems)
    gone = masters[-1].name[:5]
    missing = [i for i in report.items if i.id.startswith(gone)]
    assert missing and all(any("does not exist" in p for p in i.problems) for i in missing)
    assert not report.ok


def _good():
    """A registered numeric item (its mistakes can be replaced by numbers)."""
    return next(ex for ex in registry.for_module(MODULE)
                if ex.kind in ("integer", "number", "money", "rate"))


def test_check_catches_a_broken_exercise(synced):
    course = synced
    good = _good()
    bad = dataclasses.replace(
        good, id=good.notebook + ".broken_item", hints=(), tasks=("7.2.1", "99.9.9"),
        stage="5.99", unit="astrology", points=0, difficulty=5, answer="class", kind="vibes",
        mistakes=(Mistake("same_as_solution", good.solution, "不会出现"),))
    (item,) = course_check.check_exercises([(MODULE, bad)], course, seeds=1,
                                           cur=course_check.curriculum(course))
    text = "\n".join(item.problems)
    for needle in ("hints: needs at least 1", "'99.9.9' not a Table 1 task id",
                   "stage '5.99' is not a stage", "unit 'astrology'", "points 0",
                   "difficulty 5", "mistakes: has 1, needs at least 2",
                   "answer 'class' must be a Python variable name", "kind 'vibes'"):
        assert needle in text, (needle, text)
    assert item.seeds_ok == 0 and not item.ok


def test_check_behaviour_problems_are_targeted():
    good = _good()
    a = good.answer
    bad = dataclasses.replace(good, mistakes=(
        Mistake("same_as_solution", good.solution, "不会出现"),
        Mistake("twin_a", f"{a} = -12345", "负数 A"),
        Mistake("twin_b", f"{a} = -12345", "负数 B"),
        Mistake("crashes", f"{a} = orders.no_such_column.sum()", "崩溃"),
    ))
    seeds = course_check.check_seeds(1)
    ok, problems = course_check.behaviour(bad, seeds)
    text = "\n".join(problems)
    assert ok == 0
    assert f"mistake same_as_solution gives the correct answer on seed {seeds[0]}" in text
    assert "mistake twin_b is reported as mistake twin_a" in text
    assert "mistake crashes: its code raised AttributeError" in text
    assert "twin_a" not in text.replace("as mistake twin_a", "")  # the first twin is fine
    broken_solution = dataclasses.replace(good, solution=f"{a} = None")
    ok, problems = course_check.behaviour(broken_solution, seeds)
    assert ok == 0 and any("solution is judged wrong" in p for p in problems)
    # the registered item itself behaves on the same seed
    assert course_check.behaviour(good, seeds) == (1, [])


def test_stage_must_belong_to_the_module(synced):
    course = synced
    good = _good()
    cur = course_check.curriculum(course)
    strict = dataclasses.replace(cur, modules={**cur.modules, MODULE: dataclasses.replace(
        cur.modules[MODULE], stages=("5.13",))})
    problems = course_check.lint_exercise(good, MODULE, course, cur=strict)
    assert any(f"not one of module {MODULE}'s stages" in p for p in problems)
    assert course_check.lint_exercise(good, MODULE, course, cur=cur) == []


@pytest.mark.xdist_group("kernels")
def test_execute_reports_errors_failed_checks_and_time(tmp_path):
    course = make_course(tmp_path / "course")
    number = next(iter(_notebooks(MODULE)))
    ex = registry.for_notebook(number)[0]
    master = next((course / "source" / MODULE).glob(f"{number}-*.ipynb"))
    nb = nbformat.read(master, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(f"print('✘ {ex.id} 假的反馈')"))
    nbformat.write(nb, master)
    run = course_check.execute_master(master)
    assert any("check printed" in p for p in run.problems), run.problems
    assert run.seconds > 0
    nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('boom')"))
    nbformat.write(nb, master)
    run = course_check.execute_master(master, budget=0.001)
    assert len(run.problems) == 1 and "raised ValueError: boom" in run.problems[0]
    nb.cells = nb.cells[:-2]
    nbformat.write(nb, master)
    run = course_check.execute_master(master, budget=0.001)
    assert len(run.problems) == 1 and "budget" in run.problems[0]
    assert not list((course / "source").rglob(".cbec")) and not (course / "release").exists()


def test_check_cli_fails_with_one_line_and_a_table(tmp_path, capsys):
    course = make_course(tmp_path / "course", sync=False)
    rc, out, err = cli(capsys, "course", "check", "--course", course, "--seeds", "1")
    assert_one_line(rc, err, "course check failed", "out of sync")
    assert out.splitlines()[0].split() == ["exercise", "seeds", "problems"]
    assert "problem(s)" in out


# ----------------------------------------------------------------------------- CLI errors


@pytest.mark.parametrize("cmd", ["sync", "build", "check"])
def test_unknown_assignment_is_one_line(tmp_path, capsys, cmd):
    course = make_course(tmp_path / "course", sync=False)
    rc, _, err = cli(capsys, "course", cmd, "99-nope", "--course", course)
    assert_one_line(rc, err, "99-nope", "known")


@pytest.mark.parametrize("cmd", ["sync", "build", "check", "coverage"])
def test_folder_without_config_is_one_line(tmp_path, capsys, monkeypatch, cmd):
    rc, _, err = cli(capsys, "course", cmd, "--course", tmp_path)
    assert_one_line(rc, err, str(tmp_path), "nbgrader_config.py")
    monkeypatch.chdir(tmp_path)
    rc, _, err = cli(capsys, "course", cmd)
    assert_one_line(rc, err, "nbgrader_config.py", "--course")


def test_default_course_folder(tmp_path, monkeypatch):
    from graders.cli.course import course_dir

    monkeypatch.chdir(ROOT)
    assert course_dir(None) == ROOT / "course"
    monkeypatch.chdir(COURSE)
    assert course_dir(None) == COURSE
    assert course_dir(COURSE) == COURSE


def test_bad_seeds_and_out_file(tmp_path, capsys):
    course = make_course(tmp_path / "course")
    rc, _, err = cli(capsys, "course", "check", "--course", course, "--seeds", "0")
    assert_one_line(rc, err, "--seeds")
    (tmp_path / "file").write_text("x")
    rc, _, err = cli(capsys, "course", "build", "--course", course, "--out", tmp_path / "file")
    assert_one_line(rc, err, "--out")


def test_bad_nbgrader_metadata_is_caught_before_nbgrader(tmp_path, capsys):
    course = make_course(tmp_path / "course")
    master = sorted((course / "source" / MODULE).glob("*.ipynb"))[0]
    nb = nbformat.read(master, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("在这里写下你的答案", metadata={"nbgrader": {
        "schema_version": 3, "grade": True, "solution": True, "locked": False, "points": 2,
        "grade_id": "00.01.plan.judgement"}}))
    nbformat.write(nb, master)
    rc, _, err = cli(capsys, "course", "build", "--course", course, "--out", tmp_path / "o")
    assert_one_line(rc, err, master.name, "00.01.plan.judgement", "grade ids")
    problems = course_check.lint_course(course, [MODULE], None)
    assert any(master.name in p and "nbgrader metadata" in p for p in problems)
