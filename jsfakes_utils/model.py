"""GPT-2 model presets for MMM tokens: the seed's model, a CPU-sized one, and a tiny one for CI.

Introduced in notebook 04. Hyperparameters are named as in `GPT2Config` (and nanoGPT), so the two
can be read side by side. The special ids come from the tokenizer: a piece starts with
`PIECE_START` (bos) and ends with `PIECE_END` (eos), and `[PAD]` pads — so `generate` stops at the
end of a piece and never warns about GPT-2's 50256.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from transformers import GPT2Config, GPT2LMHeadModel


# The models committed with the repository (trained by this code; each folder's README.md is its
# card). BUNDLED is the default everywhere; SMALL, the first one, knows only the JS-Fakes style.
BUNDLED = Path(__file__).resolve().parent.parent / "models" / "jsfakes-gpt2"
SMALL = BUNDLED.parent / "jsfakes-small"


@dataclasses.dataclass(frozen=True)
class Preset:
    n_layer: int  # transformer blocks
    n_head: int  # attention heads per block
    n_embd: int  # width of the residual stream
    n_positions: int = 512  # longest row in tokens (js-fakes-4bars rows have 96-333)
    dropout: float = 0.1  # GPT-2's default on residuals, embeddings and attention


PRESETS = {
    "seed": Preset(n_layer=6, n_head=8, n_embd=512),  # the seed's model: ≈19.2 M parameters
    # ≈3.3 M: trains on a laptop CPU in minutes; no dropout, which only slows a 2-epoch run down
    "small": Preset(n_layer=4, n_head=4, n_embd=256, dropout=0.0),
    "quick": Preset(n_layer=2, n_head=2, n_embd=32),  # tiny, for CI and tests
}


def _preset(preset: str | Preset) -> Preset:
    if isinstance(preset, Preset):
        return preset
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: choose from {', '.join(PRESETS)}")
    return PRESETS[preset]


def gpt2_config(preset: str | Preset, tokenizer) -> GPT2Config:
    """The GPT2Config of a preset for `tokenizer`'s vocabulary and special ids."""
    p = _preset(preset)
    vocab = tokenizer.get_vocab()
    missing = [w for w in ("PIECE_START", "PIECE_END", "[PAD]") if w not in vocab]
    if missing:
        raise ValueError(f"the tokenizer lacks {missing}: is it an MMM tokenizer?")
    return GPT2Config(
        vocab_size=len(tokenizer), n_positions=p.n_positions, n_embd=p.n_embd, n_layer=p.n_layer,
        n_head=p.n_head, resid_pdrop=p.dropout, embd_pdrop=p.dropout, attn_pdrop=p.dropout,
        bos_token_id=vocab["PIECE_START"], eos_token_id=vocab["PIECE_END"], pad_token_id=vocab["[PAD]"],
    )


def build_model(preset: str | Preset, tokenizer, seed: int = 0) -> GPT2LMHeadModel:
    """A randomly initialised GPT-2 of a preset (weights drawn with `seed`)."""
    import torch

    config = gpt2_config(preset, tokenizer)
    torch.manual_seed(seed)
    return GPT2LMHeadModel(config)


def load(name: str | Path, local_files_only: bool = True):
    """(model in eval mode, tokenizer) of a causal LM: a folder (e.g. `BUNDLED`, or one written by
    `train`), or a hub id with local_files_only=False. A missing model is a one-line ValueError."""
    from transformers import AutoTokenizer

    tokenizer = _from_pretrained(AutoTokenizer, name, local_files_only)
    return load_weights(name, local_files_only).eval(), tokenizer


def load_weights(name: str | Path, local_files_only: bool = True):
    """Only the causal LM of a folder or hub id (a checkpoint need not hold a tokenizer)."""
    from transformers import AutoModelForCausalLM

    return _from_pretrained(AutoModelForCausalLM, name, local_files_only)


def _from_pretrained(auto_class, name: str | Path, local_files_only: bool):
    from transformers.utils import logging

    shown = logging.is_progress_bar_enabled()
    if Path(name).is_dir():  # a local folder loads in a blink: no "Loading weights" bar
        logging.disable_progress_bar()
    try:
        return auto_class.from_pretrained(str(name), local_files_only=local_files_only)
    except OSError as error:
        where = "locally (pass local_files_only=False, or --online, to download)" if local_files_only else ""
        raise ValueError(f"cannot load a causal LM {str(name)!r} {where}: {str(error).splitlines()[0]}") from None
    finally:
        if shown:
            logging.enable_progress_bar()


def parameter_count(model) -> int:
    """Trainable parameters (the tied input/output embedding counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
