"""``semeq-live eq``: the EQ the model makes of a term (or a morph of two), as numbers and a plot."""

from __future__ import annotations

import math

NAME = "eq"
HELP = "show the 13 EQ parameters and the curve for a term or a morph of two terms"
ORDER = 21

PLOT_WIDTH = 61
PLOT_HEIGHT = 13
_TICKS_HZ = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)


def add_arguments(p) -> None:
    p.add_argument("--term-a", required=True, metavar="TERM", help="the term (e.g. warm)")
    p.add_argument("--term-b", metavar="TERM", help="second term to morph towards")
    p.add_argument("--alpha", type=float, default=None,
                   help="morph position 0 (term A) .. 1 (term B); default 0.5 with --term-b")
    p.add_argument("--model", metavar="PATH", help="model file (.npz); default: the bundled model")
    p.add_argument("--sample-rate", type=float, default=48000.0,
                   help="sample rate the curve is computed for (default 48000)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _tick_label(hz: float) -> str:
    return f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}"


def text_plot(freqs, db, width: int = PLOT_WIDTH, height: int = PLOT_HEIGHT) -> list[str]:
    """A compact plot of a dB curve over log frequency (20 Hz-20 kHz), as lines of text.

    The vertical range is symmetric around 0 dB, at least +-3 dB, in steps of 3 dB.
    """
    import numpy as np

    freqs, db = np.asarray(freqs, dtype=float), np.asarray(db, dtype=float)
    top = max(3.0, 3.0 * math.ceil(float(np.max(np.abs(db))) / 3.0))
    cols = np.geomspace(20.0, 20000.0, width)
    y = np.interp(np.log(cols), np.log(freqs), db)
    row_of = np.rint((top - y) / (2 * top) * (height - 1)).astype(int).clip(0, height - 1)
    zero_row = (height - 1) // 2
    lines = []
    for r in range(height):
        level = top - 2 * top * r / (height - 1)
        label = f"{level:+5.1f} dB |" if r in (0, zero_row, height - 1) else "         |"
        chars = ["*" if row_of[c] == r else ("-" if r == zero_row else " ") for c in range(width)]
        lines.append(label + "".join(chars))
    axis = [" "] * (width + 8)
    for hz in _TICKS_HZ:
        c = int(round(math.log(hz / 20.0) / math.log(1000.0) * (width - 1)))
        text = _tick_label(hz)
        start = min(max(c - len(text) // 2, 0), width + 8 - len(text))
        if all(ch == " " for ch in axis[start:start + len(text) + 1]):
            axis[start:start + len(text)] = text
    lines.append("          " + "".join(axis).rstrip() + "  Hz")
    return lines


def run(args) -> int:
    import json

    import numpy as np

    from ...dsp import log_frequency_grid, response_db
    from ...errors import CLIError
    from ...model import load_model
    from ...params import BAND_INDEX, BAND_NAMES, PARAM_NAMES, clamp_params

    alpha = args.alpha
    if alpha is None:
        alpha = 0.5 if args.term_b else 0.0
    if not math.isfinite(alpha) or not 0.0 <= alpha <= 1.0:
        raise CLIError(f"--alpha must be between 0 and 1, got {args.alpha}")
    if args.alpha is not None and not args.term_b and alpha != 0.0:
        raise CLIError("--alpha needs --term-b (the term to morph towards)")
    if not args.sample_rate > 0:
        raise CLIError(f"--sample-rate must be positive, got {args.sample_rate}")
    model = load_model(args.model)
    params = clamp_params(model.morph(args.term_a, args.term_b, alpha), args.sample_rate)
    freqs = log_frequency_grid(96, 20.0, min(20000.0, args.sample_rate / 2 * 0.999))
    curve = response_db(params, freqs, args.sample_rate)
    if args.json:
        print(json.dumps({
            "term_a": args.term_a, "term_b": args.term_b, "alpha": alpha,
            "sample_rate": args.sample_rate,
            "params": {n: float(v) for n, v in zip(PARAM_NAMES, params)},
            "curve": {"freqs_hz": [float(f) for f in freqs], "db": [float(v) for v in curve]},
            "model": str(model.path),
        }, indent=1))
        return 0
    title = args.term_a if not args.term_b else f"{args.term_a} -> {args.term_b} at alpha {alpha:g}"
    print(f"EQ for {title}  (peak {curve[np.argmax(np.abs(curve))]:+.1f} dB)")
    print("\n".join(text_plot(freqs, curve)))
    print()
    print(f"{'band':<11} {'gain dB':>8} {'freq Hz':>9} {'Q':>6}")
    for name, (gi, fi, qi) in zip(BAND_NAMES, BAND_INDEX):
        q = f"{params[qi]:6.2f}" if qi >= 0 else "     -"
        print(f"{name:<11} {params[gi]:+8.2f} {params[fi]:9.1f} {q}")
    return 0
