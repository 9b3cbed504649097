"""Importing semeq-live stays light: no torch anywhere at run time, sounddevice only for devices."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CODE = """
import json, sys
import semeq_live, semeq_live.dsp, semeq_live.model, semeq_live.analysis, semeq_live.control
import semeq_live.midi, semeq_live.cli
from semeq_live.cli import build_parser
build_parser()                       # every sub-command module is imported for --help
semeq_live.model.load_model().morph("warm", "bright", 0.5)
print(json.dumps({m: m in sys.modules for m in ("torch", "sounddevice", "jack", "rtmidi")}))
"""


def test_package_and_cli_import_neither_torch_nor_sounddevice():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded["torch"] is False
    assert loaded["sounddevice"] is False
    # MIDI backends load when a port is opened (JACK-Client, python-rtmidi), never on import
    assert loaded["jack"] is False and loaded["rtmidi"] is False


def _imported_modules(path: Path, package: str) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)  # "from . import cli"
    return names


def test_nothing_below_the_cli_imports_the_cli():
    """The CLI sits on top: app, offline render, bench... never import it back (only the
    ``python -m semeq_live`` entry point, which is the command line, may)."""
    root = REPO / "semeq_live"
    offenders = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(REPO)
        if rel.parts[:2] == ("semeq_live", "cli") or rel == Path("semeq_live/__main__.py"):
            continue
        package = ".".join(rel.parent.parts)  # what a relative import in this file starts from
        bad = sorted(m for m in _imported_modules(path, package)
                     if m == "semeq_live.cli" or m.startswith("semeq_live.cli."))
        if bad:
            offenders.append(f"{rel}: {', '.join(bad)}")
    assert offenders == [], "\n".join(offenders)


def test_the_import_scan_sees_relative_imports_of_the_cli(tmp_path):
    """The scan above would pass vacuously if it missed ``from .cli import main``: check it."""
    probe = tmp_path / "probe.py"
    probe.write_text("from .cli import main\nfrom ..cli.commands import run\nfrom . import cli\n")
    found = _imported_modules(probe, "semeq_live")
    assert "semeq_live.cli" in found
    found = _imported_modules(probe, "semeq_live.audio")
    assert "semeq_live.cli.commands" in found and "semeq_live.audio.cli" in found


STREAM_SIDE_CODE = """
import json, sys
from semeq_live.app import LiveApp, StageConfig
cfg = StageConfig(test_signal="pink", headless=True, keyboard=False, max_boost_db=6.0,
                  reference="voice", subsonic_hz=30.0).validate()
app = LiveApp(cfg)
app.build_audio()          # everything the app does before it opens the stream
print(json.dumps({"numba": "numba" in sys.modules, "cap": cfg.max_boost_db,
                  "palette": len(app.terms)}))
"""


def test_nothing_before_the_stream_opens_loads_numba():
    """The stream opens (playing silence) before numba and its kernels load, so a device error
    shows at once and the first callback is not held up: checking the stage config (boost cap,
    reference, subsonic) and building the audio side stay numba-free, and still do their job."""
    out = subprocess.run([sys.executable, "-c", STREAM_SIDE_CODE], capture_output=True, text=True,
                         check=True, cwd=REPO)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded["numba"] is False
    assert loaded["cap"] == 6.0 and loaded["palette"] > 0
