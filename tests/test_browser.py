"""The four notebook experiments in JupyterLab, in a real (headless) Chromium, as a class sees them.

Starts JupyterLab on 127.0.0.1 with a token on a copy of ``notebooks/`` and checks, at 1400x900 and at 1024x768 (a
projector):

- the first view: each notebook, just opened (not trusted, no kernel output yet), shows a picture where each
  experiment will be, not ``LossLab(children=...``;
- the experiments themselves, at the ``tiny`` profile: each one's cell, found in its notebook by its source text, runs
  in one small notebook; then one interaction and one run each, the no-layers error and a bad upload (one status
  line, no traceback, widgets in step), a run ended by the experiment's own Stop button, every displayed image at its
  own aspect ratio, and nothing cut off or wrapped at either screen size.

CI installs Debian's ``chromium`` and the ``playwright`` Python package; playwright never downloads a browser of its
own. Screenshots go to ``$NST_SCREENSHOTS`` (default: the test's temporary folder).
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
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENS = {"desktop": (1400, 900), "projector": (1024, 768)}
# Each experiment: its notebook, the text that finds its cell there, and a CSS class only its view has.
EXPERIMENTS = {
    "features": ("01_feature_extraction.ipynb", "feature_map_explorer(", "nst-feature-maps", "FeatureMapExplorer"),
    "layers": ("03_gram_and_style_loss.ipynb", "style_layer_explorer(", "nst-gram", "StyleLayerExplorer"),
    "lab": ("04_total_loss_and_optimization.ipynb", "loss_lab(", "nst-ratio-slider", "LossLab"),
    "studio": ("05_results.ipynb", "studio(", "nst-content-upload", "Studio"),
}
# What the experiments' cells use, at the profile's sizes (the notebooks define these names earlier on).
SETUP = """from nst_helpers.config import get_profile
from nst_helpers.data import load_example

profile = get_profile()
SIZE, SMALL_SIZE, STEPS, SMALL_STEPS = profile.size, profile.small_size, profile.steps, profile.small_steps
content, style, swirls = load_example("chelsea"), load_example("brushstrokes"), load_example("swirls")"""
# The experiments on show, by class name, for code run in the kernel.
FIND = """from ipywidgets.widgets.widget import _instances
from nst_helpers import widgets as _w
shown = {type(o).__name__: o for o in list(_instances.values())
         if isinstance(o, (_w.FeatureMapExplorer, _w.StyleLayerExplorer, _w.LossLab, _w.Studio))}
"""

KERNEL = "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
# The notebook opened is the current tab and its kernel is idle.
NOTEBOOK_READY = (f"notebook => window.jupyterapp?.shell.currentWidget?.context?.path === notebook && "
                  f"window.jupyterapp.shell.currentWidget.sessionContext?.session?.kernel && "
                  f"{KERNEL}.status === 'idle'")
# Runs Python in the notebook's kernel (not in a cell) and returns what it printed.
EXECUTE = f"""async (code) => {{
    const future = {KERNEL}.requestExecute({{code, store_history: false}});
    let out = '';
    future.onIOPub = msg => {{
        if (msg.header.msg_type === 'stream') out += msg.content.text;
        if (msg.header.msg_type === 'error') out += msg.content.ename + ': ' + msg.content.evalue;
    }};
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error('no answer from the kernel in 120 s')),
                                                       120000));
    await Promise.race([future.done, late]);  // a page.evaluate has no timeout of its own
    return out;
}}"""
# Every code cell: its execution count, its tags and the errors in its outputs.
CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets
    .filter(cell => cell.model.type === 'code')
    .map(cell => ({count: cell.model.executionCount, tags: cell.model.getMetadata('tags') || [],
                   errors: cell.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename)}))"""
# SHA-256 of the bytes an <img> shows (its src is a blob: URL).
IMAGE_DIGEST = """async (img) => {
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return Array.from(digest).join(',');
}"""
# Every image drawn in the notebook: its natural and its displayed size.
IMAGES = """() => Array.from(document.querySelectorAll('.jp-OutputArea-output img'))
    .filter(img => img.naturalWidth > 0 && img.offsetParent !== null)
    .map(img => ({cls: img.className, natural: [img.naturalWidth, img.naturalHeight],
                  shown: [img.getBoundingClientRect().width, img.getBoundingClientRect().height]}))"""
