"""Time how long each config bomb of issue 13 takes to end, and the memory it takes.

Usage: ``uv run python bench/config_bombs.py [--runs 5] [--timeout 60]``

Each bomb is written into a copy of the demo's ``northwind/client.yml`` and loaded with
``load_client`` in a fresh process (so peak RSS is the bomb's own), ``--runs`` times. Reported
per bomb: how the load ended (the error's class and start), the median and max of the load's
wall time, and the process's peak RSS. A load still running after ``--timeout`` seconds is
killed and reported as such (the billion laughs, before issue 13, ran for minutes in 4.7 GB).
Set ``PYTHONPATH`` to an older checkout to measure its code with the same bombs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

LOAD = r"""
import json, resource, sys, time
from generator.config import load_client
start = time.perf_counter()
try:
    load_client(sys.argv[1])
    ended = "loaded"
except BaseException as exc:  # the point is to see what escapes
    ended = f"{type(exc).__name__}: {str(exc).split('.yml: ', 1)[-1][:64]}"
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"ended": ended, "seconds": seconds, "rss_mb": rss}))
"""


def _laughs() -> str:
    lines = ['lol0: &l0 "lol"'] + [
        f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)
    ]
    return "\n".join(lines) + "\n"


BOMBS = {
    "none (the demo file)": lambda t: t,
    "recursive alias": lambda t: t + "extra: &loop [1, *loop]\n",
    "billion laughs (565 bytes)": lambda t: _laughs() + t,
    "5,000-digit number": lambda t: t.replace("roas: 3.0", "roas: " + "9" * 5000),
    "formula of 1,000 terms": lambda t: t.replace(
        "formula: (value * 0.45 - spend) / spend", "formula: " + " + ".join(["spend"] * 1000)
    ),
    "10,000 nested brackets": lambda t: t + "extra: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "duplicate key": lambda t: t + "currency: EUR\n",
}


def _run(path: Path, timeout: float) -> dict:
    try:
        out = subprocess.run(
            [sys.executable, "-c", LOAD, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return {"ended": f"still running after {timeout:.0f} s (killed)", "seconds": timeout}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    print("| bomb | how it ends | median | max | peak RSS |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "northwind"
        shutil.copytree(REPO / "content" / "northwind", folder)
        demo = (folder / "client.yml").read_text(encoding="utf-8")
        for name, bomb in BOMBS.items():
            (folder / "client.yml").write_text(bomb(demo), encoding="utf-8")
            results = []
            for _ in range(args.runs):
                results.append(_run(folder / "client.yml", args.timeout))
                if "rss_mb" not in results[-1]:
                    break  # one timeout is enough to know
            seconds = [r["seconds"] for r in results]
            rss = max((r.get("rss_mb", 0) for r in results), default=0)
            print(
                f"| {name} | {results[0]['ended']} | {statistics.median(seconds):.3f} s "
                f"| {max(seconds):.3f} s | {f'{rss:.0f} MB' if rss else '-'} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
