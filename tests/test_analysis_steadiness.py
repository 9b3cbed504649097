"""The term profile weighs a band by how steady it is (``analysis/steadiness.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from semeq_live.analysis import Analyzer
from semeq_live.analysis.reference import RELIABLE_SE_DB, band_reliability, learned_reference
from semeq_live.analysis.steadiness import combined_reliability, window_reliability
from semeq_live.params import ANALYSIS_FREQS

N = ANALYSIS_FREQS.size


def test_a_band_that_notes_move_is_less_sure_than_a_steady_one():
    rng = np.random.default_rng(0)
    seg = np.ones((23, N)) * (1.0 + 0.05 * rng.standard_normal((23, N)))
    seg[::2, 10] *= 100.0  # a note every other segment: 20 dB up and down
    r = window_reliability(seg)
    # std / mean ~ 1 -> 4.3 dB / sqrt(12 independent segments) = 1.25 dB standard error
    assert 0.8 < r[10] < 0.9 and np.all(np.delete(r, 10) > 0.99)
    np.testing.assert_allclose(r, band_reliability(seg.mean(0), (seg * seg).mean(0), 23))
    seg[:, 10] = 1.0
    seg[:3, 10] = 300.0  # one loud note at the start of the stretch: less sure still
    assert window_reliability(seg)[10] < 0.5


def test_standard_errors_add():
    # se (in RELIABLE_SE_DB units) 1 and 1 -> 2 in squares: 1 / (1 + 2)
    half = np.full(N, 0.5)
    np.testing.assert_allclose(combined_reliability(half, half), 1.0 / 3.0)
    np.testing.assert_allclose(combined_reliability(None, half), half)
    assert np.all(combined_reliability(None) == 1.0)
    assert RELIABLE_SE_DB > 0


@pytest.fixture(scope="module")
def model():
    from semeq_live.model import load_model

    return load_model()


def _estimates(model, reference):
    fs = 48000
    an = Analyzer(fs, 1, model=model, reference=reference)
    power = np.geomspace(1.0, 0.01, N)
    unsteady = np.ones(N)
    unsteady[8:12] = 0.02  # the judged stretch was unsure at 200-400 Hz
    kwargs = dict(level_db=-20.0, judge_power=power * np.exp(np.sin(np.arange(N))))
    return (an.estimate_from_power(power, **kwargs),
            an.estimate_from_power(power, judge_reliability=unsteady, **kwargs))


def test_steadiness_counts_against_a_learned_reference_only(model):
    learned = learned_reference(np.geomspace(1.0, 0.01, N), seconds=10.0, sample_rate=48000,
                                reliability=np.full(N, 0.8))
    sure, unsure = _estimates(model, learned)
    assert sure.confident and unsure.confident
    assert sure.profile != unsure.profile  # the unsure bands lost their say
    np.testing.assert_array_equal(sure.z_a, unsure.z_a)  # the encoder's reading is untouched
    # Against a built-in the source's steady misfit dominates: steadiness is not applied.
    sure, unsure = _estimates(model, None)
    assert sure.profile == unsure.profile
