"""Controller values: response curves and relative-encoder decoding.

Curves shape a normalised control position ``x`` in [0, 1] into a normalised target position
``y`` in [0, 1]. Every curve is monotonic and invertible, so relative encoders and pickup can work
in the same "physical" space as the absolute faders.
"""

from __future__ import annotations

import math

# Steepness of the exponential curves: the first half of the travel covers ~18 % of the range.
_EXP_K = 3.0


def _exp(x: float) -> float:  # fine control near the start of the range
    return math.expm1(_EXP_K * x) / math.expm1(_EXP_K)


def _exp_inv(y: float) -> float:
    return math.log1p(y * math.expm1(_EXP_K)) / _EXP_K


def _smoothstep(x: float) -> float:  # fine control near both ends (dwell on pure terms)
    return x * x * (3.0 - 2.0 * x)


def _smoothstep_inv(y: float) -> float:
    return 0.5 - math.sin(math.asin(max(-1.0, min(1.0, 1.0 - 2.0 * y))) / 3.0)


CURVES = {
    "linear": (lambda x: x, lambda y: y),
    "exponential": (_exp, _exp_inv),
    "logarithmic": (lambda x: 1.0 - _exp(1.0 - x), lambda y: 1.0 - _exp_inv(1.0 - y)),
    "s-curve": (_smoothstep, _smoothstep_inv),
}


def _unit(v: float) -> float:
    return 0.0 if not v > 0.0 else (1.0 if v > 1.0 else float(v))


def apply_curve(name: str, x: float) -> float:
    return _unit(CURVES[name][0](_unit(x)))


def invert_curve(name: str, y: float) -> float:
    return _unit(CURVES[name][1](_unit(y)))


# Relative encoder encodings (7-bit CC value -> signed ticks).
RELATIVE_ENCODINGS = ("twos_complement", "binary_offset", "signed_bit")


def decode_relative(encoding: str, value: int) -> int:
    """Signed ticks from one relative-encoder CC value.

    - ``twos_complement``: 1..63 up, 127..65 down (127 = -1), 64 = -64, 0 = no move.
    - ``binary_offset``: 64 is the centre; 65 = +1, 63 = -1 (Arturia "Relative #1").
    - ``signed_bit``: bit 6 is the sign, bits 0-5 the magnitude; 1 = +1, 65 = -1 (Mackie style).
    """
    value = int(value) & 0x7F
    if encoding == "twos_complement":
        return value - 128 if value >= 64 else value
    if encoding == "binary_offset":
        return value - 64
    if encoding == "signed_bit":
        magnitude = value & 0x3F
        return -magnitude if value & 0x40 else magnitude
    raise ValueError(f"unknown relative encoding {encoding!r}")


def encode_relative(encoding: str, ticks: int) -> int:
    """Inverse of ``decode_relative`` for |ticks| <= 63 (used by tests and the demo generator)."""
    ticks = max(-63, min(63, int(ticks)))
    if encoding == "twos_complement":
        return ticks & 0x7F
    if encoding == "binary_offset":
        return ticks + 64
    if encoding == "signed_bit":
        return (0x40 | -ticks) if ticks < 0 else ticks
    raise ValueError(f"unknown relative encoding {encoding!r}")
