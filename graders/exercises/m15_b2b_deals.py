"""15-b2b-deals (B2B 商机、客户管理与交易达成): inquiries, RFQs, leads, quotes and contracts.

Stages 5.15 商机获得与客户管理 and 5.16 交易达成及交易管理 of T/CCPITCSC 111-2022 (Table 1
links 8 and 10, plus 11.2.5). 15.01 tags 8.1.1 询盘分析与回复 (inquiries not answered in time),
8.1.3 访客邮件营销 and 8.2.1 客户信息收集 (e-mail marketing by lead channel), 8.1.2 RFQ 商机
(RFQs quoted in time), 8.2.3 客户营销 (conversion and acquisition cost per channel), 8.2.2 客群
管理 and 11.2.5 客户数据分析 (grading the buyers). 15.02 tags 10.1.1 / 10.1.4 / 10.1.6 (sample,
trial and bulk contracts), 10.1.5 报价核算 (quotes recomputed with ``rules.quote_price``),
10.1.2 / 10.1.3 (quote → contract conversion, the step where reception and factory audits
happen), 10.2.1 信用保障 (deposits paid but goods not shipped on time), 10.2.2 一达通 (One Touch
share) and 10.2.3 外销合同和采购合同 (gross profit of each export contract against its purchase
contract).

Rules come from ``cbec_sim.rules``: :func:`~cbec_sim.rules.replied_within` and
:data:`~cbec_sim.rules.INQUIRY_REPLY_SLA_HOURS` (24 h, a teaching value; the standard says 及时),
:func:`~cbec_sim.rules.quote_price`, :func:`~cbec_sim.rules.price_for_incoterm`,
:func:`~cbec_sim.rules.export_rebate_per_unit`. The buyer grades A–D are the kit's teaching rule.

Every ``reference`` below computes the expected answer its own way (loops and dicts), apart
from the quotation maths, which lives once in the rules module.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from cbec_sim import rules
from graders.compare import Chart, Frame, IdSet, Rate, SeriesOf
from graders.exercise import Exercise, Mistake
from graders.exercises._helpers import variant as _variant

MODULE = "15-b2b-deals"

UNIT = "b2b_trade"
SLA_H = rules.INQUIRY_REPLY_SLA_HOURS


def _cents(x: float) -> int:
    return int(rules.to_cents(float(x)))


def _period_end_day(w) -> pd.Timestamp:
    """First day after the simulated period (naive date), the "as of" day of 15.02."""
    return pd.Timestamp(w.meta["start"]) + pd.DateOffset(months=int(w.meta["months"]))


def _paid_buyers(w) -> set[str]:
    c = w.contracts
    return {str(b) for b, d in zip(c.buyer_id, c.deposit_paid_at, strict=True) if not pd.isna(d)}


# --- references: 15.01 ------------------------------------------------------------------------

def _leads_by_channel(w) -> pd.Series:
    n = defaultdict(int)
    for ch in w.b2b_buyers.source_channel.astype(str):
        n[ch] += 1
    order = sorted(n, key=lambda ch: (-n[ch], ch))
    return pd.Series([n[ch] for ch in order], index=order)


def _late_inquiries(w) -> list[str]:
    i = w.inquiries
    out = []
    for iid, spam, r, f in zip(i.inquiry_id, i.flagged_spam, i.received_at, i.first_reply_at,
                               strict=True):
        if bool(spam):
            continue
        if pd.isna(f) or (f - r) > pd.Timedelta(hours=SLA_H):
            out.append(str(iid))
    return out


def _email_rates(w) -> pd.DataFrame:
    b = w.b2b_buyers
    s, o, c = defaultdict(int), defaultdict(int), defaultdict(int)
    for ch, n, op, cl in zip(b.source_channel.astype(str), b.emails_sent, b.emails_opened,
                             b.emails_clicked, strict=True):
        s[ch] += int(n)
        o[ch] += int(op)
        c[ch] += int(cl)
    rows = [(ch, s[ch], o[ch] / s[ch], c[ch] / s[ch]) for ch in sorted(s) if s[ch] > 0]
    return pd.DataFrame(rows, columns=["source_channel", "emails_sent", "open_rate",
                                       "click_rate"])


def _rfq_in_time(w) -> float:
    r = w.rfqs
    ok = sum(1 for p, q in zip(r.posted_at, r.quoted_at, strict=True)
             if not pd.isna(q) and (q - p) <= pd.Timedelta(hours=SLA_H))
    return ok / len(r)


def _channel_cac(w) -> pd.DataFrame:
    b = w.b2b_buyers
    paid = _paid_buyers(w)
    leads, cust = defaultdict(int), defaultdict(int)
    for bid, ch in zip(b.buyer_id, b.source_channel.astype(str), strict=True):
        leads[ch] += 1
        cust[ch] += str(bid) in paid
    spend = defaultdict(int)
    for ch, v in zip(w.channel_costs.channel.astype(str), w.channel_costs.spend_cny,
                     strict=True):
        spend[ch] += _cents(v)
    rows = []
    for ch in sorted(set(leads) | set(spend)):
        n, k, sp = leads[ch], cust[ch], spend[ch] / 100
        rows.append((ch, n, k, k / n if n else np.nan, sp, sp / k if k else np.nan))
    return pd.DataFrame(rows, columns=["channel", "leads", "customers", "conversion_rate",
                                       "spend_cny", "cac_cny"])


def _buyer_grade(w) -> pd.Series:
    paid = _paid_buyers(w)
    quoted = {str(x) for x in w.quotes.buyer_id}
    b = w.b2b_buyers
    out = {}
    for bid, ni, nr in zip(b.buyer_id, b.inquiries_sent, b.rfqs_posted, strict=True):
        bid = str(bid)
        if bid in paid:
            out[bid] = "A"
        elif bid in quoted:
            out[bid] = "B"
        elif int(ni) + int(nr) > 0:
            out[bid] = "C"
        else:
            out[bid] = "D"
    return pd.Series(out)


# --- references: 15.02 ------------------------------------------------------------------------

def _value_by_type(w) -> pd.Series:
    c = w.contracts
    tot = defaultdict(int)
    for t, st, v in zip(c.order_type.astype(str), c.status.astype(str), c.total_usd, strict=True):
        if st != "cancelled":
            tot[t] += _cents(v)
    return pd.Series({t: tot[t] / 100 for t in sorted(tot)})


def _recomputed_unit_price(q: pd.DataFrame) -> np.ndarray:
    rebate = rules.export_rebate_per_unit(q.unit_cost_cny, q.vat_rate, q.export_rebate_rate)
    p = rules.quote_price(q.unit_cost_cny, q.domestic_charges_cny, q.margin_rate, q.fx_rate_cny,
                          q.freight_per_unit_usd, q.insurance_rate, rebate_per_unit_cny=rebate)
    return rules.price_for_incoterm(q.incoterm.astype(str), p["fob"], p["cfr"], p["cif"])


def _wrong_quotes(w) -> list[str]:
    q = w.quotes
    right = _recomputed_unit_price(q)
    return [str(i) for i, shown, r in zip(q.quote_id, q.unit_price_usd, right, strict=True)
            if _cents(shown) != _cents(r)]


def _conversion_by_incoterm(w) -> pd.Series:
    won = {str(x) for x in w.contracts.quote_id}
    n, k = defaultdict(int), defaultdict(int)
    for qid, term in zip(w.quotes.quote_id, w.quotes.incoterm.astype(str), strict=True):
        n[term] += 1
        k[term] += str(qid) in won
    return pd.Series({t: k[t] / n[t] for t in sorted(n)})


def _shipment_overdue(w) -> pd.DataFrame:
    end = _period_end_day(w)
    c = w.contracts
    rows = []
    for cid, st, dep, dep_usd, ship_by, shipped in zip(
            c.contract_id, c.status.astype(str), c.deposit_paid_at, c.deposit_usd,
            c.ship_by_date, c.shipped_at, strict=True):
        if st != "cancelled" and not pd.isna(dep) and pd.isna(shipped) and ship_by < end:
            rows.append((str(cid), _cents(dep_usd) / 100, (end - ship_by).days))
    return pd.DataFrame(rows, columns=["contract_id", "deposit_usd", "days_overdue"])


def _one_touch_share(w) -> float:
    c = w.contracts
    ot, tot = 0, 0
    for t, st, via, v in zip(c.order_type.astype(str), c.status.astype(str), c.via_one_touch,
                             c.fob_value_usd, strict=True):
        if t == "sample" or st == "cancelled":
            continue
        tot += _cents(v)
        ot += _cents(v) if bool(via) else 0
    return ot / tot


def _contract_profit(w) -> pd.DataFrame:
    q = w.quotes.set_index("quote_id")
    c = w.contracts
    rows = []
    for cid, qid, t, st, qty, fob_v, purchase in zip(
            c.contract_id, c.quote_id, c.order_type.astype(str), c.status.astype(str),
            c.quantity, c.fob_value_usd, c.purchase_total_cny, strict=True):
        if t == "sample" or st == "cancelled":
            continue
        r = q.loc[qid]
        rebate = float(rules.export_rebate_per_unit(r.unit_cost_cny, r.vat_rate,
                                                    r.export_rebate_rate))
        revenue = _cents(float(fob_v) * float(r.fx_rate_cny))
        cost = _cents(purchase) + _cents(float(r.domestic_charges_cny) * int(qty)) \
            - _cents(rebate * int(qty))
        rows.append((str(cid), (revenue - cost) / 100))
    return pd.DataFrame(rows, columns=["contract_id", "profit_cny"])


# --- solution snippets shared by mistakes -----------------------------------------------------

_CAC_SOLUTION = """\
# ① 每个渠道的线索数
leads = b2b_buyers.groupby('source_channel', observed=True).size()
# ② 成交客户：至少一份合同已付定金的买家（每个买家只算一次）
paid = contracts[contracts.deposit_paid_at.notna()]
won = b2b_buyers[b2b_buyers.buyer_id.isin(paid.buyer_id)]
customers = won.groupby('source_channel', observed=True).size()
# ③ 每个渠道全年的花费
spend = channel_costs.groupby('channel', observed=True).spend_cny.sum()
cac = pd.DataFrame({'leads': leads, 'customers': customers, 'spend_cny': spend})
cac = cac.fillna({'leads': 0, 'customers': 0, 'spend_cny': 0})
cac['conversion_rate'] = cac.customers / cac.leads
cac['cac_cny'] = cac.spend_cny / cac.customers.where(cac.customers > 0)
cac = cac.rename_axis('channel').reset_index()"""

_GRADE_SOLUTION = """\
paid = set(contracts.loc[contracts.deposit_paid_at.notna(), 'buyer_id'])
quoted = set(quotes.buyer_id)
b = b2b_buyers.set_index('buyer_id')
grade = pd.Series(np.select(
    [b.index.isin(paid),
     b.index.isin(quoted),
     (b.inquiries_sent + b.rfqs_posted) > 0],
    ['A', 'B', 'C'], default='D'), index=b.index)"""

_QUOTE_SOLUTION = """\
from cbec_sim import rules

