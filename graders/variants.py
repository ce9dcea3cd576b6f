"""Per-trainee variants: the course secret, seeds derived from it, rosters and world sizes.

Every trainee gets their own simulated world for every assignment, with seed::

    seed = HMAC-SHA256(key=course_secret, msg="cbec-variant-v1\\0<trainee id>\\0<assignment>")
           → first 8 bytes, big-endian, shifted right by one bit (a 63-bit integer)

so datasets differ per trainee and per assignment, can always be re-derived for grading, and
cannot be guessed without the secret. The secret comes from ``$CBEC_COURSE_SECRET`` or the file
``<course>/.cbec-secret`` (created on the first release with a roster, mode 0600, never
committed, never released). Seeds are never written anywhere trainees can see.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

SECRET_ENV = "CBEC_COURSE_SECRET"
SECRET_FILE = ".cbec-secret"
DEFAULT_ORDERS = 3000
_DOMAIN = b"cbec-variant-v1"
_BAD_ID = re.compile(r"[/\\\s\x00-\x1f\x7f]")


class VariantError(ValueError):
    """A user-facing problem (one line: which file/field is wrong and what to do)."""


# -- secret ------------------------------------------------------------------------------------
def secret_path(course: Path) -> Path:
    return Path(course) / SECRET_FILE


def course_secret(course: Path | None = None) -> str | None:
    """The course secret from ``$CBEC_COURSE_SECRET`` or ``<course>/.cbec-secret``; ``None``
    when there is none (the course then releases no variants)."""
    env = os.environ.get(SECRET_ENV)
    if env is not None:
        if not env.strip():
            raise VariantError(f"${SECRET_ENV} is set but empty; unset it or set it to the "
                               "course secret")
        return env.strip()
    if course is None:
        return None
    p = secret_path(course)
    if not p.exists():
        return None
    try:
        value = p.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise VariantError(f"{p}: cannot read the course secret ({type(exc).__name__}); "
                           "restore it from your backup") from None
    if not value:
        raise VariantError(f"{p}: the course secret file is empty; restore it from your backup "
                           "(trainee datasets cannot be re-derived without it)")
    return value


def ensure_secret(course: Path) -> tuple[str, bool]:
    """The course secret, creating ``<course>/.cbec-secret`` (mode 0600) when there is none.
    Returns ``(secret, created)``."""
    found = course_secret(course)
    if found is not None:
        return found, False
    p = secret_path(course)
    value = secrets.token_hex(32)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    os.chmod(p, 0o600)
    return value, True


def derive_seed(secret: str, trainee_id: str, assignment: str) -> int:
    """The 63-bit simulator seed of ``trainee_id``'s world for ``assignment`` (HMAC-SHA256)."""
    if not secret:
        raise VariantError("the course secret is empty")
    msg = b"\0".join([_DOMAIN, trainee_id.encode("utf-8"), assignment.encode("utf-8")])
    digest = hmac.new(secret.encode("utf-8"), msg, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1


# -- roster ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trainee:
    id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None

    def gradebook_fields(self) -> dict[str, str]:
        return {k: v for k, v in (("first_name", self.first_name),
                                  ("last_name", self.last_name),
                                  ("email", self.email)) if v}


def id_problem(trainee_id: str) -> str | None:
    """Why ``trainee_id`` cannot be an nbgrader student folder name, or ``None``."""
    if not trainee_id:
        return "is blank"
    if trainee_id.startswith("."):
        return "starts with a dot"
    m = _BAD_ID.search(trainee_id)
    if m:
        ch = m.group(0)
        what = {"/": "a slash '/'", "\\": "a backslash '\\'"}.get(ch, "whitespace or a "
                                                                  "control character")
        return f"contains {what}"
    return None


def read_roster(path: str | os.PathLike, *, what: str = "roster",
                who: str = "trainee") -> list[Trainee]:
    """Read a roster CSV: a header row with ``id`` (or ``student_id``) and optionally
    ``first_name``, ``last_name``, ``email``; UTF-8 with or without BOM. ``what`` and ``who``
    name the file and the people in error messages (e.g. ``"candidates file"``,
    ``"candidate"``)."""
    p = Path(path)
    if not p.is_file():
        raise VariantError(f"{what} {p}: file does not exist; give a CSV with a header row "
                           "and an 'id' column")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise VariantError(f"{what} {p}: not UTF-8 (byte {exc.start}); save it as UTF-8 CSV") \
            from None
    rows = list(csv.reader(text.splitlines()))
    lines = [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not lines:
        raise VariantError(f"{what} {p}: the file is empty; add a header row 'id' and one "
                           f"{who} id per line")
    header_line, header = lines[0]
    cols = [h.strip().lower() for h in header]
    key = "id" if "id" in cols else "student_id" if "student_id" in cols else None
    if key is None:
        raise VariantError(f"{what} {p}, line {header_line}: no 'id' column in the header "
                           f"({', '.join(h.strip() for h in header) or 'empty'}); name the "
                           f"column of {who} ids 'id'")
    idx = {c: i for i, c in enumerate(cols)}
    out: list[Trainee] = []
    seen: dict[str, int] = {}
    for line, row in lines[1:]:
        def get(col: str, row=row) -> str | None:
            i = idx.get(col)
            if i is None or i >= len(row):
                return None
            return row[i].strip() or None

        raw = row[idx[key]] if idx[key] < len(row) else ""
        tid = raw.strip()
        problem = id_problem(tid) if tid else "is blank"
        if problem:
            raise VariantError(f"{what} {p}, line {line}, field '{key}': {who} id "
                               f"{raw!r} {problem}; use letters, digits, '-', '_' or '.'")
        if tid in seen:
            raise VariantError(f"{what} {p}, line {line}, field '{key}': duplicate {who} id "
                               f"{tid!r} (first on line {seen[tid]}); ids must be unique")
        seen[tid] = line
        out.append(Trainee(tid, get("first_name"), get("last_name"), get("email")))
    if not out:
        raise VariantError(f"{what} {p}: it lists no {who}s; add one {who} id per line "
                           "under the header")
    return out


def write_roster(path: Path, trainees: list[Trainee]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["id", "first_name", "last_name", "email"])
        for t in trainees:
            w.writerow([t.id, t.first_name or "", t.last_name or "", t.email or ""])


# -- curriculum --------------------------------------------------------------------------------
def curriculum(course: Path) -> dict | None:
    """``<course>/curriculum.yaml`` as a dict, or ``None`` when the course has none."""
    p = Path(course) / "curriculum.yaml"
    if not p.is_file():
        return None
    import yaml

    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise VariantError(f"{p}{where}: not valid YAML; fix the file") from None
    if not isinstance(data, dict):
        raise VariantError(f"{p}: expected a mapping with 'modules'; fix the file")
    return data


def module_ids(course: Path) -> list[str] | None:
    """Assignment ids listed in curriculum.yaml (``None`` without a curriculum)."""
    data = curriculum(course)
    if data is None:
        return None
    return [str(m.get("id")) for m in data.get("modules") or [] if isinstance(m, dict)]


def world_orders(course: Path, assignment: str) -> int:
    """Orders in a trainee world for ``assignment``: ``modules[].dataset.orders`` in
    curriculum.yaml, else :data:`DEFAULT_ORDERS`."""
    data = curriculum(course) or {}
    for m in data.get("modules") or []:
        if isinstance(m, dict) and str(m.get("id")) == assignment:
            ds = m.get("dataset") or {}
            n = ds.get("orders") if isinstance(ds, dict) else None
            if n is None:
                break
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise VariantError(f"{Path(course) / 'curriculum.yaml'}: module {assignment}, "
                                   f"field dataset.orders = {n!r}; give a positive integer")
            return n
    return DEFAULT_ORDERS


def check_output_folder(course: Path, folder: Path, marker: str, writer: str) -> None:
    """Refuse an output ``folder`` inside the course's source folder (nbgrader copies it over
    submissions) or one that holds files not written by ``writer`` (recognised by ``marker``)."""
    src = (Path(course) / "source").resolve()
    res = Path(folder).resolve()
    if res == src or src in res.parents:
        raise VariantError(f"--out {folder} is inside the source folder {src}; choose a folder "
                           "outside it (nbgrader copies the source folder over submissions)")
    if folder.exists():
        if not folder.is_dir():
            raise VariantError(f"{folder} exists and is not a folder; choose another --out")
        if any(folder.iterdir()) and not (folder / marker).is_file():
            raise VariantError(f"{folder} exists and was not written by {writer}; choose an "
                               "empty or new folder, or move it away")
