"""The ``rich`` status panel: everything a performer or engineer needs at a glance.

``render_status(status)`` builds the renderable from one status dict (see ``LiveApp.status``), so it
is testable without a terminal; ``PanelThread`` redraws it at most ``MAX_REDRAWS_PER_S`` times a
second from its own thread. Rendering never touches audio buffers: it reads copies of the metrics.
"""

from __future__ import annotations

import threading
import time

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..params import BAND_INDEX, BAND_NAMES
from .curve import curve_lines

MAX_REDRAWS_PER_S = 10.0
BAR_WIDTH = 12
CURVE_WIDTH = 52
KEY_HELP = ("keys: a/A b/B terms  ,/. morph  -/= intensity  h/l j/k traverse  9/0 gain  "
            "space bypass  g auto-gain  d adaptive  r learn ref  ! panic  q quit")


def bar(value: float, lo: float, hi: float, width: int = BAR_WIDTH) -> str:
    frac = 0.0 if hi <= lo else min(max((value - lo) / (hi - lo), 0.0), 1.0)
    filled = int(round(frac * width))
    return "█" * filled + "░" * (width - filled)


def level_bar(dbfs: float, width: int = BAR_WIDTH) -> Text:
    t = Text(bar(dbfs, -60.0, 0.0, width))
    t.stylize("red" if dbfs > -3 else "yellow" if dbfs > -12 else "green")
    return t


def traverse_box(x: float, y: float, w: int = 11, h: int = 5) -> list[str]:
    cx = int(round((x + 1) / 2 * (w - 1)))
    cy = int(round((1 - (y + 1) / 2) * (h - 1)))
    rows = []
    for r in range(h):
        row = ["·"] * w
        if r == cy:
            row[cx] = "●"
        rows.append("".join(row))
    return rows


def _controls(status: dict) -> Table:
    st = status["state"]
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold")
    t.add_column()
    t.add_row("Term A", Text(st["term_a"], style="cyan bold"))
    t.add_row("Term B", Text(st["term_b"], style="magenta bold"))
    t.add_row("α", f"{bar(st['alpha'], 0, 1)} {st['alpha']:.2f}")
    t.add_row("Intensity", f"{bar(st['intensity'], 0, 1.5)} {st['intensity']:.2f}")
    box = traverse_box(st["traverse_x"], st["traverse_y"])
    t.add_row("Traverse", f"{box[0]}  x {st['traverse_x']:+.2f}")
    for i, row in enumerate(box[1:]):
        t.add_row("", row + (f"  y {st['traverse_y']:+.2f}" if i == 0 else ""))
    flags = []
    flags.append(Text(" BYPASS ", style="black on yellow") if st["bypass"] else Text(" EQ ON ", style="black on green"))
    flags.append(Text(f" auto-gain {'on' if st['autogain'] else 'off'} "))
    flags.append(Text(f" adaptive {'on' if st['adaptive'] else 'off'} "))
    for flag in flags:
        t.add_row("", flag)
    t.add_row("Scene", st.get("scene") or "—")
    t.add_row("Out gain", f"{st['output_gain_db']:+.1f} dB")
    return t


def _profile(status: dict) -> Table:
    est = status.get("estimate") or {}
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold")
    t.add_column()
    t.add_row(Text("Input profile", style="bold underline"), "")
    prof = est.get("profile") or []
    if not est.get("confident") or not prof:
        t.add_row("", Text(f"no estimate: {est.get('reason', 'waiting for input')}", style="dim"))
    else:
        for term, sim in prof[:6]:
            t.add_row(term, f"{bar(max(sim, 0.0), 0, 1)} {sim:+.2f}")
    return t


def _eq(status: dict, width: int) -> Group:
    s = status.get("settings") or {}
    lines = curve_lines(status["curve_db"], height=7) if status.get("curve_db") is not None else []
    bands = Table(box=None, padding=(0, 1), show_header=True, header_style="bold")
    for col in ("band", "freq", "gain", "Q"):
        bands.add_column(col, justify="right")
    fwd = s.get("forward")
    if fwd is not None:
        for name, (gi, fi, qi) in zip(BAND_NAMES, BAND_INDEX):
            f = fwd[fi]
            bands.add_row(name, f"{f / 1000:.2f}k" if f >= 1000 else f"{f:.0f}",
                          f"{fwd[gi]:+.1f}", "—" if qi < 0 else f"{fwd[qi]:.2f}")
    mode = s.get("mode", "")
    head = Text.assemble(("EQ ", "bold"), (mode, "dim"),
                         (f"   auto-gain {s.get('autogain_db', 0.0):+.1f} dB", ""))
    return Group(head, Text("\n".join(lines)), bands)


