"""Sheet music: a piece as a four-staff SATB score, written as MusicXML by music21, drawn as SVG by verovio.

Introduced in notebook 05 (under each piece in the studio); `generate --score` writes piece-K.svg.

Soprano and alto on treble staves, the tenor on a treble staff an octave down (as choral scores
print it), the bass on a bass staff; the key signature is music21's guess from the notes
(Krumhansl-Schmuckler), the time signature 4/4, the tempo the piece's BPM. A note held across a bar
line shows as two notes, as MMM writes it (the format has no tie, see notebook 02).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from . import mmm

CLEFS = {0: "TrebleClef", 1: "TrebleClef", 2: "Treble8vbClef", 3: "BassClef"}  # by voice (note.instrument)
PAGE = {"pageWidth": 2100, "scale": 35, "adjustPageHeight": True, "header": "none", "footer": "none",
        "breaks": "auto", "svgViewBox": True, "xmlIdSeed": 1}  # verovio's: four bars a system, no page furniture,
# and ids from a fixed seed, so the same piece gives the same picture


def to_music21(sequence, title: str | None = None, instruments=None):
    """The sequence (`mmm.decode`'s) as a music21 Score: one part and staff per voice, S-A-T-B from the top."""
    import music21

    qpm = sequence.tempos[0].qpm if sequence.tempos else mmm.DEFAULT_BPM
    instruments = dict(enumerate(instruments)) if isinstance(instruments, (list, tuple)) else (instruments or {})
    score = music21.stream.Score()
    if title:
        score.insert(0, music21.metadata.Metadata(title=title))
    voices = sorted({i.instrument for i in sequence.instrument_infos} | {n.instrument for n in sequence.notes}) \
        or list(range(4))  # a piece with no notes still gets its four (empty) staves
    for voice in voices:
        part = music21.stream.Part(id=mmm.voice_name(voice))
        name = mmm.voice_name(voice).capitalize()
        played = instruments.get(voice) or instruments.get(mmm.voice_name(voice))
        part.partName = f"{name} ({played})" if isinstance(played, str) and played != "as written" else name
        part.insert(0, getattr(music21.clef, CLEFS.get(voice, "TrebleClef"))())
        part.insert(0, music21.meter.TimeSignature("4/4"))
        for note in sequence.notes:
            if note.instrument == voice:
                start, end = (round(t * qpm / 60 * 4) / 4 for t in (note.start_time, note.end_time))  # sixteenths
                part.insert(start, music21.note.Note(note.pitch, quarterLength=max(end - start, 0.25)))
        score.insert(0, part)
    key = score.analyze("key") if sequence.notes else music21.key.Key("C")
    names = _spelling(key)
    for part in score.parts:
        part.insert(0, music21.key.KeySignature(key.sharps))
        for written in part.notes:
            midi = written.pitch.midi
            pitch = music21.pitch.Pitch(names[midi % 12])
            pitch.octave = midi // 12 - 1
            pitch.octave += (midi - pitch.midi) // 12  # B-sharp and C-flat sit across the octave line
            written.pitch = pitch
    score.parts[0].insert(0, music21.tempo.MetronomeMark(number=round(qpm, 1)))
    bars = max(1, mmm.count_bars(sequence))  # whole bars: a piece that ends on a rest still shows its last bar
    for part in score.parts:
        part.makeRests(fillGaps=True, inPlace=True, timeRangeFromBarDuration=False)
        if part.highestTime < bars * 4:
            part.insert(part.highestTime, music21.note.Rest(quarterLength=bars * 4 - part.highestTime))
    return score.makeNotation()


def _spelling(key) -> dict[int, str]:
    """A name for each pitch class, as the key writes it: its scale's notes (in minor also the raised
    sixth and seventh, F-sharp in G minor), the others with sharps in a sharp key, flats in a flat one."""
    import music21

    scale = list(key.pitches)
    if key.mode == "minor":
        scale += [key.pitchFromDegree(degree).transpose("A1") for degree in (6, 7)]
    names = {}
    for pitch in scale:
        names.setdefault(pitch.pitchClass, pitch.name)
    for pitch_class in range(12):
        pitch = music21.pitch.Pitch(pitch_class)
        wrong = "flat" if key.sharps >= 0 else "sharp"
        if pitch.accidental is not None and pitch.accidental.name == wrong:
            pitch = pitch.getEnharmonic()
        names.setdefault(pitch_class, pitch.name)
    return names


def musicxml(sequence, title: str | None = None, instruments=None) -> bytes:
    """The score as MusicXML (for MuseScore, Finale, …)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = to_music21(sequence, title, instruments).write("musicxml", fp=str(Path(tmp) / "score.musicxml"))
        return Path(path).read_bytes()


def key_name(sequence) -> str:
    """The key music21 guesses from the notes, spelled for people: 'A♭ major', 'F♯ minor' (music21 writes 'A- major')."""
    import music21

    key = to_music21(sequence).analyze("key") if sequence.notes else music21.key.Key("C")
    return f"{key.tonic.name.replace('-', '♭').replace('#', '♯')} {key.mode}"


def svg(sequence, title: str | None = None, instruments=None) -> str:
    """The score drawn as one SVG image (verovio, offline), in whichever thread calls it."""
    import importlib.resources

    import verovio

    # A toolkit finds its fonts through a per-thread resource path, right only in the thread that imported
    # verovio (elsewhere: the folder its wheel was built in). JupyterLab runs widget callbacks in another
    # thread, so the path is always given.
    toolkit = verovio.toolkit(False)
    if not toolkit.setResourcePath(str(importlib.resources.files("verovio") / "data")):
        raise RuntimeError("verovio could not load its music fonts")
    toolkit.setOptions(PAGE)
    if not toolkit.loadData(musicxml(sequence, title, instruments).decode()):
        raise ValueError("verovio could not read the score")
    return toolkit.renderToSVG(1)


def write_svg(sequence, path: str | Path, title: str | None = None, instruments=None) -> Path:
    """Write the score as an .svg file."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(svg(sequence, title, instruments))
    return Path(path)

