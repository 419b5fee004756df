"""The generation studio: choices in, chorales out — heard, seen, scored and saved.

Introduced in notebook 05. `generate_and_play` is the whole path as one plain function (what the
CLI and CI call); `Studio` puts ipywidgets controls in front of it, in two tabs:

    "Audio generation": style, voice, first note, BPM, temperature, top-p, voice leading, best of,
                        seed, pieces, constrained, an instrument per voice -> Generate ->
                        player, score, piano roll, evaluation, downloads
    "Compose":          harmonise a melody (typed, played on a keyboard or uploaded), redo voices,
                        refill bars or continue a piece (generated, composed or uploaded), with the
                        Audio tab's settings -> Compose -> the same player, score, roll, downloads
    "Tokens":           the generated words, a bar per line, with the validity report

Only core ipywidgets are used (7.7 as on Colab, 8.x as in JupyterLab).
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from . import audio, compose, config, evaluate, generate, melody, mmm, plots, score
from . import model as models

BPM_RANGE = (40, 200)  # the studio's BPM slider
FORMATS = ("txt", "mid", "wav", "png", "musicxml", "svg")  # what a piece can be saved as (svg: the score)
SAVED = ("txt", "mid", "wav", "png")  # what `export` writes unless told otherwise


bundled = models.bundled  # the model committed with the repository, and its tokenizer (loaded once)


@dataclasses.dataclass
class Piece:
    """One generated chorale, everything the studio shows about it."""

    tokens: str  # the words, PIECE_START … PIECE_END
    report: mmm.Report  # what is wrong with it, if anything
    sequence: object  # the NoteSequence at the chosen BPM (repaired if the piece is invalid)
    audio: np.ndarray  # mono float samples at audio.SAMPLE_RATE
    novelty: str | None = None  # "new", "partly copied" or "copied" (None: no training rows given)
    bars_seen: float | None = None  # share of its bars found verbatim in the training split
    files: dict[str, Path] = dataclasses.field(default_factory=dict)  # kind -> path, when saved

    def summary(self) -> str:
        """One line: valid or not, novelty, length."""
        valid = "valid" if self.report.ok else f"invalid ({', '.join(sorted(self.report.counts()))})"
        novel = "" if self.novelty is None else \
            f", {self.novelty} ({self.bars_seen:.0%} of its bars seen in training)"
        heard = len(self.audio) / audio.SAMPLE_RATE  # what a player shows: the music and the last notes' ring-out
        return (f"{valid}{novel}, {self.report.n_tokens} tokens, {self.sequence.total_time:.1f} s "
                f"({heard:.1f} s with the ring-out)")


@dataclasses.dataclass
class Result:
    """What `generate_and_play` made; shows itself in a notebook (players, piano rolls, lines)."""

    pieces: list[Piece]
    bpm: float
    seconds: float  # wall time, generation to audio

    def _ipython_display_(self):
        from IPython.display import SVG, Audio, Markdown, display

        for k, piece in enumerate(self.pieces, 1):
            display(Markdown(f"**Piece {k}** at {self.bpm:g} BPM: {piece.summary()}"))
            display(Audio(piece.audio, rate=audio.SAMPLE_RATE))
            display(SVG(piece_bytes(piece, "svg")))
            display(piano_roll_png(piece, f"piece {k}", image=True))


def generate_and_play(model=None, tokenizer=None, settings: generate.Settings | None = None, reference=None,
                      out: str | Path | None = None, sine: bool | None = None, formats=SAVED, **choices) -> Result:
    """Generate chorales, decode them at the BPM, synthesize them, score them, maybe save them.

    model, tokenizer: a causal LM and its tokenizer, or an `ngram.NGram` (tokenizer None);
        default: the bundled model. settings: a `generate.Settings`; choices: any of its fields
        by name (`generate_and_play(voice="alto", bpm=90)`), over `settings` when both are given.
    reference: an `evaluate.Reference`, for novelty. out: a folder to write piece-K.{txt,mid,wav,png}
        into (`formats`: which of `FORMATS`).
    """
    settings = dataclasses.replace(settings or generate.Settings(), **choices)
    if model is None:
        model, tokenizer = bundled()
    started = time.perf_counter()
    return play(settings.sample(model, tokenizer), settings, reference, out, sine, formats, started=started)


def play(rows: list[str], settings: generate.Settings | None = None, reference=None, out: str | Path | None = None,
         sine: bool | None = None, formats=SAVED, bars: int = 4, started: float | None = None) -> Result:
    """Rows (generated, or composed with `compose`) decoded at the settings' BPM and instruments,
    synthesized, scored (novelty, with a `reference`), maybe saved; bars: the length they should have."""
    settings = settings or generate.Settings()
    started = time.perf_counter() if started is None else started
    bpm, instruments = settings.bpm, settings.instruments
    verdicts = evaluate.novelty(rows, reference) if reference is not None else None
    with warnings.catch_warnings(), ThreadPoolExecutor(min(len(rows), os.cpu_count() or 1, 4) or 1) as pool:
        warnings.simplefilter("ignore")  # an invalid piece is repaired to be heard; its report says what
        # FluidSynth renders without holding the GIL: the pieces play on every core at once
        played = pool.map(lambda row: to_piece(row, bpm, instruments, sine, strict=False, bars=bars), rows)
        pieces = list(config.progress(played, "decoding and playing", total=len(rows)))
    for k, piece in enumerate(pieces):
        if verdicts is not None:
            piece.novelty, piece.bars_seen = verdicts.loc[k, "verdict"], verdicts.loc[k, "bars seen in training"]
        if out is not None:
            piece.files = export(piece, out, f"piece-{k + 1}", instruments, formats)
    return Result(pieces, bpm, time.perf_counter() - started)


def to_piece(row: mmm.Tokens, bpm: float, instruments=None, sine: bool | None = None, strict: bool = True,
             bars: int | None = 4) -> Piece:
    """A token row decoded at `bpm` and synthesized; strict=False repairs an invalid row (with warnings);
    bars: how many each track should have (None: any)."""
    sequence = mmm.decode(row, bpm=bpm, strict=strict)
    tokens = " ".join(mmm.words(row))
    return Piece(tokens, mmm.validate(tokens, bars=bars), sequence,
                 audio.synthesize(sequence, instruments=instruments, sine=sine))


def piece_bytes(piece: Piece, kind: str, instruments=None, title: str | None = None) -> bytes:
    """The piece as a file's bytes, `kind` one of FORMATS: tokens (txt), MIDI (tempo = the BPM),
    WAV, the piano roll (png), the score as MusicXML or drawn (svg). The one place a piece becomes a file."""
    if kind == "txt":
        return (piece.tokens + "\n").encode()
    if kind == "mid":
        return audio.midi_bytes(piece.sequence, instruments)
    if kind == "wav":
        return audio.wav_bytes(piece.audio)
    if kind == "png":
        title = title or f"{piece.sequence.tempos[0].qpm:g} BPM"
        return plots.save_piano_roll(piece.sequence, io.BytesIO(), title=title).getvalue()
    if kind == "musicxml":
        return score.musicxml(piece.sequence, title, instruments)
    if kind == "svg":
        return score.svg(piece.sequence, title, instruments).encode()
    raise ValueError(f"unknown format {kind!r}: choose from {', '.join(FORMATS)}")


def export(piece: Piece, out: str | Path, name: str, instruments=None, formats=SAVED) -> dict[str, Path]:
    """Write name.txt, name.mid, … (each of `formats`) into `out`; {kind: path}."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bpm = piece.sequence.tempos[0].qpm
    files = {}
    for kind in formats:
        files[kind] = out / f"{name}.{kind}"
        files[kind].write_bytes(piece_bytes(piece, kind, instruments, title=f"{name} at {bpm:g} BPM"))
    return files


