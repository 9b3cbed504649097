"""The JACK MIDI input's real-time part: native (numba ``cfunc``) process and shutdown callbacks.

JACK calls the process callback on its real-time thread once per period. It must not wait for
anything, so it holds no Python, no GIL and no lock: it reads each connected port's events with
``jack_midi_event_get`` (its return value checked: when the buffer changes under the reader,
which happens with jack2 when a late sender rewrites the buffer it shares with us, the call fails
with ``-ENOBUFS`` and the rest of that buffer is dropped), checks each event's size and that its
bytes lie inside the port buffer, and copies it into a JACK lock-free ring buffer as one record.
A byte written to a non-blocking pipe then wakes the reader thread (``jack_input``), which
decodes and delivers. python-rtmidi's RtMidi did the same copy without checking the return value
and crashed on the stale event (docs/reliability.md).

Everything the callbacks need lives in one int64 array (the "block", layout below) whose address
is JACK's callback argument: port pointers and serials per slot, the ring, the pipe, counters and
scratch space for the C structs. Pointers are passed to C as 64-bit integers (same ABI).

The C functions are called by name (``types.ExternalFunction``): libjack is loaded into LLVM's
symbol table first, so the compiled callbacks can come from numba's on-disk cache.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import llvmlite.binding as llvm
import numpy as np
from numba import carray, cfunc, types

MAX_PORTS = 16                # input ports one client can have connected at once
RECORD_HEADER = 16            # bytes before each event's data in the ring: see ``pack_header``
CLOCK_MONOTONIC = 1           # Linux: the clock of Python's time.monotonic()

# The block: one int64 word each.
SELF = 0          # the block's own address (the callbacks get it as a void *)
RING = 1          # jack_ringbuffer_t *
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
SLOTS = 21        # MAX_PORTS pairs: port pointer (0 = free slot), serial of the opened port
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
_rb_write_space = types.ExternalFunction("jack_ringbuffer_write_space", _u64(_u64))
_rb_write = types.ExternalFunction("jack_ringbuffer_write", _u64(_u64, _u64, _u64))
_clock_gettime = types.ExternalFunction("clock_gettime", _i32(_i32, _u64))
_write = types.ExternalFunction("write", _ip(_i32, _u64, _u64))


@cfunc(types.int32(types.uint32, types.voidptr), cache=True)
def process(nframes, arg):  # JackProcessCallback
    b = carray(arg, (BLOCK_WORDS,), np.int64)
    base = b[SELF]
    ring = b[RING]
    t_ns = -1
    for slot in range(MAX_PORTS):
        port = b[SLOTS + 2 * slot]
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
            if np.int64(_rb_write_space(np.uint64(ring))) < RECORD_HEADER + size:
                b[OVERFLOW] += 1
                continue
            if t_ns < 0:
                _clock_gettime(CLOCK_MONOTONIC, np.uint64(base + 8 * TIMESPEC))
                t_ns = b[TIMESPEC] * 1_000_000_000 + b[TIMESPEC + 1]
            b[HEADER] = (size << 32) | b[SLOTS + 2 * slot + 1]
            b[HEADER + 1] = t_ns
            _rb_write(np.uint64(ring), np.uint64(base + 8 * HEADER), np.uint64(RECORD_HEADER))
            _rb_write(np.uint64(ring), np.uint64(data), np.uint64(size))
            b[EVENTS] += 1
    if t_ns >= 0:  # wake the reader (a full pipe means it has wake-ups pending anyway)
        _write(np.int32(b[WAKE_FD]), np.uint64(base + 8 * WAKE_BYTE), np.uint64(1))
    b[CYCLES] += 1
    return 0


@cfunc(types.void(types.int32, types.voidptr, types.voidptr), cache=True)
def shutdown(code, reason, arg):  # JackInfoShutdownCallback: the server dropped this client
    b = carray(arg, (BLOCK_WORDS,), np.int64)
    b[DEAD] = 1


def new_block() -> np.ndarray:
    block = np.zeros(BLOCK_WORDS, dtype=np.int64)
    block[SELF] = block.ctypes.data
    block[WAKE_BYTE] = 1
    return block


def unpack_header(header: bytes) -> tuple[int, int, int]:
    """(serial, size, t_ns) of a record header written by ``process``."""
    word, t_ns = np.frombuffer(header, dtype=np.int64, count=2)
    return int(word) & 0xFFFFFFFF, int(word) >> 32, int(t_ns)
