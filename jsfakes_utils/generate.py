"""Writing chorales with a language model: prompts, sampling, and constrained decoding.

Introduced in notebook 04 (scoring trained models); notebook 05 builds the studio on it.

Constrained decoding, in three sentences. A `Grammar` follows a piece word by word as a small
state machine (which track, which bar, how many sixteenths into it, which note sounds) and, at
every step, lists the words that keep the piece valid *and* still let it finish within the
model's context. A `Guide` keeps one such state per row of a batch and turns the lists into
masks; the model's other words get probability zero before temperature, top-k and top-p. So every
piece is valid by construction, whatever the model — even an untrained one.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from . import counterpoint, mmm, sampling
from . import tokenizer as tokenizers

# Lowest and highest pitch of each voice in the js-fakes-4bars train split, by INST (soprano,
# alto, tenor, bass): `evaluate.reference(train, test).ranges`, checked by tests/test_generate.py.
VOICE_RANGES = {0: (54, 81), 48: (43, 78), 24: (46, 73), 32: (36, 64)}

# The styles a piece can be asked for: its STYLE= and GENRE= tags, as the training rows carry them
# (JS-Fakes rows JSFAKES/JSFAKES, music21's Bach chorales BACH/CHORALE; `data.load_rows("mix")`).
STYLES = {"jsfakes": ("JSFAKES", "JSFAKES"), "bach": ("BACH", "CHORALE")}

# Share of notes lasting 1, 2, … 16 sixteenths in the js-fakes-4bars train split (`evaluate`'s
# note-length histogram, checked by tests/test_counterpoint.py): best-of-N pulls the rhythm toward it.
NOTE_LENGTHS = np.array([0.0137, 0.3646, 0.0012, 0.5566, 0.0, 0.0093, 0.0002, 0.0444, 0.0, 0.0001, 0.0, 0.0078,
                         0.0, 0.0, 0.0, 0.0021])


# ----------------------------------------------------------------------------------------------
# Prompts
# ----------------------------------------------------------------------------------------------


def voice_index(voice: int | str) -> int:
    """0-3 for a voice given as an index or a name ('soprano', 'alto', 'tenor', 'bass')."""
    index = mmm.VOICE_NAMES.index(voice) if voice in mmm.VOICE_NAMES else voice
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool) or not 0 <= index < 4:
        raise ValueError(f"unknown voice {voice!r}: use 0-3 or one of {', '.join(mmm.VOICE_NAMES)}")
    return int(index)


def pitch_range(voice: int | str, tokenizer=None) -> tuple[int, int]:
    """The pitches a voice may start on: its range in the data, within what the tokenizer knows."""
    low, high = VOICE_RANGES[mmm.JSFAKES_INSTS[voice_index(voice)]]
    if tokenizer is not None:
        known = [p for p in range(low, high + 1) if f"NOTE_ON={p}" in tokenizer.get_vocab()]
        if not known:
            raise ValueError(f"the tokenizer knows no NOTE_ON in the {mmm.voice_name(voice_index(voice))} range")
        low, high = min(known), max(known)
    return low, high


def prompt(voice: int | str | None = "soprano", first_note: int | None = None, tokenizer=None,
           style: str = "jsfakes") -> str:
    """The words a piece starts with, from the user's choices (the seed's two sliders and a style).

    voice: which voice's track comes first (None: let the model choose from the header on).
    first_note: its first pitch (None: let the model choose); refused outside the voice's range.
    style: a key of `STYLES` ("jsfakes" or "bach"): the tags the piece starts with.
    tokenizer: when given, every word must be one it knows (a ValueError says which is not).
    """
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}: choose from {', '.join(STYLES)}")
    words = ["PIECE_START", *(f"{key}={value}" for key, value in zip(("STYLE", "GENRE"), STYLES[style]))]
    if voice is not None:
        words += ["TRACK_START", f"INST={mmm.JSFAKES_INSTS[voice_index(voice)]}", "BAR_START"]
        if first_note is not None:
            low, high = pitch_range(voice, tokenizer)
            if not (isinstance(first_note, (int, np.integer)) and low <= first_note <= high):
                raise ValueError(f"first note {first_note!r} is outside the {mmm.voice_name(voice_index(voice))} "
                                 f"range the model knows, {low}-{high}")
            words.append(f"NOTE_ON={first_note}")
    elif first_note is not None:
        raise ValueError("a first note needs a voice")
    if tokenizer is not None:
        unknown = tokenizers.unknown_words(tokenizer, words)
        if unknown:
            hint = f" (this model was not trained on the {style} style)" if unknown[0].startswith("STYLE=") else ""
            raise ValueError(f"the tokenizer does not know {unknown}: the model cannot start from them{hint}")
    return " ".join(words)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every choice about the pieces, in one place: built once where the user chooses (the CLI's
    flags, the studio's widgets, a notebook's keywords) and passed down as it is."""

    style: str = "jsfakes"  # the header's tags, a key of STYLES: "jsfakes" or "bach"
    voice: str | int | None = "soprano"  # the voice whose track comes first (None: the model chooses)
    first_note: int | None = None  # its first pitch, within the voice's range (None: the model chooses)
    temperature: float = 1.0  # <1 calmer, >1 wilder, 0 = greedy (the same piece every time)
    # The defaults below were chosen by measurement (benchmarks/voice_leading.py, 256 pieces; numbers in
    # benchmarks/RESULTS.md): top-p < 1 cuts the rare note lengths and skews the rhythm toward quarter notes
    # (note-length distance 1.7x the test split's at 0.95, 1.1x at 1.0); strength 6 leaves about one fault in
    # ten pieces, fewer than the data has, with both distances within 1.1x; best-of-N costs N times the time.
    top_p: float | None = 1.0  # sample among the fewest words holding this much probability (1 = all)
    seed: int = 0  # same settings + same seed = same pieces
    n: int = 1  # how many pieces
    constrained: bool = True  # only words that keep the piece valid (Grammar): every piece is valid
    voice_leading: float = 6.0  # nats each voice-leading fault a note adds costs it (counterpoint.KINDS); 0 = off
    best_of: int = 1  # candidates drawn per piece, the best kept (rerank); 1 = no reranking
    bpm: float = 100.0  # tempo of the audio and the MIDI file
    instruments: tuple | dict | None = None  # GM instrument (name or program) per voice, or {voice: one}; None: INSTs

    def __post_init__(self):
        if not (isinstance(self.bpm, (int, float)) and np.isfinite(self.bpm) and self.bpm > 0):
            raise ValueError(f"bpm must be a positive number, got {self.bpm!r}")
        if self.instruments is not None and not isinstance(self.instruments, dict):  # {voice: instrument} stays
            object.__setattr__(self, "instruments", tuple(self.instruments))

    def prompt(self, tokenizer=None) -> str:
        """The words the pieces start with (`prompt`)."""
        return prompt(self.voice, self.first_note, tokenizer, style=self.style)

    def sample(self, model, tokenizer=None, template: Template | None = None) -> list[str]:
        """The `n` rows these settings ask for (`sample`), all in one batch; `template`: music to keep
        (then the template, not voice and first note, says how the pieces start; `compose`)."""
        start = self.prompt(tokenizer) if template is None else "PIECE_START"
        return sample(model, tokenizer, self.n, start, temperature=self.temperature,
                      top_p=self.top_p, seed=self.seed, batch_size=max(self.n * self.best_of, 1),
                      constrained=self.constrained, voice_leading=self.voice_leading, best_of=self.best_of,
                      template=template)


