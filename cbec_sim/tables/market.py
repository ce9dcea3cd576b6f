"""Market-research data (stage ``market``): demand, competitor brands/products and keywords.

Supports clause 5.1 市场调研 and 5.14 数据分析 (competitor part) of T/CCPITCSC 111-2022 —
Table 1 tasks 1.1.2 market capacity, 1.1.4 forecasting / blue-ocean markets, 1.1.5
competitor analysis, 1.1.6 trends (increment vs stock, peak/off seasons, inflection points,
concentration CR4/CR8/HHI, best price band, hot-search attributes), 7.1/7.1–7.1/7.3 and 7.2.3
(competing stores, products and keywords).

Tables (all sizes independent of ``n_orders`` except a mild growth of brand and product counts):

- ``market_demand`` — category × market × month, from 24 months before the world's start
  to its last month: searches, GMV, units, average price and active sellers.
- ``competitor_sales`` — category × market × month × brand for the world's months plus the
  12 before them. Brand GMV is a share of ``market_demand.market_gmv_usd``; the rest is the
  long tail of small sellers, so concentration ratios and HHI are computable.
- ``competitor_products`` — a snapshot (on the world's last day) of competitor listings on
  the world's B2C platforms, with prices, ratings, reviews, units and hot attributes.
- ``keywords`` — one row per search keyword × market with 12-month search volume, year-on-year
  change, competition and suggested CPC; ``keyword_id`` is the key ad keywords refer to.

Every number below that is not a public fact is a simulation parameter (teaching value).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cbec_sim import calendar as cal
from cbec_sim.catalog import catalog
from cbec_sim.rules import (
    KEYWORD_DECLINING_RATIO,
    KEYWORD_RISING_RATIO,
    breakeven_cpc,
    keyword_trend,
    round_cents,
)
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import (
    fast_ids,
    id_array,
    make_ids,
    str_series,
    take,
    weighted_choice_by_group,
)
from cbec_sim.tables.labels import label_frame, label_spec

_CAT = catalog()
CATEGORIES: tuple[str, ...] = tuple(_CAT.categories)
MARKETS: tuple[str, ...] = tuple(_CAT.market_codes)
PRODUCT_TYPES: tuple[str, ...] = tuple(dict.fromkeys(_CAT.hs_codes["product_type"].astype(str)))
CURRENCIES: tuple[str, ...] = tuple(_CAT.fx.index)

HISTORY_MONTHS = 24  # market_demand history before the world's first month
COMP_HISTORY_MONTHS = 12  # competitor_sales history (enough for year-on-year)

# Category parameters (simulation/teaching values, order-of-magnitude only):
# base monthly online GMV in a market of demand_weight 1.0 (USD millions), mean annual growth,
# climate-season amplitude and peak month (northern hemisphere), gift sensitivity (how much the
# market's retail events lift the category), searches per unit sold, annual real price drift.
CATEGORY_PARAMS: dict[str, tuple[float, float, float, int, float, float, float]] = {
    "apparel": (120.0, 0.06, 0.12, 11, 0.15, 20.0, 0.01),
    "footwear": (60.0, 0.05, 0.10, 4, 0.10, 16.0, 0.01),
    "bags": (35.0, 0.03, 0.08, 8, 0.20, 14.0, 0.01),
    "phone_accessories": (55.0, 0.02, 0.05, 9, 0.15, 9.0, -0.03),
    "audio": (70.0, 0.10, 0.05, 6, 0.40, 11.0, -0.03),
    "smart_wearables": (45.0, 0.20, 0.10, 1, 0.40, 12.0, -0.04),
    "beauty": (80.0, 0.12, 0.05, 5, 0.30, 13.0, 0.02),
    "home_kitchen": (90.0, 0.07, 0.06, 10, 0.20, 10.0, 0.01),
    "toys": (40.0, 0.04, 0.05, 7, 0.75, 12.0, 0.00),
    "sports_outdoor": (50.0, 0.09, 0.35, 6, 0.10, 11.0, 0.01),
    "jewelry": (30.0, 0.03, 0.12, 2, 0.45, 22.0, 0.02),
    "watches": (20.0, -0.08, 0.05, 6, 0.40, 15.0, -0.01),
    "small_appliances": (45.0, 0.10, 0.06, 1, 0.30, 10.0, -0.01),
    "lighting": (25.0, -0.03, 0.18, 12, 0.15, 9.0, -0.02),
    "food_health": (35.0, 0.15, 0.08, 1, 0.10, 7.0, 0.02),
    "eyewear": (15.0, 0.02, 0.38, 6, 0.05, 14.0, 0.00),
}
DEFAULT_CATEGORY_PARAMS = (30.0, 0.05, 0.08, 11, 0.20, 12.0, 0.0)

SOUTHERN = {"AU", "BR"}  # climate seasons shifted by six months
EMERGING_REGIONS = {"Latin America", "Southeast Asia", "Middle East", "Africa"}
TROPICAL_REGIONS = {"Southeast Asia", "Africa"}  # weak climate seasons

#: Keyword noun per product type, where the HS ``name_en`` is not what shoppers type.
KEYWORD_NOUN: dict[str, str] = {
    "t_shirt": "t-shirt", "sweater": "sweater", "dress": "dress", "trousers": "trousers",
    "sneakers": "sneakers", "sandals": "sandals", "earbuds": "earbuds",
    "fitness": "fitness equipment", "ball": "inflatable ball",
    "fashion_jewelry": "fashion jewellery", "gold_jewelry": "gold necklace", "watch": "watch",
    "led_light": "led light", "coffee": "coffee", "biscuits": "biscuits",
    "skincare": "face cream", "premium_skincare": "face serum",
    "kitchenware": "kitchen utensils", "porcelain": "dinnerware set",
    "steel_ware": "stainless steel cookware", "bed_linen": "bed sheets",
    "speaker": "bluetooth speaker", "supplement": "supplement",
}

#: Product attributes shoppers search for, per product type, most popular first.
#: ``+`` marks an attribute whose popularity is rising, ``-`` one that is fading.
TYPE_ATTRS: dict[str, tuple[str, ...]] = {
    "t_shirt": ("graphic", "oversized+", "v neck", "quick dry", "vintage+", "plus size",
                "long sleeve", "organic cotton+"),
    "sweater": ("cable knit", "oversized+", "turtleneck", "chunky", "cropped+", "cardigan-",
                "plus size", "wool blend"),
    "dress": ("floral", "maxi", "summer", "wrap", "linen+", "bodycon-", "plus size", "party"),
    "trousers": ("stretch", "chino", "cargo+", "slim fit-", "wide leg+", "jogger", "work",
                 "linen"),
    "sneakers": ("running", "lightweight", "breathable", "non-slip", "wide fit", "memory foam",
                 "waterproof+", "platform-"),
    "sandals": ("non-slip", "beach", "slide", "platform", "orthopedic+", "arch support+",
                "waterproof", "lightweight"),
    "handbag": ("tote", "crossbody+", "vegan leather+", "large capacity", "quilted",
                "chain strap", "mini-", "minimalist"),
    "backpack": ("laptop", "waterproof", "anti-theft+", "large capacity", "travel",
                 "usb charging-", "lightweight", "rolltop+"),
    "charger": ("fast charging", "usb-c", "65w gan+", "wireless+", "multi port", "travel",
                "magnetic+", "micro usb-"),
    "phone_case": ("shockproof", "clear", "magnetic+", "slim", "kickstand", "card holder",
                   "glitter-", "biodegradable+"),
    "earbuds": ("wireless", "noise cancelling+", "waterproof", "bluetooth 5.3+", "open ear+",
                "sports", "long battery", "wired-"),
    "speaker": ("waterproof", "portable", "bass boost", "party", "rgb lights", "long battery",
                "outdoor", "aux input-"),
    "smartwatch": ("heart rate", "waterproof", "gps", "blood oxygen", "sleep tracking",
                   "amoled+", "bluetooth calling+", "kids-"),
    "action_camera": ("4k", "waterproof", "image stabilization+", "wide angle", "5k+",
                      "dual screen", "helmet mount", "1080p-"),
    "skincare": ("moisturizing", "hyaluronic acid", "niacinamide+", "fragrance free",
                 "retinol+", "vegan", "spf 50", "paraben free-"),
    "premium_skincare": ("anti aging", "vitamin c", "peptide+", "retinol+", "hyaluronic acid",
                         "firming", "night", "collagen-"),
    "lipstick": ("matte", "long lasting", "nude", "velvet+", "lip tint+", "moisturizing",
                 "waterproof", "glitter-"),
    "perfume": ("long lasting", "floral", "woody+", "unisex+", "oud+", "travel size",
                "fresh", "musk"),
    "shampoo": ("anti dandruff", "sulfate free+", "argan oil", "organic", "volumizing",
                "color safe", "rosemary+", "2 in 1-"),
    "kitchenware": ("bpa free", "silicone+", "heat resistant", "dishwasher safe", "non-stick",
                    "space saving", "5 piece", "plastic free+"),
    "porcelain": ("microwave safe", "white", "stackable", "dishwasher safe", "matte glaze+",
                  "handmade+", "12 piece", "gold rim-"),
    "steel_ware": ("induction", "dishwasher safe", "oven safe", "tri-ply+", "10 piece",
                   "non-stick-", "heavy duty", "copper core+"),
    "bed_linen": ("100% cotton", "queen size", "king size", "deep pocket", "breathable",
                  "bamboo+", "linen+", "microfiber-"),
    "toy": ("educational", "remote control", "stem+", "montessori+", "rechargeable",
            "magnetic", "wooden", "led"),
    "board_game": ("family", "party", "strategy+", "cooperative+", "kids", "2 player",
                   "travel", "classic-"),
    "fitness": ("adjustable", "resistance band", "home gym", "foldable", "non-slip",
                "smart+", "portable", "heavy duty"),
    "ball": ("size 5", "anti-burst", "training", "size 4", "waterproof", "kids", "beach",
             "official size"),
    "tent": ("waterproof", "instant+", "2 person", "4 person", "ultralight+", "family",
             "pop up", "dome-"),
    "fashion_jewelry": ("gold plated", "hypoallergenic", "minimalist", "waterproof+",
                        "layered", "personalized+", "adjustable", "statement-"),
    "gold_jewelry": ("18k", "solid", "dainty", "personalized+", "minimalist",
                     "paperclip chain+", "pearl", "diamond cut"),
    "watch": ("digital", "waterproof", "luminous", "chronograph", "minimalist", "solar+",
              "stainless steel", "military-"),
    "hair_dryer": ("ionic", "high speed+", "foldable", "quiet", "cordless+", "diffuser",
                   "travel", "cold air"),
    "blender": ("high speed", "portable+", "personal", "usb rechargeable+", "glass jar",
                "countertop", "smoothie", "quiet"),
    "massager": ("neck", "percussion+", "cordless", "heated", "shiatsu", "portable",
                 "handheld", "foot"),
    "led_light": ("dimmable", "ceiling", "smart+", "motion sensor", "rgb", "warm white",
                  "battery powered", "solar+"),
    "flashlight": ("rechargeable", "high lumen", "tactical", "usb-c+", "waterproof",
                   "zoomable", "mini", "led"),
    "coffee": ("arabica", "whole bean", "medium roast", "organic", "dark roast", "decaf",
               "single origin+", "cold brew+"),
    "biscuits": ("butter", "chocolate", "sugar free+", "gluten free+", "oat", "vegan",
                 "gift box", "cream filled-"),
    "supplement": ("vitamin d", "multivitamin", "collagen+", "probiotic+", "magnesium+",
                   "omega 3", "vegan", "gummies+"),
    "sunglasses": ("polarized", "uv400", "vintage", "oversized", "sports", "cat eye",
                   "blue light blocking+", "photochromic+"),
}
GENERIC_ATTRS = ("new", "portable", "premium", "lightweight", "durable", "eco friendly+",
                 "compact", "gift-")
N_ATTR = 8

#: Shopper intents appended to long-tail keywords, per category.
CATEGORY_USES: dict[str, tuple[str, ...]] = {
    "apparel": ("for women", "for men", "for summer"),
    "footwear": ("for women", "for men", "for walking"),
    "bags": ("for women", "for travel", "for school"),
    "phone_accessories": ("for android", "for car", "for travel"),
    "audio": ("for running", "for gym", "for kids"),
    "smart_wearables": ("for android", "for swimming", "for cycling"),
    "beauty": ("for dry skin", "for oily skin", "for sensitive skin"),
    "home_kitchen": ("for small kitchen", "for camping", "for family"),
    "toys": ("for toddlers", "for boys", "for girls"),
    "sports_outdoor": ("for home", "for beginners", "for kids"),
    "jewelry": ("for women", "for men", "gift"),
    "watches": ("for men", "for women", "for kids"),
    "small_appliances": ("for travel", "for home", "for women"),
    "lighting": ("for bedroom", "for outdoor", "for camping"),
    "food_health": ("for adults", "for women", "for men"),
    "eyewear": ("for women", "for men", "for driving"),
}
GENERIC_USES = ("for women", "for men", "gift")

#: Made-up brand names (no real trademarks intended) for competitor brands.
BRAND_POOL: tuple[str, ...] = (
    "Aurvelle", "Belquin", "Cadorix", "Dunmira", "Elvaro", "Fyndle", "Glimora", "Harvik",
    "Iskora", "Jovanti", "Kelvaro", "Lumaxa", "Morvane", "Nuvelto", "Orquila", "Pexoro",
    "Quintara", "Rovalle", "Solvix", "Tarquo", "Ulvena", "Vexaro", "Wyndel", "Xandora",
    "Yorvane", "Zentaro", "Arkelle", "Brimora", "Corvella", "Dravik", "Emberix", "Falvora",
    "Gorvane", "Helvara", "Ivorra", "Jaxelle", "Kovira", "Lendro", "Mirova", "Nexalo",
    "Ombrix", "Pravona", "Quorvel", "Ravenic", "Sentiro", "Tovanix", "Ursano", "Valtrix",
    "Wexora", "Xylvane", "Yarvela", "Zorvina", "Aptora", "Blevio", "Crestiq", "Dalvori",
    "Evrano", "Fornix", "Gavello", "Hexora", "Inviro", "Jolvane", "Kraviq", "Lorvex",
    "Mavrico", "Norvale", "Opalix", "Pulvero", "Qelvin", "Rivuno", "Selvaro", "Trivane",
    "Uvexa", "Vornix", "Wavoro", "Xeluna", "Yonvale", "Zephiro", "Alvyra", "Bexarin",
    "Cymora", "Delvane", "Estrovi", "Fiorvex", "Grenvik", "Halcyra", "Ilvana", "Jorvex",
    "Kestiva", "Lavanto", "Mondrix", "Nirvaro", "Oxvale", "Pellora", "Quarvik", "Rendova",
    "Sylvaro", "Tessaro", "Umbrix", "Velaro", "Wilvane", "Xenvio", "Yselle", "Zalvoro",
    "Acorvi", "Bruvano", "Calixo", "Dorvena", "Elquora", "Ferrovi", "Gildova", "Hovira",
    "Ixaro", "Jandrel", "Kalvemo", "Livora", "Marquel", "Novanta", "Orvessa", "Pindaro",
)
ROSTER = 24  # brands per category worldwide; each category-market tracks a subset
STORE_SUFFIXES = ("Official Store", "Flagship Store", "Store", "Direct", "Global", "Shop")

# ---------------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------------

MARKET_DEMAND = register(TableSpec(
    name="market_demand",
    grain="one product category in one market in one calendar month",
    description="Market-research panel (市场调研): estimated online demand of each category in "
                "each market per month, from 24 months before the simulated period to its "
                "last month — market size, growth, seasonality and competition intensity "
                "(Table 1 tasks 1.1.2, 1.1.4, 1.1.6).",
    columns=(
        Column("month", "date", "first day of the calendar month"),
        Column("category", "category", "product category", values=CATEGORIES),
        Column("market", "category", "market (ISO country code)", values=MARKETS),
        Column("search_volume", "int", "on-platform searches for the category's terms",
               unit="searches/month", ge=0),
        Column("market_gmv_usd", "money", "estimated gross merchandise value of the whole "
               "category in the market (all sellers)", unit="USD/month", ge=0),
        Column("units_sold", "int", "estimated units sold by all sellers", unit="units/month",
               ge=1),
        Column("avg_price_usd", "money", "average selling price = market_gmv_usd / units_sold",
               unit="USD", ge=0),
        Column("n_active_sellers", "int", "sellers with at least one sale in the month",
               unit="sellers", ge=1),
    ),
    checks=("one row per (category, market, month); months contiguous",
            "avg_price_usd == round(market_gmv_usd / units_sold, 2)"),
))

COMPETITOR_SALES = register(TableSpec(
    name="competitor_sales",
    grain="one competitor brand in one category and market in one calendar month",
    description="Sales of the leading competitor brands (竞对分析, 竞店) per category, market "
                "and month — a third-party panel estimate across the market's marketplaces, "
                "for the simulated period and the 12 months before it. Brands below these "
                "are the long tail: market_demand.market_gmv_usd minus the brands' sum. Use "
                "it for shares, CR4/CR8, HHI and brand momentum.",
    columns=(
        Column("month", "date", "first day of the calendar month"),
        Column("category", "category", "product category", values=CATEGORIES),
        Column("market", "category", "market (ISO country code)", values=MARKETS),
        Column("brand", "str", "competitor brand (fictitious)"),
        Column("gmv_usd", "money", "brand's gross merchandise value", unit="USD/month", ge=0),
        Column("units", "int", "units sold", unit="units/month", ge=1),
        Column("avg_price_usd", "money", "average selling price = gmv_usd / units", unit="USD",
               ge=0),
        Column("n_listings", "int", "active listings of the brand in the category and market",
               unit="listings", ge=1),
    ),
    checks=("sum of gmv_usd per (category, market, month) < market_demand.market_gmv_usd",
            "sum of units per (category, market, month) < market_demand.units_sold"),
))

COMPETITOR_PRODUCTS = register(TableSpec(
    name="competitor_products",
    grain="one competitor listing (product) in one competitor store, as seen on the world's "
          "last day",
    description="Competitor product monitoring snapshot (竞品数据库, tasks 3.1.1, 7.1/7.1, "
                "7.1/7.2, 7.2.3): listings of competitor brands' stores on the world's B2C "
                "platforms with price, rating, reviews, last-month units and attributes. A "
                "store's rows give its product count, price layout and launch history.",
    columns=(
        Column("competitor_product_id", "str", "competitor listing id", unique=True),
        Column("competitor_store_id", "str", "competitor store id (a brand's store on one "
               "platform in one market)"),
        Column("competitor_store", "str", "competitor store name as shown on the platform"),
        Column("brand", "str", "brand (fictitious); matches competitor_sales.brand"),
        Column("platform_id", "str", "platform the store sells on",
               references="platforms.platform_id"),
        Column("market", "category", "market (ISO country code)", values=MARKETS),
        Column("category", "category", "product category", values=CATEGORIES),
        Column("product_type", "category", "product type within the category",
               values=PRODUCT_TYPES),
        Column("title", "str", "listing title"),
        Column("attributes", "str", "searchable attributes, separated by ';'"),
        Column("price", "money", "listed price in the market's currency", unit="currency",
               ge=0),
        Column("currency", "category", "ISO currency code of price", values=CURRENCIES),
        Column("price_usd", "money", "price converted to USD at fx_rates of the world's last "
               "day (CNY cross rate)", unit="USD", ge=0),
        Column("rating", "float", "average star rating; empty while the listing has no "
               "reviews", unit="stars", nullable=True, ge=1, le=5),
        Column("review_count", "int", "number of reviews", ge=0),
        Column("monthly_units", "int", "estimated units sold in the world's last month",
               unit="units/month", ge=0),
        Column("first_listed", "date", "day the listing went live"),
        Column("image_count", "int", "images on the listing", ge=1, le=9),
        Column("has_video", "bool", "listing has a product video"),
    ),
    checks=("sum of monthly_units × price_usd per (brand, category, market) ≤ that brand's "
            "competitor_sales.gmv_usd in the last month",
            "first_listed ≤ the world's last day"),
))

KEYWORDS = register(TableSpec(
    name="keywords",
    grain="one search keyword in one market",
    description="Keyword research list (关键词表, tasks 1.1.6 hot-search attributes, 3.1.3, "
                "7.1/7.3, 6.2): English search terms built from product nouns and attributes, "
                "with average monthly search volume over the last 12 months of the period, "
                "the same for the 12 months before, competition and suggested CPC. "
                "keyword_id is stable and is what ad keywords refer to.",
    columns=(
        Column("keyword_id", "str", "keyword id (one per keyword and market)", unique=True),
        Column("keyword", "str", "search term"),
        Column("market", "category", "market (ISO country code)", values=MARKETS),
        Column("category", "category", "product category", values=CATEGORIES),
        Column("product_type", "category", "product type the term is about",
               values=PRODUCT_TYPES),
        Column("keyword_type", "category", "head term (noun only), mid (noun + one "
               "attribute) or long_tail (attribute + noun + intent)",
               values=("head", "mid", "long_tail")),
        Column("attribute", "str", "product attribute in the term (empty for head terms)",
               nullable=True),
        Column("is_long_tail", "bool", "keyword_type == 'long_tail'"),
        Column("search_volume", "int", "average monthly searches, last 12 months",
               unit="searches/month", ge=0),
        Column("search_volume_prev_year", "int", "average monthly searches, the 12 months "
               "before", unit="searches/month", ge=0),
        Column("trend", "category", f"rising if search_volume ≥ {KEYWORD_RISING_RATIO:g} × "
               f"the previous year, declining if ≤ {KEYWORD_DECLINING_RATIO:g} ×, else stable "
               "(rules.keyword_trend)", values=("rising", "stable", "declining")),
        Column("competition", "rate", "advertiser competition index (0 = none, 1 = highest)",
               ge=0, le=1),
        Column("suggested_cpc_usd", "money", "suggested cost-per-click bid", unit="USD",
               ge=0),
    ),
    checks=("keyword unique within market",),
))



# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

_MEMO: dict[tuple, tuple[Any, Any]] = {}


def _memo(key: tuple, cat, fn: Callable[[], Any]) -> Any:
    """Per-process cache of a pure function of the catalogue ``cat`` (and ``key``)."""
    k = (*key, id(cat))
    hit = _MEMO.get(k)
    if hit is not None and hit[0] is cat:
        return hit[1]
    if len(_MEMO) > 256:
        _MEMO.clear()
    val = fn()
    _MEMO[k] = (cat, val)
    return val


_DTYPES: dict[tuple[str, ...], pd.CategoricalDtype] = {}


def _cat(labels, codes: np.ndarray, values: tuple[str, ...]) -> pd.Categorical:
    """Categorical of ``labels[codes]`` over the declared value list ``values``."""
    pos = np.array([values.index(v) for v in labels], dtype=np.int64)
    dtype = _DTYPES.get(values)
    if dtype is None:
        dtype = _DTYPES[values] = pd.CategoricalDtype(list(values))
    return pd.Categorical.from_codes(pos[codes], dtype=dtype)


def _title_case(text: str) -> str:
    """Capitalise the first letter of each word, leaving the rest (``usb-c`` → ``Usb-c``)."""
    return " ".join(w[:1].upper() + w[1:] for w in str(text).split())


def _month_index(ctx) -> tuple[pd.DatetimeIndex, int]:
    """Months covered by market_demand and the index of the world's first month."""
    return _memo(("months", ctx.start, ctx.end), None, lambda: _month_index_calc(ctx))


