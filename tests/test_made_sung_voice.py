"""The made sung voice sings legato without clicks (``synth_voices.sung_line``, ``formant_tract``).

It used to switch its formant resonators' coefficients at each note while they rang, carrying
lfilter's transposed-form state across: 5 ms clicks 25-31 dB over the voice around them, which
decided the loudness of whole 3 s windows in the evidence (docs/adaptive.md). A singer's vowels and notes
glide; the resonators that make the glide must stay stable however fast they move.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from . import synth_voices
from .clicks import clicks_db
from .formant_tract import formant_tracks, moving_formants

FS = 44100
BANDWIDTHS = (70.0, 100.0, 140.0, 200.0, 250.0)


def _klatt(x, fs, formants):
    for fc, bw in zip(formants, BANDWIDTHS):
        r = np.exp(-np.pi * bw / fs)
        a1, a2 = -2.0 * r * np.cos(2.0 * np.pi * fc / fs), r * r
        x = lfilter([1.0 + a1 + a2], [1.0, a1, a2], x)
    return x


def test_held_formants_are_klatts_resonators():
    """With the formants held, the coupled form is Klatt's cascade (unit gain at DC), one sample
    later per resonator."""
    x = np.random.default_rng(0).standard_normal(4096)
    formants = (730.0, 1090.0, 2440.0, 3300.0, 4200.0)
    y = moving_formants(x, FS, np.array(formants)[:, None] * np.ones(x.size), BANDWIDTHS)
    want = _klatt(x, FS, formants)
    np.testing.assert_allclose(y[5:], want[:-5], rtol=1e-9, atol=1e-9 * np.abs(want).max())


def test_the_tract_stays_stable_however_fast_the_formants_move():
    """Formants thrown between 200 Hz and 5 kHz every few samples: the output stays of the size
    the same input gets from held formants (a direct-form filter switched that way can blow up)."""
    rng = np.random.default_rng(1)
    n = 20000
    x = rng.standard_normal(n)
    jumps = np.repeat(np.exp(rng.uniform(np.log(200.0), np.log(5000.0), (5, n // 4 + 1))), 4, axis=1)[:, :n]
    y = moving_formants(x, FS, jumps, BANDWIDTHS)
    held = [moving_formants(x, FS, np.full((5, n), f), BANDWIDTHS) for f in (200.0, 1000.0, 5000.0)]
    assert np.all(np.isfinite(y))
    assert np.abs(y).max() < 10.0 * max(np.abs(h).max() for h in held)


def test_vowel_changes_glide():
    segments = [(0, 1000, (300.0, 2300.0, 3000.0, 3300.0, 4200.0)),
                (1000, 2000, (730.0, 1090.0, 2440.0, 3300.0, 4200.0))]
    tracks = formant_tracks(segments, 2000, FS, glide_s=0.04)
    half = int(0.02 * FS)
    f1 = tracks[0]
    assert f1[0] == pytest.approx(300.0) and f1[-1] == pytest.approx(730.0)
    assert np.all(np.diff(f1) >= 0.0)  # one way, no overshoot
    assert f1[1000 - half - 1] == pytest.approx(300.0) and f1[1000 + half + 1] == pytest.approx(730.0)
    assert 400.0 < f1[1000] < 600.0  # half-way in log frequency at the boundary


@pytest.mark.parametrize("kind", ["female", "male", "child"])
@pytest.mark.parametrize("seed", [2, 3, 4, 5])
def test_the_sung_voice_does_not_click(kind, seed):
    """No 5 ms stretch stands out of the voice around it by more than a note's onset does (the
    switched resonators stood out by 25-31 dB on seeds 2-4)."""
    x = synth_voices.sung_voice(FS, 10.0, seed, kind)
    assert np.max(clicks_db(x, FS)) < 12.0


def test_the_sung_voice_keeps_its_notes_per_seed():
    """The same seed sings the same notes, vowels and breaths (the glides change no draw)."""
    _, a, _ = synth_voices._sung_parts(FS, 10.0, 2, "female")
    _, b, _ = synth_voices._sung_parts(FS, 10.0, 2, "female")
    _, c, _ = synth_voices._sung_parts(FS, 10.0, 3, "female")
    assert a == b and a != c
