"""A population of made talkers for judging a voice neutral (docs/adaptive.md, "A neutral that fits the
voice"): many voices, none of them the evidence tables' own, so that a rule chosen on a handful
of voices shows whether it carries over.

Each voice draws, from its own seed: the kind (male, female, child), a pitch shift of -4..+4
semitones from the kind's median F0, a vocal-tract scale of 0.9-1.1 on the kind's formants (a
longer or shorter tract than the average talker of that kind: the formants move, F0 does not), a
voice quality (breathy: a steeper glottal roll-off and more aspiration; modal; pressed: a flatter
roll-off, little aspiration) and a sample rate of 16-48 kHz. A voice quality tilts the spectrum
as an EQ would, so no EQ-invariant cue can predict it: it is what any built-in neutral must
leave unexplained.

``python -m tests.voice_population`` prints each voice's figures against the voice neutral in
use (right word for the warm- and bright-shaped take, warm-vs-bright difference) and their
summary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import synth_voices

KINDS = ("male", "female", "child")
RATES = (16000, 22050, 32000, 44100, 48000)
# Glottal roll-off corner (Hz; two one-poles: -12 dB/octave above it) and aspiration (against
# the pulses' RMS) per voice quality: modal is the made talkers' own.
QUALITIES = {"breathy": (70.0, 0.12), "modal": (100.0, 0.03), "pressed": (150.0, 0.01)}
SEEDS = range(100, 124)  # 24 voices, 8 of each kind; the evidence's voices use seeds 1-13


@dataclass(frozen=True)
class PopulationVoice:
    seed: int
    kind: str
    f0_shift_st: float
    tract_scale: float
    quality: str
    fs: int

    @property
    def name(self) -> str:
        return (f"{self.kind} {self.seed} ({self.f0_shift_st:+.1f} st, tract x{self.tract_scale:.2f}, "
                f"{self.quality}, {self.fs / 1000:g} kHz)")

    def render(self, seconds: float = 10.0) -> np.ndarray:
        corner, aspiration = QUALITIES[self.quality]
        return synth_voices.spoken_voice(self.fs, seconds, self.seed, self.kind, f0_shift_st=self.f0_shift_st,
                                         formant_scale=self.tract_scale, glottal_hz=corner,
                                         aspiration=aspiration)


def population(seeds=SEEDS) -> list[PopulationVoice]:
    out = []
    for i, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        out.append(PopulationVoice(seed, KINDS[i % len(KINDS)], round(float(rng.uniform(-4.0, 4.0)), 1),
                                   round(float(rng.uniform(0.9, 1.1)), 2),
                                   str(rng.choice(list(QUALITIES))), int(rng.choice(RATES))))
    return out


def population_source(voice: PopulationVoice, seconds: float = 10.0):
    """A population voice as the evidence plays a made voice: against the chosen ``voice``
    reference, nothing learned (``evidence.Source``)."""
    from . import evidence as E

    return E.Source(voice.name, voice.render(seconds)[:, None], voice.fs, "voice", kind="made voice")


def figures(model, src) -> dict:
    """Right word for the warm- and the bright-shaped take (share of the estimates after the
    first second) and the warm-vs-bright difference (dB), as ``python -m tests.evidence``."""
    from . import evidence as E

    warm = E.profile_figures(model, src, "warm", "bright")["right_word"]
    bright = E.profile_figures(model, src, "bright", "warm")["right_word"]
    return {"warm": warm, "bright": bright, "difference": E.warm_vs_bright_db(model, src)["difference"]}


def auto_decisions(model, voice: PopulationVoice) -> dict:
    """Auto's decision log for the warm- and the bright-shaped take (default path)."""
    from . import evidence as E

    src = population_source(voice)
    return {shape: E.auto_choice(model, src, shape)["log"] for shape in ("warm", "bright")}


def summary(rows) -> str:
    """Mean right word and difference, per kind and over all."""
    lines = []
    for kind in (*KINDS, None):
        sel = [f for v, f in rows if kind is None or v.kind == kind]
        warm = np.array([f["warm"] for f in sel])
        bright = np.array([f["bright"] for f in sel])
        diff = np.array([f["difference"] for f in sel])
        lines.append(f"{kind or 'all'} ({len(sel)}): right word warm-shaped {warm.mean():.0%} (>= 90 %: "
                     f"{np.sum(warm >= 0.9)}), bright-shaped {bright.mean():.0%} (>= 90 %: {np.sum(bright >= 0.9)}); "
                     f"difference {diff.mean():+.2f} dB (lowest {diff.min():+.2f}, >= 3 dB: {np.sum(diff >= 3.0)})")
    return "\n".join(lines)


if __name__ == "__main__":
    from semeq_live.model import load_model

    model = load_model()
    rows = []
    print("| voice | right word, warm- / bright-shaped | difference | auto's decisions (warm- / bright-shaped) |")
    print("|---|---|---|---|")
    for voice in population():
        f = figures(model, population_source(voice))
        rows.append((voice, f))
        auto = auto_decisions(model, voice)
        said = " / ".join("; ".join(line.replace("auto → ", "") for line in auto[s]) for s in ("warm", "bright"))
        print(f"| {voice.name} | {f['warm']:.0%} / {f['bright']:.0%} | {f['difference']:+.2f} dB | {said} |", flush=True)
    print()
    print(summary(rows))
