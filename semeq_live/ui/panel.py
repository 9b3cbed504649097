"""The ``rich`` status panel: everything a performer or engineer needs at a glance.

``render_status(status, width, height)`` builds the renderable for a terminal of that size from one
status dict (see ``LiveApp.status``), so it is testable without a terminal; ``PanelThread`` redraws
it at most ``MAX_REDRAWS_PER_S`` times a second from its own thread, full-screen, at the size the
terminal has at each redraw. Rendering never touches audio buffers: it reads copies.

Two layouts, both built to fit the size they are given (no line longer than the width, no more
lines than the height):

- **compact** (below ``WIDE_MIN``, e.g. 80x24 over SSH): sections stacked, one or two lines each;
  the EQ curve spans the whole width and the whole 20 Hz-20 kHz range, and grows with the height;
  the key help is abbreviated. Sections drop out least important first if even that is too tall.
- **wide**: controls beside a larger curve and the band table; the input profile, health and a
  small map of the palette's words side by side below; the full key help.

Every line is one flat ``Text``: one flat Text per line costs a few ms per redraw, nested rich
tables and layouts tens of ms.
"""

from __future__ import annotations

import threading
import time

import numpy as np
from rich.console import Console
from rich.live import Live
from rich.panel import Panel
from rich.text import Text

from ..params import BAND_INDEX, BAND_NAMES
from .curve import curve_lines, resample
from .keyboard import FINDER_HELP, key_help_items
from .mapview import draw_map

MAX_REDRAWS_PER_S = 10.0
BAR_WIDTH = 12
WIDE_MIN = (110, 34)  # columns, rows from which the wide layout is used
LEFT = 34  # width of the wide layout's left column
BAND_SHORT = ("LS", "P1", "P2", "P3", "HS")
MIN_CURVE, MAX_CURVE = 3, 11  # rows of the compact layout's curve
CERTAINTY_STYLE = {"": "", "?": "yellow", "??": "dim"}


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


Lines = list


def _row(label: str, value, label_width: int = 10) -> Text:
    t = Text(f"{label:<{label_width}}", style="bold")
    t.append_text(value if isinstance(value, Text) else Text(str(value)))
    return t


def _fit(line: Text, width: int) -> Text:
    if line.cell_len > width:
        line.truncate(width)
    return line


# ------------------------------------------------------------------------ shared pieces
def _marks(status: dict) -> dict:
    return (status.get("vocab") or {}).get("marks") or {}


def _word(term: str, marks: dict, style: str = "") -> Text:
    """A word with its certainty mark; less certain words are dimmer."""
    mark = marks.get(term, "")
    t = Text(term, style=style or CERTAINTY_STYLE[mark])
    if mark:
        t.append(mark, style="yellow")
    return t


def _position(status: dict, slot: str) -> str:
    pal = status.get("palette") or {}
    terms = pal.get("terms") or []
    if not terms:
        return ""
    i = pal.get(f"{slot}_index")
    return f"{'–' if i is None else i + 1}/{len(terms)}"


def _term(status: dict, slot: str, style: str) -> Text:
    st = status["state"]
    t = _word(st[f"term_{slot}"], _marks(status), style)
    pos = _position(status, slot)
    if pos:
        t.append(f" {pos}", style="dim")
    return t


def _where(status: dict) -> Text:
    pos = status.get("position") or {}
    t = Text("now ", style="bold")
    t.append(pos.get("label") or "—")
    near = status.get("nearest") or []
    if near:
        t.append("   nearest ", style="dim")
        marks = _marks(status)
        for i, (term, dist) in enumerate(near):
            if i:
                t.append(" · ", style="dim")
            t.append_text(_word(term, marks))
            t.append(f" {dist:.2f}", style="dim")
    return t


def _switches(st: dict) -> Text:
    t = Text(" BYPASS ", style="black on yellow") if st["bypass"] else \
        Text(" EQ ON ", style="black on green")
    t.append(f"  auto-gain {'on' if st['autogain'] else 'off'}"
             f"  adaptive {'on' if st['adaptive'] else 'off'}")
    return t


