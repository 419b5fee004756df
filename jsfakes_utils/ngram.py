"""A count-based n-gram language model over MMM words, smoothed with interpolated Kneser-Ney.

Introduced in notebook 03, as the baseline every neural model must beat. Any order from 1 to 8.

How it works, in three sentences. Every row is padded on the left with n-1 `<s>` marks, and the
n-grams ending at each real word are counted. The highest order uses raw counts; each lower order
uses *continuation counts* (how many different words precede an n-gram), which is what makes
Kneser-Ney better than plain back-off. A word's probability after a history mixes, order by order,
the discounted count with the next-shorter history's probability, down to a uniform floor over the
vocabulary, so every word — even one never seen after that history — has a finite probability.

Discounts are the "modified" Kneser-Ney ones of Chen & Goodman (1998): D1, D2 and D3+ per order,
estimated from the counts of counts; `discount=0.75` gives classic interpolated Kneser-Ney with one
discount. Words outside the training vocabulary are scored as `[UNK]`, as the tokenizer does.

The n-grams are kept as integers (word ids in base |V|+1), sorted, so fitting is a few numpy
`unique` calls and scoring is `searchsorted`: both vectorised over many histories at once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from . import config, mmm, sampling

MAX_ORDER = 8
UNK = "[UNK]"  # the word an unknown word is scored as (the tokenizer's unknown token)
BOS = "<s>"  # the padding before a row's first word; a history mark, never predicted
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # D1, D2, D3+ when a corpus is too small to estimate them
FORMAT = "jsfakes-ngram/1"  # written into saved files, checked on load


class NGram:
    """An interpolated Kneser-Ney n-gram model; build one with `train_ngram`."""

    def __init__(self, order: int, vocab: Sequence[str], keys: list[np.ndarray],
                 counts: list[np.ndarray], discounts: np.ndarray):
        self.order = order  # n: a word is predicted from the n-1 words before it
        self.vocab = list(vocab)  # predictable words; vocab[0] is [UNK]; id = index + 1 (0 is <s>)
        self.ids = {w: i + 1 for i, w in enumerate(self.vocab)}
        self.base = len(self.vocab) + 1  # n-gram keys are numbers in this base, one digit per word
        self.keys = keys  # keys[k-1]: sorted k-gram keys
        self.counts = counts  # counts[k-1]: raw counts (k = n) or continuation counts (k < n)
        self.discounts = discounts  # (n, 4): discounts[k-1, c] for a count c (0, 1, 2, 3+)
        self._contexts = [_context_table(keys_k, counts_k, discounts_k, self.base)
                          for keys_k, counts_k, discounts_k in zip(keys, counts, discounts)]  # per order

    def __repr__(self) -> str:
        sizes = ", ".join(f"{len(k):,}" for k in self.keys)
        return f"NGram(order={self.order}, vocab={len(self.vocab)}, n-grams per order: {sizes})"

    # -- ids -------------------------------------------------------------------------------------

    def encode(self, ws: Iterable[str]) -> np.ndarray:
        """Word ids: unknown words as [UNK], `<s>` as the padding mark 0."""
        unk = self.ids[UNK]
        return np.array([0 if w == BOS else self.ids.get(w, unk) for w in ws], dtype=np.int64)

    def _histories(self, ids: np.ndarray) -> np.ndarray:
        """(L, n-1): the n-1 ids before each position of one padded-on-the-left row."""
        padded = np.concatenate([np.zeros(self.order - 1, np.int64), ids])
        return np.stack([padded[j:j + len(ids)] for j in range(self.order - 1)], axis=1) \
            if self.order > 1 else np.zeros((len(ids), 0), np.int64)

    def _history(self, history: Sequence[str]) -> np.ndarray:
        """(n-1,): the last n-1 ids of a history, `<s>`-padded."""
        ids = self.encode(history)[-(self.order - 1):] if self.order > 1 else np.zeros(0, np.int64)
        return np.concatenate([np.zeros(self.order - 1 - len(ids), np.int64), ids])

    # -- probabilities ---------------------------------------------------------------------------

    def _prob(self, histories: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """P(target | history) for each row of `histories` (B, n-1) and `targets` (B,)."""
        p = np.full(len(targets), 1.0 / len(self.vocab))  # order 0: uniform over the vocabulary
        for k in range(1, self.order + 1):
            context = np.zeros(len(targets), np.int64)  # the last k-1 ids as one number
            for j in range(self.order - k, self.order - 1):
                context = context * self.base + histories[:, j]
            ctx_keys, totals, gammas = self._contexts[k - 1]
            at, seen = _find(ctx_keys, context)
            count = _lookup(self.keys[k - 1], self.counts[k - 1], context * self.base + targets)
            discount = self.discounts[k - 1][np.minimum(count, 3)]
            mixed = np.maximum(count - discount, 0) / totals[at] + gammas[at] * p
            p = np.where(seen, mixed, p)  # an unseen history leaves the shorter one's estimate
        return p

    def probability(self, word: str, history: Sequence[str] = ()) -> float:
        """P(word | history): history is the words before it (only the last n-1 count)."""
        return float(self._prob(self._history(history)[None], self.encode([word]))[0])

    def distribution(self, history: Sequence[str] | np.ndarray = ()) -> np.ndarray:
        """P(w | history) for every word of `vocab`, as an array that sums to 1.

        `history` is a list of words, or an (B, n-1) array of id histories (then (B, |V|))."""
        h = self._history(history)[None] if not isinstance(history, np.ndarray) else history
        v = len(self.vocab)
        probs = self._prob(np.repeat(h, v, axis=0), np.tile(np.arange(1, v + 1), len(h)))
        probs = probs.reshape(len(h), v)
        return probs[0] if not isinstance(history, np.ndarray) else probs

    def count(self, ngram: Sequence[str]) -> int:
        """How often the words `ngram` were counted at their order (raw counts only at order n)."""
        key = 0
        for i in self.encode(ngram):  # `<s>` stands for the padding before a row
            key = key * self.base + int(i)
        k = len(ngram)
        return int(_lookup(self.keys[k - 1], self.counts[k - 1], np.array([key]))[0])

    def _log_probs(self, rows: Iterable[mmm.Tokens]) -> np.ndarray:
        """ln P of every word after each row's first, given the words before it; all rows at once."""
        all_ids = [self.encode(mmm.words(r)) for r in rows]
        histories = np.concatenate([self._histories(ids)[1:] for ids in all_ids])
        targets = np.concatenate([ids[1:] for ids in all_ids])
        return np.log(self._prob(histories, targets))

    def token_log_probs(self, row: mmm.Tokens) -> np.ndarray:
        """ln P of every word of a row after the first, given the words before it."""
        return self._log_probs([row])

    def cross_entropy(self, rows: Iterable[mmm.Tokens]) -> float:
        """Test cross-entropy in nats per token, defined like a causal LM's eval loss.

        The mean of -ln P(word | the words before it) over every word of every row except each
        row's first (a language model's labels are shifted by one, so its first word is never
        predicted), averaged over all those words together.
        """
        log_probs = self._log_probs(rows)
        if not len(log_probs):
            raise ValueError("no tokens to score: every row has fewer than two words")
        return float(-log_probs.mean())

    # -- sampling --------------------------------------------------------------------------------

    def sample(self, n: int = 1, prompt: mmm.Tokens = ("PIECE_START",), temperature: float = 1.0,
               top_k: int | None = None, seed: int = 0, max_tokens: int = 512, top_p: float | None = None,
               guide=None, voice_leading=None) -> list[str]:
        """`n` rows sampled word by word after `prompt`, each ending at PIECE_END or `max_tokens`.

        temperature: 0 picks the most likely word every time (greedy, the same row every time);
            <1 calmer, >1 wilder. top_k / top_p: sample only among the k most likely words / the
            smallest set of words holding p of the probability.
        guide: constrained decoding (a `generate.Guide` over `vocab`): its `mask()` says which
            words may come next in each row, and `advance(chosen)` hears what was chosen.
        voice_leading: a `generate.VoiceLeading` over `vocab`: its `penalty()` (nats) lowers the
            probability of notes that would add voice-leading faults, by a factor of e per nat.
        """
        if temperature < 0 or not math.isfinite(temperature):
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        prefix = mmm.words(prompt)
        history = np.tile(np.concatenate([np.zeros(self.order - 1, np.int64), self.encode(prefix)]), (n, 1))

        def next_probs(chosen, active):
            nonlocal history
            if chosen is not None:
                history = np.concatenate([history, chosen[:, None] + 1], axis=1)  # ids start at 1
            probs = self.distribution(history[active, history.shape[1] - (self.order - 1):])  # (active, V)
            probs[:, 0] = 0.0  # never sample [UNK]: it carries only the floor's probability
            return probs

        picked = sampling.run(next_probs, n, max_tokens - len(prefix), self.ids.get("PIECE_END", 0) - 1,
                              temperature, top_k, top_p, seed, guide, voice_leading)
        return [" ".join(prefix + [self.vocab[j] for j in ids]) for ids in picked]

    # -- saving ----------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Save to a compressed .npz of plain arrays and a JSON header (no pickle)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = json.dumps({"format": FORMAT, "order": self.order, "vocab": self.vocab})
        arrays = {f"keys{k}": a for k, a in enumerate(self.keys, 1)}
        arrays |= {f"counts{k}": a for k, a in enumerate(self.counts, 1)}
        with open(path, "wb") as f:
            np.savez_compressed(f, header=np.array(header), discounts=self.discounts, **arrays)
        return path


