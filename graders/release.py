"""Releasing an assignment: nbgrader's release plus one personal dataset per trainee.

``release(course, assignment, roster)`` runs the real ``nbgrader generate_assignment`` (so
``release/<assignment>/`` and the gradebook are exactly what nbgrader makes), adds the roster's
trainees to the gradebook and then writes, for every trainee::

    <out>/<assignment>/<trainee>/          the released notebooks and files + data/ (their world)
    <out>/<assignment>/<trainee>.zip       the same folder as one zip (upload it to the LMS)

and the instructor-only record ``<course>/variants/<assignment>.csv`` (trainee, dataset
fingerprint = sha256 of the dataset's manifest.json, orders, simulator version — never the seed).
The seed of a trainee's world is derived from the course secret (:mod:`graders.variants`), so
:func:`trainee_world` re-creates exactly the dataset the trainee received, for grading.

Nothing is written into ``<course>/source/``: nbgrader's autograde copies every non-notebook file
of the source folder over each submission, so per-trainee data must never live there. A
submitted ``data/`` folder that the source folder does not have is kept, and autograde runs the
notebooks inside the trainee's folder, where ``practice.load_world()`` finds ``./data``.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from graders.nbg import gradebook_url, nbgrader_failure, run_nbgrader
from graders.variants import (
    SECRET_ENV,
    Trainee,
    VariantError,
    check_output_folder,
    course_secret,
    derive_seed,
    ensure_secret,
    id_problem,
    module_ids,
    read_roster,
    world_orders,
)

DEFAULT_OUT = "release-trainees"
VARIANTS_DIR = "variants"
DATA_DIR = "data"
MARKER = ".cbec-release"
VARIANT_FIELDS = ("trainee", "fingerprint", "n_orders", "cbec_sim_version")
# Optional column: where the release wrote the trainee's dataset (the grader reuses it after
# checking every file's sha256 against the fingerprinted manifest, instead of re-deriving).
RECORD_FIELDS = (*VARIANT_FIELDS, "dataset")
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)

Progress = Callable[[Iterable[Any], int, str], Iterator[Any]]


def _no_progress(items: Iterable[Any], total: int, desc: str) -> Iterator[Any]:
    yield from items


def check_assignment(course: Path, assignment: str) -> Path:
    """``<course>/source/<assignment>`` after checking the name, else a one-line error."""
    problem = id_problem(assignment)
    if problem or assignment in ("..",):
        raise VariantError(f"assignment name {assignment!r} {problem or 'is not valid'}; give "
                           "a module id such as 00-orientation")
    known = module_ids(course)
    if known is not None and assignment not in known:
        raise VariantError(f"unknown assignment {assignment!r}: not a module of "
                           f"{course / 'curriculum.yaml'} (modules: {', '.join(known)})")
    src = course / "source" / assignment
    if not src.is_dir():
        raise VariantError(f"no source folder {src}; write the master notebooks there first")
    if not any(src.glob("*.ipynb")):
        raise VariantError(f"source folder {src} has no notebooks; write the master notebooks "
                           "there first")
    if (src / DATA_DIR).exists():
        raise VariantError(f"{src / DATA_DIR}: a data folder in the source folder would be "
                           "copied over every trainee's own data at autograde; remove it")
    return src


def generate_assignment(course: Path, assignment: str) -> Path:
    """Run ``nbgrader generate_assignment <assignment> --force`` in ``course``; return the
    released folder ``<course>/release/<assignment>``."""
    p = run_nbgrader(course, "generate_assignment", assignment, "--force")
    if p.returncode != 0:
        raise VariantError(f"nbgrader generate_assignment {assignment} failed in {course}: "
                           f"{nbgrader_failure(p)}")
    out = course / "release" / assignment
    if not out.is_dir():
        raise VariantError(f"nbgrader generate_assignment wrote no {out}; check the course's "
                           "nbgrader_config.py (release_directory)")
    return out


def add_students(course: Path, trainees: Iterable[Trainee]) -> None:
    """Create or update the trainees as nbgrader students of the course's gradebook."""
    from nbgrader.api import Gradebook

    url, course_id = gradebook_url(course)
    with Gradebook(url, course_id) as gb:
        for t in trainees:
            gb.update_or_create_student(t.id, **t.gradebook_fields())


