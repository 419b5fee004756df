"""The word-level tokenizer: the published 119 ids, save/load with Auto classes, unknown words."""

from transformers import AutoTokenizer

from jsfakes_utils import tokenizer

CORPUS = ["PIECE_START A B B C C C PIECE_END", "PIECE_START D PIECE_END"]


def test_known_answer_on_a_tiny_corpus():
    tok = tokenizer.train_tokenizer(CORPUS)
    # specials, then by count: C 3; B, PIECE_END, PIECE_START 2 (ties alphabetical); A, D 1
    assert tok.get_vocab() == {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "[MASK]": 4, "C": 5, "B": 6,
                               "PIECE_END": 7, "PIECE_START": 8, "A": 9, "D": 10}
    assert tok("PIECE_START B  C\tPIECE_END")["input_ids"] == [8, 6, 5, 7]


def test_save_and_load_with_auto_classes(tmp_path):
    tok = tokenizer.train_tokenizer(CORPUS)
    tokenizer.save_tokenizer(tok, tmp_path / "tok")
    loaded = AutoTokenizer.from_pretrained(str(tmp_path / "tok"), local_files_only=True)
    assert loaded.get_vocab() == tok.get_vocab()
    assert loaded(CORPUS[0])["input_ids"] == tok(CORPUS[0])["input_ids"]
    assert (loaded.pad_token_id, loaded.unk_token_id, loaded.mask_token_id) == (3, 0, 4)
    assert tokenizer.load_tokenizer(tmp_path / "tok").get_vocab() == tok.get_vocab()


def test_unknown_words_map_to_unk_and_are_listed():
    tok = tokenizer.train_tokenizer(CORPUS)
    assert tok("A Z B")["input_ids"] == [9, 0, 6]
    assert tokenizer.unknown_words(tok, "A Z B NOTE_ON=99") == ["Z", "NOTE_ON=99"]


def test_published_vocabulary(jsfakes_rows):
    tok = tokenizer.train_tokenizer(r["text"] for r in jsfakes_rows.train)
    vocab = tok.get_vocab()
    assert len(tok) == 119
    assert [vocab[s] for s in tokenizer.SPECIAL_TOKENS] == [0, 1, 2, 3, 4]
    assert vocab["TIME_DELTA=4"] == 5
    assert all(not tokenizer.unknown_words(tok, r["text"]) for r in jsfakes_rows.test)
