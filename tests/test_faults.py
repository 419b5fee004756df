"""Broken and untrusted inputs, built here: each is refused with one sentence, never a random model."""

import json
import shutil

import pytest
import torch
from safetensors.torch import save_file

from jsfakes_utils import model, tokenizer
from test_mmm import VALID


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A tiny saved model folder (config, safetensors weights, tokenizer), as `train` writes one."""
    folder = tmp_path_factory.mktemp("good")
    tok = tokenizer.train_tokenizer([VALID])
    model.build_model("quick", tok).save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    return folder


def broken(good, tmp_path, change):
    folder = tmp_path / "model"
    shutil.copytree(good, folder)
    change(folder)
    return folder


def truncate(folder):
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[:len(data) // 2])


def other_keys(folder):
    (folder / "model.safetensors").unlink()
    save_file({"encoder.weight": torch.zeros(3, 3)}, str(folder / "model.safetensors"))


def only_pickle(folder):
    weights = model.load_weights(folder).state_dict()
    (folder / "model.safetensors").unlink()
    torch.save(weights, folder / "pytorch_model.bin")


def wrong_shape(folder):
    weights = {k: v.clone() for k, v in model.load_weights(folder).state_dict().items() if k != "lm_head.weight"}
    weights["transformer.wpe.weight"] = torch.zeros(7, weights["transformer.wpe.weight"].shape[1])
    save_file(weights, str(folder / "model.safetensors"))


def config_of(kind):
    def change(folder):
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps(config | {"model_type": kind}))
    return change


def small_embedding(folder):
    config = json.loads((folder / "config.json").read_text())
    tok = tokenizer.load_tokenizer(folder)
    net = model.load_weights(folder)
    net.resize_token_embeddings(len(tok) - 5)
    net.save_pretrained(str(folder))
    assert json.loads((folder / "config.json").read_text())["vocab_size"] == config["vocab_size"] - 5


CASES = {
    "truncated weights": (truncate, "model.safetensors is corrupt or truncated"),
    "weights of another model": (other_keys, "does not fit the model, .* missing keys"),
    "only a pickle": (only_pickle, "only a pickle checkpoint \\(pytorch_model.bin\\)"),
    "a weight of the wrong shape": (wrong_shape, "does not fit the model|size mismatch"),
    "a config of a vision model": (config_of("vit"), "'vit' model, not a causal language model"),
    "a config of another language model": (config_of("bert"), "does not fit the model, .* missing keys"),
    "a config no transformers knows": (config_of("mystery"), "'mystery' model, not a causal"),
    "no config": (lambda f: (f / "config.json").unlink(), "no config.json"),
    "a config that is not JSON": (lambda f: (f / "config.json").write_text("{oops"), "not valid JSON"),
    "no weights at all": (lambda f: (f / "model.safetensors").unlink(), "holds no weights"),
    "a tokenizer bigger than the embedding": (small_embedding, "tokenizer has \\d+ words but the model only"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_broken_model_folder_is_refused_in_one_sentence(good, tmp_path, case):
    change, message = CASES[case]
    folder = broken(good, tmp_path, change)
    with pytest.raises(ValueError, match=message) as error:
        model.load(folder)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("where", ["missing", "empty", "a file"])
def test_a_missing_or_empty_folder_or_a_file_is_refused(tmp_path, where):
    target = tmp_path / "model"
    if where == "empty":
        target.mkdir()
    elif where == "a file":
        target.write_text("hello")
    message = {"missing": "no such folder", "empty": "folder is empty", "a file": "it is a file"}[where]
    with pytest.raises(ValueError, match=message):
        model.load(target)


def test_a_trusted_pickle_loads_and_converts_to_safetensors(good, tmp_path):
    folder = broken(good, tmp_path, only_pickle)
    expected = model.load_weights(good).state_dict()
    loaded = model.load_weights(folder, trust_pickle=True).state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in expected.items())
    assert model.convert(folder).name == "model.safetensors"
    assert torch.equal(model.load(folder)[0].state_dict()["transformer.wte.weight"], expected["transformer.wte.weight"])


def test_the_good_folder_loads(good):
    net, tok = model.load(good)
    assert net.config.vocab_size == len(tok) and not net.training


def test_the_cli_converts_a_trusted_pickle_and_refuses_it_before(good, tmp_path, capsys):
    from jsfakes_utils import cli

    folder = broken(good, tmp_path, only_pickle)
    assert cli.main(["generate", "--model", str(folder), "--n", "1", "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "jsfakes convert" in error
    assert cli.main(["convert", str(folder)]) == 0
    assert (folder / "model.safetensors").is_file()


@pytest.mark.parametrize("member", ["js-fakes-abc/midi/../../evil.mid", "/etc/evil.mid", "link"])
def test_an_unsafe_archive_member_is_refused_before_anything_is_written(tmp_path, member):
    import zipfile

    from jsfakes_utils import data

    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("js-fakes-abc/midi/good.mid", b"MThd")
        if member == "link":
            info = zipfile.ZipInfo("js-fakes-abc/midi/link.mid")
            info.external_attr = 0o120777 << 16  # a symbolic link
            zf.writestr(info, "/etc/passwd")
        else:
            zf.writestr(member, b"evil")
    target = tmp_path / "out"
    with zipfile.ZipFile(archive) as zf, pytest.raises(ValueError, match="is unsafe"):
        data.safe_extract(zf, target, keep=("midi",))
    assert not target.exists() and not (tmp_path / "evil.mid").exists()


def test_a_download_that_does_not_match_leaves_nothing_in_the_cache(tmp_path, cache, local_server):
    from jsfakes_utils import config, data
    from test_data import fake_jsfakes, zip_of

    www, url = local_server
    (www / "js-fakes.zip").write_bytes(zip_of(fake_jsfakes(tmp_path / "jsf")).read_bytes())
    with pytest.raises(ValueError, match="do not match the expected digest"):
        data.github_folder(f"{url}/js-fakes.zip", "0" * 64)
    assert not [p for p in config.cache_dir().iterdir() if p.name.startswith(("js-fakes", "tmp"))]
