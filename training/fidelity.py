"""Per-word fidelity against the crowd's curves, and the two sources' agreement on shared words.

For every word the crowd knows, the decoded centroid's EQ curve is compared with the crowd's curve
(Audealize's cascade, ``training.crowd.audealize_db``) on ``FIDELITY_GRID`` (log, 25 Hz-18 kHz):

- ``corr``: Pearson correlation (level and depth free: the shape people agreed on);
- ``rms_db``: level-free RMS dB against the crowd curve times the depth factor (SAFE's scale);
- ``fit_corr``/``fit_rms_db``: the same for the word's least-squares 5-band fit, the floor any
  5-band EQ in SAFE's layout can reach.

Words that SAFE leads (warm, bright) decode to SAFE's mean; their figures say how well SAFE's
people and the crowd agree, and are counted like every other word.
"""

from __future__ import annotations

import numpy as np

from semeq_live.dsp import response_db

from . import crowd as C
from .vocabulary import Vocabulary

CORR_MEDIAN_GOAL = 0.95
CORR_MIN_GOAL = 0.8


def crowd_fidelity(model, vocab: Vocabulary, fits: dict[str, np.ndarray],
                   sample_rate: float, val=None) -> dict:
    grid = C.FIDELITY_GRID
    words = {}
    for term, lead in zip(vocab.terms, vocab.lead):
        values = vocab.crowd_values(term)
        if values is None:
            continue
        crowd_db = C.audealize_db(values, grid, sample_rate)
        decoded = response_db(model.decode(model.centroid(term)), grid, sample_rate)
        entry = {"lead": lead, "corr": float(C.pearson(decoded, crowd_db)),
                 "rms_db": float(C.rms_level_free(decoded, vocab.depth * crowd_db))}
        if term in fits:
            fit = response_db(fits[term], grid, sample_rate)
            entry["fit_corr"] = float(C.pearson(fit, crowd_db))
            entry["fit_rms_db"] = float(C.rms_level_free(fit, vocab.depth * crowd_db))
        words[term] = entry
    if not words:
        return {}
    corr = np.array([w["corr"] for w in words.values()])
    rms = np.array([w["rms_db"] for w in words.values()])
    out = {
        "depth_factor": vocab.depth,
        "grid": {"f_lo": float(grid[0]), "f_hi": float(grid[-1]), "n": int(grid.size)},
        "n_words": len(words),
        "corr_median": float(np.median(corr)), "corr_min": float(corr.min()),
        "corr_min_word": list(words)[int(np.argmin(corr))],
        "rms_db_median": float(np.median(rms)), "rms_db_max": float(rms.max()),
        "rms_db_max_word": list(words)[int(np.argmax(rms))],
        "words": words,
        # SAFE's mean curve against the crowd's, for the words both know (level-free RMS).
        "shared": _shared(vocab, fits, val),
        "minor_safe": _minor_safe(vocab, sample_rate),
    }
    out["goals"] = {"corr_median_ge_0.95": out["corr_median"] >= CORR_MEDIAN_GOAL,
                    "corr_min_ge_0.8": out["corr_min"] >= CORR_MIN_GOAL}
    return out


def _shared(vocab: Vocabulary, fits: dict, val) -> dict:
    """The two sources on the words both know; with ``val``, the tension in SAFE's own terms.

    ``crowd_fit_val_db``: RMS dB (``training.evaluate.GRID``) between SAFE's validation users' mean
    curve and the crowd's word as a 5-band EQ (its fit, given the level of SAFE's training mean):
    what the word's SAFE fidelity would be if its centroid followed the crowd instead of SAFE.
    """
    from .evaluate import GRID, SAMPLE_RATE, curves, rms

    out = {w: dict(a) for w, a in vocab.shared.items()}
    if val is None:
        return out
    terms = np.array(val.terms)
    for w, a in out.items():
        rows = terms == w
        if rows.any() and w in fits:
            fit = curves(fits[w])
            fit += np.mean(vocab.safe_curve(w, GRID, SAMPLE_RATE)) - np.mean(fit)
            a["crowd_fit_val_db"] = float(rms(fit, curves(val.params[rows]).mean(0)))
    return out


def _minor_safe(vocab: Vocabulary, sample_rate: float) -> dict:
    """SAFE terms the crowd leads (SAFE has too few rows): how their SAFE mean agrees with the crowd."""
    grid = C.FIDELITY_GRID
    out = {}
    terms = np.array(vocab.safe_train.terms)
    for term in vocab.demoted:
        rows = terms == term
        safe = response_db(vocab.safe_train.params[rows], grid, sample_rate).mean(0)
        crowd_db = C.audealize_db(vocab.crowd_values(term), grid, sample_rate)
        users = {u for u, r in zip(vocab.safe_train.users, rows) if r}
        out[term] = {"safe_rows": int(rows.sum()), "safe_users": len(users),
                     "corr": float(C.pearson(safe, crowd_db)),
                     "rms_db": float(C.rms_level_free(safe, vocab.depth * crowd_db))}
    return out
