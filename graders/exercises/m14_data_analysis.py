"""14-data-analysis (数据分析, clause 5.14; Table 1 link 7: 7.1/7.1–7.1/7.6 B2B, 7.2.1–7.2.5 B2C).

Notebooks: 14.01 Store Analysis (B2C store funnel, weekly KPI dashboard, traffic sources, listing
diagnosis, customers and cohorts, anomaly days), 14.02 B2B and Competition (inquiry funnel and
reply rate, ad and B2B keyword ranking, market concentration, competitor stores), 14.03 Risk
Control (complaints, returns, review indicators, account health against platform limits, card
chargebacks against the monitoring threshold, suspicious orders).

Every ``reference`` computes the expected answer its own way (numpy, dicts, the reference rules
of :mod:`cbec_sim.rules`), independently of the solution text shown to trainees. Thresholds come
from ``platforms`` (account-health limits), ``rules.INQUIRY_REPLY_SLA_HOURS`` (24 h first
reply), ``rules.NEGATIVE_REVIEW_MAX_RATING`` and the card-network chargeback monitoring rule
(``rules.CHARGEBACK_RATIO_MAX``, ``rules.CHARGEBACK_COUNT_MIN``; months in the store market's
time zone from ``markets.tz``); the fraud-screening and anomaly rules are stated in the
questions as teaching rules (well-known practice: mean ± 3σ control limits; IP/billing/market
mismatch, repeated payment attempts and new-account high-value orders).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec_sim import rules
from graders.compare import Chart, Frame, IdSet, Rate, SeriesOf
from graders.exercise import Exercise, Mistake

MODULE = "14-data-analysis"

STAGE = "5.14"
UNIT = "data_analysis"


# --- shared helpers ---------------------------------------------------------------------------

def _b2c_ids(w) -> set[str]:
    st = w.stores
    return {s for s, m in zip(st.store_id, st.model.astype(str), strict=True) if m == "B2C"}


def _b2b_store(w) -> str:
    st = w.stores
    return min(s for s, m in zip(st.store_id, st.model.astype(str), strict=True) if m == "B2B")


def _valid(w) -> pd.DataFrame:
    o = w.orders
    return o[o.status.astype(str).to_numpy() != "cancelled"]


def _b2c_traffic(w) -> pd.DataFrame:
    t = w.traffic_daily
    return t[t.store_id.isin(_b2c_ids(w)).to_numpy()]


def _monday(ts: pd.Series) -> pd.Series:
    """Monday (YYYY-MM-DD) of each timestamp's week; tz-aware values are taken in UTC."""
    d = pd.to_datetime(ts)
    if getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_convert(None)
    d = d.dt.normalize()
    return (d - pd.to_timedelta(d.dt.day_of_week, unit="D")).dt.strftime("%Y-%m-%d")


def _period_end(w) -> pd.Timestamp:
    return pd.Timestamp(w.meta["start"], tz="UTC") + pd.DateOffset(months=int(w.meta["months"]))


def _period_months(w) -> list[str]:
    start = pd.Timestamp(w.meta["start"])
    return [(start + pd.DateOffset(months=i)).strftime("%Y-%m")
            for i in range(int(w.meta["months"]))]


# --- 14.01 references -------------------------------------------------------------------------

def _store_ctr(w) -> float:
    t = _b2c_traffic(w)
    return float(np.sum(t.sessions.to_numpy()) / np.sum(t.impressions.to_numpy()))


def _repeat_rate(w) -> float:
    counts = _valid(w).customer_id.value_counts()
    return float(np.mean(counts.to_numpy() >= 2))


def _channel_efficiency(w) -> pd.DataFrame:
    t = _b2c_traffic(w)
    ch = t.channel.astype(str).to_numpy()
    v = _valid(w)
    vch = v.channel.astype(str).to_numpy()
    rows = []
    total = float(t.sessions.sum())
    for c in sorted(set(ch)):
        m = ch == c
        s = float(t.sessions.to_numpy()[m].sum())
        rev = float(v.order_total_cny.to_numpy()[vch == c].sum())
        rows.append({"channel": c, "sessions": s, "session_share": s / total,
                     "new_visitor_share": float(t.new_visitors.to_numpy()[m].sum()) / s,
                     "cart_rate": float(t.add_to_cart.to_numpy()[m].sum()) / s,
                     "cvr": float(t.orders.to_numpy()[m].sum()) / s,
                     "revenue_per_session": rev / s})
    return pd.DataFrame(rows)


def _low_ctr_listings(w) -> list[str]:
    lids = set(w.listings.listing_id[w.listings.store_id.isin(_b2c_ids(w))])
    ls = w.listing_stats
    ls = ls[ls.listing_id.isin(lids)]
    imp = ls.groupby("listing_id").impressions.sum()
    clk = ls.groupby("listing_id").clicks.sum().reindex(imp.index)
    imp = imp[imp > 0]
    clk = clk.reindex(imp.index)
    ctr = clk / imp
    keep = (imp.to_numpy() >= np.median(imp.to_numpy())) & \
        (ctr.to_numpy() <= np.quantile(ctr.to_numpy(), 0.25))
    return sorted(imp.index[keep].astype(str))


def _weekly_kpi(w) -> pd.DataFrame:
    v = _valid(w)
    wk = _monday(v.created_at).to_numpy()
    t = _b2c_traffic(w)
    twk = _monday(t.date).to_numpy()
    rows = []
    for k in sorted(set(wk) | set(twk)):
        m = wk == k
        gmv = float(v.order_total_cny.to_numpy()[m].sum())
        n = int(m.sum())
        tm = twk == k
        sess = float(t.sessions.to_numpy()[tm].sum())
        rows.append({"week": k, "gmv_cny": gmv, "orders": n,
                     "aov_cny": gmv / n if n else np.nan, "sessions": sess,
                     "cvr": float(t.orders.to_numpy()[tm].sum()) / sess if sess else np.nan})
    return pd.DataFrame(rows)


def _cohort_retention(w) -> pd.Series:
    v = _valid(w)
    c = v.created_at.dt.tz_convert(None)
    v = v[(c >= "2025-01-01").to_numpy() & (c < "2026-01-01").to_numpy()]
    months = v.created_at.dt.tz_convert(None).dt.to_period("M")
    active: dict = {}
    for cid, p in zip(v.customer_id, months, strict=True):
        active.setdefault(cid, set()).add(p)
    first = {cid: min(ps) for cid, ps in active.items()}
    last = max(months)
    out = {}
    for p in sorted(set(first.values())):
        if p >= last:
            continue
        members = [cid for cid, f in first.items() if f == p]
        out[str(p)] = sum((p + 1) in active[cid] for cid in members) / len(members)
    return pd.Series(out)


def _anomaly_days(w) -> list[str]:
    v = _valid(w)
    day = v.created_at.dt.strftime("%Y-%m-%d")
    days = pd.date_range("2025-01-01", "2025-12-31", freq="D").strftime("%Y-%m-%d")
    counts = np.array([int(x) for x in day.value_counts().reindex(days, fill_value=0)])
    mu, sd = counts.mean(), counts.std(ddof=1)
    return [d for d, x in zip(days, counts, strict=True) if abs(x - mu) > 3 * sd]


# --- 14.02 references -------------------------------------------------------------------------

def _reply_rate(w) -> float:
    q = w.inquiries
    q = q[~q.flagged_spam.to_numpy(bool)]
    return float(np.mean(rules.replied_within(q.received_at, q.first_reply_at)))


def _inquiry_funnel(w) -> pd.DataFrame:
    sid = _b2b_store(w)
    lids = set(w.listings.listing_id[w.listings.store_id == sid])
    ls = w.listing_stats[w.listing_stats.listing_id.isin(lids)]
    lm = pd.to_datetime(ls.month).dt.strftime("%Y-%m").to_numpy()
    q = w.inquiries[(w.inquiries.store_id == sid).to_numpy()
                    & ~w.inquiries.flagged_spam.to_numpy(bool)]
    qm = q.received_at.dt.strftime("%Y-%m").to_numpy()
    rows = []
    for m in _period_months(w):
        imp = int(ls.impressions.to_numpy()[lm == m].sum())
        clk = int(ls.clicks.to_numpy()[lm == m].sum())
        n = int((qm == m).sum())
        rows.append({"month": m, "impressions": imp, "clicks": clk, "inquiries": n,
                     "ctr": clk / imp if imp else np.nan,
                     "inquiry_rate": n / clk if clk else np.nan})
    return pd.DataFrame(rows)


def _keyword_rank(w) -> pd.DataFrame:
    a = w.ads_daily
    agg: dict[str, list[int]] = {}
    for k, i, c in zip(a.keyword_id, a.impressions, a.clicks, strict=True):
        s = agg.setdefault(k, [0, 0])
        s[0] += int(i)
        s[1] += int(c)
    order = sorted(agg, key=lambda k: (-agg[k][1], -agg[k][0], k))[:10]
    kw = dict(zip(w.keywords.keyword_id, w.keywords.keyword, strict=True))
    return pd.DataFrame({"keyword_id": order, "keyword": [kw[k] for k in order],
                         "impressions": [agg[k][0] for k in order],
                         "clicks": [agg[k][1] for k in order],
                         "ctr": [agg[k][1] / agg[k][0] for k in order]})


def _b2b_keywords(w) -> pd.DataFrame:
    sid = _b2b_store(w)
    k = w.b2b_keyword_stats
    k = k[(k.store_id == sid).to_numpy()]
    agg: dict[str, list[float]] = {}
    for kid, imp, clk, inq, rk in zip(k.keyword_id, k.impressions, k.clicks, k.inquiries,
                                      k.avg_rank, strict=True):
        a = agg.setdefault(str(kid), [0, 0, 0, 0.0])
        a[0] += int(imp)
        a[1] += int(clk)
        a[2] += int(inq)
        if imp > 0:
            a[3] += float(rk) * int(imp)
    order = sorted(agg, key=lambda x: (-agg[x][1], -agg[x][0], x))[:10]
    text = dict(zip(k.keyword_id.astype(str), k.keyword.astype(str), strict=True))
    return pd.DataFrame({
        "keyword_id": order, "keyword": [text[x] for x in order],
        "impressions": [agg[x][0] for x in order], "clicks": [agg[x][1] for x in order],
        "inquiries": [agg[x][2] for x in order],
        "ctr": [agg[x][1] / agg[x][0] for x in order],
        "avg_rank": [agg[x][3] / agg[x][0] for x in order]})


def _focus(w) -> tuple[str, str]:
    st = w.stores.set_index("store_id")
    sid = _b2b_store(w)
    return str(st.at[sid, "category_focus"]), str(st.at[sid, "market"])


