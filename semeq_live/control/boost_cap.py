"""The stage's boost cap setting (``max_boost_db``): its range check on its own.

Kept apart from ``ceiling.py``, whose import loads numba and its kernels: the stage config and the
command line are checked before the audio stream opens, and that check must not pay for them.
"""

from __future__ import annotations

from ..params import GAIN_RANGE_DB

EQ_RANGE_DB = float(GAIN_RANGE_DB[1])


def check_max_boost_db(value) -> float | None:
    """The configured cap, validated: None (off) or a number from 0 to 12 dB."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"max_boost_db must be a number of dB (0..{EQ_RANGE_DB:g}), not {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"max_boost_db must be a number of dB (0..{EQ_RANGE_DB:g}), not {value!r}") from None
    if not (0.0 <= v <= EQ_RANGE_DB):
        raise ValueError(f"max_boost_db must be between 0 and {EQ_RANGE_DB:g} dB (the EQ's range), "
                         f"not {value!r}")
    return v
