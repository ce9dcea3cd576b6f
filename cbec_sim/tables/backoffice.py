"""Stage ``backoffice``: order procedure, refund approvals, reconciliation with HQ, agency
(代运营) providers and their monthly KPIs.

Covers the internal side of 5.17 (order procedure, invoices, reconciliation and settlement,
OPERATING-RULES §0.3 / 002 §3.20), 5.18 (refund approval by amount) and the agency-operation
policy of document 001 (OPERATING-RULES §2: choosing and assessing service providers).

Model (simulation parameters unless a source is named; every deadline lives in
:mod:`cbec_sim.rules`):

- *Back office*: in China (:data:`cbec_sim.rules.BACKOFFICE_TZ`), office hours 08:30–17:30
  Monday–Saturday (teaching hours; the working days are the source's). Staff
  are listed in ``backoffice_staff`` by id and role only (customer and staff data stay
  confidential, 002 §3.2).
- ``order_processing``: one row per paid, non-cancelled order of the **merchant-fulfilled**
  B2C stores of **one business unit** (事业部, §3.20 describes one): the brand with the most
  such orders. Merchant-fulfilled orders ship from the company's domestic warehouses;
  overseas- and platform-warehouse orders are fulfilled abroad, outside this procedure. One
  unit keeps the table at a fraction of the orders (≈ 15 % of a world's orders, ~13 MB at
  1M orders) while leaving thousands of rows per clerk for the exercises. The six §3.20
  steps are raw timestamps with the responsible clerk: SAP customer identification and DMS
  sales order (sales rep), delivery note (order administrator), invoice (finance clerk, in
  two invoicing runs a day), logistics handover (warehouse clerk) before the carrier's pickup
  ``shipments.shipped_at``, and the next-morning logistics report to the platform group (one
  report per warehouse clerk and ship day). Office-time delays are lognormal (slower for new
  customers, per clerk, in the Nov–Dec peak); shipments that slipped past the planned ship
  day were handed over late on the ship day. Steps not reached by the end of the period are
  empty. Lateness is **not** stored: it is the exercise
  (:func:`cbec_sim.rules.order_procedure_deadlines`,
  :func:`cbec_sim.rules.logistics_report_deadline`).
- ``refund_requests``: the OA refund flow (002 §3.20 4.5) for accepted returns
  (``returns.return_id``), lost or undeliverable parcels and orders cancelled after payment;
  required approver by amount in CNY (:func:`cbec_sim.rules.refund_approver`, 5000 yuan),
  the general manager deciding more slowly than store managers.
- ``reconciliation``: per B2C store and HQ settlement period (26th → 25th,
  :func:`cbec_sim.rules.hq_settlement_period_end`): the sales ledger (orders by China-local
  ship day, ``order_total``), refunds paid (``refund_requests.refunded_at``), the platform's
  settlements and bank receipts as recorded by the finance stage when present (empty
  otherwise), and when the internal statement went to HQ (due the first working day after the
  settlement point, applying §3.20's first-working-day rule to the monthly statement).
- ``agency_providers`` / ``agency_kpis``: fictitious providers, each operating one store, with
  a retainer + commission fee model; monthly KPIs along the three dimensions of 001 V1 Art.13
  (operating results, service quality, cost control). ``sales_cny`` and ``orders`` are the
  store's real orders; the other KPIs are the provider's monthly report and the company's
  survey, driven by a latent performance that drifts. Source 001 has **no numbers**: targets,
  scales and the weights in :data:`cbec_sim.rules.AGENCY_KPI_WEIGHTS` are invented teaching
  values.
- ``agency_b2b_kpis``: the B2B platform store(s) are run by B2B providers (appended to
  ``agency_providers`` with ``store_model = 'B2B'``); their monthly report counts the store's
  real inquiries (spam excluded), first replies within 24 h, RFQs seen and quoted, and contracts
  signed. 001 does not distinguish B2B from B2C: Art.10 (respond to inquiries promptly) and
  Art.13 (sales, conversion) apply to both; inquiry handling is the B2B form of customer service.

Planted and labelled: ``processing_sla_breach`` (one sales rep is systematically slow for two
weeks), ``late_logistics_report`` (one warehouse clerk sends the morning report late for two
weeks), ``refund_routing_violation`` (refunds ≥ 5000 CNY approved by a store manager),
``refund_before_approval`` (refund paid before the approval was recorded),
``refund_wrong_approver`` (approved by another store's manager; gives small worlds, which
rarely have refunds ≥ 5000 CNY, a routing case too),
``reconciliation_mismatch`` (the ledger double-books or omits an order, or misses a refund),
``agency_deteriorating`` / ``agency_improving`` (a provider's KPIs drift down / up),
``missing_confidentiality_agreement`` (a provider with data access never signed one, §3.2) and
``agency_report_overstated`` (a B2B provider reports a 24-hour reply rate at least 8 points above
what its inquiries show, in two months).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa

from cbec_sim import rules
from cbec_sim._rng import spawn
from cbec_sim.context import Context
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import (
    NS_PER_DAY,
    categorical,
    const_categorical,
    fast_ids,
    parent_index,
    take,
)
from cbec_sim.tables._util import codes as fast_codes
from cbec_sim.tables._util import ns as _ns
from cbec_sim.tables.labels import label_frame, label_spec

NAT = np.iinfo(np.int64).min
SEC = 10**9
MIN = 60 * SEC
HOUR = 3600 * SEC
OPEN = int(rules.BACKOFFICE_OPEN_HOUR * HOUR)
CLOSE = int(rules.BACKOFFICE_CLOSE_HOUR * HOUR)

ROLES = ("sales_rep", "order_admin", "finance_clerk", "warehouse_clerk",
         "ecommerce_specialist", "store_manager", "general_manager")
_ROLE_PREFIX = {"sales_rep": "SR", "order_admin": "OA", "finance_clerk": "FC",
                "warehouse_clerk": "WC", "ecommerce_specialist": "ES",
                "store_manager": "SM", "general_manager": "GM"}
REFUND_SOURCES = ("return", "lost_parcel", "undeliverable", "cancelled_after_payment")
REFUND_STATUSES = ("pending", "approved", "refunded")
APPROVERS = ("store_manager", "general_manager")
SERVICES = ("store_operation", "advertising", "content", "customer_service", "logistics")
#: Services of the B2B (e.g. Alibaba.com) store operators: inquiry handling and RFQ quoting
#: besides store operation and advertising (001 V1 Art.4, Art.8–10).
B2B_SERVICES = ("store_operation", "advertising", "inquiry_handling", "rfq_quoting")
MODELS = ("B2B", "B2C")
#: Fictitious provider names (any likeness to a real company is unintended).
_PROVIDERS = (
    ("Hangzhou Yunqi Cross-border Operations Co., Ltd.", "Hangzhou"),
    ("Shenzhen Haina E-commerce Services Co., Ltd.", "Shenzhen"),
    ("Guangzhou Lingyue Digital Trade Co., Ltd.", "Guangzhou"),
    ("Yiwu Hengtai Store Operations Co., Ltd.", "Yiwu"),
    ("Xiamen Bolan Brand Management Co., Ltd.", "Xiamen"),
    ("Ningbo Xingyuan E-commerce Agency Co., Ltd.", "Ningbo"),
)
_B2B_PROVIDERS = (
    ("Jinhua Tongyuan B2B Trade Services Co., Ltd.", "Jinhua"),
    ("Suzhou Qiaolian International Station Operations Co., Ltd.", "Suzhou"),
)
#: Months in which a B2B provider's report overstates its 24-hour reply rate (planted).
B2B_OVERSTATED_MONTHS = 2
#: Service bundles; bundles 0 and 4 are full service (given to the drifting providers).
_BUNDLES = (SERVICES, ("store_operation", "advertising", "content", "customer_service"),
            ("advertising", "content"), ("store_operation", "customer_service", "logistics"),
            SERVICES, ("store_operation", "advertising", "customer_service"))

BACKOFFICE_STAFF = register(TableSpec(
    name="backoffice_staff",
    grain="one back-office employee of the business unit",
    description="Staff of the order procedure, finance, warehouses and approvals, by id and "
                "role only (no personal data, 002 §3.2).",
    columns=(
        Column("staff_id", "str", "employee id (prefix = role)", unique=True),
        Column("role", "category", "job role", values=ROLES),
        Column("store_id", "str", "store managed (store managers)", nullable=True,
               references="stores.store_id"),
        Column("warehouse_id", "str", "warehouse worked in (warehouse clerks)", nullable=True,
               references="warehouses.warehouse_id"),
    ),
))

ORDER_PROCESSING = register(TableSpec(
    name="order_processing",
    grain="one paid, non-cancelled order of the merchant-fulfilled B2C stores of one "
          "business unit (事业部): the brand with the most such orders. Other brands' logs "
          "are not included; overseas- and platform-warehouse orders are not in this "
          "procedure",
    description="One business unit's internal order procedure (002 §3.20): raw step "
                "timestamps and the clerk responsible for each. The clock starts at "
                "orders.paid_at (rules.office_clock_start, China office hours Mon–Sat); "
                "deadlines: rules.order_procedure_deadlines and "
                "rules.logistics_report_deadline. Steps not reached by the end of the period "
                "are empty.",
    checks=("customer_identified_at ≤ dms_order_created_at ≤ delivery_note_at ≤ "
            "invoice_issued_at ≤ handed_to_logistics_at ≤ shipments.shipped_at < "
            "logistics_info_sent_at", "no step before orders.paid_at"),
    columns=(
        Column("order_id", "str", "order", unique=True, references="orders.order_id"),
        Column("store_id", "str", "store", references="stores.store_id"),
        Column("sales_rep_id", "category", "e-commerce sales rep: SAP identification and "
               "DMS order", references="backoffice_staff.staff_id"),
        Column("customer_identified_at", "timestamp", "customer identified (or created) in "
               "SAP", nullable=True),
        Column("dms_order_created_at", "timestamp", "sales order created in DMS",
               nullable=True),
        Column("order_admin_id", "category", "order administrator: stock check and delivery "
               "note", references="backoffice_staff.staff_id"),
        Column("delivery_note_at", "timestamp", "delivery note (发货单) generated",
               nullable=True),
        Column("finance_clerk_id", "category", "finance clerk issuing the invoice",
               references="backoffice_staff.staff_id"),
        Column("invoice_issued_at", "timestamp", "invoice (products + logistics) issued and "
               "handed to the warehouse", nullable=True),
        Column("warehouse_clerk_id", "category", "warehouse clerk: handover and logistics "
               "report", references="backoffice_staff.staff_id"),
        Column("handed_to_logistics_at", "timestamp", "parcel with invoice handed over for "
               "pickup (before shipments.shipped_at)", nullable=True),
        Column("logistics_info_sent_at", "timestamp", "the ship day's logistics data sent to "
               "the platform logistics group (one report per clerk and day)", nullable=True),
    ),
))

REFUND_REQUESTS = register(TableSpec(
    name="refund_requests",
    grain="one OA refund request (one accepted return, or one whole-order refund)",
    description="Refund approval workflow (002 §3.20 4.5): who raised the OA refund flow, the "
                "approver required by amount in CNY (rules.refund_approver: general manager "
                "from 5000 CNY), who actually approved and when, and when the refund was "
                "paid. Status as of the end of the period.",
    columns=(
        Column("refund_request_id", "str", "refund request id", unique=True),
        Column("return_id", "str", "return refunded (source = return)", nullable=True,
               references="returns.return_id"),
        Column("order_id", "str", "order", references="orders.order_id"),
        Column("store_id", "str", "store", references="stores.store_id"),
        Column("source", "category", "why the buyer is refunded", values=REFUND_SOURCES),
        Column("currency", "category", "order currency"),
        Column("refund_amount", "money", "amount refunded", unit="currency", ge=0),
        Column("refund_amount_cny", "money", "amount in CNY (returns.refund_amount_cny, or "
               "orders.order_total_cny for whole-order refunds)", unit="CNY", ge=0),
        Column("requested_at", "timestamp", "OA refund flow started"),
        Column("requested_by", "category", "sales rep who raised it",
               references="backoffice_staff.staff_id"),
        Column("required_approver", "category", "approver the amount requires "
               "(rules.refund_approver)", values=APPROVERS),
        Column("approver_role", "category", "role of who approved", values=APPROVERS,
               nullable=True),
        Column("approver_id", "category", "who approved", nullable=True,
               references="backoffice_staff.staff_id"),
        Column("decided_at", "timestamp", "approval recorded", nullable=True),
        Column("refunded_at", "timestamp", "refund paid to the buyer", nullable=True),
        Column("status", "category", "pending approval, approved, or refunded",
               values=REFUND_STATUSES),
    ),
))

RECONCILIATION = register(TableSpec(
    name="reconciliation",
    grain="one B2C store × HQ settlement period (26th of a month to the 25th of the next; "
          "the first period starts on the first day of the data)",
    description="Monthly internal reconciliation statement sent to HQ finance (002 §3.20 "
                "4.4). Ledger figures are as booked by the business unit: orders by their "
                "China-local ship day (orders.shipped_at), refunds by the day paid "
                "(refund_requests.refunded_at). Platform and bank figures come from the "
                "finance stage's settlements (by payout day) and FX settlements (by "
                "settlement day) when present, else empty. Differences are timing (sales not "
                "yet paid out), fees and refunds; some are not explained.",
    columns=(
        Column("recon_id", "str", "reconciliation id", unique=True),
        Column("store_id", "str", "store", references="stores.store_id"),
        Column("period_start", "date", "first day (China local)"),
        Column("period_end", "date", "settlement point: the 25th (rules.HQ_SETTLEMENT_DAY)"),
        Column("currency", "category", "store currency"),
        Column("ledger_orders", "int", "orders in the sales ledger", ge=0),
        Column("ledger_sales", "money", "Σ order_total of the ledger's orders",
               unit="currency", ge=0),
        Column("ledger_sales_cny", "money", "Σ order_total_cny of the ledger's orders",
               unit="CNY", ge=0),
        Column("ledger_refunds", "money", "Σ refunds paid in the period", unit="currency",
               ge=0),
        Column("ledger_refunds_cny", "money", "the same in CNY", unit="CNY", ge=0),
        Column("platform_gross_sales", "money", "gross sales of the platform settlements "
               "whose payout_date falls in the period", unit="currency", nullable=True),
        Column("platform_fees", "money", "referral, fulfilment, advertising and transaction "
               "fees of those settlements", unit="currency", nullable=True),
        Column("platform_refunds", "money", "refunds deducted in those settlements",
               unit="currency", nullable=True),
        Column("platform_reserve_net", "money", "reserve held − reserve released in those "
               "settlements", unit="currency", nullable=True),
        Column("platform_net_payout", "money", "net payout of those settlements (gross − fees "
               "− refunds − reserve_net)", unit="currency", nullable=True),
        Column("bank_received_cny", "money", "CNY credited (fx_settlements.cny_net) for the "
               "store's payouts converted in the period", unit="CNY", nullable=True),
        Column("reconciler_id", "category", "e-commerce specialist who prepared it",
               references="backoffice_staff.staff_id"),
        Column("statement_sent_at", "timestamp", "statement sent to HQ finance via OA "
               "(due the first working day after period_end)", nullable=True),
        Column("hq_confirmed_at", "timestamp", "HQ finance confirmed the settlement",
               nullable=True),
    ),
))

AGENCY_PROVIDERS = register(TableSpec(
    name="agency_providers",
    grain="one agency-operation (代运营) service provider under contract",
    description="Fictitious service providers operating stores for the company (document "
                "001): B2C stores and the B2B platform store(s). Fee model: monthly retainer + "
                "commission on the store's sales (B2B: contract value in CNY); fee levels are "
                "invented teaching values (001 gives none).",
    columns=(
        Column("provider_id", "str", "provider id", unique=True),
        Column("name", "str", "company name (fictitious)"),
        Column("city", "str", "seat of the provider"),
        Column("services", "str", "services contracted, `|`-separated from: "
               + ", ".join(dict.fromkeys(SERVICES + B2B_SERVICES))),
        Column("store_id", "str", "store it operates", unique=True,
               references="stores.store_id"),
        Column("monthly_retainer_cny", "money", "fixed monthly fee", unit="CNY", ge=0),
        Column("commission_pct", "rate", "commission on the store's monthly sales_cny",
               ge=0, le=1),
        Column("contract_start", "date", "first day of the contract"),
        Column("contract_end", "date", "last day of the contract"),
        Column("confidentiality_agreement", "bool", "signed a confidentiality agreement "
               "(002 §3.2: outsourcing suppliers must)"),
        Column("store_model", "category", "business model of the store it operates (B2B "
               "providers are assessed in `agency_b2b_kpis`, B2C ones in `agency_kpis`)",
               values=MODELS),
    ),
))

AGENCY_KPIS = register(TableSpec(
    name="agency_kpis",
    grain="one provider × calendar month of its contract within the period",
    description="Monthly assessment of each provider (001 V1 Art.13: operating results, "
                "service quality, cost control). sales_cny and orders are the store's real "
                "non-cancelled orders created in the month; the other KPIs are the provider's "
                "report and the company's buyer survey. Empty where the provider does not "
                "offer the service (advertising / customer_service). Weights for scoring: "
                "rules.AGENCY_KPI_WEIGHTS (invented teaching values).",
    columns=(
        Column("provider_id", "str", "provider", references="agency_providers.provider_id"),
        Column("month", "date", "first day of the month"),
        Column("store_id", "str", "store operated", references="stores.store_id"),
        Column("orders", "int", "non-cancelled orders created in the month (UTC)", ge=0),
        Column("sales_cny", "money", "Σ orders.order_total_cny of those orders", unit="CNY",
               ge=0),
        Column("sales_target_cny", "money", "agreed sales target", unit="CNY", ge=0),
        Column("conversion_rate", "rate", "conversion rate of the traffic it manages, as "
               "reported", ge=0, le=1),
        Column("csat_score", "float", "buyer satisfaction survey, mean of 1–5",
               nullable=True, ge=1, le=5),
        Column("avg_response_minutes", "float", "mean first response to buyer messages",
               unit="min", nullable=True, ge=0),
        Column("complaints", "int", "buyer complaints about its service", ge=0),
        Column("compliance_incidents", "int", "platform-rule or policy violations "
               "(e.g. misleading listings, 001 V3 Art.12)", ge=0),
        Column("ad_budget_cny", "money", "advertising budget", unit="CNY", nullable=True,
               ge=0),
        Column("ad_spend_cny", "money", "advertising spent", unit="CNY", nullable=True, ge=0),
        Column("ad_sales_cny", "money", "sales attributed to its ads (ROAS = ad_sales ÷ "
               "ad_spend)", unit="CNY", nullable=True, ge=0),
        Column("operating_budget_cny", "money", "agreed operating budget (excl. ads)",
               unit="CNY", ge=0),
        Column("operating_cost_cny", "money", "operating cost incurred (excl. ads)",
               unit="CNY", ge=0),
        Column("fee_invoiced_cny", "money", "fee invoiced: monthly_retainer_cny + "
               "commission_pct × sales_cny", unit="CNY", ge=0),
    ),
))


AGENCY_B2B_KPIS = register(TableSpec(
    name="agency_b2b_kpis",
    grain="one B2B provider × calendar month of its contract within the period",
    description="Monthly report of each B2B agency provider (001 V1 Art.7, Art.10 respond to "
                "inquiries promptly, Art.13 operating results). Counts come from the store's "
                "real `inquiries`, `rfqs` and `contracts` created in the month (UTC), spam "
                "inquiries (`flagged_spam`) excluded; `reported_reply_rate_24h` is the rate the "
                "provider reports, to be checked against the data (reply target: first reply "
                "within `rules.INQUIRY_REPLY_SLA_HOURS`). Fee: monthly_retainer_cny + "
                "commission_pct × contract_value_cny (invented teaching values).",
    columns=(
        Column("provider_id", "str", "provider", references="agency_providers.provider_id"),
        Column("month", "date", "first day of the month"),
        Column("store_id", "str", "B2B store operated", references="stores.store_id"),
        Column("inquiries", "int", "inquiries received in the month, spam excluded", ge=0),
        Column("replied_24h", "int", "of those, first reply within 24 hours", ge=0),
        Column("reported_reply_rate_24h", "rate", "24-hour reply rate as reported by the "
               "provider (empty when no inquiries)", nullable=True, ge=0, le=1),
        Column("rfqs_seen", "int", "RFQs posted in the month that the store saw", ge=0),
        Column("rfqs_quoted", "int", "of those, quoted by the store", ge=0),
        Column("contracts", "int", "contracts signed in the month", ge=0),
        Column("contract_value_usd", "money", "Σ contracts.total_usd of those contracts",
               unit="USD", ge=0),
        Column("contract_value_cny", "money", "contract_value_usd × the reference USD rate",
               unit="CNY", ge=0),
        Column("fee_invoiced_cny", "money", "fee invoiced: monthly_retainer_cny + "
               "commission_pct × contract_value_cny", unit="CNY", ge=0),
    ),
))


# ---- helpers -----------------------------------------------------------------------------

def _used_categories(labels: np.ndarray, idx: np.ndarray) -> pd.Categorical:
    """``pd.Categorical(labels[idx])`` for a short array of text labels (no missing values)
    picked by a long index: categories are the labels used, sorted."""
    labels = np.asarray(labels, dtype=object)
    if pd.isna(labels).any():  # missing labels: pandas' own inference
        return pd.Categorical(labels[idx])
    uniq, inv = np.unique(labels, return_inverse=True)
    code = inv[idx]
    used = np.unique(code)
    return pd.Categorical.from_codes(np.searchsorted(used, code), categories=uniq[used])


def _utc(ns_arr: np.ndarray) -> pd.DatetimeIndex:
    """UTC timestamps from int64 ns (NAT → NaT); localising a naive index is the fast way."""
    return pd.DatetimeIndex(np.asarray(ns_arr, np.int64).view("datetime64[ns]")).tz_localize(
        "UTC")


def _tz_offset(ctx: Context, tz: str) -> int | None:
    """UTC offset (ns) of ``tz`` if constant around the period (no DST), else None."""
    return _tz_offset_between(ctx.start, ctx.end, tz)


@cache
def _tz_offset_between(start: pd.Timestamp, end: pd.Timestamp, tz: str) -> int | None:
    """:func:`_tz_offset` for a period (cached: the same for every world of that period)."""
    days = pd.date_range(start - pd.Timedelta(days=40), end + pd.Timedelta(days=120),
                         freq="7D").as_unit("ns")
    loc = days.tz_localize(tz)
    offs = np.unique((loc.tz_localize(None) - loc.tz_convert("UTC").tz_localize(None))
                     .as_unit("ns").asi8)
    return int(offs[0]) if len(offs) == 1 else None


class _Clock:
    """UTC ↔ back-office local time (constant offset fast path), NaT-preserving."""

    def __init__(self, ctx: Context):
        self.tz = rules.BACKOFFICE_TZ
        self.off = _tz_offset(ctx, self.tz)

    def local(self, utc: np.ndarray) -> np.ndarray:
        utc = np.asarray(utc, np.int64)
        if self.off is not None:
            return np.where(utc == NAT, NAT, utc + self.off)
        idx = pd.DatetimeIndex(utc.view("datetime64[ns]")).tz_localize("UTC")
        return idx.tz_convert(self.tz).tz_localize(None).asi8

    def utc(self, local: np.ndarray) -> np.ndarray:
        local = np.asarray(local, np.int64)
        if self.off is not None:
            return np.where(local == NAT, NAT, local - self.off)
        idx = pd.DatetimeIndex(local.view("datetime64[ns]"))
        return idx.tz_localize(self.tz, ambiguous="NaT",
                               nonexistent="shift_forward").tz_convert("UTC").asi8


def _office(local_ns: np.ndarray) -> np.ndarray:
    return rules.office_ns(local_ns.view("datetime64[ns]"))


def _from_office(w: np.ndarray) -> np.ndarray:
    return rules.from_office_ns(w).view(np.int64)


def _day_office(day: np.ndarray) -> np.ndarray:
    """Office ns at the opening of each day (local midnights), via a table of the days.

    Days that are not working days map to the next opening (callers pass working days)."""
    if not len(day):
        return np.zeros(0, np.int64)
    lo = int(day.min()) // NS_PER_DAY * NS_PER_DAY
    k = (day - lo) // NS_PER_DAY
    table = _office(lo + np.arange(int(k.max()) + 1, dtype=np.int64) * NS_PER_DAY + OPEN)
    return table[k]


def _day64(utc_ns: np.ndarray) -> np.ndarray:
    """UTC calendar day of timestamps, as ``datetime64[ns]`` (for label start / end)."""
    return (utc_ns // NS_PER_DAY * NS_PER_DAY).view("datetime64[ns]")


def _label(kind: str, table: str, entity_ids, *, store_id=None, start=None, end=None,
           detail=None) -> dict:
    """One batch of label rows for :func:`labels.label_frame`; days as ``datetime64[ns]``."""
    ids = np.asarray(entity_ids, dtype=object).reshape(-1)
    n = len(ids)

    def day(v):
        if v is None:
            return np.full(n, NAT).view("datetime64[ns]")
        return np.broadcast_to(np.asarray(v, dtype="datetime64[ns]"), (n,))

    return label_spec(kind, table, ids, store_id=store_id, start=day(start), end=day(end),
                      detail=detail)


def _floor_s(t: np.ndarray) -> np.ndarray:
    """Whole seconds (as stored), keeping missing values missing."""
    return np.where(t == NAT, NAT, t // SEC * SEC)


def _minutes(rng, median, sigma, n) -> np.ndarray:
    """Lognormal durations with the given median (float32 normals: fast, ample precision)."""
    return median * np.exp(sigma * rng.standard_normal(n, dtype=np.float32))


def _staff_ids(role: str, n: int) -> list[str]:
    return [f"{_ROLE_PREFIX[role]}{i + 1:03d}" for i in range(n)]


def _peak(ctx: Context, utc_ns: np.ndarray) -> np.ndarray:
    """Orders paid 20 Nov – 20 Dec (the year-end peak slows the office down)."""
    out = np.zeros(len(utc_ns), bool)
    for y in range(ctx.start.year - 1, ctx.end.year + 2):
        lo, hi = pd.Timestamp(y, 11, 20).value, pd.Timestamp(y, 12, 21).value
        out |= (utc_ns >= lo) & (utc_ns < hi)
    return out


# ---- staff -------------------------------------------------------------------------------

def _staff(ctx: Context, rng, n_b2c_orders: int, n_proc: int, b2c: np.ndarray,
           store_ids: np.ndarray, share: np.ndarray, dom_wh: list[str], wh_load: np.ndarray):
    """Staff table and the sales-rep teams of the stores."""
    n_rep = int(np.clip(round(n_b2c_orders / 25_000), 3, 40))
    n_adm = int(np.clip(round(n_proc / 60_000), 2, 12))
    n_fin = int(np.clip(round(n_proc / 150_000), 2, 6))
    n_wc = [int(np.clip(round(x / 80_000), 1, 6)) for x in wh_load]
    b2c_idx = np.flatnonzero(b2c)
    rows = ([("sales_rep", s, None, None) for s in _staff_ids("sales_rep", n_rep)]
            + [("order_admin", s, None, None) for s in _staff_ids("order_admin", n_adm)]
            + [("finance_clerk", s, None, None) for s in _staff_ids("finance_clerk", n_fin)])
    wc_ids = _staff_ids("warehouse_clerk", sum(n_wc))
    wc_wh = np.repeat(np.arange(len(dom_wh)), n_wc)
    rows += [("warehouse_clerk", s, None, dom_wh[w]) for s, w in zip(wc_ids, wc_wh,
                                                                     strict=True)]
    rows += [("ecommerce_specialist", s, None, None)
             for s in _staff_ids("ecommerce_specialist", 2)]
    sm_ids = _staff_ids("store_manager", len(b2c_idx))
    rows += [("store_manager", s, store_ids[i], None) for s, i in zip(sm_ids, b2c_idx,
                                                                      strict=True)]
    rows += [("general_manager", "GM001", None, None)]
    role, staff_id, store_id, warehouse_id = (list(c) for c in zip(*rows, strict=True))
    staff = pd.DataFrame({"staff_id": staff_id, "role": pd.Categorical(role, categories=ROLES),
                          "store_id": store_id, "warehouse_id": warehouse_id})
    # sales-rep teams: each B2C store gets reps in proportion to its orders
    members = np.zeros((len(store_ids), n_rep), np.int64)
    size = np.zeros(len(store_ids), np.int64)
    for i in b2c_idx:
        k = int(np.clip(round(n_rep * share[i] * 1.5), 1, n_rep))
        members[i, :k] = rng.choice(n_rep, k, replace=False)
        size[i] = k
    sm_of_store = np.full(len(store_ids), -1)
    sm_of_store[b2c_idx] = np.arange(len(b2c_idx))
    return staff, {
        "n_rep": n_rep, "n_adm": n_adm, "n_fin": n_fin, "wc_wh": wc_wh,
        "members": members, "team_size": size,
        "sm_of_store": sm_of_store,
        "rep_ids": _staff_ids("sales_rep", n_rep), "adm_ids": _staff_ids("order_admin", n_adm),
        "fin_ids": _staff_ids("finance_clerk", n_fin), "wc_ids": wc_ids, "sm_ids": sm_ids,
        "es_ids": _staff_ids("ecommerce_specialist", 2),
    }


def _pick_rep(rng, team: dict, store_code: np.ndarray) -> np.ndarray:
    """A sales rep of each row's store team (uniform within the team)."""
    pos = (rng.random(len(store_code)) * team["team_size"][store_code]).astype(np.int64)
    return team["members"][store_code, pos]


