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

Held-out instruments, added after the analyzer and curve encoder were tuned on the ones above
(so they check that a change generalises; never tuned on):

- ``brass_line``: a trumpet-like line, fundamentals 165-1047 Hz (E3-C6), harmonics through a broad
  formant near 1.2 kHz, brighter when played louder (each note has its own dynamic), 30 ms
  attacks, legato phrases with breaths.
- ``string_section``: four players per note, two- and three-note chords (G2-A5) held 1-2 s, each
  player with their own vibrato (5-6.5 Hz, +-20 cents) and detuning, sawtooth-like harmonics
  through fixed body resonances, a little bow noise.
- ``mallet``: a celesta-like struck-bar instrument, C4-C7, inharmonic bar partials (1, 2.76, 5.40,
  8.93 times the fundamental) that die away faster the higher they are, a short hammer click.
- ``drum_loop``: a drum-and-bass loop at 174 bpm: kick (pitch sweep 120 -> 50 Hz), snare (tone and
  noise), closed and open hats, a tom now and then; the pattern varies with the seed.

Added for the auto-gain evidence (``tests/test_loudness_evidence.py``; not in the adaptive tables):

- ``organ_pad``: organ chords (three or four notes, C3-C5; harmonics 1, 2, 3, 4, 6 and 8 at
  1, 0.7, 0.5, 0.45, 0.3 and 0.25), held 1.5-3 s with 40 ms swells, under a slow expression-pedal
  swell.
- ``flute_line``: a narrow-band instrument: fundamentals C4-C6 carrying most of the energy,
  harmonics 2-4 at -10/-18/-26 dB, breath noise 30 dB down around 1-4 kHz, legato with 5 Hz
  vibrato and 20 ms attacks.
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
    # Each note is damped over its last 5 ms before the next one starts, as a player's hand does:
    # cut off instantly, the step would click, spreading a broadband floor 40-50 dB down over the
    # whole spectrum that a DI bass line does not have.
    release = int(0.005 * fs)
    fade = 0.5 * (1 + np.cos(np.pi * np.arange(1, release + 1) / release))
    for i in range(0, n, step):
        t = np.arange(min(step, n - i)) / fs
        env[i:i + len(t)] = (1 - np.exp(-t / 0.004)) * np.exp(-t / rng.uniform(0.15, 0.4))
        if len(t) == step:
            env[i + step - release:i + step] *= fade
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


