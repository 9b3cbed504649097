"""The fused callback kernel (``audio.block_kernel``): the same results as the parts called one by
one, torn-read safety of its ring writes under real concurrency, and one compiled entry point that
the stream uses without compiling anything in the callback."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from semeq_live.analysis.ring import AudioRing
from semeq_live.audio.engine import AudioEngine
from semeq_live.audio.recorder import Recorder
from semeq_live.audio.sources import LoopSource, signal_source
from semeq_live.dsp import EQProcessor

SR = 48000
WARM = [3, 150, -2, 560, 0.71, 4, 1000, 0.71, -3, 3300, 0.71, 2, 8200]
INVERSE = [1, 120, 2, 500, 1.0, -1, 1500, 1.0, 2, 4000, 1.0, -2, 9000]


def _engine(tmp_path, name, channels, block, fused, ring_cap=3000, rec_seconds=0.2):
    proc = EQProcessor(SR, channels)
    proc.set_params(WARM, inverse=INVERSE)
    rec = Recorder(tmp_path / f"{name}.wav", SR, channels, ring_seconds=rec_seconds)
    rec._stop.set()  # no writer thread draining: the test reads the ring itself
    rec._thread.join()
    ring = AudioRing(ring_cap, channels)
    eng = AudioEngine(None, sample_rate=SR, block_size=block, channels=channels,
                      source=signal_source("pink", SR, channels), recorder=rec)
    if fused:
        eng.accelerate()
    else:
        eng.meter.accelerate()  # the same numba meter on both paths: levels compare exactly
    eng.set_processing(proc.process_into, lambda: proc.applied_seq)
    eng.set_input_tap(ring.push)
    return eng, proc, ring, rec


@pytest.mark.parametrize("channels", [1, 2])
def test_fused_block_matches_the_parts_called_one_by_one(tmp_path, channels):
    block = 64
    fused, fproc, fring, frec = _engine(tmp_path, "f", channels, block, True)
    plain, pproc, pring, prec = _engine(tmp_path, "p", channels, block, False)
    assert fused.fused and not plain.fused
    rng = np.random.default_rng(3)
    out_f = np.zeros((block, channels), np.float32)
    out_p = np.zeros((block, channels), np.float32)
    seq = 0
    for i in range(400):
        frames = int(rng.choice([block, block // 2, 17]))  # PortAudio may hand over short blocks
        status = int(rng.choice([0, 0, 0, 2, 4, 5]))
        if i % 40 == 5:  # a control change with its latency bookkeeping, as LiveControl does
            seq += 1
            params = list(WARM)
            params[5] = float(rng.uniform(-12, 12))
            for proc, eng in ((fproc, fused), (pproc, plain)):
                proc.set_params(params, inverse=INVERSE)
                eng.metrics.target_published(seq, float(i), proc.publish_seq)
        fused._run_block(None, out_f[:frames], frames, status)
        plain._run_block(None, out_p[:frames], frames, status)
        np.testing.assert_array_equal(out_f[:frames], out_p[:frames])
    # Rings, recorder and meters hold the same data, the metrics the same counts and marks.
    assert fring.written == pring.written
    np.testing.assert_array_equal(fring._buf, pring._buf)
    np.testing.assert_array_equal(frec._counts, prec._counts)
    assert frec.dropped_frames > 0  # the undrained 0.2 s ring overflowed: dropping was exercised
    np.testing.assert_array_equal(frec._ring, prec._ring)
    np.testing.assert_array_equal(fused.meter.levels, plain.meter.levels)
    np.testing.assert_array_equal(fused.metrics._counters, plain.metrics._counters)
    np.testing.assert_array_equal(fused.metrics._applied_frame, plain.metrics._applied_frame)
    assert fused.metrics.timing()["xruns"] == plain.metrics.timing()["xruns"] > 0
    assert fused.metrics.applied(seq) is not None
    np.testing.assert_array_equal(fused._source._pos, plain._source._pos)
    assert fused.callback_errors == plain.callback_errors == 0
    frec.close()
    prec.close()


def test_silence_before_the_eq_and_plain_callables_fall_back(tmp_path):
    eng = AudioEngine(None, sample_rate=SR, block_size=128, channels=2,
                      source=signal_source("tones", SR, 2))
    assert not eng.fused  # nothing loaded yet: the Python path plays silence
    eng.accelerate()
    assert eng.fused
    out = np.ones((128, 2), np.float32)
    eng._run_block(None, out, 128, 0)
    assert not out.any()
    levels = eng.meter.read()
    assert levels["in_peak_dbfs"] > -30 and levels["out_peak_dbfs"] == -120.0  # metered all the same

    calls = []
    eng.set_input_tap(lambda block: calls.append(block.shape))  # any other callable: not fused
    assert not eng.fused
    eng._run_block(None, out, 128, 0)
    assert calls == [(128, 2)]
    eng.set_input_tap(None)
    assert eng.fused
    proc = EQProcessor(SR, 1)  # wrong channel count for this stream: never fused
    eng.set_processing(proc.process_into)
    assert not eng.fused


def test_ring_written_by_the_nogil_kernel_never_yields_a_torn_read():
    """A writer thread runs the kernel's ring write without the GIL while the reader copies: every
    copy the reader accepts is intact, and the writer laps the small ring often enough that copies
    are also refused."""
    from semeq_live.audio.block_kernel import push_to_ring

    cap, block, span = 4096, 256, 2048
    ring = AudioRing(capacity=cap, channels=2)
    stop = threading.Event()

    def writer():
        pos = 0
        blk = np.empty((block, 2), np.float32)
        base = np.arange(block, dtype=np.float32)
        while not stop.is_set() and pos < 2 ** 24 - block:  # float32 holds every index below 2^24
            blk[:, 0] = base + pos
            blk[:, 1] = -(base + pos)
            push_to_ring(blk, ring._buf, ring._counts)
            pos += block

    push_to_ring(np.zeros((1, 2), np.float32), np.zeros((4, 2), np.float32), np.zeros(2, np.int64))
    t = threading.Thread(target=writer)
    t.start()
    out = np.zeros((span, 2), np.float32)
    accepted = refused = 0
    # Run until both outcomes were seen (usually well under a second), with a generous cap: on a
    # loaded machine the writer may go a while without lapping a read in progress.
    deadline = time.monotonic() + 15.0
    try:
        while time.monotonic() < deadline and not (accepted > 10 and refused > 0):
            end = ring.written
            if end < span:
                continue
            if ring.read_into(end, out):
                accepted += 1
                expect = np.arange(end - span, end, dtype=np.float32)
                np.testing.assert_array_equal(out[:, 0], expect)
                np.testing.assert_array_equal(out[:, 1], -expect)
            else:
                refused += 1
    finally:
        stop.set()
        t.join()
    assert accepted > 10 and refused > 0


def test_loop_source_fill_matches_in_both_paths():
    from semeq_live.audio.block_kernel import fill_from_loop

    data = np.arange(20, dtype=np.float32).reshape(10, 2)
    src = LoopSource(data, "ramp")
    pos = np.zeros(1, np.int64)
    a, b = np.zeros((7, 2), np.float32), np.zeros((7, 2), np.float32)
    for _ in range(5):
        src.fill(a)
        fill_from_loop(b, data, pos)
        np.testing.assert_array_equal(a, b)
    assert int(src._pos[0]) == int(pos[0]) == 35 % 10


@pytest.mark.jack
def test_duplex_capture_buffers_need_no_new_compilation(jack_server):
    """PortAudio's capture buffer (not a source) goes straight into the kernel: its array type must
    be the one compiled at warm-up, or the first callback would stall compiling."""
    from semeq_live.audio import block_kernel
    from semeq_live.audio.devices import release, rescan

    rescan()
    proc = EQProcessor(SR, 2)
    eng = AudioEngine(None, sample_rate=SR, block_size=128, channels=2, input_device="system",
                      output_device="system")
    eng.accelerate()
    eng.set_processing(proc.process_into, lambda: proc.applied_seq)
    eng.set_input_tap(AudioRing(SR, 2).push)
    signatures = list(block_kernel.run_block.signatures)
    eng.open()
    try:
        deadline = time.monotonic() + 10
        while eng.metrics.callbacks < 100:
            assert time.monotonic() < deadline and eng.alive()
            time.sleep(0.02)
    finally:
        assert eng.close()
        release()
    assert eng.fused and eng.callback_errors == 0
    assert list(block_kernel.run_block.signatures) == signatures


@pytest.mark.jack
def test_stream_runs_fused_without_compiling_in_the_callback(jack_server, tmp_path):
    import soundfile as sf

    from semeq_live.audio import block_kernel
    from semeq_live.audio.devices import release, rescan

    rescan()
    block = 128
    proc = EQProcessor(SR, 2)
    proc.set_params([0, 150, 0, 560, 0.71, -12, 1000, 0.71, 0, 3300, 0.71, 0, 8200])
    rec = Recorder(tmp_path / "fused.wav", SR, 2)
    ring = AudioRing(SR, 2)
    eng = AudioEngine(None, sample_rate=SR, block_size=block, channels=2, output_device="system",
                      source=signal_source("tones", SR, 2), recorder=rec)
    eng.accelerate()
    eng.set_processing(proc.process_into, lambda: proc.applied_seq)
    eng.set_input_tap(ring.push)
    signatures = list(block_kernel.run_block.signatures)
    eng.open()
    try:
        deadline = time.monotonic() + 10
        while eng.metrics.callbacks < int(1.2 * SR / block):
            assert time.monotonic() < deadline and eng.alive()
            time.sleep(0.02)
        timing = eng.metrics.timing()
    finally:
        assert eng.close()
        rec.close()
        release()
    assert eng.fused and eng.callback_errors == 0
    assert list(block_kernel.run_block.signatures) == signatures  # nothing compiled on the fly
    assert ring.written >= SR
    assert 0 < timing["p50_us"] < 1e6 * block / SR
    x, _ = sf.read(str(tmp_path / "fused.wav"), dtype="float32")
    spec = np.abs(np.fft.rfft(x[-SR:, 0])) / (SR / 2)
    assert 20 * np.log10(spec[1000]) == pytest.approx(-33.0, abs=1.0)  # the EQ's 1 kHz cut
    assert 20 * np.log10(spec[100]) == pytest.approx(-21.0, abs=0.5)


def test_live_path_imports_no_torch_and_no_scipy_fft_or_linalg():
    """What the live app loads on its way to sound and analysis stays lean: no torch (training
    only), no scipy.fft (the analyzer uses numpy's), no scipy.linalg (numba's BLAS probe is kept
    from importing it), and scipy.linalg still imports normally afterwards for anyone else."""
    import subprocess
    import sys

    code = """
