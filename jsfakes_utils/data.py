"""Data: sources of chorales -> MMM rows -> a Hugging Face DatasetDict, train.txt/test.txt and a tokenizer.

Introduced in notebook 01 (exploring) and 02 (building). Sources:

- "jsfakes": the 500 JS-Fakes MIDI files shipped in the package (or another folder: the argument or
  JSFAKES_DATA_DIR). This rebuilds the published js-fakes-4bars exactly: 4,479 rows = 4,016 train + 463 test.
- "extended": the same, plus the 700 jsf-extended chorales as extra training rows.
- "mix": "extended" plus music21's Bach chorales (their training split) as training rows tagged
  STYLE=BACH GENRE=CHORALE, keeping only Bach rows whose words the JS-Fakes vocabulary has; the test
  rows stay the 463 published ones. The tokenizer keeps the 119 js-fakes ids and adds the two tags.
- "github": the JS-Fakes files downloaded from GitHub (cached, checksummed), then as "jsfakes".
- "hub": the published train.txt/test.txt downloaded from the Hugging Face hub (cached).
- "music21": the Bach chorales shipped with music21, offline, tagged STYLE=BACH GENRE=CHORALE.
- "auto": "jsfakes" (offline, like every source but "github" and "hub").

Split by file, never by row: the file names sorted as strings, the last tenth goes to test.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import random
import shutil
import tempfile
import time
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import note_seq
from note_seq.protobuf import music_pb2

from . import config, download, mmm, tokenizer

SOURCES = ("auto", "jsfakes", "extended", "mix", "github", "hub", "music21")
TEST_FRACTION = 0.1  # of the files, the last ones by name: 50 of the 500 JS-Fakes
SHUFFLE_SEED = 0  # track order of each row is shuffled with Random(f"{file}:{bar}:{seed}")

# JS-Fakes on GitHub at the commit the shared folder comes from; the digest covers midi/*.mid.
GITHUB_URL = "https://github.com/omarperacha/js-fakes/archive/68b476d.zip"
GITHUB_MIDI_DIGEST = "c26c3fe5a3ce9493b746e2f5686b7bf2b1da5d2679c64a6884cdcaafc7ecca98"
HUB_REPO = "TristanBehrens/js-fakes-4bars"  # the published dataset on the Hugging Face hub
HUB_REVISION = "main"  # a branch, tag or commit hash; a hash pins the rows for good
MUSIC21_STYLE = ("BACH", "CHORALE")  # STYLE= and GENRE= of the music21 Bach chorales
CACHE_FORMAT = 1  # bump when the conversion changes, so cached conversions are rebuilt


@dataclasses.dataclass
class Rows:
    """The rows a source gave, and what it had to leave out and why."""

    source: str  # what was used, in words
    train: list[dict]  # {"text", "source_file", "start_bar"}
    test: list[dict]
    skipped: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    vocabulary_rows: int | None = None  # only the first N train rows order the tokenizer's words


    def summary(self) -> str:
        text = f"source: {self.source}; train {len(self.train):,} rows, test {len(self.test):,} rows"
        if self.skipped:
            reasons = ", ".join(f"{why} ({n})" for why, n in self.skipped.most_common())
            text += f"; skipped {sum(self.skipped.values())} piece(s): {reasons}"
        return text


# ----------------------------------------------------------------------------------------------
# MIDI files -> rows
# ----------------------------------------------------------------------------------------------


def read_midi(path: str | Path) -> music_pb2.NoteSequence:
    """A MIDI file as a NoteSequence; ValueError (naming the file) when it cannot be read."""
    try:
        return note_seq.midi_file_to_note_sequence(str(path))
    except (note_seq.MIDIConversionError, OSError, EOFError, ValueError, IndexError) as error:
        raise ValueError(f"{path}: not a readable MIDI file ({error})") from error


def split_files(names: list[str], test_fraction: float = TEST_FRACTION) -> tuple[list[str], list[str]]:
    """(train, test) file names: sorted as strings, the last `test_fraction` of them is test."""
    names = sorted(names)
    n_test = round(len(names) * test_fraction)
    return names[:len(names) - n_test], names[len(names) - n_test:]


def sequence_rows(sequence, name: str, shuffle: bool = True, seed: int = SHUFFLE_SEED,
                  **encode_args) -> list[dict]:
    """The rows of one piece, each with its file and start bar; tracks shuffled per row if asked."""
    rows = []
    for bar, text in enumerate(mmm.encode(sequence, **encode_args)):
        if shuffle:
            text = mmm.shuffle_tracks(text, random.Random(f"{name}:{bar}:{seed}"))
        rows.append({"text": text, "source_file": name, "start_bar": bar})
    return rows


def midi_rows(folder: Path, names: list[str], skipped: collections.Counter, **kwargs) -> list[dict]:
    """Rows of the MIDI files `names` (relative to `folder`); unreadable files counted in `skipped`."""
    rows = []
    for name in config.progress(names, f"reading MIDI files in {folder.name}"):
        try:
            sequence = read_midi(folder / name)
        except ValueError:
            skipped["unreadable MIDI"] += 1
            continue
        try:
            rows += sequence_rows(sequence, name, **kwargs)
        except ValueError as error:  # the format cannot hold it, e.g. "time signature 3/4 at 0 s"
            skipped[str(error).split(":")[0][:60]] += 1
    return rows


def jsfakes_rows(data_dir: str | Path, extended: bool = False, shuffle: bool = True,
                 seed: int = SHUFFLE_SEED) -> Rows:
    """Rows of a JS-Fakes folder: midi/ split by file; with `extended`, jsf-extended/ joins train."""
    folder = Path(data_dir)
    names = [f"midi/{p.name}" for p in (folder / "midi").glob("*.mid")]
    if not names:
        raise FileNotFoundError(f"no .mid files in {folder / 'midi'}")
    # Sort by the bare file name, as the published split did ("0.mid" < "1.mid" < "10.mid" ...).
    by_name = {n.split("/", 1)[1]: n for n in names}
    train_names, test_names = split_files(list(by_name))
    skipped = collections.Counter()
    train = midi_rows(folder, [by_name[n] for n in train_names], skipped, shuffle=shuffle, seed=seed)
    test = midi_rows(folder, [by_name[n] for n in test_names], skipped, shuffle=shuffle, seed=seed)
    what = f"JS-Fakes MIDI in {folder}"
    if extended:
        extra = sorted(f"jsf-extended/{p.name}" for p in (folder / "jsf-extended").glob("*.mid"))
        if not extra:
            raise FileNotFoundError(f"no .mid files in {folder / 'jsf-extended'}")
        train += midi_rows(folder, extra, skipped, shuffle=shuffle, seed=seed)
        what += f" + {len(extra)} jsf-extended chorales (train only)"
    return Rows(what, train, test, skipped)


# ----------------------------------------------------------------------------------------------
# Online sources (cached, checksummed)
# ----------------------------------------------------------------------------------------------


def folder_digest(folder: str | Path, pattern: str = "midi/*.mid") -> str:
    """One SHA-256 over the names and contents of the files matching `pattern`."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob(pattern)):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{download.sha256_of(path)}\n".encode())
    return digest.hexdigest()


