"""``cbec exam build``: forms, per-candidate datasets, self-contained packs with nothing to leak.

One small exam (3 candidates, 2 forms, 400-order worlds, a private course with its own
secret) is built once for the module; every test reads it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from _exam import SECRET, build_small, candidates_csv, private_course, small_blueprint

from graders import exercises
from graders.exam import pack
from graders.exam.blueprint import ExamError
from graders.exam.forms import MANIFEST, build, dataset_key
from graders.exam.grade import candidate_world
from graders.variants import derive_seed

IDS = ["alice", "bob", "chen"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exam-pack")
    exam, course, m = build_small(folder, IDS)
    return exam, course, m


def test_layout_and_manifest(built):
    exam, _course, m = built
    assert sorted(p.name for p in (exam / "packs").iterdir()) == sorted(
        [*IDS, *(f"{i}.zip" for i in IDS)])
    assert (exam / MANIFEST).is_file()
    assert set(m["candidates"]) == set(IDS)
    assert {c["form"] for c in m["candidates"].values()} == {"A", "B"}
    for cid, rec in m["candidates"].items():
        assert len(rec["items"]) == 5 and rec["fingerprint"] and rec["tables"]
        assert [it["q"] for it in rec["items"]] == [f"q{i:02d}" for i in range(1, 6)]
        assert (exam / "server" / "notebooks" / f"{cid}.ipynb").is_file()
    # different datasets per candidate
    assert len({rec["fingerprint"] for rec in m["candidates"].values()}) == 3
    # forms: same difficulty and points, different items
    forms = {f["form"]: f["items"] for f in m["forms"]}
    assert set(forms["A"]) != set(forms["B"])
    for key in ("difficulty", "points"):
        sums = {sum(it[key] for it in rec["items"]) for rec in m["candidates"].values()}
        assert len(sums) == 1


def test_pack_holds_only_the_notebook_and_data(built):
    exam, _course, m = built
    for cid in IDS:
        folder = exam / "packs" / cid
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        tables = m["candidates"][cid]["tables"]
        assert files == sorted(["exam.ipynb", "data/schema.json",
                                *(f"data/{t}.csv" for t in tables)])
        with zipfile.ZipFile(exam / "packs" / f"{cid}.zip") as zf:
            names = sorted(n.split("/", 1)[1] for n in zf.namelist())
        assert names == files


def _leak_needles(exam: Path, course: Path, m: dict, cid: str) -> dict[str, list[bytes]]:
    """What must never be in candidate cid's pack, by reason."""
    rec = m["candidates"][cid]
    key = dataset_key(m)
    needles: dict[str, list[bytes]] = {
        "secret": [SECRET.encode()],
        "seed": [str(derive_seed(SECRET, c, key)).encode() for c in IDS],
        "labels": [b"anomalies"],
        "kit": [b"cbec_sim", b"import graders", b"from graders", b".check(", b".hint(",
                b".solution("],
    }
    world = candidate_world(m, cid, SECRET, exam.parent / f"rederive-{cid}")
    for it in rec["items"]:
        ex = exercises.get(it["exercise"])
        needles.setdefault("reference", []).append(ex.reference.__name__.encode())
        needles["reference"].append(ex.id.encode())
        for code in [ex.solution, *(mk.code for mk in ex.mistakes)]:
            for line in code.splitlines():
                line = line.strip()
                if len(line) >= 25 and not line.startswith("#") and line not in ex.question \
                        and "= ..." not in line:
                    needles.setdefault("solution", []).append(line.encode())
        for h in ex.hints:
            if len(h) >= 12:
                needles.setdefault("hints", []).append(h[:40].encode())
        exp = ex.expected(world)
        if isinstance(exp, float) and not float(exp).is_integer():
            needles.setdefault("expected", []).append(repr(exp).encode())
        elif isinstance(exp, pd.Series) and exp.dtype.kind == "f":
            needles.setdefault("expected", []).extend(
                repr(float(v)).encode() for v in exp if not float(v).is_integer()
                and len(repr(float(v))) >= 8)
    return needles