def brass_line(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    f0 = np.zeros(n)
    dyn = np.zeros(n)
    env = np.zeros(n)
    pos = 0
    while pos < n:
        length = min(n - pos, int(rng.choice([0.25, 0.375, 0.5, 0.75, 1.0]) * fs))
        f0[pos:pos + length] = _midi_hz(int(rng.integers(52, 85)))  # E3..C6
        dyn[pos:pos + length] = rng.uniform(0.0, 1.0)
        t = np.arange(length) / fs
        gap = 0.06 if rng.random() < 0.2 else 0.015  # a breath now and then
        env[pos:pos + length] = (1 - np.exp(-t / 0.03)) * np.clip((length / fs - t) / gap, 0, 1)
        pos += length
    t = np.arange(n) / fs
    f0 = f0 * 2.0 ** (0.08 / 12 * np.sin(2 * np.pi * 5.0 * t))
    f0[f0 <= 0] = 440.0

    def amps(k, fk):
        # Louder notes are brighter (brass): the harmonic roll-off flattens with the dynamic.
        slope = 1.6 - 1.0 * dyn
        formant = 1.0 + 2.0 * np.exp(-0.5 * (np.log2(np.maximum(fk, 1.0) / 1200.0) / 0.7) ** 2)
        return k ** -slope * formant * _butter_mag(fk, 5000.0, 2, "low") * (0.4 + 0.6 * dyn)

    return _norm(_additive(fs, n, f0, amps, 40) * env)


def string_section(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    out = np.zeros(n)
    pos = 0
    while pos < n:
        length = min(n - pos, int(rng.uniform(1.0, 2.0) * fs))
        root = int(rng.integers(43, 70))  # G2..A4, chords up to A5
        chord = [root] + [root + int(i) for i in rng.choice([3, 4, 7, 12, 16], size=int(rng.integers(1, 3)), replace=False)]
        seg = np.zeros(length)
        tt = t[:length]
        for note in chord:
            for _ in range(4):  # players
                rate, depth = rng.uniform(5.0, 6.5), rng.uniform(10, 20) / 1200
                detune = 2.0 ** (rng.uniform(-8, 8) / 1200)
                f0 = _midi_hz(note) * detune * 2.0 ** (depth * np.sin(2 * np.pi * rate * tt + rng.uniform(0, 6)))
                seg += _additive(fs, length, f0, lambda k, fk: 1.0 / k, 25) * rng.uniform(0.6, 1.0)
        swell = np.minimum(1.0, tt / 0.15) * np.minimum(1.0, (length / fs - tt) / 0.1)
        out[pos:pos + length] = seg * swell
        pos += length
    out += 0.02 * np.std(out) * rng.standard_normal(n)  # bow noise
    body = [(275.0, 0.3, 6.0), (460.0, 0.3, 4.0), (1500.0, 0.5, 3.0), (3000.0, 0.4, 4.0)]

    def gain(f):
        g = np.ones_like(f)
        for fc, width_oct, db in body:
            g *= 10 ** (db / 20 * np.exp(-0.5 * (np.log2(f / fc) / width_oct) ** 2))
        return g * _butter_mag(f, 80.0, 2, "high") * _butter_mag(f, 5000.0, 2, "low")

    return _norm(_filter_fft(out, fs, gain))


MALLET_RATIOS = (1.0, 2.76, 5.40, 8.93)
MALLET_AMPS = (1.0, 0.4, 0.2, 0.1)


def mallet(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    out = np.zeros(n)
    pos = 0
    ring = int(2.0 * fs)
    while pos < n:
        f = _midi_hz(int(rng.integers(60, 97)))  # C4..C7
        length = min(n - pos, ring)
        t = np.arange(length) / fs
        vel = rng.uniform(0.5, 1.0)
        note = np.zeros(length)
        for r, a in zip(MALLET_RATIOS, MALLET_AMPS):
            if r * f < 0.45 * fs:
                decay = 0.8 / r * (523.0 / f) ** 0.5  # higher partials and notes die sooner
                note += a * np.sin(2 * np.pi * r * f * t + rng.uniform(0, 6)) * np.exp(-t / decay)
        click = rng.standard_normal(min(length, int(0.005 * fs)))
        note[:click.size] += 0.3 * click * np.linspace(1, 0, click.size)
        out[pos:pos + length] += vel * note
        pos += int(rng.choice([0.125, 0.25, 0.25, 0.375]) * fs)
    return _norm(_filter_fft(out, fs, lambda f: _butter_mag(f, 200.0, 2, "high")))


def drum_loop(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    step = int(60.0 / 174.0 / 4 * fs)  # sixteenths at 174 bpm
    out = np.zeros(n)

    def hit(pos, sound):
        m = min(n - pos, sound.size)
        if m > 0:
            out[pos:pos + m] += sound[:m]

    def kick():
        t = np.arange(int(0.4 * fs)) / fs
        f = 50.0 + 70.0 * np.exp(-t / 0.03)
        return np.sin(2 * np.pi * np.cumsum(f) / fs) * np.exp(-t / 0.18) + \
            0.2 * rng.standard_normal(t.size) * np.exp(-t / 0.003)

    def snare():
        t = np.arange(int(0.3 * fs)) / fs
        noise = _filter_fft(rng.standard_normal(t.size), fs,
                            lambda f: _butter_mag(f, 150.0, 2, "high") * _butter_mag(f, 8000.0, 2, "low"))
        return 0.6 * np.sin(2 * np.pi * 185.0 * t) * np.exp(-t / 0.05) + noise * np.exp(-t / 0.12)

    def hat(open_):
        t = np.arange(int((0.4 if open_ else 0.08) * fs)) / fs
        noise = _filter_fft(rng.standard_normal(t.size), fs, lambda f: _butter_mag(f, 6000.0, 4, "high"))
        return 0.35 * noise * np.exp(-t / (0.15 if open_ else 0.025))

    def tom():
        t = np.arange(int(0.4 * fs)) / fs
        return 0.7 * np.sin(2 * np.pi * 110.0 * rng.uniform(0.8, 1.3) * t) * np.exp(-t / 0.2)

    for bar_start in range(0, n, 16 * step):
        kicks = [0, 10] + ([6] if rng.random() < 0.5 else []) + ([14] if rng.random() < 0.3 else [])
        for s in range(16):
            p = bar_start + s * step
            if s in kicks:
                hit(p, kick() * rng.uniform(0.8, 1.0))
            if s in (4, 12) or (rng.random() < 0.1 and s % 2):
                hit(p, snare() * (rng.uniform(0.8, 1.0) if s in (4, 12) else 0.4))
            if s % 2 == 0 or rng.random() < 0.3:
                hit(p, hat(rng.random() < 0.15) * rng.uniform(0.5, 1.0))
            if rng.random() < 0.03:
                hit(p, tom())
    return _norm(_filter_fft(out, fs, lambda f: _butter_mag(f, 16000.0, 4, "low")))


# name -> (generator, sample rate used in the evidence): together they cover 22.05-96 kHz; the
# speech clips add 16 kHz and the music 44.1 kHz.
SOURCES = {
    "bass line": (bass_line, 22050),
    "lead line": (lead_line, 48000),
    "hats": (hats, 96000),
    "plucked string": (plucked_string, 44100),
    "sine melody": (sine_melody, 48000),
}

# The held-out instruments (see the module doc): in the evidence next to the others, at 32-48 kHz.
HELD_OUT = {
    "brass line": (brass_line, 44100),
    "string section": (string_section, 32000),
    "mallet": (mallet, 48000),
    "drum loop": (drum_loop, 44100),
}


def organ_pad(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    out = np.zeros(n)
    weights = {1: 1.0, 2: 0.7, 3: 0.5, 4: 0.45, 6: 0.3, 8: 0.25}
    pos = 0
    while pos < n:
        length = min(n - pos, int(rng.uniform(1.5, 3.0) * fs))
        root = int(rng.integers(48, 67))  # C3..F#4, chords up to about C5
        chord = [root] + [root + int(i) for i in rng.choice([3, 4, 7, 10, 12], size=int(rng.integers(2, 4)), replace=False)]
        tt = t[:length]
        seg = np.zeros(length)
        for note in chord:
            f0 = np.full(length, _midi_hz(note))
            seg += _additive(fs, length, f0, lambda k, fk: weights.get(k, 0.0), 8)
        swell = np.minimum(1.0, tt / 0.04) * np.minimum(1.0, (length / fs - tt) / 0.04)
        out[pos:pos + length] = seg * swell
        pos += length
    pedal = 0.6 + 0.4 * np.sin(2 * np.pi * t / rng.uniform(4.0, 7.0) + rng.uniform(0, 6.28)) ** 2
    return _norm(out * pedal)


def wind_line(fs: float, seconds: float, seed: int, *, notes: tuple[int, int], lengths_s, vibrato: tuple[float, float],
              harmonics_db, breath_hz: tuple[float, float], breath_db: float, breath_floor: float = 0.0) -> np.ndarray:
    """A legato wind line: notes drawn from MIDI ``notes`` [low, high), lengths from ``lengths_s``,
    20 ms attacks, vibrato (cents / 100, Hz), harmonics at ``harmonics_db`` (the fundamental first),
    breath noise band-passed to ``breath_hz`` at ``breath_db`` under the tone, following the notes'
    envelope (plus ``breath_floor`` between them)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    f0 = np.zeros(n)
    env = np.zeros(n)
    pos = 0
    while pos < n:
        length = min(n - pos, int(rng.choice(lengths_s) * fs))
        f0[pos:pos + length] = _midi_hz(int(rng.integers(*notes)))
        tt = np.arange(length) / fs
        env[pos:pos + length] = rng.uniform(0.6, 1.0) * np.minimum(1.0, tt / 0.02) * np.minimum(1.0, (length / fs - tt) / 0.01)
        pos += length
    t = np.arange(n) / fs
    f0 = f0 * 2.0 ** (vibrato[0] / 12 * np.sin(2 * np.pi * vibrato[1] * t))
    levels = {k + 1: 10 ** (db / 20) for k, db in enumerate(harmonics_db)}
    tone = _additive(fs, n, f0, lambda k, fk: levels.get(k, 0.0), len(levels)) * env
    low, high = breath_hz
    breath = _filter_fft(rng.standard_normal(n), fs, lambda f: _butter_mag(f, low, 2, "high") * _butter_mag(f, high, 2, "low"))
    breath *= 10 ** (breath_db / 20) * np.std(tone) / np.std(breath) * (breath_floor + env)
    return _norm(tone + breath)


def flute_line(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    return wind_line(fs, seconds, seed, notes=(60, 85), lengths_s=[0.25, 0.5, 0.75, 1.0],  # C4..C6
                     vibrato=(0.1, 5.0), harmonics_db=(0.0, -10.0, -18.0, -26.0), breath_hz=(1000.0, 4000.0),
                     breath_db=-30.0)


# Auto-gain evidence only (tests/test_loudness_evidence.py): name -> (generator, sample rate).
LOUDNESS_EXTRA = {
    "organ pad": (organ_pad, 44100),
    "flute line": (flute_line, 48000),
}
