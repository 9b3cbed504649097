"""Command-line options shared by every command that opens MIDI ports."""

from __future__ import annotations

import os

from .ports import APIS

# ALSA is the native Linux MIDI system; JACK when the rig runs a JACK server (and in the tests).
DEFAULT_API = os.environ.get("SEMEQ_MIDI_API", "alsa")


def add_midi_port_arguments(parser, ports_help: str | None = None) -> None:
    parser.add_argument(
        "--midi-port", action="append", default=[], metavar="NAME",
        help=ports_help or "MIDI input port name substring, case-insensitive (repeat for several "
                           "controllers). Ports that appear later are connected automatically.")
    parser.add_argument(
        "--midi-api", choices=APIS, default=DEFAULT_API if DEFAULT_API in APIS else "alsa",
        help="MIDI system: alsa or jack (default: %(default)s; env SEMEQ_MIDI_API)")