def _cr4(w) -> float:
    cat, mkt = _focus(w)
    months = set(_period_months(w))
    cs = w.competitor_sales
    keep = ((cs.category.astype(str) == cat) & (cs.market.astype(str) == mkt)
            & pd.to_datetime(cs.month).dt.strftime("%Y-%m").isin(months)).to_numpy()
    brand_gmv = cs[keep].groupby("brand").gmv_usd.sum()
    md = w.market_demand
    mk = ((md.category.astype(str) == cat) & (md.market.astype(str) == mkt)
          & pd.to_datetime(md.month).dt.strftime("%Y-%m").isin(months)).to_numpy()
    total = float(md.market_gmv_usd.to_numpy()[mk].sum())
    return rules.concentration_ratio(brand_gmv.to_numpy() / total, k=4)


def _competitor_stores(w) -> pd.DataFrame:
    cat, mkt = _focus(w)
    cp = w.competitor_products
    cp = cp[((cp.category.astype(str) == cat) & (cp.market.astype(str) == mkt)).to_numpy()]
    cutoff = (_period_end(w) - pd.Timedelta(days=90)).tz_convert(None)
    rows = []
    for sid, g in cp.groupby("competitor_store_id"):
        rows.append({"competitor_store_id": str(sid), "n_products": len(g),
                     "monthly_units": int(g.monthly_units.sum()),
                     "median_price_usd": float(np.median(g.price_usd.to_numpy())),
                     "new_90d": int((pd.to_datetime(g.first_listed) >= cutoff).sum())})
    rows.sort(key=lambda r: (-r["monthly_units"], r["competitor_store_id"]))
    return pd.DataFrame(rows[:5])


# --- 14.03 references -------------------------------------------------------------------------

def _complaint_rate(w) -> float:
    t = w.tickets
    n = int(np.sum(t.is_complaint.to_numpy(bool) & t.store_id.isin(_b2c_ids(w)).to_numpy()))
    return n / len(_valid(w))


def _return_rate_by_store(w) -> pd.Series:
    o = w.orders
    delivered = o[o.status.astype(str).isin(["delivered", "returned"]).to_numpy()]
    den = delivered.store_id.value_counts()
    num = w.returns.store_id.value_counts().reindex(den.index, fill_value=0)
    return (num / den).astype(float)


def _negative_rate_by_month(w) -> pd.Series:
    r = w.reviews
    m = r.created_at.dt.strftime("%Y-%m").to_numpy()
    neg = r.rating.to_numpy() <= rules.NEGATIVE_REVIEW_MAX_RATING
    out = {}
    for mon in _period_months(w):
        k = m == mon
        out[mon] = float(neg[k].mean()) if k.any() else np.nan
    return pd.Series(out)


def _health_30d(w) -> pd.DataFrame:
    end = _period_end(w)
    m = rules.account_health(w.orders, w.shipments, w.reviews, w.tickets, w.carriers,
                             as_of=end, window_days=30)
    m = m.loc[sorted(_b2c_ids(w) & set(m.index))]
    lim = w.stores.set_index("store_id").loc[m.index, ["platform_id"]].merge(
        w.platforms.set_index("platform_id"), left_on="platform_id", right_index=True)
    at_risk = ((m.late_shipment_rate.to_numpy() > lim.late_shipment_rate_max.to_numpy())
               | (m.order_defect_rate.to_numpy() > lim.order_defect_rate_max.to_numpy()))
    return pd.DataFrame({"store_id": m.index.astype(str),
                         "late_shipment_rate": m.late_shipment_rate.to_numpy(),
                         "order_defect_rate": m.order_defect_rate.to_numpy(),
                         "at_risk": at_risk})


def _local_month(ts: pd.Series, store_ids, w) -> np.ndarray:
    """'YYYY-MM' of each UTC timestamp in the time zone of its store's market."""
    tz_of_market = dict(zip(w.markets.market.astype(str), w.markets.tz.astype(str),
                            strict=True))
    store_tz = {s: tz_of_market[m] for s, m in zip(w.stores.store_id.astype(str),
                                                    w.stores.market.astype(str), strict=True)}
    tz = np.array([store_tz[s] for s in np.asarray(store_ids, dtype=object).astype(str)])
    out = np.empty(len(ts), dtype=object)
    for z in set(tz):  # a handful of time zones
        m = tz == z
        out[m] = ts[m].dt.tz_convert(z).dt.strftime("%Y-%m").to_numpy()
    return out


def _chargeback_monthly(w) -> pd.DataFrame:
    o = w.orders
    card = o[((o.payment_method.astype(str) == "credit_card") & o.paid_at.notna()
              & (o.status.astype(str) != "cancelled")).to_numpy()]
    b2c = _b2c_ids(w)
    card = card[card.store_id.isin(b2c).to_numpy()]
    cm = _local_month(card.paid_at.reset_index(drop=True), card.store_id, w)
    cb = w.chargebacks
    cb = cb[cb.store_id.isin(b2c).to_numpy()]
    bm = _local_month(cb.opened_at.reset_index(drop=True), cb.store_id, w)
    n_card: dict[tuple[str, str], int] = {}
    for key in zip(card.store_id.astype(str), cm, strict=True):
        n_card[key] = n_card.get(key, 0) + 1
    n_cb: dict[tuple[str, str], int] = {}
    for key in zip(cb.store_id.astype(str), bm, strict=True):
        n_cb[key] = n_cb.get(key, 0) + 1
    months = set(_period_months(w))
    keys = sorted(k for k in n_card if k[1] in months)
    den = np.array([n_card[k] for k in keys])
    num = np.array([n_cb.get(k, 0) for k in keys])
    return pd.DataFrame({"store_id": [k[0] for k in keys], "month": [k[1] for k in keys],
                         "card_orders": den, "chargebacks": num,
                         "chargeback_ratio": rules.chargeback_ratio(num, den),
                         "monitored": rules.chargeback_monitored(num, den)})


def _suspicious(w) -> list[str]:
    o = w.orders
    signup = dict(zip(w.customers.customer_id, w.customers.signup_at, strict=True))
    q90 = float(np.quantile(o.order_total_cny.to_numpy(), 0.9))
    out = []
    for row in zip(o.order_id, o.ip_country.astype(str), o.billing_country.astype(str),
                   o.market.astype(str), o.payment_attempts, o.created_at, o.customer_id,
                   o.order_total_cny, strict=True):
        oid, ip, bill, mkt, att, created, cid, total = row
        r1 = ip != bill and bill != mkt
        r2 = att >= 3
        r3 = (created - signup[cid]) < pd.Timedelta(hours=24) and total >= q90
        if r1 or r2 or r3:
            out.append(oid)
    return out


# --- solution snippets reused by mistakes ----------------------------------------------------

_B2C = "b2c_ids = stores.loc[stores.model == 'B2C', 'store_id']\n"
_TRAFFIC = _B2C + "t = traffic_daily[traffic_daily.store_id.isin(b2c_ids)]\n"
_VALID = "valid = orders[orders.status != 'cancelled']\n"
_WEEK = ("def monday(d):\n"
         "    d = d.dt.normalize()\n"
         "    return (d - pd.to_timedelta(d.dt.day_of_week, unit='D')).dt.strftime('%Y-%m-%d')\n")


def _kpi_code(valid: str, traffic: str, cvr: str) -> str:
    return (_WEEK + valid + traffic
            + "created = valid.created_at.dt.tz_convert(None)\n"
            "sales = valid.groupby(monday(created)).agg(gmv_cny=('order_total_cny', 'sum'),\n"
            "                                           orders=('order_id', 'size'))\n"
            "sales['aov_cny'] = sales.gmv_cny / sales.orders\n"
            "funnel = t.groupby(monday(t.date))[['sessions', 'orders']].sum()\n"
            + cvr
            + "weekly = sales.join(funnel[['sessions', 'cvr']], how='outer')\n"
            "weekly.index.name = 'week'\n"
            "weekly = weekly.reset_index()\n")


_CVR = "funnel['cvr'] = funnel.orders / funnel.sessions\n"


def _channel_code(traffic: str, valid: str, cvr: str = "g.orders / g.sessions") -> str:
    return (traffic + valid
            + "g = t.groupby('channel', observed=True)[['sessions', 'new_visitors', "
            "'add_to_cart', 'orders']].sum()\n"
            "revenue = valid.groupby('channel', observed=True).order_total_cny.sum()\n"
            "g['session_share'] = g.sessions / g.sessions.sum()\n"
            "g['new_visitor_share'] = g.new_visitors / g.sessions\n"
            "g['cart_rate'] = g.add_to_cart / g.sessions\n"
            f"g['cvr'] = {cvr}\n"
            "g['revenue_per_session'] = revenue.reindex(g.index, fill_value=0) / g.sessions\n"
            "channels = g.reset_index()\n")


def _cohort_code(first: str, retained: str) -> str:
    return (_VALID
            + "created = valid.created_at.dt.tz_convert(None)\n"
            "v = valid[(created >= '2025-01-01') & (created < '2026-01-01')].copy()\n"
            "v['month'] = v.created_at.dt.tz_convert(None).dt.to_period('M')\n"
            + first
            + "v['cohort'] = v.customer_id.map(first)\n"
            + retained
            + "size = v.groupby('cohort').customer_id.nunique()\n"
            "retention = (back.groupby('cohort').customer_id.nunique()\n"
            "             .reindex(size.index, fill_value=0) / size)\n"
            "retention = retention[retention.index < v.month.max()]\n"
            "retention.index = retention.index.astype(str)\n")


_FIRST = "first = v.groupby('customer_id').month.min()   # 每个客户的首单月份\n"
_NEXT = "back = v[v.month == v.cohort + 1]                 # 首单次月又下单的记录\n"


def _anomaly_code(valid: str, k: str, value: str = "size()") -> str:
    return (valid
            + "days = pd.date_range('2025-01-01', '2025-12-31', freq='D').strftime('%Y-%m-%d')\n"
            f"daily = valid.groupby(valid.created_at.dt.strftime('%Y-%m-%d')).{value}\n"
            "daily = daily.reindex(days, fill_value=0)      # 没有订单的日子记 0\n"
            "mu, sd = daily.mean(), daily.std()\n"
            f"anomaly_days = daily.index[(daily - mu).abs() > {k} * sd]\n")


_B2B = "b2b_id = stores.loc[stores.model == 'B2B', 'store_id'].min()\n"


