"""Stage ``imports``: the company as a B2B2C cross-border import service provider.

Modelled on source 000 (国通达B2B2C跨境电商业务操作流程, OPERATING-RULES §1): foreign brand
suppliers are reviewed (credit and supply capability, qualification documents) and sign the
service agreements; their enterprise is filed with customs and CIQ (filing number received
the same day the application e-mail is sent, §1.4; then an on-site review); each product is
filed with a T_product record (§1.5). Chinese consumers then buy through the channel —
bonded stock (1210) or direct mail (9610) — and every order is declared with the four
customs messages compared by customs (三单对碰: order CEB311, payment CEB411, waybill CEB511,
inventory list CEB621). Taxes follow the published retail-import policy (see
:func:`cbec_sim.rules.cross_border_import_tax`).

Planted anomalies (labelled in ``anomalies``): suppliers approved although a mandatory
document is missing; T_product records with an invalid HS code, an HS code that does not fit
the goods, a missing mandatory field, a unit that does not fit the code, or an outlying
declared price; orders whose customs messages disagree on one compared field; orders whose
payment or waybill message is missing (三单不全).

The import orders start ``rules.IMPORT_HISTORY_DAYS`` before the world's first day and always
span a new year, so the annual limit resets; a few buyers order only around 1 January (within
the limit in each calendar year, above it if the years are wrongly added up).
``import_mode_costs`` holds the planning data to choose 9610 direct mail or 1210 bonded stock
per product line (``rules.import_mode_monthly_cost`` / ``rules.import_mode_choice``).
Additions draw from child generators spawned at the end of the stage's names list.

Codes, numbers and formats of filings, carriers and platforms are illustrative; buyers'
names, ID numbers and phones are fake (ID numbers are well formed, with a valid check digit).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cbec_sim._rng import spawn
from cbec_sim.context import Context
from cbec_sim.pools import pools
from cbec_sim.rules import (
    CBEC_TAX_FACTOR,
    CUSTOMS_MESSAGE_TYPES,
    IMPORT_HISTORY_DAYS,
    SUPPLIER_DOCUMENTS,
    SUPPLIER_MANDATORY_DOCUMENTS,
    SUPPLIER_REREVIEW_DAYS,
    allocate_dutiable_value,
    cbec_effective_tax_rate,
    cbec_limit_check,
    cross_border_import_tax,
    id_number_check_digit,
    postal_article_tax,
    round_cents,
    s10_check_digit,
    supplier_review_outcome,
    to_cents,
)
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import (
    NS_PER_DAY,
    categorical,
    const_categorical,
    digit_chars,
    fixed_width_str,
    id_array,
    join_str,
    make_ids,
    ns,
    str_series,
    take,
    take_str,
    weighted_choice_by_group,
)
from cbec_sim.tables.labels import anomaly_rows, label_frame, label_spec

# ------------------------------------------------------------------------------------------
# Reference data of the stage (teaching values unless a source is named)
# ------------------------------------------------------------------------------------------

#: The import catalogue: goods the suppliers file and sell, keyed by codes of the kit's
#: ``hs_codes`` table. Goods names and specs are in Chinese as filed, with the net weight
#: (kg) of one declaration unit; ``price`` is a typical retail price in CNY; ``tariff`` an
#: MFN import-duty rate used only when an order is taxed as general trade (teaching values
#: of the order of China's tariff — check the current tariff); ``postal`` the personal
#: postal-articles tax rate of the goods' item under 税委会〔2019〕17号 (13 % food, toys;
#: 20 % other goods, sports goods, electrical appliances; 50 % high-end cosmetics, precious
#: jewellery).
IMPORT_GOODS: tuple[dict, ...] = (
    dict(hs="3304990099", group="beauty", price=220.0, tariff=0.01, postal=0.20,
         names=("保湿面霜", "精华液", "爽肤水", "洁面乳", "防晒乳"),
         specs=(("50ml/瓶", 0.05), ("100ml/瓶", 0.1), ("150ml/瓶", 0.15))),
    dict(hs="3304990091", group="beauty", price=980.0, tariff=0.01, postal=0.50,
         names=("抗皱精华液", "修护眼霜", "焕颜面霜"),
         specs=(("30ml/瓶", 0.03), ("50ml/瓶", 0.05))),
    dict(hs="3304100091", group="beauty", price=320.0, tariff=0.01, postal=0.50,
         names=("口红", "润唇膏"), specs=(("3.5g/支", 0.0035),)),
    dict(hs="3303000020", group="beauty", price=860.0, tariff=0.03, postal=0.50,
         names=("香水", "淡香水"), specs=(("50ml/瓶", 0.05), ("100ml/瓶", 0.1))),
    dict(hs="3305100090", group="beauty", price=95.0, tariff=0.01, postal=0.20,
         names=("洗发水", "防脱洗发露"), specs=(("500ml/瓶", 0.5), ("300ml/瓶", 0.3))),
    dict(hs="2106909090", group="food_health", price=180.0, tariff=0.12, postal=0.13,
         names=("鱼油软胶囊", "维生素C片", "益生菌胶囊", "叶黄素软胶囊"),
         specs=(("60粒/瓶", 0.09), ("90粒/瓶", 0.13))),
    dict(hs="0901210000", group="food_health", price=160.0, tariff=0.08, postal=0.13,
         names=("焙炒咖啡豆",), specs=(("1千克/袋", 1.0),)),
    dict(hs="1905310000", group="food_health", price=90.0, tariff=0.05, postal=0.13,
         names=("黄油曲奇", "甜饼干"), specs=(("1千克/盒", 1.0),)),
    dict(hs="9102110000", group="fashion_luxury", price=1500.0, tariff=0.08, postal=0.20,
         names=("电子手表", "运动电子表"), specs=(("表径40mm", 0.06), ("表径44mm", 0.07))),
    dict(hs="4202220000", group="fashion_luxury", price=2200.0, tariff=0.06, postal=0.20,
         names=("手提包", "单肩包"), specs=(("小号", 0.5), ("中号", 0.8))),
    dict(hs="7113191000", group="fashion_luxury", price=3400.0, tariff=0.08, postal=0.50,
         names=("黄金项链", "黄金手镯"), specs=(("足金5g", 0.005), ("足金10g", 0.01))),
    dict(hs="9004100000", group="fashion_luxury", price=980.0, tariff=0.05, postal=0.20,
         names=("太阳镜",), specs=(("偏光", 0.03), ("镜宽140mm", 0.03))),
    dict(hs="4202920000", group="lifestyle", price=650.0, tariff=0.06, postal=0.20,
         names=("双肩背包", "旅行背包"), specs=(("20L", 0.7), ("30L", 0.9))),
    dict(hs="8518300000", group="lifestyle", price=1300.0, tariff=0.0, postal=0.20,
         names=("无线耳机", "降噪耳机"), specs=(("蓝牙5.3", 0.05),)),
    dict(hs="8516310000", group="lifestyle", price=2900.0, tariff=0.08, postal=0.20,
         names=("电吹风",), specs=(("1600W", 0.7),)),
    dict(hs="9503008900", group="lifestyle", price=320.0, tariff=0.0, postal=0.13,
         names=("积木玩具", "毛绒玩具"), specs=(("6岁以上", 0.5), ("3岁以上", 0.3))),
    dict(hs="6404110090", group="lifestyle", price=850.0, tariff=0.10, postal=0.20,
         names=("运动鞋", "跑步鞋"), specs=(("42码", 0.8), ("38码", 0.7))),
)
GROUPS = ("beauty", "food_health", "fashion_luxury", "lifestyle")
GROUP_WEIGHTS = (0.45, 0.2, 0.2, 0.15)

#: Legal (statistical) unit: the kit's simplification — 千克 for food (HS chapters 01–24)
#: and cosmetics (chapter 33), otherwise the code's declaration unit; check the tariff.
KG_CHAPTERS = (*(f"{c:02d}" for c in range(1, 25)), "33")

#: Supplier countries, their weight and company-name suffix (currency from the catalogue).
SUPPLIER_COUNTRIES: dict[str, tuple[float, str]] = {
    "JP": (0.22, "Co., Ltd."), "KR": (0.2, "Co., Ltd."), "US": (0.16, "Inc."),
    "FR": (0.1, "SAS"), "DE": (0.1, "GmbH"), "IT": (0.07, "S.r.l."), "GB": (0.07, "Ltd"),
    "AU": (0.08, "Pty Ltd"),
}
BRAND_SUFFIXES = ("", " Lab", " Beauty", " & Co", " Atelier", " Naturals", " Maison", " Pure")

OUTCOMES = ("approved", "conditional", "rejected")
CREDIT = ("pass", "watch", "fail")
CAPABILITY = ("adequate", "limited", "insufficient")
CHANNEL_MODES = ("1210", "9610")
AGENCIES = ("customs", "ciq")
FILING_TYPES = ("e_commerce_enterprise", "e_commerce_enterprise_and_platform")
REVIEW_RESULTS = ("passed", "failed", "pending")
EF_STATUSES = ("approved", "rejected", "under_review")
PF_STATUSES = ("approved", "rejected", "submitted")
FILING_ERRORS = ("invalid_hs_code", "hs_mismatch", "missing_field", "unit_mismatch",
                 "price_outlier")
REJECT_REASONS = {
    "invalid_hs_code": "商品编码无效 (invalid HS code)",
    "hs_mismatch": "商品编码与商品名称不符 (HS code does not match the goods)",
    "missing_field": "必填项缺失 (mandatory field missing)",
    "unit_mismatch": "申报计量单位与商品编码不符 (unit does not match the HS code)",
    "price_outlier": "申报价格异常 (declared price abnormal)",
}
MISSING_FIELDS = ("brand", "spec_model", "origin_country")
MISMATCH_CHECKS = ("amount", "consignee_name", "id_number", "goods", "waybill")
MESSAGE_TYPES = tuple(CUSTOMS_MESSAGE_TYPES)
MESSAGE_NAMES = tuple(CUSTOMS_MESSAGE_TYPES.values())
MESSAGE_STATUSES = ("accepted", "pending")
#: Messages that may be missing (三单不全): the payment and the waybill message.
MISSING_TYPES = ("CEB411", "CEB511")
PAYMENT_PROVIDERS = ("alipay", "wechat_pay", "unionpay")
#: The provider's own open platform (ebp) code — illustrative 10-character customs code.
PROVIDER_PLATFORM_CODE = "440196000A"
#: Domestic carriers for bonded (1210) parcels: code and waybill prefix (illustrative).
#: Direct-mail (9610) parcels travel as inbound EMS items (UPU S10 numbers).
DOMESTIC_CARRIERS = (("SF", "SF"), ("YTO", "YT"), ("ZTO", "ZT"), ("JD", "JD"))
LOGISTICS_CODES = (*(c[0] for c in DOMESTIC_CARRIERS), "EMS")
#: ID-number area codes (GB/T 2260) with province, city and district of the buyer address.
AREAS = (
    ("110101", "北京市", "北京市", "东城区"), ("110105", "北京市", "北京市", "朝阳区"),
    ("310104", "上海市", "上海市", "徐汇区"), ("310115", "上海市", "上海市", "浦东新区"),
    ("440106", "广东省", "广州市", "天河区"), ("440305", "广东省", "深圳市", "南山区"),
    ("330106", "浙江省", "杭州市", "西湖区"), ("320102", "江苏省", "南京市", "玄武区"),
    ("510107", "四川省", "成都市", "武侯区"), ("420106", "湖北省", "武汉市", "武昌区"),
    ("500103", "重庆市", "重庆市", "渝中区"), ("610113", "陕西省", "西安市", "雁塔区"),
    ("350203", "福建省", "厦门市", "思明区"), ("370202", "山东省", "青岛市", "市南区"),
)
AREA_WEIGHTS = (6, 8, 7, 9, 9, 10, 8, 6, 6, 5, 5, 4, 4, 3)
#: Orders per local hour in China (evening peak; simulation parameter).
HOURLY_CN = np.array([2.0, 1.0, 0.5, 0.3, 0.2, 0.3, 0.6, 1.5, 2.8, 3.8, 4.6, 5.0, 5.4, 5.0,
                      4.8, 4.7, 4.8, 5.0, 5.6, 6.6, 7.8, 8.6, 8.0, 5.0])
CN_UTC_OFFSET_NS = 8 * 3_600 * 10**9  # China Standard Time, no DST

# ------------------------------------------------------------------------------------------
# Schemas
# ------------------------------------------------------------------------------------------

SUPPLIERS = register(TableSpec(
    name="suppliers",
    grain="one foreign supplier (brand owner or merchant) reviewed for the import channel",
    description="Supplier review (000 §1.1): qualification documents, credit investigation "
                "and supply-capability audit, review outcome and re-review date. Approved and "
                "conditional suppliers sign the service agreements (§1.2); which documents "
                "are mandatory is the kit's teaching rule (`rules.SUPPLIER_MANDATORY_DOCUMENTS`).",
    columns=(
        Column("supplier_id", "str", "supplier id", unique=True),
        Column("name", "str", "company name"),
        Column("country", "category", "country of the supplier (ISO code)"),
        Column("currency", "category", "currency of its declared prices (ISO 4217)"),
        Column("brand", "str", "main brand"),
        Column("main_category", "category", "goods group it sells", values=GROUPS),
        Column("channel_mode", "category", "customs mode it ships under: 1210 bonded "
               "stock, 9610 direct mail", values=CHANNEL_MODES),
        Column("own_mall", "bool", "sells through its own online mall (enterprise and "
               "platform filing needed, §1.4)"),
        *(Column(f"has_{d}", "bool", f"{d.replace('_', ' ')} provided") for d in
          SUPPLIER_DOCUMENTS),
        Column("missing_documents", "str", "documents not provided, `|`-separated (empty "
               "when complete)", nullable=True),
        Column("credit_check", "category", "credit investigation result (资信调查)",
               values=CREDIT),
        Column("supply_capability", "category", "supply-capability audit result "
               "(供货能力审核)", values=CAPABILITY),
        Column("onsite_inspection", "bool", "inspected on site (实地考察, large business "
               "volume)"),
        Column("review_outcome", "category", "outcome of the latest review", values=OUTCOMES),
        Column("review_date", "date", "day of the latest review"),
        Column("re_review_due_date", "date", f"next periodic review due (review + "
               f"{SUPPLIER_REREVIEW_DAYS} days, teaching value)"),
        Column("agreement_date", "date", "service agreements approved and stamped (business "
               "may start, §1.2 step 2.3); empty when rejected", nullable=True),
    ),
))

ENTERPRISE_FILINGS = register(TableSpec(
    name="enterprise_filings",
    grain="one supplier filed with one agency (customs or CIQ)",
    description="Enterprise filing (企业备案, 000 §1.4): application e-mailed after the "
                "agreement, filing number received the same day (it does not mean success), "
                "on-site review, approval and, for own malls, technical integration with "
                "the customs system. Filing numbers are illustrative.",
    columns=(
        Column("enterprise_filing_id", "str", "filing id", unique=True),
        Column("supplier_id", "str", "supplier", references="suppliers.supplier_id"),
        Column("agency", "category", "customs (海关) or inspection and quarantine (国检)",
               values=AGENCIES),
        Column("filing_type", "category", "what is filed", values=FILING_TYPES),
        Column("application_date", "date", "application e-mailed"),
        Column("filing_number", "str", "enterprise filing number (企业备案号)", unique=True),
        Column("filing_number_received_date", "date", "filing number received (same day as "
               "the application, §1.4)"),
        Column("originals_requested", "bool", "on-site officers asked for original "
               "certificates"),
        Column("onsite_review_result", "category", "on-site review result",
               values=REVIEW_RESULTS),
        Column("onsite_review_date", "date", "on-site review day (empty while pending)",
               nullable=True),
        Column("approval_date", "date", "filing approved (empty unless passed)",
               nullable=True),
        Column("status", "category", "filing status at the end of the period",
               values=EF_STATUSES),
        Column("integration_completed_date", "date", "own mall connected to the customs "
               "system (customs row of own-mall suppliers)", nullable=True),
    ),
))

PRODUCT_FILINGS = register(TableSpec(
    name="product_filings",
    grain="one T_product record: one product filed by one supplier",
    description="Product filing data (T_product table, 000 §1.5) as submitted by the "
                "suppliers, with the customs result. Records still `submitted` await the "
                "preliminary logic check (初步逻辑审核). Rates follow the record's HS code in "
                "the kit's `hs_codes` table (tariff: teaching values); postal-article tax "
                "numbers are illustrative.",
    columns=(
        Column("filing_id", "str", "T_product record id", unique=True),
        Column("supplier_id", "str", "supplier", references="suppliers.supplier_id"),
        Column("batch_no", "str", "filing batch (materials numbered by declaration date)"),
        Column("submitted_date", "date", "record submitted by the supplier"),
        Column("goods_name_cn", "str", "goods name (Chinese)"),
        Column("spec_model", "str", "specification / model (规格型号)", nullable=True),
        Column("brand", "str", "brand", nullable=True),
        Column("origin_country", "category", "country of origin (ISO code)", nullable=True),
        Column("hs_code", "str", "10-digit commodity code as filed"),
        Column("declaration_unit", "str", "declaration unit (申报计量单位)"),
        Column("legal_unit", "str", "first legal unit (法定计量单位; kit simplification: 千克 "
               "for food and cosmetics)"),
        Column("legal_quantity", "float", "legal units per declaration unit", ge=0),
        Column("declared_unit_price", "money", "declared price per declaration unit",
               unit="currency", ge=0),
        Column("currency", "category", "currency of the declared price (ISO 4217)"),
        Column("fx_rate_cny", "float", "CNY per unit of the currency (reference rate)", ge=0),
        Column("postal_tax_number", "str", "postal-articles tax number (行邮税号, illustrative)"),
        Column("postal_tax_rate", "rate", "postal-articles tax rate (13 %, 20 % or 50 %)",
               ge=0, le=1),
        Column("vat_rate", "rate", "import VAT rate", ge=0, le=1),
        Column("consumption_tax_rate", "rate", "consumption-tax rate", ge=0, le=1),
        Column("tariff_rate", "rate", "MFN import duty (general trade only; teaching value)",
               ge=0, le=1),
        Column("cbec_tax_rate", "rate", "cross-border retail import tax rate within the "
               "limits: 0.7 × (c + v) / (1 − c)", ge=0, le=1),
        Column("status", "category", "filing status at the end of the period",
               values=PF_STATUSES),
        Column("reviewed_date", "date", "customs decision day", nullable=True),
        Column("customs_record_no", "str", "customs product filing number (商品备案号)",
               nullable=True),
        Column("ciq_record_no", "str", "CIQ product filing number", nullable=True),
        Column("reject_reason", "str", "reason in the customs data receipt (商品备案数据回执)",
               nullable=True),
    ),
))

IMPORT_BUYERS = register(TableSpec(
    name="import_buyers",
    grain="one Chinese consumer buying through the import channel",
    description="Consumers (orderer = payer = consignee in the kit). Names, ID numbers, "
                "phones and streets are fake; ID numbers are well formed (GB 11643 check "
                "digit). Confidential personal information.",
    columns=(
        Column("buyer_id", "str", "buyer id", unique=True),
        Column("name", "str", "full name (Chinese)"),
        Column("id_number", "str", "18-digit resident ID number (fake, valid check digit)",
               unique=True),
        Column("phone", "str", "mobile number"),
        Column("province", "category", "province"),
        Column("city", "category", "city"),
        Column("address", "str", "delivery address"),
    ),
))

IMPORT_ORDERS = register(TableSpec(
    name="import_orders",
    grain="one consumer order through the cross-border import channel",
    description="Cross-border retail import orders with the tax computed by "
                "`rules.cross_border_import_tax`: within the limits (5,000 CNY per order, "
                "26,000 CNY per buyer and calendar year, 财关税〔2018〕49号) tariff 0 and 70 % "
                "of VAT and consumption tax; above them taxed in full as general trade. "
                "The channel's history starts before the world's period "
                "(`rules.IMPORT_HISTORY_DAYS`) and always spans a new year, so the annual "
                "limit resets. Amounts in CNY; rows in time order.",
    columns=(
        Column("order_id", "str", "order id (e-commerce order number)", unique=True),
        Column("buyer_id", "str", "buyer", references="import_buyers.buyer_id"),
        Column("supplier_id", "category", "selling supplier (e-commerce enterprise)",
               references="suppliers.supplier_id"),
        Column("channel_mode", "category", "1210 bonded stock or 9610 direct mail",
               values=CHANNEL_MODES),
        Column("created_at", "timestamp", "order placed"),
        Column("paid_at", "timestamp", "payment confirmed"),
        Column("order_year", "int", "calendar year of the order in China time (annual limit)"),
        Column("currency", "category", "currency (always CNY)"),
        Column("n_lines", "int", "order lines", ge=1),
        Column("total_quantity", "int", "units ordered", ge=1),
        Column("goods_value", "money", "goods value (sum of line values)", unit="CNY", ge=0),
        Column("freight", "money", "freight charged", unit="CNY", ge=0),
        Column("insurance", "money", "insurance charged", unit="CNY", ge=0),
        Column("dutiable_value", "money", "完税价格: goods + freight + insurance", unit="CNY",
               ge=0),
        Column("annual_total_before", "money", "buyer's dutiable value of earlier orders this "
               "calendar year", unit="CNY", ge=0),
        Column("annual_total_after", "money", "annual_total_before + dutiable_value",
               unit="CNY", ge=0),
        Column("over_single_limit", "bool", "dutiable value above 5,000 CNY"),
        Column("over_annual_limit", "bool", "annual total after this order above 26,000 CNY"),
        Column("general_trade", "bool", "taxed in full as general trade (a limit exceeded)"),
        Column("tax_factor", "rate", "share of VAT and consumption tax levied (0.7 within "
               "the limits, 1 otherwise)", ge=0, le=1),
        Column("tariff", "money", "import duty", unit="CNY", ge=0),
        Column("consumption_tax", "money", "consumption tax", unit="CNY", ge=0),
        Column("vat", "money", "import VAT", unit="CNY", ge=0),
        Column("tax_total", "money", "tariff + consumption tax + VAT (sum of lines)",
               unit="CNY", ge=0),
        Column("amount_paid", "money", "paid by the buyer: dutiable value + tax_total",
               unit="CNY", ge=0),
        Column("postal_tax_alt", "money", "what the parcel would pay as personal postal "
               "articles (行邮税, waived ≤ 50 CNY), for comparison", unit="CNY", ge=0),
        Column("payment_provider", "category", "payment enterprise", values=PAYMENT_PROVIDERS),
        Column("logistics_code", "category", "carrier (illustrative code)"),
        Column("waybill_no", "str", "waybill number", unique=True),
    ),
))

IMPORT_ORDER_LINES = register(TableSpec(
    name="import_order_lines",
    grain="one product line of an import order (one inventory-list item)",
    description="Goods of the import orders with the per-line tax; lines add up to the "
                "order's amounts. Freight and insurance are shared over the lines in "
                "proportion to goods value (`rules.allocate_dutiable_value`).",
    columns=(
        Column("order_id", "str", "order", references="import_orders.order_id"),
        Column("line_no", "int32", "line number within the order", ge=1),
        Column("filing_id", "category", "filed product",
               references="product_filings.filing_id"),
        Column("hs_code", "category", "10-digit commodity code",
               references="hs_codes.hs_code"),
        Column("quantity", "int32", "units (declaration units)", ge=1),
        Column("unit_price", "money", "retail price per unit", unit="CNY", ge=0),
        Column("line_value", "money", "unit_price × quantity", unit="CNY", ge=0),
        Column("dutiable_value", "money", "line value + share of freight and insurance",
               unit="CNY", ge=0),
        Column("vat_rate", "rate", "import VAT rate", ge=0, le=1),
        Column("consumption_tax_rate", "rate", "consumption-tax rate", ge=0, le=1),
        Column("tariff_rate", "rate", "MFN duty rate (applied only as general trade)", ge=0,
               le=1),
        Column("tariff", "money", "import duty", unit="CNY", ge=0),
        Column("consumption_tax", "money", "consumption tax", unit="CNY", ge=0),
        Column("vat", "money", "import VAT", unit="CNY", ge=0),
        Column("tax_total", "money", "tariff + consumption tax + VAT", unit="CNY", ge=0),
    ),
))

_MSG = "carried by"
CUSTOMS_MESSAGES = register(TableSpec(
    name="customs_messages",
    grain="one customs message of one import order (four per order unless one is missing)",
    description="The four messages declared for each order and compared by customs "
                "(三单对碰): order CEB311, payment CEB411, waybill CEB511, inventory list "
                "CEB621. A field is empty in messages that do not carry it. A few orders lack "
                "their payment or waybill message (三单不全, never sent). The customs "
                "comparison result is not given: `rules.CUSTOMS_MESSAGE_CHECKS` lists the "
                "fields that must agree.",
    columns=(
        Column("message_id", "str", "message id", unique=True),
        Column("order_id", "str", "order number", references="import_orders.order_id"),
        Column("message_type", "category", "message code", values=MESSAGE_TYPES),
        Column("message_name", "category", "what the message declares", values=MESSAGE_NAMES),
        Column("sent_at", "timestamp", "message sent to the e-port"),
        Column("status", "category", "e-port receipt (format check only): pending when no "
               "receipt yet", values=MESSAGE_STATUSES),
        Column("ebp_code", "category", f"e-commerce platform code ({_MSG} 311, 411, 621)",
               nullable=True),
        Column("ebc_code", "category", f"e-commerce enterprise code ({_MSG} 311, 621)",
               nullable=True),
        Column("payment_provider", "category", f"payment enterprise ({_MSG} 411)",
               values=PAYMENT_PROVIDERS, nullable=True),
        Column("logistics_code", "category", f"carrier code ({_MSG} 511, 621)",
               nullable=True),
        Column("buyer_name", "str", f"orderer's name ({_MSG} 311, 621)", nullable=True),
        Column("buyer_id_number", "str", f"orderer's ID number ({_MSG} 311, 621)",
               nullable=True),
        Column("payer_name", "str", f"payer's name ({_MSG} 411)", nullable=True),
        Column("payer_id_number", "str", f"payer's ID number ({_MSG} 411)", nullable=True),
        Column("consignee_name", "str", f"consignee's name ({_MSG} 311, 511, 621)",
               nullable=True),
        Column("currency", "category", "currency (always CNY)"),
        Column("goods_value", "money", f"goods value ({_MSG} 311, 621)", unit="CNY",
               nullable=True, ge=0),
        Column("freight", "money", f"freight ({_MSG} 311, 511, 621)", unit="CNY",
               nullable=True, ge=0),
        Column("tax", "money", f"tax total ({_MSG} 311, 621)", unit="CNY", nullable=True,
               ge=0),
        Column("amount_paid", "money", f"amount paid ({_MSG} 311, 411)", unit="CNY",
               nullable=True, ge=0),
        Column("waybill_no", "str", f"waybill number ({_MSG} 511, 621)", nullable=True),
        Column("goods_summary", "str", f"goods list `hs_code×quantity`, `|`-separated "
               f"({_MSG} 311, 621)", nullable=True),
    ),
))

IMPORT_MODE_COSTS = register(TableSpec(
    name="import_mode_costs",
    grain="one product line (an approved T_product record) planned for the next months",
    description="Planning data to choose the customs mode of each product line: 9610 "
                "direct mail (直购进口, one parcel per order from abroad) or 1210 bonded stock "
                "(保税备货, bulk shipment to the bonded warehouse, stored, picked per order). "
                "Demand is the expected monthly average; freight, storage and handling are "
                "quotes in CNY (teaching values of a plausible order of magnitude). Monthly cost "
                "and choice: `rules.import_mode_monthly_cost`, `rules.import_mode_choice`.",
    columns=(
        Column("filing_id", "str", "product line: the approved T_product record", unique=True,
               references="product_filings.filing_id"),
        Column("supplier_id", "str", "supplier", references="suppliers.supplier_id"),
        Column("goods_name_cn", "str", "goods name (Chinese)"),
        Column("unit_weight_kg", "float", "gross weight of one unit with its packing",
               unit="kg", ge=0),
        Column("current_mode", "category", "mode the supplier ships under today",
               values=CHANNEL_MODES),
        Column("monthly_orders", "int", "expected consumer orders per month", ge=1),
        Column("monthly_units", "int", "expected units sold per month (an order may hold "
               "several units)", ge=1),
        Column("promised_days", "int", "delivery time promised to the consumer (order to "
               "delivery)", unit="days", ge=1),
        Column("parcel_freight_9610", "money", "9610: international direct-mail freight per "
               "parcel (one parcel per order)", unit="CNY", ge=0),
        Column("lead_days_9610", "int", "9610: order to delivery", unit="days", ge=1),
        Column("inbound_freight_1210", "money", "1210: bulk freight to the bonded warehouse "
               "per unit", unit="CNY", ge=0),
        Column("avg_stock_units_1210", "int", "1210: average units held in the bonded "
               "warehouse (stock cover or the minimum batch, whichever is larger)", ge=0),
        Column("storage_1210", "money", "1210: storage per unit and month", unit="CNY",
               ge=0),
        Column("handling_1210", "money", "1210: bonded-warehouse handling and domestic "
               "delivery per order", unit="CNY", ge=0),
        Column("lead_days_1210", "int", "1210: order to delivery", unit="days", ge=1),
    ),
))

# which message types carry which columns (positions in MESSAGE_TYPES)
_CARRY = {
    "ebp_code": (0, 1, 3), "ebc_code": (0, 3), "payment_provider": (1,),
    "logistics_code": (2, 3), "buyer_name": (0, 3), "buyer_id_number": (0, 3),
    "payer_name": (1,), "payer_id_number": (1,), "consignee_name": (0, 2, 3),
    "goods_value": (0, 3), "freight": (0, 2, 3), "tax": (0, 3),
    "amount_paid": (0, 1), "waybill_no": (2, 3), "goods_summary": (0, 3),
}


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------

def n_import_orders_for(n_orders: int) -> int:
    return max(200, n_orders // 10)


@cache
def _import_goods_static() -> dict[str, np.ndarray]:
    """IMPORT_GOODS as arrays, with the goods names and specs flattened (per process)."""
    def col(k, dtype=object):
        return np.array([d[k] for d in IMPORT_GOODS], dtype=dtype)

    n_names = np.array([len(d["names"]) for d in IMPORT_GOODS], np.int64)
    n_specs = np.array([len(d["specs"]) for d in IMPORT_GOODS], np.int64)
    out = {
        "hs": col("hs"), "group": col("group"), "price": col("price", float),
        "tariff": col("tariff", float), "postal": col("postal", float),
        "n_names": n_names, "n_specs": n_specs,
        "name_off": np.cumsum(n_names) - n_names, "spec_off": np.cumsum(n_specs) - n_specs,
        "name_flat": np.array([x for d in IMPORT_GOODS for x in d["names"]], dtype=object),
        "spec_flat": np.array([x[0] for d in IMPORT_GOODS for x in d["specs"]], dtype=object),
        "kg_flat": np.array([x[1] for d in IMPORT_GOODS for x in d["specs"]], float),
    }
    for v in out.values():
        v.flags.writeable = False
    return out


def _goods_table(hs_codes: pd.DataFrame) -> dict[str, np.ndarray]:
    """IMPORT_GOODS joined with the world's hs_codes (codes absent there are dropped)."""
    st = _import_goods_static()
    hidx = pd.Index(hs_codes["hs_code"]).get_indexer(st["hs"])
    keep = np.flatnonzero(hidx >= 0)
    hrow = hidx[keep]
    g = {k: st[k][keep] for k in ("hs", "group", "price", "tariff", "postal", "n_names",
                                  "n_specs", "name_off", "spec_off")}
    g["category"] = hs_codes["category"].to_numpy(dtype=object)[hrow]
    g["unit"] = hs_codes["unit_cn"].to_numpy(dtype=object)[hrow]
    g["vat"] = hs_codes["vat_rate"].to_numpy(float)[hrow]
    g["ct"] = hs_codes["consumption_tax_rate"].to_numpy(float)[hrow]
    kg = np.array([h[:2] in KG_CHAPTERS for h in g["hs"]], dtype=bool)
    g["legal_unit"] = np.where(kg, "千克", g["unit"]).astype(object)
    # illustrative postal-article tax number: tax item (1 = 13 %, 2 = 20 %, 3 = 50 %) + goods
    item = np.searchsorted([0.13, 0.20, 0.50], g["postal"])
    g["postal_no"] = np.array([f"{i + 1:02d}{k + 1:02d}0000" for k, i in enumerate(item)],
                              dtype=object)
    return g


