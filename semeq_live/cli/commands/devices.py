"""``semeq-live devices``: the audio devices and MIDI ports this machine offers."""

from __future__ import annotations

NAME = "devices"
ORDER = 2
HELP = "list audio devices and MIDI ports (names to use with --input-device, --midi-port ...)"


def add_arguments(p):
    p.add_argument("--midi-api", choices=("alsa", "jack", "both"), default="both",
                   help="which MIDI system to list (default: both)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args) -> int:
    import json
    from dataclasses import asdict

    from ...audio import devices as audio_devices
    from ...audio.devices import list_audio_devices, list_midi_ports
    from ...errors import DeviceError

    try:
        audio = list_audio_devices()
        audio_error = None
    except DeviceError as exc:
        audio, audio_error = [], str(exc)
    apis = ("alsa", "jack") if args.midi_api == "both" else (args.midi_api,)
    midi = {api: list_midi_ports(api) for api in apis}
    missing = missing_line(midi)
    if args.json:
        print(json.dumps({"audio": [asdict(d) for d in audio], "audio_error": audio_error,
                          "audio_causes": list(audio_devices.audio_probe_causes),
                          "midi": midi, "missing": missing}, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="Audio devices", title_justify="left")
    for col in ("#", "name", "host API", "in", "out", "default rate"):
        table.add_column(col)
    for d in audio:
        table.add_row(str(d.index), d.name, d.hostapi, str(d.max_input_channels),
                      str(d.max_output_channels), f"{d.default_samplerate:g}")
    console.print(table)
    if not audio:
        why = "; ".join(audio_devices.audio_probe_causes)
        console.print(audio_error or f"No audio devices{f' ({why})' if why else ''}. Start an audio "
                      "server (JACK) or connect an interface; 'semeq-live run' will render the "
                      "demo offline meanwhile.")
    for api, ports in midi.items():
        if ports["unavailable"]:
            continue  # said once, below
        console.print(f"[bold]MIDI ({api.upper()})[/bold]")
        console.print("  inputs:  " + (", ".join(ports["inputs"]) or "none"))
        console.print("  outputs: " + (", ".join(ports["outputs"]) or "none"))
    if missing:
        console.print(missing, highlight=False, soft_wrap=True)
    return 0


def missing_line(midi: dict) -> str | None:
    """One line for the MIDI systems that could not be asked, e.g. "no JACK server running; ALSA
    sequencer unavailable (/dev/snd/seq: No such file or directory): MIDI ports cannot be listed"."""
    gone = {api: p["unavailable"] for api, p in sorted(midi.items(), key=lambda kv: kv[0] != "jack")
            if p["unavailable"]}
    if not gone:
        return None
    if len(gone) == len(midi):
        what = "MIDI ports cannot be listed"
    else:
        what = f"no {' or '.join(api.upper() for api in gone)} MIDI ports can be listed"
    return f"{'; '.join(gone.values())}: {what}"
