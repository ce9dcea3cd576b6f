"""Stages ``marketing_plan`` and ``marketing_metrics``: promotion, ads, live, social, traffic.

Covers clauses 5.10 (on-platform promotion: Table 1 6.1.x free promotions — discounts,
coupons, 满减 spend-threshold reductions — and 6.2.x paid ads), 5.11 (live streaming) and 5.12
(off-platform SNS / SEO, 6.3.x / 6.4.x), and the data tasks 7.1/7.4, 7.1/7.5, 7.2.1, 7.2.4
(exposure, clicks, CTR, conversion, new visitors, favourites, add-to-carts).

Flow:

- :func:`build_plan` (before orders) writes what a seller sets up in advance: promotions,
  ad campaigns and their keywords, scheduled live sessions and social posts. Planted anomalies
  (``promo_misconfig``, ``ad_waste``, ``traffic_drop``) are decided here and labelled.
- :func:`attribute` (and its integer form :func:`attribute_codes`, which the orders stage
  calls) gives every order a channel, a device and the ids (promotion, campaign + keyword,
  live session, post) that are *consistent* with the plans — an id is set only if the
  promotion/campaign/session/post really was live for that store at that time; otherwise
  the order falls back to another channel.
- :func:`build_metrics` (after orders) reports the funnel around those orders: ``ads_daily``
  and ``traffic_daily`` whose order counts/sales equal the attributed orders exactly, and the
  completed ``live_sessions`` / ``social_posts`` result metrics.
- :func:`demand_lift` (optional, for the orders stage) turns the plan into a (store × day)
  demand multiplier: promotions lift orders, the planted traffic drop removes organic orders.

Conventions shared by all tables here: a *local day* is ``created_at`` converted to the
market's time zone (``markets.yaml`` ``tz``) and truncated to the date; attributed orders
count every order placed (any status, including later cancelled ones); attributed sales /
GMV / revenue are the sum of ``orders.order_total`` (what the buyer paid, store currency).
Rates, shares, CTRs and conversion rates below are simulation parameters (teaching values of
a plausible order of magnitude), not measurements or platform rules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec_sim.calendar import demand_multiplier, event_days, peak_table
from cbec_sim.context import Context
from cbec_sim.rules import round_cents, to_cents
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import codes as _codes
from cbec_sim.tables._util import make_ids as _make_ids
from cbec_sim.tables._util import noon_utc_offsets, weighted_choice_by_group
from cbec_sim.tables._util import take as _str_take
from cbec_sim.tables.customers import CHANNELS
from cbec_sim.tables.labels import anomaly_rows, label_frame, label_spec

# --------------------------------------------------------------------------- vocabulary
C_ORG, C_ADS, C_SOC, C_LIVE, C_EMAIL, C_DIRECT, C_AFF = range(7)
assert CHANNELS == ("organic_search", "sponsored_ads", "social", "live", "email", "direct",
                    "affiliate")
DEVICES = ("mobile", "pc")
PROMO_TYPES = ("discount", "coupon", "spend_threshold", "flash_deal", "platform_event")
CAMPAIGN_TYPES = ("sponsored_products", "sponsored_brands", "display")
TARGETING = ("auto", "manual")
CAMPAIGN_STATUS = ("active", "paused", "ended")
MATCH_TYPES = ("exact", "phrase", "broad")
HOST_TYPES = ("store_host", "influencer")
SNS_PLATFORMS = ("facebook", "instagram", "youtube", "tiktok", "pinterest", "blog")
POST_TYPES = ("image", "video", "reel", "blog_seo")
#: Platforms whose sellers can stream (TikTok LIVE, Shopee Live, LazLive, Amazon Live,
#: AliExpress Live).
LIVE_PLATFORMS = ("tiktok_shop", "shopee", "lazada", "amazon", "aliexpress")

# --------------------------------------------------------------------------- parameters
#: Channel mix of first-time buyers' orders by platform, in CHANNELS order (simulation
#: parameter): Amazon/eBay are search-and-ads marketplaces, TikTok Shop is content-driven
#: (live + short video + creator affiliates), Shopee/Lazada mix search with live.
CHANNEL_MIX: dict[str, tuple[float, ...]] = {
    "amazon": (0.42, 0.28, 0.04, 0.02, 0.02, 0.14, 0.08),
    "ebay": (0.50, 0.18, 0.04, 0.00, 0.04, 0.17, 0.07),
    "aliexpress": (0.42, 0.20, 0.09, 0.06, 0.02, 0.15, 0.06),
    "wish": (0.52, 0.24, 0.08, 0.00, 0.02, 0.11, 0.03),
    "joom": (0.52, 0.24, 0.08, 0.00, 0.02, 0.11, 0.03),
    "shopee": (0.36, 0.20, 0.10, 0.14, 0.02, 0.15, 0.03),
    "lazada": (0.38, 0.20, 0.09, 0.12, 0.02, 0.16, 0.03),
    "tiktok_shop": (0.10, 0.10, 0.28, 0.34, 0.01, 0.05, 0.12),
}
DEFAULT_MIX = (0.50, 0.22, 0.05, 0.00, 0.03, 0.15, 0.05)
#: Repeat buyers come back more directly and via e-mail (multiplier per channel).
REPEAT_TILT = np.array([0.85, 0.8, 0.9, 1.0, 2.5, 1.8, 0.7])
#: Mobile share of sessions by market (simulation parameter, 60–85 %).
MOBILE_SHARE = {"US": .68, "CA": .66, "MX": .78, "BR": .76, "GB": .70, "DE": .60, "FR": .64,
                "ES": .68, "IT": .68, "PL": .66, "RU": .66, "JP": .62, "KR": .78, "AU": .68,
                "SG": .74, "MY": .80, "TH": .80, "ID": .82, "PH": .82, "VN": .80, "SA": .80,
                "AE": .76, "NG": .84, "KE": .84}
#: Log-odds shift of the mobile share per channel (social/live are app-native, e-mail is
#: read more on desktop) — simulation parameter.
MOBILE_SHIFT = np.array([0.0, 0.0, 1.4, 2.0, -0.5, -0.2, 0.3])
TIKTOK_MOBILE_SHIFT = 1.2
#: Orders ÷ sessions per channel before platform/device factors (simulation parameter).
CVR = np.array([0.030, 0.090, 0.012, 0.035, 0.050, 0.070, 0.030])
PLATFORM_CVR = {"amazon": 1.9, "ebay": 1.4, "aliexpress": 0.8, "wish": 0.7, "joom": 0.7}
DEVICE_CVR = np.array([0.9, 1.35])  # mobile, pc
#: Sessions ÷ impressions (click-through on the channel's exposure); direct has none.
CTR = np.array([0.035, 0.005, 0.012, 0.08, 0.20, 1.0, 0.02])
PAGES_PER_SESSION = np.array([3.0, 4.4])  # mobile, pc
ATC_RATE = np.array([0.07, 0.06, 0.04, 0.05, 0.10, 0.12, 0.06])  # extra add-to-carts
FAV_RATE = np.array([0.04, 0.03, 0.05, 0.06, 0.04, 0.05, 0.03])  # 收藏 per session
NEW_VISITOR = np.array([0.70, 0.75, 0.72, 0.60, 0.08, 0.30, 0.80])
#: Conversion rate of ad clicks (orders ÷ clicks) before match-type/ad-type factors;
#: Amazon shoppers arrive with purchase intent and convert more.
AD_CVR = 0.07
AMAZON_AD_CVR = 1.4
#: Chance that an eligible order uses the active promotion of each type.
PROMO_USE = {"discount": 0.35, "coupon": 0.18, "spend_threshold": 0.30, "flash_deal": 0.45,
             "platform_event": 0.55}
#: Platform events each platform joins (missing: every B2C platform).
EVENT_PLATFORMS = {
    "prime_day": ("amazon",),
    "singles_day": ("aliexpress", "shopee", "lazada", "tiktok_shop", "joom", "ozon",
                    "wildberries", "coupang"),
    "double_nine": ("shopee", "lazada", "tiktok_shop"),
    "double_twelve": ("shopee", "lazada", "tiktok_shop", "aliexpress"),
}
EVENT_NAMES = {"prime_day": "Prime Day", "black_friday": "Black Friday",
               "cyber_monday": "Cyber Monday", "christmas": "Christmas Sale",
               "boxing_day": "Boxing Day Sale", "singles_day": "11.11 Big Sale",
               "double_twelve": "12.12 Sale", "double_nine": "9.9 Super Shopping Day",
               "ramadan": "Ramadan Sale", "white_friday": "White Friday",
               "new_year": "New Year Sale", "year_end": "Year-end Sale"}
BIG_EVENTS = {"prime_day", "black_friday", "cyber_monday", "singles_day", "white_friday"}
#: Daily chance of a (midday, evening) stream per platform: TikTok Shop sellers stream most
#: days, Shopee/Lazada a few evenings a week, Amazon Live/AliExpress Live occasionally.
LIVE_SLOTS = {"tiktok_shop": (0.55, 0.92), "shopee": (0.12, 0.55), "lazada": (0.08, 0.45),
              "aliexpress": (0.0, 0.22), "amazon": (0.0, 0.12)}
POSTS_PER_WEEK = {"tiktok_shop": 5.0}
LIVE_TAIL_NS = 2 * 3600 * 10**9  # orders up to 2 h after a stream ends still count
SOCIAL_WINDOW_NS = 14 * 86_400 * 10**9  # 14-day click-through attribution window
TRAFFIC_DROP_FACTOR = 0.2  # organic exposure/sessions kept during a planted traffic drop
MISCONFIG_PCTS = np.array([0.05, 0.06, 0.08, 0.09])

# --------------------------------------------------------------------------- schemas
_S = Column("store_id", "str", "store", references="stores.store_id")
_CUR = Column("currency", "str", "currency of the money columns (the store's currency)")

PROMOTIONS = register(TableSpec(
    name="promotions",
    grain="one promotion set up by one store",
    description="Store promotions (Table 1 6.1.2): percentage discounts, coupons (X off, "
                "optional minimum spend), spend-threshold reductions (满减: spend Y save X), "
                "flash deals and platform events (Black Friday, 11.11 …). An order gets "
                "`rules.promotion_discount(...)` from its promotion.",
    columns=(
        Column("promotion_id", "str", "promotion id", unique=True),
        _S,
        Column("promo_type", "category", "mechanism", values=PROMO_TYPES),
        Column("name", "str", "promotion name shown to buyers"),
        Column("event", "str", "platform event the promotion belongs to (platform_event "
               "only)", nullable=True),
        Column("start_date", "date", "first local day it is active"),
        Column("end_date", "date", "last local day it is active (inclusive)"),
        Column("discount_pct", "rate", "share taken off the items subtotal (percentage "
               "types; empty for amount types)", nullable=True, ge=0, le=1),
        Column("threshold_amount", "money", "minimum items subtotal (spend_threshold, and "
               "coupons with a minimum spend)", unit="currency", nullable=True, ge=0),
        Column("amount_off", "money", "amount taken off (coupon, spend_threshold)",
               unit="currency", nullable=True, ge=0),
        Column("coupon_code", "str", "code the buyer enters (coupons only)", nullable=True),
        _CUR,
    ),
))

AD_CAMPAIGNS = register(TableSpec(
    name="ad_campaigns",
    grain="one paid on-platform ad campaign of one B2C store",
    description="Paid store promotion (Table 1 6.2.x): sponsored-product, sponsored-brand and "
                "display campaigns with a daily budget.",
    columns=(
        Column("campaign_id", "str", "campaign id", unique=True),
        _S,
        Column("campaign_name", "str", "campaign name"),
        Column("campaign_type", "category", "ad product", values=CAMPAIGN_TYPES),
        Column("targeting", "category", "auto (platform picks search terms) or manual "
               "(seller's keywords)", values=TARGETING),
        Column("daily_budget", "money", "maximum spend per local day", unit="currency", ge=0),
        _CUR,
        Column("start_date", "date", "first day the campaign ran"),
        Column("end_date", "date", "last day it ran (the period's last day if still running)"),
        Column("status", "category", "status at the end of the period",
               values=CAMPAIGN_STATUS),
    ),
))

AD_KEYWORDS = register(TableSpec(
    name="ad_keywords",
    grain="one keyword bid in one campaign",
    description="Keywords bought in each campaign, with match type and max CPC bid.",
    columns=(
        Column("ad_keyword_id", "str", "ad keyword id", unique=True),
        Column("campaign_id", "str", "campaign", references="ad_campaigns.campaign_id"),
        _S,
        Column("keyword_id", "str", "search term", references="keywords.keyword_id"),
        Column("match_type", "category", "how closely a search must match",
               values=MATCH_TYPES),
        Column("bid", "money", "maximum cost per click", unit="currency", ge=0),
        _CUR,
    ),
))

LIVE_SESSIONS = register(TableSpec(
    name="live_sessions",
    grain="one live-stream session of one store",
    description="Live-stream selling (clause 5.11) on platforms with live shopping. Result "
                "columns are filled after the orders: `orders`/`gmv` are exactly the orders "
                "whose `live_session_id` is the session (placed between start and end + 2 h).",
    columns=(
        Column("live_session_id", "str", "live session id", unique=True),
        _S,
        Column("start_at", "timestamp", "stream start"),
        Column("duration_min", "int", "stream length", unit="min", ge=1),
        Column("host_type", "category", "store's own host or a paid influencer (红人)",
               values=HOST_TYPES),
        Column("products_featured", "int", "products shown in the stream", ge=1),
        Column("viewers", "int", "unique viewers", ge=0),
        Column("peak_concurrent", "int", "highest simultaneous viewers", ge=0),
        Column("avg_watch_sec", "float", "average watch time per viewer", unit="s", ge=0),
        Column("comments", "int", "comments posted", ge=0),
        Column("likes", "int", "likes (taps)", ge=0),
        Column("new_followers", "int", "viewers who followed the store", ge=0),
        Column("orders", "int", "orders attributed to the session", ge=0),
        Column("gmv", "money", "order_total of those orders", unit="currency", ge=0),
        _CUR,
    ),
))

SOCIAL_POSTS = register(TableSpec(
    name="social_posts",
    grain="one post of one store on an off-platform social network or its blog",
    description="Off-platform promotion (clause 5.12): SNS posts (6.3) and SEO blog articles "
                "(6.4, `sns_platform` = blog). Results are filled after the orders: "
                "`conversions`/`revenue` are exactly the orders whose `post_id` is the post "
                "(placed within 14 days after posting, UTM click-through).",
    columns=(
        Column("post_id", "str", "post id", unique=True),
        _S,
        Column("sns_platform", "category", "network (blog = the store's own SEO blog)",
               values=SNS_PLATFORMS),
        Column("post_type", "category", "format", values=POST_TYPES),
        Column("posted_at", "timestamp", "publication time"),
        Column("paid", "bool", "boosted with paid reach"),
        Column("spend", "money", "paid boost spend (0 for organic posts)", unit="currency",
               ge=0),
        _CUR,
        Column("reach", "int", "unique accounts reached", ge=0),
        Column("impressions", "int", "times shown", ge=0),
        Column("engagements", "int", "likes, comments, shares, saves and link clicks", ge=0),
        Column("utm_clicks", "int", "clicks through to the store (UTM-tagged link)", ge=0),
        Column("conversions", "int", "orders attributed to the post", ge=0),
        Column("revenue", "money", "order_total of those orders", unit="currency", ge=0),
    ),
))

ADS_DAILY = register(TableSpec(
    name="ads_daily",
    grain="one ad keyword × local day with impressions",
    description="Advertising report (6.2.3, 7.2.4). `attributed_orders`/`attributed_sales` "
                "are exactly the orders with that campaign_id and keyword_id placed on that "
                "local day (any status); sales = sum of order_total. Spend per campaign and "
                "day never exceeds the campaign's daily budget.",
    columns=(
        Column("date", "date", "local day (market time zone)"),
        Column("campaign_id", "str", "campaign", references="ad_campaigns.campaign_id"),
        Column("ad_keyword_id", "str", "ad keyword", references="ad_keywords.ad_keyword_id"),
        Column("keyword_id", "str", "search term", references="keywords.keyword_id"),
        _S,
        Column("impressions", "int", "times the ad was shown", ge=0),
        Column("clicks", "int", "clicks on the ad", ge=0),
        Column("spend", "money", "cost of the clicks", unit="currency", ge=0),
        Column("attributed_orders", "int", "orders attributed to the keyword that day",
               ge=0),
        Column("attributed_sales", "money", "order_total of those orders", unit="currency",
               ge=0),
        _CUR,
    ),
))

TRAFFIC_DAILY = register(TableSpec(
    name="traffic_daily",
    grain="one store × local day × traffic channel × device with exposure",
    description="Store traffic report (7.1/7.4, 7.2.1, 7.2.4): exposure, visits, page views, "
                "add-to-carts, favourites (收藏), new visitors and orders. `orders` is exactly "
                "the count of orders of that store, local day, channel and device; for "
                "sponsored_ads, sessions and impressions summed over devices equal the "
                "ads_daily clicks and impressions of the store and day. B2B (Alibaba.com) "
                "stores have organic_search and direct rows with no orders or carts (buyers "
                "send inquiries instead).",
    columns=(
        _S,
        Column("date", "date", "local day (market time zone)"),
        Column("channel", "category", "traffic source", values=CHANNELS),
        Column("device", "category", "visitor device", values=DEVICES),
        Column("impressions", "int", "exposure: times the store's items or links were shown "
               "in this channel (equals sessions for direct)", ge=0),
        Column("sessions", "int", "visits (clicks into the store)", ge=0),
        Column("page_views", "int", "pages viewed", ge=0),
        Column("add_to_cart", "int", "sessions with an add-to-cart", ge=0),
        Column("favourites", "int", "items added to favourites / wish lists (收藏)", ge=0),
        Column("new_visitors", "int", "sessions of first-time visitors", ge=0),
        Column("orders", "int", "orders placed", ge=0),
    ),
))


# --------------------------------------------------------------------------- helpers
def _store_frame(ctx: Context) -> pd.DataFrame:
    """Stores with the derived facts this module needs (positional index = store index).

    Several stages of one world ask for it; it is built once per world (and again only if a
    stage replaces the stores table).
    """
    st = ctx.tables["stores"]
    return ctx.cached(("marketing.store_frame",), (st,),
                      lambda: _store_frame_calc(ctx, st)).copy(deep=False)


def store_positions(ctx: Context, store_ids) -> np.ndarray:
    """Row of each of ``store_ids`` in :func:`_store_frame` (raises on unknown stores)."""
    pos = _codes(store_ids, _store_frame(ctx)["store_id"])
    if (pos < 0).any():
        raise ValueError("attribute: orders of unknown stores")
    return pos


def _store_frame_calc(ctx: Context, st: pd.DataFrame) -> pd.DataFrame:
    cat = ctx.catalog
    n = len(st)
    store_id = st["store_id"].astype(str).to_numpy()
    platform = st["platform_id"].astype(str).to_numpy()
    market = st["market"].astype(str).to_numpy()
    model = (st["model"].astype(str).to_numpy() if "model" in st
             else np.array([cat.platforms[p]["model"] for p in platform], dtype=object))
    mi = cat.markets.index.get_indexer(market)
    if (mi < 0).any():
        raise KeyError(f"unknown market(s) {sorted(set(market[mi < 0]))}")
    currency = (st["currency"].astype(str).to_numpy() if "currency" in st
                else cat.markets["currency"].to_numpy()[mi])
    # local currency units per USD (static reference rates; plans are set in advance)
    ci = cat.fx.index.get_indexer(currency)
    if (ci < 0).any():
        raise KeyError(f"unknown currencies {sorted(set(currency[ci < 0]))}")
    if "open_date" in st:
        od = (pd.to_datetime(st["open_date"]).to_numpy() - ctx.start.to_datetime64())
        open_day = np.clip(od.astype("timedelta64[D]").astype(np.int64), 0, ctx.n_days - 1)
    else:
        open_day = np.zeros(n, dtype=np.int64)
    w = (st["size_weight"].to_numpy(float) if "size_weight" in st else np.ones(n))
    w = np.where(model == "B2C", w, 0.0)
    active = ctx.n_days - open_day
    mob = np.array([MOBILE_SHARE.get(m, 0.7) for m in market])
    return pd.DataFrame({
        "store_id": store_id,
        "platform_id": platform,
        "market": market,
        "model": model,
        "currency": currency,
        "tz": cat.markets["tz"].to_numpy()[mi],
        "price_level": cat.markets["price_level"].to_numpy(float)[mi],
        "per_usd": cat.fx.loc["USD", "cny"] / cat.fx["cny"].to_numpy(float)[ci],
        "open_day": open_day,
        "exp_daily": ctx.n_orders * w / max(w.sum(), 1e-12) / active,
        "focus": (st["category_focus"].astype(str).to_numpy() if "category_focus" in st
                  else np.full(n, "", dtype=object)),
        "mobile_logit": (np.log(mob / (1 - mob))
                         + TIKTOK_MOBILE_SHIFT * (platform == "tiktok_shop")),
    })


def _mix(platform: str) -> np.ndarray:
    return np.asarray(CHANNEL_MIX.get(platform, DEFAULT_MIX), float)


def _mobile_p(logit: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """P(mobile) from the store's base log-odds (market, platform) and the channel."""
    return 1.0 / (1.0 + np.exp(-(logit + MOBILE_SHIFT[channel])))


