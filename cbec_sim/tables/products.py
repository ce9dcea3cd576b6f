"""Stage ``products``: the company's SKU master and its listings on each store."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec_sim.context import Context
from cbec_sim.rules import round_cents
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import lognormal_around, make_ids
from cbec_sim.tables.labels import label_frame, label_spec

#: Currencies priced in whole units (no cents in practice).
WHOLE_UNIT_CURRENCIES = {"JPY", "KRW", "IDR", "VND", "NGN", "KES", "THB", "PHP", "RUB"}

#: Title attributes that make sense per category (used for titles and keywords).
CATEGORY_ATTRS: dict[str, tuple[str, ...]] = {
    "apparel": ("Cotton", "Slim Fit", "Oversized", "Breathable", "Casual", "Vintage"),
    "footwear": ("Non-Slip", "Lightweight", "Breathable", "Waterproof", "Cushioned", "Casual"),
    "bags": ("Large Capacity", "Waterproof", "Lightweight", "Anti-Theft", "Vintage", "Leather"),
    "phone_accessories": ("Fast Charging", "Shockproof", "Slim", "Magnetic", "USB-C", "Clear"),
    "audio": ("Wireless", "Noise Cancelling", "Waterproof", "Bluetooth 5.3", "Bass Boost",
              "Portable"),
    "smart_wearables": ("Waterproof", "GPS", "Heart Rate", "4K", "Long Battery", "Bluetooth"),
    "beauty": ("Organic", "Hydrating", "Long Lasting", "Vegan", "Matte", "Fragrance-Free"),
    "home_kitchen": ("Stainless Steel", "BPA-Free", "Dishwasher Safe", "Non-Stick", "Eco-Friendly",
                     "Stackable"),
    "toys": ("Educational", "STEM", "Wooden", "Montessori", "Rechargeable", "Glow"),
    "sports_outdoor": ("Adjustable", "Foldable", "Anti-Slip", "Lightweight", "Heavy Duty",
                       "Portable"),
    "jewelry": ("Sterling", "Gold Plated", "Hypoallergenic", "Minimalist", "Vintage", "Handmade"),
    "watches": ("Waterproof", "Luminous", "Minimalist", "Chronograph", "Leather Strap",
                "Digital"),
    "small_appliances": ("Cordless", "Quiet", "Rechargeable", "Compact", "Powerful",
                         "Ionic"),
    "lighting": ("Dimmable", "Rechargeable", "Smart", "Warm White", "Solar", "Waterproof"),
    "food_health": ("Organic", "Sugar-Free", "Gluten-Free", "Premium", "Vegan", "Natural"),
    "eyewear": ("Polarized", "UV400", "Blue Light", "Lightweight", "Retro", "Oversized"),
}
_AUDIENCE = np.array(["for Women", "for Men", "for Kids", "for Home", "for Travel",
                      "for Office", "Gift Set", "2-Pack", "", ""])
_IP_TERMS = np.array(["AirPods Compatible", "Nike Style", "Disney Inspired", "Pokemon",
                      "Rolex Look", "Lego Compatible", "Chanel Style"])

PRODUCTS = register(TableSpec(
    name="products",
    grain="one SKU of the company's catalogue",
    description="SKU master: category, customs code, cost, physical attributes. The 6-digit "
                "prefix of `hs_code` is a real HS 2022 subheading; the national digits are "
                "illustrative.",
    columns=(
        Column("product_id", "str", "product (SKU) id", unique=True),
        Column("sku", "str", "seller SKU code", unique=True),
        Column("category", "category", "product category"),
        Column("product_type", "category", "product type within the category"),
        Column("hs_code", "str", "10-digit China customs commodity code",
               references="hs_codes.hs_code"),
        Column("name_en", "str", "generic product name"),
        Column("name_cn", "str", "Chinese product name (customs description)"),
        Column("brand", "str", "own brand"),
        Column("unit_cost_cny", "money", "purchase cost per unit", unit="CNY", ge=0),
        Column("weight_kg", "float", "packed weight per unit", unit="kg", ge=0),
        Column("length_cm", "float", "packed length", unit="cm", ge=0),
        Column("width_cm", "float", "packed width", unit="cm", ge=0),
        Column("height_cm", "float", "packed height", unit="cm", ge=0),
        Column("fragile", "bool", "needs protective packing"),
        Column("launch_date", "date", "day the SKU entered the catalogue"),
    ),
))

LISTINGS = register(TableSpec(
    name="listings",
    grain="one product listed on one store",
    description="Listings as they stand at the end of the period: content and quality "
                "attributes (task 4.1.1: pictures, title, attributes, video, price, detail page).",
    columns=(
        Column("listing_id", "str", "listing id", unique=True),
        Column("store_id", "str", "store", references="stores.store_id"),
        Column("product_id", "str", "product", references="products.product_id"),
        Column("title", "str", "listing title"),
        Column("title_length", "int", "characters in the title", ge=1),
        Column("currency", "category", "price currency"),
        Column("price", "money", "current selling price", unit="currency", ge=0),
        Column("list_price", "money", "strike-through reference price", unit="currency",
               ge=0),
        Column("moq", "Int64", "minimum order quantity (B2B listings only)", nullable=True,
               ge=1),
        Column("bullet_count", "int", "bullet points in the description", ge=0, le=5),
        Column("image_count", "int", "images in the gallery", ge=1, le=9),
        Column("has_video", "bool", "has a product video"),
        Column("main_image_white_bg", "bool", "main image on a pure white background"),
        Column("has_a_plus", "bool", "has enhanced detail-page content (A+ style)"),
        Column("keywords", "str", "search terms, `;`-separated"),
        Column("listed_date", "date", "day the listing went live"),
        Column("status", "category", "listing status at the end of the period",
               values=("active", "inactive")),
        Column("popularity", "float", "relative demand weight (simulation parameter)", ge=0),
    ),
))


def n_products_for(n_orders: int) -> int:
    return int(np.clip(30 + n_orders / 150, 40, 6000))


def _charm(price: np.ndarray, currency: np.ndarray) -> np.ndarray:
    """Psychological price points: x.99 for cent currencies, round tens for whole units."""
    whole = np.isin(currency, list(WHOLE_UNIT_CURRENCIES))
    mag = 10.0 ** np.maximum(np.floor(np.log10(np.maximum(price, 1))) - 1, 0)
    whole_p = np.maximum(np.round(price / mag) * mag - np.where(mag >= 10, mag / 10, 0), 1)
    cent_p = np.maximum(np.floor(price) + 0.99, 0.99)
    return round_cents(np.where(whole, whole_p, cent_p))


_TYPE_POOLS: dict[tuple, tuple[pd.DataFrame, pd.DataFrame]] = {}


def _type_pool(hs: pd.DataFrame, cats: list[str]) -> pd.DataFrame:
    """``hs`` rows of the categories ``cats``, renumbered (cached; callers must not mutate)."""
    key = (id(hs), tuple(cats))
    hit = _TYPE_POOLS.get(key)
    if hit is None or hit[0] is not hs:
        if len(_TYPE_POOLS) > 256:
            _TYPE_POOLS.clear()
        hit = _TYPE_POOLS[key] = (hs, hs[hs["category"].isin(cats)].reset_index(drop=True))
    return hit[1]


def _first_rates(fx: pd.DataFrame, currencies) -> np.ndarray:
    """First non-missing ``cny_per_unit`` of each currency in ``fx`` (NaN if it has none).

    Same values as ``fx.groupby("currency")["cny_per_unit"].first().reindex(currencies)``.
    """
    cur = fx["currency"]
    codes, uniq = (cur.cat.codes.to_numpy(), cur.cat.categories.astype(str)) if isinstance(
        cur.dtype, pd.CategoricalDtype) else pd.factorize(cur.astype(str).to_numpy())
    rate = fx["cny_per_unit"].to_numpy(dtype=float)
    ok = ~np.isnan(rate) & (codes >= 0)
    first = np.full(len(uniq), np.nan)
    seen, pos = np.unique(codes[ok], return_index=True)  # first valid row of each code
    first[seen] = rate[ok][pos]
    where = pd.Index(uniq).get_indexer(pd.Index(np.asarray(currencies, dtype=object)))
    return np.where(where >= 0, first[np.maximum(where, 0)], np.nan)


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    rng = ctx.rng("products")
    cat = ctx.catalog
    stores = ctx.tables["stores"]
    hs = cat.hs_codes
    n = n_products_for(ctx.n_orders)
    # the company's categories: the stores' focus categories, plus a few more
    focus = list(dict.fromkeys(stores["category_focus"]))
    extra = [c for c in cat.categories if c not in focus]
    k_extra = min(len(extra), max(1, n // 400))
    company_cats = focus + list(rng.choice(extra, size=k_extra, replace=False))
    type_pool = _type_pool(hs, company_cats)
    t = rng.integers(0, len(type_pool), n)
    t[: len(type_pool)] = np.arange(min(n, len(type_pool)))  # every type at least once
    spec = type_pool.iloc[t].reset_index(drop=True)
    pid = make_ids("P", n, width=5)
    fx = ctx.tables["fx_rates"]
    usd_row = np.flatnonzero((fx["currency"] == "USD").to_numpy())[0]  # the first USD row
    usd_cny = fx["cny_per_unit"].to_numpy()[usd_row]
    price_usd = lognormal_around(rng, spec["price_usd"].to_numpy(), spec["price_sigma"])
    cost_ratio = rng.uniform(0.22, 0.45, n)
    size = rng.lognormal(0, 0.15, n)
    brands = stores["brand"].unique()
    products = pd.DataFrame({
        "product_id": pid,
        "sku": np.char.add(np.char.add(spec["product_type"].str.upper().str[:3]
                                       .to_numpy().astype(str), "-"),
                           np.char.zfill(np.arange(1, n + 1).astype(str), 5)),
        "category": spec["category"], "product_type": spec["product_type"],
        "hs_code": spec["hs10"], "name_en": spec["name_en"], "name_cn": spec["name_cn"],
        "brand": brands[rng.integers(0, len(brands), n)],
        "unit_cost_cny": round_cents(price_usd * usd_cny * cost_ratio),
        "weight_kg": np.round(spec["weight_kg"] * size ** 3, 3),
        "length_cm": np.round(spec["length_cm"] * size, 1),
        "width_cm": np.round(spec["width_cm"] * size, 1),
        "height_cm": np.round(spec["height_cm"] * size, 1),
        "fragile": spec["fragile"].astype(bool),
        "launch_date": ctx.start - pd.to_timedelta(rng.integers(-200, 700, n), unit="D"),
    })
    products["launch_date"] = products["launch_date"].clip(upper=ctx.end - pd.Timedelta(days=30))

    # listings: each store lists products of its focus category often, others rarely
    sc = stores["category_focus"].astype(str).to_numpy()
    pc = products["category"].astype(str).to_numpy()
    same = sc[:, None] == pc[None, :]
    p_list = np.where(same, 0.85, 0.12)
    p_list[stores["model"].to_numpy() == "B2B"] = 0.5
    mask = rng.random(p_list.shape) < p_list
    empty = ~mask.any(axis=1)
    mask[empty, :] = rng.random((empty.sum(), n)) < 0.3
    si, pi = np.nonzero(mask)
    m = len(si)
    st = stores.iloc[si].reset_index(drop=True)
    pr = products.iloc[pi].reset_index(drop=True)
    cur = st["currency"].astype(str).to_numpy()
    local_per_usd = usd_cny / _first_rates(fx, cur)
    level = cat.markets.loc[st["market"].astype(str), "price_level"].to_numpy()
    b2b = st["model"].to_numpy() == "B2B"
    base = price_usd[pi] * np.where(b2b, 0.55, level) * rng.lognormal(0, 0.06, m)
    price = _charm(base * local_per_usd, cur)
    n_img = rng.integers(1, 10, m)
    has_video = rng.random(m) < 0.35
    white = rng.random(m) < 0.7
    bullets = rng.integers(0, 6, m)
    a_plus = rng.random(m) < 0.3
    cats = sorted(CATEGORY_ATTRS)
    attr_table = np.array([CATEGORY_ATTRS[c] for c in cats])  # categories × 6 attributes
    crow = np.searchsorted(cats, pr["category"].astype(str).to_numpy())
    k1 = rng.integers(0, attr_table.shape[1], m)
    k2 = (k1 + rng.integers(1, attr_table.shape[1], m)) % attr_table.shape[1]  # k2 != k1
    a1, a2 = attr_table[crow, k1], attr_table[crow, k2]
    aud = _AUDIENCE[rng.integers(0, len(_AUDIENCE), m)]
    nice = {v: " ".join(w[:1].upper() + w[1:] for w in v.split()) for v in hs["name_en"]}
    name = pr["name_en"].map(nice).to_numpy().astype(str)
    title = np.char.strip(np.char.add(np.char.add(np.char.add(
        np.char.add(pr["brand"].to_numpy().astype(str), " "), np.char.add(a1, " ")),
        np.char.add(name, " ")), np.char.add(np.char.add(a2, " "), aud)))
    # planted: brand terms that raise IP-infringement risk (label ip_risk_title)
    ip = rng.random(m) < 0.02
    title = np.where(ip, np.char.add(np.char.add(title, " "),
                                     _IP_TERMS[rng.integers(0, len(_IP_TERMS), m)]), title)
    # popularity: quality attributes raise demand (proxy for CTR/conversion); some listings
    # are "zero-effect" (task 3.3.3)
    quality = (0.12 * n_img + 0.5 * has_video + 0.35 * white + 0.08 * bullets + 0.3 * a_plus)
    popularity = rng.lognormal(0, 1.0, m) * np.exp(quality - 1.2)
    zero = rng.random(m) < 0.06
    popularity = np.where(zero | b2b, 0.0, popularity)
    listed = np.maximum(pr["launch_date"].to_numpy(), st["open_date"].to_numpy())
    listed = listed + pd.to_timedelta(rng.integers(0, 60, m), unit="D").to_numpy()
    listed = np.minimum(listed, (ctx.end - pd.Timedelta(days=20)).to_datetime64())
    # drawn in the order of the original table literal: list price, MOQ, status
    list_price = _charm(price * rng.choice([1.0, 1.15, 1.3, 1.5], m), cur)
    list_price = np.maximum(list_price, price)  # never below the selling price
    moq = np.where(b2b, rng.choice([50, 100, 200, 500, 1000], m), 0).astype(np.int64)
    status = np.where(rng.random(m) < 0.05, "inactive", "active")
    listings = pd.DataFrame({
        "listing_id": make_ids("L", m, width=6),
        "store_id": st["store_id"], "product_id": pr["product_id"],
        "title": title, "title_length": np.char.str_len(title),
        "currency": cur, "price": price,
        "list_price": list_price,
        "moq": pd.arrays.IntegerArray(moq, ~b2b),  # B2C listings: no MOQ (NA)
        "bullet_count": bullets, "image_count": n_img, "has_video": has_video,
        "main_image_white_bg": white, "has_a_plus": a_plus,
        "keywords": np.char.add(np.char.add(np.char.lower(name), ";"),
                                np.char.add(np.char.add(np.char.lower(a1), ";"),
                                            np.char.lower(a2))),
        "listed_date": listed,
        "status": status,
        "popularity": np.round(popularity, 6),
    })
    lid, sid = listings["listing_id"].to_numpy(), listings["store_id"].to_numpy()
    zero_nb = zero & ~b2b
    labels = label_frame([  # = pd.concat of the two anomaly_rows frames, built at once
        label_spec("ip_risk_title", "listings", lid[ip], store_id=sid[ip],
                   detail="title contains a third-party brand term"),
        label_spec("zero_effect_listing", "listings", lid[zero_nb], store_id=sid[zero_nb],
                   detail="listing gets no orders (task 3.3.3)"),
    ])
    return {"products": products, "listings": listings, "anomalies": labels}
