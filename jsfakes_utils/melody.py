"""A melody you type, as one voice's MMM track: LilyPond's absolute note names, quantised to sixteenths.

Used to harmonise a melody (`compose.harmonize`; the CLI's `harmonize`).
The notation, as LilyPond writes it:

    d''4 d'' d'' a' b' c'' b' a' g' fis' e' d' g' a' b'2

- note names c d e f g a b; sharps `is` (fis) or `#` (f#), flats `es` (bes, es, as); `isis`/`eses` double;
- octave marks: `c` is C3 (MIDI 48), each `'` one octave up (`c'` = middle C, 60), each `,` one down;
- durations 1 2 4 8 16 (whole … sixteenth) with optional dots (`4.` = dotted quarter); a note without
  a duration keeps the previous one (the first defaults to a quarter);
- `r` is a rest; `|` is an optional bar check (it must fall on a bar line); `~` after a note ties it
  to the next note of the same pitch (`c'4~ c'16`: one note of five sixteenths).

A melody must fill whole 4/4 bars and stay within the voice's range; if moving it by whole octaves
brings it inside, it is moved with a warning. Anything else is refused with one sentence that says
what to change.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

from . import generate, mmm

STEPS = {1: 16, 2: 8, 4: 4, 8: 2, 16: 1}  # a duration's sixteenths, undotted
NAMES = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
ACCIDENTALS = {"": 0, "is": 1, "#": 1, "isis": 2, "##": 2, "es": -1, "s": -1, "eses": -2, "ses": -2}
_NOTE = re.compile(r"(?P<name>[a-g])(?P<acc>isis|eses|ses|is|es|s|##|#)?(?P<octave>'*|,*)"
                   r"(?P<duration>16|1|2|4|8)?(?P<dots>\.*)(?P<tie>~?)")
_REST = re.compile(r"r(?P<duration>16|1|2|4|8)?(?P<dots>\.*)")


@dataclass(frozen=True)
class Melody:
    """Notes (start, end, pitch) in sixteenths from the first bar's start, and how many bars."""

    notes: tuple[tuple[int, int, int], ...]
    bars: int

    def cells(self) -> list[list[str]]:
        """The melody's bars as MMM words, one list (BAR_START … BAR_END) per bar: a voice's cells."""
        return [mmm.encode_bar(self.notes, bar) for bar in range(self.bars)]


