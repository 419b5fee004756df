"""Prompts, sampling and constrained decoding: valid pieces from any model, refused bad choices."""

import random

import pytest
import torch

from jsfakes_utils import evaluate, generate, mmm, model, ngram, tokenizer
from test_train import ROWS

# One row holding every word a js-fakes-4bars model can know, so the tokenizer knows them all.
EVERY_WORD = " ".join(["PIECE_START", "STYLE=JSFAKES", "GENRE=JSFAKES", "TRACK_START", "TRACK_END", "BAR_START",
                       "BAR_END", "PIECE_END"] + [f"INST={i}" for i in mmm.JSFAKES_INSTS]
                      + [f"NOTE_{k}={p}" for p in range(36, 82) for k in ("ON", "OFF")]
                      + [f"TIME_DELTA={d}" for d in range(1, 17)])


@pytest.fixture(scope="module")
def net_and_tok():
    tok = tokenizer.train_tokenizer(ROWS)
    return model.build_model("quick", tok, seed=0), tok


@pytest.fixture(scope="module")
def random_model():
    """An untrained GPT-2 that knows every word: whatever it writes valid is the grammar's doing."""
    tok = tokenizer.train_tokenizer([EVERY_WORD])
    return model.build_model("quick", tok, seed=3), tok


def canonical(row: str) -> bool:
    return mmm.encode(mmm.decode(row), bars=4) == [row]


def test_sampling_is_seeded_and_ends_at_piece_end(net_and_tok):
    net, tok = net_and_tok
    a = generate.sample(net, tok, n=3, seed=1, max_new_tokens=40, batch_size=2, constrained=False)
    assert a == generate.sample(net, tok, n=3, seed=1, max_new_tokens=40, batch_size=2, constrained=False)
    assert len(a) == 3 and all(r.startswith("PIECE_START") for r in a)
    # a row stops at its first PIECE_END, or else only at the limit: exactly 40 words after the prompt
    assert all(r.endswith("PIECE_END") and r.split().count("PIECE_END") == 1 or len(r.split()) == 41 for r in a)
    assert not any("[PAD]" in r for r in a)  # the padding word is never sampled
    greedy = generate.sample(net, tok, n=3, temperature=0, max_new_tokens=20, constrained=False)
    assert len(set(greedy)) == 1


def test_the_written_out_gpt2_scores_words_as_transformers_does(random_model):
    net, tok = random_model
    words = torch.randint(0, len(tok), (3, 300), generator=torch.Generator().manual_seed(0))  # (B, T)
    net.eval()  # as sampling does: no dropout
    with torch.inference_mode():
        expected = net(input_ids=words).logits  # (B, T, V): every position at once, no cache
        for steps in (generate._GPT2Steps(net, 3), generate._CachedSteps(net)):
            # the prompt, then word by word (the GPT-2's cache grows twice)
            got = [steps(words[:, :8])] + [steps(words[:, t:t + 1]) for t in range(8, 300)]
            assert torch.allclose(torch.stack(got, 1), expected[:, 7:], atol=1e-4), type(steps).__name__


def test_any_causal_lm_samples_valid_pieces_through_the_cache():
    """A model that is not a GPT-2 takes the library's forward pass with its KV cache: same loop, same grammar."""
    from transformers import LlamaConfig, LlamaForCausalLM
    tok = tokenizer.train_tokenizer([EVERY_WORD])
    torch.manual_seed(0)
    net = LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                       num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=512))
    assert not generate._GPT2Steps.fits(net)
    rows = generate.sample(net, tok, n=2, prompt=generate.prompt("bass", 48, tok), seed=0, voice_leading=6)
    assert all(mmm.validate(r).ok for r in rows) and rows == generate.sample(
        net, tok, n=2, prompt=generate.prompt("bass", 48, tok), seed=0, voice_leading=6)


def test_prompt_and_settings_are_checked(net_and_tok):
    net, tok = net_and_tok
    prompt = "PIECE_START STYLE=JSFAKES GENRE=JSFAKES TRACK_START INST=32"
    assert generate.sample(net, tok, prompt=prompt, max_new_tokens=5, constrained=False)[0].startswith(prompt)
    with pytest.raises(ValueError, match="does not know"):
        generate.sample(net, tok, prompt="PIECE_START NOTE_ON=13")
    with pytest.raises(ValueError, match="temperature"):
        generate.sample(net, tok, temperature=-1)
    with pytest.raises(ValueError, match="top_p"):
        generate.sample(net, tok, top_p=1.5)
    with pytest.raises(ValueError, match="cannot begin a valid piece"):  # constrained: the prompt must be valid
        generate.sample(net, tok, prompt="PIECE_START TRACK_START INST=32 BAR_START NOTE_OFF=50")


@pytest.mark.parametrize("temperature, top_p", [(0.5, None), (1.0, 0.9), (1.0, None), (2.0, None), (0, None)])
def test_constrained_decoding_makes_every_piece_valid_even_untrained(random_model, temperature, top_p):
    net, tok = random_model
    for seed in range(3):
        rows = generate.sample(net, tok, n=4, prompt=generate.prompt(voice=None), temperature=temperature,
                               top_p=top_p, seed=seed)
        for row in rows:
            assert mmm.validate(row, vocab=tok.get_vocab()).ok, mmm.validate(row)
            assert canonical(row)  # the form encode() writes: encode(decode(row)) == row
            for voice, notes in mmm.voice_steps(row).items():  # every pitch within its voice's range
                low, high = generate.VOICE_RANGES[mmm.JSFAKES_INSTS[voice]]
                assert all(low <= p <= high for _, _, p in notes)


