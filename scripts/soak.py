#!/usr/bin/env python3
"""Soak test: the live app under load and abuse on a real (dummy-driver) JACK server.

What runs, each in its own process, on one private JACK server:

- the app: ``semeq-live run --headless`` playing a prepared input file and recording its output;
- a MIDI flood through a real JACK virtual port (``--rate`` messages/s): mapped CCs with fader
  throws, term jumps, scene stores and recalls, program changes, toggles, and malformed bytes
  (stray data bytes, truncated messages, sysex garbage, running status, undefined status bytes);
- a trivial pass-through client (sounddevice duplex stream, in -> out): the xrun baseline of this
  machine in the same run, since a shared machine makes even a do-nothing client miss deadlines.

The input file loops music (../shared/audio when present, else a synthetic mix), silence, DC,
full-scale square waves and bursts of NaN/inf. It is a 32-bit float WAV at the server's rate: float
WAV keeps non-finite samples, and no resampling in the app means the NaNs reach the kernel as
written (checked when the file is made).

Before the flood starts the app runs idle for a few seconds (its memory then is the "idle"
figure); the flood process waits for a go-file. The JACK server runs with the stage unit's port
limit (``deploy/jackd.service``), and the app's numba cache is warmed by a short start first, as on
a stage machine that has run the app before (``--cold`` skips that).

Report (JSON on stdout, optionally ``--json-out``): exceptions (tracebacks, error events, callback
errors, exit status), xruns of the app and of the pass-through, memory (RSS/USS/PSS idle and under
the flood, by kind of mapping, growth after warm-up), the log (lines and bytes per minute, state
lines per second), the output's DC during the DC segments, and the recording: readable, finite,
never above the limiter ceiling, as long as the run.
The exit status is 1 if any criterion fails, 2 if the soak could not be set up.

    python scripts/soak.py --minutes 10 --json-out soak.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_AUDIO = REPO.parent / "shared" / "audio"
SR, BLOCK, CHANNELS = 48000, 128, 2
PORT_NAME = "semeq-soak-ctl"

# Pass criteria (the acceptance list).
MAX_RSS_GROWTH_MB = 5.0
WARMUP_FRACTION, WARMUP_MAX_S = 1 / 3, 60.0   # memory is judged after this much of the run
RECORD_DURATION_TOLERANCE = 0.002              # recording vs. the audio the app processed
# ... and vs. the wall clock: the dummy driver skips the cycles it loses to xruns (counted apart),
# so on a loaded machine the audio timeline runs a little short of the wall clock.
MIN_AUDIO_FRACTION = 0.8
# After the NaN bursts the music must play again. The flood throws the output gain (-24..+6 dB),
# bypass and the EQ around, so the level varies a lot; "plays" means clearly above the exact
# zeros a stuck (reset, never recovering) filter would give.
MIN_MUSIC_AFTER_NAN_DBFS = -80.0
FLOOR_DBFS = -120.0  # what the app's meters read for silence (and for a meter stuck on bad input)
PCM24_LSB = 2.0 ** -23                         # the recorder writes 24-bit PCM
# The app may miss more deadlines than a do-nothing client (it has real work to do), but on the same
# machine in the same run it must stay in the same league: at most this many times the baseline
# plus a small allowance per minute for scheduling noise on a loaded, shared machine.
XRUN_FACTOR, XRUN_ALLOWANCE_PER_MIN = 3.0, 6.0
# A processor in front of a PA passes no DC: during the DC segments, once the first second of each
# is over, the output's mean must be below this (issue 12: the subsonic protection).
MAX_DC_DBFS, DC_SETTLE_S = -60.0, 1.0
# The headless log must stay something a journal keeps: at most this many state lines in any second.
MAX_STATE_LINES_PER_S = 10
IDLE_S = 10.0         # the app runs this long without MIDI before the flood (its idle memory)
STAGE_PORT_MAX = 256  # jackd --port-max of deploy/jackd.service (the server's shared memory)

sys.path.insert(0, str(REPO))


# ---------------------------------------------------------------------------------------- input
def _music(seconds: float, music_dir: Path) -> tuple[np.ndarray, str]:
    """``seconds`` of each music excerpt (.flac) at the server rate, else a synthetic mix."""
    import soundfile as sf
    from scipy.signal import resample_poly

    parts = []
    # shared/audio/ATTRIBUTION.md: speech_* are one-voice clips; everything else is music.
    files = sorted(p for p in music_dir.glob("*.flac") if not p.name.startswith("speech_")) \
        if music_dir.is_dir() else []
    for path in files:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True,
                             frames=int(seconds * 44100 * 2))
        if rate != SR:
            g = np.gcd(SR, rate)
            data = resample_poly(data, SR // g, rate // g, axis=0).astype(np.float32)
        parts.append(np.repeat(data[:, :1], CHANNELS, 1) if data.shape[1] < CHANNELS
                     else data[:, :CHANNELS])
    if parts:
        return np.concatenate([p[:int(seconds * SR)] for p in parts]), f"music from {music_dir}"
    from semeq_live.audio.sources import pink_noise, tone_mix

    n = int(seconds * SR)
    tones = np.tile(tone_mix(SR, CHANNELS), (int(seconds) + 1, 1))[:n]
    pink = pink_noise(SR, CHANNELS, seconds)[:n]
    env = (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * np.arange(n) / SR))[:, None]  # phrasing
    return (env * (pink + tones)).astype(np.float32), "synthetic (pink noise + tones)"


def abuse_signal(music_dir: Path = SHARED_AUDIO, music_s: float = 6.0) -> tuple[np.ndarray, list[dict], str]:
    """The looped input: music, silence, DC, full-scale squares, NaN/inf bursts, music again.

    The abuse comes early in the loop so a short (CI) soak goes through all of it."""
    music, music_kind = _music(music_s, music_dir)
    first = music.shape[0] // 3

    def sec(seconds: float) -> int:
        return int(seconds * SR)

    t = np.arange(sec(3)) / SR

    def square(freq: float) -> np.ndarray:
        return np.repeat(np.sign(np.sin(2 * np.pi * freq * t + 1e-3))[:, None], CHANNELS, 1)

    nan_part = music[:sec(3)].copy()
    rng = np.random.default_rng(7)
    nan_part[rng.integers(0, len(nan_part), 40)] = np.nan           # single NaN samples
    for start in rng.integers(0, len(nan_part) - BLOCK * 4, 6):       # NaN runs of one..four blocks
        nan_part[start:start + BLOCK * rng.integers(1, 5)] = np.nan
    nan_part[sec(1.0):sec(1.5)] = np.nan                             # half a second of NaN
    nan_part[sec(2.0), 0], nan_part[sec(2.2), 1] = np.inf, -np.inf
    segments = [
        ("music", music[:first]),
        ("silence", np.zeros((sec(3), CHANNELS))),
        ("dc +1.0", np.ones((sec(3), CHANNELS))),         # long enough to judge after 1 s
        ("dc -0.5", np.full((sec(2), CHANNELS), -0.5)),
        ("square 50 Hz full scale", square(50.0)),
        ("square 1 kHz full scale", square(1000.0)),
        ("nan/inf bursts over music", nan_part),
        ("music", music[first:]),
    ]
    out, layout, pos = [], [], 0
    for name, data in segments:
        layout.append({"segment": name, "start_s": round(pos / SR, 3), "seconds": round(len(data) / SR, 3)})
        out.append(np.asarray(data, dtype=np.float32))
        pos += len(data)
    return np.concatenate(out), layout, music_kind


def write_input(path: Path, music_dir: Path) -> dict:
    import soundfile as sf

    data, layout, kind = abuse_signal(music_dir)
    sf.write(str(path), data, SR, subtype="FLOAT")
    back, rate = sf.read(str(path), dtype="float32", always_2d=True)
    nonfinite = int((~np.isfinite(data)).sum())
    if rate != SR or int((~np.isfinite(back)).sum()) != nonfinite or nonfinite == 0:
        raise RuntimeError("the float WAV did not keep the NaN/inf samples: the soak input is invalid")
    return {"file": str(path), "loop_s": round(len(data) / SR, 2), "loop_s_exact": len(data) / SR,
            "music": kind,
            "nonfinite_samples_per_loop": nonfinite, "segments": layout}


# ---------------------------------------------------------------------------------------- MIDI
# mappings/generic.yaml: the controls the flood aims at.
FADER_CCS = (1, 7, 11, 16, 17, 20, 21)       # morph, output gain, intensity, traverse x/y, term A/B
TOGGLE_CCS = (80, 83)                        # bypass, adaptive (toggled on press)
RARE_CCS = (81, 82)                          # learn reference, panic
TERM_NOTES = (36, 37, 38, 39, 40, 41, 46, 47)  # term steps and jumps, morph to A / B
RECALL_NOTES, STORE_NOTES = (42, 43), (44, 45)


MALFORMED_KINDS = ("stray data", "truncated", "sysex garbage", "running status", "undefined status",
                   "realtime inside")


def _malformed(rng: random.Random) -> tuple[str, list[list[int]]]:
    """Broken traffic as it arrives from real gear, cut into the packets a JACK port carries
    (rtmidi only refuses packets over 3 bytes that are not sysex, so everything here is sent)."""
    kind = rng.choice(MALFORMED_KINDS)
    if kind == "stray data":
        return kind, [[rng.randrange(128) for _ in range(rng.randint(1, 3))]]
    if kind == "truncated":
        status = rng.choice((0x80, 0x90, 0xB0, 0xE0)) | rng.randrange(16)
        return kind, [[status] if rng.random() < 0.5 else [status, rng.choice(FADER_CCS)]]
    if kind == "sysex garbage":
        body = [rng.randrange(256) for _ in range(rng.randint(0, 24))]
        return kind, [[0xF0, *body] + ([0xF7] if rng.random() < 0.5 else [])]
    if kind == "running status":  # a CC, then more CCs as bare data pairs without their status
        return kind, [[0xB0, 1, rng.randrange(128)], [11, rng.randrange(128)], [7, rng.randrange(128)]]
    if kind == "undefined status":
        return kind, [[rng.choice((0xF4, 0xF5, 0xF9, 0xFD, 0xFF)), rng.randrange(128)]]
    return kind, [[0xB0, 0xF8, rng.choice(FADER_CCS)], [rng.randrange(128)]]  # clock inside a CC


class Flood:
    """Composes the message stream: mostly valid controller traffic, ~15 % malformed."""

    def __init__(self, seed: int = 1):
        self.rng = random.Random(seed)
        self.throw_up = True
        self.last_store = 0.0

    def next(self, now: float) -> tuple[str, list[list[int]]]:
        """The kind and the packets of the next message (several packets for some malformed ones)."""
        kind, msg = self._next(now)
        return (kind, msg) if kind in MALFORMED_KINDS else (kind, [msg])

    def _next(self, now: float):
        r, rng = self.rng.random(), self.rng
        ch = rng.randrange(16)
        if r < 0.15:
            return _malformed(rng)
        if r < 0.55:
            return "cc", [0xB0 | ch, rng.choice(FADER_CCS), rng.randrange(128)]
        if r < 0.70:  # fader throw: a whole end-to-end move in one message
            self.throw_up = not self.throw_up
            return "fader throw", [0xB0 | ch, rng.choice(FADER_CCS), 127 if self.throw_up else 0]
        if r < 0.82:
            note = rng.choice(TERM_NOTES)
            return "term jump", [0x90 | ch, note, 100] if rng.random() < 0.5 else [0x80 | ch, note, 0]
        if r < 0.88:
            return "scene recall", [0x90 | ch, rng.choice(RECALL_NOTES), 100]
        if r < 0.94:
            return "program change", [0xC0 | ch, rng.randrange(12)]  # 0-7 scenes, 8+ unmapped
        if r < 0.97:
            return "toggle", [0xB0 | ch, rng.choice(TOGGLE_CCS), rng.choice((0, 127))]
        if now - self.last_store > 2.0:  # a performer stores scenes now and then, not 30 times a second
            self.last_store = now
            return "scene store", [0x90 | ch, rng.choice(STORE_NOTES), 100]
        if r < 0.99:
            return "pitch bend", [0xE0 | ch, rng.randrange(128), rng.randrange(128)]
        return "learn/panic", [0xB0 | ch, rng.choice(RARE_CCS), 127]


def run_flood(rate: float, stats_path: Path, go: Path | None = None) -> int:
    """Send the flood through a JACK virtual port; with ``go``, the port is there from the start
    but sending waits until that file exists (the app's idle phase)."""
    import rtmidi

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="semeq-soak-flood")
    out.open_virtual_port(PORT_NAME)
    while go is not None and not go.exists() and not stop.wait(0.02):
        pass
    flood, sent, refused = Flood(), {}, {}
    tick = 0.005  # send in small batches: 5 ms is 200 batches per second
    t0 = next_t = time.monotonic()
    total = 0
    try:
        while not stop.is_set():
            now = time.monotonic()
            due = int((now - t0) * rate) - total
            for _ in range(max(due, 0)):
                kind, packets = flood.next(now)
                try:
                    for packet in packets:
                        out.send_message(packet)
                    sent[kind] = sent.get(kind, 0) + 1
                except (ValueError, TypeError, rtmidi.RtMidiError):  # rtmidi refuses some shapes
                    refused[kind] = refused.get(kind, 0) + 1
                total += 1
            next_t += tick
            stop.wait(max(0.0, next_t - time.monotonic()))
    finally:
        elapsed = time.monotonic() - t0
        stats_path.write_text(json.dumps({"seconds": elapsed, "attempted": total,
                                          "sent": sum(sent.values()), "rate_per_s": total / elapsed,
                                          "by_kind": sent, "refused_by_rtmidi": refused}))
        out.close_port()
        out.delete()
    return 0


