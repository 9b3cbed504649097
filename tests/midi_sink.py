"""A fake controller's MIDI input (where its LEDs are set), as a real JACK MIDI port.

It is read by the app's own JACK MIDI reader (``semeq_live.midi.jack_input.JackInputs``: a native
process callback, no Python on JACK's thread). Two earlier sinks hung or killed the test session
on a loaded machine: python-rtmidi's JACK input copies from a stale event when the sender runs
late (SIGSEGV, docs/reliability.md), and a JACK-Client Python process callback is cancelled by
libjack at deactivation wherever it is; cancelled while it held the GIL, every other thread then
waited for the GIL for ever (seen twice in 8 runs of the LED tests beside two busy loops).
"""

from __future__ import annotations

from collections import Counter

from semeq_live.midi.jack_input import JackInputs


class MidiSink:
    def __init__(self, client_name: str, port_name: str, activate: bool = True):
        """``activate=False``: the port exists but its client is not active yet (``activate()``
        later), the moment in which JACK refuses to connect to it."""
        self.messages: list[list[int]] = []
        self.drops: Counter = Counter()  # events JACK's thread could not read, by reason
        self._closed = False
        self._inputs = JackInputs(client_name, self._deliver, activate=activate)
        self.port_name = self._inputs.listen(port_name)

    def _deliver(self, port: str, data: bytes, t: float) -> None:
        self.messages.append(list(data))

    def activate(self) -> None:
        self._inputs.activate()

    @property
    def errors(self) -> dict:
        """What JACK's thread dropped so far (a late sender's rewritten buffer, ...)."""
        self.drops.update({k: v for k, v in self._inputs.counters().items()
                           if v and k not in ("cycles", "events")})
        return dict(self.drops)

    def feeders(self) -> list[str]:
        """The ports connected to this one now."""
        return [p.name for p in self._inputs.client.get_all_connections(self.port_name)]

    def disconnect_all(self) -> None:
        """What a patchbay does when someone pulls the virtual cable."""
        for source in self.feeders():
            self._inputs.client.disconnect(source, self.port_name)

    def received(self) -> list[list[int]]:
        return list(self.messages)

    def clear(self) -> None:
        self.messages.clear()

    def close(self) -> None:
        """Also after its server died (closing still frees the client, which must not be left
        to the garbage collector: freeing it late crashed the session)."""
        if not self._closed:
            self._closed = True
            self._inputs.close()
