"""The MMM text format: encode NoteSequences into token rows, decode rows back, validate them.

Introduced in notebook 02. The rules are those of the published `js-fakes-4bars` dataset
(see docs/MMM_FORMAT.md in the shared folder, summarised here):

    PIECE_START STYLE=JSFAKES GENRE=JSFAKES <track>... PIECE_END
    track := TRACK_START INST=<n> <bar>... TRACK_END
    bar   := BAR_START (NOTE_ON=<pitch> | NOTE_OFF=<pitch> | TIME_DELTA=<16ths>)* BAR_END

Time is counted in sixteenth notes ("steps") and restarts at every BAR_START. A note crossing a
barline is cut and struck again; a bar whose last note ends early simply ends (no padding).

In a NoteSequence a *voice* is `note.instrument` (0 soprano, 1 alto, 2 tenor, 3 bass) and its INST
is `note.program`. `decode` records the track order in `sequence.instrument_infos`, and `encode`
writes tracks in that order, so `encode(decode(row)) == [row]`.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import math
import random
import re
import warnings
from collections.abc import Iterable, Sequence

from note_seq.protobuf import music_pb2

STEPS_PER_QUARTER = 4  # the grid: sixteenth notes
STEPS_PER_BAR = 16  # a 4/4 bar
JSFAKES_INSTS = (0, 48, 24, 32)  # INST of voice 0..3 (soprano, alto, tenor, bass) in js-fakes-4bars
VOICE_NAMES = ("soprano", "alto", "tenor", "bass")
DEFAULT_BPM = 120.0  # the JS-Fakes MIDI files' tempo
VELOCITY = 80  # velocity of decoded notes (the seed's decoder used 80)

Tokens = str | Sequence[str]

_VALUE_WORD = re.compile(r"(NOTE_ON|NOTE_OFF|TIME_DELTA|INST)=(\d{1,3})")
_TAG_WORD = re.compile(r"(STYLE|GENRE)=[A-Z0-9_]+")
KEYWORDS = {"PIECE_START", "PIECE_END", "TRACK_START", "TRACK_END", "BAR_START", "BAR_END"}

# Every kind of problem `validate` reports, with what it means.
PROBLEM_KINDS = {
    "unknown_token": "a word that is not part of the format (or not in the given vocabulary)",
    "structure": "a word in the wrong place (e.g. NOTE_ON outside a bar, no PIECE_START, no INST)",
    "unmatched_note_off": "NOTE_OFF for a pitch that is not sounding",
    "note_on_sounding": "NOTE_ON for a pitch that is already sounding in the track",
    "empty_note": "NOTE_OFF straight after its NOTE_ON, with no time between",
    "open_note": "a note still sounding at BAR_END",
    "bar_too_long": "TIME_DELTAs adding up to more than a bar",
    "chord": "a second note starting while one sounds (voices are monophonic)",
    "duplicate_voice": "two tracks with the same INST",
    "wrong_bar_count": "a track with the wrong number of bars",
    "wrong_track_count": "a piece with the wrong number of tracks",
    "missing_piece_end": "the tokens end before PIECE_END",
    "after_piece_end": "tokens after PIECE_END",
}


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with a token sequence, at a word position (0-based)."""

    kind: str  # one of PROBLEM_KINDS
    position: int  # index of the offending word (len(tokens) for "the end")
    message: str

    def __str__(self) -> str:
        return f"{self.message} (at token {self.position})"


@dataclasses.dataclass
class Report:
    """Everything `validate` found wrong with one token sequence."""

    problems: list[Problem]
    n_tokens: int

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> collections.Counter:
        """How many problems of each kind."""
        return collections.Counter(p.kind for p in self.problems)

    def __str__(self) -> str:
        if self.ok:
            return f"valid ({self.n_tokens} tokens)"
        lines = [f"{len(self.problems)} problem(s) in {self.n_tokens} tokens:"]
        return "\n".join(lines + [f"  {p.kind}: {p}" for p in self.problems])


def voice_name(voice: int) -> str:
    """'soprano', 'alto', 'tenor', 'bass' for voices 0-3, else 'voice N'."""
    return VOICE_NAMES[voice] if 0 <= voice < len(VOICE_NAMES) else f"voice {voice}"


PITCH_NAMES = ("C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")  # as the melody notation spells them


def note_name(pitch: int) -> str:
    """A MIDI pitch as a musician names it, in scientific pitch notation: 60 -> 'C4', 63 -> 'E♭4'."""
    return f"{PITCH_NAMES[pitch % 12]}{pitch // 12 - 1}"


