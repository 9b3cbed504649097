"""Drawing the word map (``semeq_live.model.wordmap``) on a grid of characters.

Words are placed in order of certainty (the most certain get their exact place), each centred on
its point. A word whose place is taken moves to the nearest free spot within a few cells; one that
finds none is not drawn but listed in ``MapDrawing.hidden``, so nothing is silently lost. Words
keep one blank cell between them. Light axes cross at the middle of the latent space (traverse
0, 0); an optional marker (the panel's current position) is drawn first and never covered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Where a displaced word may go: rows nearest first, then columns nearest first.
ROW_OFFSETS = (0, -1, 1, -2, 2)
MAX_SHIFT = 8
MARKER = "●"
AXIS_CHARS = ("·", "+")


@dataclass
class MapDrawing:
    rows: list[str]
    # label -> (row, first column) of every word drawn, and the words that found no room
    placed: dict[str, tuple[int, int]] = field(default_factory=dict)
    hidden: list[str] = field(default_factory=list)
    marker_cell: tuple[int, int] | None = None
    bounds: tuple[float, float, float, float] = (-1.0, 1.0, -1.0, 1.0)  # x0, x1, y0, y1


def _bounds(points, marker) -> tuple[float, float, float, float]:
    xs = [p[1] for p in points] + ([marker[0]] if marker else []) + [0.0]
    ys = [p[2] for p in points] + ([marker[1]] if marker else []) + [0.0]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    # a little room round the outermost words, and never a zero span
    mx, my = max((x1 - x0) * 0.04, 0.05), max((y1 - y0) * 0.06, 0.05)
    return x0 - mx, x1 + mx, y0 - my, y1 + my


def draw_map(points, width: int, height: int, marker=None, bounds=None,
             axes: bool = True) -> MapDrawing:
    """Place ``points`` (``(label, x, y)``, most important first) on a ``width`` x ``height``
    grid. ``marker``: ``(x, y)`` of a position to show as ``●``. y grows upwards."""
    width, height = max(int(width), 4), max(int(height), 2)
    x0, x1, y0, y1 = bounds or _bounds(points, marker)

    def cell(x: float, y: float) -> tuple[int, int]:
        col = int(round((x - x0) / (x1 - x0) * (width - 1)))
        row = int(round((y1 - y) / (y1 - y0) * (height - 1)))
        return min(max(row, 0), height - 1), min(max(col, 0), width - 1)

    grid = [[" "] * width for _ in range(height)]
    taken = [[False] * width for _ in range(height)]
    if axes:
        r0, c0 = cell(0.0, 0.0)
        for c in range(0, width, 2):
            grid[r0][c] = "·"
        for r in range(height):
            grid[r][c0] = "·"
        grid[r0][c0] = "+"
    drawing = MapDrawing(rows=[], bounds=(x0, x1, y0, y1))
    if marker is not None:
        r, c = cell(*marker)
        grid[r][c] = MARKER
        taken[r][c] = True
        drawing.marker_cell = (r, c)

    def free(r: int, start: int, n: int) -> bool:
        if start < 0 or start + n > width:
            return False
        lo, hi = max(start - 1, 0), min(start + n + 1, width)  # keep a blank cell either side
        return not any(taken[r][lo:hi])

    for label, x, y in points:
        n = len(label)
        if n > width:
            drawing.hidden.append(label)
            continue
        r, c = cell(x, y)
        start = min(max(c - n // 2, 0), width - n)
        spot = None
        for dr in ROW_OFFSETS:
            rr = r + dr
            if not 0 <= rr < height:
                continue
            for shift in range(MAX_SHIFT + 1):
                for s in ((start,) if shift == 0 else (start - shift, start + shift)):
                    if free(rr, s, n):
                        spot = (rr, s)
                        break
                if spot:
                    break
            if spot:
                break
        if spot is None:
            drawing.hidden.append(label)
            continue
        rr, s = spot
        grid[rr][s:s + n] = list(label)
        for k in (s - 1, s + n):  # a word never touches an axis dot: it would read as a letter
            if 0 <= k < width and grid[rr][k] in AXIS_CHARS:
                grid[rr][k] = " "
        for k in range(s, s + n):
            taken[rr][k] = True
        drawing.placed[label] = spot
    drawing.rows = ["".join(row) for row in grid]
    return drawing


def map_points(wordmap, terms=None, with_marks: bool = True) -> list[tuple[str, float, float]]:
    """``(label, x, y)`` of ``terms`` (default: every word), most certain first; labels carry the
    certainty mark ('?' medium, '??' low) when ``with_marks``."""
    out = []
    for t in wordmap.by_certainty(terms):
        x, y = wordmap.position(t)
        out.append((t + (wordmap.mark(t) if with_marks else ""), x, y))
    return out


def render_map_text(model, width: int = 80, height: int = 22) -> str:
    """``semeq-live terms --map``: the whole vocabulary, with a title, axes, legend and the words
    that did not fit listed underneath. No line is longer than ``width``."""
    from ..model.wordmap import WordMap

    wm = WordMap(model)
    drawing = draw_map(map_points(wm), width, height)
    n = len(wm.terms)
    lines = [_fit(f"Word map of the model's {n} words: x = traverse X, y = traverse Y, "
                  "+ = centre", width)]
    lines += drawing.rows
    lines.append(_fit("traverse X ->".rjust(width), width))
    if drawing.hidden:
        lines.extend(_wrap("not placed (no room; x, y): " + ", ".join(
            f"{label} ({wm.position(label.rstrip('?'))[0]:+.2f}, "
            f"{wm.position(label.rstrip('?'))[1]:+.2f})" for label in drawing.hidden), width))
    marks = {wm.certainty(t) for t in wm.terms}
    legend = []
    if "medium" in marks:
        legend.append("? = medium certainty")
    if "low" in marks:
        legend.append("?? = low certainty (few people taught the word)")
    if legend:
        lines.extend(_wrap("; ".join(legend) + ".", width))
    lines.extend(_wrap("One unit on the map is what a traverse knob moves from centre to end. "
                       "Close on the map is not always close in sound: "
                       "semeq-live shows the nearest words in the full model space.", width))
    return "\n".join(line.rstrip() for line in lines)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width) or [""]


def print_map(model, width: int | None = None, height: int | None = None,
              as_json: bool = False) -> int:
    """``semeq-live terms --map``: print the map (or, with ``as_json``, the coordinates)."""
    import json
    import shutil

    from ..errors import CLIError
    from ..model.wordmap import WordMap

    if as_json:
        wm = WordMap(model)
        print(json.dumps({"axes": "traverse x, traverse y", "words": [
            {"term": t, "x": round(wm.position(t)[0], 4), "y": round(wm.position(t)[1], 4),
             "certainty": wm.certainty(t)} for t in wm.terms]}, indent=1))
        return 0
    if width is None:
        width = min(shutil.get_terminal_size((80, 24)).columns, 100)
    height = 22 if height is None else height
    if not 40 <= width <= 400 or not 8 <= height <= 200:
        raise CLIError("--width must be 40..400 and --height 8..200")
    print(render_map_text(model, width, height))
    return 0
