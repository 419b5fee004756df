"""The command line: `python -m jsfakes_utils <command>` (also installed as `jsfakes`).

It only wires commands to the modules below it; `--help` works on every command.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

from . import compose, config, data, evaluate, generate, melody, mmm, ngram

PRESETS = ("seed", "small", "quick")  # model.PRESETS and train.RECIPES, named here so that `--help`
RECIPES = ("seed", "fast", "cpu")  # does not import torch (tests keep the lists equal)


def _add_source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", choices=data.SOURCES, default="auto",
                   help="where the chorales come from: auto = jsfakes = the JS-Fakes chorales shipped with the "
                        "package (or --data-dir), music21 = Bach's, offline; github and hub download (default: auto)")
    p.add_argument("--data-dir", default=None,
                   help=f"another JS-Fakes folder with midi/ inside (default: ${config.DATA_DIR_VARIABLE}, "
                        "else the one shipped with the package)")
    p.add_argument("--fixed-order", action="store_true",
                   help="keep the tracks in S-A-T-B order instead of shuffling them per row")
    p.add_argument("--seed", type=_whole, default=data.SHUFFLE_SEED,
                   help="seed of the per-row track shuffle (default: %(default)s)")
    p.add_argument("--limit", type=_count, default=None,
                   help="music21 source only: convert just the first N chorales (quick runs)")


def _add_generation_args(p: argparse.ArgumentParser) -> None:
    """The flags `generate` and `harmonize` share: the model, the decoding, the sound, the files."""
    p.add_argument("--model", default="bundled",
                   help="'bundled' (the committed model), a model folder, a saved n-gram .npz, or a hub id "
                        "with --online (default: %(default)s)")
    p.add_argument("--online", action="store_true", help="allow downloading --model from the hub")
    p.add_argument("--style", choices=tuple(generate.STYLES), default="jsfakes",
                   help="jsfakes = like the JS-Fakes chorales, bach = like Bach's own (models trained on both) (default: %(default)s)")
    p.add_argument("--bpm", type=_positive_float, default=100.0, help="tempo, also written into the MIDI file (default: %(default)s)")
    p.add_argument("--temperature", type=_non_negative, default=generate.Settings.temperature,
                   help="<1 calmer, >1 wilder, 0 = greedy (default: %(default)s)")
    p.add_argument("--top-p", type=_probability, default=generate.Settings.top_p,
                   help="sample from the smallest set of words holding this much probability (default: %(default)s)")
    p.add_argument("--seed", type=_whole, default=0, help="random seed: same options, same pieces (default: %(default)s)")
    p.add_argument("--n", type=_count, default=4, help="how many pieces (default: %(default)s)")
    p.add_argument("--free", action="store_true", help="turn constrained decoding off (pieces may be invalid)")
    p.add_argument("--voice-leading", type=_non_negative, default=generate.Settings.voice_leading, metavar="STRENGTH",
                   help="cost (nats) of each voice-leading fault (crossing, spacing, parallel or hidden fifth/octave) "
                        "a note would add; 0 = off, inf = avoid "
                        "whenever possible (default: %(default)s)")
    p.add_argument("--best-of", type=_count, default=generate.Settings.best_of, metavar="N",
                   help="draw N candidates per piece and keep the likeliest with the fewest faults (default: %(default)s)")
    p.add_argument("--instruments", default=None,
                   help="an instrument per voice S,A,T,B: names (choir, strings, church organ, …) or GM "
                        "programs 0-127, comma-separated (default: each voice's INST)")
    p.add_argument("--musicxml", action="store_true", help="also write piece-K.musicxml (for notation programs)")
    p.add_argument("--score", action="store_true", help="also write piece-K.svg: the score, four staves (SATB)")
    p.add_argument("--sine", action="store_true", help="use the sine synth even when FluidSynth is there")
    p.add_argument("--data", default="data/build",
                   help="dataset folder for the novelty figures (default: %(default)s; skipped if absent)")
    p.add_argument("--out", default="out", help="output folder (default: %(default)s)")
    p.set_defaults(run=cmd_generate)


def _add_piece_args(p: argparse.ArgumentParser) -> None:
    """The piece `regenerate`, `refill` and `continue` start from."""
    p.add_argument("file", help="the piece: a token file as generate writes it (.txt; --line picks the row) "
                                "or a MIDI file of four voices")
    p.add_argument("--line", type=_count, default=1, help="of a token file: which row, from 1 (default: %(default)s)")


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line on stderr (the usage is in --help)."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def _number(kind, low=None, high=None, low_open=False, what=""):
    """An argparse type: a number of `kind` within [low, high] (low excluded when low_open)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value != value or (low is not None and (value <= low if low_open else value < low)) \
                or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value
    parse.__name__ = what  # argparse names the type in its messages
    return parse


