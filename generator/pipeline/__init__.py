"""The only orchestrator: sync, analyze and build for clients and periods, and the demo.

Each stage reads the previous stage's files and writes its own under one output root::

    <out>/lake/                          sync: canonical Parquet + sync state
    <out>/results/<client>/<period>/     analyze: summary.json + tables
    <out>/sites/<client>/<period>/       build: the static site

so any stage can run alone, and a failure in one never corrupts what an earlier one wrote.
"""

import importlib
from typing import Any

#: name -> the stage module that defines it (imported on first use, so that ``sync`` does not
#: load the report-building libraries and ``validate`` loads neither)
_EXPORTS = {
    "analyze": "analysis",
    "load_rates": "analysis",
    "EditionStore": "benchmark_editions",
    "DemoResult": "demo",
    "run_demo": "demo",
    "build": "publishing",
    "publish": "publishing",
    "publish_all": "publishing",
    "AccountSync": "syncing",
    "sync": "syncing",
    "sync_sandbox": "syncing",
    "sync_workspace": "syncing",
    "SendResult": "distributing",
    "send": "distributing",
    "publish_sites": "distributing",
    "run": "schedule",
    "RunResult": "schedule",
    "Workspace": "workspace",
    "history_start": "workspace",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'generator.pipeline' has no attribute {name!r}")
    return getattr(importlib.import_module(f"generator.pipeline.{_EXPORTS[name]}"), name)


def __dir__() -> list[str]:
    return __all__
