"""A fake controller's MIDI input (where its LEDs are set), as a real JACK MIDI port.

It is read through JACK-Client, not python-rtmidi: RtMidi's JACK input ignores the return value
of ``jack_midi_event_get`` and copies from a stale event when the sending client runs late (see
docs/reliability.md), which killed a whole test session with SIGSEGV on a loaded machine.
JACK-Client checks it. The process callback only copies the bytes of each event to a list.
"""

from __future__ import annotations


class MidiSink:
    def __init__(self, client_name: str, port_name: str):
        import jack

        self.messages: list[list[int]] = []
        self.errors = 0  # process callbacks that raised (then nothing more is read that cycle)
        self._client = jack.Client(client_name, no_start_server=True)
        self._port = self._client.midi_inports.register(port_name)
        self._client.set_process_callback(self._process)
        self._client.activate()

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
        self._client.deactivate()
        self._client.close()