_count = _number(int, 1, what="a whole number >= 1")
_whole = _number(int, 0, what="a whole number >= 0")
_positive_float = _number(float, 0, low_open=True, what="a positive number")
_non_negative = _number(float, 0, what="a number >= 0")
_probability = _number(float, 0, 1, low_open=True, what="a number in (0, 1]")


def _argument(parse):
    """An argparse type from a parser that raises ValueError (its sentence becomes argparse's)."""
    def wrapped(text: str):
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return wrapped


_voices, _bar_list = _argument(compose.voice_list), _argument(compose.bar_list)


def _style_times(text: str) -> tuple[str, int]:
    """"bach=2" -> ("bach", 2): a style name and a whole number >= 1."""
    style, _, times = text.partition("=")
    if not times.isdigit() or int(times) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not STYLE=K with K a whole number >= 1, e.g. bach=2")
    return style, int(times)


def _build(args, out) -> data.Rows:
    return data.build(args.source, args.data_dir, out, shuffle=not args.fixed_order, seed=args.seed,
                      limit=args.limit)


def _rows_in(file: str) -> list[str]:
    """The non-empty lines of a token file (refused in one line if missing, binary or empty)."""
    return data.read_rows(file)


def cmd_data(args) -> int:
    _build(args, args.out)
    return 0


def cmd_validate(args) -> int:
    lines = _rows_in(args.file)
    bad = 0
    for i, line in enumerate(lines, 1):
        report = mmm.validate(line, bars=args.bars, tracks=args.tracks, monophonic=not args.polyphonic)
        if not report.ok:
            bad += 1
            print(f"line {i}: {report}")
    print(f"{len(lines) - bad} of {len(lines)} rows valid")
    return 1 if bad else 0


def export(row: str, out: Path, name: str, bpm: float, strict: bool = True) -> list[Path]:
    """Write name.txt, name.mid (tempo = bpm), name.wav and name.png for one token row."""
    from . import studio

    return list(studio.export(studio.to_piece(row, bpm, strict=strict, bars=None), out, name).values())


def cmd_decode(args) -> int:
    lines = _rows_in(args.file)
    if not 1 <= args.line <= len(lines):
        print(f"error: {args.file} has {len(lines)} rows; --line must be 1..{len(lines)}", file=sys.stderr)
        return 2
    try:
        paths = export(lines[args.line - 1], Path(args.out), args.name, args.bpm, strict=not args.repair)
    except ValueError as error:
        reason = str(error).split(";")[0].removeprefix("cannot decode: ")
        raise ValueError(f"{args.file} line {args.line} cannot be decoded: {reason} (--repair repairs it, "
                         f"with warnings; `jsfakes validate` lists every problem)") from None
    for path in paths:
        print(f"wrote {path}")
    return 0


