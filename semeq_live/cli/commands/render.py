"""``semeq-live render``: process a sound file offline through the live engine."""

from __future__ import annotations

from pathlib import Path

NAME = "render"
ORDER = 10
HELP = "render a sound file through the EQ (manual parameters, terms, or a MIDI performance)"
DESCRIPTION = """Render IN to OUT through the same engine and control path the live app uses.

  manual:       --params FILE   (YAML/JSON with the 13 SAFE parameters by name)
  semantic:     --term-a WORD [--term-b WORD --alpha A] [--intensity K] [--no-autogain]
  performance:  --mapping FILE --midi PERFORMANCE.mid   (the file's MIDI played through the mapping)

Semantic and performance modes listen to the input (adaptive intensity, auto-gain) exactly as live."""


def add_arguments(p):
    p.add_argument("input", metavar="IN", help="input sound file (WAV, FLAC, OGG, AIFF)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output sound file (never the input itself; an existing file only with --force)")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.add_argument("--params", metavar="FILE", help="manual mode: YAML/JSON with the 13 named EQ parameters")
    p.add_argument("--model", metavar="FILE", help="model .npz (default: the bundled model)")
    p.add_argument("--term-a", metavar="WORD", help="target term (e.g. warm)")
    p.add_argument("--term-b", metavar="WORD", help="second term to morph towards")
    p.add_argument("--alpha", type=float, default=None, help="morph position 0..1 between A and B")
    p.add_argument("--intensity", type=float, default=None,
                   help="adaptive intensity k: 0 flat, 1 all the way to the target, up to 1.5")
    p.add_argument("--traverse-x", type=float, default=None, help="latent traverse, -1..1")
    p.add_argument("--traverse-y", type=float, default=None, help="latent traverse, -1..1")
    p.add_argument("--static", action="store_true",
                   help="do not adapt to the input: apply the target EQ scaled by the intensity")
    p.add_argument("--no-autogain", action="store_true", help="switch loudness compensation off")
    p.add_argument("--gain-db", type=float, default=None, help="master output gain in dB")
    p.add_argument("--mapping", metavar="FILE", help="MIDI mapping (file or shipped name) for --midi")
    p.add_argument("--midi", metavar="FILE", help="MIDI file performance played through --mapping")
    p.add_argument("--scenes", metavar="FILE", help="scene file for scene recall/store in --midi")
    p.add_argument("--reference", metavar="REF",
                   help="what 'neutral' is for adaptive intensity: auto (default: voice for one voice, "
                        "music otherwise, chosen from the input), music, voice, pink, or a reference "
                        "file (from 'learn reference' or 'analyze --save-reference')")
    p.add_argument("--block-size", type=int, default=512, help="processing block size (default 512)")
    p.add_argument("--smoothing-ms", type=float, default=20.0, help="parameter smoothing (default 20 ms)")
    p.add_argument("--ceiling-db", type=float, default=-1.0, help="safety limiter ceiling in dBFS (default -1)")
    p.add_argument("--max-boost-db", type=float, default=None, metavar="DB",
                   help="boost cap: the applied EQ never rises more than DB anywhere (0..12), as live")
    p.add_argument("--subsonic-hz", type=float, default=None, metavar="HZ",
                   help="DC/subsonic protection: 24 dB/octave high-pass at HZ in front of the EQ "
                        "(default 20, as live; 0 = off)")
    p.add_argument("--json", action="store_true", help="print a machine-readable report")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def load_params_file(path):
    """Read a manual-mode parameter file; errors name the file (and line or key)."""
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


def _check_term(model, term, option):
    from ...errors import CLIError

    if term is not None and term not in model.terms:
        near = model.nearest_terms(term)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise CLIError(f"{option} {term!r} is not a term of the model{hint} "
                       f"(all terms: semeq-live terms)")


