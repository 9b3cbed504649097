"""The boost cap in the running app (real JACK server, dummy driver): configured on the command
line, applied to the sound exactly as the engine computes it offline, and reported in the health
line."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_e2e_live import BLOCK, SR, AppProcess, tone_levels_db

pytestmark = [pytest.mark.jack, pytest.mark.slow]

TONES_HZ = [100, 1000, 10000]


def test_cap_in_the_live_app_matches_the_engine_and_is_reported(jack_server, tmp_path):
    import soundfile as sf

    from semeq_live.audio.sources import tone_mix
    from semeq_live.control.engine import SemanticEngine
    from semeq_live.control.state import ControlState
    from semeq_live.dsp.design import response_db
    from semeq_live.model import load_model

    rec_path = tmp_path / "capped.wav"
    app = AppProcess(["--record", str(rec_path), "--test-signal", "tones", "--term-a", "bright",
                      "--term-b", "bright", "--intensity", "1.5", "--no-autogain", "--no-adaptive",
                      "--max-boost-db", "3", "--block-size", str(BLOCK), "--sample-rate", str(SR),
                      "--health-interval", "0.5"], jack_server.env(), tmp_path)
    try:
        initial = app.wait_for(lambda r: r["event"] == "state" and r["source"] == "start", timeout=40)
        first_frame = initial["audio_frame"]  # the sound (with the EQ) starts here
        health = app.wait_for(lambda r: r["event"] == "health"
                              and (r.get("recorded_s") or 0) > first_frame / SR + 2.0, timeout=30)
        assert health["cap_acting"] is True and health["held_back_db"] > 3.0
        assert app.terminate() == 0, app.stderr()[-3000:]
    finally:
        app.terminate()

    rec, rate = sf.read(str(rec_path), dtype="float32", always_2d=True)
    assert rate == SR
    state = ControlState(term_a="bright", term_b="bright", intensity=1.5, adaptive=False, autogain=False)
    model = load_model()
    capped = SemanticEngine(model, SR, max_boost_db=3.0).compute(state)
    free = SemanticEngine(model, SR).compute(state)
    expected = response_db(capped.forward, TONES_HZ, SR)
    assert response_db(free.forward, TONES_HZ, SR).max() > 3.5  # the cap had something to do
    settled = rec[first_frame + SR // 2:first_frame + SR // 2 + SR]
    measured = tone_levels_db(settled) - tone_levels_db(tone_mix(SR, 2))
    np.testing.assert_allclose(measured, expected, atol=0.3)
    assert measured.max() <= 3.0 + 0.3