def cmd_demo(args) -> int:
    rows = _build(args, args.data_out)
    lengths = [len(r["text"].split()) for r in rows.train + rows.test]
    vocab = {w for r in rows.train for w in r["text"].split()}
    print(f"tokens per row: min {min(lengths)}, mean {statistics.mean(lengths):.0f}, max {max(lengths)}; "
          f"{len(vocab)} distinct words (+5 specials = {len(vocab) + 5} tokenizer ids)")
    row = rows.test[0]
    print(f"decoding test row 0 ({row['source_file']}, bars {row['start_bar'] + 1}-{row['start_bar'] + 4}) "
          f"at {args.bpm:g} BPM")
    for path in export(row["text"], Path(args.out), "excerpt", args.bpm):
        print(f"wrote {path}")

    print("\nThe n-gram baseline, order 1 to 8:")
    train, test = [r["text"] for r in rows.train], [r["text"] for r in rows.test]
    curve = ngram.cross_entropy_curve(train, test)
    print("order  train CE  test CE   (nats per token, scored like a causal LM's eval loss)")
    for n, (train_ce, test_ce) in curve.items():
        print(f"{n:5d}  {train_ce:8.4f}  {test_ce:7.4f}")
    best = min(curve, key=lambda n: curve[n][1])
    model = ngram.train_ngram(train, best)
    print(f"best: order {best} (lowest test cross-entropy); the seed's GPT-2 reached 0.5542 on js-fakes-4bars")
    pieces = {f"{best}-gram, sampled": model.sample(args.n, seed=args.sample_seed),
              f"{best}-gram, greedy": model.sample(args.n, temperature=0)}
    _bundled_loss(test, f"{best}-gram", curve[best][1])
    reference = evaluate.reference(train, test)
    from . import studio

    print(f"\nFour chorales from the bundled GPT-2, constrained decoding, at {args.bpm:g} BPM:")
    result = studio.generate_and_play(n=4, seed=args.sample_seed, bpm=args.bpm, reference=reference, out=args.out)
    for k, piece in enumerate(result.pieces, 1):
        print(f"  piece-{k}: {piece.summary()} -> {', '.join(str(p) for p in piece.files.values())}")
    net, tok = studio.bundled()
    pieces = {"GPT-2, constrained": [p.tokens for p in result.pieces],
              "GPT-2, free": generate.sample(net, tok, args.n, seed=args.sample_seed, constrained=False)} | pieces
    print(f"\nThe bundled GPT-2 (its 4 chorales; {args.n} pieces without the constraint) next to the n-gram "
          f"({args.n} pieces each, sampled at temperature 1 with seed {args.sample_seed}, and greedy as the seed did):")
    print(evaluate.format_table(evaluate.evaluate(pieces, reference)))
    return 0


def _bundled_loss(test: list[str], baseline: str, baseline_loss: float) -> None:
    """Print the bundled GPT-2's test loss next to a baseline's, when it knows the data's words."""
    from . import model, studio, train

    if not model.BUNDLED.exists():
        return
    net, tok = studio.bundled()  # loaded once: the demo generates with it next
    unknown = {w for row in test for w in row.split()} - set(tok.get_vocab())
    if unknown:
        print(f"\nbundled model ({model.BUNDLED.name}): it does not know "
              f"{len(unknown)} word(s) of these rows, e.g. {sorted(unknown)[:3]}; no test loss")
        return
    print(f"\ntest loss, nats per token: bundled GPT-2 ({model.BUNDLED.name}) "
          f"{train.test_loss(net, tok, test):.4f}, {baseline} {baseline_loss:.4f}, "
          f"the seed's GPT-2 {train.SEED_EVAL_LOSS}")


def _generator(name: str, online: bool = False):
    """(model, tokenizer) for --model: "bundled", a saved n-gram (.npz, tokenizer None), a folder or a hub id."""
    from . import model, studio

    if name == "bundled":
        return studio.bundled()
    if name.endswith(".npz"):
        return ngram.load_ngram(name), None
    return model.load(name, local_files_only=not online)


def cmd_generate(args) -> int:
    """generate, and the composing commands (harmonize, regenerate, refill, continue): pieces, files, a table."""
    from . import studio

    net, tok = _generator(args.model, args.online)
    has_data = (Path(args.data) / "train.txt").is_file() and (Path(args.data) / "test.txt").is_file()
    reference = _reference(args.data) if has_data else None
    instruments = [int(i) if i.strip().isdigit() else i.strip() for i in args.instruments.split(",")] \
        if args.instruments else None
    settings = generate.Settings(style=args.style, voice=args.voice if args.command == "generate" else "soprano",
                                 first_note=getattr(args, "first_note", None), temperature=args.temperature,
                                 top_p=args.top_p, seed=args.seed, n=args.n, constrained=not args.free,
                                 voice_leading=args.voice_leading, best_of=args.best_of, bpm=args.bpm,
                                 instruments=instruments)
    started = time.perf_counter()
    rows = _write(args, net, tok, settings)
    bars = compose.bar_count(rows[0]) if args.command != "generate" else 4
    formats = studio.SAVED + ("musicxml",) * args.musicxml + ("svg",) * args.score
    result = studio.play(rows, settings, reference, args.out, True if args.sine else None, formats, bars, started)
    for k, piece in enumerate(result.pieces, 1):
        print(f"piece-{k}: {piece.summary()}\n  wrote {', '.join(str(p) for p in piece.files.values())}")
    print(f"{len(result.pieces)} piece(s) in {result.seconds:.1f} s, audio included")
    label = f"{Path(args.model).name}{'' if args.free else ', constrained'}" + \
        ("" if args.command == "generate" else f", {args.command}")
    if reference is None:
        share, kinds = evaluate.validity([p.tokens for p in result.pieces], bars)
        print(f"valid: {share:.0%}{(' (' + ', '.join(kinds) + ')') if kinds else ''}; "
              f"for the full table, build the dataset into {args.data} (`jsfakes data`)")
    else:
        table = evaluate.evaluate({label: [p.tokens for p in result.pieces]}, reference, bars=bars)
        print(evaluate.format_table(table))
    return 0


