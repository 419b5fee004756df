"""Voice-leading faults — crossings, parallel fifths, parallel octaves — counted one way for everyone.

Introduced in notebook 03 (the yardstick counts them) and used again in notebook 05 (the decoder
avoids them). A piece is read onto a grid of sixteenths: for each voice (soprano 0 … bass 3) the
pitch it sounds at every step (-1: silent) and where its notes start.

- A *crossing* is counted where it starts: a lower voice sounding above the next voice up (a
  unison is no crossing).
- A *spacing* fault likewise: more than an octave between soprano and alto, or alto and tenor.
- A *parallel* is two successive sounding pairs of notes of two voices (taken where either voice
  strikes a note) in which both voices move and both intervals are fifths (or both octaves or
  unisons), compound intervals included. Contrary motion counts too (a fifth to a twelfth, an octave
  to a double octave): the ear hears the same consecutive fifths. Faults at bar lines count like
  any other.
- A *hidden* fifth or octave: soprano and bass move the same way into a fifth (or an octave) from
  another interval, the soprano by a leap (more than a whole tone).

`faults` takes grids with any leading batch shape, so the decoder scores every candidate note in
one call, and the yardstick counts whole pieces with the very same function.
"""

from __future__ import annotations

import numpy as np

from . import mmm

KINDS = ("crossings", "spacing", "parallel fifths", "parallel octaves", "hidden fifths", "hidden octaves")
SPACED = ((0, 1), (1, 2))  # pairs that must stay within an octave: soprano-alto, alto-tenor
PAIRS = [(i, j) for i in range(4) for j in range(i + 1, 4)]  # voice pairs, soprano = 0 ... bass = 3


def grid(notes_by_voice: dict[int, list], steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(pitch, onset), each (4 voices, steps): the pitch each voice sounds per step (-1: silence)
    and True where one of its notes starts. steps: default, whole bars covering every note."""
    if steps is None:
        steps = max((e for notes in notes_by_voice.values() for _, e, _ in notes), default=0)
        steps = -(-steps // mmm.STEPS_PER_BAR) * mmm.STEPS_PER_BAR
    pitch = np.full((4, steps), -1)
    onset = np.zeros((4, steps), bool)
    for voice, notes in notes_by_voice.items():
        if voice < 4:
            for start, end, p in notes:
                pitch[voice, start:end] = p
                onset[voice, start] = True
    return pitch, onset


def faults(pitch: np.ndarray, onset: np.ndarray, voice: int | None = None) -> dict[str, np.ndarray]:
    """{kind: count} of the grids pitch, onset of shape (..., 4, steps); counts of shape (...).

    voice: count only the faults this voice takes part in (what a change to it can change).
    """
    sounding = pitch >= 0
    steps = pitch.shape[-1]
    counts = {}
    crossings = 0
    for upper in [u for u in range(3) if voice is None or voice in (u, u + 1)]:
        crossed = sounding[..., upper, :] & sounding[..., upper + 1, :] & (pitch[..., upper, :] < pitch[..., upper + 1, :])
        crossings = crossings + _starts(crossed)
    counts["crossings"] = np.asarray(crossings)
    spacing = 0
    for upper, lower in [p for p in SPACED if voice is None or voice in p]:
        wide = sounding[..., upper, :] & sounding[..., lower, :] & (pitch[..., upper, :] - pitch[..., lower, :] > 12)
        spacing = spacing + _starts(wide)
    counts["spacing"] = np.asarray(spacing)
    fifths = octaves = hidden_fifths = hidden_octaves = 0
    position = np.arange(steps)
    for i, j in [p for p in PAIRS if voice is None or voice in p]:
        both = sounding[..., i, :] & sounding[..., j, :] & (onset[..., i, :] | onset[..., j, :])
        # the step of the previous such pair of notes, for every step (-1: none yet)
        last = np.maximum.accumulate(np.where(both, position, -1), axis=-1)
        prev = np.concatenate([np.full_like(last[..., :1], -1), last[..., :-1]], axis=-1)
        a, b = pitch[..., i, :], pitch[..., j, :]
        a0, b0 = np.take_along_axis(a, prev.clip(0), -1), np.take_along_axis(b, prev.clip(0), -1)
        da, db = a - a0, b - b0
        moved = both & (prev >= 0) & (da != 0) & (db != 0)  # both voices move: similar or contrary
        now, then = np.abs(a - b) % 12, np.abs(a0 - b0) % 12
        fifths = fifths + (moved & (now == 7) & (then == 7)).sum(-1)
        octaves = octaves + (moved & (now == 0) & (then == 0)).sum(-1)
        if (i, j) == (0, 3):  # the outer voices, moving the same way
            leap = moved & (np.sign(da) == np.sign(db)) & (np.abs(da) > 2)
            hidden_fifths = hidden_fifths + (leap & (now == 7) & (then != 7)).sum(-1)
            hidden_octaves = hidden_octaves + (leap & (now == 0) & (then != 0)).sum(-1)
    counts["parallel fifths"], counts["parallel octaves"] = np.asarray(fifths), np.asarray(octaves)
    counts["hidden fifths"], counts["hidden octaves"] = np.asarray(hidden_fifths), np.asarray(hidden_octaves)
    return counts


def _starts(mask: np.ndarray) -> np.ndarray:
    """How many runs of True the mask (..., steps) holds: a fault lasting several steps counts once."""
    before = np.concatenate([np.zeros_like(mask[..., :1]), mask[..., :-1]], axis=-1)
    return (mask & ~before).sum(-1)


def count(tokens: mmm.Tokens) -> dict[str, int]:
    """The faults of one piece (voices read from their INST, whatever the track order)."""
    pitch, onset = grid(mmm.voice_steps(tokens))
    return {kind: int(n) for kind, n in faults(pitch, onset).items()}
