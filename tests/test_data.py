"""The dataset: the published counts rebuilt from MIDI, round trips, every source, the download path."""

import collections
import zipfile
from pathlib import Path

import note_seq
import pytest

from conftest import make_sequence
from jsfakes_utils import config, data, download, mmm, tokenizer


def test_published_counts(jsfakes_rows):
    assert (len(jsfakes_rows.train), len(jsfakes_rows.test)) == (4016, 463)
    assert not jsfakes_rows.skipped
    test_files = {r["source_file"] for r in jsfakes_rows.test}
    assert len(test_files) == 50 and "midi/54.mid" in test_files and "midi/99.mid" in test_files
    assert not test_files & {r["source_file"] for r in jsfakes_rows.train}


def test_every_row_is_valid_and_round_trips(jsfakes_rows):
    for row in jsfakes_rows.train + jsfakes_rows.test:
        assert mmm.validate(row["text"]).ok, row
        assert mmm.encode(mmm.decode(row["text"])) == [row["text"]], row


def test_rows_match_the_published_format(jsfakes_dir, jsfakes_rows):
    rows = [r["text"] for r in jsfakes_rows.train + jsfakes_rows.test]
    lengths = [len(r.split()) for r in rows]
    assert (min(lengths), max(lengths)) == (96, 333)
    assert len({w for r in rows for w in r.split()}) == 114
    # Track order is shuffled per row with a fixed seed: varied, and the same on every build.
    orders = collections.Counter(tuple(w for w in r.split() if w.startswith("INST=")) for r in rows)
    assert len(orders) == 24
    assert data.jsfakes_rows(jsfakes_dir).test == jsfakes_rows.test
    assert data.jsfakes_rows(jsfakes_dir, seed=1).test != jsfakes_rows.test


