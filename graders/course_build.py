"""The authoring pipeline of the nbgrader course: sync master notebooks with the exercise
definitions, and build the released trainee notebooks in ``notebooks/``.

* :func:`sync` runs :func:`graders.cells.sync_notebook` on every master
  ``course/source/<module>/NN.MM-Title.ipynb`` and writes back the ones that changed;
* :func:`build` runs real nbgrader (``nbgrader generate_assignment``) on a temporary copy of the
  course, normalises the result (no outputs, stable JSON) and writes
  ``<out>/<module>/NN.MM-Title.ipynb``, the module's other files and ``<out>/README.md``.
  Rebuilding gives byte-identical files.

Every bad input raises :class:`CourseError` with one line naming the file and what to do.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from graders import cells
from graders.nbg import nbgrader_failure, run_nbgrader
from graders.nbstrip import strip_notebook

NOTEBOOK_RE = re.compile(r"^(\d\d\.\d\d)-([^\s/]+)\.ipynb$")
MODULE_RE = re.compile(r"^(\d\d)-[a-z0-9][a-z0-9-]*$")
# What never goes into a temporary course copy or a released module.
IGNORED = (".ipynb_checkpoints", ".cbec", "__pycache__", ".DS_Store", "*.pyc")
# Text that must never appear in a released file.
LEAK_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("a solution region", re.compile(r"(BEGIN|END) SOLUTION")),
    ("a hidden test", re.compile(r"(BEGIN|END) HIDDEN TESTS|\.grade\(")),
    ("a seed", re.compile(r"\bseed\b\s*['\"]?\s*[=:]|\brng\s*=\s*\d", re.IGNORECASE)),
    ("a secret", re.compile(r"secret\w*\s*['\"]?\s*[=:]|\bhmac\b", re.IGNORECASE)),
)
TEXT_SUFFIXES = {".ipynb", ".md", ".json", ".csv", ".txt", ".py", ".yaml", ".yml"}
README_INTRO = """\
# notebooks/

The released trainee notebooks, generated from `course/source/` by `cbec course build`: solutions
and hidden tests removed, outputs and volatile metadata stripped (`graders/nbstrip.py`), nbgrader
cell metadata kept. Never edit them by hand; change the master notebook in `course/source/` and
run `cbec course build` again. The tests check that this folder matches a fresh build and leaks no
solutions, hidden tests, seeds or expected values, and `make test` runs every notebook here with
nbval (sanitised by `tests/nbval_sanitize.cfg`).
"""


class CourseError(ValueError):
    """A user error in the course folder; the message is one line naming the file."""


@dataclass(frozen=True)
class Master:
    """A master notebook ``source/<module>/NN.MM-Title.ipynb``."""

    module: str
    path: Path
    notebook: str  # "NN.MM"
    title: str


@dataclass(frozen=True)
class SyncResult:
    master: Master
    changed: bool
    expanded: int = 0  # placeholders turned into cells
    refreshed: int = 0  # generated cells rewritten from the definitions

    def describe(self) -> str:
        if not self.changed:
            return "up to date"
        parts = []
        if self.expanded:
            parts.append(f"expanded {self.expanded} placeholder(s)")
        if self.refreshed:
            parts.append(f"refreshed {self.refreshed} generated cell(s)")
        return "updated: " + (", ".join(parts) if parts else "generated cells reordered")


@dataclass
class BuildResult:
    out: Path
    written: list[Path] = field(default_factory=list)  # new or changed files
    removed: list[Path] = field(default_factory=list)
    unchanged: int = 0
    modules: list[str] = field(default_factory=list)


def source_dir(course: Path) -> Path:
    return Path(course) / "source"


def module_dirs(course: Path) -> list[Path]:
    """Assignment folders of the course (non-hidden folders of ``source/``), sorted."""
    src = source_dir(course)
    if not src.is_dir():
        return []
    return sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def assignments(course: Path) -> list[str]:
    return [p.name for p in module_dirs(course)]


def resolve_assignment(course: Path, assignment: str | None) -> list[str]:
    """The modules to work on: ``[assignment]`` if it exists, else every module."""
    known = assignments(course)
    if assignment is None:
        return known
    if assignment not in known:
        shown = ", ".join(known) if known else "none yet"
        raise CourseError(f"no assignment {assignment!r} in {source_dir(course)} "
                          f"(known: {shown}); check the name")
    return [assignment]


def masters(course: Path, assignment: str | None = None) -> list[Master]:
    """Master notebooks of ``assignment`` (default: all), in module and notebook order."""
    out: list[Master] = []
    for module in resolve_assignment(course, assignment):
        for path in sorted((source_dir(course) / module).glob("*.ipynb")):
            m = NOTEBOOK_RE.match(path.name)
            if not m:
                raise CourseError(f"{path}: master notebooks must be named NN.MM-Title.ipynb "
                                  "(e.g. 00.02-Data.ipynb); rename it")
            out.append(Master(module, path, m.group(1), m.group(2)))
    return out


def read_notebook(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # invalid JSON or notebook format
        msg = " ".join(str(exc).split())[:160]
        raise CourseError(f"{path}: not a readable notebook ({type(exc).__name__}: {msg}); "
                          "fix or restore it") from None


GENERATED_ROLES = ("setup", "statement", "answer", "test")


def _generated(cell) -> bool:
    return cell.get("metadata", {}).get("cbec", {}).get("role") in GENERATED_ROLES


def nbgrader_problem(nb: nbformat.NotebookNode) -> str | None:
    """What nbgrader's own metadata validator rejects in ``nb`` (one line), else None."""
    import logging

    from nbgrader.nbgraderformat import MetadataValidator

    logging.getLogger("traitlets").setLevel(logging.ERROR)
    try:
        MetadataValidator().validate_nb(nb)
    except Exception as exc:
        msg = getattr(exc, "message", None) or str(exc).splitlines()[0]
        return (f"nbgrader metadata: {msg} (grade ids may use only letters, digits, _ and -, "
                "and must be unique)")
    return None


