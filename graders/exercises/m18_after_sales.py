"""18-after-sales (售后服务): service channels and hours, agents, complaints, returns, refunds.

Stage 5.18 售后服务 of T/CCPITCSC 111-2022: staff professional customer-service personnel,
respond actively and handle requests fairly, offer several channels and solutions for
after-sales problems. Table 1 tasks: 9.1.1 服务渠道, 9.1.2 服务时间 (≥ 7 days × 8 hours),
9.1.3 服务人员 with 9.1.3.1 考核要求, 9.1.3.2 服务态度, 9.1.3.3 服务礼仪, 9.2.1 咨询反馈,
9.2.2 订单跟踪, 9.2.3 售后服务, 9.2.4 投诉处理, 9.2.5 客户评价, 11.2.4 持续服务客户 (B2B repeat
conversion) and 11.4.6 退款.

Notebook: 18.01 After-sales service (tickets by channel and hours, agent assessment, order
tracking contacts, review and complaint indicators, return reasons, refund routing,
de-identified sharing of complaint data, B2B repeat buyers).

The masking format of ``shared_complaints`` (first character of the e-mail user name, last four
digits of the phone) is the kit's teaching convention for the de-identification that the
example company rules ask for (OPERATING-RULES §3.2 necessity, §3.5 anonymised sharing).

Rules come from ``cbec_sim.rules``: :data:`~cbec_sim.rules.CS_OPEN_HOUR` /
:data:`~cbec_sim.rules.CS_CLOSE_HOUR` (9.1.2), :func:`~cbec_sim.rules.review_sentiment`,
:func:`~cbec_sim.rules.refund_approver` (the 5000-yuan rule of 002 §3.20, an example company
rule). Every ``reference`` computes the expected answer its own way (loops and dicts),
independently of the solution text shown to trainees.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cbec_sim import rules
from graders.compare import Chart, Frame, Rate, SeriesOf, Verdict
from graders.exercise import Exercise, Mistake
from graders.exercises._helpers import is_missing as _isna
from graders.exercises._helpers import variant as _variant

MODULE = "18-after-sales"

STAGE = "5.18"
UNIT = "customer_service"
ORDER_TOPICS = ("order_status", "logistics")  # "where is my order?" contacts (9.2.2)


SHARE_COLUMNS = ("ticket_id", "order_id", "email_masked", "phone_masked")


@dataclass(frozen=True)
class SharedFrame(Frame):
    """A table to hand to a third party: like :class:`Frame`, but any column beyond
    ``columns`` is an error (necessity principle: share only what is needed)."""

    def compare(self, answer: Any, expected: pd.DataFrame) -> Verdict:
        if isinstance(answer, pd.DataFrame):
            extra = [str(c) for c in answer.columns if c not in (self.columns or ())]
            if extra:
                return Verdict(False, "shape", f"表里有不该分享的列：{', '.join(extra)}。",
                               "对外只分享题目列出的几列（必要性原则）。")
        return super().compare(answer, expected)


# --- references -------------------------------------------------------------------------------

def _first_response_by_channel(w) -> pd.Series:
    tot, n = defaultdict(float), defaultdict(int)
    for ch, h in zip(w.tickets.channel.astype(str), w.tickets.first_response_hours, strict=True):
        if not _isna(h):
            tot[ch] += float(h)
            n[ch] += 1
    return pd.Series({ch: tot[ch] / n[ch] for ch in sorted(n)})


def _off_hours_share(w) -> float:
    tz = dict(zip(w.markets.market, w.markets.tz, strict=True))
    t = w.tickets
    off = 0
    for mk, ts in zip(t.market.astype(str), t.created_at, strict=True):
        hour = pd.Timestamp(ts).tz_convert(tz[mk]).hour
        off += not (rules.CS_OPEN_HOUR <= hour < rules.CS_CLOSE_HOUR)
    return off / len(t)


def _agent_kpis(w) -> pd.DataFrame:
    t = w.tickets
    n, esc = defaultdict(int), defaultdict(int)
    sat: dict[str, list[float]] = defaultdict(list)
    for a, s, e in zip(t.agent_id.astype(str), t.satisfaction, t.escalated, strict=True):
        n[a] += 1
        esc[a] += bool(e)
        if not _isna(s):
            sat[a].append(float(s))
    rows = [(a, n[a], sum(sat[a]) / len(sat[a]) if sat[a] else float("nan"), esc[a] / n[a])
            for a in sorted(n)]
    return pd.DataFrame(rows, columns=["agent_id", "n_tickets", "csat", "escalation_rate"])


def _tracking_share(w) -> float:
    t = w.tickets
    linked = [str(tt) for o, tt in zip(t.order_id, t.ticket_type.astype(str), strict=True)
              if not _isna(o)]
    return sum(tt in ORDER_TOPICS for tt in linked) / len(linked)


def _review_indicators(w) -> pd.DataFrame:
    n, pos, neg = defaultdict(int), defaultdict(int), defaultdict(int)
    for st, r in zip(w.reviews.store_id, w.reviews.rating, strict=True):
        n[str(st)] += 1
        pos[str(st)] += int(r) >= 4
        neg[str(st)] += int(r) <= rules.NEGATIVE_REVIEW_MAX_RATING
    comp = defaultdict(int)
    for st, c in zip(w.tickets.store_id, w.tickets.is_complaint, strict=True):
        comp[str(st)] += bool(c)
    rows = [(s, n[s], pos[s] / n[s], neg[s] / n[s], comp[s]) for s in sorted(n)]
    return pd.DataFrame(rows, columns=["store_id", "n_reviews", "positive_rate",
                                       "negative_rate", "n_complaints"])


def _return_reasons(w) -> pd.Series:
    n = defaultdict(int)
    for r in w.returns.reason.astype(str):
        n[r] += 1
    order = sorted(n, key=lambda r: (-n[r], r))
    return pd.Series([n[r] for r in order], index=order, dtype=float)


def _refund_routing(w) -> pd.DataFrame:
    r = w.refund_requests
    n, amount, gm, bad = defaultdict(int), defaultdict(int), defaultdict(int), defaultdict(int)
    for st, cny, role in zip(r.store_id, r.refund_amount_cny, r.approver_role, strict=True):
        st = str(st)
        need = "general_manager" if float(cny) >= rules.REFUND_GM_THRESHOLD_CNY else "store_manager"
        n[st] += 1
        amount[st] += int(rules.to_cents(float(cny)))
        gm[st] += need == "general_manager"
        bad[st] += (not _isna(role)) and str(role) != need
    rows = [(s, n[s], amount[s] / 100, gm[s], bad[s]) for s in sorted(n)]
    return pd.DataFrame(rows, columns=["store_id", "n_requests", "amount_cny", "n_gm_required",
                                       "n_misrouted"])


def _mask_email(email: str) -> str:
    user, domain = email.split("@", 1)
    return f"{user[0]}***@{domain}"


def _mask_phone(phone: str) -> str:
    return "***" + re.sub(r"\D", "", phone)[-4:]


def _shared_complaints(w) -> pd.DataFrame:
    cust = {str(c): (str(e), str(p)) for c, e, p in
            zip(w.customers.customer_id, w.customers.email, w.customers.phone, strict=True)}
    t = w.tickets
    rows = []
    for tid, oid, cid, comp in zip(t.ticket_id, t.order_id, t.customer_id, t.is_complaint,
                                   strict=True):
        if bool(comp):
            email, phone = cust[str(cid)]
            rows.append((str(tid), None if _isna(oid) else str(oid), _mask_email(email),
                         _mask_phone(phone)))
    return pd.DataFrame(rows, columns=list(SHARE_COLUMNS))


def _b2b_repeat_rate(w) -> float:
    k = defaultdict(int)
    for b, st in zip(w.contracts.buyer_id, w.contracts.status.astype(str), strict=True):
        if st != "cancelled":
            k[str(b)] += 1
    return sum(v >= 2 for v in k.values()) / len(k)


# --- solution snippets shared by mistakes -----------------------------------------------------


_OFF_HOURS_SOLUTION = """\
from cbec_sim import rules