import sys
import numpy as np
from semeq_live.audio.engine import AudioEngine
from semeq_live.audio.sources import signal_source
from semeq_live.analysis import Analyzer
from semeq_live.control.engine import SemanticEngine
from semeq_live.dsp import EQProcessor
from semeq_live.model import load_model
eng = AudioEngine(None, sample_rate=48000, block_size=128, channels=2,
                  source=signal_source("pink", 48000, 2))
eng.accelerate()
model = load_model(None)
analyzer = Analyzer(48000, 2, model)
engine = SemanticEngine(model, 48000)
proc = EQProcessor(48000, 2)
eng.set_processing(proc.process_into)
eng.set_input_tap(analyzer.ring.push)
out = np.zeros((128, 2), np.float32)
for _ in range(400):
    eng._run_block(None, out, 128, 0)
analyzer.update()
assert eng.fused and analyzer.ring.written == 400 * 128
loaded = sorted(m for m in ("torch", "scipy.fft", "scipy.linalg", "scipy.signal") if m in sys.modules)
import scipy.linalg
print(",".join(loaded) or "none")
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip().splitlines()[-1] == "none"


def test_cache_fingerprint_covers_every_compiled_module():
    """``run_block``'s numba cache is keyed on its own file plus the fingerprinted ones: every
    numba function it can reach (the EQ kernel, the protection, the design code, the meter) must
    come from a fingerprinted module, or a stale cached copy could run against a new layout."""
    import inspect

    from numba.core.registry import CPUDispatcher

    from semeq_live.audio import block_kernel

    covered = {m.__name__ for m in block_kernel.FINGERPRINTED} | {block_kernel.__name__}
    # Compiled code reaches other code through its module's globals (functions, or modules whose
    # functions it calls, like ``K.process_block``): walk those within the package.
    seen, todo, modules = set(), [block_kernel], set()
    while todo:
        mod = todo.pop()
        for value in vars(mod).values():
            if isinstance(value, CPUDispatcher):
                target = inspect.getmodule(value.py_func)
                modules.add(target.__name__)
            elif inspect.ismodule(value) and value.__name__.startswith("semeq_live."):
                target = value
            else:
                continue
            if target.__name__ not in seen:
                seen.add(target.__name__)
                todo.append(target)
    assert {"semeq_live.dsp.kernel", "semeq_live.dsp.design",
            "semeq_live.audio.meter_kernel"} <= modules
    assert modules <= covered, modules - covered
    before = block_kernel._fingerprint()
    assert before == block_kernel._fingerprint() != 0
