"""``cbec course coverage``: autograded items and points per stage of the standard (5.1–5.18)
and per Table 1 task.

An item counts for its ``stage`` and for each of its ``tasks``. Only items that are in the
course count: the exercise's notebook ``NN.MM-*.ipynb`` exists in its module's source folder
(``cbec course check`` makes sure every placed item is synced).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from graders import exercises as registry
from graders.course_build import source_dir
from graders.curriculum import Standard, standard
from graders.exercise import Exercise


@dataclass(frozen=True)
class Tally:
    items: int = 0
    points: float = 0.0

    def add(self, points: float) -> Tally:
        return Tally(self.items + 1, self.points + float(points))

    def as_dict(self) -> dict:
        p = self.points
        return {"items": self.items, "points": int(p) if float(p).is_integer() else p}


@dataclass
class Coverage:
    std: Standard
    stages: dict[str, Tally]  # every stage, in clause order
    tasks: dict[str, Tally]  # every Table 1 task, in table order
    items: int
    points: float

    @property
    def uncovered_stages(self) -> list[str]:
        return [s for s, t in self.stages.items() if not t.items]

    @property
    def uncovered_tasks(self) -> list[str]:
        return [s for s, t in self.tasks.items() if not t.items]

    def as_json(self) -> dict:
        return {"stages": {k: v.as_dict() for k, v in self.stages.items()},
                "tasks": {k: v.as_dict() for k, v in self.tasks.items()}}


def in_course(course: Path) -> list[Exercise]:
    """Registered exercises whose notebook exists in the course's source folder."""
    out = []
    for ex in registry.all_exercises():
        folder = source_dir(course) / registry.module_of(ex.id)
        if any(folder.glob(f"{ex.notebook}-*.ipynb")):
            out.append(ex)
    return out


def coverage(items: Iterable[Exercise], std: Standard | None = None) -> Coverage:
    """Tally ``items`` per stage and per task (unknown ids are ignored: `course check` reports
    them)."""
    std = std or standard()
    stages = {s: Tally() for s in std.stage_ids}
    tasks = {t: Tally() for t in std.task_ids}
    n, pts = 0, 0.0
    for ex in items:
        n, pts = n + 1, pts + float(ex.points)
        if ex.stage in stages:
            stages[ex.stage] = stages[ex.stage].add(ex.points)
        for t in dict.fromkeys(ex.tasks):
            if t in tasks:
                tasks[t] = tasks[t].add(ex.points)
    return Coverage(std, stages, tasks, n, pts)


def course_coverage(course: Path) -> Coverage:
    return coverage(in_course(course))


def render(cov: Coverage) -> str:
    """A plain-text report: stages, tasks grouped by stage, what is uncovered."""
    titles = {t.id: t for t in cov.std.tasks}
    lines = [f"Coverage of T/CCPITCSC 111-2022 by {cov.items} autograded item(s), "
             f"{cov.points:g} point(s)", "", f"{'stage':<6} {'items':>5} {'points':>6}  title"]
    for s in cov.std.stages:
        t = cov.stages[s.id]
        lines.append(f"{s.id:<6} {t.items:>5} {t.points:>6g}  {s.title_cn} ({s.title_en})")
    lines += ["", f"{'task':<10} {'items':>5} {'points':>6}  title"]
    for s in cov.std.stages:
        for task in (t for t in cov.std.tasks if t.stage == s.id):
            t = cov.tasks[task.id]
            lines.append(f"{task.id:<10} {t.items:>5} {t.points:>6g}  "
                         f"[{s.id}] {titles[task.id].title_cn}")
    us, ut = cov.uncovered_stages, cov.uncovered_tasks
    lines += ["", f"Uncovered stages ({len(us)}/{len(cov.stages)}): "
                  f"{', '.join(us) if us else 'none'}",
              f"Uncovered tasks ({len(ut)}/{len(cov.tasks)}): {', '.join(ut) if ut else 'none'}"]
    return "\n".join(lines)
