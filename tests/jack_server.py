"""A real JACK server (dummy driver: no sound card needed) for tests and the soak script.

The package's ``DummyJackServer`` starts and stops it; for tests the *current* process is also
pointed at it (``JACK_DEFAULT_SERVER`` in ``os.environ``), so sounddevice and rtmidi's JACK API
in the test process and in every child process talk to this server.
"""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager

import pytest

from semeq_live.audio.jackd import DummyJackServer


class JackServer(DummyJackServer):
    def __init__(self, name: str = "semeq-test", rate: int = 48000, period: int = 128,
                 port_max: int | None = None):
        super().__init__(name, rate=rate, period=period, port_max=port_max)

    def start(self, timeout: float = 15.0) -> "JackServer":
        super().start(timeout)
        os.environ.update({k: v for k, v in self.env().items() if k.startswith("JACK_")})
        return self


SESSION_PREFIX = "semeq-pytest-"  # + the test process's pid (conftest's jack_server)


def stop_orphaned_session_servers() -> list[int]:
    """SIGTERM the servers of earlier test sessions that died before their teardown (a crashed
    test process leaves its jackd running for good, and JACK allows 8 servers on a machine).
    Only a server named for a session whose process no longer exists is touched. Returns the
    pids signalled."""
    stopped = []
    if not os.path.isdir("/proc"):
        return stopped
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if os.path.basename(args[0]) != b"jackd" or b"-n" not in args[:-1]:
            continue
        name = args[args.index(b"-n") + 1].decode(errors="replace")
        owner = name[len(SESSION_PREFIX):]
        if not name.startswith(SESSION_PREFIX) or not owner.isdigit() or os.path.exists(f"/proc/{owner}"):
            continue
        try:
            os.kill(int(entry), signal.SIGTERM)
            stopped.append(int(entry))
        except OSError:
            pass
    return stopped


@contextmanager
def private_server(name: str):
    """A JACK server for one test (which may kill it); the session's shared server and the
    ``JACK_*`` environment pointing at it are restored afterwards."""
    if not JackServer.available():
        pytest.skip("jackd not installed (apt-get install -y jackd2 libportaudio2)")
    saved = {k: v for k, v in os.environ.items() if k.startswith("JACK_")}
    server = JackServer(name=f"{name}-{os.getpid()}").start()
    try:
        yield server
    finally:
        if server.proc is None or server.proc.poll() is not None:
            # Killed and not restarted (a failed test): JACK keeps a server slot (8 in all) for
            # a killed server until one of the same name starts again, so start it once more.
            server.start()
        server.stop()
        for k in [k for k in os.environ if k.startswith("JACK_")]:
            del os.environ[k]
        os.environ.update(saved)
