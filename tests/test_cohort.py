"""`cbec cohort simulate`: the IRT model, determinism, and THE consistency check: real
`nbgrader autograde` on simulated (partly adversarial) submissions gives exactly truth.csv's
`nbgrader_points` (everything in tmp_path; nothing is written into the repository)."""

from __future__ import annotations

import math
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import nbformat
import numpy as np
import pytest
from _course import (
    ASSIGNMENT,
    autograde_sharded,
    cbec,
    first_notebook,
    make_course,
    one_line_error,
    tree_bytes,
)

from graders import cells, exercises
from graders import cohort as C
from graders import release as rel
from graders import variants as V


def _items(difficulties=(1, 2, 3)) -> list[C.Item]:
    base = exercises.for_module(ASSIGNMENT)
    return [C.Item("nb", replace(base[i % len(base)], difficulty=d), 1.0)
            for i, d in enumerate(difficulties)]


def test_p_correct_is_the_stated_model():
    assert C.p_correct(0.0, 2) == pytest.approx(0.5)
    assert C.p_correct(0.0, 1) == pytest.approx(1 / (1 + math.exp(-1.7)))
    assert C.p_correct(0.0, 3) == pytest.approx(1 / (1 + math.exp(1.7)))
    assert C.p_correct(1.0, 3) == pytest.approx(0.5)


def test_plan_is_deterministic_and_follows_the_model():
    items = _items()
    a = C.plan(items, 3000, seed=11)
    b = C.plan(items, 3000, seed=11)
    key = [(t.student, t.theta, [(r.answer, r.mistake) for r in t.responses]) for t in a]
    assert key == [(t.student, t.theta, [(r.answer, r.mistake) for r in t.responses])
                   for t in b]
    assert key != [(t.student, t.theta, [(r.answer, r.mistake) for r in t.responses])
                   for t in C.plan(items, 3000, seed=12)]
    thetas = np.array([t.theta for t in a])
    assert abs(thetas.mean()) < 0.06 and abs(thetas.std() - 1) < 0.05
    for j, d in enumerate((1, 2, 3)):
        got = np.mean([t.responses[j].answer == "correct" for t in a])
        expected = np.mean([C.p_correct(th, d) for th in thetas])
        assert abs(got - expected) < 0.03, (d, got, expected)
        # and correctness rises with ability
        hi = np.mean([t.responses[j].answer == "correct" for t in a if t.theta > 0.5])
        lo = np.mean([t.responses[j].answer == "correct" for t in a if t.theta < -0.5])
        assert hi > lo + 0.2
    wrong = Counter(r.answer for t in a for r in t.responses if r.answer != "correct")
    total = sum(wrong.values())
    for kind, share in C.WRONG.items():
        assert abs(wrong[kind] / total - share) < 0.04, (kind, wrong)
    mistakes = {r.mistake for t in a for r in t.responses if r.answer == "mistake"}
    assert mistakes == {m.id for it in items for m in it.exercise.mistakes}
    assert all(t.adversarial is None for t in a)


def test_adversarial_share_and_kinds():
    items = _items((1, 1))
    p = C.plan(items, 40, seed=3, adversarial=0.25)
    adv = [t for t in p if t.adversarial]
    assert len(adv) == 10
    assert set(t.adversarial for t in adv) == set(C.ADVERSARIAL)
    for t in adv:
        assert sum(r.adversarial is not None for r in t.responses) == 1
    # a trainee's honest answers do not depend on the adversarial share
    honest = C.plan(items, 40, seed=3)
    for x, y in zip(p, honest, strict=True):
        if not x.adversarial:
            assert [r.answer for r in x.responses] == [r.answer for r in y.responses]
    with pytest.raises(V.VariantError, match="adversarial"):
        C.plan(items, 5, adversarial=1.5)


@pytest.mark.slow
def test_simulate_is_deterministic_and_writes_nothing_into_the_course(tmp_path, monkeypatch):
    monkeypatch.delenv(V.SECRET_ENV, raising=False)
    course = make_course(tmp_path)
    before = tree_bytes(course)
    # no release/ yet: nbgrader's release is made in a temporary copy
    r1 = C.simulate(course, ASSIGNMENT, 12, tmp_path / "a", seed=5, adversarial=0.5)
    assert tree_bytes(course) == before
    assert not r1.variants
    nb = first_notebook()
    rel.generate_assignment(course, ASSIGNMENT)  # now from release/
    C.simulate(course, ASSIGNMENT, 12, tmp_path / "b", seed=5, adversarial=0.5)
    a, b = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "b")
    assert a == b
    assert f"submitted/sim-012/{ASSIGNMENT}/{nb}-test.ipynb" in a
    assert f"submitted/sim-001/{ASSIGNMENT}/timestamp.txt" in a
    truth = C.read_truth(r1.truth)
    assert len(truth) == 12 * len(exercises.for_notebook(nb))
    assert {t["student"] for t in truth} == set(r1.students)
    assert [t.id for t in V.read_roster(r1.roster)] == list(r1.students)
    C.simulate(course, ASSIGNMENT, 12, tmp_path / "a", seed=6, adversarial=0.5)  # rewrite
    assert tree_bytes(tmp_path / "a") != a


