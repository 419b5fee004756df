"""Voice-leading help, measured: strength × best-of-N, against the JS-Fakes test split, in one table.

    python benchmarks/voice_leading.py --n 256 --strengths 0 2 inf --best-of 1 4

Samples `n` constrained pieces from the model (the CLI's defaults otherwise: soprano first,
temperature 1, top-p 0.95, seed 0) for every pair of --strengths and --best-of, and prints the
yardstick's rows that the decoder is meant to move — faults per 100 beats, the distances, novelty,
diversity — next to the test split's own figures, with the sampling time of each column.
"""

import argparse
import time

from jsfakes_utils import data, evaluate, generate, model

ROWS = ["valid (%)", "new (%)", "distinct (%)", "pitch-class distance", "note-length distance",
        "crossings / 100 beats", "spacing / 100 beats", "parallel fifths / 100 beats",
        "parallel octaves / 100 beats", "hidden fifths / 100 beats", "hidden octaves / 100 beats",
        "outside the key (%)"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(model.BUNDLED), help="model folder (default: the bundled model)")
    parser.add_argument("--data", default="data/build", help="JS-Fakes dataset folder (default: %(default)s)")
    parser.add_argument("--n", type=int, default=256, help="pieces per column (default: %(default)s)")
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.0, 2.0, float("inf")],
                        help="voice-leading strengths (default: 0 2 inf)")
    parser.add_argument("--best-of", type=int, nargs="+", default=[1, 4], help="candidates per piece (default: 1 4)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    parser.add_argument("--top-p", type=float, default=generate.Settings.top_p,
                        help="nucleus sampling's p (default: the CLI's, %(default)s)")
    args = parser.parse_args()
    net, tok = model.load(args.model)
    ref = evaluate.reference(data.read_split(args.data, "train"), data.read_split(args.data, "test"))
    columns, seconds = {}, {}
    for strength in args.strengths:
        for best_of in args.best_of:
            label = f"strength {strength:g}, best of {best_of}"
            settings = generate.Settings(n=args.n, seed=args.seed, voice_leading=strength, best_of=best_of,
                                         top_p=args.top_p)
            started = time.perf_counter()
            columns[label] = settings.sample(net, tok)
            seconds[label] = time.perf_counter() - started
            print(f"{label}: {args.n} pieces in {seconds[label]:.0f} s", flush=True)
    table = evaluate.evaluate(columns, ref).loc[ROWS]
    print(f"\n{args.model}, {args.n} pieces per column, seed {args.seed}, top-p {args.top_p}\n")
    print(evaluate.format_table(table))


if __name__ == "__main__":
    main()
