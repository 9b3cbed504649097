"""The JACK MIDI input's real-time part: native (numba ``cfunc``) process and shutdown callbacks.

JACK calls the process callback on its real-time thread once per period. It must not wait for
anything, so it holds no Python, no GIL and no lock: it reads each connected port's events with
``jack_midi_event_get`` (its return value checked: when the buffer changes under the reader,
which happens with jack2 when a late sender rewrites the buffer it shares with us, the call fails
with ``-ENOBUFS`` and the rest of that buffer is dropped), checks each event's size and that its
bytes lie inside the port buffer, and copies it into a lock-free ring (one writer: this thread;
one reader: ``take``) as one record. A byte written to a non-blocking pipe then wakes the reader
thread (``jack_input``), which decodes and delivers. python-rtmidi's RtMidi did the same copy
without checking the return value and crashed on the stale event (docs/reliability.md).

Everything the callbacks need lives in one int64 array (the "block", layout below) whose address
is JACK's callback argument: port pointers and serials per slot, the ring's place and positions,
the pipe, counters and scratch space for the C structs. Pointers are passed to C as 64-bit
integers (same ABI).

**Memory order.** Two threads share the block and the ring with no lock, which is only correct if
each side's writes become visible to the other in the order they were made. x86 keeps stores in
order and loads in order; ARM (a Raspberry Pi stage machine) does not, so every word that hands
something over is written and read with sequentially consistent atomics (``atomic_store`` /
``atomic_load``, LLVM's ``store atomic``/``load atomic ... seq_cst``: ``stlr``/``ldar`` on ARMv8, an
``xchg``/plain load on x86): the ring's write position after the bytes it covers, its read
position after the bytes were copied out, a slot's port pointer after its serial, and the cycle
counter after the cycle's last use of a port pointer (``close_port`` waits on it). JACK's own ring
(``jack_ringbuffer_*``, used before) had no barriers until jack2 1.9.22 (jack2 issue #715, pull
request #886), and Debian 12 / Raspberry Pi OS ship 1.9.21: docs/reliability.md says what that
could do.

The C functions are called by name (``types.ExternalFunction``): libjack is loaded into LLVM's
symbol table first, so the compiled callbacks can come from numba's on-disk cache.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import llvmlite.binding as llvm
import numpy as np
from numba import carray, cfunc, njit, types
from numba.core import cgutils
from numba.core.extending import intrinsic

MAX_PORTS = 16                # input ports one client can have connected at once
RECORD_HEADER = 16            # bytes before each event's data in the ring: see ``pack_header``
CLOCK_MONOTONIC = 1           # Linux: the clock of Python's time.monotonic()

# The block: one int64 word each.
SELF = 0          # the block's own address (the callbacks get it as a void *)
RING = 1          # address of the ring's bytes (a power of two of them)
WAKE_FD = 2       # write end of the reader's pipe (non-blocking)
BUF_BYTES = 3     # size of a JACK MIDI port buffer
MAX_EVENT = 4     # larger events are dropped (counted in OVERSIZED)
DEAD = 5          # 1 once the JACK server shut this client down
CYCLES = 6        # process cycles run
EVENTS = 7        # events copied into the ring
OVERFLOW = 8      # events dropped: the ring was full (the reader fell behind)
OVERSIZED = 9     # events dropped: empty or larger than MAX_EVENT
TORN = 10         # events whose bytes lay outside the port buffer (a buffer rewritten under us)
GET_ERRORS = 11   # jack_midi_event_get failures (the same cause, seen by JACK's own check)
LOST = 12         # events the sender's JACK buffer had no room for (jack_midi_get_lost_event_count)
EVENT = 13        # scratch: jack_midi_event_t {uint32 time; size_t size; uint8 *buffer} (3 words)
HEADER = 16       # scratch: the record header (2 words)
TIMESPEC = 18     # scratch: struct timespec (2 words)
WAKE_BYTE = 20    # scratch: the byte written to the pipe
RING_MASK = 21    # the ring's size - 1
WRITE_POS = 22    # bytes ever written into the ring (this thread writes it, after the bytes)
READ_POS = 23     # bytes ever taken out of it (the reader writes it, after copying them out)
SLOTS = 24        # MAX_PORTS pairs: port pointer (0 = free slot), serial of the opened port
BLOCK_WORDS = SLOTS + 2 * MAX_PORTS

COUNTERS = {"cycles": CYCLES, "events": EVENTS, "overflow": OVERFLOW, "oversized": OVERSIZED,
            "torn": TORN, "get_errors": GET_ERRORS, "lost": LOST}


def _load_libjack() -> str:
    name = ctypes.util.find_library("jack")
    if name is None:
        raise OSError("JACK library not found (Debian: apt-get install jackd2)")
    llvm.load_library_permanently(name)  # resolves the names below, also for cached code
    return name


LIBJACK = _load_libjack()

_u64, _u32, _i32, _ip = types.uint64, types.uint32, types.int32, types.intp
_port_get_buffer = types.ExternalFunction("jack_port_get_buffer", _u64(_u64, _u32))
_event_count = types.ExternalFunction("jack_midi_get_event_count", _u32(_u64))
_event_get = types.ExternalFunction("jack_midi_event_get", _i32(_u64, _u64, _u32))
_lost_count = types.ExternalFunction("jack_midi_get_lost_event_count", _u32(_u64))
_memcpy = types.ExternalFunction("memcpy", _u64(_u64, _u64, _u64))
_clock_gettime = types.ExternalFunction("clock_gettime", _i32(_i32, _u64))
_write = types.ExternalFunction("write", _ip(_i32, _u64, _u64))


def _item_pointer(context, builder, aryty, ary, index):
    array = context.make_array(aryty)(context, builder, ary)
    return cgutils.get_item_pointer(context, builder, aryty, array, [index], wraparound=False)


@intrinsic
def atomic_load(typingctx, arr, index):
    """``arr[index]`` (an int64 array) read with a sequentially consistent atomic load."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64 and isinstance(index, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        return builder.load_atomic(_item_pointer(context, builder, sig.args[0], args[0], args[1]),
                                   "seq_cst", 8)

    return types.int64(arr, index), codegen


