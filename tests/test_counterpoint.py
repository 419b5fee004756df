"""Voice-leading faults counted once for everyone: the yardstick, and the decoder that avoids them."""

import math

import numpy as np
import pytest

from jsfakes_utils import counterpoint, evaluate, generate, mmm, model, ngram, tokenizer
from test_evaluate import CONTRARY, CROSSING, FIFTHS, OCTAVES, chorale, held
from test_generate import EVERY_WORD
from test_mmm import VALID

HAND_BUILT = [FIFTHS, OCTAVES, CONTRARY, CROSSING, VALID]


def test_a_batch_of_grids_is_counted_like_each_grid_alone():
    grids = [counterpoint.grid(mmm.voice_steps(r), steps=64) for r in HAND_BUILT]
    pitch, onset = np.stack([g[0] for g in grids]), np.stack([g[1] for g in grids])  # (5, 4, 64)
    batch = counterpoint.faults(pitch, onset)
    for k, row in enumerate(HAND_BUILT):
        assert {kind: int(n[k]) for kind, n in batch.items()} == counterpoint.count(row) == evaluate.voice_leading(row)
    # counting only what one voice takes part in: the alto's crossings, not the bass's fifths
    p, o = counterpoint.grid(mmm.voice_steps(CROSSING))
    assert counterpoint.faults(p, o, voice=1)["crossings"] == 2 and counterpoint.faults(p, o, voice=3)["crossings"] == 0
    p, o = counterpoint.grid(mmm.voice_steps(FIFTHS))
    assert counterpoint.faults(p, o, voice=2)["parallel fifths"] == 0 < counterpoint.faults(p, o, voice=3)["parallel fifths"]


def replay(rows, vocab, strength=1.0):
    """Feed each row word by word to a VoiceLeading, asking for the penalty at every step."""
    totals = []
    ids = {w: i for i, w in enumerate(vocab)}
    for row in rows:
        ws = row.split()
        helper = generate.VoiceLeading(vocab, ws[:1], 1, strength)
        for w in ws[1:]:
            helper.penalty()
            helper.advance([ids[w]])
        totals.append(int(helper.added[0]))
    return totals


def test_the_decoder_sees_a_fault_exactly_as_the_yardstick_counts_it(jsfakes_rows):
    rows = HAND_BUILT + [r["text"] for r in jsfakes_rows.test[:80]]
    tok = tokenizer.train_tokenizer(rows)
    seen = replay(rows, tok.convert_ids_to_tokens(list(range(len(tok)))))
    assert seen == [sum(counterpoint.count(r).values()) for r in rows]
    assert sum(seen) > 30  # real rows do have faults to see (53 in these)


def test_it_lowers_exactly_the_notes_that_would_make_a_fault():
    vocab = EVERY_WORD.split()
    soprano = "TRACK_START INST=0 " + " ".join(["BAR_START NOTE_ON=67 TIME_DELTA=16 NOTE_OFF=67 BAR_END"] * 4) + \
        " TRACK_END"
    words = f"PIECE_START STYLE=JSFAKES GENRE=JSFAKES {soprano} TRACK_START INST=48 BAR_START".split()
    helper = generate.VoiceLeading(vocab, words, 1, 2.5)
    cost = dict(zip(vocab, helper.penalty()[0]))
    assert cost["NOTE_ON=68"] == cost["NOTE_ON=70"] == 2.5  # an alto above the soprano: a crossing
    assert cost["NOTE_ON=67"] == cost["NOTE_ON=60"] == 0  # a unison or below is no crossing
    assert cost["TIME_DELTA=4"] == cost["BAR_END"] == 0  # no note sounds: a rest costs nothing
    helper.advance([vocab.index("NOTE_ON=60")])
    assert not helper.penalty().any()  # a held soprano: no length of the alto's note adds a fault
    assert generate.VoiceLeading(vocab, words, 1, 0).penalty().sum() == 0
    with pytest.raises(ValueError, match="strength"):
        generate.VoiceLeading(vocab, words, 1, -1)


@pytest.fixture(scope="module")
def random_model():
    tok = tokenizer.train_tokenizer([EVERY_WORD])
    return model.build_model("quick", tok, seed=3), tok


def faults(rows):
    return sum(sum(counterpoint.count(r).values()) for r in rows)


def test_an_untrained_gpt2_makes_far_fewer_faults_with_help(random_model):
    net, tok = random_model
    plain = generate.sample(net, tok, 6, seed=2)
    assert generate.sample(net, tok, 6, seed=2, voice_leading=0) == plain  # 0 is today's sampler, byte for byte
    helped = generate.sample(net, tok, 6, seed=2, voice_leading=math.inf)
    assert all(mmm.validate(r).ok for r in helped)
    assert faults(plain) > 30 and faults(helped) <= faults(plain) / 4


def test_the_ngram_is_helped_the_same_way():
    rows = [FIFTHS, OCTAVES, CROSSING, CONTRARY, VALID, chorale(held(72), held(64), held(55), held(48))]
    lm = ngram.train_ngram(rows, 2)
    plain = generate.sample(lm, n=8, seed=1)
    helped = generate.sample(lm, n=8, seed=1, voice_leading=math.inf)
    assert all(mmm.validate(r).ok for r in helped) and faults(helped) < faults(plain)


def test_the_models_own_likelihood_of_a_row(random_model):
    from jsfakes_utils import train

    net, tok = random_model
    rows = [FIFTHS, OCTAVES, CROSSING]
    ll = generate.log_likelihoods(net, tok, rows)
    assert ll == pytest.approx(generate.log_likelihoods(net, tok, rows, batch_size=1), abs=1e-5)  # padding-free
    assert [-x for x in ll] == pytest.approx([train.test_loss(net, tok, [r]) for r in rows], abs=1e-4)
    lm = ngram.train_ngram(rows, 2)
    assert generate.log_likelihoods(lm, None, rows) == pytest.approx([-lm.cross_entropy([r]) for r in rows])


def test_note_lengths_are_the_training_splits(jsfakes_rows):
    ref = evaluate.reference([r["text"] for r in jsfakes_rows.train], [r["text"] for r in jsfakes_rows.test[:3]])
    shares = ref.train_music["lengths"] / ref.train_music["lengths"].sum()
    assert generate.NOTE_LENGTHS == pytest.approx(shares, abs=1e-4)


def test_best_of_n_keeps_the_candidate_the_score_prefers(random_model):
    net, tok = random_model
    clean = chorale(held(72), held(64), held(55), held(48))
    assert generate.rerank(net, tok, [[CROSSING, clean], [clean, FIFTHS]], faults=100.0) == [clean, clean]
    candidates = generate.sample(net, tok, 6, seed=4)
    best = generate.sample(net, tok, 2, seed=4, best_of=3)
    assert best == generate.rerank(net, tok, [candidates[:3], candidates[3:]])
    assert best[0] in candidates[:3] and best[1] in candidates[3:]
    with pytest.raises(ValueError, match="best_of"):
        generate.sample(net, tok, 2, best_of=0)


def test_free_rows_with_voice_leading_sample_without_crashing(random_model):
    """A free row may end a track without BAR_END or name an unknown INST mid-track: not followed, no crash."""
    net, tok = random_model
    for seed in range(3):
        rows = generate.sample(net, tok, 2, seed=seed, constrained=False, temperature=2.0, voice_leading=6.0,
                               max_new_tokens=300)
        assert len(rows) == 2
