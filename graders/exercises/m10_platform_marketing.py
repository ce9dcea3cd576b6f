"""10-platform-marketing (平台营销推广): store promotions and paid on-platform advertising.

Stage 5.10 平台营销推广 of T/CCPITCSC 111-2022: plan the on-site promotion scheme, run the
store's own marketing (discounts, coupons, spend-threshold reductions 满减), paid basic marketing
and platform brand promotion. Table 1 tasks: 6.1.1 产品准备, 6.1.2 活动设置, 6.1.3 活动效果跟踪
优化, 6.2.1 营销规划, 6.2.2 推广设置, 6.2.3 营销诊断与优化.

Notebooks: 10.01 Promotions (effective discount by mechanism, a what-if of three mechanisms for
the biggest store, uplift of platform events); 10.02 Paid ads (ROAS chart, keyword KPIs,
break-even ACoS, keywords to pause, new bids, B2B keyword-bidding candidates).

Formulas: :func:`cbec_sim.rules.promotion_discount` (how a promotion discounts a basket) and
:func:`cbec_sim.rules.ad_kpis` (CTR, CPC, CVR, ACoS, ROAS as Amazon Ads / Google Ads define
them). Break-even ACoS = gross margin rate is the well-known advertising rule (an ad sale breaks
even when ad spend ÷ sales equals the gross margin). The uplift factors of the what-if and the
thresholds of the pause / bid rules are teaching values stated in the questions (labelled as
such in the notebooks), not regulations. Every ``reference`` computes the expected answer its
own way (loops and dicts), independently of the solution text shown to trainees.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from cbec_sim import rules
from graders.compare import Chart, Frame, IdSet, Money, SeriesOf
from graders.exercise import Exercise, Mistake
from graders.exercises._helpers import is_missing as _isna
from graders.exercises._helpers import variant as _variant

MODULE = "10-platform-marketing"

STAGE = "5.10"
UNIT = "marketing"

# Teaching values (synthetic, stated in the questions): the three candidate mechanisms of the
# what-if, as multiples of the store's median basket m, and the order uplift assumed for each.
COUPON_MIN, COUPON_OFF = 1.0, 0.15  # coupon: spend ≥ m, get 0.15·m off
THRESHOLD_MIN, THRESHOLD_OFF = 1.5, 0.25  # 满减: spend ≥ 1.5·m, save 0.25·m
DISCOUNT_PCT = 0.10  # 10 % off everything
UPLIFT = {"discount": 1.25, "coupon": 1.15, "spend_threshold": 1.10}
DEAL_PRICE = 0.80  # a flash deal at a further 20 % off: the buyer pays 80 % of today's price
EVENT_BEFORE_DAYS = 14  # baseline window before a platform event
PAUSE_MIN_CLICKS = 20  # pause a keyword after this many clicks without an order
B2B_RANK_LIMIT = 10  # a B2B keyword ranked below the first 10 positions needs a bid


# --- references: 10.01 promotions -------------------------------------------------------------

def _total_discount_cny(w) -> float:
    o = w.orders
    total = 0.0
    for d, fx, status in zip(o.discount_amount, o.fx_rate_cny, o.status.astype(str), strict=True):
        if status != "cancelled":
            total += float(d) * float(fx)
    return float(rules.round_cents(total))


def _discount_by_type(w) -> pd.Series:
    kind = dict(zip(w.promotions.promotion_id, w.promotions.promo_type.astype(str), strict=True))
    disc, sub = defaultdict(float), defaultdict(float)
    o = w.orders
    for pid, d, s, fx in zip(o.promotion_id, o.discount_amount, o.items_subtotal, o.fx_rate_cny,
                             strict=True):
        if not _isna(pid):
            disc[kind[pid]] += float(d) * float(fx)
            sub[kind[pid]] += float(s) * float(fx)
    return pd.Series({k: disc[k] / sub[k] for k in sorted(sub)})


def _order_cost_cny(w) -> dict[str, float]:
    cost = dict(zip(w.products.product_id, w.products.unit_cost_cny, strict=True))
    out: dict[str, float] = defaultdict(float)
    ol = w.order_lines
    for oid, pid, q in zip(ol.order_id, ol.product_id, ol.quantity, strict=True):
        out[str(oid)] += int(q) * float(cost[pid])
    return out


def _top_store(w) -> str:
    n: dict[str, int] = defaultdict(int)
    for st, status in zip(w.orders.store_id, w.orders.status.astype(str), strict=True):
        n[str(st)] += status != "cancelled"
    return min(n, key=lambda s: (-n[s], s))


def _deal_margins(w) -> pd.DataFrame:
    sid = _top_store(w)
    o = w.orders
    fx = {str(i): float(f) for i, st, f, status in
          zip(o.order_id, o.store_id, o.fx_rate_cny, o.status.astype(str), strict=True)
          if str(st) == sid and status != "cancelled"}
    cost = dict(zip(w.products.product_id, w.products.unit_cost_cny, strict=True))
    units, rev, cst = defaultdict(int), defaultdict(float), defaultdict(float)
    ol = w.order_lines
    for oid, pid, q, amt, disc in zip(ol.order_id, ol.product_id, ol.quantity, ol.line_amount,
                                      ol.line_discount, strict=True):
        if str(oid) in fx:
            units[str(pid)] += int(q)
            rev[str(pid)] += (float(amt) - float(disc)) * fx[str(oid)]
            cst[str(pid)] += int(q) * float(cost[pid])
    rows = [(p, units[p], (rev[p] - cst[p]) / rev[p],
             (DEAL_PRICE * rev[p] - cst[p]) / (DEAL_PRICE * rev[p])) for p in sorted(units)]
    return pd.DataFrame(rows, columns=["product_id", "units", "margin", "deal_margin"])


def _mechanism_plan(w) -> pd.DataFrame:
    sid = _top_store(w)
    o = w.orders
    ok = o[(o.store_id == sid).to_numpy() & (o.status.astype(str) != "cancelled").to_numpy()]
    sub = ok.items_subtotal.to_numpy(float)
    fx = ok.fx_rate_cny.to_numpy(float)
    cost_of = _order_cost_cny(w)
    cost = float(sum(cost_of[str(i)] for i in ok.order_id))
    m = float(np.median(sub))
    cands = {
        "discount": ("discount", DISCOUNT_PCT, np.nan, np.nan),
        "coupon": ("coupon", np.nan, COUPON_MIN * m, COUPON_OFF * m),
        "spend_threshold": ("spend_threshold", np.nan, THRESHOLD_MIN * m, THRESHOLD_OFF * m),
    }
    rows = []
    for name, (kind, pct, thr, off) in cands.items():
        n = len(sub)
        d = rules.promotion_discount(sub, np.full(n, kind, object), np.full(n, pct),
                                     np.full(n, thr), np.full(n, off))
        revenue = float(((sub - d) * fx).sum())
        profit = revenue - cost
        rows.append((name, float(d.sum() / sub.sum()), profit / revenue,
                     profit * UPLIFT[name]))
    return pd.DataFrame(rows, columns=["mechanism", "discount_rate", "margin",
                                       "expected_profit_cny"])


def _event_uplift(w) -> pd.DataFrame:
    t = w.traffic_daily
    per_day: dict[tuple[str, pd.Timestamp], int] = defaultdict(int)
    for st, d, n in zip(t.store_id, t.date, t.orders, strict=True):
        per_day[(str(st), pd.Timestamp(d))] += int(n)
    first = pd.Timestamp(t.date.min())
    rows = []
    p = w.promotions
    for pid, st, kind, a, b in zip(p.promotion_id, p.store_id, p.promo_type.astype(str),
                                   p.start_date, p.end_date, strict=True):
        a, b = pd.Timestamp(a), pd.Timestamp(b)
        if kind != "platform_event" or a - pd.Timedelta(days=EVENT_BEFORE_DAYS) < first:
            continue
        before = sum(per_day.get((str(st), a - pd.Timedelta(days=k)), 0)
                     for k in range(1, EVENT_BEFORE_DAYS + 1)) / EVENT_BEFORE_DAYS
        days = (b - a).days + 1
        during = sum(per_day.get((str(st), a + pd.Timedelta(days=k)), 0)
                     for k in range(days)) / days
        if before > 0:
            rows.append((str(pid), str(st), before, during, during / before - 1))
    return pd.DataFrame(rows, columns=["promotion_id", "store_id", "before_per_day",
                                       "during_per_day", "uplift"])


# --- references: 10.02 paid ads ---------------------------------------------------------------

def _sums(w, by: str) -> dict[str, list[float]]:
    a = w.ads_daily
    agg: dict[str, list[float]] = {}
    for k, i, c, s, o, v in zip(a[by], a.impressions, a.clicks, a.spend, a.attributed_orders,
                                a.attributed_sales, strict=True):
        x = agg.setdefault(str(k), [0, 0, 0.0, 0, 0.0])
        x[0] += int(i)
        x[1] += int(c)
        x[2] += float(s)
        x[3] += int(o)
        x[4] += float(v)
    return agg


def _campaign_roas(w) -> pd.Series:
    agg = {k: v for k, v in _sums(w, "campaign_id").items() if v[2] > 0}
    order = sorted(agg, key=lambda k: (-agg[k][4] / agg[k][2], k))
    return pd.Series([agg[k][4] / agg[k][2] for k in order], index=order)


def _div(a: float, b: float) -> float:
    return a / b if b > 0 else np.nan


def _keyword_kpis(w) -> pd.DataFrame:
    agg = _sums(w, "ad_keyword_id")
    rows = [(k, i, c, s, o, v, _div(c, i), _div(s, c), _div(o, c), _div(s, v), _div(v, s))
            for k, (i, c, s, o, v) in sorted(agg.items())]
    return pd.DataFrame(rows, columns=["ad_keyword_id", "impressions", "clicks", "spend",
                                       "orders", "sales", "ctr", "cpc", "cvr", "acos", "roas"])


def _breakeven(w) -> pd.Series:
    o = w.orders
    ok = {str(i): (str(st), float(fx)) for i, st, fx, status in
          zip(o.order_id, o.store_id, o.fx_rate_cny, o.status.astype(str), strict=True)
          if status != "cancelled"}
    cost = dict(zip(w.products.product_id, w.products.unit_cost_cny, strict=True))
    rev, cst = defaultdict(float), defaultdict(float)
    ol = w.order_lines
    for oid, pid, q, amt, disc in zip(ol.order_id, ol.product_id, ol.quantity, ol.line_amount,
                                      ol.line_discount, strict=True):
        if str(oid) in ok:
            st, fx = ok[str(oid)]
            rev[st] += (float(amt) - float(disc)) * fx
            cst[st] += int(q) * float(cost[pid])
    return pd.Series({s: (rev[s] - cst[s]) / rev[s] for s in sorted(rev)})


def _active_keywords(w) -> tuple[dict[str, list[float]], dict[str, str]]:
    active = {str(c) for c, s in zip(w.ad_campaigns.campaign_id,
                                     w.ad_campaigns.status.astype(str), strict=True)
              if s == "active"}
    kw = w.ad_keywords
    store = {str(k): str(s) for k, c, s in zip(kw.ad_keyword_id, kw.campaign_id, kw.store_id,
                                               strict=True) if str(c) in active}
    agg = {k: v for k, v in _sums(w, "ad_keyword_id").items() if k in store}
    return agg, store


def _to_pause(w) -> list[str]:
    agg, _ = _active_keywords(w)
    out = []
    for k, (_i, c, s, o, v) in agg.items():
        if (c >= PAUSE_MIN_CLICKS and o == 0) or (o > 0 and s / v > 1):
            out.append(k)
    return sorted(out)


def _new_bids(w) -> pd.DataFrame:
    agg, store = _active_keywords(w)
    be = _breakeven(w)
    bid = dict(zip(w.ad_keywords.ad_keyword_id, w.ad_keywords.bid, strict=True))
    rows = []
    for k in sorted(agg):
        _i, _c, s, o, v = agg[k]
        if o > 0:
            acos = s / v
            target = float(be[store[k]])
            if target < acos <= 1:
                new = float(rules.round_cents(float(bid[k]) * target / acos))
                rows.append((k, float(bid[k]), acos, target, new))
    return pd.DataFrame(rows, columns=["ad_keyword_id", "bid", "acos", "breakeven_acos",
                                       "new_bid"])


def _b2b_store(w) -> str:
    return min(str(s) for s, m in zip(w.stores.store_id, w.stores.model.astype(str),
                                      strict=True) if m == "B2B")


def _b2b_bid_keywords(w) -> list[str]:
    sid = _b2b_store(w)
    k = w.b2b_keyword_stats
    agg: dict[str, list[float]] = {}
    for st, kid, imp, clk, inq, rk in zip(k.store_id, k.keyword_id, k.impressions, k.clicks,
                                          k.inquiries, k.avg_rank, strict=True):
        if str(st) != sid:
            continue
        a = agg.setdefault(str(kid), [0, 0, 0, 0.0])
        a[0] += int(imp)
        a[1] += int(clk)
        a[2] += int(inq)
        if int(imp) > 0 and not _isna(rk):
            a[3] += float(rk) * int(imp)
    clicks = sum(a[1] for a in agg.values())
    store_rate = sum(a[2] for a in agg.values()) / clicks
    return sorted(kid for kid, (imp, clk, inq, rw) in agg.items()
                  if inq > 0 and inq / clk >= store_rate and rw / imp > B2B_RANK_LIMIT)


# --- solution snippets shared by mistakes -----------------------------------------------------


_DISCOUNT_SOLUTION = """\
po = orders[orders.promotion_id.notna()].merge(
    promotions[['promotion_id', 'promo_type']], on='promotion_id')
