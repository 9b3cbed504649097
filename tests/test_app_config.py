"""Stage configuration (YAML defaults + command line) and the live control thread."""

from __future__ import annotations

import argparse
import time

import mido
import numpy as np
import pytest

from semeq_live.app import StageConfig, config_from_args, load_stage_config
from semeq_live.errors import CLIError

# ---------------------------------------------------------------------------- config


def test_stage_file_sets_defaults(tmp_path):
    path = tmp_path / "stage.yaml"
    path.write_text("block-size: 256\nmidi_port: nanoKONTROL2\nheadless: true\nalpha: 0.25\n"
                    "output_device: Scarlett\n")
    values = load_stage_config(path)
    assert values == {"block_size": 256, "midi_port": ["nanoKONTROL2"], "headless": True,
                      "alpha": 0.25, "output_device": "Scarlett"}


@pytest.mark.parametrize("text, message", [
    ("blocksize: 128\n", r"unknown setting 'blocksize' \(did you mean block_size"),
    ("block_size: fast\n", "block_size must be a number"),
    ("block_size: 12.5\n", "block_size must be a whole number"),
    ("headless: yes please\n", "headless must be true or false"),
    ("midi_port: [1, 2]\n", "midi_port must be a port name"),
    ("- just\n- a list\n", "expected a mapping of settings"),
    ("block_size: [\n", r"stage.yaml:\d+: not valid YAML"),
])
def test_stage_file_errors_name_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "stage.yaml"
    path.write_text(text)
    with pytest.raises(CLIError, match=message) as err:
        load_stage_config(path)
    assert "stage.yaml" in str(err.value)


def test_missing_stage_file(tmp_path):
    with pytest.raises(CLIError, match="cannot read the config file"):
        load_stage_config(tmp_path / "nope.yaml")


def test_subsonic_protection_is_on_unless_asked_off(tmp_path):
    from semeq_live.cli.commands import run as run_cmd

    parser = argparse.ArgumentParser()
    run_cmd.add_arguments(parser)
    assert config_from_args(parser.parse_args([])).validate().subsonic_hz == 20.0
    path = tmp_path / "stage.yaml"
    path.write_text("subsonic_hz: 30\n")
    assert config_from_args(parser.parse_args(["--config", str(path)])).subsonic_hz == 30.0
    off = config_from_args(parser.parse_args(["--config", str(path), "--subsonic-hz", "0"]))
    assert off.validate().subsonic_hz == 0.0
    path.write_text("subsonic_hz: off\n")
    with pytest.raises(CLIError, match="stage.yaml: subsonic_hz must be a number"):
        load_stage_config(path)


def test_command_line_wins_over_the_stage_file(tmp_path):
    from semeq_live.cli.commands import run as run_cmd

    path = tmp_path / "stage.yaml"
    path.write_text("block_size: 256\nheadless: true\nautogain: false\nmidi_port: [a, b]\n")
    parser = argparse.ArgumentParser()
    run_cmd.add_arguments(parser)
    cfg = config_from_args(parser.parse_args(["--config", str(path), "--block-size", "64"]))
    assert cfg.block_size == 64 and cfg.headless is True and cfg.autogain is False
    assert cfg.midi_port == ["a", "b"]
    cfg = config_from_args(parser.parse_args(["--midi-port", "c"]))
    assert cfg.midi_port == ["c"] and cfg.headless is False and cfg.autogain is True


@pytest.mark.parametrize("changes, message", [
    ({"block_size": 8}, "block size 8"),
    ({"sample_rate": 1000}, "sample rate"),
    ({"channels": 0}, "channels"),
    ({"midi_api": "coreaudio"}, "midi_api"),
    ({"input_file": "x.wav", "test_signal": "pink"}, "either --input-file or --test-signal"),
    ({"subsonic_hz": 5.0}, r"subsonic_hz 5.0 is outside 10..200 Hz \(0 switches"),
    ({"subsonic_hz": -20.0}, "subsonic_hz"),
])
def test_invalid_settings_are_refused(changes, message):
    with pytest.raises(CLIError, match=message):
        StageConfig(**changes).validate()


# ---------------------------------------------------------------------------- control thread
@pytest.fixture(scope="module")
def live_parts():
    from semeq_live.audio.metrics import CallbackMetrics
    from semeq_live.control.engine import SemanticEngine
    from semeq_live.control.state import ControlState
    from semeq_live.dsp import EQProcessor
    from semeq_live.midi import MidiController, default_mapping_path, load_mapping
    from semeq_live.model import load_model

    model = load_model()

    def make():
        state = ControlState(term_a="warm", term_b="bright", alpha=0.0)
        mapping = load_mapping(default_mapping_path(), known_terms=model.terms)
        processor = EQProcessor(48000, 2)
        return {"state": state, "engine": SemanticEngine(model, 48000), "processor": processor,
                "metrics": CallbackMetrics(48000, 128), "terms": list(model.terms),
                "controller": MidiController(mapping, state, list(model.terms))}

    return make


