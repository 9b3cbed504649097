"""The evidence for adaptive intensity and the term profile on real and made sources.

Shared by ``test_analysis_evidence.py``, ``test_adaptive_evidence.py`` and
``test_loudness_evidence.py``; ``python -m tests.evidence`` prints the README's table.

Sources, each with the reference a user would use for it (``Source.reference``):

- the two music excerpts of ../shared/audio (44.1 kHz stereo): the performance is 10-30 s of each
  song, judged against a reference *learned from the same song's first 10 s, dry* (the soundcheck
  workflow: "learn reference" on the band, then the show). Honest limits: the reference comes from
  the same recording, and the built-in music reference is too far from any one song to judge the
  few dB of EQ shaping tested here;
- the two speech clips (16 kHz mono, one voice each) against the built-in ``voice`` reference
  (ANSI S3.5 long-term average speech spectrum): nothing learned from the clips;
- sparse sources made here (``synth_sources``: bass line, lead line, hats, plucked string, sine
  melody) at 22.05-96 kHz, judged against a reference learned from *another take* of the same
  instrument (other notes and rhythm, other seed): the soundcheck, then a different performance;
- the held-out made instruments (``synth_sources.HELD_OUT``: brass line, string section, mallet,
  drum loop, 32-48 kHz), the same way. They were added after the analyzer was tuned on the others
  and are never tuned on: they show whether a change generalises.

Each is pre-shaped with the SAFE dataset's mean "warm" and mean "bright" response curves (the
model's ``term_curve``), by zero-phase FFT-domain filtering with exactly that magnitude curve, and
played through the live analyzer block by block with an update every 0.1 s of audio.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from semeq_live.analysis import Analyzer, ReferenceSpectrum
from semeq_live.control.engine import SemanticEngine
from semeq_live.control.state import ControlState

from . import synth_sources, synth_voices

UPDATE_S = 0.1
SETTLE_S = 1.0          # "after the first second"
WINDOW_S = 2.0          # the analysis window: the adaptive figures start once it is full
GOALS = {"estimate": 0.9, "right_word": 0.9, "warm_vs_bright_db": 3.0, "lu": 1.0}
MUSIC_SOUNDCHECK_S = (0.0, 10.0)
MUSIC_SHOW_S = (10.0, 30.0)
SYNTH_SECONDS = 10.0
SYNTH_SOUNDCHECK_SEED, SYNTH_SHOW_SEED = 1, 2
RENDER_PEAK = 0.1  # -20 dBFS: room for the EQ's boosts under the processor's -1 dBFS limiter


@dataclass
class Source:
    name: str
    audio: np.ndarray  # [n, channels] float64
    fs: int
    reference: str  # a built-in name, or "learned" (from ``soundcheck``)
    soundcheck: np.ndarray | None = None
    expect_estimate: bool = True
    kind: str = "made"  # "music", "speech", "made"


def shape_with_curve(x: np.ndarray, fs: float, curve_db_at) -> np.ndarray:
    """Zero-phase FFT-domain filter of ``x [n, ch]`` by the magnitude curve ``curve_db_at(freqs)``."""
    n = len(x)
    spec = np.fft.rfft(x, axis=0)
    f = np.fft.rfftfreq(n, 1.0 / fs)
    gain = 10.0 ** (curve_db_at(np.maximum(f, 1.0)) / 20.0)
    return np.fft.irfft(spec * gain[:, None], n, axis=0)


def shape_with_term(x, fs, model, term):
    return shape_with_curve(x, fs, lambda f: model.term_curve(term, f))


def read(path, span_s=None) -> tuple[np.ndarray, int]:
    import soundfile as sf

    info = sf.info(str(path))
    start, stop = (0, None) if span_s is None else (int(t * info.samplerate) for t in span_s)
    x, fs = sf.read(str(path), start=start, stop=stop, dtype="float64", always_2d=True)
    return x, fs


def music_source(path: Path) -> Source:
    show, fs = read(path, MUSIC_SHOW_S)
    soundcheck, _ = read(path, MUSIC_SOUNDCHECK_S)
    return Source(path.stem, show, fs, "learned", soundcheck, kind="music")


def speech_source(path: Path) -> Source:
    x, fs = read(path)
    return Source(path.stem, x, fs, "voice", kind="speech")


def made_source(name: str) -> Source:
    """One made source (``synth_sources``): the show take and the soundcheck take, other seeds."""
    held_out = name in synth_sources.HELD_OUT
    make, fs = (synth_sources.HELD_OUT if held_out else synth_sources.SOURCES)[name]
    show = make(fs, SYNTH_SECONDS, seed=SYNTH_SHOW_SEED)[:, None]
    soundcheck = make(fs, SYNTH_SECONDS, seed=SYNTH_SOUNDCHECK_SEED)[:, None]
    return Source(name, show, fs, "learned", soundcheck, expect_estimate=name != "sine melody",
                  kind="held out" if held_out else "made")


def made_voice_source(name: str) -> Source:
    """One made voice (``synth_voices``) against the built-in ``voice`` reference, nothing learned."""
    make, fs = synth_voices.VOICES[name]
    return Source(name, make(fs, SYNTH_SECONDS, seed=SYNTH_SHOW_SEED)[:, None], fs, "voice", kind="made voice")


def made_mix(fs: float, seconds: float, seed: int = 0) -> np.ndarray:
    """A full mix of made instruments: bass line, lead line, hats, drum loop, string section."""
    s = synth_sources
    parts = (s.bass_line, s.lead_line, s.drum_loop, s.string_section)
    return s._norm(sum(make(fs, seconds, seed) for make in parts) + 0.5 * s.hats(fs, seconds, seed))


def made_mix_source() -> Source:
    fs = 44100
    return Source("made mix", made_mix(fs, SYNTH_SECONDS, SYNTH_SHOW_SEED)[:, None], fs, "learned",
                  made_mix(fs, SYNTH_SECONDS, SYNTH_SOUNDCHECK_SEED)[:, None])


def made_sources(held_out: bool = True) -> list[Source]:
    """The made sources; with ``held_out``, the held-out instruments after them."""
    names = list(synth_sources.SOURCES) + (list(synth_sources.HELD_OUT) if held_out else [])
    return [made_source(name) for name in names]


def live_estimates(analyzer: Analyzer, x: np.ndarray, block: int = 512):
    """Push like the audio callback, update every 0.1 s of audio like the analysis thread."""
    x = x.astype(np.float32)
    per_update = int(UPDATE_S * analyzer.sample_rate)
    ests, pending = [], 0
    for i in range(0, len(x), block):
        analyzer.push(x[i:i + block])
        pending += len(x[i:i + block])
        if pending >= per_update:
            pending = 0
            ests.append(analyzer.update())
    return ests


_CACHE: dict = {}


def _cached(key, make):
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


def reference_for(model, src: Source) -> ReferenceSpectrum:
    """The source's reference: a built-in, or learned from its soundcheck take (cached); for
    ``auto``, the reference auto starts from (the analyzer then picks its own)."""
    if src.reference == "auto":
        return ReferenceSpectrum.default()
    if src.reference != "learned":
        return ReferenceSpectrum.builtin(src.reference)

    def learn():
        an = Analyzer(src.fs, src.audio.shape[1], model=model)
        live_estimates(an, src.soundcheck)
        return an.learn_reference()

    return _cached(("reference", id(model), src.name), learn)


def analyzer_for(model, src: Source) -> Analyzer:
    ref = "auto" if src.reference == "auto" else reference_for(model, src)
    return Analyzer(src.fs, src.audio.shape[1], model=model, reference=ref)


def default_path(src: Source) -> Source:
    """The same source as a new user meets it: the default ``auto`` reference, nothing learned."""
    return replace(src, reference="auto")


def auto_choice(model, src: Source, shape: str) -> dict:
    """What auto decided on the ``shape``-shaped source: the share of the live updates after its
    first decision per reference, the number of switches (changes of kind) and the log (one line
    per decision: "3.1 s: auto → voice (F0 ≈ 122 Hz)")."""
    an = analyzer_for(model, default_path(src))
    ests = live_estimates(an, shape_with_term(src.audio, src.fs, model, shape))
    names = [e.reference for e in ests if e.reference != "auto"]  # "auto": still listening
    return {"shares": {n: names.count(n) / len(names) for n in dict.fromkeys(names)} if names else {},
            "switches": an.auto.switches, "log": list(an.auto.switch_log), "final": an.reference_label}


def shaped_estimates(model, src: Source, shape: str) -> list:
    """The live estimates of the source pre-shaped like ``shape`` (cached: several figures use them)."""
    return _cached(("estimates", id(model), src.name, src.reference, shape), lambda: live_estimates(
        analyzer_for(model, src), shape_with_term(src.audio, src.fs, model, shape)))


def settled(ests):
    """The live updates after the first second of the performance."""
    return ests[int(round(SETTLE_S / UPDATE_S)):]


def profile_figures(model, src: Source, term: str, other: str) -> dict:
    """Share of the live updates after the first second with an estimate, share of those ranking
    ``term`` above ``other``, and the overall (whole-performance) estimate, for the source shaped
    like ``term``."""
    ests = shaped_estimates(model, src, term)
    after = settled(ests)
    conf = [e for e in after if e.confident]
    right = [e.similarity(term) > e.similarity(other) for e in conf]

    def overall():
        an = analyzer_for(model, src)
        live_estimates(an, shape_with_term(src.audio, src.fs, model, term))
        return an.overall_estimate()

    return {"estimate": len(conf) / len(after), "right_word": float(np.mean(right)) if right else 0.0,
            "reasons": sorted({e.reason for e in after if not e.confident}),
            # auto still deciding what the source is (no estimate for that reason alone)
            "listening": sum(e.reason.startswith("listening") for e in after if not e.confident) / len(after),
            "overall": _cached(("overall", id(model), src.name, src.reference, term), overall),
            "estimates": ests}


def weighted_rms(v, w) -> float:
    w = np.asarray(w, dtype=np.float64)
    return float(np.sqrt(np.sum(w * np.square(v)) / np.sum(w)))


def applied_change_db(model, src: Source, shape: str, target: str = "warm", intensity: float = 1.0):
    """Median over the live updates (once the window is full) of the applied EQ's RMS change (dB) of
    the ``shape``-shaped input, over the bands with signal (weighted by the estimate's band weights,
    on the analysis bands); and the settings. No auto-gain: the EQ itself, as ``render
    --no-autogain`` would apply it."""
    from semeq_live.params import ANALYSIS_FREQS

    engine = SemanticEngine(model, src.fs, reference_band_db=reference_for(model, src).band_db)
    state = ControlState(term_a=target, term_b=target, intensity=intensity, autogain=False)
    changes, settings = [], []
    for est in shaped_estimates(model, src, shape)[int(round(WINDOW_S / UPDATE_S)):]:
        s = engine.compute(state, est)
        settings.append(s)
        if est.band_weight is not None and est.band_weight.sum() > 0:
            changes.append(weighted_rms(s.applied_db(ANALYSIS_FREQS, src.fs), est.band_weight))
    return (float(np.median(changes)) if changes else float("nan")), settings


def rendered_change_db(model, src: Source, shape: str, target: str = "warm", intensity: float = 1.0):
    """How far the rendered EQ moves the ``shape``-shaped input over the whole take, as ``render
    --no-autogain`` and a spectrum analyser would measure it: the output's long-term band levels
    minus the input's, RMS over the bands with signal (weighted by the input's presence). The live
    analyzer and engine update every 0.1 s of audio and the real processor smooths between, so the
    first seconds (no estimate yet, then the correction easing in) count as they sound. The take
    peaks at -20 dBFS: the processor's safety limiter must not colour what is measured."""
    from semeq_live.analysis.bands import BandAnalyzer, segment_length
    from semeq_live.analysis.presence import presence_weights
    from semeq_live.dsp import EQProcessor

    def measure():
        x = shape_with_term(src.audio, src.fs, model, shape)
        x = (RENDER_PEAK * x / np.abs(x).max()).astype(np.float32)
        an = analyzer_for(model, src)
        engine = SemanticEngine(model, src.fs, reference_band_db=an.reference.band_db)
        proc = EQProcessor(src.fs, x.shape[1])
        state = ControlState(term_a=target, term_b=target, intensity=intensity, autogain=False)
        y = np.empty_like(x)
        step = int(UPDATE_S * src.fs)
        for i in range(0, len(x), step):
            an.push(x[i:i + step])
            engine.compute(state, an.update()).apply_to(proc)
            y[i:i + step] = proc.process(x[i:i + step])
        if proc.limited_samples:
            raise RuntimeError(f"{src.name}: the safety limiter acted on {proc.limited_samples} samples")
        n = segment_length(src.fs)
        bands = BandAnalyzer(src.fs, n)
        starts = range(0, len(x) - n + 1, n // 2)
        p_in = np.mean([bands.band_power(x[i:i + n])[0] for i in starts], 0)
        p_out = np.mean([bands.band_power(y[i:i + n])[0] for i in starts], 0)
        w = presence_weights(10 * np.log10(p_in), bands.valid)
        return weighted_rms(10 * np.log10(p_out / p_in), w)

    return _cached(("rendered", id(model), src.name, src.reference, shape, target, intensity), measure)


def rendered_warm_vs_bright_db(model, src: Source) -> dict:
    warm = rendered_change_db(model, src, "warm")
    bright = rendered_change_db(model, src, "bright")
    return {"warm": warm, "bright": bright, "difference": bright - warm}


def warm_vs_bright_db(model, src: Source) -> dict:
    warm, _ = applied_change_db(model, src, "warm")
    bright, _ = applied_change_db(model, src, "bright")
    return {"warm": warm, "bright": bright, "difference": bright - warm}


def render_morph(model, src: Source, adaptive=True, autogain=True, intensity=1.0, headroom=0.5, alpha=None):
    """Morph alpha 0 -> 1 (warm -> bright) over the whole input through the real processor, the live
    analyzer and engine updating every 0.1 s (``alpha`` given: held there instead); returns
    ``(input, output)`` float32, peaks at -6 dBFS in (live input has headroom, so the output
    limiter never colours the result)."""
    from semeq_live.dsp import EQProcessor

    x = (headroom * src.audio / np.abs(src.audio).max()).astype(np.float32)
    an = analyzer_for(model, src)
    engine = SemanticEngine(model, src.fs, reference_band_db=an.reference.band_db)
    proc = EQProcessor(src.fs, x.shape[1])
    state = ControlState(term_a="warm", term_b="bright", alpha=0.0, intensity=intensity,
                         adaptive=adaptive, autogain=autogain)
    out = np.empty_like(x)
    step = int(UPDATE_S * src.fs)
    for i in range(0, len(x), step):
        blk = x[i:i + step]
        an.push(blk)
        state.update(alpha=i / len(x) if alpha is None else alpha)
        engine.compute(state, an.update()).apply_to(proc)
        out[i:i + step] = proc.process(blk)
    return x, out


def loudness_errors(fs, x, y, segment_s: float = 3.0):
    """BS.1770 (pyloudnorm) loudness of ``y`` minus ``x``: whole, and per 3 s window."""
    import pyloudnorm

    meter = pyloudnorm.Meter(fs)
    whole = meter.integrated_loudness(y) - meter.integrated_loudness(x)
    seg = int(segment_s * fs)
    parts = []
    for i in range(0, len(x) - seg + 1, seg):
        lx = meter.integrated_loudness(x[i:i + seg])
        if np.isfinite(lx):  # a silent stretch has no loudness to keep
            parts.append(meter.integrated_loudness(y[i:i + seg]) - lx)
    return whole, np.array(parts)


def all_sources(shared: Path) -> list[Source]:
    audio = shared / "audio"
    files = sorted(audio.glob("*.flac")) if audio.is_dir() else []
    music = [music_source(p) for p in files if not p.name.startswith("speech_")]
    speech = [speech_source(p) for p in files if p.name.startswith("speech_")]
    voices = [made_voice_source(name) for name in synth_voices.VOICES]
    return music + speech + voices + made_sources() + [made_mix_source()]


def _rendered(rd: dict) -> str:
    return f"{rd['warm']:.2f} / {rd['bright']:.2f} dB, {rd['difference']:+.2f} dB"


def auto_table(model, sources) -> str:
    """The default path: each source as a new user meets it (``auto``, nothing learned)."""
    rows = ["| source | auto's first decision (warm- / bright-shaped input), later switches | "
            "estimate after the first second (warm- / bright-shaped) | right word first | change of warm- / bright-shaped input | "
            "difference | rendered, whole take: warm- / bright-shaped, difference | morph with auto-gain, worst 3 s |",
            "|---|---|---|---|---|---|---|---|"]
    for src in sources:
        auto = default_path(src)
        w = profile_figures(model, auto, "warm", "bright")
        b = profile_figures(model, auto, "bright", "warm")
        ch = warm_vs_bright_db(model, auto)
        rd = rendered_warm_vs_bright_db(model, auto)
        chose = []
        for shape in ("warm", "bright"):
            c = auto_choice(model, src, shape)
            first = c["log"][0].replace("auto → ", "") if c["log"] else "undecided"
            later = len(c["log"]) - 1
            chose.append(first + (f", then {later} more" if later > 0 else ""))
        right = f"{w['right_word']:.0%} / {b['right_word']:.0%}" if w["estimate"] else "- (no estimate)"
        name = f"{src.name} (held out)" if src.kind == "held out" else src.name
        _, parts = loudness_errors(src.fs, *render_morph(model, auto))
        worst = parts[np.argmax(np.abs(parts))] if parts.size else float("nan")
        est = f"{w['estimate']:.0%} / {b['estimate']:.0%}"
        rows.append(f"| {name} | {' / '.join(chose)} | {est} | {right} | {ch['warm']:.2f} / {ch['bright']:.2f} dB "
                    f"| {ch['difference']:+.2f} dB | {_rendered(rd)} | {worst:+.2f} LU |")
    return "\n".join(rows)


def table(model, sources) -> str:
    rows = ["| source | rate | reference | estimate (warm / bright-shaped) | right word first "
            "| warm target, k = 1: change of warm- / bright-shaped input | difference | "
            "rendered, whole take: warm- / bright-shaped, difference | "
            "morph with auto-gain, worst 3 s | overall (whole file) |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for src in sources:
        w = profile_figures(model, src, "warm", "bright")
        b = profile_figures(model, src, "bright", "warm")
        ch = warm_vs_bright_db(model, src)
        rd = rendered_warm_vs_bright_db(model, src)
        x, y = render_morph(model, src)
        _, parts = loudness_errors(src.fs, x, y)
        worst = parts[np.argmax(np.abs(parts))] if parts.size else float("nan")
        ow, ob = w["overall"], b["overall"]
        overall = "no estimate" if not ow.confident else \
            f"{ow.profile[0][0]} / {ob.profile[0][0] if ob.confident else '-'}"
        est = f"{w['estimate']:.0%} / {b['estimate']:.0%}"
        if not src.expect_estimate or w["estimate"] < 0.5:
            reason = (w["reasons"] or ["?"])[0].split(":")[0]
            est += f" ({reason})"
        right = f"{w['right_word']:.0%} / {b['right_word']:.0%}" if w["estimate"] else "-"
        name = f"{src.name} (held out)" if src.kind == "held out" else src.name
        rows.append(f"| {name} | {src.fs / 1000:g} kHz | {src.reference} | {est} | {right} | "
                    f"{ch['warm']:.2f} / {ch['bright']:.2f} dB | {ch['difference']:+.2f} dB | {_rendered(rd)} | "
                    f"{worst:+.2f} LU | {overall} |")
    return "\n".join(rows)


if __name__ == "__main__":
    import sys

    from semeq_live.model import load_model

    shared = Path(__file__).resolve().parents[1].parent / "shared"
    only = sys.argv[1:]
    srcs = [s for s in all_sources(shared) if not only or any(o in s.name for o in only)]
    model = load_model()
    print("Default path (auto reference, nothing learned):\n")
    print(auto_table(model, srcs), flush=True)
    print("\nWith the reference a user would choose (learned at soundcheck, or voice):\n")
    print(table(model, srcs))
