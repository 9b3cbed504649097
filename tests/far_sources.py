"""Made sources whose spectra lean far from a mix's (the built-in ``music`` reference): one
instrument a new user may well plug in, where no built-in neutral fits. Made for the
"far from the reference" evidence (``tests/test_far_sources.py``) after the adaptation was
designed on the made hats and sung line, and never tuned on. Mono float64 at about -20 dBFS RMS;
another ``seed`` plays other notes and hits.

- ``kick_drum``: a close kick mic: a sine swept 160 -> 48 Hz with a 0.2-0.35 s body, the heads'
  inharmonic modes (1.59-3.16 times it, -12 to -24 dB, shorter) and a beater click (noise high-passed at 2 kHz, 3 ms), four on the floor at 120 bpm with pick-ups, a little
  bleed of the rest of the kit 35 dB down (the bleed makes no estimate by itself).
- ``cymbal_bus``: overheads on cymbals only: crashes and a ride, each many inharmonic partials
  (300 Hz-14 kHz, denser and stronger at 3-8 kHz) plus noise, 0.8-2.5 s decays.
- ``piccolo``: a whistle-like flute line, fundamentals A5-A7 (880-3520 Hz) with harmonics 2-4 at
  -14/-22/-30 dB, breath noise 28 dB down over 2-12 kHz, vibrato, legato.
- ``band_noise``: white noise band-passed 250 Hz-12 kHz (24 dB/octave skirts), level moving
  slowly by a few dB (a noise machine, a hiss through a band-pass).
"""

from __future__ import annotations

import numpy as np

from .synth_sources import _butter_mag, _filter_fft, _norm, wind_line


def kick_drum(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    out = np.zeros(n)
    beat = int(0.5 * fs)
    hits = [p for p in range(0, n, beat)] + [p + beat // 2 + beat // 4 for p in range(0, n, 4 * beat)
                                               if rng.random() < 0.6]
    for pos in sorted(hits):
        length = min(n - pos, int(0.6 * fs))
        t = np.arange(length) / fs
        f = 48.0 + 112.0 * np.exp(-t / 0.025)
        phase = 2 * np.pi * np.cumsum(f) / fs
        body = np.sin(phase) * np.exp(-t / rng.uniform(0.2, 0.35))
        # The heads' and shell's own modes (inharmonic, dying faster): a kick is no pure sine.
        for ratio, db, decay in ((1.59, -12.0, 0.12), (2.14, -16.0, 0.08), (2.65, -20.0, 0.06), (3.16, -24.0, 0.04)):
            body += 10 ** (db / 20) * np.sin(ratio * phase + rng.uniform(0, 6.28)) * np.exp(-t / decay)
        click = _filter_fft(rng.standard_normal(length), fs, lambda fr: _butter_mag(fr, 2000.0, 2, "high"))
        click *= 0.25 * np.exp(-t / 0.003)
        out[pos:pos + length] += rng.uniform(0.8, 1.0) * (body + click)
    bleed = _filter_fft(rng.standard_normal(n), fs, lambda fr: _butter_mag(fr, 200.0, 2, "high"))
    out = _norm(out) + _norm(bleed, 0.1 * 10 ** (-35 / 20))
    return _norm(_filter_fft(out, fs, lambda fr: _butter_mag(fr, 16000.0, 4, "low")))


def cymbal_bus(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    out = np.zeros(n)

    def cymbal(length, decay, centre_hz):
        t = np.arange(length) / fs
        partials = np.exp(rng.uniform(np.log(300.0), np.log(14000.0), 120))
        amps = np.exp(-0.5 * (np.log(partials / centre_hz) / 1.0) ** 2)
        tone = sum(a * np.sin(2 * np.pi * p * t + rng.uniform(0, 6.28)) * np.exp(-t / (decay * (1000.0 / p) ** 0.3))
                   for p, a in zip(partials, amps))
        noise = _filter_fft(rng.standard_normal(length), fs,
                            lambda fr: _butter_mag(fr, 1500.0, 2, "high") * _butter_mag(fr, 14000.0, 2, "low"))
        return (tone / np.sqrt(len(partials)) + 0.5 * noise) * np.exp(-t / decay)

    ride_step = int(0.25 * fs)
    ride = cymbal(min(n, int(1.5 * fs)), 0.8, 5000.0)
    for pos in range(0, n, ride_step):
        m = min(n - pos, ride.size)
        out[pos:pos + m] += rng.uniform(0.3, 0.6) * ride[:m]
    pos = 0
    while pos < n:
        length = min(n - pos, int(2.5 * fs))
        out[pos:pos + length] += rng.uniform(0.8, 1.2) * cymbal(length, rng.uniform(1.2, 2.5), rng.uniform(3000, 6000))
        pos += int(rng.choice([1.0, 2.0, 3.0]) * fs)
    return _norm(out)


def piccolo(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    return wind_line(fs, seconds, seed, notes=(81, 106), lengths_s=[0.25, 0.5, 0.5, 1.0],  # A5..A7
                     vibrato=(0.12, 5.5), harmonics_db=(0.0, -14.0, -22.0, -30.0), breath_hz=(2000.0, 12000.0),
                     breath_db=-28.0, breath_floor=0.3)


def band_noise(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    x = _filter_fft(rng.standard_normal(n), fs,
                    lambda fr: _butter_mag(fr, 250.0, 4, "high") * _butter_mag(fr, 12000.0, 4, "low"))
    return _norm(x * 10 ** (3.0 * np.sin(2 * np.pi * t / rng.uniform(3.0, 5.0)) / 20))


# name -> (generator, sample rate)
FAR = {
    "kick drum": (kick_drum, 48000),
    "cymbal bus": (cymbal_bus, 44100),
    "piccolo": (piccolo, 48000),
    "band-limited noise": (band_noise, 44100),
}
