"""The ``auto`` reference: pick the built-in neutral that fits the source, and hold it steady.

What "warm" means for a voice is judged against a voice, for a mix against a mix (issue 11). A
user who learns no reference still gets a fitting one: ``AutoReference`` reads the source cues
(``source_cues.py``: voicing and F0, fricative contrast, syllabic rhythm and pauses, none of
which a static EQ changes) and decides, about three times a second:

- **voice**: one speaking voice: mostly voiced (a single periodic source), its median F0 in
  70-400 Hz, unvoiced stretches much brighter than voiced ones (fricatives, +6 dB or more) and the
  level moving like syllables and pauses; once taken for a voice, the F0 range and two of the
  other three cues keep it one (``looks_like_voice``). The voice reference is then judged from 0.8 times the
  measured median F0 up (``ReferenceSpectrum.voice``): a voice has nothing under its own
  fundamental, whatever its tone.
- **music** otherwise: a mix, one instrument, a drum loop, a singer holding long notes. For a
  single instrument no built-in fits (each instrument has its own spectrum: learn it at
  soundcheck); the music reference judged the made instruments as well as pink noise did
  (docs/adaptive.md, *The default path*).

When: a *provisional* decision once the cues hold ``PROVISIONAL_S`` of sounding audio (the
analyzer's estimates start there), a *confirming* one at ``MIN_EVIDENCE_S``, which takes the first
decision's test afresh and corrects the provisional kind once if they differ, without waiting for
the dwell: from then on auto decides as it would have without the provisional decision. About a
second of speech often holds no pause yet, so the syllabic rhythm the provisional decision asks
for may also be the per-band syllabic modulation (``source_cues``), which a static EQ does not
move. Chosen on made takes, seeds 2-8 (voices) and 2-5 (the rest): 79 of 84 voice takes started
as voices (76 since the made talkers' vowels glide instead of clicking: docs/adaptive.md), none of 132 instrument, mix and sung takes did; checked on seeds 9-13 and 6-9: 59 of
60 and 2 of 120 (a plucked string whose plucks read as consonants, corrected at 3 s). A kept voice's reference is judged afresh
from the F0 of 3 s (speech F0 falls over a phrase, so the first second's reads high). A
correction or refit is a switch like any other (one log line; the analyzer restarts the
estimate's ease-in). After the confirmation the decisions feed a vote (one-pole over
``VOTE_TAU_S`` of audio), which must pass ``SWITCH_TO_VOICE`` (or fall below ``SWITCH_TO_MUSIC``)
to switch, at least ``MIN_DWELL_S`` after the confirmation or the last switch. Each switch is reported once
(``switch_log``, the analyzer's ``on_reference_switch``). A learned or loaded reference always
wins: ``auto`` is a mode the analyzer leaves when another reference is chosen.
"""

from __future__ import annotations

import math
from dataclasses import replace

from .reference import ReferenceSpectrum
from .source_cues import PITCH_FRAME_S, SourceCues

JUDGE_S = 4.0            # the stretch whose cues are read at each decision
# Sounding audio before the provisional decision: F0 and voicing are steady after about 1 s (the
# made voices took 1.0-1.4 s of audio to reach it).
PROVISIONAL_S = 1.0
MIN_EVIDENCE_S = 3.0     # sounding audio before the confirming decision
MIN_DWELL_S = 6.0        # no switch back within this long of the last one
VOTE_TAU_S = 2.0
# Readings at most this often: the cues cover 4 s and move slowly; a reading is most of auto's cost.
DECIDE_EVERY_S = 0.4
SWITCH_TO_VOICE = 0.7
SWITCH_TO_MUSIC = 0.3
# The voice test (made voices and instruments: tests/synth_voices.py, tests/synth_sources.py;
# docs/adaptive.md gives their cue values). Speech: voiced share 0.8-0.9, fricative contrast 20-25 dB,
# syllabic level movement 10-12 dB, dips 0.2-0.3; instruments and mixes: contrast under 5 dB
# (the made drum loop: 18 dB from its hats, but no F0 in range and 6 dB movement, 4 % dips).
VOICED_SHARE = 0.5
F0_RANGE_HZ = (70.0, 400.0)
FRICATIVE_DB = 6.0
SYLLABIC_DB = 7.5
DIP_SHARE = 0.15
# The provisional decision's stand-in for the talker's first pause: per-band syllabic modulation
# (``source_cues.MODULATION_BANDS_HZ``) after about a second of sound. Made voices (seeds 2-8,
# unshaped, warm- and bright-shaped) read 4.2-9.7 dB (3.8-9.7 since their vowels glide: 7 of 84
# under the threshold); the made instruments, mixes and sung lines
# that pass the other three cues then, under 4.3 dB (the sung line's highest; a bass line 3.7).
PROVISIONAL_MODULATION_DB = 4.5
F0_LOW_FACTOR = 0.8
# The voice reference follows a new talker: rebuilt when the median F0 moves this far from the
# one it was built for, for as long as a switch would need.
F0_REBUILD_SEMITONES = 5.0
# At the confirming decision a kept voice's reference is rebuilt if its F0 moved more than this
# (a tenth of a 1/3-octave band at the reference's lower edge, 0.8 x F0).
CONFIRM_REFIT_SEMITONES = 0.5


