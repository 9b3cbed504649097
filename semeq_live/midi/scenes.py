"""Scenes: named snapshots of the performance (terms, alpha, intensity, traverse, gain) in YAML.

File format (``version: 1``)::

    version: 1
    scenes:
      verse:  {term_a: warm, term_b: bright, alpha: 0.2, intensity: 0.8,
               traverse_x: 0.0, traverse_y: 0.0, output_gain_db: 0.0}
      chorus: {alpha: 0.9}        # a partial scene changes only what it names

Stores are atomic (temp file in the same folder, fsync, ``os.replace``): a full disk or a read-only
folder raises a ``SemeqError`` and leaves both the file and the bank as they were.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..fileio import write_text_atomic
from ..control.state import (ALPHA_RANGE, INTENSITY_RANGE, OUTPUT_GAIN_RANGE_DB, SCENE_FIELDS,
                             TRAVERSE_RANGE, ControlState)
from ..errors import SemeqError
from .yamlfile import LocatedError, did_you_mean, load_located

SCENE_VERSION = 1
_NUMERIC = {
    "alpha": ALPHA_RANGE,
    "intensity": INTENSITY_RANGE,
    "traverse_x": TRAVERSE_RANGE,
    "traverse_y": TRAVERSE_RANGE,
    "output_gain_db": OUTPUT_GAIN_RANGE_DB,
}


class SceneBank:
    """Named scenes backed by one YAML file. A missing file is an empty bank (created on store)."""

    def __init__(self, path, known_terms=None):
        self.path = Path(path)
        self.known_terms = None if known_terms is None else tuple(known_terms)
        self.scenes: dict[str, dict] = {}
        if self.path.exists():
            self.scenes = self._load()

    def names(self) -> list[str]:
        return list(self.scenes)

    def __contains__(self, name) -> bool:
        return name in self.scenes

    def get(self, name: str) -> dict:
        if name not in self.scenes:
            raise SemeqError(f"no scene {name!r} in {self.path}" + (
                did_you_mean(name, self.scenes) or
                f" (scenes: {', '.join(self.scenes) or 'none yet'})"))
        return dict(self.scenes[name])

    # ---------------------------------------------------------------- recall / store
    def recall(self, name: str, state: ControlState, controller=None) -> None:
        """Apply scene ``name`` to ``state``; arm pickup on ``controller``'s absolute faders."""
        values = self.get(name)
        state.update(**values, scene=name)
        if controller is not None:
            controller.arm_pickup()

    def store(self, name: str, state: ControlState) -> None:
        """Snapshot ``state`` as scene ``name`` and write the file atomically."""
        name = str(name).strip()
        if not name:
            raise SemeqError("a scene needs a name")
        scenes = dict(self.scenes)
        scenes[name] = {k: _plain(v) for k, v in state.scene_values().items()}
        self._write(scenes)
        self.scenes = scenes  # only after the file is safely on disk
        state.update(scene=name)

    def delete(self, name: str) -> None:
        self.get(name)
        scenes = {k: v for k, v in self.scenes.items() if k != name}
        self._write(scenes)
        self.scenes = scenes

    # ---------------------------------------------------------------- file I/O
    def _write(self, scenes: dict) -> None:
        text = "# semeq-live scenes (named snapshots of the control state)\n" + yaml.safe_dump(
            {"version": SCENE_VERSION, "scenes": scenes}, sort_keys=False, allow_unicode=True)
        try:
            write_text_atomic(self.path, text)
        except OSError as exc:
            raise SemeqError(f"cannot save scenes to {self.path}: {exc.strerror or exc} "
                             "(the previous scene file is unchanged)") from None

    def _load(self) -> dict[str, dict]:
        doc = load_located(self.path)
        if doc.value is None:
            return {}
        if not isinstance(doc.value, dict):
            raise LocatedError(self.path, doc.line, "(document)",
                               "expected 'version: 1' and a 'scenes:' mapping")
        top = doc.value
        for key, node in top.items():
            if key not in ("version", "scenes"):
                raise LocatedError(self.path, node.line, key,
                                   "unknown key" + did_you_mean(key, ("version", "scenes")))
        version = top.get("version")
        if version is None:
            raise LocatedError(self.path, doc.line, "version", "missing (required)")
        if version.value != SCENE_VERSION:
            raise LocatedError(self.path, version.line, "version",
                               f"{version.value!r} is not supported (expected {SCENE_VERSION})")
        scenes_node = top.get("scenes")
        if scenes_node is None or scenes_node.value is None:
            return {}
        if not isinstance(scenes_node.value, dict):
            raise LocatedError(self.path, scenes_node.line, "scenes",
                               "expected a mapping of scene names to values")
        return {name: self._scene(name, node) for name, node in scenes_node.value.items()}

    def _scene(self, name: str, node) -> dict:
        key = f"scenes.{name}"
        if not isinstance(node.value, dict) or not node.value:
            raise LocatedError(self.path, node.line, key,
                               f"expected some of: {', '.join(SCENE_FIELDS)}")
        out = {}
        for field, item in node.value.items():
            fkey = f"{key}.{field}"
            v = item.value
            if field in ("term_a", "term_b"):
                if not isinstance(v, str) or not v.strip():
                    raise LocatedError(self.path, item.line, fkey, f"expected a term, got {v!r}")
                if self.known_terms is not None and v not in self.known_terms:
                    raise LocatedError(self.path, item.line, fkey, f"unknown term {v!r}" + (
                        did_you_mean(v, self.known_terms)
                        or f" (known terms: {', '.join(self.known_terms)})"))
                out[field] = v.strip()
            elif field in _NUMERIC:
                lo, hi = _NUMERIC[field]
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                    raise LocatedError(self.path, item.line, fkey,
                                       f"expected a number {lo:g}..{hi:g}, got {v!r}")
                out[field] = float(v)
            else:
                raise LocatedError(self.path, item.line, fkey,
                                   "unknown scene field" + (did_you_mean(field, SCENE_FIELDS) or
                                                           f" (fields: {', '.join(SCENE_FIELDS)})"))
        return out


def _plain(v):
    return float(v) if isinstance(v, float) else v
