"""The command line: --help everywhere, each command end to end on small inputs."""

import subprocess
import sys

import pytest

from jsfakes_utils import cli, config, generate, mmm
from test_mmm import VALID

COMMANDS = ["data", "validate", "decode", "demo", "generate", "harmonize", "regenerate", "refill", "continue", "ngram", "evaluate", "fewshot", "train",
            "convert"]


def test_every_command_and_flag_has_help():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(COMMANDS)
    for name, command in sub.choices.items():
        for action in command._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_module_entry_point_prints_help():
    result = subprocess.run([sys.executable, "-m", "jsfakes_utils", "data", "--help"],
                            capture_output=True, text=True, check=True)
    assert "--data-dir" in result.stdout and "JSFAKES_DATA_DIR" in result.stdout


def test_validate_command(tmp_path, capsys):
    rows = tmp_path / "rows.txt"
    rows.write_text(VALID + "\n" + VALID.replace("NOTE_OFF=60", "NOTE_OFF=61", 1) + "\n")
    assert cli.main(["validate", str(rows)]) == 1
    out = capsys.readouterr().out
    assert "line 2:" in out and "unmatched_note_off" in out and "1 of 2 rows valid" in out


def test_decode_command(tmp_path, capsys):
    rows = tmp_path / "rows.txt"
    rows.write_text(VALID + "\nPIECE_START NOTE_ON=60\n")
    assert cli.main(["decode", str(rows), "--bpm", "100", "--out", str(tmp_path / "o")]) == 0
    assert {p.suffix for p in (tmp_path / "o").iterdir()} == {".txt", ".mid", ".wav", ".png"}
    assert cli.main(["decode", str(rows), "--line", "2", "--out", str(tmp_path / "o")]) == 2
    assert "line 2 cannot be decoded" in capsys.readouterr().err
    assert cli.main(["decode", str(rows), "--line", "3"]) == 2


def test_data_and_demo_commands(tmp_path, cache, monkeypatch, capsys):
    monkeypatch.delenv(config.DATA_DIR_VARIABLE, raising=False)
    out = tmp_path / "build"
    assert cli.main(["data", "--source", "music21", "--limit", "8", "--fixed-order", "--out", str(out)]) == 0
    assert "Bach chorales from music21" in capsys.readouterr().out
    first = (out / "train.txt").read_text().splitlines()[0]
    assert mmm.validate(first).ok and first.split()[4] == "INST=0"
    assert cli.main(["demo", "--limit", "8", "--data-out", str(out), "--out", str(tmp_path / "x")]) == 0
    printed = capsys.readouterr().out
    assert "tokens per row" in printed and "at 90 BPM" in printed
    assert "best: order" in printed and "greedy" in printed and "valid (%)" in printed
    assert (tmp_path / "x" / "excerpt.mid").exists()
    assert "Four chorales from the bundled GPT-2" in printed and printed.count(": valid, new") + \
        printed.count(": valid, partly copied") + printed.count(": valid, copied") == 4
    assert {p.name for p in (tmp_path / "x").glob("piece-*")} >= {f"piece-{k}.{e}" for k in range(1, 5)
                                                                    for e in ("mid", "wav", "png", "txt")}


