"""Downloads with a cache and a checksum, so online sources are fetched once and verified.

Used by `data` for the hub and GitHub sources; tested against a local HTTP server.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import urllib.request
from pathlib import Path

from . import config


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(url: str, sha256: str | None = None, cache: Path | None = None, timeout: float = 60) -> Path:
    """The file at `url`, downloaded once into the cache and checked.

    sha256: the expected checksum. Without one, the checksum of the first download is recorded
    beside the file and later uses are checked against it (so a damaged cache is caught).
    Raises ValueError when the checksum does not match and OSError when the download fails.
    """
    cache = cache or config.cache_dir() / "downloads"
    cache.mkdir(parents=True, exist_ok=True)
    name = url.rstrip("/").rsplit("/", 1)[-1] or "download"
    path = cache / f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{name}"
    recorded = path.with_name(path.name + ".sha256")
    expected = sha256 or (recorded.read_text().strip() if recorded.exists() else None)
    if path.exists() and (expected is None or sha256_of(path) == expected):
        return path
    with tempfile.NamedTemporaryFile(dir=cache, delete=False) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                shutil.copyfileobj(response, tmp)
        except OSError as error:
            Path(tmp.name).unlink()
            raise OSError(f"could not download {url}: {error}") from error
    got = sha256_of(tmp.name)
    if expected is not None and got != expected:
        Path(tmp.name).unlink()
        raise ValueError(f"{url}: checksum {got} does not match the expected {expected}")
    Path(tmp.name).replace(path)
    recorded.write_text(got + "\n")
    return path
