"""Audio, MIDI export and pictures: non-silent, deterministic, the right tempo and length."""

import matplotlib
import numpy as np
import pretty_midi
import pytest
from scipy.io import wavfile

from conftest import make_sequence
from jsfakes_utils import audio, mmm, plots

matplotlib.use("Agg")

ROW = mmm.encode(make_sequence({0: [(0, 8, 72), (8, 16, 71)], 3: [(0, 16, 48)]}), bars=1)[0]


@pytest.mark.parametrize("sine", [True, pytest.param(False, marks=pytest.mark.skipif(
    not audio.has_fluidsynth(), reason="FluidSynth (libfluidsynth3) is not installed"))])
def test_synthesis_plays_the_notes_at_their_times(sine):
    sequence = mmm.decode(ROW, bpm=120)  # one bar = 2 s: soprano C5 then B4, a bass C3 under both
    first = audio.synthesize(sequence, sine=sine)
    assert len(first) >= 2 * audio.SAMPLE_RATE
    halves = first[:audio.SAMPLE_RATE], first[audio.SAMPLE_RATE:2 * audio.SAMPLE_RATE]
    c5, b4, c3 = (440 * 2 ** ((p - 69) / 12) for p in (72, 71, 48))
    (c5_then, b4_then), (c5_later, b4_later) = ((level(h, c5), level(h, b4)) for h in halves)
    assert c5_then > 3 * b4_then and b4_later > 3 * c5_later  # the soprano's two notes, in order (C5 rings on a little)
    assert min(level(h, c3) for h in halves) > 5 * level(halves[0], 440 * 2 ** (-30 / 12))  # the bass throughout
    assert np.array_equal(first, audio.synthesize(sequence, sine=sine))


def level(samples: np.ndarray, hertz: float) -> float:
    """The spectrum's strength within a quarter tone of `hertz`."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / audio.SAMPLE_RATE)
    return float(spectrum[np.abs(np.log2(freqs.clip(1) / hertz)) < 1 / 24].max())


def test_default_synth_says_when_it_falls_back(monkeypatch):
    audio.has_fluidsynth.cache_clear()
    monkeypatch.setitem(__import__("sys").modules, "fluidsynth", None)  # as if it were missing
    try:
        with pytest.warns(UserWarning, match="sine synth"):
            audio.synthesize(mmm.decode(ROW))
    finally:
        audio.has_fluidsynth.cache_clear()


def test_wav_and_midi_files(tmp_path):
    sequence = mmm.decode(ROW, bpm=60)
    wav = audio.write_wav(audio.synthesize(sequence, sine=True), tmp_path / "a.wav")
    rate, samples = wavfile.read(wav)
    assert rate == audio.SAMPLE_RATE and samples.dtype == np.int16 and samples.max() > 10000
    midi = pretty_midi.PrettyMIDI(str(audio.write_midi(sequence, tmp_path / "a.mid")))
    assert midi.get_tempo_changes()[1][0] == pytest.approx(60)
    assert midi.get_end_time() == pytest.approx(4.0)  # one 4/4 bar at 60 BPM


def test_soundfont_choice(tmp_path, monkeypatch):
    """FluidR3 when installed (the set-up installs it where it may), else pretty_midi's TimGM6mb."""
    from pathlib import Path

    installed = [p for p in audio.BETTER_SOUNDFONTS if Path(p).is_file()]
    assert audio.soundfont() == (Path(installed[0]) if installed else audio.soundfont()) and audio.soundfont().exists()
    monkeypatch.setattr(audio, "BETTER_SOUNDFONTS", (str(tmp_path / "absent.sf2"),))
    assert audio.soundfont().name == "TimGM6mb.sf2"
    monkeypatch.setenv(audio.SOUNDFONT_VARIABLE, str(tmp_path / "missing.sf2"))
    with pytest.raises(FileNotFoundError, match="missing.sf2"):
        audio.soundfont()


