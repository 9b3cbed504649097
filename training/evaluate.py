"""Evaluation in the response domain (dB of the EQ curve) on validation users, with baselines.

Runs on the numpy runtime model (``semeq_live.model.SemanticModel``), i.e. on exactly what ships.
Two baselines are computed from the same training rows:

- ``param_average``: per-term mean of the raw parameters (what the SAFE plugin does);
- ``curve_average``: per-term mean of the response curves (in dB).

Curves are compared on ``GRID`` (96 log-spaced points, 20 Hz-20 kHz, 48 kHz) as RMS dB.
"""

from __future__ import annotations

import numpy as np

from semeq_live.dsp import log_frequency_grid, response_db
from semeq_live.model.curves import remove_level
from semeq_live.params import ANALYSIS_FREQS

from .curves import spectral_noise
from .data import EQRows
from .nets import param_coding

GRID = log_frequency_grid(96)
SAMPLE_RATE = 48000.0
ALPHA_STEPS = 101
# "As good as curve averaging": within this margin (far below an audible EQ difference).
FIDELITY_TIE_DB = 0.05
GOALS = {"reconstruction_median_db": 1.0, "fidelity_db": 1.0, "warm_bright_accuracy": 0.9,
         "max_alpha_step_db": 0.5}
# The SAFE-only model before the crowd vocabulary (format 1, seed 0, the same split by user):
# warm / bright centroid fidelity (dB) and warm/bright nearest-centroid accuracy. Adding the crowd's
# words must not make these worse (fidelity within FIDELITY_TIE_DB).
SAFE_ONLY_MODEL = {"warm": 1.2299, "bright": 1.4341, "warm_bright_accuracy": 0.8839}


def curves(params) -> np.ndarray:
    return response_db(params, GRID, SAMPLE_RATE)


def rms(a, b, axis=-1):
    return np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2, axis=axis))


def coded(params) -> np.ndarray:
    """Parameters on the model's [-1, 1] coding (gains linear, frequency and Q log)."""
    is_log, lo, hi = param_coding()
    t = np.where(is_log, np.log(np.maximum(params, 1e-6)), params)
    return 2.0 * (t - lo) / (hi - lo) - 1.0


def _stats(errors) -> dict:
    e = np.asarray(errors)
    return {"median_db": float(np.median(e)), "p90_db": float(np.percentile(e, 90)), "n": int(e.size)}


def nearest_accuracy(points, labels, means: dict, metric="euclidean") -> float:
    names = list(means)
    m = np.stack([means[t] for t in names])
    d = np.sqrt(np.sum((points[:, None, :] - m[None]) ** 2, axis=-1))
    pred = np.array(names)[np.argmin(d, axis=1)]
    return float(np.mean(pred == np.asarray(labels)))


def knn_accuracy(train_x, train_y, x, y, k: int = 5) -> float:
    d = np.sum((x[:, None, :] - train_x[None]) ** 2, axis=-1)
    nearest = np.asarray(train_y)[np.argsort(d, axis=1)[:, :k]]
    pred = []
    for row in nearest:
        names, counts = np.unique(row, return_counts=True)
        pred.append(names[np.argmax(counts)])
    return float(np.mean(np.array(pred) == np.asarray(y)))


def silhouette(points, labels) -> float:
    """Mean silhouette (Euclidean) over points whose class has at least two members."""
    labels = np.asarray(labels)
    classes = [c for c in np.unique(labels) if np.sum(labels == c) >= 2]
    keep = np.isin(labels, classes)
    x, y = points[keep], labels[keep]
    if len(classes) < 2:
        return float("nan")
    d = np.sqrt(np.sum((x[:, None, :] - x[None]) ** 2, axis=-1))
    s = np.empty(len(x))
    for i in range(len(x)):
        same = y == y[i]
        a = d[i, same].sum() / (same.sum() - 1)
        b = min(d[i, y == c].mean() for c in classes if c != y[i])
        s[i] = (b - a) / max(a, b, 1e-12)
    return float(s.mean())


