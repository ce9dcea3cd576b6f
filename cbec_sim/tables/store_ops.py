"""Stage ``store_ops``: the back office of opening and running store accounts (stages 5.3–5.5).

What an operator keeps beside the storefront, all small and store- or platform-level:

* ``platform_requirements`` – which materials each platform asks for, per account type
  (from ``platforms.onboarding_requirements``; B2C "enterprise" and "brand" stores, B2B
  Alibaba.com-style "free_member" and "paid_member"); payments (deposit, paid membership) are
  not materials and live in ``store_onboarding``.
* ``company_documents`` – the company's register of materials held, with issue and expiry
  dates. A few required materials are missing, one is expired and two expire soon (labelled).
* ``store_onboarding`` – per store: registration → verification (KYC / company verification)
  submitted → verified → deposit or paid membership paid → store opened (``stores.open_date``),
  with the opening costs and the business plan's expected monthly gross profit.
* ``role_permissions`` and ``subaccounts`` – the company's sub-account (子账号) policy and the
  users of every store; a few planted users hold permissions beyond their role, have no
  two-factor authentication or have not logged in for a long time (labelled).
* ``login_events`` – each user's logins (≤ 30 per user); logins from a country not seen before
  for the user, or outside office hours in Beijing time, are labelled.
* ``violation_rules``, ``penalty_levels`` and ``violations`` – a points ledger of platform
  violations, with one store planted above a restriction level (labelled).
* ``platform_rule_changes`` – announced rule changes (new maximum title length, newly banned
  title terms, a new minimum image count) that make some existing listings non-compliant.

Every rule value here (documents per account type, permission policy, points, validity days,
levels, fees, new limits) is a synthetic teaching value, not a real platform's figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbec_sim import rules
from cbec_sim.context import Context
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import equals, fast_ids, take
from cbec_sim.tables.labels import label_frame, label_spec

NS_DAY = 86_400 * 10**9

# --- synthetic reference values -------------------------------------------------------------

#: requirements that are payments, not materials (kept in ``store_onboarding``)
PAYMENT_ITEMS = ("deposit", "paid_membership")
#: extra materials of a B2C brand store (品牌店) over the platform's enterprise list
BRAND_EXTRA = ("trademark_registration", "brand_authorization")
#: materials of a B2B free membership (免费会员); paid membership adds the platform's list
B2B_FREE = ("business_license", "legal_rep_id", "phone", "email")
#: validity of a material in years (None: no expiry date)
VALIDITY_YEARS: dict[str, float | None] = {
    "business_license": 20, "legal_rep_id": 10, "tax_info": 3, "credit_card": 4,
    "certification_docs": 2, "kc_certification": 2, "factory_audit": 1,
    "company_verification": 1, "trademark_registration": 10, "brand_authorization": 2,
}
ALWAYS_HELD = ("business_license", "legal_rep_id", "bank_account", "phone", "email")
EXPIRY_WINDOW_DAYS = 90  # "expires soon" in the readiness check (synthetic company rule)

STEPS = ("registered_on", "verification_submitted_on", "verified_on", "paid_on", "opened_on")
#: median days of each step (B2C, B2B): registration → submission → verified → paid → opened
STEP_DAYS = {"submit": (4.0, 6.0), "verify": (6.0, 18.0), "pay": (3.0, 12.0),
             "open": (5.0, 4.0)}

PERMISSIONS = ("listing_edit", "order_manage", "message_reply", "ad_manage", "report_view",
               "finance_view", "payout_settings", "user_manage")
ROLE_POLICY: dict[str, tuple[str, ...]] = {
    "admin": PERMISSIONS,
    "operations": ("listing_edit", "order_manage", "message_reply", "ad_manage", "report_view"),
    "customer_service": ("order_manage", "message_reply", "report_view"),
    "finance": ("finance_view", "payout_settings", "report_view"),
    "viewer": ("report_view",),
}
ROLES = tuple(ROLE_POLICY)
STALE_DAYS = 90  # no login for more than this many days: stale account (synthetic rule)
OFFICE_TZ = "Asia/Shanghai"
OFFICE_OPEN_HOUR, OFFICE_CLOSE_HOUR = 8, 22  # office logins: 08:00 ≤ Beijing time < 22:00
HOME_COUNTRY = "CN"
TRAVEL_COUNTRY = "HK"
FOREIGN_COUNTRIES = ("RU", "NG", "BR", "VN", "UA")
LOGIN_COUNTRIES = (HOME_COUNTRY, TRAVEL_COUNTRY, *FOREIGN_COUNTRIES)
_COUNTRY_DT = pd.CategoricalDtype(list(LOGIN_COUNTRIES))

#: violation type → (category of platform rules 2.4.1, points, validity days); synthetic
VIOLATION_RULES: dict[str, tuple[str, int, int]] = {
    "prohibited_listing": ("product_compliance", 6, 365),
    "misleading_title": ("product_compliance", 2, 180),
    "ip_infringement": ("intellectual_property", 6, 365),
    "late_shipment": ("transaction", 1, 90),
    "invalid_tracking": ("transaction", 3, 180),
    "price_manipulation": ("business_operation", 4, 365),
    "off_platform_contact": ("business_operation", 2, 180),
}
VIOLATION_TYPES = tuple(VIOLATION_RULES)
CATEGORIES = ("product_compliance", "intellectual_property", "transaction", "business_operation")
#: penalty level → minimum valid points; synthetic
PENALTY_LEVELS = (("normal", 0, "no restriction"), ("warning", 6, "warning notice"),
                  ("listing_restricted", 12, "no new listings"),
                  ("store_frozen", 24, "store frozen, funds held"))
APPEAL = ("none", "upheld", "revoked")
CLAIM_TERMS = ("Organic", "Hypoallergenic", "Vegan", "Premium", "Waterproof", "Fragrance-Free",
               "Gold")  # claims a platform may ban in titles without proof (synthetic)
OLD_MAX_TITLE = {"B2C": 200, "B2B": 128}
RULE_TYPES = ("max_title_length", "banned_term", "min_image_count")


ACCOUNT_TYPES = ("enterprise", "brand", "free_member", "paid_member")
PAYMENT_TYPES = ("deposit", "paid_membership", "subscription")
LEVEL_NAMES = tuple(n for n, _, _ in PENALTY_LEVELS)
_DT = {name: pd.CategoricalDtype(list(v)) for name, v in {
    "account_type": ACCOUNT_TYPES, "step": ("registration", "verification"),
    "model": ("B2C", "B2B"), "payment_type": PAYMENT_TYPES, "role": ROLES,
    "permission": PERMISSIONS, "status": ("active", "disabled"),
    "violation_type": VIOLATION_TYPES, "category": CATEGORIES, "level": LEVEL_NAMES,
    "appeal_status": APPEAL, "rule_type": RULE_TYPES}.items()}


def _cat(codes, name: str) -> pd.Categorical:
    """Categorical column ``name`` from integer codes, with the stage's fixed categories."""
    return pd.Categorical.from_codes(np.asarray(codes), dtype=_DT[name])


