"""Classical item analysis of an assignment (a "form"): facility, discrimination, reliability,
flags, and the known mistakes trainees made most often.

Input is a trainees × items matrix of scores as a FRACTION of each item's maximum
(:func:`score_matrix` builds it from :func:`graders.analytics.scores.load_scores`); ``NaN`` is
"no score" (a cell still waiting for manual grading, or an item the trainee's submission does
not have). Formulas (``n`` trainees, ``k`` items, ``x_ij`` the score of trainee i on item j,
``T_i = Σ_j x_ij`` the total, variances with ``ddof=1``):

* facility (p-value) ``p_j = mean_i x_ij`` — the share of the item's points the cohort got;
* point-biserial ``r_pb = corr(x_j, T)`` (Pearson; for 0/1 items this is the point-biserial
  ``(M_1 − M_0) / s_T · √(p q)`` with the population s.d.) and the corrected item-total
  correlation ``r_it = corr(x_j, T − x_j)`` (the item excluded from the total, so it does not
  correlate with itself);
* upper–lower index ``D = mean(x_j | top 27 %) − mean(x_j | bottom 27 %)``, the groups being
  ``g = max(1, round(0.27 n))`` trainees by total (ties broken by student id, so the result is
  deterministic);
* Cronbach's ``α = k/(k−1) · (1 − Σ_j σ²_j / σ²_T)`` over trainees with a score on every item
  (listwise deletion; items nobody has a score on are left out first), and α-if-item-deleted:
  the same on the matrix without item j;
* flags (thresholds in :class:`Thresholds`): ``too_easy`` (p > 0.9), ``too_hard`` (p < 0.2),
  ``negative_discrimination`` (r_it < 0); a warning ``low_discrimination`` (0 ≤ r_it < 0.2).

Item statistics use the trainees who have a score on that item, with totals over the items
they have scores on. Degenerate cases never warn or raise: the statistic is ``NaN`` and the
``reason`` column says why (fewer than 3 trainees, an item or total with zero variance, no
scores at all, fewer than 2 items for α).

Known mistakes come from the audit records of ``cbec grade`` (:mod:`graders.grading.audit`:
``cbec_audit`` table or ``audit/<assignment>.jsonl``), which carry the mistake id the secure
grader recognised per item; nbgrader's gradebook comments do not (they only hold "No
response."), so they are not used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FEW = "fewer than 3 trainees with a score"
ITEM_COLUMNS: dict[str, str] = {
    "item": "string", "n": "Int64", "facility": "float64", "sd": "float64",
    "point_biserial": "float64", "corrected_item_total": "float64", "upper_lower": "float64",
    "alpha_if_deleted": "float64", "flags": "string", "warnings": "string", "reason": "string",
}


@dataclass(frozen=True)
class Thresholds:
    easy: float = 0.9  # facility above: too easy
    hard: float = 0.2  # facility below: too hard
    negative: float = 0.0  # corrected item-total below: negative discrimination (flag)
    low: float = 0.2  # corrected item-total below: low discrimination (warning)
    group: float = 0.27  # share of trainees in the upper and lower groups


@dataclass(frozen=True)
class Alpha:
    value: float  # NaN when it cannot be computed
    k: int  # items used
    n: int  # trainees used (complete cases)
    reason: str = ""  # why value is NaN (or what was left out)


# -- the matrix --------------------------------------------------------------------------------
def score_matrix(scores: pd.DataFrame, *, assignment: str | None = None,
                 include_manual_pending: bool = False) -> pd.DataFrame:
    """Trainees × items of ``score / max_score`` from a long score table. Items are the cbec
    exercise id (else the nbgrader grade id), in notebook and grade-id order; cells with
    ``max_score`` 0 are left out; scores still waiting for manual grading are ``NaN`` unless
    ``include_manual_pending``."""
    df = scores
    if assignment is not None:
        df = df[df["assignment"] == assignment]
    df = df[df["max_score"] > 0]
    item = df["exercise"].fillna(df["grade_id"]).astype("string")
    frac = (df["score"] / df["max_score"]).astype("float64")
    if not include_manual_pending:
        frac = frac.where(~df["needs_manual_grade"].astype(bool))
    long = pd.DataFrame({"student": df["student"].astype("string"), "item": item,
                         "frac": frac, "notebook": df["notebook"], "grade_id": df["grade_id"]})
    order = (long[["item", "notebook", "grade_id"]].drop_duplicates("item")
             .sort_values(["notebook", "grade_id"])["item"].tolist())
    m = long.pivot_table(index="student", columns="item", values="frac", aggfunc="mean",
                         dropna=False)
    m = m.reindex(columns=order).astype("float64")
    m.index.name, m.columns.name = "student", "item"
    return m.sort_index()


# -- statistics --------------------------------------------------------------------------------
def _corr(x: np.ndarray, y: np.ndarray) -> tuple[float, str]:
    """Pearson r of two equally long float arrays without NaN, or NaN and why."""
    if len(x) < 3:
        return float("nan"), FEW
    dx, dy = x - x.mean(), y - y.mean()
    sxx, syy = float(dx @ dx), float(dy @ dy)
    if sxx <= 1e-12:
        return float("nan"), "item has zero variance (everyone scored the same)"
    if syy <= 1e-12:
        return float("nan"), "total has zero variance"
    return float(dx @ dy / np.sqrt(sxx * syy)), ""


def cronbach_alpha(matrix: pd.DataFrame | np.ndarray) -> Alpha:
    """Cronbach's α (see the module docstring) with listwise deletion."""
    m = pd.DataFrame(matrix).astype("float64")
    notes = []
    empty = [c for c in m.columns if m[c].isna().all()]
    if empty:
        m = m.drop(columns=empty)
        notes.append(f"{len(empty)} item(s) without scores left out")
    complete = m.dropna(axis=0, how="any")
    if len(complete) < len(m):
        notes.append(f"{len(m) - len(complete)} trainee(s) with missing scores left out")
    k, n = complete.shape[1], complete.shape[0]
    note = "; ".join(notes)
    if k < 2:
        return Alpha(float("nan"), k, n, "; ".join([*notes, "needs at least 2 items"]))
    if n < 3:
        return Alpha(float("nan"), k, n, "; ".join([*notes, "fewer than 3 complete trainees"]))
    x = complete.to_numpy()
    item_var = x.var(axis=0, ddof=1).sum()
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var <= 1e-12:
        return Alpha(float("nan"), k, n, "; ".join([*notes, "total scores have zero variance"]))
    return Alpha(float(k / (k - 1) * (1.0 - item_var / total_var)), k, n, note)


