"""13-logistics (物流甄选): rate cards, channel choice, carrier assessment and overseas warehouses.

Stage 5.13 物流甄选 of T/CCPITCSC 111-2022: "based on the products' characteristics, the target
customers' needs and the logistics market, work with forwarders or logistics companies and
choose the cross-border logistics channel and service". 5.13 is a B2B clause (§4.1); the B2C
counterpart in §4.2 is 订单处理与发货, so the items use both B2C parcels and B2B sample orders.
Table 1 tasks: primary 11.1.1 选择物流方案, 11.1.6 物流派送服务保证; secondary 1.1.10
供应链数据分析, 3.2.2 发布 RTS 产品 (logistics templates, price budgeting), 11.1.3
创建物流订单, 11.2.3 国际物流选择与通关服务 (B2B);
the return-or-destroy item is also tagged 11.1.7 (stage 5.17).

Notebooks: 13.01 Rate cards and channel choice (volumetric / chargeable weight, rate-card
freight, B2B sample couriers, cheapest channel within the promised time), 13.02 Carriers and
warehouses (late and lost rates, a weighted scorecard, undeliverable parcels, overseas
warehouse vs direct mail, reorder point with safety stock).

Formulas: volumetric and chargeable weight and rate-card freight are ``cbec_sim.rules``
(:func:`~cbec_sim.rules.volumetric_weight_kg`, :func:`~cbec_sim.rules.chargeable_weight_kg`,
:func:`~cbec_sim.rules.shipping_cost_cny`); the return-or-destroy rule is
:func:`~cbec_sim.rules.undeliverable_decision`; the scorecard's weighted mean is
:func:`~cbec_sim.rules.weighted_kpi_score`. Reorder point = mean daily demand × lead time +
safety stock, safety stock = z × σ_daily × √lead time (textbook inventory practice, e.g. Chopra
& Meindl, *Supply Chain Management*; z = 1.65 for a 95 % cycle service level).

Every ``reference`` below computes the expected answer its own way (numpy and the rules
module), independently of the solution text shown to trainees.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec_sim import rules
from graders.compare import Frame, SeriesOf
from graders.exercise import Exercise, Mistake

MODULE = "13-logistics"

STAGE = "5.13"
UNIT = "logistics"

EXPRESS_NAME = "SwiftAir Express"  # serves every market of every world
EPACKET_NAME = "CathayPost ePacket"  # serves every market of every world
PROMISE_DAYS = 10  # B2C delivery promise of the stores' shipping templates (question value)
LAST_DAYS = 30  # parcels shipped in the last 30 days of the period (13.01.channel_choice)
RETURN_CLEARANCE_CNY = 50.0  # forwarder's re-import clearance fee per returned parcel (scenario)
CLEARANCE_RESALE_RATE = 0.4  # out-of-season goods sold off at 40 % of value (scenario)
MIN_CLOSED = 30  # carriers need at least this many closed parcels to be scored
SCORE_WEIGHTS = {"on_time": 0.4, "safety": 0.3, "cost": 0.3}  # scenario weights (question)
Z_95 = 1.65  # standard normal quantile for a 95 % cycle service level
WINDOW_DAYS = 90  # demand window for the reorder point
STORAGE_MONTHS = 1.0  # months a unit waits in the overseas warehouse (question value)


# --- helpers (references only) ----------------------------------------------------------------

def _card(w, name: str) -> dict:
    c = w.carriers
    return c[c.name.astype(str) == name].iloc[0].to_dict()


def _freight(card: dict, actual, length, width, height) -> tuple[np.ndarray, np.ndarray]:
    """Chargeable weight and rate-card freight of parcels for one carrier card (rules)."""
    vol = rules.volumetric_weight_kg(length, width, height, int(card["volumetric_divisor"]))
    cw = rules.chargeable_weight_kg(actual, vol, float(card["weight_step_kg"]))
    cost = rules.shipping_cost_cny(cw, card["first_weight_kg"], card["first_weight_fee_cny"],
                                   card["additional_per_kg_cny"], card["handling_fee_cny"])
    return cw, cost


def _period_end(w) -> pd.Timestamp:
    return pd.Timestamp(w.meta["start"], tz="UTC") + pd.DateOffset(months=int(w.meta["months"]))


def _cheapest_direct(w, parcels: pd.DataFrame, max_days: int | None):
    """Per parcel (rows of ``parcels``: market, actual_weight_kg, length/width/height_cm): the
    cheapest direct-mail service allowed, ties to the smaller carrier_id. Returns (ids, cost)."""
    c = w.carriers
    c = c[c.service_type.astype(str) != "overseas_warehouse"].sort_values("carrier_id")
    n = len(parcels)
    best_cost = np.full(n, np.inf)
    best_id = np.full(n, "", dtype=object)
    market = parcels.market.astype(str).to_numpy()
    actual = parcels.actual_weight_kg.to_numpy(float)
    L, W, H = (parcels[k].to_numpy(float) for k in ("length_cm", "width_cm", "height_cm"))
    for card in c.to_dict("records"):
        if max_days is not None and card["transit_days_max"] > max_days:
            continue
        ok = (np.isin(market, str(card["markets"]).split("|"))
              & (actual <= card["max_weight_kg"]) & (card["max_dims_sum_cm"] >= L + W + H))
        _, cost = _freight(card, actual, L, W, H)
        better = ok & (cost < best_cost)  # strict: an equal later (larger) id never wins
        best_cost = np.where(better, cost, best_cost)
        best_id = np.where(better, card["carrier_id"], best_id)
    return best_id, best_cost


# --- references 13.01 -------------------------------------------------------------------------

def _volumetric_kg(w) -> pd.Series:
    p = w.products
    card = _card(w, EXPRESS_NAME)
    v = rules.volumetric_weight_kg(p.length_cm, p.width_cm, p.height_cm,
                                   int(card["volumetric_divisor"]))
    return pd.Series(v, index=p.product_id.astype(str).to_numpy())


def _epacket_quote(w) -> pd.DataFrame:
    p = w.products
    card = _card(w, EPACKET_NAME)
    dims = p.length_cm.to_numpy(float) + p.width_cm.to_numpy(float) + p.height_cm.to_numpy(float)
    ok = (p.weight_kg.to_numpy(float) <= card["max_weight_kg"]) & (dims <= card["max_dims_sum_cm"])
    q = p[ok]
    cw, cost = _freight(card, q.weight_kg, q.length_cm, q.width_cm, q.height_cm)
    return pd.DataFrame({"product_id": q.product_id.astype(str).to_numpy(),
                         "chargeable_kg": cw, "freight_cny": cost})


def _sample_parcels(w) -> pd.DataFrame:
    c = w.contracts
    s = c[c.order_type.astype(str) == "sample"]
    p = w.products.set_index("product_id")
    qty = s.quantity.to_numpy(float)
    pid = s.product_id.astype(str).to_numpy()
    vol_cm3 = (p.length_cm * p.width_cm * p.height_cm).reindex(pid).to_numpy(float) * qty
    return pd.DataFrame({"contract_id": s.contract_id.astype(str).to_numpy(),
                         "actual": p.weight_kg.reindex(pid).to_numpy(float) * qty,
                         "vol_cm3": vol_cm3})


def _sample_express(w) -> pd.DataFrame:
    s = _sample_parcels(w)
    c = w.carriers
    cards = c[c.service_type.astype(str) == "express"].sort_values(
        ["transit_days_max", "carrier_id"]).to_dict("records")
    best_cost = np.full(len(s), np.inf)
    best_id = np.full(len(s), "", dtype=object)
    for card in cards:  # faster service first: a later one must be strictly cheaper
        vol = s.vol_cm3.to_numpy() / card["volumetric_divisor"]
        cw = rules.chargeable_weight_kg(s.actual.to_numpy(), vol, card["weight_step_kg"])
        cost = rules.shipping_cost_cny(cw, card["first_weight_kg"], card["first_weight_fee_cny"],
                                       card["additional_per_kg_cny"], card["handling_fee_cny"])
        better = cost < best_cost
        best_cost = np.where(better, cost, best_cost)
        best_id = np.where(better, card["carrier_id"], best_id)
    return pd.DataFrame({"contract_id": s.contract_id, "carrier_id": best_id,
                         "freight_cny": best_cost})


def _recent_b2c_direct(w) -> pd.DataFrame:
    s = w.shipments
    b2c = set(w.stores.store_id[w.stores.model.astype(str) == "B2C"].astype(str))
    dom = set(w.warehouses.warehouse_id[w.warehouses.warehouse_type.astype(str) == "domestic"]
              .astype(str))
    since = _period_end(w) - pd.Timedelta(days=LAST_DAYS)
    keep = (s.store_id.astype(str).isin(b2c) & s.warehouse_id.astype(str).isin(dom)
            & (s.shipped_at >= since)).to_numpy(bool)
    return s[keep]


def _channel_choice(w) -> pd.DataFrame:
    s = _recent_b2c_direct(w)
    ids, cost = _cheapest_direct(w, s, PROMISE_DAYS)
    return pd.DataFrame({"shipment_id": s.shipment_id.astype(str).to_numpy(),
                         "carrier_id": ids, "freight_cny": cost})


# --- references 13.02 -------------------------------------------------------------------------

def _late_rate(w) -> pd.Series:
    s = w.shipments
    d = s[s.status.astype(str) == "delivered"]
    out = {}
    for cid in sorted(d.carrier_id.astype(str).unique()):
        late = d.is_late_delivery.to_numpy(bool)[d.carrier_id.astype(str).to_numpy() == cid]
        out[cid] = late.sum() / len(late)
    return pd.Series(out, dtype=float)


def _closed(w) -> pd.DataFrame:
    s = w.shipments
    return s[s.status.astype(str) != "in_transit"]


def _lost_rate(w) -> pd.Series:
    s = _closed(w)
    cid = s.carrier_id.astype(str).to_numpy()
    lost = s.is_lost.to_numpy(bool)
    return pd.Series({c: lost[cid == c].mean() for c in sorted(set(cid))}, dtype=float)


def _scorecard(w) -> pd.DataFrame:
    s = _closed(w)
    direct = set(w.carriers.carrier_id[w.carriers.service_type.astype(str)
                                       != "overseas_warehouse"].astype(str))
    rows = []
    for cid in sorted(set(s.carrier_id.astype(str)) & direct):
        g = s[s.carrier_id.astype(str).to_numpy() == cid]
        if len(g) < MIN_CLOSED:
            continue
        delivered = g.status.astype(str).to_numpy() == "delivered"
        late = g.is_late_delivery.to_numpy(bool)
        problem = g.is_lost.to_numpy(bool) | g.is_damaged.to_numpy(bool)
        rows.append({"carrier_id": cid,
                     "on_time_rate": 1 - late[delivered].sum() / delivered.sum(),
                     "problem_rate": problem.mean(),
                     "cost_per_kg": g.shipping_cost_cny.sum() / g.chargeable_weight_kg.sum()})
    t = pd.DataFrame(rows)
    score = rules.weighted_kpi_score(
        {"on_time": 100 * t.on_time_rate.to_numpy(), "safety": 100 * (1 - t.problem_rate),
         "cost": 100 * t.cost_per_kg.min() / t.cost_per_kg.to_numpy()}, SCORE_WEIGHTS)
    t["score"] = score
    return t.sort_values(["score", "carrier_id"], ascending=[False, True],
                         kind="stable").reset_index(drop=True)


def _undeliverable_plan(w) -> pd.DataFrame:
    s = w.shipments
    u = s[s.status.astype(str) == "undeliverable"]
    cost = u.return_fee_cny.to_numpy(float) + RETURN_CLEARANCE_CNY
    recovery = u.goods_value_cny.to_numpy(float) * CLEARANCE_RESALE_RATE
    decision = rules.undeliverable_decision(cost, u.goods_value_cny.to_numpy(float),
                                           CLEARANCE_RESALE_RATE)
    return pd.DataFrame({"shipment_id": u.shipment_id.astype(str).to_numpy(),
                         "return_cost_cny": cost, "recovery_cny": recovery,
                         "outcome": decision})


def _warehouse_vs_direct(w) -> pd.DataFrame:
    s = w.shipments
    wh = w.warehouses.set_index(w.warehouses.warehouse_id.astype(str))
    abroad = wh.index[wh.warehouse_type.astype(str) != "domestic"]
    s = s[s.warehouse_id.astype(str).isin(abroad)]
    wid = s.warehouse_id.astype(str).to_numpy()
    cbm = (s.length_cm * s.width_cm * s.height_cm).to_numpy(float) / 1e6
    overseas = (s.shipping_cost_cny.to_numpy(float)
                + s.actual_weight_kg.to_numpy(float)
                * wh.first_leg_cost_per_kg_cny.reindex(wid).to_numpy(float)
                + wh.pick_pack_fee_cny.reindex(wid).to_numpy(float)
                + cbm * wh.storage_fee_cny_per_cbm_month.reindex(wid).to_numpy(float)
                * STORAGE_MONTHS)
    _, direct = _cheapest_direct(w, s, None)
    rows = [{"warehouse_id": x, "overseas_cny": round(float(overseas[wid == x].sum()), 2),
             "direct_cny": round(float(direct[wid == x].sum()), 2)} for x in sorted(set(wid))]
    return pd.DataFrame(rows)


def _reorder_point(w) -> pd.DataFrame:
    wh = w.warehouses
    lead = dict(zip(wh.warehouse_id.astype(str), wh.first_leg_days, strict=True))
    abroad = {k for k, t in zip(wh.warehouse_id.astype(str), wh.warehouse_type.astype(str),
                                strict=True) if t != "domestic"}
    inv = w.inventory
    last = inv.date.max()
    keep = (inv.warehouse_id.astype(str).isin(abroad)
            & (inv.date > last - pd.Timedelta(days=WINDOW_DAYS))).to_numpy(bool)
    v = inv[keep]
    rows = []
    for (wid, pid), g in v.groupby([v.warehouse_id.astype(str), v.product_id.astype(str)]):
        x = g.outbound.to_numpy(float)
        lt = float(lead[wid])
        d, sd = x.mean(), x.std(ddof=1)
        ss = Z_95 * sd * np.sqrt(lt)
        rows.append({"warehouse_id": wid, "product_id": pid, "avg_daily": d,
                     "safety_stock": ss, "reorder_point": d * lt + ss})
    return pd.DataFrame(rows)


# --- solutions shared by mistakes -------------------------------------------------------------

_QUOTE_SETUP = (
    "card = carriers[carriers.name == 'CathayPost ePacket'].iloc[0]\n"
    "p = products.copy()\n")

_CHOICE_SETUP = (
    "end = pd.Timestamp(world.meta['start'], tz='UTC') + "
    "pd.DateOffset(months=world.meta['months'])\n"
    "b2c = stores.store_id[stores.model == 'B2C']\n"
    "domestic = warehouses.warehouse_id[warehouses.warehouse_type == 'domestic']\n"
    "parcels = shipments[shipments.store_id.isin(b2c) & shipments.warehouse_id.isin(domestic)\n"
    "                    & (shipments.shipped_at >= end - pd.Timedelta(days=30))]\n"
    "direct = carriers[carriers.service_type != 'overseas_warehouse']\n"
    "# 每个包裹 × 每个直邮渠道，一行一个组合（交叉连接 cross join）\n"
    "combo = parcels[['shipment_id', 'market', 'actual_weight_kg', 'length_cm', 'width_cm',\n"
    "                 'height_cm']].merge(direct, how='cross')\n")

_CHOICE_FREIGHT = (
    "vol = combo.length_cm * combo.width_cm * combo.height_cm / combo.volumetric_divisor\n"
    "w = np.maximum(combo.actual_weight_kg, vol)\n"
    "combo['cw'] = np.ceil((w / combo.weight_step_kg).round(9)) * combo.weight_step_kg\n"
    "extra = (combo.cw - combo.first_weight_kg).clip(lower=0)\n"
    "combo['freight_cny'] = (combo.first_weight_fee_cny + extra * combo.additional_per_kg_cny\n"
    "                        + combo.handling_fee_cny).round(2)\n")

_CHOICE_PICK = (
    "best = (ok.sort_values(['shipment_id', 'freight_cny', 'carrier_id'])\n"
    "          .drop_duplicates('shipment_id'))\n"
    "choice = best[['shipment_id', 'carrier_id', 'freight_cny']]")

_SERVES = "served = np.array([m in ms.split('|') for m, ms in zip(combo.market, combo.markets)])\n"
_FITS = ("fits = ((combo.actual_weight_kg <= combo.max_weight_kg)\n"
         "        & (combo.length_cm + combo.width_cm + combo.height_cm "
         "<= combo.max_dims_sum_cm))\n")


def _choice_code(*, served=True, days=True, volumetric=True, handling=True) -> str:
    freight = _CHOICE_FREIGHT if volumetric else _CHOICE_FREIGHT.replace(
        "w = np.maximum(combo.actual_weight_kg, vol)", "w = combo.actual_weight_kg")
    if not handling:
        freight = freight.replace("\n                        + combo.handling_fee_cny)", ")")
    cond = ["fits"] + (["served"] if served else []) + (
        ["(combo.transit_days_max <= 10)"] if days else [])
    return (_CHOICE_SETUP + freight + _SERVES + _FITS
            + f"ok = combo[{' & '.join(cond)}]\n" + _CHOICE_PICK)


_SAMPLE_SETUP = (
    "samples = contracts[contracts.order_type == 'sample']\n"
    "s = samples[['contract_id', 'product_id', 'quantity']].merge(products, on='product_id')\n"
    "express = carriers[carriers.service_type == 'express']\n"
    "combo = s.merge(express, how='cross')\n")


def _sample_code(*, qty=True, step=True, volumetric=True) -> str:
    n = " * combo.quantity" if qty else ""
    w = "np.maximum(actual, vol)" if volumetric else "actual"
    cw = ("np.ceil((w / combo.weight_step_kg).round(9)) * combo.weight_step_kg" if step
          else "w")
    return (_SAMPLE_SETUP
            + f"actual = combo.weight_kg{n}\n"
            + f"vol = combo.length_cm * combo.width_cm * combo.height_cm{n} "
              "/ combo.volumetric_divisor\n"
            + f"w = {w}\n"
            + f"combo['cw'] = {cw}\n"
            + "extra = (combo.cw - combo.first_weight_kg).clip(lower=0)\n"
            + "combo['freight_cny'] = (combo.first_weight_fee_cny + extra * "
              "combo.additional_per_kg_cny\n"
            + "                        + combo.handling_fee_cny).round(2)\n"
            + "best = (combo.sort_values(['contract_id', 'freight_cny', 'transit_days_max'])\n"
            + "             .drop_duplicates('contract_id'))\n"
            + "sample_quote = best[['contract_id', 'carrier_id', 'freight_cny']]")


def _undeliverable_code(*, rate: str = "0.4", fee: str = " + 50",
                        outcome: str = "") -> str:
    outcome = outcome or ("np.where(plan.return_cost_cny < plan.recovery_cny, "
                          "'returned_to_sender', 'destroyed_overseas')")
    return ("u = shipments[shipments.status == 'undeliverable']\n"
            "plan = pd.DataFrame({'shipment_id': u.shipment_id,\n"
            f"                     'return_cost_cny': u.return_fee_cny{fee},   # 退回成本\n"
            f"                     'recovery_cny': u.goods_value_cny * {rate}}})  # 可收回金额\n"
            f"plan['outcome'] = {outcome}\n")


_SCORE_HEAD = (
    "closed = shipments[shipments.status != 'in_transit']\n"
    "direct = carriers.carrier_id[carriers.service_type != 'overseas_warehouse']\n"
    "closed = closed[closed.carrier_id.isin(direct)].copy()\n"
    "closed['delivered'] = closed.status == 'delivered'\n"
    "closed['on_time'] = closed.delivered & ~closed.is_late_delivery\n"
    "closed['problem'] = closed.is_lost | closed.is_damaged\n"
    "g = closed.groupby('carrier_id').agg(n=('shipment_id', 'size'),\n"
    "                                     delivered=('delivered', 'sum'),\n"
    "                                     on_time=('on_time', 'sum'),\n"
    "                                     problem_rate=('problem', 'mean'),\n"
    "                                     cost=('shipping_cost_cny', 'sum'),\n"
    "                                     kg=('chargeable_weight_kg', 'sum'),\n"
    "                                     avg_cost=('shipping_cost_cny', 'mean'))\n"
    "g = g[g.n >= 30]\n")


def _score_code(*, on_time="g.on_time / g.delivered", cost="g.cost / g.kg",
                ascending=False) -> str:
    return (_SCORE_HEAD
            + f"g['on_time_rate'] = {on_time}\n"
            + f"g['cost_per_kg'] = {cost}\n"
            + "g['score'] = (0.4 * 100 * g.on_time_rate + 0.3 * 100 * (1 - g.problem_rate)\n"
            + "              + 0.3 * 100 * g.cost_per_kg.min() / g.cost_per_kg)\n"
            + f"scorecard = (g.sort_values('score', ascending={ascending}).reset_index()\n"
            + "             [['carrier_id', 'on_time_rate', 'problem_rate', 'cost_per_kg', "
              "'score']])")


_WH_HEAD = (
    "abroad = warehouses[warehouses.warehouse_type != 'domestic']\n"
    "s = shipments.merge(abroad, on='warehouse_id')   # 只保留海外仓 / 平台仓发出的包裹\n"
    "cbm = s.length_cm * s.width_cm * s.height_cm / 1e6   # 体积：立方米\n")

_WH_DIRECT = (
    "direct = carriers[carriers.service_type != 'overseas_warehouse']\n"
    "combo = s[['shipment_id', 'warehouse_id', 'market', 'actual_weight_kg', 'length_cm',\n"
    "           'width_cm', 'height_cm']].merge(direct, how='cross')\n"
    "vol = combo.length_cm * combo.width_cm * combo.height_cm / combo.volumetric_divisor\n"
    "w = np.maximum(combo.actual_weight_kg, vol)\n"
    "combo['cw'] = np.ceil((w / combo.weight_step_kg).round(9)) * combo.weight_step_kg\n"
    "extra = (combo.cw - combo.first_weight_kg).clip(lower=0)\n"
    "combo['freight'] = (combo.first_weight_fee_cny + extra * combo.additional_per_kg_cny\n"
    "                    + combo.handling_fee_cny).round(2)\n"
    "served = np.array([m in ms.split('|') for m, ms in zip(combo.market, combo.markets)])\n"
    "fits = ((combo.actual_weight_kg <= combo.max_weight_kg)\n"
    "        & (combo.length_cm + combo.width_cm + combo.height_cm <= combo.max_dims_sum_cm))\n"
    "cheapest = combo[fits & served].groupby('shipment_id').freight.min()\n"
    "s['direct_cny'] = s.shipment_id.map(cheapest)\n")

_WH_TAIL = (
    "compare = (s.groupby('warehouse_id')[['overseas_cny', 'direct_cny']].sum().round(2)\n"
    "             .reset_index())")


def _wh_code(*, first_leg=True, storage=True, cbm=True) -> str:
    parts = ["s.shipping_cost_cny"]
    if first_leg:
        parts.append("s.actual_weight_kg * s.first_leg_cost_per_kg_cny")
    parts.append("s.pick_pack_fee_cny")
    if storage:
        parts.append("cbm * s.storage_fee_cny_per_cbm_month * 1")
    head = _WH_HEAD if cbm else _WH_HEAD.replace(" / 1e6   # 体积：立方米", "   # 体积")
    return (head + "s['overseas_cny'] = (" + "\n                     + ".join(parts) + ")\n"
            + _WH_DIRECT + _WH_TAIL)


def _rop_code(*, window=True, sqrt=True, safety=True) -> str:
    head = ("abroad = warehouses[warehouses.warehouse_type != 'domestic']\n"
            "inv = inventory[inventory.warehouse_id.isin(abroad.warehouse_id)]\n")
    if window:
        head += "inv = inv[inv.date > inv.date.max() - pd.Timedelta(days=90)]   # 最近 90 天\n"
    ss = ("1.65 * rop.sd * np.sqrt(rop.lead_days)" if sqrt else "1.65 * rop.sd * rop.lead_days")
    if not safety:
        ss = "0.0"
    return (head
            + "rop = (inv.groupby(['warehouse_id', 'product_id'], observed=True).outbound\n"
              "          .agg(avg_daily='mean', sd='std').reset_index())\n"
            + "rop['warehouse_id'] = rop.warehouse_id.astype(str)\n"
            + "lead = abroad.set_index('warehouse_id').first_leg_days.astype(float)\n"
            + "rop['lead_days'] = rop.warehouse_id.map(lead)\n"
            + f"rop['safety_stock'] = {ss}\n"
            + "rop['reorder_point'] = rop.avg_daily * rop.lead_days + rop.safety_stock")


# --- items ------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    # 13.01 Rate cards and channel choice -----------------------------------------------------
    Exercise(
        id="13.01.volumetric_kg",
        title="新品的快递体积重",
        question=(
            "要给商品目录里的每个 SKU 报快递运费，第一步是算体积重（volumetric weight 体积重，"
            "又叫抛重）。按 `carriers` 表中 `SwiftAir Express` 这条快递渠道的体积重除数 "
            "`volumetric_divisor`（单位 cm³/kg），对 `products` 表的每个商品计算：\n\n"
            "体积重（kg）= `length_cm` × `width_cm` × `height_cm` ÷ 除数\n\n"
            "商品的长宽高已是包装后的尺寸，一件商品就是一个包裹。结果存进 `volumetric_kg`："
            "一个 Series，索引是 `product_id`，值是体积重（kg），不舍入。"),
        stage=STAGE, tasks=("3.2.2", "11.1.1"), unit=UNIT, difficulty=1, points=1,
        answer="volumetric_kg", kind="series",
        answer_cn="Series：product_id → 体积重（kg），不舍入",
        reference=_volumetric_kg,
        solution=(
            "divisor = carriers.loc[carriers.name == 'SwiftAir Express', "
            "'volumetric_divisor'].iloc[0]\n"
            "p = products.set_index('product_id')\n"
            "volumetric_kg = p.length_cm * p.width_cm * p.height_cm / divisor"),
        hints=(
            "先从 `carriers` 表里取出这条渠道的除数：`carriers.loc[条件, "
            "'volumetric_divisor'].iloc[0]`。",
            "把 `products` 的索引设成 `product_id`（`set_index`），三列相乘再除以除数，结果自然是"
            "按 product_id 索引的 Series。",
            "快递的除数是 5000，邮政小包和专线多用 6000：一定要用题目指定渠道的那一个。"),
        mistakes=(
            Mistake("postal_divisor",
                    "p = products.set_index('product_id')\n"
                    "volumetric_kg = p.length_cm * p.width_cm * p.height_cm / 6000",
                    "你用的除数是 6000（邮政小包、专线常用）；题目指定的快递渠道在 carriers 表里的"
                    "除数不同，请从表里读取。"),
            Mistake("took_max",
                    "divisor = carriers.loc[carriers.name == 'SwiftAir Express', "
                    "'volumetric_divisor'].iloc[0]\n"
                    "p = products.set_index('product_id')\n"
                    "volumetric_kg = np.maximum(p.length_cm * p.width_cm * p.height_cm / divisor,"
                    "\n                           p.weight_kg)",
                    "你和实重取了较大值，那是计费重（chargeable weight）的第一步；这道题只要体积重"
                    "本身。"),
            Mistake("cubic_metres",
                    "p = products.set_index('product_id')\n"
                    "volumetric_kg = p.length_cm * p.width_cm * p.height_cm / 1_000_000",
                    "你算出的是体积（立方米），不是体积重：体积重 = 长×宽×高（cm³）÷ 渠道的除数。"),
        ),
        compare=SeriesOf(rel=1e-6, abs=1e-9),
        tables=("products", "carriers"),
    ),
    Exercise(
        id="13.01.epacket_quote",
        title="e 邮宝类渠道的运费报价表",
        question=(
            "发布 RTS（Ready to Ship 现货）商品前要设好物流模板并做价格预算。为 `CathayPost "
            "ePacket`（e 邮宝类轻小件渠道）做一张报价表：\n\n"
            "- 只含这条渠道**能收**的商品：`weight_kg` ≤ `max_weight_kg`，且长+宽+高 ≤ "
            "`max_dims_sum_cm`；\n"
            "- 计费重 `chargeable_kg` = max(实重 `weight_kg`, 体积重)，再**向上**取整到渠道的"
            "计重单位 `weight_step_kg`（体积重用该渠道的 `volumetric_divisor`）；\n"
            "- 运费 `freight_cny` = 首重费 `first_weight_fee_cny` + max(计费重 − 首重 "
            "`first_weight_kg`, 0) × 续重单价 `additional_per_kg_cny` + 挂号/处理费 "
            "`handling_fee_cny`，四舍五入到分。\n\n"
            "结果存进 `epacket_quote`：DataFrame，列 `product_id`、`chargeable_kg`、"
            "`freight_cny`，行的顺序不限。"),
        stage=STAGE, tasks=("3.2.2", "11.1.1"), unit=UNIT, difficulty=2, points=2,
        answer="epacket_quote", kind="frame",
        answer_cn="DataFrame：product_id, chargeable_kg（kg）, freight_cny（人民币元，两位小数）",
        reference=_epacket_quote,
        solution=(
            _QUOTE_SETUP
            + "ok = (p.weight_kg <= card.max_weight_kg) & "
              "(p.length_cm + p.width_cm + p.height_cm <= card.max_dims_sum_cm)\n"
            + "p = p[ok]\n"
            + "vol = p.length_cm * p.width_cm * p.height_cm / card.volumetric_divisor\n"
            + "w = np.maximum(p.weight_kg, vol)\n"
            + "# 向上取整到计重单位；先 round(9) 去掉浮点误差（0.07 / 0.01 = 7.000000000000001）\n"
            + "p['chargeable_kg'] = np.ceil((w / card.weight_step_kg).round(9)) * "
              "card.weight_step_kg\n"
            + "extra = (p.chargeable_kg - card.first_weight_kg).clip(lower=0)\n"
            + "p['freight_cny'] = (card.first_weight_fee_cny + extra * "
              "card.additional_per_kg_cny\n"
            + "                    + card.handling_fee_cny).round(2)\n"
            + "epacket_quote = p[['product_id', 'chargeable_kg', 'freight_cny']]"),
        hints=(
            "先取出渠道那一行：`card = carriers[carriers.name == 'CathayPost ePacket'].iloc[0]`，"
            "之后用 `card.max_weight_kg`、`card.weight_step_kg` 等取参数。",
            "计费重：`np.maximum(实重, 体积重)`，再 `np.ceil(重量 / 步长) * 步长` 向上取整；"
            "除法可能有浮点误差，先 `.round(9)` 再 `np.ceil`。",
            "续重部分 = (计费重 − 首重) 且不小于 0：`.clip(lower=0)`；别忘了加挂号/处理费。"),
        mistakes=(
            Mistake("actual_only",
                    _QUOTE_SETUP
                    + "p = p[(p.weight_kg <= card.max_weight_kg) & (p.length_cm + p.width_cm\n"
                      "       + p.height_cm <= card.max_dims_sum_cm)]\n"
                    + "p['chargeable_kg'] = np.ceil((p.weight_kg / card.weight_step_kg)"
                      ".round(9)) * card.weight_step_kg\n"
                    + "extra = (p.chargeable_kg - card.first_weight_kg).clip(lower=0)\n"
                    + "p['freight_cny'] = (card.first_weight_fee_cny + extra * "
                      "card.additional_per_kg_cny + card.handling_fee_cny).round(2)\n"
                    + "epacket_quote = p[['product_id', 'chargeable_kg', 'freight_cny']]",
                    "你只用了实重：轻泡货（体积大、重量轻）要按体积重计费。计费重是实重和体积重中"
                    "较大的那个。"),
            Mistake("whole_weight_extra",
                    _QUOTE_SETUP
                    + "p = p[(p.weight_kg <= card.max_weight_kg) & (p.length_cm + p.width_cm\n"
                      "       + p.height_cm <= card.max_dims_sum_cm)]\n"
                    + "vol = p.length_cm * p.width_cm * p.height_cm / card.volumetric_divisor\n"
                    + "w = np.maximum(p.weight_kg, vol)\n"
                    + "p['chargeable_kg'] = np.ceil((w / card.weight_step_kg).round(9)) * "
                      "card.weight_step_kg\n"
                    + "p['freight_cny'] = (card.first_weight_fee_cny + p.chargeable_kg * "
                      "card.additional_per_kg_cny + card.handling_fee_cny).round(2)\n"
                    + "epacket_quote = p[['product_id', 'chargeable_kg', 'freight_cny']]",
                    "续重费只算超出首重的部分：(计费重 − 首重) × 续重单价，首重那段已经含在首重费"
                    "里了。"),
            Mistake("no_limits",
                    _QUOTE_SETUP
                    + "vol = p.length_cm * p.width_cm * p.height_cm / card.volumetric_divisor\n"
                    + "w = np.maximum(p.weight_kg, vol)\n"
                    + "p['chargeable_kg'] = np.ceil((w / card.weight_step_kg).round(9)) * "
                      "card.weight_step_kg\n"
                    + "extra = (p.chargeable_kg - card.first_weight_kg).clip(lower=0)\n"
                    + "p['freight_cny'] = (card.first_weight_fee_cny + extra * "
                      "card.additional_per_kg_cny + card.handling_fee_cny).round(2)\n"
                    + "epacket_quote = p[['product_id', 'chargeable_kg', 'freight_cny']]",
                    "这条渠道有重量和尺寸上限（`max_weight_kg`、`max_dims_sum_cm`）：超限的商品"
                    "它不收，不能出现在报价表里。"),
            Mistake("no_handling",
                    _QUOTE_SETUP
                    + "p = p[(p.weight_kg <= card.max_weight_kg) & (p.length_cm + p.width_cm\n"
                      "       + p.height_cm <= card.max_dims_sum_cm)]\n"
                    + "vol = p.length_cm * p.width_cm * p.height_cm / card.volumetric_divisor\n"
                    + "w = np.maximum(p.weight_kg, vol)\n"
                    + "p['chargeable_kg'] = np.ceil((w / card.weight_step_kg).round(9)) * "
                      "card.weight_step_kg\n"
                    + "extra = (p.chargeable_kg - card.first_weight_kg).clip(lower=0)\n"
                    + "p['freight_cny'] = (card.first_weight_fee_cny + extra * "
                      "card.additional_per_kg_cny).round(2)\n"
                    + "epacket_quote = p[['product_id', 'chargeable_kg', 'freight_cny']]",
                    "漏了每个包裹的挂号/处理费 `handling_fee_cny`：小包渠道这笔钱不小。"),
        ),
        compare=Frame(key=("product_id",), columns=("chargeable_kg", "freight_cny"),
                      rel=0.0, abs=0.006),
        tables=("products", "carriers"),
    ),
    Exercise(
        id="13.01.sample_express",
        title="B2B 样品单：选哪家快递",
        question=(
            "B2B 店铺的样品单（sample order 样品单，`contracts.order_type == 'sample'`）用国际"
            "快递寄出。为每一份样品单比较 `carriers` 表中两条快递渠道（`service_type == "
            "'express'`）的运费，选便宜的那家：\n\n"
            "- 包裹实重 = 商品 `weight_kg` × `quantity`，包裹体积 = 长×宽×高 × `quantity`"
            "（cm³，按件数简单相加）；\n"
            "- 体积重 = 包裹体积 ÷ 该渠道的 `volumetric_divisor`；计费重 = max(实重, 体积重)，"
            "向上取整到该渠道的 `weight_step_kg`；\n"
            "- 运费 = 首重费 + max(计费重 − 首重, 0) × 续重单价 + 处理费，四舍五入到分；\n"
            "- 两家运费相同时，选承诺时效更快（`transit_days_max` 更小）的那家。\n\n"
            "结果存进 `sample_quote`：DataFrame，每份样品单一行，列 `contract_id`、"
            "`carrier_id`（选中的快递）、`freight_cny`（它的运费），行的顺序不限。"),
        stage=STAGE, tasks=("11.2.3",), unit=UNIT, difficulty=2, points=2,
        answer="sample_quote", kind="frame",
        answer_cn="DataFrame：contract_id, carrier_id, freight_cny（人民币元，两位小数）",
        reference=_sample_express,
        solution=_sample_code(),
        hints=(
            "先把样品单和商品表合并（`merge(products, on='product_id')`），再和两条快递渠道做"
            "交叉连接 `merge(express, how='cross')`：每份样品单 × 每家快递一行。",
            "实重和体积都要乘以 `quantity`；计费重向上取整："
            "`np.ceil((w / 步长).round(9)) * 步长`。",
            "按 `['contract_id', 'freight_cny', 'transit_days_max']` 排序后 "
            "`drop_duplicates('contract_id')`，每份样品单留下最便宜（同价时最快）的一行。"),
        mistakes=(
            Mistake("one_unit", _sample_code(qty=False),
                    "样品单可能有 2–3 件：包裹的实重和体积都要乘以 `quantity`。"),
            Mistake("no_step", _sample_code(step=False),
                    "快递按 0.5 kg 一档计费：计费重要向上取整到 `weight_step_kg`，不能按实际"
                    "小数计费。"),
            Mistake("actual_only", _sample_code(volumetric=False),
                    "你只用了实重：快递按实重和体积重（除数 5000）中较大者计费。"),
        ),
        compare=Frame(key=("contract_id",), columns=("carrier_id", "freight_cny"),
                      rel=0.0, abs=0.006),
        tables=("contracts", "products", "carriers"),
    ),
    Exercise(
        id="13.01.channel_choice",
        title="直邮包裹的最优渠道（复盘最近 30 天）",
        question=(
            "复盘最近 30 天的 B2C 直邮包裹，看每个包裹本该选哪条渠道（选择物流方案）。\n\n"
            "- 包裹：`shipments` 中 B2C 店铺（`stores.model == 'B2C'`）从国内仓"
            "（`warehouses.warehouse_type == 'domestic'`）发出、且 `shipped_at` ≥ "
            "`end − 30 天` 的包裹，其中 `end = pd.Timestamp(world.meta['start'], tz='UTC') + "
            "pd.DateOffset(months=world.meta['months'])`；\n"
            "- 候选渠道：直邮渠道（`service_type` 不是 `'overseas_warehouse'`），要同时满足："
            "服务该包裹的市场（`market` 在渠道的 `markets` 里，`|` 分隔）、包裹实重 ≤ "
            "`max_weight_kg`、长+宽+高 ≤ `max_dims_sum_cm`，并且承诺时效 `transit_days_max` "
            "≤ 10 天（店铺对买家承诺的送达时间）；\n"
            "- 运费按渠道的费率卡重新计算：包裹的实重 `actual_weight_kg` 和长宽高、渠道的体积重"
            "除数、计重单位（向上取整）、首重、续重和处理费，四舍五入到分"
            "（和练习 2 的方法一样）；\n"
            "- 选运费最低的渠道；运费相同时选 `carrier_id` 较小的。\n\n"
            "结果存进 `choice`：DataFrame，每个包裹一行，列 `shipment_id`、`carrier_id`、"
            "`freight_cny`，行的顺序不限。"),
        stage=STAGE, tasks=("11.1.1", "11.1.3", "11.1.6"), unit=UNIT, difficulty=3, points=3,
        answer="choice", kind="frame",
        answer_cn="DataFrame：shipment_id, carrier_id, freight_cny（人民币元，两位小数）",
        reference=_channel_choice,
        solution=_choice_code(),
        hints=(
            "先筛出包裹，再和直邮渠道做交叉连接 `parcels.merge(direct, how='cross')`：每个包裹 × "
            "每条渠道一行，运费就能整列计算。",
            "市场是否被服务：`[m in ms.split('|') for m, ms in zip(combo.market, combo.markets)]`"
            " 得到一列 True/False；再和重量、尺寸、时效三个条件用 `&` 组合。",
            "按 `['shipment_id', 'freight_cny', 'carrier_id']` 排序，`drop_duplicates("
            "'shipment_id')` 保留每个包裹最便宜的一行。"),
        mistakes=(
            Mistake("ignored_market", _choice_code(served=False),
                    "有的专线只跑特定市场（如东南亚专线不去美国）：先确认渠道服务包裹的目的地"
                    "（`markets` 列）。"),
            Mistake("no_handling", _choice_code(handling=False),
                    "运费漏了每个包裹的挂号/处理费 `handling_fee_cny`：小包和专线渠道这笔钱不小，"
                    "也会改变哪条渠道最便宜。"),
            Mistake("actual_only", _choice_code(volumetric=False),
                    "运费算错了：计费重要取实重和体积重中较大的（体积重用每条渠道自己的除数）。"),
        ),
        compare=Frame(key=("shipment_id",), columns=("carrier_id", "freight_cny"),
                      rel=0.0, abs=0.006),
        tables=("shipments", "stores", "warehouses", "carriers"),
    ),
    # 13.02 Carriers and warehouses -----------------------------------------------------------
    Exercise(
        id="13.02.late_rate",
        title="各承运商的延误率",
        question=(
            "物流派送服务保证要求包裹在承诺时效内送达。计算每个承运渠道（`carrier_id`）的"
            "延误率（late-delivery rate 妥投延误率）：**已妥投**包裹（`status == 'delivered'`）"
            "中 `is_late_delivery` 为 True 的比例。结果存进 `late_rate`：Series，索引是 "
            "`carrier_id`（有妥投包裹的渠道），值是小数比率（如 0.08，不要乘以 100），不舍入。"),
        stage=STAGE, tasks=("11.1.6",), unit=UNIT, difficulty=1, points=1,
        answer="late_rate", kind="series", answer_cn="Series：carrier_id → 比率（0–1）",
        reference=_late_rate,
        solution=(
            "delivered = shipments[shipments.status == 'delivered']\n"
            "late_rate = delivered.groupby('carrier_id').is_late_delivery.mean()"),
        hints=(
            "先筛出已妥投的包裹：`shipments[shipments.status == 'delivered']`。",
            "按渠道分组，对 True/False 列求 `.mean()` 就是比例。"),
        mistakes=(
            Mistake("all_parcels",
                    "late_rate = shipments.groupby('carrier_id').is_late_delivery.mean()",
                    "分母错了：在途、丢失和无法投递的包裹还没有“送达”，不能算进延误率的分母；"
                    "只看已妥投的包裹。"),
            Mistake("late_shipment",
                    "delivered = shipments[shipments.status == 'delivered']\n"
                    "late_rate = delivered.groupby('carrier_id').is_late_shipment.mean()",
                    "`is_late_shipment` 是仓库晚发货（店铺的责任）；承运商的延误看 "
                    "`is_late_delivery`（运输时间超过承诺时效）。"),
            Mistake("percent",
                    "delivered = shipments[shipments.status == 'delivered']\n"
                    "late_rate = delivered.groupby('carrier_id').is_late_delivery.mean() * 100",
                    "比率请用小数表示（例如 0.08），不要乘以 100。"),
        ),
        compare=SeriesOf(rel=1e-6, abs=1e-9),
        tables=("shipments",),
    ),
    Exercise(
        id="13.02.lost_rate",
        title="各承运商的丢件率",
        question=(
            "计算每个承运渠道的丢件率（lost-parcel rate 丢件率）= `is_lost` 为 True 的包裹数 ÷ "
            "**已有结果**的包裹数。已有结果：`status` 不是 `'in_transit'`（在途包裹还可能丢，"
            "不算进分母）。结果存进 `lost_rate`：Series，索引是 `carrier_id`（有已结果包裹的"
            "渠道，丢件数为 0 的渠道也要列出，值为 0），值是小数比率，不舍入。"),
        stage=STAGE, tasks=("11.1.6",), unit=UNIT, difficulty=2, points=2,
        answer="lost_rate", kind="series", answer_cn="Series：carrier_id → 比率（0–1）",
        reference=_lost_rate,
        solution=(
            "closed = shipments[shipments.status != 'in_transit']\n"
            "lost_rate = closed.groupby('carrier_id').is_lost.mean()"),
        hints=(
            "先去掉在途包裹：`shipments[shipments.status != 'in_transit']`。",
            "按 `carrier_id` 分组后对 `is_lost` 求平均；不要先筛出丢件再计数，否则丢件为 0 的渠道"
            "会消失。"),
        mistakes=(
            Mistake("kept_in_transit",
                    "lost_rate = shipments.groupby('carrier_id').is_lost.mean()",
                    "在途包裹（in_transit）结果未知，不能算进分母：先去掉它们。"),
            Mistake("undeliverable_as_lost",
                    "closed = shipments[shipments.status != 'in_transit']\n"
                    "lost_rate = closed.status.isin(['lost', 'undeliverable'])"
                    ".groupby(closed.carrier_id).mean()",
                    "无法投递（undeliverable，多因地址错误或拒收）不是丢件：只数 `is_lost`。"),
            Mistake("damaged",
                    "closed = shipments[shipments.status != 'in_transit']\n"
                    "lost_rate = closed.groupby('carrier_id').is_damaged.mean()",
                    "你数的是破损（`is_damaged`），题目问的是丢件（`is_lost`）。"),
        ),
        compare=SeriesOf(rel=1e-6, abs=1e-9),
        tables=("shipments",),
    ),
    Exercise(
        id="13.02.scorecard",
        title="承运商考核打分表",
        question=(
            "给直邮渠道（`carriers.service_type` 不是 `'overseas_warehouse'`）打分，选出主力"
            "承运商。只看已有结果的包裹（`status` 不是 `'in_transit'`），只给已有结果包裹"
            " ≥ 30 个的渠道打分。每个渠道：\n\n"
            "- `on_time_rate` 准时率 = 已妥投且未延误的包裹数 ÷ 已妥投包裹数；\n"
            "- `problem_rate` 问题率 = 丢件**或**破损（`is_lost | is_damaged`）的包裹数 ÷ "
            "已有结果包裹数；\n"
            "- `cost_per_kg` 每公斤运费 = `shipping_cost_cny` 之和 ÷ `chargeable_weight_kg` "
            "之和；\n"
            "- `score` 综合分 = 0.4 × 100 × 准时率 + 0.3 × 100 × (1 − 问题率) + 0.3 × 100 × "
            "（所有打分渠道中最低的每公斤运费 ÷ 本渠道每公斤运费）。\n\n"
            "结果存进 `scorecard`：DataFrame，列 `carrier_id`、`on_time_rate`、`problem_rate`、"
            "`cost_per_kg`、`score`，按 `score` **从高到低**排序（第一行就是选中的承运商），"
            "不舍入。"),
        stage=STAGE, tasks=("11.1.6", "11.2.3"), unit=UNIT, difficulty=3, points=3,
        answer="scorecard", kind="frame",
        answer_cn="DataFrame：carrier_id, on_time_rate, problem_rate, cost_per_kg, score，"
                  "按 score 从高到低",
        reference=_scorecard,
        solution=_score_code(),
        hints=(
            "先准备三列 True/False：`delivered`（已妥投）、`on_time`（已妥投且 "
            "`~is_late_delivery`）、`problem`（`is_lost | is_damaged`），再一次 "
            "`groupby('carrier_id').agg(...)` 求出个数、和与平均。",
            "每公斤运费是“先求和再相除”：运费之和 ÷ 计费重之和，不是每单运费的平均。",
            "成本分 = 最低每公斤运费 ÷ 本渠道每公斤运费（最便宜的得 1）；最后 "
            "`sort_values('score', ascending=False)`。"),
        mistakes=(
            Mistake("cost_per_parcel", _score_code(cost="g.avg_cost"),
                    "你用的是每单平均运费：重包裹多的渠道会显得贵。题目要的是每公斤运费 = 运费之和"
                    " ÷ 计费重之和。"),
            Mistake("on_time_over_all", _score_code(on_time="g.on_time / g.n"),
                    "准时率的分母是已妥投的包裹，不是全部已有结果的包裹（丢件和退件不参与准时率，"
                    "它们算在问题率里）。"),
            Mistake("ascending", _score_code(ascending=True),
                    "排序反了：`sort_values` 默认从小到大，第一行成了得分最低的渠道。用 "
                    "`ascending=False`。"),
        ),
        compare=Frame(key=("carrier_id",),
                      columns=("on_time_rate", "problem_rate", "cost_per_kg", "score"),
                      ordered=True, rel=1e-6, abs=1e-9),
        tables=("shipments", "carriers"),
    ),
    Exercise(
        id="13.02.undeliverable",
        title="无法投递的包裹：退回还是海外销毁",
        question=(
            "货代通知：退回国内的包裹，除了退件费 `return_fee_cny`，每个还要加收 50 元的退运"
            "清关费。这批退件是过季商品，退回后只能按货值的 40% 清仓卖出（平时按 60%，见 "
            "`cbec_sim.rules.RESALE_RATE`）。规则：只有当 退回成本（退件费 + 50 元）**小于** "
            "可收回金额（货值 `goods_value_cny` × 0.4）时才退回，否则在海外销毁。\n\n"
            "对 `shipments` 中所有 `status == 'undeliverable'` 的包裹按这个新规则重新决定，"
            "结果存进 `plan`：DataFrame，每个无法投递的包裹一行，列为 `shipment_id`、"
            "`return_cost_cny`（退回成本，元）、`recovery_cny`（可收回金额，元）和 `outcome`"
            "（`'returned_to_sender'` 退回或 `'destroyed_overseas'` 海外销毁，与 "
            "`undeliverable_outcome` 列的写法相同），行的顺序不限。注意：表里的 "
            "`undeliverable_outcome` 是按旧规则（60%、没有清关费）做的决定，不能照抄。"),
        stage=STAGE, tasks=("11.1.7", "11.1.6"), unit=UNIT, difficulty=2, points=2,
        answer="plan", kind="frame",
        answer_cn="DataFrame：shipment_id, return_cost_cny, recovery_cny（人民币元）, outcome",
        reference=_undeliverable_plan,
        solution=_undeliverable_code(),
        hints=(
            "先筛出无法投递的包裹：`status == 'undeliverable'`。",
            "退回成本 = `return_fee_cny + 50`；可收回金额 = `goods_value_cny * 0.4`。",
            "`np.where(退回成本 < 可收回金额, 'returned_to_sender', 'destroyed_overseas')` "
            "一次给出所有包裹的决定。"),
        mistakes=(
            Mistake("old_rate", _undeliverable_code(rate="0.6"),
                    "清关费加对了，但这批过季商品退回后只能按货值的 40% 清仓，不是平时的 60%。"),
            Mistake("no_clearance_fee", _undeliverable_code(fee=""),
                    "退回成本漏了每个包裹 50 元的退运清关费。"),
            Mistake("reversed",
                    _undeliverable_code(outcome="np.where(plan.return_cost_cny < "
                                                "plan.recovery_cny, 'destroyed_overseas', "
                                                "'returned_to_sender')"),
                    "决定反了：退回成本小于可收回金额时退回才划算，否则海外销毁。"),
        ),
        compare=Frame(key=("shipment_id",), columns=("return_cost_cny", "recovery_cny",
                                                     "outcome"), rel=0.0, abs=0.006),
        tables=("shipments",),
    ),
    Exercise(
        id="13.02.warehouse_vs_direct",
        title="海外仓还是直邮：成本对比",
        question=(
            "海外仓（overseas warehouse 海外仓）和平台仓发出的包裹，如果当初从国内直邮，会更"
            "便宜吗？对每个非国内仓（`warehouses.warehouse_type` 不是 `'domestic'`），汇总它发出"
            "的全部包裹（`shipments.warehouse_id`）：\n\n"
            "- `overseas_cny` 海外仓成本 = 尾程运费 `shipping_cost_cny` + 头程 `actual_weight_kg` "
            "× `first_leg_cost_per_kg_cny` + 拣货打包费 `pick_pack_fee_cny` + 仓储费（包裹体积 "
            "长×宽×高 ÷ 1,000,000 立方米 × `storage_fee_cny_per_cbm_month` × 1 个月）；\n"
            "- `direct_cny` 直邮成本 = 同一包裹从国内直邮的最低运费：在直邮渠道（`service_type` "
            "不是 `'overseas_warehouse'`）中，服务该市场、实重 ≤ `max_weight_kg`、长+宽+高 ≤ "
            "`max_dims_sum_cm` 的渠道里运费最低的（不限时效），运费按费率卡计算、每个包裹四舍五入"
            "到分。\n\n"
            "两列都是该仓全部包裹之和，四舍五入到分。结果存进 `compare`：DataFrame，列 "
            "`warehouse_id`、`overseas_cny`、`direct_cny`，行的顺序不限。"),
        stage=STAGE, tasks=("1.1.10", "11.1.1"), unit=UNIT, difficulty=3, points=3,
        answer="compare", kind="frame",
        answer_cn="DataFrame：warehouse_id, overseas_cny, direct_cny（人民币元，两位小数）",
        reference=_warehouse_vs_direct,
        solution=_wh_code(),
        hints=(
            "`shipments.merge(非国内仓, on='warehouse_id')` 一步完成筛选，并把头程、仓储和打包"
            "费率接到每个包裹上。",
            "直邮成本的算法和 13.01 练习 4 相同，只是不限时效：包裹 × 直邮渠道交叉连接，按条件"
            "筛选后 `groupby('shipment_id').freight.min()`。",
            "海外仓成本有四项：尾程、头程、打包、仓储。最后按 `warehouse_id` 求和，`.round(2)`。"),
        mistakes=(
            Mistake("no_first_leg", _wh_code(first_leg=False),
                    "漏了头程运费（从中国海运到海外仓，按公斤计）：货物不会自己到海外仓。"),
            Mistake("no_storage", _wh_code(storage=False),
                    "漏了仓储费：按包裹体积（立方米）× 每立方米每月的仓储费 × 1 个月。"),
            Mistake("cubic_cm", _wh_code(cbm=False),
                    "仓储费按立方米计：长×宽×高 得到的是立方厘米，要除以 1,000,000 换成立方米。"),
        ),
        compare=Frame(key=("warehouse_id",), columns=("overseas_cny", "direct_cny"),
                      rel=0.0, abs=0.006),
        tables=("shipments", "warehouses", "carriers"),
    ),
    Exercise(
        id="13.02.reorder_point",
        title="海外仓补货点与安全库存",
        question=(
            "海外仓补货要提前：头程海运要走 `first_leg_days` 天。为每个非国内仓里的每个商品"
            "（`inventory` 中的仓库 × 商品组合）计算补货点（reorder point 再订货点）：\n\n"
            "- 只用库存表最近 90 天的数据：`date > inventory.date.max() − 90 天`；\n"
            "- `avg_daily` 日均需求 = 这些天 `outbound` 的平均值；σ = `outbound` 的样本标准差"
            "（pandas 默认的 `.std()`）；\n"
            "- 提前期 L = 该仓的 `first_leg_days`（天）；\n"
            "- `safety_stock` 安全库存 = 1.65 × σ × √L（1.65 对应 95% 的不缺货概率）；\n"
            "- `reorder_point` 补货点 = 日均需求 × L + 安全库存。\n\n"
            "结果存进 `rop`：DataFrame，列 `warehouse_id`、`product_id`、`avg_daily`、"
            "`safety_stock`、`reorder_point`，不舍入，行的顺序不限。"),
        stage=STAGE, tasks=("1.1.10",), unit=UNIT, difficulty=3, points=3,
        answer="rop", kind="frame",
        answer_cn="DataFrame：warehouse_id, product_id, avg_daily, safety_stock, reorder_point"
                  "（件），不舍入",
        reference=_reorder_point,
        solution=_rop_code(),
        hints=(
            "先筛出非国内仓的库存行，再按日期保留最近 90 天。",
            "`groupby(['warehouse_id', 'product_id'], observed=True).outbound.agg("
            "avg_daily='mean', sd='std')` 一次得到日均需求和标准差。",
            "提前期从 `warehouses` 表映射过来（`map`），安全库存用 `np.sqrt(提前期)`。"),
        mistakes=(
            Mistake("whole_year", _rop_code(window=False),
                    "你用了全年的数据：需求会随季节变化，题目要求只用最近 90 天。"),
            Mistake("no_sqrt", _rop_code(sqrt=False),
                    "安全库存里的提前期要开平方：1.65 × σ × √L。每天的波动会部分相互抵消，"
                    "所以不是乘以 L。"),
            Mistake("no_safety_stock", _rop_code(safety=False),
                    "只用了日均需求 × 提前期，没有安全库存：需求一波动就会断货。"),
        ),
        compare=Frame(key=("warehouse_id", "product_id"),
                      columns=("avg_daily", "safety_stock", "reorder_point"),
                      rel=1e-6, abs=1e-9),
        tables=("inventory", "warehouses"),
    ),
)
