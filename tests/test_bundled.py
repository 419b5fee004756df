"""The bundled model is what its card says: its test loss on a fixed slice of the published rows,
and a tokenizer that agrees with its embedding. (Decoding with the grammar on makes even random
weights write valid pieces, so no other test would notice broken or mismatched weights.)"""

import re

import pytest

from jsfakes_utils import generate, model, train

CARD = model.BUNDLED / "README.md"


def card_figure(label: str) -> float:
    found = re.search(rf"{re.escape(label)}: \*\*([0-9.]+)\*\*", CARD.read_text())
    assert found, f"the model card states no '{label}: **…**'"
    return float(found.group(1))


@pytest.fixture(scope="module")
def bundled():
    return model.load(model.BUNDLED)


def test_tokenizer_and_embedding_agree(bundled):
    net, tok = bundled
    assert len(tok) == net.config.vocab_size == net.get_input_embeddings().weight.shape[0]
    vocab = tok.get_vocab()
    assert (net.config.bos_token_id, net.config.eos_token_id, net.config.pad_token_id) == \
        (vocab["PIECE_START"], vocab["PIECE_END"], vocab["[PAD]"])
    for style, tags in generate.STYLES.items():  # it was trained on both styles
        assert {f"STYLE={tags[0]}", f"GENRE={tags[1]}"} <= set(vocab), style
    assert card_figure("vocabulary") == len(tok)


def test_test_loss_on_the_first_100_published_rows_is_the_cards(bundled, jsfakes_rows):
    net, tok = bundled
    rows = [r["text"] for r in jsfakes_rows.test[:100]]
    assert train.test_loss(net, tok, rows) == pytest.approx(card_figure("test loss, first 100 published test rows"),
                                                            abs=0.01)
