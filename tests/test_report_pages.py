"""`cbec report` on the hand-made gradebook of tests/_gradebook.py (real nbgrader gradebook and
cbec_audit table, no grading run): page contents, escaping, CSVs, exports and one-line errors.
The same pages on a cohort graded by the real grader: tests/test_report_graded.py."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import warnings
from pathlib import Path

import pandas as pd
import pytest
from _course import cbec, one_line_error
from _gradebook import COURSE_ID, NB0, hand_course, make_gradebook
from _services import require_postgres
from sqlalchemy.exc import SAWarning

from graders import exercises
from graders.analytics import competency as C
from graders.analytics import scores as S
from graders.curriculum import standard
from graders.reports import html as H
from graders.reports import load_course
from graders.reports import trainee as T
from graders.reports.cohort import render as render_cohort

EXTERNAL = re.compile(r"""(?:https?:)?//[\w.-]+\.[a-z]{2,}|(?:src|href)\s*=\s*["'](?!data:|#)""",
                      re.IGNORECASE)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return hand_course(tmp_path_factory.mktemp("hand"))


@pytest.fixture(scope="module")
def reports(course, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    p = cbec("report", "trainee", "--all", "--course", str(course), "--out", str(out))
    assert p.returncode == 0, p.stderr
    p = cbec("report", "cohort", "--course-wide", "--course", str(course), "--out", str(out))
    assert p.returncode == 0, p.stderr
    return out


@pytest.fixture
def run(capsys):
    """``cbec`` in this process (the real entry point ``graders.cli.main``): quicker than a
    subprocess on a loaded machine; returns a CompletedProcess like ``_course.cbec``."""
    from graders.cli import main

    def _run(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()
        rc = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["cbec", *args], rc, out, err)

    return _run


def _page(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _self_contained(page: str) -> None:
    assert not EXTERNAL.search(page), EXTERNAL.search(page)
    assert "@font-face" in page and "data:font/woff;base64," in page  # CJK font embedded
    assert "@media print" in page
    assert "<script" not in page.lower()
    assert ".grade(" not in page and "HIDDEN TESTS" not in page


def test_trainee_report_shows_every_stage_mastery_and_mistakes(reports):
    page = _page(reports / "trainees" / "alice.html")
    _self_contained(page)
    for st in standard().stages:  # all 18 stage rows, Chinese title with the English one
        assert f"<td>{st.id}</td><td>{H.esc(st.title_cn)} ({H.esc(st.title_en)})</td>" in page
    # alice: 5.14 3/5 = 60 % basic, 5.13 3/6 = 50 % basic; the other 16 stages not assessed
    assert page.count("基本掌握 (basic)") >= 2 and page.count("未考核 (not assessed)") == 16
    assert "3 / 5" in page and "60%" in page
    for mistake in ("foreign_currency", "ignored_market"):  # known mistakes from the audit
        assert mistake in page
    gmv = exercises.get("00.02.gmv_cny")
    assert H.esc(f"{NB0}.ipynb — {gmv.title}") in page  # the section to revisit
    assert H.esc(next(m.feedback for m in gmv.mistakes if m.id == "foreign_currency")) in page
    assert "7.2.1" in page and "data_analysis" in page and "logistics" in page  # tasks, units
    assert page.count('src="data:image/png;base64,') == 1  # the stage chart
    for ex_id in ("00.02.gmv_cny", "13.01.channel_choice"):  # never solutions or answers
        assert H.esc(exercises.get(ex_id).solution) not in page
    assert "Li" in page and "Wang" in page  # name from the gradebook
    bob = _page(reports / "trainees" / "bob.html")
    assert "尚未掌握 (not yet)" in bob and "percent" in bob and "order_count" in bob


def test_trainee_csv_next_to_the_page(reports):
    rows = _csv(reports / "trainees" / "alice.csv")
    assert [r["stage"] for r in rows] == standard().stage_ids
    r = next(r for r in rows if r["stage"] == "5.14")
    assert (r["points"], r["max_points"], r["percent"], r["level"]) == ("3", "5", "60", "basic")
    assert next(r for r in rows if r["stage"] == "5.1")["level"] == ""
    everyone = _csv(reports / "trainees" / "stage_points.csv")
    assert {r["student"] for r in everyone} == {"alice", "bob"} and len(everyone) == 36
    assert not (reports / "trainees" / "carol.html").exists()  # no submission, no report


def test_cohort_dashboard_contents(reports):
    page = _page(reports / "cohort-course.html")
    _self_contained(page)
    assert page.count('src="data:image/png;base64,') == 2  # histogram + heat map
    assert "no telemetry" in page
    for a in ("00-orientation", "13-logistics"):
        assert f'<h3 id="items-{a}">{a} ' in page
    assert "00.02.gmv_cny" in page and H.esc(exercises.get("00.02.gmv_cny").title) in page
    assert "percent ×" in page  # bob's cancel_rate / order_count mistake, most frequent first
    assert "fewer than 3 trainees" in page  # two trainees: statistics are NaN with a reason
    assert "Cronbach" in page and "upper–lower" in page and "r_it" in page
    items = _csv(reports / "cohort-course-items.csv")
    assert {r["assignment"] for r in items} == {"00-orientation", "13-logistics"}
    stages = _csv(reports / "cohort-course-stages.csv")
    assert len(stages) == 2 * 18


def test_telemetry_on_the_dashboard(course):
    log = course / "submitted" / "alice" / "00-orientation" / ".cbec" / "attempts.jsonl"
    log.parent.mkdir(parents=True)
    events = [{"time": f"2025-06-01T10:0{i}:00+00:00", "event": ev, "exercise": "00.02.gmv_cny",
               "status": st} for i, (ev, st) in enumerate(
                   [("check", "mistake"), ("hint", None), ("check", "correct")])]
    log.write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")
    try:
        data = load_course(course, assignments=["00-orientation"])
        page = render_cohort(data, "00-orientation")
    finally:
        log.unlink()
    assert "no telemetry" not in page
    assert page.count('src="data:image/png;base64,') == 3  # + time on task / hints chart
    assert "practice telemetry" in page and "00.02.gmv_cny" in page


def test_user_strings_are_escaped(course):
    data = load_course(course)
    evil = "<script>alert('x')</script>"
    data.students.loc[data.students["student"] == "alice", "first_name"] = evil
    newer = {**next(r for r in data.audit if r["student"] == "alice"
                    and r["grade_id"] == "00-02-gmv_cny"),
             "mistake": '<img src=x onerror="alert(1)">', "finished": "2030-01-01T00:00:00Z"}
    data.audit.append(newer)
    from graders.analytics import competency as C

    rep = C.trainee(data.scores, "alice", audit=data.audit)
    page = T.render(data, rep, C.Mastery())
    assert evil not in page and H.esc(evil) in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    cohort = render_cohort(data, "course")
    assert evil not in cohort and "<img src=x" not in cohort
    assert H.plain_name("../o'brien <x>") == "_o_brien__x_"


def test_html_helpers():
    t = H.table(["a<b", "n"], [["<i>", H.Raw("<b>ok</b>")], [None, float("nan")]], numeric=(1,))
    assert "<th>a&lt;b</th>" in t and "<td>&lt;i&gt;</td>" in t and "<b>ok</b>" in t
    assert '<td class="num">—</td>' not in t and "<td></td>" in t  # None/NaN cells: empty
    assert H.fmt(2.0) == "2" and H.fmt(0.12345) == "0.12" and H.fmt(float("nan")) == "—"
    assert "proficient" in H.level_tag("proficient") and "not assessed" in H.level_tag(None)
    page = H.page("标题 <x>", H.section("节 (section)", H.note("正文 & more")))
    a, b = H.embed_font({1: page}), H.embed_font({1: page})
    assert a == b  # deterministic: byte-identical pages for the same data
    assert "标题 &lt;x&gt;" in a[1] and "@font-face" in a[1]
    plain = H.embed_font({1: H.page("title", "ascii only")})[1]
    assert "@font-face" not in plain  # nothing beyond ASCII: no font needed


def test_report_export_cli(course, tmp_path, run):
    p = run("report", "export", "--format", "moodle", "--out", str(tmp_path / "m.csv"),
             "--course", str(course))
    assert p.returncode == 0, p.stderr
    with open(tmp_path / "m.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["ID number", "First name", "Last name", "00-orientation", "13-logistics"]
    assert rows[1] == ["alice", "Li", "Wang", "4.5", "2.5"]
    p = run("report", "export", "--format", "canvas", "--out", str(tmp_path / "c.csv"),
             "--canvas-id", "13-logistics=4711", "--section", "A", "--course", str(course))
    assert p.returncode == 0, p.stderr
    header = (tmp_path / "c.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith("00-orientation,13-logistics (4711)")
    for args, name in ((["--parquet"], "s.parquet"), ([], "s.csv")):
        p = run("report", "export", "--format", "long", *args, "--out", str(tmp_path / name),
                 "--course", str(course))
        assert p.returncode == 0, p.stderr
    long = pd.read_parquet(tmp_path / "s.parquet")
    assert len(long) == 11 and list(long.columns) == list(S.SCORE_DTYPES)
    assert len(pd.read_csv(tmp_path / "s.csv")) == 11
    one_line_error(run("report", "export", "--format", "moodle", "--out", str(tmp_path / "x"),
                        "--id-from", "lms_user_id", "--course", str(course)), "csv")
    one_line_error(run("report", "export", "--format", "moodle", "--out",
                        str(tmp_path / "x.csv"), "--id-from", "lms_user_id", "--course",
                        str(course)), "lms_user_id")
    one_line_error(run("report", "export", "--format", "moodle", "--parquet", "--out",
                        str(tmp_path / "x.parquet"), "--course", str(course)), "--parquet")
    one_line_error(run("report", "export", "--format", "canvas", "--out",
                        str(tmp_path / "x.csv"), "--canvas-id", "nope", "--course",
                        str(course)), "ASSIGNMENT=ID")


def test_thresholds_option(course, tmp_path, run):
    p = run("report", "trainee", "alice", "--thresholds", "40,60", "--course", str(course),
             "--out", str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert str(tmp_path / "trainees" / "alice.html") in p.stdout
    row = next(r for r in _csv(tmp_path / "trainees" / "alice.csv") if r["stage"] == "5.14")
    assert row["level"] == "proficient"  # 60 % ≥ 0.6
    assert "熟练 proficient ≥ 60%" in _page(tmp_path / "trainees" / "alice.html")
    one_line_error(run("report", "trainee", "alice", "--thresholds", "0.9,0.5", "--course",
                        str(course), "--out", str(tmp_path)), "basic ≤ proficient")
    one_line_error(run("report", "trainee", "alice", "--thresholds", "x", "--course",
                        str(course), "--out", str(tmp_path)), "two numbers")


def test_one_line_errors(course, tmp_path, run):
    c = str(course)
    one_line_error(run("report", "trainee", "alice", "--course", str(tmp_path / "nope")),
                   "course folder", "does not exist")
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "nbgrader_config.py").write_text("c = get_config()  # noqa\n", encoding="utf-8")
    one_line_error(run("report", "cohort", "--course-wide", "--course", str(bare)),
                   "no gradebook", "cbec grade")
    assert not (bare / "gradebook.db").exists()  # never creates an empty gradebook
    one_line_error(run("report", "trainee", "zed", "--course", c), "'zed'", "not in the gradebook")
    one_line_error(run("report", "trainee", "carol", "--course", c), "carol",
                   "no graded submission")
    one_line_error(run("report", "cohort", "99-nothing", "--course", c), "99-nothing")
    one_line_error(run("report", "trainee", "alice", "--assignment", "99-nothing",
                        "--course", c), "99-nothing")
    one_line_error(run("report", "trainee", "--course", c), "--all")
    one_line_error(run("report", "cohort", "00-orientation", "--course-wide", "--course", c),
                   "--course-wide")
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    one_line_error(run("report", "trainee", "alice", "--course", c, "--out", str(blocker)),
                   "is a file")
    one_line_error(run("report", "cohort", "00-orientation", "--course", c, "--out",
                        str(blocker / "sub")), "cannot write")


def test_empty_gradebook_is_one_line(tmp_path, run):
    import os

    from nbgrader.api import Gradebook

    from graders.nbg import nbgrader_env

    course = tmp_path / "empty"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()  # noqa\nc.CourseDirectory.course_id = {COURSE_ID!r}\n",
        encoding="utf-8")
    old = os.environ["PATH"]
    os.environ["PATH"] = nbgrader_env()["PATH"]
    try:
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb, \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            gb.add_assignment("00-orientation")
            gb.add_student("alice")
    finally:
        os.environ["PATH"] = old
    one_line_error(run("report", "cohort", "--course-wide", "--course", str(course)),
                   "no graded submissions")
    one_line_error(run("report", "export", "--format", "long", "--out",
                        str(tmp_path / "x.csv"), "--course", str(course)),
                   "no graded submissions")


@pytest.mark.postgres
def test_loaders_and_reports_on_postgres(course, tmp_path, run):
    import uuid

    import psycopg

    base = require_postgres()
    name = f"cbec_rep_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = "postgresql+psycopg://" + f"{base.rsplit('/', 1)[0]}/{name}".split("://", 1)[1]
    try:
        make_gradebook(tmp_path, url)
        sqlite = f"sqlite:///{course / 'gradebook.db'}"
        for fn in (S.load_scores, S.load_submissions, S.load_students, S.load_assignments):
            pd.testing.assert_frame_equal(fn(url, COURSE_ID), fn(sqlite, COURSE_ID))
        p = run("report", "trainee", "alice", "--db", url, "--course", str(course),
                 "--out", str(tmp_path / "out"))
        assert p.returncode == 0, p.stderr
        page = _page(tmp_path / "out" / "trainees" / "alice.html")
        assert "foreign_currency" in page  # audit records from the PostgreSQL cbec_audit table
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_without_audit_records_the_pages_say_so(course):
    from graders.analytics import competency as C

    data = load_course(course)
    data.audit, data.audit_source = [], ""  # a gradebook filled by plain nbgrader autograde
    rep = C.trainee(data.scores, "alice", audit=None)
    page = T.render(data, rep, C.Mastery())
    assert "no audit records" in page and "no known mistake recognised" in page
    assert "foreign_currency" not in page
    assert "no audit records" in render_cohort(data, "course")


def test_large_cohorts_get_one_heat_map_image_per_block(course, monkeypatch):
    from graders.reports import cohort

    data = load_course(course)
    one = render_cohort(data, "course").count('src="data:image/png;base64,')
    monkeypatch.setattr(cohort, "HEATMAP_ROWS", 1)  # every trainee its own block
    page = render_cohort(data, "course")
    n = len(C.percent_matrix(data.scores))
    assert n >= 2
    assert page.count('src="data:image/png;base64,') == one - 1 + n
    assert "(mastery heat map) 1–1" in page and f"(mastery heat map) {n}–{n}" in page
