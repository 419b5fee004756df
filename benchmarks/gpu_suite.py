"""The GPU suite, one command: the seed and fast recipes side by side, then the fast one to the seed's loss.

    python benchmarks/gpu_suite.py --data data/build --out benchmarks/gpu-suite

1. Speed: the seed recipe (batch 4, rows padded to 512, fp32) and the fast recipe (batch 64 of
   similar lengths, bf16/TF32/fused AdamW) train the same preset from the same weights for --steps
   timed steps each: samples/s, real tokens/s, peak GPU memory, mean watts and °C (nvidia-smi).
2. Quality: the fast recipe trains until the test loss (mean over every test token, as `train`
   reports it) reaches --target (the seed's 0.5542), checked every --eval-steps; the training time
   to get there is the result (evaluation time left out, and reported apart).

Writes suite.json and suite.md in --out. It runs on a machine's stock Python with torch,
transformers and accelerate: it reads train.txt, test.txt and tokenizer/ from --data (built
elsewhere with `jsfakes data`) and imports nothing that needs `datasets` or `note-seq`.
On a CPU it runs too (slowly): the tests run it with the quick preset for a few steps.
"""

import argparse
import dataclasses
import json
import platform
import tempfile
import time
from pathlib import Path

import torch
from transformers import TrainerCallback

from jsfakes_utils import tokenizer, train


class Target(TrainerCallback):
    """At every evaluation: the token-mean test loss; stops training once it is ≤ `target`."""

    def __init__(self, rows, tok, target: float):
        self.rows, self.tok, self.target = rows, tok, target
        self.started, self.eval_seconds, self.curve, self.reached = None, 0.0, [], None

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.perf_counter()

    def on_evaluate(self, args, state, control, model=None, metrics=None, **kwargs):
        began = time.perf_counter()
        loss = train.test_loss(model, self.tok, self.rows, batch_size=64)
        model.train()
        self.eval_seconds += (metrics or {}).get("eval_runtime", 0.0) + time.perf_counter() - began
        seconds = time.perf_counter() - self.started - self.eval_seconds
        self.curve.append({"step": state.global_step, "train_seconds": round(seconds, 2), "test_loss": round(loss, 4)})
        print(f"step {state.global_step}: test loss {loss:.4f} after {seconds:.1f} s of training", flush=True)
        if loss <= self.target and self.reached is None:
            self.reached = self.curve[-1]
            control.should_training_stop = True


class Power(TrainerCallback):
    """nvidia-smi readings (watts, °C) every `every` steps, and the peak GPU memory."""

    def __init__(self, seconds: float = 5.0):  # nvidia-smi takes ~50 ms: at most every 5 s
        self.seconds, self.next, self.readings = seconds, 0.0, []

    def on_train_begin(self, args, state, control, **kwargs):
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    def on_step_end(self, args, state, control, **kwargs):
        if time.perf_counter() >= self.next:
            self.next = time.perf_counter() + self.seconds
            if (reading := train.gpu_power()) is not None:
                self.readings.append(reading)

    def summary(self) -> dict:
        out = {"peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if torch.cuda.is_available() else None,
               "watts": None, "celsius": None}
        if self.readings:
            out["watts"] = round(sum(r[0] for r in self.readings) / len(self.readings), 1)
            out["celsius"] = round(sum(r[1] for r in self.readings) / len(self.readings), 1)
        return out


