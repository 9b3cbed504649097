"""MIDI ports: inputs chosen by name substring, reconnecting when a controller comes back.

The raw bytes of every event pass through ``decode_packet``: malformed input is counted and
dropped instead of vanishing silently. Messages are delivered as mido messages, one callback at a
time (a lock serialises the reader threads), or queued for the control thread when no callback
is given. JACK MIDI input is read through JACK-Client with a native process callback
(``jack_input``, ``jack_rt``); ALSA input and all MIDI output (LED feedback: ``feedback``) through
python-rtmidi.

A poll thread re-lists the ports every ``poll_interval`` seconds: a port that disappeared is
closed and logged, a matching port that (re)appeared is opened and logged. Nothing raises into
the show when a cable is pulled. (A controller unplugged and replugged within one poll interval
keeps the same name under JACK and can go unnoticed: keep the interval around a second.)

Port patterns are case-insensitive substrings; an empty pattern ``""`` matches every port and
an empty list matches none.

Opening clients and listing ports runs with the C libraries' stderr captured
(``semeq_live.quiet``): without a JACK server or an ALSA sequencer, libjack and libasound print
several lines per attempt (and the app retries every few seconds), which become one cause of ours
in the error instead.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections import Counter

import mido

from ..errors import DeviceError
from ..quiet import native_stderr_captured

log = logging.getLogger("semeq_live.midi")

APIS = ("alsa", "jack")
DEFAULT_CLIENT = "semeq-live"


def _rtmidi_api(api: str) -> int:
    import rtmidi

    table = {"alsa": rtmidi.API_LINUX_ALSA, "jack": rtmidi.API_UNIX_JACK}
    if api not in table:
        raise DeviceError(f"unknown MIDI API {api!r} (use one of: {', '.join(APIS)})")
    if table[api] not in rtmidi.get_compiled_api():
        raise DeviceError(f"this python-rtmidi was built without {api.upper()} MIDI support")
    return table[api]


def _open_client(kind: str, api: str, client_name: str):
    """An rtmidi MidiIn/MidiOut client, or a DeviceError that says what to check."""
    import rtmidi

    cls = rtmidi.MidiIn if kind == "in" else rtmidi.MidiOut
    api_id = _rtmidi_api(api)
    try:
        with native_stderr_captured() as noise:
            return cls(api_id, client_name)
    except (SystemError, RuntimeError, rtmidi.RtMidiError) as exc:
        if noise.causes:  # the libraries said why, in words of ours
            why = "; ".join(noise.causes)
            if api == "alsa":
                why += " (try --midi-api jack)"
        else:
            why = str(exc) + (" (is the JACK server running?)" if api == "jack" else
                              " (is the ALSA sequencer available (/dev/snd/seq)? try --midi-api jack)")
        raise DeviceError(f"cannot open the {api.upper()} MIDI system: {why}") from None


def _ports_of(client, api: str) -> list[str]:
    """``client.get_ports()`` without the libraries' noise; a DeviceError if the MIDI system is not
    there (RtMidi's JACK client only connects when asked for ports, and then quietly finds none)."""
    with native_stderr_captured() as noise:
        names = client.get_ports()
    if not names and noise.causes:
        raise DeviceError(f"cannot list {api.upper()} MIDI ports: {'; '.join(noise.causes)}")
    return names


def probe_ports(api: str, client_name: str = DEFAULT_CLIENT) -> dict:
    """``{"inputs", "outputs", "unavailable"}`` for ``api``: the port names, or empty lists and
    the reason the MIDI system could not be asked (for ``semeq-live devices``)."""
    out: dict = {"inputs": [], "outputs": [], "unavailable": None}
    if api == "jack":
        from .jack_input import list_ports

        try:
            out["inputs"], out["outputs"] = list_ports(client_name)
        except DeviceError as exc:
            out["unavailable"] = _reason(str(exc))
        return out
    try:
        import rtmidi  # noqa: F401
    except ImportError:
        out["unavailable"] = "python-rtmidi is not installed"
        return out
    for key, kind in (("inputs", "in"), ("outputs", "out")):
        try:
            out[key] = _list_ports(kind, api, client_name)
        except DeviceError as exc:
            out["unavailable"] = _reason(str(exc))
            break
    return out


def _reason(message: str) -> str:
    """The cause in a DeviceError from ``_open_client``/``_ports_of``, without the framing."""
    m = re.match(r"cannot (?:open the \w+ MIDI system|list \w+ MIDI ports): (.*?)"
                 r"(?: \((?:is the|try) .*)?$", message)
    return m.group(1) if m else message


def decode_packet(data) -> mido.Message | None:
    """One complete MIDI message from raw bytes, or None if the bytes are not a valid message."""
    try:
        return mido.Message.from_bytes(list(data))
    except Exception:
        return None


def matches(name: str, patterns) -> bool:
    """True when any pattern is a case-insensitive substring of ``name`` ('' matches every port)."""
    low = name.lower()
    return any(p.lower() in low for p in patterns)


def device_name(port_name: str) -> str:
    """The stable part of a port name, usable as a ``--midi-port`` pattern after a replug.

    JACK: ``client:port`` (a second client of the same name becomes ``client-01``); ALSA:
    ``client:port client:port-number`` whose numbers change between plug-ins.
    """
    client = port_name.split(":", 1)[0].strip()
    return re.sub(r"-\d\d$", "", client) or port_name


def _list_ports(kind: str, api: str, client_name: str) -> list[str]:
    """Port names of ``kind`` ("in": ports to read from, "out": ports to send to), without
    semeq-live's own ports."""
    if api == "jack":
        from .jack_input import list_ports

        return list_ports(client_name)[0 if kind == "in" else 1]
    client = _open_client(kind, api, f"{client_name} list")
    try:
        return [n for n in _ports_of(client, api) if not n.startswith(client_name)]
    finally:
        client.delete()


def list_input_ports(api: str = "jack", client_name: str = DEFAULT_CLIENT) -> list[str]:
    """Ports semeq-live can read from (a controller's output), listed by the library that reads
    them: JACK-Client for JACK, python-rtmidi for ALSA. A DeviceError if the system is not there."""
    return _list_ports("in", api, client_name)


def list_output_ports(api: str = "jack", client_name: str = DEFAULT_CLIENT) -> list[str]:
    """Ports semeq-live can send to (LED feedback), listed like ``list_input_ports``."""
    return _list_ports("out", api, client_name)


class _RtMidiInputs:
    """The python-rtmidi side of ``MidiInput`` (ALSA): a scanner client and one client per port.

    RtMidi's callback is ``SimpleQueue.put``, a C function that only appends, so no Python runs
    in the MIDI system's thread; one reader thread per port blocks on its queue and hands each
    event to ``deliver(port_name, data, t)``. Same interface as ``jack_input.JackInputs``.
    """

    library = "python-rtmidi"
    dead = False  # ALSA's sequencer does not go away under us the way a JACK server can

    def __init__(self, api: str, client_name: str, deliver, stats: Counter):
        self.api = api
        self.client_name = client_name
        self.deliver = deliver
        self.stats = stats
        self._scanner = _open_client("in", api, f"{client_name} scan")
        self._ports: dict[str, tuple] = {}

    def sources(self) -> list[str]:
        return [n for n in self._scanner.get_ports() if not n.startswith(self.client_name)]

    def open_port(self, name: str) -> bool:
        client = _open_client("in", self.api, self.client_name)
        ports = client.get_ports()
        if name not in ports:
            client.delete()
            return False
        try:
            client.ignore_types(sysex=False, timing=True, active_sense=True)
            client.set_error_callback(self._on_error, name)
            client.open_port(ports.index(name), f"in {len(self._ports) + 1}")
            raw: queue.SimpleQueue = queue.SimpleQueue()
            # rtmidi calls callback(event, data); SimpleQueue.put(item, block) takes exactly that.
            client.set_callback(raw.put)
        except Exception:
            client.delete()
            raise
        reader = threading.Thread(target=self._read_port, args=(name, raw), daemon=True,
                                  name="semeq-midi-in")
        reader.start()
        self._ports[name] = (client, raw, reader)
        return True

    def close_port(self, name: str) -> None:
        client, raw, reader = self._ports.pop(name)
        try:
            client.cancel_callback()
            client.close_port()
            client.delete()
        except Exception as exc:  # closing a dead port must not stop the rest
            log.debug("closing MIDI input %s: %s", name, exc)
        raw.put(None)  # wakes the reader, which delivers what is left and stops
        if threading.current_thread() is not reader:
            reader.join(timeout=2.0)

    def counters(self) -> dict[str, int]:
        return {}

    def close(self) -> None:
        for name in list(self._ports):
            self.close_port(name)
        if self._scanner is not None:
            self._scanner.delete()
            self._scanner = None

    def _on_error(self, error_type, message, port_name) -> None:
        self.stats["driver_errors"] += 1
        log.warning("MIDI driver error on %s: %s", port_name, message)

    def _read_port(self, port_name: str, raw: queue.SimpleQueue) -> None:
        while True:
            event = raw.get()
            if event is None:
                return
            t = time.monotonic()
            try:
                data = event[0]
            except Exception:  # noqa: BLE001
                data = None
            self.deliver(port_name, data, t)


def _open_backend(api: str, client_name: str, deliver, stats: Counter):
    """JACK input on JACK-Client (``jack_input``); ALSA on python-rtmidi."""
    if api == "jack":
        from .jack_input import JackInputs

        return JackInputs(client_name, deliver)
    return _RtMidiInputs(api, client_name, deliver, stats)


class MidiInput:
    """Every MIDI input port whose name contains one of ``port_patterns``, kept connected.

    ``on_connect(port_name)`` runs (in the poll thread) after every (re)connection: pass the
    controller's ``forget_positions`` so faders moved while unplugged pick up instead of jumping.

    ``on_message(port_name, msg, t)`` (t = ``time.monotonic()``'s clock when the event was taken
    from the port) is called from a reader thread of this object, never concurrently. Without a
    callback, ``(port_name, msg, t)`` tuples are queued: read them with ``receive(timeout)`` or
    ``drain()``.

    No Python code runs in the MIDI system's own thread, and readers block (no polling, so an idle
    controller costs nothing). With ``api="jack"`` the ports are read through JACK-Client with a
    native process callback (``jack_input``): python-rtmidi's JACK input crashed under MIDI floods.
    If the JACK server goes away, its ports count as disconnected and a new client is opened when
    the server is back. ALSA ports are read through python-rtmidi (``_RtMidiInputs``).
    """

    def __init__(self, port_patterns, api: str = "jack", on_message=None,
                 poll_interval: float = 1.0, client_name: str = DEFAULT_CLIENT, on_connect=None):
        if api not in APIS:
            raise DeviceError(f"unknown MIDI API {api!r} (use one of: {', '.join(APIS)})")
        self.patterns = [str(p) for p in (port_patterns or [])]
        self.api = api
        self.on_message = on_message
        self.on_connect = on_connect  # (port_name) from the poll thread, e.g. forget_positions
        self.poll_interval = float(poll_interval)
        self.client_name = client_name
        self.stats: Counter = Counter()
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self._ports: set[str] = set()
        self._deliver_lock = threading.Lock()
        self._scan_lock = threading.Lock()
        self._stop = threading.Event()
        self._backend = _open_backend(api, client_name, self._deliver, self.stats)
        self._backend_lost_logged = False
        self._saw_ports = False  # while nothing is seen, scans run quietly (see scan)
        self.scan()
        if not self._ports:
            log.warning("no MIDI input matches %s yet; waiting for it to appear",
                        ", ".join(repr(p) for p in self.patterns) or "(no ports asked for)")
        self._thread = threading.Thread(target=self._poll, name="semeq-midi-poll", daemon=True)
        self._thread.start()

    # ---------------------------------------------------------------- public
    @property
    def connected(self) -> list[str]:
        with self._scan_lock:
            return sorted(self._ports)

    def receive(self, timeout: float | None = None):
        """The next queued ``(port_name, msg, t)``, or None after ``timeout`` seconds."""
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self) -> list:
        out = []
        while True:
            try:
                out.append(self.queue.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=self.poll_interval + 5.0)
        with self._scan_lock:
            self._ports.clear()
            if self._backend is not None:
                self._backend.close()
                self._backend = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---------------------------------------------------------------- connection management
    def scan(self) -> None:
        """Open matching ports that appeared, close the ones that disappeared (and log both)."""
        with self._scan_lock:
            if self._stop.is_set():
                return
            backend = self._live_backend()
            if backend is None:
                return
            self._count_drops(backend)
            try:
                # While no port is seen the MIDI system may be missing (no JACK server): RtMidi
                # then retries, and libjack prints, on every scan. Once ports are seen a scan is
                # an ordinary query, left uncaptured (a crash dump must reach stderr).
                if self._saw_ports:
                    available = backend.sources()
                else:
                    with native_stderr_captured():
                        available = backend.sources()
                self._saw_ports = bool(available)
            except Exception as exc:  # the MIDI system went away (JACK shut down)
                self.stats["scan_errors"] += 1
                log.warning("cannot list MIDI ports: %s", exc)
                return
            for name in sorted(self._ports):
                if name not in available:
                    self._close_port(backend, name)
            for name in available:
                if name not in self._ports and matches(name, self.patterns):
                    if self._open_port(backend, name):
                        self.stats["connects"] += 1
                        # which library reads it: the soak and the tests check JACK's is ours
                        log.info("MIDI input connected: %s (%s via %s)", name, self.api.upper(),
                                 backend.library)
                        if self.on_connect is not None:
                            try:
                                self.on_connect(name)
                            except Exception:
                                log.exception("MIDI connect handler failed")

    def _live_backend(self):
        """The backend, after replacing one whose JACK server went away (None while it is gone)."""
        backend = self._backend
        if backend is not None and backend.dead:
            log.warning("the JACK server closed the MIDI input; reconnecting when it is back")
            self._count_drops(backend)
            for name in sorted(self._ports):
                self._close_port(backend, name)
            backend.close()
            self._backend = backend = None
        if backend is None:
            try:  # quietly: opening a client captures the libraries' complaints
                backend = _open_backend(self.api, self.client_name, self._deliver, self.stats)
            except DeviceError as exc:
                if not self._backend_lost_logged:
                    self._backend_lost_logged = True
                    log.warning("MIDI input waiting for the MIDI system: %s", exc)
                return None
            self._backend, self._backend_lost_logged = backend, False
            log.info("MIDI system back: %s", self.api.upper())
        return backend

    def _open_port(self, backend, name: str) -> bool:
        try:
            if not backend.open_port(name):
                return False
        except Exception as exc:
            self.stats["open_errors"] += 1
            log.warning("cannot open MIDI input %s: %s", name, exc)
            return False
        self._ports.add(name)
        return True

    def _close_port(self, backend, name: str) -> None:
        self._ports.discard(name)
        try:
            backend.close_port(name)
        except Exception as exc:  # closing a dead port must not stop the rest
            log.debug("closing MIDI input %s: %s", name, exc)
        self.stats["disconnects"] += 1
        log.warning("MIDI input disconnected: %s (will reconnect when it returns)", name)

    def _count_drops(self, backend) -> None:
        """Events JACK's thread dropped since the last scan, in ``stats`` and (if any) the log;
        ``stats["jack_events"]``: those it handed to the reader."""
        counts = backend.counters()
        self.stats["jack_events"] += counts.get("events", 0)
        drops = {k: v for k, v in counts.items() if v and k not in ("cycles", "events")}
        for key, n in drops.items():
            self.stats[f"jack_{key}"] += n
        if drops:
            log.warning("MIDI input dropped events: %s",
                        ", ".join(f"{n} {_DROP_REASONS[k]}" for k, n in sorted(drops.items())))

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_interval):
            try:
                self.scan()
            except Exception:
                self.stats["scan_errors"] += 1
                log.exception("MIDI port scan failed")

    # ---------------------------------------------------------------- event delivery
    def _deliver(self, port_name: str, data, t: float) -> None:
        msg = decode_packet(data) if data is not None else None
        if msg is None:
            self.stats["malformed"] += 1
            return
        self.stats["received"] += 1
        with self._deliver_lock:
            if self.on_message is None:
                self.queue.put((port_name, msg, t))
                return
            try:
                self.on_message(port_name, msg, t)
            except Exception:
                self.stats["callback_errors"] += 1
                log.exception("MIDI message handler failed on %s", msg)


_DROP_REASONS = {
    "overflow": "while the reader was behind (ring full)",
    "oversized": "empty or longer than the limit",
    "torn": "from a JACK buffer rewritten while read (a late sender)",
    "get_errors": "that JACK refused to read (a late sender)",
    "lost": "that the sender's JACK buffer had no room for",
}
