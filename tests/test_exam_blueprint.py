"""Exam blueprints: shape checks, validation against the item bank, parallel form assembly."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from _exam import ROOT, SMALL, small_blueprint
from click.testing import CliRunner

from graders.cli import cli
from graders.exam.blueprint import ExamError, bank, exam_ready, load, pool, validate
from graders.exam.forms import assemble_form, profile
from graders.exercises import all_exercises

DEFAULT = ROOT / "course" / "exams" / "default.yaml"
FULL = ROOT / "course" / "exams" / "full.yaml"


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bp.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def small(tmp_path: Path, **changes: str) -> Path:
    text = SMALL.format(forms=2, late="{policy: reject, grace_minutes: 5}")
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    return write(tmp_path, text)


def test_default_blueprint_validates_against_todays_bank():
    bp = load(DEFAULT)
    summary = validate(bp)
    assert bp.duration_minutes == 120
    assert set(summary) == {"data_analysis", "logistics", "b2b_trade", "customer_service",
                            "market_platform"}
    assert abs(sum(u.weight for u in bp.units) - 1) < 1e-9
    assert bp.late.policy in ("reject", "penalise", "accept-with-flag")


def test_full_blueprint_fills_all_ten_units_with_parallel_forms():
    from graders.curriculum import curriculum

    bp = load(FULL)
    summary = validate(bp)  # every competency unit now has exam-ready items
    assert set(summary) == set(curriculum(ROOT / "course").units)
    usage: dict[str, int] = {}
    forms = [assemble_form(bp, f"full{i}", usage) for i in range(bp.forms)]
    for f in forms:
        assert len(f) == sum(u.items for u in bp.units)
        assert {e.unit for e in f} == set(summary)
    assert len({frozenset(e.id for e in f) for f in forms}) == bp.forms


def test_unit_without_enough_items_of_the_difficulty_names_unit_and_what_is_missing(tmp_path):
    p = small(tmp_path, **{"{id: logistics, weight: 0.2, items: 1, difficulty: [1, 2]":
                           "{id: logistics, weight: 0.2, items: 5, difficulty: [1, 1]"})
    with pytest.raises(ExamError) as e:
        validate(load(p))
    n1 = len(pool(load(p).unit("logistics")))
    msg = str(e.value)
    assert f"unit logistics needs 5 exam-ready items of difficulty 1 but the bank has {n1}" in msg
    assert "difficulty 1:" in msg and "\n" not in msg


@pytest.mark.parametrize("change, needle", [
    ({"id: logistics,": "id: shipping,"}, "unknown competency unit 'shipping'"),
    ({"weight: 0.4": "weight: 0.5"}, "unit weights sum to 1.1; they must sum to 1"),
    ({"weight: 0.4": "weight: -0.4"}, "weight = -0.4"),
    ({"weight: 0.4": "weight: abc"}, "weight = 'abc'"),
    ({"items: 2,": "items: 0,"}, "items = 0"),
    ({"difficulty: [1, 3]": "difficulty: [3, 1]"}, "difficulty = [3, 1]"),
    ({"cut_score: 50\nforms": "cut_score: 150\nforms"}, "cut_score = 150"),
    ({"policy: reject": "policy: sometimes"}, "late.policy = 'sometimes'"),
    ({"policy: reject": "policy: reject, penalty_percent: 10"}, "only applies to policy"),
    ({"policy: reject": "policy: penalise"}, "late.penalty_percent = None"),
    ({"duration_minutes: 60": "duration_minutes: 0"}, "duration_minutes = 0"),
    ({"id: small": "id: Small Exam"}, "id = 'Small Exam'"),
    ({"cut_score: 50, weight": "cut_score: 50, weigth"}, "unknown field"),
])
def test_bad_blueprints_give_one_line_errors(tmp_path, change, needle):
    text = SMALL.format(forms=2, late="{policy: reject, grace_minutes: 5}")
    for old, new in change.items():
        if old not in text:  # the typo case: change one unit's key
            text = text.replace("cut_score: 50}", "cut_score: 50, weigth: 1}", 1)
        else:
            text = text.replace(old, new, 1)
    p = write(tmp_path, text)
    with pytest.raises(ExamError) as e:
        validate(load(p))
    assert needle in str(e.value)
    assert str(p) in str(e.value) and "\n" not in str(e.value)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ExamError, match="does not exist"):
        load(tmp_path / "nope.yaml")
    with pytest.raises(ExamError, match=r"line \d+: not valid YAML"):
        load(write(tmp_path, "id: [unclosed\n"))
    with pytest.raises(ExamError, match="expected a mapping"):
        load(write(tmp_path, "- a\n- b\n"))


def test_exam_ready_items_need_neither_the_kit_nor_labels():
    ready = bank()
    assert ready
    for ex in ready:
        assert "cbec_sim" not in ex.solution and "graders" not in ex.solution
        assert "anomalies" not in ex.tables
        assert "上一题" not in ex.question and "练习 2" not in ex.question
    left_out = [e for e in all_exercises() if not exam_ready(e)]
    assert any("cbec_sim" in e.solution for e in left_out)


def test_parallel_forms_have_the_same_difficulty_profile_and_differ(tmp_path):
    bp = load(DEFAULT)
    usage: dict[str, int] = {}
    forms = [assemble_form(bp, f"k{i}", usage) for i in range(4)]
    for f in forms:
        assert len({e.answer for e in f}) == len(f), "answer variables must be distinct"
        for spec in bp.units:
            strata = Counter((e.difficulty, float(e.points)) for e in f if e.unit == spec.id)
            assert dict(strata) == profile(spec)
    totals = {sum(e.difficulty for e in f) for f in forms}
    points = {sum(e.points for e in f) for f in forms}
    assert len(totals) == 1 and len(points) == 1
    ids = [frozenset(e.id for e in f) for f in forms]
    assert len(set(ids)) == 4, "exposure balancing gives different forms"
    # same key and usage → same form (reproducible)
    again = assemble_form(bp, "k0", {})
    assert [e.id for e in again] == [e.id for e in forms[0]]


def test_cli_validate(tmp_path):
    r = CliRunner().invoke(cli, ["exam", "validate", str(DEFAULT), "--course",
                                 str(ROOT / "course")])
    assert r.exit_code == 0, r.output
    assert "ok" in r.output and "data_analysis" in r.output
    from graders.cli import main

    assert main(["exam", "validate", str(FULL), "--course", str(ROOT / "course")]) == 0
    p = small_blueprint(tmp_path)
    assert main(["exam", "validate", str(p), "--course", str(ROOT / "course")]) == 0


def test_cli_validate_error_is_one_line(capfd, tmp_path):
    from graders.cli import main

    text = FULL.read_text(encoding="utf-8").replace(
        "{id: visual, weight: 0.05, items: 1,", "{id: visual, weight: 0.05, items: 40,")
    too_many = write(tmp_path, text)
    assert main(["exam", "validate", str(too_many), "--course", str(ROOT / "course")]) == 2
    err = capfd.readouterr().err.strip()
    assert err.startswith("cbec: ") and "unit visual" in err and "\n" not in err
