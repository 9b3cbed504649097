"""The ``semeq-live`` command line.

Each sub-command is one module in ``semeq_live.cli.commands`` defining ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. Modules are discovered at start-up, so adding a
command never touches this file. Command modules keep heavy imports (numba, sounddevice, rich
panels) inside ``run`` so ``semeq-live --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from .. import __version__
from ..errors import CLIError, SemeqError
from . import commands as _commands_pkg

__all__ = ["CLIError", "build_parser", "main"]


def _load_commands():
    mods = []
    for info in sorted(pkgutil.iter_modules(_commands_pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{_commands_pkg.__name__}.{info.name}")
        mods.append(mod)
    return sorted(mods, key=lambda m: getattr(m, "ORDER", 50))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="semeq-live",
        description="MIDI-controlled live semantic equalisation.",
    )
    parser.add_argument("--version", action="version", version=f"semeq-live {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _load_commands():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP))
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except SemeqError as exc:
        print(f"semeq-live {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
