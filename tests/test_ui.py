"""The status panel, the EQ curve plot, the headless log and keyboard input (through a real pty)."""

from __future__ import annotations

import io
import math
import os
import time

import numpy as np
import pytest
from rich.console import Console

from semeq_live.audio.metrics import CallbackMetrics
from semeq_live.control.state import ControlState
from semeq_live.params import FLAT_PARAMS
from semeq_live.ui.curve import (CURVE_POINTS, applied_curve_db, curve_lines, frequency_axis,
                                 plot_grid)
from semeq_live.ui.headless import HeadlessLog, format_line, parse_line
from semeq_live.ui.keyboard import KEYMAP, KeyboardReader, key_command
from semeq_live.ui.panel import MAX_REDRAWS_PER_S, PanelThread, render_status

SR = 48000


def bright_params():
    p = FLAT_PARAMS.copy()
    p[11], p[12] = 9.0, 6000.0  # high shelf +9 dB
    p[2], p[3] = -4.0, 250.0  # a cut low in the mids
    return p


# ---------------------------------------------------------------------------- curve
def test_flat_curve_is_a_zero_line():
    lines = curve_lines(np.zeros(40), height=7)
    assert len(lines) == 8  # 7 rows + the frequency axis
    assert lines[3].strip().startswith("+0") and set(lines[3][5:]) == {"━"}
    assert all(set(row[5:]) == {" "} for i, row in enumerate(lines[:7]) if i != 3)


def test_curve_shows_a_high_shelf_on_the_right_and_a_cut_lower_down():
    grid = plot_grid(60)
    db = applied_curve_db(bright_params(), None, grid, SR)
    lines = curve_lines(db, height=7)
    high = lines[1][5:]  # the +8 dB row (+12 dB span over 3 rows)
    assert "█" in high[50:] and "█" not in high[:40]  # +9 dB shelf only at the highs
    assert lines[0].strip().startswith("+12")  # span chosen to hold the curve
    bottom_half = "".join(row[5:][:25] for row in lines[4:7])
    assert "█" in bottom_half  # the -4 dB dip around 250 Hz
    # forward and the same setting as inverse cancel exactly: flat
    assert np.allclose(applied_curve_db(bright_params(), bright_params(), grid, SR), 0.0)


def test_frequency_axis_labels_decades():
    axis = frequency_axis(60)
    assert axis.startswith("20") and axis.rstrip().endswith("20k")
    assert "1k" in axis and "100" in axis and "10k" in axis
    narrow = frequency_axis(40)  # no room for every decade: the range ends stay
    assert narrow.startswith("20") and narrow.rstrip().endswith("20k") and "1k" in narrow


# ---------------------------------------------------------------------------- panel
def status(bypass=False, confident=True, xruns=3) -> dict:
    state = ControlState(term_a="warm", term_b="bright", alpha=0.4, intensity=0.8, traverse_x=0.5,
                         bypass=bypass, scene="chorus").to_dict()
    p = bright_params()
    return {
        "state": state,
        "settings": {"forward": list(p), "inverse": None, "mode": "adaptive", "reason": "",
                     "autogain_db": -2.5},
        "curve_db": applied_curve_db(p, None, plot_grid(CURVE_POINTS), SR),
        "estimate": {"confident": confident, "reason": "ok" if confident else "too quiet (-75 dBFS)",
                     "profile": [("bright", 0.81), ("clear", 0.4), ("warm", -0.2)]},
        "levels": {"in_peak_dbfs": -12.0, "in_rms_dbfs": -20.0, "out_peak_dbfs": -2.0,
                   "out_rms_dbfs": -18.0},
        "timing": {"p50_us": 61.0, "p99_us": 120.0, "max_us": 400.0, "load_pct": 2.3,
                   "load_p99_pct": 4.5, "xruns": xruns},
        "process": {"cpu_pct": 12.0, "rss_mb": 180.0},
        "latency_ms": 3.1,
        "midi": {"ports": ["nanoKONTROL2:nanoKONTROL2 MIDI 1"], "last": "control_change channel=0 control=1 value=64"},
        "device": {"status": "running", "output": "system", "input": "system", "sample_rate": SR,
                   "block_size": 128},
        "record": {"path": "show.wav", "seconds": 12.0, "dropped": 0},
        "keyboard": True,
    }


def render_text(st: dict, width: int = 140, height: int | None = None) -> str:
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    console.print(render_status(st, width, height))
    return console.export_text()


