"""The yardstick: validity counts, novelty, diversity, voice leading on hand-built chorales."""

import random

import numpy as np
import pytest

from conftest import make_sequence
from jsfakes_utils import counterpoint, evaluate, mmm
from test_mmm import BROKEN, VALID

WHOLE = 64  # steps in four bars


def chorale(s, a, t, b, order=(0, 1, 2, 3)):
    """One 4-bar row from each voice's notes [(start, end, pitch)], tracks in `order`."""
    return mmm.encode(make_sequence({0: s, 1: a, 2: t, 3: b}, total_steps=WHOLE), track_order=order)[0]


def held(pitch):
    return [(0, WHOLE, pitch)]


# Soprano and bass rise together from a fifth (compound: 67 over 48) to a fifth: one parallel fifth.
FIFTHS = chorale([(0, 8, 67), (8, WHOLE, 69)], held(64), held(60), [(0, 8, 48), (8, WHOLE, 50)])
# Soprano and bass rise from two octaves to two octaves: one parallel octave.
OCTAVES = chorale([(0, 8, 72), (8, WHOLE, 74)], held(64), held(55), [(0, 8, 48), (8, WHOLE, 50)])
# Octaves to octaves in contrary motion (a double to a triple octave): consecutive octaves too.
CONTRARY = chorale([(0, 8, 72), (8, WHOLE, 74)], held(64), held(55), [(0, 8, 48), (8, WHOLE, 38)])
# The alto climbs above the held soprano once, comes back, and climbs above it again: two crossings.
CROSSING = chorale(held(67), [(0, 8, 64), (8, 16, 69), (16, 24, 64), (24, 32, 70), (32, WHOLE, 64)],
                   held(55), held(48))


def only(**counts):
    """Every kind of fault at 0 but those given."""
    return {kind: counts.get(kind.replace(" ", "_"), 0) for kind in counterpoint.KINDS}


# Soprano leaps up a third while the bass climbs a fourth, from a sixth into a fifth: a hidden fifth.
HIDDEN = chorale([(0, 8, 64), (8, WHOLE, 67)], held(60), held(52), [(0, 8, 43), (8, WHOLE, 48)])
# The same into an octave with the soprano moving by a step: not counted.
BY_STEP = chorale([(0, 8, 70), (8, WHOLE, 72)], held(64), held(55), [(0, 8, 43), (8, WHOLE, 48)])


def test_parallels_and_crossings_by_hand():
    assert evaluate.voice_leading(FIFTHS) == only(parallel_fifths=1)
    assert evaluate.voice_leading(OCTAVES) == only(parallel_octaves=1)
    assert evaluate.voice_leading(CONTRARY) == only(parallel_octaves=1)
    # the alto climbs above the soprano twice, and twice opens more than an octave above the tenor
    assert evaluate.voice_leading(CROSSING) == only(crossings=2, spacing=2)
    assert evaluate.voice_leading(HIDDEN) == only(hidden_fifths=1)
    assert evaluate.voice_leading(BY_STEP) == only()


def test_silent_bars_and_notes_outside_the_key():
    quiet_tenor = [(0, 16, 55), (32, WHOLE, 55)]  # rests through bar 2
    row = chorale(held(72), held(64), quiet_tenor, [(0, 16, 48), (16, 32, 49), (32, WHOLE, 48)])  # one C sharp
    column = evaluate.evaluate([row], evaluate.reference([VALID], [VALID]))["samples"]
    assert column["silent bars (%)"] == pytest.approx(100 / 16)  # 1 of 4 voices x 4 bars
    # no major scale holds both C and C sharp: 1 of the 15 notes (a held note is one per bar in the format)
    assert column["outside the key (%)"] == pytest.approx(100 / 15)


def test_voice_leading_ignores_track_order():
    shuffled = chorale([(0, 8, 67), (8, WHOLE, 69)], held(64), held(60), [(0, 8, 48), (8, WHOLE, 50)],
                       order=(3, 1, 0, 2))
    assert shuffled != FIFTHS and evaluate.voice_leading(shuffled) == evaluate.voice_leading(FIFTHS)


@pytest.fixture(scope="module")
def ref():
    train = [FIFTHS, OCTAVES, chorale(held(72), held(67), held(60), held(48))]
    return evaluate.reference(train, [CONTRARY, CROSSING])


def test_the_table_per_100_beats(ref):
    table = evaluate.evaluate({"fifths": [FIFTHS], "crossing": [CROSSING]}, ref)
    assert list(table.columns) == ["fifths", "crossing", "test split"]
    assert list(table.index[:len(evaluate.METRICS)]) == list(evaluate.METRICS)
    assert table.loc["parallel fifths / 100 beats", "fifths"] == pytest.approx(100 / 16)  # 4 bars = 16 beats
    assert table.loc["crossings / 100 beats", "crossing"] == pytest.approx(200 / 16)
    assert table.loc["crossings / 100 beats", "test split"] == pytest.approx(200 / 32)