def github_folder(url: str = GITHUB_URL, digest: str = GITHUB_MIDI_DIGEST) -> Path:
    """A JS-Fakes folder downloaded from GitHub (once) and checked against `digest`.

    The archive is unpacked into a scratch folder and checked there; only files that match the
    digest are moved into the cache, so a tampered or damaged download leaves nothing behind.
    """
    archive = download.fetch(url)
    folder = config.cache_dir() / f"js-fakes-{download.sha256_of(archive)[:12]}"
    if not (folder / "midi").is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=folder.parent))
        try:
            with zipfile.ZipFile(archive) as zf:
                safe_extract(zf, scratch, keep=("midi", "jsf-extended", "metadata"))
            _check_digest(scratch, digest, url, archive)
            shutil.rmtree(folder, ignore_errors=True)
            scratch.rename(folder)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    _check_digest(folder, digest, url, folder)
    return folder


def _check_digest(folder: Path, digest: str, url: str, what) -> None:
    got = folder_digest(folder)
    if got != digest:
        raise ValueError(f"the JS-Fakes files from {url} do not match the expected digest "
                         f"({got} != {digest}); delete {what} to retry")


def safe_extract(zf: zipfile.ZipFile, target: Path, keep: Sequence[str]) -> None:
    """Unpack the members under the archive's top folder's `keep` folders into `target`.

    Every member is checked before anything is written: an absolute path, a `..`, or a link is
    refused with a ValueError naming it, so nothing lands outside `target`.
    """
    chosen = []
    for member in zf.infolist():
        path = Path(member.filename)
        is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
        if path.is_absolute() or member.filename.startswith(("/", "\\")) or ".." in path.parts or is_link:
            raise ValueError(f"the archive member {member.filename!r} is unsafe (an absolute path, a '..' or "
                             f"a link): nothing was unpacked")
        parts = path.parts[1:]  # drop the archive's top folder
        if not member.is_dir() and parts and parts[0] in keep:
            chosen.append((member, target.joinpath(*parts)))
    for member, out in chosen:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(zf.read(member))