def test_generate_command(tmp_path, capsys):
    import pretty_midi

    from jsfakes_utils import model

    from test_evaluate import CROSSING, FIFTHS, OCTAVES

    (tmp_path / "train.txt").write_text(f"{FIFTHS}\n{OCTAVES}\n{VALID}\n")
    (tmp_path / "test.txt").write_text(f"{CROSSING}\n")
    out = tmp_path / "out"
    assert cli.main(["generate", "--bpm", "90", "--temperature", "0.9", "--n", "2", "--seed", "1", "--out", str(out),
                     "--data", str(tmp_path), "--instruments", "choir,strings,19,cello", "--musicxml", "--score"]) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted(f"piece-{k}.{e}" for k in (1, 2)
                                                           for e in ("mid", "wav", "png", "txt", "musicxml", "svg"))
    assert (out / "piece-1.svg").read_text().count('class="staff"') == 16  # four staves, four bars
    assert "valid (%)" in printed and "test split" in printed and "bundled, constrained" in printed
    rows = [(out / f"piece-{k}.txt").read_text().strip() for k in (1, 2)]
    assert all(mmm.validate(r).ok for r in rows) and rows[0] != rows[1]
    midi = pretty_midi.PrettyMIDI(str(out / "piece-1.mid"))
    assert midi.get_tempo_changes()[1] == pytest.approx([90], rel=1e-4)
    assert sorted(i.program for i in midi.instruments) == [19, 42, 48, 52]
    # a saved n-gram works too; with no dataset folder the table is just validity
    from jsfakes_utils import ngram

    ngram.train_ngram([FIFTHS, OCTAVES, VALID], 3).save(tmp_path / "lm.npz")
    assert cli.main(["generate", "--model", str(tmp_path / "lm.npz"), "--n", "2", "--out", str(tmp_path / "o2"),
                     "--data", str(tmp_path / "none"), "--sine"]) == 0
    assert "valid: 100%" in capsys.readouterr().out
    assert cli.main(["generate", "--first-note", "20", "--out", str(tmp_path / "o3")]) == 2
    assert "outside the soprano range" in capsys.readouterr().err
    # the style tag: the bundled model knows both; the old small one only JS-Fakes, and says so
    assert cli.main(["generate", "--style", "bach", "--n", "1", "--out", str(tmp_path / "o4"), "--sine"]) == 0
    assert (tmp_path / "o4" / "piece-1.txt").read_text().startswith("PIECE_START STYLE=BACH GENRE=CHORALE")
    capsys.readouterr()
    small = str(model.SMALL)
    assert cli.main(["generate", "--model", small, "--style", "bach", "--out", str(tmp_path / "o5")]) == 2
    assert "not trained on the bach style" in capsys.readouterr().err
    assert cli.main(["generate", "--voice-leading", "3", "--n", "1", "--out", str(tmp_path / "o6"), "--sine"]) == 0
    assert mmm.validate((tmp_path / "o6" / "piece-1.txt").read_text()).ok
    capsys.readouterr()
    with pytest.raises(SystemExit):  # refused by the parser: test_faults walks every such case
        cli.main(["generate", "--voice-leading", "-1", "--out", str(tmp_path / "o7")])
    assert "--voice-leading: '-1' is not a number >= 0" in capsys.readouterr().err


def test_errors_are_one_line(capsys, monkeypatch):
    assert cli.main(["data", "--source", "jsfakes", "--data-dir", "nowhere"]) == 2
    assert capsys.readouterr().err.startswith("error: nowhere is not a JS-Fakes folder")
    with pytest.raises(SystemExit):
        cli.main(["data", "--source", "napster"])


