"""A typed melody: LilyPond's absolute notation read exactly, bad melodies refused with what to change."""

import pytest

from jsfakes_utils import generate, melody, mmm

TUNE = "d''4 d'' d'' a' b' c'' b' a' g' fis' e' d' g' a' b'2"  # the example: four bars


def test_notes_octaves_accidentals_and_durations():
    tune = melody.parse(TUNE)
    assert tune.bars == 4 and len(tune.notes) == 15
    assert tune.notes[0] == (0, 4, 74) and tune.notes[9] == (36, 40, 66) and tune.notes[-1] == (56, 64, 71)
    pitches = [p for _, _, p in melody.parse("c, c c' c'' cis' des' es' as' bes' f#' eeses' gisis' b,4 r2 r4 | r1").notes]
    assert pitches == [36, 48, 60, 72, 61, 61, 63, 68, 70, 66, 62, 69, 47]
    lengths = [e - s for s, e, _ in melody.parse("c'1 c'2 c'4 c'8 c'16 c'16 c'8 c'4. c'8. c'16 c'2.. c'8 r4").notes]
    assert lengths == [16, 8, 4, 2, 1, 1, 2, 6, 3, 1, 14, 2]  # a note without a duration keeps the last one


def test_the_cells_are_valid_mmm_holding_the_melody_note_for_note():
    tune = melody.parse(TUNE)
    piece = mmm.join({0: tune.cells()})  # one track is a valid piece of one track
    assert mmm.validate(piece, tracks=1).ok, mmm.validate(piece, tracks=1)
    assert mmm.voice_steps(piece)[0] == list(tune.notes)
    assert melody.parse("r4 c''4 r2").cells() == [["BAR_START", "TIME_DELTA=4", "NOTE_ON=72", "TIME_DELTA=4",
                                                   "NOTE_OFF=72", "BAR_END"]]


@pytest.mark.parametrize("text, says", [
    ("c''4 d''", "add 8 sixteenths (e.g. r2 at the end)"),
    ("c''4 d'' e''", "add 4 sixteenths (e.g. r4 at the end)"),
    ("c''4 d'' | e''2 f''", "bar check '|' (word 3) falls 8 sixteenths into bar 1"),
    ("c''4 h''", "(word 2): write a note as c d e f g a b"),
    ("c''16. d''", "not on the sixteenth grid"),
    ("c''. d''", "a dot needs a duration"),
    ("r1", "no notes"),
    ("bs'1", "a flat is 'es' (bes)"),
])
def test_bad_melodies_are_refused_saying_what_to_change(text, says):
    with pytest.raises(ValueError) as error:
        melody.parse(text)
    assert says in str(error.value) and "\n" not in str(error.value)


def test_a_melody_is_moved_by_octaves_into_the_voice_or_refused():
    low_tune = melody.parse("c4 d e f g a b c'")  # C3-C4: below the soprano
    with pytest.warns(UserWarning, match="moved 1 octave up to fit the soprano range"):
        moved = melody.fit(low_tune, "soprano")
    assert [p for _, _, p in moved.notes] == [p + 12 for _, _, p in low_tune.notes]
    assert melody.fit(low_tune, "bass") == low_tune  # already a bass line: unchanged, no warning
    low, high = generate.pitch_range("soprano")
    with pytest.raises(ValueError, match="wider than the soprano range"):
        melody.fit(melody.parse("c,4 c''' c c"), "soprano")
    assert low < high


