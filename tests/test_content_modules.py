"""Released course modules meet the content guide's numbers and are graded end to end.

- ≥ 4 autograded items per stage a module teaches, over difficulty levels 1, 2 and 3;
- every Table 1 task of a stage is tagged once all modules teaching that stage are released
  (a stage shared with a planned module is checked when that module lands);
- released modules are built into notebooks/ and listed in the README;
- a simulated cohort of every released module is graded by `cbec grade` exactly as the
  simulator's answers say (secure points).
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from graders import exercises
from graders.curriculum import curriculum, standard

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
CUR = curriculum(COURSE)
RELEASED = [m for m in CUR.modules.values() if m.status == "released"]
TEACHING = [m for m in RELEASED if m.stages]


@pytest.mark.parametrize("module", TEACHING, ids=lambda m: m.id)
def test_items_per_stage_and_difficulty(module):
    items = exercises.for_module(module.id)
    for stage in module.stages:
        mine = [ex for ex in items if ex.stage == stage]
        assert len(mine) >= 4, f"{module.id}: {len(mine)} items for {stage}, need ≥ 4"
        assert {ex.difficulty for ex in mine} >= {1, 2, 3}, f"{module.id} {stage}"
        assert all(len(ex.mistakes) >= 2 and ex.hints for ex in mine)


def test_tasks_of_fully_released_stages_are_tagged():
    std = standard()
    by_stage: dict[str, set[str]] = defaultdict(set)
    for m in CUR.modules.values():
        for s in m.stages:
            by_stage[s].add(m.status)
    complete = [s for s, statuses in by_stage.items() if statuses == {"released"}]
    assert {f"5.{k}" for k in range(1, 19)} <= set(complete)  # every stage of the standard
    tagged = {t for ex in exercises.all_exercises() for t in ex.tasks}
    for stage in complete:
        primary = [t.id for t in std.tasks if t.stage == stage]
        missing = [t for t in primary if t not in tagged]
        assert not missing, f"stage {stage}: Table 1 tasks without an item: {missing}"


@pytest.mark.parametrize("module", RELEASED, ids=lambda m: m.id)
def test_released_module_is_built_and_listed(module):
    built = sorted(p.name for p in (ROOT / "notebooks" / module.id).glob("*.ipynb"))
    source = sorted(p.name for p in (COURSE / "source" / module.id).glob("*.ipynb"))
    assert built and built == source
    assert module.id in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.slow
# their own group: the other xdist worker runs them beside the "kernels" group (one module's
# cohort at a time there), which keeps `make test` well under 20 minutes on 2 cores
@pytest.mark.xdist_group("module-cohorts")
@pytest.mark.parametrize("module", [m.id for m in TEACHING])
def test_cohort_is_graded_by_cbec_grade_as_simulated(module, tmp_path):
    from graders import cells, cohort, release
    from graders.demo import copy_course
    from graders.grading.batch import grade_assignment
    from graders.variants import ensure_secret

    course = copy_course(tmp_path / "course", module)
    ensure_secret(course)
    sim = cohort.simulate(course, module, 2, tmp_path / "cohort", seed=3, variants=True)
    release.release(course, module, sim.roster, tmp_path / "release")
    shutil.copytree(sim.out / "submitted", course / "submitted")
    grades = grade_assignment(course, module, workers=2, write=False)
    got = {(g.student, i.grade_id): i.points for g in grades for i in g.items}
    for row in cohort.read_truth(sim.truth):
        if "judgement" in row["exercise"]:
            continue
        key = (row["student"], cells.grade_id(row["exercise"]))
        assert got.get(key) == float(row["secure_points"]), (key, row["outcome"], got.get(key))
