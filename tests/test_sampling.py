"""The one sampling loop: temperature, top-k and top-p cut as they promise, helpers hear every choice."""

import numpy as np

from jsfakes_utils import sampling

PROBS = np.array([[0.5, 0.3, 0.15, 0.05]])


def draws(**options) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.concatenate([sampling.choose(PROBS, rng=rng, **options) for _ in range(2000)])


def test_top_p_keeps_the_fewest_words_holding_p():
    counts = np.bincount(draws(temperature=1.0, top_k=None, top_p=0.7), minlength=4)
    assert counts[2:].sum() == 0 and counts[0] > counts[1] > 0  # 0.5 + 0.3 >= 0.7: the first two only
    assert set(draws(temperature=1.0, top_k=None, top_p=0.5)) == {0}  # the first alone holds 0.5
    assert set(draws(temperature=1.0, top_k=None, top_p=1.0)) == {0, 1, 2, 3}


def test_top_k_temperature_and_greedy():
    assert set(draws(temperature=1.0, top_k=2)) == {0, 1}
    assert set(draws(temperature=0, top_k=None)) == {0}
    hot, cold = (np.bincount(draws(temperature=t, top_k=None), minlength=4) / 2000 for t in (2.0, 0.5))
    assert cold[0] > PROBS[0, 0] + 0.1 and hot[0] < PROBS[0, 0] - 0.1  # <1 calmer, >1 wilder
    assert abs(np.bincount(draws(temperature=1.0, top_k=None), minlength=4)[3] / 2000 - 0.05) < 0.02


class Recorder:
    """A helper that allows only word 1 or the end (3) after the first two steps, and hears every choice."""

    def __init__(self, n):
        self.heard, self.n = [], n

    def mask(self):
        allowed = np.ones((self.n, 4), bool)
        if len(self.heard) >= 2:
            allowed[:, [0, 2]] = False
        return allowed

    def advance(self, chosen):
        self.heard.append(list(chosen))


def test_the_loop_stops_rows_at_the_end_word_and_feeds_the_model_what_it_chose():
    fed = []

    def next_probs(chosen, active):
        fed.append((None if chosen is None else list(chosen), list(active)))
        return np.tile([0.4, 0.3, 0.2, 0.1], (len(active), 1))

    guide = Recorder(3)
    rows = sampling.run(next_probs, n=3, steps=50, end=3, seed=1, guide=guide)
    assert all(r[-1] == 3 and 3 not in r[:-1] for r in rows)  # every row ends at its first end word
    assert all(set(r[2:-1]) <= {1} for r in rows)  # the guide's mask held from step 3 on
    assert fed[0] == (None, [0, 1, 2]) and len(fed) == len(guide.heard) == max(len(r) for r in rows)
    for (chosen, active), heard in zip(fed[1:], guide.heard):  # the model hears last step's choice
        assert chosen == heard and active == [i for i in range(3) if heard[i] not in (-1, 3)]
    assert rows == sampling.run(next_probs, n=3, steps=50, end=3, seed=1, guide=Recorder(3))  # seeded
    assert all(len(r) == 4 for r in sampling.run(next_probs, n=3, steps=4, end=-5, seed=1))  # no end: the limit
