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
* **Subsonic protection** (DC and subsonics never reach the PA): the input first passes a
  4th-order Butterworth high-pass (two RBJ high-pass sections, ``design.subsonic_sos``), before the
  EQ and before the dry path of bypass, so it protects in bypass and after a panic too. Its
  cutoff (log Hz) and an on/off weight are smoothed like every other parameter: a new cutoff ramps
  the coefficients, switching on or off crossfades between the raw and the filtered input (the two
  differ only below about 40 Hz, so the fade cannot click). Off and settled, it costs nothing and
  its state is cleared, so switching it on starts exactly. A panic or ``reset`` leaves its state
  alone: clearing it would put the input's DC back on the output as a step.
* **Safety**: a non-finite input sample is replaced by 0 and the channel's filter state (EQ and
  protection) is reset (the state is never poisoned); tiny state values are flushed to zero once
  per block (denormals); the output passes a stereo-linked peak limiter with instant attack whose
  ceiling is guaranteed.
* **Gains and bypass**: wet gain (auto-gain compensation), master gain and the dry/wet mix (bypass
  crossfade) are smoothed the same way and ramped per sample.

All state lives in one preallocated float64 vector (fewer arguments = cheaper numba dispatch,
which matters at 64-frame blocks). No allocation, no Python objects in the kernel.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .design import SUBSONIC_Q, high_shelf_coeffs, highpass_coeffs, low_shelf_coeffs, peaking_coeffs

MAX_BANDS = 10
CONTROL_INTERVAL = 32   # samples between parameter/coefficient updates while anything moves
WORK_FRAMES = 256       # longest segment processed at once when nothing moves

# Control vector (written by the control side, copied by the kernel).
C_BANDS = 0             # 10 bands x (gain_db, ln(freq_hz), ln(q))
C_WET_GAIN_DB = 30      # gain of the EQ path (auto-gain compensation)
C_MASTER_GAIN_DB = 31   # master output gain (EQ and bypass paths)
C_MIX = 32              # 1 = EQ, 0 = bypass (crossfaded)
C_SUB_LN_F = 33         # ln(cutoff in Hz) of the subsonic protection high-pass
C_SUB_MIX = 34          # 1 = protection on, 0 = off (crossfaded)
C_RESET = 35            # a counter: when it changes, EQ filters reset and smoothers snap (panic)
N_CTRL = 36
N_SMOOTHED = 35         # entries 0..34 are smoothed
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
M_SUB = 16              # current per-sample weight of the protection (0 off .. 1 on) ...
M_SUB_INC = 17          # ... and its per-sample increment
M_SUB_RAMP = 18         # 1 while the protection's coefficients ramp
M_SUB_ACTIVE = 19       # 1 while the protection filter runs
N_MISC = 20

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
O_HCOEF = O_RAMPING + MAX_BANDS     # protection high-pass: 2 sections x 5 coefficients ...
O_HCOEF_INC = O_HCOEF + 10          # ... and their per-sample increments
O_MISC = O_HCOEF_INC + 10
O_CFG = O_MISC + N_MISC
O_TMP = O_CFG + N_CFG
O_ZS = O_TMP + 16       # then channels*MAX_BANDS*4 EQ filter state, channels*HPF_STATE protection
#                         state, then WORK_FRAMES*channels scratch and as much for the dry path
HPF_STATE = 6           # per channel: x1 x2 of section 1, y1 y2 of section 1 (= x1 x2 of section 2),
#                         y1 y2 of section 2


def state_size(channels: int) -> int:
    return O_ZS + channels * (MAX_BANDS * 4 + HPF_STATE) + 2 * WORK_FRAMES * channels


# Band kinds of the 10-band layout: 0 low shelf, 1 peaking, 2 high shelf.
BAND_KIND = np.array([0, 1, 1, 1, 2, 0, 1, 1, 1, 2], dtype=np.int64)