# ----------------------------------------------------------------------------------------------
# Constrained decoding
# ----------------------------------------------------------------------------------------------


class State(NamedTuple):
    """Where a piece is, as far as validity goes."""

    phase: str = "start"  # start, head (tags), inst (after TRACK_START), track, bar, between, end
    tags: int = 0  # 1 after STYLE=…, 2 after GENRE=…
    insts: frozenset = frozenset()  # INSTs of the tracks so far
    inst: int | None = None  # this track's INST
    bars: int = 0  # bars finished in this track
    cursor: int = 0  # sixteenths into this bar
    pitch: int | None = None  # the sounding note
    onset: int = 0  # when it started
    after_delta: bool = False  # the last word was a TIME_DELTA


class Grammar:
    """Which words may come next so a js-fakes-4bars piece stays valid and can still finish.

    Rules (those of `mmm.validate`, in the canonical form `mmm.encode` writes):
    PIECE_START, at most STYLE= then GENRE=, then `tracks` tracks with distinct INSTs from
    `voice_insts`, each of `bars` bars, then PIECE_END. In a bar: one note at a time, NOTE_OFF only
    for the sounding note and only after time has passed, no bar beyond 16 sixteenths, no open note
    at BAR_END, no two TIME_DELTAs in a row and no rest at a bar's end (so encode(decode(row)) == row).
    Pitches: NOTE_ON words the vocabulary knows (with their NOTE_OFF), within `ranges` per INST.

    vocab: the word of each id (a tokenizer's or an n-gram's); words outside the format are never allowed.
    """

    def __init__(self, vocab: Sequence[str | None], voice_insts: Sequence[int] = mmm.JSFAKES_INSTS,
                 ranges: dict[int, tuple[int, int]] | None = VOICE_RANGES, bars: int = 4, tracks: int = 4):
        self.size, self.bars, self.tracks = len(vocab), bars, tracks
        self.parsed = [_parse(w) for w in vocab]
        by_kind: dict[str, dict] = {}
        for i, (word, parsed) in enumerate(zip(vocab, self.parsed)):
            if parsed:
                by_kind.setdefault(parsed[0], {})[parsed[1] if parsed[1] is not None else word] = i
        self.keyword = {k: next(iter(v.values())) for k, v in by_kind.items() if k in mmm.KEYWORDS}
        missing = sorted(mmm.KEYWORDS - set(self.keyword))
        if not by_kind.get("TIME_DELTA"):
            missing.append("TIME_DELTA=")
        self.insts = {i: by_kind.get("INST", {}).get(i) for i in voice_insts}
        if sum(i is not None for i in self.insts.values()) < tracks:
            missing.append(f"INST= for {tracks} of the voices {list(voice_insts)}")
        if missing:
            raise ValueError(f"cannot constrain decoding: the vocabulary lacks {', '.join(missing)}")
        ons, offs = by_kind.get("NOTE_ON", {}), by_kind.get("NOTE_OFF", {})
        self.note_on = {inst: [ons[p] for p in sorted(ons) if p in offs and
                               (ranges is None or inst not in ranges or ranges[inst][0] <= p <= ranges[inst][1])]
                        for inst in voice_insts}
        self.note_off = offs
        self.deltas = sorted(by_kind.get("TIME_DELTA", {}).items())  # (sixteenths, id)
        self.shortest = self.deltas[0][0] if self.deltas else 1  # the shortest note there can be
        self.tags = {k: list(by_kind.get(k, {}).values()) for k in ("STYLE", "GENRE")}  # ids
        self.track_cost = 3 + 2 * bars  # TRACK_START INST (BAR_START BAR_END)*bars TRACK_END

    def start(self, words: Sequence[str]) -> State:
        """The state after a prompt; ValueError if the prompt cannot begin a valid piece."""
        state = State()
        for i, word in enumerate(words):
            ids = self.allowed(state)
            parsed = _parse(word)
            if parsed is None or not any(self.parsed[j] == parsed for j in ids):
                raise ValueError(f"the prompt cannot begin a valid piece: {word!r} (word {i}) is not allowed after "
                                 f"{' '.join(words[max(0, i - 4):i]) or 'nothing'!r}")
            state = self.step(state, parsed)
        return state

    def step(self, state: State, parsed: tuple[str, int | None] | None) -> State:
        """The state after one word (its `mmm.parse_word` value); anything else leaves it as it is."""
        kind, value = parsed or (None, None)
        if kind == "PIECE_START":
            return state._replace(phase="head")
        if kind in ("STYLE", "GENRE"):
            return state._replace(tags=1 if kind == "STYLE" else 2)
        if kind == "TRACK_START":
            return state._replace(phase="inst")
        if kind == "INST":
            return state._replace(phase="track", insts=state.insts | {value}, inst=value, bars=0)
        if kind == "BAR_START":
            return state._replace(phase="bar", cursor=0, pitch=None, after_delta=False)
        if kind == "NOTE_ON":
            return state._replace(pitch=value, onset=state.cursor, after_delta=False)
        if kind == "TIME_DELTA":
            return state._replace(cursor=state.cursor + value, after_delta=True)
        if kind == "NOTE_OFF":
            return state._replace(pitch=None, after_delta=False)
        if kind == "BAR_END":
            return state._replace(phase="track", bars=state.bars + 1)
        if kind == "TRACK_END":
            return state._replace(phase="between")
        if kind == "PIECE_END":
            return state._replace(phase="end")
        return state

    def cost(self, state: State) -> int:
        """The fewest words that finish the piece from `state` (empty bars, empty tracks)."""
        def after(started: int) -> int:
            return (self.tracks - started) * self.track_cost + 1  # the tracks to come, PIECE_END
        done = len(state.insts)
        if state.phase == "start":
            return 1 + after(0)
        if state.phase == "head":
            return after(0)
        if state.phase == "inst":
            return self.track_cost - 1 + after(done + 1)
        if state.phase == "track":
            return 2 * (self.bars - state.bars) + 1 + after(done)
        if state.phase == "bar":
            if state.pitch is None:
                finish = 4 if state.after_delta else 1  # (NOTE_ON TIME_DELTA NOTE_OFF) BAR_END
            else:
                finish = 2 if state.cursor > state.onset else 3  # (TIME_DELTA) NOTE_OFF BAR_END
            return finish + 2 * (self.bars - state.bars - 1) + 1 + after(done)
        if state.phase == "between":
            return after(done)
        return 0

    def allowed(self, state: State, room: int | None = None) -> tuple[int, ...]:
        """Ids of the words that may come next; `room`: positions left in the context (None: no limit)."""
        ids = self._allowed(state)
        if room is None or self.cost(state) + 4 <= room:  # no single word raises the cost by more than 3
            return ids
        return tuple(i for i in ids if 1 + self.cost(self.step(state, self.parsed[i])) <= room)

    @functools.lru_cache(maxsize=65536)
    def _allowed(self, s: State) -> tuple[int, ...]:
        k = self.keyword
        if s.phase == "start":
            return (k["PIECE_START"],)
        if s.phase == "head":
            return tuple((self.tags["STYLE"] if s.tags == 0 else []) + (self.tags["GENRE"] if s.tags <= 1 else [])
                         + [k["TRACK_START"]])
        if s.phase == "inst":
            return tuple(i for inst, i in self.insts.items() if i is not None and inst not in s.insts)
        if s.phase == "track":
            return (k["BAR_START"] if s.bars < self.bars else k["TRACK_END"],)
        if s.phase == "between":
            return (k["TRACK_START"] if len(s.insts) < self.tracks else k["PIECE_END"],)
        if s.phase == "end":
            return (k["PIECE_END"],)  # what a finished row of a batch is padded with
        left = mmm.STEPS_PER_BAR - s.cursor
        if s.pitch is not None:  # a note sounds: let time pass, or end it once time has passed
            ids = [] if s.after_delta else [i for d, i in self.deltas if d <= left]
            return tuple(ids + ([self.note_off[s.pitch]] if s.cursor > s.onset else []))
        ons = self.note_on[s.inst] if left >= self.shortest else []
        if s.after_delta:  # after a rest: a note must follow (no rest at the end of a bar)
            return tuple(ons)
        rests = [i for d, i in self.deltas if d + self.shortest <= left] if ons else []
        return tuple(ons + rests + [k["BAR_END"]])