def piano_roll_png(piece: Piece, title: str, image: bool = False):
    """The piece's piano roll as PNG bytes (or an IPython Image when `image`)."""
    png = piece_bytes(piece, "png", title=title)
    if image:
        from IPython.display import Image

        return Image(png)
    return png


DOWNLOADS = (("mid", "audio/midi", "MIDI"), ("wav", "audio/wav", "WAV"), ("txt", "text/plain", "tokens"))


LINK = "color:#1a73e8;text-decoration:underline"  # JupyterLab shows a bare <a> as plain black text
TOKENS = "white-space:pre-wrap;word-break:normal;overflow-wrap:normal"  # JupyterLab's <pre> breaks inside words


def _download_link(data: bytes, filename: str, mime: str, label: str) -> str:
    encoded = base64.b64encode(data).decode()
    return f'<a download="{filename}" href="data:{mime};base64,{encoded}" target="_blank" style="{LINK}">{label}</a>'


class Studio:
    """The widget app. `display(Studio())` or just `Studio()` as a cell's last line shows it.

    `Studio.generate()` is what the Generate button calls; it also runs headless (tests, CI).
    """

    NOTHING_YET = "Nothing generated yet: choose on the “Audio generation” tab and press Generate."

    def __init__(self, model=None, tokenizer=None, reference=None):
        import ipywidgets as w

        if model is None:
            model, tokenizer = bundled()
        self.model, self.tokenizer, self.reference = model, tokenizer, reference
        self.result: Result | None = None
        wide = {"description_width": "110px"}
        low, high = generate.pitch_range("soprano", tokenizer)
        self.voice = w.Dropdown(options=list(mmm.VOICE_NAMES), value="soprano", description="starting voice",
                                style=wide)
        # only the styles this model was trained on (their tags are in its vocabulary)
        styles = [k for k, tags in generate.STYLES.items() if f"STYLE={tags[0]}" in tokenizer.get_vocab()] \
            if tokenizer is not None else ["jsfakes"]
        self.style = w.Dropdown(options=styles or ["jsfakes"], value=(styles or ["jsfakes"])[0],
                                description="style", style=wide)
        self.first_note = w.IntSlider(value=(low + high) // 2, min=low, max=high, description="first note",
                                      style=wide)
        self.bpm = w.IntSlider(value=100, min=BPM_RANGE[0], max=BPM_RANGE[1], description="BPM", style=wide)
        # temperature 0: greedy (the same piece every time); <1 calmer, >1 wilder
        defaults = generate.Settings()  # the measured defaults, as the CLI's
        self.temperature = w.FloatSlider(value=defaults.temperature, min=0.0, max=2.0, step=0.05,
                                         description="temperature", style=wide)
        self.top_p = w.FloatSlider(value=defaults.top_p, min=0.05, max=1.0, step=0.05, description="top-p",
                                   style=wide)
        # what each voice-leading fault a note would add costs it, in nats (0 = off)
        self.voice_leading = w.FloatSlider(value=defaults.voice_leading, min=0.0, max=12.0, step=0.5,
                                           description="voice leading", style=wide)
        # candidates drawn per piece, the likeliest with the fewest faults kept (1 = no reranking)
        self.best_of = w.IntSlider(value=defaults.best_of, min=1, max=8, description="best of", style=wide)
        self.seed = w.BoundedIntText(value=0, min=0, max=2**31 - 1, description="seed", style=wide)
        self.n = w.IntSlider(value=1, min=1, max=8, description="pieces", style=wide)
        self.constrained = w.Checkbox(value=True, description="constrained decoding (always valid)",
                                      indent=False)
        self.instruments = [w.Dropdown(options=list(audio.INSTRUMENTS), value="as written",
                                       description=name, style=wide) for name in mmm.VOICE_NAMES]
        self.button = w.Button(description="Generate", button_style="primary", icon="music")
        self.status = w.HTML()
        self.results = w.VBox()
        self.tokens = w.HTML(f"<p>{self.NOTHING_YET}</p>")
        self.voice.observe(self._voice_changed, names="value")
        self.button.on_click(lambda _: self.generate())
        left = [self.style, self.voice, self.first_note, self.bpm, self.temperature, self.top_p, self.voice_leading,
                self.best_of]
        for control in left + [self.seed, self.n] + self.instruments:
            control.layout.width = "380px"  # the default leaves a slider 94 px of track
        controls = w.HBox([w.VBox(left), w.VBox([self.seed, self.n, self.constrained] + self.instruments)])
        self.pieces: dict[str, str] = {}  # what Compose can start from: label -> row
        self.widget = w.Tab(children=[w.VBox([controls, w.HBox([self.button, self.status]), self.results]),
                                      self._compose_tab(), self.tokens])
        for i, title in enumerate(("Audio generation", "Compose", "Tokens")):
            self.widget.set_title(i, title)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def _voice_changed(self, change) -> None:
        low, high = generate.pitch_range(change["new"], self.tokenizer)
        slider = self.first_note
        slider.max = max(slider.max, high)  # widen first, so the value never falls outside
        slider.min = min(slider.min, low)
        slider.value = min(max(slider.value, low), high)
        slider.min, slider.max = low, high

    def settings(self) -> generate.Settings:
        """The controls' values as one `generate.Settings`."""
        return generate.Settings(
            style=self.style.value, voice=self.voice.value, first_note=self.first_note.value,
            temperature=self.temperature.value, top_p=self.top_p.value, seed=self.seed.value, n=self.n.value,
            constrained=self.constrained.value, voice_leading=self.voice_leading.value, best_of=self.best_of.value,
            bpm=self.bpm.value,
            instruments=[d.value for d in self.instruments])

    def generate(self) -> Result | None:
        """Generate with the current controls and show the result; an error becomes one sentence."""
        result = self._attempt(self.button, self.status, "generate", lambda: generate_and_play(
            self.model, self.tokenizer, self.settings(), reference=self.reference))
        if result is not None:
            self.result = result
            self.results.children = self._show(result, "generated")
        return result

    def _attempt(self, button, status, verb: str, work) -> Result | None:
        """`work()`'s Result, with `button` off meanwhile and `status` saying how it went (an error: one
        sentence, not swallowed, and the studio carries on)."""
        button.disabled = True
        status.value = f"<i>{verb[:-1]}ing…</i>"  # generating…, composing…
        try:
            result = work()
        except Exception as error:  # shown to the user: the studio must not crash
            status.value = _error(error, f"Could not {verb}: ")
            return None
        finally:
            button.disabled = False
        status.value = f"{len(result.pieces)} piece(s) in {result.seconds:.1f} s"
        return result

    def _show(self, result: Result, family: str) -> list:
        """The widgets that show a result (player, score, piano roll, downloads per piece); its pieces
        become what Compose can start from, and the Tokens tab shows their words."""
        import ipywidgets as w

        boxes = []
        instruments = [d.value for d in self.instruments]
        for k, piece in enumerate(result.pieces, 1):
            links = " · ".join(_download_link(piece_bytes(piece, kind, instruments), f"piece-{k}.{kind}", mime, label)
                               for kind, mime, label in DOWNLOADS)
            boxes.append(w.VBox([
                w.HTML(f"<b>Piece {k}</b> at {result.bpm:g} BPM: {html.escape(piece.summary())} — download {links}"),
                w.Audio(value=piece_bytes(piece, "wav"), format="wav", autoplay=False, loop=False),
                w.HTML(f'<div class="jsfakes-score" style="max-width:900px">{piece_bytes(piece, "svg").decode()}</div>'),
                w.Image(value=piano_roll_png(piece, f"piece {k}"), format="png")]))
        self._offer({f"{family} piece {k}": p.tokens for k, p in enumerate(result.pieces, 1)}, family)
        self.tokens.value = "".join(
            f"<h4>Piece {k}: {html.escape(str(p.report).splitlines()[0])}</h4>"
            f"<pre style='{TOKENS}'>{html.escape(mmm.pretty(p.tokens))}</pre>"
            + ("" if p.report.ok else f"<pre style='{TOKENS}'>{html.escape(str(p.report))}</pre>")
            for k, p in enumerate(result.pieces, 1))
        return self._pick(boxes)

    def _pick(self, boxes: list) -> list:
        """One piece on screen at a time, with buttons to choose it: eight pieces are not one long page."""
        import ipywidgets as w

        if len(boxes) == 1:
            return boxes
        picker = w.ToggleButtons(options=[(f"piece {k}", k) for k in range(1, len(boxes) + 1)], value=1)
        shown = w.Box([boxes[0]])
        picker.observe(lambda change: setattr(shown, "children", [boxes[change["new"] - 1]]), names="value")
        self.picker = picker
        return [picker, shown]

    # ------------------------------------------------------------------------------------------
    # The Compose tab: a melody to harmonise, or a piece to redo, refill or continue
    # ------------------------------------------------------------------------------------------

    TASKS = (("harmonise", "harmonize"), ("redo voices", "regenerate"), ("refill bars", "refill"),
             ("continue", "continue"))
    KEYBOARD_FROM = {"soprano": 60, "alto": 48, "tenor": 48, "bass": 36}  # the keyboard's lowest C per voice
    EXAMPLE = "d''4 d'' d'' a' | b' c'' b' a' | g' fis' e' d' | g' a' b'2"  # the course's example melody

    def _compose_tab(self):
        import ipywidgets as w

        wide = {"description_width": "110px"}
        self.task = w.ToggleButtons(options=list(self.TASKS), value="harmonize", style={"button_width": "150px"})
        # the melody: typed, played on the keyboard below, or uploaded; a piano roll previews it
        self.melody = w.Textarea(value=self.EXAMPLE, continuous_update=False, description="melody", style=wide,
                                 placeholder="LilyPond notation, e.g. d''4 d'' a' b' | c''2 b'",
                                 layout=w.Layout(width="760px", height="60px"))
        self.melody_voice = w.Dropdown(options=list(mmm.VOICE_NAMES), value="soprano", description="melody voice",
                                       style=wide)
        self.duration = w.ToggleButtons(options=[("whole", "1"), ("half", "2"), ("quarter", "4"), ("eighth", "8"),
                                                 ("16th", "16")], value="4", style={"button_width": "70px"})
        self.dotted = w.Checkbox(value=False, description="dotted", indent=False, layout=w.Layout(width="80px"))
        self.keys = [w.Button(layout=w.Layout(width="46px", padding="0")) for _ in range(24)]
        for k, key in enumerate(self.keys):
            key.on_click(lambda _, k=k: self._type(self._key_word(k)))
            if k % 12 in (1, 3, 6, 8, 10):  # the black keys
                key.style.button_color, key.style.text_color = "#555", "white"  # (text_color: ipywidgets 8)
        extra = [("rest", lambda: self._type(f"r{self._length()}")), ("| bar", lambda: self._type("|")),
                 ("undo", self._undo), ("clear", lambda: setattr(self.melody, "value", ""))]
        self.edit_buttons = [w.Button(description=name, layout=w.Layout(width="70px")) for name, _ in extra]
        for button, (_, action) in zip(self.edit_buttons, extra):
            button.on_click(lambda _, action=action: action())
        self.melody_upload = w.FileUpload(accept=".mid,.midi,.musicxml,.xml,.mxl", multiple=False,
                                          description="melody file")
        self.melody_upload.observe(lambda _: self._melody_uploaded(), names="value")
        self.melody_note = w.HTML()
        self.melody_roll = w.Image(format="png", layout=w.Layout(max_width="760px"))
        self.melody_voice.observe(lambda _: self._relabel_keys(), names="value")
        self.melody.observe(lambda _: self._preview(), names="value")
        self._relabel_keys()
        melody_box = w.VBox([self.melody_voice, self.melody,
                             w.HBox(self.keys[:12]), w.HBox(self.keys[12:]),
                             w.HBox([self.duration, self.dotted] + self.edit_buttons),
                             w.HBox([self.melody_upload, self.melody_note]), self.melody_roll])
        # the piece: one generated or composed here, or a token or MIDI file
        self.piece = w.Dropdown(options=[], description="piece", style=wide, layout=w.Layout(width="380px"))
        self.piece_upload = w.FileUpload(accept=".txt,.mid,.midi", multiple=False, description="piece file")
        self.piece_upload.observe(lambda _: self._piece_uploaded(), names="value")
        self.voices = [w.Checkbox(value=name == "alto", description=name, indent=False, layout=w.Layout(width="90px"))
                       for name in mmm.VOICE_NAMES]
        self.refill_bars = w.Text(value="3", description="bars", style=wide, placeholder="e.g. 3 or 2,3")
        self.length = w.IntSlider(value=8, min=5, max=16, description="continue to", style=wide)  # bars in all
        self.piece.observe(lambda _: self._piece_chosen(), names="value")
        self.voice_row = w.HBox([w.HTML("<b>voices</b>&nbsp;", layout=w.Layout(width="110px"))] + self.voices)
        piece_box = w.VBox([w.HBox([self.piece, self.piece_upload]), self.voice_row, self.refill_bars, self.length])
        self.compose_button = w.Button(description="Compose", button_style="primary", icon="pencil")
        self.compose_button.on_click(lambda _: self.compose())
        self.compose_status = w.HTML()
        self.compose_results = w.VBox()
        self.composed: Result | None = None  # what Compose made last
        self._boxes = {"melody": melody_box, "piece": piece_box}
        self.task.observe(lambda _: self._show_task(), names="value")
        self._show_task()
        self._preview()
        return w.VBox([self.task, melody_box, piece_box,
                       w.HTML("<i>Style, temperature, voice leading, seed, pieces, BPM and instruments: "
                              "as set on the Audio generation tab.</i>"),
                       w.HBox([self.compose_button, self.compose_status]), self.compose_results])

    def compose(self) -> Result | None:
        """Compose with the current controls and show the result; an error becomes one sentence."""
        result = self._attempt(self.compose_button, self.compose_status, "compose", self._composed)
        if result is not None:
            self.composed = result
            self.compose_results.children = self._show(result, "composed")
        return result

    def _composed(self) -> Result:
        """What the Compose tab's controls ask for, played."""
        started = time.perf_counter()
        settings, task = self.settings(), self.task.value
        if task == "harmonize":
            rows = compose.harmonize(self.melody.value, self.melody_voice.value, self.model, self.tokenizer, settings)
        else:
            if self.piece.value is None:
                raise ValueError("no piece yet: generate one on the Audio generation tab, or upload a file")
            row = self.pieces[self.piece.value]
            voices = [v.description for v in self.voices if v.value]
            if task == "regenerate":
                rows = compose.regenerate(row, voices, self.model, self.tokenizer, settings)
            elif task == "refill":
                rows = compose.refill(row, compose.bar_list(self.refill_bars.value), voices or None,
                                      self.model, self.tokenizer, settings)
            else:
                rows = compose.extend(row, self.length.value, self.model, self.tokenizer, settings)
        return play(rows, settings, self.reference, bars=compose.bar_count(rows[0]), started=started)

    def _show_task(self) -> None:
        task = self.task.value
        self._boxes["melody"].layout.display = "" if task == "harmonize" else "none"
        self._boxes["piece"].layout.display = "none" if task == "harmonize" else ""
        self.voice_row.layout.display = "" if task in ("regenerate", "refill") else "none"
        self.refill_bars.layout.display = "" if task == "refill" else "none"
        self.length.layout.display = "" if task == "continue" else "none"

    def _piece_chosen(self) -> None:
        """Continuing offers only lengths beyond the chosen piece's."""
        try:
            bars = compose.bar_count(self.pieces[self.piece.value])
        except (KeyError, ValueError):  # none chosen, or an invalid (unconstrained) piece
            return
        self.length.max = max(self.length.max, bars + 8)
        self.length.min = bars + 1  # (the value follows, if it was shorter)

    def _offer(self, rows: dict[str, str], family: str) -> None:
        """Make `rows` ({label: row}) what Compose can start from, in place of the family's older ones."""
        self.pieces = {k: v for k, v in self.pieces.items() if not k.startswith(family)} | rows
        chosen = self.piece.value
        self.piece.options = list(self.pieces)
        self.piece.value = chosen if chosen in self.pieces else next(iter(rows))
        self._piece_chosen()  # (the same label may now name another piece)

    # the melody keyboard: two octaves from the melody voice's C, writing LilyPond words
    def _key_word(self, k: int) -> str:
        pitch = self.KEYBOARD_FROM[self.melody_voice.value] + k
        return melody.notation(melody.Melody(((0, 1, pitch),), 1)).split()[0][:-2] + self._length()

    def _length(self) -> str:
        return self.duration.value + "." * self.dotted.value

    def _relabel_keys(self) -> None:
        for k, key in enumerate(self.keys):
            key.description = self._key_word(k).rstrip("0123456789.")

    def _type(self, word: str) -> None:
        self.melody.value = f"{self.melody.value.rstrip()} {word}".strip()

    def _undo(self) -> None:
        self.melody.value = " ".join(self.melody.value.split()[:-1])

    def _preview(self) -> None:
        """The melody's piano roll, or one sentence on what to change."""
        try:
            tune = melody.parse(self.melody.value)
        except ValueError as error:
            self.melody_note.value = _error(error)
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            index = generate.voice_index(self.melody_voice.value)
            sequence = mmm.decode(mmm.join({index: tune.cells()}), bpm=self.bpm.value)
        self.melody_note.value = f"{tune.bars} bar(s), {len(tune.notes)} notes"
        self.melody_roll.value = plots.save_piano_roll(sequence, io.BytesIO(), title="the melody").getvalue()

    def _melody_uploaded(self) -> None:
        upload = _uploaded(self.melody_upload)
        if upload is not None:
            try:
                self.melody.value = melody.notation(melody.read(upload))
            except ValueError as error:
                self.melody_note.value = _error(error)

    def _piece_uploaded(self) -> None:
        upload = _uploaded(self.piece_upload)
        if upload is not None:
            try:
                self._offer({f"uploaded {upload.name}": compose.read_piece(upload)}, "uploaded")
                self.compose_status.value = f"{html.escape(upload.name)} is ready: choose what to do with it"
            except ValueError as error:
                self.compose_status.value = _error(error)


def _error(error: Exception, prefix: str = "") -> str:
    """An error as one red sentence of HTML: its first line (or its kind, when it says nothing)."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f'<span style="color:#b00">{html.escape(prefix + message)}</span>'


def _uploaded(upload) -> Path | None:
    """The file last given to a FileUpload, saved under its name in a temporary folder (ipywidgets 7
    holds {name: {"content": …}}, 8 a tuple of {"name", "content"})."""
    import tempfile

    value = upload.value
    items = [(name, v["content"]) for name, v in value.items()] if isinstance(value, dict) else \
        [(v["name"], v["content"]) for v in value]
    if not items:
        return None
    name, content = items[-1]
    path = Path(tempfile.mkdtemp(prefix="jsfakes-upload-")) / Path(name).name
    path.write_bytes(bytes(content))
    return path
