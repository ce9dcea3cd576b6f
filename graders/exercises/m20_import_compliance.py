"""20-import-compliance (跨境进口合规): B2B2C supplier review, product filing, taxes, 三单对碰.

Stage 5.17 履约服务与结汇退税 of T/CCPITCSC 111-2022 on the import side, following source 000
(国通达B2B2C跨境电商业务操作流程 3.0, OPERATING-RULES §1): suppliers are reviewed against their
qualification documents (§1.1), each product is filed with a T_product record that the
customs-system operator checks before it goes to OMS and customs (初步逻辑审核, §1.5), and the
company then declares consumers' orders to customs with tax, limits and the four compared
messages. Table 1 tasks: 11.2.2 外贸跟单 (manage suppliers), 11.1.2 填写报关信息 (true
declared values, codes and units), 11.2.1 出口单据制作 (document consistency, here the filing
record), 11.2.3 国际物流选择与通关服务 (clearance mode and tax), 11.4.5 支付信息申报 (payment
declaration that settles the tax), 11.4.1 网上支付安全要求 (payer identity checks).

Notebooks: 20.01 Supplier review and product filing, 20.02 Import tax, limits (the orders span
a new year, so the annual limit resets), 三单不全 / 三单对碰, and the 9610 vs 1210 choice per
product line (:func:`~cbec_sim.rules.import_mode_monthly_cost`,
:func:`~cbec_sim.rules.import_mode_choice`; freight, storage and handling quotes in
``import_mode_costs`` are teaching values — 000 gives no costs).

Rules come from ``cbec_sim.rules``: mandatory supplier documents and review outcome
(:data:`~cbec_sim.rules.SUPPLIER_MANDATORY_DOCUMENTS`,
:func:`~cbec_sim.rules.supplier_review_outcome`, teaching rules because 000's management
rules are not provided), the HS-code check (:func:`~cbec_sim.rules.hs10_valid`), the
cross-border retail import tax and limits (财关税〔2016〕18号, 〔2018〕49号:
:func:`~cbec_sim.rules.cross_border_import_tax`, :data:`~cbec_sim.rules.CBEC_ANNUAL_LIMIT_CNY`,
:data:`~cbec_sim.rules.CBEC_SINGLE_LIMIT_CNY`), the personal postal-articles tax
(税委会〔2019〕17号, waiver ≤ 50 CNY: :func:`~cbec_sim.rules.postal_article_tax`)
and the compared message fields
(:data:`~cbec_sim.rules.CUSTOMS_MESSAGE_CHECKS`). The price-plausibility rule of the filing
check (a declared price more than 5 times above or below the median of the same goods name) is
the kit's teaching rule: with the simulator's price spread no normal record can trip it.

Every ``reference`` below computes the expected answer its own way (loops, dicts and the
rules module), independently of the solution text shown to trainees.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import numpy as np
import pandas as pd

from cbec_sim import rules
from graders.compare import Frame, IdSet, Integer, Money
from graders.exercise import Exercise, Mistake

MODULE = "20-import-compliance"

STAGE = "5.17"
UNIT = "b2b_trade"
PRICE_RATIO = 5.0  # teaching rule: declared price > 5× or < 1/5 of the goods name's median
MIN_RECORDS = 3  # the price rule needs at least this many records of the goods name


def _text(x) -> str:
    return "" if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA else str(x)


# --- references: 20.01 ------------------------------------------------------------------------

def _missing_docs(w) -> list[str]:
    s = w.suppliers
    out = []
    for i, sid in enumerate(s.supplier_id):
        if not all(bool(s[f"has_{d}"].iloc[i]) for d in rules.SUPPLIER_MANDATORY_DOCUMENTS):
            out.append(sid)
    return out


def _outcome_errors(w) -> list[str]:
    s = w.suppliers
    complete = np.column_stack([s[f"has_{d}"].to_numpy(bool)
                                for d in rules.SUPPLIER_MANDATORY_DOCUMENTS]).all(axis=1)
    rule = rules.supplier_review_outcome(complete, s.credit_check.astype(str).to_numpy(),
                                         s.supply_capability.astype(str).to_numpy())
    return [sid for sid, r, rec in zip(s.supplier_id, rule, s.review_outcome.astype(str),
                                       strict=True) if r != rec]


def _hs_ok(w) -> np.ndarray:
    known = set(w.hs_codes.hs6)
    return np.array([bool(re.fullmatch(r"\d{10}", str(h))) and str(h)[:6] in known
                     for h in w.product_filings.hs_code])


def _invalid_hs(w) -> list[str]:
    pf = w.product_filings
    return [f for f, ok in zip(pf.filing_id, _hs_ok(w), strict=True) if not ok]


def _filing_rejects(w) -> pd.DataFrame:
    pf, hs = w.product_filings, w.hs_codes
    cat = dict(zip(hs.hs_code, hs.category.astype(str), strict=True))
    unit = dict(zip(hs.hs_code, hs.unit_cn, strict=True))
    ok = _hs_ok(w)
    names = pf.goods_name_cn.tolist()
    codes = pf.hs_code.astype(str).tolist()
    # category of each goods name among customs-approved records (most frequent; ties: first
    # alphabetically)
    approved = defaultdict(Counter)
    for n, h, st in zip(names, codes, pf.status.astype(str), strict=True):
        if st == "approved" and h in cat:
            approved[n][cat[h]] += 1
    name_cat = {n: min(c, key=lambda k: (-c[k], k)) for n, c in approved.items()}
    price = (pf.declared_unit_price.to_numpy(float) * pf.fx_rate_cny.to_numpy(float))
    by_name = defaultdict(list)
    for n, p in zip(names, price, strict=True):
        by_name[n].append(p)
    med = {n: float(np.median(v)) for n, v in by_name.items() if len(v) >= MIN_RECORDS}
    rows = []
    for i, fid in enumerate(pf.filing_id):
        n, h = names[i], codes[i]
        fields = [_text(pf[c].iloc[i]) for c in ("brand", "spec_model", "origin_country")]
        if not ok[i]:
            reason = "hs_invalid"
        elif h in cat and n in name_cat and cat[h] != name_cat[n]:
            reason = "hs_category"
        elif any(f == "" for f in fields):
            reason = "missing_field"
        elif h in unit and pf.declaration_unit.iloc[i] != unit[h]:
            reason = "unit"
        elif n in med and (price[i] > PRICE_RATIO * med[n] or price[i] < med[n] / PRICE_RATIO):
            reason = "price"
        else:
            continue
        rows.append((fid, reason))
    return pd.DataFrame(rows, columns=["filing_id", "reason"])


# --- references: 20.02 ------------------------------------------------------------------------

def _over_single(w) -> int:
    return int(sum(v > rules.CBEC_SINGLE_LIMIT_CNY for v in w.import_orders.dutiable_value))


def _cbec_tax(w) -> float:
    o, ol = w.import_orders, w.import_order_lines
    within = set(o.order_id[~o.general_trade.to_numpy(bool)])
    keep = ol.order_id.isin(within).to_numpy()
    t = rules.cross_border_import_tax(ol.dutiable_value.to_numpy(float)[keep],
                                      ol.vat_rate.to_numpy(float)[keep],
                                      ol.consumption_tax_rate.to_numpy(float)[keep])
    return float(rules.to_cents(t["total"]).sum() / 100)


def _annual_over(w) -> list[str]:
    o = w.import_orders
    total = defaultdict(int)
    for b, y, v in zip(o.buyer_id, o.order_year, rules.to_cents(o.dutiable_value), strict=True):
        total[(b, int(y))] += int(v)
    limit = int(rules.to_cents(rules.CBEC_ANNUAL_LIMIT_CNY))
    return sorted({b for (b, _), v in total.items() if v > limit})


def _postal_cheaper(w) -> list[str]:
    o, ol, pf = w.import_orders, w.import_order_lines, w.product_filings
    rate = dict(zip(pf.filing_id, pf.postal_tax_rate, strict=True))
    idx = pd.Index(o.order_id).get_indexer(ol.order_id)
    r = np.array([rate[f] for f in ol.filing_id.astype(str)], float)
    postal = rules.postal_article_tax(ol.line_value.to_numpy(float), r, parcel=idx,
                                      n_parcels=len(o))
    return [oid for oid, p, t in zip(o.order_id, postal, o.tax_total, strict=True) if p < t]


def _message_mismatches(w) -> list[str]:
    return sorted(set(rules.customs_message_mismatches(w.customs_messages).order_id))


def _missing_messages(w) -> pd.DataFrame:
    have = defaultdict(set)
    for o, t in zip(w.customs_messages.order_id, w.customs_messages.message_type.astype(str),
                    strict=True):
        have[o].add(t)
    rows = [(o, t) for o in w.import_orders.order_id for t in rules.CUSTOMS_MESSAGE_TYPES
            if t not in have[o]]
    return pd.DataFrame(rows, columns=["order_id", "missing_type"])


def _bonded_lines(w) -> list[str]:
    out = []
    for r in w.import_mode_costs.itertuples(index=False):
        c9 = rules.to_cents(r.monthly_orders * r.parcel_freight_9610)
        c12 = (rules.to_cents(r.monthly_units * r.inbound_freight_1210)
               + rules.to_cents(r.avg_stock_units_1210 * r.storage_1210)
               + rules.to_cents(r.monthly_orders * r.handling_1210))
        ok9, ok12 = r.lead_days_9610 <= r.promised_days, r.lead_days_1210 <= r.promised_days
        if ok9 and ok12:
            bonded = c12 < c9
        elif ok9 or ok12:
            bonded = ok12
        else:
            bonded = r.lead_days_1210 < r.lead_days_9610
        if bonded:
            out.append(r.filing_id)
    return out


# --- solution snippets shared by mistakes -----------------------------------------------------

_FILING_SOLUTION = """\
pf = product_filings.copy()
code = hs_codes.set_index('hs_code')
pf['code_ok'] = (pf.hs_code.str.fullmatch(r'\\d{10}')
                 & pf.hs_code.str[:6].isin(hs_codes.hs6))