def test_decoded_windows_give_back_the_midi_notes(jsfakes_dir):
    for path in sorted((jsfakes_dir / "midi").glob("*.mid")):
        sequence = note_seq.midi_file_to_note_sequence(str(path))
        originals = set()  # (voice, start, end, pitch) in steps, cut at barlines as the format does
        for n in sequence.notes:
            start, end = round(n.start_time * 8), round(n.end_time * 8)
            cuts = [start] + list(range((start // 16 + 1) * 16, end, 16)) + [end]
            originals |= {(n.instrument, a, b, n.pitch) for a, b in zip(cuts, cuts[1:])}
        recovered = set()
        for bar, row in enumerate(mmm.encode(sequence)):
            for n in mmm.decode(row).notes:
                recovered.add((n.instrument, round(n.start_time * 8) + 16 * bar,
                               round(n.end_time * 8) + 16 * bar, n.pitch))
        assert recovered == originals, path.name


def test_fixed_order_keeps_satb(jsfakes_dir):
    rows = data.jsfakes_rows(jsfakes_dir, shuffle=False)
    insts = {tuple(w for w in r["text"].split() if w.startswith("INST=")) for r in rows.test}
    assert insts == {("INST=0", "INST=48", "INST=24", "INST=32")}


def test_extended_adds_training_rows_only(jsfakes_dir, jsfakes_rows):
    extended = data.jsfakes_rows(jsfakes_dir, extended=True)
    assert extended.test == jsfakes_rows.test
    assert len(extended.train) > len(jsfakes_rows.train) + 5000
    assert extended.train[:len(jsfakes_rows.train)] == jsfakes_rows.train
    assert "700 jsf-extended" in extended.summary()


def fake_jsfakes(folder, n=10, corrupt=()):
    """A small JS-Fakes-like folder with MIDI files built in code."""
    (folder / "midi").mkdir(parents=True)
    for i in range(n):
        voices = {v: [(s, s + 4, 60 + i + 5 * (3 - v)) for s in range(0, 16 * 5, 4)] for v in range(4)}
        note_seq.sequence_proto_to_midi_file(make_sequence(voices), str(folder / "midi" / f"{i}.mid"))
    for name in corrupt:
        (folder / "midi" / name).write_bytes(b"MThd not really a MIDI file")
    return folder


def test_split_by_file_name_as_strings(tmp_path):
    rows = data.jsfakes_rows(fake_jsfakes(tmp_path / "jsf", n=10))
    assert {r["source_file"] for r in rows.test} == {"midi/9.mid"}  # 0,1,...,8,9: the last tenth
    # Sorted as strings, "10.mid".."19.mid" come before "2.mid": the last two of 20 are 8 and 9.
    assert data.split_files([f"{i}.mid" for i in range(20)])[1] == ["8.mid", "9.mid"]


def test_corrupt_midi_is_counted_not_lost(tmp_path):
    rows = data.jsfakes_rows(fake_jsfakes(tmp_path / "jsf", n=9, corrupt=["bad.mid"]))
    assert rows.skipped == {"unreadable MIDI": 1}
    assert "skipped 1 piece(s): unreadable MIDI (1)" in rows.summary()
    with pytest.raises(ValueError, match="bad.mid: not a readable MIDI"):
        data.read_midi(tmp_path / "jsf" / "midi" / "bad.mid")


def test_missing_folder_gives_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="no midi/"):
        data.load_rows("jsfakes", tmp_path)
    monkeypatch.setenv(config.DATA_DIR_VARIABLE, str(tmp_path))  # the variable overrides the shipped folder
    with pytest.raises(FileNotFoundError, match="no midi/"):
        data.load_rows("auto")
    with pytest.raises(ValueError, match="unknown source"):
        data.load_rows("napster")


def test_dataset_dict_columns(tmp_path, capsys):
    dataset = data.build_dataset("jsfakes", fake_jsfakes(tmp_path / "jsf"))
    assert set(dataset) == {"train", "test"}
    assert dataset["train"].column_names == ["text", "source_file", "start_bar"]
    assert dataset["test"][0]["start_bar"] == 0 and len(dataset["test"]) == 2
    assert "train 18 rows, test 2 rows" in capsys.readouterr().out


def test_music21_bach_chorales(cache):
    rows = data.music21_rows(limit=12)
    assert rows.skipped["meter 3/4"] >= 1  # bwv269, the first chorale, is in 3/4
    assert sum(rows.skipped.values()) + len({r["source_file"] for r in rows.train + rows.test}) == 12
    assert rows.test and rows.train
    for row in rows.train + rows.test:
        assert row["text"].startswith("PIECE_START STYLE=BACH GENRE=CHORALE TRACK_START")
        assert mmm.validate(row["text"]).ok
    assert data.music21_rows(limit=12) == rows  # second time from the cache
    assert list(cache.glob("music21-*.json"))


def test_a_clean_checkout_builds_js_fakes_4bars_from_the_shipped_files(tmp_path, monkeypatch):
    """No folder beside it, no variable, no network: the package's own JS-Fakes, exactly as published."""
    monkeypatch.delenv(config.DATA_DIR_VARIABLE, raising=False)
    assert config.jsfakes_dir() == config.JSFAKES and config.JSFAKES.is_relative_to(Path(data.__file__).parent)
    assert {p.name for p in config.JSFAKES.iterdir()} >= {"midi", "jsf-extended", "metadata", "LICENSE", "README.md"}
    assert "Attribution 4.0" in (config.JSFAKES / "LICENSE").read_text()
    rows = data.write(data.load_rows("auto"), tmp_path / "build")
    assert (len(data.read_split(rows, "train")), len(data.read_split(rows, "test"))) == (4016, 463)
    assert len(tokenizer.load_tokenizer(rows / "tokenizer")) == 119
    assert len(data.metadata()) == 500


def zip_of(folder, top="js-fakes-abc"):
    archive = folder.parent / "js-fakes.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*.mid")):
            zf.write(path, f"{top}/{path.relative_to(folder).as_posix()}")
        zf.writestr(f"{top}/README.md", "not extracted")
    return archive


def test_github_download_is_cached_and_checked(tmp_path, cache, local_server):
    www, url = local_server
    source = fake_jsfakes(tmp_path / "jsf")
    (www / "js-fakes.zip").write_bytes(zip_of(source).read_bytes())
    digest = data.folder_digest(source)
    folder = data.github_folder(f"{url}/js-fakes.zip", digest)
    assert data.folder_digest(folder) == digest and not (folder / "README.md").exists()
    (www / "js-fakes.zip").unlink()  # the second time comes from the cache
    assert data.github_folder(f"{url}/js-fakes.zip", digest) == folder
    with pytest.raises(ValueError, match="do not match the expected digest"):
        data.github_folder(f"{url}/js-fakes.zip", "0" * 64)


def test_hub_download_validates_rows(tmp_path, fake_hub, jsfakes_rows, monkeypatch):
    import huggingface_hub.constants as hub

    folder = tmp_path / "published"
    folder.mkdir()
    for split in ("train", "test"):
        (folder / f"{split}.txt").write_text("".join(r["text"] + "\n" for r in getattr(jsfakes_rows, split)[:20]))
    fake_hub["someone/rows"] = folder
    rows = data.hub_rows("someone/rows")
    assert [r["text"] for r in rows.test] == [r["text"] for r in jsfakes_rows.test[:20]]
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)  # the second time comes from the hub cache
    assert [r["text"] for r in data.hub_rows("someone/rows").train] == [r["text"] for r in jsfakes_rows.train[:20]]
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", False)
    (folder / "test.txt").write_text("PIECE_START NOTE_ON=60\n")
    fake_hub["someone/bad-rows"] = folder
    with pytest.raises(ValueError, match="test.txt line 1 is not a valid row"):
        data.hub_rows("someone/bad-rows")
    with pytest.raises(OSError, match="could not fetch train.txt of the hub dataset someone/nothing"):
        data.hub_rows("someone/nothing")


