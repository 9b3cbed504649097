"""User-facing error types. Each one's message says what is wrong and what to do about it.

The CLI prints any ``SemeqError`` as a one-line message (exit status 2) instead of a traceback.
"""


class SemeqError(Exception):
    """Base class of errors meant for the user, not the developer."""


class CLIError(SemeqError):
    """Bad command-line usage or an input file the command cannot use."""


class ModelError(SemeqError):
    """A model file that is missing, corrupt, truncated or of the wrong version."""


class MappingError(SemeqError):
    """A MIDI mapping or scene file that does not validate. Names file, line and key."""


class DeviceError(SemeqError):
    """An audio or MIDI device that is missing or cannot be opened."""
