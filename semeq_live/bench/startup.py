"""Start-up to first audio: process start to the first block played through the EQ, on a real server.

One private JACK server (dummy driver, 48 kHz, 128 frames, the stage unit's ``--port-max 256``).
Each round, one after the other (rounds interleave, so a busy moment of a shared machine hits all
of them alike):

- ``floor_import_numpy_s``: ``python -c "import numpy"``, spawn to exit: the interpreter's floor;
- ``passthrough_first_callback_s``: a trivial sounddevice client (numpy, PortAudio, one stream
  copying input to output), spawn to its first audio callback: the floor of any JACK client;
- ``app_warm``: ``semeq-live run --test-signal pink --headless`` with numba's cache filled by an
  earlier run: ``startup_s`` is the app's own figure (process start to the first block with the
  start-up EQ, from which the sound fades in), ``stream_s`` the first (silent) callback,
  ``seen_s`` spawn to its "audio" log line as read here (an upper bound, ≤ 0.1 s later),
  ``cpu_s`` the CPU time all its threads had used by then (less sensitive than wall time to
  other work on a shared machine);
- ``app_cold``: the same with an empty numba cache, as on the first start after an install or an
  update that skipped ``scripts/setup.sh``: the section's first start (which fills the cache for
  the warm ones) and, in a full run, one more in each of the first two rounds (each costs all of
  numba's compilation, tens of seconds).

``measure_round`` takes the package's folder, so ``scripts/compare_startup.py`` runs the same
measurement on other commits' trees (``git archive``), interleaved with this one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import process_cpu_s

NAME = "startup"
RATE = 48000
BLOCK = 128
GOAL_S = 1.5
APP_TIMEOUT_S = 300.0  # a cold start compiles every kernel: minutes on a busy machine

PASSTHROUGH_FIRST_CALLBACK = r"""
import json, threading, time
import numpy as np
import sounddevice as sd
first = []
seen = threading.Event()
def callback(indata, outdata, frames, t, status):
    outdata[:] = indata
    if not first:
        first.append(time.monotonic())
        seen.set()
with sd.Stream(device=("system", "system"), samplerate=48000, blocksize=128, channels=2,
               dtype="float32", callback=callback, latency="low"):
    seen.wait(30)
