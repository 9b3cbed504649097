"""The model file: one ``.npz`` of plain arrays (no pickle), validated on load.

Layout (``FORMAT_VERSION`` 2); ``T`` terms, ``L`` latent size, ``G`` dense curve grid, 28 bands.
Version 2 added the vocabulary from two sources (the ``term_sources`` ... ``term_agreement``
arrays); a version 1 file is refused with a message to retrain or use the bundled default.

================================  ==========================================================
``format_version``                int, 0-d
``semeq_version``, ``data_sha256``  0-d unicode: package version at training, sha256 of the data
``coding.is_log/lo/hi``           ``[13]`` parameter coding (see ``training.nets``)
``encoder.*``, ``decoder.*``,     residual MLP weights (torch layout ``[out, in]``), float32
``curve_encoder.*``
``terms``                         ``[T]`` unicode, most people first
``term_sources``                  ``[T]`` unicode: "safe", "socialeq" or "safe+socialeq"
``term_lead``                     ``[T]`` unicode: the source the centroid follows
``term_counts``                   ``[T]`` int: SAFE training rows behind the term (0: none)
``term_safe_users``               ``[T]`` int: distinct SAFE users among those rows
``term_val_counts``               ``[T]`` int: SAFE validation rows (evaluation only)
``term_contributors``             ``[T]`` int: crowd contributors (0: not a crowd word)
``term_agreement``                ``[T]`` float: crowd agreement (0 where no contributors)
``centroids``                     ``[T, L]`` per term: latent fitted to the term's curve
``curve_grid``, ``term_curves_grid``  ``[G]`` Hz, ``[T, G]`` dB: the curve each centroid
                                  follows (SAFE: mean of its settings; crowd: scaled curve)
``analysis_freqs``, ``term_curves``   ``[28]`` Hz, ``[T, 28]`` dB: the same on the analysis bands
``latent_mean``, ``axes``, ``axis_scale``  ``[L]``, ``[2, L]`` unit rows, ``[2]`` sd along them
``profile_scale``                 0-d: latent distance scale (the word map's unit)
``profile_spread``                ``[28, 28]`` dB^2: covariance of people's own settings of a
                                  word around its curve, on the analysis bands: the term
                                  profile's scale for any band weights (``training.profile``)
``curve_scale``                   0-d dB: divisor of the level-free deviation curve
                                  (the curve encoder reads ``[28]`` deviations and ``[28]`` band
                                  weights, ``semeq_live.model.curves.encoder_input``)
``sample_rate``                   0-d: sample rate of all stored curves
``metrics``, ``training``         0-d unicode JSON
================================  ==========================================================
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..fileio import atomic_output
from ..errors import ModelError
from ..params import N_PARAMS
from .terms import SOURCES

FORMAT_VERSION = 2
NETS = ("encoder", "decoder", "curve_encoder")
_RETRAIN_HINT = ("retrain with `python -m training.train --data ../shared/data/safe_eq.csv --crowd "
                 "../shared/data/socialeq_words.csv --out MODEL.npz`, or omit --model to use the "
                 "bundled default")

_SCALARS = ("format_version", "profile_scale", "curve_scale", "sample_rate")
_STRINGS = ("semeq_version", "data_sha256", "metrics", "training")
_ARRAYS = ("coding.is_log", "coding.lo", "coding.hi", "terms", "term_sources", "term_lead",
           "term_counts", "term_safe_users", "term_val_counts", "term_contributors",
           "term_agreement", "centroids", "curve_grid", "term_curves_grid", "analysis_freqs",
           "term_curves", "latent_mean", "axes", "axis_scale", "profile_spread")


def write_model(path, arrays: dict) -> None:
    """Write ``arrays`` (all plain numpy arrays) as an uncompressed ``.npz`` (CRC-checked).

    Uncompressed: float weights barely compress, and loading stays a plain read.
    """
    for k, v in arrays.items():
        if np.asarray(v).dtype == object:
            raise TypeError(f"{k}: object arrays cannot be stored without pickle")
    # Write beside the target and rename: a reader never sees a half-written model.
    with atomic_output(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def read_model(path) -> dict:
    """All arrays of a model file, checked for presence, shapes, types and finiteness.

    Any problem -- missing file, not a zip, truncated, altered bytes, wrong version, missing or
    misshapen array -- raises ``ModelError`` saying what is wrong and what to do.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} not found; {_RETRAIN_HINT}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as exc:  # zipfile, zlib, ValueError, EOFError, ...: all mean "corrupt"
        raise ModelError(f"model file {path} is corrupt or truncated ({type(exc).__name__}: "
                         f"{exc}); {_RETRAIN_HINT}") from None
    try:
        validate_arrays(arrays)
    except ModelError as exc:
        raise ModelError(f"model file {path}: {exc}; {_RETRAIN_HINT}") from None
    return arrays


