"""Reference spectra: what "neutral" sounds like, so the analyzer can say how the input deviates.

A reference is a level per 1/3-octave band (dB, ``ANALYSIS_FREQS``); only its shape matters, the
analyzer removes overall level. Built in:

- ``music`` (the default): a smooth stand-in for the long-term average spectrum of a finished mix:
  equal power per band (like pink noise) from 50 to 400 Hz, falling 3 dB per octave faster than
  pink above 400 Hz and gently below 50 Hz, as full mixes do. Real material varies around it by
  several dB, so for a given band or instrument "learn reference" during soundcheck is better.
- ``voice``: the long-term average speech spectrum, for one voice into a microphone (see
  ``_voice_curve_db``: ANSI S3.5-1997's standard speech spectrum, 160 Hz-8 kHz). Judged only where
  speech has energy: its band weights fall to 0 below 100 Hz and above 12.5 kHz, and, when the
  voice's F0 is known (the ``auto`` reference measures it), below its fundamental.
- ``pink``: pink noise (equal power in every band), the classic mixing reference.

Each reference carries band weights (``band_weight``, [0, 1]): where it is defined. The analyzer
judges a band only as far as both the input and the reference have something there; a learned
reference's weights are the presence of its own spectrum (``presence.presence_weights``), so the
bands that were empty at soundcheck, or above the soundcheck's Nyquist, are not judged.

A learned reference also carries ``band_reliability`` ([0, 1], None = all sure): how sure its level
is in each band, from how much that band's level moved from one analysis segment to the next at
soundcheck (``band_reliability``). A band that a few notes filled now and then (a bass line's
lowest bands, a melody's fundamentals) has an unsure level: the curve encoder gives it less say,
while the band still counts as carrying signal everywhere else (the boost ceiling, the checks).

A learned reference is saved as a small JSON file (versioned, band centres included) and checked on
load; a bad file raises ``ReferenceFileError`` naming the file and the problem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..fileio import write_text_atomic
from ..errors import SemeqError
from ..params import ANALYSIS_FREQS
from .presence import presence_weights

FILE_FORMAT = "semeq-live reference spectrum"
FILE_VERSION = 1
BUILTIN_NAMES = ("music", "voice", "pink")
# Not a spectrum: the analyzer picks the built-in that fits the source (auto_reference.py).
AUTO = "auto"
CHOICES = (AUTO,) + BUILTIN_NAMES


class ReferenceFileError(SemeqError):
    """A reference spectrum file that is missing, unreadable or not a semeq-live reference."""


def _music_curve_db(freqs: np.ndarray) -> np.ndarray:
    octaves_above = np.log2(freqs / 400.0)
    octaves_below = np.log2(50.0 / freqs)
    return -3.0 * np.maximum(octaves_above, 0.0) - 3.0 * np.maximum(octaves_below, 0.0)


# ANSI S3.5-1997 (R2007), "Methods for calculation of the speech intelligibility index", Table 3:
# standard speech spectrum level for *normal* vocal effort, one-third-octave band procedure, centre
# frequencies 160 Hz ... 8 kHz, in dB re 20 uPa per Hz (spectrum level, i.e. per 1 Hz of bandwidth).
# The standard builds it from male and female talkers (it follows Pearsons et al. 1977 and agrees
# within a few dB with Byrne et al. 1994, "An international comparison of long-term average speech
# spectra", JASA 96(4):2108-2120, over the same range).
#
# Byrne et al.'s "universal" LTASS (63 Hz-16 kHz, recorded 20 cm from the talker; its values as
# openMHA's LTASS_speech_level_in_frequency_bands.m quotes them) was tried in its place: it has
# more energy at 100-300 Hz (the male talkers' fundamentals) and falls less above 2 kHz. On the
# made voices and the two shared clips it widened the warm-vs-bright difference a little (mean
# 2.4 dB against 2.2) but ranked the right word for warm-shaped voices less often (mean 48 %
# against 62 %), both with the F0 rule below; the male/female LTASS tables were not found in a
# source we could check. So the ANSI table stays. Neutrals following the talker's vocal-tract
# length or a tilt predicted from F0 were tried on a population of made talkers and held out on
# the shared clips (tests/voice_neutral_trials.py, docs/adaptive.md): none helped both.
_ANSI_S35_FREQS_HZ = (160, 200, 250, 315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500, 3150,
                      4000, 5000, 6300, 8000)
_ANSI_S35_NORMAL_SPECTRUM_DB = (32.41, 34.48, 34.75, 33.98, 34.59, 34.27, 32.06, 28.30, 25.01, 23.00,
                                20.15, 17.32, 13.18, 11.55, 9.33, 5.31, 2.59, 1.13)
# Outside the table: two bands either side extrapolated with the table's end slopes, at half and a
# quarter weight (speech still has some energy there: a low voice's fundamental, sibilance).
_VOICE_EDGE_WEIGHTS = (0.5, 0.25)


def _voice_curve_db(freqs=ANALYSIS_FREQS, f0_low_hz: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(band levels dB, band weights)`` of the long-term average speech spectrum on ``freqs``.

    The table's spectrum levels become third-octave *band* levels by adding 10 log10(bandwidth)
    (base-10 third octaves: bandwidth = 0.2308 x centre frequency).

    ``f0_low_hz``: the lowest fundamental of the voice at hand, when known (the ``auto`` reference
    measures it). A voice has nothing under its own fundamental whatever its tone; the table's
    energy there comes from other, lower talkers, and judging it made a warm-shaped female or
    child voice read thin (bright). So those bands are not judged: full weight from ``f0_low_hz``
    up, none a third of an octave below it. F0 is a fair cue: a static EQ does not change it.
    """
    f = np.asarray(freqs, dtype=np.float64)
    table_f = np.asarray(_ANSI_S35_FREQS_HZ, dtype=np.float64)
    band = np.asarray(_ANSI_S35_NORMAL_SPECTRUM_DB) + 10.0 * np.log10((10 ** 0.05 - 10 ** -0.05) * table_f)
    idx = np.round(3.0 * np.log2(f / 1000.0)).astype(int)  # band number, 1 kHz = 0
    t_idx = np.round(3.0 * np.log2(table_f / 1000.0)).astype(int)
    low_step, high_step = band[1] - band[0], band[-1] - band[-2]
    out = np.empty(f.size)
    weight = np.zeros(f.size)
    for k, i in enumerate(idx):
        if i < t_idx[0]:
            out[k] = band[0] - low_step * (t_idx[0] - i)
            d = t_idx[0] - i
        elif i > t_idx[-1]:
            out[k] = band[-1] + high_step * (i - t_idx[-1])
            d = i - t_idx[-1]
        else:
            out[k] = band[int(np.flatnonzero(t_idx == i)[0])]
            d = 0
        weight[k] = 1.0 if d == 0 else (_VOICE_EDGE_WEIGHTS[d - 1] if d <= len(_VOICE_EDGE_WEIGHTS) else 0.0)
    if f0_low_hz:
        weight *= np.clip(1.0 + 3.0 * np.log2(f / float(f0_low_hz)), 0.0, 1.0)
    return out - out.max(), weight