def _month_index_calc(ctx) -> tuple[pd.DatetimeIndex, int]:
    first_world = ctx.start.to_period("M").to_timestamp()
    last = ctx.end.to_period("M").to_timestamp()
    months = pd.date_range(first_world - pd.DateOffset(months=HISTORY_MONTHS), last,
                           freq="MS").as_unit("ns")
    return months, HISTORY_MONTHS


def _event_lift(months: pd.DatetimeIndex, markets: list[str], cat) -> np.ndarray:
    """Mean daily retail-event lift per market and month (1.0 = no event), shape (M, T)."""
    key = ("event_lift", months[0], len(months), tuple(markets))
    return _memo(key, cat, lambda: _event_lift_calc(months, markets, cat))


def _event_lift_calc(months: pd.DatetimeIndex, markets: list[str], cat) -> np.ndarray:
    first = months[0].date()
    days = pd.date_range(months[0], months[-1] + pd.offsets.MonthEnd(0), freq="D")
    n_days = len(days)
    mi = (days.year - months[0].year) * 12 + days.month - months[0].month
    per_month = np.bincount(mi, minlength=len(months))
    years = range(months[0].year, months[-1].year + 1)
    offsets: dict[str, np.ndarray] = {}  # event -> day offsets inside the range
    out = np.ones((len(markets), len(months)))
    for k, m in enumerate(markets):
        lift = np.ones(n_days)
        for e in cat.markets.loc[m, "peaks"]:
            if e not in offsets:
                off = np.array([(d - first).days for y in years for d in cal.event_days(e, y)],
                               dtype=np.int64)
                offsets[e] = off[(off >= 0) & (off < n_days)]
            np.maximum.at(lift, offsets[e], cal.PEAK_LIFT[e])
        out[k] = np.bincount(mi, weights=lift, minlength=len(months)) / per_month
    return out


