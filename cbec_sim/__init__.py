"""cbec_sim — a seeded simulator of a cross-border e-commerce world.

Public API::

    world = cbec_sim.generate(5_000, markets=["US", "DE"], rng=42)
    world.orders.head()
    world.to_parquet("datasets/mine")
    world = cbec_sim.load("datasets/mine")

``cbec_sim`` knows nothing about grading; domain formulas live in :mod:`cbec_sim.rules`.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["World", "__version__", "generate", "load"]


def __getattr__(name: str):  # lazy: keep `import cbec_sim` cheap for the CLI
    if name in ("generate",):
        from cbec_sim.generate import generate

        return generate
    if name in ("World", "load"):
        from cbec_sim import world

        return getattr(world, name)
    raise AttributeError(f"module 'cbec_sim' has no attribute {name!r}")
