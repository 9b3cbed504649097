"""The real-time EQ kernel: one numba function that processes a whole block.

What happens inside ``process_block`` (DESIGN.md section 5):

* **Hand-over**: the control side writes targets into a small ``pending`` vector guarded by a
  sequence counter (a seqlock: odd while a write is in progress). The kernel copies it at the start
  of a block only when the counter is even and unchanged across the copy, so it never sees a torn
  update, never waits and never takes a lock.
* **Control ticks** every ``CONTROL_INTERVAL`` samples (counted across block boundaries, so the
  output does not depend on the block size). At each tick every parameter moves toward its target
  through two cascaded one-pole smoothers (critically damped: no overshoot, and no kink in the
  trajectory when a target jumps, which is what a single one-pole has and what is heard as a
  click), and biquad coefficients of the bands that move are recomputed from the smoothed values.
  Between ticks the coefficients are interpolated linearly sample by sample, so the filter never
  steps. Once everything sits on its targets the kernel processes long segments without ticks.
* **Cascade**: up to 10 RBJ biquads in direct form I with float64 state per channel and band. DF-I
  is used (rather than transposed DF-II) because its state is the signal history itself, which
  stays meaningful when coefficients change under it. Bands 0-4 are the SAFE layout (low shelf,
  three peaks, high shelf); bands 5-9 repeat the layout with negated gains, i.e. the exact inverse
  of a second setting (adaptive intensity). A band at exactly 0 dB is the identity and is skipped;
  in DF-I an identity band with zeroed state is exact, so skipping costs no accuracy.
* **Safety**: a non-finite input sample is replaced by 0 and the channel's filter state is reset
  (the state is never poisoned); tiny state values are flushed to zero once per block (denormals);
  the output passes a stereo-linked peak limiter with instant attack whose ceiling is guaranteed.
* **Gains and bypass**: wet gain (auto-gain compensation), master gain and the dry/wet mix (bypass
  crossfade) are smoothed the same way and ramped per sample.

All state lives in one preallocated float64 vector (fewer arguments = cheaper numba dispatch,
which matters at 64-frame blocks). No allocation, no Python objects in the kernel.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .design import high_shelf_coeffs, low_shelf_coeffs, peaking_coeffs

MAX_BANDS = 10
CONTROL_INTERVAL = 32   # samples between parameter/coefficient updates while anything moves
WORK_FRAMES = 256       # longest segment processed at once when nothing moves

# Control vector (written by the control side, copied by the kernel).
C_BANDS = 0             # 10 bands x (gain_db, ln(freq_hz), ln(q))
C_WET_GAIN_DB = 30      # gain of the EQ path (auto-gain compensation)
C_MASTER_GAIN_DB = 31   # master output gain (EQ and bypass paths)
C_MIX = 32              # 1 = EQ, 0 = bypass (crossfaded)
C_RESET = 33            # a counter: when it changes, filters reset and smoothers snap (panic)
N_CTRL = 34
N_SMOOTHED = 33         # entries 0..32 are smoothed
P_SEQ = N_CTRL          # pending[P_SEQ]: seqlock counter (odd = write in progress)
N_PENDING = N_CTRL + 1

# Misc kernel values.
M_TICK_POS = 0          # samples left until the next control tick
M_LIMITER_GAIN = 1
M_LAST_RESET = 2
M_WET = 3               # current per-sample ramped values ...
M_MASTER = 4
M_MIX = 5
M_WET_INC = 6           # ... and their per-sample increments
M_MASTER_INC = 7
M_MIX_INC = 8
M_SETTLED = 9           # 1 when every smoothed value sits on its target
M_NAN_RESETS = 10       # non-finite input events (health panel)
M_LIMITING = 11         # samples in which the limiter reduced gain (health panel)
M_INITIALISED = 12
M_APPLIED_SEQ = 13      # the pending sequence number in use (MIDI-to-audio latency)
M_MOVING = 14           # 1 while coefficients ramp (ticks needed)
M_BLOCKS = 15
N_MISC = 16

# Configuration values.
G_SAMPLE_RATE = 0
G_SMOOTH_COEF = 1       # per-tick one-pole coefficient (1 = no smoothing: jump)
G_CEILING = 2           # limiter ceiling, linear
G_RELEASE_COEF = 3      # per-sample limiter release coefficient
G_INTERPOLATE = 4       # 1 = interpolate coefficients per sample between ticks
G_CHANNELS = 5
N_CFG = 8

# Offsets into the packed state vector.
O_CTRL = 0
O_ST1 = O_CTRL + N_CTRL
O_ST2 = O_ST1 + N_SMOOTHED
O_COEF = O_ST2 + N_SMOOTHED
O_COEF_INC = O_COEF + MAX_BANDS * 5
O_ACTIVE = O_COEF_INC + MAX_BANDS * 5
O_RAMPING = O_ACTIVE + MAX_BANDS
O_MISC = O_RAMPING + MAX_BANDS
O_CFG = O_MISC + N_MISC
O_TMP = O_CFG + N_CFG
O_ZS = O_TMP + 8        # then channels*MAX_BANDS*4 filter state, then WORK_FRAMES*channels scratch


def state_size(channels: int) -> int:
    return O_ZS + channels * MAX_BANDS * 4 + WORK_FRAMES * channels


# Band kinds of the 10-band layout: 0 low shelf, 1 peaking, 2 high shelf.
BAND_KIND = np.array([0, 1, 1, 1, 2, 0, 1, 1, 1, 2], dtype=np.int64)

_peak = njit(cache=True, nogil=True)(peaking_coeffs)
_low = njit(cache=True, nogil=True)(low_shelf_coeffs)
_high = njit(cache=True, nogil=True)(high_shelf_coeffs)

DENORMAL_FLOOR = 1e-25
_FLAT_DB = 1e-7         # below this a band counts as 0 dB (the identity)
_SNAP = 1e-9            # smoothed values this close to their target snap onto it


@njit(cache=True, nogil=True)
def _band_coeffs(kind, gain_db, ln_f, ln_q, fs, out):
    w0 = 2.0 * math.pi * math.exp(ln_f) / fs
    if kind == 0:
        b0, b1, b2, a0, a1, a2 = _low(gain_db, w0)
    elif kind == 2:
        b0, b1, b2, a0, a1, a2 = _high(gain_db, w0)
    else:
        b0, b1, b2, a0, a1, a2 = _peak(gain_db, w0, math.exp(ln_q))
    inv = 1.0 / a0
    out[0] = b0 * inv
    out[1] = b1 * inv
    out[2] = b2 * inv
    out[3] = a1 * inv
    out[4] = a2 * inv


@njit(cache=True, nogil=True)
def _read_pending(pending, ctrl, misc):
    """Seqlock read: take the pending targets only if no write was in progress during the copy."""
    seq = pending[P_SEQ]
    if seq == misc[M_APPLIED_SEQ] or (int(seq) & 1) == 1:
        return False
    for k in range(N_CTRL):
        ctrl[k] = pending[k]
    if pending[P_SEQ] != seq:
        return False  # a writer came in while we copied: take it next block (state is re-copied)
    misc[M_APPLIED_SEQ] = seq
    return True


@njit(cache=True, nogil=True)
def _reset(ctrl, st1, st2, coef, coef_inc, active, ramping, zs, misc, fs, tmp):
    for k in range(N_SMOOTHED):
        st1[k] = ctrl[k]
        st2[k] = ctrl[k]
    zs[:] = 0.0
    misc[M_LAST_RESET] = ctrl[C_RESET]
    misc[M_LIMITER_GAIN] = 1.0
    misc[M_INITIALISED] = 1.0
    misc[M_SETTLED] = 1.0
    misc[M_MOVING] = 0.0
    misc[M_WET] = 10.0 ** (st2[C_WET_GAIN_DB] / 20.0)
    misc[M_MASTER] = 10.0 ** (st2[C_MASTER_GAIN_DB] / 20.0)
    misc[M_MIX] = st2[C_MIX]
    misc[M_WET_INC] = 0.0
    misc[M_MASTER_INC] = 0.0
    misc[M_MIX_INC] = 0.0
    for b in range(MAX_BANDS):
        g = st2[C_BANDS + 3 * b]
        active[b] = 1.0 if abs(g) > _FLAT_DB else 0.0
        ramping[b] = 0.0
        _band_coeffs(BAND_KIND[b], g, st2[C_BANDS + 3 * b + 1], st2[C_BANDS + 3 * b + 2], fs, tmp)
        for j in range(5):
            coef[b * 5 + j] = tmp[j]
            coef_inc[b * 5 + j] = 0.0


@njit(cache=True, nogil=True)
def _control_tick(ctrl, st1, st2, coef, coef_inc, active, ramping, zs, misc, cfg, tmp, n_ch):
    """Advance the smoothers one tick and refresh the coefficients of the bands that moved."""
    fs = cfg[G_SAMPLE_RATE]
    a = cfg[G_SMOOTH_COEF]
    settled = True
    moved = False
    for k in range(N_SMOOTHED):
        t = ctrl[k]
        if st2[k] != t or st1[k] != t:
            moved = True
            s1 = st1[k] + a * (t - st1[k])
            s2 = st2[k] + a * (s1 - st2[k])
            if abs(s1 - t) < _SNAP and abs(s2 - t) < _SNAP:
                s1 = t
                s2 = t
            else:
                settled = False
            st1[k] = s1
            st2[k] = s2
    misc[M_SETTLED] = 1.0 if settled else 0.0

    inv_n = 1.0 / CONTROL_INTERVAL
    interp = cfg[G_INTERPOLATE] == 1.0
    any_ramp = False
    for b in range(MAX_BANDS):
        ramping[b] = 0.0
        if not moved:
            continue
        base = C_BANDS + 3 * b
        g = st2[base]
        if not (abs(g) > _FLAT_DB or abs(ctrl[base]) > _FLAT_DB):
            if active[b] == 1.0:
                # The band reached 0 dB: it is the identity now, stop computing it.
                active[b] = 0.0
                for c in range(n_ch):
                    for j in range(4):
                        zs[(c * MAX_BANDS + b) * 4 + j] = 0.0
            continue
        _band_coeffs(BAND_KIND[b], g, st2[base + 1], st2[base + 2], fs, tmp)
        changed = False
        for j in range(5):
            if tmp[j] != coef[b * 5 + j]:
                changed = True
        if active[b] == 0.0:
            # Waking up from the identity: zero state is exact for an identity band in DF-I.
            active[b] = 1.0
            for c in range(n_ch):
                for j in range(4):
                    zs[(c * MAX_BANDS + b) * 4 + j] = 0.0
            for j in range(5):
                coef[b * 5 + j] = tmp[j]
        elif changed and interp:
            # Ramp from the current coefficients to the new ones over the next interval.
            ramping[b] = 1.0
            any_ramp = True
            for j in range(5):
                coef_inc[b * 5 + j] = (tmp[j] - coef[b * 5 + j]) * inv_n
        else:
            for j in range(5):
                coef[b * 5 + j] = tmp[j]

    wet = 10.0 ** (st2[C_WET_GAIN_DB] / 20.0) if moved else misc[M_WET]
    master = 10.0 ** (st2[C_MASTER_GAIN_DB] / 20.0) if moved else misc[M_MASTER]
    mix = st2[C_MIX]
    misc[M_WET_INC] = (wet - misc[M_WET]) * inv_n
    misc[M_MASTER_INC] = (master - misc[M_MASTER]) * inv_n
    misc[M_MIX_INC] = (mix - misc[M_MIX]) * inv_n
    ramp_gains = misc[M_WET_INC] != 0.0 or misc[M_MASTER_INC] != 0.0 or misc[M_MIX_INC] != 0.0
    misc[M_MOVING] = 1.0 if (moved or any_ramp or ramp_gains or not settled) else 0.0



@njit(cache=True, nogil=True)
def _biquad_single(work, n_ch, c, seg, coef, coef_inc, k, ramp, zs, z):
    b0 = coef[k]
    b1 = coef[k + 1]
    b2 = coef[k + 2]
    a1 = coef[k + 3]
    a2 = coef[k + 4]
    d0 = coef_inc[k] if ramp else 0.0
    d1 = coef_inc[k + 1] if ramp else 0.0
    d2 = coef_inc[k + 2] if ramp else 0.0
    d3 = coef_inc[k + 3] if ramp else 0.0
    d4 = coef_inc[k + 4] if ramp else 0.0
    x1 = zs[z]
    x2 = zs[z + 1]
    y1 = zs[z + 2]
    y2 = zs[z + 3]
    for i in range(seg):
        if ramp:
            b0 += d0
            b1 += d1
            b2 += d2
            a1 += d3
            a2 += d4
        xi = work[i * n_ch + c]
        yi = (b0 * xi + b1 * x1 + b2 * x2 - a2 * y2) - a1 * y1
        x2 = x1
        x1 = xi
        y2 = y1
        y1 = yi
        work[i * n_ch + c] = yi
    zs[z] = x1
    zs[z + 1] = x2
    zs[z + 2] = y1
    zs[z + 3] = y2


@njit(cache=True, nogil=True)
def _biquad_pair(work, n_ch, c, seg, coef, coef_inc, k, ramp, zs, za, zb):
    """Same biquad on channels c and c+1 in one loop (two independent dependency chains)."""
    b0 = coef[k]
    b1 = coef[k + 1]
    b2 = coef[k + 2]
    a1 = coef[k + 3]
    a2 = coef[k + 4]
    d0 = coef_inc[k] if ramp else 0.0
    d1 = coef_inc[k + 1] if ramp else 0.0
    d2 = coef_inc[k + 2] if ramp else 0.0
    d3 = coef_inc[k + 3] if ramp else 0.0
    d4 = coef_inc[k + 4] if ramp else 0.0
    xa1 = zs[za]
    xa2 = zs[za + 1]
    ya1 = zs[za + 2]
    ya2 = zs[za + 3]
    xb1 = zs[zb]
    xb2 = zs[zb + 1]
    yb1 = zs[zb + 2]
    yb2 = zs[zb + 3]
    # The feedback term a1*y1 goes last: it is the only one on the sample-to-sample critical path.
    for i in range(seg):
        if ramp:
            b0 += d0
            b1 += d1
            b2 += d2
            a1 += d3
            a2 += d4
        j = i * n_ch + c
        xa = work[j]
        xb = work[j + 1]
        ya = (b0 * xa + b1 * xa1 + b2 * xa2 - a2 * ya2) - a1 * ya1
        yb = (b0 * xb + b1 * xb1 + b2 * xb2 - a2 * yb2) - a1 * yb1
        xa2 = xa1
        xa1 = xa
        ya2 = ya1
        ya1 = ya
        xb2 = xb1
        xb1 = xb
        yb2 = yb1
        yb1 = yb
        work[j] = ya
        work[j + 1] = yb
    zs[za] = xa1
    zs[za + 1] = xa2
    zs[za + 2] = ya1
    zs[za + 3] = ya2
    zs[zb] = xb1
    zs[zb + 1] = xb2
    zs[zb + 2] = yb1
    zs[zb + 3] = yb2


@njit(cache=True, nogil=True)
def process_block(x, y, pending, state):
    """Process ``x`` ``[frames, channels]`` float32 into ``y`` (same shape; may be ``x`` itself).

    ``pending`` is the control side's target vector (``N_PENDING`` floats, seqlock-guarded);
    ``state`` is the packed kernel state (``state_size(channels)`` floats).
    """
    frames = x.shape[0]
    cfg = state[O_CFG:O_CFG + N_CFG]
    n_ch = int(cfg[G_CHANNELS])
    ctrl = state[O_CTRL:O_CTRL + N_CTRL]
    st1 = state[O_ST1:O_ST1 + N_SMOOTHED]
    st2 = state[O_ST2:O_ST2 + N_SMOOTHED]
    coef = state[O_COEF:O_COEF + MAX_BANDS * 5]
    coef_inc = state[O_COEF_INC:O_COEF_INC + MAX_BANDS * 5]
    active = state[O_ACTIVE:O_ACTIVE + MAX_BANDS]
    ramping = state[O_RAMPING:O_RAMPING + MAX_BANDS]
    misc = state[O_MISC:O_MISC + N_MISC]
    tmp = state[O_TMP:O_TMP + 8]
    n_zs = n_ch * MAX_BANDS * 4
    zs = state[O_ZS:O_ZS + n_zs]
    work = state[O_ZS + n_zs:O_ZS + n_zs + WORK_FRAMES * n_ch]
    fs = cfg[G_SAMPLE_RATE]
    ceiling = cfg[G_CEILING]
    release = cfg[G_RELEASE_COEF]

    fresh = _read_pending(pending, ctrl, misc)
    if misc[M_INITIALISED] == 0.0 or ctrl[C_RESET] != misc[M_LAST_RESET]:
        _reset(ctrl, st1, st2, coef, coef_inc, active, ramping, zs, misc, fs, tmp)
    elif fresh:
        misc[M_MOVING] = 1.0
    misc[M_BLOCKS] += 1.0

    n = 0
    while n < frames:
        if misc[M_MOVING] == 1.0:
            if misc[M_TICK_POS] <= 0.0:
                _control_tick(ctrl, st1, st2, coef, coef_inc, active, ramping, zs, misc, cfg,
                              tmp, n_ch)
                misc[M_TICK_POS] = CONTROL_INTERVAL
            seg = int(min(misc[M_TICK_POS], frames - n))
        else:
            seg = min(WORK_FRAMES, frames - n)
        # Keep the tick grid aligned to the sample count even while idle.
        misc[M_TICK_POS] = (misc[M_TICK_POS] - seg) % CONTROL_INTERVAL if misc[M_MOVING] == 0.0 \
            else misc[M_TICK_POS] - seg

        # 1. Input, with non-finite protection per channel.
        for c in range(n_ch):
            bad = False
            for i in range(seg):
                v = np.float64(x[n + i, c])
                if not (abs(v) <= 1e30):
                    v = 0.0
                    bad = True
                work[i * n_ch + c] = v
            if bad:
                misc[M_NAN_RESETS] += 1.0
                for j in range(MAX_BANDS * 4):
                    zs[c * MAX_BANDS * 4 + j] = 0.0

        # 2. The cascade, band by band over the segment. Channels are run in pairs: a biquad is
        #    latency-bound (each output waits for the previous one), so two independent channels
        #    in one loop nearly double the throughput.
        for b in range(MAX_BANDS):
            if active[b] == 0.0:
                continue
            ramp = ramping[b] == 1.0
            c = 0
            while c + 1 < n_ch:
                _biquad_pair(work, n_ch, c, seg, coef, coef_inc, b * 5, ramp,
                             zs, (c * MAX_BANDS + b) * 4, ((c + 1) * MAX_BANDS + b) * 4)
                c += 2
            if c < n_ch:
                _biquad_single(work, n_ch, c, seg, coef, coef_inc, b * 5, ramp,
                               zs, (c * MAX_BANDS + b) * 4)
            if ramp:
                for j in range(5):
                    coef[b * 5 + j] += coef_inc[b * 5 + j] * seg

        # 3. Gains, bypass crossfade and the safety limiter (linked across channels).
        wet = misc[M_WET]
        master = misc[M_MASTER]
        mix = misc[M_MIX]
        dw = misc[M_WET_INC]
        dm = misc[M_MASTER_INC]
        dx = misc[M_MIX_INC]
        g = misc[M_LIMITER_GAIN]
        total = 0.0  # NaN/inf anywhere in the segment shows up here
        if dw == 0.0 and dm == 0.0 and dx == 0.0 and mix == 1.0:
            # Common case: EQ engaged, gains at rest. One gain, no dry path.
            gain = wet * master
            for i in range(seg):
                peak = 0.0
                for c in range(n_ch):
                    v = work[i * n_ch + c] * gain
                    work[i * n_ch + c] = v
                    total += v
                    if abs(v) > peak:
                        peak = abs(v)
                if g != 1.0:
                    g = g + release * (1.0 - g)
                if peak * g > ceiling:
                    g = ceiling / peak
                    misc[M_LIMITING] += 1.0
                for c in range(n_ch):
                    y[n + i, c] = np.float32(work[i * n_ch + c] * g)
        else:
            for i in range(seg):
                wet += dw
                master += dm
                mix += dx
                peak = 0.0
                for c in range(n_ch):
                    v = mix * wet * work[i * n_ch + c]
                    if mix < 1.0:
                        dry = np.float64(x[n + i, c])
                        if abs(dry) <= 1e30:
                            v += (1.0 - mix) * dry
                    v *= master
                    work[i * n_ch + c] = v
                    total += v
                    if abs(v) > peak:
                        peak = abs(v)
                if g != 1.0:
                    g = g + release * (1.0 - g)
                if peak * g > ceiling:
                    g = ceiling / peak
                    misc[M_LIMITING] += 1.0
                for c in range(n_ch):
                    y[n + i, c] = np.float32(work[i * n_ch + c] * g)
            misc[M_WET] = wet
            misc[M_MASTER] = master
            misc[M_MIX] = mix
        if not (abs(total) <= 1e300):
            # Impossible with stable filters and clean input; still, never let it out or back in.
            g = 1.0
            zs[:] = 0.0
            for i in range(seg):
                for c in range(n_ch):
                    y[n + i, c] = 0.0
        misc[M_LIMITER_GAIN] = g
        n += seg

    # Flush denormal-range filter state once per block.
    for j in range(n_zs):
        if abs(zs[j]) < DENORMAL_FLOOR:
            zs[j] = 0.0
