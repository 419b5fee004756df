"""Shared fixtures: NoteSequences built in code, the JS-Fakes folder, a local HTTP server."""

import functools
import http.server
import os
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


@pytest.fixture(scope="session")
def jsfakes_dir():
    """The JS-Fakes folder (JSFAKES_DATA_DIR). CI always sets it; elsewhere its tests are skipped."""
    folder = os.environ.get(config.DATA_DIR_VARIABLE)
    if not folder:
        if "CI" in os.environ:
            pytest.fail(f"{config.DATA_DIR_VARIABLE} is not set in CI; .ci/run sets it from ../shared")
        pytest.skip(f"needs the JS-Fakes MIDI files: set {config.DATA_DIR_VARIABLE} to a JS-Fakes folder "
                    "(e.g. a clone of github.com/omarperacha/js-fakes)")
    return Path(folder)


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
