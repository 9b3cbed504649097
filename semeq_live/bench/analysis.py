"""Input analysis and adaptive engine: cost per second of audio at 10 updates per second.

Stereo 48 kHz pink noise with a slowly moving tilt (so every update sees a new spectrum and a new
audio latent, i.e. the engine decodes every time: the worst case). Timed separately:

- ``push``: the audio-thread side, per 128-frame block, against a plain numpy copy of the same
  block into a preallocated array (the floor for "copy it somewhere");
- ``update``: ``Analyzer.update`` with 0.1 s of new audio (FFT segments, bands, encoder, profile);
- ``engine``: ``SemanticEngine.compute`` on the new estimate (decode, auto-gain prediction);
- baseline ``fft_2s``: one numpy FFT of the whole 2 s stereo window, the naive way to get a long
  term spectrum at every update.

All parts are interleaved update by update, so machine noise hits them alike. The load is
reported two ways: ``cpu_load_pct_of_one_core`` from the thread's CPU time (what the work really
costs a core: time spent descheduled on a busy machine does not count), and
``wall_load_pct_of_one_core`` from wall-clock medians (push per block + 10 x (update + engine)),
which a shared machine inflates.
"""

from __future__ import annotations

import time

import numpy as np

from . import summary_us

FS = 48000
CHANNELS = 2
BLOCK = 128
UPDATES_PER_S = 10


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
    x = _programme(seconds, rng)
    per_update = FS // UPDATES_PER_S
    analyzer = Analyzer(FS, CHANNELS, model=model)
    engine = SemanticEngine(model, FS, reference_band_db=analyzer.reference.band_db)
    state = ControlState(term_a="warm", term_b="bright", alpha=0.3, intensity=1.0)

    copy_dst = np.empty((BLOCK, CHANNELS), np.float32)
    window = x[:2 * FS].astype(np.float64)
    push_t, copy_t, update_t, engine_t, fft_t = [], [], [], [], []
    confident = 0
    clock = time.perf_counter
    cpu = time.thread_time
    cpu_ours = 0.0
    n_updates = int(seconds * UPDATES_PER_S)
    for u in range(n_updates):
        chunk = x[u * per_update:(u + 1) * per_update]
        for i in range(0, per_update, BLOCK):
            blk = chunk[i:i + BLOCK]
            c0 = cpu()
            t0 = clock()
            analyzer.push(blk)
            push_t.append(clock() - t0)
            cpu_ours += cpu() - c0
            t0 = clock()
            copy_dst[:len(blk)] = blk
            copy_t.append(clock() - t0)
        c0 = cpu()
        t0 = clock()
        est = analyzer.update()
        update_t.append(clock() - t0)
        cpu_ours += cpu() - c0
        state.update(alpha=0.5 + 0.5 * np.sin(u / 7.0))
        c0 = cpu()
        t0 = clock()
        engine.compute(state, est)
        engine_t.append(clock() - t0)
        cpu_ours += cpu() - c0
        t0 = clock()
        np.fft.rfft(window, axis=0)
        fft_t.append(clock() - t0)
        confident += bool(est.confident)

    warm = slice(UPDATES_PER_S * 1, None)  # the first second fills the window; not steady state
    push_p50 = float(np.median(push_t))
    upd_p50 = float(np.median(update_t[warm]))
    eng_p50 = float(np.median(engine_t[warm]))
    fft_p50 = float(np.median(fft_t))
    wall_load = (push_p50 * FS / BLOCK + UPDATES_PER_S * (upd_p50 + eng_p50)) * 100.0
    cpu_load = cpu_ours / seconds * 100.0
    return {
        "sample_rate": FS, "channels": CHANNELS, "block": BLOCK, "updates_per_s": UPDATES_PER_S,
        "audio_s": seconds, "confident_updates": confident, "updates": n_updates,
        "fft_segment": analyzer.nfft, "hop": analyzer.hop, "window_segments": analyzer.n_segments,
        "push": summary_us(np.array(push_t)),
        "baseline_block_copy": summary_us(np.array(copy_t)),
        "push_vs_copy_ratio": push_p50 / max(float(np.median(copy_t)), 1e-12),
        "update": summary_us(np.array(update_t[warm])),
        "engine": summary_us(np.array(engine_t[warm])),
        "engine_decode_calls": engine.decode_calls,
        "baseline_fft_2s": summary_us(np.array(fft_t)),
        "update_plus_engine_vs_fft_2s_ratio": (upd_p50 + eng_p50) / fft_p50,
        "cpu_load_pct_of_one_core": cpu_load,
        "wall_load_pct_of_one_core": wall_load,
        "goal_load_pct": 1.0,
        "meets_goal": cpu_load < 1.0,
    }