def voice_cues(cues: dict, provisional: bool = False) -> tuple[bool, bool, bool, bool]:
    """(one periodic source, F0 in a voice's range, fricative contrast, syllabic rhythm). For the
    provisional decision the rhythm may also be the per-band syllabic modulation
    (``PROVISIONAL_MODULATION_DB``): about a second of speech often holds no pause yet."""
    rhythm = cues["syllabic_db"] >= SYLLABIC_DB or cues["dip_share"] >= DIP_SHARE
    if provisional:
        rhythm = rhythm or cues["modulation_db"] >= PROVISIONAL_MODULATION_DB
    return (cues["voiced_share"] >= VOICED_SHARE,
            F0_RANGE_HZ[0] <= cues["f0_hz"] <= F0_RANGE_HZ[1],
            cues["fricative_db"] >= FRICATIVE_DB,
            rhythm)


def looks_like_voice(cues: dict, already_voice: bool = False, provisional: bool = False) -> bool:
    """All four cues to take a source for a voice; to keep it, the F0 range and two of the other
    three: a stretch of speech without fricatives (a run of vowels and nasals), or a held sung
    note, does not make a voice an instrument."""
    periodic, f0_ok, fricatives, rhythm = voice_cues(cues, provisional)
    if not already_voice:
        return periodic and f0_ok and fricatives and rhythm
    return f0_ok and (periodic + fricatives + rhythm) >= 2


