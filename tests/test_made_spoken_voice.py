"""The made talkers' vowels glide from syllable to syllable without clicks
(``synth_voices.spoken_voice``, ``formant_tract``).

They used to switch their formant resonators' coefficients at each syllable while the resonators
still rang (lfilter's transposed-form state carried across): the voicing ramps softened it, but at
syllable boundaries inside a phrase 5 ms K-weighted frames still stood 7-36 dB over the 105 ms
around them (seeds 2-9), which raised the voices' long-term spectrum at 3.15-5 kHz by up to 12 dB
(docs/adaptive.md). A talker's tongue moves; it does not click. Onsets after a pause, fricatives and
plosive bursts do stand out, and stay: they are speech.
"""

from __future__ import annotations

import numpy as np
import pytest

from . import synth_voices
from .clicks import FRAME_S, clicks_db

KINDS = {"male": 44100, "female": 48000, "child": 32000, "male, 16 kHz": 16000}


def _inside_phrase_boundaries(source, segments):
    """Sample indices where one syllable follows another with no pause between (both segments
    voiced somewhere): where a switched tract clicked."""
    voiced = [np.any(source[a:b] != 0.0) for a, b, _ in segments]
    return [segments[i][0] for i in range(1, len(segments)) if voiced[i] and voiced[i - 1]]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("seed", [2, 3, 4, 5])
def test_syllable_changes_do_not_click(kind, seed):
    """Around each syllable boundary inside a phrase (±10 ms) no 5 ms frame of the voiced speech
    stands out of its 105 ms context by 12 dB (switched: 7-28 dB on these seeds, glided 0-9 dB:
    a low male voice's 5 ms frames hold a glottal pulse or none)."""
    fs = KINDS[kind]
    source, segments, _ = synth_voices._spoken_parts(fs, 10.0, seed, kind.split(",")[0])
    c = clicks_db(synth_voices._voiced_speech(source, segments, fs), fs)
    frame = int(FRAME_S * fs)
    near = [c[max(0, i // frame - 2): i // frame + 3].max() for i in _inside_phrase_boundaries(source, segments)
            if i // frame + 3 < c.size]
    assert len(near) > 20  # 4-5.5 syllables a second over 10 s, less the pauses
    assert max(near) < 12.0


def test_the_voice_is_its_voiced_speech_and_consonants():
    """What the evidence plays is the glided voiced speech plus the consonants, nothing else."""
    fs = 32000
    source, segments, consonants = synth_voices._spoken_parts(fs, 4.0, 3, "child")
    want = synth_voices._norm(synth_voices._voiced_speech(source, segments, fs) + consonants)
    np.testing.assert_array_equal(synth_voices.spoken_voice(fs, 4.0, 3, "child"), want)


def test_the_spoken_voice_keeps_its_words_per_seed():
    """The same seed says the same syllables at the same times (the glide changes no draw)."""
    a = synth_voices._spoken_parts(16000, 6.0, 2, "female")
    b = synth_voices._spoken_parts(16000, 6.0, 2, "female")
    c = synth_voices._spoken_parts(16000, 6.0, 3, "female")
    assert a[1] == b[1] and a[1] != c[1]
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[2], b[2])
