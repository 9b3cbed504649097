"""MIDI-file performances: read a ``.mid`` file's messages at their times, and schedule them per block.

Offline rendering drives the same control path as live MIDI: each message is applied before the
audio block that contains its time (block-accurate), so a render is deterministic and a rehearsed
performance sounds the same every time.
"""

from __future__ import annotations

import math
from pathlib import Path

import mido

from ..errors import CLIError

Event = tuple[float, mido.Message]


def load_performance(path) -> list[Event]:
    """``[(time_seconds, message), ...]`` from a MIDI file, tracks merged, tempo map respected.

    Meta messages (tempo, track names...) and sysex are dropped; the times are absolute, sorted.
    """
    path = Path(path)
    try:
        midi = mido.MidiFile(str(path))
        events: list[Event] = []
        t = 0.0
        for msg in midi:  # mido converts delta ticks to seconds through the tempo map
            t += msg.time
            if msg.is_meta or msg.type == "sysex":
                continue
            events.append((t, msg.copy(time=0)))
    except FileNotFoundError:
        raise CLIError(f"{path}: MIDI performance file not found") from None
    except Exception as exc:  # mido raises OSError/EOFError/ValueError/KeyError on bad files
        raise CLIError(f"{path}: not a readable MIDI file ({type(exc).__name__}: {exc})") from None
    return events


def block_of(time_s: float, sample_rate: int, block_size: int) -> int:
    """Index of the block whose samples contain ``time_s`` (a message is applied before it)."""
    sample = int(math.floor(max(time_s, 0.0) * sample_rate + 1e-9))
    return sample // block_size


class BlockScheduler:
    """Hands out the messages due before each block, in order, exactly once.

    ``due(k)`` returns every message whose time falls in a block <= k that was not returned yet,
    so skipping blocks never loses a message.
    """

    def __init__(self, events, sample_rate: int, block_size: int):
        if sample_rate <= 0 or block_size <= 0:
            raise ValueError("sample_rate and block_size must be positive")
        self.sample_rate = int(sample_rate)
        self.block_size = int(block_size)
        # sorted() is stable: messages at the same time keep the file's order.
        self._events = sorted(((block_of(t, sample_rate, block_size), i, msg)
                               for i, (t, msg) in enumerate(events)), key=lambda e: (e[0], e[1]))
        self._next = 0

    def __len__(self) -> int:
        return len(self._events)

    @property
    def last_block(self) -> int:
        """Block index of the last message (-1 when there are none)."""
        return self._events[-1][0] if self._events else -1

    @property
    def remaining(self) -> int:
        return len(self._events) - self._next

    def due(self, block_index: int) -> list[mido.Message]:
        out = []
        while self._next < len(self._events) and self._events[self._next][0] <= block_index:
            out.append(self._events[self._next][2])
            self._next += 1
        return out


def write_performance(path, events, ticks_per_beat: int = 480, tempo: int = 500000) -> Path:
    """Write ``[(time_seconds, message)]`` as a type-0 MIDI file (used by the demo and the tests)."""
    path = Path(path)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=tempo, time=0))
    last_tick = 0
    for t, msg in sorted(events, key=lambda e: e[0]):
        tick = int(round(mido.second2tick(t, ticks_per_beat, tempo)))
        track.append(msg.copy(time=max(tick - last_tick, 0)))
        last_tick = max(tick, last_tick)
    track.append(mido.MetaMessage("end_of_track", time=0))
    midi = mido.MidiFile(type=0, ticks_per_beat=ticks_per_beat)
    midi.tracks.append(track)
    midi.save(str(path))
    return path
