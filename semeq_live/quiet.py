"""Probing audio and MIDI systems without the C libraries' noise on the terminal or the journal.

ALSA's libasound, libjack and PortAudio print their complaints straight to file descriptor 2,
past Python: on a machine without a JACK server or an ALSA sequencer, listing MIDI ports prints
a dozen lines ("ALSA lib seq_hw.c:… open /dev/snd/seq failed", "JackShmReadWritePtr::… Init not
done") before anything of ours. ``native_stderr_captured`` points fd 2 at a temporary file for
the duration of a probe and always puts it back; afterwards the lines it recognises as that
noise become short causes of our own ("no JACK server running", "ALSA sequencer unavailable
(/dev/snd/seq: No such file or directory)") and every other line is written to stderr as it came,
so a real error is never swallowed.

fd 2 belongs to the whole process, so anything another thread writes during a probe is held
back until the probe ends (then passed on, unless it is the recognised noise). Probes take
milliseconds; one lock serialises them, and nested probes share the outer capture.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from contextlib import contextmanager

# (pattern of a noise line, the cause it means; None: noise that only repeats another line).
_NOISE: tuple[tuple[re.Pattern, str | None], ...] = (
    (re.compile(r"^ALSA lib \S*seq\S*:.*open (/dev/snd/seq) failed: (.*)$"),
     r"ALSA sequencer unavailable (\1: \2)"),
    (re.compile(r"^ALSA lib .*cannot find card"), "no ALSA sound card"),
    (re.compile(r"^ALSA lib "), None),
    (re.compile(r"^jack server is not running or cannot be started"), "no JACK server running"),
    (re.compile(r"^Cannot connect to server (socket|request channel)"), None),
    (re.compile(r"^JackShmReadWritePtr1?::~JackShmReadWritePtr1?"), None),
)

_lock = threading.RLock()
_active: "NativeOutput | None" = None


class NativeOutput:
    """What the C libraries wrote during a probe: ``lines``, split into ``noise`` and ``other``,
    and ``causes``, the noise said in a few words (in order, without repeats)."""

    def __init__(self):
        self.lines: list[str] = []

    @property
    def noise(self) -> list[str]:
        return [line for line in self.lines if _match(line) is not None]

    @property
    def other(self) -> list[str]:
        return [line for line in self.lines if line.strip() and _match(line) is None]

    @property
    def causes(self) -> list[str]:
        out = []
        for line in self.lines:
            hit = _match(line)
            if hit is not None and hit[1] is not None:
                cause = hit[0].expand(hit[1])
                if cause not in out:
                    out.append(cause)
        return out


def _match(line: str):
    for pattern, cause in _NOISE:
        m = pattern.match(line)
        if m is not None:
            return m, cause
    return None


@contextmanager
def native_stderr_captured():
    """Run a probe with fd 2 captured; yields a ``NativeOutput`` filled in when the block ends.

    fd 2 is restored whatever happens (exceptions pass through); lines that are not recognised
    noise go to stderr afterwards.
    """
    global _active
    with _lock:
        if _active is not None:  # nested: the outer probe captures and reports
            yield _active
            return
        out = NativeOutput()
        _flush()
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 at all: nothing to protect
            yield out
            return
        tmp = tempfile.TemporaryFile()
        try:
            os.dup2(tmp.fileno(), 2)
            _active = out
            yield out
        finally:
            _active = None
            _flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.lines = tmp.read().decode("utf-8", "replace").splitlines()
            tmp.close()
            for line in out.other:  # not ours to hide: pass it on
                print(line, file=sys.stderr)


def _flush() -> None:
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
