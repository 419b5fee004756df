"""The yardstick: validity, novelty, diversity and music statistics of generated pieces.

Introduced in notebook 03 and used for every generator after it (n-gram, GPT-2, a prompted LLM):

    ref = evaluate.reference(train_rows, test_rows)  # e.g. data.read_split("data/build", "train")
    evaluate.evaluate({"6-gram": samples}, ref)      # a pandas table, one column per generator

Each generator's column sits next to the same figures for the test split itself, so a number is
never read alone. What every row means is in `METRICS`.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from . import config, counterpoint, mmm

GRAM = 4  # diversity compares pieces by their sets of 4-word runs within a track
MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])  # a major scale's pitch classes (its relative minor has the same)

METRICS = {
    "samples": "how many pieces were scored",
    "valid (%)": "complete, well-formed pieces by mmm.validate (4 tracks of distinct voices, 4 bars each)",
    "copied (%)": "pieces whose whole row (in any track order) is a training row",
    "partly copied (%)": "not copied, but at least one voice's whole 4 bars appear in a training row",
    "new (%)": "neither: no whole row and no whole voice taken from the training split",
    "bars seen in training (%)": "mean share of a piece's bars (per voice) found verbatim in the training split",
    "distinct (%)": "different pieces among the samples (100 = no two alike)",
    "pairwise distance": f"mean Jaccard distance between two pieces' sets of {GRAM}-word runs (0 = same, 1 = nothing shared)",
    "pitch-class distance": "total variation distance of the pitch-class histogram from the test split's (0 = same, 1 = disjoint)",
    "note-length distance": "total variation distance of the note-length histogram from the test split's",
    "out of range (%)": "notes outside their voice's pitch range in the training split",
    "crossings / 100 beats": "times a lower voice moves above the voice above it (S-A, A-T, T-B)",
    "parallel fifths / 100 beats": "two voices both moving from a perfect fifth to a perfect fifth, also by contrary motion (any pair)",
    "parallel octaves / 100 beats": "the same from octave (or unison) to octave",
    "spacing / 100 beats": "more than an octave opening between soprano and alto, or alto and tenor",
    "hidden fifths / 100 beats": "soprano and bass moving the same way into a fifth, the soprano by a leap",
    "hidden octaves / 100 beats": "the same into an octave",
    "silent bars (%)": "voice-bars in which the voice rests the whole bar",
    "outside the key (%)": "notes outside the major scale (or its relative minor) holding most of the piece's notes",
}
NOTE = ("Music statistics read every piece leniently, as decode(strict=False) does. For the test "
        "split, histogram distances compare the training split with it and novelty compares it "
        "with the training split.")


def _segments(ws: Sequence[str]) -> tuple[tuple, list[tuple], list[tuple]]:
    """(header words, each track's words, each bar's words with its INST first) of a row."""
    header, tracks, bars = [], [], []
    inst, track, bar = None, None, None
    for w in ws:
        if w == "TRACK_START":
            track, inst = [], None
        if track is None and not tracks:
            header.append(w)
        if track is not None:
            track.append(w)
        if w.startswith("INST="):
            inst = w
        if w == "BAR_START":
            bar = [inst]
        if bar is not None:
            bar.append(w)
        if w == "BAR_END" and bar is not None:
            bars.append(tuple(bar))
            bar = None
        if w == "TRACK_END" and track is not None:
            tracks.append(tuple(track))
            track = None
    return tuple(header), tracks, bars


def _row_key(header: tuple, tracks: list[tuple]) -> tuple:
    return header, tuple(sorted(tracks))  # a row's identity, whatever its track order


@dataclasses.dataclass
class Reference:
    """What samples are compared with: the training split (novelty) and the test split (music)."""

    train: list[str]
    test: list[str]

    @functools.cached_property
    def _train_parts(self):
        rows, tracks, bars = set(), set(), set()
        for row in self.train:
            header, ts, bs = _segments(row.split())
            rows.add(_row_key(header, ts))
            tracks.update(ts)
            bars.update(bs)
        return rows, tracks, bars

    @functools.cached_property
    def ranges(self) -> dict[int, tuple[int, int]]:
        """(lowest, highest) pitch of each voice in the training split."""
        pitches = self.train_music["pitches"]
        return {v: (int(ps.min()), int(ps.max())) for v, ps in sorted(pitches.items()) if v < 4}

    @functools.cached_property
    def test_music(self) -> dict:
        return _music(self.test)

    @functools.cached_property
    def train_music(self) -> dict:
        return _music(self.train, leading=False)

    @functools.cached_property
    def column(self) -> dict:
        """The test split's own figures."""
        return _column(self.test, self, music=self.test_music, histograms=self.train_music)