qt = quotes
rebate = rules.export_rebate_per_unit(qt.unit_cost_cny, qt.vat_rate, qt.export_rebate_rate)
p = rules.quote_price(qt.unit_cost_cny, qt.domestic_charges_cny, qt.margin_rate,
                      qt.fx_rate_cny, qt.freight_per_unit_usd, qt.insurance_rate,
                      rebate_per_unit_cny=rebate)
right = rules.price_for_incoterm(qt.incoterm.astype(str), p['fob'], p['cfr'], p['cif'])
wrong = ~np.isclose(qt.unit_price_usd, right, atol=0.005, rtol=0)
wrong_quote_ids = qt.loc[wrong, 'quote_id']"""

_PROFIT_SOLUTION = """\
from cbec_sim import rules

c = contracts[(contracts.order_type != 'sample') & (contracts.status != 'cancelled')]
c = c.merge(quotes[['quote_id', 'fx_rate_cny', 'domestic_charges_cny', 'vat_rate',
                    'export_rebate_rate']], on='quote_id')
rebate = rules.export_rebate_per_unit(c.unit_cost_cny, c.vat_rate, c.export_rebate_rate)
revenue = rules.round_cents(c.fob_value_usd * c.fx_rate_cny)          # 外销合同 FOB 收入
cost = (c.purchase_total_cny                                           # 采购合同金额
        + rules.round_cents(c.domestic_charges_cny * c.quantity)       # 国内费用
        - rules.round_cents(rebate * c.quantity))                      # 出口退税
