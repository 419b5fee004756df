"""`train` runs data-parallel under torchrun (the Trainer's DDP): two CPU processes over gloo."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from jsfakes_utils import model

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json, os, sys
sys.path.insert(0, {tests!r})
from jsfakes_utils import tokenizer, train
from test_train import ROWS, tiny_recipe

seen = []
getitem = train.Rows.__getitem__
def recording(self, i):
    if len(self) == 64:  # the training rows, not the test rows
        seen.append(i)
    return getitem(self, i)
train.Rows.__getitem__ = recording
rows = [" ".join(r.split()[:k]) + " PIECE_END" for r in ROWS for k in range(20, 100, 5)]  # 64 rows
tok = tokenizer.train_tokenizer(ROWS)
results = train.train(rows, ROWS, tok, {out!r}, preset="quick", recipe=tiny_recipe(batch_size=2), max_steps=3,
                      final_eval=False)
rank = os.environ["RANK"]
with open(os.path.join({out!r}, f"rank-{{rank}}.json"), "w") as f:
    json.dump({{"seen": seen, "steps": results["steps"], "world": int(os.environ["WORLD_SIZE"])}}, f)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_cpu_processes_train_on_different_rows_and_save_one_model(tmp_path):
    out = tmp_path / "run"
    script = tmp_path / "ddp.py"
    script.write_text(SCRIPT.format(tests=str(ROOT / "tests"), out=str(out)))
    env = os.environ | {"WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                           f"--master_port={free_port()}", "--master_addr=127.0.0.1", str(script)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((out / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert all(r["world"] == 2 and r["steps"] == 3 for r in ranks)
    a, b = (set(r["seen"]) for r in ranks)
    assert a and b and not (a & b)  # each rank trained on its own rows
    net, tok = model.load(out / "model")
    assert net.config.n_layer == model.PRESETS["quick"].n_layer and len(tok) == net.config.vocab_size
