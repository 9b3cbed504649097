"""``semeq-live render``: process a sound file offline through the live engine."""

from __future__ import annotations

from pathlib import Path

NAME = "render"
ORDER = 10
HELP = "render a sound file through the EQ (manual parameters, terms, or a MIDI performance)"
DESCRIPTION = """Render IN to OUT through the same engine the live path uses.

Manual mode: --params FILE (YAML or JSON with the 13 SAFE parameters by name).
Semantic mode: --term-a WORD [--term-b WORD --alpha A] [--intensity K] [--no-autogain].
Performance mode: --mapping FILE --midi PERFORMANCE.mid plays the MIDI file through the mapping."""


def add_arguments(p):
    p.add_argument("input", metavar="IN", help="input sound file (WAV, FLAC, OGG, AIFF)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output sound file")
    p.add_argument("--params", metavar="FILE", help="YAML/JSON file with the 13 named EQ parameters")
    p.add_argument("--block-size", type=int, default=512, help="processing block size (default 512)")
    p.add_argument("--smoothing-ms", type=float, default=20.0, help="parameter smoothing (default 20 ms)")
    p.add_argument("--ceiling-db", type=float, default=-1.0, help="safety limiter ceiling in dBFS (default -1)")
    p.add_argument("--json", action="store_true", help="print a machine-readable report")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def load_params_file(path) -> "object":
    """Read a manual-mode parameter file; errors name the file (and key)."""
    import yaml

    from ...errors import CLIError
    from ...params import params_from_mapping

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise CLIError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise CLIError(f"{path}{where}: not valid YAML/JSON ({getattr(exc, 'problem', exc)})") from None
    if isinstance(data, dict) and "params" in data and isinstance(data["params"], dict):
        data = data["params"]
    if not isinstance(data, dict):
        raise CLIError(f"{path}: expected a mapping of the 13 SAFE parameter names to numbers")
    try:
        return params_from_mapping(data)
    except ValueError as exc:
        raise CLIError(f"{path}: {exc}") from None


def run(args) -> int:
    import json

    from ...dsp import EQProcessor
    from ...errors import CLIError
    from ...offline import open_input, render_file

    if args.block_size < 1 or args.block_size > 65536:
        raise CLIError("--block-size must be between 1 and 65536")
    if args.params is None:
        raise CLIError("say what to apply: --params FILE (manual mode)")
    params = load_params_file(args.params)
    with open_input(args.input) as f:
        sr, ch = f.samplerate, f.channels
    proc = EQProcessor(sr, ch, smoothing_ms=args.smoothing_ms, ceiling_db=args.ceiling_db)
    proc.set_params(params)

    def process(block, start):
        return proc.process(block)

    report = render_file(args.input, args.output, process, block_size=args.block_size,
                         progress=not args.quiet)
    report["mode"] = "manual"
    report["limited_samples"] = proc.limited_samples
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"wrote {report['output']}: {report['seconds']:.2f} s, {report['sample_rate']} Hz, "
              f"{report['channels']} ch, {report['subtype']} (manual parameters)")
    return 0