def _eq_head(status: dict) -> Text:
    s = status.get("settings") or {}
    head = Text.assemble(("EQ ", "bold"), (s.get("mode", ""), "dim"),
                         f"   auto-gain {s.get('autogain_db', 0.0):+.1f} dB")
    cap = s.get("boost_cap")
    if cap:
        limit = cap.get("max_boost_db")
        head.append(f"   cap {'off' if limit is None else format(limit, '+.0f') + ' dB'}")
        if cap.get("acting"):
            head.append(f" holding {cap.get('held_back_db', 0.0):.1f} dB", style="yellow")
    return head


_CURVE_CACHE: dict = {}


def _curve(status: dict, width: int, height: int) -> Lines:
    """The EQ curve plot, remade only when the curve or the space for it changed."""
    db = status.get("curve_db")
    if db is None or width < 8:
        return []
    db = np.asarray(db, dtype=float)
    key = (db.tobytes(), width, height)
    lines = _CURVE_CACHE.get(key)
    if lines is None:
        lines = [Text(line, style="green") for line in curve_lines(resample(db, width), height)]
        _CURVE_CACHE.clear()
        _CURVE_CACHE[key] = lines
    return lines


def _freq(f: float) -> str:
    return f"{f / 1000:.1f}k" if f >= 1000 else f"{f:.0f}"


def _band_table(status: dict) -> Lines:
    fwd = (status.get("settings") or {}).get("forward")
    if fwd is None:
        return []
    lines = [Text(f"{'band':>10} {'freq':>6} {'gain':>5} {'Q':>5}", style="bold")]
    for name, (gi, fi, qi) in zip(BAND_NAMES, BAND_INDEX):
        f = fwd[fi]
        freq = f"{f / 1000:.2f}k" if f >= 1000 else f"{f:.0f}"
        lines.append(Text(f"{name:>10} {freq:>6} {fwd[gi]:+5.1f} "
                          f"{'—' if qi < 0 else format(fwd[qi], '.2f'):>5}"))
    return lines


def _band_items(status: dict) -> list[str]:
    fwd = (status.get("settings") or {}).get("forward")
    if fwd is None:
        return []
    return [f"{short} {_freq(fwd[fi])} {fwd[gi]:+.1f}" + ("" if qi < 0 else f" q{fwd[qi]:.2f}")
            for short, (gi, fi, qi) in zip(BAND_SHORT, BAND_INDEX)]


def _profile_items(status: dict) -> tuple[bool, list, str]:
    est = status.get("estimate") or {}
    prof = est.get("profile") or []
    if not est.get("confident") or not prof:
        return False, [], str(est.get("reason", "waiting for input"))
    return True, prof, ""


def _extras(status: dict) -> list[str]:
    """Fields other parts add to the status (reference, protection), compactly."""
    out = []
    ref = status.get("reference")
    if ref:
        out.append(f"ref {ref.get('name') or '—'}" + (f" ({ref['source']})" if ref.get("source")
                                                       else ""))
    prot = status.get("protection")
    if prot is not None:
        hz = prot.get("subsonic_hz")
        out.append(f"subsonic {'off' if not hz else format(hz, '.0f') + ' Hz'}")
    return out


def _pack(items: list, width: int, sep: str = "  ", style: str = "") -> Lines:
    """Items (str or Text) joined into as few lines of ``width`` as they take."""
    lines, line = [], Text()
    for item in items:
        t = item if isinstance(item, Text) else Text(item, style=style)
        if line.cell_len and line.cell_len + len(sep) + t.cell_len > width:
            lines.append(line)
            line = Text()
        if line.cell_len:
            line.append(sep, style=style)
        line.append_text(t)
    if line.cell_len:
        lines.append(line)
    return lines


def _keys(status: dict, width: int, long: bool) -> Lines:
    finder = status.get("finder")
    if finder is not None:
        return _finder(status, finder, width)
    if not status.get("keyboard"):
        return []
    return _pack(key_help_items(long=long), width, style="dim")