def test_piano_roll(tmp_path):
    sequence = mmm.decode(ROW)
    ax = plots.piano_roll(sequence)
    assert len(ax.patches) == 3 and [t.get_text() for t in ax.get_legend().get_texts()] == ["soprano", "bass"]
    shuffled = mmm.decode(mmm.shuffle_tracks(mmm.encode(make_sequence(
        {v: [(0, 16, 72 - 7 * v)] for v in range(4)}), bars=1)[0], __import__("random").Random(3)))
    assert [i.name for i in shuffled.instrument_infos] != list(mmm.VOICE_NAMES)  # tracks not in S-A-T-B order
    legend = plots.piano_roll(shuffled).get_legend()
    assert [t.get_text() for t in legend.get_texts()] == list(mmm.VOICE_NAMES)  # the legend is, as a score
    fig = legend.axes.figure
    fig.canvas.draw()
    box, area = legend.get_window_extent(), legend.axes.get_window_extent()
    assert box.x0 >= area.x1  # beside the plot, never over the notes
    path = plots.save_piano_roll(sequence, tmp_path / "roll.png")
    assert path.stat().st_size > 1000


def test_piano_roll_axes_read_as_music():
    """Pitches named on the C's (an octave shown at least), bars numbered from 1, one tick a bar."""
    ax = plots.piano_roll(mmm.decode(mmm.join({0: [["BAR_START", "NOTE_ON=71", "TIME_DELTA=16", "NOTE_OFF=71", "BAR_END"]] * 8})))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["C5 (72)"]  # B4 alone: the C beside it named
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(bar) for bar in range(1, 9)]
    assert ax.get_xlabel() == "bar" and ax.get_xlim() == (0, 32)
    ax = plots.piano_roll(mmm.decode(ROW))
    assert all(t.get_text().startswith("C") for t in ax.get_yticklabels())
    assert [mmm.note_name(p) for p in (60, 61, 63, 70, 21)] == ["C4", "C♯4", "E♭4", "B♭4", "A0"]


# Four bars whose last bar ends early with a rest: the file must still last four bars.
FOUR_BARS = mmm.encode(make_sequence({0: [(0, 16, 72), (16, 32, 71), (32, 48, 72), (48, 52, 74)],
                                      3: [(0, 32, 48), (32, 52, 43)]}), bars=4)[0]


@pytest.mark.parametrize("bpm", [45, 90, 173.5])
def test_midi_tempo_is_the_bpm_and_lasts_four_bars(tmp_path, bpm):
    midi = pretty_midi.PrettyMIDI(str(audio.write_midi(mmm.decode(FOUR_BARS, bpm=bpm), tmp_path / "a.mid")))
    assert midi.get_tempo_changes()[1] == pytest.approx([bpm], rel=1e-4)
    assert midi.get_end_time() == pytest.approx(4 * 4 * 60 / bpm, rel=1e-4)  # four 4/4 bars
    assert sum(len(i.notes) for i in midi.instruments) == 8  # no note lost (notes are cut at barlines)


def test_an_instrument_per_voice(tmp_path):
    sequence = mmm.decode(FOUR_BARS)
    chosen = audio.with_instruments(sequence, ["choir", None, 19, "as written"])
    assert {n.instrument: n.program for n in chosen.notes} == {0: 52, 3: 32}  # bass keeps INST=32
    assert {n.program for n in audio.with_instruments(sequence, {3: 19}).notes} == {0, 19}
    assert {n.program for n in sequence.notes} == {0, 32}  # the original is left alone
    midi = pretty_midi.PrettyMIDI(str(audio.write_midi(sequence, tmp_path / "a.mid", {3: "cello"})))
    assert sorted(i.program for i in midi.instruments) == [0, 42]
    with pytest.raises(ValueError, match="unknown instrument 'kazoo'"):
        audio.with_instruments(sequence, {0: "kazoo"})
    with pytest.raises(ValueError, match="unknown instrument 200"):
        audio.synthesize(sequence, instruments=[200])


@pytest.mark.skipif(not audio.has_fluidsynth(), reason="FluidSynth (libfluidsynth3) is not installed")
def test_instruments_change_the_sound():
    sequence = mmm.decode(FOUR_BARS)
    piano = audio.synthesize(sequence, instruments=["piano", "piano", "piano", "piano"])
    organ = audio.synthesize(sequence, instruments=["church organ"] * 4)
    assert len(piano) == len(organ) and not np.allclose(piano, organ, atol=0.05)