def hub_rows(repo: str = HUB_REPO, revision: str = HUB_REVISION) -> Rows:
    """The published train.txt and test.txt of a hub dataset; every row is validated.

    Fetched with huggingface_hub: its cache (a second call needs no network), HF_HUB_OFFLINE,
    HF_ENDPOINT (tests use a local stand-in) and `revision` (a commit hash pins the rows).
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    splits = {}
    for split in ("train", "test"):
        try:
            path = hf_hub_download(repo, f"{split}.txt", repo_type="dataset", revision=revision)
        except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as error:
            raise OSError(f"could not fetch {split}.txt of the hub dataset {repo} at {revision}: "
                          f"{str(error).strip().splitlines()[0]}") from None
        lines = Path(path).read_text().splitlines()
        splits[split] = [{"text": line.strip(), "source_file": f"{split}.txt", "start_bar": -1}
                         for line in lines if line.strip()]
        for i, row in enumerate(splits[split]):
            report = mmm.validate(row["text"])
            if not report.ok:
                raise ValueError(f"{split}.txt line {i + 1} is not a valid row: {report.problems[0]}")
    return Rows(f"published js-fakes-4bars from the hub dataset {repo} at {revision}", splits["train"], splits["test"])


# ----------------------------------------------------------------------------------------------
# The offline default: music21's Bach chorales
# ----------------------------------------------------------------------------------------------


class Unrepresentable(ValueError):
    """A chorale the format cannot hold; the message is the reason, e.g. "meter 3/4"."""


def music21_sequence(score) -> music_pb2.NoteSequence:
    """A four-part 4/4 music21 score on the 16th grid as a NoteSequence (voices S, A, T, B)."""
    from fractions import Fraction

    if len(score.parts) != 4:
        raise Unrepresentable(f"{len(score.parts)} parts")
    meters = {ts.ratioString for ts in score.recurse().getElementsByClass("TimeSignature")}
    if meters != {"4/4"}:
        raise Unrepresentable(f"meter {'+'.join(sorted(meters)) or 'unknown'}")
    first = score.parts[0].getElementsByClass("Measure")[0]
    shift = Fraction(first.paddingLeft) * 4  # a pickup starts late in bar 0
    sequence = music_pb2.NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(qpm=mmm.DEFAULT_BPM)
    sequence.time_signatures.add(numerator=4, denominator=4)
    step = 60 / mmm.DEFAULT_BPM / mmm.STEPS_PER_QUARTER
    for voice, part in enumerate(score.parts):
        for note in part.stripTies().flatten().notes:
            if note.isChord:
                raise Unrepresentable("chord within a part")
            length = Fraction(note.quarterLength) * 4
            if length == 0:
                raise Unrepresentable("grace note")
            start = Fraction(note.offset) * 4 + shift
            if start.denominator != 1 or length.denominator != 1:
                raise Unrepresentable("off the 16th grid (triplet or 32nd)")
            sequence.notes.add(pitch=note.pitch.midi, velocity=mmm.VELOCITY, instrument=voice,
                               start_time=float(start) * step, end_time=float(start + length) * step)
    sequence.total_time = max((n.end_time for n in sequence.notes), default=0.0)
    return sequence


def music21_rows(limit: int | None = None, shuffle: bool = True, seed: int = SHUFFLE_SEED,
                 use_cache: bool = True) -> Rows:
    """Rows of the 371 Bach chorales in music21's corpus (the first `limit` names if given).

    The conversion takes about half a minute, so the result is cached.
    """
    import music21
    from music21.corpus import chorales

    names = list(chorales.Iterator(returnType="filename"))[:limit]
    key = f"music21-{music21.__version__}-{CACHE_FORMAT}-{len(names)}-{shuffle}-{seed}.json"
    cached = config.cache_dir() / key
    if use_cache and cached.exists():
        data = json.loads(cached.read_text())
        return Rows(data["source"], data["train"], data["test"], collections.Counter(data["skipped"]))
    train_names, test_names = split_files(names)
    skipped = collections.Counter()
    splits = {"train": [], "test": []}
    for split, group in (("train", train_names), ("test", test_names)):
        for name in config.progress(group, f"converting music21's Bach chorales ({split})"):
            try:
                sequence = music21_sequence(music21.corpus.parse(name))
            except Unrepresentable as why:
                skipped[str(why)] += 1
                continue
            splits[split] += sequence_rows(sequence, name, shuffle=shuffle, seed=seed,
                                           style=MUSIC21_STYLE[0], genre=MUSIC21_STYLE[1])
    rows = Rows(f"{len(names)} Bach chorales from music21 {music21.__version__}",
                splits["train"], splits["test"], skipped)
    if use_cache:
        cached.write_text(json.dumps({"source": rows.source, "train": rows.train,
                                      "test": rows.test, "skipped": dict(rows.skipped)}))
    return rows


def music_key(row: str) -> str:
    """The same for two rows holding the same music in any track order and any transposition."""
    ws = mmm.sort_tracks(row).split()
    pitches = [int(w[8:]) for w in ws if w.startswith("NOTE_ON=")]
    low = min(pitches, default=0)
    def relative(w: str) -> str:
        kind, _, value = w.partition("=")
        return f"{kind}={int(value) - low}" if kind in ("NOTE_ON", "NOTE_OFF") else w

    return " ".join(relative(w) for w in ws if not w.startswith(("STYLE=", "GENRE=")))


def mix_rows(data_dir: str | Path, shuffle: bool = True, seed: int = SHUFFLE_SEED, limit: int | None = None) -> Rows:
    """js-fakes-4bars, then the jsf-extended and music21 Bach training rows whose words js-fakes-4bars
    has (plus the Bach style tags), so the 119 ids stay; the test rows are the 463 published ones.

    An added row whose music is a test row's, in any track order or transposition, is left out
    (a few jsf-extended chorales share a 4-bar window with a test chorale)."""
    fakes = jsfakes_rows(data_dir, extended=True, shuffle=shuffle, seed=seed)
    base = [r for r in fakes.train if r["source_file"].startswith("midi/")]
    bach = music21_rows(limit=limit, shuffle=shuffle, seed=seed)
    known = {w for r in base for w in r["text"].split()} | {f"STYLE={MUSIC21_STYLE[0]}", f"GENRE={MUSIC21_STYLE[1]}"}
    skipped = fakes.skipped + bach.skipped
    test_music = {music_key(r["text"]) for r in fakes.test}
    extra = []
    for what, rows in (("jsf-extended", fakes.train[len(base):]), ("Bach", bach.train)):
        known_words = [r for r in rows if set(r["text"].split()) <= known]
        kept = [r for r in known_words if music_key(r["text"]) not in test_music]
        extra += kept
        if len(known_words) < len(rows):
            skipped[f"{what} row with a word js-fakes-4bars lacks"] += len(rows) - len(known_words)
        if len(kept) < len(known_words):
            skipped[f"{what} row with a test row's music"] += len(known_words) - len(kept)
    return Rows(f"{fakes.source} + Bach rows ({bach.source}, train split)",
                base + extra, fakes.test, skipped, vocabulary_rows=len(base))


# ----------------------------------------------------------------------------------------------
# Putting it together
# ----------------------------------------------------------------------------------------------


def load_rows(source: str = "auto", data_dir: str | Path | None = None, shuffle: bool = True,
              seed: int = SHUFFLE_SEED, limit: int | None = None) -> Rows:
    """Rows from a source (see the module docstring); `data_dir`: another JS-Fakes folder (`config.jsfakes_dir`).

    shuffle: shuffle the track order of each row (as published); False keeps S, A, T, B.
    limit: for "music21" and "mix", convert only the first `limit` Bach chorales (quick runs).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    if source in ("auto", "jsfakes", "extended"):
        return jsfakes_rows(config.jsfakes_dir(data_dir), extended=source == "extended", shuffle=shuffle, seed=seed)
    if source == "mix":
        return mix_rows(config.jsfakes_dir(data_dir), shuffle=shuffle, seed=seed, limit=limit)
    if source == "github":
        return jsfakes_rows(github_folder(), shuffle=shuffle, seed=seed)
    if source == "hub":
        rows = hub_rows()
        if not shuffle:
            for row in rows.train + rows.test:
                row["text"] = mmm.sort_tracks(row["text"])
        return rows
    return music21_rows(limit=limit, shuffle=shuffle, seed=seed)


