"""The generation studio: the plain function, files, and the widget app driven headless."""

import html
import itertools
import threading

import numpy as np
import pretty_midi
import pytest

from jsfakes_utils import audio, generate, melody, mmm, model, studio, tokenizer
from test_generate import EVERY_WORD
from test_train import ROWS


@pytest.fixture(scope="module")
def random_model():
    tok = tokenizer.train_tokenizer([EVERY_WORD])
    return model.build_model("quick", tok, seed=5), tok


def test_generate_and_play_with_the_bundled_model(tmp_path):
    result = studio.generate_and_play(bpm=80, seed=1, out=tmp_path, sine=True)  # the defaults otherwise
    (piece,) = result.pieces
    assert piece.report.ok and piece.tokens.startswith(generate.prompt("soprano"))
    # the audio is this piece's four bars at 80 BPM, synthesized (the sine synth, as asked)
    assert np.array_equal(piece.audio, audio.synthesize(piece.sequence, sine=True))
    assert len(piece.audio) >= 4 * 4 * 60 / 80 * audio.SAMPLE_RATE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["piece-1.mid", "piece-1.png", "piece-1.txt", "piece-1.wav"]
    midi = pretty_midi.PrettyMIDI(str(piece.files["mid"]))
    assert midi.get_tempo_changes()[1] == pytest.approx([80], rel=1e-4)
    assert midi.get_end_time() == pytest.approx(4 * 4 * 60 / 80, rel=1e-4)  # four bars at 80 BPM
    assert piece.files["txt"].read_text().strip() == piece.tokens
    again = studio.generate_and_play(bpm=80, seed=1, sine=True)
    assert again.pieces[0].tokens == piece.tokens and np.array_equal(again.pieces[0].audio, piece.audio)


def test_novelty_is_scored_against_training_rows(random_model):
    from jsfakes_utils import evaluate

    net, tok = random_model
    result = studio.generate_and_play(net, tok, n=2, seed=0, sine=True, reference=evaluate.reference(ROWS, ROWS))
    assert all(p.novelty == "new" and 0 <= p.bars_seen < 1 for p in result.pieces)
    first = result.pieces[0]
    assert f"new ({first.bars_seen:.0%} of its bars seen in training)" in first.summary()
    assert first.summary().startswith("valid")


def test_bad_choices_are_refused_plainly(random_model):
    net, tok = random_model
    with pytest.raises(ValueError, match="bpm"):
        studio.generate_and_play(net, tok, bpm=0)
    with pytest.raises(ValueError, match="outside the bass range"):
        studio.generate_and_play(net, tok, voice="bass", first_note=90)
    with pytest.raises(ValueError, match="unknown instrument"):
        studio.generate_and_play(net, tok, instruments=["kazoo"], sine=True)


def test_the_studio_builds_and_generates_headless(random_model):
    net, tok = random_model
    app = studio.Studio(net, tok)
    titles = [app.widget.get_title(i) for i in range(3)]
    assert titles == ["Audio generation", "Compose", "Tokens"]
    assert studio.Studio.NOTHING_YET in app.tokens.value  # the Tokens tab before any generation
    fields = ("temperature", "top_p", "voice_leading", "best_of", "style", "voice", "seed", "n", "bpm")
    defaults = generate.Settings()
    assert [getattr(app.settings(), f) for f in fields] == [getattr(defaults, f) for f in fields]  # as the CLI's
    app.n.value, app.seed.value, app.instruments[0].value = 2, 7, "choir"
    app.button.click()  # what a user's click does
    assert "Could not" not in app.status.value
    assert app.tokens.value.count("PIECE_START") == 2 and "valid (" in app.tokens.value
    assert "break-all" not in app.tokens.value and "word-break:normal" in app.tokens.value  # words stay whole
    heading, picker, shown = app.results.children  # two pieces: one on screen, buttons to choose
    assert heading.value.startswith("<b>Generation 1</b>: 2 piece(s)") and "seed 7" in heading.value
    first = shown.children[0]
    heading, player, drawn, roll = first.children
    assert player.value[:4] == b"RIFF" and "download" in heading.value and studio.LINK in heading.value
    assert drawn.value.count('class="staff"') == 16 and roll.value[:4] == b"\x89PNG"  # the score, the piano roll
    picker.value = 2
    assert shown.children[0] is not first and shown.children[0].children[1].value != player.value