def _finder(status: dict, view: dict, width: int) -> Lines:
    marks = _marks(status)
    head = Text.assemble((f"find term {view['slot'].upper()}: ", "bold reverse"),
                         (view["query"], "bold"), ("▏", "blink"))
    head.append(f"  {view['count']} match{'es' if view['count'] != 1 else ''}", style="dim")
    if view.get("message"):
        head.append(f"  {view['message']}", style="yellow")
    cands = []
    for i, term in enumerate(view["candidates"]):
        t = _word(term, marks)
        if i == view["selected"]:
            t = Text.assemble(("▶", "bold"), t)
            t.stylize("reverse")
        cands.append(t)
    help_items = [f"{k} {label}" for k, label, _ in FINDER_HELP]
    lines = [head] + (_pack(cands, width, sep=" ")[:1] or [Text("(no match)", style="dim")])
    help_line = Text("   ".join(help_items), style="dim")
    return lines + [help_line]


def _header(status: dict, title: str = "semantic EQ") -> Lines:
    dev = status.get("device") or {}
    midi = status.get("midi") or {}
    running = dev.get("status") == "running"
    head = Text.assemble(
        (f"{title}  ", "bold"), (f"{dev.get('status', '')}  ", "green" if running else "red bold"),
        f"{dev.get('output', '?')} · {dev.get('input', '?')} · {dev.get('sample_rate', '?')} Hz · "
        f"{dev.get('block_size', '?')} frames")
    ports = ", ".join(midi.get("ports") or []) or ("none (keyboard)" if status.get("keyboard")
                                                    else "none")
    return [head, Text.assemble(("MIDI ", "bold"), ports, "   last: ", midi.get("last") or "—")]


def _record(status: dict) -> Lines:
    rec = status.get("record")
    if not rec:
        return []
    return [Text(f"● REC {rec['path']}  {rec['seconds']:.0f} s"
                 + (f"  dropped {rec['dropped']} frames" if rec.get("dropped") else ""),
                 style="red")]


def _levels(status: dict, width: int = 8) -> Text:
    lv = status.get("levels") or {}
    t = Text()
    for label, key in (("In ", "in_peak_dbfs"), ("  Out ", "out_peak_dbfs")):
        db = lv.get(key, -120.0)
        t.append(label, style="bold")
        t.append_text(level_bar(db, width))
        t.append(f" {db:5.1f}")
    t.append(" dBFS")
    return t


def _timing_items(status: dict) -> list:
    tm = status.get("timing") or {}
    pr = status.get("process") or {}
    items = []
    if tm.get("p50_us") is not None:
        items.append(f"cb {tm['p50_us']:.0f}/{tm['p99_us']:.0f} µs")
        items.append(f"load {tm['load_pct']:.1f}%")
    xr = tm.get("xruns", 0)
    items.append(Text(f"xruns {xr}", style="red bold" if xr else "green"))
    items.append(f"CPU {pr.get('cpu_pct', 0):.0f}% {pr.get('rss_mb', 0):.0f} MB")
    if status.get("latency_ms") is not None:
        items.append(f"MIDI→audio {status['latency_ms']:.1f} ms")
    return items + _extras(status)