@dataclass(frozen=True)
class ReferenceSpectrum:
    """Band levels in dB on ``ANALYSIS_FREQS`` plus where they came from."""

    band_db: np.ndarray
    name: str = "music"
    source: str = "built-in"
    meta: dict = field(default_factory=dict)
    band_weight: np.ndarray | None = None  # [28] in [0, 1]: where the reference is defined (None: all)
    band_reliability: np.ndarray | None = None  # [28] in [0, 1]: how sure each band's level is (None: all)

    def __post_init__(self):
        band_db = np.asarray(self.band_db, dtype=np.float64)
        if band_db.shape != ANALYSIS_FREQS.shape or not np.all(np.isfinite(band_db)):
            raise ValueError(f"a reference needs {ANALYSIS_FREQS.size} finite band levels")
        weight = np.ones(band_db.shape) if self.band_weight is None else \
            np.asarray(self.band_weight, dtype=np.float64)
        if weight.shape != band_db.shape or not np.all((weight >= 0.0) & (weight <= 1.0)):
            raise ValueError(f"a reference's band weights must be {ANALYSIS_FREQS.size} values in [0, 1]")
        reliability = None
        if self.band_reliability is not None:
            reliability = np.array(self.band_reliability, dtype=np.float64)
            if reliability.shape != band_db.shape or not np.all((reliability >= 0.0) & (reliability <= 1.0)):
                raise ValueError(f"a reference's band reliabilities must be {ANALYSIS_FREQS.size} values "
                                 "in [0, 1]")
            reliability.setflags(write=False)
        for arr in (band_db, weight):
            arr.setflags(write=False)
        object.__setattr__(self, "band_db", band_db)
        object.__setattr__(self, "band_weight", weight)
        object.__setattr__(self, "band_reliability", reliability)

    @classmethod
    def builtin(cls, name: str = "music") -> "ReferenceSpectrum":
        if name == "music":
            return cls(_music_curve_db(ANALYSIS_FREQS), name="music", source="built-in")
        if name == "voice":
            return cls.voice()
        if name == "pink":
            return cls(np.zeros(ANALYSIS_FREQS.size), name="pink", source="built-in")
        raise ReferenceFileError(f"unknown built-in reference {name!r} (choose {', '.join(BUILTIN_NAMES)})")

    @classmethod
    def voice(cls, f0_low_hz: float | None = None) -> "ReferenceSpectrum":
        """The voice reference (ANSI S3.5 speech spectrum), judged from ``f0_low_hz`` up if given."""
        band_db, weight = _voice_curve_db(ANALYSIS_FREQS, f0_low_hz)
        return cls(band_db, name="voice", source="built-in (ANSI S3.5 speech spectrum)",
                   band_weight=weight, meta={} if f0_low_hz is None else {"f0_low_hz": round(f0_low_hz, 1)})

    @classmethod
    def default(cls) -> "ReferenceSpectrum":
        return cls.builtin("music")

    def save(self, path) -> Path:
        path = Path(path)
        doc = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "name": self.name,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "band_centres_hz": [round(float(f), 3) for f in ANALYSIS_FREQS],
            "band_db": [round(float(v), 4) for v in self.band_db],
            "band_weight": [round(float(v), 4) for v in self.band_weight],
            "band_reliability": None if self.band_reliability is None else
            [round(float(v), 4) for v in self.band_reliability],
            "meta": self.meta,
        }
        try:
            write_text_atomic(path, json.dumps(doc, indent=1) + "\n")
        except OSError as exc:
            raise ReferenceFileError(f"cannot save reference to {path}: {exc.strerror or exc}") from None
        return path

    @classmethod
    def load(cls, path) -> "ReferenceSpectrum":
        path = Path(path)
        try:
            doc = json.loads(path.read_text())
        except FileNotFoundError:
            raise ReferenceFileError(f"reference file {path} not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ReferenceFileError(f"cannot read reference file {path}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise ReferenceFileError(f"{path}: not a JSON reference file (line {exc.lineno}: {exc.msg})") from None
        if not isinstance(doc, dict) or doc.get("format") != FILE_FORMAT:
            raise ReferenceFileError(f"{path}: not a semeq-live reference spectrum (missing 'format')")
        if doc.get("version") != FILE_VERSION:
            raise ReferenceFileError(f"{path}: reference version {doc.get('version')!r} is not supported "
                                     f"(expected {FILE_VERSION}); learn and save the reference again")
        try:
            centres = np.asarray(doc["band_centres_hz"], dtype=np.float64)
            levels = np.asarray(doc["band_db"], dtype=np.float64)
        except KeyError as exc:
            raise ReferenceFileError(f"{path}: missing key {exc.args[0]!r}") from None
        except (TypeError, ValueError):
            raise ReferenceFileError(f"{path}: band_centres_hz and band_db must be lists of numbers") from None
        if centres.shape != ANALYSIS_FREQS.shape or not np.allclose(centres, ANALYSIS_FREQS, rtol=1e-3):
            raise ReferenceFileError(f"{path}: band centres do not match the analyzer's "
                                     f"{ANALYSIS_FREQS.size} third-octave bands")
        if levels.shape != ANALYSIS_FREQS.shape or not np.all(np.isfinite(levels)):
            raise ReferenceFileError(f"{path}: band_db must hold {ANALYSIS_FREQS.size} finite numbers")
        weight = None  # files from before band weights: defined everywhere
        if doc.get("band_weight") is not None:
            try:
                weight = np.asarray(doc["band_weight"], dtype=np.float64)
            except (TypeError, ValueError):
                raise ReferenceFileError(f"{path}: band_weight must be a list of numbers") from None
            if weight.shape != ANALYSIS_FREQS.shape or not np.all((weight >= 0.0) & (weight <= 1.0)):
                raise ReferenceFileError(f"{path}: band_weight must hold {ANALYSIS_FREQS.size} "
                                         "numbers between 0 and 1")
        reliability = None  # files from before band reliabilities: every band's level is sure
        if doc.get("band_reliability") is not None:
            try:
                reliability = np.asarray(doc["band_reliability"], dtype=np.float64)
            except (TypeError, ValueError):
                raise ReferenceFileError(f"{path}: band_reliability must be a list of numbers") from None
            if reliability.shape != ANALYSIS_FREQS.shape or \
                    not np.all((reliability >= 0.0) & (reliability <= 1.0)):
                raise ReferenceFileError(f"{path}: band_reliability must hold {ANALYSIS_FREQS.size} "
                                         "numbers between 0 and 1")
        meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
        return cls(levels, name=str(doc.get("name", path.stem)), source=str(path), meta=meta,
                   band_weight=weight, band_reliability=reliability)

    @classmethod
    def resolve(cls, spec: str | None) -> "ReferenceSpectrum":
        """A built-in name (``music``, ``voice``, ``pink``), a file path, or None for the default."""
        if spec is None:
            return cls.default()
        if spec in BUILTIN_NAMES:
            return cls.builtin(spec)
        check_reference_spec(spec)
        return cls.load(spec)

    def describe(self) -> str:
        return f"{self.name} ({self.source})"

    @property
    def auto(self) -> bool:
        """Chosen by the ``auto`` reference (auto_reference.py)."""
        return bool(self.meta.get("auto"))


# Reliability of a learned reference's band level: 1 / (1 + (se / RELIABLE_SE_DB)^2), with se the
# standard error (dB) of the band's mean power over the soundcheck's segments: a band whose level
# is known to within 3 dB keeps half its say or more. Chosen on the made sources with other takes
# and seeds than the evidence's; the held-out instruments and the music confirm it (see docs/adaptive.md).
RELIABLE_SE_DB = 3.0
_DB_PER_RELATIVE = 10.0 / np.log(10.0)  # d(10 log10 p) / (dp / p)


def band_reliability(mean_power, mean_square_power, n_segments: int) -> np.ndarray:
    """``[28]`` in (0, 1]: how sure a long-term band level is, from the segments' band powers
    (their mean and the mean of their squares). Half-overlapping segments: about (n + 1) / 2
    independent ones."""
    mean = np.maximum(np.asarray(mean_power, dtype=np.float64), 1e-30)
    var = np.maximum(np.asarray(mean_square_power, dtype=np.float64) - mean * mean, 0.0)
    se_db = _DB_PER_RELATIVE * np.sqrt(var) / mean / np.sqrt(max(1.0, 0.5 * (n_segments + 1)))
    return 1.0 / (1.0 + (se_db / RELIABLE_SE_DB) ** 2)


def learned_reference(band_power: np.ndarray, *, seconds: float, sample_rate: float,
                      valid=None, reliability=None) -> ReferenceSpectrum:
    """A reference captured from the analyzer's long-term spectrum (linear band powers).

    ``valid``: the bands measurable at ``sample_rate`` (default: all). Its band weights are the
    presence of the captured spectrum: bands that were empty (or above Nyquist) are not judged.
    ``reliability``: ``band_reliability`` of the capture (None: every band's level is sure).
    """
    band_db = 10.0 * np.log10(np.maximum(np.asarray(band_power, dtype=np.float64), 1e-20))
    valid = np.ones(band_db.shape, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    weight = presence_weights(band_db, valid)
    present = weight > 0
    band_db = band_db - float(np.mean(band_db[present] if present.any() else band_db))
    top = int(np.flatnonzero(valid)[-1]) if valid.any() else band_db.size - 1
    band_db[top + 1:] = band_db[top]  # above Nyquist: a placeholder level, weight 0
    meta = {"seconds": round(float(seconds), 3), "sample_rate": float(sample_rate)}
    return ReferenceSpectrum(band_db, name="learned", source="learned", meta=meta, band_weight=weight,
                             band_reliability=reliability)


def check_reference_spec(spec: str) -> None:
    """Refuse a mistyped built-in name (``vocie``), which would otherwise pass for a file name."""
    import difflib

    if spec in CHOICES or Path(spec).exists():
        return
    looks_like_name = "/" not in spec and "." not in spec
    near = difflib.get_close_matches(spec.lower(), CHOICES, n=1, cutoff=0.6)
    if looks_like_name or near:
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise ReferenceFileError(f"unknown reference {spec!r}{hint}: choose {', '.join(CHOICES)} "
                                 "or a reference file (.json)")
