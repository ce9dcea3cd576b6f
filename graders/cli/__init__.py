"""The ``cbec`` command: one group per part of the kit, thin wrappers over library code.

Every user error (bad argument, missing file, unreadable input) prints ONE line on stderr and
exits with status 2; an unexpected failure prints one line and exits 1 (set ``CBEC_DEBUG=1``
to see the traceback). Progress bars appear only on a terminal.
"""

from __future__ import annotations

import os
import sys

import click

from graders.cli._base import CbecError, CbecGroup
from graders.cli.cohort import cohort
from graders.cli.course import course
from graders.cli.demo import demo
from graders.cli.exam import exam
from graders.cli.grade import grade
from graders.cli.report import report
from graders.cli.sim import sim


@click.group(cls=CbecGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cbec-course-kit", prog_name="cbec",
                      message="%(prog)s %(version)s")
def cli() -> None:
    """Course kit for cross-border e-commerce store operators (T/CCPITCSC 111-2022).

    \b
    Data flows one way:
      sim → dataset files → notebook → captured answers → scorer → gradebook → reports
    Start with `cbec demo`, or `cbec sim generate --help`.
    """


for _cmd in (sim, course, cohort, grade, report, exam, demo):
    cli.add_command(_cmd)


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit status instead of raising."""
    args = sys.argv[1:] if argv is None else argv
    try:
        cli.main(args=args, prog_name="cbec", standalone_mode=False)
    except click.exceptions.Exit as exc:  # --help / --version
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("cbec: interrupted", err=True)
        return 130
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "cbec"
        click.echo(f"{where}: {_one_line(exc.format_message())} "
                   f"(see '{where} --help')", err=True)
        return 2
    except (CbecError, click.ClickException) as exc:
        click.echo(f"cbec: {_one_line(exc.format_message())}", err=True)
        return 2
    except KeyboardInterrupt:
        click.echo("cbec: interrupted", err=True)
        return 130
    except Exception as exc:  # last line of defence: never a traceback
        if os.environ.get("CBEC_DEBUG"):
            raise
        click.echo(f"cbec: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
                   "(rerun with CBEC_DEBUG=1 for details and report it)", err=True)
        return 1
    return 0


def _one_line(msg: str) -> str:
    return " ".join(msg.split())
