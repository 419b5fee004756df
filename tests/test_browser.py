"""The widget studio in a real browser: JupyterLab on localhost, notebook 05 run in Debian's headless
Chromium (selenium, with Debian's chromedriver: nothing downloads a browser), the studio found, its
sliders rendered as widgets, Generate pressed three times and Compose twice with other settings each
time (each press's own player, score, piano roll and tokens on screen), the Compose tab's keyboard
drawn, the Tokens tab and the download links looked at, no JavaScript error in the console and
nothing in JupyterLab's log. All of it twice: with comms over kernel subshells (JupyterLab 4.6's
default, where widget callbacks run in a worker thread of the kernel) and without.

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


SUBSHELLS = ("perCommTarget", "disabled")  # JupyterLab's commsOverSubshells: its default, and off


@pytest.fixture(scope="module", params=SUBSHELLS)
def server(needs, request):
    """(base URL, token, notebook path relative to the root, folder for the evidence) of a JupyterLab on
    127.0.0.1, in quick mode, comms over subshells as the parameter says, with its own settings,
    workspaces and runtime folders under out/browser/MODE/; killed afterwards."""
    out = OUT / request.param
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    _write_json(out / NOTEBOOK.name, _studio_part(json.loads(NOTEBOOK.read_text())))
    settings = out / "jupyter" / "settings"
    _write_json(settings / "@jupyterlab/apputils-extension/kernels.jupyterlab-settings",
                {"commsOverSubshells": request.param})
    # every cell in the page (no windowing), no news or update checks (they would reach the network)
    _write_json(settings / "@jupyterlab/notebook-extension/tracker.jupyterlab-settings", {"windowingMode": "none", "recordTiming": True})
    _write_json(settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JSFAKES_QUICK="1", MPLBACKEND="Agg", WANDB_MODE="offline",
               JUPYTER_CONFIG_DIR=str(out / "jupyter" / "config"), JUPYTER_RUNTIME_DIR=str(out / "jupyter" / "runtime"),
               JUPYTER_PLATFORM_DIRS="1")
    command = [sys.executable, "-m", "jupyterlab", "--ServerApp.open_browser=False", "--allow-root",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
               "--ServerApp.terminals_enabled=False", "--LabApp.expose_app_in_browser=True",
               f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={out / 'jupyter' / 'workspaces'}",
               "--LabApp.extension_manager=readonly", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = (out / "jupyter.log").open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)  # its own group: the kernels go with it
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"Jupyter exited with {process.returncode}: see {out / 'jupyter.log'}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"Jupyter did not start within 60 s: see {out / 'jupyter.log'}", pytrace=False)
                time.sleep(0.5)
        yield base, token, (out / NOTEBOOK.name).relative_to(ROOT).as_posix(), out
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
def browser(server):  # after the server: it empties out/browser/MODE/, where the profile lives
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _executable("CHROMIUM", "chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--disable-default-apps", "--disable-extensions",
                     f"--user-data-dir={server[3] / 'chromium'}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(_executable("CHROMEDRIVER", "chromedriver"),
                                              log_output=str(server[3] / "chromedriver.log")), options=options)
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


# what the studio shows now: the status lines, the headings, the audio on screen, the tokens, the score
SCREEN = """
const studio = arguments[0], shown = e => e.offsetParent !== null;
const audio = [...studio.querySelectorAll('audio')].find(a => shown(a) && a.src);
const svg = [...studio.querySelectorAll('div.jsfakes-score svg')].find(s => s.getBoundingClientRect().width > 0);
const roll = [...studio.querySelectorAll('.widget-image')].filter(i => shown(i) && i.naturalWidth > 0);
const heading = [...studio.querySelectorAll('b')].find(b => shown(b) && /^(Generation|Composition) \\d+$/.test(b.textContent));
const tokens = studio.querySelector('.jsfakes-tokens');
return {audio: audio ? audio.src : null, staves: svg ? svg.querySelectorAll('.staff').length : 0,
        width: svg ? svg.getBoundingClientRect().width : 0, rolls: roll.length,
        heading: heading ? heading.parentElement.textContent : null,
        tokens: [...studio.querySelectorAll('.jsfakes-tokens')].map(t => t.textContent).join('|'),
        text: studio.innerText};
