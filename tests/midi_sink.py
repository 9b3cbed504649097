"""A fake controller's MIDI input (where its LEDs are set), as a real JACK MIDI port.

It is read through JACK-Client, not python-rtmidi: RtMidi's JACK input ignores the return value
of ``jack_midi_event_get`` and copies from a stale event when the sending client runs late (see
docs/reliability.md), which killed a whole test session with SIGSEGV on a loaded machine.
JACK-Client checks it. The process callback only copies the bytes of each event to a list.
"""

from __future__ import annotations


class MidiSink:
    def __init__(self, client_name: str, port_name: str, activate: bool = True):
        """``activate=False``: the port exists but its client is not active yet (``activate()``
        later), the moment in which JACK refuses to connect to it."""
        import jack

        self.messages: list[list[int]] = []
        self._closed = False
        self.errors = 0  # process callbacks that raised (then nothing more is read that cycle)
        self._client = jack.Client(client_name, no_start_server=True)
        self._port = self._client.midi_inports.register(port_name)
        self._client.set_process_callback(self._process)
        if activate:
            self.activate()

    def activate(self) -> None:
        self._client.activate()

    def feeders(self) -> list[str]:
        """The ports connected to this one now."""
        return [p.name for p in self._client.get_all_connections(self._port)]

    def disconnect_all(self) -> None:
        """What a patchbay does when someone pulls the virtual cable."""
        self._port.disconnect()

    def _process(self, frames: int) -> None:
        try:
            for _offset, data in self._port.incoming_midi_events():
                self.messages.append(list(bytes(data)))  # the buffer is reused: copy
        except Exception:  # noqa: BLE001 - never raise into JACK's thread
            self.errors += 1

    def received(self) -> list[list[int]]:
        return list(self.messages)

    def clear(self) -> None:
        self.messages.clear()

    def close(self) -> None:
        """Also after its server died (then deactivating fails; closing still frees the client,
        which must not be left to the garbage collector: freeing it late crashed the session)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._client.deactivate()
        except Exception:  # noqa: BLE001 - a dead server
            pass
        self._client.close()
