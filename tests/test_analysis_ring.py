"""The lock-free input ring: exact contents, wrap-around, lapping, and a real concurrent writer."""

import threading
import time

import numpy as np
import pytest

from semeq_live.analysis import AudioRing


def _ramp(start, n, ch=2):
    idx = np.arange(start, start + n, dtype=np.float32)
    return np.stack([idx, -idx], axis=1)[:, :ch].copy()


def test_reads_back_exact_frames_across_wraparound():
    ring = AudioRing(capacity=100, channels=2)
    pos = 0
    out = np.zeros((40, 2), np.float32)
    for n in (40, 50, 37, 64, 13, 99):
        ring.push(_ramp(pos, n))
        pos += n
        assert ring.written == pos
        assert ring.read_into(pos, out)
        np.testing.assert_array_equal(out, _ramp(pos - 40, 40))


def test_block_larger_than_capacity_keeps_the_newest_frames():
    ring = AudioRing(capacity=64, channels=2)
    ring.push(_ramp(0, 10))
    ring.push(_ramp(10, 200))
    assert ring.written == 210
    out = np.zeros((64, 2), np.float32)
    assert ring.read_into(210, out)
    np.testing.assert_array_equal(out, _ramp(146, 64))


def test_unavailable_spans_are_refused():
    ring = AudioRing(capacity=50, channels=1)
    ring.push(np.arange(80, dtype=np.float32))
    out = np.zeros((20, 1), np.float32)
    assert not ring.read_into(90, out)  # not written yet
    assert not ring.read_into(40, out)  # frames 20..39 were overwritten
    assert ring.read_into(80, out)
    np.testing.assert_array_equal(out[:, 0], np.arange(60, 80))


def test_channel_mismatch_is_an_error():
    ring = AudioRing(capacity=16, channels=2)
    with pytest.raises(ValueError):
        ring.push(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError):
        ring.push(np.zeros(4, np.float32))


def test_concurrent_writer_never_yields_a_torn_read():
    """A real writer thread pushes a ramp while the reader copies: every accepted copy is intact,
    and copies the writer lapped are refused (the ring is small, so both cases happen)."""
    cap, block, span = 4096, 64, 2048
    ring = AudioRing(capacity=cap, channels=2)
    stop = threading.Event()

    def writer():
        pos = 0
        blk = np.empty((block, 2), np.float32)
        base = np.arange(block, dtype=np.float32)
        while not stop.is_set() and pos < 2 ** 24:  # float32 represents every index below 2^24
            blk[:, 0] = base + pos
            blk[:, 1] = -(base + pos)
            ring.push(blk)
            pos += block
            if pos % (block * 16) == 0:
                time.sleep(0)  # let the reader in now and then, like a callback between blocks

    t = threading.Thread(target=writer)
    t.start()
    out = np.zeros((span, 2), np.float32)
    accepted = refused = 0
    deadline = time.monotonic() + 1.0
    try:
        while time.monotonic() < deadline and t.is_alive():
            end = ring.written
            if end < span:
                continue
            if ring.read_into(end, out):
                accepted += 1
                np.testing.assert_array_equal(out[:, 0], np.arange(end - span, end, dtype=np.float32))
                np.testing.assert_array_equal(out[:, 1], -out[:, 0])
            else:
                refused += 1
    finally:
        stop.set()
        t.join()
    assert accepted > 20
