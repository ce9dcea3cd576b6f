"""01-market-platform (市场调研与平台选择): market size, growth, concentration, seasonality,
price bands, hot-search attributes, forecasting and supply chain; platform candidates, unit
economics and break-even, market attractiveness, weighted platform scoring, B2B membership cost.

Stage 5.1 市场调研 of T/CCPITCSC 111-2022 (Table 1 tasks 1.1.1–1.1.7 and 1.1.10, plus 1.1.8 and
1.1.9 whose main stage is 5.6) and stage 5.2 平台选择 (task 2.1.1).

Notebooks: 01.01 Market research (market_demand, competitor_sales, competitor_products,
keywords, rfqs, inventory, inbound_receipts) and 01.02 Platform selection (platforms,
platform_fees, competitor_products, fx_rates, inquiries).

The "target" of every item is the company's first B2C store (``stores`` row with model B2C,
always an Amazon store): its ``category_focus`` and ``market``. Thresholds that are not in the
standard are external conventions, cited where defined:

* HHI bands (:data:`HHI_MODERATE`, :data:`HHI_HIGH`): US DOJ/FTC Horizontal Merger Guidelines
  (1992) §1.51 — below 1,000 unconcentrated, 1,000–1,800 moderately, above 1,800 highly
  concentrated; the 2023 Merger Guidelines keep 1,800 as the "highly concentrated" line
  (see ``cbec_sim.rules.hhi``).
* Seasonal index = calendar-month mean ÷ overall monthly mean, and the trend × seasonal
  forecast: the classical multiplicative decomposition of time series (textbook practice).
* Market attractiveness quadrants: the BCG growth–share matrix idea (size × growth), split at
  the median of the world's markets (a teaching convention).
* :data:`COST_SHARE`, :data:`OPEX_USD`, :data:`SCORE_WEIGHTS`, :data:`NEW_LISTING_DAYS`:
  synthetic teaching parameters, labelled as such in the notebook.

Every ``reference`` computes the expected answer its own way (plain loops, dicts and numpy),
independently of the solution text shown to trainees.
"""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import pairwise

import numpy as np
import pandas as pd

from cbec_sim import rules
from graders.compare import Chart, Choice, Frame, IdSet, Number, Rate, SeriesOf
from graders.exercise import Exercise, Mistake
from graders.exercises._helpers import variant as _variant

MODULE = "01-market-platform"
UNIT = "market_platform"

#: HHI band limits (DOJ/FTC Horizontal Merger Guidelines 1992 §1.51; 2023 keeps 1,800).
HHI_MODERATE = 1000.0
HHI_HIGH = 1800.0
#: Price-band edges in USD for the best-price-band analysis (left-closed bands).
BAND_EDGES = (0, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, math.inf)
#: "Blue-ocean" keyword: rising trend (rules.keyword_trend) and competition index below this.
BLUE_OCEAN_MAX_COMPETITION = 0.3
#: Synthetic: landed cost (goods, freight, last mile, packing) as a share of the selling price.
COST_SHARE = 0.55
#: Synthetic: fixed monthly operating cost of one store (staff share, tools), USD.
OPEX_USD = 1500.0
#: Synthetic weights of the four aspects of Table 1 task 2.1.1(c).
SCORE_WEIGHTS = {"influence": 0.4, "circle_fit": 0.3, "popularity": 0.15, "trend": 0.15}
#: Synthetic: a competitor listing counts as "new" when first listed within this many days.
NEW_LISTING_DAYS = 180

S51, S52 = "5.1", "5.2"


# --- shared helpers ---------------------------------------------------------------------------

def _target(w) -> tuple[str, str]:
    """Category and market of the company's first B2C store."""
    for model, cat, mkt in zip(w.stores.model.astype(str), w.stores.category_focus.astype(str),
                               w.stores.market.astype(str), strict=True):
        if model == "B2C":
            return cat, mkt
    raise ValueError("stores: no B2C store in this world")


def _months(w) -> list[pd.Timestamp]:
    return sorted(set(pd.to_datetime(w.market_demand.month)))


def _gmv_by_month(w, cat: str, mkt: str | None = None) -> dict[pd.Timestamp, float]:
    md = w.market_demand
    out: dict[pd.Timestamp, float] = defaultdict(float)
    for m, c, k, g in zip(pd.to_datetime(md.month), md.category.astype(str),
                          md.market.astype(str), md.market_gmv_usd, strict=True):
        if c == cat and (mkt is None or k == mkt):
            out[m] += float(g)
    return out


def _world_end(w) -> pd.Timestamp:
    return pd.Timestamp(w.meta["start"]) + pd.DateOffset(months=int(w.meta["months"]))


def _band_label(price: float) -> str:
    for lo, hi in pairwise(BAND_EDGES):
        if lo <= price < hi:
            return f"{lo}-{hi}" if hi != math.inf else f"{lo}+"
    raise ValueError(price)


BAND_LABELS = tuple(f"{lo}-{hi}" if hi != math.inf else f"{lo}+"
                    for lo, hi in pairwise(BAND_EDGES))


# --- references: 01.01 market research --------------------------------------------------------

def _market_size(w) -> pd.Series:
    cat, _ = _target(w)
    last = set(_months(w)[-12:])
    md = w.market_demand
    tot: dict[str, float] = defaultdict(float)
    for m, c, k, g in zip(pd.to_datetime(md.month), md.category.astype(str),
                          md.market.astype(str), md.market_gmv_usd, strict=True):
        if c == cat and m in last:
            tot[k] += float(g)
    return pd.Series(tot).sort_index()


def _yoy(w, cat: str, mkt: str) -> float:
    g = _gmv_by_month(w, cat, mkt)
    ms = sorted(g)
    return sum(g[m] for m in ms[-12:]) / sum(g[m] for m in ms[-24:-12]) - 1


def _yoy_growth(w) -> float:
    return _yoy(w, *_target(w))


def _rfq_demand(w) -> pd.Series:
    q: dict[str, int] = defaultdict(int)
    for c, n in zip(w.rfqs.destination_country.astype(str), w.rfqs.quantity, strict=True):
        q[c] += int(n)
    return pd.Series(q, dtype=float).sort_index()


def _hhi_level(h: float) -> str:
    return "high" if h > HHI_HIGH else ("moderate" if h >= HHI_MODERATE else "low")


def _concentration(w) -> pd.DataFrame:
    cat, _ = _target(w)
    last = set(_months(w)[-12:])
    md, cs = w.market_demand, w.competitor_sales
    total: dict[str, float] = defaultdict(float)
    for m, c, k, g in zip(pd.to_datetime(md.month), md.category.astype(str),
                          md.market.astype(str), md.market_gmv_usd, strict=True):
        if c == cat and m in last:
            total[k] += float(g)
    brand: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for m, c, k, b, g in zip(pd.to_datetime(cs.month), cs.category.astype(str),
                             cs.market.astype(str), cs.brand.astype(str), cs.gmv_usd,
                             strict=True):
        if c == cat and m in last:
            brand[k][b] += float(g)
    rows = []
    for k in sorted(brand):
        shares = sorted((v / total[k] for v in brand[k].values()), reverse=True)
        h = sum((s * 100) ** 2 for s in shares)
        rows.append((k, sum(shares[:4]), sum(shares[:8]), h, _hhi_level(h)))
    return pd.DataFrame(rows, columns=["market", "cr4", "cr8", "hhi", "level"])


