"""Answers as plain data: :func:`capture` runs in the sandboxed child, :func:`restore` in the
grader.

The child turns each requested variable of the trainee's namespace into JSON (plus one Parquet
file per DataFrame); the grader turns that back into plain Python / pandas objects and scores
them in its own process. Nothing is pickled, so no trainee-defined class ever reaches the
grader.

Why the conversions look the way they do
----------------------------------------
Trainee code controls its objects completely: a ``float`` subclass can override ``__float__``
and ``__eq__``, a ``list`` subclass ``__iter__``, any class can fake ``__class__`` so that
``isinstance`` lies, a DataFrame subclass can override ``equals``. So:

* the type is taken from ``type(x)`` and tested with ``issubclass`` against builtin and library
  classes (their metaclass is ``type``, which a trainee cannot change), never ``isinstance``;
* values are read with the *base class's* C-level methods — ``float.__float__(x)``,
  ``int.__int__(x)``, ``str.__str__(x)``, ``list.copy(x)``, ``tuple.__getitem__(x, slice)``,
  ``set(x)`` (reads the hash table directly), ``Decimal.__str__(x)`` — through references
  taken when this module is imported, before any cell runs (a cell may rebind
  ``builtins.float``). These read the stored
  value and return an *exact* builtin object; an overridden ``__float__``/``__iter__``/
  ``__str__`` is never called, and a faked ``__class__`` makes the base method raise
  ``TypeError`` (→ "unsupported");
* pandas objects are first rebuilt as the base class (``pd.Series(x)``/``pd.DataFrame(x)``) so
  subclass methods are gone, then every element goes through the same scalar rules (object
  columns holding exotic objects become "unsupported"); DataFrames are written by pyarrow,
  which only understands plain values;
* whatever comes out is plain data: ``==`` on it is the builtin one.

The child runs in the trainee's process, so a determined trainee can patch this module too —
but the most that buys is choosing the plain value that gets recorded, which is no more than
assigning that value to the answer variable. The grader never trusts the files: :func:`restore`
validates their structure strictly and turns anything malformed into :class:`Unsupported`
(never an exception).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import stat
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

RESULTS_VERSION = 1
MAX_ITEMS = 2_000_000  # elements of one captured list/array/Series
MAX_TEXT = 1_000_000  # characters of one captured string
MAX_DEPTH = 4  # nesting of tuples inside elements (MultiIndex labels)
MAX_PARQUET_BYTES = 256 * 1024 * 1024

# Builtins bound at import, before any trainee code runs (a cell could rebind builtins.float).
_float, _int, _str, _bool, _len, _type, _issubclass = float, int, str, bool, len, type, issubclass
_isinstance = isinstance
_list, _tuple, _set, _frozenset, _dict = list, tuple, set, frozenset, dict


# ------------------------------------------------------------------------------------------
# markers (grader side)


@dataclass(frozen=True)
class Missing:
    """The variable did not exist after the run (never assigned, or the run did not finish)."""

    def __repr__(self) -> str:
        return "<missing answer>"


MISSING = Missing()


@dataclass(frozen=True)
class Unsupported:
    """The answer could not be captured as plain data (``what``: its type or the problem)."""

    what: str

    def __repr__(self) -> str:
        return f"<unsupported answer: {self.what}>"


class _Reject(Exception):
    """A value that cannot be turned into plain data (message: what it was)."""


# ------------------------------------------------------------------------------------------
# child side


def _tname(x: Any) -> str:
    t = _type(x)
    mod = getattr(t, "__module__", "") or ""
    name = getattr(t, "__qualname__", None) or "object"
    if not _isinstance(name, _str) or not _isinstance(mod, _str):
        return "object"
    return name if mod == "builtins" else f"{mod}.{name}"


def _enc_float(v: float) -> Any:
    if math.isnan(v):
        return {"$float": "nan"}
    if math.isinf(v):
        return {"$float": "inf" if v > 0 else "-inf"}
    return v


def element(x: Any, depth: int = 0) -> Any:
    """One scalar as JSON-able data (see the module docstring); raises :class:`_Reject`."""
    import numpy as np
    import pandas as pd

    t = _type(x)
    if x is None:
        return None
    if t is _bool:  # bool cannot be subclassed
        return x
    if _issubclass(t, _int):
        return _int.__int__(x)
    if _issubclass(t, _float):  # includes numpy.float64
        return _enc_float(_float.__float__(x))
    if _issubclass(t, _str):
        s = _str.__str__(x)
        if _len(s) > MAX_TEXT:
            raise _Reject("str (too long)")
        return s
    if _issubclass(t, Decimal):
        return {"$decimal": Decimal.__str__(x)}
    if _issubclass(t, np.generic):
        if _issubclass(t, np.datetime64 | np.timedelta64):
            if np.isnat(x):
                return {"$na": "NaT"}
            return element(pd.Timestamp(x) if _issubclass(t, np.datetime64)
                           else pd.Timedelta(x), depth)
        if _issubclass(t, np.bool_):
            return _bool(np.bool_.item(x))
        if _issubclass(t, np.integer | np.floating):
            return element(np.generic.item(x), depth)
        if _issubclass(t, np.str_):
            return element(_str.__str__(x), depth)
        raise _Reject(_tname(x))
    if x is pd.NaT:
        return {"$na": "NaT"}
    if x is pd.NA:
        return {"$na": "NA"}
    if t is pd.Timestamp:
        return {"$ts": pd.Timestamp.isoformat(x)}
    if t is pd.Timedelta:
        return {"$td": _int.__int__(x.value)}
    if t is dt.datetime:
        return {"$ts": dt.datetime.isoformat(x)}
    if t is dt.date:
        return {"$date": dt.date.isoformat(x)}
    if _issubclass(t, _tuple) and depth < MAX_DEPTH:
        items = _tuple.__getitem__(x, slice(None))
        return {"$tuple": [element(i, depth + 1) for i in items]}
    raise _Reject(_tname(x))


def _elements(seq: Any) -> list:
    if _len(seq) > MAX_ITEMS:
        raise _Reject("too many values")
    return [element(v) for v in seq]


def _index(idx: Any) -> dict:
    import pandas as pd

    idx = pd.Index(idx) if not _issubclass(_type(idx), pd.MultiIndex) else idx
    names = [element(n) for n in _list(idx.names)]
    values = _elements(idx.tolist())
    return {"names": names, "values": values, "dtype": _str(idx.dtype)
            if idx.nlevels == 1 else "object"}


def _series(x: Any) -> dict:
    import pandas as pd

    s = pd.Series(x, copy=False)  # the base class: subclass methods are gone
    if _type(s) is not pd.Series:
        raise _Reject(_tname(x))
    return {"type": "series", "index": _index(s.index), "values": _elements(s.tolist()),
            "name": element(s.name), "dtype": _str(s.dtype)}


def _frame(x: Any, path: str) -> dict:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = pd.DataFrame(x, copy=False)
    if _type(df) is not pd.DataFrame:
        raise _Reject(_tname(x))
    cols: dict[str, Any] = {}
    rows = pd.RangeIndex(df.shape[0])
    default_index = (_type(df.index) is pd.RangeIndex and df.index.start == 0
                     and df.index.step == 1 and df.index.name is None)
    index = None
    if not default_index:
        index = {"names": [element(n) for n in _list(df.index.names)],
                 "levels": df.index.nlevels}
        for k in range(df.index.nlevels):
            cols[f"i{k}"] = pd.Series(df.index.get_level_values(k), index=rows, copy=False)
    for j in range(df.shape[1]):
        cols[f"c{j}"] = df.iloc[:, j].set_axis(rows)
    flat = pd.DataFrame(cols, copy=False)
    if not cols:
        flat = pd.DataFrame(index=range(df.shape[0]))
    try:
        table = pa.Table.from_pandas(flat, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise _Reject(f"DataFrame with values pyarrow cannot store ({type(exc).__name__})"
                      ) from None
    pq.write_table(table.replace_schema_metadata(None), path)
    return {"type": "frame", "file": os.path.basename(path), "rows": int(df.shape[0]),
            "columns": [element(c) for c in df.columns.tolist()],
            "columns_names": [element(n) for n in _list(df.columns.names)],
            "index": index}


def _chart(x: Any) -> dict | None:
    """ChartData fields of an Axes / Figure / array of Axes, or None if ``x`` is none of them."""
    import sys

    if "matplotlib" not in sys.modules:
        return None
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    t = _type(x)
    ax = None
    if _issubclass(t, Axes):
        ax = x
    elif _issubclass(t, Figure):
        axes = Figure.axes.__get__(x)
        ax = axes[0] if axes else None
        if ax is None:
            raise _Reject("Figure without axes")
    elif _issubclass(t, np.ndarray) and x.size and _issubclass(_type(x.flat[0]), Axes):
        ax = x.flat[0]
    if ax is None:
        return None
    from graders.compare import ChartData

    cd = ChartData.from_axes(ax)
    return {"type": "chart",
            "bars": [_enc_float(_float.__float__(_float(v))) for v in cd.bars],
            "barhs": [_enc_float(_float.__float__(_float(v))) for v in cd.barhs],
            "line": [_enc_float(_float.__float__(_float(v))) for v in cd.line],
            "title": element(cd.title), "xlabel": element(cd.xlabel),
            "ylabel": element(cd.ylabel)}


def encode(x: Any, frame_path: str) -> dict:
    """Plain-data form of one answer (``frame_path``: where a DataFrame's Parquet goes).
    Never raises: anything that cannot be captured becomes ``{"type": "unsupported"}``."""
    try:
        return _encode(x, frame_path)
    except _Reject as exc:
        return {"type": "unsupported", "what": _str(exc)}
    except Exception as exc:  # trainee objects can raise anything from anywhere
        return {"type": "unsupported", "what": f"{_tname(x)} ({type(exc).__name__})"}


def _encode(x: Any, frame_path: str) -> dict:
    import numpy as np
    import pandas as pd

    t = _type(x)
    if x is Ellipsis:
        return {"type": "ellipsis"}
    if _issubclass(t, pd.DataFrame):
        return _frame(x, frame_path)
    if _issubclass(t, pd.Series):
        return _series(x)
    if _issubclass(t, pd.Index):
        d = _index(x)
        return {"type": "index", **d}
    chart = _chart(x)
    if chart is not None:
        return chart
    if _issubclass(t, np.ndarray):
        a = np.asarray(x)  # base ndarray (subok=False)
        if a.size > MAX_ITEMS:
            raise _Reject("too many values")
        flat = np.ndarray.tolist(a.reshape(-1))
        return {"type": "ndarray", "values": _elements(flat), "shape": _list(a.shape),
                "dtype": _str(a.dtype)}
    if _issubclass(t, _list):
        return {"type": "list", "values": _elements(_list.copy(x))}
    if _issubclass(t, _tuple):
        return {"type": "tuple", "values": _elements(_tuple.__getitem__(x, slice(None)))}
    if _issubclass(t, _frozenset):
        return {"type": "frozenset", "values": _elements(_list(_frozenset(x)))}
    if _issubclass(t, _set):
        return {"type": "set", "values": _elements(_list(_set(x)))}
    return {"type": "scalar", "value": element(x)}


def capture(namespace: dict, names: list[str], out_dir: str) -> dict[str, dict]:
    """Encode ``names`` from ``namespace``; DataFrames go to ``out_dir/answer-<k>.parquet``."""
    out: dict[str, dict] = {}
    for k, name in enumerate(names):
        if name not in namespace:
            out[name] = {"type": "missing"}
            continue
        enc = encode(namespace[name], os.path.join(out_dir, f"answer-{k}.parquet"))
        try:
            dumps(enc)
        except (ValueError, TypeError, RecursionError) as exc:  # e.g. a 10_000-digit int
            enc = {"type": "unsupported", "what": f"not storable as JSON ({type(exc).__name__})"}
        out[name] = enc
    return out


# ------------------------------------------------------------------------------------------
# grader side


class _Bad(Exception):
    pass


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise _Bad(what)


_TS_RE = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?"
                    r"(Z|[+-]\d\d:\d\d(:\d\d(\.\d{1,6})?)?)?$")
_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _dec_element(v: Any, depth: int = 0) -> Any:
    import pandas as pd

    t = type(v)
    if v is None or t in (bool, int, str):
        if t is str:
            _need(len(v) <= MAX_TEXT, "string too long")
        return v
    if t is float:
        _need(math.isfinite(v), "non-finite float")
        return v
    _need(t is dict and len(v) == 1, "element")
    (tag, val), = v.items()
    if tag == "$float":
        _need(val in _SPECIAL_FLOATS, "float")
        return _SPECIAL_FLOATS[val]
    if tag == "$decimal":
        _need(type(val) is str and len(val) <= 200, "decimal")
        try:
            return Decimal(val)
        except InvalidOperation:
            raise _Bad("decimal") from None
    if tag == "$na":
        _need(val in ("NA", "NaT"), "NA")
        return pd.NA if val == "NA" else pd.NaT
    if tag == "$ts":
        _need(type(val) is str and _TS_RE.match(val) is not None, "timestamp")
        return pd.Timestamp(val)
    if tag == "$td":
        _need(type(val) is int, "timedelta")
        return pd.Timedelta(val, unit="ns")
    if tag == "$date":
        _need(type(val) is str and len(val) <= 16, "date")
        return dt.date.fromisoformat(val)
    if tag == "$tuple":
        _need(type(val) is list and depth < MAX_DEPTH, "tuple")
        return tuple(_dec_element(i, depth + 1) for i in val)
    raise _Bad(f"element tag {tag!r}")


def _dec_list(v: Any) -> list:
    _need(type(v) is list and len(v) <= MAX_ITEMS, "values")
    return [_dec_element(i) for i in v]


def _dtype(s: Any):
    import pandas as pd

    _need(type(s) is str and len(s) <= 100, "dtype")
    try:
        return pd.api.types.pandas_dtype(s)
    except (TypeError, ValueError):
        return None


def _astype(obj, dtype):
    if dtype is None or obj.dtype == dtype:
        return obj
    try:
        return obj.astype(dtype)
    except (TypeError, ValueError, OverflowError):
        return obj


def _dec_index(d: Any):
    import pandas as pd

    _need(type(d) is dict and set(d) == {"names", "values", "dtype"}, "index")
    names = _dec_list(d["names"])
    values = _dec_list(d["values"])
    _need(len(names) >= 1, "index names")
    if len(names) > 1:
        _need(all(type(v) is tuple and len(v) == len(names) for v in values), "MultiIndex")
        return pd.MultiIndex.from_tuples(values, names=names) if values else \
            pd.MultiIndex.from_arrays([[] for _ in names], names=names)
    idx = pd.Index(values, name=names[0], tupleize_cols=False)
    return _astype(idx, _dtype(d["dtype"]))


def _dec_frame(d: dict, files_dir: str | None):
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    _need(set(d) == {"type", "file", "rows", "columns", "columns_names", "index"}, "frame keys")
    _need(files_dir is not None, "frame without a directory")
    name = d["file"]
    _need(type(name) is str and name.startswith("answer-") and name.endswith(".parquet")
          and os.path.basename(name) == name, "frame file name")
    _need(not os.path.islink(files_dir), "frame directory is a symlink")
    path = os.path.join(files_dir, name)
    try:
        st = os.lstat(path)
    except OSError:
        raise _Bad("frame file missing") from None
    _need(stat.S_ISREG(st.st_mode), "frame file is not a regular file")  # no symlinks
    _need(st.st_size <= MAX_PARQUET_BYTES, "frame file too large")
    columns = _dec_list(d["columns"])
    col_names = _dec_list(d["columns_names"])
    index = d["index"]
    nidx = 0
    if index is not None:
        _need(type(index) is dict and set(index) == {"names", "levels"}, "frame index")
        nidx = index["levels"]
        _need(type(nidx) is int and 1 <= nidx <= 32, "frame index levels")
        idx_names = _dec_list(index["names"])
        _need(len(idx_names) == nidx, "frame index names")
    rows = d["rows"]
    _need(type(rows) is int and rows >= 0, "rows")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise _Bad(f"parquet ({type(exc).__name__})") from None
    want = [f"i{k}" for k in range(nidx)] + [f"c{j}" for j in range(len(columns))]
    _need(table.column_names == want, "frame columns")
    _need(table.num_rows == rows, "frame rows")
    for field in table.schema:
        _need(_plain_arrow(field.type), f"column type {field.type}")
    flat = table.replace_schema_metadata(None).to_pandas()
    body = flat[[f"c{j}" for j in range(len(columns))]]
    if nidx:
        arrays = [flat[f"i{k}"].to_numpy() for k in range(nidx)]
        body.index = (pd.MultiIndex.from_arrays(arrays, names=idx_names) if nidx > 1
                      else pd.Index(arrays[0], name=idx_names[0]))
    if len(col_names) > 1:
        _need(all(type(c) is tuple and len(c) == len(col_names) for c in columns), "columns")
        body.columns = pd.MultiIndex.from_tuples(columns, names=col_names) if columns else \
            pd.MultiIndex.from_arrays([[] for _ in col_names], names=col_names)
    else:
        body.columns = pd.Index(columns, name=col_names[0] if col_names else None,
                                tupleize_cols=False)
    return pd.DataFrame(body)


def _plain_arrow(t) -> bool:
    import pyarrow.types as pt

    if pt.is_dictionary(t):
        return _plain_arrow(t.value_type) and pt.is_integer(t.index_type)
    return (pt.is_null(t) or pt.is_boolean(t) or pt.is_integer(t) or pt.is_floating(t)
            or pt.is_string(t) or pt.is_large_string(t) or pt.is_timestamp(t)
            or pt.is_date(t) or pt.is_duration(t) or pt.is_decimal(t)
            or (hasattr(pt, "is_string_view") and pt.is_string_view(t)))


def _dec_chart(d: dict):
    from graders.compare import ChartData

    _need(set(d) == {"type", "bars", "barhs", "line", "title", "xlabel", "ylabel"}, "chart")

    def floats(v):
        out = _dec_list(v)
        _need(all(type(f) is float or type(f) is int for f in out), "chart values")
        return tuple(float(f) for f in out)

    texts = [_dec_element(d[k]) for k in ("title", "xlabel", "ylabel")]
    _need(all(type(t) is str for t in texts), "chart labels")
    return ChartData(floats(d["bars"]), floats(d["barhs"]), floats(d["line"]), *texts)


def restore_one(d: Any, files_dir: str | None = None) -> Any:
    """One encoded answer back to a plain object, :data:`MISSING` or :class:`Unsupported`."""
    try:
        return _restore_one(d, files_dir)
    except _Bad as exc:
        return Unsupported(f"malformed captured answer ({exc})")
    except Exception as exc:  # strict: a malformed file must never crash the grader
        return Unsupported(f"malformed captured answer ({type(exc).__name__})")


def _restore_one(d: Any, files_dir: str | None) -> Any:
    import numpy as np
    import pandas as pd

    _need(type(d) is dict and type(d.get("type")) is str, "answer")
    kind = d["type"]
    if kind == "missing":
        _need(len(d) == 1, "missing")
        return MISSING
    if kind == "unsupported":
        what = d.get("what")
        _need(set(d) == {"type", "what"} and type(what) is str, "unsupported")
        return Unsupported(what[:200])
    if kind == "ellipsis":
        _need(len(d) == 1, "ellipsis")
        return Ellipsis
    if kind == "scalar":
        _need(set(d) == {"type", "value"}, "scalar")
        return _dec_element(d["value"])
    if kind in ("list", "tuple", "set", "frozenset"):
        _need(set(d) == {"type", "values"}, kind)
        values = _dec_list(d["values"])
        if kind in ("set", "frozenset"):
            try:
                return {"set": set, "frozenset": frozenset}[kind](values)
            except TypeError:
                raise _Bad("unhashable set values") from None
        return values if kind == "list" else tuple(values)
    if kind == "ndarray":
        _need(set(d) == {"type", "values", "shape", "dtype"}, "ndarray")
        values = _dec_list(d["values"])
        shape = d["shape"]
        _need(type(shape) is list and len(shape) <= 8
              and all(type(n) is int and n >= 0 for n in shape)
              and math.prod(shape) == len(values), "ndarray shape")
        dtype = _dtype(d["dtype"])
        dtype = dtype if isinstance(dtype, np.dtype) and dtype.kind in "biufUSO" else object
        try:
            return np.array(values, dtype=dtype).reshape(shape)
        except (TypeError, ValueError, OverflowError):
            return np.array(values, dtype=object).reshape(shape)
    if kind == "index":
        _need(set(d) == {"type", "names", "values", "dtype"}, "index")
        return _dec_index({k: d[k] for k in ("names", "values", "dtype")})
    if kind == "series":
        _need(set(d) == {"type", "index", "values", "name", "dtype"}, "series")
        index = _dec_index(d["index"])
        values = _dec_list(d["values"])
        _need(len(values) == len(index), "series length")
        name = _dec_element(d["name"])
        s = pd.Series(values, index=index, name=name, dtype=object if not values else None)
        return _astype(s, _dtype(d["dtype"]))
    if kind == "frame":
        return _dec_frame(d, files_dir)
    if kind == "chart":
        return _dec_chart(d)
    raise _Bad(f"type {kind!r}")


def restore(captured: Any, files_dir: str | os.PathLike | None = None,
            names: list[str] | None = None) -> dict[str, Any]:
    """All answers of a results file's ``answers`` mapping back to plain objects.

    ``names``: the variables that were asked for — each is present in the result (a name
    the file lacks is :data:`MISSING`; names the file has but nobody asked for are dropped)."""
    fd = os.fspath(files_dir) if files_dir is not None else None
    if type(captured) is not dict:
        captured = {}
    keys = names if names is not None else [k for k in captured if type(k) is str]
    return {k: restore_one(captured[k], fd) if k in captured else MISSING for k in keys}


def dumps(obj: Any) -> str:
    """Strict JSON (no NaN/Infinity literals)."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)
