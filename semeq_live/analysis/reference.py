"""Reference spectra: what "neutral" sounds like, so the analyzer can say how the input deviates.

A reference is a level per 1/3-octave band (dB, ``ANALYSIS_FREQS``); only its shape matters, the
analyzer removes overall level. Built in:

- ``music`` (the default): a smooth stand-in for the long-term average spectrum of a finished mix:
  equal power per band (like pink noise) from 50 to 400 Hz, falling 3 dB per octave faster than
  pink above 400 Hz and gently below 50 Hz, as full mixes do. Real material varies around it by
  several dB, so for a given band or instrument "learn reference" during soundcheck is better.
- ``pink``: pink noise (equal power in every band), the classic mixing reference.

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

FILE_FORMAT = "semeq-live reference spectrum"
FILE_VERSION = 1
BUILTIN_NAMES = ("music", "pink")


class ReferenceFileError(SemeqError):
    """A reference spectrum file that is missing, unreadable or not a semeq-live reference."""


def _music_curve_db(freqs: np.ndarray) -> np.ndarray:
    octaves_above = np.log2(freqs / 400.0)
    octaves_below = np.log2(50.0 / freqs)
    return -3.0 * np.maximum(octaves_above, 0.0) - 3.0 * np.maximum(octaves_below, 0.0)


@dataclass(frozen=True)
class ReferenceSpectrum:
    """Band levels in dB on ``ANALYSIS_FREQS`` plus where they came from."""

    band_db: np.ndarray
    name: str = "music"
    source: str = "built-in"
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        band_db = np.asarray(self.band_db, dtype=np.float64)
        if band_db.shape != ANALYSIS_FREQS.shape or not np.all(np.isfinite(band_db)):
            raise ValueError(f"a reference needs {ANALYSIS_FREQS.size} finite band levels")
        object.__setattr__(self, "band_db", band_db)

    @classmethod
    def builtin(cls, name: str = "music") -> "ReferenceSpectrum":
        if name == "music":
            return cls(_music_curve_db(ANALYSIS_FREQS), name="music", source="built-in")
        if name == "pink":
            return cls(np.zeros(ANALYSIS_FREQS.size), name="pink", source="built-in")
        raise ReferenceFileError(f"unknown built-in reference {name!r} (choose {', '.join(BUILTIN_NAMES)})")

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
        meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
        return cls(levels, name=str(doc.get("name", path.stem)), source=str(path), meta=meta)

    @classmethod
    def resolve(cls, spec: str | None) -> "ReferenceSpectrum":
        """A built-in name (``music``, ``pink``), a file path, or None for the default."""
        if spec is None:
            return cls.default()
        if spec in BUILTIN_NAMES:
            return cls.builtin(spec)
        return cls.load(spec)

    def describe(self) -> str:
        return f"{self.name} ({self.source})"


def learned_reference(band_power: np.ndarray, *, seconds: float, sample_rate: float) -> ReferenceSpectrum:
    """A reference captured from the analyzer's current long-term spectrum (linear band powers)."""
    band_db = 10.0 * np.log10(np.maximum(np.asarray(band_power, dtype=np.float64), 1e-20))
    band_db = band_db - float(np.mean(band_db))
    meta = {"seconds": round(float(seconds), 3), "sample_rate": float(sample_rate)}
    return ReferenceSpectrum(band_db, name="learned", source="learned", meta=meta)


