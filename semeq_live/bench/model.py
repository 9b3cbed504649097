"""Bench section ``model``: the live model calls, numpy runtime vs torch eager, same run.

Timed: one-vector decode, a morph (two centroids blended, then decoded), the curve encoder, and
the term profile over the whole vocabulary as the analyzer computes it at every estimate: an
input's deviation curve against every word's curve on the bands with signal
(``curve_similarities``: the vector; ``curve_profile``: the ranked list the panel shows; the goal
is on this one). Also timed, without a goal: ``term_profile`` of a latent, which first decodes it
and computes its EQ's curve (no live caller). The torch side is rebuilt from the very weights,
centroids and word curves in the model file (``training.nets``), so both sides compute the same
function; their outputs are compared as a sanity check. Each numpy/torch pair is timed in alternating chunks of 100 calls
(shared machines drift). Without torch the comparison is skipped and the report says so; the
numpy figures are still measured.
"""

from __future__ import annotations

import numpy as np

from . import summary_us, time_calls

NAME = "model"
CHUNK = 100


def _torch_side(arrays, model):
    import torch

    from training.nets import Decoder

    dec = Decoder.from_arrays(arrays).float().eval()
    centroids = torch.tensor(np.asarray(arrays["centroids"]), dtype=torch.float32)
    words = torch.tensor(np.asarray(arrays["term_curves"]), dtype=torch.float64)
    spread = torch.tensor(np.asarray(arrays["profile_spread"]), dtype=torch.float64)
    spread_diag = torch.diagonal(spread)

    def decode(zt):
        with torch.no_grad():
            return dec(zt)

    def morph(ia, ib, alpha):
        with torch.no_grad():
            return dec(((1.0 - alpha) * centroids[ia] + alpha * centroids[ib])[None, :])

    def profile(curve, w):  # SemanticModel.curve_similarities, ranked
        with torch.no_grad():
            total = w.sum()
            diff = words - curve
            diff = diff - (diff @ w / total)[:, None]
            d2 = (diff * diff) @ w / total
            spread_sq = spread_diag @ w / total - w @ spread @ w / total ** 2
            sim = torch.exp(-0.5 * d2 / spread_sq)
            return torch.sort(sim, descending=True, stable=True)

    return torch, decode, morph, profile


def _pairs(a, b, repeats):
    """Time ``a`` and ``b`` in alternating chunks; summaries of both."""
    sa, sb = [], []
    for _ in range(max(1, repeats // CHUNK)):
        sa.append(time_calls(a, CHUNK))
        sb.append(time_calls(b, CHUNK))
    return summary_us(np.concatenate(sa)), summary_us(np.concatenate(sb))


def _pick_pair(model) -> tuple[str, str]:
    if {"warm", "bright"} <= set(model.terms):
        return "warm", "bright"
    return model.terms[0], model.terms[min(1, len(model.terms) - 1)]


def run(quick: bool = False) -> dict:
    from ..model import DEFAULT_MODEL_PATH, load_model
    from ..model.store import read_model

    repeats = 300 if quick else 3000
    arrays = read_model(DEFAULT_MODEL_PATH)
    model = load_model(DEFAULT_MODEL_PATH)
    term_a, term_b = _pick_pair(model)
    z = model.morph_latent(term_a, term_b, 0.3)
    dev = model.term_curve(term_a)
    # What the analyzer hands the profile: a level-free deviation and the judged bands (here a
    # source from 63 Hz up; the cost does not depend on which bands).
    weights = np.clip((model.analysis_freqs - 40.0) / 40.0, 0.0, 1.0)
    curve = dev - float(dev @ weights) / float(weights.sum())
    for _ in range(50):  # warm caches and numpy's dispatch
        model.decode(z)
        model.curve_profile(curve, weights, check=False)
    out = {
        "model": str(DEFAULT_MODEL_PATH.name),
        "latent_dim": model.latent_dim,
        "n_terms": len(model.terms),
        "morph_terms": [term_a, term_b],
        "numpy_decode": summary_us(time_calls(lambda: model.decode(z), repeats)),
        "numpy_morph": summary_us(time_calls(lambda: model.morph(term_a, term_b, 0.3), repeats)),
        "numpy_encode_curve": summary_us(time_calls(lambda: model.encode_curve(dev), repeats)),
        "numpy_term_similarities": summary_us(time_calls(
            lambda: model.curve_similarities(curve, weights, check=False), repeats)),
        "numpy_term_profile": summary_us(time_calls(
            lambda: model.curve_profile(curve, weights, check=False), repeats)),
        "numpy_term_profile_of_latent": summary_us(time_calls(lambda: model.term_profile(z), repeats)),
    }
    try:
        torch, t_decode, t_morph, t_profile = _torch_side(arrays, model)
    except ImportError as exc:
        out["torch_decode"] = None
        out["torch_skipped"] = f"torch (or the training package) is not installed: {exc}"
        return out
    # One intra-op thread, like the numpy side: on a shared 2-core machine torch's default pool
    # spins against other work and made a single decode ~15x slower, which says nothing about
    # either implementation.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _compare(out, model, z, (curve, weights), torch, t_decode, t_morph, t_profile,
                        term_a, term_b, repeats)
    finally:
        torch.set_num_threads(threads)


def _compare(out, model, z, profile_args, torch, t_decode, t_morph, t_profile, term_a, term_b,
             repeats) -> dict:
    zt = torch.tensor(z[None, :], dtype=torch.float32)
    curve, weights = profile_args
    ct, wt = torch.tensor(curve), torch.tensor(weights)
    ia, ib = model.terms.index(term_a), model.terms.index(term_b)
    for _ in range(50):
        t_decode(zt), t_morph(ia, ib, 0.3), t_profile(ct, wt)
    out["numpy_decode"], out["torch_decode"] = _pairs(lambda: model.decode(z), lambda: t_decode(zt),
                                                      repeats)
    out["numpy_morph"], out["torch_morph"] = _pairs(lambda: model.morph(term_a, term_b, 0.3),
                                                    lambda: t_morph(ia, ib, 0.3), repeats)
    out["numpy_term_profile"], out["torch_term_profile"] = _pairs(
        lambda: model.curve_profile(curve, weights, check=False), lambda: t_profile(ct, wt), repeats)
    out["torch_threads"] = torch.get_num_threads()
    for name in ("decode", "morph", "term_profile"):
        out[f"{name}_speedup_p50"] = out[f"torch_{name}"]["p50_us"] / out[f"numpy_{name}"]["p50_us"]
    out["speedup_p50"] = out["decode_speedup_p50"]
    out["speedup_p99"] = out["torch_decode"]["p99_us"] / out["numpy_decode"]["p99_us"]
    ref = t_decode(zt).double().numpy()[0]
    # relative for frequencies, absolute (per dB) for gains near 0
    err = np.abs(model.decode(z) - ref) / np.maximum(np.abs(ref), 1.0)
    out["max_rel_diff_vs_torch_float32"] = float(np.max(err))
    sim_t = t_profile(ct, wt)
    ranked = [t for t, _ in model.curve_profile(curve, weights)]
    out["term_profile_same_ranking_as_torch"] = ranked == [model.terms[i] for i in sim_t.indices.tolist()]
    out["term_profile_max_abs_diff_vs_torch"] = float(np.max(np.abs(
        np.sort(model.curve_similarities(curve, weights))[::-1] - sim_t.values.numpy())))
    out["goals"] = {"morph_p50_le_30us": out["numpy_morph"]["p50_us"] <= 30.0,
                    "term_profile_p50_le_50us": out["numpy_term_profile"]["p50_us"] <= 50.0}
    return out
