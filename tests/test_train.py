"""GPT-2 presets and training: shapes, loss at init, overfitting, padding, resume, saving."""

import math

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback

from jsfakes_utils import model, tokenizer, train
from test_evaluate import CONTRARY, CROSSING, FIFTHS, OCTAVES
from test_mmm import VALID

ROWS = [FIFTHS, OCTAVES, CONTRARY, VALID]


@pytest.fixture(scope="module")
def tok():
    return tokenizer.train_tokenizer(ROWS + [CROSSING])


def tiny_recipe(**changes):
    """A recipe for a few seconds of CPU training (no wandb, no warmup)."""
    base = dict(learning_rate=3e-3, batch_size=2, eval_batch_size=2, epochs=1, warmup=0.0, eval_steps=5,
                report_to="none")
    return train.Recipe(**(base | changes))


def test_presets_and_special_ids(tok):
    seed = model.build_model("seed", tok)
    assert model.parameter_count(seed) == pytest.approx(19.2e6, rel=0.01)  # the seed's 19.2 M
    assert 3e6 <= model.parameter_count(model.build_model("small", tok)) <= 4e6
    config = model.gpt2_config("quick", tok)
    vocab = tok.get_vocab()
    assert (config.bos_token_id, config.eos_token_id, config.pad_token_id) == \
        (vocab["PIECE_START"], vocab["PIECE_END"], vocab["[PAD]"])
    assert config.vocab_size == len(tok)
    with pytest.raises(ValueError, match="unknown preset"):
        model.build_model("huge", tok)


def test_shapes_and_loss_at_init_is_ln_vocab(tok):
    net = model.build_model("quick", tok, seed=0)
    batch = train.collator(tok)([train.Rows(ROWS, tok)[i] for i in range(len(ROWS))])
    with torch.no_grad():
        out = net(**batch)
    assert out.logits.shape == (len(ROWS), batch["input_ids"].shape[1], len(tok))
    assert float(out.loss) == pytest.approx(math.log(len(tok)), abs=0.15)
    assert train.test_loss(net, tok, ROWS) == pytest.approx(math.log(len(tok)), abs=0.15)


def test_dynamic_padding_gives_the_same_loss_as_padding_to_512(tok):
    net = model.build_model("quick", tok, seed=0).eval()
    collate = train.collator(tok)
    padded, dynamic = train.Rows(ROWS, tok, pad_to_max=True), train.Rows(ROWS, tok)
    a = collate([padded[i] for i in range(len(ROWS))])
    b = collate([dynamic[i] for i in range(len(ROWS))])
    assert a["input_ids"].shape[1] == 512 and b["input_ids"].shape[1] < 512
    assert (a["labels"] == -100).sum() > (b["labels"] == -100).sum()  # only padding is masked
    with torch.no_grad():
        assert float(net(**a).loss) == pytest.approx(float(net(**b).loss), rel=1e-5)
    # the token-mean test loss does not depend on how rows are batched
    assert train.test_loss(net, tok, ROWS, batch_size=1) == pytest.approx(train.test_loss(net, tok, ROWS, 4), rel=1e-5)


def test_a_tiny_model_overfits_a_handful_of_rows(tok, tmp_path):
    results = train.train(ROWS, ROWS, tok, tmp_path, preset="quick", recipe=tiny_recipe(epochs=40, eval_steps=1000))
    assert results["test_loss"] < 1.5 < math.log(len(tok))
    mean_train_loss = next(h["train_loss"] for h in results["history"] if "train_loss" in h)
    assert results["test_loss"] < mean_train_loss < math.log(len(tok))  # still falling at the end


def test_seed_recipe_is_the_seeds_hyperparameters(tmp_path):
    args = train.training_arguments("seed", tmp_path)
    assert (args.learning_rate, args.per_device_train_batch_size, args.per_device_eval_batch_size) == (5e-4, 4, 2)
    assert (args.seed, args.num_train_epochs, args.warmup_steps, args.eval_steps) == (1, 10, 0.01, 300)
    assert (args.adam_beta1, args.adam_beta2, args.adam_epsilon, args.weight_decay) == (0.9, 0.999, 1e-8, 0.0)
    assert args.lr_scheduler_type.value == "cosine" and args.report_to == ["wandb"]
    assert train.RECIPES["seed"].pad_to_max and not train.RECIPES["fast"].pad_to_max


