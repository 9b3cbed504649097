"""Real-time audio: device lookup, the stream engine, test sources, recording and metrics.

Nothing here is imported by ``import semeq_live``; sounddevice (PortAudio) is only loaded by the
modules that open devices (``devices``, ``engine``), so commands that never touch audio stay fast
and work on machines without PortAudio.
"""
