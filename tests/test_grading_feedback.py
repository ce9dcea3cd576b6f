"""Feedback pages of `cbec grade`: layout, escaping, and — searched in the HTML — no hidden test
code and no expected values (computed by the exercises' reference functions on a real world)."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from graders import cells, exercises
from graders.grading import feedback as F
from graders.grading.results import ItemScore, NotebookGrade

ASSIGNMENT = "00-orientation"
XSS = "<script>alert('x')</script>"


def _graded(world) -> list[NotebookGrade]:
    """Real results on ``world``: per exercise, the first known mistake's answer (else the
    starter's ...) judged by Exercise.evaluate, with its safe message."""
    by_nb: dict[str, list[ItemScore]] = {}
    checks: dict[str, list[dict]] = {}
    for k, ex in enumerate(exercises.for_module(ASSIGNMENT)):
        name = ex.notebook
        if k % 3 == 0:
            answer = ex.run(ex.solution, world, label="solution")
        else:
            values = ex.mistake_values(world)
            answer = next(iter(values.values())) if values else Ellipsis
        r = ex.evaluate(answer, world)
        pts = ex.points if r.correct else 0.0
        by_nb.setdefault(name, []).append(ItemScore(
            name, cells.grade_id(ex.id), "cbec", ex.points, pts, r.status, r.message,
            exercise=ex.id, mistake=r.mistake))
        checks.setdefault(name, []).append({"id": ex.id, "ok": r.correct, "text": r.message})
    out = []
    for name, items in sorted(by_nb.items()):
        items.append(ItemScore(name, f"{name.replace('.', '-')}-judgement", "manual", 2.0, None,
                               "manual"))
        out.append(NotebookGrade("s1", ASSIGNMENT, name, "ok", items=items,
                                 checks=checks[name], submission_sha256="a" * 64,
                                 dataset_hash="b" * 64))
    return out


def _needles(value) -> set[str]:
    """Distinctive renderings of an expected answer (short numbers and words would match
    labels and points by chance, so only specific ones are searched)."""
    out: set[str] = set()
    if isinstance(value, pd.DataFrame):
        for col in value.columns:
            out |= _needles(value[col])
        return out
    if isinstance(value, (pd.Series, pd.Index, list, tuple, set, frozenset, np.ndarray)):
        vals = list(value.values) if isinstance(value, pd.Series) else list(value)
        if isinstance(value, pd.Series):
            vals += list(value.index)
        for v in vals[:200]:
            out |= _needles(v)
        return out
    if isinstance(value, (bool, np.bool_)) or value is None:
        return out
    if isinstance(value, (int, np.integer)):
        if abs(int(value)) >= 100:
            out |= {str(int(value)), f"{int(value):,}"}
        return out
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if np.isfinite(v) and v not in (0.0, 1.0) and abs(v) >= 0.001:
            out |= {f"{v:.2f}", f"{v:.4f}", repr(v), f"{v:,.2f}", f"{v * 100:.1f}%"}
            out = {s for s in out if len(s.strip("0.%-")) >= 3}
        return out
    if isinstance(value, str) and len(value) >= 4:
        out.add(value)
    return out


@pytest.fixture
def pages(tmp_path, small_world):
    grades = _graded(small_world)
    paths = F.write_feedback(tmp_path / "fb", grades)
    return grades, paths


def test_one_self_contained_page_per_trainee_and_assignment(pages, tmp_path):
    grades, paths = pages
    assert paths == [tmp_path / "fb" / "s1" / ASSIGNMENT / "feedback.html"]
    page = paths[0].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page and '<meta charset="utf-8">' in page
    assert "Noto Sans CJK SC" in page and "Microsoft YaHei" in page
    for bad in ("<script", "<link", "src=", "http://", "https://", "@import", "url("):
        assert bad not in page, bad
    total = sum(g.score for g in grades)
    assert f"{total:g} <small>/ {sum(g.max_score for g in grades):g} 分" in page
    for g in grades:
        assert g.notebook in page
        for i in g.items:
            title = exercises.get(i.exercise).title if i.exercise else i.grade_id
            assert F._e(title) in page
    assert "待人工评分 (manual grading)" in page
    assert "常见错误 (known mistake)" in page
    assert "未通过的检查 (failed visible checks)" in page
    assert sum(1 for g in grades for i in g.items if i.mistake) >= 1


def test_no_hidden_tests_and_no_expected_values(pages, small_world):
    _, paths = pages
    page = paths[0].read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", page)
    assert ".grade(" not in page and "BEGIN HIDDEN TESTS" not in page
    searched = 0
    for ex in exercises.for_module(ASSIGNMENT):
        for line in cells.test_cell(ex).source.splitlines():
            if line.strip() and "自动评分" not in line:
                assert line.strip() not in page, line
        for needle in _needles(ex.expected(small_world)):
            searched += 1
            assert needle not in page and F._e(needle) not in page, (ex.id, needle)
            assert needle not in text, (ex.id, needle)
        assert ex.solution.strip().splitlines()[-1] not in page
    assert searched >= 10  # the search had something to look for


def test_defence_in_depth_drops_hidden_test_lines():
    leak = "ok\n### BEGIN HIDDEN TESTS\nq.order_count.grade(order_count)\n### END HIDDEN TESTS"
    g = NotebookGrade("s1", ASSIGNMENT, "00.02-Your-World", "ok", items=[
        ItemScore("00.02-Your-World", "00-02-order_count", "cbec", 1.0, 0.0, "value", leak,
                  exercise="00.02.order_count")])
    page = F.render_page("s1", ASSIGNMENT, [g])
    assert "HIDDEN" not in page and ".grade(" not in page and "ok" in page


def test_everything_from_a_submission_is_escaped(tmp_path):
    g = NotebookGrade(
        "s2", ASSIGNMENT, "00.01-Welcome", "timeout", diagnosis=f"stdout: {XSS}",
        items=[ItemScore("00.01-Welcome", "custom-test", "assert", 1.0, 0.5, "partial",
                         f"AssertionError: {XSS}"),
               ItemScore("00.01-Welcome", "00-01-store_count", "cbec", 1.0, 0.0, "error",
                         '"><img src=x onerror=alert(1)>', exercise="00.01.store_count")],
        flags=[f"re-added deleted test cell {XSS}"],
        checks=[{"id": "00.01.store_count", "ok": False, "text": XSS}])
    page = F.write_feedback(tmp_path, [g])[0].read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "超时 (timeout)" in page and "运行诊断 (run diagnosis)" in page
    assert "custom-test" in page  # an assert item is named by its grade id
    assert "部分正确 (partial credit)" in page
    assert "完整性提示 (integrity flags)" in page


def test_pages_are_reproducible_and_grouped(tmp_path, small_world):
    grades = _graded(small_world)
    other = [replace(g, student="s9") for g in grades]
    a = F.write_feedback(tmp_path / "a", grades + other)
    b = F.write_feedback(tmp_path / "b", other + grades)
    assert [p.relative_to(tmp_path / "a") for p in a] == \
        [p.relative_to(tmp_path / "b") for p in b]
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert len(a) == 2
    with pytest.raises(ValueError, match="plain name"):
        F.write_feedback(tmp_path, [replace(grades[0], student="../x")])
