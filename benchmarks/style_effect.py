"""Does the style tag change the music? Samples asked for in each style, scored against both test splits.

    python -m jsfakes_utils data --source jsfakes --out data/build      # the JS-Fakes test split
    python -m jsfakes_utils data --source music21 --out data/bach       # the Bach test split
    python benchmarks/style_effect.py --n 32

For each style (`generate --style jsfakes|bach`), `n` samples from the model with the CLI's other
defaults (`generate.Settings`: constrained, with voice-leading help, the soprano first; `--voice any`
lets the model choose), and their pitch-class and note-length distances (the yardstick's) from the JS-Fakes
test split and from the Bach test split. The tag works when each style's samples are closer to
their own split than the other style's samples are.

The same four comparisons follow against the two *training* splits, the rows each tag was learnt
from, with how far apart the two splits themselves are: the two test splits' note lengths are
closer to each other than either is to its own training split, so against the test splits the
note-length comparison can only say which samples have the more test-like rhythm.
"""

import argparse

from jsfakes_utils import data, evaluate, generate, model

FIGURES = ("pitch-class distance", "note-length distance")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(model.BUNDLED), help="model folder (default: the bundled model)")
    parser.add_argument("--jsfakes", default="data/build", help="JS-Fakes dataset folder (default: %(default)s)")
    parser.add_argument("--bach", default="data/bach", help="music21 Bach dataset folder (default: %(default)s)")
    parser.add_argument("--n", type=int, default=32, help="samples per style (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    parser.add_argument("--voice", default=generate.Settings.voice,
                        help="the voice that starts, as `generate --voice`; any = the model chooses (default: %(default)s)")
    args = parser.parse_args()
    net, tok = model.load(args.model)
    refs = {name: evaluate.reference(data.read_split(folder, "train"), data.read_split(folder, "test"))
            for name, folder in (("jsfakes", args.jsfakes), ("bach", args.bach))}
    # `generate --style S` with its other defaults (generate.Settings)
    voice = None if args.voice == "any" else args.voice
    samples = {style: generate.Settings(style=style, voice=voice, n=args.n, seed=args.seed).sample(net, tok)
               for style in generate.STYLES}
    table = {}  # (style asked, split) -> {figure: value}
    for split, ref in refs.items():
        scored = evaluate.evaluate({f"--style {s}": rows for s, rows in samples.items()}, ref)
        for style in samples:
            table[style, split] = {f: float(scored.loc[f, f"--style {style}"]) for f in FIGURES}
    print(f"{args.model}, {args.n} samples per style, seed {args.seed}, first voice {args.voice}; distance from each test split "
          f"(lower = closer)\n")
    print("| samples | " + " | ".join(f"{f} from {s}" for s in refs for f in FIGURES) + " |")
    print("|---|" + "---|" * (len(refs) * len(FIGURES)))
    for style in samples:
        print(f"| `--style {style}` | " + " | ".join(f"{table[style, s][f]:.4f}" for s in refs for f in FIGURES) + " |")
    verdicts = []
    for split in refs:
        other = next(s for s in samples if s != split)
        for f in FIGURES:
            closer = table[split, split][f] < table[other, split][f]
            verdicts.append(closer)
            print(f"{f} from the {split} test split: --style {split} {table[split, split][f]:.4f} "
                  f"{'<' if closer else '>='} --style {other} {table[other, split][f]:.4f}")
    print(f"\nthe tag changes the music the right way on {sum(verdicts)} of {len(verdicts)} comparisons")
    keys = {"pitch-class distance": "pitch classes", "note-length distance": "lengths"}
    music = {style: evaluate._music(rows, leading=False) for style, rows in samples.items()}
    print("\nagainst the training splits (the rows each tag was learnt from):")
    right = 0
    for split, ref in refs.items():
        other = next(s for s in samples if s != split)
        for f, key in keys.items():
            near, far = (evaluate._distance(music[s][key], ref.train_music[key]) for s in (split, other))
            right += near < far
            print(f"{f} from the {split} training split: --style {split} {near:.4f} "
                  f"{'<' if near < far else '>='} --style {other} {far:.4f}")
    print(f"the right way on {right} of {2 * len(keys)}")
    a, b = refs.values()
    for f, key in keys.items():
        print(f"{f} between the two splits: test {evaluate._distance(a.test_music[key], b.test_music[key]):.4f}, "
              f"training {evaluate._distance(a.train_music[key], b.train_music[key]):.4f}; each test split from its "
              f"own training split: {', '.join(f'{n} {evaluate._distance(r.test_music[key], r.train_music[key]):.4f}' for n, r in refs.items())}")


if __name__ == "__main__":
    main()
