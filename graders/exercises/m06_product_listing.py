"""06-product-listing (选品与产品呈现): product selection and development, product presentation.

Stage 5.6 选品和产品开发 of T/CCPITCSC 111-2022: plan the new-product launch plan (上新计划) per
category and select or develop products accordingly. Table 1 tasks 1.1.8 制定产品研发与改型策略
and 1.1.9 选品分析 (collect keywords, estimate market capacity, analyse prospects and
competition, validate the market).

Stage 5.7 产品呈现: plan new listings, organise keywords, titles, pictures and videos, manage the
store's products. Table 1 tasks 3.1.1–3.1.4 (competitor, supplier, copy and visual preparation),
3.2.1 / 3.2.2 (publish customised and RTS products: price positioning, logistics template),
3.3.1–3.3.4 (product groups, showcase, zero-effect products, diagnosis), 4.1.1 商品发布 (complete
listing information: pictures, title, attributes, video, price, detail page) and 4.1.2 商品优化.

Notebooks: 06.01 Product selection (B2B RFQ demand, keyword opportunity, market capacity,
ABC analysis, landed-cost margin screen, new-SKU plan) and 06.02 Listing presentation (product
groups, listing completeness, title check, zero-effect products, CTR by image count, B2B
showcase, RTS price with a logistics template).

The standard gives no numbers for these tasks. Every threshold below (conversion rate, margin
floor, title length, image and bullet minimums, zero-effect window, showcase slots, markup) is a
**teaching parameter** of this course, stated as such in the notebooks. Formulas: freight and
chargeable weight from :mod:`cbec_sim.rules` (rate card 首重 + 续重 + handling); market capacity =
searches × conversion rate × average price and ABC at 80 % / 95 % of revenue are well-known
published practice; the largest-remainder method (Hamilton) for the integer new-SKU plan.
Every ``reference`` computes the expected answer its own way (loops and dicts), independently of
the solution text shown to trainees.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd

from cbec_sim import rules
from graders.compare import Chart, Frame, IdSet, SeriesOf
from graders.exercise import Exercise, Mistake
from graders.exercises._helpers import variant as _variant

MODULE = "06-product-listing"

SELECTION, LISTING = "5.6", "5.7"
UNIT_SELECTION, UNIT_LISTING = "product_selection", "listing"

# --- teaching parameters (the standard gives no numbers) ----------------------------------------
TOP_N_KEYWORDS = 10
ASSUMED_CVR = 0.02  # search → purchase conversion used to size a market (teaching value)
ABC_A, ABC_B = 0.80, 0.95  # Pareto cut-offs of cumulative revenue share
MARGIN_FLOOR = 0.20  # minimum unit margin on the selling price
NEW_SKUS = 20  # new SKUs to launch next quarter
TITLE_MAX_CHARS = 60  # course rule: the part of a title shown in mobile search results
MIN_IMAGES, MIN_BULLETS = 5, 5
ZERO_EFFECT_MONTHS, MIN_AGE_DAYS = 3, 90
SHOWCASE_SLOTS, SHOWCASE_MIN_IMPRESSIONS = 5, 3000
RTS_MARKUP = 0.30


def _store_market(w, store_id: str = "S001") -> str:
    for s, m in zip(w.stores.store_id, w.stores.market.astype(str), strict=True):
        if s == store_id:
            return m
    raise ValueError(f"store {store_id} not in stores")


def _b2b_store(w) -> str:
    return next(s for s, m in zip(w.stores.store_id, w.stores.model.astype(str), strict=True)
                if m == "B2B")


def _fx_last(w) -> dict[str, float]:
    """CNY per unit of each currency on the last day of fx_rates."""
    last = w.fx_rates.date.max()
    f = w.fx_rates[w.fx_rates.date == last]
    out = dict(zip(f.currency.astype(str), f.cny_per_unit.astype(float), strict=True))
    out.setdefault("CNY", 1.0)
    return out


def _template_freight(w, market: str, weight, length, width, height) -> tuple[float, float]:
    """Chargeable kg and freight (CNY) of one parcel by the market's dedicated line (专线)."""
    for c in w.carriers.itertuples():
        if str(c.service_type) == "dedicated_line" and market in str(c.markets).split("|"):
            vol = length * width * height / c.volumetric_divisor
            step = c.weight_step_kg
            cw = max(weight, vol)
            cw = math.ceil(round(cw / step, 9)) * step
            extra_g = max(round((cw - c.first_weight_kg) * 1000), 0)
            fee = c.first_weight_fee_cny + extra_g * c.additional_per_kg_cny / 1000 \
                + c.handling_fee_cny
            return cw, float(rules.round_cents([fee])[0])
    raise ValueError(f"no dedicated line serves {market}")


# --- references: 06.01 ---------------------------------------------------------------------------

def _rfq_demand(w) -> pd.Series:
    n = defaultdict(int)
    for pt in w.rfqs.product_type.astype(str):
        n[pt] += 1
    return pd.Series(dict(sorted(n.items())), dtype=float)


def _keyword_opportunity(w) -> list[str]:
    m = _store_market(w)
    k = w.keywords
    rows = [(float(v) * (1 - float(c)), kid) for kid, mk, tr, v, c in
            zip(k.keyword_id, k.market.astype(str), k.trend.astype(str), k.search_volume,
                k.competition, strict=True) if mk == m and tr == "rising"]
    rows.sort(key=lambda r: (-r[0], r[1]))
    return [kid for _, kid in rows[:TOP_N_KEYWORDS]]


def _market_capacity(w) -> pd.DataFrame:
    m = _store_market(w)
    head = {}
    k = w.keywords
    for mk, pt, kt, v in zip(k.market.astype(str), k.product_type.astype(str),
                             k.keyword_type.astype(str), k.search_volume, strict=True):
        if mk == m and kt == "head":
            head[pt] = int(v)
    prices: dict[str, list[float]] = defaultdict(list)
    cp = w.competitor_products
    for mk, pt, p in zip(cp.market.astype(str), cp.product_type.astype(str), cp.price_usd,
                         strict=True):
        if mk == m:
            prices[pt].append(float(p))
    rows = []
    for pt in sorted(set(head) & set(prices)):
        n, avg = len(prices[pt]), sum(prices[pt]) / len(prices[pt])
        rows.append((pt, head[pt], n, avg, head[pt] * ASSUMED_CVR * avg, head[pt] / n))
    return pd.DataFrame(rows, columns=["product_type", "search_volume", "n_competitor_listings",
                                       "avg_price_usd", "capacity_usd", "searches_per_listing"])


def _revenue_cny(w) -> dict[str, float]:
    fx, ok = {}, set()
    for oid, st, r in zip(w.orders.order_id, w.orders.status.astype(str), w.orders.fx_rate_cny,
                          strict=True):
        fx[oid] = float(r)
        if st != "cancelled":
            ok.add(oid)
    rev = defaultdict(float)
    ol = w.order_lines
    for oid, pid, amt in zip(ol.order_id, ol.product_id, ol.line_amount, strict=True):
        if oid in ok:
            rev[str(pid)] += float(amt) * fx[oid]
    return rev