def _health(status: dict) -> Table:
    tm = status.get("timing") or {}
    pr = status.get("process") or {}
    lv = status.get("levels") or {}
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold")
    t.add_column()
    t.add_row("In", Text.assemble(level_bar(lv.get("in_peak_dbfs", -120)),
                                  f" {lv.get('in_peak_dbfs', -120):6.1f} dBFS"))
    t.add_row("Out", Text.assemble(level_bar(lv.get("out_peak_dbfs", -120)),
                                   f" {lv.get('out_peak_dbfs', -120):6.1f} dBFS"))
    if tm.get("p50_us") is not None:
        t.add_row("Callback", f"p50 {tm['p50_us']:.0f} µs  p99 {tm['p99_us']:.0f} µs  "
                              f"load {tm['load_pct']:.1f}% (p99 {tm['load_p99_pct']:.1f}%)")
    t.add_row("Xruns", Text(str(tm.get("xruns", 0)), style="red bold" if tm.get("xruns") else "green"))
    if status.get("latency_ms") is not None:
        t.add_row("MIDI→audio", f"{status['latency_ms']:.1f} ms")
    t.add_row("CPU / RSS", f"{pr.get('cpu_pct', 0):.0f}%  {pr.get('rss_mb', 0):.0f} MB")
    return t


def render_status(status: dict, width: int = 100) -> Panel:
    dev = status.get("device") or {}
    midi = status.get("midi") or {}
    header = Text.assemble(
        ("semeq-live  ", "bold"),
        (f"{dev.get('status', '')}  ", "green" if dev.get("status") == "running" else "red bold"),
        f"{dev.get('output', '?')} · {dev.get('input', '?')} · {dev.get('sample_rate', '?')} Hz · "
        f"{dev.get('block_size', '?')} frames")
    midi_line = Text.assemble(("MIDI ", "bold"), ", ".join(midi.get("ports") or []) or "none (keyboard)",
                              "   last: ", midi.get("last") or "—")
    top = Table.grid(expand=True, padding=(0, 2))
    top.add_column(no_wrap=True)
    top.add_column(min_width=CURVE_WIDTH + 6, no_wrap=True)
    top.add_row(_controls(status), _eq(status, width))
    bottom = Table.grid(expand=True, padding=(0, 2))
    bottom.add_column(ratio=1)
    bottom.add_column(ratio=1)
    bottom.add_row(_profile(status), _health(status))
    parts = [header, midi_line, top, bottom]
    if status.get("record"):
        rec = status["record"]
        parts.append(Text(f"● REC {rec['path']}  {rec['seconds']:.0f} s"
                          + (f"  dropped {rec['dropped']} frames" if rec.get("dropped") else ""),
                          style="red"))
    if status.get("keyboard"):
        parts.append(Text(KEY_HELP, style="dim"))
    return Panel(Group(*parts), title="semantic EQ", border_style="blue")


class PanelThread:
    """Redraws the panel from ``get_status()`` at ``rate`` (capped at 10) redraws per second."""

    def __init__(self, get_status, rate: float = 5.0, console: Console | None = None):
        self.get_status = get_status
        self.interval = 1.0 / min(max(rate, 0.5), MAX_REDRAWS_PER_S)
        self.console = console or Console()
        self.redraws = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "PanelThread":
        self._thread = threading.Thread(target=self._run, name="semeq-panel", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        with Live(console=self.console, auto_refresh=False, transient=False,
                  redirect_stdout=False, redirect_stderr=False) as live:
            while not self._stop.is_set():
                t0 = time.monotonic()
                live.update(render_status(self.get_status(), self.console.width), refresh=True)
                self.redraws += 1
                self._stop.wait(max(self.interval - (time.monotonic() - t0), 0.01))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
