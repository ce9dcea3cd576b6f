"""`cbec demo` (what `make demo` runs) works end to end and says where its outputs are."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_and_prints_paths(tmp_path):
    out = tmp_path / "demo"
    p = subprocess.run([sys.executable, "-m", "graders.cli", "demo", "--out", str(out),
                        "--orders", "1500"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert str(out / "dataset") in p.stdout
    assert (out / "dataset" / "manifest.json").is_file()
    assert (out / "dataset" / "DATA-DICTIONARY.md").is_file()
    assert (out / "dataset" / "labels" / "anomalies.parquet").is_file()
