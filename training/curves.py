"""Training samples for the curve encoder: EQ response curves, realistic spectral noise, band masks.

A real input's deviation from a reference spectrum is the EQ-like "character" we want to read,
plus what the music itself does differently from the reference. That rest is modelled as:

- a smooth tilt (dB per octave around 1 kHz, sd 0.3 dB/oct: a dB or two at the ends),
- zero to two broad bumps (sd 1 dB, 0.5-2 octaves wide) - e.g. a bass line or a vocal formant,
- per-band jitter (sd drawn per curve in 0.3-5 dB): a 2 s window of a sparse source holds a few
  notes, whose bands come and go by several dB (a bass line, a lead),
- an unknown overall level (+-20 dB), which level removal takes out again.

The smooth parts are kept small on purpose: the encoder takes any smooth deviation for EQ, and the
more of it the training calls "not EQ", the more it shrinks every estimate towards the average
(warm-shaped and bright-shaped input then get nearly the same correction). Band-to-band jitter it
can learn to average out, so that part is large.

This is the exact, cheap version of the seeds' "pink noise through the EQ" synthesis: the response
of the EQ on the analysis bands *is* the expected spectrum change.

Real inputs are often band-limited (a voice, a bass line, hats, a 16 kHz recording), so each curve
also gets band weights like the analyzer's (``band_masks``): a full-range mix, or a range of 2 to 9
octaves placed anywhere, with soft edges (the analyzer's presence ramp), sometimes a hole (a bass
line plus hats) and sometimes a Nyquist cut (everything above a low sample rate's Nyquist is 0).
In the soft edges the deviation also gets part of the source's own roll-off ("skirt"), as when the
reference is not the source's own.
"""

from __future__ import annotations

import numpy as np

from semeq_live.model.curves import encoder_input
from semeq_live.params import ANALYSIS_FREQS

TILT_SD_DB_PER_OCT = 0.3
BUMP_SD_DB = 1.0
BUMP_WIDTH_OCT = (0.5, 2.0)
N_BUMPS = 2
JITTER_SD_DB = (0.3, 5.0)
LEVEL_RANGE_DB = 20.0
CLEAN_FRACTION = 0.2  # some curves without noise, so the clean case is learnt exactly

# Band masks. The analyzer asks for at least 6 bands (2 octaves) with signal before it estimates.
FULL_RANGE_FRACTION = 0.25
MIN_SPAN_BANDS = 6
EDGE_BANDS = (0, 3)        # soft edge width (bands) either side of the range
HOLE_FRACTION = 0.25       # a gap of 1-4 bands inside the range (two instruments, no mids)
PARTIAL_FRACTION = 0.2     # share of interior bands with a partial weight (a weak or odd band)
NYQUIST_FRACTION = 0.3     # curves cut at a low sample rate's Nyquist
LOW_RATES_HZ = (16000.0, 22050.0, 32000.0)
SKIRT_DB = 15.0            # source roll-off within a soft edge at weight 0 (times a random share)


def spectral_noise(rng: np.random.Generator, n: int, freqs=ANALYSIS_FREQS,
                   clean_fraction: float = CLEAN_FRACTION) -> np.ndarray:
    """``[n, len(freqs)]`` dB of music-versus-reference deviation that is not the EQ."""
    octs = np.log2(np.asarray(freqs) / 1000.0)[None, :]
    noise = rng.normal(0.0, TILT_SD_DB_PER_OCT, (n, 1)) * octs
    for _ in range(N_BUMPS):
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


def nyquist_weights(sample_rate: float, freqs=ANALYSIS_FREQS) -> np.ndarray:
    """1 for bands measurable at ``sample_rate`` (upper edge below Nyquist), else 0."""
    from semeq_live.analysis.bands import band_edges

    _, hi = band_edges(freqs)
    return (hi <= 0.5 * sample_rate).astype(np.float64)


def band_masks(rng: np.random.Generator, n: int, n_bands: int = ANALYSIS_FREQS.size,
               full_fraction: float = FULL_RANGE_FRACTION) -> np.ndarray:
    """``[n, n_bands]`` band weights in [0, 1] like the analyzer's for real sources."""
    w = np.zeros((n, n_bands))
    idx = np.arange(n_bands)
    for i in range(n):
        if rng.random() < full_fraction:
            w[i] = 1.0
        else:
            span = int(rng.integers(MIN_SPAN_BANDS, n_bands + 1))
            lo = int(rng.integers(0, n_bands - span + 1))
            hi = lo + span - 1
            w[i, lo:hi + 1] = 1.0
            for edge, inward in ((lo, +1), (hi, -1)):
                width = int(rng.integers(EDGE_BANDS[0], EDGE_BANDS[1] + 1))
                for k in range(1, width + 1):  # weights fall linearly across the soft edge
                    j = edge - inward * k
                    if 0 <= j < n_bands:
                        w[i, j] = max(w[i, j], 1.0 - k / (width + 1))
            if rng.random() < HOLE_FRACTION and span >= MIN_SPAN_BANDS + 4:
                gap = int(rng.integers(1, 5))
                start = int(rng.integers(lo + 2, hi - gap - 1))
                w[i, start:start + gap] = 0.0
            weak = (rng.random(n_bands) < PARTIAL_FRACTION) & (w[i] == 1.0)
            w[i, weak] = rng.uniform(0.1, 1.0, int(weak.sum()))
        if rng.random() < NYQUIST_FRACTION:
            w[i] *= nyquist_weights(float(rng.choice(LOW_RATES_HZ)))
        if w[i].sum() < MIN_SPAN_BANDS - 1:  # cut too much: keep the lowest bands of the range
            w[i, idx[:MIN_SPAN_BANDS]] = np.maximum(w[i, idx[:MIN_SPAN_BANDS]], 1.0)
    return w


def edge_skirts(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """dB of source roll-off left in the soft edges (0 where the weight is 1)."""
    share = rng.uniform(0.0, 1.0, (len(weights), 1))
    return -SKIRT_DB * share * (1.0 - weights) * (weights > 0)


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


def prepare_curve(dev_db: np.ndarray, scale_db: float, weights=None) -> np.ndarray:
    """What the curve encoder network sees (``semeq_live.model.curves.encoder_input``)."""
    return encoder_input(dev_db, weights, scale_db)
