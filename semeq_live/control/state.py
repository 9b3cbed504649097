"""The performer's control state: the one thing MIDI, keyboard, scenes and the CLI all write.

Only the control thread mutates a ``ControlState``; everything else reads copies (``snapshot``).
Values are kept in their musical units and clamped on every write, so a bad mapping or a fuzzed
message can never push the engine outside its ranges.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

# Ranges of the continuous targets (the mapping layer scales controller values into these).
ALPHA_RANGE = (0.0, 1.0)
INTENSITY_RANGE = (0.0, 1.5)  # 1.0 = all the way to the target; up to 1.5 exaggerates
TRAVERSE_RANGE = (-1.0, 1.0)  # in units of the model's latent spread along each principal axis
OUTPUT_GAIN_RANGE_DB = (-24.0, 12.0)

# Fields a scene stores (named snapshot of the performance, DESIGN.md section 6).
SCENE_FIELDS = ("term_a", "term_b", "alpha", "intensity", "traverse_x", "traverse_y", "output_gain_db")


def _clamp(v: float, lo_hi: tuple[float, float]) -> float:
    v = float(v)
    if v != v:  # NaN never gets in
        return lo_hi[0]
    return min(max(v, lo_hi[0]), lo_hi[1])


@dataclass
class ControlState:
    term_a: str = "warm"
    term_b: str = "bright"
    alpha: float = 0.0
    intensity: float = 1.0
    traverse_x: float = 0.0
    traverse_y: float = 0.0
    output_gain_db: float = 0.0
    bypass: bool = False
    autogain: bool = True
    adaptive: bool = True
    scene: str | None = None

    def __post_init__(self):
        self.clamp()

    def clamp(self) -> "ControlState":
        self.alpha = _clamp(self.alpha, ALPHA_RANGE)
        self.intensity = _clamp(self.intensity, INTENSITY_RANGE)
        self.traverse_x = _clamp(self.traverse_x, TRAVERSE_RANGE)
        self.traverse_y = _clamp(self.traverse_y, TRAVERSE_RANGE)
        self.output_gain_db = _clamp(self.output_gain_db, OUTPUT_GAIN_RANGE_DB)
        self.bypass = bool(self.bypass)
        self.autogain = bool(self.autogain)
        self.adaptive = bool(self.adaptive)
        return self

    def snapshot(self) -> "ControlState":
        """An independent copy for readers on other threads."""
        return replace(self)

    def update(self, **changes) -> bool:
        """Set fields (clamped). Returns True when anything actually changed."""
        before = self._values()
        for key, value in changes.items():
            if key not in _FIELD_NAMES:
                raise KeyError(f"unknown control field {key!r}")
            setattr(self, key, value)
        self.clamp()
        return self._values() != before

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in _FIELD_NAMES)

    def scene_values(self) -> dict:
        return {k: getattr(self, k) for k in SCENE_FIELDS}

    def to_dict(self) -> dict:
        return asdict(self)


_FIELD_NAMES = tuple(f.name for f in fields(ControlState))
