"""`cbec course coverage`: items and points per stage (5.1–5.18) and per Table 1 task."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from graders import coverage as cov_lib
from graders import exercises as registry
from graders.cli import main
from graders.curriculum import standard

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"


def _json(capsys, *args) -> dict:
    capsys.readouterr()
    assert main(["course", "coverage", "--json", *map(str, args)]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_has_every_stage_and_task(capsys):
    data = _json(capsys, "--course", COURSE)
    std = standard()
    assert list(data) == ["stages", "tasks"]
    assert list(data["stages"]) == [f"5.{k}" for k in range(1, 19)]
    assert list(data["tasks"]) == std.task_ids and len(data["tasks"]) == 113
    for tally in [*data["stages"].values(), *data["tasks"].values()]:
        assert set(tally) == {"items", "points"}
        assert isinstance(tally["items"], int) and tally["items"] >= 0
        assert isinstance(tally["points"], int | float) and tally["points"] >= 0
        assert (tally["items"] == 0) == (tally["points"] == 0)


def test_real_course_counts_match_its_exercises(capsys):
    data = _json(capsys, "--course", COURSE)
    placed = cov_lib.in_course(COURSE)
    assert sum(t["items"] for t in data["stages"].values()) == len(placed)
    assert sum(t["points"] for t in data["stages"].values()) == pytest.approx(
        sum(ex.points for ex in placed))
    for ex in placed:
        assert data["stages"][ex.stage]["items"] >= 1
        for t in ex.tasks:
            assert data["tasks"][t]["items"] >= 1


def _ex(id_: str, stage: str, tasks: tuple[str, ...], points: float):
    return dataclasses.replace(registry.all_exercises()[0], id=id_, stage=stage, tasks=tasks,
                               points=points)


def test_counts_per_stage_and_task():
    items = [_ex("13.01.a", "5.13", ("6.1.1", "7.2.1"), 2),
             _ex("13.01.b", "5.13", ("6.1.1", "6.1.1"), 1.5),  # a task counted once per item
             _ex("14.01.c", "5.14", ("7.2.1",), 3),
             _ex("14.01.d", "5.99", ("no.such",), 1)]  # unknown tags: ignored here, linted
    assert {"6.1.1", "7.2.1"} <= set(standard().task_ids)
    cov = cov_lib.coverage(items)
    data = cov.as_json()
    assert data["stages"]["5.13"] == {"items": 2, "points": 3.5}
    assert data["stages"]["5.14"] == {"items": 1, "points": 3}
    assert data["tasks"]["6.1.1"] == {"items": 2, "points": 3.5}
    assert data["tasks"]["7.2.1"] == {"items": 2, "points": 5}
    assert cov.items == 4 and cov.points == 7.5
    assert "5.1" in cov.uncovered_stages and "5.13" not in cov.uncovered_stages
    assert len(cov.uncovered_tasks) == 113 - 2
    text = cov_lib.render(cov)
    assert "Uncovered stages (16/18)" in text and "Uncovered tasks (111/113)" in text
    assert "市场调研" in text  # Chinese titles from standard.yaml


def test_only_items_whose_notebook_is_in_the_course_count(tmp_path, capsys):
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy2(COURSE / "nbgrader_config.py", course)
    empty = _json(capsys, "--course", course)
    assert all(t["items"] == 0 for t in empty["stages"].values())
    module = registry.modules()[0]
    number = registry.for_module(module)[0].notebook
    (course / "source" / module).mkdir()
    nbformat.write(nbformat.v4.new_notebook(), course / "source" / module / f"{number}-X.ipynb")
    data = _json(capsys, "--course", course)
    want = registry.for_notebook(number)
    assert sum(t["items"] for t in data["stages"].values()) == len(want)
    capsys.readouterr()
    assert main(["course", "coverage", "--course", str(course)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Coverage of T/CCPITCSC 111-2022 by {len(want)} autograded item(s)")
    assert "Uncovered tasks" in out
