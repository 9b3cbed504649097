#!/usr/bin/env python3
"""How long the control thread's first EQ updates take: numba versions compiled on first use.

Each case runs in a fresh interpreter (numba's loaded versions are per process) against a numba
cache in a given state, and does what the app does on the control thread: build the analyzer and
the semantic engine, publish the start-up EQ, then (in real time, as on stage) the first estimate
arrives 0.9 s later and the performer moves the intensity fader; with ``--warm-up`` the app's
background warm-up (``control/warm_up.py``) runs from the moment the start-up EQ is published.
Timed on the control thread: ``start_publish_s`` (before the sound fades in), ``first_estimate_s``
(the first update that carries the analyzer's band weights), ``first_move_s`` (the first intensity
move; from 0 when the show starts flat), ``next_updates_ms`` (the five after it, for comparison).

Cache states: ``cold`` (an empty cache: the first start after an install that skipped
``scripts/setup.sh``), ``setup`` (filled by what ``scripts/setup.sh`` of the tree compiles),
``warm`` (filled by one earlier run of the same case: a machine that has played a show).

    python scripts/first_updates.py --tree main=/tmp/main --tree branch=. --json-out f.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

CASE = r"""
import json, sys, threading, time
import numpy as np
t_proc = time.perf_counter()
from semeq_live.model import load_model
from semeq_live.analysis import Analyzer
from semeq_live.audio.metrics import CallbackMetrics
from semeq_live.audio.sources import pink_noise
from semeq_live.control.engine import SemanticEngine
from semeq_live.control.loop import ControlEvent, LiveControl
from semeq_live.control.state import ControlState
from semeq_live.dsp import EQProcessor

start_intensity, warm_up = float(sys.argv[1]), sys.argv[2] == "1"
SR = 48000
model = load_model()
analyzer = Analyzer(SR, 2, model)
t = time.perf_counter()
engine = SemanticEngine(model, SR, reference_band_db=analyzer.reference.band_db)
engine_s = time.perf_counter() - t
state = ControlState(term_a="warm", term_b="bright", intensity=start_intensity)
ctl = LiveControl(state, engine, EQProcessor(SR, 2), CallbackMetrics(SR, 128), terms=model.terms)
t = time.perf_counter()
ctl.publish(0.0, source="start")
start_publish_s = time.perf_counter() - t
t_sound = time.perf_counter()
if warm_up:
    from semeq_live.control.warm_up import warm_control_path
    threading.Thread(target=warm_control_path, args=(model, SR),
                     kwargs={"reference_band_db": analyzer.reference.band_db}, daemon=True).start()
x = (0.1 * pink_noise(SR, 2, seconds=3.0)).astype(np.float32)
for i in range(0, int(1.2 * SR), 4800):
    analyzer.push(x[i:i + 4800])
estimate = analyzer.update()
time.sleep(max(0.0, 0.9 - (time.perf_counter() - t_sound)))  # the first estimate's moment
def timed(ev):
    t = time.perf_counter()
    ctl.handle(ev)
    return time.perf_counter() - t
first_estimate_s = timed(ControlEvent("estimate", estimate, None, 1.0))
first_move_s = timed(ControlEvent("command", ("set", {"intensity": 0.9})))
nxt = [1e3 * timed(ControlEvent("command", ("set", {"intensity": 0.8 - 0.1 * i}))) for i in range(5)]
print(json.dumps({"engine_s": engine_s, "start_publish_s": start_publish_s,
                  "first_estimate_s": first_estimate_s, "band_weights": estimate.band_weight is not None,
                  "first_move_s": first_move_s, "next_updates_ms": [round(v, 3) for v in nxt],
                  "mode": ctl.settings.mode}))
"""


def setup_line(tree: Path) -> str:
    """The numba pre-compilation command of the tree's ``scripts/setup.sh``."""
    text = (tree / "scripts" / "setup.sh").read_text()
    m = re.search(r'\$PY -c "([^"]*block_kernel import warm_up[^"]*)"', text)
    if m is None:
        raise SystemExit(f"{tree}/scripts/setup.sh: no numba pre-compilation line found")
    return m.group(1)


def run(tree: Path, cache: Path, code: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree), "NUMBA_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                         cwd=str(cache.parent), timeout=1800)
    if out.returncode != 0:
        raise SystemExit(f"{tree}: {out.stderr[-2000:]}")
    return out.stdout


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tree", action="append", required=True, metavar="NAME=DIR")
    p.add_argument("--caches", default="cold,setup,warm")
    p.add_argument("--starts", default="0,1", help="start intensities (0: the show starts flat)")
    p.add_argument("--json-out", metavar="FILE")
    args = p.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for state in args.caches.split(","):
            for start in args.starts.split(","):
                for name, tree in (t.split("=", 1) for t in args.tree):
                    tree = Path(tree).resolve()
                    has_warm_up = (tree / "semeq_live" / "control" / "warm_up.py").exists()
                    cache = Path(tmp) / f"{name}-{state}-{start}" / "numba"
                    cache.mkdir(parents=True)
                    if state == "setup":
                        run(tree, cache, setup_line(tree))
                    elif state == "warm":
                        run(tree, cache, CASE, start, "1" if has_warm_up else "0")
                    res = json.loads(run(tree, cache, CASE, start, "1" if has_warm_up else "0")
                                     .strip().splitlines()[-1])
                    res.update(tree=name, cache=state, start_intensity=float(start), warm_up=has_warm_up)
                    print(json.dumps(res), file=sys.stderr, flush=True)
                    results.append(res)
    text = json.dumps(results, indent=1)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
