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


def test_no_test_can_reach_the_network():
    import socket
    import urllib.request

    with pytest.raises(OSError, match="must not reach the network"):
        socket.create_connection(("93.184.215.14", 80), timeout=1)
    with pytest.raises(OSError, match="must not reach the network"):
        urllib.request.urlopen("http://1.1.1.1/", timeout=1)


# ----------------------------------------------------------------------------------------------
# The command line: bad input is one line on stderr and a non-zero exit, for every subcommand
# ----------------------------------------------------------------------------------------------

def _files(folder):
    """A missing, an empty, a binary and an invalid-rows file, and a dataset folder with none."""
    folder.mkdir(exist_ok=True)
    (folder / "empty.txt").write_text("\n\n")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    (folder / "invalid.txt").write_text("PIECE_START TRACK_START oops\n")
    datasets = {}
    for kind in ("empty", "binary", "invalid"):  # dataset folders whose train.txt is such a file
        (folder / f"{kind}data").mkdir(exist_ok=True)
        (folder / f"{kind}data" / "train.txt").write_bytes((folder / f"{kind}.txt").read_bytes())
        (folder / f"{kind}data" / "test.txt").write_text(VALID + "\n")
        datasets[f"{kind}data"] = str(folder / f"{kind}data")
    (folder / "valid.txt").write_text(VALID + "\n")
    (folder / "binary.mid").write_bytes(b"MThd\0\0\0\6garbage")
    return {"missing": str(folder / "missing.txt"), "empty": str(folder / "empty.txt"),
            "valid": str(folder / "valid.txt"), "binarymidi": str(folder / "binary.mid"),
            "binary": str(folder / "binary.txt"), "invalid": str(folder / "invalid.txt"),
            "nodata": str(folder / "nodata"), **datasets}