def _abc_a(w) -> list[str]:
    rev = _revenue_cny(w)
    total = sum(rev.values())
    order = sorted(rev, key=lambda p: (-rev[p], p))
    out, cum = [], 0.0
    for p in order:
        if cum / total < ABC_A:  # the product that crosses 80 % is still class A
            out.append(p)
        cum += rev[p]
    return out


def _landed_margin_ok(w) -> list[str]:
    fx = _fx_last(w)
    model = dict(zip(w.stores.store_id, w.stores.model.astype(str), strict=True))
    market = dict(zip(w.stores.store_id, w.stores.market.astype(str), strict=True))
    platform = dict(zip(w.stores.store_id, w.stores.platform_id, strict=True))
    fee = {(p, str(c)): float(r) for p, c, r in zip(w.platform_fees.platform_id,
                                                      w.platform_fees.category,
                                                      w.platform_fees.referral_fee_pct,
                                                      strict=True)}
    prod = {r.product_id: r for r in w.products.itertuples()}
    out = []
    for r in w.listings.itertuples():
        if model[r.store_id] != "B2C" or str(r.status) != "active":
            continue
        p = prod[r.product_id]
        price_cny = float(r.price) * fx[str(r.currency)]
        _, freight = _template_freight(w, market[r.store_id], p.weight_kg, p.length_cm,
                                       p.width_cm, p.height_cm)
        f = price_cny * fee[(platform[r.store_id], str(p.category))]
        margin = price_cny - float(p.unit_cost_cny) - freight - f
        if margin / price_cny >= MARGIN_FLOOR:
            out.append(r.listing_id)
    return out


def _launch_plan(w) -> pd.Series:
    cats = sorted({str(c) for c in w.products.category})
    markets = {m for m, mo in zip(w.stores.market.astype(str), w.stores.model.astype(str),
                                  strict=True) if mo == "B2C"}
    md = w.market_demand
    last = md.month.max()
    start = last - pd.DateOffset(months=11)
    vol = defaultdict(float)
    for mo, c, mk, v in zip(md.month, md.category.astype(str), md.market.astype(str),
                            md.search_volume, strict=True):
        if mk in markets and c in cats and mo >= start:
            vol[c] += float(v)
    rest = NEW_SKUS - len(cats)
    total = sum(vol[c] for c in cats)
    quota = {c: rest * vol[c] / total for c in cats}
    alloc = {c: 1 + math.floor(quota[c]) for c in cats}
    left = NEW_SKUS - sum(alloc.values())
    for c in sorted(cats, key=lambda c: (-(quota[c] - math.floor(quota[c])), c))[:left]:
        alloc[c] += 1
    return pd.Series(alloc, dtype=float)


# --- references: 06.02 ---------------------------------------------------------------------------

def _product_groups(w) -> pd.Series:
    b2b = _b2b_store(w)
    cat = dict(zip(w.products.product_id, w.products.category.astype(str), strict=True))
    n = defaultdict(int)
    for s, pid, st in zip(w.listings.store_id, w.listings.product_id,
                          w.listings.status.astype(str), strict=True):
        if s == b2b and st == "active":
            n[cat[pid]] += 1
    return pd.Series(dict(sorted(n.items())), dtype=float)


def _completeness(w) -> pd.Series:
    out = {}
    for r in w.listings.itertuples():
        if str(r.status) != "active":
            continue
        ok = [r.image_count >= MIN_IMAGES and bool(r.main_image_white_bg),  # pictures
              r.title_length <= TITLE_MAX_CHARS,  # title
              r.bullet_count >= MIN_BULLETS,  # attributes / bullet points
              bool(r.has_video),  # video
              float(r.price) > 0,  # price
              bool(r.has_a_plus)]  # detail page
        out[r.listing_id] = sum(ok) / 6
    return pd.Series(out, dtype=float)


def _head_keyword(w) -> dict[tuple[str, str], str]:
    """The core (head) keyword of each market × product type (one per pair)."""
    k = w.keywords
    return {(mk, pt): str(kw) for kw, mk, pt, kt in
            zip(k.keyword, k.market.astype(str), k.product_type.astype(str),
                k.keyword_type.astype(str), strict=True) if kt == "head"}


def _title_issues(w) -> list[str]:
    top = _head_keyword(w)
    market = dict(zip(w.stores.store_id, w.stores.market.astype(str), strict=True))
    ptype = dict(zip(w.products.product_id, w.products.product_type.astype(str), strict=True))
    out = []
    for r in w.listings.itertuples():
        if str(r.status) != "active":
            continue
        kw = top.get((market[r.store_id], ptype[r.product_id]))
        missing = kw is not None and kw.lower() not in str(r.title).lower()
        if missing or len(str(r.title)) > TITLE_MAX_CHARS:
            out.append(r.listing_id)
    return out


def _period_end(w) -> pd.Timestamp:
    return pd.Timestamp(w.listing_stats.month.max()) + pd.offsets.MonthEnd(0)


def _zero_effect(w) -> list[str]:
    end = _period_end(w)
    first = pd.Timestamp(w.listing_stats.month.max()) - pd.DateOffset(months=ZERO_EFFECT_MONTHS - 1)
    b2b = _b2b_store(w)
    orders = defaultdict(int)
    s = w.listing_stats
    for lid, mo, o in zip(s.listing_id, s.month, s.orders, strict=True):
        if mo >= first:
            orders[lid] += int(o)
    inq = defaultdict(int)
    i = w.inquiries
    for lid, t, spam in zip(i.listing_id, i.received_at, i.flagged_spam, strict=True):
        if not bool(spam) and pd.Timestamp(t).tz_convert(None) >= first:
            inq[lid] += 1
    out = []
    for r in w.listings.itertuples():
        if str(r.status) != "active" or (end - pd.Timestamp(r.listed_date)).days < MIN_AGE_DAYS:
            continue
        effect = inq[r.listing_id] if r.store_id == b2b else orders[r.listing_id]
        if effect == 0:
            out.append(r.listing_id)
    return out


def _ctr_by_images(w) -> pd.Series:
    b2c = {s for s, m in zip(w.stores.store_id, w.stores.model.astype(str), strict=True)
           if m == "B2C"}
    nimg = {lid: int(n) for lid, s, n in zip(w.listings.listing_id, w.listings.store_id,
                                             w.listings.image_count, strict=True) if s in b2c}
    imp, clk = defaultdict(int), defaultdict(int)
    s = w.listing_stats
    for lid, i, c in zip(s.listing_id, s.impressions, s.clicks, strict=True):
        if lid in nimg:
            imp[nimg[lid]] += int(i)
            clk[nimg[lid]] += int(c)
    keys = sorted(k for k in imp if imp[k] > 0)
    return pd.Series([clk[k] / imp[k] for k in keys], index=keys, dtype=float)


