"""Made voices (deterministic for a seed): a source-filter speech synthesiser for tests and for
choosing the source classifier's constants, so that nothing is tuned on the shared speech clips.

A voice is a glottal pulse train (jittered F0 following a falling intonation contour per phrase,
shimmer, a little aspiration noise, a -12 dB/octave glottal roll-off) through a cascade of five
formant resonators whose frequencies come from a random sequence of vowels (Peterson & Barney
1952's averages for men and women; a child's are the women's raised by 15 %), with fricative noise
bursts (high-passed 2.5-5 kHz) and plosive bursts between syllables, lip radiation (+6 dB/octave),
4-5.5 syllables a second, and pauses of 0.2-0.6 s between phrases of 1.2-3 s. A different seed
says other syllables with another melody.

``sung_voice`` holds vowels on notes (legato, 5.5 Hz vibrato, few consonants, breaths between
phrases): the singing case.

Each generator returns mono float64 at about -20 dBFS RMS (like ``synth_sources``).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from .synth_sources import _butter_mag, _filter_fft, _norm

# Peterson & Barney (1952), average F1-F3 (Hz) of ten American English vowels.
_MEN = np.array([(270, 2290, 3010), (390, 1990, 2550), (530, 1840, 2480), (660, 1720, 2410),
                 (730, 1090, 2440), (570, 840, 2410), (440, 1020, 2240), (300, 870, 2240),
                 (640, 1190, 2390), (490, 1350, 1690)], dtype=np.float64)
_WOMEN = np.array([(310, 2790, 3310), (430, 2480, 3070), (610, 2330, 2990), (860, 2050, 2850),
                   (850, 1220, 2810), (590, 920, 2710), (470, 1160, 2680), (370, 950, 2670),
                   (760, 1400, 2780), (500, 1640, 1960)], dtype=np.float64)
_BANDWIDTHS = (70.0, 100.0, 140.0, 200.0, 250.0)


def _resonator(fc, bw, fs):
    """Two-pole resonator with unit gain at DC (Klatt's cascade resonator)."""
    r = np.exp(-np.pi * bw / fs)
    a1, a2 = -2.0 * r * np.cos(2.0 * np.pi * fc / fs), r * r
    return np.array([1.0 + a1 + a2]), np.array([1.0, a1, a2])


def _glottal_source(fs, f0, rng, shimmer=0.1):
    """Impulse per glottal period (continuous phase of ``f0[n]``), amplitude jittered per pulse."""
    phase = np.cumsum(f0) / fs
    pulses = np.zeros(f0.size)
    idx = np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1
    pulses[idx] = 1.0 + shimmer * rng.standard_normal(idx.size)
    # Glottal flow: -12 dB/octave above about 100 Hz (two one-pole low-passes).
    a = np.exp(-2.0 * np.pi * 100.0 / fs)
    return lfilter([1.0 - a], [1.0, -a], lfilter([1.0 - a], [1.0, -a], pulses))


def _formant_cascade(x, fs, formants_per_sample, segments):
    """Filter ``x`` through five resonators whose frequencies are constant within each segment
    (``segments``: list of (start, stop, (f1..f5))), carrying the filter state across segments."""
    out = np.empty_like(x)
    states = [np.zeros(2) for _ in _BANDWIDTHS]
    for start, stop, fmts in segments:
        y = x[start:stop]
        for k, (fc, bw) in enumerate(zip(fmts, _BANDWIDTHS)):
            b, a = _resonator(min(fc, 0.45 * fs), bw, fs)
            y, states[k] = lfilter(b, a, y, zi=states[k])
        out[start:stop] = y
    return out


def _speaker(kind: str):
    """(F0 median Hz, formant table, F4/F5 Hz)."""
    if kind == "male":
        return 115.0, _MEN, (3300.0, 4200.0)
    if kind == "female":
        return 210.0, _WOMEN, (3900.0, 4800.0)
    if kind == "child":
        return 290.0, _WOMEN * 1.15, (4400.0, 5400.0)
    raise ValueError(kind)


def spoken_voice(fs: float, seconds: float, seed: int = 0, kind: str = "male") -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    f0_med, table, (f4, f5) = _speaker(kind)
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
    if segments[0][0] > 0:
        segments.insert(0, (0, segments[0][0], segments[0][2]))
    segments = [(a, b, f) for a, b, f in segments]
    # Fill gaps (pauses) with the previous formants so the cascade covers every sample.
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
    source = _glottal_source(fs, f0, rng)
    # Aspiration: white noise about 30 dB below the glottal pulses (shaped by the formants too).
    source = (source + 0.03 * np.std(source) * rng.standard_normal(n)) * voiced
    speech = _formant_cascade(source, fs, None, filled)
    fric = _filter_fft(rng.standard_normal(n), fs,
                       lambda f: _butter_mag(f, rng.uniform(2500.0, 5000.0), 4, "high") *
                       _butter_mag(f, 10000.0, 2, "low"))
    fric *= lfilter([0.05], [1.0, -0.95], noise_env)
    x = np.diff(speech, prepend=0.0) * (fs / 8000.0)  # lip radiation, +6 dB/octave
    x = _norm(x) + 0.35 * _norm(fric) * np.sqrt(np.mean(noise_env > 0))
    return _norm(x)


def _sung_parts(fs, seconds, seed, kind, note_s=(0.3, 0.9), phrase_s=(2.5, 4.5), transpose=0.0):
    """A sung line's glottal source and its vowel segments (``[(start, stop, formants)]``): notes
    of ``note_s`` seconds on a scale around ``kind``'s median F0 (moved by ``transpose``
    semitones), legato glides, 5.5 Hz vibrato, a level per note, breaths between phrases."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    f0_med, table, (f4, f5) = _speaker(kind)
    f0_med *= 2.0 ** (transpose / 12.0)
    scale = f0_med * 2.0 ** (np.array([-5, -3, 0, 2, 4, 5, 7, 9, 12]) / 12.0)
    f0 = np.full(n, f0_med)
    amp = np.zeros(n)
    segments, t = [], 0
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
        t = breath
    tt = np.arange(n) / fs
    f0 = lfilter([0.01], [1.0, -0.99], f0 - f0[0]) + f0[0]  # legato glides between notes
    f0 *= 2.0 ** (0.5 / 12.0 * np.sin(2 * np.pi * 5.5 * tt + rng.uniform(0, 6.28)))
    amp = lfilter([0.002], [1.0, -0.998], amp)
    source = _glottal_source(fs, f0, rng, shimmer=0.05)
    return (source + 0.02 * np.std(source) * rng.standard_normal(n)) * amp, segments


def sung_voice(fs: float, seconds: float, seed: int = 0, kind: str = "female") -> np.ndarray:
    source, segments = _sung_parts(fs, seconds, seed, kind)
    x = np.diff(_formant_cascade(source, fs, None, segments), prepend=0.0) * (fs / 8000.0)
    return _norm(x)


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


# --------------------------------------------------------------------------- smooth sung lines
# Added for the auto-gain evidence (README, "morph, auto-gain"). ``sung_voice`` above changes its
# formant resonators' coefficients at each note while they ring (legato: the source never pauses),
# carrying lfilter's transposed-form state across the change: that makes clicks 20-28 dB above the
# voice for a few ms, which on the evidence take (seed 2) carry 77 % of the K-weighted energy of
# 3-6 s. A throat moves its formants over tens of milliseconds. These lines render each vowel's
# formant filter in steady state and crossfade from one vowel to the next over ``FORMANT_GLIDE_S``
# (the same notes and source as ``sung_voice``, ``_sung_parts``; ``sung_voice`` is kept as it was:
# the evidence tables and auto's thresholds were measured on it).
FORMANT_GLIDE_S = 0.06
_PREROLL_S = 0.03  # the narrowest resonator (70 Hz) decays 57 dB in this: steady state


def _formant_glide(x, fs, segments, glide_s=FORMANT_GLIDE_S):
    """``x`` through each segment's five formant resonators, crossfaded (raised cosine over
    ``glide_s``, centred on the boundary) into the next segment's: a smooth time-varying filter."""
    n = x.size
    out = np.zeros(n)
    half, pre = int(0.5 * glide_s * fs), int(_PREROLL_S * fs)
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(2 * half) + 0.5) / (2 * half))
    segments = [seg for seg in segments if seg[1] > seg[0]]
    for i, (start, stop, fmts) in enumerate(segments):
        lo, hi = max(0, start - half), min(n, stop + half)
        y = x[max(0, lo - pre):hi]
        for fc, bw in zip(fmts, _BANDWIDTHS):
            b, a = _resonator(min(fc, 0.45 * fs), bw, fs)
            y = lfilter(b, a, y)
        y = y[lo - max(0, lo - pre):]
        w = np.ones(hi - lo)
        if i > 0 and start - half >= 0:  # fade in over the previous boundary
            w[:2 * half] = ramp[:min(2 * half, w.size)] if w.size >= 2 * half else ramp[:w.size]
        if i < len(segments) - 1 and stop + half <= n:  # fade out over the next one
            w[-2 * half:] *= ramp[::-1][-min(2 * half, w.size):]
        out[lo:hi] += y * w
    return out


def sung_line(fs: float, seconds: float, seed: int = 0, kind: str = "female",
              note_s=(0.3, 0.9), phrase_s=(2.5, 4.5), transpose: float = 0.0) -> np.ndarray:
    """``sung_voice``'s line (see ``_sung_parts``) with smooth vowel changes."""
    source, segments = _sung_parts(fs, seconds, seed, kind, note_s, phrase_s, transpose)
    x = np.diff(_formant_glide(source, fs, segments), prepend=0.0) * (fs / 8000.0)
    return _norm(x)


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
