"""Feedback pages of ``cbec grade``: one static HTML page per trainee per assignment.

``<out>/<student>/<assignment>/feedback.html`` is self-contained (inline CSS, no scripts, no
external fonts, images or links), in Chinese with the English terms, and lays out what
nbgrader's feedback shows: the total, then per notebook its run status and each graded item
with its score, status and the safe feedback message (the known-mistake message when one was
recognised), the visible checks that failed, integrity findings and the run diagnosis.

What it never shows: hidden test code and expected values. The page is built only from the
fields of :class:`~graders.grading.results.NotebookGrade` that the scorer promises are safe
(messages never contain expected values); as a second line of defence any line of text that
looks like hidden-test source (nbgrader's hidden-test markers, a ``.grade(`` call) is dropped.
Everything that comes from a submission is HTML-escaped. Pages are byte-identical for the same
grades (no generation time in them).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import Path

from graders.grading.results import ItemScore, NotebookGrade

FILENAME = "feedback.html"
MAX_TEXT = 2000  # characters of one message shown at most

FONT_STACK = ('"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", '
              '"Microsoft YaHei", "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif')

STATUS_CN = {
    "correct": ("正确", "correct", "ok"),
    "passed": ("通过", "passed", "ok"),
    "partial": ("部分正确", "partial credit", "part"),
    "mistake": ("常见错误", "known mistake", "bad"),
    "unanswered": ("未作答", "unanswered", "bad"),
    "type": ("类型不对", "wrong type", "bad"),
    "shape": ("形状不对", "wrong shape", "bad"),
    "value": ("数值不对", "wrong value", "bad"),
    "error": ("出错", "error", "bad"),
    "failed": ("未通过", "failed", "bad"),
    "manual": ("待人工评分", "manual grading", "wait"),
}
RUN_CN = {
    "ok": "正常 (ok)",
    "timeout": "超时 (timeout)",
    "memory": "内存超限 (memory limit)",
    "missing": "未提交 (missing notebook)",
    "empty": "空文件 (empty file)",
    "invalid_notebook": "不是有效的 notebook (invalid notebook)",
    "wrong_kernel": "内核不对 (wrong kernel)",
    "crashed": "内核崩溃 (kernel crashed)",
}
_HIDDEN = re.compile(r"BEGIN HIDDEN TESTS|END HIDDEN TESTS|\.grade\(", re.IGNORECASE)

CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f5f6f8;color:#1f2329;font-family:@FONTS@;font-size:15px;line-height:1.6}
main{max-width:960px;margin:0 auto;padding:24px 16px 48px}
header{background:#fff;border:1px solid #dfe2e6;border-radius:8px;padding:20px 24px}
h1{font-size:22px;margin:0 0 6px}
h2{font-size:18px;margin:0}
.meta{color:#5b6470;font-size:14px}
.total{font-size:28px;font-weight:700;margin-top:8px}
.total small{font-size:15px;font-weight:400;color:#5b6470}
section{background:#fff;border:1px solid #dfe2e6;border-radius:8px;margin-top:18px}
section>.head{display:flex;justify-content:space-between;align-items:baseline;gap:12px;
  padding:14px 24px;border-bottom:1px solid #dfe2e6;background:#fafbfc;border-radius:8px 8px 0 0}
.body{padding:12px 24px 16px}
table{width:100%;border-collapse:collapse;margin:4px 0 8px}
th,td{text-align:left;vertical-align:top;padding:8px 10px;border-bottom:1px solid #eceef1}
th{font-size:13px;color:#5b6470;font-weight:600;white-space:nowrap}
td.pts{white-space:nowrap;font-variant-numeric:tabular-nums}
.tag{display:inline-block;padding:0 8px;border-radius:10px;font-size:13px;white-space:nowrap}
.tag.ok{background:#e3f6e8;color:#16692f}.tag.part{background:#fff4d6;color:#7a5600}
.tag.bad{background:#fde8e8;color:#a11d1d}.tag.wait{background:#e8eefc;color:#2647a0}
.note{border-left:4px solid #d0d5dc;padding:6px 12px;margin:10px 0;background:#fafbfc}
.note.warn{border-color:#e0a800}.note.err{border-color:#d33}
.note h3{font-size:14px;margin:0 0 4px}
.note ul{margin:0;padding-left:20px}
.msg{white-space:pre-wrap;word-break:break-word}
footer{color:#8a929c;font-size:12px;margin-top:24px;text-align:center}
""".replace("@FONTS@", FONT_STACK)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def safe_text(text: str | None) -> str:
    """``text`` without lines that look like hidden-test source, cut to MAX_TEXT characters."""
    if not text:
        return ""
    lines = [ln for ln in str(text).splitlines() if not _HIDDEN.search(ln)]
    out = "\n".join(lines).strip()
    return out if len(out) <= MAX_TEXT else out[:MAX_TEXT] + " …"


def _pts(x: float | None) -> str:
    return "—" if x is None else f"{x:g}"


def item_title(item: ItemScore) -> str:
    """The exercise's title for a cbec item; the grade id otherwise."""
    if item.exercise:
        from graders import exercises

        try:
            return exercises.get(item.exercise).title
        except KeyError:
            pass
    return item.grade_id


