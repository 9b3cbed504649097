"""Files the tool writes (scenes, reference spectra, rendered audio, learned mappings): when the
place cannot be written -- a directory or a file in the way, or the disk filling up mid-write --
the user gets a clear error, the previous file is untouched and no partial file is left behind.

A full disk is real here: the write runs in a child process whose file-size limit
(``RLIMIT_FSIZE``) is below the new file's size, so the kernel refuses the write part way through
(``EFBIG``), exactly where a full disk would. Tests run as root in CI, where permission bits do not
stop anything, so the "unwritable" cases use obstacles root cannot write through either.
(``test_scenes.test_unwritable_store_loses_nothing`` covers a directory in place of the scene file.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from semeq_live.analysis.reference import ReferenceFileError, ReferenceSpectrum
from semeq_live.control.state import ControlState
from semeq_live.errors import SemeqError
from semeq_live.midi import SceneBank
from semeq_live.params import ANALYSIS_FREQS, FLAT_PARAMS, PARAM_NAMES

REPO = Path(__file__).resolve().parents[1]


def run_on_full_disk(setup: str, action: str, limit_bytes: int, cwd: Path) -> dict:
    """Run ``setup`` (imports), then ``action`` with files limited to ``limit_bytes``; report how
    it ended: ``{"ok": True}`` or the exception's type names and message."""
    code = "\n".join([
        "import json, resource, signal, sys",
        setup,
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead",
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit_bytes}, {limit_bytes}))",
        "try:",
        f"    {action}",
        "    result = {'ok': True}",
        "except BaseException as exc:",
        "    result = {'ok': False, 'types': [c.__name__ for c in type(exc).__mro__],",
        "              'message': str(exc)}",
        "print('RESULT ' + json.dumps(result))",
    ])
    r = subprocess.run([sys.executable, "-c", code], cwd=str(cwd), capture_output=True, text=True,
                       timeout=120)
    lines = [line for line in r.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"the child did not report (exit {r.returncode}): {r.stderr[-2000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


# ---------------------------------------------------------------------------- scenes
def test_scene_store_on_a_full_disk_keeps_the_previous_bank(tmp_path):
    path = tmp_path / "scenes.yaml"
    SceneBank(path).store("verse", ControlState(alpha=0.25))
    before = path.read_bytes()
    result = run_on_full_disk(
        "from semeq_live.midi import SceneBank\nfrom semeq_live.control.state import ControlState\n"
        f"bank = SceneBank({str(path)!r})",
        "bank.store('chorus', ControlState(alpha=0.75, intensity=1.2))",
        limit_bytes=len(before) - 1, cwd=tmp_path)
    assert not result["ok"] and "SemeqError" in result["types"], result
    assert "cannot save scenes" in result["message"] and "unchanged" in result["message"]
    assert path.read_bytes() == before
    assert leftovers(tmp_path, {"scenes.yaml"}) == []
    assert SceneBank(path).names() == ["verse"]


def test_scene_store_where_a_file_blocks_the_folder(tmp_path):
    (tmp_path / "gig").write_text("not a folder")
    bank = SceneBank(tmp_path / "gig" / "scenes.yaml")
    with pytest.raises(SemeqError, match="cannot save scenes"):
        bank.store("verse", ControlState())
    assert (tmp_path / "gig").read_text() == "not a folder"


# ---------------------------------------------------------------------------- reference spectra
def _reference(level_db: float) -> ReferenceSpectrum:
    return ReferenceSpectrum(np.full(ANALYSIS_FREQS.size, level_db), name=f"flat {level_db:g}")


def test_reference_save_on_a_full_disk_keeps_the_previous_file(tmp_path):
    path = tmp_path / "room.json"
    _reference(-3.0).save(path)
    before = path.read_bytes()
    result = run_on_full_disk(
        "import numpy as np\nfrom semeq_live.analysis.reference import ReferenceSpectrum\n"
        "from semeq_live.params import ANALYSIS_FREQS\n"
        "ref = ReferenceSpectrum(np.full(ANALYSIS_FREQS.size, 4.0), name='new', "
        "meta={'note': 'x' * 4000})",
        f"ref.save({str(path)!r})", limit_bytes=len(before), cwd=tmp_path)
    assert not result["ok"] and "ReferenceFileError" in result["types"], result
    assert "cannot save reference" in result["message"]
    assert path.read_bytes() == before
    assert ReferenceSpectrum.load(path).band_db[0] == pytest.approx(-3.0)
    assert leftovers(tmp_path, {"room.json"}) == []


@pytest.mark.parametrize("obstacle", ["directory at the path",
                                      "file in place of the folder"])
def test_reference_save_into_an_unwritable_place(tmp_path, obstacle):
    if obstacle == "directory at the path":
        target = tmp_path / "room.json"
        target.mkdir()
    else:
        (tmp_path / "refs").write_text("a file")
        target = tmp_path / "refs" / "room.json"
    with pytest.raises(ReferenceFileError, match="cannot save reference"):
        _reference(1.0).save(target)
    assert leftovers(tmp_path, {"room.json", "refs"}) == []


# ---------------------------------------------------------------------------- render output
@pytest.fixture
def render_inputs(tmp_path):
    rng = np.random.default_rng(3)
    src = tmp_path / "in.wav"
    sf.write(str(src), (0.1 * rng.standard_normal((48000, 2))).astype(np.float32), 48000,
             subtype="PCM_16")
    params = tmp_path / "eq.yaml"
    params.write_text("".join(f"{k}: {float(v)}\n" for k, v in zip(PARAM_NAMES, FLAT_PARAMS)))
    return src, params


def _render(args: list[str], cwd: Path, limit_bytes: int | None = None) -> subprocess.CompletedProcess:
    prefix = []
    if limit_bytes is not None:
        prefix = ["-c", "import resource, signal, sys; from semeq_live.cli import main; "
                  "signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
                  f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit_bytes}, {limit_bytes})); "
                  "sys.exit(main(sys.argv[1:]))"]
    else:
        prefix = ["-m", "semeq_live"]
    return subprocess.run([sys.executable, *prefix, "render", *args, "--quiet"], cwd=str(cwd),
                          capture_output=True, text=True, timeout=180)


