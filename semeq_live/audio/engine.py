"""The live audio stream: a sounddevice callback that runs the EQ kernel and nothing else.

Callback discipline (DESIGN.md section 5): the callback reads the newest published parameter
snapshot (inside the EQ kernel: a seqlock, no lock), runs the nogil numba kernel, and writes
measurements into preallocated arrays. It never logs, locks, opens files or allocates buffers;
every array it touches exists before the stream starts.

Two ways through a block. When every part is one the engine knows (an ``EQProcessor`` or silence,
an ``AudioRing`` tap, the ``Recorder``, a ``LoopSource``), the block runs as *one* numba call,
``block_kernel.run_block``, over all their arrays: Python only times it. Otherwise (any other
callable, or before numba has loaded) each part is called from Python in the same order. The
choice is a "plan" tuple swapped in with one attribute store whenever a part changes, so the
callback sees the old or the new plan, never a mix.

Device loss: ``alive`` turns False when PortAudio stops the stream or the callback stops being
called (watchdog). ``close`` tears the stream down with a time limit because PortAudio's JACK host
API hangs in ``Pa_AbortStream`` once the JACK server has gone away; the app then recovers by
replacing the process image (see ``semeq_live.app``).
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager

import numpy as np

from ..errors import DeviceError
from .devices import AudioDevice, find_device
from .meter import LevelMeter
from .metrics import CallbackMetrics
from .recorder import Recorder
from .sources import LoopSource

MAX_BLOCK = 8192
WATCHDOG_S = 1.0  # no callback for this long on a running stream = the device is gone
STARTUP_GRACE_S = 5.0  # a loaded machine may take a while to schedule a new client's first cycle


@contextmanager
def _numba_without_scipy_blas():
    """Keep numba from importing scipy.linalg while it sets itself up.

    When numba first compiles or loads a function it imports its numpy implementations, and one of
    them probes for BLAS by importing ``scipy.linalg.cython_blas``: a quarter of a second of
    start-up and tens of MB of BLAS/LAPACK libraries the live path never uses (no kernel here calls
    ``np.dot``). Making that one import fail during set-up turns the probe's answer into "no BLAS"
    for numba's optional fast paths; afterwards scipy.linalg imports normally for anyone who needs
    it. Nothing is changed if scipy.linalg is already loaded.
    """
    name = "scipy.linalg.cython_blas"
    if name in sys.modules or "scipy.linalg" in sys.modules:
        yield
        return
    sys.modules[name] = None  # the import system's documented "cannot import" marker
    try:
        yield
    finally:
        if sys.modules.get(name, 0) is None:
            del sys.modules[name]


class AudioEngine:
    """Owns one duplex (or output-only) stream feeding ``process_into(inp, out)``.

    ``process_into`` may be None: the stream then runs and plays silence until ``set_processing``
    hands it the EQ. Opening the device early catches device errors at once and overlaps the
    server's client set-up with numba's loading; playing the input dry meanwhile would crackle,
    because the imports starve the callback of the GIL.
    ``applied_seq``: returns the processor's counter of picked-up targets (for latency).
    ``source``: a ``LoopSource`` that replaces the capture input (test signal or file); with a
    source the stream is output-only, so no capture device is needed. ``on_input``: called with
    each input block (the analyzer's cheap ``push``). ``recorder``: receives each output block.
    """

    def __init__(self, process_into=None, *, sample_rate: int, block_size: int, channels: int,
                 applied_seq=None, input_device: str | None = None,
                 output_device: str | None = None, source=None, on_input=None, recorder=None,
                 latency="low"):
        if not 16 <= block_size <= MAX_BLOCK:
            raise DeviceError(f"block size {block_size} is outside 16..{MAX_BLOCK} frames")
        self.sample_rate = int(sample_rate)
        self.block_size = int(block_size)
        self.channels = int(channels)
        self.input_pattern = input_device
        self.output_pattern = output_device
        self.latency = latency
        self._process_into = process_into or self._silence
        self._applied_seq = applied_seq or (lambda: 0)  # the processor's "picked up" counter
        self._source = source
        self._on_input = on_input
        self.recorder = recorder
        self.metrics = CallbackMetrics(sample_rate, block_size)
        self.meter = LevelMeter(sample_rate, block_size, channels=self.channels)
        self._source_buf = np.zeros((MAX_BLOCK, self.channels), dtype=np.float32)
        self._source_block = self._source_buf[:self.block_size]
        self._durations = self.metrics._durations  # the fused path stores each callback's time
        self._errors = np.zeros(1, dtype=np.int64)  # exceptions caught in the callback
        self._stream = None
        self.input: AudioDevice | None = None
        self.output: AudioDevice | None = None
        self._started_at = 0.0
        self._last_seen = (0, 0.0)  # (callbacks, time) for the watchdog
        self._first_block_t = np.zeros(1)  # monotonic start time of the first callback (0: none yet)
        self._audio_tid = np.zeros(1, dtype=np.int64)  # OS thread id of the callback (for CPU split)
        self._kernel = None  # block_kernel.run_block once loaded (``accelerate``)
        self._plan = None  # arguments of run_block after (inp, out, status, t0); None: Python path
        self._replan()

    # ------------------------------------------------------------------ audio thread
    @staticmethod
    def _silence(inp, out):
        out.fill(0.0)

    def _run_block(self, indata, outdata, frames, status_bits):
        t0 = time.monotonic()
        if self._first_block_t[0] == 0.0:  # once per stream, not per block
            self._first_block_t[0] = t0
            self._audio_tid[0] = threading.get_native_id()
        plan = self._plan
        if plan is not None:
            try:
                if self._source is None:
                    inp = indata
                else:  # the source fills it inside the kernel; full blocks reuse one view
                    inp = self._source_block if frames == self.block_size else self._source_buf[:frames]
                slot = self._kernel(inp, outdata, status_bits, t0, *plan)
                self._durations[slot] = time.monotonic() - t0
                return
            except Exception:  # noqa: BLE001 - e.g. an unexpected array type: play silence
                outdata.fill(0.0)
                self._errors[0] += 1
                self.metrics.block_finished(time.monotonic() - t0, frames)
                return
        m = self.metrics
        m.block_started(status_bits)
        try:
            if self._source is not None:
                inp = self._source_buf[:frames]
                self._source.fill(inp)
            else:
                inp = indata
            self.meter.update(inp, 0)
            if self._on_input is not None:
                self._on_input(inp)
            self._process_into(inp, outdata)
            m.block_processed(t0, self._applied_seq())
            self.meter.update(outdata, 1)
            if self.recorder is not None:
                self.recorder.write(outdata)
        except Exception:  # noqa: BLE001 - never let one bad block stop the show: play silence
            outdata.fill(0.0)
            self._errors[0] += 1
        m.block_finished(time.monotonic() - t0, frames)

    def _duplex_callback(self, indata, outdata, frames, time_info, status):
        self._run_block(indata, outdata, frames, status._flags)  # CallbackFlags has no public int

    def _output_callback(self, outdata, frames, time_info, status):
        self._run_block(None, outdata, frames, status._flags)

    # ------------------------------------------------------------------ control side
    def open(self) -> None:
        """Find the devices, open and start the stream. Raises ``DeviceError`` with what to do."""
        import sounddevice as sd

        self.output = find_device(self.output_pattern, "output", self.channels)
        self.input = None if self._source is not None else find_device(
            self.input_pattern, "input", self.channels)
        common = dict(samplerate=self.sample_rate, blocksize=self.block_size,
                      channels=self.channels, dtype="float32", latency=self.latency)
        try:
            if self.input is None:
                self._stream = sd.OutputStream(device=self.output.index,
                                               callback=self._output_callback, **common)
            else:
                self._stream = sd.Stream(device=(self.input.index, self.output.index),
                                         callback=self._duplex_callback, **common)
            self._stream.start()
        except sd.PortAudioError as exc:
            self._stream = None
            raise DeviceError(
                f"cannot open audio on '{self.output.name}' at {self.sample_rate} Hz, "
                f"{self.block_size} frames, {self.channels} channels: {exc}. Check that the rate "
                "matches the audio server's (JACK runs at one fixed rate) and that no other "
                "program holds the device") from None
        self._started_at = time.monotonic()
        self._last_seen = (0, self._started_at)

    @property
    def first_audio_at(self) -> float | None:
        """Monotonic time the first callback ran, or None before that."""
        t = float(self._first_block_t[0])
        return t if t > 0.0 else None

    @property
    def audio_thread_id(self) -> int | None:
        tid = int(self._audio_tid[0])
        return tid or None

    def accelerate(self) -> None:
        """Load the fused block kernel (numba; from its cache when warm) so that blocks run as one
        call from now on. Call from a control thread: loading takes a while, the callback never
        waits for it (it keeps running the Python path meanwhile)."""
        with _numba_without_scipy_blas():
            from . import block_kernel

            block_kernel.warm_up(self.channels)
        self._kernel = block_kernel.run_block
        self._replan()

    def set_processing(self, process_into, applied_seq=None) -> None:
        """Put the EQ in the signal path (between two blocks: one attribute store each)."""
        self._applied_seq = applied_seq or (lambda: 0)
        self._process_into = process_into
        self._replan()

    def set_input_tap(self, on_input) -> None:
        """Start (or stop, with None) handing each input block to ``on_input`` (e.g. the analyzer's
        ring: pass ``ring.push`` of an ``AudioRing`` and the fused kernel writes it directly).

        One attribute store: the callback sees either the old or the new tap, never half of one.
        """
        self._on_input = on_input
        self._replan()

    @property
    def fused(self) -> bool:
        """True while blocks run as one numba call (``block_kernel``)."""
        return self._plan is not None

    def _replan(self) -> None:
        """Work out whether the current parts can run fused, and publish the plan (or None)."""
        if self._kernel is None:
            self._plan = None
            return
        plan = self._fused_arguments()
        if plan is None and self.meter._kernel is None:
            self.meter.accelerate()  # a part only Python can call: at least meter in numba
        self._plan = plan

    def _fused_arguments(self) -> tuple | None:
        z32 = np.zeros((0, self.channels), dtype=np.float32)
        eq = self._fusable_eq(self._process_into)
        ring = self._fusable_ring(self._on_input)
        if eq is None or ring is None:
            return None
        src = self._source
        if src is not None:
            if type(src).fill is not LoopSource.fill or src.data.shape[1] != self.channels:
                return None
            src_args = (src.data, src._pos)
        else:
            src_args = (z32, np.zeros(1, dtype=np.int64))
        rec = self.recorder
        if rec is not None:
            if type(rec).write is not Recorder.write or rec._ring.shape[1] != self.channels:
                return None
            rec_args = (rec._ring, rec._counts)
        else:
            rec_args = (z32, np.zeros(3, dtype=np.int64))
        meter, m = self.meter, self.metrics
        return (*src_args, meter.levels, meter.peak_decay, meter.ms_coef, *eq, *ring, *rec_args,
                m._counters, m._durations.size, m._proc_seq, m._applied_t, m._applied_frame)

    def _fusable_eq(self, process_into) -> tuple | None:
        """(pending, state, on) for silence or an ``EQProcessor`` of this channel count."""
        if process_into is self._silence:
            return np.zeros(0), np.zeros(0), False
        # The module is loaded if process_into can be one of its processors; never import it here.
        mod = sys.modules.get("semeq_live.dsp.processor")
        owner = getattr(process_into, "__self__", None)
        if (mod is not None and type(owner) is mod.EQProcessor
                and process_into.__func__ is mod.EQProcessor.process_into
                and owner.channels == self.channels):
            return owner._pending, owner._state, True
        return None

    def _fusable_ring(self, on_input) -> tuple | None:
        """(buffer, counters) for no tap or an ``AudioRing.push`` of this channel count."""
        if on_input is None:
            return np.zeros((0, self.channels), dtype=np.float32), np.zeros(2, dtype=np.int64)
        mod = sys.modules.get("semeq_live.analysis.ring")
        owner = getattr(on_input, "__self__", None)
        if (mod is not None and type(owner) is mod.AudioRing
                and on_input.__func__ is mod.AudioRing.push and owner.channels == self.channels):
            return owner._buf, owner._counts
        return None

    @property
    def is_open(self) -> bool:
        return self._stream is not None

    @property
    def callback_errors(self) -> int:
        return int(self._errors[0])

    @property
    def stream_latency_s(self) -> float | None:
        if self._stream is None:
            return None
        lat = self._stream.latency
        return float(lat[1] if isinstance(lat, tuple) else lat)

    def alive(self) -> bool:
        """False once PortAudio stopped the stream or callbacks stopped arriving (device lost)."""
        s = self._stream
        if s is None:
            return False
        now = time.monotonic()
        n = self.metrics.callbacks
        if n != self._last_seen[0]:
            self._last_seen = (n, now)
            return bool(s.active)
        limit = WATCHDOG_S if n else STARTUP_GRACE_S
        return bool(s.active) and now - self._last_seen[1] < limit

    def close(self, timeout: float = 2.0) -> bool:
        """Stop and close the stream. Returns False if PortAudio hung (the stream is abandoned)."""
        stream, self._stream = self._stream, None
        if stream is None:
            return True
        done = threading.Event()

        def _close():
            try:
                stream.abort(ignore_errors=True)
                stream.close(ignore_errors=True)
            finally:
                done.set()

        threading.Thread(target=_close, name="semeq-stream-close", daemon=True).start()
        return done.wait(timeout)