def _without_refcounts() -> dict:
    """``_nrt=False`` where numba has it: no reference counting of array views in the kernel.

    Every array the kernel touches belongs to its caller and outlives the call, so counting
    references to the dozen views it slices from the state vector buys nothing, and the atomic
    increments and decrements cost about half a microsecond per block (as much as the whole
    kernel spends on a 128-frame block's input and output). Without the runtime, numba also
    refuses to compile any allocation here: the no-allocation rule of DESIGN.md section 5 is
    checked at compile time.
    """
    try:
        from numba.core.cpu import CPUTargetOptions

        return {"_nrt": False} if hasattr(CPUTargetOptions, "_nrt") else {}
    except ImportError:  # a numba without it: the same code, with reference counting
        return {}


# Let LLVM fuse a multiply and the add after it into one FMA in the filter loops: the feedback
# term then costs one instruction's latency per sample instead of two, which is what bounds a
# biquad's speed. Only contraction: no other fast-math freedom (the NaN checks must stay exact).
_CONTRACT = {"contract"}
_OPTS = {"cache": True, "nogil": True, **_without_refcounts()}
_FILTER_OPTS = {**_OPTS, "fastmath": _CONTRACT}

_peak = njit(**_OPTS)(peaking_coeffs)
_low = njit(**_OPTS)(low_shelf_coeffs)
_high = njit(**_OPTS)(high_shelf_coeffs)
_hp = njit(**_OPTS)(highpass_coeffs)
SUB_Q1, SUB_Q2 = float(SUBSONIC_Q[0]), float(SUBSONIC_Q[1])

DENORMAL_FLOOR = 1e-25
_FLAT_DB = 1e-7         # below this a band counts as 0 dB (the identity)
_SNAP = 1e-9            # smoothed values this close to their target snap onto it


@njit(**_OPTS)
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


@njit(**_OPTS)
def _hpf_coeffs(ln_f, fs, out):
    """Both sections of the protection high-pass at ``exp(ln_f)`` Hz, normalised, into out[0:10]."""
    w0 = 2.0 * math.pi * math.exp(ln_f) / fs
    for s in range(2):
        b0, b1, b2, a0, a1, a2 = _hp(w0, SUB_Q1 if s == 0 else SUB_Q2)
        inv = 1.0 / a0
        out[5 * s] = b0 * inv
        out[5 * s + 1] = b1 * inv
        out[5 * s + 2] = b2 * inv
        out[5 * s + 3] = a1 * inv
        out[5 * s + 4] = a2 * inv


@njit(**_OPTS)
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


@njit(**_OPTS)
def _reset(ctrl, st1, st2, coef, coef_inc, active, ramping, zs, misc, fs, tmp, hcoef, hinc, hz):
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
    # The protection snaps too, but keeps its state (see the module notes).
    _hpf_coeffs(st2[C_SUB_LN_F], fs, hcoef)
    hinc[:] = 0.0
    misc[M_SUB] = st2[C_SUB_MIX]
    misc[M_SUB_INC] = 0.0
    misc[M_SUB_RAMP] = 0.0
    if st2[C_SUB_MIX] > 0.0:
        misc[M_SUB_ACTIVE] = 1.0
    else:
        misc[M_SUB_ACTIVE] = 0.0
        hz[:] = 0.0


@njit(**_OPTS)
def _control_tick(ctrl, st1, st2, coef, coef_inc, active, ramping, zs, misc, cfg, tmp, n_ch,
                  hcoef, hinc, hz):
    """Advance the smoothers one tick and refresh the coefficients of the bands that moved."""
    fs = cfg[G_SAMPLE_RATE]
    a = cfg[G_SMOOTH_COEF]
    sub_prev = st2[C_SUB_MIX]
    sub_f_prev = st2[C_SUB_LN_F]
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

    sub_ramp = _protection_tick(ctrl, st2, misc, fs, tmp, hcoef, hinc, hz, sub_prev, sub_f_prev,
                                inv_n, interp)

    wet = 10.0 ** (st2[C_WET_GAIN_DB] / 20.0) if moved else misc[M_WET]
    master = 10.0 ** (st2[C_MASTER_GAIN_DB] / 20.0) if moved else misc[M_MASTER]
    mix = st2[C_MIX]
    misc[M_WET_INC] = (wet - misc[M_WET]) * inv_n
    misc[M_MASTER_INC] = (master - misc[M_MASTER]) * inv_n
    misc[M_MIX_INC] = (mix - misc[M_MIX]) * inv_n
    ramp_gains = misc[M_WET_INC] != 0.0 or misc[M_MASTER_INC] != 0.0 or misc[M_MIX_INC] != 0.0
    misc[M_MOVING] = 1.0 if (moved or any_ramp or ramp_gains or sub_ramp or not settled) else 0.0


