"""The numpy runtime of the bundled default model: API, bounds, torch agreement, speed, goals."""

from __future__ import annotations

import time

import numpy as np
import pytest

from semeq_live.errors import ModelError
from semeq_live.model import DEFAULT_MODEL_PATH, UnknownTermError, load_model
from semeq_live.model.store import read_model
from semeq_live.dsp import response_db
from semeq_live.params import (
    ANALYSIS_FREQS, FREQ_INDEX, FREQ_RANGES_HZ, GAIN_INDEX, Q_INDEX, clamp_params,
)


@pytest.fixture(scope="module")
def model():
    return load_model()


def test_default_model_has_the_documented_api(model):
    assert model.path == DEFAULT_MODEL_PATH
    assert {"warm", "bright"} <= set(model.terms) and len(model.terms) >= 50
    people = [model.term_info(t).people for t in model.terms]
    assert people == sorted(people, reverse=True)  # most people first
    assert model.terms[0] == "warm"
    for info in model.term_infos():  # SAFE terms need min_count rows, crowd words 5 contributors
        assert info.safe_rows >= model.training["min_count"] or info.safe_rows == 0
        assert info.contributors >= 5 or info.contributors == 0
        assert info.people > 0 and info.lead in info.sources
        assert model.counts[info.name] == info.safe_rows
    assert model.latent_dim == model.centroid("warm").shape[0] == 32
    np.testing.assert_allclose(np.linalg.norm(model.axes, axis=1), 1.0, atol=1e-9)
    assert abs(model.axes[0] @ model.axes[1]) < 1e-9
    assert np.all(model.axis_scale > 0)
    np.testing.assert_array_equal(model.analysis_freqs, ANALYSIS_FREQS)
    assert len(model.data_sha256) == 64
    assert {"reconstruction", "fidelity", "separation", "smoothness", "goals"} <= set(model.metrics)


def test_decode_stays_in_the_safe_ranges_and_shapes(model):
    rng = np.random.default_rng(0)
    z = np.vstack([rng.normal(0, 3, (200, model.latent_dim)), np.full(model.latent_dim, 1e6),
                   np.full(model.latent_dim, -1e6)])
    p = model.decode(z)
    assert p.shape == (202, 13) and np.all(np.isfinite(p))
    assert np.all(np.abs(p[:, GAIN_INDEX]) <= 12.0)
    assert np.all((p[:, Q_INDEX] >= 0.1 - 1e-9) & (p[:, Q_INDEX] <= 10.0 + 1e-9))
    for band, (lo, hi) in enumerate(FREQ_RANGES_HZ):
        f = p[:, FREQ_INDEX[band]]
        assert np.all((f >= lo * (1 - 1e-9)) & (f <= hi * (1 + 1e-9)))
    one = model.decode(z[0])
    assert one.shape == (13,)
    # float32: gemv vs gemm rounding. Absolute floor: a gain near 0 dB has no meaningful relative error.
    np.testing.assert_allclose(one, p[0], rtol=1e-5, atol=1e-4)
    assert model.encode(p[:3]).shape == (3, model.latent_dim)
    assert model.encode(p[0]).shape == (model.latent_dim,)
    with pytest.raises(ValueError, match="13"):
        model.encode(np.zeros(12))


def test_numpy_matches_torch(model):
    torch = pytest.importorskip("torch")
    from training.curves import prepare_curve
    from training.nets import Decoder, ResidualMLP

    arrays = read_model(DEFAULT_MODEL_PATH)
    rng = np.random.default_rng(1)
    z = np.tanh(rng.normal(0, 1, (64, model.latent_dim)))
    with torch.no_grad():
        dec32 = Decoder.from_arrays(arrays).float()
        p32 = dec32(torch.tensor(z, dtype=torch.float32)).double().numpy()
        p64 = Decoder.from_arrays(arrays)(torch.tensor(z)).numpy()
        params = model.decode(z)
        enc = ResidualMLP.from_arrays(arrays, "encoder")
        coded = 2.0 * ((np.where(arrays["coding.is_log"], np.log(np.abs(params)), params)
                        - arrays["coding.lo"]) / (arrays["coding.hi"] - arrays["coding.lo"])) - 1.0
        z_enc = torch.tanh(enc(torch.tensor(coded))).numpy()
        cenc = ResidualMLP.from_arrays(arrays, "curve_encoder")
        dev = rng.normal(0, 3, (16, ANALYSIS_FREQS.size))
        z_curve = torch.tanh(cenc(torch.tensor(prepare_curve(dev, float(arrays["curve_scale"]))))).numpy()
    scale = np.maximum(np.abs(p64), 1.0)  # dB absolute, Hz and Q relative
    # The decoder runs in float32 (its trained precision): 1e-5 against torch either way.
    assert np.max(np.abs(params - p64) / scale) < 1e-5
    assert np.max(np.abs(params - p32) / scale) < 1e-5
    assert np.max(np.abs(model.encode(params) - z_enc)) < 1e-10
    assert np.max(np.abs(model.encode_curve(dev) - z_curve)) < 1e-10