def _parse(word: str | None) -> tuple[str, int | None] | None:
    """`mmm.parse_word`, with the header tags told apart: ("STYLE", None), ("GENRE", None)."""
    parsed = mmm.parse_word(word) if word else None
    return (word.split("=")[0], None) if parsed and parsed[0] == "TAG" else parsed


@dataclasses.dataclass(frozen=True)
class Template:
    """A piece to write as a grid of cells, voice × bar: a fixed cell holds its words (BAR_START …
    BAR_END) and is kept note for note; a free one (None) is the model's to write.

    The `Guide` forces the fixed cells and constrains the free ones; `VoiceLeading` hears every
    fixed note from the start, also those that come after the pen. Tracks are written in `order`:
    wholly fixed tracks first (they go into the prompt), since the model was trained on rows whose
    tracks come in any order; the wholly free tracks come last, in the order the model chooses.
    Harmonising is one voice fixed; redoing a voice, three; refilling bars,
    every cell but those; continuing, the last two bars fixed as bars 1-2 of a new window.
    """

    cells: tuple[tuple[tuple[str, ...] | None, ...], ...]  # cells[voice][bar], voices 0-3 (S, A, T, B)
    order: tuple[int, ...] = (0, 1, 2, 3)  # the order of the tracks with kept cells; wholly free ones: the model's
    style: str = "jsfakes"  # the header's tags, a key of STYLES

    def __post_init__(self):
        if len(self.cells) != 4 or len({len(bars) for bars in self.cells}) != 1 or not self.cells[0]:
            raise ValueError("a template has 4 voices with the same number of bars (at least one)")
        if sorted(self.order) != [0, 1, 2, 3]:
            raise ValueError(f"a template's order names each voice 0-3 once, got {self.order}")
        free = [self.free(v) for v in self.order]
        if free != sorted(free):  # the model picks among them, so no kept track may follow one
            raise ValueError("in a template's order, the wholly free tracks come last")
        if self.style not in STYLES:
            raise ValueError(f"unknown style {self.style!r}: choose from {', '.join(STYLES)}")
        for voice, bars in enumerate(self.cells):
            for bar, cell in enumerate(bars):
                if cell is not None and (len(cell) < 2 or cell[0] != "BAR_START" or cell[-1] != "BAR_END"):
                    raise ValueError(f"the {mmm.voice_name(voice)}'s bar {bar + 1} is not BAR_START … BAR_END")

    @classmethod
    def of(cls, grid: dict[int, Sequence[Sequence[str]]], free: Sequence[tuple[int, int]], style: str = "jsfakes"):
        """The template of a piece's grid (`mmm.cells`) with the cells `free` ((voice, bar) pairs, from
        0) left to the model; tracks in the grid's order, the wholly fixed ones first."""
        cells = tuple(tuple(None if (v, b) in free else tuple(cell) for b, cell in enumerate(grid[v]))
                      for v in range(4))
        order = sorted(grid, key=lambda v: (None in cells[v], all(c is None for c in cells[v])))  # kept, partly, free
        return cls(cells, tuple(order), style)

    def free(self, voice: int) -> bool:
        """Is every cell of this voice the model's to write?"""
        return all(cell is None for cell in self.cells[voice])

    @property
    def bars(self) -> int:
        return len(self.cells[0])

    def free_first(self) -> bool:
        """Does some fixed cell come after a free one (so the model writes without hearing it)?"""
        flat = [cell for voice in self.order for cell in self.cells[voice]]
        return None in flat and any(cell is not None for cell in flat[flat.index(None):])

    def prompt(self) -> list[str]:
        """The words before the first free cell: the header, the wholly fixed tracks, and the fixed
        bars that open the next track (none when it is wholly free: the model chooses which)."""
        words = ["PIECE_START", *(f"{key}={value}" for key, value in zip(("STYLE", "GENRE"), STYLES[self.style]))]
        for voice in self.order:
            if self.free(voice):
                return words
            words += ["TRACK_START", f"INST={mmm.JSFAKES_INSTS[voice]}"]
            for cell in self.cells[voice]:
                if cell is None:
                    return words
                words += cell
            words.append("TRACK_END")
        return words + ["PIECE_END"]

    def words(self) -> set[str]:
        """Every word the fixed cells hold."""
        return {w for bars in self.cells for cell in bars if cell for w in cell}

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """The fixed notes on `counterpoint.grid`'s grid (free cells silent)."""
        empty = ("BAR_START", "BAR_END")
        row = mmm.join({v: [cell or empty for cell in self.cells[v]] for v in range(4)})
        return counterpoint.grid(mmm.voice_steps(row), self.bars * mmm.STEPS_PER_BAR)