def load_ngram(path: str | Path) -> NGram:
    """A model saved with `NGram.save`; a file that is not one gives a clear ValueError."""
    try:
        with np.load(path, allow_pickle=False) as f:
            header = json.loads(str(f["header"]))
            if header.get("format") != FORMAT:
                raise ValueError(f"format {header.get('format')!r}, expected {FORMAT!r}")
            order = int(header["order"])
            keys = [f[f"keys{k}"].astype(np.int64) for k in range(1, order + 1)]
            counts = [f[f"counts{k}"].astype(np.int64) for k in range(1, order + 1)]
            discounts = f["discounts"].astype(np.float64)
    except (OSError, KeyError, ValueError, json.JSONDecodeError, EOFError) as error:
        raise ValueError(f"{path} is not a saved n-gram model: {error}") from None
    if discounts.shape != (order, 4) or any(len(k) != len(c) for k, c in zip(keys, counts)) \
            or header["vocab"][:1] != [UNK]:
        raise ValueError(f"{path} is not a saved n-gram model: inconsistent contents")
    return NGram(order, header["vocab"], keys, counts, discounts)


def train_ngram(rows: Iterable[mmm.Tokens], order: int = 4, discount: float | None = None,
                vocab: Iterable[str] | None = None) -> NGram:
    """Fit an interpolated Kneser-Ney n-gram model of `order` on token rows.

    discount: None estimates modified Kneser-Ney discounts (D1, D2, D3+) per order; a number uses
        that one discount everywhere (classic interpolated Kneser-Ney, handy for hand calculations).
    vocab: extra words to give probability to (e.g. a tokenizer's words); the training words are
        always in it, and so is [UNK].
    """
    if not 1 <= order <= MAX_ORDER:
        raise ValueError(f"order must be 1..{MAX_ORDER}, got {order}")
    if discount is not None and not 0 < discount < 1:
        raise ValueError(f"discount must be in (0, 1), got {discount}")
    rows = [mmm.words(r) for r in rows]
    if not any(rows):
        raise ValueError("no training words")
    known = {w for ws in rows for w in ws} | set(vocab or ())
    words = [UNK] + sorted(known - {UNK, BOS})
    base = len(words) + 1
    if base ** order >= 2 ** 63:
        raise ValueError(f"{len(words)} words are too many for order {order} "
                         f"(n-gram keys must fit in 64 bits)")
    ids = {w: i + 1 for i, w in enumerate(words)}

    # All rows in one array, each after n-1 <s> (id 0); `real` marks the positions of words.
    pieces, real = [], []
    for ws in rows:
        pieces += [np.zeros(order - 1, np.int64), np.array([ids[w] for w in ws], np.int64)]
        real += [np.zeros(order - 1, bool), np.ones(len(ws), bool)]
    x, real = np.concatenate(pieces), np.concatenate(real)

    # keys of the n-grams ending at each position, from k = 1 up to n
    ending = x.copy()
    for k in range(2, order + 1):
        ending = np.concatenate([np.zeros(1, np.int64), ending[:-1]]) * base + x
    keys, counts = [None] * order, [None] * order
    keys[-1], counts[-1] = np.unique(ending[real], return_counts=True)
    # continuation counts: how many different words precede each (k)-gram among the (k+1)-grams
    for k in range(order - 1, 0, -1):
        keys[k - 1], counts[k - 1] = np.unique(keys[k] % base ** k, return_counts=True)
    discounts = np.array([_discounts(c, discount) for c in counts])
    return NGram(order, words, keys, counts, discounts)