# ---------------------------------------------------------------------------------------- pass-through
def run_passthrough(stats_path: Path) -> int:
    import sounddevice as sd

    from semeq_live.audio.devices import find_device

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    counts = np.zeros(3, dtype=np.int64)  # callbacks, callbacks with an xrun flag, frames

    def callback(indata, outdata, frames, time_info, status):
        counts[0] += 1
        counts[2] += frames
        if status.input_overflow or status.input_underflow or status.output_underflow \
                or status.output_overflow:
            counts[1] += 1
        outdata[:] = indata

    dev_in, dev_out = find_device(None, "input", CHANNELS), find_device(None, "output", CHANNELS)
    with sd.Stream(device=(dev_in.index, dev_out.index), samplerate=SR, blocksize=BLOCK,
                   channels=CHANNELS, dtype="float32", latency="low", callback=callback):
        t0 = time.monotonic()
        while not stop.wait(1.0):
            stats_path.write_text(json.dumps({"seconds": time.monotonic() - t0, "callbacks": int(counts[0]),
                                              "xruns": int(counts[1]), "frames": int(counts[2])}))
    stats_path.write_text(json.dumps({"seconds": time.monotonic() - t0, "callbacks": int(counts[0]),
                                      "xruns": int(counts[1]), "frames": int(counts[2])}))
    return 0


