"""The live app on a real audio server, against a trivial pass-through client measured in the same run.

For each block size (64/128/256 frames) a private JACK server with the dummy driver runs at that
period. On it, one after the other:

- a pass-through client (a sounddevice stream copying input to output, nothing else);
- the app, headless, playing pink noise (so the analyzer and adaptive engine really work);
- at 128 frames, the app again with its panel, drawn into a pseudo-terminal.

Each run is measured over the same window after start-up: whole-process CPU (% of one core, from
the kernel's accounting), resident, proportional and unique memory (RSS counts all of the JACK
server's shared memory, about 100 MB, in every client; PSS shares it out, USS leaves it out), the
app's CPU per thread (from its health log), xruns reported by the client and counted by
the server, and for the app its callback time percentiles as % of the block period, the time
from process start to sound (``startup_s``: the first block with the EQ; the stream runs silent
before that) and to analyzer and MIDI running too (``ready_s``), with numba's cache warm
(earlier runs filled it).

``callback_isolated`` times the callback's work in-process without a server, at each block size:
the fused path (one numba call, ``audio.block_kernel``) against the same parts called one by one
from Python, and the EQ kernel alone, all on the same realistic load (adaptive 10-band EQ with a
control change every second, pink-noise source, meters, analyzer ring, recorder).
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time

import numpy as np

from . import process_cpu_s, summary_us

NAME = "live"
RATE = 48000
BLOCKS = (64, 128, 256)
GOALS = {"cpu_headless_ratio": 1.5, "cpu_panel_ratio": 2.0, "startup_s": 1.5, "rss_mb": 150.0}

PASSTHROUGH = r"""
import json, signal, sys, threading, time
import numpy as np
import sounddevice as sd
block = int(sys.argv[1])
stop = threading.Event()
durations = np.zeros(1 << 16)
counts = np.zeros(2, dtype=np.int64)  # callbacks, xruns
def callback(indata, outdata, frames, t, status):
    t0 = time.perf_counter()
    outdata[:] = indata
    if status:
        counts[1] += 1
    durations[counts[0] % durations.size] = time.perf_counter() - t0
    counts[0] += 1
signal.signal(signal.SIGTERM, lambda *a: stop.set())
with sd.Stream(device=("system", "system"), samplerate=48000, blocksize=block, channels=2,
               dtype="float32", callback=callback, latency="low"):
    print(json.dumps({"ready": True}), flush=True)
    while not stop.wait(0.25):
        print(json.dumps({"callbacks": int(counts[0]), "xruns": int(counts[1])}), flush=True)
n = min(int(counts[0]), durations.size)
d = durations[:n] * 1e6
print(json.dumps({"callbacks": int(counts[0]), "xruns": int(counts[1]),
                  "p50_us": float(np.median(d)) if n else None,
                  "p99_us": float(np.percentile(d, 99)) if n else None}), flush=True)
"""


class _Child:
    """A child process whose stdout lines are collected (JSON lines parsed) by a thread."""

    def __init__(self, argv, env, use_pty=False):
        self.t_start = time.monotonic()
        self.records: list[dict] = []
        self._cond = threading.Condition()
        if use_pty:
            master, slave = pty.openpty()
            self.proc = subprocess.Popen(argv, env=env, stdout=slave, stderr=subprocess.DEVNULL,
                                         stdin=subprocess.DEVNULL)
            os.close(slave)
            self._thread = threading.Thread(target=self._drain_pty, args=(master,), daemon=True)
        else:
            self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, text=True)
            self._thread = threading.Thread(target=self._read_lines, daemon=True)
        self._thread.start()
        import psutil

        self.ps = psutil.Process(self.proc.pid)

    def _read_lines(self):
        for line in self.proc.stdout:
            if line.startswith("{"):
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                with self._cond:
                    rec["_t"] = time.monotonic()
                    self.records.append(rec)
                    self._cond.notify_all()

    @staticmethod
    def _drain_pty(fd):
        while True:  # the panel's frames: read and dropped, as a terminal would show them
            try:
                if not os.read(fd, 65536):
                    break
            except OSError:
                break
        os.close(fd)

    def wait_for(self, predicate, timeout=30.0) -> dict:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for rec in self.records:
                    if predicate(rec):
                        return rec
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"child did not report in time: {self.records[-3:]}")
                self._cond.wait(0.2)

    def latest(self, predicate) -> dict | None:
        with self._cond:
            return next((r for r in reversed(self.records) if predicate(r)), None)

    def cpu_s(self) -> float:
        """CPU seconds of all the process's threads (schedstat on Linux, else psutil)."""
        cpu = process_cpu_s(self.proc.pid)
        if cpu is not None:
            return cpu
        t = self.ps.cpu_times()
        return t.user + t.system

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        finally:
            self._thread.join(5)


