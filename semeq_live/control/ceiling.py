"""The boost ceiling: the applied EQ never rises above what the stage and the input allow.

The applied EQ is a cascade of 10 RBJ biquads (the forward setting and the undone inverse, see
``engine.py``), and the net curve of that cascade can reach twice what one band can (+24 dB where
a forward boost meets the inverse of an input cut). One mechanism bounds it, per frequency:

- **ceiling** ``C(f) = e + a(f) (cap - e)``: ``cap`` is ``max_boost_db`` (the stage's boost cap,
  at most the EQ's own range of 12 dB; the range itself when no cap is set) where the input
  carries signal, and ``e`` (``EMPTY_BAND_ALLOWANCE_DB``, 0.5 dB: the far tail of a filter that
  shapes the bands with signal) where it has nothing. ``a(f)`` comes from the analyzer's band
  weights (1 = signal, 0 = nothing): a band may be boosted in full when its weight is 1 (within
  30 dB of the strongest band, against a programme's shape), not at all from weight 0.6 down
  (36 dB under it: boosting there raises noise and leakage, not the source; the analyzer still
  *judges* such bands, down to 45 dB), linearly between; interpolated on log frequency between
  band centres and held beyond the outermost bands that lie below Nyquist;
- **floor** ``-12 dB``: the correction stays inside the EQ's range on the cut side too. Cuts are
  never limited by the boost cap.

Both are checked on the *exact* net response of the 10 biquads on a dense log grid over the usable
band (20 Hz up to 20 kHz or 0.49 fs), plus every section's centre frequency, where a narrow peak
has its maximum. The kernel's structure stays as it is: only the gains handed to it change. The
contributions that push the curve through the ceiling (forward boosts and inverse cuts, which
boost) are scaled down; through the floor, the cutting ones. Each pass shares every frequency's
excess among the sections in proportion to the square of what each contributes there (so the
section that makes the peak gives most, a far tail almost nothing), each section takes the largest
share it was given, and the pass is repeated on the exact response until nothing exceeds (2-3
passes in practice). Every step is a continuous function of the inputs and the pass count is
bounded, so a small change of the estimate or the target gives a small change of the gains: no
jumps between solutions, nothing that could click once the kernel smooths it. If the passes were
ever not enough, a bisection on one common factor finishes the job (always feasible: all gains
at zero is flat).

While adaptation is on (band weights given), the passes do not start from the gains as asked when
the curve rises above the ceiling: every section's gain is first re-fitted to the bands with
signal (``refit.py``: so that the net curve there follows what was asked, instead of a bell being
turned down as a whole because its skirt reaches an empty region; a boost may be taken below 0 dB
and a cut deepened, which is harmless where the input has nothing, never a section raised above
its asked gain). Should that added cut take the curve below the floor, only the added part is
given back. The passes then check and finish from there, as above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from ..analysis.bands import band_edges
from ..analysis.presence import FULL_DB, ZERO_DB
from ..dsp.design import MIN_FREQ_HZ, high_shelf_coeffs, low_shelf_coeffs, peaking_coeffs
from ..params import (ANALYSIS_FREQS, BAND_INDEX, BAND_KINDS, GAIN_INDEX, HIGH_SHELF, LOW_SHELF,
                      MAX_FREQ_FRACTION, N_BANDS, Q_RANGE)
from .boost_cap import EQ_RANGE_DB, check_max_boost_db  # noqa: F401  (the setting's check, numba-free)
from .refit import UNIT_GAIN_DB, fit_gains
# Boosting is allowed in full where a band is within FULL_DB of the input's strongest band (the
# analyzer's weight 1) and not at all from BOOST_ZERO_DB under it: there a boost raises noise and
# leakage, not the source. The analyzer's weights fall from 1 to 0 between FULL_DB and ZERO_DB.
BOOST_ZERO_DB = 36.0
BOOST_WEIGHT_FLOOR = (ZERO_DB - BOOST_ZERO_DB) / (ZERO_DB - FULL_DB)
# Where the input has nothing, a boost this small is allowed: the far tail of a filter shaping the
# bands that do carry signal (a 6 dB bell at 1 kHz still adds 0.15 dB at 5 kHz). Raising noise by
# half a dB is inaudible; asking for exactly 0 dB would wipe out every boost near an empty region.
EMPTY_BAND_ALLOWANCE_DB = 0.5
USABLE_LOW_HZ = 20.0
USABLE_HIGH_HZ = 20000.0
NYQUIST_FRACTION = 0.49  # the usable band ends here at low sample rates (16 kHz: 7.84 kHz)
POINTS_PER_OCTAVE = 12
# Where a pass finds the curve above the ceiling it aims this much below (or as much as the excess,
# if that is smaller, so the aim stays continuous), so that the next exact check usually passes.
MARGIN_DB = 0.05
MAX_PASSES = 8
ADDED_CUT_ROUNDS = 20  # bisection of the re-fit's added cut against the floor: 1e-6 of it
TOLERANCE_DB = 1e-6
NUMERIC_NOISE_DB = 1e-9  # float rounding in summed section responses, not a rise
ACTING_DB = 0.01  # below this the ceiling changed nothing anyone could hear: not reported as acting

_peak = njit(cache=True, nogil=True)(peaking_coeffs)
_low = njit(cache=True, nogil=True)(low_shelf_coeffs)
_high = njit(cache=True, nogil=True)(high_shelf_coeffs)

_KINDS = np.array(BAND_KINDS, dtype=np.int64)
_INDEX = np.array(BAND_INDEX, dtype=np.int64)  # (gain, freq, q) per band, q = -1 for shelves
N_SECTIONS = 2 * N_BANDS  # the forward layout, then the inverse layout
MAX_EXTRA_POINTS = 24  # refined extremes per pass
_ALL = np.ones(N_SECTIONS, dtype=np.bool_)
REFINE_WITHIN_DB = 1.0  # extremes closer than this to a limit are located between grid points
# Golden-section steps per extreme: each keeps about 0.618 of the bracket, so 16 narrow the
# bracket (two grid steps, 1/6 octave) to well under 0.001 octave, where even a Q-10 peak is within
# 0.001 dB of its top. (A parabola through three grid points misplaces the top of two neighbouring
# narrow peaks' sum: it put one 0.05 dB too low.)
REFINE_ROUNDS = 16
GOLDEN = 0.3819660112501051  # 2 - golden ratio


@njit(cache=True, nogil=True)
def _interp(x, xp, fp):
    """np.interp for one point (``xp`` ascending; the end values hold beyond it)."""
    n = xp.shape[0]
    if x <= xp[0]:
        return fp[0]
    if x >= xp[n - 1]:
        return fp[n - 1]
    lo, hi = 0, n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xp[mid] <= x:
            lo = mid
        else:
            hi = mid
    t = (x - xp[lo]) / (xp[hi] - xp[lo])
    return fp[lo] + t * (fp[hi] - fp[lo])


@njit(cache=True, nogil=True)
def _design(gains, freqs, qs, fs, coef, designed, dirty):
    """``coef[j]``: section ``j``'s RBJ coefficients (b0 b1 b2 a0 a1 a2), identity at 0 dB. Only
    sections whose gain changed since they were last designed (``designed``) are redone and
    marked ``dirty``: a pass usually turns down the boosts and leaves the cuts as they were."""
    for j in range(N_SECTIONS):
        gain = gains[j]
        if gain == designed[j]:
            dirty[j] = False
            continue
        designed[j] = gain
        dirty[j] = True
        if gain == 0.0:
            coef[j, :] = 0.0
            coef[j, 0] = coef[j, 3] = 1.0
            continue
        w0 = 2.0 * math.pi * freqs[j] / fs
        kind = _KINDS[j % N_BANDS]
        if kind == LOW_SHELF:
            c = _low(gain, w0)
        elif kind == HIGH_SHELF:
            c = _high(gain, w0)
        else:
            c = _peak(gain, w0, qs[j])
        coef[j, 0], coef[j, 1], coef[j, 2], coef[j, 3], coef[j, 4], coef[j, 5] = c


@njit(cache=True, nogil=True)
def _power(coef, j, c1, s1, c2, s2):
    """Power gain of section ``j`` at the frequency with these cos/sin of w and 2w."""
    nr = coef[j, 0] + coef[j, 1] * c1 + coef[j, 2] * c2
    ni = coef[j, 1] * s1 + coef[j, 2] * s2
    dr = coef[j, 3] + coef[j, 4] * c1 + coef[j, 5] * c2
    di = coef[j, 4] * s1 + coef[j, 5] * s2
    return max(nr * nr + ni * ni, 1e-300) / max(dr * dr + di * di, 1e-300)


@njit(cache=True, nogil=True)
def _ceiling_at(x, lim):
    """The ceiling (dB) at log-frequency ``x``. ``lim``: (fs, floor, band log-centres, the bands'
    boost allowances, cap, empty-band allowance, the weight below which a band allows nothing)."""
    return lim[5] + _interp(x, lim[2], lim[3]) * (lim[4] - lim[5])


@njit(cache=True, nogil=True)
def _set_point(i, x, lim, grid):
    """Grid point ``i`` at log-frequency ``x``: its trigonometry and its ceiling. ``grid``: (log
    frequencies, cos/sin of w and 2w, ceiling, section power gains, net dB)."""
    logf, trig, ceil = grid[0], grid[1], grid[2]
    logf[i] = x
    w = 2.0 * math.pi * math.exp(x) / lim[0]
    trig[0, i] = math.cos(w)
    trig[1, i] = math.sin(w)
    trig[2, i] = math.cos(2.0 * w)
    trig[3, i] = math.sin(2.0 * w)
    ceil[i] = _ceiling_at(x, lim)


@njit(cache=True, nogil=True)
def _powers(coef, start, stop, grid, dirty):
    """Section power gains at points ``start..stop`` (recomputed for the ``dirty`` sections only)
    and the cascade's net curve in dB. Section by section over contiguous points, so the compiler
    can vectorise the inner loop."""
    trig, pw, net = grid[1], grid[3], grid[4]
    cos1, sin1, cos2, sin2 = trig[0], trig[1], trig[2], trig[3]
    for j in range(N_SECTIONS):
        if not dirty[j]:
            continue
        b0, b1, b2, a0, a1, a2 = coef[j, 0], coef[j, 1], coef[j, 2], coef[j, 3], coef[j, 4], coef[j, 5]
        row = pw[j]
        if b1 == 0.0 and b2 == 0.0 and a1 == 0.0 and a2 == 0.0:  # a section at 0 dB
            for i in range(start, stop):
                row[i] = 1.0
            continue
        for i in range(start, stop):
            nr = b0 + b1 * cos1[i] + b2 * cos2[i]
            ni = b1 * sin1[i] + b2 * sin2[i]
            dr = a0 + a1 * cos1[i] + a2 * cos2[i]
            di = a1 * sin1[i] + a2 * sin2[i]
            row[i] = max(nr * nr + ni * ni, 1e-300) / max(dr * dr + di * di, 1e-300)
    for i in range(start, stop):
        prod = 1.0
        for j in range(N_SECTIONS):
            prod *= pw[j, i]
        net[i] = 10.0 * math.log10(max(prod, 1e-300))


@njit(cache=True, nogil=True)
def _distance(coef, x, side, lim):
    """How far the net curve at log-frequency ``x`` is above the ceiling (side 1) or below the floor."""
    w = 2.0 * math.pi * math.exp(x) / lim[0]
    c1, s1, c2, s2 = math.cos(w), math.sin(w), math.cos(2.0 * w), math.sin(2.0 * w)
    prod = 1.0
    for j in range(N_SECTIONS):
        prod *= _power(coef, j, c1, s1, c2, s2)
    net = 10.0 * math.log10(max(prod, 1e-300))
    if side > 0.0:
        return net - _ceiling_at(x, lim)
    return lim[1] - net


@njit(cache=True, nogil=True)
def _refine(coef, n_sorted, lim, grid):
    """Locate the extremes of the curve's distance to its limits between grid points (a narrow peak
    off every grid point) by golden-section search in the bracket of a sampled local maximum, and
    add them as points. Returns the number of points in use."""
    logf, ceil, net = grid[0], grid[2], grid[4]
    floor_db = lim[1]
    n = n_sorted
    for i in range(n_sorted):
        if i > 0 and logf[i] == logf[i - 1]:
            continue  # a repeated point (two sections at one frequency): handled at its first copy
        # The first and last points have one neighbour: a top between the end point and its
        # neighbour (a shelf's peak just under 20 kHz, the end higher than the point before) was
        # missed when only interior points could bracket one. There the bracket's missing side
        # is the end point itself.
        lft, rgt = max(i - 1, 0), i + 1
        while rgt < n_sorted and logf[rgt] == logf[i]:
            rgt += 1
        if rgt >= n_sorted:
            rgt = i
        if lft == i and rgt == i:
            continue
        for side in (1.0, -1.0):
            if n >= logf.shape[0]:
                break
            if side > 0.0:
                a, b, c = net[lft] - ceil[lft], net[i] - ceil[i], net[rgt] - ceil[rgt]
            else:
                a, b, c = floor_db - net[lft], floor_db - net[i], floor_db - net[rgt]
            if lft == i:
                a = -math.inf
            if rgt == i:
                c = -math.inf
            if b < -REFINE_WITHIN_DB or b <= a or b <= c:
                continue
            # (x0, x1, x2) brackets a top: x1 is higher than both ends (or is an end). Probe the
            # wider side.
            x0, x1, x2 = logf[lft], logf[i], logf[rgt]
            best = b
            for _ in range(REFINE_ROUNDS):
                if x2 - x1 >= x1 - x0:
                    xv = x1 + GOLDEN * (x2 - x1)
                    v = _distance(coef, xv, side, lim)
                    if v > best:
                        x0, x1, best = x1, xv, v
                    else:
                        x2 = xv
                else:
                    xv = x1 - GOLDEN * (x1 - x0)
                    v = _distance(coef, xv, side, lim)
                    if v > best:
                        x2, x1, best = x1, xv, v
                    else:
                        x0 = xv
            if x1 != logf[i]:
                _set_point(n, x1, lim, grid)
                n += 1
    _powers(coef, n_sorted, n, grid, _ALL)
    return n


@njit(cache=True, nogil=True)
def _evaluate(scaled, sec, n_sorted, lim, grid):
    """Net curve of the sections at gains ``scaled`` on the sorted grid plus its refined extremes.
    ``sec``: (frequencies, Qs, coefficients, the gains they were designed for, dirty flags)."""
    freqs, qs, coef, designed, dirty = sec
    _design(scaled, freqs, qs, lim[0], coef, designed, dirty)
    _powers(coef, 0, n_sorted, grid, dirty)
    return _refine(coef, n_sorted, lim, grid)


@njit(cache=True, nogil=True)
def _excess(n, lim, grid, found):
    """Largest rise above the ceiling and fall below the floor over points ``0..n``, and where."""
    logf, ceil, net = grid[0], grid[2], grid[4]
    floor_db = lim[1]
    over, under = -1e300, -1e300
    for i in range(n):
        if net[i] - ceil[i] > over:
            over = net[i] - ceil[i]
            found[0] = logf[i]
        if floor_db - net[i] > under:
            under = floor_db - net[i]
            found[1] = logf[i]
    return over, under


@njit(cache=True, nogil=True)
def _floor_gap(n, lim, grid):
    """How far the net curve falls below the floor at points ``0..n`` (at most; negative: above it)."""
    net = grid[4]
    under = -1e300
    for i in range(n):
        under = max(under, lim[1] - net[i])
    return under


@njit(cache=True, nogil=True)
def _reduce(gains, scale, scaled, sec, n_sorted, n, lim, grid, margin, max_passes, tolerance, over, under,
            found):
    """Reduction passes (see the module notes) until nothing exceeds; returns (passes, over, under,
    points in use)."""
    ceil, pw, net = grid[2], grid[3], grid[4]
    floor_db = lim[1]
    rho = np.empty(N_SECTIONS)
    r = np.empty(N_SECTIONS)
    passes = 0
    while (over > tolerance or under > tolerance) and passes < max_passes:
        passes += 1
        rho[:] = 0.0
        for i in range(n):
            exc = net[i] - ceil[i]
            side = 1.0
            if exc <= 0.0:
                exc = floor_db - net[i]
                side = -1.0
                if exc <= 0.0:
                    continue
            aim = exc + min(exc, margin)  # continuous in exc: no step where an excess begins
            sumsq = 0.0
            for j in range(N_SECTIONS):
                r[j] = 0.0
                if scaled[j] * side > 0.0:
                    r[j] = max(10.0 * math.log10(pw[j, i]) * side, 0.0)
                    sumsq += r[j] * r[j]
            if sumsq <= 0.0:
                continue
            for j in range(N_SECTIONS):
                rho[j] = max(rho[j], aim * r[j] / sumsq)
        for j in range(N_SECTIONS):
            scale[j] *= 1.0 - min(rho[j], 1.0)
            scaled[j] = gains[j] * scale[j]
        n = _evaluate(scaled, sec, n_sorted, lim, grid)
        over, under = _excess(n, lim, grid, found)
    return passes, over, under, n


@njit(cache=True, nogil=True)
def _limit(fwd, inv, has_inv, top_hz, base_logf, base_trig, base_lo, base_t, band_weight, lim, grid,
           margin, max_passes, tolerance, refit, final, info):
    """Scale the 10 sections' gains (from 1) until the net curve lies between floor and ceiling;
    with ``refit``, the gains are first re-fitted to the bands with signal (``refit.py``). Writes
    the sections' gains to hand on into ``final`` (the undone inverse's as they act: negated).
    ``info``: held back dB and where (log Hz), raised dB and where, passes, bisected, points used,
    re-fitted. ``lim[3]`` receives the band weights' boost allowances."""
    scale = np.empty(N_SECTIONS)
    fs, floor_db, band_w, cap, empty = lim[0], lim[1], lim[3], lim[4], lim[5]
    gains = np.zeros(N_SECTIONS)
    freqs = np.empty(N_SECTIONS)
    qs = np.full(N_SECTIONS, 0.71)
    for b in range(N_BANDS):
        gi, fi, qi = _INDEX[b, 0], _INDEX[b, 1], _INDEX[b, 2]
        for half in range(2):
            p = fwd if half == 0 or not has_inv else inv
            j = b + half * N_BANDS
            if half == 0:
                gains[j] = p[gi]
            elif has_inv:
                gains[j] = -p[gi]  # the undone inverse: the same filter with the gain negated
            freqs[j] = min(max(p[fi], MIN_FREQ_HZ), MAX_FREQ_FRACTION * fs)
            if qi >= 0:
                qs[j] = min(max(p[qi], Q_RANGE[0]), Q_RANGE[1])
    # How much of the cap each band below Nyquist allows, from its weight (not a number: signal).
    w0 = lim[6]
    band_signal = np.empty(band_w.shape[0])  # the analyzer's weights: how much each band counts
    for k in range(band_w.shape[0]):
        v = band_weight[k]
        band_signal[k] = 1.0 if v != v else min(max(v, 0.0), 1.0)
        band_w[k] = min(max((band_signal[k] - w0) / (1.0 - w0), 0.0), 1.0)
    for j in range(N_SECTIONS):
        scale[j] = 1.0
        final[j] = gains[j]
    # No RBJ peak or shelf (S = 1) rises above its gain anywhere: if all the boosts together stay
    # under the lowest ceiling and all the cuts together above the floor, nothing can exceed.
    boost_sum = cut_sum = 0.0
    for j in range(N_SECTIONS):
        boost_sum += max(gains[j], 0.0)
        cut_sum += min(gains[j], 0.0)
    lowest = 1.0
    for k in range(band_w.shape[0]):
        lowest = min(lowest, band_w[k])
    if boost_sum <= empty + lowest * (cap - empty) and cut_sum >= floor_db:
        info[0], info[1], info[2], info[3], info[4], info[5], info[6], info[7] = -1.0, 0.0, -1.0, 0.0, 0, 0, 0, 0
        return
    # The sorted grid: the fixed grid merged with the sections' centres (where a peak has its top).
    logf, trig, ceil = grid[0], grid[1], grid[2]
    centres = np.empty(N_SECTIONS)
    for j in range(N_SECTIONS):
        centres[j] = math.log(min(max(freqs[j], math.exp(base_logf[0])), top_hz))
    centres.sort()
    nb = base_logf.shape[0]
    nw = band_w.shape[0]
    a = c = 0
    for i in range(nb + N_SECTIONS):
        if c >= N_SECTIONS or (a < nb and base_logf[a] <= centres[c]):
            logf[i] = base_logf[a]
            for k in range(4):
                trig[k, i] = base_trig[k, a]
            lo = base_lo[a]
            hi = min(lo + 1, nw - 1)
            ceil[i] = empty + (band_w[lo] + base_t[a] * (band_w[hi] - band_w[lo])) * (cap - empty)
            a += 1
        else:
            _set_point(i, centres[c], lim, grid)
            c += 1
    n_sorted = nb + N_SECTIONS
    designed = np.full(N_SECTIONS, np.nan)  # the gains the coefficients are for: none yet
    sec = (freqs, qs, np.empty((N_SECTIONS, 6)), designed, np.ones(N_SECTIONS, dtype=np.bool_))
    scaled = gains.copy()
    n = _evaluate(scaled, sec, n_sorted, lim, grid)
    found = np.empty(2)
    over, under = _excess(n, lim, grid, found)
    info[0], info[1], info[2], info[3] = over, found[0], under, found[1]
    info[7] = 0.0
    if refit and over > tolerance:
        # What the bands with signal should get, before anything is turned down as a whole. Fitted
        # on the fixed grid and the sections' centres only: a refined extreme appears and vanishes
        # as the curve nears a limit, and the fit must not jump with it (the exact passes after
        # the fit check those points).
        n = n_sorted
        weight = np.empty(n)
        for i in range(n):
            weight[i] = _interp(logf[i], lim[2], band_signal)
        # Each section's curve per dB of gain (an RBJ section at -g is the inverse of +g, so one
        # shape serves both signs), at its asked gain or UNIT_GAIN_DB if smaller.
        unit_gain = np.empty(N_SECTIONS)
        exists = np.ones(N_SECTIONS, dtype=np.bool_)
        for j in range(N_SECTIONS):
            unit_gain[j] = max(abs(gains[j]), UNIT_GAIN_DB)
            exists[j] = has_inv or j < N_BANDS
        unit_sec = (freqs, qs, np.empty((N_SECTIONS, 6)), np.full(N_SECTIONS, np.nan), np.ones(N_SECTIONS, dtype=np.bool_))
        _design(unit_gain, freqs, qs, lim[0], unit_sec[2], unit_sec[3], unit_sec[4])
        unit = np.empty_like(grid[3])
        unit_grid = (logf, grid[1], ceil, unit, np.empty_like(grid[4]))
        _powers(unit_sec[2], 0, n, unit_grid, _ALL)
        for j in range(N_SECTIONS):
            for i in range(n):
                unit[j, i] = 10.0 * math.log10(unit[j, i]) / unit_gain[j]
        fit = np.empty(N_SECTIONS)
        fit_gains(gains, exists, unit, grid[4], ceil, lim[1], weight, n, EQ_RANGE_DB, min(over, margin), fit)
        info[7] = 1.0
        # The cut the re-fit added (a boost taken below 0 dB, a cut deepened): if with it the exact
        # curve falls below the -12 dB floor (the linear model was off), only that added part is
        # given back, by the largest share that keeps the floor (the curve falls monotonically
        # with it: bisection), so the floor never has to ease a cut that was asked for.
        added = np.empty(N_SECTIONS)
        for j in range(N_SECTIONS):
            added[j] = min(fit[j] - min(gains[j], 0.0), 0.0)
            scaled[j] = fit[j]
        n = _evaluate(scaled, sec, n_sorted, lim, grid)
        over, under = _excess(n, lim, grid, found)
        if under > tolerance:
            # First without any of the added cut: the curve falls monotonically as the added cut
            # grows, so if it is already under the floor at a point of the sorted grid then, every
            # share of the added cut is too and the bisection would keep none of it (on the bench's
            # programme it always kept none): keep none at once, the same gains 20 evaluations
            # sooner. (Not on a refined extreme: where one lies moves with the gains.)
            for j in range(N_SECTIONS):
                scaled[j] = fit[j] - added[j]
            n = _evaluate(scaled, sec, n_sorted, lim, grid)
            keep_lo, keep_hi = 0.0, 1.0
            if _floor_gap(n_sorted, lim, grid) > tolerance:
                keep_hi = 0.0
            for _ in range(ADDED_CUT_ROUNDS if keep_hi > 0.0 else 0):
                mid = 0.5 * (keep_lo + keep_hi)
                for j in range(N_SECTIONS):
                    scaled[j] = fit[j] - (1.0 - mid) * added[j]
                n = _evaluate(scaled, sec, n_sorted, lim, grid)
                if _excess(n, lim, grid, found)[1] > tolerance:
                    keep_hi = mid
                else:
                    keep_lo = mid
            if keep_hi > 0.0:
                for j in range(N_SECTIONS):
                    scaled[j] = fit[j] - (1.0 - keep_lo) * added[j]
                n = _evaluate(scaled, sec, n_sorted, lim, grid)
            over, under = _excess(n, lim, grid, found)
        for j in range(N_SECTIONS):
            gains[j] = scaled[j]  # the passes scale from the re-fitted gains
    start = scale.copy()  # where the reductions start from
    v_start = max(over, under)
    passes, over, under, n = _reduce(gains, scale, scaled, sec, n_sorted, n, lim, grid, margin, max_passes,
                                     tolerance, over, under, found)
    worst = max(over, under)
    if passes > 0 and worst < -tolerance:
        # The passes overshoot (each section gives the largest share any frequency asked of it).
        # Give back part of every reduction in one secant step, from "nothing taken" (excess v0)
        # to "all taken" (slack): nearly linear in the step, so this lands at the limit, and one
        # more reduction pass settles what it missed. Continuous in both, like the passes.
        tau = v_start / (v_start - worst)
        for j in range(N_SECTIONS):
            scale[j] = start[j] - tau * (start[j] - scale[j])
            scaled[j] = gains[j] * scale[j]
        n = _evaluate(scaled, sec, n_sorted, lim, grid)
        over, under = _excess(n, lim, grid, found)
        more, over, under, n = _reduce(gains, scale, scaled, sec, n_sorted, n, lim, grid, margin, max_passes,
                                       tolerance, over, under, found)
        passes += 1 + more
    bisected = 0.0
    if over > tolerance or under > tolerance:
        # Not met in testing; guarantees the bound whatever happens (all gains at 0 is flat).
        bisected = 1.0
        lo, hi = 0.0, 1.0
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            for j in range(N_SECTIONS):
                scaled[j] = gains[j] * scale[j] * mid
            n = _evaluate(scaled, sec, n_sorted, lim, grid)
            o, u = _excess(n, lim, grid, found)
            if o > tolerance or u > tolerance:
                hi = mid
            else:
                lo = mid
        for j in range(N_SECTIONS):
            scale[j] *= lo
    for j in range(N_SECTIONS):
        final[j] = gains[j] * scale[j]
    info[4] = passes
    info[5] = bisected
    info[6] = n


