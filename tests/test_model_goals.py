"""The committed default model against the issue's goals, recomputed on the real data.

Recomputed here with the numpy runtime and ``response_db`` only (independently of
``training.evaluate``), then compared with the metrics stored in the model file.

Two goals of the issue are below what this data allows under a split by user, and are checked
against the baselines instead (see MODEL_CARD.md): the decoded warm/bright centroids match the
validation mean curves as well as per-term curve averaging does, and nearest-centroid accuracy is at
least that of the SAFE plugin's parameter averaging. With the crowd vocabulary (issue 10) warm and
bright must also stay at least as good as the SAFE-only model before it (``BEFORE_VOCABULARY``).
"""

from __future__ import annotations

import numpy as np
import pytest

from semeq_live.dsp import log_frequency_grid, response_db
from semeq_live.model import load_model
from training import data as D
from training.evaluate import FIDELITY_TIE_DB

GRID = log_frequency_grid(96)
# The SAFE-only model before the crowd vocabulary (format 1), same split: fidelity (dB) of the
# decoded warm / bright centroids and warm/bright nearest-centroid accuracy on the validation users.
BEFORE_VOCABULARY = {"warm": 1.2299, "bright": 1.4341, "accuracy": 0.8839}  # 137 of 155 rows


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def split(model, safe_csv):
    raw = D.load_safe_csv(safe_csv)
    assert raw.sha256 == model.data_sha256, (
        "../shared/data/safe_eq.csv is not the file the bundled model was trained on: retrain it "
        "(see semeq_live/model/data/MODEL_CARD.md)")
    rows = D.clean(raw)
    t = model.training
    train_idx, val_idx = D.split_by_user(rows, t["val_fraction"], t["seed"], t["min_count"])
    return rows.subset(train_idx), rows.subset(val_idx)


def _rms(a, b):
    return np.sqrt(np.mean((a - b) ** 2, axis=-1))


def test_stored_goals(model):
    goals = model.metrics["goals"]
    assert goals["reconstruction_median_le_1db"] and goals["alpha_step_le_0.5db"]
    assert model.metrics["reconstruction"]["model"]["median_db"] <= 1.0
    checks = model.metrics["export_check"]  # numpy runtime vs torch on the validation settings
    assert checks["encode_max_abs"] < 1e-9 and checks["encode_curve_max_abs"] < 1e-9
    assert checks["decode_max_rel"] < 1e-5  # the decoder computes in float32


def test_terms_and_counts_follow_the_training_split(model, split):
    train, val = split
    safe_terms = D.vocabulary(train.terms, model.training["min_count"])
    lead_rows = model.training["crowd"]["safe_lead_rows"]
    for t in safe_terms:  # every SAFE term is in; the crowd leads those SAFE has few rows of
        info = model.term_info(t)
        assert info.lead == ("safe" if train.terms.count(t) >= lead_rows
                             or "socialeq" not in info.sources else "socialeq"), t
    for info in model.term_infos():
        t = info.name
        if info.lead == "safe":
            assert model.counts[t] == info.safe_rows == train.terms.count(t)
            assert model.val_counts[t] == val.terms.count(t)
            assert info.safe_users == len({u for u, x in zip(train.users, train.terms) if x == t})
        else:
            assert model.counts[t] == model.val_counts[t] == info.safe_rows == 0


def test_reconstruction_recomputed(model, split):
    _, val = split
    err = _rms(response_db(model.decode(model.encode(val.params)), GRID), response_db(val.params, GRID))
    assert np.median(err) <= 1.0
    assert np.median(err) == pytest.approx(model.metrics["reconstruction"]["model"]["median_db"], abs=1e-4)


def test_alpha_morph_is_smooth(model):
    alphas = np.linspace(0, 1, 101)
    curves = response_db(np.stack([model.morph("warm", "bright", a) for a in alphas]), GRID)
    step = np.max(np.abs(np.diff(curves, axis=0)))
    assert step <= 0.5
    assert step == pytest.approx(model.metrics["smoothness"]["model_max_step_db"], abs=1e-4)


def test_warm_bright_fidelity_as_good_as_curve_averaging(model, split):
    train, val = split
    train_terms, val_terms = np.array(train.terms), np.array(val.terms)
    for term in ("warm", "bright"):
        target = response_db(val.params[val_terms == term], GRID).mean(0)
        decoded = _rms(response_db(model.morph(term), GRID), target)
        curve_average = _rms(response_db(train.params[train_terms == term], GRID).mean(0), target)
        stored = model.metrics["fidelity"][term]
        assert decoded == pytest.approx(stored["model"], abs=1e-4)
        assert curve_average == pytest.approx(stored["curve_average"], abs=1e-4)
        assert decoded <= curve_average + 0.05
        # The crowd words cost warm/bright nothing audible ("as good as": FIDELITY_TIE_DB).
        assert decoded <= BEFORE_VOCABULARY[term] + FIDELITY_TIE_DB


def test_warm_bright_separation_at_least_parameter_averaging(model, split):
    _, val = split
    terms = np.array(val.terms)
    rows = np.isin(terms, ["warm", "bright"])
    z = model.encode(val.params[rows])
    c = np.stack([model.centroid("warm"), model.centroid("bright")])
    pred = np.where(np.argmin(((z[:, None] - c[None]) ** 2).sum(-1), axis=1) == 0, "warm", "bright")
    acc = float(np.mean(pred == terms[rows]))
    sep = model.metrics["separation"]["warm_bright"]
    assert acc == pytest.approx(sep["model_accuracy"], abs=1e-12)
    assert acc >= sep["param_average_accuracy"] and acc >= BEFORE_VOCABULARY["accuracy"] - 1e-4
