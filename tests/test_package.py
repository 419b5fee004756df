"""The pip install is complete: a wheel built from the repository carries the JS-Fakes chorales and the
bundled models, and works from a folder that knows nothing of the checkout."""

import collections
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_wheel_carries_data_and_models_and_works_outside_the_checkout(tmp_path):
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "jsfakes_utils", source / "jsfakes_utils", ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run(pip[:4] + ["wheel", *pip[4:], "--no-deps", "--no-index", "--no-build-isolation",
                              "-w", str(tmp_path / "wheels"), str(source)], check=True)
    (wheel,) = (tmp_path / "wheels").glob("jsfakes_utils-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    folders = collections.Counter(n.rsplit("/", 1)[0] for n in names)
    assert folders["jsfakes_utils/js-fakes/midi"] == 500 and folders["jsfakes_utils/js-fakes/jsf-extended"] == 700
    assert {"jsfakes_utils/js-fakes/LICENSE", "jsfakes_utils/js-fakes/README.md",
            "jsfakes_utils/js-fakes/metadata/js-fakes-dataset.json",
            "jsfakes_utils/models/jsfakes-gpt2/model.safetensors", "jsfakes_utils/models/jsfakes-gpt2/tokenizer.json",
            "jsfakes_utils/models/jsfakes-small/model.safetensors"} <= set(names)

    site = tmp_path / "site"
    subprocess.run(pip[:4] + ["install", *pip[4:], "--no-deps", "--no-index", "--target", str(site), str(wheel)],
                   check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "JSFAKES_DATA_DIR"} | {"PYTHONPATH": str(site)}

    def run(*args):
        return subprocess.run(args, cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout

    where = run(sys.executable, "-c", "from jsfakes_utils import config, model; print(model.BUNDLED, config.JSFAKES)")
    assert all(Path(p).is_relative_to(site) for p in where.split())  # the installed copy, not the checkout
    run(str(site / "bin" / "jsfakes"), "generate", "--n", "1", "--sine", "--out", "pieces")
    from jsfakes_utils import mmm

    assert mmm.validate((elsewhere / "pieces" / "piece-1.txt").read_text()).ok
    assert "train 4,016 rows, test 463 rows" in run(str(site / "bin" / "jsfakes"), "data", "--out", "build")


# What the code needs of a dependency, and the first version that has it: the floors in pyproject.toml
# must be at least these (a floor lowered below one fails here; a new need joins this table).
NEEDS = {
    "transformers": ("5.2", "TrainingArguments(train_sampling_strategy=...)", "train.training_arguments"),
    "pretty_midi": ("0.2.11", "PrettyMIDI.fluidsynth(synthesizer=...)", "audio._fluidsynth"),
    "verovio": ("4.0", "the xmlIdSeed and svgViewBox options", "score.PAGE"),
}


def test_the_declared_floors_are_what_the_code_needs():
    import inspect
    import tomllib

    import pretty_midi
    from packaging.requirements import Requirement
    from packaging.version import Version
    from transformers import TrainingArguments

    declared = {(r := Requirement(d)).name: r.specifier for d in
                tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    for name, (version, feature, where) in NEEDS.items():
        floors = [Version(s.version) for s in declared[name] if s.operator == ">="]
        assert floors and floors[0] >= Version(version), f"{name} needs >= {version} for {feature} ({where})"
    # and the features are the ones the code calls, present in the installed versions
    assert "train_sampling_strategy" in inspect.signature(TrainingArguments).parameters
    assert "synthesizer" in inspect.signature(pretty_midi.PrettyMIDI.fluidsynth).parameters
    from jsfakes_utils import score

    assert {"xmlIdSeed", "svgViewBox"} <= set(score.PAGE)
