"""The test JACK server's housekeeping: a server left running by a crashed test session is
stopped when the next session starts its own; a live session's server is left alone."""

from __future__ import annotations

import subprocess
import sys

import pytest

from semeq_live.audio.jackd import DummyJackServer

from .jack_server import SESSION_PREFIX, stop_orphaned_session_servers

pytestmark = [pytest.mark.jack]


def test_a_crashed_sessions_server_is_stopped_and_a_live_ones_is_not(jack_server):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])  # a test process that has exited
    gone.wait()
    orphan = DummyJackServer(f"{SESSION_PREFIX}{gone.pid}").start()
    try:
        assert orphan.proc.pid in stop_orphaned_session_servers()
        assert orphan.proc.wait(10) == 0  # SIGTERM: a clean stop, which frees its server slot
        assert jack_server.proc.poll() is None  # this session's own server: its owner lives
    finally:
        orphan.stop()