def _seasonal(g: dict[pd.Timestamp, float]) -> dict[int, float]:
    overall = sum(g.values()) / len(g)
    by: dict[int, list[float]] = defaultdict(list)
    for m, v in g.items():
        by[m.month].append(v)
    return {mo: (sum(v) / len(v)) / overall for mo, v in by.items()}


def _seasonal_index(w) -> pd.Series:
    s = _seasonal(_gmv_by_month(w, *_target(w)))
    return pd.Series(s).sort_index()


def _band_units_per_listing(w) -> pd.Series:
    cat, _ = _target(w)
    cp = w.competitor_products
    n: dict[str, int] = defaultdict(int)
    u: dict[str, float] = defaultdict(float)
    for c, p, units in zip(cp.category.astype(str), cp.price_usd, cp.monthly_units, strict=True):
        if c == cat:
            b = _band_label(float(p))
            n[b] += 1
            u[b] += float(units)
    order = [b for b in BAND_LABELS if n[b]]
    return pd.Series([u[b] / n[b] for b in order], index=order)


def _attr_share(w) -> pd.Series:
    cat, mkt = _target(w)
    k = w.keywords
    vol: dict[str, float] = defaultdict(float)
    for c, m, a, v in zip(k.category.astype(str), k.market.astype(str), k.attribute,
                          k.search_volume, strict=True):
        if c == cat and m == mkt and isinstance(a, str) and a:
            vol[a] += float(v)
    tot = sum(vol.values())
    return pd.Series({a: v / tot for a, v in vol.items()}).sort_index()


def _blue_ocean(w) -> list[str]:
    cat, mkt = _target(w)
    k = w.keywords
    out = []
    for kid, c, m, v, p, comp in zip(k.keyword_id, k.category.astype(str), k.market.astype(str),
                                     k.search_volume, k.search_volume_prev_year, k.competition,
                                     strict=True):
        rising = (p > 0 and v / p >= rules.KEYWORD_RISING_RATIO) or (p == 0 and v > 0)
        if c == cat and m == mkt and rising and float(comp) < BLUE_OCEAN_MAX_COMPETITION:
            out.append(str(kid))
    return out


def _forecast(w) -> float:
    g = _gmv_by_month(w, *_target(w))
    s = _seasonal(g)
    ms = sorted(g)
    t = np.arange(len(ms), dtype=float)
    d = np.array([g[m] / s[m.month] for m in ms])
    # least squares by the normal equations
    tm, dm = t.mean(), d.mean()
    b = float(((t - tm) * (d - dm)).sum() / ((t - tm) ** 2).sum())
    a = dm - b * tm
    total = 0.0
    for i in range(12):
        month = (ms[-1] + pd.DateOffset(months=i + 1)).month
        total += (a + b * (len(ms) + i)) * s[month]
    return total


def _supply_chain(w) -> pd.DataFrame:
    ir = w.inbound_receipts
    lead: dict[str, list[int]] = defaultdict(list)
    for wh, t, o, a in zip(ir.warehouse_id.astype(str), ir.inbound_type.astype(str),
                           pd.to_datetime(ir.ordered_date), pd.to_datetime(ir.arrival_date),
                           strict=True):
        if t == "regular":
            lead[wh].append((a - o).days)
    inv = w.inventory
    stock: dict[str, float] = defaultdict(float)
    out: dict[str, float] = defaultdict(float)
    for wh, oh, ob in zip(inv.warehouse_id.astype(str), inv.on_hand_end,
                             inv.outbound, strict=True):
        stock[wh] += float(oh)
        out[wh] += float(ob)
    rows = [(wh, sum(lead[wh]) / len(lead[wh]), stock[wh] / out[wh]) for wh in sorted(stock)]
    return pd.DataFrame(rows, columns=["warehouse_id", "lead_days", "cover_days"])


# --- references: 01.02 platform selection -----------------------------------------------------

def _candidates(w) -> list[str]:
    _, mkt = _target(w)
    p = w.platforms
    return sorted(str(pid) for pid, model, mk in zip(p.platform_id, p.model.astype(str),
                                                     p.markets, strict=True)
                  if model == "B2C" and mkt in str(mk).split("|"))


def _target_price(w) -> float:
    cat, mkt = _target(w)
    cp = w.competitor_products
    prices = [float(p) for c, m, p in zip(cp.category.astype(str), cp.market.astype(str),
                                          cp.price_usd, strict=True) if c == cat and m == mkt]
    return float(np.median(prices))


def _unit_economics(w) -> pd.DataFrame:
    cat, _ = _target(w)
    price = _target_price(w)
    fees = {(str(p), str(c)): (float(pct), float(mn)) for p, c, pct, mn in
            zip(w.platform_fees.platform_id, w.platform_fees.category.astype(str),
                w.platform_fees.referral_fee_pct, w.platform_fees.min_referral_fee, strict=True)}
    monthly = dict(zip(w.platforms.platform_id.astype(str), w.platforms.monthly_fee, strict=True))
    rows = []
    for pid in _candidates(w):
        pct, mn = fees[(pid, cat)]
        fee = float(rules.round_money(max(price * pct, mn)))
        margin = price - fee - COST_SHARE * price
        rows.append((pid, fee, margin, math.ceil((OPEX_USD + float(monthly[pid])) / margin)))
    return pd.DataFrame(rows, columns=["platform_id", "referral_fee", "margin",
                                       "breakeven_units"])


def _quadrants(w) -> pd.DataFrame:
    cat, _ = _target(w)
    markets = sorted(_market_size(w).index)
    size = _market_size(w).to_dict()
    growth = {m: _yoy(w, cat, m) for m in markets}
    ms, mg = float(np.median(list(size.values()))), float(np.median(list(growth.values())))
    names = {(True, True): "star", (False, True): "question", (True, False): "cash_cow",
             (False, False): "dog"}
    rows = [(m, size[m], growth[m], names[(size[m] >= ms, growth[m] >= mg)]) for m in markets]
    return pd.DataFrame(rows, columns=["market", "size", "growth", "quadrant"])


def _scores(w, weights: dict[str, float] = SCORE_WEIGHTS, normalise: bool = True) -> pd.Series:
    cat, _ = _target(w)
    cp = w.competitor_products
    new_from = _world_end(w) - pd.Timedelta(days=NEW_LISTING_DAYS)
    gmv: dict[str, float] = defaultdict(float)
    cat_gmv: dict[str, float] = defaultdict(float)
    markets: dict[str, set] = defaultdict(set)
    n: dict[str, int] = defaultdict(int)
    new: dict[str, int] = defaultdict(int)
    for pid, c, m, p, u, fl in zip(cp.platform_id.astype(str), cp.category.astype(str),
                                   cp.market.astype(str), cp.price_usd, cp.monthly_units,
                                   pd.to_datetime(cp.first_listed), strict=True):
        v = float(p) * float(u)
        gmv[pid] += v
        cat_gmv[pid] += v if c == cat else 0.0
        markets[pid].add(m)
        n[pid] += 1
        new[pid] += fl >= new_from
    raw = {pid: {"influence": gmv[pid], "circle_fit": cat_gmv[pid] / gmv[pid],
                 "popularity": float(len(markets[pid])), "trend": new[pid] / n[pid]}
           for pid in gmv}
    score = {pid: 0.0 for pid in raw}
    for a, wt in weights.items():
        vals = [raw[p][a] for p in raw]
        lo, hi = min(vals), max(vals)
        for p in raw:
            x = raw[p][a]
            score[p] += wt * ((x - lo) / (hi - lo) * 100 if normalise else x)
    return pd.Series(score).sort_index()


