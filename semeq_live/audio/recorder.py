"""Tee the output to a file so a performance can be kept (``--record FILE``).

The callback copies each output block into a preallocated ring (``write``); a writer thread drains
the ring to disk. The callback never touches the file and never waits: if the disk stalls for longer
than the ring holds, the frames that do not fit are dropped and counted (``dropped_frames``), the
show goes on, and the health log says so.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from ..errors import CLIError

RING_SECONDS = 8.0
FLUSH_EVERY_S = 1.0  # keeps the file header current, so a crash loses at most about a second


class Recorder:
    """``append=True`` continues an existing file of the same format (after a device restart)."""

    def __init__(self, path: str | Path, sample_rate: int, channels: int, append: bool = False,
                 ring_seconds: float = RING_SECONDS):
        import soundfile as sf

        self.path = Path(path)
        self.kept_previous: Path | None = None  # where an existing take was moved, if any
        fmt = self.path.suffix.lstrip(".").upper() or "WAV"
        if fmt not in sf.available_formats():
            raise CLIError(f"cannot record to {self.path}: unknown file type '.{fmt.lower()}' "
                           "(use .wav or .flac)")
        subtype = "PCM_24" if fmt in ("WAV", "FLAC", "AIFF") else None
        try:
            self._file = None
            if append and self.path.exists():
                f = sf.SoundFile(str(self.path), "r+")
                if f.samplerate == int(sample_rate) and f.channels == channels:
                    f.seek(0, sf.SEEK_END)
                    self._file = f
                else:
                    f.close()
            if self._file is None:
                self.kept_previous = _keep_previous_take(self.path)
                self._file = sf.SoundFile(str(self.path), "w", samplerate=int(sample_rate),
                                          channels=channels, format=fmt, subtype=subtype)
        except (RuntimeError, OSError) as exc:
            raise CLIError(f"cannot record to {self.path}: {exc}") from None
        self._ring = np.zeros((max(int(ring_seconds * sample_rate), 1), channels), dtype=np.float32)
        # [frames written by the callback, frames drained by the writer, frames dropped]
        self._counts = np.zeros(3, dtype=np.int64)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain_loop, name="semeq-recorder", daemon=True)
        self._thread.start()

    @property
    def frames_received(self) -> int:
        return int(self._counts[0])

    @property
    def frames_written(self) -> int:
        return int(self._counts[1])

    @property
    def dropped_frames(self) -> int:
        return int(self._counts[2])

    # audio thread
    def write(self, block: np.ndarray) -> None:
        c, ring = self._counts, self._ring
        n, cap = block.shape[0], ring.shape[0]
        if c[0] - c[1] + n > cap:
            c[2] += n
            return
        start = c[0] % cap
        first = min(n, cap - start)
        ring[start:start + first] = block[:first]
        if first < n:
            ring[:n - first] = block[first:]
        c[0] += n  # publish after the copy: the writer never reads frames still being written

    # writer thread
    def _drain(self) -> None:
        c, ring = self._counts, self._ring
        cap = ring.shape[0]
        available = int(c[0] - c[1])
        while available > 0:
            start = int(c[1] % cap)
            take = min(available, cap - start)
            self._file.write(ring[start:start + take])
            c[1] += take
            available -= take

    def _drain_loop(self) -> None:
        last_flush = time.monotonic()
        while not self._stop.wait(0.05):
            self._drain()
            if time.monotonic() - last_flush > FLUSH_EVERY_S:
                self._file.flush()
                last_flush = time.monotonic()

    def close(self) -> None:
        """Write everything still in the ring and finalise the file (header, length)."""
        if self._file.closed:
            return
        self._stop.set()
        self._thread.join()
        self._drain()
        self._file.close()


def _keep_previous_take(path: Path) -> Path | None:
    """Move an existing recording aside (``take.20261122-031500.wav``) instead of overwriting it.

    A fresh start on the same ``--record`` path (a restart after a crash, or tomorrow's show) must
    never destroy the take that is already there. (The open after it reports a real problem.)
    """
    from ..fileio import move_aside

    return move_aside(path)
