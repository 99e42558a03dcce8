"""Time ``build --jobs 5`` and ``send --jobs 5`` for five clients, with the process tree's RSS.

Usage: ``uv run python bench/distribute.py [--runs 3] [--jobs 5]``

Setup: the five clients of ``bench/site.py`` (its ``prepare``, cached in ``bench/out/site``:
the demo content plus copies of Northwind and Brightline under other slugs, synced from the
sandbox). Each measurement is one command in a fresh process, from start to exit:

- ``build --period 2026-10 --all --jobs 5`` (analysis and site of every client, spawn workers);
- ``send --period 2026-10 --jobs 5 --force`` to an SMTP server on loopback (aiosmtpd, started
  in this process; ``--force`` so that every run sends every message again);
- ``send --period 2026-10 --jobs 5 --dry-run`` (the .eml files, no server).

Memory, from ``/proc`` (psutil is not a dependency):

- "largest process": the highest peak RSS of any one process of the tree (``wait4``'s
  ``ru_maxrss`` covers the command and the workers it waited for; each process's ``VmHWM``
  is sampled too, for workers a pool leaves unwaited);
- "tree RSS": the highest sum of ``VmRSS`` over the command and all its descendants at one
  instant, sampled every 50 ms. It counts the pages of the shared libraries once per process,
  so the part of it that is ``RssAnon`` is printed too;
- "tree PSS": the highest sum of the processes' proportional set sizes (a shared page counted
  once in all), sampled every 0.5 s: what the tree takes from the machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller

PERIOD, DATE = "2026-10", "2026-12-08"
BENCH = Path(__file__).resolve().parent


def _site_bench():
    """bench/site.py as a module (its name would shadow the standard library's ``site``)."""
    spec = importlib.util.spec_from_file_location("bench_site", BENCH / "site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the process tree's memory ------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    """Every process's children, from ``/proc/<pid>/stat`` (field 4 is the parent)."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # gone since the listing
            continue
        parent = int(stat.rpartition(")")[2].split()[1])  # the name may hold spaces and ')'
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _descendants(root: int) -> list[tuple[int, int]]:
    """``root`` and every process below it, each with its parent."""
    tree, found, todo = _children(), [], [(root, 0)]
    while todo:
        pid, parent = todo.pop()
        found.append((pid, parent))
        todo.extend((child, pid) for child in tree.get(pid, []))
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _status_kb(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM and RssAnon of a process in kB (empty once it has exited)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    fields = (line.partition(":") for line in lines)
    return {k: int(v.split()[0]) for k, _, v in fields if k in ("VmRSS", "VmHWM", "RssAnon")}


def _pss_kb(pid: int) -> int:
    """Proportional set size: each shared page divided among the processes that map it."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in lines if line.startswith("Pss:")), 0)


def _role(command: str, is_root: bool) -> str:
    """What a process of the tree is: the command, a pool worker, or something else."""
    if is_root:
        return "main"
    for marker, role in (("resource_tracker", "tracker"), ("spawn_main", "workers")):
        if marker in command:
            return role
    return command.split(" ", 1)[0].rsplit("/", 1)[-1] or "other"


@dataclass
class TreeSampler:
    """Samples the RSS of ``root`` and its descendants every ``interval`` s until stopped,
    and their PSS every ``pss_every`` samples (the kernel walks every page table for it)."""

    root: int
    interval: float = 0.05
    pss_every: int = 10
    tree_kb: int = 0
    anon_kb: int = 0
    pss_kb: int = 0
    samples: int = 0
    processes: int = 0
    hwm_kb: dict[int, int] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        tree = _descendants(self.root)
        commands = {pid: _command(pid) for pid, _ in tree}
        # A child still running its parent's program is a fork not yet turned into another
        # (subprocess starts `git` with vfork): it maps its parent's pages, counted already.
        own = [p for p, parent in tree if p == self.root or commands[p] != commands.get(parent)]
        alive = [(pid, s) for pid in own if "VmRSS" in (s := _status_kb(pid))]
        self.tree_kb = max(self.tree_kb, sum(s["VmRSS"] for _, s in alive))
        self.anon_kb = max(self.anon_kb, sum(s.get("RssAnon", 0) for _, s in alive))
        self.processes = max(self.processes, len(alive))
        if self.samples % self.pss_every == 0:
            self.pss_kb = max(self.pss_kb, sum(_pss_kb(pid) for pid, _ in alive))
        self.samples += 1
        for pid, s in alive:
            self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), s.get("VmHWM", 0))
            if pid not in self.roles:
                self.roles[pid] = _role(commands[pid], pid == self.root)

    def peaks_mb(self) -> dict[str, list[int]]:
        """Each kind of process's peak RSS (VmHWM) in MB, largest first."""
        peaks: dict[str, list[int]] = {}
        for pid, kb in sorted(self.hwm_kb.items(), key=lambda item: -item[1]):
            peaks.setdefault(self.roles[pid], []).append(round(kb / 1024))
        return peaks

    def stop(self) -> None:
        self._stop.set()


@dataclass(frozen=True)
class Measurement:
    seconds: float
    largest_mb: float
    tree_mb: float
    anon_mb: float
    pss_mb: float
    processes: int
    peaks: dict[str, list[int]]  # per kind of process, each one's peak RSS in MB


def measure(args: list[str], env: dict[str, str]) -> Measurement:
    """Run ``campaign-report ARGS`` in a fresh process; wall time and the tree's memory."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "generator.cli", *args],
            stdout=subprocess.DEVNULL, stderr=errors, env=env,
        )  # fmt: skip
        sampler = TreeSampler(child.pid)
        thread = threading.Thread(target=sampler.run, daemon=True)
        thread.start()
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        sampler.stop()
        thread.join()
        if status:
            errors.seek(0)
            raise RuntimeError(f"{' '.join(args)} failed:\n{errors.read().decode()[-3000:]}")
    largest_kb = max([usage.ru_maxrss, *sampler.hwm_kb.values()])
    sums = (sampler.tree_kb, sampler.anon_kb, sampler.pss_kb)
    mb = (largest_kb / 1024, *(kb / 1024 for kb in sums))
    return Measurement(elapsed, *mb, sampler.processes, sampler.peaks_mb())


# -- the SMTP server ----------------------------------------------------------------------


@dataclass
class Counter:
    """aiosmtpd handler that accepts every message and counts messages and bytes."""

    messages: int = 0
    size: int = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages += 1
        self.size += len(envelope.original_content or envelope.content)
        return "250 Message accepted"


class _Loopback(Controller):
    """Bound to port 0: learns the port the system chose before aiosmtpd checks that the
    server answers (its own check would dial port 0)."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


# -- the runs -----------------------------------------------------------------------------


def _row(what: str, items: list[Measurement], extra: str = "") -> str:
    seconds = [m.seconds for m in items]
    largest = max(m.largest_mb for m in items)
    tree, pss = max(m.tree_mb for m in items), max(m.pss_mb for m in items)
    return (
        f"| {DATE} | {what} | {statistics.median(seconds):.1f} s | {max(seconds):.1f} s "
        f"| {largest:,.0f} MB | {tree:,.0f} MB | {pss:,.0f} MB | {extra} |"
    )


def _describe(m: Measurement) -> str:
    peaks = "; ".join(f"{kind} {', '.join(map(str, mb))}" for kind, mb in m.peaks.items())
    return (
        f"{m.seconds:.1f} s, largest process {m.largest_mb:.0f} MB, tree {m.tree_mb:.0f} MB "
        f"({m.anon_mb:.0f} MB anon), PSS {m.pss_mb:.0f} MB, {m.processes} processes at once\n"
        f"    each process's peak RSS (MB): {peaks}"
    )


@dataclass(frozen=True)
class Run:
    build: Measurement
    send: Measurement
    dry_run: Measurement
    received: int  # messages the SMTP server accepted during the send


def run_once(where: list[str], jobs: int, env: dict[str, str], counter: Counter) -> Run:
    """One build, one send and one dry run, in that order (a send needs the build)."""
    common = [*where, "--jobs", str(jobs)]
    build = measure(["build", *common, "--all"], env)
    before = counter.messages
    send = measure(["send", *common, "--force"], env)
    received = counter.messages - before
    dry = measure(["send", *common, "--dry-run"], env)
    return Run(build, send, dry, received)


def report(runs: list[Run], jobs: int, counter: Counter) -> None:
    received = [r.received for r in runs]
    mean_kb = counter.size / max(counter.messages, 1) / 1024
    print(f"\nmessages received per run: {received}, {mean_kb:.0f} kB each on average")
    print("\n| date | run | median | max | largest process | tree RSS | tree PSS | messages |")
    print("|---|---|---|---|---|---|---|---|")
    rows = {
        "build": f"`build --all --jobs {jobs}` (5 clients)",
        "send": f"`send --jobs {jobs} --force` (loopback SMTP)",
        "dry_run": f"`send --jobs {jobs} --dry-run`",
    }
    for key, what in rows.items():
        extra = f"{min(received)}-{max(received)} received" if key == "send" else ""
        print(_row(what, [getattr(r, key) for r in runs], extra))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=5, help="--jobs of build and send")
    args = parser.parse_args()
    content, out = _site_bench().prepare()
    where = ["--content", str(content), "--out", str(out), "--period", PERIOD]
    counter = Counter()
    server = _Loopback(counter, hostname="127.0.0.1", port=0)
    server.start()
    smtp = {"HOST": "127.0.0.1", "PORT": str(server.port), "SECURITY": "none"}
    env = {**os.environ, **{f"CAMPAIGN_SMTP_{k}": v for k, v in smtp.items()}}
    runs = []
    try:
        for run in range(args.runs):
            runs.append(run_once(where, args.jobs, env, counter))
            print(f"run {run + 1} ({os.getloadavg()[0]:.1f} load average):")
            for name in ("build", "send", "dry_run"):
                print(f"  {name}: {_describe(getattr(runs[-1], name))}")
            print(f"  messages received: {runs[-1].received}")
    finally:
        server.stop()
    report(runs, args.jobs, counter)


if __name__ == "__main__":
    main()
