"""Sources far from the built-in reference (issue 11: an estimate in >= 90 % of the live updates
for any source with signal over a few octaves): the made hats and the sources of
``tests/far_sources.py`` (made after the fit was designed on the hats and the sung line, never
tuned on), on the default path (``auto``, nothing learned), with a chosen built-in and with a
learned reference from another instrument. The reference is fitted to the source
(``semeq_live/analysis/reference_fit.py``), the estimate says so, and the warm target at k = 1
stays a correction, not a slam. Takes with seed 5 (docs/adaptive.md's figures: seed 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from semeq_live.analysis import Analyzer, ReferenceSpectrum
from semeq_live.control.engine import SemanticEngine
from semeq_live.control.state import ControlState
from semeq_live.params import ANALYSIS_FREQS

from . import evidence as E
from . import far_sources, synth_sources

SEED = 5
SECONDS = 8.0
# Far from the music reference (their tilt against it: hats +7, cymbal bus +5.5, band-limited
# noise +4.5-5.8, piccolo -6 dB per octave); the kick drum is not (-1 dB per octave: a mix has
# as much low end), and is here to show it is judged as before.
FAR = {"hats": synth_sources.SOURCES["hats"], **{n: far_sources.FAR[n] for n in
                                                  ("cymbal bus", "band-limited noise", "piccolo")}}
ALL = {**FAR, "kick drum": far_sources.FAR["kick drum"]}


@pytest.fixture(scope="module")
def bundled_model():
    from semeq_live.model import load_model

    return load_model()


def _take(name, model, shape, seed=SEED):
    make, fs = ALL[name]
    x = make(fs, SECONDS, seed=seed)[:, None]
    return (x if shape is None else E.shape_with_term(x, fs, model, shape)), fs


def _default_path(name, model, shape):
    x, fs = _take(name, model, shape)
    an = Analyzer(fs, 1, model=model, reference="auto")
    return an, E.live_estimates(an, x), fs


@pytest.mark.parametrize("shape", ["warm", "bright"])
@pytest.mark.parametrize("name", list(ALL))
def test_a_far_source_gets_an_estimate_on_the_default_path(name, shape, bundled_model):
    an, ests, _ = _default_path(name, bundled_model, shape)
    after = E.settled(ests)
    confident = [e for e in after if e.confident]
    assert len(confident) >= 0.9 * len(after), sorted({e.reason for e in after if not e.confident})
    assert all(e.reason.startswith("listening") for e in after if not e.confident)
    fitted = [e for e in confident if e.reference_note is not None]
    if name == "kick drum":
        assert not fitted  # near enough to a mix's spectrum: judged as before
        return
    # Most estimates judge it against the music reference fitted to it, and say so (the piccolo
    # leans less far in some stretches: its high notes' harmonics fill 5-12 kHz).
    assert len(fitted) >= 0.7 * len(confident)
    for e in fitted:
        assert e.reference == "auto → music"
        assert e.reference_note.startswith("auto → music, tilted ")
        assert e.reference_note.endswith("to fit this source: learn a reference for a truer neutral")
        assert abs(e.reference_tilt_db_per_oct) > 3.0


@pytest.mark.parametrize("name", list(FAR))
def test_the_warm_target_on_a_far_source_is_a_correction_not_a_slam(name, bundled_model):
    """k = 1, warm target, every update once the window is full: over the bands with signal the
    EQ cuts by at most 7 dB (the static warm target alone: 2-3 dB there; judged against the
    unfitted music reference, band-limited noise shaped warm got a 12 dB high cut), stays within
    +-12 dB, and boosts nothing where the input has nothing (the boost ceiling's 0.5 dB)."""
    for shape in ("warm", "bright"):
        an, ests, fs = _default_path(name, bundled_model, shape)
        engine = SemanticEngine(bundled_model, fs)
        state = ControlState(term_a="warm", term_b="warm", intensity=1.0, autogain=False)
        for e in ests[int(round(E.WINDOW_S / E.UPDATE_S)):]:
            applied = engine.compute(state, e).applied_db(ANALYSIS_FREQS, fs)
            assert np.all(np.abs(applied) <= 12.0 + 1e-6)
            assert applied[e.band_weight >= 0.5].min() > -7.0, (shape, e.time_s, e.reference_note)
            assert applied[e.band_weight == 0.0].max(initial=0.0) <= 0.6


def test_a_sine_melody_is_still_a_near_pure_tone(bundled_model):
    make, fs = synth_sources.SOURCES["sine melody"]
    an = Analyzer(fs, 1, model=bundled_model, reference=ReferenceSpectrum.builtin("pink"))
    after = E.settled(E.live_estimates(an, make(fs, SECONDS, seed=SEED)[:, None]))
    assert after and all(not e.confident and e.reason.startswith("near-pure tone") for e in after)


def test_a_chosen_built_in_is_fitted_the_same_way_and_named(bundled_model):
    """``--reference pink`` on hats: the same fit, the chosen reference named in the note."""
    x, fs = _take("hats", bundled_model, None)
    an = Analyzer(fs, 1, model=bundled_model, reference=ReferenceSpectrum.builtin("pink"))
    after = E.settled(E.live_estimates(an, x))
    assert np.mean([e.confident for e in after]) >= 0.9
    assert all(e.reference_note.startswith("pink, tilted +") for e in after if e.confident)


def test_a_learned_reference_from_another_instrument_says_it_does_not_fit(bundled_model):
    """Soundcheck on the lead line (200 Hz-6 kHz), then the cymbal bus plays: an estimate, and
    the user is told the learned reference does not fit this input."""
    make, fs = synth_sources.SOURCES["lead line"]
    an = Analyzer(fs, 1, model=bundled_model)
    E.live_estimates(an, make(fs, SECONDS, seed=1)[:, None])
    an.learn_reference()
    cymbals = far_sources.cymbal_bus(fs, SECONDS, seed=SEED)[:, None]
    after = E.settled(E.live_estimates(an, cymbals))
    confident = [e for e in after if e.confident]
    assert len(confident) >= 0.9 * len(after)
    assert all("the learned reference does not fit this input" in (e.reference_note or "")
               for e in confident[-10:])


def test_analyze_prints_the_estimate_and_the_fitted_reference(tmp_path):
    import soundfile as sf

    make, fs = synth_sources.SOURCES["hats"]
    path = tmp_path / "hats.wav"
    sf.write(path, make(fs, 6.0, seed=SEED).astype(np.float32), fs)
    out = subprocess.run([sys.executable, "-m", "semeq_live", "analyze", str(path), "--json"],
                         capture_output=True, text=True, check=True)
    doc = json.loads(out.stdout)
    assert doc["overall"]["confident"] and doc["overall"]["profile"]
    assert doc["reference"] == "auto → music (no single voice heard)"
    assert doc["reference_fit"].startswith("auto → music, tilted +")
    assert doc["overall"]["reference_tilt_db_per_oct"] > 4.5
    assert doc["per_second"][-1]["confident"] and doc["per_second"][-1]["reference_note"]
    text = subprocess.run([sys.executable, "-m", "semeq_live", "analyze", str(path)],
                          capture_output=True, text=True, check=True, env={**__import__("os").environ,
                                                                           "COLUMNS": "200"}).stdout
    assert "reference fitted: auto → music, tilted +" in text
    assert "no estimate" not in text.split("overall")[1]


def test_the_panel_shows_the_fitted_reference():
    import io

    from rich.console import Console

    from semeq_live.bench.ui import sample_status
    from semeq_live.model import load_model
    from semeq_live.ui.panel import render_status

    status = sample_status(load_model())
    status["reference"] = {"name": "auto → music", "source": "no single voice heard",
                           "fit": "auto → music, tilted +10 dB/oct to fit this source: learn a "
                                  "reference for a truer neutral", "fit_tilt_db_per_oct": 9.6}
    for width, height in ((80, 24), (160, 50)):
        console = Console(file=io.StringIO(), width=width, height=height, record=True, color_system=None)
        console.print(render_status(status, width, height))
        text = console.export_text()
        assert "fitted +10 dB/oct to the source" in text, text
    status["reference"].update(fit=None, fit_tilt_db_per_oct=None)
    console = Console(file=io.StringIO(), width=160, height=50, record=True, color_system=None)
    console.print(render_status(status, 160, 50))
    assert "fitted" not in console.export_text()


def test_the_default_path_hats_row_as_measured(bundled_model):
    """The README's default-path hats row (python -m tests.evidence), held where it is: an
    estimate after the first second in >= 95 % of the updates (the rest: auto listening), the
    bright-shaped take read bright every time, and never more correction for the warm-shaped take
    than for the bright-shaped one (+0.20 dB: over the hats' bands warm and bright differ by 0.33
    dB RMS of shape, the rest level and tilt, which the fitted reference takes as the source's)."""
    src = E.default_path(E.made_source("hats"))
    warm = E.profile_figures(bundled_model, src, "warm", "bright")
    bright = E.profile_figures(bundled_model, src, "bright", "warm")
    assert warm["estimate"] >= 0.95 and bright["estimate"] >= 0.95
    assert bright["right_word"] >= 0.95
    assert E.warm_vs_bright_db(bundled_model, src)["difference"] >= 0.0
