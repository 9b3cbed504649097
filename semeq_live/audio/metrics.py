"""Measurements the audio callback writes and every other thread reads, without locks.

The callback writes into preallocated numpy arrays (a ring of callback durations, a few counters)
and never resizes anything; readers take a copy and compute percentiles off the audio thread. A
reader may see a ring entry from the previous lap while the callback overwrites it: that costs one
stale sample in a percentile, never a crash, which is the right trade against a lock.

MIDI-to-audio latency uses sequence numbers: the control thread calls ``target_published(seq,
t_arrival, processor_seq)`` after handing new parameters to the processor (``processor_seq`` is the
processor's publish counter at that point); after each block the callback passes the processor's
*applied* counter to ``block_processed``, which notes the first block that ran with each new target
(its start time and output frame). ``applied(seq)`` and ``latency_s(seq)`` read them back.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np

# PortAudio callback status bits (portaudio.h: paInputUnderflow ... paPrimingOutput).
INPUT_UNDERFLOW, INPUT_OVERFLOW, OUTPUT_UNDERFLOW, OUTPUT_OVERFLOW = 1, 2, 4, 8
XRUN_BITS = INPUT_UNDERFLOW | INPUT_OVERFLOW | OUTPUT_UNDERFLOW | OUTPUT_OVERFLOW

# Counter slots (one int64 array so the callback does index writes only; the fused callback
# kernel, ``block_kernel``, uses the same slots). PUBLISHED: newest published sequence (control
# thread writes); SEEN: newest sequence a block has run with (callback writes).
N_CALLBACKS, N_XRUNS, N_IN_UNDER, N_IN_OVER, N_OUT_UNDER, N_OUT_OVER, FRAMES = range(7)
PUBLISHED, SEEN = 7, 8
N_COUNTERS = 9


class CallbackMetrics:
    def __init__(self, sample_rate: float, block_size: int, capacity: int = 8192,
                 latency_capacity: int = 1024):
        self.sample_rate = float(sample_rate)
        self.block_size = int(block_size)
        self.block_period_s = block_size / float(sample_rate)
        self._durations = np.zeros(capacity)  # seconds, ring
        self._counters = np.zeros(N_COUNTERS, dtype=np.int64)
        # seq -> arrival time (control thread writes) and first-block time/frame (callback writes).
        self._lat_cap = latency_capacity
        self._arrival = np.full(latency_capacity, np.nan)
        self._applied_t = np.full(latency_capacity, np.nan)
        self._applied_frame = np.full(latency_capacity, -1, dtype=np.int64)
        self._proc_seq = np.zeros(latency_capacity, dtype=np.int64)
        self._published = self._counters[PUBLISHED:PUBLISHED + 1]  # views of the counter slots
        self._seen = self._counters[SEEN:SEEN + 1]

    # ---- audio thread -------------------------------------------------------------------------
    # block_started/processed/finished are the pure-Python twin of ``block_kernel.count_block``:
    # they serve the callback while numba is still loading (start-up) and for processing callables
    # that cannot be fused, so they must not import numba. Both use the counter layout above.
    def block_started(self, status_bits: int) -> None:
        """Call first thing in the callback: counts xruns from PortAudio's status bits."""
        c = self._counters
        if status_bits & XRUN_BITS:
            c[N_XRUNS] += 1
            if status_bits & INPUT_UNDERFLOW:
                c[N_IN_UNDER] += 1
            if status_bits & INPUT_OVERFLOW:
                c[N_IN_OVER] += 1
            if status_bits & OUTPUT_UNDERFLOW:
                c[N_OUT_UNDER] += 1
            if status_bits & OUTPUT_OVERFLOW:
                c[N_OUT_OVER] += 1

    def block_processed(self, t_start: float, processor_applied_seq: int) -> None:
        """After the kernel ran: mark targets it picked up in this block (bounded, usually 0-1)."""
        c = self._counters
        seen, published = c[SEEN], c[PUBLISHED]
        while seen < published:
            slot = (seen + 1) % self._lat_cap
            if self._proc_seq[slot] > processor_applied_seq:
                break
            seen += 1
            self._applied_t[slot] = t_start
            self._applied_frame[slot] = c[FRAMES]
        c[SEEN] = seen

    def block_finished(self, duration_s: float, frames: int) -> None:
        c = self._counters
        self._durations[c[N_CALLBACKS] % self._durations.size] = duration_s
        c[N_CALLBACKS] += 1
        c[FRAMES] += frames

    # ---- control thread -----------------------------------------------------------------------
    def target_published(self, seq: int, t_arrival: float, processor_seq: int) -> None:
        """The parameters for ``seq`` are in the processor (whose publish counter is now
        ``processor_seq``); ``t_arrival`` is when the input that caused them arrived."""
        slot = seq % self._lat_cap
        self._applied_t[slot] = np.nan
        self._applied_frame[slot] = -1
        self._arrival[slot] = t_arrival
        self._proc_seq[slot] = processor_seq
        self._counters[PUBLISHED] = seq  # last: the callback only looks at slots it is told about

    # ---- readers ------------------------------------------------------------------------------
    @property
    def callbacks(self) -> int:
        return int(self._counters[N_CALLBACKS])

    @property
    def frames(self) -> int:
        return int(self._counters[FRAMES])

    @property
    def xruns(self) -> int:
        return int(self._counters[N_XRUNS])

    def applied(self, seq: int) -> tuple[float, int] | None:
        """(monotonic start time, output frame) of the first block that ran with target ``seq``."""
        seen = int(self._counters[SEEN])
        if seq > seen or seen - seq >= self._lat_cap:
            return None
        slot = seq % self._lat_cap
        t, frame = self._applied_t[slot], int(self._applied_frame[slot])
        if np.isnan(t) or frame < 0:
            return None
        return float(t), frame

    def latency_s(self, seq: int) -> float | None:
        """Input arrival -> first block with the new target, for one published sequence."""
        got = self.applied(seq)
        if got is None:
            return None
        return got[0] - float(self._arrival[seq % self._lat_cap])

    def timing(self) -> dict:
        """Callback time percentiles (µs), load % of the block period, xrun counts."""
        n = min(self.callbacks, self._durations.size)
        d = self._durations[:n].copy() * 1e6
        c = self._counters.copy()
        period_us = self.block_period_s * 1e6
        out = {"callbacks": int(c[N_CALLBACKS]), "frames": int(c[FRAMES]),
               "xruns": int(c[N_XRUNS]), "input_underflow": int(c[N_IN_UNDER]),
               "input_overflow": int(c[N_IN_OVER]), "output_underflow": int(c[N_OUT_UNDER]),
               "output_overflow": int(c[N_OUT_OVER]), "block_period_us": period_us}
        if n:
            p50, p99 = np.percentile(d, [50, 99])
            out.update(p50_us=float(p50), p99_us=float(p99), max_us=float(d.max()),
                       load_pct=float(100.0 * p50 / period_us),
                       load_p99_pct=float(100.0 * p99 / period_us))
        else:
            out.update(p50_us=None, p99_us=None, max_us=None, load_pct=None, load_p99_pct=None)
        return out