def test_render_on_a_full_disk_keeps_the_previous_output(tmp_path, render_inputs):
    src, params = render_inputs
    out = tmp_path / "out.wav"
    out.write_bytes(b"previous take")
    r = _render([str(src), "-o", str(out), "--params", str(params), "--force"], tmp_path,
                limit_bytes=100_000)
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "error:" in r.stderr and str(out.name) in r.stderr
    assert "cannot write the output" in r.stderr  # the disk, not the --force rule, stopped it
    assert out.read_bytes() == b"previous take"
    assert leftovers(tmp_path, {"in.wav", "eq.yaml", "out.wav"}) == []


def test_render_into_an_unwritable_place_is_a_clear_error(tmp_path, render_inputs):
    src, params = render_inputs
    (tmp_path / "takes").write_text("a file where the folder should be")
    r = _render([str(src), "-o", str(tmp_path / "takes" / "out.wav"), "--params", str(params)], tmp_path)
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "error:" in r.stderr
    assert (tmp_path / "takes").read_text() == "a file where the folder should be"


# ---------------------------------------------------------------------------- midi-learn output
def _learned():
    import mido

    from semeq_live.midi.learn import CONTINUOUS_INPUT, LearnStep, MappingLearner

    moves = [("port", mido.Message("control_change", control=7, value=v), 0.0) for v in (10, 20, 30)]
    steps = (LearnStep("Morph", "alpha", CONTINUOUS_INPUT, "move"),)
    return MappingLearner(steps, settle=0.0).learn(lambda timeout: moves.pop(0) if moves else None,
                                                   step_timeout=0.2)


def test_midi_learn_output_on_a_full_disk_keeps_the_previous_mapping(tmp_path):
    from semeq_live.midi.learn import write_learned_mapping

    path = tmp_path / "mine.yaml"
    write_learned_mapping(path, _learned(), "Mine", "port")
    before = path.read_bytes()
    result = run_on_full_disk(
        "import mido\nfrom semeq_live.midi.learn import CONTINUOUS_INPUT, LearnStep, MappingLearner, "
        "write_learned_mapping\n"
        "moves = [('port', mido.Message('control_change', control=11, value=v), 0.0) for v in (5, 9, 14)]\n"
        "learned = MappingLearner((LearnStep('Intensity', 'intensity', CONTINUOUS_INPUT, 'move'),), "
        "settle=0.0).learn(lambda t: moves.pop(0) if moves else None, step_timeout=0.2)",
        f"write_learned_mapping({str(path)!r}, learned, 'A much longer controller name ' * 20, 'port')",
        limit_bytes=len(before), cwd=tmp_path)
    assert not result["ok"] and "SemeqError" in result["types"], result
    assert "cannot write" in result["message"]
    assert path.read_bytes() == before
    assert leftovers(tmp_path, {"mine.yaml"}) == []


def test_midi_learn_output_into_an_unwritable_place(tmp_path):
    from semeq_live.midi.learn import write_learned_mapping

    (tmp_path / "maps").write_text("a file")
    with pytest.raises(SemeqError, match="cannot write"):
        write_learned_mapping(tmp_path / "maps" / "mine.yaml", _learned(), "Mine")
    target = tmp_path / "mine.yaml"
    target.mkdir()
    with pytest.raises(SemeqError, match="cannot write"):
        write_learned_mapping(target, _learned(), "Mine")
    assert leftovers(tmp_path, {"maps", "mine.yaml"}) == []


def test_atomic_writes_get_ordinary_permissions(tmp_path):
    """Temp files are private while written; the finished file has the usual (umask) mode."""
    import os

    from semeq_live.fileio import write_text_atomic

    umask = os.umask(0o022)
    try:
        fresh = write_text_atomic(tmp_path / "new.yaml", "a: 1\n")
        assert fresh.stat().st_mode & 0o777 == 0o644
        kept = tmp_path / "kept.yaml"
        kept.write_text("old")
        kept.chmod(0o600)
        write_text_atomic(kept, "new")
        assert kept.stat().st_mode & 0o777 == 0o600 and kept.read_text() == "new"
    finally:
        os.umask(umask)
