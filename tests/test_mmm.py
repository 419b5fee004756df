"""The MMM codec: round trips on edge cases, the published known answer, every validate error."""

import random
import warnings

import note_seq
import pretty_midi
import pytest

from conftest import make_sequence
from jsfakes_utils import mmm

# Row 0 of the published train split (midi/497.mid, bar 0): its first track, as published.
PUBLISHED_FIRST_TRACK = (
    "PIECE_START STYLE=JSFAKES GENRE=JSFAKES TRACK_START INST=0 BAR_START NOTE_ON=70 TIME_DELTA=4 "
    "NOTE_OFF=70 NOTE_ON=77 TIME_DELTA=4 NOTE_OFF=77 NOTE_ON=74 TIME_DELTA=4 NOTE_OFF=74 NOTE_ON=72 "
    "TIME_DELTA=2 NOTE_OFF=72 NOTE_ON=74 TIME_DELTA=2 NOTE_OFF=74 BAR_END BAR_START NOTE_ON=75 "
    "TIME_DELTA=4 NOTE_OFF=75 NOTE_ON=72 TIME_DELTA=8 NOTE_OFF=72 NOTE_ON=70 TIME_DELTA=4 NOTE_OFF=70 "
    "BAR_END BAR_START NOTE_ON=70 TIME_DELTA=4 NOTE_OFF=70 NOTE_ON=65 TIME_DELTA=4 NOTE_OFF=65 "
    "NOTE_ON=67 TIME_DELTA=4 NOTE_OFF=67 NOTE_ON=69 TIME_DELTA=4 NOTE_OFF=69 BAR_END BAR_START "
    "NOTE_ON=70 TIME_DELTA=2 NOTE_OFF=70 NOTE_ON=69 TIME_DELTA=2 NOTE_OFF=69 NOTE_ON=67 TIME_DELTA=8 "
    "NOTE_OFF=67 NOTE_ON=65 TIME_DELTA=4 NOTE_OFF=65 BAR_END TRACK_END")

HEAD = "PIECE_START STYLE=JSFAKES GENRE=JSFAKES"
BAR = "BAR_START NOTE_ON=60 TIME_DELTA=16 NOTE_OFF=60 BAR_END"


def piece(*tracks):
    return " ".join([HEAD, *tracks, "PIECE_END"])


def track(inst, *bars):
    return " ".join(["TRACK_START", f"INST={inst}", *bars, "TRACK_END"])


VALID = piece(*(track(i, BAR, BAR, BAR, BAR) for i in mmm.JSFAKES_INSTS))  # 96 words


def notes_of(sequence):
    step = 60 / sequence.tempos[0].qpm / 4
    return sorted((n.instrument, round(n.start_time / step), round(n.end_time / step), n.pitch)
                  for n in sequence.notes)


def test_one_bar_by_hand():
    sequence = make_sequence({0: [(0, 4, 60), (4, 8, 62), (8, 16, 64)]})
    assert mmm.encode(sequence, bars=1) == [
        "PIECE_START STYLE=JSFAKES GENRE=JSFAKES TRACK_START INST=0 BAR_START NOTE_ON=60 TIME_DELTA=4 "
        "NOTE_OFF=60 NOTE_ON=62 TIME_DELTA=4 NOTE_OFF=62 NOTE_ON=64 TIME_DELTA=8 NOTE_OFF=64 BAR_END "
        "TRACK_END PIECE_END"]


@pytest.mark.parametrize("name, voices, total, expected_bar", [
    ("rest at bar start", {0: [(4, 16, 60)]}, 16, "BAR_START TIME_DELTA=4 NOTE_ON=60 TIME_DELTA=12 NOTE_OFF=60 BAR_END"),
    ("rest in the middle", {0: [(0, 4, 60), (8, 16, 62)]}, 16,
     "BAR_START NOTE_ON=60 TIME_DELTA=4 NOTE_OFF=60 TIME_DELTA=4 NOTE_ON=62 TIME_DELTA=8 NOTE_OFF=62 BAR_END"),
    ("short last bar", {0: [(0, 8, 60)]}, None, "BAR_START NOTE_ON=60 TIME_DELTA=8 NOTE_OFF=60 BAR_END"),
    ("one note", {0: [(0, 1, 81)]}, None, "BAR_START NOTE_ON=81 TIME_DELTA=1 NOTE_OFF=81 BAR_END"),
])
def test_bar_edge_cases(name, voices, total, expected_bar):
    row = mmm.encode(make_sequence(voices, total_steps=total), bars=1)[0]
    assert expected_bar in row, name
    assert mmm.encode(mmm.decode(row), bars=1) == [row]


def test_note_across_barline_is_cut_and_struck_again():
    row = mmm.encode(make_sequence({0: [(12, 20, 67)]}, total_steps=32), bars=2)[0]
    assert ("BAR_START TIME_DELTA=12 NOTE_ON=67 TIME_DELTA=4 NOTE_OFF=67 BAR_END "
            "BAR_START NOTE_ON=67 TIME_DELTA=4 NOTE_OFF=67 BAR_END") in row
    assert notes_of(mmm.decode(row)) == [(0, 12, 16, 67), (0, 16, 20, 67)]


