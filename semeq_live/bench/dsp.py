"""EQ kernel vs ``scipy.signal.sosfilt`` doing the same work block by block with carried state.

Stereo 48 kHz, 5 bands behind the default DC/subsonic protection (a 2-section high-pass), block
sizes 64/128/512. "static": parameters fixed; "moving": a new extreme setting every 8 blocks, so
the smoothers and coefficient ramps never rest (the worst case). sosfilt runs the same 7 sections
(protection + EQ), so the comparison is like for like; "unprotected" is the kernel with the
protection switched off, to show what it costs. Only the audio-thread call is timed (the control
side's ``set_params`` runs on another thread). Samples of all variants are interleaved in rounds
so machine noise hits them alike.
"""

from __future__ import annotations

import time

import numpy as np

from ..dsp.design import SUBSONIC_DEFAULT_HZ
from . import summary_us

FS = 48000
CHANNELS = 2
SETTING_A = np.array([6.0, 100.0, 3.0, 500.0, 1.0, -4.0, 2000.0, 2.0, 5.0, 6000.0, 0.7, -6.0, 9000.0])
SETTING_B = SETTING_A * np.where(np.isin(np.arange(13), [0, 2, 5, 8, 11]), -1.0, 1.0)


def _kernel_times(block: int, n_blocks: int, moving: bool, x: np.ndarray,
                  subsonic_hz: float = SUBSONIC_DEFAULT_HZ) -> np.ndarray:
    from ..dsp import EQProcessor

    proc = EQProcessor(FS, CHANNELS, subsonic_hz=subsonic_hz)
    proc.set_params(SETTING_A)
    out = np.empty((block, CHANNELS), dtype=np.float32)
    times = np.empty(n_blocks)
    clock = time.perf_counter
    for i in range(n_blocks):
        if moving and i % 8 == 0:
            proc.set_params(SETTING_B if (i // 8) % 2 == 0 else SETTING_A)
        blk = x[i]
        t0 = clock()
        proc.process_into(blk, out)
        times[i] = clock() - t0
    return times


def _scipy_times(block: int, n_blocks: int, x: np.ndarray) -> np.ndarray:
    import scipy.signal as ss

    from ..dsp import design_sos
    from ..dsp.design import subsonic_sos

    sos = np.concatenate([subsonic_sos(SUBSONIC_DEFAULT_HZ, FS), design_sos(SETTING_A, FS)])
    zi = np.zeros((sos.shape[0], 2, CHANNELS))
    times = np.empty(n_blocks)
    clock = time.perf_counter
    for i in range(n_blocks):
        blk = x[i]
        t0 = clock()
        y, zi = ss.sosfilt(sos, blk, axis=0, zi=zi)
        y.astype(np.float32)
        times[i] = clock() - t0
    return times


def run(quick: bool = False) -> dict:
    from ..dsp.processor import warmup

    t0 = time.perf_counter()
    warmup()
    warm_s = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    rounds = 5 if quick else 15
    seconds_per_round = 0.25 if quick else 0.5
    results = {"sample_rate": FS, "channels": CHANNELS, "bands": 5,
               "subsonic_hz": SUBSONIC_DEFAULT_HZ, "sosfilt_sections": 7, "rounds": rounds,
               "kernel_warmup_s": warm_s, "blocks": {}}
    for block in (64, 128, 512):
        n_blocks = max(8, int(seconds_per_round * FS / block))
        x = (rng.standard_normal((n_blocks, block, CHANNELS)) * 0.1).astype(np.float32)
        static, moving, scipy_t, bare = [], [], [], []
        for _ in range(rounds):
            static.append(_kernel_times(block, n_blocks, False, x))
            moving.append(_kernel_times(block, n_blocks, True, x))
            scipy_t.append(_scipy_times(block, n_blocks, x))
            bare.append(_kernel_times(block, n_blocks, False, x, subsonic_hz=0.0))
        # Per round: median time per block; then the median over rounds (robust to noisy neighbours).
        med = {k: float(np.median([np.median(r) for r in v]))
               for k, v in (("static", static), ("moving", moving), ("scipy", scipy_t),
                            ("bare", bare))}
        period = block / FS
        results["blocks"][str(block)] = {
            "kernel_static": summary_us(np.concatenate(static)),
            "kernel_moving": summary_us(np.concatenate(moving)),
            "scipy_sosfilt": summary_us(np.concatenate(scipy_t)),
            "kernel_static_unprotected": summary_us(np.concatenate(bare)),
            "protection_cost": med["static"] / med["bare"],
            "speedup_vs_sosfilt_static": med["scipy"] / med["static"],
            "speedup_vs_sosfilt_moving": med["scipy"] / med["moving"],
            "moving_over_static": med["moving"] / med["static"],
            "core_percent_static": 100.0 * med["static"] / period,
            "core_percent_moving": 100.0 * med["moving"] / period,
            "core_percent_sosfilt": 100.0 * med["scipy"] / period,
        }
    b128 = results["blocks"]["128"]
    results["goals"] = {
        "speedup_vs_sosfilt_at_128_ge_10": b128["speedup_vs_sosfilt_static"] >= 10.0,
        "smoothing_cost_le_2x_static_at_128": b128["moving_over_static"] <= 2.0,
    }
    return results
