"""Where the test services are: what ``scripts/ensure-services`` set up under ``.services/``.

Tests marked ``postgres`` or ``browser`` call ``require_postgres()`` / ``require_chromium()``:
a missing service skips the test with the reason on a developer's machine and fails it in CI
(``CI=true``), where ``make test`` must have installed and started everything.

Environment overrides, for a developer with their own server or browser:
``CBEC_TEST_POSTGRES_URL`` (a libpq URL) and ``CBEC_CHROMIUM`` (an executable).
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ROOT / ".services"
HOW_TO_SET_UP = "run `bash scripts/ensure-services` (it installs what is missing when run as root)"

# Flags for headless Chromium on a machine with no network beyond loopback (add
# --user-data-dir=<fresh tmp dir> per launch). Without the background-networking ones Chromium
# keeps trying to reach Google's hosts.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _recorded(name: str) -> str | None:
    try:
        return (SERVICES / name).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _accepts_connections(url: str, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout):
            return True
    except OSError:
        return False


def postgres_url(*, sqlalchemy: bool = False) -> str | None:
    """libpq URL of a running test server, or None.

    With ``sqlalchemy=True`` the scheme names the psycopg 3 driver (``postgresql+psycopg://``);
    SQLAlchemy's plain ``postgresql://`` would look for psycopg2, which is not installed.
    """
    url = os.environ.get("CBEC_TEST_POSTGRES_URL") or _recorded("postgres.url")
    if not url or not _accepts_connections(url):
        return None
    if sqlalchemy:
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _executable(*candidates: str | None) -> str | None:
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def chromium_path() -> str | None:
    """Path of a headless-capable Chromium, or None."""
    return _executable(
        os.environ.get("CBEC_CHROMIUM"),
        _recorded("chromium.path"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    )


def chromedriver_path() -> str | None:
    """Path of the ChromeDriver matching Debian's Chromium, or None."""
    return _executable(_recorded("chromedriver.path"), shutil.which("chromedriver"))


def _missing(what: str) -> NoReturn:
    reason = f"{what} is not available: {HOW_TO_SET_UP}"
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing service fails the test)", pytrace=False)
    pytest.skip(reason)


def require_postgres(*, sqlalchemy: bool = False) -> str:
    """The test server's URL; skip the test locally, or fail it in CI, when there is none."""
    url = postgres_url(sqlalchemy=sqlalchemy)
    if url is None:
        _missing("PostgreSQL")
    return url


def require_chromium() -> str:
    """Chromium's path; skip the test locally, or fail it in CI, when there is none."""
    path = chromium_path()
    if path is None:
        _missing("Chromium")
    return path