def reference(train: Iterable[str], test: Iterable[str]) -> Reference:
    """A Reference from rows of the training and test splits."""
    return Reference(list(train), list(test))


# ----------------------------------------------------------------------------------------------
# The four families of figures
# ----------------------------------------------------------------------------------------------


def validity(samples: Sequence[str], bars: int = 4) -> tuple[float, collections.Counter]:
    """(share of valid pieces of `bars` bars, how many pieces show each kind of problem)."""
    kinds = collections.Counter()
    valid = 0
    for s in samples:
        report = mmm.validate(s, bars=bars)
        valid += report.ok
        kinds.update(set(report.counts()))
    return valid / len(samples), kinds


def novelty(samples: Sequence[str], ref: Reference) -> pd.DataFrame:
    """Per sample: its verdict (copied / partly copied / new) and the share of its bars seen in training."""
    train_rows, train_tracks, train_bars = ref._train_parts
    out = []
    for s in samples:
        header, tracks, bars = _segments(s.split())
        if tracks and _row_key(header, tracks) in train_rows:
            verdict = "copied"
        elif any(t in train_tracks for t in tracks):
            verdict = "partly copied"
        else:
            verdict = "new"
        seen = sum(b in train_bars for b in bars) / len(bars) if bars else np.nan
        out.append({"verdict": verdict, "bars seen in training": seen})
    return pd.DataFrame(out)


def diversity(samples: Sequence[str]) -> tuple[float, float]:
    """(share of distinct pieces, mean pairwise Jaccard distance of their 4-word-run sets)."""
    segments = [_segments(s.split())[:2] for s in samples]  # (header, tracks) of each sample
    distinct = len({_row_key(header, tracks) for header, tracks in segments}) / len(samples)
    if len(samples) < 2:
        return distinct, np.nan
    features: dict[tuple, int] = {}
    rows, cols = [], []
    for i, (_, tracks) in enumerate(segments):
        grams = {(t[1],) + g for t in tracks for g in zip(*(t[j:] for j in range(GRAM)))}
        grams |= {t[:2] for t in tracks}  # a track's INST is part of its identity
        for g in grams:
            rows.append(i)
            cols.append(features.setdefault(g, len(features)))
    m = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(samples), max(len(features), 1)))
    shared = (m @ m.T).toarray()  # (N, N): runs two pieces have in common
    size = np.asarray(m.sum(axis=1)).ravel()
    union = size[:, None] + size[None, :] - shared
    distance = 1 - np.divide(shared, union, out=np.ones_like(shared), where=union > 0)
    upper = np.triu_indices(len(samples), k=1)
    return distinct, float(distance[upper].mean())


def voice_leading(tokens: mmm.Tokens) -> dict[str, int]:
    """Every kind of voice-leading fault in one piece (`counterpoint.KINDS`): `counterpoint.count`."""
    return counterpoint.count(tokens)


def _music(rows: Sequence[str], leading: bool = True) -> dict:
    """Pooled histograms and counts over pieces (leading=False skips the voice-leading counts)."""
    pcs, lengths = np.zeros(12), np.zeros(mmm.STEPS_PER_BAR)
    counts = collections.Counter()
    beats = silent = voice_bars = outside = scored = 0
    per_voice = collections.defaultdict(list)
    for row in config.progress(rows, "scoring pieces"):
        voices = mmm.voice_steps(row)
        pitch, onset = counterpoint.grid(voices)
        beats += pitch.shape[1] / mmm.STEPS_PER_QUARTER
        if leading:
            counts.update({k: int(n) for k, n in counterpoint.faults(pitch, onset).items()})
        bars = pitch.reshape(4, -1, mmm.STEPS_PER_BAR)  # (voice, bar, step)
        silent += int((bars < 0).all(-1).sum())
        voice_bars += bars.shape[0] * bars.shape[1]
        piece_pcs = np.bincount([p % 12 for ns in voices.values() for _, _, p in ns], minlength=12)
        inside = max(piece_pcs[(MAJOR + tonic) % 12].sum() for tonic in range(12))
        outside += int(piece_pcs.sum() - inside)
        scored += int(piece_pcs.sum())
        for voice, notes in voices.items():
            if notes:
                n = np.array(notes)
                np.add.at(pcs, n[:, 2] % 12, 1)
                np.add.at(lengths, np.clip(n[:, 1] - n[:, 0], 1, mmm.STEPS_PER_BAR) - 1, 1)
                per_voice[voice].append(n[:, 2])
    return {"pitch classes": pcs, "lengths": lengths, "counts": counts, "beats": beats, "silent bars": silent,
            "voice bars": voice_bars, "outside key": outside, "notes": scored,
            "pitches": {v: np.concatenate(ps) for v, ps in per_voice.items()}}