@pytest.mark.xdist_group("kernels")
def test_simulate_after_a_release_reuses_the_released_datasets(tmp_path, monkeypatch):
    monkeypatch.setenv(V.SECRET_ENV, "cd" * 32)
    course = make_course(tmp_path, orders=800)
    ids = C.student_ids(3)
    roster = tmp_path / "roster.csv"
    V.write_roster(roster, [V.Trainee(t, None, None, None) for t in ids])
    released = rel.release(course, ASSIGNMENT, roster, tmp_path / "rel", workers=1)
    record = rel.read_variants(course, ASSIGNMENT)
    tampered = released.out / ids[1] / "data" / "orders.parquet"
    tampered.write_bytes(tampered.read_bytes()[:-10])  # an edited copy must not be reused
    calls = []
    real = C.write_world
    monkeypatch.setattr(C, "write_world", lambda *a: calls.append(a) or real(*a))
    sim = C.simulate(course, ASSIGNMENT, 3, tmp_path / "cohort", workers=1)
    assert sim.variants
    assert len(calls) == 1  # only the tampered trainee's world is generated again
    for t in ids:
        data = sim.out / "submitted" / t / ASSIGNMENT / "data"
        assert rel.fingerprint(data) == record[t]["fingerprint"]
        assert rel.verified_dataset(data, record[t]["fingerprint"]) == data


def test_cohort_cli_errors_are_one_line(tmp_path):
    course = make_course(tmp_path)
    c = str(course)
    one_line_error(cbec("cohort", "simulate", "99-nope", "--out", str(tmp_path / "o"),
                        "--course", c), "unknown assignment")
    one_line_error(cbec("cohort", "simulate", ASSIGNMENT, "--out", str(tmp_path / "o"),
                        "--adversarial", "2", "--course", c), "--adversarial")
    one_line_error(cbec("cohort", "simulate", ASSIGNMENT, "--out", str(tmp_path / "o"),
                        "--n", "0", "--course", c), "--n")
    one_line_error(cbec("cohort", "simulate", ASSIGNMENT, "--out",
                        str(course / "source" / ASSIGNMENT / "sim"), "--course", c),
                   "source folder")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    one_line_error(cbec("cohort", "simulate", ASSIGNMENT, "--out", str(mine), "--course", c),
                   "not written by cbec")
    assert (mine / "notes.txt").read_text() == "precious"
    one_line_error(cbec("cohort", "simulate", ASSIGNMENT, "--out", str(tmp_path / "o"),
                        "--variants", "--course", c), "course secret")


def _seed_covering(items, n, adversarial) -> int:
    """A seed whose plan has every honest outcome and every adversarial act."""
    for seed in range(500):
        p = C.plan(items, n, seed, adversarial)
        honest = {r.answer for t in p for r in t.responses if not r.adversarial}
        acts = {t.adversarial for t in p if t.adversarial}
        if honest >= set(C.ANSWERS) and acts == set(C.ADVERSARIAL):
            return seed
    raise AssertionError("no covering seed")


@pytest.mark.slow
@pytest.mark.xdist_group("kernels")
def test_nbgrader_autograde_gives_truth_nbgrader_points(tmp_path, monkeypatch):
    """Six simulated trainees, each trying one adversarial act, on the module's own master
    notebooks (a small stand-in when there are none yet), graded by the real nbgrader."""
    monkeypatch.delenv(V.SECRET_ENV, raising=False)
    # own data per trainee (the course has a secret); infinite loops are cut after 12 s (the
    # setup cell, which loads the world, needs ~2-3 s)
    course = make_course(tmp_path, timeout=12, secret="cd" * 32, orders=1000, use_real=True)
    rel.release(course, ASSIGNMENT)  # nbgrader's release + gradebook
    with C.released_folder(course, ASSIGNMENT) as folder:
        notebooks = {p.stem: nbformat.read(p, as_version=4) for p in folder.glob("*.ipynb")}
    n, share = 6, 1.0
    seed = _seed_covering(C.read_items(notebooks), n, share)
    out = tmp_path / "cohort"
    p = cbec("cohort", "simulate", ASSIGNMENT, "--n", str(n), "--adversarial", str(share),
             "--seed", str(seed), "--out", str(out), "--course", str(course))
    assert p.returncode == 0, p.stderr
    assert "own data/" in p.stdout
    truth = C.read_truth(out / "truth.csv")
    assert {t["outcome"] for t in truth} >= set(C.ANSWERS) | set(C.ADVERSARIAL)
    monkey = [t for t in truth if t["outcome"] == "monkeypatch_grade"]
    assert monkey and all(t["nbgrader_points"] == t["points"] and t["secure_points"] == "0"
                          for t in monkey)

    shutil.copytree(out / "submitted", course / "submitted")
    students = sorted({t["student"] for t in truth})
    runs = autograde_sharded(course, ASSIGNMENT, students)

    from nbgrader.api import Gradebook

    got: dict[tuple[str, str], float] = {}
    for shard, ag in runs:
        assert ag.returncode == 0, ag.stderr[-3000:]
        url, cid = rel.gradebook_url(shard)
        with Gradebook(url, cid) as gb:
            for sub in gb.assignment_submissions(ASSIGNMENT):
                for nb in sub.notebooks:
                    for g in nb.grades:
                        got[(sub.student.id, cells.exercise_id(g.name))] = g.score
        # autograde kept each trainee's own data/ (the source folder has none)
        for sub_dir in (shard / "submitted").iterdir():
            manifest = Path(ASSIGNMENT) / "data" / "manifest.json"
            graded = shard / "autograded" / sub_dir.name / manifest
            assert graded.read_bytes() == (sub_dir / manifest).read_bytes()
    assert any("Interrupting kernel" in ag.stderr for _, ag in runs)  # the loop was cut

    want = {(t["student"], t["exercise"]): float(t["nbgrader_points"]) for t in truth}
    outcome = {(t["student"], t["exercise"]): t["outcome"] for t in truth}
    diff = {k: (got.get(k), v, outcome[k]) for k, v in want.items() if got.get(k) != v}
    assert diff == {}, diff  # (autograde score, truth, outcome)
    assert set(got) == set(want)
    fps = C.read_truth(out / "variants.csv")
    assert len({r["fingerprint"] for r in fps}) == n