def build_dataset(source: str = "auto", data_dir: str | Path | None = None, verbose: bool = True,
                  **kwargs):
    """A `datasets.DatasetDict` (train, test) with columns text, source_file, start_bar.

    Takes the arguments of `load_rows`; says which source it used and how many rows each split has.
    """
    return to_dataset(load_rows(source, data_dir, **kwargs), verbose=verbose)


def to_dataset(rows: Rows, verbose: bool = True):
    """Rows as a `datasets.DatasetDict`."""
    import datasets

    if verbose:
        print(rows.summary())
    columns = ("text", "source_file", "start_bar")
    return datasets.DatasetDict({
        split: datasets.Dataset.from_dict({c: [r[c] for r in getattr(rows, split)] for c in columns})
        for split in ("train", "test")
    })


def transpositions(rows: list[str], up_to: int = 2, vocab: set[str] | None = None) -> list[str]:
    """Copies of `rows` moved by ±1 … ±up_to semitones, keeping only those where every voice stays
    within its range in `rows` (and, given a vocabulary, uses only words it knows)."""
    ranges: dict[str, list[int]] = {}
    for row in rows:
        for track in mmm.split_tracks(row)[1]:
            pitches = [int(w[8:]) for w in track if w.startswith("NOTE_ON=")]
            if pitches:
                low, high = ranges.setdefault(track[1], [min(pitches), max(pitches)])
                ranges[track[1]] = [min(low, *pitches), max(high, *pitches)]
    out = []
    for row in rows:
        tracks = mmm.split_tracks(row)[1]
        for shift in [s for s in range(-up_to, up_to + 1) if s]:
            fits = all(ranges[t[1]][0] <= int(w[8:]) + shift <= ranges[t[1]][1]
                       for t in tracks for w in t if w.startswith("NOTE_ON="))
            moved = mmm.transpose(row, shift) if fits else None
            if moved and (vocab is None or set(moved.split()) <= vocab):
                out.append(moved)
    return out