def evaluate(model, train: EQRows, val: EQRows, min_val_rows: int = 5) -> dict:
    """All metrics of the issue on SAFE's validation users, model beside the two baselines.

    ``train``/``val`` are SAFE rows. Per-term baselines exist for the words SAFE leads; in the
    "all terms" separation a crowd-led word's curve baseline is its own (crowd) curve.
    """
    vocab = list(model.terms)
    safe_led = [t for t in vocab if model.term_info(t).lead != "socialeq"]
    train_terms, val_terms = np.array(train.terms), np.array(val.terms)
    param_mean = {t: train.params[train_terms == t].mean(0) for t in safe_led}
    train_curves = curves(train.params)
    curve_mean = {t: train_curves[train_terms == t].mean(0) for t in safe_led}
    term_curve = {t: curve_mean[t] if t in curve_mean else model.term_curve(t, GRID) for t in vocab}
    val_curves = curves(val.params)
    in_vocab = np.isin(val_terms, safe_led)

    # Reconstruction: each validation setting through encode -> decode.
    recon = curves(model.decode(model.encode(val.params)))
    err = rms(recon, val_curves)
    vt = val_terms[in_vocab]
    reconstruction = {
        "model": _stats(err),
        "model_on_term_rows": _stats(err[in_vocab]),
        "param_average": _stats(rms(curves(np.stack([param_mean[t] for t in vt])),
                                    val_curves[in_vocab])),
        "curve_average": _stats(rms(np.stack([curve_mean[t] for t in vt]), val_curves[in_vocab])),
    }

    # Per-term fidelity of the decoded centroid against the validation mean curve.
    fidelity = {}
    for t in safe_led:
        rows = val_terms == t
        if rows.sum() < min_val_rows:
            continue
        target = val_curves[rows].mean(0)
        fidelity[t] = {
            "n_val": int(rows.sum()),
            "model": float(rms(curves(model.decode(model.centroid(t))), target)),
            "param_average": float(rms(curves(param_mean[t]), target)),
            "curve_average": float(rms(curve_mean[t], target)),
        }

    # Separation: nearest centroid on validation latents; baselines in parameter / curve space.
    z_val = model.encode(val.params)
    centroids = {t: model.centroid(t) for t in vocab}
    wb = [t for t in ("warm", "bright") if t in safe_led]
    separation = {}
    for name, terms in (("warm_bright", wb), ("all_terms", vocab)):
        rows = np.isin(val_terms, [t for t in terms if t in safe_led])
        if len(terms) < 2 or rows.sum() == 0:
            continue
        labels = val_terms[rows]
        fit_terms = np.isin(train_terms, terms)
        separation[name] = {
            "n": int(rows.sum()),
            "n_terms": len(terms),
            "model_accuracy": nearest_accuracy(z_val[rows], labels, {t: centroids[t] for t in terms}),
            # Only where every candidate has SAFE settings to average.
            "param_average_accuracy": nearest_accuracy(
                coded(val.params[rows]), labels, {t: coded(param_mean[t]) for t in terms})
            if all(t in param_mean for t in terms) else None,
            "curve_average_accuracy": nearest_accuracy(
                val_curves[rows], labels, {t: term_curve[t] for t in terms}),
            # Reference, not a baseline: how separable these validation users' terms are at all
            # from the training users' settings (5 nearest neighbours on the full curves).
            "curve_knn5_accuracy": knn_accuracy(train_curves[fit_terms], train_terms[fit_terms],
                                                val_curves[rows], labels, k=5),
            "model_silhouette": silhouette(z_val[rows], labels),
            "param_silhouette": silhouette(coded(val.params[rows]), labels),
            "curve_silhouette": silhouette(val_curves[rows], labels),
        }

    metrics = {"reconstruction": reconstruction, "fidelity": fidelity, "separation": separation}
    if len(wb) == 2:
        metrics["smoothness"] = smoothness(model, param_mean, curve_mean)
    metrics["goals"] = goals(metrics)
    return metrics


