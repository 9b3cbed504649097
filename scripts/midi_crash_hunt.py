#!/usr/bin/env python3
"""Count native crashes of the live app's JACK MIDI input under floods: rounds of app + sender.

Each round starts the app (headless, pink noise, ``--midi-api jack``, faulthandler on) on a private
JACK dummy server, waits until its MIDI input is connected, floods it for ``--round-s`` seconds (or
until it dies) and stops it. The report gives the rounds, how each ended (exit status; a negative
one is the signal that killed it), the minutes of flood and the crashes per minute of flood.

Senders (``--sender``):

- ``rtmidi``: the soak's MIDI flood (``scripts/soak.py --role flood``: CCs, fader throws, term
  jumps, scene recalls, 15 % malformed bytes) through a python-rtmidi JACK output, ``--rate``
  messages/s. The soak's own conditions, minus the abuse input and the pass-through client.
- ``late``: ``tests/late_writer.py``, a JACK-Client sender writing 100 CCs per period that runs
  late on 30 % of its periods and so rewrites its buffer while the app reads it: the fault that
  crashed python-rtmidi's JACK input, provoked on purpose.

``--tree`` is the source tree the app runs from (its PYTHONPATH), so one script measures any
commit: ``git archive main | tar -x -C /tmp/main`` then ``--tree /tmp/main``.

    python scripts/midi_crash_hunt.py --tree /tmp/main --sender rtmidi --minutes 5 --rate 3000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts.soak import PORT_NAME, AppRun, _stop_helper  # noqa: E402

LATE_CLIENT = "semeq-late"
MAX_UNCOUNTED_ROUNDS = 5  # rounds in which no flood reached the app before the hunt gives up


def _sender(kind: str, rate: float, seconds: float, env: dict, work: Path, go: Path):
    if kind == "rtmidi":
        argv = [sys.executable, str(REPO / "scripts" / "soak.py"), "--role", "flood",
                "--rate", str(rate), "--stats", str(work / "flood-stats.json"), "--go", str(go)]
        port = PORT_NAME
    else:
        argv = [sys.executable, "-m", "tests.late_writer", LATE_CLIENT, "flood",
                str(seconds + 30)]
        port = f"{LATE_CLIENT}:flood"
    err = open(work / f"sender-{kind}-stderr.txt", "a")
    return subprocess.Popen(argv, env=env, cwd=str(REPO), stdout=subprocess.DEVNULL, stderr=err), port


def _round(i: int, args, env: dict, work: Path) -> dict:
    go = work / f"go-{i}"
    app_args = ["--test-signal", "pink", "--health-interval", "5", "--midi-api", "jack"]
    if args.sender == "late":  # the late sender only starts when it runs: the app must be up
        app = AppRun([*app_args, "--midi-port", f"{LATE_CLIENT}:flood"], env, work, tag=f"app-{i}")
        app.wait_for("start", timeout=120)
        sender, _ = _sender("late", args.rate, args.round_s, env, work, go)
    else:  # the rtmidi flood's port exists first, and sends once the go-file is there
        sender, port = _sender("rtmidi", args.rate, args.round_s, env, work, go)
        time.sleep(1.0)
        app = AppRun([*app_args, "--midi-port", port], env, work, tag=f"app-{i}")
        app.wait_for("start", timeout=120)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _connected(app):
        if app.proc.poll() is not None:
            break
        time.sleep(0.1)
    connected = _connected(app)
    go.touch()
    t0 = time.monotonic()
    while time.monotonic() - t0 < args.round_s and app.proc.poll() is None \
            and sender.poll() is None:
        time.sleep(0.2)
    flood_s = time.monotonic() - t0
    died = app.proc.poll()
    sender_exit = sender.poll()  # None: it flooded the whole round
    _stop_helper(sender)
    rc = app.stop() if died is None else died
    stderr = app.stderr()
    return {"round": i, "flood_s": round(flood_s, 1), "exit_status": rc,
            # A round counts only if the app connected and the sender flooded until the app died
            # or the round ended (a sender that could not start, e.g. JACK refused to activate
            # it, floods nothing; its round is reported but not counted).
            "counted": connected and sender_exit is None,
            "sender_exit_status": sender_exit,
            "crashed": rc is not None and rc < 0 and died is not None,
            "fatal_error": "Fatal Python error" in stderr,
            "midi_state_lines": sum(1 for r in app.events if r["event"] == "state"
                                    and r.get("source") == "midi")}


def _connected(app: AppRun) -> bool:
    return any(r["event"] == "device" and "connected" in r.get("message", "")
               and "disconnected" not in r.get("message", "") for r in list(app.events))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tree", default=str(REPO), help="source tree the app runs from")
    p.add_argument("--sender", choices=("rtmidi", "late"), default="rtmidi")
    p.add_argument("--minutes", type=float, default=5.0, help="minutes of flood in all")
    p.add_argument("--round-s", type=float, default=60.0, help="flood per app start")
    p.add_argument("--rate", type=float, default=3000.0, help="rtmidi sender: messages/s")
    p.add_argument("--json-out", metavar="FILE")
    p.add_argument("--work-dir", metavar="DIR")
    args = p.parse_args(argv)

    from tests.jack_server import JackServer

    work = Path(args.work_dir or tempfile.mkdtemp(prefix="semeq-crash-hunt-"))
    work.mkdir(parents=True, exist_ok=True)
    server = JackServer(name=f"semeq-hunt-{os.getpid()}", port_max=256).start()
    env = server.env()
    env["PYTHONPATH"] = os.pathsep.join([str(Path(args.tree).resolve()), str(REPO)])
    env["PYTHONFAULTHANDLER"] = "1"
    rounds = []
    try:
        # A first start fills the tree's numba cache (as on a machine that ran the app before).
        warm = AppRun(["--test-signal", "tones", "--health-interval", "60", "--midi-api", "jack",
                       "--midi-port", "no-such-port"], env, work, tag="warmup")
        try:
            warm.wait_for("audio", timeout=300)
        finally:
            warm.stop()
        total, uncounted = 0.0, 0
        while total < args.minutes * 60 - 1 and uncounted < MAX_UNCOUNTED_ROUNDS:
            rounds.append(_round(len(rounds), args, env, work))
            if rounds[-1]["counted"]:
                total += rounds[-1]["flood_s"]
            else:
                uncounted += 1
            print(json.dumps(rounds[-1]), file=sys.stderr, flush=True)
    finally:
        server.stop()
    counted = [r for r in rounds if r["counted"]]
    crashes = sum(r["crashed"] for r in counted)
    minutes = sum(r["flood_s"] for r in counted) / 60
    report = {"tree": str(Path(args.tree).resolve()), "sender": args.sender,
              "rate": args.rate if args.sender == "rtmidi" else None,
              "rounds": len(counted), "rounds_not_counted": len(rounds) - len(counted),
              "flood_minutes": round(minutes, 2), "crashes": crashes,
              "crashes_per_minute": round(crashes / minutes, 3) if minutes else None,
              "signals": sorted({-r["exit_status"] for r in counted if r["crashed"]}),
              "work_dir": str(work), "details": rounds}
    text = json.dumps(report, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
