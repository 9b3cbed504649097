"""MIDI learn: ask for each function in turn, watch which control moves, write a mapping file.

The learner reads ``(port, message, time)`` tuples from any source (a ``MidiInput`` queue live,
a list in tests). For each step it waits for a control not used yet, keeps listening while that
control moves (to tell faders from endless encoders and spot 14-bit pairs), and turns what it
saw into a mapping entry. The file is validated with ``load_mapping`` before it replaces anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..fileio import atomic_output
from ..errors import SemeqError
from .controller import message_key
from .mapping import MAPPING_VERSION, load_mapping

CONTINUOUS_INPUT = "continuous"  # wants a fader, knob, encoder or pitch bend
BUTTON_INPUT = "button"          # wants a button, pad or key


@dataclass(frozen=True)
class LearnStep:
    name: str
    target: str
    wants: str
    prompt: str
    extra: dict = field(default_factory=dict)


DEFAULT_STEPS: tuple[LearnStep, ...] = (
    LearnStep("Morph A->B", "alpha", CONTINUOUS_INPUT, "move the fader or knob for the MORPH"),
    LearnStep("Intensity", "intensity", CONTINUOUS_INPUT, "move the control for INTENSITY"),
    LearnStep("Term A", "term_a", CONTINUOUS_INPUT, "turn the knob/encoder that picks TERM A"),
    LearnStep("Term B", "term_b", CONTINUOUS_INPUT, "turn the knob/encoder that picks TERM B"),
    LearnStep("Traverse X", "traverse_x", CONTINUOUS_INPUT, "move the control for TRAVERSE X"),
    LearnStep("Traverse Y", "traverse_y", CONTINUOUS_INPUT, "move the control for TRAVERSE Y"),
    LearnStep("Output gain", "output_gain", CONTINUOUS_INPUT, "move the OUTPUT GAIN control",
              {"range": [-24.0, 6.0]}),
    LearnStep("Bypass", "bypass", BUTTON_INPUT, "press the BYPASS button"),
    LearnStep("Learn reference", "learn_reference", BUTTON_INPUT,
              "press the button that LEARNS THE REFERENCE"),
    LearnStep("Panic", "panic", BUTTON_INPUT, "press the PANIC button"),
    LearnStep("Scene 1", "scene_recall", BUTTON_INPUT, "press the button that RECALLS SCENE 1",
              {"scene": "1"}),
    LearnStep("Store scene 1", "scene_store", BUTTON_INPUT, "press the button that STORES SCENE 1",
              {"scene": "1"}),
)


@dataclass
class Learned:
    step: LearnStep
    entry: dict       # the mapping entry (YAML-ready)
    description: str  # e.g. "CC 7 ch 1, absolute"


def guess_relative_encoding(values: list[int]) -> str | None:
    """The relative encoding a burst of CC values looks like, or None if it looks absolute.

    Encoders repeat a few values around their "zero" (1/127, 63/65, 1/65); a fader or knob
    sweeps through many different values.
    """
    if len(values) < 3 or len(set(values)) > 4:
        return None
    if all(57 <= v <= 71 and v != 64 for v in values):
        return "binary_offset"
    small_up = all(1 <= v <= 15 or 113 <= v <= 127 for v in values)
    signed = all(1 <= v <= 15 or 65 <= v <= 79 for v in values)
    if small_up and any(v >= 113 for v in values):
        return "twos_complement"
    if signed and any(v >= 65 for v in values):
        return "signed_bit"
    if small_up:
        return "twos_complement"
    return None


SKIP = ("(keyboard)", None, 0.0)  # put this in the message source to skip the current step


class MappingLearner:
    def __init__(self, steps=DEFAULT_STEPS, settle: float = 0.4, max_capture: float = 4.0):
        self.steps = tuple(steps)
        self.settle = settle            # the control is done after this long without messages
        self.max_capture = max_capture  # ... or after this long in total
        self._pending: list = []        # messages of other controls seen while capturing
        self._used: dict[tuple, str] = {}

    def _next(self, receive, timeout):
        if self._pending:
            return self._pending.pop(0)
        return receive(timeout)

    def learn(self, receive, on_prompt=None, on_result=None, on_notice=None,
              step_timeout: float = 30.0) -> list[Learned]:
        """Run every step. ``receive(timeout)`` -> ``(port, msg, t)`` or None.

        A step that sees no usable control within ``step_timeout`` seconds is skipped.
        """
        learned = []
        for i, step in enumerate(self.steps):
            if on_prompt:
                on_prompt(i, step)
            result = self._learn_step(step, receive, step_timeout, on_notice or (lambda s: None))
            if on_result:
                on_result(i, step, result)
            if result is not None:
                learned.append(result)
        return learned

    def _learn_step(self, step: LearnStep, receive, step_timeout, notice) -> Learned | None:
        deadline = time.monotonic() + step_timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            item = self._next(receive, left)
            if item is None:
                continue
            _port, msg, _t = item
            if msg is None:  # SKIP sentinel (the user pressed Enter)
                return None
            ident = message_key(msg)
            if ident is None:
                continue
            if ident in self._used:  # a late release or a second touch of a learned control
                continue
            if ident[0] == "note" and (msg.type == "note_off" or msg.velocity == 0):
                continue
            if step.wants == CONTINUOUS_INPUT and ident[0] == "note":
                notice(f"{step.name} needs a fader, knob or encoder, not a key or pad")
                continue
            if step.wants == BUTTON_INPUT and ident[0] == "pitchbend":
                notice(f"{step.name} needs a button, not the pitch bend wheel")
                continue
            if step.target not in ("term_a", "term_b", "scene_recall", "scene_store") \
                    and ident[0] == "program":
                notice(f"{step.name} cannot be a program change")
                continue
            group = self._capture(ident, msg, receive)
            entry, description = self._entry(step, ident, group)
            self._used[ident] = step.name
            if "lsb" in entry:
                self._used[("cc", ident[1], entry["lsb"])] = step.name
            return Learned(step, entry, description)

    def _capture(self, ident, first, receive) -> list:
        """Messages of the same control (and its 14-bit LSB partner) until it rests."""
        group = [first]
        lsb_ident = ("cc", ident[1], ident[2] + 32) if ident[0] == "cc" and ident[2] < 32 else None
        start = last = time.monotonic()
        while True:
            now = time.monotonic()
            wait = min(self.settle - (now - last), self.max_capture - (now - start))
            if wait <= 0:
                return group
            item = receive(wait)
            if item is None:
                continue
            msg = item[1]
            if msg is None:  # a skip typed while capturing belongs to the next step
                self._pending.append(item)
                return group
            other = message_key(msg)
            if other == ident or (lsb_ident is not None and other == lsb_ident):
                group.append(msg)
                last = time.monotonic()
            else:
                self._pending.append(item)  # belongs to the next step

    def _entry(self, step: LearnStep, ident, group) -> tuple[dict, str]:
        mtype, channel, number = ident
        entry = {"name": step.name, "target": step.target, "type": mtype}
        if number is not None:
            entry["number"] = number
        entry["channel"] = channel + 1
        where = f"{mtype.replace('cc', 'CC')}{'' if number is None else ' ' + str(number)} " \
                f"ch {channel + 1}"
        how = ""
        if mtype == "cc":
            values = [m.value for m in group if m.control == number]
            lsb_values = [m for m in group if m.control != number]
            if step.wants == CONTINUOUS_INPUT:
                encoding = guess_relative_encoding(values)
                if encoding:
                    entry["mode"] = "relative"
                    entry["encoding"] = encoding
                    how = f"relative encoder ({encoding})"
                else:
                    how = "absolute"
                    if lsb_values:
                        entry["lsb"] = number + 32
                        how = "absolute, 14-bit"
            else:
                how = "button"
        elif mtype == "note":
            how = "button"
        elif mtype == "program":
            how = "program change"
        else:
            how = "pitch bend"
        for key, value in step.extra.items():
            if key == "range" and mtype not in ("cc", "pitchbend"):
                continue
            if key == "scene" and mtype == "program":  # program n recalls/stores scene n + 1
                entry["scenes"] = [str(n) for n in range(1, 9)]
                continue
            entry[key] = value
        return entry, f"{where}, {how}"


def mapping_text(learned: list[Learned], name: str, port: str | None = None) -> str:
    header = ("# semeq-live mapping written by `semeq-live midi-learn` "
              f"on {time.strftime('%Y-%m-%d %H:%M')}.\n"
              "# Source of the numbers: learned from the controller itself. "
              "Schema: mappings/README.md\n")
    doc = {"version": MAPPING_VERSION, "name": name}
    if port:
        doc["port"] = port
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    # no palette: the default one (the model's most certain words); the comment shows how to set it
    body += "# palette: [warm, cold, bright, dark, soft, harsh]   # the words term A/B step through\n"
    lines = ["controls:"]
    for item in learned:
        flow = yaml.safe_dump(item.entry, default_flow_style=True, sort_keys=False,
                              width=1000).strip()
        lines.append(f"  - {flow}  # {item.description}")
    return header + body + "\n".join(lines) + "\n"


def write_learned_mapping(path, learned: list[Learned], name: str, port: str | None = None,
                          known_terms=None) -> Path:
    """Write the mapping atomically, after checking it loads. Raises SemeqError otherwise."""
    if not learned:
        raise SemeqError("nothing was learned: no control moved (check --midi-port and cables)")
    path = Path(path)
    text = mapping_text(learned, name, port)
    try:
        with atomic_output(path, suffix=".yaml") as tmp:
            tmp.write_text(text, encoding="utf-8")
            load_mapping(tmp, known_terms=known_terms)  # never write a file that would not load
    except OSError as exc:
        raise SemeqError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
