"""A lock-free single-writer / single-reader ring of recent input audio.

The audio callback is the only writer: ``push`` copies the block into a preallocated float32 ring
and then advances a frame counter. Python's GIL makes the counter update atomic, and the writer
always writes the data *before* it publishes the new count, so a reader that sees count ``n``
finds frames ``< n`` in place. The reader (the analyzer thread) copies the span it wants and then
checks the counter again: if the writer lapped that span during the copy, the copy is discarded
instead of being analysed torn. No lock is ever taken, so the callback never waits.
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
        self._written = 0  # frames ever written; advanced only after the data is in place

    @property
    def written(self) -> int:
        """Total frames written so far (the newest frame has index ``written - 1``)."""
        return self._written

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
        first_frame = self._written  # absolute index of block[0]
        if n > cap:  # only the newest `cap` frames can be kept; the rest count as written
            first_frame += n - cap
            block = block[n - cap:]
        kept = block.shape[0]
        start = first_frame % cap
        first = min(kept, cap - start)
        self._buf[start:start + first] = block[:first]
        if first < kept:
            self._buf[:kept - first] = block[first:]
        self._written += n

    def read_into(self, end: int, out: np.ndarray) -> bool:
        """Copy frames ``[end - len(out), end)`` into ``out``. Analyzer-thread side.

        Returns False (``out`` unusable) when the span is not available: not written yet, already
        overwritten, or overwritten by the writer while it was being copied.
        """
        n = out.shape[0]
        begin = end - n
        cap = self.capacity
        if n > cap or begin < 0 or end > self._written or begin < self._written - cap:
            return False
        start = begin % cap
        first = min(n, cap - start)
        out[:first] = self._buf[start:start + first]
        if first < n:
            out[first:] = self._buf[:n - first]
        # The writer may have lapped the span while we copied: check after the copy.
        return begin >= self._written - cap
