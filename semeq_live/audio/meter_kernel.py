"""The numba version of the level meter's per-block work (see ``meter.LevelMeter.accelerate``)."""

from __future__ import annotations

from numba import njit


@njit(cache=True)  # deliberately not nogil: a microsecond of work gains nothing from releasing
def update_levels(block, levels, row, peak_decay, ms_coef):  # the GIL, and every release is a
    frames, channels = block.shape                           # point where the audio thread may
    peak = 0.0                                               # have to wait to get it back
    acc = 0.0
    for i in range(frames):
        for c in range(channels):
            v = block[i, c]
            if v - v != 0.0:  # NaN or inf (inf - inf is NaN): bad input must not poison metering
                continue
            a = abs(v)
            if a > peak:
                peak = a
            acc += v * v
    held = levels[row, 0] * peak_decay
    levels[row, 0] = peak if peak > held else held
    ms = acc / max(frames * channels, 1)
    levels[row, 1] += ms_coef * (ms - levels[row, 1])
