"""RBJ Audio-EQ-Cookbook biquad design for the SAFE 5-band layout.

The three ``*_coeffs`` functions are written with plain arithmetic so the *same source* serves two
callers: numpy (vectorised over arrays of settings, for responses and training) and the numba
kernel (compiled for scalars, see ``kernel.py``). They return unnormalised ``(b0, b1, b2, a0, a1,
a2)``.

An RBJ peaking or shelf filter with gain -g is the exact inverse of the one with gain +g, which is
what adaptive intensity relies on to undo the input's own character.

The subsonic protection (DC and subsonic high-pass in front of the EQ) is a 4th-order Butterworth
high-pass, 24 dB/octave: two RBJ high-pass sections with the Butterworth Qs, which is exactly
the bilinear transform of the analog Butterworth with its cutoff prewarped (what
``scipy.signal.butter(4, fc, 'highpass', fs=fs, output='sos')`` designs). At the default 20 Hz it
takes 48 dB off 5 Hz, changes nothing above 40 Hz by more than 0.02 dB, and its slowest pole
(0.38 of the cutoff) lets DC decay by 60 dB in 0.15 s.
"""

from __future__ import annotations

import numpy as np

from ..params import (
    BAND_INDEX,
    BAND_KINDS,
    HIGH_SHELF,
    LOW_SHELF,
    MAX_FREQ_FRACTION,
    N_BANDS,
    as_params,
)

MIN_FREQ_HZ = 1.0

# Subsonic protection: default cutoff, allowed cutoffs (0 = off), and the two sections' Qs.
SUBSONIC_DEFAULT_HZ = 20.0
SUBSONIC_RANGE_HZ = (10.0, 200.0)
SUBSONIC_Q = (1.0 / (2.0 * np.cos(np.pi / 8.0)), 1.0 / (2.0 * np.cos(3.0 * np.pi / 8.0)))


def peaking_coeffs(gain_db, w0, q):
    a = 10.0 ** (gain_db / 40.0)
    alpha = np.sin(w0) / (2.0 * q)
    cosw = np.cos(w0)
    return (1.0 + alpha * a, -2.0 * cosw, 1.0 - alpha * a,
            1.0 + alpha / a, -2.0 * cosw, 1.0 - alpha / a)


def low_shelf_coeffs(gain_db, w0):
    # Slope S = 1: alpha = sin(w0)/2 * sqrt((A + 1/A)(1/S - 1) + 2) = sin(w0)/sqrt(2).
    a = 10.0 ** (gain_db / 40.0)
    cosw = np.cos(w0)
    k = 2.0 * np.sqrt(a) * (np.sin(w0) / np.sqrt(2.0))
    return (a * ((a + 1.0) - (a - 1.0) * cosw + k),
            2.0 * a * ((a - 1.0) - (a + 1.0) * cosw),
            a * ((a + 1.0) - (a - 1.0) * cosw - k),
            (a + 1.0) + (a - 1.0) * cosw + k,
            -2.0 * ((a - 1.0) + (a + 1.0) * cosw),
            (a + 1.0) + (a - 1.0) * cosw - k)


def high_shelf_coeffs(gain_db, w0):
    a = 10.0 ** (gain_db / 40.0)
    cosw = np.cos(w0)
    k = 2.0 * np.sqrt(a) * (np.sin(w0) / np.sqrt(2.0))
    return (a * ((a + 1.0) + (a - 1.0) * cosw + k),
            -2.0 * a * ((a - 1.0) + (a + 1.0) * cosw),
            a * ((a + 1.0) + (a - 1.0) * cosw - k),
            (a + 1.0) - (a - 1.0) * cosw + k,
            2.0 * ((a - 1.0) - (a + 1.0) * cosw),
            (a + 1.0) - (a - 1.0) * cosw - k)


def highpass_coeffs(w0, q):
    """RBJ cookbook 2nd-order high-pass (unnormalised ``b0 b1 b2 a0 a1 a2``).

    ``b1 = -2 b0`` and ``b2 = b0`` hold exactly in floating point (scaling by 2 is exact), so a
    constant input cancels exactly in the numerator: DC leaves only the decaying feedback.
    """
    cosw = np.cos(w0)
    alpha = np.sin(w0) / (2.0 * q)
    b0 = (1.0 + cosw) / 2.0
    return (b0, -2.0 * b0, b0, 1.0 + alpha, -2.0 * cosw, 1.0 - alpha)


