"""The benchmark scripts run: the GPU suite even on a Python without `datasets` and `note-seq`."""

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from jsfakes_utils import tokenizer
from test_train import ROWS

ROOT = Path(__file__).resolve().parent.parent


def site_packages_without(tmp_path: Path, hidden: tuple[str, ...]) -> Path:
    """A copy (of links) of this environment's site-packages with the `hidden` packages left out."""
    view = tmp_path / "site-packages"
    view.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        name = entry.name.lower().replace("-", "_")
        if not name.startswith(hidden) and entry.suffix != ".pth":
            (view / entry.name).symlink_to(entry)
    return view


def test_gpu_suite_runs_on_a_python_without_datasets_or_note_seq(tmp_path):
    folder = tmp_path / "rows"
    folder.mkdir()
    (folder / "train.txt").write_text("\n".join(ROWS * 4) + "\n")
    (folder / "test.txt").write_text("\n".join(ROWS) + "\n")
    tokenizer.save_tokenizer(tokenizer.train_tokenizer(ROWS), folder / "tokenizer")
    view = site_packages_without(tmp_path, ("datasets", "note_seq", "pretty_midi", "music21"))
    probe = "import importlib.util as u; print(u.find_spec('datasets'), u.find_spec('note_seq'))"
    env = os.environ | {"PYTHONPATH": f"{ROOT}{os.pathsep}{view}", "WANDB_MODE": "disabled"}
    assert subprocess.run([sys.executable, "-S", "-c", probe], env=env, capture_output=True, text=True,
                          check=True).stdout.strip() == "None None"
    out = subprocess.run([sys.executable, "-S", str(ROOT / "benchmarks" / "gpu_suite.py"), "--data", str(folder),
                          "--out", str(tmp_path / "suite"), "--preset", "quick", "--steps", "2", "--warmup", "1",
                          "--eval-steps", "2", "--max-steps", "4", "--target", "100"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads((tmp_path / "suite" / "suite.json").read_text())
    assert set(result["speed"]) == {"seed", "fast"}
    assert all(s["samples_per_second"] > 0 for s in result["speed"].values())
    assert result["to_target"]["reached"]["step"] == 2  # 100 nats is reached at the first check
    assert "fast / seed" in (tmp_path / "suite" / "suite.md").read_text()