class Kill(TrainerCallback):
    """Simulates a crash at a step (after a checkpoint has been written)."""

    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt("killed")


def test_a_killed_run_resumes_to_the_same_result(tok, tmp_path):
    recipe = tiny_recipe(epochs=5)  # 10 steps, a checkpoint every 5
    straight = train.train(ROWS, ROWS, tok, tmp_path / "a", preset="quick", recipe=recipe)
    with pytest.raises(KeyboardInterrupt):
        train.train(ROWS, ROWS, tok, tmp_path / "b", preset="quick", recipe=recipe, callbacks=[Kill(7)])
    assert train.last_checkpoint(tmp_path / "b").name == "checkpoint-5"
    resumed = train.train(ROWS, ROWS, tok, tmp_path / "b", preset="quick", recipe=recipe, resume=True)
    assert resumed["steps"] == straight["steps"] == 10
    a, b = model.load(straight["model"])[0], model.load(resumed["model"])[0]
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.allclose(x, y, atol=1e-6), name
    assert resumed["test_loss"] == pytest.approx(straight["test_loss"], abs=1e-6)


def test_saved_model_loads_with_auto_classes_offline(tok, tmp_path):
    results = train.train(ROWS, ROWS, tok, tmp_path, preset="quick", recipe=tiny_recipe(), max_steps=2)
    folder = results["model"]
    assert (tmp_path / "model" / "model.safetensors").exists()
    assert all(p.suffix != ".bin" for p in (tmp_path / "model").iterdir())
    net = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True)
    loaded_tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    assert loaded_tok.get_vocab() == tok.get_vocab()
    # the loaded weights are the trained ones: the same loss, to float precision, as train measured
    assert train.test_loss(net, loaded_tok, ROWS) == pytest.approx(results["test_loss"], abs=1e-5)


def test_unknown_words_and_a_wrong_checkpoint_are_refused(tok, tmp_path):
    with pytest.raises(ValueError, match="does not know"):
        train.Rows(["PIECE_START NOTE_ON=5"], tok)
    small_vocab = tokenizer.train_tokenizer(["PIECE_START PIECE_END [PAD]"])
    net = model.build_model("quick", small_vocab)
    net.save_pretrained(tmp_path / "ckpt")
    with pytest.raises(ValueError, match="token ids"):
        train.train(ROWS, ROWS, tok, tmp_path / "run", init=tmp_path / "ckpt", recipe=tiny_recipe())


