"""A simulated cohort: nbgrader-style submissions of synthetic trainees, with the truth.

For ``n`` trainees ``sim-001`` … the simulator starts from the RELEASED notebooks of an
assignment and fills every answer cell (``metadata.cbec.role == "answer"``) with
``<chosen code>\\nq.<slug>.check(<answer variable>)``. Whether a trainee answers an item
correctly follows a one-parameter logistic IRT model with the usual scaling constant::

    θ ~ N(0, 1)                                  (ability, one draw per trainee)
    b = −1, 0, +1 for difficulty 1, 2, 3        (item difficulty)
    P(correct | θ, b) = 1 / (1 + exp(−1.7 · (θ − b)))

When not correct the trainee makes one of the item's known mistakes (weight 0.7; its code is
in the exercise definition), leaves the starter as released (0.2, "blank") or writes code that
raises (0.1, "error": a wrong column name). Items without known mistakes split 2:1 between
blank and error.

A share of trainees (``adversarial``) also tries one of :data:`ADVERSARIAL` on one item:

* ``infinite_loop`` — the answer cell never finishes (nbgrader interrupts it at
  ``ExecutePreprocessor.timeout``; the item scores 0);
* ``setup_exception`` — the (locked) setup cell is edited to raise (nbgrader restores locked
  cells from the gradebook, so answers are graded normally);
* ``deleted_answer`` — the answer cell is deleted (the hidden test fails: 0);
* ``edited_test`` — the hidden-test cell is emptied, with a wrong answer (nbgrader restores the
  test: 0);
* ``changed_points`` — the test cell's points are raised tenfold, with a correct answer
  (nbgrader restores the points: the item's normal points);
* ``monkeypatch_grade`` — ``q.<slug>.grade = lambda *a, **k: None`` in the answer cell, with the
  starter left blank: nbgrader CANNOT stop this (full points); a tamper-proof grader must
  give 0.

Output (``out``): ``submitted/<student>/<assignment>/<notebook>.ipynb`` + ``timestamp.txt``
(nbgrader's layout; copy ``submitted/`` into a course and run ``nbgrader autograde``), the
trainee's own ``data/`` when the course releases variants (seeds from the course secret, as in
:mod:`graders.release`), ``roster.csv``, ``variants.csv`` (fingerprints, with variants) and
``truth.csv``: one row per (student, exercise) with ``outcome``, the underlying ``answer``,
``mistake``, ``points`` (the item's maximum), ``nbgrader_points`` (what ``nbgrader autograde``
gives) and ``secure_points`` (what a tamper-proof grader should give); graded cells that are not
autograded items (hand-marked judgements) are left as released and listed as ``blank`` with 0
points, which is what nbgrader gives an unchanged answer. Same seed, same files.
No kernel is started: correct and mistaken code is checked in-process on the trainee's world.
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from graders import exercises
from graders.cells import exercise_id
from graders.exercise import Exercise
from graders.release import (
    DATA_DIR,
    VARIANT_FIELDS,
    Progress,
    _no_progress,
    check_assignment,
    generate_assignment,
    read_variants,
    run_jobs,
    verified_dataset,
    write_world,
)
from graders.variants import (
    Trainee,
    VariantError,
    check_output_folder,
    course_secret,
    derive_seed,
    world_orders,
    write_roster,
)

ANSWERS = ("correct", "mistake", "blank", "error")
ADVERSARIAL = ("infinite_loop", "setup_exception", "deleted_answer", "edited_test",
               "changed_points", "monkeypatch_grade")
DIFFICULTY_B = {1: -1.0, 2: 0.0, 3: 1.0}
SCALE = 1.7
WRONG = {"mistake": 0.7, "blank": 0.2, "error": 0.1}
MARKER = ".cbec-cohort"
TRUTH_FIELDS = ("student", "notebook", "exercise", "theta", "outcome", "answer", "mistake",
                "points", "nbgrader_points", "secure_points")
ERROR_COLUMN = "金额"  # a plausible but wrong column name


def p_correct(theta: float, difficulty: int) -> float:
    """P(correct) = 1 / (1 + exp(−1.7 (θ − b))), b = −1/0/+1 for difficulty 1/2/3."""
    b = DIFFICULTY_B.get(int(difficulty), 0.0)
    return 1.0 / (1.0 + math.exp(-SCALE * (theta - b)))


# -- released notebooks ------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    notebook: str  # file stem, e.g. "00.02-orders"
    exercise: Exercise
    points: float  # nbgrader max points of its hidden-test cell

    @property
    def slug(self) -> str:
        return self.exercise.id[6:]


@contextlib.contextmanager
def released_folder(course: Path, assignment: str) -> Iterator[Path]:
    """``<course>/release/<assignment>``; when missing, nbgrader's release made in a temporary
    copy of the course (nothing is written into the course)."""
    rel = course / "release" / assignment
    if rel.is_dir() and any(rel.glob("*.ipynb")):
        yield rel
        return
    src = check_assignment(course, assignment)
    with tempfile.TemporaryDirectory(prefix="cbec-release-") as tmp:
        copy = Path(tmp) / "course"
        (copy / "source").mkdir(parents=True)
        shutil.copy2(course / "nbgrader_config.py", copy / "nbgrader_config.py")
        if (course / "curriculum.yaml").is_file():
            shutil.copy2(course / "curriculum.yaml", copy / "curriculum.yaml")
        shutil.copytree(src, copy / "source" / assignment)
        yield generate_assignment(copy, assignment)


def _cbec(cell) -> dict:
    return cell.get("metadata", {}).get("cbec", {}) or {}


@dataclass(frozen=True)
class ManualCell:
    """A graded cell that is not an autograded item (e.g. a written judgement marked by hand
    with a rubric). Simulated trainees leave it as released, which nbgrader scores 0 without
    asking for manual grading."""

    notebook: str
    id: str  # cbec id, else the exercise-style form of its nbgrader grade_id
    points: float


def read_manual(notebooks: dict[str, nbformat.NotebookNode]) -> list[ManualCell]:
    out = []
    for name, nb in notebooks.items():
        for cell in nb.cells:
            ngr = cell.get("metadata", {}).get("nbgrader", {}) or {}
            if not ngr.get("grade") or _cbec(cell).get("role") == "test":
                continue
            key = _cbec(cell).get("id") or exercise_id(str(ngr.get("grade_id", "")))
            out.append(ManualCell(name, str(key), float(ngr.get("points", 0))))
    return out


def read_items(notebooks: dict[str, nbformat.NotebookNode]) -> list[Item]:
    """The autograded items of released notebooks, in notebook and cell order."""
    items: list[Item] = []
    for name, nb in notebooks.items():
        tests = {_cbec(c).get("id"): c for c in nb.cells if _cbec(c).get("role") == "test"}
        for cell in nb.cells:
            meta = _cbec(cell)
            if meta.get("role") != "answer":
                continue
            try:
                ex = exercises.get(str(meta.get("id")))
            except KeyError as exc:
                raise VariantError(f"{name}.ipynb: answer cell of unknown exercise "
                                   f"{meta.get('id')!r} ({exc.args[0]})") from None
            test = tests.get(ex.id)
            if test is None:
                raise VariantError(f"{name}.ipynb: exercise {ex.id} has no hidden-test cell; "
                                   "run cbec course sync and release again")
            pts = float(test.metadata.get("nbgrader", {}).get("points", ex.points))
            items.append(Item(name, ex, pts))
    return items


# -- the plan ----------------------------------------------------------------------------------
@dataclass
class Response:
    item: Item
    answer: str  # one of ANSWERS, or "none" (deleted / never ran)
    mistake: str | None = None
    adversarial: str | None = None


@dataclass
class TraineePlan:
    student: str
    theta: float
    responses: list[Response] = field(default_factory=list)
    adversarial: str | None = None


def student_ids(n: int) -> list[str]:
    width = max(3, len(str(n)))
    return [f"sim-{i:0{width}d}" for i in range(1, n + 1)]


def _wrong(rng: np.random.Generator, ex: Exercise) -> tuple[str, str | None]:
    kinds = list(WRONG) if ex.mistakes else ["blank", "error"]
    w = np.array([WRONG[k] if ex.mistakes else {"blank": 2, "error": 1}[k] for k in kinds],
                 dtype=float)
    kind = kinds[int(rng.choice(len(kinds), p=w / w.sum()))]
    mistake = None
    if kind == "mistake":
        mistake = ex.mistakes[int(rng.integers(len(ex.mistakes)))].id
    return kind, mistake


def plan(items: Sequence[Item], n: int, seed: int = 0, adversarial: float = 0.0
         ) -> list[TraineePlan]:
    """Who answers what: abilities, outcomes and adversarial acts (no files, no kernels).

    ``adversarial · n`` (rounded) trainees (a seeded random subset) each try one adversarial act,
    the kinds cycling through :data:`ADVERSARIAL` in a seeded order so all appear once there
    are six or more. A trainee's own draws depend only on ``seed`` and their number."""
    if not 0.0 <= adversarial <= 1.0:
        raise VariantError(f"--adversarial {adversarial}: give a share between 0.0 and 1.0")
    if not items:
        raise VariantError("no autograded items to answer")
    top = np.random.default_rng(seed)
    thetas = top.normal(size=n)
    order = top.permutation(n)
    kinds = [ADVERSARIAL[i] for i in top.permutation(len(ADVERSARIAL))]
    k = math.floor(adversarial * n + 0.5)
    adv = {int(s): kinds[j % len(kinds)] for j, s in enumerate(order[:k])}
    out = []
    for i, sid in enumerate(student_ids(n)):
        rng = np.random.default_rng([seed, i + 1])
        target = int(rng.integers(len(items)))
        tp = TraineePlan(sid, float(thetas[i]), adversarial=adv.get(i))
        for j, item in enumerate(items):
            u = rng.random()
            wrong = _wrong(rng, item.exercise)
            if u < p_correct(tp.theta, item.exercise.difficulty):
                r = Response(item, "correct")
            else:
                r = Response(item, wrong[0], wrong[1])
            if tp.adversarial and j == _target(items, target, tp.adversarial):
                r = _adversarial_response(tp.adversarial, item, r)
            tp.responses.append(r)
        out.append(tp)
    return out


