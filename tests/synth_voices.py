"""Made voices (deterministic for a seed): a source-filter speech synthesiser for tests and for
choosing the source classifier's constants, so that nothing is tuned on the shared speech clips.

A voice is a glottal pulse train (jittered F0 following a falling intonation contour per phrase,
shimmer, a little aspiration noise, a -12 dB/octave glottal roll-off) through a cascade of five
formant resonators whose frequencies come from a random sequence of vowels (Peterson & Barney
1952's averages for men and women; a child's are the women's raised by 15 %), with fricative noise
bursts (high-passed 2.5-5 kHz) and plosive bursts between syllables, lip radiation (+6 dB/octave),
4-5.5 syllables a second, and pauses of 0.2-0.6 s between phrases of 1.2-3 s. A different seed
says other syllables with another melody. The vowels glide from syllable to syllable
(``formant_tract``, as the sung voice's); they used to switch the resonators' coefficients while
they rang, which clicked at syllable boundaries 7-36 dB over the speech around them (docs/adaptive.md,
"The made talkers").

``sung_voice`` holds vowels on notes: the singing case. Legato as a singer's (the pitch slides to
the next note, the level swells, the formants glide to the next vowel over 40 ms in a resonator
structure that stays stable while it moves: ``formant_tract``), 5.5 Hz vibrato, no consonants, an
inhale between phrases. (It used to switch its resonators' coefficients at each note while they
rang, which clicked 20-28 dB above the voice: docs/adaptive.md, "Not met" of the sessions before.)

Each generator returns mono float64 at about -20 dBFS RMS (like ``synth_sources``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

from . import formant_tract
from .synth_sources import _butter_mag, _filter_fft, _norm

# Peterson & Barney (1952), average F1-F3 (Hz) of ten American English vowels.
_MEN = np.array([(270, 2290, 3010), (390, 1990, 2550), (530, 1840, 2480), (660, 1720, 2410),
                 (730, 1090, 2440), (570, 840, 2410), (440, 1020, 2240), (300, 870, 2240),
                 (640, 1190, 2390), (490, 1350, 1690)], dtype=np.float64)
_WOMEN = np.array([(310, 2790, 3310), (430, 2480, 3070), (610, 2330, 2990), (860, 2050, 2850),
                   (850, 1220, 2810), (590, 920, 2710), (470, 1160, 2680), (370, 950, 2670),
                   (760, 1400, 2780), (500, 1640, 1960)], dtype=np.float64)
_BANDWIDTHS = (70.0, 100.0, 140.0, 200.0, 250.0)


def _glottal_source(fs, f0, rng, shimmer=0.1, corner_hz=100.0):
    """Impulse per glottal period (continuous phase of ``f0[n]``), amplitude jittered per pulse;
    ``corner_hz``: where the glottal flow's roll-off starts (a breathy voice's lower, a pressed
    one's higher)."""
    phase = np.cumsum(f0) / fs
    pulses = np.zeros(f0.size)
    idx = np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1
    pulses[idx] = 1.0 + shimmer * rng.standard_normal(idx.size)
    # Glottal flow: -12 dB/octave above about 100 Hz (two one-pole low-passes).
    a = np.exp(-2.0 * np.pi * corner_hz / fs)
    return lfilter([1.0 - a], [1.0, -a], lfilter([1.0 - a], [1.0, -a], pulses))


def _speaker(kind: str):
    """(F0 median Hz, formant table, F4/F5 Hz)."""
    if kind == "male":
        return 115.0, _MEN, (3300.0, 4200.0)
    if kind == "female":
        return 210.0, _WOMEN, (3900.0, 4800.0)
    if kind == "child":
        return 290.0, _WOMEN * 1.15, (4400.0, 5400.0)
    raise ValueError(kind)


