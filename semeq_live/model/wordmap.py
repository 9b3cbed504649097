"""The word map: the model's vocabulary as a 2-D picture, and where a latent lies among the words.

The picture uses the plane of the traverse controls (``model.axes``, the two principal axes of the
training latents, centred on ``model.latent_mean``): a word's place is its centroid projected on
the axes, in units of ``model.axis_scale``. So one unit on the map is exactly what a traverse knob
moves from end to centre (traverse range -1..1), and turning traverse X to the right moves the EQ
to the right on the map.

Two words can sit close on the map and still sound different (the other latent directions are
flattened), so "which words are near" is answered in the full latent space; distances are in
units of ``model.profile_scale``, the typical spread of a word's own training examples around
its centroid (1 = as far as a typical example of the word).
"""

from __future__ import annotations

import math

import numpy as np

# How a point is described relative to its nearest words, as fractions of the spacing between
# words (the distance from a word to its nearest other word, or between the two nearest words):
AT_FRACTION = 0.2        # closer than this to a word: "at warm"
BETWEEN_T = (0.2, 0.8)   # projected between the two nearest words, not at either end...
BETWEEN_OFFSET = 0.35    # ...and no further from the line joining them: "between warm and soft"
FAR_FRACTION = 1.5       # further than this from every word (traverse can go there): "far from"

CERTAINTY_RANK = {"high": 0, "medium": 1, "low": 2}


class WordMap:
    """Map coordinates of every word of ``model``, and nearest-word queries for any latent."""

    def __init__(self, model):
        self.terms: list[str] = list(model.terms)
        self._index = {t: i for i, t in enumerate(self.terms)}
        self.centroids = np.stack([model.centroid(t) for t in self.terms])
        self.mean = np.asarray(model.latent_mean, dtype=np.float64)
        self.axes = np.asarray(model.axes, dtype=np.float64)
        self.scale = np.asarray(model.axis_scale, dtype=np.float64)
        self.unit = float(model.profile_scale)
        self.xy = self.project(self.centroids)
        self.infos = {i.name: i for i in _term_infos(model)}
        # Each word's distance to its nearest other word: the local spacing of the vocabulary.
        if len(self.terms) > 1:
            d = np.linalg.norm(self.centroids[:, None, :] - self.centroids[None, :, :], axis=2)
            np.fill_diagonal(d, np.inf)
            self.spacing = d.min(axis=1)
        else:
            self.spacing = np.ones(1)

    # ------------------------------------------------------------------ coordinates
    def project(self, z) -> np.ndarray:
        """Map coordinates ``[2]`` (or ``[n, 2]``) of latent(s) ``z``, in traverse units."""
        z = np.asarray(z, dtype=np.float64)
        return ((z - self.mean) @ self.axes.T) / self.scale

    def position(self, term: str) -> tuple[float, float]:
        x, y = self.xy[self._index[term]]
        return float(x), float(y)

    def mark(self, term: str) -> str:
        """The certainty mark of a word: '' (high), '?' (medium) or '??' (low)."""
        info = self.infos.get(term)
        return info.mark if info is not None else ""

    def certainty(self, term: str) -> str:
        info = self.infos.get(term)
        return info.certainty if info is not None else "high"

    # ------------------------------------------------------------------ nearest words
    def distances(self, z) -> np.ndarray:
        """Distance of latent ``z`` to every word, in units of ``profile_scale``."""
        z = np.asarray(z, dtype=np.float64)
        return np.sqrt(np.sum((self.centroids - z) ** 2, axis=1)) / self.unit

    def nearest(self, z, n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` words closest to latent ``z`` (full latent distance), closest first."""
        d = self.distances(z)
        n = min(n, d.size)
        idx = np.argpartition(d, n - 1)[:n] if n < d.size else np.arange(d.size)
        idx = idx[np.argsort(d[idx], kind="stable")]
        return [(self.terms[i], float(d[i])) for i in idx]

    def describe(self, z) -> str:
        """Where ``z`` is, in words: "at warm", "between warm and soft", "near warm, soft"."""
        z = np.asarray(z, dtype=np.float64)
        d = self.distances(z)
        order = np.argsort(d, kind="stable")
        i = order[0]
        name = self.terms[i]
        if d[i] * self.unit <= AT_FRACTION * self.spacing[i] or d.size == 1:
            return f"at {name}"
        j = order[1]
        other = self.terms[j]
        seg = self.centroids[j] - self.centroids[i]
        length = float(np.linalg.norm(seg))
        if length > 0:
            t = float(np.dot(z - self.centroids[i], seg)) / length ** 2
            offset = float(np.linalg.norm(z - self.centroids[i] - t * seg))
            if BETWEEN_T[0] <= t <= BETWEEN_T[1] and offset <= BETWEEN_OFFSET * length:
                return f"between {name} and {other}"
        if d[i] * self.unit > FAR_FRACTION * self.spacing[i]:
            return f"far from the words (nearest {name})"
        return f"near {name}, {other}"

    # ------------------------------------------------------------------ orderings
    def by_certainty(self, terms=None) -> list[str]:
        """Words from most to least certain (more people first, then the model's order)."""
        terms = self.terms if terms is None else list(terms)
        return sorted(terms, key=lambda t: (CERTAINTY_RANK[self.certainty(t)],
                                            -_people(self.infos.get(t)), self._index[t]))

    def around(self, terms) -> list[str]:
        """``terms`` in order round the map (by angle about their middle), so that stepping
        through them moves from each word to a neighbour and the last one leads back to the first.

        The tour starts at the word furthest to the left (negative traverse X) and goes clockwise.
        """
        terms = list(terms)
        if len(terms) < 3:
            return terms
        pts = np.array([self.xy[self._index[t]] for t in terms])
        centre = pts.mean(axis=0)
        angle = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
        start = angle[int(np.argmin(pts[:, 0]))]
        # Clockwise from the start: decreasing angle, wrapped into [0, 2 pi).
        key = np.mod(start - angle, 2 * math.pi)
        return [terms[k] for k in np.argsort(key, kind="stable")]


def default_palette(model, size: int = 16, wordmap: WordMap | None = None) -> list[str]:
    """The palette of a mapping that names none: the ``size`` most certain words, in order
    round the map (neighbours on the map are neighbours in the palette)."""
    wm = wordmap or WordMap(model)
    return wm.around(wm.by_certainty()[:size])


def _people(info) -> int:
    return 0 if info is None else info.people


def _term_infos(model):
    try:
        return model.term_infos()
    except AttributeError:  # a model object without term metadata: every word counts as certain
        return []