def _showcase(w) -> list[str]:
    b2b = _b2b_store(w)
    mine = {lid for lid, s, st in zip(w.listings.listing_id, w.listings.store_id,
                                      w.listings.status.astype(str), strict=True)
            if s == b2b and st == "active"}
    imp = defaultdict(int)
    for lid, i in zip(w.listing_stats.listing_id, w.listing_stats.impressions, strict=True):
        if lid in mine:
            imp[lid] += int(i)
    inq = defaultdict(int)
    for lid, spam in zip(w.inquiries.listing_id, w.inquiries.flagged_spam, strict=True):
        if lid in mine and not bool(spam):
            inq[lid] += 1
    cand = [(inq[lid] / imp[lid], lid) for lid in mine if imp[lid] >= SHOWCASE_MIN_IMPRESSIONS]
    cand.sort(key=lambda r: (-r[0], r[1]))
    return [lid for _, lid in cand[:SHOWCASE_SLOTS]]


def _rts_price(w) -> pd.DataFrame:
    b2b = _b2b_store(w)
    m = _store_market(w, b2b)
    usd = _fx_last(w)["USD"]
    platform = dict(zip(w.stores.store_id, w.stores.platform_id, strict=True))[b2b]
    fee = {str(c): float(r) for p, c, r in zip(w.platform_fees.platform_id,
                                                w.platform_fees.category,
                                                w.platform_fees.referral_fee_pct, strict=True)
           if p == platform}
    prod = {r.product_id: r for r in w.products.itertuples()}
    rows = []
    for r in w.listings.itertuples():
        if r.store_id != b2b or str(r.status) != "active":
            continue
        p = prod[r.product_id]
        cw, freight = _template_freight(w, m, p.weight_kg, p.length_cm, p.width_cm, p.height_cm)
        price = (float(p.unit_cost_cny) + freight) * (1 + RTS_MARKUP) \
            / (1 - fee[str(p.category)]) / usd
        rows.append((r.listing_id, cw, freight, float(rules.round_cents([price])[0])))
    return pd.DataFrame(rows, columns=["listing_id", "chargeable_kg", "freight_cny",
                                       "rts_price_usd"])


# --- solutions shared by mistakes ------------------------------------------------------------


_KEYWORD_SOLUTION = """\
market = stores.set_index('store_id').market['S001']
kw = keywords[(keywords.market == market) & (keywords.trend == 'rising')].copy()
kw['score'] = kw.search_volume * (1 - kw.competition)
top = kw.sort_values(['score', 'keyword_id'], ascending=[False, True]).head(10)
opportunity_ids = top.keyword_id.tolist()"""

_CAPACITY_SOLUTION = """\
CVR = 0.02                                              # 课程假设的搜索→购买转化率
market = stores.set_index('store_id').market['S001']
head = keywords[(keywords.market == market) & (keywords.keyword_type == 'head')]
vol = head.groupby('product_type', observed=True).search_volume.sum()
cp = competitor_products[competitor_products.market == market]
comp = cp.groupby('product_type', observed=True).agg(
    n_competitor_listings=('competitor_product_id', 'count'),
    avg_price_usd=('price_usd', 'mean'))
cap = comp.join(vol, how='inner').reset_index()
cap['capacity_usd'] = cap.search_volume * CVR * cap.avg_price_usd
cap['searches_per_listing'] = cap.search_volume / cap.n_competitor_listings
capacity = cap"""

_ABC_SOLUTION = """\
ok = orders[orders.status != 'cancelled'][['order_id', 'fx_rate_cny']]
lines = order_lines.merge(ok, on='order_id')               # 去掉已取消订单
lines['amount_cny'] = lines.line_amount * lines.fx_rate_cny
rev = lines.groupby('product_id').amount_cny.sum()
rev = rev.sort_index().sort_values(ascending=False, kind='stable')
share_before = rev.cumsum().shift(fill_value=0) / rev.sum()  # 加上本商品之前的累计占比
a_products = rev.index[share_before < 0.80].tolist()"""

_MARGIN_SOLUTION = """\
from cbec_sim import rules

FLOOR = 0.20
last = fx_rates.date.max()
fx = fx_rates[fx_rates.date == last].set_index('currency').cny_per_unit
cand = listings[listings.status == 'active'].merge(
    stores[['store_id', 'platform_id', 'market', 'model']], on='store_id')
cand = cand[cand.model == 'B2C'].merge(products, on='product_id')
cand = cand.merge(platform_fees[['platform_id', 'category', 'referral_fee_pct']],
                  on=['platform_id', 'category'])
# 物流模板：每个市场的专线（dedicated_line）
dl = carriers[carriers.service_type == 'dedicated_line'].assign(
    market=lambda d: d.markets.str.split('|')).explode('market')
cand = cand.merge(dl, on='market')
vol = cand.length_cm * cand.width_cm * cand.height_cm / cand.volumetric_divisor  # 体积重
cw = [rules.chargeable_weight_kg(a, v, step)                                     # 每行的计费重
      for a, v, step in zip(cand.weight_kg, vol, cand.weight_step_kg)]
cand['freight_cny'] = rules.shipping_cost_cny(cw, cand.first_weight_kg,
                                              cand.first_weight_fee_cny,
                                              cand.additional_per_kg_cny, cand.handling_fee_cny)
cand['price_cny'] = cand.price * cand.currency.astype(str).map(fx).astype(float)
cand['fee_cny'] = cand.price_cny * cand.referral_fee_pct
cand['margin_cny'] = cand.price_cny - cand.unit_cost_cny - cand.freight_cny - cand.fee_cny
cand['margin_pct'] = cand.margin_cny / cand.price_cny
margin_ok = cand.loc[cand.margin_pct >= FLOOR, 'listing_id'].tolist()"""

_PLAN_SOLUTION = """\
N = 20
cats = sorted(products.category.astype(str).unique())
mkts = stores.loc[stores.model == 'B2C', 'market'].astype(str).unique()
md = market_demand[market_demand.market.astype(str).isin(mkts)
                   & (market_demand.month > market_demand.month.max() - pd.DateOffset(months=12))]
vol = md.groupby(md.category.astype(str)).search_volume.sum().reindex(cats)
quota = (N - len(cats)) * vol / vol.sum()                  # 先每类保底 1 个，剩下的按需求分
plan = 1 + np.floor(quota)
left = int(N - plan.sum())
order = (quota - np.floor(quota)).sort_index().sort_values(ascending=False, kind='stable')
plan[order.index[:left]] += 1                               # 最大余数法
launch_plan = plan.astype(int)"""

_COMPLETENESS_SOLUTION = """\
a = listings[listings.status == 'active'].set_index('listing_id')
elements = pd.DataFrame({
    'pictures': (a.image_count >= 5) & a.main_image_white_bg,
    'title': a.title_length <= 60,
    'attributes': a.bullet_count >= 5,
    'video': a.has_video,
    'price': a.price > 0,
    'detail_page': a.has_a_plus,
})
completeness = elements.mean(axis=1)"""

