"""Declared schemas for every table: one source for validation and the data dictionary.

Each table module declares a :class:`TableSpec`; :func:`validate_table` checks a DataFrame
against it and :func:`data_dictionary` renders all specs as Markdown. Nothing else describes
columns, so the dictionary shipped with a dataset cannot drift from the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Logical dtypes used in specs and the pandas dtype each one must have.
DTYPES: dict[str, str] = {
    "str": "str",
    "category": "category",
    "int": "int64",
    "int32": "int32",
    "Int64": "Int64",
    "float": "float64",
    "money": "float64",
    "rate": "float64",
    "bool": "bool",
    "timestamp": "datetime64[ns, UTC]",
    "date": "datetime64[ns]",
}

DTYPE_NOTES: dict[str, str] = {
    "str": "text",
    "category": "categorical code (values listed)",
    "int": "integer, never missing",
    "int32": "integer, never missing (32-bit, for very long tables)",
    "Int64": "integer, may be missing (pandas `Int64`)",
    "float": "decimal number",
    "money": "money amount, rounded half-up to the cent (2 decimals)",
    "rate": "share between 0 and 1 unless stated",
    "bool": "true/false",
    "timestamp": "date and time in UTC (`datetime64[ns, UTC]`)",
    "date": "calendar date (market-local day, no time zone)",
}


class SchemaError(ValueError):
    """A table does not match its declared schema."""


@dataclass(frozen=True)
class Column:
    """One column: name, logical dtype, meaning and constraints."""

    name: str
    dtype: str
    description: str
    unit: str = ""
    nullable: bool = False
    unique: bool = False
    ge: float | None = None
    le: float | None = None
    values: tuple[str, ...] | None = None
    references: str | None = None  # "table.column"

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"column {self.name!r}: unknown dtype {self.dtype!r}")


@dataclass(frozen=True)
class TableSpec:
    """A table: name, grain (what one row is), columns, and whether it is ground truth."""

    name: str
    grain: str
    description: str
    columns: tuple[Column, ...]
    label: bool = False
    checks: tuple[str, ...] = field(default=())  # human-readable invariants, tested elsewhere

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


REGISTRY: dict[str, TableSpec] = {}


def register(spec: TableSpec) -> TableSpec:
    """Add a spec to the registry (idempotent for the same spec)."""
    if spec.name in REGISTRY and REGISTRY[spec.name] != spec:
        raise ValueError(f"table {spec.name!r} is declared twice")
    REGISTRY[spec.name] = spec
    return spec


def _conform_column(s: pd.Series, col: Column) -> pd.Series:
    """The column with its declared dtype; returns ``s`` itself when it already conforms."""
    target = DTYPES[col.dtype]
    if col.dtype == "category":
        cats = list(col.values) if col.values else None
        if isinstance(s.dtype, pd.CategoricalDtype) and cats is None:
            # open code lists: sorted and without unused labels, so files round-trip exactly
            if not s.cat.categories.is_monotonic_increasing:
                s = s.cat.reorder_categories(sorted(s.cat.categories))
            used = np.unique(s.cat.codes.to_numpy())
            if len(used[used >= 0]) < len(s.cat.categories):
                s = s.cat.remove_unused_categories()
        elif isinstance(s.dtype, pd.CategoricalDtype) and list(s.cat.categories) == cats:
            pass  # already right: keep the (cheap) codes
        elif cats is not None:
            s = pd.Series(pd.Categorical(s, categories=cats), index=s.index, name=s.name)
        else:
            s = pd.Series(pd.Categorical(s, categories=sorted(pd.unique(s.dropna()))),
                          index=s.index, name=s.name)
    elif col.dtype == "timestamp" and getattr(s.dtype, "tz", None) is None:
        s = pd.to_datetime(s, utc=True).astype(target)
    elif str(s.dtype) != target:
        s = s.astype(target)
    if col.dtype == "timestamp":  # whole seconds: exact CSV round trips, monotone
        v = s.array.asi8
        if ((v % 10**9 != 0) & (v != np.iinfo(np.int64).min)).any():
            s = s.dt.floor("s")
    return s


def conform(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Return ``df`` with the spec's column order and dtypes.

    Columns that already conform are reused as they are, and ``df`` itself is returned when
    nothing needs to change, so conforming a big table costs no copy.
    """
    missing = [c for c in spec.column_names if c not in df.columns]
    if missing:
        raise SchemaError(f"{spec.name}: generator did not produce columns {missing}")
    out = {col.name: _conform_column(df[col.name], col) for col in spec.columns}
    unchanged = all(out[c] is df[c] or out[c].array is df[c].array for c in out)
    same_shape = list(df.columns) == spec.column_names and isinstance(df.index, pd.RangeIndex) \
        and df.index.start == 0 and df.index.step == 1
    if unchanged and same_shape:
        return df
    return pd.DataFrame({k: v.array for k, v in out.items()},
                        index=pd.RangeIndex(len(df)), copy=False)


