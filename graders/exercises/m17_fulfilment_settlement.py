"""17-fulfilment-settlement (履约服务、结汇与退税): collection, payouts, FX settlement, rebates.

Stage 5.17 履约服务与结汇退税 of T/CCPITCSC 111-2022 on the export side. Table 1 tasks:
11.3.1 跨境支付与结算 (follow the buyers' payments, 回款; reconcile marketplace payouts),
11.4.2 保障制度 (multi-currency collection providers and their fees, 手续费), 11.4.3 结汇 (FX
settlement and the personal annual quota), 11.3.2 办理退税 (export declarations and the export
VAT rebate, 免退 / 免抵退), 11.1.4 包裹打包 and 11.1.5 填写发货通知 (the shipping label and the
shipment notice both carry the international tracking number the buyer tracks with).

Notebooks: 17.01 Collection, payouts and FX settlement (B2B receivables, B2C settlements,
providers, FX gain/loss, the personal quota); 17.02 Export declarations and tax rebate
(tracking numbers of the shipment notices, declarations by supervision mode, rebate claims).

Rules come from ``cbec_sim.rules``: :func:`~cbec_sim.rules.fx_gain_loss`,
:func:`~cbec_sim.rules.convert_to_cny`, :data:`~cbec_sim.rules.PERSONAL_FX_QUOTA_USD`
(SAFE 汇发〔2007〕1号: USD 50,000 a person a year),
:func:`~cbec_sim.rules.export_rebate_exempt_refund` (财税〔2012〕39号),
:func:`~cbec_sim.rules.tracking_number_valid`. The 2 % tolerance of the referral-fee check and
the "ignore the minimum fee" simplification are the kit's teaching rules.

Every ``reference`` below computes the expected answer its own way (loops, dicts and the
rules module), independently of the solution text shown to trainees.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import pandas as pd

from cbec_sim import rules
from graders.compare import Chart, Frame, IdSet, Money, SeriesOf, Text
from graders.exercise import Exercise, Mistake
from graders.exercises._helpers import variant as _variant

MODULE = "17-fulfilment-settlement"

STAGE = "5.17"
UNIT = "b2b_trade"
FEE_TOLERANCE = 0.02  # teaching rule: charged referral fees > 1.02 × the schedule → query
FEE_KINDS = ("referral_fees", "fulfilment_fees", "advertising_fees", "transaction_fees")


def _cents(x: float) -> int:
    """Half-up cents of one amount, the way the simulator books money."""
    return int(rules.to_cents(float(x)))


def _day(ts) -> pd.Timestamp:
    return pd.Timestamp(ts).normalize()


# --- references: 17.01 ------------------------------------------------------------------------

def _collection_by_buyer(w) -> pd.DataFrame:
    paid, out = defaultdict(int), defaultdict(int)
    r = w.receivables
    for b, p, o in zip(r.buyer_id, r.amount_paid, r.outstanding, strict=True):
        paid[str(b)] += _cents(p)
        out[str(b)] += _cents(o)
    rows = [(b, paid[b] / 100, out[b] / 100) for b in sorted(paid)]
    return pd.DataFrame(rows, columns=["buyer_id", "collected_usd", "outstanding_usd"])


def _fee_rate(w) -> pd.Series:
    s = w.settlements
    fees, gross = defaultdict(float), defaultdict(float)
    for i in range(len(s)):
        if str(s.status.iloc[i]) != "paid":
            continue
        st = str(s.store_id.iloc[i])
        fees[st] += sum(float(s[k].iloc[i]) for k in FEE_KINDS)
        gross[st] += float(s.gross_sales.iloc[i])
    return pd.Series({st: fees[st] / gross[st] for st in sorted(gross) if gross[st] > 0})


def _fee_overcharge(w) -> list[str]:
    s, sh, o, ol = w.settlements, w.shipments, w.orders, w.order_lines
    store_of = dict(zip(o.order_id, o.store_id, strict=True))
    plat_of = dict(zip(w.stores.store_id, w.stores.platform_id, strict=True))
    cat_of = dict(zip(w.products.product_id, w.products.category.astype(str), strict=True))
    pf = w.platform_fees
    pct = {(p, str(c)): float(r) for p, c, r in zip(pf.platform_id, pf.category,
                                                    pf.referral_fee_pct, strict=True)}
    periods = defaultdict(list)  # store → (start, end, settlement id)
    for sid, st, a, b in zip(s.settlement_id, s.store_id, s.period_start, s.period_end,
                             strict=True):
        periods[str(st)].append((_day(a), _day(b), str(sid)))
    settle_of = {}
    for oid, t in zip(sh.order_id, sh.shipped_at, strict=True):
        day = pd.Timestamp(t).tz_convert("UTC").tz_localize(None).normalize()
        for a, b, sid in periods[str(store_of[oid])]:
            if a <= day <= b:
                settle_of[oid] = sid
                break
    expected = defaultdict(int)
    for oid, prod, net in zip(ol.order_id, ol.product_id, ol.line_net, strict=True):
        sid = settle_of.get(oid)
        if sid is None:
            continue
        rate = pct.get((plat_of[store_of[oid]], cat_of[prod]), 0.0)
        expected[sid] += _cents(float(net) * rate)
    out = []
    for sid, status, charged in zip(s.settlement_id, s.status.astype(str), s.referral_fees,
                                    strict=True):
        if status == "paid" and charged > (1 + FEE_TOLERANCE) * expected[str(sid)] / 100:
            out.append(str(sid))
    return out


def _provider_cost(w) -> pd.Series:
    fx = w.fx_settlements
    value, net = defaultdict(int), defaultdict(int)
    for p, a, m, n in zip(fx.payment_provider_id, fx.amount, fx.middle_rate, fx.cny_net,
                          strict=True):
        value[str(p)] += _cents(float(a) * float(m))
        net[str(p)] += _cents(n)
    return pd.Series({p: (value[p] - net[p]) / value[p] for p in sorted(value)})


def _b2b_fx_gain(w) -> float:
    fx = w.fx_settlements
    keep = (fx.source_type.astype(str) == "b2b_receipt").to_numpy()
    g = rules.fx_gain_loss(fx.amount.to_numpy(float)[keep], fx.bank_buy_rate.to_numpy(float)[keep],
                           fx.booked_rate.to_numpy(float)[keep])
    return float(rules.to_cents(g).sum() / 100)


def _quota_breach(w) -> str:
    fx = w.fx_settlements
    rows = sorted((pd.Timestamp(d), str(i), float(u)) for d, i, u, t in
                  zip(fx.settled_date, fx.fx_settlement_id, fx.usd_equivalent,
                      fx.source_type.astype(str), strict=True) if t == "platform_payout")
    limit = _cents(rules.PERSONAL_FX_QUOTA_USD)
    total, year = 0, None
    for d, i, u in rows:
        if d.year != year:
            total, year = 0, d.year
        total += _cents(u)
        if total > limit:
            return i
    return ""


# --- references: 17.02 ------------------------------------------------------------------------

def _bad_tracking(w) -> list[str]:
    fmt = dict(zip(w.carriers.carrier_id, w.carriers.tracking_format, strict=True))
    sh = w.shipments
    out = []
    for sid, cid, t in zip(sh.shipment_id, sh.carrier_id, sh.tracking_number, strict=True):
        ok = isinstance(t, str) and t != "" and re.fullmatch(fmt[cid], t) is not None
        if ok and re.fullmatch(r"[A-Z]{2}\d{9}[A-Z]{2}", t):
            ok = bool(rules.s10_check_digit(np.array([int(t[2:10])]))[0] == int(t[10]))
        if not ok:
            out.append(str(sid))
    return out


def _invalid_rate_by_carrier(w) -> pd.Series:
    bad = set(_bad_tracking(w))
    n, nbad = defaultdict(int), defaultdict(int)
    for sid, cid in zip(w.shipments.shipment_id, w.shipments.carrier_id, strict=True):
        n[str(cid)] += 1
        nbad[str(cid)] += str(sid) in bad
    return pd.Series({c: nbad[c] / n[c] for c in sorted(n)})

def _fob_by_mode(w) -> pd.Series:
    d = w.export_declarations
    tot = defaultdict(int)
    for m, st, v in zip(d["mode"].astype(str), d.status.astype(str), d.fob_cny, strict=True):
        if st == "released":
            tot[m] += _cents(v)
    return pd.Series({m: tot[m] / 100 for m in sorted(tot)})


def _hs_rebate_rate(w) -> dict[str, float]:
    return dict(zip(w.hs_codes.hs_code, w.hs_codes.export_rebate_rate.astype(float),
                    strict=True))


def _wrong_rate(w) -> list[str]:
    rate = _hs_rebate_rate(w)
    er = w.export_rebates
    return [str(i) for i, h, r in zip(er.rebate_line_id, er.hs_code, er.rebate_rate, strict=True)
            if abs(float(r) - rate[h]) > 1e-9]


def _exempt_refund(w) -> float:
    rate = _hs_rebate_rate(w)
    er = w.export_rebates
    total = 0
    for m, h, inv in zip(er.method.astype(str), er.hs_code, er.invoice_amount_cny, strict=True):
        if m == "exempt_refund":
            total += _cents(float(inv) * rate[h])
    return total / 100


def _unclaimed(w) -> pd.DataFrame:
    rate = _hs_rebate_rate(w)
    d = w.export_declarations
    ok = {i for i, m, e, st in zip(d.declaration_id, d["mode"].astype(str),
                                   d.exporter.astype(str), d.status.astype(str), strict=True)
          if st == "released" and m != "1039" and e != "one_touch_agency"}
    claimed = set(zip(w.export_rebates.declaration_id, w.export_rebates.item_no.astype(int),
                      strict=True))
    di = w.declaration_items
    rows = [(str(i), int(n)) for i, n, h in zip(di.declaration_id, di.item_no, di.hs_code,
                                                strict=True)
            if i in ok and rate[h] > 0 and (i, int(n)) not in claimed]
    return pd.DataFrame(rows, columns=["declaration_id", "item_no"])


# --- solution snippets shared by mistakes -----------------------------------------------------

_OVERCHARGE_SOLUTION = """\
# ① 每个包裹按发货的 UTC 日期归到它店铺的结算期
ship = shipments[['order_id', 'store_id', 'shipped_at']].copy()
ship['day'] = ship.shipped_at.dt.tz_convert('UTC').dt.tz_localize(None).dt.normalize()
per = settlements[['settlement_id', 'store_id', 'period_start', 'period_end']]
ship = ship.merge(per, on='store_id')
ship = ship[(ship.day >= ship.period_start) & (ship.day <= ship.period_end)]
# ② 订单行的佣金 = 行净额 × 平台该类目的佣金率，四舍五入到分（本题忽略最低佣金）
lines = (order_lines[['order_id', 'product_id', 'line_net']]
         .merge(ship[['order_id', 'store_id', 'settlement_id']], on='order_id')
         .merge(stores[['store_id', 'platform_id']], on='store_id')
         .merge(products[['product_id', 'category']], on='product_id')
         .merge(platform_fees[['platform_id', 'category', 'referral_fee_pct']],
                on=['platform_id', 'category'], how='left'))