def upper_lower(item: np.ndarray, total: np.ndarray, group: float = 0.27) -> tuple[float, str]:
    """``D`` of one item: mean in the top ``group`` share by total minus the bottom share.
    ``item`` and ``total`` are aligned and already in tie-breaking order."""
    n = len(item)
    if n < 3:
        return float("nan"), FEW
    g = max(1, int(np.floor(group * n + 0.5)))
    order = np.argsort(total, kind="stable")
    return float(item[order[-g:]].mean() - item[order[:g]].mean()), ""


def item_analysis(matrix: pd.DataFrame, thresholds: Thresholds = Thresholds()) -> pd.DataFrame:
    """One row per item (columns :data:`ITEM_COLUMNS`); see the module docstring."""
    m = matrix.astype("float64").sort_index()
    t = thresholds
    rows: list[dict[str, Any]] = []
    for item in m.columns:
        rest = m.drop(columns=[item])
        alpha_del = cronbach_alpha(rest) if m.shape[1] >= 3 else Alpha(
            float("nan"), m.shape[1] - 1, 0, "needs at least 3 items")
        obs = m[item].notna() & m.notna().any(axis=1)
        x = m.loc[obs, item].to_numpy()
        total = m.loc[obs].sum(axis=1, skipna=True).to_numpy()
        row: dict[str, Any] = {"item": str(item), "n": int(obs.sum())}
        reasons: list[str] = []
        if len(x) == 0:
            row.update(facility=np.nan, sd=np.nan, point_biserial=np.nan,
                       corrected_item_total=np.nan, upper_lower=np.nan)
            reasons.append("no scores")
        else:
            row["facility"] = float(x.mean())
            row["sd"] = float(x.std(ddof=1)) if len(x) > 1 else np.nan
            row["point_biserial"], why = _corr(x, total)
            row["corrected_item_total"], why_c = _corr(x, total - x)
            row["upper_lower"], why_d = upper_lower(x, total, t.group)
            reasons += [why, why_c if why_c != why else "", why_d if why_d != why else ""]
        row["alpha_if_deleted"] = alpha_del.value
        if np.isnan(alpha_del.value):
            reasons.append(f"alpha if deleted: {alpha_del.reason}")
        flags, warns = [], []
        p, r = row["facility"], row["corrected_item_total"]
        if not np.isnan(p) and p > t.easy:
            flags.append("too_easy")
        if not np.isnan(p) and p < t.hard:
            flags.append("too_hard")
        if not np.isnan(r) and r < t.negative:
            flags.append("negative_discrimination")
        elif not np.isnan(r) and r < t.low:
            warns.append("low_discrimination")
        row.update(flags=";".join(flags), warnings=";".join(warns),
                   reason="; ".join(dict.fromkeys(x for x in reasons if x)))
        rows.append(row)
    df = pd.DataFrame(rows, columns=list(ITEM_COLUMNS))
    return df.astype(ITEM_COLUMNS)


