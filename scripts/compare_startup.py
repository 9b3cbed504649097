"""Start-up to first audio of several commits, measured interleaved on one JACK dummy server.

    python scripts/compare_startup.py b2c27e2 main --rounds 9 --cold-rounds 3 -o startup.json

Each commit's tree is exported with ``git archive`` into a temporary folder and started from there
(its own PYTHONPATH, model and mappings; a numba cache of its own, filled by one uncounted start).
Every round starts each tree once (the order alternates between rounds) next to the same floors
as ``semeq-live bench --only startup`` (``semeq_live/bench/startup.py``, which does the measuring).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from semeq_live.audio.jackd import DummyJackServer  # noqa: E402
from semeq_live.bench import startup  # noqa: E402


def export(commit: str, dest: Path) -> str:
    """The tree of ``commit`` in ``dest`` (returns the full commit id)."""
    full = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", f"{commit}^{{commit}}"],
                          check=True, capture_output=True, text=True).stdout.strip()
    dest.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(REPO), "archive", full], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise SystemExit(f"git archive {commit} failed")
    return full


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("commits", nargs="+", help="commits to compare (any git revision)")
    p.add_argument("--rounds", type=int, default=9, help="warm starts per commit (default 9)")
    p.add_argument("--cold-rounds", type=int, default=0,
                   help="rounds that also start each commit with an empty numba cache (default 0)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the results as JSON")
    args = p.parse_args(argv)
    if not DummyJackServer.available():
        raise SystemExit("jackd is not installed (apt-get install jackd2 libportaudio2)")
    with tempfile.TemporaryDirectory(prefix="semeq-compare-startup-") as tmp:
        trees = {}
        for i, commit in enumerate(args.commits):
            root = Path(tmp) / f"tree{i}"
            trees[commit] = {"root": str(root), "commit": export(commit, root),
                             "cache": str(Path(tmp) / f"numba{i}"), "starts": [], "cold": []}
        server = DummyJackServer(f"semeq-compare-{os.getpid()}", startup.RATE, startup.BLOCK,
                                 port_max=256).start()
        floor, passthrough = [], []
        try:
            for t in trees.values():
                startup.app_start(server, t["root"], t["cache"])  # fill the cache; not counted
            for r in range(args.rounds):
                floor.append(startup.floor_import_numpy(server))
                passthrough.append(startup.passthrough_first_callback(server))
                order = list(trees.values()) if r % 2 == 0 else list(trees.values())[::-1]
                for t in order:
                    res = startup.measure_round(server, t["root"], t["cache"], cold=r < args.cold_rounds)
                    t["starts"].append(res["warm"])
                    if "cold" in res:
                        t["cold"].append(res["cold"])
                print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                    f"{c} {t['starts'][-1]['startup_s']} (cpu {t['starts'][-1]['cpu_s']:.3f})" for c, t in trees.items()),
                    file=sys.stderr, flush=True)
        finally:
            server.stop()
    report = {"rounds": args.rounds, "floor_import_numpy_s": startup.stats(floor),
              "passthrough_first_callback_s": startup.stats(passthrough),
              "commits": {c: {"commit": t["commit"], "warm": startup.summarise(t["starts"]),
                              "cold": startup.summarise(t["cold"])} for c, t in trees.items()}}
    text = json.dumps(report, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n")
    print(f"{'commit':<12} {'warm startup_s median [p25, p75]':<34} {'cpu_s':<22} {'stream_s':<9} cold")
    for c, t in report["commits"].items():
        w, u, s, k = (t["warm"]["startup_s"], t["warm"]["cpu_s"], t["warm"]["stream_s"],
                      t["cold"]["startup_s"])
        cold = f"{k['median']:.2f}" if k["median"] is not None else "-"
        print(f"{c:<12} {w['median']:.3f} [{w['p25']:.3f}, {w['p75']:.3f}]{'':<14} "
              f"{u['median']:.3f} [{u['p25']:.3f}, {u['p75']:.3f}]  {s['median']:.3f}     {cold}")
    print(f"floor: import numpy {report['floor_import_numpy_s']['median']:.3f} s, pass-through first "
          f"callback {report['passthrough_first_callback_s']['median']:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
