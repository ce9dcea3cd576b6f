"""The process that executes one submitted notebook (inside the sandbox).

Run as ``python -m graders.grading.child JOBDIR`` by :func:`graders.grading.run.run_notebook`;
it is not meant to be started by hand. It reads ``JOBDIR/.grader/job.json`` (the code cells and
the answer variables to capture), executes the cells in order in a fresh IPython
``InteractiveShell`` — the shell ipykernel wraps, so magics, ``display``, ``Out``/``_`` and
tracebacks behave as in a Jupyter kernel — and goes on after a failing cell, as nbgrader's
autograde does (``allow_errors``). stdout/stderr are captured per cell (head and tail kept).

Progress is appended to ``JOBDIR/.grader/progress.jsonl`` as it happens (so the grader can tell
which cell was running when the process was killed). After the last cell the requested
variables are captured as plain data (:mod:`graders.grading.capture`) into
``JOBDIR/.grader/results.json`` (+ one Parquet file per DataFrame), and the process ends with
``os._exit`` so no trainee ``atexit`` handler or lingering thread runs after that.

Nothing here is trusted by the grader: the files are validated there.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import sys
import time

from graders.grading import capture as _capture

MAX_STREAM = 4096  # characters of stdout / stderr kept per cell (head + tail)
GRADER_DIR = ".grader"
_BUILTINS = dict(builtins.__dict__)  # before any cell runs


def _original_builtins() -> dict:
    """Put the original builtins back (cells may rebind ``builtins.isinstance``, ``open`` …,
    which would break the bookkeeping); return the cells' changes so they can be re-applied."""
    b = builtins.__dict__
    changed = {k: v for k, v in b.items() if _BUILTINS.get(k, _BUILTINS) is not v}
    b.update(_BUILTINS)
    return changed


class _Stream(io.TextIOBase):
    """A text stream keeping the first and last ``limit // 2`` characters written."""

    def __init__(self, limit: int = MAX_STREAM) -> None:
        super().__init__()
        self.limit = limit
        self.head: list[str] = []
        self.head_len = 0
        self.tail = ""
        self.total = 0

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, s) -> int:
        if not isinstance(s, str):
            s = str(s)
        n = len(s)
        self.total += n
        half = self.limit // 2
        if self.head_len < half:
            part = s[: half - self.head_len]
            self.head.append(part)
            self.head_len += len(part)
            s = s[len(part):]
        if s:
            self.tail = (self.tail + s)[-half:]
        return n

    def text(self) -> str:
        head = "".join(self.head)
        kept = self.head_len + len(self.tail)
        if self.total > kept:
            return f"{head}\n… [{self.total - kept} characters cut] …\n{self.tail}"
        return head + self.tail


def _safe_str(x, limit: int = 2000) -> str:
    try:
        s = str(x)
    except Exception:
        s = f"<unprintable {type(x).__name__}>"
    return s if len(s) <= limit else s[:limit] + " …"


def _make_shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    cfg = Config()
    cfg.HistoryManager.enabled = False
    cfg.InteractiveShell.colors = "nocolor"
    cfg.InteractiveShell.autocall = 0
    shell = InteractiveShell.instance(config=cfg)

    def show(etype, evalue, stb):
        sys.stderr.write(shell.InteractiveTB.stb2text(stb) + "\n")

    shell._showtraceback = show
    # Like ipykernel's displayhook: a cell's value becomes its execute_result (kept here as
    # text/plain, which nbgrader reads for partial credit), not "Out[n]: …" on stdout.
    shell.displayhook.write_output_prompt = lambda: None
    shell.displayhook.write_format_data = _record_result
    return shell


_RESULT: dict = {}  # text/plain of the running cell's execute_result


def _record_result(format_dict, md_dict=None) -> None:
    text = format_dict.get("text/plain") if isinstance(format_dict, dict) else None
    if isinstance(text, str):
        _RESULT["text"] = text


def main(job_dir: str) -> None:
    t0 = time.perf_counter()
    gdir = os.path.join(job_dir, GRADER_DIR)
    with open(os.path.join(gdir, "job.json"), encoding="utf-8") as f:
        job = json.load(f)
    progress = open(os.path.join(gdir, "progress.jsonl"), "a", encoding="utf-8",  # noqa: SIM115
                    buffering=1)

    def log(rec: dict) -> None:
        # a full disk / closed file must not stop the run
        with contextlib.suppress(OSError, ValueError):
            progress.write(json.dumps(rec, ensure_ascii=False) + "\n")

    # What every notebook imports anyway, once, before the clock for cells starts.
    import numpy  # noqa: F401
    import pandas  # noqa: F401

    shell = _make_shell()
    t_ready = time.perf_counter()
    log({"event": "ready", "seconds": round(t_ready - t0, 4)})
    real_out, real_err = sys.stdout, sys.stderr
    cells = []
    for cell in job["cells"]:
        idx = cell["index"]
        log({"event": "start", "index": idx})
        out, err = _Stream(), _Stream()
        sys.stdout, sys.stderr = out, err
        t = time.perf_counter()
        _RESULT.clear()
        try:
            res = shell.run_cell(cell["source"], store_history=True, silent=False)
            exc = res.error_before_exec or res.error_in_exec
        except BaseException as e:  # run_cell catches nearly everything; be sure
            exc = e
        finally:
            sys.stdout, sys.stderr = real_out, real_err
            changed = _original_builtins()
        rec = {"index": idx, "ok": exc is None, "seconds": round(time.perf_counter() - t, 4),
               "stdout": out.text(), "stderr": err.text()}
        if exc is not None:
            rec["ename"] = _safe_str(type(exc).__name__, 200)
            rec["evalue"] = _safe_str(exc)
            rec["memory"] = isinstance(exc, MemoryError)
        elif "text" in _RESULT:
            rec["result"] = _safe_str(_RESULT["text"])
        cells.append(rec)
        log({"event": "end", **rec})
        builtins.__dict__.update(changed)  # the notebook keeps what it did
    t_cells = time.perf_counter()
    _original_builtins()  # the capture and the results file must not depend on the cells
    sys.stdout, sys.stderr = real_out, real_err
    names = [n for n in job.get("capture", []) if isinstance(n, str)]
    answers = _capture.capture(shell.user_ns, names, gdir)
    t_end = time.perf_counter()
    result = {"version": _capture.RESULTS_VERSION, "cells": cells, "answers": answers,
              "timing": {"startup": round(t_ready - t0, 4), "cells": round(t_cells - t_ready, 4),
                         "capture": round(t_end - t_cells, 4)}}
    tmp = os.path.join(gdir, "results.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(_capture.dumps(result))
    os.replace(tmp, os.path.join(gdir, "results.json"))
    log({"event": "done"})


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except BaseException as exc:  # report and end hard
        try:
            _original_builtins()
            import traceback

            traceback.print_exc(file=sys.__stderr__)
            sys.__stderr__.write(f"cbec grading child failed: {type(exc).__name__}: {exc}\n")
            sys.__stderr__.flush()
        finally:
            os._exit(3)
    with contextlib.suppress(Exception):
        sys.__stdout__.flush()
        sys.__stderr__.flush()
    os._exit(0)
