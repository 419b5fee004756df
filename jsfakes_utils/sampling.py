"""Writing a row word by word: the one sampling loop every model uses (the n-gram and the GPT-2).

Introduced in notebook 03 (the n-gram samples with it); notebook 04 puts a GPT-2 behind it.

A model only has to say, for each row of a batch, how likely each word is next (`next_probs`). The
loop does the rest, the same way for every model: it keeps to the words a `Guide` allows
(constrained decoding), lowers the notes a `VoiceLeading` helper scores as faults, then picks one
word per row with temperature, top-k and top-p, and tells the model and the helpers what it chose.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import config


def run(next_probs: Callable[[np.ndarray | None, np.ndarray], np.ndarray], n: int, steps: int, end: int,
        temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None, seed: int = 0,
        guide=None, voice_leading=None) -> list[list[int]]:
    """The word ids each of `n` rows gets after its prompt: at most `steps`, ending with `end`.

    next_probs(chosen, active): the (len(active), V) probabilities of the next word for the rows
        `active` (indices of the rows not yet finished), after hearing `chosen`, the (n,) ids picked
        last step (-1 for a finished row; None at the first call, straight after the prompt).
    guide: constrained decoding (`generate.Guide`): `mask()` says which words may come next,
        `advance(chosen)` hears what was chosen. voice_leading: a `generate.VoiceLeading`: its
        `penalty(allowed)`, in nats, lowers a word's probability by a factor of e per nat.
    Same arguments and seed, same rows.
    """
    rng = np.random.default_rng(seed % 2**63)  # any whole number: numpy's generators take none below 0
    done = np.zeros(n, bool)
    chosen, picked = None, []
    for _ in config.progress(range(max(steps, 0)), f"writing {n} piece{'s' * (n > 1)}, word by word"):
        active = np.flatnonzero(~done)  # finished rows are not sampled again
        probs = next_probs(chosen, active)  # (active rows, V)
        allowed = None
        if guide is not None:
            allowed = guide.mask()
            probs = probs * allowed[active, :probs.shape[1]]
        if voice_leading is not None:
            steered = probs * np.exp(-voice_leading.penalty(allowed)[active, :probs.shape[1]])
            keep = steered.sum(1) > 0  # a row whose every word is forbidden keeps its choice
            probs[keep] = steered[keep]
        chosen = np.full(n, -1)
        chosen[active] = choose(probs, temperature, top_k, rng, top_p)
        for helper in (guide, voice_leading):
            if helper is not None:
                helper.advance(chosen)
        picked.append(chosen)
        done |= chosen == end
        if done.all():
            break
    return [[int(c[i]) for c in picked if c[i] >= 0] for i in range(n)]


def choose(probs: np.ndarray, temperature: float, top_k: int | None, rng, top_p: float | None = None) -> np.ndarray:
    """One index per row of probs (B, V), after temperature, top-k and top-p."""
    if temperature == 0:
        return probs.argmax(axis=1)
    logits = np.log(np.maximum(probs, 1e-300)) / temperature
    logits[probs <= 0] = -np.inf  # a word ruled out stays out
    order = np.argsort(-logits, axis=1, kind="stable")  # ties: the first, as argmax
    drop = np.zeros_like(logits, dtype=bool)
    if top_k is not None and top_k < probs.shape[1]:
        np.put_along_axis(drop, order[:, top_k:], True, axis=1)
    if top_p is not None and top_p < 1:
        ranked = np.take_along_axis(logits, order, axis=1)
        weights = np.exp(ranked - ranked[:, :1])
        mass = weights.cumsum(axis=1) / weights.sum(axis=1, keepdims=True)
        beyond = np.concatenate([np.zeros((len(probs), 1), bool), mass[:, :-1] >= top_p], axis=1)
        np.put_along_axis(drop, order, np.take_along_axis(drop, order, axis=1) | beyond, axis=1)
    logits[drop] = -np.inf
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    cumulative = weights.cumsum(axis=1)
    u = rng.random((len(probs), 1)) * cumulative[:, -1:]  # below the total, so a word of weight > 0
    return (cumulative <= u).sum(axis=1)
