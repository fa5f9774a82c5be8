"""Notebook 04's loss lab in JupyterLab, in a real (headless) Chromium, as a learner uses it.

Starts JupyterLab on 127.0.0.1 with a token on a copy of ``notebooks/``, runs all cells at the ``tiny`` profile,
moves the content/style slider with the keyboard, presses Run and checks in the page that the result image changed,
that the new setting reached the optimizer, and that the kernel ends idle with no error. CI installs Debian's
``chromium`` and the ``playwright`` Python package; playwright never downloads a browser of its own.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
pytest.importorskip("jupyterlab", reason="JupyterLab is not installed")

CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK = "04_total_loss_and_optimization.ipynb"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

KERNEL = "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
NOTEBOOK_READY = (f"window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel && "
                  f"{KERNEL}.status === 'idle'")
# Runs Python in the notebook's kernel (not in a cell) and returns what it printed.
EXECUTE = f"""async (code) => {{
    const future = {KERNEL}.requestExecute({{code, store_history: false}});
    let out = '';
    future.onIOPub = msg => {{
        if (msg.header.msg_type === 'stream') out += msg.content.text;
        if (msg.header.msg_type === 'error') out += msg.content.ename + ': ' + msg.content.evalue;
    }};
    await future.done;
    return out;
}}"""
# Every code cell: its execution count, its tags and the errors in its outputs.
CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets
    .filter(cell => cell.model.type === 'code')
    .map(cell => ({count: cell.model.executionCount, tags: cell.model.getMetadata('tags') || [],
                   errors: cell.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename)}))"""
# SHA-256 of the bytes the result <img> shows (its src is a blob: URL).
IMAGE_DIGEST = """async () => {
    const img = document.querySelector('img.nst-result');
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return {digest: Array.from(digest).join(','), width: img.naturalWidth};
}"""

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on a copy of the notebooks, with its own settings; yields its URL and token."""
    root = shutil.copytree(NOTEBOOKS, tmp_path / "notebooks", ignore=shutil.ignore_patterns("outputs", ".ipynb_*"))
    settings = tmp_path / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)  # no "get Jupyter news?" pop-up over the notebook
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **{name: value for name, value in os.environ.items() if name != "MPLBACKEND"},  # figures inline, as usual
        "NST_PROFILE": "tiny",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # the kernel's python
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--LabApp.expose_app_in_browser=True", "--allow-root"]
    log = open(tmp_path / "jupyterlab.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"JupyterLab exited; see {tmp_path / 'jupyterlab.log'}"
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "JupyterLab did not answer within 60 s"
                time.sleep(0.3)
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_loss_lab_runs_in_jupyterlab(jupyterlab, tmp_path):
    url, token = jupyterlab
    started = time.monotonic()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"{url}/lab/tree/{NOTEBOOK}?token={token}")
            page.wait_for_function(NOTEBOOK_READY, timeout=90_000)

            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_function(f"({CELLS})().every(cell => cell.count !== null) && {KERNEL}.status === 'idle'",
                                   timeout=150_000, polling=500)
            cells = page.evaluate(CELLS)
            assert all(not c["errors"] or "raises-exception" in c["tags"] for c in cells), cells

            lab = page.locator(".jp-Cell", has=page.locator(".nst-ratio-slider"))
            assert lab.count() == 1, f"{NOTEBOOK} shows no loss lab (nst_helpers.widgets.loss_lab)"
            lab.scroll_into_view_if_needed()
            readout = lab.locator(".nst-ratio-slider .widget-readout")
            before_ratio, before = readout.inner_text(), page.evaluate(IMAGE_DIGEST)

            lab.locator(".nst-ratio-slider .noUi-handle").focus()  # a learner moves the slider with the keyboard
            for _ in range(4):  # four steps of 0.25 on the log scale: the ratio drops tenfold
                page.keyboard.press("ArrowLeft")
            page.wait_for_function(f"document.querySelector('.nst-ratio-slider .widget-readout').textContent "
                                   f"!== {json.dumps(before_ratio)}", timeout=10_000)
            lab.locator("button.nst-run").click()
            page.wait_for_function("/^(Done|Stopped|No result)/.test(document.querySelector('.nst-status')"
                                   ".textContent)", timeout=90_000)
            page.wait_for_function(f"{KERNEL}.status === 'idle'", timeout=30_000)

            status = lab.locator(".nst-status").inner_text()
            after = page.evaluate(IMAGE_DIGEST)
            checked = page.evaluate(EXECUTE, "print(lab.ratio_slider.value, lab.last_settings.style_weight, "
                                             "lab.runs, lab.last_result.steps_done)")
            screenshot = tmp_path / "loss_lab.png"
            lab.locator("img.nst-result").scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot))
            print(f"\nscreenshot of the loss lab: {screenshot} ({time.monotonic() - started:.0f} s in the browser)")

            assert status.startswith("Done"), status
            assert after["digest"] != before["digest"] and after["width"] > 0  # the result image changed
            ratio, style_weight, runs, steps_done = (float(value) for value in checked.split())
            assert ratio == pytest.approx(float(before_ratio) / 10, rel=0.01)  # the readout shows 3 digits
            assert style_weight == pytest.approx(1 / ratio) and runs == 1 and steps_done > 0  # and used it
            output = lab.locator(".nst-output").inner_text()
            assert "Traceback" not in output and "Error" not in output, output
            assert page.evaluate(f"{KERNEL}.status") == "idle"
        finally:
            browser.close()
