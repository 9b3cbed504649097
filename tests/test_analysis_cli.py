"""``semeq-live analyze``: per-second and overall term profile, JSON output, saved references, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from semeq_live.cli import main

from .test_analysis_evidence import PINK_FS, bundled_model, make_pink, shape_with_term  # noqa: F401


@pytest.fixture(scope="module")
def warm_pink_file(tmp_path_factory, bundled_model):
    path = tmp_path_factory.mktemp("analyze") / "warm_pink.wav"
    x = shape_with_term(make_pink(4.5), PINK_FS, bundled_model, "warm")
    sf.write(path, x.astype(np.float32), PINK_FS, subtype="FLOAT")
    return path


def test_json_profile_per_second_and_overall(warm_pink_file, capsys):
    assert main(["analyze", str(warm_pink_file), "--json", "--reference", "pink", "--top", "2"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["sample_rate"] == PINK_FS and doc["channels"] == 2
    assert [round(r["time_s"], 1) for r in doc["per_second"]] == [1.0, 2.0, 3.0, 4.0, 4.5]
    confident = [r for r in doc["per_second"] if r["confident"]]
    assert len(confident) == 5 and all(len(r["profile"]) == 2 for r in confident)  # 1 s is enough
    assert all(r["profile"][0]["term"] == "warm" for r in confident)
    assert doc["overall"]["confident"] and doc["overall"]["profile"][0]["term"] == "warm"
    assert "pink" in doc["reference"]


def test_rich_output_and_saved_reference_round_trip(warm_pink_file, tmp_path, capsys):
    ref = tmp_path / "warm_ref.json"
    assert main(["analyze", str(warm_pink_file), "--save-reference", str(ref)]) == 0
    out = capsys.readouterr().out
    assert "overall" in out and "warm" in out and "reference saved" in out
    saved = json.loads(ref.read_text())
    assert len(saved["band_reliability"]) == 28  # how sure each band's level is (the whole file's)
    # Against its own long-term spectrum the file is neutral: its deviation is nearly flat.
    assert main(["analyze", str(warm_pink_file), "--json", "--reference", str(ref)]) == 0
    doc = json.loads(capsys.readouterr().out)
    dev = np.array(doc["overall"]["deviation_db"])
    assert np.sqrt(np.mean(dev ** 2)) < 0.5


def test_silence_reports_no_estimate(tmp_path, capsys):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros((3 * PINK_FS, 2), np.float32), PINK_FS)
    assert main(["analyze", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert not doc["overall"]["confident"] and "too quiet" in doc["overall"]["reason"]
    assert all(not r["confident"] and r["profile"] is None for r in doc["per_second"])


@pytest.mark.parametrize("args, message", [
    (["analyze", "/nonexistent/file.wav"], "cannot read /nonexistent/file.wav"),
    (["analyze", "{wav}", "--reference", "/nonexistent/ref.json"], "not found"),
    (["analyze", "{wav}", "--top", "0"], "--top"),
    (["analyze", "{short}"], "shorter than one analysis segment"),
])
def test_errors_are_one_clear_line(tmp_path, capsys, args, message):
    wav = tmp_path / "ok.wav"
    sf.write(wav, (0.1 * np.random.default_rng(0).standard_normal((PINK_FS, 1))).astype(np.float32), PINK_FS)
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros((1000, 1), np.float32), PINK_FS)
    args = [a.format(wav=wav, short=short) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("fs", [16000, 22050, 96000])
def test_any_sample_rate_mono_or_stereo(tmp_path, capsys, fs):
    """16 kHz mono (a speech recording) to 96 kHz: the bands above Nyquist are absent (weight 0),
    not "empty", and everything below is judged."""
    path = tmp_path / f"pink_{fs}.wav"
    x = make_pink(3.0, fs=fs)[:, :1]
    sf.write(path, x.astype(np.float32), fs, subtype="FLOAT")
    assert main(["analyze", str(path), "--json", "--reference", "pink"]) == 0
    doc = json.loads(capsys.readouterr().out)
    overall = doc["overall"]
    assert overall["confident"], overall["reason"]
    from semeq_live.analysis.bands import band_edges

    above = band_edges()[1] > fs / 2
    weights = np.array(overall["band_weight"])
    assert np.all(weights[above] == 0.0) and np.all(weights[~above] > 0.9)
    assert all(v is None for v, a in zip(overall["deviation_db"], above) if a)
    assert doc["bands_with_signal"].endswith("octaves)")


def test_render_a_16k_mono_file_against_the_voice_reference(tmp_path, capsys):
    """``render`` on a 16 kHz mono file with adaptive intensity and the voice reference."""
    path, out = tmp_path / "voice16k.wav", tmp_path / "out.wav"
    fs = 16000
    x = make_pink(4.0, fs=fs)[:, :1]
    sf.write(path, x.astype(np.float32), fs, subtype="FLOAT")
    assert main(["render", str(path), "-o", str(out), "--term-a", "warm", "--intensity", "1",
                 "--reference", "voice"]) == 0
    y, fs_out = sf.read(out, always_2d=True)
    assert fs_out == fs and y.shape == x.shape and np.all(np.isfinite(y))
