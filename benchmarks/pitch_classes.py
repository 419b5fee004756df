"""Issue 11's distance targets over several seeds: is a pitch-class distance the decoder's, or the draw's?

    python benchmarks/pitch_classes.py              # 4 seeds x 256 pieces, the defaults
    python benchmarks/pitch_classes.py --seeds 2 --n 128
    python benchmarks/pitch_classes.py --voice-leading 3    # another strength of the voice-leading help

Samples the bundled model at the defaults (`generate.Settings`), `--n` pieces per seed, and prints for
each seed and for all seeds pooled the pitch-class and note-length distances as a multiple of the
test split's own (train vs test), the voice-leading counts next to the test split's, and the pooled
samples' pitch-class distance from the *training* split and from the 700 `jsf-extended` chorales:
the bundled model learnt the `STYLE=JSFAKES` tag from both (data `--source mix`), and the extended
chorales are 1.5 times as many rows. The last lines show how far each of these is from the test split:
the floor a model that matched its training rows exactly would sit on.
"""

from __future__ import annotations

import argparse
import time

from jsfakes_utils import config, data, evaluate, generate, studio

SHOWN = ("crossings / 100 beats", "parallel fifths / 100 beats", "parallel octaves / 100 beats",
         "distinct (%)", "new (%)", "valid (%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=4, help="seeds 0 .. N-1 (default: %(default)s)")
    parser.add_argument("--n", type=int, default=256, help="pieces per seed (default: %(default)s)")
    parser.add_argument("--voice-leading", type=float, default=generate.Settings.voice_leading,
                        help="strength of the voice-leading help (default: the default, %(default)s)")
    args = parser.parse_args()
    net, tok = studio.bundled()
    rows = data.load_rows("jsfakes")
    ref = evaluate.reference([r["text"] for r in rows.train], [r["text"] for r in rows.test])
    own = ref.column
    pooled = []
    for seed in range(args.seeds):
        started = time.perf_counter()
        pieces = generate.Settings(n=args.n, seed=seed, voice_leading=args.voice_leading).sample(net, tok)
        col = evaluate.evaluate(pieces, ref)["samples"]
        pooled += pieces
        print(f"seed {seed}: {time.perf_counter() - started:.0f} s, pitch-class "
              f"{col['pitch-class distance'] / own['pitch-class distance']:.2f}x, note-length "
              f"{col['note-length distance'] / own['note-length distance']:.2f}x the test split's", flush=True)
    col = evaluate.evaluate(pooled, ref)["samples"]
    print(f"pooled, {len(pooled)} pieces (voice leading {args.voice_leading:g}): pitch-class {col['pitch-class distance']:.4f} "
          f"({col['pitch-class distance'] / own['pitch-class distance']:.2f}x the test split's "
          f"{own['pitch-class distance']:.4f}), note-length "
          f"{col['note-length distance'] / own['note-length distance']:.2f}x")
    for name in SHOWN:
        print(f"  {name}: {col[name]:.3f} (test split {own[name]:.3f})")
    # What the JSFAKES tag was trained on: js-fakes-4bars' training rows and the jsf-extended chorales
    fakes = data.jsfakes_rows(config.jsfakes_dir(), extended=True)
    extended = [r["text"] for r in fakes.train if r["source_file"].startswith("jsf-extended/")]
    tagged = [r["text"] for r in fakes.train]
    classes = {name: evaluate._music(rows, leading=False)["pitch classes"] for name, rows in (
        ("the samples", pooled), ("jsf-extended", extended), ("all JSFAKES-tagged training rows", tagged))}
    classes["the training split"] = ref.train_music["pitch classes"]
    test = ref.test_music["pitch classes"]
    print(f"pooled pitch-class distance from the training split: "
          f"{evaluate._distance(classes['the samples'], classes['the training split']):.4f}, "
          f"from jsf-extended ({len(extended):,} rows): {evaluate._distance(classes['the samples'], classes['jsf-extended']):.4f}")
    for name in ("the training split", "jsf-extended", "all JSFAKES-tagged training rows"):
        far = evaluate._distance(classes[name], test)
        print(f"  {name} from the test split: {far:.4f} ({far / own['pitch-class distance']:.2f}x)")


if __name__ == "__main__":
    main()