class ProcessMetrics:
    """Whole-process CPU % (of one core) and resident memory, sampled by whoever asks."""

    def __init__(self, pid: int | None = None):
        import psutil

        self._proc = psutil.Process(pid or os.getpid())
        self._lock = threading.Lock()  # readers only (UI and health threads), never the callback
        self._last = (time.monotonic(), self._cpu_seconds())

    def _cpu_seconds(self) -> float:
        t = self._proc.cpu_times()
        return t.user + t.system

    def sample(self) -> dict:
        """CPU % since the previous call (100 = one full core) and RSS in MB."""
        with self._lock:
            now, cpu = time.monotonic(), self._cpu_seconds()
            t0, c0 = self._last
            self._last = (now, cpu)
        dt = now - t0
        return {"cpu_pct": 100.0 * (cpu - c0) / dt if dt > 0 else 0.0,
                "rss_mb": self._proc.memory_info().rss / 1e6}

    def thread_cpu(self, names: dict[int, str]) -> dict[str, float]:
        """CPU % of one core per named thread (OS thread id -> name) since the previous call; all
        other threads are summed as "other". Reads the kernel's nanosecond per-thread counters
        (Linux); empty where they do not exist."""
        task_dir = f"/proc/{self._proc.pid}/task"
        now = time.monotonic()
        snap = {}
        try:
            for tid in os.listdir(task_dir):
                try:
                    with open(f"{task_dir}/{tid}/schedstat") as f:
                        snap[int(tid)] = int(f.read().split()[0])
                except (OSError, ValueError, IndexError):
                    continue  # a thread that just ended
        except OSError:
            return {}
        with self._lock:
            prev = getattr(self, "_thread_last", None)
            self._thread_last = (now, snap)
        if prev is None or now <= prev[0]:
            return {}
        dt_ns = (now - prev[0]) * 1e9
        out: dict[str, float] = {}
        for tid, ns in snap.items():
            name = names.get(tid, "other")
            out[name] = out.get(name, 0.0) + 100.0 * (ns - prev[1].get(tid, 0)) / dt_ns
        return {k: round(v, 2) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}
