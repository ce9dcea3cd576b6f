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

# Imported eagerly so that the name ``cbec_sim.generate`` is the function, not the submodule.
from cbec_sim.generate import generate
from cbec_sim.make import *  # noqa: F403  (make_orders, make_customers, … one per table)
from cbec_sim.make import __all__ as _makers
from cbec_sim.world import World, load

__all__ += _makers