def _codes(values, name: str) -> np.ndarray:
    cats = list(_DT[name].categories)
    return np.array([cats.index(v) for v in values], dtype=np.int64)


def valid_points(points, occurred_on, validity_days, appeal_status, as_of) -> np.ndarray:
    """Points still counting on ``as_of``: not revoked on appeal and ``as_of`` before
    ``occurred_on + validity_days`` (a violation counts for ``validity_days`` days)."""
    occ = pd.to_datetime(pd.Series(occurred_on)).to_numpy()
    end = occ + pd.to_timedelta(np.asarray(validity_days), unit="D").to_numpy()
    ok = (np.asarray(appeal_status, dtype=object) != "revoked") & (occ <= np.datetime64(
        pd.Timestamp(as_of))) & (np.datetime64(pd.Timestamp(as_of)) < end)
    return np.where(ok, np.asarray(points, dtype=np.int64), 0)


def penalty_level(points) -> np.ndarray:
    """Penalty level name for valid points (highest level whose minimum is reached)."""
    mins = np.array([m for _, m, _ in PENALTY_LEVELS])
    names = np.array([n for n, _, _ in PENALTY_LEVELS], dtype=object)
    return names[np.searchsorted(mins, np.asarray(points), side="right") - 1]


# --- schemas ---------------------------------------------------------------------------------

register(TableSpec(
    name="platform_requirements",
    grain="one material a platform asks for, for one account type",
    description="Materials to prepare before onboarding (入驻准备), per platform and account "
                "type: B2C `enterprise` (企业店) and `brand` (品牌店, adds trademark and brand "
                "authorisation); B2B `free_member` (免费会员) and `paid_member` (付费会员). "
                "Built from `platforms.onboarding_requirements`; payments (deposit, paid "
                "membership) are not materials. Synthetic teaching values.",
    columns=(
        Column("platform_id", "str", "platform", references="platforms.platform_id"),
        Column("account_type", "category", "account type",
               values=("enterprise", "brand", "free_member", "paid_member")),
        Column("document_type", "str", "material required (code)"),
        Column("step", "category", "when it is asked for: at registration or at "
               "verification", values=("registration", "verification")),
    ),
))

register(TableSpec(
    name="company_documents",
    grain="one material the company holds",
    description="The company's register of onboarding materials (资质材料) with issue and "
                "expiry dates, as checked on `checked_on` (the last day of the data). A "
                "material missing from this table is not held.",
    columns=(
        Column("document_id", "str", "document id", unique=True),
        Column("document_type", "str", "material (code, as in platform_requirements)",
               unique=True),
        Column("issued_on", "date", "issue date"),
        Column("expires_on", "date", "expiry date (empty: does not expire)", nullable=True),
        Column("checked_on", "date", "day the register was checked (last day of the data)"),
    ),
    checks=("expires_on > issued_on", "issued_on ≤ checked_on"),
))

