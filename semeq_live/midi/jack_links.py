"""Whether a JACK connection really carries messages, for the LED output (python-rtmidi).

RtMidi's JACK output ignores ``jack_connect``'s result, and its port list outlives the server.
Two ways the LEDs stayed dark for the rest of a show while the app logged them connected:
- JACK refuses to connect a port whose client is not active yet. A JACK client registers its
  ports first and activates afterwards, so a controller plugged in mid-show can be found in that
  moment (seen in the test suite under load: no LED ever lit).
- The JACK server restarted: RtMidi's client still listed the controller's port and kept
  "sending" into a server that was gone.

``LinkWatch`` asks JACK itself, through JACK-Client (a client that is never activated: no
real-time thread, no process callback). Connections are read from the graph JACK runs now (its
shared memory, no round trip to the server): a connection shows there from the cycle in which it
carries messages. JACK tells the client when the server goes away; until then its answers hold.
"""

from __future__ import annotations

import re
import threading

from .jack_input import import_jack, open_client


class LinkWatch:
    """Answers "does a port of client ``source_client`` feed ``destination`` now?"."""

    def __init__(self, client_name: str):
        self._gone = threading.Event()
        self._client = open_client(client_name)
        # Called from libjack's notification thread; only sets a flag.
        self._client.set_shutdown_callback(lambda status, reason: self._gone.set())

    @property
    def server_gone(self) -> bool:
        return self._gone.is_set()

    def feeds(self, source_client: str, destination: str) -> bool | None:
        """True: a port of ``source_client`` (or of the ``-01``... name JACK gives a second client
        of that name) is connected to port ``destination`` in the running graph; False: not (yet);
        None: ``destination`` or the server is gone."""
        if self._gone.is_set():
            return None
        jack = import_jack()
        try:
            sources = self._client.get_all_connections(destination)
        except jack.JackError:  # no such port (any more)
            return None
        own = re.compile(rf"{re.escape(source_client)}(-\d\d)?:")
        return any(own.match(port.name) for port in sources)

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001 - a dead server: nothing left to free there
                pass
            self._client = None