def test_morph_and_traverse(model):
    np.testing.assert_allclose(model.morph("warm", "bright", 0.0), model.decode(model.centroid("warm")))
    np.testing.assert_allclose(model.morph("warm", "bright", 1.0), model.decode(model.centroid("bright")))
    np.testing.assert_allclose(model.morph("warm"), model.decode(model.centroid("warm")))
    mid = model.morph_latent("warm", "bright", 0.25)
    np.testing.assert_allclose(mid, 0.75 * model.centroid("warm") + 0.25 * model.centroid("bright"))
    moved = model.traverse(mid, 1.0, -0.5)
    np.testing.assert_allclose((moved - mid) @ model.axes.T, [model.axis_scale[0], -0.5 * model.axis_scale[1]],
                               atol=1e-12)
    assert model.morph("WARM ", "Bright", 0.5).shape == (13,)  # user spelling is normalised


def test_unknown_terms_suggest_nearest_names(model):
    assert model.nearest_terms("wram")[0] == "warm"
    assert "bright" in model.nearest_terms("brite")
    with pytest.raises(UnknownTermError) as info:
        model.centroid("wram")
    assert isinstance(info.value, ModelError)
    assert "did you mean warm" in str(info.value) and "known terms" in str(info.value)
    assert model.nearest_terms("zzzzqqq") == []


def test_term_infos_come_from_the_file(model):
    warm, muffled = model.term_info("warm"), model.term_info("muffled")
    assert warm.sources == ("safe", "socialeq") and warm.lead == "safe"
    assert warm.safe_rows > 100 and warm.safe_users >= 5 and warm.contributors >= 100
    assert muffled.sources == ("socialeq",) and muffled.safe_rows == 0 and muffled.agreement > 0
    assert model.term_info("clear").lead == "socialeq"  # 20 contributors, SAFE only 4 rows
    assert [i.name for i in model.term_infos()] == model.terms
    assert {i.certainty for i in model.term_infos()} == {"high", "medium", "low"}


def test_term_profile_ranks_by_sound(model):
    prof = model.term_profile(model.centroid("bright"))
    assert prof[0][0] == "bright" and prof[0][1] > 0.99
    sims = [s for _, s in prof]
    assert sims == sorted(sims, reverse=True) and all(0.0 <= s <= 1.0 for s in sims)
    assert {t for t, _ in prof} == set(model.terms)
    # Every word's own centroid is in its top three (near-synonyms may come first).
    for term in model.terms:
        assert term in [t for t, _ in model.term_profile(model.centroid(term), top=3)], term
    # An extreme EQ is far from every word: about twice people's own spread or more.
    far = model.term_profile(model.centroid("warm") + 50.0)
    assert max(s for _, s in far) < 0.2
    # The vector form is the same numbers in the model's order; top=n is the head of the ranking.
    z = model.morph_latent("warm", "muffled", 0.4)
    sims = model.term_similarities(z)
    assert dict(model.term_profile(z)) == pytest.approx(dict(zip(model.terms, sims)), abs=1e-12)
    assert model.term_profile(z, top=3) == model.term_profile(z)[:3]
    # A latent is judged by the EQ it decodes to.
    curve = response_db(model.decode(z), ANALYSIS_FREQS, model.sample_rate)
    np.testing.assert_allclose(model.character_curve(z), curve, atol=1e-9)
    np.testing.assert_allclose(sims, model.curve_similarities(curve), atol=1e-9)


def _documented_similarities(model, curve, weights):
    """``curve_similarities`` as its docstring says, the slow way."""
    words = np.stack([model.term_curve(t) for t in model.terms])
    diff = words - curve
    diff -= ((diff @ weights) / weights.sum())[:, None]
    d2 = (diff * diff) @ weights / weights.sum()
    return np.exp(-0.5 * d2 / model.profile_spread_db(weights) ** 2)


