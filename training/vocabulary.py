"""One vocabulary from two sources: which words, where each one's centroid comes from, its curve.

Words (DESIGN.md section 3):

- SAFE terms with ``min_count`` or more training rows (SAFE-DB: people's own 5-band settings);
- crowd words (SocialEQ/Audealize) with ``MIN_CONTRIBUTORS`` or more people that describe a sound
  (``training.crowd.select_words``).

Which source a word's centroid follows ("leads"): SAFE where it has ``safe_lead_rows`` or more
training rows (then there are enough real settings from several people to average, and they are
validated on held-out people), otherwise the crowd. For warm and bright that is SAFE; the crowd's
curve for them then fits the depth factor and is reported as the two sources' agreement. A word
the crowd leads while SAFE has a few rows for it (e.g. "clear") keeps those rows only as
unlabelled training data (reconstruction), and the card says how far they agree.

Depth: crowd curves (``audealize_db``, centred: their level is an artefact of the min-max
normalisation) are multiplied by ONE factor, least squares against SAFE's mean curves of the words
that SAFE leads and the crowd also has (``crowd.fit_depth``), so every crowd word lands on SAFE's
scale.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from semeq_live.dsp import response_db
from semeq_live.model.terms import SOURCE_CROWD, SOURCE_SAFE, TermInfo
from semeq_live.params import FREQ_INDEX, GAIN_INDEX, Q_INDEX, clamp_params

from . import crowd as C
from .data import DataError, EQRows

SAFE_LEAD_ROWS = 20

# Training rows per crowd word: its least-squares 5-band fit, and variations of it. The crowd gives
# one agreed curve per word, not each person's setting, so the spread is synthetic: the same shape
# deeper or shallower (Audealize's own "amount" slider; the depth factor is an estimate too) and
# small detunings of each band.
CROWD_ROWS_PER_WORD = 32
DEPTH_JITTER = (0.6, 1.4)
GAIN_JITTER_DB = 0.25
FREQ_JITTER_LOG = 0.06
Q_JITTER_LOG = 0.10


@dataclass
class Vocabulary:
    """The words of the model, in their exported order, with their evidence and targets."""

    infos: list[TermInfo]
    depth: float  # crowd dB -> SAFE dB
    crowd: C.CrowdWords | None  # the selected crowd words
    safe_train: EQRows
    notes: list[str] = field(default_factory=list)
    shared: dict = field(default_factory=dict)  # word -> SAFE/crowd agreement (corr, rms_db)
    demoted: list[str] = field(default_factory=list)  # SAFE terms whose centroid the crowd leads

    @property
    def terms(self) -> list[str]:
        return [i.name for i in self.infos]

    @property
    def lead(self) -> list[str]:
        """Per term: SOURCE_SAFE or SOURCE_CROWD, the source whose data the centroid follows."""
        return [i.lead for i in self.infos]

    def crowd_values(self, term: str) -> np.ndarray | None:
        if self.crowd is None or term not in self.crowd.words:
            return None
        return self.crowd.values[self.crowd.index(term)]

    def crowd_curve(self, term: str, freqs, sample_rate: float) -> np.ndarray | None:
        """The crowd's curve for ``term`` on SAFE's scale: depth * centred Audealize dB."""
        v = self.crowd_values(term)
        if v is None:
            return None
        return self.depth * C.centred(C.audealize_db(v, freqs, sample_rate))

    def safe_curve(self, term: str, freqs, sample_rate: float) -> np.ndarray | None:
        """Mean response of the term's SAFE training rows (None if SAFE has none)."""
        rows = np.array(self.safe_train.terms) == term
        if not rows.any():
            return None
        return response_db(self.safe_train.params[rows], freqs, sample_rate).mean(0)

    def target_curves(self, freqs, sample_rate: float) -> np.ndarray:
        """``[T, len(freqs)]``: the curve each centroid is fitted to (its leading source's)."""
        return np.stack([self.safe_curve(t, freqs, sample_rate) if lead == SOURCE_SAFE
                         else self.crowd_curve(t, freqs, sample_rate)
                         for t, lead in zip(self.terms, self.lead)])

    def safe_labels(self) -> np.ndarray:
        """Label per SAFE training row: the term index if SAFE leads that term, else -1."""
        index = {t: k for k, (t, lead) in enumerate(zip(self.terms, self.lead)) if lead == SOURCE_SAFE}
        return np.array([index.get(t, -1) for t in self.safe_train.terms])


