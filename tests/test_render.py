"""``semeq-live render``: file formats kept, manual parameters exact, terms and performances audible."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.signal as ss
import soundfile as sf

from semeq_live.cli import main
from semeq_live.dsp import design_sos
from semeq_live.dsp.design import subsonic_sos
from semeq_live.params import PARAM_NAMES

SETTING = [6.0, 100.0, 0.0, 500.0, 1.0, -3.0, 2000.0, 1.5, 0.0, 5000.0, 0.7, 4.0, 9000.0]


def _noise(path, sr=44100, ch=2, seconds=2.0, subtype="PCM_24", level=0.1):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((int(sr * seconds), ch)) * level).astype(np.float32)
    sf.write(path, x, sr, subtype=subtype)
    return sf.read(path, dtype="float32", always_2d=True)[0]


def _params_file(tmp_path, values=SETTING):
    p = tmp_path / "eq.yaml"
    p.write_text("\n".join(f"{n}: {v}" for n, v in zip(PARAM_NAMES, values)) + "\n")
    return p


def test_manual_render_keeps_format_and_matches_scipy(tmp_path, capsys):
    src = tmp_path / "in.wav"
    x = _noise(src, sr=44100, ch=2, subtype="PCM_24")
    out = tmp_path / "out.wav"
    assert main(["render", str(src), "-o", str(out), "--params", str(_params_file(tmp_path)),
                 "--quiet", "--block-size", "333"]) == 0
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype) == (44100, 2, "PCM_24")
    y, _ = sf.read(out, dtype="float64", always_2d=True)
    # The default DC/subsonic protection (20 Hz) runs in front of the EQ, as live.
    sos = np.concatenate([subsonic_sos(20.0, 44100), design_sos(np.array(SETTING), 44100)])
    ref = ss.sosfilt(sos, x.astype(np.float64), axis=0)
    assert np.max(np.abs(y - ref)) < 2 ** -20  # within PCM_24 quantisation
    off = tmp_path / "off.wav"
    assert main(["render", str(src), "-o", str(off), "--params", str(_params_file(tmp_path)),
                 "--quiet", "--subsonic-hz", "0"]) == 0
    y_off, _ = sf.read(off, dtype="float64", always_2d=True)
    ref_off = ss.sosfilt(design_sos(np.array(SETTING), 44100), x.astype(np.float64), axis=0)
    assert np.max(np.abs(y_off - ref_off)) < 2 ** -20


@pytest.mark.parametrize("mode", [["--term-a", "warm", "--intensity", "0"],
                                  ["--term-a", "warm", "--intensity", "1"]])
def test_render_removes_dc_like_the_live_kernel(tmp_path, capsys, mode):
    """The issue's file: a 0.5 DC offset under a 440 Hz tone came out with the same DC."""
    sr = 48000
    t = np.arange(4 * sr) / sr
    x = 0.5 + 0.25 * np.sin(2 * np.pi * 440 * t)
    src = tmp_path / "dc.wav"
    sf.write(src, np.stack([x, x], axis=1).astype(np.float32), sr, subtype="FLOAT")
    out = tmp_path / "out.wav"
    assert main(["render", str(src), "-o", str(out), "--quiet", "--json", *mode]) == 0
    assert json.loads(capsys.readouterr().out)["subsonic_hz"] == 20.0
    y, _ = sf.read(out, dtype="float64", always_2d=True)
    win = sr // 10
    dc = np.abs(y[sr:sr + (len(y) - sr) // win * win].reshape(-1, win, 2).mean(axis=1)).max()
    assert 20 * np.log10(dc) < -60.0  # after the first second
    assert np.sqrt(np.mean(y[sr:] ** 2)) > 0.05  # the tone is still there
    # Asked off, the DC passes (the renderer does what it is told).
    off = tmp_path / "off.wav"
    assert main(["render", str(src), "-o", str(off), "--quiet", "--subsonic-hz", "0", *mode]) == 0
    assert abs(sf.read(off, dtype="float64")[0][sr:].mean()) > 0.3


def test_bad_subsonic_setting_is_refused(tmp_path, capsys):
    src = tmp_path / "in.wav"
    _noise(src, seconds=0.1)
    out = tmp_path / "out.wav"
    assert main(["render", str(src), "-o", str(out), "--params", str(_params_file(tmp_path)),
                 "--subsonic-hz", "3"]) == 2
    assert "--subsonic-hz" in capsys.readouterr().err
    assert not out.exists()


def test_mono_float_file_round_trip(tmp_path):
    src = tmp_path / "in.flac"
    _noise(src, sr=48000, ch=1, subtype="PCM_16")
    out = tmp_path / "out.wav"
    assert main(["render", str(src), "-o", str(out), "--params", str(_params_file(tmp_path)), "--quiet"]) == 0
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype) == (48000, 1, "PCM_16")


@pytest.mark.parametrize("content, message", [
    ("ls_gain: 1\n", "missing"),
    ("\n".join(f"{n}: 1" for n in PARAM_NAMES) + "\nfoo: 2\n", "unknown foo"),
    ("\n".join(f"{n}: {'x' if n == 'p2_q' else 1}" for n in PARAM_NAMES), "p2_q"),
    ("ls_gain: [1, 2\n", "eq.yaml:"),
])
def test_bad_parameter_file_names_file_and_key(tmp_path, capsys, content, message):
    src = tmp_path / "in.wav"
    _noise(src, seconds=0.1)
    bad = tmp_path / "eq.yaml"
    bad.write_text(content)
    out = tmp_path / "out.wav"
    assert main(["render", str(src), "-o", str(out), "--params", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "eq.yaml" in err and message in err
    assert not out.exists()  # nothing half-written


def test_missing_input_and_bad_output_format(tmp_path, capsys):
    assert main(["render", str(tmp_path / "nope.wav"), "-o", str(tmp_path / "o.wav"),
                 "--params", str(_params_file(tmp_path))]) == 2
    assert "no such file" in capsys.readouterr().err
    src = tmp_path / "in.wav"
    _noise(src, seconds=0.1)
    assert main(["render", str(src), "-o", str(tmp_path / "o.mp9"), "--params",
                 str(_params_file(tmp_path))]) == 2
    assert "unknown output format" in capsys.readouterr().err


def _band_db(x, sr, lo, hi):
    f, p = ss.welch(x.mean(axis=1), fs=sr, nperseg=4096)
    sel = (f >= lo) & (f < hi)
    return 10 * np.log10(p[sel].mean())


def test_term_render_moves_spectrum_the_way_the_word_says(tmp_path, capsys):
    src = tmp_path / "pink.wav"
    from semeq_live.audio.sources import pink_noise

    sf.write(src, pink_noise(44100, 2, 6.0), 44100, subtype="FLOAT")
    tilt = {}
    for term in ("warm", "bright"):
        out = tmp_path / f"{term}.wav"
        assert main(["render", str(src), "-o", str(out), "--term-a", term, "--static",
                     "--no-autogain", "--quiet", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["mode"] == "semantic" and report["final_eq"]["mode"] == "static"
        y, sr = sf.read(out, always_2d=True)
        y = y[sr:]  # after the first second
        tilt[term] = _band_db(y, sr, 4000, 12000) - _band_db(y, sr, 60, 300)
    assert tilt["bright"] - tilt["warm"] > 6.0, tilt


def test_unknown_term_suggests_nearest(tmp_path, capsys):
    src = tmp_path / "in.wav"
    _noise(src, seconds=0.1)
    assert main(["render", str(src), "-o", str(tmp_path / "o.wav"), "--term-a", "wram"]) == 2
    assert "did you mean warm" in capsys.readouterr().err


def test_midi_performance_changes_sound_as_the_ccs_say(tmp_path, capsys):
    """A morph CC held at warm, then thrown to bright: the spectrum follows, block-accurately."""
    import mido

    from semeq_live.audio.sources import pink_noise
    from semeq_live.midi import write_performance

    sr = 44100
    src = tmp_path / "pink.wav"
    sf.write(src, pink_noise(sr, 2, 8.0), sr, subtype="FLOAT")
    # generic.yaml: CC 1 (mod wheel) = morph alpha warm -> bright; CC 11 = intensity.
    events = [(0.0, mido.Message("control_change", channel=0, control=1, value=0)),
              (0.0, mido.Message("control_change", channel=0, control=11, value=85)),
              (4.0, mido.Message("control_change", channel=0, control=1, value=127))]
    perf = write_performance(tmp_path / "perf.mid", events)
    out = tmp_path / "out.wav"
    assert main(["render", str(src), "-o", str(out), "--mapping", "generic", "--midi", str(perf),
                 "--static", "--no-autogain", "--quiet", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["midi_messages"] == 3
    assert report["final_state"]["alpha"] == 1.0
    y, _ = sf.read(out, always_2d=True)
    first, second = y[sr:4 * sr], y[5 * sr:]
    t1 = _band_db(first, sr, 4000, 12000) - _band_db(first, sr, 60, 300)
    t2 = _band_db(second, sr, 4000, 12000) - _band_db(second, sr, 60, 300)
    assert t2 - t1 > 6.0, (t1, t2)