def test_panel_shows_everything_a_performer_needs():
    text = render_text(status())
    for needle in ("warm", "bright", "0.40", "0.80", "x +0.50", "chorus", "EQ ON", "auto-gain -2.5 dB",
                   "high shelf", "6.00k", "+9.0", "clear", "Xruns", "3", "p99 120 µs", "3.1 ms",
                   "nanoKONTROL2", "control=1 value=64", "REC show.wav", "dBFS", "20k", "running",
                   "space bypass"):
        assert needle in text, needle
    assert "BYPASS" in render_text(status(bypass=True))
    text = render_text(status(confident=False))
    assert "no estimate:" in text and "too quiet (-75 dBFS)" in text
    small = render_text(status(), 80, 24)  # the same essentials at 80x24
    for needle in ("warm", "bright", "0.40", "0.80", "+0.50", "chorus", "EQ ON", "-2.5 dB",
                   "HS 6.0k +9.0", "clear", "xruns 3", "61/120 µs", "3.1 ms", "REC show.wav",
                   "20k", "running", "space bypass"):
        assert needle in small, needle


@pytest.mark.parametrize("width, height", [(80, 24), (160, 50)])
def test_panel_render_is_cheap(width, height):
    st = status()
    render_text(st, width, height)
    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        render_text(st, width, height)
        times.append(time.perf_counter() - t0)
    # At the default 5 redraws/s this is a few % of one core, on another thread than the audio
    # (figures: `semeq-live bench --only ui`; a loose bound here, the machine is shared).
    assert np.median(times) < 0.02


def test_panel_thread_never_exceeds_ten_redraws_per_second():
    console = Console(file=io.StringIO(), width=120, color_system=None, force_terminal=True)
    panel = PanelThread(status, rate=50.0, console=console).start()
    time.sleep(1.0)
    panel.stop()
    assert 3 <= panel.redraws <= MAX_REDRAWS_PER_S + 1


# ---------------------------------------------------------------------------- headless log
def test_log_lines_are_json_records_with_clean_numbers():
    line = format_line("health", {"cpu_pct": 12.345678, "p99": float("nan"), "lat": np.float64(1.5),
                                  "ports": ("a", "b")})
    rec = parse_line(line)
    assert rec["event"] == "health" and rec["cpu_pct"] == 12.3457 and rec["p99"] is None
    assert rec["lat"] == 1.5 and rec["ports"] == ["a", "b"] and rec["ts"].endswith("+00:00")
    assert parse_line("ALSA lib seq_hw.c: open failed") is None
    assert parse_line("{broken") is None


def test_state_lines_wait_for_the_audio_thread_then_carry_latency():
    out = io.StringIO()
    log = HeadlessLog(out)
    m = CallbackMetrics(SR, 128)
    m.target_published(1, t_arrival=5.0, processor_seq=2)
    log.state_change({"seq": 1, "t_arrival": 5.0, "source": "midi", "alpha": 0.5})
    log.flush_state_changes(m)
    assert out.getvalue() == ""  # not heard yet
    m.block_started(0)
    m.block_processed(5.002, 2)
    m.block_finished(1e-4, 128)
    log.flush_state_changes(m)
    rec = parse_line(out.getvalue())
    assert rec["event"] == "state" and rec["alpha"] == 0.5
    assert rec["latency_ms"] == pytest.approx(2.0) and rec["audio_frame"] == 0
    # A change the audio thread never picks up (stream stopped) is still logged, without latency.
    log.state_change({"seq": 2, "t_arrival": 6.0, "source": "key", "bypass": True})
    log.flush_state_changes(m, force=True)
    rec = parse_line(out.getvalue().splitlines()[-1])
    assert rec["bypass"] is True and "latency_ms" not in rec


# ---------------------------------------------------------------------------- keyboard
def test_every_key_maps_to_a_control_command():
    ops = {"step_term", "add", "toggle", "action"}
    for key in KEYMAP:
        cmd = key_command(key)
        assert cmd[0] in ops
        if cmd[0] in ("add", "toggle"):
            assert cmd[1] in ControlState().to_dict()
    assert key_command("Z") is None


def test_keyboard_reader_reads_single_keys_from_a_terminal():
    master, slave = os.openpty()
    tty = os.fdopen(slave, "r")
    got = []
    reader = KeyboardReader(got.append, stream=tty)
    try:
        assert reader.available and reader.start()
        os.write(master, b".. q")  # no Enter needed in cbreak mode
        deadline = time.monotonic() + 3
        while len(got) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        reader.stop()
        tty.close()
        os.close(master)
    assert got == [".", ".", " ", "q"]


def test_keyboard_is_off_without_a_terminal(tmp_path):
    with open(tmp_path / "stdin.txt", "w+") as f:
        reader = KeyboardReader(lambda k: None, stream=f)
        assert not reader.available and reader.start() is False
