"""11-live-offsite-marketing (直播与站外营销推广): live-stream funnel, hosts and live economics;
overseas social media and search-engine promotion.

Stage 5.11 直播营销推广 (new in the 004 draft; no Table 1 task in 003, so its items tag the
promotion-effect analysis task 7.1/7.5, which names 红人直播 and 店铺直播) and stage 5.12
平台外营销推广 (Table 1 6.3.1–6.3.5 social media, 6.4.1–6.4.6 SEO and search ads).

Notebooks: 11.01 Live streaming (conversion, watch time, GPM by host type and store, live
platform choice, live ROI); 11.02 Off-platform marketing (engagement, new customers from
social posts, SEO blog click-through, paid-social KPIs in CNY, budget choice, B2B keyword
rank-to-traffic estimate and the traffic/conversion matrix).

Sources of the formulas:

- GPM (GMV per thousand viewers) and engagement rate: :func:`cbec_sim.rules.gmv_per_mille`,
  :func:`cbec_sim.rules.engagement_rate` (industry practice on live / social dashboards).
- CPM, CPC, CPA, ROAS: :func:`cbec_sim.rules.ad_kpis` (Google Ads / Meta Ads report
  definitions; CPM = spend ÷ impressions × 1000).
- Live-stream costs (:data:`HOST_CNY_PER_HOUR`, :data:`INFLUENCER_FEE_CNY`,
  :data:`INFLUENCER_COMMISSION`) are **synthetic teaching parameters** shaped like the usual
  influencer deal (slot fee 坑位费 + sales commission 佣金) and an hourly cost of an in-house
  host and studio; they are stated in the notebook.
- :data:`POSITION_CTR` is a **teaching curve** of organic click-through rate by result
  position, decreasing in the shape reported by public organic-CTR studies of search results;
  positions beyond 10 get no clicks. It is stated in the notebook.

Every ``reference`` computes the expected answer its own way (loops and dicts),
independently of the solution text shown to trainees.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict

import pandas as pd

from graders.compare import Chart, Choice, Frame, IdSet, Number, Rate, SeriesOf
from graders.exercise import Exercise, Mistake
from graders.exercises._helpers import is_missing as _isna
from graders.exercises._helpers import variant as _variant

MODULE = "11-live-offsite-marketing"

UNIT = "marketing"
LIVE = "5.11"
OFFSITE = "5.12"
LIVE_TASKS = ("7.1/7.5",)

#: Synthetic: cost of an in-house host plus studio per streamed hour (CNY).
HOST_CNY_PER_HOUR = 100.0
#: Synthetic: an influencer's fixed slot fee per session (坑位费, CNY).
INFLUENCER_FEE_CNY = 800.0
#: Synthetic: an influencer's commission on the session's GMV (佣金).
INFLUENCER_COMMISSION = 0.20
#: Teaching curve: organic click-through rate by (rounded) result position 1–10.
POSITION_CTR: dict[int, float] = {1: 0.30, 2: 0.16, 3: 0.10, 4: 0.07, 5: 0.05, 6: 0.04,
                                  7: 0.03, 8: 0.025, 9: 0.02, 10: 0.018}
SNS_PAID = ("facebook", "instagram", "youtube", "tiktok", "pinterest")


# --- references: 11.01 live streaming ---------------------------------------------------------

def _live_cvr(w) -> float:
    orders = sum(int(x) for x in w.live_sessions.orders)
    viewers = sum(int(x) for x in w.live_sessions.viewers)
    return orders / viewers


def _avg_watch_min(w) -> float:
    tot = sum(float(s) * int(v) for s, v in zip(w.live_sessions.avg_watch_sec,
                                                w.live_sessions.viewers, strict=True))
    return tot / sum(int(v) for v in w.live_sessions.viewers) / 60.0


def _session_gmv_cny(w) -> dict[str, float]:
    g: dict[str, float] = defaultdict(float)
    for sid, cny in zip(w.orders.live_session_id, w.orders.order_total_cny, strict=True):
        if not _isna(sid):
            g[str(sid)] += float(cny)
    return g


def _gpm_by(w, key: str) -> pd.Series:
    g = _session_gmv_cny(w)
    gmv, views = defaultdict(float), defaultdict(int)
    ls = w.live_sessions
    for sid, k, v in zip(ls.live_session_id, ls[key].astype(str), ls.viewers, strict=True):
        gmv[k] += g.get(str(sid), 0.0)
        views[k] += int(v)
    keys = sorted(views)
    return pd.Series([gmv[k] / views[k] * 1000 for k in keys], index=keys, dtype=float)


def _gpm_by_host(w) -> pd.Series:
    return _gpm_by(w, "host_type")


def _gpm_by_store(w) -> pd.Series:
    return _gpm_by(w, "store_id")


def _session_cost(host: str, minutes: float, gmv_cny: float) -> float:
    if host == "influencer":
        return INFLUENCER_FEE_CNY + INFLUENCER_COMMISSION * gmv_cny
    return HOST_CNY_PER_HOUR * minutes / 60.0


def _platform_cost(w) -> pd.DataFrame:
    g = _session_gmv_cny(w)
    ptype = dict(zip(w.platforms.platform_id, w.platforms.platform_type.astype(str), strict=True))
    store_pt = {str(s): ptype[str(p)] for s, p in zip(w.stores.store_id, w.stores.platform_id,
                                                      strict=True)}
    n, orders, cost = defaultdict(int), defaultdict(int), defaultdict(float)
    ls = w.live_sessions
    for sid, st, host, mins, o in zip(ls.live_session_id, ls.store_id, ls.host_type.astype(str),
                                      ls.duration_min, ls.orders, strict=True):
        k = store_pt[str(st)]
        n[k] += 1
        orders[k] += int(o)
        cost[k] += _session_cost(host, float(mins), g.get(str(sid), 0.0))
    rows = [(k, n[k], orders[k], cost[k], cost[k] / orders[k] if orders[k] else math.nan)
            for k in sorted(n)]
    return pd.DataFrame(rows, columns=["platform_type", "n_sessions", "orders", "cost_cny",
                                       "cost_per_order"])


def _live_roi(w) -> pd.DataFrame:
    o = w.orders
    ok = {str(oid): (str(sid), float(fx)) for oid, sid, st, fx in
          zip(o.order_id, o.live_session_id, o.status.astype(str), o.fx_rate_cny, strict=True)
          if not _isna(sid) and st != "cancelled"}
    unit_cost = dict(zip(w.products.product_id, w.products.unit_cost_cny, strict=True))
    gp_session: dict[str, float] = defaultdict(float)
    gmv_session: dict[str, float] = defaultdict(float)
    ol = w.order_lines
    for oid, pid, qty, net in zip(ol.order_id, ol.product_id, ol.quantity, ol.line_net,
                                  strict=True):
        hit = ok.get(str(oid))
        if hit:
            gp_session[hit[0]] += float(net) * hit[1] - int(qty) * float(unit_cost[pid])
    for oid, sid, tot in zip(o.order_id, o.live_session_id, o.order_total_cny, strict=True):
        if str(oid) in ok:
            gmv_session[str(sid)] += float(tot)
    n, gp, cost = defaultdict(int), defaultdict(float), defaultdict(float)
    ls = w.live_sessions
    for sid, host, mins in zip(ls.live_session_id, ls.host_type.astype(str), ls.duration_min,
                               strict=True):
        n[host] += 1
        gp[host] += gp_session.get(str(sid), 0.0)
        cost[host] += _session_cost(host, float(mins), gmv_session.get(str(sid), 0.0))
    rows = [(h, n[h], gp[h], cost[h], (gp[h] - cost[h]) / cost[h]) for h in sorted(n)]
    return pd.DataFrame(rows, columns=["host_type", "n_sessions", "gross_profit_cny",
                                       "cost_cny", "roi"])


# --- references: 11.02 off-platform -----------------------------------------------------------

def _engagement_by_platform(w) -> pd.Series:
    eng, reach = defaultdict(int), defaultdict(int)
    sp = w.social_posts
    for p, e, r in zip(sp.sns_platform.astype(str), sp.engagements, sp.reach, strict=True):
        eng[p] += int(e)
        reach[p] += int(r)
    keys = sorted(k for k in reach if reach[k] > 0)
    return pd.Series([eng[k] / reach[k] for k in keys], index=keys, dtype=float)


def _social_new_share(w) -> float:
    o = w.orders
    flags = [not bool(rep) for p, rep in zip(o.post_id, o.is_repeat, strict=True)
             if not _isna(p)]
    return sum(flags) / len(flags)


def _blog_ctr(w) -> float:
    sp = w.social_posts
    clicks = imps = 0
    for p, c, i in zip(sp.sns_platform.astype(str), sp.utm_clicks, sp.impressions, strict=True):
        if p == "blog":
            clicks += int(c)
            imps += int(i)
    return clicks / imps


def _fx_lookup(w):
    """CNY per unit of a currency on a day, or on the latest earlier day with a rate."""
    by: dict[str, list[tuple[pd.Timestamp, float]]] = defaultdict(list)
    for c, d, r in zip(w.fx_rates.currency.astype(str), w.fx_rates.date, w.fx_rates.cny_per_unit,
                       strict=True):
        by[str(c)].append((pd.Timestamp(d), float(r)))
    for v in by.values():
        v.sort()

    def rate(cur: str, day: pd.Timestamp) -> float:
        v = by[cur]
        i = bisect.bisect_right([d for d, _ in v], day) - 1
        return v[i][1]

    return rate


def _paid_kpis(w) -> pd.DataFrame:
    fx = _fx_lookup(w)
    sp = w.social_posts
    acc: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0, 0, 0.0])
    for plat, paid, cur, ts, spend, imp, clk, conv, rev in zip(
            sp.sns_platform.astype(str), sp.paid, sp.currency.astype(str), sp.posted_at,
            sp.spend, sp.impressions, sp.utm_clicks, sp.conversions, sp.revenue, strict=True):
        if not bool(paid):
            continue
        day = pd.Timestamp(ts).tz_convert("UTC").tz_localize(None).normalize()
        r = fx(cur, day)
        a = acc[plat]
        a[0] += float(spend) * r
        a[1] += int(imp)
        a[2] += int(clk)
        a[3] += int(conv)
        a[4] += float(rev) * r
    rows = []
    for p in sorted(acc):
        s, imp, clk, conv, rev = acc[p]
        rows.append((p, s, s / imp * 1000, s / clk if clk else math.nan,
                     s / conv if conv else math.nan, rev / s))
    return pd.DataFrame(rows, columns=["sns_platform", "spend_cny", "cpm", "cpc", "cpa", "roas"])


def _budget_platform(w) -> str:
    k = _paid_kpis(w)
    return str(k.sort_values(["roas", "sns_platform"], ascending=[False, True])
               .sns_platform.iloc[0])


def _rank_position(x: float) -> int:
    return math.floor(x + 0.5)


def _rank_traffic(w) -> float:
    ks = w.b2b_keyword_stats
    last = max(pd.Timestamp(d) for d in ks.week_start)
    vol = dict(zip(w.keywords.keyword_id, w.keywords.search_volume, strict=True))
    total = 0.0
    for kid, wk, rank in zip(ks.keyword_id, ks.week_start, ks.avg_rank, strict=True):
        if pd.Timestamp(wk) == last and not _isna(rank):
            total += int(vol[kid]) * POSITION_CTR.get(_rank_position(float(rank)), 0.0)
    return total


def _low_conversion_keywords(w) -> list[str]:
    ks = w.b2b_keyword_stats
    clicks, inq = defaultdict(int), defaultdict(int)
    for kid, c, q in zip(ks.keyword_id, ks.clicks, ks.inquiries, strict=True):
        clicks[str(kid)] += int(c)
        inq[str(kid)] += int(q)
    vals = sorted(clicks.values())
    m = len(vals)
    median = (vals[(m - 1) // 2] + vals[m // 2]) / 2
    overall = sum(inq.values()) / sum(clicks.values())
    return sorted(k for k in clicks
                  if clicks[k] >= median and clicks[k] > 0 and inq[k] / clicks[k] < overall)


# --- solution snippets shared by mistakes -----------------------------------------------------


_GPM_HOST_SOLUTION = """\
gmv_cny = orders[orders.live_session_id.notna()].groupby('live_session_id').order_total_cny.sum()
ls = live_sessions.assign(gmv_cny=live_sessions.live_session_id.map(gmv_cny).fillna(0))
by_host = ls.groupby('host_type', observed=True)[['gmv_cny', 'viewers']].sum()
gpm_by_host = by_host.gmv_cny / by_host.viewers * 1000"""

_CHART_SOLUTION = """\
import matplotlib.pyplot as plt
from graders.plotting import use_cjk_font
use_cjk_font()

