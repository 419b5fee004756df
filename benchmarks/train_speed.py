"""The seed recipe and the fast recipe, side by side on this machine, for a fixed number of steps.

    python benchmarks/train_speed.py --data data/build --preset seed --steps 20
    python benchmarks/train_speed.py --recipes cpu --precisions fp32 bf16 --preset small --steps 5

Both train the same preset on the same rows from the same initial weights; only the recipe differs
(the seed: batch 4, every row padded to 512 tokens, fp32; fast: batch 64 of similar lengths padded
per batch, bf16/TF32/fused AdamW on a GPU). Reports samples/s and real (non-padding) tokens/s for
each, and their ratio. Timing starts after --warmup steps (start-up, compilation). With
--precisions fp32 bf16, every recipe runs in each precision, side by side in one table.
"""

import argparse
import dataclasses
import platform
import tempfile

import torch

from jsfakes_utils import data, tokenizer, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="data/build", help="dataset folder from `jsfakes data` (default: %(default)s)")
    parser.add_argument("--preset", default="seed", help="model preset (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per recipe (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default: %(default)s)")
    parser.add_argument("--recipes", nargs="+", default=["seed", "fast"], help="recipes to compare (default: %(default)s)")
    parser.add_argument("--precisions", nargs="+", default=["auto"], choices=train.PRECISIONS,
                        help="precisions to compare, e.g. fp32 bf16 (default: %(default)s)")
    parser.add_argument("--compile", action="store_true", help="torch.compile in the fast recipe")
    args = parser.parse_args()
    rows, test = data.read_split(args.data, "train"), data.read_split(args.data, "test")[:8]
    tok = tokenizer.load_tokenizer(f"{args.data}/tokenizer")
    mean_tokens = sum(len(r.split()) for r in rows) / len(rows)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    if not torch.cuda.is_available():
        device += f", native bf16: {'yes' if train.cpu_has_bf16() else 'no'}"
    print(f"device: {device}; preset {args.preset}; {args.steps} timed steps after {args.warmup}")
    speed = {}
    for name in args.recipes:
        recipe = train.RECIPES[name]
        for precision in args.precisions:
            chosen = train.choose_precision(recipe, precision)[0]
            clock = train.Stopwatch(args.warmup)
            with tempfile.TemporaryDirectory() as out:  # no wandb: it is not the work being timed
                train.train(rows, test, tok, out, preset=args.preset, recipe=dataclasses.replace(recipe, report_to="none"),
                            max_steps=args.warmup + args.steps, compile=args.compile and name != "seed",
                            callbacks=[clock], final_eval=False, precision=precision, checkpoints=False)
            label = f"{chosen} ({precision})" if precision == "auto" else chosen  # auto and fp32 may coincide
            speed[name, label] = samples = args.steps * recipe.batch_size / clock.seconds
            print(f"  -> {name} recipe, {chosen}: {samples:.1f} samples/s", flush=True)
    print("\n| recipe | batch | precision | samples/s | real tokens/s |\n|---|---|---|---|---|")
    for (name, chosen), samples in speed.items():
        print(f"| {name} | {train.RECIPES[name].batch_size} | {chosen} | {samples:.1f} | {samples * mean_tokens:,.0f} |")
    first, *rest = speed.items()
    for key, samples in rest:
        print(f"{' '.join(key)} / {' '.join(first[0])}: {samples / first[1]:.2f}x the samples per second")


if __name__ == "__main__":
    main()
