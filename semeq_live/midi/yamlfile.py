"""YAML loading that keeps line numbers, so every validation error can say ``file:line: key: ...``.

``yaml.safe_load`` forgets where values came from. Here the document is composed into nodes and
turned into ``Located`` values (python value + 1-based line). Mappings become ``dict[str, Located]``
and sequences ``list[Located]``; anything PyYAML itself rejects (syntax, bad characters, nesting too
deep) becomes a ``LocatedError`` with the line PyYAML reported.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import MappingError


class LocatedError(MappingError):
    """A mapping or scene file problem at a known place: ``file:line: key: message``."""

    def __init__(self, path, line: int, key: str, message: str):
        self.path = str(path)
        self.line = int(line)
        self.key = key
        self.message = message
        super().__init__(f"{self.path}:{self.line}: {key}: {message}")


@dataclass
class Located:
    value: Any
    line: int


def did_you_mean(word: str, choices, n: int = 3) -> str:
    """`` (did you mean 'a', 'b'?)`` or an empty string when nothing is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=n, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + ", ".join(repr(c) for c in close) + "?)"


_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
MAX_NODES = 50_000  # aliases can expand exponentially ("billion laughs"): cap the walk


def _construct(node, path, key: str, ctor, budget: list) -> Located:
    line = node.start_mark.line + 1
    budget[0] -= 1
    if budget[0] < 0:
        raise LocatedError(path, line, key or "(document)",
                           f"document too large (more than {MAX_NODES} values after aliases)")
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        # Collections are built here, not by the safe constructor, so refuse tags ourselves
        # (e.g. !!python/object/apply): a hostile tag must be an error, never silently accepted.
        raise LocatedError(path, line, key or "(document)",
                           f"YAML tag {node.tag!r} is not allowed (plain mappings and lists only)")
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Located] = {}
        for knode, vnode in node.value:
            kline = knode.start_mark.line + 1
            if not isinstance(knode, yaml.ScalarNode):
                raise LocatedError(path, kline, key or "(document)", "keys must be plain names")
            name = str(ctor.construct_scalar(knode))
            if not name.strip():
                raise LocatedError(path, kline, key or "(document)", "empty key")
            child_key = f"{key}.{name}" if key else name
            if name in out:
                raise LocatedError(path, kline, child_key,
                                   f"duplicate key (first given on line {out[name].line})")
            out[name] = _construct(vnode, path, child_key, ctor, budget)
        return Located(out, line)
    if isinstance(node, yaml.SequenceNode):
        items = [_construct(item, path, f"{key}[{i}]", ctor, budget)
                 for i, item in enumerate(node.value)]
        return Located(items, line)
    try:
        value = ctor.construct_object(node, deep=True)
    except Exception as exc:  # e.g. a malformed !!timestamp or !!binary scalar
        raise LocatedError(path, line, key or "(document)", f"unreadable value: {exc}") from None
    return Located(value, line)



def _line_of_position(text: str, position) -> int:
    try:
        return text.count("\n", 0, int(position)) + 1
    except Exception:
        return 1


def load_located(path, text: str | None = None) -> Located:
    """Read and compose one YAML document from ``path`` (or ``text``) with line numbers.

    An empty document becomes ``Located(None, 1)``. Raises ``LocatedError`` for anything unreadable.
    """
    path = Path(path)
    if text is None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise LocatedError(path, 1, "(file)", "file not found") from None
        except OSError as exc:
            raise LocatedError(path, 1, "(file)", f"cannot read: {exc.strerror or exc}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise LocatedError(path, line, "(file)", "not UTF-8 text") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise LocatedError(path, line, "(syntax)", f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:  # ReaderError: control characters and the like
        line = _line_of_position(text, getattr(exc, "position", 0))
        reason = getattr(exc, "reason", None) or "invalid YAML"
        raise LocatedError(path, line, "(syntax)", f"invalid YAML: {reason}") from None
    except RecursionError:
        raise LocatedError(path, 1, "(syntax)", "YAML nested too deeply") from None
    if node is None:
        return Located(None, 1)
    try:
        return _construct(node, path, "", yaml.constructor.SafeConstructor(), [MAX_NODES])
    except RecursionError:
        raise LocatedError(path, 1, "(syntax)", "YAML nested too deeply") from None