def _placeholders(nb) -> int:
    return sum(1 for c in nb.cells
               if not _generated(c) and cells.PLACEHOLDER.match(c.source.strip()))


def sync_master(master: Master, *, write: bool = True) -> SyncResult:
    """Sync one master notebook; write it back (as Jupyter writes it) when it changed."""
    nb = read_notebook(master.path)
    try:
        new, changed = cells.sync_notebook(nb, master.notebook)
    except cells.SyncError as exc:
        raise CourseError(f"{master.path}: {exc}") from None
    if not changed:
        return SyncResult(master, False)
    old = {c.get("id"): c for c in nb.cells if _generated(c)}
    refreshed = sum(1 for c in new.cells if _generated(c) and c.get("id") in old
                    and (old[c.id].source != c.source or old[c.id].metadata != c.metadata))
    if write:
        nbformat.write(new, master.path)
    return SyncResult(master, True, _placeholders(nb), refreshed)


def sync(course: Path, assignment: str | None = None, *, write: bool = True) -> list[SyncResult]:
    """Sync every master notebook of ``assignment`` (default: all)."""
    return [sync_master(m, write=write) for m in masters(course, assignment)]


def out_of_sync(course: Path, assignment: str | None = None) -> list[Master]:
    """Masters that ``cbec course sync`` would change."""
    return [r.master for r in sync(course, assignment, write=False) if r.changed]


# ---------------------------------------------------------------------------------- build


