"""`cbec grade` results in nbgrader's gradebook and the audit trail: real courses
(generate_assignment), the real nbgrader database and formgrader-facing API, `nbgrader export`,
real `nbgrader autograde` for parity, SQLite and PostgreSQL (everything in tmp_path / a
throw-away PostgreSQL database)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import uuid
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
from _course import ASSIGNMENT, make_course, nbgrader, tree_bytes
from _services import require_postgres
from sqlalchemy import column, create_engine, inspect, select, text
from sqlalchemy import table as sa_table

from graders import release as rel
from graders.grading import audit as A
from graders.grading import gradebook as G
from graders.grading.results import ItemScore, NotebookGrade
from graders.nbg import gradebook_url, nbgrader_config, run_nbgrader

STUDENTS = ("s1", "s2", "s3")
STAMP = "2024-05-01 10:00:00.000000 UTC"


# -- a real course, released once per module -----------------------------------------------
@pytest.fixture(scope="module")
def base_course(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("gb-base")
    course = make_course(tmp, use_real=True)
    rel.generate_assignment(course, ASSIGNMENT)
    released = course / "release" / ASSIGNMENT
    for s in STUDENTS:
        d = course / "submitted" / s / ASSIGNMENT
        shutil.copytree(released, d)
        (d / "timestamp.txt").write_text(STAMP + "\n", encoding="utf-8")
    # s2 wrote an answer to the first notebook's manually graded question
    p = course / "submitted" / "s2" / ASSIGNMENT / "00.01-Welcome.ipynb"
    nb = nbformat.read(p, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "00-01-goals-judgement":
            cell.source = "我的目标：先看清楚自己的店铺数据。"
    nbformat.write(nb, p)
    return course


@pytest.fixture
def course(base_course, tmp_path) -> Path:
    dest = tmp_path / "course"
    shutil.copytree(base_course, dest)
    return dest


def master_cells(course: Path) -> dict[str, list[tuple[str, float, bool]]]:
    """``{notebook: [(grade_id, max points, manual)]}`` of the assignment in the gradebook."""
    from nbgrader.api import Gradebook

    url, cid = gradebook_url(course)
    out = {}
    with Gradebook(url, cid) as gb:
        for nb in gb.find_assignment(ASSIGNMENT).notebooks:
            sol = {c.name for c in nb.solution_cells}
            out[nb.name] = [(c.name, float(c.max_score), c.name in sol) for c in nb.grade_cells]
    return out


def make_grades(cells: dict[str, list[tuple[str, float, bool]]], students=STUDENTS,
                **fields) -> list[NotebookGrade]:
    """Valid NotebookGrades: student k passes every k-th item (all differ), manual = None."""
    out = []
    for k, s in enumerate(students):
        for name, items in sorted(cells.items()):
            scores = []
            for j, (gid, pts, manual) in enumerate(items):
                if manual:
                    scores.append(ItemScore(name, gid, "manual", pts, None, "manual"))
                    continue
                ok = (j + k) % 2 == 0
                scores.append(ItemScore(
                    name, gid, "cbec", pts, pts if ok else 0.0, "correct" if ok else "value",
                    "正确！" if ok else "数值不对：再检查一下计算。",
                    exercise=gid.replace("-", ".")))
            out.append(NotebookGrade(
                s, ASSIGNMENT, name, "ok", items=scores,
                submission_sha256=f"{k:064x}", dataset_hash="d" * 64,
                started="2024-05-02T08:00:00Z", finished="2024-05-02T08:00:01Z",
                seconds=1.0, worker="w1", versions={"graders": "0.1", "nbgrader": "0.9.6"},
                **fields))
    return out


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, sorted (the whole database, for before/after comparisons)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            out = {}
            for name in sorted(inspect(conn).get_table_names()):
                cols = [c["name"] for c in inspect(conn).get_columns(name)]
                t = sa_table(name, *(column(c) for c in cols))
                out[name] = sorted(tuple(map(repr, r)) for r in conn.execute(select(t)))
            return out
    finally:
        engine.dispose()


def grade_rows(url: str, cid: str = "cbec-store-operations") -> dict[tuple[str, str], dict]:
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(url, cid) as gb:
        for sub in gb.assignment_submissions(ASSIGNMENT):
            for nb in sub.notebooks:
                for g in nb.grades:
                    out[(sub.student.id, g.name)] = {
                        "auto_score": g.auto_score, "manual_score": g.manual_score,
                        "needs_manual_grade": g.needs_manual_grade, "score": g.score}
                for c in nb.comments:
                    out[(sub.student.id, "comment:" + c.name)] = {"auto": c.auto_comment}
                out[(sub.student.id, "late:" + nb.name)] = {"p": nb.late_submission_penalty}
            out[(sub.student.id, "timestamp")] = {"t": sub.timestamp}
    return out


def export_scores(course: Path, *extra: str) -> dict[str, float]:
    p = run_nbgrader(course, "export", "--to", "grades.csv", *extra)
    assert p.returncode == 0, p.stderr[-2000:]
    rows = list(csv.DictReader(io.StringIO((course / "grades.csv").read_text())))
    return {r["student_id"]: float(r["score"]) for r in rows if r["assignment"] == ASSIGNMENT}


def expected_totals(grades: list[NotebookGrade]) -> dict[str, float]:
    out: dict[str, float] = {}
    for g in grades:
        out[g.student] = out.get(g.student, 0.0) + g.score
    return out


# -- gradebook ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_grades_land_in_the_gradebook_as_autograde_leaves_them(course, base_course):
    from nbgrader import utils
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    cells = master_cells(course)
    grades = make_grades(cells)
    newcomer = NotebookGrade("new-trainee", ASSIGNMENT, "00.01-Welcome", "ok")
    G.write_grades(course, ASSIGNMENT, [*grades, newcomer])
    url, cid = gradebook_url(course)
    rows = grade_rows(url)
    for g in grades:
        for i in g.items:
            row = rows[(g.student, i.grade_id)]
            if i.kind == "manual":
                # s2 answered (manual grading); the others left it as released (0, no grading)
                answered = g.student == "s2" and i.grade_id == "00-01-goals-judgement"
                assert row["auto_score"] == (None if answered else 0.0)
                assert row["needs_manual_grade"] is answered
            else:
                assert row["auto_score"] == i.points
                assert row["needs_manual_grade"] is False
    # a notebook without items (a grading failure upstream) scores 0; the student was created
    assert rows[("new-trainee", "00-01-store_count")]["auto_score"] == 0.0
    assert rows[("s1", "comment:00-01-goals-judgement")]["auto"] == G.NO_RESPONSE
    assert rows[("s2", "comment:00-01-goals-judgement")]["auto"] is None
    assert rows[("s1", "comment:00-01-store_count-answer")]["auto"] == G.NO_RESPONSE

    with Gradebook(url, cid) as gb:
        sub = gb.find_submission(ASSIGNMENT, "s1")
        assert sub.timestamp == utils.parse_utc(STAMP)
        assert {s.id for s in gb.students} >= set(STUDENTS) | {"new-trainee"}
        want = expected_totals(grades)
        for s in STUDENTS:
            assert gb.find_submission(ASSIGNMENT, s).score == pytest.approx(want[s])

    # formgrader sees the submissions as autograded (autograded/ folder + same timestamp)
    cfg = nbgrader_config(course)
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg, root=str(course)), config=cfg)
    assert api.get_autograded_students(ASSIGNMENT) >= set(STUDENTS)
    sub = api.get_submission(ASSIGNMENT, "s1")
    assert sub["autograded"] is True and sub["score"] == pytest.approx(want["s1"])

    # nbgrader export shows the scores
    assert {k: v for k, v in export_scores(course).items() if k in STUDENTS} == \
        pytest.approx(want)

    # the autograded copy: repaired submission whose test cells nbgrader reads as our scores
    for g in grades:
        p = course / "autograded" / g.student / ASSIGNMENT / f"{g.notebook}.ipynb"
        nb = nbformat.read(p, as_version=4)
        got = {c.metadata.nbgrader["grade_id"]: utils.determine_grade(c)[0]
               for c in nb.cells if utils.is_grade(c) and not utils.is_solution(c)}
        assert got == {i.grade_id: i.points for i in g.items if i.kind != "manual"}
    assert (course / "autograded" / "s1" / ASSIGNMENT / "timestamp.txt").read_text().strip() \
        == STAMP
    # the submissions were only read
    assert tree_bytes(course / "submitted") == tree_bytes(base_course / "submitted")


@pytest.mark.slow
def test_regrading_is_idempotent(course):
    grades = make_grades(master_cells(course))
    url, _ = gradebook_url(course)
    G.write_grades(course, ASSIGNMENT, grades)
    A.write_audit(course, grades)
    first, files = dump(url), tree_bytes(course / "autograded")
    jsonl = (course / "audit" / f"{ASSIGNMENT}.jsonl").read_bytes()
    G.write_grades(course, ASSIGNMENT, grades)
    A.write_audit(course, grades)
    assert dump(url) == first
    assert tree_bytes(course / "autograded") == files
    assert (course / "audit" / f"{ASSIGNMENT}.jsonl").read_bytes() == jsonl
    assert len(first["grade"]) == len(STUDENTS) * sum(len(v) for v in master_cells(course)
                                                      .values())
    assert len(first["submitted_assignment"]) == len(STUDENTS)


@pytest.mark.slow
def test_regrade_keeps_instructors_manual_scores(course):
    from nbgrader.api import Gradebook

    cells = master_cells(course)
    grades = make_grades(cells)
    G.write_grades(course, ASSIGNMENT, grades)
    url, cid = gradebook_url(course)
    with Gradebook(url, cid) as gb:  # what formgrader does when the instructor grades
        g = gb.find_grade("00-01-goals-judgement", "00.01-Welcome", ASSIGNMENT, "s2")
        g.manual_score, g.needs_manual_grade = 1.5, False
        t = gb.find_grade("00-01-store_count", "00.01-Welcome", ASSIGNMENT, "s1")
        t.manual_score, t.extra_credit = 0.5, 0.25
        c = gb.find_comment("00-01-goals-judgement", "00.01-Welcome", ASSIGNMENT, "s2")
        c.manual_comment = "写得不错"
        gb.db.commit()
    # regrade with a changed result for s1's store_count
    regraded = [replace(g, items=[replace(i, points=0.0, status="value")
                                  if (g.student, i.grade_id) == ("s1", "00-01-store_count")
                                  else i for i in g.items]) for g in grades]
    G.write_grades(course, ASSIGNMENT, regraded)
    rows = grade_rows(url)
    assert rows[("s2", "00-01-goals-judgement")]["manual_score"] == 1.5
    assert rows[("s2", "00-01-goals-judgement")]["score"] == 1.5
    s1 = rows[("s1", "00-01-store_count")]
    assert (s1["auto_score"], s1["manual_score"], s1["score"]) == (0.0, 0.5, 0.75)
    assert s1["needs_manual_grade"] is True  # nbgrader: a manual score exists → review it
    with Gradebook(url, cid) as gb:
        c = gb.find_comment("00-01-goals-judgement", "00.01-Welcome", ASSIGNMENT, "s2")
        assert c.manual_comment == "写得不错"
        assert gb.find_grade("00-01-store_count", "00.01-Welcome", ASSIGNMENT,
                             "s1").extra_credit == 0.25


@pytest.mark.slow
def test_assignment_missing_from_the_database_is_recorded_like_generate_assignment(course):
    reference = dump(gradebook_url(course)[0])
    grades = make_grades(master_cells(course))
    (course / "gradebook.db").unlink()
    release_before = tree_bytes(course / "release")
    G.write_grades(course, ASSIGNMENT, grades)
    assert tree_bytes(course / "release") == release_before  # release/ was not rewritten
    got = dump(gradebook_url(course)[0])
    for t in ("notebook", "base_cell", "grade_cells", "solution_cells", "source_cell",
              "task_cells", "alembic_version"):
        assert _no_ids(got[t]) == _no_ids(reference[t]), t
    assert set(grade_rows(gradebook_url(course)[0])) >= {(s, "timestamp") for s in STUDENTS}


def _no_ids(rows: list[tuple]) -> list[tuple]:
    """Rows without uuid-like values (ids differ between two generate_assignment runs)."""
    def keep(v: str) -> bool:
        s = v.strip("'")
        return not (len(s) == 32 and all(ch in "0123456789abcdef" for ch in s))
    return sorted(tuple(v for v in r if keep(v)) for r in rows)


@pytest.mark.slow
def test_missing_and_unreadable_notebooks_score_zero(course):
    cells = master_cells(course)
    grades = make_grades(cells, students=("s1", "s3"))
    (course / "submitted" / "s3" / ASSIGNMENT / "00.02-Your-World.ipynb").write_text("{oops")
    (course / "submitted" / "s1" / ASSIGNMENT / "00.03-Pandas-Essentials.ipynb").unlink()
    G.write_grades(course, ASSIGNMENT, grades)  # first: full grades, copies written
    assert (course / "autograded/s1" / ASSIGNMENT / "00.03-Pandas-Essentials.ipynb").exists() \
        is False  # nothing to copy: the file is gone
    broken = [replace(g, status="invalid_notebook", diagnosis="not a notebook", items=[])
              if (g.student, g.notebook) == ("s3", "00.02-Your-World") else
              replace(g, status="missing", diagnosis="no notebook submitted", items=[])
              if (g.student, g.notebook) == ("s1", "00.03-Pandas-Essentials") else g
              for g in grades]
    G.write_grades(course, ASSIGNMENT, broken)
    rows = grade_rows(gradebook_url(course)[0])
    for s, nb in (("s3", "00.02-Your-World"), ("s1", "00.03-Pandas-Essentials")):
        for gid, _, _ in cells[nb]:
            assert rows[(s, gid)]["auto_score"] == 0.0
            assert rows[(s, gid)]["needs_manual_grade"] is False
    assert not (course / "autograded/s3" / ASSIGNMENT / "00.02-Your-World.ipynb").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("kernels")
def test_rows_match_real_nbgrader_autograde(course, tmp_path):
    """Same submissions: real `nbgrader autograde` in one copy of the course, write_grades with
    the scores autograde gives in another — every grade, comment, timestamp and late-penalty
    row is the same."""
    other = tmp_path / "other"
    shutil.copytree(course, other)
    students = ["s1", "s2"]
    shutil.rmtree(course / "submitted" / "s3")
    shutil.rmtree(other / "submitted" / "s3")
    p = nbgrader(course, "autograde", ASSIGNMENT, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    real = grade_rows(gradebook_url(course)[0])
    # the released notebooks are unanswered: every test fails, unchanged answers score 0
    grades = []
    for s in students:
        for nb, items in sorted(master_cells(other).items()):
            grades.append(NotebookGrade(s, ASSIGNMENT, nb, "ok", items=[
                ItemScore(nb, gid, "manual", pts, None, "manual") if manual else
                ItemScore(nb, gid, "cbec", pts, 0.0, "unanswered") for gid, pts, manual in items]))
    G.write_grades(other, ASSIGNMENT, grades)
    ours = grade_rows(gradebook_url(other)[0])
    assert ours == real
    assert ("s2", "00-01-goals-judgement") in real
    assert real[("s2", "00-01-goals-judgement")]["needs_manual_grade"] is True


# -- PostgreSQL --------------------------------------------------------------------------------
@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database (dropped afterwards)."""
    import psycopg

    base = require_postgres()
    name = f"cbec_gb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    root = base.rsplit("/", 1)[0]
    yield "postgresql+psycopg://" + f"{root}/{name}".split("://", 1)[1]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_gradebook_audit_and_idempotency(course, pg_url):
    from nbgrader.api import Gradebook

    grades = make_grades(master_cells(course))
    # an empty database: the assignment is recorded by nbgrader generate_assignment first
    G.write_grades(course, ASSIGNMENT, grades, db_url=pg_url)
    A.write_audit(course, grades, db_url=pg_url)
    first = dump(pg_url)
    G.write_grades(course, ASSIGNMENT, grades, db_url=pg_url)
    A.write_audit(course, grades, db_url=pg_url)
    assert dump(pg_url) == first
    with Gradebook(pg_url, "cbec-store-operations") as gb:
        want = expected_totals(grades)
        for s in STUDENTS:
            assert gb.find_submission(ASSIGNMENT, s).score == pytest.approx(want[s])
    assert len(A.read_table(pg_url, ASSIGNMENT)) == sum(len(g.items) for g in grades)
    scores = export_scores(course, f"--CourseDirectory.db_url={pg_url}")
    assert scores == pytest.approx(want)
    # the course's own SQLite gradebook was not used
    sqlite = gradebook_url(course)[0]
    assert A.TABLE not in dump(sqlite)