def build_vocabulary(safe_train: EQRows, crowd: C.CrowdWords | None, min_count: int,
                     sample_rate: float, safe_lead_rows: int = SAFE_LEAD_ROWS) -> Vocabulary:
    """Choose the words and their leading source, fit the depth factor (see the module doc)."""
    rows = Counter(safe_train.terms)
    users: dict[str, set] = {}
    for t, u in zip(safe_train.terms, safe_train.users):
        users.setdefault(t, set()).add(u)
    safe_terms = [t for t, n in rows.items() if n >= min_count]
    crowd_words = [] if crowd is None else list(crowd.words)
    notes, demoted = [], []
    infos = []
    for term in sorted(set(safe_terms) | set(crowd_words)):
        in_crowd = term in crowd_words
        safe_leads = term in safe_terms and (not in_crowd or rows[term] >= safe_lead_rows)
        n_contrib = int(crowd.contributors[crowd.index(term)]) if in_crowd else 0
        agreement = float(crowd.agreement[crowd.index(term)]) if in_crowd else None
        if safe_leads:
            sources = (SOURCE_SAFE, SOURCE_CROWD) if in_crowd else (SOURCE_SAFE,)
            info = TermInfo(term, sources, rows[term], len(users[term]), n_contrib, agreement,
                            lead=SOURCE_SAFE)
        else:
            if term in safe_terms:
                demoted.append(term)
                notes.append(f"'{term}': the crowd's {n_contrib} contributors lead; SAFE's "
                             f"{rows[term]} rows from {len(users[term])} users (fewer than "
                             f"{safe_lead_rows}) train reconstruction only")
            info = TermInfo(term, (SOURCE_CROWD,), 0, 0, n_contrib, agreement, lead=SOURCE_CROWD)
        infos.append(info)
    infos.sort(key=lambda i: (-i.people, i.name))
    vocab = Vocabulary(infos, 1.0, crowd, safe_train, notes, demoted=demoted)
    if crowd is not None:
        anchors = [t for t, ld in zip(vocab.terms, vocab.lead) if ld == SOURCE_SAFE and t in crowd_words]
        if not anchors:
            raise DataError(
                f"{crowd.source}: shares no word with SAFE's well-covered terms "
                f"(>= {safe_lead_rows} training rows: "
                f"{', '.join(t for t in safe_terms if rows[t] >= safe_lead_rows) or 'none'}), so "
                "the crowd's depth cannot be put on SAFE's scale")
        grid = C.FIDELITY_GRID
        crowd_db = np.stack([C.audealize_db(vocab.crowd_values(t), grid, sample_rate) for t in anchors])
        safe_db = np.stack([vocab.safe_curve(t, grid, sample_rate) for t in anchors])
        vocab.depth = C.fit_depth(crowd_db, safe_db)
        for t, c, s in zip(anchors, crowd_db, safe_db):
            vocab.shared[t] = {"corr": float(C.pearson(c, s)),
                               "rms_db": float(C.rms_level_free(vocab.depth * c, s))}
    return vocab


def crowd_training_rows(vocab: Vocabulary, fits: dict[str, np.ndarray], rng: np.random.Generator,
                        per_word: int = CROWD_ROWS_PER_WORD) -> tuple[EQRows, np.ndarray]:
    """Labelled rows for the crowd-led words: each word's fit, then jittered copies of it.

    ``fits``: word -> its least-squares 5-band setting. Crowd words that SAFE leads (warm, bright)
    are added unlabelled: their shapes are worth reconstructing, but SAFE's own rows define them.
    """
    params, terms, labels = [], [], []
    index = {t: k for k, t in enumerate(vocab.terms)}
    for word in sorted(fits):
        base = np.asarray(fits[word], dtype=np.float64)
        p = np.repeat(base[None], per_word, axis=0)
        depth = rng.uniform(*DEPTH_JITTER, (per_word, 1))
        p[:, GAIN_INDEX] = p[:, GAIN_INDEX] * depth + rng.normal(0, GAIN_JITTER_DB, (per_word, len(GAIN_INDEX)))
        p[:, FREQ_INDEX] *= np.exp(rng.normal(0, FREQ_JITTER_LOG, (per_word, len(FREQ_INDEX))))
        p[:, Q_INDEX] *= np.exp(rng.normal(0, Q_JITTER_LOG, (per_word, len(Q_INDEX))))
        p[0] = base  # the fit itself
        params.append(clamp_params(p))
        terms += [word] * per_word
        led = vocab.lead[index[word]] == SOURCE_CROWD if word in index else False
        labels += [index[word] if led else -1] * per_word
    rows = EQRows(np.concatenate(params), terms, ["socialeq"] * len(terms), vocab.crowd.source,
                  vocab.crowd.sha256)
    return rows, np.array(labels, dtype=np.int64)

