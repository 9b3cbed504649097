"""Files are never lost by a typo (issue 12, point 5): ``render`` never writes onto its input
(also not through a link), replaces an existing output only with ``--force``, and renders a
truncated input as far as it goes while saying so. Real files in tmp_path throughout."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf

from semeq_live.cli import main
from semeq_live.params import FLAT_PARAMS, PARAM_NAMES

SR = 48000


def _noise(path, seconds=1.0, subtype="PCM_16", fmt=None):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((int(SR * seconds), 2)) * 0.1).astype(np.float32)
    sf.write(str(path), x, SR, subtype=subtype, format=fmt)
    return x


def _params(tmp_path):
    return tmp_path / "flat.yaml"


@pytest.fixture(autouse=True)
def flat_params(tmp_path):
    """The manual-mode parameter file every render here uses (written before anything else)."""
    p = _params(tmp_path)
    p.write_text("".join(f"{k}: {float(v)}\n" for k, v in zip(PARAM_NAMES, FLAT_PARAMS)))
    return p


def _render(tmp_path, src, out, *extra):
    return main(["render", str(src), "-o", str(out), "--params", str(_params(tmp_path)),
                 "--quiet", *extra])


def _files(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize("link", ["same path", "relative path", "hard link", "symlink"])
@pytest.mark.parametrize("force", [False, True])
def test_output_that_is_the_input_is_refused_even_with_force(tmp_path, capsys, monkeypatch,
                                                             link, force):
    src = tmp_path / "take.wav"
    _noise(src)
    before = src.read_bytes()
    out = {"same path": src, "relative path": "./take.wav", "hard link": tmp_path / "alias.wav",
           "symlink": tmp_path / "alias.wav"}[link]
    if link == "hard link":
        os.link(src, out)
    elif link == "symlink":
        os.symlink(src, out)
    monkeypatch.chdir(tmp_path)
    files = _files(tmp_path)
    assert _render(tmp_path, src, out, *(["--force"] if force else [])) == 2
    err = capsys.readouterr().err
    assert "that is the input file" in err and "Traceback" not in err
    if link in ("hard link", "symlink"):
        assert "through a link" in err
    assert src.read_bytes() == before  # the original recording is untouched
    assert _files(tmp_path) == files  # nothing written, no temporary file left


def test_existing_output_needs_force(tmp_path, capsys):
    src = tmp_path / "in.wav"
    x = _noise(src)
    out = tmp_path / "out.wav"
    out.write_bytes(b"yesterday's render")
    files = _files(tmp_path)
    assert _render(tmp_path, src, out) == 2
    err = capsys.readouterr().err
    assert "exists; add --force to replace it" in err and str(out) in err
    assert out.read_bytes() == b"yesterday's render" and _files(tmp_path) == files
    assert _render(tmp_path, src, out, "--force") == 0
    y, sr = sf.read(str(out), dtype="float32", always_2d=True)
    assert sr == SR and y.shape == x.shape


def test_dangling_symlink_at_the_output_counts_as_existing(tmp_path, capsys):
    src = tmp_path / "in.wav"
    _noise(src, 0.2)
    out = tmp_path / "out.wav"
    os.symlink(tmp_path / "gone.wav", out)
    assert _render(tmp_path, src, out) == 2
    assert "exists" in capsys.readouterr().err


def _cut(path, fraction):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])


@pytest.mark.parametrize("name, subtype, fmt", [
    ("take.wav", "PCM_16", None), ("take.wav", "FLOAT", None), ("take.flac", "PCM_24", None),
    ("take.aiff", "PCM_16", None)])
def test_truncated_input_renders_what_is_there_and_says_so(tmp_path, capsys, name, subtype, fmt):
    src = tmp_path / name
    x = _noise(src, seconds=2.0, subtype=subtype, fmt=fmt)
    _cut(src, 0.6)  # a recording cut off by a crash or a full disk: the header still says 2 s
    out = tmp_path / "out.wav"
    assert main(["render", str(src), "-o", str(out), "--params", str(_params(tmp_path)),
                 "--quiet", "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    t = report["truncated"]
    assert t["frames_expected"] == len(x)
    assert 0.4 * len(x) < t["frames_found"] < 0.65 * len(x)
    assert report["frames"] == t["frames_found"]
    assert (f"{src} is shorter than its header says: {t['frames_found']} of {len(x)} frames"
            in captured.err)
    y, _ = sf.read(str(out), dtype="float32", always_2d=True)
    assert len(y) == t["frames_found"]
    # What was there is rendered (a flat EQ: the input through the subsonic protection).
    assert np.corrcoef(y[:, 0], x[:len(y), 0])[0, 1] > 0.99


def test_complete_input_gives_no_warning(tmp_path, capsys):
    src = tmp_path / "in.wav"
    _noise(src, 0.5)
    out = tmp_path / "out.wav"
    assert main(["render", str(src), "-o", str(out), "--params", str(_params(tmp_path)),
                 "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["truncated"] is None
    assert "shorter" not in captured.err


def test_the_demo_replaces_its_own_file_and_keeps_anyone_elses(tmp_path, monkeypatch, capsys):
    from semeq_live.app import StageConfig, render_demo_instead
    from semeq_live.offline import DEMO_TAG

    monkeypatch.chdir(tmp_path)
    cfg = StageConfig().validate()
    out = tmp_path / "semeq-demo.wav"
    assert render_demo_instead(cfg, str(out), seconds=1.0) == 0
    first = out.stat().st_mtime_ns
    assert sf.SoundFile(str(out)).software.startswith(DEMO_TAG)
    assert render_demo_instead(cfg, str(out), seconds=1.0) == 0  # a second run: no failure
    assert out.stat().st_mtime_ns >= first
    assert _files(tmp_path) == ["flat.yaml", "semeq-demo.wav"]
    # A file of someone else's under the demo's name is moved aside, never destroyed.
    _noise(out, 0.3)
    mine = out.read_bytes()
    capsys.readouterr()
    assert render_demo_instead(cfg, str(out), seconds=1.0) == 0
    assert "was not a demo of ours; it is kept as" in capsys.readouterr().err
    kept = [p for p in tmp_path.iterdir() if p.name not in ("semeq-demo.wav", "flat.yaml")]
    assert len(kept) == 1 and kept[0].read_bytes() == mine
    assert sf.SoundFile(str(out)).software.startswith(DEMO_TAG)


def test_demo_onto_its_own_input_file_is_refused(tmp_path, capsys):
    from semeq_live.app import StageConfig, render_demo_instead
    from semeq_live.errors import CLIError

    src = tmp_path / "mix.wav"
    _noise(src, 0.3)
    before = src.read_bytes()
    with pytest.raises(CLIError, match="that is the input file"):
        render_demo_instead(StageConfig(input_file=str(src)).validate(), str(src), seconds=1.0)
    assert src.read_bytes() == before


def test_recording_onto_the_input_file_is_refused(tmp_path):
    from semeq_live.app import StageConfig
    from semeq_live.errors import CLIError

    src = tmp_path / "mix.wav"
    _noise(src, 0.1)
    os.symlink(src, tmp_path / "alias.wav")
    for record in (src, tmp_path / "alias.wav"):
        with pytest.raises(CLIError, match="is the --input-file itself"):
            StageConfig(input_file=str(src), record=str(record)).validate()
    StageConfig(input_file=str(src), record=str(tmp_path / "take.wav")).validate()