_TITLE_SOLUTION = """\
head = keywords[keywords.keyword_type == 'head']            # 每个市场、每个类型一个核心词
top = head[['market', 'product_type', 'keyword']].astype({'market': str, 'product_type': str})
a = listings[listings.status == 'active'].merge(stores[['store_id', 'market']], on='store_id')
a = a.merge(products[['product_id', 'product_type']], on='product_id')
a = a.astype({'market': str, 'product_type': str}).merge(top, on=['market', 'product_type'],
                                                         how='left')
# k != k 表示这一行没有核心词（NaN），不算缺
has_kw = [k != k or k.lower() in t.lower() for k, t in zip(a.keyword, a.title)]
too_long = a.title.str.len() > 60
title_issues = a.loc[~pd.Series(has_kw, index=a.index) | too_long, 'listing_id'].tolist()"""

_ZERO_SOLUTION = """\
last_month = listing_stats.month.max()
first = last_month - pd.DateOffset(months=2)               # 最近 3 个月
end = last_month + pd.offsets.MonthEnd(0)
recent = listing_stats[listing_stats.month >= first]
orders_3m = recent.groupby('listing_id').orders.sum()
inq = inquiries[~inquiries.flagged_spam & (inquiries.received_at.dt.tz_convert(None) >= first)]
inq_3m = inq.groupby('listing_id').inquiry_id.count()
b2b = stores.loc[stores.model == 'B2B', 'store_id']
a = listings[(listings.status == 'active')
             & ((end - listings.listed_date).dt.days >= 90)].copy()
a['effect'] = np.where(a.store_id.isin(b2b),
                       a.listing_id.map(inq_3m).fillna(0),
                       a.listing_id.map(orders_3m).fillna(0))
zero_effect = a.loc[a.effect == 0, 'listing_id'].tolist()"""

_CTR_SOLUTION = """\
import matplotlib.pyplot as plt
from graders.plotting import use_cjk_font
use_cjk_font()

b2c = stores.loc[stores.model == 'B2C', 'store_id']
ls = listing_stats.merge(listings[['listing_id', 'store_id', 'image_count']], on='listing_id')
ls = ls[ls.store_id.isin(b2c)]
g = ls.groupby('image_count')[['clicks', 'impressions']].sum().sort_index()
ctr = g.clicks / g.impressions

fig, ax = plt.subplots(figsize=(7, 4))
ax.bar(ctr.index.astype(str), ctr.values)
ax.set_title('B2C 商品图片数量与点击率（CTR）')
ax.set_xlabel('图片数量 image_count（张）')
ax.set_ylabel('点击率 CTR（点击 ÷ 曝光）')
chart = ax"""

_SHOWCASE_SOLUTION = """\
b2b = stores.loc[stores.model == 'B2B', 'store_id'].iloc[0]
mine = listings[(listings.store_id == b2b) & (listings.status == 'active')]
imp = listing_stats[listing_stats.listing_id.isin(mine.listing_id)].groupby(
    'listing_id').impressions.sum()
inq = inquiries[~inquiries.flagged_spam].groupby('listing_id').inquiry_id.count()
t = pd.DataFrame({'impressions': imp})
t['inquiries'] = t.index.map(inq).fillna(0)
t = t[t.impressions >= 3000]                                # 曝光太少的不评比
t['inquiry_rate'] = t.inquiries / t.impressions
t = t.reset_index().sort_values(['inquiry_rate', 'listing_id'], ascending=[False, True])
showcase = t.listing_id.head(5).tolist()"""

_RTS_SOLUTION = """\
from cbec_sim import rules

MARKUP = 0.30
s = stores[stores.model == 'B2B'].iloc[0]
usd = fx_rates[(fx_rates.date == fx_rates.date.max()) & (fx_rates.currency == 'USD')]
usd = float(usd.cny_per_unit.iloc[0])
line = carriers[(carriers.service_type == 'dedicated_line')
                & carriers.markets.str.split('|').apply(lambda ms: s.market in ms)].iloc[0]
r = listings[(listings.store_id == s.store_id) & (listings.status == 'active')]
r = r.merge(products, on='product_id')
fees = platform_fees[platform_fees.platform_id == s.platform_id]
r = r.merge(fees[['category', 'referral_fee_pct']], on='category')
vol = rules.volumetric_weight_kg(r.length_cm, r.width_cm, r.height_cm, line.volumetric_divisor)
r['chargeable_kg'] = rules.chargeable_weight_kg(r.weight_kg, vol, line.weight_step_kg)
r['freight_cny'] = rules.shipping_cost_cny(r.chargeable_kg, line.first_weight_kg,
                                           line.first_weight_fee_cny,
                                           line.additional_per_kg_cny, line.handling_fee_cny)
price = (r.unit_cost_cny + r.freight_cny) * (1 + MARKUP) / (1 - r.referral_fee_pct) / usd
r['rts_price_usd'] = rules.round_cents(price)
rts = r[['listing_id', 'chargeable_kg', 'freight_cny', 'rts_price_usd']]"""

_CHART_TAIL = ("\nax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
               "plt.close(fig)\nchart = ax")


# --- items ------------------------------------------------------------------------------------