def write(rows: Rows, out: str | Path) -> Path:
    """Write out/train.txt, out/test.txt (one row per line) and the tokenizer in out/tokenizer/.

    The tokenizer is trained on the training rows only, so the test split stays unseen.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        (out / f"{split}.txt").write_text("".join(r["text"] + "\n" for r in getattr(rows, split)))
    base = rows.train[:rows.vocabulary_rows]
    added = sorted({w for r in rows.train[len(base):] for w in r["text"].split()} -
                   {w for r in base for w in r["text"].split()})
    tok = tokenizer.train_tokenizer((r["text"] for r in base), extra_words=added)
    tokenizer.save_tokenizer(tok, out / "tokenizer")
    (out / "source.json").write_text(json.dumps(
        {"source": rows.source, "train": len(rows.train), "test": len(rows.test),
         "skipped": dict(rows.skipped), "vocab_size": len(tok)}, indent=1) + "\n")
    return out


def read_split(out: str | Path, split: str, check: bool = False) -> list[str]:
    """The rows of out/{split}.txt as written by `write` (or as published); see `read_rows`."""
    return read_rows(Path(out, f"{split}.txt"), check)


def read_rows(path: str | Path, check: bool = False) -> list[str]:
    """The rows of a token file, one per line (blank lines skipped).

    A missing, binary or empty file is refused with a one-line ValueError. check: leave out the
    rows that are not valid 4-bar, 4-track pieces, each with a warning that names its line.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file" + (" (it is a folder)" if path.is_dir() else ""))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8") if b"\0" not in raw[:4096] else None
    except UnicodeDecodeError:
        text = None
    if text is None:
        raise ValueError(f"{path} is a binary file, not rows of tokens (one piece of MMM words per line)")
    rows = [(i, line.strip()) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not rows:
        raise ValueError(f"{path} holds no rows")
    if check:
        kept, first = [], None
        for i, row in rows:
            report = mmm.validate(row)
            if report.ok:
                kept.append((i, row))
            else:
                first = first or f"line {i}: {report.problems[0]}"
                warnings.warn(f"{path} line {i} is not a valid piece ({report.problems[0]}): left out", stacklevel=2)
        if not kept:
            raise ValueError(f"{path} holds no valid rows ({first})")
        rows = kept
    return [row for _, row in rows]


def build(source: str = "auto", data_dir: str | Path | None = None, out: str | Path = "data/build",
          **kwargs) -> Rows:
    """Load rows, write them to `out`, print what was used; returns the rows."""
    started = time.perf_counter()
    rows = load_rows(source, data_dir, **kwargs)
    write(rows, out)
    print(f"{rows.summary()}\nwrote {out}/train.txt, test.txt and tokenizer/ "
          f"in {time.perf_counter() - started:.1f} s")
    return rows


def metadata(data_dir: str | Path | None = None) -> dict:
    """The JS-Fakes listening-test results (metadata/js-fakes-dataset.json), keyed by 'midi/N.mid'."""
    path = config.jsfakes_dir(data_dir) / "metadata" / "js-fakes-dataset.json"
    return json.loads(path.read_text())

