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
  (README, adaptive section).

Stability: the decisions feed a vote (one-pole over ``VOTE_TAU_S`` of audio), which must pass
``SWITCH_TO_VOICE`` (or fall below ``SWITCH_TO_MUSIC``) to switch, only after ``MIN_EVIDENCE_S``
of sounding audio and at least ``MIN_DWELL_S`` after the last switch. Each switch is reported once
(``switch_log``, the analyzer's ``on_reference_switch``). A learned or loaded reference always
wins: ``auto`` is a mode the analyzer leaves when another reference is chosen.
"""

from __future__ import annotations

import math
from dataclasses import replace

from .reference import ReferenceSpectrum
from .source_cues import SourceCues

JUDGE_S = 4.0            # the stretch whose cues are read at each decision
MIN_EVIDENCE_S = 2.5     # sounding audio needed before the first switch
MIN_DWELL_S = 6.0        # no switch back within this long of the last one
VOTE_TAU_S = 2.0
SWITCH_TO_VOICE = 0.7
SWITCH_TO_MUSIC = 0.3
# The voice test (made voices and instruments: tests/synth_voices.py, tests/synth_sources.py;
# README gives their cue values). Speech: voiced share 0.8-0.9, fricative contrast 20-25 dB,
# syllabic level movement 10-12 dB, dips 0.2-0.3; instruments and mixes: contrast under 5 dB
# (the made drum loop: 18 dB from its hats, but no F0 in range and 6 dB movement, 4 % dips).
VOICED_SHARE = 0.5
F0_RANGE_HZ = (70.0, 400.0)
FRICATIVE_DB = 6.0
SYLLABIC_DB = 7.5
DIP_SHARE = 0.15
F0_LOW_FACTOR = 0.8
# The voice reference follows a new talker: rebuilt when the median F0 moves this far from the
# one it was built for, for as long as a switch would need.
F0_REBUILD_SEMITONES = 5.0


def voice_cues(cues: dict) -> tuple[bool, bool, bool, bool]:
    """(one periodic source, F0 in a voice's range, fricative contrast, syllabic rhythm)."""
    return (cues["voiced_share"] >= VOICED_SHARE,
            F0_RANGE_HZ[0] <= cues["f0_hz"] <= F0_RANGE_HZ[1],
            cues["fricative_db"] >= FRICATIVE_DB,
            cues["syllabic_db"] >= SYLLABIC_DB or cues["dip_share"] >= DIP_SHARE)


def looks_like_voice(cues: dict, already_voice: bool = False) -> bool:
    """All four cues to take a source for a voice; to keep it, the F0 range and two of the other
    three: a stretch of speech without fricatives (a run of vowels and nasals), or a held sung
    note, does not make a voice an instrument."""
    periodic, f0_ok, fricatives, rhythm = voice_cues(cues)
    if not already_voice:
        return periodic and f0_ok and fricatives and rhythm
    return f0_ok and (periodic + fricatives + rhythm) >= 2


class AutoReference:
    """Source kind -> built-in reference, with hysteresis. Fed per analysis hop (``add``),
    asked at each estimate (``decide``)."""

    def __init__(self, sample_rate: float):
        self.cues = SourceCues(sample_rate)
        self.kind = "music"
        self.reference = self._music("listening")
        self.vote = 0.0
        self.f0_hz = 0.0
        self._last_t: float | None = None
        self._last_switch_t = -math.inf
        self._f0_built = 0.0
        self.switches = 0  # changes of kind (music <-> voice)
        self.rebuilds = 0  # voice reference rebuilt for a new F0
        self.switch_log: list[str] = []  # one line per switch, for headless logs and tests
        self.last_cues: dict | None = None

    def add(self, mono) -> None:
        self.cues.add(mono)

    # The chosen reference is named "auto → music" / "auto → voice" and its source says why, so
    # every place that shows a reference (panel, headless log, ``analyze``, estimates) shows
    # "auto → voice (F0 ≈ 120 Hz)" without knowing about auto.
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
        """Read the cues; return the new reference if it changes now, else None."""
        cues = self.cues.summary(JUDGE_S)
        dt = 0.0 if self._last_t is None else max(0.0, time_s - self._last_t)
        self._last_t = time_s
        self.last_cues = cues
        if cues is None:
            return None
        voice = looks_like_voice(cues, already_voice=self.kind == "voice")
        self.vote += (1.0 - math.exp(-dt / VOTE_TAU_S)) * ((1.0 if voice else 0.0) - self.vote)
        if voice:
            self.f0_hz = cues["f0_hz"]
        if self.kind == "music" and self.reference.source == "listening" \
                and cues["sounding_s"] >= MIN_EVIDENCE_S and self.vote < SWITCH_TO_VOICE:
            self.reference = self._music("no single voice heard")  # settled, no switch
            return self.reference
        if cues["sounding_s"] < MIN_EVIDENCE_S or time_s - self._last_switch_t < MIN_DWELL_S:
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
