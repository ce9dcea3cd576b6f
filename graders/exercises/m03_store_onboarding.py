"""03-store-onboarding (开店准备、平台入驻与规则解读): materials, onboarding, accounts, rules.

Stages 5.3 开店准备, 5.4 平台入驻 and 5.5 政策规则解读 of T/CCPITCSC 111-2022. Table 1 tasks:
2.1.2 入驻准备, 2.2.1 店铺入驻 (free → paid membership, B2B), 2.2.2 店铺管理 (sub-accounts,
account security), 2.3(a) 账户注册和认证 and 2.3(b) 账户管理 (B2C), 2.4.1 解读平台规则,
2.4.2 关注平台规则变化并调整运营.

Notebooks: 03.01 materials readiness, opening budget and payback, onboarding lead time;
03.02 sub-account audit, login anomalies, violation points, rule-change impact.

Data come from the simulator stage ``store_ops`` (``cbec_sim.tables.store_ops``). Every rule
value there (materials per account type, permission policy, points, validity days, penalty
levels, new title limits) is a synthetic teaching value; the notebooks say so. The readiness
window (90 days), the stale-account rule (> 90 days without login) and office hours
(08:00–22:00 Beijing time) are the example company's rules of that stage. Every ``reference``
below computes the expected answer its own way (loops and dicts), independently of the
solution text shown to trainees.
"""

from __future__ import annotations

import math
from collections import defaultdict
from statistics import median

import pandas as pd

from cbec_sim.tables import store_ops as so
from graders.compare import Chart, Frame, IdSet, Integer, Money, SeriesOf
from graders.exercise import Exercise, Mistake
from graders.exercises._helpers import is_missing as _isna
from graders.exercises._helpers import variant as _variant

MODULE = "03-store-onboarding"

UNIT = "store_account"
WINDOW = so.EXPIRY_WINDOW_DAYS  # 90 days: "expires soon" in the readiness check
STEP_NAMES = ("submit", "verify", "pay", "open")


def _day(x) -> pd.Timestamp:
    return pd.Timestamp(x).normalize()


# --- references: 03.01 ------------------------------------------------------------------------

def _missing_docs(w) -> list[str]:
    held = set(w.company_documents.document_type.astype(str))
    return sorted({str(d) for d in w.platform_requirements.document_type} - held)


def _expiring_docs(w) -> list[str]:
    d = w.company_documents
    out = []
    for did, exp, chk in zip(d.document_id, d.expires_on, d.checked_on, strict=True):
        if not _isna(exp) and (_day(exp) - _day(chk)).days <= WINDOW:
            out.append(str(did))
    return sorted(out)


def _valid_types(w) -> set[str]:
    d = w.company_documents
    return {str(t) for t, exp, chk in zip(d.document_type, d.expires_on, d.checked_on,
                                          strict=True) if _isna(exp) or _day(exp) >= _day(chk)}


def _readiness(w) -> pd.DataFrame:
    ok = _valid_types(w)
    n, k = defaultdict(int), defaultdict(int)
    r = w.platform_requirements
    for p, a, doc in zip(r.platform_id, r.account_type.astype(str), r.document_type,
                         strict=True):
        n[(str(p), a)] += 1
        k[(str(p), a)] += str(doc) in ok
    rows = [(p, a, n[(p, a)], k[(p, a)], k[(p, a)] / n[(p, a)]) for p, a in sorted(n)]
    return pd.DataFrame(rows, columns=["platform_id", "account_type", "n_required", "n_ready",
                                       "readiness"])


def _cost_cents(row) -> int:
    return sum(round(float(row[c]) * 100) for c in (
        "deposit_cny", "annual_fee_cny", "sample_stock_cny", "photography_cny"))


def _opening_budget(w) -> float:
    return sum(_cost_cents(r) for _, r in w.store_onboarding.iterrows()) / 100


def _payback(w) -> pd.DataFrame:
    rows = []
    for _, r in w.store_onboarding.iterrows():
        cost = _cost_cents(r) - round(float(r["deposit_cny"]) * 100)
        rows.append((str(r["store_id"]), str(r["model"]), cost / 100,
                     math.ceil(cost / 100 / float(r["planned_monthly_gross_profit_cny"]))))
    return pd.DataFrame(rows, columns=["store_id", "model", "recover_cost_cny",
                                       "payback_months"])


def _step_days_by_store(w) -> list[tuple[str, str, dict[str, int]]]:
    out = []
    for _, r in w.store_onboarding.iterrows():
        ts = [_day(r[c]) for c in so.STEPS]
        days = {s: (ts[i + 1] - ts[i]).days for i, s in enumerate(STEP_NAMES)}
        out.append((str(r["store_id"]), str(r["model"]), days))
    return out


def _step_days(w) -> pd.Series:
    per = _step_days_by_store(w)
    return pd.Series({s: float(median([d[s] for _, _, d in per])) for s in STEP_NAMES})


def _total_days(w) -> pd.Series:
    per = _step_days_by_store(w)
    tot = {sid: sum(d.values()) for sid, _, d in per}
    order = sorted(tot, key=lambda s: (-tot[s], s))
    return pd.Series([float(tot[s]) for s in order], index=order)


def _bottleneck(w) -> pd.DataFrame:
    per = _step_days_by_store(w)
    rows = []
    for model in sorted({m for _, m, _ in per}):
        med = {s: float(median([d[s] for _, m, d in per if m == model])) for s in STEP_NAMES}
        best = max(STEP_NAMES, key=lambda s: (med[s], -STEP_NAMES.index(s)))
        rows.append((model, best, med[best]))
    return pd.DataFrame(rows, columns=["model", "bottleneck_step", "median_days"])


# --- references: 03.02 ------------------------------------------------------------------------

def _as_of(w) -> pd.Timestamp:
    return _day(w.subaccounts.exported_on.max())