gmv_cny = orders[orders.live_session_id.notna()].groupby('live_session_id').order_total_cny.sum()
ls = live_sessions.assign(gmv_cny=live_sessions.live_session_id.map(gmv_cny).fillna(0))
by_store = ls.groupby('store_id')[['gmv_cny', 'viewers']].sum().sort_index()
gpm = by_store.gmv_cny / by_store.viewers * 1000

fig, ax = plt.subplots(figsize=(8, 4))
ax.bar(gpm.index, gpm.values)
ax.set_title('各店铺直播间的 GPM（千次观看成交额）')
ax.set_xlabel('店铺 store_id')
ax.set_ylabel('GPM（人民币元 / 千人观看）')
chart = ax"""

_PLATFORM_SOLUTION = """\
gmv_cny = orders[orders.live_session_id.notna()].groupby('live_session_id').order_total_cny.sum()
ls = live_sessions.assign(gmv_cny=live_sessions.live_session_id.map(gmv_cny).fillna(0))
ls = ls.merge(stores[['store_id', 'platform_id']], on='store_id')
ls = ls.merge(platforms[['platform_id', 'platform_type']], on='platform_id')
infl = ls.host_type == 'influencer'
ls['cost_cny'] = (100 * ls.duration_min / 60).where(~infl, 800 + 0.20 * ls.gmv_cny)
live_cost = (ls.groupby('platform_type', observed=True, as_index=False)
             .agg(n_sessions=('live_session_id', 'count'), orders=('orders', 'sum'),
                  cost_cny=('cost_cny', 'sum')))
