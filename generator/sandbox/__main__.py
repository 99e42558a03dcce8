"""``python -m generator.sandbox``: serve the sandbox until standard input closes.

Prints the base URL on the first line of standard output as soon as it listens. Used by
``server.serve_process``; ``campaign-report sandbox`` is the command for people.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta

from generator.sandbox.app import create_app
from generator.sandbox.faults import Faults
from generator.sandbox.server import serve
from generator.sandbox.world import World


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m generator.sandbox")
    parser.add_argument("--end", type=date.fromisoformat, default=date.today() - timedelta(days=1))
    parser.add_argument("--now", type=datetime.fromisoformat, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--faults", type=Faults.from_json, default=None, help="Faults as JSON")
    args = parser.parse_args(argv)
    app = create_app(World(args.seed, args.end), args.faults, now=args.now)
    with serve(app, port=args.port) as running:
        print(running.url, flush=True)
        sys.stdin.read()  # until the parent closes our input


if __name__ == "__main__":
    main()
