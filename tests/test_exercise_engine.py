"""The Exercise engine: one evaluate() behind check (never raises) and grade (raises)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graders import exercises, practice
from graders.compare import Integer
from graders.exercise import Exercise, Mistake, namespace


@pytest.fixture(scope="module")
def world():
    return practice.load_world()


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CBEC_DATASET", raising=False)
    practice.set_logging(True)
    yield tmp_path
    practice.set_logging(True)


def _count_ex(**kw) -> Exercise:
    base = dict(
        id="99.01.n_orders", title="订单数", question="多少订单？", stage="5.14",
        tasks=("7.2.1",), unit="data_analysis", difficulty=1, points=1, answer="n",
        kind="integer", reference=lambda w: len(w.orders), solution="n = len(orders)",
        hints=("用 len()",), compare=Integer(),
        mistakes=(Mistake("lines", "n = len(order_lines)", "你数的是订单行。"),
                  Mistake("broken", "n = orders.no_such_column.sum()", "永远不会匹配")),
    )
    base.update(kw)
    return Exercise(**base)


def test_solution_correct_and_mistake_named(world):
    ex = _count_ex()
    assert ex.evaluate(ex.run(ex.solution, world), world).correct
    r = ex.evaluate(ex.run(ex.mistakes[0].code, world), world)
    assert (r.status, r.mistake, r.message) == ("mistake", "lines", "你数的是订单行。")
    assert ex.evaluate(..., world).status == "unanswered"
    assert ex.evaluate(None, world).status == "unanswered"
    assert ex.evaluate("many", world).status == "type"
    assert ex.evaluate(1, world).status == "value"


def test_grade_raises_with_safe_message(world):
    ex = _count_ex()
    ex.grade(len(world.orders), world)
    with pytest.raises(AssertionError) as e:
        ex.grade(len(world.order_lines), world)
    assert str(e.value) == "[99.01.n_orders] 你数的是订单行。"
    with pytest.raises(AssertionError) as e:
        ex.grade(1, world)
    assert str(len(world.orders)) not in str(e.value)


def test_answer_code_cannot_change_the_world(world):
    before = list(world.orders.columns)
    first_rate = world.orders.fx_rate_cny.iloc[0]
    ex = _count_ex(solution="orders['junk'] = 1\norders.loc[orders.index[0], 'fx_rate_cny'] = -1"
                            "\nn = len(world.orders)")
    assert ex.evaluate(ex.run(ex.solution, world), world).correct
    assert list(world.orders.columns) == before
    assert world.orders.fx_rate_cny.iloc[0] == first_rate
    assert "junk" not in namespace(world)["orders"].columns


def test_run_reports_missing_variable(world):
    with pytest.raises(NameError, match="does not assign `n`"):
        _count_ex().run("x = 1", world)


def test_check_never_raises_and_logs(world, in_tmp, capsys):
    q = practice.Question(_count_ex(), world)

    class Weird:
        def __float__(self):
            raise RuntimeError("boom")

    for answer in (..., Weird(), object(), [1, 2], len(world.order_lines), len(world.orders)):
        r = q.check(answer)
        assert r.status in ("unanswered", "type", "mistake", "correct", "error", "value")
    out = capsys.readouterr().out
    assert "✔" in out and "你数的是订单行" in out and "还没有作答" in out
    log = [json.loads(x) for x in (in_tmp / ".cbec" / "attempts.jsonl").read_text().splitlines()]
    assert [x["status"] for x in log][-2:] == ["mistake", "correct"]
    assert log[-2]["mistake"] == "lines" and all(x["exercise"] == "99.01.n_orders" for x in log)


def test_hints_progress_then_repeat(world, in_tmp, capsys):
    q = practice.Question(_count_ex(hints=("一", "二")), world)
    q.hint(), q.hint(), q.hint()
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("提示 1/2：一") and out[1].startswith("提示 2/2：二")
    assert out[2] == out[1]
    q.solution()
    assert "n = len(orders)" in capsys.readouterr().out
    events = [json.loads(x)["event"] for x in
              (in_tmp / ".cbec" / "attempts.jsonl").read_text().splitlines()]
    assert events == ["hint", "hint", "hint", "solution"]


def test_logging_opt_out(world, in_tmp):
    practice.set_logging(False)
    practice.Question(_count_ex(), world).check(3)
    assert not (in_tmp / ".cbec").exists()


def test_question_grade_same_path_as_check(world, in_tmp):
    q = practice.Question(_count_ex(), world)
    q.grade(len(world.orders))
    with pytest.raises(AssertionError, match="你数的是订单行"):
        q.grade(len(world.order_lines))
    assert not (in_tmp / ".cbec").exists()  # grading does not write the trainee's log


def test_questions_of_a_notebook(world):
    q = practice.questions("00.02", world)
    assert len(q) == len(exercises.for_notebook("00.02")) >= 2
    assert q[1].exercise.id.startswith("00.02.")
    with pytest.raises(AttributeError, match="available"):
        q.no_such_item  # noqa: B018
    with pytest.raises(KeyError, match=r"NN\.MM"):
        practice.questions("77.77", world)


def test_dataset_resolution(in_tmp, monkeypatch):
    default = practice.dataset_path()
    assert (default / "manifest.json").is_file() and default.name == "default"
    monkeypatch.setenv("CBEC_DATASET", str(in_tmp / "nowhere"))
    with pytest.raises(FileNotFoundError, match="nowhere: no dataset here"):
        practice.dataset_path()
    monkeypatch.setenv("CBEC_DATASET", str(default))
    assert practice.dataset_path() == Path(str(default))


def test_registry_ids_unique_and_well_formed():
    from graders.exercise import ID_RE

    ids = [ex.id for ex in exercises.all_exercises()]
    assert len(ids) == len(set(ids))
    assert all(ID_RE.match(i) for i in ids)
    with pytest.raises(KeyError, match="known ids"):
        exercises.get("00.99.nope")


def test_widget_panel_buttons_run_check_hint_solution(world, in_tmp):
    import ipywidgets as w

    q = practice.Question(_count_ex(), world)
    panel = q.panel()
    assert isinstance(panel, w.VBox)
    buttons, _out = panel.children
    assert [b.description for b in buttons.children] == ["检查", "提示", "参考解法"]
    for b in buttons.children:
        b.click()  # outside IPython the answer variable is not found: "还没有作答"
    events = [json.loads(x)["event"] for x in
              (in_tmp / ".cbec" / "attempts.jsonl").read_text().splitlines()]
    assert events == ["check", "hint", "solution"]