def _best_platform(w) -> str:
    s = _scores(w)
    best = max(s.to_numpy())
    return sorted(p for p, v in s.items() if v == best)[0]


def _cost_per_inquiry(w) -> float:
    fee = dict(zip(w.platforms.platform_id.astype(str), w.platforms.monthly_fee, strict=True))
    b2b = {str(s): str(p) for s, p, m in zip(w.stores.store_id, w.stores.platform_id,
                                             w.stores.model.astype(str), strict=True)
           if m == "B2B"}
    annual = sum(12 * float(fee[p]) for p in b2b.values())
    n = sum(1 for s, spam in zip(w.inquiries.store_id.astype(str), w.inquiries.flagged_spam,
                                 strict=True) if s in b2b and not bool(spam))
    return float(rules.round_money(annual / n))


# --- solution snippets ------------------------------------------------------------------------


_T = ("main = stores[stores.model == 'B2C'].iloc[0]          # 第一家 B2C 店铺\n"
      "cat, mkt = main.category_focus, main.market\n")

_SIZE = _T + """\
months = np.sort(market_demand.month.unique())
md = market_demand[(market_demand.category == cat) & market_demand.month.isin(months[-12:])]
market_size = md.groupby('market', observed=True).market_gmv_usd.sum()"""

_YOY = _T + """\
md = market_demand[(market_demand.category == cat) & (market_demand.market == mkt)]
months = np.sort(md.month.unique())
last = md[md.month.isin(months[-12:])].market_gmv_usd.sum()
prev = md[md.month.isin(months[-24:-12])].market_gmv_usd.sum()
yoy_growth = last / prev - 1"""

_RFQ = "rfq_demand = rfqs.groupby('destination_country', observed=True).quantity.sum()"

_CONC = _T + """\
from cbec_sim import rules

months = np.sort(market_demand.month.unique())[-12:]
md = market_demand[(market_demand.category == cat) & market_demand.month.isin(months)]
total = md.groupby('market', observed=True).market_gmv_usd.sum()
cs = competitor_sales[(competitor_sales.category == cat) & competitor_sales.month.isin(months)]
brand = cs.groupby(['market', 'brand'], observed=True).gmv_usd.sum().reset_index()
brand['share'] = brand.gmv_usd / total.reindex(brand.market).to_numpy()
rows = []
for m, g in brand.groupby('market', observed=True):
    rows.append({'market': m,
                 'cr4': rules.concentration_ratio(g.share, 4),
                 'cr8': rules.concentration_ratio(g.share, 8),
                 'hhi': rules.hhi(g.share)})
concentration = pd.DataFrame(rows)
concentration['level'] = np.where(concentration.hhi > 1800, 'high',
                                  np.where(concentration.hhi >= 1000, 'moderate', 'low'))"""

_SEASON = _T + """\
md = market_demand[(market_demand.category == cat) & (market_demand.market == mkt)]
gmv = md.groupby('month').market_gmv_usd.sum()
seasonal_index = gmv.groupby(gmv.index.month).mean() / gmv.mean()"""

_BAND = _T + """\
import matplotlib.pyplot as plt
from graders.plotting import use_cjk_font
use_cjk_font()

edges = [0, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, np.inf]
labels = ['0-10', '10-20', '20-30', '30-50', '50-75', '75-100', '100-150', '150-200',
          '200-300', '300-500', '500+']
cp = competitor_products[competitor_products.category == cat].copy()
cp['band'] = pd.cut(cp.price_usd, bins=edges, labels=labels, right=False)
bands = cp.groupby('band', observed=True).agg(n_listings=('competitor_product_id', 'count'),
                                              units=('monthly_units', 'sum'))
bands['units_per_listing'] = bands.units / bands.n_listings

fig, ax = plt.subplots(figsize=(8, 4))
ax.bar(bands.index.astype(str), bands.units_per_listing)
ax.set_title(f'{cat}：各价格带平均每个竞品的月销量')
ax.set_xlabel('价格带（美元）')
ax.set_ylabel('月销量 ÷ 竞品数（件/个）')
chart = ax"""

_ATTR = _T + """\
kw = keywords[(keywords.category == cat) & (keywords.market == mkt) & keywords.attribute.notna()]
vol = kw.groupby('attribute').search_volume.sum()
attr_share = vol / vol.sum()"""

_BLUE = _T + """\
from cbec_sim import rules

kw = keywords[(keywords.category == cat) & (keywords.market == mkt)]
trend = rules.keyword_trend(kw.search_volume, kw.search_volume_prev_year)
blue = kw[(trend == 'rising') & (kw.competition < 0.3)]
blue_ocean = list(blue.keyword_id)"""

_FORECAST = _T + """\
md = market_demand[(market_demand.category == cat) & (market_demand.market == mkt)]
gmv = md.groupby('month').market_gmv_usd.sum()                  # 36 个月
season = gmv.groupby(gmv.index.month).mean() / gmv.mean()        # 季节指数
deseason = gmv / season.reindex(gmv.index.month).to_numpy()      # ① 去掉季节
t = np.arange(len(gmv))
b, a = np.polyfit(t, deseason.to_numpy(), 1)                     # ② 线性趋势
future = pd.date_range(gmv.index[-1], periods=13, freq='MS')[1:]
t_next = np.arange(len(gmv), len(gmv) + 12)
forecast = float(((a + b * t_next) * season.reindex(future.month).to_numpy()).sum())  # ③"""

_SUPPLY = """\
ir = inbound_receipts[inbound_receipts.inbound_type == 'regular']
lead = (ir.arrival_date - ir.ordered_date).dt.days.groupby(ir.warehouse_id, observed=True).mean()
daily = inventory.groupby(['warehouse_id', 'date'], observed=True)[['on_hand_end',
                                                                   'outbound']].sum()
per_wh = daily.groupby('warehouse_id', observed=True).mean()
supply = pd.DataFrame({'lead_days': lead,
                       'cover_days': per_wh.on_hand_end / per_wh.outbound}).reset_index()"""

_CAND = _T + """\
b2c = platforms[platforms.model == 'B2C']
serves = b2c.markets.str.split('|').apply(lambda ms: mkt in ms)
candidates = list(b2c.platform_id[serves])"""

_ECON = _T + """\
from cbec_sim import rules

price = competitor_products[(competitor_products.category == cat)
                            & (competitor_products.market == mkt)].price_usd.median()
b2c = platforms[(platforms.model == 'B2C')
                & platforms.markets.str.split('|').apply(lambda ms: mkt in ms)]
fees = platform_fees[platform_fees.category == cat][['platform_id', 'referral_fee_pct',
                                                     'min_referral_fee']]
econ = b2c[['platform_id', 'monthly_fee']].merge(fees, on='platform_id')
econ['referral_fee'] = rules.referral_fee(price, econ.referral_fee_pct, econ.min_referral_fee)
econ['margin'] = price - econ.referral_fee - 0.55 * price
econ['breakeven_units'] = np.ceil((1500 + econ.monthly_fee) / econ.margin).astype(int)"""

_QUAD = _T + """\
md = market_demand[market_demand.category == cat]
months = np.sort(md.month.unique())
last = md[md.month.isin(months[-12:])].groupby('market', observed=True).market_gmv_usd.sum()
prev = md[md.month.isin(months[-24:-12])].groupby('market', observed=True).market_gmv_usd.sum()
quad = pd.DataFrame({'size': last, 'growth': last / prev - 1})
big = quad['size'] >= quad['size'].median()
fast = quad.growth >= quad.growth.median()
quad['quadrant'] = np.select([big & fast, ~big & fast, big & ~fast],
                             ['star', 'question', 'cash_cow'], 'dog')
quad = quad.rename_axis('market').reset_index()"""