def _types(cat) -> pd.DataFrame:
    """One row per product type with its category, noun, price and unit weight (cached)."""
    return _memo(("types",), cat, lambda: _types_calc(cat))


def _types_calc(cat) -> pd.DataFrame:
    hs = cat.hs_codes.drop_duplicates("product_type").reset_index(drop=True)
    t = pd.DataFrame({
        "product_type": hs["product_type"].astype(str),
        "category": hs["category"].astype(str),
        "price": hs["price_usd"].astype(float),
        "sigma": hs["price_sigma"].astype(float),
    })
    t["noun"] = [KEYWORD_NOUN.get(p, n.lower()) for p, n in
                 zip(t["product_type"], hs["name_en"], strict=True)]
    # cheaper types sell more units (unit-mix weight), a simulation parameter
    t["w"] = t["price"] ** -0.7
    t["w"] = t["w"] / t.groupby("category")["w"].transform("sum")
    return t


def _type_tables(cat, cats, types: pd.DataFrame) -> dict[str, Any]:
    """Per-type arrays used by competitor_products (pure, cached per catalogue)."""
    def calc():
        attr_names, _ = _attr_table(types)
        t_cat = (types["category"].map({c: i for i, c in enumerate(cats)}).fillna(-1)
                 .to_numpy(int))
        lp = np.log(types["price"].to_numpy())
        cat_lp = pd.Series(lp * types["w"].to_numpy()).groupby(t_cat).sum()
        return {
            "t_cat": t_cat, "w": types["w"].to_numpy(), "price": types["price"].to_numpy(),
            "sigma": types["sigma"].to_numpy(),
            "attr_title": np.vectorize(_title_case, otypes=[object])(attr_names),
            "noun_title": np.array([_title_case(x) for x in types["noun"]], dtype=object),
            "cat_sweet": np.exp(cat_lp.reindex(range(len(cats))).to_numpy()),
            # the same texts as Arrow strings, flattened row-major (type * N_ATTR + slot),
            # so that titles and attribute lists are gathered and joined without Python str
            # (large_string: the storage of pandas' str dtype, so no cast at the end)
            "attr_flat": pa.array(attr_names.ravel(), type=pa.large_string()),
            "attr_title_flat": pa.array(
                np.vectorize(_title_case, otypes=[object])(attr_names).ravel(),
                type=pa.large_string()),
            "noun_title_arrow": pa.array([_title_case(x) for x in types["noun"]],
                                         type=pa.large_string()),
        }
    return _memo(("type_tables", tuple(cats)), cat, calc)


