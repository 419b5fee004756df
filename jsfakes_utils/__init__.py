"""jsfakes_utils: the helper package behind the jsfakes notebooks (MMM format, data, tokenizer, audio)."""

import warnings

# note_seq imports pydub, which warns at import time that ffmpeg is missing; we never use it.
warnings.filterwarnings("ignore", message="Couldn't find ffmpeg or avconv", category=RuntimeWarning)

__version__ = "0.1.0"