_SCORE = _T + """\
cp = competitor_products.assign(gmv=competitor_products.price_usd
                                * competitor_products.monthly_units)
end = pd.Timestamp(world.meta['start']) + pd.DateOffset(months=world.meta['months'])
cp['is_new'] = cp.first_listed >= end - pd.Timedelta(days=180)
cp['cat_gmv'] = cp.gmv.where(cp.category == cat, 0.0)
raw = cp.groupby('platform_id').agg(influence=('gmv', 'sum'), cat_gmv=('cat_gmv', 'sum'),
                                    popularity=('market', 'nunique'), trend=('is_new', 'mean'))
raw['circle_fit'] = raw.cat_gmv / raw.influence
aspects = ['influence', 'circle_fit', 'popularity', 'trend']
norm = (raw[aspects] - raw[aspects].min()) / (raw[aspects].max() - raw[aspects].min()) * 100
weights = pd.Series({'influence': 0.4, 'circle_fit': 0.3, 'popularity': 0.15, 'trend': 0.15})
platform_score = (norm * weights).sum(axis=1)"""

# best_platform must not overwrite the previous item's answer variable (graded at the end).
_SCORE2 = _variant(_SCORE, "platform_score = (norm * weights)", "score = (norm * weights)")
_BEST = _SCORE2 + "\nbest_platform = score.idxmax()"

_INQ = """\
b2b = stores[stores.model == 'B2B'].merge(platforms[['platform_id', 'monthly_fee']],
                                          on='platform_id')
annual_fee = (b2b.monthly_fee * 12).sum()                      # 人民币元/年
real = inquiries[inquiries.store_id.isin(b2b.store_id) & ~inquiries.flagged_spam]
cost_per_inquiry = round(annual_fee / len(real), 2)"""

_CHART_TAIL = ("\nax.set_title('t'); ax.set_xlabel('x'); ax.set_ylabel('y')\n"
               "plt.close(fig)\nchart = ax")

# --- items ------------------------------------------------------------------------------------

_TARGET_CN = ("本模块的“目标”是公司的第一家 B2C 店铺："
              "`main = stores[stores.model == 'B2C'].iloc[0]`，"
              "目标品类 `cat = main.category_focus`，目标市场 `mkt = main.market`。")

