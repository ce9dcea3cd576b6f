"""Competency profiles: what each trainee has mastered, by stage of the standard (5.1–5.18), by
Table 1 task and by competency unit, and what to revisit.

Only cbec exercises count (graded cells with an ``exercise``; a hand-marked cell has no stage
tag). An item tagged with several Table 1 tasks counts in full for each of them, so task totals
may add up to more than the assignment. Units are the exercise's own ``unit`` tag (checked
against ``course/curriculum.yaml`` by ``cbec course check``).

``percent = 100 · points / max_points``. Mastery per stage, only where the stage has items
(:class:`Mastery`, configurable): ``not_yet`` below ``basic`` (default 0.5 of the points),
``basic`` from 0.5 up to ``proficient`` (0.8), ``proficient`` from 0.8. Stages without items
have no level (``<NA>``), never "not yet".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from graders import exercises
from graders.analytics.items import latest_audit
from graders.curriculum import standard

LEVELS = ("not_yet", "basic", "proficient")
LEVEL_CN = {"not_yet": "尚未掌握", "basic": "基本掌握", "proficient": "熟练掌握"}


@dataclass(frozen=True)
class Mastery:
    basic: float = 0.5  # share of the stage's points from which the level is "basic"
    proficient: float = 0.8  # … and "proficient"

    def __post_init__(self) -> None:
        if not 0.0 <= self.basic <= self.proficient <= 1.0:
            raise ValueError(f"mastery thresholds must satisfy 0 ≤ basic ≤ proficient ≤ 1 "
                             f"(got basic={self.basic}, proficient={self.proficient})")

    def level(self, share: float) -> str | None:
        if share != share:  # NaN: no items
            return None
        if share >= self.proficient:
            return "proficient"
        return "basic" if share >= self.basic else "not_yet"


def _items(scores: pd.DataFrame) -> pd.DataFrame:
    return scores[scores["exercise"].notna() & (scores["max_score"] > 0)]


def _totals(df: pd.DataFrame, key: str, mastery: Mastery | None) -> pd.DataFrame:
    g = df.groupby(["student", key], sort=True, observed=True).agg(
        items=("score", "size"), points=("score", "sum"), max_points=("max_score", "sum"))
    g = g.reset_index()
    g["percent"] = (100.0 * g["points"] / g["max_points"]).astype("float64")
    out = g.astype({"student": "string", key: "string", "items": "Int64",
                    "points": "float64", "max_points": "float64"})
    if mastery is not None:
        out["level"] = pd.array([mastery.level(p / 100.0) for p in out["percent"]],
                                dtype="string")
    return out


def by_stage(scores: pd.DataFrame, mastery: Mastery = Mastery()) -> pd.DataFrame:
    """``student, stage, title_cn, title_en, items, points, max_points, percent, level`` for
    every stage that has items, stages in clause order."""
    std = standard()
    out = _totals(_items(scores), "stage", mastery)
    titles = {s.id: s for s in std.stages}
    out.insert(2, "title_cn", pd.array([titles[s].title_cn if s in titles else pd.NA
                                        for s in out["stage"]], dtype="string"))
    out.insert(3, "title_en", pd.array([titles[s].title_en if s in titles else pd.NA
                                        for s in out["stage"]], dtype="string"))
    rank = {s: i for i, s in enumerate(std.stage_ids)}
    out = out.sort_values(["student", "stage"], key=lambda s: s.map(rank) if s.name == "stage"
                          else s, ignore_index=True)
    return out


def by_task(scores: pd.DataFrame) -> pd.DataFrame:
    """``student, task, items, points, max_points, percent`` (Table 1 order)."""
    df = _items(scores).copy()
    df["task"] = df["tasks"].fillna("").str.split(";")
    df = df.explode("task")
    df = df[df["task"] != ""]
    out = _totals(df, "task", None)
    rank = {t: i for i, t in enumerate(standard().task_ids)}
    return out.sort_values(["student", "task"], key=lambda s: s.map(rank) if s.name == "task"
                           else s, ignore_index=True)


def by_unit(scores: pd.DataFrame) -> pd.DataFrame:
    """``student, unit, items, points, max_points, percent``."""
    return _totals(_items(scores), "unit", None)


def mastery_matrix(scores: pd.DataFrame, mastery: Mastery = Mastery(), *,
                   all_stages: bool = False) -> pd.DataFrame:
    """Trainees × stages of mastery levels (``<NA>`` where the stage has no items). Columns:
    the stages with items in clause order, or all 18 with ``all_stages``."""
    st = by_stage(scores, mastery)
    ids = standard().stage_ids
    cols = ids if all_stages else [s for s in ids if s in set(st["stage"])]
    m = st.pivot(index="student", columns="stage", values="level").reindex(columns=cols)
    m.index.name, m.columns.name = "student", "stage"
    return m.astype("string").sort_index()


def percent_matrix(scores: pd.DataFrame) -> pd.DataFrame:
    """Trainees × stages (with items) of percent, for heat maps."""
    st = by_stage(scores)
    cols = [s for s in standard().stage_ids if s in set(st["stage"])]
    m = st.pivot(index="student", columns="stage", values="percent").reindex(columns=cols)
    m.index.name, m.columns.name = "student", "stage"
    return m.astype("float64").sort_index()


def missed_items(scores: pd.DataFrame,
                 audit: Iterable[Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """cbec items scored below their maximum: ``student, assignment, notebook, exercise,
    title, stage, score, max_score, status, mistake, mistake_feedback, revisit``. ``status``
    and ``mistake`` come from the latest audit record of the item (``<NA>`` without audit
    records); ``revisit`` names the notebook and the exercise's section heading."""
    df = _items(scores)
    df = df[df["score"] < df["max_score"]].copy()
    cols = ["student", "assignment", "notebook", "grade_id"]
    if audit is not None:
        au = latest_audit(audit)[[*cols, "status", "mistake"]]
        df = df.merge(au, on=cols, how="left")
    else:
        df["status"] = pd.NA
        df["mistake"] = pd.NA
    titles, feedback, revisit = [], [], []
    for ex_id, mistake, nb in zip(df["exercise"], df["mistake"], df["notebook"], strict=True):
        ex = exercises.get(str(ex_id))
        titles.append(ex.title)
        fb = next((m.feedback for m in ex.mistakes if m.id == mistake), None) \
            if isinstance(mistake, str) else None
        feedback.append(fb)
        revisit.append(f"{nb}.ipynb — {ex.title}")
    df["title"] = pd.array(titles, dtype="string")
    df["mistake_feedback"] = pd.array(feedback, dtype="string")
    df["revisit"] = pd.array(revisit, dtype="string")
    out = df[["student", "assignment", "notebook", "exercise", "title", "stage", "score",
              "max_score", "status", "mistake", "mistake_feedback", "revisit"]]
    out = out.astype({"status": "string", "mistake": "string"})
    return out.sort_values(["student", "assignment", "notebook", "exercise"],
                           ignore_index=True)


@dataclass(frozen=True)
class TraineeReport:
    student: str
    stages: pd.DataFrame
    tasks: pd.DataFrame
    units: pd.DataFrame
    missed: pd.DataFrame


def trainee(scores: pd.DataFrame, student: str, *,
            audit: Iterable[Mapping[str, Any]] | None = None,
            mastery: Mastery = Mastery()) -> TraineeReport:
    """The numbers of one trainee's competency report."""
    mine = scores[scores["student"] == student]
    if mine.empty:
        raise KeyError(f"no scores for trainee {student!r}")
    return TraineeReport(student, by_stage(mine, mastery), by_task(mine), by_unit(mine),
                         missed_items(mine, list(audit) if audit is not None else None))
