"""``python -m tests.far_evidence``: the table of sources far from the built-in
reference (``tests/far_sources.py``) on the default path (``auto``, nothing learned), figured as
``python -m tests.evidence`` figures its default-path table (take seed 2, shaped with the SAFE
mean warm and bright curves), plus the share of the estimates judged against the fitted
reference (``semeq_live/analysis/reference_fit.py``)."""

from __future__ import annotations

import numpy as np

from . import evidence as E
from . import far_sources


def far_source(name: str) -> E.Source:
    make, fs = far_sources.FAR[name]
    return E.Source(name, make(fs, E.SYNTH_SECONDS, seed=E.SYNTH_SHOW_SEED)[:, None], fs, "auto", kind="far")


def far_table(model) -> str:
    rows = ["| source | rate | estimate after the first second (warm- / bright-shaped) | judged against the fitted "
            "reference | right word first | change of warm- / bright-shaped input | difference | "
            "morph with auto-gain, worst 3 s |",
            "|---|---|---|---|---|---|---|---|"]
    for name in far_sources.FAR:
        src = far_source(name)
        w = E.profile_figures(model, src, "warm", "bright")
        b = E.profile_figures(model, src, "bright", "warm")
        fitted = []
        for f in (w, b):
            conf = [e for e in E.settled(f["estimates"]) if e.confident]
            fitted.append(np.mean([e.reference_note is not None for e in conf]) if conf else 0.0)
        ch = E.warm_vs_bright_db(model, src)
        _, parts = E.loudness_errors(src.fs, *E.render_morph(model, src))
        worst = parts[np.argmax(np.abs(parts))] if parts.size else float("nan")
        rows.append(f"| {name} | {src.fs / 1000:g} kHz | {w['estimate']:.0%} / {b['estimate']:.0%} | "
                    f"{fitted[0]:.0%} / {fitted[1]:.0%} | {w['right_word']:.0%} / {b['right_word']:.0%} | "
                    f"{ch['warm']:.2f} / {ch['bright']:.2f} dB | {ch['difference']:+.2f} dB | {worst:+.2f} LU |")
    return "\n".join(rows)


if __name__ == "__main__":
    from semeq_live.model import load_model

    print(far_table(load_model()))