def _no_2fa(w) -> list[str]:
    u = w.subaccounts
    return sorted(str(i) for i, st, f in zip(u.user_id, u.status.astype(str), u.has_2fa,
                                             strict=True) if st == "active" and not bool(f))


def _stale(w) -> list[str]:
    u = w.subaccounts
    lim = pd.Timestamp(_as_of(w), tz="UTC") - pd.Timedelta(days=90)
    return sorted(str(i) for i, st, t in zip(u.user_id, u.status.astype(str), u.last_login_at,
                                             strict=True) if st == "active" and t < lim)


def _excess(w) -> list[str]:
    pol = defaultdict(set)
    for r, p in zip(w.role_permissions.role.astype(str),
                    w.role_permissions.permission.astype(str), strict=True):
        pol[r].add(p)
    u = w.subaccounts
    return sorted(str(i) for i, r, p in zip(u.user_id, u.role.astype(str), u.permissions,
                                            strict=True) if set(str(p).split("|")) - pol[r])


def _login_flags(w) -> list[str]:
    lg = w.login_events
    seen: dict[str, set[str]] = defaultdict(set)
    out = []
    rows = sorted(zip(lg.user_id.astype(str), lg.login_at, lg.login_id.astype(str),
                      lg.country.astype(str), strict=True))
    for uid, ts, lid, c in rows:
        hour = pd.Timestamp(ts).tz_convert("Asia/Shanghai").hour
        new = bool(seen[uid]) and c not in seen[uid]
        if new or hour < 8 or hour >= 22:
            out.append(lid)
        seen[uid].add(c)
    return sorted(out)


def _rules(w) -> dict[str, tuple[str, int, int]]:
    vr = w.violation_rules
    return {str(t): (str(c), int(p), int(d)) for t, c, p, d in zip(
        vr.violation_type.astype(str), vr.category.astype(str), vr.points, vr.validity_days,
        strict=True)}


def _by_category(w) -> pd.Series:
    rule = _rules(w)
    n = defaultdict(int)
    for t in w.violations.violation_type.astype(str):
        n[rule[t][0]] += 1
    return pd.Series({c: float(v) for c, v in sorted(n.items())})


def _valid_points(w) -> pd.DataFrame:
    rule = _rules(w)
    as_of = _as_of(w)
    tot = defaultdict(int)
    v = w.violations
    for s, t, d, p, a in zip(v.store_id.astype(str), v.violation_type.astype(str),
                             v.occurred_on, v.points, v.appeal_status.astype(str), strict=True):
        tot[s] += 0
        age = (as_of - _day(d)).days
        if a != "revoked" and 0 <= age < rule[t][2]:
            tot[s] += int(p)
    return pd.DataFrame(sorted(tot.items()), columns=["store_id", "valid_points"])


def _level_of(points: int, w) -> str:
    lv = sorted(zip(w.penalty_levels.points_min, w.penalty_levels.level.astype(str),
                    strict=True))
    name = lv[0][1]
    for m, n in lv:
        if points >= int(m):
            name = n
    return name


def _penalty(w) -> pd.DataFrame:
    vp = _valid_points(w)
    return vp.assign(level=[_level_of(int(p), w) for p in vp.valid_points])


def _platform_of_listing(w) -> dict[str, str]:
    plat = dict(zip(w.stores.store_id.astype(str), w.stores.platform_id.astype(str),
                    strict=True))
    return {str(i): plat[str(s)] for i, s in zip(w.listings.listing_id, w.listings.store_id,
                                                  strict=True)}


def _new_rules(w) -> tuple[dict[str, int], dict[str, list[str]], dict[str, int]]:
    mx, banned, img = {}, defaultdict(list), {}
    rc = w.platform_rule_changes
    for p, t, v in zip(rc.platform_id.astype(str), rc.rule_type.astype(str), rc.new_value,
                       strict=True):
        if t == "max_title_length":
            mx[p] = int(v)
        elif t == "banned_term":
            banned[p].append(str(v).lower())
        else:
            img[p] = int(v)
    return mx, banned, img


def _too_long(w) -> int:
    mx, _, _ = _new_rules(w)
    pl = _platform_of_listing(w)
    li = w.listings
    return sum(1 for i, n, st in zip(li.listing_id, li.title_length, li.status.astype(str),
                                     strict=True)
               if st == "active" and pl[str(i)] in mx and int(n) > mx[pl[str(i)]])


def _impact(w) -> list[str]:
    mx, banned, img = _new_rules(w)
    pl = _platform_of_listing(w)
    li = w.listings
    out = []
    for i, title, n, k, st in zip(li.listing_id, li.title, li.title_length, li.image_count,
                                  li.status.astype(str), strict=True):
        if st != "active":
            continue
        p = pl[str(i)]
        words = str(title).lower().split()
        bad = (p in mx and int(n) > mx[p]) or any(b in words for b in banned.get(p, ())) \
            or (p in img and int(k) < img[p])
        if bad:
            out.append(str(i))
    return sorted(out)


# --- solution snippets ------------------------------------------------------------------------


_EXPIRING_SOLUTION = """\
as_of = company_documents.checked_on.max()
days_left = (company_documents.expires_on - as_of).dt.days   # 空的到期日 → NaN，比较为 False
expiring_docs = set(company_documents.loc[days_left <= 90, 'document_id'])"""

_READINESS_SOLUTION = """\
as_of = company_documents.checked_on.max()
valid = company_documents[company_documents.expires_on.isna()
                          | (company_documents.expires_on >= as_of)]
r = platform_requirements.copy()
r['ready'] = r.document_type.isin(valid.document_type)
readiness = (r.groupby(['platform_id', 'account_type'], observed=True, as_index=False)
             .agg(n_required=('document_type', 'count'), n_ready=('ready', 'sum')))
readiness['readiness'] = readiness.n_ready / readiness.n_required"""

