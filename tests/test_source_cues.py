"""The source cues' bookkeeping: what auto reads does not depend on when it reads.

``SourceCues`` works on its pitch frames only when the cues are read (or a second of them is
pending), and auto's readings skip the cues its decision cannot use. Both are about cost: the
cues themselves, and auto's decisions, must be exactly what they would be otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from semeq_live.analysis.auto_reference import cues_needed, looks_like_voice
from semeq_live.analysis.bands import hop_length, segment_length
from semeq_live.analysis.source_cues import SourceCues, _ring_read, _ring_write

from . import synth_sources, synth_voices

SECONDS = 8.0


def hops(x, fs, hop=None):
    """The stretches the analyzer feeds (one analysis hop each), or ``hop`` samples each."""
    hop = hop or hop_length(fs, segment_length(fs))
    return [x[i:i + hop] for i in range(0, len(x) - hop + 1, hop)]


def takes():
    out = []
    for name in ("made male voice", "made female voice"):
        make, fs = synth_voices.VOICES[name]
        out.append((name, make(fs, SECONDS, seed=4), fs))
    for name in ("lead line", "bass line"):
        make, fs = synth_sources.SOURCES[name]
        out.append((name, make(fs, SECONDS, seed=4), fs))
    out.append(("noise", np.random.default_rng(4).standard_normal(int(SECONDS * 48000)) * 0.1, 48000))
    return out


@pytest.mark.parametrize("stretch", ["hop", "about a frame"])
@pytest.mark.parametrize("name,x,fs", takes(), ids=[t[0] for t in takes()])
def test_the_cues_are_the_same_however_often_they_are_read(name, x, fs, stretch):
    """Read after every stretch, or every fourth, or only at the end: the same cues, bit for bit,
    and the same rings (the frames' band sums stay one product per stretch however many wait:
    BLAS rounds a one-frame product, which stretches of about a frame give, differently)."""
    every, fourth, end = SourceCues(fs), SourceCues(fs), SourceCues(fs)
    size = None if stretch == "hop" else int(1.3 * every.frame_len * every.decimation)
    for k, hop in enumerate(hops(x, fs, size)):
        for cues in (every, fourth, end):
            cues.add(hop)
        first = every.summary(4.0)
        if k % 4 == 3:
            assert fourth.summary(4.0) == first
    final = every.summary(4.0)
    assert final is not None
    assert fourth.summary(4.0) == final
    assert end.summary(4.0) == final
    for ring in ("env_db", "pitch_f0", "pitch_db", "pitch_hf", "pitch_band_db"):
        assert np.array_equal(getattr(end, ring), getattr(every, ring))
    assert end.pitch_written == every.pitch_written and end.env_written == every.env_written


@pytest.mark.parametrize("name,x,fs", takes(), ids=[t[0] for t in takes()])
def test_a_reading_of_only_the_cues_a_decision_needs_decides_the_same(name, x, fs):
    """Every kind of decision (provisional, first, keep) on a reading that skips the rhythm cues
    where the voicing cues decide alone agrees with the full reading."""
    cues = SourceCues(fs)
    decided = 0
    for hop in hops(x, fs):
        cues.add(hop)
        full = cues.summary(4.0)
        if full is None:
            continue
        for already_voice in (False, True):
            for provisional in (False, True):
                part = cues.summary(4.0, detail=cues_needed(already_voice, provisional))
                assert {k: full[k] for k in part} == part
                assert looks_like_voice(part, already_voice, provisional) == \
                    looks_like_voice(full, already_voice, provisional)
                decided += 1
    assert decided > 0


def test_ring_slices_are_the_index_arithmetic_they_replace():
    rng = np.random.default_rng(0)
    for size in (1, 3, 7, 40):
        for shape in ((size,), (size, 4)):
            ring, want = np.zeros(shape), np.zeros(shape)
            written = 0
            for _ in range(60):
                values = rng.standard_normal((int(rng.integers(0, 3 * size + 2)),) + shape[1:])
                _ring_write(ring, written, values)
                idx = (written + np.arange(len(values))) % size
                for i, v in zip(idx, values):  # in order: a later value overwrites an earlier one
                    want[i] = v
                written += len(values)
                assert np.array_equal(ring, want)
                for n in (0, 1, size // 2, size, size + 3):
                    m = min(n, written, size)
                    assert np.array_equal(_ring_read(ring, written, n),
                                          want[(written - 1 - np.arange(m))[::-1] % size])
