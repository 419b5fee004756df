"""Settings read from the environment: quick mode, Colab, where the data and the caches live.

Every notebook's parameters cell starts with `QUICK = config.quick_mode()`.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import os
import sys
from pathlib import Path

DATA_DIR_VARIABLE = "JSFAKES_DATA_DIR"  # another JS-Fakes folder (with midi/), e.g. a clone of js-fakes
CACHE_VARIABLE = "JSFAKES_CACHE"  # where downloads and converted corpora are kept


def quick_mode() -> bool:
    """True in CI or when JSFAKES_QUICK is set: notebooks shrink their work to run in seconds."""
    return "CI" in os.environ or os.environ.get("JSFAKES_QUICK", "") not in ("", "0")


def on_colab() -> bool:
    """True inside Google Colab."""
    return "COLAB_RELEASE_TAG" in os.environ or "google.colab" in sys.modules


# The JS-Fakes chorales ship inside the package (CC BY 4.0, by Omar Peracha; see its README and LICENSE).
JSFAKES = Path(str(importlib.resources.files("jsfakes_utils") / "js-fakes"))


def jsfakes_dir(data_dir: str | Path | None = None) -> Path:
    """The JS-Fakes folder: the argument, else JSFAKES_DATA_DIR, else the one shipped in the package.

    Raises FileNotFoundError when the folder has no midi/ inside.
    """
    given = data_dir or os.environ.get(DATA_DIR_VARIABLE)
    folder = Path(given).expanduser() if given else JSFAKES
    if not (folder / "midi").is_dir():
        raise FileNotFoundError(f"{folder} is not a JS-Fakes folder: it has no midi/ inside")
    return folder


QUIET = False  # no progress bars (the CLI's --quiet and the studio's work set it)
PROGRESS_AFTER = 2.0  # seconds a loop runs before its bar shows: short work stays quiet


def progress(items, what: str, total: int | None = None):
    """`items`, with a progress bar once the loop has run PROGRESS_AFTER s (tqdm), gone when the loop ends.

    In a terminal the bar is a line of stderr; in a notebook it is one output updated in place, which
    ends empty, so a saved notebook keeps no half-full bars. Quiet when output goes neither to a terminal
    nor to a notebook, in quick mode (CI), and with QUIET.
    """
    from tqdm import tqdm

    notebook = "ipykernel" in sys.modules
    shown = not QUIET and not quick_mode() and (notebook or sys.stderr.isatty())
    return tqdm(items, desc=what, total=total, disable=not shown, delay=PROGRESS_AFTER, leave=False, unit="",
                file=_Output() if notebook and shown else None, ncols=100 if notebook else None)


class _Output:
    """A file for tqdm that is one notebook output, replaced at each write (an IPython display handle)."""

    def __init__(self):
        self.handle = None  # displayed at the first write: a loop done before PROGRESS_AFTER shows nothing

    def write(self, text: str) -> None:
        from IPython.display import display

        drawn = [part.strip() for part in text.split("\r") if part.strip()]  # tqdm redraws after a \r
        line = drawn[-1] if drawn else ""  # blank: the bar was closed
        if self.handle is None:
            if line:
                self.handle = display({"text/plain": line}, raw=True, display_id=True)
        else:
            self.handle.update({"text/plain": line}, raw=True)

    def flush(self) -> None:
        pass


@contextlib.contextmanager
def quiet():
    """No progress bars while inside (the studio's buttons: their status line says what is happening)."""
    global QUIET
    before, QUIET = QUIET, True
    try:
        yield
    finally:
        QUIET = before


def cache_dir() -> Path:
    """The cache folder (JSFAKES_CACHE, else ~/.cache/jsfakes), created if missing."""
    folder = Path(os.environ.get(CACHE_VARIABLE) or Path.home() / ".cache" / "jsfakes").expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder



# The first code cell of every notebook, the same in each (tests/test_notebooks.py compares them): the
# one place that names the repository and the ref Colab installs from. It keeps Colab's own torch (the
# package only needs torch >= 2.4), adds the sound packages, and turns on Colab's widget manager.
REPOSITORY, REF = "https://github.com/jsfakes/jsfakes", "main"
COLAB_SETUP = f"""# Setup, on Colab only (elsewhere this cell does nothing): the jsfakes package with its chorales and
# models, FluidSynth with the FluidR3 instruments, and the widgets. The same cell opens every notebook.
import subprocess, sys
if "google.colab" in sys.modules:
    subprocess.run("apt-get -qq update && apt-get -qq install -y libfluidsynth3 fluid-soundfont-gm",
                   shell=True, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "jsfakes-utils @ git+{REPOSITORY}@{REF}"], check=True)
    from google.colab import output
    output.enable_custom_widget_manager()"""
