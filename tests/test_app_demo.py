"""`semeq-live run` on a machine with no audio device at all renders the demo performance offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]


def no_audio_env() -> dict:
    env = dict(os.environ)
    env.update(JACK_DEFAULT_SERVER=f"semeq-absent-{os.getpid()}", JACK_NO_START_SERVER="1")
    return env


def test_run_without_audio_renders_the_demo_and_says_why(tmp_path):
    probe = subprocess.run(
        [sys.executable, "-c", "from semeq_live.audio.devices import list_audio_devices as l;"
         "print(sum(d.max_output_channels > 0 for d in l()))"],
        env=no_audio_env(), capture_output=True, text=True, cwd=str(REPO))
    if probe.stdout.strip() != "0":
        pytest.skip("this machine has a sound card: the no-audio fallback cannot be exercised")
    out = tmp_path / "demo.wav"
    r = subprocess.run([sys.executable, "-m", "semeq_live", "run", "--demo-output", str(out)],
                       env=no_audio_env(), capture_output=True, text=True, cwd=str(tmp_path),
                       timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "no audio device on this machine" in r.stderr
    assert f"wrote {out}" in r.stderr
    x, sr = sf.read(str(out), dtype="float32")
    assert x.shape[1] == 2 and x.shape[0] / sr == pytest.approx(20.0, abs=0.1)
    # Pink noise in, so any change of spectral balance over time is the performance's EQ moves.
    win = 2 * sr
    tilt = []
    for start in range(0, x.shape[0] - win + 1, win):
        spec = np.abs(np.fft.rfft(x[start:start + win, 0])) ** 2
        f = np.fft.rfftfreq(win, 1 / sr)
        tilt.append(10 * np.log10(spec[(f > 4000) & (f < 12000)].sum()
                                  / spec[(f > 60) & (f < 300)].sum()))
    assert np.ptp(tilt) > 3.0, tilt