def _spoken_parts(fs, seconds, seed, kind, f0_shift_st=0.0, formant_scale=1.0, glottal_hz=100.0,
                  aspiration=0.03):
    """A spoken voice's parts before the vocal tract: the voiced glottal source (aspiration
    included), its syllables' vowel segments (``[(start, stop, formants)]`` covering every sample,
    a pause holding the next syllable's formants) and the consonants' noise (fricatives, plosive
    bursts), already at its level against the voiced part's RMS once that is normalised.

    A talker other than the kind's average (``tests/voice_population.py``): ``f0_shift_st`` moves
    the F0 contour (semitones), ``formant_scale`` every formant (a shorter or longer vocal tract),
    ``glottal_hz`` and ``aspiration`` set the voice quality (breathy, pressed). The defaults are
    the kind's average talker; none of them changes a draw."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    f0_med, table, (f4, f5) = _speaker(kind)
    f0_med *= 2.0 ** (f0_shift_st / 12.0)
    table, f4, f5 = table * formant_scale, f4 * formant_scale, f5 * formant_scale
    f0 = np.zeros(n)
    voiced = np.zeros(n)
    noise_env = np.zeros(n)
    segments = []
    t = int(rng.uniform(0.05, 0.3) * fs)
    while t < n:
        phrase_len = int(rng.uniform(1.2, 3.0) * fs)
        end = min(n, t + phrase_len)
        # Intonation: a fall over the phrase (about 4 semitones), a rise now and then, and wander.
        start_st = rng.uniform(1.0, 4.0)
        pos = t
        while pos < end:
            syl = int(fs / rng.uniform(4.0, 5.5))
            stop = min(end, pos + syl)
            # Consonant onset: fricative (noise burst) or plosive (short burst) or none.
            kind_c = rng.choice(["fric", "plos", "none"], p=[0.4, 0.3, 0.3])
            c_len = int((rng.uniform(0.05, 0.11) if kind_c == "fric" else 0.015) * fs) if kind_c != "none" else 0
            c_len = min(c_len, (stop - pos) // 2)
            if c_len:
                noise_env[pos:pos + c_len] = rng.uniform(0.3, 0.8) if kind_c == "fric" else 1.0
            v0 = pos + c_len
            vowel = table[rng.integers(len(table))]
            segments.append((pos, stop, (*vowel, f4, f5)))
            ramp = np.minimum(1.0, np.minimum(np.arange(stop - v0), np.arange(stop - v0)[::-1]) / (0.02 * fs))
            voiced[v0:stop] = ramp * rng.uniform(0.6, 1.0)
            frac = (np.arange(v0, stop) - t) / max(1, end - t)
            semis = start_st - 5.0 * frac + rng.uniform(-1.0, 1.0)
            f0[v0:stop] = f0_med * 2.0 ** (semis / 12.0)
            pos = stop
        t = end + int(rng.uniform(0.2, 0.6) * fs)  # pause between phrases
    # Fill the lead-in and the pauses with the next syllable's formants (the tract is set for it),
    # so the tract covers every sample.
    filled, last = [], 0
    for a, b, f in segments:
        if a > last:
            filled.append((last, a, f))
        filled.append((a, b, f))
        last = b
    if last < n:
        filled.append((last, n, filled[-1][2]))
    # Jitter (1 % cycle to cycle, smoothed) and a drifting F0 during pauses (unused there).
    f0 = np.where(f0 > 0, f0, f0_med) * (1.0 + 0.01 * lfilter([0.1], [1.0, -0.9], rng.standard_normal(n)))
    source = _glottal_source(fs, f0, rng, corner_hz=glottal_hz)
    # Aspiration: white noise about 30 dB below the glottal pulses (shaped by the formants too).
    source = (source + aspiration * np.std(source) * rng.standard_normal(n)) * voiced
    fric = _filter_fft(rng.standard_normal(n), fs,
                       lambda f: _butter_mag(f, rng.uniform(2500.0, 5000.0), 4, "high") *
                       _butter_mag(f, 10000.0, 2, "low"))
    fric *= lfilter([0.05], [1.0, -0.95], noise_env)
    return source, filled, 0.35 * _norm(fric) * np.sqrt(np.mean(noise_env > 0))


def spoken_voice(fs: float, seconds: float, seed: int = 0, kind: str = "male", **talker) -> np.ndarray:
    """A talker (see the module's docstring; ``talker``: see ``_spoken_parts``): the vowels glide
    from syllable to syllable through ``formant_tract`` (they used to switch the resonators'
    coefficients while they rang: docs/adaptive.md); the consonants' noise is added after the tract."""
    source, segments, consonants = _spoken_parts(fs, seconds, seed, kind, **talker)
    return _norm(_voiced_speech(source, segments, fs) + consonants)


def _voiced_speech(source, segments, fs):
    """The voiced part of speech: the glottal source through the gliding vowels, lip radiation,
    normalised."""
    tracks = formant_tract.formant_tracks(segments, source.size, fs)
    speech = formant_tract.moving_formants(source, fs, tracks, _BANDWIDTHS)
    return _norm(np.diff(speech, prepend=0.0) * (fs / 8000.0))  # lip radiation, +6 dB/octave


# A singer's legato: the pitch slides to the next note (portamento, about 0.1 s), the level swells
# into it, and the vowel moves with it (``formant_tract``); all three glide, none switches.
_PORTAMENTO_TAU_S = 0.025  # two one-poles: 10-90 % of a note change in about 85 ms
_SWELL_TAU_S = 0.015       # level from note to note, and the onset after a breath
_BREATH_DB = -30.0         # an inhale between phrases, against the singing's RMS (close microphone)


def _glide(x, fs, tau_s):
    """Two one-pole low-passes (critically damped: no overshoot) of time constant ``tau_s``."""
    a = math.exp(-1.0 / (tau_s * fs))
    y = x - x[0]
    return lfilter([1.0 - a], [1.0, -a], lfilter([1.0 - a], [1.0, -a], y)) + x[0]


def _sung_parts(fs, seconds, seed, kind, note_s=(0.3, 0.9), phrase_s=(2.5, 4.5), transpose=0.0):
    """A sung line's glottal source, its vowel segments (``[(start, stop, formants)]``) and its
    breaths (inhale noise): notes of ``note_s`` seconds on a scale around ``kind``'s median F0
    (moved by ``transpose`` semitones), legato glides, 5.5 Hz vibrato, a level per note, a breath
    between phrases."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    f0_med, table, (f4, f5) = _speaker(kind)
    f0_med *= 2.0 ** (transpose / 12.0)
    scale = f0_med * 2.0 ** (np.array([-5, -3, 0, 2, 4, 5, 7, 9, 12]) / 12.0)
    f0 = np.full(n, f0_med)
    amp = np.zeros(n)
    segments, breaths, t = [], [], 0
    while t < n:
        phrase_end = min(n, t + int(rng.uniform(*phrase_s) * fs))
        while t < phrase_end:
            note = int(rng.uniform(*note_s) * fs)
            stop = min(phrase_end, t + note)
            f0[t:stop] = rng.choice(scale)
            amp[t:stop] = rng.uniform(0.6, 1.0)
            segments.append((t, stop, (*table[rng.integers(len(table))], f4, f5)))
            t = stop
        breath = min(n, t + int(rng.uniform(0.3, 0.6) * fs))
        segments.append((t, breath, segments[-1][2]))
        breaths.append((t, breath))
        t = breath
    tt = np.arange(n) / fs
    f0 = np.exp(_glide(np.log(f0), fs, _PORTAMENTO_TAU_S))
    f0 *= 2.0 ** (0.5 / 12.0 * np.sin(2 * np.pi * 5.5 * tt + rng.uniform(0, 6.28)))
    amp = _glide(amp, fs, _SWELL_TAU_S)
    source = _glottal_source(fs, f0, rng, shimmer=0.05)
    source = (source + 0.02 * np.std(source) * rng.standard_normal(n)) * amp
    return source, segments, _inhales(fs, n, breaths, np.random.default_rng(seed + 7919))


def _inhales(fs, n, breaths, rng):
    """Breath noise (500 Hz-6 kHz, a Hann swell over each breath's middle), unit peak envelope;
    its own generator, so the notes stay those of the same seed."""
    env = np.zeros(n)
    for start, stop in breaths:
        a, b = start + (stop - start) // 5, stop - (stop - start) // 5
        if b > a:
            env[a:b] = np.hanning(b - a)
    noise = _filter_fft(rng.standard_normal(n), fs, lambda f: _butter_mag(f, 500.0, 2, "high") *
                        _butter_mag(f, 6000.0, 2, "low"))
    return noise / np.sqrt(np.mean(noise ** 2)) * env


def sung_line(fs: float, seconds: float, seed: int = 0, kind: str = "female",
              note_s=(0.3, 0.9), phrase_s=(2.5, 4.5), transpose: float = 0.0) -> np.ndarray:
    """A sung line (see ``_sung_parts``): the glottal source through formants that glide from
    vowel to vowel (``formant_tract``), lip radiation, an inhale between phrases."""
    source, segments, inhales = _sung_parts(fs, seconds, seed, kind, note_s, phrase_s, transpose)
    tracks = formant_tract.formant_tracks(segments, source.size, fs)
    sung = formant_tract.moving_formants(source, fs, tracks, _BANDWIDTHS)
    x = _norm(np.diff(sung, prepend=0.0) * (fs / 8000.0))  # lip radiation, +6 dB/octave
    return _norm(x + 10.0 ** (_BREATH_DB / 20.0) * np.sqrt(np.mean(x ** 2)) * inhales)


def sung_voice(fs: float, seconds: float, seed: int = 0, kind: str = "female") -> np.ndarray:
    """The evidence tables' sung line: ``sung_line`` with its default notes and phrases."""
    return sung_line(fs, seconds, seed, kind)


def male_voice(fs, seconds, seed=0):
    return spoken_voice(fs, seconds, seed, "male")


def female_voice(fs, seconds, seed=0):
    return spoken_voice(fs, seconds, seed, "female")


def child_voice(fs, seconds, seed=0):
    return spoken_voice(fs, seconds, seed, "child")


def sung_female(fs, seconds, seed=0):
    return sung_voice(fs, seconds, seed, "female")


# name -> (generator, sample rate used in the evidence).
VOICES = {
    "made male voice": (male_voice, 44100),
    "made female voice": (female_voice, 48000),
    "made child voice": (child_voice, 32000),
    "made male voice, 16 kHz": (male_voice, 16000),
    "made sung voice": (sung_female, 44100),
}


# --------------------------------------------------------------------------- more sung lines
# For the auto-gain evidence (docs/adaptive.md, "Auto-gain beyond the tables"): the same singer at other
# pitches, held vowels, a choir.


def sung_line_female(fs, seconds, seed=0):
    return sung_line(fs, seconds, seed, "female")


def sung_line_male(fs, seconds, seed=0):
    return sung_line(fs, seconds, seed, "male")


def sung_line_high(fs, seconds, seed=0):
    """A soprano: F0 around 390 Hz (notes 290-775 Hz), the formants of the child's table."""
    return sung_line(fs, seconds, seed, "child", transpose=5.0)


def sustained_vowels(fs, seconds, seed=0):
    """Long held notes (1.5-3 s), one vowel each: the narrowest, steadiest harmonic spectrum."""
    return sung_line(fs, seconds, seed, "female", note_s=(1.5, 3.0), phrase_s=(4.0, 7.0))


# name -> (generator, sample rate used in the evidence): the sung lines of the auto-gain evidence.
SUNG_LINES = {
    "sung line, female": (sung_line_female, 44100),
    "sung line, male": (sung_line_male, 48000),
    "sung line, high": (sung_line_high, 44100),
    "sustained vowels": (sustained_vowels, 48000),
}


def choir(fs, seconds, seed=0):
    """Four singers (low male, male, female, high), each its own slow line (notes 0.8-2 s) with
    its own vowels: a choir pad, many harmonics of several notes at once."""
    parts = [sung_line(fs, seconds, seed * 10 + i, kind, note_s=(0.8, 2.0), transpose=tr)
             for i, (kind, tr) in enumerate((("male", -5.0), ("male", 0.0), ("female", 0.0), ("child", 0.0)))]
    return _norm(sum(parts))


SUNG_LINES["choir"] = (choir, 48000)
