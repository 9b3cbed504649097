"""``semeq-live terms``: the words the model knows, with how many examples each rests on."""

from __future__ import annotations

NAME = "terms"
HELP = "list the model's terms with their example counts"
ORDER = 20


def add_arguments(p) -> None:
    p.add_argument("--model", metavar="PATH", help="model file (.npz); default: the bundled model")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--map", action="store_true",
                   help="draw the word map (the words on the traverse plane) in the terminal")
    p.add_argument("--width", type=int, metavar="COLUMNS",
                   help="--map: width in columns (default: the terminal's, at most 100)")
    p.add_argument("--height", type=int, metavar="ROWS", help="--map: rows of the map (default 22)")


def run(args) -> int:
    import json

    from ...model import load_model

    model = load_model(args.model)
    if args.map:
        from ...ui.mapview import print_map

        return print_map(model, args.width, args.height, as_json=args.json)
    rows = [{"term": t, "count": model.counts[t], "validation_count": model.val_counts[t]}
            for t in model.terms]
    if args.json:
        print(json.dumps({"model": str(model.path), "terms": rows}, indent=1))
        return 0
    width = max(len(r["term"]) for r in rows)
    print(f"{'term':<{width}}  examples  (validation)")
    for r in rows:
        print(f"{r['term']:<{width}}  {r['count']:>8}  ({r['validation_count']})")
    print(f"{len(rows)} terms; examples = training settings behind each centroid "
          f"(model: {model.path})")
    return 0
