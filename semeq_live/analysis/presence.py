"""Which analysis bands carry signal (band weights) and the "no estimate" limits for sparse input.

A voice, a bass line or hi-hats fill only part of the 31.5 Hz-16 kHz range; a 16 kHz recording
has nothing above 7 kHz. Only the bands with signal are judged (``encode_curve(dev, weights)``).

A band's *presence* is its level relative to the strongest band, measured against the shape of a
typical programme (the built-in music reference: equal power per band up to 400 Hz, then falling
3 dB per octave faster than pink) so that a source's natural high-frequency roll-off does not read
as "absent": full weight within ``FULL_DB`` of the strongest band, none ``ZERO_DB`` or more below
it, a linear ramp between (the soft skirt of a band-limited source). Bands above Nyquist have no
weight at all.

The limits, each with its own reason in the panel and the log:

- ``MIN_BANDS``: at least 6 bands' worth of weight (two octaves) with signal; narrower input
  (a lone low drone, a band-passed effect) is "too narrow a range" to say anything about its tone.
- far from the reference: less than half of the input's signal (by band weight) lies within
  ``IMPLAUSIBLE_DB`` of the rest (``judged_weights``): the reference does not fit this source.
- a near-pure tone: in most of the window's FFT segments, at most ``MAX_TONE_PARTIALS`` partials
  (``BandAnalyzer.last_partials``). A sine melody has one partial at a time (two while it moves
  between notes); any instrument with harmonics, a voice or a drum has more. Its band levels only
  say where the notes fall, not what the source sounds like.
"""

from __future__ import annotations

import numpy as np

from ..params import ANALYSIS_FREQS

FULL_DB = 30.0
ZERO_DB = 45.0
MIN_BANDS = 6.0
MAX_TONE_PARTIALS = 2
# Judged bands: an EQ moves a band by at most 12 dB; a band further than that from the rest of the
# curve (after the level is removed) differs in *content* from the reference (a note not played in
# this window, a drum the soundcheck did not have), not in tone: full weight within PLAUSIBLE_DB
# of the curve's robust level, none beyond IMPLAUSIBLE_DB.
PLAUSIBLE_DB = 12.0
IMPLAUSIBLE_DB = 24.0


def _programme_shape_db(freqs=ANALYSIS_FREQS) -> np.ndarray:
    # The built-in music reference's shape (reference.py), repeated here to keep modules acyclic.
    f = np.asarray(freqs, dtype=np.float64)
    return -3.0 * np.maximum(np.log2(f / 400.0), 0.0) - 3.0 * np.maximum(np.log2(50.0 / f), 0.0)


_SHAPE_DB = _programme_shape_db()


def presence_weights(spectrum_db, valid) -> np.ndarray:
    """Band weights ``[28]`` in [0, 1] from band levels (dB) and the bands measurable (bool)."""
    rel = np.asarray(spectrum_db, dtype=np.float64) - _SHAPE_DB
    valid = np.asarray(valid, dtype=bool)
    if not valid.any():
        return np.zeros(rel.shape)
    rel = rel - rel[valid].max()
    w = np.clip((rel + ZERO_DB) / (ZERO_DB - FULL_DB), 0.0, 1.0)
    w[~valid] = 0.0
    return w


def weighted_median(values, weights) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def judged_weights(deviation_db, band_weight) -> np.ndarray:
    """``band_weight`` times how plausible each band's deviation is as an EQ's doing: the
    deviation's distance from its weighted median, full weight within ``PLAUSIBLE_DB``, none
    beyond ``IMPLAUSIBLE_DB`` (a robust fit: outlying bands neither count nor drag the level)."""
    w = np.asarray(band_weight, dtype=np.float64)
    if not np.any(w > 0):
        return w.copy()
    dev = np.asarray(deviation_db, dtype=np.float64)
    off = np.abs(dev - weighted_median(dev, w))
    return w * np.clip((IMPLAUSIBLE_DB - off) / (IMPLAUSIBLE_DB - PLAUSIBLE_DB), 0.0, 1.0)


def octaves(weights) -> float:
    """Weighted band count in octaves (three third-octave bands per octave)."""
    return float(np.sum(weights)) / 3.0


def is_near_pure_tone(partials) -> bool:
    """Most segments with any signal show at most ``MAX_TONE_PARTIALS`` partials."""
    p = np.asarray(partials)
    p = p[p > 0]
    return p.size > 0 and float(np.mean(p <= MAX_TONE_PARTIALS)) > 0.5