class AutoReference:
    """Source kind -> built-in reference, with hysteresis. Fed per analysis hop (``add``),
    asked at each estimate (``decide``)."""

    def __init__(self, sample_rate: float):
        self.cues = SourceCues(sample_rate)
        self.kind = "music"
        self.reference = self.listening_reference()
        self.vote = 0.0
        self.f0_hz = 0.0
        self._last_t: float | None = None
        self._last_switch_t = -math.inf
        self._f0_built = 0.0
        self.switches = 0  # changes of kind (music <-> voice, the first decision for voice included)
        self.rebuilds = 0  # voice reference rebuilt for a new F0
        self.switch_log: list[str] = []  # one line per decision (the first, switches, new talkers)
        self.last_cues: dict | None = None
        self.confirmed = False  # the confirming decision (at ``MIN_EVIDENCE_S``) is made
        self.corrections = 0  # the provisional decision changed by the confirming one (0 or 1)

    def add(self, mono) -> None:
        self.cues.add(mono)

    # The chosen reference is named "auto → music" / "auto → voice" and its source says why, so
    # every place that shows a reference (panel, headless log, ``analyze``, estimates) shows
    # "auto → voice (F0 ≈ 120 Hz)" without knowing about auto.
    @staticmethod
    def listening_reference() -> ReferenceSpectrum:
        """Before the first decision: "auto (listening)" (the music spectrum as a placeholder; the
        analyzer gives no estimate meanwhile)."""
        return replace(ReferenceSpectrum.builtin("music"), name="auto", source="listening",
                       meta={"auto": "listening"})

    @staticmethod
    def _music(why: str) -> ReferenceSpectrum:
        return replace(ReferenceSpectrum.builtin("music"), name="auto → music", source=why,
                       meta={"auto": "music"})

    def _voice(self, f0_hz: float) -> ReferenceSpectrum:
        ref = ReferenceSpectrum.voice(F0_LOW_FACTOR * f0_hz)
        return replace(ref, name="auto → voice", source=f"F0 ≈ {f0_hz:.0f} Hz",
                       meta={**ref.meta, "auto": "voice", "f0_hz": round(f0_hz, 1)})

    @property
    def label(self) -> str:
        """"auto → voice (F0 ≈ 120 Hz)": what the panel, the log and ``analyze`` say."""
        return self.reference.describe()

    def decide(self, time_s: float) -> ReferenceSpectrum | None:
        """Read the cues (at most every ``DECIDE_EVERY_S`` of audio); return the new reference if it
        changes now, else None."""
        if self._last_t is not None and time_s - self._last_t < DECIDE_EVERY_S:
            return None
        cues = self.cues.summary(JUDGE_S)
        dt = 0.0 if self._last_t is None else max(0.0, time_s - self._last_t)
        self._last_t = time_s
        self.last_cues = cues
        if cues is None:
            return None
        # The confirming decision takes the first decision's test, not the keep-test: from then on
        # auto decides as if there had been no provisional decision.
        voice = looks_like_voice(cues, already_voice=self.kind == "voice" and self.confirmed,
                                 provisional=self.listening)
        if voice:
            self.f0_hz = cues["f0_hz"]
        if self.listening:
            # The provisional decision, from one reading of all the sound so far (the cues
            # integrate it). Until then the analyzer gives no estimate.
            if cues["sounding_s"] < PROVISIONAL_S:
                return None
            return self._first(voice, time_s)
        if not self.confirmed:
            if cues["sounding_s"] < MIN_EVIDENCE_S:
                return None
            # The confirming decision: the provisional kind kept by the keep-test (a voice stays a
            # voice on its F0 and two other cues), else corrected now, once, past the dwell.
            self.confirmed = True
            self._last_switch_t = time_s  # the vote and dwell below count from here
            self.vote = 1.0 if voice else 0.0
            if voice != (self.kind == "voice"):
                self.corrections += 1
                return self._first(voice, time_s)
            if voice:
                # Kept a voice: the F0 of about a second was the first phrase's start (speech F0
                # falls over a phrase), the voice reference is judged from the F0 of 3 s of sound.
                f0 = self._long_f0()
                if abs(12.0 * math.log2(f0 / self._f0_built)) > CONFIRM_REFIT_SEMITONES:
                    self.rebuilds += 1
                    return self._switch("voice", time_s, self._voice(f0), count=False)
            return None
        self.vote += (1.0 - math.exp(-dt / VOTE_TAU_S)) * ((1.0 if voice else 0.0) - self.vote)
        if time_s - self._last_switch_t < MIN_DWELL_S:
            return None
        if self.kind == "music" and self.vote >= SWITCH_TO_VOICE:
            return self._switch("voice", time_s, self._voice(self._long_f0()))
        if self.kind == "voice" and self.vote <= SWITCH_TO_MUSIC:
            return self._switch("music", time_s, self._music("no single voice heard"))
        if self.kind == "voice" and voice and self._f0_built and \
                abs(12.0 * math.log2(self.f0_hz / self._f0_built)) > F0_REBUILD_SEMITONES:
            self.rebuilds += 1  # another talker: the same kind, a new F0 (logged, not a switch)
            return self._switch("voice", time_s, self._voice(self._long_f0()), count=False)
        return None

    def _first(self, voice: bool, time_s: float) -> ReferenceSpectrum:
        """The provisional decision, or the confirming one when it corrects it."""
        self.vote = 1.0 if voice else 0.0
        if voice:
            return self._switch("voice", time_s, self._voice(self._long_f0()))
        return self._switch("music", time_s, self._music("no single voice heard"),
                            count=self.kind == "voice")

    @property
    def listening(self) -> bool:
        """No decision yet: the analyzer holds its estimates (``Analyzer._estimate_locked``)."""
        return self.reference.meta.get("auto") == "listening"

    def _long_f0(self) -> float:
        """The median F0 over all the cues kept (6 s): steadier than one decision's 4 s."""
        long = self.cues.summary(self.cues.pitch_f0.size * 1.0)
        return long["f0_hz"] if long and long["f0_hz"] > 0 else self.f0_hz

    def _switch(self, kind: str, time_s: float, ref: ReferenceSpectrum, count: bool = True) -> ReferenceSpectrum:
        self.kind = kind
        self.reference = ref
        self._last_switch_t = time_s
        self._f0_built = ref.meta.get("f0_hz", 0.0) if kind == "voice" else 0.0
        self.switches += count
        self.switch_log.append(f"{time_s:.1f} s: {self.label}")
        return ref


class VoiceFit:
    """The chosen ``voice`` reference fitted to the talker: once there is enough voiced sound,
    the voice reference is judged from 0.8 times the measured median F0 up (as auto's voice
    reference is), and again when the median F0 moves by more than ``F0_REBUILD_SEMITONES``.
    Estimates are not held meanwhile (the user chose the reference; only its lowest bands'
    weights change)."""

    def __init__(self, sample_rate: float):
        self.cues = SourceCues(sample_rate)
        self.f0_hz = 0.0
        self.reference: ReferenceSpectrum | None = None

    def add(self, mono) -> None:
        self.cues.add(mono)

    def update(self) -> ReferenceSpectrum | None:
        """The fitted reference if it changes now, else None."""
        cues = self.cues.summary(self.cues.pitch_f0.size * PITCH_FRAME_S)
        if cues is None or cues["sounding_s"] < MIN_EVIDENCE_S or cues["voiced_share"] < VOICED_SHARE:
            return None
        f0 = cues["f0_hz"]
        if not F0_RANGE_HZ[0] <= f0 <= F0_RANGE_HZ[1]:
            return None
        if self.f0_hz and abs(12.0 * math.log2(f0 / self.f0_hz)) <= F0_REBUILD_SEMITONES:
            return None
        self.f0_hz = f0
        ref = ReferenceSpectrum.voice(F0_LOW_FACTOR * f0)
        self.reference = replace(ref, source=f"{ref.source}, from F0 ≈ {f0:.0f} Hz",
                                 meta={**ref.meta, "f0_hz": round(f0, 1)})
        return self.reference
