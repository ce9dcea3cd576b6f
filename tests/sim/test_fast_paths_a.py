"""Fast paths of schema conforming, label rows and reference tables give exactly what the
general paths give (values, dtypes, categories and their codes)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from cbec_sim.catalog import catalog
from cbec_sim.schema import (
    Column,
    TableSpec,
    _conform_column,
    _conform_values,
    _text_to_categorical,
    _tidy_open_categorical,
    conform,
)
from cbec_sim.tables import reference
from cbec_sim.tables.labels import (
    _anomaly_rows_general,
    anomaly_rows,
    label_frame,
    label_spec,
)

# --------------------------------------------------------------------------- schema


def assert_same_values(got, want) -> None:
    """Same dtype and values; for categoricals also the same categories Index and codes."""
    got, want = pd.array(got), pd.array(want)
    assert got.dtype == want.dtype
    assert type(got) is type(want)
    if isinstance(want.dtype, pd.CategoricalDtype):
        gc, wc = got.categories, want.categories
        assert gc.dtype == wc.dtype
        assert list(gc) == list(wc)
        assert got.ordered == want.ordered
        assert got.codes.dtype == want.codes.dtype
        assert np.array_equal(got.codes, want.codes)
    else:
        pd.testing.assert_extension_array_equal(got, want)


def check_column(values, col: Column) -> None:
    """The fast path (when it answers) equals the general path on a Series."""
    s = pd.Series(values)
    arr = s.array
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the fast path must not hide a pandas warning
        fast = _conform_values(arr, col)
    if fast is None:
        return
    want = _conform_column(s, col)
    assert_same_values(fast, want.array)
    assert (fast is arr) == (want is s)  # unchanged exactly when the general path keeps s


TEXT_CASES = {
    "plain": ["b", "a", "c", "a"],
    "missing": ["b", None, "a", np.nan, "b"],
    "all missing": [None, None],
    "one row": ["z"],
    "empty": [],
    "unicode and case": ["é", "E", "e", "ä", "Z", "a", "€", "aa", "A "],
}


@pytest.mark.parametrize("case", TEXT_CASES)
@pytest.mark.parametrize("values", [None, ("a", "b", "c", "z"), ("z", "c", "b", "a")])
@pytest.mark.parametrize("text_dtype", ["str", "string", pd.StringDtype("python", np.nan)])
def test_text_to_category_equals_constructor(case, values, text_dtype):
    data = pd.array(TEXT_CASES[case], dtype=text_dtype)
    col = Column("x", "category", "", values=values)
    if values is not None and not set(data.dropna()) <= set(values):
        assert _text_to_categorical(data, values) is None  # left to the constructor
        return
    check_column(data, col)


def test_text_to_category_many_categories_use_wider_codes():
    labels = [f"L{i:04d}" for i in range(40_000)]
    rng = np.random.default_rng(0)
    data = pd.array(rng.choice(np.array(labels, dtype=object), 60_000), dtype="str")
    check_column(data, Column("x", "category", ""))
    for k in (126, 127, 128, 32_766, 32_767):  # the code dtype boundaries
        check_column(pd.array(labels[:k], dtype="str"), Column("x", "category", ""))


def _categorical(codes, categories, ordered=False):
    return pd.Categorical.from_codes(np.asarray(codes), categories=categories, ordered=ordered)


CATEGORICAL_CASES = {
    "tidy": _categorical([0, 1, 2, 1], ["a", "b", "c"]),
    "unsorted": _categorical([0, 1, 2, 1], ["c", "a", "b"]),
    "unused": _categorical([0, 2, 2], ["a", "b", "c", "d"]),
    "unsorted and unused": _categorical([3, 1, -1, 3], ["d", "c", "b", "a"]),
    "missing only": _categorical([-1, -1], ["b", "a"]),
    "empty": _categorical(np.array([], dtype=int), ["b", "a"]),
    "no categories": _categorical(np.array([], dtype=int), []),
    "ordered": _categorical([1, 0, 1], ["z", "y", "x"], ordered=True),
    "int categories": _categorical([0, 2], [30, 10, 20]),
    "object categories": pd.Categorical.from_codes(
        [0, 1], dtype=pd.CategoricalDtype(pd.Index(["b", "a", "c"], dtype=object))),
    "int64 codes": pd.Categorical.from_codes(np.array([1, 0], dtype=np.int64),
                                             categories=["b", "a", "c"]),
    "wide": _categorical(np.arange(0, 300, 2), [f"k{i:03d}" for i in range(300)][::-1]),
}


@pytest.mark.parametrize("case", CATEGORICAL_CASES)
def test_open_categorical_tidy_equals_reorder_and_remove(case):
    check_column(CATEGORICAL_CASES[case], Column("x", "category", ""))


@pytest.mark.parametrize("case", CATEGORICAL_CASES)
def test_categorical_with_code_list(case):
    cat = CATEGORICAL_CASES[case]
    check_column(cat, Column("x", "category", "", values=tuple(cat.categories.astype(str))))
    check_column(cat, Column("x", "category", "", values=("a", "b", "c", "d")))


def test_tidy_keeps_an_already_tidy_categorical():
    assert _tidy_open_categorical(CATEGORICAL_CASES["tidy"]) is None


@pytest.mark.parametrize("dtype,values", [
    ("timestamp", pd.to_datetime(["2025-01-01 10:00:00", None], utc=True)),
    ("timestamp", pd.to_datetime(["2025-01-01 10:00:00.5", "2025-01-02 00:00:00.0"], utc=True)),
    ("timestamp", pd.to_datetime(["2025-01-01 10:00"])),
    ("date", pd.to_datetime(["2025-01-01", None]).as_unit("ns")),
    ("date", pd.to_datetime(["2025-01-01"]).as_unit("us")),
    ("int", np.array([1, 2], dtype=np.int64)),
    ("int32", np.array([1, 2], dtype=np.int64)),
    ("money", np.array([1.5, np.nan])),
    ("bool", np.array([True, False])),
    ("Int64", pd.array([1, None], dtype="Int64")),
    ("str", pd.array(["a", None], dtype="str")),
    ("str", np.array(["a", "b"], dtype=object)),
    ("category", np.array(["a", None], dtype=object)),
])
def test_other_columns_equal_general_path(dtype, values):
    check_column(values, Column("x", dtype, ""))


SPEC = TableSpec("fast_path_test", "row", "test table", columns=(
    Column("id", "int", ""),
    Column("kind", "category", "", values=("x", "y", "z")),
    Column("tag", "category", ""),
    Column("when", "timestamp", ""),
    Column("n", "int32", ""),
    Column("name", "str", ""),
))


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tags = pd.Categorical(rng.choice(["q", "p", "r", "s"], n), categories=["s", "r", "q", "p", "o"])
    return pd.DataFrame({
        "name": pd.array(rng.choice(["a", "b"], n).astype(object), dtype="str"),
        "id": np.arange(n, dtype=np.int64),
        "kind": pd.array(rng.choice(["x", "z"], n).astype(object), dtype="str"),
        "tag": tags,
        "when": pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**6, n),
                                                                       unit="s"),
        "n": rng.integers(0, 9, n),
    })


def _reference_conform(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    return pd.DataFrame({c.name: _conform_column(df[c.name], c).array for c in spec.columns})


@pytest.mark.parametrize("n", [0, 1, 50])
def test_conform_equals_general_path(n):
    df = _frame(n, n)
    got, want = conform(df, SPEC), _reference_conform(df, SPEC)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    for c in SPEC.column_names:
        assert_same_values(got[c].array, want[c].array)


def test_conform_returns_a_conforming_frame_itself():
    df = conform(_frame(20, 1), SPEC)
    assert conform(df, SPEC) is df
    named = df.rename_axis("row")  # an index name is not what conform builds: rebuilt
    again = conform(named, SPEC)
    assert again is not named and again.index.name is None


# --------------------------------------------------------------------------- labels

IDS = np.array(["o1", "o2", "o3"], dtype=object)


def _days(unit: str, nat: str = "some") -> np.ndarray:
    days = np.array(["2025-01-01T10:00:00.123456789", "NaT", "2025-03-01"], dtype=f"M8[{unit}]")
    return {"some": days, "none": days[[0, 2, 0]], "all": days[[1, 1, 1]]}[nat]


DAY_CASES = {
    "None": None,
    "Timestamp": pd.Timestamp("2025-02-03"),
    "Timestamp ns": pd.Timestamp("2025-02-03 04:05:06.000000007"),
    "Timestamp s": pd.Timestamp("2025-02-03").as_unit("s"),
    "Timestamp tz": pd.Timestamp("2025-02-03", tz="Asia/Tokyo"),
    "NaT": pd.NaT,
    "string": "2025-02-03",
    **{f"array {u} {nat}": _days(u, nat) for u in ("s", "ms", "us", "ns", "D")
       for nat in ("some", "none", "all")},
    **{f"index {u}": pd.DatetimeIndex(_days(u)) for u in ("s", "ms", "us", "ns")},
    **{f"series {u} {nat}": pd.Series(_days(u, nat)) for u in ("s", "us", "ns")
       for nat in ("some", "all")},
    "series tz": pd.Series(pd.date_range("2025-01-01", periods=3, tz="UTC")),
    "list": [pd.Timestamp("2025-01-01"), None, pd.Timestamp("2025-01-02")],
    "wrong length": _days("ns")[:2],
}

TEXT_ARGS = {
    "None": None,
    "str": "S1",
    "np.str_": np.str_("S1"),
    "array": np.array(["S1", "S2", "S1"], dtype=object),
    "array with None": np.array(["S1", None, "S2"], dtype=object),
    "all None": np.array([None, None, None], dtype=object),
    "unicode array": np.array(["S1", "S2", "S3"]),
    "series": pd.Series(["S1", "S2", "S3"], dtype="str"),
    "list": ["a", "b", "c"],
    "ints": np.array([1, 2, 3]),
}


def check_label(*args, **kw) -> None:
    """anomaly_rows (fast when it can) gives the general path's frame, or the same error."""
    try:
        want = _anomaly_rows_general(*args, **kw)
    except Exception as exc:  # the fast path must fail the same way
        with pytest.raises(type(exc)):
            anomaly_rows(*args, **kw)
        return
    got = anomaly_rows(*args, **kw)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert list(got.dtypes) == list(want.dtypes)