# Layout problems inside one experiment: text cut off, a control past the output's right edge, wrapped toggles.
LAYOUT = """(cell) => {
    const area = cell.querySelector('.jp-OutputArea-output').getBoundingClientRect();
    const problems = [];
    const texts = '.widget-label, .widget-html-content, .widget-readout, .widget-inline-hbox';
    for (const el of cell.querySelectorAll(texts)) {
        if (el.offsetParent === null) continue;
        const text = el.textContent.slice(0, 40);
        if (el.scrollWidth > el.clientWidth + 1) problems.push('cut off: ' + text);
        if (el.getBoundingClientRect().right > area.right + 1) problems.push('past the edge: ' + text);
    }
    for (const group of cell.querySelectorAll('.widget-toggle-buttons')) {
        const buttons = Array.from(group.querySelectorAll('button'));
        const tops = new Set(buttons.map(b => Math.round(b.getBoundingClientRect().top)));
        if (tops.size > 1) problems.push('toggle buttons on ' + tops.size + ' rows');
    }
    return problems;
}"""

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: apt-get install chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def widget_cell_source(notebook: str, text: str) -> str:
    """The source of the one code cell of ``notebook`` that contains ``text``."""
    cells = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))["cells"]
    found = ["".join(c["source"]) for c in cells if c["cell_type"] == "code" and text in "".join(c["source"])]
    assert len(found) == 1, f"{notebook} has {len(found)} code cells with {text!r}; expected one"
    return found[0]


