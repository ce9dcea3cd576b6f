"""21-agency-operation (代运营服务商考核): choosing and assessing agency-operation providers.

Clause 5.2 平台选择 asks the operator to weigh the enterprise's own strength, resources and
operating capability when deciding where and how to sell; when the company's capability is not
enough, document 001 (跨境电商代运营管理制度) has the store run by an agency-operation service
provider (代运营服务商) and assessed periodically on operating results, service quality and cost
control (001 V1 Art.7, Art.13). Items are tagged ``stage="5.2"``, Table 1 task 2.1.1.

Document 001 gives **no** weights, targets or scales (OPERATING-RULES §0.5). The weights are the
invented teaching values of :data:`cbec_sim.rules.AGENCY_KPI_WEIGHTS` (scored with
:func:`cbec_sim.rules.weighted_kpi_score`, which renormalises over the indicators a provider
offers); the indicator targets below (satisfaction 4.5, first response 40 min) are invented
teaching parameters too and are stated as such in every question. Normalisation: target
attainment (实际 ÷ 目标, capped at 100 %), not min-max, so a provider's score does not change when
another provider joins the pool.

Notebook: 21.01 Agency Assessment (attainment, fees, trend chart, warning flags, cost ratio,
fee ratio by platform, monthly weighted score, ranking of recent performance, and the B2B
provider's reported 24-hour inquiry reply rate checked against the platform's inquiries —
001 does not distinguish B2B from B2C; Art.10 "respond to inquiries promptly" applies to both,
and the item is also tagged with Table 1 task 8.1.1 询盘分析与回复).

Every ``reference`` computes the expected answer its own way (numpy, dicts), independently of
the solution text shown to trainees.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec_sim import rules
from graders.compare import Chart, Frame, IdSet, Money, SeriesOf
from graders.exercise import Exercise, Mistake

MODULE = "21-agency-operation"

STAGE = "5.2"
TASKS = ("2.1.1",)
UNIT = "market_platform"

#: Invented teaching targets (001 gives none): satisfaction 4.5 of 5, first response 40 minutes.
CSAT_TARGET = 4.5
RESPONSE_TARGET_MIN = 40.0
#: A B2B provider's reported 24-hour reply rate counts as overstated when it is more than 5
#: percentage points above the rate the inquiries show (invented teaching threshold).
B2B_OVERSTATE_PP = 0.05
#: The four indicators scored here and their weights (subset of rules.AGENCY_KPI_WEIGHTS).
SCORED = ("sales_achievement", "customer_satisfaction", "response_time", "budget_use")
WEIGHTS = {name: rules.AGENCY_KPI_WEIGHTS[name] for name in SCORED}

_WEIGHT_TEXT = ("销售达成 0.25、客户满意度 0.15、响应时效 0.10、成本控制 0.15")
_SCORE_RULES = (
    "四个指标都用**目标达成率（target attainment）**折成 0–100 分，封顶 100 分：\n"
    "销售达成 = `sales_cny ÷ sales_target_cny`；客户满意度 = `csat_score ÷ 4.5`；"
    "响应时效 = `40 ÷ avg_response_minutes`（越快越好，所以目标放在分子）；"
    "成本控制 = `operating_budget_cny ÷ operating_cost_cny`（没超预算就是满分）；"
    "每个都 `min(…, 1) × 100`。权重（weights）：" + _WEIGHT_TEXT + "。"
    "目标值 4.5 分和 40 分钟、以及这组权重都是**课程虚构的教学参数**：文件 001 只列了考核维度，"
    "没有给任何权重和目标。没有客服服务的服务商，满意度和响应时效是空值（NaN）："
    "这两项不计分，综合得分 = Σ(权重 × 得分) ÷ Σ(有得分的指标的权重)。"
)

_SCORE_CODE = (
    "k = agency_kpis\n"
    "ind = pd.DataFrame({                                   # 每个指标的得分，0–100\n"
    "    'sales': (k.sales_cny / k.sales_target_cny).clip(upper=1) * 100,\n"
    "    'csat': (k.csat_score / 4.5).clip(upper=1) * 100,\n"
    "    'resp': (40 / k.avg_response_minutes).clip(upper=1) * 100,\n"
    "    'cost': (k.operating_budget_cny / k.operating_cost_cny).clip(upper=1) * 100,\n"
    "})\n"
    "weights = pd.Series({'sales': 0.25, 'csat': 0.15, 'resp': 0.10, 'cost': 0.15})\n"
    "num = (ind * weights).sum(axis=1)                  # 空值不参与求和\n"
    "den = ind.notna().mul(weights).sum(axis=1)         # 只算有得分的指标的权重\n"
    "k = k.assign(score=num / den)\n"
)


# --- references -------------------------------------------------------------------------------

def _attain(num, den) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.minimum(np.asarray(num, float) / np.asarray(den, float), 1.0) * 100


def _monthly_scores(w) -> pd.DataFrame:
    k = w.agency_kpis
    scores = {
        "sales_achievement": _attain(k.sales_cny, k.sales_target_cny),
        "customer_satisfaction": _attain(k.csat_score, CSAT_TARGET),
        "response_time": _attain(RESPONSE_TARGET_MIN, k.avg_response_minutes),
        "budget_use": _attain(k.operating_budget_cny, k.operating_cost_cny),
    }
    s = rules.weighted_kpi_score(scores, WEIGHTS)
    return pd.DataFrame({"provider_id": k.provider_id.astype(str).to_numpy(),
                         "month": k.month.to_numpy(), "score": np.round(s, 2)})


def _per_provider(w, col: str) -> dict[str, float]:
    k = w.agency_kpis
    out: dict[str, float] = {}
    for pid, v in zip(k.provider_id.astype(str), k[col].to_numpy(float), strict=True):
        out[pid] = out.get(pid, 0.0) + v
    return out


def _attainment(w) -> pd.Series:
    sales, target = _per_provider(w, "sales_cny"), _per_provider(w, "sales_target_cny")
    return pd.Series({p: sales[p] / target[p] for p in sorted(sales)})


def _fee_total(w) -> float:
    return float(np.sum(w.agency_kpis.fee_invoiced_cny.to_numpy(float)))


def _fee_ratio(w) -> pd.Series:
    fee, sales = _per_provider(w, "fee_invoiced_cny"), _per_provider(w, "sales_cny")
    return pd.Series({p: fee[p] / sales[p] if sales[p] > 0 else np.nan for p in sorted(fee)})


def _platform_fee_ratio(w) -> pd.Series:
    plat = dict(zip(w.stores.store_id.astype(str), w.stores.platform_id.astype(str),
                    strict=True))
    k = w.agency_kpis
    fee: dict[str, float] = {}
    sales: dict[str, float] = {}
    for st, f, v in zip(k.store_id.astype(str), k.fee_invoiced_cny, k.sales_cny, strict=True):
        fee[plat[st]] = fee.get(plat[st], 0.0) + float(f)
        sales[plat[st]] = sales.get(plat[st], 0.0) + float(v)
    return pd.Series({p: fee[p] / sales[p] if sales[p] > 0 else np.nan for p in sorted(fee)})


def _trend_ap01(w) -> pd.Series:
    k = w.agency_kpis
    k = k[k.provider_id.astype(str) == "AP01"].sort_values("month")
    return pd.Series(k.sales_cny.to_numpy(float) / k.sales_target_cny.to_numpy(float))


def _flags(w) -> list[str]:
    k = w.agency_kpis
    out = []
    for pid, m, s, t, inc in zip(k.provider_id.astype(str), k.month, k.sales_cny,
                                 k.sales_target_cny, k.compliance_incidents, strict=True):
        if s / t < 0.9 or inc >= 1:
            out.append(f"{pid}-{m:%Y-%m}")
    return out


def _b2b_reply(w) -> pd.DataFrame:
    p = w.agency_providers
    store_of = {sid: pid for pid, sid, m in zip(p.provider_id, p.store_id,
                                                p.store_model.astype(str), strict=True)
                if m == "B2B"}
    inq = w.inquiries
    ok = rules.replied_within(inq.received_at, inq.first_reply_at)
    months = inq.received_at.dt.tz_convert("UTC").dt.tz_localize(None)
    count: dict[tuple, list[int]] = {}
    for st, t, spam, good in zip(inq.store_id.astype(str), months, inq.flagged_spam, ok,
                                 strict=True):
        if st in store_of and not spam:
            c = count.setdefault((store_of[st], pd.Timestamp(t.year, t.month, 1)), [0, 0])
            c[0] += 1
            c[1] += int(good)
    rows = []
    for pid, m, rep_rate in zip(w.agency_b2b_kpis.provider_id.astype(str),
                                w.agency_b2b_kpis.month, w.agency_b2b_kpis
                                .reported_reply_rate_24h, strict=True):
        n, k = count.get((pid, pd.Timestamp(m)), [0, 0])
        rate = round(k / n, 4) if n else np.nan
        rows.append((pid, m, rate, bool(n) and rep_rate - rate > B2B_OVERSTATE_PP))
    return pd.DataFrame(rows, columns=["provider_id", "month", "actual_rate", "overstated"])


def _ranking(w) -> pd.DataFrame:
    m = _monthly_scores(w)
    m["raw"] = rules.weighted_kpi_score({
        "sales_achievement": _attain(w.agency_kpis.sales_cny, w.agency_kpis.sales_target_cny),
        "customer_satisfaction": _attain(w.agency_kpis.csat_score, CSAT_TARGET),
        "response_time": _attain(RESPONSE_TARGET_MIN, w.agency_kpis.avg_response_minutes),
        "budget_use": _attain(w.agency_kpis.operating_budget_cny,
                              w.agency_kpis.operating_cost_cny)}, WEIGHTS)
    rows = []
    for pid in sorted(set(m.provider_id)):
        sub = m[m.provider_id == pid].sort_values("month")
        rows.append((pid, round(float(sub.raw.to_numpy()[-3:].mean()), 2)))
    rows.sort(key=lambda r: (-r[1], r[0]))
    return pd.DataFrame(rows, columns=["provider_id", "score"])


# --- items ------------------------------------------------------------------------------------

_B2B_SOLUTION = """\
from cbec_sim import rules

