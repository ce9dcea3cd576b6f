"""Trainee competency reports (``cbec report trainee``): one static HTML page and one CSV of
stage points per trainee.

The page shows, for the chosen assignments: the total per assignment; points, percent and
mastery level for every stage 5.1–5.18 of the standard (stages without items: "not assessed");
a bar chart of the assessed stages; points per Table 1 task and per competency unit; and every
item scored below its maximum with the known mistake the grader recognised (from ``cbec
grade``'s audit records) and the notebook section to revisit. It never shows hidden tests,
reference answers or expected values: only scores, statuses, mistake ids and the mistakes'
own feedback messages (the same text the trainee's feedback page shows).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from graders.analytics import competency as C
from graders.curriculum import standard
from graders.grading.feedback import STATUS_CN
from graders.reports import charts
from graders.reports import html as H
from graders.reports.data import CourseData, ReportError

DEFAULT_MASTERY = C.Mastery()
STAGE_CSV_COLUMNS = ["student", "stage", "title_cn", "title_en", "items", "points",
                     "max_points", "percent", "level"]


def stage_rows(rep: C.TraineeReport) -> pd.DataFrame:
    """All 18 stages in clause order with the trainee's numbers (NaN/NA where no items)."""
    std = standard()
    base = pd.DataFrame({"stage": [s.id for s in std.stages],
                         "title_cn": [s.title_cn for s in std.stages],
                         "title_en": [s.title_en for s in std.stages]})
    got = rep.stages.drop(columns=["title_cn", "title_en"]).astype({"stage": "object"})
    out = base.merge(got, on="stage", how="left")
    out["student"] = rep.student
    return out[STAGE_CSV_COLUMNS]


