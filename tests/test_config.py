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


def test_a_notebook_bar_is_one_output_that_ends_empty(monkeypatch):
    """In a notebook the bar is one display updated in place; a saved notebook keeps it empty, not half full."""
    import IPython.display

    shown = []

    class Handle:
        def update(self, data, raw):
            shown.append(data["text/plain"])

    monkeypatch.setattr(IPython.display, "display", lambda data, raw, display_id: shown.append(data["text/plain"]) or Handle())
    monkeypatch.setitem(sys.modules, "ipykernel", sys)  # as inside a kernel
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("JSFAKES_QUICK", raising=False)
    monkeypatch.setattr(config, "PROGRESS_AFTER", 0.2)
    for _ in config.progress(range(12), "a slow loop"):
        time.sleep(0.03)
    assert any(line.startswith("a slow loop:") and "/12 [" in line for line in shown), shown
    assert shown[-1] == ""  # closed: the output is left empty
    shown.clear()
    with config.quiet():  # the studio's work: its status line speaks instead
        for _ in config.progress(range(12), "a slow loop"):
            time.sleep(0.03)
    assert shown == [] and config.QUIET is False
