"""``semeq-live midi-monitor``: print incoming MIDI with port and time, for building mappings."""

from __future__ import annotations

NAME = "midi-monitor"
HELP = "print incoming MIDI messages with port and time (to build mappings)"
ORDER = 62


def add_arguments(p) -> None:
    from ...midi.cli_args import add_midi_port_arguments

    add_midi_port_arguments(p, "input port name substring (repeatable; default: every port)")
    p.add_argument("--list", action="store_true", help="list the MIDI ports and exit")
    p.add_argument("--seconds", type=float, default=None,
                   help="stop after this many seconds (default: until Ctrl-C)")
    p.add_argument("--mapping", metavar="FILE",
                   help="also show which control of this mapping each message hits")


def describe(msg) -> str:
    """A musician-readable form: ``CC 7 = 100 ch 1``, ``note 36 on vel 90 ch 10``..."""
    t = msg.type
    ch = f"ch {msg.channel + 1}" if hasattr(msg, "channel") else ""
    if t == "control_change":
        return f"CC {msg.control:<3} = {msg.value:<3} {ch}"
    if t in ("note_on", "note_off"):
        on = t == "note_on" and msg.velocity > 0
        return f"note {msg.note:<3} {'on ' if on else 'off'} vel {msg.velocity:<3} {ch}"
    if t == "program_change":
        return f"program {msg.program} (shown as {msg.program + 1}) {ch}"
    if t == "pitchwheel":
        return f"pitch bend {msg.pitch:+d} {ch}"
    return str(msg.copy(time=0))


def run(args) -> int:
    import threading
    import time

    from ...midi.ports import MidiInput, list_input_ports

    if args.list:
        for name in list_input_ports(args.midi_api):
            print(name)
        return 0
    controller = None
    if args.mapping:
        from ...control.state import ControlState
        from ...midi.controller import MidiController
        from ...midi.mapping import load_mapping, resolve_mapping_path

        mapping = load_mapping(resolve_mapping_path(args.mapping))
        controller = MidiController(mapping, ControlState(), [])

    start = time.monotonic()
    lock = threading.Lock()

    def show(port, msg, t):
        line = f"{t - start:9.3f}  {port:<32.32}  {describe(msg):<34}  " \
               f"[{' '.join(f'{b:02X}' for b in msg.bytes())}]"
        if controller is not None:
            hits = [c.name for c in controller.controls_for(msg)]
            line += f"  -> {', '.join(hits) if hits else '(not mapped)'}"
        with lock:
            print(line, flush=True)

    patterns = args.midi_port or [""]
    midi = MidiInput(patterns, api=args.midi_api, on_message=show)
    print(f"listening on: {', '.join(midi.connected) or '(nothing yet)'}; Ctrl-C to stop",
          flush=True)
    try:
        deadline = None if args.seconds is None else time.monotonic() + args.seconds
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.1 if deadline is None else max(0.0, min(0.1, deadline - time.monotonic())))
    finally:
        midi.close()
        if midi.stats["malformed"]:
            print(f"{midi.stats['malformed']} malformed messages ignored")
    return 0
