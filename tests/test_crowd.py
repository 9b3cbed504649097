"""The crowd vocabulary file: checking (bad files are refused with line and column), word selection,
Audealize's curves in dB, the depth factor. Small files written here; no shared data needed."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest
from scipy import signal

from training import crowd as C
from training.data import DataError

HEADER = ["word", "contributors", "agreement", "map_x", "map_y", *C.BAND_COLUMNS]


def _curve(k: int) -> list[float]:
    """A smooth, distinct 40-band shape per k."""
    x = np.linspace(0, 1, 40)
    return list(np.round(np.sin(2 * np.pi * (x * (1 + k % 3) + 0.1 * k)), 6))


def _write(path, rows, header=HEADER):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow(r)
    return path


def _row(word, n=10, agreement=0.5, values=None, k=0):
    return [word, n, agreement, 0.0, 0.0, *(values if values is not None else _curve(k))]


@pytest.fixture
def good(tmp_path):
    rows = [_row("warm", 20, k=1), _row("Bright ", 12, k=2), _row("hello", 9, k=3),
            _row("muddy", 3, k=4), _row("good", 6, k=5), _row("airy", 5, k=6)]
    return _write(tmp_path / "words.csv", rows)


def test_a_good_file_loads_and_selection_says_what_it_dropped(good):
    words = C.load_crowd_csv(good)
    assert words.words == ["warm", "bright", "hello", "muddy", "good", "airy"]  # trimmed, lower-case
    assert words.contributors.tolist() == [20, 12, 9, 3, 6, 5]
    assert words.values.shape == (6, 40) and len(words.sha256) == 64
    kept = C.select_words(words, min_contributors=5)
    assert kept.words == ["warm", "bright", "airy"]
    assert "1 words with fewer than 5 contributors dropped" in kept.notes
    drop = [n for n in kept.notes if "non-descriptors" in n][0]
    assert drop.startswith("2 non-descriptors dropped") and "hello" in drop and "good" in drop


def _refused(path, *parts):
    with pytest.raises(DataError) as info:
        C.load_crowd_csv(path)
    for p in parts:
        assert p in str(info.value), (p, str(info.value))
    return str(info.value)


def test_missing_columns_are_named(tmp_path):
    header = [h for h in HEADER if h not in ("agreement", "g17")]
    path = _write(tmp_path / "cols.csv", [], header=header)
    _refused(path, "cols.csv:1", "missing column", "agreement", "g17")


def test_non_numeric_and_non_finite_values_name_row_and_column(tmp_path):
    values = _curve(0)
    values[5] = "loud"
    path = _write(tmp_path / "text.csv", [_row("warm"), _row("soft", values=values)])
    _refused(path, "text.csv:3", "column 'g05'", "'loud' is not a number")
    for bad in ("nan", "inf", "-inf"):
        values = _curve(0)
        values[39] = bad
        path = _write(tmp_path / f"{bad}.csv", [_row("soft", values=values)])
        _refused(path, f"{bad}.csv:2", "column 'g39'", "not finite")
    path = _write(tmp_path / "agree.csv", [_row("soft", agreement="nan")])
    _refused(path, "agree.csv:2", "column 'agreement'", "not finite")
    path = _write(tmp_path / "count.csv", [_row("soft", n="many")])
    _refused(path, "count.csv:2", "column 'contributors'", "not a whole number")
    path = _write(tmp_path / "zero.csv", [_row("soft", n=0)])
    _refused(path, "zero.csv:2", "column 'contributors'", "at least 1")


def test_duplicate_words_name_both_lines(tmp_path):
    path = _write(tmp_path / "dup.csv", [_row("warm", k=1), _row("soft", k=2), _row(" WARM", k=3)])
    _refused(path, "dup.csv:4", "'warm' appears twice", "first on line 2")


def test_short_rows_empty_words_flat_curves_and_missing_files(tmp_path):
    path = _write(tmp_path / "short.csv", [_row("warm")[:20]])
    _refused(path, "short.csv:2", "expected 45 columns, got 20")
    path = _write(tmp_path / "empty.csv", [_row("  ")])
    _refused(path, "empty.csv:2", "column 'word' is empty")
    path = _write(tmp_path / "flat.csv", [_row("warm", values=[0.3] * 40)])
    _refused(path, "flat.csv:2", "all 40 values are equal")
    _refused(tmp_path / "nope.csv", "no such crowd vocabulary file")
    path = _write(tmp_path / "none.csv", [])
    _refused(path, "no words found")


def test_training_refuses_a_bad_crowd_file_cleanly(tmp_path, safe_csv):
    values = _curve(0)
    values[2] = "x"
    bad = _write(tmp_path / "bad.csv", [_row("warm", values=values)])
    out = tmp_path / "m.npz"
    proc = subprocess.run([sys.executable, "-m", "training.train", "--data", str(safe_csv), "--crowd",
                           str(bad), "--out", str(out), "--quick", "--no-progress"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"training: error: {bad}:2: column 'g02': 'x' is not a number"
    assert "Traceback" not in proc.stderr and not out.exists()


def test_audealize_db_matches_an_independent_cascade():
    rng = np.random.default_rng(0)
    values = rng.normal(0, 1, (3, 40))
    freqs = np.geomspace(25, 18000, 50)
    ours = C.audealize_db(values, freqs, 48000.0)
    for v, mine in zip(values, ours):
        gains = 5.0 * (2 * (v - v.min()) / (v.max() - v.min()) - 1)
        total = np.zeros_like(freqs)
        for g, fc in zip(gains, C.AUDEALIZE_CENTRES_HZ):
            a = 10 ** (g / 40)
            w0 = 2 * np.pi * fc / 48000.0
            alpha = np.sin(w0) / (2 * 4.31)
            b = [1 + alpha * a, -2 * np.cos(w0), 1 - alpha * a]
            den = [1 + alpha / a, -2 * np.cos(w0), 1 - alpha / a]
            _, h = signal.freqz(b, den, worN=freqs, fs=48000.0)
            total += 20 * np.log10(np.abs(h))
        np.testing.assert_allclose(mine, total, atol=1e-9)
    # amount scales the gains: amount -1 is the opposite word, exactly (RBJ peaking inverse).
    np.testing.assert_allclose(C.audealize_db(values, freqs, amount=-1.0), -ours, atol=1e-9)


def test_depth_factor_and_comparisons():
    rng = np.random.default_rng(1)
    crowd = rng.normal(0, 3, (2, 64))
    safe = 0.35 * crowd + 2.0  # SAFE's own level does not matter
    assert C.fit_depth(crowd, safe) == pytest.approx(0.35)
    assert np.allclose(C.pearson(crowd, 0.1 * crowd - 4), 1.0)
    assert np.allclose(C.rms_level_free(crowd, crowd + 3.0), 0.0)
    assert C.pearson(crowd[0], -crowd[0]) == pytest.approx(-1.0)
