"""Composing with the model: harmonise a melody, redo a voice, refill bars, continue a piece.

Introduced in notebook 06. One mechanism does all four. A piece is a grid of cells, voice × bar
(`mmm.cells`); a `generate.Template` says which cells are kept, note for note, and which the model
writes. The grid is written window by window, four bars at a time, because the model learned
4-bar rows: each window starts two bars before the first cell still to write, so what was kept or
written just before is heard. Then:

- harmonise = the melody's voice kept, the other three written (a longer melody, window by window);
- redo a voice = the other three kept;
- refill bars = every cell kept but those bars (of all voices, or of some);
- continue = empty bars added at the end and written, two at a time after the last two.

Where a kept cell comes after one the model writes (refill bar 3 of 4), the model cannot hear it
coming: then `CANDIDATES` pieces are drawn in one batch and the one the model finds likeliest as a
whole, kept cells included, with the fewest voice-leading faults, is kept (`generate.rerank`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import generate, melody, mmm

WINDOW = 4  # bars the model writes at once: the rows it was trained on
CONTEXT = 2  # bars kept before the first cell to write, when there are that many
CANDIDATES = 4  # pieces drawn per result where a kept cell follows a written one (unless best_of says more)
FILES = (".mid", ".midi")  # what `read_piece` takes besides token files (.txt) and rows

Grid = dict[int, list[list[str]]]  # voice -> its cells (bar words), in track order


def read_piece(source: str | Path, line: int = 1) -> str:
    """A piece to compose from: a token row, a token file (its `line`, from 1) or a MIDI file of the
    four voices; any number of bars. ValueError, in one sentence, for anything else."""
    from . import data

    text = str(source)
    if text.lstrip().startswith("PIECE_START"):
        row, name = text, "the piece"
    elif Path(text).suffix.lower() in FILES:
        sequence = data.read_midi(text)
        try:
            rows = mmm.encode(sequence, bars=None)
        except ValueError as error:
            raise ValueError(f"{text}: cannot be written as MMM ({error})") from None
        row, name = (rows[0] if rows else ""), text
    else:
        rows = data.read_rows(text)
        if not 1 <= line <= len(rows):
            raise ValueError(f"{text} has {len(rows)} row(s): choose a line from 1 to {len(rows)}")
        row, name = rows[line - 1], f"{text} line {line}"
    try:
        grid = mmm.cells(row)
    except ValueError as error:
        raise ValueError(f"{name} is {error}; composing needs a valid piece of the four voices") from None
    if sorted(grid) != [0, 1, 2, 3]:
        raise ValueError(f"{name} has the voices {', '.join(mmm.voice_name(v) for v in grid)}; composing needs "
                         "all four (S, A, T, B)")
    return row


def harmonize(tune: melody.Melody | str, voice: int | str = "soprano", model=None, tokenizer=None,
              settings: generate.Settings | None = None) -> list[str]:
    """`settings.n` pieces with `tune` (notation text or a `melody.Melody`) kept note for note as
    `voice`, the other three written by the model; a melody longer than four bars, window by window."""
    model, tokenizer, settings = _defaults(model, tokenizer, settings)
    index = generate.voice_index(voice)
    tune = melody.fit(melody.parse(tune) if isinstance(tune, str) else tune, index, tokenizer)
    empty = [["BAR_START", "BAR_END"]] * tune.bars
    grid = {index: tune.cells()} | {v: list(empty) for v in range(4) if v != index}
    free = [(v, b) for v in range(4) if v != index for b in range(tune.bars)]
    return fill(grid, free, model, tokenizer, settings)


def regenerate(piece: mmm.Tokens, voices: Iterable[int | str], model=None, tokenizer=None,
               settings: generate.Settings | None = None) -> list[str]:
    """`settings.n` versions of `piece` with `voices` rewritten, the others kept note for note."""
    grid = mmm.cells(piece)
    chosen = _voices(voices)
    return fill(grid, [(v, b) for v in chosen for b in range(_bars(grid))], model, tokenizer, settings)


def refill(piece: mmm.Tokens, bars: Iterable[int], voices: Iterable[int | str] | None = None, model=None,
           tokenizer=None, settings: generate.Settings | None = None) -> list[str]:
    """`settings.n` versions of `piece` with `bars` (counted from 1) of `voices` (default all) rewritten."""
    grid = mmm.cells(piece)
    chosen = _voices(range(4) if voices is None else voices)
    bars = sorted(set(bars))
    if not bars or any(not 1 <= b <= _bars(grid) for b in bars):
        raise ValueError(f"bars to refill must be within 1-{_bars(grid)}, got {bars}")
    return fill(grid, [(v, b - 1) for v in chosen for b in bars], model, tokenizer, settings)


def extend(piece: mmm.Tokens, bars: int, model=None, tokenizer=None,
           settings: generate.Settings | None = None) -> list[str]:
    """`settings.n` continuations of `piece` to `bars` bars in all (the CLI's `continue`): the piece
    kept note for note, then two bars at a time written after its last two."""
    grid = mmm.cells(piece)
    have = _bars(grid)
    if not isinstance(bars, int) or bars <= have:
        raise ValueError(f"the piece has {have} bars: continue it to more than that, got {bars!r}")
    grid = {v: cells + [["BAR_START", "BAR_END"]] * (bars - have) for v, cells in grid.items()}
    return fill(grid, [(v, b) for v in range(4) for b in range(have, bars)], model, tokenizer, settings)


def fill(grid: Grid, free: Sequence[tuple[int, int]], model=None, tokenizer=None,
         settings: generate.Settings | None = None) -> list[str]:
    """`settings.n` pieces: `grid` with the cells `free` ((voice, bar) from 0) written by the model
    and every other cell kept, window by window (see the module docstring). The one loop under
    harmonize, regenerate, refill and extend. The pieces get the settings' style (its tags), and
    their tracks come in the order the first window was written in (kept tracks first)."""
    model, tokenizer, settings = _defaults(model, tokenizer, settings)
    todo = set(free)
    if not todo:
        raise ValueError("nothing to write: every bar of every voice is kept")
    pieces = [{v: list(cells) for v, cells in grid.items()} for _ in range(settings.n)]
    for number, (first, last) in enumerate(windows(_bars(grid), todo)):
        inside = {(v, b - first) for v, b in todo if first <= b < last}  # what was written stays
        todo -= {(v, b + first) for v, b in inside}
        groups: dict[generate.Template, list[int]] = {}  # pieces with the same window share a batch
        for k, piece in enumerate(pieces):
            window = {v: cells[first:last] for v, cells in piece.items()}
            groups.setdefault(generate.Template.of(window, inside, settings.style), []).append(k)
        for template, ks in groups.items():
            best_of = settings.best_of if settings.best_of > 1 or not template.free_first() else CANDIDATES
            seed = settings.seed if number == 0 else settings.seed + 1000 * number + ks[0]
            rows = dataclasses.replace(settings, n=len(ks), best_of=best_of, seed=seed).sample(
                model, tokenizer, template=template)
            for k, row in zip(ks, rows):
                written = mmm.cells(row)
                for v, b in inside:
                    pieces[k][v][first + b] = written[v][b]
                if number == 0:  # the tracks in the order the model wrote them: kept ones first
                    pieces[k] = {v: pieces[k][v] for v in written}
    tags = generate.STYLES[settings.style]
    return [mmm.join(piece, *tags) for piece in pieces]


def windows(bars: int, free: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The windows (first bar, bar after the last) that cover the bars with free cells, in order:
    WINDOW bars each (fewer in a shorter piece), starting CONTEXT bars before the first bar still
    to write."""
    todo = sorted({b for _, b in free})
    out = []
    while todo:
        first = max(0, min(todo[0] - CONTEXT, bars - WINDOW))
        last = min(first + WINDOW, bars)
        out.append((first, last))
        todo = [b for b in todo if b >= last]
    return out


def kept(before: mmm.Tokens, after: mmm.Tokens, free: Iterable[tuple[int, int]]) -> bool:
    """Are all cells of `before` but `free` the same in `after`, note for note?"""
    free, a, b = set(free), mmm.cells(before), mmm.cells(after)
    return all(a[v][k] == b[v][k] for v in a for k in range(len(a[v])) if (v, k) not in free)


def voice_list(text: str) -> list[str]:
    """"alto,tenor" -> ["alto", "tenor"]: voice names, comma-separated (the CLI's and the studio's)."""
    names = [v.strip() for v in text.split(",") if v.strip()]
    if not names or any(v not in mmm.VOICE_NAMES for v in names):
        raise ValueError(f"{text!r} is not voices from {', '.join(mmm.VOICE_NAMES)}, comma-separated")
    return names


def bar_list(text: str) -> list[int]:
    """"2,3" -> [2, 3]: bar numbers from 1, comma-separated (the CLI's and the studio's)."""
    try:
        bars = [int(b) for b in text.split(",")]
    except ValueError:
        bars = []
    if not bars or min(bars) < 1:
        raise ValueError(f"{text!r} is not bar numbers from 1, comma-separated, e.g. 3 or 2,3")
    return bars


def _defaults(model, tokenizer, settings):
    if model is None:
        from . import model as models  # (torch and transformers only when they are needed)

        model, tokenizer = models.bundled()
    return model, tokenizer, settings or generate.Settings()


def _voices(voices: Iterable[int | str]) -> list[int]:
    chosen = sorted({generate.voice_index(v) for v in voices})
    if not chosen:
        raise ValueError("choose at least one voice")
    return chosen


def bar_count(piece: mmm.Tokens) -> int:
    """How many bars a valid piece has (ValueError if it is not one)."""
    return _bars(mmm.cells(piece))


def _bars(grid: Grid) -> int:
    return len(next(iter(grid.values())))
