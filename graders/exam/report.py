"""Candidate reports for employers and the cohort summary: ``cbec exam report``.

Per candidate: overall score (percent, units weighted by the blueprint) and pass/fail against
the overall cut score, per-unit score and pass/fail against the unit's cut score, percentile
against the cohort (or a stored norm group: a CSV with a ``score`` column of overall
percents), integrity flags (late, repaired cells, timeouts, missing) and the audit reference
of every item score. Pass needs the overall cut *and* every unit's cut.

Late policy: ``penalise`` reduces the overall score by the penalty percent (unit scores stay
as earned, so an employer sees the competence and the sanction apart); ``reject`` scores 0.

Cohort summary: per form, candidates, mean item difficulty (blueprint tags 1–3), mean
facility (share of the form's item scores that were correct), mean overall score and
Cronbach's α (:func:`graders.analytics.items.cronbach_alpha`) of the form's items; plus α over
the whole cohort by item position (forms are parallel: position k has the same unit and
difficulty on every form).

Outputs in ``<exam>/report/``: ``candidates.csv``, ``items.csv``, ``forms.csv``,
``cohort.html`` and ``candidates/<cid>.html`` (built with :mod:`graders.reports.html`; every
string that comes from candidates or data is escaped).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from graders.exam.blueprint import ExamError
from graders.exam.forms import read_manifest
from graders.exam.grade import RESULTS

REPORT_DIR = "report"


def _norm(path: str | os.PathLike | None) -> np.ndarray | None:
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise ExamError(f"norm group {p} does not exist; give a CSV with a 'score' column")
    try:
        df = pd.read_csv(p)
    except Exception as exc:
        raise ExamError(f"norm group {p}: cannot read it as CSV ({type(exc).__name__})") \
            from None
    if "score" not in df.columns:
        raise ExamError(f"norm group {p}: no 'score' column (overall percent per person)")
    s = pd.to_numeric(df["score"], errors="coerce").dropna().to_numpy(float)
    if not len(s):
        raise ExamError(f"norm group {p}: no numeric scores in column 'score'")
    return s


def percentile(score: float, group: np.ndarray) -> float:
    """Mid-rank percentile of ``score`` in ``group`` (below + half of the ties)."""
    if not len(group):
        return float("nan")
    below = float((group < score - 1e-9).sum())
    ties = float((np.abs(group - score) <= 1e-9).sum())
    return round(100.0 * (below + 0.5 * ties) / len(group), 1)


def scores(exam_dir: str | os.PathLike, norm: str | os.PathLike | None = None
           ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(candidates, items, forms) tables computed from ``server/results.json``."""
    from graders.analytics.items import cronbach_alpha

    exam_dir = Path(exam_dir)
    m = read_manifest(exam_dir)
    rp = exam_dir / RESULTS
    if not rp.is_file():
        raise ExamError(f"{exam_dir}: not graded yet; run cbec exam grade first")
    results = json.loads(rp.read_text(encoding="utf-8"))
    bp = m["blueprint"]
    units = {u["id"]: u for u in bp["units"]}
    late = bp["late"]
    item_rows, cand_rows = [], []
    for g in results["grades"]:
        cid = g["student"]
        rec = m["candidates"][cid]
        meta = {it["q"]: it for it in rec["items"]}
        for i in g["items"]:
            it = meta[i["grade_id"]]
            item_rows.append({"candidate": cid, "form": rec["form"], "q": i["grade_id"],
                              "exercise": i["exercise"], "unit": it["unit"],
                              "difficulty": it["difficulty"], "max_points": i["max_points"],
                              "points": i["points"] or 0.0, "status": i["status"],
                              "audit_ref": g["audit"].get(i["grade_id"], "")})
        rcpt = m.get("receipts", {}).get(cid) or {}
        flags = list(g["flags"])
        row: dict[str, Any] = {"candidate": cid, "name": rec.get("name", ""),
                               "form": rec["form"], "status": g["status"],
                               "received_at": rcpt.get("received_at", ""),
                               "submission_sha256": g["submission_sha256"],
                               "dataset_fingerprint": g["dataset_hash"]}
        overall, all_pass = 0.0, True
        for uid, u in units.items():
            its = [r for r in item_rows if r["candidate"] == cid and r["unit"] == uid]
            mx = sum(r["max_points"] for r in its)
            pct = 100.0 * sum(r["points"] for r in its) / mx if mx else 0.0
            ok = pct >= float(u["cut_score"]) - 1e-9
            all_pass = all_pass and ok
            row[f"{uid}_score"] = round(pct, 1)
            row[f"{uid}_pass"] = ok
            overall += float(u["weight"]) * pct
        is_late = any(f.startswith("late") for f in flags)
        if g["status"] == "rejected":
            overall = 0.0
        elif is_late and late["policy"] == "penalise":
            overall *= 1.0 - float(late["penalty_percent"]) / 100.0
            flags.append(f"penalised {float(late['penalty_percent']):g} % for lateness "
                         "(逾期扣分)")
        row["overall_score"] = round(overall, 1)
        row["passed"] = bool(overall >= float(bp["cut_score"]) - 1e-9 and all_pass
                             and g["status"] not in ("missing", "rejected"))
        row["late"] = is_late
        row["flags"] = "; ".join(flags)
        row["audit_refs"] = g["audit"].get("", "") or " ".join(
            r["audit_ref"] for r in item_rows if r["candidate"] == cid)
        cand_rows.append(row)
    cands = pd.DataFrame(cand_rows)
    items = pd.DataFrame(item_rows)
    group = _norm(norm)
    ref = group if group is not None else cands.overall_score.to_numpy(float)
    cands["percentile"] = [percentile(s, ref) for s in cands.overall_score]
    cands["norm_group"] = "stored norm group" if group is not None else "this cohort"
    form_rows = []
    for f in m["forms"]:
        its = items[items.form == f["form"]]
        members = sorted(set(its.candidate))
        if not members:
            continue
        mat = its.pivot_table(index="candidate", columns="q", values="points", aggfunc="sum")
        a = cronbach_alpha(mat)
        graded = its[~its.candidate.isin(cands.candidate[cands.status.isin(
            ["missing", "rejected"])])]
        facility = float((graded.points >= graded.max_points - 1e-9).mean()) \
            if len(graded) else float("nan")
        form_rows.append({"form": f["form"], "candidates": len(members),
                          "items": len(f["items"]),
                          "mean_difficulty": round(float(np.mean(
                              its.drop_duplicates("q").difficulty)), 2),
                          "max_points": float(its.drop_duplicates("q").max_points.sum()),
                          "mean_facility": round(facility, 3),
                          "mean_overall": round(float(cands[cands.form == f["form"]]
                                                      .overall_score.mean()), 1),
                          "alpha": round(a.value, 3) if a.value == a.value else float("nan"),
                          "alpha_note": a.reason})
    forms = pd.DataFrame(form_rows)
    slot = items.pivot_table(index="candidate", columns="q", values="points", aggfunc="sum")
    a_all = cronbach_alpha(slot)
    forms.attrs["alpha_all"] = (a_all.value, a_all.reason)
    return cands, items, forms


