#!/usr/bin/env python3
"""The JACK MIDI input of two source trees compared in one run: latency, idle CPU and memory.

On one private JACK dummy server (48 kHz, 128 frames, the stage unit's port limit), for each
``--tree NAME=DIR`` in turn, ``--repeats`` times (interleaved, so both see the same machine load):

- **the app** (headless, pink noise, ``--midi-api jack``, a JACK MIDI port of this process as its
  controller): after it plays, ``--idle-s`` seconds with the port open and no MIDI give its idle
  CPU (all threads, from the kernel's schedstat) and memory (RSS, USS, PSS, and how much of it is
  JACK's shared memory and how many libjack copies are mapped); then ``--moves`` output-gain CCs,
  one every 150 ms (so each gets its own state line), give the latency: send -> arrival (the app's
  ``t_arrival``), arrival -> first audio block with the change (the app's own ``latency_ms``) and
  send -> audio block, the end-to-end figure that does not depend on where the app stamps arrival
  (pooled over the repeats at the end; a move that changed no state within 5 s counts as lost,
  one whose state line was written before the audio played it, after 1 s, as unplayed);
- with ``--flood RATE``, then ``--flood-s`` seconds of a fader flood (morph, intensity and gain
  sweeping, as ``tests/test_e2e_log_flood.py`` sends) through the same port: the "heard" latency
  of every state line in that time (the app's own arrival -> first audio block with the change,
  ``latency_ms``), how many state lines and changes, the control thread's events per EQ
  computation (from its health lines, where the tree reports them), and the *catch-up*: after the
  flood one gain move, send -> its state line (an upper bound: the log writes a line at most every
  0.1 s) and its own ``latency_ms`` (arrival -> audio, which holds whatever the flood left queued);
  ``--starve N`` pins the app and N busy loops to CPU 0 during the flood (a starved stage
  machine: with 3, the app gets about a quarter of one core);
- **a bare MidiInput** on the same port (no audio, nothing else): its idle CPU and memory, the
  MIDI input's own cost.

    python scripts/midi_measure.py --tree main=/tmp/main --tree branch=. --json-out m.json
    python scripts/midi_measure.py --tree main=/tmp/main --tree branch=. --moves 0 --idle-s 2 \
        --flood 1000 --flood-s 8 --starve 3 --repeats 4
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts.soak import AppRun, memory_by_mapping  # noqa: E402

PORT = "semeq-measure"
MORPH_CC, GAIN_CC, INTENSITY_CC = 1, 7, 11  # generic.yaml: morph, output gain, intensity
BUSY = "while True: pass"
SPACING_S = 0.15

BARE = """
import sys, time
from semeq_live.midi import MidiInput
midi = MidiInput([sys.argv[1]], api="jack", poll_interval=1.0)
print("connected" if midi.connected else "waiting", flush=True)
time.sleep(3600)
"""


def cpu_s(pid: int) -> float:
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


def memory(pid: int) -> dict:
    import psutil

    m = psutil.Process(pid).memory_full_info()
    with open(f"/proc/{pid}/maps") as f:
        maps = f.read().splitlines()
    libjack = {line.split()[-1] for line in maps if "libjack" in line}
    bundled = {line.split()[-1] for line in maps if "_rtmidi" in line}
    shm = memory_by_mapping(pid).get("jack shared memory", {})
    return {"rss_mb": round(m.rss / 1e6, 1), "uss_mb": round(m.uss / 1e6, 1),
            "pss_mb": round(m.pss / 1e6, 1), "jack_shm_rss_mb": shm.get("rss_mb"),
            "libjack_files": sorted(libjack), "rtmidi_module_mapped": bool(bundled)}


def idle_window(pid: int, seconds: float) -> dict:
    c0, t0 = cpu_s(pid), time.monotonic()
    time.sleep(seconds)
    c1, t1 = cpu_s(pid), time.monotonic()
    return {"cpu_pct": round(100.0 * (c1 - c0) / (t1 - t0), 2), **memory(pid)}


def pct(values, q) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def wait_until(app: AppRun, predicate, after: int = 0, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for rec in app.events[after:]:
            if predicate(rec):
                return rec
        if app.proc.poll() is not None:
            break
        time.sleep(0.005)
    raise RuntimeError(f"the app did not log it in time: {app.events[-3:]} {app.stderr()[-2000:]}")


def triangle(i: int, period: int) -> int:
    """A fader moving end to end and back (continuous, so pickup follows it)."""
    k = i % period
    return round(127 * (2 * k / period if k < period / 2 else 2 - 2 * k / period))


def send_flood(out, rate: float, seconds: float) -> int:
    """Morph, gain and intensity faders sweeping, ``rate`` messages a second; returns how many."""
    t0 = time.monotonic()
    i = 0
    while (now := time.monotonic()) < t0 + seconds:
        while i < int((now - t0) * rate):
            cc, period = ((MORPH_CC, 400), (GAIN_CC, 700), (INTENSITY_CC, 300))[i % 3]
            out.send_message([0xB0, cc, triangle(i, period)])
            i += 1
        time.sleep(0.002)
    return i


def pin_to_cpu0(pid: int) -> None:
    """Every thread of ``pid`` on CPU 0 (a thread started later inherits its creator's mask)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), {0})
        except OSError:
            continue  # a thread that just ended


def measure_flood(app: AppRun, out, rate: float, seconds: float, starve: int) -> dict:
    busy = []
    if starve:
        pin_to_cpu0(app.proc.pid)
        for _ in range(starve):
            busy.append(subprocess.Popen([sys.executable, "-c", BUSY]))
            os.sched_setaffinity(busy[-1].pid, {0})
    try:
        n0 = len(app.events)
        health0 = [r for r in app.events if r["event"] == "health"]
        sent = send_flood(out, rate, seconds)
        # One gain move after the flood: how long the app takes to get to it.
        value = 5 if (triangle(sent - 1, 700) != 5) else 6
        n1 = len(app.events)
        t_send = time.monotonic()
        out.send_message([0xB0, GAIN_CC, value])
        want = -24.0 + 30.0 * value / 127  # generic.yaml: output gain, range [-24, 6] dB
        try:
            line = wait_until(app, lambda r: r["event"] == "state" and r.get("output_gain_db") is not None
                              and abs(r["output_gain_db"] - want) < 0.05, after=n1, timeout=30)
            seen_s = time.monotonic() - t_send
        except RuntimeError:
            line, seen_s = None, None
        time.sleep(2.5)  # the next health line (every 2 s) counts the flood's events
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()
    log = app.events[n0:]
    states = [r for r in log if r["event"] == "state"]
    heard = [r["latency_ms"] for r in states if r.get("latency_ms") is not None]
    health = [r for r in app.events if r["event"] == "health"]
    control = None
    if health0 and health and "control_events" in health[-1]:
        events = health[-1]["control_events"] - health0[-1]["control_events"]
        publishes = health[-1]["control_publishes"] - health0[-1]["control_publishes"]
        control = {"events": events, "publishes": publishes,
                   "events_per_publish": round(events / max(publishes, 1), 2)}
    return {"sent": sent, "rate_per_s": round(sent / seconds, 1), "starved": starve,
            "state_lines": len(states), "changes_in_lines": sum(r.get("changes", 1) for r in states),
            "xrun_lines": sum(1 for r in log if r["event"] == "xrun"),
            "heard_ms": {"p50": pct(heard, 50), "p90": pct(heard, 90), "p99": pct(heard, 99),
                         "max": round(max(heard), 2) if heard else None, "lines": len(heard)},
            "heard_all_ms": [round(v, 2) for v in heard],
            "catch_up": {"send_to_line_s": None if seen_s is None else round(seen_s, 3),
                         "latency_ms": None if line is None else line.get("latency_ms"),
                         "found": line is not None},
            "control": control}


def measure_app(env: dict, out, work: Path, idle_s: float, moves: int, flood: float = 0.0,
                flood_s: float = 8.0, starve: int = 0) -> dict:
    # The app runs in ``work`` (never in a source tree, which would shadow PYTHONPATH's tree).
    app = AppRun(["--midi-api", "jack", "--midi-port", f"{PORT}:ctl", "--test-signal", "pink",
                  "--no-adaptive", "--health-interval", "2"], env, work)
    try:
        wait_until(app, lambda r: r["event"] == "audio" and r.get("status") == "sound", timeout=120)
        wait_until(app, lambda r: r["event"] == "device" and "connected" in r.get("message", ""))
        time.sleep(2.0)
        res = {"idle": idle_window(app.proc.pid, idle_s)}
        sends, lines, lost, unplayed = [], [], 0, 0
        for i in range(moves):
            value = 64 + (i % 60)  # every move changes the gain: one state line each
            n = len(app.events)
            t = time.monotonic()
            out.send_message([0xB0, GAIN_CC, value])
            try:
                line = wait_until(app, lambda r: r["event"] == "state" and r.get("source") == "midi",
                                  after=n, timeout=5)
            except RuntimeError:  # the move never changed the state: counted, not fatal
                if app.proc.poll() is not None:
                    raise
                lost += 1
                continue
            if line.get("latency_ms") is None:  # written before the audio played it (1 s)
                unplayed += 1
            else:
                sends.append(t)
                lines.append(line)
            time.sleep(SPACING_S)
        res["under_moves"] = memory(app.proc.pid)
        arrival = [1e3 * (r["t_arrival"] - t) for r, t in zip(lines, sends)]
        audio = [r["latency_ms"] for r in lines]
        end_to_end = [a + b for a, b in zip(arrival, audio)]
        res["latency_ms"] = {
            name: {"p50": pct(v, 50), "p99": pct(v, 99), "max": round(max(v), 2) if v else None}
            for name, v in (("send_to_arrival", arrival), ("arrival_to_audio", audio),
                            ("send_to_audio", end_to_end))}
        res["latency_ms"].update(moves=len(lines), lost_moves=lost, unplayed_within_1s=unplayed,
                                 send_to_audio_all=[round(v, 3) for v in end_to_end])
        if flood:
            res["flood"] = measure_flood(app, out, flood, flood_s, starve)
    finally:
        res_status = app.stop()
    res["exit_status"] = res_status
    return res


def measure_bare(env: dict, work: Path, idle_s: float) -> dict:
    proc = subprocess.Popen([sys.executable, "-c", BARE, f"{PORT}:ctl"], env=env, cwd=str(work),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline().strip()
        time.sleep(2.0)
        return {"port": first, **idle_window(proc.pid, idle_s)}
    finally:
        proc.terminate()
        proc.wait(10)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tree", action="append", required=True, metavar="NAME=DIR")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--idle-s", type=float, default=20.0)
    p.add_argument("--moves", type=int, default=200)
    p.add_argument("--flood", type=float, default=0.0, metavar="RATE",
                   help="after the moves, a fader flood of RATE messages/s (0: none)")
    p.add_argument("--flood-s", type=float, default=8.0)
    p.add_argument("--starve", type=int, default=0, metavar="N",
                   help="during the flood, the app and N busy loops share CPU 0")
    p.add_argument("--json-out", metavar="FILE")
    p.add_argument("--work-dir", metavar="DIR", help="keep the apps' logs here")
    args = p.parse_args(argv)
    trees = dict(t.split("=", 1) for t in args.tree)

    import rtmidi

    from tests.jack_server import JackServer

    server = JackServer(name=f"semeq-measure-{os.getpid()}", port_max=256).start()
    os.environ.update({k: v for k, v in server.env().items() if k.startswith("JACK_")})
    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=PORT)
    out.open_virtual_port("ctl")
    results: dict = {name: [] for name in trees}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = args.work_dir or tmp  # --work-dir keeps the apps' logs
            for rep in range(args.repeats):
                for name, tree in trees.items():
                    env = {**server.env(), "PYTHONPATH": str(Path(tree).resolve())}
                    work = Path(tmp) / f"{name}-{rep}"
                    work.mkdir(parents=True)
                    run = {"app": measure_app(env, out, work, args.idle_s, args.moves, args.flood,
                                              args.flood_s, args.starve)}
                    if not args.flood:  # the MIDI input alone (not what a flood run is about)
                        run["bare_input"] = measure_bare(env, work, args.idle_s)
                    results[name].append(run)
                    print(json.dumps({name: run}), file=sys.stderr, flush=True)
    finally:
        out.close_port()
        out.delete()
        server.stop()
    for name, runs in results.items():  # every move of every repeat, for the tails
        pooled = [v for run in runs for v in run["app"]["latency_ms"]["send_to_audio_all"]]
        floods = [run["app"]["flood"] for run in runs if "flood" in run["app"]]
        summary = {}
        if floods:
            heard = [v for f in floods for v in f["heard_all_ms"]]
            catch = [f["catch_up"]["latency_ms"] for f in floods if f["catch_up"]["latency_ms"] is not None]
            summary["pooled_flood"] = {
                "heard_ms": {"p50": pct(heard, 50), "p90": pct(heard, 90), "p99": pct(heard, 99),
                             "max": round(max(heard), 2) if heard else None, "lines": len(heard)},
                "median_heard_ms_per_run": [f["heard_ms"]["p50"] for f in floods],
                "catch_up_latency_ms_per_run": catch,
                "catch_up_send_to_line_s_per_run": [f["catch_up"]["send_to_line_s"] for f in floods],
                "events_per_publish_per_run": [(f["control"] or {}).get("events_per_publish")
                                               for f in floods]}
        results[name].append({**summary, "pooled_send_to_audio_ms": {
            "p50": pct(pooled, 50), "p90": pct(pooled, 90), "p99": pct(pooled, 99),
            "max": round(max(pooled), 2) if pooled else None, "moves": len(pooled),
            "lost": sum(run["app"]["latency_ms"]["lost_moves"] for run in runs),
            "unplayed_within_1s": sum(run["app"]["latency_ms"]["unplayed_within_1s"] for run in runs)}})
    text = json.dumps(results, indent=1)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
