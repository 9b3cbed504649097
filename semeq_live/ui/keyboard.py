"""Keyboard control for when there is no MIDI controller: single keys drive the same targets.

``KEYMAP`` maps a key to a command for ``LiveControl.command``; ``KeyboardReader`` reads keys from
a terminal without waiting for Enter (cbreak mode, restored on exit). Without a terminal (systemd,
pipes, tests) it stays off, because reading a non-TTY stdin would steal or block on input.
"""

from __future__ import annotations

import os
import select
import sys
import threading

ALPHA_STEP = 0.05
INTENSITY_STEP = 0.1
TRAVERSE_STEP = 0.1
GAIN_STEP_DB = 1.0

# key -> (LiveControl command, help). "add" commands step the current value (the state clamps).
KEYMAP: dict[str, tuple[tuple, str]] = {
    "a": (("step_term", "a", -1), "term A: previous"),
    "A": (("step_term", "a", +1), "term A: next"),
    "b": (("step_term", "b", -1), "term B: previous"),
    "B": (("step_term", "b", +1), "term B: next"),
    ",": (("add", "alpha", -ALPHA_STEP), "morph towards A"),
    ".": (("add", "alpha", +ALPHA_STEP), "morph towards B"),
    "-": (("add", "intensity", -INTENSITY_STEP), "less intensity"),
    "=": (("add", "intensity", +INTENSITY_STEP), "more intensity"),
    "h": (("add", "traverse_x", -TRAVERSE_STEP), "traverse left"),
    "l": (("add", "traverse_x", +TRAVERSE_STEP), "traverse right"),
    "j": (("add", "traverse_y", -TRAVERSE_STEP), "traverse down"),
    "k": (("add", "traverse_y", +TRAVERSE_STEP), "traverse up"),
    "9": (("add", "output_gain_db", -GAIN_STEP_DB), "output gain down"),
    "0": (("add", "output_gain_db", +GAIN_STEP_DB), "output gain up"),
    " ": (("toggle", "bypass"), "bypass on/off"),
    "g": (("toggle", "autogain"), "auto-gain on/off"),
    "d": (("toggle", "adaptive"), "adaptive on/off"),
    "r": (("action", "learn_reference"), "learn reference"),
    "!": (("action", "panic"), "panic (bypass + reset)"),
    "q": (("action", "quit"), "quit"),
}


def key_command(key: str) -> tuple | None:
    """The ``LiveControl`` command for ``key``, or None for keys that do nothing."""
    entry = KEYMAP.get(key)
    return None if entry is None else entry[0]


def help_line() -> str:
    return "  ".join(f"[{'space' if k == ' ' else k}] {h}" for k, (_, h) in KEYMAP.items())


class KeyboardReader:
    """Reads single keys from the controlling terminal in a thread and calls ``on_key(key)``."""

    def __init__(self, on_key, stream=None):
        self.on_key = on_key
        self.stream = stream or sys.stdin
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._saved = None

    @property
    def available(self) -> bool:
        try:
            return self.stream.isatty()
        except (AttributeError, ValueError):
            return False

    def start(self) -> bool:
        """Start reading; returns False (and does nothing) when stdin is not a terminal."""
        if not self.available:
            return False
        import termios
        import tty

        fd = self.stream.fileno()
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)  # keys arrive one by one, without echo; Ctrl-C still raises SIGINT
        self._thread = threading.Thread(target=self._run, args=(fd,), name="semeq-keyboard",
                                        daemon=True)
        self._thread.start()
        return True

    def _run(self, fd: int) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            data = os.read(fd, 32)
            if not data:
                return
            for ch in data.decode(errors="ignore"):
                self.on_key(ch)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)
            self._thread = None
        if self._saved is not None:
            import termios

            termios.tcsetattr(self.stream.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None
