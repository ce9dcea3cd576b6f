"""Shared pieces of the exam tests (tests/test_exam_*.py): a small blueprint, a private course
folder with its own secret, and building an exam from them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SMALL = """\
id: small
title_cn: 测试考试
duration_minutes: 60
cut_score: 50
forms: {forms}
dataset: {{orders: 400}}
late: {late}
units:
  - {{id: data_analysis, weight: 0.4, items: 2, difficulty: [1, 3], cut_score: 50}}
  - {{id: logistics, weight: 0.2, items: 1, difficulty: [1, 2], cut_score: 50}}
  - {{id: b2b_trade, weight: 0.2, items: 1, difficulty: [1, 2], cut_score: 50}}
  - {{id: market_platform, weight: 0.2, items: 1, difficulty: [1, 2], cut_score: 50}}
"""
SECRET = "exam-test-secret-5d1c0f7e9a"


def small_blueprint(folder: Path, *, forms: int = 2,
                    late: str = "{policy: reject, grace_minutes: 5}") -> Path:
    p = folder / "small.yaml"
    p.write_text(SMALL.format(forms=forms, late=late), encoding="utf-8")
    return p


def private_course(folder: Path) -> Path:
    """A course folder with the kit's curriculum and its own secret file."""
    course = folder / "course"
    course.mkdir(parents=True)
    shutil.copyfile(ROOT / "course" / "curriculum.yaml", course / "curriculum.yaml")
    (course / "nbgrader_config.py").write_text("c = get_config()  # noqa\n", encoding="utf-8")
    (course / ".cbec-secret").write_text(SECRET + "\n", encoding="utf-8")
    os.chmod(course / ".cbec-secret", 0o600)
    return course


def candidates_csv(folder: Path, ids: list[str]) -> Path:
    p = folder / "candidates.csv"
    p.write_text("id,first_name\n" + "".join(f"{i},N{i}\n" for i in ids), encoding="utf-8")
    return p


def build_small(folder: Path, ids: list[str], **kw) -> tuple[Path, Path, dict]:
    """(exam dir, course dir, manifest) of a small exam built under ``folder``."""
    from graders.exam.forms import build

    os.environ.pop("CBEC_COURSE_SECRET", None)
    course = private_course(folder)
    bp = small_blueprint(folder, **kw)
    exam = folder / "exam"
    m = build(bp, candidates_csv(folder, ids), exam, course=course, session="t1", workers=2)
    return exam, course, m


def fill(exam: Path, cid: str, dest: Path, answers: dict[str, str],
         extra_cells: list[str] = (), setup: str | None = None) -> Path:
    """Write candidate ``cid``'s pack notebook with ``answers`` (q → code) to ``dest``."""
    nb = json.loads((exam / "packs" / cid / "exam.ipynb").read_text(encoding="utf-8"))
    for c in nb["cells"]:
        cb = c.get("metadata", {}).get("cbec", {})
        if cb.get("role") == "answer" and cb["item"] in answers:
            c["source"] = answers[cb["item"]]
        if cb.get("role") == "setup" and setup is not None:
            c["source"] = setup
    for i, src in enumerate(extra_cells):
        nb["cells"].insert(2 + i, {"cell_type": "code", "metadata": {}, "outputs": [],
                                   "execution_count": None, "id": f"extra-{i}", "source": src})
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    return dest
