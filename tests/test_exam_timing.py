"""``cbec exam open`` / ``collect``: the server clock decides, the inbox is never modified."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from _exam import build_small, fill
from click.testing import CliRunner

from graders.cli import cli, main
from graders.exam.blueprint import ExamError
from graders.exam.forms import parse_iso, read_manifest
from graders.exam.timing import collect, open_exam

IDS = ["t1", "t2", "t3", "t4"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exam-timing")
    exam, _course, _m = build_small(folder, IDS, forms=1)
    return folder, exam


def snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    out = {}
    for p in sorted(folder.rglob("*")):
        st = os.lstat(p)
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        out[str(p.relative_to(folder))] = (digest, st.st_mtime_ns, st.st_mode)
    return out


def test_open_collect_late_missing_and_inbox_untouched(built, tmp_path):
    _folder, exam = built
    with pytest.raises(ExamError, match="has not been opened"):
        collect(exam, tmp_path)
    w = open_exam(exam)
    start = parse_iso(w["opened_at"])
    assert parse_iso(w["deadline"]) - start == timedelta(minutes=60)
    assert parse_iso(w["grace_until"]) - start == timedelta(minutes=65)
    with pytest.raises(ExamError, match="already opened"):
        open_exam(exam)

    inbox = tmp_path / "inbox"
    fill(exam, "t1", inbox / "t1" / "exam.ipynb", {})
    fill(exam, "t2", inbox / "t2.ipynb", {})
    (inbox / "stranger.ipynb").write_text("{}", encoding="utf-8")
    # the candidate's clock and metadata claim an early hand-in: ignored
    nb = json.loads((inbox / "t2.ipynb").read_text(encoding="utf-8"))
    nb["metadata"]["submitted_at"] = "2000-01-01T00:00:00Z"
    (inbox / "t2.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    os.utime(inbox / "t2.ipynb", (0, 0))
    before = snapshot(inbox)

    r1 = collect(exam, inbox, now=start + timedelta(minutes=30))
    assert r1["status"] == {"t1": "on_time", "t2": "on_time", "t3": "pending", "t4": "pending"}
    assert r1["unknown"] == ["stranger.ipynb"]
    m = read_manifest(exam)
    rec = m["receipts"]["t1"]
    assert rec["received_at"] == (start + timedelta(minutes=30)).isoformat().replace(
        "+00:00", "Z")
    assert rec["sha256"] == hashlib.sha256((inbox / "t1" / "exam.ipynb").read_bytes()
                                           ).hexdigest()
    assert (exam / rec["file"]).read_bytes() == (inbox / "t1" / "exam.ipynb").read_bytes()

    # t3 arrives after deadline + grace; t1 hands in again (late) — the last one counts
    fill(exam, "t3", inbox / "t3" / "exam.ipynb", {})
    fill(exam, "t1", inbox / "t1" / "exam.ipynb", {"q01": "answer = 1\n"})
    after_t1 = snapshot(inbox)
    late = start + timedelta(minutes=66)
    r2 = collect(exam, inbox, now=late)
    assert r2["status"] == {"t1": "late", "t2": "on_time", "t3": "late", "t4": "missing"}
    m = read_manifest(exam)
    assert len(m["receipts"]["t1"]["history"]) == 1
    # same content collected again keeps its first receipt time
    r3 = collect(exam, inbox, now=late + timedelta(hours=3))
    assert r3["status"] == r2["status"]
    assert read_manifest(exam)["receipts"]["t3"]["received_at"] == \
        late.isoformat().replace("+00:00", "Z")
    # the inbox was only read
    assert snapshot(inbox) == after_t1
    assert {k: v for k, v in before.items() if not k.startswith("t1")} == \
        {k: v for k, v in after_t1.items() if k in before and not k.startswith("t1")
         and not k.startswith("t3")}
    assert len(read_manifest(exam)["collections"]) == 3


def test_cli_errors_are_one_line(tmp_path, capfd):
    assert main(["exam", "open", str(tmp_path / "nope")]) == 2
    err = capfd.readouterr().err.strip()
    assert "does not exist" in err and "\n" not in err
    (tmp_path / "plain").mkdir()
    assert main(["exam", "grade", str(tmp_path / "plain")]) == 2
    assert "not an exam folder" in capfd.readouterr().err
    assert main(["exam", "build", str(tmp_path / "bp.yaml"), "--candidates", "x.csv",
                 "--out", str(tmp_path / "o")]) == 2
    assert "blueprint" in capfd.readouterr().err


def test_cli_open_and_collect(tmp_path):
    from _exam import build_small as b

    _exam_dir = tmp_path / "e"
    exam, _course, _m = b(_exam_dir, ["u1"], forms=1)
    r = CliRunner().invoke(cli, ["exam", "open", str(exam)])
    assert r.exit_code == 0 and "deadline" in r.output
    inbox = tmp_path / "in"
    inbox.mkdir()
    r = CliRunner().invoke(cli, ["exam", "collect", str(exam), "--from", str(inbox)])
    assert r.exit_code == 0, r.output
    assert "pending 1" in r.output
    r = CliRunner().invoke(cli, ["exam", "collect", str(exam), "--from", str(tmp_path / "no")])
    assert r.exit_code == 2 and "inbox" in r.output