def _status_tag(item: ItemScore) -> str:
    cn, en, cls = STATUS_CN.get(item.status, (item.status, item.status, "bad"))
    if item.points is None:
        cn, en, cls = STATUS_CN["manual"]
    elif item.status not in STATUS_CN:
        cls = "ok" if item.points >= item.max_points else ("part" if item.points > 0 else "bad")
    label = cn if cn == en else f"{cn} ({en})"
    return f'<span class="tag {cls}">{_e(label)}</span>'


def _item_row(item: ItemScore) -> str:
    title = item_title(item)
    sub = "" if title == item.grade_id else f'<div class="meta">{_e(item.grade_id)}</div>'
    msg = safe_text(item.message)
    if item.mistake:
        msg = f"已识别的常见错误 (known mistake)：{msg}" if msg else \
            "已识别的常见错误 (known mistake)"
    if item.points is None and not msg:
        msg = "由老师人工评分 (graded by your instructor)"
    return (f"<tr><td>{_e(title)}{sub}</td>"
            f'<td class="pts">{_pts(item.points)} / {_pts(item.max_points)}</td>'
            f"<td>{_status_tag(item)}</td><td class=\"msg\">{_e(msg)}</td></tr>")


def _note(cls: str, title: str, lines: Iterable[str]) -> str:
    items = [safe_text(x) for x in lines]
    items = [x for x in items if x]
    if not items:
        return ""
    lis = "".join(f'<li class="msg">{_e(x)}</li>' for x in items)
    return f'<div class="note {cls}"><h3>{_e(title)}</h3><ul>{lis}</ul></div>'


def _check_text(check: dict) -> str:
    cid, text = str(check.get("id") or ""), str(check.get("text") or "")
    if cid and text:
        try:
            from graders import exercises

            cid = exercises.get(cid).title
        except KeyError:
            pass
        return f"{cid}：{text}"
    return cid or text


def _notebook_section(g: NotebookGrade) -> str:
    pending = any(i.points is None for i in g.items)
    score = f"{g.score:g} / {g.max_score:g}" + (" (含待评分项 pending)" if pending else "")
    run = RUN_CN.get(g.status, f"{g.status}")
    parts = [f'<section id="{_e(g.notebook)}"><div class="head"><h2>{_e(g.notebook)}</h2>'
             f'<div class="meta">得分 (score)：<b>{_e(score)}</b> · '
             f"运行状态 (run status)：{_e(run)}</div></div><div class=\"body\">"]
    if g.status != "ok" or g.diagnosis:
        parts.append(_note("err", "运行诊断 (run diagnosis)", [g.diagnosis or run]))
    failed = [c for c in g.checks if not c.get("ok")]
    parts.append(_note("warn", "未通过的检查 (failed visible checks)",
                       [_check_text(c) for c in failed]))
    parts.append(_note("warn", "完整性提示 (integrity flags)：已从原始笔记本恢复的单元格等",
                       g.flags))
    if g.items:
        rows = "".join(_item_row(i) for i in g.items)
        parts.append("<table><thead><tr><th>题目 (item)</th><th>得分 (points)</th>"
                     "<th>状态 (status)</th><th>反馈 (feedback)</th></tr></thead>"
                     f"<tbody>{rows}</tbody></table>")
    else:
        parts.append('<p class="meta">本笔记本没有可评分的结果 (no graded items)。</p>')
    parts.append("</div></section>")
    return "".join(parts)


def render_page(student: str, assignment: str, grades: list[NotebookGrade]) -> str:
    """The feedback page of one trainee for one assignment."""
    grades = sorted(grades, key=lambda g: g.notebook)
    score = sum(g.score for g in grades)
    max_score = sum(g.max_score for g in grades)
    pending = sum(1 for g in grades for i in g.items if i.points is None)
    extra = f"<small>（{pending} 项待老师评分 pending manual grading）</small>" if pending else ""
    title = f"{assignment} 成绩反馈 (feedback) — {student}"
    body = "".join(_notebook_section(g) for g in grades)
    return ("<!DOCTYPE html>\n"
            '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            f"<header><h1>成绩反馈 (feedback)：{_e(assignment)}</h1>"
            f'<div class="meta">学员 (trainee)：{_e(student)}</div>'
            f'<div class="total">{score:g} <small>/ {max_score:g} 分 (points)</small>'
            f"{extra}</div></header>\n{body}\n"
            "<footer>由 cbec grade 自动评分生成 (generated by cbec grade)；"
            "人工评分项以老师最终评分为准 (manual items: your instructor's grade counts)。"
            "</footer>\n</main>\n</body>\n</html>\n")


def write_feedback(out_dir: Path, grades: list[NotebookGrade]) -> list[Path]:
    """Write ``<out_dir>/<student>/<assignment>/feedback.html`` for every trainee and
    assignment in ``grades``; return the pages written, sorted."""
    groups: dict[tuple[str, str], list[NotebookGrade]] = {}
    for g in grades:
        groups.setdefault((g.student, g.assignment), []).append(g)
    out: list[Path] = []
    for (student, assignment), gs in sorted(groups.items()):
        for part in (student, assignment):
            if not part or part in (".", "..") or "/" in part or "\\" in part:
                raise ValueError(f"cannot write feedback for {part!r}: not a plain name")
        page = Path(out_dir) / student / assignment / FILENAME
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(render_page(student, assignment, gs), encoding="utf-8")
        out.append(page)
    return out