def _days(rng: np.random.Generator, lo, hi, n: int) -> np.ndarray:
    """Uniform whole days in [lo, hi] (int arrays or scalars, inclusive)."""
    lo = np.asarray(lo, np.int64)
    hi = np.maximum(np.asarray(hi, np.int64), lo)
    return lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)


def _date_arr(day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 (int, with a sentinel < -10**8 for missing) as naive dates."""
    d = np.asarray(day, np.int64)
    return np.where(d < -10**8, np.iinfo(np.int64).min, d * NS_PER_DAY).view("M8[ns]")


def _to_date(day: np.ndarray) -> pd.Series:
    """:func:`_date_arr` as a Series."""
    return pd.Series(_date_arr(day))


NAT_DAY = -(10**9)


@cache
def _pool(locale: str | None, kind: str, column: str = "value",
          nonempty: bool = False) -> np.ndarray:
    """Pool values of one kind (and locale) as a read-only object array (per process)."""
    pool = pools()
    sel = pool["kind"] == kind
    if locale is not None:
        sel &= pool["locale"] == locale
    if nonempty:
        sel &= pool[column] != ""
    out = pool.loc[sel, column].to_numpy()
    out.flags.writeable = False
    return out


def _str_opt(values: np.ndarray | pa.Array, present: np.ndarray) -> pd.Series:
    """Object array (or Arrow array) of str as a ``str`` Series, missing where not
    ``present``."""
    if not isinstance(values, pa.Array):
        values = np.asarray(values, dtype=object)
    return take(values, np.where(present, np.arange(len(values)), -1))


def _label_group(kind: str, table: str, ids, day: np.ndarray, detail,
                 kinds: np.ndarray | None = None) -> dict:
    """Labels of one planted anomaly: ``ids`` with their day (days since the epoch) and
    detail; ``kinds`` (optional): a kind per row replacing ``kind``. See :func:`_labels`."""
    return {"kind": kind, "table": table, "ids": np.asarray(ids, dtype=object),
            "day": np.asarray(day, np.int64), "detail": np.asarray(detail, dtype=object),
            "kinds": kinds}


def _labels(groups: list[dict]) -> pd.DataFrame:
    """The ``anomalies`` rows of the label groups, in order.

    Same frame as one ``anomaly_rows`` per group (its ``kind`` column replaced by the
    per-row kinds) concatenated; built at once, as one spec per run of rows of the same
    kind, when no group is empty (else the concatenation itself, whose column types then
    depend on the empty frames).
    """
    if any(not len(g["ids"]) for g in groups):
        return pd.concat([_label_group_frame(g) for g in groups], ignore_index=True)
    specs = []
    for g in groups:
        n = len(g["ids"])
        kinds = np.full(n, g["kind"], dtype=object) if g["kinds"] is None else g["kinds"]
        cut = np.flatnonzero(kinds[1:] != kinds[:-1]) + 1
        dates = _date_arr(g["day"])
        for a, b in zip(np.r_[0, cut], np.r_[cut, n], strict=True):
            specs.append(label_spec(str(kinds[a]), g["table"], g["ids"][a:b],
                                    start=dates[a:b], end=dates[a:b], detail=g["detail"][a:b]))
    return label_frame(specs)


def _label_group_frame(g: dict) -> pd.DataFrame:
    """One label group as ``anomaly_rows`` gives it (with the per-row kinds, if any)."""
    lab = anomaly_rows(g["kind"], g["table"], g["ids"], start=_to_date(g["day"]),
                       end=_to_date(g["day"]), detail=g["detail"])
    if g["kinds"] is not None:
        lab["kind"] = g["kinds"]
    return lab


def _record_numbers(prefix: str, years: np.ndarray, seq: np.ndarray, width: int) -> pa.Array:
    """``f"{prefix}{year}{seq:0{width}d}"`` per row, as Arrow strings (``seq`` ≥ 0)."""
    padded = pc.utf8_lpad(pc.cast(pa.array(np.asarray(seq, np.int64)), pa.string()),
                          width=width, padding="0")
    return join_str(prefix, np.asarray(years, np.int64), padded)


# ------------------------------------------------------------------------------------------
# Suppliers, enterprise filings, product filings
# ------------------------------------------------------------------------------------------

def _suppliers(ctx: Context, rng: np.random.Generator, n: int, start_day: int, end_day: int):
    cat = ctx.catalog
    countries = list(SUPPLIER_COUNTRIES)
    w = np.array([SUPPLIER_COUNTRIES[c][0] for c in countries])
    ci = rng.choice(len(countries), n, p=w / w.sum())
    country = np.array(countries)[ci]
    mk = cat.markets
    currency = mk["currency"].to_numpy()[mk.index.get_indexer(country)].astype(str)
    # company names: romanised family names of the country's locale (en_US when not Latin)
    en = _pool("en_US", "last_name", "ascii")
    locale_of = dict(zip(mk.index, mk["locale"].to_numpy(), strict=True))
    names = np.empty(n, dtype=object)
    for k, c in enumerate(countries):
        sel = np.flatnonzero(ci == k)
        cand = _pool(locale_of[c], "last_name", "ascii", nonempty=True)
        cand = cand if len(cand) >= 20 else en
        names[sel] = cand[rng.integers(0, len(cand), len(sel))]
    base = np.array([s[:1].upper() + s[1:] for s in names], dtype=object)
    suffix = np.array([SUPPLIER_COUNTRIES[c][1] for c in country], dtype=object)
    kind = np.array(["", " Cosmetics", " Trading", " International", " Group"],
                    dtype=object)[rng.integers(0, 5, n)]
    name = base + kind + " " + suffix
    brand = base + np.array(BRAND_SUFFIXES, dtype=object)[rng.integers(0, len(BRAND_SUFFIXES),
                                                                        n)]
    group = rng.choice(len(GROUPS), n, p=np.array(GROUP_WEIGHTS) / sum(GROUP_WEIGHTS))
    docs = {d: rng.random(n) < (0.93 if d in SUPPLIER_MANDATORY_DOCUMENTS else 0.8)
            for d in SUPPLIER_DOCUMENTS}
    credit = rng.choice(3, n, p=[0.8, 0.13, 0.07])
    capab = rng.choice(3, n, p=[0.8, 0.14, 0.06])
    # established suppliers (reviewed before the period) and newcomers during the period
    pre = rng.random(n) < 0.7
    good = np.arange(n) < 3  # a few sure-to-trade suppliers so every world has imports
    pre |= good
    credit[good] = 0
    capab[good] = 0
    for d in SUPPLIER_MANDATORY_DOCUMENTS:
        docs[d][good] = True
    review = np.where(pre, _days(rng, start_day - 720, start_day - 120, n),
                      _days(rng, start_day, end_day - 150, n))
    mand = np.all([docs[d] for d in SUPPLIER_MANDATORY_DOCUMENTS], axis=0)
    outcome = supplier_review_outcome(mand, np.array(CREDIT)[credit],
                                      np.array(CAPABILITY)[capab])
    # planted: approved although a mandatory document is missing
    cand = np.flatnonzero((credit == 0) & (capab == 0))
    k = min(len(cand), max(1, round(0.04 * n)))
    bad = rng.choice(cand, k, replace=False) if k else np.zeros(0, np.int64)
    bad_doc = np.array(SUPPLIER_MANDATORY_DOCUMENTS)[
        rng.integers(0, len(SUPPLIER_MANDATORY_DOCUMENTS), k)]
    for i, d in zip(bad, bad_doc, strict=True):
        docs[str(d)][i] = False
    outcome = outcome.astype(object)
    outcome[bad] = "approved"
    has_agr = outcome != "rejected"
    agreement = np.where(has_agr, review + _days(rng, 7, 30, n), NAT_DAY)
    missing = np.array(["|".join(d for d in SUPPLIER_DOCUMENTS if not docs[d][i])
                        for i in range(n)], dtype=object)
    size = rng.lognormal(0, 1.0, n)
    sid = np.array([f"SUP{i:04d}" for i in range(1, n + 1)], dtype=object)
    df = pd.DataFrame({
        "supplier_id": sid, "name": name.astype(str), "country": country,
        "currency": currency, "brand": brand.astype(str),
        "main_category": const_categorical(group, GROUPS),
        "channel_mode": const_categorical((rng.random(n) < 0.3).astype(int), CHANNEL_MODES),
        "own_mall": rng.random(n) < 0.25,
        **{f"has_{d}": docs[d] for d in SUPPLIER_DOCUMENTS},
        "missing_documents": _str_opt(missing, missing != ""),
        "credit_check": const_categorical(credit, CREDIT),
        "supply_capability": const_categorical(capab, CAPABILITY),
        "onsite_inspection": size > np.quantile(size, 0.7),
        "review_outcome": pd.Categorical(outcome, categories=OUTCOMES),
        "review_date": _date_arr(review),
        "re_review_due_date": _date_arr(review + SUPPLIER_REREVIEW_DAYS),
        "agreement_date": _date_arr(agreement),
    })
    labels = _label_group(
        "supplier_missing_document", "suppliers", sid[bad], review[bad],
        np.array([f"approved although mandatory document {d} is missing" for d in bad_doc],
                 dtype=object))
    return df, {"agreement": agreement, "size": size, "group": group, "brand": brand,
                "country": country, "currency": currency}, labels


def _enterprise_filings(rng, sup: pd.DataFrame, info: dict, end_day: int):
    agr = info["agreement"]
    s_idx = np.flatnonzero(agr > NAT_DAY)
    m = len(s_idx)
    own = sup["own_mall"].to_numpy()[s_idx]
    rows_s = np.repeat(s_idx, 2)
    agency = np.tile([0, 1], m)
    app = np.repeat(agr[s_idx], 2) + _days(rng, 2, 15, 2 * m)
    review = app + _days(rng, 3, 20, 2 * m)
    result = np.where(rng.random(2 * m) < 0.05, 1, 0)  # failed on site
    result[:6] = 0  # the sure-to-trade suppliers pass
    pending = review > end_day
    result = np.where(pending, 2, result)
    review = np.where(pending, NAT_DAY, review)
    approval = np.where(result == 0, review, NAT_DAY)
    status = np.where(result == 0, 0, np.where(result == 1, 1, 2))
    own_r = np.repeat(own, 2)
    integ = np.where((agency == 0) & own_r & (result == 0),
                     approval + _days(rng, 3, 20, 2 * m), NAT_DAY)
    integ = np.where(integ > end_day, NAT_DAY, integ)
    seq = np.arange(1, 2 * m + 1)
    number = np.where(agency == 0, [f"440196{i:04d}" for i in seq],
                      [f"4400{i:06d}" for i in seq]).astype(object)
    df = pd.DataFrame({
        "enterprise_filing_id": np.array([f"EF{i:05d}" for i in seq], dtype=object),
        "supplier_id": sup["supplier_id"].to_numpy()[rows_s],
        "agency": const_categorical(agency, AGENCIES),
        "filing_type": const_categorical(own_r.astype(int), FILING_TYPES),
        "application_date": _date_arr(app), "filing_number": number,
        "filing_number_received_date": _date_arr(app),
        "originals_requested": rng.random(2 * m) < 0.3,
        "onsite_review_result": const_categorical(result, REVIEW_RESULTS),
        "onsite_review_date": _date_arr(review), "approval_date": _date_arr(approval),
        "status": const_categorical(status, EF_STATUSES),
        "integration_completed_date": _date_arr(integ),
    })
    # the supplier may trade once both filings are approved (and its mall is connected)
    n = len(sup)
    ready = np.full(n, NAT_DAY, np.int64)
    ok = np.zeros(n, bool)
    ok[s_idx] = True
    for a in (0, 1):
        sel = agency == a
        ap = approval[sel]
        ok[s_idx] &= ap > NAT_DAY
        ready[s_idx] = np.maximum(ready[s_idx], ap)
    ok[s_idx] &= ~own | (integ[agency == 0] > NAT_DAY)
    ready[s_idx] = np.maximum(ready[s_idx], np.where(own, integ[agency == 0], NAT_DAY))
    ebc = np.full(n, None, dtype=object)
    ebc[s_idx] = number[agency == 0]
    return df, np.where(ok, ready, NAT_DAY), ebc


def _product_filings(rng, sup: pd.DataFrame, info: dict, goods: dict[str, np.ndarray],
                     fx_cny: dict[str, float], end_day: int):
    agr = info["agreement"]
    s_idx = np.flatnonzero(agr > NAT_DAY)
    ng = len(goods["hs"])
    # older filings (first batches after the agreement) and a recent batch awaiting checks
    n_old = np.clip(np.round(rng.lognormal(np.log(9), 0.5, len(s_idx))), 3, 40).astype(int)
    recent_ok = agr[s_idx] < end_day - 12
    n_new = np.where(recent_ok, rng.integers(1, 5, len(s_idx)), 0)
    per = n_old + n_new
    f_sup = np.repeat(s_idx, per)
    m = len(f_sup)
    first = np.repeat(np.cumsum(per) - per, per)
    pos = np.arange(m) - first
    is_new = pos >= np.repeat(n_old, per)
    n_batch = np.repeat(np.minimum(3, 1 + n_old // 6), per)
    batch = np.where(is_new, 3, pos % n_batch)
    batch_day = np.repeat(agr[s_idx], per) + 3 + 12 * batch
    batch_day = np.where(is_new, end_day - np.repeat(rng.integers(0, 10, len(s_idx)), per),
                         batch_day + np.repeat(rng.integers(0, 6, len(s_idx)), per))
    # goods: mostly of the supplier's group
    grp = info["group"][f_sup]
    gi_grp = weighted_choice_by_group(
        rng, np.array(GROUPS)[grp], goods["group"], np.ones(ng))
    gi = np.where(rng.random(m) < 0.85, gi_grp, rng.integers(0, ng, m))
    static = _import_goods_static()
    name_k = np.floor(rng.random(m) * goods["n_names"][gi]).astype(int)
    spec_k = np.floor(rng.random(m) * goods["n_specs"][gi]).astype(int)
    gname = static["name_flat"][goods["name_off"][gi] + name_k]
    spec = static["spec_flat"][goods["spec_off"][gi] + spec_k]
    net_kg = static["kg_flat"][goods["spec_off"][gi] + spec_k]
    brand = np.where(rng.random(m) < 0.9, info["brand"][f_sup],
                     info["brand"][rng.integers(0, len(sup), m)]).astype(object)
    countries = np.array(list(SUPPLIER_COUNTRIES))
    origin = np.where(rng.random(m) < 0.9, info["country"][f_sup],
                      countries[rng.integers(0, len(countries), m)]).astype(object)
    cur = info["currency"][f_sup]
    fx = np.array([fx_cny.get(c, np.nan) for c in cur], dtype=float)
    z = np.clip(rng.standard_normal(m), -3, 3)
    price_cny = goods["price"][gi] * 0.6 * np.exp(0.25 * z)  # declared (supply) price
    hs = goods["hs"][gi]
    decl_unit = goods["unit"][gi]
    legal_unit = goods["legal_unit"][gi]

    # planted errors: about a third of the recent batch, 3 % of older records (rejected)
    new_idx = np.flatnonzero(is_new)
    old_idx = np.flatnonzero(~is_new)
    k_new = min(len(new_idx), max(6, round(0.3 * len(new_idx))))
    k_old = min(len(old_idx), max(4, round(0.03 * len(old_idx))))
    err = np.concatenate([rng.choice(new_idx, k_new, replace=False),
                          rng.choice(old_idx, k_old, replace=False)])
    rng.shuffle(err)
    kind = np.full(m, -1)
    # hs_mismatch needs another category with the same unit (so only the code is wrong)
    g_unit = goods["unit"]
    g_cat = goods["category"]
    g_hs = goods["hs"]
    n_cat_of_unit = np.array([len(set(g_cat[g_unit == u])) for u in g_unit])
    partner = n_cat_of_unit[gi] > 1
    n_each = max(1, len(err) // len(FILING_ERRORS))
    elig = err[partner[err]][:n_each]
    kind[elig] = 1
    rest = err[kind[err] < 0]
    others = [0, 2, 3, 4]
    kind[rest] = np.array(others)[np.arange(len(rest)) % len(others)]
    errs = {}
    for k in range(len(FILING_ERRORS)):
        errs[FILING_ERRORS[k]] = np.flatnonzero(kind == k)
    detail = np.full(m, None, dtype=object)
    # invalid HS code: truncated to 8 digits, an 11th digit, or chapter 77 (reserved in the
    # Harmonized System, so never in the code table)
    ii = errs["invalid_hs_code"]
    for i, h in zip(ii, rng.integers(0, 3, len(ii)), strict=True):
        hs[i] = (hs[i][:8], hs[i] + "0", "77" + hs[i][2:])[h]
        detail[i] = f"hs_code {hs[i]} is not a valid 10-digit code of the code table"
    # hs mismatch: a valid code of another category with the same declaration unit
    for i in errs["hs_mismatch"]:
        j = gi[i]
        cand = np.flatnonzero((g_unit == g_unit[j]) & (g_cat != g_cat[j]))
        k = cand[int(rng.integers(0, len(cand)))]
        detail[i] = (f"hs_code {g_hs[k]} ({g_cat[k]}) does not fit goods {gname[i]} "
                     f"({g_cat[j]}, {g_hs[j]})")
        hs[i] = g_hs[k]
    # missing mandatory field
    mi = errs["missing_field"]
    fld = np.array(MISSING_FIELDS)[rng.integers(0, len(MISSING_FIELDS), len(mi))]
    present = {f: np.ones(m, bool) for f in MISSING_FIELDS}
    for i, f in zip(mi, fld, strict=True):
        present[str(f)][i] = False
        detail[i] = f"mandatory field {f} is empty"
    # unit mismatch: declaration unit other than the code's
    for i in errs["unit_mismatch"]:
        wrong = "件" if decl_unit[i] == "千克" else "千克"
        detail[i] = f"declaration_unit {wrong} but the code's unit is {decl_unit[i]}"
        decl_unit[i] = wrong
    # declared price outlier: 10–30 times too high or too low
    pi = errs["price_outlier"]
    fac = rng.uniform(10, 30, len(pi)) ** np.where(rng.random(len(pi)) < 0.5, 1, -1)
    price_cny[pi] *= fac
    for i, f in zip(pi, fac, strict=True):
        detail[i] = f"declared price {f:.3g} × the usual price of {gname[i]}"
    whole = np.isin(cur, ["JPY", "KRW"])
    local = price_cny / fx
    declared = np.where(whole, np.round(local), round_cents(local))
    declared = np.maximum(declared, np.where(whole, 1.0, 0.01))

    # rates follow the filed code when it is in the table, else the goods' own code
    gidx = pd.Index(g_hs).get_indexer(hs)
    rate_g = np.where(gidx >= 0, gidx, gi)
    vat = goods["vat"][rate_g]
    ct = goods["ct"][rate_g]

    # status: the recent batch awaits the check; older records were decided by customs
    is_err = kind >= 0
    status = np.where(is_new, 2, np.where(is_err, 1, 0))
    reviewed = np.where(is_new, NAT_DAY, batch_day + _days(rng, 2, 10, m))
    late = (status != 2) & (reviewed > end_day)
    status = np.where(late, 2, status)
    reviewed = np.where(late, NAT_DAY, reviewed)
    approved = status == 0
    seq = np.arange(1, m + 1)
    years = np.where(approved, reviewed, 0).view("M8[D]").astype("M8[Y]").astype(np.int64) + 1970
    cust_no = _record_numbers("5101", years, seq, 6)
    ciq_no = _record_numbers("44", years, seq, 8)
    # reject reason of each error kind; kind -1 (no error) picks the trailing ""
    reason = np.array([REJECT_REASONS[e] for e in FILING_ERRORS] + [""], dtype=object)[kind]
    fid = make_ids("TP", m, width=6)
    sids = sup["supplier_id"].to_numpy()[f_sup]
    df = pd.DataFrame({
        "filing_id": fid, "supplier_id": sids,
        "batch_no": np.char.add(np.char.add(sids.astype(str), "-B"), (batch + 1).astype(str)),
        "submitted_date": _date_arr(batch_day), "goods_name_cn": gname.astype(str),
        "spec_model": _str_opt(spec, present["spec_model"]),
        "brand": _str_opt(brand, present["brand"]),
        "origin_country": pd.Categorical(np.where(present["origin_country"], origin, None)),
        "hs_code": hs.astype(str), "declaration_unit": decl_unit.astype(str),
        "legal_unit": legal_unit.astype(str),
        "legal_quantity": np.where(legal_unit == "千克", net_kg, 1.0),
        "declared_unit_price": declared, "currency": cur,
        "fx_rate_cny": fx, "postal_tax_number": goods["postal_no"][rate_g],
        "postal_tax_rate": goods["postal"][rate_g], "vat_rate": vat,
        "consumption_tax_rate": ct, "tariff_rate": goods["tariff"][rate_g],
        "cbec_tax_rate": np.round(cbec_effective_tax_rate(vat, ct), 6),
        "status": const_categorical(status, PF_STATUSES), "reviewed_date": _date_arr(reviewed),
        "customs_record_no": _str_opt(cust_no, approved),
        "ciq_record_no": _str_opt(ciq_no, approved),
        "reject_reason": _str_opt(reason, status == 1),
    })
    idx = np.flatnonzero(kind >= 0)
    idx = idx[np.argsort(kind[idx], kind="stable")]
    labels = _label_group("filing", "product_filings", fid[idx], batch_day[idx], detail[idx],
                          np.array([f"filing_{e}" for e in FILING_ERRORS])[kind[idx]])
    # what the order stage needs: approved filings, their supplier, code, rates and price
    sold = {"filing_id": fid, "sup": f_sup, "hs": hs, "vat": vat, "ct": ct,
            "tariff": goods["tariff"][rate_g], "postal": goods["postal"][rate_g],
            "price_cny": price_cny, "reviewed": reviewed, "kg": net_kg, "name": gname}
    if approved.any():  # filter the columns first (same frame, one take per column less)
        sold = pd.DataFrame({k: np.asarray(v)[approved] for k, v in sold.items()})
    else:  # no rows: let pandas infer the column types from the full columns, as before
        sold = pd.DataFrame(sold)[approved].reset_index(drop=True)
    return df, sold, labels


# ------------------------------------------------------------------------------------------
# Import mode planning (9610 direct mail vs 1210 bonded stock)
# ------------------------------------------------------------------------------------------

#: Countries close to China: shorter and cheaper direct-mail parcels (simulation parameter).
NEAR_COUNTRIES = ("JP", "KR")
PROMISED_DAYS = (3, 5, 7, 10, 15)
PROMISED_WEIGHTS = (0.2, 0.25, 0.25, 0.15, 0.15)
MIN_BATCHES = (200, 400, 600)  # smallest bulk shipment to the bonded warehouse (units)


def _mode_costs(rng: np.random.Generator, sup: pd.DataFrame, info: dict,
                sold: pd.DataFrame) -> pd.DataFrame:
    """``import_mode_costs``: one planning row per approved product line (own generator)."""
    m = len(sold)
    s_row = sold["sup"].to_numpy()
    near = np.isin(info["country"][s_row], NEAR_COUNTRIES)
    kg = np.round(np.maximum(sold["kg"].to_numpy(float), 0.02) + 0.15, 3)  # with packing
    orders = np.clip(np.round(rng.lognormal(np.log(25), 1.1, m)), 1, 3000).astype(np.int64)
    units = orders + rng.poisson(orders * rng.uniform(0.05, 0.8, m))
    promised = rng.choice(PROMISED_DAYS, m, p=np.array(PROMISED_WEIGHTS))
    lead9 = np.where(near, rng.integers(4, 9, m), rng.integers(7, 15, m))
    lead12 = rng.integers(1, 4, m)
    dist = np.where(near, 0.8, 1.0)
    freight9 = round_cents(dist * (30 + 28 * kg) * rng.lognormal(0, 0.12, m))
    inbound = round_cents((1.5 + 8 * kg) * rng.lognormal(0, 0.2, m))
    storage = round_cents((1.0 + 2.5 * kg) * rng.lognormal(0, 0.2, m))
    cover = rng.uniform(1.0, 2.5, m)
    batch = np.array(MIN_BATCHES)[rng.integers(0, len(MIN_BATCHES), m)]
    stock = np.ceil(np.maximum(units * cover, batch / 2)).astype(np.int64)
    handling = round_cents(rng.uniform(9, 16, m))
    mode = sup["channel_mode"].cat.codes.to_numpy()[s_row]
    return pd.DataFrame({
        "filing_id": sold["filing_id"].to_numpy(object),
        "supplier_id": sup["supplier_id"].to_numpy(object)[s_row],
        "goods_name_cn": sold["name"].to_numpy(object),
        "unit_weight_kg": kg, "current_mode": const_categorical(mode, CHANNEL_MODES),
        "monthly_orders": orders, "monthly_units": units.astype(np.int64),
        "promised_days": promised.astype(np.int64),
        "parcel_freight_9610": freight9, "lead_days_9610": lead9.astype(np.int64),
        "inbound_freight_1210": inbound, "avg_stock_units_1210": stock,
        "storage_1210": storage, "handling_1210": handling,
        "lead_days_1210": lead12.astype(np.int64),
    })


# ------------------------------------------------------------------------------------------
# Buyers, orders, lines, messages
# ------------------------------------------------------------------------------------------

def _zh_names(rng, n: int) -> pa.Array:
    last = _pool("zh_CN", "last_name")
    first = _pool("zh_CN", "first_name")
    return join_str(take_str(last, rng.integers(0, len(last), n)),
                    take_str(first, rng.integers(0, len(first), n)))


@cache
def _phone_prefixes() -> np.ndarray:
    out = pd.Series(_pool("zh_CN", "phone"), dtype="str").str[:7].to_numpy()
    out.flags.writeable = False
    return out


def _duplicated(key: np.ndarray) -> np.ndarray:
    """Like ``pd.Series(key).duplicated()``: True on repeats of an earlier value."""
    dup = np.ones(len(key), bool)
    dup[np.unique(key, return_index=True)[1]] = False
    return dup


def _buyers(rng, n: int, start: pd.Timestamp):
    area = rng.choice(len(AREAS), n, p=np.array(AREA_WEIGHTS) / sum(AREA_WEIGHTS))
    codes = np.array([int(a[0]) for a in AREAS])[area]
    # adults born 1965 – (start year − 18); sequence numbers unique per buyer
    lo = pd.Timestamp("1965-01-01").value // NS_PER_DAY
    hi = pd.Timestamp(year=start.year - 18, month=1, day=1).value // NS_PER_DAY
    birth = _days(rng, lo, hi, n).view("M8[D]")
    month = birth.astype("M8[M]")
    ymd = ((month.astype("M8[Y]").astype(np.int64) + 1970) * 10000
           + (month.astype(np.int64) % 12 + 1) * 100
           + (birth - month).astype(np.int64) + 1)
    seq = rng.integers(0, 1000, n)
    key = (codes * 10**8 + ymd) * 1000 + seq
    dup = _duplicated(key)
    while dup.any():  # ID numbers are unique: redraw the sequence number of duplicates
        seq[dup] = rng.integers(0, 1000, int(dup.sum()))
        key = (codes * 10**8 + ymd) * 1000 + seq
        dup = _duplicated(key)
    chars = np.hstack([digit_chars(codes, 6), digit_chars(ymd, 8), digit_chars(seq, 3)])
    first17 = fixed_width_str(chars)
    idn = join_str(first17, id_number_check_digit(first17).astype(object))
    phones = _phone_prefixes()
    phone = join_str(take_str(phones, rng.integers(0, len(phones), n)),
                     fixed_width_str(digit_chars(rng.integers(0, 10_000, n), 4)))
    streets = _pool("zh_CN", "street_name")
    city = np.array([a[2] for a in AREAS], dtype=object)
    district = np.array([a[3] for a in AREAS], dtype=object)
    addr = join_str(take_str(city, area), take_str(district, area),
                    take_str(streets, rng.integers(0, len(streets), n)),
                    rng.integers(1, 300, n), "号", rng.integers(1, 30, n), "栋",
                    rng.integers(1, 33, n) * 100 + rng.integers(1, 9, n), "室")
    df = pd.DataFrame({
        "buyer_id": str_series(id_array("IB", n, width=7)),
        "name": str_series(_zh_names(rng, n)), "id_number": str_series(idn),
        "phone": str_series(phone),
        "province": _cat_of(area, [a[1] for a in AREAS]),
        "city": _cat_of(area, [a[2] for a in AREAS]),
        "address": str_series(addr),
    })
    return df


def _waybills(rng, mode_9610: np.ndarray, country: np.ndarray):
    """Carrier codes and unique waybill numbers per order (illustrative formats)."""
    n = len(mode_9610)
    carrier = rng.integers(0, len(DOMESTIC_CARRIERS), n)
    cidx = np.where(mode_9610, len(DOMESTIC_CARRIERS), carrier)
    serial = rng.permutation(n) + rng.integers(10**6, 10**7)  # unique numbers
    dom = join_str(take_str([c[1] for c in DOMESTIC_CARRIERS], carrier),
                   fixed_width_str(digit_chars((serial * 7_919_113 + 3_141_592_653)
                                               % 10**13, 13)))
    # 9610: inbound EMS items, UPU S10 (E? + 8 digits + check + origin country)
    s8 = serial % 10**8
    chk = s10_check_digit(s8)
    s10 = join_str("E", take_str(list("ABCDEFGHJ"), serial % 9),
                   fixed_width_str(digit_chars(s8, 8)),
                   chk.astype(np.int64), pa.array(country.astype(object), type=pa.string()))
    wb = pc.if_else(pa.array(mode_9610), s10, dom)
    return cidx, wb


def _import_window(start_day: int, last_order_day: int) -> tuple[int, int]:
    """First day of the import orders and the new year (1 January) inside the window.

    The channel's history starts :data:`~cbec_sim.rules.IMPORT_HISTORY_DAYS` before the
    world's first day, and at least 61 days before the last 1 January two weeks or more
    before the last order day, so every world's import orders span a new year and the annual
    limit resets (days since 1970-01-01).
    """
    last = np.datetime64(int(last_order_day) - 14, "D")
    new_year = int(last.astype("M8[Y]").astype("M8[D]").astype(np.int64))
    return min(start_day - IMPORT_HISTORY_DAYS, new_year - 61), new_year


def _day_weights(first_day: int, last_day: int) -> np.ndarray:
    """Relative order volume per day of the import window (11.11 and 6.18 peaks)."""
    days = np.arange(first_day, last_day + 1).astype("M8[D]")
    month_start = days.astype("M8[M]")
    month = month_start.astype(np.int64) % 12 + 1  # months since 1970-01 → 1..12
    day = (days - month_start.astype("M8[D]")).astype(np.int64) + 1
    w = np.ones(len(days))
    md = month * 100 + day
    w[(md >= 1101) & (md <= 1111)] = 2.0
    w[md == 1111] = 5.0
    w[(md >= 601) & (md <= 618)] = 1.6
    w[md == 618] = 4.0
    return w


def _cat_of(idx: np.ndarray, labels) -> pd.Categorical:
    """Categorical of ``labels[idx]`` with the used labels as sorted categories."""
    labels = np.asarray(labels, dtype=object)
    uniq, inv = np.unique(labels.astype(str), return_inverse=True)
    c = inv[idx]
    used = np.unique(c)
    return pd.Categorical.from_codes(np.searchsorted(used, c), categories=list(uniq[used]))


def _cat_rows(col: pd.Series, types: tuple[int, ...], rows: np.ndarray) -> pd.Categorical:
    """An order-level categorical spread on the four message rows, kept on ``types``, at the
    message slots ``rows`` (positions in the 4 × orders grid)."""
    c = np.full((len(col), 4), -1, dtype=np.int64)
    for t in types:
        c[:, t] = col.cat.codes.to_numpy()
    return pd.Categorical.from_codes(c.ravel()[rows], categories=col.cat.categories)


def _replace(arr: pa.Array, rows: np.ndarray, values: np.ndarray) -> pa.Array:
    """``arr`` with ``rows`` replaced by ``values`` (strings), via one Arrow take."""
    idx = np.arange(len(arr))
    idx[rows] = len(arr) + np.arange(len(rows))
    both = pa.concat_arrays([arr.cast(pa.string()),
                             pa.array(np.asarray(values, dtype=object), type=pa.string())])
    return both.take(pa.array(idx))


def _join_lists(values: pa.Array, offsets: np.ndarray) -> pa.Array:
    """Join consecutive runs of strings (run boundaries ``offsets``) with ``|``."""
    lst = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)
    return pc.binary_join(lst, "|")


#: Buyers who order only around the new year: about RESET_ORDER_VALUE CNY per order, up to
#: RESET_ORDERS one-line orders on each side of 1 January — within the annual limit in each
#: calendar year, above it only if the two years are wrongly added up; the first one's first
#: order is above the single limit (simulation parameters).
RESET_BUYERS = 2
RESET_ORDERS = 5
RESET_ORDER_VALUE = 4300.0
RESET_BIG_VALUE = 5100.0  # the first new-year buyer's first order: above the single limit
RESET_MAX_PRICE = 1000.0
RESET_DAYS = 90  # how far from 1 January their orders may lie


def _new_year_orders(rng: np.random.Generator, reset_ids: np.ndarray, n_lines: np.ndarray,
                     heavy_o: np.ndarray, unit_price: np.ndarray, day: np.ndarray,
                     new_year: int) -> dict[int, np.ndarray]:
    """Orders given to each new-year buyer: one-line orders of goods up to RESET_MAX_PRICE,
    RESET_ORDERS before and RESET_ORDERS after 1 January (fewer in very small worlds)."""
    first_line = np.cumsum(n_lines) - n_lines
    cand = np.flatnonzero((n_lines == 1) & ~heavy_o
                          & (unit_price[first_line] <= RESET_MAX_PRICE)
                          & (np.abs(day - new_year + 0.5) < RESET_DAYS))
    before = rng.permutation(cand[day[cand] < new_year])
    after = rng.permutation(cand[day[cand] >= new_year])
    out = {}
    for k, b in enumerate(reset_ids):
        sl = slice(k * RESET_ORDERS, (k + 1) * RESET_ORDERS)
        out[int(b)] = np.sort(np.concatenate([before[sl], after[sl]]))
    return out


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    rng = ctx.rng("imports")
    n_imp = n_import_orders_for(ctx.n_orders)
    start_day = int(ctx.start.value // NS_PER_DAY)
    end_day = int(ctx.end.value // NS_PER_DAY)
    hs_codes = ctx.tables["hs_codes"]
    goods = _goods_table(hs_codes)
    fx = ctx.catalog.fx["cny"]
    fx_cny = dict(zip(fx.index, fx.to_numpy(float), strict=True))
    fx_cny["CNY"] = 1.0

    n_sup = int(np.clip(round(n_imp / 400), 15, 400))
    sup, info, lab_sup = _suppliers(ctx, rng, n_sup, start_day, end_day)
    ent, ready, ebc = _enterprise_filings(rng, sup, info, end_day)
    pf, sold, lab_pf = _product_filings(rng, sup, info, goods, fx_cny, end_day)
    # later additions draw from their own child generators (names appended at the end), so
    # the tables above never change when one is added
    kids = spawn(rng, ["import_mode_costs", "annual_reset", "missing_messages"])
    modes = _mode_costs(kids["import_mode_costs"], sup, info, sold)

    # suppliers trade from the day after both enterprise filings and their first product
    # approvals are done
    last_appr = np.full(n_sup, NAT_DAY, np.int64)
    np.maximum.at(last_appr, sold["sup"].to_numpy(), sold["reviewed"].to_numpy())
    live = np.where((ready > NAT_DAY) & (last_appr > NAT_DAY),
                    np.maximum(ready, last_appr) + 1, NAT_DAY)
    last_order_day = end_day - 3
    active = np.flatnonzero((live > NAT_DAY) & (live <= last_order_day - 7))
    if len(active) == 0:  # very short worlds: let the established suppliers trade anyway
        active = np.flatnonzero((ready > NAT_DAY) & (last_appr > NAT_DAY))[:3]
        live[active] = start_day
    win_day, new_year = _import_window(start_day, last_order_day)
    first_day = np.maximum(live[active], win_day)

    # ---- orders: supplier, day, hour --------------------------------------------------
    dw = _day_weights(win_day, last_order_day)
    cdf = np.concatenate([[0.0], np.cumsum(dw)])
    span = cdf[-1] - cdf[first_day - win_day]
    sw = info["size"][active] * np.maximum(span, 1e-9)
    si = rng.choice(len(active), n_imp, p=sw / sw.sum())
    lo = cdf[first_day[si] - win_day]
    u = lo + rng.random(n_imp) * (cdf[-1] - lo)
    day = win_day + np.clip(np.searchsorted(cdf, u, side="right") - 1, 0, len(dw) - 1)
    day = np.maximum(day, first_day[si])
    hour = rng.choice(24, n_imp, p=HOURLY_CN / HOURLY_CN.sum())
    local_ns = day * NS_PER_DAY + hour * 3_600 * 10**9 + rng.integers(0, 3_600, n_imp) * 10**9
    order = np.argsort(local_ns, kind="stable")
    local_ns, si = local_ns[order], si[order]
    created = local_ns - CN_UTC_OFFSET_NS
    year = local_ns.view("M8[ns]").astype("M8[Y]").astype(np.int64) + 1970
    s_of = active[si]  # supplier row of each order

    # ---- buyers: a heavy-tailed few order a lot (代购-like), most a handful -----------
    n_b = max(80, n_imp // 3)
    buyers = _buyers(rng, n_b, ctx.start)
    n_heavy = max(2, n_b // 400)
    heavy_ids = rng.choice(n_b, n_heavy, replace=False)
    years_span = max((last_order_day - win_day + 1) / 365.0, 1 / 12)
    n_heavy_orders = min(int(n_heavy * 12 * years_span), n_imp // 10)
    heavy_o = np.zeros(n_imp, bool)
    heavy_o[rng.choice(n_imp, n_heavy_orders, replace=False)] = True
    bw = rng.lognormal(0, 0.6, n_b)
    bw[heavy_ids] = 0
    # a few buyers who order only around the new year (filled in below, own generator)
    cand_b = np.setdiff1d(np.arange(n_b), heavy_ids)
    reset_ids = kids["annual_reset"].choice(cand_b, min(RESET_BUYERS, len(cand_b)),
                                            replace=False)
    bw[reset_ids] = 0
    buyer = rng.choice(n_b, n_imp, p=bw / bw.sum())
    buyer[heavy_o] = heavy_ids[rng.integers(0, n_heavy, n_heavy_orders)]

    # ---- lines ----------------------------------------------------------------------
    n_lines = rng.choice([1, 2, 3, 4], n_imp, p=[0.64, 0.23, 0.09, 0.04])
    lo_idx = np.repeat(np.arange(n_imp), n_lines)
    n_l = len(lo_idx)
    line_no = np.arange(n_l) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    # cheaper goods sell more often (popularity ∝ 1 / price, lognormal noise)
    pop = rng.lognormal(0, 0.8, len(sold)) / sold["price_cny"].to_numpy()
    fi = weighted_choice_by_group(rng, s_of[lo_idx], sold["sup"].to_numpy(), pop)
    markup = rng.lognormal(np.log(1.65), 0.08, len(sold))
    retail = np.maximum(np.floor(sold["price_cny"].to_numpy() * markup) + 0.9, 0.9)
    unit_price = round_cents(retail[fi])
    # heavy buyers buy several units, about 1,500–3,500 CNY per line
    heavy_l = heavy_o[lo_idx]
    qty = 1 + rng.poisson(0.3, n_l)
    qty[heavy_l] = np.clip(np.round(rng.uniform(1500, 3500, int(heavy_l.sum()))
                                    / unit_price[heavy_l]), 1, 20).astype(np.int64)
    reset_o = _new_year_orders(kids["annual_reset"], reset_ids, n_lines, heavy_o,
                               unit_price, local_ns // NS_PER_DAY, new_year)
    first_line = np.cumsum(n_lines) - n_lines
    for k, (b, o_sel) in enumerate(reset_o.items()):
        buyer[o_sel] = b
        qty[first_line[o_sel]] = np.maximum(
            1, np.floor(RESET_ORDER_VALUE / unit_price[first_line[o_sel]])).astype(np.int64)
        if k == 0 and len(o_sel):  # once above the single limit, never above the annual one
            qty[first_line[o_sel[0]]] = np.ceil(RESET_BIG_VALUE / unit_price[first_line[o_sel[0]]])
    line_value = round_cents(unit_price * qty)
    goods_value = np.bincount(lo_idx, weights=to_cents(line_value), minlength=n_imp) / 100.0

    # ---- freight, insurance, limits, tax ---------------------------------------------
    mode = sup["channel_mode"].cat.codes.to_numpy()[s_of]  # 0 = 1210, 1 = 9610
    free = (goods_value >= 99) & (rng.random(n_imp) < 0.7)
    freight = np.where(mode == 1, round_cents(rng.lognormal(np.log(38), 0.25, n_imp)),
                       np.where(free, 0.0, np.array([6.0, 8, 10, 12, 15])[
                           rng.integers(0, 5, n_imp)]))
    insured = rng.random(n_imp) < 0.15
    insurance = np.where(insured, round_cents(np.maximum(goods_value * 0.003, 0.5)), 0.0)
    dutiable = (to_cents(goods_value) + to_cents(freight) + to_cents(insurance)) / 100.0
    lim = cbec_limit_check(buyer, year, dutiable)
    line_dut = allocate_dutiable_value(line_value, lo_idx, freight + insurance)
    l_vat, l_ct, l_tariff, l_postal = (sold[c].to_numpy(float)[fi]
                                       for c in ("vat", "ct", "tariff", "postal"))
    tax = cross_border_import_tax(line_dut, l_vat, l_ct, l_tariff, lim["general_trade"][lo_idx])

    def osum(x):
        return np.bincount(lo_idx, weights=to_cents(x), minlength=n_imp) / 100.0

    o_tariff, o_ct, o_vat, o_tax = (osum(tax[k]) for k in ("tariff", "consumption_tax", "vat",
                                                             "total"))
    amount_paid = (to_cents(dutiable) + to_cents(o_tax)) / 100.0
    postal = postal_article_tax(line_value, l_postal, lo_idx, n_imp)
    paid = created + rng.integers(60, 1800, n_imp) * 10**9
    logi, waybill = _waybills(rng, mode == 1, info["country"][s_of])
    pay = rng.choice(3, n_imp, p=[0.55, 0.38, 0.07])
    oid = id_array("IO", n_imp, width=8)
    sup_ids = sup["supplier_id"].to_numpy()
    orders = pd.DataFrame({
        "order_id": str_series(oid),
        "buyer_id": take(buyers["buyer_id"], buyer),
        "supplier_id": categorical(s_of, sup_ids),
        "channel_mode": const_categorical(mode, CHANNEL_MODES),
        "created_at": pd.Series(created.view("M8[ns]")).dt.tz_localize("UTC"),
        "paid_at": pd.Series(paid.view("M8[ns]")).dt.tz_localize("UTC"),
        "order_year": year, "currency": const_categorical(np.zeros(n_imp, np.int8), ("CNY",)),
        "n_lines": n_lines, "total_quantity": np.bincount(lo_idx, weights=qty,
                                                          minlength=n_imp).astype(np.int64),
        "goods_value": goods_value, "freight": freight, "insurance": insurance,
        "dutiable_value": dutiable,
        "annual_total_before": lim["annual_total_before"],
        "annual_total_after": lim["annual_total_after"],
        "over_single_limit": lim["over_single_limit"],
        "over_annual_limit": lim["over_annual_limit"],
        "general_trade": lim["general_trade"],
        "tax_factor": np.where(lim["general_trade"], 1.0, CBEC_TAX_FACTOR),
        "tariff": o_tariff, "consumption_tax": o_ct, "vat": o_vat, "tax_total": o_tax,
        "amount_paid": amount_paid, "postal_tax_alt": postal,
        "payment_provider": const_categorical(pay, PAYMENT_PROVIDERS),
        "logistics_code": _cat_of(logi, LOGISTICS_CODES),
        "waybill_no": str_series(waybill),
    })
    hs_code, hs_cats = pd.factorize(sold["hs"].to_numpy(), sort=True)
    lines = pd.DataFrame({
        "order_id": str_series(oid.take(pa.array(lo_idx))),
        "line_no": line_no.astype(np.int32),
        "filing_id": categorical(fi, sold["filing_id"]),
        "hs_code": categorical(hs_code[fi], hs_cats),
        "quantity": qty.astype(np.int32),
        "unit_price": unit_price, "line_value": line_value, "dutiable_value": line_dut,
        "vat_rate": l_vat, "consumption_tax_rate": l_ct,
        "tariff_rate": l_tariff, "tariff": tax["tariff"],
        "consumption_tax": tax["consumption_tax"], "vat": tax["vat"],
        "tax_total": tax["total"],
    })

    # platform code: the supplier's own mall, else the provider's open platform
    ebp_s = np.where(sup["own_mall"].to_numpy(), ebc, PROVIDER_PLATFORM_CODE)
    msgs, lab_msg = _messages(ctx, rng, orders, buyers, buyer, lines, qty, n_lines,
                              s_of, ebc, ebp_s, local_ns, mode, kids["missing_messages"])
    return {
        "suppliers": sup, "enterprise_filings": ent, "product_filings": pf,
        "import_buyers": buyers, "import_orders": orders, "import_order_lines": lines,
        "customs_messages": msgs, "import_mode_costs": modes,
        "anomalies": _labels([lab_sup, lab_pf, *lab_msg]),
    }


def _messages(ctx, rng, orders, buyers, buyer, lines, qty, n_lines, s_of, ebc, ebp,
              local_ns, mode, miss_rng):
    n = len(orders)
    paid = ns(orders["paid_at"])
    t311 = paid + rng.integers(60, 600, n) * 10**9
    t411 = paid + rng.integers(30, 300, n) * 10**9
    t511 = paid + np.where(mode == 1, rng.integers(6 * 3600, 72 * 3600, n),
                           rng.integers(1800, 8 * 3600, n)) * 10**9
    t621 = np.maximum(np.maximum(t311, t411), t511) + rng.integers(300, 3600, n) * 10**9
    name = pa.array(buyers["name"]).take(pa.array(buyer))
    idn = pa.array(buyers["id_number"]).take(pa.array(buyer))
    hc = lines["hs_code"].cat
    hs = pa.array(np.asarray(hc.categories, dtype=object), type=pa.string()).take(
        pa.array(hc.codes.to_numpy().astype(np.int64)))
    offsets = np.concatenate([[0], np.cumsum(n_lines)])
    summary = _join_lists(join_str(hs, "×", qty), offsets)

    # planted mismatches between messages: one compared field per affected order
    k = max(len(MISMATCH_CHECKS), round(0.02 * n))
    bad = np.sort(rng.choice(n, min(k, n), replace=False))
    kind = rng.permutation(np.arange(len(bad)) % len(MISMATCH_CHECKS))
    amount = orders["amount_paid"].to_numpy()
    amount411 = amount.copy()
    waybill = pa.array(orders["waybill_no"])
    detail = np.empty(len(bad), dtype=object)
    # amount: payment without the tax, or off by a few yuan
    sel = bad[kind == 0]
    taxes = orders["tax_total"].to_numpy()[sel]
    off = np.where(taxes > 0, -taxes, round_cents(rng.uniform(1, 20, len(sel))))
    amount411[sel] = round_cents(amount[sel] + off)
    detail[kind == 0] = [f"CEB311.amount_paid={a:.2f} vs CEB411.amount_paid={b:.2f}"
                         for a, b in zip(amount[sel], amount411[sel], strict=True)]
    # consignee name on the waybill: another person
    sel = bad[kind == 1]
    other = _zh_names(rng, len(sel)).to_numpy(zero_copy_only=False)
    orig = name.take(pa.array(sel)).to_numpy(zero_copy_only=False)
    other = np.where(other == orig, other + "华", other)
    name511 = _replace(name, sel, other)
    detail[kind == 1] = [f"CEB311.consignee_name={a} vs CEB511.consignee_name={b}"
                         for a, b in zip(orig, other, strict=True)]
    # payer ID number: one digit of the birth date or sequence mistyped
    sel = bad[kind == 2]
    ids = idn.take(pa.array(sel)).to_numpy(zero_copy_only=False)
    pos = rng.integers(10, 17, len(sel))
    step = rng.integers(1, 10, len(sel))
    new_ids = np.array([s[:p] + str((int(s[p]) + d) % 10) + s[p + 1:]
                        for s, p, d in zip(ids, pos, step, strict=True)], dtype=object)
    detail[kind == 2] = [f"CEB311.buyer_id_number={a} vs CEB411.payer_id_number={b}"
                         for a, b in zip(ids, new_ids, strict=True)]
    idn411 = _replace(idn, sel, new_ids)
    # goods on the inventory list: one more unit of the first line
    sel = bad[kind == 3]
    q621 = qty.copy()
    q621[offsets[sel]] += 1
    summary621 = _join_lists(join_str(hs, "×", q621), offsets)
    detail[kind == 3] = [
        f"CEB311.goods_summary={a} vs CEB621.goods_summary={b}" for a, b in zip(
            summary.take(pa.array(sel)).to_pylist(), summary621.take(pa.array(sel)).to_pylist(),
            strict=True)]
    # waybill on the inventory list: the neighbouring order's number
    sel = bad[kind == 4]
    nb = np.where(sel + 1 < n, sel + 1, sel - 1)
    idx = np.arange(n)
    idx[sel] = nb
    wb621 = waybill.take(pa.array(idx))
    detail[kind == 4] = [f"CEB511.waybill_no={a} vs CEB621.waybill_no={b}" for a, b in zip(
        waybill.take(pa.array(sel)).to_pylist(), waybill.take(pa.array(nb)).to_pylist(),
        strict=True)]

    # planted incomplete declarations (三单不全): the payment or the waybill message of a few
    # other orders was never sent (own generator, so the messages below are unchanged)
    free = np.setdiff1d(np.arange(n), bad)
    k = min(len(free), max(len(MISSING_TYPES), round(0.01 * n)))
    gone = np.sort(miss_rng.choice(free, k, replace=False))
    gkind = miss_rng.permutation(np.arange(k) % len(MISSING_TYPES))
    gtype = np.array([MESSAGE_TYPES.index(t) for t in MISSING_TYPES])[gkind]
    keep = np.ones(4 * n, bool)
    keep[4 * gone + gtype] = False

    # assemble: four rows per order, in message-type order, without the missing ones (each
    # column is built for all 4 × n slots and then reduced to the ``sent`` slots)
    sent_rows = np.flatnonzero(keep)
    rows = len(sent_rows)
    ti = np.tile(np.arange(4), n)[sent_rows]
    oi = np.repeat(np.arange(n), 4)[sent_rows]

    def strcol(per_type: dict[int, pa.Array]) -> pd.Series:
        keys = sorted(per_type)
        allv = pa.concat_arrays([per_type[t].cast(pa.string()) for t in keys])
        slot = np.full(4, -1)
        slot[keys] = np.arange(len(keys))
        idx = np.where(slot[ti] >= 0, slot[ti] * n + oi, -1)
        return take(allv, idx)

    def numcol(per_type: dict[int, np.ndarray]) -> np.ndarray:
        out = np.full((n, 4), np.nan)
        for t, v in per_type.items():
            out[:, t] = v
        return out.ravel()[sent_rows]

    def catcol(values: np.ndarray, types: tuple[int, ...]) -> pd.Categorical:
        """Per-supplier ``values`` (small) on the rows of the message types ``types``."""
        cats, inv = np.unique(np.asarray(values, dtype=object).astype(str),
                              return_inverse=True)
        codes_ = inv[s_of]
        c = np.full((n, 4), -1, dtype=np.int64)
        for t in types:
            c[:, t] = codes_
        return pd.Categorical.from_codes(c.ravel()[sent_rows], categories=list(cats))

    sent = np.stack([t311, t411, t511, t621], axis=1).ravel()[sent_rows]
    period_end = (pd.Timestamp(ctx.end) + pd.Timedelta(days=1)).value - CN_UTC_OFFSET_NS
    status = (sent >= period_end - 6 * 3_600 * 10**9).astype(np.int64)
    goods_value = orders["goods_value"].to_numpy()
    freight = orders["freight"].to_numpy()
    taxt = orders["tax_total"].to_numpy()
    msgs = pd.DataFrame({
        "message_id": str_series(id_array("M", 4 * n, width=9).take(pa.array(sent_rows))),
        "order_id": str_series(pa.array(orders["order_id"]).take(pa.array(oi))),
        "message_type": const_categorical(ti, MESSAGE_TYPES),
        "message_name": const_categorical(ti, MESSAGE_NAMES),
        "sent_at": pd.Series(sent.view("M8[ns]")).dt.tz_localize("UTC"),
        "status": const_categorical(status, MESSAGE_STATUSES),
        "ebp_code": catcol(ebp, _CARRY["ebp_code"]),
        "ebc_code": catcol(ebc, _CARRY["ebc_code"]),
        "payment_provider": _cat_rows(orders["payment_provider"], _CARRY["payment_provider"],
                                      sent_rows),
        "logistics_code": _cat_rows(orders["logistics_code"], _CARRY["logistics_code"],
                                    sent_rows),
        "buyer_name": strcol({0: name, 3: name}),
        "buyer_id_number": strcol({0: idn, 3: idn}),
        "payer_name": strcol({1: name}),
        "payer_id_number": strcol({1: idn411}),
        "consignee_name": strcol({0: name, 2: name511, 3: name}),
        "currency": const_categorical(np.zeros(rows, np.int8), ("CNY",)),
        "goods_value": numcol({0: goods_value, 3: goods_value}),
        "freight": numcol({0: freight, 2: freight, 3: freight}),
        "tax": numcol({0: taxt, 3: taxt}),
        "amount_paid": numcol({0: amount, 1: amount411}),
        "waybill_no": strcol({2: waybill, 3: wb621}),
        "goods_summary": strcol({0: summary, 3: summary621}),
    })
    day = (local_ns[bad] // NS_PER_DAY)
    oids = orders["order_id"].to_numpy()[bad]
    lab = _label_group("customs_mismatch", "customs_messages", oids, day, detail,
                       np.array([f"customs_mismatch_{c}" for c in MISMATCH_CHECKS])[kind])

    gday = local_ns[gone] // NS_PER_DAY
    lab_gone = _label_group(
        "customs_missing_message", "customs_messages", orders["order_id"].to_numpy()[gone],
        gday, np.array([f"{MESSAGE_TYPES[t]} ({MESSAGE_NAMES[t]}) message missing"
                        for t in gtype], dtype=object),
        np.array([f"customs_missing_{CUSTOMS_MESSAGE_TYPES[t]}" for t in MISSING_TYPES])[gkind])
    return msgs, [lab, lab_gone]
