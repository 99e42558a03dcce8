"""The analyze stage's output as the build stage reads it: a summary plus named tables.

Saved under ``results/<client>/<period>/`` as ``summary.json`` and one Parquet file per
table, each written atomically, so a build always reads a complete analysis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from generator.errors import BuildError
from generator.lake.files import atomic_write_bytes

__all__ = ["Report"]


@dataclass
class Report:
    """``summary``: JSON-able facts (client, period, cards, freshness, warnings);
    ``frames``: named tables."""

    summary: dict[str, Any]
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    def frame(self, name: str) -> pd.DataFrame:
        try:
            return self.frames[name]
        except KeyError:
            raise BuildError(
                f"the analysis has no table {name!r} (has: {', '.join(sorted(self.frames))})"
            ) from None

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in self.frames.items():
            sink = pa.BufferOutputStream()
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
            atomic_write_bytes(folder / f"{name}.parquet", sink.getvalue().to_pybytes())
        body = json.dumps(self.summary, indent=2, default=str, ensure_ascii=False)
        atomic_write_bytes(folder / "summary.json", body.encode())

    @classmethod
    def load(cls, folder: Path) -> Report:
        summary_file = folder / "summary.json"
        if not summary_file.exists():
            raise BuildError(f"no analysis in {folder}; run the analyze step first")
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        frames = {p.stem: pq.read_table(p).to_pandas() for p in sorted(folder.glob("*.parquet"))}
        return cls(summary, frames)