def _utc_ns(s: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(s).tz_convert("UTC").as_unit("ns").asi8


_OFFSET_CACHE: dict[tuple, np.ndarray] = {}


def _local_day(ctx: Context, t_ns: np.ndarray, sidx: np.ndarray,
               st: pd.DataFrame) -> np.ndarray:
    """Market-local day index (0 = ctx.start) of UTC instants (store's market time zone).

    Same result as ``tz_convert(tz)`` then truncating to the date, computed from a table of
    UTC offsets per UTC hour (every DST change of the catalogue's zones falls on a whole UTC
    hour); instants outside the period ± 2 days are converted one by one.
    """
    zc, zones = pd.factorize(st["tz"].to_numpy(), sort=True)
    h_ns = 3_600_000_000_000
    h0 = ctx.start.value - 2 * 24 * h_ns
    n_h = (ctx.n_days + 4) * 24
    key = (h0, n_h, tuple(zones))
    off = _OFFSET_CACHE.get(key)
    if off is None:
        hours = h0 + np.arange(n_h, dtype=np.int64) * h_ns
        off = np.empty((len(zones), n_h), dtype=np.int64)
        for k, zone in enumerate(zones):  # a handful of time zones
            off[k] = (pd.DatetimeIndex(hours, tz="UTC").tz_convert(zone).tz_localize(None)
                      .as_unit("ns").asi8 - hours)
        if len(_OFFSET_CACHE) > 64:
            _OFFSET_CACHE.clear()
        _OFFSET_CACHE[key] = off
    hi = (t_ns - h0) // h_ns
    inside = (hi >= 0) & (hi < n_h)
    local = t_ns + off[zc[sidx], np.clip(hi, 0, n_h - 1)]
    for r in np.flatnonzero(~inside):  # rare: outside the simulated period
        local[r] = pd.Timestamp(t_ns[r], tz="UTC").tz_convert(zones[zc[sidx[r]]]) \
            .tz_localize(None).value
    return (local - ctx.start.value) // (24 * h_ns)


def _local_to_utc(ctx: Context, stores: pd.DataFrame, pos: np.ndarray, day: np.ndarray,
                  minute: np.ndarray) -> pd.DatetimeIndex:
    """UTC instants of local (day, minute-of-day) in each store's time zone.

    Uses the zone's UTC offset at local noon of the day: exact for clock times from 06:00 on
    (DST switches happen between 01:00 and 03:00 local), which is all this module schedules.
    """
    zc, zones = pd.factorize(stores["tz"].to_numpy(), sort=True)
    off = np.vstack([noon_utc_offsets(ctx.start, zone, ctx.n_days) for zone in zones])
    ns = (ctx.start.value + day.astype(np.int64) * 86_400 * 10**9
          + minute.astype(np.int64) * 60 * 10**9 - off[zc[pos], day])
    return pd.DatetimeIndex(ns.astype("datetime64[ns]"), tz="UTC") if len(ns) else \
        pd.DatetimeIndex([], dtype="datetime64[ns, UTC]")


def make_ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``_util.make_ids`` that also accepts n = 0."""
    return _make_ids(prefix, n, width=width) if n else np.array([], dtype=object)


def _nice(x: np.ndarray) -> np.ndarray:
    """Round positive amounts to two significant digits (how sellers set thresholds)."""
    x = np.asarray(x, float)
    mag = 10.0 ** np.floor(np.log10(np.maximum(x, 1e-9)) - 1)
    return round_cents(np.round(x / mag) * mag)


_SEASON_CACHE: dict[tuple, np.ndarray] = {}


def _season(ctx: Context, markets) -> dict[str, np.ndarray]:
    """Daily demand factor per market, mean 1 over the period (pure, so cached)."""
    peaks = ctx.catalog.markets["peaks"]
    out = {}
    for m in sorted(set(markets)):
        key = (ctx.start, ctx.n_days, m, tuple(peaks[m]))
        if key not in _SEASON_CACHE:
            if len(_SEASON_CACHE) > 256:
                _SEASON_CACHE.clear()
            d = demand_multiplier(ctx.days, list(peaks[m]), southern=m in ("AU", "BR"))
            _SEASON_CACHE[key] = d / d.mean()
        out[m] = _SEASON_CACHE[key]
    return out


def _days_from_start(ctx: Context, dates) -> np.ndarray:
    """Whole days from ``ctx.start`` to each of ``dates`` (int64), like
    ``(pd.to_datetime(dates) - ctx.start).dt.days``; naive midnight dates skip pandas."""
    a = np.asarray(dates)
    if a.dtype.kind == "M" and len(a) and not np.isnat(a).any():
        day = a.astype("datetime64[D]")
        if (day == a).all():  # midnight: whole days, nothing to floor
            return (day - ctx.start.to_datetime64().astype("datetime64[D]")).astype(np.int64)
    return (pd.to_datetime(pd.Series(dates)) - ctx.start).dt.days.to_numpy()


def _drop_windows(ctx: Context, st: pd.DataFrame) -> list[tuple[int, int, np.ndarray]]:
    """Planted traffic drops as (first day, last day, rows of ``st`` of the store)."""
    lab = _labels(ctx, "traffic_drop")
    if not len(lab):
        return []
    first = _days_from_start(ctx, lab["start"].to_numpy())
    last = _days_from_start(ctx, lab["end"].to_numpy())
    sid = st["store_id"].to_numpy()
    return [(int(a), int(b), np.flatnonzero(sid == store))
            for a, b, store in zip(first, last, lab["store_id"].to_numpy(), strict=True)]


def _promo_cells(ctx: Context, st: pd.DataFrame, promos: pd.DataFrame):
    """Each promotion's store row and clipped first/last day, and its (row, day) cells:
    ``(store_pos, first, last, cell_row, cell_day)``; computed once per world."""
    def make():
        n_days = ctx.n_days
        pos = _codes(promos["store_id"], st["store_id"])
        a = np.clip(_days_from_start(ctx, promos["start_date"].to_numpy()), 0, n_days - 1)
        b = np.clip(_days_from_start(ctx, promos["end_date"].to_numpy()), 0, n_days - 1)
        length = np.maximum(b - a + 1, 0)
        row = np.repeat(np.arange(len(promos)), length)
        day = a[row] + np.arange(len(row)) - np.repeat(np.cumsum(length) - length, length)
        return pos, a, b, row, day
    return ctx.cached(("marketing.promo_cells",), (promos, ctx.tables["stores"]), make)


def _day_dates(ctx: Context, day: np.ndarray) -> np.ndarray:
    return (ctx.start.to_datetime64() + day.astype("timedelta64[D]")).astype(
        "datetime64[ns]")


def _labels(ctx: Context, kind: str) -> pd.DataFrame:
    """Planted-anomaly labels of one ``kind`` written so far (read-only, cached per world)."""
    lab = ctx.labels.get("anomalies")
    if lab is None or not len(lab):
        return pd.DataFrame(columns=["entity_id", "store_id", "start", "end"])
    return ctx.cached(("marketing.labels", kind), (lab,), lambda: lab[lab["kind"] == kind])


def _empty(spec: TableSpec) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series([], dtype=object) for c in spec.columns})


# --------------------------------------------------------------------------- plan: promotions
def _event_windows(ctx: Context, b2c: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Platform-event promotions: one row per store × event instance it joins."""
    peaks = ctx.catalog.markets["peaks"]
    lo, hi = ctx.start.date(), ctx.end.date()
    runs: dict[str, list[tuple[int, int, str]]] = {}
    for m in sorted(set(b2c["market"])):  # markets × events × years: a few dozen runs
        rows = []
        for e in peaks[m]:
            for y in range(lo.year, hi.year + 1):
                ds = [(d - lo).days for d in event_days(e, y) if lo <= d <= hi]
                if ds:
                    a, b = min(ds), max(ds)
                    if e in ("christmas", "ramadan"):  # the sale = the last 10 days
                        a = max(a, b - 9)
                    rows.append((a, b, e))
        runs[m] = sorted(rows)
    cand = [(pos, a, b, e)
            for pos, (m, p, od) in enumerate(zip(b2c["market"], b2c["platform_id"],
                                                 b2c["open_day"], strict=True))
            for a, b, e in runs[m] if p in EVENT_PLATFORMS.get(e, (p,)) and a >= od]
    joins = rng.random(len(cand)) < np.array([0.9 if c[3] in BIG_EVENTS else 0.7
                                              for c in cand])
    out, last = [], {}
    for (pos, a, b, e), j in zip(cand, joins, strict=True):
        if j and a > last.get(pos, -1):  # never overlap an earlier event of the store
            out.append((pos, e, a, b))
            last[pos] = b
    return pd.DataFrame(out, columns=["pos", "event", "start", "end"]).astype(
        {"pos": np.int64, "start": np.int64, "end": np.int64})


def _slots(rng: np.random.Generator, open_day: np.ndarray, n_days: int, gap_mean: np.ndarray,
           dur_lo: np.ndarray, dur_hi: np.ndarray, k: int):
    """Back-to-back non-overlapping windows per store: (pos, slot, start, end)."""
    s = len(open_day)
    gaps = rng.geometric(np.clip(1.0 / gap_mean, 0.01, 1.0)[:, None], size=(s, k))
    dur = rng.integers(dur_lo, dur_hi + 1)
    start = open_day[:, None] + np.cumsum(gaps, 1) + np.cumsum(dur, 1) - dur
    end = np.minimum(start + dur - 1, n_days - 1)
    pos, slot = np.nonzero(start < n_days)
    return pos, slot, start[pos, slot], end[pos, slot]


def _promotions(ctx: Context, rng: np.random.Generator, b2c: pd.DataFrame):
    n_days, s = ctx.n_days, len(b2c)
    open_day = b2c["open_day"].to_numpy()
    plat = b2c["platform_id"].to_numpy()
    k = n_days // 5 + 4
    ev = _event_windows(ctx, b2c, rng)
    # event mask per store → regular % promos never overlap a platform event
    diff = np.zeros((s, n_days + 1), dtype=np.int64)
    np.add.at(diff, (ev["pos"].to_numpy(int), ev["start"].to_numpy(int)), 1)
    np.add.at(diff, (ev["pos"].to_numpy(int), ev["end"].to_numpy(int) + 1), -1)
    busy = np.concatenate([np.zeros((s, 1), np.int64),
                           np.cumsum(np.cumsum(diff, 1)[:, :n_days] > 0, 1)], 1)

    # track A: store discounts and flash deals (percentage off)
    appetite = rng.lognormal(0.0, 0.35, s)
    flashy = np.isin(plat, ["tiktok_shop", "shopee", "lazada"])
    is_flash = rng.random((s, k)) < np.where(flashy, 0.5, 0.3)[:, None]
    pos_a, slot_a, st_a, en_a = _slots(rng, open_day, n_days, 12 / appetite,
                                       np.where(is_flash, 1, 3), np.where(is_flash, 3, 14), k)
    flash_a = is_flash[pos_a, slot_a]
    clash = busy[pos_a, en_a + 1] - busy[pos_a, st_a] > 0
    pos_a, st_a, en_a, flash_a = pos_a[~clash], st_a[~clash], en_a[~clash], flash_a[~clash]
    pct_a = np.where(
        flash_a,
        rng.choice([0.15, 0.2, 0.25, 0.3, 0.4, 0.5], len(pos_a),
                   p=[.15, .25, .2, .2, .12, .08]),
        rng.choice([0.05, 0.06, 0.08, 0.09, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3], len(pos_a),
                   p=[.08, .04, .06, .06, .2, .08, .2, .16, .07, .05]))

    # track B: coupons and 满减 spend-threshold reductions (amount off)
    is_coupon = rng.random((s, k)) < 0.55
    pos_b, slot_b, st_b, en_b = _slots(rng, open_day, n_days, 16 / appetite,
                                       np.where(is_coupon, 7, 3), np.where(is_coupon, 30, 10), k)
    coupon_b = is_coupon[pos_b, slot_b]
    nb = len(pos_b)
    lvl = (b2c["price_level"].to_numpy() * b2c["per_usd"].to_numpy())[pos_b]
    no_min = coupon_b & (rng.random(nb) < 0.3)
    thr_usd = np.where(coupon_b, rng.choice([15.0, 25, 35, 50], nb),
                       rng.choice([29.0, 39, 49, 69, 99], nb))
    off_usd = np.where(no_min, rng.choice([1.0, 2, 3, 5], nb),
                       thr_usd * rng.choice([0.08, 0.1, 0.12, 0.15, 0.2], nb))
    thr_b = np.where(no_min, np.nan, _nice(thr_usd * lvl))
    off_b = _nice(off_usd * lvl)

    # platform events
    ne = len(ev)
    big = ev["event"].isin(list(BIG_EVENTS)).to_numpy()
    pct_e = np.where(big, rng.choice([0.15, 0.2, 0.25, 0.3], ne),
                     rng.choice([0.1, 0.15, 0.2], ne))

    n_a = len(pos_a)
    df = pd.DataFrame({
        "pos": np.concatenate([pos_a, pos_b, ev["pos"].to_numpy(int)]),
        "promo_type": np.concatenate([np.where(flash_a, "flash_deal", "discount"),
                                      np.where(coupon_b, "coupon", "spend_threshold"),
                                      np.full(ne, "platform_event")]).astype(object),
        "event": np.concatenate([np.full(n_a + nb, None, object),
                                 ev["event"].to_numpy(object)]),
        "start": np.concatenate([st_a, st_b, ev["start"].to_numpy(int)]),
        "end": np.concatenate([en_a, en_b, ev["end"].to_numpy(int)]),
        "discount_pct": np.concatenate([pct_a, np.full(nb, np.nan), pct_e]),
        "threshold_amount": np.concatenate([np.full(n_a, np.nan), thr_b, np.full(ne, np.nan)]),
        "amount_off": np.concatenate([np.full(n_a, np.nan), off_b, np.full(ne, np.nan)]),
    })
    df = df.sort_values(["pos", "start", "promo_type"], kind="stable").reset_index(drop=True)
    n = len(df)
    df["promotion_id"] = make_ids("PR", n, width=6)
    df["store_id"] = b2c["store_id"].to_numpy()[df["pos"]]
    df["currency"] = b2c["currency"].to_numpy()[df["pos"]]

    # planted: a % discount keyed in ten times too high (0.09 → 0.90), caught after 1–3 days
    labels = []
    cand = np.flatnonzero(df["promo_type"].isin(["discount", "flash_deal"]).to_numpy())
    if len(cand):
        pick = np.sort(rng.choice(cand, min(len(cand), max(1, len(cand) // 250)),
                                  replace=False))
        intended = rng.choice(MISCONFIG_PCTS, len(pick))
        df.loc[pick, "discount_pct"] = np.round(intended * 10, 2)
        df.loc[pick, "end"] = np.minimum(df.loc[pick, "end"].to_numpy(),
                                         df.loc[pick, "start"].to_numpy()
                                         + rng.integers(0, 3, len(pick)))
        labels.append(label_spec(
            "promo_misconfig", "promotions", df.loc[pick, "promotion_id"],
            store_id=df.loc[pick, "store_id"].to_numpy(),
            start=_day_dates(ctx, df.loc[pick, "start"].to_numpy()),
            end=_day_dates(ctx, df.loc[pick, "end"].to_numpy()),
            detail=[f"discount_pct entered as {10 * p:.2f} instead of {p:.2f} (decimal slip)"
                    for p in intended]))

    # names and coupon codes (a few thousand rows at most)
    start_dates = _day_dates(ctx, df["start"].to_numpy())
    years = pd.DatetimeIndex(start_dates).year.to_numpy()
    months = pd.DatetimeIndex(start_dates).month.to_numpy()
    season = np.array(["WINTER", "WINTER", "SPRING", "SPRING", "SPRING", "SUMMER", "SUMMER",
                       "SUMMER", "AUTUMN", "AUTUMN", "AUTUMN", "WINTER"])[months - 1]
    generic = np.array(["SAVE", "EXTRA", "WELCOME", "VIP", "THANKS", "GIFT", "HELLO"])
    prefix = np.where(rng.random(n) < 0.5, season, generic[rng.integers(0, len(generic), n)])
    alnum = np.array(list("ABCDEFGHJKMNPQRSTUVWXYZ23456789"))
    tail = rng.integers(0, len(alnum), (n, 3))
    tails = ["".join(x) for x in alnum[tail].tolist()]
    prefix = prefix.tolist()
    years = years.tolist()
    names, codes = [], []
    for i, (t, e, pct, thr, off, cur) in enumerate(zip(
            df["promo_type"].tolist(), df["event"].tolist(), df["discount_pct"].tolist(),
            df["threshold_amount"].tolist(), df["amount_off"].tolist(),
            df["currency"].tolist(), strict=True)):
        if t == "platform_event":
            names.append(f"{EVENT_NAMES.get(e, e)} {years[i]} – {round(pct * 100)}% off")
        elif t == "discount":
            names.append(f"Store sale {round(pct * 100)}% off")
        elif t == "flash_deal":
            names.append(f"Flash deal {round(pct * 100)}% off")
        elif t == "spend_threshold":
            names.append(f"Spend {thr:g} {cur} save {off:g}")
        else:
            names.append(f"Coupon {off:g} {cur} off" + ("" if np.isnan(thr)
                                                         else f" over {thr:g}"))
        if t == "coupon":
            codes.append(f"{prefix[i]}{min(int(off), 9999)}{tails[i]}")
        else:
            codes.append(None)
    df["name"] = names
    codes_s = pd.Series(codes, dtype=object)
    dup = codes_s.notna() & codes_s.duplicated()
    codes_s[dup] = codes_s[dup] + df.index[dup].astype(str)
    df["coupon_code"] = codes_s.to_numpy()
    df["start_date"] = start_dates
    df["end_date"] = _day_dates(ctx, df["end"].to_numpy())
    out = df[[c.name for c in PROMOTIONS.columns]]
    return out, labels


def _promo_matrices(ctx: Context, st: pd.DataFrame, promos: pd.DataFrame):
    """(store × day) → promotion row, one matrix per track (percentage / amount off)."""
    n_days = ctx.n_days
    mats = [np.full((len(st), n_days + 2), -1, dtype=np.int64) for _ in range(2)]
    if promos is None or not len(promos):
        return mats
    pos, _, _, row, day = _promo_cells(ctx, st, promos)
    amount = np.isin(_codes(promos["promo_type"], PROMO_TYPES),
                     [PROMO_TYPES.index("coupon"), PROMO_TYPES.index("spend_threshold")])
    for track in (0, 1):
        sel = amount[row] == bool(track)
        mats[track][pos[row[sel]], day[sel] + 1] = row[sel]  # column 0 / n+1: out of range
    return mats


# --------------------------------------------------------------------------- plan: ads
def _store_assortment(ctx: Context, b2c: pd.DataFrame) -> tuple[list[set], list[set]]:
    """Categories and product types each store lists (category_focus if no listings)."""
    cats = [{f} if f else set() for f in b2c["focus"]]
    types: list[set] = [set() for _ in range(len(b2c))]
    lst, prod = ctx.tables.get("listings"), ctx.tables.get("products")
    if lst is not None and prod is not None and len(lst):
        # (store, product) pairs → distinct (store, category) and (store, type) pairs
        s_ = _codes(lst["store_id"], b2c["store_id"])
        p_ = _codes(lst["product_id"], prod["product_id"])
        ok = (s_ >= 0) & (p_ >= 0)
        s_, p_ = s_[ok], p_[ok]
        for col, out in (("category", cats), ("product_type", types)):
            if col in prod:
                code, uni = pd.factorize(np.asarray(prod[col], dtype=object))
                code = code[p_]
            else:
                code, uni = np.zeros(len(p_), dtype=np.int64), np.array([""], dtype=object)
            m = max(len(uni), 1) + 1
            key = np.unique(s_.astype(np.int64) * m + (code + 1))
            uni = np.asarray(uni, dtype=object)
            for si, cc in zip((key // m).tolist(), (key % m - 1).tolist(), strict=True):
                out[si].add(uni[cc] if cc >= 0 else np.nan)
    return cats, types


def _ads(ctx: Context, rng: np.random.Generator, b2c: pd.DataFrame):
    kw = ctx.tables.get("keywords")
    if kw is None or not len(kw):
        return _empty(AD_CAMPAIGNS), _empty(AD_KEYWORDS), []
    n_days = ctx.n_days
    kw_id = np.asarray(kw["keyword_id"], dtype=object)
    mk_code, mk_uni = pd.factorize(np.asarray(kw["market"], dtype=object))
    cat_code, cat_uni = pd.factorize(np.asarray(kw["category"], dtype=object)
                                     if "category" in kw else np.full(len(kw), ""))
    type_code, type_uni = pd.factorize(np.asarray(kw["product_type"], dtype=object)
                                       if "product_type" in kw else np.full(len(kw), ""))
    by_market = {m: np.flatnonzero(mk_code == k) for k, m in enumerate(mk_uni)}
    vol = (kw["search_volume"].to_numpy(float) if "search_volume" in kw
           else np.full(len(kw), 1000.0))
    cpc_usd = (kw["suggested_cpc_usd"].to_numpy(float) if "suggested_cpc_usd" in kw
               else np.full(len(kw), 0.8))
    cpc_usd = np.where(np.isfinite(cpc_usd) & (cpc_usd > 0), cpc_usd, 0.8)
    vol = np.where(np.isfinite(vol) & (vol > 0), vol, 100.0)
    store_cats, store_types = _store_assortment(ctx, b2c)
    cat_pos = {c: i for i, c in enumerate(cat_uni)}
    type_pos = {t: i for i, t in enumerate(type_uni)}
    med_cpc: dict[str, float] = {}
    # bids: sellers bid so that cost per order ≈ target ACoS × expected order value, where
    # cost per order = CPC ÷ CVR and CPC ≈ 0.78 × bid (second-price auction)
    aov = _expected_aov(ctx, b2c)
    cvr = AD_CVR * np.where(b2c["platform_id"] == "amazon", AMAZON_AD_CVR, 1.0)
    target_acos = rng.lognormal(np.log(0.22), 0.3, len(b2c))
    base_bid = target_acos * aov * cvr / 0.78
    camps, aks = [], []
    cols = {c: b2c[c].to_numpy() for c in ("market", "platform_id", "exp_daily", "open_day",
                                            "per_usd")}
    for pos in range(len(b2c)):  # ≤ 80 stores
        r = {c: v[pos] for c, v in cols.items()}
        in_market = by_market.get(r["market"], np.array([], dtype=np.int64))
        want_t = np.zeros(len(type_uni) + 1, bool)
        want_t[np.array([type_pos.get(t, -1) for t in store_types[pos]], dtype=np.int64)] = True
        want_t[-1] = False
        pool = in_market[want_t[type_code[in_market]]]
        if len(pool) < 8:
            want_c = np.zeros(len(cat_uni) + 1, bool)
            want_c[np.array([cat_pos.get(c, -1) for c in store_cats[pos]], dtype=np.int64)] = True
            want_c[-1] = False
            pool = in_market[want_c[cat_code[in_market]]]
        if len(pool) < 3:
            pool = in_market
        if not len(pool):
            continue
        exp_ads = r["exp_daily"] * _mix(r["platform_id"])[C_ADS]
        size = np.log1p(exp_ads)
        n_c = int(np.clip(1 + rng.poisson(0.8 + 0.6 * size), 1, 8))
        amazon = r["platform_id"] == "amazon"
        for j in range(n_c):
            if j == 0:
                ctype, targ = "sponsored_products", "manual"
            else:
                ctype = rng.choice(CAMPAIGN_TYPES, p=[.6, .2, .2] if amazon else [.75, .05, .2])
                targ = ("manual" if ctype == "sponsored_brands"
                        else rng.choice(TARGETING, p=[.4, .6] if ctype != "display" else [.5, .5]))
            od = int(r["open_day"])
            if j == 0 or rng.random() < 0.65:  # evergreen
                a = od + int(rng.integers(0, min(30, n_days // 10 + 1)))
                b = n_days - 1
                status = "active"
                if j > 0 and rng.random() < 0.15:
                    b = min(n_days - 2, a + int(rng.integers(max(1, n_days // 3), n_days)))
                    status = "paused"
            else:  # seasonal burst
                a = int(rng.integers(od, max(od + 1, n_days - 14)))
                b = min(n_days - 1, a + int(rng.integers(20, 91)))
                status = "ended" if b < n_days - 1 else "active"
            a = min(a, n_days - 1)
            b = max(a, b)
            if targ == "auto" or ctype == "display":
                n_k, mt_p = rng.integers(3, 9), (0.0, 0.0, 1.0)
            elif ctype == "sponsored_brands":
                n_k, mt_p = rng.integers(2, 7), (0.5, 0.5, 0.0)
            else:
                n_k, mt_p = np.clip(rng.poisson(4 + 3 * size), 3, 25), (0.45, 0.30, 0.25)
            n_k = int(min(n_k, len(pool)))
            w = np.sqrt(vol[pool])
            pick = rng.choice(pool, n_k, replace=False, p=w / w.sum())
            mt = rng.choice(MATCH_TYPES, n_k, p=mt_p)
            mfac = np.select([mt == "exact", mt == "phrase"], [1.1, 1.0], 0.85)
            if r["market"] not in med_cpc:
                med_cpc[r["market"]] = np.median(cpc_usd[in_market])
            rel = np.clip(cpc_usd[pick] / med_cpc[r["market"]], 0.4, 3.0)
            bid = base_bid[pos] * np.sqrt(rel) * mfac * rng.uniform(0.85, 1.2, n_k)
            bid = round_cents(np.maximum(bid, np.maximum(cpc_usd[pick] * 0.5, 0.05)
                                         * r["per_usd"]))
            camps.append((pos, ctype, targ, a, b, status, j + 1))
            aks.append((len(camps) - 1, pos, pick, mt, bid))
    if not camps:
        return _empty(AD_CAMPAIGNS), _empty(AD_KEYWORDS), []
    c = pd.DataFrame(camps, columns=["pos", "campaign_type", "targeting", "a", "b", "status",
                                     "k"])
    n_per = [len(x[2]) for x in aks]
    k = pd.DataFrame({
        "camp": np.repeat(np.array([x[0] for x in aks], dtype=np.int64), n_per),
        "pos": np.repeat(np.array([x[1] for x in aks], dtype=np.int64), n_per),
        "kw": np.concatenate([x[2] for x in aks]),
        "match_type": np.concatenate([x[3] for x in aks]).astype(object),
        "bid": np.concatenate([x[4] for x in aks]),
    })
    nc, nk = len(c), len(k)
    c["campaign_id"] = make_ids("CP", nc, width=5)
    k["ad_keyword_id"] = make_ids("AK", nk, width=6)
    c["store_id"] = b2c["store_id"].to_numpy()[c["pos"]]
    k["store_id"] = b2c["store_id"].to_numpy()[k["pos"]]
    c["currency"] = b2c["currency"].to_numpy()[c["pos"]]
    k["currency"] = b2c["currency"].to_numpy()[k["pos"]]
    k["campaign_id"] = c["campaign_id"].to_numpy()[k["camp"]]
    k["keyword_id"] = kw_id[k["kw"]]
    abbr = {"sponsored_products": "SP", "sponsored_brands": "SB", "display": "SD"}
    focus = b2c["focus"].to_numpy()[c["pos"]]
    c["campaign_name"] = [f"{abbr[t]} {g.title()} - {f or 'store'} - {i:02d}" for t, g, f, i
                          in zip(c["campaign_type"], c["targeting"], focus, c["k"], strict=True)]

    # planted ad waste: keywords that spend every active day (≥ 21 days) and never convert
    length = (c["b"] - c["a"] + 1).to_numpy()[k["camp"]]
    per_store = np.bincount(k["pos"], minlength=len(b2c))[k["pos"]]
    cand = np.flatnonzero((length >= 21) & (per_store >= 4))  # stores keep converting terms
    labels = []
    if len(cand):
        wt = np.select([k["match_type"].to_numpy()[cand] == "broad",
                        k["match_type"].to_numpy()[cand] == "phrase"], [3.0, 2.0], 1.0)
        n_w = min(len(cand), max(1, round(0.03 * nk)))
        waste = np.sort(rng.choice(cand, n_w, replace=False, p=wt / wt.sum()))
        ci = k["camp"].to_numpy()[waste]
        labels.append(label_spec(
            "ad_waste", "ad_keywords", k["ad_keyword_id"].to_numpy()[waste],
            store_id=k["store_id"].to_numpy()[waste],
            start=_day_dates(ctx, c["a"].to_numpy()[ci]),
            end=_day_dates(ctx, c["b"].to_numpy()[ci]),
            detail="keyword gets clicks and spend on every active day but never converts "
                   "(irrelevant search terms); zero attributed orders"))
        is_waste = np.zeros(nk, bool)
        is_waste[waste] = True
    else:
        is_waste = np.zeros(nk, bool)

    # daily budget: expected clicks × average bid × headroom (waste keywords included)
    w_k = _ak_weight(k["match_type"].to_numpy(), c["campaign_type"].to_numpy()[k["camp"]],
                     k["bid"].to_numpy(), vol[k["kw"]])
    w_c = np.bincount(k["camp"], weights=w_k, minlength=nc)
    w_store = np.bincount(c["pos"], weights=w_c, minlength=len(b2c))
    share = w_c / np.maximum(w_store[c["pos"]], 1e-12)
    exp_clicks = (b2c["exp_daily"].to_numpy()[c["pos"]]
                  * np.array([_mix(p)[C_ADS] for p in b2c["platform_id"]])[c["pos"]]
                  * share / 0.08)
    mean_bid = (np.bincount(k["camp"], weights=k["bid"], minlength=nc)
                / np.maximum(np.bincount(k["camp"], minlength=nc), 1))
    waste_clicks = np.bincount(k["camp"], weights=is_waste * 6.0, minlength=nc)
    per_usd = b2c["per_usd"].to_numpy()[c["pos"]]
    budget = ((exp_clicks * rng.uniform(1.8, 3.2, nc) + waste_clicks) * mean_bid
              + 5.0 * per_usd)
    c["daily_budget"] = _nice(budget)
    c["start_date"] = _day_dates(ctx, c["a"].to_numpy())
    c["end_date"] = _day_dates(ctx, c["b"].to_numpy())
    return (c[[x.name for x in AD_CAMPAIGNS.columns]],
            k[[x.name for x in AD_KEYWORDS.columns]], labels)


def _expected_aov(ctx: Context, b2c: pd.DataFrame) -> np.ndarray:
    """Expected order value per store (store currency): popularity-weighted listing price ×
    ~1.6 units per order; 30 USD at the market's price level without listings."""
    out = 30.0 * b2c["price_level"].to_numpy() * b2c["per_usd"].to_numpy()
    lst = ctx.tables.get("listings")
    if lst is not None and len(lst) and "price" in lst:
        s = _codes(lst["store_id"], b2c["store_id"])
        w = (lst["popularity"].to_numpy(float) if "popularity" in lst else np.ones(len(lst)))
        w = np.where(s >= 0, np.nan_to_num(w), 0.0)
        s = np.maximum(s, 0)
        ws = np.bincount(s, weights=w, minlength=len(b2c))
        wp = np.bincount(s, weights=w * np.nan_to_num(lst["price"].to_numpy(float)),
                         minlength=len(b2c))
        out = np.where(ws > 0, 1.6 * wp / np.maximum(ws, 1e-12), out)
    return out


def _ak_weight(match_type, campaign_type, bid, volume) -> np.ndarray:
    """Relative share of a campaign's ad orders each keyword wins (deterministic)."""
    m = np.select([match_type == "exact", match_type == "phrase"], [1.3, 1.0], 0.8)
    t = np.select([campaign_type == "sponsored_products", campaign_type == "sponsored_brands"],
                  [1.0, 0.6], 0.3)
    return np.sqrt(np.asarray(volume, float)) * m * t * np.sqrt(np.asarray(bid, float) + 1e-9)


# --------------------------------------------------------------------------- plan: live & social
def _live_sessions(ctx: Context, rng: np.random.Generator, b2c: pd.DataFrame) -> pd.DataFrame:
    sel = np.flatnonzero(np.isin(b2c["platform_id"], LIVE_PLATFORMS))
    n_days = ctx.n_days
    plat = b2c["platform_id"].to_numpy()[sel]
    keen = rng.lognormal(0, 0.25, len(sel))  # how much each store invests in live
    open_ok = np.arange(n_days)[None, :] >= b2c["open_day"].to_numpy()[sel][:, None]
    parts = []
    for slot, hours in ((1, (19, 20, 21)), (0, (11, 12, 13))):  # evening prime time, midday
        rate = np.array([LIVE_SLOTS[p][slot] for p in plat]) * keen
        on = (rng.random((len(sel), n_days)) < np.minimum(rate, 0.95)[:, None]) & open_ok
        si, day = np.nonzero(on)
        parts.append((sel[si], day, rng.choice(hours, len(si)) * 60
                      + rng.choice([0, 30], len(si))))
    pos, day, minute = (np.concatenate(x) for x in zip(*parts, strict=True))
    n = len(pos)
    tiktok = b2c["platform_id"].to_numpy()[pos] == "tiktok_shop"
    midday = minute < 16 * 60
    dur = np.where(tiktok & ~midday, rng.choice([150, 180, 240, 300], n),
                   rng.choice([60, 90, 120], n))
    start_at = _local_to_utc(ctx, b2c, pos, day, minute)
    df = pd.DataFrame({
        "store_id": b2c["store_id"].to_numpy()[pos],
        "start_at": start_at,
        "duration_min": dur.astype(np.int64),
        "host_type": np.where(rng.random(n) < np.where(tiktok, 0.35, 0.2), "influencer",
                              "store_host"),
        "products_featured": rng.integers(5, 31, n) + tiktok * rng.integers(0, 11, n),
        "currency": b2c["currency"].to_numpy()[pos],
    })
    df = df.sort_values(["store_id", "start_at"], kind="stable").reset_index(drop=True)
    df.insert(0, "live_session_id", make_ids("LV", len(df), width=6))
    for c in ("viewers", "peak_concurrent", "comments", "likes", "new_followers", "orders"):
        df[c] = 0
    df["avg_watch_sec"], df["gmv"] = 0.0, 0.0
    return df[[c.name for c in LIVE_SESSIONS.columns]]


_SNS_PROFILE = {  # platform → (facebook, instagram, youtube, tiktok, pinterest, blog)
    "tiktok": (0.04, 0.14, 0.08, 0.70, 0.02, 0.02),
    "sea": (0.34, 0.20, 0.10, 0.28, 0.02, 0.06),
    "default": (0.24, 0.26, 0.12, 0.18, 0.10, 0.10),
}
_SEA = {"SG", "MY", "TH", "ID", "PH", "VN"}
#: post formats per network (image, video, reel, blog_seo)
_POST_TYPE_P = np.array([
    [0.50, 0.25, 0.25, 0.0],  # facebook
    [0.45, 0.0, 0.55, 0.0],  # instagram
    [0.0, 1.0, 0.0, 0.0],  # youtube
    [0.0, 1.0, 0.0, 0.0],  # tiktok
    [0.80, 0.20, 0.0, 0.0],  # pinterest
    [0.0, 0.0, 0.0, 1.0],  # blog
])
_POST_STRENGTH = np.array([1.0, 1.5, 1.3, 0.8])  # conversion pull by post type


def _social_posts(ctx: Context, rng: np.random.Generator, b2c: pd.DataFrame) -> pd.DataFrame:
    n_days, s = ctx.n_days, len(b2c)
    plat = b2c["platform_id"].to_numpy()
    rate = np.array([POSTS_PER_WEEK.get(p, 2.5) for p in plat]) * rng.lognormal(0, 0.4, s)
    on = rng.random((s, n_days)) < np.minimum(rate / 7, 0.95)[:, None]
    on &= np.arange(n_days)[None, :] >= b2c["open_day"].to_numpy()[:, None]
    pos, day = np.nonzero(on)
    n = len(pos)
    prof = np.array([_SNS_PROFILE["tiktok" if p == "tiktok_shop" else
                                  "sea" if m in _SEA else "default"]
                     for p, m in zip(plat, b2c["market"], strict=True)])
    cum = np.cumsum(prof[pos], 1)
    sns = np.minimum((rng.random(n)[:, None] > cum).sum(1), len(SNS_PLATFORMS) - 1)
    ptype = np.minimum((rng.random(n)[:, None] > np.cumsum(_POST_TYPE_P[sns], 1)).sum(1), 3)
    paid = (sns != 5) & (rng.random(n) < 0.22)
    per_usd = b2c["per_usd"].to_numpy()[pos]
    spend = np.where(paid, _nice(rng.lognormal(np.log(60), 0.7, n) * per_usd), 0.0)
    minute = rng.integers(8 * 60, 22 * 60, n)
    posted = _local_to_utc(ctx, b2c, pos, day, minute)
    df = pd.DataFrame({
        "store_id": b2c["store_id"].to_numpy()[pos],
        "sns_platform": np.asarray(SNS_PLATFORMS)[sns], "post_type": np.asarray(POST_TYPES)[ptype],
        "posted_at": posted, "paid": paid, "spend": round_cents(spend),
        "currency": b2c["currency"].to_numpy()[pos],
    })
    df = df.sort_values(["store_id", "posted_at"], kind="stable").reset_index(drop=True)
    df.insert(0, "post_id", make_ids("SP", len(df), width=6))
    for c in ("reach", "impressions", "engagements", "utm_clicks", "conversions"):
        df[c] = 0
    df["revenue"] = 0.0
    return df[[c.name for c in SOCIAL_POSTS.columns]]


_DROP_DAYS_CACHE: dict[tuple, np.ndarray] = {}


def _drop_days(ctx: Context, m: str) -> np.ndarray:
    """Days a traffic drop may start in market ``m``: away from retail peaks (pure, cached)."""
    peaks = ctx.catalog.markets["peaks"]
    n_days = ctx.n_days
    key = (ctx.start, n_days, m, tuple(peaks[m]))
    ok = _DROP_DAYS_CACHE.get(key)
    if ok is None:
        pt = peak_table(ctx.days, {m: list(peaks[m])})
        bad = np.zeros(n_days + 20, bool)
        for d in (pt["date"] - ctx.start).dt.days:
            bad[max(0, d - 10):d + 4] = True
        ok = np.flatnonzero(~bad[:n_days])
        ok = ok[(ok >= 14) & (ok <= n_days - 21)]
        if len(_DROP_DAYS_CACHE) > 256:
            _DROP_DAYS_CACHE.clear()
        _DROP_DAYS_CACHE[key] = ok
    return ok


def _traffic_drops(ctx: Context, rng: np.random.Generator, b2c: pd.DataFrame) -> list:
    n_days = ctx.n_days
    if n_days < 42 or not len(b2c):
        return []
    n = max(1, len(b2c) // 40)
    w = b2c["exp_daily"].to_numpy() + 1e-9
    pos = np.sort(rng.choice(len(b2c), n, replace=False, p=w / w.sum()))
    starts = []
    for p in pos:  # avoid retail peaks so the drop is not masked by an event
        ok = _drop_days(ctx, b2c["market"].iloc[p])
        starts.append(int(rng.choice(ok)) if len(ok) else int(rng.integers(14, n_days - 20)))
    starts = np.array(starts)
    return [label_spec(
        "traffic_drop", "traffic_daily", b2c["store_id"].to_numpy()[pos],
        store_id=b2c["store_id"].to_numpy()[pos], start=_day_dates(ctx, starts),
        end=_day_dates(ctx, starts + 6),
        detail=f"organic_search exposure and sessions fell to ~{TRAFFIC_DROP_FACTOR:.0%} for "
               "7 days (listings dropped out of search), organic orders fell with them")]


def build_plan(ctx: Context) -> dict[str, pd.DataFrame]:
    """Stage ``marketing_plan``: promotions, ad campaigns/keywords, live and social schedules."""
    rng = ctx.rng("marketing_plan")
    st = _store_frame(ctx)
    b2c = st[st["model"] == "B2C"].reset_index(drop=True)
    promos, lab_p = _promotions(ctx, rng, b2c)
    camps, akw, lab_a = _ads(ctx, rng, b2c)
    live = _live_sessions(ctx, rng, b2c)
    posts = _social_posts(ctx, rng, b2c)
    lab_t = _traffic_drops(ctx, rng, b2c)
    out = {"promotions": promos, "ad_campaigns": camps, "ad_keywords": akw,
           "live_sessions": live, "social_posts": posts}
    labels = lab_p + lab_a + lab_t
    if all(len(x["entity_ids"]) for x in labels):  # one batch for all parts
        out["anomalies"] = label_frame(labels)
    else:  # empty parts take part in the concatenation's dtypes: keep it as it was
        out["anomalies"] = pd.concat([anomaly_rows(**x) for x in labels], ignore_index=True)
    return out


# --------------------------------------------------------------------------- demand effect
#: Demand multiplier of an active promotion (simulation parameter): a percentage deal lifts
#: orders roughly in proportion to its depth; platform events get only half of that because
#: the calendar already lifts event days; amount-off promotions lift a little.
PROMO_LIFT_PER_PCT = {"discount": 1.0, "flash_deal": 1.5, "platform_event": 0.5}
AMOUNT_PROMO_LIFT = {"coupon": 1.04, "spend_threshold": 1.06}
MAX_PROMO_LIFT = 2.5


def demand_lift(ctx: Context, store_ids) -> np.ndarray:
    """Demand multiplier of the marketing plan per (store, local day), shape (stores, days).

    For the orders stage to multiply into its (store × day) weights, so that promotions
    visibly lift orders (a mis-keyed 90 % discount makes a spike) and a planted traffic drop
    removes most organic-search orders for its week (:func:`attribute` then gives organic
    search that smaller share). Deterministic: no random draws. 1.0 everywhere without plans.
    """
    st = _store_frame(ctx)
    n_days = ctx.n_days
    lift = np.ones((len(st), n_days))
    promos = ctx.tables.get("promotions")
    if promos is not None and len(promos):
        ps, _, _, row, day = _promo_cells(ctx, st, promos)
        kind = np.asarray(promos["promo_type"], dtype=object)
        pct = np.nan_to_num(promos["discount_pct"].to_numpy(float))
        eff = np.array([AMOUNT_PROMO_LIFT.get(k, 1.0) for k in kind])
        eff = eff + pct * np.array([PROMO_LIFT_PER_PCT.get(k, 0.0) for k in kind])
        eff = np.minimum(eff, MAX_PROMO_LIFT)
        np.multiply.at(lift, (ps[row], day), eff[row])
    for a, b, si in _drop_windows(ctx, st):
        org = np.array([_mix(p)[C_ORG] for p in st["platform_id"].to_numpy()[si]])
        lift[si, max(a, 0):b + 1] *= (1 - org * (1 - TRAFFIC_DROP_FACTOR))[:, None]
    pos = _codes(store_ids if isinstance(store_ids, pd.Series)
                 else pd.Series(np.asarray(store_ids, dtype=object)), st["store_id"])
    if (pos < 0).any():
        raise ValueError("demand_lift: unknown store ids")
    return lift[pos]


# --------------------------------------------------------------------------- attribution
def _key(sidx: np.ndarray, t_ns: np.ndarray, t0: int) -> np.ndarray:
    """Sortable (store, second) key; seconds since ``t0`` stay far below 10^10."""
    return sidx.astype(np.int64) * 10**10 + (t_ns - t0) // 10**9


def _live_match(ctx, st, live, sidx, t_ns, near=None):
    """Index of the store's live session whose window holds each order, else -1.

    ``near``: :func:`_needles` of (sidx, t_ns), when the caller already has it."""
    if live is None or not len(live):
        return np.full(len(sidx), -1)
    t0 = ctx.start.value - 30 * 86_400 * 10**9
    ls = _codes(live["store_id"], st["store_id"])
    start = _utc_ns(live["start_at"])
    end = start + live["duration_min"].to_numpy(np.int64) * 60 * 10**9 + LIVE_TAIL_NS
    key = _key(ls, start, t0)
    order = np.argsort(key, kind="stable")
    i = _search_keys(key[order], near or _needles(sidx, t_ns, t0)) - 1
    j = order[np.maximum(i, 0)]
    ok = (i >= 0) & (ls[j] == sidx) & (t_ns <= end[j]) & (t_ns >= start[j])
    return np.where(ok, j, -1)


def _needles(sidx: np.ndarray, t_ns: np.ndarray, t0: int) -> tuple[np.ndarray, np.ndarray]:
    """(store, second) keys of orders and the permutation sorting them by store.

    Orders come roughly in time order, so grouping them by store (a cheap stable sort of
    small integers) makes the keys nearly sorted, and binary searches over nearly sorted
    needles run several times faster than over shuffled ones.
    """
    small = sidx.astype(np.int16) if len(sidx) and sidx.max() < 2**15 else sidx
    return _key(sidx, t_ns, t0), np.argsort(small, kind="stable")


def _search_keys(keys: np.ndarray, near: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``np.searchsorted(keys, needles, side="right")`` via the store-sorted needles."""
    needles, perm = near
    out = np.empty(len(needles), dtype=np.int64)
    out[perm] = np.searchsorted(keys, needles[perm], side="right")
    return out


def _posts_index(ctx, st, posts):
    """Posts sorted by (store, time) with their conversion pull; None when there are none."""
    if posts is None or not len(posts):
        return None
    t0 = ctx.start.value - 30 * 86_400 * 10**9
    ps = _codes(posts["store_id"], st["store_id"])
    pt = _utc_ns(posts["posted_at"])
    key = _key(ps, pt, t0)
    order = np.argsort(key, kind="stable")
    ptype = _codes(posts["post_type"], POST_TYPES)
    per_usd = st["per_usd"].to_numpy()[ps]
    strength = _POST_STRENGTH[ptype] * (1 + posts["spend"].to_numpy(float) / per_usd / 60)
    return {"t0": t0, "key": key[order], "order": order, "s": ps, "t": pt,
            "strength": strength}


def _post_last(pi, sidx, t_ns, near=None):
    """Sorted position of the store's latest post at or before each order (-1 = none)."""
    if pi is None:
        return np.full(len(sidx), -1), np.zeros(len(sidx), bool)
    i = _search_keys(pi["key"], near or _needles(sidx, t_ns, pi["t0"])) - 1
    j = pi["order"][np.maximum(i, 0)]
    age = t_ns - pi["t"][j]
    ok = (i >= 0) & (pi["s"][j] == sidx) & (age >= 0) & (age <= SOCIAL_WINDOW_NS)
    return i, ok


def _post_choice(rng, pi, i, sidx, t_ns, k=4):
    """One of the last ``k`` posts within 14 days, ∝ strength × recency (4-day decay)."""
    n = len(i)
    cand = np.full((n, k), -1)
    wts = np.zeros((n, k))
    for back in range(k):
        ii = i - back
        j = pi["order"][np.maximum(ii, 0)]
        age = t_ns - pi["t"][j]
        ok = (ii >= 0) & (pi["s"][j] == sidx) & (age >= 0) & (age <= SOCIAL_WINDOW_NS)
        cand[:, back] = np.where(ok, j, -1)
        wts[:, back] = np.where(ok, pi["strength"][j] * np.exp(-age / (4 * 86_400e9)), 0.0)
    cw = np.cumsum(wts, 1)
    u = rng.random(n) * cw[:, -1]
    pick = np.minimum((u[:, None] > cw).sum(1), k - 1)
    j = cand[np.arange(n), pick]
    return np.where(j >= 0, j, cand[:, 0])


def _ads_tables(ctx, st):
    """Arrays describing ad keywords and (store × day) eligibility / fallback keyword."""
    camps, ak = ctx.tables.get("ad_campaigns"), ctx.tables.get("ad_keywords")
    n_days = ctx.n_days
    fallback = np.full((len(st), n_days + 2), -1, dtype=np.int64)
    if camps is None or ak is None or not len(ak):
        return None, fallback
    ci = _codes(ak["campaign_id"], camps["campaign_id"])
    a = _days_from_start(ctx, camps["start_date"].to_numpy())[ci]
    b = _days_from_start(ctx, camps["end_date"].to_numpy())[ci]
    kw = ctx.tables.get("keywords")
    if kw is not None and "search_volume" in kw:
        ki = _codes(ak["keyword_id"], kw["keyword_id"])
        vol = np.where(ki >= 0, kw["search_volume"].to_numpy(float)[ki], 100.0)
    else:
        vol = np.full(len(ak), 100.0)
    w = _ak_weight(np.asarray(ak["match_type"], dtype=object),
                   np.asarray(camps["campaign_type"], dtype=object)[ci],
                   ak["bid"].to_numpy(float), vol)
    waste = _codes(ak["ad_keyword_id"],  # keywords labelled as budget waste
                   np.asarray(_labels(ctx, "ad_waste")["entity_id"], dtype=object)) >= 0
    w = np.where(waste, 0.0, w)
    s = _codes(ak["store_id"], st["store_id"])
    for r in np.argsort(w, kind="stable"):  # heaviest keyword wins the fallback slot
        if w[r] > 0:
            fallback[s[r], a[r] + 1:b[r] + 2] = r
    info = {"s": s, "a": a, "b": b, "w": w, "campaign_id": ak["campaign_id"],
            "keyword_id": ak["keyword_id"]}
    return info, fallback


def attribute(ctx: Context, frame: pd.DataFrame) -> pd.DataFrame:
    """Channel, device and consistent marketing ids for each order in ``frame``.

    Called with columns store_id, market, platform_id, created_at (UTC), local_date,
    customer_id, is_repeat; draws from the orders stage's generator. The local day is
    recomputed from ``created_at`` and the market time zone (the definition every marketing
    table uses). Id columns are pandas ``str`` Series (missing = NaN). The orders stage uses
    :func:`attribute_codes` (same draws, integer results) and gathers the ids itself.
    """
    st = _store_frame(ctx)
    sidx = _codes(frame["store_id"], st["store_id"])
    if (sidx < 0).any():
        raise ValueError("attribute: orders of unknown stores")
    a = attribute_codes(ctx, sidx, _utc_ns(frame["created_at"]),
                        np.asarray(frame["is_repeat"], dtype=bool))
    out = attribute_frame(ctx, a)
    out.index = frame.index
    return out


def attribute_frame(ctx: Context, a: dict[str, np.ndarray]) -> pd.DataFrame:
    """The :func:`attribute` table from :func:`attribute_codes`' integer result."""
    cols = attribute_columns(ctx, a)
    return pd.DataFrame({k: cols[k] for k in ("channel", "device", "promotion_id",
                                                "coupon_code", "campaign_id", "keyword_id",
                                                "live_session_id", "post_id")}, copy=False)


def attribute_columns(ctx: Context, a: dict[str, np.ndarray]) -> dict[str, object]:
    """The columns of :func:`attribute_frame` (categoricals and ``str`` Series), in the
    order of the ``orders`` table."""
    promos = ctx.tables.get("promotions")
    ak = ctx.tables.get("ad_keywords")
    empty = np.array([], dtype=object)

    def col(table, column, idx):
        t = ctx.tables.get(table)
        return _str_take(t[column] if t is not None else empty, idx)

    code_idx = a["promo"]
    if promos is not None and len(promos):
        has_code = promos["coupon_code"].notna().to_numpy()
        code_idx = np.where((code_idx >= 0) & has_code[np.maximum(code_idx, 0)], code_idx, -1)
    has_ak = ak is not None and len(ak) and ctx.tables.get("ad_campaigns") is not None
    return {
        "promotion_id": col("promotions", "promotion_id", a["promo"]),
        "coupon_code": col("promotions", "coupon_code", code_idx),
        "channel": pd.Categorical.from_codes(a["channel"], categories=CHANNELS),
        "device": pd.Categorical.from_codes(a["device"], categories=DEVICES),
        "campaign_id": _str_take(ak["campaign_id"] if has_ak else empty, a["ak"]),
        "keyword_id": _str_take(ak["keyword_id"] if has_ak else empty, a["ak"]),
        "live_session_id": col("live_sessions", "live_session_id", a["live"]),
        "post_id": col("social_posts", "post_id", a["post"]),
    }


def attribute_codes(ctx: Context, sidx: np.ndarray, t_ns: np.ndarray,
                    rep: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`attribute` on integer inputs, with integer results.

    ``sidx``: row of each order's store in :func:`_store_frame` (all stores); ``t_ns``: UTC
    creation instants (int64 ns); ``rep``: repeat-buyer flags. Returns ``channel`` and
    ``device`` codes (``CHANNELS`` / ``DEVICES``) and row positions (-1 = none) into
    ``promotions`` (``promo``), ``ad_keywords`` (``ak``), ``live_sessions`` (``live``) and
    ``social_posts`` (``post``). Draws from the orders stage's generator.
    """
    rng = ctx.rng("orders")
    n = len(sidx)
    st = _store_frame(ctx)
    ns = len(st)
    day = _local_day(ctx, t_ns, sidx, st)
    dcol = np.clip(day + 1, 0, ctx.n_days + 1)  # matrix column; 0 / n+1 = outside period
    cell = sidx * (ctx.n_days + 2) + dcol  # flat position in the (store × dcol) matrices

    # planted traffic drops as a (store × day) mask, looked up once per order
    drop_mat = np.zeros((ns, ctx.n_days + 2), dtype=bool)  # columns like dcol
    drops = _drop_windows(ctx, st)
    if all(a >= 0 and b < ctx.n_days for a, b, _ in drops):
        for a, b, si in drops:
            drop_mat[si, a + 1:b + 2] = True
        drop = drop_mat.ravel()[cell]
    else:  # a window reaching outside the period: compare days directly
        drop = np.zeros(n, dtype=bool)
        for a, b, si in drops:
            drop |= np.isin(sidx, si) & (day >= a) & (day <= b)

    near = _needles(sidx, t_ns, ctx.start.value - 30 * 86_400 * 10**9)  # t0 of both
    live_j = _live_match(ctx, st, ctx.tables.get("live_sessions"), sidx, t_ns, near)
    pi = _posts_index(ctx, st, ctx.tables.get("social_posts"))
    post_i, post_ok = _post_last(pi, sidx, t_ns, near)
    ak, fallback = _ads_tables(ctx, st)
    ads_ok = fallback.ravel()[cell] >= 0

    # The channel law depends only on (store, repeat, in a traffic drop, which constrained
    # channels are possible) — a few thousand combinations: compute it per combination.
    combo = ((((sidx * 2 + rep) * 2 + drop) * 2 + (live_j >= 0)) * 2 + post_ok) * 2 + ads_ok
    n_combo = ns * 32
    cnt = np.bincount(combo, minlength=n_combo).astype(float)
    k = np.arange(n_combo)
    cs, crep, cdrop = k // 32, (k // 16) % 2, (k // 8) % 2
    e_live, e_soc, e_ads = (k // 4) % 2, (k // 2) % 2, k % 2
    base = np.array([_mix(pl) for pl in st["platform_id"]])
    tilt = base * REPEAT_TILT
    tilt /= tilt.sum(1, keepdims=True)
    p = np.where(crep[:, None] == 1, tilt[cs], base[cs])
    # traffic drop: organic search loses (1 − factor) of its orders, the other channels keep
    # theirs (demand_lift removed the lost orders from the store's volume)
    keep = 1.0 - p[:, C_ORG] * (1.0 - TRAFFIC_DROP_FACTOR)
    p_drop = p / keep[:, None]
    p_drop[:, C_ORG] = p[:, C_ORG] * TRAFFIC_DROP_FACTOR / keep
    p = np.where(cdrop[:, None] == 1, p_drop, p)
    # constrained channels reach their target share among the orders they can explain:
    # live first (a stream captures most orders placed during it), then social and ads on
    # the remaining probability mass; the free channels share what is left
    n_s = np.maximum(np.bincount(cs, weights=cnt, minlength=ns), 1.0)
    q = np.zeros((n_combo, 7))
    cov = np.bincount(cs, weights=cnt * e_live, minlength=ns) / n_s
    q[:, C_LIVE] = e_live * np.minimum(0.95, p[:, C_LIVE] / np.maximum(cov[cs], 1e-9))
    rest = 1.0 - q[:, C_LIVE]
    for c, e in ((C_SOC, e_soc), (C_ADS, e_ads)):
        cov = np.bincount(cs, weights=cnt * e * rest, minlength=ns) / n_s
        q[:, c] = e * rest * np.minimum(0.95, p[:, c] / np.maximum(cov[cs], 1e-9))
    used = q[:, C_SOC] + q[:, C_ADS]
    shrink = np.where(used > 0.97 * rest, 0.97 * rest / np.maximum(used, 1e-12), 1.0)
    q[:, C_SOC] *= shrink
    q[:, C_ADS] *= shrink
    free = [C_ORG, C_EMAIL, C_DIRECT, C_AFF]
    scale = (1.0 - q[:, [C_LIVE, C_SOC, C_ADS]].sum(1)) / p[:, free].sum(1)
    q[:, free] = p[:, free] * scale[:, None]
    cum = np.cumsum(q, 1)[:, :6]
    u = rng.random(n)
    ch = np.zeros(n, dtype=np.int64)
    for c in range(6):
        ch += u >= cum[combo, c]

    ids = {k: np.full(n, -1, dtype=np.int64) for k in
           ("live", "post", "ak", "promo")}
    m = ch == C_LIVE
    ids["live"][m] = live_j[m]
    m = np.flatnonzero(ch == C_SOC)
    if len(m):
        ids["post"][m] = _post_choice(rng, pi, post_i[m], sidx[m], t_ns[m])
    # ads: a keyword of the store ∝ weight, redrawn if its campaign was not running that day
    m = np.flatnonzero(ch == C_ADS)
    if len(m):
        r = np.full(len(m), -1)
        todo = np.arange(len(m))
        for _ in range(3):
            if not len(todo):
                break
            draw = weighted_choice_by_group(rng, sidx[m[todo]], ak["s"], ak["w"] + 1e-12)
            d = day[m[todo]]
            ok = (ak["w"][draw] > 0) & (ak["a"][draw] <= d) & (d <= ak["b"][draw])
            r[todo[ok]] = draw[ok]
            todo = todo[~ok]
        r[todo] = fallback[sidx[m[todo]], dcol[m[todo]]]
        ids["ak"][m] = r

    # promotions: one per order at most (percentage track first, then amount track)
    promos = ctx.tables.get("promotions")
    if promos is not None and len(promos):
        mat_a, mat_b = _promo_matrices(ctx, st, promos)
        use = np.array([PROMO_USE[t] for t in PROMO_TYPES] + [0.0])
        tcode = np.append(_codes(promos["promo_type"], PROMO_TYPES), len(PROMO_TYPES))
        ra, rb = mat_a.ravel()[cell], mat_b.ravel()[cell]
        boost = np.ones(len(CHANNELS))
        boost[[C_EMAIL, C_LIVE, C_SOC]] = 1.8
        # usage probability per (store, day) cell; row -1 → the appended zero
        use_a, use_b = (use[tcode[mat]].ravel()[cell] for mat in (mat_a, mat_b))
        ua = rng.random(n) < use_a
        ub = ~ua & (rng.random(n) < np.minimum(use_b * boost[ch], 0.9))
        ids["promo"] = np.where(ua, ra, np.where(ub, rb, -1))

    p_mob = _mobile_p(st["mobile_logit"].to_numpy()[:, None], np.arange(7)[None, :])
    dev = (rng.random(n) >= p_mob.ravel()[sidx * 7 + ch]).astype(np.int8)
    return {"channel": ch, "device": dev, "promo": ids["promo"], "ak": ids["ak"],
            "live": ids["live"], "post": ids["post"]}


# --------------------------------------------------------------------------- metrics
def remember_order_view(ctx: Context, orders: pd.DataFrame, sidx: np.ndarray,
                        t_ns: np.ndarray, codes: dict[str, np.ndarray]) -> None:
    """Keep the integer codes the orders stage made for ``orders`` (store rows of
    :func:`_store_frame`, UTC instants, and :func:`attribute_codes`' result), so that
    :func:`_order_view` need not look every id up again while ``orders`` is unchanged."""
    ctx.cache[("marketing.order_codes",)] = ((orders,), {"sidx": sidx, "t_ns": t_ns, **codes})


def _order_codes(ctx: Context, o: pd.DataFrame, st: pd.DataFrame) -> dict[str, np.ndarray]:
    """Store row, UTC instant, channel, device and marketing ids of each order as integer
    positions (-1 = none): remembered by the orders stage, else looked up from the text."""
    def lookup() -> dict[str, np.ndarray]:
        out = {"sidx": _codes(o["store_id"], st["store_id"]), "t_ns": _utc_ns(o["created_at"]),
               "channel": _codes(o["channel"], CHANNELS),
               "device": _codes(o["device"], DEVICES)}
        for key, table, col in (("live", "live_sessions", "live_session_id"),
                                ("post", "social_posts", "post_id")):
            t = ctx.tables.get(table)
            out[key] = (_codes(o[col], t[col]) if t is not None and len(t)
                        else np.full(len(o), -1))
        out["campaign_id"], out["keyword_id"] = (
            _codes(o[col], t[col]) if t is not None and len(t) else np.full(len(o), -1)
            for col, t in (("campaign_id", ctx.tables.get("ad_campaigns")),
                           ("keyword_id", ctx.tables.get("keywords"))))
        return out

    got = dict(ctx.cached(("marketing.order_codes",), (o,), lookup))
    ctx.cache.pop(("marketing.order_codes",), None)  # used once: free it (big worlds)
    if "ak" in got:  # ad keyword rows → their campaign and keyword positions
        ak = ctx.tables.get("ad_keywords")
        for col, table in (("campaign_id", "ad_campaigns"), ("keyword_id", "keywords")):
            t = ctx.tables.get(table)
            if ak is None or not len(ak) or t is None or not len(t):
                got[col] = np.full(len(o), -1)
            else:
                pos = np.append(_codes(ak[col], t[col]), -1)
                got[col] = pos[np.where(got["ak"] >= 0, got["ak"], len(pos) - 1)]
    return got


def _order_view(ctx: Context, st: pd.DataFrame) -> dict[str, np.ndarray]:
    """Integer-coded view of the orders: store, local day, channel, device, ids, cents."""
    o = ctx.tables["orders"]
    c = _order_codes(ctx, o, st)
    return {
        "sidx": c["sidx"], "day": _local_day(ctx, c["t_ns"], c["sidx"], st),
        "cents": to_cents(o["order_total"].to_numpy(float)).astype(np.float64),
        "ch": np.asarray(c["channel"], dtype=np.int64),
        "dev": np.asarray(c["device"], dtype=np.int64),
        "live_session_id": c["live"], "post_id": c["post"],
        "campaign_id": c["campaign_id"], "keyword_id": c["keyword_id"],
    }


def _ads_daily(ctx, rng, st, ov):
    camps, ak = ctx.tables.get("ad_campaigns"), ctx.tables.get("ad_keywords")
    if camps is None or ak is None or not len(ak):
        return _empty(ADS_DAILY)
    n_days, nk = ctx.n_days, len(ak)
    ci = _codes(ak["campaign_id"], camps["campaign_id"])
    a = _days_from_start(ctx, camps["start_date"].to_numpy())[ci]
    b = _days_from_start(ctx, camps["end_date"].to_numpy())[ci]
    length = b - a + 1
    off = np.cumsum(length) - length
    total = int(length.sum())
    akr = np.repeat(np.arange(nk), length)
    day = a[akr] + np.arange(total) - off[akr]
    # orders → (ad keyword, day) row, via integer (campaign, keyword) keys
    has = ov["campaign_id"] >= 0
    n_kw = len(ctx.tables["keywords"])
    ki = _codes(ak["keyword_id"], ctx.tables["keywords"]["keyword_id"])
    ko = pd.Index(ci.astype(np.int64) * n_kw + ki).get_indexer(
        ov["campaign_id"][has].astype(np.int64) * n_kw + ov["keyword_id"][has])
    od = ov["day"][has]
    if (ko < 0).any() or (od < a[ko]).any() or (od > b[ko]).any():
        raise ValueError("ads_daily: orders attributed outside their keyword's active days")
    row = off[ko] + od - a[ko]
    orders = np.bincount(row, minlength=total)
    sales_c = np.bincount(row, weights=ov["cents"][has], minlength=total)

    s = _codes(ak["store_id"], st["store_id"])
    ctype = np.asarray(camps["campaign_type"], dtype=object)[ci]
    mt = np.asarray(ak["match_type"], dtype=object)
    plat = st["platform_id"].to_numpy()[s]
    cvr = (AD_CVR * np.select([mt == "exact", mt == "phrase"], [1.25, 1.0], 0.75)
           * np.select([ctype == "sponsored_products", ctype == "sponsored_brands"],
                       [1.0, 0.8], 0.45)
           * np.where(plat == "amazon", AMAZON_AD_CVR, 1.0) * rng.lognormal(0, 0.25, nk))
    cvr = np.clip(cvr, 0.01, 0.5)
    ctr = (np.select([ctype == "display", ctype == "sponsored_brands", mt == "exact",
                      mt == "phrase"], [0.0008, 0.004, 0.006, 0.0045], 0.003)
           * rng.lognormal(0, 0.3, nk))
    waste = np.isin(np.asarray(ak["ad_keyword_id"], dtype=object),
                    np.asarray(_labels(ctx, "ad_waste")["entity_id"], dtype=object))
    season = _season(ctx, st["market"].to_numpy())
    sd = np.vstack([season[m] for m in st["market"]])[s[akr], day]
    m_ak = np.bincount(akr, weights=orders, minlength=nk) / length
    lam = m_ak[akr] / cvr[akr] * sd + 3.0 / length[akr]  # floor: ~3 stray clicks per keyword
    clicks = orders + rng.poisson(lam * (1 - cvr[akr]))
    w_lam = rng.uniform(0.5, 3.0, nk)
    wr = waste[akr]
    clicks = np.where(wr, 1 + rng.poisson(w_lam[akr] * sd), clicks)
    lam = np.where(wr, w_lam[akr] * sd + 1, lam)
    impr = clicks + rng.poisson(np.maximum(lam, clicks) * (1 - ctr[akr]) / ctr[akr])
    bid_c = to_cents(ak["bid"].to_numpy(float))[akr]
    cpc_c = np.maximum(1, np.round(bid_c * rng.uniform(0.5, 0.95, total)))
    spend_c = (clicks * cpc_c).astype(np.int64)
    # the daily budget caps spend (the platform stops serving; effective CPC falls)
    budget_c = to_cents(camps["daily_budget"].to_numpy(float))[ci][akr]
    cd = ci[akr].astype(np.int64) * (n_days + 1) + day
    cd_sum = np.bincount(cd, weights=spend_c)[cd]  # spend per (campaign, day)
    over = cd_sum > budget_c
    spend_c = np.where(over, np.floor(spend_c * budget_c / np.maximum(cd_sum, 1)), spend_c)
    spend_c = np.where(wr, np.maximum(spend_c, 1), spend_c)
    keep = impr > 0
    out = pd.DataFrame({
        "date": _day_dates(ctx, day[keep]),
        "campaign_id": _str_take(ak["campaign_id"], akr[keep]),
        "ad_keyword_id": _str_take(ak["ad_keyword_id"], akr[keep]),
        "keyword_id": _str_take(ak["keyword_id"], akr[keep]),
        "store_id": _str_take(ak["store_id"], akr[keep]),
        "impressions": impr[keep].astype(np.int64), "clicks": clicks[keep].astype(np.int64),
        "spend": spend_c[keep] / 100.0,
        "attributed_orders": orders[keep].astype(np.int64),
        "attributed_sales": sales_c[keep] / 100.0,
        "currency": _str_take(ak["currency"], akr[keep]),
    })
    return out


def _traffic_daily(ctx, rng, st, ov, ads):
    n_days, ns = ctx.n_days, len(st)
    sidx, day, ch, dev = ov["sidx"], ov["day"], ov["ch"], ov["dev"]
    inr = (day >= 0) & (day < n_days)
    cell = ((sidx * n_days + day) * 7 + ch) * 2 + dev
    n_cells = ns * n_days * 14
    o_cnt = np.bincount(cell[inr], minlength=n_cells)
    b2c = (st["model"] == "B2C").to_numpy()
    live = ctx.tables.get("live_sessions")
    posts = ctx.tables.get("social_posts")
    ak = ctx.tables.get("ad_keywords")
    def present(t):
        if t is None or not len(t):
            return np.zeros(ns, bool)
        c = _codes(t["store_id"], st["store_id"])
        return np.bincount(c[c >= 0], minlength=ns) > 0

    has_live, has_post, has_ads = present(live), present(posts), present(ak)
    use = np.zeros((ns, 7), bool)
    use[:, [C_ORG, C_DIRECT]] = True
    use[b2c, C_EMAIL] = use[b2c, C_AFF] = True
    use[:, C_ADS] = b2c & has_ads
    use[:, C_SOC] = b2c & has_post
    use[:, C_LIVE] = b2c & has_live
    od = st["open_day"].to_numpy()
    # grid: stores × their channels × every open day × 2 devices, plus any cell with orders
    ps, pc = np.nonzero(use)
    days = np.arange(n_days)
    base = ((ps[:, None] * n_days + days[None, :]) * 7 + pc[:, None]) * 2
    base = base[days[None, :] >= od[ps][:, None]]
    in_grid = o_cnt > 0
    in_grid[base] = True
    in_grid[base + 1] = True
    keys = np.flatnonzero(in_grid)
    dv = keys % 2
    c = (keys // 2) % 7
    d = (keys // 14) % n_days
    s = keys // (14 * n_days)
    o = o_cnt[keys]
    n = len(keys)
    mob = _mobile_p(st["mobile_logit"].to_numpy()[s], c)
    dshare = np.where(dv == 0, mob, 1 - mob)

    # expected sessions: store volume × cell share ÷ conversion rate × season
    s_orders = np.bincount(sidx[inr], minlength=ns)
    active = n_days - od
    m_store = np.maximum(s_orders / active, 0.15)
    cell_tot = np.bincount(((sidx[inr] * 7 + ch[inr]) * 2 + dev[inr]), minlength=ns * 14)
    model = np.array([_mix(p) for p in st["platform_id"]])
    share = ((cell_tot[(s * 7 + c) * 2 + dv] + 20 * model[s, c] * dshare)
             / (s_orders[s] + 20))
    cvr = (CVR[c] * np.array([PLATFORM_CVR.get(p, 1.0) for p in st["platform_id"]])[s]
           * DEVICE_CVR[dv])
    season = _season(ctx, st["market"].to_numpy())
    sd = np.vstack([season[m] for m in st["market"]])[s, d]
    lam = m_store[s] * share / cvr * sd * rng.lognormal(0, 0.2, n)
    if live is not None and len(live):  # live traffic only on days with a stream
        ls = _codes(live["store_id"], st["store_id"])
        lday = _local_day(ctx, _utc_ns(live["start_at"]), ls, st)
        on = np.zeros(ns * n_days + 1, bool)
        ok = (lday >= 0) & (lday < n_days)
        on[ls[ok] * n_days + lday[ok]] = True
        frac = np.bincount(ls[ok], minlength=ns) / np.maximum(active, 1)
        is_live = c == C_LIVE
        lam = np.where(is_live, np.where(on[s * n_days + d], lam / np.maximum(frac[s], 1e-9),
                                         0.0), lam)
    for a_, b_, si in _drop_windows(ctx, st):
        hit = np.isin(s, si) & (c == C_ORG) & (d >= a_) & (d <= b_)
        lam = np.where(hit, lam * TRAFFIC_DROP_FACTOR, lam)
    b2b = ~b2c[s]  # B2B: 20–200 buyer visits a day, no orders
    b2b_lam = (rng.lognormal(np.log(60), 0.5, ns)[s] * sd
               * np.where(c == C_ORG, 0.7, 0.3) * dshare)
    lam = np.where(b2b, b2b_lam, lam)
    sessions = o + rng.poisson(lam * (1 - np.where(b2b, 0, cvr)))
    impr = sessions + rng.poisson(sessions * (1 / CTR[c] - 1))

    # sponsored ads: sessions / impressions are the ads_daily clicks / impressions, by device
    if len(ads):
        a_s = _codes(ads["store_id"], st["store_id"])
        a_d = _days_from_start(ctx, ads["date"].to_numpy())
        sd_key = a_s * n_days + a_d
        clk = np.bincount(sd_key, weights=ads["clicks"].to_numpy(), minlength=ns * n_days)
        imp = np.bincount(sd_key, weights=ads["impressions"].to_numpy(), minlength=ns * n_days)
        ia = np.flatnonzero((c == C_ADS) & (dv == 0))
        ib = np.flatnonzero((c == C_ADS) & (dv == 1))
        mkey = pd.Index(keys[ib] - 1)
        pair = mkey.get_indexer(keys[ia])  # mobile row → its pc row (both exist in the grid)
        if (pair < 0).any():
            raise ValueError("traffic_daily: sponsored_ads grid incomplete")
        sdk = s[ia] * n_days + d[ia]
        om, op = o[ia], o[ib[pair]]
        extra = (clk[sdk] - om - op).astype(np.int64)
        if (extra < 0).any():
            raise ValueError("traffic_daily: more ads orders than ad clicks")
        xm = rng.binomial(extra, mob[ia])
        sessions[ia], sessions[ib[pair]] = om + xm, op + extra - xm
        iextra = (imp[sdk] - clk[sdk]).astype(np.int64)
        im = rng.binomial(iextra, mob[ia])
        impr[ia], impr[ib[pair]] = sessions[ia] + im, sessions[ib[pair]] + iextra - im
        lonely = np.setdiff1d(np.flatnonzero(c == C_ADS), np.concatenate([ia, ib[pair]]))
        sessions[lonely], impr[lonely] = o[lonely], o[lonely]
    keep = impr > 0  # rows with exposure (an ads row may have impressions but no clicks)
    s, d, c, dv, o, b2b = s[keep], d[keep], c[keep], dv[keep], o[keep], b2b[keep]
    sessions, impr = sessions[keep], impr[keep]
    pv = sessions + rng.poisson(sessions * (PAGES_PER_SESSION[dv] - 1)
                                * np.where(c == C_LIVE, 0.6, 1.0))
    atc = np.where(b2b, 0, o + rng.binomial(sessions - o, ATC_RATE[c]))
    fav = rng.binomial(sessions, FAV_RATE[c])
    newv = rng.binomial(sessions, NEW_VISITOR[c])
    return pd.DataFrame({
        "store_id": _str_take(st["store_id"], s),
        "date": _day_dates(ctx, d),
        "channel": pd.Categorical.from_codes(c, categories=CHANNELS),
        "device": pd.Categorical.from_codes(dv, categories=DEVICES),
        "impressions": impr, "sessions": sessions, "page_views": pv,
        "add_to_cart": atc, "favourites": fav, "new_visitors": newv, "orders": o,
    })


def _complete_live(ctx, rng, st, ov):
    live = ctx.tables.get("live_sessions")
    if live is None or not len(live):
        return live
    live = live.copy()
    n = len(live)
    j = ov["live_session_id"][ov["live_session_id"] >= 0]
    has = ov["live_session_id"] >= 0
    orders = np.bincount(j, minlength=n)
    gmv_c = np.bincount(j, weights=ov["cents"][has], minlength=n)
    ls = _codes(live["store_id"], st["store_id"])
    tiktok = st["platform_id"].to_numpy()[ls] == "tiktok_shop"
    infl = np.asarray(live["host_type"], dtype=object) == "influencer"
    dur = live["duration_min"].to_numpy(float)
    base = (rng.lognormal(np.log(np.where(tiktok, 300, 80)), 0.6) * np.where(infl, 3, 1)
            * dur / 120)
    cvr = rng.lognormal(np.log(0.015), 0.4, n) * np.where(infl, 0.8, 1.0)
    viewers = orders + rng.poisson(orders * (1 / cvr - 1) + base)
    live["viewers"] = viewers
    live["peak_concurrent"] = np.minimum(viewers, np.round(
        viewers * rng.uniform(0.04, 0.15, n)).astype(np.int64) + (viewers > 0))
    live["avg_watch_sec"] = np.round(rng.lognormal(np.log(np.where(infl, 95, 70)), 0.45), 1)
    live["comments"] = rng.poisson(viewers * rng.uniform(0.02, 0.1, n))
    live["likes"] = rng.poisson(viewers * np.where(tiktok, rng.uniform(1, 6, n),
                                                   rng.uniform(0.2, 1.5, n)))
    live["new_followers"] = rng.binomial(viewers, rng.uniform(0.005, 0.03, n))
    live["orders"] = orders
    live["gmv"] = gmv_c / 100.0
    return live


_REACH_MEDIAN = {"facebook": 350, "instagram": 600, "youtube": 900, "tiktok": 1500,
                 "pinterest": 300, "blog": 250}


def _complete_posts(ctx, rng, st, ov):
    posts = ctx.tables.get("social_posts")
    if posts is None or not len(posts):
        return posts
    posts = posts.copy()
    n = len(posts)
    has = ov["post_id"] >= 0
    j = ov["post_id"][has]
    conv = np.bincount(j, minlength=n)
    rev_c = np.bincount(j, weights=ov["cents"][has], minlength=n)
    ps = _codes(posts["store_id"], st["store_id"])
    spend_usd = posts["spend"].to_numpy(float) / st["per_usd"].to_numpy()[ps]
    sns = np.asarray(posts["sns_platform"], dtype=object)
    sns_u, sns_i = np.unique(sns, return_inverse=True)
    base_reach = (np.array([_REACH_MEDIAN[x] for x in sns_u])[sns_i]
                  * rng.lognormal(0, 0.8, n)
                  + spend_usd * rng.uniform(80, 250, n))  # paid reach ≈ CPM $4–12
    link_ctr = np.where(sns == "blog", 0.04, rng.uniform(0.004, 0.015, n))
    cvr = rng.lognormal(np.log(0.02), 0.4, n)
    clicks = conv + rng.poisson(conv * (1 / cvr - 1) + base_reach * link_ctr)
    eng = clicks + rng.poisson(np.where(sns == "blog", 0.1, rng.uniform(1.5, 6, n))
                               * np.maximum(clicks, 1))
    er = np.where(sns == "blog", 0.05, rng.uniform(0.01, 0.06, n))
    reach = eng + rng.poisson(np.maximum(eng * (1 / er - 1), base_reach))
    posts["reach"] = reach
    posts["impressions"] = reach + rng.poisson(reach * rng.uniform(0.1, 0.8, n))
    posts["engagements"] = eng
    posts["utm_clicks"] = clicks
    posts["conversions"] = conv
    posts["revenue"] = rev_c / 100.0
    return posts


def build_metrics(ctx: Context) -> dict[str, pd.DataFrame]:
    """Stage ``marketing_metrics``: ads/traffic reports and live/social results from orders."""
    rng = ctx.rng("marketing_metrics")
    st = _store_frame(ctx)
    ov = _order_view(ctx, st)
    ads = _ads_daily(ctx, rng, st, ov)
    traffic = _traffic_daily(ctx, rng, st, ov, ads)
    out = {"ads_daily": ads, "traffic_daily": traffic}
    live = _complete_live(ctx, rng, st, ov)
    if live is not None:
        out["live_sessions"] = live
    posts = _complete_posts(ctx, rng, st, ov)
    if posts is not None:
        out["social_posts"] = posts
    return out
