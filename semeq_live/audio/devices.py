"""Find audio devices by a name substring and list what the machine offers.

Every failure is a ``DeviceError`` whose message says what was looked for, what exists, and what to
do next, because on stage the person reading it has a show to start. Probing runs with the C
libraries' stderr captured (``semeq_live.quiet``): their noise about a missing JACK server or ALSA
sequencer becomes one cause of our own instead of a dozen lines before our table.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DeviceError
from ..quiet import native_stderr_captured

# Causes the last PortAudio start-up reported (e.g. "no JACK server running"), for advice.
audio_probe_causes: list[str] = []


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float

    def describe(self) -> str:
        return (f"[{self.index}] {self.name} ({self.hostapi}, {self.max_input_channels} in, "
                f"{self.max_output_channels} out, {self.default_samplerate:g} Hz)")


def _sd():
    import sys

    if "sounddevice" in sys.modules:
        return sys.modules["sounddevice"]
    try:
        with native_stderr_captured() as noise:  # importing starts PortAudio, which probes
            import sounddevice as sd
    except OSError as exc:  # PortAudio library missing
        raise DeviceError(f"PortAudio is not available ({exc}); install it with "
                          "'apt-get install libportaudio2'") from None
    audio_probe_causes[:] = noise.causes
    return sd


def rescan() -> None:
    """Re-initialise PortAudio so devices (or a JACK server) that appeared since start-up are seen."""
    sd = _sd()
    release()  # sounddevice has no public re-scan; terminate + initialise is the documented way
    with native_stderr_captured() as noise:
        sd._initialize()
    audio_probe_causes[:] = noise.causes


def release() -> None:
    """Shut PortAudio down (all streams must be closed). Its JACK host API keeps a client on the
    server while initialised and aborts the process at exit if that server has gone meanwhile."""
    sd = _sd()
    while sd._initialized:
        sd._terminate()


def list_audio_devices() -> list[AudioDevice]:
    sd = _sd()
    hostapis = sd.query_hostapis()
    out = []
    for i, d in enumerate(sd.query_devices()):
        out.append(AudioDevice(i, d["name"], hostapis[d["hostapi"]]["name"], d["max_input_channels"],
                               d["max_output_channels"], float(d["default_samplerate"])))
    return out


def find_device(pattern: str | None, kind: str, channels: int,
                devices: list[AudioDevice] | None = None) -> AudioDevice:
    """The device for ``kind`` ("input" or "output") whose name contains ``pattern`` (case-insensitive).

    ``None`` means the system default. Ambiguous patterns prefer an exact name match, then JACK,
    then the first match, so "system" picks JACK's system ports and not an ALSA "sysdefault".
    """
    if kind not in ("input", "output"):
        raise ValueError(kind)
    devices = list_audio_devices() if devices is None else devices
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    usable = [d for d in devices if getattr(d, key) > 0]
    if not usable:
        raise DeviceError(
            f"no audio {kind} device on this machine. Start an audio server (e.g. "
            "'jackd -d alsa' or 'jackd -d dummy' for a test), plug in the interface, or run "
            "'semeq-live devices' to see what is available")
    if pattern is None:
        sd = _sd()
        default = sd.default.device[0 if kind == "input" else 1]
        chosen = next((d for d in usable if d.index == default), usable[0])
    else:
        needle = pattern.lower()
        matches = [d for d in usable if needle in d.name.lower()]
        if not matches:
            names = ", ".join(sorted({d.name for d in usable}))
            raise DeviceError(f"no audio {kind} device matches '{pattern}'. Available {kind} "
                              f"devices: {names}. Use a part of one of these names")
        exact = [d for d in matches if d.name.lower() == needle]
        jack = [d for d in matches if "jack" in d.hostapi.lower()]
        chosen = (exact or jack or matches)[0]
    if getattr(chosen, key) < channels:
        raise DeviceError(f"audio {kind} device '{chosen.name}' has {getattr(chosen, key)} "
                          f"{kind} channel(s), {channels} requested. Use --channels "
                          f"{getattr(chosen, key)} or pick another device")
    return chosen


def list_midi_ports(api: str = "alsa") -> dict:
    """MIDI ports of ``api`` ("alsa" or "jack"): ``{"inputs": [...], "outputs": [...],
    "unavailable": None}``, or empty lists and in ``unavailable`` why the system could not be
    asked (e.g. "no JACK server running"). Never prints the libraries' noise."""
    from ..midi.ports import probe_ports

    return probe_ports(api)
