"""Training a GPT-2 on MMM rows with the Hugging Face Trainer: the seed's recipe and a fast one.

Introduced in notebook 04.

- `seed` recipe: the seed project's hyperparameters exactly (lr 5e-4, batch 4, eval batch 2, seed 1,
  Adam (0.9, 0.999, 1e-8), cosine schedule, 1% warmup, 10 epochs, eval every 300 steps), rows padded
  to 512 tokens, wandb logging. Its `eval_loss` is the Trainer's, as the seed reported (0.5542).
- `fast` recipe: the same model and objective, without the waste — rows padded only to the longest
  in a batch of similar lengths, a 16x larger batch with the learning rate scaled by sqrt(16), and on
  a GPU bf16 (or fp16) autocast, TF32 matmuls and the fused AdamW; `torch.compile` on request.
- `cpu` recipe: `fast` with a batch of 16.

Precision (`precision=`, `--precision`): "auto" trains `fast` and `cpu` under bf16 autocast (fp32
master weights) where the processor does bf16 natively — a GPU that supports it, or a CPU with
AVX-512 BF16 or AMX — and in fp32 elsewhere: a CPU without those emulates bf16 about 300x slower
than fp32 (measured on AVX2; `benchmarks/train_speed.py`). The `seed` recipe stays in fp32, as the
seed ran it. "bf16" and "fp32" force one; every run prints one line saying which it uses.

Both report, besides the Trainer's eval_loss (a mean over eval batches), `test_loss`: the mean
negative log-likelihood over every test token after each row's first — the n-gram's definition,
the same whatever the batch size or padding.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import (DataCollatorForLanguageModeling, Trainer, TrainerCallback,
                          TrainingArguments)

from . import model as model_presets
from . import tokenizer as tokenizers

SEED_EVAL_LOSS = 0.5542  # the seed's reported eval loss on the 463 test rows (T4, 787 s)


@dataclasses.dataclass(frozen=True)
class Recipe:
    learning_rate: float  # peak learning rate, after warmup
    batch_size: int  # rows per training step
    eval_batch_size: int  # rows per evaluation step
    epochs: float  # passes over the training rows
    warmup: float = 0.01  # share of the steps spent warming the learning rate up from 0
    eval_steps: int = 300  # steps between evaluations (and checkpoints)
    pad_to_max: bool = False  # True: every row padded to 512 tokens (the seed); False: per batch
    group_by_length: bool = False  # batches of rows of similar length (less padding)
    fast_kernels: bool = False  # on a GPU: bf16/fp16 autocast, TF32 and the fused AdamW
    report_to: str = "none"  # "wandb" to log there (offline without an API key)
    seed: int = 1  # the seed's seed


RECIPES = {
    "seed": Recipe(learning_rate=5e-4, batch_size=4, eval_batch_size=2, epochs=10, pad_to_max=True,
                   report_to="wandb"),
    "fast": Recipe(learning_rate=2e-3, batch_size=64, eval_batch_size=64, epochs=10, warmup=0.05,
                   eval_steps=100, group_by_length=True, fast_kernels=True),
    # The fast recipe sized for a 2-core CPU and a 10-minute budget: smaller batches, more updates.
    "cpu": Recipe(learning_rate=2e-3, batch_size=16, eval_batch_size=64, epochs=1.6, warmup=0.03,
                  eval_steps=100, group_by_length=True),
}


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------


class Rows(torch.utils.data.Dataset):
    """Token ids of MMM rows, as the Trainer wants them (input_ids, attention_mask; lengths)."""

    def __init__(self, rows: Sequence[str], tokenizer, max_length: int = 512, pad_to_max: bool = False):
        unknown = sorted(tokenizers.unknown_words(tokenizer, {w for r in rows for w in r.split()}))
        if unknown:
            raise ValueError(f"{len(unknown)} word(s) the tokenizer does not know, e.g. {unknown[:5]}: "
                             "train with the tokenizer built with these rows")
        enc = tokenizer(list(rows), truncation=True, max_length=max_length,
                        padding="max_length" if pad_to_max else False)
        self.items = [{"input_ids": i, "attention_mask": m} for i, m in zip(enc["input_ids"], enc["attention_mask"])]
        self.lengths = [sum(m) for m in enc["attention_mask"]]  # real tokens per row

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


def collator(tokenizer) -> DataCollatorForLanguageModeling:
    """Pads a batch to its longest row; labels = input ids, with padding masked out (-100)."""
    return DataCollatorForLanguageModeling(tokenizer, mlm=False)


@torch.no_grad()
def test_loss(model, tokenizer, rows: Sequence[str], batch_size: int = 32) -> float:
    """Mean -ln P(token | tokens before it) over every token after each row's first (nats/token)."""
    model.eval()
    data, collate = Rows(rows, tokenizer), collator(tokenizer)
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for start in range(0, len(data), batch_size):
        batch = collate([data[i] for i in range(start, min(start + batch_size, len(data)))])
        batch = {k: v.to(device) for k, v in batch.items()}
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        labels = batch["labels"][:, 1:]
        nll = torch.nn.functional.cross_entropy(logits[:, :-1].float().transpose(1, 2), labels,
                                                ignore_index=-100, reduction="sum")
        total += float(nll)
        count += int((labels != -100).sum())
    return total / count


