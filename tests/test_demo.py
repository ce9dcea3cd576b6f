"""`cbec demo` (what `make demo` runs) works end to end and says where its outputs are."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _demo(out, *extra):
    return subprocess.run([sys.executable, "-m", "graders.cli", "demo", "--out", str(out),
                           "--orders", "1500", *extra], capture_output=True, text=True,
                          timeout=900)


def test_demo_world_only(tmp_path):
    out = tmp_path / "demo"
    p = _demo(out, "--trainees", "0")
    assert p.returncode == 0, p.stderr
    assert str(out / "dataset") in p.stdout
    assert (out / "dataset" / "manifest.json").is_file()
    assert (out / "dataset" / "DATA-DICTIONARY.md").is_file()
    assert (out / "dataset" / "labels" / "anomalies.parquet").is_file()


@pytest.mark.slow
@pytest.mark.xdist_group("kernels")
def test_demo_course_path_agrees_with_simulated_truth(tmp_path):
    out = tmp_path / "demo"
    p = _demo(out, "--trainees", "2")
    assert p.returncode == 0, p.stderr
    assert "scores match the simulated answers exactly" in p.stdout
    assert (out / "course" / "gradebook.db").is_file()
    for student in ("sim-001", "sim-002"):
        assert (out / "release" / "00-orientation" / student / "data" / "manifest.json").is_file()
        assert f"{student}:" in p.stdout
    dash = out / "reports" / "cohort-00-orientation.html"
    assert f"cohort dashboard: {dash}" in p.stdout and dash.is_file()
    for student in ("sim-001", "sim-002"):
        page = out / "reports" / "trainees" / f"{student}.html"
        assert f"trainee report:   {page}" in p.stdout and page.is_file()
    assert p.stdout.rstrip().splitlines()[-1].startswith("  trainee report:")
