"""`cbec grade` from the command line on a real course: summary, gradebook, feedback pages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _course import cbec

ROOT = Path(__file__).resolve().parents[1]
MODULE = "21-agency-operation"  # one notebook: the quickest module to grade


@pytest.mark.slow
@pytest.mark.xdist_group("kernels")
def test_cbec_grade_cli_grades_a_simulated_cohort(tmp_path):
    from graders import cohort, release
    from graders.demo import copy_course
    from graders.nbg import gradebook_scores
    from graders.variants import ensure_secret

    course = copy_course(tmp_path / "course", MODULE)
    ensure_secret(course)
    sim = cohort.simulate(course, MODULE, 2, tmp_path / "cohort", seed=5, variants=True)
    release.release(course, MODULE, sim.roster, tmp_path / "release")
    shutil.copytree(sim.out / "submitted", course / "submitted")
    before = {p: p.read_bytes() for p in (course / "submitted").rglob("*.ipynb")}

    p = cbec("grade", MODULE, "--workers", "2", "--course", str(course))
    assert p.returncode == 0, p.stderr
    assert "2 graded" in p.stdout and "sim-001" in p.stdout and "s/notebook" in p.stdout
    scores = gradebook_scores(course, MODULE)
    assert {s for s, _ in scores} == {"sim-001", "sim-002"}
    for student in ("sim-001", "sim-002"):
        page = course / "feedback" / student / MODULE / "feedback.html"
        assert page.is_file() and ".grade(" not in page.read_text(encoding="utf-8")
    assert before == {p: p.read_bytes() for p in (course / "submitted").rglob("*.ipynb")}

    again = cbec("grade", MODULE, "--course", str(course))  # regrading is idempotent
    assert again.returncode == 0, again.stderr
    assert gradebook_scores(course, MODULE) == scores


def test_cbec_grade_without_submissions_is_one_line(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "course" / "source" / MODULE, course / "source" / MODULE)
    shutil.copy2(ROOT / "course" / "nbgrader_config.py", course / "nbgrader_config.py")
    p = cbec("grade", MODULE, "--course", str(course))
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    assert "no submissions" in p.stderr
