"""Shared fixtures: a fixed synthetic world, the repository's demo content, snapshots."""

from __future__ import annotations

import math
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from syrupy.extensions.amber import AmberSnapshotExtension

from generator.sandbox.world import World

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
def demo_run(tmp_path_factory):
    """``campaign-report demo`` run once for the whole session: (CliRunner result, out dir)."""
    from typer.testing import CliRunner

    from generator.cli import app

    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(
        app,
        ["demo", "--out", str(out), "--content", str(REPO / "content"), "--today", TODAY],
    )
    assert result.exit_code == 0, result.output
    return result, out


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
