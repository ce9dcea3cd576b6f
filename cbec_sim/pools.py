"""Name and address pools per locale, built once with Faker and shipped as a data file.

Run ``python -m cbec_sim.pools`` to rebuild ``data/pools.csv.gz``. Generators only sample
from the shipped pools (never call Faker per row), so worlds are fast and identical on any
machine whatever Faker version is installed.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

POOL_FILE = "pools.csv.gz"
KINDS = {"first_name": 250, "last_name": 250, "street_name": 120, "city": 120,
         "postcode": 150, "phone": 60, "email_domain": 8}


def _ascii(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if c.isascii() and c.isalnum())


def build_pools(locales: list[str], seed: int = 20240101) -> pd.DataFrame:
    """Sample pools with Faker (only here). Columns: locale, kind, value, ascii."""
    from faker import Faker

    rows = []
    fallback = Faker("en_US")
    fallback.seed_instance(seed)
    for loc in sorted(set(locales)):
        f = Faker(loc)
        f.seed_instance(seed)
        for kind, n in KINDS.items():
            method = {"email_domain": "free_email_domain", "phone": "phone_number"}.get(kind, kind)
            src = f if hasattr(f, method) else fallback
            try:
                values = {getattr(src, method)() for _ in range(n * 3)}
            except AttributeError:
                values = {getattr(fallback, method)() for _ in range(n * 3)}
            if kind == "first_name" and len(values) < n // 4:  # e.g. vi_VN returns John/Jane
                values = {getattr(f, m)() for m in ("first_name_male", "first_name_female")
                          for _ in range(n * 2)}
            if kind == "phone":
                values = {v for v in values if "x" not in v}
            values = sorted(v.replace("\n", ", ") for v in values)[:n]
            rows += [(loc, kind, v, _ascii(v).lower()) for v in values]
    return pd.DataFrame(rows, columns=["locale", "kind", "value", "ascii"])


@cache
def pools() -> pd.DataFrame:
    """The shipped pools (cached per process)."""
    path = resources.files("cbec_sim").joinpath("data", POOL_FILE)
    with resources.as_file(path) as p:
        return pd.read_csv(p, keep_default_na=False, dtype=str)


def main() -> None:
    from cbec_sim.catalog import catalog

    # market locales, plus zh_CN for Chinese consumers of the B2B2C import flow
    locales = sorted(set(catalog().markets["locale"]) | {"zh_CN"})
    out = Path(__file__).with_name("data") / POOL_FILE
    build_pools(locales).to_csv(out, index=False, compression={"method": "gzip", "mtime": 0})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
