"""Report pages behind ``cbec report`` (issue 10), built on :mod:`graders.analytics`.

* :mod:`~graders.reports.html` — reusable page shell: CSS (print rules included), escaping,
  tables, matplotlib charts as embedded PNG, an embedded CJK font subset (no tofu, no network);
* :mod:`~graders.reports.charts` — the report charts (stage bars, histogram, heat map,
  telemetry);
* :mod:`~graders.reports.data` — what a report reads from a course (gradebook, audit, practice
  log) with one-line :class:`ReportError`\\ s;
* :mod:`~graders.reports.trainee` — trainee competency reports (HTML + stage CSV);
* :mod:`~graders.reports.cohort` — the cohort dashboard (HTML + stage and item CSVs).

The two entry points below are what the CLI and ``cbec demo`` call.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from graders.analytics.competency import Mastery
from graders.reports.data import CourseData, ReportError, load_course

DEFAULT_OUT = "reports"  # inside the course folder
DEFAULT_MASTERY = Mastery()

__all__ = ["DEFAULT_OUT", "CourseData", "Mastery", "ReportError", "check_out",
           "cohort_dashboard", "load_course", "trainee_reports"]


def check_out(out: str | os.PathLike) -> Path:
    """``out`` as a folder we can write to (created when missing), else a ReportError."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ReportError(f"output folder {out} is a file; give a folder path with --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ReportError(f"cannot write to output folder {out}: "
                          f"{exc.strerror or exc}; choose another with --out") from None
    return out


def trainee_reports(course: str | os.PathLike, out: str | os.PathLike | None = None, *,
                    students: Iterable[str] | None = None, assignment: str | None = None,
                    mastery: Mastery = DEFAULT_MASTERY, db_url: str | None = None) -> list[Path]:
    """Trainee reports of ``students`` (default: all with scores) into ``out`` (default
    ``<course>/reports``)/trainees/; returns the HTML pages."""
    from graders.reports.trainee import write_reports

    data = load_course(course, assignments=[assignment] if assignment else None,
                       db_url=db_url)
    out = check_out(out if out is not None else Path(course) / DEFAULT_OUT)
    return write_reports(data, out, list(students) if students is not None else None, mastery)


def cohort_dashboard(course: str | os.PathLike, out: str | os.PathLike | None = None, *,
                     assignment: str | None = None, mastery: Mastery = DEFAULT_MASTERY,
                     db_url: str | None = None) -> dict[str, Path]:
    """The cohort dashboard of ``assignment`` (None: course-wide) into ``out`` (default
    ``<course>/reports``); returns ``{"html", "stages_csv", "items_csv"}`` paths."""
    from graders.reports.cohort import write_dashboard

    data = load_course(course, assignments=[assignment] if assignment else None,
                       db_url=db_url)
    out = check_out(out if out is not None else Path(course) / DEFAULT_OUT)
    return write_dashboard(data, out, assignment or "course", mastery)
