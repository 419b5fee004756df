"""Composing: a template keeps cells note for note, the model writes the rest, window by window.

Every operation (harmonize, regenerate, refill, continue) is checked to keep what it must keep,
in Python and on the command line, with the bundled GPT-2 and with an n-gram.
"""

import pytest

from jsfakes_utils import compose, generate, melody, mmm, ngram, studio
from test_evaluate import CROSSING, FIFTHS, OCTAVES
from test_mmm import VALID

TUNE = "d''4 d'' d'' a' b' c'' b' a' g' fis' e' d' g' a' b'2"


@pytest.fixture(scope="module")
def row(jsfakes_rows):
    """A real 4-bar chorale excerpt of the test split, its tracks in a shuffled order as published."""
    return jsfakes_rows.test[0]["text"]


@pytest.fixture(scope="module")
def lm():
    return ngram.train_ngram([FIFTHS, OCTAVES, CROSSING, VALID], 3)


def _all(bars, voices=range(4)):
    return [(v, b) for v in voices for b in bars]


def test_cells_and_join_give_the_row_back(row):
    grid = mmm.cells(row)
    assert list(grid) == [mmm.JSFAKES_INSTS.index(int(t[1][5:])) for t in mmm.split_tracks(row)[1]]
    assert all(len(bars) == 4 and bars[0][0] == "BAR_START" and bars[0][-1] == "BAR_END" for bars in grid.values())
    assert mmm.join(grid) == row
    long = mmm.join({v: bars + bars for v, bars in grid.items()})  # stitched windows: one 8-bar piece
    assert mmm.validate(long, bars=8).ok and not mmm.validate(long).ok
    with pytest.raises(ValueError, match="not a valid piece"):
        mmm.cells(row.replace("BAR_END", "", 1))


def test_a_template_puts_wholly_kept_tracks_first_and_prompts_up_to_the_first_free_cell(row):
    grid = mmm.cells(row)
    order = list(grid)
    redo = generate.Template.of(grid, _all(range(4), [1]))  # the alto rewritten
    assert redo.order == tuple([v for v in order if v != 1] + [1]) and not redo.free_first()
    kept = mmm.words(mmm.join({v: grid[v] for v in redo.order[:3]}))
    assert redo.prompt() == kept[:-1]  # the three kept tracks; which free track comes next is the model's choice
    bar3 = generate.Template.of(grid, _all([2]))  # bar 3 of every voice: kept cells come after it
    assert bar3.order == tuple(order) and bar3.free_first()
    first = order[0]
    assert bar3.prompt()[-len(grid[first][1]):] == grid[first][1]  # the first track's bars 1-2, then the pen
    with pytest.raises(ValueError, match="4 voices"):
        generate.Template(bar3.cells[:3])
    with pytest.raises(ValueError, match="wholly free tracks come last"):
        generate.Template(redo.cells, (1, 0, 2, 3))
    with pytest.raises(ValueError, match="not BAR_START"):
        generate.Template((bar3.cells[0][:3] + (("NOTE_ON=60",),),) + bar3.cells[1:])


def test_windows_start_two_bars_before_what_is_left_to_write():
    assert compose.windows(4, _all([2])) == [(0, 4)]
    assert compose.windows(8, _all(range(4, 8))) == [(2, 6), (4, 8)]  # continue 4 -> 8
    assert compose.windows(9, _all(range(4, 9))) == [(2, 6), (4, 8), (5, 9)]  # the odd last bar: three kept
    assert compose.windows(8, _all(range(8), [1, 2, 3])) == [(0, 4), (2, 6), (4, 8)]  # an 8-bar melody
    assert compose.windows(8, _all([0, 7])) == [(0, 4), (4, 8)]
    assert compose.windows(2, _all([1])) == [(0, 2)]  # a short piece: one short window


@pytest.mark.parametrize("op", ["regenerate", "refill", "refill some voices", "extend"])
def test_every_operation_keeps_its_music_note_for_note_with_the_bundled_model(row, op):
    net, tok = studio.bundled()
    settings = generate.Settings(n=2, seed=3)
    if op == "regenerate":
        rows, free = compose.regenerate(row, ["alto", "bass"], net, tok, settings), _all(range(4), [1, 3])
    elif op == "refill":
        rows, free = compose.refill(row, [3], None, net, tok, settings), _all([2])
    elif op == "refill some voices":
        rows, free = compose.refill(row, [2, 3], ["tenor"], net, tok, settings), _all([1, 2], [2])
    else:
        rows, free = compose.extend(row, 7, net, tok, settings), _all(range(4, 7))
    bars = 7 if op == "extend" else 4
    grid = mmm.cells(row)
    for new in rows:
        assert mmm.validate(new, bars=bars).ok, mmm.validate(new, bars=bars)
        cells = mmm.cells(new)
        order = list(generate.Template.of(grid, free).order)  # kept tracks first, as the model wrote them
        assert list(cells)[:2] == order[:2] if op == "regenerate" else list(cells) == list(grid)  # 2 kept
        assert all(cells[v][b] == grid[v][b] for v in grid for b in range(4) if (v, b) not in free)
    assert rows[0] != rows[1]  # two pieces, two seeds' worth of music
    if op != "extend":
        assert any(mmm.cells(r)[v][b] != grid[v][b] for r in rows for v, b in free)  # it did write