def validate_table(df: pd.DataFrame, spec: TableSpec) -> list[str]:
    """Return a list of problems (empty when the table matches its spec)."""
    problems: list[str] = []
    if list(df.columns) != spec.column_names:
        problems.append(
            f"{spec.name}: columns {list(df.columns)} differ from spec {spec.column_names}"
        )
        return problems
    for col in spec.columns:
        s = df[col.name]
        want = DTYPES[col.dtype]
        if str(s.dtype) != want:
            problems.append(f"{spec.name}.{col.name}: dtype {s.dtype} != {want}")
            continue
        nulls = int(s.isna().sum())
        if nulls and not col.nullable:
            problems.append(f"{spec.name}.{col.name}: {nulls} missing values")
        if col.unique and s.duplicated().any():
            problems.append(f"{spec.name}.{col.name}: duplicate values")
        present = s.dropna()
        if col.ge is not None and (present < col.ge).any():
            problems.append(f"{spec.name}.{col.name}: values below {col.ge}")
        if col.le is not None and (present > col.le).any():
            problems.append(f"{spec.name}.{col.name}: values above {col.le}")
        if col.values is not None:
            bad = set(present.astype(str).unique()) - set(col.values)
            if bad:
                problems.append(f"{spec.name}.{col.name}: unexpected values {sorted(bad)[:5]}")
        if col.dtype == "money" and len(present):
            cents = present.to_numpy(dtype=float) * 100
            if not np.allclose(cents, np.round(cents), atol=1e-6):
                problems.append(f"{spec.name}.{col.name}: money not rounded to cents")
    return problems


def validate_references(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """Check every ``references=`` foreign key whose parent table is present."""
    problems: list[str] = []
    for name, df in tables.items():
        spec = REGISTRY.get(name)
        if spec is None:
            continue
        for col in spec.columns:
            if not col.references:
                continue
            ptable, pcol = col.references.split(".")
            if ptable not in tables:
                continue
            child = df[col.name].dropna()
            parent = tables[ptable][pcol]
            orphan = ~child.isin(parent)
            if orphan.any():
                problems.append(
                    f"{name}.{col.name}: {int(orphan.sum())} values not found in {ptable}.{pcol}"
                )
    return problems


def _fmt_values(col: Column) -> str:
    if col.values:
        return ", ".join(f"`{v}`" for v in col.values)
    parts = []
    if col.ge is not None:
        parts.append(f"≥ {col.ge:g}")
    if col.le is not None:
        parts.append(f"≤ {col.le:g}")
    if col.references:
        parts.append(f"→ `{col.references}`")
    if col.unique:
        parts.append("unique")
    return "; ".join(parts)


def data_dictionary(
    names: Iterable[str], row_counts: Mapping[str, int] | None = None, title: str = ""
) -> str:
    """Render the specs of ``names`` as a Markdown data dictionary."""
    lines = [f"# {title or 'Data dictionary'}", ""]
    lines += [
        "Generated from the declared schemas in `cbec_sim`; do not edit by hand.",
        "",
        "Conventions: column names are English snake_case; money columns are rounded half-up",
        "to the cent and carry their currency in a `currency` column or in the name",
        "(`*_cny`, `*_usd`);",
        "timestamps are UTC; dates are market-local calendar days.",
        "",
        "| dtype | meaning |",
        "|---|---|",
    ]
    lines += [f"| `{k}` | {v} |" for k, v in DTYPE_NOTES.items()]
    lines.append("")
    for name in names:
        spec = REGISTRY[name]
        rows = f" — {row_counts[name]:,} rows" if row_counts and name in row_counts else ""
        lines += [f"## `{spec.name}`{rows}", "", spec.description, "",
                  f"One row: {spec.grain}.", ""]
        if spec.label:
            lines += ["**Ground truth (labels): not given to trainees.**", ""]
        lines += ["| column | dtype | unit | meaning | values / constraints |",
                  "|---|---|---|---|---|"]
        for c in spec.columns:
            null = " (may be empty)" if c.nullable else ""
            lines.append(
                f"| `{c.name}` | {c.dtype} | {c.unit} | {c.description}{null} | {_fmt_values(c)} |"
            )
        lines.append("")
    return "\n".join(lines)