prov = agency_providers.loc[agency_providers.store_model == 'B2B', ['provider_id', 'store_id']]
inq = inquiries[~inquiries.flagged_spam].merge(prov, on='store_id')   # 不计垃圾询盘
inq['month'] = inq.received_at.dt.tz_localize(None).dt.to_period('M').dt.to_timestamp()
inq['in_24h'] = rules.replied_within(inq.received_at, inq.first_reply_at)  # 未回复 = False
rate = (inq.groupby(['provider_id', 'month']).in_24h.mean()
           .rename('actual_rate').reset_index())
k = agency_b2b_kpis[['provider_id', 'month', 'reported_reply_rate_24h']].merge(
    rate, on=['provider_id', 'month'], how='left')
k['actual_rate'] = k.actual_rate.round(4)
k['overstated'] = (k.reported_reply_rate_24h - k.actual_rate) > 0.05
b2b_reply = k[['provider_id', 'month', 'actual_rate', 'overstated']]"""


_CHART_MISTAKE_HEAD = (
    "import matplotlib.pyplot as plt\n"
    "k = agency_kpis[agency_kpis.provider_id == 'AP01'].sort_values('month')\n"
)
_CHART_MISTAKE_TAIL = (
    "fig, ax = plt.subplots()\n"
    "ax.plot(k.month, y)\n"
    "ax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
    "plt.close(fig)\n"
    "chart = ax"
)

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="21.01.attainment",
        title="各服务商的销售目标达成率",
        question=("运营效果（operating results 运营效果）的第一个指标是销售额。用 `agency_kpis` "
                  "表计算每家服务商在本期合同月份内的**销售目标达成率（target attainment "
                  "达成率）** = 实际销售额之和 `sales_cny` ÷ 目标销售额之和 `sales_target_cny`。"
                  "结果存进 `attainment`：一个以 `provider_id` 为索引的 Series，用小数表示"
                  "（1.05 表示 105%），不必舍入（若舍入，至少保留 4 位小数）。"),
        stage=STAGE, tasks=TASKS, unit=UNIT, difficulty=1, points=1,
        answer="attainment", kind="series",
        answer_cn="Series：provider_id → 达成率（小数，至少 4 位小数）",
        reference=_attainment,
        solution=("totals = agency_kpis.groupby('provider_id')[['sales_cny', 'sales_target_cny']]"
                  ".sum()\n"
                  "attainment = totals.sales_cny / totals.sales_target_cny"),
        hints=("先按 `provider_id` 分组，把 `sales_cny` 和 `sales_target_cny` 各自求和。",
               "达成率 = 销售额之和 ÷ 目标之和：先加总再相除，不要先算每月的比率再平均。",
               "`totals = agency_kpis.groupby('provider_id')[['sales_cny', 'sales_target_cny']]"
               ".sum()`，再用两列相除。"),
        mistakes=(
            Mistake("mean_of_monthly_ratios",
                    "k = agency_kpis\n"
                    "attainment = (k.sales_cny / k.sales_target_cny).groupby(k.provider_id)"
                    ".mean()",
                    "你先算了每个月的达成率再取平均：这样目标小的淡季月份和大促月份分量一样。"
                    "题目要的是全期销售额之和 ÷ 全期目标之和。"),
            Mistake("inverted",
                    "totals = agency_kpis.groupby('provider_id')[['sales_cny', "
                    "'sales_target_cny']].sum()\n"
                    "attainment = totals.sales_target_cny / totals.sales_cny",
                    "分子分母放反了：达成率是实际 ÷ 目标，超额完成时大于 1。"),
        ),
        compare=SeriesOf(rel=0.0, abs=6e-5),
        tables=("agency_kpis",),
    ),
    Exercise(
        id="21.01.fee_total",
        title="本期代运营费用合计",
        question=("成本控制（cost control 成本控制）先要知道花了多少钱。服务费 = 每月固定服务费"
                  "（retainer 基础服务费）+ 佣金比例 × 当月销售额，已按月开票在 `agency_kpis` 的 "
                  "`fee_invoiced_cny` 列。计算本期所有服务商的代运营服务费合计，"
                  "单位人民币元，保留两位小数，存进 `fee_total_cny`。"),
        stage=STAGE, tasks=TASKS, unit=UNIT, difficulty=1, points=1,
        answer="fee_total_cny", kind="money", answer_cn="金额，人民币元，保留两位小数",
        reference=_fee_total,
        solution="fee_total_cny = round(agency_kpis.fee_invoiced_cny.sum(), 2)",
        hints=("每一行是一家服务商的一个月，费用已经算好在 `fee_invoiced_cny` 列。",
               "对这一列求和：`agency_kpis.fee_invoiced_cny.sum()`，再 `round(..., 2)`。"),
        mistakes=(
            Mistake("retainer_times_12",
                    "fee_total_cny = round((agency_providers.monthly_retainer_cny * 12).sum(), "
                    "2)",
                    "你用“月服务费 × 12 个月”估算：漏了佣金，也没考虑有的合同在本期中途开始"
                    "或结束。直接汇总实际开票的 `fee_invoiced_cny`。"),
            Mistake("commission_only",
                    "k = agency_kpis.merge(agency_providers[['provider_id', 'commission_pct']],"
                    " on='provider_id')\n"
                    "fee_total_cny = round((k.commission_pct * k.sales_cny).sum(), 2)",
                    "你只算了佣金部分，漏了每月的固定服务费（retainer）。"),
        ),
        compare=Money(),
        tables=("agency_kpis", "agency_providers"),
    ),
    Exercise(
        id="21.01.trend_chart",
        title="服务商 AP01 的月度达成率走势",
        question=("考核要“定期”做（001 第七条），看单月数字不如看走势。画一张折线图（line chart "
                  "折线图）：服务商 `AP01` 每个月的销售目标达成率（`sales_cny ÷ "
                  "sales_target_cny`，小数），横轴是月份（按时间先后），纵轴是达成率。图要有标题"
                  "和带单位的横轴、纵轴标签，把 Axes 存进 `chart`。"),
        stage=STAGE, tasks=TASKS, unit=UNIT, difficulty=2, points=2,
        answer="chart", kind="chart", answer_cn="matplotlib Axes（折线图）",
        reference=_trend_ap01,
        solution=("import matplotlib.pyplot as plt\n"
                  "\n"
                  "ap01 = agency_kpis[agency_kpis.provider_id == 'AP01'].sort_values('month')\n"
                  "ratio = ap01.sales_cny / ap01.sales_target_cny     # 每月达成率\n"
                  "\n"
                  "fig, ax = plt.subplots(figsize=(8, 4))\n"
                  "ax.plot(ap01.month, ratio, marker='o')\n"
                  "ax.axhline(1.0, color='grey', linestyle='--')      # 100% 目标线\n"
                  "ax.set_title('AP01 每月销售目标达成率')\n"
                  "ax.set_xlabel('月份')\n"
                  "ax.set_ylabel('达成率（实际 ÷ 目标，小数）')\n"
                  "chart = ax"),
        hints=("先筛出 `provider_id == 'AP01'` 的行，并按 `month` 排序。",
               "每月达成率 = `sales_cny / sales_target_cny`（两列逐行相除）。",
               "`fig, ax = plt.subplots()`，`ax.plot(月份, 达成率)`，再加标题和两个轴标签，"
               "最后 `chart = ax`。"),
        mistakes=(
            Mistake("plotted_sales",
                    _CHART_MISTAKE_HEAD + "y = k.sales_cny\n" + _CHART_MISTAKE_TAIL,
                    "你画的是销售额本身：旺季销售额高不等于完成得好，要画实际 ÷ 目标的达成率。"),
            Mistake("inverted",
                    _CHART_MISTAKE_HEAD + "y = k.sales_target_cny / k.sales_cny\n"
                    + _CHART_MISTAKE_TAIL,
                    "分子分母放反了：达成率是实际 `sales_cny` ÷ 目标 `sales_target_cny`。"),
        ),
        compare=Chart(kind="line"),
        tables=("agency_kpis",),
    ),
    Exercise(
        id="21.01.warning_flags",
        title="需要预警的服务商月份",
        question=("001 第七条要求对服务商提出改进意见，对不达标的可以终止合作。公司的预警规则"
                  "（课程设定的教学阈值）：某个月**销售目标达成率低于 0.9**，**或者**出现至少 1 次"
                  "违规（`compliance_incidents` ≥ 1），这个“服务商-月份”就要发改进通知。"
                  "找出所有这样的服务商-月份，编号写成 `服务商编号-年-月`，例如 `AP01-2025-03`，"
                  "存进 `flag_ids`（list、set 或 Series 均可，顺序不限）。"),
        stage=STAGE, tasks=TASKS, unit=UNIT, difficulty=2, points=2,
        answer="flag_ids", kind="set", answer_cn="一组“服务商-月份”编号，如 AP01-2025-03",
        reference=_flags,
        solution=("k = agency_kpis\n"
                  "ratio = k.sales_cny / k.sales_target_cny\n"
                  "flagged = k[(ratio < 0.9) | (k.compliance_incidents >= 1)]   # | 表示“或”\n"
                  "flag_ids = flagged.provider_id + '-' + flagged.month.dt.strftime('%Y-%m')"),
        hints=("两个条件满足**任意一个**就预警：用 `|`（或）连接，每个条件加括号。",
               "达成率按月逐行算：`agency_kpis.sales_cny / agency_kpis.sales_target_cny`。",
               "编号：`provider_id + '-' + month.dt.strftime('%Y-%m')`。"),
        mistakes=(
            Mistake("and_instead_of_or",
                    "k = agency_kpis\n"
                    "ratio = k.sales_cny / k.sales_target_cny\n"
                    "f = k[(ratio < 0.9) & (k.compliance_incidents >= 1)]\n"
                    "flag_ids = f.provider_id + '-' + f.month.dt.strftime('%Y-%m')",
                    "你用了 `&`（并且）：只留下了两个问题同时出现的月份。规则是任一条件满足就"
                    "预警，用 `|`。"),
            Mistake("sales_only",
                    "k = agency_kpis\n"
                    "f = k[k.sales_cny / k.sales_target_cny < 0.9]\n"
                    "flag_ids = f.provider_id + '-' + f.month.dt.strftime('%Y-%m')",
                    "你只看了销售达成率，漏了违规（`compliance_incidents`）的月份：违规哪怕"
                    "销售额达标也要预警。"),
        ),
        compare=IdSet(),
        tables=("agency_kpis",),
    ),
    Exercise(
        id="21.01.fee_ratio",
        title="服务费占销售额的比例",
        question=("性价比（cost-effectiveness 性价比）：每家服务商本期收的服务费占它运营店铺"
                  "销售额的比例，即**费用率** = 服务费之和 `fee_invoiced_cny` ÷ 销售额之和 "
                  "`sales_cny`（按 `provider_id` 汇总）。费用率越高，每 1 元销售额付出的代运营"
                  "成本越多；大于 1 表示服务费比店铺卖出的还多。结果存进 `fee_ratio`："
                  "以 `provider_id` 为索引的 Series，用小数表示，不必舍入（若舍入，至少保留 4 "
                  "位小数）。"),
        stage=STAGE, tasks=TASKS, unit=UNIT, difficulty=2, points=2,
        answer="fee_ratio", kind="series",
        answer_cn="Series：provider_id → 费用率（小数，至少 4 位小数）",
        reference=_fee_ratio,
        solution=("totals = agency_kpis.groupby('provider_id')[['fee_invoiced_cny', "
                  "'sales_cny']].sum()\n"
                  "fee_ratio = totals.fee_invoiced_cny / totals.sales_cny"),
        hints=("和达成率一样：先按服务商把两列各自加总，再相除。",
               "服务费 = 固定服务费 + 佣金，所以不能只看合同里的佣金比例 `commission_pct`。",
               "`totals = agency_kpis.groupby('provider_id')[['fee_invoiced_cny', 'sales_cny']]"
               ".sum()`。"),
        mistakes=(
            Mistake("commission_pct_only",
                    "fee_ratio = agency_providers.set_index('provider_id').commission_pct",
                    "佣金比例只是服务费的一部分：每月还有固定服务费（retainer），店铺越小它占的"
                    "比例越高。用实际开票的 `fee_invoiced_cny`。"),
            Mistake("mean_of_monthly_ratios",
                    "k = agency_kpis\n"
                    "fee_ratio = (k.fee_invoiced_cny / k.sales_cny).groupby(k.provider_id)"
                    ".mean()",
                    "你先算每月的费用率再平均：销售额很低的月份会把平均值拉得很高。"
                    "题目要的是全期费用之和 ÷ 全期销售额之和。"),
        ),
        compare=SeriesOf(rel=0.0, abs=6e-5),
        tables=("agency_kpis", "agency_providers"),
    ),
    Exercise(
        id="21.01.platform_fee_ratio",
        title="按平台比较代运营费用率",
        question=("5.2 平台选择要结合企业自身的运营能力决定在哪些平台开店：在某个平台上如果"
                  "只能靠外包运营、而且服务费吃掉了大部分销售额，就要重新考虑这个平台。"
                  "把 `agency_kpis` 和 `stores` 按 `store_id` 合并，得到每家代运营店铺所在的平台"
                  " `platform_id`，再按平台计算费用率 = 服务费之和 `fee_invoiced_cny` ÷ 销售额之和 "
                  "`sales_cny`。结果存进 `platform_fee_ratio`：以 `platform_id` 为索引的 Series，"
                  "用小数表示，不必舍入（若舍入，至少保留 4 位小数）。"),
        stage=STAGE, tasks=TASKS, unit=UNIT, difficulty=2, points=2,
        answer="platform_fee_ratio", kind="series",
        answer_cn="Series：platform_id → 费用率（小数，至少 4 位小数）",
        reference=_platform_fee_ratio,
        solution=("k = agency_kpis.merge(stores[['store_id', 'platform_id']], on='store_id')\n"
                  "totals = k.groupby('platform_id')[['fee_invoiced_cny', "
                  "'sales_cny']].sum()\n"
                  "platform_fee_ratio = totals.fee_invoiced_cny / totals.sales_cny"),
        hints=("`agency_kpis` 里只有 `store_id`，平台在 `stores` 表：先 `merge`。",
               "`agency_kpis.merge(stores[['store_id', 'platform_id']], on='store_id')`，"
               "再按 `platform_id` 分组把费用和销售额各自加总。",
               "费用率 = 两列之和相除，和上一题一样先加总再相除。"),
        mistakes=(
            Mistake("by_market",
                    "k = agency_kpis.merge(stores[['store_id', 'market']], on='store_id')\n"
                    "t = k.groupby('market', observed=True)[['fee_invoiced_cny', 'sales_cny']]"
                    ".sum()\n"
                    "platform_fee_ratio = t.fee_invoiced_cny / t.sales_cny",
                    "你按市场（国家）分组了：题目要比较的是平台 `platform_id`。"),
            Mistake("commission_only",
                    "k = agency_kpis.merge(stores[['store_id', 'platform_id']], on='store_id')"
                    "\nk = k.merge(agency_providers[['provider_id', 'commission_pct']], "
                    "on='provider_id')\n"
                    "k['fee'] = k.commission_pct * k.sales_cny\n"
                    "t = k.groupby('platform_id')[['fee', 'sales_cny']].sum()\n"
                    "platform_fee_ratio = t.fee / t.sales_cny",
                    "你只算了佣金，漏了固定服务费（retainer）：用实际开票的 `fee_invoiced_cny`。"),
        ),
        compare=SeriesOf(rel=0.0, abs=6e-5),
        tables=("agency_kpis", "stores", "agency_providers"),
    ),
    Exercise(
        id="21.01.monthly_score",
        title="每月加权综合得分",
        question=("按 001 第十三条的三个考核维度（运营效果、服务质量、成本控制），给每家服务商"
                  "每个月打一个**加权综合得分（weighted KPI score 加权综合得分）**。"
                  + _SCORE_RULES +
                  "结果存进 `monthly_score`：一个 DataFrame，列 `provider_id`、`month`"
                  "（保持表里原来的日期类型）、`score`（0–100，保留两位小数），"
                  "每个服务商-月份一行。"),
        stage=STAGE, tasks=TASKS, unit=UNIT, difficulty=3, points=3,
        answer="monthly_score", kind="frame",
        answer_cn="DataFrame：provider_id, month, score（0–100，两位小数）",
        reference=_monthly_scores,
        solution=(_SCORE_CODE
                  + "monthly_score = k[['provider_id', 'month', 'score']].round({'score': 2})"),
        hints=("先把每个指标分别折成 0–100 分：`(实际 / 目标).clip(upper=1) * 100`，"
               "`clip(upper=1)` 就是“封顶 100%”。",
               "把四个指标放进一个 DataFrame，每列乘以自己的权重后按行求和 "
               "`.sum(axis=1)`——pandas 求和时会跳过空值。",
               "分母不是固定的 0.65：用 `ind.notna().mul(weights).sum(axis=1)` 只加有得分的"
               "指标的权重，这样没有客服服务的服务商不会因为空值被扣分。"),
        mistakes=(
            Mistake("missing_as_zero",
                    _SCORE_CODE.replace("den = ind.notna().mul(weights).sum(axis=1)",
                                        "den = weights.sum()")
                    + "monthly_score = k[['provider_id', 'month', 'score']]"
                      ".round({'score': 2})",
                    "你把空值当成了 0 分（分母用了全部权重之和）：没有签客服服务的服务商会因为"
                    "“没有做的事”被扣分。只用有得分的指标的权重做分母。"),
            Mistake("no_cap",
                    _SCORE_CODE.replace(".clip(upper=1)", "")
                    + "monthly_score = k[['provider_id', 'month', 'score']]"
                      ".round({'score': 2})",
                    "你没有封顶：某个指标超额很多时（例如销售达成 150%），会掩盖其他指标的不足。"
                    "每个指标 `min(…, 1) × 100`，最高 100 分。"),
        ),
        compare=Frame(key=("provider_id", "month"), columns=("score",), abs=0.006),
        tables=("agency_kpis",),
    ),
    Exercise(
        id="21.01.ranking",
        title="按近三个月表现排名",
        question=("续约或终止合作前（001 第七条），要看服务商**最近**的表现。用上一题的月度"
                  "加权综合得分规则（" + _WEIGHT_TEXT + "；目标达成率封顶 100；空值不计分），"
                  "对每家服务商取它在本期**最后 3 个有考核的月份**的得分平均值（合同只有不到 3 个"
                  "月的，就用全部月份），从高到低排名；得分相同时按 `provider_id` 字母顺序。"
                  "结果存进 `ranking`：一个 DataFrame，列 `provider_id` 和 `score`"
                  "（平均得分，保留两位小数），第一行是排名第一的服务商。"),
        stage=STAGE, tasks=TASKS, unit=UNIT, difficulty=3, points=3,
        answer="ranking", kind="frame",
        answer_cn="DataFrame：provider_id, score（两位小数），按得分从高到低",
        reference=_ranking,
        solution=(_SCORE_CODE
                  + "k = k.sort_values('month')\n"
                    "recent = k.groupby('provider_id').tail(3)            # 每家最后 3 个月\n"
                    "avg = recent.groupby('provider_id').score.mean().round(2)\n"
                    "ranking = (avg.reset_index()\n"
                    "           .sort_values(['score', 'provider_id'], ascending=[False, True])\n"
                    "           .reset_index(drop=True))"),
        hints=("先按上一题的方法算出每个服务商-月份的得分。",
               "按月份排序后，`k.groupby('provider_id').tail(3)` 取每家最后 3 行。",
               "`groupby('provider_id').score.mean()` 求平均，再 `sort_values` 从高到低排，"
               "`ascending=[False, True]` 让同分时按编号排。"),
        mistakes=(
            Mistake("whole_period",
                    _SCORE_CODE
                    + "avg = k.groupby('provider_id').score.mean().round(2)\n"
                      "ranking = (avg.reset_index().sort_values(['score', 'provider_id'],\n"
                      "           ascending=[False, True]).reset_index(drop=True))",
                    "你用了全期平均分：早期的好成绩会掩盖最近的下滑（或者早期的差成绩埋没了最近"
                    "的进步）。题目只要最后 3 个月。"),
            Mistake("ascending",
                    _SCORE_CODE
                    + "k = k.sort_values('month')\n"
                      "avg = k.groupby('provider_id').tail(3).groupby('provider_id').score"
                      ".mean().round(2)\n"
                      "ranking = (avg.reset_index().sort_values(['score', 'provider_id'])"
                      ".reset_index(drop=True))",
                    "排反了：`sort_values` 默认从小到大，排名要从高到低（`ascending=False`）。"),
        ),
        compare=Frame(key=("provider_id",), columns=("score",), ordered=True, abs=0.006),
        tables=("agency_kpis",),
    ),
    Exercise(
        id="21.01.b2b_reply_check",
        title="核对 B2B 服务商月报里的 24 小时询盘回复率",
        question=(
            "B2B 平台店铺也交给了代运营服务商（`agency_providers.store_model == 'B2B'`），它的"
            "核心工作是及时回复询盘（001 第十条）。服务商每月在月报 `agency_b2b_kpis` 里报告"
            "**24 小时询盘回复率（24-hour reply rate 24 小时回复率）** "
            "`reported_reply_rate_24h`。外包不等于放手：请用平台数据 `inquiries` 逐月核对。\n\n"
            "- 只算 B2B 服务商运营的店铺（按 `store_id` 对应），**不计**被平台标为垃圾询盘的"
            "（`flagged_spam` 为 True）；\n"
            "- 月份按收到时间 `received_at`（UTC）所在的自然月，记为该月第一天，和 "
            "`agency_b2b_kpis.month` 一致；\n"
            "- 实际回复率 = 24 小时内首次回复的询盘数 ÷ 当月询盘总数，**从未回复的也算在分母里**"
            "（可以用 `rules.replied_within`），保留 4 位小数；当月没有询盘的记为空值；\n"
            "- 月报比实际**高出超过 5 个百分点**（`reported − actual > 0.05`，教学参数）的月份记为"
            "虚报 `overstated = True`，其余为 False。\n\n"
            "结果存进 `b2b_reply`：一个 DataFrame，列 `provider_id`、`month`（保持表里原来的日期"
            "类型）、`actual_rate`、`overstated`，`agency_b2b_kpis` 的每一行对应一行。"),
        stage=STAGE, tasks=("2.1.1", "8.1.1"), unit=UNIT, difficulty=2, points=2,
        answer="b2b_reply", kind="frame",
        answer_cn=("DataFrame：provider_id, month, actual_rate（0–1，4 位小数）, "
                   "overstated（True/False）"),
        reference=_b2b_reply,
        solution=_B2B_SOLUTION,
        hints=("先用 `merge` 把 B2B 服务商的 `provider_id` 按 `store_id` 接到询盘上，"
               "同时去掉 `flagged_spam` 的询盘。",
               "月份：`received_at.dt.tz_localize(None).dt.to_period('M').dt.to_timestamp()` "
               "得到每月第一天；`rules.replied_within(收到时间, 首次回复时间)` 对未回复的返回 "
               "False。",
               "True/False 列的 `.mean()` 就是比例；按 `provider_id` 和 `month` 接回月报"
               "（`how='left'`，没有询盘的月份为空值），再比较两列。"),
        mistakes=(
            Mistake("copied_report",
                    "k = agency_b2b_kpis.copy()\n"
                    "k['actual_rate'] = k.reported_reply_rate_24h\n"
                    "k['overstated'] = False\n"
                    "b2b_reply = k[['provider_id', 'month', 'actual_rate', 'overstated']]",
                    "你直接抄了服务商自己报的回复率：考核要用平台的询盘数据重新计算，"
                    "再和月报比较，才能发现虚报。"),
            Mistake("answered_only",
                    _B2B_SOLUTION.replace(
                        "inq = inquiries[~inquiries.flagged_spam].merge(",
                        "inq = inquiries[~inquiries.flagged_spam\n"
                        "                & inquiries.first_reply_at.notna()].merge("),
                    "你去掉了从未回复的询盘：没回复的询盘恰恰是最差的情况，必须留在分母里，"
                    "算作没有在 24 小时内回复。"),
            Mistake("spam_included",
                    _B2B_SOLUTION.replace("inq = inquiries[~inquiries.flagged_spam].merge(",
                                          "inq = inquiries.merge("),
                    "垃圾询盘（`flagged_spam`）已被平台过滤，不计入回复率：先把它们去掉。"),
        ),
        compare=Frame(key=("provider_id", "month"), columns=("actual_rate", "overstated"),
                      abs=0.00011),
        tables=("agency_b2b_kpis", "agency_providers", "inquiries"),
    ),
)