@njit(**_OPTS)
def _protection_tick(ctrl, st2, misc, fs, tmp, hcoef, hinc, hz, sub_prev, sub_f_prev, inv_n,
                     interp):
    """The protection's share of a control tick; True while it still ramps.

    Its weight ramps per sample from the previous tick's smoothed value to this tick's (set
    exactly, so a finished fade sits exactly on 0 or 1); a moved cutoff ramps the coefficients.
    """
    sub = st2[C_SUB_MIX]
    misc[M_SUB] = sub_prev
    misc[M_SUB_INC] = (sub - sub_prev) * inv_n
    misc[M_SUB_RAMP] = 0.0
    if sub == 0.0 and sub_prev == 0.0 and ctrl[C_SUB_MIX] == 0.0:
        if misc[M_SUB_ACTIVE] == 1.0:
            misc[M_SUB_ACTIVE] = 0.0  # faded out: stop, and start from rest next time
            hz[:] = 0.0
        return False
    if misc[M_SUB_ACTIVE] == 0.0:
        misc[M_SUB_ACTIVE] = 1.0
        hz[:] = 0.0
        _hpf_coeffs(st2[C_SUB_LN_F], fs, hcoef)
    elif st2[C_SUB_LN_F] != sub_f_prev:
        _hpf_coeffs(st2[C_SUB_LN_F], fs, tmp)
        for j in range(10):
            if interp:
                hinc[j] = (tmp[j] - hcoef[j]) * inv_n
            else:
                hcoef[j] = tmp[j]
        if interp:
            misc[M_SUB_RAMP] = 1.0
    return misc[M_SUB_INC] != 0.0 or misc[M_SUB_RAMP] == 1.0



@njit(**_FILTER_OPTS)
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


@njit(**_FILTER_OPTS)
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


@njit(**_FILTER_OPTS)
def _hpf_pair(work, n_ch, c, seg, h, hinc, ramp, w, dw, fade, hz, za, zb):
    """The protection high-pass (both sections) on channels c and c+1 of ``work``, in place.

    ``fade``: the output is ``raw + w * (filtered - raw)`` with ``w`` advancing by ``dw`` per
    sample (switching on or off); returns ``w`` after the segment. The numerator is written as
    ``b0 * ((x + x2) - 2 x1)``: a high-pass has ``b1 = -2 b0`` and ``b2 = b0`` exactly (also while
    ramping), so this is the same filter with fewer multiplications, and DC cancels exactly.
    """
    p0 = h[0]
    p3 = h[3]
    p4 = h[4]
    q0 = h[5]
    q3 = h[8]
    q4 = h[9]
    dp0 = hinc[0] if ramp else 0.0
    dp3 = hinc[3] if ramp else 0.0
    dp4 = hinc[4] if ramp else 0.0
    dq0 = hinc[5] if ramp else 0.0
    dq3 = hinc[8] if ramp else 0.0
    dq4 = hinc[9] if ramp else 0.0
    xa1 = hz[za]
    xa2 = hz[za + 1]
    ua1 = hz[za + 2]
    ua2 = hz[za + 3]
    va1 = hz[za + 4]
    va2 = hz[za + 5]
    xb1 = hz[zb]
    xb2 = hz[zb + 1]
    ub1 = hz[zb + 2]
    ub2 = hz[zb + 3]
    vb1 = hz[zb + 4]
    vb2 = hz[zb + 5]
    for i in range(seg):
        if ramp:
            p0 += dp0
            p3 += dp3
            p4 += dp4
            q0 += dq0
            q3 += dq3
            q4 += dq4
        j = i * n_ch + c
        xa = work[j]
        xb = work[j + 1]
        ua = (p0 * ((xa + xa2) - 2.0 * xa1) - p4 * ua2) - p3 * ua1
        ub = (p0 * ((xb + xb2) - 2.0 * xb1) - p4 * ub2) - p3 * ub1
        va = (q0 * ((ua + ua2) - 2.0 * ua1) - q4 * va2) - q3 * va1
        vb = (q0 * ((ub + ub2) - 2.0 * ub1) - q4 * vb2) - q3 * vb1
        xa2 = xa1
        xa1 = xa
        ua2 = ua1
        ua1 = ua
        va2 = va1
        va1 = va
        xb2 = xb1
        xb1 = xb
        ub2 = ub1
        ub1 = ub
        vb2 = vb1
        vb1 = vb
        if fade:
            w += dw
            work[j] = xa + w * (va - xa)
            work[j + 1] = xb + w * (vb - xb)
        else:
            work[j] = va
            work[j + 1] = vb
    hz[za] = xa1
    hz[za + 1] = xa2
    hz[za + 2] = ua1
    hz[za + 3] = ua2
    hz[za + 4] = va1
    hz[za + 5] = va2
    hz[zb] = xb1
    hz[zb + 1] = xb2
    hz[zb + 2] = ub1
    hz[zb + 3] = ub2
    hz[zb + 4] = vb1
    hz[zb + 5] = vb2
    return w


