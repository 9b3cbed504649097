"""A compact text plot of an EQ curve, 20 Hz - 20 kHz on a log axis, for the panel and the log."""

from __future__ import annotations

import numpy as np

from ..dsp.design import response_db

F_MIN, F_MAX = 20.0, 20000.0
# In order of priority: the ends of the range first, then the decades that fit.
DECADE_LABELS = ((20.0, "20"), (20000.0, "20k"), (1000.0, "1k"), (100.0, "100"), (10000.0, "10k"))


def plot_grid(width: int) -> np.ndarray:
    """One frequency per text column, log-spaced from 20 Hz to 20 kHz."""
    return np.geomspace(F_MIN, F_MAX, width)


def applied_curve_db(forward, inverse, freqs, sample_rate: float) -> np.ndarray:
    """The response the processor applies: the forward cascade minus the undone ``inverse``."""
    db = response_db(np.asarray(forward, dtype=float), freqs, sample_rate)
    if inverse is not None:
        db = db - response_db(np.asarray(inverse, dtype=float), freqs, sample_rate)
    return db


def curve_lines(curve_db: np.ndarray, height: int = 7, span_db: float | None = None) -> list[str]:
    """Rows of text (top first) plotting ``curve_db`` (one value per column) around a 0 dB line.

    The vertical span is +-``span_db`` (default: the smallest of 6, 12, 18, 24 dB that holds the
    curve). Each row is labelled with its level in dB; a frequency axis line follows.
    """
    db = np.nan_to_num(np.asarray(curve_db, dtype=float))
    width = db.size
    if span_db is None:
        peak = float(np.max(np.abs(db))) if width else 0.0
        span_db = next((s for s in (6.0, 12.0, 18.0, 24.0) if peak <= s), 24.0)
    height = max(3, height | 1)  # odd, so 0 dB has its own row
    mid = height // 2
    rows = np.clip(np.round(mid - db / span_db * mid), 0, height - 1).astype(int)
    grid = [[" "] * width for _ in range(height)]
    for x in range(width):
        grid[mid][x] = "─"
        r = rows[x]
        lo, hi = sorted((r, mid))
        for y in range(lo, hi + 1):  # fill towards 0 dB so boosts and cuts read as areas
            grid[y][x] = "█" if y == r else ("▒" if y != mid else "─")
        grid[r][x] = "━" if r == mid else "█"  # on the 0 dB row the curve is a heavy line
    out = []
    for y in range(height):
        level = (mid - y) / mid * span_db
        label = f"{level:+4.0f} " if y in (0, mid, height - 1) else "     "
        out.append(label + "".join(grid[y]))
    out.append("     " + frequency_axis(width))
    return out


def frequency_axis(width: int) -> str:
    axis = [" "] * width
    grid = plot_grid(width)
    for f, text in DECADE_LABELS:
        x = int(np.argmin(np.abs(np.log(grid) - np.log(f))))
        x = min(x, width - len(text))
        if all(c == " " for c in axis[max(0, x - 1):x + len(text) + 1]):
            axis[x:x + len(text)] = list(text)
    return "".join(axis)
