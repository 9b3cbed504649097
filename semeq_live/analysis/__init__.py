"""Listening to the input: rolling spectrum, reference, term profile, loudness prediction.

``Analyzer`` (push on the audio thread, update on the analysis thread) produces ``InputEstimate``
objects; ``AutoGain`` turns an applied EQ and the input spectrum into loudness compensation.

Modules: ``ring`` (lock-free input ring), ``bands`` (third-octave band powers of one FFT segment),
``presence`` (which bands carry signal, the "no estimate" limits), ``reference`` (built-in music,
voice and pink references, learned ones, files), ``analyzer`` (rolling window, gating, curve
encoder, term profile), ``estimate`` (the result type), ``loudness`` (K-weighting,
predicted loudness change, auto-gain), ``eq_power`` (compiled EQ power gain), ``thread`` (the
live analysis loop).
"""

from __future__ import annotations

from ..lazy_exports import lazy_getattr

# Names are imported on first use: a stage config's reference is checked (``reference``, numpy only)
# before the audio stream opens, and must not load numba with the analyzer and loudness modules.
_EXPORTS = {
    "Analyzer": "analyzer", "ReferenceCaptureError": "analyzer", "InputEstimate": "estimate",
    "AutoGain": "loudness", "LoudnessPredictor": "loudness", "k_weighting_db": "loudness",
    "ReferenceFileError": "reference", "ReferenceSpectrum": "reference", "AudioRing": "ring",
    "AnalyzerThread": "thread",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
