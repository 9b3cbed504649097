"""The semantic engine: control state + input estimate -> the EQ to apply (DESIGN.md section 3).

Target latent: the morph ``z_t = (1 - alpha) c_A + alpha c_B`` moved by the traverse controls along
the model's two principal axes (``traverse_x * axis_scale[0] * axes[0] + ...``).

Adaptive intensity ``k`` (the sound form, not the seeds' naive one): the applied filter is the
cascade of ``D(z_a + k (z_t - z_a))`` and the inverse of ``D(z_a)`` (10 biquads), with ``z_a`` the
analyzer's estimate of the input's own character. k = 1 moves the input's character all the way to
the target, k up to 1.5 exaggerates. k = 0 short-circuits to the flat setting (all gains 0 dB, no
inverse): exactly flat at every instant whatever the estimate does meanwhile, whereas a filter and
its inverse that are both moving only cancel once their smoothing has settled. Turning k up from 0
then glides both cascades up from 0 dB together. Without an estimate
(silence, too little signal) or with adaptation switched off, the static target ``D(z_t)`` is
applied with its gains scaled by ``k``, and the settings say so.

Loudness: ``autogain_db`` is the compensation for the EQ path (``EQProcessor.set_wet_gain_db``), so
bypass A/B compares at equal loudness; ``output_gain_db`` is the performer's master gain
(``EQProcessor.set_output_gain_db``). ``gain_db`` is their sum for callers with a single gain stage.
Auto-gain follows the newest audio's spectrum at each analyzer update: between estimates the
analyzer hands on *refreshes* (only the newest frame's band powers are new, and how much audio is
new: ``recent_seconds``, auto-gain's time step), which move auto-gain alone.

The input latent is smoothed over time (one-pole, ``input_smoothing_s``, on the estimates' audio
time): the adaptive EQ should follow the input's character, not every phrase of it, or it would
audibly wobble with the music. Losing the estimate drops the smoothed latent at once (fallback);
the next confident estimate starts it afresh.

Onset: a source's first estimates rest on the least audio (the analyzer's minimum, under 1 s), and
a correction that lurches in on the first one is what an engineer would not do by hand (on a voice
it put the first 3 s of the auto-gained morph over 1 LU off). So the correction is eased in with
the estimate's ``evidence`` (0 at the first possible estimate, 1 once the analyzer's window is
full): the latent the cascade undoes is ``z_n + evidence (z_a - z_n)``, ``z_n`` the *neutral*
latent (the curve encoder's reading of an input exactly like its reference, on the bands this
input has). At evidence 0 the EQ is the target as for a neutral input, close to the static
fallback it replaces; at 1 (every estimate once the window has filled) nothing changes. While
the evidence is 0 (auto's provisional decision holds it there) the latent is not smoothed: the
one-pole starts with the ease-in. When the
analyzer restarts the ease-in without a gap (auto changed the reference), ``z_n`` is the latent
applied just before: the correction glides to the new reading instead of stepping back to neutral.

The boost ceiling (``ceiling.py``) bounds the composed cascade, in every mode but flat: the net
curve never rises above ``max_boost_db`` (the stage's cap; the EQ's own +12 dB when none is set)
nor falls below -12 dB. While adaptation is on (adaptive, or its static fallback when there is
no estimate) it also never rises above 0.5 dB where the input has nothing: the analyzer's band
weights, tracked like the latent (one-pole) and held through silence, so a pause between songs
keeps the EQ. With adaptation switched off the word's EQ is applied as it is, within the cap.
Auto-gain predicts the loudness of the EQ as limited, since that is what plays.

Decoder calls are cached (small LRU keyed by the latent's bytes), so an unchanged state and
estimate cost no decode at all.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..analysis.estimate import InputEstimate
from ..analysis.loudness import AutoGain
from ..analysis.reference import ReferenceSpectrum
from ..params import ANALYSIS_FREQS, FLAT_PARAMS, GAIN_INDEX, clamp_params
from .ceiling import BoostCeiling
from .state import ControlState

MODE_ADAPTIVE = "adaptive"
MODE_STATIC = "static"
MODE_FALLBACK = "static fallback: no estimate"
MODE_FLAT = "flat"

# The latent space is tanh-bounded: extrapolation (k > 1, traverse) is kept inside it.
LATENT_LIMIT = 1.0
# Spectra quieter than this (dBFS) say nothing about the programme: auto-gain keeps what it had.
AUTOGAIN_MIN_LEVEL_DB = -70.0
# Nor, below the analyzer's "too quiet" level, about where the programme has signal: a pause's
# hiss must not become the picture of the bands, so the band weights hold until the music is back.
BAND_WEIGHT_MIN_LEVEL_DB = -60.0
BAND_WEIGHT_SMOOTHING_S = 0.5
_FLAT = FLAT_PARAMS.copy()
_FLAT.setflags(write=False)


@dataclass(frozen=True)
class EQSettings:
    """Everything the audio side needs for one control update, plus what the panel shows."""

    forward: np.ndarray  # 13 SAFE parameters applied
    inverse: np.ndarray | None  # 13 SAFE parameters whose effect is undone (None: no inverse)
    autogain_db: float  # loudness compensation of the EQ path (0 with auto-gain off)
    output_gain_db: float  # the performer's master gain
    bypass: bool
    mode: str  # MODE_ADAPTIVE, MODE_STATIC, MODE_FALLBACK or MODE_FLAT
    reason: str  # why the mode (e.g. the analyzer's "too quiet (-72 dBFS ...)")
    intensity: float
    z_target: np.ndarray
    z_input: np.ndarray | None
    predicted_change_db: float  # K-weighted loudness change of the applied EQ before compensation
    boost_cap_db: float | None = None  # the configured boost cap (None: off, the EQ's +12 dB range)
    cap_acting: bool = False  # the cap, the no-boost-where-no-signal rule or the range changed the EQ
    held_back_db: float = 0.0  # how far the uncapped net curve rose above the allowed one (dB)
    cap_reason: str = ""  # which limit acted and where, e.g. "no signal near 40 Hz: no boost there"

    @property
    def gain_db(self) -> float:
        return self.autogain_db + self.output_gain_db

    def applied_db(self, freqs, sample_rate: float = 48000.0) -> np.ndarray:
        """Magnitude (dB) of the applied cascade: forward minus the undone inverse."""
        from ..dsp.design import response_db

        h = response_db(self.forward, freqs, sample_rate)
        if self.inverse is not None:
            h = h - response_db(self.inverse, freqs, sample_rate)
        return h

    def apply_to(self, processor) -> None:
        """Hand these settings to an ``EQProcessor`` (control thread), as one atomic update."""
        processor.apply(self.forward, self.inverse, wet_gain_db=self.autogain_db,
                        output_gain_db=self.output_gain_db, bypass=self.bypass)

    def to_dict(self) -> dict:
        from ..params import params_to_mapping

        return {
            "mode": self.mode, "reason": self.reason, "intensity": self.intensity,
            "forward": params_to_mapping(self.forward),
            "inverse": None if self.inverse is None else params_to_mapping(self.inverse),
            "autogain_db": round(self.autogain_db, 3), "output_gain_db": self.output_gain_db,
            "predicted_change_db": round(self.predicted_change_db, 3), "bypass": self.bypass,
            "boost_cap": self.boost_cap_dict(),
        }

    def boost_cap_dict(self) -> dict:
        """The boost ceiling's state as the panel, the logs and render reports show it."""
        return {"max_boost_db": self.boost_cap_db, "acting": self.cap_acting,
                "held_back_db": round(self.held_back_db, 2), "reason": self.cap_reason}


