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

from .analyzer import Analyzer, ReferenceCaptureError
from .estimate import InputEstimate
from .loudness import AutoGain, LoudnessPredictor, k_weighting_db
from .reference import ReferenceFileError, ReferenceSpectrum
from .ring import AudioRing
from .thread import AnalyzerThread

__all__ = [
    "Analyzer", "AnalyzerThread", "AudioRing", "AutoGain", "InputEstimate", "LoudnessPredictor",
    "ReferenceCaptureError", "ReferenceFileError", "ReferenceSpectrum", "k_weighting_db",
]
