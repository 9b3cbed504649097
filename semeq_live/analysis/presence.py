"""Which analysis bands carry signal (band weights) and the limits for sparse input.

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
- far from the reference (not a "no estimate": ``reference_fit.py``): less than half of the
  input's signal (by band weight) lies within ``IMPLAUSIBLE_DB`` of the rest (``judged_weights``),
  or the deviation tilts by more than ``MAX_TILT_DB_PER_OCT`` over the input's range: the
  reference does not fit this source (white noise or hats against the music reference), so the
  reference is fitted to the source's own smooth shape and the estimate says so.
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
# A source whose deviation from the reference tilts more than this over its range is not "the
# reference plus an EQ": with a fitting reference, music, speech and the made sources in the evidence
# (pre-shaped warm or bright) stay within +-3.6 dB per octave; white noise against the music
# reference +5.4 (it has next to nothing below 500 Hz by that measure), hats against it +7.
MAX_TILT_DB_PER_OCT = 4.5


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
    rel -= rel[valid].max() - ZERO_DB
    rel *= 1.0 / (ZERO_DB - FULL_DB)
    w = np.clip(rel, 0.0, 1.0, out=rel)
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
    if not w.max() > 0:
        return w.copy()
    dev = np.asarray(deviation_db, dtype=np.float64)
    off = np.abs(dev - weighted_median(dev, w))
    np.subtract(IMPLAUSIBLE_DB, off, out=off)
    off *= 1.0 / (IMPLAUSIBLE_DB - PLAUSIBLE_DB)
    np.clip(off, 0.0, 1.0, out=off)
    off *= w
    return off


_OCTAVES = np.log2(ANALYSIS_FREQS / 1000.0)


def tilt_db_per_octave(deviation_db, weights) -> float:
    """Weighted least-squares slope of the deviation against log frequency (dB per octave)."""
    w = np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    if total <= 0.0:
        return 0.0
    x = _OCTAVES - float(np.dot(w, _OCTAVES)) / total
    var = float(np.dot(w, x * x))
    return 0.0 if var <= 0.0 else float(np.dot(w, x * np.asarray(deviation_db, dtype=np.float64))) / var


def octaves(weights) -> float:
    """Weighted band count in octaves (three third-octave bands per octave)."""
    return float(np.asarray(weights).sum()) / 3.0


def is_near_pure_tone(partials) -> bool:
    """Most segments with any signal show at most ``MAX_TONE_PARTIALS`` partials."""
    p = np.asarray(partials)
    p = p[p > 0]
    return p.size > 0 and float(np.mean(p <= MAX_TONE_PARTIALS)) > 0.5
