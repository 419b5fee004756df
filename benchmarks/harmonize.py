"""Harmonising real melodies: each test chorale's soprano kept, the model writes alto, tenor and bass.

    python benchmarks/harmonize.py                # 100 test rows, the CLI's defaults
    python benchmarks/harmonize.py --n 20 --seed 1

Prints the yardstick for the harmonisations next to the real chorales (the same rows) and to free
generation (as many pieces, soprano first), the mean log-likelihood the model gives the real rows
and its own harmonisations (per word, whole rows, soprano first in both), and the time per
harmonisation (target: <= 2 s on the 2-core CPU).
"""

from __future__ import annotations

import argparse
import statistics
import time

from jsfakes_utils import compose, data, evaluate, generate, mmm, model

ROWS = ["valid (%)", "new (%)", "pitch-class distance", "note-length distance", "crossings / 100 beats",
        "parallel fifths / 100 beats", "parallel octaves / 100 beats", "spacing / 100 beats", "outside the key (%)"]


def soprano_first(row: str) -> str:
    """The row with the soprano's track first (the others in their order)."""
    head, tracks, tail = mmm.split_tracks(row)
    soprano = next(t for t in tracks if t[1] == f"INST={mmm.JSFAKES_INSTS[0]}")
    others = [t for t in tracks if t is not soprano]
    return " ".join(head + soprano + [w for t in others for w in t] + tail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(model.BUNDLED), help="model folder (default: the bundled model)")
    parser.add_argument("--n", type=int, default=100, help="test rows to harmonise (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    args = parser.parse_args()
    net, tok = model.load(args.model)
    rows = data.load_rows("jsfakes")
    train, test = [r["text"] for r in rows.train], [r["text"] for r in rows.test]
    reference = evaluate.reference(train, test)
    step = max(len(test) // args.n, 1)  # spread over the test split's 50 chorales, not its first few
    chosen = test[::step][:args.n]
    real, harmonised, seconds = [], [], []
    for k, row in enumerate(chosen):
        started = time.perf_counter()  # the soprano kept, the other three written (`compose`'s template)
        (piece,) = compose.regenerate(row, ["alto", "tenor", "bass"], net, tok, generate.Settings(seed=args.seed + k))
        seconds.append(time.perf_counter() - started)
        assert mmm.voice_steps(piece)[0] == mmm.voice_steps(row)[0], "the melody must stay note for note"
        real.append(soprano_first(row))
        harmonised.append(soprano_first(piece))  # as it was written: soprano first
    free = generate.Settings(n=len(harmonised), seed=args.seed).sample(net, tok)
    table = evaluate.evaluate({"harmonised": harmonised, "the real chorales": real, "free generation": free},
                              reference)
    print(f"{len(harmonised)} test rows harmonised, soprano kept; model {args.model}")
    print(table.loc[ROWS].round(4).to_string())
    own, truth = generate.log_likelihoods(net, tok, harmonised), generate.log_likelihoods(net, tok, real)
    print(f"mean log-likelihood per word: its own harmonisations {own.mean():.4f}, the real chorales {truth.mean():.4f} "
          f"(real higher in {sum(t > o for t, o in zip(truth, own))} of {len(real)})")
    print(f"seconds per harmonisation: median {statistics.median(seconds):.2f}, max {max(seconds):.2f}")


if __name__ == "__main__":
    main()
