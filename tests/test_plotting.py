"""Charts must show Chinese text, not empty boxes (CONTENT-GUIDE: readable CJK text)."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib import font_manager

from graders import plotting

# matplotlib's message: "Glyph 26376 (\N{CJK UNIFIED IDEOGRAPH-6708}) missing from font(s) ..."
MISSING_GLYPH = r"(?s)Glyph \d+ .*missing from"


@pytest.fixture(autouse=True)
def _isolated_rcparams():
    """Each test changes rcParams; give them back afterwards."""
    with matplotlib.rc_context():
        yield
    plt.close("all")


def _monthly_sales_chart():
    fig, ax = plt.subplots()
    months = ["1月", "2月", "3月", "4月", "5月", "6月"]
    ax.bar(months, [12.5, 18.2, -3.1, 22.8, 30.4, 27.9], label="亚马逊 Amazon")
    ax.set_title("月销售额 (CNY) — Monthly sales")
    ax.set_xlabel("月份")
    ax.set_ylabel("销售额 (万元)")
    ax.legend()
    return fig, ax


def _draw_failing_on_missing_glyphs(fig):
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=MISSING_GLYPH)
        fig.canvas.draw()


def test_chinese_chart_renders_without_missing_glyphs(tmp_path, caplog):
    plotting.style()
    fig, ax = _monthly_sales_chart()
    with caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"):
        _draw_failing_on_missing_glyphs(fig)
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=MISSING_GLYPH)
            out = plotting.savefig_png(fig, tmp_path / "charts" / "monthly_sales.png")
    assert not [r for r in caplog.records if "findfont" in r.getMessage()], caplog.text

    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 5_000

    cjk = plotting.cjk_font_path()
    for text in (ax.title, ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels()):
        resolved = Path(font_manager.findfont(text.get_fontproperties(), fallback_to_default=False))
        assert resolved == cjk, f"{text.get_text()!r} resolved to {resolved}"


def test_detector_catches_boxes_without_the_cjk_font():
    """Control: with matplotlib's default font the same chart warns, so the check above bites."""
    matplotlib.rcParams["font.family"] = ["DejaVu Sans"]
    fig, _ = _monthly_sales_chart()
    with pytest.raises(UserWarning, match=MISSING_GLYPH):
        _draw_failing_on_missing_glyphs(fig)


def _render_glyph(char: str) -> np.ndarray:
    fig = plt.figure(figsize=(1, 1), dpi=50)
    fig.text(0.5, 0.5, char, fontsize=30, ha="center", va="center")
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba()).copy()
    plt.close(fig)
    return pixels


def test_different_characters_draw_different_shapes():
    """Missing glyphs all draw as the same empty box; real glyphs differ from each other."""
    plotting.use_cjk_font()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=MISSING_GLYPH)
        month, sales = _render_glyph("月"), _render_glyph("销")
    assert not np.array_equal(month, sales)
    assert (month[..., :3] < 128).any(), "nothing dark was drawn"


def test_use_cjk_font_is_idempotent_and_sets_rcparams():
    first = plotting.use_cjk_font()
    second = plotting.use_cjk_font()
    assert first == second == "Noto Sans CJK SC"
    registered = [f for f in font_manager.fontManager.ttflist
                  if f.fname == str(plotting.cjk_font_path())]
    assert len({(f.name, f.weight) for f in registered}) == len(registered)
    assert matplotlib.rcParams["font.sans-serif"][:2] == ["Noto Sans CJK SC", "DejaVu Sans"]
    assert matplotlib.rcParams["font.family"] == ["sans-serif"]
    assert matplotlib.rcParams["axes.unicode_minus"] is False


def test_style_sets_figure_defaults():
    plotting.style(figsize=(6, 3), dpi=80, grid=False)
    assert tuple(matplotlib.rcParams["figure.figsize"]) == (6, 3)
    assert matplotlib.rcParams["figure.dpi"] == 80
    assert matplotlib.rcParams["axes.grid"] is False


def test_missing_font_file_gives_one_clear_error(monkeypatch):
    monkeypatch.setattr(plotting, "CJK_FONT_FILE", "NoSuchFont.otf")
    with pytest.raises(plotting.CJKFontMissingError, match=r"NoSuchFont\.otf.*mplfonts"):
        plotting.use_cjk_font()


def _rc_files() -> dict[Path, float | None]:
    dirs = {Path(matplotlib.get_configdir()), Path(matplotlib.get_cachedir())}
    files = [d / "matplotlibrc" for d in dirs]
    return {f: (f.stat().st_mtime if f.exists() else None) for f in files}


def test_user_matplotlibrc_and_matplotlib_fonts_are_not_touched():
    """Registering the font is in-process only: unlike mplfonts' installer, it writes no files."""
    before = _rc_files()
    plotting.use_cjk_font()
    assert _rc_files() == before
    mpl_fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    assert not (mpl_fonts / plotting.CJK_FONT_FILE).exists()
