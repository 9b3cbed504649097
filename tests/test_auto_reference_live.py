"""The auto reference in the live app on a real audio server (JACK dummy driver): a made voice
played as the input file gets a ``reference_auto`` log line naming the voice reference and its
F0 (after at most one provisional line: see the test), no switch back, and the health lines name
it too."""

from __future__ import annotations

import numpy as np
import pytest

from . import synth_voices
from .test_e2e_live import START_TIMEOUT_S, AppProcess

pytestmark = [pytest.mark.jack, pytest.mark.slow]


def test_a_voice_input_settles_auto_on_the_voice_reference(jack_server, tmp_path):
    import soundfile as sf

    make, _ = synth_voices.VOICES["made female voice"]
    path = tmp_path / "voice.wav"
    sf.write(path, make(48000, 12.0, seed=7).astype(np.float32), 48000)
    app = AppProcess(["--input-file", str(path), "--term-a", "warm", "--intensity", "1",
                      "--sample-rate", "48000", "--health-interval", "1"], jack_server.env(), tmp_path)
    try:
        app.wait_for(lambda r: r["event"] == "start", timeout=START_TIMEOUT_S)
        # Auto decides provisionally after about a second of sound and confirms or corrects that
        # once at 3 s (a voice kept is refitted to the F0 of 3 s): where the app starts hearing
        # the looping file decides which syllables that first second holds (a take that begins on
        # a held vowel can start as music), so the voice line may be the first or the second.
        voice = app.wait_for(lambda r: r["event"] == "reference_auto"
                             and r["reference"].startswith("auto → voice (F0 ≈ "), timeout=30)
        assert voice["reference"].endswith(" Hz)")
        # Seconds more of the same voice (past the confirming decision and round the 12 s loop)
        # bring no switch back to music and nothing new once auto has settled.
        n = len(app.events)
        health = None
        settled_at = None
        for i in range(10):
            health = app.wait_for(lambda r: r["event"] == "health" and r is not health, timeout=10,
                                  after=n)
            n = app.events.index(health) + 1
            if i == 4:
                settled_at = n
        lines = [r["reference"] for r in app.events if r["event"] == "reference_auto"]
        assert len(lines) <= 2, lines  # the provisional decision and its one correction or refit
        assert all(line.startswith("auto → voice (F0 ≈ ") for line in lines[lines.index(voice["reference"]):]), lines
        assert not any(r["event"] == "reference_auto" for r in app.events[settled_at:]), lines
        f0 = float(lines[-1].split("≈ ")[1].split(" Hz")[0])
        assert 170.0 < f0 < 260.0  # the made female voice's median F0 is about 210 Hz
        assert health["reference"] == "auto → voice"
    finally:
        assert app.terminate() == 0
