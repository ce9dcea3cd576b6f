"""Form assembly and exam building: ``cbec exam build``.

Parallel forms of matched difficulty
------------------------------------
Every form gets the same *profile* per unit: for a unit with ``n`` items the number of items
of each (difficulty, points) stratum is allocated once, in proportion to the unit's pool
(largest remainder, capped by what the pool has). Forms then differ only in which items fill
each stratum, so every form has the same number of items, the same total difficulty and the
same points per unit. Within a stratum items are taken by least use so far (exposure
balancing: forms share as few items as the bank allows), ties broken by a random key from a
seeded RNG (keyed with the course secret, so forms cannot be predicted without it). One
form never holds two items with the same answer variable (answers are captured by name).

With ``forms: K`` in the blueprint, K forms are built and candidates are spread over them in
an order derived from the secret (balanced counts; α per form can then be computed); without
it every candidate gets a form of their own. Every candidate always gets their own dataset:
``seed = HMAC(secret, candidate, "exam:<id>:<session>")`` (:func:`graders.variants.derive_seed`).

Output (``--out DIR``)::

    DIR/packs/<cid>/exam.ipynb, data/*.csv, data/schema.json   what the candidate gets
    DIR/packs/<cid>.zip                                        the same as one zip
    DIR/server/manifest.json        forms, items, dataset fingerprints, window, receipts
    DIR/server/notebooks/<cid>.ipynb  the pack notebook as issued (integrity reference)
    DIR/server/blueprint.yaml       the blueprint as used

No seed or secret is written anywhere; the server folder never goes to candidates.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import string
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from graders.exam.blueprint import Blueprint, ExamError, UnitSpec, course_units, pool

MARKER = ".cbec-exam"
MANIFEST = "server/manifest.json"
MANIFEST_VERSION = 1


def profile(spec: UnitSpec) -> dict[tuple[int, float], int]:
    """How many items of each (difficulty, points) stratum every form draws for ``spec``
    (the same for all forms, so forms match in difficulty and in points)."""
    items = pool(spec)
    have = Counter((e.difficulty, float(e.points)) for e in items)
    total = sum(have.values())
    if total < spec.items:
        raise ExamError(f"unit {spec.id}: needs {spec.items} items, the bank has {total}")
    quota = {k: spec.items * n / total for k, n in have.items()}
    out = {k: min(have[k], int(q)) for k, q in quota.items()}
    while sum(out.values()) < spec.items:
        open_ = [k for k in have if out[k] < have[k]]
        k = max(open_, key=lambda k: (quota[k] - out[k], have[k], -k[0]))
        out[k] += 1
    return {k: n for k, n in sorted(out.items()) if n}


def _rng(key: str) -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8],
                                                "big"))


def assemble_form(bp: Blueprint, key: str, usage: dict[str, int]) -> list[Any]:
    """One form (a list of exercises, unit by unit, easiest first) drawn to ``bp``.
    ``key`` seeds the random tie-break; ``usage`` counts earlier forms' items and is
    updated."""
    rng = _rng(key)
    chosen: list[Any] = []
    answers: set[str] = set()
    for spec in bp.units:
        items = pool(spec)
        for (d, pts), k in profile(spec).items():
            stratum = [e for e in items if e.difficulty == d and float(e.points) == pts]
            keys = rng.random(len(stratum))
            order = sorted(range(len(stratum)), key=lambda i: (usage.get(stratum[i].id, 0),
                                                               keys[i]))
            took = 0
            for i in order:
                e = stratum[i]
                if took == k:
                    break
                if e.answer in answers:
                    continue
                chosen.append(e)
                answers.add(e.answer)
                took += 1
            if took < k:
                raise ExamError(f"{bp.path}: unit {spec.id}: cannot draw {k} items of difficulty "
                                f"{d} with distinct answer variables (other units use the same "
                                "names); lower items for this unit")
    for e in chosen:
        usage[e.id] = usage.get(e.id, 0) + 1
    return chosen


def form_label(i: int) -> str:
    letters = string.ascii_uppercase
    return letters[i] if i < 26 else f"F{i + 1:02d}"


# -- manifest ------------------------------------------------------------------------------------
def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def read_manifest(exam_dir: str | os.PathLike) -> dict[str, Any]:
    """The server manifest of an exam folder built by ``cbec exam build``."""
    d = Path(exam_dir)
    p = d / MANIFEST
    if not d.is_dir():
        raise ExamError(f"exam folder {d} does not exist; build it with cbec exam build")
    if not p.is_file():
        raise ExamError(f"{d} is not an exam folder (no {MANIFEST}); build it with cbec exam "
                        "build")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ExamError(f"{p}: not valid JSON; restore it from your backup") from None
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        raise ExamError(f"{p}: not a version-{MANIFEST_VERSION} exam manifest")
    return data


def write_manifest(exam_dir: str | os.PathLike, data: dict[str, Any]) -> Path:
    p = Path(exam_dir) / MANIFEST
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".json.partial")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                   encoding="utf-8")
    tmp.replace(p)
    return p


def dataset_key(manifest_or_bp: dict[str, Any] | Blueprint, session: str | None = None) -> str:
    """The variants assignment key of an exam's datasets: ``exam:<id>:<session>``."""
    if isinstance(manifest_or_bp, dict):
        return f"exam:{manifest_or_bp['exam']}:{manifest_or_bp['session']}"
    return f"exam:{manifest_or_bp.id}:{session}"


# -- building ------------------------------------------------------------------------------------
def _candidates(path: Path) -> list[Any]:
    from graders.variants import VariantError, read_roster

    try:
        return read_roster(path, what="candidates file", who="candidate")
    except VariantError as exc:
        raise ExamError(str(exc)) from None


