"""A real JACK server (dummy driver: no sound card needed) for tests and the soak script.

The package's ``DummyJackServer`` starts and stops it; for tests the *current* process is also
pointed at it (``JACK_DEFAULT_SERVER`` in ``os.environ``), so sounddevice and rtmidi's JACK API
in the test process and in every child process talk to this server.
"""

from __future__ import annotations

import os

from semeq_live.audio.jackd import DummyJackServer


class JackServer(DummyJackServer):
    def __init__(self, name: str = "semeq-test", rate: int = 48000, period: int = 128,
                 port_max: int | None = None):
        super().__init__(name, rate=rate, period=period, port_max=port_max)

    def start(self, timeout: float = 15.0) -> "JackServer":
        super().start(timeout)
        os.environ.update({k: v for k, v in self.env().items() if k.startswith("JACK_")})
        return self
