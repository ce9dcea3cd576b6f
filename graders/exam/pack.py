"""Self-contained exam packs: the exam notebook and the candidate's data as CSV.

A pack is ``<cid>/exam.ipynb`` + ``<cid>/data/<table>.csv`` + ``<cid>/data/schema.json``. It
runs with pandas, numpy and matplotlib only: the setup cell (:data:`LOADER_CODE`) reads every
CSV as text and restores each column's dtype from ``schema.json`` (integers, nullable
integers, floats, booleans, strings, categories with their category order, naive and UTC
datetimes). CSV was chosen over Parquet because Parquet needs pyarrow (or fastparquet) on the
candidate's machine, which is not part of "just the scientific stack"; floats are written with
``repr`` precision and the round trip is checked exactly for every pack at build time
(:func:`write_data` reloads the files with the very loader code the notebook uses).

``schema.json`` holds column dtypes and the world's period (``meta``: start, months, markets,
platforms) — never the seed. Labels (the ``anomalies`` table) are never written.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd

from graders.exam.blueprint import ExamError

NOTEBOOK = "exam.ipynb"
DATA_DIR = "data"
SCHEMA = "schema.json"
META_KEYS = ("start", "months", "markets", "platforms")
FORBIDDEN_TABLES = ("anomalies",)

# The setup cell's loader: plain pandas, no kit imports. Executed as is at build time to check
# the round trip, so what the candidate loads is what the grader's world holds.
LOADER_CODE = '''\
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd


def load_exam_data(folder):
    """Read every table of the exam's data folder with its dtypes (schema.json)."""
    folder = Path(folder)
    schema = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
    tables = {}
    for name, columns in schema["tables"].items():
        raw = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False,
                          na_filter=False, encoding="utf-8")
        out = {}
        for col in columns:
            s = raw[col["name"]].astype(object)
            kind = col["dtype"]
            if col["nullable"]:
                s = s.where(s != "", None)
            if kind in ("bool", "boolean"):
                s = s.map({"True": True, "False": False, None: None})
            elif kind.startswith("datetime64"):
                s = pd.to_datetime(s, format="ISO8601", utc="UTC" in kind)
            elif kind == "category":
                cats = pd.Index(col["categories"], dtype=col["categories_dtype"])
                if col["categories_dtype"] not in ("str", "object"):
                    s = pd.to_numeric(s)
                out[col["name"]] = pd.Categorical(s, categories=cats, ordered=col["ordered"])
                continue
            elif kind.startswith(("float", "Float")):
                # numpy's str -> float conversion is correctly rounded: repr round-trips
                s = s.where(s.notna(), "nan").to_numpy(dtype=object).astype("float64")
            elif kind.startswith(("int", "Int", "uint", "UInt")):
                s = pd.to_numeric(s)
            out[col["name"]] = pd.Series(s).astype(kind)
        tables[name] = pd.DataFrame(out)
    return tables, schema["meta"]