def _write(args, net, tok, settings) -> list[str]:
    """The rows a generating or composing command asks for."""
    if args.command == "generate":
        return settings.sample(net, tok)
    if args.free:
        raise ValueError(f"{args.command} keeps music note for note, which needs constrained decoding: drop --free")
    if args.command == "harmonize":
        return compose.harmonize(_melody(args.melody, args.track), args.voice, net, tok, settings)
    piece = compose.read_piece(args.file, args.line)
    if args.command == "regenerate":
        return compose.regenerate(piece, args.voice, net, tok, settings)
    if args.command == "refill":
        return compose.refill(piece, args.bars, args.voices, net, tok, settings)
    return compose.extend(piece, args.bars, net, tok, settings)


def _melody(text: str, track: str | None) -> melody.Melody | str:
    """harmonize's MELODY: notation text, a text file holding it, or a MIDI or MusicXML file."""
    if not _is_file(text):
        return text
    path = Path(text)
    try:
        return melody.read(path, track) if path.suffix.lower() in melody.FILES else path.read_text()
    except UnicodeDecodeError:
        raise ValueError(f"{path} is a binary file, not a melody: give notation text, or a .mid or "
                         ".musicxml file") from None


def _is_file(text: str) -> bool:
    """Is this argument a file's path (rather than notation)? A path too long or odd to be one is not."""
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False


def _reference(folder: str) -> evaluate.Reference:
    return evaluate.reference(data.read_split(folder, "train", check=True), data.read_split(folder, "test", check=True))


def _write_rows(rows: list[str], file: str) -> None:
    Path(file).parent.mkdir(parents=True, exist_ok=True)
    Path(file).write_text("\n".join(rows) + "\n")
    print(f"wrote {len(rows)} rows to {file}")


def cmd_ngram(args) -> int:
    train, test = data.read_split(args.data, "train", check=True), data.read_split(args.data, "test", check=True)
    model = ngram.train_ngram(train, args.order)
    print(f"{model}\ntrain cross-entropy {model.cross_entropy(train):.4f}, "
          f"test cross-entropy {model.cross_entropy(test):.4f} nats/token")
    if args.save:
        print(f"saved {model.save(args.save)}")
    if args.samples:
        rows = model.sample(args.n, temperature=args.temperature, top_k=args.top_k, seed=args.seed)
        _write_rows(rows, args.samples)
    return 0


def cmd_evaluate(args) -> int:
    groups = {Path(f).stem: _rows_in(f) for f in args.files}
    for f in args.files:  # an empty line is an empty answer (e.g. a few-shot LLM's): say so
        blank = sum(not line.strip() for line in Path(f).read_text().splitlines())
        if blank:
            print(f"note: {f}: {blank} empty line(s) not scored")
    table = evaluate.evaluate(groups, _reference(args.data))
    print(evaluate.format_table(table))
    return 0


def cmd_fewshot(args) -> int:
    from . import fewshot
    from .model import load

    train = data.read_split(args.data, "train", check=True)
    model, tokenizer = load(args.model, local_files_only=not args.online)
    prompt, answers, rows = fewshot.run(model, tokenizer, train, n=args.n, k=args.k, seed=args.seed,
                                        max_new_tokens=args.max_new_tokens, temperature=args.temperature)
    print(fewshot.describe(rows))
    if args.samples:
        _write_rows(rows, args.samples)
    print(evaluate.format_table(evaluate.evaluate({"few-shot": rows}, _reference(args.data))))
    return 0