# ---------------------------------------------------------------------------------------- the app
class AppRun:
    """The app as a child process; its JSON log is parsed (and kept) as it arrives."""

    def __init__(self, argv: list[str], env: dict, work: Path, tag: str = "app"):
        from semeq_live.ui.headless import parse_line

        self._parse = parse_line
        self.log_path, self.err_path = work / f"{tag}-log.jsonl", work / f"{tag}-stderr.txt"
        self._log, self._err = open(self.log_path, "w"), open(self.err_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "semeq_live", "run", "--headless", *argv],
                                     stdout=subprocess.PIPE, stderr=self._err, text=True, env=env,
                                     cwd=str(work))
        self.events: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self._log.write(line)
            rec = self._parse(line)
            if rec is not None:
                self.events.append(rec)
        self._log.flush()

    def first(self, event: str, **match) -> dict | None:
        for rec in list(self.events):
            if rec["event"] == event and all(rec.get(k) == v for k, v in match.items()):
                return rec
        return None

    def wait_for(self, event: str, timeout: float, **match) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rec = self.first(event, **match)
            if rec is not None:
                return rec
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"the app did not log '{event}' {match or ''} within {timeout:.0f} s "
                           f"(exit status {self.proc.poll()}); stderr: {self.stderr()[-2000:]}")

    def stderr(self) -> str:
        if not self._err.closed:
            self._err.flush()
        return self.err_path.read_text(errors="replace")

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)  # stacks into the stderr file, for the report
            time.sleep(1.0)
            self.proc.kill()
            self.proc.wait()
            rc = None
        self._reader.join(10)
        self._log.close()
        self._err.close()
        return rc


