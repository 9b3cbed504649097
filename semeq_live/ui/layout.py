"""The panel's two layouts, each filling exactly the size it is given.

- ``compact`` (below ``WIDE_MIN``, e.g. 80x24 over SSH): sections stacked, one or two lines each;
  the EQ curve spans the whole width and the whole 20 Hz-20 kHz range and grows with the height;
  the key help is abbreviated. If even that is too tall, sections drop out least important first
  (the header, the terms, the curve and the keys stay).
- ``wide``: controls beside a larger curve and the band table; the input profile, health and a
  small word map of the palette side by side below; the full key help.
"""

from __future__ import annotations

from rich.text import Text

from . import sections
from .sections import Lines, bar

WIDE_MIN = (110, 34)  # columns, rows from which the wide layout is used
LEFT = 34  # width of the wide layout's left column
MIN_CURVE, MAX_CURVE = 3, 11  # rows of the compact layout's curve


def compact(status: dict, width: int, height: int) -> Lines:
    st = status["state"]
    terms = Text.assemble(("A ", "bold"), sections.term_text(status, "a", "cyan bold"),
                          ("   B ", "bold"), sections.term_text(status, "b", "magenta bold"),
                          ("   α ", "bold"), f"{bar(st['alpha'], 0, 1, 8)} {st['alpha']:.2f}",
                          ("   k ", "bold"), f"{bar(st['intensity'], 0, 1.5, 8)} "
                                             f"{st['intensity']:.2f}")
    moves = Text.assemble(("xy ", "bold"), f"{st['traverse_x']:+.2f} {st['traverse_y']:+.2f}  ",
                          sections.switches_text(st), f"  gain {st['output_gain_db']:+.1f} dB",
                          f"  scene {st.get('scene') or '—'}")
    profile = sections.profile_line(status, width)
    health = sections.pack([sections.levels_text(status)] + sections.timing_items(status), width)
    bands = sections.pack(sections.band_items(status), width, sep=" · ")
    header = sections.header_lines(status)
    blocks = {  # name: (lines, priority: lower = kept longer)
        "header": (header[:1], 0), "midi": (header[1:], 4),
        "terms": ([terms, moves], 0), "where": ([sections.where_text(status)], 2),
        "eqhead": ([sections.eq_head(status)], 3), "profile": ([profile], 2),
        "health": (health, 1), "record": (sections.record_lines(status), 1),
        "keys": (sections.key_lines(status, width, long=False), 0), "bands": (bands, 5),
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
            lines.extend(sections.curve_plot(status, max(width - 5, 8), curve_h))
        elif name in kept:
            lines.extend(blocks[name][0])
    return lines[:height]


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


def wide(status: dict, width: int, height: int) -> Lines:
    """Inside a bordered panel: ``width`` x ``height`` are the inner size."""
    lines = sections.header_lines(status, "semeq-live") + [Text()]
    keys = sections.key_lines(status, width, long=True)
    record = sections.record_lines(status)
    right_w = width - LEFT - 2
    bottom_rows = 9
    # header 3, blank 1 between the blocks, where 1, record, keys; the rest: top and bottom blocks
    fixed = len(lines) + 1 + 1 + len(record) + len(keys)
    bands = sections.band_table(status)
    top_budget = height - fixed - bottom_rows
    curve_h = max(5, min(15, top_budget - 2 - len(bands)))
    curve_h -= (curve_h + 1) % 2
    right = [sections.eq_head(status)] + sections.curve_plot(status, right_w - 5, curve_h) + bands
    left = sections.control_lines(status)
    top = _hjoin([left, right], [LEFT, right_w])
    lines += top
    lines.append(sections.where_text(status))
    bottom_rows = max(4, height - len(lines) - 1 - len(record) - len(keys))
    health = sections.health_lines(status)
    health_w = 44
    map_w = width - LEFT - health_w - 4
    cols = [sections.profile_lines(status, bottom_rows - 1), health]
    widths = [LEFT, health_w]
    mini = sections.mini_map(status, map_w, bottom_rows) if map_w >= 24 else []
    if mini:
        cols.append(mini)
        widths.append(map_w)
    lines.append(Text())
    lines += _hjoin(cols, widths)[:bottom_rows]
    lines += record + keys
    return lines[:height]


