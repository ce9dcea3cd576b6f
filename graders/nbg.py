"""Running nbgrader from the kit: one place for its environment, invocation and errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader subprocesses: this Python's bin folder first on PATH
    (nbgrader runs ``alembic`` from PATH when it creates a gradebook)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_nbgrader(course: Path, *args: str, timeout: float | None = None
                 ) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in ``course`` with this Python; output is captured."""
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                          env=nbgrader_env(), capture_output=True, text=True, timeout=timeout)


def nbgrader_failure(p: subprocess.CompletedProcess) -> str:
    """The most useful single line of a failed nbgrader run (validation errors first)."""
    lines = [ln.strip() for ln in (p.stderr + "\n" + p.stdout).splitlines() if ln.strip()]
    validation = [ln for ln in lines if "ValidationError:" in ln]
    errors = [ln for ln in lines if "ERROR" in ln or "Error" in ln]
    msg = validation[0] if validation else (errors or lines or [f"exit {p.returncode}"])[-1]
    return " ".join(msg.split())[:300]


def nbgrader_config(course: Path):
    """The course's ``nbgrader_config.py`` as a traitlets Config."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()


def gradebook_url(course: Path) -> tuple[str, str]:
    """``(db_url, course_id)`` of the course's nbgrader gradebook."""
    cfg = nbgrader_config(course).get("CourseDirectory", {})
    url = cfg.get("db_url") or f"sqlite:///{(Path(course) / 'gradebook.db').resolve()}"
    return str(url), str(cfg.get("course_id") or "default_course")


def gradebook_scores(course: Path, assignment: str) -> dict[tuple[str, str], float]:
    """``{(student, grade_id): score}`` of every graded cell of ``assignment``."""
    from nbgrader.api import Gradebook

    url, course_id = gradebook_url(course)
    out: dict[tuple[str, str], float] = {}
    with Gradebook(url, course_id) as gb:
        for sub in gb.assignment_submissions(assignment):
            for nb in sub.notebooks:
                for g in nb.grades:
                    out[(sub.student.id, g.name)] = float(g.score)
    return out
