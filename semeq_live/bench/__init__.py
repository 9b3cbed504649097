"""``semeq-live bench``: comparative benchmarks measured in one run.

Each section is a module here with ``NAME`` and ``run(quick: bool) -> dict``. Every figure that
matters is reported next to a baseline measured in the same run (scipy, torch or a pass-through),
as medians and ratios, because the machines are shared and noisy.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import time

import numpy as np


def sections() -> list[str]:
    return sorted(i.name for i in pkgutil.iter_modules(__path__) if not i.name.startswith("_"))


def run_section(name: str, quick: bool = False) -> dict:
    mod = importlib.import_module(f"{__name__}.{name}")
    return mod.run(quick=quick)


def time_calls(fn, repeats: int, inner: int = 1) -> np.ndarray:
    """Wall time per call (seconds) of ``fn`` over ``repeats`` samples of ``inner`` calls each."""
    out = np.empty(repeats)
    for i in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        out[i] = (time.perf_counter() - t0) / inner
    return out


def summary_us(samples_s: np.ndarray) -> dict:
    """Median / p90 / p99 / max of a sample of timings, in microseconds."""
    us = np.asarray(samples_s) * 1e6
    return {
        "p50_us": float(np.median(us)),
        "p90_us": float(np.percentile(us, 90)),
        "p99_us": float(np.percentile(us, 99)),
        "max_us": float(np.max(us)),
        "n": int(us.size),
    }


def process_cpu_s(pid: int) -> float | None:
    """CPU seconds used so far by all threads of process ``pid``: nanosecond schedstat on Linux
    (the usual clock-tick accounting is too coarse for a few % over a few seconds); None elsewhere."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that just ended
    return total / 1e9