register(TableSpec(
    name="store_onboarding",
    grain="one store's onboarding record",
    description="Onboarding (平台入驻) of each store: free registration, verification "
                "(KYC for B2C, company verification for B2B) submitted and passed, deposit or "
                "paid membership (付费会员) paid, store opened on `stores.open_date`; with "
                "opening costs and the business plan's expected monthly gross profit. "
                "Amounts are synthetic.",
    columns=(
        Column("store_id", "str", "store", references="stores.store_id", unique=True),
        Column("platform_id", "str", "platform", references="platforms.platform_id"),
        Column("model", "category", "B2C or B2B", values=("B2C", "B2B")),
        Column("account_type", "category", "account type opened",
               values=("enterprise", "brand", "free_member", "paid_member")),
        Column("registered_on", "date", "free account registered"),
        Column("verification_submitted_on", "date", "verification materials submitted"),
        Column("verified_on", "date", "verification passed"),
        Column("paid_on", "date", "deposit / membership / first subscription paid"),
        Column("opened_on", "date", "store opened (= stores.open_date)"),
        Column("payment_type", "category", "what was paid at `paid_on`",
               values=("deposit", "paid_membership", "subscription")),
        Column("deposit_cny", "money", "refundable deposit (保证金)", unit="CNY", ge=0),
        Column("annual_fee_cny", "money", "first-year membership or subscription fee",
               unit="CNY", ge=0),
        Column("sample_stock_cny", "money", "first sample stock bought for the store",
               unit="CNY", ge=0),
        Column("photography_cny", "money", "product photography for the first listings",
               unit="CNY", ge=0),
        Column("planned_monthly_gross_profit_cny", "money", "expected gross profit per "
               "month in the opening business plan", unit="CNY", ge=0),
    ),
    checks=("registered_on ≤ verification_submitted_on ≤ verified_on ≤ paid_on ≤ opened_on",
            "opened_on = stores.open_date"),
))

register(TableSpec(
    name="role_permissions",
    grain="one permission granted to one role by company policy",
    description="The company's sub-account (子账号) permission policy: what each role may "
                "do. Synthetic teaching values.",
    columns=(
        Column("role", "category", "role", values=ROLES),
        Column("permission", "category", "permission", values=PERMISSIONS),
    ),
))

register(TableSpec(
    name="subaccounts",
    grain="one user (main account or sub-account) of one store",
    description="Users of each store's seller account: the main account (主账号, role admin) "
                "and sub-accounts (子账号) with a role, the permissions actually granted "
                "(`|`-separated), whether two-factor authentication is on, and the last "
                "login. Exported on `exported_on` (the last day of the data).",
    columns=(
        Column("user_id", "str", "user id", unique=True),
        Column("store_id", "str", "store", references="stores.store_id"),
        Column("role", "category", "role under the policy", values=ROLES),
        Column("is_main", "bool", "main account of the store"),
        Column("permissions", "str", "permissions granted, `|`-separated"),
        Column("has_2fa", "bool", "two-factor authentication switched on"),
        Column("status", "category", "`active` or `disabled`", values=("active", "disabled")),
        Column("created_on", "date", "account created"),
        Column("last_login_at", "timestamp", "last login (= latest login_events.login_at)"),
        Column("exported_on", "date", "day of the export (last day of the data)"),
    ),
))

register(TableSpec(
    name="login_events",
    grain="one login of one user",
    description="Login log of the store users (≤ 30 per user): time (UTC), country and IP "
                "address. The team works from China; office hours are 08:00–22:00 Beijing "
                "time (`Asia/Shanghai`).",
    columns=(
        Column("login_id", "str", "login id", unique=True),
        Column("user_id", "str", "user", references="subaccounts.user_id"),
        Column("store_id", "str", "store of the user", references="stores.store_id"),
        Column("login_at", "timestamp", "login time"),
        Column("country", "category", "country of the IP address (ISO code)"),
        Column("ip_address", "str", "IP address (documentation ranges)"),
    ),
))

register(TableSpec(
    name="violation_rules",
    grain="one violation type of the platform rules",
    description="Violation-points rules (违规处罚规则): category of the rule, points per "
                "violation and how many days the points count. Synthetic teaching values.",
    columns=(
        Column("violation_type", "category", "violation type", values=VIOLATION_TYPES),
        Column("category", "category", "rule category", values=CATEGORIES),
        Column("points", "int", "points per violation", ge=0),
        Column("validity_days", "int", "days the points count after the violation", ge=1),
    ),
))

register(TableSpec(
    name="penalty_levels",
    grain="one penalty level",
    description="Restriction levels by valid points (synthetic): the store is at the highest "
                "level whose `points_min` its valid points reach.",
    columns=(
        Column("level", "category", "level", values=tuple(n for n, _, _ in PENALTY_LEVELS)),
        Column("points_min", "int", "minimum valid points", ge=0),
        Column("restriction", "str", "what the platform restricts"),
    ),
))

