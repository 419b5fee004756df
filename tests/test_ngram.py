"""The n-gram model: hand-computed Kneser-Ney answers, normalisation, sampling, saving."""

import math

import numpy as np
import pytest

from jsfakes_utils import mmm, ngram
from conftest import make_sequence

# A corpus small enough to do by hand. With discount 0.5 and order 2 (rows padded with one <s>):
#   bigram counts: (<s> a) 2, (a b) 2, (b a) 1, (a a) 1
#   unigram continuation counts (distinct words before): a 3 {<s>, b, a}, b 1 {a}; total 4
#   P1(a) = (3 - .5)/4 + gamma * 1/3 with gamma = .5 * 2/4,  P1(b) = (1 - .5)/4 + .25/3
#   P(b | a) = (2 - .5)/3 + (.5 * 2/3) * P1(b)    P(b | b) = 0 + (.5 * 1/1) * P1(b)
TOY = ["a b a", "a a b"]
P1_A, P1_B, P1_UNK = 2.5 / 4 + 0.25 / 3, 0.5 / 4 + 0.25 / 3, 0.25 / 3
P_B_AFTER_A = 1.5 / 3 + (1 / 3) * P1_B
P_B_AFTER_B = 0.5 * P1_B


@pytest.fixture(scope="module")
def toy():
    return ngram.train_ngram(TOY, order=2, discount=0.5)


def test_counts_by_hand(toy):
    assert toy.vocab == ["[UNK]", "a", "b"]
    assert toy.count(["<s>", "a"]) == 2 and toy.count(["a", "b"]) == 2 and toy.count(["a", "a"]) == 1
    assert toy.count(["b", "b"]) == 0
    assert toy.count(["a"]) == 3 and toy.count(["b"]) == 1  # continuation counts at the lower order


def test_probabilities_by_hand(toy):
    assert toy.probability("b", ["a"]) == pytest.approx(P_B_AFTER_A)
    assert toy.probability("b", ["b"]) == pytest.approx(P_B_AFTER_B)
    assert toy.probability("a", ["<s>"]) == pytest.approx(1.5 / 2 + 0.25 * P1_A)
    assert toy.probability("a", ["x"]) == pytest.approx(P1_A)  # unseen history: the unigram estimate
    assert toy.probability("zzz", ["a"]) == pytest.approx((1 / 3) * P1_UNK)  # unknown word -> [UNK]
    assert toy.probability("b", ["b", "a"]) == toy.probability("b", ["a"])  # only n-1 words count


def test_trigram_by_hand():
    model = ngram.train_ngram(TOY, order=3, discount=0.5)
    # trigrams after (<s>, a): b once, a once -> gamma = .5 * 2/2; the bigram level uses continuation
    # counts, which here equal the bigram counts above after `a`: (a b) 2 {<s>, a}, (a a) 1 {<s>}
    assert model.count(["a", "b"]) == 2 and model.count(["<s>", "a"]) == 1
    assert model.probability("b", ["a"]) == pytest.approx(0.5 / 2 + 0.5 * P_B_AFTER_A)


def test_cross_entropy_by_hand(toy):
    # the first word of a row is never predicted, as in a causal LM's shifted labels
    assert toy.cross_entropy(["a b b"]) == pytest.approx(-(math.log(P_B_AFTER_A) + math.log(P_B_AFTER_B)) / 2)
    # averaged over all tokens together, not per row
    expected = -(math.log(P_B_AFTER_A) * 2 + math.log(P_B_AFTER_B)) / 3
    assert toy.cross_entropy(["a b", "a b b"]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="fewer than two words"):
        toy.cross_entropy(["a"])