def _distance(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance between two histograms (half the L1 distance of the shares)."""
    if not p.sum() or not q.sum():
        return np.nan
    return float(np.abs(p / p.sum() - q / q.sum()).sum() / 2)


def _column(samples: Sequence[str], ref: Reference, music: dict | None = None,
            histograms: dict | None = None, bars: int = 4) -> dict[str, float]:
    """Every figure of METRICS for one list of samples (music: their `_music`, if already computed).

    histograms: whose pitch-class and note-length histograms to compare with the test split's
        (default: the samples'; the test split's own column compares the training split's).
    """
    if not samples:
        raise ValueError("no samples to evaluate")
    samples = [" ".join(mmm.words(s)) for s in samples]
    col: dict[str, float] = {"samples": len(samples)}
    valid, kinds = validity(samples, bars)
    col["valid (%)"] = 100 * valid
    verdicts = novelty(samples, ref)
    for verdict in ("copied", "partly copied", "new"):
        col[f"{verdict} (%)"] = 100 * float((verdicts["verdict"] == verdict).mean())
    col["bars seen in training (%)"] = 100 * verdicts["bars seen in training"].mean()
    distinct, distance = diversity(samples)
    col["distinct (%)"], col["pairwise distance"] = 100 * distinct, distance
    music = _music(samples) if music is None else music
    hist, test = music if histograms is None else histograms, ref.test_music
    col["pitch-class distance"] = _distance(hist["pitch classes"], test["pitch classes"])
    col["note-length distance"] = _distance(hist["lengths"], test["lengths"])
    outside = sum(int(((ps < ref.ranges[v][0]) | (ps > ref.ranges[v][1])).sum())
                  for v, ps in music["pitches"].items() if v in ref.ranges)
    total = sum(len(ps) for v, ps in music["pitches"].items() if v in ref.ranges)
    col["out of range (%)"] = 100 * outside / total if total else np.nan
    beats = music["beats"]
    for name in counterpoint.KINDS:
        col[f"{name} / 100 beats"] = 100 * music["counts"][name] / beats if beats else np.nan
    col["silent bars (%)"] = 100 * music["silent bars"] / music["voice bars"] if music["voice bars"] else np.nan
    col["outside the key (%)"] = 100 * music["outside key"] / music["notes"] if music["notes"] else np.nan
    for kind in mmm.PROBLEM_KINDS:
        if kinds[kind]:
            col[f"invalid: {kind}"] = kinds[kind]
    return col


def evaluate(samples: Sequence[str] | dict[str, Sequence[str]], reference: Reference,
             name: str = "samples", bars: int = 4) -> pd.DataFrame:
    """One column of figures per generator, then the test split's; rows as in METRICS.

    samples: token rows (strings or lists of words), or {generator name: rows} for several.
    Rows "invalid: <kind>" count the pieces showing each kind of problem (see mmm.PROBLEM_KINDS).
    bars: how many bars a valid sample has (4; more for continued pieces, `compose.extend`).
    """
    groups = dict(samples) if isinstance(samples, dict) else {name: samples}
    columns = {label: _column(list(rows), reference, bars=bars) for label, rows in groups.items()}
    columns["test split"] = reference.column
    index = list(METRICS) + [f"invalid: {k}" for k in mmm.PROBLEM_KINDS
                             if any(f"invalid: {k}" in c for c in columns.values())]
    table = pd.DataFrame(columns, index=index)
    invalid = index[len(METRICS):]
    table.loc[invalid] = table.loc[invalid].fillna(0)  # a kind no sample of a column shows: 0
    return table


def format_table(table: pd.DataFrame) -> str:
    """The table as text, numbers rounded for reading."""
    def number(x: float) -> str:
        if not np.isfinite(x) or float(x).is_integer():
            return f"{x:.0f}"
        return f"{x:.3g}" if abs(x) < 1 else f"{x:.1f}"

    return table.to_string(float_format=number)
