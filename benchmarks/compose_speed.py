"""How long each composing operation takes, and what it does to the voice leading, on real test rows.

    python benchmarks/compose_speed.py             # 10 test rows, one piece each
    python benchmarks/compose_speed.py --rows 4 --seed 1

For each of the first `--rows` rows spread over the test split (bundled model, the defaults):
redo the alto, refill bar 3 (all voices: kept cells follow, so compose.CANDIDATES candidates),
continue to 8 bars, and harmonise an 8-bar melody (the row's soprano, twice). Prints the median and
largest seconds per operation, that every kept cell stayed note for note, and the voice-leading
faults per 100 beats of the results next to the rows they came from.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import time

from jsfakes_utils import compose, counterpoint, data, generate, melody, mmm, studio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10, help="test rows to compose from (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    args = parser.parse_args()
    net, tok = studio.bundled()
    test = [r["text"] for r in data.load_rows("jsfakes").test]
    chosen = test[::max(len(test) // args.rows, 1)][:args.rows]
    seconds, faults, beats = collections.defaultdict(list), collections.Counter(), collections.Counter()
    for k, row in enumerate(chosen):
        settings = generate.Settings(seed=args.seed + k)
        soprano = mmm.voice_steps(row)[0]
        twice = melody.Melody(tuple(soprano) + tuple((s + 64, e + 64, p) for s, e, p in soprano), 8)
        operations = {
            "redo the alto": (lambda: compose.regenerate(row, ["alto"], net, tok, settings), [(1, b) for b in range(4)]),
            "refill bar 3": (lambda: compose.refill(row, [3], None, net, tok, settings), [(v, 2) for v in range(4)]),
            "continue to 8 bars": (lambda: compose.extend(row, 8, net, tok, settings), None),
            "harmonise 8 bars": (lambda: compose.harmonize(twice, "soprano", net, tok, settings), None),
        }
        for name, (run, free) in operations.items():
            started = time.perf_counter()
            (piece,) = run()
            seconds[name].append(time.perf_counter() - started)
            if free is not None:
                assert compose.kept(row, piece, free), f"{name}: a kept cell changed"
            elif name.startswith("continue"):
                assert all(c[:4] == mmm.cells(row)[v] for v, c in mmm.cells(piece).items()), "the piece changed"
            else:
                assert mmm.voice_steps(piece)[0] == list(twice.notes), "the melody changed"
            faults[name] += sum(counterpoint.count(piece).values())
            beats[name] += len(mmm.cells(piece)[0]) * 4
        faults["the rows themselves"] += sum(counterpoint.count(row).values())
        beats["the rows themselves"] += 16
    print(f"{len(chosen)} test rows, bundled model, defaults (voice leading {generate.Settings.voice_leading:g}, "
          f"{compose.CANDIDATES} candidates where a kept cell follows a written one); every kept cell kept")
    print(f"{'operation':22s} {'median s':>9s} {'max s':>7s} {'faults / 100 beats':>19s}")
    for name in seconds:
        print(f"{name:22s} {statistics.median(seconds[name]):9.2f} {max(seconds[name]):7.2f} "
              f"{100 * faults[name] / beats[name]:19.2f}")
    name = "the rows themselves"
    print(f"{name:22s} {'':9s} {'':7s} {100 * faults[name] / beats[name]:19.2f}")


if __name__ == "__main__":
    main()
