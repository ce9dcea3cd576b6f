"""What grading produces, as plain dataclasses shared by the scorer, the gradebook writer,
feedback pages, audit records and reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ITEM_KINDS = ("cbec", "assert", "manual")


@dataclass
class ItemScore:
    """One graded cell of one notebook."""

    notebook: str  # notebook name without .ipynb
    grade_id: str  # nbgrader grade_id of the graded cell
    kind: str  # "cbec" (scored out of kernel) | "assert" (plain nbgrader test) | "manual"
    max_points: float
    points: float | None  # None: waits for manual grading
    status: str  # cbec: Result.status; assert: "passed" | "failed" | "partial"; "manual"
    message: str = ""  # safe feedback: no expected values, no hidden test code
    exercise: str | None = None  # cbec exercise id
    mistake: str | None = None  # known mistake recognised


@dataclass
class NotebookGrade:
    """The grade of one submitted notebook, with what is needed to audit it."""

    student: str
    assignment: str
    notebook: str
    status: str  # run status ("ok", "timeout", …) or an integrity status ("missing", …)
    diagnosis: str = ""  # one line when status is not "ok"
    items: list[ItemScore] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # integrity findings (repaired cells …)
    submission_sha256: str = ""
    dataset_hash: str = ""  # sha256 of the dataset manifest (never the seed)
    started: str = ""  # ISO 8601 UTC
    finished: str = ""
    seconds: float = 0.0
    worker: str = ""
    versions: dict[str, str] = field(default_factory=dict)  # grader and package versions
    checks: list[dict[str, Any]] = field(default_factory=list)  # visible checks: id, ok, text

    @property
    def score(self) -> float:
        return float(sum(i.points or 0.0 for i in self.items))

    @property
    def max_score(self) -> float:
        return float(sum(i.max_points for i in self.items))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