po['discount_cny'] = po.discount_amount * po.fx_rate_cny       # 先换成人民币
po['subtotal_cny'] = po.items_subtotal * po.fx_rate_cny
g = po.groupby('promo_type', observed=True)[['discount_cny', 'subtotal_cny']].sum()
discount_rate = g.discount_cny / g.subtotal_cny"""

_DEAL_SOLUTION = """\
ok = orders[orders.status != 'cancelled']
store = ok.store_id.value_counts().sort_index().idxmax()          # 订单最多的店铺
so = ok.loc[ok.store_id == store, ['order_id', 'fx_rate_cny']]
ln = (order_lines.merge(so, on='order_id')
      .merge(products[['product_id', 'unit_cost_cny']], on='product_id'))
ln['revenue_cny'] = (ln.line_amount - ln.line_discount) * ln.fx_rate_cny   # 折后收入
ln['cost_cny'] = ln.quantity * ln.unit_cost_cny
g = ln.groupby('product_id', as_index=False)[['quantity', 'revenue_cny', 'cost_cny']].sum()
g['units'] = g.quantity
g['margin'] = (g.revenue_cny - g.cost_cny) / g.revenue_cny
deal_revenue = 0.8 * g.revenue_cny                                 # 再打 8 折后的收入
g['deal_margin'] = (deal_revenue - g.cost_cny) / deal_revenue
deal = g[['product_id', 'units', 'margin', 'deal_margin']]"""

_PLAN_SOLUTION = """\
from cbec_sim import rules

