"""The widget studio in a real browser: JupyterLab on localhost, notebook 05 run in Debian's headless
Chromium (selenium, with Debian's chromedriver: nothing downloads a browser), the studio found, its
sliders rendered as widgets, Generate clicked, the player, the score and the piano roll shown, the
Compose tab's keyboard drawn and a melody harmonised, the Tokens tab and the download links looked
at, and no JavaScript error in the console.

Needs `apt-get install chromium chromium-driver` and `pip install selenium`. Without them it is
skipped, except in CI, where it fails and says what is missing. Deselect it with `-m "not browser"`.
Screenshots and the server's log go to out/browser/; a copy of the notebook's studio part (its
opening, the model cell and the studio: nbval runs the rest) is run there, so the committed
notebook is never saved with outputs.
"""

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
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "05_generation.ipynb"
OUT = ROOT / "out" / "browser"  # git-ignored
RUN_TIMEOUT = 300  # seconds for the studio's part of the notebook in quick mode (well under a minute here)
GENERATE_TIMEOUT = 120

# What the browser log may hold that is not a JavaScript error of the page (see `javascript_errors`);
# besides these, failed loads from other hosts than the server (offline: the Colab badge of the intro).
IGNORED_LOG = (
    "favicon",  # a missing icon is a 404, not a script error
)


def _missing() -> list[str]:
    """What this test needs that the machine lacks, each with how to get it."""
    missing = []
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install selenium)")
    if not _executable("CHROMIUM", "chromium"):
        missing.append("Chromium (apt-get install chromium)")
    if not _executable("CHROMEDRIVER", "chromedriver"):
        missing.append("chromedriver (apt-get install chromium-driver)")
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        missing.append("JupyterLab (pip install jupyterlab)")
    return missing


def _executable(variable: str, name: str) -> str | None:
    """$VARIABLE, else `name` on the PATH, else Debian's /usr/bin/name."""
    found = os.environ.get(variable) or shutil.which(name) or f"/usr/bin/{name}"
    return found if os.access(found, os.X_OK) else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


@pytest.fixture(scope="module")
def needs():
    missing = _missing()
    if missing:
        message = "the browser test needs " + ", ".join(missing)
        if "CI" in os.environ:
            pytest.fail(message + " (in CI it must run, not be skipped)", pytrace=False)
        pytest.skip(message)


def _studio_part(notebook: dict) -> dict:
    """Notebook 05 cut to what the studio needs: its opening (title, setup, parameters), the model and
    training rows, and the studio. nbval runs the whole notebook already; here the browser is the point."""
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    needed = code[:2] + [c for c in code if any(k in "".join(c["source"]) for k in ("studio.bundled()", "studio.Studio("))]
    assert len(needed) == 4, "notebook 05 no longer has its model cell and its studio cell"
    return notebook | {"cells": [notebook["cells"][0]] + needed}


@pytest.fixture(scope="module")
def server(needs):
    """(base URL, token, notebook path relative to the root) of a JupyterLab on 127.0.0.1, in quick
    mode, with its own settings, workspaces and runtime folders under out/browser/; killed afterwards."""
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    _write_json(OUT / NOTEBOOK.name, _studio_part(json.loads(NOTEBOOK.read_text())))
    settings = OUT / "jupyter" / "settings"
    # every cell in the page (no windowing), no news or update checks (they would reach the network)
    _write_json(settings / "@jupyterlab/notebook-extension/tracker.jupyterlab-settings", {"windowingMode": "none", "recordTiming": True})
    _write_json(settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JSFAKES_QUICK="1", MPLBACKEND="Agg", WANDB_MODE="offline",
               JUPYTER_CONFIG_DIR=str(OUT / "jupyter" / "config"), JUPYTER_RUNTIME_DIR=str(OUT / "jupyter" / "runtime"),
               JUPYTER_PLATFORM_DIRS="1")
    command = [sys.executable, "-m", "jupyterlab", "--ServerApp.open_browser=False", "--allow-root",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
               "--ServerApp.terminals_enabled=False", "--LabApp.expose_app_in_browser=True",
               f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={OUT / 'jupyter' / 'workspaces'}",
               "--LabApp.extension_manager=readonly", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = (OUT / "jupyter.log").open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)  # its own group: the kernels go with it
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"Jupyter exited with {process.returncode}: see {OUT / 'jupyter.log'}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"Jupyter did not start within 60 s: see {OUT / 'jupyter.log'}", pytrace=False)
                time.sleep(0.5)
        yield base, token, (OUT / NOTEBOOK.name).relative_to(ROOT).as_posix()
    finally:
        process.terminate()  # Jupyter shuts its kernels down on SIGTERM
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)  # whatever of this group is left
        except ProcessLookupError:
            pass
        process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(server):  # after the server: it empties out/browser/, where the profile lives
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _executable("CHROMIUM", "chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--disable-default-apps", "--disable-extensions",
                     f"--user-data-dir={OUT / 'chromium'}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(_executable("CHROMEDRIVER", "chromedriver"),
                                              log_output=str(OUT / "chromedriver.log")), options=options)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


