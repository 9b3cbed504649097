#!/usr/bin/env bash
# Set up semeq-live on a fresh Debian machine: system audio packages, torch (CPU, pinned), the package.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

# Not `grep -q`: it stops reading at the first match, ldconfig then dies of SIGPIPE writing the
# rest, and with pipefail the library counted as missing now and then (apt-get ran in CI for an
# installed libportaudio2).
have_lib() { ldconfig -p 2>/dev/null | grep "$1" >/dev/null; }
need_apt=()
command -v jackd >/dev/null 2>&1 || need_apt+=(jackd2)
have_lib libportaudio.so.2 || need_apt+=(libportaudio2)
have_lib libsndfile.so.1 || need_apt+=(libsndfile1)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "[setup] apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# torch is for training only. Pin it *before* the package so pip never pulls a CUDA build.
if ! $PY -c "import torch" >/dev/null 2>&1; then
  echo "[setup] pip install torch==2.13.0 (CPU)"
  $PY -m pip install -q torch==2.13.0
fi

if ! $PY -c "import semeq_live, pytest, hypothesis, pyloudnorm, jack" >/dev/null 2>&1 \
   || [ pyproject.toml -nt .setup-stamp ]; then
  echo "[setup] pip install -e .[train,dev]"
  $PY -m pip install -q -e ".[train,dev]"
fi
# Compile the numba kernels into numba's cache now, so the first live start plays sound in about a
# second instead of compiling for 10+ s behind a silent stream; the control path's every version
# too (control/warm_up.py), so its first updates on stage load them instead of compiling.
$PY -c "from semeq_live.audio.block_kernel import warm_up; from semeq_live.dsp.processor import warmup; from semeq_live.model import load_model; from semeq_live.control.warm_up import warm_control_path; warm_up(2); warmup(); warm_control_path(load_model(), 48000)" \
  || echo "[setup] warning: could not pre-compile the numba kernels (they compile at first use)"
# The JACK MIDI input's real-time callbacks are numba code too; they need libjack (jackd2, above).
$PY -c "import sys; from semeq_live.midi.jack_input import load_native_callbacks; sys.exit(not load_native_callbacks())" \
  || echo "[setup] warning: could not pre-compile the JACK MIDI input (is libjack installed?)"
touch .setup-stamp
echo "[setup] ready: $($PY -c 'import semeq_live; print("semeq-live", semeq_live.__version__)')"
