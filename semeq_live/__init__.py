"""semeq-live: MIDI-controlled live semantic equalisation.

Importing the package is cheap on purpose: no torch, no sounddevice, no numba compilation.
Sub-packages are separate rooms: ``dsp`` (filters), ``model`` (numpy decoder), ``analysis``
(input spectrum and term profile), ``control`` (state and semantic engine), ``midi``, ``audio``,
``ui`` and ``cli``.
"""

__version__ = "0.1.0"
