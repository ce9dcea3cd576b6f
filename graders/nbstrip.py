"""Strip notebooks to their reproducible content before they are released or compared.

Outputs, execution counts and metadata that change merely by opening or running a notebook are
removed; what the course depends on stays: nbgrader's cell metadata (``cell.metadata.nbgrader``,
with its grade ids, points and checksums), cell tags (nbval reads ``raises-exception``), cell
locks (``editable``/``deletable``), cell ids, attachments and the notebook's kernelspec.

Used by ``cbec course build`` and by the drift checks in the tests; no command line of its own.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

# Notebook-level metadata written by tools and extensions, never by the course author.
VOLATILE_NOTEBOOK_METADATA = frozenset(
    {"widgets", "execution", "papermill", "varInspector", "toc", "vscode", "colab", "interpreter"}
)
# Cell-level metadata recording UI state or timings of the last run.
VOLATILE_CELL_METADATA = frozenset(
    {"execution", "ExecuteTime", "collapsed", "scrolled", "heading_collapsed", "hidden",
     "papermill", "pycharm", "vscode"}
)
# Inside ``metadata.language_info`` only the interpreter's version differs between machines.
VOLATILE_LANGUAGE_INFO = frozenset({"version"})


def strip_notebook(nb: NotebookNode | dict[str, Any]) -> NotebookNode:
    """Return a stripped copy of *nb*; the argument is not modified."""
    nb = nbformat.from_dict(copy.deepcopy(nb))
    _drop(nb.metadata, VOLATILE_NOTEBOOK_METADATA)
    if "language_info" in nb.metadata:
        _drop(nb.metadata.language_info, VOLATILE_LANGUAGE_INFO)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        meta = cell.setdefault("metadata", NotebookNode())
        _drop(meta, VOLATILE_CELL_METADATA)
        jupyter = meta.get("jupyter")
        if isinstance(jupyter, dict):
            jupyter.pop("outputs_hidden", None)  # UI state; ``source_hidden`` is the author's
            if not jupyter:
                del meta["jupyter"]
    return nb


def is_stripped(nb: NotebookNode | dict[str, Any]) -> bool:
    """True when stripping *nb* would change nothing."""
    return strip_notebook(nb) == nb


def strip_file(src: str | Path, dst: str | Path | None = None) -> bool:
    """Strip the notebook file *src*, writing to *dst* (default: in place).

    Returns True when the written notebook differs from *src*'s content. The file is written with
    nbformat's canonical JSON layout, so identical notebooks give identical bytes.
    """
    src = Path(src)
    dst = Path(dst) if dst is not None else src
    nb = nbformat.read(src, as_version=nbformat.NO_CONVERT)
    stripped = strip_notebook(nb)
    dst.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(stripped, dst)
    return stripped != nb


def _drop(mapping: dict[str, Any], keys: frozenset[str]) -> None:
    for key in keys & mapping.keys():
        del mapping[key]
