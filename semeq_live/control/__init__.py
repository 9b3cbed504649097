"""Control state (what the performer set) and the semantic engine (state -> EQ parameters)."""

from .state import ControlState

__all__ = ["ControlState"]
