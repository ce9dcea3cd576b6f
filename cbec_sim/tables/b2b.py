"""Stage ``b2b``: the company's B2B (Alibaba.com-style) trade on its B2B stores.

Stages 5.15 商机获得与客户管理 and 5.16 交易达成及交易管理 of T/CCPITCSC 111-2022 (Table 1
links 8 and 10): leads from several channels (8.2.1), platform inquiries and their replies
(8.1.1), buyers' RFQs (8.1.2), export quotations built with :func:`cbec_sim.rules.quote_price`
(10.1.5) and Trade Assurance contracts — sample, trial and bulk orders (10.1.1, 10.1.4,
10.2.1) with their purchase and export contracts (10.2.3) and One Touch agency export
(10.2.2) — plus each channel's monthly spend (8.2.3 conversion and acquisition cost).

One clean funnel: leads → inquiries / RFQs → quotes → contracts; a re-quote (next
``revision``) precedes every follow-up contract (sample → trial → bulk → repeat bulk).
Inquiries come from clicks: per listing and month they never exceed ``listing_stats.clicks``.
All local dates are the seller's (China, UTC+8, no daylight saving time).
Planted and labelled: a reply-SLA breach, CIF prices computed wrongly, deposits received
but shipment overdue, and a ring of fraudulent buyer accounts.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cbec_sim import rules
from cbec_sim.context import Context
from cbec_sim.pools import pools
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import (
    NS_PER_DAY,
    categorical,
    const_categorical,
    fast_ids,
    join_str,
    ns,
    str_series,
    take,
    weighted_choice_by_group,
)
from cbec_sim.tables._util import codes as fast_codes
from cbec_sim.tables.labels import label_frame, label_spec

NS_HOUR = 3_600 * 10**9
CN_OFFSET_NS = 8 * NS_HOUR  # China Standard Time, UTC+8 all year
NAT = np.iinfo(np.int64).min


# ---- fast shared helpers (also used by the imports, finance and backoffice stages; kept here
# because this module is imported before them, so the table registry order is unchanged) ----

CHANNELS = ("platform_inquiry", "rfq", "customs_data", "trade_show", "search_engine",
            "social_media", "email_campaign")
BUYER_TYPES = ("importer", "wholesaler", "retailer", "brand", "ecommerce_seller")
MESSAGE_TYPES = ("specific", "generic", "template")
INCOTERMS = rules.B2B_INCOTERMS
ORDER_TYPES = ("sample", "trial", "bulk")
PAYMENT_TERMS = ("prepaid", "balance_before_shipment", "balance_after_shipment")
SHIPPING_MODES = ("express", "sea_lcl", "sea_fcl")
CONTRACT_STATUS = ("awaiting_deposit", "cancelled", "in_production", "shipped", "completed")

# --- simulation parameters (teaching values, not measurements) ----------------------------
#: Share of leads per channel, chance a lead sends at least one inquiry, and chance a first
#: quote turns into a first contract (for a buyer of average intent).
LEAD_MIX = np.array([0.30, 0.12, 0.18, 0.06, 0.12, 0.12, 0.10])
ENGAGE = np.array([1.00, 0.30, 0.15, 0.55, 0.40, 0.25, 0.20])
DEAL = np.array([0.15, 0.12, 0.09, 0.22, 0.13, 0.07, 0.07])
INQ_PER_ENGAGED = 1.6
#: Monthly channel spend (CNY): a fixed part plus a cost per lead found in the month.
CHANNEL_FIXED_CNY = np.array([1500.0, 600.0, 2500.0, 0.0, 800.0, 600.0, 300.0])
CHANNEL_PER_LEAD_CNY = np.array([160.0, 90.0, 35.0, 0.0, 260.0, 120.0, 25.0])
#: Trade shows: booth, travel and samples in the month of each fair, plus per lead met.
FAIR_FIXED_CNY, FAIR_PER_LEAD_CNY = 20_000.0, 1_500.0
CHANNEL_COST_ITEMS = (
    "platform keyword ads (P4P) for inquiries",
    "RFQ quotation rights package",
    "customs-data (bill of lading) subscription",
    "trade-fair booth, travel and samples",
    "search-engine ads and SEO for the company site",
    "paid social media (LinkedIn, Facebook) posts and ads",
    "e-mail marketing tool and contact lists",
)
#: Sea freight per cubic metre by buyer region, USD (LCL; FCL at 65 %), and transit days.
SEA_RATE_USD_CBM = {"North America": 95.0, "Latin America": 120.0, "Europe": 85.0,
                    "East Asia": 40.0, "Southeast Asia": 35.0, "Oceania": 75.0,
                    "Middle East": 70.0, "Africa": 110.0}
SEA_DAYS = {"North America": (18, 30), "Latin America": (30, 45), "Europe": (28, 40),
            "East Asia": (5, 10), "Southeast Asia": (7, 14), "Oceania": (14, 22),
            "Middle East": (20, 30), "Africa": (30, 45)}
FCL_FROM_CBM = 15.0
#: China Import and Export Fair (Canton Fair), Guangzhou: spring phases from mid-April to
#: early May, autumn phases from mid-October to early November (month, day) windows.
FAIRS = (((4, 15), (5, 5)), ((10, 15), (11, 4)))
#: Legal-form prefix/suffix of company names per buyer country.
LEGAL_FORM = {
    "US": ("", "LLC"), "CA": ("", "Inc."), "MX": ("", "S.A. de C.V."), "BR": ("", "Ltda."),
    "GB": ("", "Ltd"), "DE": ("", "GmbH"), "FR": ("", "SARL"), "ES": ("", "S.L."),
    "IT": ("", "S.r.l."), "PL": ("", "Sp. z o.o."), "RU": ("OOO ", ""),
    "JP": ("", "Co., Ltd."), "KR": ("", "Co., Ltd."), "AU": ("", "Pty Ltd"),
    "SG": ("", "Pte. Ltd."), "MY": ("", "Sdn. Bhd."), "TH": ("", "Co., Ltd."),
    "ID": ("PT ", ""), "PH": ("", "Inc."), "VN": ("", "Co., Ltd."), "SA": ("", "Trading Est."),
    "AE": ("", "LLC"), "NG": ("", "Ltd"), "KE": ("", "Ltd"),
}
TLD = {"US": ".com", "CA": ".ca", "MX": ".com.mx", "BR": ".com.br", "GB": ".co.uk", "DE": ".de",
       "FR": ".fr", "ES": ".es", "IT": ".it", "PL": ".pl", "RU": ".ru", "JP": ".co.jp",
       "KR": ".co.kr", "AU": ".com.au", "SG": ".com.sg", "MY": ".com.my", "TH": ".co.th",
       "ID": ".co.id", "PH": ".com.ph", "VN": ".vn", "SA": ".com.sa", "AE": ".ae",
       "NG": ".com.ng", "KE": ".co.ke"}
COMPANY_WORDS = np.array(["Trading", "Imports", "Supply", "Distribution", "Wholesale",
                          "Retail", "Home Goods", "Sourcing", "Brands", "Commerce", "Global",
                          "International", "Merchandise", "Group", "Direct", "Partners"])
COMPANY_QUALIFIERS = np.array(["", "", "", "", "Euro", "Pacific", "Atlantic", "Prime",
                               "United", "First", "Golden", "Blue", "Royal", "Star", "North",
                               "Metro", "Sun", "Eagle", "Ocean", "Trans"])
_SYL_A = np.array(["Al", "Bra", "Cor", "Del", "Ev", "Fal", "Gor", "Hel", "Ir", "Jo", "Kal",
                   "Lor", "Mar", "Nor", "Or", "Par", "Quin", "Ros", "Sal", "Tor"])
_SYL_B = np.array(["ana", "ex", "ion", "ora", "ix", "ano", "eta", "uma", "ova", "ida", "enko",
                   "ato", "ira", "ous", "ena", "oro", "avi", "eon", "ume", "ita"])
BUYER_TYPE_P = np.array([0.25, 0.25, 0.20, 0.10, 0.20])
PURCHASE_MEDIAN_USD = np.array([500e3, 300e3, 80e3, 400e3, 60e3])

_B = Column("buyer_id", "str", "buyer (lead)", references="b2b_buyers.buyer_id")
_S = Column("store_id", "str", "B2B store", references="stores.store_id")
_L = Column("listing_id", "str", "listing the request is about",
            references="listings.listing_id")
_P = Column("product_id", "str", "product (SKU)", references="products.product_id")

B2B_BUYERS = register(TableSpec(
    name="b2b_buyers",
    grain="one business buyer (lead or customer) in the CRM of one B2B store",
    description="Leads and customers of the B2B stores (task 8.2.1): where each was found, "
                "activity counts for lead scoring over the whole period, and the self-declared "
                "purchase volume. Company names are made up. No segment is given: group "
                "buyers yourself from activity and purchase history (8.2.2).",
    columns=(
        Column("buyer_id", "str", "buyer id (numbered in order of first_seen)", unique=True),
        _S,
        Column("company_name", "str", "buyer company (made up)"),
        Column("country", "category", "buyer's country (ISO code)"),
        Column("buyer_type", "category", "business type", values=BUYER_TYPES),
        Column("email_domain", "str", "domain of the contact e-mail address (company domain "
               "or a free webmail service)"),
        Column("source_channel", "category", "channel the lead came from (8.2.1): platform "
               "inquiry, RFQ, customs data, trade show, search engine, social media, e-mail "
               "campaign", values=CHANNELS),
        Column("first_seen", "timestamp", "lead captured: first inquiry or RFQ for inbound "
               "channels, day found for outbound channels"),
        Column("platform_member_since", "date", "buyer's platform account registered (empty: "
               "no known platform account)", nullable=True),
        Column("salesperson", "str", "sales representative who owns the account"),
        Column("visits", "int", "store visits in the period (platform visitor data)", ge=0),
        Column("product_views", "int", "product pages viewed in the period", ge=0),
        Column("inquiries_sent", "int", "inquiries sent to the store (= rows in `inquiries`)",
               ge=0),
        Column("rfqs_posted", "int", "RFQs posted that the store saw (= rows in `rfqs`)", ge=0),
        Column("emails_sent", "int", "marketing e-mails sent to the buyer (8.1.3)", ge=0),
        Column("emails_opened", "int", "of those, opened", ge=0),
        Column("emails_clicked", "int", "of those, with a link clicked", ge=0),
        Column("est_annual_purchase_usd", "money", "annual purchase volume the buyer declared "
               "in its profile", unit="USD", ge=0),
    ),
))

INQUIRIES = register(TableSpec(
    name="inquiries",
    grain="one inquiry (询盘) a buyer sent about one listing of a B2B store",
    description="Platform inquiries and the store's first reply (8.1.1). Reply time is in "
                "calendar hours; the company target is a first reply within "
                "`rules.INQUIRY_REPLY_SLA_HOURS` (24 h). Each inquiry comes from a click: per "
                "listing and month, inquiries ≤ `listing_stats.clicks` (exposure → clicks → "
                "inquiries, 7.1/7.4). `flagged_spam`: moved to the spam folder by the "
                "platform's filter.",
    columns=(
        Column("inquiry_id", "str", "inquiry id (numbered in order of receipt)", unique=True),
        _S, _B, _L, _P,
        Column("received_at", "timestamp", "inquiry received"),
        Column("first_reply_at", "timestamp", "store's first reply (empty: never answered)",
               nullable=True),
        Column("reply_hours", "float", "first_reply_at − received_at in hours (2 decimals)",
               unit="h", nullable=True, ge=0),
        Column("quantity", "int", "quantity asked", unit="units", ge=1),
        Column("target_price_usd", "money", "target unit price the buyer stated",
               unit="USD", nullable=True, ge=0),
        Column("incoterm", "category", "Incoterm asked (Incoterms 2020)", values=INCOTERMS),
        Column("message_type", "category", "message content: specific (product details, "
               "specs, questions), generic, or a copy-paste template", values=MESSAGE_TYPES),
        Column("message_length", "int", "message length", unit="characters", ge=1),
        Column("flagged_spam", "bool", "the platform's filter flagged the inquiry as spam"),
    ),
))

RFQS = register(TableSpec(
    name="rfqs",
    grain="one buyer's public request for quotation (RFQ) seen by one B2B store",
    description="RFQs posted on the platform in the store's categories (8.1.2) and whether "
                "the store quoted before the RFQ closed. The quote is the `quotes` row with "
                "this `rfq_id` and revision 1.",
    columns=(
        Column("rfq_id", "str", "RFQ id (numbered in order of posting)", unique=True),
        _S, _B,
        Column("category", "category", "product category requested"),
        Column("product_type", "category", "product type requested"),
        Column("quantity", "int", "quantity requested", unit="units", ge=1),
        Column("target_price_usd", "money", "target unit price", unit="USD", nullable=True,
               ge=0),
        Column("incoterm", "category", "Incoterm requested", values=INCOTERMS),
        Column("destination_country", "category", "country of delivery (ISO code)"),
        Column("posted_at", "timestamp", "RFQ posted"),
        Column("valid_until", "timestamp", "RFQ closes for quotations"),
        Column("quoted_at", "timestamp", "store's quotation sent (empty: not quoted)",
               nullable=True),
    ),
))

QUOTES = register(TableSpec(
    name="quotes",
    grain="one quotation sheet (报价单) for one product sent to one buyer",
    description="Export quotations (10.1.5), per unit in USD, built with "
                "`rules.quote_price`: net cost = unit cost + domestic charges − export rebate "
                "(rebate = cost ÷ (1 + VAT) × rebate rate); FOB = net cost × (1 + margin) ÷ "
                "fx_rate_cny; CFR = FOB + freight per unit; CIF = CFR ÷ (1 − 1.1 × insurance "
                "rate) (Incoterms 2020: insure 110 % of CIF). Every price is rounded half-up to "
                "the cent and the next is built from the rounded one. Revision 1 answers an "
                "inquiry or RFQ; a later revision re-quotes the same request before a "
                "follow-up contract (after a sample, trial or earlier bulk order).",
    columns=(
        Column("quote_id", "str", "quote id (numbered in order of sending)", unique=True),
        _S, _B,
        Column("inquiry_id", "str", "inquiry answered (empty for RFQ quotes)", nullable=True,
               references="inquiries.inquiry_id"),
        Column("rfq_id", "str", "RFQ answered (empty for inquiry quotes)", nullable=True,
               references="rfqs.rfq_id"),
        Column("revision", "int", "1 for the first quote of the request, then 2, 3, …", ge=1),
        Column("previous_quote_id", "str", "quote this one revises (empty for revision 1)",
               nullable=True),
        Column("listing_id", "str", "listing quoted", references="listings.listing_id"),
        _P,
        Column("quantity", "int", "quantity quoted (at least the listing's MOQ)",
               unit="units", ge=1),
        Column("incoterm", "category", "Incoterm of unit_price_usd", values=INCOTERMS),
        Column("quote_date", "date", "day the quote was sent (China local date); its USD rate "
               "is fx_rate_cny"),
        Column("sent_at", "timestamp", "quote sent"),
        Column("response_hours", "float", "hours from inquiry received / RFQ posted to this "
               "quote (revision 1 only)", unit="h", nullable=True, ge=0),
        Column("validity_days", "int", "days the quoted price is valid", ge=1),
        Column("unit_cost_cny", "money", "supplier purchase price per unit, VAT included "
               "(= products.unit_cost_cny)", unit="CNY", ge=0),
        Column("vat_rate", "rate", "VAT rate of the goods (hs_codes.vat_rate)", ge=0, le=1),
        Column("export_rebate_rate", "rate", "export VAT rebate rate "
               "(hs_codes.export_rebate_rate)", ge=0, le=1),
        Column("rebate_per_unit_cny", "money", "export rebate per unit = unit_cost_cny ÷ "
               "(1 + vat_rate) × export_rebate_rate", unit="CNY", ge=0),
        Column("domestic_charges_cny", "money", "domestic charges per unit: packing, inland "
               "haulage, customs broker, port charges", unit="CNY", ge=0),
        Column("margin_rate", "rate", "profit mark-up on net cost", ge=0, le=1),
        Column("fx_rate_cny", "float", "CNY per USD on quote_date (fx_rates)", ge=0),
        Column("fob_usd", "money", "FOB unit price", unit="USD", ge=0),
        Column("freight_per_unit_usd", "money", "sea freight per unit to the buyer's country",
               unit="USD", ge=0),
        Column("insurance_rate", "rate", "cargo insurance premium rate", ge=0, le=1),
        Column("cfr_usd", "money", "CFR unit price = fob_usd + freight_per_unit_usd",
               unit="USD", ge=0),
        Column("cif_usd", "money", "CIF unit price = cfr_usd ÷ (1 − 1.1 × insurance_rate)",
               unit="USD", ge=0),
        Column("unit_price_usd", "money", "unit price for the quote's Incoterm", unit="USD",
               ge=0),
        Column("total_usd", "money", "unit_price_usd × quantity", unit="USD", ge=0),
    ),
))

CONTRACTS = register(TableSpec(
    name="contracts",
    grain="one B2B sale contract (sample, trial or bulk order) signed with one buyer",
    description="Orders closed from quotes (10.1.1, 10.1.4), mostly as Trade Assurance orders "
                "(信保订单, 10.2.1), with the supplier purchase contract and the export sales "
                "contract (10.2.3). All amounts are USD unless the name says CNY; "
                "total_usd = goods_value_usd + freight_usd = deposit_usd + balance_usd. The "
                "buyer pays the deposit by deposit_due_date; production starts after it and "
                "goods ship by ship_by_date; the balance is due before shipment "
                "(balance_due_date = ship_by_date) or balance_term_days after shipment. "
                "Receivables: balance_usd is outstanding from balance_due_date until "
                "balance_paid_at (empty = unpaid at the end of the period). Dates are China "
                "local dates.",
    columns=(
        Column("contract_id", "str", "contract id (numbered in order of signing)",
               unique=True),
        Column("quote_id", "str", "quote whose price the contract takes",
               references="quotes.quote_id"),
        _B, _S,
        Column("listing_id", "str", "listing sold", references="listings.listing_id"),
        _P,
        Column("order_type", "category", "sample (样品单), trial (试单) or bulk (大宗) order",
               values=ORDER_TYPES),
        Column("incoterm", "category", "Incoterm (empty for samples sent by courier, freight "
               "charged in freight_usd)", values=INCOTERMS, nullable=True),
        Column("shipping_mode", "category", "express courier, sea LCL or sea FCL",
               values=SHIPPING_MODES),
        Column("quantity", "int", "units: the quoted quantity for bulk orders and re-quoted "
               "trials, part of it for a trial straight from a first quote, 1–3 for "
               "samples", ge=1),
        Column("negotiated_discount", "rate", "discount agreed on the quoted FOB price "
               "(0 for samples)", ge=0, le=1),
        Column("fob_unit_usd", "money", "FOB unit price after discount = quote fob_usd × "
               "(1 − negotiated_discount); for samples the sample fee", unit="USD", ge=0),
        Column("unit_price_usd", "money", "contract unit price for the Incoterm, from "
               "fob_unit_usd with the quote's freight and insurance rate (rules.quote_price "
               "steps)", unit="USD", ge=0),
        Column("goods_value_usd", "money", "unit_price_usd × quantity", unit="USD", ge=0),
        Column("fob_value_usd", "money", "fob_unit_usd × quantity: FOB value for the export "
               "declaration", unit="USD", ge=0),
        Column("freight_usd", "money", "courier charge billed on top (samples; 0 otherwise)",
               unit="USD", ge=0),
        Column("total_usd", "money", "goods_value_usd + freight_usd", unit="USD", ge=0),
        Column("is_trade_assurance", "bool", "placed as a platform Trade Assurance order "
               "(信保订单)"),
        Column("via_one_touch", "bool", "exported through the platform's One Touch "
               "foreign-trade service (一达通 agency export, 10.2.2)"),
        Column("payment_terms", "category", "prepaid (100 % before production), deposit + "
               "balance before shipment, or deposit + balance after shipment",
               values=PAYMENT_TERMS),
        Column("deposit_pct", "rate", "deposit share of total_usd", ge=0, le=1),
        Column("deposit_usd", "money", "deposit = total_usd × deposit_pct (rules.deposit_split)",
               unit="USD", ge=0),
        Column("balance_usd", "money", "balance = total_usd − deposit_usd", unit="USD", ge=0),
        Column("balance_term_days", "Int64", "days after shipment the balance is due "
               "(balance_after_shipment only)", nullable=True, ge=0),
        Column("signed_at", "timestamp", "contract signed online"),
        Column("deposit_due_date", "date", "last day to pay the deposit (signing day + 7)"),
        Column("deposit_paid_at", "timestamp", "deposit received", nullable=True),
        Column("ship_by_date", "date", "latest shipment date agreed: deposit_due_date + "
               "production lead time + 5 days"),
        Column("shipped_at", "timestamp", "goods shipped (never before the deposit)",
               nullable=True),
        Column("balance_due_date", "date", "balance due (empty: prepaid, cancelled, or due "
               "after a shipment that has not happened)", nullable=True),
        Column("balance_paid_at", "timestamp", "balance received (empty also when there is "
               "no balance)", nullable=True),
        Column("status", "category", "status at the end of the period", values=CONTRACT_STATUS),
        Column("unit_cost_cny", "money", "supplier price per unit, VAT included",
               unit="CNY", ge=0),
        Column("purchase_contract_id", "str", "purchase contract (采购合同) with the supplier "
               "(empty for samples, taken from stock; unique otherwise)", nullable=True),
        Column("purchase_total_cny", "money", "purchase contract amount = unit_cost_cny × "
               "quantity, VAT included (0 for samples)", unit="CNY", ge=0),
        Column("export_contract_id", "str", "export sales contract (外销合同) number (empty for "
               "samples; unique otherwise)", nullable=True),
    ),
))

CHANNEL_COSTS = register(TableSpec(
    name="channel_costs",
    grain="one B2B store × calendar month × lead channel",
    description="What each lead channel cost (8.2.3): divide by the customers a channel "
                "brought (buyers by source_channel with a paid contract) for the customer "
                "acquisition cost. The platform membership fee is in `platforms`.",
    columns=(
        _S,
        Column("month", "date", "first day of the month"),
        Column("channel", "category", "lead channel", values=CHANNELS),
        Column("spend_cny", "money", "spend in the month", unit="CNY", ge=0),
        Column("cost_items", "str", "what the spend pays for"),
    ),
))

TABLE_SPECS = (B2B_BUYERS, INQUIRIES, RFQS, QUOTES, CONTRACTS, CHANNEL_COSTS)


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------

def _empty() -> dict[str, pd.DataFrame]:
    out = {}
    for spec in TABLE_SPECS:
        cols = {}
        for c in spec.columns:
            if c.dtype == "category":
                cols[c.name] = pd.Categorical([], categories=list(c.values or ()))
            elif c.dtype == "timestamp":
                cols[c.name] = pd.Series([], dtype="datetime64[ns, UTC]")
            elif c.dtype == "date":
                cols[c.name] = pd.Series([], dtype="datetime64[ns]")
            else:
                cols[c.name] = pd.Series([], dtype={"str": "str", "int": "int64",
                                                    "int32": "int32", "Int64": "Int64",
                                                    "bool": "bool"}.get(c.dtype, "float64"))
        out[spec.name] = pd.DataFrame(cols)
    return out


def _utc(local_ns: np.ndarray) -> pd.Series:
    """China-local ns (NAT = missing) → UTC timestamp column."""
    t = np.where(local_ns == NAT, NAT, local_ns - CN_OFFSET_NS)
    return pd.Series(pd.DatetimeIndex(t.view("M8[ns]")).tz_localize("UTC"))


def _date(day_ns: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(day_ns, np.int64).view("M8[ns]"))


def _sec(t: np.ndarray) -> np.ndarray:
    """Floor to whole seconds (as the schema does), keeping NAT, so derived hours match."""
    return np.where(t == NAT, NAT, t // 10**9 * 10**9)


def _day(t: np.ndarray) -> np.ndarray:
    return np.where(t == NAT, NAT, t // NS_PER_DAY * NS_PER_DAY)


def _uniform_ns(rng, lo, hi) -> np.ndarray:
    lo = np.asarray(lo, np.int64)
    hi = np.asarray(hi, np.int64)
    return lo + (rng.random(np.broadcast(lo, hi).shape) * np.maximum(hi - lo, 0)).astype(
        np.int64)


def _nice_qty(q: np.ndarray) -> np.ndarray:
    """Quantities as buyers write them: round to 10 from 100 units, to 50 from 1000."""
    q = np.maximum(np.asarray(q, float), 1)
    step = np.where(q >= 1000, 50, np.where(q >= 100, 10, 1))
    return np.maximum(np.round(q / step) * step, 1).astype(np.int64)


def _fair_windows(ctx: Context, start: int, end: int) -> np.ndarray:
    """(start, end) local ns of Canton Fair windows overlapping the period, clipped to it."""
    out = []
    for y in range(ctx.start.year - 1, ctx.end.year + 1):
        for (m0, d0), (m1, d1) in FAIRS:
            a = pd.Timestamp(year=y, month=m0, day=d0).value
            b = pd.Timestamp(year=y, month=m1, day=d1).value + NS_PER_DAY
            if b > start and a < end:
                out.append((max(a, start), min(b, end)))
    return np.array(out, dtype=np.int64).reshape(-1, 2)


@cache
def _name_pools() -> dict:
    """Name material from the shipped pools: ``vocab`` (made-up syllable names first, then
    capitalised ASCII surnames of every locale; ``vocab_arrow``: the same as Arrow strings),
    ``span`` (locale → first index and count of its surnames in vocab), ``mail`` (locale →
    free e-mail domains) and ``zh`` (Chinese family and given names for the sales staff)."""
    p = pools()
    kind = p["kind"].to_numpy(object)
    loc = p["locale"].to_numpy(object)
    ln = np.flatnonzero(kind == "last_name")
    name = p["ascii"].iloc[ln].str.capitalize().to_numpy(object)
    ok = np.char.str_len(name.astype(str)) >= 3
    ln, name = ln[ok], name[ok]
    order = np.argsort(loc[ln], kind="stable")
    ln, name = ln[order], name[order]
    syl = np.char.add(_SYL_A[:, None], _SYL_B[None, :]).ravel().astype(object)
    vocab = [syl, name]
    lcs, first, count = np.unique(loc[ln], return_index=True, return_counts=True)
    span = {lc: (len(syl) + f, k) for lc, f, k in zip(lcs, first, count, strict=True)}
    em = np.flatnonzero(kind == "email_domain")
    val = p["value"].to_numpy(object)
    mail = {lc: val[em[loc[em] == lc]] for lc in np.unique(loc[em])}
    zh = loc == "zh_CN"
    zh = (val[zh & (kind == "last_name")].astype(str), val[zh & (kind == "first_name")]
          .astype(str))
    vocab = np.concatenate(vocab).astype(object)
    uid = np.unique(vocab, return_inverse=True)[1]  # same surname in several locales
    return {"vocab": vocab, "vocab_arrow": pa.array(vocab, type=pa.string()), "uid": uid,
            "span": span, "mail": mail, "zh": zh}


def _company_names(rng, country: np.ndarray, locale: np.ndarray,
                   webmail: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """Made-up company names ("Base Qualifier Word" + legal form) and e-mail domains, drawn as
    integer codes (duplicates re-drawn cheaply) and joined once in Arrow."""

    n = len(country)
    pool = _name_pools()
    n_syl = len(_SYL_A) * len(_SYL_B)
    base = rng.integers(0, n_syl, n)
    free = np.full(n, "gmail.com", dtype=object)
    for loc in np.unique(locale):
        sel = np.flatnonzero(locale == loc)
        first, k = pool["span"].get(loc, (0, 0))
        if k >= 20:
            use = sel[rng.random(len(sel)) < 0.75]
            base[use] = first + rng.integers(0, k, len(use))
        d = pool["mail"].get(loc, ())
        if len(d):
            free[sel] = d[rng.integers(0, len(d), len(sel))]
    nq, nw = len(COMPANY_QUALIFIERS), len(COMPANY_WORDS)
    qual = rng.integers(0, nq, n)
    word = rng.integers(0, nw, n)
    q_uid = np.unique(COMPANY_QUALIFIERS, return_inverse=True)[1]
    for _ in range(8):  # re-draw duplicate names
        key = (pool["uid"][base] * nq + q_uid[qual]) * nw + word
        dup = np.flatnonzero(pd.Series(key).duplicated().to_numpy())
        if not len(dup):
            break
        qual[dup] = rng.integers(0, nq, len(dup))
        word[dup] = rng.integers(0, nw, len(dup))
    uc, inv = np.unique(country, return_inverse=True)
    form = [LEGAL_FORM.get(c, ("", "Ltd")) for c in uc]
    pre = pa.array([f[0] for f in form]).take(pa.array(inv))
    suf = pa.array([" " + f[1] if f[1] else "" for f in form]).take(pa.array(inv))
    tld = pa.array([TLD.get(c, ".com") for c in uc]).take(pa.array(inv))
    b = pool["vocab_arrow"].take(pa.array(base))
    q = pa.array(COMPANY_QUALIFIERS.astype(object)).take(pa.array(qual))
    w = pa.array(COMPANY_WORDS.astype(object)).take(pa.array(word))
    core = pc.utf8_trim_whitespace(join_str(b, " ", q, " ", w))
    name = join_str(pre, pc.replace_substring(core, "  ", " "), suf)
    slug = pc.utf8_lower(pc.replace_substring(join_str(b, q, w), " ", ""))
    domain = pc.if_else(pa.array(webmail), pa.array(free, type=pa.string()), join_str(slug, tld))
    return str_series(name), str_series(domain)


def _freight_per_unit(qty, unit_cbm, rate) -> tuple[np.ndarray, np.ndarray]:
    """Sea freight per unit (USD, ≥ 1 cent) and whether the lot fills a container (FCL).
    LCL lots are billed for at least 1 m³."""
    cbm = qty * unit_cbm
    fcl = cbm >= FCL_FROM_CBM
    total = rate * np.where(fcl, 0.65, 1.0) * np.maximum(cbm, 1.0)
    return np.maximum(rules.round_cents(total / qty), 0.01), fcl


# ----------------------------------------------------------------------------------------
# the stage
# ----------------------------------------------------------------------------------------

def build(ctx: Context) -> dict[str, pd.DataFrame]:  # one linear pipeline, kept in one place
    rng = ctx.rng("b2b")
    cat = ctx.catalog
    stores = ctx.tables["stores"]
    is_b2b = stores["model"].to_numpy(object) == "B2B"
    listings = ctx.tables["listings"]
    if not is_b2b.any() or "listing_stats" not in ctx.tables:
        return _empty()
    store_ids = stores["store_id"].astype(str).to_numpy()[is_b2b]
    n_st = len(store_ids)
    START = ctx.start.value
    END = (ctx.end + pd.Timedelta(days=1)).value  # local midnight after the last day
    labels: list[dict] = []  # label specs, assembled once at the end

    # ---- 1. B2B listings, products, rates ------------------------------------------------
    l_st = fast_codes(listings["store_id"], store_ids)
    lrow = np.flatnonzero(l_st >= 0)
    bl_store = l_st[lrow]
    bl_id = listings["listing_id"].iloc[lrow].astype(str).to_numpy(object)
    products = ctx.tables["products"]
    bl_prod = fast_codes(listings["product_id"].iloc[lrow],
                         products["product_id"].to_numpy(object))
    bl_moq = listings["moq"].fillna(1).to_numpy(np.int64)[lrow]
    bl_price = listings["price"].to_numpy(float)[lrow]
    bl_listed = ns(listings["listed_date"])[lrow]
    cats = sorted(pd.unique(products["category"].astype(str)))
    p_cat = fast_codes(products["category"].astype(str), cats)
    bl_cat = p_cat[bl_prod]
    p_type = products["product_type"].astype(str).to_numpy(object)
    p_id = products["product_id"].astype(str).to_numpy(object)
    p_cost = products["unit_cost_cny"].to_numpy(float)
    p_kg = products["weight_kg"].to_numpy(float)
    p_cbm = (products["length_cm"].to_numpy(float) * products["width_cm"].to_numpy(float)
             * products["height_cm"].to_numpy(float)) / 1e6 * 1.15  # carton packing
    hs = ctx.tables["hs_codes"]
    hrow = fast_codes(products["hs_code"], hs["hs_code"].to_numpy(object))
    p_vat = hs["vat_rate"].to_numpy(float)[hrow]
    p_reb = hs["export_rebate_rate"].to_numpy(float)[hrow]
    fx = ctx.tables["fx_rates"]
    usd = np.flatnonzero(fx["currency"].to_numpy(object) == "USD")
    fx_day0 = ns(fx["date"])[usd][0]
    fx_usd = fx["cny_per_unit"].to_numpy(float)[usd]

    # ---- 2. inquiries from clicks: per listing-month never more than the clicks ----------
    ls = ctx.tables["listing_stats"]

    pos = pc.index_in(pa.array(ls["listing_id"]), value_set=pa.array(bl_id, type=pa.string()))
    srow = np.flatnonzero(pos.is_valid().to_numpy(zero_copy_only=False))
    s_list = pos.to_numpy(zero_copy_only=False)[srow].astype(np.int64)
    clicks = ls["clicks"].to_numpy(np.int64)[srow]
    n_target = max(150, ctx.n_orders // 50)
    n_inq = int(min(n_target, clicks.sum() // 2))
    if n_inq < 10:
        return _empty()
    # n_inq distinct clicks drawn without replacement (multivariate hypergeometric)
    slot = rng.choice(int(clicks.sum()), n_inq, replace=False, shuffle=False)
    src = np.sort(np.searchsorted(np.cumsum(clicks), slot, side="right"))
    i_list = s_list[src]
    m0 = ns(ls["month"])[srow[src]]
    m1 = (m0.view("M8[ns]").astype("M8[M]") + 1).astype("M8[ns]").view(np.int64)
    lo = np.maximum(np.maximum(m0, bl_listed[i_list]), START)
    hi = np.maximum(np.minimum(m1, END), lo + NS_PER_DAY)
    i_t = np.minimum(_uniform_ns(rng, lo, hi), END - 1)
    order = np.argsort(i_t, kind="stable")
    i_list, i_t = i_list[order], i_t[order]
    i_store = bl_store[i_list]
    kind = np.zeros(n_inq, np.int8)  # 0 normal, 1 spam account, 2 fraud ring

    # ---- 3. planted: fraud ring, a burst of inquiries from new look-alike accounts ------
    fr_store = int(np.argmax(np.bincount(i_store, minlength=n_st)))
    months = _day(m0[order])
    in_store = i_store == fr_store
    mvals, mcount = np.unique(months[in_store], return_counts=True)
    fr_month = mvals[np.argmax(mcount)]
    fr_end_m = (pd.Timestamp(fr_month) + pd.offsets.MonthBegin(1)).value
    m_lo = max(int(fr_month), START)
    w0 = m_lo + int(rng.integers(0, max(1, (min(fr_end_m, END) - m_lo) // NS_PER_DAY - 2))
                    ) * NS_PER_DAY
    cand = np.flatnonzero(in_store & (months == fr_month) & (bl_listed[i_list] <= w0))
    n_fr_buyers = int(np.clip(n_inq // 2500, 3, 8))
    per = rng.integers(3, 7, n_fr_buyers)
    n_fr = int(min(per.sum(), max(n_fr_buyers, len(cand) * 6 // 10)))
    fr_rows = np.sort(rng.choice(cand, min(n_fr, len(cand)), replace=False))
    kind[fr_rows] = 2
    i_t[fr_rows] = w0 + NS_HOUR * 8 + rng.integers(0, 40 * NS_HOUR, len(fr_rows))
    order = np.argsort(i_t, kind="stable")
    i_list, i_t, i_store, kind = i_list[order], _sec(i_t[order]), i_store[order], kind[order]
    # platform spam: mass mailings from throw-away accounts
    spam = (kind == 0) & (rng.random(n_inq) < 0.04)
    kind[spam] = 1

    # ---- 4. leads per store; inquiries assigned to leads in time order ------------------
    fairs = _fair_windows(ctx, START, END)
    f_mix = float((LEAD_MIX * ENGAGE).sum())
    b_store, b_ch, b_kind, b_z, b_first, b_eng = [], [], [], [], [], []
    i_buyer = np.full(n_inq, -1, np.int64)
    nb = 0
    for s in range(n_st):
        rows = np.flatnonzero((i_store == s) & (kind == 0))
        n_s = len(rows)
        n_leads = max(3, round(n_s / (INQ_PER_ENGAGED * f_mix)))
        ch = rng.choice(len(CHANNELS), n_leads, p=LEAD_MIX)
        eng = rng.random(n_leads) < ENGAGE[ch]
        keep = ~eng | (eng.cumsum() <= n_s)  # never more engaged leads than inquiries
        ch, eng = ch[keep], eng[keep]
        n_leads = len(ch)
        if n_s and not eng.any():
            eng[0], ch[0] = True, 0
        z = rng.standard_normal(n_leads)
        first = np.full(n_leads, NAT, np.int64)
        e_idx = rng.permutation(np.flatnonzero(eng))
        if n_s:
            k_e = len(e_idx)
            first_pos = np.sort(np.concatenate(
                [[0], 1 + rng.choice(n_s - 1, k_e - 1, replace=False)])).astype(np.int64)
            owner = np.full(n_s, -1, np.int64)
            owner[first_pos] = e_idx
            rest = np.flatnonzero(owner < 0)
            cw = np.cumsum(np.exp(0.7 * z[e_idx]))
            k = np.searchsorted(first_pos, rest)
            j = np.minimum(np.searchsorted(cw, rng.random(len(rest)) * cw[k - 1], "right"),
                           k - 1)
            owner[rest] = e_idx[j]
            i_buyer[rows] = nb + owner
            first[e_idx] = i_t[rows[first_pos]]
        b_store.append(np.full(n_leads, s))
        b_ch.append(ch)
        b_kind.append(np.zeros(n_leads, np.int8))
        b_z.append(z)
        b_first.append(first)
        b_eng.append(eng)
        nb += n_leads
        # spam accounts of this store
        srows = np.flatnonzero((i_store == s) & (kind == 1))
        if len(srows):
            k_sp = max(1, len(srows) // 3)
            own = np.concatenate([np.arange(k_sp), rng.integers(0, k_sp, len(srows) - k_sp)])
            own = rng.permutation(own)
            i_buyer[srows] = nb + own
            fs = np.full(k_sp, np.iinfo(np.int64).max)
            np.minimum.at(fs, own, i_t[srows])
            b_store.append(np.full(k_sp, s))
            b_ch.append(np.zeros(k_sp, np.int64))
            b_kind.append(np.ones(k_sp, np.int8))
            b_z.append(rng.standard_normal(k_sp) - 2)
            b_first.append(fs)
            b_eng.append(np.ones(k_sp, bool))
            nb += k_sp
    fr_inq = np.flatnonzero(kind == 2)
    k_fr = min(n_fr_buyers, len(fr_inq))
    own = rng.permutation(np.concatenate([np.arange(k_fr),
                                          rng.integers(0, max(k_fr, 1), len(fr_inq) - k_fr)]))
    i_buyer[fr_inq] = nb + own
    fs = np.full(k_fr, np.iinfo(np.int64).max)
    np.minimum.at(fs, own, i_t[fr_inq])
    b_store.append(np.full(k_fr, fr_store))
    b_ch.append(np.zeros(k_fr, np.int64))
    b_kind.append(np.full(k_fr, 2, np.int8))
    b_z.append(rng.standard_normal(k_fr) - 2)
    b_first.append(fs)
    b_eng.append(np.ones(k_fr, bool))
    b_store = np.concatenate(b_store)
    b_ch = np.concatenate(b_ch)
    b_kind = np.concatenate(b_kind)
    b_z = np.concatenate(b_z)
    b_first = np.concatenate(b_first)  # first inquiry (NAT if none)
    b_eng = np.concatenate(b_eng)
    nb = len(b_store)

    # first_seen by channel; trade-show leads met at a fair before their first inquiry
    out = (b_ch >= 2) & (b_kind == 0)
    seen = b_first.copy()
    cold = seen == NAT
    seen[cold] = _uniform_ns(rng, np.full(cold.sum(), START),
                             np.full(cold.sum(), END - NS_PER_DAY))
    ts = b_ch == 3
    if len(fairs):
        # fair window: the last one that starts a day before the first contact
        ref = np.where(cold, END, b_first)
        fi = np.searchsorted(fairs[:, 0], ref - NS_PER_DAY, "right") - 1
        fi = np.where(cold & ts, rng.integers(0, len(fairs), nb), fi)
        ok = fi >= 0
        fi_c = np.maximum(fi, 0)
        f_hi = np.minimum(fairs[fi_c, 1], np.where(cold, END, b_first - NS_PER_DAY))
        fair_t = _uniform_ns(rng, fairs[fi_c, 0], np.maximum(f_hi, fairs[fi_c, 0] + 1))
        b_ch[ts & ~ok] = 4  # no fair before: found through search instead
        seen = np.where(ts & ok, fair_t, seen)
    else:
        b_ch[ts] = 4
    room = np.where(cold, 0, b_first - START)  # lead found in the period, before contact
    lag = np.minimum(rng.uniform(2, 60, nb) * NS_PER_DAY, rng.random(nb) * room)
    outbound_eng = out & ~cold & (b_ch != 3)
    seen = np.where(outbound_eng, b_first - lag.astype(np.int64), seen)

    # ---- 5. RFQs ------------------------------------------------------------------------
    n_rfq_b = np.where(b_ch == 1, 1 + rng.poisson(0.4, nb),
                       np.where((b_kind == 0) & b_eng & (rng.random(nb) < 0.12), 1, 0))
    n_rfq_b[b_kind > 0] = 0
    lag = np.minimum(rng.uniform(1, 20, nb) * NS_PER_DAY, rng.random(nb) * room)
    rfq_first = np.where(~cold, b_first - lag.astype(np.int64), seen)
    seen = np.where(b_ch == 1, np.minimum(rfq_first, seen), seen)
    r_buyer = np.repeat(np.arange(nb), n_rfq_b)
    n_rfq = len(r_buyer)
    is_first = np.ones(n_rfq, bool)
    is_first[1:] = r_buyer[1:] != r_buyer[:-1]
    seen = _sec(seen)
    r_t = _sec(np.where(is_first & (b_ch[r_buyer] == 1), seen[r_buyer],
                        _uniform_ns(rng, seen[r_buyer], np.full(n_rfq, END - NS_HOUR))))
    r_store = b_store[r_buyer]
    # category: the buyer's first inquiry's, else one the store lists
    first_inq = np.full(nb, n_inq, np.int64)
    np.minimum.at(first_inq, i_buyer, np.arange(n_inq))
    first_inq[first_inq == n_inq] = -1
    r_cat = np.where(first_inq[r_buyer] >= 0, bl_cat[i_list[np.maximum(first_inq[r_buyer], 0)]],
                     -1)
    need = np.flatnonzero(r_cat < 0)
    if len(need):
        pick = weighted_choice_by_group(rng, r_store[need], bl_store, np.ones(len(bl_store)))
        r_cat[need] = bl_cat[pick]
    r_list = weighted_choice_by_group(rng, r_store * len(cats) + r_cat,
                                      bl_store * len(cats) + bl_cat, np.ones(len(bl_store)))
    r_qty = _nice_qty(bl_moq[r_list] * np.exp(rng.normal(1.0, 0.8, n_rfq)))
    r_target = np.where(rng.random(n_rfq) < 0.6,
                        rules.round_cents(bl_price[r_list] * rng.uniform(0.55, 0.9, n_rfq)),
                        np.nan)
    r_term = rng.choice(3, n_rfq, p=[0.5, 0.2, 0.3])
    r_valid = r_t + rng.choice([7, 14, 30], n_rfq) * NS_PER_DAY
    q_delay = (np.exp(rng.normal(np.log(10), 1.0, n_rfq)) * NS_HOUR).astype(np.int64)
    r_quoted = _sec(np.where((rng.random(n_rfq) < 0.55) & (r_t + q_delay < r_valid)
                             & (r_t + q_delay < END), r_t + q_delay, NAT))
    rorder = np.lexsort((r_buyer, r_t))
    r_buyer, r_t, r_store, r_cat, r_list, r_qty, r_target, r_term, r_valid, r_quoted = (
        a[rorder] for a in (r_buyer, r_t, r_store, r_cat, r_list, r_qty, r_target, r_term,
                            r_valid, r_quoted))

    # ---- 6. inquiry details and first replies -------------------------------------------
    ib_z = b_z[i_buyer]
    moq = bl_moq[i_list]
    i_qty = _nice_qty(moq * np.exp(rng.normal(0.6, 0.9, n_inq)))
    i_target = np.where(rng.random(n_inq) < 0.55,
                        rules.round_cents(bl_price[i_list] * rng.uniform(0.6, 0.95, n_inq)),
                        np.nan)
    i_term = rng.choice(3, n_inq, p=[0.5, 0.2, 0.3])
    spec_p = 1 / (1 + np.exp(-(0.2 + 0.8 * ib_z)))
    i_msg = np.where(rng.random(n_inq) < spec_p, 0, 1)
    i_len = np.where(i_msg == 0, np.exp(rng.normal(np.log(520), 0.45, n_inq)),
                     np.exp(rng.normal(np.log(160), 0.4, n_inq)))
    sp, fr = kind == 1, kind == 2
    i_msg[sp] = np.where(rng.random(sp.sum()) < 0.75, 2, 1)
    i_len[sp] = np.exp(rng.normal(np.log(110), 0.3, sp.sum()))
    i_qty[fr] = _nice_qty(rng.uniform(10_000, 50_000, fr.sum()))
    i_target[fr] = rules.round_cents(bl_price[i_list[fr]] * rng.uniform(0.2, 0.35, fr.sum()))
    i_term[fr] = 2
    i_msg[fr] = 2
    i_len[fr] = 97 + rng.integers(0, 3, fr.sum())
    i_target[sp & (rng.random(n_inq) < 0.9)] = np.nan
    i_len = np.maximum(np.round(i_len), 20).astype(np.int64)
    flagged = sp & (rng.random(n_inq) < 0.85)
    bus = np.exp(rng.normal(np.log(2.5), 1.1, n_inq))
    reply = rules.add_business_hours(i_t.view("M8[ns]"), bus, 9, 18).astype(np.int64)
    never = rng.random(n_inq) < np.select([flagged, sp, fr], [0.95, 0.6, 0.1], 0.04)
    # planted: reply-SLA breach — for 2–3 weeks no inquiry of one store answered within 24 h
    sla_store = int(rng.integers(0, n_st))
    span = int(rng.integers(14, 22)) * NS_PER_DAY
    lo_w = START + 30 * NS_PER_DAY if ctx.n_days >= 90 else START
    hi_w = max(lo_w + NS_PER_DAY, END - span - 14 * NS_PER_DAY)
    for _ in range(10):  # keep clear of the fraud burst
        sla0 = lo_w + int(rng.integers(0, (hi_w - lo_w) // NS_PER_DAY + 1)) * NS_PER_DAY
        if sla_store != fr_store or not (sla0 - 3 * NS_PER_DAY < w0 < sla0 + span):
            break
    sla1 = min(sla0 + span, END)
    breach = (i_store == sla_store) & (i_t >= sla0) & (i_t < sla1)
    late = i_t + (rng.uniform(25, 100, n_inq) * NS_HOUR).astype(np.int64)
    reply = np.where(breach, late, reply)
    never = np.where(breach, rng.random(n_inq) < 0.3, never)
    reply = _sec(np.where(never | (reply >= END), NAT, reply))
    inq_ids = fast_ids("INQ", n_inq, width=7).to_numpy(object)
    if breach.any():
        labels.append(label_spec(
            "inquiry_reply_sla_breach", "inquiries", inq_ids[breach],
            store_id=store_ids[sla_store], start=pd.Timestamp(sla0),
            end=pd.Timestamp(sla1 - NS_PER_DAY),
            detail="no inquiry of the store answered within 24 h during this period "
                   "(sales desk unstaffed)"))

    # ---- 7. quotes, revision 1 ----------------------------------------------------------
    q_inq = np.flatnonzero((reply != NAT) & ~flagged
                           & (rng.random(n_inq) < np.select([sp, fr], [0.1, 0.5], 0.78)))
    extra = (np.exp(rng.normal(np.log(18), 0.7, len(q_inq))) * NS_HOUR).astype(np.int64)
    q_t_i = np.where(rng.random(len(q_inq)) < 0.55, reply[q_inq], reply[q_inq] + extra)
    keep = q_t_i < END
    q_inq, q_t_i = q_inq[keep], _sec(q_t_i[keep])
    q_rfq = np.flatnonzero(r_quoted != NAT)
    nq1 = len(q_inq) + len(q_rfq)
    Q = {  # quotes as parallel arrays, grown revision by revision
        "inq": np.concatenate([q_inq, np.full(len(q_rfq), -1)]),
        "rfq": np.concatenate([np.full(len(q_inq), -1), q_rfq]),
        "buyer": np.concatenate([i_buyer[q_inq], r_buyer[q_rfq]]),
        "list": np.concatenate([i_list[q_inq], r_list[q_rfq]]),
        "qty": np.concatenate([np.maximum(i_qty[q_inq], moq[q_inq]),
                               np.maximum(r_qty[q_rfq], bl_moq[r_list[q_rfq]])]),
        "term": np.concatenate([i_term[q_inq], r_term[q_rfq]]),
        "t": np.concatenate([q_t_i, r_quoted[q_rfq]]),
        "resp": np.concatenate([q_t_i - i_t[q_inq], r_quoted[q_rfq] - r_t[q_rfq]]) / NS_HOUR,
        "rev": np.ones(nq1, np.int64),
        "prev": np.full(nq1, -1),
        "ins": rng.choice([0.003, 0.005, 0.008], nq1, p=[0.3, 0.4, 0.3]),
        "plan": np.full(nq1, -1),  # contract type planned for a re-quote
    }
    ratio = np.log10(np.maximum(Q["qty"] / np.maximum(bl_moq[Q["list"]], 1), 1))
    Q["margin"] = np.round(np.clip(rng.uniform(0.10, 0.30, nq1) - 0.03 * ratio, 0.06, 0.3), 2)

    # ---- 8. buyer countries (needed for freight) ----------------------------------------
    world_mk = list(ctx.markets)
    other_mk = [m for m in cat.market_codes if m not in world_mk]
    all_mk = world_mk + other_mk
    dw = cat.markets["demand_weight"]
    w_world = dw.reindex(world_mk).to_numpy(float)
    w_other = dw.reindex(other_mk).to_numpy(float)
    pw = np.concatenate([0.8 * w_world / w_world.sum(),
                         0.2 * w_other / w_other.sum() if len(other_mk) else []])
    b_country_idx = rng.choice(len(all_mk), nb, p=pw / pw.sum())
    mk_row = cat.markets.index.get_indexer(all_mk)
    mk_region = cat.markets["region"].to_numpy(str)[mk_row]
    region_rate = np.array([SEA_RATE_USD_CBM[r] for r in mk_region])
    region_days = np.array([SEA_DAYS[r] for r in mk_region])

    def price_quotes(sl: slice) -> None:
        """Fill the pricing columns of quotes ``sl`` (rules.quote_price)."""
        li, qty = Q["list"][sl], Q["qty"][sl]
        pi = bl_prod[li]
        k = len(li)
        cost = p_cost[pi]
        reb = rules.export_rebate_per_unit(cost, p_vat[pi], p_reb[pi])
        dom = rules.round_cents(cost * rng.uniform(0.03, 0.07, k)
                                + rng.uniform(600, 1200, k) / qty)
        qday = _day(Q["t"][sl])
        rate = fx_usd[np.clip((qday - fx_day0) // NS_PER_DAY, 0, len(fx_usd) - 1)]
        freight, _ = _freight_per_unit(qty, p_cbm[pi], region_rate[b_country_idx[
            Q["buyer"][sl]]])
        pr = rules.quote_price(cost, dom, Q["margin"][sl], rate, freight, Q["ins"][sl], reb)
        for key, val in (("cost", cost), ("reb", reb), ("dom", dom), ("fx", rate),
                         ("freight", freight), ("fob", pr["fob"]), ("cfr", pr["cfr"]),
                         ("cif", pr["cif"]), ("day", qday),
                         ("valid", rng.choice([7, 15, 30], k, p=[0.3, 0.4, 0.3]))):
            Q.setdefault(key, np.zeros(0, np.asarray(val).dtype))
            Q[key] = np.concatenate([Q[key][: sl.start], val])

    price_quotes(slice(0, nq1))

    # ---- 9. contracts: sample → trial → bulk → repeat bulk, each after a (re-)quote -----
    C: dict[str, list] = {k: [] for k in ("q", "type", "signed", "disc", "ev")}
    pending = np.arange(nq1)
    bulk_count = np.zeros(nb, np.int64)
    for _step in range(8):
        if not len(pending):
            break
        by = Q["buyer"][pending]
        first_rev = Q["rev"][pending] == 1
        p_deal = np.where(first_rev, np.clip(DEAL[b_ch[by]] * np.exp(0.6 * b_z[by]), 0, 0.8),
                          0.8)
        p_deal[b_kind[by] > 0] = 0.0
        deal = rng.random(len(pending)) < p_deal
        typ = np.where(first_rev, rng.choice(3, len(pending), p=[0.55, 0.2, 0.25]),
                       Q["plan"][pending])
        signed = Q["t"][pending] + (rng.uniform(0.1, 0.95, len(pending))
                                    * Q["valid"][pending] * NS_PER_DAY).astype(np.int64)
        ok = deal & (signed < END)
        qn, typ, signed = pending[ok], typ[ok], signed[ok]
        disc = np.where(typ == 2, rng.choice([0, 0.01, 0.02, 0.03, 0.05], len(qn)), 0.0)
        C["q"].append(qn)
        C["type"].append(typ)
        C["signed"].append(signed)
        C["disc"].append(disc)
        # event times now, so follow-ups can start after the goods arrived
        ev = _events(rng, typ, signed, END)
        n_c = len(qn)
        reg = b_country_idx[Q["buyer"][qn]]
        transit = np.where(typ == 0, rng.uniform(3, 7, n_c),
                           rng.uniform(region_days[reg, 0], region_days[reg, 1]))
        arrive = ev["shipped"] + (transit * NS_PER_DAY).astype(np.int64)
        by = Q["buyer"][qn]
        bulk_count += np.bincount(by[typ == 2], minlength=nb)
        p_next = np.select([typ == 0, typ == 1], [0.5, 0.65],
                           np.where(bulk_count[by] < 4, 0.45, 0.0))
        nxt = (ev["shipped"] != NAT) & (rng.random(n_c) < p_next)
        plan = np.where(typ == 0, np.where(rng.random(n_c) < 0.4, 1, 2), 2)
        wait = np.select([typ == 0, typ == 1], [rng.uniform(5, 25, n_c),
                                                 rng.uniform(10, 40, n_c)],
                         rng.uniform(20, 90, n_c))
        t_next = arrive + (wait * NS_PER_DAY).astype(np.int64)
        nxt &= t_next < END
        C["ev"].append(ev)
        src_q = qn[nxt]
        k = len(src_q)
        if not k:
            pending = np.zeros(0, np.int64)
            continue
        base_qty = Q["qty"][src_q]
        plan_k = plan[nxt]
        new_qty = np.where(plan_k == 1, rng.uniform(0.2, 0.5, k), rng.uniform(0.8, 2.0, k))
        new_qty = np.maximum(_nice_qty(base_qty * new_qty), bl_moq[Q["list"][src_q]])
        start_i = len(Q["t"])
        for key, val in (("inq", Q["inq"][src_q]), ("rfq", Q["rfq"][src_q]),
                         ("buyer", Q["buyer"][src_q]), ("list", Q["list"][src_q]),
                         ("qty", new_qty), ("term", Q["term"][src_q]), ("t", t_next[nxt]),
                         ("resp", np.full(k, np.nan)), ("rev", Q["rev"][src_q] + 1),
                         ("prev", src_q), ("ins", Q["ins"][src_q]), ("plan", plan_k),
                         ("margin", np.round(np.maximum(
                             Q["margin"][src_q] - rng.uniform(0, 0.03, k), 0.05), 2))):
            Q[key] = np.concatenate([Q[key], val])
        price_quotes(slice(start_i, start_i + k))
        pending = np.arange(start_i, start_i + k)
    nq = len(Q["t"])
    if not C["q"]:  # no deal at all: empty contract columns
        C["q"], C["type"], C["signed"], C["disc"] = ([np.zeros(0, np.int64)] * 3
                                                     + [np.zeros(0)])
        C["ev"] = [_events(rng, np.zeros(0, np.int64), np.zeros(0, np.int64), END)]
    c_q, c_type, c_signed, c_disc = (np.concatenate(C[k]) for k in ("q", "type", "signed",
                                                                     "disc"))
    ev = {k: np.concatenate([e[k] for e in C["ev"]]) for k in C["ev"][0]}
    n_c = len(c_q)

    # ---- 10. planted: CIF computed with insurance on FOB (or left out) ------------------
    q_unit = rules.price_for_incoterm(np.asarray(INCOTERMS, object)[Q["term"]],
                                      Q["fob"], Q["cfr"], Q["cif"])
    cif_shown = Q["cif"].copy()
    has_contract = np.zeros(nq, bool)
    has_contract[c_q] = True
    on_fob = rules.round_cents(Q["cfr"] + rules.round_cents(
        Q["fob"] * (1 + rules.INSURANCE_MARKUP) * Q["ins"]))
    on_cif = (Q["term"] == 2) & ~has_contract
    cif_cand = np.flatnonzero(on_cif & (on_fob != Q["cif"]))
    left_out = np.flatnonzero(on_cif & (Q["cfr"] != Q["cif"]))
    n_bad = int(np.clip(round(0.02 * (Q["term"] == 2).sum()), 1, 40))
    bad_fob = np.sort(rng.choice(cif_cand, min(n_bad, len(cif_cand)), replace=False))
    left_out = np.setdiff1d(left_out, bad_fob)
    bad_out = rng.choice(left_out, min(max(0, n_bad - len(bad_fob)), len(left_out)),
                         replace=False)
    cif_shown[bad_fob] = on_fob[bad_fob]
    cif_shown[bad_out] = Q["cfr"][bad_out]
    bad = np.concatenate([bad_fob, bad_out])
    q_unit[bad] = cif_shown[bad]

    # ids: quotes in order of sending, inquiries/rfqs already in time order
    qord = np.lexsort((np.arange(nq), Q["t"]))
    q_rank = np.empty(nq, np.int64)
    q_rank[qord] = np.arange(nq)
    q_ids = fast_ids("QT", nq, width=7).to_numpy(object)  # q_ids[rank]
    rfq_ids = fast_ids("RFQ", n_rfq, width=6).to_numpy(object)
    if len(bad):
        detail = np.where(np.isin(bad, bad_fob),
                          "CIF computed with the insurance premium on FOB instead of CIF",
                          "CIF computed without insurance (CIF = CFR)")
        labels.append(label_spec(
            "quote_cif_error", "quotes", q_ids[q_rank[bad]],
            store_id=store_ids[b_store[Q["buyer"][bad]]],
            start=Q["day"][bad].view("M8[ns]"), end=Q["day"][bad].view("M8[ns]"),
            detail=detail))

    # ---- 11. contract amounts and terms ---------------------------------------------------
    cq_list = Q["list"][c_q]
    c_pi = bl_prod[cq_list]
    # samples: a few pieces; a trial straight from a first quote: part of the quoted lot at
    # the quoted price; otherwise the quoted quantity
    part = np.maximum(_nice_qty(Q["qty"][c_q] * rng.uniform(0.2, 0.5, n_c)), bl_moq[cq_list])
    c_qty = np.select([c_type == 0, (c_type == 1) & (Q["rev"][c_q] == 1)],
                      [rng.integers(1, 4, n_c), np.minimum(part, Q["qty"][c_q])], Q["qty"][c_q])
    fob_c = np.where(c_type == 0,
                     rules.round_cents(np.maximum(Q["fob"][c_q] * 1.5, Q["fob"][c_q] + 3)),
                     rules.round_cents(Q["fob"][c_q] * (1 - c_disc)))
    cfr_c = rules.round_cents(fob_c + Q["freight"][c_q])
    cif_c = rules.cif_from_cfr(cfr_c, Q["ins"][c_q])
    term_c = np.where(c_type == 0, -1, Q["term"][c_q])
    c_term_s = np.where(term_c >= 0, np.asarray(INCOTERMS, object)[np.maximum(term_c, 0)],
                        None)
    unit_c = np.where(c_type == 0, fob_c,
                      rules.price_for_incoterm(c_term_s, fob_c, cfr_c, cif_c))
    goods = rules.round_cents(unit_c * c_qty)
    fob_val = rules.round_cents(fob_c * c_qty)
    freight_c = np.where(c_type == 0,
                         rules.round_cents(25 + 10 * p_kg[c_pi] * c_qty), 0.0)
    total = rules.round_cents(goods + freight_c)
    dep_usd, bal_usd = rules.deposit_split(total, ev["pct"])
    cbm = c_qty * p_cbm[c_pi]
    mode = np.where(c_type == 0, 0, np.where(cbm >= FCL_FROM_CBM, 2, 1))
    c_cost = p_cost[c_pi]
    purchase_total = np.where(c_type == 0, 0.0, rules.round_cents(c_cost * c_qty))
    is_ta = rng.random(n_c) < np.where(c_type == 0, 0.6, 0.85)
    one_touch = (c_type > 0) & (rng.random(n_c) < 0.4)

    # planted: deposit received, production due, goods never shipped
    successor = np.zeros(nq, bool)
    successor[Q["prev"][Q["prev"] >= 0]] = True
    leaf = ~successor[c_q]
    od_cand = np.flatnonzero(leaf & (c_type > 0) & (ev["paid"] != NAT)
                             & (ev["ship_by"] < END - 15 * NS_PER_DAY))
    n_od = min(len(od_cand), int(np.clip(round(0.03 * n_c), 1, 30)))
    od = np.sort(rng.choice(od_cand, n_od, replace=False))
    ev["shipped"][od] = NAT
    ev["bal_paid"][od] = NAT
    ev["bal_due"][od] = np.where(ev["terms"][od] == 2, NAT, ev["bal_due"][od])
    status = _status(ev)
    cord = np.lexsort((np.arange(n_c), c_signed))
    c_rank = np.empty(n_c, np.int64)
    c_rank[cord] = np.arange(n_c)
    c_ids = fast_ids("CT", n_c, width=6).to_numpy(object)
    if n_od:
        labels.append(label_spec(
            "b2b_shipment_overdue", "contracts", c_ids[c_rank[od]],
            store_id=store_ids[b_store[Q["buyer"][c_q[od]]]],
            start=(ev["ship_by"][od] + NS_PER_DAY).view("M8[ns]"), end=ctx.end,
            detail="deposit received but the goods were not shipped by ship_by_date"))

    # ---- 12. buyers: names, activity, purchase volume -----------------------------------
    inq_n = np.bincount(i_buyer, minlength=nb)
    rfq_n = np.bincount(r_buyer, minlength=nb)
    base_v = np.where(b_eng, np.exp(1.2 + 0.5 * b_z), np.exp(0.2 + 0.5 * b_z))
    visits = inq_n + rfq_n + rng.poisson(base_v)
    visits[b_kind == 2] = inq_n[b_kind == 2]
    views = visits + rng.poisson(1.8 * visits)
    outb = b_ch >= 2
    e_sent = np.where(outb, 1 + rng.poisson(8, nb), rng.poisson(4, nb))
    e_sent[b_kind > 0] = 0
    sig = 1 / (1 + np.exp(-(-0.4 + 0.8 * b_z)))
    e_open = rng.binomial(e_sent, sig)
    e_click = rng.binomial(e_open, 1 / (1 + np.exp(-(-1.5 + 0.6 * b_z))))
    btype = rng.choice(len(BUYER_TYPES), nb, p=BUYER_TYPE_P)
    purchase = np.round(PURCHASE_MEDIAN_USD[btype] * np.exp(0.9 * rng.standard_normal(nb)
                                                            + 0.3 * b_z), -3)
    purchase[b_kind == 2] = np.round(rng.uniform(5e6, 20e6, (b_kind == 2).sum()), -3)
    purchase = np.maximum(purchase, 5000.0)
    webmail = (b_kind > 0) | ((btype >= 2) & (rng.random(nb) < 0.15))
    fr_b = np.flatnonzero(b_kind == 2)
    # the ring: look-alike accounts registered within two days before the burst
    member = np.where(b_eng | (b_ch <= 1) | (rng.random(nb) < 0.5),
                      _day(seen - (rng.uniform(0, 5 * 365, nb) * NS_PER_DAY).astype(np.int64)),
                      NAT)
    member[b_kind == 1] = _day(seen[b_kind == 1] - (rng.uniform(0, 30, (b_kind == 1).sum())
                                                    * NS_PER_DAY).astype(np.int64))
    member[fr_b] = _day(np.full(len(fr_b), w0) - rng.integers(0, 2, len(fr_b)) * NS_PER_DAY)
    b_country = np.asarray(all_mk, object)[b_country_idx]
    locale = cat.markets["locale"].to_numpy(str)[mk_row][b_country_idx]
    cname, domain = _company_names(rng, b_country.astype(str), locale, webmail)
    zl, zf = _name_pools()["zh"]
    n_sales = 3 + nb // (3000 * n_st)
    sp_names = np.char.add(zl[rng.integers(0, len(zl), (n_st, n_sales))],
                           zf[rng.integers(0, len(zf), (n_st, n_sales))])
    b_sales = sp_names[b_store, rng.integers(0, n_sales, nb)]
    bord = np.lexsort((np.arange(nb), seen))
    b_rank = np.empty(nb, np.int64)
    b_rank[bord] = np.arange(nb)
    b_ids = fast_ids("BY", nb, width=6).to_numpy(object)
    labels.append(label_spec(
        "b2b_fraud_buyer", "b2b_buyers", b_ids[b_rank[fr_b]], store_id=store_ids[fr_store],
        start=pd.Timestamp(w0), end=pd.Timestamp(w0 + 2 * NS_PER_DAY),
        detail="ring of new webmail accounts sending template inquiries to many listings "
               "within 48 h, huge quantities at target prices far below cost"))

    buyers = pd.DataFrame({
        "buyer_id": b_ids,
        "store_id": store_ids[b_store[bord]],
        "company_name": take(cname, bord),
        "country": b_country[bord],
        "buyer_type": const_categorical(btype[bord], BUYER_TYPES),
        "email_domain": take(domain, bord),
        "source_channel": const_categorical(b_ch[bord], CHANNELS),
        "first_seen": _utc(seen[bord]),
        "platform_member_since": _date(member[bord]),
        "salesperson": b_sales[bord],
        "visits": visits[bord], "product_views": views[bord],
        "inquiries_sent": inq_n[bord], "rfqs_posted": rfq_n[bord],
        "emails_sent": e_sent[bord], "emails_opened": e_open[bord],
        "emails_clicked": e_click[bord],
        "est_annual_purchase_usd": purchase[bord],
    })
    bid = b_ids[b_rank]  # buyer id by internal index

    inquiries = pd.DataFrame({
        "inquiry_id": inq_ids,
        "store_id": store_ids[i_store],
        "buyer_id": bid[i_buyer],
        "listing_id": bl_id[i_list],
        "product_id": p_id[bl_prod[i_list]],
        "received_at": _utc(i_t),
        "first_reply_at": _utc(reply),
        "reply_hours": np.where(reply == NAT, np.nan,
                                np.round((reply - i_t) / NS_HOUR, 2)),
        "quantity": i_qty,
        "target_price_usd": i_target,
        "incoterm": const_categorical(i_term, INCOTERMS),
        "message_type": const_categorical(i_msg, MESSAGE_TYPES),
        "message_length": i_len,
        "flagged_spam": flagged,
    })

    rfqs = pd.DataFrame({
        "rfq_id": rfq_ids,
        "store_id": store_ids[r_store],
        "buyer_id": bid[r_buyer],
        "category": categorical(r_cat, cats),
        "product_type": p_type[bl_prod[r_list]],
        "quantity": r_qty,
        "target_price_usd": r_target,
        "incoterm": const_categorical(r_term, INCOTERMS),
        "destination_country": b_country[r_buyer],
        "posted_at": _utc(r_t),
        "valid_until": _utc(r_valid),
        "quoted_at": _utc(r_quoted),
    })

    qo = qord
    quotes = pd.DataFrame({
        "quote_id": q_ids,
        "store_id": store_ids[b_store[Q["buyer"][qo]]],
        "buyer_id": bid[Q["buyer"][qo]],
        "inquiry_id": take(inq_ids, Q["inq"][qo]),
        "rfq_id": take(rfq_ids, Q["rfq"][qo]),
        "revision": Q["rev"][qo],
        "previous_quote_id": take(q_ids, np.where(Q["prev"][qo] >= 0,
                                                  q_rank[np.maximum(Q["prev"][qo], 0)], -1)),
        "listing_id": bl_id[Q["list"][qo]],
        "product_id": p_id[bl_prod[Q["list"][qo]]],
        "quantity": Q["qty"][qo],
        "incoterm": const_categorical(Q["term"][qo], INCOTERMS),
        "quote_date": _date(Q["day"][qo]),
        "sent_at": _utc(Q["t"][qo]),
        "response_hours": np.round(Q["resp"][qo], 2),
        "validity_days": Q["valid"][qo],
        "unit_cost_cny": Q["cost"][qo],
        "vat_rate": p_vat[bl_prod[Q["list"][qo]]],
        "export_rebate_rate": p_reb[bl_prod[Q["list"][qo]]],
        "rebate_per_unit_cny": Q["reb"][qo],
        "domestic_charges_cny": Q["dom"][qo],
        "margin_rate": Q["margin"][qo],
        "fx_rate_cny": Q["fx"][qo],
        "fob_usd": Q["fob"][qo],
        "freight_per_unit_usd": Q["freight"][qo],
        "insurance_rate": Q["ins"][qo],
        "cfr_usd": Q["cfr"][qo],
        "cif_usd": cif_shown[qo],
        "unit_price_usd": q_unit[qo],
        "total_usd": rules.round_cents(q_unit[qo] * Q["qty"][qo]),
    })

    co = cord
    is_trade = c_type[co] > 0
    trade_no = np.where(is_trade, np.cumsum(is_trade) - 1, -1)  # PC/EC numbers, samples none
    contracts = pd.DataFrame({
        "contract_id": c_ids,
        "quote_id": q_ids[q_rank[c_q[co]]],
        "buyer_id": bid[Q["buyer"][c_q[co]]],
        "store_id": store_ids[b_store[Q["buyer"][c_q[co]]]],
        "listing_id": bl_id[cq_list[co]],
        "product_id": p_id[c_pi[co]],
        "order_type": const_categorical(c_type[co], ORDER_TYPES),
        "incoterm": const_categorical(term_c[co], INCOTERMS),
        "shipping_mode": const_categorical(mode[co], SHIPPING_MODES),
        "quantity": c_qty[co],
        "negotiated_discount": c_disc[co],
        "fob_unit_usd": fob_c[co],
        "unit_price_usd": unit_c[co],
        "goods_value_usd": goods[co],
        "fob_value_usd": fob_val[co],
        "freight_usd": freight_c[co],
        "total_usd": total[co],
        "is_trade_assurance": is_ta[co],
        "via_one_touch": one_touch[co],
        "payment_terms": const_categorical(ev["terms"][co], PAYMENT_TERMS),
        "deposit_pct": ev["pct"][co],
        "deposit_usd": dep_usd[co],
        "balance_usd": bal_usd[co],
        "balance_term_days": pd.Series(ev["term_days"][co], dtype="Int64").mask(
            ev["term_days"][co] == 0),
        "signed_at": _utc(c_signed[co]),
        "deposit_due_date": _date(ev["dep_due"][co]),
        "deposit_paid_at": _utc(ev["paid"][co]),
        "ship_by_date": _date(ev["ship_by"][co]),
        "shipped_at": _utc(ev["shipped"][co]),
        "balance_due_date": _date(ev["bal_due"][co]),
        "balance_paid_at": _utc(ev["bal_paid"][co]),
        "status": const_categorical(status[co], CONTRACT_STATUS),
        "unit_cost_cny": c_cost[co],
        "purchase_contract_id": take(fast_ids("PC", n_c, width=6), trade_no),
        "purchase_total_cny": purchase_total[co],
        "export_contract_id": take(fast_ids("EC", n_c, width=6), trade_no),
    })

    # ---- 13. channel spend per store and month ------------------------------------------
    month_starts = pd.date_range(ctx.start.replace(day=1), ctx.end, freq="MS").as_unit("ns")
    mo = month_starts.asi8
    n_m = len(mo)
    b_m = np.searchsorted(mo, seen, "right") - 1
    leads = np.zeros((n_st, n_m, len(CHANNELS)))
    np.add.at(leads, (b_store, np.clip(b_m, 0, n_m - 1), b_ch), 1)
    spend = (CHANNEL_FIXED_CNY + leads * CHANNEL_PER_LEAD_CNY
             * rng.lognormal(0, 0.25, leads.shape))
    fair_month = np.zeros(n_m, bool)
    if len(fairs):
        fair_month[np.unique(np.searchsorted(mo, fairs[:, 0], "right") - 1)] = True
    ts_spend = np.where(fair_month[None, :],
                        FAIR_FIXED_CNY * rng.lognormal(0, 0.15, (n_st, n_m))
                        + FAIR_PER_LEAD_CNY * leads[:, :, 3], 0.0)
    spend[:, :, 3] = ts_spend
    si, mi, ci = np.meshgrid(np.arange(n_st), np.arange(n_m), np.arange(len(CHANNELS)),
                             indexing="ij")
    channel_costs = pd.DataFrame({
        "store_id": store_ids[si.ravel()],
        "month": _date(mo[mi.ravel()]),
        "channel": const_categorical(ci.ravel(), CHANNELS),
        "spend_cny": rules.round_cents(spend.ravel()),
        "cost_items": np.asarray(CHANNEL_COST_ITEMS, object)[ci.ravel()],
    })

    return {"b2b_buyers": buyers, "inquiries": inquiries, "rfqs": rfqs, "quotes": quotes,
            "contracts": contracts, "channel_costs": channel_costs,
            "anomalies": label_frame(labels)}


def _events(rng: np.random.Generator, typ: np.ndarray, signed: np.ndarray,
            end: int) -> dict[str, np.ndarray]:
    """Payment and shipment events of new contracts (China-local ns; NAT = none yet)."""
    n = len(typ)
    sample = typ == 0
    pct = np.where(sample, 1.0, rng.choice([0.3, 0.5, 1.0], n, p=[0.7, 0.2, 0.1]))
    terms = np.where(pct >= 1.0, 0, np.where(rng.random(n) < 0.55, 1, 2))
    term_days = np.where(terms == 2, rng.choice([15, 30, 45, 60], n), 0)
    sday = _day(signed)
    dep_due = sday + 7 * NS_PER_DAY
    pays = rng.random(n) < np.where(sample, 0.97, 0.93)
    paid = signed + (rng.uniform(0.02, 1.0, n) * (dep_due + NS_PER_DAY - 1 - signed)).astype(
        np.int64)
    agreed = np.select([sample, typ == 1], [rng.integers(3, 8, n), rng.integers(10, 21, n)],
                       rng.integers(20, 46, n))
    ship_by = dep_due + (agreed + 5) * NS_PER_DAY
    prod_end = paid + (agreed * rng.uniform(0.55, 0.95, n) * NS_PER_DAY).astype(np.int64)
    shipped = np.minimum(prod_end + (rng.uniform(0.2, 2.0, n) * NS_PER_DAY).astype(np.int64),
                         ship_by + 17 * NS_HOUR)
    bal_due = np.where(terms == 1, ship_by,
                       np.where(terms == 2, _day(shipped) + term_days * NS_PER_DAY, NAT))
    u = rng.random(n)
    on_time = np.maximum(bal_due + NS_PER_DAY - 1
                         - (rng.uniform(0, 1, n) * term_days * NS_PER_DAY).astype(np.int64),
                         shipped + NS_HOUR)
    late = bal_due + (rng.uniform(1, 75, n) * NS_PER_DAY).astype(np.int64)
    bal_paid = np.select([terms == 1, (terms == 2) & (u < 0.7), (terms == 2) & (u < 0.92)],
                         [np.maximum(shipped - (rng.uniform(0.1, 2, n) * NS_PER_DAY)
                                     .astype(np.int64), paid + NS_HOUR), on_time, late], NAT)
    # nothing happens without a deposit; censor at the end of the period
    paid = np.where(pays & (paid < end), paid, NAT)
    shipped = np.where((paid != NAT) & (shipped < end), shipped, NAT)
    bal_paid = np.where((paid != NAT) & (bal_paid < end) & (bal_paid != NAT), bal_paid, NAT)
    bal_due = np.where((terms == 2) & (shipped == NAT), NAT, bal_due)
    cancelled = (paid == NAT) & (dep_due + 8 * NS_PER_DAY <= end)
    bal_due = np.where(cancelled, NAT, bal_due)
    return {"pct": pct, "terms": terms, "term_days": term_days, "dep_due": dep_due,
            "paid": paid, "ship_by": ship_by, "shipped": shipped, "bal_due": bal_due,
            "bal_paid": bal_paid, "cancelled": cancelled}


def _status(ev: dict[str, np.ndarray]) -> np.ndarray:
    """awaiting_deposit, cancelled, in_production, shipped, completed (CONTRACT_STATUS)."""
    paid_all = (ev["terms"] == 0) | (ev["bal_paid"] != NAT)
    return np.select(
        [ev["paid"] == NAT, ev["shipped"] == NAT, ~paid_all],
        [np.where(ev["cancelled"], 1, 0), 2, 3], 4)
