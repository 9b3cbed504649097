"""The input analyzer: rolling long-term spectrum -> deviation from a reference -> audio latent.

Two sides (DESIGN.md sections 1 and 4):

- audio thread: ``push(block)`` copies the block into a preallocated lock-free ring (cheap, no
  array allocation, never waits);
- analysis thread: ``update()`` (about 10 times a second) turns every newly completed FFT segment
  (about 0.34 s, Hann window, one FFT per channel, powers averaged, hop of half a segment or 0.2 s
  at most, i.e. 5-8 new spectra a second) into 1/3-octave band powers; about three times a second
  it averages the last ``window_s`` seconds of them (level, loudness, the bands that carry signal:
  ``presence``), compares the average of the last ``judge_window_s`` seconds with the reference
  spectrum, maps the deviation curve of the bands with signal to the audio latent ``z_a`` with the
  model's curve encoder, and ranks every word by how close its curve is to that deviation on those
  bands (the term profile, ``SemanticModel.curve_profile``). An update with nothing new costs
  almost nothing.

Why the deviation is judged over a longer stretch (4 s) than the rest (2 s): in 2 s a bass line,
a melody, a brass line or a voice plays a handful of notes or syllables, and which ones moves
band levels by 10-30 dB, several times what an EQ does; 4 s halve that spread. The engine smooths
the estimate over 2 s on top; the bands with signal, the level gate and the loudness follow the
2 s window as before. A learned reference's ``band_reliability`` weighs each band's say in the
curve encoder and the term profile. What it changes on the evidence sources: docs/adaptive.md.

The whole-file average (``semeq-live analyze``'s "overall") goes through ``estimate_from_power``,
the same path as every live estimate.

"No estimate" rules, so the engine never acts on a confident wrong answer, each with its reason:
not enough audio yet; too quiet (below ``min_level_db``, with ``hysteresis_db`` so a fade does not
flicker); a near-pure tone (a sine melody: its band levels say where the notes are, not how the
source sounds); too narrow a range (less than two octaves with signal). An input far from the
reference (hats against a mix: a deviation beyond what an EQ makes), or where the reference has
little, is judged against the reference fitted to its own smooth shape, and the estimate says so
(``reference_fit.py``). The spectrum and the band weights are reported whenever any signal was
analysed, because loudness compensation and the adaptive EQ's "no boost where there is no signal"
use them.
"""

from __future__ import annotations

import math
import threading
from dataclasses import replace

import numpy as np

from ..errors import SemeqError
from ..params import ANALYSIS_FREQS
from . import history_kernel
from .bands import BandAnalyzer, hop_length, segment_length
from .estimate import InputEstimate, no_estimate
from .loudness import RecentSpectrum
from .presence import (IMPLAUSIBLE_DB, MAX_TILT_DB_PER_OCT, MAX_TONE_PARTIALS, MIN_BANDS,
                       judged_weights, octaves, presence_weights, tilt_db_per_octave)
from .reference_fit import fit_note, fit_to_source, own_shape_note
from .auto_reference import PROVISIONAL_S as AUTO_PROVISIONAL_S
from .auto_reference import AutoReference, VoiceFit
from .reference import AUTO, BUILTIN_NAMES, ReferenceSpectrum, band_reliability, learned_reference
from .ring import AudioRing
from .steadiness import combined_reliability, window_reliability


# No estimate from less than this much audio: a spectrum of half a second of speech or a song swings
# by several dB, and acting on it put the first 3 s of the speech clips 1.2-1.5 LU off (auto-gain
# and the adaptive cascade both started from one segment). 3-4 half-overlapping segments.
MIN_SECONDS = 0.85
# A confident estimate is renewed about three times a second (every second or third new FFT
# segment), not at every one: the engine follows the input's character over seconds anyway, and
# the estimate plus the engine's update is most of the analysis cost. Until an estimate is
# confident (listening, too quiet, ...), every new segment is judged, so it comes back at once.
ESTIMATE_INTERVAL_S = 0.3
# The stretch whose average spectrum is compared with the reference (see the module doc).
JUDGE_WINDOW_S = 4.0


class ReferenceCaptureError(SemeqError):
    """"Learn reference" was asked for while there is not enough signal to learn from."""


def _is_builtin_voice(reference) -> bool:
    """The built-in voice reference as chosen (not auto's): fitted to the talker's F0."""
    return isinstance(reference, ReferenceSpectrum) and reference.name == "voice" and \
        reference.source.startswith("built-in")


