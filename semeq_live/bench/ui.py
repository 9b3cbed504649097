"""The status panel: cost of one redraw at a small (80x24) and a large (160x50) terminal.

One redraw is what ``PanelThread`` does: ``render_status`` for the terminal's size, then rich
writes it as escape sequences (into memory here, as a terminal would receive it). Baseline,
measured in the same run and interleaved: printing one flat ``Text`` of the same number of
full-width lines, the floor of what writing a screen through rich costs. The status dict is a
real one: the bundled model's vocabulary fields, the engine's settings and its curve.
"""

from __future__ import annotations

import io
import time

import numpy as np

from . import summary_us

SIZES = ((80, 24), (160, 50))


def sample_status(model=None, sample_rate: int = 48000) -> dict:
    """A status dict like ``LiveApp.status()`` for a running app (warm -> bright at 0.4)."""
    from ..control.engine import SemanticEngine
    from ..control.state import ControlState
    from ..midi.palette import resolve_palette
    from ..model import load_model
    from ..ui.curve import CURVE_POINTS, applied_curve_db, plot_grid
    from ..ui.vocab import VocabularyStatus

    model = model or load_model()
    state = ControlState(term_a=model.terms[0], term_b=model.terms[-1], alpha=0.4, intensity=0.8,
                         traverse_x=0.3, scene="verse")
    s = SemanticEngine(model, sample_rate).compute(state, None)
    vocab = VocabularyStatus(model, resolve_palette(None, model))
    z = np.asarray(s.z_target)
    status = {
        **vocab.fields(state.to_dict(), z),
        "finder": None,
        "state": state.to_dict(),
        "settings": {"forward": list(map(float, s.forward)), "inverse": None, "mode": s.mode,
                     "reason": s.reason, "autogain_db": s.autogain_db,
                     "boost_cap": {"max_boost_db": 6.0, "acting": True, "held_back_db": 1.5}},
        "curve_db": applied_curve_db(s.forward, None, plot_grid(CURVE_POINTS), sample_rate),
        "estimate": {"confident": True, "reason": "ok", "profile": model.term_profile(z)},
        "levels": {"in_peak_dbfs": -12.0, "in_rms_dbfs": -20.0, "out_peak_dbfs": -3.0,
                   "out_rms_dbfs": -18.0},
        "timing": {"p50_us": 40.0, "p99_us": 120.0, "max_us": 300.0, "load_pct": 1.5,
                   "load_p99_pct": 4.5, "xruns": 0},
        "process": {"cpu_pct": 9.0, "rss_mb": 280.0},
        "latency_ms": 2.5,
        "midi": {"ports": ["nanoKONTROL2:nanoKONTROL2 MIDI 1"],
                 "last": "control_change channel=0 control=16 value=64"},
        "device": {"status": "running", "output": "system", "input": "system",
                   "sample_rate": sample_rate, "block_size": 128},
        "reference": {"name": "music", "source": "built-in"},
        "protection": {"subsonic_hz": 20.0},
        "record": None,
        "keyboard": True,
    }
    return status


def _console(width: int, height: int):
    from rich.console import Console

    return Console(file=io.StringIO(), width=width, height=height, force_terminal=True,
                   color_system="truecolor", legacy_windows=False)


def run(quick: bool = False) -> dict:
    from rich.text import Text

    from ..ui.panel import render_status

    status = sample_status()
    repeats = 40 if quick else 200
    out: dict = {"redraws": repeats}
    for width, height in SIZES:
        console = _console(width, height)
        flat = Text("\n".join("x" * width for _ in range(height)))
        flat.no_wrap = True

        def redraw():
            console.file = io.StringIO()
            console.print(render_status(status, width, height))
            return console.file.getvalue()

        def floor():
            console.file = io.StringIO()
            console.print(flat)

        text = redraw()
        panel, base = np.empty(repeats), np.empty(repeats)
        for i in range(repeats):  # interleaved: machine noise hits both alike
            t0 = time.perf_counter()
            redraw()
            t1 = time.perf_counter()
            floor()
            panel[i], base[i] = t1 - t0, time.perf_counter() - t1
        key = f"{width}x{height}"
        out[key] = {"panel": summary_us(panel), "flat_text": summary_us(base),
                    "ratio_p50": float(np.median(panel) / np.median(base)),
                    "lines": text.count("\n"),
                    "pct_of_a_core_at_5_redraws_per_s": float(np.median(panel) * 5 * 100)}
    return out