def _semantic_session(args, sr, ch):
    from ...control.state import ControlState
    from ...errors import CLIError
    from ...model import load_model
    from ...offline import SemanticSession

    model = load_model(args.model)
    _check_term(model, args.term_a, "--term-a")
    _check_term(model, args.term_b, "--term-b")
    defaults = ControlState()  # warm -> bright, when the model knows those words
    term_a = args.term_a or (defaults.term_a if defaults.term_a in model.terms else model.terms[0])
    term_b = args.term_b or (args.term_a if args.term_a else
                             defaults.term_b if defaults.term_b in model.terms else model.terms[-1])
    state = ControlState(term_a=term_a, term_b=term_b)
    changes = {"alpha": args.alpha, "intensity": args.intensity, "traverse_x": args.traverse_x,
               "traverse_y": args.traverse_y, "output_gain_db": args.gain_db}
    for key, value in changes.items():
        if value is not None:
            if value != value:
                raise CLIError(f"--{key.replace('_', '-')} must be a number")
            state.update(**{key: value})
    if args.term_b is None and args.alpha is None:
        state.update(alpha=0.0)
    state.update(autogain=not args.no_autogain, adaptive=not args.static)
    mapping = performance = scenes = None
    if args.midi:
        from ...midi import SceneBank, load_mapping, load_performance
        from ...midi.mapping import default_mapping_path, resolve_mapping_path

        mapping_path = resolve_mapping_path(args.mapping) if args.mapping else default_mapping_path()
        mapping = load_mapping(mapping_path, known_terms=model.terms)
        try:
            performance = load_performance(args.midi)
        except OSError as exc:
            raise CLIError(f"{args.midi}: cannot read the MIDI file ({exc})") from None
        if args.scenes:
            scenes = SceneBank(args.scenes, known_terms=model.terms)
    elif args.mapping:
        raise CLIError("--mapping needs --midi PERFORMANCE.mid (live control is 'semeq-live run')")
    return SemanticSession(sr, ch, state, model=model, mapping=mapping, performance=performance,
                           scenes=scenes, block_size=args.block_size, smoothing_ms=args.smoothing_ms,
                           ceiling_db=args.ceiling_db, reference=args.reference,
                           max_boost_db=args.max_boost_db, subsonic_hz=args.subsonic_hz)


def run(args) -> int:
    import json
    import sys

    from ...dsp import EQProcessor
    from ...dsp.design import SUBSONIC_DEFAULT_HZ, validate_subsonic_hz
    from ...errors import CLIError
    from ...offline import check_output, open_input, render_file, truncation_warning

    if args.block_size < 1 or args.block_size > 65536:
        raise CLIError("--block-size must be between 1 and 65536")
    try:
        args.subsonic_hz = validate_subsonic_hz(
            SUBSONIC_DEFAULT_HZ if args.subsonic_hz is None else args.subsonic_hz)
    except ValueError as exc:
        raise CLIError(f"--subsonic-hz: {exc}") from None
    semantic = any(v is not None for v in (args.term_a, args.term_b, args.midi, args.mapping))
    if args.params and semantic:
        raise CLIError("--params (manual mode) cannot be combined with terms or a MIDI performance")
    if not args.params and not semantic:
        raise CLIError("say what to apply: --params FILE, --term-a WORD, or --mapping FILE --midi FILE")
    params = load_params_file(args.params) if args.params else None
    with open_input(args.input) as f:
        sr, ch = f.samplerate, f.channels
    check_output(args.input, args.output, force=args.force)  # before any work: nothing written

    from ...control.boost_cap import check_max_boost_db

    try:
        check_max_boost_db(args.max_boost_db)
    except ValueError as exc:
        raise CLIError(f"--max-boost-db: {exc}") from None
    cap = None
    if params is not None:
        if args.max_boost_db is not None:  # the manual setting, limited as live would limit it
            from ...control.ceiling import BoostCeiling

            cap = BoostCeiling(sr, args.max_boost_db).apply(params)
            params = cap.forward
        proc = EQProcessor(sr, ch, smoothing_ms=args.smoothing_ms, ceiling_db=args.ceiling_db,
                           subsonic_hz=args.subsonic_hz)
        proc.set_params(params)
        process = lambda block, start: proc.process(block)  # noqa: E731
        session = None
    else:
        session = _semantic_session(args, sr, ch)
        proc = session.processor
        process = session.process

    report = render_file(args.input, args.output, process, block_size=args.block_size,
                         progress=not args.quiet, force=args.force)
    warning = truncation_warning(args.input, report)
    if warning:
        print(f"semeq-live render: {warning}", file=sys.stderr)
    report["limited_samples"] = proc.limited_samples
    report["subsonic_hz"] = proc.subsonic_hz
    if session is None:
        report["mode"] = "manual"
        if cap is not None:
            report["boost_cap"] = {"max_boost_db": args.max_boost_db, "acting": cap.acting,
                                   "held_back_db": round(cap.held_back_db, 2), "reason": cap.reason}
    else:
        s = session.settings
        report["mode"] = "performance" if args.midi else "semantic"
        report["final_state"] = session.state.to_dict()
        report["final_eq"] = s.to_dict() if s is not None else None
        report["midi_messages"] = session.messages
        report["state_changes"] = len(session.timeline)
    if args.json:
        print(json.dumps(report, indent=2, default=float))
    else:
        extra = ""
        if session is not None:
            st = session.state
            extra = (f" ({report['mode']}: {st.term_a} -> {st.term_b} alpha {st.alpha:.2f}, "
                     f"intensity {st.intensity:.2f}, EQ mode: {session.settings.mode})")
        print(f"wrote {report['output']}: {report['seconds']:.2f} s, {report['sample_rate']} Hz, "
              f"{report['channels']} ch, {report['subtype']}{extra}")
    return 0