# -- datasets ----------------------------------------------------------------------------------
def fingerprint(dataset: Path) -> str:
    """sha256 of a dataset's manifest.json (which lists every file's sha256)."""
    return hashlib.sha256((Path(dataset) / "manifest.json").read_bytes()).hexdigest()


def verified_dataset(path: str | os.PathLike | None, fp: str) -> Path | None:
    """``path`` when it holds a dataset whose manifest has fingerprint ``fp`` and whose every
    file matches the manifest's sha256, else None (missing, edited or foreign)."""
    if not path:
        return None
    import cbec_sim

    p = Path(path)
    try:
        if not (p / "manifest.json").is_file() or fingerprint(p) != fp:
            return None
        cbec_sim.load(p, verify=True)
    except (OSError, ValueError):
        return None
    return p


def write_world(seed: int, n_orders: int, dest: Path) -> tuple[str, str]:
    """Generate a world and write it for a trainee (no labels, no seed).
    Returns ``(fingerprint, simulator version)``."""
    import cbec_sim

    world = cbec_sim.generate(n_orders, rng=seed)
    world.to_parquet(dest, with_labels=False, include_seed=False)
    return fingerprint(dest), str(world.meta.get("cbec_sim_version", ""))


def zip_folder(folder: Path, zip_path: Path, arcroot: str) -> None:
    """A reproducible zip of ``folder`` whose entries start with ``arcroot/``."""
    tmp = zip_path.with_name(zip_path.name + ".partial")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{arcroot}/{f.relative_to(folder).as_posix()}", _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, f.read_bytes())
    tmp.replace(zip_path)


def _build_trainee(job: dict[str, Any]) -> dict[str, Any]:
    """Worker: copy the released assignment, add the trainee's data/, zip it."""
    dest = Path(job["dest"])
    shutil.copytree(job["released"], dest)
    fp, version = write_world(job["seed"], job["n_orders"], dest / DATA_DIR)
    zip_folder(dest, dest.with_name(dest.name + ".zip"), job["assignment"])
    return {"trainee": job["trainee"], "fingerprint": fp, "n_orders": job["n_orders"],
            "cbec_sim_version": version}


def run_jobs(fn: Callable[[dict], dict], jobs: list[dict], *, workers: int = 2,
             progress: Progress = _no_progress, desc: str = "") -> list[dict]:
    """Run ``fn`` over ``jobs`` in ``workers`` processes (spawned: safe with Arrow threads);
    results in job order."""
    if workers <= 1 or len(jobs) <= 1:
        return [fn(j) for j in progress(jobs, len(jobs), desc)]
    results: list[dict | None] = [None] * len(jobs)
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                             mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(fn, j): i for i, j in enumerate(jobs)}
        for fut in progress(as_completed(futures), len(futures), desc):
            results[futures[fut]] = fut.result()
    return [r for r in results if r is not None]


# -- variants record ---------------------------------------------------------------------------
def variants_path(course: Path, assignment: str) -> Path:
    return course / VARIANTS_DIR / f"{assignment}.csv"


def read_variants(course: Path, assignment: str) -> dict[str, dict[str, str]]:
    """The instructor-only record of released datasets, by trainee id (empty when none)."""
    p = variants_path(course, assignment)
    if not p.is_file():
        return {}
    with open(p, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if rows and not set(VARIANT_FIELDS) <= set(rows[0]):
        raise VariantError(f"{p}: expected columns {', '.join(VARIANT_FIELDS)}; restore it or "
                           "release the assignment again")
    return {r["trainee"]: r for r in rows}


def _write_variants(course: Path, assignment: str, rows: list[dict[str, Any]]) -> Path:
    p = variants_path(course, assignment)
    p.parent.mkdir(parents=True, exist_ok=True)
    merged = read_variants(course, assignment)
    merged.update({r["trainee"]: {k: r.get(k, "") for k in RECORD_FIELDS} for r in rows})
    tmp = p.with_suffix(".csv.partial")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=RECORD_FIELDS, lineterminator="\n",
                           extrasaction="ignore")
        w.writeheader()
        for tid in sorted(merged):
            w.writerow(merged[tid])
    tmp.replace(p)
    return p


