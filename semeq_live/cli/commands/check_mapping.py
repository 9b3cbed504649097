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
    """(terms or None, note for the user, the model or None)."""
    if args.no_terms:
        return None, "term names not checked (--no-terms)", None
    if args.terms:
        terms = [t.strip() for t in args.terms.split(",") if t.strip()]
        return terms, f"terms checked against --terms ({len(terms)})", None
    from ...errors import ModelError
    from ...model import load_model

    try:
        model = load_model(args.model)
    except ModelError as exc:
        if args.model:
            raise
        return None, f"term names not checked: no model ({exc})", None
    return (list(model.terms), f"terms checked against {model.path} ({len(model.terms)} terms)",
            model)


def _palette_note(mapping, model) -> str:
    """How many words the mapping steps through, and which of them few people taught."""
    if mapping.palette is None:
        return "palette: every word" if mapping.palette_all else "default palette"
    note = f"palette of {len(mapping.palette)} words"
    if model is not None:
        unsure = [t + model.term_info(t).mark for t in mapping.palette
                  if model.term_info(t).certainty != "high"]
        if unsure:
            note += f"; less certain: {', '.join(unsure)}"
    return note


def run(args) -> int:
    from ...errors import MappingError
    from ...midi.mapping import load_mapping, resolve_mapping_path
    from ...midi.scenes import SceneBank

    known, note, model = _known_terms(args)
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
        print(f"ok: {path} ({mapping.name}: {len(mapping.controls)} controls"
              + (f", {feedback} with LED feedback" if feedback else "")
              + f", {_palette_note(mapping, model)})")
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
