"""The panel's building blocks: one function per piece of the status, as single-line ``Text``s.

Each takes the status dict (``LiveApp.status``; every field but ``state`` may be missing) and
returns a ``Text`` or a list of them (``Lines``), cut to nothing wider than asked. The layouts
(``ui.layout``) arrange them; nothing here knows the terminal's size beyond the width it is given.
Slow parts (the curve plot, the word map) are cached on their inputs.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text

from ..params import BAND_INDEX, BAND_NAMES
from .curve import curve_lines, resample
from .keyboard import FINDER_HELP, key_help_items
from .mapview import draw_map

BAR_WIDTH = 12
BAND_SHORT = ("LS", "P1", "P2", "P3", "HS")
CERTAINTY_STYLE = {"": "", "?": "yellow", "??": "dim"}
Lines = list


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


def labelled(label: str, value, label_width: int = 10) -> Text:
    t = Text(f"{label:<{label_width}}", style="bold")
    t.append_text(value if isinstance(value, Text) else Text(str(value)))
    return t


def fit(line: Text, width: int) -> Text:
    if line.cell_len > width:
        line.truncate(width)
    return line


# ------------------------------------------------------------------------ shared pieces
def certainty_marks(status: dict) -> dict:
    return (status.get("vocab") or {}).get("marks") or {}


def word_text(term: str, marks: dict, style: str = "") -> Text:
    """A word with its certainty mark; less certain words are dimmer."""
    mark = marks.get(term, "")
    t = Text(term, style=style or CERTAINTY_STYLE[mark])
    if mark:
        t.append(mark, style="yellow")
    return t


def palette_pos(status: dict, slot: str) -> str:
    pal = status.get("palette") or {}
    terms = pal.get("terms") or []
    if not terms:
        return ""
    i = pal.get(f"{slot}_index")
    return f"{'–' if i is None else i + 1}/{len(terms)}"


def term_text(status: dict, slot: str, style: str) -> Text:
    st = status["state"]
    t = word_text(st[f"term_{slot}"], certainty_marks(status), style)
    pos = palette_pos(status, slot)
    if pos:
        t.append(f" {pos}", style="dim")
    return t


def where_text(status: dict) -> Text:
    pos = status.get("position") or {}
    t = Text("now ", style="bold")
    t.append(pos.get("label") or "—")
    near = status.get("nearest") or []
    if near:
        t.append("   nearest ", style="dim")
        marks = certainty_marks(status)
        for i, (term, dist) in enumerate(near):
            if i:
                t.append(" · ", style="dim")
            t.append_text(word_text(term, marks))
            t.append(f" {dist:.2f}", style="dim")
    return t


def switches_text(st: dict) -> Text:
    t = Text(" BYPASS ", style="black on yellow") if st["bypass"] else \
        Text(" EQ ON ", style="black on green")
    t.append(f"  auto-gain {'on' if st['autogain'] else 'off'}"
             f"  adaptive {'on' if st['adaptive'] else 'off'}")
    return t


def eq_head(status: dict) -> Text:
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


def curve_plot(status: dict, width: int, height: int) -> Lines:
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


def freq(f: float) -> str:
    return f"{f / 1000:.1f}k" if f >= 1000 else f"{f:.0f}"


def band_table(status: dict) -> Lines:
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


def band_items(status: dict) -> list[str]:
    fwd = (status.get("settings") or {}).get("forward")
    if fwd is None:
        return []
    return [f"{short} {freq(fwd[fi])} {fwd[gi]:+.1f}" + ("" if qi < 0 else f" q{fwd[qi]:.2f}")
            for short, (gi, fi, qi) in zip(BAND_SHORT, BAND_INDEX)]


def profile_items(status: dict) -> tuple[bool, list, str]:
    est = status.get("estimate") or {}
    prof = est.get("profile") or []
    if not est.get("confident") or not prof:
        return False, [], str(est.get("reason", "waiting for input"))
    return True, prof, ""


def extra_items(status: dict) -> list[str]:
    """Fields other parts add to the status (reference, protection), compactly."""
    out = []
    ref = status.get("reference")
    if ref:
        out.append(f"ref {ref.get('name') or '—'}" + (f" ({ref['source']})" if ref.get("source")
                                                       else ""))
        if ref.get("fit"):  # fitted to a source far from it: say so (analysis/reference_fit.py)
            out.append(_fitted_text(ref))
    prot = status.get("protection")
    if prot is not None:
        hz = prot.get("subsonic_hz")
        out.append(f"subsonic {'off' if not hz else format(hz, '.0f') + ' Hz'}")
    return out


def _fitted_text(ref: dict) -> str:
    """The fitted reference, short enough for a narrow panel (the log and ``analyze`` give the
    whole note and what to do): "ref fitted +10 dB/oct to the source"."""
    tilt = ref.get("fit_tilt_db_per_oct")
    return f"ref fitted {'' if tilt is None else format(tilt, '+.0f') + ' dB/oct '}to the source"


def pack(items: list, width: int, sep: str = "  ", style: str = "") -> Lines:
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


def key_lines(status: dict, width: int, long: bool) -> Lines:
    finder = status.get("finder")
    if finder is not None:
        return finder_lines(status, finder, width)
    if not status.get("keyboard"):
        return []
    return pack(key_help_items(long=long), width, style="dim")


def finder_lines(status: dict, view: dict, width: int) -> Lines:
    marks = certainty_marks(status)
    head = Text.assemble((f"find term {view['slot'].upper()}: ", "bold reverse"),
                         (view["query"], "bold"), ("▏", "blink"))
    head.append(f"  {view['count']} match{'es' if view['count'] != 1 else ''}", style="dim")
    if view.get("message"):
        head.append(f"  {view['message']}", style="yellow")
    cands = []
    for i, term in enumerate(view["candidates"]):
        t = word_text(term, marks)
        if i == view["selected"]:
            t = Text.assemble(("▶", "bold"), t)
            t.stylize("reverse")
        cands.append(t)
    help_items = [f"{k} {label}" for k, label, _ in FINDER_HELP]
    lines = [head] + (pack(cands, width, sep=" ")[:1] or [Text("(no match)", style="dim")])
    help_line = Text("   ".join(help_items), style="dim")
    return lines + [help_line]


def header_lines(status: dict, title: str = "semantic EQ") -> Lines:
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


def record_lines(status: dict) -> Lines:
    rec = status.get("record")
    if not rec:
        return []
    return [Text(f"● REC {rec['path']}  {rec['seconds']:.0f} s"
                 + (f"  dropped {rec['dropped']} frames" if rec.get("dropped") else ""),
                 style="red")]


def levels_text(status: dict, width: int = 8) -> Text:
    lv = status.get("levels") or {}
    t = Text()
    for label, key in (("In ", "in_peak_dbfs"), ("  Out ", "out_peak_dbfs")):
        db = lv.get(key, -120.0)
        t.append(label, style="bold")
        t.append_text(level_bar(db, width))
        t.append(f" {db:5.1f}")
    t.append(" dBFS")
    return t


def timing_items(status: dict) -> list:
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
    return items + extra_items(status)


def control_lines(status: dict) -> Lines:
    st = status["state"]
    box = traverse_box(st["traverse_x"], st["traverse_y"])
    lines = [
        labelled("Term A", term_text(status, "a", "cyan bold")),
        labelled("Term B", term_text(status, "b", "magenta bold")),
        labelled("α", f"{bar(st['alpha'], 0, 1)} {st['alpha']:.2f}"),
        labelled("Intensity", f"{bar(st['intensity'], 0, 1.5)} {st['intensity']:.2f}"),
        labelled("Traverse", f"{box[0]}  x {st['traverse_x']:+.2f}"),
    ]
    lines.append(labelled("", f"{box[1]}  y {st['traverse_y']:+.2f}"))
    lines.extend(labelled("", row) for row in box[2:])
    lines.append(labelled("", Text(" BYPASS ", style="black on yellow") if st["bypass"]
                      else Text(" EQ ON ", style="black on green")))
    lines.append(labelled("", f"auto-gain {'on' if st['autogain'] else 'off'}"))
    lines.append(labelled("", f"adaptive {'on' if st['adaptive'] else 'off'}"))
    lines.append(labelled("Scene", st.get("scene") or "—"))
    lines.append(labelled("Out gain", f"{st['output_gain_db']:+.1f} dB"))
    return lines


def profile_line(status: dict, width: int) -> Text:
    """The input's top words on one line, as many as fit."""
    ok, prof, reason = profile_items(status)
    if not ok:
        return Text.assemble(("input ", "bold"), (f"no estimate: {reason}", "dim"))
    marks = certainty_marks(status)
    line = Text("input ", style="bold")
    for i, (term, sim) in enumerate(prof[:12]):
        item = word_text(term, marks)
        item.append(f" {sim:.2f}", style="dim")
        if i and line.cell_len + 3 + item.cell_len > width:
            break
        if i:
            line.append(" · ", style="dim")
        line.append_text(item)
    return line


