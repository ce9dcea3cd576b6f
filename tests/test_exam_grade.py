"""``cbec exam grade`` and ``cbec exam report`` with the real sandbox (bubblewrap).

Four candidates on one form: one answers everything right and tries ``import graders`` /
``import cbec_sim`` (both fail in the kernel, the answers are still scored); one edits the
setup cell (restored, flagged) and makes a known mistake; one hands in late (policy reject);
one (an id with HTML characters) hands in nothing.
"""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest
from _exam import build_small, fill
from click.testing import CliRunner
from test_grading_run import require_bwrap

from graders import exercises
from graders.cli import cli
from graders.exam.forms import parse_iso, read_manifest
from graders.exam.grade import audit_ref
from graders.exam.timing import collect, open_exam
from graders.grading import sandbox

IDS = ["good", "fixer", "latey", "g&<i>"]


def test_isolated_bwrap_argv_hides_the_kit(tmp_path):
    argv = sandbox.bwrap_argv(tmp_path, ["python"], isolate=True)
    cbec_sim_dir = str(sandbox._pkg_dir("cbec_sim"))
    graders_dir = sandbox._pkg_dir("graders")
    binds = [argv[i + 1] for i, a in enumerate(argv) if a == "--ro-bind"]
    assert cbec_sim_dir not in binds and str(graders_dir) not in binds
    assert str(graders_dir / "grading" / "child.py") in binds
    assert str(graders_dir / "exercises") not in " ".join(binds)
    normal = sandbox.bwrap_argv(tmp_path, ["python"])
    assert cbec_sim_dir in [normal[i + 1] for i, a in enumerate(normal) if a == "--ro-bind"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_bwrap()
    folder = tmp_path_factory.mktemp("exam-grade")
    exam, _course, m = build_small(folder, IDS, forms=1)
    w = open_exam(exam)
    start = parse_iso(w["opened_at"])
    inbox = folder / "inbox"
    items = m["candidates"]["good"]["items"]
    sol = {it["q"]: exercises.get(it["exercise"]).solution for it in items}
    fill(exam, "good", inbox / "good" / "exam.ipynb", sol,
         extra_cells=["import graders", "import cbec_sim",
                      "import sys\nsys.meta_path.pop(0)\nimport cbec_sim.rules"])
    fixer_items = m["candidates"]["fixer"]["items"]
    with_mistake = next(it for it in fixer_items if exercises.get(it["exercise"]).mistakes)
    ex = exercises.get(with_mistake["exercise"])
    fill(exam, "fixer", inbox / "fixer" / "exam.ipynb", {with_mistake["q"]: ex.mistakes[0].code},
         setup="raise RuntimeError('I broke the setup')")
    collect(exam, inbox, now=start + timedelta(minutes=20))
    fill(exam, "latey", inbox / "latey.ipynb", sol)
    collect(exam, inbox, now=start + timedelta(minutes=90))
    r = CliRunner().invoke(cli, ["exam", "grade", str(exam), "--timeout", "120"])
    assert r.exit_code == 2 and "window is open until" in r.output  # real clock: still open
    r = CliRunner().invoke(cli, ["exam", "grade", str(exam), "--timeout", "120", "--force"])
    assert r.exit_code == 0, r.output
    results = json.loads((exam / "server" / "results.json").read_text(encoding="utf-8"))
    grades = {g["student"]: g for g in results["grades"]}
    return exam, folder, m, grades, with_mistake


@pytest.mark.slow
def test_kit_is_not_importable_and_answers_still_scored(graded):
    _exam, _folder, m, grades, _ = graded
    g = grades["good"]
    assert g["status"] == "ok" and g["flags"] == []
    assert all(i["status"] == "correct" for i in g["items"]), g["items"]
    assert sum(i["points"] for i in g["items"]) == sum(
        it["points"] for it in m["candidates"]["good"]["items"])


@pytest.mark.slow
def test_import_attempts_fail_inside_the_kernel(graded, tmp_path):
    """Run the same notebook directly to look at the cells' outcomes."""
    from graders.grading import run_notebook

    exam, folder, _m, _grades, _ = graded
    nb = folder / "inbox" / "good" / "exam.ipynb"
    r = run_notebook(nb, data_dir=exam / "packs" / "good" / "data", capture=[],
                     isolate=True, hide=[exam], scratch_root=tmp_path)
    failed = [c for c in r.cells if not c.ok]
    assert [c.ename for c in failed] == ["ModuleNotFoundError"] * 3, \
        [(c.ename, c.evalue) for c in r.cells]
    assert "not available in this exam" in failed[0].evalue


@pytest.mark.slow
def test_setup_repaired_mistake_named_late_rejected_missing(graded):
    _exam, _folder, _m, grades, with_mistake = graded
    f = grades["fixer"]
    assert any(x.startswith("repaired: setup cell was edited") for x in f["flags"])
    by_q = {i["grade_id"]: i for i in f["items"]}
    ex = exercises.get(with_mistake["exercise"])
    assert by_q[with_mistake["q"]]["status"] == "mistake"
    assert by_q[with_mistake["q"]]["mistake"] == ex.mistakes[0].id
    assert all(i["status"] == "unanswered" for q, i in by_q.items() if q != with_mistake["q"])
    late = grades["latey"]
    assert late["status"] == "rejected" and any(x.startswith("late") for x in late["flags"])
    assert sum(i["points"] for i in late["items"]) == 0
    missing = grades["g&<i>"]
    assert missing["status"] == "missing" and missing["submission_sha256"] == ""


@pytest.mark.slow
def test_report_csv_html_audit_and_norm_group(graded, tmp_path):
    exam, _folder, m, _grades, _ = graded
    r = CliRunner().invoke(cli, ["exam", "report", str(exam)])
    assert r.exit_code == 0, r.output
    rep = exam / "report"
    with open(rep / "candidates.csv", encoding="utf-8") as fh:
        rows = {row["candidate"]: row for row in csv.DictReader(fh)}
    assert rows["good"]["overall_score"] == "100.0" and rows["good"]["passed"] == "True"
    assert rows["latey"]["overall_score"] == "0.0" and rows["latey"]["late"] == "True"
    assert rows["latey"]["passed"] == "False" and rows["g&<i>"]["status"] == "missing"
    for u in m["blueprint"]["units"]:
        assert f"{u['id']}_score" in rows["good"] and f"{u['id']}_pass" in rows["good"]
    assert float(rows["good"]["percentile"]) > float(rows["latey"]["percentile"])
    # every item score carries a reference to its audit record
    audit_lines = (exam / "server" / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    refs = {audit_ref(json.loads(line)) for line in audit_lines}
    with open(rep / "items.csv", encoding="utf-8") as fh:
        items = list(csv.DictReader(fh))
    assert items and all(row["audit_ref"] in refs for row in items)
    # forms: difficulty comparison and alpha columns
    with open(rep / "forms.csv", encoding="utf-8") as fh:
        forms = list(csv.DictReader(fh))
    assert forms[0]["form"] == "A" and forms[0]["candidates"] == "4"
    assert float(forms[0]["mean_difficulty"]) > 0 and "alpha" in forms[0]
    # escaping of candidate-derived strings
    cohort = (rep / "cohort.html").read_text(encoding="utf-8")
    assert "g&amp;&lt;i&gt;" in cohort and "<i>" not in cohort
    pages = list((rep / "candidates").glob("*.html"))
    assert len(pages) == 4
    for p in pages:
        assert "<i>" not in p.read_text(encoding="utf-8")
    # a stored norm group
    norm = tmp_path / "norm.csv"
    norm.write_text("score\n0\n50\n100\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["exam", "report", str(exam), "--norm", str(norm)])
    assert r.exit_code == 0, r.output
    with open(rep / "candidates.csv", encoding="utf-8") as fh:
        rows = {row["candidate"]: row for row in csv.DictReader(fh)}
    assert rows["good"]["percentile"] == "83.3" and rows["good"]["norm_group"] == \
        "stored norm group"
    bad = tmp_path / "bad.csv"
    bad.write_text("x\n1\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["exam", "report", str(exam), "--norm", str(bad)])
    assert r.exit_code == 2 and "no 'score' column" in r.output


@pytest.mark.slow
def test_exam_demo_end_to_end(tmp_path):
    """`cbec demo --exam`: grades agree with the simulated answers, paths are printed."""
    require_bwrap()
    r = CliRunner().invoke(cli, ["demo", "--exam", "--out", str(tmp_path / "d")])
    assert r.exit_code == 0, r.output
    assert "grades match the simulated answers" in r.output
    assert "cohort summary" in r.output
    rep = tmp_path / "d" / "exam-demo" / "exam" / "report"
    assert (rep / "cohort.html").is_file() and (rep / "candidates.csv").is_file()
    m = read_manifest(tmp_path / "d" / "exam-demo" / "exam")
    assert m["receipts"]["cand-04"]["status"] == "late"


@pytest.mark.slow
def test_timeout_is_flagged_and_cli_build(tmp_path):
    """A notebook that never ends is stopped, flagged and scores 0; the CLI builds exams."""
    require_bwrap()
    from _exam import candidates_csv, private_course, small_blueprint

    course = private_course(tmp_path)
    exam = tmp_path / "exam"
    r = CliRunner().invoke(cli, ["exam", "build", str(small_blueprint(tmp_path, forms=1)),
                                 "--candidates", str(candidates_csv(tmp_path, ["slow1"])),
                                 "--out", str(exam), "--course", str(course)])
    assert r.exit_code == 0, r.output
    assert "1 candidates on 1 form(s)" in r.output and (exam / "packs" / "slow1.zip").is_file()
    open_exam(exam)
    inbox = tmp_path / "inbox"
    fill(exam, "slow1", inbox / "slow1" / "exam.ipynb", {}, extra_cells=["while True:\n    pass"])
    collect(exam, inbox)
    r = CliRunner().invoke(cli, ["exam", "grade", str(exam), "--timeout", "8", "--force"])
    assert r.exit_code == 0, r.output
    g = json.loads((exam / "server" / "results.json").read_text(encoding="utf-8"))["grades"][0]
    assert g["status"] == "timeout"
    assert any(f.startswith("timeout") for f in g["flags"])
    assert all(i["points"] == 0 for i in g["items"])
    r = CliRunner().invoke(cli, ["exam", "report", str(exam)])
    assert r.exit_code == 0, r.output
    with open(exam / "report" / "candidates.csv", encoding="utf-8") as fh:
        row = next(csv.DictReader(fh))
    assert "timeout" in row["flags"] and row["passed"] == "False"


@pytest.mark.slow
def test_exam_demo_with_the_full_blueprint(tmp_path):
    """All ten competency units: packs of every unit's exam-ready items are graded as the
    simulated answers say (the items of the store, visual and marketing modules included)."""
    require_bwrap()
    full = Path(__file__).resolve().parents[1] / "course" / "exams" / "full.yaml"
    r = CliRunner().invoke(cli, ["demo", "--exam", "--blueprint", str(full),
                                 "--out", str(tmp_path / "d")])
    assert r.exit_code == 0, r.output
    assert "course/exams/full.yaml (10 units" in r.output
    assert "grades match the simulated answers" in r.output


def test_demo_blueprint_needs_exam_and_an_existing_file(tmp_path):
    r = CliRunner().invoke(cli, ["demo", "--blueprint", "x.yaml", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "--blueprint goes with --exam" in r.output
    r = CliRunner().invoke(cli, ["demo", "--exam", "--blueprint", str(tmp_path / "no.yaml"),
                                 "--out", str(tmp_path)])
    assert r.exit_code == 2 and "no such file" in r.output
