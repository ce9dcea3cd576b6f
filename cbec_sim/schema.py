"""Declared schemas for every table: one source for validation and the data dictionary.

Each table module declares a :class:`TableSpec`; :func:`validate_table` checks a DataFrame
against it and :func:`data_dictionary` renders all specs as Markdown. Nothing else describes
columns, so the dictionary shipped with a dataset cannot drift from the data.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

ArrayLike = np.ndarray | ExtensionArray

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


def _dtype_name(dtype) -> str:
    """``str(dtype)``; conform compares every column's dtype name with its spec."""
    return _numpy_dtype_name(dtype) if isinstance(dtype, np.dtype) else str(dtype)


@functools.lru_cache(maxsize=64)
def _numpy_dtype_name(dtype: np.dtype) -> str:
    """``str(dtype)`` of a numpy dtype, cached (numpy builds the name in Python code)."""
    return str(dtype)


#: Code lists up to this length are cached (longer ones, e.g. product ids, are built anew:
#: they differ from world to world and would only fill memory).
_SHORT_LIST = 256


def _category_dtype(categories: tuple[str, ...], ordered: bool = False) -> pd.CategoricalDtype:
    """``pd.CategoricalDtype(list(categories), ordered)`` for text categories.

    The spec's code lists and a world's short open code lists repeat from table to table and
    from world to world, so these are built once; a dtype and its categories Index are
    immutable, so columns may share one.
    """
    if len(categories) <= _SHORT_LIST:
        return _cached_category_dtype(categories, ordered)
    return pd.CategoricalDtype(list(categories), ordered=ordered)


@functools.lru_cache(maxsize=512)
def _cached_category_dtype(categories: tuple[str, ...], ordered: bool) -> pd.CategoricalDtype:
    """:func:`_category_dtype`, cached. Text only: the cache would mix up equal keys of other
    types (1 and 1.0)."""
    return pd.CategoricalDtype(list(categories), ordered=ordered)


def _category_positions(categories: tuple[str, ...]) -> dict[str, int]:
    """Position of each category in ``categories`` (short lists cached, do not modify)."""
    if len(categories) <= _SHORT_LIST:
        return _cached_category_positions(categories)
    return {v: i for i, v in enumerate(categories)}


@functools.lru_cache(maxsize=512)
def _cached_category_positions(categories: tuple[str, ...]) -> dict[str, int]:
    return {v: i for i, v in enumerate(categories)}


def _dtype_with(categories: pd.Index, keep: np.ndarray, ordered: bool) -> pd.CategoricalDtype:
    """``pd.CategoricalDtype(categories.take(keep), ordered)``.

    Short text code lists come from the cache when it has them with the same Index dtype
    (building a dtype checks its categories for missing and repeated values, which costs more
    than the rest of conforming the column).
    """
    if isinstance(categories.dtype, pd.StringDtype) and len(keep) <= _SHORT_LIST:
        labels = categories.tolist()
        dtype = _category_dtype(tuple(labels[i] for i in keep), ordered)
        if dtype.categories.dtype == categories.dtype:
            return dtype
    return pd.CategoricalDtype(categories.take(keep), ordered=ordered)


def _from_codes(codes: np.ndarray, dtype: pd.CategoricalDtype) -> pd.Categorical:
    """A Categorical of ``dtype`` from codes known to be valid (-1 = missing); pandas stores
    them in the smallest integer type, as the Categorical constructor does."""
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def _text_to_categorical(text: ExtensionArray,
                         values: tuple[str, ...] | None) -> pd.Categorical | None:
    """``pd.Categorical(text, categories=...)`` for text values, built from integer codes.

    ``values`` None means the open code list ``sorted(pd.unique(text.dropna()))``. The column is
    factorised once and the codes of its few distinct values remapped, which gives the same
    categories (order and Index dtype) and codes as the constructor at a fraction of its
    cost. Returns None when a value is missing from ``values`` (left to the constructor,
    which warns about it).
    """
    codes, uniques = pd.factorize(text)  # codes -1 where missing
    distinct = uniques.tolist()
    categories = tuple(sorted(distinct)) if values is None else values
    where = _category_positions(categories)
    positions = [where.get(v, -1) for v in distinct]
    if -1 in positions:
        return None
    remap = np.array([*positions, -1], dtype=np.intp)  # the last entry maps code -1 to -1
    return _from_codes(remap[codes], _category_dtype(categories))