def profile_lines(status: dict, rows: int) -> Lines:
    lines = [Text("Input profile", style="bold underline")]
    ok, prof, reason = profile_items(status)
    if not ok:
        return lines + [Text("no estimate:", style="dim"), Text(reason, style="dim")]
    marks = certainty_marks(status)
    for term, sim in prof[:rows]:
        label = word_text(term[:12], marks)
        label.truncate(14, pad=True)
        label.append(f"{bar(max(sim, 0.0), 0, 1, 10)} {sim:+.2f}")
        lines.append(label)
    return lines


def health_lines(status: dict) -> Lines:
    tm = status.get("timing") or {}
    pr = status.get("process") or {}
    lv = status.get("levels") or {}
    lines = []
    for label, key in (("In", "in_peak_dbfs"), ("Out", "out_peak_dbfs")):
        db = lv.get(key, -120.0)
        lines.append(labelled(label, Text.assemble(level_bar(db, 10), f" {db:6.1f} dBFS"), 11))
    if tm.get("p50_us") is not None:
        lines.append(labelled("Callback", f"p50 {tm['p50_us']:.0f} µs  p99 {tm['p99_us']:.0f} µs", 11))
        lines.append(labelled("Load", f"{tm['load_pct']:.1f}%  (p99 {tm['load_p99_pct']:.1f}%)", 11))
    lines.append(labelled("Xruns", Text(str(tm.get("xruns", 0)),
                                    style="red bold" if tm.get("xruns") else "green"), 11))
    if status.get("latency_ms") is not None:
        lines.append(labelled("MIDI→audio", f"{status['latency_ms']:.1f} ms", 11))
    lines.append(labelled("CPU / RSS", f"{pr.get('cpu_pct', 0):.0f}%  {pr.get('rss_mb', 0):.0f} MB", 11))
    ref = status.get("reference")
    if ref:
        lines.append(labelled("Reference", f"{ref.get('name') or '—'}"
                          + (f" ({ref['source']})" if ref.get("source") else ""), 11))
        if ref.get("fit"):
            lines.append(labelled("Ref fitted", Text(_fitted_text(ref)[len("ref fitted "):], style="yellow"), 11))
    prot = status.get("protection")
    if prot is not None:
        hz = prot.get("subsonic_hz")
        lines.append(labelled("Subsonic", "off" if not hz else f"{hz:.0f} Hz high-pass", 11))
    return lines


_MAP_CACHE: dict = {}


def mini_map(status: dict, width: int, height: int) -> Lines:
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