def words(tokens: Tokens) -> list[str]:
    """A token row as a list of words (a string is split on whitespace)."""
    return tokens.split() if isinstance(tokens, str) else list(tokens)


# ----------------------------------------------------------------------------------------------
# Encoding: NoteSequence -> rows
# ----------------------------------------------------------------------------------------------


def voice_notes(sequence: music_pb2.NoteSequence) -> dict[int, list[tuple[int, int, int]]]:
    """The notes of each voice as (start, end, pitch) in steps, sorted, in track order.

    Raises ValueError for what the format cannot hold: drums, a meter other than 4/4, a tempo
    change, a note off the 16th grid, or two overlapping notes of one pitch in one voice.
    """
    for ts in sequence.time_signatures:
        if (ts.numerator, ts.denominator) != (4, 4):
            raise ValueError(f"time signature {ts.numerator}/{ts.denominator} at {ts.time:g} s: "
                             "the format needs 4/4")
    quantized = sequence.quantization_info.steps_per_quarter > 0
    if quantized and sequence.quantization_info.steps_per_quarter != STEPS_PER_QUARTER:
        raise ValueError(f"quantized at {sequence.quantization_info.steps_per_quarter} steps per "
                         f"quarter; the format needs {STEPS_PER_QUARTER}")
    qpms = {round(t.qpm, 6) for t in sequence.tempos} or {DEFAULT_BPM}
    if len(qpms) > 1:
        raise ValueError(f"tempo changes ({sorted(qpms)} qpm): the format has one tempo")
    steps_per_second = qpms.pop() / 60 * STEPS_PER_QUARTER

    def step(seconds: float, what: str) -> int:
        exact = seconds * steps_per_second
        if abs(exact - round(exact)) > 1e-3:
            raise ValueError(f"{what} at {seconds:.4f} s is off the 16th grid; quantize first "
                             "(note_seq.quantize_note_sequence(sequence, 4))")
        return round(exact)

    order = list(dict.fromkeys(info.instrument for info in sequence.instrument_infos))
    voices: dict[int, list] = {v: [] for v in order}
    for note in sequence.notes:
        if note.is_drum:
            raise ValueError(f"drum note (pitch {note.pitch}): the format has no drums")
        if quantized:
            start, end = note.quantized_start_step, note.quantized_end_step
        else:
            start, end = step(note.start_time, "note start"), step(note.end_time, "note end")
        voices.setdefault(note.instrument, []).append((start, end, note.pitch))
    voices = {v: voices[v] for v in order + sorted(set(voices) - set(order))}
    for v, notes in voices.items():
        notes.sort()
        empty = [n for n in notes if n[1] <= n[0]]
        if empty:
            warnings.warn(f"voice {v}: {len(empty)} note(s) of no length left out", stacklevel=3)
            notes[:] = [n for n in notes if n[1] > n[0]]
        last_end: dict[int, int] = {}
        for start, end, pitch in notes:
            if last_end.get(pitch, -1) > start:
                raise ValueError(f"voice {v}: two overlapping notes of pitch {pitch} at step {start}")
            last_end[pitch] = end
    return voices


def encode_bar(notes: Iterable[tuple[int, int, int]], bar: int) -> list[str]:
    """The words of one bar (BAR_START ... BAR_END) of one voice; `notes` in steps from the piece start."""
    start_step, end_step = bar * STEPS_PER_BAR, (bar + 1) * STEPS_PER_BAR
    events = []  # (time in bar, 0 = off / 1 = on, pitch): offs sort before ons at equal times
    for start, end, pitch in notes:
        if start < end_step and end > start_step:
            events.append((max(start, start_step) - start_step, 1, pitch))
            events.append((min(end, end_step) - start_step, 0, pitch))
    out, cursor = ["BAR_START"], 0
    for time, is_on, pitch in sorted(events):
        if time > cursor:
            out.append(f"TIME_DELTA={time - cursor}")
            cursor = time
        out.append(f"{'NOTE_ON' if is_on else 'NOTE_OFF'}={pitch}")
    out.append("BAR_END")
    return out


def count_bars(sequence: music_pb2.NoteSequence, voices: dict | None = None) -> int:
    """Bars in a piece: ceil(last note-off / 16), or more if `total_time` says so."""
    voices = voice_notes(sequence) if voices is None else voices
    last = max((end for notes in voices.values() for _, end, _ in notes), default=0)
    qpm = sequence.tempos[0].qpm if sequence.tempos else DEFAULT_BPM
    total = sequence.total_time * qpm / 60 * STEPS_PER_QUARTER
    return math.ceil(max(last, round(total, 3)) / STEPS_PER_BAR)