def test_a_long_melody_is_harmonised_window_by_window(lm):
    tune = melody.parse("g'2 a'2 | g'1 | a'2 g'2 | g'1 | " * 2 + "g'1")  # 9 bars
    rows = compose.harmonize(tune, "soprano", lm, None, generate.Settings(n=2, seed=1))
    for new in rows:
        assert mmm.validate(new, bars=9).ok and mmm.voice_steps(new)[0] == list(tune.notes)
        assert list(mmm.cells(new))[0] == 0  # the melody's track first


def test_the_voice_leading_helper_hears_kept_notes_that_come_later(row):
    grid = mmm.cells(row)
    template = generate.Template.of(grid, _all([2]))
    vocab = list(studio.bundled()[1].convert_ids_to_tokens(range(len(studio.bundled()[1]))))
    heard = generate.VoiceLeading(vocab, template.prompt(), 1, 6.0, known=template.grid()).rows[0]
    pitch, _ = template.grid()
    assert (heard.pitch == pitch).all() and heard.others()  # the alto's bar 4 is known while its bar 3 is written
    assert (pitch[:, 32:48] == -1).all() and (pitch[:, 48:] >= 0).any()


def test_kept_words_the_model_does_not_know_and_a_piece_too_long_are_refused(lm, row):
    grid = mmm.cells(row)
    with pytest.raises(ValueError, match="does not know"):  # the tiny n-gram knows only a few pitches
        generate.sample(lm, None, 1, template=generate.Template.of(grid, _all([2])))
    net, tok = studio.bundled()
    with pytest.raises(ValueError, match="no valid piece fits"):
        generate.sample(net, tok, 1, template=generate.Template.of(grid, _all([2])), max_new_tokens=20)
    with pytest.raises(ValueError, match="nothing to write"):
        compose.fill(grid, [], net, tok)
    with pytest.raises(ValueError, match="needs constrained decoding"):
        generate.sample(net, tok, 1, template=generate.Template.of(grid, _all([2])), constrained=False)
    with pytest.raises(ValueError, match="within 1-4"):
        compose.refill(row, [5], model=net, tokenizer=tok)
    with pytest.raises(ValueError, match="more than that"):
        compose.extend(row, 4, net, tok)


def test_read_piece_takes_a_row_a_token_file_or_a_midi_file(tmp_path, row):
    from jsfakes_utils import audio

    (tmp_path / "rows.txt").write_text(VALID + "\n" + row + "\n")
    assert compose.read_piece(tmp_path / "rows.txt", 2) == row and compose.read_piece(row) == row
    midi = audio.write_midi(mmm.decode(row, bpm=90), tmp_path / "piece.mid")
    back = mmm.cells(compose.read_piece(midi))
    assert all(back[v] == cells for v, cells in mmm.cells(row).items())  # note for note, at any tempo
    with pytest.raises(ValueError, match="choose a line from 1 to 2"):
        compose.read_piece(tmp_path / "rows.txt", 3)
    three = " ".join(mmm.words(VALID)[:3] + [w for t in mmm.split_tracks(VALID)[1][:3] for w in t] + ["PIECE_END"])
    with pytest.raises(ValueError, match="the piece is not a valid piece: 3 track.s., expected 4"):
        compose.read_piece(three)
    (tmp_path / "broken.mid").write_bytes(b"MThd\0\0")
    with pytest.raises(ValueError, match="not a readable MIDI file"):
        compose.read_piece(tmp_path / "broken.mid")


@pytest.mark.parametrize("command, args, free", [
    ("regenerate", ["--voice", "alto"], _all(range(4), [1])),
    ("refill", ["--bars", "2,3", "--voices", "alto,tenor"], _all([1, 2], [1, 2])),
    ("continue", ["--bars", "6"], _all([4, 5])),
])
def test_each_composing_command_keeps_the_music_and_writes_every_file(tmp_path, capsys, row, command, args, free):
    from jsfakes_utils import cli

    (tmp_path / "piece.txt").write_text(row + "\n")
    out = tmp_path / "out"
    assert cli.main([command, str(tmp_path / "piece.txt"), *args, "--n", "1", "--sine", "--out", str(out),
                     "--data", str(tmp_path / "none"), "--quiet"]) == 0
    assert "valid: 100%" in capsys.readouterr().out
    assert sorted(p.suffix for p in out.iterdir()) == [".mid", ".png", ".txt", ".wav"]
    new = (out / "piece-1.txt").read_text().strip()
    grid, cells = mmm.cells(row), mmm.cells(new)
    assert all(cells[v][b] == grid[v][b] for v in grid for b in range(4) if (v, b) not in free)
    assert len(cells[0]) == (6 if command == "continue" else 4)


def test_the_ngram_refills_and_continues_too(jsfakes_rows, row):
    lm = ngram.train_ngram([r["text"] for r in jsfakes_rows.train], 4)
    settings = generate.Settings(n=2, seed=0)
    for new in compose.refill(row, [2], ["alto", "bass"], lm, None, settings):
        assert mmm.validate(new).ok and compose.kept(row, new, _all([1], [1, 3]))
    for new in compose.extend(row, 6, lm, None, settings):
        assert mmm.validate(new, bars=6).ok and all(c[:4] == mmm.cells(row)[v] for v, c in mmm.cells(new).items())
