"""``cbec course check``: is every exercise of the course well formed and does it behave?

Three layers, each returning structured results (:class:`CheckReport`) for the CLI, the tests
and the demo:

1. **Lints** per exercise (id, notebook, stage, tasks, competency unit, points, difficulty,
   hints, known mistakes, answer variable, kind) and per course (module folders and notebook
   names, curriculum consistency, masters in sync with the definitions).
2. **Behaviour** on a few simulated worlds (fixed seeds, so results are reproducible): the
   solution is judged correct, the starter ``answer = ...`` is not, and every known mistake is
   judged wrong *and* recognised as that very mistake (so its feedback is the one shown).
3. **Execution** (optional) of every master notebook top to bottom in a real kernel on the
   default dataset: no cell error, every ``check`` prints ✔, within the content guide's time
   budget.
"""

from __future__ import annotations

import keyword
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import nbformat

from graders import exercises as registry
from graders.compare import KINDS, Comparator
from graders.course_build import (
    IGNORED,
    MODULE_RE,
    NOTEBOOK_RE,
    CourseError,
    Master,
    assignments,
    nbgrader_problem,
    read_notebook,
    source_dir,
    sync_master,
)
from graders.curriculum import Curriculum, CurriculumError, Standard, curriculum, standard
from graders.exercise import ID_RE, Exercise

WORLD_ORDERS = 3000  # orders per check world: big enough for every table, ~1 s to generate
SEED_BASE = 9001
BUDGET_SECONDS = 20.0  # CONTENT-GUIDE: a solution notebook runs in ≤ 20 s on the default data
MIN_HINTS, MIN_MISTAKES = 1, 2
CHECK_LINE = re.compile(r"^(✔|✘|…) (\d\d\.\d\d\.[a-z][a-z0-9_]*)")


def check_seeds(n: int) -> list[int]:
    """The fixed seeds of ``--seeds n`` (the first k seeds are the same for every n ≥ k)."""
    return [SEED_BASE + k for k in range(n)]


@cache
def check_world(seed: int):
    """The simulated world of one check seed (generated once per process)."""
    import cbec_sim

    return cbec_sim.generate(WORLD_ORDERS, rng=seed)


