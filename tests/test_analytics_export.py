"""LMS grade exports and the long item table on the hand-made gradebook, and nbgrader's own
``nbgrader export`` on the same database (with the cbec_audit table in it)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from _gradebook import COURSE_ID, make_gradebook

from graders.analytics import export as E
from graders.analytics import scores as S
from graders.nbg import nbgrader_failure, run_nbgrader


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory) -> str:
    return make_gradebook(tmp_path_factory.mktemp("gb"))


def _rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def test_moodle_csv(gradebook, tmp_path):
    subs = S.load_submissions(gradebook, COURSE_ID)
    students = S.load_students(gradebook, COURSE_ID)
    rows = _rows(E.moodle_csv(tmp_path / "m.csv", subs, students))
    assert rows == [
        ["ID number", "First name", "Last name", "00-orientation", "13-logistics"],
        ["alice", "Li", "Wang", "4.5", "2.5"],  # 1+0+2+1.5 manual; 3 − 0.5 late penalty
        ["bob", "Bo", "Zhao", "2", ""],  # no 13-logistics submission: empty, not 0
        ["carol", "Ke", "Chen", "", ""],
    ]
    by_mail = _rows(E.moodle_csv(tmp_path / "e.csv", subs, students, identifier="Email address"))
    assert by_mail[0][0] == "Email address" and by_mail[1][0] == "li@example.cn"
    with pytest.raises(E.ExportError, match="lms_user_id for 2 student"):
        E.moodle_csv(tmp_path / "x.csv", subs, students, id_from="lms_user_id")
    with pytest.raises(E.ExportError, match="identifier"):
        E.moodle_csv(tmp_path / "x.csv", subs, students, identifier="Username")


def test_canvas_csv(gradebook, tmp_path):
    subs = S.load_submissions(gradebook, COURSE_ID)
    students = S.load_students(gradebook, COURSE_ID)
    maxima = S.load_assignments(gradebook, COURSE_ID)
    points = dict(zip(maxima["assignment"], maxima["max_score"], strict=True))
    assert points == {"00-orientation": 7.0, "13-logistics": 6.0}
    path = E.canvas_csv(tmp_path / "c.csv", subs, students, points,
                        canvas_ids={"13-logistics": "4711"}, section="2025 春")
    assert _rows(path) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "00-orientation",
         "13-logistics (4711)"],
        ["Points Possible", "", "", "", "", "7", "6"],
        ["Wang, Li", "1001", "alice", "", "2025 春", "4.5", "2.5"],
        ["Zhao, Bo", "", "bob", "", "2025 春", "2", ""],
        ["Chen, Ke", "", "carol", "", "2025 春", "", ""],
    ]
    with pytest.raises(E.ExportError, match="no maximum score"):
        E.canvas_csv(tmp_path / "c.csv", subs, students, {})


def test_long_item_scores_round_trip(gradebook, tmp_path):
    scores = S.load_scores(gradebook, COURSE_ID)
    pq = pd.read_parquet(E.write_item_scores(scores, tmp_path / "items.parquet"))
    pd.testing.assert_frame_equal(pq, scores, check_dtype=False)
    assert str(pq["difficulty"].dtype) == "Int64"
    back = pd.read_csv(E.write_item_scores(scores, tmp_path / "items.csv"))
    assert len(back) == len(scores) and list(back.columns) == list(scores.columns)
    assert back["score"].sum() == scores["score"].sum()
    with pytest.raises(E.ExportError, match=r"csv or \.parquet"):
        E.write_item_scores(scores, tmp_path / "items.xlsx")
    files = E.export_all(gradebook, COURSE_ID, tmp_path / "all")
    assert sorted(p.name for p in files.values()) == [
        "canvas.csv", "item_scores.csv", "item_scores.parquet", "moodle.csv"]


def test_nbgrader_export_still_works_on_the_same_gradebook(gradebook, tmp_path):
    S.load_scores(gradebook, COURSE_ID)  # our reads leave the database as it was
    p = run_nbgrader(tmp_path, "export", f"--CourseDirectory.db_url={gradebook}",
                     f"--CourseDirectory.course_id={COURSE_ID}",
                     f"--CourseDirectory.root={tmp_path}", timeout=120)
    assert p.returncode == 0, nbgrader_failure(p)
    nbg = pd.read_csv(tmp_path / "grades.csv")
    ours = S.load_submissions(gradebook, COURSE_ID).set_index(["student", "assignment"])
    sub = nbg.set_index(["student_id", "assignment"]).loc[list(ours.index)]
    assert sub["score"].tolist() == ours["score"].tolist()
    assert sub["late_submission_penalty"].fillna(0).tolist() == ours["late_penalty"].tolist()
    assert set(nbg["student_id"]) == {"alice", "bob", "carol"}