@njit(**_FILTER_OPTS)
def _hpf_single(work, n_ch, c, seg, h, hinc, ramp, w, dw, fade, hz, z):
    """``_hpf_pair`` for one channel (the odd one out)."""
    p0 = h[0]
    p3 = h[3]
    p4 = h[4]
    q0 = h[5]
    q3 = h[8]
    q4 = h[9]
    dp0 = hinc[0] if ramp else 0.0
    dp3 = hinc[3] if ramp else 0.0
    dp4 = hinc[4] if ramp else 0.0
    dq0 = hinc[5] if ramp else 0.0
    dq3 = hinc[8] if ramp else 0.0
    dq4 = hinc[9] if ramp else 0.0
    x1 = hz[z]
    x2 = hz[z + 1]
    u1 = hz[z + 2]
    u2 = hz[z + 3]
    v1 = hz[z + 4]
    v2 = hz[z + 5]
    for i in range(seg):
        if ramp:
            p0 += dp0
            p3 += dp3
            p4 += dp4
            q0 += dq0
            q3 += dq3
            q4 += dq4
        j = i * n_ch + c
        xi = work[j]
        u = (p0 * ((xi + x2) - 2.0 * x1) - p4 * u2) - p3 * u1
        v = (q0 * ((u + u2) - 2.0 * u1) - q4 * v2) - q3 * v1
        x2 = x1
        x1 = xi
        u2 = u1
        u1 = u
        v2 = v1
        v1 = v
        if fade:
            w += dw
            work[j] = xi + w * (v - xi)
        else:
            work[j] = v
    hz[z] = x1
    hz[z + 1] = x2
    hz[z + 2] = u1
    hz[z + 3] = u2
    hz[z + 4] = v1
    hz[z + 5] = v2
    return w


@njit(**_OPTS)
def _protect(work, n_ch, seg, hcoef, hinc, hz, misc):
    """The protection over ``work`` in the general case: fading, ramping, any channel count."""
    w0 = misc[M_SUB]
    dw0 = misc[M_SUB_INC]
    fade = dw0 != 0.0 or w0 != 1.0
    hramp = misc[M_SUB_RAMP] == 1.0
    w = w0
    c = 0
    while c + 1 < n_ch:
        w = _hpf_pair(work, n_ch, c, seg, hcoef, hinc, hramp, w0, dw0, fade, hz,
                      c * HPF_STATE, (c + 1) * HPF_STATE)
        c += 2
    if c < n_ch:
        w = _hpf_single(work, n_ch, c, seg, hcoef, hinc, hramp, w0, dw0, fade, hz,
                        c * HPF_STATE)
    misc[M_SUB] = w
    if hramp:
        for j in range(10):
            hcoef[j] += hinc[j] * seg


@njit(**_OPTS)
def _input_channel(x, n, seg, work, n_ch, c):
    """Channel ``c`` of ``x[n:n + seg]`` into ``work`` as float64, non-finite samples as 0.

    Returns True if there was one."""
    bad = False
    for i in range(seg):
        v = np.float64(x[n + i, c])
        if not (abs(v) <= 1e30):
            v = 0.0
            bad = True
        work[i * n_ch + c] = v
    return bad


