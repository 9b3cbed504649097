"""Sparse test sources made here (deterministic for a seed): what a live input often is.

Each generator returns mono float64 audio at about -20 dBFS RMS. A different ``seed`` plays
different notes and rhythms on the same "instrument" (e.g. a soundcheck take and the show).

- ``bass_line``: fundamentals 41-330 Hz (E1-E4), harmonics rolled off above 400 Hz at 24 dB per
  octave (a DI bass with the tone knob down), plucked envelopes, eighth notes at 120 bpm.
- ``lead_line``: a synth lead, fundamentals 196-784 Hz, a saw/square blend high-passed at 200 Hz
  and low-passed at 6 kHz (24 dB/octave each), vibrato, legato notes.
- ``hats``: closed and open hi-hats and a ride: noise and six detuned square "metal" oscillators
  (the TR-808 recipe) high-passed at 3 kHz (24 dB/octave), low-passed at 16 kHz.
- ``plucked_string``: Karplus-Strong plucks, 110-880 Hz, each ringing into the next.
- ``sine_melody``: pure sines, 262-1047 Hz (two octaves), short fades: must give "no estimate".
"""

from __future__ import annotations

import numpy as np

RMS = 0.1


def _norm(x: np.ndarray, rms: float = RMS) -> np.ndarray:
    return rms * x / np.sqrt(np.mean(x ** 2))


def _filter_fft(x: np.ndarray, fs: float, gain_at) -> np.ndarray:
    """Zero-phase filtering by a magnitude response ``gain_at(freqs)`` (linear)."""
    n = len(x)
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(n, 1.0 / fs)
    return np.fft.irfft(spec * gain_at(np.maximum(f, 1e-3)), n)


def _butter_mag(f, fc, order, kind):
    r = (f / fc) if kind == "low" else (fc / f)
    return 1.0 / np.sqrt(1.0 + r ** (2 * order))


def _midi_hz(note):
    return 440.0 * 2.0 ** ((np.asarray(note, dtype=np.float64) - 69) / 12.0)


def _additive(fs, n, f0_per_sample, amps_of_k, max_k):
    """Sum of harmonics k*f0(t) with amplitude amps_of_k(k, f0) (phase-continuous)."""
    phase = 2 * np.pi * np.cumsum(f0_per_sample) / fs
    out = np.zeros(n)
    for k in range(1, max_k + 1):
        fk = k * f0_per_sample
        a = amps_of_k(k, fk) * (fk < 0.45 * fs)
        out += a * np.sin(k * phase)
    return out


def bass_line(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    step = int(0.25 * fs)  # eighth notes at 120 bpm
    roots = rng.choice([28, 31, 33, 35, 36, 38, 40, 43, 45, 47, 52], size=n // step + 2)  # E1..E3
    octave_up = rng.random(roots.size) < 0.25
    notes = roots + 12 * octave_up
    f0 = np.repeat(_midi_hz(notes), step)[:n]
    env = np.zeros(n)
    for i in range(0, n, step):
        t = np.arange(min(step, n - i)) / fs
        env[i:i + len(t)] = (1 - np.exp(-t / 0.004)) * np.exp(-t / rng.uniform(0.15, 0.4))
    x = _additive(fs, n, f0, lambda k, fk: (1.0 / k) * _butter_mag(fk, 400.0, 4, "low"), 60)
    return _norm(x * env)


def lead_line(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    lengths = rng.choice([0.25, 0.5, 0.75, 1.0], size=int(seconds / 0.25) + 4)
    notes = rng.choice(np.arange(55, 80), size=lengths.size)  # G3..G5
    f0 = np.concatenate([np.full(int(L * fs), _midi_hz(m)) for L, m in zip(lengths, notes)])[:n]
    # Glide between notes (30 ms) and a 5.5 Hz vibrato of +-15 cents.
    glide = int(0.03 * fs)
    f0 = np.convolve(f0, np.ones(glide) / glide, mode="same")
    t = np.arange(n) / fs
    f0 = f0 * 2.0 ** (0.15 / 12 * np.sin(2 * np.pi * 5.5 * t))
    x = _additive(fs, n, f0, lambda k, fk: (1.0 / k) * (1.0 if k % 2 else 0.6), 80)
    x = _filter_fft(x, fs, lambda f: _butter_mag(f, 200.0, 4, "high") * _butter_mag(f, 6000.0, 4, "low"))
    env = 0.7 + 0.3 * np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 6))
    return _norm(x * env)


def hats(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    metal_hz = np.array([205.3, 304.4, 369.6, 522.7, 540.0, 800.0]) * rng.uniform(0.97, 1.03, 6)
    metal = sum(np.sign(np.sin(2 * np.pi * f * t + rng.uniform(0, 6))) for f in metal_hz) / 6.0
    source = 0.6 * metal + 0.8 * rng.standard_normal(n)
    env = np.zeros(n)
    step = int(0.125 * fs)  # sixteenths at 120 bpm
    for i in range(0, n, step):
        seg = np.arange(min(n - i, 4 * step)) / fs
        kind = rng.random()
        decay = 0.03 if kind < 0.7 else (0.25 if kind < 0.9 else 0.8)  # closed, open, ride
        accent = rng.uniform(0.4, 1.0)
        env[i:i + len(seg)] += accent * np.exp(-seg / decay)
    x = source * env
    x = _filter_fft(x, fs, lambda f: _butter_mag(f, 3000.0, 4, "high") * _butter_mag(f, 16000.0, 4, "low"))
    return _norm(x)


def plucked_string(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    out = np.zeros(n)
    pos = 0
    while pos < n:
        note = int(rng.choice(np.arange(45, 82)))  # A2..A5
        hold = int(rng.choice([0.25, 0.5, 0.75]) * fs)
        period = max(2, int(round(fs / _midi_hz(note))))
        length = min(n - pos, int(2.5 * fs))
        buf = rng.uniform(-1, 1, period)
        y = np.empty(length + period)
        decay = 0.996
        for i in range(0, length, period):  # Karplus-Strong: a delay line averaged each pass
            y[i:i + period] = buf
            buf = decay * 0.5 * (buf + np.roll(buf, -1))
        out[pos:pos + length] += y[:length] * rng.uniform(0.5, 1.0)
        pos += hold
    return _norm(out)


def sine_melody(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    out = np.zeros(n)
    pos = 0
    fade = int(0.01 * fs)
    while pos < n:
        length = min(n - pos, int(rng.choice([0.25, 0.5]) * fs))
        f = _midi_hz(int(rng.choice(np.arange(60, 85))))  # C4..C6
        t = np.arange(length) / fs
        note = np.sin(2 * np.pi * f * t)
        ramp = np.minimum(1.0, np.minimum(np.arange(length), np.arange(length)[::-1]) / fade)
        out[pos:pos + length] = note * ramp
        pos += length
    return _norm(out)


# name -> (generator, sample rate used in the evidence): together they cover 22.05-96 kHz; the
# speech clips add 16 kHz and the music 44.1 kHz.
SOURCES = {
    "bass line": (bass_line, 22050),
    "lead line": (lead_line, 48000),
    "hats": (hats, 96000),
    "plucked string": (plucked_string, 44100),
    "sine melody": (sine_melody, 48000),
}