def _window(child: _Child, server, seconds: float) -> dict:
    """CPU, memory and server-side xruns over ``seconds`` of steady running."""
    c0, x0, t0 = child.cpu_s(), server.xruns_in_log(), time.monotonic()
    time.sleep(seconds)
    c1, x1, t1 = child.cpu_s(), server.xruns_in_log(), time.monotonic()
    mem = child.ps.memory_full_info()
    return {"cpu_pct": 100.0 * (c1 - c0) / (t1 - t0), "rss_mb": mem.rss / 1e6, "uss_mb": mem.uss / 1e6,
            "pss_mb": getattr(mem, "pss", float("nan")) / 1e6,
            "server_xruns": x1 - x0, "seconds": t1 - t0, "_t0": t0, "_t1": t1}


def _xruns_between(child: _Child, key: str, t0: float, t1: float) -> int | None:
    before = child.latest(lambda r: key in r and r["_t"] <= t0)
    after = child.latest(lambda r: key in r and r["_t"] <= t1)
    if before is None or after is None:
        return None
    return int(after[key] - before[key])


def _passthrough(server, block: int, settle: float, seconds: float) -> dict:
    child = _Child([sys.executable, "-c", PASSTHROUGH, str(block)], server.env())
    try:
        child.wait_for(lambda r: r.get("ready"))
        time.sleep(settle)
        w = _window(child, server, seconds)
        w["client_xruns"] = _xruns_between(child, "xruns", w["_t0"], w["_t1"])
    finally:
        child.stop()
    final = child.latest(lambda r: "p99_us" in r) or {}
    period_us = 1e6 * block / RATE
    w["p99_us"] = final.get("p99_us")
    w["p99_pct_of_block"] = None if w["p99_us"] is None else 100.0 * w["p99_us"] / period_us
    return w


def _app(server, block: int, settle: float, seconds: float, panel: bool, model) -> dict:
    argv = [sys.executable, "-m", "semeq_live", "run", "--test-signal", "pink", "--block-size",
            str(block), "--sample-rate", str(RATE), "--no-keyboard"]
    if model:
        argv += ["--model", str(model)]
    env = server.env()
    if panel:
        env.update(COLUMNS="110", LINES="40", TERM="xterm-256color")
        child = _Child(argv, env, use_pty=True)  # the default redraw rate
    else:
        child = _Child(argv + ["--headless", "--health-interval", "0.5"], env)
    try:
        if panel:  # no log in panel mode: wait until the process has settled into its loop
            time.sleep(4.0)
            audio = {}
        else:
            audio = child.wait_for(lambda r: r.get("event") == "audio")
            started = child.wait_for(lambda r: r.get("event") == "start")
        time.sleep(settle)
        w = _window(child, server, seconds)
        if not panel:
            time.sleep(0.6)  # one more health line, covering the window's end
            w["client_xruns"] = _xruns_between(child, "xruns", w["_t0"], w["_t1"] + 0.6)
            health = child.latest(lambda r: r.get("event") == "health") or {}
            w.update(p50_us=health.get("cb_p50_us"), p99_us=health.get("cb_p99_us"),
                     max_us=health.get("cb_max_us"), p99_pct_of_block=health.get("load_p99_pct"),
                     cpu_threads=health.get("cpu_threads"),
                     startup_s=audio.get("startup_s"), ready_s=started.get("ready_s"),
                     startup_seen_s=audio["_t"] - child.t_start if audio else None)
    finally:
        code = child.stop()
    w["exit_code"] = code
    return w


WARM = [3, 150, -2, 560, 0.71, 4, 1000, 0.71, -3, 3300, 0.71, 2, 8200]
INVERSE = [1, 120, 2, 500, 1.0, -1, 1500, 1.0, 2, 4000, 1.0, -2, 9000]


