"""The fitted reference in the live app on a real audio server (JACK dummy driver): hats played
as the input file get estimates (the health line's ``estimate`` is "ok", its top words filled)
and the health line says the reference was fitted to them (``reference_fit``)."""

from __future__ import annotations

import numpy as np
import pytest

from . import synth_sources
from .test_e2e_live import START_TIMEOUT_S, AppProcess

pytestmark = [pytest.mark.jack, pytest.mark.slow]


def test_hats_get_an_estimate_and_the_health_line_names_the_fitted_reference(jack_server, tmp_path):
    import soundfile as sf

    path = tmp_path / "hats.wav"
    sf.write(path, synth_sources.hats(48000, 8.0, seed=7).astype(np.float32), 48000)
    app = AppProcess(["--input-file", str(path), "--term-a", "warm", "--intensity", "1",
                      "--sample-rate", "48000", "--health-interval", "1"], jack_server.env(), tmp_path)
    try:
        app.wait_for(lambda r: r["event"] == "start", timeout=START_TIMEOUT_S)
        health = app.wait_for(lambda r: r["event"] == "health" and r.get("estimate") == "ok"
                              and r.get("reference_fit"), timeout=30)
        assert health["reference"] == "auto → music"
        assert health["reference_fit"].startswith("auto → music, tilted +")
        assert health["reference_fit"].endswith("to fit this source: learn a reference for a truer neutral")
        assert health["top_terms"]
    finally:
        assert app.terminate() == 0