pf['code_cat'] = pf.hs_code.map(code.category.astype(str))
pf['code_unit'] = pf.hs_code.map(code.unit_cn)
# 规则 2：同名商品已通过备案记录的编码类目（出现最多的；并列取字母序最前）
ok = pf[pf.status == 'approved'].dropna(subset=['code_cat'])
name_cat = (ok.groupby(['goods_name_cn', 'code_cat']).size().reset_index(name='n')
              .sort_values(['goods_name_cn', 'n', 'code_cat'], ascending=[True, False, True])
              .drop_duplicates('goods_name_cn').set_index('goods_name_cn').code_cat)
pf['name_cat'] = pf.goods_name_cn.map(name_cat)
# 规则 5：折成人民币后，与同名商品申报价的中位数比较（同名记录至少 3 条）
pf['price_cny'] = pf.declared_unit_price * pf.fx_rate_cny
pf['median_cny'] = pf.groupby('goods_name_cn').price_cny.transform('median')
pf['n_name'] = pf.groupby('goods_name_cn').filing_id.transform('size')
ratio = pf.price_cny / pf.median_cny
fields = pf[['brand', 'spec_model', 'origin_country']].astype('string')
rules_in_order = [
    ('hs_invalid', ~pf.code_ok),
    ('hs_category', pf.code_cat.notna() & pf.name_cat.notna()
                    & (pf.code_cat != pf.name_cat)),
    ('missing_field', (fields.isna() | (fields == '')).any(axis=1)),
    ('unit', pf.code_unit.notna() & (pf.declaration_unit != pf.code_unit)),
    ('price', (pf.n_name >= 3) & ((ratio > 5) | (ratio < 1 / 5))),
]
pf['reason'] = None
for name, bad in rules_in_order:       # 只记第一条不通过的规则
    pf.loc[bad.fillna(False) & pf.reason.isna(), 'reason'] = name