t = tickets.merge(markets[['market', 'tz']], on='market')
hour = pd.Series([ts.tz_convert(tz).hour for ts, tz in zip(t.created_at, t.tz)])
inside = (hour >= rules.CS_OPEN_HOUR) & (hour < rules.CS_CLOSE_HOUR)
off_hours_share = float((~inside).mean())"""

_AGENT_SOLUTION = """\
agent_kpis = (tickets.groupby('agent_id', as_index=False)
              .agg(n_tickets=('ticket_id', 'count'),
                   csat=('satisfaction', 'mean'),
                   escalation_rate=('escalated', 'mean')))"""

_REVIEW_SOLUTION = """\
rv = reviews.assign(pos=reviews.rating >= 4, neg=reviews.rating <= 2)
ind = rv.groupby('store_id', as_index=False).agg(n_reviews=('review_id', 'count'),
                                                 positive_rate=('pos', 'mean'),
                                                 negative_rate=('neg', 'mean'))
complaints = tickets.groupby('store_id').is_complaint.sum()
ind['n_complaints'] = ind.store_id.map(complaints).fillna(0).astype(int)
review_kpis = ind"""

_PARETO_SOLUTION = """\
import matplotlib.pyplot as plt
from graders.plotting import use_cjk_font
use_cjk_font()