lines['fee'] = rules.round_cents(lines.line_net * lines.referral_fee_pct.fillna(0))
schedule = lines.groupby('settlement_id').fee.sum()
# ③ 与结算单实收的佣金比较
paid = settlements[settlements.status == 'paid'].copy()
paid['schedule'] = paid.settlement_id.map(schedule).fillna(0)
over = paid.referral_fees > 1.02 * paid.schedule
overcharged_ids = paid.loc[over, 'settlement_id']"""


_UNCLAIMED_SOLUTION = """\
items = declaration_items.merge(
    export_declarations[['declaration_id', 'mode', 'exporter', 'status']], on='declaration_id')
items = items.merge(hs_codes[['hs_code', 'export_rebate_rate']], on='hs_code')
can_claim = ((items.status == 'released')
             & (items['mode'] != '1039')
             & (items.exporter != 'one_touch_agency')
             & (items.export_rebate_rate > 0))
claimed = export_rebates[['declaration_id', 'item_no']].assign(claimed=True)
items = items.merge(claimed, on=['declaration_id', 'item_no'], how='left')
todo = items[can_claim & items.claimed.isna()]
unclaimed = todo[['declaration_id', 'item_no']]"""

_QUOTA_SOLUTION = """\
from cbec_sim.rules import PERSONAL_FX_QUOTA_USD

