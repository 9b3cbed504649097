"""Re-fitting the boosts to the bands with signal before the boost ceiling limits them (issue 11.2).

The ceiling (``ceiling.py``) turns boosting sections down until the net curve of the 10 biquads
stays under the allowed curve. Where the input has nothing (below a lead line's 200 Hz, a voice's
125 Hz) the allowance is 0.5 dB, and a section whose skirt reaches there is turned down *as a
whole*: the bands with signal lose its boost too, and where that boost was cancelling an undone
inverse cut (an input already close to the target), the cut is left standing alone: the warm-shaped
lead line got a 1.8 dB cut at 300 Hz that nobody asked for.

So, when the net curve asked for rises above the allowance, every section's gain is first chosen
*for the bands with signal*: the net curve should follow what was asked, ``min(asked, allowed)``,
weighted by the analyzer's band weights, while staying under the allowance everywhere and inside
the EQ's range. In dB the cascade's curve is (nearly) linear in each section's gain, so this is a
small least squares problem in one gain per section:

    minimise  sum_i w_i (net_i - target_i)^2 + PENALTY sum_i max(0, net_i - (allowed_i - margin))^2
              + PENALTY sum_i max(0, (floor + margin) - net_i)^2 + REGULARISATION sum_j E_j (x_j - g_j)^2,
              -range <= x_j <= g_j

with ``net_i = offset_i + sum_j x_j u_ji`` (``u_ji``: section j's curve per dB of gain, at its asked
gain or 1 dB if smaller; ``offset`` makes the model exact at the asked gains), ``w_i`` the band
weight (at least ``EMPTY_WEIGHT``) and ``margin`` as the ceiling's passes aim. A boost is never
raised (``x_j <= g_j``), but any section may be turned down past 0 dB into a cut and a cut may be
deepened: where the input has nothing a cut is harmless, and it is how an engineer keeps a boost
in the bands with signal next to an empty region (a low cut under a voice, then its chest boost),
instead of turning the boost down as a whole. Scaling the boosts alone (the re-fit before) lost a
third of the warm-vs-bright difference on the made voices at the end of a take, level-free
(README); a per-band clip of the asked curve to the allowance loses almost nothing. The bounds do
not depend on the sign of the asked gain and the problem is strictly convex (the small
regularisation, each section's own weight ``E_j``), so the minimum moves continuously with the
inputs: no jumps between solutions. Solved by Gauss-Newton on the set of points over the allowance
or under the floor, each step a box-bounded quadratic solved exactly by a primal active-set
method (ten unknowns at most). Deterministic and bounded in work. The ceiling's exact passes then check and, where the
linear model was off, finish the job.

numba caches ``ceiling._limit`` by ``ceiling.py``'s own file: after editing this module, clear
``semeq_live/control/__pycache__/ceiling.*.nb*`` (or touch ``ceiling.py``) or the old fit runs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# No section is raised above its asked gain: what is asked is the most any band gets. (Letting a
# bell grow to make up for a neighbour the empty region forces down, 2x, fitted closer still, 0.47
# dB RMS off what was asked on the bands with signal over the evidence sources against 0.53, but
# it would raise a section above what the word and the input asked for; on the warm-vs-bright
# difference it gained nothing.)
# Below this gain (dB) a section's curve per dB is taken at this gain: its shape at 0 dB is the
# limit, and the model must not depend on whether a gain near 0 is a small boost or a small cut.
UNIT_GAIN_DB = 1.0
# Bands without signal still count this much towards following what was asked: otherwise a section
# that boosts only there costs nothing to remove, and the first hundredth of a dB over the allowance
# would take it away at once (a jump of the curve where it was within its allowance).
EMPTY_WEIGHT = 0.1
PENALTY = 100.0  # against rising above the allowance, relative to a band with signal's weight 1
REGULARISATION = 0.1  # the pull towards the asked gains, relative to each section's own weight
OUTER_STEPS = 30
QP_ROUNDS = 200  # active-set rounds (a few times the unknowns in practice)
LINE_STEPS = 30  # bisection steps of the line search: 1e-9 of the step
CONVERGED = 1e-7


@njit(cache=True, nogil=True)
def _solve_spd(a, b):
    """``a x = b`` for a small symmetric positive definite ``a`` (Cholesky, in place of
    ``np.linalg.solve``): numba's ``np.linalg.solve`` calls LAPACK through ``scipy.linalg``, whose
    import (tens of MB, a quarter of a second holding the GIL) would otherwise happen in the live
    process the first time the ceiling re-fits, while the audio callback runs."""
    n = b.size
    low = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            acc = a[i, j]
            for k in range(j):
                acc -= low[i, k] * low[j, k]
            if i == j:
                low[i, i] = math.sqrt(max(acc, 1e-300))
            else:
                low[i, j] = acc / low[j, j]
    y = np.empty(n)
    for i in range(n):
        acc = b[i]
        for k in range(i):
            acc -= low[i, k] * y[k]
        y[i] = acc / low[i, i]
    x = np.empty(n)
    for i in range(n - 1, -1, -1):
        acc = y[i]
        for k in range(i + 1, n):
            acc -= low[k, i] * x[k]
        x[i] = acc / low[i, i]
    return x


@njit(cache=True, nogil=True)
def _box_qp(a, b, lo, hi, s, m):
    """Minimise 0.5 s'As - b's over lo <= s <= hi (A positive definite) exactly, by a primal
    active-set method from ``s`` (clipped into the box): solve for the free unknowns with the others
    held at their bounds, walk towards that solution until a bound is met (held from then on), and
    free a held unknown whose gradient points into the box. Exact, so the minimum (unique: A is
    positive definite) moves continuously with A and b; coordinate descent stopped short of it on
    two sections of nearly the same shape (a forward and an inverse bell of one band) and jumped."""
    held = np.zeros(m, dtype=np.int64)  # 0 free, -1 at lo, +1 at hi
    for k in range(m):
        s[k] = min(max(s[k], lo[k]), hi[k])
        if hi[k] <= lo[k]:
            held[k] = 1
    sol = np.empty(m)
    for _ in range(QP_ROUNDS):
        # The minimum over the free unknowns, the held ones at their bounds.
        nf = 0
        for k in range(m):
            if held[k] == 0:
                nf += 1
        if nf > 0:
            free = np.empty(nf, dtype=np.int64)
            c = 0
            for k in range(m):
                if held[k] == 0:
                    free[c] = k
                    c += 1
            af = np.empty((nf, nf))
            bf = np.empty(nf)
            for p in range(nf):
                kp = free[p]
                acc = b[kp]
                for k in range(m):
                    if held[k] != 0:
                        acc -= a[kp, k] * s[k]
                bf[p] = acc
                for q in range(nf):
                    af[p, q] = a[kp, free[q]]
            xf = _solve_spd(af, bf)
            # Walk from s towards it; stop at the first bound met.
            t = 1.0
            hit = -1
            side = 0
            for p in range(nf):
                k = free[p]
                d = xf[p] - s[k]
                if d > 0.0 and s[k] + d > hi[k]:
                    tk, sk = (hi[k] - s[k]) / d, 1
                elif d < 0.0 and s[k] + d < lo[k]:
                    tk, sk = (lo[k] - s[k]) / d, -1
                else:
                    continue
                if tk < t:
                    t, hit, side = tk, k, sk
            for p in range(nf):
                k = free[p]
                sol[k] = s[k] + t * (xf[p] - s[k])
            for p in range(nf):
                k = free[p]
                s[k] = min(max(sol[k], lo[k]), hi[k])
            if hit >= 0:
                held[hit] = side  # the bound it met (not read back from s: rounding)
                s[hit] = hi[hit] if side > 0 else lo[hit]
                continue
        # At the minimum over the free unknowns: free the held one whose gradient points inwards most.
        worst, release = 0.0, -1
        for k in range(m):
            if held[k] == 0 or hi[k] <= lo[k]:
                continue
            grad = -b[k]
            for l in range(m):
                grad += a[k, l] * s[l]
            inward = -grad if held[k] < 0 else grad  # at lo: a negative gradient wants s up
            if inward > worst + CONVERGED:
                worst, release = inward, k
        if release < 0:
            return
        held[release] = 0


@njit(cache=True, nogil=True)
def _slope(t, y0, dy, reg0, reg1, target, weight, ceil, floor_db, margin, n):
    """Half the derivative of the re-fit's objective (module notes) at ``t`` along a step: the
    curve there is ``y0 + t dy`` and the pull towards the asked gains contributes ``reg0 + t reg1``
    (both linear in ``t``, so the line search costs one pass over the points per probe, not one
    per point and section)."""
    total = reg0 + t * reg1
    for i in range(n):
        y = y0[i] + t * dy[i]
        g = weight[i] * (y - target[i])
        over = y - (ceil[i] - margin)
        if over > 0.0:
            g += PENALTY * over
        under = (floor_db + margin) - y
        if under > 0.0:
            g -= PENALTY * under
        total += g * dy[i]
    return total


@njit(cache=True, nogil=True)
def fit_gains(gains, exists, unit, net, ceil, floor_db, weight, n, range_db, margin, x):
    """Every existing section's gain chosen for the bands with signal (module notes). ``unit[j, i]``:
    section j's curve per dB of gain (dB) at point i, ``net``: the asked net curve (dB), ``ceil``:
    the allowance, ``weight``: the bands' weights, over points ``0..n``; aims ``margin`` inside the
    allowance and the floor (the ceiling's MARGIN_DB, or the excess if smaller, so the aim grows
    from 0 as an excess begins). Sections that do not exist (no inverse) stay at 0 dB. Writes
    ``x``."""
    n_sec = gains.shape[0]
    idx = np.empty(n_sec, dtype=np.int64)
    m = 0
    for j in range(n_sec):
        x[j] = gains[j]
        if exists[j]:
            idx[m] = j
            m += 1
    # The existing sections' curves point by point, contiguous (``u[i, k]``): the loops below run
    # over the sections at each point, and a strided read per section cost more than the sums.
    u = np.empty((n, m))
    for i in range(n):
        for k in range(m):
            u[i, k] = unit[idx[k], i]
    offset = np.empty(n)  # the asked curve minus the linear model's at the asked gains
    target = np.empty(n)
    for i in range(n):
        lin = 0.0
        for k in range(m):
            lin += gains[idx[k]] * u[i, k]
        offset[i] = net[i] - lin
        target[i] = min(max(net[i], floor_db), ceil[i])
        weight[i] = max(weight[i], EMPTY_WEIGHT)
    own = np.empty(m)
    lo = np.empty(m)
    hi = np.empty(m)
    s = np.empty(m)
    for k in range(m):
        j = idx[k]
        e = 1e-6
        for i in range(n):
            e += weight[i] * u[i, k] * u[i, k]
        own[k] = REGULARISATION * e
        lo[k] = -range_db
        hi[k] = gains[j]
        s[k] = gains[j]
    # The part of the normal equations that does not change between steps (following what was
    # asked, and the pull towards it), then per step only the points over a limit are added.
    a0 = np.zeros((m, m))
    b0 = np.empty(m)
    for k in range(m):
        a0[k, k] = own[k]
        b0[k] = own[k] * gains[idx[k]]
    for i in range(n):
        wi = weight[i]
        rhs = wi * (target[i] - offset[i])
        for k in range(m):
            uk = u[i, k]
            b0[k] += rhs * uk
            for l in range(k, m):
                a0[k, l] += wi * uk * u[i, l]
    for k in range(m):
        for l in range(k):
            a0[k, l] = a0[l, k]
    a = np.empty((m, m))
    b = np.empty(m)
    prev = np.empty(m)
    direction = np.empty(m)
    y0 = np.empty(n)  # the curve at the step's start, and its change along the step
    dy = np.empty(n)
    for _ in range(OUTER_STEPS):
        a[:, :] = a0
        b[:] = b0
        for i in range(n):
            y = offset[i]
            for k in range(m):
                y += s[k] * u[i, k]
            y0[i] = y
            limit = ceil[i] - margin
            if y <= limit:
                limit = floor_db + margin
                if y >= limit:
                    continue
            rhs = PENALTY * (limit - offset[i])
            for k in range(m):
                uk = u[i, k]
                b[k] += rhs * uk
                for l in range(m):
                    a[k, l] += PENALTY * uk * u[i, l]
        prev[:] = s
        _box_qp(a, b, lo, hi, s, m)
        # The step solves the problem with the points over a limit as they were; past them the
        # objective (convex, piecewise quadratic) changes: go only as far along it as the objective
        # still falls (its slope is monotone along the step: bisection), so the steps converge to
        # its one minimum instead of hopping between two sets of such points.
        reg0 = reg1 = 0.0
        for k in range(m):
            direction[k] = s[k] - prev[k]
            reg0 += own[k] * (prev[k] - gains[idx[k]]) * direction[k]
            reg1 += own[k] * direction[k] * direction[k]
        for i in range(n):
            dyi = 0.0
            for k in range(m):
                dyi += direction[k] * u[i, k]
            dy[i] = dyi
        if _slope(1.0, y0, dy, reg0, reg1, target, weight, ceil, floor_db, margin, n) > 0.0:
            lo_t, hi_t = 0.0, 1.0
            for _ in range(LINE_STEPS):
                mid = 0.5 * (lo_t + hi_t)
                if _slope(mid, y0, dy, reg0, reg1, target, weight, ceil, floor_db, margin, n) > 0.0:
                    hi_t = mid
                else:
                    lo_t = mid
            for k in range(m):
                s[k] = prev[k] + lo_t * direction[k]
        step = 0.0
        for k in range(m):
            step = max(step, abs(s[k] - prev[k]))
        if step < CONVERGED:
            break
    for k in range(m):
        x[idx[k]] = s[k]