EXERCISES: tuple[Exercise, ...] = (
    # ------------------------------------------------------------------ 01.01 market research
    Exercise(
        id="01.01.market_size",
        title="目标品类在各市场的市场容量",
        question=(_TARGET_CN + "调研市场容量（market size 市场容量，任务 1.1.2）：用 "
                  "`market_demand`，只看**最近 12 个月**（表中最后 12 个 `month`），按市场 "
                  "`market` 把目标品类的 `market_gmv_usd` 加总。结果存进 `market_size`："
                  "Series，索引是市场代码，值是美元（不必舍入）。"),
        stage=S51, tasks=("1.1.1", "1.1.2"), unit=UNIT, difficulty=1, points=1,
        answer="market_size", kind="series",
        answer_cn="Series：market → 最近 12 个月 GMV（美元）",
        reference=_market_size,
        solution=_SIZE,
        hints=("`np.sort(market_demand.month.unique())[-12:]` 是最后 12 个月。",
               "先筛出目标品类和这 12 个月，再 `groupby('market', observed=True)` 求和。"),
        mistakes=(
            Mistake("all_months", _variant(_SIZE, "months[-12:]", "months"),
                    "`market_demand` 有 36 个月：你把三年都加进去了。市场容量按最近 12 个月算。"),
            Mistake("monthly_mean", _variant(_SIZE, "market_gmv_usd.sum()",
                                             "market_gmv_usd.mean()"),
                    "你算的是月平均 GMV；题目要最近 12 个月的合计（年容量）。"),
        ),
        compare=SeriesOf(rel=1e-6, abs=0.01),
        tables=("stores", "market_demand"),
    ),
    Exercise(
        id="01.01.yoy_growth",
        title="目标市场的同比增长率",
        question=(_TARGET_CN + "市场是在增长还是萎缩（增量与存量，任务 1.1.6；市场成熟度，1.1.2）？"
                  "用 `market_demand` 计算目标品类在目标市场的同比增长率（YoY growth 同比增长率）"
                  "= 最近 12 个月 GMV 之和 ÷ 再往前 12 个月 GMV 之和 − 1。存进 `yoy_growth`"
                  "（小数，例如 0.08 表示增长 8%）。"),
        stage=S51, tasks=("1.1.2", "1.1.4", "1.1.6"), unit=UNIT, difficulty=1, points=1,
        answer="yoy_growth", kind="rate", answer_cn="比率（小数），不必舍入",
        reference=_yoy_growth,
        solution=_YOY,
        hints=("月份排序后，`months[-12:]` 是最近 12 个月，`months[-24:-12]` 是再往前 12 个月。",
               "两段各自把 `market_gmv_usd` 加总，再相除减 1。"),
        mistakes=(
            Mistake("ratio_only", _variant(_YOY, "last / prev - 1", "last / prev"),
                    "你算的是两年之比；增长率还要减 1。"),
            Mistake("last_month",
                    _variant(_YOY, "last / prev - 1",
                             "md[md.month == months[-1]].market_gmv_usd.sum() / "
                             "md[md.month == months[-13]].market_gmv_usd.sum() - 1"),
                    "你只比较了最后一个月和去年同月：单月波动大，题目要 12 个月合计的同比。"),
        ),
        compare=Rate(abs=1e-6),
        tables=("stores", "market_demand"),
    ),
    Exercise(
        id="01.01.rfq_demand",
        title="B2B：RFQ 采购需求来自哪些国家",
        question=("B2B 也要调研市场容量（1.1.2）。平台上的采购需求（RFQ，request for quotation "
                  "询价单，`rfqs`）写明了买家要的数量 `quantity` 和目的国 "
                  "`destination_country`。按目的国把所有 RFQ 的**采购数量**加总（不管店铺有没有"
                  "报价），存进 `rfq_demand`：Series，索引是国家代码，值是件数。"),
        stage=S51, tasks=("1.1.1", "1.1.2"), unit=UNIT, difficulty=1, points=1,
        answer="rfq_demand", kind="series", answer_cn="Series：destination_country → 数量（件）",
        reference=_rfq_demand,
        solution=_RFQ,
        hints=("`rfqs.groupby('destination_country', observed=True).quantity.sum()`。",),
        mistakes=(
            Mistake("rfq_count",
                    "rfq_demand = rfqs.groupby('destination_country', observed=True).size()",
                    "你数的是 RFQ 的张数；题目要的是采购数量 `quantity` 之和。"),
            Mistake("quoted_only",
                    "q = rfqs[rfqs.quoted_at.notna()]\n"
                    "rfq_demand = q.groupby('destination_country', observed=True).quantity.sum()",
                    "你只算了店铺报过价的 RFQ；市场需求要算全部 RFQ，没报价的也是需求。"),
        ),
        compare=SeriesOf(rel=1e-9, abs=1e-9),
        tables=("rfqs",),
    ),
    Exercise(
        id="01.01.concentration",
        title="各市场的集中度：CR4、CR8、HHI 和集中程度",
        question=(_TARGET_CN + "任务 1.1.6 要求计算市场集中度（market concentration 市场集中度）"
                  "和行业集中率（concentration ratio 集中率），这也是竞对分析（1.1.5）的第一步。"
                  "只看最近 12 个月（`market_demand` 的最后 12 个月；`competitor_sales` 同样筛这 "
                  "12 个月）。对目标品类的每个市场：\n\n"
                  "- 品牌份额 share = 该品牌 12 个月 `gmv_usd` 之和 ÷ 整个市场 12 个月 "
                  "`market_gmv_usd` 之和（分母含长尾卖家，用 `market_demand`）；\n"
                  "- `cr4`、`cr8`：份额最大的 4 个、8 个品牌的份额之和（小数，"
                  "`rules.concentration_ratio`）；\n"
                  "- `hhi`：赫芬达尔指数（HHI）= Σ(份额 × 100)²，0–10 000（`rules.hhi`）；\n"
                  "- `level`：HHI > 1800 为 `'high'`，1000–1800 为 `'moderate'`，"
                  "< 1000 为 `'low'`（美国司法部/联邦贸易委员会《横向合并指南》的分档，"
                  "外部惯例）。\n\n"
                  "结果存进 `concentration`：DataFrame，每个市场一行，列 `market`、`cr4`、`cr8`、"
                  "`hhi`、`level`。"),
        stage=S51, tasks=("1.1.5", "1.1.6"), unit=UNIT, difficulty=2, points=2,
        answer="concentration", kind="frame",
        answer_cn="DataFrame：market, cr4, cr8, hhi, level",
        reference=_concentration,
        solution=_CONC,
        hints=("分母是整个市场的 GMV：`market_demand` 按市场求和；分子是 `competitor_sales` "
               "按市场和品牌求和。",
               "每个市场的份额列表交给 `rules.concentration_ratio(份额, 4)` 和 `rules.hhi(份额)`；"
               "它们要的是小数份额。",
               "`np.where(hhi > 1800, 'high', np.where(hhi >= 1000, 'moderate', 'low'))`。"),
        mistakes=(
            Mistake("brands_denominator",
                    _variant(_CONC, "brand.gmv_usd / total.reindex(brand.market).to_numpy()",
                             "brand.gmv_usd / brand.groupby('market', observed=True)"
                             ".gmv_usd.transform('sum')"),
                    "分母只用了头部品牌的合计，漏掉了长尾卖家：份额的分母是整个市场的 GMV"
                    "（`market_demand.market_gmv_usd`）。"),
            Mistake("all_months",
                    _variant(_CONC, "np.sort(market_demand.month.unique())[-12:]",
                             "np.sort(competitor_sales.month.unique())"),
                    "`competitor_sales` 有 24 个月：题目只看最近 12 个月。"),
        ),
        compare=Frame(key=("market",), columns=("cr4", "cr8", "hhi", "level"), rel=1e-6),
        tables=("stores", "market_demand", "competitor_sales"),
    ),
    Exercise(
        id="01.01.seasonal_index",
        title="淡旺季：目标市场的季节指数",
        question=(_TARGET_CN + "识别淡旺季（peak/off season 淡旺季，任务 1.1.6）。用 "
                  "`market_demand` 中目标品类、目标市场全部 36 个月的 `market_gmv_usd`，计算"
                  "每个日历月的季节指数（seasonal index 季节指数）= 该日历月（如所有的 3 月）的"
                  "平均 GMV ÷ 36 个月的平均 GMV。存进 `seasonal_index`：Series，索引是月份 "
                  "1–12（整数），值是指数（1.2 表示比平均月份高 20%）。"),
        stage=S51, tasks=("1.1.6",), unit=UNIT, difficulty=2, points=2,
        answer="seasonal_index", kind="series", answer_cn="Series：月份 1–12 → 季节指数（小数）",
        reference=_seasonal_index,
        solution=_SEASON,
        hints=("筛出目标品类和目标市场后，`gmv.index.month` 给出日历月。",
               "`gmv.groupby(gmv.index.month).mean()` 是各日历月的平均，再除以 `gmv.mean()`。"),
        mistakes=(
            Mistake("last_year_only",
                    _variant(_SEASON, "gmv = md.groupby('month').market_gmv_usd.sum()",
                             "gmv = md.groupby('month').market_gmv_usd.sum().iloc[-12:]"),
                    "你只用了最后一年：一年的数据里趋势和偶然波动都算进了季节，用全部 36 个月"
                    "平均才稳定。"),
            Mistake("all_markets",
                    _variant(_SEASON,
                             "(market_demand.category == cat) & (market_demand.market == mkt)",
                             "market_demand.category == cat"),
                    "你把所有市场加在一起了：不同市场的淡旺季不同（南半球、斋月、双十一），"
                    "只看目标市场。"),
        ),
        compare=SeriesOf(rel=1e-6, abs=1e-9),
        tables=("stores", "market_demand"),
    ),
    Exercise(
        id="01.01.band_chart",
        title="最佳价格波段：各价格带的单品月销量",
        question=(_TARGET_CN + "找最佳价格波段（best price band 最佳价格波段，任务 1.1.6）。"
                  "用竞品监控表 `competitor_products` 中目标品类**所有市场**的竞品，按美元价格 "
                  "`price_usd` 分价格带，边界为 0, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500 "
                  "美元和无穷大，**左闭右开**（20 美元属于 20-30 带）。每个价格带计算"
                  "“平均每个竞品的月销量”= 该带 `monthly_units` 之和 ÷ 该带竞品数。画柱状图："
                  "只画有竞品的价格带，按价格从低到高排列；要有标题、横轴标签和纵轴标签（含单位）。"
                  "把 Axes 存进 `chart`。定在哪个价格带，也就定了品牌的档次（品牌定位，1.1.7）。"),
        stage=S51, tasks=("1.1.6", "1.1.7"), unit=UNIT, difficulty=2, points=2,
        answer="chart", kind="chart", answer_cn="matplotlib 的 Axes（柱状图）",
        reference=_band_units_per_listing,
        solution=_BAND,
        hints=("`pd.cut(价格, bins=边界, labels=标签, right=False)` 分价格带，`right=False` "
               "就是左闭右开。",
               "`groupby('band', observed=True)` 只保留有竞品的带，顺序就是价格顺序；"
               "`agg` 出竞品数和销量之和，再相除。"),
        mistakes=(
            Mistake("total_units",
                    _variant(_BAND, "ax.bar(bands.index.astype(str), bands.units_per_listing)",
                             "ax.bar(bands.index.astype(str), bands.units)") + _CHART_TAIL,
                    "你画的是每个价格带的总销量：竞品多的价格带自然总量大。最佳价格波段要看"
                    "**平均每个竞品**卖得多不多（销量 ÷ 竞品数）。"),
            Mistake("local_price",
                    _variant(_BAND, "pd.cut(cp.price_usd", "pd.cut(cp.price") + _CHART_TAIL,
                    "你用的是当地货币价格 `price`：日元、泰铢的数字不能和美元放在一起分带，"
                    "用 `price_usd`。"),
        ),
        compare=Chart(kind="bar"),
        tables=("stores", "competitor_products"),
    ),
    Exercise(
        id="01.01.attr_share",
        title="热搜属性：各属性的搜索量占比",
        question=(_TARGET_CN + "统计热搜属性（hot-search attributes 热搜属性，任务 1.1.6；选品"
                  "分析 1.1.9）。在关键词表 `keywords` 中取目标品类、目标市场、**带属性**的关键词"
                  "（`attribute` 不为空；只有名词的大词没有属性），按 `attribute` 把 "
                  "`search_volume`（最近 12 个月的月均搜索量）加总，再除以这些带属性关键词的搜索量"
                  "总和。存进 `attr_share`：Series，索引是属性，值是占比（小数，合计为 1）。"),
        stage=S51, tasks=("1.1.6", "1.1.9", "1.1.8"), unit=UNIT, difficulty=2, points=2,
        answer="attr_share", kind="series", answer_cn="Series：attribute → 搜索量占比（小数）",
        reference=_attr_share,
        solution=_ATTR,
        hints=("筛选条件有三个：品类、市场、`keywords.attribute.notna()`。",
               "`groupby('attribute').search_volume.sum()`，再除以它自己的合计。"),
        mistakes=(
            Mistake("keyword_count",
                    _variant(_ATTR, "vol = kw.groupby('attribute').search_volume.sum()",
                             "vol = kw.groupby('attribute').size()"),
                    "你数的是关键词个数：热搜看的是搜索量，一个大流量词比十个没人搜的词重要。"),
            Mistake("include_head",
                    _variant(_ATTR, "attr_share = vol / vol.sum()",
                             "allkw = keywords[(keywords.category == cat) "
                             "& (keywords.market == mkt)]\n"
                             "attr_share = vol / allkw.search_volume.sum()"),
                    "分母把没有属性的大词也算进去了：题目问的是带属性关键词之间的占比，"
                    "合计应为 1。"),
        ),
        compare=SeriesOf(rel=1e-6, abs=1e-9),
        tables=("stores", "keywords"),
    ),
    Exercise(
        id="01.01.blue_ocean",
        title="蓝海关键词：搜索在涨、竞争还小",
        question=(_TARGET_CN + "市场预测要探索市场蓝海（blue ocean 蓝海，任务 1.1.4）。在 "
                  "`keywords` 中找出目标品类、目标市场里同时满足两个条件的关键词：\n\n"
                  "- 趋势上升：`search_volume` ≥ 1.2 × `search_volume_prev_year`（"
                  "`rules.keyword_trend` 的 `'rising'`，课程的教学阈值）；\n"
                  "- 竞争小：广告竞争指数 `competition` < 0.3。\n\n"
                  "把它们的 `keyword_id` 存进 `blue_ocean`（list）。"),
        stage=S51, tasks=("1.1.4", "1.1.9"), unit=UNIT, difficulty=1, points=1,
        answer="blue_ocean", kind="set", answer_cn="list：keyword_id",
        reference=_blue_ocean,
        solution=_BLUE,
        hints=("`rules.keyword_trend(今年, 去年)` 返回每个词的 `'rising'`/`'stable'`/"
               "`'declining'`；表里的 `trend` 列也是这样算的。",
               "两个条件用 `&` 连接，每个条件加括号。"),
        mistakes=(
            Mistake("rising_only",
                    _variant(_BLUE, "(trend == 'rising') & (kw.competition < 0.3)",
                             "trend == 'rising'"),
                    "你只看了趋势：搜索在涨但竞争已经很激烈的词是红海，还要 `competition < 0.3`。"),
            Mistake("swapped_years",
                    _variant(_BLUE, "rules.keyword_trend(kw.search_volume, "
                             "kw.search_volume_prev_year)",
                             "rules.keyword_trend(kw.search_volume_prev_year, kw.search_volume)"),
                    "`rules.keyword_trend` 的第一个参数是今年、第二个是去年：你把顺序颠倒了，"
                    "选出的是搜索在下降的词。"),
        ),
        compare=IdSet(),
        tables=("stores", "keywords"),
    ),
    Exercise(
        id="01.01.forecast",
        title="预测明年的市场规模（趋势 × 季节）",
        question=(_TARGET_CN + "任务 1.1.4 市场预测。用目标品类、目标市场 36 个月的 GMV "
                  "（`market_demand.market_gmv_usd`）做经典的“趋势 × 季节”乘法分解预测：\n\n"
                  "1. 季节指数同上一题（日历月平均 ÷ 36 个月平均）；\n"
                  "2. 去季节：每个月的 GMV ÷ 该月的季节指数；\n"
                  "3. 对去季节后的 36 个数做线性趋势（最小二乘直线，时间 t = 0, 1, …, 35，"
                  "`np.polyfit(t, y, 1)`）；\n"
                  "4. 预测接下来 12 个月（t = 36…47）：趋势值 × 该月的季节指数，再加总。\n\n"
                  "把明年 12 个月的 GMV 预测合计存进 `forecast`（美元，浮点数，不必舍入）。"),
        stage=S51, tasks=("1.1.4",), unit=UNIT, difficulty=3, points=3,
        answer="forecast", kind="number", answer_cn="数值，美元，不必舍入",
        reference=_forecast,
        solution=_FORECAST,
        hints=("`season.reindex(gmv.index.month).to_numpy()` 把季节指数按月对齐到 36 个月上。",
               "`b, a = np.polyfit(t, y, 1)` 返回斜率 b 和截距 a；趋势值 = a + b × t。",
               "下一年的 12 个月是 `pd.date_range(最后一个月, periods=13, freq='MS')[1:]`，"
               "它们的 `.month` 用来取季节指数。"),
        mistakes=(
            Mistake("no_season",
                    _variant(_FORECAST,
                             "forecast = float(((a + b * t_next) * "
                             "season.reindex(future.month).to_numpy()).sum())",
                             "b, a = np.polyfit(t, gmv.to_numpy(), 1)\n"
                             "forecast = float((a + b * t_next).sum())"),
                    "你直接对原始 GMV 拟合直线，没有先去掉季节、预测时也没有乘回季节指数。"),
            Mistake("naive_growth",
                    _T + "md = market_demand[(market_demand.category == cat) "
                    "& (market_demand.market == mkt)]\n"
                    "gmv = md.groupby('month').market_gmv_usd.sum()\n"
                    "last, prev = gmv.iloc[-12:].sum(), gmv.iloc[-24:-12].sum()\n"
                    "forecast = float(last * last / prev)",
                    "你用“今年 × (1 + 同比增长率)”外推：题目要求用 36 个月的线性趋势和季节指数。"),
        ),
        compare=Number(rel=1e-6),
        tables=("stores", "market_demand"),
    ),
    Exercise(
        id="01.01.supply_chain",
        title="供应链：采购周期与库存可售天数",
        question=("任务 1.1.3 调研供应链要从运营成本、供应链库存和客服水平三方面看现状；1.1.10 "
                  "要分析采购数据和库存数据。按仓库 `warehouse_id` 做一张表 `supply`"
                  "（DataFrame），每个仓库一行：\n\n"
                  "- `lead_days`：采购周期（lead time 采购周期）= **常规采购**"
                  "（`inbound_type == 'regular'`）的 `arrival_date − ordered_date` 天数的平均值"
                  "（紧急采购当天到货，不代表正常周期）；\n"
                  "- `cover_days`：库存可售天数（days of cover 可售天数）= 该仓库**每天**的期末"
                  "库存（所有 SKU `on_hand_end` 之和）的平均值 ÷ **每天**的出库量（`outbound` "
                  "之和）的平均值，用 `inventory` 的全部日期（没有出库的日子也算）。"),
        stage=S51, tasks=("1.1.3", "1.1.10"), unit=UNIT, difficulty=3, points=3,
        answer="supply", kind="frame",
        answer_cn="DataFrame：warehouse_id, lead_days, cover_days",
        reference=_supply_chain,
        solution=_SUPPLY,
        hints=("日期相减得到 Timedelta，`.dt.days` 取天数。",
               "先按 `['warehouse_id', 'date']` 把各 SKU 加总成每天一行，再按仓库取平均。",
               "可售天数 = 平均库存 ÷ 平均日出库；没有出库的日子出库量是 0，也要算进平均。"),
        mistakes=(
            Mistake("total_outbound",
                    _variant(_SUPPLY, "per_wh.on_hand_end / per_wh.outbound",
                             "per_wh.on_hand_end / daily.groupby('warehouse_id', observed=True)"
                             ".outbound.sum()"),
                    "你用平均库存除以全年出库总量：分母要的是**平均每天**的出库量，"
                    "两者单位才能得出“天”。"),
            Mistake("sales_days_only",
                    _SUPPLY.replace("per_wh.outbound", "out_days") .replace(
                        "per_wh = daily", "out_days = daily[daily.outbound > 0].groupby("
                        "'warehouse_id', observed=True).outbound.mean()\nper_wh = daily"),
                    "你只在有出库的日子里平均出库量，日出库被高估，可售天数被低估："
                    "没有出库的日子也要算进平均。"),
        ),
        compare=Frame(key=("warehouse_id",), columns=("lead_days", "cover_days"), rel=1e-6),
        tables=("inbound_receipts", "inventory"),
    ),
    # --------------------------------------------------------------- 01.02 platform selection
    Exercise(
        id="01.02.candidates",
        title="目标市场可以选哪些 B2C 平台",
        question=(_TARGET_CN + "平台选择（任务 2.1.1）的第一步是列出候选平台。`platforms` 表的 "
                  "`markets` 列用 `|` 分隔列出每个平台服务的市场。找出**服务目标市场**的 "
                  "**B2C** 平台（`model == 'B2C'`），不管公司现在有没有在上面开店。"
                  "把它们的 `platform_id` 存进 `candidates`（list）。"),
        stage=S52, tasks=("2.1.1",), unit=UNIT, difficulty=1, points=1,
        answer="candidates", kind="set", answer_cn="list：platform_id",
        reference=_candidates,
        solution=_CAND,
        hints=("`platforms.markets.str.split('|')` 把每行变成市场列表，"
               "再用 `apply(lambda ms: mkt in ms)` 判断是否包含目标市场。",
               "别忘了 `model == 'B2C'` 这个条件。"),
        mistakes=(
            Mistake("with_b2b",
                    _T + "serves = platforms.markets.str.split('|').apply(lambda ms: mkt in ms)\n"
                    "candidates = list(platforms.platform_id[serves])",
                    "你把 B2B 平台（如阿里巴巴国际站）也列进来了：这一步为 B2C 店铺选平台。"),
            Mistake("no_market_filter",
                    "candidates = list(platforms.platform_id[platforms.model == 'B2C'])",
                    "你列出了所有 B2C 平台：只有服务目标市场的平台才是候选。"),
        ),
        compare=IdSet(),
        tables=("stores", "platforms"),
    ),
    Exercise(
        id="01.02.unit_economics",
        title="各候选平台的单件利润和保本销量",
        question=(_TARGET_CN + "比较各平台的成本（2.1.1：结合企业实力和资源）。设想在目标市场卖"
                  "一款目标品类的商品：\n\n"
                  "- 售价 `price` = `competitor_products` 中目标品类、目标市场竞品 `price_usd` 的"
                  "**中位数**（美元）；\n"
                  "- 到岸成本（货物、头程、尾程、包装）= 售价 × 0.55（**合成教学参数**）；\n"
                  "- 平台佣金（referral fee 佣金）按 `platform_fees` 中**该平台、该品类**的费率"
                  "和最低佣金：`rules.referral_fee(price, 费率, 最低佣金)`（已舍入到分）；\n"
                  "- 每家店铺每月固定运营费用 1500 美元（**合成教学参数**）加平台月费 "
                  "`platforms.monthly_fee`（B2C 平台的月费都是美元）。\n\n"
                  "对每个服务目标市场的 B2C 平台，做一张表 `econ`（DataFrame），列 "
                  "`platform_id`、`referral_fee`（每件佣金）、`margin`（每件贡献利润 = 售价 − 佣金 "
                  "− 到岸成本）、`breakeven_units`（每月保本销量 = (1500 + 月费) ÷ margin，"
                  "**向上取整**为整数件）。"),
        stage=S52, tasks=("2.1.1",), unit=UNIT, difficulty=3, points=3,
        answer="econ", kind="frame",
        answer_cn="DataFrame：platform_id, referral_fee, margin, breakeven_units",
        reference=_unit_economics,
        solution=_ECON,
        hints=("候选平台和上一题一样；费率要用 `platform_fees` 中 `category == cat` 的行，"
               "按 `platform_id` 合并。",
               "`rules.referral_fee(price, 费率列, 最低佣金列)` 一次算出每个平台的佣金。",
               "保本销量要向上取整：`np.ceil(...)`，卖 152.3 件不够，要 153 件。"),
        mistakes=(
            Mistake("fee_only",
                    _variant(_ECON, "np.ceil((1500 + econ.monthly_fee) / econ.margin)",
                             "np.ceil(econ.monthly_fee / econ.margin)"),
                    "保本要覆盖全部固定费用：除了平台月费，还有每月 1500 美元的店铺运营费用。"),
            Mistake("no_ceil",
                    _variant(_ECON, "np.ceil((1500 + econ.monthly_fee) / econ.margin).astype(int)",
                             "(1500 + econ.monthly_fee) / econ.margin"),
                    "保本销量要向上取整成整数件：差一点点也没保本。"),
        ),
        compare=Frame(key=("platform_id",), columns=("referral_fee", "margin", "breakeven_units"),
                      rel=1e-6, abs=1e-6),
        tables=("stores", "platforms", "platform_fees", "competitor_products"),
    ),
    Exercise(
        id="01.02.quadrants",
        title="市场吸引力矩阵：规模 × 增长",
        question=(_TARGET_CN + "2.1.1(b) 要按平台体量和**市场前景**选择。对目标品类在本世界每个"
                  "市场（`market_demand` 中出现的市场）计算：\n\n"
                  "- `size`：最近 12 个月 GMV 之和（美元）；\n"
                  "- `growth`：同比增长率 = 最近 12 个月 ÷ 再往前 12 个月 − 1；\n"
                  "- `quadrant`：以各市场的**中位数**为界（≥ 中位数算“高”）：规模高、增长高为 "
                  "`'star'`（明星），规模低、增长高为 `'question'`（问题），规模高、增长低为 "
                  "`'cash_cow'`（现金牛），都低为 `'dog'`（瘦狗）。这是波士顿矩阵（BCG matrix）"
                  "的思路，用中位数分界是本课程的约定。\n\n"
                  "结果存进 `quad`：DataFrame，每个市场一行，列 `market`、`size`、`growth`、"
                  "`quadrant`。"),
        stage=S52, tasks=("2.1.1", "1.1.4"), unit=UNIT, difficulty=2, points=2,
        answer="quad", kind="frame", answer_cn="DataFrame：market, size, growth, quadrant",
        reference=_quadrants,
        solution=_QUAD,
        hints=("两段时间各 `groupby('market', observed=True).market_gmv_usd.sum()`，"
               "得到两个按市场对齐的 Series。",
               "`np.select([条件1, 条件2, 条件3], [标签1, 标签2, 标签3], 默认标签)` 一次分四类。"),
        mistakes=(
            Mistake("units_size",
                    _variant(_QUAD, "last = md[md.month.isin(months[-12:])].groupby('market', "
                             "observed=True).market_gmv_usd.sum()",
                             "last = md[md.month.isin(months[-12:])].groupby('market', "
                             "observed=True).market_gmv_usd.sum()\n"
                             "units = md[md.month.isin(months[-12:])].groupby('market', "
                             "observed=True).units_sold.sum()").replace(
                                 "pd.DataFrame({'size': last,", "pd.DataFrame({'size': units,"),
                    "规模用的是销售件数：各市场价格不同，件数不能代表市场规模，用 GMV（美元）。"),
            Mistake("all_history",
                    _variant(_QUAD, "'size': last,",
                             "'size': md.groupby('market', observed=True)"
                             ".market_gmv_usd.sum(),"),
                    "规模要用最近 12 个月：你把 36 个月都加进去了。"),
        ),
        compare=Frame(key=("market",), columns=("size", "growth", "quadrant"), rel=1e-6),
        tables=("stores", "market_demand"),
    ),
    Exercise(
        id="01.02.platform_score",
        title="按 2.1.1(c) 四个方面给平台加权打分",
        question=(_TARGET_CN + "任务 2.1.1(c) 要求综合考虑四个方面：平台排名与影响力、客户圈层、"
                  "本土流行度、跨境新趋势。用竞品监控表 `competitor_products`（各 B2C 平台上的"
                  "竞品，所有市场）为每个平台 `platform_id` 算四个指标：\n\n"
                  "- `influence` 影响力：Σ `price_usd` × `monthly_units`（竞品月 GMV，美元）；\n"
                  "- `circle_fit` 客户圈层：目标品类竞品 GMV ÷ 该平台全部竞品 GMV；\n"
                  "- `popularity` 流行度：该平台有竞品的市场个数；\n"
                  "- `trend` 新趋势：`first_listed` 在世界最后一天之前 180 天内（"
                  "`first_listed >= end − 180 天`，`end = pd.Timestamp(world.meta['start']) + "
                  "pd.DateOffset(months=world.meta['months'])`）的竞品占比。\n\n"
                  "每个指标在各平台之间做最小–最大标准化（min-max normalisation）：(x − 最小) ÷ "
                  "(最大 − 最小) × 100；再按权重 0.4、0.3、0.15、0.15（**合成教学参数**）加权"
                  "求和。结果存进 `platform_score`：Series，索引是 `platform_id`，值是 0–100 "
                  "的得分。"),
        stage=S52, tasks=("2.1.1",), unit=UNIT, difficulty=3, points=3,
        answer="platform_score", kind="series", answer_cn="Series：platform_id → 得分（0–100）",
        reference=_scores,
        solution=_SCORE,
        hints=("先加两列：`gmv = price_usd * monthly_units`，以及只在目标品类上取 gmv、"
               "其他品类为 0 的 `cat_gmv`（`gmv.where(条件, 0.0)`）。",
               "`groupby('platform_id').agg(...)` 一次得到四个原始指标；`('market', 'nunique')` "
               "数市场个数，布尔列的 `mean` 就是占比。",
               "标准化：`(df - df.min()) / (df.max() - df.min()) * 100`，"
               "再乘权重 Series 后 `sum(axis=1)`。"),
        mistakes=(
            Mistake("no_normalise",
                    _variant(_SCORE, "platform_score = (norm * weights).sum(axis=1)",
                             "platform_score = (raw[aspects] * weights).sum(axis=1)"),
                    "你没有标准化：影响力（几百万美元）会压倒其他三个指标（小数或个位数），"
                    "权重就失去了意义。先把每个指标换成 0–100。"),
            Mistake("equal_weights",
                    _variant(_SCORE, "platform_score = (norm * weights).sum(axis=1)",
                             "platform_score = norm.mean(axis=1)"),
                    "你给四个方面同样的权重：题目给定的权重是 0.4、0.3、0.15、0.15。"),
        ),
        compare=SeriesOf(rel=1e-6, abs=1e-6),
        tables=("stores", "competitor_products"),
    ),
    Exercise(
        id="01.02.best_platform",
        title="决策：得分最高的平台",
        question=("根据上一题的加权得分，选出得分最高的平台（若并列取 `platform_id` 字母顺序"
                  "最前的）。把它的 `platform_id` 存进 `best_platform`（字符串，例如 "
                  "`'ebay'`）。"),
        stage=S52, tasks=("2.1.1",), unit=UNIT, difficulty=2, points=2,
        answer="best_platform", kind="choice", answer_cn="字符串：一个 platform_id",
        reference=_best_platform,
        solution=_BEST,
        hints=("上一题的 `platform_score` 已经是每个平台一个得分；"
               "`Series.idxmax()` 返回最大值所在的索引。",),
        mistakes=(
            Mistake("lowest", _SCORE2 + "\nbest_platform = score.sort_values().index[0]",
                    "`sort_values()` 默认从小到大排：你取到的是得分最低的平台。"),
            Mistake("off_by_one",
                    _SCORE2 + "\nbest_platform = score.sort_values(ascending=False).index[1]",
                    "Python 从 0 开始编号：`.index[1]` 是排在第二的平台，第一名是 `.index[0]`。"),
        ),
        compare=Choice(options=("aliexpress", "amazon", "ebay", "wish", "joom", "shopee",
                                "lazada", "tiktok_shop", "ozon", "wildberries", "coupang",
                                "jumia", "alibaba")),
        tables=("stores", "competitor_products"),
    ),
    Exercise(
        id="01.02.b2b_inquiry_cost",
        title="B2B：国际站会员费摊到每条有效询盘",
        question=("B2B 平台（阿里巴巴国际站 Alibaba.com）按年收会员费，不抽佣金。判断这笔钱值不值，"
                  "常用“每条有效询盘的成本”。把公司所有 B2B 店铺（`stores.model == 'B2B'`）所在"
                  "平台的月费 `platforms.monthly_fee`（人民币元）× 12 得到年费，再除以这些店铺在 "
                  "`inquiries` 中**未被标为垃圾询盘**（`flagged_spam` 为 False）的询盘数。"
                  "结果存进 `cost_per_inquiry`（人民币元，保留两位小数）。"),
        stage=S52, tasks=("2.1.1",), unit=UNIT, difficulty=2, points=2,
        answer="cost_per_inquiry", kind="money", answer_cn="金额，人民币元，保留两位小数",
        reference=_cost_per_inquiry,
        solution=_INQ,
        hints=("B2B 店铺的平台在 `stores.platform_id`，月费在 `platforms`：先 `merge`。",
               "`~inquiries.flagged_spam` 去掉垃圾询盘。"),
        mistakes=(
            Mistake("with_spam",
                    _variant(_INQ, " & ~inquiries.flagged_spam", ""),
                    "垃圾询盘不会带来订单：分母只算有效询盘（`flagged_spam` 为 False）。"),
            Mistake("monthly_fee",
                    _variant(_INQ, "(b2b.monthly_fee * 12).sum()", "b2b.monthly_fee.sum()"),
                    "询盘是一整年收到的：费用也要用全年的会员费（月费 × 12）。"),
        ),
        tables=("stores", "platforms", "inquiries"),
    ),
)
