"""Exam blueprints (``course/exams/*.yaml``): what an exam covers and how it is passed.

A blueprint names the exam's duration, its competency units (ids of ``competency_units`` in
``course/curriculum.yaml``) with a weight, the number of items per unit and their difficulty
range, a cut score per unit and overall (percent), the late policy and grace minutes::

    id: default
    title_cn: 跨境电商运营实操考试
    duration_minutes: 120
    cut_score: 60                 # overall, percent of the weighted score
    forms: 3                      # parallel forms (omit: one form per candidate)
    dataset: {orders: 2000}       # size of each candidate's own world
    late: {policy: penalise, penalty_percent: 20, grace_minutes: 5}
    units:
      - {id: data_analysis, weight: 0.4, items: 4, difficulty: [1, 3], cut_score: 50}

:func:`load` checks the shape, :func:`validate` checks it against the item bank (enough
exam-ready items of the required difficulty per unit). Every problem is one line naming the
file and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LATE_POLICIES = ("reject", "penalise", "accept-with-flag")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Solutions that need the kit itself cannot be answered in a self-contained exam pack.
_KIT_IMPORT = re.compile(r"\b(cbec_sim|graders)\b")
# Statements that lean on another exercise of the notebook ("和练习 2 的方法一样", "上一题的规则")
# make no sense on a form that does not hold that exercise.
_CROSS_REF = re.compile(r"练习\s*\d|上一题|前一题|上题")


class ExamError(ValueError):
    """A user-facing exam problem: one line naming the file/field and what to do."""


@dataclass(frozen=True)
class UnitSpec:
    id: str
    weight: float
    items: int
    difficulty: tuple[int, int]
    cut_score: float


@dataclass(frozen=True)
class LatePolicy:
    policy: str  # reject | penalise | accept-with-flag
    penalty_percent: float = 0.0
    grace_minutes: float = 0.0


@dataclass(frozen=True)
class Blueprint:
    id: str
    title_cn: str
    duration_minutes: float
    cut_score: float
    units: tuple[UnitSpec, ...]
    late: LatePolicy
    forms: int | None  # None: one form per candidate
    orders: int
    path: Path

    def unit(self, uid: str) -> UnitSpec:
        return {u.id: u for u in self.units}[uid]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title_cn": self.title_cn,
                "duration_minutes": self.duration_minutes, "cut_score": self.cut_score,
                "forms": self.forms, "dataset": {"orders": self.orders},
                "late": {"policy": self.late.policy,
                         "penalty_percent": self.late.penalty_percent,
                         "grace_minutes": self.late.grace_minutes},
                "units": [{"id": u.id, "weight": u.weight, "items": u.items,
                           "difficulty": list(u.difficulty), "cut_score": u.cut_score}
                          for u in self.units]}


def _num(path: Path, where: str, v: Any, *, lo: float, hi: float | None = None,
         integer: bool = False) -> float:
    ok = isinstance(v, int | float) and not isinstance(v, bool)
    if ok and integer:
        ok = float(v).is_integer()
    if ok:
        ok = v >= lo and (hi is None or v <= hi)
    if not ok:
        rng = f"between {lo:g} and {hi:g}" if hi is not None else f"at least {lo:g}"
        kind = "a whole number" if integer else "a number"
        raise ExamError(f"{path}: {where} = {v!r}; give {kind} {rng}")
    return int(v) if integer else float(v)


def load(path: str | Path) -> Blueprint:
    """Read and shape-check a blueprint YAML file (not yet against the item bank)."""
    p = Path(path)
    if not p.is_file():
        raise ExamError(f"blueprint {p} does not exist; give a YAML file such as "
                        "course/exams/default.yaml")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ExamError(f"{p}: not UTF-8 text; save the blueprint as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ExamError(f"{p}{where}: not valid YAML; fix the file") from None
    if not isinstance(data, dict):
        raise ExamError(f"{p}: expected a mapping with id, duration_minutes, cut_score, units")
    known = {"id", "title_cn", "duration_minutes", "cut_score", "units", "late", "forms",
             "dataset", "description"}
    extra = sorted(set(map(str, data)) - known)
    if extra:
        raise ExamError(f"{p}: unknown field {extra[0]!r}; known fields: "
                        f"{', '.join(sorted(known))}")
    bid = data.get("id")
    if not isinstance(bid, str) or not ID_RE.match(bid):
        raise ExamError(f"{p}: id = {bid!r}; give a short lower-case id such as 'default'")
    duration = _num(p, "duration_minutes", data.get("duration_minutes"), lo=1, hi=24 * 60)
    cut = _num(p, "cut_score", data.get("cut_score"), lo=0, hi=100)
    forms = data.get("forms")
    if forms is not None:
        forms = int(_num(p, "forms", forms, lo=1, hi=100, integer=True))
    ds = data.get("dataset") or {}
    if not isinstance(ds, dict):
        raise ExamError(f"{p}: dataset must be a mapping such as {{orders: 2000}}")
    orders = int(_num(p, "dataset.orders", ds.get("orders", 2000), lo=100, hi=200_000,
                      integer=True))
    late = _late(p, data.get("late"))
    raw_units = data.get("units")
    if not isinstance(raw_units, list) or not raw_units:
        raise ExamError(f"{p}: units must be a non-empty list of competency units")
    units: list[UnitSpec] = []
    for i, u in enumerate(raw_units):
        where = f"units[{i}]"
        if not isinstance(u, dict) or not isinstance(u.get("id"), str):
            raise ExamError(f"{p}: {where} needs an 'id' (a competency unit of curriculum.yaml)")
        where = f"units[{i}] ({u['id']})"
        bad = sorted(set(map(str, u)) - {"id", "weight", "items", "difficulty", "cut_score"})
        if bad:
            raise ExamError(f"{p}: {where} has unknown field {bad[0]!r}; use weight, items, "
                            "difficulty, cut_score")
        if any(x.id == u["id"] for x in units):
            raise ExamError(f"{p}: {where} is listed twice; list each unit once")
        weight = _num(p, f"{where}.weight", u.get("weight"), lo=0)
        if weight <= 0:
            raise ExamError(f"{p}: {where}.weight = {weight:g}; weights must be positive")
        n = int(_num(p, f"{where}.items", u.get("items"), lo=1, hi=50, integer=True))
        diff = u.get("difficulty", [1, 3])
        if (not isinstance(diff, list) or len(diff) != 2
                or not all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 3
                           for d in diff) or diff[0] > diff[1]):
            raise ExamError(f"{p}: {where}.difficulty = {diff!r}; give [min, max] with "
                            "1 ≤ min ≤ max ≤ 3")
        ucut = _num(p, f"{where}.cut_score", u.get("cut_score", cut), lo=0, hi=100)
        units.append(UnitSpec(u["id"], weight, n, (diff[0], diff[1]), ucut))
    total = sum(u.weight for u in units)
    if abs(total - 1.0) > 1e-6:
        raise ExamError(f"{p}: unit weights sum to {total:g}; they must sum to 1 "
                        f"({', '.join(f'{u.id}={u.weight:g}' for u in units)})")
    return Blueprint(bid, str(data.get("title_cn") or bid), duration, cut, tuple(units), late,
                     forms, orders, p)


def _late(p: Path, raw: Any) -> LatePolicy:
    if raw is None:
        return LatePolicy("accept-with-flag")
    if not isinstance(raw, dict):
        raise ExamError(f"{p}: late must be a mapping with policy, penalty_percent, "
                        "grace_minutes")
    policy = raw.get("policy")
    if policy not in LATE_POLICIES:
        raise ExamError(f"{p}: late.policy = {policy!r}; use one of {', '.join(LATE_POLICIES)}")
    grace = _num(p, "late.grace_minutes", raw.get("grace_minutes", 0), lo=0, hi=24 * 60)
    pen = 0.0
    if policy == "penalise":
        pen = _num(p, "late.penalty_percent", raw.get("penalty_percent"), lo=0, hi=100)
    elif "penalty_percent" in raw:
        raise ExamError(f"{p}: late.penalty_percent only applies to policy 'penalise' "
                        f"(policy is {policy!r}); remove it")
    return LatePolicy(str(policy), pen, grace)


# -- item bank ---------------------------------------------------------------------------------
def exam_ready(ex: Any) -> bool:
    """Whether an exercise can be an exam item: answerable with pandas/numpy/matplotlib
    only (its solution and statement need neither ``cbec_sim`` nor ``graders``), its
    statement stands alone (no "as in exercise 2" / "the previous item's rule") and it is not
    about labels."""
    return (not _KIT_IMPORT.search(ex.solution) and not _KIT_IMPORT.search(ex.question)
            and not _CROSS_REF.search(ex.question) and "anomalies" not in ex.tables)


def bank(units: set[str] | None = None) -> list[Any]:
    """Exam-ready exercises of the course (optionally of ``units``), in definition order."""
    from graders.exercises import all_exercises

    return [e for e in all_exercises() if exam_ready(e) and (units is None or e.unit in units)]


def pool(spec: UnitSpec) -> list[Any]:
    """The exam-ready items of one unit within its difficulty range."""
    lo, hi = spec.difficulty
    return [e for e in bank({spec.id}) if lo <= e.difficulty <= hi]


def course_units(course: Path | None) -> dict[str, dict[str, Any]]:
    """Competency units of ``<course>/curriculum.yaml`` by id (title, stages)."""
    from graders.variants import VariantError, curriculum

    if course is None:
        course = Path(__file__).resolve().parents[2] / "course"
    try:
        data = curriculum(Path(course))
    except VariantError as exc:
        raise ExamError(str(exc)) from None
    if data is None:
        raise ExamError(f"no {Path(course) / 'curriculum.yaml'}; pass the course folder with "
                        "--course DIR")
    out = {}
    for u in data.get("competency_units") or []:
        if isinstance(u, dict) and u.get("id"):
            out[str(u["id"])] = {"title_cn": str(u.get("title_cn", u["id"])),
                                 "title_en": str(u.get("title_en", "")),
                                 "stages": [str(s) for s in u.get("stages") or []]}
    return out


def validate(bp: Blueprint, course: Path | None = None) -> dict[str, Any]:
    """Check ``bp`` against the curriculum and the item bank; one-line :class:`ExamError`
    on the first problem. Returns a summary per unit (pool sizes by difficulty)."""
    units = course_units(course)
    summary: dict[str, Any] = {}
    for i, u in enumerate(bp.units):
        if u.id not in units:
            raise ExamError(f"{bp.path}: units[{i}]: unknown competency unit {u.id!r} (known: "
                            f"{', '.join(units)})")
        items = pool(u)
        by_diff = {d: sum(1 for e in items if e.difficulty == d)
                   for d in range(u.difficulty[0], u.difficulty[1] + 1)}
        if len(items) < u.items:
            lo, hi = u.difficulty
            rng = f"{lo}" if lo == hi else f"{lo}–{hi}"
            have = ", ".join(f"difficulty {d}: {n}" for d, n in by_diff.items())
            stages = ", ".join(units[u.id]["stages"])
            raise ExamError(f"{bp.path}: unit {u.id} needs {u.items} exam-ready items of "
                            f"difficulty {rng} but the bank has {len(items)} ({have}; stages "
                            f"{stages}); lower items, widen difficulty or add exercises")
        summary[u.id] = {"pool": len(items), "by_difficulty": by_diff, "items": u.items,
                         "title_cn": units[u.id]["title_cn"]}
    from graders.exam.forms import assemble_form  # a trial form proves the draw is feasible

    assemble_form(bp, "validate", {})
    return summary