def alpha_path_max_step(model, term_a="warm", term_b="bright", steps=ALPHA_STEPS) -> float:
    """Largest curve change (dB, any frequency) between neighbouring alpha steps of the morph."""
    alphas = np.linspace(0.0, 1.0, steps)
    za, zb = model.centroid(term_a), model.centroid(term_b)
    c = curves(model.decode((1.0 - alphas)[:, None] * za + alphas[:, None] * zb))
    return float(np.max(np.abs(np.diff(c, axis=0))))


def smoothness(model, param_mean, curve_mean, steps=ALPHA_STEPS) -> dict:
    alphas = np.linspace(0.0, 1.0, steps)[:, None]
    p = (1.0 - alphas) * param_mean["warm"] + alphas * param_mean["bright"]
    c = (1.0 - alphas) * curve_mean["warm"] + alphas * curve_mean["bright"]
    return {
        "model_max_step_db": alpha_path_max_step(model, steps=steps),
        "param_average_max_step_db": float(np.max(np.abs(np.diff(curves(p), axis=0)))),
        "curve_average_max_step_db": float(np.max(np.abs(np.diff(c, axis=0)))),
        "steps": steps,
    }


def goals(metrics: dict) -> dict:
    out = {"reconstruction_median_le_1db":
           metrics["reconstruction"]["model"]["median_db"] <= GOALS["reconstruction_median_db"]}
    for t in ("warm", "bright"):
        f = metrics["fidelity"].get(t)
        if f:
            out[f"{t}_fidelity_le_1db"] = f["model"] <= GOALS["fidelity_db"]
            out[f"{t}_fidelity_as_good_as_curve_average"] = \
                f["model"] <= f["curve_average"] + FIDELITY_TIE_DB
            out[f"{t}_fidelity_as_good_as_safe_only_model"] = \
                f["model"] <= SAFE_ONLY_MODEL[t] + FIDELITY_TIE_DB
    if "warm_bright" in metrics["separation"]:
        acc = metrics["separation"]["warm_bright"]["model_accuracy"]
        out["warm_bright_accuracy_ge_0.9"] = acc >= GOALS["warm_bright_accuracy"]
        out["warm_bright_accuracy_as_good_as_safe_only_model"] = \
            acc >= SAFE_ONLY_MODEL["warm_bright_accuracy"] - 1e-4
    if "smoothness" in metrics:
        out["alpha_step_le_0.5db"] = \
            metrics["smoothness"]["model_max_step_db"] <= GOALS["max_alpha_step_db"]
    return out


def evaluate_curve_encoder(model, val: EQRows, seed: int = 1234) -> dict:
    """How well the curve encoder reads validation settings from (noisy) analysis-band curves.

    ``latent_rms``: RMS over latent dimensions of ``encode_curve(curve) - encode(p)``;
    ``curve_db``: level-free RMS dB between the EQ curve re-decoded from the estimated latent and
    the true one (what the adaptive inverse filter would get wrong); ``warm_bright_accuracy``:
    nearest centroid from the estimated latent.
    """
    rng = np.random.default_rng(seed)
    true = response_db(val.params, ANALYSIS_FREQS, SAMPLE_RATE)
    z_true = model.encode(val.params)
    out = {}
    terms = np.array(val.terms)
    wb = np.isin(terms, ["warm", "bright"])
    for name, noise in (("clean", 0.0), ("noisy", spectral_noise(rng, len(true), clean_fraction=0.0))):
        z = model.encode_curve(true + noise)
        back = response_db(model.decode(z), ANALYSIS_FREQS, SAMPLE_RATE)
        err = rms(remove_level(back), remove_level(true))
        out[name] = {
            "latent_rms": float(np.sqrt(np.mean((z - z_true) ** 2))),
            "curve_db": _stats(err),
        }
        if wb.any() and {"warm", "bright"} <= set(model.terms):
            out[name]["warm_bright_accuracy"] = nearest_accuracy(
                z[wb], terms[wb], {t: model.centroid(t) for t in ("warm", "bright")})
    return out