def test_packs_leak_nothing(built):
    exam, course, m = built
    for cid in IDS:
        with zipfile.ZipFile(exam / "packs" / f"{cid}.zip") as zf:
            blobs = {n: zf.read(n) for n in zf.namelist()}
        needles = _leak_needles(exam, course, m, cid)
        assert needles["solution"] and needles["reference"]
        for why, ns in needles.items():
            for n in ns:
                if why == "expected":  # numbers: only where they could be read off
                    hits = [name for name, b in blobs.items() if n in b]
                else:
                    hits = [name for name, b in blobs.items() if n in b]
                assert not hits, f"{cid}: {why} {n[:60]!r} found in {hits}"
        nb = json.loads(blobs[f"exam-{cid}/exam.ipynb"])
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
        schema = json.loads(blobs[f"exam-{cid}/data/schema.json"])
        assert "seed" not in schema["meta"]


def test_manifest_and_server_files_hold_no_seed(built):
    exam, _course, m = built
    seeds = [str(derive_seed(SECRET, c, dataset_key(m))) for c in IDS]
    for p in (exam / "server").rglob("*"):
        if p.is_file():
            b = p.read_bytes()
            assert SECRET.encode() not in b
            assert not any(s.encode() in b for s in seeds), p


def test_pack_data_round_trips_and_matches_the_regraded_world(built, tmp_path):
    exam, _course, m = built
    cid = IDS[0]
    world = candidate_world(m, cid, SECRET, tmp_path / "w")
    tables, meta = pack.load_data(exam / "packs" / cid / "data")
    assert set(tables) == set(m["candidates"][cid]["tables"])
    for name, df in tables.items():
        pd.testing.assert_frame_equal(df, world.tables[name], check_exact=True)
    assert meta["start"] == world.meta["start"] and meta["months"] == world.meta["months"]
    # every item's solution on the pack data is right on the grader's world
    ns_world = type("W", (), {"meta": meta, "tables": tables, **tables})()
    for it in m["candidates"][cid]["items"]:
        ex = exercises.get(it["exercise"])
        assert ex.evaluate(ex.run(ex.solution, ns_world), world).correct, ex.id


def test_setup_cell_runs_with_the_kit_unimportable(built):
    """The pack's setup cell in a fresh interpreter where graders/cbec_sim cannot be imported."""
    exam, _course, _m = built
    folder = exam / "packs" / IDS[1]
    nb = json.loads((folder / "exam.ipynb").read_text(encoding="utf-8"))
    setup = next(c for c in nb["cells"] if c["metadata"].get("cbec", {}).get("role") == "setup")
    code = ("import sys\nsys.modules['graders'] = None\nsys.modules['cbec_sim'] = None\n"
            + "".join(setup["source"])
            + "\nassert 'cbec_sim' not in sys.modules or sys.modules['cbec_sim'] is None\n"
            "print('OK', len(tables), world.meta['months'])\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "OK" in p.stdout
    assert not re.search(r"\b(graders|cbec_sim)\b", "".join(setup["source"]))


def test_build_refuses_a_used_folder_and_bad_candidates(built, tmp_path):
    exam, course, _m = built
    bp = small_blueprint(tmp_path)
    with pytest.raises(ExamError, match="not an empty folder"):
        build(bp, candidates_csv(tmp_path, ["x"]), exam, course=course)
    bad = tmp_path / "bad.csv"
    bad.write_text("id\nok\nok\n", encoding="utf-8")
    with pytest.raises(ExamError, match=r"candidates file .*duplicate candidate id 'ok'"):
        build(bp, bad, tmp_path / "new", course=course)


@pytest.mark.slow
def test_build_is_reproducible(tmp_path):
    """Same secret, blueprint, candidates and session → same forms and fingerprints."""
    a, _c, ma = build_small(tmp_path / "a", ["p1", "p2"])
    b, _c, mb = build_small(tmp_path / "b", ["p1", "p2"])
    for cid in ("p1", "p2"):
        assert ma["candidates"][cid]["fingerprint"] == mb["candidates"][cid]["fingerprint"]
        assert ma["candidates"][cid]["items"] == mb["candidates"][cid]["items"]
        zips = [(x / "packs" / f"{cid}.zip").read_bytes() for x in (a, b)]
        assert zips[0] == zips[1]
    # another secret gives other datasets
    course = private_course(tmp_path / "c")
    (course / ".cbec-secret").write_text("another-secret\n", encoding="utf-8")
    mc = build(small_blueprint(tmp_path / "c"), candidates_csv(tmp_path / "c", ["p1"]),
               tmp_path / "c" / "exam", course=course, session="t1")
    assert mc["candidates"]["p1"]["fingerprint"] != ma["candidates"]["p1"]["fingerprint"]
