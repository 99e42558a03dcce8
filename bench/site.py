"""Time building report sites: one client alone, and five clients with ``--jobs 2``.

Usage: ``uv run python bench/site.py [--runs 3]``

Setup (once, cached in ``bench/out/site``): the demo content plus two more clients (copies of
Northwind and Brightline under other slugs, so five in all), synced from the sandbox for six
months. Each measurement is ``campaign-report build`` in a fresh process, wall time from
start to exit (imports, analysis, charts, mkdocs build), with the process tree's peak RSS.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent / "out" / "site"
REPO = Path(__file__).resolve().parent.parent
EXTRA = {"northwind-west": "northwind", "brightline-emea": "brightline"}


def prepare() -> tuple[Path, Path]:
    content, out = ROOT / "content", ROOT / "build"
    if (out / "lake" / "ad_performance").exists():
        return content, out
    shutil.rmtree(ROOT, ignore_errors=True)
    shutil.copytree(REPO / "content", content)
    for slug, source in EXTRA.items():
        shutil.copytree(content / source, content / slug)
        path = content / slug / "client.yml"
        path.write_text(re.sub(r"^slug: .*$", f"slug: {slug}", path.read_text(), flags=re.M))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "generator.cli",
            "sync",
            "--sandbox",
            "--content",
            str(content),
            "--out",
            str(out),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return content, out


def timed(args: list[str]) -> tuple[float, float]:
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "generator.cli", "build", *args], stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if status:
        raise RuntimeError(f"build failed: {args}")
    return elapsed, usage.ru_maxrss / 1024  # the build and the worker processes it waited for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    content, out = prepare()
    common = ["--content", str(content), "--out", str(out), "--period", "2026-10"]
    one, five = [], []
    for _ in range(args.runs):
        one.append(timed([*common, "--client", "northwind"]))
        five.append(timed([*common, "--all", "--jobs", "2"]))
        print(
            f"one client {one[-1][0]:.1f} s ({one[-1][1]:.0f} MB), five clients --jobs 2 "
            f"{five[-1][0]:.1f} s ({five[-1][1]:.0f} MB)"
        )
    site = out / "sites" / "northwind" / "2026-10"
    kinds = {
        re.sub(r"-(c-[0-9a-f]+|\d+)$", "", m)
        for p in site.rglob("*.html")
        for m in re.findall(r'data-spec="chart-([a-z-]+?)(?:-c-[0-9a-f]+|-\d+)?"', p.read_text())
    }
    pages = len(list(site.rglob("*.html")))
    print(f"northwind: {pages} pages, {len(kinds)} distinct charts")
    for name, items in (("one client", one), ("five clients, --jobs 2", five)):
        seconds = [s for s, _ in items]
        print(
            f"{name}: median {statistics.median(seconds):.1f} s, max {max(seconds):.1f} s, "
            f"peak RSS {max(m for _, m in items):.0f} MB"
        )


if __name__ == "__main__":
    main()
