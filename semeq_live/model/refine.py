"""Refine the curve encoder's reading of the input so its decoded EQ follows the measured deviation.

Why: at k = 1 the adaptive EQ is the target cascaded with the inverse of ``D(z_a)`` (DESIGN.md
section 3), so every dB by which ``D(z_a)``'s curve falls short of the input's measured deviation
is a dB the correction misses. The curve encoder is one forward pass, trained to be unbiased on
noisy curves, and it shrinks towards the average: on recordings shaped with SAFE's mean warm and
bright curves, the decoded characters of the two takes differed by 50-93 % of what the analyzer
measured between them.

What: the encoder's reading ``z0`` is moved along the line from its reading of "no deviation" on
the same bands (``z_n``) through ``z0``, in the pre-tanh coordinates (so the latent stays inside
its bound, ``LATENT_LIMIT``, by construction):

    z(g) = tanh(atanh(z0) + g (atanh(z0) - atanh(z_n)))

and ``g`` minimises

    E(g) = sum_b w_b (C(z)_b - d_b - m(z))^2 / sum_b w_b  +  PULL g^2

``C(z)`` is the decoded EQ's response on the analysis bands, ``d`` the deviation (clipped like the
encoder's input), ``w`` the band weights the encoder gets (bands without signal have no say) and
``m(z)`` the weighted mean of ``C - d`` (level-free: the input's level says nothing of its tone).

Why a line and not all 32 latent dimensions: besides the tone, the deviation holds which notes were
played (bands moving 10-30 dB from one window to the next) and the source's own difference from
its reference. A free fit of all dimensions follows that too, which raises the correction of an
input that is already warm as much as that of a bright one (measured: README). Along its own
reading the encoder has already separated the tone from that; the fit only undoes its shrinkage.

A few Levenberg-Marquardt steps, the slope by a forward difference (the probe rides in the same
decoder call as the point itself; the two responses are the single-setting ``BandResponse``,
about 15 us each, cheaper than any batched form for two). Fixed step count, no randomness: the
same input gives the same latent.
"""

from __future__ import annotations

import numpy as np

from .curves import INPUT_LIMIT_DB

# The pull towards the encoder's reading, in dB^2 of weighted mean-square misfit per unit of g
# (g = 1 doubles the reading's departure from neutral). Chosen on the made sources and the shared
# clips, not the held-out ones: 0.3, 1 and 3 gave the same total gain, 3 the fewest and smallest
# losses (README). Along the line the fit is nearly quadratic: 2 steps read the same as 3 to
# 0.05 dB on every row of the tables (python -m tests.evidence).
PULL = 3.0
STEPS = 2
# Levenberg-Marquardt damping to start with, relative to the normal equation's diagonal.
DAMPING = 0.3
# Forward-difference step in g. The decoder runs in float32 (its gains carry ~1e-6 dB of
# rounding), so the step is large enough for that to stay ~1e-3 of the slopes.
_H = 2e-3
# Keeps atanh finite for a reading on the bound.
_EDGE = 1.0 - 1e-6
_PROBE = np.array([[0.0], [_H]])
_POINT = _PROBE[:1]


class LatentRefiner:
    """``LatentRefiner(decode, response)(z0, z_neutral, dev_db, weights)`` -> refined latent.

    ``decode``: latents ``[n, dim]`` -> settings ``[n, 13]``; ``response``: one setting ``[13]``
    -> dB on the analysis bands ``[28]``.
    """

    def __init__(self, decode, response, pull: float = PULL, steps: int = STEPS,
                 damping: float = DAMPING):
        self._decode = decode
        self._response = response
        self.pull = float(pull)
        self.steps = int(steps)
        self.damping = float(damping)

    def __call__(self, z0, z_neutral, dev_db, weights) -> np.ndarray:
        z0 = np.asarray(z0, dtype=np.float64)
        u0 = np.arctanh(np.clip(z0, -_EDGE, _EDGE))
        direction = u0 - np.arctanh(np.clip(np.asarray(z_neutral, dtype=np.float64), -_EDGE, _EDGE))
        w = np.asarray(weights, dtype=np.float64)
        total = float(w.sum())
        if self.steps <= 0 or not total > 0.0 or not np.any(direction):
            return z0.copy()
        share = w / total
        root = np.sqrt(share)
        dev = np.asarray(dev_db, dtype=np.float64)
        d = np.clip(dev - float(share @ dev), -INPUT_LIMIT_DB, INPUT_LIMIT_DB)
        pull = np.sqrt(self.pull)
        n = d.size

        def residuals(values, last):
            """``root * (values - their weighted mean)`` and ``last`` as one vector (in place of
            ``np.append``, which cost more than the arithmetic)."""
            out = np.empty(n + 1)
            np.multiply(root, values - float(share @ values), out=out[:n])
            out[n] = last
            return out

        def misfit(g, slope=True):
            """Cost, residuals and (with ``slope``) their slope in g at ``g``."""
            settings = self._decode(np.tanh(u0 + (g + (_PROBE if slope else _POINT)) * direction))
            c = self._response(settings[0])
            r = residuals(c - d, pull * g)
            if not slope:
                return float(r @ r), r, None
            s = (self._response(settings[1]) - c) * (1.0 / _H)
            return float(r @ r), r, residuals(s, pull)

        g = 0.0
        cost, r, j = misfit(g)
        damping = self.damping
        for step in range(self.steps):
            normal = float(j @ j)
            trial = g - float(j @ r) / (normal * (1.0 + damping))
            # The last step's slope would never be used.
            cost_t, r_t, j_t = misfit(trial, slope=step < self.steps - 1)
            if cost_t < cost:
                g, cost, r, j = trial, cost_t, r_t, j_t
                damping *= 0.3
            else:
                damping *= 10.0
        return np.tanh(u0 + g * direction) if g != 0.0 else z0.copy()  # no move: the reading as is
