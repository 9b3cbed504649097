"""``InputEstimate``: what the analyzer currently believes about the input's character."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class InputEstimate:
    """One analysis result. Immutable, so it can be handed to other threads as is.

    ``confident`` is False when there is no estimate (silence, too little signal, input far outside
    what the curve encoder knows); ``z_a`` and ``profile`` are then None and ``reason`` says why.
    ``band_power`` (linear mean square per band) and ``spectrum_db`` are given whenever any signal
    was analysed, confident or not, because loudness compensation still needs them; so is
    ``band_weight`` (which bands carry signal, 0 above Nyquist: the adaptive EQ boosts nothing where
    the input has nothing) once the level gate is passed. ``reference`` names the reference in use;
    ``reference_note`` says when it was tilted to fit a source far from it (``reference_fit.py``).
    """

    confident: bool
    reason: str
    time_s: float  # audio time the estimate refers to (end of the newest analysed segment)
    level_db: float  # mean-square level of the analysis window, dBFS per channel (-inf: nothing yet)
    z_a: np.ndarray | None = None  # audio latent of the input's character
    profile: tuple[tuple[str, float], ...] | None = None  # (term, similarity), best first
    band_power: np.ndarray | None = None  # [28] linear, on ANALYSIS_FREQS
    spectrum_db: np.ndarray | None = None  # [28] band levels in dBFS
    deviation_db: np.ndarray | None = None  # [28] spectrum minus reference, level removed
    band_weight: np.ndarray | None = None  # [28] 1 = the band carries signal, 0 = nothing/above Nyquist; None = all
    reference: str | None = None  # name of the reference spectrum ('music', 'voice', 'learned', ...)
    # Set when the input was far from the reference and the reference was tilted to fit it
    # (``reference_fit.py``): the tilt (dB per octave) and what to tell people about it.
    reference_tilt_db_per_oct: float | None = None
    reference_note: str | None = None
    # How much audio the estimate rests on: 0 at the first estimate a source can have (the
    # analyzer's minimum audio), 1 once its window is full (a whole file's average: 1). The engine
    # eases the adaptive correction in with it.
    evidence: float = 1.0
    # [28] linear band powers of the audio analysed since the previous estimate or refresh (None:
    # none new, or not a live estimate): auto-gain follows what is playing now, not the 2 s window.
    recent_band_power: np.ndarray | None = None
    recent_seconds: float = 0.0  # how much new audio ``recent_band_power`` stands for
    # A refresh between estimates: the previous estimate with only ``recent_band_power`` and
    # ``time_s`` new (z_a, profile, band weights and the rest still refer to the earlier audio).
    refresh: bool = False

    def __post_init__(self):
        # Estimates cross threads: make their arrays read-only so no reader can alter another's view.
        for name in ("z_a", "band_power", "spectrum_db", "deviation_db", "band_weight", "recent_band_power"):
            value = getattr(self, name)
            if value is not None and not _frozen_own(value):
                value = np.array(value, dtype=np.float64)
                value.setflags(write=False)
                object.__setattr__(self, name, value)

    def with_recent(self, band_power, seconds: float, time_s: float | None = None,
                    refresh: bool = False) -> "InputEstimate":
        """This estimate with new ``recent_band_power``/``recent_seconds`` (and ``time_s``,
        ``refresh``): what ``Analyzer.update`` hands on at each of its updates, 10 a second.
        ``dataclasses.replace`` without its walk over every field: the other arrays are this
        estimate's own read-only ones, shared as they are."""
        new = self._copy()
        fields = new.__dict__
        recent = np.array(band_power, dtype=np.float64)
        recent.setflags(write=False)
        fields["recent_band_power"] = recent
        fields["recent_seconds"] = seconds
        fields["refresh"] = refresh
        if time_s is not None:
            fields["time_s"] = time_s
        return new

    def with_evidence(self, evidence: float) -> "InputEstimate":
        """This estimate with ``evidence`` set (each new estimate, ``Analyzer.update``), made as
        ``with_recent`` makes its copies."""
        new = self._copy()
        new.__dict__["evidence"] = evidence
        return new

    def _copy(self) -> "InputEstimate":
        new = object.__new__(InputEstimate)
        new.__dict__.update(self.__dict__)
        return new

    @property
    def top_terms(self) -> list[str]:
        return [t for t, _ in self.profile] if self.profile else []

    def similarity(self, term: str) -> float | None:
        for t, s in self.profile or ():
            if t == term:
                return s
        return None

    def to_dict(self, n_terms: int | None = None) -> dict:
        """JSON-friendly form (floats rounded for display)."""
        prof = list(self.profile or ())[:n_terms] if self.profile else None
        return {
            "confident": self.confident,
            "reason": self.reason,
            "time_s": round(self.time_s, 3),
            "level_db": None if not np.isfinite(self.level_db) else round(float(self.level_db), 2),
            "profile": None if prof is None else [{"term": t, "similarity": round(float(s), 4)} for t, s in prof],
            "deviation_db": None if self.deviation_db is None else [
                None if w is not None and w <= 0.0 else round(float(v), 2)
                for v, w in zip(self.deviation_db, self._weights_or_none())],
            "band_weight": None if self.band_weight is None else [round(float(w), 2) for w in self.band_weight],
            "reference": self.reference,
            "reference_tilt_db_per_oct": None if self.reference_tilt_db_per_oct is None else
            round(float(self.reference_tilt_db_per_oct), 2),
            "reference_note": self.reference_note,
            "evidence": round(float(self.evidence), 2),
        }

    def _weights_or_none(self):
        return self.band_weight if self.band_weight is not None else [None] * len(self.deviation_db)


def _frozen_own(value) -> bool:
    """An array made read-only here already (``replace`` of an estimate, e.g. the analyzer's
    refreshes, 10 a second): it owns its data, so sharing it is as safe as a copy."""
    return (isinstance(value, np.ndarray) and value.dtype == np.float64 and not value.flags.writeable
            and value.flags.owndata)


def no_estimate(reason: str, time_s: float, level_db: float = float("-inf"), **spectra) -> InputEstimate:
    return InputEstimate(confident=False, reason=reason, time_s=time_s, level_db=level_db, **spectra)
