"""Shared fixtures: NoteSequences built in code, the JS-Fakes folder, a local HTTP server, a local
stand-in for the Hugging Face hub."""

import functools
import hashlib
import http.server
import json
import threading
from pathlib import Path

import pytest
from note_seq.protobuf import music_pb2

from jsfakes_utils import config

STEP = 0.125  # seconds per sixteenth at 120 BPM


def make_sequence(voices, bpm=120.0, total_steps=None):
    """A NoteSequence from {voice: [(start_step, end_step, pitch), ...]} (the note-seq way: in code)."""
    sequence = music_pb2.NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(qpm=bpm)
    step = 60 / bpm / 4
    for voice, notes in voices.items():
        for start, end, pitch in notes:
            sequence.notes.add(pitch=pitch, velocity=80, instrument=voice,
                               start_time=start * step, end_time=end * step)
    if total_steps is not None:
        sequence.total_time = total_steps * step
    return sequence


LOOPBACK = ("127.", "::1", "localhost")


@pytest.fixture(scope="session", autouse=True)
def no_network():
    """Every test runs offline, provably: a socket connection to anything but this machine fails."""
    import socket

    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(sock, address):
        host = address[0] if isinstance(address, tuple) else address  # AF_UNIX paths are local
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(LOOPBACK):
            raise OSError(f"tests must not reach the network: connection to {address!r} refused by conftest")

    socket.socket.connect = lambda sock, address: (check(sock, address), connect(sock, address))[1]
    socket.socket.connect_ex = lambda sock, address: (check(sock, address), connect_ex(sock, address))[1]
    yield
    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex


@pytest.fixture(scope="session")
def jsfakes_dir():
    """The JS-Fakes folder: JSFAKES_DATA_DIR when set, else the one shipped in the package."""
    return config.jsfakes_dir()


@pytest.fixture(scope="session")
def jsfakes_rows(jsfakes_dir):
    from jsfakes_utils import data

    return data.jsfakes_rows(jsfakes_dir)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder for this test."""
    monkeypatch.setenv(config.CACHE_VARIABLE, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def local_server(tmp_path):
    """(folder, base URL) of an HTTP server on 127.0.0.1 serving `folder`; never the network."""
    folder = tmp_path / "www"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _Hub(http.server.BaseHTTPRequestHandler):
    """The few hub endpoints `from_pretrained` calls: model info, file tree, resolve (HEAD/GET)."""

    repos: dict  # "owner/name" -> folder
    commit = "a" * 40

    def log_message(self, *args):
        pass

    def _send(self, body: bytes, status: int = 200, headers: dict | None = None):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        if "datasets" in parts[:2]:  # a dataset repository: the same routes, "datasets/" in front
            parts.remove("datasets")
        api = parts[0] == "api"
        folder = self.repos.get("/".join(parts[2:4] if api else parts[:2]))
        if folder is None:
            return self._send(b"no such repository", 404, {"X-Error-Code": "RepoNotFound"})
        if api:
            files = [{"type": "file", "oid": "b" * 40, "path": f.name, "rfilename": f.name, "size": f.stat().st_size}
                     for f in sorted(folder.iterdir())]
            body = files if "tree" in parts else {"id": "/".join(parts[2:4]), "sha": self.commit, "siblings": files}
            return self._send(json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        file = folder / "/".join(parts[4:])
        if parts[2:3] == ["resolve"] and file.is_file():
            body = file.read_bytes()
            return self._send(body, headers={"ETag": f'"{hashlib.sha1(body).hexdigest()}"', "X-Repo-Commit": self.commit})
        self._send(b"no such file", 404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": self.commit})


@pytest.fixture
def fake_hub(tmp_path, monkeypatch, caplog):
    """A dict {"owner/name": folder} served on 127.0.0.1 as the Hugging Face hub (models and
    datasets alike, and an empty hub cache), so `from_pretrained("owner/name")` and
    `hf_hub_download` are tested without the network."""
    import huggingface_hub.constants as hub

    repos = {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), type("Hub", (_Hub,), {"repos": repos}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(hub, "ENDPOINT", url)
    monkeypatch.setattr(hub, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", False)
    # transformers keeps one HfApi, bound to the endpoint of the first test that used it: this
    # test gets its own, and a fresh HTTP client, so it talks to no server but its own stand-in
    import transformers.utils.hub
    from huggingface_hub.utils import close_session

    monkeypatch.setattr(transformers.utils.hub, "_hf_api", None)
    close_session()
    yield repos
    close_session()
    server.shutdown()
    unreached = [r.getMessage() for r in caplog.records if "Could not reach the Hub" in r.getMessage()]
    assert not unreached, f"a hub request missed this test's stand-in: {unreached[0]}"
