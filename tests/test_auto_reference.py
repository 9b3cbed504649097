"""The ``auto`` reference: it takes made voices for voices and made instruments and mixes for
music, switches once on a steady source, is not moved by EQ, and gives way to a chosen, learned or
loaded reference. Made material only (tests/synth_voices.py, tests/synth_sources.py): the shared
clips are evidence (python -m tests.evidence), not what the constants were chosen on."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from semeq_live.analysis import Analyzer
from semeq_live.analysis.reference import ReferenceSpectrum, check_reference_spec
from semeq_live.analysis.source_cues import SourceCues
from semeq_live.params import ANALYSIS_FREQS

from . import evidence as E
from . import synth_sources, synth_voices

SECONDS = 12.0
SEED = 5  # another take than the evidence's (seed 2) and the ones the constants were chosen on
SETTLED_S = 6.0  # after the confirming decision (3 s of sound) on every made take
# The provisional decision: the made voices' came at 1.4-1.5 s of audio (docs/adaptive.md). Later than this,
# the first second after it without an estimate would take the share under issue 11's 90 %.
FIRST_DECISION_S = 1.6
SPEAKING_VOICES = [n for n in synth_voices.VOICES if n != "made sung voice"]


@pytest.fixture(scope="module")
def bundled_model():
    from semeq_live.model import load_model

    return load_model()


def auto_run(x, fs, model=None):
    an = Analyzer(fs, x.shape[1], model=model, reference="auto")
    ests = E.live_estimates(an, x)
    return an, ests[int(round(SETTLED_S / E.UPDATE_S)):]


@pytest.mark.parametrize("name", list(synth_voices.VOICES))
@pytest.mark.parametrize("shape", [None, "warm", "bright"])
def test_auto_takes_a_made_voice_for_a_voice_and_switches_once(name, shape, bundled_model):
    make, fs = synth_voices.VOICES[name]
    x = make(fs, SECONDS, seed=SEED)[:, None]
    if shape is not None:
        x = E.shape_with_term(x, fs, bundled_model, shape)
    an, settled = auto_run(x, fs)
    if name == "made sung voice":
        # A legato sung line without consonants or pauses is on the edge (no fricatives, little
        # rhythm): music or voice, but steady: at most one switch.
        assert an.auto.switches <= 1, an.auto.switch_log
        return
    share = np.mean([e.reference == "auto → voice" for e in settled])
    assert share >= 0.9, (share, an.auto.switch_log)
    assert an.auto.switches == 1, an.auto.switch_log
    f0 = an.reference.meta["f0_hz"]
    expected = {"made male voice": 115.0, "made male voice, 16 kHz": 115.0, "made female voice": 210.0,
                "made child voice": 290.0}[name]
    assert abs(12 * np.log2(f0 / expected)) < 3.0, f0  # the synthesiser's median, within 3 semitones
    assert an.reference_label.startswith("auto → voice (F0 ≈ ")


@pytest.mark.parametrize("name", list(synth_sources.SOURCES) + list(synth_sources.HELD_OUT) + ["made mix"])
def test_auto_keeps_music_for_instruments_and_mixes(name):
    if name == "made mix":
        fs, x = 44100, E.made_mix(44100, SECONDS, SEED)
    else:
        make, fs = {**synth_sources.SOURCES, **synth_sources.HELD_OUT}[name]
        x = make(fs, SECONDS, seed=SEED)
    an, settled = auto_run(x[:, None], fs)
    assert an.auto.switches == 0, an.auto.switch_log
    assert all(e.reference == "auto → music" for e in settled)
    assert an.reference_label == "auto → music (no single voice heard)"


def test_a_sine_melody_still_gives_no_estimate_under_auto(bundled_model):
    make, fs = synth_sources.SOURCES["sine melody"]
    an, settled = auto_run(make(fs, SECONDS, seed=SEED)[:, None], fs, bundled_model)
    assert not any(e.confident for e in settled)
    assert all("near-pure tone" in e.reason for e in settled)


def test_the_cues_do_not_move_with_the_eq(bundled_model):
    """Voicing, F0 and the rhythm cues of the same voice shaped warm and bright agree."""
    make, fs = synth_voices.VOICES["made female voice"]
    x = make(fs, SECONDS, seed=SEED)[:, None]
    got = {}
    for shape in ("warm", "bright"):
        cues = SourceCues(fs)
        cues.add(E.shape_with_term(x, fs, bundled_model, shape)[:, 0])
        got[shape] = cues.summary(SECONDS)
    w, b = got["warm"], got["bright"]
    assert abs(w["voiced_share"] - b["voiced_share"]) < 0.1
    assert abs(12 * np.log2(w["f0_hz"] / b["f0_hz"])) < 1.0
    assert abs(w["dip_share"] - b["dip_share"]) < 0.1
    assert min(w["fricative_db"], b["fricative_db"]) >= 6.0


def test_a_chosen_learned_or_loaded_reference_wins_over_auto(tmp_path):
    make, fs = synth_voices.VOICES["made male voice"]
    x = make(fs, SECONDS, seed=SEED)[:, None]
    an = Analyzer(fs, 1, reference="auto")
    E.live_estimates(an, x[:int(8 * fs)])
    assert an.reference.name == "auto → voice"
    an.load_reference("pink")
    assert an.auto is None and an.reference.name == "pink"
    E.live_estimates(an, x[int(8 * fs):])
    assert an.reference.name == "pink"  # auto does not come back by itself
    an.load_reference("auto")
    assert an.auto is not None
    E.live_estimates(an, x)
    an.learn_reference()
    assert an.auto is None and an.reference.name == "learned"
    path = ReferenceSpectrum.builtin("voice").save(tmp_path / "v.json")
    an.load_reference("auto")
    an.load_reference(path)
    assert an.auto is None and an.reference.source == str(path)


def _default_path_made_sources():
    return [E.made_voice_source(n) for n in synth_voices.VOICES] + E.made_sources() + [E.made_mix_source()]


@pytest.mark.parametrize("src", [s for s in _default_path_made_sources() if s.expect_estimate], ids=lambda s: s.name)
@pytest.mark.parametrize("shape", ["warm", "bright"])
def test_the_default_path_gives_an_estimate_after_the_first_second(src, shape, bundled_model):
    """Issue 11: an estimate in >= 90 % of the live updates after the first second, on the default
    path (auto, nothing learned): auto's provisional decision comes by ``FIRST_DECISION_S`` and
    estimates start with it, so waiting for auto costs at most the updates before it. The hats
    (tilted +7 dB per octave against the music reference) and, while the made sung voice still
    clicked, its bright-shaped take (+5 dB per octave in some stretches) are judged against the
    reference fitted to them (reference_fit.py); before, they had no estimate there (0 % and 84 %)."""
    auto = E.default_path(src)
    c = E.auto_choice(bundled_model, src, shape)
    assert float(c["log"][0].split(" s:")[0]) <= FIRST_DECISION_S, c["log"]
    f = E.profile_figures(bundled_model, auto, shape, "bright" if shape == "warm" else "warm")
    assert f["listening"] <= 0.1, f["reasons"]
    assert f["estimate"] >= 0.9, (f["estimate"], f["reasons"])
    assert all(r.startswith("listening") for r in f["reasons"]), f["reasons"]
    fitted = [e for e in E.settled(f["estimates"]) if e.confident and e.reference_note is not None]
    if src.name == "hats":
        assert len(fitted) >= 0.9 * f["estimate"] * len(E.settled(f["estimates"]))


def test_the_default_path_gives_the_shared_recordings_an_estimate_after_the_first_second(
        music_files, speech_files, bundled_model):
    """The same on the shared music excerpts and speech clips (never used to choose a constant)."""
    for src in [E.music_source(p) for p in music_files] + [E.speech_source(p) for p in speech_files]:
        for shape, other in (("warm", "bright"), ("bright", "warm")):
            f = E.profile_figures(bundled_model, E.default_path(src), shape, other)
            assert f["estimate"] >= 0.9, (src.name, shape, f["estimate"], f["reasons"])


@pytest.mark.parametrize("name, seed, first, confirmed", [
    ("made child voice", 6, "music", "voice"),  # no pause, little syllabic movement in its first second
    ("plucked string", 7, "voice", "music"),    # plucks that read as consonants and syllables
])
def test_a_provisional_decision_is_corrected_once_at_the_confirming_decision(name, seed, first, confirmed,
                                                                             bundled_model):
    """The provisional decision (about a second of sound) can be wrong either way on these made
    takes; the confirming decision at 3 s of sound takes the first decision's test afresh and
    corrects it at once (no 6 s dwell), as one more logged switch; the correction eases in from
    there, not before."""
    make, fs = {**synth_voices.VOICES, **synth_sources.SOURCES}[name]
    x = make(fs, SECONDS, seed=seed)[:, None]
    an = Analyzer(fs, 1, model=bundled_model, reference="auto")
    lines = []
    an.on_reference_switch = lines.append
    ests = E.live_estimates(an, x)
    log = an.auto.switch_log
    assert len(log) == 2 and lines == [line.split(": ", 1)[1] for line in log], log
    assert f"→ {first}" in log[0] and float(log[0].split(" s:")[0]) <= FIRST_DECISION_S
    assert f"→ {confirmed}" in log[1] and float(log[1].split(" s:")[0]) < 4.7
    assert an.auto.corrections == 1
    t_fix = float(log[1].split(" s:")[0])
    after = [e for e in ests if e.confident and e.time_s >= t_fix]
    assert after[0].evidence == 0.0 and after[0].reference == f"auto → {confirmed}"
    assert after[-1].evidence == 1.0
    before = [e for e in ests if e.confident and e.time_s < t_fix]
    assert before and all(e.reference == f"auto → {first}" for e in before)
    # Shown, not acted on: the correction waits for the confirming decision.
    assert all(e.evidence == 0.0 for e in before)


def test_a_switch_is_reported_once_through_the_callback():
    make, fs = synth_voices.VOICES["made female voice"]
    an = Analyzer(fs, 1, reference="auto")
    lines = []
    an.on_reference_switch = lines.append
    E.live_estimates(an, make(fs, SECONDS, seed=SEED)[:, None])
    # Each decision once: the provisional voice, then (at the confirming decision) the same voice
    # judged from the F0 of 3 s, lower than the first second's (speech F0 falls over a phrase).
    assert lines == [line.split(": ", 1)[1] for line in an.auto.switch_log]
    assert len(lines) == 2 and all(line.startswith("auto → voice (F0 ≈ ") for line in lines)
    f0 = [float(line.split("≈ ")[1].split(" Hz")[0]) for line in lines]
    assert f0[1] < f0[0] and an.auto.switches == 1 and an.auto.rebuilds == 1


def test_the_voice_reference_is_not_judged_below_the_voices_fundamental():
    plain = ReferenceSpectrum.voice()
    high = ReferenceSpectrum.voice(200.0)
    assert np.all(high.band_weight[ANALYSIS_FREQS < 150] == 0.0)
    assert np.all(high.band_weight[ANALYSIS_FREQS >= 200] == plain.band_weight[ANALYSIS_FREQS >= 200])
    assert np.array_equal(plain.band_db, high.band_db)
    assert np.array_equal(plain.band_weight, ReferenceSpectrum.builtin("voice").band_weight)


def test_auto_is_a_valid_reference_everywhere():
    check_reference_spec("auto")
    from semeq_live.app import StageConfig

    StageConfig(reference="auto").validate()


def test_analyze_json_says_what_auto_chose(tmp_path):
    import soundfile as sf

    make, fs = synth_voices.VOICES["made male voice"]
    path = tmp_path / "voice.wav"
    sf.write(path, make(fs, 10.0, seed=SEED).astype(np.float32), fs)
    out = subprocess.run([sys.executable, "-m", "semeq_live", "analyze", str(path), "--json"],
                         capture_output=True, text=True, check=True)
    doc = json.loads(out.stdout)
    assert doc["reference"].startswith("auto → voice (F0 ≈ ")
    assert len(doc["reference_switches"]) == 1
    assert doc["per_second"][-1]["reference"] == "auto → voice"


@pytest.mark.parametrize("name", ["made male voice", "made female voice", "made male voice, 16 kHz"])
def test_the_default_path_ranks_shaped_made_voices_as_measured(name, bundled_model):
    """The default path (auto, nothing learned) on made voices, as python -m tests.evidence
    measures it (docs/adaptive.md): the bright-shaped take reads bright in every estimate and gets the
    larger correction. Below goal (docs/adaptive.md), held to what is measured with a margin: the
    warm-shaped take reads warm in 89-100 % of the estimates (goal 90 %; the estimates from the
    provisional decision on are counted; 72-100 % while the made voices' vowels switched with a
    click, tests/test_made_spoken_voice.py), and the difference is 2.5-2.8 dB (goal 3 dB; 2.0-2.7
    while the boost ceiling's re-fit could only turn boosts down; 2.2-3.0 with the clicks, whose
    top end the bright-shaped take had more of)."""
    src = E.default_path(E.made_voice_source(name))
    bright = E.profile_figures(bundled_model, src, "bright", "warm")
    warm = E.profile_figures(bundled_model, src, "warm", "bright")
    assert bright["right_word"] >= 0.9
    assert warm["right_word"] >= 0.85
    assert E.warm_vs_bright_db(bundled_model, src)["difference"] >= 2.3


def test_the_chosen_voice_reference_is_fitted_to_the_talkers_f0(bundled_model):
    make, fs = synth_voices.VOICES["made female voice"]
    an = Analyzer(fs, 1, model=bundled_model, reference=ReferenceSpectrum.builtin("voice"))
    ests = E.live_estimates(an, make(fs, SECONDS, seed=SEED)[:, None])
    assert an.auto is None and an.reference.name == "voice"
    assert "from F0 ≈ " in an.reference.source
    assert abs(12 * np.log2(an.reference.meta["f0_hz"] / 210.0)) < 3.0
    assert np.all(an.reference.band_weight[ANALYSIS_FREQS < 140] == 0.0)
    # Estimates are not held meanwhile: the user chose the reference.
    assert np.mean([e.confident for e in E.settled(ests)]) >= 0.9
    assert an.next_reference().name == "pink"  # "next" goes on from the (fitted) voice reference
