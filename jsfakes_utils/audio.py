"""Hearing and saving music: FluidSynth with a General MIDI SoundFont, a sine-synth fallback,
WAV and MIDI export, and inline players for notebooks.

Introduced in notebook 01.
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

import note_seq
import numpy as np
from scipy.io import wavfile

SAMPLE_RATE = 22050  # Hz: moderate, so audio embedded in notebooks stays small
SOUNDFONT_VARIABLE = "JSFAKES_SOUNDFONT"  # a .sf2 file to use instead of the default
BETTER_SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2",)  # used when installed (fluid-soundfont-gm)


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


def synthesize(sequence, sample_rate: int = SAMPLE_RATE, soundfont_path: str | Path | None = None,
               sine: bool | None = None) -> np.ndarray:
    """The sequence as mono float audio in [-1, 1]: FluidSynth when available, else sine waves.

    sine: True forces the sine synth, False requires FluidSynth, None (default) picks.
    """
    use_sine = not has_fluidsynth() if sine is None else sine
    if not use_sine and not has_fluidsynth():
        raise RuntimeError("FluidSynth is not available: install libfluidsynth3 (Debian) and pyfluidsynth")
    if use_sine and sine is None:
        warnings.warn("FluidSynth not found (Debian package libfluidsynth3): using a sine synth", stacklevel=2)
    if use_sine:
        audio = note_seq.synthesize(sequence, sample_rate=sample_rate)
    else:
        with warnings.catch_warnings():  # note_seq still passes pretty_midi's deprecated sf2_path
            warnings.filterwarnings("ignore", message="The parameter 'sf2_path' is deprecated")
            audio = note_seq.fluidsynth(sequence, sample_rate=sample_rate, sf2_path=str(soundfont(soundfont_path)))
    peak = np.abs(audio).max() if len(audio) else 0.0
    return (audio / peak * 0.9 if peak > 0 else audio).astype(np.float32)


def write_wav(audio: np.ndarray, path: str | Path, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write mono float audio as a 16-bit WAV file."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    wavfile.write(path, sample_rate, (np.clip(audio, -1, 1) * 32767).astype(np.int16))
    return Path(path)


def write_midi(sequence, path: str | Path) -> Path:
    """Write a MIDI file; its tempo is the sequence's (for decoded rows: the BPM asked for)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    note_seq.sequence_proto_to_midi_file(sequence, str(path))
    return Path(path)


def play(sequence, sample_rate: int = SAMPLE_RATE, **kwargs):
    """An inline audio player (IPython.display.Audio) for a notebook."""
    from IPython.display import Audio

    return Audio(synthesize(sequence, sample_rate, **kwargs), rate=sample_rate)