def test_ngram_and_evaluate_commands(tmp_path, capsys):
    from test_evaluate import CROSSING, FIFTHS, OCTAVES

    (tmp_path / "train.txt").write_text(f"{FIFTHS}\n{OCTAVES}\n{VALID}\n")
    (tmp_path / "test.txt").write_text(f"{CROSSING}\n")
    samples, model = tmp_path / "s.txt", tmp_path / "m.npz"
    assert cli.main(["ngram", "--order", "3", "--data", str(tmp_path), "--samples", str(samples),
                     "--n", "3", "--save", str(model)]) == 0
    out = capsys.readouterr().out
    assert "test cross-entropy" in out and model.exists()
    assert len(samples.read_text().splitlines()) == 3
    assert cli.main(["evaluate", str(samples), str(tmp_path / "train.txt"), "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "valid (%)" in out and "test split" in out and out.count("train") >= 1
    (tmp_path / "empty.txt").write_text("\n")
    assert cli.main(["evaluate", str(tmp_path / "empty.txt"), "--data", str(tmp_path)]) == 2
    assert "empty.txt holds no rows" in capsys.readouterr().err


def test_train_command(tmp_path, capsys):
    from jsfakes_utils import model, tokenizer, train

    assert cli.PRESETS == tuple(model.PRESETS) and cli.RECIPES == tuple(train.RECIPES)
    from test_evaluate import CROSSING, FIFTHS, OCTAVES

    rows = [FIFTHS, OCTAVES, VALID]
    (tmp_path / "train.txt").write_text("".join(r + "\n" for r in rows))
    (tmp_path / "test.txt").write_text(CROSSING + "\n")
    tokenizer.save_tokenizer(tokenizer.train_tokenizer(rows + [CROSSING]), tmp_path / "tokenizer")
    assert cli.main(["train", "--preset", "quick", "--data", str(tmp_path), "--out", str(tmp_path / "run"),
                     "--max-steps", "2", "--precision", "fp32"]) == 0
    out = capsys.readouterr().out
    assert "precision: fp32 (asked for)" in out and "2 steps" in out and "eval_loss" in out and (tmp_path / "run" / "model" / "model.safetensors").exists()


def test_generate_defaults_are_the_settings_defaults():
    args = cli.build_parser().parse_args(["generate"])
    d = generate.Settings()
    fields = ("temperature", "top_p", "voice_leading", "best_of", "style", "voice", "seed")
    assert [getattr(args, f) for f in fields] == [getattr(d, f) for f in fields]


def _loss(printed: str) -> float:
    return float(printed.split("test loss (mean over all test tokens) ")[1].split(";")[0])


def test_train_flags_budget_transpose_resume_init(tmp_path, capsys):
    from jsfakes_utils import tokenizer

    from test_evaluate import CROSSING, FIFTHS, OCTAVES

    rows = [FIFTHS, mmm.transpose(FIFTHS, 2), OCTAVES, VALID]  # FIFTHS's voices have room to move by 1 and 2
    (tmp_path / "train.txt").write_text("".join(r + "\n" for r in rows))
    (tmp_path / "test.txt").write_text(CROSSING + "\n")
    every = [mmm.transpose(r, k) for r in rows + [CROSSING] for k in (-1, 0, 1)]
    tokenizer.save_tokenizer(tokenizer.train_tokenizer(every), tmp_path / "tokenizer")
    base = ["train", "--preset", "quick", "--data", str(tmp_path), "--precision", "fp32"]
    run = tmp_path / "run"
    # a budget of 6 ms stops the run after its first step, with a checkpoint to resume from
    assert cli.main(base + ["--out", str(run), "--max-steps", "50", "--max-minutes", "0.0001", "--transpose", "1"]) == 0
    printed = capsys.readouterr().out
    assert "\n1 steps in" in printed and (run / "checkpoint-1").is_dir()
    more = int(printed.split("transposition by up to ±1 semitones: ")[1].split()[0])
    assert more == 2  # FIFTHS up 1, its copy down 1; the others have no room (voices stay in range)
    assert cli.main(base + ["--out", str(run), "--max-steps", "3", "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "\n3 steps in" in printed and (run / "checkpoint-3").is_dir()
    trained = _loss(printed)
    # --init starts from those weights: one step at a tiny learning rate leaves its loss where it was
    assert cli.main(base + ["--out", str(tmp_path / "tuned"), "--init", str(run / "model"), "--max-steps", "1",
                            "--learning-rate", "1e-9"]) == 0
    assert _loss(capsys.readouterr().out) == pytest.approx(trained, abs=1e-4)
    assert cli.main(base + ["--out", str(tmp_path / "fresh"), "--max-steps", "1", "--learning-rate", "1e-9"]) == 0
    assert abs(_loss(capsys.readouterr().out) - trained) > 0.01  # a fresh model is elsewhere


def test_generate_ngram_and_decode_flags(tmp_path, capsys):
    from test_evaluate import CROSSING, FIFTHS, OCTAVES

    (tmp_path / "train.txt").write_text(f"{FIFTHS}\n{OCTAVES}\n{VALID}\n")
    (tmp_path / "test.txt").write_text(f"{CROSSING}\n")

    def pieces(*flags):
        out = tmp_path / f"g{len(list(tmp_path.iterdir()))}"
        assert cli.main(["generate", "--n", "2", "--seed", "5", "--sine", "--data", str(tmp_path), "--out", str(out),
                         *flags]) == 0
        return [(out / f"piece-{k}.txt").read_text().strip() for k in (1, 2)], capsys.readouterr().out

    default, printed = pieces()
    assert "bundled, constrained" in printed and all(mmm.validate(r).ok for r in default)
    bass, _ = pieces("--voice", "bass")
    assert all(r.split()[4] == "INST=32" for r in bass) and all(r.split()[4] == "INST=0" for r in default)
    narrow, _ = pieces("--top-p", "0.3")
    assert narrow != default and all(mmm.validate(r).ok for r in narrow)
    free, printed = pieces("--free", "--voice-leading", "0")
    assert free != default and "bundled, constrained" not in printed and "bundled" in printed
    # the n-gram's sampling flags: temperature 0 is greedy, top-k 1 the same
    samples = {}
    for flags in (["--temperature", "0"], ["--top-k", "1"], []):
        file = tmp_path / f"s{len(samples)}.txt"
        assert cli.main(["ngram", "--order", "3", "--data", str(tmp_path), "--samples", str(file), "--n", "4", *flags]) == 0
        samples[" ".join(flags)] = file.read_text().splitlines()
    assert len(set(samples["--temperature 0"])) == 1 and samples["--top-k 1"] == samples["--temperature 0"]
    assert len(set(samples[""])) > 1
    # decode --repair: a row strict decoding refuses is repaired, with a warning
    broken = tmp_path / "broken.txt"
    broken.write_text(VALID.replace(" NOTE_OFF=60", "", 1) + "\n")
    assert cli.main(["decode", str(broken), "--out", str(tmp_path / "d1")]) == 2
    assert "--repair repairs it" in capsys.readouterr().err
    assert cli.main(["decode", str(broken), "--repair", "--out", str(tmp_path / "d2")]) == 0
    assert {p.suffix for p in (tmp_path / "d2").iterdir()} == {".txt", ".mid", ".wav", ".png"}
