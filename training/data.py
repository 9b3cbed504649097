"""Loading and cleaning SAFE-DB equaliser settings, and the train/validation split by user.

Two file layouts are read:

- the developer file ``safe_eq.csv`` (header ``entry,term,user,<13 params>,genre,instrument,
  experience``; see ``../shared/data/README.md``);
- the original public ``SAFEEqualiserUserData.csv`` (no header): entry, descriptor, address, two
  integers, the 13 EQ values, genre, instrument, location, experience, age, language, hash. The
  address is replaced by a short hash so no address is kept in memory longer than needed.

Clean-up: terms are trimmed and lower-cased; junk labels ("test", "default", plug-in and microphone
model codes such as "re27" or "lv2") are dropped; obvious typos of a dominant term ("brght",
"wawrm") are folded into it; exact duplicate rows (same user, term and setting) are kept once.
Settings are clamped to the SAFE ranges.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from semeq_live.params import N_PARAMS, PARAM_NAMES, clamp_params

# Labels people type when they are not describing a sound.
JUNK_TERMS = frozenset({
    "test", "testing", "default", "hello", "hi", "none", "preset", "init", "untitled", "new",
    "lv2", "vst", "au", "ladspa", "asdf", "xxx", "eq", "my", "temp",
    # Sources, not sounds: some users typed the instrument instead of what the EQ did to it.
    "guitar", "guitars", "bass", "drums", "drum", "kick", "snare", "vocal", "vocals", "voice",
    "piano", "keys", "synth", "mix", "master",
})
_JUNK_PATTERNS = (
    re.compile(r"^(test|default|preset|untitled|setting)[\s_\-]*\d*$"),
    # Equipment model codes (microphones, plug-in formats): letters then 2+ digits, e.g. re27, sm57.
    re.compile(r"^[a-z]{1,3}[\s\-]?\d{2,}([\s\-]\d+)?$"),
    re.compile(r"^[^a-z]*$"),  # no letters at all
)

# Typo folding: a rare term is folded into a dominant one when it is this similar (difflib ratio),
# at most one letter longer or shorter, and the dominant term is far more frequent.
TYPO_SIMILARITY = 0.8
TYPO_DOMINANCE = 10
TYPO_MIN_TARGET_COUNT = 20


@dataclass
class EQRows:
    """Settings with their descriptors: ``params [n, 13]``, ``terms``, ``users`` (length n)."""

    params: np.ndarray
    terms: list[str]
    users: list[str]
    source: str = ""
    sha256: str = ""
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.terms)

    def subset(self, idx) -> "EQRows":
        idx = np.asarray(idx, dtype=int)
        return EQRows(self.params[idx], [self.terms[i] for i in idx], [self.users[i] for i in idx],
                      self.source, self.sha256, list(self.notes))


class DataError(ValueError):
    """A data file that cannot be read as SAFE-DB equaliser settings."""


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _floats(values, where: str) -> list[float]:
    try:
        out = [float(v) for v in values]
    except ValueError:
        raise DataError(f"{where}: EQ values are not numbers: {values!r}") from None
    if not all(np.isfinite(out)):
        raise DataError(f"{where}: EQ values must be finite")
    return out


def load_safe_csv(path) -> EQRows:
    """Read either layout (detected from the first row); raw terms, no clean-up yet."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such data file")
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise DataError(f"{path}: empty file")
    header = [c.strip().lower() for c in rows[0]]
    if "term" in header and all(n in header for n in PARAM_NAMES):
        params, terms, users = _read_developer(rows, header, path)
    else:
        params, terms, users = _read_original(rows, path)
    if not terms:
        raise DataError(f"{path}: no settings found")
    return EQRows(np.array(params, dtype=np.float64).reshape(-1, N_PARAMS), terms, users,
                  source=str(path), sha256=file_sha256(path))


def _read_developer(rows, header, path):
    ti, ui = header.index("term"), header.index("user") if "user" in header else None
    pi = [header.index(n) for n in PARAM_NAMES]
    params, terms, users = [], [], []
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < len(header):
            raise DataError(f"{path}:{line}: expected {len(header)} columns, got {len(row)}")
        params.append(_floats([row[i] for i in pi], f"{path}:{line}"))
        terms.append(row[ti])
        users.append(row[ui] if ui is not None else "unknown")
    return params, terms, users


# Original headerless layout: entry, descriptor, address, int, int, 13 values, then metadata.
_ORIG_TERM, _ORIG_ADDRESS, _ORIG_FIRST_PARAM = 1, 2, 5


