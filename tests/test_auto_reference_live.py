"""The auto reference in the live app on a real audio server (JACK dummy driver): a made voice
played as the input file gets one ``reference_auto`` log line naming the voice reference and its
F0, and the health lines name it too."""

from __future__ import annotations

import numpy as np
import pytest

from . import synth_voices
from .test_e2e_live import START_TIMEOUT_S, AppProcess

pytestmark = [pytest.mark.jack, pytest.mark.slow]


def test_a_voice_input_switches_auto_to_the_voice_reference_once(jack_server, tmp_path):
    import soundfile as sf

    make, _ = synth_voices.VOICES["made female voice"]
    path = tmp_path / "voice.wav"
    sf.write(path, make(48000, 12.0, seed=7).astype(np.float32), 48000)
    app = AppProcess(["--input-file", str(path), "--term-a", "warm", "--intensity", "1",
                      "--sample-rate", "48000", "--health-interval", "1"], jack_server.env(), tmp_path)
    try:
        app.wait_for(lambda r: r["event"] == "start", timeout=START_TIMEOUT_S)
        switch = app.wait_for(lambda r: r["event"] == "reference_auto", timeout=30)
        assert switch["reference"].startswith("auto → voice (F0 ≈ ") and switch["reference"].endswith(" Hz)")
        f0 = float(switch["reference"].split("≈ ")[1].split(" Hz")[0])
        assert 170.0 < f0 < 260.0  # the made female voice's median F0 is about 210 Hz
        n = len(app.events)
        health = app.wait_for(lambda r: r["event"] == "health", timeout=10, after=n)
        assert health["reference"] == "auto → voice"
        # The file loops (12 s): seconds more of the same voice bring no second switch.
        app.wait_for(lambda r: r["event"] == "health" and r is not health, timeout=10, after=n + 1)
        assert sum(r["event"] == "reference_auto" for r in app.events) == 1
    finally:
        assert app.terminate() == 0