def rows():
    """A few real MMM rows: two 4-voice pieces, encoded in 4-bar windows."""
    out = []
    for shift in (0, 2):
        voices = {v: [(s, s + 4, 72 - 7 * v + shift + (s // 4) % 3) for s in range(0, 96, 4)]
                  for v in range(4)}
        out += mmm.encode(make_sequence(voices))
    return out


@pytest.mark.parametrize("order", range(1, ngram.MAX_ORDER + 1))
def test_distributions_sum_to_one(order):
    model = ngram.train_ngram(rows(), order=order)
    ws = rows()[0].split()
    for cut in (0, 1, 5, 40, len(ws)):
        probs = model.distribution(ws[:cut])
        assert probs.shape == (len(model.vocab),) and (probs > 0).all()
        assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(model.distribution(["NOTE_ON=1", "NOVEL"]).sum(), 1.0)  # unseen history


def test_unseen_test_tokens_have_finite_cross_entropy():
    model = ngram.train_ngram(rows(), order=5)
    unseen = rows()[0].replace("NOTE_ON=72", "NOTE_ON=20").replace("NOTE_OFF=72", "NOTE_OFF=20") + " BOGUS"
    ce = model.cross_entropy([unseen])
    assert math.isfinite(ce) and ce > model.cross_entropy([rows()[0]])
    logp = np.concatenate([model.token_log_probs(r) for r in rows()])
    assert model.cross_entropy(rows()) == pytest.approx(-logp.mean())


def test_higher_orders_fit_the_training_rows_better():
    ces = [ngram.train_ngram(rows(), order=n).cross_entropy(rows()) for n in (1, 2, 4)]
    assert ces[0] > ces[1] > ces[2]
    curve = ngram.cross_entropy_curve(rows(), rows()[:1], orders=[1, 2])
    assert list(curve) == [1, 2] and curve[1][0] == pytest.approx(ces[0])


def test_sampling_is_seeded_and_stops_at_piece_end():
    model = ngram.train_ngram(rows(), order=6)
    a, b = model.sample(5, seed=3), model.sample(5, seed=3)
    assert a == b and len(a) == 5
    assert model.sample(5, seed=4) != a
    assert all(s.startswith("PIECE_START") for s in a)
    finished = [s for s in a if "PIECE_END" in s]
    assert all(s.split()[-1] == "PIECE_END" and s.count("PIECE_END") == 1 for s in finished)
    assert all(len(s.split()) <= 30 for s in model.sample(4, seed=0, max_tokens=30))


def test_greedy_is_always_the_same_and_top_k_1_is_greedy():
    model = ngram.train_ngram(rows(), order=3)
    greedy = model.sample(4, temperature=0, seed=1, max_tokens=60)
    assert len(set(greedy)) == 1
    assert model.sample(4, top_k=1, seed=9, max_tokens=60) == greedy
    assert model.sample(4, top_p=1e-9, seed=9, max_tokens=60) == greedy  # a tiny top-p keeps only the likeliest
    wide, cut = (model.sample(64, top_p=p, seed=2, max_tokens=12) for p in (1.0, 0.5))
    assert len({r.split()[-1] for r in cut}) < len({r.split()[-1] for r in wide})  # top-p drops the unlikely
    prompt = "PIECE_START STYLE=JSFAKES GENRE=JSFAKES TRACK_START INST=32"
    assert model.sample(1, prompt=prompt, max_tokens=40)[0].startswith(prompt)
    with pytest.raises(ValueError, match="temperature"):
        model.sample(1, temperature=-1)
    with pytest.raises(ValueError, match="top_k"):
        model.sample(1, top_k=0)


def test_save_and_load_round_trip(tmp_path):
    model = ngram.train_ngram(rows(), order=4)
    path = model.save(tmp_path / "m.npz")
    loaded = ngram.load_ngram(path)
    assert loaded.order == 4 and loaded.vocab == model.vocab
    assert loaded.cross_entropy(rows()) == model.cross_entropy(rows())
    assert loaded.sample(2, seed=1) == model.sample(2, seed=1)
    with np.load(path, allow_pickle=False) as f:  # plain arrays only: loads without pickle
        assert "header" in f.files


def test_bad_files_and_arguments_are_refused(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a saved n-gram model"):
        ngram.load_ngram(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(ValueError, match="not a saved n-gram model"):
        ngram.load_ngram(tmp_path / "other.npz")
    with pytest.raises(ValueError, match="order"):
        ngram.train_ngram(TOY, order=9)
    with pytest.raises(ValueError, match="order"):
        ngram.train_ngram(TOY, order=0)
    with pytest.raises(ValueError, match="no training words"):
        ngram.train_ngram([""], order=2)
    with pytest.raises(ValueError, match="discount"):
        ngram.train_ngram(TOY, order=2, discount=1.5)


def test_extra_vocabulary_gets_probability():
    model = ngram.train_ngram(TOY, order=2, discount=0.5, vocab=["c"])
    assert "c" in model.vocab and model.probability("c", ["a"]) > 0
    assert model.distribution(["a"]).sum() == pytest.approx(1.0)