def usable_band(sample_rate: float) -> tuple[float, float]:
    """The frequencies (Hz) on which the net curve is checked at ``sample_rate``."""
    return USABLE_LOW_HZ, min(USABLE_HIGH_HZ, NYQUIST_FRACTION * float(sample_rate))


def _above(x) -> float:
    """A rise in dB, with float rounding (below NUMERIC_NOISE_DB) read as none."""
    x = float(x)
    return x if x > NUMERIC_NOISE_DB else 0.0


@dataclass(frozen=True)
class CeilingResult:
    forward: np.ndarray
    inverse: np.ndarray | None
    acting: bool  # the ceiling or the floor changed the EQ audibly (by ACTING_DB or more)
    held_back_db: float  # how far the uncapped net curve rose above the ceiling (0 if it did not)
    held_back_hz: float | None  # where it rose furthest
    raised_db: float  # how far the uncapped net curve fell below the -12 dB floor (0 if it did not)
    reason: str  # which limit acted and where ('' when none did)
    passes: int
    bisected: bool


class BoostCeiling:
    """Limits the applied EQ (forward cascade and undone inverse) to a per-frequency ceiling.

    ``max_boost_db``: the stage's boost cap (None: the EQ's own +12 dB). With band weights, boosts
    that rise above the allowance are first re-fitted to the bands with signal (``refit.py``).
    ``apply(forward, inverse, band_weight)`` returns the parameter vectors to hand to the kernel (the given ones when nothing
    had to change). Not thread-safe: one instance per control loop (it keeps scratch arrays).
    """

    def __init__(self, sample_rate: float, max_boost_db: float | None = None,
                 points_per_octave: int = POINTS_PER_OCTAVE, refit: bool = True):
        self.sample_rate = float(sample_rate)
        self.refit = bool(refit)  # False: scale the boosts as asked (the comparison in tests and bench)
        self.max_boost_db = check_max_boost_db(max_boost_db)
        self.cap_db = EQ_RANGE_DB if self.max_boost_db is None else min(self.max_boost_db, EQ_RANGE_DB)
        self.empty_db = min(EMPTY_BAND_ALLOWANCE_DB, self.cap_db)
        lo, hi = usable_band(self.sample_rate)
        self.top_hz = hi
        n_log = int(math.ceil(math.log2(hi / lo) * points_per_octave)) + 1
        # The band centres too: the ceiling has its kinks there (linear between centres).
        centres = ANALYSIS_FREQS[(ANALYSIS_FREQS > lo) & (ANALYSIS_FREQS < hi)]
        self._base_logf = np.log(np.unique(np.concatenate([np.geomspace(lo, hi, n_log), centres])))
        n_base = self._base_logf.size
        w = 2.0 * np.pi * np.exp(self._base_logf) / self.sample_rate
        self._base_trig = np.ascontiguousarray([np.cos(w), np.sin(w), np.cos(2 * w), np.sin(2 * w)])
        n = n_base + N_SECTIONS + MAX_EXTRA_POINTS
        self._logf = np.empty(n)
        self._trig = np.empty((4, n))
        self._ceil = np.empty(n)
        self._pw = np.empty((N_SECTIONS, n))
        self._net = np.empty(n)
        self._final = np.empty(N_SECTIONS)
        self._info = np.zeros(8)
        # Band weights are interpolated over the bands that lie wholly below Nyquist (the analyzer's
        # valid bands); beyond the outermost ones the nearest weight holds.
        self._valid = band_edges(ANALYSIS_FREQS)[1] <= 0.5 * self.sample_rate
        self._band_logc = np.log(ANALYSIS_FREQS[self._valid])
        # Where each fixed grid point falls between band centres (np.interp, precomputed).
        nv = self._band_logc.size
        x = np.clip(self._base_logf, self._band_logc[0], self._band_logc[-1])
        lo = np.clip(np.searchsorted(self._band_logc, x, side="right") - 1, 0, nv - 1)
        hi = np.minimum(lo + 1, nv - 1)
        span = self._band_logc[hi] - self._band_logc[lo]
        self._base_lo = lo.astype(np.int64)
        self._base_t = np.where(span > 0, (x - self._band_logc[lo]) / np.where(span > 0, span, 1.0), 0.0)
        self._all_signal = np.ones(ANALYSIS_FREQS.size)
        self._band_w = np.empty(nv)
        self._lim = (self.sample_rate, -EQ_RANGE_DB, self._band_logc, self._band_w, self.cap_db,
                     self.empty_db, BOOST_WEIGHT_FLOOR)
        self._grid = (self._logf, self._trig, self._ceil, self._pw, self._net)
        # Compile (or load from the cache) now, not at the first control update.
        self.apply(np.array([3.0, 100, 3, 500, 1, 3, 1000, 1, 3, 3000, 1, 3, 8000.0]), None)

    def _weights(self, band_weight) -> np.ndarray:
        if band_weight is None:
            return self._all_signal
        bw = np.asarray(band_weight, dtype=np.float64)
        if bw.shape != (ANALYSIS_FREQS.size,):
            raise ValueError(f"band_weight must have {ANALYSIS_FREQS.size} values, got shape {bw.shape}")
        return bw

    def ceiling_db(self, freqs, band_weight=None) -> np.ndarray:
        """The allowed net boost (dB) at ``freqs`` (Hz) for these band weights."""
        w = np.interp(np.log(np.asarray(freqs, dtype=np.float64)), self._band_logc,
                      boost_allowance(self._weights(band_weight)[self._valid]))
        return self.empty_db + w * (self.cap_db - self.empty_db)

    @property
    def grid_hz(self) -> np.ndarray:
        """The points checked by the last ``apply`` (fixed grid, section centres, refined extremes)."""
        return np.exp(self._logf[:int(self._info[6])])

    def apply(self, forward, inverse=None, band_weight=None) -> CeilingResult:
        fwd = np.asarray(forward, dtype=np.float64)
        has_inv = inverse is not None
        inv = np.asarray(inverse, dtype=np.float64) if has_inv else fwd
        info = self._info
        # With band weights (adaptation on), boosts that meet an empty region are re-fitted to the
        # bands with signal first; without them (static words) the cap scales the word as it is.
        _limit(fwd, inv, has_inv, self.top_hz, self._base_logf, self._base_trig, self._base_lo, self._base_t,
               self._weights(band_weight), self._lim, self._grid, MARGIN_DB, MAX_PASSES, TOLERANCE_DB,
               self.refit and band_weight is not None, self._final, info)
        # Rounding in the response sums leaves ~1e-15 dB where the curve merely touches the ceiling;
        # that is "did not rise above it", so it reads 0.
        held, raised, passes = _above(info[0]), _above(info[2]), int(info[4])
        if passes == 0 and not info[7]:
            return CeilingResult(forward, inverse, False, held, None, raised, "", 0, False)
        new_fwd = fwd.copy()
        new_fwd[GAIN_INDEX] = self._final[:N_BANDS]
        new_inv = None
        if has_inv:
            new_inv = inv.copy()
            new_inv[GAIN_INDEX] = -self._final[N_BANDS:]  # undone: the same filter, gain negated
        acting = held >= ACTING_DB or raised >= ACTING_DB
        held_hz = math.exp(info[1]) if held > 0.0 else None
        return CeilingResult(new_fwd, new_inv, acting, held, held_hz, raised,
                             self._explain(held, info) if acting else "", passes, bool(info[5]))

    def _explain(self, held, info) -> str:
        """Which limit the uncapped curve met, and where."""
        if held <= 0.0:
            return f"EQ range: cut held at -{EQ_RANGE_DB:g} dB near {_hz(math.exp(info[3]))}"
        f = math.exp(info[1])
        if np.interp(info[1], self._band_logc, self._band_w) < 0.5:
            return f"no signal near {_hz(f)}: no boost there"
        if self.max_boost_db is not None and self.max_boost_db < EQ_RANGE_DB:
            return f"boost cap {self.max_boost_db:g} dB near {_hz(f)}"
        return f"EQ range: boost held at +{EQ_RANGE_DB:g} dB near {_hz(f)}"


def boost_allowance(band_weight) -> np.ndarray:
    """The share of the cap each band allows (0..1) for the analyzer's band weights."""
    w = np.asarray(band_weight, dtype=np.float64)
    w = np.where(np.isnan(w), 1.0, w)
    return np.clip((w - BOOST_WEIGHT_FLOOR) / (1.0 - BOOST_WEIGHT_FLOOR), 0.0, 1.0)


def _hz(f: float) -> str:
    return f"{f / 1000:.1f} kHz" if f >= 1000 else f"{f:.0f} Hz"
