"""Re-fitting the boosts to the bands with signal before the boost ceiling limits them (issue 11.2).

The ceiling (``ceiling.py``) turns boosting sections down until the net curve of the 10 biquads
stays under the allowed curve. Where the input has nothing (below a lead line's 200 Hz, a voice's
125 Hz) the allowance is 0.5 dB, and a section whose skirt reaches there is turned down *as a
whole*: the bands with signal lose its boost too, and where that boost was cancelling an undone
inverse cut (an input already close to the target), the cut is left standing alone: the warm-shaped
lead line got a 1.8 dB cut at 300 Hz that nobody asked for.

So, when the net curve asked for rises above the allowance, the boosting sections' gains are first
chosen *for the bands with signal*: the net curve should follow what was asked, ``min(asked,
allowed)``, weighted by the analyzer's band weights, while staying under the allowance everywhere.
In dB the cascade's curve is (nearly) linear in each section's gain, so this is a small least
squares problem in one scale per boosting section:

    minimise  sum_i w_i (net_i - target_i)^2  +  PENALTY sum_i max(0, net_i - (allowed_i - margin))^2
              + REGULARISATION sum_j E_j (s_j - 1)^2,      0 <= s_j <= min(MAX_GROWTH, range / gain_j)

with ``net_i = cuts_i + sum_j s_j r_ji`` (``r_ji``: section j's curve at its asked gain), ``w_i`` the
band weight (at least ``EMPTY_WEIGHT``) and ``margin`` as the ceiling's passes aim. Each
boosting section is turned down by its own amount, chosen for the bands with signal (the
ceiling's passes share an excess by what each section adds *where* the curve is too high); cuts
stay exactly as asked. The small regularisation (each section's own weight ``E_j``) makes the minimum unique, so it moves continuously with the inputs: no jumps between
solutions. Solved by Gauss-Newton on the set of points over the allowance, each step a box-bounded
quadratic solved by coordinate descent (ten unknowns at most). Deterministic and bounded in work.
The ceiling's exact passes then check and, where the linear model was off, finish the job.

numba caches ``ceiling._limit`` by ``ceiling.py``'s own file: after editing this module, clear
``semeq_live/control/__pycache__/ceiling.*.nb*`` (or touch ``ceiling.py``) or the old fit runs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# How far a boosting section may be raised: not at all. The ceiling only ever turns gains towards
# 0 dB (a property its tests hold: what is asked is the most any band gets). Letting a bell grow to
# make up for a neighbour the empty region forces down (2x) fitted closer still (0.47 dB RMS off
# what was asked on the bands with signal over the evidence sources, against 0.53 at 1x and 0.59
# before the re-fit), but it would raise a section above what the word and the input asked for.
MAX_GROWTH = 1.0
# Bands without signal still count this much towards following what was asked: otherwise a section
# that boosts only there costs nothing to remove, and the first hundredth of a dB over the allowance
# would take it away at once (a jump of the curve where it was within its allowance).
EMPTY_WEIGHT = 0.1
PENALTY = 100.0  # against rising above the allowance, relative to a band with signal's weight 1
REGULARISATION = 0.01  # the pull towards the asked gains, relative to each section's own weight
OUTER_STEPS = 12
SWEEPS = 60
CONVERGED = 1e-7


@njit(cache=True, nogil=True)
def _box_qp(a, b, lo, hi, s, m):
    """Minimise 0.5 s'As - b's over lo <= s <= hi (A positive definite) by coordinate descent from
    ``s``: each step is that coordinate's exact minimum, so it converges for any such A."""
    for _ in range(SWEEPS):
        moved = 0.0
        for k in range(m):
            acc = b[k]
            for l in range(m):
                if l != k:
                    acc -= a[k, l] * s[l]
            v = min(max(acc / a[k, k], lo[k]), hi[k])
            moved = max(moved, abs(v - s[k]))
            s[k] = v
        if moved < CONVERGED:
            break


@njit(cache=True, nogil=True)
def fit_scales(gains, pw, net, ceil, weight, n, range_db, margin, scale):
    """Scales of the boosting sections (``gains[j] > 0``; cuts keep 1) chosen for the bands with
    signal (module notes). ``pw[j, i]``: section j's power gain at point i at its asked gain,
    ``net``: the asked net curve (dB), ``ceil``: the allowance, ``weight``: the bands' weights, over
    points ``0..n``; aims ``margin`` under the allowance (the ceiling's MARGIN_DB, or the excess if
    smaller, so the aim grows from 0 as an excess begins). Writes ``scale``; returns True if any
    boosting section was found."""
    n_sec = gains.shape[0]
    idx = np.empty(n_sec, dtype=np.int64)
    m = 0
    for j in range(n_sec):
        scale[j] = 1.0
        if gains[j] > 0.0:
            idx[m] = j
            m += 1
    if m == 0:
        return False
    r = np.empty((m, n))
    fixed = np.empty(n)  # the cuts' curve
    target = np.empty(n)
    for i in range(n):
        boosts = 0.0
        for k in range(m):
            r[k, i] = 10.0 * math.log10(pw[idx[k], i])
            boosts += r[k, i]
        fixed[i] = net[i] - boosts
        target[i] = min(net[i], ceil[i])
        weight[i] = max(weight[i], EMPTY_WEIGHT)
    own = np.empty(m)
    lo = np.zeros(m)
    hi = np.empty(m)
    s = np.ones(m)
    for k in range(m):
        e = 1e-6
        for i in range(n):
            e += weight[i] * r[k, i] * r[k, i]
        own[k] = REGULARISATION * e
        hi[k] = min(MAX_GROWTH, range_db / gains[idx[k]])
    # The part of the normal equations that does not change between steps (following what was asked,
    # and the pull towards it), then per step only the points over the allowance are added.
    a0 = np.zeros((m, m))
    b0 = np.empty(m)
    for k in range(m):
        a0[k, k] = own[k]
        b0[k] = own[k]
    for i in range(n):
        wi = weight[i]
        rhs = wi * (target[i] - fixed[i])
        for k in range(m):
            rk = r[k, i]
            b0[k] += rhs * rk
            for l in range(k, m):
                a0[k, l] += wi * rk * r[l, i]
    for k in range(m):
        for l in range(k):
            a0[k, l] = a0[l, k]
    a = np.empty((m, m))
    b = np.empty(m)
    prev = np.empty(m)
    for _ in range(OUTER_STEPS):
        a[:, :] = a0
        b[:] = b0
        for i in range(n):
            y = fixed[i]
            for k in range(m):
                y += s[k] * r[k, i]
            limit = ceil[i] - margin
            if y <= limit:
                continue
            rhs = PENALTY * (limit - fixed[i])
            for k in range(m):
                rk = r[k, i]
                b[k] += rhs * rk
                for l in range(m):
                    a[k, l] += PENALTY * rk * r[l, i]
        prev[:] = s
        _box_qp(a, b, lo, hi, s, m)
        step = 0.0
        for k in range(m):
            step = max(step, abs(s[k] - prev[k]))
        if step < CONVERGED:
            break
    for k in range(m):
        scale[idx[k]] = s[k]
    return True