_SELECTION_ITEMS: tuple[Exercise, ...] = (
    Exercise(
        id="06.01.rfq_demand",
        title="B2B 买家在求购什么",
        question=("B2B 选品先看买家主动发布的**采购需求**（RFQ，request for quotation 询价单，"
                  "表 `rfqs`）：买家想买什么，就是最直接的市场需求（任务 1.1.9 选品分析）。"
                  "按产品类型 `product_type` 数出每类的 RFQ **条数**，存进 `rfq_demand`："
                  "Series，索引是产品类型，值是条数。"),
        stage=SELECTION, tasks=("1.1.9",), unit=UNIT_SELECTION, difficulty=1, points=1,
        answer="rfq_demand", kind="series", answer_cn="Series：product_type → RFQ 条数",
        reference=_rfq_demand,
        solution="rfq_demand = rfqs.product_type.astype(str).value_counts()",
        hints=("`value_counts()` 数出每个值出现的次数。",
               "要按 `product_type`（产品类型）分，不是 `category`（大类）。"),
        mistakes=(
            Mistake("by_category", "rfq_demand = rfqs.category.astype(str).value_counts()",
                    "你按大类 `category` 计数了；题目要更细的产品类型 `product_type`。"),
            Mistake("sum_quantity",
                    "rfq_demand = rfqs.groupby(rfqs.product_type.astype(str)).quantity.sum()",
                    "你加总的是求购数量；题目要 RFQ 的**条数**（有多少个买家需求）。"),
        ),
        compare=SeriesOf(rel=1e-9, abs=1e-9),
        tables=("rfqs",),
    ),
    Exercise(
        id="06.01.keyword_opportunity",
        title="找出机会最大的 10 个上升关键词",
        question=("选品分析（任务 1.1.9）要收集产品关键词并判断竞争程度；产品研发与改型策略"
                  "（任务 1.1.8）要跟踪客户需求的变化。只看店铺 `S001` 所在市场（`stores.market`）"
                  "的关键词表 `keywords` 中**趋势上升**（`trend == 'rising'`）的关键词，"
                  "给每个关键词打一个机会分（opportunity score 机会分）：\n\n"
                  "`score = search_volume × (1 − competition)`\n\n"
                  "（搜索量越大、竞争越小越好）。按机会分从高到低取前 10 个（分数相同按 "
                  "`keyword_id` 升序），把它们的 `keyword_id` 存进 `opportunity_ids`（list）。"),
        stage=SELECTION, tasks=("1.1.9", "1.1.8"), unit=UNIT_SELECTION, difficulty=1, points=1,
        answer="opportunity_ids", kind="set", answer_cn="list：10 个 keyword_id（顺序不计）",
        reference=_keyword_opportunity,
        solution=_KEYWORD_SOLUTION,
        hints=("`stores.set_index('store_id').market['S001']` 取出店铺 S001 的市场。",
               "先用两个条件筛选（市场、趋势），再新增一列 `score`，"
               "`sort_values(...).head(10)`。"),
        mistakes=(
            Mistake("volume_only",
                    _variant(_KEYWORD_SOLUTION, "kw.search_volume * (1 - kw.competition)",
                             "kw.search_volume"),
                    "你只按搜索量排序，没有考虑竞争程度 `competition`：热门词往往竞争也最激烈。"),
            Mistake("all_trends",
                    _variant(_KEYWORD_SOLUTION,
                             "(keywords.market == market) & (keywords.trend == 'rising')",
                             "keywords.market == market"),
                    "你没有只看趋势上升的关键词；题目要找需求正在上升的机会。"),
        ),
        compare=IdSet(),
        tables=("keywords", "stores"),
    ),
    Exercise(
        id="06.01.market_capacity",
        title="估算各产品类型的市场容量与竞争",
        question=("任务 1.1.9 要“预算市场容量，分析市场前景及竞争程度”。"
                  "只看店铺 `S001` 所在的市场，对每个产品类型 `product_type` 做一张表 "
                  "`capacity`（DataFrame），每个类型一行，"
                  "只保留在竞品库 `competitor_products`（该市场）里有竞品的类型，列为：\n\n"
                  "- `search_volume`：该类型**核心词**（`keyword_type == 'head'`，每类一个）"
                  "的月搜索量；\n"
                  "- `n_competitor_listings`：该市场该类型的竞品数"
                  "（`competitor_products` 行数）；\n"
                  "- `avg_price_usd`：这些竞品的平均价格 `price_usd`（美元）；\n"
                  "- `capacity_usd`：估算的月市场容量 = `search_volume × 0.02 × avg_price_usd`"
                  "（0.02 是本课程假设的搜索→购买转化率，教学参数）；\n"
                  "- `searches_per_listing`：每个竞品分到的搜索量 = `search_volume ÷ "
                  "n_competitor_listings`（需求÷竞争，越大越好）。"),
        stage=SELECTION, tasks=("1.1.9", "3.1.1"), unit=UNIT_SELECTION, difficulty=2, points=2,
        answer="capacity", kind="frame",
        answer_cn=("DataFrame：product_type, search_volume, n_competitor_listings, "
                   "avg_price_usd, capacity_usd, searches_per_listing"),
        reference=_market_capacity,
        solution=_CAPACITY_SOLUTION,
        hints=("分两张小表：关键词表按类型取核心词搜索量，竞品表按类型 `agg` 出个数和平均价，"
               "再用 `join(..., how='inner')` 合并（只保留两边都有的类型）。",
               "中长尾词（mid、long_tail）的搜索大多已经包含在核心词需求里，不要把三种词相加。"),
        mistakes=(
            Mistake("all_keywords",
                    _variant(_CAPACITY_SOLUTION,
                             "(keywords.market == market) & (keywords.keyword_type == 'head')",
                             "keywords.market == market"),
                    "你把核心词、中长尾词的搜索量全加起来了，同一批需求被重复计算；只用核心词。"),
            Mistake("median_price",
                    _variant(_CAPACITY_SOLUTION, "avg_price_usd=('price_usd', 'mean')",
                             "avg_price_usd=('price_usd', 'median')"),
                    "平均价格要用平均值（mean），你用的是中位数。"),
        ),
        compare=Frame(key=("product_type",),
                      columns=("search_volume", "n_competitor_listings", "avg_price_usd",
                               "capacity_usd", "searches_per_listing"), rel=1e-6, abs=1e-6),
        tables=("keywords", "competitor_products", "stores"),
    ),
    Exercise(
        id="06.01.abc_a_products",
        title="ABC 分析：贡献前 80 % 销售额的 A 类商品",
        question=("扩充产品线前先看现有目录里谁在赚钱（ABC 分析，也叫帕累托分析 Pareto analysis）。"
                  "用未取消的订单（`orders.status != 'cancelled'`）的订单行 `order_lines`，"
                  "按 `line_amount × orders.fx_rate_cny` 折成人民币，算出每个商品 `product_id` "
                  "的销售额，从高到低排列（相同按 `product_id` 升序）。A 类：**加上它之前**的累计"
                  "占比还不到 80 % 的商品（所以跨过 80 % 的那个商品也算 A 类）。"
                  "把 A 类商品的 `product_id` 存进 `a_products`（list）。"),
        stage=SELECTION, tasks=("1.1.8", "1.1.9"), unit=UNIT_SELECTION, difficulty=2, points=2,
        answer="a_products", kind="set", answer_cn="list：A 类商品的 product_id",
        reference=_abc_a,
        solution=_ABC_SOLUTION,
        hints=("各店铺币种不同：先把订单的 `fx_rate_cny` 合并到订单行上，再相乘折成人民币。",
               "`cumsum()` 是累计和；`.shift(fill_value=0)` 得到“加上本商品之前”的累计。"),
        mistakes=(
            Mistake("local_currency",
                    _variant(_ABC_SOLUTION, "lines.line_amount * lines.fx_rate_cny",
                             "lines.line_amount"),
                    "你直接把日元、欧元、美元的金额相加了；先用 `fx_rate_cny` 折成人民币。"),
            Mistake("cutoff_excludes_crossing",
                    _variant(_ABC_SOLUTION, "share_before = rev.cumsum().shift(fill_value=0)",
                             "share_before = rev.cumsum()"),
                    "你用的是“加上本商品之后”的累计占比，跨过 80 % 的那个商品被漏掉了。"),
        ),
        compare=IdSet(),
        tables=("orders", "order_lines"),
    ),
    Exercise(
        id="06.01.margin_screen",
        title="落地成本与毛利筛选：毛利率不低于 20 % 的在售商品",
        question=("选品要先算清楚卖一件能赚多少（落地成本 landed cost 落地成本）。对所有 **B2C 店铺"
                  "的在售**链接（`listings.status == 'active'`），算出每件的毛利：\n\n"
                  "- 售价折人民币 `price_cny` = `price` × 该币种在 `fx_rates` **最后一天**的 "
                  "`cny_per_unit`；\n"
                  "- 采购成本 `products.unit_cost_cny`（供应商报价，任务 3.1.2）；\n"
                  "- 头程运费：物流模板是店铺所在市场的**专线**（`carriers.service_type == "
                  "'dedicated_line'`，`markets` 含该市场）；计费重 = max(实重, 长×宽×高 ÷ "
                  "`volumetric_divisor`) 按 `weight_step_kg` 向上取整，运费用 "
                  "`rules.shipping_cost_cny`；\n"
                  "- 平台佣金 = `price_cny` × `platform_fees` 中该平台、该类目的 "
                  "`referral_fee_pct`（最低佣金忽略）。\n\n"
                  "毛利率 = (price_cny − 采购成本 − 运费 − 佣金) ÷ price_cny。把毛利率**不低于 "
                  "20 %**（教学参数）的 `listing_id` 存进 `margin_ok`（list）。"),
        stage=SELECTION, tasks=("1.1.9", "3.1.2"), unit=UNIT_SELECTION, difficulty=3, points=3,
        answer="margin_ok", kind="set", answer_cn="list：毛利率 ≥ 20 % 的 listing_id",
        reference=_landed_margin_ok,
        solution=_MARGIN_SOLUTION,
        hints=("一步一步合并：在售链接 → 店铺（平台、市场、模式）→ 商品（成本、尺寸、类目）→ "
               "佣金表（平台 + 类目）→ 专线（按市场）。",
               "`carriers.markets` 是用 `|` 隔开的多个市场：`str.split('|')` 后 `explode` "
               "成一行一个市场，就能按市场合并。",
               "各渠道的除数和步长不同：体积重直接用列计算（长×宽×高 ÷ `volumetric_divisor`），"
               "计费重用 `rules.chargeable_weight_kg(实重, 体积重, 步长)` 逐行算，"
               "运费用 `rules.shipping_cost_cny`。"),
        mistakes=(
            Mistake("no_fx",
                    _variant(_MARGIN_SOLUTION,
                             "cand.price * cand.currency.astype(str).map(fx).astype(float)",
                             "cand.price"),
                    "你把外币售价直接当人民币用了；先按 `fx_rates` 最后一天的汇率折成人民币。"),
            Mistake("no_fee",
                    _variant(_MARGIN_SOLUTION, "cand.price_cny * cand.referral_fee_pct", "0"),
                    "你漏了平台佣金：每卖一件平台都要按售价抽成。"),
        ),
        compare=IdSet(),
        tables=("listings", "stores", "products", "platform_fees", "carriers", "fx_rates"),
    ),
    Exercise(
        id="06.01.launch_plan",
        title="下季度上新计划：20 个新 SKU 怎么分到各类目",
        question=("第 5.6 条要求按类目制定上新计划（上新计划 new-product launch plan）。"
                  "下季度准备开发 **20 个**新 SKU（教学参数），分给目录 `products` 里的每个类目 "
                  "`category`：\n\n"
                  "1. 每个类目先保底 1 个；\n"
                  "2. 剩下的（20 − 类目数）按各类目的**需求**按比例分：需求 = `market_demand` 中"
                  "**最近 12 个月**、公司 B2C 店铺所在市场的 `search_volume` 之和；\n"
                  "3. 比例份额先取整数部分，还差的名额按小数部分从大到小补（最大余数法 largest "
                  "remainder method；小数部分相同按类目名字母顺序）。\n\n"
                  "结果存进 `launch_plan`：Series，索引是类目，值是新 SKU 数（整数，合计 20）。"),
        stage=SELECTION, tasks=("1.1.8", "4.1.1"), unit=UNIT_SELECTION, difficulty=3, points=3,
        answer="launch_plan", kind="series", answer_cn="Series：category → 新 SKU 数（合计 20）",
        reference=_launch_plan,
        solution=_PLAN_SOLUTION,
        hints=("最近 12 个月：`month > month.max() − 12 个月`；市场用 B2C 店铺的 `market`。",
               "份额 = (20 − 类目数) × 需求 ÷ 总需求；`np.floor` 取整数部分，"
               "再把 `20 − 已分配` 个名额给小数部分最大的几个类目。"),
        mistakes=(
            Mistake("no_minimum",
                    _variant(_variant(_PLAN_SOLUTION, "quota = (N - len(cats)) * vol",
                                      "quota = N * vol"),
                             "plan = 1 + np.floor(quota)", "plan = np.floor(quota)"),
                    "你没有给每个类目保底 1 个：需求小的类目一个新品都没有，产品线会慢慢萎缩。"),
            Mistake("round_only",
                    _variant(_PLAN_SOLUTION, "left = int(N - plan.sum())", "left = 0"),
                    "只取整数部分，合计不到 20 个；还差的名额要按小数部分从大到小补齐。"),
        ),
        compare=SeriesOf(rel=0, abs=1e-9),
        tables=("products", "stores", "market_demand"),
    ),
)