profit = c[['contract_id']].assign(profit_cny=(revenue - cost).round(2))"""


_OVERDUE_SOLUTION = """\
end = pd.Timestamp(world.meta['start']) + pd.DateOffset(months=world.meta['months'])
c = contracts
is_late = ((c.status != 'cancelled') & c.deposit_paid_at.notna()
           & c.shipped_at.isna() & (c.ship_by_date < end))
late = c[is_late]
overdue = late[['contract_id', 'deposit_usd']].assign(
    days_overdue=(end - late.ship_by_date).dt.days)"""


# --- items ------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    # 15.01 商机获得与客户管理 -------------------------------------------------------------------
    Exercise(
        id="15.01.leads_chart",
        title="各来源渠道的线索数（柱状图）",
        question=("客户信息收集（8.2.1）要把各渠道找到的潜在客户汇总起来。`b2b_buyers` 每行是一个"
                  "买家（线索 lead），`source_channel` 是他的来源渠道。画一张柱状图（`ax.bar`）："
                  "横轴是来源渠道（只列有线索的渠道），纵轴是线索数，柱子**按线索数从多到少**排列；"
                  "图要有标题、横轴标签和纵轴标签。把 Axes 存进 `chart`。"),
        stage="5.15", tasks=("8.2.1",), unit=UNIT, difficulty=1, points=1,
        answer="chart", kind="chart", answer_cn="matplotlib 的 Axes（柱状图）",
        reference=_leads_by_channel,
        solution=("import matplotlib.pyplot as plt\n"
                  "from graders.plotting import use_cjk_font\n"
                  "use_cjk_font()\n"
                  "\n"
                  "leads = b2b_buyers.source_channel.astype(str).value_counts()  # 从多到少\n"
                  "fig, ax = plt.subplots(figsize=(8, 4))\n"
                  "ax.bar(leads.index, leads.values)\n"
                  "ax.set_title('各来源渠道的线索数')\n"
                  "ax.set_xlabel('来源渠道 source_channel')\n"
                  "ax.set_ylabel('线索数（个）')\n"
                  "chart = ax"),
        hints=("`value_counts()` 数出每个渠道的买家数，并且已经从多到少排好；`source_channel` "
               "是分类列，先 `.astype(str)`，不然没有线索的渠道也会以 0 出现。",
               "`fig, ax = plt.subplots()`，`ax.bar(渠道, 线索数)`，加标题和两个轴标签，"
               "`chart = ax`。"),
        mistakes=(
            Mistake("not_sorted",
                    "import matplotlib.pyplot as plt\n"
                    "leads = b2b_buyers.groupby(b2b_buyers.source_channel.astype(str)).size()\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(leads.index, leads.values)\n"
                    "ax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
                    "plt.close(fig)\n"
                    "chart = ax",
                    "柱子按渠道名称的字母顺序排列了；题目要按线索数从多到少排，一眼看出主要渠道。"),
            Mistake("share",
                    "import matplotlib.pyplot as plt\n"
                    "leads = b2b_buyers.source_channel.astype(str).value_counts(normalize=True)\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(leads.index, leads.values)\n"
                    "ax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
                    "plt.close(fig)\n"
                    "chart = ax",
                    "你画的是占比；题目要画线索的个数。"),
        ),
        compare=Chart(kind="bar"),
        tables=("b2b_buyers",),
    ),
    Exercise(
        id="15.01.late_inquiries",
        title="没有及时回复的询盘",
        question=("询盘（inquiry 询盘）要及时回复（8.1.1）；公司目标是收到询盘后 24 小时内首次回复"
                  "（`rules.INQUIRY_REPLY_SLA_HOURS`）。列出需要销售主管跟进的询盘：**不是**垃圾"
                  "询盘（`flagged_spam` 为 False），并且从未回复（`first_reply_at` 为空）或首次回复"
                  "晚于收到后 24 小时。把 `inquiry_id` 存进 `late_ids`（顺序不限）。"),
        stage="5.15", tasks=("8.1.1",), unit=UNIT, difficulty=1, points=1,
        answer="late_ids", kind="set", answer_cn="一组询盘编号 inquiry_id，顺序不限",
        reference=_late_inquiries,
        solution=("from cbec_sim import rules\n"
                  "\n"
                  "real = inquiries[~inquiries.flagged_spam]\n"
                  "in_time = rules.replied_within(real.received_at, real.first_reply_at, 24)\n"
                  "late_ids = real.loc[~in_time, 'inquiry_id']"),
        hints=("先用 `~inquiries.flagged_spam` 去掉垃圾询盘。",
               "`rules.replied_within(收到时间, 首次回复时间, 24)` 对每个询盘给出 True/False，"
               "从未回复的算 False；要的是 False 的那些（前面加 `~`）。"),
        mistakes=(
            Mistake("kept_spam",
                    "from cbec_sim import rules\n"
                    "ok = rules.replied_within(inquiries.received_at, inquiries.first_reply_at,"
                    " 24)\n"
                    "late_ids = inquiries.loc[~ok, 'inquiry_id']",
                    "名单里有垃圾询盘（`flagged_spam`）：它们不是真实商机，不用跟进，先去掉。"),
            Mistake("never_only",
                    "real = inquiries[~inquiries.flagged_spam]\n"
                    "late_ids = real.loc[real.first_reply_at.isna(), 'inquiry_id']",
                    "你只列出了从没回复的询盘；回复了但超过 24 小时的也没有做到“及时”，"
                    "同样要列出。"),
        ),
        compare=IdSet(),
        tables=("inquiries",),
    ),
    Exercise(
        id="15.01.email_rates",
        title="各线索来源的邮件营销效果",
        question=("访客邮件营销（e-mail marketing 邮件营销，8.1.3）要看不同来源的客户对邮件的反应。"
                  "`b2b_buyers` 记录了每个买家的来源渠道 `source_channel`（8.2.1 客户信息收集）和"
                  "收到、打开、点击的营销邮件数。按 `source_channel` 汇总，算出：\n\n"
                  "- `emails_sent`：发出的邮件数之和；\n"
                  "- `open_rate`（打开率）= 打开数之和 ÷ 发出数之和；\n"
                  "- `click_rate`（点击率）= 点击数之和 ÷ 发出数之和。\n\n"
                  "结果存进 `email_rates`：DataFrame，列 `source_channel`、`emails_sent`、"
                  "`open_rate`、`click_rate`，每个渠道一行（只列发过邮件的渠道），比率用小数，"
                  "不必舍入，顺序不限。"),
        stage="5.15", tasks=("8.1.3", "8.2.1"), unit=UNIT, difficulty=1, points=1,
        answer="email_rates", kind="frame",
        answer_cn="DataFrame：source_channel, emails_sent, open_rate, click_rate",
        reference=_email_rates,
        solution=("email_rates = (b2b_buyers.groupby('source_channel', observed=True)\n"
                  "               [['emails_sent', 'emails_opened', 'emails_clicked']].sum()\n"
                  "               .reset_index())\n"
                  "email_rates = email_rates[email_rates.emails_sent > 0]\n"
                  "email_rates['open_rate'] = email_rates.emails_opened / email_rates.emails_sent\n"
                  "email_rates['click_rate'] = email_rates.emails_clicked /"
                  " email_rates.emails_sent"),
        hints=("先 `groupby('source_channel', observed=True)` 把三列邮件数各自加总，再相除。",
               "比率要用“总数 ÷ 总数”，不要先算每个买家的打开率再求平均：发得多的买家应该占更大"
               "的权重。"),
        mistakes=(
            Mistake("mean_of_ratios",
                    "b = b2b_buyers.assign(o=b2b_buyers.emails_opened / b2b_buyers.emails_sent,\n"
                    "                      c=b2b_buyers.emails_clicked / b2b_buyers.emails_sent)\n"
                    "email_rates = b.groupby('source_channel', observed=True).agg(\n"
                    "    emails_sent=('emails_sent', 'sum'), open_rate=('o', 'mean'),\n"
                    "    click_rate=('c', 'mean')).reset_index()\n"
                    "email_rates = email_rates[email_rates.emails_sent > 0]",
                    "你对每个买家的比率求了平均：只收到 1 封邮件的买家和收到 15 封的权重一样。"
                    "要用打开（点击）总数 ÷ 发出总数。"),
            Mistake("click_to_open",
                    "email_rates = (b2b_buyers.groupby('source_channel', observed=True)\n"
                    "               [['emails_sent', 'emails_opened', 'emails_clicked']].sum()\n"
                    "               .reset_index())\n"
                    "email_rates = email_rates[email_rates.emails_sent > 0]\n"
                    "email_rates['open_rate'] = email_rates.e"
                    "mails_opened / email_rates.emails_sent\n"
                    "email_rates['click_rate'] = email_rates.emails_clicked /"
                    " email_rates.emails_opened",
                    "`click_rate` 的分母用成了打开数（那是“打开后点击率”）；题目的点击率是"
                    " 点击数 ÷ 发出数。"),
        ),
        compare=Frame(key=("source_channel",), columns=("emails_sent", "open_rate",
                                                         "click_rate"), rel=1e-6),
        tables=("b2b_buyers",),
    ),
    Exercise(
        id="15.01.rfq_in_time",
        title="RFQ 24 小时报价率",
        question=("买家在平台上公开发布的采购需求叫 RFQ（Request for Quotation 询价单，8.1.2），"
                  "先报价的供应商更容易被选中。按公司对询盘的同一目标（24 小时），计算 `rfqs` 表中"
                  "**在发布后 24 小时内报价**的 RFQ 占全部 RFQ 的比例：报价时间 `quoted_at` − 发布"
                  "时间 `posted_at` 不超过 24 小时；没有报价的 RFQ 算作未及时报价。结果存进 "
                  "`rfq_rate`（小数，不必舍入）。"),
        stage="5.15", tasks=("8.1.2",), unit=UNIT, difficulty=2, points=2,
        answer="rfq_rate", kind="rate", answer_cn="比率，小数（0–1），不必舍入",
        reference=_rfq_in_time,
        solution=("from cbec_sim import rules\n"
                  "\n"
                  "in_time = rules.replied_within(rfqs.posted_at, rfqs.quoted_at, 24)\n"
                  "rfq_rate = in_time.mean()"),
        hints=("两个时间相减得到时长，和 `pd.Timedelta(hours=24)` 比较；也可以直接用 "
               "`rules.replied_within(rfqs.posted_at, rfqs.quoted_at, 24)`。",
               "分母是全部 RFQ，包括没有报价的（`quoted_at` 为空）。"),
        mistakes=(
            Mistake("quoted_any",
                    "rfq_rate = rfqs.quoted_at.notna().mean()",
                    "你算的是“报过价”的比例，没有看报价是否在 24 小时内。"),
            Mistake("quoted_only",
                    "from cbec_sim import rules\n"
                    "quoted = rfqs[rfqs.quoted_at.notna()]\n"
                    "rfq_rate = rules.replied_within(quoted.posted_at, quoted.quoted_at,"
                    " 24).mean()",
                    "分母只算了报过价的 RFQ：没报价的 RFQ 更是错过了商机，必须留在分母里。"),
        ),
        compare=Rate(abs=1e-6, rel=1e-6),
        tables=("rfqs",),
    ),
    Exercise(
        id="15.01.buyer_grade",
        title="给买家分级（A/B/C/D）",
        question=("客群管理（customer segmentation 客户分组，8.2.2）要把潜在客户合理分类，"
                  "再按级别安排跟进和维护计划（11.2.5）。按公司的分级规则给 `b2b_buyers` 中的"
                  "**每个**买家定级，从上往下，满足的第一条就是它的级别：\n\n"
                  "1. `A` 成交客户：至少有一份合同（`contracts`"
                  "）已付定金（`deposit_paid_at` 不为空）；\n"
                  "2. `B` 报价客户：收到过至少一份报价（`quotes`）；\n"
                  "3. `C` 询价客户：发过询盘或 RFQ（`inquiries_sent + rfqs_posted > 0`）；\n"
                  "4. `D` 潜在客户：其余的。\n\n"
                  "结果存进 `grade`：Series，索引是 `buyer_id`，值是 `'A'`–`'D'`。"),
        stage="5.15", tasks=("8.2.2", "11.2.5"), unit=UNIT, difficulty=2, points=2,
        answer="grade", kind="series", answer_cn="Series：buyer_id → 级别 'A'/'B'/'C'/'D'",
        reference=_buyer_grade,
        solution=_GRADE_SOLUTION,
        hints=("先分别求出已付定金的买家集合和收到过报价的买家集合（`set(...)` 或 `isin`）。",
               "`np.select([条件1, 条件2, 条件3], ['A', 'B', 'C'], default='D')` 按顺序取第一个"
               "满足的条件，顺序就是规则的顺序。"),
        mistakes=(
            Mistake("wrong_order",
                    _variant(_GRADE_SOLUTION,
                             "    [b.index.isin(paid),\n"
                             "     b.index.isin(quoted),\n"
                             "     (b.inquiries_sent + b.rfqs_posted) > 0],\n"
                             "    ['A', 'B', 'C']",
                             "    [b.index.isin(paid),\n"
                             "     (b.inquiries_sent + b.rfqs_posted) > 0,\n"
                             "     b.index.isin(quoted)],\n"
                             "    ['A', 'C', 'B']"),
                    "条件的顺序错了：收到过报价的买家都发过询盘或 RFQ，先判断 C 就不会再有 B。"
                    "按规则从上往下判断。"),
            Mistake("visits_as_active",
                    _variant(_GRADE_SOLUTION, "(b.inquiries_sent + b.rfqs_posted) > 0",
                             "b.visits > 0"),
                    "C 级要求买家主动发过询盘或 RFQ；只是访问过店铺（`visits`）还不算询价。"),
        ),
        compare=SeriesOf(),
        tables=("b2b_buyers", "contracts", "quotes"),
    ),
    Exercise(
        id="15.01.channel_cac",
        title="各获客渠道的转化率和获客成本",
        question=("客户营销（8.2.3）要求**计算从各渠道获取的潜在客户的转化率**，并降低获客成本"
                  "（customer acquisition cost, CAC 获客成本）。按渠道（`b2b_buyers.source_channel`"
                  " 与 `channel_costs.channel`）做"
                  "一张表 `cac`，每个渠道一行（出现在两张表任一张里的"
                  "渠道都要列出），列为：\n\n"
                  "- `channel`；`leads`：该渠道的线索（买家）数；\n"
                  "- `customers`：成交客户数 = 至少有"
                  "一份合同已付定金的买家数（每个买家只算一次）；\n"
                  "- `conversion_rate` = customers ÷ leads；\n"
                  "- `spend_cny`：`channel_costs` 中该渠道全年花费之和（人民币元）；\n"
                  "- `cac_cny` = spend_cny ÷ customers（没有成交客户的渠道填 NaN）。\n\n"
                  "没有线索或花费的填 0。比率不必舍入，顺序不限。"),
        stage="5.15", tasks=("8.2.3", "8.2.1"), unit=UNIT, difficulty=3, points=3,
        answer="cac", kind="frame",
        answer_cn="DataFrame：channel, leads, customers, conversion_rate, spend_cny, cac_cny",
        reference=_channel_cac,
        solution=_CAC_SOLUTION,
        hints=("线索数、成交客户数都按 `source_channel` 分组计数；成交客户先用 "
               "`b2b_buyers.buyer_id.isin(已付定金合同的 buyer_id)` 挑出来，这样每个买家只数一次。",
               "把三个按渠道的 Series 放进一个 `pd.DataFrame({...})`，索引会自动对齐；"
               "缺的填 0。",
               "获客成本的分母是成交客户数，不是线索数；分母为 0 时用 "
               "`.where(customers > 0)` 变成 NaN。"),
        mistakes=(
            Mistake("count_contracts",
                    _variant(_CAC_SOLUTION,
                             "won = b2b_buyers[b2b_buyers.buyer_id.isin(paid.buyer_id)]",
                             "won = paid.merge(b2b_buyers[['buyer_id', 'source_channel']],"
                             " on='buyer_id')"),
                    "你数的是合同份数：同一个买家先下样品单、再下大货单会被算成几个客户。"
                    "成交客户要按买家去重。"),
            Mistake("cost_per_lead",
                    _variant(_CAC_SOLUTION,
                             "cac.spend_cny / cac.customers.where(cac.customers > 0)",
                             "cac.spend_cny / cac.leads.where(cac.leads > 0)"),
                    "你算的是每条线索的成本（cost per lead）。获客成本是花费 ÷ **成交**客户数："
                    "带来很多线索但很少成交的渠道其实很贵。"),
        ),
        compare=Frame(key=("channel",), columns=("leads", "customers", "conversion_rate",
                                                  "spend_cny", "cac_cny"), rel=1e-6, abs=0.005),
        tables=("b2b_buyers", "contracts", "channel_costs"),
    ),
    # 15.02 交易达成及交易管理 -------------------------------------------------------------------
    Exercise(
        id="15.02.value_by_type",
        title="样品单、试单、大货单的合同金额",
        question=("B2B 成交通常从样品单（sample order 样品单）开始，再到试单（trial order 试单），"
                  "最后是大宗交易（bulk order 大货单）（10.1.1、10.1.4）。按订单类型 `order_type` "
                  "汇总**未取消**（`status != 'cancelled"
                  "'`）合同的合同总额 `total_usd`（含样品的快递费）。"
                  "结果存进 `value_by_type`：Series，索引是 `order_type`，值是美元（两位小数）。"),
        stage="5.16", tasks=("10.1.1", "10.1.4", "10.1.6"), unit=UNIT, difficulty=1, points=1,
        answer="value_by_type", kind="series", answer_cn="Series：order_type → 美元金额",
        reference=_value_by_type,
        solution=("signed = contracts[contracts.status != 'cancelled']\n"
                  "value_by_type = signed.groupby('order_type', observed=True)"
                  ".total_usd.sum().round(2)"),
        hints=("先去掉已取消的合同，再 `groupby('order_type', observed=True)`。",
               "合同总额是 `total_usd`（货值 + 样品快递费），不是 `goods_value_usd`。"),
        mistakes=(
            Mistake("goods_only",
                    "signed = contracts[contracts.status != 'cancelled']\n"
                    "value_by_type = signed.groupby('order_type', observed=True)"
                    ".goods_value_usd.sum().round(2)",
                    "`goods_value_usd` 不含样品单另收的快递费；合同总额要用 `total_usd`。"),
            Mistake("counted",
                    "signed = contracts[contracts.status != 'cancelled']\n"
                    "value_by_type = signed.groupby('order_type', observed=True).size()",
                    "你数的是合同份数；题目要的是合同金额之和。"),
        ),
        compare=SeriesOf(rel=0, abs=0.005),
        tables=("contracts",),
    ),
    Exercise(
        id="15.02.wrong_quotes",
        title="核对报价单：找出算错的单价",
        question=("报价核算（quotation costing 报价核算，10.1.5）：\n\n"
                  "- 实际成本 = 含税购货成本 `unit_cost_cny` + 国内费用 `domestic_charges_cny` − "
                  "出口退税（= 购货成本 ÷ (1 + 增值税率) × 退税率，`"
                  "rules.export_rebate_per_unit`）；\n"
                  "- FOB = 实际成本 × (1 + 加成率 `margin_rate`) ÷ 汇率 `fx_rate_cny`；\n"
                  "- CFR = FOB + 每件运费 `freight_per_unit_usd`；\n"
                  "- CIF = CFR ÷ (1 − 110% × 保险费率 `insurance_rate`)（按 CIF 加一成投保）。\n\n"
                  "每一步都四舍五入到美分，这些公式就是 `rules.quote_price`。用它重新计算每份报价"
                  "在**它自己的贸易术语**（Incoterm 贸易术语，`incoterm`）下的单价，和报价单上的 "
                  "`unit_price_usd` 比较，把相差 1 美分及以上的报价的 `quote_id` 存进 "
                  "`wrong_quote_ids`（顺序不限）。"),
        stage="5.16", tasks=("10.1.5",), unit=UNIT, difficulty=2, points=2,
        answer="wrong_quote_ids", kind="set", answer_cn="一组报价编号 quote_id，顺序不限",
        reference=_wrong_quotes,
        solution=_QUOTE_SOLUTION,
        hints=("先用 `rules.export_rebate_per_unit(...)` 算出每件的退税额，再把它作为 "
               "`rebate_per_unit_cny` 传给 `rules.quote"
               "_price(...)`，得到 `fob`、`cfr`、`cif` 三列。",
               "`rules.price_for_incoterm(quotes.incoterm.astype(str), p['fob'], p['cfr'],"
               " p['cif'])`"
               " 按每行的贸易术语取对应的价格。",
               "比较金额用 `np.isclose(a, b, atol=0.005, rtol=0)`，要的是不相等的行。"),
        mistakes=(
            Mistake("no_rebate",
                    _variant(_QUOTE_SOLUTION, "rebate_per_unit_cny=rebate)",
                             "rebate_per_unit_cny=0)"),
                    "你算成本时没有扣出口退税：报价的实际成本 ="
                    " 含税购货成本 + 国内费用 − 出口退税。"),
            Mistake("no_markup",
                    _variant(_QUOTE_SOLUTION, "rebate_per_unit_cny=rebate)",
                             "rebate_per_unit_cny=rebate, insurance_markup=0)"),
                    "CIF 的保险要按 CIF 价的 110% 投保（加一成），`insurance_markup` 保持默认的 "
                    "0.10，不要设为 0。"),
        ),
        compare=IdSet(),
        tables=("quotes",),
    ),
    Exercise(
        id="15.02.conversion_by_incoterm",
        title="各贸易术语的报价成交率",
        question=("报价之后，还要经过客户接待（10.1.2）、验厂（factory audit 验厂，10.1.3）和谈判"
                  "（10.1.4）才能签约。先看结果：按报价的贸易术语 `"
                  "quotes.incoterm` 计算**报价成交率**"
                  " = 签了合同的报价数 ÷ 报价数。“签了合同”指 `contracts.quote_id` 里有这份报价"
                  "（不论合同后来的状态）。结果存进 `conversion`：Series，索引是 FOB/CFR/CIF，"
                  "值是小数，不必舍入。"),
        stage="5.16", tasks=("10.1.4", "10.1.2", "10.1.3"), unit=UNIT, difficulty=2, points=2,
        answer="conversion", kind="series", answer_cn="Series：incoterm → 成交率（小数）",
        reference=_conversion_by_incoterm,
        solution=("won = quotes.quote_id.isin(contracts.quote_id)\n"
                  "conversion = won.groupby(quotes.incoterm, observed=True).mean()"),
        hints=("`quotes.quote_id.isin(contracts.quote_id)` 给每份报价一个 True/False。",
               "True/False 的平均值就是比例：按 `quotes.incoterm` 分组求平均。"),
        mistakes=(
            Mistake("contract_incoterm",
                    "n = quotes.groupby('incoterm', observed=True).size()\n"
                    "k = contracts.groupby('incoterm', observed=True).size()\n"
                    "conversion = k / n",
                    "你按合同上的贸易术语计数：样品单走快递，合同没有贸易术语，会被漏掉。"
                    "要按报价的贸易术语分组。"),
            Mistake("share_of_all",
                    "won = quotes.quote_id.isin(contracts.quote_id)\n"
                    "conversion = won.groupby(quotes.incoterm, observed=True).sum() / len(quotes)",
                    "分母用了全部报价数；成交率的分母是**该贸易术语**的报价数。"),
        ),
        compare=SeriesOf(),
        tables=("quotes", "contracts"),
    ),
    Exercise(
        id="15.02.one_touch",
        title="一达通出口的占比",
        question=("一达通（One Touch 一达通，10.2.2）是平台的外贸综合服务：以一达通的名义代理出口、"
                  "报关、办产地证。样品单从库存走快递，不走一"
                  "达通。只看**未取消的试单和大货单**，计算"
                  "通过一达通出口（`via_one_touch` 为 True）的 FOB 金额 `fob_value_usd` 占这些合同 "
                  "FOB 金额之和的比例，存进 `one_touch_share`（小数，不必舍入）。"),
        stage="5.16", tasks=("10.2.2",), unit=UNIT, difficulty=1, points=1,
        answer="one_touch_share", kind="rate", answer_cn="比率，小数（0–1），不必舍入",
        reference=_one_touch_share,
        solution=("c = contracts[(contracts.order_type != 'sample') & (contracts.status !="
                  " 'cancelled')]\n"
                  "one_touch_share = c.loc[c.via_one_touch, 'fob_value_usd'].sum() /"
                  " c.fob_value_usd.sum()"),
        hints=("先筛选：`order_type != 'sample'` 并且 `status != 'cancelled'`。",
               "比例按金额算：一达通合同的 `fob_value_usd` 之和 ÷ 全部（筛选后）合同的之和。"),
        mistakes=(
            Mistake("by_count",
                    "c = contracts[(contracts.order_type != 'sample') & (contracts.status !="
                    " 'cancelled')]\n"
                    "one_touch_share = c.via_one_touch.mean()",
                    "你算的是合同份数的占比；题目要按 FOB 金额算占比。"),
            Mistake("with_samples",
                    "c = contracts[contracts.status != 'cancelled']\n"
                    "one_touch_share = c.loc[c.via_one_touch, 'fob_value_usd'].sum() /"
                    " c.fob_value_usd.sum()",
                    "分母里算进了样品单：样品不报关出口，不在比较范围内。"),
        ),
        compare=Rate(abs=1e-6, rel=1e-6),
        tables=("contracts",),
    ),
    Exercise(
        id="15.02.shipment_overdue",
        title="已收定金但逾期未发货的合同",
        question=("信用保障（Trade Assurance 信用保障，10.2.1）订单承诺按期发货：买家付了定金，"
                  "卖家就必须在约定的最晚发货日 `ship_by_date` 之前发货，否则买家可以向平台申请"
                  "退回定金。以数据期结束的那一天（`world.meta` 的 `start` 加 `months` 个月，记为 "
                  "`end`）为准，找出**未取消**、**已付定金**（`"
                  "deposit_paid_at` 不为空）、**还没发货**"
                  "（`shipped_at` 为空）并且 `ship_by_date` 早于 `end` 的合同。结果存进 "
                  "`overdue`：DataFrame，列 `contract_id`、`deposit_usd`（买家已付、可能被要求退回"
                  "的定金，美元）、`days_overdue`（= `end` − `ship_by_date` 的天数，整数），"
                  "顺序不限。"),
        stage="5.16", tasks=("10.2.1", "10.1.6"), unit=UNIT, difficulty=2, points=2,
        answer="overdue", kind="frame",
        answer_cn="DataFrame：contract_id, deposit_usd（美元）, days_overdue（天）",
        reference=_shipment_overdue,
        solution=_OVERDUE_SOLUTION,
        hints=("数据期结束日：`end = pd.Timestamp(world.meta['start']) + "
               "pd.DateOffset(months=world.meta['months'])`。",
               "四个条件用 `&` 连起来，每个条件加括号；空值用 `.notna()` / `.isna()` 判断。",
               "两个日期相减得到时长，`.dt.days` 取天数；逾期从最晚发货日算起。"),
        mistakes=(
            Mistake("from_deposit_due",
                    _variant(_OVERDUE_SOLUTION, "(end - late.ship_by_date)",
                             "(end - late.deposit_due_date)"),
                    "逾期天数要从约定的最晚发货日 `ship_by_date` 算起；付定金截止日之后还有生产期，"
                    "那段时间不算逾期。"),
            Mistake("from_signing",
                    _variant(_OVERDUE_SOLUTION, "(end - late.ship_by_date)",
                             "(end - late.signed_at.dt.tz_convert(None).dt.normalize())"),
                    "你从签约日算天数；逾期是超过约定的最晚发货日 `ship_by_date` 之后的天数。"),
        ),
        compare=Frame(key=("contract_id",), columns=("deposit_usd", "days_overdue"), rel=0,
                      abs=0.005),
        tables=("contracts",),
    ),
    Exercise(
        id="15.02.contract_profit",
        title="每份外销合同的毛利",
        question=("签外销合同（export sales contract 外销合同）的同时要和工厂签采购合同（purchase "
                  "contract 采购合同，10.2.3）。对**未"
                  "取消的试单和大货单**，按合同核算人民币毛利：\n\n"
                  "- 收入 = FOB 金额 `fob_value_usd` × 报价当天的汇率（`quotes.fx_rate_cny`，按 "
                  "`quote_id` 查），四舍五入到分；\n"
                  "- 成本 = 采购合同金额 `purchase_total_cny` + 每件国内费用（报价单的 "
                  "`domestic_charges_cny`）× 数量 − 每件出口退税（`rules.export_rebate_per_unit`"
                  "，用合同的 `unit_cost_cny` 和报价单的 `vat_rate`、`export_rebate_rate`）× 数量"
                  "，两个乘积各自四舍五入到分；\n"
                  "- 毛利 `profit_cny` = 收入 − 成本。\n\n"
                  "运费和保险费由买家承担、转付给货代和保险公司，不计入毛利，所以收入按 FOB 算。"
                  "结果存进 `profit`：DataFrame，列 `contract_id`、`profit_cny`（两位小数），"
                  "顺序不限。"),
        stage="5.16", tasks=("10.2.3", "10.1.5"), unit=UNIT, difficulty=3, points=3,
        answer="profit", kind="frame", answer_cn="DataFrame：contract_id, profit_cny（人民币元）",
        reference=_contract_profit,
        solution=_PROFIT_SOLUTION,
        hints=("先筛选合同，再按 `quote_id` 把报价单的汇率、国内费用和税率合并进来。",
               "收入用 `fob_value_usd`：CFR/CIF 合同的 `goods_value_usd` 里含有运费和保险费。",
               "出口退税是成本的减项：退得越多，实际成本越低。"),
        mistakes=(
            Mistake("no_rebate",
                    _variant(_PROFIT_SOLUTION,
                             "        - rules.round_cents(rebate * c.quantity))  ",
                             "        - 0)  "),
                    "成本里没有扣出口退税：退税是外贸企业利润的一部分，要从成本中减去。"),
            Mistake("goods_value",
                    _variant(_PROFIT_SOLUTION, "c.fob_value_usd * c.fx_rate_cny",
                             "c.goods_value_usd * c.fx_rate_cny"),
                    "收入用了 `goods_value_usd`：CFR/CIF 合同的货值包含替买家付的运费和保险费，"
                    "不是公司的收入；要用 FOB 金额。"),
        ),
        compare=Frame(key=("contract_id",), columns=("profit_cny",), rel=0, abs=0.005),
        tables=("contracts", "quotes"),
    ),
)
