"""``cbec sim``: generate, inspect and validate simulated datasets."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import click

from graders.cli._base import CbecError, existing_dir, split_list


@click.group()
def sim() -> None:
    """Simulate cross-border e-commerce worlds (datasets for exercises)."""


@sim.command("generate")
@click.option("--seed", type=click.IntRange(min=0), required=True,
              help="Random seed; same seed and options give byte-identical files.")
@click.option("--orders", "n_orders", type=int, default=5000, show_default=True,
              help="Approximate number of B2C orders (100 – 20,000,000).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write (must be new or empty, or an earlier dataset with --force).")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet",
              show_default=True)
@click.option("--markets", help="Comma-separated ISO codes, e.g. US,DE,JP (default: 8 markets).")
@click.option("--platforms", help="Comma-separated platform ids, e.g. amazon,shopee.")
@click.option("--start", default="2025-01-01", show_default=True, help="First simulated day.")
@click.option("--months", type=int, default=12, show_default=True, help="Length in months.")
@click.option("--with-labels", is_flag=True,
              help="Also write ground truth of planted anomalies (never give it to trainees).")
@click.option("--force", is_flag=True, help="Replace an existing dataset folder.")
def generate_cmd(seed: int, n_orders: int, out: Path, fmt: str, markets: str | None,
                 platforms: str | None, start: str, months: int, with_labels: bool,
                 force: bool) -> None:
    """Generate a world and write its tables, manifest.json and DATA-DICTIONARY.md."""
    from cbec_sim.generate import STAGES, generate
    from cbec_sim.world import MANIFEST

    _check_target(out, force, MANIFEST)
    from tqdm import tqdm

    with tqdm(total=len(STAGES), desc="simulating", disable=None, leave=False,
              file=sys.stderr) as bar:
        try:
            world = generate(n_orders, markets=split_list(markets),
                             platforms=split_list(platforms), start=start, months=months,
                             rng=seed, progress=lambda _name: bar.update())
        except ValueError as exc:
            raise CbecError(str(exc)) from exc
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent if out.parent.exists()
                                else None))
    try:
        getattr(world, f"to_{fmt}")(tmp, with_labels=with_labels)
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(tmp), out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    rows = sum(len(df) for df in world.tables.values())
    click.echo(f"wrote {len(world.tables)} tables ({rows:,} rows) to {out}/ "
               f"— see {out}/DATA-DICTIONARY.md")


def _check_target(out: Path, force: bool, manifest: str) -> None:
    if out.exists() and not out.is_dir():
        raise CbecError(f"--out {out} is a file; give a folder path")
    if out.is_dir() and any(out.iterdir()):
        if not (out / manifest).is_file():
            raise CbecError(f"--out {out} is not empty and is not a dataset folder; "
                            "choose a new folder (nothing was written)")
        if not force:
            raise CbecError(f"--out {out} already holds a dataset; add --force to replace it")


@sim.command("describe")
@click.argument("dataset", type=click.Path(path_type=Path))
def describe_cmd(dataset: Path) -> None:
    """Show the tables of a dataset folder (rows, columns, what one row is)."""
    world = _load(dataset)
    import pandas as pd

    with pd.option_context("display.width", 120, "display.max_colwidth", 60):
        click.echo(world.describe().to_string())


@sim.command("validate")
@click.argument("dataset", type=click.Path(path_type=Path))
def validate_cmd(dataset: Path) -> None:
    """Check a dataset against its schemas, keys and invariants."""
    from cbec_sim.validate import validate_world

    problems = validate_world(_load(dataset, with_labels=True))
    if problems:
        for p in problems:
            click.echo(f"problem: {p}", err=True)
        raise CbecError(f"{dataset}: {len(problems)} problem(s) found")
    click.echo(f"{dataset}: ok")


@sim.command("dictionary")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
def dictionary_cmd(out: Path | None) -> None:
    """Print the data dictionary of every table the simulator produces."""
    import cbec_sim.tables  # noqa: F401 (registers specs)
    from cbec_sim.schema import REGISTRY, data_dictionary

    text = data_dictionary(list(REGISTRY)) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")


def _load(dataset: Path, *, with_labels: bool = False):
    from cbec_sim.world import DatasetError, load

    existing_dir(dataset, "dataset folder")
    try:
        return load(dataset, with_labels=with_labels)
    except DatasetError as exc:
        raise CbecError(str(exc)) from exc
    except (OSError, ValueError) as exc:
        raise CbecError(f"{dataset}: cannot read ({type(exc).__name__}: {exc})") from exc