def run_control(parts, feed, wait_for):
    from semeq_live.control.loop import LiveControl

    events = []
    ctl = LiveControl(parts["state"], parts["engine"], parts["processor"], parts["metrics"],
                      terms=parts["terms"], controller=parts["controller"],
                      on_event=lambda kind, fields: events.append((kind, fields)))
    ctl.start()
    try:
        feed(ctl)
        deadline = time.monotonic() + 5
        while not wait_for(events) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        ctl.stop()
    return ctl, events


def test_midi_message_changes_state_and_publishes_new_filters(live_parts):
    parts = live_parts()
    seq0 = parts["processor"].publish_seq
    ctl, events = run_control(
        parts, lambda c: c.midi("nano:1", mido.Message("control_change", control=1, value=127), 12.5),
        lambda ev: any(k == "state" and f["source"] == "midi" for k, f in ev))
    start = next(f for k, f in events if k == "state")
    assert start["source"] == "start" and start["seq"] == 1 and start["alpha"] == 0.0
    kind, fields = next(e for e in events if e[0] == "state" and e[1]["source"] == "midi")
    assert fields["alpha"] == 1.0 and fields["source"] == "midi" and fields["port"] == "nano:1"
    assert fields["t_arrival"] == 12.5 and fields["seq"] == ctl.seq
    assert parts["processor"].publish_seq > seq0
    assert ctl.last_midi[0] == "nano:1" and "control=1" in ctl.last_midi[1]
    # The processor got the bright target: its settings are the engine's for alpha = 1.
    expected = parts["engine"].compute(parts["state"].snapshot(), None)
    assert np.allclose(ctl.settings.forward, expected.forward)


def test_keyboard_commands_and_actions(live_parts):
    parts = live_parts()
    terms = parts["terms"]

    def feed(c):
        c.command(("add", "alpha", 0.05))
        c.command(("add", "alpha", 0.05))
        c.command(("step_term", "a", +1))
        c.command(("toggle", "autogain"))
        c.command(("action", "learn_reference"))  # no analyzer: fails, reported, no exception
        c.command(("action", "scene_recall", "1"))  # no scene file
        c.command(("action", "panic"))

    ctl, events = run_control(parts, feed, lambda ev: any(f.get("action") == "panic" for _, f in ev))
    st = parts["state"]
    assert st.alpha == pytest.approx(0.1)
    assert st.term_a == terms[(terms.index("warm") + 1) % len(terms)]
    assert st.autogain is False and st.bypass is True  # panic = bypass
    failed = {f["action"]: f["error"] for k, f in events if k == "action_failed"}
    assert "analyzer" in failed["learn_reference"] and "--scenes" in failed["scene_recall"]
    assert ctl.error is None


def ctl_seq(parts):
    return int(parts["metrics"]._published[0])


def test_estimates_move_the_eq_without_state_lines(live_parts):
    from semeq_live.analysis.estimate import no_estimate

    parts = live_parts()
    seqs = {}

    def feed(c):
        seqs["start"] = c.seq  # start() published the initial settings
        c.new_estimate(no_estimate("too quiet", 1.0))

    ctl, events = run_control(parts, feed, lambda ev: ctl_seq(parts) > seqs["start"])
    assert ctl.seq == seqs["start"] + 1
    assert [f["source"] for k, f in events if k == "state"] == ["start"]
    assert ctl.settings.mode.startswith("static fallback")


def test_shipped_stage_example_and_systemd_unit_are_valid():
    import configparser
    import shlex
    from pathlib import Path

    from semeq_live.cli import build_parser

    deploy = Path(__file__).resolve().parents[1] / "deploy"
    StageConfig(**load_stage_config(deploy / "stage.yaml")).validate()
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(deploy / "semeq-live.service")
    argv = shlex.split(unit["Service"]["ExecStart"])
    assert argv[0].endswith("semeq-live") and argv[1] == "run"
    args = build_parser().parse_args(argv[1:])  # every option in the unit exists
    assert args.headless and args.wait_for_device and args.config == "/etc/semeq-live/stage.yaml"
    assert unit["Service"]["KillSignal"] == "SIGTERM"
