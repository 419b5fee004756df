"""The loss curve of a training run as a PNG (for model cards).

    python benchmarks/loss_curve.py runs/bundle runs/tune --out models/jsfakes-gpt2/loss.png

Reads RUN/history.json (written by `train`) or, for a run stopped before the end, the log history
of its newest checkpoint.
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from jsfakes_utils import plots, train  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+",
                        help="the --out folder of a training run; several: one after the other (e.g. a fine-tune)")
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--title", default=None, help="title of the plot")
    args = parser.parse_args()
    history, starts = [], []
    for run in map(Path, args.runs):
        if (run / "history.json").exists():
            part = json.loads((run / "history.json").read_text())
        elif (checkpoint := train.last_checkpoint(run)) is not None:
            part = json.loads((checkpoint / "trainer_state.json").read_text())["log_history"]
        else:
            parser.error(f"{run} has neither history.json nor a checkpoint")
        offset = max((h["step"] for h in history), default=0)  # this run's steps follow the last one's
        starts.append(offset)
        history += [h | {"step": h["step"] + offset} for h in part]
    fig, ax = plt.subplots(figsize=(7, 4))
    plots.loss_curve(history, ax=ax, title=args.title)
    ax.axhline(train.SEED_EVAL_LOSS, color="0.5", linestyle="--", linewidth=0.8)
    ax.annotate(f"the seed's {train.SEED_EVAL_LOSS}", (0, train.SEED_EVAL_LOSS), xytext=(4, 4),
                textcoords="offset points", fontsize="small", color="0.4")
    for run, start in list(zip(args.runs, starts))[1:]:
        ax.axvline(start, color="0.6", linewidth=0.8)
        ax.annotate(Path(run).name, (start, 1.9), xytext=(4, 0), textcoords="offset points", fontsize="small")
    ax.set_ylim(0.4, 2.0)
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    evals = [h for h in history if "eval_loss" in h]
    print(f"wrote {args.out}: {len(history)} log entries, last eval loss "
          f"{evals[-1]['eval_loss'] if evals else 'none'}")


if __name__ == "__main__":
    main()
