"""Model files that are missing, corrupt, truncated, altered or of another version: ModelError only."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from semeq_live.errors import ModelError
from semeq_live.model import DEFAULT_MODEL_PATH, load_model
from semeq_live.model.store import read_model, write_model

GOOD = DEFAULT_MODEL_PATH.read_bytes()


@pytest.fixture(scope="module")
def arrays():
    return read_model(DEFAULT_MODEL_PATH)


def _expect_model_error(path, match):
    with pytest.raises(ModelError, match=match) as info:
        load_model(path)
    assert "training.train" in str(info.value)  # says what to do
    return info.value


def test_missing_and_non_zip_files(tmp_path):
    _expect_model_error(tmp_path / "nope.npz", "not found")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"this is not a model")
    _expect_model_error(junk, "corrupt or truncated")
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    _expect_model_error(empty, "corrupt or truncated")


def test_truncated_file(tmp_path):
    path = tmp_path / "cut.npz"
    path.write_bytes(GOOD[: len(GOOD) // 2])
    _expect_model_error(path, "corrupt or truncated")


def test_wrong_version_missing_key_bad_shape_bad_json(tmp_path, arrays):
    cases = {
        "version": ({**arrays, "format_version": np.array(99)}, "format version 99"),
        "missing": ({k: v for k, v in arrays.items() if k != "decoder.out.w"}, "decoder.out.w"),
        "shape": ({**arrays, "axes": np.zeros((3, 32))}, "'axes' has shape"),
        "json": ({**arrays, "metrics": np.array("{not json")}, "metrics"),
        "nan": ({**arrays, "centroids": np.full_like(arrays["centroids"], np.nan)}, "non-finite"),
        "latent": ({**arrays, "decoder.in.w": np.zeros((128, 31), np.float32)}, "decoder.in.w"),
    }
    for name, (bad, match) in cases.items():
        path = tmp_path / f"{name}.npz"
        write_model(path, bad)
        _expect_model_error(path, match)


def test_format_1_files_say_to_retrain_or_use_the_default(tmp_path, arrays):
    new = ("term_sources", "term_lead", "term_safe_users", "term_contributors", "term_agreement")
    old = {k: v for k, v in arrays.items() if k not in new}
    path = tmp_path / "v1.npz"
    write_model(path, {**old, "format_version": np.array(1)})
    err = _expect_model_error(path, "format version 1 is not supported")
    assert "reads version 2" in str(err) and "bundled default" in str(err)


def test_term_metadata_is_checked(tmp_path, arrays):
    n = arrays["terms"].shape[0]
    cases = {
        "source": ({**arrays, "term_sources": np.array(arrays["term_sources"].tolist()[:-1] + ["forum"])},
                   "forum"),
        "lead": ({**arrays, "term_lead": np.array(["safe"] * n),
                  "term_sources": np.array(["socialeq"] * n)}, "lead"),
        "negative": ({**arrays, "term_contributors": np.full(n, -1)}, "negative"),
        "length": ({**arrays, "term_agreement": np.zeros(n + 1)}, "term_agreement"),
        "twice": ({**arrays, "terms": np.array(["warm"] + arrays["terms"].tolist()[1:-1] + ["warm"])},
                  "warm appear more than once"),
    }
    for name, (bad, match) in cases.items():
        path = tmp_path / f"{name}.npz"
        write_model(path, bad)
        _expect_model_error(path, match)


def test_object_arrays_are_never_loaded(tmp_path, arrays):
    path = tmp_path / "pickled.npz"
    with open(path, "wb") as f:
        np.savez(f, **{**arrays, "terms": np.array(["warm", {"x": 1}], dtype=object)})
    _expect_model_error(path, "corrupt or truncated")  # allow_pickle=False refuses it
    with pytest.raises(TypeError, match="pickle"):
        write_model(tmp_path / "x.npz", {"a": np.array([None], dtype=object)})


def test_round_trip_keeps_everything(tmp_path, arrays):
    path = tmp_path / "copy.npz"
    write_model(path, arrays)
    again = read_model(path)
    assert set(again) == set(arrays)
    for k in arrays:
        np.testing.assert_array_equal(again[k], arrays[k])
    assert isinstance(json.loads(str(again["metrics"])), dict)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_files_only_ever_raise_model_error(tmp_path, data):
    blob = bytearray(GOOD)
    if data.draw(st.booleans(), label="truncate"):
        blob = blob[: data.draw(st.integers(0, len(blob) - 1), label="length")]
    n_flips = data.draw(st.integers(0, 8), label="flips")
    for _ in range(n_flips):
        if not blob:
            break
        # Bias half the edits towards the zip/npy headers, where parsers are most exposed.
        hi = len(blob) - 1 if data.draw(st.booleans()) else min(len(blob) - 1, 4096)
        pos = data.draw(st.integers(0, hi), label="pos")
        blob[pos] = data.draw(st.integers(0, 255), label="byte")
    path = tmp_path / "fuzz.npz"
    path.write_bytes(bytes(blob))
    try:
        model = load_model(path)
    except ModelError:
        return
    # An edit that touched nothing checked (e.g. a zip comment) may still load: it must work.
    assert model.decode(model.centroid(model.terms[0])).shape == (13,)


def test_the_profile_spread_is_checked(tmp_path, arrays):
    spread = arrays["profile_spread"]
    lopsided = spread.copy()
    lopsided[0, 1] += 1.0
    cases = {
        "missing": ({k: v for k, v in arrays.items() if k != "profile_spread"}, "profile_spread"),
        "shape": ({**arrays, "profile_spread": spread[:-1]}, "'profile_spread' has shape"),
        "asymmetric": ({**arrays, "profile_spread": lopsided}, "not a covariance"),
        "zero": ({**arrays, "profile_spread": np.zeros_like(spread)}, "not a covariance"),
    }
    for name, (bad, match) in cases.items():
        path = tmp_path / f"{name}.npz"
        write_model(path, bad)
        _expect_model_error(path, match)