def test_seed_recipe_runs_with_wandb_offline_without_a_key(tok, tmp_path, monkeypatch):
    for name in ("WANDB_MODE", "WANDB_API_KEY", "WANDB_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc: nobody is logged in
    results = train.train(ROWS, ROWS, tok, tmp_path / "run", preset="quick", recipe="seed", max_steps=2)
    assert results["steps"] == 2
    import os
    assert os.environ["WANDB_MODE"] == "offline"
    assert list((tmp_path / "run" / "wandb").glob("offline-run-*"))


def test_fine_tuning_starts_from_the_checkpoint(tok, tmp_path):
    first = train.train(ROWS, ROWS, tok, tmp_path / "pre", preset="quick", recipe=tiny_recipe(epochs=20))
    start = model.load(first["model"])[0]
    tuned = train.train(ROWS, ROWS, tok, tmp_path / "tune", init=first["model"], recipe=tiny_recipe(), max_steps=1)
    fresh = train.train(ROWS, ROWS, tok, tmp_path / "new", preset="quick", recipe=tiny_recipe(), max_steps=1)
    assert tuned["test_loss"] < fresh["test_loss"]  # it kept what the first run learnt
    assert tuned["test_loss"] == pytest.approx(first["test_loss"], abs=0.5)
    assert model.load(tuned["model"])[0].config.n_embd == start.config.n_embd


def test_fine_tuning_from_a_hub_id_when_online(tok, tmp_path, fake_hub):
    """--init with a hub id (as the seed's Katpeeler/midi_model_3), served by a local stand-in hub."""
    start = model.build_model("quick", tok, seed=4)
    start.save_pretrained(tmp_path / "repo")
    tok.save_pretrained(tmp_path / "repo")
    fake_hub["someone/midi_model"] = tmp_path / "repo"
    with pytest.raises(ValueError, match="cannot load"):  # offline unless asked
        train.train(ROWS, ROWS, tok, tmp_path / "off", init="someone/midi_model", recipe=tiny_recipe(), max_steps=1)
    tuned = train.train(ROWS, ROWS, tok, tmp_path / "on", init="someone/midi_model", recipe=tiny_recipe(),
                        max_steps=1, local_files_only=False)
    assert tuned["steps"] == 1 and model.load(tuned["model"])[0].config.n_embd == start.config.n_embd


def test_precision_is_detected_from_the_cpu_flags(tmp_path, monkeypatch):
    with_bf16, without = tmp_path / "a", tmp_path / "b"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_tile\n")
    without.write_text("processor\t: 0\nflags\t\t: fpu sse avx2\n")
    assert train.cpu_has_bf16(with_bf16) and not train.cpu_has_bf16(without)
    assert not train.cpu_has_bf16(tmp_path / "missing")  # not Linux: no evidence, fp32
    cpu, seed = train.RECIPES["cpu"], train.RECIPES["seed"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # the CPU branch, on any machine
    monkeypatch.setattr(train, "cpu_has_bf16", lambda: True)
    assert train.choose_precision(cpu, gpu=False)[0] == "bf16"
    assert train.choose_precision(seed, gpu=False)[0] == "fp32"  # the seed's recipe as the seed ran it
    assert train.choose_precision(cpu, "fp32", gpu=False)[0] == "fp32"
    assert train.training_arguments("cpu", tmp_path).bf16
    assert not train.training_arguments("cpu", tmp_path, precision="fp32").bf16
    monkeypatch.setattr(train, "cpu_has_bf16", lambda: False)
    assert train.choose_precision(cpu, gpu=False) == ("fp32", "the CPU has no native bf16, which would be slower than fp32")
    chosen, why = train.choose_precision(cpu, "bf16", gpu=False)
    assert chosen == "bf16" and "slow" in why
    with pytest.raises(ValueError, match="unknown precision"):
        train.choose_precision(cpu, "fp8")


def test_a_short_bf16_run_learns_like_fp32(tok, tmp_path, capsys):
    """bf16 autocast on the CPU (fp32 master weights): the loss falls as in fp32, to within a little."""
    runs = {p: train.train(ROWS, ROWS, tok, tmp_path / p, preset="quick", recipe=tiny_recipe(epochs=20, eval_steps=1000),
                           precision=p) for p in ("fp32", "bf16")}
    assert "precision: bf16 (asked for" in capsys.readouterr().out
    start = math.log(len(tok))
    for p, results in runs.items():
        assert results["test_loss"] < start - 1.0, p
        assert next(iter(model.load(results["model"])[0].parameters())).dtype == torch.float32  # master weights
    assert runs["bf16"]["test_loss"] == pytest.approx(runs["fp32"]["test_loss"], abs=0.25)


def test_oversampling_repeats_one_styles_rows_and_refuses_unknown_styles():
    bach = VALID.replace("STYLE=JSFAKES GENRE=JSFAKES", "STYLE=BACH GENRE=CHORALE")
    assert bach != VALID
    assert train.oversampled([VALID, bach, FIFTHS], {"bach": 3}) == [VALID, bach, bach, bach, FIFTHS]
    assert train.oversampled([VALID, bach], {"jsfakes": 2}) == [VALID, VALID, bach]
    for wrong in ({"mozart": 2}, {"bach": 0}):
        with pytest.raises(ValueError, match="oversample takes styles"):
            train.oversampled([VALID], wrong)


def test_a_learning_rate_overrides_the_recipes(tok, tmp_path):
    result = train.train(ROWS, ROWS, tok, tmp_path, preset="quick", recipe=tiny_recipe(epochs=6), learning_rate=1e-5,
                         final_eval=False)
    rates = [log["learning_rate"] for log in result["history"] if "learning_rate" in log]
    assert rates and max(rates) <= 1e-5