live_cost['cost_per_order'] = live_cost.cost_cny / live_cost.orders.where(live_cost.orders > 0)"""

_ROI_SOLUTION = """\
lo = orders[orders.live_session_id.notna() & (orders.status != 'cancelled')]
lines = order_lines.merge(lo[['order_id', 'live_session_id', 'fx_rate_cny']], on='order_id')
lines = lines.merge(products[['product_id', 'unit_cost_cny']], on='product_id')
lines['gp_cny'] = lines.line_net * lines.fx_rate_cny - lines.quantity * lines.unit_cost_cny
gp = lines.groupby('live_session_id').gp_cny.sum()
gmv = lo.groupby('live_session_id').order_total_cny.sum()

ls = live_sessions.assign(gross_profit_cny=live_sessions.live_session_id.map(gp).fillna(0),
                          gmv_cny=live_sessions.live_session_id.map(gmv).fillna(0))
infl = ls.host_type == 'influencer'
ls['cost_cny'] = (100 * ls.duration_min / 60).where(~infl, 800 + 0.20 * ls.gmv_cny)
live_roi = (ls.groupby('host_type', observed=True, as_index=False)
            .agg(n_sessions=('live_session_id', 'count'),
                 gross_profit_cny=('gross_profit_cny', 'sum'), cost_cny=('cost_cny', 'sum')))
live_roi['roi'] = (live_roi.gross_profit_cny - live_roi.cost_cny) / live_roi.cost_cny"""

_PAID_SOLUTION = """\
p = social_posts[social_posts.paid].copy()
p['date'] = p.posted_at.dt.tz_convert('UTC').dt.tz_localize(None).dt.normalize()
p['currency'] = p.currency.astype(str)
fx = fx_rates.astype({'currency': str}).sort_values('date')
p = pd.merge_asof(p.sort_values('date'), fx, on='date', by='currency')  # 当天或之前最近一天
p['spend_cny'] = p.spend * p.cny_per_unit
p['revenue_cny'] = p.revenue * p.cny_per_unit
k = p.groupby('sns_platform', observed=True)[
    ['spend_cny', 'impressions', 'utm_clicks', 'conversions', 'revenue_cny']].sum()
k['cpm'] = k.spend_cny / k.impressions * 1000
k['cpc'] = k.spend_cny / k.utm_clicks
k['cpa'] = k.spend_cny / k.conversions.where(k.conversions > 0)
k['roas'] = k.revenue_cny / k.spend_cny
paid_kpis = k.reset_index()"""

_BUDGET_SOLUTION = _PAID_SOLUTION + """
best_platform = str(paid_kpis.sort_values('roas', ascending=False).sns_platform.iloc[0])"""

_RANK_SOLUTION = """\
ctr = {1: 0.30, 2: 0.16, 3: 0.10, 4: 0.07, 5: 0.05, 6: 0.04, 7: 0.03, 8: 0.025, 9: 0.02,
       10: 0.018}
