"""Palettes: the ordered words that the term A/B controls step through.

A mapping names its palette (``palette: [warm, cold, bright, dark, ...]``); ``palette: all`` is
every word of the model; a mapping that names none gets ``default_palette``: the most certain
words, in order round the word map (``semeq_live.model.wordmap``). ``resolve_palette`` is the one
place that decides, for the live app and for offline renders alike, so a rehearsed performance
steps through the same words in both.

Stepping (``step_index``): a term that is not in the palette (typed in by name, or recalled from
a scene) is entered at the end the step moves towards: "next" goes to the first word, "previous"
to the last.
"""

from __future__ import annotations

DEFAULT_PALETTE_SIZE = 16


def resolve_palette(mapping, model, size: int = DEFAULT_PALETTE_SIZE) -> list[str]:
    """The palette ``mapping`` steps through with ``model`` (``mapping`` may be None)."""
    if mapping is not None and mapping.palette is not None:
        return list(mapping.palette)
    from ..model.wordmap import WordMap, default_palette

    wordmap = WordMap(model)
    if mapping is not None and mapping.palette_all:
        return wordmap.around(model.terms)
    return default_palette(model, size, wordmap)


def step_index(n: int, current: int | None, steps: int, wrap: bool) -> int:
    """The palette index ``steps`` away from ``current`` (None: a word outside the palette)."""
    if current is None:
        return 0 if steps > 0 else n - 1
    index = current + steps
    return index % n if wrap else min(max(index, 0), n - 1)


def palette_position(palette, term: str) -> int | None:
    """0-based index of ``term`` in ``palette``, None when it is not in it."""
    try:
        return list(palette).index(term)
    except ValueError:
        return None
