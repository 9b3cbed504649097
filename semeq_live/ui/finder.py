"""Type to find a word: pick term A or B from the whole vocabulary by typing part of it.

``/`` opens the finder for term A, ``?`` for term B. Letters filter the vocabulary as they are
typed (``match_terms``: whole word, then words that start with the letters, then words that
contain them, then the letters in order with gaps, then near misspellings); Tab / Down and
Shift-Tab / Up move the highlight, Enter chooses it, Backspace deletes a letter and Esc cancels.
The words of the palette come first in each group, then the more certain ones. With nothing
typed the candidates are the palette itself.

``TermFinder`` is fed keys from the keyboard thread and read by the panel thread (``view``); it
only holds a few strings, guarded by one lock, and never touches the audio path: choosing a word
returns the same ``("set", {...})`` command any other control sends.
"""

from __future__ import annotations

import difflib
import threading

SLOTS = {"a": "term_a", "b": "term_b"}
OPEN_KEYS = {"/": "a", "?": "b"}
MAX_QUERY = 32
# Keys the finder understands besides letters (as produced by ``keyboard.split_keys``).
ENTER, ESC, TAB, BACKTAB, UP, DOWN, BACKSPACE = ("enter", "esc", "tab", "backtab", "up", "down",
                                                 "backspace")
TYPABLE = set("abcdefghijklmnopqrstuvwxyz-'")
_CERTAINTY_RANK = {"high": 0, "medium": 1, "low": 2}


def _subsequence_gaps(query: str, word: str) -> int | None:
    """Letters of ``query`` in order in ``word``: total letters skipped in between, else None."""
    pos, gaps, started = 0, 0, False
    for ch in query:
        found = word.find(ch, pos)
        if found < 0:
            return None
        if started:
            gaps += found - pos
        started = True
        pos = found + 1
    return gaps


def match_terms(query: str, vocabulary, palette=(), certainty=None) -> list[str]:
    """Words of ``vocabulary`` that match ``query``, best first (see the module docstring)."""
    q = query.strip().lower()
    palette = list(palette)
    in_palette = {t: i for i, t in enumerate(palette)}
    certainty = certainty or {}
    if not q:
        return palette + [t for t in vocabulary if t not in in_palette]

    def tie(t: str):  # palette words first (in palette order), then the more certain, then A-Z
        return (t not in in_palette, in_palette.get(t, 0),
                _CERTAINTY_RANK.get(certainty.get(t, "high"), 0), t)

    scored = []
    for t in vocabulary:
        w = t.lower()
        if w == q:
            key = (0, 0)
        elif w.startswith(q):
            key = (1, len(w))
        elif q in w:
            key = (2, w.index(q))
        else:
            gaps = _subsequence_gaps(q, w)
            if gaps is not None:
                key = (3, gaps)
            else:
                ratio = difflib.SequenceMatcher(None, q, w).ratio()
                if len(q) < 3 or ratio < 0.6:
                    continue
                key = (4, -round(ratio, 2))
        scored.append((key, tie(t), t))
    scored.sort()
    return [t for _, _, t in scored]


class TermFinder:
    """The finder's state: closed, or open for one slot with a query and a highlighted word."""

    def __init__(self, vocabulary, palette=(), certainty=None, marks=None):
        self.vocabulary = list(vocabulary)
        self.palette = list(palette)
        self.certainty = dict(certainty or {})
        self.marks = dict(marks or {})
        self._lock = threading.Lock()
        self.slot: str | None = None  # "a" or "b" while open
        self.query = ""
        self.selected = 0
        self._candidates: list[str] = []
        self.message = ""  # why the last Enter did nothing

    @property
    def active(self) -> bool:
        return self.slot is not None

    def open(self, slot: str) -> None:
        with self._lock:
            self.slot, self.query, self.selected, self.message = slot, "", 0, ""
            self._refilter()

    def close(self) -> None:
        with self._lock:
            self.slot, self.query, self.selected, self._candidates = None, "", 0, []

    def _refilter(self) -> None:
        self._candidates = match_terms(self.query, self.vocabulary, self.palette, self.certainty)
        self.selected = 0

    def key(self, key: str) -> tuple | None:
        """Handle one key while open; returns the command when a word was chosen."""
        with self._lock:
            if self.slot is None:
                return None
            if key == ESC:
                self.slot, self.query, self._candidates = None, "", []
                return None
            if key == ENTER:
                if not self._candidates:
                    self.message = f"no word matches '{self.query}'"
                    return None
                word = self._candidates[self.selected]
                slot = self.slot
                self.slot, self.query, self._candidates = None, "", []
                return ("set", {SLOTS[slot]: word})
            n = len(self._candidates)
            if key in (TAB, DOWN) and n:
                self.selected = (self.selected + 1) % n
            elif key in (BACKTAB, UP) and n:
                self.selected = (self.selected - 1) % n
            elif key == BACKSPACE:
                self.query = self.query[:-1]
                self.message = ""
                self._refilter()
            elif len(key) == 1 and key.lower() in TYPABLE and len(self.query) < MAX_QUERY:
                self.query += key.lower()
                self.message = ""
                self._refilter()
            return None

    def candidates(self) -> list[str]:
        with self._lock:
            return list(self._candidates)

    def view(self, limit: int = 12) -> dict | None:
        """What the panel shows: None when closed."""
        with self._lock:
            if self.slot is None:
                return None
            start = max(0, self.selected - limit + 1)
            return {"slot": self.slot, "query": self.query, "selected": self.selected - start,
                    "candidates": self._candidates[start:start + limit],
                    "count": len(self._candidates), "message": self.message}