def test_no_combination_of_controls_crashes_it(random_model):
    net, tok = random_model
    app = studio.Studio(net, tok)
    combos = itertools.product(["soprano", "bass"], [app.bpm.min, app.bpm.max], [0.0, 2.0], [0.05, 1.0], [True, False])
    for voice, bpm, temperature, top_p, constrained in combos:
        app.voice.value, app.bpm.value, app.temperature.value = voice, bpm, temperature
        app.top_p.value, app.constrained.value = top_p, constrained
        assert app.generate() is not None, app.status.value
        assert len(app.results.children) == 2  # the heading and the one piece


def test_the_first_note_follows_the_voice_and_is_named(random_model):
    net, tok = random_model
    app = studio.Studio(net, tok)
    assert app.first_note.value == 67 and app.first_note.label == "67 · G4"  # the middle of the soprano's range
    app.voice.value = "bass"
    pitches = [pitch for _, pitch in app.first_note.options]
    assert (pitches[0], pitches[-1]) == generate.VOICE_RANGES[32] and app.first_note.value == pitches[-1] == 64
    assert app.first_note.label == "64 · E4"
    app.first_note.value = 39
    assert app.first_note.label == "39 · E♭2" and app.settings().first_note == 39
    app.voice.value = "soprano"
    pitches = [pitch for _, pitch in app.first_note.options]
    assert (pitches[0], pitches[-1]) == generate.VOICE_RANGES[0] and app.first_note.value == pitches[0]


def test_an_error_becomes_one_sentence_in_the_ui(random_model, monkeypatch):
    net, tok = random_model
    app = studio.Studio(net, tok)

    def broken(*args, **kwargs):
        raise RuntimeError("the model ran out of ideas\nTraceback noise")

    monkeypatch.setattr(generate, "sample", broken)
    assert app.generate() is None
    assert "Could not generate: the model ran out of ideas" in app.status.value and "noise" not in app.status.value
    assert not app.button.disabled and studio.Studio.NOTHING_YET in app.tokens.value


def test_tokens_tab_wraps_a_bar_per_line(random_model):
    net, tok = random_model
    app = studio.Studio(net, tok)
    result = app.generate()
    assert app.tokens.value.count("BAR_START") == mmm.words(result.pieces[0].tokens).count("BAR_START") == 16
    assert app.tokens.value.count("<b>(soprano)</b>") == 1 and app.tokens.value.count("<b>(bass)</b>") == 1
    assert app.tokens.value.count('<p style="padding-left:8ch;text-indent:-4ch') == 16  # a bar a line, indented


