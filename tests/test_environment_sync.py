"""environment.yml (conda) and pyproject.toml (pip) list the same dependencies, bound for bound."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = ("dev", "browser", "postgres")  # extras the conda environment installs

# Conda packages that are the environment's tools, not the project's dependencies.
CONDA_TOOLS = {"python", "pip"}
# Where the conda-forge name differs from the PyPI name: conda name -> PyPI name.
CONDA_TO_PYPI = {
    "matplotlib-base": "matplotlib",  # conda-forge's matplotlib without the Qt backend
    "psycopg-binary": "psycopg",  # the binary build is a PyPI-only split of psycopg
}
# PyPI name -> why it must come from pip even in a conda environment (anything else may not).
PIP_ONLY = {
    "mplfonts": "not packaged on conda-forge",
    "playwright": "conda-forge has no build of the Python client",
}


def normalise(name: str) -> str:
    """PEP 503 name, mapped onto PyPI's name for conda packages spelled differently."""
    name = re.sub(r"[-_.]+", "-", name).lower()
    return CONDA_TO_PYPI.get(name, name)


def _pyproject() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)


def pyproject_requirements() -> dict[str, SpecifierSet]:
    project = _pyproject()["project"]
    lines = list(project["dependencies"])
    for extra in EXTRAS:
        lines += project["optional-dependencies"][extra]
    reqs = [Requirement(line) for line in lines]
    return {normalise(r.name): r.specifier for r in reqs}


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


CONDA_SPEC = re.compile(r"^(?:[\w.-]+::)?(?P<name>[A-Za-z0-9_.-]+)\s*(?P<spec>.*)$")


def environment_entries() -> list[tuple[str, str, str]]:
    """(source, name, specifier) for every package entry; source is "conda" or "pip"."""
    entries = []
    for item in _environment()["dependencies"]:
        if isinstance(item, dict):
            for line in item.get("pip", []):
                if line.lstrip().startswith("-"):  # -e ., -r file, --index-url ...
                    continue
                req = Requirement(line)
                entries.append(("pip", req.name, str(req.specifier)))
        else:
            match = CONDA_SPEC.match(str(item).strip())
            assert match, f"cannot read conda entry {item!r}"
            entries.append(("conda", match["name"], match["spec"].replace(" ", "")))
    return entries


def environment_requirements() -> dict[str, tuple[str, str]]:
    return {
        normalise(name): (source, spec)
        for source, name, spec in environment_entries()
        if name not in CONDA_TOOLS or source == "pip"
    }


def test_every_pyproject_dependency_is_in_environment_yml():
    missing = sorted(pyproject_requirements().keys() - environment_requirements().keys())
    assert not missing, (
        f"in pyproject.toml but not in environment.yml: {missing} (add the conda-forge package, "
        "or a pip entry if conda-forge has none, or extend CONDA_TO_PYPI in this test)"
    )


def test_environment_yml_lists_nothing_pyproject_lacks():
    extra = sorted(environment_requirements().keys() - pyproject_requirements().keys())
    assert not extra, f"in environment.yml but not in pyproject.toml {EXTRAS} extras: {extra}"


def test_no_package_is_listed_twice():
    names = [normalise(name) for _, name, _ in environment_entries()]
    twice = sorted({n for n in names if names.count(n) > 1})
    assert not twice, f"listed more than once in environment.yml (conda and pip?): {twice}"


def test_version_bounds_match():
    ours = pyproject_requirements()
    differ = []
    for name, (source, spec) in environment_requirements().items():
        if name not in ours:
            continue
        try:
            theirs = SpecifierSet(spec)
        except InvalidSpecifier:
            pytest.fail(f"environment.yml: write {name}'s bound pip-style (>=X.Y), not {spec!r}")
        if theirs != ours[name]:
            differ.append(f"{name}: pyproject {ours[name] or 'any'}, {source} {spec or 'any'}")
    assert not differ, "version bounds differ:\n" + "\n".join(differ)


def test_only_packages_missing_from_conda_forge_come_from_pip():
    pip_names = {normalise(name) for source, name, _ in environment_entries() if source == "pip"}
    unexplained = sorted(pip_names - PIP_ONLY.keys())
    assert not unexplained, (
        f"take these from conda-forge, or say in PIP_ONLY why they cannot be: {unexplained}"
    )
    not_pip = sorted(PIP_ONLY.keys() - pip_names)
    assert not not_pip, f"in PIP_ONLY but not pip-installed by environment.yml: {not_pip}"


def test_python_bound_matches_requires_python():
    conda = {name: spec for source, name, spec in environment_entries() if source == "conda"}
    assert "python" in conda, "environment.yml must pin python"
    assert SpecifierSet(conda["python"]) == SpecifierSet(_pyproject()["project"]["requires-python"])


def test_pip_installs_the_project_itself_with_the_extras():
    pip_lines = [
        line
        for item in _environment()["dependencies"]
        if isinstance(item, dict)
        for line in item.get("pip", [])
    ]
    editable = re.compile(r"-e\s+\.\[([^\]]*)\]")
    installs = [m for line in pip_lines if (m := editable.fullmatch(line.strip()))]
    assert len(installs) == 1, f"expected one `-e .[...]` line in the pip section, got {pip_lines}"
    extras = {e.strip() for e in installs[0][1].split(",")}
    assert extras == set(EXTRAS)