def test_harmonize_keeps_the_melody_note_for_note(tmp_path, capsys):
    from jsfakes_utils import cli

    out = tmp_path / "out"
    assert cli.main(["harmonize", TUNE, "--n", "2", "--seed", "1", "--sine", "--out", str(out), "--data",
                     str(tmp_path / "none")]) == 0
    assert "valid: 100%" in capsys.readouterr().out
    for k in (1, 2):
        row = (out / f"piece-{k}.txt").read_text().strip()
        assert mmm.validate(row).ok and mmm.voice_steps(row)[0] == list(melody.parse(TUNE).notes)
    (tmp_path / "tune.ly").write_text("c4 d e f | g a b c' | c' b a g | f e d2")  # a bass line, from a file
    assert cli.main(["harmonize", str(tmp_path / "tune.ly"), "--voice", "bass", "--n", "1", "--sine",
                     "--out", str(tmp_path / "bass"), "--data", str(tmp_path / "none")]) == 0
    row = (tmp_path / "bass" / "piece-1.txt").read_text().strip()
    assert mmm.voice_steps(row)[3] == list(melody.parse("c4 d e f g a b c' c' b a g f e d2").notes)


def test_the_ngram_harmonizes_too():
    from jsfakes_utils import compose, ngram

    from test_evaluate import CROSSING, FIFTHS, OCTAVES
    from test_mmm import VALID

    lm = ngram.train_ngram([FIFTHS, OCTAVES, CROSSING, VALID], 3)
    tune = "g'2 a'2 | g'1 | a'2 g'2 | g'1"  # words the tiny n-gram knows
    (row,) = compose.harmonize(tune, "soprano", lm, None, generate.Settings(seed=2))
    assert mmm.validate(row).ok and mmm.voice_steps(row)[0] == list(melody.parse(tune).notes)


def test_a_midi_or_musicxml_file_gives_its_highest_line_or_a_named_track(tmp_path):
    import music21

    from conftest import make_sequence
    from jsfakes_utils import audio, score

    tune = list(melody.parse(TUNE).notes)
    bass = [(0, 32, 43), (32, 64, 50)]
    row = mmm.encode(make_sequence({0: tune, 3: bass}), bars=4)[0]
    sequence, bass = mmm.decode(row, bpm=90), mmm.voice_steps(row)[3]  # MMM strikes a held note again each bar
    midi = audio.write_midi(sequence, tmp_path / "tune.mid")
    assert melody.read(midi).notes == tuple(tune)  # the highest line: the soprano
    assert melody.read(midi, track=2).notes == tuple(bass)  # the second track, by number
    xml = tmp_path / "tune.musicxml"
    xml.write_bytes(score.musicxml(sequence))
    assert melody.read(xml, track="Bass").notes == tuple(bass)  # by name
    assert melody.read(xml).notes == tuple(tune)
    chords = music21.stream.Stream([music21.meter.TimeSignature("4/4")] +
                                   [music21.chord.Chord([60, 64, 67 + k], quarterLength=4) for k in range(4)])
    chords.write("midi", fp=str(tmp_path / "chords.mid"))
    assert [p for _, _, p in melody.read(tmp_path / "chords.mid").notes] == [67, 68, 69, 70]  # each chord's top
    with pytest.raises(ValueError, match="no track 'Alto'"):
        melody.read(midi, track="Alto")
    waltz = music21.stream.Stream([music21.meter.TimeSignature("3/4"), music21.note.Note(60, quarterLength=3)])
    waltz.write("midi", fp=str(tmp_path / "waltz.mid"))
    with pytest.raises(ValueError, match="3/4: the format holds 4/4 only"):
        melody.read(tmp_path / "waltz.mid")
    (tmp_path / "broken.mid").write_bytes(b"MThd\0\0")
    with pytest.raises(ValueError, match="not a readable MIDI or MusicXML file"):
        melody.read(tmp_path / "broken.mid")


def test_harmonize_takes_a_midi_file(tmp_path, capsys):
    from conftest import make_sequence
    from jsfakes_utils import audio, cli

    tune = list(melody.parse(TUNE).notes)
    midi = audio.write_midi(mmm.decode(mmm.encode(make_sequence({0: tune}), bars=4)[0]), tmp_path / "tune.mid")
    assert cli.main(["harmonize", str(midi), "--n", "1", "--sine", "--out", str(tmp_path / "o"),
                     "--data", str(tmp_path / "none")]) == 0
    assert mmm.voice_steps((tmp_path / "o" / "piece-1.txt").read_text())[0] == tune