register(TableSpec(
    name="violations",
    grain="one violation notice to one store",
    description="Violation notices received from the platforms, with the points given and "
                "the appeal outcome (`revoked`: the points were cancelled).",
    columns=(
        Column("violation_id", "str", "violation id", unique=True),
        Column("store_id", "str", "store", references="stores.store_id"),
        Column("platform_id", "str", "platform", references="platforms.platform_id"),
        Column("violation_type", "category", "violation type", values=VIOLATION_TYPES),
        Column("occurred_on", "date", "day of the violation notice"),
        Column("points", "int", "points given (violation_rules.points)", ge=0),
        Column("listing_id", "str", "listing concerned, if any", nullable=True,
               references="listings.listing_id"),
        Column("appeal_status", "category", "`none`, `upheld` or `revoked`", values=APPEAL),
    ),
))

register(TableSpec(
    name="platform_rule_changes",
    grain="one announced change of one platform rule",
    description="Rule changes announced by the platforms (规则变更): `max_title_length` "
                "(characters), `banned_term` (a word titles may no longer contain, "
                "case-insensitive; old value empty) and `min_image_count`. Synthetic values.",
    columns=(
        Column("change_id", "str", "change id", unique=True),
        Column("platform_id", "str", "platform", references="platforms.platform_id"),
        Column("rule_type", "category", "rule changed", values=RULE_TYPES),
        Column("old_value", "str", "value before (empty for a new banned term)",
               nullable=True),
        Column("new_value", "str", "value after"),
        Column("announced_on", "date", "announcement day"),
        Column("effective_on", "date", "day the new rule applies"),
    ),
))


# --- build -----------------------------------------------------------------------------------

def _reference_tables() -> dict[str, pd.DataFrame]:
    """The constant policy tables (the same in every world)."""
    rp = [(r, p) for r in ROLES for p in ROLE_POLICY[r]]
    return {
        "role_permissions": pd.DataFrame({
            "role": _cat(_codes([r for r, _ in rp], "role"), "role"),
            "permission": _cat(_codes([p for _, p in rp], "permission"), "permission")}),
        "violation_rules": pd.DataFrame({
            "violation_type": _cat(np.arange(len(VIOLATION_TYPES)), "violation_type"),
            "category": _cat(_codes([VIOLATION_RULES[t][0] for t in VIOLATION_TYPES],
                                    "category"), "category"),
            "points": np.array([VIOLATION_RULES[t][1] for t in VIOLATION_TYPES], np.int64),
            "validity_days": np.array([VIOLATION_RULES[t][2] for t in VIOLATION_TYPES],
                                      np.int64)}),
        "penalty_levels": pd.DataFrame({
            "level": _cat(np.arange(len(LEVEL_NAMES)), "level"),
            "points_min": np.array([m for _, m, _ in PENALTY_LEVELS], np.int64),
            "restriction": pd.array([r for _, _, r in PENALTY_LEVELS], dtype="str")}),
    }


_REFERENCE = _reference_tables()
_REQ_CACHE: dict[tuple, pd.DataFrame] = {}


