"""Secure execution of submitted notebooks for ``cbec grade`` (issue 7, execution core).

* :func:`run_notebook` (``run.py``) — copy a submission into a scratch job directory, execute it
  in a sandbox, return a :class:`RunResult` with per-cell outcomes and the captured answers;
* ``sandbox.py`` — bubblewrap sandbox, rlimits, timeout kill, and the documented fallback;
* ``child.py`` — the process that runs the cells (``python -m graders.grading.child``);
* ``capture.py`` — answers ⇄ plain data (JSON + Parquet, never pickle).

Kept import-light: the child imports this package before running any cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graders.grading.run import CellResult, RunResult, run_notebook

__all__ = ["CellResult", "RunResult", "run_notebook"]


def __getattr__(name: str):
    if name in __all__:
        from graders.grading import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