@njit(**_FILTER_OPTS)
def _input_stereo_protected(x, n, seg, work, h, hz):
    """Stereo input and the settled protection in one pass (``_hpf_pair`` without fade or ramp).

    The usual case on stage, so it gets its own loop: reading the input and filtering it together
    saves a pass over the block. Returns the channels that had non-finite samples, as bits.
    """
    p0 = h[0]
    p3 = h[3]
    p4 = h[4]
    q0 = h[5]
    q3 = h[8]
    q4 = h[9]
    xa1 = hz[0]
    xa2 = hz[1]
    ua1 = hz[2]
    ua2 = hz[3]
    va1 = hz[4]
    va2 = hz[5]
    xb1 = hz[HPF_STATE]
    xb2 = hz[HPF_STATE + 1]
    ub1 = hz[HPF_STATE + 2]
    ub2 = hz[HPF_STATE + 3]
    vb1 = hz[HPF_STATE + 4]
    vb2 = hz[HPF_STATE + 5]
    bad = 0
    for i in range(seg):
        xa = np.float64(x[n + i, 0])
        xb = np.float64(x[n + i, 1])
        if not (abs(xa) <= 1e30):
            xa = 0.0
            bad |= 1
        if not (abs(xb) <= 1e30):
            xb = 0.0
            bad |= 2
        ua = (p0 * ((xa + xa2) - 2.0 * xa1) - p4 * ua2) - p3 * ua1
        ub = (p0 * ((xb + xb2) - 2.0 * xb1) - p4 * ub2) - p3 * ub1
        va = (q0 * ((ua + ua2) - 2.0 * ua1) - q4 * va2) - q3 * va1
        vb = (q0 * ((ub + ub2) - 2.0 * ub1) - q4 * vb2) - q3 * vb1
        xa2 = xa1
        xa1 = xa
        ua2 = ua1
        ua1 = ua
        va2 = va1
        va1 = va
        xb2 = xb1
        xb1 = xb
        ub2 = ub1
        ub1 = ub
        vb2 = vb1
        vb1 = vb
        work[2 * i] = va
        work[2 * i + 1] = vb
    hz[0] = xa1
    hz[1] = xa2
    hz[2] = ua1
    hz[3] = ua2
    hz[4] = va1
    hz[5] = va2
    hz[HPF_STATE] = xb1
    hz[HPF_STATE + 1] = xb2
    hz[HPF_STATE + 2] = ub1
    hz[HPF_STATE + 3] = ub2
    hz[HPF_STATE + 4] = vb1
    hz[HPF_STATE + 5] = vb2
    return bad


