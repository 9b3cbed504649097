"""MIDI mapping files: schema, validation with ``file:line: key`` errors, and where they live.

The schema is documented for users in ``mappings/README.md``; this module is its executable form.
Everything is checked on load (types, ranges, keys that do not apply to a control, clashing
bindings, unknown terms), so a mapping that loads cannot surprise the performer on stage.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from .targets import CONTINUOUS, SCENE, SWITCH, TARGETS, TERM, TRIGGER
from .values import CURVES, RELATIVE_ENCODINGS
from .yamlfile import Located, LocatedError, did_you_mean, load_located

MAPPING_VERSION = 1
MESSAGE_TYPES = ("cc", "note", "program", "pitchbend")
MODES = ("absolute", "relative", "button", "select")
BUTTON_BEHAVIOURS = ("toggle", "momentary")
DIRECTIONS = ("next", "previous")

TOP_KEYS = ("version", "name", "description", "port", "feedback_port", "channel", "palette",
            "terms", "pickup_tolerance", "controls")
# A palette is what a knob sweeps (128 positions) and program change picks from (128 programs).
MAX_PALETTE = 128
# Keys every control may have, and the extra keys each mode accepts.
COMMON_KEYS = ("name", "target", "type", "channel", "number", "mode")
MODE_KEYS = {
    "absolute": ("lsb", "range", "curve", "invert", "pickup", "feedback"),
    "relative": ("encoding", "range", "curve", "invert", "step", "ticks_per_term", "wrap"),
    "button": ("button", "value", "term", "direction", "wrap", "scene", "feedback", "led_on",
               "led_off"),
    "select": ("scenes",),
}


@dataclass(frozen=True)
class Control:
    """One validated control binding. ``channel`` is 0-based (None = any channel)."""

    name: str
    target: str
    type: str
    mode: str
    line: int
    channel: int | None = 0
    number: int | None = None
    lsb: int | None = None
    encoding: str = "twos_complement"
    range: tuple[float, float] | None = None
    curve: str = "linear"
    invert: bool = False
    pickup: bool = True
    step: float = 0.01
    ticks_per_term: int = 2
    wrap: bool = True
    button: str = "toggle"
    value: float | None = None
    term: str | None = None
    direction: str | None = None
    scene: str | None = None
    scenes: tuple[str, ...] = ()
    feedback: bool = False
    led_on: int = 127
    led_off: int = 0

    @property
    def kind(self) -> str:
        return TARGETS[self.target].kind

    def describe(self) -> str:
        """Human description of the physical control, e.g. ``CC 7 ch 1``."""
        ch = "any ch" if self.channel is None else f"ch {self.channel + 1}"
        if self.type == "cc":
            extra = f"/{self.lsb}" if self.lsb is not None else ""
            return f"CC {self.number}{extra} {ch}"
        if self.type == "note":
            return f"note {self.number} {ch}"
        return f"{'program change' if self.type == 'program' else 'pitch bend'} {ch}"


@dataclass(frozen=True)
class Mapping:
    path: Path
    name: str
    controls: tuple[Control, ...]
    # The ordered words the term controls step through. None: the mapping names none, and the
    # app uses a default (``palette_all``: every word of the model; else ``midi.palette``'s
    # default palette). Resolved against a model by ``midi.palette.resolve_palette``.
    palette: tuple[str, ...] | None = None
    palette_all: bool = False
    description: str = ""
    port: str | None = None           # default input port name substring
    feedback_port: str | None = None  # LED output port name substring (defaults to ``port``)
    pickup_tolerance: float = 0.02    # fraction of a target's range that counts as "caught"
    version: int = MAPPING_VERSION

    @property
    def terms(self) -> tuple[str, ...] | None:
        """The palette under its older name (mapping files may still say ``terms:``)."""
        return self.palette

    @property
    def led_port(self) -> str | None:
        if not any(c.feedback for c in self.controls):
            return None
        return self.feedback_port or self.port


class _Reader:
    """Typed access to one YAML mapping node, raising ``LocatedError`` at the right line."""

    def __init__(self, path: Path, node: Located, key: str, allowed: tuple[str, ...]):
        self.path, self.node, self.key = path, node, key
        if not isinstance(node.value, dict):
            raise self.error_at(node, key or "(document)", "expected a mapping of keys to values, "
                                f"got {_kind(node.value)}")
        self.items: dict[str, Located] = node.value
        for name, child in self.items.items():
            if name not in allowed:
                raise self.error_at(child, self.sub(name), "unknown key"
                                    + (did_you_mean(name, allowed) or
                                       f" (expected one of: {', '.join(allowed)})"))

    def sub(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def error_at(self, node: Located, key: str, message: str) -> LocatedError:
        return LocatedError(self.path, node.line, key, message)

    def error(self, name: str, message: str) -> LocatedError:
        node = self.items.get(name, self.node)
        return self.error_at(node, self.sub(name), message)

    def has(self, name: str) -> bool:
        return name in self.items

    def raw(self, name: str, default=None):
        return self.items[name].value if name in self.items else default

    def require(self, name: str):
        self._present(name, True)
        return self.items[name].value

    def _present(self, name: str, required: bool) -> bool:
        """Whether ``name`` was given; a missing required key is an error. An explicit empty
        value (``key:`` or ``key: null``) counts as given, so it fails the type check."""
        if name in self.items:
            return True
        if required:
            raise self.error_at(self.node, self.sub(name), "missing (required)")
        return False

    def string(self, name: str, default=None, required=False) -> str | None:
        if not self._present(name, required):
            return default
        value = self.items[name].value
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, f"expected a non-empty text, got {value!r}")
        return value.strip()

    def integer(self, name: str, lo: int, hi: int, default=None, required=False) -> int | None:
        if not self._present(name, required):
            return default
        value = self.items[name].value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"expected a whole number {lo}..{hi}, got {value!r}")
        if not lo <= value <= hi:
            raise self.error(name, f"{value} is out of range {lo}..{hi}")
        return value

    def number(self, name: str, lo: float, hi: float, default=None) -> float | None:
        if name not in self.items:
            return default
        value = self.items[name].value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise self.error(name, f"expected a number {lo:g}..{hi:g}, got {value!r}")
        if not lo <= value <= hi:
            raise self.error(name, f"{value:g} is out of range {lo:g}..{hi:g}")
        return float(value)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"expected true or false, got {value!r}")
        return value

    def choice(self, name: str, choices, default=None, required=False) -> str | None:
        if not self._present(name, required):
            return default
        value = self.items[name].value
        if not isinstance(value, str) or value not in choices:
            raise self.error(name, f"{value!r} is not one of: {', '.join(choices)}"
                             + did_you_mean(value, choices))
        return value


def _kind(value) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), type(value).__name__)


def _channel(reader: _Reader, default):
    if not reader.has("channel"):
        return default
    value = reader.raw("channel")
    if value in ("any", "all"):
        return None
    return reader.integer("channel", 1, 16) - 1


def unknown_term_hint(term: str, known_terms) -> str:
    """`` (did you mean 'a', 'b'?)`` from spelling and from words that start with or contain what
    was written; or the list of known words when nothing is close (and the list is short)."""
    known = [str(t) for t in known_terms]
    key = str(term).strip().lower()
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    close += [t for t in known if key and (t.startswith(key) or key.startswith(t) or key in t)
              and t not in close][:3 - len(close)]
    if close:
        return " (did you mean " + ", ".join(repr(c) for c in close) + "?)"
    if len(known) <= 12:
        return f" (known terms: {', '.join(sorted(known))})"
    return f" (the model knows {len(known)} words: semeq-live terms)"


def _check_term(reader: _Reader, name: str, known_terms) -> str:
    term = reader.string(name, required=True)
    if known_terms is not None and term not in known_terms:
        raise reader.error(name, f"unknown term {term!r}{unknown_term_hint(term, known_terms)}")
    return term


def _palette(top: _Reader, known_terms) -> tuple[tuple[str, ...] | None, bool]:
    """(the listed words or None, whether 'all' was asked for). ``terms:`` is the older name."""
    if top.has("palette") and top.has("terms"):
        raise top.error("terms", "give either 'palette' or 'terms' (its older name), not both")
    key = "palette" if top.has("palette") or not top.has("terms") else "terms"
    if not top.has(key):
        return None, False
    node = top.items[key]
    if node.value == "all":
        return None, True
    if not isinstance(node.value, list) or not node.value:
        raise top.error(key, "expected a list of words, e.g. [warm, cold, bright, dark] "
                        "('all' = every word of the model, or leave it out for the default)")
    if len(node.value) > MAX_PALETTE:
        raise top.error(key, f"{len(node.value)} words: a palette holds at most {MAX_PALETTE} "
                        "(a knob and program change have 128 positions)")
    out: list[str] = []
    for i, item in enumerate(node.value):
        item_key = f"{key}[{i}]"
        if not isinstance(item.value, str) or not item.value.strip():
            raise top.error_at(item, item_key, f"expected a word, got {item.value!r}")
        term = item.value.strip()
        if known_terms is not None and term not in known_terms:
            raise top.error_at(item, item_key, f"the model has no word {term!r}"
                               + unknown_term_hint(term, known_terms))
        if term in out:
            raise top.error_at(item, item_key, f"{term!r} is listed twice "
                               f"(first as {key}[{out.index(term)}])")
        out.append(term)
    return tuple(out), False


def _default_mode(reader: _Reader, kind: str, mtype: str) -> str:
    if mtype == "program":
        return "select"
    if mtype == "pitchbend":
        return "absolute"
    if mtype == "note":
        return "button"
    if kind in (SWITCH, TRIGGER, SCENE):
        return "button"
    if kind == CONTINUOUS and reader.has("value"):
        return "button"
    if kind == TERM and (reader.has("term") or reader.has("direction")):
        return "button"
    return "absolute"


_MODES_FOR_TYPE = {
    "cc": ("absolute", "relative", "button"),
    "note": ("button",),
    "program": ("select",),
    "pitchbend": ("absolute",),
}
_MODES_FOR_KIND = {
    CONTINUOUS: ("absolute", "relative", "button"),
    TERM: ("absolute", "relative", "button", "select"),
    SWITCH: ("button",),
    TRIGGER: ("button",),
    SCENE: ("button", "select"),
}


def _control(path: Path, node: Located, key: str, default_channel, known_terms) -> Control:
    all_keys = COMMON_KEYS + tuple(k for keys in MODE_KEYS.values() for k in keys)
    r = _Reader(path, node, key, tuple(dict.fromkeys(all_keys)))
    target_name = r.choice("target", tuple(TARGETS), required=True)
    target = TARGETS[target_name]
    mtype = r.choice("type", MESSAGE_TYPES, required=True)
    mode = r.choice("mode", MODES, default=None) or _default_mode(r, target.kind, mtype)
    if mode not in _MODES_FOR_TYPE[mtype]:
        raise r.error("mode", f"a {mtype} control cannot be {mode} "
                      f"(possible: {', '.join(_MODES_FOR_TYPE[mtype])})")
    if mode not in _MODES_FOR_KIND[target.kind]:
        if r.has("mode"):
            raise r.error("mode", f"target {target_name} cannot be driven in {mode} mode "
                          f"(possible: {', '.join(_MODES_FOR_KIND[target.kind])})")
        raise r.error("type", f"target {target_name} cannot be driven by a {mtype} message")
    # Keys that belong to another mode are errors: they would silently do nothing.
    allowed = set(COMMON_KEYS) | set(MODE_KEYS[mode])
    for name in r.items:
        if name not in allowed:
            article = "an" if mode[0] in "aeiou" else "a"
            raise r.error(name, f"not used by {article} {mode} control")

    fields: dict = {"name": r.string("name", default=target_name), "target": target_name,
                    "type": mtype, "mode": mode, "line": node.line,
                    "channel": _channel(r, default_channel)}
    if mtype in ("cc", "note"):
        fields["number"] = r.integer("number", 0, 127, required=True)
    elif r.has("number"):
        raise r.error("number", f"a {mtype} message has no controller or note number")

    if mode in ("absolute", "relative") and target.kind == CONTINUOUS:
        fields["range"] = _range(r, target)
    elif r.has("range"):
        raise r.error("range", f"only continuous targets have a range, not {target_name}")
    if mode in ("absolute", "relative"):
        fields["curve"] = r.choice("curve", tuple(CURVES), default="linear")
        fields["invert"] = r.boolean("invert", False)

    if mode == "absolute":
        if r.has("lsb"):
            if mtype != "cc":
                raise r.error("lsb", "14-bit pairs are CC only (pitch bend is 14-bit already)")
            fields["lsb"] = r.integer("lsb", 0, 127)
            if fields["lsb"] == fields["number"]:
                raise r.error("lsb", "the LSB controller must differ from the MSB (number)")
        fields["pickup"] = r.boolean("pickup", True)
        fields["feedback"] = r.boolean("feedback", False)
    elif mode == "relative":
        fields["encoding"] = r.choice("encoding", RELATIVE_ENCODINGS, default="twos_complement")
        if target.kind == TERM:
            if r.has("step"):
                raise r.error("step", "term selection steps by whole terms: use ticks_per_term")
            fields["ticks_per_term"] = r.integer("ticks_per_term", 1, 64, default=2)
            fields["wrap"] = r.boolean("wrap", True)
        else:
            for name in ("ticks_per_term", "wrap"):
                if r.has(name):
                    raise r.error(name, "only used when selecting terms")
            fields["step"] = r.number("step", 1e-4, 1.0, default=0.01)
    elif mode == "button":
        _button_fields(r, target, fields, known_terms)
    elif mode == "select":
        # Program n selects the n-th term of the term list, or recalls the n-th listed scene.
        if target.kind == SCENE:
            fields["scenes"] = _scene_list(r)
    return Control(**fields)


def _range(r: _Reader, target) -> tuple[float, float]:
    lo_b, hi_b = target.bounds
    if not r.has("range"):
        return (lo_b, hi_b)
    node = r.items["range"]
    v = node.value
    if (not isinstance(v, list) or len(v) != 2
            or any(isinstance(x.value, bool) or not isinstance(x.value, (int, float))
                   or x.value != x.value for x in v)):
        raise r.error("range", f"expected [low, high] numbers within {lo_b:g}..{hi_b:g}")
    lo, hi = float(v[0].value), float(v[1].value)
    if not (lo_b <= lo <= hi_b and lo_b <= hi <= hi_b):
        raise r.error("range", f"[{lo:g}, {hi:g}] leaves the target's range {lo_b:g}..{hi_b:g}")
    if not lo < hi:
        raise r.error("range", "low must be below high (use 'invert: true' to reverse a control)")
    return (lo, hi)


def _button_fields(r: _Reader, target, fields: dict, known_terms) -> None:
    kind = target.kind
    only = {
        "button": SWITCH, "value": CONTINUOUS, "term": TERM, "direction": TERM, "wrap": TERM,
        "scene": SCENE,
    }
    for name, needed in only.items():
        if r.has(name) and kind != needed:
            raise r.error(name, f"not used by a {target.name} button")
    if kind == SWITCH:
        fields["button"] = r.choice("button", BUTTON_BEHAVIOURS, default="toggle")
    elif kind == CONTINUOUS:
        if not r.has("value"):
            raise r.error("value", f"missing: a {target.name} button sets a fixed value")
        fields["value"] = r.number("value", *target.bounds)
    elif kind == TERM:
        if r.has("term") == r.has("direction"):
            raise r.error("term", "a term button needs either 'term: NAME' (select it) or "
                          "'direction: next|previous' (step through the list)")
        if r.has("term"):
            fields["term"] = _check_term(r, "term", known_terms)
        else:
            fields["direction"] = r.choice("direction", DIRECTIONS)
            fields["wrap"] = r.boolean("wrap", True)
    elif kind == SCENE:
        fields["scene"] = _scene_name(r, "scene", r.require("scene"))
    if r.has("feedback") or r.has("led_on") or r.has("led_off"):
        fields["feedback"] = r.boolean("feedback", True)
        fields["led_on"] = r.integer("led_on", 0, 127, default=127)
        fields["led_off"] = r.integer("led_off", 0, 127, default=0)


def _scene_name(r: _Reader, key: str, value) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise r.error(key, f"expected a scene name, got {value!r}")
    return str(value).strip()


def _scene_list(r: _Reader) -> tuple[str, ...]:
    node = r.items.get("scenes")
    if node is None:
        raise r.error("scenes", "missing: list the scene names that program 1, 2, 3... recall")
    if not isinstance(node.value, list) or not node.value or len(node.value) > 128:
        raise r.error("scenes", "expected a list of 1..128 scene names (program 1 = first)")
    names = []
    for i, item in enumerate(node.value):
        if isinstance(item.value, bool) or not isinstance(item.value, (str, int)) \
                or not str(item.value).strip():
            raise r.error_at(item, f"{r.key}.scenes[{i}]", f"expected a scene name, got {item.value!r}")
        names.append(str(item.value).strip())
    return tuple(names)


def _bindings(c: Control):
    """(message type, number) pairs a control listens to."""
    if c.type == "cc":
        yield ("cc", c.number)
        if c.lsb is not None:
            yield ("cc", c.lsb)
    elif c.type == "note":
        yield ("note", c.number)
    else:
        yield (c.type, None)


def _check_clashes(path: Path, controls: list[Control], keys: list[str]) -> None:
    """Two controls on the same message would fight each other: reject the second one."""
    seen: list[tuple[tuple, int | None, int]] = []
    for i, c in enumerate(controls):
        for binding in _bindings(c):
            for other_binding, other_channel, j in seen:
                if other_binding != binding or not (
                        other_channel is None or c.channel is None or other_channel == c.channel):
                    continue
                other = controls[j]
                if c.type in ("program", "pitchbend"):
                    what, label = "channel", c.type.replace("program", "program change")
                else:
                    what = "number" if binding[1] == c.number else "lsb"
                    label = f"{'CC' if c.type == 'cc' else 'note'} {binding[1]}"
                where = "any channel" if c.channel is None else f"channel {c.channel + 1}"
                raise LocatedError(path, c.line, f"{keys[i]}.{what}",
                                   f"{label} on {where} is already used by {keys[j]} "
                                   f"({other.name!r}, line {other.line})")
        seen.extend((b, c.channel, i) for b in _bindings(c))


def load_mapping(path, known_terms=None) -> Mapping:
    """Load and validate a mapping file. ``known_terms``: the model's terms (None = don't check).

    Raises ``LocatedError`` (a ``MappingError``) whose message is ``file:line: key: problem``.
    """
    path = Path(path)
    known = None if known_terms is None else tuple(known_terms)
    doc = load_located(path)
    if doc.value is None:
        raise LocatedError(path, 1, "(document)", "empty file: expected 'version' and 'controls'")
    top = _Reader(path, doc, "", TOP_KEYS)
    version = top.integer("version", 1, 10_000, required=True)
    if version != MAPPING_VERSION:
        raise top.error("version", f"version {version} is not supported by this semeq-live "
                        f"(it reads version {MAPPING_VERSION})")
    default_channel = _channel(top, 0)
    palette, palette_all = _palette(top, known)
    controls_node = top.items.get("controls")
    if controls_node is None:
        raise top.error("controls", "missing (required): the list of controls")
    if not isinstance(controls_node.value, list) or not controls_node.value:
        raise top.error("controls", "expected a non-empty list of controls")
    controls, keys = [], []
    for i, item in enumerate(controls_node.value):
        key = f"controls[{i}]"
        controls.append(_control(path, item, key, default_channel, known))
        keys.append(key)
    _check_clashes(path, controls, keys)
    return Mapping(
        path=path,
        name=top.string("name", default=path.stem),
        description=top.string("description", default=""),
        port=top.string("port", default=None),
        feedback_port=top.string("feedback_port", default=None),
        palette=palette,
        palette_all=palette_all,
        pickup_tolerance=top.number("pickup_tolerance", 0.0, 0.5, default=0.02),
        controls=tuple(controls),
        version=version,
    )


def mappings_dir() -> Path:
    """The folder of shipped mappings: package data when installed, ``mappings/`` in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "mappings", here.parent.parent / "mappings"):
        if (candidate / "generic.yaml").is_file():
            return candidate
    raise LocatedError(here.parent / "mappings", 1, "(file)",
                       "the shipped mappings are missing from this installation (reinstall semeq-live)")


def default_mapping_path() -> Path:
    return mappings_dir() / "generic.yaml"


def shipped_mappings() -> list[Path]:
    return sorted(mappings_dir().glob("*.yaml"))


def resolve_mapping_path(name_or_path) -> Path:
    """A mapping file path, or the stem of a shipped mapping (``nanokontrol2``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    if path.suffix == "" and path.parent == Path("."):
        try:
            shipped = {p.stem: p for p in shipped_mappings()}
        except LocatedError:
            shipped = {}
        if str(path) in shipped:
            return shipped[str(path)]
        hint = did_you_mean(str(path), shipped)
        raise LocatedError(path, 1, "(file)", "no such mapping file or shipped mapping" + (
            hint or f" (shipped: {', '.join(sorted(shipped))})"))
    raise LocatedError(path, 1, "(file)", "file not found")