_BUDGET_SOLUTION = """\
cost_cols = ['deposit_cny', 'annual_fee_cny', 'sample_stock_cny', 'photography_cny']
opening_budget = round(float(store_onboarding[cost_cols].sum().sum()), 2)"""

_PAYBACK_SOLUTION = """\
p = store_onboarding.copy()
p['recover_cost_cny'] = (p.annual_fee_cny + p.sample_stock_cny + p.photography_cny).round(2)
p['payback_months'] = np.ceil(p.recover_cost_cny / p.planned_monthly_gross_profit_cny)
payback = p[['store_id', 'model', 'recover_cost_cny', 'payback_months']]"""

_STEPS_CODE = """\
o = store_onboarding
steps = pd.DataFrame({
    'submit': (o.verification_submitted_on - o.registered_on).dt.days,
    'verify': (o.verified_on - o.verification_submitted_on).dt.days,
    'pay': (o.paid_on - o.verified_on).dt.days,
    'open': (o.opened_on - o.paid_on).dt.days,
})"""

_STEP_DAYS_SOLUTION = _STEPS_CODE + "\nstep_days = steps.median()"

_CHART_SOLUTION = """\
import matplotlib.pyplot as plt
from graders.plotting import use_cjk_font
use_cjk_font()

o = store_onboarding
total = pd.Series((o.opened_on - o.registered_on).dt.days.to_numpy(), index=o.store_id)
total = total.sort_index().sort_values(ascending=False, kind='stable')   # 同天数按店铺号
fig, ax = plt.subplots(figsize=(8, 4))
ax.bar(total.index, total.values)
ax.set_title('各店铺从注册到开店的天数')
ax.set_xlabel('店铺 store_id')
ax.set_ylabel('天数（天）')
chart = ax"""

_BOTTLENECK_SOLUTION = _STEPS_CODE + """
med = steps.groupby(o.model.astype(str)).median()          # 每种模式各环节的中位天数
bottleneck = pd.DataFrame({'model': med.index,
                           'bottleneck_step': med.idxmax(axis=1).to_numpy(),
                           'median_days': med.max(axis=1).to_numpy()})"""

_STALE_SOLUTION = """\
as_of = pd.Timestamp(subaccounts.exported_on.max(), tz='UTC')
active = subaccounts[subaccounts.status == 'active']
stale_users = set(active.loc[as_of - active.last_login_at > pd.Timedelta(days=90), 'user_id'])"""

_EXCESS_SOLUTION = """\
u = subaccounts.assign(permission=subaccounts.permissions.str.split('|')).explode('permission')
u = u.merge(role_permissions.astype(str).assign(allowed=True), how='left',
            on=['role', 'permission'])
u['role'] = u.role.astype(str)
excess_users = set(u.loc[u.allowed.isna(), 'user_id'])"""

_LOGIN_SOLUTION = """\
lg = login_events.sort_values(['user_id', 'login_at']).copy()
lg['country'] = lg.country.astype(str)
first_login = lg.groupby('user_id').cumcount() == 0
new_country = ~lg.duplicated(['user_id', 'country']) & ~first_login
hour = lg.login_at.dt.tz_convert('Asia/Shanghai').dt.hour   # 北京时间
off_hours = (hour < 8) | (hour >= 22)
flagged_logins = set(lg.loc[new_country | off_hours, 'login_id'])"""

_VALID_CODE = """\
as_of = subaccounts.exported_on.max()
v = violations.merge(violation_rules[['violation_type', 'validity_days']], on='violation_type')
age = (as_of - v.occurred_on).dt.days
v['valid'] = (v.appeal_status != 'revoked') & (age >= 0) & (age < v.validity_days)
v['valid_points'] = v.points.where(v.valid, 0)
vp = v.groupby('store_id', as_index=False).valid_points.sum()"""

_VALID_SOLUTION = _VALID_CODE + "\nvalid_points = vp"

_PENALTY_SOLUTION = _VALID_CODE + """
lv = penalty_levels.sort_values('points_min')
idx = np.searchsorted(lv.points_min.to_numpy(), vp.valid_points.to_numpy(), side='right') - 1
vp['level'] = lv.level.astype(str).to_numpy()[idx]
penalty = vp"""

_RULE_CODE = """\
rc = platform_rule_changes
lst = listings.merge(stores[['store_id', 'platform_id']], on='store_id')
lst = lst[lst.status == 'active']
max_len = rc[rc.rule_type == 'max_title_length'].set_index('platform_id').new_value.astype(int)
too_long = lst.title_length > lst.platform_id.map(max_len)"""

_TOO_LONG_SOLUTION = _RULE_CODE + "\nn_too_long = int(too_long.sum())"

_IMPACT_SOLUTION = _RULE_CODE + """
banned = rc[rc.rule_type == 'banned_term']
words = lst.title.str.lower().str.split()
has_banned = pd.Series(False, index=lst.index)
for p, term in zip(banned.platform_id, banned.new_value.str.lower()):
    has_banned |= (lst.platform_id == p) & words.apply(lambda ws, t=term: t in ws)
min_img = rc[rc.rule_type == 'min_image_count'].set_index('platform_id').new_value.astype(int)
few_images = lst.image_count < lst.platform_id.map(min_img)     # 没有新规的平台 → NaN → False
impacted = set(lst.loc[too_long | has_banned | few_images, 'listing_id'])"""


# --- items ------------------------------------------------------------------------------------