def read_rows(folder: Path, split: str) -> list[str]:
    return [line for line in (folder / f"{split}.txt").read_text().splitlines() if line.strip()]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="data/build", help="folder with train.txt, test.txt, tokenizer/ (default: %(default)s)")
    parser.add_argument("--out", default="benchmarks/gpu-suite", help="where suite.json and suite.md go (default: %(default)s)")
    parser.add_argument("--preset", default="seed", help="model preset (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per recipe in part 1 (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default: %(default)s)")
    parser.add_argument("--target", type=float, default=train.SEED_EVAL_LOSS, help="test loss to reach (default: %(default)s)")
    parser.add_argument("--eval-steps", type=int, default=20, help="steps between checks of the test loss (default: %(default)s)")
    parser.add_argument("--max-minutes", type=float, default=5.0, help="time budget of part 2 (default: %(default)s)")
    parser.add_argument("--max-steps", type=int, default=-1, help="step limit of part 2 (default: the recipe's epochs)")
    args = parser.parse_args(argv)
    folder, out = Path(args.data), Path(args.out)
    missing = [p for p in ("train.txt", "test.txt", "tokenizer") if not (folder / p).exists()]
    if missing:
        parser.error(f"{folder} lacks {', '.join(missing)}: build it with `jsfakes data --out {folder}`")
    rows, test = read_rows(folder, "train"), read_rows(folder, "test")
    tok = tokenizer.load_tokenizer(folder / "tokenizer")
    mean_tokens = sum(len(r.split()) for r in rows) / len(rows)
    gpu = torch.cuda.is_available()
    device = torch.cuda.get_device_name(0) if gpu else f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"
    result = {"device": device, "torch": torch.__version__, "preset": args.preset, "train_rows": len(rows),
              "test_rows": len(test), "speed": {}, "target": args.target}
    print(f"device: {device}; preset {args.preset}; {len(rows):,} train rows, {len(test)} test rows", flush=True)

    for name in ("seed", "fast"):  # part 1; no wandb (it may not be installed, and it is not the work)
        recipe = dataclasses.replace(train.RECIPES[name], report_to="none")
        clock, power = train.Stopwatch(args.warmup), Power()
        with tempfile.TemporaryDirectory() as tmp:
            train.train(rows, test[:8], tok, tmp, preset=args.preset, recipe=recipe, max_steps=args.warmup + args.steps,
                        callbacks=[clock, power], final_eval=False, checkpoints=False)
        samples = args.steps * recipe.batch_size / clock.seconds
        result["speed"][name] = {"batch": recipe.batch_size, "precision": train.choose_precision(recipe)[0],
                                 "samples_per_second": round(samples, 2),
                                 "tokens_per_second": round(samples * mean_tokens), **power.summary()}
        print(f"{name} recipe: {result['speed'][name]}", flush=True)
    result["fast_over_seed"] = round(result["speed"]["fast"]["samples_per_second"] /
                                     result["speed"]["seed"]["samples_per_second"], 2)

    target = Target(test, tok, args.target)  # part 2
    with tempfile.TemporaryDirectory() as tmp:
        run = train.train(rows, test, tok, tmp, preset=args.preset, recipe="fast", max_minutes=args.max_minutes,
                          max_steps=args.max_steps, eval_steps=args.eval_steps, callbacks=[target], final_eval=False,
                          checkpoints=False)
    result["to_target"] = {"reached": target.reached, "steps": run["steps"], "curve": target.curve,
                           "eval_seconds": round(target.eval_seconds, 1)}

    out.mkdir(parents=True, exist_ok=True)
    (out / "suite.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "suite.md").write_text(markdown(result))
    print(markdown(result))
    return result


def markdown(r: dict) -> str:
    lines = [f"GPU suite on {r['device']} (torch {r['torch']}), preset {r['preset']}, {r['train_rows']:,} train rows\n",
             "| recipe | batch | precision | samples/s | tokens/s | peak memory GiB | watts | °C |",
             "|---|---|---|---|---|---|---|---|"]
    for name, s in r["speed"].items():
        lines.append(f"| {name} | {s['batch']} | {s['precision']} | {s['samples_per_second']} | {s['tokens_per_second']:,} "
                     f"| {s['peak_memory_gib']} | {s['watts']} | {s['celsius']} |")
    lines.append(f"\nfast / seed: **{r['fast_over_seed']}×** the samples per second")
    reached = r["to_target"]["reached"]
    lines.append(f"\nfast recipe to test loss ≤ {r['target']}: " +
                 (f"**{reached['train_seconds']} s** of training ({reached['step']} steps; test loss {reached['test_loss']})"
                  if reached else f"not reached in {r['to_target']['steps']} steps (best "
                  f"{min((c['test_loss'] for c in r['to_target']['curve']), default=float('nan'))})"))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
