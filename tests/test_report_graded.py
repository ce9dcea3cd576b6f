"""`cbec report` on a cohort graded by the real secure grader (tests/_gradebook.graded_course:
simulated trainees with personal datasets, `cbec grade`'s gradebook and audit records), the
demo's report hook, and both pages opened in real headless Chromium."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from _course import cbec
from _gradebook import graded_course
from _services import CHROMIUM_ARGS, require_chromium

from graders import exercises
from graders.analytics import scores as S
from graders.grading import audit
from graders.nbg import gradebook_url
from graders.reports import html as H

MODULE = "00-orientation"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("kernels")]


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return graded_course(tmp_path_factory.mktemp("graded"), MODULE, trainees=4)


@pytest.fixture(scope="module")
def pages(course, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    p = cbec("report", "cohort", MODULE, "--course", str(course), "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert f"cohort dashboard: {out / f'cohort-{MODULE}.html'}" in p.stdout
    p = cbec("report", "trainee", "--all", "--assignment", MODULE, "--course", str(course),
             "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert f"trainee report: {out / 'trainees' / 'sim-001.html'}" in p.stdout
    return {"cohort": out / f"cohort-{MODULE}.html",
            "trainee": out / "trainees" / "sim-001.html", "out": out}


def _forbidden(course: Path) -> list[str]:
    """Solution code of every item: must never appear in a report."""
    items = {r["exercise"] for r in audit.read_table(gradebook_url(course)[0])
             if r.get("exercise") and r.get("kind") == "cbec"}
    return [H.esc(exercises.get(e).solution) for e in items]


def test_dashboard_of_the_graded_cohort(course, pages):
    page = pages["cohort"].read_text(encoding="utf-8")
    url, cid = gradebook_url(course)
    scores = S.load_scores(url, cid)
    items = set(scores["exercise"].dropna()) | set(scores.loc[scores["exercise"].isna(),
                                                                "grade_id"])
    for item in items:  # every graded item has its row in the item analysis
        assert f'<div class="meta">{H.esc(item)}' in page
    assert "α = 0." in page or "α = —" in page
    assert "no telemetry" in page  # simulated submissions carry no practice log
    assert page.count('src="data:image/png;base64,') == 2
    for code in _forbidden(course):
        assert code not in page
    assert ".grade(" not in page and "HIDDEN TESTS" not in page
    with open(pages["out"] / f"cohort-{MODULE}-items.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["item"] for r in rows} == items
    # flags agree with facility: too hard below 0.2, too easy above 0.9
    for r in rows:
        p = float(r["facility"]) if r["facility"] else None
        assert ("too_hard" in r["flags"]) == (p is not None and p < 0.2)
        assert ("too_easy" in r["flags"]) == (p is not None and p > 0.9)
        if "too_hard" in r["flags"]:
            assert "过难 (too hard)" in page


def test_trainee_report_names_the_mistakes_the_grader_found(course, pages):
    page = pages["trainee"].read_text(encoding="utf-8")
    recs = [r for r in audit.read_table(gradebook_url(course)[0]) if r["student"] == "sim-001"]
    found = {r["mistake"] for r in recs if r["mistake"] and r["points"] < r["max_points"]}
    assert found, "the simulated trainee made no known mistake: pick another seed"
    for m in found:
        assert f"<b>{H.esc(m)}</b>" in page
    for r in recs:
        if r["kind"] == "cbec" and r["points"] < r["max_points"]:
            ex = exercises.get(r["exercise"])
            assert H.esc(f"{r['notebook']}.ipynb — {ex.title}") in page  # where to revisit
    for code in _forbidden(course):
        assert code not in page
    assert "5.14" in page and "数据分析 (Data analysis)" in page
    with open(pages["out"] / "trainees" / "sim-001.csv", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == 18


def test_course_wide_dashboard_and_long_export(course, tmp_path):
    p = cbec("report", "cohort", "--course-wide", "--course", str(course), "--out",
             str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "cohort-course.html").is_file()
    p = cbec("report", "export", "--format", "long", "--out", str(tmp_path / "items.csv"),
             "--course", str(course))
    assert p.returncode == 0, p.stderr
    url, cid = gradebook_url(course)
    with open(tmp_path / "items.csv", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == len(S.load_scores(url, cid))


def test_demo_hook_writes_and_prints_the_reports(course, tmp_path):
    from graders.demo import write_reports

    lines: list[str] = []
    paths = write_reports(course, tmp_path / "reports", echo=lines.append)
    assert paths[0] == tmp_path / "reports" / f"cohort-{MODULE}.html"
    assert len(paths) == 1 + 4 and all(p.is_file() for p in paths)
    assert any("dashboard and 4 trainee reports" in line for line in lines)


def _is_blank(png: Path) -> bool:
    from PIL import Image

    img = Image.open(png).convert("RGB")
    small = img.resize((200, max(1, 200 * img.height // img.width)))
    colours = small.getcolors(maxcolors=1 << 16)
    return colours is not None and len(colours) < 20


@pytest.mark.browser
def test_pages_render_in_headless_chromium(pages, tmp_path):
    from playwright.sync_api import sync_playwright

    exe = require_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=list(CHROMIUM_ARGS))
        try:
            for kind in ("cohort", "trainee"):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                errors: list[str] = []
                requests: list[str] = []
                page.on("console", lambda m, e=errors: e.append(m.text)
                        if m.type == "error" else None)
                page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
                page.on("request", lambda r, q=requests: q.append(r.url))
                page.goto(pages[kind].as_uri(), wait_until="load")
                imgs = page.evaluate("""() => Array.from(document.images).map(
                    i => ({w: i.naturalWidth, h: i.naturalHeight, done: i.complete,
                           shown: i.getBoundingClientRect().width}))""")
                assert imgs and all(i["done"] and i["w"] > 0 and i["h"] > 0 and i["shown"] > 0
                                    for i in imgs), imgs
                # the embedded CJK font loads and covers the Chinese text (no tofu boxes)
                loaded = page.evaluate("""async () => (await document.fonts.load(
                    '16px "cbec-cjk"', '能力报告班级看板数据分析掌握')).length""")
                assert loaded >= 1
                assert page.evaluate("document.fonts.check('16px \"cbec-cjk\"', '数据分析')")
                assert not errors, errors
                assert all(u.startswith(("file:", "data:")) for u in requests), requests
                shot = tmp_path / f"{kind}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000 and not _is_blank(shot)
                page.emulate_media(media="print")  # printable: Chromium's own PDF export
                assert page.pdf(path=str(tmp_path / f"{kind}.pdf"))[:5] == b"%PDF-"
                page.close()
        finally:
            browser.close()
