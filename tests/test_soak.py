"""The short (CI) soak: ``scripts/soak.py`` for 60 s with the full abuse -- a 1000 messages/s MIDI
flood through a real JACK port, music, silence, DC, full-scale squares and NaN bursts at the input,
a pass-through client beside it for the xrun baseline -- and its report checked point by point.

The long run (>= 10 minutes) is the same script without ``--seconds``; docs/reliability.md has the
figures and the command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .jack_server import JackServer

pytestmark = [pytest.mark.jack, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
SECONDS, RATE = 60, 1000


@pytest.fixture(scope="module")
def soak_report(tmp_path_factory):
    if not JackServer.available():
        pytest.skip("jackd not installed (apt-get install -y jackd2 libportaudio2)")
    work = tmp_path_factory.mktemp("soak")
    out = work / "report.json"
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "soak.py"), "--seconds", str(SECONDS),
                        "--rate", str(RATE), "--json-out", str(out), "--work-dir", str(work / "files")],
                       capture_output=True, text=True, timeout=SECONDS + 240)
    assert out.exists(), f"no report (exit {r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    report = json.loads(out.read_text())
    report["_exit_status"] = r.returncode
    return report


def test_soak_passes_every_criterion(soak_report):
    failed = [name for name, ok in soak_report["criteria"].items() if not ok]
    assert failed == [], json.dumps({k: soak_report[k] for k in ("app", "xruns", "memory", "recording")},
                                    indent=1, default=str)[:4000]
    assert soak_report["passed"] and soak_report["_exit_status"] == 0


def test_soak_ran_long_enough_and_hard_enough(soak_report):
    assert soak_report["run_s"] >= SECONDS - 1
    midi = soak_report["midi"]
    assert midi["rate_per_s"] >= 0.95 * RATE
    kinds = set(midi["by_kind"])
    assert {"cc", "fader throw", "term jump", "scene recall", "program change", "scene store"} <= kinds
    assert {"stray data", "truncated", "sysex garbage", "running status"} <= kinds
    assert soak_report["app"]["state_lines"] > 100  # the flood really moved the controls
    # The recording covers at least one whole loop of the input, abuse included.
    assert soak_report["recording"]["seconds"] >= soak_report["input"]["loop_s"]
    assert soak_report["input"]["nonfinite_samples_per_loop"] > 0


def test_the_flood_is_read_by_the_jack_client_input(soak_report):
    """With ``--midi-api jack`` the app reads MIDI through JACK-Client (midi/jack_input.py), the
    input that replaced python-rtmidi's, which crashed under floods like this one."""
    app_input = soak_report["midi"]["app_input"]
    assert app_input["library"] == "JACK-Client", app_input


def test_nothing_broke(soak_report):
    app = soak_report["app"]
    assert app["exit_status"] == 0
    assert (app["tracebacks"], app["error_events"], app["callback_errors"]) == (0, 0, 0), app
    assert soak_report["network_sockets"] == []
    assert soak_report["memory"]["growth_mb"] < 5.0, soak_report["memory"]


def test_output_stays_finite_and_under_the_ceiling_in_every_segment(soak_report):
    rec = soak_report["recording"]
    ceiling_db = soak_report["settings"]["ceiling_db"]
    assert rec["nonfinite_samples"] == 0 and rec["samples_over_ceiling"] == 0
    assert rec["peak_dbfs"] <= ceiling_db + 1e-3
    # Each segment at its first occurrence after the start-up silence (the app plays silence while
    # it loads); the exact zeros of the silence segment show the recording is aligned with the input.
    segments = {s["segment"]: s for s in soak_report["output_per_input_segment"]}
    assert len(segments) == len({s["segment"] for s in soak_report["input"]["segments"]})
    # The flood throws output gain (-24..+6 dB), bypass and the EQ around, so levels vary; these
    # bounds hold whatever the controls do.
    assert segments["silence"]["out_rms_dbfs"] < -90               # silence in, silence out
    for name in ("square 50 Hz full scale", "square 1 kHz full scale", "dc +1.0"):
        assert segments[name]["out_peak_dbfs"] <= ceiling_db + 1e-3  # the limiter holds
    for name in ("square 50 Hz full scale", "square 1 kHz full scale"):
        assert segments[name]["out_rms_dbfs"] > -80                   # ... and it still plays
    for name in ("dc +1.0", "dc -0.5"):  # DC never reaches the PA (the subsonic protection)
        assert segments[name]["out_rms_dbfs"] < -60
    assert segments["music"]["out_rms_dbfs"] > -80                    # music after the NaN bursts


def test_xruns_compared_with_a_pass_through_client(soak_report):
    x = soak_report["xruns"]
    assert x["passthrough_callbacks"] > SECONDS * 48000 / 128 * 0.5  # the baseline really ran
    assert x["app"] <= x["limit"], x


def test_dc_never_reaches_the_output(soak_report):
    dc = soak_report["dc"]
    assert dc["occurrences"] >= 2  # both DC segments, judged after their first second
    assert dc["worst_dbfs"] < -60, dc


def test_the_log_stays_something_a_journal_keeps(soak_report):
    log = soak_report["log"]
    assert 0 < log["max_state_lines_in_1s"] <= 10, log
    assert log["state_lines_per_s"] <= 10
    # Coalesced, not dropped: the state lines sum up many more changes than there are lines.
    assert log["state_changes_in_lines"] > 5 * log["state_lines"], log


def test_memory_is_reported_idle_and_under_the_flood(soak_report):
    mem = soak_report["memory"]
    for phase in ("idle", "under_load"):
        m = mem[phase]
        assert 0 < m["uss_mb"] <= m["pss_mb"] <= m["rss_mb"], m
        assert "jack shared memory" in m["by_mapping"] and "anonymous" in m["by_mapping"]
    # Under the flood the app holds no more than a little beyond what it held idle.
    assert mem["under_load"]["uss_mb"] - mem["idle"]["uss_mb"] < 20, mem


def test_the_soak_runs_jack_as_the_stage_unit_does(soak_report):
    """The soak's server has the port limit of deploy/jackd.service, so its memory figures are the
    stage's (jackd's shared memory, mapped by every client, grows with that limit)."""
    import configparser
    import shlex

    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(REPO / "deploy" / "jackd.service")
    argv = shlex.split(unit["Service"]["ExecStart"])
    stage_port_max = int(argv[argv.index("--port-max") + 1])
    assert soak_report["memory"]["jack_port_max"] == stage_port_max
