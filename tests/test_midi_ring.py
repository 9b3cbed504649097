"""The JACK MIDI input's ring between JACK's thread and the reader (``midi/jack_rt.py``).

- Two real threads (numba, no GIL) pass two million numbered, checksummed records through a
  4 KiB ring (it wraps ~9 000 times and runs full): every record arrives once, in order, intact.
  The writer is the process callback's own code path (``_ring_put``, the free space from the
  reader's position, the write position stored after the bytes); the reader is ``take``.
- Every word that hands something from one thread to the other is read and written as an
  ordered (sequentially consistent) atomic in the compiled code: what makes the hand-over correct
  on ARM, where plain stores can become visible out of order (docs/reliability.md). x86 would
  pass the first test without it; this one fails if an access becomes plain again.

The whole input through real JACK ports, floods and overflow included: tests/test_midi_jack.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

jack_rt = pytest.importorskip("semeq_live.midi.jack_rt", exc_type=OSError)
from numba import njit  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RECORD = 24  # bytes: sequence number, its square, its bitwise inverse
N = 2_000_000
RING_BYTES = 4096


@njit(nogil=True)
def produce(b, n, scratch):
    """Write ``n`` records as the process callback writes events (busy-waiting when full)."""
    rt_ring, mask = b[jack_rt.RING], b[jack_rt.RING_MASK]
    src = scratch.ctypes.data
    wpos = b[jack_rt.WRITE_POS]
    i = 0
    while i < n:
        free = mask + 1 - (wpos - jack_rt.atomic_load(b, jack_rt.READ_POS))
        written = 0
        while i < n and free >= RECORD and written < 64:  # a "cycle" of up to 64 records
            scratch[0], scratch[1], scratch[2] = i, i * i, ~i
            wpos = jack_rt._ring_put(rt_ring, mask, wpos, src, RECORD)
            free -= RECORD
            written += 1
            i += 1
        jack_rt.atomic_store(b, jack_rt.WRITE_POS, wpos)


@njit(nogil=True)
def consume(b, ring, chunk, n, bad):
    """Take records until ``n`` arrived; count the ones out of order or damaged in ``bad``."""
    pending = np.empty(RECORD, dtype=np.uint8)
    have = 0
    expect = 0
    while expect < n:
        got = jack_rt.take(b, ring, chunk)
        for k in range(got):
            pending[have] = chunk[k]
            have += 1
            if have == RECORD:
                words = pending.view(np.int64)
                if words[0] != expect or words[1] != expect * expect or words[2] != ~expect:
                    bad[0] += 1
                expect += 1
                have = 0
    return expect


def test_two_threads_pass_every_record_once_in_order_and_intact_through_a_wrapping_ring():
    ring = np.zeros(RING_BYTES, dtype=np.uint8)
    b = jack_rt.new_block()
    b[jack_rt.RING], b[jack_rt.RING_MASK] = ring.ctypes.data, ring.size - 1
    scratch = np.zeros(3, dtype=np.int64)
    chunk = np.empty(1000, dtype=np.uint8)  # not a multiple of a record: records arrive in pieces
    bad = np.zeros(1, dtype=np.int64)
    produce(jack_rt.new_block(), 0, scratch)  # compile both before the clock matters
    consume(jack_rt.new_block(), ring, chunk, 0, bad)
    received = []
    reader = threading.Thread(target=lambda: received.append(consume(b, ring, chunk, N, bad)))
    reader.start()
    produce(b, N, scratch)
    reader.join(120)
    assert not reader.is_alive()
    assert received == [N] and bad[0] == 0
    assert b[jack_rt.WRITE_POS] == b[jack_rt.READ_POS] == N * RECORD  # wrapped N * 24 / 4096 times


INSPECT = r"""
import json
from semeq_live.midi import jack_rt
jack_rt.warm_up()

def atomics(ir, kind):
    return sum(1 for line in ir.splitlines() if f"{kind} atomic i64" in line and "seq_cst" in line)

irs = {"process": jack_rt.process.inspect_llvm(), "shutdown": jack_rt.shutdown.inspect_llvm()}
for fn in (jack_rt.take, jack_rt.set_slot, jack_rt.read_word):
    (irs[fn.__name__],) = fn.inspect_llvm().values()
print(json.dumps({name: {"load": atomics(ir, "load"), "store": atomics(ir, "store"),
                         "jack_ringbuffer": "jack_ringbuffer" in ir} for name, ir in irs.items()}))
"""


def test_every_hand_over_between_the_threads_is_an_ordered_atomic(tmp_path):
    # A fresh numba cache: numba shows the code of what it compiles, not of what it loads.
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", INSPECT], env=env, capture_output=True, text=True,
                         cwd=str(REPO), timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    # the reader's position, each slot's port pointer; the write position, the cycle counter
    assert found["process"]["load"] >= 2 and found["process"]["store"] >= 2, found
    assert not found["process"]["jack_ringbuffer"]  # JACK's ring: no barriers before jack2 1.9.22
    assert found["shutdown"]["store"] >= 1, found
    assert found["take"]["load"] >= 1 and found["take"]["store"] >= 1, found
    assert found["set_slot"]["store"] >= 1 and found["read_word"]["load"] >= 1, found
