"""LED / motor-fader feedback to a controller's MIDI input, kept connected through a show."""

from __future__ import annotations

import logging
import time
from collections import Counter

from ..errors import DeviceError
from .ports import DEFAULT_CLIENT, _open_client, _ports_of, matches

log = logging.getLogger("semeq_live.midi")


class FeedbackOutput:
    """LED / motor-fader feedback to the first output port matching ``pattern``.

    ``send(messages)`` is given the whole picture (every feedback message for the current state)
    and only transmits values that changed since the last send (LEDs don't need a refresh 50
    times a second). It reopens the port if the controller was replugged or appeared only after
    the start; after every (re)connection the whole picture goes out, so a controller plugged in
    mid-show shows the right lights. Call it now and then even when nothing changed (the live
    control loop does, about four times a second): that is when a late controller is found.

    JACK: a port counts as connected only once JACK's running graph shows the connection
    (``jack_links``: RtMidi does not check that JACK made it, and JACK refuses it while the
    controller's client is not yet active); nothing is sent before that (it would be lost), the
    whole picture goes out when it shows. If it does not show within ``link_timeout_s``, the port
    is closed and opened again. A connection that goes away (the server restarted, someone
    disconnected it, the controller was replugged within a check) is found by the once-a-second
    check and made again.

    The whole picture is sent once more ``confirm_s`` after the connection showed: a reader that
    finishes that cycle late (a loaded machine) can miss what was sent in it. LED and fader
    values are absolute, so the repeat is harmless. ``confirm_s=None`` leaves it out.
    """

    def __init__(self, pattern: str, api: str = "jack", client_name: str = DEFAULT_CLIENT,
                 retry_interval: float = 1.0, confirm_s: float | None = 0.5,
                 link_timeout_s: float = 5.0):
        self.pattern = pattern
        self.api = api
        self.client_name = client_name
        self.retry_interval = retry_interval
        self.confirm_s = confirm_s
        self.link_timeout_s = link_timeout_s
        self.stats: Counter = Counter()
        self._client = None  # the MIDI output client (python-rtmidi), kept while the server lives
        self._watch = None  # JACK: a jack_links.LinkWatch, kept likewise
        self._port_name: str | None = None
        self._linked = False
        self._link_deadline = 0.0
        self._last: dict[tuple, int] = {}
        self._next_try = 0.0
        self._next_check = 0.0
        self._confirm_at: float | None = None  # when the picture is sent once more (see above)
        self._unavailable_logged = False  # said once per outage, not at every retry
        self._connect()

    @property
    def port_name(self) -> str | None:
        return self._port_name

    @property
    def linked(self) -> bool:
        """True once the connection carries messages (JACK: shows in the running graph)."""
        return self._port_name is not None and self._linked

    @property
    def _own_client(self) -> str:
        return f"{self.client_name} leds"

    def _open_clients(self) -> bool:
        """The MIDI client (and, for JACK, the link watch), opened once and kept while the server
        lives: closing a JACK client can hang or crash the process when one of its threads is
        busy with a notification at that moment (jack2 cancels it mid-way: jack2 issue 395), so
        a replug opens and closes a port, not a client."""
        if self._watch is not None and self._watch.server_gone:
            self._close_clients()  # their threads ended with the server
        if self._client is not None:
            return True
        try:
            self._client = _open_client("out", self.api, self._own_client)
            if self.api == "jack":
                from .jack_links import LinkWatch

                self._watch = LinkWatch(f"{self.client_name} leds check")
        except DeviceError as exc:
            self._close_clients()
            if not self._unavailable_logged:
                self._unavailable_logged = True
                log.warning("LED feedback unavailable: %s", exc)
            return False
        self._unavailable_logged = False
        return True

    def _close_clients(self) -> None:
        self._close_port()
        if self._client is not None:
            try:
                self._client.delete()
            except Exception:  # noqa: BLE001 - a dead server: nothing left to free there
                pass
        if self._watch is not None:
            self._watch.close()
        self._client, self._watch = None, None

    def _connect(self) -> None:
        self._next_try = time.monotonic() + self.retry_interval
        if not self._open_clients():
            return
        try:
            found = _ports_of(self._client, self.api)
        except DeviceError:
            found = []
        names = [n for n in found
                 if not n.startswith(self.client_name) and matches(n, [self.pattern])]
        if not names:
            return
        try:
            self._client.open_port(found.index(names[0]), "leds")
        except Exception as exc:
            self._close_port()
            log.warning("cannot open LED output %s: %s", names[0], exc)
            return
        self._port_name = names[0]
        self._linked = False
        self._link_deadline = time.monotonic() + self.link_timeout_s
        self.stats["opens"] += 1
        if self._watch is None:  # ALSA: opening the port subscribed it, or raised
            self._on_linked()

    def _close_port(self) -> None:
        if self._client is not None and self._client.is_port_open():
            try:
                self._client.close_port()
            except Exception:  # noqa: BLE001 - a dead server
                pass
        self._port_name, self._confirm_at, self._linked = None, None, False

    def _on_linked(self) -> None:
        self._linked = True
        self._last.clear()  # a new or replugged controller knows nothing: send everything
        self._next_check = time.monotonic() + self.retry_interval
        self.stats["connects"] += 1
        if self.confirm_s is not None:
            self._confirm_at = time.monotonic() + self.confirm_s
        log.info("MIDI LED feedback connected: %s", self._port_name)

    def _link_state(self) -> bool | None:
        """Whether the connection carries messages now; None: the port (or the server) is gone."""
        if self._watch is not None:
            return self._watch.feeds(self._own_client, self._port_name)
        try:
            return True if self._port_name in self._client.get_ports() else None
        except Exception:
            return None

    def _check_link(self, now: float) -> None:
        """Follow the connection: wait for it to show, and notice when it goes."""
        if not self._linked:
            state = self._link_state()
            if state:
                self._on_linked()
            elif state is None:
                log.warning("MIDI LED output disconnected: %s", self._port_name)
                self._close_port()
            elif now >= self._link_deadline:
                # JACK refused the connection (the controller's client was not active yet) or
                # never took it up: open the port again.
                log.info("MIDI LED output %s: JACK did not make the connection within %.0f s; "
                         "trying again", self._port_name, self.link_timeout_s)
                self.stats["link_retries"] += 1
                self._close_port()
                self._next_try = now
            return
        if now < self._next_check:
            return
        self._next_check = now + self.retry_interval  # listing ports is not free: ~1/s
        state = self._link_state()
        if not state:
            log.warning("MIDI LED output %s: %s", self._port_name,
                        "disconnected" if state is None else "connection lost; connecting again")
            self._close_port()  # opened again at the next send

    def send(self, messages) -> int:
        """Send what changed; returns how many messages went out."""
        now = time.monotonic()
        if self._port_name is not None:
            self._check_link(now)
        if self._port_name is None:
            if now < self._next_try:
                return 0
            self._connect()
            if self._port_name is None:
                return 0
            self._check_link(time.monotonic())
        if not self._linked:
            return 0  # it would be lost; the whole picture goes out when the link shows
        if self._confirm_at is not None and now >= self._confirm_at:
            self._confirm_at = None
            self._last.clear()  # the picture once more
            self.stats["confirmations"] += 1
        sent = 0
        for msg in messages:
            key, value = _feedback_slot(msg)
            if self._last.get(key) == value:
                continue
            try:
                self._client.send_message(msg.bytes())
            except Exception as exc:
                self.stats["send_errors"] += 1
                log.warning("LED feedback send failed: %s", exc)
                return sent
            self._last[key] = value
            sent += 1
        return sent

    def close(self) -> None:
        self._close_clients()


def _feedback_slot(msg) -> tuple[tuple, int]:
    if msg.type == "note_on":
        return ("note", msg.channel, msg.note), msg.velocity
    if msg.type == "control_change":
        return ("cc", msg.channel, msg.control), msg.value
    if msg.type == "pitchwheel":
        return ("pitch", msg.channel), msg.pitch
    return (msg.type,), hash(tuple(msg.bytes()))