def _target(items: Sequence[Item], drawn: int, kind: str) -> int:
    """The item an act targets; the setup cell is per notebook, so its first item."""
    if kind == "setup_exception":
        nb = items[drawn].notebook
        return next(i for i, it in enumerate(items) if it.notebook == nb)
    return drawn


def _adversarial_response(kind: str, item: Item, r: Response) -> Response:
    """The answer behind an act: tampering that would pay off is paired with a wrong answer
    (edited test, monkeypatch) and a points change with a correct one, so a grader that let the
    act through would score it differently."""
    ex = item.exercise
    if kind in ("infinite_loop", "changed_points"):
        return Response(item, "correct", adversarial=kind)  # the loop never gets there
    if kind == "deleted_answer":
        return Response(item, "none", adversarial=kind)
    if kind == "edited_test":
        if ex.mistakes:
            return Response(item, "mistake", ex.mistakes[0].id, adversarial=kind)
        return Response(item, "blank", adversarial=kind)
    if kind == "monkeypatch_grade":
        return Response(item, "blank", adversarial=kind)
    return Response(item, r.answer, r.mistake, adversarial=kind)  # setup_exception


# -- code --------------------------------------------------------------------------------------
def answer_code(r: Response) -> str | None:
    """The code of an answer (``None`` for the starter left as released / no code)."""
    ex = r.item.exercise
    if r.answer == "correct":
        return ex.solution.strip()
    if r.answer == "mistake":
        return next(m.code for m in ex.mistakes if m.id == r.mistake).strip()
    if r.answer == "error":
        table = ex.tables[0] if ex.tables else "orders"
        return f'{ex.answer} = world.{table}["{ERROR_COLUMN}"].sum()'
    return None


