#!/usr/bin/env bash
# Make the project's environment on a fresh machine: Debian's libfluidsynth3 and fluid-soundfont-gm
# when they are missing and can be installed, a virtual environment, and the Python packages at the tested pins.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

# Debian packages the project uses when they are there: FluidSynth's library (audio), the FluidR3
# General MIDI SoundFont (real instruments; without it, pretty_midi's small TimGM6mb), and Chromium with
# its driver (tests/test_browser.py; without them it is skipped, except in CI).
missing=()
"$PYTHON" -c "import ctypes.util, sys; sys.exit(ctypes.util.find_library('fluidsynth') is None)" || missing+=(libfluidsynth3)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || missing+=(fluid-soundfont-gm)
command -v chromium >/dev/null || missing+=(chromium)  # the browser test drives the studio in it
command -v chromedriver >/dev/null || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" != none ] && command -v apt-get >/dev/null; then
    echo "installing Debian's ${missing[*]}"
    { $SUDO apt-get install -y -qq "${missing[@]}" || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${missing[@]}"; }; } \
      >/dev/null 2>&1 || echo "note: could not install ${missing[*]}: audio falls back (TimGM6mb, or a sine synth); the browser test needs chromium"
  else
    echo "note: ${missing[*]} missing and this user cannot install packages: audio falls back (TimGM6mb, or a sine synth); the browser test needs chromium"
  fi
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# The exact tested set first (nothing left for pip to resolve), then the project itself.
"$VENV/bin/python" -m pip install -q -r constraints.txt
"$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[dev]"
echo "environment ready in $VENV"
