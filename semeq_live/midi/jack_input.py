"""JACK MIDI input through JACK-Client (the system libjack, via cffi), with a native process callback.

One JACK client per ``MidiInput``, activated once, holds an input port for each source port it
reads; ports come and go with the controllers. JACK's real-time thread runs ``jack_rt.process``
(no Python, no GIL: see there), which copies checked events into a lock-free ring and wakes one
reader thread through a pipe; the reader blocks on that pipe (no polling), cuts the ring's bytes
into events and hands each one, with the time JACK's thread took it, to ``deliver``.

Why not python-rtmidi here: its bundled RtMidi ignores ``jack_midi_event_get``'s return value and
copies a stale event when a late sender rewrites the buffer it shares with us, which crashed the
app under MIDI floods; it also brings its own copy of libjack, so JACK's shared memory was mapped
twice. ALSA MIDI, and MIDI output (LED feedback), stay on python-rtmidi.

JACK-Client has no way to register a native callback, so private names are used, all here:
``jack._ffi`` (to turn cffi pointers into addresses) and the ``_ptr`` of a client and a port.
``tests/test_midi_jack.py`` checks they are there. The ring is the callback's own (``jack_rt``:
ordered for ARM too), in a numpy buffer this object keeps.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time

import numpy as np

from ..errors import DeviceError
from ..quiet import native_stderr_captured

log = logging.getLogger("semeq_live.midi")

RING_BYTES = 1 << 18          # 256 KiB (a power of two): ~13 000 three-byte messages of headroom
READ_CHUNK = 1 << 16          # bytes the reader takes out of the ring at a time
MAX_EVENT_BYTES = 8192        # a longer event (a sysex dump) is dropped and counted
MIDI_TYPE = b"8 bit raw midi"
CLOSE_WAIT_S = 0.5            # how long closing a port waits for JACK's thread to let go of it
# rtmidi's ignore_types(timing=True, active_sense=True), kept for the same behaviour on both APIs:
# MIDI time code quarter frames, clock and active sensing are not control input.
IGNORED_STATUS = frozenset((0xF1, 0xF8, 0xFE))


def load_native_callbacks() -> bool:
    """Load (from numba's cache, or compile) the real-time callbacks now: the app does it with its
    other numba kernels, before the sound starts, so opening a MIDI port later never holds the GIL
    for a compile. False if libjack is missing (opening a port will say so)."""
    try:
        from . import jack_rt
    except (ImportError, OSError):
        return False
    jack_rt.warm_up()
    return True


def import_jack():
    """The ``jack`` module (JACK-Client), or a DeviceError that says what is missing."""
    try:
        import jack
    except ImportError:
        raise DeviceError("JACK MIDI needs the JACK-Client package (pip install JACK-Client)") from None
    except OSError as exc:  # JACK-Client raises this when there is no libjack
        raise DeviceError(f"cannot load libjack: {exc} (Debian: apt-get install jackd2)") from None
    return jack


def open_client(name: str):
    """A JACK client (not activated), or a DeviceError naming the cause: the libraries' complaints
    on fd 2 are captured (``semeq_live.quiet``) and said in a few words."""
    jack = import_jack()
    try:
        with native_stderr_captured() as noise:
            return jack.Client(name, no_start_server=True)
    except jack.JackError as exc:
        why = "; ".join(noise.causes) or f"{exc} (is the JACK server running?)"
        raise DeviceError(f"cannot open the JACK MIDI system: {why}") from None


def list_ports(client_name: str) -> tuple[list[str], list[str]]:
    """(sources, destinations): other clients' JACK MIDI output and input ports."""
    client = open_client(f"{client_name} list")
    try:
        sources = [p.name for p in client.get_ports(is_midi=True, is_output=True)]
        destinations = [p.name for p in client.get_ports(is_midi=True, is_input=True)]
    finally:
        client.close()
    return ([n for n in sources if not n.startswith(client_name)],
            [n for n in destinations if not n.startswith(client_name)])


def _address(cdata) -> int:
    import jack

    return int(jack._ffi.cast("uintptr_t", cdata))


def _mlock(array: np.ndarray) -> None:
    """Keep ``array`` in RAM (JACK's thread must not wait for a page); needs the right to lock."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mlock.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.mlock(array.ctypes.data, array.nbytes)


def _libjack():
    from . import jack_rt

    lib = ctypes.CDLL(jack_rt.LIBJACK)  # the library JACK-Client loaded: the same mapping
    lib.jack_set_process_callback.argtypes = [ctypes.c_void_p] * 3
    lib.jack_set_process_callback.restype = ctypes.c_int
    lib.jack_on_info_shutdown.argtypes = [ctypes.c_void_p] * 3
    lib.jack_on_info_shutdown.restype = None
    lib.jack_port_type_get_buffer_size.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.jack_port_type_get_buffer_size.restype = ctypes.c_size_t
    return lib


class JackInputs:
    """The JACK side of ``MidiInput``: ``sources()``, ``open_port(name)``, ``close_port(name)``,
    ``dead`` (the server dropped the client), ``counters()`` and ``close()``.

    ``deliver(port_name, data: bytes, t: float)`` is called from the reader thread, one event at a
    time; ``t`` is ``time.monotonic()``'s clock at the JACK cycle that read the event.
    """

    library = "JACK-Client"

    def __init__(self, client_name: str, deliver, activate: bool = True):
        from . import jack_rt

        self._rt = jack_rt
        self.deliver = deliver
        self.client_name = client_name
        self.client = open_client(client_name)
        self._block = jack_rt.new_block()
        self._ring = np.zeros(RING_BYTES, dtype=np.uint8)  # touched now: no page faults later
        self._chunk = np.empty(READ_CHUNK, dtype=np.uint8)
        _mlock(self._ring)  # nor swapped out (fine to fail: not privileged)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._ports: dict[str, tuple[int, object]] = {}   # source name -> (slot, our port)
        self._names: dict[int, str] = {}                  # serial -> source name, for the reader
        self._serial = 0
        self._port_number = 0
        self._closing = False
        self._reported = dict.fromkeys(jack_rt.COUNTERS, 0)
        try:
            self._start(activate)
        except Exception as exc:
            self.client.close()
            os.close(self._wake_r)
            os.close(self._wake_w)
            raise DeviceError(f"cannot start the JACK MIDI input: {exc}") from None
        self._reader = threading.Thread(target=self._read, name="semeq-midi-in", daemon=True)
        self._reader.start()

    def _start(self, activate: bool) -> None:
        """Hand JACK the native callbacks and their block, and activate the client."""
        rt, b, lib = self._rt, self._block, _libjack()
        client_ptr = _address(self.client._ptr)
        b[rt.RING] = self._ring.ctypes.data
        b[rt.RING_MASK] = self._ring.size - 1
        b[rt.WAKE_FD] = self._wake_w
        b[rt.BUF_BYTES] = lib.jack_port_type_get_buffer_size(client_ptr, MIDI_TYPE)
        b[rt.MAX_EVENT] = MAX_EVENT_BYTES
        arg = int(b[rt.SELF])
        if lib.jack_set_process_callback(client_ptr, rt.process.address, arg) != 0:
            raise RuntimeError("JACK refused the process callback")
        lib.jack_on_info_shutdown(client_ptr, rt.shutdown.address, arg)
        if activate:
            self.client.activate()

    def activate(self) -> None:
        """For ``activate=False``: JACK runs the client (and connects to its ports) from now on."""
        self.client.activate()

    # ---------------------------------------------------------------- ports
    @property
    def dead(self) -> bool:
        return bool(self._rt.read_word(self._block, self._rt.DEAD))

    def sources(self) -> list[str]:
        """Every JACK MIDI output port but our own clients' (they are not controllers)."""
        ports = self.client.get_ports(is_midi=True, is_output=True)
        return [p.name for p in ports if not p.name.startswith(self.client_name)]

    def _free_slot(self) -> int:
        rt, b = self._rt, self._block
        free = [s for s in range(rt.MAX_PORTS) if b[rt.SLOTS + 2 * s] == 0]  # this thread's own
        if not free:
            raise DeviceError(f"at most {rt.MAX_PORTS} MIDI inputs can be open at once")
        return free[0]

    def open_port(self, name: str) -> bool:
        slot = self._free_slot()
        self._port_number += 1
        port = self.client.midi_inports.register(f"in {self._port_number}")
        try:
            self.client.connect(name, port)
        except Exception:
            port.unregister()
            raise
        self._read_from(name, port, slot)
        # JACK puts a new connection into its graph at a later cycle: wait for that, so that once
        # the port is reported connected, what the controller sends arrives (at most ~2 periods).
        self._wait_cycles(2)
        return True

    def listen(self, port_name: str) -> str:
        """An input port of our own named ``port_name``, for other clients to connect to (a
        patchbay, or an app sending LED feedback to a controller); what arrives there is
        delivered with the port's full name, which is returned."""
        slot = self._free_slot()
        port = self.client.midi_inports.register(port_name)
        self._read_from(port.name, port, slot)
        return port.name

    def _read_from(self, name: str, port, slot: int) -> None:
        """JACK's thread reads ``port`` from now on; its events are delivered as ``name``'s."""
        self._serial += 1
        self._names[self._serial] = name
        self._rt.set_slot(self._block, slot, self._serial, _address(port._ptr))  # ordered
        self._ports[name] = (slot, port)

    def close_port(self, name: str) -> None:
        slot, port = self._ports.pop(name)
        rt, b = self._rt, self._block
        rt.set_slot(b, slot, 0, 0)
        self._wait_cycles(2)  # a cycle that read the old pointer has finished with it
        try:
            port.unregister()
        except Exception as exc:  # a dead server: the port is gone with it
            log.debug("unregistering %s: %s", port, exc)

    def _wait_cycles(self, n: int) -> None:
        rt, b = self._rt, self._block
        target = rt.read_word(b, rt.CYCLES) + n
        deadline = time.monotonic() + CLOSE_WAIT_S
        while rt.read_word(b, rt.CYCLES) < target and not self.dead and time.monotonic() < deadline:
            time.sleep(0.001)

    def counters(self) -> dict[str, int]:
        """What JACK's thread counted since the last call: events dropped and why."""
        out = {}
        for key, index in self._rt.COUNTERS.items():
            now = int(self._block[index])
            out[key], self._reported[key] = now - self._reported[key], now
        return out

    def close(self) -> None:
        """Deactivate first (no process callback runs after that), then free everything."""
        if self.client is None:
            return
        try:
            self.client.deactivate()
        except Exception as exc:  # noqa: BLE001 (a dead server)
            log.debug("deactivating the JACK MIDI client: %s", exc)
        self._ports.clear()
        self._closing = True
        try:
            os.write(self._wake_w, b"\0")  # the reader delivers what is left and ends
        except BlockingIOError:  # a full pipe: the reader is awake already
            pass
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=2.0)
        self.client.close()
        self.client = None
        os.close(self._wake_w)
        if not self._reader.is_alive():
            os.close(self._wake_r)

    # ---------------------------------------------------------------- the reader thread
    def _read(self) -> None:
        rt = self._rt
        pending = b""
        while True:
            try:
                os.read(self._wake_r, 4096)  # blocks until JACK's thread wrote something
            except OSError:
                return
            while n := rt.take(self._block, self._ring, self._chunk):
                pending += self._chunk[:n].tobytes()
            at = 0
            while len(pending) - at >= rt.RECORD_HEADER:
                serial, size, t_ns = rt.unpack_header(pending[at:at + rt.RECORD_HEADER])
                end = at + rt.RECORD_HEADER + size
                if end > len(pending):
                    break  # the rest of this event is not in the ring yet
                data = pending[at + rt.RECORD_HEADER:end]
                at = end
                if data[0] in IGNORED_STATUS:
                    continue
                self.deliver(self._names.get(serial, "?"), data, t_ns * 1e-9)
            pending = pending[at:]
            if self._closing:
                return