def test_fetch_checksums(tmp_path, cache, local_server):
    www, url = local_server
    (www / "a.txt").write_text("hello")
    path = download.fetch(f"{url}/a.txt")
    assert path.read_text() == "hello"
    assert path.with_name(path.name + ".sha256").read_text().strip() == download.sha256_of(path)
    path.write_text("damaged")  # a damaged cache is noticed and fetched again
    assert download.fetch(f"{url}/a.txt").read_text() == "hello"
    with pytest.raises(ValueError, match="checksum"):
        download.fetch(f"{url}/a.txt", sha256="0" * 64, cache=tmp_path / "other")
    with pytest.raises(OSError, match="could not download"):
        download.fetch(f"{url}/missing.txt")


def test_write_files_and_tokenizer(tmp_path, jsfakes_rows):
    out = data.write(jsfakes_rows, tmp_path / "out")
    assert data.read_split(out, "test") == [r["text"] for r in jsfakes_rows.test]
    assert len(data.read_split(out, "train")) == 4016
    assert (out / "tokenizer" / "tokenizer.json").exists()


def test_metadata(jsfakes_dir):
    meta = data.metadata(jsfakes_dir)
    assert len(meta) == 500 and meta["midi/0.mid"]["total"]["responses"] == 12


def test_transpositions_keep_voices_in_range_and_words_known():
    from test_evaluate import chorale, held

    low = chorale(held(67), held(60), held(55), held(48))
    high = chorale(held(69), held(62), held(57), held(50))
    moved = data.transpositions([low, high], up_to=2)
    # each voice's range is 2 semitones wide: low moves up 1 and 2, high down 1 and 2
    assert sorted(moved) == sorted([mmm.transpose(low, 1), mmm.transpose(low, 2),
                                    mmm.transpose(high, -1), mmm.transpose(high, -2)])
    assert all(mmm.validate(r).ok for r in moved)
    vocab = set(low.split()) | set(high.split())
    assert data.transpositions([low, high], up_to=2, vocab=vocab) == [mmm.transpose(low, 2), mmm.transpose(high, -2)]
    with pytest.raises(ValueError, match="MIDI range"):
        mmm.transpose(low, 100)


def test_mix_trains_on_more_data_and_tests_on_the_published_rows_only(jsfakes_dir, jsfakes_rows, cache, tmp_path):
    mix = data.load_rows("mix", jsfakes_dir, limit=40)
    assert mix.test == jsfakes_rows.test  # always the 463 published test rows
    assert mix.train[:len(jsfakes_rows.train)] == jsfakes_rows.train
    styles = collections.Counter(tuple(r["text"].split()[1:3]) for r in mix.train)
    assert set(styles) == {("STYLE=JSFAKES", "GENRE=JSFAKES"), ("STYLE=BACH", "GENRE=CHORALE")}
    assert styles["STYLE=BACH", "GENRE=CHORALE"] > 100
    # no test piece is in training, nor any of its 4-bar windows, in any track order or transposition
    assert not {r["source_file"] for r in mix.test} & {r["source_file"] for r in mix.train}
    test_music = {data.music_key(r["text"]) for r in mix.test}
    shared = {data.music_key(r["text"]) for r in mix.train} & test_music
    # ... except what the published split itself shares: a 4-bar window of a train chorale that is
    # also in a test chorale (or a transposition of it); the rows the mix adds share none
    published = {data.music_key(r["text"]) for r in jsfakes_rows.train} & test_music
    assert shared == published and len(published) <= 10
    assert data.music_key(mmm.transpose(mix.test[0]["text"], 2)) == data.music_key(mix.test[0]["text"])
    assert data.music_key(mmm.sort_tracks(mix.test[0]["text"])) == data.music_key(mix.test[0]["text"])
    # the tokenizer keeps the 119 js-fakes-4bars ids and adds the two Bach tags
    out = data.write(mix, tmp_path / "mix")
    published = data.write(jsfakes_rows, tmp_path / "fakes")
    mixed, fakes = (tokenizer.load_tokenizer(f / "tokenizer").get_vocab() for f in (out, published))
    assert len(fakes) == 119 and len(mixed) == 121
    assert {w: mixed[w] for w in fakes} == fakes and {mixed["STYLE=BACH"], mixed["GENRE=CHORALE"]} == {119, 120}
