"""How long building js-fakes-4bars from the 500 MIDI files takes (target: at most 5 s on 2 cores).

    python benchmarks/build_speed.py

Times the whole `python -m jsfakes_utils data` work inside one process (read MIDI, encode, shuffle,
write train/test, train and save the tokenizer), after the imports, best and median of --repeat runs.
"""

import argparse
import os
import statistics
import tempfile
import time

from jsfakes_utils import config, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help=f"JS-Fakes folder (default: ${config.DATA_DIR_VARIABLE}, else the package's)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (default: %(default)s)")
    args = parser.parse_args()
    folder = config.jsfakes_dir(args.data_dir)
    times = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            rows = data.load_rows("jsfakes", folder)
            data.write(rows, out)
            times.append(time.perf_counter() - started)
    print(f"{rows.summary()}")
    print(f"build of {len(rows.train) + len(rows.test):,} rows on {os.cpu_count()} CPU(s): "
          f"best {min(times):.2f} s, median {statistics.median(times):.2f} s over {args.repeat} runs")


if __name__ == "__main__":
    main()
