"""The ``rich`` status panel: everything a performer or engineer needs at a glance.

``render_status(status, width, height)`` builds the renderable for a terminal of that size from one
status dict (see ``LiveApp.status``), so it is testable without a terminal; ``PanelThread`` redraws
it at most ``MAX_REDRAWS_PER_S`` times a second from its own thread, full-screen, at the size the
terminal has at each redraw. Rendering never touches audio buffers: it reads copies.

Two layouts (``ui.layout``), both built to fit the size they are given: no line longer than the
width, no more lines than the height. The pieces are in ``ui.sections``. Every line is one flat
``Text`` and ``Screen`` writes them one by one: a few ms per redraw, where nested rich tables,
panels and layouts cost tens of ms.
"""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.live import Live

from .layout import WIDE_MIN, compact, wide
from .sections import Lines, fit

MAX_REDRAWS_PER_S = 10.0

__all__ = ["MAX_REDRAWS_PER_S", "WIDE_MIN", "PanelThread", "Screen", "render_status"]


class Screen:
    """Lines of ``Text`` written one by one as segments, optionally in a border with a title.

    Cheaper than joining them into one Text inside a ``Panel``: rich then splits, crops and pads
    the whole body again, per segment, in Python. Lines are already cut to ``width``.
    """

    def __init__(self, lines: Lines, width: int, title: str | None = None,
                 border_style: str = "blue"):
        self.lines, self.width, self.title, self.border_style = lines, width, title, border_style

    def __rich_console__(self, console, options):
        from rich.segment import Segment

        new_line = Segment.line()
        if self.title is None:
            for line in self.lines:
                yield from line.render(console)
                yield new_line
            return
        style = console.get_style(self.border_style)
        inner = self.width - 2
        title = f" {self.title} "
        left = (inner - len(title)) // 2
        yield Segment("╭" + "─" * left, style)
        yield Segment(title, style)
        yield Segment("─" * (inner - left - len(title)) + "╮", style)
        yield new_line
        side, blank = Segment("│", style), Segment(" ")
        for line in self.lines:
            yield side
            yield blank
            yield from line.render(console)
            yield Segment(" " * (inner - 1 - line.cell_len))
            yield side
            yield new_line
        yield Segment("╰" + "─" * inner + "╯", style)
        yield new_line

    def plain_lines(self) -> list[str]:
        """The lines as plain text (for tests and logs)."""
        return [line.plain for line in self.lines]


def render_status(status: dict, width: int = 100, height: int | None = None) -> Screen:
    """The panel for a terminal of ``width`` x ``height`` (None: as tall as it needs)."""
    tall = height is None or height >= WIDE_MIN[1]
    if width >= WIDE_MIN[0] and tall:
        inner_h = 10_000 if height is None else height - 2
        lines = [fit(line, width - 4) for line in wide(status, width - 4, inner_h)]
        return Screen(lines, width, title="semantic EQ")
    return Screen([fit(line, width) for line in compact(status, width, height or 10_000)], width)


class PanelThread:
    """Redraws the panel from ``get_status()`` at ``rate`` (capped at 10) redraws per second,
    full-screen (the terminal's alternate screen, restored on exit), at the current size."""

    def __init__(self, get_status, rate: float = 5.0, console: Console | None = None,
                 screen: bool = True):
        self.get_status = get_status
        self.interval = 1.0 / min(max(rate, 0.5), MAX_REDRAWS_PER_S)
        self.console = console or Console()
        self.screen = screen and self.console.is_terminal
        self.redraws = 0
        self.render_times_s: list[float] = []  # newest last, at most 100
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "PanelThread":
        self._thread = threading.Thread(target=self._run, name="semeq-panel", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        with Live(console=self.console, auto_refresh=False, screen=self.screen,
                  transient=False, redirect_stdout=False, redirect_stderr=False,
                  vertical_overflow="crop") as live:
            while not self._stop.is_set():
                t0 = time.monotonic()
                width, height = self.console.size
                live.update(render_status(self.get_status(), width, height), refresh=True)
                self.redraws += 1
                self.render_times_s.append(time.monotonic() - t0)
                del self.render_times_s[:-100]
                self._stop.wait(max(self.interval - (time.monotonic() - t0), 0.01))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