def validate_subsonic_hz(value) -> float:
    """The subsonic cutoff as a float: 0 (off) or within ``SUBSONIC_RANGE_HZ``; else ValueError."""
    lo, hi = SUBSONIC_RANGE_HZ
    try:
        hz = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"subsonic_hz must be a number (0 = off, or {lo:g}..{hi:g} Hz), "
                         f"not {value!r}") from None
    if hz == 0.0:
        return 0.0
    if not lo <= hz <= hi:  # also refuses NaN
        raise ValueError(f"subsonic_hz {value!r} is outside {lo:g}..{hi:g} Hz (0 switches the "
                         "DC/subsonic protection off)")
    return hz


def subsonic_sos(cutoff_hz: float, sample_rate: float) -> np.ndarray:
    """The protection high-pass as ``[2, 6]`` sos (scipy layout); ``[0, 6]`` when off (0)."""
    if not cutoff_hz:
        return np.zeros((0, 6))
    w0 = 2.0 * np.pi * float(cutoff_hz) / sample_rate
    out = np.empty((2, 6))
    for k, q in enumerate(SUBSONIC_Q):
        b0, b1, b2, a0, a1, a2 = highpass_coeffs(w0, q)
        out[k] = (b0 / a0, b1 / a0, b2 / a0, 1.0, a1 / a0, a2 / a0)
    return out


def _omega(freq, sample_rate):
    f = np.clip(np.asarray(freq, dtype=np.float64), MIN_FREQ_HZ, MAX_FREQ_FRACTION * sample_rate)
    return 2.0 * np.pi * f / sample_rate


def design_sos(params, sample_rate: float) -> np.ndarray:
    """Second-order sections for one or many SAFE settings.

    ``params``: ``[..., 13]``. Returns ``[..., 5, 6]`` in scipy's sos layout (``b0 b1 b2 1 a1 a2``,
    normalised by ``a0``), so ``scipy.signal.sosfilt(design_sos(p, fs), x)`` is the reference EQ.
    Frequencies are clamped below ``0.45 * fs``.
    """
    p = as_params(params)
    out = np.empty(p.shape[:-1] + (N_BANDS, 6))
    for band, (kind, (gi, fi, qi)) in enumerate(zip(BAND_KINDS, BAND_INDEX)):
        gain = p[..., gi]
        w0 = _omega(p[..., fi], sample_rate)
        if kind == LOW_SHELF:
            c = low_shelf_coeffs(gain, w0)
        elif kind == HIGH_SHELF:
            c = high_shelf_coeffs(gain, w0)
        else:
            c = peaking_coeffs(gain, w0, np.clip(p[..., qi], 0.1, 10.0))
        b0, b1, b2, a0, a1, a2 = (np.asarray(v, dtype=np.float64) for v in c)
        out[..., band, 0] = b0 / a0
        out[..., band, 1] = b1 / a0
        out[..., band, 2] = b2 / a0
        out[..., band, 3] = 1.0
        out[..., band, 4] = a1 / a0
        out[..., band, 5] = a2 / a0
    return out


def sos_response_db(sos, freqs, sample_rate: float) -> np.ndarray:
    """Magnitude (dB) of a cascade ``[..., n_sections, 6]`` at ``freqs`` (Hz): ``[..., n_freqs]``."""
    sos = np.asarray(sos, dtype=np.float64)
    w = 2.0 * np.pi * np.asarray(freqs, dtype=np.float64) / sample_rate
    z1 = np.exp(-1j * w)
    z2 = z1 * z1
    s = sos[..., None, :]  # broadcast over frequencies: [..., sections, 1, 6]
    num = s[..., 0] + s[..., 1] * z1 + s[..., 2] * z2
    den = s[..., 3] + s[..., 4] * z1 + s[..., 5] * z2
    mag2 = (np.abs(num) ** 2) / np.maximum(np.abs(den) ** 2, 1e-300)
    return np.sum(10.0 * np.log10(np.maximum(mag2, 1e-30)), axis=-2)


def response_db(params, freqs, sample_rate: float = 48000.0) -> np.ndarray:
    """Magnitude response in dB of SAFE setting(s) ``[..., 13]`` at ``freqs`` (Hz).

    Returns ``[..., len(freqs)]``.
    """
    return sos_response_db(design_sos(params, sample_rate), freqs, sample_rate)


def log_frequency_grid(n: int = 96, f_lo: float = 20.0, f_hi: float = 20000.0) -> np.ndarray:
    """A log-spaced frequency grid, the domain in which EQ curves are compared."""
    return np.geomspace(f_lo, f_hi, n)