def cmd_train(args) -> int:
    from . import model, tokenizer, train

    train_rows = data.read_split(args.data, "train", check=True)
    test_rows = data.read_split(args.data, "test", check=True)
    tok = tokenizer.load_tokenizer(Path(args.init) if args.init and Path(args.init).is_dir()
                                   else Path(args.data) / "tokenizer")
    print(f"{len(train_rows):,} training rows, {len(test_rows):,} test rows; preset {args.preset} "
          f"({model.PRESETS[args.preset]}), recipe {args.recipe} ({train.RECIPES[args.recipe]})"
          f"{f', learning rate {args.learning_rate:g}' if args.learning_rate else ''}")
    results = train.train(train_rows, test_rows, tok, args.out, preset=args.preset, recipe=args.recipe,
                          init=args.init, max_minutes=args.max_minutes, max_steps=args.max_steps,
                          epochs=args.epochs, resume=args.resume, local_files_only=not args.online,
                          compile=args.compile, transpose=args.transpose, eval_steps=args.eval_steps,
                          precision=args.precision, learning_rate=args.learning_rate,
                          oversample=dict(args.oversample))
    print(f"{results['steps']} steps in {results['train_seconds']:.0f} s; {results['parameters']:,} parameters")
    print(f"eval_loss (the Trainer's, as the seed reported) {results['eval_loss']:.4f}; "
          f"test loss (mean over all test tokens) {results['test_loss']:.4f}; the seed: {train.SEED_EVAL_LOSS}")
    print(f"model and tokenizer in {results['model']}")
    return 0