@pytest.mark.parametrize("case", DAY_CASES)
def test_anomaly_rows_days_equal_general_path(case):
    day = DAY_CASES[case]
    check_label("k", "orders", IDS, start=day, detail="d")
    check_label("k", "orders", IDS, store_id="S1", start=day, end=day)
    check_label("k", "orders", IDS, start=pd.Timestamp("2025-01-01"), end=day)


@pytest.mark.parametrize("case", TEXT_ARGS)
def test_anomaly_rows_text_equal_general_path(case):
    v = TEXT_ARGS[case]
    check_label("k", "orders", IDS, store_id=v, detail="d")
    check_label("k", "orders", IDS, store_id="S", detail=v, start=pd.Timestamp("2025-01-01"))


@pytest.mark.parametrize("ids", [["x"], np.array([7]), pd.Series(["a", "b"]), [], ("p", "q")])
def test_anomaly_rows_ids_equal_general_path(ids):
    n = len(ids)
    check_label("kind", "table", ids, store_id=None, detail="x",
                start=np.full(n, np.datetime64("2025-01-01", "ns")))
    check_label(3, 4.5, ids)  # kind and table that are not text


def test_label_frame_equals_concat_of_anomaly_rows():
    specs = [
        label_spec("a", "t1", ["x", "y"], store_id="S1", start=pd.Timestamp("2025-01-01"),
                   end=pd.Timestamp("2025-01-02").as_unit("ns"), detail="one"),
        label_spec("b", "t2", np.array(["z"], dtype=object), start=pd.DatetimeIndex(_days("s"))[:1],
                   detail=["two"]),
        label_spec("c", "t3", ["u", "v", "w"], store_id=np.array(["S1", "S2", "S3"], dtype=object),
                   start=_days("ns"), end=pd.Series(_days("us")), detail=None),
        label_spec("d", "t4", ["q"], start=None, end=_days("ms")[:1], detail="four"),
    ]
    for part in (specs, specs[:1], specs[1:2], specs[2:], specs[::-1]):
        want = pd.concat([anomaly_rows(**sp) for sp in part], ignore_index=True)
        got = label_frame(part)
        pd.testing.assert_frame_equal(got, want, check_exact=True)


