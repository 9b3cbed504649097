"""Load every numba signature the control thread's EQ computation uses, before it needs one.

numba compiles (or loads from its cache) one machine-code version per combination of argument
types, the first time a function is called with it, on the calling thread. The engine's numba
functions (the boost ceiling's ``_limit``, auto-gain's ``_cascade_power``) see read-only and
writable arrays depending on the mode: the decoder's cached settings and the analyzer's estimates
are frozen, the ceiling's own start-up call is not. Which combination a show reaches first depends
on how it starts and what the performer does: a show that starts at intensity 0 (flat: neither
function runs) met its first version when the intensity fader first moved, mid-show, on the
control thread: seconds on a cold cache, during which no EQ update went out.

``warm_control_path`` drives a throwaway engine (its own boost ceiling and auto-gain, so it never
touches the live engine's scratch arrays or smoothing) through every mode with representative
input: no estimate, a confident band-limited estimate (and one still gathering evidence), an
unconfident one with a spectrum, adaptation on and off, intensity 0 and up. Through the engine's
public API, so it follows whatever the engine does inside. The app runs it on a background thread
once the sound has started (``LiveApp.run``): start-up to first audio does not wait for it, and
it is done long before the analyzer's first estimate (0.85 s of audio) on a warm cache.
"""

from __future__ import annotations

import time

import numpy as np

from ..analysis.estimate import InputEstimate
from ..params import ANALYSIS_FREQS
from .state import ControlState


def representative_estimates(model, reference_band_db) -> list[InputEstimate]:
    """Estimates of the kinds the analyzer hands the control thread, in the order a show meets
    them: too little audio (a spectrum, no weights), a first confident one (little evidence),
    a settled one, one with a band above Nyquist, silence."""
    n = ANALYSIS_FREQS.size
    weight = np.clip(np.linspace(-0.5, 2.0, n), 0.0, 1.0)  # a source with nothing in the lowest bands
    weight[-2:] = 0.0  # above Nyquist at a low sample rate
    dev = np.linspace(-3.0, 3.0, n)
    z_a = np.asarray(model.encode_curve(dev, weight), dtype=np.float64).reshape(-1)
    power = 10.0 ** (np.asarray(reference_band_db, dtype=np.float64) / 10.0)
    spectra = {"band_power": power, "spectrum_db": np.asarray(reference_band_db, dtype=np.float64)}
    return [
        InputEstimate(False, "too little audio so far", 0.5, -20.0, **spectra),
        InputEstimate(True, "ok", 1.0, -20.0, z_a=z_a, band_weight=weight, evidence=0.2, **spectra),
        InputEstimate(True, "ok", 1.3, -20.0, z_a=z_a, band_weight=weight, evidence=1.0,
                      deviation_db=dev, **spectra),
        InputEstimate(True, "ok", 1.6, -20.0, z_a=z_a, band_weight=np.full(n, np.nan), **spectra),
        InputEstimate(False, "too quiet", 1.9, -90.0),
    ]


def warm_control_path(model, sample_rate: float, *, reference_band_db=None,
                      max_boost_db: float | None = None, terms=None) -> float:
    """Compute the EQ once in every mode on a throwaway engine; returns the seconds it took."""
    from ..analysis.reference import ReferenceSpectrum
    from .engine import SemanticEngine

    t0 = time.perf_counter()
    if reference_band_db is None:
        reference_band_db = ReferenceSpectrum.default().band_db
    engine = SemanticEngine(model, sample_rate, reference_band_db=reference_band_db,
                            max_boost_db=max_boost_db)
    estimates = [None, *representative_estimates(model, reference_band_db)]
    names = list(terms or model.terms)
    a, b = names[0], names[min(1, len(names) - 1)]
    for adaptive in (True, False):
        for intensity in (0.0, 0.7, 1.5):
            engine.reset()
            for autogain in (True, False):
                state = ControlState(term_a=a, term_b=b, alpha=0.4, intensity=intensity,
                                     traverse_x=0.3, adaptive=adaptive, autogain=autogain)
                for est in estimates:
                    engine.compute(state, est)
    return time.perf_counter() - t0