@dataclass
class ItemCheck:
    """Lint and behaviour results of one exercise."""

    id: str
    module: str
    seeds: int = 0  # seeds tried
    seeds_ok: int = 0  # seeds on which everything behaved
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class NotebookRun:
    """One master notebook executed in a kernel."""

    path: Path
    seconds: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class CheckReport:
    course: Path
    seeds: list[int]
    items: list[ItemCheck] = field(default_factory=list)
    course_problems: list[str] = field(default_factory=list)
    notebooks: list[NotebookRun] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Every problem as one line, course-level first."""
        return ([*self.course_problems]
                + [f"{it.id}: {p}" for it in self.items for p in it.problems]
                + [p for nb in self.notebooks for p in nb.problems])

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------------------------- lints


def _fmt_list(xs: Iterable[str]) -> str:
    return ", ".join(xs)


def lint_exercise(ex: Exercise, module: str, course: Path, *, std: Standard | None = None,
                  cur: Curriculum | None = None) -> list[str]:
    """Problems with the definition of ``ex`` (which belongs to course module ``module``)."""
    std = std or standard()
    out: list[str] = []
    if not isinstance(ex.id, str) or not ID_RE.match(ex.id):
        out.append(f"id {ex.id!r} must look like NN.MM.slug (e.g. 00.02.order_count: notebook "
                   "number, then lower-case letters, digits, _)")
    else:
        folder = source_dir(course) / module
        if not any(NOTEBOOK_RE.match(p.name) for p in folder.glob(f"{ex.notebook}-*.ipynb")):
            out.append(f"id: its notebook {ex.notebook} does not exist; create "
                       f"{folder}/{ex.notebook}-Title.ipynb with a '%exercise {ex.id}' cell")
        if MODULE_RE.match(module) and ex.id[:2] != module[:2]:
            out.append(f"id: notebook {ex.notebook} cannot belong to module {module} "
                       f"(notebook numbers start with the module number {module[:2]})")
    for name in ("title", "question", "solution"):
        if not str(getattr(ex, name, "") or "").strip():
            out.append(f"{name} is empty; write it")
    stages = std.stage_ids
    if ex.stage not in stages:
        out.append(f"stage {ex.stage!r} is not a stage of the standard ({stages[0]}…"
                   f"{stages[-1]} in graders/data/standard.yaml)")
    if isinstance(ex.tasks, str):
        out.append("tasks must be a tuple of Table 1 task ids, e.g. (\"7.2.1\",), not a string")
    elif not ex.tasks:
        out.append("tasks is empty; tag at least one Table 1 task id (graders/data/standard.yaml)")
    else:
        unknown = [t for t in ex.tasks if t not in set(std.task_ids)]
        if unknown:
            out.append(f"tasks: {_fmt_list(map(repr, unknown))} not a Table 1 task id (see "
                       "graders/data/standard.yaml)")
    if cur is not None:
        if ex.unit not in cur.units:
            out.append(f"unit {ex.unit!r} is not a competency unit of curriculum.yaml "
                       f"({_fmt_list(cur.units)})")
        mod = cur.modules.get(module)
        if mod is not None and mod.stages and ex.stage not in mod.stages:
            out.append(f"stage {ex.stage} is not one of module {module}'s stages "
                       f"({_fmt_list(mod.stages)}) in curriculum.yaml; retag it or add the stage")
    if not isinstance(ex.points, int | float) or isinstance(ex.points, bool) or ex.points <= 0:
        out.append(f"points {ex.points!r} must be a number > 0")
    if ex.difficulty not in (1, 2, 3):
        out.append(f"difficulty {ex.difficulty!r} must be 1, 2 or 3")
    if len(ex.hints) < MIN_HINTS or not all(str(h).strip() for h in ex.hints):
        out.append(f"hints: needs at least {MIN_HINTS} non-empty hint")
    if len(ex.mistakes) < MIN_MISTAKES:
        out.append(f"mistakes: has {len(ex.mistakes)}, needs at least {MIN_MISTAKES} known "
                   "mistakes with targeted feedback (CONTENT-GUIDE)")
    ids = [m.id for m in ex.mistakes]
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        out.append(f"mistakes: ids repeat ({_fmt_list(repeated)}); give each its own id")
    for m in ex.mistakes:
        if not str(m.feedback).strip():
            out.append(f"mistake {m.id}: feedback is empty; say what went wrong")
    if not (isinstance(ex.answer, str) and ex.answer.isidentifier()
            and not keyword.iskeyword(ex.answer)):
        out.append(f"answer {ex.answer!r} must be a Python variable name")
    if ex.kind not in KINDS:
        out.append(f"kind {ex.kind!r} must be one of {_fmt_list(KINDS)}")
    if ex.compare is not None and not isinstance(ex.compare, Comparator):
        out.append("compare must be a comparator from graders.compare (e.g. Money())")
    if not callable(ex.reference):
        out.append("reference must be a function of the world")
    return out


def _masters_of(course: Path, module: str, problems: list[str]) -> list[Master]:
    folder = source_dir(course) / module
    found: list[Master] = []
    numbers: dict[str, Path] = {}
    for path in sorted(folder.glob("*.ipynb")):
        m = NOTEBOOK_RE.match(path.name)
        if not m:
            problems.append(f"{path}: master notebooks must be named NN.MM-Title.ipynb; rename it")
            continue
        number = m.group(1)
        if MODULE_RE.match(module) and number[:2] != module[:2]:
            problems.append(f"{path}: notebook number {number} must start with the module "
                            f"number {module[:2]}; rename it")
        if number in numbers:
            problems.append(f"{path}: notebook number {number} is also used by "
                            f"{numbers[number].name}; give each notebook its own number")
        numbers[number] = path
        found.append(Master(module, path, number, m.group(2)))
    return found


def lint_course(course: Path, modules: Sequence[str], cur: Curriculum | None) -> list[str]:
    """Course-level problems of ``modules``: folder and notebook names, curriculum, sync."""
    problems: list[str] = []
    for module in modules:
        folder = source_dir(course) / module
        if not folder.is_dir():
            continue  # reported per exercise (its notebook does not exist)
        if not MODULE_RE.match(module):
            problems.append(f"{folder}: module folders must be named NN-slug "
                            "(e.g. 13-logistics); rename it")
        for master in _masters_of(course, module, problems):
            try:
                if sync_master(master, write=False).changed:
                    problems.append(f"{master.path}: out of sync with the exercise definitions; "
                                    "run `cbec course sync`")
                bad = nbgrader_problem(read_notebook(master.path))
                if bad:
                    problems.append(f"{master.path}: {bad}; fix the cell metadata")
            except CourseError as exc:
                problems.append(str(exc))
        if cur is not None and registry.for_module(module) and module not in cur.modules:
            problems.append(f"{Path(course) / 'curriculum.yaml'}: module {module} has exercises "
                            "but is not listed under modules; add it")
    return problems


# ------------------------------------------------------------------------------ behaviour


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"


def behaviour(ex: Exercise, seeds: Sequence[int]) -> tuple[int, list[str]]:
    """Run the solution, the starter and every known mistake on each seed's world.

    Returns (seeds on which everything behaved, problems)."""
    ok_seeds, problems = 0, []
    for seed in seeds:
        world = check_world(seed)
        before = len(problems)
        try:
            exp = ex.expected(world)
        except Exception as exc:
            problems.append(f"reference raised {_short(exc)} on seed {seed}")
            continue
        values = {}
        for m in ex.mistakes:
            try:
                values[m.id] = ex.run(m.code, world, label=f"mistake {m.id}")
            except Exception as exc:
                problems.append(f"mistake {m.id}: its code raised {_short(exc)} on seed {seed}")
        try:
            sol = ex.run(ex.solution, world, label="solution")
        except Exception as exc:
            problems.append(f"solution raised {_short(exc)} on seed {seed}")
        else:
            r = ex.evaluate(sol, world, expected=exp, mistake_values=values)
            if not r.correct:
                why = f"mistake {r.mistake}" if r.mistake else f"{r.status}: {r.message}"
                problems.append(f"solution is judged wrong on seed {seed} ({why}); fix the "
                                "solution, the reference or the comparator")
        try:
            starter = ex.run(f"{ex.answer} = ...", world, label="starter")
            if ex.evaluate(starter, world, expected=exp, mistake_values=values).correct:
                problems.append(f"the starter `{ex.answer} = ...` is judged correct on seed "
                                f"{seed}")
        except Exception as exc:
            problems.append(f"the starter `{ex.answer} = ...` cannot run ({_short(exc)})")
        for m in ex.mistakes:
            if m.id not in values:
                continue
            r = ex.evaluate(values[m.id], world, expected=exp, mistake_values=values)
            if r.correct:
                problems.append(f"mistake {m.id} gives the correct answer on seed {seed}; "
                                "change its code so it is really wrong, or drop it")
            elif r.mistake != m.id:
                got = (f"reported as mistake {r.mistake} (same answer)" if r.mistake
                       else f"not recognised (judged {r.status})")
                problems.append(f"mistake {m.id} is {got} on seed {seed}, so its feedback is "
                                "never shown; make the mistakes differ")
        if len(problems) == before:
            ok_seeds += 1
    return ok_seeds, problems


def check_exercises(items: Sequence[tuple[str, Exercise]], course: Path, seeds: int = 3, *,
                    cur: Curriculum | None = None) -> list[ItemCheck]:
    """Lint and behaviour of each ``(module, exercise)`` pair (any Exercise object, registered
    or not)."""
    std = standard()
    seed_list = check_seeds(seeds)
    out = []
    for module, ex in items:
        item = ItemCheck(ex.id, module, seeds=len(seed_list))
        item.problems += lint_exercise(ex, module, course, std=std, cur=cur)
        ok, problems = behaviour(ex, seed_list)
        item.seeds_ok = ok
        item.problems += problems
        out.append(item)
    return out


# ------------------------------------------------------------------------------ execution


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def execute_master(path: Path, budget: float = BUDGET_SECONDS, timeout: int = 300) -> NotebookRun:
    """Execute a master (solution) notebook in a fresh kernel on the default dataset, in a
    temporary copy of its module folder (nothing is written into the course)."""
    from nbclient import NotebookClient

    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="cbec-exec-") as tmp:
        work = Path(tmp) / path.parent.name
        shutil.copytree(path.parent, work, ignore=shutil.ignore_patterns(*IGNORED))
        nb = nbformat.read(work / path.name, as_version=4)
        env = {**os.environ, "CBEC_NO_LOG": "1", "MPLBACKEND": "Agg"}
        env.pop("CBEC_DATASET", None)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                                resources={"metadata": {"path": str(work)}})
        problems: list[str] = []
        t0 = time.perf_counter()
        try:
            client.execute(env=env, stderr=subprocess.DEVNULL)  # kernel chatter off
        except Exception as exc:
            failed = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and any(
                o.get("output_type") == "error" for o in c.get("outputs", []))), None)
            where = f"cell {failed + 1}" if failed is not None else "the kernel"
            ename = getattr(exc, "ename", type(exc).__name__)
            evalue = getattr(exc, "evalue", str(exc))
            problems.append(f"{path}: {where} raised {ename}: "
                            f"{' '.join(str(evalue).split())[:160]}")
        seconds = time.perf_counter() - t0
    if not problems:
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            text = _stdout(cell)
            for line in text.splitlines():
                m = CHECK_LINE.match(line)
                if m and m.group(1) != "✔":
                    problems.append(f"{path}: cell {i + 1} check printed {line.strip()[:100]!r}")
            cbec = cell.get("metadata", {}).get("cbec", {})
            if cbec.get("role") == "answer" and f"✔ {cbec.get('id')}" not in text:
                problems.append(f"{path}: the check of {cbec.get('id')} did not print ✔")
        if seconds > budget:
            problems.append(f"{path}: ran in {seconds:.1f} s, over the {budget:g} s budget of "
                            "the content guide; make it faster")
    return NotebookRun(path, seconds, problems)


# ---------------------------------------------------------------------------------- course


def _modules(course: Path, assignment: str | None) -> list[str]:
    known = list(dict.fromkeys([*assignments(course), *registry.modules()]))
    if assignment is None:
        return known
    if assignment not in known:
        raise CourseError(f"no assignment {assignment!r} in {source_dir(course)} and no "
                          f"exercises for it (known: {_fmt_list(known) or 'none yet'})")
    return [assignment]


def check_course(course: Path, assignment: str | None = None, seeds: int = 3, *,
                 execute: bool = False, budget: float = BUDGET_SECONDS) -> CheckReport:
    """Check the exercises and masters of ``assignment`` (default: the whole course)."""
    course = Path(course)
    if seeds < 1:
        raise CourseError("--seeds must be at least 1")
    modules = _modules(course, assignment)
    report = CheckReport(course, check_seeds(seeds))
    try:
        cur: Curriculum | None = curriculum(course)
    except CurriculumError as exc:
        cur = None
        report.course_problems.append(str(exc))
    report.course_problems += lint_course(course, modules, cur)
    pairs = [(m, ex) for m in modules for ex in registry.for_module(m)]
    report.items = check_exercises(pairs, course, seeds, cur=cur)
    if execute:
        problems: list[str] = []
        for module in modules:
            if (source_dir(course) / module).is_dir():
                for master in _masters_of(course, module, problems):
                    report.notebooks.append(execute_master(master.path, budget))
    return report
