"""Fitting the reference to a source far from it: an estimate, honestly labelled, instead of none.

A hi-hat or cymbal mic, a piccolo, band-passed noise: against a mix's spectrum (the built-in
``music`` reference, which ``auto`` gives every source that is not a speaking voice) such a source
tilts by 5-7 dB per octave over its own range, more than an EQ word does to a whole source (with
a fitting reference the evidence's sources shaped warm or bright stay within +-3.6 dB per octave:
``presence.MAX_TILT_DB_PER_OCT``), and a band-passed source bends over its range as well. That is
what the source *is*, not how it was shaped. Judged as shaping it reads as an extreme EQ, which the
adaptive correction would undo: the warm target at k = 1 on hats became a 7 dB cut at 4 kHz with
a straight line taken out, a 12 dB high cut on band-passed noise left as it is.

So when the input is far from the reference in use (``Analyzer._far_from_reference``: its deviation
tilts beyond ``MAX_TILT_DB_PER_OCT``, or too little of it lies within ``IMPLAUSIBLE_DB`` of its
level), the reference is fitted to the source over the input's bands: a smooth curve (a parabola in
dB against log frequency: a tilt and one bend) fitted robustly (bands it cannot explain, a drum the
reference lacks, are set aside as ``judged_weights`` does, and the curve refitted). The source's
own smooth shape becomes its neutral; the estimate judges what is left (a shelf's knee, a bell),
and the adaptive correction stays near the target as applied to a neutral input.

What it costs, said where it is shown: a tilt the shaping added is taken for the source's own, so
on such a source warm and bright differ only by what is left of their curves over its range (over
hats' 3-16 kHz, 0.33 dB RMS: docs/adaptive.md). The decision is made at each estimate, from the judged
stretch: a source on the edge (a sung line shaped bright, 3.5-6.7 dB per octave from one estimate
to the next against the voice reference) is fitted only in its far estimates. Holding the fit
until the tilt fell under 3.5 dB per octave, or deciding from the source's whole history, fitted
that line in many more of them and lost more of its warm-vs-bright difference; a share of the fit
growing with the tilt (0 at 4.5, all at 6.5 dB per octave) kept more of it but left band-passed
noise shaped warm (4.5 dB per octave) as it was: a 12 dB high cut (docs/adaptive.md, the default path).

The same holds for every reference, built-in or learned, chosen or auto's: issue 11 allows "no
estimate" only for silence, a near-pure tone, too little audio or too narrow a range. Where the
reference has little where the input plays (the voice reference on a kick drum, a bass line's
soundcheck on hats: under two octaves of the input's bands), the source is judged against its own
smooth shape alone, on the bands it plays in (those are the bands the boost ceiling then allows). The panel,
the headless log and ``analyze`` say the reference was fitted (``fit_note``), and for a learned or
loaded one that it does not fit this input (another source than the soundcheck's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .presence import judged_weights
from ..params import ANALYSIS_FREQS

# A parabola in log frequency: a tilt and one bend (a band-passed source's skirts), no more: a
# curve with more freedom would also take the shaping (a shelf's knee) for the source's own.
FIT_DEGREE = 2
# Robust fit: refit on the bands the previous curve explains; three passes settle it on every
# source in the evidence (the judged weights stop changing).
FIT_PASSES = 3

_OCTAVES = np.log2(ANALYSIS_FREQS / 1000.0)


@dataclass(frozen=True)
class ReferenceFit:
    """The smooth curve the reference was given to fit the source (dB per band), its slope at the
    input's weighted centre (dB per octave), and the judged weights against the fitted reference."""

    line_db: np.ndarray
    tilt_db_per_oct: float
    judged: np.ndarray


def fit_to_source(raw_deviation_db, band_weight, degree: int = FIT_DEGREE) -> ReferenceFit:
    """Fit a polynomial of ``degree`` in log frequency to the input's deviation from the reference
    over the bands with signal (``band_weight``), robustly: ``judged_weights`` around the curve
    weigh the next fit."""
    raw = np.asarray(raw_deviation_db, dtype=np.float64)
    w = np.asarray(band_weight, dtype=np.float64)
    judged = w
    curve = np.zeros(raw.shape)
    tilt = 0.0
    for _ in range(FIT_PASSES):
        basis = judged if judged.sum() > 0 else w
        x = _OCTAVES - float(np.dot(basis, _OCTAVES)) / float(basis.sum())
        design = np.vander(x, degree + 1, increasing=True)  # 1, x, x^2, ...
        root_w = np.sqrt(basis)
        coef = np.linalg.lstsq(design * root_w[:, None], raw * root_w, rcond=None)[0]
        curve = design @ coef
        tilt = float(coef[1]) if degree >= 1 else 0.0
        judged = judged_weights(raw - curve, w)
    return ReferenceFit(curve, tilt, judged)


def fit_note(tilt_db_per_oct: float, reference_name: str | None, learned: bool) -> str:
    """What the panel, the headless log and ``analyze`` say about a fitted reference."""
    head = f"{reference_name or 'reference'}, tilted {tilt_db_per_oct:+.0f} dB/oct to fit this source"
    if learned:
        return head + ": the learned reference does not fit this input (another source than the " \
                      "soundcheck's?): learn it again"
    return head + ": learn a reference for a truer neutral"


def own_shape_note(reference_name: str | None, covered_octaves: float, input_octaves: float) -> str:
    """The same when the reference has little where the input plays: the source is judged against
    its own smooth shape alone."""
    return (f"{reference_name or 'reference'} has little where this input plays ({covered_octaves:.1f} "
            f"of {input_octaves:.1f} octaves): judged against the source's own smooth shape: choose or "
            "learn a reference")