def experiments_notebook() -> dict:
    """A notebook with the setup above and each experiment's cell, as its notebook has it."""
    sources = [SETUP] + [widget_cell_source(notebook, text) for notebook, text, _, _ in EXPERIMENTS.values()]
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
             for source in sources]
    kernel = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return {"cells": cells, "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server on a copy of the notebooks, with its own settings; yields its URL and token."""
    tmp_path = tmp_path_factory.mktemp("jupyterlab")
    root = shutil.copytree(NOTEBOOKS, tmp_path / "notebooks", ignore=shutil.ignore_patterns("outputs", ".ipynb_*"))
    (root / "experiments.ipynb").write_text(json.dumps(experiments_notebook()), encoding="utf-8")
    settings = tmp_path / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)  # no "get Jupyter news?" pop-up over the notebook
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **{name: value for name, value in os.environ.items() if name != "MPLBACKEND"},  # figures inline, as usual
        "NST_PROFILE": "tiny",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # the kernel's python
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),  # no trust database: notebooks open untrusted, as downloaded
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


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("NST_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_notebook(browser, url: str, token: str, notebook: str, screen: str):
    width, height = SCREENS[screen]
    page = browser.new_page(viewport={"width": width, "height": height})
    # A workspace of its own: JupyterLab would otherwise reopen every tab of the earlier pages, each with a kernel,
    # and run-all-cells could reach one of them while the layout is still being restored.
    page.goto(f"{url}/lab/workspaces/{secrets.token_hex(8)}/tree/{notebook}?token={token}")
    page.wait_for_function(NOTEBOOK_READY, arg=notebook, timeout=90_000)
    return page


def shut_down_kernels(url: str, token: str) -> None:
    """Stop every kernel the server runs: notebooks opened only to be looked at must not slow later runs."""
    def call(path: str, method: str = "GET") -> bytes:
        request = urllib.request.Request(f"{url}{path}?token={token}", method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    for kernel in json.loads(call("/api/kernels")):
        call(f"/api/kernels/{kernel['id']}", "DELETE")


def assert_aspect_ratios_kept(page) -> None:
    images = page.evaluate(IMAGES)
    assert images, "no image is shown"
    for image in images:
        (natural_w, natural_h), (shown_w, shown_h) = image["natural"], image["shown"]
        assert shown_h > 0 and abs(shown_w / shown_h - natural_w / natural_h) < 0.03 * natural_w / natural_h, image


def cell_of(page, css_class: str):
    cell = page.locator(".jp-CodeCell", has=page.locator(f".{css_class}"))
    assert cell.count() == 1, f"no single cell shows .{css_class}"
    return cell


def wait_for_every_cell(page, timeout: int) -> list:
    """Wait until every code cell has run and the kernel is idle; on a timeout, say which cells had not run."""
    try:
        page.wait_for_function(f"({CELLS})().every(cell => cell.count !== null) && {KERNEL}.status === 'idle'",
                               timeout=timeout, polling=500)
    except sync_api.TimeoutError:
        state = page.evaluate(f"[window.jupyterapp.shell.currentWidget.context.path, {KERNEL}.status, ({CELLS})()]")
        pytest.fail(f"not every cell ran within {timeout / 1000:.0f} s: tab, kernel, cells = {state}")
    return page.evaluate(CELLS)


def wait_for_status(page, cell, pattern: str, timeout: int = 120_000) -> str:
    """Wait until the experiment's status line matches ``pattern`` (a JS regular expression); return it."""
    handle = cell.locator(".nst-status").element_handle()
    page.wait_for_function(f"el => /{pattern}/.test(el.textContent)", arg=handle, timeout=timeout, polling=200)
    return cell.locator(".nst-status").inner_text()


def assert_one_clean_line(cell, status: str) -> None:
    """A learner's mistake: one status line, and no traceback or error text in the output area."""
    assert "\n" not in status.strip() and "Traceback" not in status, status
    output = cell.locator(".nst-output").inner_text()
    assert output.strip() == "", output


@pytest.mark.parametrize("screen", SCREENS)
def test_each_notebook_shows_a_picture_of_its_experiment_before_it_runs(jupyterlab, browser, shots, screen):
    """Opened as downloaded (not trusted, no kernel state): JupyterLab falls back to the stored PNG, as GitHub does."""
    url, token = jupyterlab
    for name, (notebook, text, _, class_name) in EXPERIMENTS.items():
        page = open_notebook(browser, url, token, notebook, screen)
        try:
            cell = page.locator(".jp-CodeCell", has=page.locator(".jp-InputArea", has_text=text.rstrip("(")))
            cell.first.wait_for(state="attached", timeout=60_000)  # JupyterLab draws long notebooks bit by bit
            page.wait_for_timeout(1000)  # and restores the scroll position once it has
            assert cell.count() == 1, f"{notebook}: {cell.count()} cells with {text!r}"
            cell.evaluate("el => el.scrollIntoView({block: 'start'})")
            output = cell.locator(".jp-OutputArea-output").first
            text_shown = output.inner_text()
            assert f"{class_name}(children" not in text_shown, f"{notebook}: the first view is raw text"
            image = output.locator("img")
            assert image.count() == 1, f"{notebook}: no picture of the experiment in the stored output (re-execute it)"
            assert image.evaluate("img => img.naturalWidth") > 200
            output.screenshot(path=str(shots / f"first_view_{name}_{screen}.png"))  # scrolled into view
            assert_aspect_ratios_kept(page)
        finally:
            page.close()
            shut_down_kernels(url, token)


def test_the_four_experiments_as_a_class_uses_them(jupyterlab, browser, shots):
    url, token = jupyterlab
    shut_down_kernels(url, token)
    page = open_notebook(browser, url, token, "experiments.ipynb", "projector")
    try:
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        cells = wait_for_every_cell(page, timeout=240_000)
        assert all(not c["errors"] for c in cells), cells
        page.evaluate(EXECUTE, FIND)
        check_feature_map_explorer(page)
        check_style_layer_explorer(page)
        check_loss_lab(page)
        check_studio(page)
        problems = {}
        for screen, (width, height) in SCREENS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(500)
            for name, (_, _, css_class, _) in EXPERIMENTS.items():
                cell = cell_of(page, css_class)
                cell.evaluate("el => el.scrollIntoView({block: 'start'})")
                page.screenshot(path=str(shots / f"{name}_{screen}.png"))  # what the class sees
                problems[f"{name} at {width}x{height}"] = cell.evaluate(LAYOUT)
            assert_aspect_ratios_kept(page)
        print(f"\nscreenshots in {shots}")
        assert not any(problems.values()), problems
        assert page.evaluate(f"{KERNEL}.status") == "idle"
    finally:
        page.close()


def check_feature_map_explorer(page) -> None:
    cell = cell_of(page, "nst-feature-maps")
    cell.scroll_into_view_if_needed()
    before = page.evaluate(IMAGE_DIGEST, cell.locator("img.nst-feature-maps").element_handle())
    cell.locator("select").nth(1).select_option("relu3_1")  # the layer
    wait_for_status(page, cell, "^relu3_1: 256 channels")
    assert page.evaluate(IMAGE_DIGEST, cell.locator("img.nst-feature-maps").element_handle()) != before


def check_style_layer_explorer(page) -> None:
    cell = cell_of(page, "nst-gram")
    cell.scroll_into_view_if_needed()
    assert cell.locator("img.nst-result").is_hidden()  # nothing to show before the first run: no broken image
    for box in cell.locator("input[type=checkbox]").all():
        box.uncheck()
    cell.locator("button.nst-run").click()
    status = wait_for_status(page, cell, "^No style layer is ticked")
    assert_one_clean_line(cell, status)
    cell.locator("input[type=checkbox]").first.check()  # relu1_1
    cell.locator("button.nst-run").click()
    status = wait_for_status(page, cell, "^(Done|Stopped|Unexpected)")
    assert status.startswith("Done"), status
    assert_one_clean_line(cell, status)  # the old error is gone
    assert cell.locator("img.nst-result").is_visible() and cell.locator("img.nst-loss-plot").is_visible()
    layers = page.evaluate(EXECUTE, FIND + "print(sorted(shown['StyleLayerExplorer'].last_settings.style_layers))")
    assert layers.strip() == "['relu1_1']"


def check_loss_lab(page) -> None:
    cell = cell_of(page, "nst-ratio-slider")
    cell.scroll_into_view_if_needed()
    readout = cell.locator(".nst-ratio-slider .widget-readout")
    before_ratio = readout.inner_text()
    before = page.evaluate(IMAGE_DIGEST, cell.locator("img.nst-result").element_handle())
    cell.locator(".nst-ratio-slider .noUi-handle").focus()  # a learner moves the slider with the keyboard
    for _ in range(4):  # four steps of 0.25 on the log scale: the ratio drops tenfold
        page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"document.querySelector('.nst-ratio-slider .widget-readout').textContent "
                           f"!== {json.dumps(before_ratio)}", timeout=10_000)
    # ipywidgets holds back a slider's later values until the kernel has answered its first, while a button's click
    # goes at once: click only when the kernel has the slider's last value, as a person's pause before clicking does.
    wait_for_kernel_value(page, "shown['LossLab'].ratio_slider.value", float(before_ratio) / 10)
    cell.locator("button.nst-run").click()
    status = wait_for_status(page, cell, "^(Done|Stopped|Unexpected)")
    assert status.startswith("Done"), status
    page.wait_for_function(f"{KERNEL}.status === 'idle'", timeout=30_000)
    assert page.evaluate(IMAGE_DIGEST, cell.locator("img.nst-result").element_handle()) != before
    checked = page.evaluate(EXECUTE, FIND + "lab = shown['LossLab']\n"
                                            "print(lab.ratio_slider.value, lab.last_settings.style_weight, lab.runs)")
    ratio, style_weight, runs = (float(value) for value in checked.split())
    assert ratio == pytest.approx(float(before_ratio) / 10, rel=0.05)  # the readout shows 2 digits
    assert style_weight == pytest.approx(1 / ratio) and runs == 1  # and the optimizer used it
    stop_a_run(page, cell, "LossLab")


def wait_for_kernel_value(page, expression: str, target: float, timeout: float = 15.0) -> None:
    """Poll the kernel until ``expression`` is within 5 % of ``target`` (readouts show 2 digits); fail after
    ``timeout`` seconds with the last value seen."""
    deadline, value = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        value = float(page.evaluate(EXECUTE, FIND + f"print({expression})"))
        if value == pytest.approx(target, rel=0.05):
            return
        time.sleep(0.2)
    raise AssertionError(f"the kernel's {expression} stayed at {value}, not {target:.4g}, for {timeout} s")


def stop_a_run(page, cell, class_name: str) -> None:
    """A long run, ended by the experiment's own Stop button: the best image so far, and counts that agree."""
    page.evaluate(EXECUTE, FIND + f"shown[{class_name!r}].steps_slider.value = 100\n"
                                  f"shown[{class_name!r}].size_slider.value = 256")
    page.wait_for_function(f"{KERNEL}.status === 'idle'", timeout=30_000)
    assert "Estimated time" in cell.locator(".nst-estimate").inner_text()
    cell.locator("button.nst-run").click()
    wait_for_status(page, cell, "^Step [0-9]+ of")
    cell.locator("button.nst-stop").click()
    status = wait_for_status(page, cell, "^(Done|Stopped|Unexpected)", timeout=60_000)
    assert status.startswith("Stopped after") and "nan" not in status, status
    page.wait_for_function(f"{KERNEL}.status === 'idle'", timeout=30_000)
    done = page.evaluate(EXECUTE, FIND + f"r = shown[{class_name!r}].last_result\n"
                                         "print(r.interrupted, r.steps_done)")
    interrupted, steps = done.split()
    assert interrupted == "True" and status.startswith(f"Stopped after {steps} of ") and int(steps) < 100, status
    assert_one_clean_line(cell, status)
    assert not cell.locator("button.nst-run").is_disabled() and cell.locator("button.nst-stop").is_disabled()


def check_studio(page) -> None:
    cell = cell_of(page, "nst-content-upload")
    cell.scroll_into_view_if_needed()
    assert cell.locator("img.nst-loss-plot").is_hidden()  # no empty 0-1 plot before the first run
    upload = cell.locator(".nst-style-upload")
    with page.expect_file_chooser() as chooser:  # a learner picks a file that is not an image
        upload.click()
    chooser.value.set_files(files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not pixels"}])
    status = wait_for_status(page, cell, "^Upload skipped")
    assert "notes.png is not an image" in status
    assert_one_clean_line(cell, status)
    page.wait_for_function("el => !/\\(1\\)/.test(el.textContent)", arg=upload.element_handle(), timeout=10_000)
    assert cell.locator("select").nth(1).input_value() == "swirls"  # the style is still the last good one
    cell.locator("button.nst-run").click()
    status = wait_for_status(page, cell, "^(Done|Stopped|Unexpected)")
    assert status.startswith("Done"), status
    assert_one_clean_line(cell, status)  # the upload's message is gone
