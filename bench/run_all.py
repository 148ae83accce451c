"""Run every ``bench/*_bench.py`` in turn (what `make bench` does) and say which failed.

Each benchmark runs in its own interpreter with its default settings, so one's imports,
database or leftover processes cannot skew the next one's figures. ``-k NAME`` runs only
the benchmarks whose file name holds NAME.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="only", help="Only benchmarks whose file name holds this.")
    args = parser.parse_args()
    benches = sorted(p for p in HERE.glob("*_bench.py") if not args.only or args.only in p.name)
    failed = []
    for bench in benches:
        print(f"=== {bench.name}", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, str(bench)])
        print(
            f"=== {bench.name}: exit {code} after {time.monotonic() - started:.0f} s\n", flush=True
        )
        if code != 0:
            failed.append(bench.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