class Guide:
    """One `Grammar` state per row of a batch: masks of allowed words, advanced word by word.

    With a `Template`, a fixed cell's words are the only ones allowed, the tracks come in its order,
    and the room check counts the fixed cells still to come at their exact length.
    """

    def __init__(self, grammar: Grammar, prompt_words: Sequence[str], n: int, length: int,
                 template: Template | None = None):
        """length: the longest a row may grow (prompt included), e.g. the model's context."""
        self.grammar, self.length, self.used, self.template = grammar, length, len(prompt_words), template
        state = grammar.start(prompt_words)
        self.states, self.pos = [state] * n, [0] * n  # pos: words of the current bar so far (with a template)
        if template is not None:
            if template.bars != grammar.bars:
                raise ValueError(f"the template has {template.bars} bars, the grammar {grammar.bars}")
            self.voice_of = {inst: v for v, inst in enumerate(mmm.JSFAKES_INSTS)}
            self.extra = [[len(c) - 2 if c else 0 for c in bars] for bars in template.cells]  # beyond BAR_START/END
            self.id_of = {p: i for i, p in reversed(list(enumerate(grammar.parsed))) if p}
            for word in template.words():
                if _parse(word) not in self.id_of:
                    raise ValueError(f"the model does not know {word!r}, a word of the music to keep")
        needed = grammar.cost(state) + self._ahead(state)
        if needed > length - self.used:
            raise ValueError(f"no valid piece fits in {length} words after this prompt "
                             f"(it needs at least {self.used + needed})")

    def advance(self, chosen: Sequence[int]) -> None:
        """Feed each row's newest word id (a negative id: the row is finished, nothing changes)."""
        parsed = self.grammar.parsed
        for row, (state, i) in enumerate(zip(self.states, chosen)):
            self.states[row] = self.grammar.step(state, parsed[i] if 0 <= i < len(parsed) else None)
            self.pos[row] = self.pos[row] + 1 if self.states[row].phase == "bar" and 0 <= i else 0
        self.used += 1

    def mask(self) -> np.ndarray:
        """(n, vocabulary) booleans: True where a word may come next."""
        out = np.zeros((len(self.states), self.grammar.size), bool)
        room = self.length - self.used
        for row, state in enumerate(self.states):
            forced = self._forced(state, self.pos[row])
            out[row, [forced] if forced is not None else
                list(self.grammar.allowed(state, room - self._ahead(state)))] = True
        return out

    def _forced(self, state: State, pos: int) -> int | None:
        """The template's word for this place (None: free, or no template)."""
        t = self.template
        if t is None:
            return None
        if state.phase == "inst":  # the next track is the template's next voice, unless all left are free:
            voice = t.order[len(state.insts)]  # then the model chooses which it writes first, as it learnt to
            return None if t.free(voice) else self.grammar.insts[mmm.JSFAKES_INSTS[voice]]
        if state.phase == "bar":
            cell = t.cells[self.voice_of[state.inst]][state.bars]
            if cell is not None:
                return self.id_of[_parse(cell[pos])]
        return None

    def _ahead(self, state: State) -> int:
        """Words the fixed cells still to come hold beyond the BAR_START BAR_END `Grammar.cost` counts."""
        t = self.template
        if t is None:
            return 0
        total = sum(sum(self.extra[v]) for v, inst in enumerate(mmm.JSFAKES_INSTS) if inst not in state.insts)
        if state.phase in ("track", "bar"):
            total += sum(self.extra[self.voice_of[state.inst]][state.bars + (state.phase == "bar"):])
        return total


