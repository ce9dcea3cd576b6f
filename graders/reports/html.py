"""Static, self-contained report pages: the page shell, CSS, escaping, tables, charts as
embedded PNG and an embedded CJK font subset.

Every page built here is ONE file that a browser shows and prints without any network: CSS is
inline, charts are ``<img src="data:image/png;base64,…">`` and the Chinese font is a subset of
the Noto Sans CJK SC font that matplotlib uses (:func:`graders.plotting.cjk_font_path`),
embedded as a base64 WOFF ``@font-face`` with exactly the characters the pages use — so Chinese
renders without tofu boxes even on a machine with no CJK font installed. Pages carry no
generation time, so the same data gives byte-identical pages.

Typical use (reports, exam candidate reports)::

    from graders.reports import html as H

    body = H.section("得分 (scores)", H.table(["题目 (item)", "得分 (points)"], rows))
    body += H.section("图 (chart)", H.figure_img(fig, "alt text"))
    page = H.page("标题 (title)", body, subtitle="学员 (trainee)：" + H.esc(student))
    H.write_pages({out / "report.html": page})     # font subset once for all pages

Text goes in escaped: :func:`esc` for any string that comes from data; :func:`table` escapes
cells unless they are :class:`Raw` (HTML you built yourself from escaped pieces).
"""

from __future__ import annotations

import base64
import html as _html
import io
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from graders.grading.feedback import CSS as FEEDBACK_CSS
from graders.grading.feedback import FONT_STACK, safe_text

__all__ = [
    "CSS",
    "FONT_FAMILY",
    "Raw",
    "embed_font",
    "esc",
    "figure_img",
    "fmt",
    "level_tag",
    "note",
    "page",
    "plain_name",
    "safe_text",
    "section",
    "table",
    "write_pages",
]

FONT_FAMILY = "cbec-cjk"  # the embedded subset's family name
_FONT_SLOT = "/*@CBEC-FONT@*/"

# The feedback pages' look (graders.grading.feedback.CSS) plus what reports need: wider pages,
# chart images, heat-map cells, level tags, compact numeric tables and print rules.
CSS = (FEEDBACK_CSS.replace("font-family:", f'font-family:"{FONT_FAMILY}",', 1) + """
main{max-width:1180px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:10px;margin:8px 0}
.kpi{border:1px solid #eceef1;border-radius:6px;padding:8px 12px;background:#fafbfc}
.kpi b{display:block;font-size:22px}
figure{margin:8px 0 12px;text-align:center}
figure img{max-width:100%;height:auto}
figcaption{color:#5b6470;font-size:13px}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.compact th,table.compact td{padding:4px 6px;font-size:13px}
.tag.none{background:#eceef1;color:#5b6470}
table.items td{font-size:12px;overflow-wrap:anywhere}
table.compact th{white-space:normal;vertical-align:bottom}
h3{font-size:16px;margin:18px 0 4px}
table.items td .meta{font-size:11px}
.scroll{overflow-x:auto}
@media print{
  body{background:#fff;font-size:12px}
  main{max-width:none;padding:0}
  header,section{border:none;break-inside:avoid-page}
  section{page-break-inside:avoid;margin-top:10px}
  section>.head{background:none}
  .scroll{overflow:visible}
  figure img{max-width:100%;page-break-inside:avoid}
  a{color:inherit;text-decoration:none}
}
""")

LEVELS = {  # mastery level → (Chinese, English, tag class)
    "proficient": ("熟练掌握", "proficient", "ok"),
    "basic": ("基本掌握", "basic", "part"),
    "not_yet": ("尚未掌握", "not yet", "bad"),
}


class Raw(str):
    """HTML that is already safe (built from escaped pieces): :func:`table` keeps it as is."""


def esc(text: object) -> str:
    """``text`` HTML-escaped (quotes too); ``None``/NA → empty."""
    if text is None:
        return ""
    try:
        import pandas as pd

        if not isinstance(text, str) and pd.isna(text):
            return ""
    except (TypeError, ValueError):
        pass
    return _html.escape(str(text), quote=True)


def fmt(x: Any, digits: int = 2, *, dash: str = "—") -> str:
    """A number for a table: ``dash`` for None/NaN, integers without decimals."""
    if x is None:
        return dash
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if v != v:
        return dash
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.{digits}f}"


def level_tag(level: str | None) -> Raw:
    """A coloured tag for a mastery level (``not_yet``/``basic``/``proficient``; else none)."""
    if level is None or not isinstance(level, str) or level not in LEVELS:
        return Raw('<span class="tag none">未考核 (not assessed)</span>')
    cn, en, cls = LEVELS[level]
    return Raw(f'<span class="tag {cls}">{esc(cn)} ({esc(en)})</span>')


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
          numeric: Iterable[int] = (), cls: str = "") -> Raw:
    """An HTML table; cells are escaped unless :class:`Raw`; columns in ``numeric`` are
    right-aligned. Headers are escaped."""
    num = set(numeric)
    th = "".join(f'<th class="num">{esc(h)}</th>' if i in num else f"<th>{esc(h)}</th>"
                 for i, h in enumerate(headers))
    body = []
    for row in rows:
        tds = []
        for i, v in enumerate(row):
            content = v if isinstance(v, Raw) else esc(v)
            tds.append(f'<td class="num">{content}</td>' if i in num else f"<td>{content}</td>")
        body.append(f"<tr>{''.join(tds)}</tr>")
    c = f' class="{esc(cls)}"' if cls else ""
    return Raw(f'<div class="scroll"><table{c}><thead><tr>{th}</tr></thead>'
               f"<tbody>{''.join(body)}</tbody></table></div>")


