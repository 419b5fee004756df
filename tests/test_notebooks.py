"""The notebooks follow the house style and are committed clean (CI runs them with nbval)."""

import json
from pathlib import Path

import pytest

from jsfakes_utils import config

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert [p.name[:3] for p in NOTEBOOKS] == ["01_", "02_", "03_", "04_", "05_", "06_"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_style(path):
    cells = json.loads(path.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code), "commit without outputs"
    assert all(c.get("id") for c in cells), "every cell has an id (nbformat 4.5)"
    intro = "".join(cells[0]["source"])
    assert "colab-badge.svg" in intro and f"# {path.name[:2]} · " in intro and "You will learn" in intro
    assert "".join(code[0]["source"]) == config.COLAB_SETUP  # the one setup cell, the same in every notebook
    assert "git clone" not in "".join("".join(c["source"]) for c in code)
    assert "parameters" in code[1]["metadata"].get("tags", []) and "quick_mode()" in "".join(code[1]["source"])
    text = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "## Summary" in text and "## Exercises" in text and "Next:" in text
    assert "import *" not in "".join("".join(c["source"]) for c in code)
