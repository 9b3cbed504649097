"""The deviation curve the curve encoder reads: band weights, level removal, the network's input.

The analyzer measures the input's long-term spectrum on ``ANALYSIS_FREQS`` (28 third-octave bands,
31.5 Hz-16 kHz) and subtracts a reference spectrum. Real inputs are often one voice or one
instrument, so only some bands carry signal: a per-band weight in [0, 1] says which (1 = the band
carries signal, 0 = nothing there or above Nyquist; ``None`` = every band). The encoder is trained
for such band-limited curves (``training.curves``).

The absolute level of the deviation is meaningless (it depends on how loud the source plays, not on
its tone), so it is removed: the curve minus its *weighted* mean over the bands that are present
(a bass line and a hi-hat share no "mid band"). The removal is idempotent, so callers may pass a raw
or an already level-free deviation.

The network sees ``[w * clip(dev - level) / scale, w]``: the weighted, level-free deviation and the
weights themselves (so "0 dB here" and "no signal here" are different inputs).
"""

from __future__ import annotations

import numpy as np

from ..params import ANALYSIS_FREQS

N_BANDS = ANALYSIS_FREQS.size
# The encoder is trained on EQ curves (+-12 dB) plus spectral noise; level-free deviations are
# clipped to this before encoding so one odd band cannot dominate the latent.
INPUT_LIMIT_DB = 24.0
# Weights below this count as "no signal" when a curve's level is taken (avoids 0/0).
_MIN_WEIGHT_SUM = 1e-6


def _check(dev: np.ndarray) -> None:
    if dev.shape[-1:] != ANALYSIS_FREQS.shape:
        raise ValueError(f"expected a deviation curve on the {N_BANDS} analysis bands "
                         f"(semeq_live.params.ANALYSIS_FREQS), got shape {dev.shape}")


def band_weights(weights, shape, check: bool = True) -> np.ndarray:
    """``weights`` (None, ``[28]`` or ``[n, 28]``) as a float64 array broadcastable to ``shape``."""
    if weights is None:
        return np.ones(shape[-1:])
    w = np.asarray(weights, dtype=np.float64)
    if not check:
        return w
    if w.shape[-1:] != ANALYSIS_FREQS.shape:
        raise ValueError(f"band weights must have {N_BANDS} values (one per analysis band), "
                         f"got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0.0) or np.any(w > 1.0):
        raise ValueError("band weights must be finite and within [0, 1]")
    return w


def curve_level(dev_db, weights=None, check: bool = True) -> np.ndarray:
    """The weighted mean of ``dev_db [..., 28]`` over its bands (``[..., 1]``)."""
    dev = np.asarray(dev_db, dtype=np.float64)
    _check(dev)
    w = band_weights(weights, dev.shape, check)
    total = np.maximum(np.sum(w, axis=-1, keepdims=True), _MIN_WEIGHT_SUM)
    return np.sum(dev * w, axis=-1, keepdims=True) / total


def remove_level(dev_db, weights=None) -> np.ndarray:
    """``dev_db [..., 28]`` minus its weighted mean over the present bands (a new float64 array)."""
    dev = np.asarray(dev_db, dtype=np.float64)
    return dev - curve_level(dev, weights)


def encoder_input(dev_db, weights, scale_db: float, check: bool = True) -> np.ndarray:
    """What the curve encoder network reads: ``[..., 56]`` = weighted level-free deviation / scale,
    then the weights. Bands with weight 0 contribute nothing but their zero weight.

    ``check=False`` skips validating the weights (the analyzer's own, already in range)."""
    if not check and weights is not None and np.ndim(dev_db) == 1:  # the live path: one curve
        dev = np.asarray(dev_db, dtype=np.float64)
        w = np.asarray(weights, dtype=np.float64)
        total = float(w.sum())
        free = dev - (float(np.dot(dev, w)) / total if total > _MIN_WEIGHT_SUM else 0.0)
        np.clip(free, -INPUT_LIMIT_DB, INPUT_LIMIT_DB, out=free)
        out = np.empty(2 * dev.size)
        np.multiply(free, w, out=out[:dev.size])
        out[:dev.size] *= 1.0 / scale_db
        out[dev.size:] = w
        return out
    dev = np.asarray(dev_db, dtype=np.float64)
    w = band_weights(weights, dev.shape, check)
    free = np.clip(dev - curve_level(dev, w, check=False), -INPUT_LIMIT_DB, INPUT_LIMIT_DB)
    w = np.broadcast_to(w, free.shape)
    return np.concatenate([free * (w / scale_db), w], axis=-1)
