"""The trainee's experience end to end: a released notebook opened in a real JupyterLab server
(started from this Python, no network) and driven through JupyterLab's UI in real headless
Chromium: run the setup cell, type a correct and then a wrong answer into the answer cell, read
the instant feedback, ask for a hint, click the ipywidgets panel, and find every check in the
notebook folder's attempt log."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from _services import CHROMIUM_ARGS, require_chromium

from graders import exercises, practice
from graders.exercise import Mistake

ROOT = Path(__file__).resolve().parents[1]
MODULE = "00-orientation"
NOTEBOOK = "00.01-Welcome.ipynb"
ITEM = "00.01.store_count"  # first item of the notebook: one line of pandas
SLUG = ITEM[6:]
NB_ID = ITEM[:5]
TIMEOUT_MS = 120_000  # the test machine is shared and loaded: generous waits, no fixed sleeps

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("kernels")]


@dataclass
class Lab:
    url: str
    token: str
    folder: Path
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(lab: Lab, path: str, method: str = "GET") -> bytes:
    req = urllib.request.Request(f"{lab.url}{path}", method=method,
                                 headers={"Authorization": f"token {lab.token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


def _server_env(home: Path) -> dict[str, str]:
    """The server's environment: this Python first on PATH (the ``python3`` kernelspec in the
    venv runs ``python``; jupyter_client also maps it to the server's own interpreter),
    Jupyter's per-user folders under ``home`` so a developer's settings or workspaces cannot
    change what the test sees, and nothing that would turn the practice layer off or point it
    at another dataset."""
    env = dict(os.environ)
    for var in ("CBEC_NO_LOG", practice.DATA_ENV, practice.GRADING_ENV, "CBEC_COURSE_SECRET",
                "JUPYTER_PATH", "PYTHONPATH"):
        env.pop(var, None)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    # no "get notified about Jupyter news?" toast over the notebook (and no request for news)
    news = home / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}\n')
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython"),
                     ("MPLCONFIGDIR", "mpl")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    return env


def _kernel_pids(runtime: Path) -> list[int]:
    """Processes whose command line names a connection file in our own runtime folder: the
    kernels this server started (they run in their own process groups)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(runtime) in cmd and "ipykernel" in cmd:
            pids.append(int(proc.name))
    return pids


def _stop(proc: subprocess.Popen, lab: Lab, runtime: Path) -> None:
    """Shut the server and its kernels down: politely through the API, then by signal."""
    try:
        for k in json.loads(_api(lab, "/api/kernels")):
            _api(lab, f"/api/kernels/{k['id']}", "DELETE")
        _api(lab, "/api/shutdown", "POST")
        proc.wait(timeout=20)
    except Exception:
        pass
    if proc.poll() is None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(timeout=10)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue
    for pid in _kernel_pids(runtime):  # kernels left behind by a crashed server
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def lab(tmp_path) -> Iterator[Lab]:
    """A trainee's copy of the released module in ``tmp_path/trainee`` (no ``data/`` folder:
    the course's default dataset is used) served by a real JupyterLab on a free local port."""
    folder = tmp_path / "trainee"
    shutil.copytree(ROOT / "notebooks" / MODULE, folder)
    assert not (folder / "data").exists()
    env = _server_env(tmp_path / "jupyter-home")
    token, port = secrets.token_hex(16), _free_port()
    server_log = tmp_path / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
           "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.root_dir={folder}", f"--IdentityProvider.token={token}",
           "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:  # CI containers run as root; JupyterLab refuses without the flag
        cmd.append("--allow-root")
    with open(server_log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}", token, folder, server_log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n"
                            f"{server_log.read_text(errors='replace')[-3000:]}", pytrace=False)
            try:
                json.loads(_api(lab, "/api/status"))
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not answer /api/status within 120 s:\n"
                                + server_log.read_text(errors="replace")[-3000:], pytrace=False)
                time.sleep(0.25)
        yield lab
    finally:
        _stop(proc, lab, Path(env["JUPYTER_RUNTIME_DIR"]))


def _mistake() -> Mistake:
    """The first known mistake of ITEM that the check recognises on the default dataset (a
    mistake whose value happens to equal the right answer there is rightly called correct)."""
    ex = exercises.get(ITEM)
    world = practice.load_world(practice.dataset_path())
    values = ex.mistake_values(world)
    for m in ex.mistakes:
        if m.id in values and ex.evaluate(values[m.id], world).mistake == m.id:
            return m
    raise AssertionError(f"{ITEM}: no known mistake is recognised on the default dataset")