"""

# JupyterLab's log (what a callback prints, errors included): the status bar's count of its entries
LOG_ENTRIES = """
const item = document.querySelector('.jp-LogConsoleStatusItem [title]');
return item ? item.title : null;
"""


def _press(page, studio, label: str, heading: str, before: dict, timeout: float) -> dict:
    """Click the button `label`, wait for the heading of this press, a new audio source and new tokens on
    screen with the status saying it is done; what the screen shows then."""
    from selenium.webdriver.common.by import By

    button = next(b for b in studio.find_elements(By.CSS_SELECTOR, "button") if b.text.strip() == label)
    button.click()
    screen = page.wait(f"{heading} on screen", "const s = (() => {" + SCREEN + "})(); return s.heading && "
                       "s.heading.startsWith(arguments[1]) && s.audio && s.audio !== arguments[2] && "
                       "s.tokens !== arguments[3] && s.staves >= 4 && s.rolls > 0 && /piece\\(s\\) in/.test(s.text) && s;",
                       timeout, studio, heading, before.get("audio"), before.get("tokens"))
    assert "Could not" not in screen["text"] and "earlier press" not in screen["text"], screen["text"][:500]
    return screen


def _set_text(browser, element, value: str) -> None:
    """Type into a widget's text box as a user does: select all, type, leave the box (its value is sent)."""
    from selenium.webdriver.common.keys import Keys

    element.click()
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(value)
    element.send_keys(Keys.TAB)


def _control(studio, label: str, css: str):
    """The input (`css`) of the visible widget whose label is `label`."""
    from selenium.webdriver.common.by import By

    for widget in studio.find_elements(By.CSS_SELECTOR, ".widget-inline-hbox"):
        labels = widget.find_elements(By.CSS_SELECTOR, "label")
        if widget.is_displayed() and labels and labels[0].text.strip() == label:
            return widget.find_element(By.CSS_SELECTOR, css)
    raise AssertionError(f"no visible control labelled {label!r}")


