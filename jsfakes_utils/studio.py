"""The generation studio: choices in, chorales out — heard, seen, scored and saved.

Introduced in notebook 05. `generate_and_play` is the whole path as one plain function (what the
CLI and CI call); `Studio` puts ipywidgets controls in front of it, in three tabs:

    "Audio generation": style, voice, first note, BPM, temperature, top-p, voice leading, best of,
                        seed, pieces, constrained, an instrument per voice -> Generate ->
                        player, score, piano roll, evaluation, downloads
    "Compose":          harmonise a melody (typed, played on a keyboard or uploaded), redo voices,
                        refill bars or continue a piece (generated, composed or uploaded), with the
                        Audio tab's settings -> Compose -> the same player, score, roll, downloads
    "Tokens":           the last result's words, a bar per line under its voice, with the validity report

Each press shows its own result, numbered (compositions keep a short history), and the status line
says it is done only once the result is drawn; the drawing works in any thread (JupyterLab 4.6 runs
widget callbacks in a worker thread). Only core ipywidgets are used (7.7 as on Colab, 8.x as in JupyterLab).
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
    instruments: object = None  # what plays each voice (as `audio.with_instruments` takes it); None: as written

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
            piece.files = export(piece, out, f"piece-{k + 1}", formats=formats)  # staves: the piece's instruments
    return Result(pieces, bpm, time.perf_counter() - started)


def to_piece(row: mmm.Tokens, bpm: float, instruments=None, sine: bool | None = None, strict: bool = True,
             bars: int | None = 4) -> Piece:
    """A token row decoded at `bpm` and synthesized; strict=False repairs an invalid row (with warnings);
    bars: how many each track should have (None: any)."""
    sequence = mmm.decode(row, bpm=bpm, strict=strict)
    tokens = " ".join(mmm.words(row))
    return Piece(tokens, mmm.validate(tokens, bars=bars), sequence,
                 audio.synthesize(sequence, instruments=instruments, sine=sine), instruments=instruments)


def piece_bytes(piece: Piece, kind: str, instruments=None, title: str | None = None) -> bytes:
    """The piece as a file's bytes, `kind` one of FORMATS: tokens (txt), MIDI (tempo = the BPM),
    WAV, the piano roll (png), the score as MusicXML or drawn (svg), its staves named after the instruments
    (default: those it was played with). The one place a piece becomes a file."""
    instruments = piece.instruments if instruments is None else instruments
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
# the Tokens tab: a line per bar, long lines wrapped at word boundaries and indented past their bar's start
TOKENS = "font-family:monospace;font-size:12px;white-space:normal;word-break:normal;overflow-wrap:normal"
LINE = "padding-left:{}ch;text-indent:-4ch;margin:0;line-height:1.5"  # a hanging indent: a wrapped line's rest 4 further in
STALE = '<div style="color:#b00">Below: the result of an earlier press, not this one.</div>'
PACKAGE = Path(__file__).resolve().parent


def _download_link(data: bytes, filename: str, mime: str, label: str) -> str:
    encoded = base64.b64encode(data).decode()
    return f'<a download="{filename}" href="data:{mime};base64,{encoded}" target="_blank" style="{LINK}">{label}</a>'


def tokens_html(tokens: str) -> str:
    """A piece's words as HTML: a line per bar under its track's line, which names the voice."""
    voices = {f"INST={inst}": name for inst, name in zip(mmm.JSFAKES_INSTS, mmm.VOICE_NAMES)}
    lines = []
    for line in mmm.pretty(tokens).splitlines():
        words = line.split()
        voice = next((voices[w] for w in words if w in voices), None)
        text = html.escape(line.strip()) + (f" <b>({voice})</b>" if voice else "")
        lines.append(f'<p style="{LINE.format(8 if line.startswith(" ") else 4)}">{text}</p>')  # bars 4 in
    return f'<div class="jsfakes-tokens" style="{TOKENS}">{"".join(lines)}</div>'


def notices(caught) -> list[str]:
    """What a user must know of the warnings this package raised (a melody moved, a repair, a fallback),
    each once, in order; other libraries' warnings are left to the log."""
    seen = []
    for warning in caught:
        message = str(warning.message)
        if issubclass(warning.category, UserWarning) and Path(warning.filename).resolve().is_relative_to(PACKAGE) \
                and message not in seen:
            seen.append(message)
    return seen


