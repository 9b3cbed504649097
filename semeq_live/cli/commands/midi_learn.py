"""``semeq-live midi-learn -o FILE``: build a mapping by moving each control when asked."""

from __future__ import annotations

NAME = "midi-learn"
HELP = "write a mapping file by moving each control when asked"
ORDER = 64


def add_arguments(p) -> None:
    from ...midi.cli_args import add_midi_port_arguments

    p.add_argument("-o", "--output", required=True, metavar="FILE", help="mapping file to write")
    add_midi_port_arguments(p, "controller port name substring (repeatable; default: every port)")
    p.add_argument("--name", default=None, help="controller name written into the file")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="seconds to wait for each control; no move = the function is skipped")
    p.add_argument("--settle", type=float, default=0.4,
                   help="a control is done after this many seconds without messages")


def run(args) -> int:
    import sys
    import threading
    from pathlib import Path

    from ...errors import CLIError
    from ...midi.learn import DEFAULT_STEPS, SKIP, MappingLearner, write_learned_mapping
    from ...midi.ports import MidiInput, device_name

    out = Path(args.output)
    if out.parent and not out.parent.exists():
        raise CLIError(f"{out.parent}: folder does not exist")
    midi = MidiInput(args.midi_port or [""], api=args.midi_api)
    try:
        print(f"listening on: {', '.join(midi.connected) or '(nothing yet)'}", flush=True)
        interactive = sys.stdin is not None and sys.stdin.isatty()
        if interactive:  # Enter skips a function: the line becomes a SKIP in the message queue
            def read_keys():
                for _line in sys.stdin:
                    midi.queue.put(SKIP)

            threading.Thread(target=read_keys, name="semeq-learn-keys", daemon=True).start()
        print(f"{len(DEFAULT_STEPS)} functions; for each, move or press ONE control. "
              + ("Enter skips one, " if interactive else "")
              + f"{args.timeout:g} s without a move skips it too; Ctrl-C aborts.", flush=True)
        learner = MappingLearner(settle=args.settle)

        def prompt(i, step):
            print(f"[{i + 1}/{len(DEFAULT_STEPS)}] {step.name}: {step.prompt} ...", flush=True)

        def result(i, step, learned):
            print(f"    -> {learned.description}" if learned else "    -> skipped", flush=True)

        def notice(text):
            print(f"    ({text})", flush=True)

        learned = learner.learn(midi.receive, prompt, result, notice, step_timeout=args.timeout)
        port = device_name(midi.connected[0]) if midi.connected else None
        name = args.name or (port or "learned controller")
    finally:
        midi.close()
    path = write_learned_mapping(out, learned, name, port)
    print(f"wrote {path} ({len(learned)} of {len(DEFAULT_STEPS)} functions); "
          f"check it with: semeq-live check-mapping {path}")
    return 0
