"""Importing semeq-live stays light: no torch anywhere at run time, sounddevice only for devices."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
import json, sys
import semeq_live, semeq_live.dsp, semeq_live.model, semeq_live.analysis, semeq_live.control
import semeq_live.midi, semeq_live.cli
from semeq_live.cli import build_parser
build_parser()                       # every sub-command module is imported for --help
semeq_live.model.load_model().morph("warm", "bright", 0.5)
print(json.dumps({m: m in sys.modules for m in ("torch", "sounddevice")}))
"""


def test_package_and_cli_import_neither_torch_nor_sounddevice():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded["torch"] is False
    assert loaded["sounddevice"] is False