# -- audit -------------------------------------------------------------------------------------
def _audit_grades() -> list[NotebookGrade]:
    cells = {"00.01-Welcome": [("00-01-store_count", 1.0, False),
                               ("00-01-biggest_order", 1.0, False),
                               ("00-01-goals-judgement", 2.0, True)]}
    grades = make_grades(cells, students=("s1", "s2"), flags=["restored edited test cell "
                                                              "00-01-store_count / 已恢复"])
    grades.append(NotebookGrade("s3", ASSIGNMENT, "00.01-Welcome", "missing",
                                "no notebook submitted", dataset_hash="e" * 64))
    return grades


def check_audit(course: Path, url: str) -> None:
    grades = _audit_grades()
    path = A.write_audit(course, grades, db_url=url)
    assert path == course.resolve() / "audit" / f"{ASSIGNMENT}.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 7  # 2 students x 3 items + one notebook-level record
    rec = json.loads(lines[0])
    assert set(rec) == set(A.COLUMNS)
    assert "seed" not in " ".join(rec).lower()
    assert rec["dataset_hash"] == "d" * 64 and rec["versions"]["nbgrader"] == "0.9.6"
    assert rec["flags"] == ["restored edited test cell 00-01-store_count / 已恢复"]
    rows = A.read_table(url, ASSIGNMENT)
    assert len(rows) == 7
    missing = [r for r in rows if r["student"] == "s3"]
    assert missing[0]["outcome"] == "missing" and missing[0]["grade_id"] == ""
    manual = [r for r in rows if r["kind"] == "manual"]
    assert manual and all(r["points"] is None for r in manual)
    # the same again: nothing new
    A.write_audit(course, grades, db_url=url)
    assert path.read_text(encoding="utf-8").splitlines() == lines
    assert A.read_table(url, ASSIGNMENT) == rows
    # a regrade of the same submissions: rows updated, history appended
    later = [replace(g, started="2024-06-01T00:00:00Z", worker="w2") for g in grades]
    A.write_audit(course, later, db_url=url)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 14
    rows2 = A.read_table(url, ASSIGNMENT)
    assert len(rows2) == 7 and {r["worker"] for r in rows2} == {"w2"}
    # a new submission of s1: its own rows
    resub = [replace(g, submission_sha256="f" * 64) for g in later if g.student == "s1"]
    A.write_audit(course, resub, db_url=url)
    assert len(A.read_table(url, ASSIGNMENT)) == 10


def test_audit_sqlite_next_to_the_gradebook(tmp_path):
    from nbgrader.api import Gradebook

    course = make_course(tmp_path)
    url = gradebook_url(course)[0]
    check_audit(course, url)
    # the database is still a proper nbgrader gradebook (created by nbgrader first)
    tables = dump(url)
    assert tables["alembic_version"] and A.TABLE in tables
    with Gradebook(url, "cbec-store-operations") as gb:
        assert gb.assignments == []
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text(f"select count(*) from {A.TABLE}")).scalar() == 10
    engine.dispose()


@pytest.mark.postgres
def test_audit_postgres(tmp_path, pg_url):
    check_audit(make_course(tmp_path), pg_url)


def test_audit_takes_one_assignment(tmp_path):
    g = _audit_grades()
    with pytest.raises(ValueError, match="one assignment"):
        A.write_audit(tmp_path, [*g, replace(g[0], assignment="01-other")],
                      db_url=f"sqlite:///{tmp_path / 'x.db'}")
