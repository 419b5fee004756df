"""GPT-2 model presets for MMM tokens: the seed's model, a CPU-sized one, and a tiny one for CI.

Introduced in notebook 04. Hyperparameters are named as in `GPT2Config` (and nanoGPT), so the two
can be read side by side. The special ids come from the tokenizer: a piece starts with
`PIECE_START` (bos) and ends with `PIECE_END` (eos), and `[PAD]` pads — so `generate` stops at the
end of a piece and never warns about GPT-2's 50256.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from transformers import GPT2Config, GPT2LMHeadModel


# The models committed with the repository (trained by this code; each folder's README.md is its
# card). BUNDLED is the default everywhere; SMALL, the first one, knows only the JS-Fakes style.
BUNDLED = Path(__file__).resolve().parent / "models" / "jsfakes-gpt2"  # inside the package: pip installs it
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
    return _next_token_loss(GPT2LMHeadModel(config))


def _next_token_loss(net):
    """The model, told its loss by name: transformers finds a loss from the class name, and
    GPT2LMHeadModel's matches none, so it warned "`loss_type=None` ... unrecognized" and then used
    this very loss (the next-token cross-entropy, `ForCausalLM`)."""
    if getattr(net, "loss_type", "") is None:
        net.loss_type = "ForCausalLM"
    return net


PICKLES = ("*.bin", "*.pt", "*.pth", "*.ckpt")  # checkpoints that run code when unpickled
NOT_WEIGHTS = ("training_args.bin", "optimizer.pt", "scheduler.pt", "rng_state.pth", "scaler.pt")  # Trainer's


def load(name: str | Path, local_files_only: bool = True, trust_pickle: bool = False):
    """(model in eval mode, tokenizer) of a causal LM: a folder (e.g. `BUNDLED`, or one written by
    `train`), or a hub id with local_files_only=False. The one loader: see `load_weights`; a
    tokenizer with more words than the model has embeddings is refused too."""
    from transformers import AutoTokenizer

    net = load_weights(name, local_files_only, trust_pickle)
    tokenizer = _from_pretrained(AutoTokenizer, name, local_files_only, "tokenizer")
    if len(tokenizer) > net.config.vocab_size:
        raise ValueError(f"{str(name)!r}: its tokenizer has {len(tokenizer)} words but the model only "
                         f"{net.config.vocab_size} embeddings, so they were not trained together")
    return net.eval(), tokenizer


@functools.cache
def bundled():
    """The model shipped with the package (`BUNDLED`) and its tokenizer, loaded once."""
    return load(BUNDLED)


def load_weights(name: str | Path, local_files_only: bool = True, trust_pickle: bool = False):
    """Only the causal LM of a folder or hub id (a checkpoint need not hold a tokenizer).

    Weights come from safetensors files only, unless `trust_pickle` (a pickle can run any code
    when loaded). A model is never returned with weights the checkpoint did not hold: missing,
    unexpected or misshapen weights, a corrupt file, a folder that is missing, empty or holds
    another kind of model are each refused with a one-line ValueError.
    """
    from transformers import AutoModelForCausalLM

    if Path(name).exists() or not _looks_like_hub_id(str(name)):
        _check_folder(Path(name), trust_pickle)
    net, info = _from_pretrained(AutoModelForCausalLM, name, local_files_only, "causal LM",
                                 output_loading_info=True, use_safetensors=None if trust_pickle else True,
                                 trust_remote_code=False, ignore_mismatched_sizes=True)  # reported, then refused
    for kind in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        keys = sorted(info.get(kind) or [], key=str)
        if keys:
            raise ValueError(f"cannot load a causal LM {str(name)!r}: its checkpoint does not fit the model, "
                             f"{len(keys)} {kind.replace('_', ' ')} (e.g. {keys[0]})")
    return _next_token_loss(net)


def _looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return 1 <= len(parts) <= 2 and all(parts) and not name.startswith((".", "~"))


def _check_folder(folder: Path, trust_pickle: bool) -> None:
    """One sentence for each way a local folder cannot be a safe causal LM checkpoint."""
    import json

    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    where = f"{str(folder)!r}"
    if not folder.exists():
        raise ValueError(f"cannot load a causal LM {where}: there is no such folder")
    if not folder.is_dir():
        raise ValueError(f"cannot load a causal LM {where}: it is a file; give the folder that holds "
                         f"config.json and model.safetensors")
    if not any(folder.iterdir()):
        raise ValueError(f"cannot load a causal LM {where}: the folder is empty")
    try:
        config = json.loads((folder / "config.json").read_text())
    except FileNotFoundError:
        raise ValueError(f"cannot load a causal LM {where}: it has no config.json, so it is no model folder "
                         f"(`jsfakes train` writes one into OUT/model)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot load a causal LM {where}: its config.json is not valid JSON ({error})") from None
    kind = config.get("model_type") if isinstance(config, dict) else None
    if kind not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise ValueError(f"cannot load a causal LM {where}: its config.json describes "
                         f"{'a ' + repr(kind) + ' model' if kind else 'no model type'}, not a causal language model")
    safe = sorted(folder.glob("*.safetensors"))
    pickles = sorted(p.name for pattern in PICKLES for p in folder.glob(pattern) if p.name not in NOT_WEIGHTS)
    if not safe and not pickles:
        raise ValueError(f"cannot load a causal LM {where}: it holds no weights (model.safetensors)")
    if not safe and not trust_pickle:
        raise ValueError(
            f"cannot load a causal LM {where}: it holds only a pickle checkpoint ({pickles[0]}), which can run "
            f"code when loaded; if you trust its maker, convert it once with `jsfakes convert {folder}`")
    from safetensors import SafetensorError, safe_open

    for file in safe:
        try:
            with safe_open(str(file), "pt") as weights:
                for key in weights.keys():
                    weights.get_slice(key)
        except (SafetensorError, OSError, ValueError) as error:
            raise ValueError(f"cannot load a causal LM {where}: {file.name} is corrupt or truncated "
                             f"({str(error).splitlines()[0]})") from None


def convert(folder: str | Path) -> Path:
    """Rewrite a trusted folder's pickle checkpoint as model.safetensors (what `load` reads)."""
    net = load_weights(folder, trust_pickle=True)
    net.save_pretrained(str(folder), safe_serialization=True)
    return Path(folder) / "model.safetensors"


def _from_pretrained(auto_class, name: str | Path, local_files_only: bool, what: str, **kwargs):
    from transformers.utils import logging

    shown, verbosity = logging.is_progress_bar_enabled(), logging.get_verbosity()
    if Path(name).is_dir():  # a local folder loads in a blink: no "Loading weights" bar
        logging.disable_progress_bar()
    logging.set_verbosity_error()  # no load report: what it would say becomes our one sentence
    try:
        return auto_class.from_pretrained(str(name), local_files_only=local_files_only, **kwargs)
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        where = " locally (pass local_files_only=False, or --online, to download)" \
            if local_files_only and not Path(name).exists() else ""
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ValueError(f"cannot load a {what} {str(name)!r}{where}: {first}") from None
    finally:
        logging.set_verbosity(verbosity)
        if shown:
            logging.enable_progress_bar()


def parameter_count(model) -> int:
    """Trainable parameters (the tied input/output embedding counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
