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


def test_terms_json_lists_every_term_with_source_count_and_agreement(capsys, model):
    code, out, _ = _run(capsys, "terms", "--json")
    assert code == 0
    data = json.loads(out)
    assert [r["term"] for r in data["terms"]] == model.terms and len(model.terms) >= 50
    for r in data["terms"]:
        info = model.term_info(r["term"])
        assert r["count"] == model.counts[r["term"]] == r["safe_rows"]
        assert r["sources"] == list(info.sources) and r["contributors"] == info.contributors
        assert r["certainty"] == info.certainty and r["people"] == info.people
        assert (r["agreement"] is None) == (info.contributors == 0)


def _table_rows(out):
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["word", "sources"]
    return [line.split() for line in lines[1:] if line.strip() and not line.startswith(" ")
            and len(line.split()) == 7]


def test_terms_table_shows_source_counts_agreement_and_marks(capsys, model):
    code, out, _ = _run(capsys, "terms")
    assert code == 0
    rows = {r[0].rstrip("?"): r for r in _table_rows(out)}
    assert len(rows) == len(model.terms) >= 50
    for info in model.term_infos():
        word, sources, safe, contrib, agreement, people, certainty = rows[info.name]
        assert word == info.name + info.mark  # '?' / '??' on less certain words
        assert sources == info.source_label and certainty == info.certainty
        assert safe == (f"{info.safe_rows}/{info.safe_users}" if info.safe_rows else "-")
        assert contrib == (str(info.contributors) if info.contributors else "-")
        assert agreement == (f"{info.agreement:.3f}" if info.agreement is not None else "-")
        assert people == str(info.people)
    assert any(r[0].endswith("??") for r in rows.values())  # some words rest on few people
    assert f"{len(model.terms)} words" in out and "'??' = low" in out


def test_terms_sort_and_filters(capsys, model):
    _, out, _ = _run(capsys, "terms", "--json", "--sort", "agreement")
    agreement = [r["agreement"] or -1 for r in json.loads(out)["terms"]]
    assert agreement == sorted(agreement, reverse=True)
    _, out, _ = _run(capsys, "terms", "--json", "--sort", "name", "--reverse")
    names = [r["term"] for r in json.loads(out)["terms"]]
    assert names == sorted(model.terms, reverse=True)
    _, out, _ = _run(capsys, "terms", "--json", "--min-contributors", "20")
    picked = json.loads(out)["terms"]
    assert picked and all(r["contributors"] >= 20 for r in picked)
    assert len(picked) == sum(i.contributors >= 20 for i in model.term_infos())
    _, out, _ = _run(capsys, "terms", "--json", "--min-people", "10", "--source", "safe")
    assert {r["term"] for r in json.loads(out)["terms"]} == {
        i.name for i in model.term_infos() if i.people >= 10 and "safe" in i.sources}
    _, out, _ = _run(capsys, "terms", "--json", "--certainty", "medium")
    assert {r["certainty"] for r in json.loads(out)["terms"]} == {"high", "medium"}
    code, out, _ = _run(capsys, "terms", "--sort", "people", "--certainty", "high")
    assert code == 0 and f"of {len(model.terms)} words" in out
    assert not any(r[0].endswith("?") for r in _table_rows(out))


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
