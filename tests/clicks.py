"""How far each short stretch of a made voice stands out of the voice around it: a click meter
for the made voices' tests (a switched resonator clicks; a voice's own onsets and pitch pulses
stand out by far less)."""

from __future__ import annotations

import numpy as np
from scipy.signal import medfilt, sosfilt

from semeq_live.analysis.loudness import k_weighting_sos

FRAME_S = 0.005     # a click lasts a few ms
CONTEXT_FRAMES = 21  # 105 ms around it: a syllable or a note


def clicks_db(x: np.ndarray, fs: float) -> np.ndarray:
    """Each 5 ms K-weighted frame's energy over the median of the 105 ms around it (dB)."""
    k = sosfilt(k_weighting_sos(fs), x)
    f = int(FRAME_S * fs)
    e = np.array([np.mean(k[i:i + f] ** 2) for i in range(0, len(k) - f, f)]) + 1e-12
    return 10.0 * np.log10(e / medfilt(e, CONTEXT_FRAMES))
