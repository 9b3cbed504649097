"""``semeq-live bench``: comparative benchmarks (ratios against baselines measured in the same run)."""

from __future__ import annotations

NAME = "bench"
ORDER = 80
HELP = "measure the engine against scipy/torch/pass-through baselines in one run"


def add_arguments(p):
    p.add_argument("--json", action="store_true", help="print the full results as JSON")
    p.add_argument("--quick", action="store_true", help="fewer repetitions (for CI)")
    p.add_argument("--only", action="append", metavar="SECTION",
                   help="run only this section (repeatable); see --list")
    p.add_argument("--list", action="store_true", help="list the sections and exit")
    p.add_argument("-o", "--output", metavar="FILE", help="also write the JSON to FILE")


def run(args) -> int:
    import json
    import platform
    import sys
    import time

    from ... import __version__
    from ...bench import run_section, sections
    from ...errors import CLIError

    names = sections()
    if args.list:
        print("\n".join(names))
        return 0
    chosen = args.only or names
    unknown = [n for n in chosen if n not in names]
    if unknown:
        raise CLIError(f"unknown section(s) {', '.join(unknown)}; available: {', '.join(names)}")
    report = {"version": __version__, "python": platform.python_version(),
              "machine": platform.machine(), "cpu_count": _cpu_count(), "quick": bool(args.quick),
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "sections": {}}
    failed = False
    for name in chosen:
        t0 = time.perf_counter()
        if not args.json:
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        try:
            report["sections"][name] = run_section(name, quick=args.quick)
        except Exception as exc:  # a broken section is reported, the others still run
            failed = True
            report["sections"][name] = {"error": f"{type(exc).__name__}: {exc}"}
        report["sections"][name]["elapsed_s"] = time.perf_counter() - t0
    text = json.dumps(report, indent=2, default=_jsonable)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    if args.json:
        print(text)
    else:
        _print_summary(report)
    return 1 if failed else 0


def _cpu_count():
    import os

    return os.cpu_count()


def _jsonable(o):
    import numpy as np

    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o))


def _print_summary(report) -> None:
    from rich.console import Console
    from rich.pretty import Pretty

    console = Console()
    for name, res in report["sections"].items():
        console.rule(name)
        console.print(Pretty(res, max_depth=3))
