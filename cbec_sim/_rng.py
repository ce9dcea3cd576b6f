"""Random-generator conventions (SPEC 7): accept ``Generator | int | None``, spawn per table."""

from __future__ import annotations

import numpy as np

RngLike = np.random.Generator | int | np.integer | None


def as_generator(rng: RngLike) -> np.random.Generator:
    """Turn ``rng`` into a :class:`numpy.random.Generator` (SPEC 7 semantics)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, int | np.integer):
        if rng is not None and int(rng) < 0:
            raise ValueError(f"seed must be a non-negative integer, got {rng}")
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy Generator, an int seed or None, not {type(rng).__name__}")


def spawn(rng: np.random.Generator, names: list[str]) -> dict[str, np.random.Generator]:
    """One independent child generator per table name, in a fixed order."""
    return dict(zip(names, rng.spawn(len(names)), strict=True))
