"""The wheel installs ``semeq_live`` and nothing else at the top level.

``training/`` (torch, for making the model) stays in the repository and runs from a checkout; a
top-level ``training`` package in site-packages would clash with any other package of that name.
The wheel is built for real (``pip wheel . --no-deps``) from a copy of the repository, so the
build's scratch files never land in the working tree.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRATCH = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis",
                                 ".pytest_cache", "runs", "*.wav", "*.flac")


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> list[str]:
    pytest.importorskip("setuptools")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, symlinks=True, ignore=SCRATCH)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
                        "-w", str(tmp / "dist"), "-q"], cwd=src, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    wheels = list((tmp / "dist").glob("semeq_live-*.whl"))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as z:
        return z.namelist()


def test_the_wheel_claims_only_semeq_live(wheel_names):
    tops = {n.split("/")[0] for n in wheel_names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"semeq_live"}, sorted(tops)
    assert not any(n.startswith("training/") or "/training/" in n for n in wheel_names)


def test_the_wheel_carries_what_the_live_tool_needs(wheel_names):
    names = set(wheel_names)
    assert "semeq_live/model/data/default.npz" in names       # the bundled model
    assert "semeq_live/mappings/generic.yaml" in names         # shipped mappings
    assert "semeq_live/control/loop.py" in names
    assert any(n.startswith("semeq_live/cli/commands/") for n in names)


def test_training_still_runs_from_a_checkout():
    """``python -m training.train`` from the repository root: the package is found beside it."""
    r = subprocess.run([sys.executable, "-c", "import training, training.data; print(training.__file__)"],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert Path(r.stdout.strip()).resolve().parent == (REPO / "training").resolve()
