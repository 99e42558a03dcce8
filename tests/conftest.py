"""Shared fixtures: a fixed synthetic world, the repository's demo content, snapshots."""

from __future__ import annotations

import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from syrupy.extensions.amber import AmberSnapshotExtension

# Some machines set PYTHONDONTWRITEBYTECODE: then every process of a run (the xdist workers,
# the demo, its sandbox and build workers) compiles the package from source again, and pytest
# rewrites every test module again. The first process writes bytecode for the others
# (``__pycache__`` is git-ignored); the environment carries that to the subprocesses.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

from generator.sandbox.journeys import CACHE_ENV  # noqa: E402
from generator.sandbox.world import World  # noqa: E402

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
#: The day the test world ends; fixed so every number in the tests is reproducible.
WORLD_END = date(2026, 11, 23)
#: ``campaign-report demo --today`` in tests: the day after the world ends
TODAY = (WORLD_END + timedelta(days=1)).isoformat()


#: Vega-Lite dataset names are hashes of the data; snapshots name them by order instead
DATASET = re.compile(r"data-[0-9a-f]{32}")
NUMBER = re.compile(r"(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")


class CentralSnapshots(AmberSnapshotExtension):
    """Keep every snapshot under tests/__snapshots__/, mirroring the test folders.

    Numbers match to a relative 1e-4: fitted models (BG/NBD, the anomaly baseline) and sums
    in another order land a few ulps or digits apart on another CPU, which is not a change a
    reader could see; anything larger is. Everything else matches exactly.
    """

    def serialize(self, data, **kwargs) -> str:
        text = super().serialize(data, **kwargs)
        names: dict[str, str] = {}
        return DATASET.sub(lambda m: names.setdefault(m[0], f"data-{len(names)}"), text)

    def matches(self, *, serialized_data, snapshot_data) -> bool:
        if not isinstance(serialized_data, str) or not isinstance(snapshot_data, str):
            return super().matches(serialized_data=serialized_data, snapshot_data=snapshot_data)
        new, old = NUMBER.split(serialized_data), NUMBER.split(snapshot_data)
        if len(new) != len(old):
            return False
        return all(
            a == b if i % 2 == 0 else math.isclose(float(a), float(b), rel_tol=1e-4, abs_tol=1e-9)
            for i, (a, b) in enumerate(zip(new, old, strict=True))
        )

    @classmethod
    def dirname(cls, *, test_location) -> str:
        relative = Path(test_location.filepath).parent.relative_to(TESTS)
        return str(TESTS / "__snapshots__" / relative)


@dataclass(frozen=True)
class DemoOutput:
    """What the demo printed and how it ended."""

    output: str
    exit_code: int


class SharedDemo:
    """One run of the real ``campaign-report demo`` for every process of a test session.

    The demo is the most expensive fixture (sandbox, a six-month sync of every platform, six
    report sites), so it runs once, in its own process, into a folder all xdist workers know
    (``$CAMPAIGN_TEST_SHARED``). Whoever needs it first starts it; a whole-suite run starts
    it at once so that it overlaps the unit tests. ``mkdir`` is the lock: it succeeds once.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.out, self.log = root / "demo", root / "demo.log"
        self.done = root / "demo.exit"

    def start(self) -> subprocess.Popen | None:
        try:
            (self.root / "demo.started").mkdir()
        except FileExistsError:
            return None  # someone else started it
        command = [sys.executable, "-m", "generator.cli", "demo"]
        command += ["--out", str(self.out), "--content", str(REPO / "content"), "--today", TODAY]
        # the exit code lands in a file only once the demo has finished, whoever waits for it
        log, done = shlex.quote(str(self.log)), shlex.quote(str(self.done))
        script = f'"$@" >{log} 2>&1; echo $? >{done}.tmp; mv {done}.tmp {done}'
        env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
        process = subprocess.Popen(
            ["sh", "-c", script, "sh", *command], env=env, cwd=REPO, start_new_session=True
        )
        _STARTED.append(process)
        return process

    def wait(self, timeout: float = 900) -> tuple[DemoOutput, Path]:
        self.start()
        deadline = time.monotonic() + timeout
        while not self.done.exists():
            if time.monotonic() > deadline:
                pytest.fail(f"the shared demo did not finish within {timeout:.0f} s ({self.log})")
            time.sleep(0.5)
        result = DemoOutput(self.log.read_text(), int(self.done.read_text()))
        assert result.exit_code == 0, result.output
        return result, self.out


def _shared_demo() -> SharedDemo:
    return SharedDemo(Path(os.environ["CAMPAIGN_TEST_SHARED"]))


def pytest_configure(config: pytest.Config) -> None:
    """The session's shared folder, made by the main process (xdist workers inherit it)."""
    if hasattr(config, "workerinput"):
        # The shared demo (started by the main process) is what the last tests wait for; at
        # a lower priority the workers leave it the CPU it needs to be ready before them.
        if _DEMO_STARTED_BY_MAIN in os.environ:
            os.nice(_WORKER_NICENESS)
        return
    os.environ["CAMPAIGN_TEST_SHARED"] = tempfile.mkdtemp(prefix="campaign-tests-")
    # every process of the session (workers, sandboxes, the demo) simulates the world's
    # journeys once between them, not once each
    os.environ[CACHE_ENV] = str(Path(os.environ["CAMPAIGN_TEST_SHARED"]) / "world")
    option = config.option
    whole_suite = config.args_source is pytest.Config.ArgsSource.TESTPATHS
    if whole_suite and not (option.collectonly or option.keyword or option.markexpr):
        _shared_demo().start()  # overlaps the unit tests instead of waiting for them
        os.environ[_DEMO_STARTED_BY_MAIN] = "1"


def pytest_unconfigure(config: pytest.Config) -> None:
    for process in _STARTED:  # a demo nobody waited for (an interrupted or filtered run)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the demo, its sandbox and build workers
            process.wait()
    if not hasattr(config, "workerinput"):
        shutil.rmtree(os.environ.pop("CAMPAIGN_TEST_SHARED", ""), ignore_errors=True)


#: demo processes this process started
_STARTED: list[subprocess.Popen] = []
_DEMO_STARTED_BY_MAIN = "CAMPAIGN_TEST_DEMO_IN_MAIN"
_WORKER_NICENESS = 5


@pytest.fixture
def snapshot(snapshot):
    return snapshot.use_extension(CentralSnapshots)


@pytest.fixture(scope="session")
def world() -> World:
    world = World(end=WORLD_END)
    _ = world.performance
    return world


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A private copy of the repository's demo content that a test may edit."""
    target = tmp_path / "content"
    shutil.copytree(REPO / "content", target)
    return target


@pytest.fixture(scope="session")
def demo_run() -> tuple[DemoOutput, Path]:
    """``campaign-report demo`` run once for the whole test session, whatever the number of
    xdist workers: (its output, its out dir). Treat the out dir as read-only (copy it first,
    as ``demo_copy`` does)."""
    return _shared_demo().wait()


@pytest.fixture
def demo_copy(demo_run, tmp_path) -> Path:
    """A private copy of the demo's out dir (lake, sites, exports) that a test may change."""
    _, out = demo_run
    target = tmp_path / "out"
    shutil.copytree(out, target, symlinks=True)
    return target


@pytest.fixture(scope="session")
def built_report():
    """A small, fixed client history analysed the way the pipeline does (tests/report_data)."""
    from .report_data import make_report

    return make_report()


@pytest.fixture
def report(built_report):
    """A fresh copy of ``built_report`` that a test may change."""
    from generator.site.report import Report

    return Report(dict(built_report.summary), dict(built_report.frames))