def _funnel_code(spam_filter: str, rate: str) -> str:
    return (_B2B
            + "b2b_listings = listings.loc[listings.store_id == b2b_id, 'listing_id']\n"
            "ls = listing_stats[listing_stats.listing_id.isin(b2b_listings)]\n"
            "expo = ls.groupby(ls.month.dt.strftime('%Y-%m'))[['impressions', 'clicks']].sum()\n"
            f"inq = inquiries[(inquiries.store_id == b2b_id){spam_filter}]\n"
            "n_inq = inq.groupby(inq.received_at.dt.strftime('%Y-%m')).size()\n"
            "funnel = expo.copy()\n"
            "funnel['inquiries'] = n_inq.reindex(funnel.index, fill_value=0)\n"
            "funnel['ctr'] = funnel.clicks / funnel.impressions\n"
            f"funnel['inquiry_rate'] = {rate}\n"
            "funnel.index.name = 'month'\n"
            "funnel = funnel.reset_index()\n")


def _kw_code(sort: str) -> str:
    return ("kw = ads_daily.groupby('keyword_id')[['impressions', 'clicks']].sum()\n"
            "kw['ctr'] = kw.clicks / kw.impressions\n"
            f"kw = kw.reset_index().sort_values({sort})\n"
            "top_keywords = kw.head(10).merge(keywords[['keyword_id', 'keyword']], "
            "on='keyword_id')\n")


_KW_SORT = "['clicks', 'impressions', 'keyword_id'], ascending=[False, False, True]"

_FOCUS = (_B2B
          + "focus = stores.set_index('store_id').loc[b2b_id]\n"
          "cat, mkt = focus.category_focus, focus.market\n")


def _cr4_code(months: str, denominator: str) -> str:
    return (_FOCUS
            + months
            + "cs = competitor_sales[(competitor_sales.category == cat)\n"
            "                      & (competitor_sales.market == mkt)\n"
            "                      & competitor_sales.month.dt.strftime('%Y-%m').isin(months)]\n"
            "md = market_demand[(market_demand.category == cat) & (market_demand.market == mkt)\n"
            "                   & market_demand.month.dt.strftime('%Y-%m').isin(months)]\n"
            "brand_gmv = cs.groupby('brand').gmv_usd.sum().sort_values(ascending=False)\n"
            f"cr4 = brand_gmv.head(4).sum() / {denominator}\n")


_MONTHS = ("months = pd.date_range(world.meta['start'], periods=world.meta['months'], "
           "freq='MS').strftime('%Y-%m')\n")


_CP = ("cp = competitor_products[(competitor_products.category == cat)\n"
       "                         & (competitor_products.market == mkt)]\n")


def _comp_code(price: str, sort: str, cp: str = _CP) -> str:
    return (_FOCUS + cp
            + "end = pd.Timestamp(world.meta['start']) + "
            "pd.DateOffset(months=world.meta['months'])\n"
            "cutoff = end - pd.Timedelta(days=90)\n"
            "g = cp.groupby('competitor_store_id').agg(\n"
            "    n_products=('competitor_product_id', 'size'),\n"
            "    monthly_units=('monthly_units', 'sum'),\n"
            f"    median_price_usd=('price_usd', '{price}'),\n"
            "    new_90d=('first_listed', lambda d: int((d >= cutoff).sum())),\n"
            ")\n"
            f"top_competitors = g.reset_index().sort_values({sort}).head(5)\n")


_COMP_SORT = "['monthly_units', 'competitor_store_id'], ascending=[False, True]"


def _health_code(window: str, lsr_den: str) -> str:
    return ("end = pd.Timestamp(world.meta['start'], tz='UTC') + "
            "pd.DateOffset(months=world.meta['months'])\n"
            + window
            + "b2c_ids = stores.loc[stores.model == 'B2C', 'store_id']\n"
            "# 迟发率：窗口内发货的包裹中，迟发的占比\n"
            "sh = shipments[(shipments.shipped_at >= start) & (shipments.shipped_at < end)]\n"
            "late = sh.groupby('store_id').is_late_shipment.sum()\n"
            + lsr_den
            + "# 订单缺陷率：窗口内下的订单中，有 1–2 星差评或投诉工单的占比\n"
            "o = orders[(orders.created_at >= start) & (orders.created_at < end)]\n"
            "bad_ids = set(reviews.loc[reviews.rating <= 2, 'order_id'].dropna()) | \\\n"
            "    set(tickets.loc[tickets.is_complaint, 'order_id'].dropna())\n"
            "odr = o.order_id.isin(bad_ids).groupby(o.store_id).mean()\n"
            "health = pd.DataFrame({'late_shipment_rate': lsr, 'order_defect_rate': odr})\n"
            "health = health[health.index.isin(b2c_ids)]\n"
            "limits = stores.set_index('store_id')[['platform_id']].merge(\n"
            "    platforms.set_index('platform_id'), left_on='platform_id', right_index=True)\n"
            "limits = limits.reindex(health.index)\n"
            "health['at_risk'] = ((health.late_shipment_rate > limits.late_shipment_rate_max)\n"
            "                     | (health.order_defect_rate > limits.order_defect_rate_max))\n"
            "health.index.name = 'store_id'\n"
            "health = health.reset_index()\n")


_WIN30 = "start = end - pd.Timedelta(days=30)\n"
_LSR = "lsr = late / sh.groupby('store_id').size()\n"


def _susp_code(combine: str, r3: str) -> str:
    return ("o = orders.merge(customers[['customer_id', 'signup_at']], on='customer_id')\n"
            "ip, bill = o.ip_country.astype(str), o.billing_country.astype(str)\n"
            "r1 = (ip != bill) & (bill != o.market.astype(str))\n"
            "r2 = o.payment_attempts >= 3\n"
            "new_account = (o.created_at - o.signup_at) < pd.Timedelta(hours=24)\n"
            + r3
            + f"suspicious_ids = o.loc[{combine}, 'order_id']\n")


_R3 = "r3 = new_account & (o.order_total_cny >= orders.order_total_cny.quantile(0.9))\n"


def _b2b_kw_code(sort: str = "['clicks', 'impressions', 'keyword_id'], "
                 "ascending=[False, False, True]",
                 ctr: str = "kw.clicks / kw.impressions",
                 rank: str = "kw.rank_x_impr / kw.impressions") -> str:
    return (_B2B
            + "k = b2b_keyword_stats[b2b_keyword_stats.store_id == b2b_id].copy()\n"
            "k['rank_x_impr'] = (k.avg_rank * k.impressions).fillna(0)   # 排名 × 曝光\n"
            "k['week_ctr'] = k.clicks / k.impressions\n"
            "kw = k.groupby(['keyword_id', 'keyword']).agg(\n"
            "    impressions=('impressions', 'sum'), clicks=('clicks', 'sum'),\n"
            "    inquiries=('inquiries', 'sum'), rank_x_impr=('rank_x_impr', 'sum'),\n"
            "    mean_week_ctr=('week_ctr', 'mean'), mean_rank=('avg_rank', 'mean'))\n"
            f"kw['ctr'] = {ctr}\n"
            f"kw['avg_rank'] = {rank}   # 按曝光加权的平均排名\n"
            f"kw = kw.reset_index().sort_values({sort})\n"
            "b2b_top = kw.head(10)[['keyword_id', 'keyword', 'impressions', 'clicks',\n"
            "                       'inquiries', 'ctr', 'avg_rank']]\n")


def _cb_code(card_filter: str = " & (orders.payment_method == 'credit_card')",
             cb_time: str = "cb.opened_at",
             monitored: str = "(g.chargeback_ratio >= rules.CHARGEBACK_RATIO_MAX)\n"
                              "                  & (g.chargebacks >= rules.CHARGEBACK_COUNT_MIN)",
             cb_prep: str = "cb = chargebacks.copy()\n") -> str:
    return ("from cbec_sim import rules\n"
            "\n"
            "# 每家店铺所在市场的时区（markets 表）\n"
            "store_tz = stores.merge(markets[['market', 'tz']], on='market')"
            ".set_index('store_id').tz\n"
            "\n"
            "def local_month(ts, store_ids):\n"
            "    \"\"\"UTC 时间 → 店铺所在市场当地时间的月份 'YYYY-MM'。\"\"\"\n"
            "    tz = store_ids.map(store_tz)\n"
            "    out = pd.Series(index=ts.index, dtype=object)\n"
            "    for z in tz.unique():            # 每个时区转换一次\n"
            "        m = tz == z\n"
            "        out[m] = ts[m].dt.tz_convert(z).dt.strftime('%Y-%m')\n"
            "    return out\n"
            "\n"
            + _B2C + _MONTHS
            + "card = orders[orders.paid_at.notna() & (orders.status != 'cancelled')"
            f"{card_filter}\n"
            "              & orders.store_id.isin(b2c_ids)].copy()\n"
            "card['month'] = local_month(card.paid_at, card.store_id)\n"
            + cb_prep
            + "cb = cb[cb.store_id.isin(b2c_ids)]\n"
            f"cb['month'] = local_month({cb_time}, cb.store_id)\n"
            "g = card.groupby(['store_id', 'month']).size().rename('card_orders').to_frame()\n"
            "g['chargebacks'] = cb.groupby(['store_id', 'month']).size()"
            ".reindex(g.index, fill_value=0)\n"
            "g = g.reset_index()\n"
            "g = g[g.month.isin(months)]\n"
            "g['chargeback_ratio'] = g.chargebacks / g.card_orders\n"
            f"g['monitored'] = ({monitored})\n"
            "cb_monthly = g\n")


