"""The word-level tokenizer: one id per MMM word, specials first, then words by frequency.

Introduced in notebook 02. It is the published js-fakes-4bars tokenizer's recipe: a Hugging Face
`tokenizers` WordLevel model, whitespace split, specials [UNK]=0 [CLS]=1 [SEP]=2 [PAD]=3 [MASK]=4,
then words in corpus-frequency order (ties alphabetical): 119 ids on js-fakes-4bars.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

SPECIAL_TOKENS = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]  # ids 0..4, as published


def train_tokenizer(rows: Iterable[str], extra_words: Iterable[str] = ()) -> PreTrainedTokenizerFast:
    """A WordLevel tokenizer whose vocabulary is every word of `rows`, most frequent first, then
    `extra_words` (e.g. the style tags of rows that must not reorder the ids) in the order given."""
    core = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.train_from_iterator(rows, trainer=trainers.WordLevelTrainer(special_tokens=SPECIAL_TOKENS))
    vocab = core.get_vocab()
    extra = [w for w in dict.fromkeys(extra_words) if w not in vocab]
    if extra:
        core = Tokenizer(models.WordLevel(vocab | {w: len(vocab) + i for i, w in enumerate(extra)}, unk_token="[UNK]"))
        core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]", cls_token="[CLS]",
                                   sep_token="[SEP]", pad_token="[PAD]", mask_token="[MASK]")


def save_tokenizer(tokenizer: PreTrainedTokenizerFast, folder: str | Path) -> Path:
    """Save with `save_pretrained`; `AutoTokenizer.from_pretrained(folder)` loads it back offline."""
    tokenizer.save_pretrained(str(folder))
    return Path(folder)


def load_tokenizer(folder: str | Path):
    """The tokenizer saved in `folder` (never touches the network)."""
    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


def unknown_words(tokenizer, text: str | Iterable[str]) -> list[str]:
    """The words of `text` (a row or a list of words) that the tokenizer would map to [UNK]."""
    vocab = tokenizer.get_vocab()
    ws = text.split() if isinstance(text, str) else list(text)
    return [w for w in ws if w not in vocab]