rejects = pf.loc[pf.reason.notna(), ['filing_id', 'reason']]"""


def _filing_variant(old: str, new: str) -> str:
    assert old in _FILING_SOLUTION, old
    return _FILING_SOLUTION.replace(old, new)


_MODE_SOLUTION = """\
from cbec_sim import rules

t = import_mode_costs
cost = rules.import_mode_monthly_cost(
    t.monthly_orders, t.monthly_units,
    t.parcel_freight_9610,                      # 9610：每个订单一个包裹
    t.inbound_freight_1210,                     # 1210：头程按件
    t.avg_stock_units_1210, t.storage_1210,     # 1210：平均库存 × 每件每月仓储费
    t.handling_1210)                            # 1210：每单操作 + 国内配送
mode = rules.import_mode_choice(cost['cost_9610'], cost['cost_1210'],
                                t.lead_days_9610, t.lead_days_1210, t.promised_days)
bonded_ids = t.loc[mode == '1210', 'filing_id']"""


_MESSAGE_SOLUTION = """\
from cbec_sim.rules import CUSTOMS_MESSAGE_CHECKS

m = customs_messages
bad_orders = set()
for check, pairs in CUSTOMS_MESSAGE_CHECKS.items():
    (type_a, col_a), others = pairs[0], pairs[1:]
    a = m[m.message_type == type_a].set_index('order_id')[col_a]
    for type_b, col_b in others:
        b = m[m.message_type == type_b].set_index('order_id')[col_b]
        a2, b2 = a.align(b, join='outer')
        differ = ~(a2 == b2).fillna(False)     # 缺报文或缺值都算不一致
        bad_orders |= set(a2.index[differ])
