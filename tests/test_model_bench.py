"""The ``model`` bench section: numpy decode against torch eager on the same weights, same run."""

from __future__ import annotations

import pytest

from semeq_live.bench import run_section, sections


def test_model_section_reports_numpy_against_torch():
    pytest.importorskip("torch")
    assert "model" in sections()
    r = run_section("model", quick=True)
    for key in ("numpy_decode", "numpy_morph", "numpy_encode_curve", "numpy_term_profile",
                "numpy_term_similarities", "numpy_term_profile_of_latent", "torch_decode", "torch_morph",
                "torch_term_profile"):
        assert r[key]["n"] == 300 and 0 < r[key]["p50_us"] <= r[key]["p99_us"], key
    assert r["numpy_decode"]["p50_us"] < 1000  # well under a millisecond
    # Same function on both sides (float32 rounding only) ...
    assert r["max_rel_diff_vs_torch_float32"] < 1e-5
    # ... and numpy clearly ahead even on a busy shared machine (typically 4-6x at p50).
    assert r["speedup_p50"] > 2.0
    # The term profile covers the whole vocabulary and ranks it exactly like torch does.
    assert r["n_terms"] >= 50 and r["term_profile_same_ranking_as_torch"]
    assert r["term_profile_max_abs_diff_vs_torch"] < 1e-5
    assert set(r["goals"]) == {"morph_p50_le_30us", "term_profile_p50_le_50us"}
