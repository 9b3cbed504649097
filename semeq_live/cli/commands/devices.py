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

    from ...audio.devices import list_audio_devices, list_midi_ports
    from ...errors import DeviceError

    try:
        audio = list_audio_devices()
        audio_error = None
    except DeviceError as exc:
        audio, audio_error = [], str(exc)
    apis = ("alsa", "jack") if args.midi_api == "both" else (args.midi_api,)
    midi = {api: list_midi_ports(api) for api in apis}
    if args.json:
        print(json.dumps({"audio": [asdict(d) for d in audio], "audio_error": audio_error,
                          "midi": midi}, indent=2))
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
        console.print(audio_error or "No audio devices. Start an audio server (JACK) or connect an "
                      "interface; 'semeq-live run' will render the demo offline meanwhile.")
    for api, ports in midi.items():
        console.print(f"[bold]MIDI ({api.upper()})[/bold]")
        console.print("  inputs:  " + (", ".join(ports["inputs"]) or "none"))
        console.print("  outputs: " + (", ".join(ports["outputs"]) or "none"))
    return 0