def _check_out(out: Path, course: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExamError(f"--out {out} exists and is not an empty folder; choose a new folder "
                        "(an exam is built once: its forms and datasets are on record)")
    src = (course / "source").resolve()
    if out.resolve() == src or src in out.resolve().parents:
        raise ExamError(f"--out {out} is inside the course source folder; choose a folder "
                        "outside it")


def _pack_job(job: dict[str, Any]) -> dict[str, Any]:
    """Worker: the candidate's world, data files, notebook and zip."""
    import nbformat

    import cbec_sim
    from graders import exercises
    from graders.exam import pack
    from graders.release import zip_folder

    world = cbec_sim.generate(job["orders"], rng=job["seed"])
    dest = Path(job["dest"])
    fp = pack.write_data(world, job["tables"], dest / pack.DATA_DIR)
    items = [{**it, "exercise": exercises.get(it["exercise"])} for it in job["items"]]
    nb = pack.notebook(job["title"], job["candidate"], job["duration"], items)
    nbformat.write(nb, dest / pack.NOTEBOOK)
    Path(job["server_nb"]).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, job["server_nb"])
    zip_path = dest.with_name(dest.name + ".zip")
    zip_folder(dest, zip_path, f"exam-{job['candidate']}")
    return {"candidate": job["candidate"], "fingerprint": fp,
            "cbec_sim_version": str(world.meta.get("cbec_sim_version", "")),
            "zip_sha256": hashlib.sha256(zip_path.read_bytes()).hexdigest()}


def build(blueprint: str | os.PathLike, candidates: str | os.PathLike,
          out: str | os.PathLike, *, course: str | os.PathLike | None = None,
          session: str | None = None, workers: int = 2,
          progress: Callable | None = None) -> dict[str, Any]:
    """Validate the blueprint, assemble forms, write one pack per candidate and the server
    manifest. Returns the manifest."""
    from graders.exam.blueprint import load, validate
    from graders.release import run_jobs
    from graders.variants import derive_seed, ensure_secret

    course = Path(course) if course is not None else Path(__file__).resolve().parents[2] / "course"
    bp = load(blueprint)
    validate(bp, course)
    people = _candidates(Path(candidates))
    out = Path(out)
    _check_out(out, course)
    secret, _created = ensure_secret(course)
    session = session or out.resolve().name
    units = course_units(course)
    n_forms = bp.forms or len(people)
    usage: dict[str, int] = {}
    forms = []
    for i in range(n_forms):
        label = form_label(i)
        key = hashlib.sha256(f"{secret}\0form\0{bp.id}\0{session}\0{i}".encode()).hexdigest()
        forms.append({"form": label, "items": [e.id for e in assemble_form(bp, key, usage)]})
    # spread candidates over forms in a secret-derived order (balanced counts)
    order = sorted(people, key=lambda t: derive_seed(secret, t.id, f"exam-form:{bp.id}:{session}"))
    form_of = {t.id: forms[i % n_forms] for i, t in enumerate(order)} if bp.forms else \
        {t.id: forms[i] for i, t in enumerate(people)}
    from graders import exercises

    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by cbec exam build\n", encoding="utf-8")
    key = dataset_key(bp, session)
    jobs, records = [], {}
    for t in people:
        f = form_of[t.id]
        items = []
        for n, ex_id in enumerate(f["items"], 1):
            ex = exercises.get(ex_id)
            items.append({"q": f"q{n:02d}", "exercise": ex_id, "unit": ex.unit,
                          "unit_title": units[ex.unit]["title_cn"], "difficulty": ex.difficulty,
                          "points": float(ex.points), "answer": ex.answer, "kind": ex.kind})
        tables = sorted({tb for ex_id in f["items"] for tb in exercises.get(ex_id).tables})
        records[t.id] = {"form": f["form"], "items": items, "tables": tables,
                         "n_orders": bp.orders, "pack": f"packs/{t.id}",
                         "zip": f"packs/{t.id}.zip",
                         "name": " ".join(x for x in (t.first_name, t.last_name) if x),
                         "email": t.email or ""}
        jobs.append({"candidate": t.id, "seed": derive_seed(secret, t.id, key),
                     "orders": bp.orders, "tables": tables, "items": items,
                     "title": bp.title_cn, "duration": bp.duration_minutes,
                     "dest": str(out / "packs" / t.id),
                     "server_nb": str(out / "server" / "notebooks" / f"{t.id}.ipynb")})
    (out / "packs").mkdir()
    kw = {"progress": progress} if progress is not None else {}
    try:
        results = run_jobs(_pack_job, jobs, workers=workers, desc="exam packs", **kw)
    except BaseException:
        shutil.rmtree(out / "packs", ignore_errors=True)
        raise
    for r in results:
        records[r["candidate"]].update(fingerprint=r["fingerprint"],
                                       cbec_sim_version=r["cbec_sim_version"],
                                       zip_sha256=r["zip_sha256"])
    shutil.copyfile(bp.path, out / "server" / "blueprint.yaml")
    manifest = {"version": MANIFEST_VERSION, "exam": bp.id, "session": session,
                "title_cn": bp.title_cn, "built_at": iso(now_utc()),
                "course": str(course.resolve()), "blueprint": bp.to_dict(),
                "blueprint_sha256": hashlib.sha256(bp.path.read_bytes()).hexdigest(),
                "forms": forms, "candidates": records,
                "window": {"opened_at": None, "deadline": None, "grace_until": None},
                "receipts": {}, "collections": []}
    write_manifest(out, manifest)
    return manifest
