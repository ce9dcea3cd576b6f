"""The standard's stages and Table 1 tasks (``graders/data/standard.yaml``) and the course's
curriculum map (``course/curriculum.yaml``), loaded once and checked for shape.

Used by ``cbec course check`` (tags must name real stages, tasks and competency units) and
``cbec course coverage`` (items and points per stage and per task).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

STANDARD_FILE = Path(__file__).resolve().parent / "data" / "standard.yaml"
CURRICULUM_FILE = "curriculum.yaml"


class CurriculumError(ValueError):
    """A curriculum or standard file that cannot be used (message names the file and field)."""


@dataclass(frozen=True)
class Stage:
    id: str
    title_cn: str
    title_en: str


@dataclass(frozen=True)
class Task:
    id: str
    title_cn: str
    title_en: str
    stage: str
    secondary_stages: tuple[str, ...]


@dataclass(frozen=True)
class Standard:
    stages: tuple[Stage, ...]  # in clause order 5.1 … 5.18
    tasks: tuple[Task, ...]  # in Table 1 order

    @property
    def stage_ids(self) -> list[str]:
        return [s.id for s in self.stages]

    @property
    def task_ids(self) -> list[str]:
        return [t.id for t in self.tasks]

    def stage(self, stage_id: str) -> Stage:
        return {s.id: s for s in self.stages}[stage_id]


@dataclass(frozen=True)
class Module:
    id: str
    title_cn: str
    stages: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class Curriculum:
    units: dict[str, tuple[str, ...]]  # competency unit id → its stages
    modules: dict[str, Module]


def _load_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CurriculumError(f"{path} does not exist") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where else ""
        raise CurriculumError(f"{path}{line}: not valid YAML; fix the syntax") from None
    if not isinstance(data, dict):
        raise CurriculumError(f"{path}: expected a mapping at the top level")
    return data


def _field(path: Path, entry: dict, key: str, where: str):
    if not isinstance(entry, dict) or key not in entry:
        raise CurriculumError(f"{path}: {where} has no '{key}' field; add it")
    return entry[key]


@cache
def standard(path: Path = STANDARD_FILE) -> Standard:
    """Stages and Table 1 tasks of T/CCPITCSC 111-2022."""
    data = _load_yaml(path)
    stages = tuple(Stage(str(_field(path, s, "id", f"stages[{i}]")),
                         str(s.get("title_cn", "")), str(s.get("title_en", "")))
                   for i, s in enumerate(data.get("stages") or []))
    tasks = tuple(Task(str(_field(path, t, "id", f"tasks[{i}]")), str(t.get("title_cn", "")),
                       str(t.get("title_en", "")), str(_field(path, t, "stage", f"tasks[{i}]")),
                       tuple(str(s) for s in t.get("secondary_stages") or ()))
                  for i, t in enumerate(data.get("tasks") or []))
    if not stages or not tasks:
        raise CurriculumError(f"{path}: 'stages' and 'tasks' must both be non-empty lists")
    return Standard(stages, tasks)


def curriculum(course: Path) -> Curriculum:
    """Competency units and modules of the course in folder ``course``."""
    path = Path(course) / CURRICULUM_FILE
    data = _load_yaml(path)
    units: dict[str, tuple[str, ...]] = {}
    for i, u in enumerate(data.get("competency_units") or []):
        uid = str(_field(path, u, "id", f"competency_units[{i}]"))
        units[uid] = tuple(str(s) for s in u.get("stages") or ())
    modules: dict[str, Module] = {}
    for i, m in enumerate(data.get("modules") or []):
        mid = str(_field(path, m, "id", f"modules[{i}]"))
        stages = m.get("stages") or ()
        if not isinstance(stages, list | tuple):
            raise CurriculumError(f"{path}: modules[{i}] ({mid}) 'stages' must be a list")
        modules[mid] = Module(mid, str(m.get("title_cn", "")), tuple(str(s) for s in stages),
                              str(m.get("status", "planned")))
    return Curriculum(units, modules)