'''

CALL_CODE = '''\
tables, meta = load_exam_data("data")
globals().update(tables)          # 每张表一个变量：orders、products …
world = SimpleNamespace(meta=meta, tables=tables, **tables)   # world.meta['start'] 等
print("已读取 (loaded):", ", ".join(f"{k} {len(v):,} 行" for k, v in tables.items()))
'''


def _schema_col(s: pd.Series) -> dict[str, Any]:
    kind = str(s.dtype)
    col: dict[str, Any] = {"name": str(s.name), "dtype": kind, "nullable": bool(s.isna().any())}
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        col.update(dtype="category", categories=[c if isinstance(c, str) else c.item()
                                                 if hasattr(c, "item") else c for c in cats],
                   categories_dtype=str(cats.dtype) if cats.dtype != object else "object",
                   ordered=bool(s.cat.ordered))
    elif kind == "str" or kind.startswith("string"):
        col["dtype"] = "str"
        if col["nullable"] and bool((s == "").any()):
            raise ExamError(f"column {s.name}: has both empty strings and missing values, "
                            "which CSV cannot tell apart; report this to the kit maintainers")
    return col


def _fingerprint(folder: Path, names: list[str]) -> str:
    h = hashlib.sha256()
    for n in [SCHEMA, *(f"{t}.csv" for t in names)]:
        h.update(n.encode() + b"\0" + hashlib.sha256((folder / n).read_bytes()).digest())
    return h.hexdigest()


def load_data(folder: str | Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Load a pack's data exactly as the exam notebook does (runs :data:`LOADER_CODE`)."""
    ns: dict[str, Any] = {"__name__": "cbec_exam_loader"}
    exec(compile(LOADER_CODE, "<exam loader>", "exec"), ns)
    return ns["load_exam_data"](Path(folder))


def write_data(world: Any, tables: list[str], dest: Path, *, verify: bool = True) -> str:
    """Write ``tables`` of ``world`` as CSV + schema.json into ``dest``; return the dataset
    fingerprint (sha256 over the files). With ``verify`` the files are read back with the
    notebook's loader and must equal the world's tables exactly."""
    bad = [t for t in tables if t in FORBIDDEN_TABLES or t not in world.tables]
    if bad:
        raise ExamError(f"table {bad[0]!r} cannot go into an exam pack (labels or unknown)")
    dest.mkdir(parents=True, exist_ok=True)
    schema: dict[str, Any] = {"meta": {k: world.meta[k] for k in META_KEYS if k in world.meta},
                              "tables": {}}
    for name in tables:
        df = world.tables[name]
        schema["tables"][name] = [_schema_col(df[c]) for c in df.columns]
        df.to_csv(dest / f"{name}.csv", index=False, lineterminator="\n", encoding="utf-8",
                  na_rep="")
    (dest / SCHEMA).write_text(json.dumps(schema, ensure_ascii=False, indent=1, default=str)
                               + "\n", encoding="utf-8")
    if verify:
        loaded, _ = load_data(dest)
        for name in tables:
            try:
                pd.testing.assert_frame_equal(loaded[name], world.tables[name].reset_index(
                    drop=True), check_exact=True)
            except AssertionError as exc:
                first = str(exc).strip().splitlines()[0]
                raise ExamError(f"exam data {name}.csv does not round-trip through CSV "
                                f"({first}); report this to the kit maintainers") from None
    return _fingerprint(dest, tables)


def notebook(title: str, candidate: str, duration: float, items: list[dict[str, Any]]
             ) -> nbformat.NotebookNode:
    """The exam notebook: instructions, the setup cell, a statement + answer cell per item.
    ``items``: dicts with q, exercise (an :class:`~graders.exercise.Exercise`), unit_title,
    points."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    total = sum(float(i["points"]) for i in items)
    intro = (f"# {title}\n\n"
             f"考生 (candidate)：`{candidate}` · 时长 (duration)：{duration:g} 分钟 · "
             f"共 {len(items)} 题，{total:g} 分\n\n"
             "**考试须知 (instructions)**\n\n"
             "1. 先运行下面的设置单元格 (setup cell)，它读取 `data/` 里你自己的数据集；"
             "每张表是一个同名变量（如 `orders`），`world.meta` 是数据期间。不要修改它。\n"
             "2. 每道题把答案赋给题目指定的变量，替换 `...`。只能使用 pandas、numpy 和 "
             "matplotlib；本考试没有即时检查 (no checks)，也没有提示。\n"
             "3. 可以增加自己的代码单元格。交卷前请「重启并运行全部」(Restart & Run All)，"
             "确认没有报错，然后保存并提交 `exam.ipynb`。\n"
             "4. 评分以服务器收到文件的时间为准 (server receipt time)，不以本机时间为准。")
    cells = [nbformat.v4.new_markdown_cell(intro, metadata={"cbec": {"role": "intro"}}),
             nbformat.v4.new_code_cell(LOADER_CODE + "\n\n" + CALL_CODE,
                                       metadata={"cbec": {"role": "setup"}, "editable": False,
                                                 "deletable": False})]
    for it in items:
        ex = it["exercise"]
        q = it["q"]
        text = (f"## {q.upper()}. {ex.title}（{it['unit_title']}，{float(it['points']):g} 分）\n\n"
                f"{ex.question}\n\n答案变量 (answer)：`{ex.answer}`"
                + (f" — {ex.answer_cn}" if ex.answer_cn else ""))
        cells.append(nbformat.v4.new_markdown_cell(
            text, metadata={"cbec": {"role": "statement", "item": q}, "editable": False,
                            "deletable": False}))
        cells.append(nbformat.v4.new_code_cell(
            f"{ex.answer} = ...\n", metadata={"cbec": {"role": "answer", "item": q}}))
    for i, c in enumerate(cells):
        c["id"] = f"exam-{i:03d}"
    nb.cells = cells
    return nb