def copy_course(course: Path, dest: Path, modules: Iterable[str]) -> Path:
    """A throwaway copy of the course (config and the given modules' sources) in ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(Path(course) / "nbgrader_config.py", dest / "nbgrader_config.py")
    for name in ("curriculum.yaml",):
        if (Path(course) / name).is_file():
            shutil.copy2(Path(course) / name, dest / name)
    for module in modules:
        shutil.copytree(source_dir(course) / module, dest / "source" / module,
                        ignore=shutil.ignore_patterns(*IGNORED))
    return dest


def generate_assignment(course: Path, assignment: str) -> None:
    """Run ``nbgrader generate_assignment`` (``assignment`` may be ``*``) in ``course``.

    ``--no-db``: the release files are the same, and no gradebook is needed to build them."""
    p = run_nbgrader(course, "generate_assignment", assignment, "--force", "--no-db",
                     "--CourseDirectory.root=.", timeout=600)
    if p.returncode != 0:
        raise CourseError(f"nbgrader generate_assignment {assignment} failed: "
                          f"{nbgrader_failure(p)}")


def normalise(nb: nbformat.NotebookNode) -> str:
    """The released form of a notebook as text: stripped (outputs, execution counts, volatile
    metadata), nbgrader and cbec metadata kept, sorted keys, indent 1, trailing newline."""
    nb = strip_notebook(nb)
    text = nbformat.writes(nb)  # sort_keys=True, indent=1, ensure_ascii=False
    return text if text.endswith("\n") else text + "\n"


def leaks(text: str) -> list[str]:
    """What must-not-release content ``text`` contains (solution regions, hidden tests, seeds,
    secrets), as short descriptions."""
    return [what for what, rx in LEAK_PATTERNS if rx.search(text)]


def _stage_module(release: Path, staged: Path) -> None:
    """Copy a released module into ``staged``, notebooks normalised, checked for leaks."""
    for src in sorted(release.rglob("*")):
        if src.is_dir() or any(part in IGNORED for part in src.relative_to(release).parts):
            continue
        dst = staged / src.relative_to(release)
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".ipynb":
            text = normalise(nbformat.read(src, as_version=4))
            dst.write_bytes(text.encode("utf-8"))
        else:
            shutil.copyfile(src, dst)
        if dst.suffix in TEXT_SUFFIXES:
            found = leaks(dst.read_text(encoding="utf-8", errors="replace"))
            if found:
                raise CourseError(f"{src.relative_to(release.parent)}: the released file "
                                  f"would contain {found[0]}; remove it from the master")


def _replace_tree(staged: Path, dest: Path, result: BuildResult) -> None:
    """Make ``dest`` equal to ``staged``, touching only files that differ."""
    want = {p.relative_to(staged) for p in staged.rglob("*") if p.is_file()}
    have = {p.relative_to(dest) for p in dest.rglob("*") if p.is_file()} if dest.is_dir() \
        else set()
    for rel in sorted(have - want):
        (dest / rel).unlink()
        result.removed.append(dest / rel)
    for rel in sorted(want):
        target = dest / rel
        if target.is_file() and filecmp.cmp(staged / rel, target, shallow=False):
            result.unchanged += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(staged / rel, target)
        result.written.append(target)
    for d in sorted((p for p in dest.rglob("*") if p.is_dir()), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()


def default_out(course: Path) -> Path:
    """``notebooks/`` beside the course folder."""
    return Path(course).resolve().parent / "notebooks"


def build(course: Path, out: Path | None = None, assignment: str | None = None) -> BuildResult:
    """Generate the released notebooks of ``assignment`` (default: all) into ``out``."""
    course = Path(course).resolve()
    out = Path(out) if out is not None else default_out(course)
    modules = resolve_assignment(course, assignment)
    stale = out_of_sync(course, assignment)
    if stale:
        raise CourseError(f"{stale[0].path} is out of sync with the exercise definitions"
                          f"{f' (and {len(stale) - 1} more)' if len(stale) > 1 else ''}; "
                          "run `cbec course sync` first")
    for master in masters(course, assignment):
        problem = nbgrader_problem(read_notebook(master.path))
        if problem:
            raise CourseError(f"{master.path}: {problem}; fix the cell metadata")
    result = BuildResult(out, modules=modules)
    with tempfile.TemporaryDirectory(prefix="cbec-build-") as tmp:
        work = copy_course(course, Path(tmp) / "course", modules)
        has_notebooks = [m for m in modules if any((work / "source" / m).glob("*.ipynb"))]
        if has_notebooks:
            generate_assignment(work, assignment if assignment else "*")
        staged = Path(tmp) / "out"
        for module in modules:
            rel = work / "release" / module
            if module in has_notebooks and not rel.is_dir():
                raise CourseError(f"nbgrader released nothing for {course / 'source' / module}; "
                                  "run `nbgrader generate_assignment` there to see why")
            (staged / module).mkdir(parents=True)
            if rel.is_dir():
                _stage_module(rel, staged / module)
        out.mkdir(parents=True, exist_ok=True)
        for module in modules:
            _replace_tree(staged / module, out / module, result)
    if assignment is None:  # modules removed from the course disappear from the release
        for d in sorted(out.iterdir()):
            if d.is_dir() and MODULE_RE.match(d.name) and d.name not in modules:
                result.removed += sorted(p for p in d.rglob("*") if p.is_file())
                shutil.rmtree(d)
    readme = out / "README.md"
    text = readme_text(out, course)
    if not readme.is_file() or readme.read_text(encoding="utf-8") != text:
        readme.write_text(text, encoding="utf-8")
        result.written.append(readme)
    else:
        result.unchanged += 1
    return result


def _notebook_items(path: Path) -> tuple[int, int, float]:
    """(autograded items, manually graded items, points) of a released notebook."""
    nb = nbformat.read(path, as_version=4)
    graded = [c.metadata.nbgrader for c in nb.cells
              if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    auto = sum(1 for g in graded if not g.get("solution"))
    points = sum(float(g.get("points", 0)) for g in graded)
    return auto, len(graded) - auto, points


def readme_text(out: Path, course: Path | None = None) -> str:
    """The generated ``README.md`` of the release folder: an index of its notebooks."""
    titles: dict[str, str] = {}
    if course is not None and (Path(course) / "curriculum.yaml").is_file():
        from graders.curriculum import CurriculumError, curriculum

        try:
            titles = {m.id: m.title_cn for m in curriculum(course).modules.values()}
        except CurriculumError:
            titles = {}
    rows, n_auto, n_manual, n_points, n_books = [], 0, 0, 0.0, 0
    for d in sorted(p for p in out.iterdir() if p.is_dir() and MODULE_RE.match(p.name)):
        for nb in sorted(d.glob("*.ipynb")):
            auto, manual, points = _notebook_items(nb)
            module = f"{d.name} {titles.get(d.name, '')}".strip()
            rows.append(f"| {module} | [{nb.stem}]({d.name}/{nb.name}) | {auto} | {manual} | "
                        f"{points:g} |")
            n_auto, n_manual, n_books = n_auto + auto, n_manual + manual, n_books + 1
            n_points += points
    lines = [README_INTRO, "## Index", ""]
    if rows:
        lines += ["| Module | Notebook | Autograded items | Manually graded items | Points |",
                  "|---|---|---:|---:|---:|", *rows, "",
                  f"{n_books} notebook(s), {n_auto} autograded item(s), {n_manual} manually "
                  f"graded item(s), {n_points:g} point(s).", ""]
    else:
        lines += ["No released notebooks yet.", ""]
    return "\n".join(lines)
