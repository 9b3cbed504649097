"""``semeq-live terms`` and ``semeq-live eq`` against the bundled model (and a broken one)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from semeq_live.cli import main
from semeq_live.dsp import response_db
from semeq_live.model import load_model
from semeq_live.params import PARAM_NAMES


@pytest.fixture(scope="module")
def model():
    return load_model()


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_terms_json_lists_every_term_with_counts(capsys, model):
    code, out, _ = _run(capsys, "terms", "--json")
    assert code == 0
    data = json.loads(out)
    assert [r["term"] for r in data["terms"]] == model.terms
    assert all(r["count"] == model.counts[r["term"]] for r in data["terms"])


def test_terms_table(capsys, model):
    code, out, _ = _run(capsys, "terms")
    assert code == 0
    for t in model.terms:
        assert any(line.split()[0] == t.split()[0] and str(model.counts[t]) in line
                   for line in out.splitlines())


def test_eq_json_is_the_models_morph(capsys, model):
    code, out, _ = _run(capsys, "eq", "--term-a", "warm", "--term-b", "bright", "--alpha", "0.3",
                        "--json")
    assert code == 0
    data = json.loads(out)
    p = np.array([data["params"][n] for n in PARAM_NAMES])
    np.testing.assert_allclose(p, model.morph("warm", "bright", 0.3), rtol=1e-12)
    f = np.array(data["curve"]["freqs_hz"])
    np.testing.assert_allclose(data["curve"]["db"], response_db(p, f, 48000.0), atol=1e-9)
    assert data["alpha"] == 0.3


def test_eq_text_has_plot_and_table(capsys, model):
    code, out, _ = _run(capsys, "eq", "--term-a", "bright")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("EQ for bright")
    assert sum("*" in line for line in lines) >= 5  # the curve
    assert any(line.rstrip().endswith("Hz") and "1k" in line for line in lines)  # frequency axis
    for band in ("low shelf", "peak 1", "peak 2", "peak 3", "high shelf"):
        assert any(line.startswith(band) for line in lines)


def test_eq_plot_follows_the_curve():
    from semeq_live.cli.commands.eq import text_plot

    f = np.geomspace(20, 20000, 50)
    rising = np.linspace(-6, 6, 50)
    lines = text_plot(f, rising, width=40, height=9)
    rows = [next(r for r, line in enumerate(lines[:9]) if line[10 + c] == "*") for c in (0, 39)]
    assert rows[0] == 8 and rows[1] == 0  # low frequencies at the bottom, highs at the top


def test_unknown_term_is_a_clear_error(capsys):
    code, out, err = _run(capsys, "eq", "--term-a", "wram")
    assert code == 2 and out == ""
    assert "unknown term 'wram'" in err and "did you mean warm" in err and "Traceback" not in err


@pytest.mark.parametrize("argv, match", [
    (["eq", "--term-a", "warm", "--term-b", "bright", "--alpha", "1.5"], "--alpha must be between"),
    (["eq", "--term-a", "warm", "--alpha", "0.5"], "needs --term-b"),
])
def test_bad_arguments(capsys, argv, match):
    code, _, err = _run(capsys, *argv)
    assert code == 2 and match in err


def test_broken_model_file_is_reported_without_traceback(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04garbage")
    proc = subprocess.run([sys.executable, "-m", "semeq_live", "terms", "--model", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "corrupt or truncated" in proc.stderr and "Traceback" not in proc.stderr