def _notice_html(messages: list[str]) -> str:
    return "".join(f'<div style="color:#a15c00">⚠ {html.escape(m)}</div>' for m in messages)


class Studio:
    """The widget app. `display(Studio())` or just `Studio()` as a cell's last line shows it.

    `Studio.generate()` is what the Generate button calls, `Studio.compose()` the Compose button; both
    also run headless (tests, CI), and in whichever thread calls them (JupyterLab 4.6 runs widget
    callbacks in a worker thread).
    """

    NOTHING_YET = "Nothing generated yet: choose on the “Audio generation” tab and press Generate."
    HISTORY = 5  # compositions kept on the Compose tab

    def __init__(self, model=None, tokenizer=None, reference=None):
        import ipywidgets as w

        if model is None:
            model, tokenizer = bundled()
        self.model, self.tokenizer, self.reference = model, tokenizer, reference
        self.result: Result | None = None
        wide = {"description_width": "110px"}
        self.voice = w.Dropdown(options=list(mmm.VOICE_NAMES), value="soprano", description="starting voice",
                                style=wide)
        # only the styles this model was trained on (their tags are in its vocabulary)
        styles = [k for k, tags in generate.STYLES.items() if f"STYLE={tags[0]}" in tokenizer.get_vocab()] \
            if tokenizer is not None else ["jsfakes"]
        self.style = w.Dropdown(options=styles or ["jsfakes"], value=(styles or ["jsfakes"])[0],
                                description="style", style=wide)
        # the first note, read as a number and a name ("62 · D4"); its range follows the starting voice
        self.first_note = w.SelectionSlider(options=self._notes("soprano"), description="first note", style=wide)
        self.first_note.value = (self.first_note.options[0][1] + self.first_note.options[-1][1]) // 2
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
        self.generations = 0  # presses of Generate that made something, numbered from 1
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

    def _notes(self, voice: str) -> list[tuple[str, int]]:
        """The first notes a voice may start on, labelled with their names: ("62 · D4", 62), …"""
        low, high = generate.pitch_range(voice, self.tokenizer)
        return [(f"{pitch} · {mmm.note_name(pitch)}", pitch) for pitch in range(low, high + 1)]

    def _voice_changed(self, change) -> None:
        notes = self._notes(change["new"])
        kept = min(max(self.first_note.value, notes[0][1]), notes[-1][1])  # the same note where the voice has it
        self.first_note.options = notes
        self.first_note.value = kept

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
        import ipywidgets as w

        settings = self.settings()

        def shown(result):
            name = f"generation {self.generations + 1}"  # counted once it is drawn
            heading = (f"<b>{name.capitalize()}</b>: {settings.n} piece(s) starting with the {settings.voice} on "
                       f"{mmm.note_name(settings.first_note) if settings.first_note else 'its own note'}, "
                       f"{settings.style} style, seed {settings.seed}")
            boxes = self._show(result, name)
            self.generations += 1
            self._offer(_labelled(result, name), lambda label: label.startswith("generation "))
            return [w.HTML(heading)] + boxes

        result = self._attempt(self.button, self.status, self.results, "generate", lambda: generate_and_play(
            self.model, self.tokenizer, settings, reference=self.reference), shown)
        if result is not None:
            self.result = result
        return result

    def _attempt(self, button, status, output, verb: str, work, show) -> Result | None:
        """`work()`'s Result, drawn by `show` into `output`, with `button` off meanwhile and `status` saying
        how it went only once the result is on screen. A failure anywhere, generating or drawing, is one
        red sentence, and what `output` still shows is marked as an earlier press's. The warnings a user
        must know of (a melody moved, a fallback) are shown under the status, progress bars not at all
        (a callback's output goes to a log nobody reads)."""
        import ipywidgets as w

        button.disabled = True
        status.value = f"<i>{verb[:-1]}ing…</i>"  # generating…, composing…
        started = time.perf_counter()
        try:
            with config.quiet(), warnings.catch_warnings(record=True) as caught:  # the status line says it
                warnings.simplefilter("always")
                result = work()
                output.children = show(result)
        except Exception as error:  # shown to the user: the studio must not crash
            status.value = _error(error, f"Could not {verb}: ")
            old = [c for c in output.children if not (isinstance(c, w.HTML) and c.value == STALE)]
            output.children = [w.HTML(STALE)] + old if old else []
            return None
        finally:
            button.disabled = False
        status.value = (f"{len(result.pieces)} piece(s) in {time.perf_counter() - started:.1f} s"
                        + _notice_html(notices(caught)))
        return result

    def _show(self, result: Result, name: str) -> list:
        """The widgets that show a result (player, score, piano roll, downloads per piece); the Tokens tab
        shows their words."""
        import ipywidgets as w

        boxes = []
        for k, piece in enumerate(result.pieces, 1):
            links = " · ".join(_download_link(piece_bytes(piece, kind), f"piece-{k}.{kind}", mime, label)
                               for kind, mime, label in DOWNLOADS)
            boxes.append(w.VBox([
                w.HTML(f"<b>Piece {k}</b> at {result.bpm:g} BPM: {html.escape(piece.summary())} — download {links}"),
                w.Audio(value=piece_bytes(piece, "wav"), format="wav", autoplay=False, loop=False),
                w.HTML(f'<div class="jsfakes-score" style="max-width:900px">{piece_bytes(piece, "svg").decode()}</div>'),
                w.Image(value=piano_roll_png(piece, f"{name}, piece {k}"), format="png")]))
        self.tokens.value = f"<h3>{name.capitalize()}</h3>" + "".join(
            f"<h4>Piece {k}: {html.escape(str(p.report).splitlines()[0])}</h4>{tokens_html(p.tokens)}"
            + ("" if p.report.ok else f"<pre>{html.escape(str(p.report))}</pre>")
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
    KEYS_LEGEND = ("<small>The keys write <a href='https://lilypond.org/doc/v2.24/Documentation/notation/writing-pitches'"
                   f" target='_blank' style='{LINK}'>LilyPond</a> words: c' is middle C (C4), c'' the C above; "
                   "<i>is</i> a sharp (cis' = C♯4), <i>es</i> a flat (bes' = B♭4); the number is the length "
                   "(4 a quarter, 8. a dotted eighth), r a rest, | a bar line.</small>")
    VOICES_LABEL = {"regenerate": "voices to redo", "refill": "voices to refill (none ticked: all four)"}

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
            if k % 12 in (1, 3, 6, 8, 10):  # the black keys: white names (ipywidgets 8 has text_color)
                key.style.button_color = "#555"
                if "text_color" in key.style.keys:
                    key.style.text_color = "white"
        extra = [("rest", lambda: self._type(f"r{self._length()}")), ("| bar", lambda: self._type("|")),
                 ("undo", self._undo), ("clear", lambda: setattr(self.melody, "value", ""))]
        self.edit_buttons = [w.Button(description=name, layout=w.Layout(width="70px")) for name, _ in extra]
        for button, (_, action) in zip(self.edit_buttons, extra):
            button.on_click(lambda _, action=action: action())
        upload = w.Layout(width="auto", min_width="190px")  # room for the label and the file count
        self.melody_upload = w.FileUpload(accept=".mid,.midi,.musicxml,.xml,.mxl", multiple=False,
                                          description="melody file", layout=upload)
        self.melody_upload.observe(lambda _: self._melody_uploaded(), names="value")
        self.melody_note = w.HTML()
        self.melody_roll = w.Image(format="png", layout=w.Layout(max_width="760px"))
        self.melody_voice.observe(lambda _: (self._relabel_keys(), self._preview()), names="value")
        self.melody.observe(lambda _: self._preview(), names="value")
        self._relabel_keys()
        melody_box = w.VBox([self.melody_voice, self.melody,
                             w.HBox(self.keys[:12]), w.HBox(self.keys[12:]), w.HTML(self.KEYS_LEGEND),
                             w.HBox([self.duration, self.dotted] + self.edit_buttons),
                             w.HBox([self.melody_upload, self.melody_note]), self.melody_roll])
        # the piece: one generated or composed here, or a token or MIDI file
        self.piece = w.Dropdown(options=[], description="piece", style=wide, layout=w.Layout(width="380px"))
        self.piece_upload = w.FileUpload(accept=".txt,.mid,.midi", multiple=False, description="piece file",
                                         layout=upload)
        self.piece_upload.observe(lambda _: self._piece_uploaded(), names="value")
        self.voices = [w.Checkbox(value=False, description=name, indent=False, layout=w.Layout(width="90px"))
                       for name in mmm.VOICE_NAMES]
        self.refill_bars = w.Text(value="3", description="bars", style=wide, placeholder="e.g. 3 or 2,3")
        self.length = w.IntSlider(value=8, min=5, max=16, description="continue to", style=wide)  # bars in all
        self.piece.observe(lambda _: self._piece_chosen(), names="value")
        self.voices_label = w.HTML(layout=w.Layout(width="260px"))
        self.voice_row = w.HBox([self.voices_label] + self.voices)
        piece_box = w.VBox([w.HBox([self.piece, self.piece_upload]), self.voice_row, self.refill_bars, self.length])
        self.compose_button = w.Button(description="Compose", button_style="primary", icon="pencil")
        self.compose_button.on_click(lambda _: self.compose())
        self.compose_status = w.HTML()
        self.compose_results = w.VBox()
        self.composed: Result | None = None  # what Compose made last
        self.compositions = 0  # presses of Compose that made something, numbered from 1
        self.history: list[tuple[str, list]] = []  # the last HISTORY compositions: (name, widgets)
        self._boxes = {"melody": melody_box, "piece": piece_box}
        self.task.observe(lambda _: self._show_task(), names="value")
        self._show_task()
        self._preview()
        return w.VBox([self.task, melody_box, piece_box,
                       w.HTML("<i>Style, temperature, voice leading, seed, pieces, BPM and instruments: "
                              "as set on the Audio generation tab.</i>"),
                       w.HBox([self.compose_button, self.compose_status]), self.compose_results])

    def compose(self) -> Result | None:
        """Compose with the current controls and show the result, numbered, above the last few; an error
        becomes one sentence."""
        task, what = self._task_words()
        result = self._attempt(self.compose_button, self.compose_status, self.compose_results, "compose",
                               lambda: self._composed(task), lambda result: self._remember(result, what))
        if result is not None:
            self.composed = result
        return result

    def _task_words(self) -> tuple[str, str]:
        """The task, and what it does in words (a composition's heading)."""
        task, settings = self.task.value, self.settings()
        voices = ", ".join(v.description for v in self.voices if v.value)
        what = {"harmonize": f"the {self.melody_voice.value} melody “{self.melody.value.strip()[:60]}” harmonised",
                "regenerate": f"{voices or 'no voice'} redone in {self.piece.value}",
                "refill": f"bar(s) {self.refill_bars.value} of {voices or 'every voice'} refilled in {self.piece.value}",
                "continue": f"{self.piece.value} continued to {self.length.value} bars"}[task]
        return task, f"{what}; seed {settings.seed}, {settings.n} piece(s)"

    def _remember(self, result: Result, what: str) -> list:
        """A new composition shown first, numbered, with the last few a click away."""
        import ipywidgets as w

        name = f"composition {self.compositions + 1}"
        heading = w.HTML(f"<b>{name.capitalize()}</b>: {html.escape(what)}")
        boxes = self._show(result, name)
        self.compositions += 1  # counted once it is drawn
        self.history = (self.history + [(name, [heading] + boxes)])[-self.HISTORY:]
        kept = {n for n, _ in self.history}  # pieces of compositions out of the history are not offered
        self._offer(_labelled(result, name),
                    lambda label: label.startswith("composition ") and label.split(" · ")[0] not in kept)
        shown = w.VBox(self.history[-1][1])
        if len(self.history) == 1:
            return [shown]
        chooser = w.ToggleButtons(options=[n for n, _ in reversed(self.history)], value=name,
                                  style={"button_width": "120px"})
        by_name = dict(self.history)
        chooser.observe(lambda change: setattr(shown, "children", by_name[change["new"]]), names="value")
        return [chooser, shown]

    def _composed(self, task: str) -> Result:
        """What the Compose tab's controls ask for, played."""
        started = time.perf_counter()
        settings = self.settings()
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
        """Only the controls the task uses; the voice choice starts afresh for each task (alto to redo,
        none, meaning all four, to refill)."""
        task = self.task.value
        self._boxes["melody"].layout.display = "" if task == "harmonize" else "none"
        self._boxes["piece"].layout.display = "none" if task == "harmonize" else ""
        self.voice_row.layout.display = "" if task in self.VOICES_LABEL else "none"
        self.voices_label.value = f"<b>{self.VOICES_LABEL.get(task, '')}</b>"
        for box in self.voices:
            box.value = task == "regenerate" and box.description == "alto"
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

    def _offer(self, rows: dict[str, str], drop) -> None:
        """Add `rows` ({label: row}) to what Compose can start from, less the labels `drop(label)` is true
        of (a family's older pieces); the first new one is chosen."""
        self.pieces = {k: v for k, v in self.pieces.items() if not drop(k)} | rows
        self.piece.options = list(self.pieces)
        self.piece.value = next(iter(rows))
        self._piece_chosen()

    # the melody keyboard: two octaves from the melody voice's C, writing LilyPond words
    def _key_word(self, k: int) -> str:
        pitch = self.KEYBOARD_FROM[self.melody_voice.value] + k
        return melody.notation(melody.Melody(((0, 1, pitch),), 1)).split()[0][:-2] + self._length()

    def _length(self) -> str:
        return self.duration.value + "." * self.dotted.value

    def _relabel_keys(self) -> None:
        """Each key named as musicians say it (C♯4), the LilyPond word it writes in its tooltip."""
        for k, key in enumerate(self.keys):
            key.description = mmm.note_name(self.KEYBOARD_FROM[self.melody_voice.value] + k)
            key.tooltip = f"writes {self._key_word(k).rstrip('0123456789.')}"

    def _type(self, word: str) -> None:
        self.melody.value = f"{self.melody.value.rstrip()} {word}".strip()

    def _undo(self) -> None:
        self.melody.value = " ".join(self.melody.value.split()[:-1])

    def _preview(self) -> None:
        """The melody's piano roll as it will be harmonised (moved into the voice's range, which it says),
        or one sentence on what to change and no roll."""
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                tune = melody.fit(melody.parse(self.melody.value), self.melody_voice.value, self.tokenizer)
        except ValueError as error:
            self.melody_note.value = _error(error)
            self.melody_roll.layout.display = "none"  # not the previous melody's roll
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            index = generate.voice_index(self.melody_voice.value)
            sequence = mmm.decode(mmm.join({index: tune.cells()}), bpm=self.bpm.value)
        self.melody_note.value = f"{tune.bars} bar(s), {len(tune.notes)} notes" + _notice_html(notices(caught))
        self.melody_roll.value = plots.save_piano_roll(sequence, io.BytesIO(), title="the melody").getvalue()
        self.melody_roll.layout.display = ""

    def _melody_uploaded(self) -> None:
        upload = _uploaded(self.melody_upload)
        if upload is not None:
            try:
                self.melody.value = melody.notation(melody.read(upload))
            except ValueError as error:
                self.melody_note.value = _error(error)
                self.melody_roll.layout.display = "none"

    def _piece_uploaded(self) -> None:
        upload = _uploaded(self.piece_upload)
        if upload is not None:
            try:
                self._offer({f"uploaded · {upload.name}": compose.read_piece(upload)},
                            lambda label: label.startswith("uploaded "))
                self.compose_status.value = f"{html.escape(upload.name)} is ready: choose what to do with it"
            except ValueError as error:
                self.compose_status.value = _error(error)


def _labelled(result: Result, name: str) -> dict[str, str]:
    """A result's pieces as Compose offers them: {"NAME · piece K": row}."""
    return {f"{name} · piece {k}": p.tokens for k, p in enumerate(result.pieces, 1)}


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
