"""Stage ``finance``: payouts, FX settlement, export declarations, tax rebates, receivables.

Covers the money side of 5.17 履约服务与结汇退税 (Table 1 11.1.2 declared values, 11.2.1
export documents, 11.3.1 payment collection, 11.3.2 FX settlement and export tax rebate,
11.4.1–11.4.5 payment methods, multi-currency providers and fees, the personal FX quota).
Formulas live in :mod:`cbec_sim.rules`; fees, spreads, cycles and shares below are
**teaching values**, not any provider's or platform's real terms.

- ``payment_providers``: the collection accounts (multi-currency collection services
  modelled on Payoneer / PingPong / WorldFirst-style accounts, and the company's bank
  account) with the currencies they hold, a withdrawal fee and an FX spread (11.4.2).
- ``settlements``: one marketplace payout per B2C store × settlement period (every 7, 14
  or 30 days by platform, each store with its own period start). Rules, all in the store
  currency and by **UTC day**: gross sales = ``order_total`` of the orders whose shipment
  was handed over in the period (the platform charges the buyer at shipment); referral
  fees = Σ over their order lines of :func:`rules.referral_fee` (``line_net``, the
  platform × category rate of ``platform_fees`` and the minimum × quantity, the minimum
  converted from the fee currency with the fx_rates of the order's UTC creation day and
  the order's ``fx_rate_cny``, rounded to the cent); fulfilment fees = per parcel shipped
  from a platform warehouse (FBA-style), (``shipping_cost_cny`` + the warehouse's
  ``pick_pack_fee_cny``) ÷ the order's ``fx_rate_cny``, to the cent; advertising =
  ``ads_daily.spend`` of the period's days; transaction (payment-processing) fees = gross ×
  the platform's rate; refunds = ``returns.refund_amount`` refunded in the period; a
  rolling reserve holds gross × the platform's reserve rate and releases it at the next
  period. Net payout by :func:`rules.settlement_net_payout`. Referral fees are not
  credited back on refunds (simplification). ``status``: ``open`` (period not over at the
  end of the world), ``scheduled`` (payout after the end) or ``paid``.
- ``fx_settlements`` (结汇): each paid positive payout and each B2B receipt is converted
  to CNY on ``settled_date`` (most within 0–3 days of receipt, some held 1–12 weeks —
  the timing decision): bank buying rate = :func:`rules.bank_buying_rate` (middle rate
  of that day's ``fx_rates``, provider spread); CNY = :func:`rules.convert_to_cny`;
  provider fee = :func:`rules.payment_fee`; FX gain/loss = :func:`rules.fx_gain_loss`
  against the middle rate of ``booked_date`` (a payout's period end — the day the platform
  statement books the receivable; a B2B contract's signing day, as in 5.17 exercise 2).
  Amounts not yet converted at the end stay in foreign currency. One or two small stores
  collect into the legal representative's **personal** account, subject to the annual
  quota :data:`rules.PERSONAL_FX_QUOTA_USD`: when a conversion would exceed it, the rest of
  the year goes through the company account.
- ``export_declarations`` + ``declaration_items`` (one item per 10-digit HS code): what
  actually left China, by customs supervision mode:
  ``9610`` B2C direct mail from the domestic warehouses, *清单核放、汇总申报*: parcels are
  released on their lists and summarised into one declaration per store (e-commerce
  enterprise) × origin warehouse (exit port) × destination market × China-local ship
  month, filed by the 15th of the next month (海关总署公告2018年第194号; FOB = Σ
  ``shipments.declared_value_usd``, split over order lines by ``line_net`` with cumulative
  rounding; CNY at the USD middle rate of the month's first day — the 当月1日 option of
  增值税暂行条例实施细则 art. 15); ``9810`` stock shipped to overseas / platform warehouses
  (regular ``inbound_receipts`` there, consolidated per warehouse × export day; export day
  = arrival − ``first_leg_days`` − 3 days of customs release and receiving; FOB = purchase
  cost × (1 + :data:`TRANSFER_MARKUP`) at the USD rate of the export day; emergency
  receipts abroad are local purchases, not exports); B2B contracts shipped (the b2b
  stage's ``contracts``, FOB = ``fob_value_usd``; samples go by courier under express
  clearance and are not declared): ``9710`` Trade Assurance (platform) orders, ``0110``
  general trade for the others, ``1039`` market procurement for half of the non-platform
  small-commodity orders (goods bought in the Yiwu market; VAT exempt without refund,
  免征不退); contracts exported through One Touch (一达通 agency export) are declared by the
  agent (exporter ``one_touch_agency``), which claims their rebate itself. ``0110`` also
  carries the group factory's own OEM exports (a few sea shipments a month of one product
  line, teaching simulation): the only exports of the **manufacturer**. CNY amounts: per
  item ``round_cents(fob_usd × usd_cny_rate)``; header amounts are item sums.
- ``export_rebates`` (退税申报): one line per item of a released declaration with a
  non-zero rebate rate (not 1039, not One Touch), filed in monthly batches (``claim_id``,
  one filing day per exporter and month, claimed the month after the declaration or the
  one after) by the trading company (**免退**, :func:`rules.export_rebate_exempt_refund` on
  the purchase-invoice amount excl. VAT = :func:`rules.amount_excl_vat` of the VAT-inclusive
  purchase cost: quantity × ``products.unit_cost_cny`` for 9610, the receipts'
  ``unit_cost_cny`` for 9810, ``contracts.purchase_total_cny`` for B2B) or by the factory
  (**免抵退**, line amount = FOB × rebate rate; the month computed in
  ``export_rebate_periods`` by :func:`rules.export_rebate_exempt_offset_refund`, with
  domestic sales and input VAT as teaching values).
- ``receivables``: the deposit and balance instalments of every non-cancelled contract
  (amounts, due dates and payment days from ``contracts``, China-local days): amount
  paid, payment day and outstanding at the end of the data (ageing is the exercise).

Planted and labelled: ``fee_overcharge`` (a settlement's referral fees above the fee
schedule), ``wrong_rebate_rate`` (a rebate line filed with a rate other than
``hs_codes.export_rebate_rate``), ``fx_quota_exceeded`` (a conversion on the personal
account beyond the annual quota).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cbec_sim import rules
from cbec_sim.context import Context
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import NS_PER_DAY, lookup_positions, make_ids, ns, parent_index
from cbec_sim.tables._util import codes as fast_codes
from cbec_sim.tables.labels import label_frame, label_spec

NAT = np.iinfo(np.int64).min
CN_UTC_OFFSET_NS = 8 * 3_600 * 10**9  # China Standard Time, no DST

MODES = ("0110", "1039", "9610", "9710", "9810")
MODE_NAMES = {"0110": "general trade (一般贸易)", "1039": "market procurement (市场采购)",
              "9610": "cross-border e-commerce retail, B2C (跨境贸易电子商务)",
              "9710": "cross-border e-commerce B2B direct export (跨境电商B2B直接出口)",
              "9810": "cross-border e-commerce export to overseas warehouse (跨境电商出口海外仓)"}
EXPORTERS = ("trading_company", "manufacturer", "one_touch_agency")
METHODS = ("exempt_refund", "exempt_offset_refund")
TRANSPORT = ("air", "sea")
SETTLEMENT_STATUSES = ("paid", "scheduled", "open")
DECL_STATUSES = ("released", "pending")
REBATE_STATUSES = ("filed", "approved")
RECV_STATUSES = ("paid", "unpaid")
INSTALMENTS = ("deposit", "balance")
SOURCE_TYPES = ("platform_payout", "b2b_receipt")
ACCOUNT_TYPES = ("corporate", "personal")
PROVIDER_TYPES = ("collection_service", "bank")

# ---- teaching values (not any platform's or provider's real terms) ------------------------
PAYOUT_CYCLE_DAYS = {"amazon": 14, "ebay": 7, "aliexpress": 7, "wish": 14, "joom": 14,
                     "shopee": 14, "lazada": 7, "tiktok_shop": 7, "ozon": 14,
                     "wildberries": 7, "coupang": 30, "jumia": 14}
PAYOUT_LAG_DAYS = {"amazon": 3, "coupang": 5}  #: settlement end → funds arrive (default 2)
RESERVE_RATE = {"amazon": 0.05, "wish": 0.10, "joom": 0.05}  #: rolling reserve of gross
TRANSACTION_FEE_RATE = {"shopee": 0.02, "lazada": 0.02, "tiktok_shop": 0.02, "jumia": 0.015}
#: Payment providers: id, name, type, modelled on, currencies held ("*": all), withdrawal
#: fee, FX spread.
PROVIDERS = (
    ("PP01", "Orbitpay Collect", "collection_service",
     "multi-currency collection account (Payoneer / WorldFirst style)",
     "USD|EUR|GBP|JPY|CAD|AUD|SGD|MXN|PLN", 0.010, 0.0),
    ("PP02", "Tradewind Pay", "collection_service",
     "multi-currency collection account (PingPong / LianLian style)",
     "USD|EUR|GBP|JPY|CAD|AUD|SGD|MYR|THB|IDR|PHP|VND", 0.005, 0.0015),
    ("PP03", "Meridian Global Wallet", "collection_service",
     "multi-currency collection account with emerging-market currencies",
     "USD|EUR|GBP|AUD|SAR|AED|BRL|MXN|RUB|KRW|NGN|KES|PLN", 0.003, 0.003),
    ("PP04", "Company foreign-currency bank account", "bank",
     "对公外汇账户 at a Chinese commercial bank (telegraphic transfers)", "*", 0.0, 0.006),
)
BANK_PROVIDER = "PP04"
QUICK_SETTLE_SHARE = 0.8  #: conversions within 0–3 days of receipt; the rest held 1–12 weeks
PERSONAL_STORE_SHARE = 0.15  #: chance a small B2C store collects into the personal account
QUOTA_BREACH_PROB = 0.7  #: chance the quota is (wrongly) exceeded instead of switching account
FEE_OVERCHARGE_SHARE = 0.03
WRONG_RATE_SHARE = 0.03
TRANSFER_MARKUP = 0.15  #: 9810 declared FOB = purchase cost × 1.15 (own overseas stock)
RECEIVING_DAYS = 3  #: overseas customs release + receiving, days (9810 export day)
#: share of non-Trade-Assurance small-commodity contracts exported as market procurement
MARKET_PROCUREMENT_SHARE = 0.5
SMALL_COMMODITIES = ("toys", "jewelry", "home_kitchen", "apparel", "bags", "lighting")
FACTORY_SHIPMENTS_PER_MONTH = 3.0  #: factory OEM export shipments a month per B2B store
FACTORY_FOB_MEDIAN_USD = 20_000.0  #: median FOB of one factory shipment
FACTORY_MARGIN = 0.25  #: factory price = catalogue unit cost × 1.25
#: export ports (customs exit) by domestic city and transport
PORTS = {("Shenzhen", "air"): "Shenzhen Bao'an Airport", ("Shenzhen", "sea"): "Yantian Port",
         ("Yiwu", "air"): "Hangzhou Xiaoshan Airport", ("Yiwu", "sea"): "Ningbo-Zhoushan Port"}
DEFAULT_PORTS = {"air": "Shanghai Pudong Airport", "sea": "Shanghai Yangshan Port"}

_STORE = Column("store_id", "str", "store", references="stores.store_id")

PAYMENT_PROVIDERS = register(TableSpec(
    name="payment_providers",
    grain="one collection account provider",
    description="Where marketplace payouts and B2B receipts are collected and converted "
                "(11.4.2): multi-currency collection services and the company's bank "
                "account. Names are made up; fees and spreads are teaching values.",
    columns=(
        Column("provider_id", "str", "provider id", unique=True),
        Column("name", "str", "provider name (made up)"),
        Column("provider_type", "category", "collection service or bank",
               values=PROVIDER_TYPES),
        Column("modelled_on", "str", "the real-world service type it imitates"),
        Column("currencies", "str", "currencies it can hold, `|`-separated"),
        Column("withdrawal_fee_rate", "rate", "fee on the CNY withdrawn at conversion",
               ge=0, le=1),
        Column("fx_spread", "rate", "bank buying rate = middle rate × (1 − spread)", ge=0,
               le=1),
    ),
))

SETTLEMENTS = register(TableSpec(
    name="settlements",
    grain="one B2C store × settlement period (marketplace payout statement)",
    description="Marketplace settlement reports in the store currency. Periods are UTC "
                "days. Gross = order_total of orders whose parcel was handed over in the "
                "period; referral fees per order line by rules.referral_fee; see the "
                "finance stage for every component.",
    checks=("net_payout = gross_sales − referral_fees − fulfilment_fees − advertising_fees "
            "− transaction_fees − refunds − reserve_held + reserve_released",
            "reserve_released = reserve_held of the store's previous period"),
    columns=(
        Column("settlement_id", "str", "settlement id", unique=True),
        _STORE,
        Column("platform_id", "str", "platform", references="platforms.platform_id"),
        Column("currency", "category", "settlement currency (the store's)"),
        Column("period_start", "date", "first UTC day of the period"),
        Column("period_end", "date", "last UTC day of the period (inclusive)"),
        Column("payout_date", "date", "day the payout reaches the collection account "
               "(empty while the period is open)", nullable=True),
        Column("status", "category", "paid, scheduled (payout after the end of the data) "
               "or open (period not over)", values=SETTLEMENT_STATUSES),
        Column("n_orders", "int", "orders charged (shipped) in the period", ge=0),
        Column("gross_sales", "money", "order_total of those orders", unit="currency", ge=0),
        Column("referral_fees", "money", "referral (commission) fees charged",
               unit="currency", ge=0),
        Column("fulfilment_fees", "money", "platform-warehouse fulfilment fees",
               unit="currency", ge=0),
        Column("advertising_fees", "money", "on-platform ad spend deducted (ads_daily)",
               unit="currency", ge=0),
        Column("transaction_fees", "money", "payment-processing fees of the platform",
               unit="currency", ge=0),
        Column("refunds", "money", "refunds paid to buyers in the period", unit="currency",
               ge=0),
        Column("reserve_held", "money", "rolling reserve withheld this period",
               unit="currency", ge=0),
        Column("reserve_released", "money", "reserve of the previous period released",
               unit="currency", ge=0),
        Column("net_payout", "money", "amount paid out (negative: charged to the seller)",
               unit="currency"),
        Column("payment_provider_id", "str", "collection account the payout goes to",
               references="payment_providers.provider_id"),
    ),
))

FX_SETTLEMENTS = register(TableSpec(
    name="fx_settlements",
    grain="one conversion (结汇) of one payout or B2B receipt into CNY",
    description="Foreign-currency receipts converted to CNY (11.3.2, 11.4.2, 11.4.3). "
                "Rates: middle = fx_rates of settled_date; bank buying rate = "
                "rules.bank_buying_rate(middle, provider spread). Receipts not yet converted "
                "at the end of the data are still held in foreign currency.",
    checks=("cny_gross = rules.convert_to_cny(amount, bank_buy_rate)",
            "fee_cny = rules.payment_fee(cny_gross, withdrawal_fee_rate); cny_net = "
            "cny_gross − fee_cny",
            "fx_gain_loss_cny = cny_gross − rules.convert_to_cny(amount, booked_rate)"),
    columns=(
        Column("fx_settlement_id", "str", "conversion id", unique=True),
        Column("source_type", "category", "marketplace payout or B2B receipt",
               values=SOURCE_TYPES),
        Column("source_id", "str", "settlements.settlement_id or receivables.receivable_id"),
        _STORE,
        Column("payment_provider_id", "str", "collection account provider",
               references="payment_providers.provider_id"),
        Column("account_type", "category", "company account, or the legal representative's "
               "personal account (annual quota applies)", values=ACCOUNT_TYPES),
        Column("received_date", "date", "day the foreign currency arrived"),
        Column("settled_date", "date", "day it was converted"),
        Column("currency", "category", "foreign currency (ISO 4217)"),
        Column("amount", "money", "foreign amount converted", unit="currency", ge=0),
        Column("middle_rate", "float", "CNY per unit, fx_rates of settled_date", ge=0),
        Column("bank_buy_rate", "float", "rate applied (middle × (1 − spread), 6 significant "
               "digits)", ge=0),
        Column("cny_gross", "money", "amount × bank_buy_rate", unit="CNY", ge=0),
        Column("fee_cny", "money", "provider withdrawal fee", unit="CNY", ge=0),
        Column("cny_net", "money", "CNY credited: cny_gross − fee_cny", unit="CNY", ge=0),
        Column("booked_date", "date", "day the receivable was booked (payout: period end; "
               "B2B: contract signing day)"),
        Column("booked_rate", "float", "middle rate of booked_date", ge=0),
        Column("fx_gain_loss_cny", "money", "cny_gross − amount × booked_rate (each to the "
               "cent)", unit="CNY"),
        Column("usd_equivalent", "money", "amount × middle_rate ÷ USD middle rate of "
               "settled_date (for the personal quota)", unit="USD", ge=0),
    ),
))

EXPORT_DECLARATIONS = register(TableSpec(
    name="export_declarations",
    grain="one customs export declaration (报关单)",
    description="Export declarations by supervision mode (9610 monthly summaries of B2C "
                "parcels, 9810 stock to overseas warehouses, 9710/0110/1039 B2B contracts). "
                "Amounts are sums of declaration_items.",
    checks=("9610: one declaration per store × warehouse_id × destination_country × "
            "China-local month of shipments.shipped_at (domestic warehouses only); fob_usd = "
            "Σ shipments.declared_value_usd",),
    columns=(
        Column("declaration_id", "str", "declaration id", unique=True),
        Column("mode", "category", "customs supervision mode (监管方式): "
               + "; ".join(f"{k} {v}" for k, v in MODE_NAMES.items()), values=MODES),
        Column("exporter", "category", "exporter of record: the trading company (rebate "
               "免退), the group's factory (免抵退) or the One Touch agent (一达通, claims the "
               "rebate itself)", values=EXPORTERS),
        Column("store_id", "str", "selling store (empty for 9810 stock transfers)",
               nullable=True, references="stores.store_id"),
        Column("contract_id", "str", "B2B contract shipped (9710/0110/1039)", nullable=True,
               references="contracts.contract_id"),
        Column("warehouse_id", "str", "9610: domestic warehouse shipped from; 9810: overseas "
               "warehouse shipped to", nullable=True, references="warehouses.warehouse_id"),
        Column("export_port", "category", "customs exit port"),
        Column("transport_mode", "category", "transport", values=TRANSPORT),
        Column("destination_country", "category", "country of destination (ISO code)"),
        Column("exported_from", "date", "first China-local export day covered"),
        Column("exported_to", "date", "last China-local export day covered"),
        Column("declared_date", "date", "day filed (9610 summary: by the 15th of the next "
               "month; empty while pending)", nullable=True),
        Column("status", "category", "released, or pending (summary not filed yet)",
               values=DECL_STATUSES),
        Column("main_hs_code", "str", "HS code of the item with the largest FOB",
               references="hs_codes.hs_code"),
        Column("n_items", "int", "items (distinct 10-digit HS codes)", ge=1),
        Column("n_shipments", "int", "parcels (9610), goods receipts (9810) or 1 (B2B)",
               ge=1),
        Column("quantity", "int", "units", ge=1),
        Column("currency", "category", "declaration currency"),
        Column("fob_usd", "money", "FOB value", unit="USD", ge=0),
        Column("usd_cny_rate", "float", "CNY per USD used (middle rate: 9610 the first day "
               "of the month, otherwise the export day)", ge=0),
        Column("fob_cny", "money", "FOB value in CNY (sum of items)", unit="CNY", ge=0),
    ),
))

DECLARATION_ITEMS = register(TableSpec(
    name="declaration_items",
    grain="one 10-digit HS code within one export declaration",
    description="Declaration items (报关单表体).",
    checks=("fob_cny = rules.convert_to_cny(fob_usd, export_declarations.usd_cny_rate)",),
    columns=(
        Column("declaration_id", "str", "declaration",
               references="export_declarations.declaration_id"),
        Column("item_no", "int", "item number within the declaration", ge=1),
        Column("hs_code", "str", "commodity code", references="hs_codes.hs_code"),
        Column("quantity", "int", "units", ge=1),
        Column("fob_usd", "money", "FOB value", unit="USD", ge=0),
        Column("fob_cny", "money", "FOB value in CNY", unit="CNY", ge=0),
    ),
))

EXPORT_REBATES = register(TableSpec(
    name="export_rebates",
    grain="one declaration item claimed for export VAT rebate",
    description="Export VAT rebate claim lines (11.3.2), filed in monthly batches. 免退 "
                "(exempt_refund, trading company): rebate = invoice amount excl. VAT × "
                "rebate rate; 免抵退 (exempt_offset_refund, factory): rebate_amount_cny is "
                "the line's exempt-offset-refund limit FOB × rate, the refund being set per "
                "period in export_rebate_periods.",
    checks=("exempt_refund: rebate_amount_cny = rules.export_rebate_exempt_refund("
            "invoice_amount_cny, rebate_rate)",
            "rebate_rate should equal hs_codes.export_rebate_rate"),
    columns=(
        Column("rebate_line_id", "str", "claim line id", unique=True),
        Column("claim_id", "str", "claim batch (one per exporter and month)"),
        Column("declaration_id", "str", "declaration",
               references="export_declarations.declaration_id"),
        Column("item_no", "int", "declaration item", ge=1),
        Column("hs_code", "str", "commodity code", references="hs_codes.hs_code"),
        Column("method", "category", "exempt_refund (免退) or exempt_offset_refund (免抵退)",
               values=METHODS),
        Column("claim_month", "date", "tax period of the claim (first day of the month)"),
        Column("claimed_date", "date", "day the batch was filed"),
        Column("fob_cny", "money", "FOB value of the item", unit="CNY", ge=0),
        Column("invoice_amount_cny", "money", "purchase VAT-invoice amount excl. VAT (免退 "
               "only)", unit="CNY", nullable=True, ge=0),
        Column("vat_rate", "rate", "VAT rate of the goods", ge=0, le=1),
        Column("rebate_rate", "rate", "rebate rate applied in the claim", ge=0, le=1),
        Column("rebate_amount_cny", "money", "免退: refund claimed; 免抵退: FOB × rebate "
               "rate", unit="CNY", ge=0),
        Column("non_refundable_cny", "money", "part not refunded: base × (VAT rate − rebate "
               "rate), base = invoice amount (免退) or FOB (免抵退)", unit="CNY", ge=0),
        Column("status", "category", "filed or approved", values=REBATE_STATUSES),
        Column("approved_date", "date", "day the tax office approved the batch",
               nullable=True),
    ),
))

EXPORT_REBATE_PERIODS = register(TableSpec(
    name="export_rebate_periods",
    grain="one monthly VAT period of the factory (免抵退)",
    description="The factory's exempt-offset-refund computation per month "
                "(rules.export_rebate_exempt_offset_refund on the month's claim lines).",
    columns=(
        Column("month", "date", "tax period (first day of the month)", unique=True),
        Column("fob_cny", "money", "FOB of the export lines claimed", unit="CNY", ge=0),
        Column("domestic_sales_cny", "money", "domestic sales excl. VAT", unit="CNY", ge=0),
        Column("output_vat_cny", "money", "output VAT on domestic sales", unit="CNY", ge=0),
        Column("input_vat_cny", "money", "input VAT of the month", unit="CNY", ge=0),
        Column("non_creditable_cny", "money", "不得免征和抵扣税额: Σ FOB × (VAT − rebate rate)",
               unit="CNY", ge=0),
        Column("opening_credit_cny", "money", "input VAT carried over (上期留抵)",
               unit="CNY", ge=0),
        Column("vat_payable_cny", "money", "VAT payable (0 when in credit)", unit="CNY",
               ge=0),
        Column("closing_credit_cny", "money", "period-end uncredited input VAT (期末留抵)",
               unit="CNY", ge=0),
        Column("refund_limit_cny", "money", "免抵退税额: Σ FOB × rebate rate", unit="CNY",
               ge=0),
        Column("refund_cny", "money", "应退税额: min(limit, closing credit)", unit="CNY",
               ge=0),
        Column("exempt_offset_cny", "money", "免抵税额: limit − refund", unit="CNY", ge=0),
        Column("credit_carried_cny", "money", "credit carried to the next month",
               unit="CNY", ge=0),
    ),
))

RECEIVABLES = register(TableSpec(
    name="receivables",
    grain="one payment instalment (deposit or balance) of one B2B contract",
    description="B2B accounts receivable (回款, 11.3.1) as of the last day of the data: "
                "amount due, due date, what was paid and when, and what is outstanding.",
    checks=("outstanding = amount_due − amount_paid",
            "Σ amount_due per contract = the contract total"),
    columns=(
        Column("receivable_id", "str", "receivable id", unique=True),
        Column("contract_id", "str", "contract", references="contracts.contract_id"),
        _STORE,
        Column("buyer_id", "str", "buyer", references="b2b_buyers.buyer_id"),
        Column("instalment", "category", "deposit or balance", values=INSTALMENTS),
        Column("currency", "category", "contract currency"),
        Column("amount_due", "money", "instalment amount", unit="currency", ge=0),
        Column("due_date", "date", "payment due (empty: a balance due a number of days "
               "after a shipment that has not happened yet)", nullable=True),
        Column("amount_paid", "money", "received by the end of the data", unit="currency",
               ge=0),
        Column("paid_date", "date", "day the payment arrived (empty if none)",
               nullable=True),
        Column("outstanding", "money", "amount_due − amount_paid", unit="currency", ge=0),
        Column("status", "category", "paid, partially_paid or unpaid", values=RECV_STATUSES),
    ),
))


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------

class _Fx:
    """Daily middle rates as a currency × day matrix (fast vectorised lookups)."""

    def __init__(self, fx_rates: pd.DataFrame) -> None:
        d = ns(fx_rates["date"]) // NS_PER_DAY
        cs = fx_rates["currency"]
        # codes of the distinct values (categorical codes, else a hash factorisation)
        cc, cats = ((cs.cat.codes.to_numpy(), cs.cat.categories)
                    if isinstance(cs.dtype, pd.CategoricalDtype) else pd.factorize(cs))
        if (cc >= 0).all():  # distinct values only
            cats = np.asarray(cats, dtype=object).astype(str)
            self.currencies = np.array(sorted(set(cats[np.unique(cc)])), dtype=object)
            ci = np.searchsorted(self.currencies.astype(str), cats)[cc]
        else:
            cur = np.asarray(cs, dtype=object).astype(str)
            self.currencies = np.array(sorted(set(cur)), dtype=object)
            ci = np.searchsorted(self.currencies.astype(str), cur)
        self.day0 = int(d.min())
        self.n = int(d.max()) - self.day0 + 1
        self.tab = np.full((len(self.currencies), self.n), np.nan)
        self.tab[ci, d - self.day0] = fx_rates["cny_per_unit"].to_numpy(float)
        self.usd = self.code(["USD"])[0]

    def code(self, cur) -> np.ndarray:
        return fast_codes(np.asarray(cur, dtype=object), self.currencies)

    def rate(self, cur_code, day) -> np.ndarray:
        """Middle rate of currency codes on integer days since the epoch (clipped)."""
        i = np.clip(np.asarray(day, np.int64) - self.day0, 0, self.n - 1)
        return self.tab[np.asarray(cur_code), i]


def _days(s) -> np.ndarray:
    """Integer days since the epoch of a datetime column (NaT → NAT)."""
    x = ns(s) if isinstance(s, pd.Series) else np.asarray(s, np.int64)
    return np.where(x == NAT, NAT, x // NS_PER_DAY)


def _date(days) -> np.ndarray:
    """Naive datetime64[ns] from integer days (NAT → NaT)."""
    d = np.asarray(days, np.int64)
    return np.where(d == NAT, NAT, d * NS_PER_DAY).astype("datetime64[ns]")


def _month_first(days) -> np.ndarray:
    """First day (integer days) of the month of each day."""
    m = np.asarray(days, np.int64).astype("datetime64[D]").astype("datetime64[M]")
    return m.astype("datetime64[D]").astype(np.int64)


def _add_months(days, k: int) -> np.ndarray:
    m = np.asarray(days, np.int64).astype("datetime64[D]").astype("datetime64[M]") + k
    return m.astype("datetime64[D]").astype(np.int64)


def _fcodes(s: pd.Series, values) -> np.ndarray:
    """Position of each value of a long column in ``values`` (-1 if absent or missing).

    Categorical codes or an Arrow dictionary encoding, so only distinct values are looked up
    (no per-row Python objects).
    """
    vals = np.asarray(values, dtype=object).astype(str)
    if isinstance(s.dtype, pd.CategoricalDtype):
        idx = s.cat.codes.to_numpy().astype(np.int64)
        uniq = np.asarray(s.cat.categories, dtype=object).astype(str)
    else:
        arr = pa.array(s) if not isinstance(s, pa.Array | pa.ChunkedArray) else s
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        d = pc.dictionary_encode(arr)
        idx = pc.fill_null(d.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        uniq = d.dictionary
    m = np.append(lookup_positions(uniq, vals), -1)
    return m[np.where(idx >= 0, idx, len(m) - 1)]


def _dense_groups(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Group number of each non-negative integer key (< ``size``), groups ordered by key,
    and the keys present. A counting pass instead of a sort (keys span a small range)."""
    present = np.bincount(key, minlength=size) > 0
    gid = np.cumsum(present) - 1
    return gid[key], np.flatnonzero(present)


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``make_ids`` that also accepts zero rows."""
    return make_ids(prefix, n, width=width) if n else np.zeros(0, dtype=object)


def _empty(spec: TableSpec) -> pd.DataFrame:
    """A table with the spec's columns and no rows."""
    from cbec_sim.schema import DTYPES

    return pd.DataFrame({c.name: pd.Series(dtype="object" if c.dtype in ("str", "category")
                                           else DTYPES[c.dtype]) for c in spec.columns})