def test_curve_similarities_are_weighted_level_free_and_scaled_by_peoples_spread(model):
    rng = np.random.default_rng(3)
    curve = model.term_curve("warm") + rng.normal(0.0, 1.5, ANALYSIS_FREQS.size)
    hats = ((ANALYSIS_FREQS >= 3000) & (ANALYSIS_FREQS <= 16000)).astype(float)
    soft = np.clip(rng.random(ANALYSIS_FREQS.size) * 1.4 - 0.2, 0.0, 1.0)
    for weights in (np.ones(ANALYSIS_FREQS.size), hats, soft):
        np.testing.assert_allclose(model.curve_similarities(curve, weights),
                                   _documented_similarities(model, curve, weights), atol=1e-12)
    np.testing.assert_allclose(model.curve_similarities(curve), model.curve_similarities(
        curve, np.ones(ANALYSIS_FREQS.size)), atol=1e-12)
    # Level-free: a gain changes nothing; only the weighted bands count.
    np.testing.assert_allclose(model.curve_similarities(curve + 9.0, hats),
                               model.curve_similarities(curve, hats), atol=1e-12)
    elsewhere = curve + 20.0 * (1.0 - hats) * rng.standard_normal(ANALYSIS_FREQS.size)
    np.testing.assert_allclose(model.curve_similarities(elsewhere, hats),
                               model.curve_similarities(curve, hats), atol=1e-12)
    # On a word's curve: 1 for that word; the ranking comes back as documented.
    sims = model.curve_similarities(model.term_curve("harsh"))
    assert sims[model.terms.index("harsh")] == pytest.approx(1.0)
    prof = model.curve_profile(model.term_curve("harsh"), top=5)
    assert prof[0][0] == "harsh" and len(prof) == 5
    assert [t for t, _ in prof] == [model.terms[i] for i in np.argsort(-sims, kind="stable")[:5]]


def test_the_profile_scale_is_peoples_spread_on_the_bands_judged(model):
    # SAFE's warm and bright settings around their mean curves: about 3.7 dB RMS on all bands
    # (level-free); on fewer bands less of it is left once the level is removed.
    full = model.profile_spread_db()
    assert 3.0 < full < 4.5
    hats = ((ANALYSIS_FREQS >= 3000) & (ANALYSIS_FREQS <= 16000)).astype(float)
    bass = ((ANALYSIS_FREQS >= 40) & (ANALYSIS_FREQS <= 400)).astype(float)
    assert model.profile_spread_db(hats) < 0.7 * full and model.profile_spread_db(bass) < 0.8 * full


def test_bad_profile_arguments_are_refused(model):
    curve = model.term_curve("warm")
    for bad_curve in (np.zeros(10), np.full(ANALYSIS_FREQS.size, np.nan)):
        with pytest.raises(ValueError, match="curve"):
            model.curve_similarities(bad_curve)
    ones = np.ones(ANALYSIS_FREQS.size)
    for bad in (np.ones(5), np.zeros(ANALYSIS_FREQS.size), np.where(ones > 0, 1.5, 0.0),
                np.r_[np.nan, ones[1:]], np.r_[-0.1, ones[1:]], np.r_[1.0, np.zeros(27)]):
        with pytest.raises(ValueError, match="weights"):
            model.curve_similarities(curve, bad)
    with pytest.raises(ValueError, match="weights"):
        model.profile_spread_db(np.zeros(ANALYSIS_FREQS.size))


def test_band_response_is_response_db():
    from semeq_live.model.response import BandResponse

    rng = np.random.default_rng(7)
    lo, hi = clamp_params(np.full(13, -1e9)), clamp_params(np.full(13, 1e9))
    params = lo + (hi - lo) * rng.random((40, 13))
    params[0] = lo
    params[1] = hi
    for fs in (16000.0, 44100.0, 48000.0, 96000.0):
        fast = BandResponse(ANALYSIS_FREQS, fs)
        for p in params:
            np.testing.assert_allclose(fast(p), response_db(p, ANALYSIS_FREQS, fs), atol=1e-8)


def test_term_curves_and_curve_encoder(model):
    warm = model.term_curve("warm")
    assert warm.shape == ANALYSIS_FREQS.shape
    # The dense-grid interpolation agrees with the exact analysis-band curve.
    np.testing.assert_allclose(model.term_curve("warm", ANALYSIS_FREQS), warm, atol=0.05)
    assert model.term_curve("bright", [1000.0, 10000.0]).shape == (2,)
    # Warm has more low end relative to highs than bright: the curves say so.
    low, high = ANALYSIS_FREQS < 200, ANALYSIS_FREQS > 5000
    bright = model.term_curve("bright")
    assert (warm[low].mean() - warm[high].mean()) > (bright[low].mean() - bright[high].mean()) + 3
    # Level-invariant, batch = singles, and the mean term curves read as their own term.
    z = model.encode_curve(np.stack([warm, bright]))
    np.testing.assert_allclose(model.encode_curve(warm + 17.0), z[0], atol=1e-12)
    np.testing.assert_allclose(model.encode_curve(bright), z[1], atol=1e-12)
    assert model.term_profile(z[0])[0][0] == "warm"
    assert model.term_profile(z[1])[0][0] == "bright"
    with pytest.raises(ValueError, match="28"):
        model.encode_curve(np.zeros(10))


def test_single_vector_decode_is_well_under_a_millisecond(model):
    z = model.morph_latent("warm", "bright", 0.3)
    for _ in range(100):
        model.decode(z)
    times = []
    for _ in range(500):
        t0 = time.perf_counter()
        model.decode(z)
        times.append(time.perf_counter() - t0)
    # Typically ~10 us; the bound leaves room for a busy shared machine.
    assert np.median(times) < 200e-6
