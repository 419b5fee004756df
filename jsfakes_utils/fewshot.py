"""Few-shot prompting of a general language model: the seed's LLM baseline, measured.

Introduced in notebook 03. The seed asked Llama-2-70b for a chorale in MMM tokens after a system
prompt and a few example rows, and reported only that it "could not produce an output that matched
the criteria". Here the same experiment runs with any local Hugging Face causal LM (a folder, or a
hub id when online) and is scored with `evaluate`, like every other generator:

    model, tok = jsfakes_utils.model.load("Qwen/Qwen2.5-0.5B-Instruct", local_files_only=False)
    prompt = fewshot.build_prompt(train_rows, k=2, seed=0)
    answers = fewshot.generate(model, tok, prompt, n=4, seed=0)
    samples = [fewshot.extract_tokens(a) for a in answers]
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from . import mmm

SYSTEM = (
    "You are a midi generator. You write four-part chorales in the style of J. S. Bach as text "
    "tokens in the MMM format. A piece is PIECE_START STYLE=JSFAKES GENRE=JSFAKES, then four "
    "tracks, then PIECE_END. A track is TRACK_START INST=<n> (soprano 0, alto 48, tenor 24, bass "
    "32), then exactly four bars, then TRACK_END. A bar is BAR_START, then NOTE_ON=<pitch>, "
    "TIME_DELTA=<sixteenths> and NOTE_OFF=<pitch> events, then BAR_END; the TIME_DELTAs of a bar add "
    "up to at most 16, and every NOTE_ON is closed by its NOTE_OFF in the same bar. One note at a "
    "time per track."
)
REQUEST = "Write one new piece. Answer with the tokens only, from PIECE_START to PIECE_END."

_FORMAT_WORD = re.compile(r"PIECE_START|PIECE_END|TRACK_START|TRACK_END|BAR_START|BAR_END|"
                          r"(?:NOTE_ON|NOTE_OFF|TIME_DELTA|INST)=\d+|(?:STYLE|GENRE)=[A-Z0-9_]+")


def build_prompt(examples: Sequence[str], k: int = 3, seed: int = 0) -> str:
    """The seed's kind of prompt: instructions, `k` example rows drawn with `seed`, the request."""
    if not 0 <= k <= len(examples):
        raise ValueError(f"k must be 0..{len(examples)} (the number of example rows), got {k}")
    shots = random.Random(seed).sample(list(examples), k)
    parts = [SYSTEM] + [f"Example {i}:\n{row}" for i, row in enumerate(shots, 1)] + [REQUEST]
    return "\n\n".join(parts)


def extract_tokens(answer: str) -> str:
    """The MMM words in a model's answer, from its first PIECE_START through the next PIECE_END.

    Punctuation, code fences and prose around or between the words are dropped; what is left is
    scored as it is, so a half-finished piece shows up as invalid rather than being repaired.
    """
    ws = _FORMAT_WORD.findall(answer)
    if "PIECE_START" in ws:
        ws = ws[ws.index("PIECE_START"):]
    if "PIECE_END" in ws:
        ws = ws[:ws.index("PIECE_END") + 1]
    return " ".join(ws)


def _prompt_ids(tokenizer, prompt: str):
    """Token ids of the prompt, through the model's chat template when it has one."""
    if getattr(tokenizer, "chat_template", None):
        system, user = prompt.split("\n\n", 1)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                             return_dict=True)["input_ids"]
    return tokenizer(prompt, return_tensors="pt")["input_ids"]


def generate(model, tokenizer, prompt: str, n: int = 1, max_new_tokens: int = 1536,
             temperature: float = 0.8, top_p: float = 0.95, seed: int = 0) -> list[str]:
    """`n` answers of the model to `prompt` (sampled with temperature and top-p, seeded)."""
    import torch
    from transformers import set_seed

    ids = _prompt_ids(tokenizer, prompt).to(model.device)
    context = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", None)
    if context and ids.shape[1] + max_new_tokens > context:
        raise ValueError(f"the prompt is {ids.shape[1]} tokens; with max_new_tokens={max_new_tokens} it "
                         f"exceeds the model's context of {context}: use fewer examples (k) or fewer new tokens")
    set_seed(seed)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    with torch.no_grad():
        out = model.generate(ids.repeat(n, 1), attention_mask=torch.ones_like(ids).repeat(n, 1),
                             do_sample=temperature > 0, temperature=temperature or None,
                             top_p=top_p if temperature > 0 else None, max_new_tokens=max_new_tokens,
                             pad_token_id=pad)
    return tokenizer.batch_decode(out[:, ids.shape[1]:], skip_special_tokens=True)


def run(model, tokenizer, examples: Sequence[str], n: int = 4, k: int = 3, seed: int = 0,
        **generate_kwargs) -> tuple[str, list[str], list[str]]:
    """(prompt, raw answers, extracted token rows): the whole baseline, ready for `evaluate`."""
    prompt = build_prompt(examples, k=k, seed=seed)
    answers = generate(model, tokenizer, prompt, n=n, seed=seed, **generate_kwargs)
    return prompt, answers, [extract_tokens(a) for a in answers]


def describe(rows: Sequence[str]) -> str:
    """One line per extracted row: its length and first problem (for reading raw LLM output)."""
    lines = []
    for i, row in enumerate(rows, 1):
        report = mmm.validate(row)
        first = "valid" if report.ok else f"{len(report.problems)} problem(s), first: {report.problems[0]}"
        lines.append(f"answer {i}: {len(row.split())} format words; {first}")
    return "\n".join(lines)
