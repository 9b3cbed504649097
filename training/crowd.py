"""The SocialEQ/Audealize crowd vocabulary: loading, checking, word selection and curves in dB.

The file (``../shared/data/socialeq_words.csv``, see its README) has one row per word: ``word``,
``contributors`` (how many people taught it), ``agreement`` (the authors' score), optional
``map_x``/``map_y`` and the word's 40-band graphic-EQ curve ``g00 ... g39`` in normalised units.

``audealize_db`` plays a curve exactly as Audealize does: min-max normalise the 40 values to
[-1, 1], band ``i`` gets ``5 * amount * value_i`` dB, 40 cookbook peaking biquads (Q 4.31) at
``AUDEALIZE_CENTRES_HZ`` in series; the cascade's magnitude is computed on any frequency grid.

Pure numpy (no torch): the tests recompute fidelity figures with it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from semeq_live.dsp.design import peaking_coeffs

from .data import DataError, file_sha256, normalise_term

AUDEALIZE_CENTRES_HZ = np.array([
    20, 50, 83, 120, 161, 208, 259, 318, 383, 455, 537, 628, 729, 843, 971, 1114, 1273, 1452, 1652,
    1875, 2126, 2406, 2719, 3070, 3462, 3901, 4392, 4941, 5556, 6244, 7014, 7875, 8839, 9917, 11124,
    12474, 13984, 15675, 17566, 19682], dtype=np.float64)
AUDEALIZE_Q = 4.31
AUDEALIZE_GAIN_DB = 5.0  # gain of a band at normalised value 1 and amount 1
N_BANDS = AUDEALIZE_CENTRES_HZ.size
BAND_COLUMNS = tuple(f"g{i:02d}" for i in range(N_BANDS))
REQUIRED_COLUMNS = ("word", "contributors", "agreement", *BAND_COLUMNS)

# The comparison domain of the issue: Pearson correlation / RMS dB on a log grid 25 Hz - 18 kHz.
FIDELITY_GRID = np.geomspace(25.0, 18000.0, 128)

MIN_CONTRIBUTORS = 5

# Words people taught that do not describe how a sound is coloured, so an EQ for them means
# nothing a performer could ask for. Kept short on purpose: every other word with enough people
# stays, including moods ("happy", "scary"): the crowd taught consistent curves for those, and
# Audealize offers them too.
NON_DESCRIPTORS: dict[str, str] = {
    # A greeting / test entry.
    "hello": "greeting or test entry",
    # Approval: says that the person liked the result, not which way the sound moved.
    "good": "approval, no direction", "nice": "approval, no direction",
    "love": "approval, no direction", "beautiful": "approval, no direction",
    "pleasant": "approval, no direction",
    # Genres name a style of music, not a quality of its spectrum.
    "rock": "genre", "funky": "genre",
    # Tempo and melody: properties of the music that an EQ cannot change.
    "fast": "tempo, not timbre", "melodic": "melody, not timbre", "melodious": "melody, not timbre",
    # Not in today's >= 5 list, but the same kinds, so a richer file is filtered alike.
    "music": "names the material", "song": "names the material", "test": "greeting or test entry",
    "hi": "greeting or test entry", "ok": "approval, no direction", "great": "approval, no direction",
    "bad": "approval, no direction", "jazz": "genre", "pop": "genre", "metal": "genre",
    "classical": "genre", "country": "genre", "slow": "tempo, not timbre",
}


@dataclass
class CrowdWords:
    """The rows of a crowd file: ``values [n, 40]`` normalised units, one entry per word."""

    words: list[str]
    contributors: np.ndarray  # [n] int
    agreement: np.ndarray  # [n] float
    values: np.ndarray  # [n, 40]
    lines: list[int]  # file line of each word (for messages)
    source: str = ""
    sha256: str = ""
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.words)

    def subset(self, idx) -> "CrowdWords":
        idx = np.asarray(idx, dtype=int)
        return CrowdWords([self.words[i] for i in idx], self.contributors[idx], self.agreement[idx],
                          self.values[idx], [self.lines[i] for i in idx], self.source, self.sha256,
                          list(self.notes))

    def index(self, word: str) -> int:
        return self.words.index(word)


def _number(text: str, where: str, column: str, integer: bool = False) -> float:
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise DataError(f"{where}: column '{column}': {text.strip()!r} is not {kind}") from None
    if not np.isfinite(value):
        raise DataError(f"{where}: column '{column}': {text.strip()!r} is not finite")
    return value


def load_crowd_csv(path) -> CrowdWords:
    """Read and check a crowd vocabulary file; any problem is a ``DataError`` naming line and column.

    Refused: a missing file or column, a row with too few cells, an empty word, a value that is not
    a (finite) number, a contributor count below 1, a curve whose 40 values are all equal (it cannot
    be normalised), and a word that appears twice (after trimming and lower-casing).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such crowd vocabulary file")
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise DataError(f"{path}: empty file")
    header = [c.strip().lower() for c in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        shown = ", ".join(missing[:6]) + (f" (and {len(missing) - 6} more)" if len(missing) > 6 else "")
        raise DataError(f"{path}:1: missing column(s) {shown}; a crowd vocabulary file needs "
                        f"word, contributors, agreement and g00..g{N_BANDS - 1:02d}")
    col = {c: header.index(c) for c in REQUIRED_COLUMNS}
    words, contributors, agreement, values, lines = [], [], [], [], []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        where = f"{path}:{line}"
        if len(row) < len(header):
            raise DataError(f"{where}: expected {len(header)} columns, got {len(row)}")
        word = normalise_term(row[col["word"]])
        if not word:
            raise DataError(f"{where}: column 'word' is empty")
        if word in seen:
            raise DataError(f"{where}: column 'word': {word!r} appears twice (first on line "
                            f"{seen[word]}); one row per word")
        seen[word] = line
        n = int(_number(row[col["contributors"]], where, "contributors", integer=True))
        if n < 1:
            raise DataError(f"{where}: column 'contributors': {n} (must be at least 1)")
        a = _number(row[col["agreement"]], where, "agreement")
        v = [_number(row[col[c]], where, c) for c in BAND_COLUMNS]
        if max(v) == min(v):
            raise DataError(f"{where}: columns g00..g{N_BANDS - 1:02d}: all 40 values are equal, "
                            "so the curve has no shape to normalise")
        words.append(word)
        contributors.append(n)
        agreement.append(a)
        values.append(v)
        lines.append(line)
    if not words:
        raise DataError(f"{path}: no words found")
    return CrowdWords(words, np.array(contributors, dtype=np.int64), np.array(agreement),
                      np.array(values, dtype=np.float64), lines, source=str(path),
                      sha256=file_sha256(path))


def select_words(crowd: CrowdWords, min_contributors: int = MIN_CONTRIBUTORS,
                 exclude: dict[str, str] | None = None) -> CrowdWords:
    """Words with ``min_contributors`` or more people that describe a sound.

    Nothing is dropped silently: ``notes`` of the result say how many rows went, and why.
    """
    exclude = NON_DESCRIPTORS if exclude is None else exclude
    few = [i for i in range(len(crowd)) if crowd.contributors[i] < min_contributors]
    non = [i for i in range(len(crowd)) if crowd.contributors[i] >= min_contributors
           and crowd.words[i] in exclude]
    drop = set(few) | set(non)
    keep = [i for i in range(len(crowd)) if i not in drop]
    out = crowd.subset(keep)
    reasons: dict[str, list[str]] = {}
    for i in non:
        reasons.setdefault(exclude[crowd.words[i]], []).append(crowd.words[i])
    out.notes = list(crowd.notes) + [
        f"{len(few)} words with fewer than {min_contributors} contributors dropped",
        f"{len(non)} non-descriptors dropped"
        + (": " + "; ".join(f"{', '.join(w)} ({r})" for r, w in reasons.items()) if non else ""),
    ]
    return out


def audealize_gains_db(values, amount: float = 1.0) -> np.ndarray:
    """The 40 band gains (dB) Audealize applies for normalised curve(s) ``[..., 40]``."""
    v = np.asarray(values, dtype=np.float64)
    lo, hi = v.min(-1, keepdims=True), v.max(-1, keepdims=True)
    return AUDEALIZE_GAIN_DB * amount * (2.0 * (v - lo) / (hi - lo) - 1.0)


def audealize_db(values, freqs, sample_rate: float = 48000.0, amount: float = 1.0) -> np.ndarray:
    """Magnitude (dB) of Audealize's 40-biquad cascade for curve(s) ``[..., 40]`` at ``freqs``."""
    gains = audealize_gains_db(values, amount)
    w0 = 2.0 * np.pi * AUDEALIZE_CENTRES_HZ / sample_rate
    b0, b1, b2, a0, a1, a2 = peaking_coeffs(gains[..., :, None], w0[:, None], AUDEALIZE_Q)
    z1 = np.exp(-2j * np.pi * np.asarray(freqs, dtype=np.float64) / sample_rate)
    h = (b0 + b1 * z1 + b2 * z1 * z1) / (a0 + a1 * z1 + a2 * z1 * z1)
    return np.sum(20.0 * np.log10(np.abs(h)), axis=-2)


def centred(curves) -> np.ndarray:
    """Curve(s) minus their mean over the (log-spaced) grid: the level-free shape."""
    c = np.asarray(curves, dtype=np.float64)
    return c - c.mean(-1, keepdims=True)


def pearson(a, b) -> np.ndarray:
    """Pearson correlation of curves along the last axis (level and scale free)."""
    a, b = centred(a), centred(b)
    return np.sum(a * b, -1) / np.sqrt(np.sum(a * a, -1) * np.sum(b * b, -1))


def rms_level_free(a, b) -> np.ndarray:
    """RMS dB difference of curves once their mean difference (a level offset) is removed."""
    d = centred(np.asarray(a) - np.asarray(b))
    return np.sqrt(np.mean(d * d, -1))


def fit_depth(crowd_db, safe_db) -> float:
    """The one factor ``k`` minimising ``sum ||k centred(crowd) - centred(safe)||^2`` over words.

    ``crowd_db``/``safe_db``: ``[n_words, grid]`` curves of the same words (on a log grid). Level
    is left out: the crowd's is an artefact of min-max normalisation.
    """
    c, s = centred(crowd_db), centred(safe_db)
    return float(np.sum(c * s) / np.sum(c * c))
