#!/usr/bin/env bash
# Make the project's environment on a fresh machine: Debian's libfluidsynth3 when it is missing and
# can be installed, a virtual environment, and the Python packages at the tested pins.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

if ! "$PYTHON" -c "import ctypes.util, sys; sys.exit(ctypes.util.find_library('fluidsynth') is None)"; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" != none ] && command -v apt-get >/dev/null; then
    echo "installing Debian's libfluidsynth3 (for FluidSynth audio)"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libfluidsynth3 >/dev/null \
      || echo "note: could not install libfluidsynth3: audio will fall back to a sine synth"
  else
    echo "note: libfluidsynth3 is missing and this user cannot install packages: audio will fall back to a sine synth"
  fi
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# The exact tested set first (nothing left for pip to resolve), then the project itself.
"$VENV/bin/python" -m pip install -q -r constraints.txt
"$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[dev]"
echo "environment ready in $VENV"