CLI_CASES = {
    # subcommand: [(arguments, a word the one line must hold)]
    "validate": [(["{missing}"], "no such file"), (["{empty}"], "holds no rows"), (["{binary}"], "binary file"),
                 (["{invalid}", "--bars", "0"], "whole number >= 1")],
    "decode": [(["{missing}"], "no such file"), (["{binary}"], "binary file"), (["{empty}"], "holds no rows"), (["{invalid}"], "line 1 cannot be decoded: unknown token 'oops'"),
               (["{invalid}", "--bpm", "0"], "positive number"), (["{invalid}", "--line", "-2"], "whole number")],
    "generate": [(["--n", "-1"], "whole number >= 1"), (["--bpm", "0"], "positive number"),
                 (["--temperature", "-1"], "number >= 0"), (["--top-p", "1.5"], "(0, 1]"),
                 (["--best-of", "0"], "whole number >= 1"), (["--voice-leading", "nan"], "number >= 0"),
                 (["--first-note", "20", "--voice", "soprano"], "first note"),
                 (["--model", "{missing}"], "no such folder"), (["--seed", "x"], "whole number"),
                 (["--data", "{emptydata}"], "holds no rows"), (["--data", "{binarydata}"], "binary file"),
                 (["--data", "{invaliddata}"], "no valid rows")],
    "harmonize": [(["c''4 x"], "cannot read 'x'"), (["c''4 d''"], "not whole 4/4 bars"),
                  (["c''1 d'' e'' f''", "--free"], "needs constrained decoding"), (["c,1 c''' c c", "--voice", "bass"], "wider than"),
                  (["{empty}"], "no notes"), (["{binary}"], "binary file, not a melody"), (["c''1 d'' e'' f''", "--n", "0"], "whole number >= 1")],
    "regenerate": [(["{missing}", "--voice", "alto"], "no such file"), (["{empty}", "--voice", "alto"], "holds no rows"),
                   (["{binary}", "--voice", "alto"], "binary file"), (["{invalid}", "--voice", "alto"], "not a valid piece"),
                   (["{invalid}", "--voice", "piccolo"], "not voices"), (["{invalid}"], "required"),
                   (["{invalid}", "--voice", "alto", "--line", "0"], "whole number >= 1")],
    "refill": [(["{missing}", "--bars", "3"], "no such file"), (["{binary}", "--bars", "3"], "binary file"),
               (["{invalid}", "--bars", "3"], "not a valid piece"), (["{invalid}", "--bars", "0"], "bar numbers"),
               (["{invalid}", "--bars", "x"], "bar numbers"), (["{valid}", "--bars", "5"], "within 1-4"),
               (["{valid}", "--bars", "2", "--voices", "alto,x"], "not voices"),
               (["{valid}", "--bars", "2", "--n", "0"], "whole number >= 1")],
    "continue": [(["{missing}", "--bars", "8"], "no such file"), (["{empty}", "--bars", "8"], "holds no rows"),
                 (["{invalid}", "--bars", "8"], "not a valid piece"), (["{valid}", "--bars", "3"], "more than that"),
                 (["{valid}", "--bars", "-8"], "whole number >= 1"), (["{valid}", "--bars", "8", "--free"], "constrained"),
                 (["{valid}", "--bars", "8", "--line", "2"], "choose a line from 1 to 1"),
                 (["{binarymidi}", "--bars", "8"], "not a readable MIDI file")],
    "ngram": [(["--data", "{nodata}"], "no such file"), (["--order", "99"], "order 1.."),
              (["--data", "{emptydata}"], "holds no rows"), (["--data", "{binarydata}"], "binary file"),
              (["--data", "{invaliddata}"], "no valid rows"),
              (["--temperature", "-1"], "number >= 0"), (["--top-k", "0"], "whole number >= 1")],
    "evaluate": [(["{missing}"], "no such file"), (["{binary}"], "binary file"), (["{empty}"], "holds no rows"),
                 (["{invalid}", "--data", "{nodata}"], "no such file"), (["{invalid}", "--data", "{binarydata}"], "binary file"),
                 (["{invalid}", "--data", "{invaliddata}"], "no valid rows")],
    "fewshot": [(["--model", "{missing}"], "no such"), (["--model", "x", "--data", "{binarydata}"], "binary file"),
                (["--model", "x", "--data", "{emptydata}"], "holds no rows"), (["--model", "x", "--k", "-1"], "whole number >= 0"),
                (["--model", "x", "--max-new-tokens", "0"], "whole number >= 1")],
    "train": [(["--data", "{nodata}"], "no such file"), (["--epochs", "0"], "positive number"),
              (["--data", "{emptydata}"], "holds no rows"), (["--data", "{binarydata}"], "binary file"),
              (["--data", "{invaliddata}"], "no valid rows"),
              (["--learning-rate", "-1"], "positive number"), (["--oversample", "bach"], "STYLE=K"),
              (["--max-minutes", "-5"], "positive number"), (["--init", "{missing}", "--data", "{nodata}"], "no such")],
    "convert": [(["{missing}"], "no such folder"), (["{empty}"], "it is a file")],
    "data": [(["--source", "jsfakes", "--data-dir", "{nodata}"], "nodata"), (["--limit", "0"], "whole number >= 1")],
    "demo": [(["--bpm", "-90"], "positive number"), (["--n", "0"], "whole number >= 1")],
}


def test_every_subcommand_is_in_the_bad_input_table():
    from jsfakes_utils import cli

    commands = cli.build_parser()._subparsers._group_actions[0].choices
    assert set(commands) == set(CLI_CASES)


@pytest.mark.parametrize("command,args,words", [(c, a, w) for c, cases in CLI_CASES.items() for a, w in cases],
                         ids=[f"{c} {' '.join(a)}" for c, cases in CLI_CASES.items() for a, _ in cases])
def test_bad_input_is_one_line_on_stderr(tmp_path, capsys, monkeypatch, command, args, words):
    from jsfakes_utils import cli

    monkeypatch.chdir(tmp_path)  # no dataset folder here: nothing but the given files
    files = _files(tmp_path / "files")
    argv = [command] + [a.format(**files) for a in args]
    try:
        code = cli.main(argv)
    except SystemExit as exit:  # argparse
        code = exit.code
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if not line.startswith("warning: ")]
    assert code not in (0, None) and len(errors) == 1, err
    assert errors[0].startswith("error: ") and words in errors[0] and "Traceback" not in err


def test_a_bad_row_in_the_middle_is_left_out_and_named_by_its_line(tmp_path, capsys):
    from jsfakes_utils import cli
    from test_evaluate import CROSSING, FIFTHS, OCTAVES

    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.txt").write_text("\n".join([FIFTHS, OCTAVES, "PIECE_START TRACK_START oops", VALID]) + "\n")
    (folder / "test.txt").write_text(CROSSING + "\n")
    assert cli.main(["ngram", "--data", str(folder), "--order", "3", "--n", "1"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning: ") == 1 and "train.txt line 3 is not a valid piece" in err
