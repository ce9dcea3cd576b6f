"""The ``cbec`` command: help everywhere, one-line errors with exit 2, real dataset writing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CBEC = [sys.executable, "-m", "graders.cli"]
GROUPS = ["sim", "course", "cohort", "grade", "report", "exam", "demo"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "100"}
    env.pop("CBEC_DEBUG", None)
    return subprocess.run([*CBEC, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300)


def assert_one_line_error(p: subprocess.CompletedProcess, needle: str) -> None:
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    assert needle.lower() in lines[0].lower(), lines[0]


def test_help_and_version():
    p = run("--help")
    assert p.returncode == 0
    for g in GROUPS:
        assert g in p.stdout
    v = run("--version")
    assert v.returncode == 0 and v.stdout.startswith("cbec ")


@pytest.mark.parametrize("group", GROUPS)
def test_every_group_has_help(group):
    p = run(group, "--help")
    assert p.returncode == 0, p.stderr
    assert "Usage:" in p.stdout


def test_every_subcommand_has_help():
    from graders.cli import cli

    for name, cmd in cli.commands.items():
        for sub in getattr(cmd, "commands", {}):
            p = run(name, sub, "--help")
            assert p.returncode == 0, (name, sub, p.stderr)


def test_grade_missing_dir_is_one_line_exit_2():
    assert_one_line_error(run("grade", "/no/such/dir"), "/no/such/dir")


def test_grade_outside_a_course(tmp_path):
    assert_one_line_error(run("grade", "00-orientation", cwd=tmp_path), "nbgrader_config.py")


@pytest.mark.parametrize("args, needle", [
    (["sim", "generate", "--seed", "1", "--orders", "0", "--out", "X"], "--orders"),
    (["sim", "generate", "--seed", "1", "--markets", "US,ZZ", "--out", "X"], "ZZ"),
    (["sim", "generate", "--seed", "-1", "--out", "X"], "--seed"),
    (["sim", "generate", "--seed", "1", "--months", "-2", "--out", "X"], "months"),
    (["sim", "generate", "--out", "X"], "--seed"),
    (["sim", "describe", "/no/such/dataset"], "does not exist"),
    (["nosuchcommand"], "nosuchcommand"),
])
def test_bad_arguments(tmp_path, args, needle):
    args = [str(tmp_path / a) if a == "X" else a for a in args]
    assert_one_line_error(run(*args), needle)


def test_generate_describe_validate_and_refuse_overwrite(tmp_path):
    out = tmp_path / "ds"
    p = run("sim", "generate", "--seed", "5", "--orders", "800", "--out", str(out),
            "--markets", "US,JP", "--format", "csv")
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""  # no progress bar when stderr is not a terminal
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 5 and man["format"] == "csv"
    assert (out / "DATA-DICTIONARY.md").read_text().count("## `") == len(man["tables"])
    assert not (out / "labels").exists()
    d = run("sim", "describe", str(out))
    assert d.returncode == 0 and "orders" in d.stdout
    v = run("sim", "validate", str(out))
    assert v.returncode == 0, v.stderr
    before = (out / "orders.csv").read_bytes()
    again = run("sim", "generate", "--seed", "6", "--orders", "800", "--out", str(out))
    assert_one_line_error(again, "--force")
    assert (out / "orders.csv").read_bytes() == before  # nothing was touched
    forced = run("sim", "generate", "--seed", "6", "--orders", "800", "--out", str(out),
                 "--force", "--with-labels")
    assert forced.returncode == 0, forced.stderr
    assert (out / "labels" / "anomalies.parquet").is_file()
    assert not (out / "orders.csv").exists()  # replaced by the parquet dataset


def test_generate_refuses_foreign_folder(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious")
    p = run("sim", "generate", "--seed", "1", "--out", str(mine), "--force")
    assert_one_line_error(p, "not a dataset folder")
    assert (mine / "thesis.docx").read_text() == "precious"


def test_validate_reports_tampered_dataset(tmp_path):
    out = tmp_path / "ds"
    made = run("sim", "generate", "--seed", "2", "--orders", "500", "--out", str(out))
    assert made.returncode == 0
    (out / "orders.parquet").write_bytes(b"garbage")
    assert_one_line_error(run("sim", "validate", str(out)), "sha256")


def test_dictionary_lists_every_table():
    p = run("sim", "dictionary")
    assert p.returncode == 0
    for t in ("orders", "order_lines", "customers", "listings", "stores", "platforms"):
        assert f"## `{t}`" in p.stdout
