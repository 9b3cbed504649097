"""``response_db`` in torch, differentiable, for the response-domain loss and evaluation.

Same RBJ cookbook design as ``semeq_live.dsp.design`` (shelves with S = 1, peaking EQ), evaluated
in real arithmetic: ``|b0 + b1 e^-jw + b2 e^-2jw|^2 = (b0 + b1 cos w + b2 cos 2w)^2 +
(b1 sin w + b2 sin 2w)^2``. Tested against the numpy reference to high precision.
"""

from __future__ import annotations

import math

import torch

from semeq_live.params import BAND_INDEX, BAND_KINDS, HIGH_SHELF, LOW_SHELF, MAX_FREQ_FRACTION

_MIN_FREQ_HZ = 1.0
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


def _shelf(gain_db, w0, high: bool):
    a = 10.0 ** (gain_db / 40.0)
    cosw = torch.cos(w0)
    k = 2.0 * torch.sqrt(a) * torch.sin(w0) * _INV_SQRT2
    sign = -1.0 if high else 1.0  # the high shelf is the low shelf with cos(w0) negated
    b0 = a * ((a + 1.0) - sign * (a - 1.0) * cosw + k)
    b1 = sign * 2.0 * a * ((a - 1.0) - sign * (a + 1.0) * cosw)
    b2 = a * ((a + 1.0) - sign * (a - 1.0) * cosw - k)
    a0 = (a + 1.0) + sign * (a - 1.0) * cosw + k
    a1 = -sign * 2.0 * ((a - 1.0) + sign * (a + 1.0) * cosw)
    a2 = (a + 1.0) + sign * (a - 1.0) * cosw - k
    return b0, b1, b2, a0, a1, a2


def _peaking(gain_db, w0, q):
    a = 10.0 ** (gain_db / 40.0)
    alpha = torch.sin(w0) / (2.0 * q)
    cosw = torch.cos(w0)
    return (1.0 + alpha * a, -2.0 * cosw, 1.0 - alpha * a,
            1.0 + alpha / a, -2.0 * cosw, 1.0 - alpha / a)


def _mag2(b0, b1, b2, w):
    # b*: [..., 1]; w: [n_freqs]
    re = b0 + b1 * torch.cos(w) + b2 * torch.cos(2.0 * w)
    im = b1 * torch.sin(w) + b2 * torch.sin(2.0 * w)
    return re * re + im * im


def response_db_torch(params: torch.Tensor, freqs, sample_rate: float = 48000.0) -> torch.Tensor:
    """Magnitude response in dB of SAFE settings ``[..., 13]`` at ``freqs`` -> ``[..., n_freqs]``."""
    freqs = torch.as_tensor(freqs, dtype=params.dtype, device=params.device)
    w = 2.0 * math.pi * freqs / sample_rate
    total = torch.zeros(params.shape[:-1] + (freqs.shape[0],), dtype=params.dtype,
                        device=params.device)
    for kind, (gi, fi, qi) in zip(BAND_KINDS, BAND_INDEX):
        gain = params[..., gi:gi + 1]
        f0 = params[..., fi:fi + 1].clamp(_MIN_FREQ_HZ, MAX_FREQ_FRACTION * sample_rate)
        w0 = 2.0 * math.pi * f0 / sample_rate
        if kind == LOW_SHELF:
            c = _shelf(gain, w0, high=False)
        elif kind == HIGH_SHELF:
            c = _shelf(gain, w0, high=True)
        else:
            c = _peaking(gain, w0, params[..., qi:qi + 1].clamp(0.1, 10.0))
        b0, b1, b2, a0, a1, a2 = c
        num = _mag2(b0, b1, b2, w)
        den = _mag2(a0, a1, a2, w).clamp_min(1e-300 if params.dtype == torch.float64 else 1e-30)
        total = total + 10.0 * torch.log10((num / den).clamp_min(1e-30))
    return total
