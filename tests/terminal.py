"""A program in a real pseudo-terminal of a given size, its screen read by a terminal emulator.

``TerminalApp`` starts a command on a pty sized with ``TIOCSWINSZ`` (so the program sees the
size as it would in a real terminal over SSH) and feeds everything it writes to a ``pyte``
screen, which applies the escape sequences (cursor moves, erases, the alternate screen) the way a
terminal does. ``lines()`` is then what a person would see.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import tempfile
import termios
import time

import pytest


class TerminalApp:
    def __init__(self, argv: list[str], columns: int, rows: int, env: dict, cwd: str):
        pyte = pytest.importorskip("pyte", reason="pyte (dev extra) reads the terminal screen")
        self.columns, self.rows = columns, rows
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = dict(env)
        env.update(TERM="xterm-256color")
        for var in ("COLUMNS", "LINES"):  # the pty's size must be what counts, as over SSH
            env.pop(var, None)
        self.master = master
        # stderr to a file: a pipe nobody reads could fill up and stall the program
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=self._stderr,
                                     env=env, cwd=cwd, start_new_session=True)
        os.close(slave)
        self.raw = bytearray()

    def pump(self, timeout: float = 0.1) -> bool:
        """Read what the program wrote within ``timeout``; False once the pty is closed."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return False
        if not data:
            return False
        self.raw += data
        self.stream.feed(data)
        return True

    def lines(self) -> list[str]:
        """The screen as a person sees it: one string per row, trailing blanks removed."""
        return [line.rstrip() for line in self.screen.display]

    def text(self) -> str:
        return "\n".join(self.lines())

    def wait_for(self, predicate, timeout: float) -> bool:
        """Pump until ``predicate(self)`` holds on the screen (checked after each read)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.pump(0.1):
                return predicate(self)
            if predicate(self):
                return True
        return predicate(self)

    def settle(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.pump(0.05):
            pass

    def send(self, keys: str | bytes, gap: float = 0.0) -> None:
        data = keys.encode() if isinstance(keys, str) else keys
        if not gap:
            os.write(self.master, data)
            return
        for i in range(len(data)):
            os.write(self.master, data[i:i + 1])
            self.settle(gap)

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        self._stderr.close()