def test_empty_voice_keeps_its_track():
    sequence = make_sequence({0: [(0, 16, 60)]}, total_steps=16)
    sequence.instrument_infos.add(instrument=0, name="soprano")
    sequence.instrument_infos.add(instrument=3, name="bass")
    row = mmm.encode(sequence, bars=1)[0]
    assert "TRACK_START INST=32 BAR_START BAR_END TRACK_END" in row
    assert mmm.encode(mmm.decode(row), bars=1) == [row]


def test_chord_in_one_voice_round_trips_and_is_flagged():
    row = mmm.encode(make_sequence({0: [(0, 8, 60), (0, 8, 64)]}, total_steps=16), bars=1)[0]
    assert "NOTE_ON=60 NOTE_ON=64 TIME_DELTA=8 NOTE_OFF=60 NOTE_OFF=64" in row
    assert mmm.encode(mmm.decode(row), bars=1) == [row]
    report = mmm.validate(row, bars=1, tracks=1)
    assert report.counts() == {"chord": 1}
    assert mmm.validate(row, bars=1, tracks=1, monophonic=False).ok


def test_windows_hop_and_whole_piece():
    sequence = make_sequence({0: [(16 * b, 16 * b + 16, 60 + b) for b in range(6)]})
    rows = mmm.encode(sequence, bars=4)
    assert len(rows) == 3 and "NOTE_ON=62" in rows[2].split("BAR_START")[1]
    assert len(mmm.encode(sequence, bars=2, hop=2)) == 3
    assert len(mmm.encode(sequence, bars=None)) == 1
    assert mmm.encode(sequence, bars=8) == []  # shorter than a window


def test_parameters_style_genre_insts_and_order():
    sequence = make_sequence({0: [(0, 16, 72)], 1: [(0, 16, 60)]})
    row = mmm.encode(sequence, bars=1, style="BACH", genre="CHORALE", voice_insts=(52, 53),
                     track_order=[1, 0])[0]
    assert row.startswith("PIECE_START STYLE=BACH GENRE=CHORALE TRACK_START INST=53")
    with pytest.raises(ValueError, match="track_order"):
        mmm.encode(sequence, track_order=[0])


def test_known_answer_from_the_published_data(jsfakes_dir):
    sequence = note_seq.midi_file_to_note_sequence(str(jsfakes_dir / "midi" / "497.mid"))
    row = mmm.encode(sequence, track_order=[0, 3, 1, 2])[0]
    assert row.startswith(PUBLISHED_FIRST_TRACK + " TRACK_START INST=32 BAR_START")


@pytest.mark.parametrize("problem, make", [
    ("time signature 3/4", lambda s: s.time_signatures.add(numerator=3, denominator=4)),
    ("off the 16th grid", lambda s: s.notes.add(pitch=60, instrument=0, start_time=0.01, end_time=0.5)),
    ("tempo changes", lambda s: s.tempos.add(qpm=90, time=1.0)),
    ("drum", lambda s: s.notes.add(pitch=36, instrument=9, is_drum=True, end_time=0.5)),
    ("overlapping notes of pitch 60", lambda s: s.notes.add(pitch=60, instrument=0, start_time=0.25, end_time=1)),
])
def test_encode_refuses_what_the_format_cannot_hold(problem, make):
    sequence = make_sequence({0: [(0, 4, 60)]})
    make(sequence)
    with pytest.raises(ValueError, match=problem):
        mmm.encode(sequence)


def test_encode_uses_note_seq_quantization():
    sequence = make_sequence({0: [(0, 4, 60)]})
    sequence.notes[0].end_time = 0.49  # a little early, as played
    quantized = note_seq.quantize_note_sequence(sequence, steps_per_quarter=4)
    assert "NOTE_ON=60 TIME_DELTA=4 NOTE_OFF=60" in mmm.encode(quantized, bars=1)[0]


def test_decode_writes_the_bpm_into_tempo_and_midi(tmp_path):
    sequence = mmm.decode(VALID, bpm=90)
    assert sequence.tempos[0].qpm == 90
    assert sequence.notes[0].end_time == pytest.approx(16 * 60 / 90 / 4)
    assert sequence.total_time == pytest.approx(4 * 4 * 60 / 90)  # four bars of 4/4 at 90 BPM
    path = tmp_path / "piece.mid"
    note_seq.sequence_proto_to_midi_file(sequence, str(path))
    midi = pretty_midi.PrettyMIDI(str(path))
    assert midi.get_tempo_changes()[1][0] == pytest.approx(90, rel=1e-5)  # whole microseconds per beat
    assert midi.get_end_time() == pytest.approx(4 * 4 * 60 / 90)


def test_decode_inst_sets_program_and_voice_and_order():
    sequence = mmm.decode(piece(track(32, BAR), track(0, BAR)))
    assert [(i.instrument, i.name) for i in sequence.instrument_infos] == [(3, "bass"), (0, "soprano")]
    assert {(n.instrument, n.program) for n in sequence.notes} == {(3, 32), (0, 0)}


