"""Stage ``reference``: platforms, fee schedules, HS codes and markets, from the catalogue."""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import pandas as pd

from cbec_sim.context import Context
from cbec_sim.rules import round_cents
from cbec_sim.schema import Column, TableSpec, register

MODELS = ("B2C", "B2B")
PLATFORM_TYPES = ("comprehensive", "mobile_social", "southeast_asia", "africa", "local",
                  "social_live")

PLATFORMS = register(TableSpec(
    name="platforms",
    grain="one cross-border marketplace (all platforms of the catalogue, in the world or not)",
    description="Marketplaces named in the standard (Table 1 task 2.1.1) with teaching values "
                "for fees and account-health thresholds modelled on published seller policies.",
    columns=(
        Column("platform_id", "str", "platform id", unique=True),
        Column("name", "str", "platform name"),
        Column("name_cn", "str", "Chinese name"),
        Column("model", "category", "business model", values=MODELS),
        Column("platform_type", "category", "platform type per Table 1 task 2.1.1(c)",
               values=PLATFORM_TYPES),
        Column("platform_type_cn", "str", "platform type in Chinese"),
        Column("markets", "str", "markets served, `|`-separated ISO codes"),
        Column("in_world", "bool", "whether this world has stores on the platform"),
        Column("monthly_fee", "money", "subscription fee per month", unit="fee_currency",
               ge=0),
        Column("fee_currency", "category", "currency of the fees"),
        Column("referral_fee_pct", "rate", "default referral (commission) fee on the sale "
               "price", ge=0, le=1),
        Column("min_referral_fee", "money", "minimum referral fee per item",
               unit="fee_currency", ge=0),
        Column("late_shipment_rate_max", "rate", "account-health limit: late shipments ÷ "
               "shipped orders", ge=0, le=1),
        Column("order_defect_rate_max", "rate", "account-health limit: defective orders ÷ "
               "orders", ge=0, le=1),
        Column("cancel_rate_max", "rate", "account-health limit: seller cancellations ÷ "
               "orders", ge=0, le=1),
        Column("valid_tracking_rate_min", "rate", "account-health floor: shipments with "
               "valid tracking ÷ shipments", ge=0, le=1),
        Column("onboarding_requirements", "str", "documents needed to open a store, "
               "`|`-separated"),
        Column("prohibited_categories", "str", "categories that may not be listed, "
               "`|`-separated"),
        Column("ip_risk_keywords", "str", "brand terms that flag IP-infringement risk in "
               "listings, `|`-separated"),
    ),
))

PLATFORM_FEES = register(TableSpec(
    name="platform_fees",
    grain="one platform × product category",
    description="Referral-fee schedule: commission rate and minimum per category.",
    columns=(
        Column("platform_id", "str", "platform", references="platforms.platform_id"),
        Column("category", "category", "product category"),
        Column("referral_fee_pct", "rate", "referral fee on the item price", ge=0, le=1),
        Column("min_referral_fee", "money", "minimum fee per item", unit="fee_currency",
               ge=0),
        Column("fee_currency", "category", "currency of the minimum fee"),
    ),
))


HS_CODES = register(TableSpec(
    name="hs_codes",
    grain="one 10-digit commodity code of the curated code table",
    description="The kit's small curated code table: the 6-digit prefix is a real HS 2022 "
                "subheading; national digits are illustrative. VAT, consumption-tax and "
                "export-rebate rates are teaching values — check the current tariff and "
                "rebate tables before real filings.",
    columns=(
        Column("hs_code", "str", "10-digit China customs commodity code", unique=True),
        Column("hs6", "str", "HS 2022 subheading (first 6 digits)"),
        Column("category", "category", "product category"),
        Column("product_type", "str", "product type"),
        Column("name_cn", "str", "Chinese commodity description"),
        Column("name_en", "str", "English description"),
        Column("unit_cn", "str", "declaration unit (Chinese)"),
        Column("vat_rate", "rate", "import VAT rate", ge=0, le=1),
        Column("consumption_tax_rate", "rate", "consumption tax rate (0 when none)", ge=0,
               le=1),
        Column("export_rebate_rate", "rate", "export VAT rebate rate", ge=0, le=1),
    ),
))


