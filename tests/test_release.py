"""Per-trainee variants: seeds from the course secret, rosters, and `cbec course release` with the
real nbgrader (everything in tmp_path; nothing is written into the repository)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest
from _course import ASSIGNMENT, cbec, make_course, one_line_error, tree_bytes

import cbec_sim
from graders import release as rel
from graders import variants as V

SECRET = "ab" * 32
ORDERS = 800  # small worlds keep the release test quick


# -- seeds -------------------------------------------------------------------------------------
def test_seed_is_pinned_stable_and_63_bit():
    # pinned: changing the derivation would orphan every dataset already released
    assert V.derive_seed("0" * 64, "alice", "00-orientation") == 1241160215778700915
    s = V.derive_seed(SECRET, "alice", ASSIGNMENT)
    assert s == V.derive_seed(SECRET, "alice", ASSIGNMENT)
    assert 0 <= s < 2**63


def test_seed_differs_per_trainee_assignment_and_secret():
    ids = [f"t{i:03d}" for i in range(200)]
    seeds = {V.derive_seed(SECRET, t, ASSIGNMENT) for t in ids}
    assert len(seeds) == len(ids)
    assert V.derive_seed(SECRET, "alice", ASSIGNMENT) != V.derive_seed(SECRET, "alice",
                                                                       "13-logistics")
    assert V.derive_seed(SECRET, "alice", ASSIGNMENT) != V.derive_seed("cd" * 32, "alice",
                                                                       ASSIGNMENT)
    # no ambiguity between where the trainee id ends and the assignment starts
    assert V.derive_seed(SECRET, "a", "b-c") != V.derive_seed(SECRET, "a-b", "c")


def test_secret_from_env_file_and_created_0600(tmp_path, monkeypatch):
    monkeypatch.delenv(V.SECRET_ENV, raising=False)
    assert V.course_secret(tmp_path) is None
    secret, created = V.ensure_secret(tmp_path)
    assert created and len(secret) == 64
    f = tmp_path / V.SECRET_FILE
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert V.ensure_secret(tmp_path) == (secret, False)
    monkeypatch.setenv(V.SECRET_ENV, "from-env")
    assert V.course_secret(tmp_path) == "from-env"
    monkeypatch.setenv(V.SECRET_ENV, " ")
    with pytest.raises(V.VariantError, match=V.SECRET_ENV):
        V.course_secret(tmp_path)
    monkeypatch.delenv(V.SECRET_ENV)
    f.write_text("\n")
    with pytest.raises(V.VariantError, match="empty"):
        V.course_secret(tmp_path)


# -- rosters -----------------------------------------------------------------------------------
def test_roster_with_bom_names_and_student_id(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes("\ufeffStudent_ID,first_name,last_name,email\n"
                  "wang-li, 李,王,wl@example.com\n\n zhang.san ,,,\n".encode())
    got = V.read_roster(p)
    assert [t.id for t in got] == ["wang-li", "zhang.san"]
    assert got[0].gradebook_fields() == {"first_name": "李", "last_name": "王",
                                         "email": "wl@example.com"}
    assert got[1].gradebook_fields() == {}


@pytest.mark.parametrize("text, needles", [
    ("", ["empty"]),
    ("id\n", ["no trainees"]),
    ("name,email\nalice,a@x\n", ["line 1", "'id' column"]),
    ("id,first_name\nalice,A\n,B\n", ["line 3", "field 'id'", "blank"]),
    ("id\nalice\nbob\nalice\n", ["line 4", "duplicate", "line 2"]),
    ("id\nclass1/alice\n", ["line 2", "slash"]),
    ("id\nclass1\\alice\n", ["line 2", "backslash"]),
    ("id\nalice smith\n", ["line 2", "whitespace"]),
    ("id\n.hidden\n", ["line 2", "dot"]),
])
def test_roster_errors_are_one_line_with_file_and_line(tmp_path, text, needles):
    p = tmp_path / "roster.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(V.VariantError) as info:
        V.read_roster(p)
    msg = str(info.value)
    assert "\n" not in msg and str(p) in msg
    for n in needles:
        assert n in msg, msg


def test_roster_missing_and_not_utf8(tmp_path):
    with pytest.raises(V.VariantError, match="does not exist"):
        V.read_roster(tmp_path / "nope.csv")
    p = tmp_path / "gbk.csv"
    p.write_bytes("id\n王\n".encode("gbk"))
    with pytest.raises(V.VariantError, match="UTF-8"):
        V.read_roster(p)


def test_world_orders_from_curriculum(tmp_path):
    assert V.world_orders(tmp_path, ASSIGNMENT) == V.DEFAULT_ORDERS  # no curriculum
    (tmp_path / "curriculum.yaml").write_text(
        "modules:\n  - id: 00-orientation\n    dataset: {orders: 1200}\n  - id: 13-logistics\n"
        "  - id: 14-data-analysis\n    dataset: {orders: many}\n")
    assert V.world_orders(tmp_path, ASSIGNMENT) == 1200
    assert V.world_orders(tmp_path, "13-logistics") == V.DEFAULT_ORDERS
    with pytest.raises(V.VariantError, match=r"dataset\.orders"):
        V.world_orders(tmp_path, "14-data-analysis")


# -- CLI errors (before anything is written) ---------------------------------------------------
def test_release_cli_errors_are_one_line(tmp_path):
    course = make_course(tmp_path)
    before = tree_bytes(course)
    c = str(course)
    one_line_error(cbec("course", "release", "99-nope", "--course", c), "unknown assignment",
                   "99-nope")
    one_line_error(cbec("course", "release", "13-logistics", "--course", c),
                   "no source folder")
    one_line_error(cbec("course", "release", ASSIGNMENT, "--roster", str(tmp_path / "x.csv"),
                        "--course", c), "roster", "x.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("id\nalice\nali ce\n")
    one_line_error(cbec("course", "release", ASSIGNMENT, "--roster", str(bad), "--course", c),
                   "bad.csv", "line 3")
    good = tmp_path / "good.csv"
    good.write_text("id\nalice\n")
    one_line_error(cbec("course", "release", ASSIGNMENT, "--roster", str(good), "--out",
                        str(course / "source"), "--course", c), "source folder")
    foreign = tmp_path / "mine"
    (foreign / ASSIGNMENT).mkdir(parents=True)
    (foreign / ASSIGNMENT / "thesis.docx").write_text("precious")
    one_line_error(cbec("course", "release", ASSIGNMENT, "--roster", str(good), "--out",
                        str(foreign), "--course", c), "not written by cbec")
    assert (foreign / ASSIGNMENT / "thesis.docx").read_text() == "precious"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    one_line_error(cbec("course", "release", ASSIGNMENT, cwd=elsewhere), "nbgrader_config.py")
    assert tree_bytes(course) == before  # nothing written, not even the secret


# -- the real release --------------------------------------------------------------------------
def _grep(folder: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for p in folder.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            blobs = [data]
            if p.suffix == ".zip":
                with zipfile.ZipFile(p) as zf:
                    blobs += [zf.read(n) for n in zf.namelist()]
            hits += [f"{p}: {n!r}" for n in needles for b in blobs if n in b]
    return hits


@pytest.mark.slow
@pytest.mark.xdist_group("kernels")
def test_release_with_roster(tmp_path, monkeypatch):
    monkeypatch.delenv(V.SECRET_ENV, raising=False)
    course = make_course(tmp_path, orders=ORDERS)
    source_before = tree_bytes(course / "source")

    # self-study: nbgrader's release only, no secret, no trainee folders
    p = cbec("course", "release", ASSIGNMENT, "--course", str(course))
    assert p.returncode == 0, p.stderr
    assert "default dataset" in p.stdout
    assert any((course / "release" / ASSIGNMENT).glob("*.ipynb"))
    assert not (course / V.SECRET_FILE).exists()
    assert not (course / rel.DEFAULT_OUT).exists()

    roster = tmp_path / "roster.csv"
    roster.write_bytes("\ufeffid,first_name,last_name,email\nalice,Alice,Wang,a@example.com\n"
                       "bob,,,\ncarol-3,Carol,,\n".encode())
    p = cbec("course", "release", ASSIGNMENT, "--roster", str(roster), "--course", str(course))
    assert p.returncode == 0, p.stderr
    assert "created the course secret" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    secret_file = course / V.SECRET_FILE
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip()
    out = course / rel.DEFAULT_OUT / ASSIGNMENT
    ids = ["alice", "bob", "carol-3"]
    released = tree_bytes(course / "release" / ASSIGNMENT)

    # one folder per trainee = nbgrader's release + their own data/, plus a zip of it
    fps = {}
    for t in ids:
        mine = tree_bytes(out / t)
        for name, data in released.items():
            assert mine[name] == data
        man = json.loads(mine["data/manifest.json"])
        assert "seed" not in man and man["n_orders"] == ORDERS
        assert not any(k.startswith("data/labels") for k in mine)
        fps[t] = hashlib.sha256(mine["data/manifest.json"]).hexdigest()
        with zipfile.ZipFile(out / f"{t}.zip") as zf:
            assert {n: zf.read(n) for n in zf.namelist()} == {
                f"{ASSIGNMENT}/{k}": v for k, v in mine.items()}
    assert len(set(fps.values())) == 3  # different data for every trainee

    # the instructor-only record: fingerprints, not seeds
    rows = rel.read_variants(course, ASSIGNMENT)
    assert {t: r["fingerprint"] for t, r in rows.items()} == fps
    assert all(r["n_orders"] == str(ORDERS) for r in rows.values())

    # neither the secret nor any seed is in anything a trainee receives
    seeds = [V.derive_seed(secret, t, ASSIGNMENT) for t in ids]
    needles = [secret.encode()] + [str(s).encode() for s in seeds] + [
        format(s, "x").encode() for s in seeds]
    assert _grep(course / rel.DEFAULT_OUT, needles) == []
    assert _grep(course / "release", needles) == []
    assert _grep(course / "variants", needles) == []

    # the gradebook knows the trainees
    from nbgrader.api import Gradebook

    url, cid = rel.gradebook_url(course)
    with Gradebook(url, cid) as gb:
        alice = gb.find_student("alice")
        assert (alice.first_name, alice.last_name, alice.email) == ("Alice", "Wang",
                                                                    "a@example.com")
        assert {s.id for s in gb.students} >= set(ids)

    # grading re-derives exactly the released dataset
    w = rel.trainee_world(course, ASSIGNMENT, "bob")
    released_world = cbec_sim.load(out / "bob" / "data")
    assert list(w.tables) == list(released_world.tables)
    for name, df in released_world.tables.items():
        assert w.tables[name].equals(df), name
    with pytest.raises(V.VariantError, match="no dataset recorded"):
        rel.trainee_world(course, ASSIGNMENT, "mallory")
    monkeypatch.setenv(V.SECRET_ENV, "a-different-secret")
    with pytest.raises(V.VariantError, match="fingerprint differs"):
        rel.trainee_world(course, ASSIGNMENT, "bob")
    monkeypatch.delenv(V.SECRET_ENV)

    # releasing again is reproducible and the source folder was never touched
    zips = {t: (out / f"{t}.zip").read_bytes() for t in ids}
    p = cbec("course", "release", ASSIGNMENT, "--roster", str(roster), "--course", str(course),
             "--out", str(course / rel.DEFAULT_OUT))
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""  # the secret exists now
    assert {t: (out / f"{t}.zip").read_bytes() for t in ids} == zips
    assert tree_bytes(course / "source") == source_before
    assert not [p for p in course.rglob("*.partial")]
    assert os.listdir(course / "variants") == [f"{ASSIGNMENT}.csv"]


def test_verified_dataset_rejects_edited_or_foreign_copies(tmp_path, small_world):
    from graders.release import fingerprint, verified_dataset

    small_world.to_parquet(tmp_path / "d", include_seed=False)
    fp = fingerprint(tmp_path / "d")
    assert verified_dataset(tmp_path / "d", fp) == tmp_path / "d"
    assert verified_dataset(tmp_path / "d", "0" * 64) is None
    assert verified_dataset(tmp_path / "nowhere", fp) is None
    assert verified_dataset(None, fp) is None
    f = tmp_path / "d" / "orders.parquet"
    f.write_bytes(f.read_bytes()[:-10] + b"0123456789")  # same manifest, edited table
    assert verified_dataset(tmp_path / "d", fp) is None