def _helper(role: str, stats: Path, env: dict, work: Path, *extra: str) -> subprocess.Popen:
    err = open(work / f"{role}-stderr.txt", "w")
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--role", role,
                             "--stats", str(stats), *extra], env=env, stderr=err, cwd=str(work))


def _stop_helper(proc: subprocess.Popen, timeout: float = 10.0) -> int | None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


# ---------------------------------------------------------------------------------------- checks
def check_recording(path: Path, ceiling: float) -> dict:
    """Read the whole recording in one-second chunks: readable, finite, under the ceiling."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
        frames, peak, nonfinite, over, loud_s = 0, 0.0, 0, 0, 0
        with sf.SoundFile(str(path)) as f:
            for chunk in f.blocks(blocksize=f.samplerate, dtype="float32", always_2d=True):
                frames += len(chunk)
                finite = np.isfinite(chunk)
                nonfinite += int((~finite).sum())
                a = np.abs(np.where(finite, chunk, 0.0))
                peak = max(peak, float(a.max(initial=0.0)))
                over += int((a > ceiling + PCM24_LSB).sum())
                loud_s += int(np.sqrt(np.mean(chunk[finite] ** 2)) > 1e-3) if finite.any() else 0
    except (RuntimeError, OSError) as exc:
        return {"readable": False, "error": str(exc)}
    return {"readable": True, "path": str(path), "subtype": info.subtype, "seconds": frames / info.samplerate,
            "header_frames": info.frames, "frames_read": frames, "nonfinite_samples": nonfinite,
            "peak": peak, "peak_dbfs": 20 * np.log10(peak) if peak > 0 else None,
            "samples_over_ceiling": over, "seconds_with_signal": loud_s}


def first_sound_s(path: Path) -> float | None:
    """Where the output starts (the app plays silence while it loads, longer on a cold cache)."""
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        done = 0
        for chunk in f.blocks(blocksize=f.samplerate // 10, dtype="float32", always_2d=True):
            loud = np.flatnonzero(np.abs(chunk).max(axis=1) > 0)
            if loud.size:
                return (done + int(loud[0])) / f.samplerate
            done += len(chunk)
    return None


def output_per_segment(path: Path, segments: list[dict], loop_s: float, sound_from_s: float) -> list[dict]:
    """Output level during each input segment, at its first occurrence after the sound started.
    The source advances one block per callback (silent start-up included) and the recorder keeps
    every block, so recording frame i plays input frame i (mod the loop)."""
    import soundfile as sf

    out = []
    with sf.SoundFile(str(path)) as f:
        for seg in segments:
            start = seg["start_s"]
            while start < sound_from_s:
                start += loop_s
            f.seek(min(int(start * SR), f.frames))
            x = f.read(int(seg["seconds"] * SR), dtype="float32", always_2d=True)
            if len(x) < int(seg["seconds"] * SR):
                continue  # not recorded in full: the run was too short for this one
            x = x[len(x) // 4:]  # the settled part: smoothing and limiter release take a moment
            rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
            out.append({"segment": seg["segment"], "at_s": round(start, 2),
                        "out_rms_dbfs": round(20 * np.log10(max(rms, 1e-10)), 1),
                        "out_peak_dbfs": round(20 * np.log10(max(float(np.abs(x).max()), 1e-10)), 2)})
    return out


def dc_in_dc_segments(path: Path, segments: list[dict], loop_s: float, sound_from_s: float) -> dict:
    """The output's DC (the mean per channel, as dBFS) during every occurrence of the DC segments
    after the sound started, each judged from ``DC_SETTLE_S`` into the segment to its end."""
    import soundfile as sf

    found = []
    with sf.SoundFile(str(path)) as f:
        total_s = f.frames / SR
        for seg in (s for s in segments if s["segment"].startswith("dc")):
            start = seg["start_s"]
            while start < sound_from_s:
                start += loop_s
            while start + seg["seconds"] <= total_s:
                f.seek(int((start + DC_SETTLE_S) * SR))
                x = f.read(int((seg["seconds"] - DC_SETTLE_S) * SR), dtype="float64", always_2d=True)
                dc = float(np.abs(x.mean(axis=0)).max()) if len(x) else 0.0
                # Below half an LSB the 24-bit recording holds exact zeros: report that floor.
                found.append({"segment": seg["segment"], "at_s": round(start, 2),
                              "dc_dbfs": round(20 * np.log10(max(dc, PCM24_LSB / 2)), 1)})
                start += loop_s
    worst = max(found, key=lambda d: d["dc_dbfs"]) if found else None
    return {"occurrences": len(found), "worst_dbfs": worst["dc_dbfs"] if worst else None,
            "worst_at_s": worst["at_s"] if worst else None, "judged_after_s": DC_SETTLE_S,
            "first": found[:4]}


def log_rates(path: Path, t_from: float) -> dict:
    """Lines and bytes per minute of the app's log from wall-clock ``t_from`` (the flood's start)
    to its last line, by kind; state lines per second on average and in the busiest second."""
    from collections import Counter
    from datetime import datetime

    from semeq_live.ui.headless import parse_line

    kinds, state_t, size, changes, carried, heard = Counter(), [], 0, 0, 0, []
    t_last = t_from
    with open(path, errors="replace") as f:
        for line in f:
            rec = parse_line(line)
            if rec is None or "ts" not in rec:
                continue
            t = datetime.fromisoformat(rec["ts"]).timestamp()
            if t < t_from:
                continue
            t_last = max(t_last, t)
            kinds[rec["event"]] += 1
            size += len(line.encode())
            carried += "pending_state" in rec
            if rec["event"] == "state":
                state_t.append(t)
                changes += int(rec.get("changes") or 1)
                if rec.get("latency_ms") is not None:
                    heard.append(float(rec["latency_ms"]))
    state_t.sort()
    busiest, j = 0, 0
    for i, t in enumerate(state_t):  # the most state lines in any one-second window
        while state_t[j] <= t - 1.0:
            j += 1
        busiest = max(busiest, i - j + 1)
    minutes = max(t_last - t_from, 1e-9) / 60.0
    lines = sum(kinds.values())
    return {"seconds": round(minutes * 60, 1), "lines": lines, "lines_per_min": round(lines / minutes),
            "mb_per_min": round(size / 1e6 / minutes, 3), "by_event": dict(kinds.most_common()),
            "state_lines": len(state_t), "state_lines_per_s": round(len(state_t) / minutes / 60, 2),
            "state_lines_per_min": round(len(state_t) / minutes),
            "max_state_lines_in_1s": busiest, "state_changes_in_lines": changes,
            "event_lines_carrying_pending_state": carried,
            # arrival -> first audio block with the change, as the state lines report it (the
            # oldest change of a batch of the control thread's)
            "heard_latency_ms": {k: (round(float(np.percentile(heard, q)), 2) if heard else None)
                                 for k, q in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))}}


def memory_by_mapping(pid: int) -> dict:
    """RSS/PSS/USS (MB) of the process by kind of mapping (/proc/PID/smaps): JACK's shared memory,
    the main malloc heap, anonymous memory (other malloc arenas, Python's object arenas, numpy
    arrays, numba's compiled code), LLVM, other files (libraries, numba cache)."""
    import re

    kinds: dict[str, list[float]] = {}
    kind = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                parts = line.split()
                name = parts[5] if len(parts) > 5 else ""
                kind = ("jack shared memory" if name.startswith("/dev/shm/jack")
                        else "heap" if name == "[heap]"
                        else "anonymous" if name == ""
                        else "llvmlite" if "llvmlite" in name
                        else "stacks and kernel" if name.startswith("[")
                        else "other files")
                kinds.setdefault(kind, [0.0, 0.0, 0.0])
                continue
            m = re.match(r"(Rss|Pss|Private_Clean|Private_Dirty):\s+(\d+) kB", line)
            if m and kind is not None:
                i = {"Rss": 0, "Pss": 1}.get(m.group(1), 2)
                kinds[kind][i] += int(m.group(2)) * 1024 / 1e6
    return {k: {"rss_mb": round(v[0], 1), "pss_mb": round(v[1], 1), "uss_mb": round(v[2], 1)}
            for k, v in sorted(kinds.items(), key=lambda kv: -kv[1][0])}


def memory_sample(ps) -> dict:
    m = ps.memory_full_info()
    return {"rss_mb": round(m.rss / 1e6, 1), "uss_mb": round(m.uss / 1e6, 1), "pss_mb": round(m.pss / 1e6, 1)}


def rss_growth(samples: list[tuple[float, float]], run_s: float) -> dict:
    """RSS after warm-up: growth from the end of warm-up to the highest later sample."""
    warm = min(WARMUP_MAX_S, WARMUP_FRACTION * run_s)
    after = [(t, mb) for t, mb in samples if t >= warm]
    if len(after) < 2:
        return {"warmup_s": warm, "samples": len(samples), "growth_mb": None}
    base = float(np.median([mb for t, mb in after if t < warm + 5.0] or [after[0][1]]))
    ts, mbs = np.array([t for t, _ in after]), np.array([mb for _, mb in after])
    slope = float(np.polyfit(ts, mbs, 1)[0] * 60.0) if len(after) > 2 else 0.0
    return {"warmup_s": round(warm, 1), "samples": len(samples), "start_mb": round(samples[0][1], 1),
            "after_warmup_mb": round(base, 2), "max_mb": round(float(mbs.max()), 2),
            "end_mb": round(float(mbs[-1]), 2), "growth_mb": round(float(mbs.max()) - base, 2),
            "slope_mb_per_min": round(slope, 3)}


def _network_sockets(ps) -> list[str]:
    """Internet sockets of the process, and any socket (of any family) that listens."""
    import psutil

    found = [f"{c.type.name} {c.laddr} {c.status}" for c in ps.net_connections(kind="inet")]
    found += [f"{c.family.name} {c.laddr} LISTEN" for c in ps.net_connections(kind="all")
              if c.status == psutil.CONN_LISTEN and c.family.name not in ("AF_INET", "AF_INET6")]
    return found


def _crash_stack(stderr: str) -> str | None:
    """faulthandler's report of a native crash (signal, then each thread's Python stack)."""
    at = stderr.find("Fatal Python error")
    return stderr[at:at + 4000] if at >= 0 else None


def count_problems(app: AppRun, stderr: str) -> dict:
    error_events = [r for r in app.events if r["event"] == "error"
                    or str(r.get("level", "")).lower() in ("error", "critical")]
    healths = [r for r in app.events if r["event"] == "health"]
    return {
        "tracebacks": stderr.count("Traceback (most recent call last)"),
        "fatal_errors": stderr.count("Fatal Python error"),  # native crashes (faulthandler)
        "stderr_error_lines": sum(1 for line in stderr.splitlines()
                                  if "Error" in line or "Exception" in line),
        "error_events": len(error_events),
        "callback_errors": max((r.get("callback_errors") or 0 for r in healths), default=0),
        "first_errors": [r for r in error_events[:3]],
    }


# ---------------------------------------------------------------------------------------- main
def midi_input_report(events: list[dict]) -> dict:
    """Which library read the app's MIDI (its "connected" line says) and the events its input
    dropped, by the reason it logged (a late sender, a full ring: see ``midi/jack_input.py``)."""
    library, dropped = None, Counter()
    for r in events:
        message = str(r.get("message", "")) if r["event"] == "device" else ""
        if m := re.match(r"MIDI input connected: .* via (.+)\)$", message):
            library = m.group(1)
        elif message.startswith("MIDI input dropped events: "):
            for part in message.split(": ", 1)[1].split(", "):
                n, _, why = part.partition(" ")
                dropped[why] += int(n)
    return {"library": library, "dropped": dict(dropped)}


def warm_numba_cache(env: dict, work: Path) -> float:
    """Start the app once (test tones, no MIDI) until it plays, so its numba kernels are in the
    cache, as on a stage machine that has run it before. Returns the seconds it took."""
    t = time.monotonic()
    # With the soak's JACK MIDI port named (absent yet), so the MIDI input's callbacks are cached too.
    warm = AppRun(["--test-signal", "tones", "--health-interval", "60", "--midi-api", "jack",
                   "--midi-port", PORT_NAME], env, work, tag="warmup")
    try:
        warm.wait_for("audio", timeout=180)
    finally:
        warm.stop()
    return round(time.monotonic() - t, 1)


def soak(seconds: float, rate: float, work: Path, ceiling_db: float, health_s: float,
         music_dir: Path = SHARED_AUDIO, port_max: int | None = STAGE_PORT_MAX,
         warm: bool = True) -> dict:
    from tests.jack_server import JackServer

    input_info = write_input(work / "abuse-input.wav", music_dir)
    server = JackServer(name=f"semeq-soak-{os.getpid()}", rate=SR, period=BLOCK,
                        port_max=port_max).start()
    env = server.env()
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env["PYTHONFAULTHANDLER"] = "1"  # a crash in native code leaves every thread's stack in the log
    procs: dict[str, subprocess.Popen] = {}
    app = None
    go = work / "flood.go"
    go.unlink(missing_ok=True)
    try:
        warmup_s = warm_numba_cache(env, work) if warm else None
        procs["passthrough"] = _helper("passthrough", work / "passthrough.json", env, work)
        procs["flood"] = _helper("flood", work / "flood.json", env, work, "--rate", str(rate),
                                 "--go", str(go))
        model = os.environ.get("SEMEQ_TEST_MODEL")
        app = AppRun(["--midi-api", "jack", "--midi-port", PORT_NAME, "--input-file", input_info["file"],
                      "--record", str(work / "soak-output.wav"), "--scenes", str(work / "scenes.yaml"),
                      "--health-interval", str(health_s), "--ceiling-db", str(ceiling_db),
                      *(["--model", model] if model else [])], env, work)
        import psutil

        ps = psutil.Process(app.proc.pid)
        start = app.wait_for("start", timeout=120)
        app.wait_for("audio", timeout=30)
        time.sleep(IDLE_S)  # MIDI port connected, audio running, no traffic yet
        idle = {**memory_sample(ps), "by_mapping": memory_by_mapping(ps.pid)}
        go.touch()
        t_go = time.time()
        t0 = time.monotonic()
        rss: list[tuple[float, float]] = []
        full: list[tuple[float, dict]] = []  # USS/PSS every 10 s (reading smaps costs a little)
        sockets: set[str] = set()  # every internet or listening socket the app ever had
        while (elapsed := time.monotonic() - t0) < seconds:
            if app.proc.poll() is not None or any(p.poll() is not None for p in procs.values()):
                break
            rss.append((elapsed, ps.memory_info().rss / 1e6))
            if len(rss) % 10 == 1:
                sockets.update(_network_sockets(ps))
                full.append((elapsed, memory_sample(ps)))
            time.sleep(1.0)
        run_s = time.monotonic() - t0
        app_alive = app.proc.poll() is None
        loaded = {"by_mapping": memory_by_mapping(ps.pid)} if app_alive else {}
        flood_rc = _stop_helper(procs.pop("flood"))
        rc = app.stop()
        pass_rc = _stop_helper(procs.pop("passthrough"))
    finally:
        for p in procs.values():
            _stop_helper(p)
        if app is not None and app.proc.poll() is None:
            app.stop()
        server_xruns = server.xruns_in_log()
        server.stop()

    stderr = app.stderr()
    stop = app.first("stop") or {}
    healths = [r for r in app.events if r["event"] == "health"]
    last = healths[-1] if healths else {}
    flood = json.loads((work / "flood.json").read_text()) if (work / "flood.json").exists() else {}
    passthrough = (json.loads((work / "passthrough.json").read_text())
                   if (work / "passthrough.json").exists() else {})
    ceiling = 10 ** (ceiling_db / 20)
    rec = check_recording(work / "soak-output.wav", ceiling)
    sound_from = first_sound_s(work / "soak-output.wav") if rec.get("readable") else None
    per_segment = [] if sound_from is None else output_per_segment(
        work / "soak-output.wav", input_info["segments"], input_info["loop_s_exact"], sound_from)
    dc = {"occurrences": 0, "worst_dbfs": None} if sound_from is None else dc_in_dc_segments(
        work / "soak-output.wav", input_info["segments"], input_info["loop_s_exact"], sound_from)
    log = log_rates(app.log_path, t_go)
    audio_s = (stop.get("callbacks") or last.get("callbacks") or 0) * BLOCK / SR
    problems = count_problems(app, stderr)
    mem = rss_growth(rss, run_s)
    later_full = [m for t, m in full if t >= mem["warmup_s"]] or [m for _, m in full]
    under_load = {k: round(float(np.median([m[k] for m in later_full])), 1) for k in
                  ("rss_mb", "uss_mb", "pss_mb")} if later_full else {}
    mem.update(idle=idle, under_load={**under_load, **loaded, "samples": len(later_full)},
               jack_port_max=port_max, numba_cache="warmed by a first start" if warm else "as found",
               warmup_start_s=warmup_s)
    app_xruns = stop.get("xruns", last.get("xruns"))
    base_xruns = passthrough.get("xruns")
    minutes = run_s / 60.0
    xrun_limit = (None if base_xruns is None
                  else XRUN_FACTOR * base_xruns + XRUN_ALLOWANCE_PER_MIN * max(minutes, 1.0))
    # The input meter must keep showing the input through the NaN/inf bursts: all but the silence
    # segment are loud, so most health lines after the first loop must read a level.
    later = [r for r in healths if (r.get("callbacks") or 0) * BLOCK / SR > input_info["loop_s_exact"]]
    metered = [r for r in later if (r.get("in_rms_dbfs") or FLOOR_DBFS) > FLOOR_DBFS + 20]
    midi_connected = any(r["event"] == "device" and "connected" in str(r.get("message", ""))
                         for r in app.events)
    state_lines = sum(1 for r in app.events if r["event"] == "state")
    midi_input = midi_input_report(app.events)

    criteria = {
        "app ran the whole time and exited 0": app_alive and rc == 0,
        "no exceptions or crashes": problems["tracebacks"] == 0 and problems["error_events"] == 0
        and problems["callback_errors"] == 0 and problems["fatal_errors"] == 0 and (rc is None or rc >= 0),
        "MIDI flood reached the app": midi_connected and state_lines > 0
        and flood.get("rate_per_s", 0) >= 0.95 * rate,
        "xruns within the pass-through baseline": (app_xruns is not None and xrun_limit is not None
                                                   and app_xruns <= xrun_limit),
        f"memory growth after warm-up < {MAX_RSS_GROWTH_MB:g} MB": (mem["growth_mb"] is not None
                                                                    and mem["growth_mb"] < MAX_RSS_GROWTH_MB),
        "recording readable and complete": rec.get("readable", False)
        and rec["frames_read"] == rec["header_frames"] and (stop.get("recorded_s") or 0) > 0
        and abs(rec["seconds"] - audio_s) <= RECORD_DURATION_TOLERANCE * max(audio_s, 1.0)
        and (last.get("record_dropped") or 0) == 0 and rec["seconds"] >= MIN_AUDIO_FRACTION * run_s,
        "output finite and never above the ceiling": rec.get("readable", False)
        and rec["nonfinite_samples"] == 0 and rec["samples_over_ceiling"] == 0,
        "no network sockets": not sockets,
        "meters keep reading the input": bool(later) and len(metered) >= 0.5 * len(later),
        "output carries the music": rec.get("readable", False)
        and rec["seconds_with_signal"] > 0.3 * rec["seconds"],
        "music comes back after the NaN bursts": bool(per_segment) and per_segment[-1]["segment"] == "music"
        and float(per_segment[-1]["out_rms_dbfs"]) > MIN_MUSIC_AFTER_NAN_DBFS,
        f"output DC below {MAX_DC_DBFS:g} dBFS in the DC segments": dc["occurrences"] > 0
        and bool(dc["worst_dbfs"] < MAX_DC_DBFS),
        f"at most {MAX_STATE_LINES_PER_S} state lines in any second": log["state_lines"] > 0
        and log["max_state_lines_in_1s"] <= MAX_STATE_LINES_PER_S,
    }
    return {
        "passed": all(criteria.values()),
        "criteria": criteria,
        "run_s": round(run_s, 1),
        "settings": {"rate_per_s": rate, "sample_rate": SR, "block": BLOCK, "channels": CHANNELS,
                     "ceiling_db": ceiling_db, "health_interval_s": health_s, "work_dir": str(work)},
        "input": input_info,
        "app": {"exit_status": rc,
                "killed_by": signal.Signals(-rc).name if rc is not None and rc < 0 else None,
                "crash_stack": _crash_stack(stderr), "pid": start.get("pid"), "setup_s": start.get("setup_s"),
                "callbacks": stop.get("callbacks"), "audio_s": round(audio_s, 2),
                "audio_vs_wall": round(audio_s / run_s, 4) if run_s else None,
                "state_lines": state_lines, "midi_connected": midi_connected,
                "health_lines": len(healths),
                "health_lines_with_input_level": f"{len(metered)}/{len(later)}",
                "control_events": last.get("control_events"),  # applied by the control thread
                "control_publishes": last.get("control_publishes"),  # EQ computations (batches)
                "cb_p99_us": last.get("cb_p99_us"),
                "cb_max_us": last.get("cb_max_us"), "load_p99_pct": last.get("load_p99_pct"),
                "cpu_pct_last": last.get("cpu_pct"), "stderr_tail": stderr[-1500:] if stderr.strip() else "",
                **problems},
        "xruns": {"app": app_xruns, "passthrough": base_xruns, "limit": xrun_limit,
                  "passthrough_callbacks": passthrough.get("callbacks"),
                  "jackd_log_xruns": server_xruns,
                  "app_per_min": None if app_xruns is None else round(app_xruns / minutes, 2),
                  "passthrough_per_min": None if base_xruns is None else round(base_xruns / minutes, 2)},
        "memory": mem,
        "log": log,
        "dc": dc,
        "network_sockets": sorted(sockets),
        "midi": {**flood, "flood_exit_status": flood_rc, "app_input": midi_input},
        "passthrough_exit_status": pass_rc,
        "recording": rec,
        "sound_from_s": sound_from,
        "output_per_input_segment": per_segment,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    length = p.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="run time in minutes (default 10)")
    length.add_argument("--seconds", type=float, help="run time in seconds")
    p.add_argument("--rate", type=float, default=1000.0, help="MIDI messages per second (default 1000)")
    p.add_argument("--json-out", metavar="FILE", help="also write the report here")
    p.add_argument("--work-dir", metavar="DIR", help="keep input, logs and recording here (default: a "
                   "temporary directory, removed after a passing run)")
    p.add_argument("--ceiling-db", type=float, default=-1.0, help="the app's limiter ceiling (default -1)")
    p.add_argument("--health-interval", type=float, default=5.0, help="seconds between health lines")
    p.add_argument("--music", metavar="DIR", default=str(SHARED_AUDIO),
                   help="folder of .flac music for the input (default ../shared/audio; synthetic if none)")
    p.add_argument("--port-max", type=int, default=STAGE_PORT_MAX,
                   help=f"the JACK server's port limit (default {STAGE_PORT_MAX}, as deploy/jackd.service; "
                   "0 = jackd's own default, 2048)")
    p.add_argument("--cold", action="store_true",
                   help="do not warm the numba cache first (measure a first start after install)")
    p.add_argument("--role", choices=("flood", "passthrough"), help=argparse.SUPPRESS)
    p.add_argument("--stats", help=argparse.SUPPRESS)
    p.add_argument("--go", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.role == "flood":
        return run_flood(args.rate, Path(args.stats), Path(args.go) if args.go else None)
    if args.role == "passthrough":
        return run_passthrough(Path(args.stats))

    seconds = args.seconds if args.seconds is not None else 60.0 * (args.minutes or 10.0)
    if seconds < 20 or args.rate <= 0:
        p.error("the soak needs at least 20 s (warm-up is part of it) and a positive --rate")
    keep = args.work_dir is not None
    work = Path(args.work_dir) if keep else Path(tempfile.mkdtemp(prefix="semeq-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        report = soak(seconds, args.rate, work, args.ceiling_db, args.health_interval, Path(args.music),
                      port_max=args.port_max or None, warm=not args.cold)
    except Exception as exc:  # noqa: BLE001 - set-up failure: say what, keep the files
        print(json.dumps({"passed": False, "setup_error": f"{type(exc).__name__}: {exc}",
                          "work_dir": str(work)}, indent=2))
        return 2
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    if report["passed"] and not keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"soak files kept in {work}", file=sys.stderr)
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