EXERCISES: tuple[Exercise, ...] = (
    # ---------------- 03.01 stage 5.3 ----------------
    Exercise(
        id="03.01.missing_docs",
        title="哪些入驻材料公司还没有",
        question=("`platform_requirements` 列出每个平台、每种账户类型（account type 账户类型）"
                  "要准备的材料（`document_type`）；`company_documents` 是公司已有材料的登记表，"
                  "表里没有的材料就是**没有**。找出所有平台、所有账户类型要求的材料中，"
                  "公司一份都没有的材料类型，存进 `missing_docs`（材料代码的集合）。"
                  "已有但过期的材料不算“没有”（下一题再查）。"),
        stage="5.3", tasks=("2.1.2",), unit=UNIT, difficulty=1, points=1,
        answer="missing_docs", kind="set", answer_cn="材料代码（document_type）的集合",
        reference=_missing_docs,
        solution=("missing_docs = set(platform_requirements.document_type)"
                  " - set(company_documents.document_type)"),
        hints=("先把要求的材料去重：`set(platform_requirements.document_type)`。",
               "两个集合相减 `A - B` 得到在 A 里、不在 B 里的元素。"),
        mistakes=(
            Mistake("in_world_only",
                    "req = platform_requirements[platform_requirements.platform_id.isin("
                    "platforms.platform_id[platforms.in_world])]\n"
                    "missing_docs = set(req.document_type) - set(company_documents.document_type)",
                    "你只查了已经开店的平台；题目要所有平台的要求（准备入驻新平台时最需要这张清单）。"),
            Mistake("expired_counted",
                    "as_of = company_documents.checked_on.max()\n"
                    "ok = company_documents[company_documents.expires_on.isna() | "
                    "(company_documents.expires_on >= as_of)]\n"
                    "missing_docs = set(platform_requirements.document_type) - "
                    "set(ok.document_type)",
                    "你把已过期的材料也算成了“没有”；这题只找登记表里根本没有的材料。"),
        ),
        compare=IdSet(),
        tables=("platform_requirements", "company_documents", "platforms"),
    ),
    Exercise(
        id="03.01.expiring_docs",
        title="已过期或 90 天内到期的材料",
        question=("入驻审核时材料必须在有效期内。以登记表的检查日 `checked_on` 为准，"
                  "找出**已经过期**或**在检查日之后 90 天内（含第 90 天）到期**的材料，"
                  "存进 `expiring_docs`（`document_id` 的集合）。"
                  "`expires_on` 为空的材料长期有效。"),
        stage="5.3", tasks=("2.1.2",), unit=UNIT, difficulty=2, points=2,
        answer="expiring_docs", kind="set", answer_cn="document_id 的集合",
        reference=_expiring_docs,
        solution=_EXPIRING_SOLUTION,
        hints=("到期日减检查日：`(expires_on - checked_on).dt.days` 是剩余天数，已过期的是负数。",
               "剩余天数 ≤ 90 的都要（包括负数）；空的到期日比较结果是 False，正好排除。"),
        mistakes=(
            Mistake("expired_only",
                    _variant(_EXPIRING_SOLUTION, "days_left <= 90", "days_left < 0"),
                    "你只找了已经过期的；90 天内就要到期的材料也要提前续办。"),
            Mistake("future_only",
                    _variant(_EXPIRING_SOLUTION, "days_left <= 90",
                             "(days_left >= 0) & (days_left <= 90)"),
                    "你漏掉了已经过期的材料：剩余天数为负数的更要马上处理。"),
        ),
        compare=IdSet(),
        tables=("company_documents",),
    ),
    Exercise(
        id="03.01.readiness",
        title="各平台、各账户类型的材料齐备率",
        question=("为每个（`platform_id`, `account_type`）计算材料齐备率（readiness 齐备率）："
                  "要求的材料中，公司已有且在检查日 `checked_on` 仍有效（没有到期日，或到期日 ≥ "
                  "检查日）的份数 ÷ 要求的份数。结果存进 `readiness`：DataFrame，列 "
                  "`platform_id`、`account_type`、`n_required`、`n_ready`、`readiness`（小数）。"
                  "B2B 平台（alibaba）的账户类型是 free_member 免费会员 / paid_member 付费会员。"),
        stage="5.3", tasks=("2.1.2", "2.2.1"), unit=UNIT, difficulty=3, points=3,
        answer="readiness", kind="frame",
        answer_cn="DataFrame：platform_id, account_type, n_required, n_ready, readiness（小数）",
        reference=_readiness,
        solution=_READINESS_SOLUTION,
        hints=("先筛出有效的材料：`expires_on.isna() | (expires_on >= checked_on)`。",
               "`platform_requirements.document_type.isin(有效材料)` 给每条要求打上 True/False，"
               "再按平台和账户类型 `groupby` 求个数和 True 的个数。"),
        mistakes=(
            Mistake("expired_ok",
                    _variant(_READINESS_SOLUTION,
                             "valid = company_documents[company_documents.expires_on.isna()\n"
                             "                          | (company_documents.expires_on >= "
                             "as_of)]", "valid = company_documents"),
                    "你把已过期的材料也算成了齐备；过期材料不能用于入驻审核。"),
            Mistake("window_excluded",
                    _variant(_READINESS_SOLUTION, "(company_documents.expires_on >= as_of)",
                             "(company_documents.expires_on > as_of + pd.Timedelta(days=90))"),
                    "题目按检查日当天是否有效来算齐备；90 天内到期的材料今天仍有效，"
                    "只是要提醒续办。"),
        ),
        compare=Frame(key=("platform_id", "account_type"),
                      columns=("n_required", "n_ready", "readiness")),
        tables=("platform_requirements", "company_documents"),
    ),
    Exercise(
        id="03.01.opening_budget",
        title="所有店铺的开店投入合计",
        question=("开店投入（opening cost 开店投入）= 保证金 `deposit_cny` + 年费/付费会员费 "
                  "`annual_fee_cny` + 首批样品备货 `sample_stock_cny` + 产品拍摄 "
                  "`photography_cny`。把 `store_onboarding` 中所有店铺（B2B 和 B2C）的开店投入"
                  "加总，存进 `opening_budget`（人民币元，保留两位小数）。"),
        stage="5.3", tasks=("2.2.1", "2.1.2"), unit=UNIT, difficulty=1, points=1,
        answer="opening_budget", kind="money", answer_cn="金额，人民币元，保留两位小数",
        reference=_opening_budget,
        solution=_BUDGET_SOLUTION,
        hints=("四列都是人民币元：先按列求和，再把四个和加起来（`.sum().sum()`）。",),
        mistakes=(
            Mistake("no_annual_fee",
                    _variant(_BUDGET_SOLUTION, "'annual_fee_cny', ", ""),
                    "你漏了年费 / 付费会员费 `annual_fee_cny`（B2B 付费会员的主要开支）。"),
            Mistake("b2c_only",
                    _variant(_BUDGET_SOLUTION, "store_onboarding[cost_cols]",
                             "store_onboarding.loc[store_onboarding.model == 'B2C', cost_cols]"),
                    "你只算了 B2C 店铺；题目要所有店铺，包括 B2B 店铺。"),
        ),
        compare=Money(),
        tables=("store_onboarding",),
    ),
    Exercise(
        id="03.01.payback",
        title="各店铺的开店投入回本月数",
        question=("保证金（deposit 保证金）可以退回，不计入要回本的成本。每个店铺要回本的成本 "
                  "`recover_cost_cny` = 年费 + 样品备货 + 拍摄费（元，两位小数）；回本月数 "
                  "`payback_months` = 成本 ÷ 开店计划中的月毛利 "
                  "`planned_monthly_gross_profit_cny`，**向上取整**到整月。结果存进 `payback`："
                  "DataFrame，列 `store_id`、`model`、`recover_cost_cny`、`payback_months`。"),
        stage="5.3", tasks=("2.2.1",), unit=UNIT, difficulty=3, points=2,
        answer="payback", kind="frame",
        answer_cn="DataFrame：store_id, model, recover_cost_cny（元）, payback_months（整月）",
        reference=_payback,
        solution=_PAYBACK_SOLUTION,
        hints=("三列相加得到成本，不要加保证金。",
               "`np.ceil` 向上取整：2.1 个月要 3 个月才能回本。"),
        mistakes=(
            Mistake("no_ceil",
                    _variant(_PAYBACK_SOLUTION,
                             "np.ceil(p.recover_cost_cny / p.planned_monthly_gross_profit_cny)",
                             "p.recover_cost_cny / p.planned_monthly_gross_profit_cny"),
                    "回本月数要向上取整到整月（`np.ceil`），不能留小数。"),
            Mistake("rounded",
                    _variant(_PAYBACK_SOLUTION, "np.ceil(", "np.round("),
                    "你用了四舍五入；差一点没回本的那个月也要算上，应当向上取整。"),
        ),
        compare=Frame(key=("store_id",), columns=("recover_cost_cny", "payback_months"),
                      rel=1e-9, abs=0.005),
        tables=("store_onboarding",),
    ),
    # ---------------- 03.01 stage 5.4 ----------------
    Exercise(
        id="03.01.step_days",
        title="入驻各环节的中位天数",
        question=("入驻分四个环节：`submit` 注册 → 提交认证资料（`registered_on` → "
                  "`verification_submitted_on`），`verify` 提交 → 认证通过（→ `verified_on`），"
                  "`pay` 认证通过 → 缴纳保证金或付费会员费（→ `paid_on`），`open` 缴费 → 开店"
                  "（→ `opened_on`）。算出每个环节在所有店铺中的**中位天数**（median 中位数），"
                  "存进 `step_days`：Series，索引是这四个环节名，值是天数。"),
        stage="5.4", tasks=("2.2.1", "2.3(a)"), unit=UNIT, difficulty=2, points=2,
        answer="step_days", kind="series", answer_cn="Series：环节名 → 中位天数",
        reference=_step_days,
        solution=_STEP_DAYS_SOLUTION,
        hints=("两列日期相减得到时间差，`.dt.days` 取天数。",
               "每个环节一列放进一个 DataFrame，`.median()` 按列求中位数。"),
        mistakes=(
            Mistake("mean", _STEPS_CODE + "\nstep_days = steps.mean()",
                    "你算的是平均数；题目要中位数，少数特别慢的店铺不会把它拉高。"),
            Mistake("cumulative",
                    "o = store_onboarding\n"
                    "steps = pd.DataFrame({c: (o[col] - o.registered_on).dt.days for c, col in "
                    "zip(['submit', 'verify', 'pay', 'open'], ['verification_submitted_on', "
                    "'verified_on', 'paid_on', 'opened_on'])})\n"
                    "step_days = steps.median()",
                    "你每个环节都从注册日算起，得到的是累计天数；每个环节要用它自己的起止日期。"),
        ),
        compare=SeriesOf(rel=1e-9, abs=1e-9),
        tables=("store_onboarding",),
    ),
    Exercise(
        id="03.01.onboarding_chart",
        title="画图：各店铺从注册到开店用了多少天",
        question=("画一张柱状图（bar chart 柱状图）：每个店铺一根柱子，高度是从 `registered_on` "
                  "到 `opened_on` 的天数，按天数**从多到少**排列（天数相同按 `store_id` 排）。"
                  "图要有标题和两个坐标轴标签（带单位）。把 Axes 存进 `chart`。"),
        stage="5.4", tasks=("2.3(a)", "2.2.1"), unit=UNIT, difficulty=2, points=2,
        answer="chart", kind="chart", answer_cn="matplotlib 的 Axes（柱状图）",
        reference=_total_days,
        solution=_CHART_SOLUTION,
        hints=("天数 = `(opened_on - registered_on).dt.days`，用 `store_id` 做索引。",
               "先 `sort_index()` 再 `sort_values(ascending=False, kind='stable')`。"),
        mistakes=(
            Mistake("ascending",
                    _variant(_CHART_SOLUTION, "ascending=False", "ascending=True"),
                    "柱子要按天数从多到少排，最慢的店铺放在最前面。"),
            Mistake("from_submission",
                    _variant(_CHART_SOLUTION, "o.opened_on - o.registered_on",
                             "o.opened_on - o.verification_submitted_on"),
                    "你从提交认证资料算起；题目要从注册（`registered_on`）算起。"),
        ),
        compare=Chart(kind="bar"),
        tables=("store_onboarding",),
    ),
    Exercise(
        id="03.01.bottleneck",
        title="B2B 和 B2C 入驻的瓶颈环节",
        question=("分别对 B2B 和 B2C 店铺（`model`），求四个环节（submit、verify、pay、open，"
                  "定义同上题）的中位天数，中位天数最大的环节就是瓶颈（bottleneck 瓶颈）。"
                  "结果存进 `bottleneck`：DataFrame，每种模式一行，列 `model`、"
                  "`bottleneck_step`（环节名）、`median_days`（该环节的中位天数）。"
                  "B2B 的付费会员要联系客户经理开通，B2C 要做 KYC 认证并交保证金，"
                  "看看瓶颈是否不同。"),
        stage="5.4", tasks=("2.2.1", "2.3(a)"), unit=UNIT, difficulty=3, points=3,
        answer="bottleneck", kind="frame",
        answer_cn="DataFrame：model, bottleneck_step, median_days",
        reference=_bottleneck,
        solution=_BOTTLENECK_SOLUTION,
        hints=("先像上题那样做出每个店铺四个环节的天数表 `steps`。",
               "`steps.groupby(model).median()` 得到每种模式一行；`idxmax(axis=1)` 给出每行"
               "最大值所在的列名，`max(axis=1)` 给出最大值。"),
        mistakes=(
            Mistake("mean",
                    _variant(_BOTTLENECK_SOLUTION, ".median()", ".mean()"),
                    "你用了平均数；题目要中位数。"),
            Mistake("not_split",
                    _STEPS_CODE + "\nmed = steps.median()\n"
                    "bottleneck = pd.DataFrame({'model': ['B2B', 'B2C'], "
                    "'bottleneck_step': med.idxmax(), 'median_days': med.max()})",
                    "你把 B2B 和 B2C 店铺混在一起算了；要按 `model` 分开求中位数。"),
        ),
        compare=Frame(key=("model",), columns=("bottleneck_step", "median_days")),
        tables=("store_onboarding",),
    ),
    # ---------------- 03.02 stage 5.4 ----------------
    Exercise(
        id="03.02.no_2fa",
        title="没有开启双重验证的在用账号",
        question=("账户安全（account security 账户安全）要求每个在用账号都开启双重验证"
                  "（two-factor authentication, 2FA 双重验证）。找出 `status` 为 active 且 "
                  "`has_2fa` 为 False 的用户，存进 `no_2fa_users`（`user_id` 的集合）。"),
        stage="5.4", tasks=("2.3(b)", "2.2.2"), unit=UNIT, difficulty=1, points=1,
        answer="no_2fa_users", kind="set", answer_cn="user_id 的集合",
        reference=_no_2fa,
        solution=("no_2fa_users = set(subaccounts.loc[(subaccounts.status == 'active') & "
                  "~subaccounts.has_2fa, 'user_id'])"),
        hints=("两个条件用 `&` 连接，`~` 取反。",),
        mistakes=(
            Mistake("with_disabled",
                    "no_2fa_users = set(subaccounts.loc[~subaccounts.has_2fa, 'user_id'])",
                    "已停用（disabled）的账号不能登录，不在这次整改范围内；只看在用账号。"),
            Mistake("store_ids",
                    "no_2fa_users = set(subaccounts.loc[(subaccounts.status == 'active') & "
                    "~subaccounts.has_2fa, 'store_id'])",
                    "要交的是用户编号 `user_id`，不是店铺编号。"),
        ),
        compare=IdSet(),
        tables=("subaccounts",),
    ),
    Exercise(
        id="03.02.stale_users",
        title="超过 90 天没有登录的在用账号",
        question=("公司规定：在用（active）账号如果**超过 90 天**没有登录（导出日 `exported_on` "
                  "减 `last_login_at` 大于 90 天），要停用或回收。导出日按 UTC 零点算。"
                  "找出这些账号，存进 `stale_users`（`user_id` 的集合）。"),
        stage="5.4", tasks=("2.2.2", "2.3(b)"), unit=UNIT, difficulty=2, points=2,
        answer="stale_users", kind="set", answer_cn="user_id 的集合",
        reference=_stale,
        solution=_STALE_SOLUTION,
        hints=("`last_login_at` 带 UTC 时区，导出日要先变成同样带时区的时间："
               "`pd.Timestamp(..., tz='UTC')`。",
               "时间差和 `pd.Timedelta(days=90)` 比较。"),
        mistakes=(
            Mistake("with_disabled",
                    _variant(_STALE_SOLUTION,
                             "active = subaccounts[subaccounts.status == 'active']",
                             "active = subaccounts"),
                    "已经停用的账号不用再处理；只看在用账号。"),
            Mistake("created_on",
                    "as_of = subaccounts.exported_on.max()\n"
                    "active = subaccounts[subaccounts.status == 'active']\n"
                    "stale_users = set(active.loc[as_of - active.created_on > "
                    "pd.Timedelta(days=90), 'user_id'])",
                    "你用的是创建日期 `created_on`；要看最后一次登录 `last_login_at`。"),
        ),
        compare=IdSet(),
        tables=("subaccounts",),
    ),
    Exercise(
        id="03.02.excess_permissions",
        title="权限超出角色规定的账号",
        question=("`role_permissions` 是公司的子账号（sub-account 子账号）权限规定：每个角色"
                  "可以有哪些权限。`subaccounts.permissions` 是每个账号实际被授予的权限"
                  "（用 `|` 分隔）。找出至少有一项权限**不在其角色规定内**的账号，存进 "
                  "`excess_users`（`user_id` 的集合）。这是最小权限原则（least privilege "
                  "最小权限）的检查。"),
        stage="5.4", tasks=("2.2.2", "2.3(b)"), unit=UNIT, difficulty=3, points=3,
        answer="excess_users", kind="set", answer_cn="user_id 的集合",
        reference=_excess,
        solution=_EXCESS_SOLUTION,
        hints=("`str.split('|')` 把权限拆成列表，`explode` 变成每个权限一行。",
               "和 `role_permissions` 按（role, permission）左连接，连不上的就是多出来的权限。"),
        mistakes=(
            Mistake("sensitive_only",
                    "sens = subaccounts.permissions.str.contains('payout_settings|user_manage')\n"
                    "excess_users = set(subaccounts.loc[sens & (subaccounts.role != 'admin'), "
                    "'user_id'])",
                    "你只要看到敏感权限就标记，但财务角色本来就可以改收款设置；"
                    "要逐个对照该角色的规定。"),
            Mistake("admin_policy",
                    "allowed = set(role_permissions.loc[role_permissions.role == 'admin', "
                    "'permission'].astype(str))\n"
                    "excess_users = {u for u, p in zip(subaccounts.user_id, "
                    "subaccounts.permissions) if set(p.split('|')) - allowed}",
                    "你拿管理员的权限去对照所有人；每个账号要和**它自己角色**的规定比较。"),
        ),
        compare=IdSet(),
        tables=("subaccounts", "role_permissions"),
    ),
    Exercise(
        id="03.02.login_flags",
        title="可疑登录：新国家或非办公时间",
        question=("团队在国内办公，办公时间是北京时间（`Asia/Shanghai`）08:00–22:00（小时 h 满足 "
                  "8 ≤ h < 22）。把 `login_events` 按用户、时间排序，标记以下登录："
                  "① 来自该用户**以前的登录中从未出现过**的国家（每个用户的第一次登录不算）；"
                  "② 不在办公时间内。存进 `flagged_logins`（`login_id` 的集合）。"),
        stage="5.4", tasks=("2.3(b)", "2.2.2"), unit=UNIT, difficulty=3, points=3,
        answer="flagged_logins", kind="set", answer_cn="login_id 的集合",
        reference=_login_flags,
        solution=_LOGIN_SOLUTION,
        hints=("排好序后，`duplicated(['user_id', 'country'])` 为 False 的行就是该用户"
               "第一次出现这个国家。",
               "`groupby('user_id').cumcount() == 0` 标出每个用户的第一次登录。",
               "`login_at` 是 UTC：先 `dt.tz_convert('Asia/Shanghai')` 再取小时。"),
        mistakes=(
            Mistake("utc_hours",
                    _variant(_LOGIN_SOLUTION, "lg.login_at.dt.tz_convert('Asia/Shanghai').dt.hour",
                             "lg.login_at.dt.hour"),
                    "你用的是 UTC 小时；办公时间按北京时间算，先转换时区。"),
            Mistake("not_cn",
                    _variant(_LOGIN_SOLUTION,
                             "~lg.duplicated(['user_id', 'country']) & ~first_login",
                             "lg.country != 'CN'"),
                    "你把所有境外登录都标记了；规则只标记该用户**第一次**出现的国家，"
                    "出差去过的地方第二次再登录不算异常。"),
        ),
        compare=IdSet(),
        tables=("login_events",),
    ),
    # ---------------- 03.02 stage 5.5 ----------------
    Exercise(
        id="03.02.violations_by_category",
        title="违规通知按规则类别计数",
        question=("平台规则分为总则、经营规则（business_operation）、商品合规规则"
                  "（product_compliance）、交易规则（transaction）、知识产权（intellectual_property）"
                  "等。用 `violation_rules` 查出每条违规通知（`violations`）属于哪一类，"
                  "统计每类的通知条数，存进 `by_category`：Series，索引是类别 `category`，"
                  "值是条数。"),
        stage="5.5", tasks=("2.4.1",), unit=UNIT, difficulty=1, points=1,
        answer="by_category", kind="series", answer_cn="Series：category → 条数",
        reference=_by_category,
        solution=("v = violations.merge(violation_rules[['violation_type', 'category']], "
                  "on='violation_type')\n"
                  "by_category = v.groupby('category', observed=True).violation_id.count()"),
        hints=("按 `violation_type` 合并两张表，再按 `category` 分组计数。",),
        mistakes=(
            Mistake("points",
                    "v = violations.merge(violation_rules[['violation_type', 'category']], "
                    "on='violation_type')\n"
                    "by_category = v.groupby('category', observed=True).points.sum()",
                    "你加总的是扣分；题目要的是通知条数。"),
            Mistake("by_type",
                    "by_category = violations.groupby('violation_type', observed=True)"
                    ".violation_id.count()",
                    "你按违规类型计数了；题目要按规则类别（category）汇总。"),
        ),
        compare=SeriesOf(),
        tables=("violations", "violation_rules"),
    ),
    Exercise(
        id="03.02.valid_points",
        title="各店铺当前有效的违规扣分",
        question=("违规处罚规则（违规处罚规则，penalty rules）：一条违规的扣分从通知日 "
                  "`occurred_on` 起计 `validity_days` 天（距今天数 < 有效天数才有效）；"
                  "申诉成功（`appeal_status == 'revoked'`）的扣分作废。以导出日 "
                  "`subaccounts.exported_on.max()` 为今天，算出每个有违规记录的店铺的有效扣分，"
                  "存进 `valid_points`：DataFrame，列 `store_id`、`valid_points`（整数，没有有效"
                  "扣分的店铺为 0）。"),
        stage="5.5", tasks=("2.4.1",), unit=UNIT, difficulty=2, points=2,
        answer="valid_points", kind="frame", answer_cn="DataFrame：store_id, valid_points",
        reference=_valid_points,
        solution=_VALID_SOLUTION,
        hints=("先把 `violation_rules` 的 `validity_days` 合并进来。",
               "距今天数 `(as_of - occurred_on).dt.days`；无效的扣分用 `where` 置 0 再分组求和，"
               "这样没有有效扣分的店铺也保留一行 0。"),
        mistakes=(
            Mistake("revoked_kept",
                    _variant(_VALID_SOLUTION, "(v.appeal_status != 'revoked') & ", ""),
                    "申诉成功（revoked）的扣分已经作废，不能再算。"),
            Mistake("no_expiry",
                    _variant(_VALID_SOLUTION, " & (age < v.validity_days)", ""),
                    "你没有考虑有效期：超过 `validity_days` 天的扣分已经失效。"),
        ),
        compare=Frame(key=("store_id",), columns=("valid_points",)),
        tables=("violations", "violation_rules", "subaccounts"),
    ),
    Exercise(
        id="03.02.penalty_level",
        title="各店铺的处罚等级",
        question=("`penalty_levels` 给出处罚等级：店铺处在有效扣分达到的**最高**等级"
                  "（有效扣分 ≥ `points_min`）。用上题的方法算出有效扣分，再给每个店铺定级，"
                  "存进 `penalty`：DataFrame，列 `store_id`、`valid_points`、`level`。"
                  "处在 listing_restricted 或 store_frozen 的店铺要马上整改。"),
        stage="5.5", tasks=("2.4.1",), unit=UNIT, difficulty=3, points=3,
        answer="penalty", kind="frame", answer_cn="DataFrame：store_id, valid_points, level",
        reference=_penalty,
        solution=_PENALTY_SOLUTION,
        hints=("等级按 `points_min` 从小到大排好，`np.searchsorted(..., side='right') - 1` "
               "找到最后一个 ≤ 扣分的门槛。",
               "也可以逐级比较：扣分 ≥ 门槛就升到这一级。"),
        mistakes=(
            Mistake("all_points",
                    _variant(_PENALTY_SOLUTION,
                             "v['valid'] = (v.appeal_status != 'revoked') & (age >= 0) & "
                             "(age < v.validity_days)", "v['valid'] = True"),
                    "你把所有扣分都算进去了；过期的和申诉撤销的扣分不计。"),
            Mistake("revoked_kept",
                    _variant(_PENALTY_SOLUTION, "(v.appeal_status != 'revoked') & ", ""),
                    "申诉成功（revoked）的扣分已经作废，不能再算。"),
        ),
        compare=Frame(key=("store_id",), columns=("valid_points", "level")),
        tables=("violations", "violation_rules", "penalty_levels", "subaccounts"),
    ),
    Exercise(
        id="03.02.titles_too_long",
        title="新标题长度上限下超长的在售商品",
        question=("`platform_rule_changes` 中 `rule_type == 'max_title_length'` 的行给出每个平台"
                  "新的标题长度上限（`new_value`，字符数）。数一数**在售**（`status == 'active'`）"
                  "商品中，标题长度 `title_length` 超过其平台新上限的有多少个，存进 "
                  "`n_too_long`（整数）。"),
        stage="5.5", tasks=("2.4.2",), unit=UNIT, difficulty=1, points=1,
        answer="n_too_long", kind="integer", answer_cn="整数（商品个数）",
        reference=_too_long,
        solution=_TOO_LONG_SOLUTION,
        hints=("商品的平台要从 `stores` 合并过来。",
               "`new_value` 是文本，先 `astype(int)`；用 `map` 把上限对到每个商品上。"),
        mistakes=(
            Mistake("old_limit",
                    _variant(_TOO_LONG_SOLUTION, ".new_value.astype(int)",
                             ".old_value.astype(int)"),
                    "你用的是旧上限；规则变更后要按新值 `new_value` 检查。"),
            Mistake("one_limit",
                    _variant(_TOO_LONG_SOLUTION, "too_long = lst.title_length > "
                             "lst.platform_id.map(max_len)",
                             "too_long = lst.title_length > max_len.min()"),
                    "各平台的新上限不同；要按每个商品所在平台的上限比较，不能用同一个数。"),
        ),
        compare=Integer(),
        tables=("platform_rule_changes", "listings", "stores"),
    ),
    Exercise(
        id="03.02.rule_change_impact",
        title="规则变更后要整改的在售商品",
        question=("按 `platform_rule_changes` 的**全部**新规则检查在售商品：① 标题长度超过"
                  "新上限；② 标题含有该平台新禁用的词（`banned_term`，按单词、不分大小写）；"
                  "③ 图片数 `image_count` 少于新的最少图片数（`min_image_count`）。"
                  "只要违反一条就要整改。存进 `impacted`（`listing_id` 的集合）。"),
        stage="5.5", tasks=("2.4.2", "2.4.1"), unit=UNIT, difficulty=3, points=3,
        answer="impacted", kind="set", answer_cn="listing_id 的集合",
        reference=_impact,
        solution=_IMPACT_SOLUTION,
        hints=("三条规则各做一个 True/False 列，用 `|` 合起来。",
               "禁用词只对它所属的平台有效：条件里要有 `lst.platform_id == p`。",
               "`title.str.lower().str.split()` 把标题拆成小写单词，再看禁用词在不在里面。"),
        mistakes=(
            Mistake("length_only",
                    _TOO_LONG_SOLUTION + "\nimpacted = set(lst.loc[too_long, 'listing_id'])",
                    "你只查了标题长度；禁用词和最少图片数也是新规则。"),
            Mistake("no_images",
                    _variant(_IMPACT_SOLUTION, "too_long | has_banned | few_images",
                             "too_long | has_banned"),
                    "你漏了最少图片数（min_image_count）这条新规则。"),
        ),
        compare=IdSet(),
        tables=("platform_rule_changes", "listings", "stores"),
    ),
)
