"""numpy's summation order for numba kernels that must give numpy's sums bit for bit.

``ndarray.sum`` of a contiguous float64 run adds pairwise: below 8 values one running sum, up to
128 eight running sums combined as a tree, then the rest. A kernel that sums in any other order
differs from numpy in the last bits, and every figure built on it would move with it.
(numba does not recompile a kernel's cache when this file alone changes: change it with care.)
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def pairwise_sum(x, start, n):
    """numpy's ``pairwise_sum`` of ``x[start:start + n]`` for ``n <= 128`` (one block: below 8
    values a running sum, else eight running sums combined as a tree, then the rest). Longer runs
    are not summed here: numpy splits them in halves, and a recursive kernel loaded from numba's
    cache crashed (numba 0.62)."""
    if n < 8:
        s = 0.0
        for i in range(n):
            s += np.float64(x[start + i])
        return s
    r0 = np.float64(x[start])
    r1 = np.float64(x[start + 1])
    r2 = np.float64(x[start + 2])
    r3 = np.float64(x[start + 3])
    r4 = np.float64(x[start + 4])
    r5 = np.float64(x[start + 5])
    r6 = np.float64(x[start + 6])
    r7 = np.float64(x[start + 7])
    i = 8
    whole = n - n % 8
    while i < whole:
        r0 += np.float64(x[start + i])
        r1 += np.float64(x[start + i + 1])
        r2 += np.float64(x[start + i + 2])
        r3 += np.float64(x[start + i + 3])
        r4 += np.float64(x[start + i + 4])
        r5 += np.float64(x[start + i + 5])
        r6 += np.float64(x[start + i + 6])
        r7 += np.float64(x[start + i + 7])
        i += 8
    s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        s += np.float64(x[start + i])
        i += 1
    return s