def _answer_source(r: Response, released: str) -> str:
    ex, slug = r.item.exercise, r.item.slug
    check = f"q.{slug}.check({ex.answer})"
    code = answer_code(r)
    if r.adversarial == "monkeypatch_grade":
        return f"{ex.answer} = ...\nq.{slug}.grade = lambda *a, **k: None\n{check}"
    if r.adversarial == "infinite_loop":
        return f"while True:  # 一直算不完 (never finishes)\n    pass\n{code}\n{check}"
    if code is None:
        return released
    return f"{code}\n{check}"


def fill_notebook(nb: nbformat.NotebookNode, responses: list[Response]) -> nbformat.NotebookNode:
    """A copy of released notebook ``nb`` answered with ``responses`` (its own items only)."""
    import copy

    nb = copy.deepcopy(nb)
    by_id = {r.item.exercise.id: r for r in responses}
    cells = []
    for cell in nb.cells:
        meta = _cbec(cell)
        role, key = meta.get("role"), meta.get("id")
        r = by_id.get(key) if role in ("answer", "test") else None
        if role == "setup" and any(x.adversarial == "setup_exception" for x in responses):
            cell.source = 'raise RuntimeError("不想加载数据 (tampered setup)")\n' + cell.source
        if r is not None and role == "answer":
            if r.adversarial == "deleted_answer":
                continue
            cell.source = _answer_source(r, cell.source)
        if r is not None and role == "test":
            if r.adversarial == "edited_test":
                cell.source = f"pass  # 测试被删掉了 (test removed)：{key}"
            if r.adversarial == "changed_points":
                cell.metadata["nbgrader"]["points"] = r.item.points * 10
        cells.append(cell)
    nb.cells = cells
    return nb


