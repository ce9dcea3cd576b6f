"""One plotting setup for notebooks and reports: readable Simplified Chinese and a house style.

matplotlib's bundled fonts (DejaVu) have no CJK glyphs, so Chinese titles and labels come out as
empty boxes. :func:`use_cjk_font` registers the Noto Sans CJK SC font that the PyPI package
``mplfonts`` ships, for this process only: the user's matplotlibrc, font cache and system fonts
are left alone, and mplfonts' own installer is never run.

Typical use at the top of a notebook or report script::

    from graders.plotting import style
    style()
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure

CJK_FONT_PACKAGE = "mplfonts"
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
# Glyphs the CJK font lacks (a few symbols) are looked up here, in this order.
FALLBACK_FAMILIES = ("DejaVu Sans",)


class CJKFontMissingError(RuntimeError):
    """The CJK font file that the charts need is not installed."""


def cjk_font_path() -> Path:
    """Path of the CJK font file inside the installed ``mplfonts`` package."""
    try:
        path = Path(str(importlib.resources.files(CJK_FONT_PACKAGE) / "fonts" / CJK_FONT_FILE))
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise CJKFontMissingError(
            f"CJK font {CJK_FONT_FILE} not found in the '{CJK_FONT_PACKAGE}' package: "
            f"install it with `pip install {CJK_FONT_PACKAGE}` (Chinese text would draw as boxes)"
        )
    return path


def use_cjk_font() -> str:
    """Make matplotlib draw Chinese and Latin text; return the CJK font's family name.

    Idempotent: the font is registered with the font manager once per process, and the
    rcParams below are simply set again on every call.
    """
    path = cjk_font_path()
    manager = font_manager.fontManager
    if not any(entry.fname == str(path) for entry in manager.ttflist):
        manager.addfont(str(path))
    family = font_manager.FontProperties(fname=path).get_name()
    matplotlib.rcParams["font.family"] = ["sans-serif"]
    matplotlib.rcParams["font.sans-serif"] = [family, *FALLBACK_FAMILIES]
    # The CJK font has no U+2212 MINUS SIGN glyph; use the ASCII hyphen-minus on axes.
    matplotlib.rcParams["axes.unicode_minus"] = False
    return family


def style(
    *,
    figsize: tuple[float, float] = (8.0, 4.5),
    dpi: int = 110,
    grid: bool = True,
) -> None:
    """House style for course charts: CJK font, a 16:9 figure, a light grid, no top/right box."""
    use_cjk_font()
    matplotlib.rcParams.update(
        {
            "figure.figsize": figsize,
            "figure.dpi": dpi,
            "savefig.dpi": dpi,
            "axes.grid": grid,
            "grid.alpha": 0.3,
            "grid.linestyle": "--",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": "large",
            "legend.frameon": False,
        }
    )


def savefig_png(fig: Figure, path: str | Path, *, dpi: float | None = None) -> Path:
    """Save *fig* as a PNG at *path* (parent folders created) and return the path.

    The bounding box is tightened so long Chinese labels are not cut off, and the
    matplotlib-version metadata is left out so the same chart gives the same bytes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(
        path,
        format="png",
        dpi=dpi if dpi is not None else "figure",
        bbox_inches="tight",
        metadata={"Software": None},
    )
    return path
