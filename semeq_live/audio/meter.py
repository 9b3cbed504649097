"""Input/output level meters updated from the audio callback by a tiny nogil numba function.

The callback calls ``update_levels(block, levels, index, decay)``; it writes peak (with a falling
hold) and a smoothed mean square into a preallocated array, so metering costs one pass over the
block and no Python objects. It keeps the GIL: a microsecond of work gains nothing from releasing
it, and every release is a point where the audio thread may have to wait to get it back. ``LevelMeter.read()`` turns them into dBFS for the panel and the log.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

PEAK, MEAN_SQUARE = 0, 1
FLOOR_DBFS = -120.0


@njit(cache=True)  # deliberately not nogil, see the module docstring
def update_levels(block, levels, row, peak_decay, ms_coef):
    frames, channels = block.shape
    peak = 0.0
    acc = 0.0
    for i in range(frames):
        for c in range(channels):
            v = block[i, c]
            if v != v:  # NaN: metering must not be poisoned by bad input either
                continue
            a = abs(v)
            if a > peak:
                peak = a
            acc += v * v
    held = levels[row, 0] * peak_decay
    levels[row, 0] = peak if peak > held else held
    ms = acc / max(frames * channels, 1)
    levels[row, 1] += ms_coef * (ms - levels[row, 1])


class LevelMeter:
    """Two rows (input, output) of peak and RMS, for a given block size and sample rate."""

    INPUT, OUTPUT = 0, 1

    def __init__(self, sample_rate: float, block_size: int, peak_fall_db_per_s: float = 20.0,
                 rms_time_s: float = 0.3):
        self.levels = np.zeros((2, 2))
        block_s = block_size / float(sample_rate)
        self.peak_decay = 10.0 ** (-peak_fall_db_per_s * block_s / 20.0)
        self.ms_coef = 1.0 - math.exp(-block_s / rms_time_s)

    def update(self, block: np.ndarray, row: int) -> None:
        update_levels(block, self.levels, row, self.peak_decay, self.ms_coef)

    def read(self) -> dict:
        lv = self.levels.copy()

        def db(x):
            return 20.0 * math.log10(x) if x > 1e-6 else FLOOR_DBFS

        return {"in_peak_dbfs": db(lv[0, 0]), "in_rms_dbfs": db(math.sqrt(max(lv[0, 1], 0.0))),
                "out_peak_dbfs": db(lv[1, 0]), "out_rms_dbfs": db(math.sqrt(max(lv[1, 1], 0.0)))}


def warmup() -> None:
    LevelMeter(48000, 64).update(np.zeros((64, 2), dtype=np.float32), 0)
    LevelMeter(48000, 64).update(np.zeros((64, 1), dtype=np.float32), 0)
