"""MappingLearner from a scripted message source (the live JACK version is in test_midi_live)."""

from __future__ import annotations

import mido
import pytest

from semeq_live.errors import SemeqError
from semeq_live.midi import load_mapping
from semeq_live.midi.learn import (BUTTON_INPUT, CONTINUOUS_INPUT, SKIP, LearnStep,
                                   MappingLearner, guess_relative_encoding,
                                   write_learned_mapping)


class Script:
    """A message source that hands out queued items, returning None (timeout) when empty."""

    def __init__(self, items):
        self.items = list(items)

    def __call__(self, timeout):
        return self.items.pop(0) if self.items else None


def item(msg):
    return ("port", msg, 0.0)


def cc(n, v):
    return item(mido.Message("control_change", control=n, value=v))


@pytest.mark.parametrize("values,expected", [
    ([1, 1, 1, 2], "twos_complement"),
    ([1, 127, 127, 1], "twos_complement"),
    ([65, 65, 63, 66], "binary_offset"),
    ([1, 65, 65, 2], "signed_bit"),
    ([10, 20, 30, 40, 50], None),      # a fader sweep
    ([0, 127], None),                  # too short to tell
    ([64, 64, 64], None),              # a knob resting in the middle
])
def test_guess_relative_encoding(values, expected):
    assert guess_relative_encoding(values) == expected


def test_skip_sentinel_and_used_controls(tmp_path):
    steps = (LearnStep("Morph", "alpha", CONTINUOUS_INPUT, "move"),
             LearnStep("Intensity", "intensity", CONTINUOUS_INPUT, "move"),
             LearnStep("Bypass", "bypass", BUTTON_INPUT, "press"))
    script = Script([cc(7, 10), cc(7, 20), cc(7, 30),      # morph
                     cc(7, 40),                            # same fader again: ignored
                     SKIP,                                 # intensity skipped
                     cc(20, 127), cc(20, 0)])              # bypass on a CC button
    results = []
    learned = MappingLearner(steps, settle=0.0).learn(
        script, on_result=lambda i, step, r: results.append(r), step_timeout=0.2)
    assert results[1] is None
    assert [lrn.entry["target"] for lrn in learned] == ["alpha", "bypass"]
    path = write_learned_mapping(tmp_path / "m.yaml", learned, "Test", "port")
    m = load_mapping(path)
    assert [(c.target, c.number, c.mode) for c in m.controls] == [("alpha", 7, "absolute"),
                                                                   ("bypass", 20, "button")]
    assert "learned from the controller" in path.read_text()


def test_nothing_learned_is_an_error(tmp_path):
    with pytest.raises(SemeqError, match="nothing was learned"):
        write_learned_mapping(tmp_path / "m.yaml", [], "x")
    assert not (tmp_path / "m.yaml").exists()
