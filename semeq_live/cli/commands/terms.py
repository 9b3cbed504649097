"""``semeq-live terms``: the model's words, where each comes from and how far to trust it.

One row per word: its sources (SAFE-DB settings, the SocialEQ/Audealize crowd, or both), SAFE's
training rows and users, the crowd's contributors and agreement score, the people behind it and
the certainty that follows (``semeq_live.model.terms``). Words with few people carry a mark ("?"
medium, "??" low). Sort with ``--sort``, filter with ``--min-people``, ``--min-contributors``,
``--certainty`` and ``--source``; ``--json`` for scripts.

Layout: ``select`` (filter + sort, shared by every view) and one ``render_*`` per view, so another
view is one more flag and one more renderer (``--map``: the word map, ``semeq_live.ui.mapview``).
"""

from __future__ import annotations

NAME = "terms"
HELP = "list the model's words: sources, counts, agreement and certainty"
ORDER = 20

SORT_KEYS = {
    # name -> (key on TermInfo, descending?)
    "model": (None, False),  # the model's own order (most people first)
    "name": (lambda i: i.name, False),
    "people": (lambda i: (i.people, i.contributors), True),
    "contributors": (lambda i: i.contributors, True),
    "safe": (lambda i: (i.safe_rows, i.safe_users), True),
    "agreement": (lambda i: -1.0 if i.agreement is None else i.agreement, True),
    "certainty": (lambda i: ("low", "medium", "high").index(i.certainty), True),
}
CERTAINTY_ORDER = ("high", "medium", "low")


def add_arguments(p) -> None:
    p.add_argument("--model", metavar="PATH", help="model file (.npz); default: the bundled model")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--sort", choices=sorted(SORT_KEYS), default="model",
                   help="order of the rows (default: the model's, most people first; ties keep it)")
    p.add_argument("--reverse", action="store_true", help="reverse the order")
    p.add_argument("--min-people", type=int, default=0, metavar="N",
                   help="only words with N or more people behind them (SAFE users + contributors)")
    p.add_argument("--min-contributors", type=int, default=0, metavar="N",
                   help="only words the crowd taught with N or more contributors")
    p.add_argument("--certainty", choices=CERTAINTY_ORDER, metavar="LEVEL",
                   help="only words at least this certain: high, medium or low (= all)")
    p.add_argument("--source", choices=("safe", "socialeq"),
                   help="only words with this source (alone or with the other)")
    p.add_argument("--map", action="store_true",
                   help="draw the word map (the words on the traverse plane) in the terminal")
    p.add_argument("--width", type=int, metavar="COLUMNS",
                   help="--map: width in columns (default: the terminal's, at most 100)")
    p.add_argument("--height", type=int, metavar="ROWS", help="--map: rows of the map (default 22)")


def select(model, args) -> list:
    """The ``TermInfo`` rows the arguments ask for, in the order they ask for."""
    infos = model.term_infos()
    infos = [i for i in infos if i.people >= args.min_people and i.contributors >= args.min_contributors]
    if args.certainty:
        allowed = CERTAINTY_ORDER[:CERTAINTY_ORDER.index(args.certainty) + 1]
        infos = [i for i in infos if i.certainty in allowed]
    if args.source:
        infos = [i for i in infos if args.source in i.sources]
    key, descending = SORT_KEYS[args.sort]
    if key is not None:  # sorted() is stable: ties keep the model's order
        infos = sorted(infos, key=key, reverse=descending)
    return infos[::-1] if args.reverse else infos


def _row(model, info) -> dict:
    return {**info.to_dict(), "count": model.counts[info.name],
            "validation_count": model.val_counts[info.name]}


def render_json(model, infos) -> str:
    import json

    return json.dumps({"model": str(model.path), "n_terms": len(model.terms),
                       "terms": [_row(model, i) for i in infos]}, indent=1)


def render_table(model, infos) -> str:
    headers = ("word", "sources", "SAFE rows/users", "contributors", "agreement", "people",
               "certainty")
    rows = [(f"{i.name}{i.mark}", i.source_label,
             f"{i.safe_rows}/{i.safe_users}" if i.safe_rows else "-",
             str(i.contributors) if i.contributors else "-",
             f"{i.agreement:.3f}" if i.agreement is not None else "-",
             str(i.people), i.certainty) for i in infos]
    widths = [max([len(h)] + [len(r[k]) for r in rows]) for k, h in enumerate(headers)]
    right = {2, 3, 4, 5}

    def line(cells):
        return "  ".join(c.rjust(w) if k in right else c.ljust(w)
                         for k, (c, w) in enumerate(zip(cells, widths))).rstrip()

    from ...model.terms import CERTAINTY_HIGH_PEOPLE, CERTAINTY_MEDIUM_PEOPLE

    out = [line(headers)] + [line(r) for r in rows]
    shown = f"{len(infos)} of {len(model.terms)} words" if len(infos) != len(model.terms) \
        else f"{len(infos)} words"
    out += ["", f"{shown} (model: {model.path}). people = SAFE users + crowd contributors; "
            f"'?' = medium certainty ({CERTAINTY_MEDIUM_PEOPLE}-{CERTAINTY_HIGH_PEOPLE - 1} people), "
            f"'??' = low (fewer than {CERTAINTY_MEDIUM_PEOPLE}): another group might mean "
            "something else by the word."]
    return "\n".join(out)


def run(args) -> int:
    from ...model import load_model

    model = load_model(args.model)
    if args.map:
        from ...ui.mapview import print_map

        return print_map(model, args.width, args.height, as_json=args.json)
    infos = select(model, args)
    print(render_json(model, infos) if args.json else render_table(model, infos))
    return 0
