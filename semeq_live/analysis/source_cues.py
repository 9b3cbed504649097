"""Cues to *what kind* of source the input is, from properties a static EQ does not change.

The ``auto`` reference (``auto_reference.py``) picks the built-in reference that fits the source:
the voice reference for one speaking or singing voice, the music reference otherwise. Its cues
must not depend on the input's tone, or an EQ'd voice would be taken for something else and
judged against the wrong neutral. Per new stretch of audio (each analysis hop, 0.17-0.2 s):

- **voicing and F0**: a normalised cross-correlation (NCCF) of 40 ms frames of the signal, boxcar-
  decimated to about 8 kHz, over lags for 60-500 Hz: a frame is *voiced* when the best lag
  correlates above ``VOICED_NCCF`` (one periodic source: a voice or one instrument's note; noise,
  drums and dense mixes stay lower); its F0 is the shortest lag within 90 % of the best (no
  octave-down errors). A static EQ changes the harmonics' weights, not the period.
- **fricative contrast**: each 40 ms frame's share of power above 2 kHz (of what the 8 kHz
  decimated signal holds). Speech alternates voiced sounds (little up there) with fricatives
  and bursts (mostly up there); the *ratio* of the unvoiced frames' upper quartile to the voiced
  frames' median is what counts, and an EQ multiplies both by about the same factor.
- **syllabic rhythm and pauses**: 10 ms frame levels (dB). Speech moves its level by 10-30 dB
  four to five times a second and pauses between phrases; a mix's level moves far less.
  Level *differences* are unchanged by a static EQ.
- **syllabic modulation per band** (``modulation_db``): the same movement read in four bands of
  the 40 ms frames' spectrum (250 Hz-3.5 kHz), where an EQ is close to one gain per band. It
  shows a talker from the first second, before any pause; the broadband level's movement there
  read 15-25 % lower on a bright-shaped voice than on a warm-shaped one.

Cost: one pass over each hop's new samples (decimation) as it arrives; the frames' work (a
batched small FFT of 512 points, its four band sums) waits until the cues are read (``summary``,
about every 0.4-0.7 s) or a second of frames is pending, and then runs in one go: the same
numbers, in a quarter of the calls. Ring buffers preallocated here; the analysis FFTs dominate.
"""

from __future__ import annotations

import math

import numpy as np

from . import cue_kernel

DECIMATED_HZ = 8000.0
ENVELOPE_FRAME_S = 0.010
PITCH_FRAME_S = 0.040
F0_MIN_HZ, F0_MAX_HZ = 60.0, 500.0
# NCCF above this: one periodic source. Chosen on the made voices and instruments
# (tests/synth_voices.py, tests/synth_sources.py): their voiced frames read 0.8-0.99, noise
# and the made drum loop's frames below 0.5.
VOICED_NCCF = 0.65
FRICATIVE_HZ = 2000.0
# The unvoiced frames' upper quartile, not their median: in recorded speech many frames the NCCF
# calls unvoiced are voiced transitions, onsets and creak (little up high), which pulled the median
# of the LibriSpeech readers' unvoiced frames down to 2-4 dB over the voiced ones in some 4 s
# stretches; the brighter quarter is the fricatives. Instruments stay low either way (made ones:
# up to 2.7 dB median, the mallet's hammer 8.8, the made drum loop's hats 20, both failing the
# other cues).
FRICATIVE_QUANTILE = 75.0
HISTORY_S = 6.0
# Syllabic modulation per band: each 40 ms frame's level in these bands (Hz, of the decimated
# signal), its movement between about 3 and 12 Hz (the frame minus its 0.32 s course). Within a
# band a static EQ is close to one gain, which the course removes; the broadband level is not
# (a bright EQ lifts the consonants against the vowels and flattened the made voices' broadband
# movement by 15-25 %). Speech moves every band at its syllable rate from its first second; a held
# or legato note, a bowed or blown line, a dense mix much less.
MODULATION_BANDS_HZ = ((250.0, 500.0), (500.0, 1000.0), (1000.0, 2000.0), (2000.0, 3500.0))
MODULATION_COURSE_FRAMES = 8
# Whole pitch frames waiting at most this long for their work (``SourceCues._flush``): bounds the
# pending buffer when nobody reads the cues.
PENDING_S = 1.0


