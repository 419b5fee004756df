"""The few-shot LLM baseline, offline: a tiny randomly initialised causal LM built here."""

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from jsfakes_utils import cli, evaluate, fewshot, mmm
from jsfakes_utils.model import load as load_model
from test_evaluate import CROSSING, FIFTHS, OCTAVES
from test_mmm import VALID

EXAMPLES = [FIFTHS, OCTAVES, CROSSING, VALID]


def test_prompt_has_instructions_k_examples_and_the_request():
    prompt = fewshot.build_prompt(EXAMPLES, k=2, seed=0)
    assert prompt.startswith("You are a midi generator.") and prompt.endswith(fewshot.REQUEST)
    assert prompt.count("Example ") == 2 and sum(row in prompt for row in EXAMPLES) == 2
    assert fewshot.build_prompt(EXAMPLES, k=2, seed=0) == prompt
    assert fewshot.build_prompt(EXAMPLES, k=0).count("PIECE_START STYLE") == 1  # the instructions' own
    with pytest.raises(ValueError, match="k must be"):
        fewshot.build_prompt(EXAMPLES, k=5)


def test_extract_tokens_from_a_chatty_answer():
    answer = f"Sure! Here is a chorale:\n```\n{mmm.pretty(VALID)}\n```\nPIECE_START again, and more."
    assert fewshot.extract_tokens(answer) == VALID
    assert mmm.validate(fewshot.extract_tokens(answer)).ok
    cut = fewshot.extract_tokens("PIECE_START, TRACK_START, INST=0, BAR_START, NOTE_ON=60, ...")
    assert cut == "PIECE_START TRACK_START INST=0 BAR_START NOTE_ON=60"
    assert fewshot.extract_tokens("I cannot write music.") == ""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 1-layer GPT-2 with random weights and a word-level tokenizer, saved in a folder."""
    prompt = fewshot.build_prompt(EXAMPLES, k=2)
    core = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.train_from_iterator([prompt], trainer=trainers.WordLevelTrainer(special_tokens=["[UNK]", "[EOS]"]))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]", eos_token="[EOS]")
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=1024, n_embd=16, n_layer=1, n_head=2,
                        bos_token_id=1, eos_token_id=1)
    folder = tmp_path_factory.mktemp("tiny-llm")
    torch.manual_seed(0)  # the same weights every run, so the test is the same every run
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_run_with_a_local_model_is_seeded_and_scored(tiny):
    model, tokenizer = load_model(tiny)
    prompt, answers, rows = fewshot.run(model, tokenizer, EXAMPLES, n=3, k=2, seed=0, max_new_tokens=80)
    assert len(answers) == len(rows) == 3 and all(isinstance(a, str) and a for a in answers)
    assert all(w in a for row, a in zip(rows, answers) for w in row.split())  # taken from the answers
    assert any(rows)
    assert fewshot.run(model, tokenizer, EXAMPLES, n=3, k=2, seed=0, max_new_tokens=80)[1] == answers
    assert "answer 3:" in fewshot.describe(rows)
    table = evaluate.evaluate({"few-shot": rows}, evaluate.reference(EXAMPLES, [CROSSING]))
    assert table.loc["samples", "few-shot"] == 3
    assert table.loc["valid (%)", "few-shot"] == 0  # random weights never write a whole chorale


def test_a_chat_model_gets_the_prompt_as_system_and_user_messages(tiny):
    _, tokenizer = load_model(tiny)
    tokenizer.chat_template = ("{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }} {% endfor %}"
                               "{% if add_generation_prompt %}<assistant>{% endif %}")
    prompt = fewshot.build_prompt(EXAMPLES, k=2, seed=0)
    system, user = prompt.split("\n\n", 1)
    ids = fewshot._prompt_ids(tokenizer, prompt)[0].tolist()
    assert ids == tokenizer(f"<system> {system} <user> {user} <assistant>")["input_ids"]
    assert system == fewshot.SYSTEM and user.endswith(fewshot.REQUEST)  # instructions apart from the examples
    tokenizer.chat_template = None
    assert fewshot._prompt_ids(tokenizer, prompt)[0].tolist() == tokenizer(prompt)["input_ids"]


def test_prompt_longer_than_the_context_is_refused(tiny):
    model, tokenizer = load_model(tiny)
    with pytest.raises(ValueError, match="exceeds the model's context of 1024"):
        fewshot.run(model, tokenizer, EXAMPLES, n=1, k=4, max_new_tokens=1000)


def test_a_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="cannot load a causal LM"):
        load_model(tmp_path / "nothing-here")


def test_fewshot_command(tiny, tmp_path, capsys):
    (tmp_path / "train.txt").write_text("".join(row + "\n" for row in EXAMPLES))
    (tmp_path / "test.txt").write_text(CROSSING + "\n")
    samples = tmp_path / "answers.txt"
    assert cli.main(["fewshot", "--model", str(tiny), "--data", str(tmp_path), "--k", "1", "--n", "2",
                     "--max-new-tokens", "30", "--samples", str(samples)]) == 0
    out = capsys.readouterr().out
    assert "answer 2:" in out and "few-shot" in out and "valid (%)" in out
    assert len(samples.read_text().split("\n")) == 3
    assert cli.main(["fewshot", "--model", str(tmp_path / "none"), "--data", str(tmp_path)]) == 2
    assert "cannot load a causal LM" in capsys.readouterr().err