@njit(**_OPTS)
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
    tmp = state[O_TMP:O_TMP + 16]
    hcoef = state[O_HCOEF:O_HCOEF + 10]
    hinc = state[O_HCOEF_INC:O_HCOEF_INC + 10]
    n_zs = n_ch * MAX_BANDS * 4
    zs = state[O_ZS:O_ZS + n_zs]
    o_hz = O_ZS + n_zs
    n_hz = n_ch * HPF_STATE
    hz = state[o_hz:o_hz + n_hz]
    o_work = o_hz + n_hz
    work = state[o_work:o_work + WORK_FRAMES * n_ch]
    dry = state[o_work + WORK_FRAMES * n_ch:o_work + 2 * WORK_FRAMES * n_ch]
    fs = cfg[G_SAMPLE_RATE]
    ceiling = cfg[G_CEILING]
    release = cfg[G_RELEASE_COEF]

    fresh = _read_pending(pending, ctrl, misc)
    if misc[M_INITIALISED] == 0.0 or ctrl[C_RESET] != misc[M_LAST_RESET]:
        _reset(ctrl, st1, st2, coef, coef_inc, active, ramping, zs, misc, fs, tmp, hcoef, hinc, hz)
    elif fresh:
        misc[M_MOVING] = 1.0
    misc[M_BLOCKS] += 1.0

    n = 0
    while n < frames:
        if misc[M_MOVING] == 1.0:
            if misc[M_TICK_POS] <= 0.0:
                _control_tick(ctrl, st1, st2, coef, coef_inc, active, ramping, zs, misc, cfg,
                              tmp, n_ch, hcoef, hinc, hz)
                misc[M_TICK_POS] = CONTROL_INTERVAL
            seg = int(min(misc[M_TICK_POS], frames - n))
        else:
            seg = min(WORK_FRAMES, frames - n)
        # Keep the tick grid aligned to the sample count even while idle.
        misc[M_TICK_POS] = (misc[M_TICK_POS] - seg) % CONTROL_INTERVAL if misc[M_MOVING] == 0.0 \
            else misc[M_TICK_POS] - seg

        # 1. Input through the subsonic protection (in front of the EQ and of the dry path).
        #    Non-finite samples become 0 and reset their channel's filters after the segment.
        sub_on = misc[M_SUB_ACTIVE] == 1.0
        if (n_ch == 2 and sub_on and misc[M_SUB] == 1.0 and misc[M_SUB_INC] == 0.0
                and misc[M_SUB_RAMP] == 0.0):
            bad = _input_stereo_protected(x, n, seg, work, hcoef, hz)  # the usual case on stage
        else:
            bad = 0
            for c in range(n_ch):
                if _input_channel(x, n, seg, work, n_ch, c):
                    bad |= 1 << c
            if sub_on:
                _protect(work, n_ch, seg, hcoef, hinc, hz, misc)
        if bad != 0:
            for c in range(n_ch):
                if (bad >> c) & 1:
                    misc[M_NAN_RESETS] += 1.0
                    for j in range(MAX_BANDS * 4):
                        zs[c * MAX_BANDS * 4 + j] = 0.0
                    for j in range(HPF_STATE):
                        hz[c * HPF_STATE + j] = 0.0
        if misc[M_MIX] < 1.0 or misc[M_MIX_INC] != 0.0:
            # The bypass path plays the protected input: keep a copy before the EQ runs.
            for j in range(seg * n_ch):
                dry[j] = work[j]

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
        # NaN/inf anywhere in the segment sets this (a flag, not a running sum: a sum would chain
        # one add's latency per sample).
        blown = False
        if dw == 0.0 and dm == 0.0 and dx == 0.0 and mix == 1.0 and n_ch == 2:
            # The common case on stage: stereo, EQ engaged, gains at rest. One gain, no dry path.
            gain = wet * master
            for i in range(seg):
                va = work[2 * i] * gain
                vb = work[2 * i + 1] * gain
                aa = abs(va)
                ab = abs(vb)
                if not (aa <= 1e300 and ab <= 1e300):
                    blown = True
                peak = aa if aa > ab else ab
                if g != 1.0:
                    g = g + release * (1.0 - g)
                if peak * g > ceiling:
                    g = ceiling / peak
                    misc[M_LIMITING] += 1.0
                y[n + i, 0] = np.float32(va * g)
                y[n + i, 1] = np.float32(vb * g)
        elif dw == 0.0 and dm == 0.0 and dx == 0.0 and mix == 1.0:
            # Same, any channel count.
            gain = wet * master
            for i in range(seg):
                peak = 0.0
                for c in range(n_ch):
                    v = work[i * n_ch + c] * gain
                    work[i * n_ch + c] = v
                    if not (abs(v) <= 1e300):
                        blown = True
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
                        v += (1.0 - mix) * dry[i * n_ch + c]  # protected, non-finite already 0
                    v *= master
                    work[i * n_ch + c] = v
                    if not (abs(v) <= 1e300):
                        blown = True
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
        if blown:
            # Impossible with stable filters and clean input; still, never let it out or back in.
            g = 1.0
            zs[:] = 0.0
            hz[:] = 0.0
            for i in range(seg):
                for c in range(n_ch):
                    y[n + i, c] = 0.0
        misc[M_LIMITER_GAIN] = g
        n += seg

    # Flush denormal-range filter state (EQ and protection) once per block.
    for j in range(n_zs):
        if abs(zs[j]) < DENORMAL_FLOOR:
            zs[j] = 0.0
    for j in range(n_hz):
        if abs(hz[j]) < DENORMAL_FLOOR:
            hz[j] = 0.0
