"""Hand-worked reference cases for the cross-border import rules in ``cbec_sim.rules``.

Policy: 财关税〔2018〕49号 (5,000 CNY per order, 26,000 CNY per person and year; tariff 0 and
70 % of VAT and consumption tax within the limits), 行邮税 13/20/50 % with the 50 CNY waiver,
GB 11643 ID-number check digit. The expected numbers are worked out by hand in comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbec_sim import rules as R


def _tax(p, v, c, t=0.0, general=False):
    out = R.cross_border_import_tax(p, v, c, t, general)
    return {k: float(np.asarray(out[k])) for k in ("tariff", "consumption_tax", "vat",
                                                      "total")}


def test_ordinary_good_within_limits_is_taxed_at_9_1_percent():
    # 13 % VAT, no consumption tax: 0.7 × 13 % = 9.1 %
    assert R.cbec_effective_tax_rate(0.13, 0.0) == pytest.approx(0.091)
    assert _tax(100.00, 0.13, 0.0) == {"tariff": 0.0, "consumption_tax": 0.0, "vat": 9.10,
                                       "total": 9.10}
    # 1,234.56 × 0.091 = 112.34496 → 112.34
    assert _tax(1234.56, 0.13, 0.0)["total"] == 112.34


def test_cosmetic_with_15_percent_consumption_tax_is_taxed_at_23_06_percent():
    # (0.15 + 0.13) / (1 − 0.15) × 0.7 = 0.230588… → 23.06 %
    assert round(float(R.cbec_effective_tax_rate(0.13, 0.15)), 4) == 0.2306
    # P = 1,000: CT = 1000 × 0.15 / 0.85 × 0.7 = 123.529… → 123.53
    #            total = 1000 × 0.28 / 0.85 × 0.7 = 230.588… → 230.59; VAT = 107.06
    assert _tax(1000.00, 0.13, 0.15) == {"tariff": 0.0, "consumption_tax": 123.53,
                                         "vat": 107.06, "total": 230.59}


def test_general_trade_pays_full_tax_with_tariff():
    # P = 5,000.01, v = 13 %, c = 0, t = 5 %: tariff 250.0005 → 250.00;
    # VAT = 5000.01 × 1.05 × 0.13 = 682.501… → 682.50; total 932.50
    assert _tax(5000.01, 0.13, 0.0, 0.05, True) == {"tariff": 250.0, "consumption_tax": 0.0,
                                                    "vat": 682.5, "total": 932.5}
    # cosmetic as general trade, no tariff: 1000 × 0.28 / 0.85 = 329.41; CT 176.47
    assert _tax(1000.00, 0.13, 0.15, 0.0, True) == {"tariff": 0.0, "consumption_tax": 176.47,
                                                    "vat": 152.94, "total": 329.41}
    assert float(R.cbec_effective_tax_rate(0.13, 0.0, 0.05, True)) == pytest.approx(0.1865)


def test_tariff_is_ignored_within_limits_and_parts_add_up():
    rng = np.random.default_rng(0)
    p = np.round(rng.uniform(1, 5000, 2000), 2)
    c = rng.choice([0.0, 0.1, 0.15], 2000)
    g = rng.random(2000) < 0.3
    out = R.cross_border_import_tax(p, 0.13, c, 0.08, g)
    assert (out["tariff"][~g] == 0).all()
    assert (out["factor"] == np.where(g, 1.0, 0.7)).all()
    parts = R.to_cents(out["tariff"]) + R.to_cents(out["consumption_tax"]) \
        + R.to_cents(out["vat"])
    assert (parts == R.to_cents(out["total"])).all()
    own_vat = R.round_cents(p * np.where(g, 1.08, 1.0) * 0.13 / (1 - c) * out["factor"])
    assert np.abs(out["vat"] - own_vat).max() <= 0.0100001


def test_single_limit_5000_01_is_over_but_5000_00_is_within():
    lim = R.cbec_limit_check(["a", "b"], [2025, 2025], [5000.01, 5000.00])
    assert lim["over_single_limit"].tolist() == [True, False]
    assert lim["general_trade"].tolist() == [True, False]
    # the over-limit order is taxed in full: 5,000.01 × 13 % = 650.0013 → 650.00
    assert _tax(5000.01, 0.13, 0.0, 0.0, True)["total"] == 650.00
    assert _tax(5000.00, 0.13, 0.0)["total"] == 455.00


def test_annual_limit_accumulates_per_buyer_and_calendar_year():
    buyer = ["x", "x", "y", "x", "x", "x", "z", "z", "z"]
    year = [2025, 2025, 2025, 2025, 2025, 2026, 2025, 2025, 2025]
    value = [10000.0, 10000.0, 4000.0, 5999.99, 0.02, 300.0, 10000, 10000, 6000]
    lim = R.cbec_limit_check(buyer, year, value)
    # x: 0 → 10,000 → 20,000 → 25,999.99 → 26,000.01 (crosses); 2026 starts again at 0
    assert lim["annual_total_before"].tolist() == [0, 10000, 0, 20000, 25999.99, 0, 0, 10000,
                                                   20000]
    assert lim["annual_total_after"].tolist()[4] == 26000.01
    assert lim["over_annual_limit"].tolist() == [False, False, False, False, True, False,
                                                 False, False, False]  # z: exactly 26,000
    # 10,000-yuan orders are also over the single limit (taxed in full) but still count
    assert lim["over_single_limit"].tolist() == [True, True, False, True, False, False, True,
                                                 True, True]
    assert (lim["general_trade"] == (lim["over_single_limit"] | lim["over_annual_limit"])).all()


def test_dutiable_value_shares_freight_over_lines_exactly():
    # order 0: lines 10, 20, 30.01 share 10.00 → 1.67, 3.33, 5.00 (last line: remainder)
    out = R.allocate_dutiable_value([10, 20, 30.01, 5], [0, 0, 0, 1], [10.00, 3.33])
    assert out.tolist() == [11.67, 23.33, 35.01, 8.33]
    rng = np.random.default_rng(1)
    n_lines = rng.integers(1, 5, 500)
    li = np.repeat(np.arange(500), n_lines)
    val = np.round(rng.uniform(1, 900, len(li)), 2)
    extra = np.round(rng.uniform(0, 60, 500), 2)
    d = R.allocate_dutiable_value(val, li, extra)
    tot = np.bincount(li, R.to_cents(d)) - np.bincount(li, R.to_cents(val))
    assert (tot == R.to_cents(extra)).all() and (d >= val).all()


def test_postal_articles_tax_waives_50_yuan_or_less():
    # 300 × 13 % = 39 → waived; 384.62 × 13 % = 50.0006 → 50.00 → waived (≤ 50);
    # 384.70 × 13 % = 50.011 → 50.01 → due; 1,000 × 50 % = 500
    assert R.postal_article_tax([300, 384.62, 384.70, 1000],
                                [0.13, 0.13, 0.13, 0.50]).tolist() == [0, 0, 50.01, 500]
    # one parcel of two items: 200 × 13 % + 150 × 20 % = 26 + 30 = 56 → due
    assert R.postal_article_tax([200, 150, 100], [0.13, 0.20, 0.20], [0, 0, 1], 2).tolist() \
        == [56.0, 0.0]
    assert R.POSTAL_ARTICLE_TAX_RATES == (0.13, 0.20, 0.50)


def test_id_number_check_digit_and_validity():
    # examples of GB 11643-1999: 11010519491231002X and 440524188001010014
    assert R.id_number_check_digit(["11010519491231002", "44052418800101001"]).tolist() \
        == ["X", "4"]
    ok = R.id_number_valid(["11010519491231002X", "440524188001010014",
                            "110105194912310021",  # wrong check digit
                            "11010519491331002X",  # month 13
                            "1101051949123100X2", "123", None,
                            "１１０１０５１９４９１２３１００２Ｘ"])  # full-width digits
    assert ok.tolist() == [True, True, False, False, False, False, False, False]
    # any single mistyped digit breaks the check (weights are never multiples of 11)
    base = "11010519491231002X"
    typos = [base[:i] + str((int(base[i]) + d) % 10) + base[i + 1:]
             for i in range(17) for d in range(1, 10)]
    assert not R.id_number_check_digit([t[:17] for t in typos]).tolist().count("X")


def test_supplier_review_outcome_rule():
    out = R.supplier_review_outcome([True, False, True, True, True, False],
                                    ["pass", "pass", "watch", "fail", "pass", "pass"],
                                    ["adequate", "adequate", "adequate", "adequate",
                                     "insufficient", "limited"])
    assert out.tolist() == ["approved", "conditional", "conditional", "rejected", "rejected",
                            "conditional"]
    assert set(R.SUPPLIER_MANDATORY_DOCUMENTS) <= set(R.SUPPLIER_DOCUMENTS)


def test_hs10_valid():
    known = ["330499", "910211"]
    got = R.hs10_valid(["3304990099", "33049900", "33049900990", "7704990099", "9102110000",
                        "33049900A9", None], known)
    assert got.tolist() == [True, False, False, False, True, False, False]


def test_customs_message_mismatches_on_a_hand_made_order():
    def msgs(amount_411=99.0, wb_621="W1"):
        rows = [
            dict(message_type="CEB311", amount_paid=99.0, buyer_name="张三",
                 buyer_id_number="11010519491231002X", consignee_name="张三", goods_value=90.0,
                 freight=9.0, tax=0.0, goods_summary="3304990099×1"),
            dict(message_type="CEB411", amount_paid=amount_411, payer_name="张三",
                 payer_id_number="11010519491231002X"),
            dict(message_type="CEB511", consignee_name="张三", freight=9.0, waybill_no="W1"),
            dict(message_type="CEB621", buyer_name="张三", buyer_id_number="11010519491231002X",
                 consignee_name="张三", goods_value=90.0, freight=9.0, tax=0.0,
                 waybill_no=wb_621, goods_summary="3304990099×1"),
        ]
        return pd.DataFrame(rows).assign(order_id="IO1")

    assert R.customs_message_mismatches(msgs()).empty
    got = R.customs_message_mismatches(msgs(amount_411=90.0, wb_621="W2"))
    assert got[["check", "message_a", "message_b"]].values.tolist() == [
        ["amount", "CEB311", "CEB411"], ["waybill", "CEB511", "CEB621"]]
    # a missing message fails every check it takes part in
    only3 = msgs().query("message_type != 'CEB411'")
    assert set(R.customs_message_mismatches(only3)["check"]) == {"amount", "buyer_name",
                                                                 "id_number"}