# ------------------------------------------------------------------------ compact layout
def _compact(status: dict, width: int, height: int) -> Lines:
    st = status["state"]
    marks = _marks(status)
    terms = Text.assemble(("A ", "bold"), _term(status, "a", "cyan bold"), ("   B ", "bold"),
                          _term(status, "b", "magenta bold"),
                          ("   α ", "bold"), f"{bar(st['alpha'], 0, 1, 8)} {st['alpha']:.2f}",
                          ("   k ", "bold"), f"{bar(st['intensity'], 0, 1.5, 8)} "
                                             f"{st['intensity']:.2f}")
    moves = Text.assemble(("xy ", "bold"), f"{st['traverse_x']:+.2f} {st['traverse_y']:+.2f}  ",
                          _switches(st), f"  gain {st['output_gain_db']:+.1f} dB",
                          f"  scene {st.get('scene') or '—'}")
    ok, prof, reason = _profile_items(status)
    if ok:
        profile = Text("input ", style="bold")
        for i, (term, sim) in enumerate(prof[:12]):
            item = _word(term, marks)
            item.append(f" {sim:.2f}", style="dim")
            if i and profile.cell_len + 3 + item.cell_len > width:
                break
            if i:
                profile.append(" · ", style="dim")
            profile.append_text(item)
    else:
        profile = Text.assemble(("input ", "bold"), (f"no estimate: {reason}", "dim"))
    health = _pack([_levels(status)] + _timing_items(status), width)
    bands = _pack(_band_items(status), width, sep=" · ")
    blocks = {  # name: (lines, priority: lower = kept longer)
        "header": (_header(status)[:1], 0), "midi": (_header(status)[1:], 4),
        "terms": ([terms, moves], 0), "where": ([_where(status)], 2),
        "eqhead": ([_eq_head(status)], 3), "profile": ([profile], 2),
        "health": (health, 1), "record": (_record(status), 1),
        "keys": (_keys(status, width, long=False), 0), "bands": (bands, 5),
    }
    order = ("header", "midi", "terms", "where", "eqhead", "curve", "bands", "profile", "health",
             "record", "keys")
    kept = [n for n in order if n != "curve" and blocks[n][0]]

    def rows(names) -> int:
        return sum(len(blocks[n][0]) for n in names)

    # Least important first, drop sections while even the smallest curve (+ its axis) won't fit.
    for name in sorted(kept, key=lambda n: -blocks[n][1]):
        if rows(kept) + MIN_CURVE + 1 <= height or blocks[name][1] == 0:
            break
        kept.remove(name)
    if "bands" in kept and height - rows(kept) - 1 < 5:
        kept.remove("bands")  # a curve of 5 rows says more than the band figures
    spare = height - rows(kept) - 1
    curve_h = min(MAX_CURVE, spare)
    curve_h -= (curve_h + 1) % 2  # odd: 0 dB has its own row
    lines: Lines = []
    for name in order:
        if name == "curve" and curve_h >= MIN_CURVE:
            lines.extend(_curve(status, max(width - 5, 8), curve_h))
        elif name in kept:
            lines.extend(blocks[name][0])
    return lines[:height]