def test_decode_stops_at_piece_end():
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        sequence = mmm.decode(VALID + " TRACK_START INST=0 BAR_START NOTE_ON=70", strict=False)
    assert 70 not in {n.pitch for n in sequence.notes}


# Every kind of problem, each from a small broken piece, with where it is.
BROKEN = {
    "unknown_token": (VALID.replace("NOTE_ON=60", "NOTE_ON=6O", 1), 6),
    "structure": (VALID.replace("TRACK_END", "TRACK_END STYLE=JSFAKES", 1), 26),
    "unmatched_note_off": (VALID.replace("NOTE_OFF=60", "NOTE_OFF=61", 1), 8),
    "note_on_sounding": (VALID.replace("NOTE_ON=60", "NOTE_ON=60 NOTE_ON=60", 1), 7),
    "empty_note": (VALID.replace("NOTE_ON=60 TIME_DELTA=16", "NOTE_ON=60 NOTE_OFF=60 NOTE_ON=60 TIME_DELTA=16", 1), 7),
    "open_note": (VALID.replace("NOTE_OFF=60 BAR_END", "BAR_END", 1), 8),
    "bar_too_long": (VALID.replace("TIME_DELTA=16", "TIME_DELTA=16 TIME_DELTA=1", 1), 8),
    "chord": (VALID.replace("NOTE_ON=60", "NOTE_ON=60 NOTE_ON=64", 1).replace("NOTE_OFF=60", "NOTE_OFF=60 NOTE_OFF=64", 1), 7),
    "duplicate_voice": (VALID.replace("INST=48", "INST=0"), 26),
    "wrong_bar_count": (VALID.replace(BAR + " TRACK_END", "TRACK_END", 1), 3),
    "wrong_track_count": (piece(*(track(i, BAR, BAR, BAR, BAR) for i in (0, 48, 24))), 72),
    "missing_piece_end": (VALID[: -len(" PIECE_END")], 95),
    "after_piece_end": (VALID + " PIECE_START", 96),
}


def test_every_problem_kind_has_a_case():
    assert set(BROKEN) == set(mmm.PROBLEM_KINDS)


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_validate_reports_each_problem_at_its_position(kind):
    assert mmm.validate(VALID).ok
    tokens, position = BROKEN[kind]
    report = mmm.validate(tokens)
    assert report.counts()[kind] == 1, str(report)
    assert [p.position for p in report.problems if p.kind == kind] == [position]
    assert not report.ok and kind in str(report)


@pytest.mark.parametrize("kind", sorted(set(BROKEN) - {"chord", "wrong_bar_count", "wrong_track_count"}))
def test_strict_decode_names_the_first_problem(kind):
    tokens, position = BROKEN[kind]
    with pytest.raises(ValueError, match=f"at token {position}"):
        mmm.decode(tokens)


def test_validate_against_a_vocabulary():
    report = mmm.validate(VALID.replace("NOTE_ON=60", "NOTE_ON=20", 1).replace("NOTE_OFF=60", "NOTE_OFF=20", 1),
                          vocab=VALID.split())
    assert report.counts() == {"unknown_token": 2}


def test_lenient_decode_repairs_and_warns():
    broken = VALID.replace("NOTE_OFF=60 BAR_END", "BAR_END", 1).replace("INST=48", "INST=0")
    with pytest.warns(UserWarning, match="repaired 2 problem"):
        sequence = mmm.decode(broken, strict=False)
    assert len(sequence.notes) == 16  # nothing lost: the open note ends with its bar
    assert len({n.instrument for n in sequence.notes}) == 4  # the duplicate got a voice of its own


def test_lenient_decode_never_raises_on_any_list_of_strings():
    vocab = VALID.split() + ["[UNK]", "[PAD]", "NOTE_OFF=99", "TIME_DELTA=7", "INST=5", "", "x=1", "TIME_DELTA=0"]
    rng = random.Random(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(500):
            tokens = [rng.choice(vocab) for _ in range(rng.randint(0, 60))]
            sequence = mmm.decode(tokens, strict=False)
            assert all(n.end_time > n.start_time for n in sequence.notes)
            mmm.validate(tokens)


def test_decode_refuses_a_bad_bpm():
    with pytest.raises(ValueError, match="bpm"):
        mmm.decode(VALID, bpm=0)


def test_shuffle_and_sort_tracks():
    shuffled = mmm.shuffle_tracks(VALID, random.Random(3))
    assert sorted(shuffled.split()) == sorted(VALID.split()) and shuffled != VALID
    assert mmm.sort_tracks(shuffled) == VALID
    with pytest.raises(ValueError, match="unbalanced"):
        mmm.split_tracks("PIECE_START TRACK_START INST=0")


def test_pretty_puts_one_bar_per_line():
    lines = mmm.pretty(VALID).splitlines()
    assert lines[:3] == [HEAD, "TRACK_START INST=0", "    " + BAR]
    assert lines[-2:] == ["    " + BAR + " TRACK_END", "PIECE_END"]
    assert " ".join(lines).split() == VALID.split()