def _callback_isolated(block: int, quick: bool) -> dict:
    """Per-block time of the fused and the one-by-one callback paths, interleaved in one run."""
    import tempfile

    from ..analysis.ring import AudioRing
    from ..audio.engine import AudioEngine
    from ..audio.recorder import Recorder
    from ..audio.sources import signal_source
    from ..dsp.processor import EQProcessor, warmup

    warmup()
    blocks = 2000 if quick else 20000
    per_second = RATE // block
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name in ("fused", "python"):
            proc = EQProcessor(RATE, 2)
            proc.set_params(WARM, inverse=INVERSE)
            rec = Recorder(f"{tmp}/{name}.wav", RATE, 2)
            eng = AudioEngine(None, sample_rate=RATE, block_size=block, channels=2,
                              source=signal_source("pink", RATE, 2), recorder=rec)
            if name == "fused":
                eng.accelerate()
            else:
                eng.meter.accelerate()
            eng.set_processing(proc.process_into, lambda p=proc: p.applied_seq)
            eng.set_input_tap(AudioRing(RATE * 4, 2).push)
            assert eng.fused == (name == "fused")
            paths[name] = (eng, proc, rec, np.zeros((block, 2), np.float32), np.empty(blocks))
        kernel_t = np.empty(blocks)
        x = np.zeros((block, 2), np.float32)
        for i in range(blocks):
            if i % per_second == 0:  # a control change every second of audio
                params = list(WARM)
                params[5] = 4.0 + (i // per_second) % 5
                for eng, proc, *_ in paths.values():
                    proc.set_params(params, inverse=INVERSE)
            for eng, proc, rec, out, times in paths.values():
                t0 = time.perf_counter()
                eng._run_block(None, out, block, 0)
                times[i] = time.perf_counter() - t0
            eng, proc, rec, out, _ = paths["python"]
            t0 = time.perf_counter()
            proc.process_into(x, out)
            kernel_t[i] = time.perf_counter() - t0
        for eng, proc, rec, *_ in paths.values():
            rec.close()
    res = {name: summary_us(p[4][blocks // 10:]) for name, p in paths.items()}
    res["eq_kernel_alone"] = summary_us(kernel_t[blocks // 10:])
    res["python_over_fused_p50"] = res["python"]["p50_us"] / res["fused"]["p50_us"]
    res["fused_over_kernel_p50"] = res["fused"]["p50_us"] / res["eq_kernel_alone"]["p50_us"]
    return res


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def _clean(d: dict) -> dict:
    return {k: v for k, v in d.items() if not k.startswith("_")}


def run(quick: bool = False, model=None) -> dict:
    from ..audio.jackd import DummyJackServer

    isolated = {str(b): _callback_isolated(b, quick) for b in BLOCKS}
    if not DummyJackServer.available():
        return {"skipped": "jackd is not installed (apt-get install jackd2 libportaudio2)",
                "callback_isolated": isolated}
    settle, seconds = (0.5, 3.0) if quick else (1.0, 10.0)
    out = {"window_s": seconds, "sample_rate": RATE, "blocks": {}, "callback_isolated": isolated}
    for block in BLOCKS:
        server = DummyJackServer(f"semeq-bench-{block}-{os.getpid()}", RATE, block).start()
        try:
            res = {"passthrough": _clean(_passthrough(server, block, settle, seconds)),
                   "app_headless": _clean(_app(server, block, settle, seconds, False, model))}
            if block == 128:
                res["app_panel"] = _clean(_app(server, block, settle, seconds, True, model))
        finally:
            server.stop()
        pt = res["passthrough"]["cpu_pct"]
        res["cpu_ratio_headless"] = res["app_headless"]["cpu_pct"] / pt if pt > 0 else None
        if "app_panel" in res:
            res["cpu_ratio_panel"] = res["app_panel"]["cpu_pct"] / pt if pt > 0 else None
        out["blocks"][str(block)] = res
    b = out["blocks"]
    startups = [b[k]["app_headless"].get("startup_s") for k in b]
    startups = [s for s in startups[1:] if s is not None] or [s for s in startups if s is not None]
    out["summary"] = {
        "callback_p99_pct_of_block": {k: b[k]["app_headless"].get("p99_pct_of_block") for k in b},
        "passthrough_p99_pct_of_block": {k: b[k]["passthrough"].get("p99_pct_of_block") for k in b},
        "cpu_ratio_headless": {k: b[k]["cpu_ratio_headless"] for k in b},
        "cpu_ratio_panel_128": b["128"].get("cpu_ratio_panel"),
        "xruns_app_vs_passthrough": {k: [b[k]["app_headless"]["server_xruns"],
                                         b[k]["passthrough"]["server_xruns"]] for k in b},
        "startup_s_median": float(np.median(startups)) if startups else None,
        "ready_s_median": _median([b[k]["app_headless"].get("ready_s") for k in b]),
        "rss_mb": b["128"]["app_headless"]["rss_mb"],
        "uss_mb": b["128"]["app_headless"]["uss_mb"],
        "pss_mb": b["128"]["app_headless"]["pss_mb"],
        "passthrough_rss_mb": b["128"]["passthrough"]["rss_mb"],
        "passthrough_uss_mb": b["128"]["passthrough"]["uss_mb"],
        "passthrough_pss_mb": b["128"]["passthrough"]["pss_mb"],
        "callback_isolated_p50_us_128": {k: isolated["128"][k]["p50_us"]
                                         for k in ("fused", "python", "eq_kernel_alone")},
        "goals": GOALS,
    }
    return out