# -- scoring -----------------------------------------------------------------------------------
def _passes(ex: Exercise, code: str | None, world, cache: dict) -> bool:
    """Would the hidden test pass for ``code`` on ``world``? (no code: the starter, fails)"""
    if code is None:
        return False
    try:
        value = ex.run(code, world, label="simulated answer")
    except Exception:
        return False
    if ex.id not in cache:
        cache[ex.id] = (ex.expected(world), ex.mistake_values(world))
    exp, mv = cache[ex.id]
    return ex.evaluate(value, world, expected=exp, mistake_values=mv).correct


def _scores(r: Response, passes: bool) -> tuple[float, float]:
    """(nbgrader points, secure points) of one response, given whether its code passes."""
    full = r.item.points
    kind = r.adversarial
    if kind in ("infinite_loop", "deleted_answer"):
        return 0.0, 0.0
    if kind == "monkeypatch_grade":
        return full, full if passes else 0.0
    got = full if passes else 0.0
    return got, got


def _checks(tp: TraineePlan) -> list[list[str | None]]:
    return [[r.item.exercise.id, answer_code(r) if r.answer in ("correct", "mistake", "error")
             else None] for r in tp.responses]


def _run_checks(world, checks: list[list[str | None]]) -> list[bool]:
    cache: dict = {}
    return [_passes(exercises.get(str(eid)), code, world, cache) for eid, code in checks]


def _cohort_trainee(job: dict[str, Any]) -> dict[str, Any]:
    """Worker: write the trainee's world to ``dest`` (a copy of the dataset released to them,
    when ``released`` names one that still matches its recorded fingerprint; else generated
    from the seed) and check their answers on it."""
    import cbec_sim

    rel = job.get("released") or {}
    src = verified_dataset(rel.get("dataset"), rel.get("fingerprint", ""))
    if src is not None:
        shutil.copytree(src, job["dest"])
        fp, version = rel["fingerprint"], rel.get("cbec_sim_version", "")
    else:
        fp, version = write_world(job["seed"], job["n_orders"], Path(job["dest"]))
    world = cbec_sim.load(job["dest"])
    return {"trainee": job["trainee"], "fingerprint": fp, "n_orders": job["n_orders"],
            "cbec_sim_version": version, "passes": _run_checks(world, job["checks"])}


def _default_world():
    from graders import practice

    return practice.load_world(os.environ.get(practice.DATA_ENV)
                               or practice._default_dataset())


# -- simulate ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CohortResult:
    out: Path
    students: tuple[str, ...]
    truth: Path
    roster: Path
    variants: bool


def _check_out(out: Path, course: Path) -> None:
    check_output_folder(course, out, MARKER, "cbec cohort simulate")


