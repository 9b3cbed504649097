"""A compact text plot of an EQ curve, 20 Hz - 20 kHz on a log axis, for the panel and the log."""

from __future__ import annotations

import numpy as np

from ..dsp.design import response_db

F_MIN, F_MAX = 20.0, 20000.0
# The status dict carries the applied curve at this many log-spaced points; the panel resamples
# it to however many columns the terminal gives the plot (``resample``).
CURVE_POINTS = 160
# In order of priority: the ends of the range first, then the decades, then what else fits.
DECADE_LABELS = ((20.0, "20"), (20000.0, "20k"), (1000.0, "1k"), (100.0, "100"), (10000.0, "10k"),
                 (200.0, "200"), (5000.0, "5k"), (2000.0, "2k"), (500.0, "500"), (50.0, "50"))


def plot_grid(width: int) -> np.ndarray:
    """One frequency per text column, log-spaced from 20 Hz to 20 kHz."""
    return np.geomspace(F_MIN, F_MAX, width)


def resample(curve_db, width: int) -> np.ndarray:
    """A curve on ``plot_grid(n)`` resampled to ``plot_grid(width)`` (same 20 Hz-20 kHz span)."""
    db = np.asarray(curve_db, dtype=float)
    if db.size == width:
        return db
    if db.size < 2:
        return np.full(width, float(db[0]) if db.size else 0.0)
    return np.interp(np.linspace(0.0, db.size - 1.0, width), np.arange(db.size), db)


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
    # Fill from the curve towards 0 dB so boosts and cuts read as areas; the 0 dB row stays a
    # line, and where the curve lies on it, it is a heavy line. (numpy: no per-cell Python.)
    y = np.arange(height)[:, None]
    fill = (y >= np.minimum(rows, mid)) & (y <= np.maximum(rows, mid))
    grid = np.full((height, width), " ", dtype="<U1")
    grid[fill] = "▒"
    grid[mid, :] = "─"
    cols = np.arange(width)
    grid[rows, cols] = np.where(rows == mid, "━", "█")
    out = []
    for y in range(height):
        level = (mid - y) / mid * span_db
        label = f"{level:+4.0f} " if y in (0, mid, height - 1) else "     "
        out.append(label + "".join(grid[y].tolist()))
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