# ----------------------------------------------------------------------------------------------
# Callbacks: a time budget, and speed (and GPU power) at every evaluation
# ----------------------------------------------------------------------------------------------


class Budget(TrainerCallback):
    """Stops training (after saving a checkpoint) once `minutes` of training have passed."""

    def __init__(self, minutes: float | None):
        self.seconds, self.started = (minutes * 60 if minutes else None), None

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if self.seconds is not None and time.perf_counter() - self.started > self.seconds:
            control.should_training_stop = control.should_save = True


class Stopwatch(TrainerCallback):
    """Wall time from the end of step `warmup` to the last step's end (benchmarks: start-up and
    compilation left out; CUDA synchronised, so the time is the GPU's)."""

    def __init__(self, warmup: int = 0):
        self.warmup, self.start, self.end = warmup, None, None

    def on_train_begin(self, args, state, control, **kwargs):
        if self.warmup == 0:
            self.start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        if state.global_step == self.warmup:
            self.start = time.perf_counter()
        self.end = time.perf_counter()

    @property
    def seconds(self) -> float:
        if self.start is None:
            raise ValueError(f"training ended before step {self.warmup}: nothing was timed")
        return self.end - self.start


def gpu_power() -> tuple[float, float] | None:
    """(watts, °C) of GPU 0 from nvidia-smi, or None when there is none."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=power.draw,temperature.gpu",
                              "--format=csv,noheader,nounits", "-i", "0"],
                             capture_output=True, text=True, timeout=5, check=True).stdout
        watts, celsius = (float(x) for x in out.strip().split(","))
        return watts, celsius
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


class Speed(TrainerCallback):
    """Adds samples/s, tokens/s (real tokens, no padding), steps/s and GPU power to each eval log."""

    def __init__(self, lengths: Sequence[int], batch_size: int):
        self.mean_length, self.batch_size = sum(lengths) / len(lengths), batch_size
        self.last, self.paused = None, None  # (time, step) of the last evaluation; when it ended
        self.power: list[tuple[float, float]] = []  # (watts, °C) readings since the last evaluation
        self.next_reading = 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self.last = (time.perf_counter(), state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        if time.perf_counter() >= self.next_reading:  # nvidia-smi takes ~50 ms: every 5 s at most
            self.next_reading = time.perf_counter() + 5
            if (reading := gpu_power()) is not None:
                self.power.append(reading)

    def on_step_begin(self, args, state, control, **kwargs):
        if self.paused is not None:  # an evaluation just ended: its time is not training time
            self.last = (self.last[0] + time.perf_counter() - self.paused, self.last[1])
            self.paused = None

    def on_log(self, args, state, control, logs=None, **kwargs):
        """Runs first among the callbacks, so the printed, logged and stored metrics all have it."""
        if logs is None or "eval_loss" not in logs:
            return
        now, step = time.perf_counter(), state.global_step
        seconds, steps = now - self.last[0] - logs.get("eval_runtime", 0.0), step - self.last[1]
        extra = {}
        if steps > 0 and seconds > 0:
            samples = steps * self.batch_size
            extra = {"train_samples_per_second": samples / seconds,
                     "train_tokens_per_second": samples * self.mean_length / seconds,
                     "train_steps_per_second": steps / seconds}
            if self.power:
                extra["gpu_watts"] = sum(p[0] for p in self.power) / len(self.power)
                extra["gpu_celsius"] = sum(p[1] for p in self.power) / len(self.power)
        logs.update(extra)
        if state.log_history and state.log_history[-1].get("eval_loss") == logs["eval_loss"]:
            state.log_history[-1].update(extra)
        self.power = []
        self.last, self.paused = (now, step), now


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------


def _wandb_offline_without_key() -> None:
    """wandb never waits for a network or a login: offline unless the user has logged in."""
    netrc = Path.home() / ".netrc"
    logged_in = os.environ.get("WANDB_API_KEY") or (netrc.exists() and "api.wandb.ai" in netrc.read_text())
    if not logged_in:
        os.environ.setdefault("WANDB_MODE", "offline")


PRECISIONS = ("auto", "fp32", "bf16")
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of native bf16 arithmetic


@functools.cache  # the flags do not change while we run; every training run asks
def cpu_has_bf16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    """True when the CPU does bf16 arithmetic natively (AVX-512 BF16 or AMX), read from its flags."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:  # not Linux: no evidence of native bf16
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return any(flag in flags for flag in CPU_BF16_FLAGS)


