"""The one JavaScript file every chart needs: Vega, Vega-Lite and Vega-Embed, bundled locally.

Made by vl-convert-python's ``javascript_bundle()`` for the Vega-Lite version Altair writes,
and cached on disk by version (making it takes a second or two), so no page ever loads a CDN.
A process that builds several sites makes it once.
"""

from __future__ import annotations

import functools
from pathlib import Path

import altair as alt
import vl_convert

from generator.lake.files import atomic_write_bytes

__all__ = ["bundle"]


def bundle(cache_dir: Path) -> Path:
    """Path of the cached bundle for the current Vega-Lite version (created if missing)."""
    vl_version = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
    path = cache_dir / f"vega-bundle-{vl_convert.__version__}-vl{vl_version}.js"
    if not path.exists():
        atomic_write_bytes(path, _script(vl_version))
    return path


@functools.cache
def _script(vl_version: str) -> bytes:
    return vl_convert.javascript_bundle(vl_version=vl_version).encode("utf-8")
