"""Shared fixtures: small simulated worlds (cheap to build, so each xdist worker makes its own)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def small_world():
    import cbec_sim

    return cbec_sim.generate(3000, rng=7)


@pytest.fixture(scope="session")
def small_world_b():
    import cbec_sim

    return cbec_sim.generate(3000, markets=["US", "DE", "ID", "BR", "AE"], rng=2024)
