"""Training samples for the curve encoder: EQ response curves plus realistic spectral noise.

A real input's deviation from a reference spectrum is the EQ-like "character" we want to read,
plus what the music itself does differently from the reference. That rest is modelled as:

- a smooth tilt (dB per octave around 1 kHz, sd 0.6 dB/oct: a few dB at the ends),
- zero to two broad bumps (sd 2 dB, 0.5-2 octaves wide) - e.g. a bass line or a vocal formant,
- per-band jitter (sd drawn per curve in 0.3-1.5 dB; measurement noise of a 2 s window),
- an unknown overall level (+-20 dB), which ``remove_level`` takes out again.

This is the exact, cheap version of the seeds' "pink noise through the EQ" synthesis: the response
of the EQ on the analysis bands *is* the expected spectrum change.
"""

from __future__ import annotations

import numpy as np

from semeq_live.model.curves import remove_level
from semeq_live.params import ANALYSIS_FREQS

TILT_SD_DB_PER_OCT = 0.6
BUMP_SD_DB = 2.0
BUMP_WIDTH_OCT = (0.5, 2.0)
JITTER_SD_DB = (0.3, 1.5)
LEVEL_RANGE_DB = 20.0
CLEAN_FRACTION = 0.15  # some curves without noise, so the clean case is learnt exactly


def spectral_noise(rng: np.random.Generator, n: int, freqs=ANALYSIS_FREQS,
                   clean_fraction: float = CLEAN_FRACTION) -> np.ndarray:
    """``[n, len(freqs)]`` dB of music-versus-reference deviation that is not the EQ."""
    octs = np.log2(np.asarray(freqs) / 1000.0)[None, :]
    noise = rng.normal(0.0, TILT_SD_DB_PER_OCT, (n, 1)) * octs
    for _ in range(2):
        present = rng.random((n, 1)) < 0.5
        centre = rng.uniform(octs.min(), octs.max(), (n, 1))
        width = rng.uniform(*BUMP_WIDTH_OCT, (n, 1))
        amp = rng.normal(0.0, BUMP_SD_DB, (n, 1))
        noise += present * amp * np.exp(-0.5 * ((octs - centre) / width) ** 2)
    noise += rng.normal(0.0, 1.0, noise.shape) * rng.uniform(*JITTER_SD_DB, (n, 1))
    noise += rng.uniform(-LEVEL_RANGE_DB, LEVEL_RANGE_DB, (n, 1))
    clean = rng.random(n) < clean_fraction
    noise[clean] = 0.0
    return noise


def mix_settings(rng: np.random.Generator, params: np.ndarray, n: int,
                 log_index: np.ndarray) -> np.ndarray:
    """``n`` random interpolations between pairs of settings (frequency and Q on a log scale).

    Gives the curve encoder settings in between the ones people saved, like an input whose
    character is "somewhat warm".
    """
    i, j = rng.integers(0, len(params), (2, n))
    t = rng.uniform(0.0, 1.0, (n, 1))
    a, b = params[i].copy(), params[j].copy()
    a[:, log_index], b[:, log_index] = np.log(a[:, log_index]), np.log(b[:, log_index])
    out = (1.0 - t) * a + t * b
    out[:, log_index] = np.exp(out[:, log_index])
    return out


def prepare_curve(dev_db: np.ndarray, scale_db: float) -> np.ndarray:
    """What the curve encoder network sees: level-free deviation, divided by ``scale_db``."""
    return remove_level(dev_db) / scale_db
