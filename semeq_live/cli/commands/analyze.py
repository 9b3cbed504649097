"""``semeq-live analyze FILE``: the term profile of a recording, second by second and overall."""

from __future__ import annotations

NAME = "analyze"
HELP = "term profile of a sound file over time (per second) and overall"
DESCRIPTION = (
    "Feed a sound file through the live input analyzer (2 s rolling third-octave spectrum against a "
    "reference, mapped to the model's latent space by its curve encoder) and print how close the "
    "input sounds to each term: once per second and for the whole file (the same code path as "
    "live). Only the bands where the input carries signal are judged (a voice, one instrument, a "
    "16 kHz recording). 'no estimate' means the analyzer would not trust itself there, and says "
    "why: silence, a near-pure tone, too little audio, too narrow a range. A source far from the "
    "reference (hats against a mix) is judged against the reference tilted to fit it, and says so."
)
ORDER = 30
UPDATE_INTERVAL_S = 0.1  # the live analysis rate


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE", help="sound file (WAV, FLAC, OGG, AIFF)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--model", metavar="PATH", help="model file (.npz); default: the bundled model")
    p.add_argument("--reference", metavar="REF", default="auto",
                   help="what 'neutral' is: 'auto' (default: 'voice' for one voice, 'music' "
                        "otherwise, chosen from the input), 'music' (a full mix), 'voice' (the "
                        "long-term average speech spectrum), 'pink', or a file saved by --save-reference")
    p.add_argument("--top", type=int, default=3, metavar="N", help="terms to show per second (default 3)")
    p.add_argument("--window", type=float, default=2.0, metavar="SECONDS",
                   help="analysis window (default 2 s)")
    p.add_argument("--save-reference", metavar="PATH",
                   help="also save the whole file's long-term spectrum as a reference (for --reference "
                        "or the live tool's learn/load reference)")


def analyze_file(path, model, reference=None, window_s: float = 2.0, block: int = 1024):
    """Run the analyzer over a file. Returns ``(info, per_second, overall, analyzer)``."""
    import soundfile as sf

    from ...analysis import Analyzer
    from ...errors import CLIError

    try:
        f = sf.SoundFile(str(path))
    except (RuntimeError, sf.LibsndfileError, OSError) as exc:
        raise CLIError(f"cannot read {path}: {exc}") from None
    with f:
        fs, channels, frames = f.samplerate, f.channels, f.frames
        if frames == 0:
            raise CLIError(f"{path} contains no audio")
        analyzer = Analyzer(fs, channels, model=model, window_s=window_s, reference=reference)
        per_update = max(1, int(round(UPDATE_INTERVAL_S * fs)))
        per_second, next_second = [], 1
        pending, done = 0, 0
        for data in f.blocks(blocksize=block, dtype="float32", always_2d=True):
            analyzer.push(data)
            pending += len(data)
            done += len(data)
            if pending >= per_update:
                pending = 0
                est = analyzer.update()
                if done >= next_second * fs:
                    per_second.append((next_second, est))
                    next_second += 1
        est = analyzer.update()
        last_t = per_second[-1][0] if per_second else 0.0
        if done / fs - last_t > 0.05:  # the final partial second
            per_second.append((done / fs, est))
    overall = analyzer.overall_estimate(time_s=done / fs)
    if overall is None:
        raise CLIError(f"{path} is shorter than one analysis segment "
                       f"({analyzer.nfft / fs:.2f} s): nothing to analyse")
    info = {"file": str(path), "sample_rate": fs, "channels": channels, "duration_s": round(frames / fs, 3),
            "reference": analyzer.reference_label, "window_s": window_s,
            "bands_with_signal": _band_range(overall.band_weight),
            # The input is far from the reference, which was tilted to fit it (reference_fit.py).
            "reference_fit": overall.reference_note}
    if analyzer.auto is not None:  # what auto decided, and when (one line per switch)
        info["reference_switches"] = list(analyzer.auto.switch_log)
    return info, per_second, overall, analyzer


