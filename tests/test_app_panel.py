"""The interactive app in a real pseudo-terminal on JACK: the panel draws, keys drive the state,
'q' quits cleanly and the terminal is left as it was found."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.jack, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]")


def read_until(fd: int, needle: str, timeout: float, seen: list[str]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536).decode(errors="replace")
            except OSError:
                return False
            seen.append(ANSI.sub("", chunk))
            if needle in "".join(seen[-40:]):
                return True
    return False


def test_panel_and_keyboard_in_a_terminal(jack_server, tmp_path):
    import termios

    master, slave = pty.openpty()
    modes_before = termios.tcgetattr(slave)[3]  # local modes: canonical input, echo
    env = jack_server.env()
    env.update(COLUMNS="110", LINES="45", TERM="xterm-256color")
    proc = subprocess.Popen([sys.executable, "-m", "semeq_live", "run", "--test-signal", "tones",
                             "--term-a", "warm", "--term-b", "bright", "--alpha", "0",
                             "--panel-rate", "10"],
                            stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=env,
                            cwd=str(REPO))
    os.close(slave)
    seen: list[str] = []
    try:
        assert read_until(master, "semantic EQ", 40, seen), "".join(seen)[-2000:]
        assert read_until(master, "keys:", 10, seen)
        text = "".join(seen)
        for needle in ("Term A", "warm", "bright", "Input profile", "Callback", "system"):
            assert needle in text, needle
        os.write(master, b"....")  # four steps of the morph towards B: alpha 0.20
        assert read_until(master, "░ 0.20", 10, seen), "".join(seen)[-2000:]
        os.write(master, b" ")  # bypass
        assert read_until(master, "BYPASS", 10, seen)
        os.write(master, b"q")
        assert proc.wait(20) == 0, proc.stderr.read()[-2000:]
        modes_after = termios.tcgetattr(master)[3]
        mask = termios.ICANON | termios.ECHO
        assert modes_after & mask == modes_before & mask  # cbreak mode undone
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
