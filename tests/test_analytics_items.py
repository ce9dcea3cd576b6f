"""Item analysis against hand-computed values, edge cases, and a simulated cohort with known
item difficulties (harder items must come out with lower facility)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from _course import ASSIGNMENT, make_course

from graders import cohort
from graders.analytics import items as I

# 4 trainees × 3 dichotomous items (a Guttman pattern):
#        i1 i2 i3 | T
#   s1    1  1  1 | 3
#   s2    1  1  0 | 2
#   s3    1  0  0 | 1
#   s4    0  0  0 | 0
M = pd.DataFrame({"i1": [1, 1, 1, 0], "i2": [1, 1, 0, 0], "i3": [1, 0, 0, 0]},
                 index=pd.Index(["s1", "s2", "s3", "s4"], name="student"), dtype=float)


def test_cronbach_alpha_by_hand():
    # variances with ddof = 1:
    #   i1: mean .75, squared deviations .0625·3 + .5625 = .75 → .75/3 = .25
    #   i2: mean .5,  squared deviations .25·4 = 1            → 1/3
    #   i3: mean .25, mirror image of i1                      → .25
    #   Σσ²ᵢ = .25 + 1/3 + .25 = 5/6
    #   T = 3,2,1,0: mean 1.5, squared deviations 2.25+.25+.25+2.25 = 5 → σ²ₜ = 5/3
    #   α = 3/2 · (1 − (5/6)/(5/3)) = 1.5 · (1 − .5) = 0.75
    a = I.cronbach_alpha(M)
    assert math.isclose(a.value, 0.75) and (a.k, a.n, a.reason) == (3, 4, "")
    # α if i1 deleted: i2, i3 → Σσ² = 1/3 + 1/4 = 7/12; T' = 2,1,0,0: mean .75,
    # squared deviations 1.5625+.0625+.5625+.5625 = 2.75 → 11/12; α = 2·(1 − 7/11) = 8/11
    ia = I.item_analysis(M).set_index("item")
    assert math.isclose(ia.loc["i1", "alpha_if_deleted"], 8 / 11)


def test_point_biserial_and_corrected_item_total_by_hand():
    ia = I.item_analysis(M).set_index("item")
    # i1 against T: p = .75, q = .25; mean T of the 1s M₁ = (3+2+1)/3 = 2, of the 0s M₀ = 0;
    # population s.d. of T = √(5/4); r_pb = (M₁ − M₀)/s · √(pq) = 2/√1.25 · √.1875 = √.6
    assert math.isclose(ia.loc["i1", "point_biserial"], math.sqrt(0.6))  # 0.7746
    # corrected: T − i1 = 2,1,0,0 (mean .75); Σdx·dy = .25·1.25 + .25·.25 + .25·(−.75)
    #   + (−.75)·(−.75) = .75; Sxx = .75, Syy = 2.75 → r = .75/√(.75·2.75) = √(.75/2.75)
    assert math.isclose(ia.loc["i1", "corrected_item_total"], math.sqrt(0.75 / 2.75))  # 0.5222
    assert math.isclose(ia.loc["i2", "facility"], 0.5)
    # n = 4: groups of max(1, round(.27·4)) = 1 trainee: top s1, bottom s4 → D = 1 − 0
    assert ia["upper_lower"].tolist() == [1.0, 1.0, 1.0]


def test_upper_lower_27_percent_by_hand():
    # 10 trainees: groups of round(2.7) = 3. Totals 0..9 in order; item right for trainees
    # with totals 9, 7, 6 (top three: 9, 8, 7 → 1, 0, 1) and 1 (bottom three: 0, 1, 2 → 0, 1, 0)
    total = np.arange(10.0)
    item = np.array([0, 1, 0, 0, 0, 0, 1, 1, 0, 1], dtype=float)
    d, why = I.upper_lower(item, total)
    assert why == "" and math.isclose(d, 2 / 3 - 1 / 3)


def test_flags_with_default_and_custom_thresholds():
    # 6 trainees: e is right for everyone but one (facility 5/6 ≈ .83), h right only for the
    # weakest (facility 1/6, negative discrimination), g a good item, f fine.
    m = pd.DataFrame({
        "e": [1, 1, 1, 1, 1, 0],
        "g": [1, 1, 1, 0, 0, 0],
        "f": [1, 1, 0, 1, 0, 0],
        "h": [0, 0, 0, 0, 0, 1],
    }, index=[f"s{i}" for i in range(6)], dtype=float)
    ia = I.item_analysis(m).set_index("item")
    assert ia.loc["h", "flags"] == "too_hard;negative_discrimination"
    assert ia.loc["g", "flags"] == "" and ia.loc["g", "warnings"] == ""
    assert ia.loc["e", "flags"] == ""  # .83 is not above .9
    strict = I.item_analysis(m, I.Thresholds(easy=0.8, hard=0.1, low=0.9)).set_index("item")
    assert strict.loc["e", "flags"] == "too_easy"
    assert strict.loc["h", "flags"] == "negative_discrimination"  # 1/6 is not below .1
    assert "low_discrimination" in strict.loc["g", "warnings"]


def test_edge_cases_give_nan_with_a_reason_and_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        const = M.assign(c=1.0)  # zero-variance item
        ia = I.item_analysis(const).set_index("item")
        assert math.isnan(ia.loc["c", "point_biserial"])
        assert "zero variance" in ia.loc["c", "reason"]
        assert ia.loc["c", "facility"] == 1.0 and ia.loc["c", "flags"] == "too_easy"
        two = I.item_analysis(M.iloc[:2]).set_index("item")  # n < 3
        assert two["corrected_item_total"].isna().all()
        assert two["reason"].str.contains("fewer than 3 trainees").all()
        assert "fewer than 3" in I.cronbach_alpha(M.iloc[:2]).reason
        empty = M.assign(x=np.nan)  # an item nobody has a score on
        ie = I.item_analysis(empty).set_index("item")
        assert ie.loc["x", "n"] == 0 and ie.loc["x", "reason"].startswith("no scores")
        a = I.cronbach_alpha(empty)
        assert math.isclose(a.value, 0.75) and "1 item(s) without scores" in a.reason
        assert "needs at least 2 items" in I.cronbach_alpha(M[["i1"]]).reason
        flat = pd.DataFrame({"a": [1.0] * 4, "b": [0.0] * 4})
        assert "zero variance" in I.cronbach_alpha(flat).reason
        allnan = pd.DataFrame({"a": [np.nan] * 3, "b": [np.nan] * 3})
        assert math.isnan(I.cronbach_alpha(allnan).value)
        assert I.item_analysis(allnan)["facility"].isna().all()
        holes = M.copy()
        holes.loc["s1", "i2"] = np.nan  # one missing score: listwise for α
        assert I.cronbach_alpha(holes).n == 3
        assert I.item_analysis(holes).set_index("item").loc["i2", "n"] == 3


def test_score_matrix_from_a_long_table():
    long = pd.DataFrame({
        "student": ["a", "a", "a", "b", "b", "b"], "assignment": ["x"] * 6,
        "notebook": ["nb"] * 6, "grade_id": ["00-02-gmv_cny", "q-2", "zero"] * 2,
        "exercise": pd.array(["00.02.gmv_cny", None, None] * 2, dtype="string"),
        "score": [2.0, 1.0, 0.0, 1.0, 0.0, 0.0], "max_score": [2.0, 4.0, 0.0] * 2,
        "needs_manual_grade": [False, False, False, False, True, False]})
    m = I.score_matrix(long)
    assert list(m.columns) == ["00.02.gmv_cny", "q-2"]  # max 0 left out; grade id fallback
    assert m.loc["a"].tolist() == [1.0, 0.25]
    assert m.loc["b", "00.02.gmv_cny"] == 0.5 and math.isnan(m.loc["b", "q-2"])  # pending
    assert I.score_matrix(long, include_manual_pending=True).loc["b", "q-2"] == 0.0


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """The real course's orientation module in a tmp copy: its autograded items and the plan
    of 200 trainees (the 1PL model of graders.cohort, variants off)."""
    tmp = tmp_path_factory.mktemp("cohort")
    course = make_course(tmp, use_real=True)
    with cohort.released_folder(course, ASSIGNMENT) as rel:
        import nbformat

        nbs = {p.stem: nbformat.read(p, as_version=4) for p in sorted(rel.glob("*.ipynb"))}
        items = cohort.read_items(nbs)
    return course, tmp, items


def _secure_matrix(plans) -> pd.DataFrame:
    """Fraction of points per (trainee, item): a correct answer passes the hidden test (its
    code is the exercise's solution), anything else scores 0."""
    rows = {tp.student: {r.item.exercise.id: float(r.answer == "correct") for r in tp.responses}
            for tp in plans}
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()


def test_plan_scores_are_simulate_truth_secure_points(simulated):
    """The 200-trainee check below scores the plan directly (simulate runs every answer in
    process: ~0.7 s per trainee); here simulate's truth.csv confirms that shortcut."""
    course, tmp, items = simulated
    res = cohort.simulate(course, ASSIGNMENT, 6, tmp / "sim", seed=3, variants=False)
    truth = pd.DataFrame(cohort.read_truth(res.truth))
    truth = truth[truth["exercise"].isin([it.exercise.id for it in items])]
    frac = (truth["secure_points"].astype(float) / truth["points"].astype(float)).to_numpy()
    got = truth.assign(frac=frac).pivot(index="student", columns="exercise", values="frac")
    want = _secure_matrix(cohort.plan(items, 6, seed=3))
    pd.testing.assert_frame_equal(got.reindex(columns=want.columns), want,
                                  check_names=False)


def test_simulated_cohort_facility_follows_difficulty(simulated):
    _, _, items = simulated
    m = _secure_matrix(cohort.plan(items, 200, seed=11))
    assert m.shape == (200, len(items))
    ia = I.item_analysis(m)
    diff = {it.exercise.id: it.exercise.difficulty for it in items}
    ia["difficulty"] = ia["item"].map(diff)
    by_level = ia.groupby("difficulty")["facility"].mean()
    assert len(by_level) >= 2
    assert by_level.is_monotonic_decreasing and by_level.diff().dropna().lt(0).all()
    alpha = I.cronbach_alpha(m)
    assert 0.6 < alpha.value < 0.95 and alpha.n == 200
    # one latent ability drives every item: all discriminate positively
    assert (ia["corrected_item_total"] > 0.1).all()
    assert not ia["flags"].str.contains("negative").any()
