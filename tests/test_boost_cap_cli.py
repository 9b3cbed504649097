"""``max_boost_db`` from the stage file and the command line to the sound: the cap configured for
``run`` and ``render`` is the cap the engine applies, and the rendered audio's measured transfer
function never rises above it (the offline render drives the same control loop as live)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import scipy.signal as ss
import soundfile as sf

from semeq_live.app import StageConfig, config_from_args, load_stage_config
from semeq_live.cli import main
from semeq_live.errors import CLIError
from semeq_live.params import PARAM_NAMES

SR = 44100


def test_stage_file_and_command_line(tmp_path):
    from semeq_live.cli.commands import run as run_cmd

    path = tmp_path / "stage.yaml"
    path.write_text("max_boost_db: 6\n")
    assert load_stage_config(path) == {"max_boost_db": 6.0}
    parser = argparse.ArgumentParser()
    run_cmd.add_arguments(parser)
    assert config_from_args(parser.parse_args(["--config", str(path)])).max_boost_db == 6.0
    cfg = config_from_args(parser.parse_args(["--config", str(path), "--max-boost-db", "3"]))
    assert cfg.max_boost_db == 3.0
    assert config_from_args(parser.parse_args([])).max_boost_db is None  # default: no cap
    path.write_text("max-boost-db: null\n")
    assert load_stage_config(path) == {"max_boost_db": None}


@pytest.mark.parametrize("text, message", [
    ("max_boost_db: loud\n", "max_boost_db must be a number"),
    ("max_boost_db: true\n", "max_boost_db must be a number"),
])
def test_stage_file_errors_name_the_key(tmp_path, text, message):
    path = tmp_path / "stage.yaml"
    path.write_text(text)
    with pytest.raises(CLIError, match=message) as err:
        load_stage_config(path)
    assert "stage.yaml" in str(err.value)


@pytest.mark.parametrize("value", [-3.0, 20.0])
def test_out_of_range_cap_is_refused(value):
    with pytest.raises(CLIError, match="max_boost_db must be between 0 and 12 dB"):
        StageConfig(max_boost_db=value).validate()


def _pink(tmp_path, seconds=6.0):
    from semeq_live.audio.sources import pink_noise

    src = tmp_path / "pink.wav"
    sf.write(src, pink_noise(SR, 2, seconds), SR, subtype="FLOAT")
    return src


def transfer_db(x, y, lo=50.0, hi=16000.0):
    """Measured |H(f)| in dB of y against x (cross-spectrum over auto-spectrum, channel 0)."""
    f, pxy = ss.csd(x[:, 0], y[:, 0], fs=SR, nperseg=8192)
    _, pxx = ss.welch(x[:, 0], fs=SR, nperseg=8192)
    sel = (f >= lo) & (f <= hi)
    return f[sel], 20 * np.log10(np.abs(pxy[sel]) / pxx[sel])


def _render(args, capsys):
    assert main(args + ["--quiet", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_render_cap_holds_on_the_measured_response_and_matches_the_engine(tmp_path, capsys):
    from semeq_live.control.engine import SemanticEngine
    from semeq_live.control.state import ControlState
    from semeq_live.model import load_model

    src = _pink(tmp_path)
    x, _ = sf.read(src, always_2d=True)
    common = ["render", str(src), "--term-a", "bright", "--intensity", "1.5", "--static", "--no-autogain"]
    free = _render(common + ["-o", str(tmp_path / "free.wav")], capsys)
    capped = _render(common + ["-o", str(tmp_path / "capped.wav"), "--max-boost-db", "3"], capsys)
    assert free["final_eq"]["boost_cap"]["acting"] is False
    cap = capped["final_eq"]["boost_cap"]
    assert cap["max_boost_db"] == 3.0 and cap["acting"] is True and cap["held_back_db"] > 3.0
    # The sound: measured on the rendered audio after the first second.
    _, h_free = transfer_db(x[SR:], sf.read(tmp_path / "free.wav", always_2d=True)[0][SR:])
    f, h_cap = transfer_db(x[SR:], sf.read(tmp_path / "capped.wav", always_2d=True)[0][SR:])
    assert h_free.max() > 6.0
    assert h_cap.max() <= 3.0 + 0.15, f[np.argmax(h_cap)]
    assert h_cap.max() > 2.5  # held at the cap, not muted
    # Cuts pass untouched: wherever the free render cut, the capped one cuts the same.
    cut = h_free < -1.0
    assert cut.any()
    np.testing.assert_allclose(h_cap[cut], h_free[cut], atol=0.3)
    # The same EQ the live engine computes for the same state and cap.
    state = ControlState(term_a="bright", term_b="bright", intensity=1.5, adaptive=False, autogain=False)
    live = SemanticEngine(load_model(), SR, max_boost_db=3.0).compute(state)
    np.testing.assert_allclose([capped["final_eq"]["forward"][n] for n in PARAM_NAMES], live.forward,
                               atol=1e-9)


def test_adaptive_render_with_a_cap(tmp_path, capsys):
    """Adaptive (listening to the input) with a cap: the final applied EQ stays under it."""
    from semeq_live.dsp.design import response_db
    from semeq_live.params import params_from_mapping

    src = _pink(tmp_path, seconds=4.0)
    report = _render(["render", str(src), "-o", str(tmp_path / "o.wav"), "--term-a", "bright",
                      "--intensity", "1.5", "--max-boost-db", "2"], capsys)
    eq = report["final_eq"]
    assert eq["boost_cap"]["max_boost_db"] == 2.0
    f = np.geomspace(20, 20000, 3000)
    h = response_db(params_from_mapping(eq["forward"]), f, SR)
    if eq["inverse"] is not None:
        h -= response_db(params_from_mapping(eq["inverse"]), f, SR)
    assert h.max() <= 2.0 + 0.02


def test_manual_render_is_capped_when_asked(tmp_path, capsys):
    src = _pink(tmp_path, seconds=3.0)
    x, _ = sf.read(src, always_2d=True)
    setting = [0.0, 100.0, 10.0, 500.0, 2.0, -6.0, 2000.0, 1.0, 0.0, 5000.0, 0.7, 0.0, 9000.0]
    params = tmp_path / "eq.yaml"
    params.write_text("\n".join(f"{n}: {v}" for n, v in zip(PARAM_NAMES, setting)) + "\n")
    report = _render(["render", str(src), "-o", str(tmp_path / "o.wav"), "--params", str(params),
                      "--max-boost-db", "4"], capsys)
    assert report["boost_cap"]["acting"] is True and report["boost_cap"]["held_back_db"] > 5.5
    f, h = transfer_db(x[SR // 2:], sf.read(tmp_path / "o.wav", always_2d=True)[0][SR // 2:])
    assert h.max() <= 4.0 + 0.15
    assert h[(f > 1800) & (f < 2200)].min() < -5.0  # the cut is still there


def test_render_refuses_an_out_of_range_cap(tmp_path, capsys):
    src = _pink(tmp_path, seconds=0.2)
    assert main(["render", str(src), "-o", str(tmp_path / "o.wav"), "--term-a", "warm",
                 "--max-boost-db", "15"]) == 2
    assert "--max-boost-db" in capsys.readouterr().err
    assert not (tmp_path / "o.wav").exists()