def _tidy_open_categorical(cat: pd.Categorical) -> pd.Categorical | None:
    """Categories sorted and without unused labels, or None when ``cat`` is already so.

    Same result as ``cat.reorder_categories(sorted(cat.categories))`` (when not sorted)
    followed by ``remove_unused_categories()`` (when some label is unused), from one pass
    over the codes instead of a sort of them.
    """
    categories, codes, changed = cat.categories, cat.codes, False
    if not categories.is_monotonic_increasing:
        sorted_categories = sorted(categories)
        if isinstance(categories.dtype, pd.StringDtype):
            dtype = _category_dtype(tuple(sorted_categories), cat.ordered)
        else:  # as reorder_categories builds it
            dtype = pd.CategoricalDtype(sorted_categories, ordered=cat.ordered)
        where = {v: i for i, v in enumerate(sorted_categories)}
        remap = np.array([*(where[v] for v in categories), -1], dtype=np.intp)
        codes = remap[codes]
        categories, changed = dtype.categories, True
    else:
        dtype = cat.dtype
    used = np.zeros(len(categories) + 1, dtype=bool)
    used[codes] = True  # code -1 (missing) marks the spare last slot
    keep = np.flatnonzero(used[:-1])
    if len(keep) < len(categories):
        remap = np.full(len(categories) + 1, -1, dtype=np.intp)
        remap[keep] = np.arange(len(keep))
        codes = remap[codes]
        dtype = _dtype_with(categories, keep, cat.ordered)
        changed = True
    return _from_codes(codes, dtype) if changed else None


def _conform_column(s: pd.Series, col: Column) -> pd.Series:
    """The column with its declared dtype; returns ``s`` itself when it already conforms.

    The general path: :func:`_conform_values` handles the common cases without a Series.
    """
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


_NAT = np.iinfo(np.int64).min


def _conform_values(values: ArrayLike, col: Column) -> ArrayLike | None:
    """What :func:`_conform_column` gives for the common cases, from the column's values.

    Returns ``values`` itself when they already conform, new values for text or code columns
    that become categorical, and None when the general path must decide (a type change other
    than text to codes, timestamps that are not whole UTC seconds).
    """
    dtype = values.dtype
    if col.dtype == "category":
        if isinstance(dtype, pd.CategoricalDtype):
            if not col.values:
                tidy = _tidy_open_categorical(values)
                return values if tidy is None else tidy
            return values if list(dtype.categories) == list(col.values) else None
        if isinstance(dtype, pd.StringDtype):
            return _text_to_categorical(values, col.values or None)
        return None
    if _dtype_name(dtype) != DTYPES[col.dtype]:
        return None
    if col.dtype == "timestamp":  # whole seconds (see _conform_column)
        v = values.asi8
        if ((v % 10**9 != 0) & (v != _NAT)).any():
            return None
    return values


def _column_values(df: pd.DataFrame, name: str) -> ArrayLike | None:
    """The values of column ``name`` without building a Series (None if the name repeats).

    ``df[name]`` builds a new Series on every access, which costs more than conforming most
    columns; pandas' own column accessor is used when present (``df[name].array`` if not).
    """
    loc = df.columns.get_loc(name)
    if not isinstance(loc, int | np.integer):
        return None
    getter = getattr(df, "_get_column_array", None)
    return getter(loc) if getter is not None else df.iloc[:, loc].array


def _is_plain(df: pd.DataFrame, names: list[str]) -> bool:
    """Whether ``df`` already looks as :func:`conform` would build it: the spec's columns in
    order, a default RangeIndex, no names, attrs or flags."""
    cols, idx = df.columns, df.index
    return (list(cols) == names and cols.dtype == _columns_index(tuple(names)).dtype
            and cols.name is None and isinstance(idx, pd.RangeIndex) and idx.start == 0
            and idx.step == 1 and idx.name is None and not df.attrs
            and df.flags.allows_duplicate_labels)


@functools.lru_cache(maxsize=256)
def _columns_index(names: tuple[str, ...]) -> pd.Index:
    """The columns Index a DataFrame built from a dict with keys ``names`` gets."""
    return pd.Index(list(names))


def conform(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Return ``df`` with the spec's column order and dtypes.

    Columns that already conform are reused as they are, and ``df`` itself is returned when
    nothing needs to change, so conforming a big table costs no copy.
    """
    names = spec.column_names
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise SchemaError(f"{spec.name}: generator did not produce columns {missing}")
    out, unchanged = {}, True
    for col in spec.columns:
        values = _column_values(df, col.name)
        new = None if values is None else _conform_values(values, col)
        if new is None:  # the general path, on a Series
            s = df[col.name]
            conformed = _conform_column(s, col)
            new, same = conformed.array, conformed is s
        else:
            same = new is values
        out[col.name] = new
        unchanged = unchanged and same
    if unchanged and _is_plain(df, names):
        return df
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)), copy=False)


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