def parse(text: str) -> Melody:
    """Notes and bars of a melody in LilyPond's absolute notation (see the module docstring)."""
    notes, cursor, length, tied = [], 0, STEPS[4], False
    for i, word in enumerate(text.split(), 1):
        if word == "|":
            if cursor % mmm.STEPS_PER_BAR:
                raise ValueError(f"bar check '|' (word {i}) falls {cursor % mmm.STEPS_PER_BAR} sixteenths into "
                                 f"bar {cursor // mmm.STEPS_PER_BAR + 1}: the notes before it do not fill the bar")
            continue
        found = _NOTE.fullmatch(word) or _REST.fullmatch(word)
        if found is None:
            raise ValueError(f"cannot read {word!r} (word {i}): write a note as c d e f g a b with is/es "
                             f"(sharp/flat), ' or , (octave) and 1 2 4 8 16 (duration), e.g. fis'8; r for a rest")
        if found["dots"] and not found["duration"]:
            raise ValueError(f"{word!r} (word {i}): a dot needs a duration before it, e.g. 4.")
        if found["duration"]:
            base = STEPS[int(found["duration"])]
            length = base * (2 - 1 / 2 ** len(found["dots"]))  # each dot adds half of what came before
            if length != int(length):
                raise ValueError(f"{word!r} (word {i}) is shorter than a sixteenth or not on the sixteenth grid: "
                                 "use fewer dots or a longer note")
            length = int(length)
        if "name" in found.groupdict():
            octave = found["octave"]
            pitch = 48 + NAMES[found["name"]] + ACCIDENTALS[found["acc"] or ""] + 12 * (octave.count("'") - octave.count(","))
            if found["acc"] in ("s", "ses") and found["name"] not in "ae":
                raise ValueError(f"{word!r} (word {i}): a flat is 'es' ({found['name']}es); only as and es drop the e")
            if tied and notes[-1][2] != pitch:
                raise ValueError(f"{word!r} (word {i}): a tie '~' joins two notes of the same pitch")
            notes[-1:] = [(notes[-1][0], cursor + length, pitch)] if tied else notes[-1:] + [(cursor, cursor + length, pitch)]
            tied = bool(found["tie"])
        elif tied:
            raise ValueError(f"a tie '~' before a rest (word {i}): a tie joins two notes of the same pitch")
        cursor += length
    if not notes:
        raise ValueError("the melody has no notes")
    if tied:
        raise ValueError("the melody ends with a tie '~': tie the last note to another or drop the '~'")
    if cursor % mmm.STEPS_PER_BAR:
        short = mmm.STEPS_PER_BAR - cursor % mmm.STEPS_PER_BAR
        raise ValueError(f"the melody lasts {cursor} sixteenths, not whole 4/4 bars: add {short} sixteenths "
                         f"(e.g. {_rests(short)} at the end) or remove {cursor % mmm.STEPS_PER_BAR}")
    return Melody(tuple(notes), cursor // mmm.STEPS_PER_BAR)


def fit(melody: Melody, voice: int | str = "soprano", tokenizer=None) -> Melody:
    """The melody within the voice's range: as it is, or moved by whole octaves (with a warning)."""
    low, high = generate.pitch_range(voice, tokenizer)
    pitches = [p for _, _, p in melody.notes]
    for octaves in sorted(range(-4, 5), key=abs):
        if low <= min(pitches) + 12 * octaves and max(pitches) + 12 * octaves <= high:
            if octaves:
                warnings.warn(f"the melody was moved {abs(octaves)} octave{'s' * (abs(octaves) > 1)} "
                              f"{'up' if octaves > 0 else 'down'} to fit the {mmm.voice_name(generate.voice_index(voice))}"
                              f" range {low}-{high}", stacklevel=2)
            return Melody(tuple((s, e, p + 12 * octaves) for s, e, p in melody.notes), melody.bars)
    raise ValueError(f"the melody spans {min(pitches)}-{max(pitches)} ({max(pitches) - min(pitches)} semitones), "
                     f"wider than the {mmm.voice_name(generate.voice_index(voice))} range {low}-{high}: "
                     "choose another voice or narrow the melody")


def notation(tune: Melody) -> str:
    """The melody in the notation `parse` reads (bars split by `|`; a length no single note value has,
    or a note over a bar line, written as tied notes): `parse(notation(m)) == m`."""
    names = ("c", "cis", "d", "es", "e", "f", "fis", "g", "as", "a", "bes", "b")
    events, cursor = [], 0  # (start, end, pitch or None for a rest)
    for start, end, pitch in tune.notes:
        if start > cursor:
            events.append((cursor, start, None))
        events.append((start, end, pitch))
        cursor = end
    if cursor < tune.bars * mmm.STEPS_PER_BAR:
        events.append((cursor, tune.bars * mmm.STEPS_PER_BAR, None))
    words, last = [], None
    for start, end, pitch in events:
        pieces = []
        while start < end:  # within the bar, longest note values first
            bar_end = (start // mmm.STEPS_PER_BAR + 1) * mmm.STEPS_PER_BAR
            length = next(n for n in _LENGTHS if n <= min(end, bar_end) - start and start % mmm.STEPS_PER_BAR + n
                          <= mmm.STEPS_PER_BAR)
            pieces.append((start, length))
            start += length
        for k, (at, length) in enumerate(pieces):
            if at % mmm.STEPS_PER_BAR == 0 and at:
                words.append("|")
            name = "r" if pitch is None else names[pitch % 12] + ("'" * (pitch // 12 - 4) or "," * (4 - pitch // 12))
            duration = "" if length == last else _LENGTHS[length]
            last = length
            words.append(name + duration + ("~" if pitch is not None and k < len(pieces) - 1 else ""))
    return " ".join(words)


_LENGTHS = {16: "1", 12: "2.", 8: "2", 6: "4.", 4: "4", 3: "8.", 2: "8", 1: "16"}  # sixteenths -> duration


def _rests(steps: int) -> str:
    """Rests lasting `steps` sixteenths, longest first: 12 -> "r2 r4"."""
    out = []
    for duration, length in STEPS.items():
        while steps >= length:
            out.append(f"r{duration}")
            steps -= length
    return " ".join(out)


FILES = (".mid", ".midi", ".musicxml", ".xml", ".mxl")  # what `read` takes besides notation text


def read(path, track: str | int | None = None) -> Melody:
    """The melody of a MIDI or MusicXML file: the named track (a part's name or its number from 1), or
    else the highest line (the part with the highest notes; of a chord, its top note), on sixteenths."""
    import music21

    try:
        score = music21.converter.parse(str(path))
    except Exception as error:  # music21 raises many kinds for a broken file  # noqa: BLE001
        raise ValueError(f"{path}: not a readable MIDI or MusicXML file ({type(error).__name__})") from None
    meters = {ts.ratioString for ts in score.recurse().getElementsByClass(music21.meter.TimeSignature)}
    if meters - {"4/4"}:
        raise ValueError(f"{path} is in {', '.join(sorted(meters - {'4/4'}))}: the format holds 4/4 only")
    parts = list(score.parts) or [score]
    if track is not None:
        names = [p.partName or "" for p in parts]
        index = int(track) - 1 if str(track).isdigit() else next((i for i, n in enumerate(names) if n == track), -1)
        if not 0 <= index < len(parts):
            raise ValueError(f"{path} has no track {track!r}: its tracks are {', '.join(repr(n) for n in names)} "
                             f"(or give a number 1-{len(parts)})")
        part = parts[index]
    else:
        part = max(parts, key=lambda p: max((n.pitches[-1].midi for n in p.flatten().notes), default=-1))
    notes = []
    for note in sorted(part.flatten().notes, key=lambda n: n.offset):
        start, end = round(float(note.offset) * 4), round(float(note.offset + note.quarterLength) * 4)
        pitch = max(p.midi for p in note.pitches)  # a chord's top note
        if notes and notes[-1][0] == start:  # two notes at once: keep the higher
            if pitch <= notes[-1][2]:
                continue
            notes.pop()
        if notes and notes[-1][1] > start:  # one voice: a note ends where the next begins
            notes[-1] = (notes[-1][0], start, notes[-1][2])
        if end > start:
            notes.append((start, end, pitch))
    if not notes:
        raise ValueError(f"{path}: no notes in {'that track' if track is not None else 'the file'}")
    bars = -(-notes[-1][1] // mmm.STEPS_PER_BAR)
    return Melody(tuple(notes), bars)