_BRAND_ARROW: list[pa.Array] = []


def _brand_arrow() -> pa.Array:
    """``BRAND_POOL`` as an Arrow (large) string array (built once)."""
    if not _BRAND_ARROW:
        _BRAND_ARROW.append(pa.array(BRAND_POOL, type=pa.large_string()))
    return _BRAND_ARROW[0]


def _attr_texts(tt: dict[str, Any], ty: np.ndarray, order: np.ndarray, use: np.ndarray,
                brand_name: pa.Array) -> tuple[pd.Series, pd.Series]:
    """The ``attributes`` and ``title`` columns of competitor listings (Arrow, no Python loop).

    Row ``i`` lists its first ``use[i].sum()`` attributes in ``order[i]`` (names joined by
    ``;``) and is titled "brand, first one or two attribute titles, type noun" (spaces).
    ``use`` is true for a prefix of each row's slots, so skipping the unused slots (nulls)
    gives exactly the texts built by concatenating the used ones.
    """
    def slot(flat: pa.Array, j: int, used: np.ndarray | None = None) -> pa.Array:
        pos = ty * N_ATTR + order[:, j]
        return flat.take(pa.array(pos, mask=None if used is None else ~used))

    names = [slot(tt["attr_flat"], j, use[:, j] if j else None) for j in range(4)]
    semi, space = pa.scalar(";", pa.large_string()), pa.scalar(" ", pa.large_string())
    attrs = pc.binary_join_element_wise(*names, semi, null_handling="skip")
    words = pc.binary_join_element_wise(slot(tt["attr_title_flat"], 0),
                                        slot(tt["attr_title_flat"], 1, use[:, 1]), space,
                                        null_handling="skip")
    title = pc.binary_join_element_wise(brand_name, words,
                                        tt["noun_title_arrow"].take(pa.array(ty)), space)
    return str_series(attrs), str_series(title)


