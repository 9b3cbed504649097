"""Signals that replace the capture input: a looped file, pink noise or test tones.

Useful on stage for a soundcheck without the band, and in tests, where the audio server's capture
is silence. Everything is rendered into memory up front; the callback only copies slices of a
loop (``LoopSource.fill``), so it never reads a file or allocates.
"""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np

from ..errors import CLIError

TEST_SIGNALS = ("pink", "tones")
PINK_RMS_DBFS = -18.0
TONE_FREQS_HZ = (100.0, 1000.0, 10000.0)
TONE_LEVEL_DBFS = -24.0  # per tone


class LoopSource:
    """Plays a preloaded ``[frames, channels]`` float32 array in a loop."""

    def __init__(self, data: np.ndarray, description: str):
        data = np.ascontiguousarray(data, dtype=np.float32)
        if data.ndim != 2 or data.shape[0] == 0:
            raise ValueError("loop data must be a non-empty [frames, channels] array")
        self.data = data
        self.description = description
        self._pos = np.zeros(1, dtype=np.int64)  # next frame; an array the fused callback kernel advances

    @property
    def channels(self) -> int:
        return self.data.shape[1]

    def fill(self, out: np.ndarray) -> None:
        """Copy the next ``len(out)`` frames into ``out`` (wrapping around); no allocation."""
        n, total, pos = out.shape[0], self.data.shape[0], int(self._pos[0])
        done = 0
        while done < n:
            take = min(n - done, total - pos)
            out[done:done + take] = self.data[pos:pos + take]
            done += take
            pos = (pos + take) % total
        self._pos[0] = pos


def pink_noise(sample_rate: int, channels: int, seconds: float = 10.0, seed: int = 1) -> np.ndarray:
    """Pink noise (-3 dB/octave) shaped in the frequency domain.

    Built from one inverse FFT, so the signal is exactly periodic and loops without a click.
    Channels are independent (decorrelated) at the same level.
    """
    n = int(round(seconds * sample_rate))
    rng = np.random.default_rng(seed)
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    mag = np.zeros_like(freqs)
    audible = freqs >= 20.0
    mag[audible] = 1.0 / np.sqrt(freqs[audible])
    out = np.empty((n, channels), dtype=np.float32)
    for ch in range(channels):
        phase = rng.uniform(0, 2 * np.pi, freqs.size)
        x = np.fft.irfft(mag * np.exp(1j * phase), n)
        x *= 10 ** (PINK_RMS_DBFS / 20) / np.sqrt(np.mean(x * x))
        out[:, ch] = x
    return out


def tone_mix(sample_rate: int, channels: int) -> np.ndarray:
    """100 Hz, 1 kHz and 10 kHz sines: one in each region the EQ moves, easy to hear and measure.

    The loop is one second long, a whole number of periods of every tone, so it is seamless.
    """
    t = np.arange(sample_rate) / sample_rate
    amp = 10 ** (TONE_LEVEL_DBFS / 20) * np.sqrt(2)
    x = sum(amp * np.sin(2 * np.pi * f * t) for f in TONE_FREQS_HZ if f < 0.45 * sample_rate)
    return np.repeat(x[:, None], channels, axis=1).astype(np.float32)


def signal_source(name: str, sample_rate: int, channels: int) -> LoopSource:
    if name == "pink":
        return LoopSource(pink_noise(sample_rate, channels), f"pink noise at {PINK_RMS_DBFS:g} dBFS RMS")
    if name == "tones":
        return LoopSource(tone_mix(sample_rate, channels),
                          "test tones " + ", ".join(f"{f:g} Hz" for f in TONE_FREQS_HZ))
    raise CLIError(f"unknown test signal '{name}': choose one of {', '.join(TEST_SIGNALS)}")


def file_source(path: str | Path, sample_rate: int, channels: int) -> LoopSource:
    """A sound file, converted to the stream's rate and channel count, played in a loop."""
    import soundfile as sf

    path = Path(path)
    try:
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, OSError) as exc:  # libsndfile errors are RuntimeErrors
        raise CLIError(f"cannot read input file {path}: {exc}") from None
    if data.shape[0] == 0:
        raise CLIError(f"input file {path} contains no audio")
    if file_rate != sample_rate:
        from scipy.signal import resample_poly

        g = gcd(int(sample_rate), int(file_rate))
        data = resample_poly(data, sample_rate // g, file_rate // g, axis=0).astype(np.float32)
    if data.shape[1] < channels:  # mono file on a stereo stream: same signal on every channel
        data = np.repeat(data[:, :1], channels, axis=1)
    return LoopSource(data[:, :channels], f"file {path.name} (looped)")
