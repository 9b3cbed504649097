"""The vocabulary part of the live status: palette position, nearest words, certainty marks.

``VocabularyStatus`` is built once from the model and the palette; ``fields(state, z_target)``
returns the status-dict entries the panel shows (contract 6 in COORDINATION.md):

- ``palette``: ``{"terms": [...], "a_index", "b_index"}`` (0-based; None = not in the palette);
- ``nearest``: ``[(term, distance), ...]``, the words closest to the EQ target, distance in
  units of the model's ``profile_scale`` (``model.wordmap``);
- ``position``: ``{"x", "y", "label"}``, the target on the word map and "between warm and soft";
- ``vocab``: what does not change while running (marks, the palette's map points), shared, not
  copied, by every status dict.

It costs a few tens of microseconds per call (one distance per word), on the panel's thread.
"""

from __future__ import annotations

from ..model.wordmap import WordMap
from .mapview import _bounds, map_points

NEAREST = 3


class VocabularyStatus:
    def __init__(self, model, palette):
        self.wordmap = WordMap(model)
        self.palette = list(palette)
        marks = {t: self.wordmap.mark(t) for t in self.wordmap.terms}
        certainty = {t: self.wordmap.certainty(t) for t in self.wordmap.terms}
        points = map_points(self.wordmap, self.palette)
        every = map_points(self.wordmap)
        self.static = {
            "size": len(self.wordmap.terms), "terms": list(self.wordmap.terms), "marks": marks,
            "certainty": certainty, "map": points, "map_bounds": _bounds(every, None),
        }
        self._index = {t: i for i, t in enumerate(self.palette)}
        self._key = None
        self._cached: dict = {}

    def fields(self, state: dict, z_target) -> dict:
        out = {"vocab": self.static,
               "palette": {"terms": self.palette, "a_index": self._index.get(state.get("term_a")),
                           "b_index": self._index.get(state.get("term_b"))}}
        if z_target is None:
            out.update(nearest=[], position=None)
            return out
        key = z_target.tobytes()
        if key != self._key:  # the target moves only when a control does: reuse the answer
            x, y = self.wordmap.project(z_target)
            self._cached = {"nearest": self.wordmap.nearest(z_target, NEAREST),
                            "position": {"x": float(x), "y": float(y),
                                         "label": self.wordmap.describe(z_target)}}
            self._key = key
        out.update(self._cached)
        return out
