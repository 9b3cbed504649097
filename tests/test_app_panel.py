"""The interactive app in a real pseudo-terminal on JACK, its screen read by a terminal emulator
(pyte): the panel fits 80x24 and uses a large terminal, follows a resize, keys drive the state,
type-to-find picks a word, 'q' quits cleanly and the terminal is left as it was found."""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import sys
import termios
from pathlib import Path

import pytest

from .terminal import TerminalApp

pytestmark = [pytest.mark.jack, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
# Spawn to the first full panel: the first start in a fresh checkout compiles the numba kernels
# (over a minute on a loaded 2-core machine); later starts take a few seconds.
READY_TIMEOUT_S = 180.0


def start_app(jack_server, columns: int, rows: int, *extra: str) -> TerminalApp:
    return TerminalApp([sys.executable, "-m", "semeq_live", "run", "--test-signal", "pink",
                        "--term-a", "warm", "--term-b", "bright", "--alpha", "0",
                        "--panel-rate", "10", *extra],
                       columns, rows, jack_server.env(), str(REPO))


def find_row(lines: list[str], needle: str) -> int:
    return next((i for i, line in enumerate(lines) if needle in line), -1)


def panel_ready(app: TerminalApp) -> bool:
    text = app.text()
    return "xruns" in text.lower() and "quit" in text and "20k" in text


def check_fits(app: TerminalApp) -> list[str]:
    """Nothing cut off: the header on top, the full curve axis, health and keys, in order."""
    lines = app.lines()
    assert all(len(line) <= app.columns for line in lines)
    header = find_row(lines, "running")
    # the frequency axis: "20  50  100 ... 20k" (after the wide layout's left column)
    axis = next(i for i, line in enumerate(lines)
                if "20" in line.strip("│ ").split() and line.strip("│ ").endswith("20k"))
    health = find_row(lines, "dBFS")
    keys = max(find_row(lines, "q quit"), find_row(lines, "Esc cancel"))  # key help or finder
    assert 0 <= header <= 1, lines  # had any line wrapped, the screen would have scrolled
    # the whole 20 Hz - 20 kHz range: both ends and the decades between are on screen
    assert {"100", "1k", "10k"} <= set(lines[axis].split()), lines[axis]
    assert header < axis and 0 <= health and 0 <= keys, "\n".join(lines)
    assert "xruns" in app.text().lower()
    return lines


def test_small_terminal_keys_and_type_to_find(jack_server):
    app = start_app(jack_server, 80, 24)
    modes_before = termios.tcgetattr(app.master)[3]  # local modes: canonical input, echo
    try:
        assert app.wait_for(panel_ready, READY_TIMEOUT_S), app.text() + app.stderr()[-3000:]
        lines = check_fits(app)
        assert "semantic EQ" in lines[0]
        text = app.text()
        for needle in ("A warm", "B bright", "now at warm", "input ", "g autogain"):
            assert needle in text, (needle, text)

        app.send("....")  # four steps of the morph towards B: alpha 0.20
        assert app.wait_for(lambda a: "0.20" in a.lines()[find_row(a.lines(), "α")], 10), app.text()
        assert app.wait_for(lambda a: "between warm and bright" in a.text()
                            or "near " in a.text(), 10), app.text()
        app.send(" ")  # bypass
        assert app.wait_for(lambda a: "BYPASS" in a.text(), 10)

        app.send("?")  # type to find term B
        assert app.wait_for(lambda a: "find term B:" in a.text(), 10), app.text()
        app.send("cle", gap=0.05)
        assert app.wait_for(lambda a: "▶clear" in a.text(), 10), app.text()
        check_fits(app)  # the finder takes the key lines' place: still nothing cut off
        app.send("\r")
        assert app.wait_for(lambda a: "B clear" in a.text() and "find term" not in a.text(), 10), \
            app.text()
        app.send("/wamr\x1b")  # a typo, then Esc: term A stays warm
        assert app.wait_for(lambda a: "A warm" in a.text() and "find term" not in a.text(), 10)

        app.send("q")
        assert app.proc.wait(20) == 0, app.stderr()[-2000:]
        app.settle(0.5)  # what it wrote on the way out
        modes_after = termios.tcgetattr(app.master)[3]
        mask = termios.ICANON | termios.ECHO
        assert modes_after & mask == modes_before & mask  # cbreak mode undone
        assert b"\x1b[?1049l" in app.raw  # and the alternate screen left
    finally:
        app.close()


def test_large_terminal_shows_more_and_follows_a_resize(jack_server):
    app = start_app(jack_server, 160, 50)
    try:
        assert app.wait_for(panel_ready, READY_TIMEOUT_S), app.text() + app.stderr()[-3000:]
        lines = check_fits(app)
        text = app.text()
        for needle in ("Term A    warm", "high shelf", "Input profile", "Callback", "Word map",
                       "type to find A / B", "system"):
            assert needle in text, (needle, text)
        assert len(lines) == 50 and lines[-1].startswith("╰")  # the panel uses the whole height
        axis = next(line for line in lines if "20k" in line)
        assert len(axis.split("20k")[0]) > 100  # a wider curve than at 80 columns

        # The terminal shrinks to 80x24 (as when an SSH window is resized): the next redraw fits.
        fcntl.ioctl(app.master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        app.screen.resize(24, 80)
        app.columns, app.rows = 80, 24
        os.kill(app.proc.pid, signal.SIGWINCH)
        assert app.wait_for(lambda a: "Word map" not in a.text() and panel_ready(a), 20), app.text()
        check_fits(app)
        app.send("q")
        assert app.proc.wait(20) == 0, app.stderr()[-2000:]
    finally:
        app.close()
