"""The curriculum map and the nbgrader course configuration are consistent and loadable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"


def _standard() -> dict:
    return yaml.safe_load((ROOT / "graders" / "data" / "standard.yaml").read_text("utf-8"))


def test_standard_data_file_is_complete():
    std = _standard()
    assert [s["id"] for s in std["stages"]] == [f"5.{k}" for k in range(1, 19)]
    ids = [t["id"] for t in std["tasks"]]
    assert len(ids) == len(set(ids)) == 113  # 111 numbered rows + 2.3(a), 2.3(b)
    assert {"1.1.4", "7.2.3", "7.1/7.6", "2.3(a)", "9.1.3.3", "11.4.6"} <= set(ids)
    stages = {s["id"] for s in std["stages"]}
    assert all(t["stage"] in stages for t in std["tasks"])
    assert all(t["title_cn"] for t in std["tasks"])


def test_curriculum_references_real_stages_and_modules():
    cur = yaml.safe_load((COURSE / "curriculum.yaml").read_text("utf-8"))
    stages = {s["id"] for s in _standard()["stages"]}
    covered = [s for u in cur["competency_units"] for s in u["stages"]]
    assert sorted(covered, key=lambda s: int(s.split(".")[1])) == sorted(
        stages, key=lambda s: int(s.split(".")[1])), "every stage in exactly one unit"
    for m in cur["modules"]:
        assert set(m["stages"]) <= stages, m["id"]
        assert m["status"] in {"planned", "released"}
        if m["status"] == "released":
            assert (COURSE / "source" / m["id"]).is_dir(), m["id"]


def test_real_nbgrader_loads_the_course_config(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(COURSE, course)
    # nbgrader runs `alembic` from PATH: put this interpreter's scripts folder first
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
           f"{os.environ.get('PATH', '')}"}
    p = subprocess.run([sys.executable, "-m", "nbgrader", "db", "assignment", "list"],
                       cwd=course, capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    assert (course / "gradebook.db").is_file()


def test_curriculum_library_reads_the_same_files():
    from graders.curriculum import curriculum, standard

    std, raw = standard(), _standard()
    assert std.stage_ids == [s["id"] for s in raw["stages"]]
    assert std.task_ids == [t["id"] for t in raw["tasks"]]
    cur = curriculum(COURSE)
    raw_cur = yaml.safe_load((COURSE / "curriculum.yaml").read_text("utf-8"))
    assert list(cur.units) == [u["id"] for u in raw_cur["competency_units"]]
    assert list(cur.modules) == [m["id"] for m in raw_cur["modules"]]


def test_exercise_tags_are_in_the_curriculum():
    """Every registered exercise's module, stage, tasks and unit exist (course check lints the
    same, with messages for authors)."""
    from graders import exercises
    from graders.curriculum import curriculum, standard

    std, cur = standard(), curriculum(COURSE)
    for ex in exercises.all_exercises():
        module = exercises.module_of(ex.id)
        assert module in cur.modules, f"{module} missing from curriculum.yaml"
        assert ex.unit in cur.units, ex.id
        assert ex.stage in std.stage_ids, ex.id
        assert set(ex.tasks) <= set(std.task_ids), ex.id
        stages = cur.modules[module].stages
        assert not stages or ex.stage in stages, ex.id


def test_broken_curriculum_is_reported_in_one_line(tmp_path):
    import pytest

    from graders.course_check import check_course
    from graders.curriculum import CurriculumError, curriculum

    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy2(COURSE / "nbgrader_config.py", course)
    (course / "curriculum.yaml").write_text("modules: [\n", encoding="utf-8")
    with pytest.raises(CurriculumError, match=r"curriculum.yaml line \d+: not valid YAML"):
        curriculum(course)
    (course / "curriculum.yaml").write_text("modules:\n  - title_cn: x\n", encoding="utf-8")
    with pytest.raises(CurriculumError, match=r"modules\[0\] has no 'id' field"):
        curriculum(course)
    report = check_course(course, seeds=1)
    assert any("curriculum.yaml" in p and "'id'" in p for p in report.course_problems)
    assert all("\n" not in p for p in report.problems)