p = fx_settlements[fx_settlements.source_type == 'platform_payout']
p = p.sort_values(['settled_date', 'fx_settlement_id'])
year = p.settled_date.dt.year
cum = p.groupby(year).usd_equivalent.cumsum()          # 每个自然年重新累计
over = p[cum.round(2) > PERSONAL_FX_QUOTA_USD]
first_over_id = over.fx_settlement_id.iloc[0] if len(over) else ''"""


# --- items ------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    # 17.01 Collection, payouts and FX settlement -------------------------------------------
    Exercise(
        id="17.01.collection_by_buyer",
        title="每个 B2B 买家的已回款和未回款",
        question=("应收账款（accounts receivable 应收账款，`receivables` 表）每一行是一份合同的"
                  "一期款：定金 deposit 或尾款 balance。跟进回款（payment collection 回款）"
                  "先要知道每个买家**已经付了多少、还欠多少**。按 `buyer_id` 汇总 `amount_paid` 和 "
                  "`outstanding`（美元），结果存进 `collection`：一个 DataFrame，三列 `buyer_id`、"
                  "`collected_usd`、`outstanding_usd`，每个买家一行（有应收记录的买家都要列出，"
                  "欠款为 0 的也列），顺序不限，金额保留两位小数。"),
        stage=STAGE, tasks=("11.3.1",), unit=UNIT, difficulty=1, points=1,
        answer="collection", kind="frame",
        answer_cn="DataFrame：buyer_id, collected_usd, outstanding_usd（美元，两位小数）",
        reference=_collection_by_buyer,
        solution=("collection = (receivables.groupby('buyer_id', as_index=False)\n"
                  "              .agg(collected_usd=('amount_paid', 'sum'),\n"
                  "                   outstanding_usd=('outstanding', 'sum'))\n"
                  "              .round(2))"),
        hints=("`groupby('buyer_id', as_index=False).agg(新列名=('原列名', 'sum'), ...)` "
               "一次算出两列，并把 buyer_id 保留成普通列。",
               "已回款用 `amount_paid`，未回款用 `outstanding`（= `amount_due` − `amount_paid`）"
               "；不要只看某一期款。"),
        mistakes=(
            Mistake("due_as_collected",
                    "collection = (receivables.groupby('buyer_id', as_index=False)\n"
                    "              .agg(collected_usd=('amount_due', 'sum'),\n"
                    "                   outstanding_usd=('outstanding', 'sum')).round(2))",
                    "`amount_due` 是应收金额，不是已收到的钱：已回款要汇总 `amount_paid`。"),
            Mistake("deposits_only",
                    "d = receivables[receivables.instalment == 'deposit']\n"
                    "collection = (d.groupby('buyer_id', as_index=False)\n"
                    "              .agg(collected_usd=('amount_paid', 'sum'),\n"
                    "                   outstanding_usd=('outstanding', 'sum')).round(2))",
                    "你只汇总了定金；尾款 balance 也是回款的一部分，两期款都要算。"),
        ),
        compare=Frame(key=("buyer_id",), columns=("collected_usd", "outstanding_usd"),
                      abs=0.005, rel=0),
        tables=("receivables",),
    ),
    Exercise(
        id="17.01.fee_rate",
        title="各店铺被平台扣掉的费用占比",
        question=("平台结算单（settlement 结算单，`settlements`）里，平台先从销售额中扣掉各项费用再"
                  "打款。只看**已打款**（`status == 'paid'`）的结算单，按店铺计算：\n\n"
                  "`费用占比 = (佣金 referral_fees + 仓配费 fulfilment_fees"
                  " + 广告费 advertising_fees + 支付手续费 transaction_fees) 之和"
                  " ÷ 销售额 gross_sales 之和`\n\n"
                  "退款 `refunds` 和保留金 reserve（滚动保证金）不是费用，不算在内。结果存进 "
                  "`fee_rate`：一个 Series，索引是 `store_id`，值是小数（如 0.18）。"),
        stage=STAGE, tasks=("11.4.2", "11.3.1"), unit=UNIT, difficulty=1, points=1,
        answer="fee_rate", kind="series", answer_cn="Series：store_id → 费用占比（小数）",
        reference=_fee_rate,
        solution=("paid = settlements[settlements.status == 'paid']\n"
                  "fees = paid[['referral_fees', 'fulfilment_fees', 'advertising_fees',\n"
                  "             'transaction_fees']].sum(axis=1)\n"
                  "fee_rate = (fees.groupby(paid.store_id).sum()\n"
                  "            / paid.groupby('store_id').gross_sales.sum())"),
        hints=("先筛选 `status == 'paid'`，再用 `表[[四个费用列]].sum(axis=1)` "
               "得到每张结算单的费用合计。",
               "先按店铺把费用和销售额**分别加总**，再相除；不要把每期的占比求平均。"),
        mistakes=(
            Mistake("with_refunds",
                    "paid = settlements[settlements.status == 'paid']\n"
                    "fees = paid[['referral_fees', 'fulfilment_fees', 'advertising_fees',\n"
                    "             'transaction_fees', 'refunds']].sum(axis=1)\n"
                    "fee_rate = (fees.groupby(paid.store_id).sum()\n"
                    "            / paid.groupby('store_id').gross_sales.sum())",
                    "退款是退还给买家的货款，不是平台收的费用；只加四项费用。"),
            Mistake("mean_of_periods",
                    "paid = settlements[settlements.status == 'paid']\n"
                    "fees = paid[['referral_fees', 'fulfilment_fees', 'advertising_fees',\n"
                    "             'transaction_fees']].sum(axis=1)\n"
                    "fee_rate = (fees / paid.gross_sales).groupby(paid.store_id).mean()",
                    "你把每期的占比做了平均：销售额小的结算期和大的结算期权重一样。"
                    "先把费用和销售额分别加总，再相除。"),
            Mistake("referral_only",
                    "paid = settlements[settlements.status == 'paid']\n"
                    "fee_rate = (paid.groupby('store_id').referral_fees.sum()\n"
                    "            / paid.groupby('store_id').gross_sales.sum())",
                    "你只算了佣金；仓配费、广告费和支付手续费也是平台从货款里扣的费用。"),
        ),
        compare=SeriesOf(rel=1e-4, abs=1e-5),
        tables=("settlements",),
    ),
    Exercise(
        id="17.01.provider_cost",
        title="各收款服务商的综合结汇成本率",
        question=("收款服务商（payment provider 收款服务商，`payment_providers`）结汇时有两项成本："
                  "提现手续费 `fee_cny`，以及汇率点差（spread 点差：按银行买入价 `bank_buy_rate` "
                  "而不是中间价 `middle_rate` 换汇）。对 `fx_settlements` 的每一笔结汇：\n\n"
                  "- 按中间价的价值 = `amount × middle_rate`，**每笔四舍五入到分**"
                  "（可用 `rules.convert_to_cny`）；\n"
                  "- 实际到账 = `cny_net`。\n\n"
                  "按 `payment_provider_id` 汇总，`综合成本率 = (Σ 中间价价值 − Σ 实际到账) ÷ "
                  "Σ 中间价价值`。结果存进 `provider_cost`：Series，索引是服务商编号，值是小数。"),
        stage=STAGE, tasks=("11.4.2",), unit=UNIT, difficulty=2, points=2,
        answer="provider_cost", kind="series",
        answer_cn="Series：payment_provider_id → 成本率（小数）",
        reference=_provider_cost,
        solution=("from cbec_sim import rules\n"
                  "\n"
                  "fx = fx_settlements.copy()\n"
                  "fx['value_mid'] = rules.convert_to_cny(fx.amount, fx.middle_rate)\n"
                  "by = fx.groupby('payment_provider_id')[['value_mid', 'cny_net']].sum()\n"
                  "provider_cost = (by.value_mid - by.cny_net) / by.value_mid"),
        hints=("综合成本 = 手续费 + 点差损失；"
               "两者合起来正好是“按中间价值多少钱”减去“实际到账多少钱”。",
               "`rules.convert_to_cny(金额列, 汇率列)` 逐笔换算并四舍五入到分；"
               "再 `groupby('payment_provider_id')` 分别加总两列后相减、相除。"),
        mistakes=(
            Mistake("fee_only",
                    "by = fx_settlements.groupby('payment_provider_id')\n"
                    "provider_cost = by.fee_cny.sum() / by.cny_gross.sum()",
                    "你只算了手续费：按银行买入价换汇本身也有成本（点差），"
                    "要和按中间价的价值比。"),
            Mistake("spread_only",
                    "from cbec_sim import rules\n"
                    "fx = fx_settlements.copy()\n"
                    "fx['value_mid'] = rules.convert_to_cny(fx.amount, fx.middle_rate)\n"
                    "by = fx.groupby('payment_provider_id')[['value_mid', 'cny_gross']].sum()\n"
                    "provider_cost = (by.value_mid - by.cny_gross) / by.value_mid",
                    "你只算了点差（`cny_gross` 是扣手续费之前的金额）；实际到账要用扣完手续费的 "
                    "`cny_net`。"),
        ),
        compare=SeriesOf(rel=1e-4, abs=1e-6),
        tables=("fx_settlements", "payment_providers"),
    ),
    Exercise(
        id="17.01.b2b_fx_gain",
        title="B2B 回款结汇的汇兑损益",
        question=("B2B 合同在签约日按当天中间价记账（`booked_rate`），"
                  "货款到了以后按结汇日的银行买入价 "
                  "`bank_buy_rate` 换成人民币。两者之差就是汇兑损益（FX gain/loss 汇兑损益）：\n\n"
                  "`每笔损益 = amount × bank_buy_rate − amount × booked_rate`"
                  "（两项各自四舍五入到分，即 `rules.fx_gain_loss`），正数为收益，负数为损失；"
                  "手续费另算，不计入。\n\n"
                  "只看 B2B 回款（`source_type == 'b2b_receipt'`），把所有笔的损益加总，存进 "
                  "`b2b_fx_gain_cny`（人民币元，两位小数，可能是负数）。"),
        stage=STAGE, tasks=("11.4.3", "11.3.1"), unit=UNIT, difficulty=2, points=2,
        answer="b2b_fx_gain_cny", kind="money", answer_cn="金额，人民币元，保留两位小数（可为负）",
        reference=_b2b_fx_gain,
        solution=("from cbec_sim import rules\n"
                  "\n"
                  "b2b = fx_settlements[fx_settlements.source_type == 'b2b_receipt']\n"
                  "gain = rules.fx_gain_loss(b2b.amount, b2b.bank_buy_rate, b2b.booked_rate)\n"
                  "b2b_fx_gain_cny = round(float(gain.sum()), 2)"),
        hints=("先筛选 `source_type == 'b2b_receipt'`。",
               "`rules.fx_gain_loss(金额, 结汇汇率, 记账汇率)` 逐笔算损益；结汇汇率用银行实际给的 "
               "`bank_buy_rate`。"),
        mistakes=(
            Mistake("middle_rate",
                    "from cbec_sim import rules\n"
                    "b2b = fx_settlements[fx_settlements.source_type == 'b2b_receipt']\n"
                    "gain = rules.fx_gain_loss(b2b.amount, b2b.middle_rate, b2b.booked_rate)\n"
                    "b2b_fx_gain_cny = round(float(gain.sum()), 2)",
                    "银行结汇不按中间价，而按银行买入价 `bank_buy_rate`："
                    "中间价会高估收到的人民币。"),
            Mistake("with_payouts",
                    "from cbec_sim import rules\n"
                    "fx = fx_settlements\n"
                    "gain = rules.fx_gain_loss(fx.amount, fx.bank_buy_rate, fx.booked_rate)\n"
                    "b2b_fx_gain_cny = round(float(gain.sum()), 2)",
                    "你把平台回款也算进去了；题目只问 B2B 合同的回款（`b2b_receipt`）。"),
            Mistake("reversed",
                    "from cbec_sim import rules\n"
                    "b2b = fx_settlements[fx_settlements.source_type == 'b2b_receipt']\n"
                    "gain = rules.fx_gain_loss(b2b.amount, b2b.booked_rate, b2b.bank_buy_rate)\n"
                    "b2b_fx_gain_cny = round(float(gain.sum()), 2)",
                    "符号反了：损益 = 结汇时实际换到的人民币 − 记账时的人民币。"),
        ),
        compare=Money(),
        tables=("fx_settlements",),
    ),
    Exercise(
        id="17.01.fee_overcharge",
        title="佣金多扣的结算单",
        question=(
            "核对平台结算单：按佣金费率表（`platform_fees`，平台 × 类目的 `referral_fee_pct`）"
            "重新算每张结算单应扣的佣金（referral fee 佣金），找出多扣的。规则：\n\n"
            "1. 订单在**发货（包裹交给承运商）**时计入结算：包裹 `shipments.shipped_at` 的 UTC "
            "日期落在哪个结算期（同一店铺，`period_start` ≤ 日期 ≤ `period_end`），就归到"
            "哪张结算单；\n"
            "2. 每个订单行的佣金 = `line_net × referral_fee_pct`"
            "（费率按店铺所在平台和商品类目查），每行四舍五入到分；费率表里查不到的按 0 计；"
            "本题**忽略最低佣金**；\n"
            "3. 已打款（`status == 'paid'`）的结算单中，实扣佣金 `referral_fees` "
            "**大于**重算佣金的 "
            "1.02 倍的，视为多扣，要向平台申诉。\n\n"
            "把这些结算单的 `settlement_id` 存进 `overcharged_ids`（顺序不限）。"),
        stage=STAGE, tasks=("11.3.1", "11.4.2"), unit=UNIT, difficulty=3, points=3,
        answer="overcharged_ids", kind="set", answer_cn="一组结算单编号 settlement_id，顺序不限",
        reference=_fee_overcharge,
        solution="from cbec_sim import rules\n\n" + _OVERCHARGE_SOLUTION,
        hints=("先把每个包裹归到结算期：`shipments` 和 `settlements` 按 `store_id` 合并，"
               "再保留 `period_start <= day <= period_end` 的行。`shipped_at` 带时区，"
               "用 `.dt.tz_convert('UTC').dt.tz_localize(None).dt.normalize()` 取 UTC 日期。",
               "订单行要依次合并：结算单号（按 order_id）、平台（`stores`）、类目（`products`）、"
               "费率（`platform_fees`，按平台和类目两列）。",
               "每行佣金用 `rules.round_cents` 四舍五入到分，按 `settlement_id` 加总后与 "
               "`referral_fees` 比较。"),
        mistakes=(
            Mistake("by_order_day",
                    "from cbec_sim import rules\n\n" + _variant(
                        _OVERCHARGE_SOLUTION,
                        "ship = shipments[['order_id', 'store_id', 'shipped_at']].copy()\n"
                        "ship['day'] = ship.shipped_at",
                        "ship = orders[['order_id', 'store_id', 'created_at']].copy()\n"
                        "ship['day'] = ship.created_at"),
                    "平台在发货时才向买家扣款并计入结算：要按包裹的发货日期 `shipped_at` "
                    "归到结算期，不是下单日期。"),
            Mistake("platform_only",
                    "from cbec_sim import rules\n\n" + _variant(
                        _OVERCHARGE_SOLUTION, "on=['platform_id', 'category'], how='left'",
                        "on='platform_id', how='left'"),
                    "费率表每个平台有很多类目：只按平台合并，"
                    "每个订单行会和该平台的所有类目各配一次，"
                    "应扣佣金被成倍放大。要按平台**和**类目两列合并。"),
        ),
        compare=IdSet(),
        tables=("settlements", "shipments", "order_lines", "stores", "products",
                "platform_fees"),
    ),
    Exercise(
        id="17.01.quota_breach",
        title="如果都走个人账户：哪一笔会超出年度结汇额度",
        question=(
            "个人结汇有年度便利化额度：每人每年等值 5 万美元（国家外汇管理局《个人外汇管理办法实施"
            "细则》汇发〔2007〕1号，`rules.PERSONAL_FX_QUOTA_USD`）。有同事建议把**所有平台回款**"
            "（`source_type == 'platform_payout'`）都转到法人代表的个人账户结汇。按实际结汇的先后"
            "（`settled_date`，同一天按 `fx_settlement_id`）逐笔累计美元折算额 `usd_equivalent`，"
            "每个自然年重新累计。找出**第一笔**让当年累计额**超过** 50,000 美元的结汇，"
            "把它的 `fx_settlement_id` 存进 `first_over_id`（字符串；若从未超过，填空"
            "字符串 `''`）。"),
        stage=STAGE, tasks=("11.4.3",), unit=UNIT, difficulty=3, points=3,
        answer="first_over_id", kind="text", answer_cn="一个结汇编号 fx_settlement_id（字符串）",
        reference=_quota_breach,
        solution=_QUOTA_SOLUTION,
        hints=("先筛选平台回款，再按 `['settled_date', 'fx_settlement_id']` 排序。",
               "额度按美元计：累计的是 `usd_equivalent`，不是各种外币的 `amount`，也不是人民币。",
               "`groupby(年份).usd_equivalent.cumsum()` 得到当年的累计额；"
               "取第一行超过 50,000 的。"),
        mistakes=(
            Mistake("foreign_amount",
                    _variant(_QUOTA_SOLUTION, "usd_equivalent.cumsum()", "amount.cumsum()"),
                    "`amount` 是各种外币的原币金额（日元、泰铢……），不能直接相加和美元额度比较；"
                    "要用美元折算额 `usd_equivalent`。"),
            Mistake("with_b2b",
                    _variant(_QUOTA_SOLUTION,
                             "p = fx_settlements[fx_settlements.source_type == 'platform_payout']",
                             "p = fx_settlements"),
                    "题目只把平台回款转到个人账户；B2B 货款仍进公司账户，不占个人额度。"),
        ),
        compare=Text(case=True),
        tables=("fx_settlements",),
    ),
    # 17.02 Export declarations and tax rebate ----------------------------------------------
    Exercise(
        id="17.02.bad_tracking",
        title="发货通知里无法跟踪的运单号",
        question=("打包时按国际运单号（tracking number 运单号）打印面单贴在包裹上，发货后在平台填写"
                  "发货通知（shipment notice 发货通知），买家凭运单号跟踪包裹。运单号为空，或不符合"
                  "承运商的格式（`carriers.tracking_format` 正则表达式；UPU S10 "
                  "格式的号码还要校验位"
                  "正确），买家就查不到物流，平台也会记为无效运单号。"
                  "用 `rules.tracking_number_valid(运单号, 格式)` 逐个检查 `shipments` 的运单号，"
                  "把**无效**的包裹 `shipment_id` 存进 `bad_tracking_ids`（顺序不限）。"),
        stage=STAGE, tasks=("11.1.4", "11.1.5"), unit=UNIT, difficulty=1, points=1,
        answer="bad_tracking_ids", kind="set", answer_cn="一组包裹编号 shipment_id，顺序不限",
        reference=_bad_tracking,
        solution=("from cbec_sim import rules\n"
                  "\n"
                  "sh = shipments.merge(carriers[['carrier_id', 'tracking_format']],"
                  " on='carrier_id')\n"
                  "valid = rules.tracking_number_valid(sh.tracking_number, sh.tracking_format)\n"
                  "bad_tracking_ids = sh.loc[~valid, 'shipment_id']"),
        hints=("每个包裹的格式取决于它的承运商：先按 `carrier_id` 把 `carriers.tracking_format` "
               "合并进来。",
               "`rules.tracking_number_valid` 返回 True/False 数组，空号码也算无效；"
               "要的是 `~valid` 的行。"),
        mistakes=(
            Mistake("empty_only",
                    "t = shipments.tracking_number\n"
                    "bad_tracking_ids = shipments.loc[t.isna() | (t == ''), 'shipment_id']",
                    "你只找了空运单号；填了但格式不对（少一位、字母错）的号码买家同样查不到。"),
            Mistake("format_only",
                    "from cbec_sim import rules\n"
                    "sh = shipments.merge(carriers[['carrier_id', 'tracking_format']],"
                    " on='carrier_id')\n"
                    "valid = rules.tracking_number_valid(sh.tracking_number, sh.tracking_format)\n"
                    "bad_tracking_ids = sh.loc[~valid & sh.tracking_number.notna(), "
                    "'shipment_id']",
                    "空运单号也是无效的：发货通知没填运单号，买家根本无法跟踪，要一起列出。"),
        ),
        compare=IdSet(),
        tables=("shipments", "carriers"),
    ),
    Exercise(
        id="17.02.tracking_chart",
        title="各物流渠道的无效运单号比例（柱状图）",
        question=("哪个物流渠道的发货通知最常出问题？按承运商渠道 `carrier_id` 计算"
                  "**无效运单号比例**（invalid tracking rate 无效运单号比例）"
                  "= 运单号无效的包裹数 ÷ 该渠道的包裹数"
                  "（有效的判断同上一题，空号码算无效）。画一张柱状图（`ax.bar`），横轴是 "
                  "`carrier_id`，按 `carrier_id` 的字母顺序排列，纵轴是比例（小数）；"
                  "图要有标题、横轴标签和纵轴标签。把 Axes 存进 `chart`。"),
        stage=STAGE, tasks=("11.1.5", "11.1.4"), unit=UNIT, difficulty=2, points=2,
        answer="chart", kind="chart", answer_cn="matplotlib 的 Axes（柱状图）",
        reference=_invalid_rate_by_carrier,
        solution=("import matplotlib.pyplot as plt\n"
                  "from cbec_sim import rules\n"
                  "from graders.plotting import use_cjk_font\n"
                  "use_cjk_font()\n"
                  "\n"
                  "sh = shipments.merge(carriers[['carrier_id', 'tracking_format']],"
                  " on='carrier_id')\n"
                  "sh['invalid'] = ~rules.tracking_number_valid(sh.tracking_number,"
                  " sh.tracking_format)\n"
                  "rate = sh.groupby('carrier_id').invalid.mean().sort_index()\n"
                  "\n"
                  "fig, ax = plt.subplots(figsize=(8, 4))\n"
                  "ax.bar(rate.index, rate.values)\n"
                  "ax.set_title('各物流渠道的无效运单号比例')\n"
                  "ax.set_xlabel('物流渠道 carrier_id')\n"
                  "ax.set_ylabel('无效运单号比例（占比）')\n"
                  "chart = ax"),
        hints=("先像上一题一样给每个包裹算出是否无效（True/False），作为新列加到表上。",
               "True/False 的平均值就是 True 的比例：`groupby('carrier_id').invalid.mean()`；"
               "再 `.sort_index()` 按渠道编号排序。",
               "`fig, ax = plt.subplots()`，`ax.bar(渠道, 比例)`，加标题和两个轴标签，"
               "`chart = ax`。"),
        mistakes=(
            Mistake("empty_only",
                    "import matplotlib.pyplot as plt\n"
                    "t = shipments.tracking_number\n"
                    "empty = t.isna() | (t == '')\n"
                    "rate = empty.groupby(shipments.carrier_id).mean().sort_index()\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(rate.index, rate.values)\n"
                    "ax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
                    "plt.close(fig)\n"
                    "chart = ax",
                    "你只把空运单号算作无效；格式不对的号码同样无法跟踪，要用承运商的格式检查。"),
            Mistake("invalid_count",
                    "import matplotlib.pyplot as plt\n"
                    "from cbec_sim import rules\n"
                    "sh = shipments.merge(carriers[['carrier_id', 'tracking_format']],"
                    " on='carrier_id')\n"
                    "bad = ~rules.tracking_number_valid(sh.tracking_number, sh.tracking_format)\n"
                    "rate = pd.Series(bad).groupby(sh.carrier_id).sum().sort_index()\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(rate.index, rate.values)\n"
                    "ax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
                    "plt.close(fig)\n"
                    "chart = ax",
                    "你画的是无效运单号的个数：包裹多的渠道个数自然多。要画**比例**"
                    "（无效数 ÷ 该渠道包裹数）。"),
            Mistake("valid_rate",
                    "import matplotlib.pyplot as plt\n"
                    "from cbec_sim import rules\n"
                    "sh = shipments.merge(carriers[['carrier_id', 'tracking_format']],"
                    " on='carrier_id')\n"
                    "ok = rules.tracking_number_valid(sh.tracking_number, sh.tracking_format)\n"
                    "rate = pd.Series(ok).groupby(sh.carrier_id).mean().sort_index()\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(rate.index, rate.values)\n"
                    "ax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
                    "plt.close(fig)\n"
                    "chart = ax",
                    "你画的是**有效**运单号的比例；题目要无效的比例（1 减去它），"
                    "渠道之间的差别更容易看出来。"),
        ),
        compare=Chart(kind="bar"),
        tables=("shipments", "carriers"),
    ),
    Exercise(
        id="17.02.fob_by_mode",
        title="各监管方式的出口申报金额",
        question=("出口报关单（export declaration 报关单，`export_declarations`）"
                  "按监管方式（`mode`）"
                  "区分：9610 跨境电商零售（B2C 包裹按月汇总申报）、9810 出口海外仓、9710 跨境电商 "
                  "B2B 直接出口、0110 一般贸易、1039 市场采购。退税以**已放行**（`status == "
                  "'released'`）的报关单为依据。按监管方式汇总已放行报关单的人民币 FOB 金额 "
                  "`fob_cny`，存进 `fob_by_mode`：Series，索引是监管方式，值是人民币元"
                  "（两位小数）；没有已放行报关单的监管方式不列。"),
        stage=STAGE, tasks=("11.3.2",), unit=UNIT, difficulty=1, points=1,
        answer="fob_by_mode", kind="series", answer_cn="Series：mode → FOB 人民币元",
        reference=_fob_by_mode,
        solution=("released = export_declarations[export_declarations.status == 'released']\n"
                  "fob_by_mode = released.groupby('mode', observed=True).fob_cny.sum().round(2)"),
        hints=("先筛选 `status == 'released'`。",
               "`groupby('mode', observed=True)`：`mode` 是分类列，`observed=True` "
               "只保留实际出现的监管方式。"),
        mistakes=(
            Mistake("with_pending",
                    "fob_by_mode = export_declarations.groupby('mode', observed=True)"
                    ".fob_cny.sum().round(2)",
                    "还没申报放行（`pending`）的汇总单不能作为退税依据：只统计已放行的报关单。"),
            Mistake("usd",
                    "released = export_declarations[export_declarations.status == 'released']\n"
                    "fob_by_mode = released.groupby('mode', observed=True).fob_usd.sum().round(2)",
                    "题目要人民币金额：用 `fob_cny`，不是美元的 `fob_usd`。"),
        ),
        compare=SeriesOf(rel=0, abs=0.005),
        tables=("export_declarations",),
    ),
    Exercise(
        id="17.02.wrong_rate",
        title="退税率填错的申报行",
        question=("出口退税（export VAT rebate 出口退税）按商品编码的退税率申报；退税率查 "
                  "`hs_codes."
                  "export_rebate_rate`（现行 13%、9%、6% 等档，财政部 税务总局 海关总署公告2019年第"
                  "39号）。找出 `export_rebates` 中申报的退税率 `rebate_rate` 与该行商品编码 "
                  "`hs_code`"
                  " 的退税率**不一致**的申报行，把 `rebate_line_id` 存进 `wrong_rate_ids`"
                  "（顺序不限）。这些行要在税务机关审核前更正。"),
        stage=STAGE, tasks=("11.3.2",), unit=UNIT, difficulty=2, points=2,
        answer="wrong_rate_ids", kind="set", answer_cn="一组申报行编号 rebate_line_id，顺序不限",
        reference=_wrong_rate,
        solution=("er = export_rebates.merge(hs_codes[['hs_code', 'export_rebate_rate']],"
                  " on='hs_code')\n"
                  "wrong = ~np.isclose(er.rebate_rate, er.export_rebate_rate)\n"
                  "wrong_rate_ids = er.loc[wrong, 'rebate_line_id']"),
        hints=("按 `hs_code` 把 `hs_codes.export_rebate_rate` 合并到申报行上。",
               "比较两个小数时用 `np.isclose(a, b)` 更稳妥；要的是不一致的行（前面加 `~`）。"),
        mistakes=(
            Mistake("checked_arithmetic",
                    "from cbec_sim import rules\n"
                    "er = export_rebates\n"
                    "base = er.invoice_amount_cny.fillna(er.fob_cny)   # 免抵退按 FOB\n"
                    "calc = rules.export_rebate_exempt_refund(base, er.rebate_rate)\n"
                    "wrong_rate_ids = er.loc[~np.isclose(calc, er.rebate_amount_cny),"
                    " 'rebate_line_id']",
                    "你核对的是“金额 × 申报退税率”算得对不对；错误出在退税率本身，"
                    "要拿申报的退税率和 `hs_codes` 中该编码的 `export_rebate_rate` 比较。"),
            Mistake("main_hs_code",
                    "er = export_rebates.merge(export_declarations[['declaration_id',"
                    " 'main_hs_code']],\n"
                    "                          on='declaration_id')\n"
                    "er = er.merge(hs_codes[['hs_code', 'export_rebate_rate']],\n"
                    "              left_on='main_hs_code', right_on='hs_code',"
                    " suffixes=('', '_main'))\n"
                    "wrong_rate_ids = er.loc[~np.isclose(er.rebate_rate, er.export_rebate_rate),\n"
                    "                        'rebate_line_id']",
                    "一张报关单可以有多个商品编码：要按每个申报行自己的 `hs_code` 查退税率，"
                    "不是报关单的主要商品编码 `main_hs_code`。"),
        ),
        compare=IdSet(),
        tables=("export_rebates", "hs_codes", "export_declarations"),
    ),
    Exercise(
        id="17.02.exempt_refund",
        title="外贸企业“免退税”的应退税额",
        question=("外贸企业（trading company 外贸企业）出口适用“免退税”（exempt and refund 免退，"
                  "`method == 'exempt_refund'`）：\n\n"
                  "`应退税额 = 购货增值税专用发票的不含税金额 invoice_amount_cny × 退税率`，"
                  "每行四舍五入到分（财税〔2012〕39号；即 `rules.export_rebate_exempt_refund`）。"
                  "\n\n"
                  "退税率一律按商品编码在 `hs_codes.export_rebate_rate` 中的**正确**退税率（上一题"
                  "发现有的行填错了）。把全部免退税申报行的应退税额加总，存进 `exempt_refund_cny`"
                  "（人民币元，两位小数）。"),
        stage=STAGE, tasks=("11.3.2",), unit=UNIT, difficulty=2, points=2,
        answer="exempt_refund_cny", kind="money", answer_cn="金额，人民币元，保留两位小数",
        reference=_exempt_refund,
        solution=("from cbec_sim import rules\n"
                  "\n"
                  "er = export_rebates[export_rebates.method == 'exempt_refund']\n"
                  "er = er.merge(hs_codes[['hs_code', 'export_rebate_rate']], on='hs_code')\n"
                  "refund = rules.export_rebate_exempt_refund(er.invoice_amount_cny,"
                  " er.export_rebate_rate)\n"
                  "exempt_refund_cny = round(float(refund.sum()), 2)"),
        hints=("先筛选 `method == 'exempt_refund'`，再按 `hs_code` 合并正确的退税率。",
               "计税依据是购货发票的不含税金额 `invoice_amount_cny`，不是出口 FOB 金额。"),
        mistakes=(
            Mistake("claimed_rate",
                    "er = export_rebates[export_rebates.method == 'exempt_refund']\n"
                    "exempt_refund_cny = round(float(er.rebate_amount_cny.sum()), 2)",
                    "你直接加总了申报的退税额，其中有的行退税率填错了；要按 `hs_codes` "
                    "的正确退税率重新计算。"),
            Mistake("fob_base",
                    "from cbec_sim import rules\n"
                    "er = export_rebates[export_rebates.method == 'exempt_refund']\n"
                    "er = er.merge(hs_codes[['hs_code', 'export_rebate_rate']], on='hs_code')\n"
                    "refund = rules.export_rebate_exempt_refund(er.fob_cny, er.export_rebate_rate"
                    ")\n"
                    "exempt_refund_cny = round(float(refund.sum()), 2)",
                    "外贸企业免退税的计税依据是购进货物的增值税专用发票金额，不是出口 FOB 价"
                    "（按 FOB 计算的是生产企业的“免抵退”）。"),
        ),
        compare=Money(),
        tables=("export_rebates", "hs_codes"),
    ),
    Exercise(
        id="17.02.unclaimed",
        title="还没有申报退税的报关单商品项",
        question=(
            "退税要及时申报：报关单放行后，公司应尽快收齐单证申报退税。找出**可以退税但还没有申报**"
            "的报关单商品项（`declaration_items` 的一行）。可以退税的条件：\n\n"
            "1. 报关单已放行（`status == 'released'`）；\n"
            "2. 不是市场采购 1039（免征不退）；\n"
            "3. 出口经营者不是一达通 `one_touch_agency`（由代理出口的一达通自己申报退税）；\n"
            "4. 商品编码的退税率 `hs_codes.export_rebate_rate` 大于 0。\n\n"
            "“已申报”指 `export_rebates` 中有同一 `declaration_id` 和 `item_no` 的行。"
            "结果存进 `unclaimed`：DataFrame，两列 `declaration_id`、`item_no`，每项一行，"
            "顺序不限。"),
        stage=STAGE, tasks=("11.3.2",), unit=UNIT, difficulty=3, points=3,
        answer="unclaimed", kind="frame", answer_cn="DataFrame：declaration_id, item_no",
        reference=_unclaimed,
        solution=_UNCLAIMED_SOLUTION,
        hints=("先把报关单表头的 `mode`、`exporter`、`status` 和编码表的退税率合并到商品项上。",
               "“还没有申报”：与 `export_rebates[['declaration_id', 'item_no']]` 左连接"
               "（`how='left'`），找连接不上的行。",
               "四个条件用 `&` 连起来；`mode` 是文字 `'1039'`，不是数字。"),
        mistakes=(
            Mistake("with_one_touch",
                    _variant(_UNCLAIMED_SOLUTION,
                             "             & (items.exporter != 'one_touch_agency')\n", ""),
                    "一达通代理出口的货物，由一达通作为出口经营者申报退税，公司自己不能再申报。"),
            Mistake("with_pending",
                    _variant(_UNCLAIMED_SOLUTION, "can_claim = ((items.status == 'released')",
                             "can_claim = ((items.status != '')"),
                    "还没放行（`pending`）的报关单没有报关数据，不能申报退税。"),
        ),
        compare=Frame(key=("declaration_id", "item_no"), columns=()),
        tables=("declaration_items", "export_declarations", "export_rebates", "hs_codes"),
    ),
)