def test_trainee_answers_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    exe = require_chromium()
    ex = exercises.get(ITEM)
    mistake = _mistake()
    answer_code = f"{ex.solution.strip()}\nq.{SLUG}.check({ex.answer})"
    wrong_code = f"{mistake.code.strip()}\nq.{SLUG}.check({ex.answer})"
    nb = nbformat.read(lab.folder / NOTEBOOK, as_version=4)
    roles = [(c.metadata.get("cbec", {}).get("id"), c.metadata.get("cbec", {}).get("role"))
             for c in nb.cells]
    errors: list[str] = []
    expect.set_options(timeout=TIMEOUT_MS)  # global in Playwright: reset below
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=exe,
            args=list(CHROMIUM_ARGS))  # Playwright gives each launch a fresh profile
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{lab.url}/lab/tree/{NOTEBOOK}?token={lab.token}")
            cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
            expect(cells.first).to_be_visible()
            # the notebook's python3 kernel has started (its Python is checked below)
            expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
                   ).to_have_count(1)
            # JupyterLab attaches the cells progressively: wait for all of them
            expect(cells).to_have_count(len(roles))
            setup_i, answer_i = roles.index((NB_ID, "setup")), roles.index((ITEM, "answer"))

            def run(i: int, code: str | None = None) -> None:
                """Select cell ``i`` the way a trainee does, optionally replace its text,
                and run it with Shift+Enter."""
                cell = cells.nth(i)
                cell.scroll_into_view_if_needed()
                if code is None:
                    cell.locator(".jp-InputPrompt").click()  # command mode on this cell
                else:
                    cell.locator(".cm-content").click()  # edit mode in the CodeMirror editor
                    page.keyboard.press("Control+a")
                    page.keyboard.insert_text(code)
                    expect(cell.locator(".cm-content")).to_contain_text(code.splitlines()[0])
                page.keyboard.press("Shift+Enter")

            run(setup_i)
            run(answer_i, answer_code)
            out = cells.nth(answer_i).locator(".jp-OutputArea-output")
            expect(out).to_contain_text(f"✔ {ITEM}")
            expect(cells.nth(setup_i).locator(".jp-InputPrompt")).to_contain_text("[1]")
            assert "Error" not in cells.nth(setup_i).locator(".jp-Cell-outputArea").inner_text()

            run(answer_i, wrong_code)
            first_words = mistake.feedback.split("：")[0][:20]
            expect(out).to_contain_text(f"✘ {ITEM}")
            expect(out).to_contain_text(first_words)
            assert f"✔ {ITEM}" not in out.inner_text()

            # the hint in a new cell below (command mode "b"), as a trainee asks for one
            page.keyboard.press("Escape")
            cells.nth(answer_i).locator(".jp-InputPrompt").click()
            n = cells.count()
            page.keyboard.press("b")
            expect(cells).to_have_count(n + 1)
            hint_i = answer_i + 1
            run(hint_i, f"import sys\nprint(sys.prefix)\nq.{SLUG}.hint()")
            hint_out = cells.nth(hint_i).locator(".jp-Cell-outputArea")
            expect(hint_out).to_contain_text(f"提示 1/{len(ex.hints)}：{ex.hints[0][:10]}")
            assert sys.prefix in hint_out.inner_text()  # the kernel runs this venv's Python

            # the ipywidgets panel renders (the widget extension works) and its buttons answer
            cells.nth(hint_i).locator(".jp-InputPrompt").click()
            page.keyboard.press("Escape")
            page.keyboard.press("b")
            expect(cells).to_have_count(n + 2)
            panel_i = hint_i + 1
            run(panel_i, f"q.{SLUG}.panel()")
            panel = cells.nth(panel_i).locator(".jp-Cell-outputArea")
            buttons = panel.locator("button.jupyter-widgets")
            for label in ("检查", "提示", "参考解法"):
                expect(buttons.filter(has_text=label)).to_be_visible()
            buttons.filter(has_text="提示").click()
            expect(panel).to_contain_text(f"提示 2/{len(ex.hints)}")
            buttons.filter(has_text="检查").click()  # checks the variable the kernel holds now
            expect(panel).to_contain_text(f"✘ {ITEM}")

            shot = tmp_path / "jupyterlab.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 20_000 and not _is_blank(shot)
        finally:
            browser.close()
            expect.set_options(timeout=5_000)  # Playwright's default

    # JupyterLab 4 with the news toast off prints no console errors: none are filtered out
    assert not errors, errors

    log = lab.folder / practice.LOG_DIR / practice.LOG_FILE
    assert log.is_file(), f"{log}: no attempt log (is CBEC_NO_LOG set?)"
    recs = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines() if x.strip()]
    checks = [r for r in recs if r["event"] == "check" and r["exercise"] == ITEM]
    assert [(r["status"], r["mistake"]) for r in checks] == [
        ("correct", None), ("mistake", mistake.id), ("mistake", mistake.id)], recs
    assert [r["level"] for r in recs if r["event"] == "hint"] == [1, 2], recs


def _is_blank(png: Path) -> bool:
    from PIL import Image

    img = Image.open(png).convert("RGB")
    small = img.resize((200, max(1, 200 * img.height // img.width)))
    colours = small.getcolors(maxcolors=1 << 16)
    return colours is not None and len(colours) < 20