last = b2b_keyword_stats[b2b_keyword_stats.week_start == b2b_keyword_stats.week_start.max()]
last = last[last.avg_rank.notna()].merge(keywords[['keyword_id', 'search_volume']],
                                         on='keyword_id')
position = np.floor(last.avg_rank + 0.5).astype(int)        # 四舍五入到整数名次
est_clicks = float((last.search_volume * position.map(ctr).fillna(0)).sum())"""

_MATRIX_SOLUTION = """\
k = b2b_keyword_stats.groupby('keyword_id')[['clicks', 'inquiries']].sum()
overall = k.inquiries.sum() / k.clicks.sum()               # 整体询盘率
enough = (k.clicks >= k.clicks.median()) & (k.clicks > 0)  # 流量不低
low_conv = k[enough & (k.inquiries / k.clicks < overall)]
low_conversion = sorted(low_conv.index)"""

_CHART_TAIL = ("\nax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
               "plt.close(fig)\nchart = ax")


# --- items ------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        id="11.01.live_cvr",
        title="直播间的观看—下单转化率",
        question=("直播数据分析的第一步是看漏斗（funnel 漏斗）：多少人看了直播，多少人下了单。"
                  "用 `live_sessions` 的全部场次，算出**观看—下单转化率**（conversion rate "
                  "转化率）= 所有场次的订单数 `orders` 之和 ÷ 所有场次的观看人数 `viewers` 之和，"
                  "存进 `live_cvr`（小数）。"),
        stage=LIVE, tasks=LIVE_TASKS, unit=UNIT, difficulty=1, points=1,
        answer="live_cvr", kind="rate", answer_cn="比率（小数）",
        reference=_live_cvr,
        solution="live_cvr = live_sessions.orders.sum() / live_sessions.viewers.sum()",
        hints=("先把两列分别求和，再相除。",
               "不要先算每场的转化率再取平均：观看人数少的小场次会被放大。"),
        mistakes=(
            Mistake("mean_of_ratios",
                    "s = live_sessions[live_sessions.viewers > 0]\n"
                    "live_cvr = (s.orders / s.viewers).mean()",
                    "你对每场的转化率取了简单平均；整体转化率要用总订单数 ÷ 总观看人数。"),
            Mistake("peak_concurrent",
                    "live_cvr = live_sessions.orders.sum() / live_sessions.peak_concurrent.sum()",
                    "分母用了最高同时在线人数；转化率的分母是观看人数 `viewers`。"),
        ),
        compare=Rate(),
        tables=("live_sessions",),
    ),
    Exercise(
        id="11.01.avg_watch_min",
        title="观众平均观看时长",
        question=("`avg_watch_sec` 是每场直播**每位观众**的平均观看秒数。算出全部场次合在一起、"
                  "每位观众的平均观看时长（average watch time 平均观看时长）：每场的总观看秒数"
                  "= `avg_watch_sec × viewers`，全部加起来再除以总观看人数。结果换算成**分钟**，"
                  "存进 `avg_watch_min`（小数）。"),
        stage=LIVE, tasks=LIVE_TASKS, unit=UNIT, difficulty=1, points=1,
        answer="avg_watch_min", kind="number", answer_cn="数字，分钟（小数）",
        reference=_avg_watch_min,
        solution=("total_sec = (live_sessions.avg_watch_sec * live_sessions.viewers).sum()\n"
                  "avg_watch_min = total_sec / live_sessions.viewers.sum() / 60"),
        hints=("这是加权平均（weighted average 加权平均）：权重是每场的观看人数。",
               "最后除以 60，把秒换成分钟。"),
        mistakes=(
            Mistake("unweighted",
                    "avg_watch_min = live_sessions.avg_watch_sec.mean() / 60",
                    "你对各场的平均时长取了简单平均；观看人数多的场次应占更大权重。"),
            Mistake("seconds",
                    "total_sec = (live_sessions.avg_watch_sec * live_sessions.viewers).sum()\n"
                    "avg_watch_min = total_sec / live_sessions.viewers.sum()",
                    "单位不对：题目要分钟，别忘了除以 60。"),
        ),
        compare=Number(rel=1e-6),
        tables=("live_sessions",),
    ),
    Exercise(
        id="11.01.gpm_by_host",
        title="店铺自播与红人直播的 GPM",
        question=("GPM（GMV per mille 千次观看成交额）= 成交额 ÷ 观看人数 × 1000，"
                  "是比较直播间和主播（host 主播）带货能力的常用指标（`rules.gmv_per_mille`）。"
                  "各店铺币种不同，所以成交额要用**人民币**：每场的人民币成交额 = `orders` 中 "
                  "`live_session_id` 为该场的订单的 `order_total_cny` 之和（没有订单记 0）。"
                  "按主播类型 `host_type`（店铺自播 `store_host` / 红人 `influencer`）汇总，"
                  "算出 GPM = 人民币成交额之和 ÷ 观看人数之和 × 1000。结果存进 `gpm_by_host`："
                  "Series，索引是主播类型，值是人民币元/千人观看。"),
        stage=LIVE, tasks=LIVE_TASKS, unit=UNIT, difficulty=2, points=2,
        answer="gpm_by_host", kind="series", answer_cn="Series：host_type → GPM（人民币元）",
        reference=_gpm_by_host,
        solution=_GPM_HOST_SOLUTION,
        hints=("先按 `live_session_id` 汇总订单的 `order_total_cny`，用 `map` 接到场次表上，"
               "没有订单的场次 `fillna(0)`。",
               "再按 `host_type` 把成交额和观看人数分别求和，最后相除乘 1000。"),
        mistakes=(
            Mistake("local_currency",
                    "by_host = live_sessions.groupby('host_type', observed=True)"
                    "[['gmv', 'viewers']].sum()\n"
                    "gpm_by_host = by_host.gmv / by_host.viewers * 1000",
                    "`gmv` 列是各店铺自己的币种（日元、泰铢……），不能直接相加；"
                    "用订单的 `order_total_cny` 换成人民币。"),
            Mistake("mean_of_sessions",
                    _variant(_GPM_HOST_SOLUTION,
                             "by_host = ls.groupby('host_type', observed=True)[['gmv_cny', "
                             "'viewers']].sum()\n"
                             "gpm_by_host = by_host.gmv_cny / by_host.viewers * 1000",
                             "ls = ls[ls.viewers > 0]\n"
                             "gpm_by_host = (ls.gmv_cny / ls.viewers * 1000)"
                             ".groupby(ls.host_type, observed=True).mean()"),
                    "你对每场的 GPM 取了简单平均；应该先汇总成交额和观看人数，再相除。"),
        ),
        compare=SeriesOf(rel=1e-6, abs=1e-6),
        tables=("live_sessions", "orders"),
    ),
    Exercise(
        id="11.01.gpm_chart",
        title="各店铺直播间 GPM 柱状图",
        question=("画一张柱状图比较各店铺直播间的带货能力：每个**有直播场次**的店铺一根柱子，"
                  "高度是该店铺全部场次的 GPM（人民币成交额之和 ÷ 观看人数之和 × 1000，"
                  "人民币成交额的算法同上一题），柱子按 `store_id` **从小到大**排列。"
                  "图要有标题、横轴标签和纵轴标签（含单位）。把 Axes 存进 `chart`。"),
        stage=LIVE, tasks=LIVE_TASKS, unit=UNIT, difficulty=2, points=2,
        answer="chart", kind="chart", answer_cn="matplotlib 的 Axes（柱状图）",
        reference=_gpm_by_store,
        solution=_CHART_SOLUTION,
        hints=("和上一题一样先得到每场的人民币成交额，再按 `store_id` 汇总。",
               "`fig, ax = plt.subplots()`，`ax.bar(店铺, GPM)`，加标题和两个轴标签，"
               "`chart = ax`。"),
        mistakes=(
            Mistake("gmv_total",
                    "import matplotlib.pyplot as plt\n"
                    "s = orders[orders.live_session_id.notna()].groupby('store_id')"
                    ".order_total_cny.sum().sort_index()\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(s.index, s.values)" + _CHART_TAIL,
                    "你画的是成交额总数；店铺的直播场次和观看人数差别很大，要比较的是 GPM "
                    "（每千人观看的成交额）。"),
            Mistake("local_currency",
                    "import matplotlib.pyplot as plt\n"
                    "b = live_sessions.groupby('store_id')[['gmv', 'viewers']].sum()"
                    ".sort_index()\n"
                    "s = b.gmv / b.viewers * 1000\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(s.index, s.values)" + _CHART_TAIL,
                    "`gmv` 列是各店铺自己的币种，不同店铺之间不能直接比较；用人民币成交额。"),
        ),
        compare=Chart(kind="bar"),
        tables=("live_sessions", "orders"),
    ),
    Exercise(
        id="11.01.live_platform_cost",
        title="跨境电商平台直播 vs 跨境社媒直播平台：每单成本",
        question=("第 5.11 条要求按平台要求选择**跨境电商直播平台**或**海外社媒直播平台**。"
                  "用下面的**教学用（虚拟）成本参数**算出每类平台的直播成本：\n\n"
                  "- 店铺自播 `store_host`：每小时 100 元（主播工资 + 直播间），"
                  "成本 = 100 × `duration_min` ÷ 60；\n"
                  "- 红人 `influencer`：每场坑位费 800 元 + 该场人民币成交额的 20% 佣金"
                  "（人民币成交额的算法同练习 3）。\n\n"
                  "平台类型来自 `stores.platform_id` → `platforms.platform_type`"
                  "（如 `social_live` 跨境社媒直播平台、`comprehensive` 综合型跨境电商平台）。"
                  "做一张表 `live_cost`（DataFrame），每个平台类型一行，列为 `platform_type`、"
                  "`n_sessions`（场次数）、`orders`（订单数之和）、`cost_cny`（成本之和，元）、"
                  "`cost_per_order`（= cost_cny ÷ orders，元/单；没有订单填 NaN）。"),
        stage=LIVE, tasks=LIVE_TASKS, unit=UNIT, difficulty=3, points=3,
        answer="live_cost", kind="frame",
        answer_cn="DataFrame：platform_type, n_sessions, orders, cost_cny, cost_per_order",
        reference=_platform_cost,
        solution=_PLATFORM_SOLUTION,
        hints=("先给每场算人民币成交额，再两次 `merge` 拿到 `platform_type`。",
               "成本按主播类型分两种算法：`Series.where(条件, 另一种值)` 可以按行二选一。",
               "按 `platform_type` 汇总后再算每单成本；不要对每场的每单成本取平均。"),
        mistakes=(
            Mistake("no_commission",
                    _variant(_PLATFORM_SOLUTION, "800 + 0.20 * ls.gmv_cny", "800 + 0 * ls.gmv_cny"),
                    "红人的成本漏了 20% 的佣金：红人合作常见的是坑位费 + 佣金。"),
            Mistake("per_session",
                    _variant(_PLATFORM_SOLUTION,
                             "live_cost.cost_cny / live_cost.orders.where(live_cost.orders > 0)",
                             "live_cost.cost_cny / live_cost.n_sessions"),
                    "你算的是每场成本；题目要每单成本 = 成本 ÷ 订单数。"),
        ),
        compare=Frame(key=("platform_type",), columns=("n_sessions", "orders", "cost_cny",
                                                       "cost_per_order"), rel=1e-6, abs=0.005),
        tables=("live_sessions", "orders", "stores", "platforms"),
    ),
    Exercise(
        id="11.01.live_roi",
        title="自播和红人直播各赚不赚钱（直播 ROI）",
        question=("只看成交额会高估直播的效果：还要扣掉商品成本和直播成本。按主播类型 "
                  "`host_type` 做一张表 `live_roi`（DataFrame），列为：\n\n"
                  "- `n_sessions`：场次数；\n"
                  "- `gross_profit_cny`：直播订单的毛利（人民币元）。只算**未取消**的直播订单"
                  "（`live_session_id` 不为空、`status` 不是 `cancelled`），每条订单明细的毛利 = "
                  "`line_net × fx_rate_cny − quantity × unit_cost_cny`（`unit_cost_cny` 来自 "
                  "`products`）；\n"
                  "- `cost_cny`：直播成本之和，用上一题的教学参数，但红人佣金按**未取消订单**的"
                  "人民币成交额（`order_total_cny`）计；\n"
                  "- `roi`：（毛利 − 直播成本）÷ 直播成本（小数，可以为负）。"),
        stage=LIVE, tasks=LIVE_TASKS, unit=UNIT, difficulty=3, points=3,
        answer="live_roi", kind="frame",
        answer_cn="DataFrame：host_type, n_sessions, gross_profit_cny, cost_cny, roi",
        reference=_live_roi,
        solution=_ROI_SOLUTION,
        hints=("先筛出未取消的直播订单，把它们的 `live_session_id`、`fx_rate_cny` 合并到 "
               "`order_lines` 上，再合并 `products` 的 `unit_cost_cny`。",
               "按场次汇总毛利和成交额，`map` 回场次表；没有订单的场次记 0，但它们的直播成本"
               "照样要算。",
               "ROI = (毛利 − 成本) ÷ 成本；亏钱时是负数。"),
        mistakes=(
            Mistake("gmv_not_profit",
                    _variant(_ROI_SOLUTION,
                             "lines.line_net * lines.fx_rate_cny - lines.quantity * "
                             "lines.unit_cost_cny",
                             "lines.line_net * lines.fx_rate_cny"),
                    "你把销售额当成了毛利，没有扣掉商品成本 `quantity × unit_cost_cny`。"),
            Mistake("with_cancelled",
                    _variant(_ROI_SOLUTION,
                             "lo = orders[orders.live_session_id.notna() & "
                             "(orders.status != 'cancelled')]",
                             "lo = orders[orders.live_session_id.notna()]"),
                    "已取消的订单没有成交，不产生毛利，也不付佣金；先把它们去掉。"),
        ),
        compare=Frame(key=("host_type",), columns=("n_sessions", "gross_profit_cny", "cost_cny",
                                                   "roi"), rel=1e-6, abs=0.005),
        tables=("live_sessions", "orders", "order_lines", "products"),
    ),
    # ------------------------------------------------------------------ 11.02 off-platform
    Exercise(
        id="11.02.engagement_by_platform",
        title="各社媒平台的互动率",
        question=("产品社媒推广（6.3.2）先要知道内容在哪个平台更受欢迎。按 `sns_platform` "
                  "算出**互动率**（engagement rate 互动率）= 互动数 `engagements` 之和 ÷ "
                  "触达人数 `reach` 之和（`rules.engagement_rate`），所有帖子（自然和付费）"
                  "都算。结果存进 `engagement_rate`：Series，索引是平台，值是小数。"),
        stage=OFFSITE, tasks=("6.3.2", "6.3.5"), unit=UNIT, difficulty=1, points=1,
        answer="engagement_rate", kind="series", answer_cn="Series：sns_platform → 比率（小数）",
        reference=_engagement_by_platform,
        solution=("by = social_posts.groupby('sns_platform', observed=True)"
                  "[['engagements', 'reach']].sum()\n"
                  "engagement_rate = by.engagements / by.reach"),
        hints=("`groupby('sns_platform')` 后把两列分别求和，再相除。",
               "分母是触达人数 `reach`（看到帖子的独立账户数），不是展示次数。"),
        mistakes=(
            Mistake("impressions",
                    "by = social_posts.groupby('sns_platform', observed=True)"
                    "[['engagements', 'impressions']].sum()\n"
                    "engagement_rate = by.engagements / by.impressions",
                    "分母用了展示次数 `impressions`；题目按触达人数 `reach` 算互动率。"),
            Mistake("mean_of_ratios",
                    "p = social_posts[social_posts.reach > 0]\n"
                    "engagement_rate = (p.engagements / p.reach).groupby(p.sns_platform, "
                    "observed=True).mean()",
                    "你对每条帖子的互动率取了简单平均；要先汇总互动数和触达人数再相除。"),
        ),
        compare=SeriesOf(rel=1e-6, abs=1e-9),
        tables=("social_posts",),
    ),
    Exercise(
        id="11.02.social_new_share",
        title="社媒帖子带来的订单中新客户的占比",
        question=("社媒促销推广（6.3.3）的目的之一是获取新的潜在客户。`orders.post_id` 不为空的"
                  "订单是通过社媒帖子的 UTM 链接进店下单的。算出这些订单中**新客户订单**"
                  "（`is_repeat` 为 False，即客户之前没买过）所占的比例，存进 `new_share`"
                  "（小数）。"),
        stage=OFFSITE, tasks=("6.3.3", "6.3.2"), unit=UNIT, difficulty=1, points=1,
        answer="new_share", kind="rate", answer_cn="比率（小数）",
        reference=_social_new_share,
        solution=("s = orders[orders.post_id.notna()]\n"
                  "new_share = float((~s.is_repeat).mean())"),
        hints=("先筛出 `post_id.notna()` 的订单。",
               "`~s.is_repeat` 是“新客户”的 True/False，它的平均值就是比例。"),
        mistakes=(
            Mistake("repeat_share",
                    "s = orders[orders.post_id.notna()]\n"
                    "new_share = float(s.is_repeat.mean())",
                    "你算的是老客户（`is_repeat` 为 True）的占比；新客户是 False 的那些。"),
            Mistake("all_orders",
                    "new_share = float((~orders.is_repeat).mean())",
                    "你用了全部订单；题目只看社媒帖子带来的订单（`post_id` 不为空）。"),
        ),
        compare=Rate(),
        tables=("orders",),
    ),
    Exercise(
        id="11.02.blog_ctr",
        title="SEO 博客文章的点击进店率",
        question=("搜索引擎推广（6.4）中，店铺自己的博客（`sns_platform == 'blog'`，"
                  "`post_type == 'blog_seo'`）靠页面标题、描述、关键词和图片 ALT 优化在搜索结果里"
                  "获得自然展示。算出博客文章的**点击进店率** = UTM 点击 `utm_clicks` 之和 ÷ "
                  "展示次数 `impressions` 之和，存进 `blog_ctr`（小数）。"),
        stage=OFFSITE, tasks=("6.4.1", "6.4.2", "6.4.3"), unit=UNIT, difficulty=1, points=1,
        answer="blog_ctr", kind="rate", answer_cn="比率（小数）",
        reference=_blog_ctr,
        solution=("blog = social_posts[social_posts.sns_platform == 'blog']\n"
                  "blog_ctr = blog.utm_clicks.sum() / blog.impressions.sum()"),
        hints=("先筛出 `sns_platform == 'blog'` 的行。",
               "CTR = 点击 ÷ 展示，两列分别求和再相除。"),
        mistakes=(
            Mistake("all_posts",
                    "blog_ctr = social_posts.utm_clicks.sum() / social_posts.impressions.sum()",
                    "你用了所有社媒帖子；题目只看博客文章。"),
            Mistake("per_reach",
                    "blog = social_posts[social_posts.sns_platform == 'blog']\n"
                    "blog_ctr = blog.utm_clicks.sum() / blog.reach.sum()",
                    "分母用了触达人数；点击率的分母是展示次数 `impressions`。"),
        ),
        compare=Rate(),
        tables=("social_posts",),
    ),
    Exercise(
        id="11.02.paid_kpis",
        title="付费社媒推广的 CPM、CPC、CPA、ROAS（人民币）",
        question=("社媒付费营销推广（6.3.4）要按效果比较各平台（6.3.5 产出绩效评价）。只看**付费**"
                  "帖子（`paid` 为 True）。各店铺币种不同，先把花费 `spend` 和收入 `revenue` 换成"
                  "人民币：汇率用 `fx_rates` 中该币种在**发帖日**（`posted_at` 的 UTC 日期）的 "
                  "`cny_per_unit`；发帖日没有汇率时用此前最近一天的。然后按 `sns_platform` "
                  "做一张表 `paid_kpis`（DataFrame），列为：\n\n"
                  "- `spend_cny`：花费之和（元）；\n"
                  "- `cpm`：千次展示成本（CPM）= spend_cny ÷ impressions 之和 × 1000；\n"
                  "- `cpc`：每次点击成本（CPC）= spend_cny ÷ utm_clicks 之和；\n"
                  "- `cpa`：每次转化成本（CPA）= spend_cny ÷ conversions 之和（没有转化填 NaN）；\n"
                  "- `roas`：广告支出回报（ROAS）= 人民币收入之和 ÷ spend_cny。"),
        stage=OFFSITE, tasks=("6.3.4", "6.3.5", "6.3.1"), unit=UNIT, difficulty=2, points=2,
        answer="paid_kpis", kind="frame",
        answer_cn="DataFrame：sns_platform, spend_cny, cpm, cpc, cpa, roas",
        reference=_paid_kpis,
        solution=_PAID_SOLUTION,
        hints=("发帖日：`posted_at.dt.tz_convert('UTC').dt.tz_localize(None).dt.normalize()`。",
               "`pd.merge_asof(左表, 汇率表, on='date', by='currency')` 按币种找当天或此前最近"
               "一天的汇率（两张表都要先按 `date` 排序）。",
               "先按平台把花费、展示、点击、转化、收入分别求和，再算四个比值。"),
        mistakes=(
            Mistake("local_currency",
                    _variant(_variant(_PAID_SOLUTION, "p.spend * p.cny_per_unit", "p.spend"),
                             "p.revenue * p.cny_per_unit", "p.revenue"),
                    "你直接把各店铺的原币金额加在一起了；日元、泰铢和美元不能相加，"
                    "先按发帖日汇率换成人民币。"),
            Mistake("with_organic",
                    _variant(_PAID_SOLUTION, "p = social_posts[social_posts.paid].copy()",
                             "p = social_posts[social_posts.sns_platform != 'blog'].copy()"),
                    "你把自然（免费）帖子也算进去了：它们没有花费，却有展示和点击，"
                    "会把 CPM、CPC 拉低。只看付费帖子。"),
        ),
        compare=Frame(key=("sns_platform",), columns=("spend_cny", "cpm", "cpc", "cpa", "roas"),
                      rel=1e-6, abs=0.005),
        tables=("social_posts", "fx_rates"),
    ),
    Exercise(
        id="11.02.budget_platform",
        title="下个月的付费预算加给哪个平台",
        question=("根据上一题的付费推广效果调整下期方案（6.3.5、6.3.1）：公司规定把追加的预算"
                  "给**人民币 ROAS 最高**的平台（如果所有平台的 ROAS 都低于 1，说明付费推广"
                  "整体在亏钱：下期先压缩总预算，剩下的集中到 ROAS 最高的平台试投）。"
                  "把该平台的名字（`sns_platform` 的值，如 `'instagram'`）存进 `best_platform`"
                  "（str）。"),
        stage=OFFSITE, tasks=("6.3.5", "6.3.1"), unit=UNIT, difficulty=2, points=2,
        answer="best_platform", kind="choice", answer_cn="文字：一个 sns_platform 的值",
        reference=_budget_platform,
        solution=_BUDGET_SOLUTION,
        hints=("用上一题的 `paid_kpis`，按 `roas` 从大到小排序，取第一行的平台。",
               "ROAS 要用人民币算：不同币种的收入和花费不能直接相加。"),
        mistakes=(
            Mistake("ascending",
                    _variant(_BUDGET_SOLUTION, "sort_values('roas', ascending=False)",
                             "sort_values('roas')"),
                    "`sort_values` 默认从小到大排：你选中的是 ROAS 最低的平台，"
                    "它应该减预算而不是加预算。"),
            Mistake("one_based",
                    _variant(_BUDGET_SOLUTION, ".sns_platform.iloc[0]", ".sns_platform.iloc[1]"),
                    "pandas 的位置从 0 开始数：`iloc[1]` 是排第二的平台。"),
        ),
        compare=Choice(options=SNS_PAID),
        tables=("social_posts", "fx_rates"),
    ),
    Exercise(
        id="11.02.rank_traffic",
        title="B2B 关键词：由排名估算每月自然点击",
        question=("SEO 推广策划和诊断（6.4.1、6.4.4）常用“搜索量 × 名次点击率”估算一组关键词"
                  "能带来的自然流量。B2B 店铺的 `b2b_keyword_stats` 给出每个关键词每周在平台"
                  "搜索结果中的平均名次 `avg_rank`。假设店铺的企业官网在搜索引擎上对这些关键词"
                  "的自然名次与它在平台上**最近一周**（`week_start` 最大的那一周）的平均名次"
                  "相同，估算官网每月能得到的自然点击（只算那一周有名次的关键词）：\n\n"
                  "估算点击 = Σ 关键词的月搜索量 `keywords.search_volume` × CTR(名次)，"
                  "名次 = `avg_rank` **四舍五入**到整数（x.5 进位）。CTR(名次) 用本笔记本给出的"
                  "教学曲线：1→0.30，2→0.16，3→0.10，4→0.07，5→0.05，6→0.04，7→0.03，"
                  "8→0.025，9→0.02，10→0.018，10 名以后为 0。结果存进 `est_clicks`（小数）。"),
        stage=OFFSITE, tasks=("6.4.4", "6.4.1", "6.4.2"), unit=UNIT, difficulty=3, points=3,
        answer="est_clicks", kind="number", answer_cn="数字，次/月（小数）",
        reference=_rank_traffic,
        solution=_RANK_SOLUTION,
        hints=("先筛出最近一周、`avg_rank` 不为空的行，再按 `keyword_id` 合并 `keywords` 的 "
               "`search_volume`。",
               "`np.floor(x + 0.5)` 是四舍五入（x.5 进位）；`round()` 对 .5 用的是“银行家舍入”。",
               "把名次 `map` 到 CTR 字典上，10 名以后 `map` 得到空值，`fillna(0)`。"),
        mistakes=(
            Mistake("all_weeks",
                    _variant(_RANK_SOLUTION,
                             "last = b2b_keyword_stats[b2b_keyword_stats.week_start == "
                             "b2b_keyword_stats.week_start.max()]",
                             "last = b2b_keyword_stats"),
                    "你把所有周都加在一起了：每周都有一行，同一个关键词被重复计算。"
                    "只用最近一周的排名。"),
            Mistake("beyond_ten",
                    _variant(_RANK_SOLUTION, "position.map(ctr).fillna(0)",
                             "position.clip(upper=10).map(ctr)"),
                    "10 名以后的结果几乎没人点；按曲线它们的 CTR 是 0，不是第 10 名的 CTR。"),
        ),
        compare=Number(rel=1e-6),
        tables=("b2b_keyword_stats", "keywords"),
    ),
    Exercise(
        id="11.02.low_conversion_keywords",
        title="B2B 关键词的流量—转化矩阵：流量够但转化低",
        question=("搜索推广深度优化（6.4.6）用流量、转化、成本矩阵定位问题。对 B2B 店铺的 "
                  "`b2b_keyword_stats`，按 `keyword_id` 汇总全部周的点击 `clicks` 和询盘 "
                  "`inquiries`。找出**流量不低但转化低**的关键词：点击数 ≥ 各关键词点击数的"
                  "**中位数**（且点击数 > 0），而询盘率（询盘 ÷ 点击）**低于**整体询盘率"
                  "（全部询盘 ÷ 全部点击）。把这些 `keyword_id` 存进 `low_conversion`"
                  "（list 或 set）。"),
        stage=OFFSITE, tasks=("6.4.6", "6.4.5"), unit=UNIT, difficulty=3, points=3,
        answer="low_conversion", kind="set", answer_cn="一组 keyword_id",
        reference=_low_conversion_keywords,
        solution=_MATRIX_SOLUTION,
        hints=("先 `groupby('keyword_id')[['clicks', 'inquiries']].sum()`，一个关键词一行。",
               "整体询盘率 = 询盘总数 ÷ 点击总数，不是各关键词询盘率的平均。",
               "两个条件用 `&` 连接：点击数 ≥ 中位数，询盘率 < 整体询盘率。"),
        mistakes=(
            Mistake("mean_threshold",
                    _variant(_MATRIX_SOLUTION, "k.clicks.median()", "k.clicks.mean()"),
                    "流量门槛用的是平均数；点击数分布很偏，题目规定用中位数。"),
            Mistake("no_traffic_filter",
                    _variant(_MATRIX_SOLUTION,
                             "enough = (k.clicks >= k.clicks.median()) & (k.clicks > 0)",
                             "enough = k.clicks > 0"),
                    "你没有用流量门槛：点击很少的关键词属于“流量低”，先要解决的是流量，"
                    "不算在“转化低”这一类里。"),
        ),
        compare=IdSet(),
        tables=("b2b_keyword_stats",),
    ),
)
