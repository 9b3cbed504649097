"""The term profile's scale: how far people's own settings of a word lie from the word's curve.

The live term profile (``SemanticModel.curve_similarities``) compares an input's character curve
with every word's curve on the analysis bands, level-free, over the bands with signal. Its
similarity is ``exp(-d^2 / (2 s^2))`` with ``s`` the same distance measured for real people: the
SAFE training settings of each word SAFE leads (many engineers' own settings, e.g. warm and bright)
against that word's mean curve. Distances shrink when fewer bands are judged, so ``s`` must be
measured on the same bands; storing the covariance ``[28, 28]`` of those residual curves gives
``s^2(w)`` for any band weights ``w`` exactly (``semeq_live.model.semantic``), at run time, without
the data.

``python -m training.profile --data ../shared/data/safe_eq.csv --model MODEL.npz`` computes it for
an existing model file (the same training split, from the file's recorded settings) and stores it
as ``profile_spread``: what ``training.train`` writes, without retraining the nets.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from semeq_live.dsp import response_db
from semeq_live.params import ANALYSIS_FREQS

from . import data as D

# A word's own spread needs several people's settings: the words SAFE leads have 20+ rows.
MIN_ROWS = 20


def people_spread(params: np.ndarray, terms: list[str], words: list[str], sample_rate: float,
                  freqs=ANALYSIS_FREQS) -> tuple[np.ndarray, dict]:
    """Covariance ``[B, B]`` (dB^2) of the settings' curves around their own word's mean curve.

    ``params [n, 13]`` and ``terms [n]`` are training rows; only rows of ``words`` (with at least
    ``MIN_ROWS`` rows each) count, pooled. Also returns a summary (rows per word, and ``s`` on all
    bands in dB) for the model card.
    """
    curves = response_db(np.asarray(params, dtype=np.float64), freqs, sample_rate)
    terms = np.asarray(terms)
    counts = {w: int(np.count_nonzero(terms == w)) for w in words}
    # A small data set (a test's) may have no such word: then every word with two rows or more.
    need = MIN_ROWS if any(n >= MIN_ROWS for n in counts.values()) else 2
    residuals, used = [], {}
    for word, n in counts.items():
        if n >= need:
            rows = curves[terms == word]
            residuals.append(rows - rows.mean(axis=0))
            used[word] = n
    if not residuals:
        raise ValueError(f"no word with two or more training rows among {', '.join(words) or 'none'}: "
                         "the term profile's scale needs people's own settings of a word")
    r = np.concatenate(residuals)
    cov = r.T @ r / len(r)
    cov = 0.5 * (cov + cov.T)
    return cov, {"rows": used, "all_bands_db": float(np.sqrt(spread_sq(cov, np.ones(len(cov)))))}


def spread_sq(cov: np.ndarray, weights: np.ndarray) -> float:
    """Mean weighted level-free squared distance (dB^2) of a residual with covariance ``cov``."""
    w = np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    return float(np.diag(cov) @ w) / total - float(w @ cov @ w) / total ** 2


def main(argv=None) -> int:
    from semeq_live.model import load_model
    from semeq_live.model.store import write_model

    p = argparse.ArgumentParser(prog="python -m training.profile", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True, help="the SAFE csv the model was trained on")
    p.add_argument("--model", type=Path, required=True, help="model file to update in place")
    args = p.parse_args(argv)
    with np.load(args.model, allow_pickle=False) as npz:  # validated once the spread is in
        arrays = {k: npz[k] for k in npz.files}
    training = json.loads(str(arrays["training"]))
    raw = D.load_safe_csv(args.data)
    if raw.sha256 != str(arrays["data_sha256"]):
        print(f"training.profile: error: {args.data} is not the data {args.model} was trained on "
              "(sha256 differs)", file=sys.stderr)
        return 2
    rows = D.clean(raw)
    tr, _ = D.split_by_user(rows, training["val_fraction"], training["seed"], training["min_count"])
    train = rows.subset(tr)
    words = [str(t) for t, lead in zip(arrays["terms"], arrays["term_lead"]) if str(lead) == "safe"]
    cov, summary = people_spread(train.params, train.terms, words, float(arrays["sample_rate"]))
    arrays["profile_spread"] = cov
    write_model(args.model, arrays)
    load_model(args.model)  # the updated file loads and validates
    print(f"profile_spread from {sum(summary['rows'].values())} settings "
          f"({', '.join(f'{w} {n}' for w, n in summary['rows'].items())}): "
          f"{summary['all_bands_db']:.2f} dB on all bands; wrote {args.model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
