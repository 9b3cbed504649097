"""``AnalyzerThread``: runs ``Analyzer.update`` about ten times a second for the live tool."""

from __future__ import annotations

import threading
import time

from . import band_kernel, cue_kernel, history_kernel
from .analyzer import Analyzer
from .estimate import InputEstimate


def warm_up_kernels() -> None:
    """Load the analysis kernels (numba: band powers, source cues, window means) for every type
    the analyzer uses, from numba's cache when warm. ``AnalyzerThread`` does it on its own thread
    before its first update: nothing else waits for it, and no update meets a compilation
    half-way."""
    band_kernel.warm_up()
    cue_kernel.warm_up()
    history_kernel.warm_up()


class AnalyzerThread:
    """Background analysis loop. ``latest`` is the newest estimate (an immutable object, so reading
    it from another thread needs no lock); ``on_estimate`` (optional) is called with each one."""

    def __init__(self, analyzer: Analyzer, interval_s: float = 0.1, on_estimate=None):
        self.analyzer = analyzer
        self.interval_s = float(interval_s)
        self.on_estimate = on_estimate
        self.latest: InputEstimate = analyzer.last_estimate
        self.update_times_s: list[float] = []  # recent update durations, for the status panel / bench
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "AnalyzerThread":
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="semeq-analyzer", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _run(self):
        try:
            warm_up_kernels()
        except Exception as exc:  # the updates then load them on first use, or report the error
            self.error = exc
        next_t = time.monotonic()
        while not self._stop.is_set():
            t0 = time.perf_counter()
            try:
                est = self.analyzer.update()
            except Exception as exc:  # keep the show going; the panel reports the error
                self.error = exc
            else:
                # Only a new estimate (a new FFT segment, 5-8 a second) wakes the control thread.
                if est is not self.latest and self.on_estimate is not None:
                    self.on_estimate(est)
                self.latest = est
            self.update_times_s.append(time.perf_counter() - t0)
            del self.update_times_s[:-100]
            next_t += self.interval_s
            delay = next_t - time.monotonic()
            if delay < 0:  # fell behind (machine busy): do not try to catch up in a burst
                next_t = time.monotonic()
                delay = 0.0
            self._stop.wait(delay)
