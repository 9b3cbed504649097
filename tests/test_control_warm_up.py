"""After the control path's warm-up, nothing a show does compiles numba code on the control thread.

A fresh interpreter (numba's signatures are per process) builds what the app builds (model,
analyzer, engine, control loop), runs ``warm_control_path`` as the app does, and then plays a
show through the real control loop with real estimates from the real analyzer: it starts flat
(intensity 0, where neither numba function of the engine runs), the input goes from silence to
a bass line, a full-range source and hats (band weights of every kind), the performer raises the
intensity, switches adaptation and auto-gain off and on, traverses and bypasses. Every numba
function of the package must have the same signatures after the show as after the warm-up. The
same show without the warm-up adds signatures (the start-up figures: docs/reliability.md). The
analyzer runs on this thread here; in the app its kernels load on the analysis thread
(``AnalyzerThread``), before its first update, which the warm run does too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SHOW = r"""
import json, sys
import numpy as np
import numba
sys.path.insert(0, sys.argv[1])
from tests import synth_sources as src
from semeq_live.model import load_model
from semeq_live.analysis import Analyzer
from semeq_live.audio.metrics import CallbackMetrics
from semeq_live.control.engine import SemanticEngine
from semeq_live.control.loop import ControlEvent, LiveControl
from semeq_live.control.state import ControlState
from semeq_live.control.warm_up import warm_control_path
from semeq_live.analysis.thread import warm_up_kernels
from semeq_live.dsp import EQProcessor

def signatures():
    out = {}
    for name, mod in list(sys.modules.items()):
        if name.startswith("semeq_live"):
            for k, v in vars(mod).items():
                if isinstance(v, numba.core.registry.CPUDispatcher):
                    out[f"{name}.{k}"] = [str(s) for s in v.signatures]
    return out

SR = 48000
model = load_model()
analyzer = Analyzer(SR, 2, model)
engine = SemanticEngine(model, SR, reference_band_db=analyzer.reference.band_db)
state = ControlState(term_a="warm", term_b="bright", intensity=0.0)
ctl = LiveControl(state, engine, EQProcessor(SR, 2), CallbackMetrics(SR, 128), terms=model.terms)
ctl.publish(0.0, source="start")
if sys.argv[2] == "warm":
    warm_control_path(model, SR, reference_band_db=analyzer.reference.band_db)
    warm_up_kernels()  # what the app's analysis thread does before its first update
before = signatures()

t = 0.0
def play(x, commands=()):
    global t
    x = np.repeat(np.asarray(x, dtype=np.float32)[:, None], 2, axis=1)
    for cmd in commands:
        ctl.handle(ControlEvent("command", cmd))
    for i in range(0, len(x), 4800):
        analyzer.push(x[i:i + 4800])
        t += 0.1
        ctl.handle(ControlEvent("estimate", analyzer.update(), None, t))

play(np.zeros(SR))
play(src.bass_line(SR, 3.0))
play(src.drum_loop(SR, 3.0), [("set", {"intensity": 1.0})])
play(src.hats(SR, 3.0), [("set", {"adaptive": False})])
play(src.lead_line(SR, 3.0), [("set", {"adaptive": True, "autogain": False, "traverse_x": 0.5})])
play(src.string_section(SR, 3.0), [("set", {"autogain": True, "intensity": 1.5}), ("toggle", "bypass")])
play(np.zeros(SR), [("set", {"intensity": 0.0})])
play(src.plucked_string(SR, 3.0), [("set", {"intensity": 0.8}), ("toggle", "bypass")])
after = signatures()
print(json.dumps({"added": {k: v for k, v in after.items() if v != before.get(k, [])},
                  "publishes": ctl.publishes}))
"""


def run_show(warm: str) -> dict:
    out = subprocess.run([sys.executable, "-c", SHOW, str(REPO), warm], capture_output=True,
                         text=True, cwd=str(REPO), timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_after_the_warm_up_a_show_compiles_nothing_on_the_control_thread():
    res = run_show("warm")
    assert res["publishes"] > 100
    assert res["added"] == {}, res["added"]


def test_without_the_warm_up_the_same_show_compiles_on_the_control_thread():
    """The show above does reach signatures the start did not load (what the warm-up is for)."""
    res = run_show("cold")
    assert res["added"], "the show reached nothing new: the warm-up test proves nothing"
