"""``World``: an immutable container of the simulated tables, with writers and a loader."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cbec_sim.schema import DTYPES, REGISTRY, conform, data_dictionary

MANIFEST = "manifest.json"
DICTIONARY = "DATA-DICTIONARY.md"
LABELS_DIR = "labels"
Format = Literal["parquet", "csv"]


class DatasetError(ValueError):
    """A dataset folder is missing, incomplete or does not match its manifest."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class LazyTables(Mapping):
    """Read-only mapping of table name → DataFrame that reads each file on first access
    (a loaded dataset costs only what a notebook uses); ``rows(name)`` comes from the
    manifest without reading."""

    def __init__(self, loaders: dict[str, Any], rows: dict[str, int]) -> None:
        self._loaders = dict(loaders)
        self._rows = dict(rows)
        self._cache: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            self._cache[name] = self._loaders[name]()  # KeyError for unknown names
        return self._cache[name]

    def __iter__(self):
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)

    def __contains__(self, name: object) -> bool:
        return name in self._loaders

    def rows(self, name: str) -> int:
        return self._rows[name] if name in self._rows else len(self[name])


@dataclass(frozen=True, eq=False)
class World:
    """Tables of one simulated world. ``world.orders`` is ``world.tables["orders"]``.

    ``labels`` holds ground truth for planted anomalies; it is never written next to the
    trainee data unless asked (``with_labels=True``).
    """

    tables: Mapping[str, pd.DataFrame]
    labels: Mapping[str, pd.DataFrame]
    meta: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.tables, LazyTables):
            object.__setattr__(self, "tables", MappingProxyType(dict(self.tables)))
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(f"World has no table {name!r}; tables: {', '.join(tables)}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.tables))

    def __repr__(self) -> str:
        t = self.tables
        n = t.rows if isinstance(t, LazyTables) else (lambda k: len(t[k]))
        return f"World({', '.join(f'{k}={n(k):,}' for k in t)})"

    def describe(self) -> pd.DataFrame:
        """One row per table: rows, columns, memory (MB), grain and whether it is a label."""
        recs = []
        for src, label in ((self.tables, False), (self.labels, True)):
            for name, df in src.items():
                recs.append({
                    "table": name, "rows": len(df), "columns": df.shape[1],
                    "memory_mb": round(df.memory_usage(deep=True).sum() / 1e6, 2),
                    "label": label, "grain": REGISTRY[name].grain,
                })
        return pd.DataFrame(recs).set_index("table")

    # -- writing -----------------------------------------------------------------------
    def to_parquet(self, path: str | Path, *, with_labels: bool = False,
                   include_seed: bool = True) -> Path:
        """Write every table as Parquet plus ``manifest.json`` and the data dictionary."""
        return self._write(Path(path), "parquet", with_labels, include_seed)

    def to_csv(self, path: str | Path, *, with_labels: bool = False,
               include_seed: bool = True) -> Path:
        """Write every table as UTF-8 CSV plus ``manifest.json`` and the data dictionary."""
        return self._write(Path(path), "csv", with_labels, include_seed)

    def _write(self, root: Path, fmt: Format, with_labels: bool, include_seed: bool) -> Path:
        root.mkdir(parents=True, exist_ok=True)
        entries: dict[str, dict[str, Any]] = {}
        groups = [(self.tables, root)]
        if with_labels and self.labels:
            groups.append((self.labels, root / LABELS_DIR))
        for tables, folder in groups:
            folder.mkdir(parents=True, exist_ok=True)
            for name, df in tables.items():
                file = folder / f"{name}.{fmt}"
                _write_table(df, file, fmt)
                entries[name] = {
                    "file": file.relative_to(root).as_posix(), "rows": len(df),
                    "columns": df.shape[1], "sha256": _sha256(file),
                    "label": REGISTRY[name].label,
                }
        meta = dict(self.meta)
        seed = meta.pop("seed", None)
        if include_seed:
            meta["seed"] = seed
        manifest = {"format": fmt, **meta, "tables": entries}
        (root / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
        names = list(self.tables) + (list(self.labels) if with_labels else [])
        counts = {k: v["rows"] for k, v in entries.items()}
        (root / DICTIONARY).write_text(
            data_dictionary(names, counts, title="Data dictionary — simulated cross-border "
                            "e-commerce world") + "\n", encoding="utf-8")
        return root


def _write_table(df: pd.DataFrame, file: Path, fmt: Format) -> None:
    if fmt == "parquet":
        table = pa.Table.from_pandas(df, preserve_index=False)
        pq.write_table(table, file, compression="zstd", use_dictionary=True)
    elif fmt == "csv":
        df.to_csv(file, index=False, lineterminator="\n", date_format="%Y-%m-%dT%H:%M:%S%z")
    else:
        raise ValueError(f"unknown format {fmt!r}: use parquet or csv")


def _read_table(file: Path, name: str, fmt: str) -> pd.DataFrame:
    spec = REGISTRY.get(name)
    if fmt == "parquet":
        df = pd.read_parquet(file)
    else:
        if spec is None:
            return pd.read_csv(file)
        kinds = {c.name: c.dtype for c in spec.columns}
        dt_cols = [n for n, k in kinds.items() if k in ("timestamp", "date")]
        str_cols = {n: "str" for n, k in kinds.items() if k in ("str", "category")}
        df = pd.read_csv(file, dtype=str_cols, keep_default_na=True)
        for c in dt_cols:
            df[c] = pd.to_datetime(df[c], utc=kinds[c] == "timestamp", format="ISO8601")
        for c, k in kinds.items():
            if k == "bool" and df[c].dtype != bool:
                df[c] = df[c].map({"True": True, "False": False, True: True, False: False})
    if spec is None:
        return df
    for c in spec.columns:
        if c.dtype == "timestamp" and str(df[c.name].dtype) != DTYPES["timestamp"]:
            df[c.name] = df[c.name].dt.as_unit("ns")
    return conform(df, spec)


def load(path: str | Path, *, verify: bool = True, with_labels: bool = False,
         lazy: bool = True) -> World:
    """Load a world written by :meth:`World.to_parquet` / :meth:`World.to_csv`.

    With ``verify`` every file's sha256 is checked against the manifest (at once, for all
    files). Trainee tables are read lazily, on first access (``lazy=False``: all at once, e.g.
    before the folder goes away); labels are read at once.
    """
    import cbec_sim.tables  # noqa: F401  (registers all table specs)

    root = Path(path)
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise DatasetError(f"{root}: no {MANIFEST} here — is this a dataset folder written by "
                           "`cbec sim generate`?")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        fmt = manifest["format"]
        entries = manifest["tables"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DatasetError(f"{mpath}: unreadable manifest ({exc}); regenerate the dataset") \
            from exc
    loaders: dict[str, Any] = {}
    rows: dict[str, int] = {}
    labels: dict[str, pd.DataFrame] = {}
    for name, e in entries.items():
        if e.get("label") and not with_labels:
            continue
        file = root / e["file"]
        if not file.is_file():
            raise DatasetError(f"{file}: listed in {MANIFEST} but missing; regenerate the dataset")
        if verify and _sha256(file) != e["sha256"]:
            raise DatasetError(f"{file}: contents changed since it was written (sha256 differs); "
                               "restore it or regenerate the dataset")
        if e.get("label"):
            labels[name] = _read_table(file, name, fmt)
        else:
            loaders[name] = partial(_read_table, file, name, fmt)
            if isinstance(e.get("rows"), int):
                rows[name] = e["rows"]
    meta = {k: v for k, v in manifest.items() if k not in ("tables", "format")}
    if not lazy:
        return World({name: read() for name, read in loaders.items()}, labels, meta)
    return World(LazyTables(loaders, rows), labels, meta)