def simulate(course: str | os.PathLike, assignment: str, n: int, out: str | os.PathLike, *,
             seed: int = 0, adversarial: float = 0.0, variants: bool | None = None,
             workers: int = 2, progress: Progress = _no_progress) -> CohortResult:
    """Write submissions of ``n`` synthetic trainees for ``assignment`` into ``out``.

    ``variants``: give every trainee their own ``data/`` derived from the course secret
    (default: when the course has a secret, as ``cbec course release`` does). Trainees the
    assignment was already released to get a copy of their released dataset (after its hash
    check) and the existing nbgrader release is reused, so simulating after a release does not
    build anything twice."""
    course, out = Path(course).resolve(), Path(out)
    if n < 1:
        raise VariantError(f"--n {n}: give at least one trainee")
    check_assignment(course, assignment)
    _check_out(out, course)
    secret = course_secret(course)
    if variants is None:
        variants = secret is not None
    if variants and secret is None:
        raise VariantError(f"no course secret for {course} ($CBEC_COURSE_SECRET or "
                           f"{course / '.cbec-secret'}); release with a roster first or "
                           "simulate without variants")
    with released_folder(course, assignment) as rel:
        notebooks = {p.stem: nbformat.read(p, as_version=4) for p in sorted(rel.glob("*.ipynb"))}
        others = [p for p in sorted(rel.rglob("*")) if p.is_file() and p.suffix != ".ipynb"]
        items = read_items(notebooks)
        manual = read_manual(notebooks)
        if not items:
            raise VariantError(f"{rel}: the released notebooks have no autograded items "
                               "(answer cells with cbec metadata)")
        plans = plan(items, n, seed, adversarial)
        staging = out / "submitted.partial"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        (out / MARKER).write_text("written by cbec cohort simulate; safe to delete\n",
                                  encoding="utf-8")
        for i, tp in enumerate(plans):
            folder = staging / tp.student / assignment
            folder.mkdir(parents=True)
            for f in others:
                dest = folder / f.relative_to(rel)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, dest)
            for name, nb in notebooks.items():
                mine = [r for r in tp.responses if r.item.notebook == name]
                nbformat.write(fill_notebook(nb, mine), folder / f"{name}.ipynb")
            minute = i % 60
            (folder / "timestamp.txt").write_text(
                f"2025-06-01 {10 + i // 60 % 12:02d}:{minute:02d}:00.000000 UTC\n",
                encoding="utf-8")
    records: list[dict] = []
    if variants:
        assert secret is not None
        n_orders = world_orders(course, assignment)
        # trainees already released with a roster: reuse their dataset (hash-checked in the
        # worker), as `cbec grade` does, instead of generating the same world again
        released = {t: r for t, r in read_variants(course, assignment).items()
                    if r.get("n_orders") == str(n_orders)}
        jobs = [{"trainee": tp.student, "seed": derive_seed(secret, tp.student, assignment),
                 "n_orders": n_orders, "checks": _checks(tp),
                 "released": released.get(tp.student),
                 "dest": str(staging / tp.student / assignment / DATA_DIR)} for tp in plans]
        records = run_jobs(_cohort_trainee, jobs, workers=workers, progress=progress,
                           desc=f"trainee datasets ({assignment})")
        passes = [r["passes"] for r in records]
    else:
        world = _default_world()
        passes = [_run_checks(world, _checks(tp))
                  for tp in progress(plans, len(plans), "answers")]
    final = out / "submitted"
    if final.exists():
        shutil.rmtree(final)
    staging.replace(final)
    truth = _write_truth(out / "truth.csv", plans, passes, manual)
    roster = out / "roster.csv"
    write_roster(roster, [Trainee(tp.student, "模拟", f"学员{tp.student[4:]}")
                          for tp in plans])
    vpath = out / "variants.csv"
    if records:
        with open(vpath, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=VARIANT_FIELDS, lineterminator="\n",
                               extrasaction="ignore")
            w.writeheader()
            w.writerows(records)
    elif vpath.exists():
        vpath.unlink()
    return CohortResult(out, tuple(tp.student for tp in plans), truth, roster, variants)


def _write_truth(path: Path, plans: list[TraineePlan], passes: list[list[bool]],
                 manual: Sequence[ManualCell] = ()) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=TRUTH_FIELDS, lineterminator="\n")
        w.writeheader()
        for tp, ok in zip(plans, passes, strict=True):
            theta = f"{tp.theta:.4f}"
            for r, passed in zip(tp.responses, ok, strict=True):
                nbg, sec = _scores(r, passed)
                w.writerow({"student": tp.student, "notebook": r.item.notebook,
                            "exercise": r.item.exercise.id, "theta": theta,
                            "outcome": r.adversarial or r.answer, "answer": r.answer,
                            "mistake": r.mistake or "", "points": f"{r.item.points:g}",
                            "nbgrader_points": f"{nbg:g}", "secure_points": f"{sec:g}"})
            for m in manual:  # left as released: nbgrader scores an unchanged answer 0
                w.writerow({"student": tp.student, "notebook": m.notebook, "exercise": m.id,
                            "theta": theta, "outcome": "blank", "answer": "blank",
                            "mistake": "", "points": f"{m.points:g}", "nbgrader_points": "0",
                            "secure_points": "0"})
    return path


def read_truth(path: str | os.PathLike) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
