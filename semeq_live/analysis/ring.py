"""A lock-free single-writer / single-reader ring of recent input audio.

The audio callback is the only writer. It first *claims* the frames it is about to write (a
counter), copies the block into a preallocated float32 ring, and then *publishes* them (a second
counter), so a reader that sees ``written == n`` finds frames ``< n`` in place. The reader (the
analyzer thread) copies the span it wants and then checks the claim counter: if the writer has
claimed (started overwriting) any of that span during the copy, the copy is discarded instead of
being analysed torn. The claim makes this hold even when the writer runs without the GIL, at the
same time as the reader (the fused callback kernel, ``audio.block_kernel``, writes this ring with
the same protocol). No lock is ever taken, so the callback never waits.
"""

from __future__ import annotations

import numpy as np


class AudioRing:
    """Preallocated ring of the most recent ``capacity`` frames of ``channels``-channel audio."""

    def __init__(self, capacity: int, channels: int):
        if capacity < 1 or channels < 1:
            raise ValueError("ring capacity and channel count must be positive")
        self.capacity = int(capacity)
        self.channels = int(channels)
        self._buf = np.zeros((self.capacity, self.channels), dtype=np.float32)
        # [frames claimed (being or already written), frames written (in place)]: int64 slots the
        # fused callback kernel updates the same way ``push`` does.
        self._counts = np.zeros(2, dtype=np.int64)

    @property
    def written(self) -> int:
        """Total frames written so far (the newest frame has index ``written - 1``)."""
        return int(self._counts[1])

    def push(self, block: np.ndarray) -> None:
        """Append ``block`` (``[frames, channels]``, or 1-D for one channel). Audio-thread side.

        Copies into the preallocated ring (at most two slice copies, no array allocation).
        """
        if block.ndim == 1:
            if self.channels != 1:
                raise ValueError(f"1-D block pushed into a {self.channels}-channel ring")
            block = block[:, None]
        elif block.shape[1] != self.channels:
            raise ValueError(f"block has {block.shape[1]} channels, ring has {self.channels}")
        n = block.shape[0]
        cap = self.capacity
        counts = self._counts
        written = int(counts[1])
        first_frame = written  # absolute index of block[0]
        if n > cap:  # only the newest `cap` frames can be kept; the rest count as written
            first_frame += n - cap
            block = block[n - cap:]
        kept = block.shape[0]
        counts[0] = written + n  # claim before overwriting: readers of these slots will know
        start = first_frame % cap
        first = min(kept, cap - start)
        self._buf[start:start + first] = block[:first]
        if first < kept:
            self._buf[:kept - first] = block[first:]
        counts[1] = written + n

    def read_into(self, end: int, out: np.ndarray) -> bool:
        """Copy frames ``[end - len(out), end)`` into ``out``. Analyzer-thread side.

        Returns False (``out`` unusable) when the span is not available: not written yet, already
        overwritten, or overwritten by the writer while it was being copied.
        """
        n = out.shape[0]
        begin = end - n
        cap = self.capacity
        counts = self._counts
        if n > cap or begin < 0 or end > counts[1] or begin < counts[0] - cap:
            return False
        start = begin % cap
        first = min(n, cap - start)
        out[:first] = self._buf[start:start + first]
        if first < n:
            out[first:] = self._buf[:n - first]
        # The writer may have started overwriting the span while we copied: check after the copy.
        return begin >= counts[0] - cap