counts = returns.reason.astype(str).value_counts()
counts = counts.sort_index().sort_values(ascending=False, kind='stable')  # 同数按字母

fig, ax = plt.subplots(figsize=(8, 4))
ax.bar(counts.index.astype(str), counts.values)
ax.set_title('退货原因帕累托图')
ax.set_xlabel('退货原因 reason')
ax.set_ylabel('退货申请数（笔）')
ax.tick_params(axis='x', labelrotation=30)
ax2 = ax.twinx()                                    # 右轴：累计占比，帕累托图的折线
ax2.plot(counts.index.astype(str), counts.cumsum() / counts.sum() * 100, color='C1', marker='o')
ax2.set_ylabel('累计占比（%）')
ax2.set_ylim(0, 105)
chart = ax"""

_ROUTING_SOLUTION = """\
from cbec_sim import rules

r = refund_requests.copy()
r['need'] = rules.refund_approver(r.refund_amount_cny)         # 按人民币金额定审批人
r['gm'] = r.need == 'general_manager'
r['bad'] = r.approver_role.notna() & (r.approver_role.astype(object) != r.need)
refund_check = (r.groupby('store_id', as_index=False)
                .agg(n_requests=('refund_request_id', 'count'),
                     amount_cny=('refund_amount_cny', 'sum'),
                     n_gm_required=('gm', 'sum'),
                     n_misrouted=('bad', 'sum')))
