"""Settings read from the environment: quick mode, Colab, where the data and the caches live.

Every notebook's parameters cell starts with `QUICK = config.quick_mode()`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DATA_DIR_VARIABLE = "JSFAKES_DATA_DIR"  # a JS-Fakes folder (with midi/), e.g. a clone of js-fakes
CACHE_VARIABLE = "JSFAKES_CACHE"  # where downloads and converted corpora are kept


def quick_mode() -> bool:
    """True in CI or when JSFAKES_QUICK is set: notebooks shrink their work to run in seconds."""
    return "CI" in os.environ or os.environ.get("JSFAKES_QUICK", "") not in ("", "0")


def on_colab() -> bool:
    """True inside Google Colab."""
    return "COLAB_RELEASE_TAG" in os.environ or "google.colab" in sys.modules


def jsfakes_dir(data_dir: str | Path | None = None) -> Path | None:
    """The JS-Fakes folder from the argument or JSFAKES_DATA_DIR, or None when neither is set.

    Raises FileNotFoundError when the folder is given but has no midi/ inside.
    """
    given = data_dir or os.environ.get(DATA_DIR_VARIABLE)
    if not given:
        return None
    folder = Path(given).expanduser()
    if not (folder / "midi").is_dir():
        raise FileNotFoundError(f"{folder} is not a JS-Fakes folder: it has no midi/ inside")
    return folder


def cache_dir() -> Path:
    """The cache folder (JSFAKES_CACHE, else ~/.cache/jsfakes), created if missing."""
    folder = Path(os.environ.get(CACHE_VARIABLE) or Path.home() / ".cache" / "jsfakes").expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder

