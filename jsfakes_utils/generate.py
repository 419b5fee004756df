"""Sampling MMM rows from a causal LM (a GPT-2 trained by `train`, or any checkpoint folder).

Introduced in notebook 04 for scoring trained models; notebook 05 builds the studio on it.
"""

from __future__ import annotations

import torch

from . import mmm
from . import tokenizer as tokenizers


def sample(model, tokenizer, n: int = 1, prompt: mmm.Tokens = "PIECE_START", temperature: float = 1.0,
           top_k: int | None = None, top_p: float | None = None, seed: int = 0, batch_size: int = 32,
           max_new_tokens: int | None = None) -> list[str]:
    """`n` rows sampled after `prompt`, each stopping at PIECE_END (or the model's context).

    temperature: 0 = greedy (the same row every time); <1 calmer, >1 wilder.
    top_k / top_p: sample among the k likeliest words / the smallest set holding p of the mass.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    words = mmm.words(prompt)
    unknown = tokenizers.unknown_words(tokenizer, words)
    if unknown:
        raise ValueError(f"the tokenizer does not know {unknown}: the model cannot start from them")
    context = model.config.n_positions if hasattr(model.config, "n_positions") else model.config.max_position_embeddings
    max_new_tokens = min(max_new_tokens or context, context - len(words))  # never past the context
    ids = tokenizer(" ".join(words), return_tensors="pt")["input_ids"].to(model.device)
    end = tokenizer.convert_tokens_to_ids("PIECE_END")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else end
    torch.manual_seed(seed)
    rows = []
    model.eval()
    with torch.no_grad():
        for start in range(0, n, batch_size):
            b = min(batch_size, n - start)
            options = dict(do_sample=True, temperature=temperature, top_k=top_k or 0, top_p=top_p or 1.0) \
                if temperature > 0 else dict(do_sample=False)
            out = model.generate(ids.repeat(b, 1), attention_mask=torch.ones_like(ids).repeat(b, 1),
                                 max_new_tokens=max_new_tokens, eos_token_id=end, pad_token_id=pad, **options)
            for row in out.tolist():
                if end in row[ids.shape[1]:]:
                    row = row[:row.index(end, ids.shape[1]) + 1]
                rows.append(" ".join(t for t in tokenizer.convert_ids_to_tokens(row) if t != "[PAD]"))
    return rows