def cmd_convert(args) -> int:
    from . import model

    print(f"wrote {model.convert(args.folder)}: the folder now loads without unpickling anything")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jsfakes", description="Music as text: the MMM format, "
                                     "the js-fakes-4bars dataset and its tokenizer.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("data", help="build train.txt, test.txt and the tokenizer from a source",
                       description="Build the dataset (one MMM row per line) and its tokenizer.")
    _add_source_args(p)
    p.add_argument("--out", default="data/build", help="output folder (default: %(default)s)")
    p.set_defaults(run=cmd_data)

    p = sub.add_parser("validate", help="check every row of a token file and list the problems",
                       description="Check every row of a file of MMM rows; exit 1 if any is invalid.")
    p.add_argument("file", help="a text file with one row of tokens per line")
    p.add_argument("--bars", type=_count, default=4, help="bars each track must have (default: %(default)s)")
    p.add_argument("--tracks", type=_count, default=4, help="tracks each row must have (default: %(default)s)")
    p.add_argument("--polyphonic", action="store_true", help="allow chords within a track")
    p.set_defaults(run=cmd_validate)

    p = sub.add_parser("decode", help="turn one row of tokens into MIDI, WAV, a piano roll and text",
                       description="Decode one row of a token file into NAME.mid/.wav/.png/.txt.")
    p.add_argument("file", help="a text file with one row of tokens per line")
    p.add_argument("--line", type=_count, default=1, help="which row, counting from 1 (default: %(default)s)")
    p.add_argument("--bpm", type=_positive_float, default=mmm.DEFAULT_BPM, help="tempo (default: %(default)s)")
    p.add_argument("--out", default="out", help="output folder (default: %(default)s)")
    p.add_argument("--name", default="piece", help="file name stem (default: %(default)s)")
    p.add_argument("--repair", action="store_true",
                   help="repair a malformed row with warnings instead of stopping with an error")
    p.set_defaults(run=cmd_decode)

    p = sub.add_parser("demo", help="build the dataset, score the baselines, generate four chorales",
                       description="The README's main command: data from the best available source, "
                                   "its statistics, one excerpt as MIDI, WAV and piano roll, the n-gram "
                                   "baseline, and four chorales from the bundled GPT-2 with a table.")
    _add_source_args(p)
    p.add_argument("--data-out", default="data/build", help="dataset folder (default: %(default)s)")
    p.add_argument("--out", default="out", help="folder for the excerpt and the chorales (default: %(default)s)")
    p.add_argument("--bpm", type=_positive_float, default=90.0, help="tempo of the excerpt and chorales (default: %(default)s)")
    p.add_argument("--n", type=_count, default=8, help="n-gram pieces to generate and score (default: %(default)s)")
    p.add_argument("--sample-seed", type=_whole, default=0, help="seed of the sampling (default: %(default)s)")
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser("generate", help="write chorales with a model: MIDI, WAV, piano roll, tokens, a table",
                       description="Generate chorales (the studio without widgets): per piece, piece-K.mid "
                                   "(tempo = --bpm), .wav, .png and .txt in --out, then an evaluation table.")
    p.add_argument("--voice", choices=mmm.VOICE_NAMES, default="soprano", help="the voice that starts (default: %(default)s)")
    p.add_argument("--first-note", type=int, default=None,
                   help="its first MIDI pitch, within the voice's range (default: the model chooses)")
    _add_generation_args(p)

    p = sub.add_parser("harmonize", help="write three voices under (or around) a melody you give",
                       description="Harmonise a melody: it is kept note for note as one voice and the model "
                                   "writes the other three; files and table as for generate.")
    p.add_argument("melody", help="the melody in LilyPond's absolute notation, e.g. \"d''4 d'' a' b' c''2 b'\" "
                                  "(4 bars of 4/4), a text file holding it, or a MIDI or MusicXML file")
    p.add_argument("--voice", choices=mmm.VOICE_NAMES, default="soprano",
                   help="the voice that sings the melody (default: %(default)s); moved by octaves into its range if needed")
    p.add_argument("--track", default=None,
                   help="of a MIDI or MusicXML melody: the track to take, by name or number (default: the highest line)")
    _add_generation_args(p)

    p = sub.add_parser("regenerate", help="write one voice (or more) of a piece again, the others kept",
                       description="Redo voices of a piece: the others are kept note for note and the model "
                                   "writes the chosen ones again; files and table as for generate.")
    _add_piece_args(p)
    p.add_argument("--voice", type=_voices, required=True, metavar="VOICES",
                   help="the voice(s) to write again, e.g. alto or alto,tenor")
    _add_generation_args(p)

    p = sub.add_parser("refill", help="write some bars of a piece again, the rest kept",
                       description="Refill bars: every other bar is kept note for note and the model writes "
                                   "the chosen bars again (of all voices, or of --voices); files and table as for generate.")
    _add_piece_args(p)
    p.add_argument("--bars", type=_bar_list, required=True, help="the bars to write again, from 1, e.g. 3 or 2,3")
    p.add_argument("--voices", type=_voices, default=None, help="only these voices, e.g. alto,tenor (default: all)")
    _add_generation_args(p)

    p = sub.add_parser("continue", help="continue a piece to more bars, two at a time",
                       description="Continue a piece: it is kept note for note and the model writes on, each "
                                   "two new bars after the last two; files (the whole piece) and table as for generate.")
    _add_piece_args(p)
    p.add_argument("--bars", type=_count, required=True, help="how many bars the result has, e.g. 8")
    _add_generation_args(p)

    p = sub.add_parser("ngram", help="fit an n-gram model, print its cross-entropy, write samples",
                       description="Fit an interpolated Kneser-Ney n-gram model on train.txt and print "
                                   "train and test cross-entropy in nats per token.")
    p.add_argument("--order", type=_number(int, 1, ngram.MAX_ORDER, what=f"an order 1..{ngram.MAX_ORDER}"), default=7, help=f"n, 1..{ngram.MAX_ORDER} (default: %(default)s)")
    p.add_argument("--data", default="data/build", help="dataset folder from `jsfakes data` (default: %(default)s)")
    p.add_argument("--save", default=None, help="save the model to this .npz file")
    p.add_argument("--samples", default=None, help="write sampled rows to this text file")
    p.add_argument("--n", type=_count, default=8, help="how many rows to sample (default: %(default)s)")
    p.add_argument("--temperature", type=_non_negative, default=1.0,
                   help="<1 calmer, >1 wilder, 0 = greedy (default: %(default)s)")
    p.add_argument("--top-k", type=_count, default=None, help="sample among the k likeliest words only")
    p.add_argument("--seed", type=_whole, default=0, help="random seed of the sampling (default: %(default)s)")
    p.set_defaults(run=cmd_ngram)

    p = sub.add_parser("evaluate", help="validity, novelty, diversity and music statistics of samples",
                       description="Score files of generated rows (one column each) against the "
                                   "dataset's train and test splits.")
    p.add_argument("files", nargs="+", help="text files with one row of tokens per line")
    p.add_argument("--data", default="data/build", help="dataset folder from `jsfakes data` (default: %(default)s)")
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("fewshot", help="prompt a causal LM with example rows and score its answers",
                       description="The few-shot LLM baseline: a prompt with k training rows, n answers "
                                   "from any Hugging Face causal LM, scored like every other generator.")
    p.add_argument("--model", required=True, help="a model folder, or a hub id with --online")
    p.add_argument("--online", action="store_true", help="allow downloading the model from the hub")
    p.add_argument("--data", default="data/build", help="dataset folder from `jsfakes data` (default: %(default)s)")
    p.add_argument("--k", type=_whole, default=3, help="example rows in the prompt (default: %(default)s)")
    p.add_argument("--n", type=_count, default=4, help="answers to generate (default: %(default)s)")
    p.add_argument("--max-new-tokens", type=_count, default=1536, help="length limit of an answer (default: %(default)s)")
    p.add_argument("--temperature", type=_non_negative, default=0.8, help="0 = greedy (default: %(default)s)")
    p.add_argument("--seed", type=_whole, default=0, help="seed of the examples and the sampling (default: %(default)s)")
    p.add_argument("--samples", default=None, help="write the extracted rows to this text file")
    p.set_defaults(run=cmd_fewshot)

    p = sub.add_parser("train", help="train (or fine-tune) a GPT-2 on the dataset",
                       description="Train a GPT-2 with the Hugging Face Trainer: the seed's recipe or the "
                                   "fast one; checkpoints (safetensors) and the final model go to --out.")
    p.add_argument("--preset", choices=PRESETS, default="small",
                   help="model size: seed = the seed's 19.2 M, small = 3.3 M for CPUs, quick = tiny (default: %(default)s)")
    p.add_argument("--recipe", choices=RECIPES, default="fast",
                   help="seed = the seed's hyperparameters and padding; fast = same objective, no waste (GPU); "
                        "cpu = fast, sized for a 2-core CPU and 10 minutes (default: %(default)s)")
    p.add_argument("--data", default="data/build", help="dataset folder from `jsfakes data` (default: %(default)s)")
    p.add_argument("--out", default="runs/gpt2", help="folder for checkpoints and the final model (default: %(default)s)")
    p.add_argument("--init", default=None, help="start from this checkpoint (a folder, or a hub id with --online)")
    p.add_argument("--online", action="store_true", help="allow downloading --init from the hub")
    p.add_argument("--epochs", type=_positive_float, default=None, help="passes over the data (default: the recipe's 10)")
    p.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (default: no limit)")
    p.add_argument("--max-minutes", type=_positive_float, default=None,
                   help="time budget: stop (with a checkpoint) after this many minutes of training")
    p.add_argument("--eval-steps", type=_count, default=None,
                   help="evaluate, checkpoint and log every N steps (default: the recipe's)")
    p.add_argument("--learning-rate", type=_positive_float, default=None,
                   help="peak learning rate instead of the recipe's (lower it to fine-tune an --init model)")
    p.add_argument("--oversample", type=_style_times, action="append", default=[], metavar="STYLE=K",
                   help="repeat that style's training rows K times, e.g. bach=2 (may be given again)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (GPUs; slow to start)")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                   help="auto = bf16 autocast where the GPU or CPU does bf16 natively, else fp32 (default: %(default)s)")
    p.add_argument("--transpose", type=_whole, default=0,
                   help="augment: also train on rows moved by up to ±N semitones, voices kept in range (default: 0)")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("convert", help="rewrite a model folder's pickle checkpoint as safetensors",
                       description="Models load from safetensors only: a pickle (.bin, .pt) can run any code "
                                   "when it is loaded. Convert a folder you trust once, then it loads.")
    p.add_argument("folder", help="a model folder with config.json and a pickle checkpoint (pytorch_model.bin)")
    p.set_defaults(run=cmd_convert)
    for command in sub.choices.values():
        command.add_argument("--quiet", action="store_true", help="no progress bars (they show only in a terminal)")
    return parser


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet, config.QUIET = config.QUIET, args.quiet  # for this command only (main may be called again)
    shown = warnings.showwarning
    warnings.showwarning = _one_line_warning  # a warning is one line too
    try:
        return args.run(args)
    except (ValueError, OSError) as error:  # bad input: one sentence, no traceback
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
    finally:
        warnings.showwarning, config.QUIET = shown, quiet
