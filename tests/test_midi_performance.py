"""MIDI-file performances: tempo map, block-accurate scheduling, state and sound over time."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from semeq_live.control.state import ControlState
from semeq_live.errors import SemeqError
from semeq_live.midi import (BlockScheduler, MidiController, block_of, default_mapping_path,
                             load_mapping, load_performance, write_performance)
from semeq_live.midi.demo import demo_events, write_demo_performance
from semeq_live.params import FLAT_PARAMS

TERMS = ["warm", "bright", "clear", "full"]
# the shipped mappings' palettes are checked against the model they ship with
SHIPPED_TERMS = None


def shipped_terms() -> list[str]:
    global SHIPPED_TERMS
    if SHIPPED_TERMS is None:
        from semeq_live.model import load_model

        SHIPPED_TERMS = list(load_model().terms)
    return SHIPPED_TERMS


def cc(number, value, channel=0):
    return mido.Message("control_change", channel=channel, control=number, value=value)


def test_tempo_map_and_tracks_are_respected(tmp_path):
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    conductor = mido.MidiTrack([
        mido.MetaMessage("set_tempo", tempo=500000, time=0),     # 120 bpm: a beat = 0.5 s
        mido.MetaMessage("set_tempo", tempo=1000000, time=480),  # from beat 1: 60 bpm
    ])
    part = mido.MidiTrack([
        cc(1, 10, channel=0).copy(time=480),   # beat 1 -> 0.5 s
        cc(1, 20).copy(time=480),              # beat 2 -> 0.5 + 1.0 s
        mido.Message("program_change", program=3, time=240),  # beat 2.5 -> 2.0 s
        mido.MetaMessage("end_of_track", time=0),
    ])
    midi.tracks += [conductor, part]
    path = tmp_path / "tempo.mid"
    midi.save(str(path))
    events = load_performance(path)
    assert [round(t, 6) for t, _ in events] == [0.5, 1.5, 2.0]
    assert [m.type for _, m in events] == ["control_change", "control_change", "program_change"]


def test_bad_performance_files_raise_clear_errors(tmp_path):
    with pytest.raises(SemeqError, match="not found"):
        load_performance(tmp_path / "missing.mid")
    junk = tmp_path / "junk.mid"
    junk.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x10\x00\x90")
    with pytest.raises(SemeqError, match="not a readable MIDI file"):
        load_performance(junk)
    text = tmp_path / "text.mid"
    text.write_text("hello")
    with pytest.raises(SemeqError, match="not a readable MIDI file"):
        load_performance(text)


def test_block_of_and_scheduler_order():
    sr, bs = 48000, 256
    assert block_of(0.0, sr, bs) == 0
    assert block_of(255 / sr, sr, bs) == 0
    assert block_of(256 / sr, sr, bs) == 1
    assert block_of(-1.0, sr, bs) == 0
    events = [(0.02, cc(1, 2)), (0.0, cc(1, 1)), (0.02, cc(1, 3)), (1.0, cc(1, 4))]
    sched = BlockScheduler(events, sr, bs)
    assert len(sched) == 4 and sched.last_block == block_of(1.0, sr, bs)
    assert [m.value for m in sched.due(0)] == [1]
    # same time: file order kept; skipped blocks never lose messages
    assert [m.value for m in sched.due(10)] == [2, 3]
    assert sched.due(10) == []
    assert [m.value for m in sched.due(10_000)] == [4] and sched.remaining == 0
    with pytest.raises(ValueError):
        BlockScheduler(events, 0, 256)


def _run_states(mapping, events, sr, bs, n_blocks, terms=TERMS):
    """Drive a controller block by block; return the state seen by each block."""
    state = ControlState(alpha=0.0, intensity=1.0)
    ctl = MidiController(mapping, state, terms)
    sched = BlockScheduler(events, sr, bs)
    seen = []
    for k in range(n_blocks):
        for msg in sched.due(k):
            ctl.handle(msg)
        seen.append(state.snapshot())
    return seen


def test_state_follows_the_ccs_at_block_accuracy():
    mapping = load_mapping(default_mapping_path(), known_terms=shipped_terms())
    sr, bs = 48000, 512
    rng = np.random.default_rng(7)
    times = np.sort(rng.uniform(0, 2.0, 60))
    values = rng.integers(0, 128, 60)
    events = [(float(t), cc(1, int(v))) for t, v in zip(times, values)]
    n_blocks = block_of(2.0, sr, bs) + 2
    seen = _run_states(mapping, events, sr, bs, n_blocks)
    # independent expectation: the last CC whose sample index is inside or before block k
    for k in range(n_blocks):
        applied = [v for t, v in zip(times, values) if int(np.floor(t * sr)) < (k + 1) * bs]
        expected = applied[-1] / 127 if applied else 0.0
        assert seen[k].alpha == pytest.approx(expected), k


def test_demo_performance_drives_the_generic_mapping(tmp_path):
    path = write_demo_performance(tmp_path / "demo.mid", seconds=10.0,
                                  known_terms=shipped_terms())
    events = load_performance(path)
    mapping = load_mapping(default_mapping_path(), known_terms=shipped_terms())
    assert len(events) == len(demo_events(mapping, 10.0))
    sr, bs = 48000, 480  # 10 ms blocks
    seen = _run_states(mapping, events, sr, bs, 1000)
    alpha = np.array([s.alpha for s in seen])
    intensity = np.array([s.intensity for s in seen])
    bypass = np.array([s.bypass for s in seen])
    assert seen[0].term_a == "warm" and seen[0].term_b == "bright"
    assert alpha[0] == 0.0 and alpha[240:260].max() > 0.98  # peak of the A->B->A sweep at 2.5 s
    assert alpha[480:500].max() < 0.05 and alpha[510] == 1.0  # back at A, then B held
    assert intensity[:500].min() == pytest.approx(85 / 127 * 1.5)
    assert intensity[520:820].min() < 0.02                    # the dip to flat
    assert not bypass[:850].any() and bypass[860:940].all() and not bypass[960:].any()


@pytest.mark.parametrize("name", ["generic", "nanokontrol2", "midimix", "launchcontrol_xl",
                                  "beatstep"])
def test_demo_works_with_every_shipped_mapping(name):
    from semeq_live.midi import resolve_mapping_path

    mapping = load_mapping(resolve_mapping_path(name), known_terms=shipped_terms())
    events = demo_events(mapping, 10.0)
    seen = _run_states(mapping, events, 48000, 480, 1000)
    alpha = np.array([s.alpha for s in seen])
    intensity = np.array([s.intensity for s in seen])
    assert alpha[:5].max() < 0.02 and alpha[240:260].max() > 0.97, name
    assert alpha[510:800].min() > 0.97, name
    assert abs(intensity[100] - 1.0) < 0.02 and intensity[520:820].min() < 0.03, name
    assert intensity[830:].min() > 0.95, name


def test_rendered_audio_changes_as_the_ccs_say():
    """Real EQProcessor: high-frequency level follows the morph CC, block-accurately."""
    from semeq_live.dsp import EQProcessor

    warm = FLAT_PARAMS.copy()
    warm[0] = 9.0    # low shelf +9 dB
    warm[11] = -9.0  # high shelf -9 dB
    bright = FLAT_PARAMS.copy()
    bright[0] = -9.0
    bright[11] = 9.0

    mapping = load_mapping(default_mapping_path(), known_terms=shipped_terms())
    sr, bs = 48000, 256
    events = [(0.0, cc(1, 0)), (0.5, cc(1, 127)), (1.0, cc(1, 64)), (1.5, cc(1, 0))]
    noise = np.random.default_rng(3).standard_normal((2 * sr, 1)).astype(np.float32) * 0.05

    def render():
        state = ControlState(alpha=0.0)
        ctl = MidiController(mapping, state, TERMS)
        sched = BlockScheduler(events, sr, bs)
        eq = EQProcessor(sr, 1, smoothing_ms=5.0)
        out = np.empty_like(noise)
        for k in range(len(noise) // bs):
            due = sched.due(k)
            for msg in due:
                ctl.handle(msg)
            if due:  # the control loop republishes the EQ after the block's messages
                a = state.alpha
                eq.set_params((1 - a) * warm + a * bright)
            blk = noise[k * bs:(k + 1) * bs]
            eq.process_into(blk, out[k * bs:(k + 1) * bs])
        return out

    out = render()
    assert np.array_equal(out, render())  # deterministic

    def hf_level_db(seg):
        spec = np.abs(np.fft.rfft(seg[:, 0] * np.hanning(len(seg)))) ** 2
        freqs = np.fft.rfftfreq(len(seg), 1 / sr)
        return 10 * np.log10(spec[freqs > 8000].sum() / spec[freqs < 200].sum())

    window = int(0.3 * sr)
    starts = {"warm": 0.0, "bright": 0.5, "middle": 1.0, "warm again": 1.5}
    # The tilt the EQ applied: output against the same stretch of input noise, so the noise's
    # own chance balance cancels (and with it what the subsonic protection takes off below 30 Hz).
    levels = {}
    for name, start in starts.items():
        seg = slice(int(start * sr) + 2400, int(start * sr) + 2400 + window)
        levels[name] = hf_level_db(out[seg]) - hf_level_db(noise[seg])
    assert levels["bright"] - levels["warm"] > 25      # 4 x 9 dB shelves swing ~36 dB
    assert levels["warm"] < levels["middle"] < levels["bright"]
    assert abs(levels["warm again"] - levels["warm"]) < 1.0  # other noise, same EQ
    # the change starts in the block that contains t = 0.5 s, not before
    change_block = block_of(0.5, sr, bs)
    before = out[(change_block - 40) * bs:change_block * bs, 0]
    after = out[change_block * bs:(change_block + 40) * bs, 0]
    hp = np.diff  # crude high-pass: first difference
    assert np.std(hp(after)) > 2 * np.std(hp(before))


def test_written_performance_round_trips(tmp_path):
    events = [(0.0, cc(1, 0)), (0.25, cc(1, 64)), (1.75, mido.Message("note_on", note=40))]
    path = write_performance(tmp_path / "p.mid", events)
    back = load_performance(path)
    assert [round(t, 3) for t, _ in back] == [0.0, 0.25, 1.75]
    assert [m.bytes() for _, m in back] == [m.bytes() for _, m in events]


def test_render_command_follows_the_demo_performance(tmp_path):
    """End to end: `semeq-live render --mapping generic --midi demo.mid` on noise. The spectral
    tilt of the output (gain above 4 kHz minus gain below 300 Hz) follows the performance: warm,
    sweep to bright and back, flat at the bottom of the intensity dip, dry in bypass."""
    import soundfile as sf

    from semeq_live.cli import main

    sr, seconds = 48000, 6.0
    dry = np.random.default_rng(0).standard_normal((int(seconds * sr), 2)).astype(np.float32) * 0.05
    src, out = tmp_path / "noise.wav", tmp_path / "out.wav"
    sf.write(src, dry, sr, subtype="FLOAT")
    demo = write_demo_performance(tmp_path / "demo.mid", "generic", seconds=seconds)
    assert main(["render", str(src), "-o", str(out), "--mapping", "generic", "--midi", str(demo),
                 "--quiet"]) == 0
    wet, sr_out = sf.read(out)
    assert sr_out == sr and wet.shape == dry.shape

    def tilt_db(t):
        a, n = int(t * sr), int(0.2 * sr)
        freqs = np.fft.rfftfreq(n, 1 / sr)
        hi, lo = (freqs > 4000) & (freqs < 12000), (freqs > 60) & (freqs < 300)
        ys = np.abs(np.fft.rfft(wet[a:a + n, 0] * np.hanning(n))) ** 2
        xs = np.abs(np.fft.rfft(dry[a:a + n, 0] * np.hanning(n))) ** 2
        return 10 * np.log10(ys[hi].sum() / xs[hi].sum()) - 10 * np.log10(ys[lo].sum() / xs[lo].sum())

    # demo timeline for 6 s: sweep A->B->A over 0-3 s, B held, intensity 1->0->1 over 3.1-4.9 s,
    # bypass on 5.1-5.7 s
    assert tilt_db(0.1) < -2.0           # warm
    assert tilt_db(1.4) > 2.0            # bright at the top of the sweep
    assert tilt_db(2.8) < -2.0           # warm again
    assert abs(tilt_db(3.9)) < 1.5       # intensity near 0: (almost) flat
    assert abs(tilt_db(5.3)) < 0.5       # bypass: dry
    assert tilt_db(5.8) > 2.0            # bright again after bypass
