"""``semeq-live run``: the live performance app (panel, or headless for the stage)."""

from __future__ import annotations

NAME = "run"
ORDER = 1
HELP = "run live: audio in -> semantic EQ -> audio out, controlled by MIDI (or the keyboard)"
DESCRIPTION = """Run the live semantic EQ on an audio device, controlled by a MIDI controller
through a mapping file (or by single keys when there is no controller).

A YAML --config file holds stage defaults (any option below, e.g. 'block_size: 128',
'midi_port: [nanoKONTROL2]', 'headless: true'); options on the command line win.
Without any audio device at all, the bundled demo performance is rendered offline instead
(and the reason is printed)."""


def add_arguments(p):
    g = p.add_argument_group("control")
    g.add_argument("--mapping", metavar="FILE",
                   help="MIDI mapping YAML or a shipped name, e.g. nanokontrol2 (default: generic)")
    g.add_argument("--model", metavar="FILE", help="semantic model .npz (default: the bundled model)")
    g.add_argument("--scenes", metavar="FILE", help="scene bank YAML (created when a scene is stored)")
    g.add_argument("--reference", metavar="REF",
                   help="what 'neutral' is for the input: auto (default: voice for one voice, music "
                        "otherwise, chosen from the input), music (a full mix), voice (the long-term "
                        "average speech spectrum), pink, or a FILE (loaded at start if it exists, "
                        "written by 'learn reference')")
    g.add_argument("--midi-port", action="append", metavar="NAME", default=None,
                   help="MIDI input port name substring (repeatable; default: none, keyboard only)")
    g.add_argument("--midi-api", choices=("alsa", "jack"), default=None, help="MIDI system (default alsa)")
    g.add_argument("--term-a", metavar="WORD", help="initial term A")
    g.add_argument("--term-b", metavar="WORD", help="initial term B")
    g.add_argument("--alpha", type=float, help="initial morph position 0..1")
    g.add_argument("--intensity", type=float, help="initial adaptive intensity 0..1.5")
    g.add_argument("--no-autogain", dest="autogain", action="store_false", default=None,
                   help="switch loudness compensation off")
    g.add_argument("--no-adaptive", dest="adaptive", action="store_false", default=None,
                   help="apply the static target EQ instead of adapting to the input")
    a = p.add_argument_group("audio")
    a.add_argument("--input-device", metavar="NAME", help="capture device name substring")
    a.add_argument("--output-device", metavar="NAME", help="playback device name substring")
    a.add_argument("--sample-rate", type=int, help="sample rate in Hz (default 48000)")
    a.add_argument("--block-size", type=int, help="frames per callback (default 128)")
    a.add_argument("--channels", type=int, help="channels (default 2)")
    a.add_argument("--input-file", metavar="FILE", help="play this file (looped) instead of the capture input")
    a.add_argument("--test-signal", choices=("pink", "tones"),
                   help="play a test signal instead of the capture input (soundcheck)")
    a.add_argument("--record", metavar="FILE", help="also write the output to FILE (.wav or .flac)")
    a.add_argument("--smoothing-ms", type=float, help="parameter smoothing time (default 20 ms)")
    a.add_argument("--ceiling-db", type=float, help="safety limiter ceiling in dBFS (default -1)")
    a.add_argument("--max-boost-db", type=float, metavar="DB",
                   help="boost cap: the applied EQ never rises more than DB anywhere (0..12; "
                        "default: none beyond the EQ's +12 dB range)")
    a.add_argument("--subsonic-hz", type=float, metavar="HZ",
                   help="DC/subsonic protection: 24 dB/octave high-pass at HZ, also in bypass "
                        "(default 20; 0 = off)")
    s = p.add_argument_group("stage")
    s.add_argument("--config", metavar="FILE", help="YAML file of stage defaults")
    s.add_argument("--headless", action="store_true", default=None,
                   help="no panel: one JSON log line per event plus periodic health lines")
    s.add_argument("--health-interval", dest="health_interval_s", type=float,
                   help="seconds between health lines in headless mode (default 10)")
    s.add_argument("--panel-rate", type=float, help="panel redraws per second (max 10, default 5)")
    s.add_argument("--no-keyboard", dest="keyboard", action="store_false", default=None,
                   help="ignore the keyboard")
    s.add_argument("--wait-for-device", action="store_true", default=None,
                   help="wait for the audio device instead of failing (for boot under systemd)")
    s.add_argument("--demo-output", metavar="FILE", default="semeq-demo.wav",
                   help="where the offline demo goes when there is no audio device (default semeq-demo.wav)")


def run(args) -> int:
    from ...app import LiveApp, config_from_args
    from ...audio.devices import list_audio_devices
    from ...errors import DeviceError

    cfg = config_from_args(args).validate()
    if not cfg.wait_for_device:
        try:
            has_output = any(d.max_output_channels > 0 for d in list_audio_devices())
        except DeviceError:
            has_output = False
        if not has_output:
            from ...app import render_demo_instead

            return render_demo_instead(cfg, args.demo_output)
    return LiveApp(cfg).run()