def _need(arrays, key, kind=None, shape=None):
    if key not in arrays:
        raise ModelError(f"missing array '{key}'")
    a = arrays[key]
    if kind is not None and a.dtype.kind not in kind:
        raise ModelError(f"array '{key}' has type {a.dtype}, expected kind {kind!r}")
    if shape is not None:
        if a.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, a.shape)):
            raise ModelError(f"array '{key}' has shape {a.shape}, expected {shape}")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise ModelError(f"array '{key}' holds non-finite values")
    return a


def validate_arrays(arrays: dict) -> None:
    version = _need(arrays, "format_version", "iu", ())
    if int(version) != FORMAT_VERSION:
        old = (" (a version 1 file has SAFE's few words only, before the crowd vocabulary)"
               if int(version) < FORMAT_VERSION else "")
        raise ModelError(f"format version {int(version)} is not supported (this semeq-live reads "
                         f"version {FORMAT_VERSION}){old}")
    for k in _SCALARS:
        _need(arrays, k, "iuf", ())
    for k in _STRINGS:
        _need(arrays, k, "U", ())
    for k in ("metrics", "training"):
        try:
            if not isinstance(json.loads(str(arrays[k])), dict):
                raise ValueError("not an object")
        except ValueError as exc:
            raise ModelError(f"'{k}' is not a JSON object ({exc})") from None
    for k in _ARRAYS:
        _need(arrays, k)
    terms = _need(arrays, "terms", "U", (None,))
    n_terms = terms.shape[0]
    if n_terms == 0:
        raise ModelError("the model has no terms")
    if len(set(terms.tolist())) != n_terms:
        twice = sorted({t for t in terms.tolist() if terms.tolist().count(t) > 1})
        raise ModelError(f"term(s) {', '.join(twice)} appear more than once")
    latent = _need(arrays, "centroids", "f", (n_terms, None)).shape[1]
    for k in ("coding.lo", "coding.hi"):
        _need(arrays, k, "f", (N_PARAMS,))
    _need(arrays, "coding.is_log", "b", (N_PARAMS,))
    for k in ("term_counts", "term_safe_users", "term_val_counts", "term_contributors"):
        if np.any(_need(arrays, k, "iu", (n_terms,)) < 0):
            raise ModelError(f"array '{k}' holds negative counts")
    _need(arrays, "term_agreement", "f", (n_terms,))
    lead = _need(arrays, "term_lead", "U", (n_terms,))
    for k, sources in enumerate(_need(arrays, "term_sources", "U", (n_terms,))):
        parts = str(sources).split("+")
        if not parts or any(p not in SOURCES for p in parts) or str(lead[k]) not in parts:
            raise ModelError(f"term '{terms[k]}': sources {str(sources)!r} / lead "
                             f"{str(lead[k])!r}: the sources must be among {', '.join(SOURCES)} "
                             "and include the lead")
    n_grid = _need(arrays, "curve_grid", "f", (None,)).shape[0]
    _need(arrays, "term_curves_grid", "f", (n_terms, n_grid))
    n_bands = _need(arrays, "analysis_freqs", "f", (None,)).shape[0]
    _need(arrays, "term_curves", "f", (n_terms, n_bands))
    spread = _need(arrays, "profile_spread", "f", (n_bands, n_bands))
    if not (np.allclose(spread, spread.T) and np.all(np.diag(spread) > 0)):
        raise ModelError("array 'profile_spread' is not a covariance (symmetric, positive diagonal)")
    _need(arrays, "latent_mean", "f", (latent,))
    _need(arrays, "axes", "f", (2, latent))
    _need(arrays, "axis_scale", "f", (2,))
    io = {"encoder": (N_PARAMS, latent), "decoder": (latent, N_PARAMS),
          "curve_encoder": (2 * n_bands, latent)}  # deviation and band weight per band
    for net, (n_in, n_out) in io.items():
        _check_net(arrays, net, n_in, n_out)


def _check_net(arrays, prefix, n_in, n_out):
    w_in = _need(arrays, f"{prefix}.in.w", "f", (None, n_in))
    width = w_in.shape[0]
    _need(arrays, f"{prefix}.in.b", "f", (width,))
    _need(arrays, f"{prefix}.out.w", "f", (n_out, width))
    _need(arrays, f"{prefix}.out.b", "f", (n_out,))
    i = 0
    while f"{prefix}.block{i}.w1" in arrays:
        hidden = _need(arrays, f"{prefix}.block{i}.w1", "f", (None, width)).shape[0]
        _need(arrays, f"{prefix}.block{i}.b1", "f", (hidden,))
        _need(arrays, f"{prefix}.block{i}.w2", "f", (width, hidden))
        _need(arrays, f"{prefix}.block{i}.b2", "f", (width,))
        i += 1
