"""The cohort dashboard (``cbec report cohort``): one static HTML page for an assignment or the
whole course, with a CSV of stage points per trainee and a CSV of the item analysis.

The page shows: how many trainees and their totals (table + score-distribution histogram); a
trainees × stages heat map of mastery; time on task and hint use per item when the submissions
carry practice telemetry (``.cbec/attempts.jsonl``; otherwise it says "no telemetry"); and per
assignment (a "form") the item analysis of :mod:`graders.analytics.items` — facility,
point-biserial, corrected item-total, upper–lower 27 % index, α-if-deleted, Cronbach's α, the
flags (too easy > 0.9, too hard < 0.2, negative discrimination) and the most frequent known
mistakes per item from the audit records of ``cbec grade``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from graders import exercises
from graders.analytics import competency as C
from graders.analytics import items as I
from graders.curriculum import standard
from graders.reports import charts
from graders.reports import html as H
from graders.reports.data import CourseData
from graders.reports.trainee import stage_rows, write_stage_csv

DEFAULT_MASTERY = C.Mastery()
DEFAULT_THRESHOLDS = I.Thresholds()
FLAG_CN = {"too_easy": "过易 (too easy)", "too_hard": "过难 (too hard)",
           "negative_discrimination": "负区分度 (negative discrimination)",
           "low_discrimination": "区分度低 (low discrimination)"}


def _title(item: str) -> tuple[str, str, str]:
    """``(title, stage, difficulty)`` of an item id (exercise id or nbgrader grade id)."""
    try:
        ex = exercises.get(item)
    except KeyError:
        return item, "", ""
    return ex.title, ex.stage, str(int(ex.difficulty))


def _flag_tags(flags: object, cls: str) -> H.Raw:
    if not isinstance(flags, str) or not flags:
        return H.Raw("")
    return H.Raw(" ".join(f'<span class="tag {cls}">{H.esc(FLAG_CN.get(f, f))}</span>'
                          for f in flags.split(";")))


def totals(data: CourseData) -> pd.DataFrame:
    """Per trainee: points, maximum and percent over the chosen assignments."""
    g = data.submissions.groupby("student", observed=True).agg(
        points=("score", "sum"), max_points=("max_score", "sum"), submissions=("score", "size"))
    g["percent"] = np.where(g["max_points"] > 0, 100.0 * g["points"] / g["max_points"], np.nan)
    return g.reset_index().astype({"student": "string"})


def _scores_section(data: CourseData, tot: pd.DataFrame, mastery: C.Mastery, what: str) -> str:
    fig = charts.score_histogram(list(tot["percent"]), mastery, what=what)
    wide = data.submissions.pivot_table(index="student", columns="assignment", values="score",
                                        aggfunc="first").reindex(columns=data.assignments)
    rows = []
    for r in tot.itertuples(index=False):
        name = data.name(str(r.student))
        rows.append([r.student, name, *(H.fmt(wide.at[r.student, a]) if r.student in wide.index
                                        else "—" for a in data.assignments),
                     f"{H.fmt(r.points)} / {H.fmt(r.max_points)}", f"{r.percent:.1f}%"])
    k = len(data.assignments)
    table = H.table(["学员 (trainee)", "姓名 (name)", *data.assignments, "合计 (total)",
                     "得分率 (%)"], rows, numeric=range(2, k + 4), cls="compact")
    return H.section("成绩分布 (score distribution)", H.figure_img(
        fig, "成绩分布直方图 (score distribution histogram)") + table, anchor="scores",
        meta=f"{len(tot)} 名学员 (trainees)")


#: trainees per heat-map image; bigger cohorts get several images of this many rows
HEATMAP_ROWS = 60


def _heatmap_section(data: CourseData, mastery: C.Mastery) -> str:
    pct = C.percent_matrix(data.scores)
    if pct.empty:
        return H.section("阶段掌握热图 (mastery heat map)", H.note(
            "没有可计分的标准题目 (no scored items of the standard)."), anchor="heatmap")
    lev = C.mastery_matrix(data.scores, mastery)
    std = standard()
    labels = [f"{s}\n{std.stage(s).title_cn}" for s in pct.columns]
    chunks = range(0, len(pct), HEATMAP_ROWS)  # large cohorts: one image per block of rows
    images = "".join(H.figure_img(
        charts.mastery_heatmap(pct.iloc[i:i + HEATMAP_ROWS], lev, labels),
        "学员×阶段掌握程度热图 (mastery heat map)"
        + (f" {i + 1}–{min(i + HEATMAP_ROWS, len(pct))}" if len(pct) > HEATMAP_ROWS else ""))
        for i in chunks)
    rows = []
    for s in pct.columns:
        col = lev[s].dropna()
        st = std.stage(s)
        rows.append([s, f"{st.title_cn} ({st.title_en})", H.fmt(len(col)),
                     H.fmt(int((col == "proficient").sum())), H.fmt(int((col == "basic").sum())),
                     H.fmt(int((col == "not_yet").sum())), f"{pct[s].mean():.0f}%"])
    table = H.table(["阶段 (stage)", "名称 (title)", "学员 (trainees)", "熟练 (proficient)",
                     "基本 (basic)", "尚未 (not yet)", "平均得分率 (mean %)"], rows,
                    numeric=range(2, 7), cls="compact")
    return H.section("阶段掌握热图 (mastery heat map: trainees × stages)", images + table,
                     anchor="heatmap",
        meta=f"阈值 (thresholds)：basic ≥ {mastery.basic:.0%}，proficient ≥ "
             f"{mastery.proficient:.0%}")


def _telemetry_section(data: CourseData) -> str:
    tel = data.telemetry
    if tel is None or tel.empty:
        return H.section("练习数据 (practice telemetry)", H.note(
            "没有练习数据 (no telemetry)：提交中没有 .cbec/attempts.jsonl "
            "(submissions carry no practice log)."), anchor="telemetry")
    g = tel.groupby("exercise", observed=True).agg(
        trainees=("student", "nunique"), minutes=("seconds_on_task", "median"),
        checks=("checks", "mean"), hints=("hints", "mean"), solutions=("solutions", "mean"),
        solved=("solved", "mean"), before=("attempts_before_correct", "mean"))
    g["minutes"] = g["minutes"] / 60.0
    g = g.reset_index()
    labels = [_title(str(e))[0] for e in g["exercise"]]
    fig = charts.telemetry_bars(labels, [float(x) for x in g["minutes"]],
                                [float(x) for x in g["hints"]])
    rows = [[H.Raw(f"{H.esc(t)}<div class=\"meta\">{H.esc(r.exercise)}</div>"),
             H.fmt(r.trainees), H.fmt(r.minutes, 1), H.fmt(r.checks, 1), H.fmt(r.hints, 1),
             H.fmt(r.solutions, 1), f"{100 * r.solved:.0f}%", H.fmt(r.before, 1)]
            for t, r in zip(labels, g.itertuples(index=False), strict=True)]
    table = H.table(["题目 (item)", "学员 (trainees)", "用时中位数 分钟 (median min)",
                     "检查次数 (checks)", "提示 (hints)", "查看答案 (solution views)",
                     "最终答对 (solved)", "答对前尝试 (checks before correct)"], rows,
                    numeric=range(1, 8), cls="compact")
    return H.section("练习数据 (practice telemetry)", H.figure_img(
        fig, "每题用时与提示次数 (time on task and hints per item)") + table,
        anchor="telemetry", meta="来自 .cbec/attempts.jsonl (from the practice log)")


def item_tables(data: CourseData, thresholds: I.Thresholds = DEFAULT_THRESHOLDS
                ) -> list[tuple[str, pd.DataFrame, I.Alpha]]:
    """``(assignment, item table, α)`` per chosen assignment."""
    return [(a, *I.analyse(data.scores, a, thresholds)) for a in data.assignments]


def _items_section(data: CourseData, analysed: list[tuple[str, pd.DataFrame, I.Alpha]]) -> str:
    top = I.top_mistakes(data.audit) if data.audit else None
    parts = []
    for a, ia, alpha in analysed:
        mist: dict[str, list[str]] = {}
        if top is not None:
            for r in top[top["assignment"] == a].itertuples(index=False):
                mist.setdefault(str(r.exercise), []).append(
                    f"{r.mistake} ×{r.count} ({100 * r.share:.0f}%)")
        rows = []
        for r in ia.itertuples(index=False):
            title, stage, diff = _title(str(r.item))
            tags = " · ".join(x for x in (r.item, stage, f"难度 {diff}" if diff else "") if x)
            rows.append([H.Raw(f"{H.esc(title)}<div class=\"meta\">{H.esc(tags)}</div>"),
                         H.fmt(r.n), H.fmt(r.facility), H.fmt(r.point_biserial),
                         H.fmt(r.corrected_item_total), H.fmt(r.upper_lower),
                         H.fmt(r.alpha_if_deleted),
                         H.Raw(_flag_tags(r.flags, "bad") + _flag_tags(r.warnings, "part")
                               + (f'<div class="meta">{H.esc(r.reason)}</div>'
                                  if isinstance(r.reason, str) and r.reason else "")),
                         H.Raw("<br>".join(H.esc(m) for m in mist.get(str(r.item), []))
                               or "—")])
        a_txt = (f"α = {alpha.value:.3f}" if alpha.value == alpha.value else "α = —")
        a_txt += f" (k = {alpha.k} 题 items, n = {alpha.n} 名 trainees)"
        if alpha.reason:
            a_txt += f"；{alpha.reason}"
        flagged = int((ia["flags"].fillna("") != "").sum())
        parts.append(
            f'<h3 id="items-{H.esc(a)}">{H.esc(a)} <span class="meta">{len(ia)} 题 (items) · '
            f"{flagged} 题有标记 (flagged)</span></h3>"
            f'<p><b>{H.esc("克隆巴赫 α (Cronbach’s alpha)：")}</b>{H.esc(a_txt)}</p>'
            + H.table(["题目 (item) · 阶段 (stage) · 难度 (difficulty)", "n",
                       "通过率 (facility)", "点二列 (r_pb)", "校正题总 (r_it)", "高低 27% (D)",
                       "删题后 α (α if deleted)", "标记 (flags)",
                       "常见错误 (top known mistakes)"],
                      rows, numeric=range(1, 7), cls="compact items"))
    legend = H.note("通过率 facility = 平均得分比例；过易 too easy > 0.9，过难 too hard < 0.2；"
                    "区分度 discrimination：点二列 point-biserial = corr(题分, 总分)，"
                    "校正题总相关 corrected item-total = corr(题分, 总分 − 题分) < 0 为负区分度，"
                    "高低分组 upper–lower = 前 27% 与后 27% 学员的平均得分比例之差。")
    if not data.audit_source:
        legend += H.note("没有 cbec grade 的审计记录 (no audit records)：不显示常见错误。", "warn")
    return H.section("题目分析 (item analysis)", legend + "".join(parts), anchor="items",
                     meta="每份作业一套试卷 (one form per assignment)")


def render(data: CourseData, target: str, mastery: C.Mastery = DEFAULT_MASTERY,
           analysed: list[tuple[str, pd.DataFrame, I.Alpha]] | None = None) -> str:
    """The HTML dashboard (font slot not yet filled: see
    :func:`graders.reports.html.write_pages`). ``target``: the assignment, or "course"."""
    tot = totals(data)
    analysed = analysed if analysed is not None else item_tables(data)
    what = "全课程 (course-wide)" if target == "course" else target
    alphas = " · ".join(f"{a}: " + (f"{al.value:.2f}" if al.value == al.value else "—")
                        for a, _, al in analysed)
    kpis = [("学员 (trainees)", f"{len(tot)}"),
            ("花名册 (students in gradebook)", f"{len(data.students)}"),
            ("平均得分率 (mean %)", f"{tot['percent'].mean():.1f}%"),
            ("中位数 (median %)", f"{tot['percent'].median():.1f}%"),
            ("克隆巴赫 α (Cronbach’s α)", alphas or "—")]
    summary = '<div class="grid">' + "".join(
        f'<div class="kpi">{H.esc(k)}<b>{H.esc(v)}</b></div>' for k, v in kpis) + "</div>"
    subtitle = (f"范围 (scope)：{H.esc(what)} · 作业 (assignments)："
                f"{H.esc(', '.join(data.assignments))}")
    body = (_scores_section(data, tot, mastery, what) + _heatmap_section(data, mastery)
            + _telemetry_section(data) + _items_section(data, analysed))
    return H.page(f"班级看板 (cohort dashboard) — {what}", body, subtitle=subtitle,
                  summary=summary, footer="由 cbec report 生成 (generated by cbec report)；"
                  "不含隐藏测试与参考答案 (no hidden tests or expected values)。")


def write_dashboard(data: CourseData, out: str | os.PathLike, target: str,
                    mastery: C.Mastery = DEFAULT_MASTERY) -> dict[str, Path]:
    """Write ``<out>/cohort-<target>.html``, ``cohort-<target>-stages.csv`` (stage points per
    trainee) and ``cohort-<target>-items.csv`` (item analysis). ``target``: the assignment,
    or ``course`` for the course-wide dashboard."""
    out = Path(out)
    stem = f"cohort-{H.plain_name(target)}"
    analysed = item_tables(data)
    page = render(data, target, mastery, analysed)
    frames = []
    for s in list(dict.fromkeys(data.scores["student"].astype(str))):
        frames.append(stage_rows(C.trainee(data.scores, s, mastery=mastery)))
    stages_csv = write_stage_csv(out / f"{stem}-stages.csv", frames)
    items = pd.concat([ia.assign(assignment=a, alpha=al.value) for a, ia, al in analysed],
                      ignore_index=True) if analysed else pd.DataFrame()
    items_csv = out / f"{stem}-items.csv"
    items.to_csv(items_csv, index=False, encoding="utf-8", lineterminator="\n")
    (html,) = H.write_pages({out / f"{stem}.html": page})
    return {"html": html, "stages_csv": stages_csv, "items_csv": items_csv}
