"""``semeq-live check-mapping FILE...``: validate MIDI mapping (and scene) files without running."""

from __future__ import annotations

import sys

NAME = "check-mapping"
HELP = "validate MIDI mapping files (file:line: key: problem for every mistake)"
ORDER = 60


def add_arguments(p) -> None:
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="mapping files, or names of shipped mappings (e.g. nanokontrol2)")
    terms = p.add_mutually_exclusive_group()
    terms.add_argument("--model", metavar="PATH",
                       help="check term names against this model (default: the bundled model)")
    terms.add_argument("--terms", metavar="A,B,...", help="check term names against this list")
    terms.add_argument("--no-terms", action="store_true", help="do not check term names")
    p.add_argument("--scenes", metavar="FILE", action="append", default=[],
                   help="also validate a scene file (repeatable)")


def _known_terms(args):
    """(terms or None, note for the user)."""
    if args.no_terms:
        return None, "term names not checked (--no-terms)"
    if args.terms:
        terms = [t.strip() for t in args.terms.split(",") if t.strip()]
        return terms, f"terms checked against --terms ({len(terms)})"
    from ...errors import ModelError
    from ...model import load_model

    try:
        model = load_model(args.model)
    except ModelError as exc:
        if args.model:
            raise
        return None, f"term names not checked: no model ({exc})"
    return list(model.terms), f"terms checked against {model.path} ({len(model.terms)} terms)"


def run(args) -> int:
    from ...errors import MappingError
    from ...midi.mapping import load_mapping, resolve_mapping_path
    from ...midi.scenes import SceneBank

    known, note = _known_terms(args)
    failures = 0
    for name in args.files:
        try:
            path = resolve_mapping_path(name)
            mapping = load_mapping(path, known_terms=known)
        except MappingError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failures += 1
            continue
        feedback = sum(c.feedback for c in mapping.controls)
        if mapping.palette is not None:
            palette = f"palette of {len(mapping.palette)} words"
        else:
            palette = "palette: every word" if mapping.palette_all else "default palette"
        print(f"ok: {path} ({mapping.name}: {len(mapping.controls)} controls"
              + (f", {feedback} with LED feedback" if feedback else "") + f", {palette})")
    for name in args.scenes:
        try:
            bank = SceneBank(name, known_terms=known)
        except MappingError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failures += 1
            continue
        print(f"ok: {name} ({len(bank.names())} scenes)")
    print(note)
    return 2 if failures else 0
