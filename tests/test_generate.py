"""Sampling rows from a causal LM: seeded, stops at PIECE_END, refuses unknown prompt words."""

import pytest

from jsfakes_utils import generate, model, tokenizer
from test_train import ROWS


@pytest.fixture(scope="module")
def net_and_tok():
    tok = tokenizer.train_tokenizer(ROWS)
    return model.build_model("quick", tok, seed=0), tok


def test_sampling_is_seeded_and_ends_at_piece_end(net_and_tok):
    net, tok = net_and_tok
    a = generate.sample(net, tok, n=3, seed=1, max_new_tokens=40, batch_size=2)
    assert a == generate.sample(net, tok, n=3, seed=1, max_new_tokens=40, batch_size=2)
    assert len(a) == 3 and all(r.startswith("PIECE_START") for r in a)
    assert all(len(r.split()) <= 41 and "[PAD]" not in r for r in a)
    assert all(r.split().count("PIECE_END") <= 1 and ("PIECE_END" not in r or r.endswith("PIECE_END")) for r in a)
    greedy = generate.sample(net, tok, n=3, temperature=0, max_new_tokens=20)
    assert len(set(greedy)) == 1


def test_prompt_and_settings_are_checked(net_and_tok):
    net, tok = net_and_tok
    prompt = "PIECE_START STYLE=JSFAKES GENRE=JSFAKES TRACK_START INST=32"
    assert generate.sample(net, tok, prompt=prompt, max_new_tokens=5)[0].startswith(prompt)
    with pytest.raises(ValueError, match="does not know"):
        generate.sample(net, tok, prompt="PIECE_START NOTE_ON=13")
    with pytest.raises(ValueError, match="temperature"):
        generate.sample(net, tok, temperature=-1)
