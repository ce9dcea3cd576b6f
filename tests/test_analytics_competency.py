"""Competency numbers and the score loader, checked on the hand-made SQLite gradebook of
``tests/_gradebook.py`` (real nbgrader.api objects and the real cbec_audit table, no mocks),
and the practice telemetry."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from _gradebook import COURSE_ID, NB0, make_gradebook

from graders.analytics import competency as C
from graders.analytics import scores as S
from graders.analytics.items import top_mistakes
from graders.grading import audit


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory) -> str:
    return make_gradebook(tmp_path_factory.mktemp("gb"))


@pytest.fixture(scope="module")
def scores(gradebook) -> pd.DataFrame:
    return S.load_scores(gradebook, COURSE_ID)


def test_load_scores_is_long_and_typed(scores):
    assert len(scores) == 4 + 4 + 3  # alice 4 + 3 cells, bob 4; carol has no submission
    assert list(scores.columns) == list(S.SCORE_DTYPES)
    assert all(scores[c].dtype == pd.api.types.pandas_dtype(t)
               for c, t in S.SCORE_DTYPES.items())
    judge = scores[scores["grade_id"] == "00-02-first_look-judgement"].set_index("student")
    assert judge["exercise"].isna().all() and judge["stage"].isna().all()
    assert judge.loc["alice", "score"] == 1.5  # the manual score is nbgrader's final score
    assert judge.loc["bob", "score"] == 0.0 and bool(judge.loc["bob", "needs_manual_grade"])
    row = scores[(scores["student"] == "alice") & (scores["grade_id"] == "13-01-epacket_quote")]
    r = row.iloc[0]
    assert (r["exercise"], r["stage"], r["tasks"], r["unit"], r["difficulty"]) == (
        "13.01.epacket_quote", "5.13", "3.2.2;11.1.1", "logistics", 2)


def test_submissions_subtract_the_late_penalty(gradebook):
    subs = S.load_submissions(gradebook, COURSE_ID).set_index(["student", "assignment"])
    a13 = subs.loc[("alice", "13-logistics")]
    assert (a13["raw_score"], a13["late_penalty"], a13["score"], a13["max_score"]) == (
        3.0, 0.5, 2.5, 6.0)
    assert subs.loc[("bob", "00-orientation"), "score"] == 2.0  # 0 + 2 + 0 + (pending) 0


def test_stage_points_percent_and_mastery(scores):
    st = C.by_stage(scores).set_index(["student", "stage"])
    # alice 5.14: order_count 1/1 + gmv_cny 0/2 + cancel_rate 2/2 = 3/5 = 60 % → basic
    # (the hand-marked judgement has no stage and does not count)
    a = st.loc[("alice", "5.14")]
    assert (a["items"], a["points"], a["max_points"], a["level"]) == (3, 3.0, 5.0, "basic")
    assert math.isclose(a["percent"], 60.0)
    assert a["title_cn"] == "数据分析"
    # alice 5.13: volumetric 1/1 + epacket 2/2 + channel_choice 0/3 = 3/6 = 50 % → basic (≥0.5)
    assert math.isclose(st.loc[("alice", "5.13"), "percent"], 50.0)
    assert st.loc[("alice", "5.13"), "level"] == "basic"
    # bob 5.14: 0 + 2 + 0 = 2/5 = 40 % → not yet
    assert st.loc[("bob", "5.14"), "level"] == "not_yet"
    assert ("bob", "5.13") not in st.index  # no items submitted: no level at all
    assert list(C.by_stage(scores)["stage"].drop_duplicates()) == ["5.13", "5.14"]  # clause order
    # configurable thresholds: 0.4 / 0.6 → alice 60 % proficient, bob 40 % basic
    custom = C.by_stage(scores, C.Mastery(basic=0.4, proficient=0.6)).set_index(
        ["student", "stage"])
    assert custom.loc[("alice", "5.14"), "level"] == "proficient"
    assert custom.loc[("bob", "5.14"), "level"] == "basic"
    with pytest.raises(ValueError, match="basic"):
        C.Mastery(basic=0.9, proficient=0.5)


def test_task_and_unit_totals(scores):
    tasks = C.by_task(scores).set_index(["student", "task"])
    # 7.2.1: order_count 1/1 + cancel_rate 2/2; 11.1.1: volumetric 1 + epacket 2 + channel 0 of
    # 1 + 2 + 3; 11.1.6: channel_choice 0/3; 7.1/7.4: gmv_cny 0/2
    assert tasks.loc[("alice", "7.2.1"), ["points", "max_points"]].tolist() == [3.0, 3.0]
    assert tasks.loc[("alice", "11.1.1"), ["points", "max_points"]].tolist() == [3.0, 6.0]
    assert tasks.loc[("alice", "11.1.6"), "percent"] == 0.0
    assert tasks.loc[("alice", "7.1/7.4"), "percent"] == 0.0
    assert tasks.loc[("bob", "7.2.1"), ["points", "max_points"]].tolist() == [0.0, 3.0]
    units = C.by_unit(scores).set_index(["student", "unit"])
    assert units.loc[("alice", "data_analysis"), ["points", "max_points"]].tolist() == [3.0, 5.0]
    assert units.loc[("alice", "logistics"), ["points", "max_points"]].tolist() == [3.0, 6.0]


def test_mastery_matrix(scores):
    m = C.mastery_matrix(scores)
    assert list(m.columns) == ["5.13", "5.14"] and list(m.index) == ["alice", "bob"]
    assert m.loc["alice"].tolist() == ["basic", "basic"]
    assert pd.isna(m.loc["bob", "5.13"]) and m.loc["bob", "5.14"] == "not_yet"
    full = C.mastery_matrix(scores, all_stages=True)
    assert full.shape == (2, 18) and full["5.1"].isna().all()
    pct = C.percent_matrix(scores)
    assert pct.loc["alice", "5.13"] == 50.0 and math.isnan(pct.loc["bob", "5.13"])


def test_missed_items_name_the_mistake_and_the_notebook(gradebook, scores):
    rows = audit.read_table(gradebook)
    missed = C.missed_items(scores, rows)
    alice = missed[missed["student"] == "alice"].set_index("exercise")
    assert list(alice.index) == ["00.02.gmv_cny", "13.01.channel_choice"]
    gmv = alice.loc["00.02.gmv_cny"]
    assert (gmv["mistake"], gmv["status"], gmv["stage"]) == ("foreign_currency", "mistake", "5.14")
    assert gmv["revisit"] == f"{NB0}.ipynb — 成交总额（人民币）"
    assert isinstance(gmv["mistake_feedback"], str) and gmv["mistake_feedback"]
    assert alice.loc["13.01.channel_choice", "mistake"] == "ignored_market"
    assert C.missed_items(scores)["mistake"].isna().all()  # without audit records
    report = C.trainee(scores, "bob", audit=rows)
    assert report.missed["exercise"].tolist() == ["00.02.cancel_rate", "00.02.order_count"]
    assert report.stages["level"].tolist() == ["not_yet"]
    with pytest.raises(KeyError):
        C.trainee(scores, "carol")


def test_top_mistakes_from_the_audit_table(gradebook):
    top = top_mistakes(audit.read_table(gradebook)).set_index(["exercise", "mistake"])
    assert top.loc[("00.02.cancel_rate", "percent"), ["count", "graded"]].tolist() == [1, 2]
    assert top.loc[("00.02.cancel_rate", "percent"), "share"] == 0.5
    # a regrade (later `finished`) replaces the older outcome: bob's cancel_rate now correct
    rows = audit.read_table(gradebook)
    newer = {**next(r for r in rows if r["student"] == "bob"
                    and r["grade_id"] == "00-02-cancel_rate"),
             "mistake": None, "status": "correct", "finished": "2025-06-02T10:00:00+00:00"}
    top2 = top_mistakes([*rows, newer])
    assert "00.02.cancel_rate" not in set(top2["exercise"])


def test_practice_telemetry(tmp_path):
    sub = tmp_path / "submitted"

    def log(student: str, lines: list) -> None:
        d = sub / student / "00-orientation" / ".cbec"
        d.mkdir(parents=True)
        (d / "attempts.jsonl").write_text(
            "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
            encoding="utf-8")

    ev = "00.02.gmv_cny"
    log("alice", [
        {"time": "2025-06-01T10:00:00+00:00", "event": "check", "exercise": ev,
         "status": "mistake", "mistake": "foreign_currency"},
        {"time": "2025-06-01T10:01:00+00:00", "event": "hint", "exercise": ev, "level": 1},
        {"time": "2025-06-01T10:02:00+00:00", "event": "check", "exercise": ev,
         "status": "value", "mistake": None},
        {"time": "2025-06-01T10:05:30+00:00", "event": "check", "exercise": ev,
         "status": "correct", "mistake": None},
        "not json",
        {"time": "2025-06-01T10:06:00+00:00", "event": "solution", "exercise": "00.02.x"},
    ])
    log("bob", [{"time": "2025-06-01T11:00:00+00:00", "event": "check", "exercise": ev,
                 "status": "unanswered", "mistake": None},
                {"time": "nonsense", "event": "check", "exercise": ev}])
    events = S.load_attempts(sub)
    assert events.attrs["skipped_lines"] == 2 and len(events) == 6
    assert str(events["time"].dtype) == "datetime64[ns, UTC]"
    t = S.telemetry(events).set_index(["student", "exercise"])
    a = t.loc[("alice", ev)]
    assert (a["checks"], a["hints"], a["solutions"], a["solved"]) == (3, 1, 0, True)
    assert a["attempts_before_correct"] == 2 and a["seconds_on_task"] == 330.0
    b = t.loc[("bob", ev)]
    assert not b["solved"] and pd.isna(b["attempts_before_correct"])
    assert b["seconds_on_task"] == 0.0
    assert t.loc[("alice", "00.02.x"), "solutions"] == 1
    assert S.load_attempts(tmp_path / "nothing").empty