_LISTING_ITEMS: tuple[Exercise, ...] = (
    Exercise(
        id="06.02.product_groups",
        title="B2B 店铺的产品分组",
        question=("任务 3.3.1 产品分组管理：把产品合理分组，再分给业务员。B2B 店铺"
                  "（`stores.model == 'B2B'`，只有一家）按商品大类 `products.category` 分组。"
                  "数出每组的**在售**链接数（`listings.status == 'active'`），存进 `groups`："
                  "Series，索引是类目，值是链接数。"),
        stage=LISTING, tasks=("3.3.1",), unit=UNIT_LISTING, difficulty=1, points=1,
        answer="groups", kind="series", answer_cn="Series：category → 在售链接数",
        reference=_product_groups,
        solution=("b2b = stores.loc[stores.model == 'B2B', 'store_id']\n"
                  "mine = listings[listings.store_id.isin(b2b) & (listings.status == 'active')]\n"
                  "mine = mine.merge(products[['product_id', 'category']], on='product_id')\n"
                  "groups = mine.category.astype(str).value_counts()"),
        hints=("先筛出 B2B 店铺的在售链接，再把 `products` 的 `category` 合并进来。",
               "`value_counts()` 数每个类目的链接数。"),
        mistakes=(
            Mistake("all_stores",
                    "mine = listings[listings.status == 'active']\n"
                    "mine = mine.merge(products[['product_id', 'category']], on='product_id')\n"
                    "groups = mine.category.astype(str).value_counts()",
                    "你把所有店铺的链接都算上了；只看 B2B 店铺。"),
            Mistake("by_type",
                    "b2b = stores.loc[stores.model == 'B2B', 'store_id']\n"
                    "mine = listings[listings.store_id.isin(b2b) & (listings.status == 'active')]\n"
                    "mine = mine.merge(products[['product_id', 'product_type']], on='product_id')\n"
                    "groups = mine.product_type.astype(str).value_counts()",
                    "你按产品类型 `product_type` 分组了，分得太细；题目按大类 `category` 分组。"),
        ),
        compare=SeriesOf(rel=0, abs=1e-9),
        tables=("stores", "listings", "products"),
    ),
    Exercise(
        id="06.02.completeness",
        title="商品信息完整度",
        question=("任务 4.1.1 商品发布要求商品信息完整准确：**图片、标题、属性、视频、价格、"
                  "详情页**六项。按本课程的检查规则（教学参数）对每条**在售**链接逐项判断：\n\n"
                  "- 图片：`image_count >= 5` 且主图白底 `main_image_white_bg`；\n"
                  "- 标题：`title_length <= 60`（手机搜索结果里能显示完整）；\n"
                  "- 属性：卖点条数 `bullet_count >= 5`；\n"
                  "- 视频：`has_video`；\n"
                  "- 价格：`price > 0`；\n"
                  "- 详情页：有图文详情 `has_a_plus`。\n\n"
                  "完整度 = 达标项数 ÷ 6。存进 `completeness`：Series，索引是 `listing_id`，"
                  "值是 0–1 的小数。"),
        stage=LISTING, tasks=("4.1.1", "3.1.4"), unit=UNIT_LISTING, difficulty=1, points=1,
        answer="completeness", kind="series", answer_cn="Series：listing_id → 完整度（0–1）",
        reference=_completeness,
        solution=_COMPLETENESS_SOLUTION,
        hints=("做一张 True/False 表，每项一列；`mean(axis=1)` 是每行 True 的比例。",
               "图片这一项要同时满足两个条件，用 `&` 连接。"),
        mistakes=(
            Mistake("five_elements",
                    _variant(_COMPLETENESS_SOLUTION, "    'price': a.price > 0,\n", ""),
                    "你少检查了一项（价格）：4.1.1 列的是六项。"),
            Mistake("images_only",
                    _variant(_COMPLETENESS_SOLUTION,
                             "(a.image_count >= 5) & a.main_image_white_bg", "a.image_count >= 5"),
                    "图片一项还要求主图是白底（`main_image_white_bg`）。"),
        ),
        compare=SeriesOf(rel=1e-9, abs=1e-9),
        tables=("listings",),
    ),
    Exercise(
        id="06.02.title_issues",
        title="标题要改的链接：缺核心关键词或太长",
        question=("任务 3.1.3 产品文案准备要根据关键词表（关键词表 keyword list）写标题。"
                  "对每条**在售**链接：找出它所在店铺市场、它的产品类型 `product_type` 在 "
                  "`keywords` 中的**核心词**（head keyword 核心词，`keyword_type == 'head'`，"
                  "每个市场每个类型一个）。标题**不包含**这个词（不区分大小写；没有这样的词则不算缺）"
                  "，或者标题长度超过 **60** 个字符（教学参数），这条链接就要优化（任务 4.1.2）。"
                  "把这些 `listing_id` 存进 `title_issues`（list）。"),
        stage=LISTING, tasks=("3.1.3", "4.1.2"), unit=UNIT_LISTING, difficulty=2, points=2,
        answer="title_issues", kind="set", answer_cn="list：要改标题的 listing_id",
        reference=_title_issues,
        solution=_TITLE_SOLUTION,
        hints=("先筛出核心词 `keyword_type == 'head'`，留下 `market`、`product_type`、"
               "`keyword` 三列。",
               "链接 → 店铺（市场）→ 商品（类型）→ 关键词，逐步 `merge`；"
               "比较前把标题和关键词都 `lower()`。"),
        mistakes=(
            Mistake("case_sensitive",
                    _variant(_TITLE_SOLUTION, "k.lower() in t.lower()", "k in t"),
                    "标题是首字母大写的，关键词是小写的：比较前都转成小写。"),
            Mistake("length_only",
                    _variant(_TITLE_SOLUTION, "~pd.Series(has_kw, index=a.index) | too_long",
                             "too_long"),
                    "你只检查了长度，没有检查标题里有没有核心关键词。"),
        ),
        compare=IdSet(),
        tables=("listings", "stores", "products", "keywords"),
    ),
    Exercise(
        id="06.02.zero_effect",
        title="零效果产品",
        question=("任务 3.3.3 要及时处理零效果产品（零效果产品 zero-effect product）。本课程的口径"
                  "（教学参数，标准没有定义）：**在售**、上架满 **90 天**（到 `listing_stats` "
                  "最后一个月的月末）的链接，在**最近 3 个月**（`listing_stats` 的最后 3 个月）"
                  "里：B2C 链接没有一笔订单（`listing_stats.orders` 合计为 0）；B2B 店铺的链接没有"
                  "一条询盘（`inquiries` 中不算垃圾询盘 `flagged_spam`，按 `received_at` 算月份）。"
                  "把零效果链接的 `listing_id` 存进 `zero_effect`（list）。"),
        stage=LISTING, tasks=("3.3.3", "3.3.4"), unit=UNIT_LISTING, difficulty=2, points=2,
        answer="zero_effect", kind="set", answer_cn="list：零效果的 listing_id",
        reference=_zero_effect,
        solution=_ZERO_SOLUTION,
        hints=("最近 3 个月的第一天 = `listing_stats.month.max() − 2 个月`；"
               "上架天数 = 月末 − `listed_date`。",
               "B2B 链接在 `listing_stats` 里没有订单（B2B 成交走合同），效果要看询盘；"
               "用 `np.where(是 B2B, 询盘数, 订单数)`。"),
        mistakes=(
            Mistake("whole_year",
                    _variant(_ZERO_SOLUTION, "first = last_month - pd.DateOffset(months=2)",
                             "first = listing_stats.month.min()"),
                    "你看的是全年；题目只看最近 3 个月，早期卖过、最近卖不动的也算零效果。"),
            Mistake("orders_for_b2b",
                    _variant(_ZERO_SOLUTION, "a.listing_id.map(inq_3m).fillna(0),",
                             "a.listing_id.map(orders_3m).fillna(0),"),
                    "B2B 链接在平台上不直接下单，看订单会把它们全部判成零效果；B2B 要看询盘。"),
        ),
        compare=IdSet(),
        tables=("listings", "listing_stats", "inquiries", "stores"),
    ),
    Exercise(
        id="06.02.ctr_by_images",
        title="图片数量与点击率（图表）",
        question=("视觉营销准备（任务 3.1.4）和商品优化（任务 4.1.2）都要回答：多放几张图值不值？"
                  "用 **B2C 店铺**链接的 `listing_stats`，按链接的图片数 `image_count` 分组，"
                  "算点击率（CTR 点击率）= 点击合计 ÷ 曝光合计，画一张柱状图："
                  "横轴是图片数（从少到多），"
                  "柱高是 CTR（小数）。图要有标题、横轴标签和纵轴标签（含单位）。"
                  "把 Axes 存进 `chart`。"),
        stage=LISTING, tasks=("3.1.4", "4.1.2"), unit=UNIT_LISTING, difficulty=2, points=2,
        answer="chart", kind="chart", answer_cn="matplotlib 的 Axes（柱状图）",
        reference=_ctr_by_images,
        solution=_CTR_SOLUTION,
        hints=("先把 `listings[['listing_id', 'store_id', 'image_count']]` 合并到 `listing_stats`，"
               "只留 B2C 店铺。",
               "CTR 要先分别加总点击和曝光再相除，不是把每月的点击率取平均。"),
        mistakes=(
            Mistake("mean_of_ratios",
                    "import matplotlib.pyplot as plt\n"
                    "b2c = stores.loc[stores.model == 'B2C', 'store_id']\n"
                    "ls = listing_stats.merge(listings[['listing_id', 'store_id', 'image_count']],"
                    " on='listing_id')\n"
                    "ls = ls[ls.store_id.isin(b2c)]\n"
                    "ctr = (ls.clicks / ls.impressions).groupby(ls.image_count).mean()"
                    ".sort_index()\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(ctr.index.astype(str), ctr.values)" + _CHART_TAIL,
                    "你把每行（每月）的点击率取了平均；曝光少的月份和曝光多的月份被同等对待。"
                    "先加总点击和曝光再相除。"),
            Mistake("with_b2b",
                    "import matplotlib.pyplot as plt\n"
                    "ls = listing_stats.merge(listings[['listing_id', 'image_count']],"
                    " on='listing_id')\n"
                    "g = ls.groupby('image_count')[['clicks', 'impressions']].sum().sort_index()\n"
                    "ctr = g.clicks / g.impressions\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.bar(ctr.index.astype(str), ctr.values)" + _CHART_TAIL,
                    "你把 B2B 店铺的链接也算进去了；题目只看 B2C 店铺。"),
        ),
        compare=Chart(kind="bar"),
        tables=("listing_stats", "listings", "stores"),
    ),
    Exercise(
        id="06.02.showcase",
        title="B2B 橱窗该放哪 5 个产品",
        question=("任务 3.3.2 店铺橱窗管理：橱窗（showcase 橱窗）是平台给的推荐展示位，要根据效果"
                  "及时更新。B2B 店铺有 **5 个**橱窗位（教学参数）。"
                  "对它的**在售**链接，用全年数据算"
                  "询盘率（inquiry rate 询盘率）= 非垃圾询盘数（`inquiries`，`flagged_spam` 为 "
                  "False）÷ 曝光（`listing_stats.impressions` 合计）。曝光合计**不到 3000** 的链接"
                  "数据太少，不参加评比。按询盘率从高到低取前 5 个（相同按 `listing_id` 升序），"
                  "把 `listing_id` 存进 `showcase`（list）。"),
        stage=LISTING, tasks=("3.3.2", "3.3.4"), unit=UNIT_LISTING, difficulty=3, points=3,
        answer="showcase", kind="set", answer_cn="list：5 个 listing_id",
        reference=_showcase,
        solution=_SHOWCASE_SOLUTION,
        hints=("曝光来自 `listing_stats`，询盘来自 `inquiries`：分别按 `listing_id` 汇总后放进"
               "一张表；没有询盘的链接询盘数记 0。",
               "先去掉曝光不到 3000 的链接，再算询盘率排序。"),
        mistakes=(
            Mistake("ascending",
                    _variant(_SHOWCASE_SOLUTION, "ascending=[False, True]", "ascending=True"),
                    "你按询盘率从低到高排了，选出的是效果最差的链接；询盘率要从高到低排"
                    "（`ascending=False`）。"),
            Mistake("no_min_impressions",
                    _variant(_SHOWCASE_SOLUTION, "t = t[t.impressions >= 3000]", "t = t"),
                    "你没有去掉曝光不到 3000 的链接：曝光很少时一两条询盘就能让询盘率虚高。"),
        ),
        compare=IdSet(),
        tables=("stores", "listings", "listing_stats", "inquiries"),
    ),
    Exercise(
        id="06.02.rts_price",
        title="RTS 产品定价：按物流模板算到岸价",
        question=("任务 3.2.2 发布 RTS 产品（RTS, Ready to Ship 现货直发）要先设物流模板"
                  "（物流模板 logistics template）再做价格预算；任务 3.2.1 要按价格定位给产品定价。"
                  "对 B2B 店铺的每条**在售**链接，按一件样品发往店铺所在市场计算：\n\n"
                  "- 物流模板：该市场的**专线**（`carriers.service_type == 'dedicated_line'`）；"
                  "`chargeable_kg` = max(实重, 长×宽×高 ÷ `volumetric_divisor`) 按 "
                  "`weight_step_kg` 向上取整（`rules.chargeable_weight_kg`）；\n"
                  "- `freight_cny`：`rules.shipping_cost_cny` 算出的运费（人民币）；\n"
                  "- `rts_price_usd` = (采购成本 `unit_cost_cny` + 运费) × (1 + 30 %) ÷ "
                  "(1 − 平台佣金率) ÷ 美元汇率，四舍五入到分。加价率 30 % 是教学参数；佣金率取 "
                  "`platform_fees` 中该店铺平台、该类目的 `referral_fee_pct`；美元汇率取 "
                  "`fx_rates` 最后一天 USD 的 `cny_per_unit`。\n\n"
                  "结果存进 `rts`（DataFrame），列为 `listing_id`, `chargeable_kg`, `freight_cny`, "
                  "`rts_price_usd`。"),
        stage=LISTING, tasks=("3.2.2", "3.2.1"), unit=UNIT_LISTING, difficulty=3, points=3,
        answer="rts", kind="frame",
        answer_cn=("DataFrame：listing_id, chargeable_kg, freight_cny, "
                   "rts_price_usd（美元，两位小数）"),
        reference=_rts_price,
        solution=_RTS_SOLUTION,
        hints=("`carriers.markets` 是用 `|` 隔开的字符串：`str.split('|')` 后检查市场是否在里面。",
               "先算体积重 `rules.volumetric_weight_kg(长, 宽, 高, 除数)`，"
               "再用 `rules.chargeable_weight_kg(实重, 体积重, 步长)`。",
               "除以 (1 − 佣金率) 是为了让扣掉佣金后仍然保留 30 % 的加价。"),
        mistakes=(
            Mistake("actual_weight",
                    _variant(_RTS_SOLUTION,
                             "rules.chargeable_weight_kg(r.weight_kg, vol, line.weight_step_kg)",
                             "r.weight_kg"),
                    "你用实重算运费了：物流商按计费重收费（实重和体积重取大，再按步长向上取整）。"),
            Mistake("cny_price",
                    _variant(_RTS_SOLUTION, "/ (1 - r.referral_fee_pct) / usd",
                             "/ (1 - r.referral_fee_pct)"),
                    "你的价格还是人民币；B2B 店铺用美元标价，要除以美元汇率。"),
        ),
        compare=Frame(key=("listing_id",), columns=("chargeable_kg", "freight_cny",
                                                    "rts_price_usd"), rel=0, abs=0.005),
        tables=("stores", "listings", "products", "carriers", "platform_fees", "fx_rates"),
    ),
)

EXERCISES: tuple[Exercise, ...] = _SELECTION_ITEMS + _LISTING_ITEMS
