"""The boost ceiling's cost per control update, as a share of the engine update it is part of.

The engine (``SemanticEngine.compute``) runs at every control update (at least 10 a second); the
ceiling is one step of it. Both are timed on the same calls: the live analysis of a programme that
changes every second (pink noise, a bass line only, a band-limited lead, hats only: so the
estimate, the band weights and the mode keep changing) while the morph, the intensity (up to 1.5)
and the traverse move, so the decoder works at every update and the ceiling often acts. Run with
the stage cap of 6 dB and without a cap.

Each setting also runs with the ceiling as it was before the re-fit (``*_scaling_only``: the boosts
scaled as asked, ``refit.py``), on the same programme in the same run, for the cost of the re-fit.

Reported per setting: the engine update and the ceiling step (medians, p99), their ratio, how often
the ceiling acted and how many passes it needed (0 = nothing to do), and whether the bisection
fallback ever ran. The same on random extreme settings (all 10 sections at random gains,
frequencies and Q up to 10), the ceiling's worst case.
"""

from __future__ import annotations

import numpy as np

from . import summary_us

FS = 48000
CHANNELS = 2
UPDATES_PER_S = 10


def _programme(seconds: float, rng) -> np.ndarray:
    """One-second segments of differently band-limited pink noise."""
    n_seg = int(seconds)
    out = []
    bands = [(20, 20000), (40, 400), (200, 6000), (3000, 16000), (60, 12000)]
    for i in range(n_seg):
        lo, hi = bands[i % len(bands)]
        n = FS
        spec = np.fft.rfft(rng.standard_normal((n, CHANNELS)), axis=0)
        f = np.fft.rfftfreq(n, 1 / FS)[:, None]
        spec[1:] /= np.sqrt(f[1:])
        spec[(f[:, 0] < lo) | (f[:, 0] > hi)] = 0.0
        x = np.fft.irfft(spec, n, axis=0)
        out.append(0.1 * x / x.std())
    return np.concatenate(out).astype(np.float32)


def _live_case(model, max_boost_db, x, seconds, refit: bool = True) -> dict:
    from ..analysis import Analyzer
    from ..control.ceiling import BoostCeiling
    from ..control.engine import SemanticEngine
    from ..control.state import ControlState

    analyzer = Analyzer(FS, CHANNELS, model=model)
    engine = SemanticEngine(model, FS, reference_band_db=analyzer.reference.band_db,
                            max_boost_db=max_boost_db)
    if not refit:  # the ceiling as it was before the re-fit: boosts scaled as asked
        engine.ceiling = BoostCeiling(FS, max_boost_db, refit=False)
    terms = list(model.terms)
    state = ControlState(term_a="warm" if "warm" in terms else terms[0],
                         term_b="bright" if "bright" in terms else terms[-1])
    per_update = FS // UPDATES_PER_S
    eng_t, cap_t, passes, acting, held = [], [], [], 0, []
    bisected = 0
    n_updates = int(seconds * UPDATES_PER_S)
    import time

    for u in range(n_updates):
        analyzer.push(x[u * per_update:(u + 1) * per_update])
        est = analyzer.update()
        state.update(alpha=0.5 + 0.5 * np.sin(u / 7.0), intensity=1.0 + 0.5 * np.sin(u / 11.0) ** 2,
                     traverse_x=0.5 * np.sin(u / 13.0))
        t0 = time.perf_counter()
        s = engine.compute(state, est)
        eng_t.append(time.perf_counter() - t0)
        cap_t.append(engine.ceiling_seconds)
        acting += bool(s.cap_acting)
        if s.cap_acting:
            held.append(s.held_back_db)
    warm = slice(UPDATES_PER_S, None)
    e50, c50 = float(np.median(eng_t[warm])), float(np.median(cap_t[warm]))
    return {
        "max_boost_db": max_boost_db, "refit": refit, "updates": n_updates,
        "engine_update": summary_us(np.array(eng_t[warm])),
        "ceiling": summary_us(np.array(cap_t[warm])),
        "ceiling_vs_engine_update_ratio": c50 / max(e50, 1e-12),
        "ceiling_load_pct_of_one_core": float(np.mean(cap_t[warm])) * UPDATES_PER_S * 100.0,
        "acting_share": acting / n_updates,
        "held_back_db_p50": float(np.median(held)) if held else 0.0,
        "held_back_db_max": float(np.max(held)) if held else 0.0,
    }


def _extreme_case(repeats: int, rng) -> dict:
    import time

    from ..control.ceiling import BoostCeiling
    from ..params import FREQ_INDEX, Q_INDEX, param_bounds

    lo, hi = param_bounds(float(FS))
    ceiling = BoostCeiling(FS, 6.0)

    def rnd():
        p = rng.uniform(lo, hi)
        p[FREQ_INDEX] = np.exp(rng.uniform(np.log(lo[FREQ_INDEX]), np.log(hi[FREQ_INDEX])))
        p[Q_INDEX] = np.exp(rng.uniform(np.log(0.1), np.log(10.0), Q_INDEX.size))
        return p

    times, passes, bisected = [], [], 0
    for i in range(repeats):
        weight = None
        if i % 2:
            weight = np.zeros(28)
            start = rng.integers(0, 20)
            weight[start:start + rng.integers(3, 12)] = 1.0
        fwd, inv = rnd(), rnd()
        t0 = time.perf_counter()
        r = ceiling.apply(fwd, inv, weight)
        times.append(time.perf_counter() - t0)
        passes.append(r.passes)
        bisected += r.bisected
    return {"ceiling": summary_us(np.array(times)),
            "passes_histogram": np.bincount(passes).tolist(), "bisected": bisected}


def run(quick: bool = False) -> dict:
    from ..model import load_model

    model = load_model()
    rng = np.random.default_rng(0)
    seconds = 6.0 if quick else 20.0
    x = _programme(seconds, rng)
    out = {"sample_rate": FS, "updates_per_s": UPDATES_PER_S, "audio_s": seconds}
    for name, cap in (("cap_6db", 6.0), ("no_cap", None)):
        out[name] = _live_case(model, cap, x, seconds)
        plain = out[f"{name}_scaling_only"] = _live_case(model, cap, x, seconds, refit=False)
        out[name]["ceiling_vs_scaling_only_p50_ratio"] = (out[name]["ceiling"]["p50_us"]
                                                           / max(plain["ceiling"]["p50_us"], 1e-9))
    out["random_extreme_settings"] = _extreme_case(200 if quick else 1000, rng)
    return out
