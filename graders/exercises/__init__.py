"""The course's exercises, one Python module per course module (``m00_orientation`` …).

Each module defines ``MODULE`` (the course module id, e.g. ``"00-orientation"``) and
``EXERCISES`` (a tuple of :class:`graders.exercise.Exercise`). Add a new module's name to
:data:`MODULES` to register it.
"""

from __future__ import annotations

import importlib
from functools import cache

from graders.exercise import Exercise

MODULES: tuple[str, ...] = ("m00_orientation", "m01_market_platform", "m03_store_onboarding",
                              "m06_product_listing",
                              "m08_visual_store",
                              "m10_platform_marketing", "m11_live_offsite_marketing",
                              "m13_logistics", "m14_data_analysis",
                              "m15_b2b_deals", "m17_fulfilment_settlement", "m18_after_sales",
                              "m20_import_compliance", "m21_agency_operation")


@cache
def _load() -> dict[str, tuple[str, Exercise]]:
    out: dict[str, tuple[str, Exercise]] = {}
    for name in MODULES:
        mod = importlib.import_module(f"{__name__}.{name}")
        for ex in mod.EXERCISES:
            if ex.id in out:
                raise ValueError(f"exercise id {ex.id} is defined twice "
                                 f"({out[ex.id][0]} and {mod.MODULE})")
            out[ex.id] = (mod.MODULE, ex)
    return out


def all_exercises() -> list[Exercise]:
    """Every registered exercise, in definition order."""
    return [ex for _, ex in _load().values()]


def module_of(exercise_id: str) -> str:
    """The course module (assignment) an exercise belongs to."""
    return _load()[exercise_id][0]


def modules() -> list[str]:
    """Course modules that have exercises, in registration order."""
    return list(dict.fromkeys(m for m, _ in _load().values()))


def get(exercise_id: str) -> Exercise:
    try:
        return _load()[exercise_id][1]
    except KeyError:
        raise KeyError(f"no exercise {exercise_id!r}; known ids start with "
                       f"{', '.join(sorted({i[:5] for i in _load()}))}") from None


def for_module(module: str) -> list[Exercise]:
    return [ex for m, ex in _load().values() if m == module]


def for_notebook(prefix: str) -> list[Exercise]:
    """Exercises of notebook ``NN.MM`` (the first five characters of their ids)."""
    return [ex for _, ex in _load().values() if ex.notebook == prefix]