# --- items ------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    # 14.01 B2C 店铺与商品分析 ------------------------------------------------------------------
    Exercise(
        id="14.01.store_ctr",
        title="B2C 店铺的整体点击率",
        question=("店铺分析（7.2.1）要看曝光（exposure）和点击率 CTR（click-through rate 点击率）。"
                  "用流量报表 `traffic_daily`，只取 **B2C 店铺**（`stores.model == 'B2C'`）的行，"
                  "计算全年整体点击率 = `sessions`（访问次数）之和 ÷ `impressions`（曝光次数）"
                  "之和。"
                  "结果存进 `store_ctr`，用小数表示，不必舍入。"),
        stage=STAGE, tasks=("7.2.1",), unit=UNIT, difficulty=1, points=1,
        answer="store_ctr", kind="rate", answer_cn="比率，小数（0–1），不必舍入",
        reference=_store_ctr,
        solution=(_TRAFFIC + "store_ctr = t.sessions.sum() / t.impressions.sum()"),
        hints=("先找出 B2C 店铺的编号：`stores.loc[stores.model == 'B2C', 'store_id']`，"
               "再用 `.isin(...)` 筛选 `traffic_daily`。",
               "整体点击率是“先求和再相除”：`t.sessions.sum() / t.impressions.sum()`。"),
        mistakes=(
            Mistake("mean_of_ratios",
                    _TRAFFIC + "store_ctr = (t.sessions / t.impressions).mean()",
                    "你把每一行的点击率取了平均：曝光很少的行和曝光很多的行权重一样。"
                    "整体点击率要先把访问次数和曝光次数各自加总，再相除。"),
            Mistake("inverted",
                    _TRAFFIC + "store_ctr = t.impressions.sum() / t.sessions.sum()",
                    "分子分母放反了：点击率 = 访问次数 ÷ 曝光次数，结果应小于 1。"),
            Mistake("with_b2b",
                    "store_ctr = traffic_daily.sessions.sum() / traffic_daily.impressions.sum()",
                    "你把 B2B 店铺（阿里巴巴国际站）的流量也算进去了：题目只要 B2C 店铺。"),
        ),
        compare=Rate(abs=1e-6, rel=1e-6),
        tables=("traffic_daily", "stores"),
    ),
    Exercise(
        id="14.01.repeat_rate",
        title="复购率",
        question=("客户数据分析（7.1/7.6）的基本指标是复购率（repeat-purchase rate 复购率）："
                  "在至少有 1 个**未取消**订单的客户中，有至少 **2** 个未取消订单的客户所占比例。"
                  "用 `orders` 表计算（一个订单算一次），结果存进 `repeat_rate`，用小数表示，"
                  "不必舍入。"),
        stage=STAGE, tasks=("7.1/7.6",), unit=UNIT, difficulty=1, points=1,
        answer="repeat_rate", kind="rate", answer_cn="比率，小数（0–1），不必舍入",
        reference=_repeat_rate,
        solution=(_VALID
                  + "per_customer = valid.groupby('customer_id').size()   # 每个客户几单\n"
                  "repeat_rate = (per_customer >= 2).mean()"),
        hints=("先去掉已取消订单，再按 `customer_id` 数每个客户的订单数。",
               "`(每客户单数 >= 2).mean()` 就是复购客户的占比：分母是下过单的客户数，"
               "不是订单数。"),
        mistakes=(
            Mistake("repeat_orders",
                    _VALID + "repeat_rate = valid.is_repeat.mean()",
                    "`is_repeat` 标记的是“这一单是不是老客户下的”：它的平均值是复购**订单**占比。"
                    "题目问的是复购**客户**占比，要按客户数。"),
            Mistake("all_customers",
                    _VALID + "per_customer = valid.groupby('customer_id').size()\n"
                    "repeat_rate = (per_customer >= 2).sum() / len(customers)",
                    "分母用错了：`customers` 表里有从没成交过的客户。分母只算至少有 1 个未取消"
                    "订单的客户。"),
            Mistake("kept_cancelled",
                    "per_customer = orders.groupby('customer_id').size()\n"
                    "repeat_rate = (per_customer >= 2).mean()",
                    "已取消的订单不算购买：先去掉 status 为 cancelled 的订单再数。"),
        ),
        compare=Rate(abs=1e-6, rel=1e-6),
        tables=("orders",),
    ),
    Exercise(
        id="14.01.channel_efficiency",
        title="各流量来源的效率",
        question=(
            "推广效果数据分析（7.1/7.5）要比较各流量来源（traffic source 流量来源），推广数据"
            "（7.2.4）要看新访客、加购和转化。只用 **B2C 店铺**的数据，按渠道 `channel` 做一张表 "
            "`channels`（DataFrame，每个渠道一行），列为：\n\n"
            "- `channel`：渠道名；`sessions`：`traffic_daily` 中该渠道访问次数之和；\n"
            "- `session_share`：该渠道访问次数 ÷ 所有渠道访问次数；\n"
            "- `new_visitor_share`：`new_visitors` 之和 ÷ `sessions` 之和；\n"
            "- `cart_rate`：`add_to_cart` 之和 ÷ `sessions` 之和（加购率）；\n"
            "- `cvr`：`traffic_daily.orders` 之和 ÷ `sessions` 之和（转化率，平台口径）；\n"
            "- `revenue_per_session`：该渠道**未取消**订单（`orders.channel`）的 "
            "`order_total_cny` 之和 ÷ 该渠道 `sessions` 之和（每次访问带来的人民币收入）。\n\n"
            "比率和金额都不必舍入；行的顺序不限。"),
        stage=STAGE, tasks=("7.1/7.5", "7.2.4"), unit=UNIT, difficulty=2, points=2,
        answer="channels", kind="frame",
        answer_cn="DataFrame：channel, sessions, session_share, new_visitor_share, cart_rate, "
                  "cvr, revenue_per_session",
        reference=_channel_efficiency,
        solution=_channel_code(_TRAFFIC, _VALID),
        hints=("先筛出 B2C 店铺的流量 `t`，再 `t.groupby('channel')[[几列]].sum()` 一次把访问、"
               "新访客、加购、订单都加总。",
               "收入在 `orders` 表里：`valid.groupby('channel').order_total_cny.sum()`，"
               "用 `.reindex(g.index, fill_value=0)` 对齐到渠道上再除以访问次数。",
               "每个比率都是“先求和再相除”；最后 `reset_index()` 让 `channel` 变成一列。"),
        mistakes=(
            Mistake("with_b2b",
                    _channel_code("t = traffic_daily\n", _VALID),
                    "你把 B2B 店铺的流量也算进去了（它有自然搜索和直接访问的流量，但没有订单）："
                    "先只保留 B2C 店铺的行。"),
            Mistake("kept_cancelled",
                    _channel_code(_TRAFFIC, "valid = orders\n"),
                    "已取消的订单没有带来收入：算 `revenue_per_session` 前先去掉 status 为 "
                    "cancelled 的订单。"),
            Mistake("cvr_per_impression",
                    _channel_code(_TRAFFIC, _VALID, cvr="g.orders / t.groupby('channel', "
                                  "observed=True).impressions.sum()"),
                    "`cvr` 的分母用错了：转化率是订单 ÷ 访问次数（sessions），不是 ÷ 曝光次数。"),
        ),
        compare=Frame(key=("channel",), columns=("sessions", "session_share",
                                                 "new_visitor_share", "cart_rate", "cvr",
                                                 "revenue_per_session"), rel=1e-6),
        tables=("traffic_daily", "orders", "stores"),
    ),
    Exercise(
        id="14.01.low_ctr_listings",
        title="曝光高、点击率低的链接",
        question=(
            "商品分析（7.2.2）：曝光不少却很少有人点进去的链接，主图、标题或价格可能有问题，"
            "应优先优化。用 `listing_stats`（链接 × 月的曝光和点击），只看 **B2C 店铺**的链接：\n\n"
            "1. 按 `listing_id` 把全年的 `impressions` 和 `clicks` 各自加总，去掉全年曝光为 0 的"
            "链接；\n"
            "2. 每个链接的点击率 = 点击之和 ÷ 曝光之和；\n"
            "3. 选出同时满足：全年曝光 **≥** 这些链接曝光的中位数（`.median()`），且点击率 **≤** "
            "这些链接点击率的 25% 分位数（`.quantile(0.25)`）的链接。\n\n"
            "把它们的 `listing_id` 存进 `low_ctr_ids`（list、set 或 Series 均可，顺序不限）。"),
        stage=STAGE, tasks=("7.2.2", "7.2.1"), unit=UNIT, difficulty=2, points=2,
        answer="low_ctr_ids", kind="set", answer_cn="一组链接编号 listing_id，顺序不限",
        reference=_low_ctr_listings,
        solution=(_B2C
                  + "b2c_listings = listings.loc[listings.store_id.isin(b2c_ids), 'listing_id']\n"
                  "ls = listing_stats[listing_stats.listing_id.isin(b2c_listings)]\n"
                  "per = ls.groupby('listing_id')[['impressions', 'clicks']].sum()\n"
                  "per = per[per.impressions > 0]\n"
                  "per['ctr'] = per.clicks / per.impressions\n"
                  "high_expo = per.impressions >= per.impressions.median()\n"
                  "low_ctr = per.ctr <= per.ctr.quantile(0.25)\n"
                  "low_ctr_ids = per.index[high_expo & low_ctr]"),
        hints=("`listing_stats` 没有店铺列：先从 `listings` 取出 B2C 店铺的 `listing_id`，再筛选。",
               "`groupby('listing_id')[['impressions', 'clicks']].sum()` 得到每个链接全年的曝光和"
               "点击；点击率要用加总后的数相除。",
               "两个条件用 `&` 连接：`(曝光 >= 曝光中位数) & (点击率 <= 点击率.quantile(0.25))`。"),
        mistakes=(
            Mistake("monthly_rows",
                    _B2C
                    + "b2c_listings = listings.loc[listings.store_id.isin(b2c_ids), 'listing_id']\n"
                    "ls = listing_stats[listing_stats.listing_id.isin(b2c_listings)\n"
                    "                   & (listing_stats.impressions > 0)].copy()\n"
                    "ls['ctr'] = ls.clicks / ls.impressions\n"
                    "keep = (ls.impressions >= ls.impressions.median()) & "
                    "(ls.ctr <= ls.ctr.quantile(0.25))\n"
                    "low_ctr_ids = ls.loc[keep, 'listing_id'].unique()",
                    "你按“链接 × 月”的行判断，没有先把每个链接全年的曝光和点击加总：题目比较的是"
                    "链接全年的表现。"),
            Mistake("high_ctr",
                    _B2C
                    + "b2c_listings = listings.loc[listings.store_id.isin(b2c_ids), 'listing_id']\n"
                    "ls = listing_stats[listing_stats.listing_id.isin(b2c_listings)]\n"
                    "per = ls.groupby('listing_id')[['impressions', 'clicks']].sum()\n"
                    "per = per[per.impressions > 0]\n"
                    "per['ctr'] = per.clicks / per.impressions\n"
                    "low_ctr_ids = per.index[(per.impressions >= per.impressions.median())\n"
                    "                        & (per.ctr >= per.ctr.quantile(0.75))]",
                    "你选出的是点击率最高的一批链接；题目要的是点击率**低**（≤ 25% 分位数）的"
                    "链接。"),
            Mistake("any_exposure",
                    _B2C
                    + "b2c_listings = listings.loc[listings.store_id.isin(b2c_ids), 'listing_id']\n"
                    "ls = listing_stats[listing_stats.listing_id.isin(b2c_listings)]\n"
                    "per = ls.groupby('listing_id')[['impressions', 'clicks']].sum()\n"
                    "per = per[per.impressions > 0]\n"
                    "per['ctr'] = per.clicks / per.impressions\n"
                    "low_ctr_ids = per.index[per.ctr <= per.ctr.quantile(0.25)]",
                    "你漏了“曝光 ≥ 中位数”这个条件：曝光很少的链接点击率不稳定，不是优先优化"
                    "对象。"),
        ),
        compare=IdSet(),
        tables=("listing_stats", "listings", "stores"),
    ),
    Exercise(
        id="14.01.weekly_kpi",
        title="按周的店铺 KPI 看板",
        question=(
            "做一张 B2C 店铺的**周报看板**（KPI dashboard 关键指标看板，7.2.1、7.1/7.4）。"
            "一周从周一开始，用该周周一的日期（字符串 `'YYYY-MM-DD'`）标记。结果存进 `weekly`"
            "（DataFrame，每周一行），列为：\n\n"
            "- `week`：周一日期；\n"
            "- `gmv_cny`、`orders`、`aov_cny`：**未取消**订单按 `created_at`（UTC 日期）所在周"
            "汇总的 `order_total_cny` 之和、订单数、客单价（AOV = GMV ÷ 订单数）；\n"
            "- `sessions`、`cvr`：B2C 店铺 `traffic_daily` 按 `date` 所在周汇总的访问次数，和"
            "转化率 = `traffic_daily.orders` 之和 ÷ `sessions` 之和。\n\n"
            "两张表都不按期间筛选（各用自己的日期列），金额和比率不必舍入。"
            "周一日期可以这样算：`d = 日期.dt.normalize()`，"
            "`(d - pd.to_timedelta(d.dt.day_of_week, unit='D')).dt.strftime('%Y-%m-%d')`；"
            "`created_at` 带时区，先 `.dt.tz_convert(None)`。"),
        stage=STAGE, tasks=("7.2.1", "7.1/7.4"), unit=UNIT, difficulty=3, points=3,
        answer="weekly", kind="frame",
        answer_cn="DataFrame：week, gmv_cny, orders, aov_cny, sessions, cvr",
        reference=_weekly_kpi,
        solution=_kpi_code(_VALID, _TRAFFIC, _CVR),
        hints=("先写一个小函数 `monday(d)` 把日期换成所在周的周一，订单表和流量表都用它分组。",
               "订单表：`valid.groupby(周).agg(gmv_cny=('order_total_cny', 'sum'), "
               "orders=('order_id', 'size'))`；流量表：`t.groupby(周)[['sessions', 'orders']]"
               ".sum()`。",
               "两张周表用 `join` 合并（索引都是周一日期），再 `reset_index()` 把周变成 "
               "`week` 列。"),
        mistakes=(
            Mistake("kept_cancelled", _kpi_code("valid = orders\n", _TRAFFIC, _CVR),
                    "GMV 和订单数里包含了已取消订单：看板的成交指标只算未取消订单。"),
            Mistake("with_b2b", _kpi_code(_VALID, "t = traffic_daily\n", _CVR),
                    "访问次数里混进了 B2B 店铺的流量：转化率只用 B2C 店铺的 traffic_daily。"),
            Mistake("cvr_from_order_table",
                    _kpi_code(_VALID, _TRAFFIC,
                              "funnel['cvr'] = sales.orders.reindex(funnel.index) / "
                              "funnel.sessions\n"),
                    "`cvr` 用了订单表的未取消订单数：平台转化率按流量报表自己的 `orders`（下单数）"
                    "计算，两张报表的口径要分开。"),
        ),
        compare=Frame(key=("week",), columns=("gmv_cny", "orders", "aov_cny", "sessions", "cvr"),
                      rel=1e-4),
        tables=("orders", "traffic_daily", "stores"),
    ),
    Exercise(
        id="14.01.cohort_retention",
        title="首单月份同期群的次月留存",
        question=(
            "同期群分析（cohort analysis 同期群分析，7.1/7.6）：把客户按**首单月份**分组，看每组"
            "有多少人下个月又回来买。只用 2025 年（UTC）下的**未取消**订单：\n\n"
            "1. 每个客户的首单月份 = 他最早一个订单的 `created_at` 月份（`.dt.to_period('M')`，"
            "`created_at` 先 `.dt.tz_convert(None)`）；\n"
            "2. 次月留存率 = 该组客户中，在首单月份的**下一个月**也下过单的人数 ÷ 该组客户数；\n"
            "3. 最后一个月的同期群没有“下一个月”，不要放进结果。\n\n"
            "结果存进 `retention`：Series，索引是首单月份的字符串（如 `'2025-01'`），值是留存率"
            "（小数，不必舍入）。"),
        stage=STAGE, tasks=("7.1/7.6",), unit=UNIT, difficulty=3, points=3,
        answer="retention", kind="series",
        answer_cn="Series：首单月份 'YYYY-MM' → 次月留存率（小数）",
        reference=_cohort_retention,
        solution=_cohort_code(_FIRST, _NEXT),
        hints=("给订单加一列月份 `month`，`v.groupby('customer_id').month.min()` 得到每个客户的"
               "首单月份，再用 `.map` 接回订单上作为 `cohort` 列。",
               "月份是 Period 类型，可以直接 `+ 1` 得到下一个月：筛出 `month == cohort + 1` "
               "的订单。",
               "分子、分母都按 `cohort` 分组数**不重复**客户（`nunique`），相除；"
               "去掉最后一个月，索引 `.astype(str)`。"),
        mistakes=(
            Mistake("any_later_month",
                    _cohort_code(_FIRST, "back = v[v.month > v.cohort]\n"),
                    "你数的是首单之后**任何一个月**又下单的客户（累计复购），题目只看首单的"
                    "下一个月。"),
            Mistake("signup_cohort",
                    _cohort_code("first = customers.set_index('customer_id').signup_at"
                                 ".dt.tz_convert(None).dt.to_period('M')\n", _NEXT),
                    "你按注册月份（`signup_at`）分组；同期群应按客户的**首单**月份分组。"),
            Mistake("orders_not_customers",
                    _cohort_code(_FIRST, _NEXT).replace(
                        "retention = (back.groupby('cohort').customer_id.nunique()",
                        "retention = (back.groupby('cohort').size()"),
                    "分子数的是订单数：一个客户次月下了两单会被算两次。请数不重复的客户"
                    "（`nunique`）。"),
        ),
        compare=SeriesOf(rel=1e-6),
        tables=("orders", "customers"),
    ),
    Exercise(
        id="14.01.anomaly_days",
        title="日订单量的异常日",
        question=(
            "监控店铺数据的变化（5.14）：用统计控制限（control limits 控制限）找出订单量异常的"
            "日子。对 2025-01-01 至 2025-12-31 的每个 UTC 日期，数当天下单的**未取消**订单数"
            "（按 `created_at` 的 UTC 日期，没有订单的日子记 0）；再算这 365 天的平均值 μ 和"
            "标准差 σ（pandas 的 `.std()`，样本标准差）。订单数落在 μ ± 3σ 之外的日子就是异常日。"
            "把这些日期存进 `anomaly_days`（字符串 `'YYYY-MM-DD'` 组成的 list / Index / Series，"
            "顺序不限）。"),
        stage=STAGE, tasks=("7.2.1", "7.1/7.4"), unit=UNIT, difficulty=3, points=3,
        answer="anomaly_days", kind="set", answer_cn="一组日期字符串 'YYYY-MM-DD'，顺序不限",
        reference=_anomaly_days,
        solution=_anomaly_code(_VALID, "3"),
        hints=("`valid.created_at.dt.strftime('%Y-%m-%d')` 得到 UTC 日期字符串，按它分组 "
               "`.size()` 得到每天的订单数。",
               "用 `pd.date_range('2025-01-01', '2025-12-31', freq='D').strftime('%Y-%m-%d')` "
               "做出全年日期，`.reindex(全年日期, fill_value=0)` 补上没有订单的日子，并去掉期间外的"
               "日子。",
               "`(daily - daily.mean()).abs() > 3 * daily.std()` 同时抓出异常高和异常低的日子。"),
        mistakes=(
            Mistake("two_sigma", _anomaly_code(_VALID, "2"),
                    "你用的是 μ ± 2σ：题目规定的控制限是 3σ。2σ 会把很多正常波动也当成异常。"),
            Mistake("gmv_not_orders",
                    _anomaly_code(_VALID, "3", value="order_total_cny.sum()"),
                    "你监控的是每天的 GMV（金额），题目监控的是每天的订单**数**：一两个大单就能让"
                    "金额异常，而订单数不变。"),
        ),
        compare=IdSet(),
        tables=("orders",),
    ),
    # 14.02 B2B 与竞争分析 --------------------------------------------------------------------
    Exercise(
        id="14.02.reply_rate",
        title="询盘 24 小时回复率",
        question=("B2B 店铺的询盘（inquiry 询盘）要及时回复。公司目标是收到询盘后 24 小时内首次回复"
                  "（`rules.INQUIRY_REPLY_SLA_HOURS`）。在 `inquiries` 表中去掉被平台判为垃圾询盘的"
                  "行（`flagged_spam` 为 True），计算 24 小时回复率 = `first_reply_at − "
                  "received_at` 不超过 24 小时的询盘数 ÷ 全部非垃圾询盘数（从未回复的询盘算作未及时"
                  "回复）。结果存进 `reply_rate`，用小数表示，不必舍入。"),
        stage=STAGE, tasks=("7.1/7.4", "7.1/7.6"), unit=UNIT, difficulty=1, points=1,
        answer="reply_rate", kind="rate", answer_cn="比率，小数（0–1），不必舍入",
        reference=_reply_rate,
        solution=("valid_inq = inquiries[~inquiries.flagged_spam]\n"
                  "wait = valid_inq.first_reply_at - valid_inq.received_at   # 未回复的是 NaT\n"
                  "in_time = wait <= pd.Timedelta(hours=24)   # NaT 比较结果为 False\n"
                  "reply_rate = in_time.mean()"),
        hints=("`~inquiries.flagged_spam` 表示“不是垃圾询盘”，先用它筛选。",
               "两个时间相减得到时长，和 `pd.Timedelta(hours=24)` 比较；未回复的询盘 "
               "`first_reply_at` 为空（NaT），比较结果是 False，正好算作未及时回复。",
               "`reply_hours` 列是四舍五入到 0.01 小时的，恰好在 24 小时边界上可能差一点：用两个"
               "时间列直接相减最稳妥。"),
        mistakes=(
            Mistake("answered_only",
                    "valid_inq = inquiries[~inquiries.flagged_spam]\n"
                    "answered = valid_inq[valid_inq.reply_hours.notna()]\n"
                    "reply_rate = (answered.reply_hours <= 24).mean()",
                    "分母只算了已回复的询盘：从没回复的询盘更是没有及时回复，必须留在分母里。"),
            Mistake("kept_spam",
                    "reply_rate = (inquiries.reply_hours <= 24).mean()",
                    "垃圾询盘（`flagged_spam`）不是真实商机，不计入回复率：先把它们去掉。"),
        ),
        compare=Rate(abs=1e-6, rel=1e-6),
        tables=("inquiries",),
    ),
    Exercise(
        id="14.02.inquiry_funnel",
        title="B2B 店铺的月度询盘漏斗",
        question=(
            "成交数据分析（7.1/7.4）要汇总店铺的**曝光 → 点击 → 询盘**。对 B2B 店铺（`stores."
            "model == 'B2B'`；如有多家，取 `store_id` 最小的一家）做月度漏斗表 `funnel`（每月一行，"
            "只含模拟期的月份），列为：\n\n"
            "- `month`：月份字符串 `'YYYY-MM'`；\n"
            "- `impressions`、`clicks`：该店铺各链接在 `listing_stats` 中当月曝光、点击之和；\n"
            "- `inquiries`：当月收到（`received_at` 的 UTC 月份）的**非垃圾**询盘数，"
            "没有询盘记 0；\n"
            "- `ctr` = clicks ÷ impressions；`inquiry_rate`（询盘转化率）= inquiries ÷ clicks。\n\n"
            "比率不必舍入；行的顺序不限。"),
        stage=STAGE, tasks=("7.1/7.4",), unit=UNIT, difficulty=2, points=2,
        answer="funnel", kind="frame",
        answer_cn="DataFrame：month, impressions, clicks, inquiries, ctr, inquiry_rate",
        reference=_inquiry_funnel,
        solution=_funnel_code(" & ~inquiries.flagged_spam", "funnel.inquiries / funnel.clicks"),
        hints=("`listing_stats` 没有店铺列：先从 `listings` 取出 B2B 店铺的 `listing_id`。",
               "曝光和点击按 `ls.month.dt.strftime('%Y-%m')` 分组求和；询盘按 "
               "`received_at.dt.strftime('%Y-%m')` 分组计数，再 `reindex(..., fill_value=0)` "
               "对齐到同样的月份。",
               "询盘转化率的分母是点击数，不是曝光数。"),
        mistakes=(
            Mistake("kept_spam", _funnel_code("", "funnel.inquiries / funnel.clicks"),
                    "询盘数里包含了垃圾询盘（`flagged_spam`）：它们不是真实需求，要先去掉。"),
            Mistake("per_impression",
                    _funnel_code(" & ~inquiries.flagged_spam",
                                 "funnel.inquiries / funnel.impressions"),
                    "`inquiry_rate` 的分母用错了：询盘转化率 = 询盘数 ÷ 点击数（点进商品页的人里"
                    "有多少发了询盘），不是 ÷ 曝光数。"),
        ),
        compare=Frame(key=("month",), columns=("impressions", "clicks", "inquiries", "ctr",
                                               "inquiry_rate"), rel=1e-6),
        tables=("listing_stats", "listings", "inquiries", "stores"),
    ),
    Exercise(
        id="14.02.keyword_rank",
        title="广告关键词的曝光与点击排行",
        question=(
            "产品能力分析（7.1/7.3）要分析关键词的表现。用广告报表 `ads_daily`，按搜索词 "
            "`keyword_id` 汇总全年的 `impressions` 和 `clicks`（所有店铺、所有广告活动合计），"
            "算出点击率 `ctr` = clicks ÷ impressions。按 `clicks` 从高到低排出**前 10 名**"
            "（点击数相同时按 `impressions` 从高到低，再相同按 `keyword_id` 从小到大），并从 "
            "`keywords` 表接上关键词文字 `keyword`。结果存进 `top_keywords`：DataFrame，10 行，"
            "列 `keyword_id`、`keyword`、`impressions`、`clicks`、`ctr`，按名次排序。"),
        stage=STAGE, tasks=("7.1/7.3", "7.2.2"), unit=UNIT, difficulty=2, points=2,
        answer="top_keywords", kind="frame",
        answer_cn="DataFrame：keyword_id, keyword, impressions, clicks, ctr；10 行，按名次",
        reference=_keyword_rank,
        solution=_kw_code(_KW_SORT),
        hints=("`ads_daily.groupby('keyword_id')[['impressions', 'clicks']].sum()` 得到每个搜索词"
               "的全年曝光和点击。",
               "多列排序：`sort_values(['clicks', 'impressions', 'keyword_id'], "
               "ascending=[False, False, True])`，再 `head(10)`。",
               "用 `merge(keywords[['keyword_id', 'keyword']], on='keyword_id')` 接上关键词文字；"
               "merge 不会打乱左表的顺序。"),
        mistakes=(
            Mistake("by_impressions",
                    _kw_code("['impressions', 'clicks', 'keyword_id'], "
                             "ascending=[False, False, True]"),
                    "你按曝光排名：曝光多不代表有人点。题目要按点击数排名。"),
            Mistake("by_ctr",
                    _kw_code("['ctr', 'keyword_id'], ascending=[False, True]"),
                    "你按点击率排名：点击率高的词可能只有几次曝光。题目要按点击数排名。"),
        ),
        compare=Frame(key=("keyword_id",), columns=("keyword", "impressions", "clicks", "ctr"),
                      ordered=True, rel=1e-6),
        tables=("ads_daily", "keywords"),
    ),
    Exercise(
        id="14.02.b2b_keywords",
        title="B2B 店铺关键词的曝光与点击排行",
        question=(
            "推广效果数据分析（7.1/7.5）和产品能力分析（7.1/7.3）要看买家用哪些词找到我们。"
            "`b2b_keyword_stats` 是 B2B 店铺后台的关键词周报：每个关键词每周的曝光"
            "（exposure / impressions 曝光）、点击（clicks 点击）、询盘（inquiries 询盘）和平均"
            "排名 `avg_rank`（1 = 第一位；当周没有曝光时为空）。对 B2B 店铺（`stores.model == "
            "'B2B'`；如有多家，取 `store_id` 最小的一家），按关键词汇总全期：\n\n"
            "- `impressions`、`clicks`、`inquiries`：各周之和；\n"
            "- `ctr`（点击率）= clicks 之和 ÷ impressions 之和；\n"
            "- `avg_rank`：**按曝光加权**的平均排名 = Σ(每周 `avg_rank` × 当周曝光) ÷ 曝光"
            "之和（没有曝光的周不计入）。\n\n"
            "按 `clicks` 从高到低取**前 10 名**（相同时按 `impressions` 从高到低，再相同按 "
            "`keyword_id` 从小到大）。结果存进 `b2b_top`：DataFrame，10 行，列 `keyword_id`、"
            "`keyword`、`impressions`、`clicks`、`inquiries`、`ctr`、`avg_rank`，按名次排序；"
            "比率和排名不必舍入。"),
        stage=STAGE, tasks=("7.1/7.5", "7.1/7.3"), unit=UNIT, difficulty=2, points=2,
        answer="b2b_top", kind="frame",
        answer_cn="DataFrame：keyword_id, keyword, impressions, clicks, inquiries, ctr, "
                  "avg_rank；10 行，按名次",
        reference=_b2b_keywords,
        solution=_b2b_kw_code(),
        hints=("先用 `b2b_keyword_stats.store_id == b2b_id` 筛出这家店铺，再按 `keyword_id`"
               "（和 `keyword`）分组求和。",
               "点击率要用**合计**相除：clicks 之和 ÷ impressions 之和；不要把每周的点击率再"
               "平均——曝光少的周会被放大。",
               "加权平均排名：先加一列 `avg_rank * impressions`（没有曝光的周是空值，"
               "`fillna(0)`），分组求和后再除以曝光之和。",
               "排序：`sort_values(['clicks', 'impressions', 'keyword_id'], "
               "ascending=[False, False, True]).head(10)`。"),
        mistakes=(
            Mistake("by_impressions",
                    _b2b_kw_code(sort="['impressions', 'clicks', 'keyword_id'], "
                                      "ascending=[False, False, True]"),
                    "你按曝光排名：曝光多不代表买家点。题目要按点击数排名。"),
            Mistake("mean_weekly_ctr", _b2b_kw_code(ctr="kw.mean_week_ctr"),
                    "`ctr` 用了每周点击率的简单平均：曝光很少的周和曝光很多的周权重一样。"
                    "点击率 = 点击之和 ÷ 曝光之和。"),
            Mistake("plain_mean_rank", _b2b_kw_code(rank="kw.mean_rank"),
                    "`avg_rank` 用了每周排名的简单平均：要按曝光加权，曝光多的周更能代表买家"
                    "实际看到的位置。"),
        ),
        compare=Frame(key=("keyword_id",), columns=("keyword", "impressions", "clicks",
                                                    "inquiries", "ctr", "avg_rank"),
                      ordered=True, rel=1e-6),
        tables=("b2b_keyword_stats", "stores"),
    ),
    Exercise(
        id="14.02.cr4",
        title="主营市场的集中度 CR4",
        question=(
            "竞店分析（7.1/7.1）先要判断市场被头部品牌占了多少。取 B2B 店铺的主营品类 "
            "`category_focus` 和市场 `market`，只看模拟期内的月份（`world.meta['start']` 起的 "
            "`world.meta['months']` 个月）。计算行业集中度 CR4（concentration ratio 集中率）= "
            "`competitor_sales` 中该品类、该市场 GMV（`gmv_usd`）最大的 4 个品牌的 GMV 之和 ÷ "
            "同期整个品类市场的 GMV（`market_demand.market_gmv_usd` 之和，含长尾卖家）。"
            "品牌按期内 GMV 合计排名。结果存进 `cr4`，小数，不必舍入。"),
        stage=STAGE, tasks=("7.1/7.1", "7.2.3"), unit=UNIT, difficulty=2, points=2,
        answer="cr4", kind="rate", answer_cn="比率，小数（0–1），不必舍入",
        reference=_cr4,
        solution=_cr4_code(_MONTHS, "md.market_gmv_usd.sum()"),
        hints=("模拟期的月份：`pd.date_range(world.meta['start'], periods=world.meta['months'], "
               "freq='MS').strftime('%Y-%m')`；`competitor_sales` 还包含期前 12 个月，要筛掉。",
               "按品牌 `groupby('brand').gmv_usd.sum()`，从大到小排序后取前 4 个相加。",
               "分母是整个市场（`market_demand`），不是这几个头部品牌的合计。"),
        mistakes=(
            Mistake("brands_only", _cr4_code(_MONTHS, "cs.gmv_usd.sum()"),
                    "分母只用了 `competitor_sales` 里的品牌合计，漏掉了长尾卖家：CR4 的分母是整个"
                    "市场的 GMV（`market_demand.market_gmv_usd`）。"),
            Mistake("all_months",
                    _cr4_code("months = competitor_sales.month.dt.strftime('%Y-%m').unique()\n",
                              "md.market_gmv_usd.sum()"),
                    "`competitor_sales` 还包含模拟期之前 12 个月的数据：只取模拟期内的月份。"),
        ),
        compare=Rate(abs=1e-6, rel=1e-6),
        tables=("stores", "competitor_sales", "market_demand"),
    ),
    Exercise(
        id="14.02.competitor_stores",
        title="竞店监控表：销量前 5 的竞争店铺",
        question=(
            "竞争分析（7.2.3）要定期看竞店的商品总数、上新和销量，竞品分析（7.1/7.2）看价格区间。"
            "在 `competitor_products` 中取与 B2B 店铺主营品类、市场相同的竞品，按竞争店铺 "
            "`competitor_store_id` 汇总：\n\n"
            "- `n_products`：商品数；`monthly_units`：`monthly_units` 之和；\n"
            "- `median_price_usd`：`price_usd` 的中位数；\n"
            "- `new_90d`：`first_listed` 在模拟期最后 90 天内（≥ 期末 − 90 天，期末 = "
            "`pd.Timestamp(world.meta['start']) + pd.DateOffset(months=world.meta['months'])`）"
            "的商品数。\n\n"
            "按 `monthly_units` 从高到低取前 5 家（相同时按 `competitor_store_id` 从小到大）。"
            "结果存进 `top_competitors`：DataFrame，列 `competitor_store_id`、`n_products`、"
            "`monthly_units`、`median_price_usd`、`new_90d`，按名次排序。"),
        stage=STAGE, tasks=("7.2.3", "7.1/7.1", "7.1/7.2"), unit=UNIT, difficulty=3, points=3,
        answer="top_competitors", kind="frame",
        answer_cn="DataFrame：competitor_store_id, n_products, monthly_units, median_price_usd, "
                  "new_90d；5 行，按名次",
        reference=_competitor_stores,
        solution=_comp_code("median", _COMP_SORT),
        hints=("先取 B2B 店铺的 `category_focus` 和 `market`，用它们筛选 `competitor_products`。",
               "`groupby('competitor_store_id').agg(新列=('原列', '汇总方式'), ...)`；上新数可以用 "
               "`('first_listed', lambda d: (d >= cutoff).sum())`。",
               "排序：`sort_values(['monthly_units', 'competitor_store_id'], "
               "ascending=[False, True]).head(5)`。"),
        mistakes=(
            Mistake("market_only",
                    _comp_code("median", _COMP_SORT,
                               "cp = competitor_products[competitor_products.market == mkt]\n"),
                    "你只按市场筛选，没有限定品类：卖别的品类的店铺不是竞店。同时按 `category` 和 "
                    "`market` 筛选。"),
            Mistake("by_products",
                    _comp_code("median", "['n_products', 'competitor_store_id'], "
                                         "ascending=[False, True]"),
                    "你按商品数排名：商品多不等于卖得多。题目要按月销量 `monthly_units` 排名。"),
        ),
        compare=Frame(key=("competitor_store_id",), columns=("n_products", "monthly_units",
                                                             "median_price_usd", "new_90d"),
                      ordered=True, rel=1e-6),
        tables=("stores", "competitor_products"),
    ),
    # 14.03 风控类分析 ----------------------------------------------------------------------
    Exercise(
        id="14.03.complaint_rate",
        title="投诉率",
        question=("风控类分析（7.2.5）要看投诉数和投诉率（complaint rate 投诉率）。投诉是 "
                  "`tickets` 表中 `is_complaint` 为 True 的工单（正式投诉或平台索赔）。计算 B2C "
                  "店铺全年的投诉率 = B2C 店铺的投诉工单数 ÷ **未取消**订单数。"
                  "结果存进 `complaint_rate`，小数，不必舍入。"),
        stage=STAGE, tasks=("7.2.5",), unit=UNIT, difficulty=1, points=1,
        answer="complaint_rate", kind="rate", answer_cn="比率，小数（0–1），不必舍入",
        reference=_complaint_rate,
        solution=(_B2C + _VALID
                  + "complaints = tickets[tickets.is_complaint & "
                  "tickets.store_id.isin(b2c_ids)]\n"
                  "complaint_rate = len(complaints) / len(valid)"),
        hints=("投诉工单：`tickets[tickets.is_complaint]`（再只保留 B2C 店铺的）。",
               "分母是未取消订单数，不是工单数。"),
        mistakes=(
            Mistake("all_tickets",
                    _B2C + _VALID
                    + "complaint_rate = tickets.store_id.isin(b2c_ids).sum() / len(valid)",
                    "你数了所有客服工单：咨询、物流查询不是投诉。只数 `is_complaint` 为 True 的。"),
            Mistake("per_ticket",
                    "complaint_rate = tickets.is_complaint.mean()",
                    "你算的是投诉工单占全部工单的比例；投诉率的分母是订单数。"),
        ),
        compare=Rate(abs=1e-6, rel=1e-6),
        tables=("tickets", "orders", "stores"),
    ),
    Exercise(
        id="14.03.return_rate",
        title="各店铺的退货退款率",
        question=("退货退款率是风控和商品质量的重要信号。对每家有已签收订单的店铺，计算 "
                  "退货退款率 = 该店铺在 `returns` 表中的退货/退款申请数（每行一个申请，不论状态）"
                  "÷ "
                  "该店铺已签收的订单数（`orders.status` 为 `'delivered'` 或 `'returned'`："
                  "退货的订单也先签收过）。结果存进 `return_rate`：Series，索引是 `store_id`，值是"
                  "比率（小数，不必舍入），没有退货的店铺记 0。"),
        stage=STAGE, tasks=("7.2.5", "7.2.2"), unit=UNIT, difficulty=2, points=2,
        answer="return_rate", kind="series", answer_cn="Series：store_id → 比率（小数）",
        reference=_return_rate_by_store,
        solution=("delivered = orders[orders.status.isin(['delivered', 'returned'])]\n"
                  "n_delivered = delivered.groupby('store_id').size()\n"
                  "n_returns = returns.groupby('store_id').size()\n"
                  "return_rate = n_returns.reindex(n_delivered.index, fill_value=0) / "
                  "n_delivered"),
        hints=("分母：`orders.status.isin(['delivered', 'returned'])` 的订单，按店铺计数。",
               "分子：`returns.groupby('store_id').size()`；用 `.reindex(分母.index, "
               "fill_value=0)` 对齐后再相除。"),
        mistakes=(
            Mistake("delivered_only",
                    "delivered = orders[orders.status == 'delivered']\n"
                    "n_delivered = delivered.groupby('store_id').size()\n"
                    "n_returns = returns.groupby('store_id').size()\n"
                    "return_rate = n_returns.reindex(n_delivered.index, fill_value=0) / "
                    "n_delivered",
                    "分母漏了状态为 `returned` 的订单：它们先签收、后退货，也是已签收订单。"),
            Mistake("all_orders",
                    "n_orders = orders.groupby('store_id').size()\n"
                    "n_returns = returns.groupby('store_id').size()\n"
                    "return_rate = n_returns.reindex(n_orders.index, fill_value=0) / n_orders",
                    "分母用了全部订单（含取消、未发货的订单）：没签收的订单不可能退货，分母只算"
                    "已签收的订单。"),
        ),
        compare=SeriesOf(rel=1e-6),
        tables=("orders", "returns"),
    ),
    Exercise(
        id="14.03.negative_chart",
        title="每月差评率折线图",
        question=(
            "画一张折线图，展示模拟期每个月的**差评率**（negative-review rate 差评率）= 当月"
            "发表的评价中 1–2 星（`rating <= 2`）的条数 ÷ 当月评价条数。月份按 `reviews.created_at`"
            " 的 UTC 月份（`'YYYY-MM'`），只画模拟期内的 `world.meta['months']` 个月，按时间顺序；"
            "若某月没有评价，该点为空值（NaN）。图要有标题、横轴标签和纵轴标签（写单位）。"
            "可以再画一条水平虚线表示你关注的阈值，但差评率必须是**第一条**线。"
            "把 Axes 存进 `chart`。"),
        stage=STAGE, tasks=("7.2.5",), unit=UNIT, difficulty=2, points=2,
        answer="chart", kind="chart", answer_cn="matplotlib 的 Axes（折线图）",
        reference=_negative_rate_by_month,
        solution=(
            "import matplotlib.pyplot as plt\n"
            "from graders.plotting import use_cjk_font\n"
            "use_cjk_font()\n"
            "\n"
            + _MONTHS
            + "month = reviews.created_at.dt.strftime('%Y-%m')\n"
            "neg_rate = (reviews.rating <= 2).groupby(month).mean().reindex(months)\n"
            "\n"
            "fig, ax = plt.subplots(figsize=(8, 4))\n"
            "ax.plot(neg_rate.index, neg_rate.values, marker='o', label='差评率')\n"
            "ax.axhline(0.10, color='red', linestyle='--', label='关注线 10%')\n"
            "ax.set_title('每月差评率（1–2 星评价占比）')\n"
            "ax.set_xlabel('评价月份（UTC）')\n"
            "ax.set_ylabel('差评率（占比）')\n"
            "ax.tick_params(axis='x', rotation=45)\n"
            "ax.legend()\n"
            "chart = ax"),
        hints=("`(reviews.rating <= 2)` 是一列 True/False，按月份分组后 `.mean()` 就是差评率。",
               "用模拟期的月份列表 `.reindex(months)`：既去掉期外的月份，也让没有评价的月份变成"
               " NaN。",
               "`fig, ax = plt.subplots()`，`ax.plot(月份, 差评率)`，再加标题和两个轴标签，"
               "`chart = ax`。"),
        mistakes=(
            Mistake("three_stars",
                    "import matplotlib.pyplot as plt\n" + _MONTHS
                    + "month = reviews.created_at.dt.strftime('%Y-%m')\n"
                    "neg_rate = (reviews.rating <= 3).groupby(month).mean().reindex(months)\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.plot(neg_rate.index, neg_rate.values)\n"
                    "ax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
                    "plt.close(fig)\n"
                    "chart = ax",
                    "3 星是中评：差评只算 1–2 星（`rating <= 2`）。"),
            Mistake("count_not_rate",
                    "import matplotlib.pyplot as plt\n" + _MONTHS
                    + "month = reviews.created_at.dt.strftime('%Y-%m')\n"
                    "neg = (reviews.rating <= 2).groupby(month).sum().reindex(months)\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.plot(neg.index, neg.values)\n"
                    "ax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
                    "plt.close(fig)\n"
                    "chart = ax",
                    "你画的是差评条数：评价多的月份差评也多。差评率还要除以当月评价总数（用 "
                    "`.mean()`）。"),
        ),
        compare=Chart(kind="line"),
        tables=("reviews",),
    ),
    Exercise(
        id="14.03.account_health",
        title="近 30 天账户健康：迟发率与订单缺陷率",
        question=(
            "平台按账户健康指标（account health 账户健康）考核店铺。以模拟期末 `end = "
            "pd.Timestamp(world.meta['start'], tz='UTC') + pd.DateOffset(months=world.meta["
            "'months'])` 为准，看最近 30 天 `[end − 30 天, end)`，对每家 **B2C** 店铺计算：\n\n"
            "- `late_shipment_rate`（迟发率）：窗口内发货（`shipments.shipped_at`）的包裹中，"
            "`is_late_shipment` 为 True 的占比；\n"
            "- `order_defect_rate`（订单缺陷率 ODR）：窗口内下单（`orders.created_at`，含已取消）"
            "的订单中，有 1–2 星评价（`reviews.rating <= 2`）**或**有投诉工单（`tickets."
            "is_complaint`）的订单占比；\n"
            "- `at_risk`：迟发率 > 所在平台的 `late_shipment_rate_max`，**或**缺陷率 > "
            "`order_defect_rate_max`（`platforms` 表）时为 True。\n\n"
            "结果存进 `health`：DataFrame，列 `store_id`、`late_shipment_rate`、"
            "`order_defect_rate`、`at_risk`，每家在窗口内有发货或订单的 B2C 店铺一行，顺序不限；"
            "某项指标没有分母时为 NaN。"),
        stage=STAGE, tasks=("7.2.5", "7.2.1"), unit=UNIT, difficulty=3, points=3,
        answer="health", kind="frame",
        answer_cn="DataFrame：store_id, late_shipment_rate, order_defect_rate, at_risk",
        reference=_health_30d,
        solution=_health_code(_WIN30, _LSR),
        hints=("先算窗口起点 `start = end - pd.Timedelta(days=30)`，两张表各按自己的时间列筛选："
               "发货看 `shipped_at`，下单看 `created_at`。",
               "缺陷订单的编号 = 差评的 `order_id` 与投诉工单的 `order_id` 的并集（`set(...) | "
               "set(...)`，先 `dropna()`）；`o.order_id.isin(并集).groupby(o.store_id).mean()` "
               "就是缺陷率。",
               "平台阈值在 `platforms` 表：先用 `stores` 的 `platform_id` 把阈值接到每家店铺上，"
               "再逐项比较，用 `|`（或者）连接。"),
        mistakes=(
            Mistake("whole_year",
                    _health_code("start = end - pd.DateOffset(months=world.meta['months'])\n",
                                 _LSR),
                    "你用了全年数据：账户健康看的是最近一段时间（这里是 30 天）的表现，旧问题不再"
                    "计入。"),
            Mistake("late_per_order",
                    _health_code(_WIN30, "lsr = late / o_all.groupby('store_id').size()\n")
                    .replace("sh = shipments", "o_all = orders[(orders.created_at >= start) & "
                             "(orders.created_at < end)]\nsh = shipments"),
                    "迟发率的分母用了订单数：它的分母是窗口内**发货**的包裹数（`shipments`）。"),
        ),
        compare=Frame(key=("store_id",), columns=("late_shipment_rate", "order_defect_rate",
                                                  "at_risk"), rel=1e-6),
        tables=("orders", "shipments", "reviews", "tickets", "stores", "platforms"),
    ),
    Exercise(
        id="14.03.chargeback_ratio",
        title="拒付率与卡组织监控线",
        question=(
            "持卡人可以向发卡行对一笔信用卡付款提出争议，钱会被退回持卡人，这就是拒付"
            "（chargeback 拒付）。卡组织按月监控商户的拒付率（chargeback ratio 拒付率）= "
            "当月收到的拒付数 ÷ 当月的信用卡交易数；本课规则（`cbec_sim.rules`）：拒付率 ≥ "
            "`rules.CHARGEBACK_RATIO_MAX`（0.9%）**并且**当月拒付数 ≥ "
            "`rules.CHARGEBACK_COUNT_MIN`（3 笔）时，店铺进入监控。\n\n"
            "对每家 **B2C** 店铺、模拟期内的每个月计算：\n\n"
            "- `card_orders`：当月信用卡订单数，即 `orders` 中 `payment_method == "
            "'credit_card'`、已付款（`paid_at` 不为空）、未取消的订单，按 `paid_at` 所在月份；\n"
            "- `chargebacks`：当月收到的拒付数，`chargebacks` 表按 `opened_at` 所在月份（不论"
            "状态）；没有记 0；\n"
            "- `chargeback_ratio` = chargebacks ÷ card_orders；`monitored`：是否进入监控。\n\n"
            "月份一律按**店铺所在市场的当地时间**：用 `markets` 表的时区 `tz` 把 UTC 时间转换"
            "过去（`ts.dt.tz_convert(tz)`），再取 `'YYYY-MM'`。只列出模拟期内"
            "（`world.meta['start']` 起 `world.meta['months']` 个月）、当月有信用卡订单的店铺-"
            "月份。结果存进 `cb_monthly`：DataFrame，列 `store_id`、`month`、`card_orders`、"
            "`chargebacks`、`chargeback_ratio`、`monitored`，行的顺序不限；比率不必舍入。"),
        stage=STAGE, tasks=("7.2.5", "7.2.1"), unit=UNIT, difficulty=3, points=3,
        answer="cb_monthly", kind="frame",
        answer_cn="DataFrame：store_id, month, card_orders, chargebacks, chargeback_ratio, "
                  "monitored",
        reference=_chargeback_monthly,
        solution=_cb_code(),
        hints=("先做一张店铺 → 时区的对照：`stores.merge(markets[['market', 'tz']], "
               "on='market')`。`tz_convert` 一次只能转一个时区，按时区分组转换（时区只有几个）。",
               "分母只数信用卡付款：PayPal、钱包、货到付款的订单不会产生信用卡拒付。",
               "拒付按收到拒付的月份（`opened_at`）计，不是原订单付款的月份：卡组织看的是"
               "“这个月收到了多少拒付”。",
               "两个条件要同时满足（`&`）：小店铺一笔拒付就可能让比率超过 0.9%，所以规则还要求"
               "至少 3 笔。"),
        mistakes=(
            Mistake("all_payments", _cb_code(card_filter=""),
                    "`card_orders` 数了所有付款方式的订单：拒付只发生在信用卡付款上，分母只算"
                    "信用卡订单（`payment_method == 'credit_card'`）。"),
            Mistake("payment_month",
                    _cb_code(cb_prep="cb = chargebacks.merge(orders[['order_id', 'paid_at']], "
                                     "on='order_id')\n", cb_time="cb.paid_at"),
                    "你把拒付算在原订单付款的月份：卡组织按**收到拒付**的月份（`opened_at`）"
                    "统计。"),
            Mistake("ratio_only",
                    _cb_code(monitored="g.chargeback_ratio >= rules.CHARGEBACK_RATIO_MAX"),
                    "`monitored` 只看了比率：规则还要求当月拒付数至少 "
                    "`rules.CHARGEBACK_COUNT_MIN` 笔，两个条件用 `&` 同时满足。"),
        ),
        compare=Frame(key=("store_id", "month"), columns=("card_orders", "chargebacks",
                                                          "chargeback_ratio", "monitored"),
                      rel=1e-6),
        tables=("orders", "chargebacks", "stores", "markets"),
    ),
    Exercise(
        id="14.03.suspicious_orders",
        title="按规则筛出可疑订单",
        question=(
            "风控规则（本课的教学规则，参照常见的支付风控做法）：一个订单满足下列**任意一条**就"
            "标为可疑，需要人工复核后再发货：\n\n"
            "1. IP 国家 `ip_country` ≠ 账单国家 `billing_country`，**并且**账单国家 ≠ 收货市场 "
            "`market`（第三国的卡）；\n"
            "2. 支付尝试次数 `payment_attempts` ≥ 3；\n"
            "3. 新账户大额单：下单时间 `created_at` 距客户注册时间 `customers.signup_at` 不到 "
            "24 小时，**并且** `order_total_cny` ≥ 全部订单 `order_total_cny` 的 90% 分位数"
            "（`.quantile(0.9)`）。\n\n"
            "检查全部订单（含已取消），把可疑订单的 `order_id` 存进 `suspicious_ids`"
            "（list、set 或 Series 均可，顺序不限）。"),
        stage=STAGE, tasks=("7.2.5",), unit=UNIT, difficulty=3, points=3,
        answer="suspicious_ids", kind="set", answer_cn="一组订单编号 order_id，顺序不限",
        reference=_suspicious,
        solution=_susp_code("r1 | r2 | r3", _R3),
        hints=("注册时间在 `customers` 表：先 `orders.merge(customers[['customer_id', "
               "'signup_at']], on='customer_id')`。",
               "每条规则写成一列 True/False（`r1`、`r2`、`r3`）；国家列是 category 类型，比较前"
               "先 `.astype(str)`。",
               "“任意一条”用 `|`（或者）连接：`r1 | r2 | r3`。"),
        mistakes=(
            Mistake("mismatch_only",
                    "suspicious_ids = orders.loc[orders.ip_country.astype(str)\n"
                    "                            != orders.billing_country.astype(str), "
                    "'order_id']",
                    "你只用了“IP 国家 ≠ 账单国家”：出差、旅行的买家常常这样。规则 1 还要求账单国家"
                    "也不是收货市场，而且还有规则 2 和 3。"),
            Mistake("new_account_any_value",
                    _susp_code("r1 | r2 | r3", "r3 = new_account\n"),
                    "规则 3 漏了金额条件：新账户只有在下**大额**单（≥ 90% 分位数）时才可疑。"),
            Mistake("all_rules",
                    _susp_code("r1 & r2 & r3", _R3),
                    "“满足任意一条”要用 `|`（或者），你用了 `&`（同时满足），几乎筛不出订单。"),
        ),
        compare=IdSet(),
        tables=("orders", "customers"),
    ),
)
