"""Sources for the auto-gain evidence beyond the adaptive tables, and their morph figures.

The adaptive tables (``python -m tests.evidence``) have one sung line, and its formant changes
click (``synth_voices.sung_voice``). Here: smooth sung lines at three pitches, held vowels, a
four-part choir (``synth_voices.SUNG_LINES``), an organ pad and a narrow-band flute line
(``synth_sources.LOUDNESS_EXTRA``), several takes (seeds) each. Each is played both ways a user
meets it: with the reference they would choose (the built-in ``voice`` for the voices; for the
instruments one learned from another take, the soundcheck) and on the default path (``auto``).

``python -m tests.loudness_sources`` prints the worst 3 s window of the warm -> bright morph with
auto-gain (pyloudnorm) for every take; ``tests/test_loudness_evidence.py`` holds them.
"""

from __future__ import annotations

import numpy as np

from . import evidence as E
from . import synth_sources, synth_voices

SEEDS = (2, 3, 4, 5)


def sung_source(name: str, seed: int) -> E.Source:
    make, fs = synth_voices.SUNG_LINES[name]
    return E.Source(f"{name} (seed {seed})", make(fs, E.SYNTH_SECONDS, seed)[:, None], fs, "voice",
                    kind="made voice")


def instrument_source(name: str, seed: int) -> E.Source:
    """The show take and, as the soundcheck, another take (seed + 100)."""
    make, fs = synth_sources.LOUDNESS_EXTRA[name]
    return E.Source(f"{name} (seed {seed})", make(fs, E.SYNTH_SECONDS, seed)[:, None], fs, "learned",
                    make(fs, E.SYNTH_SECONDS, seed + 100)[:, None])


def sources(seeds=SEEDS) -> list[E.Source]:
    out = []
    for seed in seeds:
        out += [sung_source(name, seed) for name in synth_voices.SUNG_LINES]
        out += [instrument_source(name, seed) for name in synth_sources.LOUDNESS_EXTRA]
    return out


def worst_window_lu(model, src: E.Source) -> float:
    """The morph's 3 s window furthest from the input's loudness (LU, signed)."""
    _, parts = E.loudness_errors(src.fs, *E.render_morph(model, src))
    return float(parts[np.argmax(np.abs(parts))])


def figures(model, seeds=SEEDS) -> list[tuple[str, float, float]]:
    """``(source, worst 3 s with its reference, worst 3 s on the default path)`` per take."""
    return [(src.name, worst_window_lu(model, src), worst_window_lu(model, E.default_path(src)))
            for src in sources(seeds)]


if __name__ == "__main__":
    from semeq_live.model import load_model

    rows = figures(load_model())
    print("| source | with its reference | default path (auto) |\n|---|---|---|")
    for name, ref, auto in rows:
        print(f"| {name} | {ref:+.2f} LU | {auto:+.2f} LU |")
    every = np.abs([v for _, ref, auto in rows for v in (ref, auto)])
    print(f"\n{every.size} takes: worst {every.max():.2f} LU, mean {every.mean():.2f}, "
          f"over 1 LU: {int((every > 1.0).sum())}")
