"""The ``control`` bench section: a MIDI backlog drained per message and in batches, same run."""

from __future__ import annotations

import pytest

from semeq_live.bench import run_section, sections


def test_control_section_reports_batches_against_per_message():
    assert "control" in sections()
    r = run_section("control", quick=True)
    n = r["backlog_messages"]
    per, bat = r["per_message"], r["batched"]
    assert per["drain_ms"] > 0 and bat["drain_ms"] > 0
    # The baseline computes after nearly every message (those that changed nothing: none), the
    # control thread once per batch of up to 256.
    assert per["eq_computations"] > 0.9 * n
    assert 0 < bat["eq_computations"] <= n / 20
    assert r["ratio_per_message_over_batched"] == pytest.approx(per["drain_ms"] / bat["drain_ms"], rel=0.01)
