"""Keyboard control for when there is no MIDI controller: single keys drive the same targets.

``KEYMAP`` maps a key to a command for ``LiveControl.command``; ``KeyboardReader`` reads keys from
a terminal without waiting for Enter (cbreak mode, restored on exit) and splits what arrives into
keys (``split_keys``: an arrow key is one key, not Esc, '[' and 'A'). ``KeyDispatcher`` sends each
key either to the type-to-find finder (``ui.finder``, opened with '/' for term A and '?' for
term B) or through ``KEYMAP``. Without a terminal (systemd, pipes, tests) the reader stays off,
because reading a non-TTY stdin would steal or block on input.
"""

from __future__ import annotations

import os
import select
import sys
import threading

from .finder import OPEN_KEYS

ALPHA_STEP = 0.05
INTENSITY_STEP = 0.1
TRAVERSE_STEP = 0.1
GAIN_STEP_DB = 1.0
ESC_WAIT_S = 0.03  # how long a lone Esc waits for the rest of an escape sequence

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
    "R": (("action", "reference"), "next reference (auto, music, voice, pink, learned)"),
    "!": (("action", "panic"), "panic (bypass + reset)"),
    "q": (("action", "quit"), "quit"),
}


# The key help, short enough for an 80-column terminal: (keys, short label, long label). A key of
# KEYMAP that no group names is still shown, with its own help text.
KEY_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("a/A b/B", "terms", "term A / B prev/next"),
    ("/ ?", "find A/B", "type to find A / B"),
    (",/.", "morph", "morph A<->B"),
    ("-/=", "intensity", "intensity"),
    ("h/l j/k", "traverse", "traverse x / y"),
    ("9/0", "gain", "output gain"),
    ("space", "bypass", "bypass"),
    ("g", "autogain", "auto-gain"),
    ("d", "adapt", "adaptive"),
    ("r/R", "ref", "learn / next reference"),
    ("!", "panic", "panic"),
    ("q", "quit", "quit"),
)
FINDER_HELP = (("type", "filter", "letters filter"), ("Tab/↓ ⇧Tab/↑", "move", "move"),
               ("Enter", "choose", "choose"), ("Esc", "cancel", "cancel"))


def _group_keys(keys: str) -> set[str]:
    if keys == "space":
        return {" "}
    return {k for part in keys.split() for k in part.split("/") if k}


def key_help_items(long: bool = False) -> list[str]:
    """One "keys label" item per group, plus any KEYMAP key no group names."""
    named = set().union(*(_group_keys(k) for k, _, _ in KEY_GROUPS))
    items = [f"{k} {long_label if long else short}" for k, short, long_label in KEY_GROUPS]
    items += [f"{'space' if k == ' ' else k} {h}" for k, (_, h) in KEYMAP.items() if k not in named]
    return items


def key_command(key: str) -> tuple | None:
    """The ``LiveControl`` command for ``key``, or None for keys that do nothing."""
    entry = KEYMAP.get(key)
    return None if entry is None else entry[0]


def help_line() -> str:
    return "  ".join(f"[{'space' if k == ' ' else k}] {h}" for k, (_, h) in KEYMAP.items())


# Escape sequences of the keys the finder uses (xterm and VT100 forms).
ESCAPE_KEYS = {"\x1b[A": "up", "\x1b[B": "down", "\x1bOA": "up", "\x1bOB": "down",
               "\x1b[Z": "backtab", "\x1b[C": "right", "\x1b[D": "left", "\x1bOC": "right",
               "\x1bOD": "left"}
CONTROL_KEYS = {"\r": "enter", "\n": "enter", "\t": "tab", "\x7f": "backspace",
                "\x08": "backspace", "\x1b": "esc"}


def split_keys(text: str) -> list[str]:
    """Split what the terminal sent into keys: printable characters as themselves, and
    'enter', 'tab', 'backtab', 'backspace', 'esc', 'up', 'down', 'left', 'right'. Other escape
    sequences (function keys...) are dropped whole, so their letters never act as keys."""
    keys, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\x1b" and i + 1 < len(text) and text[i + 1] in "[O":
            j = i + 2
            while j < len(text) and not ("@" <= text[j] <= "~"):
                j += 1  # parameters of a CSI sequence, up to its final byte
            seq = text[i:j + 1]
            if seq in ESCAPE_KEYS:
                keys.append(ESCAPE_KEYS[seq])
            i = j + 1
            continue
        if ch in CONTROL_KEYS:
            keys.append(CONTROL_KEYS[ch])
        elif ch.isprintable():
            keys.append(ch)
        i += 1
    return keys


class KeyDispatcher:
    """Routes keys to the finder while it is open, else through ``KEYMAP`` to ``send(command)``.

    While the finder is open letters are typed into it; '!' (panic) still acts, since it must
    work whatever the screen shows.
    """

    def __init__(self, send, finder=None):
        self.send = send
        self.finder = finder

    def on_key(self, key: str) -> None:
        finder = self.finder
        if finder is not None and finder.active and key != "!":
            cmd = finder.key(key)
        elif finder is not None and key in OPEN_KEYS:
            finder.open(OPEN_KEYS[key])
            return
        else:
            cmd = key_command(key)
        if cmd is not None:
            self.send(cmd)


class KeyboardReader:
    """Reads keys from the controlling terminal in a thread and calls ``on_key(key)`` for each
    (see ``split_keys`` for the names of special keys)."""

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
            data = os.read(fd, 64)
            if not data:
                return
            if data.endswith(b"\x1b"):  # Esc alone, or the start of a sequence still on its way
                more, _, _ = select.select([fd], [], [], ESC_WAIT_S)
                if more:
                    data += os.read(fd, 64)
            for key in split_keys(data.decode(errors="ignore")):
                self.on_key(key)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)
            self._thread = None
        if self._saved is not None:
            import termios

            termios.tcsetattr(self.stream.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None