def _read_original(rows, path):
    params, terms, users = [], [], []
    for line, row in enumerate(rows, start=1):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < _ORIG_FIRST_PARAM + N_PARAMS:
            raise DataError(
                f"{path}:{line}: not a SAFE-DB file: expected the developer layout (header with "
                f"'term' and the 13 parameter names) or the original headerless layout "
                f"(>= {_ORIG_FIRST_PARAM + N_PARAMS} columns), got {len(row)} columns")
        values = row[_ORIG_FIRST_PARAM:_ORIG_FIRST_PARAM + N_PARAMS]
        params.append(_floats(values, f"{path}:{line}"))
        terms.append(row[_ORIG_TERM])
        # Pseudonymise the submitting address the same way for every row of one person.
        users.append(hashlib.sha256(row[_ORIG_ADDRESS].encode()).hexdigest()[:10])
    return params, terms, users


def normalise_term(raw: str) -> str:
    return " ".join(raw.strip().lower().split())


def is_junk(term: str) -> bool:
    return term in JUNK_TERMS or any(p.match(term) for p in _JUNK_PATTERNS)


def fold_typos(terms: list[str]) -> dict[str, str]:
    """Map obvious misspellings of a dominant term onto it (e.g. "brght" -> "bright")."""
    counts = Counter(terms)
    targets = [t for t, c in counts.most_common() if c >= TYPO_MIN_TARGET_COUNT]
    mapping = {}
    for term, c in counts.items():
        for target in targets:
            if term == target or counts[target] < TYPO_DOMINANCE * c:
                continue
            if abs(len(term) - len(target)) <= 1 and \
                    difflib.SequenceMatcher(None, term, target).ratio() >= TYPO_SIMILARITY:
                mapping[term] = target
                break
    return mapping


def clean(rows: EQRows) -> EQRows:
    """Normalise terms, drop junk, fold typos, clamp settings, drop exact duplicates."""
    terms = [normalise_term(t) for t in rows.terms]
    keep = [i for i, t in enumerate(terms) if not is_junk(t)]
    n_junk = len(terms) - len(keep)
    typos = fold_typos([terms[i] for i in keep])
    params = clamp_params(rows.params)
    seen, out_idx, out_terms = set(), [], []
    for i in keep:
        term = typos.get(terms[i], terms[i])
        key = (rows.users[i], term, tuple(np.round(params[i], 4)))
        if key in seen:
            continue
        seen.add(key)
        out_idx.append(i)
        out_terms.append(term)
    idx = np.array(out_idx, dtype=int)
    notes = list(rows.notes) + [
        f"{n_junk} junk-labelled rows dropped",
        f"{len(keep) - len(idx)} exact duplicates dropped",
        "typos folded: " + (", ".join(f"{a}->{b}" for a, b in sorted(typos.items())) or "none"),
    ]
    return EQRows(params[idx], out_terms, [rows.users[i] for i in idx], rows.source, rows.sha256,
                  notes)


def split_by_user(rows: EQRows, val_fraction: float = 0.2, seed: int = 0, min_count: int = 4
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, val)`` with every user entirely on one side.

    One person's settings are often near-duplicates, so they must never straddle the split. Users
    are packed into validation largest first (ties in a seeded order) while the validation set
    stays within ``val_fraction`` of the rows. That puts one prolific person (an unseen engineer
    with many warm/bright settings) plus a spread of occasional users into validation. A user is
    kept in training if moving them would leave any term with ``min_count`` or more rows short of
    ``min_count`` training rows, so rare terms keep their centroid. Raises ``DataError`` if the two
    most frequent terms are not on both sides.
    """
    counts = Counter(rows.terms)
    by_user: dict[str, Counter] = {}
    for u, t in zip(rows.users, rows.terms):
        by_user.setdefault(u, Counter())[t] += 1
    rng = np.random.default_rng(seed)
    unique = sorted(by_user)
    tie = dict(zip(unique, rng.permutation(len(unique))))
    order = sorted(unique, key=lambda u: (-sum(by_user[u].values()), tie[u]))
    budget = val_fraction * len(rows)
    train_counts = Counter(counts)
    val_users, n_val = set(), 0
    for u in order:
        n = sum(by_user[u].values())
        if n_val + n > budget:
            continue
        starves = any(counts[t] >= min_count and train_counts[t] - c < min_count
                      for t, c in by_user[u].items())
        if starves:
            continue
        val_users.add(u)
        n_val += n
        train_counts.subtract(by_user[u])
    is_val = np.array([u in val_users for u in rows.users])
    train, val = np.flatnonzero(~is_val), np.flatnonzero(is_val)
    for t, _ in counts.most_common(2):
        for name, idx in (("training", train), ("validation", val)):
            if not any(rows.terms[i] == t for i in idx):
                raise DataError(f"the {name} split has no '{t}' rows (val fraction "
                                f"{val_fraction}); try a larger --val-fraction")
    return train, val


def vocabulary(terms: list[str], min_count: int) -> list[str]:
    """Terms with at least ``min_count`` rows, most frequent first (ties alphabetical)."""
    counts = Counter(terms)
    return sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