class Page:
    """The notebook page and everything its console said."""

    def __init__(self, driver):
        self.driver = driver
        self.log = []

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def wait(self, what: str, script: str, timeout: float, *args):
        """Poll `script` (a function body returning a truthy value when done) until it is; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(script, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; the page: {self.js(WHERE)}")
            time.sleep(0.5)

    def javascript_errors(self, base: str) -> list[str]:
        """The SEVERE entries of the console so far, less IGNORED_LOG and resources of other hosts."""
        self.log += self.driver.get_log("browser")
        return [f"{e['source']}: {e['message']}" for e in self.log
                if e["level"] == "SEVERE" and not any(noise in e["message"] for noise in IGNORED_LOG)
                and not (e["source"] == "network" and not e["message"].startswith(base + "/"))]


# the notebook's panel: the main area's one notebook (the shell's *current* widget is the focused one,
# and a headless window may never give the notebook focus)
PANEL = "[...window.jupyterapp.shell.widgets('main')].find(w => w.sessionContext && w.content)"

NOTEBOOK_STATE = """
const panel = window.jupyterapp && PANEL;
if (!panel || !panel.content || !panel.sessionContext || !panel.context.isReady) return null;
const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
const cells = panel.content.widgets.filter(c => c.model.type === 'code');
const errors = [];
for (const [i, cell] of cells.entries()) {
  for (let k = 0; k < cell.model.outputs.length; k++) {
    const output = cell.model.outputs.get(k).toJSON();
    if (output.output_type === 'error') errors.push(`code cell ${i + 1}: ${output.ename}: ${output.evalue}`);
  }
}
return {kernel: kernel ? kernel.status : null, counts: cells.map(c => c.model.executionCount),
        running: cells.filter(c => c.node.querySelector('.jp-InputPrompt').textContent.includes('*')).length,
        errors: errors};
"""

# what a wait that timed out saw: enough to tell a page that never loaded from a kernel that never started
WHERE = """
const app = window.jupyterapp, panel = app && PANEL;
const session = panel && panel.sessionContext;
return {app: !!app, panel: panel ? panel.constructor.name : null, ready: !!(panel && panel.context && panel.context.isReady),
        kernel: session && session.session && session.session.kernel ? session.session.kernel.status : null,
        dialog: (document.querySelector('.jp-Dialog') || {}).textContent || null};
