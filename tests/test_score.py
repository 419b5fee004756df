"""Sheet music: four staves in S-A-T-B order with their clefs, a guessed key, every note once, drawn as SVG."""

import music21

from conftest import make_sequence
from jsfakes_utils import mmm, score

# G major over four bars: a soprano with a note held across the bar line, an alto, a tenor, a bass ending on a rest.
PIECE = mmm.encode(make_sequence({0: [(0, 8, 74), (8, 24, 71), (24, 64, 67)], 1: [(0, 32, 62), (32, 64, 62)],
                                  2: [(0, 32, 59), (32, 64, 55)], 3: [(0, 16, 43), (16, 32, 50), (32, 56, 43)]}),
                   bars=4)[0]


def test_four_staves_clefs_key_and_notes():
    sequence = mmm.decode(PIECE, bpm=90)
    written = music21.converter.parse(score.musicxml(sequence, title="test", instruments=["choir"] * 4))
    parts = written.parts
    assert [p.partName.split()[0] for p in parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert [type(p.recurse().getElementsByClass("Clef")[0]).__name__ for p in parts] == \
        ["TrebleClef", "TrebleClef", "Treble8vbClef", "BassClef"]
    assert all(p.recurse().getElementsByClass("KeySignature")[0].sharps == 1 for p in parts)  # G major
    assert [len(p.getElementsByClass("Measure")) for p in parts] == [4] * 4
    # every note of the piece once, at its onset and with its pitch (sixteenths from the start)
    written_notes = sorted((round(n.getOffsetInHierarchy(written) * 4), round(n.quarterLength * 4), n.pitch.midi)
                           for n in written.flatten().notes)
    assert written_notes == sorted((round(n.start_time * 1.5 * 4), round((n.end_time - n.start_time) * 1.5 * 4),
                                    n.pitch) for n in sequence.notes)  # 90 BPM: 1.5 quarters a second
    bass_end = parts[3].getElementsByClass("Measure")[3].notesAndRests[-1]
    assert bass_end.isRest and bass_end.quarterLength == 2  # the bass's last half bar is a rest
    assert not any(n.pitch.accidental and n.pitch.accidental.displayStatus for n in written.flatten().notes)


def test_the_score_is_drawn_as_svg(tmp_path):
    drawn = score.svg(mmm.decode(PIECE, bpm=90), title="four staves")
    assert drawn.startswith("<svg") or "<svg" in drawn[:200]
    assert drawn.count('class="staff"') == 16 and drawn.count('class="note"') >= 10  # 4 staves x 4 bars
    path = score.write_svg(mmm.decode(PIECE), tmp_path / "a.svg")
    assert path.read_text() == score.svg(mmm.decode(PIECE))  # the same piece, the same picture


def test_a_piece_without_notes_still_has_a_score():
    drawn = score.svg(mmm.decode("PIECE_START PIECE_END"))
    assert "<svg" in drawn and 'class="note"' not in drawn


def test_notes_are_spelt_in_the_guessed_key():
    """A rising E major scale over its chords: sharps, D-sharp not E-flat; G minor keeps its F-sharp."""
    from conftest import make_sequence

    scale = [64, 66, 68, 69, 71, 73, 75, 76]
    sequence = mmm.decode(mmm.encode(make_sequence({0: [(4 * i, 4 * i + 4, p) for i, p in enumerate(scale * 2)],
                                                    3: [(16 * i, 16 * i + 16, p) for i, p in enumerate([40, 45, 47, 40])]}),
                                     bars=4)[0])
    written = score.to_music21(sequence)
    names = [n.pitch.name for n in written.parts[0].flatten().notes][:8]
    assert names == ["E", "F#", "G#", "A", "B", "C#", "D#", "E"]
    assert score._spelling(music21.key.Key("g", "minor"))[6] == "F#"  # the leading note of G minor
    assert score._spelling(music21.key.Key("B-"))[3] == "E-"


def test_keys_are_spelled_for_people():
    a_flat = make_sequence({0: [(0, 16, 68), (16, 32, 72), (32, 48, 75), (48, 64, 68)],
                            3: [(0, 16, 44), (16, 32, 49), (32, 48, 51), (48, 64, 44)]})
    assert score.key_name(a_flat) == "A♭ major"  # music21 itself says "A- major"
    assert score.key_name(mmm.decode(PIECE)) == "G major"
