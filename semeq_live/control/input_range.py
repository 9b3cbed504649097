"""The input's range: the bands the source reaches, as the boost ceiling is given them.

The analyzer's band weights (1 = signal, 0 = nothing) describe its 2 s window: which notes were
played in the last 2 s. A melodic source leaves bands between and beside its current notes empty
for seconds at a time (a mallet's or a lead line's register jumps), and a ceiling that followed
them would take the boost there away and give it back update by update: the EQ's shape would
pump with the melody. What the "no boost where the input has nothing" rule protects is the
regions the source *never* reaches (under a bass's lowest note: rumble; above a 16 kHz
recording's top; above a voice's sibilance), so the ceiling is given the bands' weights held:

- a band rises with the analyzer's weight at once (through a short one-pole, ``RISE_S``, that
  only rounds off the window's steps);
- it keeps the highest weight it reached for ``HOLD_S`` seconds of sound, then falls by
  ``RELEASE_PER_S`` per second of sound, never below the analyzer's weight now;
- silence (and estimates without weights) moves nothing: a pause between songs keeps the range;
- a new reference starts the held picture afresh from the weights now (``rebase``): the weights
  are the input's presence times the reference's own (the voice reference has none under the
  talker's fundamental), and what was held under auto's placeholder before it decided a voice
  (its lows and its top, judged against a mix) must not stay open under the voice reference.

The time constants, from what they must bridge and what they must protect:

- ``HOLD_S`` bridges the gaps inside a melodic source's range. Over 60 s takes of the made sources
  (``tests/synth_sources.py``, ``tests/synth_voices.py``), a band inside the range fell under the
  ceiling's no-boost weight for at most 8.5 s (lead line 8.0 s at its lowest notes, string
  section 8.5, plucked string 5.4, mallet 4.2, made voices 1.4 s); 12 s (four bars at 80 bpm)
  covers them with room to spare.
- A register the source leaves for good keeps its full boost for ``HOLD_S`` and allows none
  ``RELEASED_S`` later: 12 s, then 8 s for the weight to fall from 1 to the ceiling's no-boost
  weight (0.6), then the rounding's lag (``RISE_S``): 20.5 s of sound, the boost fading over the
  last 8 s, no step. It counts nothing in the re-fit 32 s later.
- A region the source never reaches is never raised, however long the take: only a weight the
  analyzer gives the band opens it. Holding does not widen the analyzer's picture, it only stops
  it narrowing between notes.
"""

from __future__ import annotations

import math

import numpy as np

from .ceiling import BOOST_WEIGHT_FLOOR

RISE_S = 0.5
HOLD_S = 12.0
RELEASE_PER_S = 0.05
RELEASED_S = HOLD_S + (1.0 - BOOST_WEIGHT_FLOOR) / RELEASE_PER_S + RISE_S


class InputRange:
    """Held band weights ``[28]`` for the boost ceiling. ``hold_s = 0``: the rounded weights of the
    latest estimate, nothing held (tests that give the ceiling each estimate's weights as they are).
    ``rise_s = 0``: no rounding either."""

    def __init__(self, hold_s: float = HOLD_S, release_per_s: float = RELEASE_PER_S, rise_s: float = RISE_S):
        self.hold_s = float(hold_s)
        self.release_per_s = float(release_per_s)
        self.rise_s = float(rise_s)
        self._peak: np.ndarray | None = None  # the weight each band last reached
        self._age: np.ndarray | None = None  # seconds of sound since it reached it
        self._weights: np.ndarray | None = None

    @property
    def weights(self) -> np.ndarray | None:
        """The weights to give the ceiling (None: nothing heard yet, every band allowed). A new
        array at every update, never written into (the engine's memo compares identity)."""
        return self._weights

    def reset(self) -> None:
        """Forget the range (a new song, a new source)."""
        self._peak = self._age = self._weights = None

    def update(self, band_weight, dt: float, rebase: bool = False) -> None:
        """Take one estimate's band weights, ``dt`` seconds of sound after the last one taken.
        ``rebase``: the weights are against another reference now, nothing before them is held
        (the range glides to them, as it rises). In place where it can be: it runs at every new
        estimate, beside the analyzer's own work."""
        w = np.array(band_weight, dtype=np.float64)
        np.copyto(w, 1.0, where=np.isnan(w))  # not a number: signal (the ceiling's own reading)
        np.clip(w, 0.0, 1.0, out=w)
        dt = max(float(dt), 0.0)
        if self._weights is None:  # the first picture replaces "every band allowed"
            self._peak, self._age = w.copy(), np.zeros_like(w)
            self._publish(w)
            return
        if rebase or self.hold_s <= 0.0:
            self._peak[:] = w
            self._age[:] = 0.0
            target = w
        else:
            self._age += dt
            # What each band still holds: its peak, falling once the hold has run out.
            target = np.maximum(self._age - self.hold_s, 0.0)
            target *= -self.release_per_s
            target += self._peak
            renewed = w >= target
            np.copyto(self._peak, w, where=renewed)
            np.copyto(self._age, 0.0, where=renewed)
            np.maximum(target, w, out=target)
        if self.rise_s > 0.0:
            target = target - self._weights
            target *= 1.0 - math.exp(-dt / self.rise_s)
            target += self._weights
        self._publish(target)

    def _publish(self, new: np.ndarray) -> None:
        new.setflags(write=False)
        self._weights = new
