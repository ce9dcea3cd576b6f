"""Shared CLI pieces: the error type, the group class and small option helpers."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import click

T = TypeVar("T")


class CbecError(click.ClickException):
    """A user-facing error: printed as one line, exit status 2."""

    exit_code = 2


class CbecGroup(click.Group):
    """A click group that lists commands in the order they were added."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


def existing_dir(path: str | Path, what: str) -> Path:
    """``path`` as a directory that exists, else a one-line error naming it."""
    p = Path(path)
    if not p.exists():
        raise CbecError(f"{what} {p} does not exist")
    if not p.is_dir():
        raise CbecError(f"{what} {p} is not a directory")
    return p


def split_list(value: str | None) -> list[str] | None:
    """``"US, de"`` → ``["US", "de"]``; empty/None → None."""
    if not value:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None


def progress(items: Iterable[T], total: int, desc: str) -> Iterator[T]:
    """A progress bar on a terminal (stderr), nothing when output is redirected."""
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, disable=None, leave=False,
                    file=sys.stderr)