def write_stage_csv(path: str | os.PathLike, frames: Iterable[pd.DataFrame]) -> Path:
    """Stage rows of one or more trainees as CSV (UTF-8, one header row)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(STAGE_CSV_COLUMNS)
        for df in frames:
            for row in df.itertuples(index=False):
                w.writerow(["" if (not isinstance(v, str) and pd.isna(v)) else
                            (H.fmt(v, 2, dash="") if isinstance(v, float) else v)
                            for v in row])
    return path


def _status(status: object) -> H.Raw:
    s = status if isinstance(status, str) else ""
    cn, en, cls = STATUS_CN.get(s, (s or "未记录", s or "no audit record", "none"))
    label = cn if cn == en else f"{cn} ({en})"
    return H.Raw(f'<span class="tag {cls}">{H.esc(label)}</span>')


def render(data: CourseData, rep: C.TraineeReport, mastery: C.Mastery) -> str:
    """The HTML page of one trainee's report (font slot not yet filled: see
    :func:`graders.reports.html.write_pages`)."""
    student = rep.student
    name = data.name(student)
    stages = stage_rows(rep)
    subs = data.submissions[data.submissions["student"] == student]
    # -- header
    kpis = []
    for r in subs.itertuples(index=False):
        late = f" (迟交扣分 late −{H.fmt(r.late_penalty)})" if r.late_penalty else ""
        kpis.append(f'<div class="kpi">{H.esc(r.assignment)}<b>{H.fmt(r.score)} / '
                    f"{H.fmt(r.max_score)}</b>{H.esc(late)}</div>")
    assessed = stages[stages["level"].notna()]
    counts = assessed["level"].value_counts()
    kpis.append(f'<div class="kpi">已考核阶段 (stages assessed)<b>{len(assessed)} / 18</b>'
                f"熟练 {int(counts.get('proficient', 0))} · 基本 {int(counts.get('basic', 0))}"
                f" · 尚未 {int(counts.get('not_yet', 0))}</div>")
    who = f"学员 (trainee)：{H.esc(student)}" + (f" · {H.esc(name)}" if name else "")
    subtitle = (f"{who} · 作业 (assignments)：{H.esc(', '.join(subs['assignment']))} · "
                f"掌握程度阈值 (mastery thresholds)：基本 basic ≥ {mastery.basic:.0%}，"
                f"熟练 proficient ≥ {mastery.proficient:.0%}")
    summary = f'<div class="grid">{"".join(kpis)}</div>'
    # -- stages
    body = []
    if not assessed.empty:
        fig = charts.stage_bars([f"{s} {t}" for s, t in zip(assessed["stage"],
                                                            assessed["title_cn"], strict=True)],
                                list(assessed["percent"]), list(assessed["level"]), mastery)
        chart = H.figure_img(fig, f"各阶段得分率 (points per stage) — {student}")
    else:
        chart = H.note("本次范围内没有可计分的标准题目 (no scored items of the standard).")
    rows = []
    for r in stages.itertuples(index=False):
        has = not pd.isna(r.level)
        rows.append([r.stage, f"{r.title_cn} ({r.title_en})",
                     H.fmt(r.items) if has else "—",
                     f"{H.fmt(r.points)} / {H.fmt(r.max_points)}" if has else "—",
                     f"{r.percent:.0f}%" if has else "—",
                     H.level_tag(r.level if has else None)])
    body.append(H.section("各阶段掌握程度 (mastery per stage, 5.1–5.18)", chart + H.table(
        ["阶段 (stage)", "名称 (title)", "题数 (items)", "得分 (points)", "得分率 (%)",
         "掌握程度 (mastery)"], rows, numeric=(2, 3, 4), cls="compact"), anchor="stages"))
    # -- tasks
    tasks = {t.id: t for t in standard().tasks}
    trows = []
    for r in rep.tasks.itertuples(index=False):
        t = tasks.get(r.task)
        title = f"{t.title_cn} ({t.title_en})" if t else ""
        trows.append([r.task, title, t.stage if t else "", H.fmt(r.items),
                      f"{H.fmt(r.points)} / {H.fmt(r.max_points)}", f"{r.percent:.0f}%"])
    body.append(H.section("表 1 工作任务 (Table 1 tasks)", H.table(
        ["任务 (task)", "名称 (title)", "阶段 (stage)", "题数 (items)", "得分 (points)",
         "得分率 (%)"], trows, numeric=(3, 4, 5), cls="compact") if trows else
        H.note("没有带任务标签的题目 (no items tagged with Table 1 tasks)."),
        anchor="tasks", meta="一题可对应多个任务 (an item may count for several tasks)"))
    # -- units
    urows = []
    for r in rep.units.itertuples(index=False):
        cn, en = data.unit_titles.get(str(r.unit), ("", ""))
        urows.append([r.unit, f"{cn} ({en})" if cn else "", H.fmt(r.items),
                      f"{H.fmt(r.points)} / {H.fmt(r.max_points)}", f"{r.percent:.0f}%",
                      H.level_tag(mastery.level(r.percent / 100.0))])
    body.append(H.section("能力单元 (competency units)", H.table(
        ["单元 (unit)", "名称 (title)", "题数 (items)", "得分 (points)", "得分率 (%)",
         "掌握程度 (mastery)"], urows, numeric=(2, 3, 4), cls="compact") if urows else
        H.note("没有能力单元数据 (no unit data)."), anchor="units"))
    # -- missed items
    mrows = []
    for r in rep.missed.itertuples(index=False):
        if isinstance(r.mistake, str) and r.mistake:
            fb = H.safe_text(r.mistake_feedback if isinstance(r.mistake_feedback, str) else "")
            mistake = H.Raw(f"<b>{H.esc(r.mistake)}</b>"
                            + (f'<div class="msg">{H.esc(fb)}</div>' if fb else ""))
        else:
            mistake = "未识别出常见错误 (no known mistake recognised)"
        mrows.append([H.Raw(f"{H.esc(r.title)}<div class=\"meta\">{H.esc(r.exercise)}</div>"),
                      r.stage, f"{H.fmt(r.score)} / {H.fmt(r.max_score)}", _status(r.status),
                      mistake, f"{r.assignment} · {r.revisit}"])
    body.append(H.section("未得满分的题目 (items missed) 与复习建议 (what to revisit)", H.table(
        ["题目 (item)", "阶段 (stage)", "得分 (points)", "状态 (status)",
         "识别出的常见错误 (known mistake)", "复习章节 (revisit)"], mrows, numeric=(2,))
        if mrows else H.note("所有计分题目均得满分 (full points on every scored item)."),
        anchor="missed", meta=f"{len(mrows)} 项 (items)"))
    if not data.audit_source:
        body.append(H.note("没有 cbec grade 的审计记录，无法给出常见错误 (no audit records: "
                           "known mistakes unavailable).", "warn"))
    return H.page(f"能力报告 (competency report) — {student}", "".join(body),
                  subtitle=subtitle, summary=summary,
                  footer="由 cbec report 生成 (generated by cbec report)；依据 T/CCPITCSC "
                         "111-2022 第 5 章各阶段 (stages of clause 5)。")


def write_reports(data: CourseData, out: str | os.PathLike, students: list[str] | None = None,
                  mastery: C.Mastery = DEFAULT_MASTERY) -> list[Path]:
    """Write ``<out>/trainees/<student>.html`` and ``.csv`` for ``students`` (default: every
    trainee with scores) and, for more than one, ``<out>/trainees/stage_points.csv``.
    Returns the HTML pages."""
    have = list(dict.fromkeys(data.submissions["student"].astype(str)))
    if students is None:
        students = have
    unknown = [s for s in students if s not in have]
    if unknown:
        known = set(data.students["student"].astype(str))
        s = unknown[0]
        why = ("has no graded submission" + (" for the chosen assignment" if
               len(data.assignments) == 1 else "")) if s in known else "is not in the gradebook"
        raise ReportError(f"trainee {s!r} {why} (trainees with scores: "
                          f"{', '.join(have[:8])}{' …' if len(have) > 8 else ''})")
    folder = Path(out) / "trainees"
    pages: dict[Path, str] = {}
    frames = []
    for s in students:
        try:
            rep = C.trainee(data.scores, s, audit=data.audit or None, mastery=mastery)
        except KeyError:  # a submission without graded cells
            rep = C.trainee(pd.concat([data.scores, _empty_row(data.scores, s)]), s,
                            mastery=mastery)
        stem = H.plain_name(s)
        pages[folder / f"{stem}.html"] = render(data, rep, mastery)
        rows = stage_rows(rep)
        write_stage_csv(folder / f"{stem}.csv", [rows])
        frames.append(rows)
    if len(students) > 1:
        write_stage_csv(folder / "stage_points.csv", frames)
    return H.write_pages(pages)


def _empty_row(scores: pd.DataFrame, student: str) -> pd.DataFrame:
    """A zero-point non-exercise row so a trainee with an empty submission still gets a page."""
    row = {c: pd.NA for c in scores.columns}
    row.update(student=student, score=0.0, max_score=0.0, needs_manual_grade=False)
    return pd.DataFrame([row]).astype(scores.dtypes.to_dict())
