"""The semantic model at run time: numpy forward passes over a trained ``.npz`` (never torch).

``load_model(path=None)`` returns a ``SemanticModel``; ``None`` loads the default model bundled in
``semeq_live/model/data/default.npz`` (see ``data/MODEL_CARD.md``). Training lives in ``training/``.
"""

from __future__ import annotations

from pathlib import Path

from .semantic import SemanticModel, UnknownTermError
from .store import FORMAT_VERSION, read_model

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "data" / "default.npz"

__all__ = ["DEFAULT_MODEL_PATH", "FORMAT_VERSION", "SemanticModel", "UnknownTermError",
           "load_model", "model_from_arrays"]


def load_model(path=None) -> SemanticModel:
    """Load and validate a model file (``ModelError`` with a clear message if it is unusable)."""
    path = DEFAULT_MODEL_PATH if path is None else Path(path)
    return SemanticModel(read_model(path), path=path)


def model_from_arrays(arrays: dict, path=None) -> SemanticModel:
    """A model from in-memory arrays (used by training to evaluate exactly what it exports)."""
    from .store import validate_arrays

    validate_arrays(arrays)
    return SemanticModel(arrays, path=path)
