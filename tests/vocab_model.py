"""A model with a bigger vocabulary for the palette, finder and word-map tests.

The bundled model's networks with extra words added: each extra word is an EQ setting written by
hand for what the word plausibly means (a low shelf for "bassy", a 3 kHz peak for "harsh"...),
its centroid is the encoder's latent of that setting and its curves are the setting's response.
A word the bundled model already has is replaced by the hand-written one (so each test word has
the people count, hence the certainty, written here).
So the words sit where the model itself puts such EQs, and the map, the nearest words and the
palettes are computed from a real model file, not from hand-made coordinates. Example counts
differ per word, which gives the three certainty levels (SAFE words: people = rows here).
"""

from __future__ import annotations

import numpy as np

from semeq_live.dsp.design import response_db
from semeq_live.model import load_model
from semeq_live.model.store import read_model, write_model
from semeq_live.model import DEFAULT_MODEL_PATH
from semeq_live.params import FLAT_PARAMS

# word: ({parameter index: value}, example count). Indices as in semeq_live.params.
EXTRA_WORDS: dict[str, tuple[dict[int, float], int]] = {
    "bassy": ({0: 7.0, 1: 120.0}, 40),
    "thin": ({0: -8.0, 1: 250.0}, 30),
    "boomy": ({2: 7.0, 3: 110.0, 4: 1.2}, 9),
    "muddy": ({2: 6.0, 3: 260.0, 4: 1.0}, 12),
    "boxy": ({5: 6.0, 6: 500.0, 7: 1.4}, 6),
    "honky": ({5: 7.0, 6: 1000.0, 7: 1.6}, 5),
    "nasal": ({5: 6.0, 6: 1600.0, 7: 2.0}, 4),
    "present": ({8: 5.0, 9: 3000.0, 10: 0.9}, 25),
    "harsh": ({8: 7.0, 9: 3600.0, 10: 1.5}, 31),
    "sibilant": ({8: 7.0, 9: 7000.0, 10: 2.0}, 3),
    "airy": ({11: 7.0, 12: 10000.0}, 20),
    "dull": ({11: -8.0, 12: 4000.0}, 18),
    "dark": ({11: -7.0, 12: 3000.0, 0: 3.0, 1: 200.0}, 16),
    "scooped": ({5: -7.0, 6: 800.0, 7: 0.8}, 10),
    "telephone": ({0: -10.0, 1: 400.0, 11: -10.0, 12: 3500.0, 5: 5.0, 6: 1500.0}, 7),
    "soft": ({8: -5.0, 9: 3000.0, 10: 0.8, 11: -3.0, 12: 8000.0}, 53),
    "smooth": ({8: -4.0, 9: 2500.0, 10: 0.7, 0: 2.0, 1: 150.0}, 23),
    "crisp": ({11: 5.0, 12: 6000.0, 8: 3.0, 9: 5000.0, 10: 1.0}, 16),
}


def vocab_model_path(tmp_path, words=None):
    """Write the bigger model to ``tmp_path`` and return its path."""
    words = EXTRA_WORDS if words is None else words
    base = load_model()
    arrays = read_model(DEFAULT_MODEL_PATH)
    n_base = len(base.terms)
    settings = []
    for changes, _count in words.values():
        p = FLAT_PARAMS.copy()
        for i, v in changes.items():
            p[i] = v
        settings.append(p)
    settings = np.array(settings)
    names = list(words)
    counts = np.array([c for _, c in words.values()])
    sr = float(arrays["sample_rate"])
    extra = {
        "terms": np.array(names),
        "term_counts": counts,
        "term_val_counts": np.zeros(len(names), dtype=arrays["term_val_counts"].dtype),
        "centroids": base.encode(settings),
        "term_curves": np.array([response_db(p, arrays["analysis_freqs"], sr) for p in settings]),
        "term_curves_grid": np.array([response_db(p, arrays["curve_grid"], sr)
                                      for p in settings]),
    }
    # Format 2 metadata: SAFE words whose people are their rows.
    n = len(names)
    extra.update({"term_sources": np.array(["safe"] * n), "term_lead": np.array(["safe"] * n),
                  "term_safe_users": counts, "term_contributors": np.zeros(n, dtype=np.int64),
                  "term_agreement": np.zeros(n)})
    keep = np.array([i for i, t in enumerate(base.terms) if t not in words], dtype=int)
    out = dict(arrays)
    for key, a in arrays.items():
        if key == "terms":
            out[key] = np.concatenate([a[keep].astype(str), extra[key]])  # wider strings than a's
        elif key in extra:
            out[key] = np.concatenate([a[keep], extra[key].astype(a.dtype)])
        elif key.startswith("term") and a.ndim >= 1 and a.shape[0] == n_base:
            # per-word metadata this helper does not know: the extra words copy the first word's
            out[key] = np.concatenate([a[keep], np.repeat(a[:1], n, axis=0)])
    path = tmp_path / "vocab.npz"
    write_model(path, out)
    return path
