"""The seed recipe and the fast recipe, side by side on this machine, for a fixed number of steps.

    python benchmarks/train_speed.py --data data/build --preset seed --steps 20

Both train the same preset on the same rows from the same initial weights; only the recipe differs
(the seed: batch 4, every row padded to 512 tokens, fp32; fast: batch 64 of similar lengths padded
per batch, bf16/TF32/fused AdamW on a GPU). Reports samples/s and real (non-padding) tokens/s for
each, and their ratio. Timing starts after --warmup steps (start-up, compilation).
"""

import argparse
import platform
import tempfile
import time

import torch
from transformers import TrainerCallback

from jsfakes_utils import data, tokenizer, train


class Clock(TrainerCallback):
    """Wall time between the end of step `warmup` and the end of training."""

    def __init__(self, warmup):
        self.warmup, self.start, self.end = warmup, None, None

    def on_step_end(self, args, state, control, **kwargs):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        if state.global_step == self.warmup:
            self.start = time.perf_counter()
        self.end = time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="data/build", help="dataset folder from `jsfakes data` (default: %(default)s)")
    parser.add_argument("--preset", default="seed", help="model preset (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per recipe (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default: %(default)s)")
    parser.add_argument("--recipes", nargs="+", default=["seed", "fast"], help="recipes to compare (default: %(default)s)")
    parser.add_argument("--compile", action="store_true", help="torch.compile in the fast recipe")
    args = parser.parse_args()
    rows, test = data.read_split(args.data, "train"), data.read_split(args.data, "test")[:8]
    tok = tokenizer.load_tokenizer(f"{args.data}/tokenizer")
    mean_tokens = sum(len(r.split()) for r in rows) / len(rows)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    print(f"device: {device}; preset {args.preset}; {args.steps} timed steps after {args.warmup}")
    speed = {}
    for name in args.recipes:
        recipe = train.RECIPES[name]
        clock = Clock(args.warmup)
        with tempfile.TemporaryDirectory() as out:
            train.train(rows, test, tok, out, preset=args.preset, recipe=name, max_steps=args.warmup + args.steps,
                        compile=args.compile and name != "seed", callbacks=[clock], final_eval=False)
        seconds = clock.end - clock.start
        samples = args.steps * recipe.batch_size / seconds
        speed[name] = samples
        print(f"{name:5s} recipe: batch {recipe.batch_size:3d}: {samples:8.1f} samples/s, "
              f"{samples * mean_tokens:10,.0f} tokens/s (real tokens; {seconds:.1f} s for {args.steps} steps)")
    if len(speed) == 2:
        a, b = args.recipes
        print(f"{b} / {a}: {speed[b] / speed[a]:.1f}x the samples per second")


if __name__ == "__main__":
    main()