# ----------------------------------------------------------------------------------------------
# Voice-leading help: the yardstick's counters, asked before each note and each note length
# ----------------------------------------------------------------------------------------------


class VoiceLeading:
    """Lowers the score of notes that would add voice-leading faults, one state per batch row.

    MMM writes a piece voice by voice, so when a note is chosen the voices written before it are
    known at every sixteenth. Before a NOTE_ON it scores each candidate pitch, and before the
    TIME_DELTA that holds the note each candidate length, by how many faults it would add —
    crossings, spacing, parallel and hidden fifths / octaves (`counterpoint.faults` on the grid
    with the candidate in it: exactly what the yardstick counts); each fault costs `strength` (in
    logits, i.e. nats; `inf` forbids). Model-agnostic like `Guide`: `advance` hears the chosen
    ids, `penalty` says the cost. Made for constrained decoding, where every note is a NOTE_ON,
    one TIME_DELTA and its NOTE_OFF; free rows with chords are followed only approximately.
    """

    def __init__(self, vocab: Sequence[str | None], prompt_words: Sequence[str], n: int, strength: float,
                 bars: int = 4, voice_insts: Sequence[int] = mmm.JSFAKES_INSTS,
                 known: tuple[np.ndarray, np.ndarray] | None = None):
        """known: notes heard from the start (`Template.grid`: the music to keep, also what comes later)."""
        if not strength >= 0:
            raise ValueError(f"voice-leading strength must be >= 0, got {strength}")
        self.strength, self.size = strength, len(vocab)
        self.parsed = [mmm.parse_word(w) if w else None for w in vocab]
        self.note_ids = np.array([i for i, p in enumerate(self.parsed) if p and p[0] == "NOTE_ON"], int)
        self.note_pitches = np.array([self.parsed[i][1] for i in self.note_ids], int)
        self.delta_ids = {p[1]: i for i, p in enumerate(self.parsed) if p and p[0] == "TIME_DELTA"}
        self.voice_of = {inst: v for v, inst in enumerate(voice_insts)}
        self.rows = [_Lines(bars, known) for _ in range(n)]
        for word in prompt_words:
            for row in self.rows:
                row.hear(mmm.parse_word(word), self.voice_of)
        self._start = [row.count() for row in self.rows]

    @property
    def added(self) -> np.ndarray:
        """Faults added per row since the prompt: what the penalties counted, summed (each note
        changes only the faults its voice takes part in, so the grid's total moves by exactly that)."""
        return np.array([row.count() - start for row, start in zip(self.rows, self._start)])

    def advance(self, chosen: Sequence[int]) -> None:
        """Feed each row's newest word id (negative: the row is finished)."""
        for row, i in zip(self.rows, chosen):
            if 0 <= i < self.size:
                row.hear(self.parsed[i], self.voice_of)

    def penalty(self, allowed: np.ndarray | None = None) -> np.ndarray:
        """(n, vocabulary) costs to subtract from the scores (0 where nothing is at stake).

        allowed: an (n, vocabulary) mask of the words that may come at all (e.g. the grammar's);
        the others are not scored, which only saves time.
        """
        out = np.zeros((len(self.rows), self.size))
        if self.strength == 0:
            return out
        asked = []  # (row, word ids, candidate grids): every row's candidates, scored together below
        for k, row in enumerate(self.rows):
            if not row.in_bar or row.cursor >= mmm.STEPS_PER_BAR or not row.others():
                continue
            if row.note is None:  # a NOTE_ON may come: score every pitch as a note starting now
                ids, pitches = self.note_ids, self.note_pitches
                if allowed is not None:
                    keep = allowed[k, ids]
                    ids, pitches = ids[keep], pitches[keep]
                lengths = np.ones_like(pitches)
            elif not row.timed:  # the note's length comes next: score every length that fits
                lengths = np.array([d for d, i in self.delta_ids.items() if d <= mmm.STEPS_PER_BAR - row.cursor
                                    and (allowed is None or allowed[k, i])], int)
                ids, pitches = np.array([self.delta_ids[d] for d in lengths], int), np.full_like(lengths, row.note)
            else:
                continue
            if len(ids):
                asked.append((k, ids, row.candidates(pitches, lengths)))
        for voice in {self.rows[k].voice for k, _, _ in asked}:  # one call per voice: faults(…, voice) counts its pairs
            mine = [(k, ids, grids) for k, ids, grids in asked if self.rows[k].voice == voice]
            found = sum(counterpoint.faults(np.concatenate([g[0] for _, _, g in mine]),
                                            np.concatenate([g[1] for _, _, g in mine]), voice).values())
            start = 0
            for k, ids, _ in mine:  # each row's candidates, then its grid as it is
                out[k, ids] = self._cost(found[start:start + len(ids)] - found[start + len(ids)])
                start += len(ids) + 1
        return out

    def _cost(self, added: np.ndarray) -> np.ndarray:
        added = np.maximum(added, 0)  # joining two crossings into one is no merit
        # inf: a cost no model's score outweighs, yet finite, so a row with no clean choice still samples
        return np.where(added > 0, 1e4, 0.0) if np.isinf(self.strength) else self.strength * added