ok = orders[orders.status != 'cancelled']
store = ok.store_id.value_counts().sort_index().idxmax()          # 订单最多的店铺（同数取编号小的）
so = ok[ok.store_id == store].copy()
lines = order_lines.merge(products[['product_id', 'unit_cost_cny']], on='product_id')
lines['cost_cny'] = lines.quantity * lines.unit_cost_cny
cost = lines[lines.order_id.isin(so.order_id)].cost_cny.sum()      # 商品成本，人民币
m = so.items_subtotal.median()
cands = {'discount': ('discount', 0.10, np.nan, np.nan),
         'coupon': ('coupon', np.nan, 1.0 * m, 0.15 * m),
         'spend_threshold': ('spend_threshold', np.nan, 1.5 * m, 0.25 * m)}
factor = {'discount': 1.25, 'coupon': 1.15, 'spend_threshold': 1.10}  # 示例假设
rows = []
for name, (kind, pct, thr, off) in cands.items():
    d = rules.promotion_discount(so.items_subtotal, kind, pct, thr, off)
    revenue = ((so.items_subtotal - d) * so.fx_rate_cny).sum()    # 折后销售额，人民币
    profit = revenue - cost
    rows.append({'mechanism': name,
                 'discount_rate': d.sum() / so.items_subtotal.sum(),
                 'margin': profit / revenue,
                 'expected_profit_cny': profit * factor[name]})
plan = pd.DataFrame(rows)"""

_UPLIFT_SOLUTION = """\
daily = traffic_daily.groupby(['store_id', 'date']).orders.sum()   # 每店每天的订单数
first_day = traffic_daily.date.min()
ev = promotions[(promotions.promo_type == 'platform_event')
                & (promotions.start_date - pd.Timedelta(days=14) >= first_day)]
rows = []
for p in ev.itertuples():
    s = daily.loc[p.store_id]                                      # 这家店每天的订单
    before = s.reindex(pd.date_range(p.start_date - pd.Timedelta(days=14),
                                     p.start_date - pd.Timedelta(days=1)), fill_value=0)
    during = s.reindex(pd.date_range(p.start_date, p.end_date), fill_value=0)
    rows.append({'promotion_id': p.promotion_id, 'store_id': p.store_id,
                 'before_per_day': before.mean(), 'during_per_day': during.mean()})
uplift = pd.DataFrame(rows)
uplift = uplift[uplift.before_per_day > 0].copy()                  # 活动前没有订单的无法比较
uplift['uplift'] = uplift.during_per_day / uplift.before_per_day - 1"""

_ROAS_CHART_SOLUTION = """\
import matplotlib.pyplot as plt
from graders.plotting import use_cjk_font
use_cjk_font()

c = ads_daily.groupby('campaign_id')[['spend', 'attributed_sales']].sum()
c = c[c.spend > 0]
roas = (c.attributed_sales / c.spend).sort_index().sort_values(ascending=False, kind='stable')

fig, ax = plt.subplots(figsize=(9, 4))
ax.bar(roas.index, roas.values)
ax.axhline(1, color='grey', linestyle='--')                        # ROAS = 1：广告费 = 广告销售额
ax.set_title('各广告活动的 ROAS（全期）')
ax.set_xlabel('广告活动 campaign_id')
ax.set_ylabel('ROAS（广告销售额 ÷ 广告花费，倍）')
ax.tick_params(axis='x', labelrotation=45)
chart = ax"""

_KPI_SOLUTION = """\
from cbec_sim import rules

k = (ads_daily.groupby('ad_keyword_id', as_index=False)
     .agg(impressions=('impressions', 'sum'), clicks=('clicks', 'sum'),
          spend=('spend', 'sum'), orders=('attributed_orders', 'sum'),
          sales=('attributed_sales', 'sum')))
kpi = rules.ad_kpis(k.impressions, k.clicks, k.spend, k.orders, k.sales)
for name in ['ctr', 'cpc', 'cvr', 'acos', 'roas']:
    k[name] = kpi[name]
keyword_kpis = k"""

_BREAKEVEN_SOLUTION = """\
ok = orders.loc[orders.status != 'cancelled', ['order_id', 'store_id', 'fx_rate_cny']]
ln = (order_lines.merge(ok, on='order_id')
     .merge(products[['product_id', 'unit_cost_cny']], on='product_id'))
ln['revenue_cny'] = (ln.line_amount - ln.line_discount) * ln.fx_rate_cny   # 折后收入
ln['cost_cny'] = ln.quantity * ln.unit_cost_cny
g = ln.groupby('store_id')[['revenue_cny', 'cost_cny']].sum()
breakeven_acos = (g.revenue_cny - g.cost_cny) / g.revenue_cny"""

_PAUSE_SOLUTION = """\
active = ad_campaigns.loc[ad_campaigns.status == 'active', 'campaign_id']
k = (ads_daily[ads_daily.campaign_id.isin(active)]
     .groupby('ad_keyword_id')[['clicks', 'spend', 'attributed_orders', 'attributed_sales']]
     .sum())