def test_the_studio_in_a_browser(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    base, token, path, out = server
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
        first_note = next(s for s in sliders if s.find_element(By.CSS_SELECTOR, "label").text == "first note")
        assert first_note.find_element(By.CSS_SELECTOR, ".widget-readout").text == "67 · G4"  # a number and a name

        # Generate, three times, each with other settings: each press's own music on screen
        screen = _press(page, studio, "Generate", "Generation 1: 1 piece(s) starting with the soprano on G4", {},
                        GENERATE_TIMEOUT)
        print(f"generated: {time.monotonic() - started:.0f} s")
        size = browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch(arguments[0].querySelector('audio').src).then(r => r.blob()).then(b => done(b.size),
                                                                                    e => done(String(e)));""",
                                            studio)
        assert isinstance(size, int) and size > 44_000, f"the player has no sound: {size}"  # > 0.5 s of WAV
        assert screen["width"] > 200 and screen["staves"] >= 4, screen  # the score drawn, four staves
        browser.execute_script("arguments[0].scrollIntoView()", studio)
        browser.save_screenshot(str(out / "studio.png"))

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

        Select(_control(studio, "starting voice", "select")).select_by_visible_text("alto")
        page.wait("the first note to follow the voice", "return arguments[0].textContent.includes('·')",
                  10, first_note.find_element(By.CSS_SELECTOR, ".widget-readout"))
        _set_text(browser, _control(studio, "seed", "input"), "5")
        screen = _press(page, studio, "Generate", "Generation 2: 1 piece(s) starting with the alto", screen,
                        GENERATE_TIMEOUT)
        assert "seed 5" in screen["heading"] and screen["tokens"].count("PIECE_START") == 1, screen["heading"]
        assert screen["tokens"].split("TRACK_START")[1].strip().startswith("INST=48 (alto)"), screen["tokens"][:200]

        pieces = _control(studio, "pieces", ".noUi-handle, .ui-slider-handle")
        pieces.click()
        pieces.send_keys(Keys.ARROW_RIGHT)  # 2 pieces
        page.wait("two pieces chosen", "return arguments[0].textContent.trim() === '2'", 10,
                  pieces.find_element(By.XPATH, "ancestor::div[contains(@class, 'widget-slider')]")
                  .find_element(By.CSS_SELECTOR, ".widget-readout"))
        screen = _press(page, studio, "Generate", "Generation 3: 2 piece(s) starting with the alto", screen,
                        GENERATE_TIMEOUT)
        assert screen["tokens"].count("PIECE_START") == 2 and "piece 2" in screen["text"], screen["text"][:300]
        browser.save_screenshot(str(out / "studio-third-press.png"))

        # the Compose tab: the keyboard (English names, a legend) and the melody's roll; harmonise twice
        next(t for t in studio.find_elements(By.CSS_SELECTOR, ".lm-TabBar-tab") if t.text == "Compose").click()
        keys = page.wait("the keyboard", """
            const keys = [...arguments[0].querySelectorAll('button')].filter(b => b.offsetParent &&
                /^[A-G][♯♭]?[0-9]$/.test(b.textContent.trim()));
            const roll = [...arguments[0].querySelectorAll('.widget-image')].find(i => i.offsetParent);
            return keys.length === 24 && roll && roll.naturalWidth > 0 && keys.map(k => k.textContent.trim());""",
                         30, studio)
        assert keys[:4] == ["C4", "C♯4", "D4", "E♭4"] and "LilyPond words" in studio.text, keys
        uploads = [b for b in studio.find_elements(By.CSS_SELECTOR, ".jupyter-button, button")
                   if b.is_displayed() and "melody file" in b.text]
        assert uploads and page.js("return arguments[0].scrollWidth <= arguments[0].clientWidth + 1", uploads[0]), \
            "the upload button's label is cut"
        screen = _press(page, studio, "Compose", "Composition 1: the soprano melody", screen, GENERATE_TIMEOUT)
        print(f"composed: {time.monotonic() - started:.0f} s")
        melody_box = _control(studio, "melody", "textarea")
        _set_text(browser, melody_box, "c4 d e f | g1")  # below the soprano: moved, and the studio says so
        page.wait("the melody's warning", "return arguments[0].innerText.includes('moved 1 octave up')", 30, studio)
        screen = _press(page, studio, "Compose", "Composition 2: the soprano melody “c4 d e f | g1”", screen,
                        GENERATE_TIMEOUT)
        assert "moved 1 octave up" in screen["text"]
        history = [b.text for b in studio.find_elements(By.CSS_SELECTOR, ".widget-toggle-button")
                   if b.is_displayed() and b.text.startswith("composition")]
        assert history == ["composition 2", "composition 1"], history
        browser.save_screenshot(str(out / "compose.png"))

        # the Tokens tab: whole words on every line, a wrapped bar's rest indented past its start
        next(t for t in studio.find_elements(By.CSS_SELECTOR, ".lm-TabBar-tab") if t.text == "Tokens").click()
        box = page.wait("the tokens", """
            return [...arguments[0].querySelectorAll('.jsfakes-tokens')].find(p => p.offsetParent) || null;""", 30,
                        studio)
        style = page.js("const s = getComputedStyle(arguments[0]); return [s.wordBreak, s.overflowWrap];", box)
        assert style[0] != "break-all", f"the tokens break words: word-break {style[0]}"
        lines = box.find_elements(By.CSS_SELECTOR, "p")  # a bar a line, as written
        drawn = page.js(BROKEN_WORDS, box)
        assert len(lines) >= 4 and drawn["lines"] > len(lines), "no line wrapped: this window proves nothing"
        assert not drawn["broken"], f"words broken across lines in the Tokens tab ({style}): {drawn['broken'][:10]}"
        hanging = page.js("""
            return [...arguments[0].querySelectorAll('p')].map(p => {
              const range = document.createRange(); range.selectNodeContents(p);
              const rects = [...range.getClientRects()].filter(r => r.width > 0);
              const lefts = [...new Set(rects.map(r => Math.round(r.top)))].map(top =>
                  Math.min(...rects.filter(r => Math.round(r.top) === top).map(r => r.left)));
              return lefts;
            });""", box)  # per line of tokens, where each of its drawn lines starts
        wrapped = [lefts for lefts in hanging if len(lefts) > 1]
        assert wrapped and all(min(lefts[1:]) > lefts[0] for lefts in wrapped), wrapped[:3]  # a wrapped line's rest
        assert len({lefts[0] for lefts in hanging}) == 2, "bars are not indented under their track's line"
        assert "(soprano)" in box.text and "(bass)" in box.text
        browser.save_screenshot(str(out / "tokens.png"))

        errors = page.javascript_errors(base)
        assert not errors, f"JavaScript errors in the console: {errors}"
        logged = page.js(LOG_ENTRIES)
        assert logged is None or logged.startswith("0 "), f"JupyterLab's log has entries: {logged}"
    except BaseException:
        _quietly(browser.save_screenshot, str(out / "failure.png"))
        raise
    finally:
        _quietly(page.javascript_errors, base)  # the rest of the log
        (out / "console.json").write_text(json.dumps(page.log, indent=1))


def _quietly(function, *args):
    """For the evidence kept after a failure: a dead browser must not hide the failure itself."""
    try:
        function(*args)
    except Exception:  # noqa: BLE001
        pass