def test_without_the_grammar_the_untrained_model_writes_no_valid_piece(random_model):
    net, tok = random_model
    rows = generate.sample(net, tok, n=8, seed=0, constrained=False)
    assert not any(mmm.validate(r).ok for r in rows)


def test_constrained_pieces_finish_within_a_tight_length(random_model):
    net, tok = random_model
    start = generate.prompt("tenor", 55, tok)
    for seed in range(4):
        (row,) = generate.sample(net, tok, prompt=start, seed=seed, temperature=1.5, max_new_tokens=60)
        assert mmm.validate(row).ok and row.startswith(start)
        (loose,) = generate.sample(net, tok, prompt=start, seed=seed, temperature=1.5)
        assert len(loose.split()) > len(start.split()) + 60  # so the limit was binding: the grammar made it fit
    with pytest.raises(ValueError, match="no valid piece fits"):
        generate.sample(net, tok, prompt=start, max_new_tokens=30)  # 4 tracks of 4 bars need more words


def test_a_random_walk_through_the_grammar_always_ends_valid():
    grammar = generate.Grammar(EVERY_WORD.split())
    rng = random.Random(0)
    for walk in range(300):
        room = rng.choice([None, 60, 120, 400])
        state, row = generate.State(), []
        while state.phase != "end":
            choice = rng.choice(grammar.allowed(state, None if room is None else room - len(row)))
            row.append(EVERY_WORD.split()[choice])
            state = grammar.step(state, generate._parse(row[-1]))
        assert mmm.validate(row).ok, (walk, mmm.validate(row))
        assert room is None or len(row) <= room


def test_the_ngram_is_constrained_too():
    lm = ngram.train_ngram(ROWS, 3)
    rows = generate.sample(lm, n=12, seed=0, top_p=0.9)
    assert all(mmm.validate(r).ok for r in rows)
    assert rows == generate.sample(lm, n=12, seed=0, top_p=0.9)  # seeded
    free = generate.sample(lm, n=12, seed=0, constrained=False)
    assert not all(mmm.validate(r).ok for r in free)


def test_slider_values_the_model_does_not_know_are_refused(random_model):
    _, tok = random_model
    assert generate.prompt("bass", 40, tok).endswith("TRACK_START INST=32 BAR_START NOTE_ON=40")
    assert generate.pitch_range("soprano", tok) == generate.VOICE_RANGES[0]
    with pytest.raises(ValueError, match="outside the soprano range the model knows, 54-81"):
        generate.prompt("soprano", 30, tok)
    with pytest.raises(ValueError, match="unknown voice"):
        generate.prompt("piccolo", 60, tok)
    with pytest.raises(ValueError, match="unknown voice"):
        generate.prompt(4, 60, tok)
    small = tokenizer.train_tokenizer(ROWS)  # knows only the pitches of four rows
    low, high = generate.pitch_range("alto", small)
    assert 43 <= low <= high <= 78
    missing = next(p for p in range(43, 79) if f"NOTE_ON={p}" not in small.get_vocab())
    with pytest.raises(ValueError, match="outside the alto range"):
        generate.prompt("alto", missing, small)


def test_voice_ranges_are_those_of_the_training_split(jsfakes_rows):
    ref = evaluate.reference([r["text"] for r in jsfakes_rows.train], [])
    assert {mmm.JSFAKES_INSTS[v]: r for v, r in ref.ranges.items()} == generate.VOICE_RANGES


def test_a_vocabulary_that_cannot_make_a_piece_is_refused():
    with pytest.raises(ValueError, match="cannot constrain decoding: the vocabulary lacks .*TRACK_END"):
        generate.Grammar(["PIECE_START", "TRACK_START", "INST=0", "BAR_START", "BAR_END", "PIECE_END"])
    three_voices = [w for w in EVERY_WORD.split() if w != "INST=32"]
    with pytest.raises(ValueError, match="INST= for 4 of the voices"):
        generate.Grammar(three_voices)
    assert generate.Grammar(three_voices, tracks=3).cost(generate.State()) == 1 + 3 * 11 + 1


def test_the_style_picks_the_tags_and_a_model_without_them_says_so(random_model):
    _, tok = random_model  # knows only the JS-Fakes tags
    assert generate.prompt("soprano", style="bach").startswith("PIECE_START STYLE=BACH GENRE=CHORALE TRACK_START")
    assert generate.prompt(None, tokenizer=tok) == "PIECE_START STYLE=JSFAKES GENRE=JSFAKES"
    with pytest.raises(ValueError, match="not trained on the bach style"):
        generate.prompt("soprano", tokenizer=tok, style="bach")
    with pytest.raises(ValueError, match="unknown style 'baroque'"):
        generate.prompt("soprano", style="baroque")
    both = tokenizer.train_tokenizer([EVERY_WORD, "PIECE_START STYLE=BACH GENRE=CHORALE PIECE_END"])
    net = model.build_model("quick", both, seed=3)
    rows = generate.sample(net, both, 2, generate.prompt("alto", tokenizer=both, style="bach"), seed=0)
    assert all(mmm.validate(r).ok and r.startswith("PIECE_START STYLE=BACH GENRE=CHORALE") for r in rows)
