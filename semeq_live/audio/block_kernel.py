"""The whole audio callback's work in one numba call (DESIGN.md section 5).

``run_block`` does, for one block and in this order, what the engine's parts would do one Python
call each: fill the input from a loop source, meter the input, append it to the analyzer's ring,
run the EQ kernel (``dsp.kernel.process_block``), note which published targets the block picked
up (latency), meter the output, copy it into the recorder's ring, and count the block and its
xruns. Every part keeps its own arrays and their meaning; the kernel only writes into them, in
the order their lock-free readers rely on (data first, then the counter that publishes it). The
engine measures the callback's duration around the call and stores it in the slot returned.

Each call through numba's dispatcher costs about a microsecond of argument checking, and each
Python-level step a few more; one call per block instead of eight removes most of the callback's
time that was not filtering. A single cached entry point also loads faster at start-up than
several.

``run_block`` holds the GIL (it is not ``nogil``): the callback is a Python function anyway, and a
kernel that released the GIL would have to win it back from whichever thread took it meanwhile
(the analyzer, the panel), which can cost up to the interpreter's switch interval. Holding it for
the few tens of microseconds of a block is cheaper and also makes every reader's copy atomic
with respect to the block's writes.

Numba's cache keys a function on its own file only, but this one has ``process_block`` and the
meter compiled into it: a cached copy built against an older EQ kernel (different state layout)
would corrupt memory. The function is therefore built with a fingerprint of the files it inlines
as a closure constant, which numba's cache index includes in its key.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from numba import njit

from ..dsp import design as _design
from ..dsp import kernel as K
from . import meter_kernel as _meter_kernel
from . import metrics as _metrics
from .meter_kernel import update_levels

# The metrics' counter layout and PortAudio's status bits: one definition, in ``metrics``.
from .metrics import (  # noqa: E402
    FRAMES, INPUT_OVERFLOW, INPUT_UNDERFLOW, N_CALLBACKS, N_COUNTERS, N_IN_OVER, N_IN_UNDER,
    N_OUT_OVER, N_OUT_UNDER, N_XRUNS, OUTPUT_OVERFLOW, OUTPUT_UNDERFLOW, PUBLISHED, SEEN,
    XRUN_BITS,
)

# Ring counters: the analyzer ring's [claimed, written]; the recorder's [written, drained, dropped].
RING_CLAIMED, RING_WRITTEN = 0, 1
REC_WRITTEN, REC_DRAINED, REC_DROPPED = 0, 1, 2

_APPLIED_SEQ = K.O_MISC + K.M_APPLIED_SEQ


# Every other file whose code or constants are compiled into ``run_block``: the EQ kernel with its
# subsonic protection, the filter design it compiles, the meter, and the metrics' counter layout.
# (tests/test_block_kernel.py checks that every numba function reachable from here is covered.)
FINGERPRINTED = (K, _design, _meter_kernel, _metrics)


def _fingerprint() -> int:
    """A number that changes whenever code compiled into ``run_block`` from other files changes."""
    h = hashlib.sha256()
    for mod in FINGERPRINTED:
        h.update(Path(mod.__file__).read_bytes())
    return int.from_bytes(h.digest()[:7], "little")


@njit(cache=True, nogil=True)
def fill_from_loop(out, data, pos):
    """``LoopSource.fill``: the next ``len(out)`` frames of ``data`` from ``pos[0]``, wrapping."""
    total = data.shape[0]
    p = pos[0]
    for i in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[i, c] = data[p, c]
        p += 1
        if p == total:
            p = 0
    pos[0] = p


@njit(cache=True, nogil=True)
def push_to_ring(block, buf, counts):
    """``AudioRing.push`` for a ``[frames, channels]`` block whose channels match the ring.

    Claims the frames before writing them and publishes them after, so a reader that copies
    while this runs can tell (see ``analysis.ring``).
    """
    n = block.shape[0]
    cap = buf.shape[0]
    first_frame = counts[RING_WRITTEN]
    skip = 0
    if n > cap:  # only the newest `cap` frames can be kept
        skip = n - cap
        first_frame += skip
    counts[RING_CLAIMED] = counts[RING_WRITTEN] + n
    slot = first_frame % cap
    for i in range(skip, n):
        for c in range(block.shape[1]):
            buf[slot, c] = block[i, c]
        slot += 1
        if slot == cap:
            slot = 0
    counts[RING_WRITTEN] += n


@njit(cache=True, nogil=True)
def record_block(block, ring, counts):
    """``Recorder.write``: copy into the ring, or count the frames as dropped if they don't fit."""
    n = block.shape[0]
    cap = ring.shape[0]
    if counts[REC_WRITTEN] - counts[REC_DRAINED] + n > cap:
        counts[REC_DROPPED] += n
        return
    slot = counts[REC_WRITTEN] % cap
    for i in range(n):
        for c in range(block.shape[1]):
            ring[slot, c] = block[i, c]
        slot += 1
        if slot == cap:
            slot = 0
    counts[REC_WRITTEN] += n  # publish after the copy: the writer thread never reads half a block