def test_a_hub_model_when_online(fake_hub, random_model, tmp_path, capsys):
    """A hub id (as the seed's Katpeeler/midi_model_3) downloads with --online, then generates valid pieces."""
    from jsfakes_utils import cli

    net, tok = random_model
    net.save_pretrained(tmp_path / "repo")
    tok.save_pretrained(tmp_path / "repo")
    fake_hub["someone/midi_model"] = tmp_path / "repo"
    assert cli.main(["generate", "--model", "someone/midi_model", "--n", "1", "--out", str(tmp_path / "o")]) == 2
    assert "cannot load a causal LM 'someone/midi_model' locally" in capsys.readouterr().err  # offline by default
    assert cli.main(["generate", "--model", "someone/midi_model", "--online", "--n", "2", "--sine",
                     "--data", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 0
    assert "valid: 100%" in capsys.readouterr().out
    hub_net, hub_tok = model.load("someone/midi_model", local_files_only=False)
    assert studio.generate_and_play(hub_net, hub_tok, seed=2, sine=True).pieces[0].report.ok


def test_the_style_menu_offers_what_the_model_knows(random_model):
    net, tok = random_model
    assert studio.Studio(net, tok).style.options == ("jsfakes",)
    both = tokenizer.train_tokenizer([EVERY_WORD, "PIECE_START STYLE=BACH GENRE=CHORALE PIECE_END"])
    app = studio.Studio(model.build_model("quick", both, seed=3), both)
    assert app.style.options == ("jsfakes", "bach")
    app.style.value = "bach"
    result = app.generate()
    assert result is not None and result.pieces[0].tokens.startswith("PIECE_START STYLE=BACH GENRE=CHORALE")


def test_the_voice_leading_slider_reaches_the_decoder(random_model, monkeypatch):
    net, tok = random_model
    app = studio.Studio(net, tok)
    seen = []
    sample = generate.sample
    monkeypatch.setattr(generate, "sample", lambda *a, **k: seen.append(k["voice_leading"]) or sample(*a, **k))
    app.voice_leading.value = 3.0
    assert app.generate() is not None and seen == [3.0]


# ----------------------------------------------------------------------------------------------
# The Compose tab
# ----------------------------------------------------------------------------------------------


def test_the_keyboard_writes_the_notation_and_the_preview_says_what_is_wrong():
    net, tok = studio.bundled()
    app = studio.Studio(net, tok)
    app.edit_buttons[3].click()  # clear
    assert app.melody.value == ""
    assert [k.description for k in app.keys[:4]] == ["C4", "C♯4", "D4", "E♭4"] and app.keys[-1].description == "B5"
    assert [k.tooltip for k in app.keys[:2]] == ["writes c'", "writes cis'"]  # the LilyPond word (see the legend)
    app.keys[14].click()  # d'' as a quarter
    app.duration.value, app.dotted.value = "8", True
    app.keys[11].click()
    app.edit_buttons[0].click()  # a rest of the same length
    assert app.melody.value == "d''4 b'8. r8."
    assert "not whole 4/4 bars" in app.melody_note.value  # the preview says what to change
    app.edit_buttons[2].click()  # undo
    app.duration.value, app.dotted.value = "2", False
    app.edit_buttons[0].click()
    app.keys[0].click()
    app.edit_buttons[1].click()  # a bar check
    app.melody_voice.value = "bass"
    assert app.keys[0].description == "C2" and app.keys[0].tooltip == "writes c,"  # two octaves from the bass's low C
    app.keys[12].click()
    app.duration.value = "1"
    assert app.melody.value == "d''4 b'8. r2 c'2 | c2"
    app.melody.value = "d''4 b'8. r16 r2 | c'1"
    assert app.melody_note.value.startswith("2 bar(s), 3 notes") and app.melody_roll.value[:4] == b"\x89PNG"


def _shown(box, kind):
    """The widgets of a type that a box shows, depth first (the pieces the pickers show, not those they hide)."""
    found = [box] if isinstance(box, kind) else []
    for child in getattr(box, "children", ()):
        found += _shown(child, kind)
    return found


def test_compose_harmonises_then_continues_redoes_and_refills_its_own_pieces():
    import ipywidgets as w

    net, tok = studio.bundled()
    app = studio.Studio(net, tok)
    app.instruments[0].value = "as written"
    assert app.compose() is not None, app.compose_status.value  # the example melody, harmonised
    harmonised = app.composed.pieces[0].tokens
    assert mmm.voice_steps(harmonised)[0] == list(melody.parse(app.EXAMPLE).notes)
    assert list(app.pieces) == ["composition 1 · piece 1"] and _shown(app.compose_results, w.Audio)[0].value[:4] == b"RIFF"
    assert _shown(app.compose_results, w.HTML)[0].value.startswith("<b>Composition 1</b>: the soprano melody")
    app.task.value, app.length.value = "continue", 6
    assert app._boxes["melody"].layout.display == "none" and app.length.layout.display == ""
    assert app.compose() is not None, app.compose_status.value
    longer = app.composed.pieces[0]
    assert app.piece.value == "composition 2 · piece 1"  # the newest piece is the one to work on
    assert (app.length.min, app.length.value) == (7, 7)  # the next continuation: past its 6 bars
    assert longer.report.ok and all(c[:4] == mmm.cells(harmonised)[v] for v, c in mmm.cells(longer.tokens).items())
    chooser = app.compose_results.children[0]  # the history, newest first; an older one a click away
    assert chooser.options == ("composition 2", "composition 1")
    chooser.value = "composition 1"
    assert _shown(app.compose_results, w.HTML)[0].value.startswith("<b>Composition 1</b>")
    app.task.value = "refill"
    assert [box.value for box in app.voices] == [False] * 4 and "none ticked: all four" in app.voices_label.value
    app.refill_bars.value = "5,6"  # no voice ticked: bars 5-6 of every voice
    assert app.compose() is not None, app.compose_status.value
    refilled = mmm.cells(app.composed.pieces[0].tokens)
    assert all(refilled[v][:4] == mmm.cells(longer.tokens)[v][:4] for v in range(4))
    app.task.value = "regenerate"
    assert [box.value for box in app.voices] == [False, True, False, False] and "redo" in app.voices_label.value
    app.voices[1].value, app.voices[2].value = False, True  # the tenor only
    app.generate()
    assert set(app.pieces) == {"generation 1 · piece 1"} | {f"composition {n} · piece 1" for n in (1, 2, 3)}
    app.piece.value = "generation 1 · piece 1"
    assert app.compose() is not None, app.compose_status.value
    source, redone = mmm.cells(app.pieces["generation 1 · piece 1"]), mmm.cells(app.composed.pieces[0].tokens)
    assert all(redone[v] == source[v] for v in (0, 1, 3))
    app.refill_bars.value, app.task.value = "0", "refill"
    assert app.compose() is None and "Could not compose: &#x27;0&#x27; is not bar numbers" in app.compose_status.value
    assert app.compose_results.children[0].value == studio.STALE  # what is still shown is marked as older
    for _ in range(3):  # the history keeps the last five; the pieces of older ones are no longer offered
        app.task.value = "harmonize"
        assert app.compose() is not None
    assert app.compose_results.children[0].options == tuple(f"composition {n}" for n in (7, 6, 5, 4, 3))
    assert not any(label.startswith(("composition 1 ", "composition 2 ")) for label in app.pieces)


def _expected(net, tok, settings):
    """The rows and audio that `settings` make, computed apart from the studio."""
    rows = settings.sample(net, tok)
    return rows, [studio.piece_bytes(studio.to_piece(r, settings.bpm, settings.instruments, bars=4), "wav") for r in rows]


def _in_a_thread(press):
    """Press as JupyterLab 4.6 does: in a worker thread of the kernel, not the one that imported everything."""
    failures = []
    thread = threading.Thread(target=lambda: _record(press, failures))
    thread.start()
    thread.join()
    assert not failures, failures


def _record(press, failures):
    try:
        press()
    except BaseException as error:  # noqa: BLE001 (reported by the caller)
        failures.append(repr(error))


def test_every_press_in_a_worker_thread_shows_its_own_result(random_model):
    import ipywidgets as w

    net, tok = random_model
    app = studio.Studio(net, tok)
    app.button.click()  # the first press in the main thread, as a notebook cell would
    screens = []
    for seed, voice, n in ((3, "alto", 2), (4, "bass", 1), (5, "tenor", 3)):
        app.seed.value, app.voice.value, app.n.value = seed, voice, n
        _in_a_thread(app.button.click)
        assert app.status.value.startswith(f"{n} piece(s) in "), app.status.value
        rows, wavs = _expected(net, tok, app.settings())
        assert [p.tokens for p in app.result.pieces] == rows and all(r.startswith(generate.prompt(voice)) for r in rows)
        audio_shown, = _shown(app.results, w.Audio)  # the picker shows piece 1
        assert audio_shown.value == wavs[0]
        for row in rows:  # the Tokens tab holds every piece, bar by bar
            assert all(html.escape(line.strip()) in app.tokens.value for line in mmm.pretty(row).splitlines())
        score, = [h for h in _shown(app.results, w.HTML) if "jsfakes-score" in h.value]
        assert score.value.count('class="staff"') == 16  # four staves in four bars: drawn in that thread too (verovio's fonts found)
        screens.append((audio_shown.value, app.tokens.value))
    assert len({audio for audio, _ in screens}) == len({tokens for _, tokens in screens}) == 3  # each press: new
    app.task.value = "harmonize"
    for melody_text, seed, n in (("c''4 d'' e'' f'' | g''1", 1, 2), ("g'2 a' | b'1", 2, 1)):
        app.melody.value, app.seed.value, app.n.value = melody_text, seed, n
        _in_a_thread(app.compose_button.click)
        assert app.compose_status.value.startswith(f"{n} piece(s) in "), app.compose_status.value
        assert len(app.composed.pieces) == n
        assert all(mmm.voice_steps(p.tokens)[0] == list(melody.parse(melody_text).notes) for p in app.composed.pieces)
        audio_shown, = _shown(app.compose_results, w.Audio)
        assert audio_shown.value == studio.piece_bytes(app.composed.pieces[0], "wav")
        assert html.escape(melody_text[:20]) in _shown(app.compose_results, w.HTML)[0].value
    assert app.compose_results.children[0].options == ("composition 2", "composition 1")


def test_a_failure_while_drawing_is_one_sentence_and_the_old_result_is_marked(random_model, monkeypatch):
    from jsfakes_utils import score

    net, tok = random_model
    app = studio.Studio(net, tok)
    assert app.generate() is not None
    before = list(app.results.children)

    def broken(*args, **kwargs):
        raise ValueError("verovio could not read the score")

    monkeypatch.setattr(score, "svg", broken)
    app.seed.value = 9
    assert app.generate() is None
    assert app.status.value == '<span style="color:#b00">Could not generate: verovio could not read the score</span>'
    assert app.results.children[0].value == studio.STALE and list(app.results.children[1:]) == before
    assert app.generate() is None and [getattr(c, "value", None) for c in app.results.children].count(studio.STALE) == 1  # once
    monkeypatch.undo()
    assert app.generate() is not None and "piece(s) in" in app.status.value
    assert app.results.children[0].value.startswith("<b>Generation 2</b>")


def test_what_the_user_must_know_is_said_in_the_studio(random_model):
    net, tok = random_model
    app = studio.Studio(net, tok)
    app.melody.value = "c4 d e f | g1"  # two octaves below the soprano's range: moved, and said so
    assert "moved 1 octave up to fit the soprano range" in app.melody_note.value
    assert app.melody_roll.layout.display == "" and app.melody_roll.value[:4] == b"\x89PNG"
    assert app.compose() is not None and "moved 1 octave up" in app.compose_status.value
    app.melody.value = "c4 d e"
    assert "not whole 4/4 bars" in app.melody_note.value and app.melody_roll.layout.display == "none"  # no stale roll


def test_the_staves_are_named_after_the_instruments(random_model):
    import ipywidgets as w

    net, tok = random_model
    app = studio.Studio(net, tok)
    app.instruments[0].value, app.instruments[3].value = "choir", "cello"
    app.generate()
    score, = [h for h in _shown(app.results, w.HTML) if "jsfakes-score" in h.value]
    assert "Soprano (choir)" in score.value and "Bass (cello)" in score.value and "Alto (" not in score.value


def _upload(name, content):
    """What ipywidgets 8's FileUpload holds after a user uploads one file."""
    import datetime

    return ({"name": name, "type": "", "size": len(content), "content": memoryview(content),
             "last_modified": datetime.datetime.now(datetime.timezone.utc)},)


def test_compose_takes_uploaded_files(tmp_path):
    net, tok = studio.bundled()
    app = studio.Studio(net, tok)
    assert app.compose() is not None and (app.task.value, app.piece.value) == ("harmonize", "composition 1 · piece 1")
    app.task.value = "continue"
    app.pieces.clear()
    app.piece.options = []
    assert app.compose() is None and "no piece yet" in app.compose_status.value
    row = app.composed.pieces[0].tokens
    midi = audio.midi_bytes(mmm.decode(row, bpm=70))
    app.piece_upload.value = _upload("mine.mid", midi)
    assert app.piece.value == "uploaded · mine.mid" and "ready" in app.compose_status.value
    assert mmm.cells(app.pieces["uploaded · mine.mid"]) == mmm.cells(row)
    app.piece_upload.value = _upload("bad.txt", b"oops")
    assert "not a valid piece" in app.compose_status.value and app.piece.value == "uploaded · mine.mid"
    tune = audio.midi_bytes(mmm.decode(mmm.join({0: melody.parse(app.EXAMPLE).cells()}), bpm=90))
    app.melody.value = ""
    app.melody_upload.value = _upload("tune.mid", tune)
    assert melody.parse(app.melody.value) == melody.parse(app.EXAMPLE)