def cross_entropy_curve(train: Sequence[mmm.Tokens], test: Sequence[mmm.Tokens],
                        orders: Iterable[int] = range(1, MAX_ORDER + 1)) -> dict[int, tuple[float, float]]:
    """{order: (train cross-entropy, test cross-entropy)} in nats per token, one fit per order."""
    curve = {}
    for n in config.progress(list(orders), "n-gram orders"):
        model = train_ngram(train, n)
        curve[n] = (model.cross_entropy(train), model.cross_entropy(test))
    return curve


def _discounts(counts: np.ndarray, fixed: float | None) -> list[float]:
    """[0, D1, D2, D3+] for one order, from its counts of counts (Chen & Goodman 1998)."""
    if fixed is not None:
        return [0.0, fixed, fixed, fixed]
    n1, n2, n3, n4 = (int((counts == c).sum()) for c in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) == 0:  # e.g. the unigrams of a 100-word vocabulary, or a toy corpus
        return [0.0, *FALLBACK_DISCOUNTS]
    y = n1 / (n1 + 2 * n2)
    found = [1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3]
    # A discount must lie in (0, c] for the probabilities to stay non-negative and sum to 1.
    return [0.0] + [d if 0 < d <= c else f for c, (d, f) in enumerate(zip(found, FALLBACK_DISCOUNTS), 1)]


def _context_table(keys: np.ndarray, counts: np.ndarray, discounts: np.ndarray, base: int):
    """For every history seen at one order: (sorted history keys, total count, weight gamma).

    gamma(h) = (D1 N1(h) + D2 N2(h) + D3+ N3+(h)) / c(h): the probability mass the discounts
    take from the words seen after h, handed down to the shorter history.
    """
    contexts, starts = np.unique(keys // base, return_index=True)
    totals = np.add.reduceat(counts, starts)
    taken = np.add.reduceat(discounts[np.minimum(counts, 3)], starts)
    return contexts, totals, taken / totals


def _find(keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index, found) of each query in the sorted `keys` (index is valid only where found)."""
    at = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return at, keys[at] == queries


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """values[i] where keys[i] == query, else 0 (keys sorted)."""
    at, found = _find(keys, queries)
    return np.where(found, values[at], 0)
