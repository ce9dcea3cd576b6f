"""graders.grading: executing a submission in the sandbox and capturing its answers.

The sandbox tests use the real bubblewrap (``scripts/ensure-services`` installs it); without it
they are skipped, and under ``CI=true`` they fail. A few tests run the weaker fallback on
purpose (``CBEC_SANDBOX=fallback``). Everything is written under ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from _services import in_ci

from graders import cells as gcells
from graders.compare import ChartData, Frame, IdSet, Money, Number, SeriesOf, Text
from graders.grading import capture as C
from graders.grading import run_notebook, sandbox

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "datasets" / "default"


def require_bwrap() -> None:
    ok, reason = sandbox.bwrap_status()
    if ok and os.environ.get(sandbox.SANDBOX_ENV, "auto") != "fallback":
        return
    msg = f"bubblewrap sandbox not available ({reason}): run `bash scripts/ensure-services`"
    if in_ci():
        pytest.fail(f"{msg} (CI=true: the sandbox is required)", pytrace=False)
    pytest.skip(msg)


@pytest.fixture
def bwrap(monkeypatch):
    monkeypatch.delenv(sandbox.SANDBOX_ENV, raising=False)
    require_bwrap()


@pytest.fixture
def fallback(monkeypatch):
    monkeypatch.setenv(sandbox.SANDBOX_ENV, "fallback")


def make_nb(path: Path, sources: list, *, kernel: dict | None = None) -> Path:
    """A notebook of code cells (a NotebookNode in ``sources`` is used as is)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = kernel or {"name": "python3", "display_name": "Python 3",
                                           "language": "python"}
    nb.cells = [s if isinstance(s, nbformat.NotebookNode) else nbformat.v4.new_code_cell(s)
                for s in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def run(nb: Path, tmp_path: Path, capture=(), **kw):
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    kw.setdefault("timeout", 60)
    r = run_notebook(nb, data_dir=DATA, capture=list(capture), scratch_root=scratch, **kw)
    assert list(scratch.iterdir()) == [], "the job directory must be removed"
    return r


def run_warm(nb: Path, tmp_path: Path, capture=(), **kw):
    """:func:`run` through a one-worker :class:`~graders.grading.pool.WarmPool` (bwrap mode:
    the notebook must really run in a warm zygote)."""
    from graders.grading.pool import WarmPool

    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    kw.setdefault("timeout", 60)
    pool_kw = {k: kw.pop(k) for k in ("hide", "ro_binds", "memory_mb") if k in kw}
    with WarmPool(1, scratch_root=scratch, timeout=kw.pop("timeout"), warm=True,
                  **pool_kw) as pool:
        r = pool.run(nb, data_dir=DATA, capture=list(capture), **kw)
    if sandbox.mode() == "bwrap" and r.status not in ("missing", "empty", "invalid_notebook",
                                                       "wrong_kernel"):
        assert "warm" in r.notes and not any("failed" in n for n in r.notes), r.notes
    assert list(scratch.iterdir()) == [], "the worker folders must be removed"
    return r


# --- an honest notebook: every kind of answer -------------------------------------------

HONEST = [
    """import matplotlib.pyplot as plt
ok = orders[orders.status.astype(str) != "cancelled"]
mean_total = orders.order_total_cny.mean()                      # number (numpy float)
n_orders = len(orders)                                          # integer
gmv = round(float(ok.order_total_cny.sum()), 2)                 # money
gmv_dec = Decimal(str(gmv))                                     # money as Decimal
top_market = orders.market.astype(str).value_counts().idxmax()  # text
big_ids = orders.order_id[orders.order_total_cny > orders.order_total_cny.quantile(0.99)]
big_list = big_ids.tolist()                                     # id list
big_set = set(big_list)
big_index = pd.Index(big_ids)
big_array = big_ids.to_numpy()
by_market = ok.groupby("market", observed=True).order_total_cny.sum().round(2)   # Series
top5 = (ok.groupby(["market", "platform_id"], observed=True)
          .agg(orders=("order_id", "count"), gmv=("order_total_cny", "sum"))
          .sort_values("gmv", ascending=False).head(5))          # DataFrame, MultiIndex
recent = orders[["order_id", "market", "order_total_cny", "paid_at"]].head(20)  # plain frame
fig, ax = plt.subplots()
ax.bar(by_market.index.astype(str), by_market.to_numpy())
ax.set_title("GMV by market"); ax.set_xlabel("market"); ax.set_ylabel("CNY")
flag = bool(gmv > 0)
nothing = None
""",
]
KINDS = {  # variable -> comparator that must accept the restored value against the in-process one
    "mean_total": Number(), "n_orders": Number(), "gmv": Money(), "gmv_dec": Money(),
    "top_market": Text(case=True), "big_list": IdSet(), "big_set": IdSet(),
    "big_index": IdSet(), "big_array": IdSet(), "by_market": SeriesOf(rel=0, abs=0),
    "top5": Frame(rel=0, abs=0), "recent": Frame(rel=0, abs=0),
}


def _in_process(sources: list[str], monkeypatch, tmp_path: Path) -> dict:
    """Run the same cells in this process (the values the sandbox must reproduce)."""
    work = tmp_path / "inproc"
    work.mkdir()
    (work / "data").symlink_to(DATA)
    monkeypatch.chdir(work)
    monkeypatch.setenv("CBEC_GRADING", "1")
    ns: dict = {"Decimal": Decimal}
    for src in sources:
        exec(compile(src, "<cell>", "exec"), ns)
    return ns


@pytest.mark.slow
def test_honest_notebook_answers_round_trip(tmp_path, monkeypatch, bwrap):
    setup = gcells.setup_cell("00.02", ["orders"])
    nb = make_nb(tmp_path / "sub" / "honest.ipynb",
                 [setup, "from decimal import Decimal", *HONEST])
    names = [*KINDS, "ax", "fig", "flag", "nothing", "never_assigned"]
    r = run(nb, tmp_path, names)
    assert r.status == "ok", r.diagnosis
    assert r.sandbox == "bwrap"
    assert all(c.ran and c.ok for c in r.cells), [c.evalue for c in r.cells if not c.ok]
    assert r.cells[0].role == "setup" and r.cells[0].grade_id == "setup-00-02"

    ns = _in_process([setup.source, "from decimal import Decimal", *HONEST], monkeypatch,
                     tmp_path)
    a = r.answers
    for name, cmp in KINDS.items():
        assert cmp.compare(a[name], ns[name]).ok, name
    # exact values and plain types
    assert type(a["mean_total"]) is float and a["mean_total"] == float(ns["mean_total"])
    assert type(a["n_orders"]) is int and a["n_orders"] == ns["n_orders"]
    assert type(a["gmv_dec"]) is Decimal and a["gmv_dec"] == ns["gmv_dec"]
    assert a["top_market"] == ns["top_market"]
    assert a["big_list"] == ns["big_list"] and a["big_set"] == ns["big_set"]
    assert list(a["big_index"]) == list(ns["big_index"])
    np.testing.assert_array_equal(a["big_array"], ns["big_array"])
    pd.testing.assert_series_equal(a["by_market"], ns["by_market"], check_index_type=False,
                                   check_categorical=False)
    assert list(a["by_market"].index) == list(ns["by_market"].index.astype(str))
    pd.testing.assert_frame_equal(a["top5"], ns["top5"], check_index_type=False,
                                  check_categorical=False)
    pd.testing.assert_frame_equal(a["recent"], ns["recent"], check_categorical=False)
    assert type(a["top5"]) is pd.DataFrame and type(a["by_market"]) is pd.Series
    assert a["ax"] == ChartData.from_axes(ns["ax"]) == a["fig"]
    assert a["ax"].title == "GMV by market" and len(a["ax"].bars) == len(ns["by_market"])
    assert a["flag"] is True and a["nothing"] is None
    assert a["never_assigned"] is C.MISSING


def test_master_notebook_answers_are_correct(tmp_path, bwrap):
    """A master notebook of the course (solutions filled in) scores full marks out-of-kernel."""
    master = ROOT / "course" / "source" / "00-orientation" / "00.02-Your-World.ipynb"
    if not master.exists():
        pytest.skip("no master notebook 00.02 yet")
    import cbec_sim
    from graders import exercises

    exs = exercises.for_notebook("00.02")
    r = run(master, tmp_path, [e.answer for e in exs])
    assert r.status == "ok", r.diagnosis
    world = cbec_sim.load(DATA)
    for e in exs:
        assert e.evaluate(r.answers[e.answer], world).correct, e.id
    tests = [c for c in r.cells if c.role == "test"]
    assert tests and all(c.ok for c in tests)  # inert q.grade under CBEC_GRADING=1


# --- errors, limits, broken files --------------------------------------------------------


def test_failing_cell_is_recorded_and_later_cells_run(tmp_path, bwrap):
    nb = make_nb(tmp_path / "e.ipynb", ["print('before'); x = 1",
                                        "import sys; print('oops', file=sys.stderr); 1/0",
                                        "print('x' * 100_000)", "y = x + 1", "def f(:\n  pass"])
    r = run(nb, tmp_path, ["x", "y"])
    assert r.status == "ok"
    c = r.cells
    assert [x.ok for x in c] == [True, False, True, True, False]
    assert c[0].stdout == "before\n"
    assert c[1].ename == "ZeroDivisionError" and c[1].evalue == "division by zero"
    assert "oops" in c[1].stderr and "ZeroDivisionError" in c[1].stderr
    assert len(c[2].stdout) < 5000 and "characters cut" in c[2].stdout
    assert c[4].ename == "SyntaxError"
    assert r.answers == {"x": 1, "y": 2}


@pytest.mark.slow
def test_infinite_loop_times_out_quickly(tmp_path, bwrap):
    nb = make_nb(tmp_path / "loop.ipynb", ["x = 1", "while True:\n    pass", "y = 2"])
    t = time.perf_counter()
    r = run(nb, tmp_path, ["x", "y"], timeout=3)
    assert time.perf_counter() - t < 8
    assert r.status == "timeout"
    assert "timed out after 3 s in cell 2" in r.diagnosis
    assert r.cells[0].ok and not r.cells[1].ran and not r.cells[2].ran
    assert r.answers == {"x": C.MISSING, "y": C.MISSING}


@pytest.mark.slow
@pytest.mark.parametrize("bomb", ["x = bytearray(3 * 1024 ** 3)",
                                  "import numpy as np\nx = np.ones((40_000, 40_000))",
                                  "x = []\nwhile True:\n    x.append(' ' * 10_000_000)"])
def test_memory_bomb_reports_memory(tmp_path, bwrap, bomb):
    nb = make_nb(tmp_path / "mem.ipynb", ["a = 1", bomb, "del x\nb = 2"])
    r = run(nb, tmp_path, ["a", "b"], memory_mb=1024)
    assert r.status == "memory", r.diagnosis
    assert "1024 MB" in r.diagnosis and "cell 2" in r.diagnosis
    assert "MemoryError" in r.cells[1].ename
    assert r.answers["a"] == 1


@pytest.mark.parametrize(("content", "status", "words"), [
    (b"", "empty", "empty"),
    (b"  \n", "empty", "empty"),
    (b"{not json", "invalid_notebook", "invalid JSON"),
    (b"\xff\xfe\x00", "invalid_notebook", "UTF-8"),
    (b"[1, 2]", "invalid_notebook", "not an object"),
    (b'{"cells": [{"cell_type": "code", "source": 3}], "metadata": {}}', "invalid_notebook",
     "cell 1"),
    (b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "empty", "no code"),
])
def test_broken_files_get_a_status_not_an_exception(tmp_path, content, status, words):
    p = tmp_path / "broken.ipynb"
    p.write_bytes(content)
    r = run(p, tmp_path, ["x"])
    assert r.status == status and words in r.diagnosis
    assert r.answers == {"x": C.MISSING} and r.cells == []


@pytest.mark.parametrize("kernel", [{"name": "ir", "display_name": "R", "language": "R"},
                                    {"name": "julia-1.10", "display_name": "Julia 1.10"}])
def test_wrong_kernel(tmp_path, kernel):
    nb = make_nb(tmp_path / "r.ipynb", ["x <- 1"], kernel=kernel)
    r = run(nb, tmp_path, ["x"])
    assert r.status == "wrong_kernel" and "Python 3" in r.diagnosis


def test_missing_file(tmp_path):
    r = run(tmp_path / "nope.ipynb", tmp_path, ["x"])
    assert r.status == "missing" and r.answers == {"x": C.MISSING}


def test_custom_python_kernel_name_is_fine(tmp_path, bwrap):
    nb = make_nb(tmp_path / "k.ipynb", ["x = 1"],
                 kernel={"name": "cbec", "display_name": "cbec", "language": "python"})
    assert run(nb, tmp_path, ["x"]).answers == {"x": 1}


def test_original_is_untouched_and_job_runs_on_a_copy(tmp_path, bwrap):
    nb = make_nb(tmp_path / "sub" / "mine.ipynb", [
        "import glob, os\nmine = sorted(glob.glob('*.ipynb'))\ncwd = os.getcwd()",
        "open(mine[0], 'w').write('gone')\nos.remove(mine[0])",
        "import pathlib\nfiles = sorted(p.name for p in pathlib.Path('data').iterdir())[:3]",
        "try:\n    open('data/manifest.json', 'a').write('x')\n    wrote = True\n"
        "except OSError:\n    wrote = False",
    ])
    before, mtime = nb.read_bytes(), nb.stat().st_mtime_ns
    r = run(nb, tmp_path, ["mine", "cwd", "files", "wrote"])
    assert r.status == "ok", r.diagnosis
    assert r.answers["mine"] == ["mine.ipynb"] and r.answers["cwd"] == "/job"
    assert r.answers["files"] and r.answers["wrote"] is False  # data/ is read-only
    assert nb.read_bytes() == before and nb.stat().st_mtime_ns == mtime
    assert (DATA / "manifest.json").read_text(encoding="utf-8").rstrip().endswith("}")


def test_environment_is_minimal(tmp_path, monkeypatch, bwrap):
    monkeypatch.setenv("CBEC_COURSE_SECRET", "s3cret")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    nb = make_nb(tmp_path / "env.ipynb", ["import os\nenv = sorted(os.environ)\n"
                                          "grading = os.environ['CBEC_GRADING']"])
    r = run(nb, tmp_path, ["env", "grading"])
    env = r.answers["env"]
    assert r.answers["grading"] == "1"
    assert "CBEC_COURSE_SECRET" not in env and not any("PROXY" in k.upper() for k in env)
    assert {"HOME", "PATH", "MPLBACKEND", "CBEC_NO_LOG"} <= set(env)


# --- the fallback (no bubblewrap) ---------------------------------------------------------


def test_fallback_runs_and_captures(tmp_path, fallback, capsys):
    nb = make_nb(tmp_path / "f.ipynb", ["import os\nx = 41 + 1\nhome = os.environ['HOME']",
                                        "1/0",
                                        "import pandas as pd\ns = pd.Series([1.5], index=['a'])"])
    r = run(nb, tmp_path, ["x", "home", "s"])
    assert r.status == "ok" and r.sandbox == "fallback"
    assert r.answers["x"] == 42 and r.answers["home"].endswith("/work")
    assert "cbec-job-" in r.answers["home"]
    pd.testing.assert_series_equal(r.answers["s"], pd.Series([1.5], index=["a"]),
                                   check_index_type=False)
    assert r.cells[1].ename == "ZeroDivisionError"


@pytest.mark.slow
def test_fallback_timeout(tmp_path, fallback):
    nb = make_nb(tmp_path / "loop.ipynb", ["while True:\n    pass"])
    t = time.perf_counter()
    r = run(nb, tmp_path, timeout=2)
    assert r.status == "timeout" and time.perf_counter() - t < 6


def test_fallback_drops_to_nobody_when_root(tmp_path, fallback):
    if os.geteuid() != 0:
        pytest.skip("only root drops privileges")
    if not sandbox.nobody_can_run_python():
        pytest.skip("this Python installation is not readable by nobody (fallback stays root)")
    nb = make_nb(tmp_path / "u.ipynb", ["import os\nuid = os.getuid()"])
    assert run(nb, tmp_path, ["uid"]).answers["uid"] == sandbox.NOBODY


# --- capture / restore without a sandbox ---------------------------------------------------


def test_restore_rejects_malformed_input_without_raising(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": [1]}), tmp_path / "answer-0.parquet")
    (tmp_path / "outside.parquet").write_bytes(b"PAR1")
    bad = [
        None, 3, "x", [], {}, {"type": 1}, {"type": "nope"}, {"type": "scalar"},
        {"type": "scalar", "value": {"$eval": "1"}}, {"type": "scalar", "value": [1]},
        {"type": "scalar", "value": {"$decimal": "x" * 500}},
        {"type": "scalar", "value": {"$ts": "yesterday"}},
        {"type": "scalar", "value": {"$float": "1e999"}},
        {"type": "list", "values": "abc"}, {"type": "set", "values": [{"$tuple": [[1]]}]},
        {"type": "ndarray", "values": [1, 2], "shape": [3], "dtype": "int64"},
        {"type": "ndarray", "values": [], "shape": [-1], "dtype": "int64"},
        {"type": "series", "index": {"names": [None], "values": [1], "dtype": "int64"},
         "values": [1, 2], "name": None, "dtype": "int64"},
        {"type": "series", "index": [1], "values": [1], "name": None, "dtype": "int64"},
        {"type": "frame", "file": "../outside.parquet", "rows": 1, "columns": ["x"],
         "columns_names": [None], "index": None},
        {"type": "frame", "file": "answer-0.parquet", "rows": 1, "columns": ["x"],
         "columns_names": [None], "index": None},  # column named x, not c0
        {"type": "frame", "file": "answer-9.parquet", "rows": 1, "columns": [],
         "columns_names": [None], "index": None},
        {"type": "chart", "bars": ["a"], "barhs": [], "line": [], "title": "", "xlabel": "",
         "ylabel": ""},
        {"type": "unsupported", "what": 5}, {"type": "missing", "extra": 1},
    ]
    out = C.restore({f"v{i}": b for i, b in enumerate(bad)}, tmp_path,
                    [f"v{i}" for i in range(len(bad))] + ["absent"])
    for i in range(len(bad)):
        assert isinstance(out[f"v{i}"], C.Unsupported), (i, bad[i], out[f"v{i}"])
    assert out["absent"] is C.MISSING
    assert C.restore("garbage", tmp_path, ["a"]) == {"a": C.MISSING}


def test_capture_neutralises_trick_objects(tmp_path):
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    class SneakyFloat(float):
        def __float__(self):
            return 42.0

        def __eq__(self, other):
            return True

    class FakeClass:
        __class__ = property(lambda self: float)  # type: ignore[assignment]

    class SneakyList(list):
        def __iter__(self):
            return iter(["forged"])

    class SneakyStr(str):
        def __eq__(self, other):
            return True

    class SneakyFrame(pd.DataFrame):
        def equals(self, other):
            return True

        def __eq__(self, other):
            return True

    ns = {"eq": AlwaysEqual(), "f": SneakyFloat(1.0), "fake": FakeClass(),
          "lst": SneakyList(["a", "b"]), "s": SneakyStr("abc"),
          "df": SneakyFrame({"gmv": [1.0, 2.0]}), "d": {"a": 1}, "big": 10 ** 5000}
    enc = json.loads(C.dumps(C.capture(ns, list(ns), str(tmp_path))))
    out = C.restore(enc, tmp_path, list(ns))
    assert isinstance(out["eq"], C.Unsupported) and isinstance(out["fake"], C.Unsupported)
    assert type(out["f"]) is float and out["f"] == 1.0 and out["f"] != 2.0
    assert type(out["lst"]) is list and out["lst"] == ["a", "b"]
    assert type(out["s"]) is str and out["s"] != "xyz"
    assert type(out["df"]) is pd.DataFrame
    assert not out["df"].equals(pd.DataFrame({"gmv": [9.0, 9.0]}))
    assert isinstance(out["d"], C.Unsupported) and isinstance(out["big"], C.Unsupported)
