"""Settings from the environment: quick mode, the JS-Fakes folder, progress bars that know when to be quiet."""

import io
import sys
import time

from jsfakes_utils import config


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run_slowly(monkeypatch, stderr, pause: float = 0.03) -> str:
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setattr(config, "PROGRESS_AFTER", 0.2)
    for _ in config.progress(range(12), "a slow loop"):
        time.sleep(pause)  # 0.36 s in all: past the 0.2 s a bar waits before it shows
    return stderr.getvalue()


def test_progress_shows_in_a_terminal_only_and_never_when_quiet(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("JSFAKES_QUICK", raising=False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)  # not in a notebook
    shown = run_slowly(monkeypatch, Terminal())
    assert "a slow loop:" in shown and "/12 [" in shown
    assert run_slowly(monkeypatch, Terminal(), pause=0) == ""  # done before PROGRESS_AFTER: no bar at all
    assert run_slowly(monkeypatch, io.StringIO()) == ""  # a pipe or a file: no bar
    monkeypatch.setattr(config, "QUIET", True)  # --quiet
    assert run_slowly(monkeypatch, Terminal()) == ""
    monkeypatch.setattr(config, "QUIET", False)
    monkeypatch.setenv("JSFAKES_QUICK", "1")  # quick mode (CI)
    assert run_slowly(monkeypatch, Terminal()) == ""


def test_quiet_flag_on_every_command():
    from jsfakes_utils import cli

    for name, command in cli.build_parser()._subparsers._group_actions[0].choices.items():
        assert any("--quiet" in a.option_strings for a in command._actions), name
