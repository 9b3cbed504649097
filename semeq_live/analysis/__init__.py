"""Listening to the input: rolling spectrum, reference, term profile, loudness prediction.

``Analyzer`` (push on the audio thread, update on the analysis thread) produces ``InputEstimate``
objects; ``AutoGain`` turns an applied EQ and the input spectrum into loudness compensation.
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
