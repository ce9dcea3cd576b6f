"""Comparators: right answers pass, wrong ones fail with safe Chinese messages."""

from __future__ import annotations

from decimal import Decimal

import matplotlib
import numpy as np
import pandas as pd
import pytest

from graders.compare import (
    Chart,
    Choice,
    Frame,
    IdSet,
    Integer,
    Money,
    Number,
    Rate,
    SeriesOf,
    Text,
    cents,
    default_for,
)

matplotlib.use("Agg")


def test_number_tolerances_and_types():
    assert Number(rel=1e-3).compare(100.05, 100.0).ok
    assert not Number(rel=1e-6).compare(100.05, 100.0).ok
    assert Number().compare(np.float32(2.5), 2.5).ok
    assert Number().compare(Decimal("2.5"), 2.5).ok
    assert Number().compare(pd.Series([2.5]), 2.5).ok  # a 1-value result is accepted
    v = Number().compare("2.5", 2.5)
    assert v.problem == "type" and "str" in v.message
    assert Number().compare(True, 1).problem == "type"
    assert "NaN" in Number().compare(float("nan"), 1.0).message
    assert "符号" in Number().compare(-3.0, 3.0).hint_cn


def test_integer_rejects_fractions():
    assert Integer().compare(5000, 5000).ok
    assert Integer().compare(5000.0, 5000).ok
    assert Integer().compare(np.int64(7), 7).ok
    assert Integer().compare(7.5, 7).problem == "type"
    assert not Integer().compare(4999, 5000).ok


def test_money_to_the_cent_half_up():
    assert cents(2.675) == Decimal("2.68")  # float 2.675 is 2.67499…; booked half-up from text
    assert Money().compare(10.004, 10.0).ok
    assert Money().compare(Decimal("10.005"), 10.01).ok
    v = Money().compare(10.02, 10.0)
    assert not v.ok and "分" in v.hint_cn
    assert Money().compare(float("nan"), 1.0).problem == "value"


def test_rate_detects_percent():
    assert Rate().compare(0.03504, 0.035).ok  # within 1e-4
    assert Rate().compare(0.035, 0.035).ok
    v = Rate().compare(3.5, 0.035)
    assert not v.ok and "小数" in v.message


def test_text_and_choice():
    assert Text().compare("  Amazon  US ", "amazon us").ok
    assert not Text(case=True).compare("amazon", "Amazon").ok
    c = Choice(options=("DHL", "UPS", "FedEx"))
    assert c.compare("ups", "UPS").ok
    v = c.compare("EMS", "UPS")
    assert not v.ok and "不是可选项" in v.message
    assert c.compare(3, "UPS").problem == "type"


def test_id_set_any_container():
    want = ["O1", "O2", "O3"]
    for got in (["O3", "O2", "O1", "O1"], {"O1", "O2", "O3"}, pd.Series(want),
                pd.Index(want), np.array(want), pd.DataFrame({"order_id": want})):
        assert IdSet().compare(got, want).ok
    v = IdSet().compare(["O1", "O4"], want)
    assert not v.ok and "多了 1" in v.hint_cn and "漏了 2" in v.hint_cn
    assert "O2" not in v.message + v.hint_cn  # never reveals expected ids
    assert IdSet().compare("O1", want).problem == "type"


def test_series_by_label_order_insensitive():
    exp = pd.Series({"US": 10.0, "DE": 5.0, "JP": 1.0})
    assert SeriesOf().compare(exp.sort_values(), exp).ok
    assert SeriesOf().compare(exp.to_frame("gmv"), exp).ok
    v = SeriesOf().compare(exp.drop("JP"), exp)
    assert v.problem == "shape" and "少了 1" in v.hint_cn
    v = SeriesOf().compare(exp * 2, exp)
    assert v.problem == "value" and "3 个分组" in v.hint_cn
    assert SeriesOf().compare(42, exp).problem == "type"


def test_frame_columns_keys_and_order():
    exp = pd.DataFrame({"product_id": ["P1", "P2", "P3"], "revenue": [30.0, 20.0, 10.0]})
    shuffled = exp.iloc[[2, 0, 1]].assign(extra=1)
    assert Frame(key=["product_id"]).compare(shuffled, exp).ok
    assert not Frame(key=["product_id"], ordered=True).compare(shuffled, exp).ok
    assert Frame(key=["product_id"]).compare(exp.set_index("product_id"), exp).ok
    v = Frame().compare(exp[["product_id"]], exp)
    assert v.problem == "shape" and "revenue" in v.message
    v = Frame().compare(exp.head(2), exp)
    assert v.problem == "shape" and "2 行" in v.message
    v = Frame(key=["product_id"]).compare(exp.assign(revenue=exp.revenue + 1), exp)
    assert v.problem == "value" and "revenue" in v.message


def test_chart_checks_plotted_data_and_labels():
    import matplotlib.pyplot as plt

    exp = pd.Series([3.0, 5.0, 2.0], index=["a", "b", "c"])
    fig, ax = plt.subplots()
    ax.bar(exp.index, exp.values)
    missing = Chart(kind="bar").compare(ax, exp).message
    assert missing == "图还缺少：标题、横轴标签、纵轴标签（含单位）。"
    ax.set(title="t", xlabel="x", ylabel="y (单)")
    assert Chart(kind="bar").compare(ax, exp).ok
    assert Chart(kind="bar").compare(fig, exp).ok
    assert "顺序" in Chart(kind="bar").compare(ax, exp.sort_values()).message
    assert Chart(kind="line").compare(ax, exp).problem == "shape"
    _fig2, ax2 = plt.subplots()
    ax2.plot(exp.index, exp.values)
    ax2.set(title="t", xlabel="x", ylabel="y")
    assert Chart(kind="line").compare(ax2, exp).ok
    assert Chart().compare("a chart", exp).problem == "type"
    plt.close("all")


def test_default_for_kinds():
    assert isinstance(default_for("money"), Money)
    with pytest.raises(ValueError, match="unknown answer kind"):
        default_for("dict")


def test_chart_data_captured_from_axes_compares_like_axes():
    import matplotlib.pyplot as plt

    from graders.compare import ChartData

    exp = pd.Series([3.0, 5.0, 2.0])
    fig, ax = plt.subplots()
    ax.bar(["a", "b", "c"], exp.values)
    ax.set(title="t", xlabel="x", ylabel="y")
    data = ChartData.from_axes(ax)
    plt.close(fig)
    assert data.bars == (3.0, 5.0, 2.0) and data.title == "t"
    assert Chart(kind="bar").compare(data, exp).ok
    assert not Chart(kind="bar").compare(data, exp * 2).ok
    assert Chart(kind="line").compare(data, exp).problem == "shape"
    assert "标题" in Chart(kind="bar").compare(ChartData(bars=(3.0, 5.0, 2.0)), exp).message