no_sale = (k.clicks >= 20) & (k.attributed_orders == 0)            # 点了 20 次还没成交
losing = (k.attributed_orders > 0) & (k.spend > k.attributed_sales)  # ACoS > 100%
to_pause = set(k.index[no_sale | losing])"""

_BIDS_SOLUTION = """\
from cbec_sim import rules

ok = orders.loc[orders.status != 'cancelled', ['order_id', 'store_id', 'fx_rate_cny']]
ln = (order_lines.merge(ok, on='order_id')
     .merge(products[['product_id', 'unit_cost_cny']], on='product_id'))
ln['revenue_cny'] = (ln.line_amount - ln.line_discount) * ln.fx_rate_cny
ln['cost_cny'] = ln.quantity * ln.unit_cost_cny
g = ln.groupby('store_id')[['revenue_cny', 'cost_cny']].sum()
be = (g.revenue_cny - g.cost_cny) / g.revenue_cny                  # 各店铺的盈亏平衡 ACoS

active = ad_campaigns.loc[ad_campaigns.status == 'active', 'campaign_id']
k = (ads_daily[ads_daily.campaign_id.isin(active)]
     .groupby('ad_keyword_id', as_index=False)[['spend', 'attributed_orders', 'attributed_sales']]
     .sum())
k = k.merge(ad_keywords[['ad_keyword_id', 'store_id', 'bid']], on='ad_keyword_id')
k = k[k.attributed_orders > 0]
k['acos'] = k.spend / k.attributed_sales
k['breakeven_acos'] = k.store_id.map(be)
k = k[(k.acos > k.breakeven_acos) & (k.acos <= 1)].copy()
k['new_bid'] = rules.round_cents(k.bid * k.breakeven_acos / k.acos)
new_bids = k[['ad_keyword_id', 'bid', 'acos', 'breakeven_acos', 'new_bid']]"""

_B2B_SOLUTION = """\
b2b_id = stores.loc[stores.model == 'B2B', 'store_id'].min()
k = b2b_keyword_stats[b2b_keyword_stats.store_id == b2b_id].copy()
k['rank_x_imp'] = (k.avg_rank * k.impressions).fillna(0)          # 按曝光加权排名
g = k.groupby('keyword_id')[['impressions', 'clicks', 'inquiries', 'rank_x_imp']].sum()
g['avg_rank'] = g.rank_x_imp / g.impressions
g['inquiry_rate'] = g.inquiries / g.clicks
store_rate = g.inquiries.sum() / g.clicks.sum()                   # 整个店铺的询盘率
pick = (g.inquiries > 0) & (g.inquiry_rate >= store_rate) & (g.avg_rank > 10)
bid_keywords = set(g.index[pick])"""

_CHART_TAIL = ("\nax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
               "plt.close(fig)\nchart = ax")

_PLAN_COLUMNS = ("discount_rate", "margin", "expected_profit_cny")


# --- items ------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="10.01.total_discount",
        title="一年里一共让利多少",
        question=("做活动效果跟踪（6.1.3）先要知道促销花了多少钱：折扣就是让给买家的钱。"
                  "把所有**未取消**订单（`status != 'cancelled'`）的促销折扣 `discount_amount` "
                  "换成人民币（乘以该订单的 `fx_rate_cny`）后相加，存进 `total_discount_cny`"
                  "（人民币元，最后一步用 `rules.round_cents` 四舍五入到分）。"),
        stage=STAGE, tasks=("6.1.3", "6.1.2"), unit=UNIT, difficulty=1, points=1,
        answer="total_discount_cny", kind="money", answer_cn="金额，人民币元，保留两位小数",
        reference=_total_discount_cny,
        solution=("from cbec_sim import rules\n\n"
                  "ok = orders[orders.status != 'cancelled']\n"
                  "total = (ok.discount_amount * ok.fx_rate_cny).sum()      # 每单先换成人民币\n"
                  "total_discount_cny = float(rules.round_cents(total))      # 最后四舍五入到分"),
        hints=("先筛掉已取消的订单，再把 `discount_amount * fx_rate_cny` 加起来。",
               "各店币种不同（欧元、日元、泰铢……），原币金额不能直接相加。"),
        mistakes=(
            Mistake("local_currency",
                    "ok = orders[orders.status != 'cancelled']\n"
                    "total_discount_cny = round(float(ok.discount_amount.sum()), 2)",
                    "你把各店的原币金额直接相加了：日元、泰铢的数字大，欧元、美元的数字小。"
                    "先乘 `fx_rate_cny` 换成人民币。"),
            Mistake("with_cancelled",
                    "total_discount_cny = round(float((orders.discount_amount * "
                    "orders.fx_rate_cny).sum()), 2)",
                    "已取消的订单没有成交，折扣也没有真正让出去，要先去掉。"),
        ),
        compare=Money(),
        tables=("orders",),
    ),
    Exercise(
        id="10.01.discount_by_type",
        title="各种促销机制的实际折扣率",
        question=("任务 6.1.2 活动设置要求设置折扣（discount 折扣）、优惠券（coupon 优惠券）、"
                  "满减（spend-threshold reduction 满减）等店铺自营销活动；6.1.3 要跟踪活动效果。"
                  "先看过去一年每种机制实际让利多少。对**用了促销**的订单（`orders.promotion_id` "
                  "不为空），按促销类型 `promotions.promo_type` 计算实际折扣率"
                  "（effective discount rate 实际折扣率）= 折扣金额之和 ÷ 商品小计"
                  "（`items_subtotal`）之和。各店币种不同，两个金额都要先乘 `fx_rate_cny` "
                  "换成人民币再求和。结果存进 `discount_rate`：Series，索引是 `promo_type`，"
                  "值是小数。"),
        stage=STAGE, tasks=("6.1.2", "6.1.3"), unit=UNIT, difficulty=1, points=1,
        answer="discount_rate", kind="series", answer_cn="Series：promo_type → 实际折扣率（小数）",
        reference=_discount_by_type,
        solution=_DISCOUNT_SOLUTION,
        hints=("把 `promotions[['promotion_id', 'promo_type']]` 按 `promotion_id` 合并到订单上。",
               "先加两列人民币金额（金额 × `fx_rate_cny`），再 `groupby('promo_type')` 求和，"
               "最后两列相除。"),
        mistakes=(
            Mistake("local_currency",
                    _variant(_variant(_DISCOUNT_SOLUTION,
                                      "po.discount_amount * po.fx_rate_cny",
                                      "po.discount_amount"),
                             "po.items_subtotal * po.fx_rate_cny", "po.items_subtotal"),
                    "你直接把各店原币金额加在一起：日元、泰铢的数字大，会压过欧元、美元订单。"
                    "先乘 `fx_rate_cny` 换成人民币。"),
            Mistake("mean_of_ratios",
                    "po = orders[orders.promotion_id.notna()].merge(\n"
                    "    promotions[['promotion_id', 'promo_type']], on='promotion_id')\n"
                    "discount_rate = (po.discount_amount / po.items_subtotal)"
                    ".groupby(po.promo_type, observed=True).mean()",
                    "你把每张订单的折扣率取了简单平均：小订单和大订单权重一样。"
                    "实际折扣率 = 折扣总额 ÷ 小计总额。"),
        ),
        compare=SeriesOf(rel=1e-6, abs=1e-9),
        tables=("orders", "promotions"),
    ),
    Exercise(
        id="10.01.event_uplift",
        title="平台大促期间日均订单的提升",
        question=("任务 6.1.3 活动效果跟踪优化：参加平台活动（platform event 平台大促，如黑五、"
                  "双 11）到底带来了多少订单？对每个 `promo_type == 'platform_event'` 的促销，"
                  "用 `traffic_daily` 的 `orders`（该店每个当地日的订单数，各渠道、设备相加）"
                  "算：\n\n"
                  "- `before_per_day`：活动开始前 **14 天**（`start_date` 前一天往前数 14 天）"
                  "的日均订单数；\n"
                  "- `during_per_day`：活动期间（`start_date` 到 `end_date`，两端都含）的日均"
                  "订单数；\n"
                  "- `uplift`：提升率（uplift 提升率）= during_per_day ÷ before_per_day − 1。\n\n"
                  "某天没有记录按 0 单计（按日历天数求平均）。只算开始前 14 天都在数据期内的活动"
                  "（`start_date` − 14 天 ≥ `traffic_daily.date` 的最早一天），"
                  "并去掉活动前日均为 0 的活动"
                  "（无法算提升率）。结果存进 `uplift`："
                  "DataFrame，每个活动一行，列 `promotion_id`、`store_id`、`before_per_day`、"
                  "`during_per_day`、`uplift`。"),
        stage=STAGE, tasks=("6.1.3", "7.1/7.5"), unit=UNIT, difficulty=2, points=2,
        answer="uplift", kind="frame",
        answer_cn="DataFrame：promotion_id, store_id, before_per_day, during_per_day, uplift",
        reference=_event_uplift,
        solution=_UPLIFT_SOLUTION,
        hints=("`traffic_daily.groupby(['store_id', 'date']).orders.sum()` 得到每店每天的订单数；"
               "`.loc[店铺]` 取出一家店的日序列。",
               "`pd.date_range(开始, 结束)` 列出日历上的每一天，`reindex(..., fill_value=0)` "
               "把没有记录的日子补成 0，再 `mean()` 就是日均。",
               "活动天数和对照期天数不一样长，所以要比**日均**，不能比总数。"),
        mistakes=(
            Mistake("totals_not_daily",
                    _variant(_UPLIFT_SOLUTION, "'before_per_day': before.mean(), "
                             "'during_per_day': during.mean()",
                             "'before_per_day': before.sum(), 'during_per_day': during.sum()"),
                    "你比较的是订单总数：活动期和活动前 14 天的天数不同，要先除以天数变成日均。"),
            Mistake("absolute_difference",
                    _variant(_UPLIFT_SOLUTION,
                             "uplift.during_per_day / uplift.before_per_day - 1",
                             "uplift.during_per_day - uplift.before_per_day"),
                    "你算的是日均订单的差（多了几单）；提升率是相对值："
                    "活动期日均 ÷ 活动前日均 − 1。"),
        ),
        compare=Frame(key=("promotion_id",), columns=("store_id", "before_per_day",
                                                      "during_per_day", "uplift"),
                      rel=1e-6, abs=1e-9),
        tables=("promotions", "traffic_daily"),
    ),
    Exercise(
        id="10.01.deal_margins",
        title="哪些商品经得起再打 8 折：秒杀选品的毛利测算",
        question=("任务 6.1.1 产品准备要求根据产品表现和市场需求挑选参加活动的产品。"
                  "限时秒杀（flash deal 限时秒杀）通常要在现价上再打 8 折，毛利低的商品一参加就亏。"
                  "对订单最多的 B2C 店铺（未取消订单最多；同数取 `store_id` 小的），用它**未取消**"
                  "订单的订单行，对每个卖出过的商品 `product_id` 计算：\n\n"
                  "- `units`：销量（`quantity` 之和，件）；\n"
                  "- `margin`：毛利率 = (折后收入 − 商品成本) ÷ 折后收入，折后收入 = "
                  "Σ(`line_amount` − `line_discount`) × 订单的 `fx_rate_cny`，商品成本 = "
                  "Σ `quantity` × `products.unit_cost_cny`（都是人民币）；\n"
                  "- `deal_margin`：如果每件都再打 8 折（买家付现在的 80%）、成本不变，"
                  "毛利率会是多少（小数）。\n\n"
                  "结果存进 `deal`：DataFrame，每个商品一行，列 `product_id`、`units`、`margin`、"
                  "`deal_margin`。"),
        stage=STAGE, tasks=("6.1.1",), unit=UNIT, difficulty=2, points=2,
        answer="deal", kind="frame", answer_cn="DataFrame：product_id, units, margin, deal_margin",
        reference=_deal_margins,
        solution=_DEAL_SOLUTION,
        hints=("先找店铺，再把这家店未取消订单的 `order_id`、`fx_rate_cny` 和 "
               "`products[['product_id', 'unit_cost_cny']]` 合并到 `order_lines` 上。",
               "按 `product_id` 把数量、折后收入、成本求和，再算毛利率。",
               "打 8 折后收入变成 0.8 × 收入，成本不变：毛利率 = (0.8 × 收入 − 成本) ÷ "
               "(0.8 × 收入)。结果并不等于“现在的毛利率减 20 个百分点”。"),
        mistakes=(
            Mistake("minus_20_points",
                    _variant(_DEAL_SOLUTION,
                             "g['deal_margin'] = (deal_revenue - g.cost_cny) / deal_revenue",
                             "g['deal_margin'] = g.margin - 0.2"),
                    "打 8 折不是把毛利率减 20 个百分点：成本不变，收入少了 20%，"
                    "毛利率要按折后收入重新算。"),
            Mistake("before_discount",
                    _variant(_DEAL_SOLUTION, "(ln.line_amount - ln.line_discount)",
                             "ln.line_amount"),
                    "你用的是折前金额：订单已经享受过的促销折扣要从收入里扣掉（`line_discount`）。"),
        ),
        compare=Frame(key=("product_id",), columns=("units", "margin", "deal_margin"),
                      rel=1e-6, abs=1e-9),
        tables=("orders", "order_lines", "products"),
    ),
    Exercise(
        id="10.01.mechanism_plan",
        title="下次活动用哪种机制：三种方案的让利与毛利测算",
        question=("为订单最多的 B2C 店铺（未取消订单最多；同数取 `store_id` 小的）准备下一次"
                  "店铺活动（任务 6.1.1 产品准备、6.1.2 活动设置、6.2.1 营销规划）。用它过去一年"
                  "**未取消**订单的篮子（basket 购物篮：每单的 `items_subtotal`，店铺币种）做"
                  "假设分析（what-if），设 m = 这些订单 `items_subtotal` 的**中位数**"
                  "（不舍入）：\n\n"
                  "| mechanism | 规则 | 假设订单量倍数 |\n|---|---|---|\n"
                  "| `discount` | 全场 10% off | 1.25 |\n"
                  "| `coupon` | 满 m 可用、减 0.15·m 的优惠券 | 1.15 |\n"
                  "| `spend_threshold` | 满 1.5·m 减 0.25·m（满减） | 1.10 |\n\n"
                  "每单的折扣用 `rules.promotion_discount(小计, 机制, 折扣率, 门槛, 减额)` 计算"
                  "（不适用的参数填 `np.nan`）。假设买家的篮子不变，对每种机制算：\n\n"
                  "- `discount_rate`：折扣之和 ÷ 小计之和（店铺币种）；\n"
                  "- `margin`：促销后毛利率 = (折后销售额 − 商品成本) ÷ 折后销售额，"
                  "折后销售额 = Σ(小计 − 折扣) × `fx_rate_cny`，商品成本 = Σ 数量 × "
                  "`products.unit_cost_cny`（都是人民币）；\n"
                  "- `expected_profit_cny`：(折后销售额 − 商品成本) × 订单量倍数（人民币元）。\n\n"
                  "订单量倍数是本课程给的**示例假设**，不是平台数据。结果存进 `plan`："
                  "DataFrame，3 行，列 `mechanism`、`discount_rate`、`margin`、"
                  "`expected_profit_cny`。"),
        stage=STAGE, tasks=("6.1.1", "6.1.2", "6.2.1"), unit=UNIT, difficulty=3, points=3,
        answer="plan", kind="frame",
        answer_cn="DataFrame：mechanism, discount_rate, margin, expected_profit_cny；3 行",
        reference=_mechanism_plan,
        solution=_PLAN_SOLUTION,
        hints=("先找店铺：`ok.store_id.value_counts().sort_index().idxmax()`（并列时取排在前面"
               "的编号）。",
               "商品成本要从 `order_lines`（数量）和 `products`（单位成本）算，只算这家店这些"
               "订单的行。成本与机制无关，三种机制用同一个成本。",
               "`rules.promotion_discount` 可以直接传一整列小计和单个参数，返回每单的折扣"
               "（已按分四舍五入）；优惠券和满减只有小计 ≥ 门槛的订单才有折扣。",
               "毛利率的分母是**折后**销售额（人民币），不是原价销售额。"),
        mistakes=(
            Mistake("coupon_no_threshold",
                    _variant(_PLAN_SOLUTION, "'coupon': ('coupon', np.nan, 1.0 * m, 0.15 * m)",
                             "'coupon': ('coupon', np.nan, 0.0, 0.15 * m)"),
                    "你让每一单都能用优惠券：这张券要满 m 才能用，小计不到 m 的订单没有折扣。"),
            Mistake("margin_on_list_price",
                    _variant(_PLAN_SOLUTION, "'margin': profit / revenue",
                             "'margin': profit / (so.items_subtotal * so.fx_rate_cny).sum()"),
                    "毛利率的分母用错了：促销后毛利率是毛利 ÷ **折后**销售额。"),
            Mistake("no_uplift",
                    _variant(_PLAN_SOLUTION, "'expected_profit_cny': profit * factor[name]",
                             "'expected_profit_cny': profit"),
                    "`expected_profit_cny` 没有乘题目给的订单量倍数：促销的目的就是多卖，"
                    "只看让利会让所有促销都显得不划算。"),
        ),
        compare=Frame(key=("mechanism",), columns=_PLAN_COLUMNS, rel=1e-6, abs=0.005),
        tables=("orders", "order_lines", "products"),
    ),
    Exercise(
        id="10.02.roas_chart",
        title="各广告活动的 ROAS 柱状图",
        question=("任务 6.2.3 营销诊断与优化先看整体：每个广告活动（campaign 广告活动）花一块钱"
                  "带回多少销售额？用 `ads_daily` 按 `campaign_id` 汇总全期的 `spend`"
                  "（广告花费）和 "
                  "`attributed_sales`（广告带来的销售额），ROAS（return on ad spend 广告支出回报）"
                  "= 销售额之和 ÷ 花费之和（同一活动只用一种币种，可以直接相除）。只画花费大于 0 "
                  "的活动，按 ROAS **从高到低**排列（相同时按 `campaign_id` 字母顺序）。"
                  "图要有标题、横轴标签和纵轴标签（含单位）。把 Axes 存进 `chart`。"),
        stage=STAGE, tasks=("6.2.3",), unit=UNIT, difficulty=1, points=1,
        answer="chart", kind="chart", answer_cn="matplotlib 的 Axes（柱状图）",
        reference=_campaign_roas,
        solution=_ROAS_CHART_SOLUTION,
        hints=("`ads_daily.groupby('campaign_id')[['spend', 'attributed_sales']].sum()`，"
               "再相除。",
               "先 `sort_index()` 再 `sort_values(ascending=False, kind='stable')`；"
               "`ax.bar(索引, 数值)` 画图，加标题和两个轴标签，`chart = ax`。"),
        mistakes=(
            Mistake("acos_instead",
                    "import matplotlib.pyplot as plt\n"
                    "c = ads_daily.groupby('campaign_id')[['spend', 'attributed_sales']].sum()\n"
                    "c = c[(c.spend > 0) & (c.attributed_sales > 0)]\n"
                    "s = (c.spend / c.attributed_sales).sort_values(ascending=False)\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(s.index, s.values)" + _CHART_TAIL,
                    "你画的是花费 ÷ 销售额（ACoS）；ROAS 反过来：销售额 ÷ 花费。"),
            Mistake("unsorted",
                    "import matplotlib.pyplot as plt\n"
                    "c = ads_daily.groupby('campaign_id')[['spend', 'attributed_sales']].sum()\n"
                    "c = c[c.spend > 0]\n"
                    "s = c.attributed_sales / c.spend\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(s.index, s.values)" + _CHART_TAIL,
                    "柱子要按 ROAS 从高到低排列，才能一眼看出哪个活动最值得加预算。"),
        ),
        compare=Chart(kind="bar"),
        tables=("ads_daily",),
    ),
    Exercise(
        id="10.02.keyword_kpis",
        title="每个广告关键词的五个指标",
        question=("任务 6.2.3 要观察、记录、分析推广效果。按广告关键词 `ad_keyword_id` 汇总 "
                  "`ads_daily` 全期的 `impressions`、`clicks`、`spend`、`attributed_orders`（列名"
                  "改为 `orders`）、`attributed_sales`（列名改为 `sales`），再算五个指标："
                  "CTR 点击率 = clicks ÷ impressions，CPC 单次点击花费 = spend ÷ clicks，"
                  "CVR 转化率 = orders ÷ clicks，ACoS 广告销售成本比 = spend ÷ sales，"
                  "ROAS = sales ÷ spend。分母为 0 时指标为空值（NaN）："
                  "用 `rules.ad_kpis(impressions, clicks, spend, orders, sales)` 一次算出。"
                  "结果存进 `keyword_kpis`：DataFrame，每个关键词一行，列 `ad_keyword_id`、"
                  "`impressions`、`clicks`、`spend`、`orders`、`sales`、`ctr`、`cpc`、`cvr`、"
                  "`acos`、`roas`。"),
        stage=STAGE, tasks=("6.2.3", "6.2.2", "7.2.4"), unit=UNIT, difficulty=1, points=1,
        answer="keyword_kpis", kind="frame",
        answer_cn="DataFrame：ad_keyword_id, impressions, clicks, spend, orders, sales, ctr, cpc, "
                  "cvr, acos, roas",
        reference=_keyword_kpis,
        solution=_KPI_SOLUTION,
        hints=("`groupby('ad_keyword_id', as_index=False).agg(新列名=('原列名', 'sum'), ...)` "
               "先汇总。",
               "`rules.ad_kpis(...)` 返回一个字典，键是 `ctr`、`cpc`、`cvr`、`acos`、`roas`、"
               "`cpa`；汇总**之后**再算比率。"),
        mistakes=(
            Mistake("mean_daily_ratios",
                    "from cbec_sim import rules\n"
                    "d = ads_daily.copy()\n"
                    "kpi = rules.ad_kpis(d.impressions, d.clicks, d.spend, d.attributed_orders, "
                    "d.attributed_sales)\n"
                    "for name in ['ctr', 'cpc', 'cvr', 'acos', 'roas']:\n"
                    "    d[name] = kpi[name]\n"
                    "keyword_kpis = (d.groupby('ad_keyword_id', as_index=False)\n"
                    "     .agg(impressions=('impressions', 'sum'), clicks=('clicks', 'sum'),\n"
                    "          spend=('spend', 'sum'), orders=('attributed_orders', 'sum'),\n"
                    "          sales=('attributed_sales', 'sum'), ctr=('ctr', 'mean'),\n"
                    "          cpc=('cpc', 'mean'), cvr=('cvr', 'mean'), acos=('acos', 'mean'),\n"
                    "          roas=('roas', 'mean')))",
                    "你先算每天的比率再取平均：点击少的日子和点击多的日子权重一样。"
                    "先把全期的数加起来，再相除。"),
            Mistake("cvr_per_impression",
                    _variant(_KPI_SOLUTION, "    k[name] = kpi[name]",
                             "    k[name] = kpi[name]\nk['cvr'] = k.orders / k.impressions"),
                    "转化率（CVR）的分母是点击数：点进来的人里有多少下单，不是看到广告的人里。"),
        ),
        compare=Frame(key=("ad_keyword_id",), columns=("impressions", "clicks", "spend", "orders",
                                                       "sales", "ctr", "cpc", "cvr", "acos",
                                                       "roas"), rel=1e-6, abs=1e-6),
        tables=("ads_daily",),
    ),
    Exercise(
        id="10.02.breakeven_acos",
        title="各店铺的盈亏平衡 ACoS",
        question=("任务 6.2.1 营销规划：广告能花多少，取决于卖一单能赚多少。一笔广告销售的广告费"
                  "如果等于它的毛利，这笔生意就刚好不赚不亏，所以**盈亏平衡 ACoS**"
                  "（break-even ACoS 盈亏平衡广告销售成本比）= 毛利率（gross margin 毛利率）。"
                  "对每个店铺，用**未取消**订单的订单行计算：毛利率 = (折后收入 − 商品成本) ÷ "
                  "折后收入，折后收入 = Σ(`line_amount` − `line_discount`) × 订单的 "
                  "`fx_rate_cny`，商品成本 = Σ `quantity` × `products.unit_cost_cny`"
                  "（都是人民币；本题只扣商品成本，不扣平台佣金和运费）。"
                  "结果存进 `breakeven_acos`：Series，索引是 `store_id`，值是小数。"),
        stage=STAGE, tasks=("6.2.1",), unit=UNIT, difficulty=2, points=2,
        answer="breakeven_acos", kind="series", answer_cn="Series：store_id → 毛利率（小数）",
        reference=_breakeven,
        solution=_BREAKEVEN_SOLUTION,
        hints=("把 `orders[['order_id', 'store_id', 'fx_rate_cny']]`（先去掉已取消的）和 "
               "`products[['product_id', 'unit_cost_cny']]` 合并到 `order_lines` 上。",
               "每行加两列：折后收入（人民币）和成本，按 `store_id` 求和，"
               "再算 (收入 − 成本) ÷ 收入。"),
        mistakes=(
            Mistake("before_discount",
                    _variant(_BREAKEVEN_SOLUTION, "(ln.line_amount - ln.line_discount)",
                             "ln.line_amount"),
                    "你用的是折前金额：促销折扣是让给买家的钱，收入要扣掉 `line_discount`。"),
            Mistake("with_cancelled",
                    _variant(_BREAKEVEN_SOLUTION, "orders.loc[orders.status != 'cancelled', ",
                             "orders.loc[:, "),
                    "已取消的订单没有成交，不产生收入也不发生成本，要先去掉。"),
        ),
        compare=SeriesOf(rel=1e-6, abs=1e-9),
        tables=("orders", "order_lines", "products"),
    ),
    Exercise(
        id="10.02.to_pause",
        title="应该暂停的广告关键词",
        question=("营销诊断与优化（6.2.3）要找出浪费预算的关键词。本课程的示例规则：只看状态为 "
                  "`active`（投放中）的广告活动（`ad_campaigns.status`）里的关键词，按 "
                  "`ad_keyword_id` 汇总全期数据，满足下面**任一**条件就暂停"
                  "（pause 暂停）：\n\n"
                  "1. 点击数 ≥ 20 但没有一笔订单（`attributed_orders` 之和为 0）；\n"
                  "2. 有订单，但 ACoS > 100%（花费之和 > 销售额之和：每卖出 1 元要花 1 元以上的"
                  "广告费）。"
                  "\n\n把要暂停的 `ad_keyword_id` 存进 `to_pause`（set 或 list）。"),
        stage=STAGE, tasks=("6.2.3",), unit=UNIT, difficulty=2, points=2,
        answer="to_pause", kind="set", answer_cn="一组 ad_keyword_id（set / list）",
        reference=_to_pause,
        solution=_PAUSE_SOLUTION,
        hints=("先用 `ad_campaigns.status == 'active'` 找出投放中的活动，再用 `isin` 筛选 "
               "`ads_daily`。",
               "按 `ad_keyword_id` 求和后，两个条件分别写成 True/False 的列，用 `|`（或）合起来。"),
        mistakes=(
            Mistake("no_click_minimum",
                    _variant(_PAUSE_SOLUTION, "(k.clicks >= 20) & (k.attributed_orders == 0)",
                             "(k.spend > 0) & (k.attributed_orders == 0)"),
                    "点击很少的词还没有足够的数据，不能因为暂时没有订单就停掉；"
                    "规则要求点击数 ≥ 20。"),
            Mistake("zero_orders_only",
                    _variant(_PAUSE_SOLUTION, "set(k.index[no_sale | losing])",
                             "set(k.index[no_sale])"),
                    "你只找了没有订单的词：有订单但广告费超过销售额（ACoS > 100%）的词也在亏钱，"
                    "也要暂停。"),
        ),
        compare=IdSet(),
        tables=("ads_daily", "ad_campaigns"),
    ),
    Exercise(
        id="10.02.new_bids",
        title="把 ACoS 过高的关键词出价降到盈亏平衡",
        question=("推广设置（6.2.2）要根据诊断结果调整出价（bid 出价）。对投放中"
                  "（`active`）活动里**有订单**、全期 ACoS 高于所在店铺盈亏平衡 ACoS 但不超过 "
                  "100%（超过 100% 的已在练习 to_pause 中暂停）的关键词，按常用的调价公式把出价"
                  "调到目标 ACoS：\n\n"
                  "新出价 = 当前出价 `ad_keywords.bid` × 盈亏平衡 ACoS ÷ 当前 ACoS，"
                  "用 `rules.round_cents` 四舍五入到分（店铺币种）。\n\n"
                  "盈亏平衡 ACoS 就是练习 breakeven_acos 的店铺毛利率（未取消订单、折后收入、"
                  "人民币口径）。"
                  "结果存进 `new_bids`：DataFrame，每个要调价的关键词一行，列 `ad_keyword_id`、"
                  "`bid`、`acos`、`breakeven_acos`、`new_bid`。"),
        stage=STAGE, tasks=("6.2.2", "6.2.3"), unit=UNIT, difficulty=3, points=3,
        answer="new_bids", kind="frame",
        answer_cn="DataFrame：ad_keyword_id, bid, acos, breakeven_acos, new_bid（金额两位小数）",
        reference=_new_bids,
        solution=_BIDS_SOLUTION,
        hints=("关键词属于哪家店铺看 `ad_keywords.store_id`；用 `map` 把店铺的盈亏平衡 ACoS "
               "接到每个关键词上。",
               "筛选条件有三个：有订单、ACoS > 盈亏平衡 ACoS、ACoS ≤ 1。",
               "ACoS 太高要**降**出价：乘以 目标 ÷ 当前（小于 1 的数）。"),
        mistakes=(
            Mistake("inverse_ratio",
                    _variant(_BIDS_SOLUTION, "k.bid * k.breakeven_acos / k.acos",
                             "k.bid * k.acos / k.breakeven_acos"),
                    "你把比例倒过来了，出价反而提高了：ACoS 高于目标时要乘 目标 ÷ 当前。"),
            Mistake("company_breakeven",
                    _variant(_BIDS_SOLUTION, "k['breakeven_acos'] = k.store_id.map(be)",
                             "k['breakeven_acos'] = (g.revenue_cny.sum() - g.cost_cny.sum()) "
                             "/ g.revenue_cny.sum()"),
                    "你用了全公司的平均毛利率：各店铺卖的商品和价格不同，盈亏平衡 ACoS 要按"
                    "关键词所在**店铺**的毛利率。"),
        ),
        compare=Frame(key=("ad_keyword_id",), columns=("bid", "acos", "breakeven_acos",
                                                       "new_bid"), rel=1e-6, abs=0.005),
        tables=("ads_daily", "ad_campaigns", "ad_keywords", "orders", "order_lines", "products"),
    ),
    Exercise(
        id="10.02.b2b_bid_keywords",
        title="B2B 店铺值得加价竞排名的关键词",
        question=("B2B 平台（如阿里巴巴国际站）的付费推广主要是关键词竞价排名"
                  "（pay for performance, P4P，俗称外贸直通车）：出价越高，产品在搜索结果里越靠前。"
                  "营销规划（6.2.1）和推广设置（6.2.2）要把钱花在**买家会询盘、但我们排得靠后**"
                  "的词上。对 B2B 店铺（`stores.model == 'B2B'`；如有多家取 `store_id` 最小的"
                  "一家），"
                  "用 `b2b_keyword_stats` 按 `keyword_id` 汇总全期：\n\n"
                  "- 询盘率（inquiry rate 询盘率）= inquiries 之和 ÷ clicks 之和；\n"
                  "- 平均排名 = **按曝光加权**：Σ(`avg_rank` × `impressions`) ÷ impressions 之和"
                  "（没有曝光的周不计入）。\n\n"
                  "选出同时满足三条的关键词：至少有 1 个询盘；询盘率 ≥ 整个店铺的询盘率"
                  "（全部询盘 ÷ 全部点击）；平均排名 > 10（不在第一页前 10 位）。"
                  "把这些 `keyword_id` 存进 `bid_keywords`（set 或 list）。"),
        stage=STAGE, tasks=("6.2.1", "6.2.2"), unit=UNIT, difficulty=2, points=2,
        answer="bid_keywords", kind="set", answer_cn="一组 keyword_id（set / list）",
        reference=_b2b_bid_keywords,
        solution=_B2B_SOLUTION,
        hints=("先筛出 B2B 店铺的行，再按 `keyword_id` 分组求和。",
               "加权排名：先加一列 `avg_rank * impressions`（没有曝光的周是空值，`fillna(0)`），"
               "分组求和后再除以曝光之和。",
               "店铺的询盘率用**合计**：全部询盘 ÷ 全部点击，不是各词询盘率的平均。"),
        mistakes=(
            Mistake("rank_top10",
                    _variant(_B2B_SOLUTION, "(g.avg_rank > 10)", "(g.avg_rank <= 10)"),
                    "你选的是已经排在前 10 位的词：它们不加价也能被看到。"
                    "要加价的是询盘好、但排得靠后的词。"),
            Mistake("no_rank_rule",
                    _variant(_B2B_SOLUTION, " & (g.avg_rank > 10)", ""),
                    "你漏了排名的条件：已经排在前 10 位的词不加价也能被买家看到，"
                    "加价的钱要花在询盘好、但排得靠后的词上。"),
        ),
        compare=IdSet(),
        tables=("b2b_keyword_stats", "stores"),
    ),
)
