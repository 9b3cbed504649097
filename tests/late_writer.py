"""A JACK MIDI sender that floods and runs late: the fault that crashed python-rtmidi's JACK input.

Run as a process (``python -m tests.late_writer CLIENT PORT SECONDS``): a JACK-Client with one MIDI
output whose process callback writes ``--per-cycle`` control changes every period and, on a
``--late`` fraction of the periods, then keeps busy for 1-1.5 periods. With jack2 a reader
connected to a single sender reads the sender's own buffer; when the sender finishes a period
late, it starts its next period (clearing and refilling that buffer) while the reader is still
reading it. ``jack_midi_event_get`` then fails (the index is past the new event count) or returns
an event of the new period. RtMidi's JACK input ignored the failure and copied a stale event:
against this sender it died of SIGSEGV within seconds (3 of 3 tries, 3.5-16 s).

Prints ``{"cycles": ..., "late": ..., "written": ...}`` on stdout at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import threading
import time


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("client")
    p.add_argument("port")
    p.add_argument("seconds", type=float)
    p.add_argument("--per-cycle", type=int, default=100, help="events written every period")
    p.add_argument("--late", type=float, default=0.3, help="fraction of periods that run late")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)

    import jack

    # Never outlive the run, even when no thread can run Python any more (see the end): the
    # kernel ends the process at the alarm.
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(int(args.seconds) + 20)
    client = jack.Client(args.client, no_start_server=True)
    out = client.midi_outports.register(args.port)
    rng = random.Random(args.seed)
    period_s = client.blocksize / client.samplerate
    counts = {"cycles": 0, "late": 0, "written": 0}

    def process(frames):
        out.clear_buffer()
        for i in range(args.per_cycle):
            out.write_midi_event(i * frames // args.per_cycle,
                                 (0xB0 | (i % 15), i % 120, rng.randrange(128)))
        counts["written"] += args.per_cycle
        if rng.random() < args.late:  # finish this period late: the next one starts at once
            counts["late"] += 1
            until = time.perf_counter() + period_s * rng.uniform(1.0, 1.5)
            while time.perf_counter() < until:
                pass
        counts["cycles"] += 1

    client.set_process_callback(process)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    client.activate()
    stop.wait(args.seconds)
    print(json.dumps(counts), flush=True)
    # No deactivate(): libjack stops its thread with pthread_cancel, and a thread cancelled in the
    # middle of this Python callback leaves the GIL held for ever (seen: the process hung). The
    # server drops the client when the process ends.
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