def encode(
    sequence: music_pb2.NoteSequence,
    bars: int | None = 4,
    hop: int = 1,
    style: str = "JSFAKES",
    genre: str = "JSFAKES",
    voice_insts: Sequence[int] = JSFAKES_INSTS,
    track_order: Sequence[int] | None = None,
) -> list[str]:
    """A NoteSequence as MMM rows: one row per window of `bars` bars, windows `hop` bars apart.

    bars: bars per row (None: the whole piece in one row). A piece shorter than `bars` gives no row.
    voice_insts: INST of each voice (note.instrument); voices beyond it use their notes' program.
    track_order: voices in the order their tracks are written (default: the order of
        `sequence.instrument_infos`, then the remaining voices in ascending order).
    """
    voices = voice_notes(sequence)
    if track_order is not None:
        missing = set(track_order) ^ set(voices)
        if missing:
            raise ValueError(f"track_order {list(track_order)} does not match the voices {list(voices)}")
        voices = {v: voices[v] for v in track_order}
    n_bars = count_bars(sequence, voices)
    bars = n_bars if bars is None else bars
    programs = collections.defaultdict(set)
    for note in sequence.notes:
        programs[note.instrument].add(note.program)
    insts = {v: _inst_of(v, programs[v], voice_insts) for v in voices}
    # Each bar of each voice is encoded once and shared by every window that holds it.
    bar_words = {v: [encode_bar(notes, b) for b in range(n_bars)] for v, notes in voices.items()}
    rows = []
    for first in range(0, n_bars - bars + 1, hop):
        out = ["PIECE_START", f"STYLE={style}", f"GENRE={genre}"]
        for v in voices:
            out += ["TRACK_START", f"INST={insts[v]}"]
            for b in range(first, first + bars):
                out += bar_words[v][b]
            out.append("TRACK_END")
        out.append("PIECE_END")
        rows.append(" ".join(out))
    return rows


def _inst_of(voice: int, programs: set[int], voice_insts: Sequence[int]) -> int:
    if 0 <= voice < len(voice_insts):
        return voice_insts[voice]
    if len(programs) == 1:
        return programs.pop()
    raise ValueError(f"voice {voice} has no INST: give voice_insts at least {voice + 1} entries")


def pretty(tokens: Tokens) -> str:
    """A row made readable: the header, then each track's INST and one bar per line."""
    lines, line = [], []
    for word in words(tokens):
        if word in ("TRACK_START", "BAR_START", "PIECE_END") and line:
            lines.append(" ".join(line))
            line = []
        line.append(word)
        if word.startswith("INST="):
            lines.append(" ".join(line))
            line = []
    lines.append(" ".join(line))
    return "\n".join(("    " if ln.startswith("BAR_START") else "") + ln for ln in lines if ln)


def split_tracks(tokens: Tokens) -> tuple[list[str], list[list[str]], list[str]]:
    """(words before the first track, each track's words, words after the last track)."""
    ws = words(tokens)
    starts = [i for i, w in enumerate(ws) if w == "TRACK_START"]
    ends = [i for i, w in enumerate(ws) if w == "TRACK_END"]
    if len(starts) != len(ends) or any(e < s for s, e in zip(starts, ends)):
        raise ValueError("unbalanced TRACK_START/TRACK_END; validate() tells where")
    tracks = [ws[s:e + 1] for s, e in zip(starts, ends)]
    head, tail = (ws[:starts[0]], ws[ends[-1] + 1:]) if starts else (ws, [])
    return head, tracks, tail


def transpose(tokens: Tokens, semitones: int) -> str:
    """The same row with every NOTE_ON/NOTE_OFF pitch moved by `semitones` (ValueError past 0-127)."""
    out = []
    for word in words(tokens):
        m = _VALUE_WORD.fullmatch(word)
        if m and m.group(1) in ("NOTE_ON", "NOTE_OFF"):
            pitch = int(m.group(2)) + semitones
            if not 0 <= pitch <= 127:
                raise ValueError(f"{word} transposed by {semitones} leaves the MIDI range 0-127")
            word = f"{m.group(1)}={pitch}"
        out.append(word)
    return " ".join(out)


