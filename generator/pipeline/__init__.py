"""The only orchestrator: sync, analyze and build for clients and periods, and the demo.

Each stage reads the previous stage's files and writes its own under one output root::

    <out>/lake/                          sync: canonical Parquet + sync state
    <out>/results/<client>/<period>/     analyze: summary.json + tables
    <out>/sites/<client>/<period>/       build: the static site

so any stage can run alone, and a failure in one never corrupts what an earlier one wrote.
"""

from generator.pipeline.analysis import analyze, load_rates
from generator.pipeline.demo import DemoResult, run_demo
from generator.pipeline.publishing import build, publish, publish_all
from generator.pipeline.syncing import AccountSync, sync, sync_sandbox
from generator.pipeline.workspace import Workspace, history_start

__all__ = [
    "AccountSync",
    "DemoResult",
    "Workspace",
    "analyze",
    "build",
    "history_start",
    "load_rates",
    "publish",
    "publish_all",
    "run_demo",
    "sync",
    "sync_sandbox",
]
