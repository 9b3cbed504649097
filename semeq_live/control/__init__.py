"""Control state (what the performer set), the semantic engine (state -> EQ parameters) and the
control loop (``loop.LiveControl``: the one thread that applies MIDI/keys/estimates to the state)."""

from .state import ControlState

__all__ = ["ControlState"]
