"""Hearing and saving music: FluidSynth with a General MIDI SoundFont, a sine-synth fallback,
an instrument per voice, WAV and MIDI export, and inline players for notebooks (scores: `score`).

Introduced in notebook 01; notebook 05 chooses the instruments.
"""

from __future__ import annotations

import functools
import io
import os
import warnings
from pathlib import Path

import note_seq
import numpy as np
from scipy.io import wavfile

SAMPLE_RATE = 22050  # Hz: moderate, so audio embedded in notebooks stays small
SOUNDFONT_VARIABLE = "JSFAKES_SOUNDFONT"  # a .sf2 file to use instead of the default
BETTER_SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2",)  # used when installed (fluid-soundfont-gm)
# General MIDI programs to play a voice with (0-based, as in a MIDI file). "as written" keeps INST.
INSTRUMENTS = {"as written": None, "piano": 0, "harpsichord": 6, "church organ": 19, "nylon guitar": 24,
               "acoustic bass": 32, "violin": 40, "viola": 41, "cello": 42, "contrabass": 43, "strings": 48,
               "choir": 52, "trumpet": 56, "trombone": 57, "french horn": 60, "oboe": 68, "bassoon": 70,
               "clarinet": 71, "flute": 73, "recorder": 74}


def soundfont(path: str | Path | None = None) -> Path:
    """The SoundFont to use: `path`, JSFAKES_SOUNDFONT, FluidR3_GM if installed, else pretty_midi's."""
    given = path or os.environ.get(SOUNDFONT_VARIABLE)
    if given:
        if not Path(given).is_file():
            raise FileNotFoundError(f"SoundFont {given} not found")
        return Path(given)
    for candidate in BETTER_SOUNDFONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    import pretty_midi

    return Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"


@functools.cache
def has_fluidsynth() -> bool:
    """True when pyfluidsynth and the FluidSynth library (Debian: libfluidsynth3) are both there."""
    try:
        import fluidsynth  # noqa: F401  (raises ImportError without the C library)
    except (ImportError, OSError):
        return False
    return True


def program(instrument: str | int | None) -> int | None:
    """The GM program of an instrument name of INSTRUMENTS or a number 0-127 (None: as written)."""
    if instrument is None or isinstance(instrument, str) and instrument in INSTRUMENTS:
        return INSTRUMENTS.get(instrument)
    if isinstance(instrument, (int, np.integer)) and not isinstance(instrument, bool) and 0 <= instrument <= 127:
        return int(instrument)
    raise ValueError(f"unknown instrument {instrument!r}: a GM program 0-127 or one of {', '.join(INSTRUMENTS)}")


def with_instruments(sequence, instruments):
    """A copy of the sequence with each voice played by an instrument (a name or a GM program).

    instruments: {voice: instrument} or one per voice in order (soprano, alto, tenor, bass).
    Voices left out, or given "as written"/None, keep their INST as program.
    """
    if not isinstance(instruments, dict):
        instruments = dict(enumerate(instruments))
    programs = {voice: program(name) for voice, name in instruments.items()}
    copy = type(sequence)()
    copy.CopyFrom(sequence)
    for note in copy.notes:
        if programs.get(note.instrument) is not None:
            note.program = programs[note.instrument]
    return copy


def synthesize(sequence, sample_rate: int = SAMPLE_RATE, soundfont_path: str | Path | None = None,
               sine: bool | None = None, instruments=None) -> np.ndarray:
    """The sequence as mono float audio in [-1, 1]: FluidSynth when available, else sine waves.

    sine: True forces the sine synth, False requires FluidSynth, None (default) picks.
    instruments: an instrument per voice (see `with_instruments`); default: each voice's INST.
    """
    if instruments is not None:
        sequence = with_instruments(sequence, instruments)
    use_sine = not has_fluidsynth() if sine is None else sine
    if not use_sine and not has_fluidsynth():
        raise RuntimeError("FluidSynth is not available: install libfluidsynth3 (Debian) and pyfluidsynth")
    if use_sine and sine is None:
        warnings.warn("FluidSynth not found (Debian package libfluidsynth3): using a sine synth", stacklevel=2)
    if use_sine:
        audio = note_seq.synthesize(sequence, sample_rate=sample_rate)
    else:
        audio = _fluidsynth(sequence, soundfont(soundfont_path), sample_rate)
    peak = np.abs(audio).max() if len(audio) else 0.0
    return (audio / peak * 0.9 if peak > 0 else audio).astype(np.float32)


def _fluidsynth(sequence, path: Path, sample_rate: int) -> np.ndarray:
    """FluidSynth's rendering, a fresh synth per piece (so the same piece sounds the same every time)
    that loads only the samples of the instruments it plays: FluidR3 (148 MB) in 0.04 s, not 0.25 s."""
    import fluidsynth

    synth = fluidsynth.Synth(samplerate=float(sample_rate), **{"synth.dynamic-sample-loading": 1})
    try:
        font = synth.sfload(str(path))
        if font < 0:
            raise ValueError(f"FluidSynth cannot read the SoundFont {path}")
        midi = note_seq.note_sequence_to_pretty_midi(sequence)
        return midi.fluidsynth(synthesizer=synth, sfid=font) if midi.instruments else np.zeros(0)
    finally:
        synth.delete()


def wav_bytes(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Mono float audio as the bytes of a 16-bit WAV file."""
    buffer = io.BytesIO()
    wavfile.write(buffer, sample_rate, (np.clip(audio, -1, 1) * 32767).astype(np.int16))
    return buffer.getvalue()


def write_wav(audio: np.ndarray, path: str | Path, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write mono float audio as a 16-bit WAV file."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(wav_bytes(audio, sample_rate))
    return Path(path)


def midi_bytes(sequence, instruments=None) -> bytes:
    """The bytes of a MIDI file: its tempo is the sequence's (for decoded rows: the BPM asked for),
    and it lasts the sequence's whole `total_time` (four bars) even when the music ends with a rest."""
    sequence = with_instruments(sequence, instruments or {})
    if sequence.notes and sequence.total_time > max(n.end_time for n in sequence.notes):
        first = sequence.notes[0]  # an "all notes off" at the end, on a track that exists anyway
        sequence.control_changes.add(time=sequence.total_time, control_number=123, control_value=0,
                                     instrument=first.instrument, program=first.program)
    buffer = io.BytesIO()
    note_seq.sequence_proto_to_pretty_midi(sequence).write(buffer)
    return buffer.getvalue()


def write_midi(sequence, path: str | Path, instruments=None) -> Path:
    """Write a MIDI file (see `midi_bytes`)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(midi_bytes(sequence, instruments))
    return Path(path)


def play(sequence, sample_rate: int = SAMPLE_RATE, **kwargs):
    """An inline audio player (IPython.display.Audio) for a notebook; kwargs go to `synthesize`."""
    from IPython.display import Audio

    return Audio(synthesize(sequence, sample_rate, **kwargs), rate=sample_rate)
