"""00-orientation (入门): JupyterLab, loading your own world and pandas essentials for an operator.

The module has no stage of its own (``course/curriculum.yaml``), but every item reads and
summarises the store's own data, which is what clause 5.14 数据分析 asks of an operator; items
are therefore tagged ``stage="5.14"`` with Table 1 tasks of link 7 (store analysis 7.2.1,
product analysis 7.2.2, risk-control analysis 7.2.5, transaction data 7.1/7.4, promotion and
traffic channels 7.1/7.5, customer data 7.1/7.6).

Notebooks: 00.01 Welcome (two one-liners), 00.02 Your World (first look, filters), 00.03 Pandas
Essentials (groupby, merge, dates, a chart, a decision).

Every ``reference`` below computes the expected answer its own way (value counts, sets, numpy),
independently of the solution text shown to trainees.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graders.compare import Chart, Choice, Frame, IdSet, Integer, Money, Rate, SeriesOf
from graders.exercise import Exercise, Mistake

MODULE = "00-orientation"

STAGE = "5.14"
UNIT = "data_analysis"
CHANNELS = ("organic_search", "sponsored_ads", "social", "live", "email", "direct", "affiliate")


def _not_cancelled(w) -> pd.DataFrame:
    o = w.orders
    return o[o.status.astype(str) != "cancelled"]


# --- references -------------------------------------------------------------------------------

def _store_count(w) -> int:
    return int(w.stores.store_id.nunique())


def _biggest_order_cny(w) -> float:
    return float(np.max(w.orders.order_total_cny.to_numpy()))


def _order_count(w) -> int:
    return len(w.orders)


def _gmv_cny(w) -> float:
    return float(_not_cancelled(w).order_total_cny.sum())


def _cancel_rate(w) -> float:
    counts = w.orders.status.astype(str).value_counts()
    return float(counts.get("cancelled", 0) / counts.sum())


def _ip_mismatch(w) -> list[str]:
    o = w.orders
    return [oid for oid, ip, bill in zip(o.order_id, o.ip_country.astype(str),
                                         o.billing_country.astype(str), strict=True)
            if ip != bill]


def _gmv_by_market(w) -> pd.Series:
    v = _not_cancelled(w)
    out = {m: float(v.order_total_cny[v.market.astype(str) == m].sum())
           for m in sorted(v.market.astype(str).unique())}
    return pd.Series(out).round(2)


def _period_end(w) -> pd.Timestamp:
    return pd.Timestamp(w.meta["start"], tz="UTC") + pd.DateOffset(months=int(w.meta["months"]))


def _monthly_paid(w) -> pd.Series:
    paid = w.orders.paid_at.dropna()
    paid = paid[paid < _period_end(w)]
    months = paid.dt.tz_convert(None).dt.to_period("M")
    return months.value_counts().sort_index()


def _top5_products(w) -> pd.DataFrame:
    v = _not_cancelled(w)
    fx = dict(zip(v.order_id, v.fx_rate_cny, strict=True))
    ol = w.order_lines
    keep = ol.order_id.isin(fx.keys())
    rev = (ol.line_net[keep] * ol.order_id[keep].map(fx)).groupby(ol.product_id[keep]).sum()
    rev = rev.sort_values(ascending=False, kind="stable").head(5).round(2)
    return pd.DataFrame({"product_id": rev.index.astype(str), "revenue_cny": rev.to_numpy()})


def _loyal_customers(w) -> list[str]:
    counts = _not_cancelled(w).customer_id.value_counts()
    return sorted(counts.index[counts.to_numpy() >= 3].astype(str))


def _unsold_listings(w) -> list[str]:
    valid = set(_not_cancelled(w).order_id)
    ol = w.order_lines
    sold = {lid for oid, lid in zip(ol.order_id, ol.listing_id, strict=True) if oid in valid}
    act = w.listings[w.listings.status.astype(str) == "active"]
    return sorted(set(act.listing_id) - sold)


def _best_cr_channel(w) -> str:
    t = w.traffic_daily
    ch = t.channel.astype(str)
    rates = {c: t.orders[ch == c].sum() / t.sessions[ch == c].sum() for c in sorted(ch.unique())}
    best = max(rates.values())
    return min(c for c, r in rates.items() if r == best)  # ties: alphabetical first


# --- items ------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    # 00.01 Welcome ------------------------------------------------------------------------
    Exercise(
        id="00.01.store_count",
        title="你有几家店铺",
        question=("你的公司在各平台一共开了多少家店铺（store 店铺）？`stores` 表每一行是一家店铺，"
                  "把店铺数量存进 `n_stores`（整数）。"),
        stage=STAGE, tasks=("7.2.1",), unit=UNIT, difficulty=1, points=1,
        answer="n_stores", kind="integer", answer_cn="整数，单位：家",
        reference=_store_count,
        solution="n_stores = len(stores)",
        hints=("`len(表名)` 给出一个表（DataFrame）的行数。",
               "店铺表的变量名是 `stores`：`n_stores = len(stores)`。"),
        mistakes=(
            Mistake("counted_columns", "n_stores = stores.shape[1]",
                    "`shape` 是（行数, 列数）：你取到的是列数，题目要的是行数。"),
            Mistake("platform_catalogue", "n_stores = len(platforms)",
                    "`platforms` 是平台目录，里面有你没有开店的平台；店铺要数 `stores` 表。"),
            Mistake("counted_markets", "n_stores = stores.market.nunique()",
                    "你数的是不同的市场个数：同一个市场可能有几家店，请直接数店铺表的行。"),
        ),
        compare=Integer(),
        tables=("stores",),
    ),
    Exercise(
        id="00.01.biggest_order",
        title="最大的一笔订单（人民币）",
        question=("在所有订单中（含已取消订单），金额最大的一笔订单折合人民币是多少元？用 "
                  "`orders` 表的"
                  " `order_total_cny` 列（已按下单当天汇率折成人民币 CNY），结果存进 "
                  "`biggest_cny`，"
                  "保留两位小数。"),
        stage=STAGE, tasks=("7.1/7.4",), unit=UNIT, difficulty=1, points=1,
        answer="biggest_cny", kind="money", answer_cn="金额，人民币元，保留两位小数",
        reference=_biggest_order_cny,
        solution="biggest_cny = orders.order_total_cny.max()",
        hints=("一列的最大值用 `.max()`。",
               "用人民币列：`orders.order_total_cny.max()`。"),
        mistakes=(
            Mistake("local_currency", "biggest_cny = orders.order_total.max()",
                    "`order_total` 是各站点的当地货币（美元、日元……），不同货币不能直接比大小："
                    "用已折成人民币的 `order_total_cny`。"),
            Mistake("mean_not_max", "biggest_cny = round(orders.order_total_cny.mean(), 2)",
                    "你算的是平均每单金额（`.mean()`），题目问的是最大的一单（`.max()`）。"),
        ),
        compare=Money(),
        tables=("orders",),
    ),
    # 00.02 Your World ---------------------------------------------------------------------
    Exercise(
        id="00.02.order_count",
        title="订单总数",
        question=("你的店铺数据里一共有多少个订单？即 `orders` 表的行数，**含**已取消订单。"
                  "结果存进 `n_orders`（整数）。"),
        stage=STAGE, tasks=("7.2.1",), unit=UNIT, difficulty=1, points=1,
        answer="n_orders", kind="integer", answer_cn="整数，单位：单",
        reference=_order_count,
        solution="n_orders = len(orders)",
        hints=("一个 DataFrame 的行数可以用 `len(表名)` 得到。",
               "`orders` 表每一行是一个订单；`order_lines` 表每一行是订单里的一个商品。"),
        mistakes=(
            Mistake("counted_lines", "n_orders = len(order_lines)",
                    "你数的是订单行（order_lines，一单可以有多个商品），题目问的是订单数。"),
            Mistake("excluded_cancelled",
                    "n_orders = int((orders.status != 'cancelled').sum())",
                    "题目要求包含已取消订单：不需要筛选状态。"),
        ),
        compare=Integer(),
        tables=("orders", "order_lines"),
    ),
    Exercise(
        id="00.02.gmv_cny",
        title="成交总额（人民币）",
        question=("计算店铺的成交总额 GMV（Gross Merchandise Volume 成交总额）：所有**未取消**"
                  "订单（`status` 不是 `'cancelled'`）的 `order_total_cny` 之和，单位人民币元，"
                  "保留两位小数，存进 `gmv_cny`。"),
        stage=STAGE, tasks=("7.1/7.4",), unit=UNIT, difficulty=1, points=2,
        answer="gmv_cny", kind="money", answer_cn="金额，人民币元，保留两位小数",
        reference=_gmv_cny,
        solution=("valid = orders[orders.status != 'cancelled']\n"
                  "gmv_cny = round(valid.order_total_cny.sum(), 2)"),
        hints=("先用布尔条件筛掉 `status` 为 `'cancelled'` 的订单：`orders[条件]`。",
               "对筛选后的 `order_total_cny` 列求和：`.sum()`，再 `round(..., 2)`。"),
        mistakes=(
            Mistake("kept_cancelled", "gmv_cny = round(orders.order_total_cny.sum(), 2)",
                    "已取消的订单没有成交，不能算进 GMV：先筛掉 status 为 cancelled 的订单。"),
            Mistake("foreign_currency",
                    "gmv_cny = round(orders[orders.status != 'cancelled'].order_total.sum(), 2)",
                    "order_total 是各站点的当地货币，不能直接相加：用人民币列 order_total_cny。"),
        ),
        compare=Money(),
        tables=("orders",),
    ),
    Exercise(
        id="00.02.cancel_rate",
        title="订单取消率",
        question=("平台用取消率（cancel rate 取消率）考核店铺健康度。计算全部订单的取消率："
                  "`status` 为 `'cancelled'` 的订单数 ÷ 全部订单数（含已取消）。"
                  "结果存进 `cancel_rate`，用小数表示（例如 0.035，不要乘以 100），"
                  "不必舍入（若舍入，至少保留 4 位小数）。"),
        stage=STAGE, tasks=("7.2.1",), unit=UNIT, difficulty=2, points=2,
        answer="cancel_rate", kind="rate", answer_cn="比率，小数（0–1），至少 4 位小数",
        reference=_cancel_rate,
        solution=("is_cancelled = orders.status == 'cancelled'   # 每单一个 True/False\n"
                  "cancel_rate = is_cancelled.mean()             # True 的占比"),
        hints=("`orders.status == 'cancelled'` 得到一列 True/False。",
               "True 算 1、False 算 0：这一列的 `.sum()` 是取消单数，`.mean()` 就是占比。",
               "分母是全部订单（`len(orders)`），不是未取消的订单。"),
        mistakes=(
            Mistake("percent", "cancel_rate = (orders.status == 'cancelled').mean() * 100",
                    "比率请用小数表示（例如 0.035），不要乘以 100。"),
            Mistake("wrong_denominator",
                    "cancel_rate = ((orders.status == 'cancelled').sum()\n"
                    "               / (orders.status != 'cancelled').sum())",
                    "分母用错了：取消率的分母是全部订单（含已取消的），不是未取消的订单。"),
            Mistake("count_not_rate", "cancel_rate = (orders.status == 'cancelled').sum()",
                    "你给的是取消订单的数量；取消率还要再除以全部订单数。"),
        ),
        compare=Rate(),
        tables=("orders",),
    ),
    Exercise(
        id="00.02.ip_mismatch",
        title="IP 国家与账单国家不一致的订单",
        question=("风控（risk control 风控）常看的一个信号：下单时的 IP 所在国家 `ip_country` 与"
                  "付款卡的账单国家 `billing_country` 不一致。找出所有这样的订单（含已取消订单），"
                  "把它们的 `order_id` 存进 `mismatch_ids`（list、set 或 Series 均可，顺序不"
                  "限）。"),
        stage=STAGE, tasks=("7.2.5",), unit=UNIT, difficulty=2, points=2,
        answer="mismatch_ids", kind="set", answer_cn="一组订单编号 order_id，顺序不限",
        reference=_ip_mismatch,
        solution=("# 两列都是 category 类型、可选值不同，先转成文字再比较\n"
                  "ip = orders.ip_country.astype(str)\n"
                  "billing = orders.billing_country.astype(str)\n"
                  "mismatch_ids = orders.loc[ip != billing, 'order_id']"),
        hints=("两列逐行比较：`列1 != 列2` 得到一列 True/False，再用它筛选 `orders`。",
               "如果报错 `Categoricals can only be compared if 'categories' are the same`："
               "两列是 category 类型且可选值不同，先 `.astype(str)` 再比较。",
               "最后只取 `order_id` 这一列：`orders.loc[条件, 'order_id']`。"),
        mistakes=(
            Mistake("compared_market",
                    "mismatch_ids = orders.loc[orders.ip_country.astype(str)\n"
                    "                          != orders.market.astype(str), 'order_id']",
                    "你比较的是 IP 国家和收货市场 `market`；题目要比较的是 IP 国家和账单国家 "
                    "`billing_country`。"),
            Mistake("customer_ids",
                    "mismatch_ids = orders.loc[orders.ip_country.astype(str)\n"
                    "                          != orders.billing_country.astype(str), "
                    "'customer_id']",
                    "筛选条件对了，但你取的是客户编号 `customer_id`；题目要订单编号 `order_id`。"),
        ),
        compare=IdSet(),
        tables=("orders",),
    ),
    # 00.03 Pandas Essentials --------------------------------------------------------------
    Exercise(
        id="00.03.gmv_by_market",
        title="各市场 GMV（人民币）",
        question=("按市场（`orders.market`）汇总未取消订单的 GMV：每个市场 `order_total_cny` 之和，"
                  "单位人民币元，保留两位小数。结果存进 `gmv_by_market`：一个 Series，索引是市场"
                  "代码"
                  "（只含有订单的市场），值是该市场的 GMV；顺序不限。"),
        stage=STAGE, tasks=("7.1/7.4",), unit=UNIT, difficulty=2, points=2,
        answer="gmv_by_market", kind="series",
        answer_cn="Series：市场代码 → 人民币元（两位小数）",
        reference=_gmv_by_market,
        solution=("valid = orders[orders.status != 'cancelled']\n"
                  "gmv_by_market = valid.groupby('market').order_total_cny.sum().round(2)"),
        hints=("先筛掉已取消订单，和 00.02 求 GMV 一样。",
               "`表.groupby('分组列').数值列.sum()` 按组求和，结果就是一个 Series。",
               "金额用人民币列 `order_total_cny`；最后 `.round(2)`。"),
        mistakes=(
            Mistake("kept_cancelled",
                    "gmv_by_market = orders.groupby('market').order_total_cny.sum().round(2)",
                    "已取消订单没有成交，不能算进 GMV：分组之前先筛掉 status 为 cancelled 的订"
                    "单。"),
            Mistake("local_currency",
                    "valid = orders[orders.status != 'cancelled']\n"
                    "gmv_by_market = valid.groupby('market').order_total.sum().round(2)",
                    "`order_total` 是当地货币：各市场的金额单位不同，没法比较。用 "
                    "`order_total_cny`。"),
            Mistake("mean_not_sum",
                    "valid = orders[orders.status != 'cancelled']\n"
                    "gmv_by_market = valid.groupby('market').order_total_cny.mean().round(2)",
                    "你算的是每个市场的平均每单金额（客单价），GMV 是总和：用 `.sum()`。"),
        ),
        compare=SeriesOf(rel=0.0, abs=0.006),
        tables=("orders",),
    ),
    Exercise(
        id="00.03.monthly_paid",
        title="每月付款订单数折线图",
        question=(
            "画一张折线图（line chart 折线图），展示模拟期内**每个月的付款订单数**：\n\n"
            "- 付款订单：`paid_at` 不为空的订单（含付款后又取消的订单）；\n"
            "- 月份按 `paid_at` 的 UTC 月份，如 `paid.paid_at.dt.strftime('%Y-%m')`；\n"
            "- 只统计模拟期内付款的订单：`paid_at` 早于 `end = pd.Timestamp(world.meta['start'], "
            "tz='UTC') + pd.DateOffset(months=world.meta['months'])`；\n"
            "- 折线的点按月份从早到晚排列；\n"
            "- 图要有标题、横轴标签和纵轴标签（写上单位）。\n\n"
            "先 `import matplotlib.pyplot as plt`，并运行 `from graders.plotting import "
            "use_cjk_font` 和 `use_cjk_font()` 让中文正常显示；把画图用的 Axes 存进 `chart`"
            "（`fig, ax = plt.subplots()` 里的 `ax`）。"),
        stage=STAGE, tasks=("7.1/7.4",), unit=UNIT, difficulty=2, points=3,
        answer="chart", kind="chart", answer_cn="matplotlib 的 Axes（折线图）",
        reference=_monthly_paid,
        solution=(
            "import matplotlib.pyplot as plt\n"
            "from graders.plotting import use_cjk_font\n"
            "use_cjk_font()  # 让图里的中文正常显示\n"
            "\n"
            "end = pd.Timestamp(world.meta['start'], tz='UTC') + "
            "pd.DateOffset(months=world.meta['months'])\n"
            "paid = orders[orders.paid_at.notna() & (orders.paid_at < end)]\n"
            "monthly = paid.groupby(paid.paid_at.dt.strftime('%Y-%m')).size()  # 月份 → 单数\n"
            "\n"
            "fig, ax = plt.subplots(figsize=(8, 4))\n"
            "ax.plot(monthly.index, monthly.values, marker='o')\n"
            "ax.set_title('每月付款订单数')\n"
            "ax.set_xlabel('付款月份（UTC）')\n"
            "ax.set_ylabel('付款订单数（单）')\n"
            "ax.tick_params(axis='x', rotation=45)\n"
            "chart = ax"),
        hints=("先筛选：`orders.paid_at.notna()` 是“已付款”，再加上 `orders.paid_at < end`，"
               "两个条件用 `&` 连接，每个条件加括号。",
               "按月份分组计数：`paid.groupby(paid.paid_at.dt.strftime('%Y-%m')).size()`，"
               "分组结果已按月份排好序。",
               "画图：`fig, ax = plt.subplots()`，`ax.plot(月份, 单数)`，再用 `ax.set_title`、"
               "`ax.set_xlabel`、`ax.set_ylabel` 加标题和轴标签，最后 `chart = ax`。"),
        mistakes=(
            Mistake("all_orders",
                    "import matplotlib.pyplot as plt\n"
                    "end = pd.Timestamp(world.meta['start'], tz='UTC') + "
                    "pd.DateOffset(months=world.meta['months'])\n"
                    "placed = orders[orders.created_at < end]\n"
                    "monthly = placed.groupby(placed.created_at.dt.strftime('%Y-%m')).size()\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.plot(monthly.index, monthly.values)\n"
                    "ax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
                    "plt.close(fig)\n"
                    "chart = ax",
                    "你数的是所有下单的订单（按下单时间）；题目只要已付款的订单（`paid_at` 不为"
                    "空），"
                    "并按付款月份统计。"),
            Mistake("excluded_cancelled",
                    "import matplotlib.pyplot as plt\n"
                    "end = pd.Timestamp(world.meta['start'], tz='UTC') + "
                    "pd.DateOffset(months=world.meta['months'])\n"
                    "paid = orders[orders.paid_at.notna() & (orders.paid_at < end)\n"
                    "              & (orders.status != 'cancelled')]\n"
                    "monthly = paid.groupby(paid.paid_at.dt.strftime('%Y-%m')).size()\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.plot(monthly.index, monthly.values)\n"
                    "ax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
                    "plt.close(fig)\n"
                    "chart = ax",
                    "题目要的是付款订单数，付款后又取消的订单也付过款，要算进去：不要按 status "
                    "筛选。"),
        ),
        compare=Chart(kind="line"),
        tables=("orders",),
    ),
    Exercise(
        id="00.03.loyal_customers",
        title="下过至少 3 单的老客户",
        question=("找出在你的店铺下过**至少 3 个未取消订单**的客户（复购客户 repeat buyer 的一种"
                  "简单划分），把他们的 `customer_id` 存进 `loyal_ids`（list、set 或 Series 均可，"
                  "顺序不限）。一个订单算一次，不管里面有几个商品。"),
        stage=STAGE, tasks=("7.1/7.6",), unit=UNIT, difficulty=2, points=2,
        answer="loyal_ids", kind="set", answer_cn="一组客户编号 customer_id，顺序不限",
        reference=_loyal_customers,
        solution=("valid = orders[orders.status != 'cancelled']\n"
                  "orders_per_customer = valid.groupby('customer_id').size()   # 每个客户几单\n"
                  "loyal_ids = orders_per_customer[orders_per_customer >= 3].index"),
        hints=("先筛掉已取消订单。",
               "`valid.groupby('customer_id').size()`（或 `valid.customer_id.value_counts()`）"
               "得到每个客户的订单数。",
               "再用 `>= 3` 筛选，取结果的索引 `.index`（就是客户编号）。"),
        mistakes=(
            Mistake("counted_lines",
                    "lines = order_lines.merge(orders[['order_id', 'customer_id', 'status']],\n"
                    "                          on='order_id')\n"
                    "lines = lines[lines.status != 'cancelled']\n"
                    "per_customer = lines.groupby('customer_id').size()\n"
                    "loyal_ids = per_customer[per_customer >= 3].index",
                    "你数的是订单行（一单里每个商品一行），一单多件商品会被数成多次：请在 `orders` "
                    "表上按客户数订单。"),
            Mistake("strictly_more",
                    "valid = orders[orders.status != 'cancelled']\n"
                    "per_customer = valid.groupby('customer_id').size()\n"
                    "loyal_ids = per_customer[per_customer > 3].index",
                    "“至少 3 单”包含正好 3 单的客户：用 `>=`，不是 `>`。"),
            Mistake("kept_cancelled",
                    "per_customer = orders.groupby('customer_id').size()\n"
                    "loyal_ids = per_customer[per_customer >= 3].index",
                    "已取消的订单不算成交：先筛掉 status 为 cancelled 的订单再数。"),
        ),
        compare=IdSet(),
        tables=("orders", "order_lines"),
    ),
    Exercise(
        id="00.03.top5_products",
        title="销售额前 5 的商品",
        question=(
            "哪 5 个商品（SKU）卖得最多？按商品汇总未取消订单的销售额（人民币）：\n\n"
            "- 每一行订单明细的销售额 = `order_lines.line_net`（扣除折扣后的金额，当地货币）× 该"
            "订单的"
            "汇率 `orders.fx_rate_cny`；两表用 `order_id` 连接（merge）；\n"
            "- 不含已取消订单；\n"
            "- 按 `product_id` 求和，先相加再四舍五入到分。\n\n"
            "结果存进 `top5`：一个 DataFrame，列 `product_id` 和 `revenue_cny`，5 行，"
            "按 `revenue_cny` 从大到小排序。"),
        stage=STAGE, tasks=("7.2.2",), unit=UNIT, difficulty=3, points=3,
        answer="top5", kind="frame",
        answer_cn="DataFrame：product_id, revenue_cny（人民币元），5 行，从大到小",
        reference=_top5_products,
        solution=(
            "lines = order_lines.merge(orders[['order_id', 'status', 'fx_rate_cny']], "
            "on='order_id')\n"
            "lines = lines[lines.status != 'cancelled']\n"
            "lines['revenue_cny'] = lines.line_net * lines.fx_rate_cny\n"
            "by_product = lines.groupby('product_id', as_index=False).revenue_cny.sum()\n"
            "top5 = by_product.sort_values('revenue_cny', ascending=False).head(5)\n"
            "top5['revenue_cny'] = top5.revenue_cny.round(2)"),
        hints=("`order_lines` 里没有汇率和订单状态，先 `order_lines.merge(orders[[...]], "
               "on='order_id')` 把它们接过来。",
               "新建一列 `revenue_cny = line_net × fx_rate_cny`，再 `groupby('product_id', "
               "as_index=False).revenue_cny.sum()`。",
               "`sort_values('revenue_cny', ascending=False).head(5)` 取前 5 名，最后 "
               "`.round(2)`。"),
        mistakes=(
            Mistake("local_currency",
                    "lines = order_lines.merge(orders[['order_id', 'status']], on='order_id')\n"
                    "lines = lines[lines.status != 'cancelled']\n"
                    "by_product = (lines.groupby('product_id', as_index=False).line_net.sum()\n"
                    "              .rename(columns={'line_net': 'revenue_cny'}))\n"
                    "top5 = by_product.sort_values('revenue_cny', ascending=False).head(5)",
                    "`line_net` 是当地货币，日元、泰铢和美元的金额直接相加没有意义：先乘以订单的"
                    "汇率 "
                    "`fx_rate_cny` 换成人民币。"),
            Mistake("not_sorted",
                    "lines = order_lines.merge(orders[['order_id', 'status', 'fx_rate_cny']],\n"
                    "                          on='order_id')\n"
                    "lines = lines[lines.status != 'cancelled']\n"
                    "lines['revenue_cny'] = lines.line_net * lines.fx_rate_cny\n"
                    "by_product = lines.groupby('product_id', as_index=False).revenue_cny.sum()\n"
                    "top5 = by_product.head(5).round(2)",
                    "`head(5)` 取的是表的前 5 行，不是最大的 5 个：先按 `revenue_cny` 从大到小排序"
                    "（`ascending=False`）。"),
            Mistake("kept_cancelled",
                    "lines = order_lines.merge(orders[['order_id', 'fx_rate_cny']], "
                    "on='order_id')\n"
                    "lines['revenue_cny'] = lines.line_net * lines.fx_rate_cny\n"
                    "by_product = lines.groupby('product_id', as_index=False).revenue_cny.sum()\n"
                    "top5 = by_product.sort_values('revenue_cny', "
                    "ascending=False).head(5).round(2)",
                    "已取消订单的商品没有卖出去：merge 时把 `status` 也接过来，筛掉 cancelled。"),
        ),
        compare=Frame(key=("product_id",), columns=("revenue_cny",), ordered=True,
                      rel=0.0, abs=0.006),
        tables=("orders", "order_lines"),
    ),
    Exercise(
        id="00.03.unsold_listings",
        title="从没卖出过的在售链接",
        question=("商品分析的第一步：找出“零销量”链接。在 `listings` 表中找出状态为 "
                  "`'active'`（在售）、"
                  "但从未出现在任何**未取消**订单里的链接（listing 链接/商品页），把它们的 "
                  "`listing_id` 存进 `unsold_ids`（list、set 或 Series 均可，顺序不限）。"
                  "注意：同一个商品（product_id）可以在几家店铺各有一个链接，要按 `listing_id` "
                  "判断。"),
        stage=STAGE, tasks=("7.2.2",), unit=UNIT, difficulty=3, points=3,
        answer="unsold_ids", kind="set", answer_cn="一组链接编号 listing_id，顺序不限",
        reference=_unsold_listings,
        solution=(
            "valid = orders[orders.status != 'cancelled']\n"
            "sold_lines = order_lines[order_lines.order_id.isin(valid.order_id)]\n"
            "active = listings[listings.status == 'active']\n"
            "unsold_ids = active.loc[~active.listing_id.isin(sold_lines.listing_id), "
            "'listing_id']"),
        hints=("`列.isin(另一列)` 判断每个值是否出现在另一列里；前面加 `~` 表示“不在”。",
               "先找出未取消订单的明细：`order_lines[order_lines.order_id.isin(valid.order_id)]`。",
               "再在在售链接 `listings[listings.status == 'active']` 中挑出 `listing_id` 不在"
               "这些明细里的。"),
        mistakes=(
            Mistake("forgot_not",
                    "valid = orders[orders.status != 'cancelled']\n"
                    "sold_lines = order_lines[order_lines.order_id.isin(valid.order_id)]\n"
                    "active = listings[listings.status == 'active']\n"
                    "unsold_ids = active.loc[active.listing_id.isin(sold_lines.listing_id),\n"
                    "                        'listing_id']",
                    "你找出的是卖出过的链接：`isin(...)` 表示“在里面”，要“不在里面”得在条件前加 "
                    "`~`。"),
            Mistake("by_product",
                    "valid = orders[orders.status != 'cancelled']\n"
                    "sold_lines = order_lines[order_lines.order_id.isin(valid.order_id)]\n"
                    "active = listings[listings.status == 'active']\n"
                    "unsold_ids = active.loc[~active.product_id.isin(sold_lines.product_id),\n"
                    "                        'listing_id']",
                    "你按商品 product_id 判断：同一商品在别的店铺卖出过，不代表这个链接卖出过。"
                    "请按 `listing_id` 判断。"),
        ),
        compare=IdSet(),
        tables=("orders", "order_lines", "listings"),
    ),
    Exercise(
        id="00.03.best_cr_channel",
        title="转化率最高的流量渠道",
        question=(
            "店长想把下个月的推广预算优先给转化率最高的流量渠道（channel 渠道）。用店铺流量报表 "
            "`traffic_daily`（所有店铺、所有日期、所有设备）计算每个渠道的转化率 "
            "CR（conversion rate 转化率）= 该渠道 `orders` 之和 ÷ `sessions`（访问次数）之和，"
            "选出转化率最高的渠道（若并列，取渠道名按字母顺序最前的）。把渠道名存进 "
            "`best_channel`（字符串，例如 `'email'`）。"),
        stage=STAGE, tasks=("7.2.1", "7.1/7.5"), unit=UNIT, difficulty=3, points=3,
        answer="best_channel", kind="choice",
        answer_cn="字符串，traffic_daily.channel 中的一个渠道名",
        reference=_best_cr_channel,
        solution=(
            "by_channel = traffic_daily.groupby('channel')[['sessions', 'orders']].sum()\n"
            "by_channel['cr'] = by_channel.orders / by_channel.sessions\n"
            "best_channel = by_channel.cr.idxmax()   # 最大值所在的索引，即渠道名"),
        hints=("转化率是“先求和再相除”：先按渠道把 `sessions` 和 `orders` 各自加总。",
               "`traffic_daily.groupby('channel')[['sessions', 'orders']].sum()` 得到每个渠道一行，"
               "再新建一列 `orders / sessions`。",
               "`Series.idxmax()` 返回最大值所在的索引（渠道名）。"),
        mistakes=(
            Mistake("most_orders",
                    "best_channel = traffic_daily.groupby('channel').orders.sum().idxmax()",
                    "你选的是订单最多的渠道；订单多可能只是流量大。题目比较的是转化率"
                    "（订单 ÷ 访问次数）。"),
            Mistake("per_impression",
                    "g = traffic_daily.groupby('channel')[['impressions', 'orders']].sum()\n"
                    "best_channel = (g.orders / g.impressions).idxmax()",
                    "分母用错了：你用的是曝光次数 impressions；题目定义的转化率分母是访问次数 "
                    "sessions。"),
            Mistake("lowest",
                    "g = traffic_daily.groupby('channel')[['sessions', 'orders']].sum()\n"
                    "best_channel = (g.orders / g.sessions).sort_values().index[0]",
                    "`sort_values()` 默认从小到大排：你取到的是转化率最低的渠道。"
                    "用 `ascending=False` 或 `idxmax()`。"),
        ),
        compare=Choice(options=CHANNELS),
        tables=("traffic_daily",),
    ),
)