# ------------------------------------------------------------------------ wide layout
def _controls(status: dict) -> Lines:
    st = status["state"]
    box = traverse_box(st["traverse_x"], st["traverse_y"])
    lines = [
        _row("Term A", _term(status, "a", "cyan bold")),
        _row("Term B", _term(status, "b", "magenta bold")),
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


def _profile(status: dict, rows: int) -> Lines:
    lines = [Text("Input profile", style="bold underline")]
    ok, prof, reason = _profile_items(status)
    if not ok:
        return lines + [Text("no estimate:", style="dim"), Text(reason, style="dim")]
    marks = _marks(status)
    for term, sim in prof[:rows]:
        label = _word(term[:12], marks)
        label.truncate(14, pad=True)
        label.append(f"{bar(max(sim, 0.0), 0, 1, 10)} {sim:+.2f}")
        lines.append(label)
    return lines


def _health(status: dict) -> Lines:
    tm = status.get("timing") or {}
    pr = status.get("process") or {}
    lv = status.get("levels") or {}
    lines = []
    for label, key in (("In", "in_peak_dbfs"), ("Out", "out_peak_dbfs")):
        db = lv.get(key, -120.0)
        lines.append(_row(label, Text.assemble(level_bar(db, 10), f" {db:6.1f} dBFS"), 11))
    if tm.get("p50_us") is not None:
        lines.append(_row("Callback", f"p50 {tm['p50_us']:.0f} µs  p99 {tm['p99_us']:.0f} µs", 11))
        lines.append(_row("Load", f"{tm['load_pct']:.1f}%  (p99 {tm['load_p99_pct']:.1f}%)", 11))
    lines.append(_row("Xruns", Text(str(tm.get("xruns", 0)),
                                    style="red bold" if tm.get("xruns") else "green"), 11))
    if status.get("latency_ms") is not None:
        lines.append(_row("MIDI→audio", f"{status['latency_ms']:.1f} ms", 11))
    lines.append(_row("CPU / RSS", f"{pr.get('cpu_pct', 0):.0f}%  {pr.get('rss_mb', 0):.0f} MB", 11))
    ref = status.get("reference")
    if ref:
        lines.append(_row("Reference", f"{ref.get('name') or '—'}"
                          + (f" ({ref['source']})" if ref.get("source") else ""), 11))
    prot = status.get("protection")
    if prot is not None:
        hz = prot.get("subsonic_hz")
        lines.append(_row("Subsonic", "off" if not hz else f"{hz:.0f} Hz high-pass", 11))
    return lines


_MAP_CACHE: dict = {}


def _mini_map(status: dict, width: int, height: int) -> Lines:
    """The palette's words on the word map, with ● where the EQ target is now."""
    vocab = status.get("vocab") or {}
    points = vocab.get("map")
    if not points or width < 20 or height < 4:
        return []
    pos = status.get("position") or {}
    marker = (pos["x"], pos["y"]) if "x" in pos else None
    b = vocab.get("map_bounds")
    if b is not None and marker is not None:  # keep the marker on the map when traverse leaves it
        b = (min(b[0], marker[0]), max(b[1], marker[0]), min(b[2], marker[1]), max(b[3], marker[1]))
    key = (id(points), width, height, b, None if marker is None else
           (round(marker[0], 2), round(marker[1], 2)))
    lines = _MAP_CACHE.get(key)
    if lines is None:
        rows = draw_map(points, width, height - 1, marker=marker, bounds=b).rows
        lines = [Text("Word map (palette)  ● = now", style="bold underline")]
        for r in rows:
            t = Text(r, style="dim")
            t.highlight_regex("●", "bold magenta")
            lines.append(t)
        _MAP_CACHE.clear()  # one entry: the marker moves, the words do not
        _MAP_CACHE[key] = lines
    return lines


def _hjoin(columns: list[Lines], widths: list[int], gap: int = 2) -> Lines:
    """Columns side by side; each cell cut or padded to its column's width."""
    rows = max(len(c) for c in columns)
    out = []
    last = len(columns) - 1
    for i in range(rows):
        line = Text()
        pad = 0
        for k, (col, width) in enumerate(zip(columns, widths)):
            if i >= len(col):
                pad += width + gap
                continue
            cell = col[i]
            n = cell.cell_len
            if n > width:  # rare: cut a copy, the column's own line stays whole
                cell = cell[:width]
                n = width
            if pad:
                line.append(" " * pad)
            line.append_text(cell)
            pad = (width - n + gap) if k < last else 0
        out.append(line)
    return out


def _wide(status: dict, width: int, height: int) -> Lines:
    """Inside a bordered panel: ``width`` x ``height`` are the inner size."""
    lines = _header(status, "semeq-live") + [Text()]
    keys = _keys(status, width, long=True)
    record = _record(status)
    right_w = width - LEFT - 2
    bottom_rows = 9
    # header 3, blank 1 between the blocks, where 1, record, keys; the rest: top and bottom blocks
    fixed = len(lines) + 1 + 1 + len(record) + len(keys)
    bands = _band_table(status)
    top_budget = height - fixed - bottom_rows
    curve_h = max(5, min(15, top_budget - 2 - len(bands)))
    curve_h -= (curve_h + 1) % 2
    right = [_eq_head(status)] + _curve(status, right_w - 5, curve_h) + bands
    left = _controls(status)
    top = _hjoin([left, right], [LEFT, right_w])
    lines += top
    lines.append(_where(status))
    bottom_rows = max(4, height - len(lines) - 1 - len(record) - len(keys))
    health = _health(status)
    health_w = 44
    map_w = width - LEFT - health_w - 4
    cols = [_profile(status, bottom_rows - 1), health]
    widths = [LEFT, health_w]
    mini = _mini_map(status, map_w, bottom_rows) if map_w >= 24 else []
    if mini:
        cols.append(mini)
        widths.append(map_w)
    lines.append(Text())
    lines += _hjoin(cols, widths)[:bottom_rows]
    lines += record + keys
    return lines[:height]


# ------------------------------------------------------------------------ entry points
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
        lines = [_fit(line, width - 4) for line in _wide(status, width - 4, inner_h)]
        return Screen(lines, width, title="semantic EQ")
    return Screen([_fit(line, width) for line in _compact(status, width, height or 10_000)], width)


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
