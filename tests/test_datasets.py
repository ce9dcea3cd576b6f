"""The committed default dataset is current, complete, label-free and matches its dictionary."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import cbec_sim
from cbec_sim.schema import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "datasets" / "default"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((DEFAULT / "manifest.json").read_text(encoding="utf-8"))


def test_default_dataset_loads_and_verifies(manifest):
    w = cbec_sim.load(DEFAULT)  # checks every sha256
    assert set(w.tables) == {k for k, v in manifest["tables"].items() if not v["label"]}


def test_default_dataset_has_no_labels(manifest):
    assert not (DEFAULT / "labels").exists()
    assert not any(v["label"] for v in manifest["tables"].values())
    assert not [p for p in DEFAULT.rglob("*") if "anomal" in p.name]


def test_default_dataset_is_current(manifest):
    """Regenerating with the recorded options gives the same data (drift check)."""
    fresh = cbec_sim.generate(manifest["n_orders"], markets=manifest["markets"],
                              platforms=manifest["platforms"], start=manifest["start"],
                              months=manifest["months"], rng=manifest["seed"])
    stored = cbec_sim.load(DEFAULT)
    assert list(fresh.tables) == list(stored.tables), (
        "datasets/default is stale: run `cbec sim generate --seed "
        f"{manifest['seed']} --orders {manifest['n_orders']} --out datasets/default --force`")
    for name, df in fresh.tables.items():
        pd.testing.assert_frame_equal(stored.tables[name], df, obj=name)


def test_dictionary_documents_every_column(manifest):
    text = (DEFAULT / "DATA-DICTIONARY.md").read_text(encoding="utf-8")
    for name in manifest["tables"]:
        assert f"## `{name}`" in text
        for col in REGISTRY[name].column_names:
            assert f"| `{col}` |" in text, f"{name}.{col} missing from the dictionary"


def test_default_dataset_is_small():
    size = sum(p.stat().st_size for p in DEFAULT.rglob("*") if p.is_file())
    assert size < 8 * 2**20, f"datasets/default is {size / 2**20:.1f} MiB; keep it small"