def _attr_table(types: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Attribute names (n_types × 8) and trend flags (+1 rising, -1 fading, 0 stable)."""
    names = np.empty((len(types), N_ATTR), dtype=object)
    flags = np.zeros((len(types), N_ATTR))
    for i, p in enumerate(types["product_type"]):
        attrs = TYPE_ATTRS.get(p, GENERIC_ATTRS)[:N_ATTR]
        for j, a in enumerate(attrs):
            names[i, j] = a.rstrip("+-")
            flags[i, j] = 1.0 if a.endswith("+") else (-1.0 if a.endswith("-") else 0.0)
    return names, flags


def _local_per_usd(ctx, currencies: np.ndarray) -> np.ndarray:
    """Units of each currency per USD on the world's last day (fx_rates; else catalogue)."""
    cat = ctx.catalog
    cny = dict(_memo(("cny",), cat, lambda: cat.fx["cny"].astype(float).to_dict()))
    fx = ctx.tables.get("fx_rates")
    if fx is not None and len(fx):
        day = fx["date"].to_numpy()
        last = np.flatnonzero(day == day[~np.isnat(day)].max())  # rows of the last day
        cur = fx["currency"].to_numpy()[last]
        rate = fx["cny_per_unit"].to_numpy(dtype=float)[last]
        cny.update({str(c): float(r) for c, r in zip(cur, rate, strict=True)})
    return np.array([cny["USD"] / cny[c] for c in currencies])


def _charm_price(p_local: np.ndarray, fx: np.ndarray) -> np.ndarray:
    """Psychological price points: x.99 for strong currencies, 1,990-style steps otherwise."""
    mag = 10.0 ** np.floor(np.log10(np.maximum(fx, 1e-9)))
    step = mag / 10.0
    nice = np.ceil(p_local / (10 * step)) * (10 * step) - step
    charm = np.ceil(p_local) - 0.01
    out = np.where(fx < 5, charm, nice)
    return round_cents(np.maximum(out, np.where(fx < 5, 0.99, step * 9)))


def _ar1(rng: np.random.Generator, shape: tuple[int, ...], phi: float, sigma: float):
    """AR(1) noise along the last axis."""
    e = rng.normal(0.0, sigma, shape)
    out = np.empty(shape)
    out[..., 0] = e[..., 0] / np.sqrt(1 - phi**2)
    for t in range(1, shape[-1]):
        out[..., t] = phi * out[..., t - 1] + e[..., t]
    return out


# ---------------------------------------------------------------------------------------------
# market_demand
# ---------------------------------------------------------------------------------------------

def _market_facts(cat, mk):
    mkt = cat.markets.loc[mk]
    return (mkt["demand_weight"].to_numpy(float), mkt["price_level"].to_numpy(float),
            mkt["region"].isin(EMERGING_REGIONS).to_numpy(),
            mkt["region"].isin(TROPICAL_REGIONS).to_numpy())


def _asp_c(types: pd.DataFrame, cats) -> np.ndarray:
    tp = types.assign(wp=types["w"] * types["price"] * 0.9).groupby("category")["wp"].sum()
    return tp.reindex(cats).fillna(30.0).to_numpy()


def _demand(ctx, rng, months, i0, cats, mk, types):
    cat = ctx.catalog
    C, M, T = len(cats), len(mk), len(months)
    par = np.array([CATEGORY_PARAMS.get(c, DEFAULT_CATEGORY_PARAMS) for c in cats])
    base, g_c, amp, peak, gift, spu, drift = (par[:, k] for k in range(7))
    weight, level, emerging, tropical = _memo(("demand_mkt", tuple(mk)), cat,
                                              lambda: _market_facts(cat, mk))
    southern = np.isin(np.array(mk), list(SOUTHERN))

    affinity = np.exp(rng.normal(0.0, 0.3, (C, M)))
    growth = g_c[:, None] + 0.10 * emerging[None, :] + rng.normal(0.0, 0.06, (C, M))
    growth = np.maximum(growth, -0.35)
    size_f = np.ones((C, M))
    seller_f = np.ones((C, M))
    # blue-ocean segments: small, fast-growing, few sellers (mostly emerging markets)
    n_cm = C * M
    n_blue = max(1, round(0.05 * n_cm))
    pw = np.where(emerging[None, :], 3.0, 1.0).repeat(C, 0).ravel()
    blue = rng.choice(n_cm, size=min(n_blue, n_cm), replace=False, p=pw / pw.sum())
    bc, bm = np.unravel_index(blue, (C, M))
    growth[bc, bm] = rng.uniform(0.45, 0.85, len(blue))
    size_f[bc, bm] = rng.uniform(0.25, 0.5, len(blue))
    seller_f[bc, bm] = rng.uniform(0.15, 0.3, len(blue))
    # trend inflection points: growth changes at a breakpoint month
    rest = np.setdiff1d(np.arange(n_cm), blue)
    n_inf = min(len(rest), max(1, round(0.08 * n_cm)))
    infl = rng.choice(rest, size=n_inf, replace=False)
    ic, im = np.unravel_index(infl, (C, M))
    tb = rng.integers(9, max(10, T - 6), n_inf)  # leave months on both sides to see it
    g1 = growth[ic, im]
    jump = rng.uniform(0.3, 0.5, n_inf)
    g2 = np.where(g1 > 0.05, g1 - jump, g1 + jump)

    t = np.arange(T)
    r = np.log1p(growth)[:, :, None] / 12.0 * np.ones(T)
    r2 = np.log1p(np.maximum(g2, -0.6)) / 12.0
    for k in range(n_inf):
        r[ic[k], im[k], tb[k]:] = r2[k]
    loglev = np.concatenate([np.zeros((C, M, 1)), np.cumsum(r[:, :, 1:], axis=2)], axis=2)
    loglev -= loglev[:, :, i0:i0 + 1]

    moy = months.month.to_numpy()
    shift = np.where(southern, 6, 0)
    hemi = np.where(tropical, 0.35, 1.0)
    phase = 2 * np.pi * (moy[None, None, :] - peak[:, None, None] - shift[None, :, None]) / 12
    climate = 1.0 + amp[:, None, None] * hemi[None, :, None] * np.cos(phase)
    lift = _event_lift(months, mk, cat)  # (M, T)
    events = 1.0 + (lift[None, :, :] - 1.0) * (0.6 + 1.5 * gift[:, None, None])
    dim = months.days_in_month.to_numpy() / 30.4375
    noise = _ar1(rng, (C, M, T), 0.6, 0.035)
    gmv = (base[:, None, None] * 1e6 * weight[None, :, None] * (affinity * size_f)[:, :, None]
           * np.exp(loglev + noise) * climate * events * dim)
    gmv = round_cents(gmv)

    # average selling price: unit-weighted type prices, market level, drift, event discounts
    asp_c = _memo(("asp_c", tuple(cats)), cat, lambda: _asp_c(types, cats))
    years = (t - i0) / 12.0
    price = (asp_c[:, None, None] * level[None, :, None] * np.exp(drift[:, None, None] * years)
             * (1.0 - 0.25 * (lift[None, :, :] - 1.0))
             * np.exp(rng.normal(0.0, 0.05, (C, M, 1)) + rng.normal(0.0, 0.015, (C, M, T))))
    units = np.maximum(1, np.rint(gmv / price)).astype(np.int64)
    avg_price = round_cents(gmv / units)

    # searches lead sales slightly; search-to-buy ratio differs by market
    nxt = np.concatenate([units[:, :, 1:], units[:, :, -1:]], axis=2)
    ratio = spu[:, None, None] * np.exp(rng.normal(0.0, 0.15, (C, M, 1)))
    search = np.rint(ratio * (0.7 * units + 0.3 * nxt)
                     * np.exp(rng.normal(0.0, 0.03, (C, M, T)))).astype(np.int64)

    # active sellers follow the trend with a lag of ~4 months
    world_gmv = gmv[:, :, i0:].mean(axis=2)
    base_s = (0.18 * np.maximum(world_gmv, 1.0) ** 0.55 * seller_f
              * np.exp(rng.normal(0.0, 0.15, (C, M))))
    lag = np.clip(t - 4, 0, None)
    sellers = base_s[:, :, None] * np.exp(0.7 * loglev[:, :, lag]
                                          + rng.normal(0.0, 0.02, (C, M, T)))
    sellers = np.maximum(40, np.rint(sellers)).astype(np.int64)

    df = pd.DataFrame({
        "month": np.tile(months.to_numpy(), C * M),
        "category": _cat(cats, np.repeat(np.arange(C), M * T), CATEGORIES),
        "market": _cat(mk, np.tile(np.repeat(np.arange(M), T), C), MARKETS),
        "search_volume": search.ravel(),
        "market_gmv_usd": gmv.ravel(),
        "units_sold": units.ravel(),
        "avg_price_usd": avg_price.ravel(),
        "n_active_sellers": sellers.ravel(),
    })

    seg = np.char.add(np.char.add(np.array(cats)[bc].astype(str), "|"), np.array(mk)[bm])
    labels = [
        label_spec("blue_ocean_market", "market_demand", seg,
                     start=months[0], end=months[-1],
                     detail=[f"{cats[c]} in {mk[m]}: annual growth {growth[c, m]:+.0%}, "
                             f"sellers ×{seller_f[c, m]:.2f} of a normal segment"
                             for c, m in zip(bc, bm, strict=True)]),
        label_spec("trend_inflection", "market_demand",
                     np.char.add(np.char.add(np.array(cats)[ic].astype(str), "|"),
                                 np.array(mk)[im]),
                     start=months[tb].to_numpy(), end=months[-1],
                     detail=[f"{cats[c]} in {mk[m]}: annual trend growth {a:+.0%} → {b:+.0%} "
                             f"from {months[k].date()}" for c, m, a, b, k in
                             zip(ic, im, g1, g2, tb, strict=True)]),
    ]
    state = {"gmv": gmv, "units": units, "price": price, "search": search, "sellers": sellers,
             "asp_c": asp_c, "level": level}
    return df, labels, state


# ---------------------------------------------------------------------------------------------
# competitor_sales
# ---------------------------------------------------------------------------------------------

def _competitor_sales(ctx, rng, months, i0, cats, mk, st):
    C, M = len(cats), len(mk)
    t0 = max(0, i0 - COMP_HISTORY_MONTHS)
    cm_months = months[t0:]
    T = len(cm_months)
    gmv_m = st["gmv"][:, :, t0:]
    units_m = st["units"][:, :, t0:]
    price_m = st["price"][:, :, t0:]

    scale = max(0.0, np.log10(max(ctx.n_orders, 1) / 5000.0))
    hi = int(min(20, round(13 + 3 * scale)))
    lo = 10
    B = hi
    nb = rng.integers(lo, hi + 1, (C, M))
    pool = len(BRAND_POOL)
    roster = np.argsort(rng.random((C, pool)), axis=1)[:, :ROSTER]  # (C, R)
    pick = np.argsort(rng.random((C, M, ROSTER)), axis=2)[:, :, :B]  # positions in roster
    brand_idx = np.take_along_axis(np.broadcast_to(roster[:, None, :], (C, M, ROSTER)), pick, 2)
    slot = np.arange(B)
    exists = slot[None, None, :] < nb[:, :, None]  # (C, M, B)

    s = rng.uniform(0.55, 1.5, (C, M))  # Zipf exponent: higher = more concentrated
    top = np.clip(0.3 + 0.35 * (s - 0.55) / 0.95 + rng.uniform(0.0, 0.15, (C, M)), 0.25, 0.8)
    base_w = (slot[None, None, :] + 1.0) ** -s[:, :, None] * np.exp(
        rng.normal(0.0, 0.15, (C, M, B)))
    base_w = np.where(exists, base_w, 0.0)
    norm = base_w.sum(axis=2, keepdims=True)

    # planted surges: one mid-ranked brand's GMV jumps ×2.5–4 for a few months
    n_cm = C * M
    n_surge = max(1, round(0.03 * n_cm))
    world_T = T - (i0 - t0)
    sel = rng.choice(n_cm, size=min(n_surge, n_cm), replace=False)
    sc, sm = np.unravel_index(sel, (C, M))
    sb = rng.integers(2, 8, len(sel))
    ts = (i0 - t0) + rng.integers(0, max(1, world_T - 1), len(sel))
    dur = rng.integers(2, 6, len(sel))
    k_surge = rng.uniform(2.5, 4.0, len(sel))
    is_surge = np.zeros((C, M, B), bool)
    is_surge[sc, sm, sb] = True

    mu = rng.normal(0.0, 0.18, (C, M, B))  # brand momentum (log share per year)
    entrant = exists & (slot >= 3) & ~is_surge & (rng.random((C, M, B)) < 0.15)
    exiter = exists & ~entrant & ~is_surge & (slot >= 3) & (rng.random((C, M, B)) < 0.05)
    mu = np.where(entrant, mu + 0.3, mu)
    entry = np.where(entrant, rng.integers(2, max(3, T - 3), (C, M, B)), 0)
    exit_ = np.where(exiter, rng.integers(T // 2, max(T // 2 + 1, T - 1), (C, M, B)), T)
    tt = np.arange(T)
    walk = np.cumsum(rng.normal(0.0, 0.035, (C, M, B, T)), axis=3)
    logw = (np.log(np.maximum(base_w, 1e-12))[..., None] + mu[..., None] * tt / 12.0 + walk)
    ramp = np.where(entrant[..., None],
                    np.clip((tt[None, None, None, :] - entry[..., None] + 1) / 6.0, 0.15, 1.0),
                    1.0)
    active = (exists[..., None] & (tt >= entry[..., None]) & (tt < exit_[..., None]))
    surge = np.ones((C, M, B, T))
    for k in range(len(sel)):
        surge[sc[k], sm[k], sb[k], ts[k]:ts[k] + dur[k]] = k_surge[k]
    share = top[..., None, None] * np.exp(logw) * ramp * surge / norm[..., None]
    share = np.where(active, np.maximum(share, 5e-4), 0.0)
    total = share.sum(axis=2, keepdims=True)
    share *= np.minimum(1.0, 0.9 / np.maximum(total, 1e-12))

    gmv = round_cents(gmv_m[:, :, None, :] * share)
    # brands price above the long tail: share-weighted harmonic mean of the index ≥ 1.1
    idx = np.exp(rng.normal(0.0, 0.25, (C, M, B)) + 0.1 * (slot < 3))
    bw = base_w / norm
    hm = bw.sum(axis=2) / np.where(exists, bw / idx, 0.0).sum(axis=2)
    idx *= np.maximum(1.0, 1.1 / hm)[..., None]
    bprice = price_m[:, :, None, :] * idx[..., None] * np.exp(
        rng.normal(0.0, 0.03, (C, M, B, T)))
    units = np.maximum(1, np.rint(gmv / bprice))
    cap = 0.95 * units_m / np.maximum(np.where(active, units, 0).sum(axis=2), 1)
    units = np.maximum(1, np.floor(units * np.minimum(1.0, cap)[:, :, None, :]))
    units = units.astype(np.int64)
    avg = round_cents(gmv / units)
    ref = np.exp(logw[..., :1])
    mean_share = share.sum(axis=3) / np.maximum(active.sum(axis=3), 1)
    lst0 = np.exp(rng.normal(np.log(25.0), 0.5, (C, M, B))) * (mean_share * 100 + 1) ** 0.6
    listings = np.maximum(1, np.rint(lst0[..., None] * (np.exp(logw) / ref) ** 0.4 * ramp))
    listings = listings.astype(np.int64)

    ci, mi, ti, bi = np.nonzero(active.transpose(0, 1, 3, 2))  # rows ordered c, m, t, b
    names = np.array(BRAND_POOL, dtype=object)
    df = pd.DataFrame({
        "month": cm_months.to_numpy()[ti],
        "category": _cat(cats, ci, CATEGORIES),
        "market": _cat(mk, mi, MARKETS),
        "brand": take(_brand_arrow(), brand_idx[ci, mi, bi]),
        "gmv_usd": gmv[ci, mi, bi, ti],
        "units": units[ci, mi, bi, ti],
        "avg_price_usd": avg[ci, mi, bi, ti],
        "n_listings": listings[ci, mi, bi, ti],
    })

    s_end = np.minimum(T, ts + dur) - 1
    ent = [f"{cats[c]}|{mk[m]}|{names[brand_idx[c, m, b]]}" for c, m, b in
           zip(sc, sm, sb, strict=True)]
    labels = [label_spec(
        "competitor_surge", "competitor_sales", ent, start=cm_months[ts].to_numpy(),
        end=cm_months[s_end].to_numpy(),
        detail=[f"{e.split('|')[2]} in {e.split('|')[0]} / {e.split('|')[1]}: GMV ×{k:.1f} "
                f"for {n} month(s)" for e, k, n in zip(ent, k_surge, s_end - ts + 1,
                                                       strict=True)])]
    state = {"brand_idx": brand_idx, "active_last": active[..., -1], "gmv_last": gmv[..., -1],
             "units_last": units[..., -1], "idx": idx, "listings_last": listings[..., -1],
             "entry_month": cm_months.to_numpy()[np.minimum(entry, T - 1)],
             "entrant": entrant, "rank_top": np.broadcast_to(slot < 3, (C, M, B))}
    return df, labels, state


# ---------------------------------------------------------------------------------------------
# competitor_products
# ---------------------------------------------------------------------------------------------

def _competitor_products(ctx, rng, cats, mk, types, attr_names, flags, attr_g, dst, cst):
    cat = ctx.catalog
    M = len(mk)
    b2c = [p for p in ctx.platforms if cat.platforms[p]["model"] == "B2C"]
    plats = {m: [p for p in b2c if m in cat.platforms[p]["markets"]] for m in mk}
    ok_m = np.array([len(plats[m]) > 0 for m in mk])
    act = cst["active_last"] & ok_m[None, :, None]
    ci, mi, bi = np.nonzero(act)
    if len(ci) == 0:
        return None, []
    brand = cst["brand_idx"][ci, mi, bi]
    g_last = cst["gmv_last"][ci, mi, bi]
    u_last = cst["units_last"][ci, mi, bi]

    # stores: one per brand × market × platform the brand sells on
    pair_key = mi * len(BRAND_POOL) + brand
    pairs, pair_of = np.unique(pair_key, return_inverse=True)
    p_m, p_b = pairs // len(BRAND_POOL), pairs % len(BRAND_POOL)
    st_pair, st_plat = [], []
    for m in range(M):
        sel = np.nonzero(p_m == m)[0]
        P = len(plats[mk[m]])
        if not len(sel) or not P:
            continue
        on = rng.random((len(sel), P)) < 0.55
        on[np.arange(len(sel)), rng.integers(0, P, len(sel))] = True
        r, c = np.nonzero(on)
        st_pair.append(sel[r])
        st_plat.append(np.array(plats[mk[m]], dtype=object)[c])
    st_pair = np.concatenate(st_pair)
    st_plat = np.concatenate(st_plat)
    n_st = len(st_pair)
    st_ids = id_array("CS", n_st)  # the ids make_ids would give, as Arrow strings
    suffix = np.array(STORE_SUFFIXES, dtype=object)[rng.integers(0, len(STORE_SUFFIXES), n_st)]
    bnames = np.array(BRAND_POOL, dtype=object)
    st_name = bnames[p_b[st_pair]] + " " + suffix
    first_st = np.searchsorted(st_pair, np.arange(len(pairs)))
    n_per = np.bincount(st_pair, minlength=len(pairs))

    # products per brand × category × market ∝ sqrt(brand GMV)
    target = 375 * M * max(1.0, ctx.n_orders / 5000.0) ** 0.25
    sq = np.sqrt(np.maximum(g_last, 0.0))
    lam = target * sq / sq.sum()
    lst_last = cst["listings_last"][ci, mi, bi]
    n_prod = np.clip(rng.poisson(lam), 1, lst_last)
    grp = np.repeat(np.arange(len(ci)), n_prod)
    N = len(grp)
    pc, pm = ci[grp], mi[grp]
    pair = pair_of[grp]
    store = first_st[pair] + (rng.random(N) * n_per[pair]).astype(np.int64)

    # product type, price
    tt = _type_tables(cat, cats, types)
    t_cat = tt["t_cat"]
    ty = weighted_choice_by_group(rng, pc, t_cat, tt["w"])
    level = dst["level"][pm]
    bidx = cst["idx"][ci, mi, bi][grp]
    med = tt["price"][ty] * level
    p_usd = med * bidx ** 0.8 * np.exp(rng.normal(0.0, 1.0, N) * tt["sigma"][ty] * 0.8)

    # listing age; brands that entered recently only have recent listings
    end = ctx.end.normalize()
    age = np.mod(rng.exponential(420.0, N), 5 * 365.0)
    ent_day = cst["entry_month"][ci, mi, bi][grp]
    max_age = np.where(cst["entrant"][ci, mi, bi][grp],
                       (end.to_datetime64() - ent_day) / np.timedelta64(1, "D"), 5 * 365.0)
    max_age = np.maximum(max_age, 0.0)
    age = np.floor(np.where(age > max_age, rng.random(N) * max_age, age))
    first = end - pd.to_timedelta(age, unit="D")
    tau = -age / 365.25  # years before the snapshot

    # attributes: Gumbel top-k by popularity at listing time (rising ones grow more common)
    logpop = -0.7 * np.log1p(np.arange(N_ATTR))
    score = logpop[None, :] + attr_g[ty] * tau[:, None] + rng.gumbel(size=(N, N_ATTR))
    order = np.argsort(-score, axis=1)
    k = rng.choice([1, 2, 3, 4], size=N, p=[0.15, 0.35, 0.35, 0.15])
    flag = np.take_along_axis(flags[ty], order, 1)
    use = np.arange(N_ATTR)[None, :] < k[:, None]
    n_hot = (np.where(use, flag, 0) > 0).sum(axis=1)
    n_cold = (np.where(use, flag, 0) < 0).sum(axis=1)
    brand_name = _brand_arrow().take(pa.array(brand[grp]))
    attrs, title = _attr_texts(tt, ty, order, use, brand_name)

    # quality and demand: sweet-spot price band, rating, hot attributes, video, age
    top = cst["rank_top"][ci, mi, bi][grp]
    q = rng.normal(4.35, 0.15, len(ci))[grp]
    rating = np.clip(np.round(q + rng.normal(0.0, 0.2, N), 1), 1.0, 5.0)
    video = rng.random(N) < 0.2 + 0.3 * top + 0.15 * (age < 180)
    images = np.clip(np.rint(rng.normal(5.5 + 1.0 * top, 1.8, N)), 1, 9).astype(np.int64)
    # best-selling price band: demand peaks a little below the type's typical price and,
    # more broadly, around the category's unit-weighted typical price
    sweet = med * 0.85
    cat_sweet = tt["cat_sweet"][pc] * level * 0.9
    attract = (np.exp(-np.log(p_usd / sweet) ** 2 / (2 * 0.18**2))
               * np.exp(-np.log(p_usd / cat_sweet) ** 2 / (2 * 0.4**2))
               * np.exp(2.0 * (rating - 4.3)) * (1 + 0.3 * n_hot) * (1 - 0.15 * n_cold)
               * np.where(video, 1.15, 1.0) * np.clip((age + 5) / 60.0, 0.05, 1.0)
               * np.exp(rng.normal(0.0, 0.5, N)))

    # prices in local currency (charm pricing) and back to USD at the last day's rates
    cur = _memo(("currency", tuple(mk)), cat,
                lambda: cat.markets.loc[mk, "currency"].to_numpy(dtype=object))
    fx_m = _local_per_usd(ctx, cur)

    # planted anomalies: dumping prices and inflated reviews (brushing)
    n_dump = max(1, round(0.005 * N))
    dump = rng.choice(N, size=n_dump, replace=False)
    p_usd[dump] = med[dump] * rng.uniform(0.3, 0.45, n_dump)
    attract[dump] *= 3.0
    price = _charm_price(p_usd * fx_m[pm], fx_m[pm])
    price_usd = round_cents(price / fx_m[pm])

    # monitored listings carry their fair part of the brand's units (listing count ratio)
    coverage = np.clip(n_prod / lst_last, 0.03, 0.8) * rng.uniform(0.7, 1.0, len(ci))
    tot = np.bincount(grp, weights=attract, minlength=len(ci))
    exp_u = u_last[grp] * coverage[grp] * attract / tot[grp]
    mu_ = np.floor(exp_u + rng.random(N)).astype(np.int64)
    val = np.bincount(grp, weights=mu_ * price_usd, minlength=len(ci))
    fac = np.minimum(1.0, 0.95 * g_last / np.maximum(val, 1e-9))
    mu_ = np.floor(mu_ * fac[grp]).astype(np.int64)

    months_listed = np.maximum(age / 30.4, 0.3)
    m36 = np.minimum(months_listed, 36)
    # ~2% of buyers review (teaching value); old listings keep reviews from earlier sales
    reviews = (np.floor(mu_ * m36 ** 0.9 * 0.02 * np.exp(rng.normal(0.0, 0.5, N)))
               + rng.poisson(0.4 * m36)).astype(np.int64)
    not_dumped = np.ones(N, dtype=bool)
    not_dumped[dump] = False
    pool_ok = np.flatnonzero(not_dumped)  # = np.setdiff1d(np.arange(N), dump)
    n_fake = min(len(pool_ok), max(1, round(0.01 * N)))
    fake = rng.choice(pool_ok, size=n_fake, replace=False)
    reviews[fake] = (np.maximum(reviews[fake], 20) * rng.uniform(8, 20, n_fake)).astype(np.int64)
    rating[fake] = np.round(rng.uniform(4.8, 5.0, n_fake), 1)
    rating = np.where(reviews > 0, rating, np.nan)

    ids = fast_ids("CP", N)  # make_ids("CP", N) as a str Series
    mk_arr = np.array(mk, dtype=object)
    # text columns are gathered in Arrow (str dtype, as astype(str) of the object values)
    df = pd.DataFrame({
        "competitor_product_id": ids,
        "competitor_store_id": take(st_ids, store),
        "competitor_store": take(st_name, store),
        "brand": str_series(brand_name),
        "platform_id": take(st_plat, store),
        "market": _cat(mk, pm, MARKETS),
        "category": _cat(cats, pc, CATEGORIES),
        "product_type": _cat(types["product_type"], ty, PRODUCT_TYPES),
        "title": title,
        "attributes": attrs,
        "price": price,
        "currency": _cat(cur, pm, CURRENCIES),
        "price_usd": price_usd,
        "rating": rating,
        "review_count": reviews,
        "monthly_units": mu_,
        "first_listed": first.to_numpy(),
        "image_count": images,
        "has_video": video,
    })
    ids = ids.to_numpy()[np.concatenate([dump, fake])]  # the labelled ids only
    labels = [
        label_spec("price_dumping", "competitor_products", ids[:n_dump], start=end, end=end,
                     detail=[f"price {p:.2f} USD ≈ {p / m_:.0%} of the type's typical price "
                             f"in {mk_arr[k_]}" for p, m_, k_ in
                             zip(price_usd[dump], med[dump], pm[dump], strict=True)]),
        label_spec("review_inflation", "competitor_products", ids[n_dump:], start=end, end=end,
                     detail="review_count inflated ×8–20 relative to sales, rating pushed to "
                            "≥4.8 (suspected review brushing)"),
    ]
    return df, labels


# ---------------------------------------------------------------------------------------------
# keywords
# ---------------------------------------------------------------------------------------------

def _keyword_list(cat, types: pd.DataFrame) -> pd.DataFrame:
    """Deterministic keyword texts per product type (no randomness: ids stay stable)."""
    rows = []
    for ti, (ptype, c, noun) in enumerate(zip(types["product_type"], types["category"],
                                              types["noun"], strict=True)):
        attrs = TYPE_ATTRS.get(ptype, GENERIC_ATTRS)[:N_ATTR]
        seen = {noun}
        rows.append((ti, c, ptype, noun, "head", None, -1))
        for j, a in enumerate(attrs):
            a0 = a.rstrip("+-")
            kw = noun if a0 in noun else f"{a0} {noun}"
            if kw not in seen:
                seen.add(kw)
                rows.append((ti, c, ptype, kw, "mid", a0, j))
        rising = [j for j, a in enumerate(attrs) if a.endswith("+")]
        lead = (rising + [j for j in range(len(attrs)) if j not in rising])[:2]
        for j in lead:
            a0 = attrs[j].rstrip("+-")
            for u in CATEGORY_USES.get(c, GENERIC_USES):
                kw = f"{a0} {noun} {u}" if a0 not in noun else f"{noun} {u}"
                if kw not in seen:
                    seen.add(kw)
                    rows.append((ti, c, ptype, kw, "long_tail", a0, j))
    return pd.DataFrame(rows, columns=["ti", "category", "product_type", "keyword",
                                       "keyword_type", "attribute", "aj"])


def _keyword_frame(cat, cats, mk, types) -> dict[str, Any]:
    """The world's keyword rows (keyword × market) without random parts (cached)."""
    base = _keyword_list(cat, types)
    all_m = cat.market_codes
    K, Ma = len(base), len(all_m)
    ids_all = make_ids("KW", K * Ma).reshape(Ma, K)  # stable across worlds with any markets
    m_pos = np.array([all_m.index(m) for m in mk])
    M = len(mk)
    kw = base.iloc[np.tile(np.arange(K), M)].reset_index(drop=True)
    kw["keyword_id"] = ids_all[m_pos].ravel()
    mi = np.repeat(np.arange(M), K)
    ci = kw["category"].map({c: i for i, c in enumerate(cats)}).to_numpy()
    ti = kw["ti"].to_numpy()
    kind = kw["keyword_type"].to_numpy()
    # one code per (market, type, kind) group: the groups of the popularity normalisation
    mtk = pd.DataFrame({"m": mi, "t": ti, "k": kind}).groupby(["m", "t", "k"]).ngroup()
    return {
        "n": len(kw), "mi": mi, "ci": ci, "ti": ti, "aj": kw["aj"].to_numpy(), "kind": kind,
        "keyword_id": kw["keyword_id"].astype(str), "keyword": kw["keyword"].astype(str),
        "attribute": pd.Series(kw["attribute"].to_numpy(dtype=object)).astype("str"),
        # pandas objects (not bare arrays) so that copy-on-write protects the cache
        "market": pd.Series(_cat(mk, mi, MARKETS)),
        "category": pd.Series(_cat(cats, ci, CATEGORIES)),
        "product_type": pd.Series(_cat(types["product_type"], ti, PRODUCT_TYPES)),
        "keyword_type": pd.Series(pd.Categorical(kind, categories=["head", "mid", "long_tail"])),
        "is_long_tail": kind == "long_tail",
        "is_head": kind == "head", "is_mid": kind == "mid",
        "mtk": mtk.to_numpy(),
    }


_TRENDS = ("rising", "stable", "declining")


def _trend_categorical(trend: np.ndarray) -> pd.Categorical:
    """``pd.Categorical(trend, categories=_TRENDS)`` via codes (values not listed → NaN)."""
    trend = np.asarray(trend)
    codes = np.select([trend == t for t in _TRENDS], range(len(_TRENDS)), -1)
    return pd.Categorical.from_codes(codes, categories=list(_TRENDS))


def _keywords(ctx, rng, months, cats, mk, types, attr_g, dst):
    cat = ctx.catalog
    kf = _memo(("keywords", tuple(cats), tuple(mk)), cat,
               lambda: _keyword_frame(cat, cats, mk, types))
    n_kw = kf["n"]
    mi, ci, ti, aj = kf["mi"], kf["ci"], kf["ti"], kf["aj"]

    # category × market searches: last 12 months and the 12 before
    search = dst["search"]
    last12 = search[:, :, -12:].mean(axis=2)
    prev12 = search[:, :, -24:-12].mean(axis=2)
    gm = dst["gmv"][:, :, -12:].mean(axis=2)
    dens = np.log(dst["sellers"][:, :, -12:].mean(axis=2) / np.maximum(gm, 1.0))
    dens = (dens - dens.mean()) / (dens.std() + 1e-9)

    g = np.where(aj >= 0, attr_g[ti, np.maximum(aj, 0)], 0.0)
    pop = np.where(aj >= 0, (1.0 + np.maximum(aj, 0)) ** -0.7, 1.0) * np.exp(g)
    is_head, is_mid = kf["is_head"], kf["is_mid"]
    kind_share = np.select([is_head, is_mid], [0.40, 0.45], 0.04)
    # per (market, type, kind) sums; grouping by the cached group code adds the same rows in
    # the same order (pandas' compensated sum) as grouping by the three columns
    pop_sum = pd.Series(pop).groupby(kf["mtk"]).transform("sum").to_numpy()
    tw = types["w"].to_numpy()[ti]
    share = 0.55 * tw * kind_share * pop / pop_sum * np.exp(rng.normal(0.0, 0.3, n_kw))
    vol = np.rint(last12[ci, mi] * share).astype(np.int64)
    yoy = (last12[ci, mi] / np.maximum(prev12[ci, mi], 1.0)) * np.exp(
        g + rng.normal(0.0, 0.08, n_kw))
    prev = np.rint(vol / yoy).astype(np.int64)
    trend = keyword_trend(vol, prev)

    comp = (np.select([is_head, is_mid], [0.8, 0.58], 0.3)
            + 0.1 * dens[ci, mi] + rng.normal(0.0, 0.08, n_kw))
    comp = np.round(np.clip(comp, 0.01, 0.99), 3)
    level = dst["level"][mi]
    # suggested CPC: break-even bid (price × conversion × target ACoS) scaled by competition;
    # conversion ~8% (head terms convert worse than specific ones) and ACoS 30% are
    # teaching values
    cvr = np.select([is_head, is_mid], [0.06, 0.08], 0.10)
    cpc = (breakeven_cpc(types["price"].to_numpy()[ti] * level, cvr, 0.30)
           * (0.4 + comp) * np.exp(rng.normal(0.0, 0.25, n_kw)))
    cpc = round_cents(np.clip(cpc, 0.05, 15.0))

    out = pd.DataFrame({
        "keyword_id": kf["keyword_id"],
        "keyword": kf["keyword"],
        "market": kf["market"],
        "category": kf["category"],
        "product_type": kf["product_type"],
        "keyword_type": kf["keyword_type"],
        "attribute": kf["attribute"],
        "is_long_tail": kf["is_long_tail"].copy(),
        "search_volume": vol,
        "search_volume_prev_year": prev,
        "trend": _trend_categorical(trend),
        "competition": comp,
        "suggested_cpc_usd": cpc,
    })
    return out


# ---------------------------------------------------------------------------------------------
# stage
# ---------------------------------------------------------------------------------------------

def build(ctx) -> dict[str, pd.DataFrame]:
    """Stage ``market``: market_demand, competitor_sales, competitor_products, keywords."""
    r_dem, r_comp, r_attr, r_prod, r_kw = ctx.rng("market").spawn(5)
    cat = ctx.catalog
    cats = cat.categories
    mk = list(ctx.markets)
    types = _types(cat)
    months, i0 = _month_index(ctx)

    demand, lab_d, dst = _demand(ctx, r_dem, months, i0, cats, mk, types)
    sales, lab_s, cst = _competitor_sales(ctx, r_comp, months, i0, cats, mk, dst)

    attr_names, flags = _memo(("attr_table",), cat, lambda: _attr_table(types))
    # attribute popularity growth (log per year): rising, stable or fading
    attr_g = np.where(flags > 0, r_attr.uniform(0.35, 0.7, flags.shape),
                      np.where(flags < 0, r_attr.uniform(-0.5, -0.25, flags.shape),
                               r_attr.normal(0.0, 0.05, flags.shape)))
    prods, lab_p = _competitor_products(ctx, r_prod, cats, mk, types, attr_names, flags,
                                        attr_g, dst, cst)
    kws = _keywords(ctx, r_kw, months, cats, mk, types, attr_g, dst)

    out = {"market_demand": demand, "competitor_sales": sales, "keywords": kws}
    if prods is not None:
        out["competitor_products"] = prods
    specs = [sp for sp in lab_d + lab_s + lab_p if len(sp["entity_ids"])]
    if specs:
        out["anomalies"] = label_frame(specs)
    return out