def reliability(scores: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """Cronbach's α per assignment (form) of a long score table: ``assignment, alpha, k, n,
    reason``."""
    rows = []
    for a in sorted(scores["assignment"].dropna().unique()):
        al = cronbach_alpha(score_matrix(scores, assignment=a, **kwargs))
        rows.append({"assignment": a, "alpha": al.value, "k": al.k, "n": al.n,
                     "reason": al.reason})
    return pd.DataFrame(rows, columns=["assignment", "alpha", "k", "n", "reason"]).astype(
        {"assignment": "string", "alpha": "float64", "k": "Int64", "n": "Int64",
         "reason": "string"})


def analyse(scores: pd.DataFrame, assignment: str, thresholds: Thresholds = Thresholds()
            ) -> tuple[pd.DataFrame, Alpha]:
    """Item table and α of one assignment of a long score table."""
    m = score_matrix(scores, assignment=assignment)
    return item_analysis(m, thresholds), cronbach_alpha(m)


# -- known mistakes ----------------------------------------------------------------------------
def read_audit_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of ``audit/<assignment>.jsonl`` (the append-only history)."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            if isinstance(rec, dict):
                out.append(rec)
    return out


def latest_audit(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The latest audit record (by ``finished``) per (student, assignment, notebook,
    grade_id): a regrade or a new submission replaces the older outcome."""
    cols = {"student": "string", "assignment": "string", "notebook": "string",
            "grade_id": "string", "exercise": "string", "kind": "string",
            "status": "string", "mistake": "string", "points": "float64",
            "max_points": "float64", "finished": "string"}
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in records], columns=list(cols))
    df = df.astype(cols)
    df = df[df["grade_id"].fillna("") != ""]
    df = df.sort_values("finished", kind="stable").drop_duplicates(
        ["student", "assignment", "notebook", "grade_id"], keep="last")
    return df.sort_values(["assignment", "student", "notebook", "grade_id"], ignore_index=True)


def top_mistakes(records: Iterable[Mapping[str, Any]], top: int = 3) -> pd.DataFrame:
    """Most frequent known mistakes per item: ``assignment, exercise, mistake, count, graded,
    share`` (share of the trainees graded on the item), at most ``top`` per item, most
    frequent first (ties by mistake id)."""
    df = latest_audit(records)
    df = df[df["exercise"].notna()]
    graded = df.groupby(["assignment", "exercise"]).size().rename("graded")
    hits = df[df["mistake"].notna() & (df["mistake"] != "")]
    counts = hits.groupby(["assignment", "exercise", "mistake"]).size().rename("count")
    out = counts.reset_index().merge(graded.reset_index(), on=["assignment", "exercise"])
    out["share"] = (out["count"] / out["graded"]).astype("float64")
    out = out.sort_values(["assignment", "exercise", "count", "mistake"],
                          ascending=[True, True, False, True])
    out = out.groupby(["assignment", "exercise"]).head(top).reset_index(drop=True)
    return out.astype({"assignment": "string", "exercise": "string", "mistake": "string",
                       "count": "Int64", "graded": "Int64", "share": "float64"})