# ---- order processing ----------------------------------------------------------------------

def _order_processing(ctx: Context, rng, clock: _Clock, team: dict, o_store: np.ndarray,
                      sel: np.ndarray, ship_o: np.ndarray, wh_sel: np.ndarray, snap: int,
                      labels: list) -> pd.DataFrame:
    orders = ctx.tables["orders"]
    stores = ctx.tables["stores"]
    n = len(sel)
    start_local = ctx.start.value  # naive local midnight of the first day
    horizon = ctx.n_days + 60

    paid_utc = _ns(orders["paid_at"])[sel]
    paid = clock.local(paid_utc)
    w0 = _office(paid)
    planned = rules.planned_ship_date(paid.view("datetime64[ns]")).view(np.int64)
    new_cust = ~orders["is_repeat"].to_numpy(bool)[sel]
    peak = np.where(_peak(ctx, paid_utc), 1.25, 1.0)
    store_code = o_store[sel]
    rep = _pick_rep(rng, team, store_code)
    adm = rng.integers(0, team["n_adm"], n)
    fin = rng.integers(0, team["n_fin"], n)
    # warehouse clerk among the clerks of the order's warehouse
    wc_wh = team["wc_wh"]
    first_wc = np.searchsorted(wc_wh, np.arange(wc_wh.max() + 1 if len(wc_wh) else 1))
    n_wc_wh = np.bincount(wc_wh, minlength=len(first_wc))
    wc = first_wc[wh_sel] + (rng.random(n) * n_wc_wh[wh_sel]).astype(np.int64)

    sp_rep = np.exp(0.12 * rng.standard_normal(team["n_rep"]))
    sp_adm = np.exp(0.12 * rng.standard_normal(team["n_adm"]))
    sp_wc = np.exp(0.15 * rng.standard_normal(len(wc_wh)))
    # arrived outside office hours (the clock starts later): waits in the morning queue
    queued = _from_office(w0) != paid
    queue = np.where(queued, rng.exponential(3.0, n), 0.0)
    d1 = _minutes(rng, np.where(new_cust, 6.0, 4.0), 0.45, n) * sp_rep[rep] * peak
    d2 = _minutes(rng, 7.0, 0.45, n) * sp_rep[rep] * peak
    d3 = _minutes(rng, 14.0, 0.55, n) * sp_adm[adm] * peak

    # planted: one sales rep is systematically slow for two weeks (Mon–Sat)
    paid_day = (paid - start_local) // NS_PER_DAY
    cand_days = max(ctx.n_days - 60, 15)
    d0 = int(rng.integers(min(30, cand_days - 14), cand_days))
    d0 -= int((ctx.start + pd.Timedelta(days=d0)).weekday())  # a Monday
    d0 = max(d0, 0)
    win = (paid_day >= d0) & (paid_day < d0 + 14)
    load = np.bincount(rep[win], minlength=team["n_rep"])
    bad_rep = int(np.argmax(load * rng.uniform(0.8, 1.2, team["n_rep"])))
    slow = win & (rep == bad_rep)
    k = int(slow.sum())
    d1[slow] *= rng.uniform(4.0, 7.0, k)
    d2[slow] *= rng.uniform(2.5, 4.0, k)
    labels.append(_label(
        "processing_sla_breach", "order_processing", [team["rep_ids"][bad_rep]],
        start=ctx.start + pd.Timedelta(days=d0), end=ctx.start + pd.Timedelta(days=d0 + 13),
        detail=f"sales rep slow for two weeks: SAP identification and DMS order take 4–7× / "
               f"2.5–4× longer than usual ({k} orders paid in the window; most miss the 15- "
               f"and 30-minute clocks)"))

    w1 = w0 + ((queue + d1) * MIN).astype(np.int64)
    w2 = w1 + (d2 * MIN).astype(np.int64)
    w3 = w2 + (d3 * MIN).astype(np.int64)
    del d1, d2, d3, queue, queued

    # invoices: two runs per finance clerk and day (~11:00 and ~14:00), a few slip late
    n_fin = team["n_fin"]
    run1 = rng.uniform(10.75, 11.75, (n_fin, horizon))
    run2 = rng.uniform(13.75, 14.75, (n_fin, horizon))
    slip = rng.random((n_fin, horizon)) < 0.02
    run2[slip] = rng.uniform(15.1, 16.75, int(slip.sum()))
    pday = np.clip((planned - start_local) // NS_PER_DAY, 0, horizon - 1)
    p_open = _day_office(planned)  # planned ship days are working days
    r1 = p_open + ((run1[fin, pday] - rules.BACKOFFICE_OPEN_HOUR) * HOUR).astype(np.int64)
    r2 = p_open + ((run2[fin, pday] - rules.BACKOFFICE_OPEN_HOUR) * HOUR).astype(np.int64)
    del p_open
    ready = w3 + (_minutes(rng, 6.0, 0.5, n) * MIN).astype(np.int64)
    within = (rng.uniform(1.0, 25.0, n) * MIN).astype(np.int64)  # place in the run
    w4 = np.where(ready <= r1, r1 + within, r2 + within)
    adhoc = np.flatnonzero(ready > r2)  # after the day's runs: issued on its own
    w4[adhoc] = ready[adhoc] + (_minutes(rng, 12.0, 0.5, len(adhoc)) * MIN).astype(np.int64)
    del r1, r2, ready, within, run1, run2, adhoc
    w5 = w4 + (_minutes(rng, 22.0, 0.6, n) * sp_wc[wc] * MIN).astype(np.int64)

    # handover must precede the carrier's pickup; slipped shipments are handed over late
    pick_utc = ship_o[sel]
    shipped = pick_utc != NAT
    pick = clock.local(pick_utc)
    ship_day = np.where(shipped, pick // NS_PER_DAY * NS_PER_DAY, 0)
    cap = np.minimum(pick - (rng.uniform(4.0, 30.0, n) * MIN).astype(np.int64),
                     ship_day + CLOSE)
    day_open = _day_office(ship_day)
    wc_cap = np.where(shipped, day_open + np.clip(cap - ship_day - OPEN, 0, CLOSE - OPEN)
                      - MIN, 0)
    slipped = shipped & (ship_day > planned)
    late_h = day_open + (rng.uniform(0.1, 0.9, n) * (wc_cap - day_open)).astype(np.int64)
    w5 = np.where(slipped, np.maximum(late_h, w4 + MIN), w5)
    over = shipped & (w5 > wc_cap)
    if over.any():  # rush: squeeze the chain into the time left before pickup
        f = np.clip((wc_cap[over] - w0[over]) / np.maximum(w5[over] - w0[over], 1), 0, 1)
        for w in (w1, w2, w3, w4, w5):
            w[over] = w0[over] + ((w[over] - w0[over]) * f).astype(np.int64)
    del late_h, day_open, wc_cap, cap, slipped, over

    steps = []
    for w in (w1, w2, w3, w4, w5):
        t = clock.utc(_from_office(w)) // SEC * SEC
        steps.append(t)
    del w1, w2, w3, w4, w5
    # final guards (whole seconds): steps never run backwards and end before pickup
    steps[4] = np.where(shipped, np.minimum(steps[4], pick_utc - SEC), NAT)
    for j in range(3, -1, -1):
        steps[j] = np.minimum(steps[j], np.where(steps[j + 1] == NAT, steps[j], steps[j + 1]))
    steps = [np.where(t < snap, t, NAT) for t in steps]

    # morning logistics report: one per warehouse clerk and ship day
    n_wc = len(wc_wh)
    rep_h = rng.uniform(8.55, 8.98, (n_wc, horizon))
    late_r = rng.random((n_wc, horizon)) < 0.03
    rep_h[late_r] = rng.uniform(9.05, 11.5, int(late_r.sum()))
    sday = np.clip((ship_day - start_local) // NS_PER_DAY, 0, horizon - 1)
    s_load = np.bincount(wc[shipped], minlength=n_wc)
    bad_wc = int(np.argmax(s_load * rng.uniform(0.8, 1.2, n_wc)))
    r0 = int(rng.integers(min(20, cand_days - 14), cand_days))
    r0 -= int((ctx.start + pd.Timedelta(days=r0)).weekday())
    r0 = max(r0, 0)
    rep_h[bad_wc, r0:r0 + 14] = rng.uniform(9.6, 14.0, len(rep_h[bad_wc, r0:r0 + 14]))
    labels.append(_label(
        "late_logistics_report", "order_processing", [team["wc_ids"][bad_wc]],
        start=ctx.start + pd.Timedelta(days=r0), end=ctx.start + pd.Timedelta(days=r0 + 13),
        detail="warehouse clerk sends the previous day's logistics data after 09:00 every "
               "working day for two weeks (ship days in this window)"))
    nxt = rules.next_working_day(ship_day.view("datetime64[ns]")).view(np.int64)
    report = clock.utc(nxt + (rep_h[wc, sday] * HOUR).astype(np.int64)) // SEC * SEC
    report = np.where(shipped & (report < snap), report, NAT)
    del rep_h, late_r, nxt, sday, ship_day, pick, paid, w0

    return pd.DataFrame({
        "order_id": take(orders["order_id"], sel),
        "store_id": take(stores["store_id"], store_code),
        "sales_rep_id": categorical(rep, team["rep_ids"]),
        "customer_identified_at": _utc(steps[0]),
        "dms_order_created_at": _utc(steps[1]),
        "order_admin_id": categorical(adm, team["adm_ids"]),
        "delivery_note_at": _utc(steps[2]),
        "finance_clerk_id": categorical(fin, team["fin_ids"]),
        "invoice_issued_at": _utc(steps[3]),
        "warehouse_clerk_id": categorical(wc, team["wc_ids"]),
        "handed_to_logistics_at": _utc(steps[4]),
        "logistics_info_sent_at": _utc(report),
    })


# ---- refund requests -----------------------------------------------------------------------

def _refund_requests(ctx: Context, rng, team: dict, o_store: np.ndarray, s_oi: np.ndarray,
                     snap: int, labels: list) -> pd.DataFrame:
    orders = ctx.tables["orders"]
    stores = ctx.tables["stores"]
    rets = ctx.tables.get("returns")
    ships = ctx.tables["shipments"]
    o_ids = pa.array(orders["order_id"])
    # per source: order ids, store, return row (-1), source, start, amount, CNY, paid at
    parts = []
    if rets is not None and len(rets):
        st = fast_codes(rets["status"], ("requested", "approved", "rejected", "refunded"))
        ri = np.flatnonzero((st == 1) | (st == 3))
        parts.append((pa.array(rets["order_id"]).take(pa.array(ri)),
                      fast_codes(rets["store_id"], stores["store_id"])[ri], ri,
                      np.zeros(len(ri), np.int64), _ns(rets["decided_at"])[ri],
                      rets["refund_amount"].to_numpy(float)[ri],
                      rets["refund_amount_cny"].to_numpy(float)[ri],
                      _ns(rets["refunded_at"])[ri]))
    sst = fast_codes(ships["status"], ("in_transit", "delivered", "lost", "undeliverable"))
    closed = _ns(ships["closed_at"])
    si = np.flatnonzero((sst >= 2) & (closed != NAT))
    total = orders["order_total"].to_numpy(float)
    total_cny = orders["order_total_cny"].to_numpy(float)
    canc = _ns(orders["cancelled_at"])
    reason = fast_codes(orders["cancel_reason"], ("payment_failed",))
    ci = np.flatnonzero((canc != NAT) & (_ns(orders["paid_at"]) != NAT) & (reason != 0))
    for oi, source, t in ((s_oi[si], np.where(sst[si] == 2, 1, 2), closed[si]),
                          (ci, np.full(len(ci), 3), canc[ci])):
        parts.append((o_ids.take(pa.array(oi)), o_store[oi], np.full(len(oi), -1), source, t,
                      total[oi], total_cny[oi], np.full(len(oi), NAT)))
    oid = pa.concat_arrays([p[0] for p in parts])
    store_code, ri, src, t0, amt, amt_cny, ref = (
        np.concatenate(x) for x in list(zip(*parts, strict=True))[1:])
    n = len(ri)
    req_gm = rules.refund_approver(amt_cny) == "general_manager"
    b_med = np.where(req_gm, 26.0, 5.0)  # hours the approver takes (general manager slower)

    # return refunds: OA flow between the return decision and the payment
    is_ret = src == 0
    paid_ret = is_ret & (ref != NAT)
    window = np.where(paid_ret, ref - t0, 0)
    a = np.minimum(_minutes(rng, 3.0, 0.6, n) * HOUR, 0.3 * window).astype(np.int64)
    approved = np.where(paid_ret, ref - a, NAT)
    b = np.minimum(_minutes(rng, b_med, 0.6, n) * HOUR,
                   0.5 * np.maximum(approved - t0, 0)).astype(np.int64)
    requested = np.where(paid_ret, approved - b, NAT)
    # returns approved but not refunded yet, and whole-order refunds
    other = ~paid_ret
    lag = np.where(is_ret, _minutes(rng, 12.0, 0.8, n),
                   np.where(src == 3, _minutes(rng, 2.0, 0.7, n), _minutes(rng, 20.0, 0.7, n)))
    requested = np.where(other, t0 + (lag * HOUR).astype(np.int64), requested)
    approved = np.where(other, requested + (_minutes(rng, b_med, 0.6, n) * HOUR).astype(
        np.int64), approved)
    ref = np.where(other & ~is_ret, approved + (_minutes(rng, 18.0, 0.6, n) * HOUR).astype(
        np.int64), ref)
    requested, approved, ref = (_floor_s(x) for x in (requested, approved, ref))
    keep = np.flatnonzero(requested < snap)
    keep = keep[np.argsort(requested[keep], kind="stable")]
    store_code, ri, src, amt, amt_cny, ref, requested, approved, req_gm = (
        x[keep] for x in (store_code, ri, src, amt, amt_cny, ref, requested, approved, req_gm))
    oid = oid.take(pa.array(keep))
    n = len(ri)
    decided = np.where(approved < snap, approved, NAT)
    ref = np.where((decided != NAT) & (ref != NAT) & (ref < snap), ref, NAT)
    status = np.where(decided == NAT, 0, np.where(ref == NAT, 1, 2))
    role = req_gm.astype(np.int64)  # 0 store manager, 1 general manager
    ids = fast_ids("RF", n, width=max(7, len(str(n))))

    # planted: refunds ≥ 5000 CNY approved by the store manager (routing violation)
    gm_rows = np.flatnonzero(req_gm & (decided != NAT))
    k = min(len(gm_rows), max(1, round(0.2 * len(gm_rows))))
    viol = np.sort(rng.choice(gm_rows, k, replace=False)) if k else np.zeros(0, np.int64)
    role[viol] = 0
    if k:  # the store manager decides at their usual pace, inside the same window
        quick = (_minutes(rng, 5.0, 0.6, k) * HOUR).astype(np.int64)
        decided[viol] = np.minimum(requested[viol] + quick, decided[viol]) // SEC * SEC
    # planted: refund paid before the approval was recorded (back-dated approval)
    cand = np.flatnonzero((status == 2) & ~np.isin(np.arange(n), viol)
                          & (ref + 3 * NS_PER_DAY < snap))
    k2 = min(len(cand), max(2, round(0.004 * n)))
    early = np.sort(rng.choice(cand, k2, replace=False)) if k2 else np.zeros(0, np.int64)
    decided[early] = (ref[early] + (rng.uniform(2.0, 72.0, k2) * HOUR).astype(np.int64)
                      ) // SEC * SEC

    approver = np.where(role == 1, len(team["sm_ids"]), team["sm_of_store"][store_code])
    approver = np.where(decided == NAT, -1, approver)
    # planted: approved by the manager of another store (wrong approval path, any amount)
    n_sm = len(team["sm_ids"])
    cand = np.flatnonzero((decided != NAT) & (role == 0) & ~req_gm
                          & ~np.isin(np.arange(n), np.concatenate([viol, early])))
    k3 = min(len(cand), max(2, round(0.002 * n))) if n_sm > 1 else 0
    other_sm = np.sort(rng.choice(cand, k3, replace=False)) if k3 else np.zeros(0, np.int64)
    approver[other_sm] = (approver[other_sm] + rng.integers(1, max(n_sm, 2), k3)) % max(n_sm, 1)
    rep = _pick_rep(rng, team, store_code)

    def ent(rows):
        return pa.array(ids).take(pa.array(rows)).to_numpy(zero_copy_only=False)

    store_ids = stores["store_id"].to_numpy(object)
    if k:
        labels.append(_label(
            "refund_routing_violation", "refund_requests", ent(viol),
            store_id=store_ids[store_code[viol]],
            start=_day64(decided[viol]), end=_day64(decided[viol]),
            detail="refund of 5000 CNY or more approved by the store manager instead of the "
                   "general manager (rules.refund_approver)"))
    if k2:
        labels.append(_label(
            "refund_before_approval", "refund_requests", ent(early),
            store_id=store_ids[store_code[early]],
            start=_day64(ref[early]), end=_day64(decided[early]),
            detail="refund paid to the buyer before the approval was recorded (approval "
                   "back-filled 2–72 hours later)"))
    if k3:
        labels.append(_label(
            "refund_wrong_approver", "refund_requests", ent(other_sm),
            store_id=store_ids[store_code[other_sm]], start=_day64(decided[other_sm]),
            end=_day64(decided[other_sm]),
            detail="refund approved by the manager of another store, not the store's own "
                   "approver"))
    ret_ids = take(rets["return_id"], np.where(ri >= 0, ri, -1)) if rets is not None \
        else pd.Series(pd.array([None] * n, dtype="str"))
    return pd.DataFrame({
        "refund_request_id": ids,
        "return_id": ret_ids,
        "order_id": take(oid, np.arange(n)),
        "store_id": take(stores["store_id"], store_code),
        "source": const_categorical(src, REFUND_SOURCES),
        "currency": _used_categories(stores["currency"].astype(str).to_numpy(), store_code),
        "refund_amount": amt, "refund_amount_cny": amt_cny,
        "requested_at": _utc(requested),
        "requested_by": categorical(rep, team["rep_ids"]),
        "required_approver": const_categorical(req_gm.astype(np.int64), APPROVERS),
        "approver_role": const_categorical(np.where(decided == NAT, -1, role), APPROVERS),
        "approver_id": categorical(approver, [*team["sm_ids"], "GM001"]),
        "decided_at": _utc(decided),
        "refunded_at": _utc(ref),
        "status": const_categorical(status, REFUND_STATUSES),
    })


# ---- reconciliation ------------------------------------------------------------------------

def _first(df: pd.DataFrame, names) -> str | None:
    return next((c for c in names if c in df.columns), None)


def _day_ns(s: pd.Series, clock: _Clock) -> np.ndarray:
    """China-local day (ns at midnight) of a date or timestamp column."""
    v = _ns(s)
    if getattr(s.dtype, "tz", None) is not None:
        v = clock.local(v)
    return np.where(v == NAT, NAT, v // NS_PER_DAY * NS_PER_DAY)


def _finance_sums(ctx: Context, clock: _Clock, store_pos: dict, ends: np.ndarray,
                  n_rows: int) -> dict[str, np.ndarray]:
    """Platform settlements (by payout day) and FX settlements of payouts (by conversion day)
    per store × period; NaN where the finance stage or a column is absent."""
    out = {k: np.full(n_rows, np.nan) for k in ("gross", "fees", "refunds", "reserve", "net",
                                                "bank")}
    n_p = len(ends)

    def bucket(day: np.ndarray, store_ids) -> tuple[np.ndarray, np.ndarray]:
        p = np.searchsorted(ends, day, side="left")
        ci, uniq = pd.factorize(np.asarray(store_ids, dtype=object))
        s = np.array([store_pos.get(x, -1) for x in uniq] + [-1], dtype=np.int64)[ci]
        ok = (day != NAT) & (p < n_p) & (s >= 0) & (day >= ends[0] - 40 * NS_PER_DAY)
        return ok, s * n_p + np.minimum(p, n_p - 1)

    def total(values: np.ndarray, ok: np.ndarray, g: np.ndarray) -> np.ndarray:
        return rules.to_cents(np.bincount(g[ok], weights=values[ok], minlength=n_rows)) / 100

    def col(df, name):
        return np.nan_to_num(df[name].to_numpy(float)) if name in df.columns else None

    st = ctx.tables.get("settlements")
    if st is None or not {"store_id", "payout_date"} <= set(st.columns):
        return out
    ok, g = bucket(_day_ns(st["payout_date"], clock), st["store_id"])
    fees = [col(st, c) for c in ("referral_fees", "fulfilment_fees", "advertising_fees",
                                 "transaction_fees")]
    parts = {"gross": col(st, "gross_sales"), "refunds": col(st, "refunds"),
             "net": col(st, "net_payout"),
             "fees": None if any(f is None for f in fees) else sum(fees)}
    held, released = col(st, "reserve_held"), col(st, "reserve_released")
    if held is not None and released is not None:
        parts["reserve"] = held - released
    for k, v in parts.items():
        if v is not None:
            out[k] = total(v, ok, g)
    fx = ctx.tables.get("fx_settlements")
    need = {"source_id", "settled_date", "cny_net"}
    if fx is not None and need <= set(fx.columns) and "settlement_id" in st.columns:
        # store of each converted payout (NaN for B2B receipts), by settlement id
        pos = pd.Index(st["settlement_id"]).get_indexer(fx["source_id"])
        sid = np.append(st["store_id"].to_numpy(object), np.nan)[pos]
        ok, g = bucket(_day_ns(fx["settled_date"], clock), sid)  # B2B receipts: no store
        out["bank"] = total(fx["cny_net"].to_numpy(float), ok, g)
    return out


def _reconciliation(ctx: Context, rng, clock: _Clock, team: dict, o_store: np.ndarray,
                    b2c: np.ndarray, refunds: pd.DataFrame, snap: int,
                    labels: list) -> pd.DataFrame:
    orders = ctx.tables["orders"]
    stores = ctx.tables["stores"]
    first_day = ctx.start.value
    last_day = ctx.end.value
    ends = np.unique(rules.hq_settlement_period_end(
        ctx.days.values).view(np.int64))
    ends = ends[ends <= last_day]
    if not len(ends):
        return pd.DataFrame({c: [] for c in RECONCILIATION.column_names})
    starts = np.concatenate([[first_day], ends[:-1] + NS_PER_DAY])
    n_p = len(ends)
    b2c_idx = np.flatnonzero(b2c)
    n_s = len(b2c_idx)
    store_ids = stores["store_id"].to_numpy(object)
    store_pos = {store_ids[i]: j for j, i in enumerate(b2c_idx)}
    spos = np.full(len(stores), -1)
    spos[b2c_idx] = np.arange(n_s)
    n_rows = n_s * n_p

    def group(day, scode):
        p = np.searchsorted(ends, day, side="left")
        ok = (day != NAT) & (day >= first_day) & (p < n_p) & (spos[scode] >= 0)
        return ok, spos[scode] * n_p + np.minimum(p, n_p - 1)

    o_day = clock.local(_ns(orders["shipped_at"]))
    o_day = np.where(o_day == NAT, NAT, o_day // NS_PER_DAY * NS_PER_DAY)
    ok, g = group(o_day, o_store)
    del o_day
    gi = np.where(ok, g, -1)
    cnt = np.bincount(g[ok], minlength=n_rows)
    sales = np.bincount(g[ok], weights=rules.to_cents(orders["order_total"].to_numpy(float)[ok]),
                        minlength=n_rows)
    sales_cny = np.bincount(g[ok], weights=rules.to_cents(
        orders["order_total_cny"].to_numpy(float)[ok]), minlength=n_rows)
    r_day = clock.local(_ns(refunds["refunded_at"]))
    r_day = np.where(r_day == NAT, NAT, r_day // NS_PER_DAY * NS_PER_DAY)
    r_store = fast_codes(refunds["store_id"], stores["store_id"])  # store ids are unique
    rok, rg = group(r_day, r_store)
    r_cents = rules.to_cents(refunds["refund_amount"].to_numpy(float))
    r_cents_cny = rules.to_cents(refunds["refund_amount_cny"].to_numpy(float))
    ref = np.bincount(rg[rok], weights=r_cents[rok], minlength=n_rows)
    ref_cny = np.bincount(rg[rok], weights=r_cents_cny[rok], minlength=n_rows)
    rgi = np.where(rok, rg, -1)

    ids = [f"RC{i + 1:05d}" for i in range(n_rows)]
    row_store = np.repeat(b2c_idx, n_p)
    row_p = np.tile(np.arange(n_p), n_s)

    # planted: unexplained ledger differences (double-booked / omitted order, missed refund)
    cand = np.flatnonzero(cnt >= 3)
    k = min(len(cand), max(2, round(0.03 * n_rows)))
    bad = np.sort(rng.choice(cand, k, replace=False)) if k else np.zeros(0, np.int64)
    kinds = rng.integers(0, 3, k)
    oid = orders["order_id"]
    rid = refunds["refund_request_id"]
    details = []
    for r, kind in zip(bad, kinds, strict=True):
        rows_r = np.flatnonzero(rgi == r)
        if kind == 2 and not len(rows_r):
            kind = 0
        cur = refunds["currency"].iloc[rows_r[0]] if kind == 2 else None
        if kind == 2:
            j = int(rows_r[int(rng.integers(0, len(rows_r)))])
            ref[r] -= r_cents[j]
            ref_cny[r] -= r_cents_cny[j]
            what = f"refund {rid.iloc[j]} paid but not booked ({r_cents[j] / 100:.2f} {cur})"
        else:
            rows_o = np.flatnonzero(gi == r)
            j = int(rows_o[int(rng.integers(0, len(rows_o)))])
            sign = 1 if kind == 0 else -1
            c = rules.to_cents(orders["order_total"].iloc[j])
            sales[r] += sign * c
            sales_cny[r] += sign * rules.to_cents(orders["order_total_cny"].iloc[j])
            cnt[r] += sign
            what = (f"order {oid.iloc[j]} {'booked twice' if sign > 0 else 'left out'} "
                    f"({sign * c / 100:+.2f} {orders['currency'].iloc[j]})")
        details.append(f"unexplained ledger difference: {what}")
    if k:
        labels.append(_label(
            "reconciliation_mismatch", "reconciliation", np.asarray(ids, object)[bad],
            store_id=stores["store_id"].to_numpy(object)[row_store[bad]],
            start=starts[row_p[bad]].view("datetime64[ns]"),
            end=ends[row_p[bad]].view("datetime64[ns]"), detail=np.asarray(details, object)))

    fin = _finance_sums(ctx, clock, store_pos, ends, n_rows)
    # statement to HQ: first working day after the settlement point; some go late
    due = rules.next_working_day(ends.view("datetime64[ns]")).view(np.int64)[row_p]
    late_days = np.where(rng.random(n_rows) < 0.1, rng.integers(1, 4, n_rows), 0)
    day = due
    for _ in range(3):
        day = np.where(late_days > 0, rules.next_working_day(day.view("datetime64[ns]"))
                       .view(np.int64), day)
        late_days = np.maximum(late_days - 1, 0)
    sent = clock.utc(day + (rng.uniform(9.0, 17.4, n_rows) * HOUR).astype(np.int64))
    sent = sent // SEC * SEC
    conf = sent + (_minutes(rng, 40.0, 0.5, n_rows) * HOUR).astype(np.int64) // SEC * SEC
    sent_ok = sent < snap
    conf = np.where(sent_ok & (conf < snap), conf, NAT)
    sent = np.where(sent_ok, sent, NAT)
    cur = stores["currency"].astype(str).to_numpy()[row_store]
    return pd.DataFrame({
        "recon_id": ids,
        "store_id": stores["store_id"].to_numpy(object)[row_store],
        "period_start": starts[row_p].view("datetime64[ns]"),
        "period_end": ends[row_p].view("datetime64[ns]"),
        "currency": cur,
        "ledger_orders": cnt.astype(np.int64),
        "ledger_sales": sales / 100, "ledger_sales_cny": sales_cny / 100,
        "ledger_refunds": ref / 100, "ledger_refunds_cny": ref_cny / 100,
        "platform_gross_sales": fin["gross"], "platform_fees": fin["fees"],
        "platform_refunds": fin["refunds"], "platform_reserve_net": fin["reserve"],
        "platform_net_payout": fin["net"],
        "bank_received_cny": fin["bank"],
        "reconciler_id": categorical(rng.integers(0, 2, n_rows), team["es_ids"]),
        "statement_sent_at": _utc(sent),
        "hq_confirmed_at": _utc(conf),
    })


# ---- agency providers and KPIs -------------------------------------------------------------

def _agency(ctx: Context, rng, o_store: np.ndarray, b2c: np.ndarray, labels: list):
    orders = ctx.tables["orders"]
    stores = ctx.tables["stores"]
    store_ids = stores["store_id"].to_numpy(object)
    b2c_idx = np.flatnonzero(b2c)
    n_prov = min(len(_PROVIDERS), len(b2c_idx))
    m0 = np.datetime64(ctx.start.date(), "M")
    n_m = int((np.datetime64(ctx.end.date(), "M") - m0).astype(int)) + 1
    months = m0 + np.arange(n_m)  # datetime64[M]
    month_ns = months.astype("datetime64[ns]").view(np.int64)
    st_pick = np.sort(rng.choice(b2c_idx, n_prov, replace=False))
    # real store sales per calendar month (UTC)
    created = _ns(orders["created_at"])
    ok = (_ns(orders["cancelled_at"]) == NAT)
    edges = np.append(month_ns, (m0 + n_m).astype("datetime64[ns]").view(np.int64))
    m_idx = np.searchsorted(edges, created, side="right") - 1
    ok &= (m_idx >= 0) & (m_idx < n_m)
    g = o_store[ok] * n_m + m_idx[ok]
    n_st = len(stores)
    o_cnt = np.bincount(g, minlength=n_st * n_m).reshape(n_st, n_m)
    o_cny = np.bincount(g, weights=rules.to_cents(orders["order_total_cny"].to_numpy(float)[ok]),
                        minlength=n_st * n_m).reshape(n_st, n_m) / 100
    del created, ok, m_idx, g
    conv_base = np.full(n_st, 0.02)
    tr = ctx.tables.get("traffic_daily")
    if tr is not None and len(tr):
        ts = fast_codes(tr["store_id"], stores["store_id"])
        sess = np.bincount(ts[ts >= 0], weights=tr["sessions"].to_numpy(float)[ts >= 0],
                           minlength=n_st)
        tord = np.bincount(ts[ts >= 0], weights=tr["orders"].to_numpy(float)[ts >= 0],
                           minlength=n_st)
        conv_base = np.where(sess > 0, np.clip(tord / np.maximum(sess, 1), 0.003, 0.2),
                             conv_base)

    bad = 0
    good = 1 if n_prov > 1 else -1
    no_nda = 2 if n_prov > 2 else -1
    bundle = np.array([0, 4, 1, 2, 3, 5])[:n_prov]
    t0 = int(np.clip(n_m // 3 + rng.integers(0, 2), 0, max(n_m - 3, 0)))  # drift start
    t1 = int(np.clip(n_m // 4 + rng.integers(0, 2), 0, max(n_m - 3, 0)))
    prov: dict[str, list] = {c: [] for c in AGENCY_PROVIDERS.column_names[:-1]}
    kp: dict[str, list] = {c: [] for c in AGENCY_KPIS.column_names}
    mm = np.arange(n_m)
    for i in range(n_prov):
        s = int(st_pick[i])
        pid = f"AP{i + 1:02d}"
        services = _BUNDLES[bundle[i]]
        c_len = int(rng.choice([12, 24, 36]))  # overlaps the period by 3+ months
        c_start = m0 - int(rng.integers(0, c_len - 2))
        if i >= 3 and rng.random() < 0.5 and n_m >= 6:  # a contract that starts mid-period
            c_start = months[int(rng.integers(2, n_m // 2))]
            c_len = 24
        if i in (bad, good):
            c_start = m0 - int(rng.integers(1, 12))
            c_len = 36
        c_end = (c_start + c_len).astype("datetime64[D]") - 1
        retainer = float(rng.integers(8, 31) * 1000)
        comm = float(np.round(rng.uniform(0.02, 0.08), 3))
        for c, v in zip(AGENCY_PROVIDERS.column_names[:-1],
                        (pid, _PROVIDERS[i][0], _PROVIDERS[i][1], "|".join(services),
                         store_ids[s], retainer, comm, c_start.astype("datetime64[D]"), c_end,
                         i != no_nda), strict=True):
            prov[c].append(v)
        active = np.flatnonzero((months >= c_start) & (months <= c_end.astype("datetime64[M]")))
        if i == no_nda:
            labels.append(_label(
                "missing_confidentiality_agreement", "agency_providers", [pid],
                store_id=store_ids[s], start=c_start, end=c_end,
                detail="provider handles store and customer data without a signed "
                       "confidentiality agreement (002 §3.2 outsourcing rule)"))
        if not len(active):
            continue
        perf = rng.normal(0.15, 0.15) + np.cumsum(rng.normal(0, 0.06, n_m))
        if i == bad:
            perf = perf - 0.22 * np.maximum(mm - t0 + 1, 0)
        elif i == good:
            perf = perf - 0.9 + 0.2 * np.maximum(mm - t1 + 1, 0).clip(max=6)
        perf = perf[active]
        k = len(active)
        sales = o_cny[s, active]
        mean_sales = max(float(o_cny[s].mean()), 1000.0)
        ach = np.exp(0.16 * perf + rng.normal(0, 0.035, k))
        # the target follows the store's sales and trend (3-month mean), the drift aside
        trend = np.convolve(np.pad(o_cny[s], 1, mode="edge"), np.ones(3) / 3, "valid")[active]
        target = np.round(np.maximum(0.8 * sales + 0.2 * trend, 0.3 * mean_sales) / ach, -2)
        conv = np.round(conv_base[s] * np.exp(0.15 * perf + rng.normal(0, 0.05, k)), 4)
        cs = 1.0 if "customer_service" in services else np.nan
        ad = 1.0 if "advertising" in services else np.nan
        csat = np.round(np.clip(4.3 + 0.35 * perf + rng.normal(0, 0.07, k), 1, 5), 2) * cs
        resp = np.round(40 * np.exp(-0.35 * perf + rng.normal(0, 0.1, k)), 1) * cs
        complaints = rng.poisson((1.5 + 0.004 * o_cnt[s, active]) * np.exp(-0.7 * perf))
        incidents = rng.poisson(0.15 * np.exp(-1.2 * perf))
        ad_budget = np.round(target * rng.uniform(0.06, 0.10), -2)
        ad_spend = rules.round_cents(ad_budget * np.clip(0.94 - 0.08 * perf
                                                         + rng.normal(0, 0.03, k), 0.5, 1.6))
        roas = 4.0 * np.exp(0.25 * perf + rng.normal(0, 0.08, k))
        ad_sales = rules.round_cents(np.minimum(ad_spend * roas, 0.9 * sales))
        op_budget = np.full(k, np.round(mean_sales * rng.uniform(0.05, 0.08), -2))
        op_cost = rules.round_cents(op_budget * np.clip(0.95 - 0.06 * perf
                                                        + rng.normal(0, 0.04, k), 0.5, 1.6))
        for c, v in zip(AGENCY_KPIS.column_names, (
                np.full(k, pid, object), months[active].astype("datetime64[ns]"),
                np.full(k, store_ids[s], object), o_cnt[s, active], sales, target, conv, csat,
                resp, complaints, incidents, ad_budget * ad, ad_spend * ad, ad_sales * ad,
                op_budget, op_cost, rules.round_cents(retainer + comm * sales)), strict=True):
            kp[c].append(v)
        if i == bad:
            labels.append(_label(
                "agency_deteriorating", "agency_kpis", [pid], store_id=store_ids[s],
                start=months[t0], end=months[-1],
                detail="provider's performance declines month after month from this month: "
                       "sales vs target, satisfaction, response time, complaints, ROAS and "
                       "budget overruns all worsen"))
        if i == good:
            labels.append(_label(
                "agency_improving", "agency_kpis", [pid], store_id=store_ids[s],
                start=months[t1], end=months[min(t1 + 5, n_m - 1)],
                detail="provider starts weak and improves for six months from this month "
                       "(improvement plan working)"))
    prov["store_model"] = ["B2C"] * len(prov["provider_id"])
    providers = _provider_frame(prov)
    kpi = pd.DataFrame({c: (np.concatenate(v) if v else []) for c, v in kp.items()})
    kpi["month"] = kpi["month"].astype("datetime64[ns]")
    return providers, kpi


def _provider_frame(prov: dict[str, list]) -> pd.DataFrame:
    """The providers table from its column lists, contract dates as ``datetime64[ns]``."""
    dates = ("contract_start", "contract_end")
    return pd.DataFrame({c: np.asarray(v, dtype="datetime64[ns]") if c in dates else v
                         for c, v in prov.items()})


def _month_index(t_ns: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Month of each UTC timestamp (ns, NAT allowed) among ``edges``; -1 outside."""
    m = np.searchsorted(edges, t_ns, side="right") - 1
    return np.where((t_ns != NAT) & (m >= 0) & (m < len(edges) - 1), m, -1)


def _agency_b2b(ctx: Context, rng, n_b2c: int, labels: list):
    """B2B providers (one per B2B store, at most two) and their monthly KPI reports."""
    stores = ctx.tables["stores"]
    b2b_idx = np.flatnonzero(stores["model"].astype(str).to_numpy() == "B2B")
    b2b_idx = b2b_idx[:len(_B2B_PROVIDERS)]
    m0 = np.datetime64(ctx.start.date(), "M")
    n_m = int((np.datetime64(ctx.end.date(), "M") - m0).astype(int)) + 1
    months = m0 + np.arange(n_m)
    edges = (m0 + np.arange(n_m + 1)).astype("datetime64[ns]").view(np.int64)
    inq, rfq, con = (ctx.tables.get(t) for t in ("inquiries", "rfqs", "contracts"))
    if not len(b2b_idx) or inq is None or rfq is None or con is None:
        return (pd.DataFrame(columns=AGENCY_PROVIDERS.column_names),
                pd.DataFrame(columns=AGENCY_B2B_KPIS.column_names))
    usd = float(ctx.catalog.fx["cny"]["USD"])
    store_ids = stores["store_id"].to_numpy(object)
    prov: dict[str, list] = {c: [] for c in AGENCY_PROVIDERS.column_names}
    kp: dict[str, list] = {c: [] for c in AGENCY_B2B_KPIS.column_names}
    i_st = inq["store_id"].astype(str).to_numpy()
    i_m = _month_index(_ns(inq["received_at"]), edges)
    i_ok = ~inq["flagged_spam"].to_numpy(bool)
    i_24 = rules.replied_within(inq["received_at"], inq["first_reply_at"])
    r_st = rfq["store_id"].astype(str).to_numpy()
    r_m = _month_index(_ns(rfq["posted_at"]), edges)
    r_q = _ns(rfq["quoted_at"]) != NAT
    c_st = con["store_id"].astype(str).to_numpy()
    c_m = _month_index(_ns(con["signed_at"]), edges)
    c_v = rules.to_cents(con["total_usd"].to_numpy(float))
    for k, s in enumerate(b2b_idx):
        pid = f"AP{n_b2c + k + 1:02d}"
        sid = store_ids[s]
        c_start = m0 - int(rng.integers(1, 12))
        c_end = (c_start + 24).astype("datetime64[D]") - 1
        retainer = float(rng.integers(5, 16) * 1000)
        comm = float(np.round(rng.uniform(0.01, 0.04), 3))
        for c, v in zip(AGENCY_PROVIDERS.column_names,
                        (pid, _B2B_PROVIDERS[k][0], _B2B_PROVIDERS[k][1],
                         "|".join(B2B_SERVICES), sid, retainer, comm,
                         c_start.astype("datetime64[D]"), c_end, True, "B2B"), strict=True):
            prov[c].append(v)
        active = np.flatnonzero((months >= c_start) & (months <= c_end.astype("datetime64[M]")))
        sel = (i_st == sid) & i_ok & (i_m >= 0)
        n_inq = np.bincount(i_m[sel], minlength=n_m)[active]
        n_24 = np.bincount(i_m[sel & i_24], minlength=n_m)[active]
        sel = (r_st == sid) & (r_m >= 0)
        n_rfq = np.bincount(r_m[sel], minlength=n_m)[active]
        n_rq = np.bincount(r_m[sel & r_q], minlength=n_m)[active]
        sel = (c_st == sid) & (c_m >= 0)
        n_con = np.bincount(c_m[sel], minlength=n_m)[active]
        v_usd = np.bincount(c_m[sel], weights=c_v[sel], minlength=n_m)[active] / 100
        v_cny = rules.round_cents(v_usd * usd)
        with np.errstate(divide="ignore", invalid="ignore"):
            real = np.where(n_inq > 0, n_24 / np.maximum(n_inq, 1), np.nan)
        reported = np.round(real, 4)
        # planted: the report overstates the reply rate in a few months (rate below 100 %)
        cand = np.flatnonzero(real < 0.9)  # so the report is at least 8 points too high
        bad = np.sort(rng.choice(cand, min(B2B_OVERSTATED_MONTHS, len(cand)), replace=False))
        for b in bad:
            real_b = real[b]
            reported[b] = np.round(min(0.99, real_b + rng.uniform(0.08, 0.2)), 4)
            labels.append(_label(
                "agency_report_overstated", "agency_b2b_kpis", [pid], store_id=sid,
                start=months[active[b]], end=months[active[b]],
                detail=f"reported 24-hour reply rate {reported[b]:.2%} but the inquiries show "
                       f"{real_b:.2%} ({n_24[b]} of {n_inq[b]})"))
        for c, v in zip(AGENCY_B2B_KPIS.column_names, (
                np.full(len(active), pid, object), months[active].astype("datetime64[ns]"),
                np.full(len(active), sid, object), n_inq, n_24, reported, n_rfq, n_rq, n_con,
                v_usd, v_cny, rules.round_cents(retainer + comm * v_cny)), strict=True):
            kp[c].append(v)
    providers = _provider_frame(prov)
    kpi = pd.DataFrame({c: (np.concatenate(v) if v else []) for c, v in kp.items()})
    kpi["month"] = kpi["month"].astype("datetime64[ns]")
    return providers, kpi


# ---- stage ---------------------------------------------------------------------------------

def _shipment_rows(orders: pd.DataFrame, ships: pd.DataFrame, shipped: np.ndarray) -> np.ndarray:
    """Order row of each shipment. Shipments list the shipped orders in order-table order, so
    the shipped rows of ``orders`` line up with them (checked; else a lookup by id)."""
    import pyarrow.compute as pc

    pos = np.flatnonzero(shipped != NAT)
    if len(pos) == len(ships) and (not len(pos) or pc.all(pc.equal(
            pa.array(ships["order_id"]), pa.array(orders["order_id"]).take(pa.array(pos))
    )).as_py()):
        return pos
    return parent_index(orders["order_id"], ships["order_id"])


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    rng = ctx.rng("backoffice")
    orders = ctx.tables["orders"]
    stores = ctx.tables["stores"].reset_index(drop=True)
    ships = ctx.tables["shipments"]
    whs = ctx.tables["warehouses"]
    clock = _Clock(ctx)
    snap = (ctx.end + pd.Timedelta(days=1)).value
    labels: list[dict] = []

    o_store = fast_codes(orders["store_id"], stores["store_id"])
    b2c = stores["model"].astype(str).to_numpy() == "B2C"
    merchant = b2c & (stores["fulfilment"].astype(str).to_numpy() == "merchant")
    counts = np.bincount(o_store, minlength=len(stores))
    share = counts / max(counts[b2c].sum(), 1)

    # orders in the procedure and their parcels
    paid = _ns(orders["paid_at"])
    live = (paid != NAT) & (_ns(orders["cancelled_at"]) == NAT)
    # the procedure log of one business unit (事业部): the brand with the most
    # merchant-fulfilled orders (keeps the table small; a documented subset)
    brand = stores["brand"].astype(str).to_numpy()
    brands = sorted(set(brand[merchant]))
    if brands:
        load = np.bincount(o_store[live], minlength=len(stores)) * merchant
        bu = brands[int(np.argmax([load[brand == b].sum() for b in brands]))]
        in_bu = merchant & (brand == bu)
    else:
        in_bu = merchant
    sel = np.flatnonzero(in_bu[o_store] & live)
    del paid, live
    ship_o = _ns(orders["shipped_at"])  # = shipments.shipped_at (logistics completes orders)
    s_oi = _shipment_rows(orders, ships, ship_o)
    dom = whs["warehouse_type"].astype(str).to_numpy() == "domestic"
    dom_wh = list(whs["warehouse_id"].to_numpy(object)[dom]) or ["WCN01"]
    # each merchant store ships from one domestic warehouse (logistics): its first parcel's
    first = np.full(len(stores), -1, np.int64)
    rows = np.arange(len(s_oi) - 1, -1, -1)
    first[o_store[s_oi[rows]]] = rows  # the last write per store is its first shipment
    st_wh = (np.maximum(fast_codes(ships["warehouse_id"].iloc[np.maximum(first, 0)], dom_wh), 0)
             if len(ships) else np.zeros(len(stores), np.int64))
    wh_sel = st_wh[o_store[sel]]
    del first, rows
    wh_load = np.bincount(wh_sel, minlength=max(len(dom_wh), 1))

    staff, team = _staff(ctx, rng, int(counts[b2c].sum()), len(sel), b2c,
                         stores["store_id"].to_numpy(object), share, dom_wh, wh_load)
    proc = _order_processing(ctx, rng, clock, team, o_store, sel, ship_o, wh_sel, snap,
                             labels)
    del ship_o, sel, wh_sel
    refunds = _refund_requests(ctx, rng, team, o_store, s_oi, snap, labels)
    recon = _reconciliation(ctx, rng, clock, team, o_store, b2c, refunds, snap, labels)
    providers, kpis = _agency(ctx, rng, o_store, b2c, labels)
    # additions draw from child generators (names appended at the end): tables above unchanged
    kids = spawn(rng, ["agency_b2b"])
    b2b_prov, b2b_kpis = _agency_b2b(ctx, kids["agency_b2b"], len(providers), labels)
    if len(b2b_prov):
        providers = pd.concat([providers, b2b_prov], ignore_index=True)
    return {"backoffice_staff": staff, "order_processing": proc, "refund_requests": refunds,
            "reconciliation": recon, "agency_providers": providers, "agency_kpis": kpis,
            "agency_b2b_kpis": b2b_kpis,
            "anomalies": label_frame(labels)}
