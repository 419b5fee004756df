"""The n-gram baseline and the yardstick, timed and scored on js-fakes-4bars.

    python benchmarks/baseline_speed.py

Targets: fitting an n-gram on the 4,016 training rows in at most 2 s for n <= 6, and scoring
1,000 samples with `evaluate` in a few seconds. Prints, per order: fit time (median of --repeat),
train and test cross-entropy (nats per token, like a causal LM's eval loss) and sampling speed;
then the time to evaluate 1,000 samples. `--bach` adds the voice-leading figures of music21's Bach
chorales next to the JS-Fakes training rows.
"""

import argparse
import os
import statistics
import time

from jsfakes_utils import config, data, evaluate, ngram


def timed(f, repeat=1):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - started)
    return result, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help=f"JS-Fakes folder (default: ${config.DATA_DIR_VARIABLE}, else the package's)")
    parser.add_argument("--repeat", type=int, default=5, help="timed fits per order (default: %(default)s)")
    parser.add_argument("--samples", type=int, default=1000, help="samples to evaluate (default: %(default)s)")
    parser.add_argument("--bach", action="store_true", help="also compare voice leading with music21's Bach chorales")
    args = parser.parse_args()
    folder = config.jsfakes_dir(args.data_dir)
    rows = data.load_rows("jsfakes", folder)
    train, test = [r["text"] for r in rows.train], [r["text"] for r in rows.test]
    print(f"{len(train):,} training rows, {len(test):,} test rows, {os.cpu_count()} CPU(s)")
    print("order  fit (s)  train CE  test CE  sampling (words/s, batch of 100)")
    models = {}
    for n in range(1, ngram.MAX_ORDER + 1):
        models[n], fit = timed(lambda: ngram.train_ngram(train, n), args.repeat)
        samples, took = timed(lambda: models[n].sample(100, seed=0))
        words = sum(len(s.split()) for s in samples)
        print(f"{n:5d}  {fit:7.2f}  {models[n].cross_entropy(train):8.4f}  {models[n].cross_entropy(test):7.4f}"
              f"  {words / took:,.0f}")
    best = min(models, key=lambda n: models[n].cross_entropy(test))
    samples, took = timed(lambda: models[best].sample(args.samples, seed=0))
    print(f"\nsampling {args.samples:,} rows from the {best}-gram: {took:.1f} s")
    ref = evaluate.reference(train, test)
    _, prepare = timed(lambda: ref.column)
    _, score = timed(lambda: evaluate.evaluate(samples, ref))
    print(f"evaluate: {args.samples:,} samples in {score:.2f} s (after {prepare:.2f} s preparing the reference once)")
    if args.bach:
        bach = [r["text"] for r in data.load_rows("music21").train]
        for name, pieces in (("Bach (music21, train)", bach), ("JS-Fakes (train)", train)):
            table = evaluate.evaluate({name: pieces}, ref)
            figures = {k: round(float(table.loc[k, name]), 2) for k in
                       ("crossings / 100 beats", "parallel fifths / 100 beats", "parallel octaves / 100 beats")}
            print(f"{name}: {len(pieces):,} rows, {figures}")


if __name__ == "__main__":
    main()
