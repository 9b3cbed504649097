"""Fuzz: arbitrary parameter vectors (any floats, in or out of range) never make the kernel unstable."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from semeq_live.dsp import EQProcessor

FS = 48000
any_float = st.floats(allow_nan=True, allow_infinity=True, width=64)
wild = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
vectors = st.lists(wild, min_size=13, max_size=13)

_PROC = {}


def processor(ch):
    if ch not in _PROC:
        _PROC[ch] = EQProcessor(FS, ch, smoothing_ms=2.0)
    p = _PROC[ch]
    p.reset()
    return p


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=vectors, b=vectors, inv=st.one_of(st.none(), vectors), ch=st.integers(1, 3),
       block=st.integers(1, 300))
def test_any_finite_parameters_stay_stable(a, b, inv, ch, block):
    proc = processor(ch)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2400, ch)).astype(np.float32)
    ceiling = 10 ** (-1 / 20)
    for i, start in enumerate(range(0, len(x), block)):
        if i % 3 == 0:
            proc.set_params(a if (i // 3) % 2 == 0 else b, inverse=inv)
        y = proc.process(x[start:start + block])
        assert np.all(np.isfinite(y))
        assert np.max(np.abs(y)) <= ceiling * (1 + 1e-6)


@settings(max_examples=60, deadline=None)
@given(v=st.lists(any_float, min_size=13, max_size=13).filter(
    lambda v: not all(np.isfinite(v))))
def test_non_finite_parameters_are_refused_and_change_nothing(v):
    proc = processor(2)
    proc.set_params(np.array([3.0, 100, 0, 500, 1, 0, 1000, 1, 0, 3000, 1, 0, 8000]))
    before = proc._pending.copy()
    with pytest.raises(ValueError):
        proc.set_params(v)
    assert np.array_equal(before, proc._pending)


@settings(max_examples=60, deadline=None)
@given(samples=st.lists(any_float, min_size=1, max_size=400))
def test_any_input_samples_give_finite_bounded_output(samples):
    proc = processor(1)
    proc.set_params(np.array([12.0, 60, 12, 100, 10, 12, 200, 10, 12, 300, 10, 12, 1000]))
    x = np.array(samples, dtype=np.float64).clip(-3e38, 3e38).astype(np.float32)[:, None]
    y = proc.process(x)
    assert np.all(np.isfinite(y))
    assert np.max(np.abs(y)) <= 10 ** (-1 / 20) * (1 + 1e-6)
