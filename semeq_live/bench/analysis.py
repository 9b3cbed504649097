"""Input analysis and adaptive engine: cost per second of audio at 10 updates per second.

Stereo 48 kHz pink noise with a slowly moving tilt (so every new spectrum differs and gives a new
audio latent, i.e. the engine decodes both cascades every time: the worst case for adaptation).
The first 2 s fill the analysis window and are not measured (start-up, not steady state). As live,
the engine runs for each *new* estimate (the analysis thread hands on nothing when no new FFT
segment was completed); the controls stand still (a MIDI move is control work, not analysis).
Timed separately, update by update:

- ``push``: the audio-thread side, per 128-frame block, against a plain numpy copy of the same
  block into a preallocated array (the floor for "copy it somewhere"). Live, the fused callback
  kernel does this write itself; the Python ``push`` is its pre-numba twin.
- ``update``: ``Analyzer.update`` with 0.1 s of new audio (new FFT segments, bands, presence,
  curve encoder, term profile; an update without a new segment reuses the last estimate);
- ``engine``: ``SemanticEngine.compute`` on each new estimate (decode, auto-gain prediction);
- ``learned``: the soundcheck path, a reference learned from another take of the programme (its
  band reliability weighs each band by how steady it was: more work per estimate than a built-in
  reference), update plus engine, with its own thread CPU time;
- baselines: one numpy FFT of the whole 2 s stereo window (the naive way to get a long-term
  spectrum at every update) and one FFT of one analysis segment (the unit of the analyzer's work).

All parts are interleaved update by update, so machine noise hits them alike. The load is
reported two ways: ``cpu_load_pct_of_one_core`` from the analysis and engine calls' thread CPU time
over the measured span (what the work really costs a core: time spent descheduled on a busy
machine does not count; the audio-thread push is reported on its own), and
``wall_load_pct_of_one_core`` from wall-clock medians (10 updates + one engine call per new
segment, per second), which a shared machine inflates. The goal (<= 1 % of one core) is judged on the CPU time, of the default (auto) path and of the
learned-reference path each.
"""

from __future__ import annotations

import time

import numpy as np

from . import summary_us

FS = 48000
CHANNELS = 2
BLOCK = 128
UPDATES_PER_S = 10
# Steady state: the 2 s window has filled and the auto reference (the default) has made its
# provisional (after 1 s of sound) and its confirming decision (after 3 s).
WARMUP_S = 4.0
GOAL_PCT = 1.0


def _programme(seconds: float, rng) -> np.ndarray:
    n = int(seconds * FS)
    spec = np.fft.rfft(rng.standard_normal((n, CHANNELS)), axis=0)
    f = np.fft.rfftfreq(n, 1 / FS)[:, None]
    spec[1:] /= np.sqrt(f[1:])
    spec[f[:, 0] < 20] = 0.0
    x = np.fft.irfft(spec, n, axis=0)
    # A tilt that moves over time, so consecutive analyses differ.
    t = np.arange(n)[:, None] / FS
    lows = np.fft.irfft(spec * (f < 300), n, axis=0)
    x = x + 1.5 * np.sin(2 * np.pi * 0.2 * t) * lows
    return (0.1 * x / x.std()).astype(np.float32)


