"""``AnalyzerThread``: the live analysis loop beside a writer that plays the audio callback."""

import threading
import time

import numpy as np
import pytest

from semeq_live.analysis import Analyzer, AnalyzerThread, ReferenceSpectrum
from semeq_live.analysis.thread import warm_up_kernels

from .test_analysis_spectrum import pink_noise

FS = 48000


def test_thread_follows_a_live_writer_and_learns_a_reference_meanwhile():
    # Loaded first: the thread loads the kernels itself before its first update, but with numba's
    # cache cold (a fresh clone running this file alone) that is a compilation of many seconds, the
    # writer below would run to its end meanwhile, and the thread would catch up in one update.
    warm_up_kernels()
    an = Analyzer(FS, 2)
    seen = []
    x = np.repeat(pink_noise(3 * FS, FS, np.random.default_rng(0))[:, None], 2, axis=1).astype(np.float32)
    block = 1024

    def callback_side():  # about 4x real time, in callback-sized blocks
        for i in range(0, len(x), block):
            an.push(x[i:i + block])
            time.sleep(block / FS / 4)

    with AnalyzerThread(an, interval_s=0.02, on_estimate=seen.append) as thread:
        writer = threading.Thread(target=callback_side)
        writer.start()
        time.sleep(0.5)
        ref = an.learn_reference()  # from the control thread, while the analysis thread runs
        writer.join()
        # Estimates refer to the end of the newest complete FFT segment.
        end_s = (an.nfft + (len(x) - an.nfft) // an.hop * an.hop) / FS
        # The loop ends as soon as the thread has caught up; the cap only matters on a loaded machine.
        deadline = time.monotonic() + 10.0
        while thread.latest.time_s < end_s and time.monotonic() < deadline:
            time.sleep(0.01)
    assert thread.error is None
    assert ref.name == "learned"
    assert len(seen) >= 10 and len(thread.update_times_s) >= 10
    last = thread.latest
    assert last.time_s == pytest.approx(end_s)
    assert last.level_db == pytest.approx(-20.0, abs=0.5)
    times = [e.time_s for e in seen]
    assert times == sorted(times)


def test_stop_is_prompt_and_errors_are_kept_not_raised():
    class Broken(Analyzer):
        def update(self):
            raise RuntimeError("boom")

    thread = AnalyzerThread(Broken(FS, 1), interval_s=0.05).start()
    time.sleep(0.15)
    t0 = time.monotonic()
    thread.stop()
    assert time.monotonic() - t0 < 0.5
    assert isinstance(thread.error, RuntimeError)


def test_only_new_estimates_wake_the_consumer():
    """No new FFT segment, no new estimate: the same object, and on_estimate is not called."""
    an = Analyzer(FS, 1)
    x = pink_noise(FS, FS, np.random.default_rng(1)).astype(np.float32)
    an.push(x)
    first = an.update()
    assert an.update() is first  # nothing new pushed
    an.push(x[:100])  # far less than a hop
    assert an.update() is first
    an.push(x[:an.hop])
    assert an.update() is not first  # not yet confident (no model): every new segment counts


def test_a_confident_estimate_is_renewed_about_three_times_a_second():
    from semeq_live.model import load_model

    an = Analyzer(FS, 1, model=load_model(), reference=ReferenceSpectrum.builtin("pink"))
    x = pink_noise(6 * FS, FS, np.random.default_rng(2)).astype(np.float32)
    step = int(0.05 * FS)
    ests = []
    for i in range(0, len(x), step):
        an.push(x[i:i + step])
        ests.append(an.update())
    confident = [e for e in ests if e.confident]
    assert confident, {e.reason for e in ests}
    new = {id(e): e for e in confident if not e.refresh}
    times = sorted(e.time_s for e in new.values())
    gaps = np.diff(times)
    assert 0.3 <= np.median(gaps) <= 0.4 and len(times) >= 10
    # In between, each update with new audio refreshes only its band powers (for auto-gain): a
    # frame of the newest 0.18 s each (0.05 s of new audio at each update here).
    refreshes = {id(e): e for e in confident if e.refresh}
    assert len(refreshes) >= 2 * len(new)
    every = sorted(e.time_s for e in {**new, **refreshes}.values())
    assert np.max(np.diff(every)) <= an.hop / FS + 1e-9
    last_full = None
    for e in ests:
        if e.confident and not e.refresh:
            last_full = e
        elif e.refresh and last_full is not None:
            np.testing.assert_array_equal(e.z_a, last_full.z_a)
            assert e.recent_band_power is not None and 0.0 < e.recent_seconds <= 0.1
