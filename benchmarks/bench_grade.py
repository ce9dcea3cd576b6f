"""Grading speed, measured as ratios in one run (no timings in tests).

On the same simulated cohort (``--n`` trainees of 00-orientation, honest answers, personal
datasets), prints seconds per notebook for

1. plain sequential ``nbgrader autograde`` (one kernel per notebook, scoring in the kernel);
2. ``cbec grade`` with 1 worker and with ``--workers`` workers (default: CPU cores);

and the ratios: nbgrader / cbec (target ≥ 2.5× on a 2-core machine, ≤ 0.8 s per notebook) and
the scaling from 1 to N workers (near-linear up to the core count is the target). Both graders
start from identical copies of the course with the assignment already in the gradebook.

Run: ``.venv/bin/python benchmarks/bench_grade.py [--n 40] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

ASSIGNMENT = "00-orientation"


def prepare(root: Path, n: int) -> Path:
    """A course with a released assignment, n simulated submissions and their variants."""
    from graders import cohort, release
    from graders.demo import copy_course
    from graders.variants import ensure_secret

    course = copy_course(root / "course")
    ensure_secret(course)
    sim = cohort.simulate(course, ASSIGNMENT, n, root / "cohort", seed=1, variants=True)
    release.release(course, ASSIGNMENT, sim.roster, root / "release")
    shutil.copytree(sim.out / "submitted", course / "submitted")
    return course


def clone(course: Path, dest: Path) -> Path:
    shutil.copytree(course, dest, ignore=shutil.ignore_patterns("autograded", "feedback"))
    return dest


def time_nbgrader(course: Path) -> float:
    from graders.nbg import nbgrader_failure, run_nbgrader

    t = time.perf_counter()
    p = run_nbgrader(course, "autograde", ASSIGNMENT)
    if p.returncode != 0:
        raise SystemExit(f"nbgrader autograde failed: {nbgrader_failure(p)}")
    return time.perf_counter() - t


def time_cbec(course: Path, workers: int) -> float:
    from graders.grading.batch import grade_assignment

    t = time.perf_counter()
    grade_assignment(course, ASSIGNMENT, workers=workers)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="simulated trainees")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        root = Path(tmp)
        course = prepare(root, a.n)
        n_nb = a.n * len(list((course / "source" / ASSIGNMENT).glob("*.ipynb")))
        t_nbg = time_nbgrader(clone(course, root / "c-nbgrader"))
        t_one = time_cbec(clone(course, root / "c-cbec-1"), 1)
        t_many = time_cbec(clone(course, root / "c-cbec-n"), a.workers)
    print(f"[1] nbgrader autograde, sequential: {t_nbg / n_nb:.2f} s/notebook "
          f"({n_nb} notebooks, {t_nbg:.1f} s)")
    print(f"[2] cbec grade, 1 worker: {t_one / n_nb:.2f} s/notebook; {a.workers} workers: "
          f"{t_many / n_nb:.2f} s/notebook (target ≤ 0.8)")
    print(f"[3] cbec grade ({a.workers} workers) is {t_nbg / t_many:.1f}× faster than nbgrader "
          f"autograde (target ≥ 2.5×); scaling 1 → {a.workers} workers: "
          f"{t_one / t_many:.2f}× (ideal {a.workers}×)")


if __name__ == "__main__":
    main()
