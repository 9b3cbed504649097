"""``SemanticModel``: words to EQ settings with plain numpy (no torch at run time)."""

from __future__ import annotations

import difflib
import json
import math

import numpy as np

from ..errors import ModelError
from ..params import ANALYSIS_FREQS, N_PARAMS
from .curves import encoder_input
from .forward import ResidualMLP
from .refine import LatentRefiner
from .response import BandResponse
from .terms import TermInfo


class UnknownTermError(ModelError, KeyError):
    """A term the model does not know; the message suggests the nearest known names."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class SemanticModel:
    """The trained decoder, encoders and per-term data of one model file.

    Latents are float64 vectors of size ``latent_dim``; settings are SAFE 13-vectors (see
    ``semeq_live.params``). ``decode``/``encode``/``encode_curve`` accept one vector (1-D) or a
    batch (2-D) and answer in kind.
    """

    def __init__(self, arrays: dict, path=None):
        self.path = path
        self.format_version = int(arrays["format_version"])
        self.data_sha256 = str(arrays["data_sha256"])
        self.semeq_version = str(arrays["semeq_version"])
        self.metrics: dict = json.loads(str(arrays["metrics"]))
        self.training: dict = json.loads(str(arrays["training"]))
        self.terms: list[str] = [str(t) for t in arrays["terms"]]
        # SAFE training / validation rows per term (0 for a word only the crowd knows).
        self.counts: dict[str, int] = {t: int(c) for t, c in zip(self.terms, arrays["term_counts"])}
        self.val_counts: dict[str, int] = {
            t: int(c) for t, c in zip(self.terms, arrays["term_val_counts"])}
        self._index = {t: i for i, t in enumerate(self.terms)}
        self._infos = [
            TermInfo(name=t, sources=tuple(str(s).split("+")), safe_rows=int(rows),
                     safe_users=int(users), contributors=int(n),
                     agreement=float(a) if n > 0 else None, lead=str(lead))
            for t, s, rows, users, n, a, lead in zip(
                self.terms, arrays["term_sources"], arrays["term_counts"],
                arrays["term_safe_users"], arrays["term_contributors"], arrays["term_agreement"],
                arrays["term_lead"])]
        self._centroids = np.array(arrays["centroids"], dtype=np.float64)
        self.latent_dim: int = self._centroids.shape[1]
        self.latent_mean = np.array(arrays["latent_mean"], dtype=np.float64)
        self.axes = np.array(arrays["axes"], dtype=np.float64)
        self.axis_scale = np.array(arrays["axis_scale"], dtype=np.float64)
        self.profile_scale = float(arrays["profile_scale"])
        self.sample_rate = float(arrays["sample_rate"])
        self.curve_grid = np.array(arrays["curve_grid"], dtype=np.float64)
        self._curves_grid = np.array(arrays["term_curves_grid"], dtype=np.float64)
        self.analysis_freqs = np.array(arrays["analysis_freqs"], dtype=np.float64)
        self._term_curves = np.array(arrays["term_curves"], dtype=np.float64)
        if self.analysis_freqs.shape != ANALYSIS_FREQS.shape or \
                not np.allclose(self.analysis_freqs, ANALYSIS_FREQS, rtol=1e-9):
            raise ModelError("the model's analysis bands differ from semeq_live.params."
                             "ANALYSIS_FREQS (trained by another version?)")
        self._curve_scale = float(arrays["curve_scale"])
        # Term profile (``curve_similarities``). Every sum over the band weights alone comes from
        # one matrix-vector product with these rows stacked: the words' squared curves, the
        # words' curves, the spread covariance, its diagonal, ones (the analyzer calls it at
        # every estimate; each numpy call costs 1-2 us, so few and fused).
        self._spread = np.array(arrays["profile_spread"], dtype=np.float64)
        words = self._term_curves
        n_terms, n_bands = words.shape
        self._profile_words = np.ascontiguousarray(words)
        self._by_weights = np.ascontiguousarray(np.vstack(
            [words * words, words, self._spread, np.diag(self._spread)[None], np.ones((1, n_bands))]))
        self._rows_sq, self._rows_words = slice(0, n_terms), slice(n_terms, 2 * n_terms)
        self._rows_spread = slice(2 * n_terms, 2 * n_terms + n_bands)
        self._all_bands = np.ones(n_bands)
        self._band_response = BandResponse(self.analysis_freqs, self.sample_rate)

        is_log = np.asarray(arrays["coding.is_log"], dtype=bool)
        lo = np.asarray(arrays["coding.lo"], dtype=np.float64)
        hi = np.asarray(arrays["coding.hi"], dtype=np.float64)
        self._is_log = is_log
        self._lo, self._span = lo, hi - lo
        self._encoder = ResidualMLP(arrays, "encoder")
        self._curve_encoder = ResidualMLP(arrays, "curve_encoder")
        # Decoder head: u = sigmoid(r) = 0.5 + 0.5 tanh(r / 2) and value = lo + span * u, i.e.
        # mid + half * tanh(r / 2) (the /2 is folded into the output layer), then exp() for the
        # log-coded parameters. Outputs are ordered linear-first so exp() runs on one slice.
        order = np.concatenate([np.flatnonzero(~is_log), np.flatnonzero(is_log)])
        self._n_linear = int(np.sum(~is_log))
        self._unorder = np.argsort(order)
        self._mid = (lo + 0.5 * self._span)[order]
        self._half = (0.5 * self._span)[order]
        self._decoder = ResidualMLP(arrays, "decoder", dtype=np.float32, out_scale=0.5,
                                    out_order=order)
        self.refiner = LatentRefiner(self.decode, self._band_response)
        self._no_deviation = np.zeros(self.analysis_freqs.size)

    # -- terms -------------------------------------------------------------------------------

    def _term_index(self, term: str) -> int:
        try:
            return self._index[term]
        except (KeyError, TypeError):
            pass
        key = str(term).strip().lower()
        if key in self._index:
            return self._index[key]
        near = self.nearest_terms(key)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        raise UnknownTermError(f"unknown term {term!r}: {hint}known terms: {', '.join(self.terms)}")

    def nearest_terms(self, name: str, n: int = 3) -> list[str]:
        """Up to ``n`` known terms closest in spelling to ``name`` (for "did you mean")."""
        key = str(name).strip().lower()
        close = difflib.get_close_matches(key, self.terms, n=n, cutoff=0.5)
        if len(close) < n:  # also offer terms that start with, or contain, what was typed
            close += [t for t in self.terms if key and (t.startswith(key) or key in t)
                      and t not in close][:n - len(close)]
        return close

    def term_info(self, term: str) -> TermInfo:
        """Where the word comes from and how certain it is (``semeq_live.model.terms``)."""
        return self._infos[self._term_index(term)]

    def term_infos(self) -> list[TermInfo]:
        """``term_info`` of every term, in the model's order."""
        return list(self._infos)

    def centroid(self, term: str) -> np.ndarray:
        """The term's latent centroid (a copy).

        The mean latent of the term's training settings, moved so that it decodes to the term's
        curve (``training.train.term_centroids``): SAFE's mean curve for the words SAFE leads,
        the crowd's curve on SAFE's scale for the others.
        """
        return self._centroids[self._term_index(term)].copy()

    def term_curve(self, term: str, freqs=None) -> np.ndarray:
        """The EQ response (dB) the term's centroid follows.

        SAFE-led words (``term_info(t).lead == 'safe'``): the mean response of their training
        settings; crowd-led words: the crowd's curve times the depth factor (level-free).

        ``freqs=None``: on ``analysis_freqs`` (exact). Otherwise interpolated on log frequency
        from a dense 20 Hz-20 kHz grid, held constant beyond its ends.
        """
        i = self._term_index(term)
        if freqs is None:
            return self._term_curves[i].copy()
        f = np.asarray(freqs, dtype=np.float64)
        return np.interp(np.log(np.maximum(f, 1e-9)), np.log(self.curve_grid), self._curves_grid[i])

    # -- latent <-> settings ----------------------------------------------------------------

    def decode(self, z) -> np.ndarray:
        """Latent(s) ``[latent]`` or ``[n, latent]`` -> SAFE settings ``[13]`` or ``[n, 13]``.

        The hot path of the live tool: float32 arithmetic (the trained precision), no checks.
        """
        t = self._decoder(z).astype(np.float64)
        np.tanh(t, out=t)
        t *= self._half
        t += self._mid
        log_part = t[..., self._n_linear:]
        np.exp(log_part, out=log_part)
        return t.take(self._unorder, axis=-1)  # (4x cheaper than t[..., order] for one vector)

    def encode(self, params) -> np.ndarray:
        """SAFE settings ``[13]`` or ``[n, 13]`` -> latent(s)."""
        p = np.asarray(params, dtype=np.float64)
        if p.shape[-1:] != (N_PARAMS,):
            raise ValueError(f"expected settings with {N_PARAMS} SAFE parameters, got shape {p.shape}")
        t = np.where(self._is_log, np.log(np.maximum(p, 1e-6)), p)
        return np.tanh(self._encoder(2.0 * (t - self._lo) / self._span - 1.0))

    def encode_curve(self, dev_db, weights=None, check: bool = True) -> np.ndarray:
        """Deviation curve(s) on ``analysis_freqs`` (dB, ``[28]`` or ``[n, 28]``) -> audio latent.

        ``weights`` (``[28]`` or ``[n, 28]`` in [0, 1], None = every band) say which bands carry
        signal: only those are judged (a voice, a bass line, hats). The level is irrelevant: the
        weighted mean is removed here (``semeq_live.model.curves``), so a raw or a level-free
        deviation gives the same result. ``check=False``: the weights are known to be valid (the
        analyzer's hot path skips re-validating them).
        """
        return np.tanh(self._curve_encoder(encoder_input(dev_db, weights, self._curve_scale, check)))

    def read_curve(self, dev_db, weights=None, check: bool = True) -> np.ndarray:
        """One deviation curve ``[28]`` -> the input's latent: the curve encoder's reading,
        refined so that the EQ it decodes to follows the curve on the weighted bands (``refine``).

        What the analyzer calls ``z_a``: the adaptive EQ undoes ``decode(z_a)``, so its curve
        should be the measured one, not the encoder's shrunk reading of it."""
        z0 = self.encode_curve(dev_db, weights, check)
        neutral = self.encode_curve(self._no_deviation, weights, check=False)
        return self.refiner(z0, neutral, dev_db, self._all_bands if weights is None else weights)

    def morph_latent(self, term_a: str, term_b: str | None = None, alpha: float = 0.0) -> np.ndarray:
        """``(1 - alpha) c_A + alpha c_B`` (just ``c_A`` without ``term_b``)."""
        ca = self._centroids[self._term_index(term_a)]
        if term_b is None:
            return ca.copy()
        cb = self._centroids[self._term_index(term_b)]
        return (1.0 - alpha) * ca + alpha * cb

    def morph(self, term_a: str, term_b: str | None = None, alpha: float = 0.0) -> np.ndarray:
        """The 13 SAFE parameters of the morph between two terms' centroids at ``alpha``."""
        return self.decode(self.morph_latent(term_a, term_b, alpha))

    def traverse(self, z, x: float, y: float) -> np.ndarray:
        """``z`` moved ``x`` and ``y`` standard deviations along the two principal latent axes."""
        return np.asarray(z, dtype=np.float64) + (x * self.axis_scale[0]) * self.axes[0] \
            + (y * self.axis_scale[1]) * self.axes[1]

    # -- term profile ----------------------------------------------------------------------

    def character_curve(self, z) -> np.ndarray:
        """The EQ that latent ``z`` decodes to, as a response curve (dB) on ``analysis_freqs``."""
        return self._band_response(self.decode(z))

    def curve_similarities(self, curve_db, weights=None, check: bool = True) -> np.ndarray:
        """``[T]`` similarity of a character curve to every term's curve, in ``terms`` order.

        ``curve_db`` ``[28]`` on ``analysis_freqs`` (an input's deviation from its reference, or
        an EQ's response); ``weights`` ``[28]`` in [0, 1] (None = every band) say which bands
        carry signal: only those are judged. Judged in the response domain, level-free: ``d`` is
        the weighted RMS dB difference between the curve and the word's curve (``term_curve``)
        once their weighted mean difference is removed, and the similarity is
        ``exp(-d^2 / (2 s^2))`` with ``s = profile_spread_db(weights)``, the same distance
        measured for real people: SAFE engineers' own settings of a word against that word's
        mean curve, on the same bands. So 1 = the word's curve exactly, 0.61 = as far from the
        word as the RMS-typical engineer's own setting of it (half of SAFE's held-out engineers'
        warm and bright settings score 0.75 or more against their own word), 0.14 = twice as far.
        ``check=False``: the arguments are known to be valid (the analyzer's hot path).
        """
        c = np.asarray(curve_db, dtype=np.float64)
        w = self._all_bands if weights is None else np.asarray(weights, dtype=np.float64)
        if check:
            self._check_profile_args(c, w)
        g = self._by_weights @ w
        total = g[-1]
        spread_sq = g[-2] / total - float(w @ g[self._rows_spread]) / (total * total)
        wc = w * c
        # Per word: d^2 = sum w (S - c)^2 / W - (sum w (S - c) / W)^2, expanded (no [T, 28]
        # temporaries): sum w S^2 - 2 sum w c S + sum w c^2, minus the squared mean difference.
        level = g[self._rows_words] - wc.sum()
        level *= level
        level *= 1.0 / total
        d2 = self._profile_words @ wc
        d2 *= -2.0
        d2 += g[self._rows_sq]
        d2 += float(c @ wc)
        d2 -= level
        d2 *= -0.5 / (total * spread_sq)
        np.minimum(d2, 0.0, out=d2)  # rounding: a curve on a word must not exceed 1
        return np.exp(d2, out=d2)

    def curve_profile(self, curve_db, weights=None, top: int | None = None,
                      check: bool = True) -> list[tuple[str, float]]:
        """``curve_similarities`` ranked, most similar first (``top``: only that many); ties keep
        the model's term order. What the analyzer shows for its input (the input profile)."""
        return self._ranked(self.curve_similarities(curve_db, weights, check), top)

    def profile_spread_db(self, weights=None) -> float:
        """The similarity's scale ``s`` (dB) on the given bands: the RMS distance, weighted and
        level-free as in ``curve_similarities``, of SAFE engineers' own settings of a word from
        that word's mean curve (the words SAFE leads; ``training.profile``). About 3.7 dB on all
        28 bands, less on fewer (1.9 dB over hats' 3-16 kHz)."""
        w = self._all_bands if weights is None else np.asarray(weights, dtype=np.float64)
        self._check_profile_args(np.zeros(w.shape), w)
        total = float(w.sum())
        spread_sq = float(np.diag(self._spread) @ w) / total - float(w @ self._spread @ w) / total ** 2
        return float(np.sqrt(spread_sq))

    def _check_profile_args(self, c: np.ndarray, w: np.ndarray) -> None:
        n = self.analysis_freqs.size
        if c.shape != (n,):
            raise ValueError(f"expected a curve of {n} bands (analysis_freqs), got shape {c.shape}")
        if w.shape != (n,):
            raise ValueError(f"expected {n} band weights (analysis_freqs), got shape {w.shape}")
        if not math.isfinite(float(c @ c)):
            raise ValueError("the curve must be finite")
        # (NaN fails every comparison, so it is refused here too.)
        if not (w.min() >= 0.0 and w.max() <= 1.0 and np.count_nonzero(w) >= 2):
            # (one band alone has no shape once its level is removed)
            raise ValueError("band weights must be finite, in [0, 1], and above 0 in two bands or more")

    def term_similarities(self, z, weights=None) -> np.ndarray:
        """``[T]`` similarity of latent ``z`` to every term: ``curve_similarities`` of the EQ that
        ``z`` decodes to (``character_curve``), on the bands of ``weights`` (None = all).

        The vectorised core for callers with a latent: they rank or pick a few words with this
        and ``terms``. Judged on the sound, not by latent distance: crowd words with near-alike
        curves can lie far apart in the latent (distances there are the word map's business,
        ``semeq_live.model.wordmap``).
        """
        return self.curve_similarities(self.character_curve(z), weights)

    def term_profile(self, z, top: int | None = None, weights=None) -> list[tuple[str, float]]:
        """How close the EQ of latent ``z`` sounds to each term, most similar first (``top``:
        only that many): ``term_similarities`` ranked; ties keep the model's term order."""
        return self._ranked(self.term_similarities(z, weights), top)

    def _ranked(self, sim: np.ndarray, top: int | None) -> list[tuple[str, float]]:
        order = np.argsort(-sim, kind="stable")
        if top is not None:
            order = order[:max(0, int(top))]
        names = self.terms
        return [(names[i], v) for i, v in zip(order.tolist(), sim[order].tolist())]

    def __repr__(self) -> str:
        return (f"SemanticModel({len(self.terms)} terms, latent {self.latent_dim}, "
                f"path={str(self.path)!r})")

