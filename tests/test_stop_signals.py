"""A stop signal is never lost in a deadlock with the main thread (semeq_live/stop_signals.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# The main thread holds the stop Event's lock, as it does for a moment at the start and the end of
# every stop_event.wait() (the app's main loop waits on it all the time), and a SIGTERM arrives:
# Python runs the handler right there. A handler that sets the Event itself waits for that lock
# for ever (the app then ignored SIGTERM until killed).
STOP_WHILE_THE_LOCK_IS_HELD = """
import os, signal, threading, time
from semeq_live.stop_signals import StopSignals

stop = threading.Event()
reasons = []

def request_stop(name):
    reasons.append(name)
    stop.set()

StopSignals(request_stop).install([signal.SIGTERM])
with stop._cond:  # the Event's lock, held by the main thread
    os.kill(os.getpid(), signal.SIGTERM)  # handled here, while the lock is held
    time.sleep(0.2)
    assert not stop.is_set()  # the request waits for the lock, in another thread
print(stop.wait(10), reasons)
"""


def test_a_stop_signal_while_the_main_thread_holds_the_stop_lock_still_stops():
    r = subprocess.run([sys.executable, "-c", STOP_WHILE_THE_LOCK_IS_HELD], cwd=str(REPO),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "True ['SIGTERM']"