def shuffle_tracks(tokens: Tokens, rng: random.Random) -> str:
    """The same row with its tracks in a random order (the published data shuffles each row)."""
    head, tracks, tail = split_tracks(tokens)
    rng.shuffle(tracks)
    return " ".join(head + [w for track in tracks for w in track] + tail)


def sort_tracks(tokens: Tokens, voice_insts: Sequence[int] = JSFAKES_INSTS) -> str:
    """The same row with its tracks in voice order (S, A, T, B for js-fakes-4bars)."""
    head, tracks, tail = split_tracks(tokens)
    rank = {f"INST={inst}": i for i, inst in enumerate(voice_insts)}
    tracks.sort(key=lambda t: rank.get(t[1] if len(t) > 1 else "", len(rank)))
    return " ".join(head + [w for track in tracks for w in track] + tail)


def cells(tokens: Tokens, voice_insts: Sequence[int] = JSFAKES_INSTS) -> dict[int, list[list[str]]]:
    """A piece as a grid of cells: {voice: the words of each of its bars (BAR_START … BAR_END)},
    voices in track order. `join` puts the grid back together; windows are stitched by
    concatenating each voice's cells (`join({v: a[v] + b[v][2:] …})`). ValueError if the tokens are
    not a valid piece (any number of bars)."""
    report = validate(tokens, bars=None, voice_insts=voice_insts)
    if not report.ok:
        raise ValueError(f"not a valid piece: {report.problems[0]}")
    voice_of = {inst: v for v, inst in enumerate(voice_insts)}
    out = {}
    for track in split_tracks(tokens)[1]:
        bars, bar = [], []
        for word in track[2:-1]:  # TRACK_START INST=… <bars> TRACK_END
            bar.append(word)
            if word == "BAR_END":
                bars.append(bar)
                bar = []
        out[voice_of[parse_word(track[1])[1]]] = bars
    if len({len(bars) for bars in out.values()}) > 1:
        raise ValueError(f"not a valid piece: its tracks have {sorted({len(b) for b in out.values()})} bars")
    return out


def join(grid: dict[int, Sequence[Sequence[str]]], style: str = "JSFAKES", genre: str = "JSFAKES",
         voice_insts: Sequence[int] = JSFAKES_INSTS) -> str:
    """The row of a grid of cells (`cells`): the header, then each voice's track in the grid's order."""
    out = ["PIECE_START", f"STYLE={style}", f"GENRE={genre}"]
    for voice, bars in grid.items():
        out += ["TRACK_START", f"INST={voice_insts[voice]}", *(w for bar in bars for w in bar), "TRACK_END"]
    return " ".join(out + ["PIECE_END"])


# ----------------------------------------------------------------------------------------------
# Scanning: one pass that both validate() and decode() use, so they cannot disagree
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Track:
    inst: int | None
    voice: int
    position: int  # of TRACK_START
    bars: int = 0
    notes: list = dataclasses.field(default_factory=list)  # (start step, end step, pitch)


@functools.lru_cache(maxsize=4096)  # a corpus has few distinct words; scanning is hot
def parse_word(word: str) -> tuple[str, int | None] | None:
    """(kind, value) of a word of the format, or None if it is not one."""
    if word in KEYWORDS:
        return word, None
    m = _VALUE_WORD.fullmatch(word)
    if m:
        kind, value = m.group(1), int(m.group(2))
        ok = 1 <= value <= 64 if kind == "TIME_DELTA" else value <= 127
        return (kind, value) if ok else None
    if _TAG_WORD.fullmatch(word):
        return "TAG", None
    return None