def _band_range(weight) -> str | None:
    """"80 Hz-6.3 kHz (6.1 octaves)": the span of the bands judged, for people."""
    import numpy as np

    from ...params import ANALYSIS_FREQS

    if weight is None or not np.any(weight > 0):
        return None
    idx = np.flatnonzero(weight >= 0.5) if np.any(weight >= 0.5) else np.flatnonzero(weight > 0)

    def hz(f):
        return f"{f / 1000:.1f} kHz" if f >= 1000 else f"{f:.0f} Hz"

    return (f"{hz(ANALYSIS_FREQS[idx[0]])}-{hz(ANALYSIS_FREQS[idx[-1]])} "
            f"({float(np.sum(weight)) / 3:.1f} octaves)")


def run(args) -> int:
    import json
    from dataclasses import replace

    from ...analysis import ReferenceSpectrum
    from ...analysis.reference import learned_reference
    from ...errors import CLIError
    from ...model import load_model

    if args.top < 1:
        raise CLIError("--top must be at least 1")
    if not 0.5 <= args.window <= 30.0:
        raise CLIError("--window must be between 0.5 and 30 seconds")
    model = load_model(args.model)
    from ...analysis.reference import AUTO

    reference = AUTO if args.reference == AUTO else ReferenceSpectrum.resolve(args.reference)
    info, per_second, overall, analyzer = analyze_file(args.file, model, reference, args.window)
    info["model"] = str(model.path)

    saved = None
    if args.save_reference:
        power, level_db = analyzer.average_since_reset()
        if level_db < analyzer.min_level_db:
            raise CLIError(f"{args.file} is too quiet to learn a reference from ({level_db:.0f} dBFS)")
        ref = learned_reference(power, seconds=info["duration_s"], sample_rate=info["sample_rate"],
                                valid=analyzer.bands.valid, reliability=analyzer.reliability_since_reset())
        ref = replace(ref, name=f"learned from {args.file}")
        saved = str(ref.save(args.save_reference))

    if args.json:
        doc = dict(info)
        doc["per_second"] = [dict(est.to_dict(args.top), time_s=round(t, 3)) for t, est in per_second]
        doc["overall"] = overall.to_dict()
        if saved:
            doc["saved_reference"] = saved
        print(json.dumps(doc, indent=1))
        return 0
    _print_rich(info, per_second, overall, args.top, saved)
    return 0


def _print_rich(info, per_second, overall, top, saved) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{info['file']}[/]  {info['duration_s']:.1f} s, {info['sample_rate']} Hz, "
                  f"{info['channels']} ch; reference: {info['reference']}; bands judged: "
                  f"{info['bands_with_signal'] or 'none'}")
    if info.get("reference_fit"):
        console.print(f"[yellow]reference fitted: {info['reference_fit']}[/]")
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("time", justify="right")
    table.add_column("level", justify="right")
    for i in range(top):
        table.add_column(f"#{i + 1}")
    for t, est in per_second:
        level = f"{est.level_db:.0f} dBFS" if est.level_db > -200 else "-"
        if est.confident:
            cells = [f"{term} {sim:.2f}" for term, sim in est.profile[:top]]
            if est.reference_tilt_db_per_oct is not None:  # judged against the fitted reference
                cells[-1] += f" [dim](ref {est.reference_tilt_db_per_oct:+.1f} dB/oct)[/]"
        else:
            cells = [f"[dim]no estimate: {est.reason}[/]"] + [""] * (top - 1)
        table.add_row(f"{t:.0f} s" if float(t).is_integer() else f"{t:.1f} s", level, *cells)
    console.print(table)
    console.print("[bold]overall[/]" + ("" if overall.confident else f": no estimate ({overall.reason})"))
    if overall.confident:
        width = 30
        for term, sim in overall.profile[:max(top, 5)]:
            bar = "█" * int(round(sim * width))
            console.print(f"  {term:>12} {bar:<{width}} {sim:.2f}")
    if saved:
        console.print(f"reference saved to {saved}")
