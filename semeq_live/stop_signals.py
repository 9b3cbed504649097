"""SIGTERM / SIGINT / SIGHUP become a stop request, without a lock in the signal handler.

Python runs a signal handler in the main thread between two bytecodes, wherever that thread is.
The app's handler used to set its stop ``threading.Event`` itself; when the signal came while the
main thread was inside that same Event's ``wait()`` (which holds the Event's lock at its start and
end), ``set()`` waited for that lock for ever and the app ignored SIGTERM until it was killed
(seen in the end-to-end tests under load: about one stop in twenty; on stage systemd would
SIGKILL it after its stop timeout). The handler now only puts the signal's name into a
``queue.SimpleQueue`` (its ``put`` is reentrant: safe in a handler) and a small thread hands it on.
"""

from __future__ import annotations

import queue
import signal
import threading


class StopSignals:
    def __init__(self, on_signal):
        """``on_signal(name)`` ("SIGTERM", ...) is called from this object's own thread."""
        self._names: queue.SimpleQueue = queue.SimpleQueue()
        self._on_signal = on_signal
        self._thread = threading.Thread(target=self._relay, name="semeq-signals", daemon=True)

    def install(self, signums) -> "StopSignals":
        """Handle ``signums`` from now on (call from the main thread)."""
        self._thread.start()
        for signum in signums:
            signal.signal(signum, self._handler)
        return self

    def _handler(self, signum, frame) -> None:
        self._names.put(signum)

    def _relay(self) -> None:
        while True:
            self._on_signal(signal.Signals(self._names.get()).name)
