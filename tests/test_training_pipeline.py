"""End to end on a small budget: train -> evaluate -> export -> load with numpy, deterministic.

This checks the pipeline (CI retrains), not the committed default model (see test_model_goals.py).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training needs torch (pip install torch==2.13.0)")

from semeq_live.model import load_model  # noqa: E402
from semeq_live.model.store import read_model  # noqa: E402
from training import crowd as C  # noqa: E402
from training import train as T  # noqa: E402
from training.nets import Decoder, ResidualMLP  # noqa: E402

from .conftest import SHARED  # noqa: E402

CROWD_CSV = SHARED / "data" / "socialeq_words.csv"


@pytest.fixture(scope="module")
def crowd_csv():
    if not CROWD_CSV.exists():
        pytest.skip(f"crowd vocabulary not found at {CROWD_CSV}: this test reads it from ../shared "
                    "beside the checkout (it is never copied into the repo)")
    return CROWD_CSV


@pytest.fixture(scope="module")
def quick_models(safe_csv, crowd_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("quick")
    paths = [out / "a.npz", out / "b.npz"]
    for p in paths:
        assert T.main(["--data", str(safe_csv), "--crowd", str(crowd_csv), "--out", str(p),
                       "--quick", "--no-progress", "--card", str(p.with_suffix(".md"))]) == 0
    return paths


def test_model_card_reports_metrics_and_how_to_reproduce(quick_models):
    card = quick_models[0].with_suffix(".md").read_text()
    model = load_model(quick_models[0])
    assert model.data_sha256 in card
    assert "| reconstruction median / p90 (dB) |" in card and "| fidelity warm" in card
    assert f"{model.metrics['reconstruction']['model']['median_db']:.2f}" in card
    assert "python -m training.train" in card and "## Reproduce" in card
    assert "## Vocabulary" in card and "## Per-word fidelity against the crowd's curves" in card
    for term in ("warm", "muffled", "clear"):
        corr = model.metrics["crowd"]["words"][term]["corr"]
        assert f"| {term}{model.term_info(term).mark} |" in card and f"{corr:.3f}" in card


def test_quick_training_exports_a_loadable_model(quick_models):
    model = load_model(quick_models[0])
    assert {"warm", "bright", "muffled"} <= set(model.terms) and len(model.terms) >= 50
    assert model.format_version == 2
    m = model.metrics
    crowd = m["crowd"]
    assert 0.1 < crowd["depth_factor"] < 1.0 and set(crowd["shared"]) == {"warm", "bright"}
    assert crowd["n_words"] == sum("socialeq" in i.sources for i in model.term_infos())
    for key in ("reconstruction", "fidelity", "separation", "smoothness", "goals", "curve_encoder",
                "export_check"):
        assert key in m, key
    for side in ("model", "param_average", "curve_average"):
        assert m["reconstruction"][side]["median_db"] > 0
        assert set(m["fidelity"]["warm"]) >= {"model", "param_average", "curve_average", "n_val"}
    assert {"warm", "bright"} <= set(m["fidelity"])
    assert model.training["quick"] is True and model.training["steps"] == T.QUICK_STEPS
    assert model.training["command"].startswith("python -m training.train")


def test_numpy_runtime_matches_torch_to_1e5(quick_models):
    arrays = read_model(quick_models[0])
    model = load_model(quick_models[0])
    rng = np.random.default_rng(3)
    z = np.tanh(rng.normal(0, 1, (32, model.latent_dim)))
    with torch.no_grad():
        ref32 = Decoder.from_arrays(arrays).float()(torch.tensor(z, dtype=torch.float32)).double().numpy()
        enc = ResidualMLP.from_arrays(arrays, "encoder").float()
        params = model.decode(z)
        t = np.where(arrays["coding.is_log"], np.log(np.abs(params)), params)
        coded = 2 * (t - arrays["coding.lo"]) / (arrays["coding.hi"] - arrays["coding.lo"]) - 1
        z32 = torch.tanh(enc(torch.tensor(coded, dtype=torch.float32))).double().numpy()
    assert np.max(np.abs(model.decode(z) - ref32) / np.maximum(np.abs(ref32), 1.0)) < 1e-5
    assert np.max(np.abs(model.encode(params) - z32)) < 1e-5
    assert max(model.metrics["export_check"].values()) < 1e-5


def test_training_is_deterministic(quick_models):
    a, b = (read_model(p) for p in quick_models)
    assert set(a) == set(b)
    for k in a:
        if k == "training":  # holds the wall time and the command (another --out)
            ta, tb = json.loads(str(a[k])), json.loads(str(b[k]))
            for volatile in ("seconds", "command"):
                ta.pop(volatile), tb.pop(volatile)
            assert ta == tb
        else:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_bad_data_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    assert T.main(["--data", str(bad), "--out", str(tmp_path / "m.npz"), "--quick"]) == 2
    assert "not a SAFE-DB file" in capsys.readouterr().err
    assert not (tmp_path / "m.npz").exists()


def _crowd_row(word, n, shape):
    x = np.linspace(0.0, 1.0, 40)
    return [word, n, 0.5, 0, 0, *np.round(shape(x), 6)]


def test_a_small_crowd_file_of_our_own(safe_csv, tmp_path, capsys):
    """Words, filtering and the depth factor from a crowd file written here (not the shared one)."""
    rows = [_crowd_row("warm", 30, lambda x: np.cos(np.pi * x)),      # lows up, highs down
            _crowd_row("bright", 20, lambda x: -np.cos(np.pi * x)),   # the opposite
            _crowd_row("boomy", 7, lambda x: np.exp(-((x - 0.15) / 0.1) ** 2)),
            _crowd_row("zingy", 6, lambda x: np.exp(-((x - 0.8) / 0.1) ** 2)),
            _crowd_row("hello", 9, lambda x: x),                      # not a descriptor
            _crowd_row("boxy", 2, lambda x: np.exp(-((x - 0.4) / 0.1) ** 2))]  # too few people
    path = tmp_path / "crowd.csv"
    with open(path, "w") as f:
        f.write(",".join(["word", "contributors", "agreement", "map_x", "map_y", *C.BAND_COLUMNS]) + "\n")
        for r in rows:
            f.write(",".join(str(v) for v in r) + "\n")
    out = tmp_path / "m.npz"
    assert T.main(["--data", str(safe_csv), "--crowd", str(path), "--out", str(out), "--quick",
                   "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "1 words with fewer than 5 contributors dropped" in printed
    assert "1 non-descriptors dropped: hello (greeting or test entry)" in printed
    model = load_model(out)
    assert {"warm", "bright", "boomy", "zingy", "full"} <= set(model.terms)
    assert "hello" not in model.terms and "boxy" not in model.terms
    assert model.term_info("boomy").sources == ("socialeq",) and model.term_info("boomy").mark == "??"
    assert model.term_info("warm").sources == ("safe", "socialeq")
    # The crowd's curve on SAFE's scale is the word's curve (its centroid's target): low-mid lift.
    assert model.metrics["crowd"]["words"]["boomy"]["fit_corr"] > 0.9
    assert model.term_curve("boomy", [250.0])[0] > model.term_curve("boomy", [5000.0])[0] + 2.0

    # A crowd file sharing no well-covered word with SAFE cannot be put on SAFE's scale.
    lone = tmp_path / "lone.csv"
    lone.write_text(path.read_text().replace("warm,", "tepid,").replace("bright,", "shiny,"))
    assert T.main(["--data", str(safe_csv), "--crowd", str(lone), "--out", str(tmp_path / "x.npz"),
                   "--quick", "--no-progress"]) == 2
    assert "shares no word with SAFE's well-covered terms" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()
