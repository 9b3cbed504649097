"""The ``rich`` status panel: everything a performer or engineer needs at a glance.

``render_status(status)`` builds the renderable from one status dict (see ``LiveApp.status``), so it
is testable without a terminal; ``PanelThread`` redraws it at most ``MAX_REDRAWS_PER_S`` times a
second from its own thread. Rendering never touches audio buffers: it reads copies of the metrics.
"""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.live import Live
from rich.panel import Panel
from rich.text import Text

from ..params import BAND_INDEX, BAND_NAMES
from .curve import curve_lines

MAX_REDRAWS_PER_S = 10.0
BAR_WIDTH = 12
CURVE_WIDTH = 52
KEY_HELP = ("keys: a/A b/B terms  ,/. morph  -/= intensity  h/l j/k traverse  9/0 gain",
            "      space bypass  g auto-gain  d adaptive  r learn ref  ! panic  q quit")


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


# Sections are built as lists of single-line ``Text`` objects laid side by side by ``_hjoin``:
# one flat Text per redraw costs a few ms, where nested rich tables cost tens of ms.
Lines = list


def _row(label: str, value, label_width: int = 10) -> Text:
    t = Text(f"{label:<{label_width}}", style="bold")
    t.append_text(value if isinstance(value, Text) else Text(str(value)))
    return t


def _controls(status: dict) -> Lines:
    st = status["state"]
    box = traverse_box(st["traverse_x"], st["traverse_y"])
    lines = [
        _row("Term A", Text(st["term_a"], style="cyan bold")),
        _row("Term B", Text(st["term_b"], style="magenta bold")),
        _row("α", f"{bar(st['alpha'], 0, 1)} {st['alpha']:.2f}"),
        _row("Intensity", f"{bar(st['intensity'], 0, 1.5)} {st['intensity']:.2f}"),
        _row("Traverse", f"{box[0]}  x {st['traverse_x']:+.2f}"),
    ]
    lines.append(_row("", f"{box[1]}  y {st['traverse_y']:+.2f}"))
    lines.extend(_row("", row) for row in box[2:])
    lines.append(_row("", Text(" BYPASS ", style="black on yellow") if st["bypass"]
                      else Text(" EQ ON ", style="black on green")))
    lines.append(_row("", f"auto-gain {'on' if st['autogain'] else 'off'}"))
    lines.append(_row("", f"adaptive {'on' if st['adaptive'] else 'off'}"))
    lines.append(_row("Scene", st.get("scene") or "—"))
    lines.append(_row("Out gain", f"{st['output_gain_db']:+.1f} dB"))
    return lines


def _profile(status: dict) -> Lines:
    est = status.get("estimate") or {}
    lines = [Text("Input profile", style="bold underline")]
    prof = est.get("profile") or []
    if not est.get("confident") or not prof:
        lines.append(Text("no estimate:", style="dim"))
        lines.append(Text(str(est.get("reason", "waiting for input")), style="dim"))
    else:
        for term, sim in prof[:6]:
            lines.append(_row(term[:13], f"{bar(max(sim, 0.0), 0, 1)} {sim:+.2f}", 14))
    return lines


def _eq(status: dict) -> Lines:
    s = status.get("settings") or {}
    head = Text.assemble(("EQ ", "bold"), (s.get("mode", ""), "dim"),
                         f"   auto-gain {s.get('autogain_db', 0.0):+.1f} dB")
    lines = [head]
    if status.get("curve_db") is not None:
        lines.extend(Text(line, style="green") for line in curve_lines(status["curve_db"], height=7))
    fwd = s.get("forward")
    if fwd is not None:
        lines.append(Text(f"{'band':>10} {'freq':>6} {'gain':>5} {'Q':>5}", style="bold"))
        for name, (gi, fi, qi) in zip(BAND_NAMES, BAND_INDEX):
            f = fwd[fi]
            freq = f"{f / 1000:.2f}k" if f >= 1000 else f"{f:.0f}"
            lines.append(Text(f"{name:>10} {freq:>6} {fwd[gi]:+5.1f} "
                              f"{'—' if qi < 0 else format(fwd[qi], '.2f'):>5}"))
    return lines


def _health(status: dict) -> Lines:
    tm = status.get("timing") or {}
    pr = status.get("process") or {}
    lv = status.get("levels") or {}
    lines = []
    for label, key in (("In", "in_peak_dbfs"), ("Out", "out_peak_dbfs")):
        db = lv.get(key, -120.0)
        lines.append(_row(label, Text.assemble(level_bar(db), f" {db:6.1f} dBFS"), 11))
    if tm.get("p50_us") is not None:
        lines.append(_row("Callback", f"p50 {tm['p50_us']:.0f} µs  p99 {tm['p99_us']:.0f} µs", 11))
        lines.append(_row("Load", f"{tm['load_pct']:.1f}%  (p99 {tm['load_p99_pct']:.1f}%)", 11))
    lines.append(_row("Xruns", Text(str(tm.get("xruns", 0)),
                                    style="red bold" if tm.get("xruns") else "green"), 11))
    if status.get("latency_ms") is not None:
        lines.append(_row("MIDI→audio", f"{status['latency_ms']:.1f} ms", 11))
    lines.append(_row("CPU / RSS", f"{pr.get('cpu_pct', 0):.0f}%  {pr.get('rss_mb', 0):.0f} MB", 11))
    return lines


def _hjoin(columns: list[Lines], widths: list[int], gap: int = 2) -> Lines:
    rows = max(len(c) for c in columns)
    out = []
    for i in range(rows):
        line = Text()
        for col, width in zip(columns, widths):
            cell = col[i].copy() if i < len(col) else Text()
            cell.truncate(width, pad=True)
            line.append_text(cell)
            line.append(" " * gap)
        line.rstrip()
        out.append(line)
    return out


def render_status(status: dict, width: int = 100) -> Panel:
    dev = status.get("device") or {}
    midi = status.get("midi") or {}
    lines = [Text.assemble(
        ("semeq-live  ", "bold"),
        (f"{dev.get('status', '')}  ", "green" if dev.get("status") == "running" else "red bold"),
        f"{dev.get('output', '?')} · {dev.get('input', '?')} · {dev.get('sample_rate', '?')} Hz · "
        f"{dev.get('block_size', '?')} frames")]
    lines.append(Text.assemble(("MIDI ", "bold"), ", ".join(midi.get("ports") or [])
                               or ("none (keyboard)" if status.get("keyboard") else "none"),
                               "   last: ", midi.get("last") or "—"))
    lines.append(Text())
    left = 34
    lines += _hjoin([_controls(status), _eq(status)], [left, CURVE_WIDTH + 6])
    lines.append(Text())
    lines += _hjoin([_profile(status), _health(status)], [left, max(width - left - 8, 30)])
    if status.get("record"):
        rec = status["record"]
        lines.append(Text(f"● REC {rec['path']}  {rec['seconds']:.0f} s"
                          + (f"  dropped {rec['dropped']} frames" if rec.get("dropped") else ""),
                          style="red"))
    if status.get("keyboard"):
        lines.extend(Text(h, style="dim") for h in KEY_HELP)
    body = Text("\n").join(lines)
    body.no_wrap, body.overflow = True, "crop"  # cropping a flat text is cheap; wrapping is not
    return Panel(body, title="semantic EQ", border_style="blue")


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