@intrinsic
def atomic_store(typingctx, arr, index, value):
    """``arr[index] = value`` (an int64 array) with a sequentially consistent atomic store."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64 and isinstance(index, types.Integer)
            and isinstance(value, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        value = context.cast(builder, args[2], sig.args[2], types.int64)
        builder.store_atomic(value, _item_pointer(context, builder, sig.args[0], args[0], args[1]),
                             "seq_cst", 8)
        return context.get_dummy_value()

    return types.void(arr, index, value), codegen


@njit(cache=True, nogil=True)
def _ring_put(ring, mask, pos, src, n):
    """Copy ``n`` bytes from address ``src`` into the ring at byte position ``pos`` (wrapping)."""
    at = pos & mask
    first = min(n, mask + 1 - at)
    _memcpy(np.uint64(ring + at), np.uint64(src), np.uint64(first))
    if n > first:
        _memcpy(np.uint64(ring), np.uint64(src + first), np.uint64(n - first))
    return pos + n


@cfunc(types.int32(types.uint32, types.voidptr), cache=True)
def process(nframes, arg):  # JackProcessCallback
    b = carray(arg, (BLOCK_WORDS,), np.int64)
    base = b[SELF]
    ring, mask = b[RING], b[RING_MASK]
    wpos = b[WRITE_POS]  # only this thread writes it
    # The reader stored its position after copying the bytes out: the space before it is free.
    free = mask + 1 - (wpos - atomic_load(b, READ_POS))
    t_ns = -1
    for slot in range(MAX_PORTS):
        port = atomic_load(b, SLOTS + 2 * slot)  # stored after the slot's serial (``set_slot``)
        if port == 0:
            continue
        buf = np.int64(_port_get_buffer(np.uint64(port), nframes))
        if buf == 0:
            continue
        end = buf + b[BUF_BYTES]
        n = _event_count(np.uint64(buf))
        b[LOST] += _lost_count(np.uint64(buf))
        for i in range(n):
            if _event_get(np.uint64(base + 8 * EVENT), np.uint64(buf), np.uint32(i)) != 0:
                b[GET_ERRORS] += n - i  # the buffer changed under us: the rest is not there
                break
            size = b[EVENT + 1]
            data = b[EVENT + 2]
            if data < buf or size < 0 or data + size > end:
                b[TORN] += n - i  # a header from a buffer being rewritten: trust nothing after it
                break
            if size == 0 or size > b[MAX_EVENT]:
                b[OVERSIZED] += 1
                continue
            if free < RECORD_HEADER + size:
                b[OVERFLOW] += 1
                continue
            if t_ns < 0:
                _clock_gettime(CLOCK_MONOTONIC, np.uint64(base + 8 * TIMESPEC))
                t_ns = b[TIMESPEC] * 1_000_000_000 + b[TIMESPEC + 1]
            b[HEADER] = (size << 32) | b[SLOTS + 2 * slot + 1]
            b[HEADER + 1] = t_ns
            wpos = _ring_put(ring, mask, wpos, base + 8 * HEADER, RECORD_HEADER)
            wpos = _ring_put(ring, mask, wpos, data, size)
            free -= RECORD_HEADER + size
            b[EVENTS] += 1
    if t_ns >= 0:
        atomic_store(b, WRITE_POS, wpos)  # after the bytes: a reader that sees it sees them
        # wake the reader (a full pipe means it has wake-ups pending anyway)
        _write(np.int32(b[WAKE_FD]), np.uint64(base + 8 * WAKE_BYTE), np.uint64(1))
    atomic_store(b, CYCLES, b[CYCLES] + 1)  # after this cycle's last use of a port pointer
    return 0


@cfunc(types.void(types.int32, types.voidptr, types.voidptr), cache=True)
def shutdown(code, reason, arg):  # JackInfoShutdownCallback: the server dropped this client
    b = carray(arg, (BLOCK_WORDS,), np.int64)
    atomic_store(b, DEAD, 1)


# ------------------------------------------------------------------ the other side (Python threads)
@njit(cache=True, nogil=True)
def take(b, ring, out):
    """Move what the ring holds (at most ``out``'s size) into ``out``; returns how many bytes.
    The reader thread's only way into the ring (one reader at a time)."""
    wpos = atomic_load(b, WRITE_POS)  # stored after the bytes it covers: they are visible now
    rpos = b[READ_POS]  # only the reader writes it
    n = min(wpos - rpos, out.shape[0])
    mask = ring.shape[0] - 1
    for i in range(n):
        out[i] = ring[(rpos + i) & mask]
    atomic_store(b, READ_POS, rpos + n)  # after the copy: JACK's thread may reuse the space now
    return n


@njit(cache=True, nogil=True)
def set_slot(b, slot, serial, port):
    """Hand a port to JACK's thread (``port`` 0: take it back). The serial is stored first, so a
    cycle that sees the pointer sees its serial."""
    b[SLOTS + 2 * slot + 1] = serial
    atomic_store(b, SLOTS + 2 * slot, port)


@njit(cache=True, nogil=True)
def read_word(b, index):
    """A word of the block as JACK's thread last stored it (cycle counter, dead flag...)."""
    return atomic_load(b, index)


def warm_up() -> None:
    """Load (or compile) the Python side's functions, outside any time-critical moment."""
    block, ring, out = new_block(), np.zeros(16, dtype=np.uint8), np.zeros(16, dtype=np.uint8)
    set_slot(block, 0, 1, 0)
    read_word(block, CYCLES)
    take(block, ring, out)


def new_block() -> np.ndarray:
    block = np.zeros(BLOCK_WORDS, dtype=np.int64)
    block[SELF] = block.ctypes.data
    block[WAKE_BYTE] = 1
    return block


def unpack_header(header: bytes) -> tuple[int, int, int]:
    """(serial, size, t_ns) of a record header written by ``process``."""
    word, t_ns = np.frombuffer(header, dtype=np.int64, count=2)
    return int(word) & 0xFFFFFFFF, int(word) >> 32, int(t_ns)