def _scan(ws: list[str], voice_insts: Sequence[int], vocab: set[str] | None):
    """Walk the words once: return (tracks, problems), repairing as it goes."""
    problems: list[Problem] = []
    tracks: list[_Track] = []
    voice_of = {inst: v for v, inst in enumerate(voice_insts)}
    used_voices: set[int] = set()
    used_insts: set[int | None] = set()
    state = "start"  # start -> piece -> track -> bar -> track ... -> piece -> end
    track: _Track | None = None
    sounding: dict[int, int] = {}  # pitch -> start step in bar
    cursor, overflowed = 0, False

    def report(kind, pos, message):
        problems.append(Problem(kind, pos, message))

    def free_voice(start: int) -> int:
        v = start
        while v in used_voices:
            v += 1
        return v

    def open_track(pos, inst):
        nonlocal track, state
        if inst is not None and inst in used_insts:
            report("duplicate_voice", pos, f"a second track with INST={inst}")
        used_insts.add(inst)
        # A duplicate, unknown or missing INST gets a voice number beyond the known voices.
        voice = voice_of.get(inst, len(voice_insts))
        voice = free_voice(len(voice_insts) if voice in used_voices else voice)
        used_voices.add(voice)
        track = _Track(inst, voice, pos)
        tracks.append(track)
        state = "track"

    def open_bar():
        nonlocal state, cursor, overflowed
        sounding.clear()
        cursor, overflowed, state = 0, False, "bar"

    def add_note(pitch, start, end):
        start, end = min(start, STEPS_PER_BAR), min(end, STEPS_PER_BAR)  # a long bar is cut
        if end > start:
            base = track.bars * STEPS_PER_BAR
            track.notes.append((base + start, base + end, pitch))

    def close_bar(pos):
        nonlocal state
        if sounding:
            pitches = " ".join(str(p) for p in sounding)
            report("open_note", pos, f"note(s) {pitches} still sounding at the end of the bar")
            for pitch, start in sounding.items():
                add_note(pitch, start, STEPS_PER_BAR)
        sounding.clear()
        track.bars += 1
        state = "track"

    def close_track():
        nonlocal state
        if state == "bar":
            close_bar(pos)
        state = "piece"

    pos = 0
    for pos, word in enumerate(ws):
        parsed = parse_word(word)
        if parsed is None or (vocab is not None and word not in vocab):
            report("unknown_token", pos, f"unknown token {word!r}")
            continue
        kind, value = parsed
        if state == "end":
            report("after_piece_end", pos, f"{len(ws) - pos} token(s) after PIECE_END")
            break
        if state == "start" and kind != "PIECE_START":
            report("structure", pos, f"{word} before PIECE_START")
            state = "piece"
        if kind == "PIECE_START":
            if state == "start":
                state = "piece"
            else:
                report("structure", pos, "PIECE_START inside a piece")
        elif kind == "TAG":
            if state != "piece" or tracks:
                report("structure", pos, f"{word} after the first track")
        elif kind == "TRACK_START":
            if state != "piece":
                report("structure", pos, "TRACK_START before TRACK_END")
                close_track()
            state = "head"  # waiting for INST
            track = None
        elif kind == "INST":
            if state == "head":
                open_track(pos - 1, value)
            else:
                report("structure", pos, f"{word} not right after TRACK_START")
        elif kind == "PIECE_END":
            if state in ("track", "bar"):
                report("structure", pos, "PIECE_END before TRACK_END")
                close_track()
            state = "end"
        elif kind == "TRACK_END":
            if state == "head":
                report("structure", pos, "TRACK_START without INST")
                open_track(pos, None)
            if state == "piece":
                report("structure", pos, "TRACK_END outside a track")
            else:
                close_track()
        else:  # BAR_START, BAR_END, NOTE_ON, NOTE_OFF, TIME_DELTA
            if state in ("piece", "head"):
                missing = "INST" if state == "head" else "TRACK_START"
                report("structure", pos, f"{word} with no {missing} before it")
                open_track(pos, None)
            if kind == "BAR_START":
                if state == "bar":
                    report("structure", pos, "BAR_START before BAR_END")
                    close_bar(pos)
                open_bar()
                continue
            if state == "track":
                if kind == "BAR_END":
                    report("structure", pos, "BAR_END outside a bar")
                    continue
                report("structure", pos, f"{word} outside a bar")
                open_bar()
            if kind == "BAR_END":
                close_bar(pos)
            elif kind == "TIME_DELTA":
                cursor += value
                if cursor > STEPS_PER_BAR and not overflowed:
                    overflowed = True
                    report("bar_too_long", pos, f"bar reaches {cursor} sixteenths (max {STEPS_PER_BAR})")
            elif kind == "NOTE_ON":
                if value in sounding:
                    report("note_on_sounding", pos, f"{word} while pitch {value} is already sounding")
                    add_note(value, sounding.pop(value), cursor)
                elif sounding:
                    report("chord", pos, f"{word} while {' '.join(map(str, sounding))} sounds")
                sounding[value] = cursor
            else:  # NOTE_OFF
                if value not in sounding:
                    report("unmatched_note_off", pos, f"{word} with no sounding note {value}")
                    continue
                start = sounding.pop(value)
                if start == cursor:
                    report("empty_note", pos, f"{word} right after its NOTE_ON (no time between)")
                add_note(value, start, cursor)
    else:
        pos = len(ws)
        if state != "end":
            report("missing_piece_end", pos, "no PIECE_END")
            if state in ("track", "bar"):
                close_track()
    return tracks, problems


