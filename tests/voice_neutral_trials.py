"""Trials of a voice neutral that fits the voice at hand (docs/adaptive.md, "A neutral that fits the voice"):
``python -m tests.voice_neutral_trials`` prints each candidate's figures on the made-talker
population (``voice_population``), on the evidence's made talkers and on the two shared speech
clips (held out: never used to choose a candidate or a constant).

A static EQ does not move a voice's F0 or its formants, it tilts its spectrum; so a neutral may
follow F0 and the vocal tract's length, not the voice's tilt. Candidates (each replaces the
voice reference the analyzer builds once it knows the talker's F0; ``ReferenceSpectrum.voice``
is swapped for the run, nothing else changes):

- ``ansi``: the built-in voice reference (ANSI S3.5 speech spectrum, judged from 0.8 x F0 up);
- ``tract from F0``: the ANSI spectrum moved along log frequency by the vocal-tract scale F0
  predicts: (F0 / 172 Hz)^0.3 (Peterson & Barney 1952: men's F0 132 Hz, women's 223 Hz,
  women's formants 1.16 times men's, so 0.3 per octave of F0; ANSI averages men and women);
- ``tract from F0, men``: the same anchored at men's F0 (132 Hz): the ANSI spectrum as a man's;
- ``true tract``: moved by the voice's own tract scale (the synthesiser's, against the mean of
  its men and women): what a perfect formant measurement could give (population only);
- ``from 2.5 F0``: ANSI judged from 2.5 x F0 up (the bands under it hold one or two harmonics
  or none: a high voice's sparse harmonics read as dips);
- ``tilt with F0``: ANSI tilted by 1.5 dB per octave for each octave of F0 above 120 Hz (the
  population's own spectra lie 1.1 / 1.8 / 3.1 dB per octave above ANSI for men, women and
  children: the slope was read from seeds 100-111, ``held out`` below are 112-123);
- ``own``: the voice's own neutral, learned from its unshaped other take: what "learn
  reference" gives (population only).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from semeq_live.analysis import reference as R
from semeq_live.analysis.reference import ReferenceSpectrum
from semeq_live.params import ANALYSIS_FREQS

from . import evidence as E
from . import synth_voices
from . import voice_population as VP

MEN_F0_HZ, WOMEN_F0_HZ, WOMEN_FORMANTS = 132.0, 223.0, 1.16
TRACT_PER_F0_OCTAVE = math.log2(WOMEN_FORMANTS) / math.log2(WOMEN_F0_HZ / MEN_F0_HZ)  # about 0.3
ADULT_F0_HZ = math.sqrt(MEN_F0_HZ * WOMEN_F0_HZ)
KIND_TRACT = {"male": 1.0, "female": WOMEN_FORMANTS, "child": WOMEN_FORMANTS * 1.15}  # synth_voices
TILT_PER_F0_OCTAVE_DB, TILT_FROM_HZ = 1.5, 120.0
F0_LOW_FACTOR = 0.8  # auto_reference: the voice reference is judged from 0.8 x F0 up


def moved_voice_curve_db(f0_low_hz, scale):
    """The ANSI band levels and weights moved along log frequency by ``scale`` (a shorter tract:
    > 1), judged from ``f0_low_hz`` up. At scale 1 exactly ``reference._voice_curve_db``."""
    f = ANALYSIS_FREQS
    table_f = np.asarray(R._ANSI_S35_FREQS_HZ, dtype=np.float64)
    band = np.asarray(R._ANSI_S35_NORMAL_SPECTRUM_DB) + 10.0 * np.log10((10 ** 0.05 - 10 ** -0.05) * table_f)
    x = 10.0 * np.log10(f / scale / 1000.0)  # base-10 third-octave band numbers, 1 kHz = 0
    tx = np.round(10.0 * np.log10(table_f / 1000.0))
    lo, hi = band[1] - band[0], band[-1] - band[-2]
    level = np.where(x < tx[0], band[0] + lo * (x - tx[0]),
                     np.where(x > tx[-1], band[-1] + hi * (x - tx[-1]), np.interp(x, tx, band)))
    out = np.maximum(tx[0] - x, x - tx[-1])
    edge = R._VOICE_EDGE_WEIGHTS
    weight = np.where(out <= 0.5, 1.0, np.where(out <= 1.5, edge[0], np.where(out <= 2.5, edge[1], 0.0)))
    if f0_low_hz:
        weight = weight * np.clip(1.0 + 3.0 * np.log2(f / float(f0_low_hz)), 0.0, 1.0)
    return level - level.max(), weight


def _candidate_curve(name, f0_low_hz, voice):
    """(band dB, weights) of candidate ``name`` for a talker whose voice reference starts at
    ``f0_low_hz``; ``voice``: the population voice when known (the ``true tract`` candidate)."""
    f0 = f0_low_hz / F0_LOW_FACTOR
    if name == "tract from F0":
        return moved_voice_curve_db(f0_low_hz, (f0 / ADULT_F0_HZ) ** TRACT_PER_F0_OCTAVE)
    if name == "tract from F0, men":
        return moved_voice_curve_db(f0_low_hz, (f0 / MEN_F0_HZ) ** TRACT_PER_F0_OCTAVE)
    if name == "true tract":
        return moved_voice_curve_db(f0_low_hz, KIND_TRACT[voice.kind] * voice.tract_scale / math.sqrt(WOMEN_FORMANTS))
    band_db, weight = R._voice_curve_db(ANALYSIS_FREQS, f0_low_hz)
    if name == "from 2.5 F0":
        weight = weight * np.clip(np.log2(ANALYSIS_FREQS / f0_low_hz) / np.log2(2.5 / F0_LOW_FACTOR), 0.0, 1.0)
    elif name == "tilt with F0":
        tilt = TILT_PER_F0_OCTAVE_DB * max(0.0, math.log2(f0 / TILT_FROM_HZ))
        band_db = band_db + tilt * np.log2(ANALYSIS_FREQS / 1000.0)
        band_db = band_db - band_db.max()
    return band_db, weight


@contextmanager
def candidate(name, voice=None):
    """Swap the voice reference the analyzer builds (``ReferenceSpectrum.voice``) for the trial."""
    original = ReferenceSpectrum.__dict__["voice"]

    def voice_ref(cls, f0_low_hz=None):
        if not f0_low_hz:
            return original.__func__(cls, f0_low_hz)
        band_db, weight = _candidate_curve(name, f0_low_hz, voice)
        return cls(band_db, name="voice", source="built-in (ANSI S3.5 speech spectrum)", band_weight=weight,
                   meta={"f0_low_hz": round(f0_low_hz, 1), "trial": name})

    if name not in ("ansi", "own"):
        ReferenceSpectrum.voice = classmethod(voice_ref)
    try:
        yield
    finally:
        ReferenceSpectrum.voice = original
        E._CACHE.clear()


def own_neutral_source(voice: VP.PopulationVoice, src: E.Source) -> E.Source:
    """The voice against its own neutral: its unshaped other take (seed + 1000) learned."""
    corner, aspiration = VP.QUALITIES[voice.quality]
    other = synth_voices.spoken_voice(voice.fs, 10.0, voice.seed + 1000, voice.kind, f0_shift_st=voice.f0_shift_st,
                                      formant_scale=voice.tract_scale, glottal_hz=corner, aspiration=aspiration)
    return replace(src, name=src.name + ", own neutral", reference="learned", soundcheck=other[:, None])


CANDIDATES = ("ansi", "tract from F0", "tract from F0, men", "true tract", "from 2.5 F0", "tilt with F0", "own")
POPULATION_ONLY = ("true tract", "own")


def main():
    from semeq_live.model import load_model

    model = load_model()
    pop = [(v, VP.population_source(v)) for v in VP.population()]
    print("Population (24 made talkers; held out: seeds 112-123):\n")
    for name in CANDIDATES:
        rows = []
        for v, src in pop:
            with candidate(name, v):
                rows.append((v, VP.figures(model, own_neutral_source(v, src) if name == "own" else src)))
        print(f"{name}:\n{VP.summary(rows)}")
        held = [f for v, f in rows if v.seed >= 112]
        print(f"held out (12): right word warm-shaped {np.mean([f['warm'] for f in held]):.0%}, bright-shaped "
              f"{np.mean([f['bright'] for f in held]):.0%}; difference {np.mean([f['difference'] for f in held]):+.2f} dB\n",
              flush=True)
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "audio"
    sources = [E.made_voice_source(n) for n in synth_voices.VOICES if n != "made sung voice"]
    sources += [E.speech_source(p) for p in sorted(shared.glob("speech_*.flac"))]
    print("| source | " + " | ".join(n for n in CANDIDATES if n not in POPULATION_ONLY) + " |")
    print("|---|" + "---|" * (len(CANDIDATES) - len(POPULATION_ONLY)))
    for src in sources:
        cells = []
        for name in CANDIDATES:
            if name in POPULATION_ONLY:
                continue
            with candidate(name):
                f = VP.figures(model, src)
            cells.append(f"{f['warm']:.0%} / {f['bright']:.0%}, {f['difference']:+.2f} dB")
        print(f"| {src.name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