MARKETS = register(TableSpec(
    name="markets",
    grain="one target market of the catalogue (in the world or not)",
    description="Markets (ISO country codes) with their currency and IANA time zone, so UTC "
                "timestamps can be turned into market-local days and hours: "
                "`ts.dt.tz_convert(tz)`. UTC offsets are those of mid-January and mid-July of "
                "the world's first year (they differ where daylight saving time applies).",
    columns=(
        Column("market", "str", "ISO 3166-1 country code, as in every `market` column",
               unique=True),
        Column("name_en", "str", "country name (English)"),
        Column("name_cn", "str", "country name (Chinese)"),
        Column("region", "category", "world region"),
        Column("currency", "str", "ISO 4217 code of the local currency"),
        Column("tz", "str", "IANA time zone used for market-local days (e.g. "
               "`America/New_York`)"),
        Column("utc_offset_jan_h", "float", "UTC offset in hours in mid-January",
               unit="hours", ge=-12, le=14),
        Column("utc_offset_jul_h", "float", "UTC offset in hours in mid-July", unit="hours",
               ge=-12, le=14),
        Column("observes_dst", "bool", "whether the offset changes during the year "
               "(daylight saving time)"),
        Column("platforms", "str", "catalogue platforms serving the market, `|`-separated "
               "platform ids"),
        Column("in_world", "bool", "whether this world sells to the market"),
    ),
))


@functools.lru_cache(maxsize=64)
def _utc_offsets(year: int, month: int, zones: tuple[str, ...]) -> tuple[float, ...]:
    """UTC offset in hours of each IANA time zone at noon on the 15th of ``month``.

    The same offsets as ``pd.Timestamp(...).tz_localize(tz).utcoffset()`` (pandas localises
    with :mod:`zoneinfo` too), without building a Timestamp per zone; cached per year.
    """
    return tuple(
        dt.datetime(year, month, 15, 12, tzinfo=ZoneInfo(tz)).utcoffset().total_seconds() / 3600
        for tz in zones
    )


def make_markets(*, year: int = 2025, in_world: tuple[str, ...] = ()) -> pd.DataFrame:
    """The market reference table (deterministic, no randomness)."""
    from cbec_sim.catalog import catalog

    cat = catalog()
    mk = cat.markets
    zones = tuple(mk["tz"])
    jan, jul = list(_utc_offsets(year, 1, zones)), list(_utc_offsets(year, 7, zones))
    return pd.DataFrame({
        "market": list(mk.index), "name_en": list(mk["name"]), "name_cn": list(mk["name_cn"]),
        "region": list(mk["region"]), "currency": list(mk["currency"]), "tz": list(mk["tz"]),
        "utc_offset_jan_h": jan, "utc_offset_jul_h": jul,
        "observes_dst": [a != b for a, b in zip(jan, jul, strict=True)],
        "platforms": ["|".join(cat.platforms_for([m])) for m in mk.index],
        "in_world": [m in in_world for m in mk.index],
    })


def make_hs_codes() -> pd.DataFrame:
    """The curated HS code table (deterministic)."""
    from cbec_sim.catalog import catalog

    hs = catalog().hs_codes
    return pd.DataFrame({
        "hs_code": hs["hs10"], "hs6": hs["hs10"].str[:6], "category": hs["category"],
        "product_type": hs["product_type"], "name_cn": hs["name_cn"],
        "name_en": hs["name_en"], "unit_cn": hs["unit_cn"], "vat_rate": hs["vat_rate"],
        "consumption_tax_rate": hs["consumption_tax_rate"],
        "export_rebate_rate": hs["export_rebate_rate"],
    })


def make_platforms(*, in_world: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
    """The platform catalogue and its category fee schedule (deterministic, no randomness)."""
    from cbec_sim.catalog import catalog

    cat = catalog()
    d = cat.platform_defaults
    categories = cat.categories
    rows, fees = [], []
    for pid, p in cat.platforms.items():
        rows.append({
            "platform_id": pid, "name": p["name"], "name_cn": p["name_cn"],
            "model": p["model"], "platform_type": p["type"], "platform_type_cn": p["type_cn"],
            "markets": "|".join(p["markets"]), "in_world": pid in in_world,
            "monthly_fee": p["monthly_fee"], "fee_currency": p["fee_currency"],
            "referral_fee_pct": p["referral_fee_pct"], "min_referral_fee": p["min_fee"],
            "late_shipment_rate_max": p["late_shipment_rate_max"],
            "order_defect_rate_max": p["order_defect_rate_max"],
            "cancel_rate_max": p["cancel_rate_max"],
            "valid_tracking_rate_min": p["valid_tracking_rate_min"],
            "onboarding_requirements": "|".join(p["onboarding"]),
            "prohibited_categories": "|".join(d["prohibited_categories"]),
            "ip_risk_keywords": "|".join(d["ip_risk_keywords"]),
        })
        for c in categories:
            fees.append({
                "platform_id": pid, "category": c,
                "referral_fee_pct": p["category_fee_pct"].get(c, p["referral_fee_pct"]),
                "min_referral_fee": p["min_fee"], "fee_currency": p["fee_currency"],
            })
    platforms = pd.DataFrame(rows)
    platforms["monthly_fee"] = round_cents(platforms["monthly_fee"])
    return {"platforms": platforms, "platform_fees": pd.DataFrame(fees)}


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    return {**make_platforms(in_world=ctx.platforms), "hs_codes": make_hs_codes(),
            "markets": make_markets(year=ctx.start.year, in_world=ctx.markets)}