# ------------------------------------------------------------------------------------------
# settlements
# ------------------------------------------------------------------------------------------

def _settlements(ctx: Context, rng: np.random.Generator, fx: _Fx, prov_of_store):
    T = ctx.tables
    stores, orders, lines = T["stores"], T["orders"], T["order_lines"]
    ships, products = T["shipments"], T["products"]
    st_ids = stores["store_id"].to_numpy(object).astype(str)
    st_plat = stores["platform_id"].to_numpy(object).astype(str)
    st_cur = stores["currency"].to_numpy(object).astype(str)
    b2c = np.flatnonzero(stores["model"].to_numpy(object).astype(str) == "B2C")
    start_day = int(ctx.start.value // NS_PER_DAY)
    end_day = int(ctx.end.value // NS_PER_DAY)

    o_store = _fcodes(orders["store_id"], st_ids).astype(np.int32)
    o_fx = orders["fx_rate_cny"].to_numpy(float)
    # parcels follow their orders: check that cheaply, else look every order up
    s_oidx = np.flatnonzero(ns(orders["shipped_at"]) != NAT)
    if not (len(s_oidx) == len(ships) and pc.all(pc.equal(
            pa.array(orders["order_id"]).take(pa.array(s_oidx)),
            pa.array(ships["order_id"]))).as_py()):
        s_oidx = parent_index(orders["order_id"], ships["order_id"])
    o_srow = np.full(len(orders), -1, np.int32)
    o_srow[s_oidx] = np.arange(len(ships), dtype=np.int32)
    s_day = ns(ships["shipped_at"]) // NS_PER_DAY
    s_store = o_store[s_oidx]

    # periods: per store, cycle and a random offset so stores settle on different days
    cyc = np.array([PAYOUT_CYCLE_DAYS.get(p, 14) for p in st_plat], np.int64)
    lag = np.array([PAYOUT_LAG_DAYS.get(p, 2) for p in st_plat], np.int64)
    base = start_day - (rng.random(len(stores)) * cyc).astype(np.int64)
    r_days = _days(T["returns"]["refunded_at"])
    ads = T["ads_daily"]
    last = max(end_day, int(s_day.max(initial=end_day)), int(r_days.max(initial=end_day)))
    n_per = np.where(np.isin(np.arange(len(stores)), b2c), (last - base) // cyc + 1, 0)
    off = np.concatenate([[0], np.cumsum(n_per)])
    n_rows = int(off[-1])

    def row_of(store, day) -> np.ndarray:
        """Settlement row of each (store, UTC day) event, -1 outside every period."""
        ok = (store >= 0) & (day != NAT)
        st = np.where(ok, store, 0)
        k = np.clip((day - base[st]) // cyc[st], 0, np.maximum(n_per[st] - 1, 0))
        return np.where(ok & (n_per[st] > 0), off[st] + k, -1)

    def total(row, amount) -> np.ndarray:
        """Integer cents of ``amount`` summed per settlement row (rows < 0 dropped)."""
        c = rules.to_cents(np.nan_to_num(np.asarray(amount, float))).astype(float)
        r = np.where(row >= 0, row, n_rows)
        return np.rint(np.bincount(r, weights=c, minlength=n_rows + 1)[:n_rows]).astype(
            np.int64)

    s_row = row_of(s_store, s_day)
    del s_day
    o_row = np.full(len(orders), -1, np.int64)
    o_row[s_oidx] = s_row
    gross = total(o_row, orders["order_total"].to_numpy(float))
    n_orders = np.bincount(np.where(o_row >= 0, o_row, n_rows), minlength=n_rows + 1)[:n_rows]

    # referral fees per order line (rules.referral_fee), summed per period
    l_oidx = parent_index(orders["order_id"], lines["order_id"]).astype(np.int32)
    fees = T["platform_fees"]
    plat_ids = T["platforms"]["platform_id"].to_numpy(object).astype(str)
    cats = np.array(sorted(set(fees["category"].astype(str))), dtype=object)
    f_p = fast_codes(fees["platform_id"], plat_ids)
    f_c = fast_codes(fees["category"].astype(str), cats)
    pct = np.zeros((len(plat_ids), len(cats)))
    mn = np.zeros_like(pct)
    fcur = np.full(pct.shape, fx.usd, np.int64)
    pct[f_p, f_c] = fees["referral_fee_pct"].to_numpy(float)
    mn[f_p, f_c] = fees["min_referral_fee"].to_numpy(float)
    fcur[f_p, f_c] = fx.code(fees["fee_currency"].astype(str))
    p_cat = fast_codes(products["category"].astype(str), cats).astype(np.int32)
    l_prod = _fcodes(lines["product_id"], products["product_id"].to_numpy(object)).astype(
        np.int32)
    st_pc = fast_codes(pd.Series(st_plat), plat_ids).astype(np.int32)  # a store: one platform
    fidx = st_pc[o_store[l_oidx]] * np.int32(len(cats)) + p_cat[l_prod]
    qty = lines["quantity"].to_numpy()
    line_net = lines["line_net"].to_numpy(float)
    min_fee = mn.ravel()[fidx]
    hm = np.flatnonzero(min_fee > 0)
    min_local = np.zeros(len(fidx))
    if len(hm):  # the minimum is in the fee currency: convert at the order's rates
        lo = l_oidx[hm]
        fee_cny = fx.rate(fcur.ravel()[fidx[hm]], ns(orders["created_at"])[lo] // NS_PER_DAY)
        min_local[hm] = rules.round_cents(min_fee[hm] * fee_cny / o_fx[lo])
        del lo, fee_cny
    del min_fee, hm
    line_fee = rules.referral_fee(line_net, pct.ravel()[fidx], min_local * qty)
    del fidx, min_local
    referral = total(o_row[l_oidx], line_fee)
    del line_fee, o_row

    # fulfilment fees: parcels from platform warehouses
    wh = T["warehouses"]
    s_wh = _fcodes(ships["warehouse_id"], wh["warehouse_id"].to_numpy(object)).astype(np.int32)
    w_type = wh["warehouse_type"].to_numpy(object).astype(str)
    pp = np.nan_to_num(wh["pick_pack_fee_cny"].to_numpy(float))
    plat_wh = (w_type == "platform_warehouse")[s_wh]
    ful = np.where(plat_wh, rules.round_cents(
        (ships["shipping_cost_cny"].to_numpy(float) + pp[s_wh]) / o_fx[s_oidx]), 0.0)
    fulfil = total(s_row, ful)

    # refunds and advertising
    ret = T["returns"]
    r_store = _fcodes(ret["store_id"], st_ids)
    refunds = total(row_of(r_store, r_days), np.nan_to_num(ret["refund_amount"].to_numpy(float)))
    a_row = row_of(_fcodes(ads["store_id"], st_ids), _days(ads["date"]))
    advert = total(a_row, ads["spend"].to_numpy(float))

    # assemble one row per store × period
    r_store_all = np.repeat(np.arange(len(stores)), n_per)
    k = np.arange(n_rows) - off[r_store_all]
    p_start = base[r_store_all] + k * cyc[r_store_all]
    p_end = p_start + cyc[r_store_all] - 1
    payout = p_end + lag[r_store_all]
    status = np.where(p_end > end_day, "open", np.where(payout > end_day, "scheduled", "paid"))
    plat_r = st_plat[r_store_all]
    # rates per store (a few dozen), spread on the store's periods
    tf_rate = np.array([TRANSACTION_FEE_RATE.get(p, 0.0) for p in st_plat])[r_store_all]
    rv_rate = np.array([RESERVE_RATE.get(p, 0.0) for p in st_plat])[r_store_all]
    g = gross / 100.0
    tfee = rules.payment_fee(g, tf_rate)
    held = rules.payment_fee(g, rv_rate)
    released = np.zeros(n_rows)
    released[1:] = held[:-1]
    released[k == 0] = 0.0

    # planted: referral fees charged above the fee schedule (label fee_overcharge)
    ref = referral / 100.0
    elig = np.flatnonzero((ref > 0) & (status == "paid"))
    n_bad = round(FEE_OVERCHARGE_SHARE * len(elig)) if len(elig) >= 10 else 0
    labels = []
    if len(elig) >= 10:
        n_bad = max(n_bad, 1)
        bad = np.sort(rng.choice(elig, n_bad, replace=False))
        extra = rules.round_cents(ref[bad] * rng.uniform(0.04, 0.15, n_bad) + 0.01)
        ref_charged = ref.copy()
        ref_charged[bad] = rules.round_cents(ref[bad] + extra)
    else:
        bad = np.zeros(0, np.int64)
        ref_charged = ref
    sid = _ids("ST", n_rows, width=6)
    net = rules.settlement_net_payout(g, ref_charged, fulfil / 100.0, advert / 100.0, tfee,
                                      refunds / 100.0, held, released)
    out = pd.DataFrame({
        "settlement_id": sid, "store_id": st_ids[r_store_all], "platform_id": plat_r,
        "currency": st_cur[r_store_all],
        "period_start": _date(p_start), "period_end": _date(p_end),
        "payout_date": _date(np.where(status == "open", NAT, payout)), "status": status,
        "n_orders": n_orders, "gross_sales": g, "referral_fees": ref_charged,
        "fulfilment_fees": fulfil / 100.0, "advertising_fees": advert / 100.0,
        "transaction_fees": tfee, "refunds": refunds / 100.0, "reserve_held": held,
        "reserve_released": released, "net_payout": net,
        "payment_provider_id": np.asarray(prov_of_store, dtype=object)[r_store_all],
    })
    if len(bad):
        labels.append(label_spec(
            "fee_overcharge", "settlements", sid[bad], store_id=st_ids[r_store_all][bad],
            start=_date(p_start[bad]), end=_date(p_end[bad]),
            detail=[f"referral fees charged {c:.2f} instead of {r:.2f} per the fee schedule"
                    for c, r in zip(ref_charged[bad], ref[bad], strict=True)]))

    # B2C facts the declarations need (9610): per line and per shipment
    b2c_info = {"l_oidx": l_oidx, "l_prod": l_prod, "qty": qty, "o_srow": o_srow,
                "s_wh": s_wh, "s_store": s_store, "line_net": line_net}
    return out, labels, b2c_info


# ------------------------------------------------------------------------------------------
# B2B contracts and receivables
# ------------------------------------------------------------------------------------------

#: Columns of the b2b stage's ``contracts`` this stage reads (absent table → no B2B rows).
CONTRACT_COLUMNS = ("contract_id", "buyer_id", "store_id", "product_id", "order_type",
                    "shipping_mode", "quantity", "fob_value_usd", "total_usd", "deposit_usd",
                    "balance_usd", "is_trade_assurance", "via_one_touch", "signed_at",
                    "deposit_due_date", "deposit_paid_at", "shipped_at", "balance_due_date",
                    "balance_paid_at", "status", "unit_cost_cny", "purchase_total_cny")


def _cn_day(s: pd.Series) -> np.ndarray:
    """China-local calendar day (integer days) of a UTC timestamp column (NaT → NAT)."""
    x = ns(s)
    return np.where(x == NAT, NAT, (x + CN_UTC_OFFSET_NS) // NS_PER_DAY)


def _contracts(ctx: Context) -> dict[str, np.ndarray] | None:
    """The b2b stage's non-cancelled contracts in the shape this stage uses (None if none):
    columns as plain arrays (text as object arrays), one row per contract.

    Contract dates are China-local days (timestamps converted at UTC+8, as the b2b stage
    does for its own dates).
    """
    c = ctx.tables.get("contracts")
    if c is None or len(c) == 0 or any(k not in c.columns for k in CONTRACT_COLUMNS):
        return None
    keep = np.flatnonzero(c["status"].to_numpy(object) != "cancelled")
    n = len(keep)
    if n == 0:
        return None

    def text(name: str) -> np.ndarray:
        """A column of the kept contracts as text (object array)."""
        return c[name].astype(str).to_numpy(object)[keep]

    T = ctx.tables
    stores, products = T["stores"], T["products"]
    st = _fcodes(c["store_id"], stores["store_id"].to_numpy(object))[keep]
    pi = _fcodes(c["product_id"], products["product_id"].to_numpy(object))[keep]
    hs_ids = T["hs_codes"]["hs_code"].to_numpy(object).astype(str)
    p_hs = fast_codes(products["hs_code"].astype(str), hs_ids)
    buyers = T.get("b2b_buyers")
    if buyers is not None and "country" in buyers.columns:
        bi = _fcodes(c["buyer_id"], buyers["buyer_id"].to_numpy(object))[keep]
        bc = buyers["country"].astype(str).to_numpy(object)
        country = np.where(bi >= 0, bc[np.maximum(bi, 0)], None)
    else:
        country = np.full(n, None, dtype=object)
    market = stores["market"].astype(str).to_numpy(object)[st]
    country = np.where(pd.isna(country), market, country)
    qty = c["quantity"].to_numpy(np.int64)[keep]
    cost = c["purchase_total_cny"].to_numpy(float)[keep]
    cost = np.where(cost > 0, cost, qty * c["unit_cost_cny"].to_numpy(float)[keep])
    return {
        "contract_id": text("contract_id"), "store": st,
        "buyer_id": text("buyer_id"), "country": country,
        "hs": p_hs[pi], "category": products["category"].astype(str).to_numpy(object)[pi],
        "quantity": qty, "cost": cost,
        "sample": (text("order_type") == "sample") | (text("shipping_mode") == "express"),
        "ta": c["is_trade_assurance"].to_numpy(bool)[keep],
        "one_touch": c["via_one_touch"].to_numpy(bool)[keep],
        "fob_usd": c["fob_value_usd"].to_numpy(float)[keep],
        "deposit": c["deposit_usd"].to_numpy(float)[keep],
        "balance": c["balance_usd"].to_numpy(float)[keep],
        "signed": _cn_day(c["signed_at"])[keep], "deposit_due": _days(c["deposit_due_date"])[keep],
        "deposit_paid": _cn_day(c["deposit_paid_at"])[keep],
        "shipped": _cn_day(c["shipped_at"])[keep],
        "balance_due": _days(c["balance_due_date"])[keep],
        "balance_paid": _cn_day(c["balance_paid_at"])[keep],
    }


def _receivables(ctx: Context, con: dict[str, np.ndarray] | None
                 ) -> tuple[pd.DataFrame | None, dict[str, np.ndarray]]:
    """Deposit and balance instalments of each contract, as of the last day of the data:
    the ``receivables`` table (None without contracts) and, per row, the contract's signing
    day (``signed``), the payment day (``paid``) and the store position (``store``)."""
    if con is None:
        return None, {}
    end_day = int(ctx.end.value // NS_PER_DAY)
    st_ids = ctx.tables["stores"]["store_id"].to_numpy(object).astype(str)
    n = len(con["contract_id"])
    idx = np.concatenate([np.arange(n), np.arange(n)])
    inst = np.repeat(np.array(INSTALMENTS, dtype=object), n)
    amt = np.concatenate([con["deposit"].astype(float), con["balance"].astype(float)])
    due = np.concatenate([con["deposit_due"].astype(np.int64),
                          con["balance_due"].astype(np.int64)])
    paid = np.concatenate([con["deposit_paid"].astype(np.int64),
                           con["balance_paid"].astype(np.int64)])
    paid = np.where((paid != NAT) & (paid <= end_day), paid, NAT)
    keep = np.flatnonzero(amt > 0)
    keep = keep[np.lexsort((inst[keep] == "balance", idx[keep]))]
    idx, inst, amt, due, paid = idx[keep], inst[keep], amt[keep], due[keep], paid[keep]
    amount_paid = np.where(paid != NAT, amt, 0.0)
    rec = pd.DataFrame({
        "receivable_id": _ids("AR", len(keep), width=6),
        "contract_id": con["contract_id"][idx],
        "store_id": st_ids[con["store"][idx]],
        "buyer_id": con["buyer_id"][idx], "instalment": inst,
        "currency": "USD", "amount_due": amt, "due_date": _date(due),
        "amount_paid": amount_paid, "paid_date": _date(paid),
        "outstanding": (rules.to_cents(amt) - rules.to_cents(amount_paid)) / 100.0,
        "status": np.where(paid != NAT, "paid", "unpaid"),
    })
    return rec, {"signed": con["signed"].astype(np.int64)[idx], "paid": paid,
                 "store": con["store"][idx]}


# ------------------------------------------------------------------------------------------
# FX settlement (结汇)
# ------------------------------------------------------------------------------------------

def _fx_settlements(ctx, rng, fx: _Fx, settlements, rec, rec_extra, providers, personal_store):
    end_day = int(ctx.end.value // NS_PER_DAY)
    stores = ctx.tables["stores"]
    st_ids = stores["store_id"].to_numpy(object).astype(str)
    s = settlements
    sk = np.flatnonzero((s["status"].to_numpy(object) == "paid")
                        & (s["net_payout"].to_numpy(float) > 0))
    # sources as columns of plain arrays (text as object arrays): payouts, then B2B receipts
    parts = [{
        "source_type": np.full(len(sk), "platform_payout", dtype=object),
        "source_id": s["settlement_id"].to_numpy(object)[sk],
        "store": fast_codes(s["store_id"], st_ids)[sk],
        "provider": s["payment_provider_id"].to_numpy(object)[sk],
        "received": _days(s["payout_date"])[sk],
        "currency": s["currency"].to_numpy(object)[sk].astype(str).astype(object),
        "amount": s["net_payout"].to_numpy(float)[sk], "booked": _days(s["period_end"])[sk]}]
    if rec is not None:
        rk = np.flatnonzero(rec["amount_paid"].to_numpy(float) > 0)
        parts.append({
            "source_type": np.full(len(rk), "b2b_receipt", dtype=object),
            "source_id": rec["receivable_id"].to_numpy(object)[rk],
            "store": rec_extra["store"][rk],
            "provider": np.full(len(rk), BANK_PROVIDER, dtype=object),
            "received": rec_extra["paid"].astype(np.int64)[rk],
            "currency": rec["currency"].to_numpy(object)[rk].astype(str).astype(object),
            "amount": rec["amount_paid"].to_numpy(float)[rk],
            "booked": rec_extra["signed"][rk]})
    x = {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}
    n = len(x["source_id"])
    hold = np.where(rng.random(n) < QUICK_SETTLE_SHARE, rng.integers(0, 4, n),
                    rng.integers(7, 85, n))
    x["settled"] = x["received"].astype(np.int64) + hold
    # keep what is settled by the end; order by settlement day, receipt day, then source id
    keep = np.flatnonzero(x["settled"] <= end_day)
    src_rank = pd.factorize(x["source_id"][keep], sort=True)[0]
    keep = keep[np.lexsort((src_rank, x["received"][keep], x["settled"][keep]))]
    x = {k: v[keep] for k, v in x.items()}
    n = len(keep)
    cur = fx.code(x["currency"])
    settled = x["settled"].astype(np.int64)
    middle = fx.rate(cur, settled)
    usd_mid = fx.rate(np.full(n, fx.usd), settled)
    amount = x["amount"].astype(float)
    usd_eq = rules.round_cents(amount * middle / usd_mid)

    # personal account: small stores' payouts until the annual quota would be exceeded
    acct = np.where(np.isin(x["store"], personal_store), "personal", "corporate")
    year = settled.astype("datetime64[D]").astype("datetime64[Y]").astype(int)
    labels = []
    pers = np.flatnonzero(acct == "personal")
    used: dict[int, int] = {}
    closed: set[int] = set()
    quota = int(rules.to_cents(rules.PERSONAL_FX_QUOTA_USD))
    breach_rows = []
    for i in pers:  # a handful of rows a year
        y = int(year[i])
        if y in closed:
            acct[i] = "corporate"
            continue
        c = used.get(y, 0) + int(rules.to_cents(usd_eq[i]))
        if c > quota:
            closed.add(y)
            if rng.random() < QUOTA_BREACH_PROB:
                breach_rows.append(i)  # converted on the personal account anyway
                used[y] = c
            else:
                acct[i] = "corporate"
            continue
        used[y] = c
    p = x["provider"]
    # provider columns per row (NaN for an unknown provider, as a reindex would give)
    p_row = fast_codes(p, providers["provider_id"].to_numpy(object))
    spread = np.append(providers["fx_spread"].to_numpy(float), np.nan)[p_row]
    fee_rate = np.append(providers["withdrawal_fee_rate"].to_numpy(float), np.nan)[p_row]
    buy = rules.bank_buying_rate(middle, spread)
    gross = rules.convert_to_cny(amount, buy)
    fee = rules.payment_fee(gross, fee_rate)
    booked = x["booked"].astype(np.int64)
    booked_rate = fx.rate(cur, booked)
    fid = _ids("FX", n, width=6)
    out = pd.DataFrame({
        "fx_settlement_id": fid, "source_type": x["source_type"],
        "source_id": x["source_id"], "store_id": st_ids[x["store"]],
        "payment_provider_id": p, "account_type": acct,
        "received_date": _date(x["received"]), "settled_date": _date(settled),
        "currency": x["currency"], "amount": amount, "middle_rate": middle,
        "bank_buy_rate": buy, "cny_gross": gross, "fee_cny": fee,
        "cny_net": (rules.to_cents(gross) - rules.to_cents(fee)) / 100.0,
        "booked_date": _date(booked), "booked_rate": booked_rate,
        "fx_gain_loss_cny": rules.fx_gain_loss(amount, buy, booked_rate),
        "usd_equivalent": usd_eq,
    })
    if breach_rows:
        b = np.array(breach_rows)
        labels.append(label_spec(
            "fx_quota_exceeded", "fx_settlements", fid[b],
            store_id=st_ids[x["store"][b]],
            start=_date(settled[b]), end=_date(settled[b]),
            detail=[f"personal-account conversions in {year[i] + 1970} pass the USD "
                    f"{rules.PERSONAL_FX_QUOTA_USD:,.0f} annual quota" for i in b]))
    return out, labels


# ------------------------------------------------------------------------------------------
# export declarations
# ------------------------------------------------------------------------------------------

def _factory_exports(ctx: Context, rng: np.random.Generator, fx: _Fx, p_hs, p_cost):
    """General-trade (0110) exports of the group's factory: its own product line (one
    category of the catalogue) sold to OEM buyers offline, a few sea shipments a month.
    Only these exports are claimed under 免抵退. Teaching simulation; returns header and
    item columns (dicts, see :func:`_stack`) like the other sources, or None."""
    products = ctx.tables["products"]
    cats = products["category"].astype(str).to_numpy(object)
    if len(cats) == 0:
        return None
    # its line: preferably a category whose rebate rate is below the VAT rate for some code
    # (so the non-creditable part of 免抵退 shows), else any of the catalogue's categories
    hs = ctx.tables["hs_codes"]
    reb = hs["export_rebate_rate"].to_numpy(float)
    gap = hs["category"].astype(str).to_numpy(object)[(reb > 0)
                                                      & (reb < hs["vat_rate"].to_numpy(float))]
    pool = sorted(set(cats) & set(gap)) or sorted(set(cats))
    line = pool[int(rng.integers(len(pool)))]
    pids = np.flatnonzero(cats == line)
    days = np.arange(int(ctx.start.value // NS_PER_DAY), int(ctx.end.value // NS_PER_DAY) + 1)
    n_b2b = int((ctx.tables["stores"]["model"].astype(str) == "B2B").sum())
    lam = FACTORY_SHIPMENTS_PER_MONTH * max(n_b2b, 1) * 12 / 365.25
    per_day = rng.poisson(lam, len(days))
    day = np.repeat(days, per_day)
    nd = len(day)
    if nd == 0:
        return None
    usd = fx.rate(np.full(nd, fx.usd), day)
    prod = pids[rng.integers(0, len(pids), nd)]
    fob_usd = rng.lognormal(np.log(FACTORY_FOB_MEDIAN_USD), 0.6, nd)
    unit_fob = p_cost[prod] * (1 + FACTORY_MARGIN) / usd  # factory price per unit, USD
    qty = np.maximum(np.round(fob_usd / unit_fob), 1).astype(np.int64)
    markets = np.array(ctx.markets, dtype=object)
    head = {
        "mode": "0110", "exporter": "manufacturer", "store_id": None, "contract_id": None,
        "warehouse_id": None,
        "export_port": _ports(np.where(rng.random(nd) < 0.5, "Shenzhen", "Yiwu"), "sea"),
        "transport_mode": "sea", "destination_country": markets[rng.integers(0, len(markets),
                                                                             nd)],
        "exported_from": day, "exported_to": day, "declared": day - rng.integers(0, 3, nd),
        "n_shipments": 1, "rate_day": day}
    item = {"d": np.arange(nd), "hs": p_hs[prod], "quantity": qty,
            "fob_cents": rules.to_cents(qty * unit_fob), "cost": 0.0}
    return head, item


def _stack(parts: list[dict], length_key: str) -> dict[str, np.ndarray]:
    """Concatenate column dicts (values: arrays, lists or scalars broadcast to the part's
    length, as ``pd.concat`` of the equivalent frames would): numbers stay numeric (int64
    or float64), text and missing values become object arrays."""
    lens = [len(p[length_key]) for p in parts]
    out = {}
    for k in parts[0]:
        cols = []
        for p, n in zip(parts, lens, strict=True):
            v = p[k]
            if v is None or isinstance(v, str):
                cols.append(np.full(n, v, dtype=object))
            elif isinstance(v, int | float):
                cols.append(np.full(n, v, dtype=np.int64 if isinstance(v, int) else float))
            else:
                a = np.asarray(v) if not isinstance(v, list) else np.array(v, dtype=object)
                cols.append(a.astype(object) if a.dtype.kind in "UO" else a)
        out[k] = np.concatenate(cols)
    return out


def _port(city: str, mode: str) -> str:
    return PORTS.get((city, mode), DEFAULT_PORTS[mode])


def _ports(city: np.ndarray, mode: np.ndarray | str) -> np.ndarray:
    """:func:`_port` of each row's city and transport mode (object array), looked up once
    per distinct pair (a few cities and modes)."""
    city = np.asarray(city, dtype=object)
    mode = np.broadcast_to(np.asarray(mode, dtype=object), city.shape)
    out = np.empty(len(city), dtype=object)
    for c in dict.fromkeys(city.tolist()):
        at_c = city == c
        for m in dict.fromkeys(mode[at_c].tolist()):
            out[at_c & (mode == m)] = _port(c, m)
    return out


def _declarations(ctx: Context, rng: np.random.Generator, fx: _Fx, info, con):
    """Declaration headers and items of the three sources (items as integer-cent sums)."""
    T = ctx.tables
    stores, wh, products, hs = T["stores"], T["warehouses"], T["products"], T["hs_codes"]
    hs_ids = hs["hs_code"].to_numpy(object).astype(str)
    p_hs = fast_codes(products["hs_code"].astype(str), hs_ids)
    p_cost = products["unit_cost_cny"].to_numpy(float)
    w_ids = wh["warehouse_id"].to_numpy(object).astype(str)
    w_type = wh["warehouse_type"].to_numpy(object).astype(str)
    w_city = wh["city"].to_numpy(object).astype(str)
    w_country = wh["country"].to_numpy(object).astype(str)
    st_ids = stores["store_id"].to_numpy(object).astype(str)
    start_day = int(ctx.start.value // NS_PER_DAY)
    end_day = int(ctx.end.value // NS_PER_DAY)
    heads, items = [], []

    # ---- 9610: B2C parcels from domestic warehouses, monthly summaries ----------------
    ships = T["shipments"]
    s_wh = info["s_wh"]
    dom = np.flatnonzero((w_type == "domestic")[s_wh])
    smk = ships["market"]
    mk_vals = np.array(sorted(set(T["stores"]["market"].astype(str)) | set(
        (smk.cat.categories if isinstance(smk.dtype, pd.CategoricalDtype)
         else smk.unique()).astype(str))), dtype=object)
    if len(dom):
        nw, nmk = len(w_ids), len(mk_vals)
        cn_day = (ns(ships["shipped_at"])[dom] + CN_UTC_OFFSET_NS) // NS_PER_DAY
        mnum = cn_day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        m0 = int(mnum.min())
        n_m = int(mnum.max()) - m0 + 1
        key = (((info["s_store"][dom].astype(np.int64) * nw + s_wh[dom]) * nmk
                + _fcodes(smk, mk_vals)[dom]) * n_m + (mnum - m0))
        del mnum
        s_decl, ukey = _dense_groups(key, int(len(stores) * nw * nmk * n_m))
        del key
        nd = len(ukey)
        d_month = (ukey % n_m + m0).astype("datetime64[M]").astype("datetime64[D]").astype(
            np.int64)
        d_mk, d_wh, d_store = (ukey // n_m) % nmk, (ukey // (n_m * nmk)) % nw, ukey // (
            n_m * nmk * nw)
        d_from = np.full(nd, np.iinfo(np.int64).max)
        np.minimum.at(d_from, s_decl, cn_day)
        d_to = np.full(nd, np.iinfo(np.int64).min)
        np.maximum.at(d_to, s_decl, cn_day)
        del cn_day
        decl_of_ship = np.full(len(ships) + 1, -1, np.int32)  # last slot: "no parcel"
        decl_of_ship[dom] = s_decl
        n_ship = np.bincount(s_decl, minlength=nd)
        del s_decl
        # order lines of those parcels; the parcel's declared value is split over its lines
        # by line_net with cumulative rounding, so lines add up to the parcel to the cent
        l_srow = info["o_srow"][info["l_oidx"]]
        lsel = np.flatnonzero(decl_of_ship[l_srow] >= 0)  # -1 (no parcel) → last slot
        ls = l_srow[lsel]
        del l_srow
        if len(ls) > 1 and (np.diff(ls) < 0).any():  # lines not in parcel order: sort them
            o = np.argsort(ls, kind="stable")
            lsel, ls = lsel[o], ls[o]
        w = info["line_net"][lsel]
        new = np.ones(len(ls), bool)
        new[1:] = ls[1:] != ls[:-1]
        grp = np.cumsum(new) - 1
        first = np.flatnonzero(new)
        del new
        wsum = np.bincount(grp, weights=w)
        zero = np.flatnonzero(wsum[grp] <= 0)  # parcels of free goods: split by quantity
        if len(zero):
            w[zero] = info["qty"][lsel[zero]]
            wsum = np.bincount(grp, weights=w)
        cw = np.cumsum(w)
        cw -= (cw[first] - w[first])[grp]
        del w
        cw /= wsum[grp]
        cum = np.floor(rules.to_cents(ships["declared_value_usd"].to_numpy(float))[ls] * cw
                       + 0.5).astype(np.int64)
        del cw, grp
        l_cents = cum.copy()
        l_cents[1:] -= cum[:-1]
        l_cents[first] = cum[first]
        del cum, first
        lp = info["l_prod"][lsel]
        l_qty = info["qty"][lsel]
        ikey = decl_of_ship[ls].astype(np.int64) * len(hs_ids) + p_hs[lp]
        del ls, lsel
        ii, uk = _dense_groups(ikey, nd * len(hs_ids))
        del ikey
        it = {
            "d": uk // len(hs_ids), "hs": uk % len(hs_ids),
            "quantity": np.bincount(ii, weights=l_qty).astype(np.int64),
            "fob_cents": np.rint(np.bincount(ii, weights=l_cents.astype(float))).astype(
                np.int64),
            "cost": np.bincount(ii, weights=l_qty * p_cost[lp])}
        del ii, lp, l_qty, l_cents
        filed = _add_months(d_month, 1) + rng.integers(2, 15, nd)  # by the 15th
        heads.append({
            "mode": "9610", "exporter": "trading_company", "store_id": st_ids[d_store],
            "contract_id": None, "warehouse_id": w_ids[d_wh],
            "export_port": _ports(w_city[d_wh], "air"), "transport_mode": "air",
            "destination_country": mk_vals[d_mk], "exported_from": d_from, "exported_to": d_to,
            "declared": np.where(filed <= end_day, filed, NAT), "n_shipments": n_ship,
            "rate_day": d_month})
        items.append(it)

    # ---- 9810: regular receipts at overseas / platform warehouses --------------------------
    rc = T["inbound_receipts"]
    r_wh = _fcodes(rc["warehouse_id"], w_ids)
    leg = np.nan_to_num(wh["first_leg_days"].astype("Float64").to_numpy(float, na_value=np.nan),
                        nan=30.0).astype(np.int64)
    over = (w_type != "domestic")[r_wh] & (_fcodes(rc["inbound_type"], ["regular"]) == 0)
    arr = _days(rc["arrival_date"])
    exp_day = np.maximum(arr - leg[r_wh] - RECEIVING_DAYS, _days(rc["ordered_date"]))
    sel = np.flatnonzero(over & (exp_day >= start_day) & (exp_day <= end_day))
    if len(sel):
        span = end_day - start_day + 1
        key = r_wh[sel] * span + (exp_day[sel] - start_day)
        rd, ukey = _dense_groups(key, len(w_ids) * span)
        r_prod = _fcodes(rc["product_id"], products["product_id"].to_numpy(object))
        q = rc["quantity"].to_numpy(np.int64)[sel]
        cost = q * rc["unit_cost_cny"].to_numpy(float)[sel]
        h = p_hs[r_prod[sel]]
        ii, uk = _dense_groups(rd * len(hs_ids) + h, len(ukey) * len(hs_ids))
        d_wh = ukey // span
        d_day = ukey % span + start_day
        it_cost = np.bincount(ii, weights=cost)
        it_d = uk // len(hs_ids)
        usd = fx.rate(np.full(len(uk), fx.usd), d_day[it_d])
        it = {
            "d": it_d, "hs": uk % len(hs_ids),
            "quantity": np.bincount(ii, weights=q).astype(np.int64),
            "fob_cents": rules.to_cents(it_cost * (1 + TRANSFER_MARKUP) / usd),
            "cost": it_cost}
        items.append(it)
        nd = len(ukey)
        first_leg = leg[d_wh]
        tmode = np.where(first_leg >= 15, "sea", "air")
        city = np.where(rng.random(nd) < 0.6, "Shenzhen", "Yiwu")
        heads.append({
            "mode": "9810", "exporter": "trading_company", "store_id": None,
            "contract_id": None, "warehouse_id": w_ids[d_wh],
            "export_port": _ports(city, tmode),
            "transport_mode": tmode, "destination_country": w_country[d_wh],
            "exported_from": d_day, "exported_to": d_day,
            "declared": d_day - rng.integers(0, 3, nd),
            "n_shipments": np.bincount(rd, minlength=nd), "rate_day": d_day})

    # ---- 9710 / 0110 / 1039: B2B contracts shipped (samples go by courier, undeclared) ----
    if con is not None:
        shipd = np.flatnonzero((con["shipped"] != NAT) & (con["shipped"] >= start_day)
                               & (con["shipped"] <= end_day) & ~con["sample"].astype(bool))
        if len(shipd):
            cc = {k: v[shipd] for k, v in con.items()}
            nd = len(shipd)
            ta, ot = cc["ta"].astype(bool), cc["one_touch"].astype(bool)
            small = np.isin(cc["category"], SMALL_COMMODITIES)
            mkt = ~ta & ~ot & small & (rng.random(nd) < MARKET_PROCUREMENT_SHARE)
            mode = np.where(mkt, "1039", np.where(ta, "9710", "0110"))
            day = cc["shipped"].astype(np.int64)
            items.append({
                "d": np.arange(nd), "hs": cc["hs"].astype(np.int64),
                "quantity": cc["quantity"].astype(np.int64),
                "fob_cents": rules.to_cents(cc["fob_usd"].astype(float)),
                "cost": cc["cost"].astype(float)})
            city = np.where(mkt | (rng.random(nd) < 0.4), "Yiwu", "Shenzhen")
            heads.append({
                "mode": mode, "exporter": np.where(ot, "one_touch_agency", "trading_company"),
                "store_id": st_ids[cc["store"]],
                "contract_id": cc["contract_id"], "warehouse_id": None,
                "export_port": _ports(city, "sea"), "transport_mode": "sea",
                "destination_country": cc["country"],
                "exported_from": day, "exported_to": day,
                "declared": day - rng.integers(0, 3, nd), "n_shipments": 1, "rate_day": day})

    # ---- 0110: the group factory's own OEM exports (免抵退 exporter) ---------------------
    fac = _factory_exports(ctx, rng, fx, p_hs, p_cost)
    if fac is not None:
        heads.append(fac[0])
        items.append(fac[1])
    if not heads:
        return None, None, None
    # number the declarations by export day; items reference their header
    offs, hids = 0, []
    for h, it in zip(heads, items, strict=True):
        hids.append(np.asarray(it["d"]) + offs)
        offs += len(h["exported_to"])
    H = _stack(heads, "exported_to")
    it = _stack(items, "d")
    for k in ("exported_from", "exported_to", "declared", "n_shipments", "rate_day"):
        H[k] = H[k].astype(np.int64, copy=False)
    it["quantity"] = it["quantity"].astype(np.int64, copy=False)
    order = np.lexsort((np.arange(offs), H["exported_to"]))
    H = {k: v[order] for k, v in H.items()}
    new_pos = np.empty(offs, np.int64)
    new_pos[order] = np.arange(offs)
    it_pos = new_pos[np.concatenate(hids)]
    # items ordered by FOB within a declaration (item 1 = main item)
    o_it = np.lexsort((-it["fob_cents"], it_pos))
    it = {k: v[o_it] for k, v in it.items()}
    pos = it_pos[o_it]
    n_it = len(pos)
    newd = np.ones(n_it, bool)
    newd[1:] = pos[1:] != pos[:-1]
    firsti = np.flatnonzero(newd)
    item_no = np.arange(n_it) - np.repeat(firsti, np.diff(np.append(firsti, n_it))) + 1
    rate_day = H["rate_day"]
    nd = offs
    usd_rate = fx.rate(np.full(nd, fx.usd), rate_day)
    fob_usd = it["fob_cents"] / 100.0
    fob_cny = rules.convert_to_cny(fob_usd, usd_rate[pos])
    did = _ids("EX", nd, width=7)
    items_df = pd.DataFrame({
        "declaration_id": did[pos], "item_no": item_no, "hs_code": hs_ids[it["hs"]],
        "quantity": it["quantity"], "fob_usd": fob_usd, "fob_cny": fob_cny})
    declared = H["declared"]
    head = pd.DataFrame({
        "declaration_id": did, "mode": H["mode"],
        "exporter": H["exporter"], "store_id": H["store_id"],
        "contract_id": H["contract_id"],
        "warehouse_id": H["warehouse_id"],
        "export_port": H["export_port"],
        "transport_mode": H["transport_mode"],
        "destination_country": H["destination_country"],
        "exported_from": _date(H["exported_from"]),
        "exported_to": _date(H["exported_to"]),
        "declared_date": _date(declared),
        "status": np.where(declared == NAT, "pending", "released"),
        "main_hs_code": hs_ids[it["hs"][firsti]],
        "n_items": np.bincount(pos, minlength=nd),
        "n_shipments": H["n_shipments"],
        "quantity": np.bincount(pos, weights=it["quantity"].astype(float), minlength=nd
                                ).astype(np.int64),
        "currency": "USD",
        "fob_usd": np.rint(np.bincount(pos, weights=it["fob_cents"].astype(float),
                                       minlength=nd)) / 100.0,
        "usd_cny_rate": usd_rate,
        "fob_cny": np.rint(np.bincount(pos, weights=rules.to_cents(fob_cny).astype(float),
                                       minlength=nd)) / 100.0,
    })
    extra = {"cost": it["cost"].astype(float), "pos": pos, "item_no": item_no,
             "hs": it["hs"], "fob_cny": fob_cny, "declared": declared}
    return head, items_df, extra


# ------------------------------------------------------------------------------------------
# export rebates
# ------------------------------------------------------------------------------------------

def _rebates(ctx: Context, rng: np.random.Generator, head, items, extra):
    end_day = int(ctx.end.value // NS_PER_DAY)
    hs = ctx.tables["hs_codes"]
    vat_all = hs["vat_rate"].to_numpy(float)
    reb_all = hs["export_rebate_rate"].to_numpy(float)
    pos, h = extra["pos"], extra["hs"]
    mode = head["mode"].to_numpy(object)[pos]
    exporter = head["exporter"].to_numpy(object)[pos]
    declared = extra["declared"][pos]
    # 1039 is exempt without refund; One Touch (the agent of record) claims its own exports
    ok = ((declared != NAT) & (mode != "1039") & (exporter != "one_touch_agency")
          & (reb_all[h] > 0))
    # claimed in the month after the declaration (a fifth wait another month for invoices)
    d_month = _month_first(np.where(declared == NAT, 0, declared))
    lag = np.where(rng.random(len(pos)) < 0.8, 1, 2)
    claim_month = np.where(lag == 1, _add_months(d_month, 1), _add_months(d_month, 2))
    is_mf = exporter == "manufacturer"
    # one filing day per exporter × month (10th–20th), approval 5–20 days later
    mnum = claim_month.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    m0 = int(mnum.min(initial=0))
    n_m = int(mnum.max(initial=0)) - m0 + 1
    file_off = rng.integers(9, 20, (2, n_m))
    appr_lag = rng.integers(5, 21, (2, n_m))
    batch = (is_mf.astype(np.int64), mnum - m0)
    claimed = claim_month + file_off[batch]
    ok &= claimed <= end_day
    sel = np.flatnonzero(ok)
    n = len(sel)
    vat = vat_all[h[sel]]
    true_rate = reb_all[h[sel]]
    rate = true_rate.copy()
    labels = []
    # planted: a tier other than the code's rebate rate (label wrong_rebate_rate)
    n_bad = max(1, round(WRONG_RATE_SHARE * n)) if n >= 10 else 0
    bad = np.zeros(0, np.int64)
    if n_bad:
        cand = rng.permutation(n)
        picked = []
        for i in cand:
            alt = [t for t in rules.EXPORT_REBATE_TIERS if 0 < t <= vat[i] and t != true_rate[i]]
            if alt:
                rate[i] = alt[int(rng.integers(len(alt)))]
                picked.append(i)
            if len(picked) == n_bad:
                break
        bad = np.sort(np.array(picked, np.int64))
    mf = is_mf[sel]
    fob = extra["fob_cny"][sel]
    invoice = np.where(mf, np.nan, rules.amount_excl_vat(extra["cost"][sel], vat))
    base = np.where(mf, fob, np.nan_to_num(invoice))
    refund = np.where(mf, rules.round_cents(fob * rate),
                      rules.export_rebate_exempt_refund(np.nan_to_num(invoice), rate))
    non_ref = rules.round_cents(base * (vat - rate))
    cm = claim_month[sel]
    cl = claimed[sel]
    approved = cl + appr_lag[batch[0][sel], batch[1][sel]]
    approved = np.where(approved <= end_day, approved, NAT)
    order = np.lexsort((extra["item_no"][sel], pos[sel], cl))
    mon = cm.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    yyyymm = (mon // 12 + 1970) * 100 + mon % 12 + 1
    claim_id = np.char.add(np.where(mf, "RCM", "RCT").astype("U3"), yyyymm.astype("U6"))
    did = head["declaration_id"].to_numpy(object)
    rid = _ids("RL", n, width=6)
    cols = {
        "claim_id": claim_id, "declaration_id": did[pos[sel]], "item_no": extra["item_no"][sel],
        "hs_code": hs["hs_code"].to_numpy(object)[h[sel]],
        "method": np.where(mf, "exempt_offset_refund", "exempt_refund"),
        "claim_month": _date(cm), "claimed_date": _date(cl), "fob_cny": fob,
        "invoice_amount_cny": invoice, "vat_rate": vat, "rebate_rate": rate,
        "rebate_amount_cny": refund, "non_refundable_cny": non_ref,
        "status": np.where(approved == NAT, "filed", "approved"),
        "approved_date": _date(approved),
    }
    out = pd.DataFrame({"rebate_line_id": rid, **{k: v[order] for k, v in cols.items()}})
    is_bad = np.isin(np.arange(n), bad)[order]
    if is_bad.any():
        b_hs = cols["hs_code"][order][is_bad]
        b_day = cols["claimed_date"][order][is_bad]
        true = reb_all[fast_codes(b_hs, hs["hs_code"].to_numpy(object))]
        labels.append(label_spec(
            "wrong_rebate_rate", "export_rebates", rid[is_bad],
            start=b_day, end=b_day,
            detail=[f"rebate rate {r:.0%} applied, {t:.0%} per hs_codes"
                    for r, t in zip(rate[order][is_bad], true, strict=True)]))
    periods = _rebate_periods(rng, mf[order], cm[order], fob[order], vat[order], rate[order])
    return out, periods, labels


def _rebate_periods(rng: np.random.Generator, is_mf: np.ndarray, claim_month: np.ndarray,
                    fob: np.ndarray, vat: np.ndarray, rate: np.ndarray) -> pd.DataFrame:
    """The factory's monthly 免抵退 computation (teaching values for domestic sales and
    input VAT), opening credit carried month to month. Arguments: the rebate lines' columns
    (manufacturer flag, claim month day, FOB CNY, VAT and rebate rates)."""
    mfi = np.flatnonzero(np.asarray(is_mf, bool))
    cols = [c.name for c in EXPORT_REBATE_PERIODS.columns]
    if not len(mfi):
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "month" else float)
                             for c in cols})
    cm = np.asarray(claim_month, np.int64)[mfi]
    months = np.arange(cm.min().astype("datetime64[D]").astype("datetime64[M]"),
                       cm.max().astype("datetime64[D]").astype("datetime64[M]") + 1)
    mdays = months.astype("datetime64[D]").astype(np.int64)
    fob_all = np.asarray(fob, float)[mfi]
    vat_all = np.asarray(vat, float)[mfi]
    reb_all = np.asarray(rate, float)[mfi]
    mean_fob = float(pd.Series(fob_all).sum()) / len(months)
    rows, credit = [], 0.0
    for m in mdays:  # a dozen months
        k = cm == m
        fob = fob_all[k]
        domestic = float(rules.round_cents(mean_fob * rng.uniform(0.15, 0.5)))
        # materials bought in the month (stock builds up some months, so input VAT can
        # exceed the refund limit and a credit is carried forward)
        materials = (fob.sum() + domestic) * rng.uniform(0.5, 1.3)
        out_vat = float(rules.round_cents(domestic * 0.13))
        in_vat = float(rules.round_cents(materials * 0.13))
        r = rules.export_rebate_exempt_offset_refund(fob, vat_all[k], reb_all[k], out_vat,
                                                     in_vat, credit)
        rows.append({"month": m, "fob_cny": float(rules.round_cents(fob.sum())),
                     "domestic_sales_cny": domestic, "output_vat_cny": out_vat,
                     "input_vat_cny": in_vat, "non_creditable_cny": r["non_creditable"],
                     "opening_credit_cny": credit, "vat_payable_cny": r["vat_payable"],
                     "closing_credit_cny": r["closing_credit"],
                     "refund_limit_cny": r["refund_limit"], "refund_cny": r["refund"],
                     "exempt_offset_cny": r["exempt_offset"],
                     "credit_carried_cny": r["credit_carried_forward"]})
        credit = r["credit_carried_forward"]
    out = pd.DataFrame(rows)
    out["month"] = _date(out["month"].to_numpy(np.int64))
    return out[cols]


# ------------------------------------------------------------------------------------------
# stage
# ------------------------------------------------------------------------------------------

@cache
def _provider_table() -> pd.DataFrame:
    """The ``payment_providers`` table (the same in every world; callers take a copy)."""
    from cbec_sim.catalog import catalog

    prov = pd.DataFrame(PROVIDERS, columns=["provider_id", "name", "provider_type",
                                            "modelled_on", "currencies",
                                            "withdrawal_fee_rate", "fx_spread"])
    every = "|".join(catalog().fx.index)  # "*": the bank takes every catalogue currency
    prov["currencies"] = prov["currencies"].replace("*", every)
    return prov


def _providers(ctx: Context, rng: np.random.Generator):
    prov = _provider_table().copy()
    stores = ctx.tables["stores"]
    cur = stores["currency"].astype(str).to_numpy(object)
    b2c = stores["model"].astype(str).to_numpy(object) == "B2C"
    choice = []
    for c, is_b2c in zip(cur, b2c, strict=True):  # a few dozen stores
        ok = [p[0] for p in PROVIDERS if p[2] == "collection_service" and c in p[4].split("|")]
        ok = ok if (ok and is_b2c) else [BANK_PROVIDER]
        choice.append(ok[int(rng.integers(len(ok)))])
    # small B2C stores collecting into the legal representative's personal account
    w = stores["size_weight"].to_numpy(float)
    small = b2c & (w <= np.quantile(w[b2c], 0.5)) if b2c.any() else b2c
    personal = np.flatnonzero(small & (rng.random(len(stores)) < PERSONAL_STORE_SHARE * 2))
    if b2c.sum() >= 4 and len(personal) == 0:
        personal = np.flatnonzero(b2c)[[int(np.argmin(np.where(b2c, w, np.inf)[b2c]))]]
    return prov, np.array(choice, dtype=object), personal[:2]


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    rng = ctx.rng("finance")
    fx = _Fx(ctx.tables["fx_rates"])
    providers, prov_of_store, personal = _providers(ctx, rng)
    settlements, lab_s, info = _settlements(ctx, rng, fx, prov_of_store)
    con = _contracts(ctx)
    rec, rec_extra = _receivables(ctx, con)
    fxs, lab_fx = _fx_settlements(ctx, rng, fx, settlements, rec, rec_extra, providers,
                                  personal)
    head, items, extra = _declarations(ctx, rng, fx, info, con)
    del info
    if head is None:  # nothing left China (a degenerate world)
        head, items = _empty(EXPORT_DECLARATIONS), _empty(DECLARATION_ITEMS)
        rebates, periods, lab_r = _empty(EXPORT_REBATES), _empty(EXPORT_REBATE_PERIODS), []
    else:
        rebates, periods, lab_r = _rebates(ctx, rng, head, items, extra)
    out = {"payment_providers": providers, "settlements": settlements, "fx_settlements": fxs,
           "export_declarations": head, "declaration_items": items, "export_rebates": rebates,
           "export_rebate_periods": periods}
    if rec is not None:
        out["receivables"] = rec
    else:
        out["receivables"] = _empty(RECEIVABLES)
    labels = lab_s + lab_fx + lab_r
    if labels:
        out["anomalies"] = label_frame(labels)
    return out