print(json.dumps({"first_callback_monotonic": first[0] if first else None}), flush=True)
"""

PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds semeq_live/


def stats(values) -> dict:
    """Median and interquartile range of the runs that gave a figure."""
    v = np.array([x for x in values if x is not None], dtype=float)
    if v.size == 0:
        return {"n": 0, "median": None, "p25": None, "p75": None, "iqr": None, "values": []}
    p25, p50, p75 = np.percentile(v, [25, 50, 75])
    return {"n": int(v.size), "median": float(p50), "p25": float(p25), "p75": float(p75),
            "iqr": float(p75 - p25), "values": [round(float(x), 4) for x in v]}


def _env(server, pythonpath: str, numba_cache: str | None = None) -> dict:
    env = server.env()
    env["PYTHONPATH"] = pythonpath
    env.pop("NUMBA_CACHE_DIR", None)
    if numba_cache is not None:
        env["NUMBA_CACHE_DIR"] = numba_cache
    return env


def floor_import_numpy(server) -> float:
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-c", "import numpy"], env=_env(server, PACKAGE_ROOT), check=True)
    return time.monotonic() - t0


def passthrough_first_callback(server) -> float | None:
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-c", PASSTHROUGH_FIRST_CALLBACK],
                       env=_env(server, PACKAGE_ROOT), capture_output=True, text=True, timeout=60)
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            t = json.loads(line).get("first_callback_monotonic")
            return None if t is None else t - t0
    return None


def app_start(server, package_root: str, numba_cache: str) -> dict:
    """One start of the app from ``package_root``: its start-up figures, then SIGTERM."""
    argv = [sys.executable, "-m", "semeq_live", "run", "--test-signal", "pink", "--headless",
            "--no-keyboard", "--sample-rate", str(RATE), "--block-size", str(BLOCK)]
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, env=_env(server, package_root, numba_cache),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out: dict = {"startup_s": None, "stream_s": None, "ready_s": None, "seen_s": None, "cpu_s": None}
    timer = _kill_after(proc, APP_TIMEOUT_S)
    try:
        for line in proc.stdout:
            if not line.startswith("{"):
                continue
            rec = json.loads(line)
            if rec.get("event") == "start":
                out["ready_s"] = rec.get("ready_s")
            elif rec.get("event") == "audio":
                out.update(startup_s=rec.get("startup_s"), stream_s=rec.get("stream_s"),
                           seen_s=time.monotonic() - t0, cpu_s=process_cpu_s(proc.pid))
                break
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    return out


def _kill_after(proc, seconds: float):
    import threading

    timer = threading.Timer(seconds, lambda: proc.poll() is None and proc.kill())
    timer.daemon = True
    timer.start()
    return timer


def measure_round(server, package_root: str, warm_cache: str, cold: bool) -> dict:
    """One app start with ``warm_cache`` (filled beforehand), and with ``cold`` one more with an
    empty numba cache. The figures of each start are keyed by what they measure."""
    res = {"warm": app_start(server, package_root, warm_cache)}
    if cold:
        with tempfile.TemporaryDirectory(prefix="semeq-numba-cold-") as empty:
            res["cold"] = app_start(server, package_root, empty)
    return res


def summarise(starts: list[dict]) -> dict:
    return {key: stats([s[key] for s in starts]) for key in ("startup_s", "stream_s", "ready_s", "seen_s", "cpu_s")}


def run(quick: bool = False) -> dict:
    from ..audio.jackd import DummyJackServer

    if not DummyJackServer.available():
        return {"skipped": "jackd is not installed (apt-get install jackd2 libportaudio2)"}
    rounds, cold_rounds = (3, 1) if quick else (9, 3)
    server = DummyJackServer(f"semeq-startup-{os.getpid()}", RATE, BLOCK, port_max=256).start()
    floor, passthrough, warm, cold = [], [], [], []
    try:
        with tempfile.TemporaryDirectory(prefix="semeq-numba-warm-") as warm_cache:
            # The first start finds the cache empty (a cold start) and fills it for the warm ones.
            cold.append(app_start(server, PACKAGE_ROOT, warm_cache))
            for i in range(rounds):
                floor.append(floor_import_numpy(server))
                passthrough.append(passthrough_first_callback(server))
                r = measure_round(server, PACKAGE_ROOT, warm_cache, cold=i < cold_rounds - 1)
                warm.append(r["warm"])
                if "cold" in r:
                    cold.append(r["cold"])
    finally:
        server.stop()
    out = {"sample_rate": RATE, "block_size": BLOCK, "rounds": rounds,
           "floor_import_numpy_s": stats(floor), "passthrough_first_callback_s": stats(passthrough),
           "app_warm": summarise(warm), "app_cold": summarise(cold)}
    w = out["app_warm"]["startup_s"]["median"]
    pt = out["passthrough_first_callback_s"]["median"]
    out["summary"] = {
        "startup_warm_s_median": w,
        "startup_warm_s_iqr": out["app_warm"]["startup_s"]["iqr"],
        "cpu_warm_s_median": out["app_warm"]["cpu_s"]["median"],
        "startup_cold_s_median": out["app_cold"]["startup_s"]["median"],
        "passthrough_first_callback_s_median": pt,
        "floor_import_numpy_s_median": out["floor_import_numpy_s"]["median"],
        "warm_over_passthrough": w / pt if w and pt else None,
        "warm_minus_passthrough_s": w - pt if w and pt else None,
        "goal_s": GOAL_S,
    }
    return out
