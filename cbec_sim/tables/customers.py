"""Stage ``customers``: buyers per market with realistic (fake) personal data.

Names, streets, cities and phone patterns come from the Faker-built pools shipped in
``data/pools.csv.gz``; each customer is a random combination, so PII-masking exercises see
realistic values. Signup times are set later by the orders stage (never after a first order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from cbec_sim.context import Context
from cbec_sim.pools import pools
from cbec_sim.schema import Column, TableSpec, register
from cbec_sim.tables._util import categorical, id_array, join_str, str_series, take_str

SEGMENTS = ("deal_seeker", "brand_loyal", "premium", "occasional")
CHANNELS = ("organic_search", "sponsored_ads", "social", "live", "email", "direct", "affiliate")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55+")

CUSTOMERS = register(TableSpec(
    name="customers",
    grain="one buyer account in one market",
    description="Buyers. Personal data is fake but realistic for the market's locale; treat it "
                "as confidential customer information (back-office privacy policy).",
    columns=(
        Column("customer_id", "str", "customer id", unique=True),
        Column("market", "category", "buyer's country (ISO code)"),
        Column("first_name", "str", "given name"),
        Column("last_name", "str", "family name"),
        Column("email", "str", "e-mail address"),
        Column("phone", "str", "phone number"),
        Column("street_address", "str", "street and number"),
        Column("city", "str", "city"),
        Column("postcode", "str", "postal code"),
        Column("age_band", "category", "age group", values=AGE_BANDS),
        Column("segment", "category", "marketing segment", values=SEGMENTS),
        Column("acquisition_channel", "category", "channel of the first visit",
               values=CHANNELS),
        Column("signup_at", "timestamp", "account creation time (never after the first "
               "order)"),
    ),
))


def n_customers_for(n_orders: int) -> int:
    return max(50, int(n_orders / 1.45))  # ~10 % never buy in the period


def _pick(rng: np.random.Generator, pool: pd.DataFrame, codes: np.ndarray,
          locales: np.ndarray, kind: str) -> tuple[pd.DataFrame, np.ndarray]:
    """For each row, a random pool entry of ``kind`` for the row's locale.

    Returns the pool subset and one row index into it per customer (vectorised: a loop over
    the handful of locales only). Reference version of :func:`_pick_indexed`, which ``build``
    uses (same draws, without filtering the pool again for every kind).
    """
    sub = pool[pool["kind"] == kind].reset_index(drop=True)
    out = np.empty(len(codes), dtype=np.int64)
    for k, lc in enumerate(locales):
        idx = np.flatnonzero(codes == k)
        pos = np.flatnonzero(sub["locale"].to_numpy() == lc)
        if len(pos) == 0:
            pos = np.flatnonzero(sub["locale"].to_numpy() == "en_US")
        out[idx] = pos[rng.integers(0, len(pos), len(idx))]
    return sub, out


def _phone_prefixes(templates: pd.Series) -> np.ndarray:
    """Each phone template without its last four digits (and what follows them)."""
    return templates.str.replace(r"\d\D*\d\D*\d\D*\d\D*$", "", regex=True).to_numpy()


@dataclass(frozen=True)
class _PoolKind:
    """The pool rows of one ``kind``, indexed for :func:`_pick_indexed` (built once per pool).

    Row order is that of ``pool[pool["kind"] == kind]``, so positions equal :func:`_pick`'s.
    """

    by_locale: dict[str, np.ndarray]  # locale -> positions of its rows
    value: pa.Array  # the ``value`` column as Arrow strings (what ``take_str`` builds)
    ascii: np.ndarray  # the ``ascii`` column (object array of str)
    value_prefix: pa.Array | None  # phone templates without their last four digits


#: ``(id(pool), kind) -> (pool, _PoolKind)``; the pool is kept to check the id is still it.
_POOL_KINDS: dict[tuple[int, str], tuple[pd.DataFrame, _PoolKind]] = {}


def _pool_kind(pool: pd.DataFrame, kind: str) -> _PoolKind:
    """The cached :class:`_PoolKind` of ``kind`` in ``pool`` (the pools are read-only)."""
    key = (id(pool), kind)
    hit = _POOL_KINDS.get(key)
    if hit is not None and hit[0] is pool:
        return hit[1]
    sub = pool[pool["kind"] == kind].reset_index(drop=True)
    codes, locs = pd.factorize(sub["locale"].to_numpy(dtype=object))
    order = np.argsort(codes, kind="stable")  # rows grouped by locale, pool order inside
    bounds = np.searchsorted(codes[order], np.arange(len(locs) + 1))
    by_locale = {str(lc): order[bounds[k]:bounds[k + 1]] for k, lc in enumerate(locs)}
    value = pa.array(sub["value"].to_numpy(dtype=object), type=pa.string())
    prefix = (pa.array(np.asarray(_phone_prefixes(sub["value"]), dtype=object),
                       type=pa.string()) if kind == "phone" else None)
    pk = _PoolKind(by_locale, value, sub["ascii"].to_numpy(), prefix)
    if len(_POOL_KINDS) > 64:
        _POOL_KINDS.clear()
    _POOL_KINDS[key] = (pool, pk)
    return pk


def _pick_indexed(rng: np.random.Generator, pk: _PoolKind, codes: np.ndarray,
                  locales: np.ndarray) -> np.ndarray:
    """Same draws and result as ``_pick(...)[1]``, from the locale index of the kind."""
    none = np.zeros(0, dtype=np.int64)
    out = np.empty(len(codes), dtype=np.int64)
    for k, lc in enumerate(locales):
        idx = np.flatnonzero(codes == k)
        pos = pk.by_locale.get(lc)
        if pos is None:  # locale without its own pool: en_US
            pos = pk.by_locale.get("en_US", none)
        out[idx] = pos[rng.integers(0, len(pos), len(idx))]
    return out


def _b2c_weights(stores: pd.DataFrame, markets: list[str]) -> np.ndarray:
    """Summed ``size_weight`` of the B2C stores per market of ``markets`` (0 if none).

    Same numbers as ``stores[stores["model"] == "B2C"].groupby("market")["size_weight"]
    .sum().reindex(markets).fillna(0)``: a groupby on one integer key adds the same rows in
    the same order (pandas' compensated sum), without filtering and re-indexing frames.
    """
    b2c = (stores["model"] == "B2C").to_numpy(dtype=bool)
    mk = stores["market"].astype(str).to_numpy(dtype=object)[b2c]
    code = pd.Index(markets).get_indexer(mk)  # -1: a market outside the list (dropped)
    sums = pd.Series(stores["size_weight"].to_numpy(dtype=float)[b2c]).groupby(code).sum()
    return sums.reindex(range(len(markets))).fillna(0).to_numpy(float)


def build(ctx: Context) -> dict[str, pd.DataFrame]:
    rng = ctx.rng("customers")
    cat = ctx.catalog
    n = n_customers_for(ctx.n_orders)
    # customers per market in proportion to the market's expected orders (its B2C stores)
    w = _b2c_weights(ctx.tables["stores"], list(ctx.markets))
    if w.sum() <= 0:
        w = cat.markets.loc[list(ctx.markets), "demand_weight"].to_numpy(float)
    w = w + 1e-3 * w.sum()
    m_code = rng.choice(len(w), size=n, p=w / w.sum())
    m_code[: 5 * len(w)] = np.arange(5 * len(w)) % len(w)  # every market has buyers
    market = categorical(m_code, ctx.markets)
    codes, locales = pd.factorize(cat.markets.loc[list(ctx.markets), "locale"].to_numpy()[m_code],
                                  sort=True)
    pool = pools()

    def pick(kind: str) -> tuple[_PoolKind, np.ndarray, pa.Array]:
        pk = _pool_kind(pool, kind)
        i = _pick_indexed(rng, pk, codes, locales)
        return pk, i, take_str(pk.value, i)

    fpk, fi, first = pick("first_name")
    lpk, li, last = pick("last_name")
    a_first = fpk.ascii[fi]
    a_last = lpk.ascii[li]
    # non-Latin names (ja, ko, ru, ar, th …) get a romanised-looking handle from en_US
    en_f = fpk.ascii[fpk.by_locale.get("en_US", np.zeros(0, dtype=np.int64))]
    en_l = lpk.ascii[lpk.by_locale.get("en_US", np.zeros(0, dtype=np.int64))]
    a_first = np.where(a_first == "", en_f[rng.integers(0, len(en_f), n)], a_first)
    a_last = np.where(a_last == "", en_l[rng.integers(0, len(en_l), n)], a_last)
    sep = np.array([".", "_", ""], dtype=object)[rng.integers(0, 3, n)]
    email = join_str(a_first, sep, a_last, rng.integers(1, 9999, n), "@",
                     pick("email_domain")[2])
    street = join_str(rng.integers(1, 400, n), " ", pick("street_name")[2])
    ppk, pi, _ = pick("phone")
    phone = join_str(take_str(ppk.value_prefix, pi),
                     np.char.zfill(rng.integers(0, 10_000, n).astype(str), 4))
    df = pd.DataFrame({
        "customer_id": str_series(id_array("C", n, width=7)),
        "market": market, "first_name": str_series(first), "last_name": str_series(last),
        "email": str_series(email), "phone": str_series(phone),
        "street_address": str_series(street), "city": str_series(pick("city")[2]),
        "postcode": str_series(pick("postcode")[2]),
        "age_band": categorical(rng.choice(5, n, p=[0.17, 0.33, 0.25, 0.15, 0.10]), AGE_BANDS),
        "segment": categorical(rng.choice(4, n, p=[0.35, 0.2, 0.1, 0.35]), SEGMENTS),
        "acquisition_channel": categorical(
            rng.choice(7, n, p=[0.34, 0.2, 0.14, 0.06, 0.05, 0.14, 0.07]), CHANNELS),
        "signup_at": pd.NaT,  # set by the orders stage
    })
    return {"customers": df}
