"""The SAFE-DB parameter layout shared by every part of semeq-live.

13 numbers, in this order (see ../shared/DESIGN.md section 2)::

    ls_gain, ls_freq, p1_gain, p1_freq, p1_q, p2_gain, p2_freq, p2_q,
    p3_gain, p3_freq, p3_q, hs_gain, hs_freq

Gains in dB, frequencies in Hz, Q unitless. Band 1 is a low shelf (RBJ, S = 1), bands 2-4 are
peaking filters, band 5 is a high shelf (RBJ, S = 1).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

PARAM_NAMES: tuple[str, ...] = (
    "ls_gain", "ls_freq",
    "p1_gain", "p1_freq", "p1_q",
    "p2_gain", "p2_freq", "p2_q",
    "p3_gain", "p3_freq", "p3_q",
    "hs_gain", "hs_freq",
)
N_PARAMS = len(PARAM_NAMES)
N_BANDS = 5

# Band kinds, used by the DSP design code.
LOW_SHELF, PEAKING, HIGH_SHELF = 0, 1, 2
BAND_KINDS: tuple[int, ...] = (LOW_SHELF, PEAKING, PEAKING, PEAKING, HIGH_SHELF)
BAND_NAMES: tuple[str, ...] = ("low shelf", "peak 1", "peak 2", "peak 3", "high shelf")

# Index of (gain, freq, q) for each band in the 13-vector; shelves have no Q (-1).
BAND_INDEX: tuple[tuple[int, int, int], ...] = (
    (0, 1, -1),
    (2, 3, 4),
    (5, 6, 7),
    (8, 9, 10),
    (11, 12, -1),
)
GAIN_INDEX = np.array([b[0] for b in BAND_INDEX])
FREQ_INDEX = np.array([b[1] for b in BAND_INDEX])
Q_INDEX = np.array([b[2] for b in BAND_INDEX if b[2] >= 0])

GAIN_RANGE_DB = (-12.0, 12.0)
Q_RANGE = (0.1, 10.0)
# Frequency ranges the SAFE plugin allowed, per band (Hz).
FREQ_RANGES_HZ: tuple[tuple[float, float], ...] = (
    (22.0, 1000.0),
    (82.0, 3900.0),
    (180.0, 4700.0),
    (220.0, 10000.0),
    (580.0, 20000.0),
)
# The shelf slope fixed by the SAFE plugin (RBJ cookbook S).
SHELF_SLOPE = 1.0
# Frequencies are clamped below this fraction of the sample rate before designing a filter.
MAX_FREQ_FRACTION = 0.45

# A flat setting: 0 dB everywhere, frequencies and Qs at the SAFE plugin's defaults.
FLAT_PARAMS = np.array(
    [0.0, 150.0, 0.0, 560.0, 0.71, 0.0, 1000.0, 0.71, 0.0, 3300.0, 0.71, 0.0, 8200.0]
)


def as_params(p) -> np.ndarray:
    """Return ``p`` as a float64 array whose last axis has the 13 SAFE parameters."""
    arr = np.asarray(p, dtype=np.float64)
    if arr.shape[-1:] != (N_PARAMS,):
        raise ValueError(f"expected {N_PARAMS} EQ parameters in SAFE order, got shape {arr.shape}")
    return arr


def params_from_mapping(mapping: dict) -> np.ndarray:
    """Build the 13-vector from a ``{name: value}`` mapping with exactly the SAFE names.

    Raises ``ValueError`` naming missing or unknown keys, so a hand-written file gets a useful error.
    """
    missing = [n for n in PARAM_NAMES if n not in mapping]
    unknown = [k for k in mapping if k not in PARAM_NAMES]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if unknown:
            parts.append("unknown " + ", ".join(map(str, unknown)))
        raise ValueError("; ".join(parts) + f" (expected: {', '.join(PARAM_NAMES)})")
    values = []
    for name in PARAM_NAMES:
        try:
            values.append(float(mapping[name]))
        except (TypeError, ValueError):
            raise ValueError(f"{name}: expected a number, got {mapping[name]!r}") from None
    arr = np.array(values)
    if not np.all(np.isfinite(arr)):
        raise ValueError("EQ parameters must be finite numbers")
    return arr


def params_to_mapping(p) -> dict:
    """The 13-vector as an ordered ``{name: float}`` dict (for YAML/JSON output)."""
    p = as_params(p)
    return {name: float(v) for name, v in zip(PARAM_NAMES, p)}


@lru_cache(maxsize=8)
def param_bounds(sample_rate: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bound of each of the 13 parameters (read-only arrays)."""
    lo = np.empty(N_PARAMS)
    hi = np.empty(N_PARAMS)
    lo[GAIN_INDEX], hi[GAIN_INDEX] = GAIN_RANGE_DB
    lo[Q_INDEX], hi[Q_INDEX] = Q_RANGE
    for band, (f_lo, f_hi) in enumerate(FREQ_RANGES_HZ):
        if sample_rate is not None:
            f_hi = min(f_hi, MAX_FREQ_FRACTION * sample_rate)
            f_lo = min(f_lo, f_hi)
        lo[FREQ_INDEX[band]], hi[FREQ_INDEX[band]] = f_lo, f_hi
    lo.setflags(write=False)
    hi.setflags(write=False)
    return lo, hi


def clamp_params(p, sample_rate: float | None = None) -> np.ndarray:
    """Clamp gains to +-12 dB, Q to 0.1-10, and frequencies to the SAFE band ranges.

    With ``sample_rate``, frequencies are also kept below ``0.45 * sample_rate``. Returns a new
    array (one vectorised clip: this runs on every control update).
    """
    lo, hi = param_bounds(None if sample_rate is None else float(sample_rate))
    return np.clip(as_params(p), lo, hi)


# Analysis grid: 1/3-octave band centres (base-10 series, IEC 61260) from 31.5 Hz to 16 kHz. The
# input analyzer measures the long-term spectrum on these bands, and the curve encoder (trained with
# the model) maps a deviation curve on exactly these frequencies to the audio latent z_a.
ANALYSIS_FREQS = 1000.0 * 10.0 ** (np.arange(-15, 13) / 10.0)
