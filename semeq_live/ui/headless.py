"""Headless stage mode: one structured log line per event, plus a periodic health line.

Lines are JSON objects (one per line, ``event`` first), so journald shows them readably and tools
(and the end-to-end tests) can parse them without guessing. Kinds:

- ``start``, ``stop``: life cycle, with devices and settings;
- ``state``: control-state changes, **coalesced**: at most ``STATE_LINES_PER_S`` (10) lines in
  any one second, each carrying the latest value of every field that changed since the previous
  state line, ``changes`` (how many changes it sums up), and, for the newest change in it that the
  audio thread has played (its ``latency_seq`` when that is not the line's last), ``latency_ms``
  from input arrival to the first block with the new target and ``audio_frame``, the output frame
  where that block starts. A fader throw of 100 messages is one or two lines, not 100; the final
  state is always written (when the moves stop, before a discrete event, and at shutdown);
- discrete events (``action``, ``action_failed``, ``bypass``, ``device``, ``xrun``, errors...):
  written at once, one line each. Changes made before such an event that no state line has shown
  yet are written first, as a state line when the rate bound allows one and the audio thread has
  played them (so the line has its latency), else in the event's own line as ``pending_state``
  (only the changes no earlier line carried). Read in order, the lines always give each field's
  value at that point: the log keeps the order in which changes and events happened;
- ``health``: every ``health_interval_s``: callback timing and load, xruns, CPU, memory, levels, mode.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from collections import Counter, deque
from datetime import datetime, timezone

LATENCY_WAIT_S = 1.0  # how long a state change waits for the audio thread before it is written anyway
# At most this many state lines in any one second: a journal (and an SD card) can keep that. The
# app's loop offers one every ~0.1 s; a discrete event may take one out of turn.
STATE_LINES_PER_S = 10
# The window is a little over a second, so that the bound also holds in the lines' time stamps
# (wall clock, to the millisecond) whatever the rounding.
STATE_WINDOW_S = 1.01
# A line out of turn (before a discrete event) keeps this distance from the previous one, so the
# lines of a busy second spread over it instead of using up its budget at the start.
STATE_SPACING_S = 0.1
# Lines that need no pending state written before them: the periodic health line, and the start
# line, which carries the whole state itself (the start state's own line follows once it is heard).
UNORDERED_EVENTS = frozenset({"health", "start", "state"})


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
    """Writes event lines from any thread (a lock keeps lines whole; never used by the callback).

    ``metrics`` (the callback metrics) tells which published targets the audio thread has played;
    without it, state lines carry no latency. ``clock`` is for tests.
    """

    def __init__(self, stream=None, metrics=None, clock=time.monotonic):
        self.stream = stream or sys.stdout
        self.metrics = metrics
        self._clock = clock
        self._lock = threading.RLock()
        self._pending: list[tuple[float, dict]] = []  # (queued at, fields) of unwritten changes
        self._carried = 0  # how many of them event lines have already carried (pending_state)
        self._state_times: deque[float] = deque(maxlen=STATE_LINES_PER_S)  # the latest lines
        self.lines = Counter()  # lines written, per event kind (the soak reports the rates)

    # ------------------------------------------------------------------ any thread
    def write(self, event: str, **fields) -> None:
        """A discrete event: written now, after the state changes that came before it."""
        with self._lock:
            n = len(self._pending)
            if n and event not in UNORDERED_EVENTS:
                if (self._state_line_allowed(self._clock(), spaced=True)
                        and _newest_heard(self._pending, self.metrics) == n
                        and (n == 1 or self._pending[0][1].get("source") != "start")):
                    self._write_state(n)  # the usual case: a state line, with its latency
                elif self._carried < n:  # rate bound, or not heard yet: the event line says
                    # what it followed (only what no earlier event line carried)
                    new = self._pending[self._carried:]
                    fields = {**fields, "pending_state": _merge(f for _, f in new)}
                    self._carried = n
            self._write_line(event, fields)

    def state_change(self, fields: dict) -> None:
        with self._lock:
            self._pending.append((self._clock(), dict(fields)))

    def flush_state_changes(self, metrics=None, force: bool = False) -> None:
        """Write one coalesced state line if one is due (called every ~0.1 s by the app's loop).

        Due: the rate bound allows a line, and the audio thread has played at least one of the
        pending changes (the line then holds the changes up to the newest played one, and at least
        those an event line has carried, so the log never steps back) or the oldest has waited
        ``LATENCY_WAIT_S`` (stream stopped: written without latency). ``force`` (shutdown) writes
        everything pending now.
        """
        metrics = metrics if metrics is not None else self.metrics
        with self._lock:
            if not self._pending:
                return
            now = self._clock()
            if force:
                self._write_state(len(self._pending), metrics)
                return
            if not self._state_line_allowed(now):
                return
            # The start state (the whole initial state) is a line of its own.
            limit = 1 if self._pending[0][1].get("source") == "start" else len(self._pending)
            n = max(_newest_heard(self._pending[:limit], metrics), self._carried)
            if n == 0 and now - self._pending[0][0] >= LATENCY_WAIT_S:
                n = limit
            if n:
                self._write_state(n, metrics)

    # ------------------------------------------------------------------ under the lock
    def _state_line_allowed(self, now: float, spaced: bool = False) -> bool:
        times = self._state_times
        if spaced and times and now - times[-1] < STATE_SPACING_S:
            return False
        return len(times) < STATE_LINES_PER_S or now - times[0] >= STATE_WINDOW_S

    def _write_state(self, n: int, metrics=None) -> None:
        """One line for the first ``n`` pending changes: the latest value of each field, and the
        latency of the newest of them the audio thread has played."""
        metrics = metrics if metrics is not None else self.metrics
        batch, self._pending = self._pending[:n], self._pending[n:]
        self._carried = max(0, self._carried - n)
        last = batch[-1][1]
        fields = _merge(f for _, f in batch)
        # A pending entry may already sum up several events (the control loop's batches).
        fields.update(seq=last["seq"], source=last.get("source"), t_arrival=last.get("t_arrival"),
                      changes=sum(f.get("changes", 1) for _, f in batch))
        if last.get("port"):
            fields["port"] = last["port"]
        sources = sorted({str(f.get("source")) for _, f in batch})
        if len(sources) > 1:
            fields["sources"] = sources
        heard = _newest_heard(batch, metrics)
        if heard:
            change = batch[heard - 1][1]
            t_block, frame = metrics.applied(change["seq"])
            fields["latency_ms"] = 1000.0 * (t_block - change["t_arrival"])
            fields["audio_frame"] = frame
            if heard < n:
                fields["latency_seq"] = change["seq"]  # the played change the latency is of
        self._state_times.append(self._clock())
        self._write_line("state", fields)

    def _write_line(self, event: str, fields: dict) -> None:
        line = format_line(event, fields)
        self.lines[event] += 1
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # closed pipe: the show goes on without the log
            pass


# Bookkeeping of a change, not state: not merged into a coalesced line's fields.
_CHANGE_KEYS = ("seq", "source", "t_arrival", "port", "changes")


def _merge(changes) -> dict:
    """The latest value of every state field in ``changes`` (oldest first)."""
    out: dict = {}
    for f in changes:
        out.update((k, v) for k, v in f.items() if k not in _CHANGE_KEYS)
    return out


def _newest_heard(pending: list[tuple[float, dict]], metrics) -> int:
    """How many of the pending changes (oldest first) the audio thread has played: the index + 1
    of the newest played one, 0 for none. Sequence numbers rise, and a block plays every target
    up to the newest it picked up, so the search runs from the end and stops at the first hit."""
    if metrics is None:
        return 0
    for i in range(len(pending) - 1, -1, -1):
        if metrics.applied(pending[i][1]["seq"]) is not None:
            return i + 1
    return 0