# ----------------------------------------------------------------------------------------------
# Validation and decoding
# ----------------------------------------------------------------------------------------------


def validate(
    tokens: Tokens,
    bars: int | None = 4,
    tracks: int | None = 4,
    monophonic: bool = True,
    voice_insts: Sequence[int] = JSFAKES_INSTS,
    vocab: Iterable[str] | None = None,
) -> Report:
    """Everything wrong with a token sequence, each problem with its position.

    By default it checks a js-fakes-4bars piece: 4 tracks of 4 bars, monophonic voices.
    bars, tracks: required counts (None: any). monophonic: report chords within a track.
    vocab: words the model knows (e.g. `tokenizer.get_vocab()`); others are unknown tokens.
    """
    ws = words(tokens)
    found, problems = _scan(ws, voice_insts, set(vocab) if vocab is not None else None)
    if not monophonic:
        problems = [p for p in problems if p.kind != "chord"]
    if bars is not None:
        for t in found:
            if t.bars != bars:
                problems.append(Problem("wrong_bar_count", t.position,
                                        f"track with {t.bars} bar(s), expected {bars}"))
    if tracks is not None and len(found) != tracks:
        end = ws.index("PIECE_END") if "PIECE_END" in ws else len(ws)
        problems.append(Problem("wrong_track_count", end, f"{len(found)} track(s), expected {tracks}"))
    problems.sort(key=lambda p: p.position)
    return Report(problems, len(ws))


def voice_steps(tokens: Tokens, voice_insts: Sequence[int] = JSFAKES_INSTS) -> dict[int, list]:
    """Each voice's notes as (start, end, pitch) in steps from the piece start, in track order.

    Read as `decode(strict=False)` reads (problems repaired, chords kept) but silently: for
    statistics over many samples, after `validate` has said what was wrong with them.
    """
    tracks, _ = _scan(words(tokens), voice_insts, None)
    return {t.voice: list(t.notes) for t in tracks}


def decode(
    tokens: Tokens,
    bpm: float = DEFAULT_BPM,
    strict: bool = True,
    voice_insts: Sequence[int] = JSFAKES_INSTS,
) -> music_pb2.NoteSequence:
    """Tokens (a string or a list of words) as a NoteSequence at `bpm`.

    The BPM goes into the note times *and* the sequence's tempo, so a MIDI file written from it
    plays at that BPM. Each track becomes a voice (`note.instrument`, from its INST through
    `voice_insts`) whose GM program is its INST. Decoding stops at PIECE_END.

    strict=True raises ValueError naming the first problem and its position. strict=False repairs
    and warns: unknown or misplaced words are skipped, an unmatched NOTE_OFF is ignored, an open
    note ends with its bar, a bar longer than 16 sixteenths is cut at 16, a duplicate voice gets
    its own voice number, a missing PIECE_END is assumed. It never raises on a list of strings.
    """
    if bpm <= 0 or not math.isfinite(bpm):
        raise ValueError(f"bpm must be a positive number, got {bpm}")
    tracks, problems = _scan(words(tokens), voice_insts, None)
    problems = [p for p in problems if p.kind != "chord"]  # the format allows chords in a track
    if problems and strict:
        raise ValueError(f"cannot decode: {problems[0]}; "
                         "use decode(..., strict=False) to repair, validate() to list all problems")
    if problems:
        shown = "; ".join(str(p) for p in problems[:3])
        more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
        warnings.warn(f"decode repaired {len(problems)} problem(s): {shown}{more}", stacklevel=2)

    seconds_per_step = 60.0 / bpm / STEPS_PER_QUARTER
    sequence = music_pb2.NoteSequence()
    sequence.ticks_per_quarter = 220
    sequence.tempos.add(qpm=bpm)
    sequence.time_signatures.add(numerator=4, denominator=4)
    for t in tracks:
        sequence.instrument_infos.add(instrument=t.voice, name=voice_name(t.voice))
        for start, end, pitch in t.notes:
            sequence.notes.add(pitch=pitch, velocity=VELOCITY, instrument=t.voice,
                               program=t.inst or 0, start_time=start * seconds_per_step,
                               end_time=end * seconds_per_step)
    n_bars = max((t.bars for t in tracks), default=0)
    sequence.total_time = n_bars * STEPS_PER_BAR * seconds_per_step
    return sequence