def choose_precision(recipe: Recipe, precision: str = "auto", gpu: bool | None = None) -> tuple[str, str]:
    """("fp32" | "bf16" | "fp16", why) for a recipe on this machine; see the module docstring."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: choose from {', '.join(PRECISIONS)}")
    gpu = torch.cuda.is_available() if gpu is None else gpu
    if precision == "fp32":
        return "fp32", "asked for"
    if gpu:
        if precision == "bf16":
            return "bf16", "asked for"
        if recipe.pad_to_max:  # the seed recipe, as the seed ran it
            return "fp32", "the recipe's"
        return ("bf16", "this GPU supports it") if torch.cuda.is_bf16_supported() else ("fp16", "this GPU lacks bf16")
    if precision == "bf16":
        return "bf16", "asked for" + ("" if cpu_has_bf16() else ": this CPU emulates it, expect it to be slow")
    if recipe.pad_to_max:  # the seed recipe, as the seed ran it
        return "fp32", "the recipe's"
    if cpu_has_bf16():
        return "bf16", "the CPU has native bf16 (AVX-512 BF16 / AMX)"
    return "fp32", "the CPU has no native bf16, which would be slower than fp32"


def training_arguments(recipe: str | Recipe, out: str | Path, max_steps: int = -1, epochs: float | None = None,
                       precision: str = "auto", **overrides) -> TrainingArguments:
    """The TrainingArguments of a recipe (overrides: any TrainingArguments field)."""
    r = RECIPES[recipe] if isinstance(recipe, str) else recipe
    gpu = torch.cuda.is_available()
    fast = r.fast_kernels and gpu
    chosen = choose_precision(r, precision, gpu)[0]
    bf16 = chosen == "bf16"
    kwargs = dict(
        output_dir=str(out), learning_rate=r.learning_rate, per_device_train_batch_size=r.batch_size,
        per_device_eval_batch_size=r.eval_batch_size, num_train_epochs=r.epochs if epochs is None else epochs,
        max_steps=max_steps, lr_scheduler_type="cosine", warmup_steps=r.warmup, weight_decay=0.0,
        adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, seed=r.seed, data_seed=r.seed,
        optim="adamw_torch_fused" if fast else "adamw_torch",
        eval_strategy="steps", eval_steps=r.eval_steps, save_strategy="steps", save_steps=r.eval_steps,
        save_total_limit=2, logging_steps=min(50, r.eval_steps), report_to=r.report_to,
        train_sampling_strategy="group_by_length" if r.group_by_length else "random",
        bf16=bf16, fp16=chosen == "fp16", tf32=True if fast else None, use_cpu=not gpu,
        dataloader_num_workers=0, disable_tqdm=True,
    )
    kwargs.update(overrides)
    return TrainingArguments(**kwargs)


def oversampled(rows: Sequence[str], times: dict[str, int]) -> list[str]:
    """The rows, with those of each named style (a key of `generate.STYLES`) repeated k times."""
    from .generate import STYLES

    unknown = set(times) - set(STYLES)
    if unknown or any(k < 1 for k in times.values()):
        raise ValueError(f"oversample takes styles of {', '.join(STYLES)} with whole counts >= 1, "
                         f"not {times}")
    tags = {f"STYLE={STYLES[style][0]}": style for style in times}
    out, found = [], collections.Counter()
    for row in rows:
        style = next((tags[w] for w in row.split(maxsplit=3)[:3] if w in tags), None)
        found[style] += 1
        out += [row] * times.get(style, 1)
    for style, k in times.items():
        print(f"oversampling {style}: {found[style]:,} rows x {k} = {found[style] * k:,}")
    return out


def last_checkpoint(out: str | Path) -> Path | None:
    """The newest checkpoint-N folder in `out`, if any."""
    found = sorted(Path(out).glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    return found[-1] if found else None


def train(train_rows: Sequence[str], test_rows: Sequence[str], tokenizer, out: str | Path,
          preset: str = "small", recipe: str | Recipe = "fast", init: str | Path | None = None,
          max_minutes: float | None = None, max_steps: int = -1, epochs: float | None = None,
          resume: bool = False, local_files_only: bool = True, compile: bool = False,
          callbacks: Sequence[TrainerCallback] = (), final_eval: bool = True,
          eval_steps: int | None = None, transpose: int = 0, precision: str = "auto",
          checkpoints: bool = True, learning_rate: float | None = None,
          oversample: dict[str, int] | None = None) -> dict:
    """Train (or fine-tune) a GPT-2; save it with its tokenizer in out/model; return the results.

    init: a checkpoint (folder, or hub id when local_files_only=False) to start from instead of a
        new `preset` model. resume: continue from the newest checkpoint in `out`, to the same end.
    final_eval: False skips the closing evaluation (eval_loss and test_loss are then None).
    eval_steps: evaluate, checkpoint and log this often instead of the recipe's eval_steps.
    transpose: also train on copies moved by ±1 … ±transpose semitones (each voice kept within its
        range in the training rows, every word known to the tokenizer).
    precision: "auto" (see the module docstring), "fp32" or "bf16"; the choice is printed.
    checkpoints: False writes none along the way (benchmarks; a time budget still saves at its end).
    learning_rate: the peak learning rate instead of the recipe's (fine-tuning from `init`: lower).
    oversample: {style: k}, a style of `generate.STYLES` ("bach"): its training rows k times each.
    """
    r = RECIPES[recipe] if isinstance(recipe, str) else recipe
    r = dataclasses.replace(r, eval_steps=eval_steps) if eval_steps else r
    r = dataclasses.replace(r, learning_rate=learning_rate) if learning_rate else r
    if r.report_to == "wandb":
        _wandb_offline_without_key()
        os.environ.setdefault("WANDB_DIR", str(out))
    if init is not None:
        net = model_presets.load_weights(init, local_files_only=local_files_only)
        if net.config.vocab_size < len(tokenizer):
            raise ValueError(f"{init} knows {net.config.vocab_size} token ids; the tokenizer has {len(tokenizer)}")
    else:
        net = model_presets.build_model(preset, tokenizer, seed=r.seed)
    max_length = net.config.n_positions
    if transpose:
        from . import data  # needs note_seq: imported only here, so GPU machines without it can train

        extra = data.transpositions(list(train_rows), transpose, set(tokenizer.get_vocab()))
        print(f"transposition by up to ±{transpose} semitones: {len(extra):,} more training rows")
        train_rows = list(train_rows) + extra
    if oversample:
        train_rows = oversampled(train_rows, oversample)
    train_data = Rows(train_rows, tokenizer, max_length, r.pad_to_max)
    test_data = Rows(test_rows, tokenizer, max_length, r.pad_to_max)
    chosen, why = choose_precision(r, precision)
    print(f"precision: {chosen} ({why}){', fp32 master weights' if chosen != 'fp32' else ''}")
    args = training_arguments(r, out, max_steps=max_steps, epochs=epochs, precision=precision,
                              torch_compile=compile, **({} if checkpoints else {"save_strategy": "no"}))
    trainer = Trainer(model=net, args=args, train_dataset=train_data, eval_dataset=test_data,
                      data_collator=collator(tokenizer), processing_class=tokenizer,
                      callbacks=[Budget(max_minutes), *callbacks])
    # Speed goes first, so that the printer and wandb see the speeds it adds to each eval log.
    trainer.callback_handler.callbacks.insert(0, Speed(train_data.lengths, r.batch_size))
    checkpoint = last_checkpoint(out) if resume else None
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    seconds = time.perf_counter() - started
    final = Path(out) / "model"
    trainer.save_model(str(final))  # by the main process only, when data-parallel
    if trainer.is_world_process_zero():
        (final / "training_args.bin").unlink(missing_ok=True)  # a pickle; the model folder holds none
        tokenizer.save_pretrained(str(final))
    eval_loss = trainer.evaluate()["eval_loss"] if final_eval else None
    # Under mixed precision the Trainer's accelerator wraps net.forward in autocast; unwrapped, the
    # test loss (and the model returned to a caller) is fp32, as a fresh load of the saved weights.
    net = trainer.accelerator.unwrap_model(net, keep_fp32_wrapper=False)
    results = {"eval_loss": eval_loss,
               "test_loss": test_loss(net, tokenizer, test_rows) if final_eval else None,
               "train_seconds": seconds, "steps": trainer.state.global_step,
               "parameters": model_presets.parameter_count(net), "model": str(final),
               "history": trainer.state.log_history}
    if trainer.is_world_process_zero():  # the curve, for plots.loss_curve and model cards
        (Path(out) / "history.json").write_text(json.dumps(trainer.state.log_history) + "\n")
    return results
