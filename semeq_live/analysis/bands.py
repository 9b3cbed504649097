"""Fractional-octave band powers of one audio segment (the analyzer's unit of work).

A Hann-windowed FFT segment (the channels' mean) is integrated over the 1/3-octave bands of
``semeq_live.params.ANALYSIS_FREQS``. Bands narrower than an FFT bin (the lowest ones) are
integrated exactly with fractional bins: the cumulative bin power is interpolated at the band
edges. Powers are mean-square values (Parseval-normalised), so their sum is the segment's mean
square and ``10*log10`` of a band is its level in dBFS (0 dB = a full-scale RMS of 1).
"""

from __future__ import annotations

import numpy as np

from ..params import ANALYSIS_FREQS
from . import band_kernel

# Base-10 third-octave bands (IEC 61260): edges half a band (1/20 decade) either side of the centre.
BAND_HALF_WIDTH = 10.0 ** 0.05
# Power floor so that digital silence gives a finite (very low) level instead of -inf.
POWER_FLOOR = 1e-20
# A partial is a run of FFT bins within this of the strongest bin (Hann sidelobes: -31 dB and below).
PARTIAL_RANGE_DB = 30.0
PARTIAL_RANGE = 10.0 ** (-PARTIAL_RANGE_DB / 10.0)
# The longest FFT done for all channels in one numpy call (``BandAnalyzer.band_power``).
BATCHED_FFT_MAX = 16384


def band_edges(freqs=ANALYSIS_FREQS) -> tuple[np.ndarray, np.ndarray]:
    freqs = np.asarray(freqs, dtype=np.float64)
    return freqs / BAND_HALF_WIDTH, freqs * BAND_HALF_WIDTH


def segment_length(sample_rate: float) -> int:
    """FFT length: a power of two of at least 0.3 s, so the 31.5 Hz band spans a few bins."""
    return int(2 ** np.ceil(np.log2(0.3 * sample_rate)))


def hop_length(sample_rate: float, nfft: int) -> int:
    """Hop between segments: a power of two of at most 0.2 s (a new spectrum at least 5 times a
    second) and at most half a segment (Hann windows overlapping 50 % weigh every sample alike).

    More overlap adds little to a 2 s average (overlapping Hann segments are strongly correlated)
    but costs an FFT each; the semantic engine smooths the input's character over 2 s anyway.
    """
    return int(min(nfft // 2, 2 ** np.floor(np.log2(0.2 * sample_rate))))


class BandAnalyzer:
    """Band powers ``[n_bands]`` of ``[nfft, channels]`` segments.

    Channel *powers* are averaged (one FFT per channel, not one of the channels' sum): anti-phase
    content never cancels, a mono signal reads the same on one channel or two, and wide stereo
    content (reverb, panned cymbals) keeps its share of the spectrum, which loudness compensation
    needs (BS.1770 sums channel powers; a mid-only spectrum had auto-gain 1 LU off on a folk mix).

    Besides the band powers, each segment's number of *partials* is kept in ``last_partials``:
    peaks (local maxima) of the bin powers within ``PARTIAL_RANGE_DB`` of the strongest bin. A pure
    tone has one (two while a melody moves between notes), an instrument with harmonics several,
    noise hundreds: the analyzer's "near-pure tone" test.
    """

    def __init__(self, sample_rate: float, nfft: int, freqs=ANALYSIS_FREQS, count_partials: bool = True):
        self.sample_rate = float(sample_rate)
        # Auto-gain's newest-audio frame needs the band powers only (``last_partials`` stays None).
        self.count_partials = bool(count_partials)
        self.nfft = int(nfft)
        self.freqs = np.asarray(freqs, dtype=np.float64)
        self.window = np.hanning(self.nfft + 2)[1:-1]  # periodic-ish, no zero end points
        # numpy's float64 FFT: within 1.5x of scipy.fft's float32 transform (about 0.12 vs 0.08 ms
        # at 16384 points; numpy's own float32 path is slower still), while importing scipy.fft
        # would cost the live app a third of a second of start-up and 10+ MB.
        self._rows = None  # [channels, nfft] float64 windowed segment, and its spectra
        self._spectra = None
        n_bins = self.nfft // 2 + 1
        self._power = np.empty(n_bins)
        bin_hz = self.sample_rate / self.nfft
        self._scale = np.full(n_bins, 2.0 / (self.nfft * np.sum(self.window ** 2)))
        self._scale[0] *= 0.5
        if self.nfft % 2 == 0:
            self._scale[-1] *= 0.5
        lo, hi = band_edges(self.freqs)
        nyquist = 0.5 * self.sample_rate
        # Bands reaching past Nyquist cannot be measured at this sample rate.
        self.valid = hi <= nyquist
        # Bin k covers [(k - 1/2), (k + 1/2)] * bin_hz; the cumulative power is known at those
        # edges and interpolated linearly at the band edges (exact fractional bins for the lowest
        # bands, which are narrower than a bin or two). Precomputed: index and fraction per edge.
        edges_hz = np.concatenate([np.minimum(lo, nyquist), np.minimum(hi, nyquist)])
        pos = np.clip(edges_hz / bin_hz + 0.5, 0.0, n_bins)
        self._edge_i = np.minimum(pos.astype(np.int64), n_bins - 1)
        self._edge_f = pos - self._edge_i
        self._cum = np.zeros(n_bins + 1)
        self._n = self.freqs.size
        self.last_partials = 0 if self.count_partials else None

    def band_power(self, segment: np.ndarray) -> tuple[np.ndarray, float]:
        """``(band powers [n_bands], mean square)`` of one ``[nfft, channels]`` segment, both
        averaged over the channels (the band powers sum to the mean square).

        A NaN burst must not poison a spectrum: non-finite samples are zeroed *in ``segment``*
        (the callers' own scratch buffers, which then hold the audio that was analysed), found
        by the window multiply's own pass."""
        if segment.ndim == 1:
            segment = segment[:, None]
        channels = segment.shape[1]
        rows, spectra = self._rows, self._spectra
        if rows is None or rows.shape[0] != channels:
            rows = self._rows = np.empty((channels, self.nfft))
            spectra = self._spectra = np.empty((channels, self.nfft // 2 + 1), np.complex128)
        if not band_kernel.windowed_rows(segment, self.window, rows):
            np.nan_to_num(segment, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
            band_kernel.windowed_rows(segment, self.window, rows)
        # Into a buffer kept from segment to segment, all channels in one call up to 16384 points:
        # there about a quarter less time than a call per channel (the same transform per row, bit
        # for bit); at 32768 points (88.2-96 kHz segments) the one call measured a third slower.
        if self.nfft <= BATCHED_FFT_MAX:
            np.fft.rfft(rows, axis=1, out=spectra)
        else:
            for row, spectrum in zip(rows, spectra):
                np.fft.rfft(row, out=spectrum)
        bands = np.empty(self._n)
        mean_square, partials = band_kernel.band_powers(
            spectra, self._scale, self._power, self._cum, self._edge_i, self._edge_f, POWER_FLOOR,
            PARTIAL_RANGE, bands, self.count_partials)
        if self.count_partials:
            self.last_partials = partials
        return bands, float(mean_square)
