"""Bench section ``model``: single-vector decode time, numpy runtime vs torch eager, same run.

The torch decoder is rebuilt from the very weights in the model file (``training.nets``), so the
two sides compute the same function; their outputs are compared as a sanity check. With torch, the
two decoders are timed in alternating chunks of 100 calls (shared machines drift). Without torch
the comparison is skipped and the report says so; the numpy figures are still measured.
"""

from __future__ import annotations

import numpy as np

from . import summary_us, time_calls

NAME = "model"


def _torch_decoder(arrays):
    import torch

    from training.nets import Decoder

    dec = Decoder.from_arrays(arrays).float().eval()
    return torch, dec


def run(quick: bool = False) -> dict:
    from ..model import DEFAULT_MODEL_PATH, load_model
    from ..model.store import read_model

    repeats = 300 if quick else 3000
    arrays = read_model(DEFAULT_MODEL_PATH)
    model = load_model(DEFAULT_MODEL_PATH)
    z = model.morph_latent(model.terms[0], model.terms[1], 0.3)
    dev = model.term_curve(model.terms[0])
    for _ in range(50):  # warm caches and numpy's dispatch
        model.decode(z)
    out = {
        "model": str(DEFAULT_MODEL_PATH.name),
        "latent_dim": model.latent_dim,
        "numpy_decode": summary_us(time_calls(lambda: model.decode(z), repeats)),
        "numpy_morph": summary_us(time_calls(
            lambda: model.morph(model.terms[0], model.terms[1], 0.3), repeats)),
        "numpy_encode_curve": summary_us(time_calls(lambda: model.encode_curve(dev), repeats)),
        "numpy_term_profile": summary_us(time_calls(lambda: model.term_profile(z), repeats)),
    }
    try:
        torch, dec = _torch_decoder(arrays)
    except ImportError as exc:
        out["torch_decode"] = None
        out["torch_skipped"] = f"torch (or the training package) is not installed: {exc}"
        return out
    zt = torch.tensor(z[None, :], dtype=torch.float32)

    def torch_decode():
        with torch.no_grad():
            return dec(zt)

    for _ in range(50):
        torch_decode()
    # Interleave the two in chunks so a change in machine load hits both sides alike.
    np_samples, torch_samples = [], []
    for _ in range(max(1, repeats // 100)):
        np_samples.append(time_calls(lambda: model.decode(z), 100))
        torch_samples.append(time_calls(torch_decode, 100))
    out["numpy_decode"] = summary_us(np.concatenate(np_samples))
    out["torch_decode"] = summary_us(np.concatenate(torch_samples))
    out["torch_threads"] = torch.get_num_threads()
    out["speedup_p50"] = out["torch_decode"]["p50_us"] / out["numpy_decode"]["p50_us"]
    out["speedup_p99"] = out["torch_decode"]["p99_us"] / out["numpy_decode"]["p99_us"]
    ref = torch_decode().double().numpy()[0]
    # relative for frequencies, absolute (per dB) for gains near 0
    err = np.abs(model.decode(z) - ref) / np.maximum(np.abs(ref), 1.0)
    out["max_rel_diff_vs_torch_float32"] = float(np.max(err))
    return out
