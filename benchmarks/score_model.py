"""A trained model's test loss and the yardstick on its samples (for model cards).

    python benchmarks/score_model.py --model models/jsfakes-gpt2 --data data/build --n 100
    python benchmarks/score_model.py --n 100 --temperature 1.0 --constrained   # both ways
    python benchmarks/score_model.py --losses-only --seen data/mix data/mix-clean  # + rows it never saw

Prints the test loss (mean over every test token after each row's first, nats per token), the
sampling time, and the evaluation table of `n` samples drawn at each --temperature (seed 0),
unconstrained — and with --constrained also with constrained decoding, from the same seed.
"""

import argparse
import time

from jsfakes_utils import data, evaluate, generate, model, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(model.BUNDLED), help="model folder (default: the bundled model)")
    parser.add_argument("--data", default="data/build", help="dataset folder (default: %(default)s)")
    parser.add_argument("--n", type=int, default=100, help="samples per temperature (default: %(default)s)")
    parser.add_argument("--temperature", type=float, nargs="+", default=[1.0], help="temperatures (default: 1.0)")
    parser.add_argument("--constrained", action="store_true", help="also sample with constrained decoding")
    parser.add_argument("--seen", nargs="*", default=[],
                        help="dataset folders the model was trained on: also score the test rows none of them holds")
    parser.add_argument("--losses-only", action="store_true", help="print the test losses and stop")
    args = parser.parse_args()
    train_rows, test_rows = data.read_split(args.data, "train"), data.read_split(args.data, "test")
    net, tok = model.load(args.model)
    print(f"{args.model}: test loss {train.test_loss(net, tok, test_rows):.4f} nats/token on {len(test_rows)} rows, "
          f"{train.test_loss(net, tok, test_rows[:100]):.4f} on the first 100")
    if args.seen:  # the rows whose music (any transposition, any track order) it never saw
        seen = {data.music_key(r) for folder in args.seen for r in data.read_split(folder, "train")}
        unseen = [r for r in test_rows if data.music_key(r) not in seen]
        print(f"  {train.test_loss(net, tok, unseen):.4f} on the {len(unseen)} test rows whose music is in no "
              f"train.txt of {', '.join(args.seen)}")
    if args.losses_only:
        return
    samples = {}
    for t in args.temperature:
        for constrained in (False, True) if args.constrained else (False,):
            label = f"T={t:g}{', constrained' if constrained else ''}"
            started = time.perf_counter()
            samples[label] = generate.sample(net, tok, args.n, temperature=t, seed=0, constrained=constrained)
            print(f"{label}: {args.n} samples in {time.perf_counter() - started:.1f} s")
    print(evaluate.format_table(evaluate.evaluate(samples, evaluate.reference(train_rows, test_rows))))


if __name__ == "__main__":
    main()