refund_check['amount_cny'] = refund_check.amount_cny.round(2)"""

_SHARE_SOLUTION = """\
comp = tickets.loc[tickets.is_complaint, ['ticket_id', 'order_id', 'customer_id']]
comp = comp.merge(customers[['customer_id', 'email', 'phone']], on='customer_id', how='left')
parts = comp.email.str.split('@', n=1)
comp['email_masked'] = parts.str[0].str[0] + '***@' + parts.str[1]
digits = comp.phone.str.replace(r'\\D', '', regex=True)          # 只留数字
comp['phone_masked'] = '***' + digits.str[-4:]
shared = comp[['ticket_id', 'order_id', 'email_masked', 'phone_masked']]"""

_REPEAT_SOLUTION = """\
ok = contracts[contracts.status != 'cancelled']
per_buyer = ok.groupby('buyer_id').contract_id.count()
b2b_repeat_rate = float((per_buyer >= 2).mean())"""

_CHART_TAIL = ("\nax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
               "plt.close(fig)\nchart = ax")


# --- items ------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="18.01.first_response_by_channel",
        title="各服务渠道的平均首次响应时间",
        question=("客服工单（ticket 工单，`tickets`）来自多个服务渠道（service channel 服务渠道："
                  "电话、在线文字、语音、视频、社交媒体、邮件）。`first_response_hours` "
                  "是从客户联系到客服第一次回复经过的**服务时间**小时数"
                  "（只计每天 09:00–17:00 的服务时段）。按 `channel` 计算平均首次响应时间"
                  "（first response time 首次响应时间），还没回复的工单不计。"
                  "结果存进 `frt_by_channel`：Series，索引是渠道，值是小时（小数）。"),
        stage=STAGE, tasks=("9.1.1", "9.2.1"), unit=UNIT, difficulty=1, points=1,
        answer="frt_by_channel", kind="series",
        answer_cn="Series：channel → 平均小时数（服务时间）",
        reference=_first_response_by_channel,
        solution=("frt_by_channel = (tickets.groupby('channel', observed=True)\n"
                  "                  .first_response_hours.mean())"),
        hints=("`groupby('channel')` 后对 `first_response_hours` 取平均值；"
               "`mean()` 会自动跳过空值（还没回复的工单）。",
               "题目要的是**服务时间**小时数，直接用表里的 `first_response_hours`，"
               "不要自己用时间戳相减。"),
        mistakes=(
            Mistake("median",
                    "frt_by_channel = tickets.groupby('channel', observed=True)"
                    ".first_response_hours.median()",
                    "你算的是中位数；题目要平均值（mean）。"),
            Mistake("calendar_hours",
                    "h = (tickets.first_response_at - tickets.created_at)"
                    ".dt.total_seconds() / 3600\n"
                    "frt_by_channel = h.groupby(tickets.channel, observed=True).mean()",
                    "你用时间戳相减得到的是自然小时，把夜里下班的时间也算进去了；"
                    "响应时间只计服务时段，用 `first_response_hours`。"),
        ),
        compare=SeriesOf(rel=1e-6, abs=1e-6),
        tables=("tickets",),
    ),
    Exercise(
        id="18.01.off_hours_share",
        title="在服务时间以外进来的工单占比",
        question=("表 1 任务 9.1.2 服务时间（service hours 服务时间）要求客服时间"
                  "不少于 7 天 × 8 小时。"
                  "本公司的客服时间是**客户所在市场当地时间**每天 09:00–17:00"
                  "（`rules.CS_OPEN_HOUR`、`rules.CS_CLOSE_HOUR`），即当地小时数 9 ≤ h < 17 算在"
                  "服务时间内。工单的 `created_at` 是 UTC 时间：用 `markets` 表中该市场的时区 `tz` "
                  "换成当地时间。算出**在服务时间以外**创建的工单占全部工单的比例，存进 "
                  "`off_hours_share`（小数）。这个比例说明是否值得延长服务时间或加开自动回复。"),
        stage=STAGE, tasks=("9.1.2",), unit=UNIT, difficulty=2, points=2,
        answer="off_hours_share", kind="rate", answer_cn="比率（小数）",
        reference=_off_hours_share,
        solution=_OFF_HOURS_SOLUTION,
        hints=("先把 `markets[['market', 'tz']]` 按 `market` 合并到工单上。",
               "每个时间戳 `ts.tz_convert(tz).hour` 得到当地小时；时区因行而异，"
               "所以要逐行转换（列表推导式）。",
               "服务时间内是 `9 <= 小时 < 17`；17:30 已经下班。"),
        mistakes=(
            Mistake("utc_hours",
                    "from cbec_sim import rules\n"
                    "hour = tickets.created_at.dt.hour\n"
                    "inside = (hour >= rules.CS_OPEN_HOUR) & (hour < rules.CS_CLOSE_HOUR)\n"
                    "off_hours_share = float((~inside).mean())",
                    "你用的是 UTC 小时；服务时间按客户所在市场的当地时间算，先用 `tz` 转换。"),
            Mistake("close_inclusive",
                    _variant(_OFF_HOURS_SOLUTION, "(hour < rules.CS_CLOSE_HOUR)",
                             "(hour <= rules.CS_CLOSE_HOUR)"),
                    "你把 17 点整到 17:59 也算进了服务时间；服务时段是 09:00–17:00，"
                    "小时数要 < 17。"),
        ),
        compare=Rate(),
        tables=("tickets", "markets"),
    ),
    Exercise(
        id="18.01.agent_kpis",
        title="客服人员考核表",
        question=("表 1 任务 9.1.3 要按销售规模配备客服人员，并对他们考核（9.1.3.1），服务态度"
                  "（9.1.3.2）和服务礼仪（9.1.3.3）最终体现在客户的满意度评分上。"
                  "按客服 `agent_id` 做一张考核表 `agent_kpis`（DataFrame），"
                  "每个客服一行，列为：\n\n"
                  "- `n_tickets`：处理的工单数；\n"
                  "- `csat`：满意度（CSAT 客户满意度）= 有评分的工单 `satisfaction` 的平均值"
                  "（1–5 分，没有回答问卷的不计）；\n"
                  "- `escalation_rate`：升级率（escalation 升级）= `escalated` 为 True 的工单数 ÷ "
                  "该客服的工单数（小数）。"),
        stage=STAGE, tasks=("9.1.3", "9.1.3.1", "9.1.3.2", "9.1.3.3"), unit=UNIT,
        difficulty=2, points=2,
        answer="agent_kpis", kind="frame",
        answer_cn="DataFrame：agent_id, n_tickets, csat, escalation_rate",
        reference=_agent_kpis,
        solution=_AGENT_SOLUTION,
        hints=("`groupby('agent_id', as_index=False).agg(新列名=('原列名', '函数'), ...)` "
               "一次算出三列。",
               "`mean()` 会跳过空的满意度；True/False 的平均值就是 True 的比例。"),
        mistakes=(
            Mistake("missing_as_zero",
                    "t = tickets.assign(satisfaction=tickets.satisfaction.fillna(0))\n"
                    + _AGENT_SOLUTION.replace("tickets.groupby", "t.groupby"),
                    "你把没有回答问卷的工单当成 0 分：没有评分不等于打了 0 分，"
                    "计算满意度时要跳过空值。"),
            Mistake("escalation_count",
                    _variant(_AGENT_SOLUTION, "('escalated', 'mean')", "('escalated', 'sum')"),
                    "升级率是比例：升级的工单数要除以该客服的工单数。"),
        ),
        compare=Frame(key=("agent_id",), columns=("n_tickets", "csat", "escalation_rate"),
                      rel=1e-6, abs=1e-6),
        tables=("tickets",),
    ),
    Exercise(
        id="18.01.tracking_share",
        title="与订单有关的咨询中，问“货到哪了”的占比",
        question=("订单跟踪（order tracking 订单跟踪，任务 9.2.2）做得好，客户就不用来问包裹在哪。"
                  "只看**关联了订单**的工单（`order_id` 不为空），计算其中主题 `ticket_type` 为 "
                  "`order_status`（订单状态）或 `logistics`（物流）的工单所占比例，存进 "
                  "`tracking_share`（小数）。"),
        stage=STAGE, tasks=("9.2.2",), unit=UNIT, difficulty=1, points=1,
        answer="tracking_share", kind="rate", answer_cn="比率（小数）",
        reference=_tracking_share,
        solution=("linked = tickets[tickets.order_id.notna()]\n"
                  "tracking_share = float(linked.ticket_type.isin(['order_status', 'logistics'])"
                  ".mean())"),
        hints=("先筛选 `tickets.order_id.notna()`。",
               "`isin([...])` 得到 True/False，它的平均值就是比例。"),
        mistakes=(
            Mistake("all_tickets",
                    "tracking_share = float(tickets.ticket_type.isin(['order_status', 'logistics'])"
                    ".mean())",
                    "分母错了：售前咨询没有关联订单，只在关联了订单的工单里算比例。"),
            Mistake("status_only",
                    "linked = tickets[tickets.order_id.notna()]\n"
                    "tracking_share = float((linked.ticket_type == 'order_status').mean())",
                    "问物流进度（`logistics`）的工单也是在问“货到哪了”，两类都要算。"),
        ),
        compare=Rate(),
        tables=("tickets",),
    ),
    Exercise(
        id="18.01.review_kpis",
        title="各店铺的评价与投诉指标",
        question=("任务 9.2.5 客户评价要求根据评价和投诉原因持续改进。对每个有评价的店铺做一张表 "
                  "`review_kpis`（DataFrame），每个店铺一行，列为：\n\n"
                  "- `n_reviews`：评价数；\n"
                  "- `positive_rate`：好评率（positive-review rate 好评率）"
                  "= 4–5 星评价 ÷ 评价数；\n"
                  "- `negative_rate`：差评率（negative-review rate 差评率）= 1–2 星评价 ÷ 评价数"
                  "（3 星是中评，两边都不算；规则见 `rules.review_sentiment`）；\n"
                  "- `n_complaints`：该店铺的投诉（complaint 投诉，`tickets.is_complaint` 为 True）"
                  "工单数，没有投诉记为 0。"),
        stage=STAGE, tasks=("9.2.5", "9.2.4"), unit=UNIT, difficulty=2, points=2,
        answer="review_kpis", kind="frame",
        answer_cn="DataFrame：store_id, n_reviews, positive_rate, negative_rate, n_complaints",
        reference=_review_indicators,
        solution=_REVIEW_SOLUTION,
        hints=("先给评价加两列 True/False：`rating >= 4` 和 `rating <= 2`，"
               "按店铺取平均就是好评率和差评率。",
               "投诉数另从 `tickets` 按店铺汇总 `is_complaint`，用 `map` 接到评价表上，"
               "没有投诉的店铺 `fillna(0)`。"),
        mistakes=(
            Mistake("neutral_as_negative",
                    _variant(_REVIEW_SOLUTION, "neg=reviews.rating <= 2",
                             "neg=reviews.rating <= 3"),
                    "你把 3 星中评也算成了差评；差评只有 1–2 星。"),
            Mistake("five_star_only",
                    _variant(_REVIEW_SOLUTION, "pos=reviews.rating >= 4",
                             "pos=reviews.rating == 5"),
                    "4 星也是好评；好评率要算 4–5 星。"),
        ),
        compare=Frame(key=("store_id",), columns=("n_reviews", "positive_rate", "negative_rate",
                                                  "n_complaints"), rel=1e-6, abs=1e-6),
        tables=("reviews", "tickets"),
    ),
    Exercise(
        id="18.01.return_pareto",
        title="退货原因帕累托图",
        question=("售后服务（9.2.3）要从退货原因找改进点。画一张退货原因的帕累托图（Pareto chart "
                  "帕累托图）的柱子部分：`returns` 表中每个退货原因 `reason` 的**退货申请笔数**"
                  "（行数），只画出现过的原因，按笔数**从多到少**排列（笔数相同按原因名字母顺序）。"
                  "图要有标题、横轴标签和纵轴标签（含单位）。把 Axes 存进 `chart`。"),
        stage=STAGE, tasks=("9.2.3", "9.2.5"), unit=UNIT, difficulty=2, points=2,
        answer="chart", kind="chart", answer_cn="matplotlib 的 Axes（柱状图）",
        reference=_return_reasons,
        solution=_PARETO_SOLUTION,
        hints=("`returns.reason.astype(str).value_counts()` 数出每个原因的笔数；先 `sort_index()` "
               "再 `sort_values(ascending=False, kind='stable')`，同数的就按字母排。",
               "`fig, ax = plt.subplots()`，`ax.bar(原因, 笔数)`，再加标题和两个轴标签，"
               "`chart = ax`。"),
        mistakes=(
            Mistake("refund_amount",
                    "import matplotlib.pyplot as plt\n"
                    "s = returns.groupby('reason', observed=True).refund_amount_cny.sum()"
                    ".sort_values(ascending=False)\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(s.index.astype(str), s.values)" + _CHART_TAIL,
                    "你画的是退款金额；题目要每个原因的退货申请**笔数**。"),
            Mistake("alphabetical",
                    "import matplotlib.pyplot as plt\n"
                    "s = returns.reason.astype(str).value_counts().sort_index()\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(s.index, s.values)" + _CHART_TAIL,
                    "帕累托图要按笔数从多到少排，才能一眼看出最主要的几个原因。"),
        ),
        compare=Chart(kind="bar"),
        tables=("returns",),
    ),
    Exercise(
        id="18.01.refund_routing",
        title="退款审批是否按 5000 元规则走",
        question=("任务 11.4.6 退款要求通过平台退款渠道及时退款。本公司的退款审批规则"
                  "（示例公司制度，OPERATING-RULES §3.20）：退款金额**按人民币**计，"
                  "**5000 元及以上**由总经理 `general_manager` 审批，以下由店长 `store_manager` "
                  "审批（`rules.refund_approver`）。对 `refund_requests` 按店铺做一张核对表 "
                  "`refund_check`（DataFrame），每个店铺一行，列为：\n\n"
                  "- `n_requests`：退款申请数；\n"
                  "- `amount_cny`：退款金额合计（人民币元，两位小数）；\n"
                  "- `n_gm_required`：按规则需要总经理审批的申请数；\n"
                  "- `n_misrouted`：**已审批**（`approver_role` 不为空）但审批人角色与规则不符的"
                  "申请数。"),
        stage=STAGE, tasks=("11.4.6",), unit=UNIT, difficulty=3, points=3,
        answer="refund_check", kind="frame",
        answer_cn="DataFrame：store_id, n_requests, amount_cny, n_gm_required, n_misrouted",
        reference=_refund_routing,
        solution=_ROUTING_SOLUTION,
        hints=("退款金额有原币 `refund_amount` 和人民币 `refund_amount_cny` 两列；5000 元规则"
               "看人民币。",
               "`rules.refund_approver(人民币金额)` 给出每笔应由谁审批；与 `approver_role` "
               "比较时，先排除还没有审批人的申请。",
               "先加三列 True/False（需要总经理、审批人不符），再按店铺 `agg` 求和与计数。"),
        mistakes=(
            Mistake("local_currency",
                    _variant(_variant(_ROUTING_SOLUTION,
                                      "rules.refund_approver(r.refund_amount_cny)",
                                      "rules.refund_approver(r.refund_amount)"),
                             "('refund_amount_cny', 'sum')", "('refund_amount', 'sum')"),
                    "你用的是订单原币金额：日元、泰铢的数字大，不等于人民币金额。"
                    "5000 元规则和金额合计都按 `refund_amount_cny` 算。"),
            Mistake("refunded_only",
                    _variant(_ROUTING_SOLUTION, "r = refund_requests.copy()",
                             "r = refund_requests[refund_requests.status == 'refunded'].copy()"),
                    "你只看了已退款的申请；已批准、还没付款的申请也要核对。"),
        ),
        compare=Frame(key=("store_id",), columns=("n_requests", "amount_cny", "n_gm_required",
                                                  "n_misrouted"), rel=0, abs=0.005),
        tables=("refund_requests",),
    ),
    Exercise(
        id="18.01.shared_complaints",
        title="把投诉转给物流商之前先脱敏",
        question=("投诉（9.2.4）常要转给物流商或平台去核查。公司的客户信息保密制度（示例公司制度，"
                  "OPERATING-RULES §3.2、§3.5）要求只分享**必要**的信息，对外分享的数据要做"
                  "**去标识化**处理（de-identification 去标识化）。为所有投诉工单"
                  "（`is_complaint` 为 True）做一张要发出去的表 `shared`（DataFrame），"
                  "每张工单一行，**只有**四列：\n\n"
                  "- `ticket_id`、`order_id`（照抄，没有订单的留空）；\n"
                  "- `email_masked`：客户邮箱（`customers.email`）只保留 @ 前的**第一个字符**，"
                  "后面接 `***`，再接 @ 和完整域名，如 `colleen.jennings9739@yahoo.com` → "
                  "`c***@yahoo.com`；\n"
                  "- `phone_masked`：客户电话（`customers.phone`）去掉所有非数字字符后，只保留"
                  "**最后 4 位**，前面接 `***`，如 `+1-223-587-4599` → `***4599`。\n\n"
                  "姓名、地址和完整的邮箱、电话都不能出现在表里（这套掩码格式是本课程的约定）。"),
        stage=STAGE, tasks=("9.2.4",), unit=UNIT, difficulty=3, points=3,
        answer="shared", kind="frame",
        answer_cn="DataFrame：ticket_id, order_id, email_masked, phone_masked（只有这四列）",
        reference=_shared_complaints,
        solution=_SHARE_SOLUTION,
        hints=("先筛出投诉工单，再按 `customer_id` 把 `customers` 的 `email`、`phone` 合并进来。",
               "`email.str.split('@', n=1)` 把邮箱拆成两部分，`.str[0]` 取 @ 前、`.str[1]` 取域名；"
               "字符串列可以用 `+` 拼接。",
               "`phone.str.replace(r'\\D', '', regex=True)` 删掉非数字字符，"
               "`.str[-4:]` 取最后 4 位；"
               "最后只选四列，别把 `email`、`phone` 原文带出去。"),
        mistakes=(
            Mistake("phone_first_digits",
                    _variant(_SHARE_SOLUTION, "'***' + digits.str[-4:]",
                             "digits.str[:4] + '***'"),
                    "电话号码开头几位是国家码和区号，谁都猜得到；要保留的是**最后 4 位**，"
                    "方便客户自己核对。"),
            Mistake("domain_hidden",
                    _variant(_SHARE_SOLUTION, "parts.str[0].str[0] + '***@' + parts.str[1]",
                             "parts.str[0] + '@***'"),
                    "你把域名遮住了，却留下了完整的用户名：用户名常常就是客户的姓名，"
                    "要遮的是 @ 前面（只留第一个字符），域名保留。"),
        ),
        compare=SharedFrame(key=("ticket_id",), columns=SHARE_COLUMNS),
        tables=("tickets", "customers"),
    ),
    Exercise(
        id="18.01.b2b_repeat_rate",
        title="B2B 买家的复购率",
        question=("任务 11.2.4 持续服务客户：B2B 店铺要靠优质的客户服务实现**复购转化**"
                  "（repeat conversion 复购转化）。在 `contracts`（B2B 合同）中，不计已取消的合同"
                  "（`status == 'cancelled'`），算出：签过 **2 份及以上**合同的买家数 ÷ "
                  "签过至少 1 份合同的买家数，存进 `b2b_repeat_rate`（小数）。"),
        stage=STAGE, tasks=("11.2.4",), unit=UNIT, difficulty=2, points=2,
        answer="b2b_repeat_rate", kind="rate", answer_cn="比率（小数）",
        reference=_b2b_repeat_rate,
        solution=_REPEAT_SOLUTION,
        hints=("先去掉已取消的合同，再按 `buyer_id` 数每个买家的合同数。",
               "每个买家一行之后，`(合同数 >= 2).mean()` 就是复购买家的比例。"),
        mistakes=(
            Mistake("contracts_per_buyer",
                    "ok = contracts[contracts.status != 'cancelled']\n"
                    "b2b_repeat_rate = len(ok) / ok.buyer_id.nunique()",
                    "你算的是平均每个买家签了几份合同；题目要的是复购**买家**占买家的比例。"),
            Mistake("repeat_contract_share",
                    "ok = contracts[contracts.status != 'cancelled']\n"
                    "b2b_repeat_rate = (len(ok) - ok.buyer_id.nunique()) / len(ok)",
                    "你算的是复购合同占合同的比例；题目按买家算：有复购的买家 ÷ 全部买家。"),
        ),
        compare=Rate(),
        tables=("contracts",),
    ),
)