def _pf(ok: bool) -> Any:
    from graders.reports import html as H

    return H.Raw('<span class="tag ok">通过 (pass)</span>' if ok
                 else '<span class="tag bad">未通过 (fail)</span>')


def write_report(exam_dir: str | os.PathLike, norm: str | os.PathLike | None = None
                 ) -> dict[str, Path]:
    """Write the CSV tables and HTML pages; returns their paths."""
    from graders.reports import html as H

    exam_dir = Path(exam_dir)
    m = read_manifest(exam_dir)
    cands, items, forms = scores(exam_dir, norm)
    out = exam_dir / REPORT_DIR
    (out / "candidates").mkdir(parents=True, exist_ok=True)
    paths = {"candidates_csv": out / "candidates.csv", "items_csv": out / "items.csv",
             "forms_csv": out / "forms.csv", "cohort_html": out / "cohort.html"}
    cands.to_csv(paths["candidates_csv"], index=False, lineterminator="\n",
                 quoting=csv.QUOTE_MINIMAL)
    items.to_csv(paths["items_csv"], index=False, lineterminator="\n")
    forms.to_csv(paths["forms_csv"], index=False, lineterminator="\n")
    bp = m["blueprint"]
    units = bp["units"]
    from graders.exam.blueprint import course_units

    try:
        titles = {k: v["title_cn"] for k, v in course_units(Path(m["course"])).items()}
    except ExamError:
        titles = {}
    title = f"{m['title_cn']} — 考试报告 (exam report)"
    pages: dict[Path, str] = {}
    for _, c in cands.iterrows():
        cid = str(c.candidate)
        rows = [[f"{titles.get(u['id'], u['id'])} ({u['id']})", H.fmt(u["weight"]),
                 H.fmt(c[f"{u['id']}_score"], 1), H.fmt(u["cut_score"]),
                 _pf(bool(c[f"{u['id']}_pass"]))] for u in units]
        its = items[items.candidate == cid]
        irows = [[r.q.upper(), r.exercise, r.unit, r.difficulty, H.fmt(r.points),
                  H.fmt(r.max_points), r.status, r.audit_ref] for r in its.itertuples()]
        summary = (f'<div class="grid"><div class="kpi">总分 (overall)<b>'
                   f'{H.esc(H.fmt(c.overall_score, 1))}</b>'
                   f'合格线 (cut) {H.esc(H.fmt(bp["cut_score"]))}</div>'
                   f'<div class="kpi">结果 (result)<b>{_pf(bool(c.passed))}</b></div>'
                   f'<div class="kpi">百分位 (percentile)<b>{H.esc(H.fmt(c.percentile, 1))}</b>'
                   f'{H.esc(c.norm_group)}</div></div>')
        flags = c.flags if isinstance(c.flags, str) and c.flags else "无 (none)"
        body = H.section("能力单元 (competency units)", H.table(
            ["单元 (unit)", "权重 (weight)", "得分 % (score)", "合格线 (cut)", "结果 (result)"],
            rows, numeric=(1, 2, 3)))
        body += H.section("诚信与时间 (integrity and timing)", H.table(
            ["项目 (field)", "值 (value)"],
            [["状态 (run status)", c.status], ["服务器接收时间 (received, server clock)",
                                              c.received_at or "—"],
             ["逾期 (late)", "是 (yes)" if c.late else "否 (no)"], ["标记 (flags)", flags],
             ["试卷 (form)", c.form], ["提交 sha256", c.submission_sha256 or "—"],
             ["数据集指纹 (dataset fingerprint)", c.dataset_fingerprint]]))
        body += H.section("逐题得分与审计编号 (item scores and audit references)", H.table(
            ["题 (item)", "题目编号 (exercise)", "单元 (unit)", "难度 (difficulty)",
             "得分 (points)", "满分 (max)", "状态 (status)", "审计编号 (audit ref)"],
            irows, numeric=(3, 4, 5)))
        sub = f"考生 (candidate)：{H.esc(cid)}" + (f" · {H.esc(c['name'])}"
                                                 if isinstance(c["name"], str) and c["name"]
                                                 else "")
        pages[out / "candidates" / f"{H.plain_name(cid)}.html"] = H.page(
            title, body, subtitle=sub, summary=summary,
            footer="审计编号对应 server/audit.jsonl 中记录的 sha256 前 16 位 "
                   "(audit ref = first 16 hex of the record's sha256)")
    frows = [[f.form, f.candidates, f.items, H.fmt(f.mean_difficulty), H.fmt(f.max_points),
              H.fmt(f.mean_facility, 3), H.fmt(f.mean_overall, 1), H.fmt(f.alpha, 3),
              f.alpha_note] for f in forms.itertuples()]
    a_all, a_note = forms.attrs.get("alpha_all", (float("nan"), ""))
    crows = [[H.Raw(f'<a href="candidates/{H.esc(H.plain_name(str(c.candidate)))}.html">'
                    f"{H.esc(c.candidate)}</a>"), c.form, H.fmt(c.overall_score, 1),
              _pf(bool(c.passed)), H.fmt(c.percentile, 1), c.flags or "—"]
             for c in cands.itertuples()]
    body = H.section("考生 (candidates)", H.table(
        ["考生 (candidate)", "试卷 (form)", "总分 (overall)", "结果 (result)",
         "百分位 (percentile)", "标记 (flags)"], crows, numeric=(2, 4)))
    body += H.section("平行试卷公平性 (form fairness)", H.table(
        ["试卷 (form)", "考生 (n)", "题数 (items)", "平均难度 (mean difficulty)",
         "满分 (max points)", "平均通过率 (facility)", "平均总分 (mean overall)", "α",
         "说明 (note)"], frows, numeric=(1, 2, 3, 4, 5, 6, 7))
        + H.note(f"全体按题位 α (all forms, by item position) = {H.fmt(a_all, 3)}"
                 + (f" ({a_note})" if a_note else "")
                 + ". 每份试卷在每个单元的题数和难度结构相同 (same items per unit and "
                 "difficulty profile on every form)."))
    pages[paths["cohort_html"]] = H.page(title, body, subtitle=(
        f"考试 (exam) {H.esc(m['exam'])} · 场次 (session) {H.esc(m['session'])} · "
        f"合格线 (cut) {H.esc(H.fmt(bp['cut_score']))}"))
    H.write_pages(pages)
    paths["candidate_pages"] = out / "candidates"
    return paths
