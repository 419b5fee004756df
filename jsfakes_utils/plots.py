"""Pictures of music with matplotlib (note_seq's bokeh plot does not work under bokeh 3).

Introduced in notebook 01.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import mmm

VOICE_COLORS = ("tab:red", "tab:orange", "tab:green", "tab:blue")  # soprano, alto, tenor, bass


def piano_roll(sequence, ax=None, title: str | None = None):
    """Draw the notes as bars, one colour per voice, with a line at every barline. Returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.5))
    qpm = sequence.tempos[0].qpm if sequence.tempos else mmm.DEFAULT_BPM
    beats = qpm / 60  # seconds -> quarter notes
    names = {info.instrument: info.name for info in sequence.instrument_infos}
    seen = []  # voices in the order their first note is drawn (the legend's handles come in this order)
    for note in sequence.notes:
        color = VOICE_COLORS[note.instrument % len(VOICE_COLORS)]
        label = None
        if note.instrument not in seen:
            seen.append(note.instrument)
            label = names.get(note.instrument) or mmm.voice_name(note.instrument)
        ax.add_patch(Rectangle((note.start_time * beats, note.pitch - 0.4),
                               (note.end_time - note.start_time) * beats, 0.8,
                               color=color, alpha=0.8, label=label))
    end = max([sequence.total_time] + [n.end_time for n in sequence.notes]) * beats
    bars = max(1, -int(-end // 4))  # whole bars, numbered from 1 at their first beat
    for bar in range(bars + 1):
        ax.axvline(4 * bar, color="0.8", linewidth=0.8, zorder=0)
    ax.set_xticks([4 * bar for bar in range(bars)], [str(bar + 1) for bar in range(bars)])
    ax.set_xlim(0, 4 * bars)
    pitches = [n.pitch for n in sequence.notes] or [60]
    low, high = min(pitches) - 2, max(pitches) + 2
    low, high = min(low, (low + high) // 2 - 7), max(high, (low + high) // 2 + 7)  # an octave at least: a C shows
    cs = range(-(-low // 12) * 12, high + 1, 12)
    ax.set_yticks(list(cs), [f"{mmm.note_name(c)} ({c})" for c in cs])  # each C, named as musicians do
    ax.set_yticks(range(low, high + 1), minor=True)
    ax.grid(axis="y", which="major", color="0.9", linewidth=0.8, zorder=0)
    ax.set_ylim(low, high)
    ax.set_xlabel("bar")
    ax.set_ylabel("pitch")
    if seen:  # S-A-T-B from the top, as a score lists them, outside the notes (right of the plot)
        handles, labels = ax.get_legend_handles_labels()
        order = sorted(range(len(handles)), key=lambda i: seen[i])
        ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    if title:
        ax.set_title(title)
    return ax


def save_piano_roll(sequence, path, title: str | None = None):
    """Draw a piano roll into a PNG file (a path, or a binary file object such as io.BytesIO); safe in any
    thread (a bare Figure: pyplot's global state is not touched)."""
    fig = Figure(figsize=(10, 3.5))
    piano_roll(sequence, ax=fig.add_subplot(), title=title)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100, bbox_inches="tight")  # the legend sits beside the plot
    return path


def loss_curve(history, ax=None, title: str | None = None):
    """Training loss and eval loss against the step, from a Trainer's log history (a list of dicts,
    as `train.train` returns and writes to history.json). Returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    train_log = [(h["step"], h["loss"]) for h in history if "loss" in h]
    eval_log = [(h["step"], h["eval_loss"]) for h in history if "eval_loss" in h]
    if train_log:
        ax.plot(*zip(*train_log), label="training loss")
    if eval_log:
        ax.plot(*zip(*eval_log), "o-", markersize=3, label="eval loss (test rows)")
    ax.set_xlabel("step")
    ax.set_ylabel("nats per token")
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return ax
