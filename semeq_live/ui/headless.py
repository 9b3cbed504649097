"""Headless stage mode: one structured log line per event, plus a periodic health line.

Lines are JSON objects (one per line, ``event`` first), so journald shows them readably and tools
(and the end-to-end tests) can parse them without guessing. Kinds:

- ``start``, ``stop``: life cycle, with devices and settings;
- ``state``: a control-state change (what changed, where it came from, and once the audio thread
  has picked it up, ``latency_ms`` from input arrival to the first block with the new target and
  ``audio_frame``, the output frame where that block starts);
- ``device``: audio or MIDI device events (lost, retrying, reconnected);
- ``xrun``: new under-/overflows since the previous check;
- ``health``: every ``health_interval_s``: callback timing and load, xruns, CPU, memory, levels, mode.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from datetime import datetime, timezone

LATENCY_WAIT_S = 1.0  # how long a state line waits for the audio thread before it is written anyway


def _clean(v):
    if isinstance(v, float):
        return None if not math.isfinite(v) else round(v, 4)
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if hasattr(v, "item") and callable(v.item):  # numpy scalars
        return _clean(v.item())
    return v


def format_line(event: str, fields: dict) -> str:
    record = {"ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "event": event}
    record.update(_clean(fields))
    return json.dumps(record, separators=(",", ":"), default=str)


def parse_line(line: str) -> dict | None:
    """The record of one log line, or None for lines that are not ours (e.g. library warnings)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    return rec if isinstance(rec, dict) and "event" in rec else None


class HeadlessLog:
    """Writes event lines from any thread (a lock keeps lines whole; never used by the callback)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()
        self._pending: list[tuple[float, dict]] = []  # state lines waiting for their latency

    def write(self, event: str, **fields) -> None:
        line = format_line(event, fields)
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # closed pipe: the show goes on without the log
                pass

    def state_change(self, fields: dict) -> None:
        with self._lock:
            self._pending.append((time.monotonic(), dict(fields)))

    def flush_state_changes(self, metrics, force: bool = False) -> None:
        """Write state lines whose target the audio thread has picked up (or that waited too long)."""
        now = time.monotonic()
        with self._lock:
            pending, self._pending = self._pending, []
        keep = []
        for queued_at, fields in pending:
            applied = metrics.applied(fields["seq"]) if metrics is not None else None
            if applied is None and not force and now - queued_at < LATENCY_WAIT_S:
                keep.append((queued_at, fields))
                continue
            if applied is not None:
                t_block, frame = applied
                fields["latency_ms"] = 1000.0 * (t_block - fields["t_arrival"])
                fields["audio_frame"] = frame
            self.write("state", **fields)
        if keep:
            with self._lock:
                self._pending[:0] = keep