def section(title: str, body: str, *, anchor: str = "", meta: str = "") -> Raw:
    """A card with a heading (``title`` escaped), optional right-hand ``meta`` (escaped) and
    ``body`` (HTML)."""
    a = f' id="{esc(anchor)}"' if anchor else ""
    m = f'<div class="meta">{esc(meta)}</div>' if meta else ""
    return Raw(f'<section{a}><div class="head"><h2>{esc(title)}</h2>{m}</div>'
               f'<div class="body">{body}</div></section>\n')


def note(text: str, cls: str = "") -> Raw:
    """A highlighted paragraph (``text`` escaped); ``cls``: ``warn`` or ``err``."""
    return Raw(f'<div class="note {esc(cls)}">{esc(text)}</div>')


def figure_img(fig: Any, alt: str, *, caption: str = "", dpi: int = 110) -> Raw:
    """A matplotlib figure as an embedded PNG ``<figure>`` (a pyplot figure is closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight",
                metadata={"Software": None})  # no version stamp: byte-identical pages
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return Raw(f'<figure><img alt="{esc(alt)}" src="data:image/png;base64,{data}">'
               f"{cap}</figure>")


def page(title: str, body: str, *, subtitle: str = "", summary: str = "",
         footer: str = "") -> str:
    """A full HTML document: ``title`` (escaped) as ``<title>`` and ``<h1>``, ``subtitle``
    and ``summary`` (HTML) in the header card, then ``body`` (HTML) and ``footer`` (escaped).
    The CJK font is filled in by :func:`write_pages` / :func:`embed_font`."""
    sub = f'<div class="meta">{subtitle}</div>' if subtitle else ""
    foot = f"<footer>{esc(footer)}</footer>\n" if footer else ""
    return ("<!DOCTYPE html>\n"
            '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{_FONT_SLOT}{CSS}</style>\n</head>\n"
            f"<body>\n<main>\n<header><h1>{esc(title)}</h1>{sub}{summary}</header>\n"
            f"{body}\n{foot}</main>\n</body>\n</html>\n")


# -- the embedded font -------------------------------------------------------------------------
_TAG = re.compile(r"<style>.*?</style>|<[^>]*>", re.S)


def _page_chars(pages: Iterable[str]) -> str:
    """Characters of the visible text of ``pages`` beyond ASCII (+ the digits and letters)."""
    chars: set[str] = set()
    for p in pages:
        text = _html.unescape(_TAG.sub(" ", p))
        chars.update(c for c in text if ord(c) > 0x7E)
    return "".join(sorted(chars))


def font_face(chars: str) -> str:
    """The ``@font-face`` rule of a WOFF subset of the CJK font with ``chars`` (+ ASCII);
    empty when ``chars`` is empty (the system font stack then does all)."""
    if not chars:
        return ""
    from fontTools import subset

    from graders.plotting import cjk_font_path

    opts = subset.Options()
    opts.flavor = "woff"
    opts.layout_features = []  # no OpenType features: CJK and Latin text need none here
    opts.notdef_outline = True
    font = subset.load_font(str(cjk_font_path()), opts)
    sub = subset.Subsetter(opts)
    ascii_ = "".join(chr(c) for c in range(0x20, 0x7F))
    sub.populate(text=ascii_ + chars)
    sub.subset(font)
    buf = io.BytesIO()
    subset.save_font(font, buf, opts)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'@font-face{{font-family:"{FONT_FAMILY}";font-style:normal;font-weight:400 700;'
            f'src:url(data:font/woff;base64,{data}) format("woff")}}\n')


def embed_font(pages: Mapping[Any, str]) -> dict[Any, str]:
    """``pages`` with one shared CJK font subset (every character any of them shows)
    embedded in place of the font slot of :func:`page`."""
    face = font_face(_page_chars(pages.values()))
    return {k: v.replace(_FONT_SLOT, face, 1) for k, v in pages.items()}


def write_pages(pages: Mapping[str | os.PathLike, str]) -> list[Path]:
    """Write every page (UTF-8) after :func:`embed_font`; parent folders are created.
    Returns the paths in the given order."""
    done = embed_font({Path(k): v for k, v in pages.items()})
    out = []
    for path, text in done.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out


def plain_name(name: str) -> str:
    """``name`` made safe as a file name (letters, digits, ``._-`` kept; others ``_``)."""
    out = re.sub(r"[^A-Za-z0-9._-]", "_", str(name)).strip(".") or "_"
    return out[:120]


FONT_STACK_CSS = FONT_STACK  # re-exported for callers that style their own elements
