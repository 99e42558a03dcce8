"""Time ``campaign-report demo`` end to end (sandbox, sync, analyze, build three sites).

Usage: ``uv run python bench/demo.py [--runs 3]``. Each run is a fresh process writing to a
fresh folder; reported: wall time per run, median, and the peak RSS of the child processes.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    command = [sys.executable, "-m", "generator.cli", "demo", "--out"]
    times = []
    for run in range(args.runs):
        out = Path(tempfile.mkdtemp(prefix="bench-demo-"))
        started = time.perf_counter()
        subprocess.run([*command, str(out)], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
        sites = sorted(p.parent.parent.name for p in out.glob("sites/*/*/index.html"))
        print(f"run {run + 1}: {times[-1]:.1f} s, sites: {', '.join(sites)}")
        shutil.rmtree(out)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"median {statistics.median(times):.1f} s, max {max(times):.1f} s, "
        f"peak RSS {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