class Analyzer:
    """Rolling spectrum analyzer and term-profile estimator for ``channels``-channel input."""

    def __init__(self, sample_rate: float, channels: int, model=None, window_s: float = 2.0,
                 reference: ReferenceSpectrum | str | None = None, min_level_db: float = -60.0,
                 hysteresis_db: float = 6.0, min_seconds: float = MIN_SECONDS, min_bands: float = MIN_BANDS,
                 max_deviation_rms_db: float = 12.0, learn_seconds: float = 30.0,
                 judge_window_s: float = JUDGE_WINDOW_S):
        if not (sample_rate > 0 and math.isfinite(sample_rate)):
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        self.sample_rate = float(sample_rate)
        self.channels = int(channels)
        self.model = model
        self.window_s = float(window_s)
        # reference: a ReferenceSpectrum, "auto" (pick the built-in that fits the source, see
        # auto_reference.py) or None (the music reference).
        self.auto: AutoReference | None = AutoReference(self.sample_rate) if reference == AUTO else None
        self.on_reference_switch = None  # called with the new label when auto switches (log line)
        if self.auto is not None:
            reference = self.auto.reference
        self.reference = reference if reference is not None else ReferenceSpectrum.default()
        self._voice_fit = VoiceFit(self.sample_rate) if _is_builtin_voice(self.reference) else None
        # The last learned or loaded reference stays selectable next to the built-ins.
        self._own_reference = None if self.auto is not None or self.reference.source == "built-in" or \
            self.reference.name in BUILTIN_NAMES else self.reference
        self.min_level_db = float(min_level_db)
        self.hysteresis_db = float(hysteresis_db)
        self.min_bands = float(min_bands)
        self.max_deviation_rms_db = float(max_deviation_rms_db)

        self.nfft = segment_length(self.sample_rate)
        self.hop = hop_length(self.sample_rate, self.nfft)
        self.bands = BandAnalyzer(self.sample_rate, self.nfft)
        self.recent = RecentSpectrum(self.sample_rate, self.channels)  # auto-gain's feed
        self.estimate_every = max(1, int(math.ceil(ESTIMATE_INTERVAL_S * self.sample_rate / self.hop)))
        # Segments whose union spans window_s seconds.
        self.n_segments = max(1, int(round((self.window_s * self.sample_rate - self.nfft) / self.hop)) + 1)
        self.judge_window_s = max(float(judge_window_s), self.window_s)
        self.n_judge = max(self.n_segments,
                           int(round((self.judge_window_s * self.sample_rate - self.nfft) / self.hop)) + 1)
        self.min_segments = max(1, int(math.ceil((min_seconds * self.sample_rate - self.nfft) / self.hop)) + 1)
        # "Learn reference" averages a longer stretch than the 2 s window (a whole soundcheck phrase):
        # the segment history keeps up to learn_seconds of band powers; the window is its tail.
        self.learn_seconds = float(learn_seconds)
        self.n_history = max(self.n_judge, int(round(self.learn_seconds * self.sample_rate / self.hop)))
        # Room for the window plus a few seconds of slack, so a late update loses nothing.
        capacity = self.nfft + self.hop * (self.n_segments + int(4.0 * self.sample_rate / self.hop))
        self.ring = AudioRing(capacity, self.channels)

        self._segment = np.zeros((self.nfft, self.channels), dtype=np.float32)
        self._seg_power = np.zeros((self.n_history, ANALYSIS_FREQS.size))
        self._seg_ms = np.zeros(self.n_history)
        self._seg_partials = np.zeros(self.n_history, dtype=np.int64)
        self._no_judge = np.empty(ANALYSIS_FREQS.size)  # _window_means' unused output while not judging
        self._lock = threading.Lock()  # analysis-side only: update vs learn/load from the control thread
        self._reset_locked()

    # ----------------------------------------------------------------- audio thread
    def push(self, block: np.ndarray) -> None:
        """Feed input audio (``[frames, channels]`` float32). Audio-thread safe: no lock, no allocation."""
        self.ring.push(block)

    # -------------------------------------------------------------- analysis thread
    def reset(self) -> None:
        """Forget the analysed spectra (e.g. when the input source changes)."""
        with self._lock:
            self._reset_locked()

    def _reset_locked(self):
        self._filled = 0
        self._slot = 0
        self._sum_power = np.zeros(ANALYSIS_FREQS.size)  # every segment since reset (whole-file average)
        self._sum_power2 = np.zeros(ANALYSIS_FREQS.size)  # ... and of their squares (its reliability)
        self._sum_ms = 0.0
        self._sum_count = 0
        self._sum_sounding = 0  # segments with any signal since reset, and the near-pure ones
        self._sum_tonal = 0
        # Segment j covers frames [j*hop, j*hop + nfft); start with the first one not yet begun.
        self._next_segment = -(-self.ring.written // self.hop)
        self._was_confident = False
        self._seg_count = 0  # segments analysed since reset (with _release: the ease-in's start)
        self.recent.reset(self.ring.written)
        self._release = None
        self._dirty = True  # the next update must estimate afresh
        self._pending = 0  # new segments since the last estimate
        self.last_estimate = no_estimate("listening: no audio analysed yet", self.ring.written / self.sample_rate)

    def _analyse_new_segments(self) -> int:
        written = self.ring.written
        last = (written - self.nfft) // self.hop  # newest complete segment
        if last < self._next_segment:
            return 0
        # Catch up on everything the ring still holds (a late update loses nothing it can get).
        first = max(self._next_segment, last - (self.ring.capacity - self.nfft) // self.hop)
        done = 0
        for j in range(first, last + 1):
            if not self.ring.read_into(j * self.hop + self.nfft, self._segment):
                continue  # lapped by the writer: that segment is lost, the next ones are fine
            seg = self._segment
            power, ms = self.bands.band_power(seg)  # zeroes a NaN burst in seg (the cues read it too)
            if self.auto is not None:  # the source cues read each hop's new audio once
                self.auto.add(seg[-self.hop:, 0])
            elif self._voice_fit is not None:
                self._voice_fit.add(seg[-self.hop:, 0])
            self._seg_power[self._slot] = power
            self._seg_ms[self._slot] = ms
            partials = self.bands.last_partials
            self._seg_partials[self._slot] = partials
            self._sum_sounding += partials > 0
            self._sum_tonal += 0 < partials <= MAX_TONE_PARTIALS
            self._slot = (self._slot + 1) % self.n_history
            self._filled = min(self._filled + 1, self.n_history)
            self._sum_power += power
            self._sum_power2 += power * power
            self._sum_ms += ms
            self._sum_count += 1
            self._seg_count += 1
            done += 1
        self._next_segment = last + 1
        self._pending += done
        return done

    def _recent(self, n: int) -> np.ndarray:
        """History slots of the newest ``n`` segments."""
        n = min(n, self._filled)
        return (self._slot - 1 - np.arange(n)) % self.n_history

    @property
    def window_segments(self) -> int:
        return min(self._filled, self.n_segments)

    def window_power(self) -> np.ndarray | None:
        """Mean band powers of the current window (linear), or None before the first segment."""
        if self._filled == 0:
            return None
        return self._seg_power[self._recent(self.n_segments)].mean(axis=0)

    def _window_level_db(self, n: int) -> float:
        ms = float(self._seg_ms[self._recent(n)].mean())
        return 10.0 * math.log10(max(ms, 1e-30))

    def average_since_reset(self) -> tuple[np.ndarray, float] | None:
        """``(mean band powers, level dBFS)`` over everything analysed since reset, or None."""
        with self._lock:
            self._analyse_new_segments()
            if self._sum_count == 0:
                return None
            ms = self._sum_ms / self._sum_count
            return self._sum_power / self._sum_count, 10.0 * math.log10(max(ms, 1e-30))

    def reliability_since_reset(self) -> np.ndarray | None:
        """``band_reliability`` of the average since reset (a whole file as a reference), or None."""
        with self._lock:
            if self._sum_count == 0:
                return None
            n = self._sum_count
            return band_reliability(self._sum_power / n, self._sum_power2 / n, n)

    def tonal_share_since_reset(self) -> float:
        """Share of the segments since reset that were near-pure tones (see ``presence``)."""
        with self._lock:
            return 0.0 if self._sum_sounding == 0 else self._sum_tonal / self._sum_sounding

    def overall_estimate(self, time_s: float | None = None) -> InputEstimate | None:
        """The estimate for everything analysed since reset (a whole file), or None if nothing."""
        avg = self.average_since_reset()
        if avg is None:
            return None
        t = self._analysed_until_s() if time_s is None else time_s
        return self.estimate_from_power(avg[0], level_db=avg[1], time_s=t,
                                        tonal_share=self.tonal_share_since_reset(),
                                        judge_reliability=self.reliability_since_reset())

    def update(self) -> InputEstimate:
        """Analyse what arrived since the last call and return the current estimate (the same
        object as last time when there is nothing new). Between estimates (a confident one is
        renewed every ``ESTIMATE_INTERVAL_S``) new audio gives a *refresh*: the previous estimate
        with only ``recent_band_power``, ``recent_seconds`` and ``time_s`` new."""
        with self._lock:
            self._analyse_new_segments()
            recent = self.recent.take(self.ring)
            due = self._pending >= (self.estimate_every if self.last_estimate.confident else 1)
            if not (self._dirty or due):
                # Auto-gain follows the newest audio at each update (a held note's loudness under a
                # big EQ is not the last one's: docs/adaptive.md, "Auto-gain beyond the tables"); the rest
                # waits for the estimate.
                if recent is not None and self.last_estimate.band_power is not None:
                    self.last_estimate = self.last_estimate.with_recent(
                        recent[0], recent[1], time_s=self._analysed_until_s(), refresh=True)
                # Otherwise nothing new to say: the very same estimate (it still refers to the
                # same audio), so its consumers can tell nothing changed and skip their work.
                return self.last_estimate
            est = self._estimate_locked()
            if recent is not None and est.band_power is not None:
                est = est.with_recent(recent[0], recent[1])
            self._dirty = False
            self._pending = 0
            self.last_estimate = est
            return est

    def _window_means(self) -> tuple[np.ndarray, float, float, np.ndarray | None]:
        """``(window_power(), its level in dBFS, the share of its near-pure-tone segments, the
        judged stretch's mean band powers or None while it is no longer than the window)``, in
        one pass over the history (``history_kernel``), bit for bit what numpy gave."""
        n = min(self.n_segments, self._filled)
        judging = self._filled > self.n_segments
        power = np.empty(ANALYSIS_FREQS.size)
        judge = np.empty(ANALYSIS_FREQS.size) if judging else self._no_judge
        sounding, tonal = history_kernel.window_means(
            self._seg_power, self._seg_partials, (self._slot - 1) % self.n_history, n,
            min(self.n_judge, self._filled) if judging else 0, MAX_TONE_PARTIALS, power, judge)
        return (power, self._window_level_db(n), 0.0 if sounding == 0 else tonal / sounding,
                judge if judging else None)

    def _analysed_until_s(self) -> float:
        """Audio time at the end of the newest analysed segment (what the estimates refer to)."""
        if self._filled == 0:
            return self.ring.written / self.sample_rate
        return ((self._next_segment - 1) * self.hop + self.nfft) / self.sample_rate

    def _estimate_locked(self) -> InputEstimate:
        time_s = self._analysed_until_s()
        if self.auto is not None and self._filled:
            self._follow_auto(time_s)
        elif self._voice_fit is not None and self._filled:
            fitted = self._voice_fit.update()
            if fitted is not None:  # the chosen voice reference, judged from the talker's F0 up
                self.reference = fitted
        if self._filled == 0:
            return no_estimate("listening: no audio analysed yet", time_s, reference=self.reference.name)
        power, level_db, tonal, judge = self._window_means()
        if self._filled < self.min_segments:
            seconds = (self.nfft + (self._filled - 1) * self.hop) / self.sample_rate
            return no_estimate(f"listening: {seconds:.1f} s analysed", time_s, level_db,
                               band_power=power, spectrum_db=10.0 * np.log10(power),
                               reference=self.reference.name)
        est = self.estimate_from_power(power, level_db=level_db, time_s=time_s,
                                       was_confident=self._was_confident, tonal_share=tonal,
                                       judge_power=judge,
                                       judge_reliability=None if self.reference.band_reliability is None
                                       else window_reliability(self._seg_power[self._recent(self.n_judge)]))
        if self.auto is not None and self.auto.listening and est.confident:
            # No estimate until auto's provisional decision (about a second of sound): judged
            # against the placeholder, it would be taken back at once.
            est = replace(est, confident=False, z_a=None, profile=None,
                          reason=f"listening: auto tells a voice from music in "
                                 f"{AUTO_PROVISIONAL_S:.0f} s of sound")
        elif est.confident and self._release is None:
            self._release = self._seg_count  # the first estimate: the ease-in starts here
        self._was_confident = est.confident
        return est.with_evidence(self.evidence())

    def _follow_auto(self, time_s: float) -> None:
        decisions = len(self.auto.switch_log)
        confirmed = self.auto.confirmed
        ref = self.auto.decide(time_s)
        if self.auto.confirmed and not confirmed:
            self._release = None  # the correction eases in from the confirming decision (evidence())
        if ref is None:
            return
        self.reference = ref
        if len(self.auto.switch_log) != decisions:  # the first decision, a switch or a new talker
            self._was_confident = False
            # A new reference: the estimate's ease-in starts again (the engine glides from what it
            # applies now to the new reading instead of lurching to it).
            self._release = None
            if self.on_reference_switch is not None:
                self.on_reference_switch(self.auto.label)

    @property
    def reference_label(self) -> str:
        """The reference in use, for people: "auto → voice (F0 ≈ 120 Hz)", "music (built-in)"."""
        return self.reference.describe()

    def evidence(self) -> float:
        """0 when the first estimate is possible (``min_seconds`` of audio), 1 once the window is
        full: a source's first estimates rest on the least audio, and the engine eases the
        adaptive correction in with this figure rather than lurching in on the first one. Under
        ``auto``, 0 until its confirming decision, then eased in from there."""
        if self.auto is not None and not self.auto.confirmed:
            # Auto's provisional decision: the estimate is shown, but the correction waits for the
            # confirming one (3 s of sound). Judged against a reference that may still change, it
            # would have to be taken back (8 of 396 made takes changed kind at 3 s; docs/adaptive.md).
            return 0.0
        span = self.n_segments - self.min_segments
        if span <= 0:
            return 1.0
        filled = self._filled
        if self._release is not None:  # estimates held back (auto listening): ease in from the first
            filled = min(filled, self.min_segments + self._seg_count - self._release)
        return float(min(max((filled - self.min_segments) / span, 0.0), 1.0))

    def band_weights(self, spectrum_db) -> np.ndarray:
        """Which bands are judged: the input's presence times the reference's own weights."""
        return presence_weights(spectrum_db, self.bands.valid) * self.reference.band_weight

    def estimate_from_power(self, power, *, level_db: float | None = None, time_s: float = 0.0,
                            was_confident: bool = False, tonal_share: float = 0.0,
                            judge_power=None, judge_reliability=None) -> InputEstimate:
        """The estimate for given long-term band powers (a live window or a whole file's average).

        ``tonal_share``: the share of the analysed segments that were near-pure tones.
        ``judge_power``: the band powers compared with the reference (a longer stretch than
        ``power``, see the module doc); None: ``power`` itself. ``judge_reliability``: how steady
        each band of the judged stretch was (``steadiness``; None: the profile takes every band's
        level as sure).
        """
        power = np.maximum(np.asarray(power, dtype=np.float64), 1e-30)
        spectrum_db = 10.0 * np.log10(power)
        if level_db is None:
            level_db = 10.0 * math.log10(float(power.sum()))
        spectra = {"band_power": power, "spectrum_db": spectrum_db, "reference": self.reference.name}
        threshold = self.min_level_db - (self.hysteresis_db if was_confident else 0.0)
        if level_db < threshold:
            return no_estimate(f"too quiet ({level_db:.0f} dBFS, needs {threshold:.0f})", time_s,
                               level_db, **spectra)
        presence = presence_weights(spectrum_db, self.bands.valid)
        weight = presence * self.reference.band_weight
        judged_db = spectrum_db if judge_power is None else \
            10.0 * np.log10(np.maximum(np.asarray(judge_power, dtype=np.float64), 1e-30))
        raw = judged_db - self.reference.band_db
        judged = judged_weights(raw, weight)
        deviation = self._level_free(raw, judged if judged.max() > 0 else weight)
        spectra["deviation_db"] = deviation
        spectra["band_weight"] = weight
        if tonal_share > 0.5:
            return no_estimate("near-pure tone: no timbre to judge (a sine or whistle)", time_s,
                               level_db, **spectra)
        span = octaves(weight)
        # The reference has little where the input plays (the voice reference on a kick drum, a
        # bass line's soundcheck on hats): nothing to judge against there but the source itself.
        uncovered = span < self.min_bands / 3.0 <= octaves(presence)
        if span < self.min_bands / 3.0 and not uncovered:
            return no_estimate(f"too narrow a range ({span:.1f} octaves with signal, needs "
                               f"{self.min_bands / 3.0:.0f})", time_s, level_db, **spectra)
        if uncovered:
            weight, raw = presence, judged_db
            spectra["band_weight"] = weight
        if uncovered or self._far_from_reference(deviation, judged, weight):
            # The reference is fitted to the source (reference_fit.py): the smooth part of its
            # deviation is taken as its own, its neutral; the estimate judges the shaping around
            # it, and says so.
            fit = fit_to_source(raw, weight)
            raw = raw - fit.line_db
            judged = fit.judged
            if octaves(judged) < self.min_bands / 3.0:
                return no_estimate(f"too narrow a range fits any neutral ({octaves(judged):.1f} octaves "
                                   f"within {IMPLAUSIBLE_DB:.0f} dB of the source's own shape)",
                                   time_s, level_db, **spectra)
            deviation = self._level_free(raw, judged)
            spectra["deviation_db"] = deviation
            spectra["reference_tilt_db_per_oct"] = fit.tilt_db_per_oct
            learned = not (self.reference.source.startswith("built-in") or self.reference.auto)
            spectra["reference_note"] = own_shape_note(self.reference.name, span, octaves(presence)) \
                if uncovered else fit_note(fit.tilt_db_per_oct, self.reference.name, learned)
        if self.model is None:
            return no_estimate("no model loaded", time_s, level_db, **spectra)
        # A learned reference's unsure bands get less say in the encoder and the profile (not in
        # the checks above, nor in the band weights the boost ceiling reads); where it has
        # nothing (uncovered) it says nothing.
        reference_reliability = None if uncovered else self.reference.band_reliability
        encoder_weight = judged if reference_reliability is None else judged * reference_reliability
        # The analyzer's own weights are in range by construction: no need to check them again.
        # The encoder's reading, refined so its decoded EQ follows the deviation (model/refine.py).
        z_a = np.asarray(self.model.read_curve(deviation, encoder_weight, check=False), dtype=np.float64)
        # The profile judges the measured deviation itself against every word's curve, on the
        # judged bands: the curve encoder reads into the part of the latent SAFE's settings span
        # (what the adaptive EQ needs), where most crowd words' centroids are not. Against a
        # learned reference (another take of the same source) what differs is mostly which
        # notes were played, so a band counts by how sure the difference of the two levels is,
        # the judged stretch's steadiness included (steadiness.py). Against a built-in the
        # source's own steady difference from the average dominates, which steadiness cannot
        # see (against `voice`: made child voice 22 -> 14 %, 16 kHz male 66 -> 57 % with it).
        profile_weight = encoder_weight if reference_reliability is None or judge_reliability is None \
            else judged * combined_reliability(reference_reliability, judge_reliability)
        profile = tuple(self.model.curve_profile(deviation, profile_weight, check=False))
        return InputEstimate(confident=True, reason="ok", time_s=time_s, level_db=level_db,
                             z_a=z_a, profile=profile, **spectra)

    def _far_from_reference(self, deviation, judged, weight) -> bool:
        """The input is not "the reference plus an EQ": its deviation tilts beyond what an EQ
        makes (``MAX_TILT_DB_PER_OCT``), or too little of it lies within ``IMPLAUSIBLE_DB`` of
        its level, or it is too large overall (``reference_fit``)."""
        judged_sum = float(judged.sum())
        fits = judged_sum / float(weight.sum())
        rms = math.sqrt(float(np.dot(judged, deviation * deviation)) / max(judged_sum, 1e-9))
        return abs(tilt_db_per_octave(deviation, judged)) > MAX_TILT_DB_PER_OCT or fits < 0.5 or \
            octaves(judged) < self.min_bands / 3.0 or rms > self.max_deviation_rms_db

    def deviation_db(self, spectrum_db: np.ndarray) -> np.ndarray:
        """Spectrum minus reference, minus its level over the judged bands (as estimates have it)."""
        raw = np.asarray(spectrum_db, dtype=np.float64) - self.reference.band_db
        weight = self.band_weights(spectrum_db)
        judged = judged_weights(raw, weight)
        return self._level_free(raw, judged if judged.any() else weight)

    @staticmethod
    def _level_free(raw: np.ndarray, weight: np.ndarray) -> np.ndarray:
        total = float(weight.sum())
        if not total > 0:
            return raw - raw.mean()
        return raw - float(np.dot(raw, weight)) / total

    # ------------------------------------------------------------------ reference
    def learn_reference(self, seconds: float | None = None, name: str = "learned") -> ReferenceSpectrum:
        """Make the long-term spectrum of the last ``seconds`` (default: all kept, up to
        ``learn_seconds``) the reference: "learn reference" at soundcheck. Any sample rate: bands
        above Nyquist (or empty at soundcheck) get weight 0 and are not judged against it."""
        with self._lock:
            self._analyse_new_segments()
            n = self._filled if seconds is None else \
                max(1, int(round((float(seconds) * self.sample_rate - self.nfft) / self.hop)) + 1)
            n = min(n, self._filled)
            if n < self.min_segments:
                need_s = (self.nfft + self.min_segments * self.hop) / self.sample_rate
                raise ReferenceCaptureError("not enough audio analysed yet to learn a reference "
                                            f"(play at least {need_s:.1f} s)")
            level_db = self._window_level_db(n)
            if level_db < self.min_level_db:
                raise ReferenceCaptureError(f"input too quiet to learn a reference ({level_db:.0f} dBFS, "
                                            f"needs {self.min_level_db:.0f})")
            seg = self._seg_power[self._recent(n)]
            power = seg.mean(axis=0)
            span = (self.nfft + (n - 1) * self.hop) / self.sample_rate
            ref = learned_reference(power, seconds=span, sample_rate=self.sample_rate, valid=self.bands.valid,
                                    reliability=band_reliability(power, (seg * seg).mean(axis=0), n))
            if octaves(ref.band_weight) < self.min_bands / 3.0:
                raise ReferenceCaptureError(f"too narrow a range to learn a reference from "
                                            f"({octaves(ref.band_weight):.1f} octaves with signal)")
            self._set_reference_locked(replace(ref, name=name))
            return self.reference

    def _set_reference_locked(self, reference: ReferenceSpectrum | str) -> None:
        if reference == AUTO or (isinstance(reference, ReferenceSpectrum) and reference.meta.get("auto")):
            # (Back) to auto: it starts listening afresh, its cues from the audio to come.
            self.auto = AutoReference(self.sample_rate)
            self._voice_fit = None
            self.reference = self.auto.reference
            self._was_confident = False
            self._release = None  # estimates are held until auto decides, then eased in afresh
            self._dirty = True
            return
        self.auto = None  # a chosen, learned or loaded reference always wins over auto
        self._voice_fit = VoiceFit(self.sample_rate) if _is_builtin_voice(reference) else None
        self.reference = reference
        if reference.source != "built-in" and not reference.source.startswith("built-in"):
            self._own_reference = reference
        self._was_confident = False
        self._dirty = True

    def set_reference(self, reference: ReferenceSpectrum | str) -> None:
        with self._lock:
            self._set_reference_locked(reference)

    def reference_choices(self) -> list[ReferenceSpectrum]:
        """What "next reference" steps through: auto, the built-ins, then the learned/loaded one."""
        refs = [self.auto.reference if self.auto is not None else AutoReference.listening_reference()]
        refs += [ReferenceSpectrum.builtin(name) for name in BUILTIN_NAMES]
        if self._own_reference is not None:
            refs.append(self._own_reference)
        return refs

    def next_reference(self, step: int = 1) -> ReferenceSpectrum:
        """Select the next (or previous) reference of ``reference_choices`` and return it."""
        with self._lock:
            refs = self.reference_choices()
            current = 0 if self.auto is not None else next(
                (i for i, r in enumerate(refs) if r is self.reference or
                 (r.name == self.reference.name and (r.source == self.reference.source or (
                     r.source.startswith("built-in") and self.reference.source.startswith("built-in"))))), -1)
            self._set_reference_locked(refs[(current + step) % len(refs)])
            return self.reference

    def save_reference(self, path):
        return self.reference.save(path)

    def load_reference(self, spec) -> ReferenceSpectrum:
        """Use ``auto``, a built-in reference (``music``, ``voice``, ``pink``) or one saved in a file."""
        if str(spec) == AUTO:
            self.set_reference(AUTO)
            return self.reference
        ref = ReferenceSpectrum.resolve(str(spec))  # raises ReferenceFileError, keeps the old one
        self.set_reference(ref)
        return ref
