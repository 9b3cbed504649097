"""Training pieces: data loading and clean-up, user split, torch response, contrastive loss."""

from __future__ import annotations

import csv

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="training needs torch (pip install torch==2.13.0)")

from semeq_live.dsp import log_frequency_grid, response_db  # noqa: E402
from semeq_live.params import FLAT_PARAMS, PARAM_NAMES, clamp_params  # noqa: E402
from training import data as D  # noqa: E402
from training.losses import supervised_contrastive  # noqa: E402
from training.response import response_db_torch  # noqa: E402

HEADER = ["entry", "term", "user", *PARAM_NAMES, "genre", "instrument", "experience"]


def _write_dev_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i, (term, user, p) in enumerate(rows):
            w.writerow([i + 1, term, user, *p, "", "", ""])


def _random_params(rng, n):
    lo = clamp_params(np.full(13, -1e9))
    hi = clamp_params(np.full(13, 1e9))
    u = rng.random((n, 13))
    p = lo + (hi - lo) * u
    log = np.array([False, True, False, True, True, False, True, True, False, True, True, False, True])
    p[:, log] = np.exp(np.log(lo[log]) + (np.log(hi[log]) - np.log(lo[log])) * u[:, log])
    return p


@pytest.mark.parametrize("fs", [44100.0, 48000.0, 96000.0])
def test_torch_response_matches_numpy(fs):
    rng = np.random.default_rng(1)
    p = np.vstack([_random_params(rng, 300), FLAT_PARAMS, clamp_params(np.full(13, 1e9)),
                   clamp_params(np.full(13, -1e9))])
    f = log_frequency_grid(96)
    ref = response_db(p, f, fs)
    got = response_db_torch(torch.tensor(p), f, fs).numpy()
    assert np.max(np.abs(got - ref)) < 1e-8


def test_torch_response_is_differentiable():
    p = torch.tensor(_random_params(np.random.default_rng(2), 8), requires_grad=True)
    response_db_torch(p, log_frequency_grid(32)).sum().backward()
    assert torch.isfinite(p.grad).all() and (p.grad.abs().sum() > 0)


def test_cleanup_drops_junk_folds_typos_and_duplicates(tmp_path):
    flat = list(FLAT_PARAMS)
    boost = list(FLAT_PARAMS)
    boost[0] = 6.0
    rows = [(" Warm ", "u1", boost)] * 3 + [("warm", "u2", boost)] + \
        [("warm", f"u{i}", flat) for i in range(3, 30)] + \
        [("Test", "u1", flat), ("default", "u2", flat), ("RE27", "u3", flat), ("test2", "u3", flat),
         ("wawrm", "u40", flat), ("warmth", "u5", flat), ("12", "u5", flat)]
    path = tmp_path / "mini.csv"
    _write_dev_csv(path, rows)
    raw = D.load_safe_csv(path)
    assert len(raw) == len(rows) and len(raw.sha256) == 64
    clean = D.clean(raw)
    terms = clean.terms
    assert "test" not in terms and "default" not in terms and "re27" not in terms
    assert "test2" not in terms and "12" not in terms
    assert "wawrm" not in terms and "warmth" in terms  # typo folded; a different word kept
    # u1's three identical settings count once; u2's identical setting is another person's.
    assert sum(1 for t, u in zip(terms, clean.users) if t == "warm" and u in ("u1", "u2")) == 2
    assert terms.count("warm") == 2 + 27 + 1


def test_original_layout_reads_like_developer_file(safe_csv, tmp_path):
    raw = D.load_safe_csv(safe_csv)
    original = tmp_path / "SAFEEqualiserUserData.csv"
    with open(safe_csv, newline="") as f, open(original, "w", newline="") as g:
        w = csv.writer(g)
        for r in list(csv.DictReader(f))[:60]:
            # entry, descriptor, address, two integers, 13 values, genre, instrument, location,
            # experience, age, language, hash
            w.writerow([r["entry"], r["term"], "addr-" + r["user"], 0, 1,
                        *[r[n] for n in PARAM_NAMES], "", "", "", "", "", "", "x"])
    orig = D.load_safe_csv(original)
    assert len(orig) == 60
    np.testing.assert_allclose(orig.params, raw.params[:60])
    assert orig.terms == raw.terms[:60]
    # One pseudonym per person, and no address kept.
    pairs = set(zip(orig.users, raw.users[:60]))
    assert len(pairs) == len(set(raw.users[:60])) and not any("addr" in u for u in orig.users)


def test_bad_files_raise_data_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(D.DataError, match="not a SAFE-DB file"):
        D.load_safe_csv(bad)
    nan = tmp_path / "nan.csv"
    _write_dev_csv(nan, [("warm", "u", [float("nan")] + list(FLAT_PARAMS[1:]))])
    with pytest.raises(D.DataError, match="finite"):
        D.load_safe_csv(nan)
    with pytest.raises(D.DataError, match="no such"):
        D.load_safe_csv(tmp_path / "missing.csv")


def test_split_by_user_keeps_people_apart_and_terms_trainable(safe_csv):
    rows = D.clean(D.load_safe_csv(safe_csv))
    train, val = D.split_by_user(rows, 0.2, seed=0, min_count=4)
    assert len(train) + len(val) == len(rows)
    assert not set(rows.users[i] for i in train) & set(rows.users[i] for i in val)
    assert 0.1 * len(rows) < len(val) <= 0.2 * len(rows)
    for t in ("warm", "bright"):
        assert sum(rows.terms[i] == t for i in val) >= 20
    # Terms with enough rows overall keep enough training rows for a centroid.
    vocab_all = D.vocabulary(rows.terms, 4)
    vocab_train = D.vocabulary([rows.terms[i] for i in train], 4)
    assert vocab_train == vocab_all
    again = D.split_by_user(rows, 0.2, seed=0, min_count=4)
    assert np.array_equal(again[0], train) and np.array_equal(again[1], val)


def test_supervised_contrastive_prefers_separated_classes():
    torch.manual_seed(0)
    labels = torch.tensor([0] * 8 + [1] * 8 + [-1] * 4)
    centres = torch.nn.functional.normalize(torch.randn(2, 16), dim=1)
    tight = torch.nn.functional.normalize(
        centres[labels.clamp_min(0)] + 0.05 * torch.randn(20, 16), dim=1)
    mixed = torch.nn.functional.normalize(torch.randn(20, 16), dim=1)
    assert supervised_contrastive(tight, labels) < supervised_contrastive(mixed, labels) - 1.0
    # No positives at all: zero loss, still differentiable.
    x = mixed.clone().requires_grad_(True)
    loss = supervised_contrastive(x, torch.arange(20))
    loss.backward()
    assert float(loss.detach()) == 0.0