"""

# the three slowest code cells, (number, seconds), from the timings JupyterLab recorded
SLOWEST = """
const cells = PANEL.content.widgets.filter(c => c.model.type === 'code');
const seconds = cells.map((c, i) => {
  const t = c.model.getMetadata('execution') || {};
  return [i + 1, Math.round((Date.parse(t['shell.execute_reply']) - Date.parse(t['iopub.execute_input'])) / 1000)];
});
return seconds.sort((a, b) => b[1] - a[1]).slice(0, 3);
"""

# the studio: the output of the last code cell
STUDIO = """
const cells = PANEL.content.widgets.filter(c => c.model.type === 'code');
return cells[cells.length - 1].node.querySelector('.jp-OutputArea');
"""

NOTEBOOK_STATE, WHERE, SLOWEST, STUDIO = (js.replace("PANEL", PANEL) for js in (NOTEBOOK_STATE, WHERE, SLOWEST, STUDIO))

# the words in an element that the browser drew across two lines (broken in the middle), and how
# many lines it drew
BROKEN_WORDS = """
const broken = [], lines = new Set(), walker = document.createTreeWalker(arguments[0], NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  for (const match of node.data.matchAll(/\\S+/g)) {
    const range = document.createRange();
    range.setStart(node, match.index);
    range.setEnd(node, match.index + match[0].length);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    if (tops.size > 1) broken.push(match[0]);
    tops.forEach(top => lines.add(top));
  }
}
return {broken: broken, lines: lines.size};
"""


def test_the_studio_in_a_browser(server, browser):
    from selenium.webdriver.common.by import By

    base, token, path = server
    page = Page(browser)
    try:
        started = time.monotonic()
        browser.get(f"{base}/lab/tree/{path}?token={token}&reset")
        page.wait("the notebook and its kernel", "const s = (() => {" + NOTEBOOK_STATE + "})();"
                  "return s && s.kernel === 'idle' && s.counts.length > 0;", 90)
        print(f"\nnotebook open, kernel idle: {time.monotonic() - started:.0f} s")
        page.js(f"const panel = {PANEL}; window.jupyterapp.shell.activateById(panel.id);"
                "return window.jupyterapp.commands.execute('notebook:run-all-cells')")
        state = page.wait("the notebook to run", "const s = (() => {" + NOTEBOOK_STATE + "})();"
                          "return s && s.kernel === 'idle' && !s.running && "
                          "(s.errors.length || s.counts.every(n => n !== null)) && s;", RUN_TIMEOUT)
        print(f"notebook run: {time.monotonic() - started:.0f} s")
        assert not state["errors"], f"the notebook failed: {state['errors']}"
        print("slowest cells (code cell, s):", page.js(SLOWEST))

        studio = page.js(STUDIO)
        browser.execute_script("arguments[0].scrollIntoView()", studio)
        text = studio.text
        assert "Tab(children" not in text and "Error displaying widget" not in text, f"no widgets: {text[:300]}"
        tabs = [t.text for t in studio.find_elements(By.CSS_SELECTOR, ".lm-TabBar-tab")]
        assert tabs == ["Audio generation", "Compose", "Tokens"], tabs
        sliders = [s for s in studio.find_elements(By.CSS_SELECTOR, ".widget-slider") if s.is_displayed()]  # this tab's
        labels = [s.find_element(By.CSS_SELECTOR, "label").text for s in sliders]
        assert {"first note", "BPM", "temperature", "top-p", "best of"} <= set(labels), labels
        for slider in sliders:  # a drawn slider with its handle, not text
            handle = slider.find_element(By.CSS_SELECTOR, ".noUi-handle, .ui-slider-handle")
            assert slider.size["width"] > 100 and handle.is_displayed(), slider.get_attribute("outerHTML")[:300]

        button = next(b for b in studio.find_elements(By.CSS_SELECTOR, "button") if b.text.strip() == "Generate")
        button.click()
        shown = page.wait("the player, the score and the piano roll", """
            const studio = arguments[0], audio = studio.querySelector('audio');
            const svg = studio.querySelector('div.jsfakes-score svg'), img = studio.querySelector('.widget-image');
            return audio && audio.src && svg && img && img.naturalWidth > 0 &&
                   {src: audio.src.slice(0, 5), width: svg.getBoundingClientRect().width,
                    staves: svg.querySelectorAll('.staff').length, roll: img.naturalWidth};""",
                          GENERATE_TIMEOUT, studio)
        print(f"generated: {time.monotonic() - started:.0f} s")
        size = browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch(arguments[0].querySelector('audio').src).then(r => r.blob()).then(b => done(b.size),
                                                                                    e => done(String(e)));""",
                                            studio)
        assert isinstance(size, int) and size > 44_000, f"the player has no sound: {size}"  # > 0.5 s of WAV
        assert shown["width"] > 200 and shown["staves"] >= 4, shown  # the score drawn, four staves
        assert "Could not" not in studio.text
        browser.execute_script("arguments[0].scrollIntoView()", studio)
        browser.save_screenshot(str(OUT / "studio.png"))

        # the download links look like links: a colour of their own, or underlined
        links = page.js("""
            return [...arguments[0].querySelectorAll('a[download]')].map(a => {
              const style = getComputedStyle(a), around = getComputedStyle(a.parentElement);
              return {label: a.textContent, href: a.href.slice(0, 20), color: style.color, text: around.color,
                      decoration: style.textDecorationLine, cursor: style.cursor};
            });""", studio)
        assert [link["label"] for link in links] == ["MIDI", "WAV", "tokens"], links
        for link in links:
            assert link["href"].startswith("data:"), link
            assert link["color"] != link["text"] or "underline" in link["decoration"], f"not styled as a link: {link}"

        # the Compose tab: the keyboard and the melody's piano roll drawn, the example melody harmonised
        next(t for t in studio.find_elements(By.CSS_SELECTOR, ".lm-TabBar-tab") if t.text == "Compose").click()
        keys = page.wait("the keyboard", """
            const keys = [...arguments[0].querySelectorAll('button')].filter(b => b.offsetParent &&
                /^[a-g](is|es|s)?('*|,*)$/.test(b.textContent.trim()));
            const roll = [...arguments[0].querySelectorAll('.widget-image')].find(i => i.offsetParent);
            return keys.length === 24 && roll && roll.naturalWidth > 0 && keys.length;""", 30, studio)
        assert keys == 24
        button = next(b for b in studio.find_elements(By.CSS_SELECTOR, "button") if b.text.strip() == "Compose")
        button.click()
        composed = page.wait("the harmonisation's player and score", """
            const audio = [...arguments[0].querySelectorAll('audio')].find(a => a.offsetParent && a.src);
            const svg = [...arguments[0].querySelectorAll('div.jsfakes-score svg')].find(s => s.getBoundingClientRect().width);
            return audio && svg && {staves: svg.querySelectorAll('.staff').length};""", GENERATE_TIMEOUT, studio)
        assert composed["staves"] >= 4 and "Could not" not in studio.text, composed
        print(f"composed: {time.monotonic() - started:.0f} s")
        browser.save_screenshot(str(OUT / "compose.png"))

        # the Tokens tab: whole words on every line
        next(t for t in studio.find_elements(By.CSS_SELECTOR, ".lm-TabBar-tab") if t.text == "Tokens").click()
        pre = page.wait("the tokens", """
            const pre = [...arguments[0].querySelectorAll('pre')].find(p => p.offsetParent && p.textContent.includes('PIECE_START'));
            return pre || null;""", 30, studio)
        style = page.js("const s = getComputedStyle(arguments[0]); return [s.wordBreak, s.overflowWrap, s.whiteSpace];",
                        pre)
        assert style[0] != "break-all", f"the tokens' <pre> breaks words: word-break {style[0]}"
        lines = pre.text.splitlines()  # a bar a line, as written
        drawn = page.js(BROKEN_WORDS, pre)
        assert len(lines) >= 4 and drawn["lines"] > len(lines), "no line wrapped: this window proves nothing"
        assert not drawn["broken"], f"words broken across lines in the Tokens tab ({style}): {drawn['broken'][:10]}"
        browser.save_screenshot(str(OUT / "tokens.png"))

        errors = page.javascript_errors(base)
        assert not errors, f"JavaScript errors in the console: {errors}"
    except BaseException:
        _quietly(browser.save_screenshot, str(OUT / "failure.png"))
        raise
    finally:
        _quietly(page.javascript_errors, base)  # the rest of the log
        (OUT / "console.json").write_text(json.dumps(page.log, indent=1))


def _quietly(function, *args):
    """For the evidence kept after a failure: a dead browser must not hide the failure itself."""
    try:
        function(*args)
    except Exception:  # noqa: BLE001
        pass