def _requirements(platforms: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """``platform_requirements`` from the platforms table, every material in first-seen order,
    and the materials only platforms outside the world ask for (cached per platforms)."""
    key = tuple(zip(platforms["platform_id"].tolist(), platforms["model"].tolist(),
                    platforms["onboarding_requirements"].tolist(),
                    platforms["in_world"].tolist(), strict=True))
    hit = _REQ_CACHE.get(key)
    if hit is None:
        req = _requirements_of(tuple(k[:3] for k in key))
        out = {p for p, _, _, inw in key if not inw}
        off = req["platform_id"].isin(out).to_numpy()
        only_new = set(req.loc[off, "document_type"]) - set(req.loc[~off, "document_type"])
        hit = _REQ_CACHE[key] = (req, list(dict.fromkeys(req["document_type"])),
                                 sorted(only_new))
    return hit[0].copy(), hit[1], hit[2]


def _requirements_of(key: tuple) -> pd.DataFrame:
    rows: list[tuple[str, str, str, str]] = []
    for pid, model, req in key:
        docs = [d for d in req.split("|") if d and d not in PAYMENT_ITEMS]
        if model == "B2B":
            types = {"free_member": [d for d in B2B_FREE],
                     "paid_member": list(dict.fromkeys([*B2B_FREE, *docs]))}
        else:
            types = {"enterprise": docs,
                     "brand": list(dict.fromkeys([*docs, *BRAND_EXTRA]))}
        for at, dl in types.items():
            rows += [(pid, at, d, "registration" if d in B2B_FREE else "verification")
                     for d in dl]
    out = pd.DataFrame(rows, columns=["platform_id", "account_type", "document_type", "step"])
    out["account_type"] = _cat(_codes(out["account_type"], "account_type"), "account_type")
    out["step"] = _cat(_codes(out["step"], "step"), "step")
    return out


def _quantile(x: np.ndarray, q: float) -> float:
    """``np.quantile(x, q)`` (linear interpolation), cheaper for a small array."""
    a = np.sort(x)
    h = (len(a) - 1) * q
    lo = int(h)
    return float(a[lo] + (h - lo) * (a[min(lo + 1, len(a) - 1)] - a[lo]))



def _utc(ns: np.ndarray) -> pd.DatetimeIndex:
    """UTC timestamps from int64 nanoseconds (as ``pd.to_datetime(ns, utc=True)``)."""
    return pd.DatetimeIndex(np.asarray(ns, np.int64).view("M8[ns]")).tz_localize("UTC")


def _days(x: np.ndarray) -> np.ndarray:
    return np.maximum(np.round(x), 1).astype(np.int64)


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    """The stage's tables and their ``anomalies`` labels."""
    rng = ctx.rng("store_ops")
    r_doc, r_onb, r_user, r_login, r_vio, r_rule = rng.spawn(6)
    end = pd.Timestamp(ctx.end).normalize()
    end64 = end.to_datetime64()
    plat = ctx.tables["platforms"]
    stores = ctx.tables["stores"]
    listings = ctx.tables["listings"]
    specs: list[dict] = []

    # 1. requirements and the company's documents
    req, all_docs, only_new = _requirements(plat)
    # one missing material is needed only by platforms outside the world (a new market)
    cand = [d for d in all_docs if d not in ALWAYS_HELD]
    first = sorted(d for d in only_new if d not in ALWAYS_HELD) or cand
    miss = {first[int(r_doc.integers(len(first)))]}
    rest = [d for d in cand if d not in miss]
    miss.add(rest[int(r_doc.integers(len(rest)))])
    held = [d for d in all_docs if d not in miss]
    n_h = len(held)
    valid = np.array([VALIDITY_YEARS.get(d) or 0.0 for d in held])
    expiring = valid > 0
    exp_idx = np.flatnonzero(expiring)
    pick = r_doc.choice(exp_idx, 3, replace=False)
    # days from checked_on to expiry: far by default; one expired, two within the window
    span_days = np.where(expiring, valid * 365.25, 5 * 365.25)
    low = EXPIRY_WINDOW_DAYS + 30
    left = low + (r_doc.random(n_h) * (np.minimum(900, span_days - 30) - low)).astype(np.int64)
    left[pick[0]] = -int(r_doc.integers(5, 60))
    left[pick[1:]] = r_doc.integers(10, EXPIRY_WINDOW_DAYS - 5, 2)
    expires = end64 + (left * NS_DAY).astype("m8[ns]")
    span = (np.where(expiring, valid, 5.0) * 365.25 * NS_DAY).astype(np.int64)
    issued = np.where(expiring, expires - span.astype("m8[ns]"),
                      end64 - (r_doc.integers(200, 2500, n_h) * NS_DAY).astype("m8[ns]"))
    issued = np.minimum(issued, end64).astype("M8[D]").astype("M8[ns]")
    docs = pd.DataFrame(copy=False, data={
        "document_id": [f"DOC{i + 1:02d}" for i in range(n_h)],
        "document_type": held,
        "issued_on": issued,
        "expires_on": np.where(expiring, expires, np.datetime64("NaT")).astype("M8[ns]"),
        "checked_on": np.full(n_h, end64).astype("M8[ns]"),
    })
    specs.append(label_spec("document_missing", "company_documents", sorted(miss),
                            detail="required material not held"))
    specs.append(label_spec("document_expired", "company_documents",
                            [docs["document_id"].iloc[pick[0]]], detail="expired"))
    specs.append(label_spec("document_expiring", "company_documents",
                            docs["document_id"].iloc[np.sort(pick[1:])].tolist(),
                            detail=f"expires within {EXPIRY_WINDOW_DAYS} days"))

    # 2. onboarding of each store
    ns = len(stores)
    sid_s = stores["store_id"]
    sid = sid_s.to_numpy(object)
    spid = stores["platform_id"].to_numpy(object)
    b2b = equals(stores["model"], "B2B")
    col = b2b.astype(int)
    reqs = dict(zip(plat["platform_id"].tolist(), plat["onboarding_requirements"].tolist(),
                    strict=True))
    fee = dict(zip(plat["platform_id"].tolist(), plat["monthly_fee"].tolist(),
                   strict=True))
    has_dep = np.array(["deposit" in reqs.get(p, "") for p in spid])
    dur = {k: _days(r_onb.lognormal(np.log(np.array(v)[col]), 0.35)) for k, v in
           STEP_DAYS.items()}
    opened = stores["open_date"].to_numpy("M8[ns]")
    paid = opened - (dur["open"] * NS_DAY).astype("m8[ns]")
    verified = paid - (dur["pay"] * NS_DAY).astype("m8[ns]")
    submitted = verified - (dur["verify"] * NS_DAY).astype("m8[ns]")
    registered = submitted - (dur["submit"] * NS_DAY).astype("m8[ns]")
    ptype = np.where(b2b, 1, np.where(has_dep, 0, 2))
    brand = r_onb.random(ns) < 0.4
    atype = np.where(b2b, 3, np.where(brand, 1, 0))
    deposit = np.where(ptype == 0, r_onb.choice([5000.0, 10000.0, 20000.0], ns), 0.0)
    usd_cny = 7.1  # planning rate for the budget (synthetic)
    annual = np.where(b2b, r_onb.choice([29800.0, 59800.0, 80000.0], ns),
                      np.array([fee.get(p, 0.0) for p in spid]) * 12 * usd_cny)
    sample = r_onb.uniform(8000, 40000, ns)
    photo = r_onb.uniform(1500, 9000, ns)
    gp = r_onb.uniform(3000, 25000, ns)
    onb = pd.DataFrame(copy=False, data={
        "store_id": sid_s.copy(), "platform_id": stores["platform_id"].copy(),
        "model": _cat(b2b.astype(np.int64), "model"),
        "account_type": _cat(atype, "account_type"),
        "registered_on": registered, "verification_submitted_on": submitted,
        "verified_on": verified, "paid_on": paid, "opened_on": opened,
        "payment_type": _cat(ptype, "payment_type"),
        "deposit_cny": rules.round_cents(deposit),
        "annual_fee_cny": rules.round_cents(annual),
        "sample_stock_cny": rules.round_cents(sample),
        "photography_cny": rules.round_cents(photo),
        "planned_monthly_gross_profit_cny": rules.round_cents(gp),
    })

    # 3. permission policy and users
    role_perm = _REFERENCE["role_permissions"].copy()
    n_sub = r_user.integers(3, 6, ns)
    per_store = 1 + n_sub
    nu = int(per_store.sum())
    ust = np.repeat(np.arange(ns), per_store)
    is_main = np.zeros(nu, bool)
    is_main[np.concatenate([[0], np.cumsum(per_store)[:-1]])] = True
    role = np.where(is_main, 0, r_user.choice([1, 1, 2, 2, 3, 4], nu))
    perms = [list(ROLE_POLICY[ROLES[r]]) for r in role]
    has_2fa = np.ones(nu, bool)
    status = np.zeros(nu, int)
    created = np.maximum(registered[ust], opened[ust] - (r_user.integers(
        0, 30, nu) * NS_DAY).astype("m8[ns]")) + (np.where(is_main, 0, r_user.integers(
            0, 200, nu)) * NS_DAY).astype("m8[ns]")
    created = np.minimum(created, end64 - np.timedelta64(200, "D")).astype("M8[D]")
    # last activity: recent for active users
    last_day = end64 - (r_user.integers(0, 20, nu) * NS_DAY).astype("m8[ns]")
    subs = np.flatnonzero(~is_main)
    k = r_user.permutation(subs)
    excess, no2fa, stale, disabled = k[:3], k[3:6], k[6:9], k[9:11]
    extra_perm = ("payout_settings", "user_manage", "finance_view")
    for i, u in enumerate(excess):
        p = next(x for x in extra_perm[i:] + extra_perm if x not in perms[u])
        perms[u] = [*perms[u], p]
    has_2fa[no2fa] = False
    last_day[stale] = end64 - (r_user.integers(STALE_DAYS + 10, 160, 3) * NS_DAY).astype(
        "m8[ns]")
    status[disabled] = 1
    has_2fa[disabled] = False
    last_day[disabled] = end64 - (r_user.integers(STALE_DAYS + 10, 160, 2) * NS_DAY).astype(
        "m8[ns]")
    uid_s = fast_ids("U", nu, width=3)
    uid = uid_s.to_numpy(object)
    specs.append(label_spec("subaccount_excess_permission", "subaccounts",
                            sorted(uid[excess]), detail="permission beyond the role policy"))
    specs.append(label_spec("subaccount_no_2fa", "subaccounts", sorted(uid[no2fa]),
                            detail="active user without two-factor authentication"))
    specs.append(label_spec("subaccount_stale", "subaccounts", sorted(uid[stale]),
                            detail=f"active user without login for > {STALE_DAYS} days"))

    # 4. logins: office hours in Beijing, home country; one traveller, planted foreign logins
    n_log = r_login.integers(8, 26, nu)
    nl = int(n_log.sum())
    lu = np.repeat(np.arange(nu), n_log)
    pos = np.arange(nl) - np.repeat(np.cumsum(n_log) - n_log, n_log)
    c0 = created[lu].astype("M8[ns]").astype(np.int64)
    c1 = last_day[lu].astype("M8[D]").astype("M8[ns]").astype(np.int64)
    frac = r_login.random(nl)
    frac = np.where(pos == n_log[lu] - 1, 1.0, np.where(pos == 0, 0.0, frac))
    day = c0 + ((c1 - c0) * frac // NS_DAY) * NS_DAY
    bj_hour = r_login.uniform(OFFICE_OPEN_HOUR + 0.5, OFFICE_CLOSE_HOUR - 0.5, nl)
    ts = day + ((bj_hour - 8.0) * 3600 * 1e9).astype(np.int64)  # Beijing = UTC+8
    order = np.lexsort((ts, lu))
    ts = ts[order]
    country = np.zeros(nl, np.int64)  # codes of LOGIN_COUNTRIES
    ip_pool = [f"203.0.113.{10 + s}" for s in range(ns)] + ["192.0.2.77"]
    ip = ust[lu].copy()  # codes of ip_pool
    traveller = k[11]
    tv = np.flatnonzero((lu == traveller) & (pos >= 1) & (pos < n_log[lu] - 1))[:3]
    country[tv] = 1
    ip[tv] = ns
    cand = np.flatnonzero((pos >= 2) & (pos < n_log[lu] - 1) & (lu != traveller))
    plant = r_login.choice(cand, 5, replace=False)
    foreign = 2 + r_login.choice(len(FOREIGN_COUNTRIES), 5)
    country[plant[:3]] = foreign[:3]
    ip_pool += [f"198.51.100.{int(x)}" for x in r_login.integers(2, 250, 3)]
    ip[plant[:3]] = ns + 1 + np.arange(3)
    night = plant[[0, 3, 4]]
    ts[night] = (ts[night] // NS_DAY) * NS_DAY + r_login.integers(
        -7 * 3600, -3 * 3600, 3) * 10**9 + 24 * 3600 * 10**9  # 01:00–05:00 Beijing
    ts[night] = np.minimum(ts[night], end64.astype("M8[ns]").astype(np.int64) - 3600 * 10**9)
    order = np.lexsort((ts, lu))
    ts, country, ip = ts[order], country[order], ip[order]
    log_id = fast_ids("LG", nl, width=5)
    bj = (ts // 10**9 + 8 * 3600) % 86_400 // 3600
    new_c = np.zeros(nl, bool)
    new_c[np.unique(lu * len(LOGIN_COUNTRIES) + country, return_index=True)[1]] = True
    new_c &= pos > 0  # first time the user logs in from this country, not the first login
    off = (bj < OFFICE_OPEN_HOUR) | (bj >= OFFICE_CLOSE_HOUR)
    lids = log_id.to_numpy(object)
    specs.append(label_spec("login_new_country", "login_events", lids[new_c].tolist(),
                            detail="country not seen before for this user"))
    specs.append(label_spec("login_off_hours", "login_events", lids[off].tolist(),
                            detail="outside 08:00–22:00 Beijing time"))
    last_ts = ts[np.cumsum(n_log) - 1]
    logins = pd.DataFrame(copy=False, data={
        "login_id": log_id, "user_id": take(uid_s, lu), "store_id": take(sid_s, ust[lu]),
        "login_at": _utc(ts),
        "country": pd.Categorical.from_codes(country, dtype=_COUNTRY_DT),
        "ip_address": take(ip_pool, ip)})
    users = pd.DataFrame(copy=False, data={
        "user_id": uid_s, "store_id": take(sid_s, ust),
        "role": _cat(role, "role"),
        "is_main": is_main, "permissions": ["|".join(p) for p in perms],
        "has_2fa": has_2fa,
        "status": _cat(status, "status"),
        "created_on": created.astype("M8[ns]"),
        "last_login_at": _utc(last_ts),
        "exported_on": np.full(nu, end64).astype("M8[ns]"),
    })

    # 5. violations: a few per store, one store planted above a restriction level
    vr = _REFERENCE["violation_rules"].copy()
    levels = _REFERENCE["penalty_levels"].copy()
    nv = r_vio.integers(1, 6, ns)
    hot = int(r_vio.integers(ns))
    nv[hot] += 4
    vs = np.repeat(np.arange(ns), nv)
    nvt = len(vs)
    vtype = r_vio.choice(len(VIOLATION_TYPES), nvt, p=[0.12, 0.2, 0.08, 0.25, 0.12, 0.08, 0.15])
    start64 = np.maximum(opened[vs], pd.Timestamp(ctx.start).to_datetime64())
    span_d = np.maximum((end64 - start64) // np.timedelta64(1, "D"), 1)
    occ = start64 + (r_vio.random(nvt) * span_d).astype(np.int64).astype("m8[D]")
    recent = vs == hot
    occ = np.where(recent, end64 - r_vio.integers(5, 80, nvt).astype("m8[D]"), occ)
    vtype = np.where(recent & (np.arange(nvt) % 2 == 0), 0, vtype)
    appeal = r_vio.choice(3, nvt, p=[0.6, 0.25, 0.15])
    appeal = np.where(recent, 0, appeal)
    # one recent violation revoked on appeal (its points no longer count)
    calm = np.flatnonzero(~recent)
    if len(calm):
        j = calm[int(r_vio.integers(len(calm)))]
        occ[j] = end64 - np.timedelta64(int(r_vio.integers(15, 60)), "D")
        appeal[j] = 2
    o = np.lexsort((vs, occ))
    vs, vtype, occ, appeal = vs[o], vtype[o], occ[o], appeal[o]
    pos_of = {v: i for i, v in enumerate(sid)}
    lst_sc = np.array([pos_of.get(v, -1) for v in listings["store_id"].tolist()], np.int64)
    lst_day = listings["listed_date"].to_numpy("M8[ns]")
    lid = np.full(nvt, -1, np.int64)
    for i in np.flatnonzero(vtype <= 2):  # listing-related types
        opts = np.flatnonzero((lst_sc == vs[i]) & (lst_day <= occ[i]))
        if len(opts):
            lid[i] = opts[int(r_vio.integers(len(opts)))]
    pts = vr["points"].to_numpy()[vtype]
    vio = pd.DataFrame(copy=False, data={
        "violation_id": fast_ids("V", nvt, width=4),
        "store_id": take(sid_s, vs), "platform_id": take(stores["platform_id"], vs),
        "violation_type": _cat(vtype, "violation_type"),
        "occurred_on": occ.astype("M8[ns]"), "points": pts.astype(np.int64),
        "listing_id": take(listings["listing_id"], lid),
        "appeal_status": _cat(appeal, "appeal_status")})
    age = (end64 - occ) // np.timedelta64(1, "D")  # same rule as valid_points()
    vp = np.where((appeal != 2) & (age >= 0) & (age < vr["validity_days"].to_numpy()[vtype]),
                  pts, 0)
    tot = np.bincount(vs, weights=vp, minlength=ns)
    lv = penalty_level(tot)
    restricted = np.flatnonzero(np.isin(lv, ("listing_restricted", "store_frozen")))
    if len(restricted):
        specs.append(label_spec("store_restricted", "stores", sid[restricted].tolist(),
                                store_id=sid[restricted].tolist(),
                                detail="valid violation points at a restriction level"))

    # 6. rule changes: new title limit per platform with listings, banned terms, image minimum
    lp = spid[lst_sc]
    tl = listings["title_length"].to_numpy()
    titles = np.strings.lower(listings["title"].to_numpy(str))
    active = equals(listings["status"], "active")
    padded = np.strings.add(np.strings.add(" ", titles), " ")
    has_term = {t: np.strings.find(padded, f" {t.lower()} ") >= 0 for t in CLAIM_TERMS}
    rows = []
    limit: dict[str, int] = {}
    spare: dict[str, list[str]] = {}  # terms hitting active listings within the new limit
    for p in sorted(set(lp)):
        m = lp == p
        model = "B2B" if b2b[spid == p].any() else "B2C"
        new_max = int(np.floor(_quantile(tl[m], r_rule.uniform(0.75, 0.92))))
        limit[p] = new_max
        rows.append((p, "max_title_length", str(OLD_MAX_TITLE[model]), str(new_max)))
        ok = m & active & (tl <= new_max)
        spare[p] = [t for t in CLAIM_TERMS if (has_term[t] & ok).any()]
    with_term = [p for p in sorted(spare) if spare[p]]
    chosen = [p for p in with_term if r_rule.random() < 0.7]
    if with_term and not chosen:  # at least one platform bans a term that changes something
        chosen = [with_term[int(r_rule.integers(len(with_term)))]]
    for p in chosen:
        rows.append((p, "banned_term", None, spare[p][int(r_rule.integers(len(spare[p])))]))
    # new minimum image count on the platform where it alone hits the most active listings
    few = active & (listings["image_count"].to_numpy() < 3)
    hit = {p: int((few & (lp == p) & (tl <= limit[p])).sum()) for p in limit}
    top = max(hit.values())
    best = [p for p in sorted(hit) if hit[p] == top]
    rows.append((best[int(r_rule.integers(len(best)))], "min_image_count", "1", "3"))
    nr = len(rows)
    ann = end64 - r_rule.integers(10, 40, nr).astype("m8[D]")
    rc = pd.DataFrame(copy=False, data={
        "change_id": [f"RC{i + 1:02d}" for i in range(nr)],
        "platform_id": [r[0] for r in rows],
        "rule_type": _cat(_codes([r[1] for r in rows], "rule_type"), "rule_type"),
        "old_value": [r[2] for r in rows], "new_value": [r[3] for r in rows],
        "announced_on": ann.astype("M8[ns]"),
        "effective_on": (ann + r_rule.integers(14, 45, nr).astype("m8[D]")).astype("M8[ns]")})

    return {"platform_requirements": req, "company_documents": docs, "store_onboarding": onb,
            "role_permissions": role_perm, "subaccounts": users, "login_events": logins,
            "violation_rules": vr, "penalty_levels": levels, "violations": vio,
            "platform_rule_changes": rc, "anomalies": label_frame(specs)}