def test_every_validity_error_is_counted(ref):
    broken = {kind: tokens for kind, (tokens, _) in BROKEN.items()}
    samples = [VALID, VALID] + list(broken.values())
    share, kinds = evaluate.validity(samples)
    assert share == pytest.approx(2 / len(samples))
    for kind in mmm.PROBLEM_KINDS:  # each broken sample shows its kind (and maybe consequences)
        assert kinds[kind] >= 1, kind
    assert sum(kinds[k] for k in kinds) >= len(broken)
    table = evaluate.evaluate(samples, ref)
    assert table.loc["valid (%)", "samples"] == pytest.approx(100 * 2 / len(samples))
    for kind in mmm.PROBLEM_KINDS:
        assert table.loc[f"invalid: {kind}", "samples"] == kinds[kind]
        assert table.loc[f"invalid: {kind}", "test split"] == 0


def test_novelty_finds_a_copied_row_in_any_track_order_and_a_copied_voice(ref):
    copied = mmm.shuffle_tracks(FIFTHS, random.Random(1))
    assert copied != FIFTHS
    one_voice = chorale([(0, 8, 67), (8, WHOLE, 69)], held(65), held(59), held(43))  # soprano of FIFTHS
    new = chorale(held(79), held(65), held(59), held(43))
    verdicts = evaluate.novelty([copied, one_voice, new], ref)
    assert list(verdicts["verdict"]) == ["copied", "partly copied", "new"]
    assert list(verdicts["bars seen in training"]) == [1.0, 0.25, 0.0]
    table = evaluate.evaluate([copied, one_voice, new], ref)
    assert table.loc["copied (%)", "samples"] == pytest.approx(100 / 3)
    assert table.loc["bars seen in training (%)", "samples"] == pytest.approx(100 * 1.25 / 3)


def test_a_copied_bar_counts_but_does_not_make_a_copy(ref):
    # bar 1 of the soprano of FIFTHS (67 then 69), then new bars: one bar of 16 seen in training
    bar_copied = chorale([(0, 8, 67), (8, 16, 69), (16, WHOLE, 81)], held(65), held(59), held(43))
    verdicts = evaluate.novelty([bar_copied], ref)
    assert verdicts["verdict"][0] == "new"
    assert verdicts["bars seen in training"][0] == pytest.approx(1 / 16)


def test_diversity():
    a, b = FIFTHS, CROSSING
    assert evaluate.diversity([a, a, a]) == (pytest.approx(1 / 3), 0.0)
    distinct, distance = evaluate.diversity([a, b])
    assert distinct == 1.0 and 0 < distance < 1
    # the same piece in another track order is the same piece
    assert evaluate.diversity([a, mmm.shuffle_tracks(a, random.Random(2))]) == (0.5, 0.0)
    assert np.isnan(evaluate.diversity([a])[1])


def test_music_statistics_compare_with_the_test_split(ref):
    table = evaluate.evaluate([CONTRARY, CROSSING], ref)
    # the samples are the test split, so their histograms are the test split's
    assert table.loc["pitch-class distance", "samples"] == pytest.approx(0)
    assert table.loc["note-length distance", "samples"] == pytest.approx(0)
    assert table.loc["pitch-class distance", "test split"] > 0  # the training split's distance
    # training ranges: bass 48-50, alto 64-67. Out of range: the bass of CONTRARY at 38 (struck
    # again in each of its 4 bars: 4 notes) and the alto of CROSSING at 69 and 70 (2 notes).
    notes = sum(len(v) for row in (CONTRARY, CROSSING) for v in mmm.voice_steps(row).values())
    assert notes == 36
    assert table.loc["out of range (%)", "samples"] == pytest.approx(100 * 6 / notes)
    for low in ("pitch-class distance", "note-length distance"):
        far = evaluate.evaluate([chorale(held(61), held(61), held(61), [(0, 1, 61)])], ref)
        assert far.loc[low, "samples"] > table.loc[low, "samples"]


def test_empty_input_is_refused(ref):
    with pytest.raises(ValueError, match="no samples"):
        evaluate.evaluate([], ref)


def test_empty_and_garbled_samples_are_scored_not_crashed_on(ref):
    table = evaluate.evaluate(["", "NOTE_ON=60 hello", VALID], ref)
    assert table.loc["samples", "samples"] == 3
    assert table.loc["valid (%)", "samples"] == pytest.approx(100 / 3)
    assert table.loc["invalid: unknown_token", "samples"] == 1
    assert table.loc["invalid: missing_piece_end", "samples"] == 2
