"""The numba part of the analyzer's window averages over its segment history.

At each estimate (about three a second) the analyzer averaged the newest segments' band powers
over its 2 s window and its 4 s judged stretch and counted the near-pure-tone segments: numpy
calls that each gathered history rows through an index array into a temporary of their own.
Here it is one pass over the history ring, in numpy's order (the rows added one after the other,
newest first, then divided by their count, as ``mean(axis=0)`` does), so every estimate is bit
for bit what it was (``tests/test_analysis_kernels.py`` against the numpy formulation).

``cache=True``; ``warm_up`` runs with the other analysis kernels (``AnalyzerThread``).
"""

from __future__ import annotations

import numpy as np
from numba import njit



@njit(cache=True, inline="always")
def _slot(newest, age, n_history):
    """History slot of the segment ``age`` places before the newest (slot ``newest``)."""
    i = newest - age
    return i + n_history if i < 0 else i


@njit(cache=True)
def _rows_mean(history, newest, n, out):
    n_history, n_bands = history.shape
    first = history[newest]
    for b in range(n_bands):
        out[b] = first[b]
    for age in range(1, n):
        row = history[_slot(newest, age, n_history)]
        for b in range(n_bands):
            out[b] += row[b]
    for b in range(n_bands):
        out[b] /= n


@njit(cache=True)
def window_means(seg_power, seg_partials, newest, n_window, n_judge, max_tone_partials, power, judge):
    """Mean band powers of the newest ``n_window`` segments (``newest``: the newest one's slot)
    into ``power``, and of the newest ``n_judge`` into ``judge`` (none when ``n_judge`` is 0).
    Returns ``(sounding, tonal)``: of the window's segments, how many had any partial, and how
    many of those at most ``max_tone_partials``."""
    n_history = seg_power.shape[0]
    _rows_mean(seg_power, newest, n_window, power)
    if n_judge > 0:
        _rows_mean(seg_power, newest, n_judge, judge)
    sounding = 0
    tonal = 0
    for age in range(n_window):
        partials = seg_partials[_slot(newest, age, n_history)]
        if partials > 0:
            sounding += 1
            if partials <= max_tone_partials:
                tonal += 1
    return sounding, tonal


def warm_up() -> None:
    """Load the kernel (from numba's cache when warm) for the types the analyzer uses."""
    window_means(np.ones((4, 3)), np.zeros(4, np.int64), 1, 2, 3, 1, np.empty(3), np.empty(3))