def _quantile(values: np.ndarray, q: float) -> float:
    """The ``q``-th percentile by selection (no interpolation): np.percentile's general machinery
    cost more than all the rest of a decision."""
    k = min(values.size - 1, max(0, int(round(q / 100.0 * (values.size - 1)))))
    return float(np.partition(values, k)[k])


def _ring_write(ring: np.ndarray, start: int, values: np.ndarray) -> None:
    """``values`` (along the first axis) into ``ring`` from entry ``start`` on, wrapping; of more
    values than the ring holds only the newest stay. Two slices, not an index array."""
    size = ring.shape[0]
    if values.shape[0] > size:
        start += values.shape[0] - size
        values = values[-size:]
    i = start % size
    k = min(size - i, values.shape[0])
    ring[i:i + k] = values[:k]
    ring[:values.shape[0] - k] = values[k:]


def _ring_read(ring: np.ndarray, written: int, n: int) -> np.ndarray:
    """The newest ``n`` entries of ``ring`` (at most what was written and what it holds), oldest
    first: a view where they do not wrap."""
    size = ring.shape[0]
    n = min(n, written, size)
    end = written % size
    if end >= n:
        return ring[end - n:end]
    return np.concatenate([ring[end - n:], ring[:end]])


class SourceCues:
    """Per-hop cue extraction into fixed rings. ``add(mono)`` with each hop's new samples."""

    def __init__(self, sample_rate: float, history_s: float = HISTORY_S):
        self.sample_rate = float(sample_rate)
        self.decimation = max(1, int(round(self.sample_rate / DECIMATED_HZ)))
        self.rate = self.sample_rate / self.decimation
        self.env_len = max(1, int(round(ENVELOPE_FRAME_S * self.rate)))
        # A pitch frame is four envelope frames, so both are cut from the same whole frames.
        self.frame_len = 4 * self.env_len
        self.min_lag = max(2, int(math.floor(self.rate / F0_MAX_HZ)))
        self.max_lag = min(self.frame_len - 4, int(math.ceil(self.rate / F0_MIN_HZ)))
        self.nfft = int(2 ** math.ceil(math.log2(self.frame_len + self.max_lag + 1)))
        bin_hz = self.rate / self.nfft
        self.hf_bin = int(math.ceil(FRICATIVE_HZ / bin_hz))
        freqs = np.arange(self.nfft // 2 + 1) * bin_hz
        bands = [(lo, min(hi, 0.45 * self.rate)) for lo, hi in MODULATION_BANDS_HZ if lo < 0.45 * self.rate]
        self._band_matrix = np.stack([(freqs >= lo) & (freqs < hi) for lo, hi in bands], axis=1).astype(np.float64)
        n_env = int(round(history_s / ENVELOPE_FRAME_S))
        n_pitch = int(round(history_s / PITCH_FRAME_S))
        self.env_db = np.full(n_env, -200.0)
        self.pitch_f0 = np.zeros(n_pitch)       # Hz, 0 = unvoiced
        self.pitch_db = np.full(n_pitch, -200.0)  # frame level, dB
        self.pitch_hf = np.zeros(n_pitch)        # share of power above FRICATIVE_HZ
        self.pitch_band_db = np.full((n_pitch, self._band_matrix.shape[1]), -200.0)  # MODULATION_BANDS_HZ
        self.env_written = 0
        self.pitch_written = 0
        # Decimated samples not yet worked on (``_flush``), from the start of a frame, and how many
        # whole frames each ``add`` completed: the band sums are one matrix product per such group,
        # as when each ``add`` did its own frames (a one-row product, from a stretch that completes
        # one frame, goes through another BLAS routine and rounds differently; the cues are to
        # stay bit for bit what they were, however often they are read).
        self._pending_frames = max(1, int(round(PENDING_S / PITCH_FRAME_S)))
        self._pending = np.empty((self._pending_frames + 1) * self.frame_len + 1)
        self._n_pending = 0
        self._groups: list[int] = []

    def add(self, mono: np.ndarray) -> None:
        """Take the next stretch of mono audio (any length; consecutive calls are contiguous)."""
        mono = np.asarray(mono)
        if mono.dtype not in (np.float32, np.float64):
            mono = mono.astype(np.float64)
        n = len(mono) // self.decimation
        if self._n_pending + n > self._pending.size:  # a long stretch at once: room for all of it
            grown = np.empty(self._n_pending + n + self._pending.size)
            grown[:self._n_pending] = self._pending[:self._n_pending]
            self._pending = grown
        start = self._n_pending
        cue_kernel.boxcar_decimate(mono, self.decimation, self._pending[start:start + n])
        self._n_pending += n
        # Whole 40 ms frames; what is left over waits for the next stretch.
        completed = self._n_pending // self.frame_len - sum(self._groups)
        if completed:
            self._groups.append(completed)
            if sum(self._groups) >= self._pending_frames:
                self._flush()

    def _flush(self) -> None:
        """The pending whole frames' levels, F0, fricative share and band levels into the rings."""
        if not self._groups:
            return
        n_fr = sum(self._groups)
        used = n_fr * self.frame_len
        x = self._pending[:used]
        e = x.reshape(n_fr * 4, self.env_len)
        self._push(self.env_db, "env_written",
                   10.0 * np.log10(np.einsum("ij,ij->i", e, e) / self.env_len + 1e-20))
        self._pitch(x.reshape(n_fr, self.frame_len))
        rest = self._n_pending - used
        self._pending[:rest] = self._pending[used:self._n_pending]
        self._n_pending = rest
        self._groups.clear()

    def _push(self, ring: np.ndarray, counter: str, values: np.ndarray) -> None:
        start = getattr(self, counter)
        _ring_write(ring, start, values)
        setattr(self, counter, start + values.shape[0])

    def _pitch(self, frames: np.ndarray) -> None:
        w = self.frame_len
        spec = np.fft.rfft(frames, self.nfft, axis=1)
        power = spec.real * spec.real + spec.imag * spec.imag
        total = power.sum(axis=1)
        hf = power[:, self.hf_bin:].sum(axis=1) / np.maximum(total, 1e-30)
        ac = np.fft.irfft(power, self.nfft, axis=1)
        f0 = np.empty(frames.shape[0])
        energy = np.empty(frames.shape[0])
        # Voicing and F0 from the normalised cross-correlation (cue_kernel.pitch_frames).
        cue_kernel.pitch_frames(frames, ac, self.min_lag, self.max_lag, VOICED_NCCF, self.rate, f0, energy)
        level = 10.0 * np.log10(energy / w + 1e-20)
        bands = np.empty((frames.shape[0], self._band_matrix.shape[1]))
        first = 0
        for count in self._groups:  # one product per add's frames (see __init__)
            bands[first:first + count] = power[first:first + count] @ self._band_matrix
            first += count
        for ring, values in ((self.pitch_f0, f0), (self.pitch_db, level), (self.pitch_hf, hf),
                             (self.pitch_band_db, 10.0 * np.log10(bands / w + 1e-20))):
            _ring_write(ring, self.pitch_written, values)
        self.pitch_written += f0.size

    def _recent(self, ring: np.ndarray, written: int, seconds: float, frame_s: float) -> np.ndarray:
        return _ring_read(ring, written, int(round(seconds / frame_s)))

    def _modulation_db(self, seconds: float) -> float:
        """The median over ``MODULATION_BANDS_HZ`` of each band's level movement (dB, standard
        deviation of the 40 ms level minus its ``MODULATION_COURSE_FRAMES`` course), each band's
        quiet frames raised to 40 dB under its loud level (a pause counts as a deep dip, not as
        however quiet the room is)."""
        n = min(self.pitch_written, self.pitch_f0.size, int(round(seconds / PITCH_FRAME_S)))
        k = MODULATION_COURSE_FRAMES
        if n <= k:
            return 0.0
        lv = _ring_read(self.pitch_band_db, self.pitch_written, n)
        lv = np.maximum(lv, lv.max(axis=0) - 40.0)
        c = np.cumsum(np.vstack([np.zeros((1, lv.shape[1])), lv]), axis=0)
        course = (c[k:] - c[:-k]) / k  # mean of frames [i, i + k)
        centred = lv[k // 2:k // 2 + course.shape[0]] - course
        return float(np.median(np.std(centred, axis=0)))

    def summary(self, seconds: float, detail=None) -> dict | None:
        """The cues over the last ``seconds`` (None before any audio with signal).

        ``detail``: None for every cue; otherwise called with the voicing cues (``seconds``,
        ``sounding_s``, ``voiced_share``, ``f0_hz``, ``f0_low_hz``) and returning which of the
        rest a decision still needs: ``"rhythm"`` (``fricative_db``, ``syllabic_db``,
        ``dip_share``), ``"all"`` (those and ``modulation_db``) or ``"none"``. The cues not
        needed are left out (they are what most of a reading costs: a mix that is no single
        periodic source needs none of them)."""
        self._flush()
        env = self._recent(self.env_db, self.env_written, seconds, ENVELOPE_FRAME_S)
        f0 = self._recent(self.pitch_f0, self.pitch_written, seconds, PITCH_FRAME_S)
        lvl = self._recent(self.pitch_db, self.pitch_written, seconds, PITCH_FRAME_S)
        if env.size == 0 or f0.size == 0:
            return None
        top = _quantile(env, 95.0)
        if top < -90.0:
            return None
        sounding = lvl > top - 30.0
        n_sounding = int(np.count_nonzero(sounding))
        voiced = sounding & (f0 > 0)
        n_voiced = int(np.count_nonzero(voiced))
        f0_voiced = f0[voiced]
        cues = {
            "seconds": env.size * ENVELOPE_FRAME_S,
            "sounding_s": n_sounding * PITCH_FRAME_S,
            "voiced_share": n_voiced / max(n_sounding, 1),
            "f0_hz": _quantile(f0_voiced, 50.0) if n_voiced else 0.0,
            "f0_low_hz": _quantile(f0_voiced, 10.0) if n_voiced else 0.0,
        }
        need = "all" if detail is None else detail(cues)
        if need == "none":
            return cues
        hf = self._recent(self.pitch_hf, self.pitch_written, seconds, PITCH_FRAME_S)
        unvoiced = sounding & (f0 == 0)
        if n_voiced and np.count_nonzero(unvoiced):
            contrast = 10.0 * math.log10(max(_quantile(hf[unvoiced], FRICATIVE_QUANTILE), 1e-6) /
                                         max(_quantile(hf[voiced], 50.0), 1e-6))
        else:
            contrast = 0.0
        # Syllabic rhythm: how far the 10 ms level moves over 2-8 Hz (the level's spread after
        # removing its slow course, a 0.5 s moving average), and how much of the time is a dip
        # 20 dB or more under the stretch's loud level (pauses, closures).
        env_c = np.maximum(env, top - 50.0)
        k = 50
        if env_c.size > k:
            kernel = np.ones(k) / k
            slow = np.convolve(env_c, kernel, mode="same")
            syllabic_db = float(np.std((env_c - slow)[k // 2:-k // 2]))
        else:
            syllabic_db = 0.0
        cues["fricative_db"] = contrast
        cues["syllabic_db"] = syllabic_db
        cues["dip_share"] = float(np.mean(env < top - 20.0))
        if need == "all":
            cues["modulation_db"] = self._modulation_db(seconds)
        return cues
