"""Input/output level meters updated from the audio callback, allocation-free.

``LevelMeter.update(block, row)`` keeps a peak hold (falling at ``peak_fall_db_per_s``) and a
smoothed mean square (``rms_time_s``) per row. It starts in plain numpy (ufuncs into preallocated
scratch space, about 4 µs per block) so metering works from the very first callback, before numba
has loaded (see ``AudioEngine``); ``accelerate()`` then switches to the numba version in
``meter_kernel`` (under 1 µs). ``read()`` gives dBFS for the panel and the log.
"""

from __future__ import annotations

import math

import numpy as np

PEAK, MEAN_SQUARE = 0, 1
FLOOR_DBFS = -120.0
MAX_FRAMES = 8192


class LevelMeter:
    """Two rows (input, output) of peak and RMS, for a given block size and sample rate."""

    INPUT, OUTPUT = 0, 1

    def __init__(self, sample_rate: float, block_size: int, peak_fall_db_per_s: float = 20.0,
                 rms_time_s: float = 0.3, channels: int = 2):
        self.levels = np.zeros((2, 2))
        block_s = block_size / float(sample_rate)
        self.peak_decay = 10.0 ** (-peak_fall_db_per_s * block_s / 20.0)
        self.ms_coef = 1.0 - math.exp(-block_s / rms_time_s)
        self._scratch = np.zeros(MAX_FRAMES * max(int(channels), 1), dtype=np.float32)
        self._kernel = None

    def accelerate(self) -> None:
        """Switch to the numba kernel (compiled or loaded from cache here, not in the callback)."""
        from .meter_kernel import update_levels

        update_levels(np.zeros((16, 1), dtype=np.float32), np.zeros((2, 2)), 0, 1.0, 0.0)
        update_levels(np.zeros((16, 2), dtype=np.float32), np.zeros((2, 2)), 0, 1.0, 0.0)
        self._kernel = update_levels  # one attribute store: the callback sees old or new

    def update(self, block: np.ndarray, row: int) -> None:
        kernel = self._kernel
        if kernel is not None:
            kernel(block, self.levels, row, self.peak_decay, self.ms_coef)
            return
        n = block.size
        if n == 0 or n > self._scratch.size:
            return
        flat = block.reshape(-1)  # a view: blocks from PortAudio and the sources are contiguous
        work = self._scratch[:n]
        np.abs(flat, out=work)
        peak = float(work.max())
        ms = float(np.vdot(flat, flat)) / n
        lv = self.levels
        if math.isfinite(ms):  # a NaN or inf block must not poison the meter (the kernel resets too)
            lv[row, MEAN_SQUARE] += self.ms_coef * (ms - lv[row, MEAN_SQUARE])
            held = lv[row, PEAK] * self.peak_decay
            lv[row, PEAK] = peak if peak > held else held

    def read(self) -> dict:
        lv = self.levels.copy()

        def db(x):
            return 20.0 * math.log10(x) if x > 1e-6 else FLOOR_DBFS

        return {"in_peak_dbfs": db(lv[0, 0]), "in_rms_dbfs": db(math.sqrt(max(lv[0, 1], 0.0))),
                "out_peak_dbfs": db(lv[1, 0]), "out_rms_dbfs": db(math.sqrt(max(lv[1, 1], 0.0)))}