def run(quick: bool = False) -> dict:
    from ..analysis import Analyzer
    from ..control.engine import SemanticEngine
    from ..control.state import ControlState
    from ..model import load_model

    model = load_model()
    rng = np.random.default_rng(0)
    seconds = 6.0 if quick else 20.0
    x = _programme(WARMUP_S + seconds, rng)
    per_update = FS // UPDATES_PER_S
    # The default path: the auto reference (source cues + decision) on top of the analysis. A
    # second analyzer with the fixed music reference, fed the same audio and updated in the same
    # loop, is the baseline for what auto costs.
    analyzer = Analyzer(FS, CHANNELS, model=model, reference="auto")
    fixed = Analyzer(FS, CHANNELS, model=model)
    engine = SemanticEngine(model, FS, reference_band_db=analyzer.reference.band_db)
    # The soundcheck path: "learn reference" on another take (other noise, same kind of programme).
    learner = Analyzer(FS, CHANNELS, model=model)
    soundcheck = _programme(8.0, np.random.default_rng(1))
    for i in range(0, len(soundcheck), per_update):
        learner.push(soundcheck[i:i + per_update])
        learner.update()
    learned = Analyzer(FS, CHANNELS, model=model, reference=learner.learn_reference())
    learned_engine = SemanticEngine(model, FS, reference_band_db=learned.reference.band_db)
    state = ControlState(term_a="warm", term_b="bright", alpha=0.3, intensity=1.0)

    copy_dst = np.empty((BLOCK, CHANNELS), np.float32)
    window = x[:2 * FS].astype(np.float64)
    segment = x[:analyzer.nfft].mean(axis=1).astype(np.float64)
    push_t, copy_t, update_t, engine_t, fft_t, seg_fft_t, fixed_t = [], [], [], [], [], [], []
    learned_t, learned_confident, cpu_learned, previous_learned = [], 0, 0.0, None
    confident = 0
    clock = time.perf_counter
    cpu = time.thread_time
    cpu_ours = 0.0
    n_warm = int(WARMUP_S * UPDATES_PER_S)
    n_updates = int(seconds * UPDATES_PER_S)
    segments_before = 0
    previous = None
    for u in range(n_warm + n_updates):
        measured = u >= n_warm
        if u == n_warm:
            segments_before = analyzer._next_segment
        chunk = x[u * per_update:(u + 1) * per_update]
        for i in range(0, per_update, BLOCK):
            blk = chunk[i:i + BLOCK]
            t0 = clock()
            analyzer.push(blk)
            t1 = clock()
            fixed.push(blk)
            learned.push(blk)
            copy_dst[:len(blk)] = blk
            t2 = clock()
            if measured:
                push_t.append(t1 - t0)
                copy_t.append(t2 - t1)
        c0 = cpu()
        t0 = clock()
        est = analyzer.update()
        t1 = clock()
        new = est is not previous
        if new:
            engine.compute(state, est)
        previous = est
        t2 = clock()
        c1 = cpu()
        np.fft.rfft(window, axis=0)
        t3 = clock()
        np.fft.rfft(segment)
        t4 = clock()
        fixed.update()
        t5 = clock()
        c5 = cpu()
        est_learned = learned.update()
        if est_learned is not previous_learned:
            learned_engine.compute(state, est_learned)
        previous_learned = est_learned
        t6 = clock()
        c6 = cpu()
        if measured:
            cpu_ours += c1 - c0
            update_t.append(t1 - t0)
            if new:
                engine_t.append(t2 - t1)
            fft_t.append(t3 - t2)
            seg_fft_t.append(t4 - t3)
            fixed_t.append(t5 - t4)
            confident += bool(est.confident)
            cpu_learned += c6 - c5
            learned_t.append(t6 - t5)
            learned_confident += bool(est_learned.confident)

    upd_p50 = float(np.median(update_t))
    eng_p50 = float(np.median(engine_t))
    fft_p50 = float(np.median(fft_t))
    seg_fft_p50 = float(np.median(seg_fft_t))
    segments = analyzer._next_segment - segments_before
    cpu_load = cpu_ours / seconds * 100.0
    cpu_load_learned = cpu_learned / seconds * 100.0
    per_second_s = cpu_ours / seconds
    return {
        "sample_rate": FS, "channels": CHANNELS, "block": BLOCK, "updates_per_s": UPDATES_PER_S,
        "audio_s": seconds, "warmup_s": WARMUP_S, "confident_updates": confident, "updates": n_updates,
        "fft_segment": analyzer.nfft, "hop": analyzer.hop, "window_segments": analyzer.n_segments,
        "segments_per_s": segments / seconds,
        "push": summary_us(np.array(push_t)),
        "baseline_block_copy": summary_us(np.array(copy_t)),
        "push_vs_copy_ratio": float(np.median(push_t)) / max(float(np.median(copy_t)), 1e-12),
        "update": summary_us(np.array(update_t)),
        "reference": analyzer.reference_label,
        "baseline_update_music_reference": summary_us(np.array(fixed_t)),
        "update_auto_vs_music_ratio": upd_p50 / max(float(np.median(fixed_t)), 1e-12),
        "engine": summary_us(np.array(engine_t)),  # per new estimate
        "learned_reference_update_and_engine": summary_us(np.array(learned_t)),
        "learned_reference_confident_updates": learned_confident,
        "learned_vs_music_update_ratio": float(np.median(learned_t)) / max(float(np.median(fixed_t)), 1e-12),
        "cpu_load_pct_of_one_core_learned_reference": cpu_load_learned,
        "engine_decode_calls": engine.decode_calls,
        "baseline_fft_2s": summary_us(np.array(fft_t)),
        "baseline_fft_segment": summary_us(np.array(seg_fft_t)),
        "update_plus_engine_vs_fft_2s_ratio": (upd_p50 + eng_p50) / fft_p50,
        # The whole second's analysis and engine work, in FFTs of one analysis segment.
        "cpu_per_second_in_segment_ffts": per_second_s / seg_fft_p50,
        "cpu_load_pct_of_one_core": cpu_load,
        "wall_load_pct_of_one_core": (UPDATES_PER_S * upd_p50 + segments / seconds * eng_p50) * 100.0,
        "goal_load_pct": GOAL_PCT,
        "meets_goal": cpu_load <= GOAL_PCT and cpu_load_learned <= GOAL_PCT,
    }