# --------------------------------------------------------------------------- reference


def _offsets_by_pandas(year: int, month: int, zones) -> tuple[float, ...]:
    noon = pd.Timestamp(year=year, month=month, day=15, hour=12)
    return tuple(noon.tz_localize(tz).utcoffset().total_seconds() / 3600 for tz in zones)


@pytest.mark.parametrize("year", [1999, 2024, 2025, 2031, 2055])
def test_utc_offsets_equal_pandas(year):
    zones = (*catalog().markets["tz"], "Australia/Lord_Howe", "Asia/Kathmandu",
             "America/St_Johns", "Europe/Dublin", "Africa/Casablanca")
    for month in (1, 7):
        assert reference._utc_offsets(year, month, zones) == _offsets_by_pandas(year, month,
                                                                                 zones)


def test_make_markets_is_a_fresh_frame():
    a = reference.make_markets(year=2025, in_world=("US",))
    a.loc[0, "utc_offset_jan_h"] = 99.0
    b = reference.make_markets(year=2025, in_world=("US",))
    assert b.loc[0, "utc_offset_jan_h"] != 99.0
    mk = catalog().markets
    assert list(b["utc_offset_jan_h"]) == list(_offsets_by_pandas(2025, 1, mk["tz"]))
    assert list(b["utc_offset_jul_h"]) == list(_offsets_by_pandas(2025, 7, mk["tz"]))


def test_catalog_categories_is_a_fresh_list():
    cat = catalog()
    first = cat.categories
    assert first == list(dict.fromkeys(cat.hs_codes["category"]))
    first.append("not a category")
    assert "not a category" not in cat.categories