@njit(cache=True, nogil=True)
def count_block(counters, status_bits, t_start, applied_seq, proc_seq, applied_t, applied_frame):
    """The metrics' ``block_started`` and ``block_processed`` (xruns; first block per target)."""
    if status_bits & XRUN_BITS:
        counters[N_XRUNS] += 1
        if status_bits & INPUT_UNDERFLOW:
            counters[N_IN_UNDER] += 1
        if status_bits & INPUT_OVERFLOW:
            counters[N_IN_OVER] += 1
        if status_bits & OUTPUT_UNDERFLOW:
            counters[N_OUT_UNDER] += 1
        if status_bits & OUTPUT_OVERFLOW:
            counters[N_OUT_OVER] += 1
    cap = proc_seq.shape[0]
    seen = counters[SEEN]
    published = counters[PUBLISHED]
    while seen < published:
        slot = (seen + 1) % cap
        if proc_seq[slot] > applied_seq:
            break
        seen += 1
        applied_t[slot] = t_start
        applied_frame[slot] = counters[FRAMES]
    counters[SEEN] = seen


def _build(fingerprint: int):
    @njit(cache=True)  # holds the GIL: see the module notes
    def run_block(inp, out, status_bits, t_start,
                  src_data, src_pos,
                  levels, peak_decay, ms_coef,
                  pending, state, eq_on,
                  ring_buf, ring_counts,
                  rec_ring, rec_counts,
                  counters, durations_size, proc_seq, applied_t, applied_frame):
        """One block; returns the slot of the metrics' duration ring for this callback."""
        if fingerprint == 0:  # never true: keeps the fingerprint in numba's cache key
            return -1
        frames = out.shape[0]
        if src_data.shape[0] > 0:
            fill_from_loop(inp, src_data, src_pos)
        update_levels(inp, levels, 0, peak_decay, ms_coef)
        if ring_buf.shape[0] > 0:
            push_to_ring(inp, ring_buf, ring_counts)
        applied = 0.0
        if eq_on:
            K.process_block(inp, out, pending, state)
            applied = state[_APPLIED_SEQ]
        else:
            out[:, :] = 0.0  # no EQ yet: silence (playing the input dry would crackle at start-up)
        count_block(counters, status_bits, t_start, applied, proc_seq, applied_t, applied_frame)
        update_levels(out, levels, 1, peak_decay, ms_coef)
        if rec_ring.shape[0] > 0:
            record_block(out, rec_ring, rec_counts)
        slot = counters[N_CALLBACKS] % durations_size
        counters[N_CALLBACKS] += 1
        counters[FRAMES] += frames
        return slot

    return run_block


run_block = _build(_fingerprint())


def warm_up(channels: int) -> None:
    """Load ``run_block`` (from numba's cache when warm) for ``channels``, outside any callback.

    Runs it on scratch arrays of the same types as the engine's (a real, flat EQ state), so the
    first callback finds the compiled code ready.
    """
    from ..dsp.processor import EQProcessor

    f32 = np.float32
    z = np.zeros
    n = 32
    proc = EQProcessor(48000, channels)
    counters = z(N_COUNTERS, np.int64)
    for eq_on in (False, True):
        run_block(z((n, channels), f32), z((n, channels), f32), 0, 0.0, z((64, channels), f32),
                  z(1, np.int64), z((2, 2)), 1.0, 0.0, proc._pending, proc._state, eq_on,
                  z((128, channels), f32), z(2, np.int64), z((128, channels), f32),
                  z(3, np.int64), counters, 16, z(4, np.int64), z(4), z(4, np.int64))
