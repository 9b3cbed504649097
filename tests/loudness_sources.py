"""Sources for the auto-gain evidence beyond the adaptive tables, and their morph figures.

The adaptive tables (``python -m tests.evidence``) have one sung line (``synth_voices.sung_voice``).
Here: sung lines at three pitches, held vowels, a four-part choir (``synth_voices.SUNG_LINES``), an
organ pad and a narrow-band flute line (``synth_sources.LOUDNESS_EXTRA``) and a celesta-like line
whose notes jump register every 0.4-1 s (``INSTRUMENTS``), several takes (seeds) each. Each is played both ways a user
meets it: with the reference they would choose (the built-in ``voice`` for the voices; for the
instruments one learned from another take, the soundcheck) and on the default path (``auto``).

``python -m tests.loudness_sources`` prints the worst 3 s window of the warm -> bright morph with
auto-gain (pyloudnorm) for every take, and of a fixed warm EQ on the register-jumping line (where
the EQ stays put and the notes move its effect); ``tests/test_loudness_evidence.py`` holds them.
"""

from __future__ import annotations

import numpy as np

from . import evidence as E
from . import synth_sources, synth_voices

SEEDS = (2, 3, 4, 5)


def register_mallet(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    """A celesta-like line whose notes jump register every 0.4-1 s: a run of notes (every
    0.125-0.25 s), low (C4-C5) and high (C6-C8: the celesta's top) in turn, now and then the
    octave between. Under one EQ its loudness moves by several dB from one run to the next (the lead's
    held-out celesta piece: spectral centroid 650-2600 Hz from one second to the next)."""
    s = synth_sources
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    out = np.zeros(n)
    pos, low = 0, bool(rng.integers(2))
    while pos < n:
        base, span = (60, 12) if low else (84, 24)
        if rng.uniform() < 0.25:
            base, span = 72, 12
        run_end = pos + int(rng.uniform(0.4, 1.0) * fs)
        while pos < min(n, run_end):
            f = s._midi_hz(int(rng.integers(base, base + span + 1)))
            length = min(n - pos, int(2.0 * fs))
            t = np.arange(length) / fs
            note = np.zeros(length)
            for r, a in zip(s.MALLET_RATIOS, s.MALLET_AMPS):
                if r * f < 0.45 * fs:
                    decay = 0.8 / r * (523.0 / f) ** 0.5  # higher partials and notes die sooner
                    note += a * np.sin(2 * np.pi * r * f * t + rng.uniform(0, 6)) * np.exp(-t / decay)
            out[pos:pos + length] += rng.uniform(0.5, 1.0) * note
            pos += int(rng.choice([0.125, 0.25, 0.25]) * fs)
        low = not low
    return s._norm(s._filter_fft(out, fs, lambda f: s._butter_mag(f, 200.0, 2, "high")))


# name -> (generator, sample rate): instruments of the auto-gain evidence made here.
INSTRUMENTS = {"register-jumping mallet": (register_mallet, 48000)}


def sung_source(name: str, seed: int) -> E.Source:
    make, fs = synth_voices.SUNG_LINES[name]
    return E.Source(f"{name} (seed {seed})", make(fs, E.SYNTH_SECONDS, seed)[:, None], fs, "voice",
                    kind="made voice")


def instrument_source(name: str, seed: int) -> E.Source:
    """The show take and, as the soundcheck, another take (seed + 100)."""
    make, fs = {**synth_sources.LOUDNESS_EXTRA, **INSTRUMENTS}[name]
    return E.Source(f"{name} (seed {seed})", make(fs, E.SYNTH_SECONDS, seed)[:, None], fs, "learned",
                    make(fs, E.SYNTH_SECONDS, seed + 100)[:, None])


def sources(seeds=SEEDS) -> list[E.Source]:
    out = []
    for seed in seeds:
        out += [sung_source(name, seed) for name in synth_voices.SUNG_LINES]
        out += [instrument_source(name, seed) for name in (*synth_sources.LOUDNESS_EXTRA, *INSTRUMENTS)]
    return out


def worst_window_lu(model, src: E.Source, alpha=None) -> float:
    """The morph's (``alpha`` given: that fixed blend's) 3 s window furthest from the input's
    loudness (LU, signed)."""
    _, parts = E.loudness_errors(src.fs, *E.render_morph(model, src, alpha=alpha))
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
    print("\nFixed warm EQ (alpha 0), with its reference / default path:")
    for name in INSTRUMENTS:
        for seed in SEEDS:
            src = instrument_source(name, seed)
            print(f"{src.name}: {worst_window_lu(load_model(), src, 0.0):+.2f} / "
                  f"{worst_window_lu(load_model(), E.default_path(src), 0.0):+.2f} LU")
