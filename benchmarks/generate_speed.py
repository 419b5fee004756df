"""How fast the studio makes music: one chorale, tokens to WAV, and a batch of 8, from the bundled model.

    python benchmarks/generate_speed.py            # medians of 7 runs after one warm-up
    python benchmarks/generate_speed.py --repeats 3 --threads 2

Targets (issue 11, at the defaults, on the 2-core CPU): one chorale ≤ 1.5 s median, a batch of 8 ≤ 4 s.
A run is generate.sample (the defaults: constrained, voice-leading help) + decode + FluidSynth (or the sine synth) —
everything `studio.generate_and_play` does before showing a piece, without the piano roll.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from jsfakes_utils import audio, studio


def timed(n: int, seed: int, constrained: bool = True) -> tuple[float, int]:
    started = time.perf_counter()
    result = studio.generate_and_play(n=n, seed=seed, constrained=constrained)
    assert all(p.report.ok for p in result.pieces) or not constrained
    return time.perf_counter() - started, sum(p.report.n_tokens for p in result.pieces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per case (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    studio.bundled()  # loading is not generating
    timed(1, seed=-1)  # warm-up
    print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}, synth: {'FluidSynth' if audio.has_fluidsynth() else 'sine'}")
    print("case                         median s   min s   tokens/s")
    for label, n, constrained in [("1 chorale, constrained", 1, True), ("8 chorales, constrained", 8, True),
                                  ("1 chorale, free", 1, False), ("8 chorales, free", 8, False)]:
        runs = [timed(n, seed, constrained) for seed in range(args.repeats)]
        seconds = [s for s, _ in runs]
        rate = sum(t for _, t in runs) / sum(seconds)
        print(f"{label:27s}  {statistics.median(seconds):8.2f}  {min(seconds):6.2f}  {rate:9.0f}")


if __name__ == "__main__":
    main()