mismatch_ids = sorted(bad_orders)"""


# --- items ------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    # 20.01 Supplier review and product filing ------------------------------------------------
    Exercise(
        id="20.01.missing_docs",
        title="缺少必备资质文件的供应商",
        question=("供应商评审（supplier review 供应商评审）先看资质文件。本课程规定三份文件**必须**"
                  "齐全："
                  "营业执照 `has_business_licence`、品牌授权书 `has_brand_authorisation`、"
                  "质检报告 `has_quality_inspection_report`（`rules.SUPPLIER_MANDATORY_DOCUMENTS`）"
                  "；"
                  "商标注册证和原产地证书是加分项，不是必备。找出 `suppliers` 表中"
                  "**至少缺一份必备文件**的供应商，把 `supplier_id` 存进 `missing_doc_ids`"
                  "（list、set 或 Series，顺序不限）。"),
        stage=STAGE, tasks=("11.2.2",), unit=UNIT, difficulty=1, points=1,
        answer="missing_doc_ids", kind="set", answer_cn="一组供应商编号 supplier_id，顺序不限",
        reference=_missing_docs,
        solution=("mandatory = ['has_business_licence', 'has_brand_authorisation',\n"
                  "             'has_quality_inspection_report']\n"
                  "complete = suppliers[mandatory].all(axis=1)   # 三份都有才是 True\n"
                  "missing_doc_ids = suppliers.loc[~complete, 'supplier_id']"),
        hints=("三列都是 True/False；`表[列的列表].all(axis=1)` 逐行判断是否全部为 True。",
               "要的是“不齐全”的：在条件前加 `~` 取反。",
               "`missing_documents` 列也列出了缺的文件，但它包括非必备文件，不能直接用“不为空”判断"
               "。"),
        mistakes=(
            Mistake("all_documents",
                    "missing_doc_ids = suppliers.loc[suppliers.missing_documents.notna(),\n"
                    "                                'supplier_id']",
                    "你把缺少任何文件的供应商都算进去了；商标注册证和原产地证书不是必备文件，"
                    "只看营业执照、品牌授权书和质检报告三份。"),
            Mistake("licence_only",
                    "missing_doc_ids = suppliers.loc[~suppliers.has_business_licence, "
                    "'supplier_id']",
                    "你只检查了营业执照；品牌授权书和质检报告也是必备文件。"),
        ),
        compare=IdSet(),
        tables=("suppliers",),
    ),
    Exercise(
        id="20.01.outcome_errors",
        title="评审结论与规则不符的供应商",
        question=(
            "按本课程的评审规则（`rules.supplier_review_outcome`）重新得出每家供应商的结论：\n\n"
            "- 资信调查 `credit_check` 为 `'fail'` 或供货能力 `supply_capability` 为 "
            "`'insufficient'` → `'rejected'`（不合作）；\n"
            "- 否则，缺必备文件、资信 `'watch'` 或供货能力 `'limited'` → `'conditional'`"
            "（有条件合作）；\n"
            "- 其余 → `'approved'`。\n\n"
            "找出表中记录的结论 `review_outcome` 与规则结论**不一致**的供应商，把 `supplier_id` "
            "存进 `outcome_error_ids`（顺序不限）。这些供应商的评审表要退回复审。"),
        stage=STAGE, tasks=("11.2.2",), unit=UNIT, difficulty=2, points=2,
        answer="outcome_error_ids", kind="set", answer_cn="一组供应商编号 supplier_id，顺序不限",
        reference=_outcome_errors,
        solution=(
            "from cbec_sim import rules\n"
            "\n"
            "complete = suppliers[['has_business_licence', 'has_brand_authorisation',\n"
            "                      'has_quality_inspection_report']].all(axis=1)\n"
            "by_rule = rules.supplier_review_outcome(complete,\n"
            "                                        suppliers.credit_check.astype(str),\n"
            "                                        suppliers.supply_capability.astype(str))\n"
            "differs = suppliers.review_outcome.astype(str) != by_rule\n"
            "outcome_error_ids = suppliers.loc[differs, 'supplier_id']"),
        hints=("先算出每家供应商三份必备文件是否齐全（上一题的 `complete`）。",
               "`rules.supplier_review_outcome(齐全, 资信, 供货能力)` 返回每家供应商按规则的结论；"
               "两个分类列先 `.astype(str)`。",
               "把规则结论和 `review_outcome.astype(str)` 逐行比较，取不相等的行。"),
        mistakes=(
            Mistake("ignored_documents",
                    "from cbec_sim import rules\n"
                    "by_rule = rules.supplier_review_outcome(True,\n"
                    "                                        suppliers.credit_check.astype(str),\n"
                    "                                        suppliers.supply_capability"
                    ".astype(str))\n"
                    "outcome_error_ids = suppliers.loc[suppliers.review_outcome.astype(str) "
                    "!= by_rule,\n"
                    "                                  'supplier_id']",
                    "你把所有供应商都当作文件齐全：缺必备文件的供应商最多只能“有条件合作”，"
                    "规则的第一个参数要用每家供应商的文件齐全情况。"),
            Mistake("not_approved",
                    "outcome_error_ids = suppliers.loc[suppliers.review_outcome != 'approved',\n"
                    "                                  'supplier_id']",
                    "你列出的是结论不是“approved”的供应商；题目要的是记录的结论与规则算出的结论"
                    "不一致的供应商。"),
        ),
        compare=IdSet(),
        tables=("suppliers",),
    ),
    Exercise(
        id="20.01.invalid_hs",
        title="商品编码无效的备案记录",
        question=("商品备案表 T_product（`product_filings`）里的商品编码 HS code（海关商品编码）"
                  "必须：① 正好 10 位数字；② 前 6 位（HS 2022 子目 subheading）出现在本课程编码表 "
                  "`hs_codes.hs6` 里。找出**不满足**这两条的备案记录，把 `filing_id` 存进 "
                  "`invalid_hs_ids`（顺序不限）。"),
        stage=STAGE, tasks=("11.1.2",), unit=UNIT, difficulty=1, points=1,
        answer="invalid_hs_ids", kind="set", answer_cn="一组备案记录编号 filing_id，顺序不限",
        reference=_invalid_hs,
        solution=("ten_digits = product_filings.hs_code.str.fullmatch(r'\\d{10}')\n"
                  "known_hs6 = product_filings.hs_code.str[:6].isin(hs_codes.hs6)\n"
                  "invalid_hs_ids = product_filings.loc[~(ten_digits & known_hs6), "
                  "'filing_id']"),
        hints=("`列.str.fullmatch(r'\\d{10}')` 判断整段文字是否正好 10 个数字。",
               "`列.str[:6]` 取前 6 位，再 `.isin(hs_codes.hs6)` 判断子目是否存在。",
               "两个条件都满足才有效：`有效 = 条件1 & 条件2`，题目要的是 `~有效`。"),
        mistakes=(
            Mistake("kept_valid",
                    "ok = (product_filings.hs_code.str.fullmatch(r'\\d{10}')\n"
                    "      & product_filings.hs_code.str[:6].isin(hs_codes.hs6))\n"
                    "invalid_hs_ids = product_filings.loc[ok, 'filing_id']",
                    "你取出的是编码有效的记录：条件前要加 `~` 表示“不满足”。"),
            Mistake("hs6_only",
                    "known = product_filings.hs_code.str[:6].isin(hs_codes.hs6)\n"
                    "invalid_hs_ids = product_filings.loc[~known, 'filing_id']",
                    "你只检查了前 6 位：少一位（8 位）或多一位（11 位）的编码前 6 位也可能是对的，"
                    "还要检查是否正好 10 位数字。"),
        ),
        compare=IdSet(),
        tables=("product_filings", "hs_codes"),
    ),
    Exercise(
        id="20.01.filing_rejects",
        title="初步逻辑审核：要退回的备案记录及原因",
        question=(
            "对**全部** T_product 备案记录做一次初步逻辑审核（000 §2.1：无缺漏和错误才能导入 OMS）"
            "。"
            "按下面的顺序检查，每条记录只记**第一条**不通过的规则：\n\n"
            "1. `'hs_invalid'`：商品编码无效（上一题的规则）；\n"
            "2. `'hs_category'`：编码在 `hs_codes` 中，但它的类目 `category` 与**同名商品"
            "（`goods_name_cn` 相同）已通过备案**（`status == 'approved'`）的记录所用编码的类目不同"
            "（已通过记录的类目若不止一种，取出现次数最多的，并列取字母顺序最前的；"
            "没有已通过记录的商品名不检查这一条）；\n"
            "3. `'missing_field'`：品牌 `brand`、规格型号 `spec_model`、原产国 `origin_country` "
            "任一为空；\n"
            "4. `'unit'`：申报计量单位 `declaration_unit` 与 `hs_codes` 中该编码的 `unit_cn` 不同；"
            "\n"
            "5. `'price'`：申报单价折成人民币（`declared_unit_price × fx_rate_cny`）后，大于同名商"
            "品"
            "全部记录人民币单价中位数的 5 倍，或小于其 1/5（同名记录不足 3 条的不检查）。\n\n"
            "结果存进 `rejects`：一个 DataFrame，两列 `filing_id` 和 `reason`（上面引号里的原因代码"
            "），"
            "每条不通过的记录一行，顺序不限。"),
        stage=STAGE, tasks=("11.1.2", "11.2.1"), unit=UNIT, difficulty=3, points=3,
        answer="rejects", kind="frame",
        answer_cn="DataFrame：filing_id, reason（原因代码），每条记录一行",
        reference=_filing_rejects,
        solution=_FILING_SOLUTION,
        hints=("先给 `product_filings` 加几列辅助列：编码是否有效、编码的类目和单位"
               "（`hs_codes.set_index('hs_code')` 后用 `.map` 查）、人民币单价。",
               "同名商品的中位数用 `groupby('goods_name_cn').列.transform('median')`，"
               "它返回和原表一样长的一列，可以直接和每行比较。",
               "先建一列 `reason = None`，按规则顺序逐条检查，只给 `reason` 还是空的行填原因："
               "`pf.loc[条件 & pf.reason.isna(), 'reason'] = '原因'`。"),
        mistakes=(
            Mistake("price_not_converted",
                    _filing_variant("pf['price_cny'] = pf.declared_unit_price * pf.fx_rate_cny",
                                    "pf['price_cny'] = pf.declared_unit_price"),
                    "价格没有折成人民币：日元、韩元和欧元的单价不能放在一起算中位数，"
                    "先乘以 `fx_rate_cny`。"),
            Mistake("no_category_check",
                    _filing_variant("    ('hs_category', pf.code_cat.notna()",
                                    "    ('hs_category', False & pf.code_cat.notna()"),
                    "漏了规则 2：编码有效、也在编码表里，但类目和同名商品已通过备案的类目不同"
                    "（例如把面霜报成手表的编码），同样要退回。"),
            Mistake("legal_unit",
                    _filing_variant("(pf.declaration_unit != pf.code_unit)",
                                    "(pf.legal_unit != pf.code_unit)"),
                    "规则 4 比的是申报计量单位 `declaration_unit`，不是法定计量单位 `legal_unit`"
                    "（食品、化妆品的法定单位是千克，本来就可能和申报单位不同）。"),
        ),
        compare=Frame(key=("filing_id",), columns=("reason",)),
        tables=("product_filings", "hs_codes"),
    ),
    # 20.02 Import tax, limits and 三单对碰 ------------------------------------------------------
    Exercise(
        id="20.02.over_single",
        title="超过单次交易限值的订单数",
        question=("跨境电商零售进口的单次交易限值是 5,000 元（财关税〔2018〕49号）：按订单的完税价"
                  "格"
                  "（dutiable value 完税价格 = 货值 + 运费 + 保险费，`import_orders.dutiable_value`"
                  "）"
                  "判断，**超过** 5,000 元（正好 5,000 元不算超过）的订单按一般贸易全额征税。"
                  "数一数有多少个这样的订单，存进 `n_over_single`（整数）。"),
        stage=STAGE, tasks=("11.2.3",), unit=UNIT, difficulty=1, points=1,
        answer="n_over_single", kind="integer", answer_cn="整数，单位：单",
        reference=_over_single,
        solution="n_over_single = int((import_orders.dutiable_value > 5000).sum())",
        hints=("`列 > 5000` 得到一列 True/False，`.sum()` 数出 True 的个数。",
               "用完税价格 `dutiable_value`，它已经包含运费和保险费。"),
        mistakes=(
            Mistake("counted_general_trade",
                    "n_over_single = int(import_orders.general_trade.sum())",
                    "`general_trade` 还包括超过年度限值的订单；题目只问超过单次限值的订单。"),
            Mistake("counted_lines",
                    "n_over_single = int((import_order_lines.dutiable_value > 5000).sum())",
                    "单次限值看整张订单的完税价格，不是每个订单行：用 `import_orders` 表。"),
        ),
        compare=Integer(),
        tables=("import_orders",),
    ),
    Exercise(
        id="20.02.cbec_tax",
        title="限值以内订单的跨境电商综合税",
        question=(
            "限值以内（`general_trade` 为 False）的订单，关税为 0，进口增值税和消费税按法定应纳税额"
            "的 "
            "70% 征收。每个订单行的综合税（comprehensive tax 综合税）：\n\n"
            "`税额 = 完税价格 × (消费税率 + 增值税率) ÷ (1 − 消费税率) × 0.7`，四舍五入到分。\n\n"
            "用 `import_order_lines` 的 `dutiable_value`、`vat_rate`、`consumption_tax_rate` 逐行计"
            "算"
            "（可以用 `rules.cross_border_import_tax`，它按这条公式逐行算并四舍五入），再把所有限值"
            "以内"
            "订单的订单行税额加总。结果存进 `cbec_tax_cny`，人民币元，保留两位小数。"),
        stage=STAGE, tasks=("11.2.3", "11.4.5"), unit=UNIT, difficulty=2, points=2,
        answer="cbec_tax_cny", kind="money", answer_cn="金额，人民币元，保留两位小数",
        reference=_cbec_tax,
        solution=(
            "from cbec_sim import rules\n"
            "\n"
            "within = import_orders.loc[~import_orders.general_trade, 'order_id']\n"
            "lines = import_order_lines[import_order_lines.order_id.isin(within)]\n"
            "tax = rules.cross_border_import_tax(lines.dutiable_value, lines.vat_rate,\n"
            "                                    lines.consumption_tax_rate)\n"
            "cbec_tax_cny = round(tax['total'].sum(), 2)"),
        hints=("先筛出限值以内的订单号，再用 `.isin` 取它们的订单行。",
               "`rules.cross_border_import_tax(完税价格, 增值税率, 消费税率)` 返回一个字典，"
               "`['total']` 是每行的税额（已四舍五入到分）。",
               "注意公式里的 `÷ (1 − 消费税率)`：消费税是价内税，计税价格要先把消费税加回去。"),
        mistakes=(
            Mistake("no_discount",
                    "within = import_orders.loc[~import_orders.general_trade, 'order_id']\n"
                    "l = import_order_lines[import_order_lines.order_id.isin(within)]\n"
                    "c = l.consumption_tax_rate\n"
                    "cbec_tax_cny = round((l.dutiable_value * (c + l.vat_rate) / (1 - c))"
                    ".round(2).sum(), 2)",
                    "限值以内只征 70%：你算的是全额的增值税和消费税，少乘了 0.7。"),
            Mistake("no_gross_up",
                    "within = import_orders.loc[~import_orders.general_trade, 'order_id']\n"
                    "l = import_order_lines[import_order_lines.order_id.isin(within)]\n"
                    "cbec_tax_cny = round((l.dutiable_value * (l.consumption_tax_rate + "
                    "l.vat_rate) * 0.7)\n"
                    "                     .round(2).sum(), 2)",
                    "少了 `÷ (1 − 消费税率)`：消费税是价内税，化妆品、首饰等有消费税的商品会少算税"
                    "。"),
            Mistake("all_orders",
                    "cbec_tax_cny = round(import_orders.tax_total.sum(), 2)",
                    "你把超过限值、按一般贸易全额征税的订单也加进来了；题目只要限值以内的订单。"),
        ),
        compare=Money(),
        tables=("import_orders", "import_order_lines"),
    ),
    Exercise(
        id="20.02.annual_over",
        title="超过年度交易限值的消费者",
        question=("每位消费者每个自然年的跨境电商零售进口交易限值是 26,000 元（财关税〔2018〕49号）"
                  "，"
                  "按完税价格累计，**超过单次限值、按一般贸易征税的订单也计入**年度累计。"
                  "数据里的订单跨越两个自然年，每年 1 月 1 日重新累计。"
                  "按 `buyer_id` 和 `order_year` 汇总 `import_orders.dutiable_value`，找出年度累计"
                  "**超过** 26,000 元（正好 26,000 元不算超过）的消费者，把 `buyer_id` 存进 "
                  "`over_annual_ids`（顺序不限）。"),
        stage=STAGE, tasks=("11.4.5",), unit=UNIT, difficulty=2, points=2,
        answer="over_annual_ids", kind="set", answer_cn="一组消费者编号 buyer_id，顺序不限",
        reference=_annual_over,
        solution=(
            "per_year = import_orders.groupby(['buyer_id', 'order_year']).dutiable_value.sum()\n"
            "over = per_year[per_year > 26000]\n"
            "over_annual_ids = over.index.get_level_values('buyer_id').unique()"),
        hints=("`groupby(['buyer_id', 'order_year'])` 按“消费者 × 年份”分组求和。",
               "结果是带两层索引的 Series；筛选后用 `.index.get_level_values('buyer_id')` 取消费者"
               "。",
               "所有订单都计入，不要先去掉 `general_trade` 的订单。"),
        mistakes=(
            Mistake("single_limit",
                    "over_annual_ids = import_orders.loc[import_orders.dutiable_value > 5000, "
                    "'buyer_id'].unique()",
                    "你找的是有单笔订单超过 5,000 元单次限值的消费者；题目问的是一年累计超过 "
                    "26,000 元的消费者。"),
            Mistake("dropped_general_trade",
                    "o = import_orders[~import_orders.general_trade]\n"
                    "per_year = o.groupby(['buyer_id', 'order_year']).dutiable_value.sum()\n"
                    "over_annual_ids = per_year[per_year > 26000].index"
                    ".get_level_values('buyer_id')",
                    "你先去掉了按一般贸易征税的订单：超过限值的订单也要计入年度累计。"),
            Mistake("summed_years",
                    "total = import_orders.groupby('buyer_id').dutiable_value.sum()\n"
                    "over_annual_ids = total[total > 26000].index",
                    "年度限值按自然年计算，每年 1 月 1 日重新累计：你把不同年份的订单加在一起了，"
                    "要按 `buyer_id` 和 `order_year` 两列分组。"),
        ),
        compare=IdSet(),
        tables=("import_orders",),
    ),
    Exercise(
        id="20.02.postal_cheaper",
        title="按行邮税更便宜的订单",
        question=(
            "同一批商品如果作为个人物品邮寄进境，缴的是行邮税（postal articles tax 行邮税）："
            "每个订单行 `税 = line_value × 行邮税率`（税率在 `product_filings.postal_tax_rate`，"
            "按 `filing_id` 对应），每行四舍五入到分后按订单加总；一个包裹（一个订单）的行邮税"
            "**不超过 50 元免征**（记为 0）。找出行邮税**低于**该订单实际缴纳的综合税 "
            "`import_orders.tax_total` 的订单，把 `order_id` 存进 `postal_cheaper_ids`"
            "（顺序不限）。可以用 `rules.postal_article_tax`。"),
        stage=STAGE, tasks=("11.2.3",), unit=UNIT, difficulty=2, points=2,
        answer="postal_cheaper_ids", kind="set", answer_cn="一组订单编号 order_id，顺序不限",
        reference=_postal_cheaper,
        solution=(
            "from cbec_sim import rules\n"
            "\n"
            "lines = import_order_lines.merge(product_filings[['filing_id', "
            "'postal_tax_rate']],\n"
            "                                 on='filing_id', how='left')\n"
            "# rules.round_cents：四舍五入到分（round half-up）\n"
            "lines['postal_tax'] = rules.round_cents(lines.line_value * lines.postal_tax_rate)\n"
            "postal = lines.groupby('order_id').postal_tax.sum().round(2)\n"
            "postal = postal.where(postal > 50, 0)          # 不超过 50 元免征\n"
            "o = import_orders.set_index('order_id')\n"
            "postal_cheaper_ids = o.index[postal.reindex(o.index) < o.tax_total]"),
        hints=("用 `merge` 把每个订单行对应的行邮税率接过来（键是 `filing_id`）。",
               "每行税额用 `rules.round_cents(...)` 四舍五入到分（pandas 的 `.round(2)` 遇到 .5 不"
               "一定进位），"
               "再 `groupby('order_id').sum()` 得到每个订单的行邮税。",
               "免征：`postal.where(postal > 50, 0)` 把不超过 50 元的改成 0；"
               "再和 `tax_total` 按订单号对齐比较。"),
        mistakes=(
            Mistake("no_exemption",
                    "lines = import_order_lines.merge(product_filings[['filing_id', "
                    "'postal_tax_rate']],\n"
                    "                                 on='filing_id')\n"
                    "postal = (lines.line_value * lines.postal_tax_rate).round(2)"
                    ".groupby(lines.order_id).sum()\n"
                    "o = import_orders.set_index('order_id')\n"
                    "postal_cheaper_ids = o.index[postal.reindex(o.index) < o.tax_total]",
                    "忘了免征额：一个包裹的行邮税不超过 50 元时免征，记为 0。"),
            Mistake("cbec_rate",
                    "lines = import_order_lines.merge(product_filings[['filing_id', "
                    "'cbec_tax_rate']],\n"
                    "                                 on='filing_id')\n"
                    "postal = (lines.line_value * lines.cbec_tax_rate).round(2)"
                    ".groupby(lines.order_id).sum()\n"
                    "postal = postal.where(postal > 50, 0)\n"
                    "o = import_orders.set_index('order_id')\n"
                    "postal_cheaper_ids = o.index[postal.reindex(o.index) < o.tax_total]",
                    "你用的是跨境电商综合税率 `cbec_tax_rate`；行邮税要用行邮税率 "
                    "`postal_tax_rate`（13%、20% 或 50%）。"),
        ),
        compare=IdSet(),
        tables=("import_orders", "import_order_lines", "product_filings"),
    ),
    Exercise(
        id="20.02.missing_messages",
        title="三单不全：缺少报文的订单",
        question=(
            "每个进口订单都要向海关发齐四份报文：订单 CEB311、支付单 CEB411、运单 CEB511、"
            "清单 CEB621（`rules.CUSTOMS_MESSAGE_TYPES`）。少了任何一份就是“三单不全”"
            "（incomplete declaration 三单不全），海关无法对碰，货物放不了行。"
            "对照 `import_orders` 的全部订单检查 `customs_messages`，找出**缺少的报文**："
            "结果存进 `incomplete`，一个 DataFrame，两列 `order_id` 和 `missing_type`"
            "（缺少的报文类型代码，例如 `'CEB411'`），每缺一份报文一行，顺序不限。"
            "回执状态 `status` 为 `'pending'` 的报文已经发出，只是还没有回执，不算缺少。"),
        stage=STAGE, tasks=("11.4.5", "11.2.3"), unit=UNIT, difficulty=2, points=2,
        answer="incomplete", kind="frame",
        answer_cn="DataFrame：order_id, missing_type（报文类型代码），每缺一份报文一行",
        reference=_missing_messages,
        solution=(
            "types = ['CEB311', 'CEB411', 'CEB511', 'CEB621']\n"
            "m = customs_messages\n"
            "have = pd.crosstab(m.order_id, m.message_type.astype(str))   # 每单每种报文的份数\n"
            "have = have.reindex(index=import_orders.order_id, columns=types, fill_value=0)\n"
            "count = have.stack()                      # 一行 = (订单, 报文类型) 的份数\n"
            "incomplete = (count[count == 0].reset_index()\n"
            "              .rename(columns={'message_type': 'missing_type'})"
            "[['order_id', 'missing_type']])"),
        hints=("`pd.crosstab(订单号, 报文类型)` 数出每个订单每种报文有几份；缺少的那种是 0。",
               "crosstab 只包含出现过的订单：用 `.reindex(index=import_orders.order_id, "
               "columns=四种类型, fill_value=0)` 补齐所有订单和所有类型。",
               "`.stack()` 把表拉成一列“(订单, 类型) → 份数”，取等于 0 的行再 `reset_index()`。"),
        mistakes=(
            Mistake("only_payment",
                    "paid = set(customs_messages.loc[customs_messages.message_type == "
                    "'CEB411', 'order_id'])\n"
                    "gone = sorted(set(import_orders.order_id) - paid)\n"
                    "incomplete = pd.DataFrame({'order_id': gone, 'missing_type': 'CEB411'})",
                    "你只检查了支付单 CEB411；运单 CEB511（以及订单、清单）缺了同样是三单不全。"),
            Mistake("mismatches",
                    "from cbec_sim import rules\n"
                    "bad = rules.customs_message_mismatches(customs_messages)\n"
                    "incomplete = bad.rename(columns={'message_b': 'missing_type'})"
                    "[['order_id', 'missing_type']]",
                    "你把报文字段不一致的订单也算进来了：这里只要报文**根本没有发**的情况，"
                    "字段不一致是下一题。"),
            Mistake("pending",
                    "p = customs_messages[customs_messages.status == 'pending']\n"
                    "incomplete = p[['order_id', 'message_type']].rename("
                    "columns={'message_type': 'missing_type'})",
                    "`status == 'pending'` 的报文已经发出，只是还没有回执；缺少的报文在表里根本"
                    "没有这一行，要和全部订单对照才能发现。"),
        ),
        compare=Frame(key=("order_id", "missing_type")),
        tables=("import_orders", "customs_messages"),
    ),
    Exercise(
        id="20.02.message_mismatches",
        title="三单对碰不一致的订单",
        question=(
            "海关对每个订单比对四份报文（三单对碰）：订单 CEB311、支付单 CEB411、运单 CEB511、"
            "清单 CEB621。要比对的字段在 `rules.CUSTOMS_MESSAGE_CHECKS` 里：每一项是一组"
            "（报文类型, 列名），组里**每一份**报文的值都要和**第一份**相同，例如金额"
            "`(('CEB311', 'amount_paid'), ('CEB411', 'amount_paid'))`。缺少报文或值为空都算不一致。"
            "找出至少有一项不一致的订单，把 `order_id` 存进 `mismatch_ids`（顺序不限）。"),
        stage=STAGE, tasks=("11.4.5", "11.4.1", "11.2.3"), unit=UNIT, difficulty=3, points=3,
        answer="mismatch_ids", kind="set", answer_cn="一组订单编号 order_id，顺序不限",
        reference=_message_mismatches,
        solution=_MESSAGE_SOLUTION,
        hints=("先看 `CUSTOMS_MESSAGE_CHECKS` 的结构：字典的每个值是若干个 (报文类型, 列名)。",
               "取出某种报文的某一列并以订单号为索引：`m[m.message_type == 'CEB311']"
               ".set_index('order_id')['amount_paid']`。",
               "两列用 `.align(另一列, join='outer')` 按订单号对齐再比较；`==` 遇到空值得 False，"
               "正好把空值算作不一致。"),
        mistakes=(
            Mistake("amount_only",
                    "m = customs_messages\n"
                    "a = m[m.message_type == 'CEB311'].set_index('order_id').amount_paid\n"
                    "b = m[m.message_type == 'CEB411'].set_index('order_id').amount_paid\n"
                    "mismatch_ids = a.index[a != b.reindex(a.index)]",
                    "你只比对了订单和支付单的金额；姓名、身份证号、收货人、货值、运费、税款、"
                    "商品和运单号也都要比对。"),
            Mistake("no_inventory_list",
                    _MESSAGE_SOLUTION.replace(
                        "    for type_b, col_b in others:\n",
                        "    for type_b, col_b in others:\n"
                        "        if type_b == 'CEB621':\n"
                        "            continue\n"),
                    "你跳过了清单 CEB621：清单上的商品、运单号、订购人信息也必须和订单、运单一致。"
                    ""),
        ),
        compare=IdSet(),
        tables=("customs_messages",),
    ),
    Exercise(
        id="20.02.bonded_lines",
        title="哪些商品线应走 1210 保税备货",
        question=(
            "`import_mode_costs` 每行是一条商品线（一个已通过备案的商品 `filing_id`）下一阶段"
            "的计划数据。两种通关方式每月的物流成本（人民币元）：\n\n"
            "- **9610 直购进口**（direct mail 直邮）：每个订单从海外单独寄一个包裹——"
            "`monthly_orders × parcel_freight_9610`；\n"
            "- **1210 保税备货**（bonded stock 保税备货）：先批量运进保税仓——"
            "`monthly_units × inbound_freight_1210`（头程按**件**）"
            "` + avg_stock_units_1210 × storage_1210`（平均库存的仓储费，按件·月）"
            "` + monthly_orders × handling_1210`（仓内操作和国内配送，按**单**）。\n\n"
            "每一项先四舍五入到分。选择规则：收货天数（`lead_days_9610` / `lead_days_1210`）"
            "**超过**承诺时效 `promised_days` 的方式不能用；两种都能用时选月成本低的，"
            "成本相同选 9610（不压库存）；两种都超时选更快的。"
            "可以用 `rules.import_mode_monthly_cost` 和 `rules.import_mode_choice`。"
            "把应当走 **1210** 的商品线的 `filing_id` 存进 `bonded_ids`（顺序不限）。"),
        stage=STAGE, tasks=("11.2.3",), unit=UNIT, difficulty=3, points=3,
        answer="bonded_ids", kind="set", answer_cn="一组商品备案编号 filing_id，顺序不限",
        reference=_bonded_lines,
        solution=_MODE_SOLUTION,
        hints=("先分别算出每条商品线两种方式的月成本，两列放在一起看。",
               "注意单位：9610 的运费按包裹（= 订单）算，1210 的头程按件、仓储按平均库存件数、"
               "操作费按订单算。",
               "先看时效：收货天数大于 `promised_days` 的方式直接排除；"
               "`rules.import_mode_choice(9610成本, 1210成本, 9610天数, 1210天数, 承诺天数)` "
               "按题目的规则返回每行的 '1210' 或 '9610'。"),
        mistakes=(
            Mistake("no_storage",
                    _MODE_SOLUTION.replace("t.avg_stock_units_1210, t.storage_1210,",
                                           "0, t.storage_1210,                     "),
                    "你漏了 1210 的仓储费：保税备货要先压一批库存，平均库存每件每月都要付仓储费，"
                    "销量小的商品这笔钱往往最大。"),
            Mistake("no_lead_time",
                    _MODE_SOLUTION.replace("t.lead_days_9610, t.lead_days_1210, "
                                           "t.promised_days)",
                                           "t.lead_days_9610, t.lead_days_1210, 999)"),
                    "你只比了成本、没看时效：9610 直邮的收货天数超过承诺时效的商品线，"
                    "再便宜也不能用。"),
            Mistake("freight_per_unit",
                    _MODE_SOLUTION.replace(
                        "    t.parcel_freight_9610,                      # 9610：每个订单一个包裹",
                        "    t.parcel_freight_9610 * t.monthly_units / t.monthly_orders,"),
                    "9610 的国际运费是按包裹（每个订单一个包裹）收的，不是按件：一个订单里有几件"
                    "商品，也只寄一个包裹。"),
        ),
        compare=IdSet(),
        tables=("import_mode_costs",),
    ),
)