def trainee_world(course: str | os.PathLike, assignment: str, trainee: str):
    """Re-derive the exact dataset ``trainee`` received for ``assignment`` (as the trainee's
    notebook loads it) and check it against the fingerprint recorded at release."""
    import cbec_sim

    course = Path(course)
    secret = course_secret(course)
    if secret is None:
        raise VariantError(f"no course secret for {course} (${SECRET_ENV} or "
                           f"{course / '.cbec-secret'}); trainee datasets cannot be re-derived")
    rec = read_variants(course, assignment).get(trainee)
    if rec is None:
        raise VariantError(f"{variants_path(course, assignment)}: no dataset recorded for "
                           f"trainee {trainee!r}; release {assignment} with a roster listing them")
    seed = derive_seed(secret, trainee, assignment)
    with tempfile.TemporaryDirectory(prefix="cbec-world-") as tmp:
        fp, version = write_world(seed, int(rec["n_orders"]), Path(tmp) / DATA_DIR)
        if fp != rec["fingerprint"]:
            raise VariantError(
                f"{variants_path(course, assignment)}: trainee {trainee!r}'s dataset cannot be "
                f"re-derived (fingerprint differs; released with cbec_sim "
                f"{rec['cbec_sim_version']}, now {version}): the course secret or the simulator "
                "changed since the release")
        return cbec_sim.load(Path(tmp) / DATA_DIR, lazy=False)  # the folder goes away


# -- release -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReleaseResult:
    released: Path  # <course>/release/<assignment>
    trainees: tuple[str, ...] = ()
    out: Path | None = None  # <out>/<assignment>
    variants: Path | None = None  # <course>/variants/<assignment>.csv
    secret_created: Path | None = None


def _check_out(course: Path, out: Path, assignment: str) -> Path:
    target = out / assignment
    if target.resolve() == (course / "release" / assignment).resolve():
        raise VariantError(f"--out {out} would overwrite nbgrader's release folder; choose "
                           f"another folder (default: {course / DEFAULT_OUT})")
    check_output_folder(course, target, MARKER, "cbec course release")
    return target


def release(course: str | os.PathLike, assignment: str, roster: str | os.PathLike | None = None,
            out: str | os.PathLike | None = None, *, workers: int = 2,
            progress: Progress = _no_progress) -> ReleaseResult:
    """Release ``assignment`` with nbgrader and, with a roster, one personal copy per trainee.

    Without a roster only nbgrader's release is made; its notebooks then load the course's
    default dataset (self-study)."""
    course = Path(course).resolve()
    check_assignment(course, assignment)
    trainees = read_roster(roster) if roster is not None else []
    target = None
    if trainees:
        target = _check_out(course, Path(out) if out else course / DEFAULT_OUT, assignment)
        n_orders = world_orders(course, assignment)
    released = generate_assignment(course, assignment)
    if not trainees:
        return ReleaseResult(released)
    assert target is not None
    add_students(course, trainees)
    secret, created = ensure_secret(course)
    staging = target.with_name(f".{assignment}.partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    (staging / MARKER).write_text("written by cbec course release; safe to delete\n",
                                  encoding="utf-8")
    jobs = [{"trainee": t.id, "assignment": assignment, "released": str(released),
             "dest": str(staging / t.id), "n_orders": n_orders,
             "seed": derive_seed(secret, t.id, assignment)} for t in trainees]
    try:
        rows = run_jobs(_build_trainee, jobs, workers=workers, progress=progress,
                        desc=f"trainee datasets ({assignment})")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    staging.replace(target)
    for r in rows:
        r["dataset"] = str((target / r["trainee"] / DATA_DIR).resolve())
    record = _write_variants(course, assignment, rows)
    return ReleaseResult(released, tuple(t.id for t in trainees), target, record,
                         course / ".cbec-secret" if created else None)
