"""``cbec demo --exam``: a small exam end to end on simulated candidates.

validate ``course/exams/default.yaml`` → build forms and packs for 4 candidates (a private
course copy with its own secret under ``out``) → open the window → simulated candidates fill
their pack notebooks (solution, known-mistake or blank answers chosen by a logistic IRT model
as in :mod:`graders.cohort`; one candidate also tries ``import cbec_sim`` and edits the setup
cell) → collect on time → the last candidate's file arrives after the window (the demo moves
the server clock forward instead of waiting two hours) → collect → grade in the sandbox →
report. The grades are compared with what the simulation chose.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np

KIT = Path(__file__).resolve().parents[2]
BLUEPRINT = KIT / "course" / "exams" / "default.yaml"
CANDIDATES = (("cand-01", "Li", "Wei"), ("cand-02", "Wang", "Fang"),
              ("cand-03", "Zhang", "Min"), ("cand-04", "<b>Chen</b>", "Jie"))
ABILITY = {"cand-01": 1.5, "cand-02": 0.3, "cand-03": -0.8, "cand-04": 0.8}
LATE = "cand-04"
CHEAT = "cand-03"


@dataclass
class ExamDemo:
    exam: Path
    inbox: Path
    report: dict[str, Path]
    truth: dict[str, dict[str, str]] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)


def _answers(rng: np.random.Generator, items: list[dict], theta: float
             ) -> dict[str, tuple[str, str | None]]:
    """Per item q: (outcome, code) — solution / mistake / blank."""
    from graders import exercises
    from graders.cohort import p_correct

    out: dict[str, tuple[str, str | None]] = {}
    for it in items:
        ex = exercises.get(it["exercise"])
        if rng.random() < p_correct(theta, int(it["difficulty"])):
            out[it["q"]] = ("solution", ex.solution)
        elif ex.mistakes and rng.random() < 0.7:
            out[it["q"]] = ("mistake", ex.mistakes[int(rng.integers(len(ex.mistakes)))].code)
        else:
            out[it["q"]] = ("blank", None)
    return out


def _fill(pack_nb: Path, dest: Path, answers: dict[str, tuple[str, str | None]],
          cheat: bool) -> None:
    nb = json.loads(pack_nb.read_text(encoding="utf-8"))
    for c in nb["cells"]:
        cb = c.get("metadata", {}).get("cbec", {})
        if cb.get("role") == "answer":
            _outcome, code = answers[cb["item"]]
            if code is not None:
                c["source"] = code
        elif cb.get("role") == "setup" and cheat:
            c["source"] = "".join(c["source"]) + "\nprint('edited setup')\n"
    if cheat:
        nb["cells"].insert(2, {"cell_type": "code", "metadata": {}, "outputs": [],
                               "execution_count": None, "id": "cheat-1",
                               "source": "import cbec_sim\nimport graders.exercises"})
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")


def _expected_points(m: dict, cid: str, answers: dict, secret: str, tmp: Path) -> dict:
    """What a correct grader gives each item: the chosen code judged in-process."""
    from graders import exercises
    from graders.exam.grade import candidate_world

    world = candidate_world(m, cid, secret, tmp / cid)
    out = {}
    for it in m["candidates"][cid]["items"]:
        ex = exercises.get(it["exercise"])
        outcome, code = answers[it["q"]]
        ok = False
        if code is not None:
            try:
                ok = ex.evaluate(ex.run(code, world), world).correct
            except Exception:
                ok = False
        out[it["q"]] = (outcome, float(it["points"]) if ok else 0.0)
    return out


def run_exam_demo(out: str | Path, *, echo: Callable[[str], None] = print,
                  workers: int = 2, blueprint: Path = BLUEPRINT) -> ExamDemo:
    """Run the whole exam path under ``out`` (replaced) with ``blueprint`` (default: the
    kit's ``course/exams/default.yaml``); returns paths and mismatches."""
    import tempfile

    from graders.exam.blueprint import load, validate
    from graders.exam.forms import build, now_utc, parse_iso, read_manifest
    from graders.exam.grade import grade
    from graders.exam.report import write_report
    from graders.exam.timing import collect, open_exam
    from graders.variants import course_secret, ensure_secret

    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    course = out / "course"
    course.mkdir(parents=True)
    shutil.copyfile(KIT / "course" / "curriculum.yaml", course / "curriculum.yaml")
    env_secret = os.environ.pop("CBEC_COURSE_SECRET", None)  # the demo uses its own secret
    try:
        ensure_secret(course)
        secret = course_secret(course)
        assert secret is not None
        bp = load(blueprint)
        validate(bp, course)
        shown = blueprint.relative_to(KIT) if blueprint.is_relative_to(KIT) else blueprint
        echo(f"  blueprint ok:     {shown} ({len(bp.units)} units, "
             f"{sum(u.items for u in bp.units)} items, {bp.forms} forms)")
        cands = out / "candidates.csv"
        cands.write_text("id,first_name,last_name\n" + "".join(
            f"{c},{f},{last}\n" for c, f, last in CANDIDATES), encoding="utf-8")
        exam = out / "exam"
        build(blueprint, cands, exam, course=course, session="demo", workers=workers)
        m = read_manifest(exam)
        echo(f"  packs built:      {exam / 'packs'}/ ({len(m['candidates'])} candidates, "
             f"{len(m['forms'])} forms)")
        window = open_exam(exam)
        inbox = out / "inbox"
        inbox.mkdir()
        rng = np.random.default_rng(2025)
        truth: dict[str, dict] = {}
        chosen: dict[str, dict] = {}
        with tempfile.TemporaryDirectory(prefix="cbec-exam-demo-") as tmp:
            for cid, _f, _l in CANDIDATES:
                items = m["candidates"][cid]["items"]
                chosen[cid] = _answers(rng, items, ABILITY[cid])
                truth[cid] = _expected_points(m, cid, chosen[cid], secret, Path(tmp))
                if cid == LATE and bp.late.policy == "reject":  # graded 0 by the policy
                    truth[cid] = {q: (o, 0.0) for q, (o, _p) in truth[cid].items()}
                if cid != LATE:
                    _fill(exam / "packs" / cid / "exam.ipynb", inbox / cid / "exam.ipynb",
                          chosen[cid], cheat=cid == CHEAT)
            collect(exam, inbox)
            _fill(exam / "packs" / LATE / "exam.ipynb", inbox / LATE / "exam.ipynb",
                  chosen[LATE], cheat=False)
            later = parse_iso(window["grace_until"]) + timedelta(minutes=7)
            collect(exam, inbox, now=max(later, now_utc()))
        echo(f"  window:           opened {window['opened_at']}, deadline {window['deadline']};"
             f" {LATE} arrives after the grace period (simulated server clock)")
        res = grade(exam, workers=workers, timeout=300, force=True)  # simulated clock
        rep = write_report(exam)
    finally:
        if env_secret is not None:
            os.environ["CBEC_COURSE_SECRET"] = env_secret
    demo = ExamDemo(exam, inbox, rep, {c: {q: o for q, (o, _p) in t.items()}
                                       for c, t in truth.items()})
    for g in res["grades"]:
        exp = truth[g["student"]]
        for i in g["items"]:
            want = exp[i["grade_id"]][1]
            if abs((i["points"] or 0.0) - want) > 1e-9:
                demo.mismatches.append(f"{g['student']} {i['grade_id']} ({i['exercise']}): "
                                       f"graded {i['points']}, expected {want}")
    return demo



def echo_exam_demo(out: str | Path, echo: Callable[[str], None],
                   blueprint: Path = BLUEPRINT) -> ExamDemo:
    """Run the exam demo for ``cbec demo --exam`` and print where everything is; a
    disagreement between grades and the simulation is an error."""
    from graders.exam.blueprint import ExamError

    echo(f"cbec demo --exam: a small exam end to end in {out}/")
    d = run_exam_demo(out, echo=echo, blueprint=blueprint)
    echo(f"  candidate packs:  {d.exam / 'packs'}/<id>/ and <id>.zip")
    echo(f"  server manifest:  {d.exam / 'server' / 'manifest.json'} (forms, fingerprints, "
         "window, receipts)")
    echo(f"  inbox (simulated submissions): {d.inbox}/")
    echo(f"  audit records:    {d.exam / 'server' / 'audit.jsonl'}")
    echo(f"  cohort summary:   {d.report['cohort_html']}")
    echo(f"  candidate pages:  {d.report['candidate_pages']}/<id>.html")
    echo(f"  tables:           {d.report['candidates_csv']}, {d.report['forms_csv']}")
    if d.mismatches:
        raise ExamError(f"exam demo: grading disagrees with the simulated answers on "
                        f"{len(d.mismatches)} items; first: {d.mismatches[0]}")
    echo("  grades match the simulated answers on every item")
    return d