class _Lines:
    """One row's grid of the voices written so far (`counterpoint.grid`), and where the pen is."""

    def __init__(self, bars: int, known: tuple[np.ndarray, np.ndarray] | None = None):
        self.pitch = np.full((4, bars * mmm.STEPS_PER_BAR), -1)
        self.onset = np.zeros_like(self.pitch, dtype=bool)
        if known is not None:  # the notes to keep: heard again as they are written, they change nothing
            self.pitch[:], self.onset[:] = known
        self.voice, self.bar, self.cursor, self.in_bar = None, -1, 0, False
        self.note, self.start, self.timed = None, 0, False  # sounding pitch, its step, its length known

    def hear(self, parsed, voice_of) -> None:
        kind, value = parsed if parsed else (None, None)
        if kind == "TRACK_START" or kind == "TRACK_END":
            self.voice, self.bar, self.note, self.in_bar = None, -1, None, False
        elif kind == "INST":  # (a free row may name one mid-track: an unknown voice is not followed)
            self.voice = voice_of.get(value)
            self.in_bar = self.in_bar and self.voice is not None
        elif kind == "BAR_START":
            self.bar, self.cursor, self.note = self.bar + 1, 0, None
            self.in_bar = self.voice is not None and self.bar < self.pitch.shape[1] // mmm.STEPS_PER_BAR
        elif kind == "BAR_END" or not self.in_bar:
            self.in_bar = False
        elif kind == "NOTE_ON" and self.note is None and self.cursor < mmm.STEPS_PER_BAR:
            self.note, self.start, self.timed = value, self.bar * mmm.STEPS_PER_BAR + self.cursor, False
            self._write(self.start, self.start + 1)
        elif kind == "TIME_DELTA":
            end = self.bar * mmm.STEPS_PER_BAR + min(self.cursor + value, mmm.STEPS_PER_BAR)
            if self.note is not None and not self.timed:
                self._write(self.start, end)
                self.timed = True
            self.cursor += value
        elif kind == "NOTE_OFF" and value == self.note:
            self.note = None

    def others(self) -> bool:
        """Has any other voice been written yet (else no note can make a fault)?"""
        return self.voice is not None and bool((np.delete(self.pitch, self.voice, axis=0) >= 0).any())

    def count(self) -> int:
        """Every fault of the grid as it is now."""
        return int(sum(counterpoint.faults(self.pitch, self.onset).values()))

    def _write(self, start: int, end: int) -> None:
        self.pitch[self.voice, start:end] = self.note
        self.onset[self.voice, start] = True

    def candidates(self, pitches: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The grid with each candidate note (pitch, length from the pen) in it, then the grid as it is:
        (pitch, onset), each (C + 1, 4, steps); faults(…)[:-1] - faults(…)[-1] is what each adds."""
        start = self.start if self.note is not None else self.bar * mmm.STEPS_PER_BAR + self.cursor
        pitch = np.repeat(self.pitch[None], len(pitches) + 1, axis=0)
        onset = np.repeat(self.onset[None], len(pitches) + 1, axis=0)
        steps = np.arange(pitch.shape[-1])
        inside = (steps >= start) & (steps < start + lengths[:, None])  # (C, steps)
        pitch[:-1, self.voice] = np.where(inside, pitches[:, None], pitch[:-1, self.voice])
        onset[:-1, self.voice, start] = True
        return pitch, onset


# ----------------------------------------------------------------------------------------------
# Sampling
# ----------------------------------------------------------------------------------------------


def context_size(model) -> int:
    """How many words a model can see: GPT-2's n_positions, another HF model's, or an n-gram's rows."""
    config = getattr(model, "config", None)
    if config is None:
        return 512
    return getattr(config, "n_positions", None) or config.max_position_embeddings


def sample(model, tokenizer=None, n: int = 1, prompt: mmm.Tokens = "PIECE_START", temperature: float = 1.0,
           top_k: int | None = None, top_p: float | None = None, seed: int = 0, batch_size: int = 32,
           max_new_tokens: int | None = None, constrained: bool = True, voice_leading: float = 0.0,
           best_of: int = 1, template: Template | None = None) -> list[str]:
    """`n` rows sampled after `prompt`, each stopping at PIECE_END (or the model's context).

    model: a causal LM with its tokenizer (a GPT-2 trained by `train`, any checkpoint), or an
        `ngram.NGram` (tokenizer None).
    temperature: 0 = greedy (the same row every time); <1 calmer, >1 wilder.
    top_k / top_p: sample among the k likeliest words / the smallest set holding p of the mass.
    constrained: only words that keep the piece valid (`Grammar`): every row is a valid piece.
    voice_leading: how much each voice-leading fault (`counterpoint.KINDS`) a note would add costs it, in
        nats (`VoiceLeading`; 0 = off, the rows are then exactly those without it; inf = forbidden).
    best_of: draw this many candidates per piece and keep the best by `rerank` (1 = no reranking).
    template: music to keep (`Template`): its fixed cells note for note, the model writing the free
        ones; the prompt is then the template's (`Template.prompt`).
    """
    if not (isinstance(best_of, (int, np.integer)) and best_of >= 1):
        raise ValueError(f"best_of must be a whole number >= 1, got {best_of!r}")
    if best_of > 1:
        candidates = sample(model, tokenizer, n * best_of, prompt, temperature, top_k, top_p, seed,
                            batch_size, max_new_tokens, constrained, voice_leading, template=template)
        return rerank(model, tokenizer, [candidates[k * best_of:(k + 1) * best_of] for k in range(n)])
    if temperature < 0 or not np.isfinite(temperature):
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    bars = 4
    if template is not None:
        if not constrained:
            raise ValueError("keeping music (a template) needs constrained decoding")
        if all(cell is not None for voice in template.cells for cell in voice):
            raise ValueError("nothing to write: every bar of every voice is kept")
        prompt, bars = template.prompt(), template.bars
    words = mmm.words(prompt)
    vocab = _vocabulary(model, tokenizer)
    known = set(vocab)
    unknown = [w for w in dict.fromkeys(words) if w not in known]
    if unknown:
        raise ValueError(f"the tokenizer does not know {unknown}: the model cannot start from them")
    length = context_size(model)
    if max_new_tokens is not None:
        length = min(length, len(words) + max_new_tokens)
    grammar = _grammar(tuple(vocab), bars) if constrained else None
    known = template.grid() if template is not None else None
    rows = []
    for start in range(0, n, batch_size):
        b = min(batch_size, n - start)
        guide = Guide(grammar, words, b, length, template) if grammar else None
        helper = VoiceLeading(vocab, words, b, voice_leading, bars, known=known) if voice_leading else None
        if tokenizer is None:  # an n-gram
            rows += model.sample(b, words, temperature, top_k, top_p=top_p, seed=seed + start,
                                 max_tokens=length, guide=guide, voice_leading=helper)
        else:
            rows += _sample_lm(model, tokenizer, vocab, words, b, temperature, top_k, top_p, seed + start, length,
                               guide, helper)
    return rows


def log_likelihoods(model, tokenizer, rows: Sequence[str], batch_size: int = 32) -> np.ndarray:
    """Each row's mean ln P(word | the words before it), every word after its first: how likely
    the model itself finds the piece, whatever steered the sampling (nats per word)."""
    if tokenizer is None:  # an n-gram; a row of one word has nothing to score: -inf, never preferred
        return np.array([model.token_log_probs(r).mean() if len(mmm.words(r)) > 1 else -np.inf for r in rows])
    out = []
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    model.eval()
    for start in range(0, len(rows), batch_size):
        ids = [tokenizer.convert_tokens_to_ids(mmm.words(r)) for r in rows[start:start + batch_size]]
        longest = max(len(i) for i in ids)
        batch = torch.tensor([i + [pad] * (longest - len(i)) for i in ids], device=model.device)  # (B, T)
        real = torch.tensor([[1] * len(i) + [0] * (longest - len(i)) for i in ids], device=model.device)
        with torch.inference_mode():
            logits = model(input_ids=batch, attention_mask=real).logits.float()  # (B, T, V)
        picked = torch.log_softmax(logits[:, :-1], -1).gather(-1, batch[:, 1:, None])[..., 0]  # (B, T-1)
        mask = real[:, 1:].float()
        out += ((picked * mask).sum(1) / mask.sum(1).clamp(min=1)).tolist()
    return np.array(out)


def rerank(model, tokenizer, groups: Sequence[Sequence[str]], faults: float = 0.05, rhythm: float = 1.0) -> list[str]:
    """The best row of each group of candidates: highest mean log-likelihood (`log_likelihoods`)
    minus `faults` per voice-leading fault (`counterpoint.count`, the yardstick's counter) minus
    `rhythm` times the total-variation distance of its note lengths from `NOTE_LENGTHS`."""
    flat = [row for group in groups for row in group]
    score = log_likelihoods(model, tokenizer, flat)
    score -= faults * np.array([sum(counterpoint.count(r).values()) for r in flat])
    score -= rhythm * np.array([_length_distance(r) for r in flat])
    best, start = [], 0
    for group in groups:
        best.append(group[int(np.argmax(score[start:start + len(group)]))])
        start += len(group)
    return best


def _length_distance(row: str) -> float:
    lengths = [min(max(e - s, 1), mmm.STEPS_PER_BAR) for notes in mmm.voice_steps(row).values() for s, e, _ in notes]
    if not lengths:
        return 1.0
    hist = np.bincount(np.array(lengths) - 1, minlength=mmm.STEPS_PER_BAR) / len(lengths)
    return float(np.abs(hist - NOTE_LENGTHS / NOTE_LENGTHS.sum()).sum() / 2)


@functools.lru_cache(maxsize=8)
def _grammar(vocab: tuple[str, ...], bars: int = 4) -> Grammar:
    return Grammar(vocab, bars=bars)


def _vocabulary(model, tokenizer) -> list[str]:
    """The word of each id the model scores (an n-gram's columns, or the tokenizer's ids)."""
    if tokenizer is None:
        return list(model.vocab)
    size = max(len(tokenizer), getattr(model.config, "vocab_size", 0))
    words = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    return words + [""] * (size - len(words))


def _sample_lm(model, tokenizer, vocab, words, b, temperature, top_k, top_p, seed, length, guide,
               helper) -> list[str]:
    """`b` rows from a Hugging Face causal LM, through the one sampling loop (`sampling.run`); vocab: `_vocabulary`."""
    # Never sampled: padded embedding rows (no word) and the padding word (what a finished row is filled with)
    known = torch.tensor([bool(w) and w != tokenizer.pad_token for w in vocab], device=model.device)
    end = vocab.index("PIECE_END") if "PIECE_END" in vocab else -1
    steps = _GPT2Steps(model, b) if _GPT2Steps.fits(model) else _CachedSteps(model)
    prompt = torch.tensor([tokenizer.convert_tokens_to_ids(words)] * b, device=model.device)  # (B, T)

    device = model.device  # (a property that walks the parameters: read it once)

    def next_probs(chosen, active):
        ids = prompt if chosen is None else torch.from_numpy(np.where(chosen < 0, max(end, 0), chosen))[:, None]
        logits = steps(ids.to(device)).float()  # (B, V) for the word after each row's last
        probs = torch.softmax(logits.masked_fill(~known, -torch.inf), dim=-1)
        return probs[torch.from_numpy(active).to(device)].double().cpu().numpy()

    model.eval()
    with torch.inference_mode():
        picked = sampling.run(next_probs, b, length - len(words), end, temperature, top_k, top_p, seed, guide, helper)
    return [" ".join(words + [vocab[i] for i in ids]) for ids in picked]


class _CachedSteps:
    """Any causal LM's scores for the word after each row's last, one new word per call (KV cache)."""

    def __init__(self, model):
        self.model, self.cache = model, None
        self.key = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:  # (B, T) new words -> (B, V)
        out = self.model(input_ids=ids, use_cache=True, **{self.key: self.cache})
        self.cache = out[self.key]
        return out.logits[:, -1]


class _GPT2Steps:
    """`_CachedSteps` for a GPT-2, its forward pass written out over a KV cache of its own.

    The same arithmetic as transformers' GPT2LMHeadModel (tests/test_generate.py compares the
    scores), in about half the time per word on a small CPU, where the library's per-layer
    bookkeeping (cache objects, masks, hooks) costs more than the layers' matrix products.
    """

    @staticmethod
    def fits(model) -> bool:
        c = model.config
        return (c.model_type == "gpt2" and c.scale_attn_weights and not c.scale_attn_by_inverse_layer_idx
                and not c.reorder_and_upcast_attn and not c.add_cross_attention)

    def __init__(self, model, batch: int):
        c, weight, net = model.config, model.transformer.wte.weight, model.transformer
        self.model, self.heads, self.t, self.eps = model, c.n_head, 0, c.layer_norm_epsilon
        self.cache = torch.zeros(c.n_layer, 2, batch, c.n_head, 128, c.n_embd // c.n_head,
                                 dtype=weight.dtype, device=weight.device)  # (L, k/v, B, H, T, D), grows
        tanh = c.activation_function in ("gelu_new", "gelu_pytorch_tanh")  # GPT-2's own: exact in torch
        self.act = (lambda x: torch.nn.functional.gelu(x, approximate="tanh")) if tanh else None
        # the weights themselves, read once: calling each module costs more than its product at batch 1
        self.layers = [(b.ln_1.weight, b.ln_1.bias, b.attn.c_attn.weight, b.attn.c_attn.bias, b.attn.c_proj.weight,
                        b.attn.c_proj.bias, b.ln_2.weight, b.ln_2.bias, b.mlp.c_fc.weight, b.mlp.c_fc.bias,
                        b.mlp.c_proj.weight, b.mlp.c_proj.bias, b.mlp.act) for b in net.h]
        self.embed, self.positions = net.wte.weight, net.wpe.weight
        self.final = (net.ln_f.weight, net.ln_f.bias, model.lm_head.weight, model.lm_head.bias)

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:  # (B, T) new words -> (B, V)
        F, (B, T), t = torch.nn.functional, ids.shape, self.t
        assert t == 0 or T == 1, "a prompt first, then one word per row at a time"
        if t + T > self.cache.shape[4]:  # grow it 128 words at a time: rows rarely fill the context
            shape = list(self.cache.shape)
            shape[4] = max(128, t + T - shape[4])
            self.cache = torch.cat([self.cache, self.cache.new_zeros(shape)], dim=4)
        x = (self.embed[ids] + self.positions[t:t + T]).view(B * T, -1)  # (B*T, C)
        C = x.shape[-1]
        for (ln1_w, ln1_b, attn_w, attn_b, proj_w, proj_b, ln2_w, ln2_b, fc_w, fc_b, out_w, out_b, act), cache \
                in zip(self.layers, self.cache):
            qkv = torch.addmm(attn_b, F.layer_norm(x, (C,), ln1_w, ln1_b, self.eps), attn_w)  # GPT-2's Conv1D
            q, k, v = qkv.view(B, T, 3, self.heads, -1).permute(2, 0, 3, 1, 4)  # each (B, H, T, D)
            cache[0, :, :, t:t + T], cache[1, :, :, t:t + T] = k, v
            a = F.scaled_dot_product_attention(q, cache[0, :, :, :t + T], cache[1, :, :, :t + T], is_causal=T > 1)
            x = x + torch.addmm(proj_b, a.transpose(1, 2).reshape(B * T, C), proj_w)
            hidden = torch.addmm(fc_b, F.layer_norm(x, (C,), ln2_w, ln2_b, self.eps), fc_w)
            x = x + torch.addmm(out_b, self.act(hidden) if self.act else act(hidden), out_w)
        self.t += T
        ln_w, ln_b, head_w, head_b = self.final
        last = F.layer_norm(x.view(B, T, C)[:, -1], (C,), ln_w, ln_b, self.eps)
        return F.linear(last, head_w, head_b)  # (B, V)