class SemanticEngine:
    """Turns ``ControlState`` and the latest ``InputEstimate`` into ``EQSettings``.

    Call ``compute`` from the control thread whenever the state or the estimate changes (at least
    at the analysis rate, so auto-gain can follow the programme). Auto-gain time comes from the
    estimates' audio time, so an offline render is deterministic.
    """

    def __init__(self, model, sample_rate: float, reference_band_db=None, autogain_shape_tau_s: float = 1.5,
                 input_smoothing_s: float = 2.0, cache_size: int = 32, max_boost_db: float | None = None):
        self.model = model
        self.sample_rate = float(sample_rate)
        self.ceiling = BoostCeiling(self.sample_rate, max_boost_db)
        self._band_weight: np.ndarray | None = None  # tracked band weights (None: all bands signal)
        self.ceiling_seconds = 0.0  # time the ceiling took in the last compute (bench)
        if reference_band_db is None:  # until the programme is heard, assume a typical mix
            reference_band_db = ReferenceSpectrum.default().band_db
        self.autogain = AutoGain(self.sample_rate, initial_band_db=reference_band_db,
                                 shape_tau_s=autogain_shape_tau_s)
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._cache_size = int(cache_size)
        self._target_key = None
        self._target = None
        self._last_estimate_time: float | None = None
        self._last_observed: InputEstimate | None = None  # the analyzer repeats an unchanged estimate
        self._refresh_dt = 0.0  # audio time of refreshes since the last full estimate (observe)
        self._seen_full = False  # a refresh is taken whole until its estimate has been (observe)
        self._eq_memo = None  # (_EQInputs, _AppliedEQ) of the last compute
        self.input_smoothing_s = float(input_smoothing_s)
        self._z_input: np.ndarray | None = None
        self._evidence = 1.0  # the latest confident estimate's evidence (module doc, "Onset")
        self._z_neutral: np.ndarray | None = None  # where the ease-in starts (this source's neutral)
        self.decode_calls = 0

    # ------------------------------------------------------------------- latents
    def target_latent(self, state: ControlState) -> np.ndarray:
        """Morph point of term A/B at alpha, moved by the traverse controls."""
        key = (state.term_a, state.term_b, state.alpha, state.traverse_x, state.traverse_y)
        if key != self._target_key:
            z = self.model.morph_latent(state.term_a, state.term_b, state.alpha)
            if state.traverse_x or state.traverse_y:
                z = self.model.traverse(z, state.traverse_x, state.traverse_y)
            self._target = np.clip(np.asarray(z, dtype=np.float64), -LATENT_LIMIT, LATENT_LIMIT)
            self._target.setflags(write=False)
            self._target_key = key
        return self._target

    def decode(self, *latents: np.ndarray) -> list[np.ndarray]:
        """Decode latents, reusing cached results; misses are decoded in one batch."""
        keys = [np.ascontiguousarray(z, dtype=np.float64).tobytes() for z in latents]
        missing = [i for i, k in enumerate(keys) if k not in self._cache]
        if missing:
            batch = np.stack([latents[i] for i in missing])
            params = clamp_params(np.asarray(self.model.decode(batch)).reshape(len(missing), -1),
                                  self.sample_rate)
            self.decode_calls += 1
            for i, p in zip(missing, params):
                p.setflags(write=False)
                self._cache[keys[i]] = p
        out = []
        for k in keys:
            self._cache.move_to_end(k)
            out.append(self._cache[k])
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return out

    # --------------------------------------------------------------------- update
    def observe(self, estimate: InputEstimate | None) -> None:
        """Track the input latent and the programme's spectrum (once per new estimate)."""
        if estimate is None:
            self._z_input = None
            return
        if estimate is self._last_observed:
            return
        # A refresh may come with no new segment (same time_s): its new audio is still new.
        fresh_audio = estimate.refresh and estimate.recent_seconds > 0.0
        if (self._last_estimate_time is not None and estimate.time_s == self._last_estimate_time
                and not fresh_audio):
            return
        self._last_observed = estimate
        dt = 0.0 if self._last_estimate_time is None else max(estimate.time_s - self._last_estimate_time, 0.0)
        self._last_estimate_time = estimate.time_s
        if estimate.band_power is not None and estimate.level_db >= AUTOGAIN_MIN_LEVEL_DB:
            # The newest audio; the window when there is none, and to start from (a first frame
            # of 0.18 s may be one vowel or one consonant: auto-gain's averages begin with 2 s).
            recent = estimate.recent_band_power if self.autogain.started else None
            self.autogain.observe(estimate.band_power if recent is None else recent,
                                  estimate.recent_seconds if recent is not None and estimate.recent_seconds > 0 else dt)
        if estimate.refresh and self._seen_full:  # only the new audio's spectrum is new
            self._refresh_dt += dt
            return
        dt, self._refresh_dt, self._seen_full = dt + self._refresh_dt, 0.0, True
        if estimate.confident and estimate.z_a is not None:
            z_a = np.asarray(estimate.z_a, dtype=np.float64)
            evidence = float(min(max(estimate.evidence, 0.0), 1.0))
            if self._z_input is not None and evidence < self._evidence:
                # The analyzer restarted its ease-in (auto changed the reference): ease from what
                # is applied now to the new reading, not back from neutral.
                self._z_neutral = self.input_latent()
                self._z_input = None
            elif self._z_input is None:
                self._z_neutral = None  # a new start: its neutral is found if it is needed
            self._evidence = evidence
            if self._evidence < 1.0 and self._z_neutral is None:
                self._z_neutral = self._neutral_latent(estimate.band_weight)
            if self._z_input is None or self.input_smoothing_s <= 0.0 or self._evidence == 0.0:
                # At evidence 0 nothing of the reading is applied yet (auto's provisional decision,
                # or a new start): smoothing starts with the ease-in, from the reading it eases in,
                # not from readings that were never applied.
                self._z_input = z_a.copy()
            else:
                self._z_input = self._z_input + (1.0 - np.exp(-dt / self.input_smoothing_s)) * (z_a - self._z_input)
        else:
            self._z_input = None
        if estimate.band_weight is not None and estimate.level_db >= BAND_WEIGHT_MIN_LEVEL_DB:
            self._track_band_weight(estimate.band_weight, dt)

    def _neutral_latent(self, band_weight) -> np.ndarray:
        """The encoder's latent for "no deviation" on the bands the input has: what the engine
        would estimate for an input exactly like its reference."""
        return np.asarray(self.model.encode_curve(np.zeros(ANALYSIS_FREQS.size), band_weight),
                          dtype=np.float64).reshape(-1)

    def input_latent(self) -> np.ndarray | None:
        """The input latent the adaptive cascade undoes now: the tracked one, eased in."""
        if self._z_input is None or self._evidence >= 1.0 or self._z_neutral is None:
            return self._z_input
        return self._z_neutral + self._evidence * (self._z_input - self._z_neutral)

    def _track_band_weight(self, band_weight, dt: float) -> None:
        """Follow where the input has signal. An estimate without weights (too little audio yet)
        and silence hold the last picture: a pause between songs must not take the EQ away and
        bring it back with the first notes. The analyzer's weights already average its 2 s window;
        the short one-pole here only rounds off what is left of their steps."""
        w = np.clip(np.nan_to_num(np.asarray(band_weight, dtype=np.float64), nan=1.0), 0.0, 1.0)
        tau = min(self.input_smoothing_s, BAND_WEIGHT_SMOOTHING_S)
        if self._band_weight is None or tau <= 0.0:
            self._band_weight = w
        else:
            self._band_weight = self._band_weight + (1.0 - np.exp(-dt / tau)) * (w - self._band_weight)

    @property
    def band_weight(self) -> np.ndarray | None:
        """The band weights the ceiling uses now (None: no spectrum seen yet, all bands allowed)."""
        return self._band_weight

    def reset(self) -> None:
        """Forget the tracked input (new source, new song): no smoothing across the change."""
        self._z_input = None
        self._z_neutral = None
        self._evidence = 1.0
        self._band_weight = None
        self._last_estimate_time = None
        self._last_observed = None
        self._refresh_dt = 0.0
        self._seen_full = False
        self.autogain.reset()

    def compute(self, state: ControlState, estimate: InputEstimate | None = None) -> EQSettings:
        self.observe(estimate)
        z_t = self.target_latent(state)
        k = float(state.intensity)
        eq = self._applied_eq(state, estimate, z_t, k)
        forward, inverse, mode = eq.forward, eq.inverse, eq.mode
        change = 0.0 if mode == MODE_FLAT else self.autogain.change_db(forward, inverse)
        autogain_db = self.autogain.limit(-change) if state.autogain else 0.0
        return EQSettings(forward=forward, inverse=inverse, autogain_db=autogain_db,
                          output_gain_db=float(state.output_gain_db), bypass=bool(state.bypass),
                          mode=mode, reason=eq.reason, intensity=k, z_target=z_t, z_input=eq.z_input,
                          predicted_change_db=change, boost_cap_db=self.ceiling.max_boost_db,
                          cap_acting=eq.acting, held_back_db=eq.held_back_db, cap_reason=eq.cap_reason)

    def _applied_eq(self, state: ControlState, estimate: InputEstimate | None, z_t, k: float) -> "_AppliedEQ":
        """The EQ to apply (decoded, within the ceiling), reused while everything it depends on
        is the same: an analyzer refresh (10 a second) moves auto-gain alone, and the decode,
        the cache look-ups and the ceiling's key cost more than the auto-gain prediction."""
        inputs = _EQInputs(z_t, k, bool(state.adaptive), self._z_input, self._z_neutral, self._evidence,
                           self._band_weight, self.ceiling, self.ceiling.max_boost_db,
                           None if estimate is None else estimate.reason)
        memo = self._eq_memo
        if memo is not None and memo[0].same_as(inputs):
            self.ceiling_seconds = 0.0
            return memo[1]
        eq = self._decode_and_limit(state, estimate, z_t, k)
        self._eq_memo = (inputs, eq)
        return eq

    def _decode_and_limit(self, state: ControlState, estimate: InputEstimate | None, z_t, k: float) -> "_AppliedEQ":
        z_input = None
        if self._z_input is not None and state.adaptive:
            z_a = z_input = self.input_latent()
            if k == 0.0:
                forward, inverse, mode, reason = _FLAT, None, MODE_FLAT, "intensity 0"
            else:
                z_f = np.clip(z_a + k * (z_t - z_a), -LATENT_LIMIT, LATENT_LIMIT)
                forward, inverse = self.decode(z_f, z_a)
                mode, reason = MODE_ADAPTIVE, "adapting to the input"
        elif k == 0.0:
            forward, inverse, mode, reason = _FLAT, None, MODE_FLAT, "intensity 0"
        else:
            (target,) = self.decode(z_t)
            forward = target.copy()
            forward[GAIN_INDEX] = np.clip(forward[GAIN_INDEX] * k, -12.0, 12.0)
            forward.setflags(write=False)
            inverse = None
            if not state.adaptive:
                mode, reason = MODE_STATIC, "adaptation switched off: static target scaled by intensity"
            else:
                why = estimate.reason if estimate is not None else "no analyzer"
                mode, reason = MODE_FALLBACK, f"static target scaled by intensity ({why})"
        acting, held_back, cap_reason = False, 0.0, ""
        self.ceiling_seconds = 0.0
        if mode != MODE_FLAT:
            t0 = time.perf_counter()
            # Switching adaptation off means "do not listen to the input": the word's EQ as it is,
            # within the cap and the range, but not shaped by where the input has signal.
            weights = self._band_weight if state.adaptive else None
            limited = self.ceiling.apply(forward, inverse, weights)
            self.ceiling_seconds = time.perf_counter() - t0
            if limited.forward is not forward or limited.inverse is not inverse:  # limited or reshaped
                forward, inverse = _frozen(limited.forward), _frozen(limited.inverse)
            acting, held_back, cap_reason = limited.acting, limited.held_back_db, limited.reason
        return _AppliedEQ(forward, inverse, mode, reason, z_input, acting, held_back, cap_reason)

    def flat_settings(self, state: ControlState) -> EQSettings:
        """Flat EQ at the state's master gain (e.g. before a model is loaded)."""
        flat = FLAT_PARAMS.copy()
        return EQSettings(forward=flat, inverse=None, autogain_db=0.0, output_gain_db=float(state.output_gain_db),
                          bypass=bool(state.bypass), mode=MODE_FLAT, reason="flat", intensity=float(state.intensity),
                          z_target=np.zeros(0), z_input=None, predicted_change_db=0.0,
                          boost_cap_db=self.ceiling.max_boost_db)


class _AppliedEQ(NamedTuple):
    """The EQ part of ``EQSettings``: what ``compute`` decodes and limits."""

    forward: np.ndarray
    inverse: np.ndarray | None
    mode: str
    reason: str
    z_input: np.ndarray | None
    acting: bool
    held_back_db: float
    cap_reason: str


class _EQInputs(NamedTuple):
    """Everything ``_decode_and_limit`` reads. The arrays are compared by identity: the engine
    replaces them (never writes into them) whenever they change, and the memo holds them, so an
    identical one is the same array."""

    z_target: np.ndarray
    intensity: float
    adaptive: bool
    z_input: np.ndarray | None
    z_neutral: np.ndarray | None
    evidence: float
    band_weight: np.ndarray | None
    ceiling: object
    max_boost_db: float | None
    estimate_reason: str | None  # named by the fallback's reason

    def same_as(self, other: "_EQInputs") -> bool:
        return all(a is b or not (isinstance(a, np.ndarray) or isinstance(b, np.ndarray)) and a == b
                   for a, b in zip(self, other))


def _frozen(p):
    if p is not None:
        p.setflags(write=False)
    return p
